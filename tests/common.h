/* common.h - random problems and a double-precision KKT check shared by
 * the solver and gradient tests. */
#ifndef SCN_TEST_COMMON_H
#define SCN_TEST_COMMON_H
#include <stdlib.h>
#include <string.h>

/* D (m x n) with unit-norm columns. With `corr` > 0 every atom is one of
 * four base directions plus `corr`-sized noise: a badly conditioned,
 * overcomplete dictionary. */
static void make_dict(scn_rng *r, int m, int n, float corr, float *D) {
    int i, j;
    float base[4][512];
    for (j = 0; j < 4; j++)
        for (i = 0; i < m; i++) base[j][i] = scn_rng_normal(r);
    for (j = 0; j < n; j++) {
        double norm = 0.0;
        for (i = 0; i < m; i++) {
            float v = corr > 0 ? base[j % 4][i] + corr * scn_rng_normal(r)
                               : scn_rng_normal(r);
            D[i * n + j] = v;
            norm += (double)v * v;
        }
        for (i = 0; i < m; i++) D[i * n + j] /= (float)sqrt(norm);
    }
}

/* X (m x P): sparse nonnegative combinations of atoms plus noise. */
static void make_signals(scn_rng *r, const float *D, int m, int n, int P, float *X) {
    int i, p, t;
    for (p = 0; p < P; p++) {
        for (i = 0; i < m; i++) X[i * P + p] = 0.05f * scn_rng_normal(r);
        for (t = 0; t < 3; t++) {
            int j = (int)scn_rng_below(r, (uint32_t)n);
            float c = 0.5f + scn_rng_uniform(r);
            for (i = 0; i < m; i++) X[i * P + p] += c * D[i * n + j];
        }
    }
}

/* Largest KKT violation (SCN eqs. 3-4) computed in double. */
static double kkt_double(const float *D, int m, int n, const float *X, int P,
                         const scn_solve_desc *d, const float *alpha) {
    double worst = 0.0;
    int p, i, j;
    double *r = (double *)malloc(sizeof(double) * m);
    for (p = 0; p < P; p++) {
        for (i = 0; i < m; i++) {
            double s = -X[i * P + p];
            for (j = 0; j < n; j++) s += (double)D[i * n + j] * alpha[j * P + p];
            r[i] = s;
        }
        for (j = 0; j < n; j++) {
            double g = d->lambda2 * (double)alpha[j * P + p], a = alpha[j * P + p], v;
            for (i = 0; i < m; i++) g += D[i * n + j] * r[i];
            if (a != 0.0) v = fabs(g + d->lambda1 * (a > 0 ? 1 : -1));
            else v = d->signed_codes ? fabs(g) - d->lambda1 : -d->lambda1 - g;
            if (!d->signed_codes && a < 0) v = 1e30;
            if (v > worst) worst = v;
        }
    }
    free(r);
    return worst;
}

static float *fmalloc(size_t count) {
    float *p = (float *)calloc(count ? count : 1, sizeof(float));
    if (!p) abort();
    return p;
}
#endif
