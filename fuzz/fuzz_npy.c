/* fuzz_npy.c - scn_npy_parse on arbitrary bytes (section 4). A tensor that
 * parses must hold as many floats as its shape says. */
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    scn_tensor *t = scn_npy_parse(data, size, "fuzz.npy");
    FZ_NOTE(t != NULL, "npy");
    if (t) {
        size_t n = 1, i;
        double sum = 0.0;
        int d;
        FZ_CHECK(t->ndim >= 1 && t->ndim <= SCN_MAX_DIMS && t->owns);
        for (d = 0; d < t->ndim; d++) {
            FZ_CHECK(t->shape[d] >= 0);
            n *= (size_t)t->shape[d];
        }
        FZ_CHECK(n == t->size);
        FZ_CHECK(size >= 10 + 4 * n);
        for (i = 0; i < t->size; i++) sum += t->data[i];   /* every value is there */
        (void)sum;
        scn_tensor_free(t);
    } else {
        FZ_CHECK(scn_error()[0] != '\0');
    }
    return 0;
}
