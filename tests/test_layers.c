/* test_layers.c - every layer kind's gradients (parameters and input)
 * against central finite differences through a whole network, residual
 * blocks (identity and projection shortcuts, nested) and a layer's own
 * loss included; BN in both modes; the SGD step (decay, momentum and
 * Nesterov, per-layer learning-rate scale, frozen layers, projections,
 * schedules); the kind tables, specs and presets. */
#include "../scn.h"
#include "check.h"
#include "fd.h"
#include <stdlib.h>
#include <string.h>

/* loss = sum w .* logits(x) + the layers' own losses, in double; or, with
 * labels, SF eq. 14's mixture: (1 - mu) times the mean cross-entropy of
 * the first `labelled` samples (the rest unlabelled) + the layers' mu-weighted
 * l_U. The dropout mask is reseeded so every evaluation draws the same one. */
typedef struct net_case {
    scn_net *net;
    const float *x, *w;
    const unsigned char *labels;
    float mu;
    int N, K, labelled;
} net_case;

static double net_loss(void *ctx) {
    net_case *c = (net_case *)ctx;
    const float *z;
    double s, ce = 0.0;
    int i;
    scn_rng_seed(scn_net_rng(c->net), 99, 1);
    z = scn_net_forward(c->net, c->x, c->N, 1);
    if (!z) return NAN;
    s = scn_net_extra_loss(c->net);
    if (!c->labels) {
        for (i = 0; i < c->N * c->K; i++) s += (double)c->w[i] * z[i];
        return s;
    }
    if (c->labelled && scn_softmax_xent(z, c->labels, c->labelled, c->K, NULL, &ce, NULL))
        return NAN;
    return s + (1.0 - c->mu) * (c->labelled ? ce / c->labelled : 0.0);
}

/* dlogits of net_loss, after the same forward */
static void net_dlogits(net_case *c, float *d) {
    const float *z;
    int i;
    scn_rng_seed(scn_net_rng(c->net), 99, 1);
    z = scn_net_forward(c->net, c->x, c->N, 1);
    if (!c->labels) { memcpy(d, c->w, (size_t)c->N * c->K * sizeof *d); return; }
    memset(d, 0, (size_t)c->N * c->K * sizeof *d);
    if (c->labelled) CHECK(z && scn_softmax_xent(z, c->labels, c->labelled, c->K, d, NULL,
                                                 NULL) == SCN_OK, "%s", scn_error());
    for (i = 0; i < c->labelled * c->K; i++) d[i] *= 1.0f - c->mu;
}

static size_t below(void *r, size_t n) { return scn_rng_below((scn_rng *)r, (uint32_t)n); }

/* Every layer's own parameters (a block's body is checked layer by layer)
 * and the input, 20 entries each at most; mu >= 0: the semi-supervised
 * loss with mu and the first `labelled` of the N samples labelled. */
static void check_case(const char *spec, int C, int H, int W, int N, float h, double tol,
                       float mu, int labelled) {
    scn_net *net = scn_net_create(spec, C, H, W, 7);
    scn_rng r;
    net_case c;
    float *x, *w, *dx, *g, *d;
    unsigned char labels[16];
    int i;
    size_t np, xs = (size_t)N * C * H * W, at;
    double worst;
    CHECK(net != NULL, "%s: %s", spec, scn_error());
    if (!net) return;
    memset(&c, 0, sizeof c);
    c.net = net;
    c.N = N;
    c.K = scn_net_classes(net);
    np = scn_net_param_count(net);
    x = (float *)malloc(xs * sizeof *x);
    dx = (float *)malloc(xs * sizeof *dx);
    w = (float *)malloc((size_t)N * c.K * sizeof *w);
    d = (float *)malloc((size_t)N * c.K * sizeof *d);
    g = (float *)malloc((np ? np : 1) * sizeof *g);
    c.x = x; c.w = w;
    scn_rng_seed(&r, 3, 3);
    for (i = 0; i < (int)xs; i++) x[i] = scn_rng_uniform(&r);
    for (i = 0; i < N * c.K; i++) w[i] = scn_rng_normal(&r);
    if (mu >= 0.0f) {
        CHECK(scn_net_set_mu(net, mu) == SCN_OK, "%s: %s", spec, scn_error());
        for (i = 0; i < labelled && i < 16; i++) labels[i] = (unsigned char)(i % c.K);
        c.labels = labels;
        c.mu = mu;
        c.labelled = labelled;
    }
    CHECK(net_loss(&c) == net_loss(&c), "%s: not repeatable", spec);
    scn_net_zero_grad(net);
    net_dlogits(&c, d);
    CHECK(scn_net_backward(net, d, dx) == SCN_OK, "%s", scn_error());
    memcpy(g, scn_net_grads(net), np * sizeof *g);
    for (i = 0; i < scn_net_layer_count(net); i++) {
        const scn_kind_info *k = scn_kind_find(scn_net_layer_kind(net, i));
        size_t count, off = scn_net_layer_params(net, i, &count);
        if (!count || k->composite) continue;
        worst = fd_sampled(scn_net_params(net) + off, g + off, count, 20, h, net_loss, &c,
                           below, &r, &at);
        CHECK(worst < tol, "%s: layer %d (%s) d[%zu] off by %.3g of the largest gradient",
              spec, i + 1, k->name, at, worst);
    }
    worst = fd_sampled(x, dx, xs, 20, h, net_loss, &c, below, &r, &at);
    CHECK(worst < tol, "%s: dx[%zu] off by %.3g of the largest gradient", spec, at, worst);
    free(x); free(dx); free(w); free(d); free(g);
    scn_net_free(net);
}

static void check_spec(const char *spec, int C, int H, int W, int N, float h, double tol) {
    check_case(spec, C, H, W, N, h, tol, -1.0f, 0);
}

static void test_gradients(void) {
    check_spec("linear:n=3", 2, 3, 3, 4, 1e-2f, 2e-3);
    check_spec("conv:n=3 flatten linear:n=2", 2, 5, 4, 2, 1e-2f, 2e-3);
    check_spec("conv:n=4,k=3,s=2,valid gap linear:n=2", 3, 7, 7, 2, 1e-2f, 2e-3);
    check_spec("bn linear:n=3", 3, 4, 4, 3, 1e-2f, 5e-3);
    check_spec("relu linear:n=3", 2, 4, 4, 2, 1e-3f, 5e-3);
    check_spec("maxpool linear:n=3", 2, 4, 6, 2, 1e-3f, 5e-3);
    check_spec("avgpool:k=3,s=1 linear:n=3", 2, 5, 5, 2, 1e-2f, 2e-3);
    check_spec("gap linear:n=3", 4, 3, 5, 2, 1e-2f, 2e-3);
    check_spec("dropout:p=0.3 linear:n=3", 2, 3, 3, 2, 1e-2f, 2e-3);
    check_spec("sc:n=8,l1=0.05 linear:n=3", 2, 5, 5, 2, 2e-4f, 2e-2);
    check_spec("sc:n=6,k=3,s=2,l1=0.05,signed linear:n=2", 2, 6, 6, 2, 2e-4f, 2e-2);
    check_spec("sc:n=8,l1=0.05 bn sc:n=4,k=1,l1=0.02 bn gap linear:n=3", 2, 5, 5, 2, 2e-4f,
               3e-2);
    /* SF's layers (signed codes, lambda1 fixed or learned) */
    check_spec("csf:n=6,k=3 linear:n=3", 2, 5, 5, 2, 2e-4f, 2e-2);
    check_spec("csf:n=4,k=2,l1=0.02,learn maxpool linear:n=2", 1, 5, 5, 2, 2e-4f, 2e-2);
    check_spec("conv:n=2,k=3 sf:n=12,l1=0.05 linear:n=3", 1, 4, 4, 3, 2e-4f, 2e-2);
    check_spec("sf:n=10,l1=0.03,learn relu linear:n=2", 2, 3, 3, 2, 2e-4f, 2e-2);
    /* SF eq. 14's mixture: labelled and unlabelled samples, every
     * sparse-coding kind's l_U (eq. 12) with its own lambda1 gradient */
    check_case("csf:n=4,k=3 maxpool sf:n=8,l1=0.05 linear:n=3", 1, 6, 6, 4, 2e-4f, 2e-2,
               0.3f, 2);
    check_case("sc:n=6,l1=0.05 sf:n=5,l1=0.05,learn linear:n=2", 1, 4, 4, 3, 2e-4f, 2e-2,
               0.8f, 1);
    check_case("csf:n=5,k=3,learn gap linear:n=2", 2, 5, 5, 3, 2e-4f, 2e-2, 0.5f, 0);
    check_case("sc:n=4,signed linear:n=2", 1, 4, 4, 2, 2e-4f, 2e-2, 1.0f, 2);
    /* DDSE (eq. 5; with and without shortcuts), LISTA with its inner
     * dropout, dropconnect, and the pca layer (identity until fitted) */
    check_spec("ddse:n=6,iters=2,nnz=3,l1=0.02 linear:n=3", 2, 2, 2, 3, 1e-3f, 5e-3);
    check_spec("ddse:n=5,iters=3,l1=0.01,shortcut=0 linear:n=2", 1, 3, 3, 2, 1e-3f, 5e-3);
    check_spec("ddse:n=4,iters=0 relu linear:n=2", 1, 2, 3, 2, 1e-3f, 5e-3);
    check_spec("ddse:n=12,iters=2,nnz=2 linear:n=3", 1, 4, 5, 3, 1e-3f, 5e-3); /* sparse */
    check_spec("lista:n=6,iters=2,p=0.3 linear:n=3", 2, 2, 2, 3, 1e-3f, 5e-3);
    check_spec("linear:n=4,dropconnect=0.5 relu linear:n=3", 2, 2, 2, 3, 1e-3f, 5e-3);
    check_spec("pca ddse:n=5,nnz=2 linear:n=2", 1, 2, 2, 2, 1e-3f, 5e-3);
    /* SDNet's csc layer: backward through the unrolled FISTA steps (signed,
     * >= 0, strided, with lambda2), and the fixed-point gradient of a
     * converged code */
    check_spec("csc:n=4,l1=0.05,iters=3 linear:n=3", 2, 5, 5, 3, 2e-4f, 5e-3);
    check_spec("csc:n=5,k=3,s=2,l1=0.05,nonneg bn relu gap linear:n=2", 2, 6, 6, 2, 1e-3f,
               5e-3);
    check_spec("csc:n=3,k=5,valid,l1=0.02,l2=0.1,iters=6 linear:n=2", 1, 7, 6, 2, 1e-3f, 5e-3);
    check_spec("csc:n=3,l1=0.05,l2=0.5,iters=300,fixed linear:n=3", 1, 5, 5, 2, 1e-3f, 5e-3);
    check_spec("csc:n=4,s=2,l1=0.05,l2=0.3,iters=300,nonneg,fixed linear:n=2", 2, 5, 5, 2,
               1e-3f, 5e-3);
    /* residual blocks: identity shortcut, projection shortcut, nested */
    check_spec("conv:n=3 res[ conv:n=3 relu conv:n=3 ] linear:n=2", 2, 5, 5, 2, 1e-3f, 5e-3);
    check_spec("res[ conv:n=4,s=2 bn relu conv:n=4 ] gap linear:n=2", 2, 6, 6, 3, 1e-2f,
               5e-3);
    check_spec("res[ conv:n=2 res[ conv:n=2 relu ] ] linear:n=2", 2, 4, 4, 2, 1e-2f, 5e-3);
    check_spec("res[ sc:n=3,l1=0.05 ] linear:n=2", 3, 4, 4, 2, 2e-4f, 2e-2);
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
    size_t np = scn_net_param_count(net), lam = 9 * 4, j;
    float before[256], v;
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
    /* to the floor that keeps it > 0 (SCN eqs. 1, 6), no longer to 0 */
    /* within float rounding: s390x under qemu lands an ulp away */
    CHECK(fabsf(p[lam] - SCN_LAMBDA1_MIN) <= 1e-6f * SCN_LAMBDA1_MIN,
          "lambda1 = %.9g after the projection (floor %.9g)", p[lam], SCN_LAMBDA1_MIN);
    CHECK_NEAR(p[0], before[0] * (1.0f - 0.5f * 0.1f), 1e-6);     /* decay on D */
    CHECK(p[lam + 1] == before[lam + 1], "BN scale decayed");      /* no decay on BN */
    CHECK(p[np - 1] == before[np - 1], "linear bias decayed");
    CHECK(opt.steps == 1, "%lld steps counted", (long long)opt.steps);
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

    /* per-layer learning-rate scale, Nesterov momentum by hand, no decay on
     * biases: linear:n=1 on 1 input, weight w then bias b */
    net = scn_net_create("linear:n=1,lr=0.5", 1, 1, 1, 1);
    memset(&d, 0, sizeof d);
    d.lr = 0.1f; d.momentum = 0.9f; d.weight_decay = 0.01f; d.nesterov = 1;
    CHECK(net && scn_sgd_init(&opt, net, &d) == SCN_OK, "%s", scn_error());
    p = scn_net_params(net);
    g = scn_net_grads(net);
    p[0] = 2.0f; p[1] = 1.0f;
    for (j = 0; j < 2; j++) {
        float w0 = p[0], dw = 0.3f + 0.01f * w0;       /* step 1: v = dw */
        g[0] = 0.3f; g[1] = -0.2f;
        v = j == 0 ? dw : 0.9f * (0.3f + 0.01f * 2.0f) + dw;
        CHECK(scn_sgd_step(&opt, net, scn_sgd_lr(&opt, 0)) == SCN_OK, "%s", scn_error());
        CHECK_NEAR(p[0], w0 - 0.05f * (dw + 0.9f * v), 1e-6);
    }
    CHECK_NEAR(p[1], 1.0f - 0.05f * (-0.2f + 0.9f * -0.2f) -
                     0.05f * (-0.2f + 0.9f * (0.9f * -0.2f - 0.2f)), 1e-6);
    scn_sgd_free(&opt);
    /* cosine: lr at epoch e of E is lr (1 + cos(pi e / E)) / 2 */
    memset(&d, 0, sizeof d);
    d.lr = 0.2f; d.schedule = SCN_LR_COSINE; d.epochs = 4;
    CHECK(scn_sgd_init(&opt, net, &d) == SCN_OK, "%s", scn_error());
    CHECK_NEAR(scn_sgd_lr(&opt, 0), 0.2, 1e-7);
    CHECK_NEAR(scn_sgd_lr(&opt, 2), 0.1, 1e-7);
    CHECK_NEAR(scn_sgd_lr(&opt, 1), 0.1 * (1 + sqrt(0.5)), 1e-6);
    scn_sgd_free(&opt);
    d.epochs = 0;
    CHECK(scn_sgd_init(&opt, net, &d) == SCN_ERR_ARG, "cosine without epochs accepted");
    scn_net_free(net);
}

/* Projections run every step; sc:norm keeps every atom within the bound. */
static void test_projection(void) {
    scn_net *net = scn_net_create("sc:n=3,k=1,norm=0.5 linear:n=2", 2, 2, 2, 1);
    scn_sgd opt;
    float *p;
    int j;
    CHECK(net && scn_sgd_init(&opt, net, NULL) == SCN_OK, "%s", scn_error());
    if (!net) return;
    p = scn_net_params(net);
    scn_net_zero_grad(net);
    CHECK(scn_sgd_step(&opt, net, 0.1f) == SCN_OK, "%s", scn_error());
    for (j = 0; j < 3; j++)
        CHECK(sqrt((double)p[j] * p[j] + (double)p[3 + j] * p[3 + j]) <= 0.5 + 1e-6,
              "atom %d has norm %g over 0.5", j,
              sqrt((double)p[j] * p[j] + (double)p[3 + j] * p[3 + j]));
    scn_sgd_free(&opt);
    scn_net_free(net);
}

static void test_specs(void) {
    static const char *bad[] = { "sc:n=0", "wat", "conv:n=4,q=2", "sc:n=x", "linear",
                                 "maxpool:k=9", "", "dropout:p=1", "relu:k=2",
                                 "sc:n=4,n=5", "conv:n=2.5", "sf:n=4,k=3", "csf:n=2,k=9",
                                 "res[ relu", "relu ]", "res relu", "res[ ]", "[ relu ]",
                                 "conv:n=2,s=0", "res[ conv:n=2,k=2,valid ]" };
    size_t i;
    scn_net *net;
    char line[200];
    const scn_kind_info *k;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        net = scn_net_create(bad[i], 1, 4, 4, 1);
        CHECK(net == NULL && scn_error()[0], "spec '%s' accepted", bad[i]);
        scn_net_free(net);
    }
    /* an option the kind does not have names the kind and its options */
    net = scn_net_create("bn:l1=3 gap linear:n=10", 1, 4, 4, 1);
    CHECK(net == NULL && strstr(scn_error(), "'bn'") && strstr(scn_error(), "lr, frozen"),
          "bn:l1=3: %s", scn_error());
    /* an explicit 0 is 0, not the default */
    net = scn_net_create("sc:n=4,l1=0,l2=0.5 linear:n=2", 1, 4, 4, 1);
    CHECK(net && scn_net_params(net)[9 * 4] == 0.0f, "sc:l1=0: lambda1 %g",
          net ? scn_net_params(net)[9 * 4] : -1.0f);
    scn_net_free(net);
    net = scn_net_create("scn-mnist", 1, 28, 28, 1);
    CHECK(net && scn_net_classes(net) == 10, "scn-mnist: %s", scn_error());
    if (net) {
        scn_net_describe(net, 0, line, sizeof line);
        CHECK(strstr(line, "sc") && strstr(line, "lambda1 0.1"), "describe: %s", line);
        scn_net_free(net);
    }
    net = scn_net_create("lenet", 1, 28, 28, 1);
    CHECK(net && scn_net_classes(net) == 10 && scn_net_param_count(net) == 61706,
          "lenet: %s", net ? "wrong size" : scn_error());
    scn_net_free(net);
    net = scn_net_create("scn-cifar", 3, 32, 32, 1);
    CHECK(net && scn_net_layer_count(net) == 30, "scn-cifar: %s", scn_error());
    scn_net_free(net);
    /* resnet-tiny: 2 blocks, the second with a projection, numbered in order */
    net = scn_net_create("resnet-tiny", 1, 28, 28, 1);
    CHECK(net != NULL, "resnet-tiny: %s", scn_error());
    if (net) {
        size_t count, off = scn_net_layer_params(net, 10, &count);
        CHECK(scn_net_layer_count(net) == 20, "resnet-tiny: %d layers",
              scn_net_layer_count(net));
        CHECK(!strcmp(scn_net_layer_kind(net, 3), "res") &&
              !strcmp(scn_net_layer_kind(net, 10), "res") &&
              !strcmp(scn_net_layer_kind(net, 16), "conv"), "resnet-tiny: numbering");
        CHECK(off + count == scn_net_param_count(net) - (16 * 10 + 10),
              "resnet-tiny: the second block's parameters end at %zu", off + count);
        scn_net_describe(net, 4, line, sizeof line);
        CHECK(strstr(line, "   conv") != NULL, "a body layer is not indented: %s", line);
        scn_net_free(net);
    }
    /* the kind tables: every kind found by name, every option documented */
    CHECK(scn_kind_count() >= 11, "%d kinds", scn_kind_count());
    for (i = 0; (int)i < scn_kind_count(); i++) {
        int j;
        k = scn_kind((int)i);
        CHECK(k && scn_kind_find(k->name) == k && k->help[0], "kind %zu", i);
        for (j = 0; k && j < k->option_count; j++)
            CHECK(k->options[j].help[0] && k->options[j].min <= k->options[j].max,
                  "%s:%s", k->name, k->options[j].name);
    }
    CHECK(scn_kind(-1) == NULL && scn_kind(scn_kind_count()) == NULL &&
          scn_kind_find("nope") == NULL, "out of range kinds");
}

/* Values that leave float range in a layer are an error naming it, never
 * logits of NaN that an argmax would read as an answer. */
static void test_nonfinite_forward(void) {
    scn_net *net = scn_net_create("linear:n=3 relu linear:n=2", 1, 1, 2, 1);
    float x[4] = { 1.0f, 2.0f, 3.0f, 4.0f };
    CHECK(net && scn_net_forward(net, x, 2, 0) != NULL, "%s", scn_error());
    if (!net) return;
    scn_net_params(net)[0] = 3e38f;                 /* the first weight: overflows */
    x[0] = 1e10f;
    CHECK(scn_net_forward(net, x, 2, 0) == NULL, "an overflowing forward passed");
    CHECK(strstr(scn_error(), "layer 1 (linear)") != NULL, "message: %s", scn_error());
    scn_net_free(net);
}

/* A net whose parameters or activations a 32-bit size_t cannot address is
 * refused with a message, not wrapped into a small allocation: 2^32
 * weights of a linear layer over a 256 x 256 image. On 64-bit targets the
 * same spec is 16 GiB, which the test does not allocate. */
static void test_too_large(void) {
    scn_net *net;
    if (sizeof(size_t) >= 8) {
        CHECK((uint64_t)65536 * 65536 * sizeof(float) <= SIZE_MAX, "64-bit size_t");
        return;
    }
    scn_error_clear();
    net = scn_net_create("linear:n=65536", 1, 256, 256, 1);
    CHECK(net == NULL && scn_error()[0] != '\0', "a net of 2^32 weights on 32-bit: %s",
          net ? "created" : scn_error());
    scn_net_free(net);
    net = scn_net_create("conv:n=65536,k=1", 1, 256, 256, 1);
    CHECK(net == NULL && scn_error()[0] != '\0', "2^32 activations per image on 32-bit: %s",
          net ? "created" : scn_error());
    scn_net_free(net);
}

/* `local`: the unsupervised loss stops at the layer. The layers below get
 * exactly the supervised gradient: with mu and dlogits scaled by 1 - mu,
 * the convolution's gradient and dx equal those of mu = 0, bit for bit,
 * while the SF layer's own gradient differs (its l_U term). */
static void test_local(void) {
    enum { N = 3, K = 2 };
    scn_net *net = scn_net_create("conv:n=2,k=3 sf:n=6,l1=0.05,local linear:n=2", 1, 4, 4, 5);
    float x[N * 16], d[N * K], dx[2][N * 16], *g[2];
    size_t np, conv, sf, nsf;
    int i, run, diff = 0;
    scn_rng r;
    CHECK(net != NULL, "%s", scn_error());
    if (!net) return;
    np = scn_net_param_count(net);
    scn_net_layer_params(net, 0, &conv);
    sf = scn_net_layer_params(net, 1, &nsf);
    scn_rng_seed(&r, 8, 8);
    for (i = 0; i < N * 16; i++) x[i] = scn_rng_uniform(&r);
    for (i = 0; i < N * K; i++) d[i] = 0.5f * scn_rng_normal(&r);
    for (run = 0; run < 2; run++) {
        g[run] = (float *)malloc(np * sizeof(float));
        CHECK(scn_net_set_mu(net, run ? 0.0f : 0.4f) == SCN_OK, "%s", scn_error());
        scn_net_zero_grad(net);
        CHECK(scn_net_forward(net, x, N, 1) != NULL, "%s", scn_error());
        CHECK(run || scn_net_extra_loss(net) > 0.0, "no unsupervised loss at mu 0.4");
        CHECK(scn_net_backward(net, d, dx[run]) == SCN_OK, "%s", scn_error());
        memcpy(g[run], scn_net_grads(net), np * sizeof(float));
    }
    CHECK(!memcmp(g[0], g[1], conv * sizeof(float)), "local: the convolution saw l_U");
    CHECK(!memcmp(dx[0], dx[1], sizeof dx[0]), "local: dx saw l_U");
    for (i = 0; i < (int)nsf; i++) diff += g[0][sf + i] != g[1][sf + i];
    CHECK(diff > 0, "local: the SF dictionary did not see l_U");
    free(g[0]);
    free(g[1]);
    scn_net_free(net);
}

/* ---- the semi-supervised epoch (SF section 4.4) on a data set in memory ---- */

enum { MEM_COUNT = 24, MEM_LABELLED = 8, MEM_SIDE = 4 };
static unsigned char mem_labels[MEM_COUNT];
static int mem_label_reads[MEM_COUNT], mem_reads[MEM_COUNT];

/* item i: a 4 x 4 pattern of its class (i % 2), labels counted as read */
static scn_status mem_read(scn_dataset *ds, const int *idx, int n, float *x,
                           unsigned char *labels) {
    int i, p;
    (void)ds;
    for (i = 0; i < n; i++) {
        for (p = 0; p < MEM_SIDE * MEM_SIDE; p++)
            x[i * MEM_SIDE * MEM_SIDE + p] =
                (float)((p % 2 == idx[i] % 2) + 0.1 * ((idx[i] * 7 + p) % 5));
        mem_reads[idx[i]]++;
        if (labels) {
            labels[i] = mem_labels[idx[i]];
            mem_label_reads[idx[i]]++;
        }
    }
    return SCN_OK;
}

/* The labelled items are the first 8; the rest go in unlabelled. With mu =
 * 1 only the unsupervised loss trains: the classifier after the SF layer
 * keeps its weights while the dictionary moves; each step reads a batch of
 * unlabelled items but never their labels; mu is off again after the epoch; a net
 * without a sparse-coding layer refuses mu > 0. */
static void test_semisupervised_epoch(void) {
    scn_dataset ds;
    scn_net *net = scn_net_create("sf:n=6,l1=0.05 linear:n=2", 1, MEM_SIDE, MEM_SIDE, 3);
    scn_sgd opt;
    scn_sgd_desc sd;
    scn_train_state st;
    scn_train_desc td;
    scn_pass_result res;
    int items[MEM_LABELLED], rest[MEM_COUNT - MEM_LABELLED], i, changed = 0, reads = 0;
    size_t nd, nl, od, ol;
    float *before;
    memset(&ds, 0, sizeof ds);
    ds.count = MEM_COUNT; ds.C = 1; ds.H = ds.W = MEM_SIDE; ds.classes = 2;
    ds.labels = mem_labels;
    ds.read = mem_read;
    for (i = 0; i < MEM_COUNT; i++) mem_labels[i] = (unsigned char)(i % 2);
    for (i = 0; i < MEM_LABELLED; i++) items[i] = i;
    for (i = 0; i < MEM_COUNT - MEM_LABELLED; i++) rest[i] = MEM_LABELLED + i;
    CHECK(net != NULL, "%s", scn_error());
    if (!net) return;
    memset(&sd, 0, sizeof sd);
    sd.lr = 0.05f;
    sd.weight_decay = -1.0f;                        /* none: a still weight stays still */
    CHECK(scn_sgd_init(&opt, net, &sd) == SCN_OK, "%s", scn_error());
    memset(&st, 0, sizeof st);
    st.mean[0] = 0.0f; st.std[0] = 1.0f;
    scn_rng_seed(&st.rng, 1, 1);
    memset(&td, 0, sizeof td);
    td.batch = 4;
    td.items = items; td.item_count = MEM_LABELLED;
    td.unlabelled = rest; td.unlabelled_count = MEM_COUNT - MEM_LABELLED;
    td.mu = 1.0f;
    od = scn_net_layer_params(net, 0, &nd);
    ol = scn_net_layer_params(net, 1, &nl);
    before = (float *)malloc(scn_net_param_count(net) * sizeof *before);
    memcpy(before, scn_net_params(net), scn_net_param_count(net) * sizeof *before);
    for (i = 0; i < 3; i++)
        CHECK(scn_train_epoch(net, &opt, &ds, &st, &td, &res) == SCN_OK, "%s", scn_error());
    CHECK(!memcmp(before + ol, scn_net_params(net) + ol, nl * sizeof *before),
          "mu = 1 moved the classifier");
    for (i = 0; i < (int)nd; i++) changed += before[od + i] != scn_net_params(net)[od + i];
    CHECK(changed > 0, "mu = 1 left the dictionary as it was");
    CHECK(res.loss > 0.0 && res.images == MEM_LABELLED, "loss %g over %ld images", res.loss,
          res.images);
    for (i = MEM_LABELLED; i < MEM_COUNT; i++) {
        CHECK(mem_label_reads[i] == 0, "the label of unlabelled item %d was read", i);
        reads += mem_reads[i];
    }
    /* 3 epochs of 2 steps, each with a batch of 4 unlabelled items */
    CHECK(reads == 3 * 2 * 4, "%d unlabelled reads, not 24", reads);
    CHECK(scn_net_forward(net, before, 1, 1) && scn_net_extra_loss(net) == 0.0,
          "mu still set after the epoch");
    td.mu = 1.5f;
    CHECK(scn_train_epoch(net, &opt, &ds, &st, &td, &res) == SCN_ERR_ARG &&
          strstr(scn_error(), "[0, 1]"), "mu 1.5: %s", scn_error());
    scn_sgd_free(&opt);
    scn_net_free(net);
    net = scn_net_create("linear:n=2", 1, MEM_SIDE, MEM_SIDE, 3);
    CHECK(net && scn_sgd_init(&opt, net, &sd) == SCN_OK, "%s", scn_error());
    td.mu = 0.5f;
    CHECK(scn_train_epoch(net, &opt, &ds, &st, &td, &res) == SCN_ERR_ARG &&
          strstr(scn_error(), "sparse-coding"), "mu without an SC layer: %s", scn_error());
    scn_sgd_free(&opt);
    scn_net_free(net);
    free(before);
}

/* A batch's forward equals its images' forwards one at a time, bit for bit:
 * every patch is its own problem, whatever group of images an sc, csf or
 * sf layer solves it in (SCN_SC_SCRATCH; test_sc_groups.c runs this file
 * with one image per group). */
static void test_batch_is_images(void) {
    enum { N = 5, C = 2, H = 6, W = 6, K = 3 };
    static float x[N * C * H * W], whole[N * K];
    scn_net *net = scn_net_create("sc:n=8,l1=0.05 sc:n=4,k=1,l1=0.02 "
                                  "csf:n=4,k=3,l1=0.05 gap linear:n=3", C, H, W, 7);
    scn_rng r;
    const float *z;
    int i, j, differ = 0;
    CHECK(net != NULL, "net: %s", scn_error());
    if (!net) return;
    scn_rng_seed(&r, 5, 1);
    for (i = 0; i < N * C * H * W; i++) x[i] = scn_rng_normal(&r);
    CHECK(scn_net_set_eval_tol(net, 0.0f) == SCN_OK, "%s", scn_error());
    z = scn_net_forward(net, x, N, 0);
    CHECK(z != NULL, "batch forward: %s", scn_error());
    if (z) memcpy(whole, z, sizeof whole);
    for (i = 0; i < N && z; i++) {
        z = scn_net_forward(net, x + (size_t)i * C * H * W, 1, 0);
        CHECK(z != NULL, "forward of image %d: %s", i, scn_error());
        for (j = 0; z && j < K; j++) differ += z[j] != whole[i * K + j];
    }
    CHECK(differ == 0, "%d of %d logits differ between the batch and its images", differ,
          N * K);
    scn_net_free(net);
}

int main(void) {
    test_batch_is_images();
    test_too_large();
    test_semisupervised_epoch();
    test_local();
    test_gradients();
    test_nonfinite_forward();
    test_bn_modes();
    test_sgd();
    test_projection();
    test_specs();
    return check_summary("layers");
}
