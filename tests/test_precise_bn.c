/* test_precise_bn.c - scn_bn_recompute ("precise BN"): the statistics it
 * writes against ones computed here in double from the same images, the
 * items and batch it is told to use, a deeper BN checked through eval-mode
 * logits, what it must leave alone (parameters, the dropout generator),
 * and the failures that must leave the old statistics in place. */
#include "../scn.h"
#include "check.h"

#define COUNT 200
#define NC 2
#define NHW 9

static float pixels[COUNT][NC][NHW];
static unsigned char labels[COUNT];
static int fail_from = COUNT;   /* reads of items >= this fail */

static scn_status mem_read(scn_dataset *ds, const int *idx, int n, float *x,
                           unsigned char *lab) {
    int i;
    (void)ds;
    for (i = 0; i < n; i++) {
        if (idx[i] >= fail_from) return SCN_ERR_IO;
        memcpy(x + (size_t)i * NC * NHW, pixels[idx[i]], sizeof pixels[0]);
        if (lab) lab[i] = labels[idx[i]];
    }
    return SCN_OK;
}

static void make_data(scn_dataset *ds, scn_train_state *st) {
    scn_rng r;
    int i, c, p;
    scn_rng_seed(&r, 5, 1);
    for (i = 0; i < COUNT; i++) {
        labels[i] = (unsigned char)scn_rng_below(&r, 3);
        for (c = 0; c < NC; c++)
            for (p = 0; p < NHW; p++)    /* channel 0 around 2, channel 1 around -1 */
                pixels[i][c][p] = c ? -1.0f + 0.5f * scn_rng_normal(&r)
                                    : 2.0f + 1.5f * scn_rng_normal(&r) + 0.01f * i;
    }
    memset(ds, 0, sizeof *ds);
    ds->count = COUNT; ds->C = NC; ds->H = 3; ds->W = 3; ds->classes = 3;
    ds->labels = labels;
    ds->read = mem_read;
    strcpy(ds->format, "memory");
    memset(st, 0, sizeof *st);
    for (c = 0; c < NC; c++) { st->mean[c] = 0.0f; st->std[c] = 1.0f; }
}

static int reports, last_steps, any_training;
static void count_progress(const scn_progress *p, void *user) {
    (void)user;
    reports++;
    last_steps = p->steps;
    any_training |= p->training;
}

/* A first-layer BN sees the inputs: mean and unbiased variance per channel
 * over the items used, computed here in double. */
static void test_first_layer(scn_dataset *ds, const scn_train_state *st) {
    scn_net *net = scn_net_create("bn gap linear:n=3", NC, 3, 3, 7);
    scn_train_desc d;
    size_t nb, np, i;
    float *buf, *before;
    scn_rng rng_before;
    int odd[COUNT / 2], c, k;
    CHECK(net != NULL, "net: %s", scn_error());
    if (!net) return;
    buf = scn_net_buffers(net, &nb);
    CHECK(nb == 2 * NC, "buffers %zu", nb);
    np = scn_net_param_count(net);
    before = (float *)malloc(np * sizeof *before);
    memcpy(before, scn_net_params(net), np * sizeof *before);
    rng_before = *scn_net_rng(net);
    memset(&d, 0, sizeof d);
    d.batch = 16;
    d.progress = count_progress;
    /* 150 images: 9 whole batches of 16, so the first 144 items */
    CHECK(scn_bn_recompute(net, ds, st, &d, 150) == SCN_OK, "recompute: %s", scn_error());
    CHECK(reports >= 1 && last_steps == 9 && !any_training,
          "progress: %d reports, %d steps, training %d", reports, last_steps, any_training);
    for (c = 0; c < NC; c++) {
        double s = 0.0, s2 = 0.0, n = 144.0 * NHW, mean, var;
        for (k = 0; k < 144; k++)
            for (i = 0; i < NHW; i++) s += pixels[k][c][i];
        mean = s / n;
        for (k = 0; k < 144; k++)
            for (i = 0; i < NHW; i++) s2 += (pixels[k][c][i] - mean) * (pixels[k][c][i] - mean);
        var = s2 / (n - 1);
        CHECK_NEAR(buf[c], mean, 1e-5);
        CHECK_NEAR(buf[NC + c], var, 1e-5);
    }
    CHECK(!memcmp(before, scn_net_params(net), np * sizeof *before), "parameters changed");
    CHECK(!memcmp(&rng_before, scn_net_rng(net), sizeof rng_before),
          "the dropout generator moved");
    {
        float dlogits[3] = { 0.1f, -0.1f, 0.0f };
        CHECK(scn_net_backward(net, dlogits, NULL) == SCN_ERR_ARG,
              "a backward through the recompute's freed batches was accepted");
    }

    /* desc's items: the odd ones, one batch of 20 (batch larger than the
     * images asked for: one batch all the same) */
    for (k = 0; k < COUNT / 2; k++) odd[k] = 2 * k + 1;
    d.items = odd;
    d.item_count = COUNT / 2;
    d.batch = 20;
    d.progress = NULL;
    CHECK(scn_bn_recompute(net, ds, st, &d, 5) == SCN_OK, "items: %s", scn_error());
    for (c = 0; c < NC; c++) {
        double s = 0.0;
        for (k = 0; k < 20; k++)
            for (i = 0; i < NHW; i++) s += pixels[odd[k]][c][i];
        CHECK_NEAR(buf[c], s / (20.0 * NHW), 1e-5);
    }
    free(before);
    scn_net_free(net);
}

/* With one batch holding every image, a BN deeper in the net gets the
 * statistics its training forward normalised with: eval-mode logits then
 * match training-mode ones (up to the unbiased variance, a factor
 * sqrt(M / (M - 1)) with M = 32 x 9 values per channel). Before the
 * recompute they do not. */
static void test_deeper(scn_dataset *ds, const scn_train_state *st) {
    scn_net *net = scn_net_create("conv:n=4 bn relu conv:n=3 bn gap linear:n=3", NC, 3, 3, 3);
    scn_train_desc d;
    float x[32 * NC * NHW], train_z[32 * 3];
    const float *z;
    double worst_before = 0.0, worst = 0.0;
    int i;
    CHECK(net != NULL, "net: %s", scn_error());
    if (!net) return;
    for (i = 0; i < 32; i++) memcpy(x + i * NC * NHW, pixels[i], sizeof pixels[0]);
    z = scn_net_forward(net, x, 32, 1);
    memcpy(train_z, z, sizeof train_z);
    z = scn_net_forward(net, x, 32, 0);
    for (i = 0; i < 32 * 3; i++) worst_before = fmax(worst_before, fabs(z[i] - train_z[i]));
    memset(&d, 0, sizeof d);
    d.batch = 32;
    d.item_count = 32;
    CHECK(scn_bn_recompute(net, ds, st, &d, 32) == SCN_OK, "deeper: %s", scn_error());
    z = scn_net_forward(net, x, 32, 0);
    for (i = 0; i < 32 * 3; i++) worst = fmax(worst, fabs(z[i] - train_z[i]));
    CHECK(worst < 0.01 && worst_before > 10 * worst,
          "eval vs training logits: %g after, %g before", worst, worst_before);
    scn_net_free(net);
}

/* Bad requests and a read failing halfway leave the statistics as they
 * were; a net without BN is left alone. */
static void test_failures(scn_dataset *ds, const scn_train_state *st) {
    scn_net *net = scn_net_create("bn gap linear:n=3", NC, 3, 3, 7);
    scn_net *plain = scn_net_create("conv:n=2 gap linear:n=3", NC, 3, 3, 7);
    scn_train_desc d;
    float saved[2 * NC], *buf;
    size_t nb;
    CHECK(net && plain, "nets: %s", scn_error());
    if (!net || !plain) { scn_net_free(net); scn_net_free(plain); return; }
    buf = scn_net_buffers(net, &nb);
    memset(&d, 0, sizeof d);
    d.batch = 16;
    CHECK(scn_bn_recompute(net, ds, st, &d, 64) == SCN_OK, "recompute: %s", scn_error());
    memcpy(saved, buf, sizeof saved);
    CHECK(scn_bn_recompute(net, ds, st, &d, 0) == SCN_ERR_ARG &&
          strstr(scn_error(), "0 images"), "0 images: \"%s\"", scn_error());
    d.batch = 300;
    CHECK(scn_bn_recompute(net, ds, st, &d, 400) == SCN_ERR_ARG &&
          strstr(scn_error(), "300"), "batch 300 of 200 items: \"%s\"", scn_error());
    d.batch = 16;
    fail_from = 100;            /* batch 7 holds items 96..111 */
    CHECK(scn_bn_recompute(net, ds, st, &d, COUNT) == SCN_ERR_IO &&
          strstr(scn_error(), "batch 7"), "failed read: \"%s\"", scn_error());
    fail_from = COUNT;
    CHECK(!memcmp(saved, buf, sizeof saved), "a failure changed the statistics");
    CHECK(scn_bn_recompute(plain, ds, st, &d, 64) == SCN_OK, "no BN: %s", scn_error());
    scn_net_free(net);
    scn_net_free(plain);
}

int main(void) {
    scn_dataset ds;
    scn_train_state st;
    make_data(&ds, &st);
    test_first_layer(&ds, &st);
    test_deeper(&ds, &st);
    test_failures(&ds, &st);
    return check_summary("precise_bn");
}
