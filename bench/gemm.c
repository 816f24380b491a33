/* GEMM throughput of scn.h beside OpenBLAS sgemm, on the shapes the solver
 * and the convolutional layers use; both on the same threads, one run.
 *
 *   cc -O2 -fopenmp -o bin/bench_gemm bench/gemm.c -lopenblas -lm
 *   bin/bench_gemm [threads]
 *
 * OpenBLAS is linked here only, as the yardstick; the library never uses it.
 * Each line: the call (op, M, N, K), GFLOP/s of scn_gemm and of cblas_sgemm
 * (best of 3 after a warm-up), and their ratio.
 */
#define SCN_IMPLEMENTATION
#include "../scn.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct shape {
    const char *what;
    int ta, M, N, K;
} shape;

static const shape shapes[] = {
    { "A gamma (FISTA)  n=32", 0, 32, 100000, 32 },
    { "A gamma (FISTA)  n=64", 0, 64, 100000, 64 },
    { "A gamma (FISTA)  n=128", 0, 128, 10000, 128 },
    { "A gamma (FISTA)  n=256", 0, 256, 10000, 256 },
    { "A gamma (FISTA)  n=512", 0, 512, 10000, 512 },
    { "A gamma (FISTA)  n=512", 0, 512, 1000, 512 },
    { "D^T X (im2col)   m=9 n=32", 1, 32, 50176, 9 },
    { "D^T X (im2col)   m=144 n=64", 1, 64, 25088, 144 },
    { "D^T X (im2col)   m=288 n=8", 1, 8, 50176, 288 },
    { "D^T X (im2col)   m=1152 n=32", 1, 32, 3136, 1152 },
};

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Best seconds of 3 runs after a warm-up; which = 0 scn, 1 OpenBLAS. */
static double best_time(int which, const shape *s, const float *A, const float *B, float *C) {
    int lda = s->ta ? s->M : s->K, r;
    double best = 1e30;
    for (r = 0; r < 4; r++) {
        double t0 = now(), t;
        if (which == 0)
            scn_gemm(s->ta, 0, s->M, s->N, s->K, 1.0f, A, lda, B, s->N, 0.0f, C, s->N);
        else
            cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, CblasNoTrans, s->M,
                        s->N, s->K, 1.0f, A, lda, B, s->N, 0.0f, C, s->N);
        t = now() - t0;
        if (r > 0 && t < best) best = t;
    }
    return best;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 2;
    size_t i, k;
    scn_rng rng;
#ifdef _OPENMP
    omp_set_num_threads(threads);
#endif
    openblas_set_num_threads(threads);
    scn_rng_seed(&rng, 1, 0);
    printf("GEMM GFLOP/s on %d threads: scn.h (%s microkernel) vs OpenBLAS sgemm\n",
           threads, scn_gemm_kernel());
    printf("%-30s %6s %6s %6s %8s %8s %6s\n", "shape", "M", "N", "K", "scn", "openblas",
           "ratio");
    for (k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const shape *s = &shapes[k];
        size_t na = (size_t)s->M * s->K, nb = (size_t)s->K * s->N, nc = (size_t)s->M * s->N;
        float *A = malloc(na * sizeof *A), *B = malloc(nb * sizeof *B), *C = malloc(nc * sizeof *C);
        double flops = 2.0 * s->M * s->N * s->K, ts, to;
        if (!A || !B || !C) { fprintf(stderr, "bench_gemm: out of memory\n"); return 1; }
        for (i = 0; i < na; i++) A[i] = scn_rng_normal(&rng);
        for (i = 0; i < nb; i++) B[i] = scn_rng_normal(&rng);
        ts = best_time(0, s, A, B, C);
        to = best_time(1, s, A, B, C);
        printf("%-30s %6d %6d %6d %8.1f %8.1f %6.2f\n", s->what, s->M, s->N, s->K,
               flops / ts * 1e-9, flops / to * 1e-9, to / ts);
        free(A); free(B); free(C);
    }
    return 0;
}
