/* test_grad.c - every fixed-point gradient (dD, dlambda1, dX; matrix
 * solver and convolutional layer; nonnegative and signed) against central
 * finite differences of converged, polished solves. */
#include "../scn.h"
#include "check.h"
#include "common.h"
#include "fd.h"


/* A matrix problem: loss = sum G .* alpha(D, X, lambda1), in double. */
typedef struct matrix_case {
    float *D, *X, *G, *alpha;
    int m, n, P;
    scn_solve_desc d;
} matrix_case;

static double matrix_loss(void *ctx) {
    matrix_case *c = (matrix_case *)ctx;
    double s = 0.0;
    int i;
    if (scn_en_solve(c->D, c->m, c->n, c->X, c->P, &c->d, c->alpha, NULL) != SCN_OK)
        return NAN;
    for (i = 0; i < c->n * c->P; i++) s += (double)c->G[i] * c->alpha[i];
    return s;
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
    int i, active = 0;
    matrix_case c;
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
    c.D = D; c.X = X; c.G = G; c.alpha = tmp; c.m = m; c.n = n; c.P = P; c.d = d;
    fd_all(D, (size_t)m * n, h, matrix_loss, &c, fD);
    fd_all(X, (size_t)m * P, h, matrix_loss, &c, fX);
    fl = (float)fd_central(&c.d.lambda1, 0, h, matrix_loss, &c);
    CHECK(fd_rel_err(dD, fD, m * n) < 1e-2, "dD: relative error %.3g (signed %d, corr %g)",
          fd_rel_err(dD, fD, m * n), sgn, corr);
    CHECK(fd_rel_err(dX, fX, m * P) < 1e-2, "dX: relative error %.3g (signed %d, corr %g)",
          fd_rel_err(dX, fX, m * P), sgn, corr);
    CHECK(fabs(dl - fl) < 1e-2 * fmax(1.0, fabs(fl)), "dlambda1 %.6g vs FD %.6g", dl, fl);
    /* any output may be skipped */
    CHECK(scn_en_backward(D, m, n, X, P, alpha, G, &d, NULL, NULL, &dl) == SCN_OK, "%s",
          scn_error());
    free(D); free(X); free(G); free(alpha); free(tmp);
    free(dD); free(dX); free(fD); free(fX);
}

/* The conv layer: loss = sum dcodes .* codes(x, D, lambda1). */
typedef struct conv_case {
    scn_conv_geom g;
    float *D, *x, *dcodes, *X, *alpha, *codes;
    int n;
    scn_solve_desc d;
} conv_case;

static double conv_loss(void *ctx) {
    conv_case *c = (conv_case *)ctx;
    double s = 0.0;
    int i;
    if (scn_sc_conv_forward(&c->g, c->D, c->n, c->x, &c->d, c->X, c->alpha, c->codes,
                            NULL) != SCN_OK)
        return NAN;
    for (i = 0; i < c->n * c->g.P; i++) s += (double)c->dcodes[i] * c->codes[i];
    return s;
}

static void check_conv(int N, int C, int H, int W, int k, int stride, int pad, int n,
                       int sgn) {
    scn_conv_geom g;
    scn_solve_desc d;
    scn_rng r;
    float *D, *x, *X, *alpha, *codes, *dcodes, *dD, *dx, *fD, *fx, dl, fl, h = 2e-4f;
    int i, xs = N * C * H * W;
    conv_case c;
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
    c.g = g; c.D = D; c.x = x; c.dcodes = dcodes; c.X = X; c.alpha = alpha; c.codes = codes;
    c.n = n; c.d = d;
    fd_all(D, (size_t)g.m * n, h, conv_loss, &c, fD);
    fd_all(x, (size_t)xs, h, conv_loss, &c, fx);
    fl = (float)fd_central(&c.d.lambda1, 0, h, conv_loss, &c);
    CHECK(fd_rel_err(dD, fD, g.m * n) < 1e-2, "conv k%d s%d p%d: dD error %.3g", k, stride,
          pad, fd_rel_err(dD, fD, g.m * n));
    CHECK(fd_rel_err(dx, fx, xs) < 1e-2, "conv k%d s%d p%d: dx error %.3g", k, stride, pad,
          fd_rel_err(dx, fx, xs));
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
