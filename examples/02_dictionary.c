/* 02_dictionary.c - lesson 2: a dictionary learned from Fashion-MNIST patches.
 *
 *   cc -O2 -fopenmp -o 02_dictionary examples/02_dictionary.c -lm
 *   ./02_dictionary [--quick] [data-dir]   (writes 02_dictionary.png)
 *
 * Dictionary learning alternates two convex problems (Mairal et al.):
 *   codes:      a_p = argmin_{a >= 0} 1/2 |x_p - D a|^2 + lambda1 |a|_1
 *                                     + lambda2/2 |a|^2      (SCN eq. 1)
 *   dictionary: D = argmin_{|d_j| <= 1} sum_p 1/2 |x_p - D a_p|^2,
 * the second by block coordinate descent over the atoms: with
 * A = sum_p a_p a_p^T and B = sum_p x_p a_p^T, atom j moves to
 * d_j + (b_j - D a_j) / A_jj and back into the unit ball. Each step lowers
 * the objective. Then a lambda1 sweep on held-out patches shows the price
 * of sparsity: fewer active atoms, larger reconstruction error.
 */
#define _POSIX_C_SOURCE 200809L
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "../tools/png.h"

enum { s = 8, m = s * s, n = 100, HELD = 2000, NL = 6 };
static const float lambda2 = 0.01f;

/* Mean objective of SCN eq. 1 over P patches and mean active atoms per patch. */
static double objective(const float *D, const float *X, const float *a, int P, float l1,
                        double *active) {
    double f = 0.0;
    int i, j, p;
    *active = 0.0;
    for (p = 0; p < P; p++) {
        for (i = 0; i < m; i++) {
            double r = X[i * P + p];
            for (j = 0; j < n; j++) r -= (double)D[i * n + j] * a[j * P + p];
            f += 0.5 * r * r;
        }
        for (j = 0; j < n; j++) {
            f += l1 * a[j * P + p] + 0.5 * lambda2 * a[j * P + p] * a[j * P + p];
            *active += a[j * P + p] > 0;
        }
    }
    *active /= P;
    return f / P;
}

/* Codes of P patches against D at lambda1 = l1; 0 or 1 after printing why. */
static int codes(const float *D, const float *X, int P, float l1, float *a) {
    scn_solve_desc sd;
    memset(&sd, 0, sizeof sd);
    sd.lambda1 = l1;
    sd.lambda2 = lambda2;
    if (scn_en_solve(D, m, n, X, P, &sd, a, NULL) == SCN_OK) return 0;
    fprintf(stderr, "%s\n", scn_error());
    return 1;
}

/* Relative error |X - D A|^2 / |X|^2 over P patches, D A in R (m x P);
 * NaN if the product fails. */
static double rel_error(const float *D, const float *X, const float *a, int P, float *R) {
    double e = 0.0, x2 = 0.0;
    int i;
    if (scn_gemm(0, 0, m, P, n, 1.0f, D, n, a, P, 0.0f, R, P) != SCN_OK) return NAN;
    for (i = 0; i < m * P; i++) { e += pow(X[i] - R[i], 2); x2 += X[i] * X[i]; }
    return e / x2;
}

int main(int argc, char **argv) {
    static const double l1s[NL] = { 0.4, 0.2, 0.1, 0.05, 0.025, 0.0125 };
    int quick = argc > 1 && !strcmp(argv[1], "--quick"), i, j, p, r, fail = 0;
    int P = quick ? 2000 : 20000, rounds = quick ? 3 : 12;
    const char *dir = argc > 1 + quick ? argv[1 + quick] : "/usr/share/datasets/fashion-mnist";
    float *X = malloc(sizeof(float) * m * P), *Xh = malloc(sizeof(float) * m * HELD);
    float *a = malloc(sizeof(float) * n * P), *R = malloc(sizeof(float) * m * HELD);
    float D[m * n], D0[m * n], A[n * n], B[m * n], l1 = 0.1f;
    double f_first = 0.0, f, act, err[2][NL], nnz[2][NL];
    scn_idx_set set;
    scn_rng rng;
    canvas cv;
    chart ch = { 450, 60, 500, 340, 0, 50, 0, 1, 0, 0, 0 };

    if (!X || !Xh || !a || !R || scn_idx_load(dir, 1, &set) != SCN_OK) {
        fprintf(stderr, "%s\n", scn_error());
        return 1;
    }
    /* patches with some texture, mean removed, scaled to unit norm: P to
     * learn from (X, m x P), HELD held out (Xh) */
    scn_rng_seed(&rng, 2, 1);
    for (p = 0; p < P + HELD;) {
        const unsigned char *img = set.images + (size_t)scn_rng_below(&rng, set.count) * 784;
        int y = (int)scn_rng_below(&rng, 28 - s + 1), x = (int)scn_rng_below(&rng, 28 - s + 1);
        double v[m], mean = 0.0, norm = 0.0;
        for (i = 0; i < m; i++) mean += (v[i] = img[(y + i / s) * 28 + x + i % s] / 255.0) / m;
        for (i = 0; i < m; i++) norm += (v[i] - mean) * (v[i] - mean);
        if (norm < 0.5) continue;                 /* flat: background or inside a garment */
        for (i = 0; i < m; i++)
            *(p < P ? &X[i * P + p] : &Xh[i * HELD + p - P]) = (float)((v[i] - mean) / sqrt(norm));
        p++;
    }
    for (j = 0; j < m * n; j++) D[j] = scn_rng_normal(&rng) / sqrtf((float)m);
    memcpy(D0, D, sizeof D);

    printf("%d patches of %dx%d, %d atoms, lambda1 = %g, lambda2 = %g\n", P, s, s, n, l1,
           lambda2);
    for (r = 0; r < rounds; r++) {
        if (codes(D, X, P, l1, a)) return 1;
        f = objective(D, X, a, P, l1, &act);
        if (r == 0) f_first = f;
        printf("round %2d: objective %.5f, %.2f active atoms per patch\n", r + 1, f, act);
        /* A = sum a a^T, B = sum x a^T, then one pass over the atoms */
        if (scn_gemm(0, 1, n, n, P, 1.0f, a, P, a, P, 0.0f, A, n) != SCN_OK ||
            scn_gemm(0, 1, m, n, P, 1.0f, X, P, a, P, 0.0f, B, n) != SCN_OK) {
            fprintf(stderr, "%s\n", scn_error());
            return 1;
        }
        for (j = 0; j < n; j++) {
            double u[m], norm = 0.0;
            if (A[j * n + j] <= 0.0f) {           /* an unused atom restarts at a patch */
                p = (int)scn_rng_below(&rng, P);
                for (i = 0; i < m; i++) D[i * n + j] = X[i * P + p];
                continue;
            }
            for (i = 0; i < m; i++) {             /* d_j + (b_j - D a_j) / A_jj */
                double da = 0.0;
                int k;
                for (k = 0; k < n; k++) da += D[i * n + k] * A[k * n + j];
                u[i] = D[i * n + j] + (B[i * n + j] - da) / A[j * n + j];
                norm += u[i] * u[i];
            }
            for (i = 0; i < m; i++) D[i * n + j] = (float)(u[i] / fmax(1.0, sqrt(norm)));
        }
    }
    if (f >= f_first) { printf("FAIL: the objective did not go down\n"); fail = 1; }

    printf("lambda1   active (random D)   error (random D)   active (learned)   error (learned)\n");
    for (r = 0; r < NL; r++) {
        for (i = 0; i < 2; i++) {
            if (codes(i ? D : D0, Xh, HELD, (float)l1s[r], a)) return 1;
            objective(i ? D : D0, Xh, a, HELD, (float)l1s[r], &nnz[i][r]);
            err[i][r] = rel_error(i ? D : D0, Xh, a, HELD, R);
        }
        printf("%7.4f   %17.2f   %16.4f   %16.2f   %15.4f\n", l1s[r], nnz[0][r], err[0][r],
               nnz[1][r], err[1][r]);
        if (!(err[1][r] < err[0][r])) { printf("FAIL: learning did not help\n"); fail = 1; }
    }
    if (!fail) printf("checks passed: the objective fell, the learned atoms reconstruct better\n");

    if (!canvas_init(&cv, 1000, 460)) return 1;
    canvas_text(&cv, 20, 26, "learned atoms (gray = 0)", 2, 0x000000);
    for (j = 0; j < n; j++) {                     /* each atom scaled to its own range */
        float atom[m], big = 1e-9f;
        for (i = 0; i < m; i++) big = fmaxf(big, fabsf(atom[i] = D[i * n + j]));
        canvas_gray_image(&cv, 20 + (j % 10) * 38, 60 + (j / 10) * 38, atom, s, s, 4, -big, big);
    }
    chart_axes(&cv, &ch, "held-out error vs sparsity", "active atoms per patch",
               "|x - Da|^2 / |x|^2");
    chart_series(&cv, &ch, nnz[0], err[0], NL, 0x1f77b4, 1, "random D");
    chart_series(&cv, &ch, nnz[1], err[1], NL, 0xff7f0e, 1, "learned D");
    if (canvas_save(&cv, "02_dictionary.png", "02_dictionary")) fail = 1;
    else printf("wrote 02_dictionary.png\n");
    canvas_free(&cv);
    scn_idx_free(&set);
    free(X), free(Xh), free(a), free(R);
    return fail;
}
