/* test_layers.c - every layer kind's gradients (parameters and input)
 * against central finite differences through a whole network, BN in both
 * modes, the SGD step (decay, momentum, projections), specs and presets. */
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>

/* loss = sum w .* logits(x), in double; the dropout mask is reseeded so
 * every evaluation draws the same one */
static double net_loss(scn_net *net, const float *x, int N, const float *w, int K) {
    const float *z;
    double s = 0.0;
    int i;
    scn_rng_seed(&net->rng, 99, 1);
    z = scn_net_forward(net, x, N, 1);
    if (!z) return NAN;
    for (i = 0; i < N * K; i++) s += (double)w[i] * z[i];
    return s;
}

/* Checks entries of v (count) against the gradient g: all of them when
 * there are at most 20, else the last one (a layer's lambda1 or bias) and
 * 19 chosen at random. */
static void fd_check(const char *spec, const char *what, float *v, size_t count,
                     const float *g, scn_net *net, const float *x, int N, const float *w,
                     int K, float h, double tol, scn_rng *r) {
    size_t t, tries = count < 20 ? count : 20;
    double worst = 0.0, scale = 1e-3;
    size_t at = 0;
    for (t = 0; t < count; t++) if (fabs(g[t]) > scale) scale = fabs(g[t]);
    for (t = 0; t < tries; t++) {
        size_t i = count <= 20 ? t : t == 0 ? count - 1 : scn_rng_below(r, (uint32_t)count);
        float keep = v[i];
        double up, down, fd, err;
        v[i] = keep + h;
        up = net_loss(net, x, N, w, K);
        v[i] = keep - h;
        down = net_loss(net, x, N, w, K);
        v[i] = keep;
        fd = (up - down) / (2.0 * h);
        err = fabs(fd - g[i]) / scale;
        if (err > worst) { worst = err; at = i; }
    }
    CHECK(worst < tol, "%s: d%s[%zu] off by %.3g of the largest gradient (%.3g)", spec,
          what, at, worst, scale);
}

static void check_spec(const char *spec, int C, int H, int W, int N, float h, double tol) {
    scn_net *net = scn_net_create(spec, C, H, W, 7);
    scn_rng r;
    float *x, *w, *dx, *g;
    int K, i;
    size_t np, xs = (size_t)N * C * H * W;
    CHECK(net != NULL, "%s: %s", spec, scn_error());
    if (!net) return;
    K = scn_net_classes(net);
    np = scn_net_param_count(net);
    x = (float *)malloc(xs * sizeof *x);
    dx = (float *)malloc(xs * sizeof *dx);
    w = (float *)malloc((size_t)N * K * sizeof *w);
    g = (float *)malloc((np ? np : 1) * sizeof *g);
    scn_rng_seed(&r, 3, 3);
    for (i = 0; i < (int)xs; i++) x[i] = scn_rng_uniform(&r);
    for (i = 0; i < N * K; i++) w[i] = scn_rng_normal(&r);
    CHECK(net_loss(net, x, N, w, K) == net_loss(net, x, N, w, K), "%s: not repeatable", spec);
    scn_net_zero_grad(net);
    net_loss(net, x, N, w, K);
    CHECK(scn_net_backward(net, w, dx) == SCN_OK, "%s", scn_error());
    memcpy(g, scn_net_grads(net), np * sizeof *g);
    for (i = 0; i < scn_net_layer_count(net); i++) {      /* each layer's own */
        scn__layer *l = &net->layers[i];
        size_t off = (size_t)(l->params - scn_net_params(net));
        if (l->nparams)
            fd_check(spec, l->ops->name, l->params, l->nparams, g + off, net, x, N, w, K,
                     h, tol, &r);
    }
    fd_check(spec, "x", x, xs, dx, net, x, N, w, K, h, tol, &r);
    free(x); free(dx); free(w); free(g);
    scn_net_free(net);
}

static void test_gradients(void) {
    check_spec("linear:n=3", 2, 3, 3, 4, 1e-2f, 2e-3);
    check_spec("conv:n=3 flatten linear:n=2", 2, 5, 4, 2, 1e-2f, 2e-3);
    check_spec("conv:n=4,k=3,s=2,valid gap linear:n=2", 3, 7, 7, 2, 1e-2f, 2e-3);
    check_spec("bn linear:n=3", 3, 4, 4, 3, 1e-2f, 5e-3);
    check_spec("relu linear:n=3", 2, 4, 4, 2, 1e-3f, 5e-3);
    check_spec("maxpool linear:n=3", 2, 4, 6, 2, 1e-3f, 5e-3);
    check_spec("avgpool:k=3,s=1 linear:n=3", 2, 5, 5, 2, 1e-2f, 2e-3);
    check_spec("gap linear:n=3", 4, 3, 3, 2, 1e-2f, 2e-3);
    check_spec("dropout:p=0.3 linear:n=3", 2, 3, 3, 2, 1e-2f, 2e-3);
    check_spec("sc:n=8,l1=0.05 linear:n=3", 2, 5, 5, 2, 2e-4f, 2e-2);
    check_spec("sc:n=6,k=3,s=2,l1=0.05,signed linear:n=2", 2, 6, 6, 2, 2e-4f, 2e-2);
    check_spec("sc:n=8,l1=0.05 bn sc:n=4,k=1,l1=0.02 bn gap linear:n=3", 2, 5, 5, 2, 2e-4f,
               3e-2);
}

/* BN: training normalises each channel; eval uses the running statistics. */
static void test_bn_modes(void) {
    enum { N = 4, C = 2, HW = 9 };
    scn_net *net = scn_net_create("bn", C, 3, 3, 1);
    float x[N * C * HW];
    const float *y;
    size_t nb;
    float *buf = scn_net_buffers(net, &nb);
    int i, c, b;
    for (i = 0; i < N * C * HW; i++) x[i] = (float)(i % 7) + (i / (C * HW)) * 0.5f;
    y = scn_net_forward(net, x, N, 1);
    for (c = 0; c < C; c++) {
        double mean = 0.0, var = 0.0;
        for (b = 0; b < N; b++)
            for (i = 0; i < HW; i++) mean += y[(b * C + c) * HW + i];
        mean /= N * HW;
        for (b = 0; b < N; b++)
            for (i = 0; i < HW; i++)
                var += (y[(b * C + c) * HW + i] - mean) * (y[(b * C + c) * HW + i] - mean);
        var /= N * HW;
        CHECK(fabs(mean) < 1e-5 && fabs(var - 1.0) < 1e-3, "bn channel %d: mean %g var %g",
              c, mean, var);
    }
    CHECK(nb == 2 * C && buf[0] != 0.0f && buf[C] != 1.0f, "running stats not updated");
    buf[0] = 1.0f; buf[C] = 4.0f;                  /* channel 0: mean 1, var 4 */
    y = scn_net_forward(net, x, N, 0);
    CHECK_NEAR(y[0], (x[0] - 1.0f) / sqrtf(4.0f + 1e-5f), 1e-5);
    CHECK(scn_net_backward(net, y, NULL) != SCN_OK, "backward after an eval forward");
    scn_net_free(net);
}

static void test_sgd(void) {
    scn_net *net = scn_net_create("sc:n=4,l1=0.05 bn linear:n=2", 1, 4, 4, 1);
    scn_sgd opt;
    scn_sgd_desc d;
    float *p = scn_net_params(net), *g = scn_net_grads(net);
    size_t np = scn_net_param_count(net), lam = 9 * 4;
    float before[256];
    memset(&d, 0, sizeof d);
    d.lr = 0.5f; d.momentum = -1.0f; d.weight_decay = 0.1f;
    d.milestones[0] = 2; d.milestones[1] = 4;
    CHECK(np < 256, "np %zu", np);
    CHECK(scn_sgd_init(&opt, net, &d) == SCN_OK, "%s", scn_error());
    CHECK_NEAR(scn_sgd_lr(&opt, 1), 0.5, 1e-7);
    CHECK_NEAR(scn_sgd_lr(&opt, 2), 0.05, 1e-7);
    CHECK_NEAR(scn_sgd_lr(&opt, 5), 0.005, 1e-7);
    memcpy(before, p, np * sizeof *p);
    scn_net_zero_grad(net);
    g[lam] = 1.0f;                  /* pushes lambda1 below zero: projected back */
    CHECK(scn_sgd_step(&opt, net, 0.5f) == SCN_OK, "%s", scn_error());
    CHECK(p[lam] == 0.0f, "lambda1 = %g after the projection", p[lam]);
    CHECK_NEAR(p[0], before[0] * (1.0f - 0.5f * 0.1f), 1e-6);     /* decay on D */
    CHECK(p[lam + 1] == before[lam + 1], "BN scale decayed");      /* no decay on BN */
    CHECK(p[np - 1] == before[np - 1], "linear bias decayed");
    scn_sgd_free(&opt);
    scn_net_free(net);

    /* a frozen BN keeps its scale and shift whatever its gradient */
    net = scn_net_create("bn:frozen linear:n=2", 2, 2, 2, 1);
    CHECK(net && scn_sgd_init(&opt, net, &d) == SCN_OK, "%s", scn_error());
    p = scn_net_params(net);
    g = scn_net_grads(net);
    for (lam = 0; lam < scn_net_param_count(net); lam++) g[lam] = 1.0f;
    before[4] = p[4];
    CHECK(scn_sgd_step(&opt, net, 0.5f) == SCN_OK, "%s", scn_error());
    CHECK(p[4] != before[4], "the linear layer after the frozen BN did not move");
    CHECK(p[0] == 1.0f && p[1] == 1.0f && p[2] == 0.0f && p[3] == 0.0f,
          "frozen BN moved: %g %g %g %g", p[0], p[1], p[2], p[3]);

    /* divergence: a NaN gradient is refused before any parameter moves,
     * and a step that overflows a parameter is reported */
    memcpy(before, p, scn_net_param_count(net) * sizeof *p);
    g[5] = NAN;
    CHECK(scn_sgd_step(&opt, net, 0.5f) == SCN_ERR_NUMERIC, "NaN gradient accepted");
    CHECK(strstr(scn_error(), "non-finite gradient") != NULL, "message: %s", scn_error());
    CHECK(memcmp(before, p, scn_net_param_count(net) * sizeof *p) == 0,
          "parameters moved on a NaN gradient");
    g[5] = 3e38f;
    CHECK(scn_sgd_step(&opt, net, 1e10f) == SCN_ERR_NUMERIC, "overflowing step accepted");
    CHECK(strstr(scn_error(), "non-finite parameter") != NULL, "message: %s", scn_error());
    scn_sgd_free(&opt);
    scn_net_free(net);
}

static void test_specs(void) {
    static const char *bad[] = { "sc:n=0", "wat", "conv:n=4,q=2", "sc:n=x", "linear",
                                 "maxpool:k=9", "", "dropout:p=1" };
    size_t i;
    scn_net *net;
    char line[200];
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        net = scn_net_create(bad[i], 1, 4, 4, 1);
        CHECK(net == NULL && scn_error()[0], "spec '%s' accepted", bad[i]);
        scn_net_free(net);
    }
    net = scn_net_create("scn-mnist", 1, 28, 28, 1);
    CHECK(net && scn_net_classes(net) == 10, "scn-mnist: %s", scn_error());
    if (net) {
        scn_net_describe(net, 0, line, sizeof line);
        CHECK(strstr(line, "sc") != NULL, "describe: %s", line);
        scn_net_free(net);
    }
    net = scn_net_create("lenet", 1, 28, 28, 1);
    CHECK(net && scn_net_classes(net) == 10 && scn_net_param_count(net) == 61706,
          "lenet: %s", net ? "wrong size" : scn_error());
    scn_net_free(net);
    net = scn_net_create("scn-cifar", 3, 32, 32, 1);
    CHECK(net && scn_net_layer_count(net) == 30, "scn-cifar: %s", scn_error());
    scn_net_free(net);
}

int main(void) {
    test_gradients();
    test_bn_modes();
    test_sgd();
    test_specs();
    return check_summary("layers");
}
