/* sparse.c - DDSE's weights multiplied densely (GEMM) and sparsely (only
 * the nonzeros) at several sparsities, the products a ddse layer makes:
 * forward W X with W (m x n) holding s nonzeros per row, backward W^T G.
 * Prints one line per s/n with the median seconds of each and the ratio;
 * the ddse layer multiplies sparsely below the density where the sparse
 * product wins (SCN__SPARSE_DENSITY in scn.h).
 *   bin/bench_sparse [threads] [batch]
 */
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

enum { M = 1024, NIN = 784, REPS = 9 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* median seconds of REPS runs of C = op(W) X, dense (sparse 0) or sparse */
static double timed(const scn_backend *be, scn_workspace *ws, int sparse, int ta,
                    const float *W, const float *X, float *C, int N) {
    double t[REPS];
    int r, rows = ta ? NIN : M, inner = ta ? M : NIN;
    for (r = 0; r < REPS; r++) {
        double t0 = now();
        if (sparse) be->gemm_sparse_a(ta, rows, N, inner, 1.0f, W, NIN, X, N, 0.0f, C, N);
        else be->gemm(ws, ta, 0, rows, N, inner, 1.0f, W, NIN, X, N, 0.0f, C, N);
        t[r] = now() - t0;
    }
    qsort(t, REPS, sizeof t[0], cmp);
    return t[REPS / 2];
}

int main(int argc, char **argv) {
    static const double ratios[] = { 0.5, 0.25, 0.125, 1.0 / 16 };
    int threads = argc > 1 ? atoi(argv[1]) : 2, N = argc > 2 ? atoi(argv[2]) : 256, i, k;
    const scn_backend *be = scn_backend_cpu();
    scn_workspace ws = { 0 };
    float *W = malloc(sizeof *W * M * NIN), *X = malloc(sizeof *X * (size_t)M * N);
    float *C = malloc(sizeof *C * (size_t)M * N);
    scn_rng r;
#ifdef _OPENMP
    omp_set_num_threads(threads);
#endif
    (void)threads;
    scn_rng_seed(&r, 1, 1);
    for (i = 0; i < M * N; i++) X[i] = scn_rng_normal(&r);
    printf("W %d x %d with s nonzeros per row, batch %d, %d threads (median seconds)\n", M,
           NIN, N, threads);
    printf("%-6s %5s %10s %10s %7s %10s %10s %7s\n", "s/n", "s", "W X dense", "sparse",
           "ratio", "W^T G dense", "sparse", "ratio");
    for (k = 0; k < (int)(sizeof ratios / sizeof ratios[0]); k++) {
        int s = (int)(ratios[k] * NIN + 0.5);
        double fd, fs, bd, bs;
        for (i = 0; i < M * NIN; i++) W[i] = scn_rng_normal(&r);
        be->top_s(W, M, NIN, s, 0);
        fd = timed(be, &ws, 0, 0, W, X, C, N);
        fs = timed(be, &ws, 1, 0, W, X, C, N);
        bd = timed(be, &ws, 0, 1, W, X, C, N);
        bs = timed(be, &ws, 1, 1, W, X, C, N);
        printf("%-6.4g %5d %10.5f %10.5f %7.2f %10.5f %10.5f %7.2f\n", ratios[k], s, fd, fs,
               fd / fs, bd, bs, bd / bs);
    }
    scn_workspace_free(&ws);
    free(W);
    free(X);
    free(C);
    return 0;
}
