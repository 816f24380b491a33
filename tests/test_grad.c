/* test_grad.c - every fixed-point gradient (dD, dlambda1, dX; matrix
 * solver and convolutional layer; nonnegative and signed) against central
 * finite differences of converged, polished solves. */
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "check.h"
#include "common.h"


/* loss = sum G .* alpha(D, X, lambda1), in double */
static double loss(const float *D, int m, int n, const float *X, int P,
                   const scn_solve_desc *d, const float *G, float *alpha) {
    double s = 0.0;
    int i;
    if (scn_en_solve(D, m, n, X, P, d, alpha, NULL) != SCN_OK) return NAN;
    for (i = 0; i < n * P; i++) s += (double)G[i] * alpha[i];
    return s;
}

/* Central difference of `loss` in every entry of v (count entries). */
static void fd_all(float h, float *v, int count, float *out, const float *D, int m, int n,
                   const float *X, int P, const scn_solve_desc *d, const float *G,
                   float *alpha) {
    int i;
    for (i = 0; i < count; i++) {
        float keep = v[i];
        double up, down;
        v[i] = keep + h;
        up = loss(D, m, n, X, P, d, G, alpha);
        v[i] = keep - h;
        down = loss(D, m, n, X, P, d, G, alpha);
        v[i] = keep;
        out[i] = (float)((up - down) / (2.0 * h));
    }
}

/* ||a - b|| / ||b|| */
static double rel_err(const float *a, const float *b, int count) {
    double num = 0.0, den = 0.0;
    int i;
    for (i = 0; i < count; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num / (den > 0 ? den : 1e-30));
}

/* h: the finite-difference step; badly conditioned problems have active
 * entries close to zero, so their loss bends within a smaller distance. */
static void check_matrix(int m, int n, int P, float corr, float l1, float l2, int sgn,
                         unsigned seed, float h) {
    scn_rng r;
    scn_solve_desc d;
    float *D = fmalloc(m * n), *X = fmalloc(m * P), *G = fmalloc(n * P);
    float *alpha = fmalloc(n * P), *tmp = fmalloc(n * P);
    float *dD = fmalloc(m * n), *dX = fmalloc(m * P), *fD = fmalloc(m * n),
          *fX = fmalloc(m * P), dl, fl;
    double up, down;
    int i, active = 0;
    memset(&d, 0, sizeof d);
    d.lambda1 = l1; d.lambda2 = l2; d.signed_codes = sgn;
    scn_rng_seed(&r, seed, 7);
    make_dict(&r, m, n, corr, D);
    make_signals(&r, D, m, n, P, X);
    for (i = 0; i < n * P; i++) G[i] = scn_rng_normal(&r);
    CHECK(scn_en_solve(D, m, n, X, P, &d, alpha, NULL) == SCN_OK, "%s", scn_error());
    CHECK(kkt_double(D, m, n, X, P, &d, alpha) < 1e-5, "base solve not converged");
    for (i = 0; i < n * P; i++) active += alpha[i] != 0.0f;
    CHECK(active > P, "only %d active codes: the test would prove little", active);
    CHECK(scn_en_backward(D, m, n, X, P, alpha, G, &d, dD, dX, &dl) == SCN_OK, "%s",
          scn_error());
    fd_all(h, D, m * n, fD, D, m, n, X, P, &d, G, tmp);
    fd_all(h, X, m * P, fX, D, m, n, X, P, &d, G, tmp);
    d.lambda1 = l1 + h;
    up = loss(D, m, n, X, P, &d, G, tmp);
    d.lambda1 = l1 - h;
    down = loss(D, m, n, X, P, &d, G, tmp);
    fl = (float)((up - down) / (2.0 * h));
    CHECK(rel_err(dD, fD, m * n) < 1e-2, "dD: relative error %.3g (signed %d, corr %g)",
          rel_err(dD, fD, m * n), sgn, corr);
    CHECK(rel_err(dX, fX, m * P) < 1e-2, "dX: relative error %.3g (signed %d, corr %g)",
          rel_err(dX, fX, m * P), sgn, corr);
    CHECK(fabs(dl - fl) < 1e-2 * fmax(1.0, fabs(fl)), "dlambda1 %.6g vs FD %.6g", dl, fl);
    /* any output may be skipped */
    CHECK(scn_en_backward(D, m, n, X, P, alpha, G, &d, NULL, NULL, &dl) == SCN_OK, "%s",
          scn_error());
    free(D); free(X); free(G); free(alpha); free(tmp);
    free(dD); free(dX); free(fD); free(fX);
}

/* The conv layer: loss = sum dcodes .* codes(x, D, lambda1). */
static double conv_loss(const scn_conv_geom *g, const float *D, int n, const float *x,
                        const scn_solve_desc *d, const float *dcodes, float *X,
                        float *alpha, float *codes) {
    double s = 0.0;
    int i;
    if (scn_sc_conv_forward(g, D, n, x, d, X, alpha, codes, NULL) != SCN_OK) return NAN;
    for (i = 0; i < n * g->P; i++) s += (double)dcodes[i] * codes[i];
    return s;
}

static void check_conv(int N, int C, int H, int W, int k, int stride, int pad, int n,
                       int sgn) {
    scn_conv_geom g;
    scn_solve_desc d;
    scn_rng r;
    float *D, *x, *X, *alpha, *codes, *dcodes, *dD, *dx, *fD, *fx, dl, fl;
    float *vars[3], h = 2e-4f;
    int counts[3], v, i, xs = N * C * H * W;
    CHECK(scn_conv_geom_init(&g, N, C, H, W, k, stride, pad) == SCN_OK, "%s", scn_error());
    D = fmalloc(g.m * n); x = fmalloc(xs); X = fmalloc(g.m * g.P);
    alpha = fmalloc(n * g.P); codes = fmalloc(n * g.P); dcodes = fmalloc(n * g.P);
    dD = fmalloc(g.m * n); dx = fmalloc(xs); fD = fmalloc(g.m * n); fx = fmalloc(xs);
    memset(&d, 0, sizeof d);
    d.lambda1 = 0.05f; d.lambda2 = 0.1f; d.signed_codes = sgn;
    scn_rng_seed(&r, 11, (uint64_t)k);
    make_dict(&r, g.m, n, 0.0f, D);
    for (i = 0; i < xs; i++) x[i] = scn_rng_uniform(&r);
    for (i = 0; i < n * g.P; i++) dcodes[i] = scn_rng_normal(&r);
    CHECK(scn_sc_conv_forward(&g, D, n, x, &d, X, alpha, codes, NULL) == SCN_OK, "%s",
          scn_error());
    CHECK(scn_sc_conv_backward(&g, D, n, X, alpha, dcodes, &d, dD, dx, &dl) == SCN_OK,
          "%s", scn_error());
    vars[0] = D; counts[0] = g.m * n;
    vars[1] = x; counts[1] = xs;
    for (v = 0; v < 2; v++) {
        float *out = v ? fx : fD;
        for (i = 0; i < counts[v]; i++) {
            float keep = vars[v][i];
            double up, down;
            vars[v][i] = keep + h;
            up = conv_loss(&g, D, n, x, &d, dcodes, X, alpha, codes);
            vars[v][i] = keep - h;
            down = conv_loss(&g, D, n, x, &d, dcodes, X, alpha, codes);
            vars[v][i] = keep;
            out[i] = (float)((up - down) / (2.0 * h));
        }
    }
    d.lambda1 = 0.05f + h;
    fl = (float)conv_loss(&g, D, n, x, &d, dcodes, X, alpha, codes);
    d.lambda1 = 0.05f - h;
    fl = (float)((fl - conv_loss(&g, D, n, x, &d, dcodes, X, alpha, codes)) / (2 * h));
    CHECK(rel_err(dD, fD, g.m * n) < 1e-2, "conv k%d s%d p%d: dD error %.3g", k, stride,
          pad, rel_err(dD, fD, g.m * n));
    CHECK(rel_err(dx, fx, xs) < 1e-2, "conv k%d s%d p%d: dx error %.3g", k, stride, pad,
          rel_err(dx, fx, xs));
    CHECK(fabs(dl - fl) < 1e-2 * fmax(1.0, fabs(fl)), "conv dlambda1 %.6g vs FD %.6g", dl,
          fl);
    free(D); free(x); free(X); free(alpha); free(codes); free(dcodes);
    free(dD); free(dx); free(fD); free(fx);
}

int main(void) {
    check_matrix(8, 12, 10, 0.0f, 0.05f, 0.1f, 0, 1, 2e-4f);      /* well conditioned */
    check_matrix(8, 12, 10, 0.0f, 0.05f, 0.1f, 1, 2, 2e-4f);
    check_matrix(6, 16, 8, 0.2f, 0.02f, 0.01f, 0, 3, 5e-5f);      /* overcomplete, correlated */
    check_matrix(6, 16, 8, 0.2f, 0.02f, 0.01f, 1, 4, 5e-5f);
    check_conv(2, 2, 5, 5, 3, 1, 1, 10, 0);
    check_conv(2, 3, 6, 5, 3, 2, 1, 8, 0);
    check_conv(1, 2, 4, 4, 2, 2, 0, 6, 1);
    return check_summary("grad");
}
