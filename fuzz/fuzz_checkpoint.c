/* fuzz_checkpoint.c - scn_checkpoint_load (section 14) on a file in the
 * process's temporary directory. The format ends in a CRC-32 of all the
 * bytes before it, so random changes rarely get past it: the first byte
 * picks how the rest becomes the file.
 *   bit 0 = 0  the rest is the body: its CRC-32 is appended (the usual case,
 *              so mutations reach the header, spec and size checks)
 *   bit 0 = 1  the rest is the whole file, unmodified (checksum included)
 *   bit 1      load without an optimiser (opt = NULL)
 *   bit 2      load without a training state (st = NULL)
 * A net that loads is described layer by layer and freed. */
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int mode, i;
    const char *path;
    scn_sgd opt;
    scn_train_state st;
    scn_net *net;
    if (size < 1) return 0;
    mode = data[0];
    data++, size--;
    fz_reset();
    path = fz_path("fuzz.scn");
    if (mode & 1) {
        fz_write("fuzz.scn", data, size);
    } else {
        FILE *f = fopen(path, "wb");
        uint32_t crc = scn_crc32(0, data, size);
        unsigned char le[4];
        le[0] = (unsigned char)crc; le[1] = (unsigned char)(crc >> 8);
        le[2] = (unsigned char)(crc >> 16); le[3] = (unsigned char)(crc >> 24);
        FZ_CHECK(f != NULL);
        FZ_CHECK((size == 0 || fwrite(data, 1, size, f) == size) && fwrite(le, 1, 4, f) == 4);
        FZ_CHECK(fclose(f) == 0);
    }
    memset(&opt, 0, sizeof opt);
    memset(&st, 0, sizeof st);
    net = scn_checkpoint_load(path, (mode & 2) ? NULL : &opt, (mode & 4) ? NULL : &st);
    FZ_NOTE(net != NULL, "checkpoint");
    if (net) {
        char line[256];
        int C, H, W;
        scn_net_input_shape(net, &C, &H, &W);
        FZ_CHECK(C >= 1 && H >= 1 && W >= 1);
        FZ_CHECK(scn_net_layer_count(net) >= 1);
        for (i = 0; i < scn_net_layer_count(net); i++)
            scn_net_describe(net, i, line, sizeof line);
        (void)scn_net_classes(net);
        (void)scn_net_spec(net);
        if (!(mode & 2)) {
            FZ_CHECK(opt.count == scn_net_param_count(net));
            scn_sgd_free(&opt);
        }
        scn_net_free(net);
    } else {
        FZ_CHECK(scn_error()[0] != '\0');
    }
    return 0;
}
