/* test_csc.c - the csc layer (SDNet): its forward against FISTA written
 * with direct convolutions (SDNet eqs. 3, 6, 7, 8) in double; the FISTA
 * objective (eq. 4) falling with more iterations; the power iteration
 * (appendix eqs. 9-10) against the largest eigenvalue of A^T A built
 * densely; unit-norm atoms and a fresh lambda_K after an optimiser step;
 * lambda changed at test time; the residuals of Algorithm 1 and the
 * reconstruction A(z); the unrolled gradient of many steps against the
 * fixed-point one; the presets; scn_corrupt's statistics per noise and severity
 * (CIFAR-10-C) and its refusals. Gradients are in test_layers.c. */
#include "../scn.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>

/* a csc layer's geometry for the naive operators */
typedef struct geo { int n, C, H, W, k, s, pad, Ho, Wo; } geo;

/* x (C x H x W) = A(z) (eq. 3): transposed convolution of z (n x Ho x Wo) */
static void naive_A(const geo *g, const float *Wt, const double *z, double *x) {
    int j, c, oy, ox, i, q;
    memset(x, 0, sizeof(double) * g->C * g->H * g->W);
    for (j = 0; j < g->n; j++)
        for (oy = 0; oy < g->Ho; oy++)
            for (ox = 0; ox < g->Wo; ox++) {
                double v = z[(j * g->Ho + oy) * g->Wo + ox];
                for (c = 0; c < g->C; c++)
                    for (i = 0; i < g->k; i++)
                        for (q = 0; q < g->k; q++) {
                            int yy = oy * g->s - g->pad + i, xx = ox * g->s - g->pad + q;
                            if (yy < 0 || yy >= g->H || xx < 0 || xx >= g->W) continue;
                            x[(c * g->H + yy) * g->W + xx] +=
                                v * Wt[((j * g->C + c) * g->k + i) * g->k + q];
                        }
            }
}

/* z (n x Ho x Wo) = A^*(x) (eq. 7): the convolution (correlation) of x */
static void naive_At(const geo *g, const float *Wt, const double *x, double *z) {
    int j, c, oy, ox, i, q;
    for (j = 0; j < g->n; j++)
        for (oy = 0; oy < g->Ho; oy++)
            for (ox = 0; ox < g->Wo; ox++) {
                double s = 0.0;
                for (c = 0; c < g->C; c++)
                    for (i = 0; i < g->k; i++)
                        for (q = 0; q < g->k; q++) {
                            int yy = oy * g->s - g->pad + i, xx = ox * g->s - g->pad + q;
                            if (yy < 0 || yy >= g->H || xx < 0 || xx >= g->W) continue;
                            s += x[(c * g->H + yy) * g->W + xx] *
                                 Wt[((j * g->C + c) * g->k + i) * g->k + q];
                        }
                z[(j * g->Ho + oy) * g->Wo + ox] = s;
            }
}

/* T FISTA steps (eq. 6) from z = 0 for one sample, step t = 0.9 / lk */
static void naive_fista(const geo *g, const float *Wt, const float *x, double lambda,
                        double lk, int T, int nonneg, double *z) {
    int nz = g->n * g->Ho * g->Wo, nx = g->C * g->H * g->W, i, it;
    double *y = (double *)calloc(nz, sizeof(double)), *zp = (double *)calloc(nz, sizeof(double));
    double *r = (double *)calloc(nx, sizeof(double)), *u = (double *)calloc(nz, sizeof(double));
    double t = 0.9 / lk, m = 1.0;
    memset(z, 0, sizeof(double) * nz);
    for (it = 1; it <= T; it++) {
        double mn, c;
        naive_A(g, Wt, y, r);
        for (i = 0; i < nx; i++) r[i] = x[i] - r[i];
        naive_At(g, Wt, r, u);
        for (i = 0; i < nz; i++) {
            double v = y[i] + t * u[i], th = lambda * t;
            zp[i] = z[i];
            z[i] = v > th ? v - th : !nonneg && v < -th ? v + th : 0.0;    /* eq. 8 */
        }
        mn = (1.0 + sqrt(1.0 + 4.0 * m * m)) / 2.0;
        c = (m - 1.0) / mn;
        for (i = 0; i < nz; i++) y[i] = z[i] + c * (z[i] - zp[i]);
        m = mn;
    }
    free(y); free(zp); free(r); free(u);
}

/* lambda |z|_1 + 1/2 |x - A(z)|^2 (eq. 4) */
static double objective(const geo *g, const float *Wt, const float *x, const double *z,
                        double lambda) {
    int nz = g->n * g->Ho * g->Wo, nx = g->C * g->H * g->W, i;
    double *r = (double *)calloc(nx, sizeof(double)), f = 0.0;
    naive_A(g, Wt, z, r);
    for (i = 0; i < nx; i++) f += 0.5 * (x[i] - r[i]) * (x[i] - r[i]);
    for (i = 0; i < nz; i++) f += lambda * fabs(z[i]);
    free(r);
    return f;
}

static float lambda_k(scn_net *net) {
    size_t count;
    return scn_net_buffers(net, &count)[0];
}

/* the layer's output equals FISTA by direct convolutions, both strides, signed and >= 0 */
static void test_forward(void) {
    static const char *specs[] = { "csc:n=4,k=3,l1=0.05,iters=3 flatten",
                                   "csc:n=3,k=3,s=2,l1=0.1,iters=4,nonneg flatten",
                                   "csc:n=5,k=5,s=2,valid,l1=0.02 flatten" };
    int which;
    for (which = 0; which < 3; which++) {
        enum { N = 2, C = 2, H = 7, W = 6 };
        scn_net *net = scn_net_create(specs[which], C, H, W, 11);
        float x[N * C * H * W];
        const float *out;
        double *z, worst = 0.0, top = 0.0;
        geo g;
        scn_rng r;
        int b, i, nz, k[3] = { 3, 3, 5 }, s[3] = { 1, 2, 2 }, T[3] = { 3, 4, 2 };
        double lam[3] = { 0.05, 0.1, 0.02 };
        CHECK(net != NULL, "%s: %s", specs[which], scn_error());
        if (!net) continue;
        g.n = which == 0 ? 4 : which == 1 ? 3 : 5;
        g.C = C; g.H = H; g.W = W; g.k = k[which]; g.s = s[which];
        g.pad = which == 2 ? 0 : (g.k - 1) / 2;
        g.Ho = (H + 2 * g.pad - g.k) / g.s + 1;
        g.Wo = (W + 2 * g.pad - g.k) / g.s + 1;
        nz = g.n * g.Ho * g.Wo;
        CHECK(scn_net_classes(net) == nz, "%s: %d outputs, want %d", specs[which],
              scn_net_classes(net), nz);
        scn_rng_seed(&r, 5, which);
        for (i = 0; i < N * C * H * W; i++) x[i] = scn_rng_uniform(&r);
        out = scn_net_forward(net, x, N, 0);
        CHECK(out != NULL, "%s: %s", specs[which], scn_error());
        if (!out) { scn_net_free(net); continue; }
        z = (double *)calloc(nz, sizeof(double));
        for (b = 0; b < N; b++) {
            naive_fista(&g, scn_net_params(net), x + b * C * H * W, lam[which],
                        lambda_k(net), T[which], which == 1, z);
            for (i = 0; i < nz; i++) {
                worst = fmax(worst, fabs(z[i] - out[b * nz + i]));
                top = fmax(top, fabs(z[i]));
            }
        }
        CHECK(top > 0.05 && worst <= 1e-5, "%s: max |z| %g, off by %g", specs[which], top,
              worst);
        free(z);
        scn_net_free(net);
    }
}

/* more FISTA steps, a smaller objective; many, close to the minimum */
static void test_objective(void) {
    enum { C = 1, H = 8, W = 8 };
    static const int iters[] = { 1, 2, 5, 20, 100, 400 };
    double f[6], z[6 * 8 * 8];
    float x[C * H * W];
    geo g = { 6, C, H, W, 3, 1, 1, 8, 8 };
    scn_rng r;
    int i, j;
    scn_rng_seed(&r, 9, 9);
    for (i = 0; i < C * H * W; i++) x[i] = scn_rng_uniform(&r);
    for (j = 0; j < 6; j++) {
        char spec[64];
        scn_net *net;
        const float *out;
        snprintf(spec, sizeof spec, "csc:n=6,l1=0.1,iters=%d flatten", iters[j]);
        net = scn_net_create(spec, C, H, W, 3);
        out = net ? scn_net_forward(net, x, 1, 0) : NULL;
        CHECK(out != NULL, "%s: %s", spec, scn_error());
        if (!out) { scn_net_free(net); return; }
        for (i = 0; i < 6 * 8 * 8; i++) z[i] = out[i];
        f[j] = objective(&g, scn_net_params(net), x, z, 0.1);
        scn_net_free(net);
    }
    for (j = 1; j < 6; j++)
        CHECK(f[j] < f[j - 1], "objective after %d steps %.9g, after %d %.9g", iters[j], f[j],
              iters[j - 1], f[j - 1]);
    CHECK(f[4] - f[5] < 1e-3 * f[5], "100 steps %.9g, 400 %.9g: not converging", f[4], f[5]);
}

/* lambda_K from the power iteration against the dense A^T A's eigenvalues */
static void test_power(void) {
    enum { n = 3, C = 2, H = 5, W = 4 };
    geo g = { n, C, H, W, 3, 1, 1, 5, 4 };
    int nz = n * H * W, i, j, iters = 0;
    scn_net *net = scn_net_create("csc:n=3 flatten", C, H, W, 21);
    double *M = (double *)calloc((size_t)nz * nz, sizeof(double)), *e, *V, lam = 0.0;
    double *x = (double *)calloc(C * H * W, sizeof(double));
    scn_conv_geom cg;
    CHECK(net != NULL, "%s", scn_error());
    if (!net) return;
    e = (double *)calloc(nz, sizeof(double));
    V = (double *)calloc((size_t)nz * nz, sizeof(double));
    for (j = 0; j < nz; j++) {          /* column j of A^*A: A^*A e_j */
        double *ej = (double *)calloc(nz, sizeof(double)), *col = (double *)calloc(nz, 8);
        ej[j] = 1.0;
        naive_A(&g, scn_net_params(net), ej, x);
        naive_At(&g, scn_net_params(net), x, col);
        for (i = 0; i < nz; i++) M[(size_t)i * nz + j] = col[i];
        free(ej); free(col);
    }
    CHECK(scn_sym_eigen(M, nz, e, V) == SCN_OK, "%s", scn_error());
    CHECK(scn_conv_geom_init(&cg, 1, C, H, W, 3, 1, 1) == SCN_OK, "%s", scn_error());
    CHECK(scn_csc_power(&cg, scn_net_params(net), n, &lam, &iters) == SCN_OK, "%s",
          scn_error());
    /* a Rayleigh quotient never exceeds the top eigenvalue; within 1% after
     * at most 50 steps (the paper's cap) even with the next one 2% below */
    CHECK(lam <= e[0] * (1.0 + 1e-6) && lam >= 0.99 * e[0] && iters >= 1 && iters <= 50,
          "power iteration %.9g after %d steps, dense %.9g (next %.9g)", lam, iters, e[0],
          e[1]);
    CHECK(fabs(lambda_k(net) - lam) <= 1e-5 * lam, "the layer's lambda_K %.9g, %.9g",
          (double)lambda_k(net), lam);
    CHECK(scn_csc_power(&cg, scn_net_params(net), 0, &lam, NULL) == SCN_ERR_ARG,
          "0 atoms accepted");
    /* windows that do not overlap (k = s = 3, unpadded): A^*A is the atoms'
     * Gram matrix W W^T on every window, whose eigenvalues are well apart,
     * so the 50 steps reach the top one closely */
    {
        scn_net *tiled = scn_net_create("csc:n=3,k=3,s=3,valid flatten", 2, 6, 6, 5);
        const float *Wt;
        double G[9], ge[3], gv[9];
        int a2, b2, q;
        CHECK(tiled != NULL, "%s", scn_error());
        if (tiled) {
            Wt = scn_net_params(tiled);
            for (a2 = 0; a2 < 3; a2++)
                for (b2 = 0; b2 < 3; b2++) {
                    double s = 0.0;
                    for (q = 0; q < 18; q++) s += (double)Wt[a2 * 18 + q] * Wt[b2 * 18 + q];
                    G[a2 * 3 + b2] = s;
                }
            CHECK(scn_sym_eigen(G, 3, ge, gv) == SCN_OK, "%s", scn_error());
            CHECK(scn_conv_geom_init(&cg, 1, 2, 6, 6, 3, 3, 0) == SCN_OK, "%s", scn_error());
            CHECK(scn_csc_power(&cg, Wt, 3, &lam, &iters) == SCN_OK, "%s", scn_error());
            CHECK(fabs(lam - ge[0]) <= 1e-4 * ge[0] && ge[0] - ge[1] > 0.05 * ge[0],
                  "tiled: power iteration %.9g after %d steps, Gram eigenvalues %.9g %.9g",
                  lam, iters, ge[0], ge[1]);
            scn_net_free(tiled);
        }
    }
    free(M); free(e); free(V); free(x);
    scn_net_free(net);
}

/* after a step every atom has norm 1 and lambda_K is the new dictionary's */
static void test_projection(void) {
    enum { C = 2, H = 6, W = 6, n = 5, m = C * 9 };
    scn_net *net = scn_net_create("csc:n=5 flatten", C, H, W, 2);
    scn_sgd opt;
    scn_sgd_desc sd;
    scn_conv_geom cg;
    float *p, *gr, before;
    double lam = 0.0, worst = 0.0;
    size_t i, np;
    int j;
    CHECK(net != NULL, "%s", scn_error());
    if (!net) return;
    memset(&sd, 0, sizeof sd);
    sd.lr = 0.5f;
    CHECK(scn_sgd_init(&opt, net, &sd) == SCN_OK, "%s", scn_error());
    np = scn_net_param_count(net);
    p = scn_net_params(net);
    gr = scn_net_grads(net);
    for (j = 0; j < n; j++) {           /* init: unit atoms too */
        double s = 0.0;
        for (i = 0; i < m; i++) s += (double)p[j * m + i] * p[j * m + i];
        worst = fmax(worst, fabs(sqrt(s) - 1.0));
    }
    CHECK(worst < 1e-6, "init: an atom's norm is off 1 by %g", worst);
    for (i = 0; i < np; i++) gr[i] = (float)(i % 7) - 3.0f;
    before = lambda_k(net);
    CHECK(scn_sgd_step(&opt, net, 0.5f) == SCN_OK, "%s", scn_error());
    worst = 0.0;
    for (j = 0; j < n; j++) {
        double s = 0.0;
        for (i = 0; i < m; i++) s += (double)p[j * m + i] * p[j * m + i];
        worst = fmax(worst, fabs(sqrt(s) - 1.0));
    }
    CHECK(worst < 1e-6, "after a step: an atom's norm is off 1 by %g", worst);
    CHECK(scn_conv_geom_init(&cg, 1, C, H, W, 3, 1, 1) == SCN_OK, "%s", scn_error());
    CHECK(scn_csc_power(&cg, p, n, &lam, NULL) == SCN_OK, "%s", scn_error());
    CHECK(fabs(lambda_k(net) - lam) <= 1e-5 * lam && lambda_k(net) != before,
          "lambda_K %.9g after the step (before %.9g), the dictionary's %.9g",
          (double)lambda_k(net), (double)before, lam);
    scn_sgd_free(&opt);
    scn_net_free(net);
}

/* lambda at test time: larger lambda, sparser codes and a larger residual;
 * the reconstruction input is the image; errors */
static void test_lambda_residual(void) {
    enum { N = 3, C = 1, H = 6, W = 6 };
    scn_net *net = scn_net_create("csc:n=8,l1=0.1 relu gap linear:n=2", C, H, W, 4);
    scn_net *plain = scn_net_create("conv:n=2 gap linear:n=2", C, H, W, 4);
    float x[N * C * H * W], r1[N], r2[N], in[N * C * H * W], rec[N * C * H * W];
    double worst = 0.0, d1, d2;
    scn_rng r;
    int i, shape[4];
    CHECK(net && plain, "%s", scn_error());
    if (!net || !plain) return;
    scn_rng_seed(&r, 1, 2);
    for (i = 0; i < N * C * H * W; i++) x[i] = scn_rng_uniform(&r);
    CHECK(scn_net_csc_residual(net, r1) == SCN_ERR_ARG && strstr(scn_error(), "evaluation"),
          "before a forward: \"%s\"", scn_error());
    CHECK(scn_net_forward(net, x, N, 1) != NULL, "%s", scn_error());
    CHECK(scn_net_csc_residual(net, r1) == SCN_ERR_ARG, "after a training forward");
    CHECK(scn_net_forward(net, x, N, 0) != NULL, "%s", scn_error());
    CHECK(scn_net_csc_residual(net, r1) == SCN_OK, "%s", scn_error());
    d1 = scn_net_layer_density(net, 0);
    CHECK(scn_net_sc_recon(net, 0, shape, in, rec) == SCN_OK && shape[0] == N &&
          shape[1] == C && shape[2] == H && shape[3] == W, "recon: %s", scn_error());
    for (i = 0; i < N * C * H * W; i++) worst = fmax(worst, fabs(in[i] - x[i]));
    CHECK(worst < 1e-5, "recon input off the image by %g", worst);
    for (i = 0; i < N; i++) {
        double s = 0.0;
        int j;
        for (j = 0; j < C * H * W; j++)
            s += (double)(x[i * C * H * W + j] - rec[i * C * H * W + j]) *
                 (x[i * C * H * W + j] - rec[i * C * H * W + j]);
        CHECK(fabs(sqrt(s) - r1[i]) <= 1e-4 * sqrt(s), "sample %d: residual %g, |x - A(z)| %g",
              i, (double)r1[i], sqrt(s));
    }
    CHECK(same_float(scn_net_csc_lambda(net, -1), 0.1f) && scn_net_csc_lambda(net, 1) == -1.0f &&
          scn_net_csc_lambda(plain, -1) == -1.0f, "lambda getter");
    CHECK(scn_net_set_csc_lambda(net, -1, 0.6f) == SCN_OK && same_float(scn_net_csc_lambda(net, 0), 0.6f),
          "%s", scn_error());
    CHECK(scn_net_forward(net, x, N, 0) != NULL, "%s", scn_error());
    CHECK(scn_net_csc_residual(net, r2) == SCN_OK, "%s", scn_error());
    d2 = scn_net_layer_density(net, 0);
    for (i = 0; i < N; i++)
        CHECK(r2[i] > r1[i], "sample %d: lambda 0.6 residual %g, 0.1 %g", i, (double)r2[i],
              (double)r1[i]);
    CHECK(d2 < d1, "density %g at lambda 0.6, %g at 0.1", d2, d1);
    CHECK(scn_net_set_csc_lambda(net, 1, 0.2f) == SCN_ERR_ARG &&
          strstr(scn_error(), "not csc"), "layer 2: \"%s\"", scn_error());
    CHECK(scn_net_set_csc_lambda(net, 0, -1.0f) == SCN_ERR_ARG, "lambda -1 accepted");
    CHECK(scn_net_set_csc_lambda(plain, -1, 0.2f) == SCN_ERR_ARG &&
          strstr(scn_error(), "no csc"), "no csc layer: \"%s\"", scn_error());
    CHECK(scn_net_forward(plain, x, N, 0) && scn_net_csc_residual(plain, r1) == SCN_ERR_ARG,
          "residual of a net without csc");
    CHECK(scn_net_create("csc:n=4,fixed flatten", 1, 4, 4, 1) == NULL &&
          strstr(scn_error(), "l2 > 0"), "fixed without l2: \"%s\"", scn_error());
    scn_net_free(net);
    scn_net_free(plain);
}

/* scn_corrupt: mean and spread of the change per noise and severity */
static void test_corrupt(void) {
    enum { COUNT = 200000 };
    static const double gauss[5] = { 0.04, 0.06, 0.08, 0.09, 0.10 };
    static const double shot[5] = { 500, 250, 100, 75, 50 };
    static const double speckle[5] = { 0.06, 0.10, 0.12, 0.16, 0.20 };
    static const double impulse[5] = { 0.01, 0.02, 0.03, 0.05, 0.07 };
    float *x = (float *)malloc(COUNT * sizeof *x);
    scn_rng r;
    int sev;
    size_t i;
    scn_rng_seed(&r, 77, 1);
    for (sev = 1; sev <= 5; sev++) {
        double m, v, changed;
        /* gaussian on 0.5 (never clipped at these levels): mean 0.5, sd c */
        for (i = 0; i < COUNT; i++) x[i] = 0.5f;
        CHECK(scn_corrupt(x, COUNT, "gaussian", sev, &r) == SCN_OK, "%s", scn_error());
        for (m = v = 0.0, i = 0; i < COUNT; i++) { m += x[i]; v += (x[i] - 0.5) * (x[i] - 0.5); }
        m /= COUNT; v = sqrt(v / COUNT);
        CHECK(fabs(m - 0.5) < 1e-3 && fabs(v - gauss[sev - 1]) < 0.01 * gauss[sev - 1],
              "gaussian %d: mean %g, sd %g", sev, m, v);
        /* shot on 0.4: Poisson(0.4 c) / c, mean 0.4, variance 0.4 / c */
        for (i = 0; i < COUNT; i++) x[i] = 0.4f;
        CHECK(scn_corrupt(x, COUNT, "shot", sev, &r) == SCN_OK, "%s", scn_error());
        for (m = v = 0.0, i = 0; i < COUNT; i++) { m += x[i]; v += (x[i] - 0.4) * (x[i] - 0.4); }
        m /= COUNT; v /= COUNT;
        CHECK(fabs(m - 0.4) < 1e-3 && fabs(v - 0.4 / shot[sev - 1]) < 0.02 * 0.4 / shot[sev - 1],
              "shot %d: mean %g, variance %g, want %g", sev, m, v, 0.4 / shot[sev - 1]);
        /* speckle on 0.5: sd 0.5 c */
        for (i = 0; i < COUNT; i++) x[i] = 0.5f;
        CHECK(scn_corrupt(x, COUNT, "speckle", sev, &r) == SCN_OK, "%s", scn_error());
        for (m = v = 0.0, i = 0; i < COUNT; i++) { m += x[i]; v += (x[i] - 0.5) * (x[i] - 0.5); }
        m /= COUNT; v = sqrt(v / COUNT);
        CHECK(fabs(m - 0.5) < 1e-3 && fabs(v - 0.5 * speckle[sev - 1]) <
              0.01 * 0.5 * speckle[sev - 1], "speckle %d: mean %g, sd %g", sev, m, v);
        /* impulse on 0.5: a fraction c set to 0 or 1, half each */
        for (i = 0; i < COUNT; i++) x[i] = 0.5f;
        CHECK(scn_corrupt(x, COUNT, "impulse", sev, &r) == SCN_OK, "%s", scn_error());
        for (changed = m = 0.0, i = 0; i < COUNT; i++) {
            changed += x[i] != 0.5f;
            m += x[i] == 1.0f;
            CHECK(x[i] == 0.5f || x[i] == 0.0f || x[i] == 1.0f, "impulse value %g", x[i]);
        }
        CHECK(fabs(changed / COUNT - impulse[sev - 1]) < 0.06 * impulse[sev - 1] &&
              fabs(m / changed - 0.5) < 0.05, "impulse %d: %g changed, %g of them salt", sev,
              changed / COUNT, m / changed);
    }
    /* clipped to [0, 1] */
    for (i = 0; i < COUNT; i++) x[i] = (float)(i % 2);
    CHECK(scn_corrupt(x, COUNT, "gaussian", 5, &r) == SCN_OK, "%s", scn_error());
    for (i = 0; i < COUNT; i++) CHECK(x[i] >= 0.0f && x[i] <= 1.0f, "value %g", x[i]);
    x[0] = 0.25f;
    CHECK(scn_corrupt(x, 1, "gaussian", 0, &r) == SCN_ERR_ARG && x[0] == 0.25f &&
          strstr(scn_error(), "severity 0"), "severity 0: \"%s\"", scn_error());
    CHECK(scn_corrupt(x, 1, "shot", 6, &r) == SCN_ERR_ARG, "severity 6 accepted");
    CHECK(scn_corrupt(x, 1, "fog", 1, &r) == SCN_ERR_ARG && strstr(scn_error(), "fog"),
          "fog: \"%s\"", scn_error());
    free(x);
}

/* the unrolled gradient through many FISTA steps approaches the
 * fixed-point one of the converged code */
static void test_fixed_vs_unrolled(void) {
    enum { N = 2, C = 1, H = 6, W = 6 };
    scn_net *u = scn_net_create("csc:n=4,l1=0.05,l2=0.2,iters=400 linear:n=3", C, H, W, 8);
    scn_net *f = scn_net_create("csc:n=4,l1=0.05,l2=0.2,iters=400,fixed linear:n=3", C, H, W,
                                8);
    float x[N * C * H * W], dl[N * 3], dxu[N * C * H * W], dxf[N * C * H * W];
    double dot = 0.0, nu = 0.0, nf = 0.0;
    size_t i, np;
    scn_rng r;
    CHECK(u && f, "%s", scn_error());
    if (!u || !f) { scn_net_free(u); scn_net_free(f); return; }
    scn_rng_seed(&r, 4, 4);
    for (i = 0; i < N * C * H * W; i++) x[i] = scn_rng_uniform(&r);
    for (i = 0; i < N * 3; i++) dl[i] = scn_rng_normal(&r);
    scn_net_zero_grad(u);
    scn_net_zero_grad(f);
    CHECK(scn_net_forward(u, x, N, 1) && scn_net_backward(u, dl, dxu) == SCN_OK &&
          scn_net_forward(f, x, N, 1) && scn_net_backward(f, dl, dxf) == SCN_OK, "%s",
          scn_error());
    np = scn_net_param_count(u);
    for (i = 0; i < np; i++) {
        dot += (double)scn_net_grads(u)[i] * scn_net_grads(f)[i];
        nu += (double)scn_net_grads(u)[i] * scn_net_grads(u)[i];
        nf += (double)scn_net_grads(f)[i] * scn_net_grads(f)[i];
    }
    for (i = 0; i < N * C * H * W; i++) {
        dot += (double)dxu[i] * dxf[i];
        nu += (double)dxu[i] * dxu[i];
        nf += (double)dxf[i] * dxf[i];
    }
    CHECK(nu > 0.0 && dot / sqrt(nu * nf) > 0.9999 && fabs(sqrt(nu / nf) - 1.0) < 1e-3,
          "unrolled vs fixed-point gradients: cosine %.7f, norms %g and %g", dot / sqrt(nu * nf),
          sqrt(nu), sqrt(nf));
    scn_net_free(u);
    scn_net_free(f);
}

/* SDNet's presets: the ResNet with its first convolution a csc layer */
static void test_presets(void) {
    static const char *pairs[2][2] = { { "sdnet-mnist", "resnet-mnist" },
                                       { "sdnet18", "resnet18" } };
    int p, i;
    for (p = 0; p < 2; p++) {
        int C = p ? 3 : 1, S = p ? 32 : 28;
        scn_net *sd = scn_net_create(pairs[p][0], C, S, S, 1);
        scn_net *rn = scn_net_create(pairs[p][1], C, S, S, 1);
        CHECK(sd && rn, "%s, %s: %s", pairs[p][0], pairs[p][1], scn_error());
        if (!sd || !rn) { scn_net_free(sd); scn_net_free(rn); continue; }
        CHECK(!strcmp(scn_net_layer_kind(sd, 0), "csc") &&
              !strcmp(scn_net_layer_kind(rn, 0), "conv") &&
              scn_net_layer_count(sd) == scn_net_layer_count(rn) &&
              scn_net_classes(sd) == 10, "%s: layer 1 %s, %d layers", pairs[p][0],
              scn_net_layer_kind(sd, 0), scn_net_layer_count(sd));
        for (i = 1; i < scn_net_layer_count(sd); i++)
            CHECK(!strcmp(scn_net_layer_kind(sd, i), scn_net_layer_kind(rn, i)),
                  "%s: layer %d is %s, %s's %s", pairs[p][0], i + 1,
                  scn_net_layer_kind(sd, i), pairs[p][1], scn_net_layer_kind(rn, i));
        /* the csc layer has no bias: 64 (16) parameters fewer */
        CHECK(scn_net_param_count(rn) - scn_net_param_count(sd) == (size_t)(p ? 64 : 16),
              "%s: %zu parameters, %s %zu", pairs[p][0], scn_net_param_count(sd), pairs[p][1],
              scn_net_param_count(rn));
        scn_net_free(sd);
        scn_net_free(rn);
    }
}

int main(void) {
    test_forward();
    test_objective();
    test_power();
    test_projection();
    test_lambda_residual();
    test_fixed_vs_unrolled();
    test_presets();
    test_corrupt();
    return check_summary("csc");
}
