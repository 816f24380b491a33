/* fuzz_amat.c - an MNIST-variations .amat text file (section 13): the input
 * is written as fuzz_train.amat and opened with scn_dataset_open(dir,
 * "train", "amat"); every item of a set that opens is read. */
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    scn_dataset *ds;
    fz_reset();
    fz_write("fuzz_train.amat", data, size);
    ds = scn_dataset_open(fz_dir(), "train", "amat");
    FZ_NOTE(ds != NULL, "amat");
    if (ds) {
        FZ_CHECK(ds->C == 1 && ds->H == ds->W && ds->labels != NULL);
        FZ_CHECK(ds->classes >= 1 && ds->classes <= 256);
        fz_read_all(ds);
        scn_dataset_close(ds);
    } else {
        FZ_CHECK(scn_error()[0] != '\0');
    }
    return 0;
}
