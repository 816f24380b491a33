/* fuzz_checkpoint.c - scn_checkpoint_load (section 15) on a file in the
 * process's temporary directory. Every version ends in a CRC-32, so random
 * changes rarely get past it: the first byte picks how the rest becomes
 * the file.
 *   bit 0 = 0  the rest is the file with its checksum recomputed (the usual
 *              case, so mutations reach the record, header, spec and size
 *              checks): an input that starts "SCNCKPT3" (version 3) and has
 *              at least 24 bytes takes its last 16 as the END record ("END "
 *              + u64 4 + u32 CRC) and gets the CRC-32 of every byte before
 *              them in its last 4; any other input of at least 4 bytes
 *              (versions 1 and 2) gets the CRC-32 of every byte before its
 *              last 4 there
 *   bit 0 = 1  the rest is the whole file, unmodified (checksum included)
 *   bit 1      load without an optimiser (opt = NULL)
 *   bit 2      load without a training state (st = NULL)
 * A net that loads is described layer by layer, encoded again (version 3)
 * and decoded to the same parameters, and freed. */
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
        unsigned char *file = (unsigned char *)malloc(size ? size : 1);
        FZ_CHECK(file != NULL);
        if (size) memcpy(file, data, size);
        if (size >= 4) {
            size_t covered = size >= 24 && !memcmp(file, "SCNCKPT3", 8) ? size - 16 : size - 4;
            uint32_t crc = scn_crc32(0, file, covered);
            file[size - 4] = (unsigned char)crc;
            file[size - 3] = (unsigned char)(crc >> 8);
            file[size - 2] = (unsigned char)(crc >> 16);
            file[size - 1] = (unsigned char)(crc >> 24);
        }
        fz_write("fuzz.scn", file, size);
        free(file);
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
        if (!(mode & 2)) FZ_CHECK(opt.count == scn_net_param_count(net));
        {   /* what loaded saves (as version 3) and loads again, the same */
            unsigned char *img;
            size_t len;
            scn_net *again;
            FZ_CHECK(scn_checkpoint_encode(net, (mode & 2) ? NULL : &opt,
                                           (mode & 4) ? NULL : &st, &img, &len) == SCN_OK);
            again = scn_checkpoint_decode(img, len, "again", NULL, NULL);
            FZ_CHECK(again != NULL);
            FZ_CHECK(scn_net_param_count(again) == scn_net_param_count(net));
            FZ_CHECK(!memcmp(scn_net_params(again), scn_net_params(net),
                             scn_net_param_count(net) * sizeof(float)));
            scn_net_free(again);
            scn_mem_free(img);
        }
        if (!(mode & 2)) scn_sgd_free(&opt);
        if (!(mode & 4)) scn_train_state_free(&st);     /* a PIXM's mean image */
        scn_net_free(net);
    } else {
        FZ_CHECK(scn_error()[0] != '\0');
    }
    return 0;
}
