/* fuzz_gunzip.c - scn_gunzip on arbitrary bytes (section 12): success
 * means the output matches the trailer's CRC-32 and size. */
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    unsigned char *out = (unsigned char *)1;
    size_t outlen = 7;
    scn_status s = scn_gunzip(data, size, "fuzz.gz", &out, &outlen);
    FZ_NOTE(s == SCN_OK, "gunzip");
    if (s == SCN_OK) {
        uint32_t crc, isize;
        FZ_CHECK(out != NULL && size >= 18);
        crc = (uint32_t)data[size - 8] | (uint32_t)data[size - 7] << 8 |
              (uint32_t)data[size - 6] << 16 | (uint32_t)data[size - 5] << 24;
        isize = (uint32_t)data[size - 4] | (uint32_t)data[size - 3] << 8 |
                (uint32_t)data[size - 2] << 16 | (uint32_t)data[size - 1] << 24;
        FZ_CHECK(outlen == isize);
        FZ_CHECK(scn_crc32(0, out, outlen) == crc);
        scn_mem_free(out);
    } else {
        FZ_CHECK(out == NULL && outlen == 0);
        FZ_CHECK(scn_error()[0] != '\0');
    }
    return 0;
}
