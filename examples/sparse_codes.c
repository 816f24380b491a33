/* sparse_codes.c - recover sparse codes of noisy signals with scn.h.
 *
 *   cc -O2 -fopenmp -o bin/sparse_codes examples/sparse_codes.c -lm
 *   bin/sparse_codes [P]
 *
 * Builds a random dictionary D (m x n, unit atoms), makes P signals that
 * are each a nonnegative mix of 3 atoms plus noise, solves the
 * nonnegative elastic net (SCN eq. 1) for all of them at once, then
 * differentiates a loss through the solution (SCN eqs. 11-17). Prints how
 * many of the true atoms were found, the KKT residual and the time taken.
 */
#define _POSIX_C_SOURCE 200809L
#define SCN_IMPLEMENTATION
#include "../scn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { m = 64, n = 256, ATOMS = 3 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
    int P = argc > 1 ? atoi(argv[1]) : 20000, i, j, p, t, found = 0;
    float *D = malloc(sizeof(float) * m * n), *X = malloc(sizeof(float) * m * P);
    float *alpha = malloc(sizeof(float) * n * P), *G = malloc(sizeof(float) * n * P);
    float *dD = malloc(sizeof(float) * m * n), dlambda1;
    int *truth = malloc(sizeof(int) * ATOMS * P);
    scn_solve_desc sd;
    scn_solve_info info;
    scn_rng rng;
    double t0, t1, t2;
    if (P < 1 || !D || !X || !alpha || !G || !dD || !truth) {
        fprintf(stderr, "usage: sparse_codes [P >= 1] (or out of memory)\n");
        return 1;
    }
    scn_rng_seed(&rng, 42, 1);
    for (j = 0; j < n; j++) {                       /* random unit-norm atoms */
        double norm = 0.0;
        for (i = 0; i < m; i++) {
            D[i * n + j] = scn_rng_normal(&rng);
            norm += (double)D[i * n + j] * D[i * n + j];
        }
        for (i = 0; i < m; i++) D[i * n + j] /= (float)sqrt(norm);
    }
    for (p = 0; p < P; p++) {                       /* x = sum of 3 atoms + noise */
        for (i = 0; i < m; i++) X[i * P + p] = 0.02f * scn_rng_normal(&rng);
        for (t = 0; t < ATOMS; t++) {
            int a = (int)scn_rng_below(&rng, n);
            float c = 0.5f + scn_rng_uniform(&rng);
            truth[p * ATOMS + t] = a;
            for (i = 0; i < m; i++) X[i * P + p] += c * D[i * n + a];
        }
    }

    memset(&sd, 0, sizeof sd);                      /* zero = defaults */
    sd.lambda1 = 0.05f;
    sd.lambda2 = 0.01f;
    t0 = now();
    if (scn_en_solve(D, m, n, X, P, &sd, alpha, &info) != SCN_OK) {
        fprintf(stderr, "solve: %s\n", scn_error());
        return 1;
    }
    t1 = now();
    for (p = 0; p < P; p++)
        for (t = 0; t < ATOMS; t++) found += alpha[truth[p * ATOMS + t] * P + p] > 0.0f;

    /* gradient of loss = sum(alpha) with respect to D and lambda1 */
    for (i = 0; i < n * P; i++) G[i] = 1.0f;
    if (scn_en_backward(D, m, n, X, P, alpha, G, &sd, dD, NULL, &dlambda1) != SCN_OK) {
        fprintf(stderr, "backward: %s\n", scn_error());
        return 1;
    }
    t2 = now();
    printf("%d signals, D %d x %d: %d FISTA iterations, %d/%d columns polished, "
           "KKT residual %.2e\n", P, m, n, info.iters, info.polished, P, info.kkt);
    printf("true atoms found: %.2f%%   solve %.2fs   backward %.2fs   "
           "dLoss/dlambda1 = %.1f\n", 100.0 * found / (ATOMS * P), t1 - t0, t2 - t1,
           dlambda1);
    free(D); free(X); free(alpha); free(G); free(dD); free(truth);
    return 0;
}
