/* test_checkpoint.c - checkpoints round-trip exactly; every truncation, a
 * flipped byte, a wrong magic and a missing file give an error naming the
 * file; saving over an existing checkpoint replaces it atomically. */
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64], path[128];

static unsigned char *slurp(const char *p, size_t *len) {
    FILE *f = fopen(p, "rb");
    unsigned char *b;
    long n;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    b = (unsigned char *)malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static void spit(const char *p, const unsigned char *b, size_t len) {
    FILE *f = fopen(p, "wb");
    if (!f) return;
    fwrite(b, 1, len, f);
    fclose(f);
}

int main(void) {
    scn_net *net, *back;
    scn_sgd opt, opt2;
    scn_train_state st, st2;
    unsigned char *bytes;
    size_t len, cut, nb, nb2;
    char bad[160];
    float *buf, *buf2;
    int i;
    strcpy(dir, "/tmp/scn_ckpt.XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/model.scn", dir);
    net = scn_net_create("sc:n=6,l1=0.05 bn conv:n=4 relu gap linear:n=3", 2, 6, 6, 5);
    CHECK(net != NULL, "%s", scn_error());
    CHECK(scn_sgd_init(&opt, net, NULL) == SCN_OK, "%s", scn_error());
    for (i = 0; i < (int)opt.count; i++) opt.velocity[i] = 0.001f * (float)i;
    buf = scn_net_buffers(net, &nb);
    buf[0] = 3.25f;
    memset(&st, 0, sizeof st);
    st.epoch = 4; st.step = 1234; st.mean[0] = 0.25f; st.std[0] = 0.5f;
    st.mean[2] = -1.5f; st.std[2] = 3.0f;
    scn_rng_seed(&st.rng, 77, 8);
    CHECK(scn_checkpoint_save(path, net, &opt, &st) == SCN_OK, "%s", scn_error());
    CHECK(access(path, F_OK) == 0, "no checkpoint written");

    back = scn_checkpoint_load(path, &opt2, &st2);
    CHECK(back != NULL, "%s", scn_error());
    if (back) {
        buf2 = scn_net_buffers(back, &nb2);
        CHECK(scn_net_param_count(back) == scn_net_param_count(net) &&
              !memcmp(scn_net_params(back), scn_net_params(net),
                      scn_net_param_count(net) * sizeof(float)), "parameters differ");
        CHECK(nb2 == nb && !memcmp(buf, buf2, nb * sizeof(float)), "buffers differ");
        CHECK(!memcmp(opt.velocity, opt2.velocity, opt.count * sizeof(float)),
              "velocity differs");
        CHECK(opt2.desc.lr == opt.desc.lr && opt2.desc.momentum == opt.desc.momentum,
              "sgd settings differ");
        CHECK(st2.epoch == 4 && st2.step == 1234 && st2.mean[0] == 0.25f && st2.std[0] == 0.5f && st2.mean[2] == -1.5f &&
              st2.std[2] == 3.0f &&
              st2.rng.state == st.rng.state && st2.rng.inc == st.rng.inc, "state differs");
        CHECK(!strcmp(scn_net_spec(back), scn_net_spec(net)), "spec differs");
        scn_sgd_free(&opt2);
        scn_net_free(back);
    }

    /* saving again replaces the file; no .tmp is left behind */
    st.epoch = 5;
    CHECK(scn_checkpoint_save(path, net, &opt, &st) == SCN_OK, "%s", scn_error());
    snprintf(bad, sizeof bad, "%s.tmp", path);
    CHECK(access(bad, F_OK) != 0, "temporary file left behind");
    back = scn_checkpoint_load(path, NULL, &st2);
    CHECK(back && st2.epoch == 5, "second save not loaded");
    scn_net_free(back);

    bytes = slurp(path, &len);
    CHECK(bytes != NULL && len > 100, "cannot read back the checkpoint");
    snprintf(bad, sizeof bad, "%s/bad.scn", dir);
    for (cut = 0; bytes && cut < len; cut += cut < 200 ? 1 : 97) {  /* truncations */
        spit(bad, bytes, cut);
        back = scn_checkpoint_load(bad, NULL, NULL);
        CHECK(back == NULL && strstr(scn_error(), "bad.scn"), "truncated to %zu loaded", cut);
        scn_net_free(back);
    }
    for (cut = 0; bytes && cut < len; cut += 13) {                  /* one flipped byte */
        bytes[cut] ^= 0x5a;
        spit(bad, bytes, len);
        back = scn_checkpoint_load(bad, NULL, NULL);
        CHECK(back == NULL && strstr(scn_error(), "bad.scn"), "corrupt byte %zu loaded", cut);
        scn_net_free(back);
        bytes[cut] ^= 0x5a;
    }
    /* version 1 (one mean and std for all channels) still loads: the same
     * file without the per-channel block, under the old magic */
    if (bytes) {
        size_t at = 8 + sizeof(scn__ckpt_head), norm = 2 * SCN_MAX_CHANNELS * sizeof(float);
        unsigned char *v1 = (unsigned char *)malloc(len);
        uint32_t crc;
        memcpy(v1, bytes, at);
        memcpy(v1, "SCNCKPT1", 8);
        memcpy(v1 + at, bytes + at + norm, len - at - norm - 4);
        crc = scn_crc32(0, v1, len - norm - 4);
        memcpy(v1 + len - norm - 4, &crc, 4);
        spit(bad, v1, len - norm);
        back = scn_checkpoint_load(bad, NULL, &st2);
        CHECK(back != NULL, "version 1: %s", scn_error());
        for (i = 0; back && i < SCN_MAX_CHANNELS; i++)
            CHECK(st2.mean[i] == 0.25f && st2.std[i] == 0.5f,
                  "version 1: channel %d mean %g std %g", i, st2.mean[i], st2.std[i]);
        scn_net_free(back);
        free(v1);
    }
    back = scn_checkpoint_load("/nonexistent/model.scn", NULL, NULL);
    CHECK(back == NULL && strstr(scn_error(), "/nonexistent/model.scn"), "missing file");
    back = scn_checkpoint_load(dir, NULL, NULL);
    CHECK(back == NULL, "a directory loaded");
    /* a checkpoint without optimiser state cannot resume */
    CHECK(scn_checkpoint_save(path, net, NULL, NULL) == SCN_OK, "%s", scn_error());
    back = scn_checkpoint_load(path, &opt2, NULL);
    CHECK(back == NULL && strstr(scn_error(), "optimiser"), "resumed without state: %s",
          scn_error());

    free(bytes);
    remove(bad);
    remove(path);
    rmdir(dir);
    scn_sgd_free(&opt);
    scn_net_free(net);
    return check_summary("checkpoint");
}
