/* 01_lasso.c - lesson 1: one signal sparse-coded by ISTA, FISTA and scn_en_solve.
 *
 *   cc -O2 -fopenmp -o 01_lasso examples/01_lasso.c -lm
 *   ./01_lasso                            (writes 01_lasso.png)
 *
 * The nonnegative elastic net of SCN eq. 1 for one signal x and a
 * dictionary D (m x n, unit atoms):
 *     F(a) = 1/2 |x - D a|^2 + lambda1 sum(a) + lambda2/2 |a|^2,  a >= 0.
 * ISTA takes a gradient step on the smooth part and projects:
 *     a <- max(0, a - (D^T (D a - x) + lambda2 a + lambda1) / L),
 * FISTA takes the same step from an extrapolated point (SCN Algorithm 1,
 * Beck and Teboulle), which turns ISTA's O(1/t) rate into O(1/t^2).
 * scn_en_solve runs FISTA and then polishes the support to the exact
 * minimiser; its KKT conditions (SCN eqs. 3-4) are checked here.
 */
#define _POSIX_C_SOURCE 200809L
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "../tools/png.h"

enum { m = 64, n = 256, T = 1000 };
static const double lambda1 = 0.1, lambda2 = 0.001;
static float D[m * n], x[m];

/* F(a), SCN eq. 1, in double precision; g (if not NULL) receives the
 * gradient of its smooth part, D^T (D a - x) + lambda2 a. */
static double objective(const double *a, double *g) {
    double r[m], f = 0.0;
    int i, j;
    for (i = 0; i < m; i++) {
        r[i] = -x[i];
        for (j = 0; j < n; j++) r[i] += D[i * n + j] * a[j];
        f += 0.5 * r[i] * r[i];
    }
    for (j = 0; j < n; j++) {
        f += lambda1 * a[j] + 0.5 * lambda2 * a[j] * a[j];
        if (!g) continue;
        g[j] = lambda2 * a[j];
        for (i = 0; i < m; i++) g[j] += D[i * n + j] * r[i];
    }
    return f;
}

/* T iterations of ISTA (fast = 0) or FISTA (fast = 1) from a = 0 with
 * step 1/L; f[t] = F after iteration t + 1. */
static void ista(int fast, double L, double *a, double *f) {
    double y[n], g[n], prev[n], s = 1.0;
    int t, j;
    memset(a, 0, sizeof(double) * n);
    memcpy(y, a, sizeof y);
    for (t = 0; t < T; t++) {
        double s_next = (1.0 + sqrt(1.0 + 4.0 * s * s)) / 2.0;
        objective(y, g);
        memcpy(prev, a, sizeof prev);
        for (j = 0; j < n; j++) a[j] = fmax(0.0, y[j] - (g[j] + lambda1) / L);
        for (j = 0; j < n; j++)   /* FISTA: y = a + (s - 1)/s' (a - a_prev); ISTA: y = a */
            y[j] = a[j] + (fast ? (s - 1.0) / s_next * (a[j] - prev[j]) : 0.0);
        s = s_next;
        f[t] = objective(a, NULL);
    }
}

int main(void) {
    static double f_ista[T], f_fista[T], its[T], gap_i[T], gap_f[T];
    double a_ista[n], a_fista[n], a_exact[n], g[n], kappa, fstar, kkt_on = 0, kkt_off = 0;
    double d_ista = 0, d_fista = 0;
    float alpha[n];
    int i, j, t, active = 0, fail = 0;
    scn_solve_desc sd;
    scn_solve_info info;
    scn_rng rng;
    canvas cv;
    chart ch = { 90, 60, 560, 340, 1, T, 1e-12, 10, 1, 1, 0 };

    scn_rng_seed(&rng, 1, 1);
    for (j = 0; j < n; j++) {                     /* random unit-norm atoms */
        double norm = 0.0;
        for (i = 0; i < m; i++) norm += pow(D[i * n + j] = scn_rng_normal(&rng), 2);
        for (i = 0; i < m; i++) D[i * n + j] /= (float)sqrt(norm);
    }
    for (i = 0; i < m; i++) x[i] = 0.1f * scn_rng_normal(&rng);
    for (t = 0; t < 8; t++) {                     /* x = 8 atoms + noise */
        float c = 0.5f + scn_rng_uniform(&rng);
        j = (int)scn_rng_below(&rng, n);
        for (i = 0; i < m; i++) x[i] += c * D[i * n + j];
    }

    /* the library's solver: FISTA, then the exact support (SCN eq. 7) */
    memset(&sd, 0, sizeof sd);
    sd.lambda1 = (float)lambda1;
    sd.lambda2 = (float)lambda2;
    if (scn_en_solve(D, m, n, x, 1, &sd, alpha, &info) != SCN_OK ||
        scn_en_lipschitz(D, m, n, (float)lambda2, &kappa) != SCN_OK) {
        fprintf(stderr, "%s\n", scn_error());
        return 1;
    }
    for (j = 0; j < n; j++) a_exact[j] = alpha[j];
    fstar = objective(a_exact, g);

    ista(0, kappa, a_ista, f_ista);
    ista(1, kappa, a_fista, f_fista);
    for (t = 0; t < T; t++) {                     /* the exact minimum is below both */
        fstar = fmin(fstar, fmin(f_ista[t], f_fista[t]));
        its[t] = t + 1;
    }
    printf("m = %d, n = %d, lambda1 = %g, lambda2 = %g, step 1/L with L = %.4f\n", m, n,
           lambda1, lambda2, kappa);
    printf("iteration   F - F* (ISTA)   F - F* (FISTA)\n");
    for (t = 1; t <= T; t *= 10)
        printf("%9d   %13.3e   %14.3e\n", t, f_ista[t - 1] - fstar, f_fista[t - 1] - fstar);

    /* KKT conditions at the polished code: SCN eq. 3 on the support,
     * eq. 4 off it (g holds D^T (D a - x) + lambda2 a); and how far the
     * iterates ended from it */
    for (j = 0; j < n; j++) {
        d_ista = fmax(d_ista, fabs(a_ista[j] - a_exact[j]));
        d_fista = fmax(d_fista, fabs(a_fista[j] - a_exact[j]));
        if (a_exact[j] > 0) {
            active++;
            kkt_on = fmax(kkt_on, fabs(g[j] + lambda1));
        } else {
            kkt_off = fmax(kkt_off, -lambda1 - g[j]);
        }
    }
    printf("scn_en_solve: %d FISTA iterations, polished %d, %d atoms active, F = %.8f\n",
           info.iters, info.polished, active, objective(a_exact, NULL));
    printf("KKT eq. 3 (active):   max |d_j^T(Da - x) + l2 a_j + l1| = %.2e\n", kkt_on);
    printf("KKT eq. 4 (inactive): max violation of >= -l1          = %.2e\n", kkt_off);
    printf("library's own KKT residual %.2e\n", info.kkt);
    printf("after %d iterations, max |a - a*|: ISTA %.1e, FISTA %.1e\n", T, d_ista, d_fista);

    /* checks: the polished code is optimal and where ISTA and FISTA end,
     * FISTA is ahead of ISTA after 100 iterations */
    if (kkt_on > 1e-4 || kkt_off > 1e-4 || info.polished != 1 || fmax(d_ista, d_fista) > 1e-5) {
        printf("FAIL: the polished code does not meet SCN eqs. 3-4 or is not the limit\n");
        fail = 1;
    }
    if (f_fista[99] - fstar >= f_ista[99] - fstar) {
        printf("FAIL: FISTA is not ahead of ISTA after 100 iterations\n");
        fail = 1;
    }
    if (!fail) printf("checks passed: KKT conditions hold, all three agree, FISTA is faster\n");

    for (t = 0; t < T; t++) {
        gap_i[t] = fmax(f_ista[t] - fstar, 1e-12);
        gap_f[t] = fmax(f_fista[t] - fstar, 1e-12);
    }
    if (!canvas_init(&cv, 700, 460)) return 1;
    chart_axes(&cv, &ch, "F(a_t) - F*, SCN eq. 1", "iteration t", "F - F*");
    chart_series(&cv, &ch, its, gap_i, T, 0x1f77b4, 0, "ISTA");
    chart_series(&cv, &ch, its, gap_f, T, 0xff7f0e, 0, "FISTA");
    if (canvas_save(&cv, "01_lasso.png", "01_lasso")) fail = 1;
    else printf("wrote 01_lasso.png\n");
    canvas_free(&cv);
    return fail;
}
