/* fuzz_stl.c - STL-10 through scn_dataset_open (section 13). The first
 * byte picks:
 *   bits 0-1  split: 0 train, 1 test, 2 unlabeled, 3 train
 *   bit 2     trim the images to a whole number of 27648-byte records
 *   bit 3     put the files in stl10_binary/ instead of the directory itself
 *   bit 4     no labels file at all
 * the second byte n: the next n bytes are the labels file (*_y.bin), the
 * rest the images (*_X.bin). Every item of a set that opens is read. */
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *splits[4] = {"train", "test", "unlabeled", "train"};
    static const char *xs[4] = {"train_X.bin", "test_X.bin", "unlabeled_X.bin", "train_X.bin"};
    static const char *ys[4] = {"train_y.bin", "test_y.bin", NULL, "train_y.bin"};
    const size_t rec = 27648;
    const char *sub = "";
    const uint8_t *y;
    size_t ny;
    char name[96];
    int sel, split;
    scn_dataset *ds;
    if (size < 2) return 0;
    sel = data[0];
    ny = data[1];
    data += 2, size -= 2;
    if (ny > size) ny = size;
    y = data;
    data += ny, size -= ny;
    split = sel & 3;
    if ((sel & 4) && size >= rec) size -= size % rec;
    fz_reset();
    if (sel & 8) {
        sub = "stl10_binary/";
        fz_mkdir("stl10_binary");
    }
    snprintf(name, sizeof name, "%s%s", sub, xs[split]);
    fz_write(name, data, size);
    if (ys[split] && !(sel & 16)) {
        snprintf(name, sizeof name, "%s%s", sub, ys[split]);
        fz_write(name, y, ny);
    }
    ds = scn_dataset_open(fz_dir(), splits[split], "stl10");
    FZ_NOTE(ds != NULL, splits[split]);
    if (ds) {
        FZ_CHECK(ds->C == 3 && ds->H == 96 && ds->W == 96);
        FZ_CHECK((size_t)ds->count == size / rec && size % rec == 0);
        FZ_CHECK(split == 2 ? ds->labels == NULL && ds->classes == 0
                            : ds->labels != NULL && ds->classes == 10);
        fz_read_all(ds);
        scn_dataset_close(ds);
    } else {
        FZ_CHECK(scn_error()[0] != '\0');
    }
    return 0;
}
