/* fuzz_image.c - an image folder data set (section 13) holding one image:
 * the input after its first byte is written as dir/train/a/x.EXT, opened
 * with scn_dataset_open(dir, "train", "folder") and item 0 read (decoded
 * by stb_image). The first byte picks EXT: png, jpg, bmp, jpeg (the file
 * name does not decide the decoder: stb_image looks at the bytes). */
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *names[4] = {"train/a/x.png", "train/a/x.jpg", "train/a/x.bmp",
                                   "train/a/x.jpeg"};
    scn_dataset *ds;
    int sel;
    if (size < 1) return 0;
    sel = data[0] & 3;
    data++, size--;
    fz_reset();
    fz_mkdir("train");
    fz_mkdir("train/a");
    fz_write(names[sel], data, size);
    ds = scn_dataset_open(fz_dir(), "train", "folder");
    FZ_NOTE(ds != NULL, names[sel]);
    if (ds) {
        FZ_CHECK(ds->count == 1 && ds->classes == 1 && (ds->C == 1 || ds->C == 3));
        FZ_CHECK(ds->H >= 1 && ds->W >= 1 && ds->H <= SCN_IMAGE_MAX_SIDE &&
                 ds->W <= SCN_IMAGE_MAX_SIDE);
        fz_read_all(ds);
        scn_dataset_close(ds);
    } else {
        FZ_CHECK(scn_error()[0] != '\0');
    }
    return 0;
}
