/* fuzz_idx.c - IDX files, raw or gzip (section 12). The first byte picks:
 *   0  scn_idx_parse of the rest as images (ndim 3)
 *   1  scn_idx_parse of the rest as labels (ndim 1)
 *   2  scn_idx_set_parse: then a 16-bit little-endian length L, L bytes of
 *      images, the rest labels
 *   3  the same two files written as train-images-idx3-ubyte and
 *      train-labels-idx1-ubyte (with ".gz" when gzipped) in a directory,
 *      opened with scn_dataset_open(dir, "train", "idx"), every item read
 */
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "fuzz_util.h"

static int is_gz(const uint8_t *b, size_t n) { return n >= 2 && b[0] == 0x1f && b[1] == 0x8b; }

static void one(const uint8_t *b, size_t n, int ndim) {
    int dims[3] = {-1, -1, -1};
    unsigned char *out = NULL;
    scn_status s = scn_idx_parse(b, n, "fuzz-idx", ndim, dims, &out);
    FZ_NOTE(s == SCN_OK, "idx_parse");
    if (s == SCN_OK) {
        size_t need = 1, i;
        unsigned sum = 0;
        int d;
        for (d = 0; d < ndim; d++) {
            FZ_CHECK(dims[d] >= 1);
            need *= (size_t)dims[d];
        }
        FZ_CHECK(out != NULL);
        for (i = 0; i < need; i++) sum += out[i];
        (void)sum;
        if (!is_gz(b, n)) FZ_CHECK(n == 4 + 4 * (size_t)ndim + need);
        scn_mem_free(out);
    } else {
        FZ_CHECK(out == NULL);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *img, *lab;
    size_t il, ll, L;
    int mode;
    if (size < 1) return 0;
    mode = data[0] & 3;
    data++, size--;
    if (mode < 2) {
        one(data, size, mode == 0 ? 3 : 1);
        return 0;
    }
    if (size < 2) return 0;
    L = (size_t)data[0] | (size_t)data[1] << 8;
    data += 2, size -= 2;
    if (L > size) L = size;
    img = data, il = L;
    lab = data + L, ll = size - L;
    if (mode == 2) {
        scn_idx_set set;
        memset(&set, 0xab, sizeof set);
        scn_status s = scn_idx_set_parse(img, il, "fuzz-images", lab, ll, "fuzz-labels", &set);
        FZ_NOTE(s == SCN_OK, "idx_set_parse");
        if (s == SCN_OK) {
            size_t i, n = (size_t)set.count * set.rows * set.cols;
            unsigned sum = 0;
            FZ_CHECK(set.count >= 1 && set.rows >= 1 && set.cols >= 1);
            FZ_CHECK(set.classes >= 1 && set.classes <= SCN_IDX_MAX_CLASSES);
            for (i = 0; i < n; i++) sum += set.images[i];
            (void)sum;
            for (i = 0; i < (size_t)set.count; i++) FZ_CHECK(set.labels[i] < set.classes);
            scn_idx_free(&set);
        } else {
            FZ_CHECK(set.images == NULL && set.labels == NULL && set.count == 0);
        }
        return 0;
    }
    {
        scn_dataset *ds;
        fz_reset();
        fz_write(is_gz(img, il) ? "train-images-idx3-ubyte.gz" : "train-images-idx3-ubyte",
                 img, il);
        fz_write(is_gz(lab, ll) ? "train-labels-idx1-ubyte.gz" : "train-labels-idx1-ubyte",
                 lab, ll);
        ds = scn_dataset_open(fz_dir(), "train", "idx");
        FZ_NOTE(ds != NULL, "idx data set");
        if (ds) {
            FZ_CHECK(ds->C == 1 && ds->labels != NULL);
            fz_read_all(ds);
            scn_dataset_close(ds);
        }
    }
    return 0;
}
