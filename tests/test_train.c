/* test_train.c - `scn train` and `scn eval` end to end on a tiny IDX data
 * set written here: a run resumed after a stop ends with the same weights
 * as an uninterrupted one; SIGKILL at random moments never leaves a
 * checkpoint that fails to load; bad data gives a one-line error. Then the
 * SCN paper's recipes (section 5): their values, the mean image, weight
 * decay on lambda1 and its floor, batch-shared augmentation, --recipe and
 * its overrides. Run from the repository root after `make` (it drives
 * bin/scn). */
#include "../scn.h"
#include "check.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SCN_BIN            /* the portability run points it at its own build */
#define SCN_BIN "bin/scn"
#endif
#define MODEL "sc:n=6,l1=0.05 bn conv:n=4 relu gap linear:n=10"

static char dir[64];

static void put_be32(FILE *f, unsigned v) {
    unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 8), (unsigned char)v };
    fwrite(b, 1, 4, f);
}

/* count images of 8 x 8 whose brightness pattern depends on the label
 * (i % classes) */
static void write_split(const char *prefix, int count, int classes, unsigned seed) {
    char path[160];
    FILE *f;
    int i, p;
    scn_rng r;
    scn_rng_seed(&r, seed, 1);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix);
    f = fopen(path, "wb");
    put_be32(f, 0x801); put_be32(f, (unsigned)count);
    for (i = 0; i < count; i++) fputc(i % classes, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix);
    f = fopen(path, "wb");
    put_be32(f, 0x803); put_be32(f, (unsigned)count); put_be32(f, 8); put_be32(f, 8);
    for (i = 0; i < count; i++)
        for (p = 0; p < 64; p++)
            fputc((p % classes == i % classes ? 200 : 20) + (int)scn_rng_below(&r, 40), f);
    fclose(f);
}

static int run(const char *args) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, SCN_BIN " %s >%s/out.txt 2>%s/err.txt", args, dir, dir);
    return system(cmd);
}

static int file_has(const char *name, const char *text) {
    char path[160], buf[4096];
    size_t n;
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(f = fopen(path, "r"))) return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, text) != NULL;
}

static int same_weights(const char *a, const char *b) {
    char pa[160], pb[160];
    scn_net *x, *y;
    int same;
    snprintf(pa, sizeof pa, "%s/%s", dir, a);
    snprintf(pb, sizeof pb, "%s/%s", dir, b);
    x = scn_checkpoint_load(pa, NULL, NULL);
    y = scn_checkpoint_load(pb, NULL, NULL);
    same = x && y && scn_net_param_count(x) == scn_net_param_count(y) &&
           !memcmp(scn_net_params(x), scn_net_params(y),
                   scn_net_param_count(x) * sizeof(float));
    scn_net_free(x);
    scn_net_free(y);
    return same;
}

static void test_resume(void) {
    char args[512];
    snprintf(args, sizeof args, "train --data %s --model '" MODEL "' --epochs 3 --batch 8 "
             "--out %s/full.scn --log %s/full.csv", dir, dir, dir);
    CHECK(run(args) == 0, "uninterrupted run failed");
    CHECK(file_has("out.txt", "epoch 3/3"), "no epoch summary");
    snprintf(args, sizeof args, "train --data %s --model '" MODEL "' --epochs 1 --batch 8 "
             "--out %s/part.scn", dir, dir);
    CHECK(run(args) == 0, "first part failed");
    snprintf(args, sizeof args, "train --data %s --epochs 3 --batch 8 --out %s/part.scn "
             "--resume", dir, dir);
    CHECK(run(args) == 0, "resumed part failed");
    CHECK(file_has("out.txt", "resuming"), "did not resume");
    CHECK(same_weights("full.scn", "part.scn"), "resumed weights differ from uninterrupted");
    CHECK(file_has("full.csv", "epoch,lr,loss"), "no CSV header");
    snprintf(args, sizeof args, "eval --model %s/full.scn --data %s", dir, dir);
    CHECK(run(args) == 0 && file_has("out.txt", "test accuracy: "), "eval failed");
}

/* SIGKILL at random moments of a run that checkpoints every few ms. */
static void test_kill(void) {
    char out[160], model[] = MODEL;
    int trial, loaded = 0;
    scn_rng r;
    scn_rng_seed(&r, 5, 5);
    snprintf(out, sizeof out, "%s/kill.scn", dir);
    for (trial = 0; trial < 12; trial++) {
        pid_t pid = fork();
        struct timespec ts;
        scn_net *net;
        if (pid == 0) {
            char *argv[] = { (char *)SCN_BIN, (char *)"train", (char *)"--data", dir,
                             (char *)"--model", model, (char *)"--epochs", (char *)"100000",
                             (char *)"--batch", (char *)"8", (char *)"--limit", (char *)"16",
                             (char *)"--out", out, (char *)"--resume", NULL };
            if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
                _exit(127);
            execv(SCN_BIN, argv);
            _exit(127);
        }
        ts.tv_sec = 0;
        /* up to 0.55 s: a slow build on a loaded machine (i686 under the
           portability run) must still reach its first checkpoint in some trials */
        ts.tv_nsec = 50000000L + (long)scn_rng_below(&r, 500) * 1000000L;
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (access(out, F_OK) != 0) continue;
        net = scn_checkpoint_load(out, NULL, NULL);
        CHECK(net != NULL, "trial %d: checkpoint unreadable after SIGKILL: %s", trial,
              scn_error());
        loaded += net != NULL;
        scn_net_free(net);
    }
    CHECK(loaded > 0, "no checkpoint was ever written before a kill");
}

static void test_bad_data(void) {
    char args[512], path[160];
    FILE *f;
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", dir);
    f = fopen(path, "r+b");
    if (f) { CHECK(ftruncate(fileno(f), 100) == 0, "truncate"); fclose(f); }
    snprintf(args, sizeof args, "eval --model %s/full.scn --data %s", dir, dir);
    CHECK(run(args) != 0 && file_has("err.txt", "t10k-images-idx3-ubyte"),
          "truncated test images accepted");
    snprintf(path, sizeof path, "%s/full.scn", dir);
    f = fopen(path, "r+b");
    if (f) { CHECK(ftruncate(fileno(f), 50) == 0, "truncate"); fclose(f); }
    write_split("t10k", 20, 10, 2);
    CHECK(run(args) != 0 && file_has("err.txt", "full.scn"), "truncated checkpoint accepted");
    snprintf(args, sizeof args, "train --data %s/nowhere --out %s/x.scn", dir, dir);
    CHECK(run(args) != 0 && file_has("err.txt", "nowhere"), "missing data accepted");
}

/* A preset's classifier takes the data's class count (here 12). */
static void test_classes(void) {
    char args[512];
    write_split("train", 48, 12, 3);
    write_split("t10k", 24, 12, 4);
    snprintf(args, sizeof args, "train --data %s --model scn-mnist --epochs 1 --batch 8 "
             "--out %s/c12.scn", dir, dir);
    CHECK(run(args) == 0, "scn-mnist on 12 classes failed");
    CHECK(file_has("out.txt", "12 classes"), "data not seen as 12 classes");
    CHECK(file_has("out.txt", "linear     12 x"), "the classifier is not 12 wide");
    write_split("train", 64, 10, 1);
    write_split("t10k", 20, 10, 2);
}

/* ---- the paper's recipes and their parts (SCN section 5) ---- */

/* An in-memory data set of n items of C x H x W: item i's value j is
 * vals[i * size + j]. */
typedef struct mem_set { scn_dataset ds; const float *vals; unsigned char labels[16]; } mem_set;

static scn_status mem_read(scn_dataset *ds, const int *idx, int n, float *x,
                           unsigned char *labels) {
    const mem_set *m = (const mem_set *)ds->impl;
    size_t size = (size_t)ds->C * ds->H * ds->W;
    int i;
    for (i = 0; i < n; i++) {
        memcpy(x + i * size, m->vals + idx[i] * size, size * sizeof *x);
        if (labels) labels[i] = m->labels[idx[i]];
    }
    return SCN_OK;
}

static void mem_open(mem_set *m, const float *vals, int n, int C, int H, int W) {
    int i;
    memset(m, 0, sizeof *m);
    m->ds.count = n; m->ds.C = C; m->ds.H = H; m->ds.W = W;
    m->ds.classes = 2;
    for (i = 0; i < n && i < 16; i++) m->labels[i] = (unsigned char)(i % 2);
    m->ds.labels = m->labels;
    m->ds.read = mem_read;
    m->ds.impl = m;
    m->vals = vals;
}

static void test_recipes(void) {
    static const struct { const char *name, *model; int batch, epochs, m0, m1, crop, flip, norm; }
    want[] = { { "scn-cifar", "scn-cifar", 128, 200, 80, 160, 4, 1, SCN_NORM_PIXEL },
               { "scn-stl", "scn-cifar", 16, 200, 80, 160, 12, 1, SCN_NORM_PIXEL },
               { "scn-mnist-paper", "scn-mnist-paper", 128, 25, 10, 20, 0, 0,
                 SCN_NORM_CHANNEL } };
    const scn_recipe *r;
    scn_sgd_desc sd;
    scn_train_desc td;
    int i;
    for (i = 0; i < 3; i++) {
        r = scn_recipe_find(want[i].name);
        CHECK(r && r == scn_recipe_get(i), "recipe %s: %s", want[i].name, scn_error());
        if (!r) continue;
        CHECK(!strcmp(r->model, want[i].model) && scn_net_preset(r->model) &&
              r->batch == want[i].batch && r->epochs == want[i].epochs && same_float(r->lr, 0.1f) &&
              same_float(r->momentum, 0.9f) && same_float(r->weight_decay, 5e-4f) && same_float(r->gamma, 0.1f) &&
              r->milestones[0] == want[i].m0 && r->milestones[1] == want[i].m1 &&
              r->milestones[2] == 0 && r->crop == want[i].crop && r->flip == want[i].flip &&
              r->batch_augment == 1 && r->decay_lambda1 == 1 && r->norm == want[i].norm,
              "recipe %s: values differ from SCN section 5", r->name);
        memset(&sd, 0x55, sizeof sd);
        memset(&td, 0, sizeof td);
        td.item_count = 7;
        scn_recipe_apply(r, &sd, &td);
        CHECK(same_float(sd.lr, 0.1f) && same_float(sd.momentum, 0.9f) && same_float(sd.weight_decay, 5e-4f) &&
              same_float(sd.gamma, 0.1f) && sd.milestones[0] == want[i].m0 &&
              sd.milestones[1] == want[i].m1 && sd.milestones[2] == 0 && sd.nesterov == 0 &&
              sd.schedule == SCN_LR_STEP && sd.decay_lambda1 == 1 && td.batch == want[i].batch &&
              td.crop == want[i].crop && td.flip == want[i].flip && td.batch_augment == 1 &&
              td.item_count == 7, "scn_recipe_apply(%s)", r->name);
    }
    CHECK(scn_recipe_get(3) == NULL && scn_recipe_get(-1) == NULL, "a fourth recipe");
    CHECK(scn_recipe_find("scn-imagenet") == NULL && strstr(scn_error(), "scn-imagenet") &&
          strstr(scn_error(), "scn-cifar, scn-stl, scn-mnist-paper"),
          "an unknown recipe: %s", scn_error());
    CHECK(scn_recipe_find(NULL) == NULL, "a NULL recipe name");
    {   /* the paper's MNIST net: SCN-4, 8 atoms in the first sc layer, on 1 x 28 x 28 */
        scn_net *net = scn_net_create("scn-mnist-paper", 1, 28, 28, 1);
        size_t count;
        CHECK(net != NULL, "scn-mnist-paper on 1x28x28: %s", scn_error());
        if (net) {
            scn_net_layer_params(net, 0, &count);
            CHECK(scn_net_layer_count(net) == 30 && scn_net_param_count(net) == 686160 &&
                  count == 9 * 8 + 1 && !strcmp(scn_net_layer_kind(net, 28), "gap"),
                  "scn-mnist-paper: %d layers, %zu parameters, first layer %zu",
                  scn_net_layer_count(net), scn_net_param_count(net), count);
            scn_net_free(net);
        }
    }
}

/* scn_dataset_pixel_mean on a data set of 3 items of 2 x 2 x 3, exactly;
 * normalisation with it; the state's copy */
static void test_pixel_mean(void) {
    enum { N = 3, C = 2, H = 2, W = 3, S = C * H * W };
    float vals[N * S], mean[S], x[N * S];
    mem_set m;
    scn_train_state st;
    int i, j, c;
    for (i = 0; i < N * S; i++) vals[i] = (float)((i * 37) % 23) / 16.0f - 0.5f;
    mem_open(&m, vals, N, C, H, W);
    CHECK(scn_dataset_pixel_mean(&m.ds, mean) == SCN_OK, "%s", scn_error());
    for (j = 0; j < S; j++) {
        double sum = 0.0;
        for (i = 0; i < N; i++) sum += vals[i * S + j];
        CHECK(mean[j] == (float)(sum / N), "pixel %d: %g, want %g", j, mean[j], sum / N);
    }
    memset(&st, 0, sizeof st);
    st.mean[0] = 100.0f; st.mean[1] = -100.0f;      /* not used with a mean image */
    st.std[0] = 0.5f; st.std[1] = 4.0f;
    CHECK(scn_train_state_set_pixel_mean(&st, mean, S) == SCN_OK, "%s", scn_error());
    memcpy(x, vals, sizeof x);
    CHECK(scn_train_state_normalize(&st, x, N, C, H, W) == SCN_OK, "%s", scn_error());
    for (i = 0; i < N; i++)
        for (c = 0; c < C; c++)
            for (j = 0; j < H * W; j++) {
                int at = i * S + c * H * W + j;
                CHECK(same_float(x[at], (vals[at] - mean[c * H * W + j]) * (1.0f / st.std[c])),
                      "item %d channel %d pixel %d: %g", i, c, j, x[at]);
            }
    /* the mean image is subtracted: the normalised items average to 0 */
    for (j = 0; j < S; j++)
        CHECK(fabs((x[j] + x[S + j] + x[2 * S + j]) / 3.0) < 1e-6, "pixel %d's mean %g", j,
              (x[j] + x[S + j] + x[2 * S + j]) / 3.0);
    CHECK(scn_train_state_normalize(&st, x, N, C, W, H + 1) == SCN_ERR_ARG &&
          strstr(scn_error(), "mean image"), "a mean image of another size used: %s",
          scn_error());
    scn_train_state_free(&st);
    CHECK(!st.pixel_mean && !st.pixel_count && st.std[1] == 4.0f, "free");
    scn_train_state_free(NULL);
    /* without one: per channel, as before */
    memcpy(x, vals, sizeof x);
    st.mean[0] = 0.25f; st.mean[1] = -1.0f;
    CHECK(scn_train_state_normalize(&st, x, N, C, H, W) == SCN_OK &&
          x[0] == (vals[0] - 0.25f) * (1.0f / 0.5f) && x[S - 1] == (vals[S - 1] + 1.0f) * 0.25f,
          "per channel");
}

/* The mean loss against targets (1 - eps) onehot + eps / K of the net's
 * logits for x, in double. */
static double smoothed_loss(scn_net *net, const float *x, const unsigned char *y, int n, int K,
                            double eps) {
    const float *z = scn_net_forward(net, x, n, 0);
    double total = 0.0;
    int b, j;
    if (!z) return NAN;
    for (b = 0; b < n; b++) {
        double mx = z[b * K], sum = 0.0;
        for (j = 1; j < K; j++) if (z[b * K + j] > mx) mx = z[b * K + j];
        for (j = 0; j < K; j++) sum += exp(z[b * K + j] - mx);
        for (j = 0; j < K; j++)
            total += ((j == y[b]) * (1.0 - eps) + eps / K) * (log(sum) + mx - z[b * K + j]);
    }
    return total / n;
}

/* Label smoothing: one full-batch step of lr 1 without momentum or decay
 * moves every parameter by minus its gradient, which must match central
 * differences of the smoothed loss; the pass reports that loss. */
static void test_label_smoothing(void) {
    enum { N = 6, K = 3, P = 3 * 4 + 3 };
    float vals[N * 4], before[P], after[P], *p;
    unsigned char y[N];
    double loss0, h = 1e-2;
    scn_net *net = scn_net_create("linear:n=3", 1, 2, 2, 7);
    scn_sgd opt;
    scn_sgd_desc sd;
    scn_train_state st;
    scn_train_desc td;
    scn_pass_result res;
    mem_set m;
    int i;
    for (i = 0; i < N * 4; i++) vals[i] = (float)sin(1.7 * i + 0.3);
    mem_open(&m, vals, N, 1, 2, 2);
    for (i = 0; i < N; i++) y[i] = m.labels[i];
    CHECK(net && scn_net_param_count(net) == P, "%s", scn_error());
    if (!net) return;
    memset(&sd, 0, sizeof sd);
    sd.lr = 1.0f;
    sd.momentum = -1.0f;
    sd.weight_decay = -1.0f;
    CHECK(scn_sgd_init(&opt, net, &sd) == SCN_OK, "%s", scn_error());
    memset(&st, 0, sizeof st);
    st.std[0] = 1.0f;       /* inputs as they are */
    memset(&td, 0, sizeof td);
    td.batch = N;
    td.label_smoothing = 1.0f;
    CHECK(scn_train_epoch(net, &opt, &m.ds, &st, &td, &res) == SCN_ERR_ARG &&
          strstr(scn_error(), "label smoothing 1"), "eps 1 accepted: %s", scn_error());
    td.label_smoothing = 0.2f;
    p = scn_net_params(net);
    memcpy(before, p, sizeof before);
    loss0 = smoothed_loss(net, vals, y, N, K, 0.2);
    CHECK(scn_train_epoch(net, &opt, &m.ds, &st, &td, &res) == SCN_OK, "%s", scn_error());
    CHECK_NEAR(res.loss, loss0, 1e-5);
    memcpy(after, p, sizeof after);
    for (i = 0; i < P; i++) {
        float moved = before[i] - after[i];
        double up, down;
        memcpy(p, before, sizeof before);
        p[i] = before[i] + (float)h;
        up = smoothed_loss(net, vals, y, N, K, 0.2);
        p[i] = before[i] - (float)h;
        down = smoothed_loss(net, vals, y, N, K, 0.2);
        CHECK(fabs(moved - (up - down) / (2 * h)) <= 1e-3, "parameter %d: moved %.6g, the "
              "loss's slope %.6g", i, moved, (up - down) / (2 * h));
    }
    scn_sgd_free(&opt);
    scn_net_free(net);
}

/* One SGD step with zero gradients: weight decay moves lambda1 by exactly
 * lr wd lambda1 with decay_lambda1 (Algorithm 2, step 7), not at all
 * without; and lambda1 never goes below SCN_LAMBDA1_MIN. */
static void test_lambda1(void) {
    int decay, k;
    for (decay = 0; decay < 2; decay++) {
        scn_net *net = scn_net_create("sc:n=4,l1=0.5 gap linear:n=2", 1, 4, 4, 3);
        scn_sgd opt;
        scn_sgd_desc d;
        size_t at, count;
        float *p, l1, d0;
        if (!net) { CHECK(0, "%s", scn_error()); return; }
        memset(&d, 0, sizeof d);
        d.lr = 0.1f;
        d.momentum = -1.0f;
        d.weight_decay = 0.01f;
        d.decay_lambda1 = decay;
        CHECK(scn_sgd_init(&opt, net, &d) == SCN_OK, "%s", scn_error());
        at = scn_net_layer_params(net, 0, &count);
        p = scn_net_params(net) + at;
        l1 = p[count - 1];
        d0 = p[0];
        CHECK(l1 == 0.5f && count == 9 * 4 + 1, "lambda1 %g of %zu", l1, count);
        scn_net_zero_grad(net);
        CHECK(scn_sgd_step(&opt, net, 0.1f) == SCN_OK, "%s", scn_error());
        CHECK(same_float(p[count - 1], decay ? 0.5f - 0.1f * (0.01f * 0.5f) : 0.5f),
              "decay_lambda1 %d: lambda1 %.9g after a step (want %.9g)", decay, p[count - 1],
              decay ? 0.5 - 0.1 * 0.01 * 0.5 : 0.5);
        CHECK(same_float(p[0], d0 - 0.1f * (0.01f * d0)), "the dictionary's decay changed: %.9g",
              p[0]);
        /* a gradient that would take lambda1 far below 0: the floor */
        for (k = 0; k < 3; k++) {
            scn_net_zero_grad(net);
            scn_net_grads(net)[at + count - 1] = 1000.0f;
            CHECK(scn_sgd_step(&opt, net, 0.1f) == SCN_OK, "%s", scn_error());
            CHECK(same_float(p[count - 1], SCN_LAMBDA1_MIN) && p[count - 1] > 0.0f,
                  "lambda1 %g after a step down, want %g", p[count - 1],
                  (double)SCN_LAMBDA1_MIN);
        }
        scn_sgd_free(&opt);
        scn_net_free(net);
    }
    {   /* l1=0 in a spec is the initial value only; scn_net_project floors it too */
        scn_net *net = scn_net_create("sc:n=3,l1=0 gap linear:n=2", 1, 3, 3, 1);
        size_t count, at = net ? scn_net_layer_params(net, 0, &count) : 0;
        if (!net) { CHECK(0, "%s", scn_error()); return; }
        CHECK(scn_net_params(net)[at + count - 1] == 0.0f, "l1=0 not kept at creation");
        CHECK(scn_net_project(net) == SCN_OK &&
              same_float(scn_net_params(net)[at + count - 1], SCN_LAMBDA1_MIN), "project: %g",
              scn_net_params(net)[at + count - 1]);
        scn_net_free(net);
    }
    {
        scn_net *net = scn_net_create("linear:n=2", 1, 1, 2, 1);
        scn_sgd opt;
        scn_sgd_desc d;
        memset(&d, 0, sizeof d);
        d.decay_lambda1 = 2;
        CHECK(net && scn_sgd_init(&opt, net, &d) == SCN_ERR_ARG &&
              strstr(scn_error(), "decay_lambda1"), "decay_lambda1 2: %s", scn_error());
        scn_net_free(net);
    }
}

/* scn_augment_shared: every item moved as one item alone would be by the
 * same generator, and the generator advanced by one item's draws */
static void test_shared_augment(void) {
    enum { N = 6, C = 2, H = 5, W = 7, S = C * H * W };
    float x[N * S], y[N * S], one[S];
    scn_rng r, r1, r2;
    int i, b, trial, moved = 0, differ = 0;
    for (trial = 0; trial < 8; trial++) {
        for (i = 0; i < N * S; i++) x[i] = (float)(i % 29) + 1.0f;
        memcpy(y, x, sizeof x);
        scn_rng_seed(&r, 11, (uint64_t)trial);
        r1 = r;
        CHECK(scn_augment_shared(x, N, C, H, W, 2, 1, &r1) == SCN_OK, "%s", scn_error());
        for (b = 0; b < N; b++) {
            r2 = r;
            memcpy(one, y + b * S, sizeof one);
            CHECK(scn_augment(one, 1, C, H, W, 2, 1, &r2) == SCN_OK, "%s", scn_error());
            CHECK(!memcmp(one, x + b * S, sizeof one), "trial %d: item %d not moved as the "
                  "first draw says", trial, b);
            CHECK(r2.state == r1.state, "trial %d: the shared draw took more than one "
                  "item's numbers", trial);
            moved += memcmp(one, y + b * S, sizeof one) != 0;
        }
        r2 = r;     /* per image: the same batch gets N draws */
        CHECK(scn_augment(y, N, C, H, W, 2, 1, &r2) == SCN_OK && r2.state != r1.state,
              "per-image augmentation drew as little as the shared one");
        for (b = 1; b < N; b++) differ += memcmp(y + b * S, x + b * S, sizeof one) != 0;
    }
    CHECK(moved > 0 && differ > 0, "nothing moved (%d) or per-image equals shared (%d)",
          moved, differ);
    CHECK(scn_augment_shared(NULL, 0, C, H, W, 2, 1, &r) == SCN_OK, "n = 0");
    CHECK(scn_augment_shared(x, 1, C, H, W, -1, 0, &r) == SCN_ERR_ARG, "pad -1");
}

/* --recipe, --normalize pixel and the overrides, through bin/scn: the
 * checkpoint holds what the options say, and scn eval tests with the
 * training split's mean image */
static void test_cli_recipe(void) {
    char args[768], path[160];
    scn_train_state st;
    scn_sgd opt;
    scn_net *net;
    scn_dataset *train;
    float *mean;
    snprintf(args, sizeof args, "train --data %s --recipe scn-cifar --model '" MODEL "' "
             "--epochs 2 --batch 8 --out %s/recipe.scn", dir, dir);
    CHECK(run(args) == 0, "--recipe scn-cifar failed");
    CHECK(file_has("out.txt", "recipe scn-cifar (CIFAR-10, CIFAR-100): --model " MODEL
                   " --epochs 2 --batch 8 --lr 0.1 --momentum 0.9 --wd 0.0005 --wd-lambda1 "
                   "--crop 4 --flip --batch-augment --normalize pixel"),
          "the recipe's values not applied or not said");
    snprintf(path, sizeof path, "%s/recipe.scn", dir);
    memset(&st, 0, sizeof st);
    net = scn_checkpoint_load(path, &opt, &st);
    CHECK(net != NULL, "%s", scn_error());
    train = scn_dataset_open(dir, "train", NULL);
    mean = (float *)calloc(64, sizeof *mean);
    CHECK(train && scn_dataset_pixel_mean(train, mean) == SCN_OK, "%s", scn_error());
    if (net) {
        scn_pass_result a;
        scn_dataset *test = scn_dataset_open(dir, "test", NULL);
        CHECK(st.pixel_mean && st.pixel_count == 64 &&
              !memcmp(st.pixel_mean, mean, 64 * sizeof *mean),
              "the checkpoint's mean image is not the training split's");
        CHECK(opt.desc.decay_lambda1 == 1 && opt.desc.milestones[0] == 80 &&
              opt.desc.milestones[1] == 160 && same_float(opt.desc.weight_decay, 5e-4f) &&
              st.batch == 8 && strstr(st.note, "crop 4, flip 1, batch-augment 1, "
                                                "normalize pixel"),
              "checkpoint: decay %d, milestones %d,%d, batch %d, note \"%s\"",
              opt.desc.decay_lambda1, opt.desc.milestones[0], opt.desc.milestones[1],
              st.batch, st.note);
        /* scn eval's accuracy is the library's with the loaded state */
        CHECK(test && scn_evaluate(net, test, &st, NULL, &a, NULL) == SCN_OK, "%s",
              scn_error());
        snprintf(args, sizeof args, "eval --model %s --data %s", path, dir);
        CHECK(run(args) == 0, "eval of a --normalize pixel checkpoint failed");
        {
            char line[64];
            snprintf(line, sizeof line, "test accuracy: %.2f%%", 100.0 * a.accuracy);
            CHECK(file_has("out.txt", line), "scn eval did not say '%s'", line);
        }
        scn_dataset_close(test);
        scn_sgd_free(&opt);
        scn_train_state_free(&st);
        scn_net_free(net);
    }
    free(mean);
    scn_dataset_close(train);
    /* options given override the recipe's */
    snprintf(args, sizeof args, "train --data %s --recipe scn-mnist-paper --model '" MODEL "' "
             "--epochs 1 --batch 8 --lr 0.05 --milestones 1 --no-wd-lambda1 --normalize pixel "
             "--no-batch-augment --out %s/over.scn", dir, dir);
    CHECK(run(args) == 0, "--recipe with overrides failed");
    CHECK(file_has("out.txt", "recipe scn-mnist-paper (MNIST): --model " MODEL " --epochs 1 "
                   "--batch 8 --lr 0.05 --momentum 0.9 --wd 0.0005 --crop 0 --normalize pixel"),
          "the overrides not applied or not said");
    CHECK(file_has("out.txt", "epoch 1/1 lr 0.05 "), "not trained at lr 0.05");
    snprintf(path, sizeof path, "%s/over.scn", dir);
    memset(&st, 0, sizeof st);
    net = scn_checkpoint_load(path, &opt, &st);
    CHECK(net && opt.desc.decay_lambda1 == 0 && opt.desc.milestones[0] == 1 &&
          opt.desc.milestones[1] == 0 && same_float(opt.desc.lr, 0.05f) && st.pixel_mean,
          "overridden checkpoint: %s", net ? "wrong settings" : scn_error());
    if (net) { scn_sgd_free(&opt); scn_train_state_free(&st); }
    scn_net_free(net);
    /* the recipe's own model, a preset */
    snprintf(args, sizeof args, "train --data %s --recipe scn-mnist-paper --epochs 1 --batch 8 "
             "--limit 8 --test-limit 0 --precise-bn 0 --out %s/paper.scn", dir, dir);
    CHECK(run(args) == 0 && file_has("out.txt", " 1 sc          8 x   8 x   8") &&
          file_has("out.txt", "epoch 1/1 lr 0.1 "), "scn-mnist-paper's own model");
    /* refused: an unknown recipe, a bad mode, contradictions */
    snprintf(args, sizeof args, "train --data %s --recipe scn-imagenet --out %s/no.scn", dir,
             dir);
    CHECK(run(args) != 0 && file_has("err.txt", "no recipe \"scn-imagenet\"") &&
          file_has("err.txt", "scn-cifar, scn-stl, scn-mnist-paper"), "an unknown recipe");
    snprintf(args, sizeof args, "train --data %s --normalize image --out %s/no.scn", dir, dir);
    CHECK(run(args) != 0 && file_has("err.txt", "--normalize image: channel or pixel"),
          "--normalize image");
    snprintf(args, sizeof args, "train --data %s --flip --no-flip --out %s/no.scn", dir, dir);
    CHECK(run(args) != 0 && file_has("err.txt", "exclude each other"), "--flip --no-flip");
    snprintf(path, sizeof path, "%s/no.scn", dir);
    CHECK(access(path, F_OK) != 0, "a refused run wrote a checkpoint");
}

int main(void) {
    char cmd[128];
    strcpy(dir, "/tmp/scn_train.XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    CHECK(access(SCN_BIN, X_OK) == 0, SCN_BIN " is not built (run make first)");
    write_split("train", 64, 10, 1);
    write_split("t10k", 20, 10, 2);
    test_resume();
    test_kill();
    test_bad_data();
    test_classes();
    test_recipes();
    test_pixel_mean();
    test_lambda1();
    test_label_smoothing();
    test_shared_augment();
    test_cli_recipe();
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return check_summary("train");
}
