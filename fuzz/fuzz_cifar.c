/* fuzz_cifar.c - CIFAR-10 and CIFAR-100 record files through
 * scn_dataset_open (section 13). The first byte picks:
 *   bits 0-1  format: 0 cifar10, 1 cifar100, 2 cifar100-coarse, 3 cifar10
 *   bit 2     split: 0 train, 1 test
 *   bit 3     trim the data to a whole number of records (when there is one)
 *   bit 4     put the files in the archive's folder (cifar-10-batches-bin/,
 *             cifar-100-binary/) instead of the directory itself
 * the second byte k: for CIFAR-10's train split, the first k records go to
 * data_batch_1.bin and the rest to data_batch_2.bin (k = 0 or past the
 * end: all in data_batch_1.bin); the rest of the input is the data. Every
 * item of a set that opens is read. */
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *formats[4] = {"cifar10", "cifar100", "cifar100-coarse", "cifar10"};
    int sel, fmt, test, c100;
    size_t rec, k, cut;
    char name[96];
    const char *sub = "";
    scn_dataset *ds;
    if (size < 2) return 0;
    sel = data[0];
    k = data[1];
    data += 2, size -= 2;
    fmt = sel & 3;
    test = (sel >> 2) & 1;
    c100 = fmt == 1 || fmt == 2;
    rec = c100 ? 3074 : 3073;
    if ((sel & 8) && size >= rec) size -= size % rec;
    fz_reset();
    if (sel & 16) {
        sub = c100 ? "cifar-100-binary/" : "cifar-10-batches-bin/";
        fz_mkdir(c100 ? "cifar-100-binary" : "cifar-10-batches-bin");
    }
    if (c100) {
        snprintf(name, sizeof name, "%s%s", sub, test ? "test.bin" : "train.bin");
        fz_write(name, data, size);
    } else if (test) {
        snprintf(name, sizeof name, "%stest_batch.bin", sub);
        fz_write(name, data, size);
    } else {
        cut = k && k * rec < size ? k * rec : size;
        snprintf(name, sizeof name, "%sdata_batch_1.bin", sub);
        fz_write(name, data, cut);
        if (cut < size) {
            snprintf(name, sizeof name, "%sdata_batch_2.bin", sub);
            fz_write(name, data + cut, size - cut);
        }
    }
    ds = scn_dataset_open(fz_dir(), test ? "test" : "train", formats[fmt]);
    FZ_NOTE(ds != NULL, formats[fmt]);
    if (ds) {
        FZ_CHECK(ds->C == 3 && ds->H == 32 && ds->W == 32);
        FZ_CHECK((size_t)ds->count == size / rec && size % rec == 0);
        FZ_CHECK(ds->classes == (fmt == 1 ? 100 : fmt == 2 ? 20 : 10));
        fz_read_all(ds);
        scn_dataset_close(ds);
    } else {
        FZ_CHECK(scn_error()[0] != '\0');
    }
    return 0;
}
