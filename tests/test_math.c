/* test_math.c - sections 1-3 and 8 of scn.h: errors, tensors, RNG, GEMM,
 * convolution geometry, im2col/col2im and the backend table.
 *
 * GEMM is checked element by element against a double-precision triple
 * loop for every (trans_a, trans_b), alpha and beta, with odd sizes that
 * cross the library's KC/MC/NC blocking, padded leading dimensions (whose
 * padding must be neither read nor written) and NaN in C when beta = 0.
 * im2col is checked against its defining formula, col2im against a direct
 * scatter and both against the adjoint identity <im2col x, Y> = <x, col2im Y>.
 */
#include "../scn.h"
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* ---------------------------------------------------------------- helpers */

/* Test data comes from a private generator so that a broken scn_rng cannot
 * make the other tests vacuous. */
static uint64_t tr_state = 0x9e3779b97f4a7c15ULL;

static uint32_t tr_u32(void) {
    tr_state ^= tr_state << 13;
    tr_state ^= tr_state >> 7;
    tr_state ^= tr_state << 17;
    return (uint32_t)(tr_state >> 32);
}

/* uniform in [-1, 1) */
static float tr_sym(void) { return (float)(tr_u32() >> 8) / 8388608.0f - 1.0f; }

static void *xmalloc(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "test_math: out of memory\n");
        exit(2);
    }
    return p;
}

static float qnan(void) { return nanf(""); }

/* Puts a message of our own into scn_error() so that a later check can tell
 * that a failing call wrote a fresh one. */
static void plant_tensor_error(void) {
    int shape[1] = { 1 };
    scn_tensor_free(scn_tensor_create(0, shape));
}

static void plant_conv_error(void) {
    scn_conv_geom g;
    (void)scn_conv_geom_init(&g, 0, 0, 0, 0, 0, 0, 0);
}

/* A failing call must leave a non-empty message that differs from the one
 * planted before it. */
static int fresh_message(const char *before) {
    const char *e = scn_error();
    return e && e[0] != '\0' && strcmp(e, before) != 0;
}

/* ------------------------------------------------------------------ GEMM */

/* Element (r, c) of op(M) for a stored matrix M with row stride ld. */
static float op_at(const float *Mat, int ld, int trans, int r, int c) {
    return trans ? Mat[(size_t)c * ld + r] : Mat[(size_t)r * ld + c];
}

static int gemm_cases = 0;

/* One GEMM, checked against a double-precision reference. pad* widen the
 * leading dimensions beyond the logical width; the padding of A and B holds
 * NaN (reading it would poison C) and that of C a sentinel that must
 * survive. */
static void gemm_case(int ta, int tb, int M, int N, int K, float alpha, float beta,
                      int padA, int padB, int padC) {
    int rowsA = ta ? K : M, colsA = ta ? M : K;
    int rowsB = tb ? N : K, colsB = tb ? K : N;
    int lda = colsA + padA, ldb = colsB + padB, ldc = N + padC;
    size_t szA = (size_t)rowsA * lda, szB = (size_t)rowsB * ldb, szC = (size_t)M * ldc;
    float *A = (float *)xmalloc(szA * sizeof(float));
    float *B = (float *)xmalloc(szB * sizeof(float));
    float *C = (float *)xmalloc(szC * sizeof(float));
    float *A0 = (float *)xmalloc(szA * sizeof(float));
    float *B0 = (float *)xmalloc(szB * sizeof(float));
    float *C0 = (float *)xmalloc(szC * sizeof(float));
    double *opA = (double *)xmalloc((size_t)M * K * sizeof(double));
    double *opBt = (double *)xmalloc((size_t)N * K * sizeof(double));
    const float sentinel = -12345.5f;
    int i, j, p, bad = 0, bad_i = -1, bad_j = -1, pad_ok = 1;
    double bad_got = 0.0, bad_ref = 0.0, bad_tol = 0.0;

    for (i = 0; i < rowsA; i++)
        for (j = 0; j < lda; j++) A[(size_t)i * lda + j] = j < colsA ? tr_sym() : qnan();
    for (i = 0; i < rowsB; i++)
        for (j = 0; j < ldb; j++) B[(size_t)i * ldb + j] = j < colsB ? tr_sym() : qnan();
    for (i = 0; i < M; i++)
        for (j = 0; j < ldc; j++)
            C[(size_t)i * ldc + j] = j >= N ? sentinel : beta == 0.0f ? qnan() : tr_sym();
    memcpy(A0, A, szA * sizeof(float));
    memcpy(B0, B, szB * sizeof(float));
    memcpy(C0, C, szC * sizeof(float));
    for (i = 0; i < M; i++)
        for (p = 0; p < K; p++) opA[(size_t)i * K + p] = op_at(A, lda, ta, i, p);
    for (j = 0; j < N; j++)
        for (p = 0; p < K; p++) opBt[(size_t)j * K + p] = op_at(B, ldb, tb, p, j);

    scn_gemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);

    for (i = 0; i < M; i++) {
        const double *a = opA + (size_t)i * K;
        for (j = 0; j < N; j++) {
            const double *b = opBt + (size_t)j * K;
            double s0 = 0, s1 = 0, s2 = 0, s3 = 0, t0 = 0, t1 = 0, t2 = 0, t3 = 0;
            double s, sabs, ref, scale, tol, got, err;
            /* four independent sums: the reference stays exact to ~1e-16
             * and runs four times faster than one dependent chain */
            for (p = 0; p + 4 <= K; p += 4) {
                double q0 = a[p] * b[p], q1 = a[p + 1] * b[p + 1];
                double q2 = a[p + 2] * b[p + 2], q3 = a[p + 3] * b[p + 3];
                s0 += q0; s1 += q1; s2 += q2; s3 += q3;
                t0 += fabs(q0); t1 += fabs(q1); t2 += fabs(q2); t3 += fabs(q3);
            }
            for (; p < K; p++) {
                s0 += a[p] * b[p];
                t0 += fabs(a[p] * b[p]);
            }
            s = (s0 + s1) + (s2 + s3);
            sabs = (t0 + t1) + (t2 + t3);
            ref = (double)alpha * s;
            scale = fabs((double)alpha) * sabs;
            if (beta != 0.0f) {
                ref += (double)beta * C0[(size_t)i * ldc + j];
                scale += fabs((double)beta * C0[(size_t)i * ldc + j]);
            }
            /* float32 forward error of a K-term dot product plus the final
             * alpha/beta update: a few units of roundoff per term */
            tol = 2e-7 * (K + 8) * scale + 1e-30;
            got = C[(size_t)i * ldc + j];
            err = fabs(got - ref);
            if (!(err <= tol)) {
                if (!bad) { bad_i = i; bad_j = j; bad_got = got; bad_ref = ref; bad_tol = tol; }
                bad++;
            }
        }
        for (j = N; j < ldc; j++)
            if (C[(size_t)i * ldc + j] != sentinel) pad_ok = 0;
    }
    gemm_cases++;
    CHECK(bad == 0,
          "gemm ta=%d tb=%d M=%d N=%d K=%d alpha=%g beta=%g lda=%d ldb=%d ldc=%d: "
          "%d wrong, first C[%d][%d] = %.9g, want %.9g (tol %.3g)", ta, tb, M, N, K,
          alpha, beta, lda, ldb, ldc, bad, bad_i, bad_j, bad_got, bad_ref, bad_tol);
    CHECK(pad_ok, "gemm ta=%d tb=%d M=%d N=%d K=%d: wrote into C's padding (ldc=%d)",
          ta, tb, M, N, K, ldc);
    CHECK(memcmp(A, A0, szA * sizeof(float)) == 0 && memcmp(B, B0, szB * sizeof(float)) == 0,
          "gemm ta=%d tb=%d M=%d N=%d K=%d modified A or B", ta, tb, M, N, K);
    free(A); free(B); free(C); free(A0); free(B0); free(C0); free(opA); free(opBt);
}

static const float alphas[] = { 1.0f, -0.5f };
static const float betas[] = { 0.0f, 1.0f, 0.3f };

static void test_gemm(void) {
    static const int small[] = { 1, 2, 5, 7, 13 };
    /* (M, N, K) triples that cross the KC = 256, MC = 120, NC = 512 blocking
     * (and the 6-row / 16- or 32-column microkernel edges) */
    static const int big[][3] = {
        { 257, 600, 257 }, { 600, 100, 31 }, { 13, 600, 600 }, { 257, 31, 600 },
        { 120, 512, 256 }, { 64, 100, 257 }, { 100, 64, 7 },   { 31, 257, 64 },
        { 7, 13, 600 },    { 1, 600, 257 },  { 600, 1, 100 },  { 257, 5, 1 },
        { 2, 513, 2 },     { 240, 48, 512 }, { 12, 1024, 512 }, { 5, 7, 1000 },
    };
    int ia, ib, it, c, n = 0;
    int a, b, k;

    /* every small shape, twice, with the transposes, alpha, beta and the
     * paddings cycling (each transpose pair sees 62 or 63 shapes) */
    for (a = 0; a < 5; a++)
        for (b = 0; b < 5; b++)
            for (k = 0; k < 5; k++)
                for (it = 0; it < 2; it++, n++) {
                    int t = (n + n / 4) % 4;
                    gemm_case(t >> 1, t & 1, small[a], small[b], small[k],
                              alphas[n % 2], betas[(n / 2) % 3], n % 3, (n / 3) % 4, n % 5);
                }

    /* every (trans, alpha, beta) on shapes one past the blocks: KC and MC
     * together, KC and NC together */
    for (it = 0; it < 4; it++)
        for (ia = 0; ia < 2; ia++)
            for (ib = 0; ib < 3; ib++) {
                gemm_case(it >> 1, it & 1, 121, 40, 257, alphas[ia], betas[ib], 3, 5, 7);
                gemm_case(it >> 1, it & 1, 7, 513, 257, alphas[ia], betas[ib], 2, 1, 9);
            }

    /* the big shapes, every transpose, alpha/beta and padding varying */
    for (c = 0; c < (int)(sizeof big / sizeof big[0]); c++)
        for (it = 0; it < 4; it++, n++)
            gemm_case(it >> 1, it & 1, big[c][0], big[c][1], big[c][2],
                      alphas[n % 2], betas[n % 3], (n % 2) * 9, (n % 3) * 4, n % 4);

    /* degenerate sizes: K = 0 leaves beta C; M or N = 0 touches nothing */
    for (it = 0; it < 4; it++) {
        gemm_case(it >> 1, it & 1, 5, 7, 0, 1.0f, 0.3f, 1, 2, 3);
        gemm_case(it >> 1, it & 1, 5, 7, 0, -0.5f, 0.0f, 0, 0, 2);
        gemm_case(it >> 1, it & 1, 0, 7, 5, 1.0f, 0.3f, 1, 1, 1);
        gemm_case(it >> 1, it & 1, 5, 0, 5, 1.0f, 0.0f, 1, 1, 1);
    }
    /* alpha = 0: C = beta C */
    gemm_case(0, 0, 31, 64, 13, 0.0f, 0.3f, 0, 0, 0);
    gemm_case(1, 1, 31, 64, 13, 0.0f, 0.0f, 2, 2, 2);
}

/* Same inputs, same bits: twice in a row and (with OpenMP) for 1 and 2
 * threads. */
/* Every microkernel this machine can run, not only the one picked. */
static void test_gemm_kernels(void) {
    size_t i;
    int ta, tb;
    const char *name;
    int runs;
    for (i = 0; (name = scn_gemm_kernel_name((int)i, &runs)) != NULL; i++) {
        if (!runs) {
            CHECK(scn_gemm_kernel_select(name) == SCN_ERR_ARG, "%s selected", name);
            continue;
        }
        CHECK(scn_gemm_kernel_select(name) == SCN_OK && !strcmp(scn_gemm_kernel(), name),
              "%s: %s", name, scn_error());
        for (ta = 0; ta < 2; ta++)
            for (tb = 0; tb < 2; tb++) {
                gemm_case(ta, tb, 13, 37, 5, 1.0f, 0.0f, 0, 0, 0);
                gemm_case(ta, tb, 121, 600, 257, -0.5f, 0.3f, 3, 1, 2);
            }
    }
    CHECK(scn_gemm_kernel_select("vax") == SCN_ERR_ARG, "an unknown kernel selected");
    CHECK(scn_gemm_kernel_select(NULL) == SCN_OK, "%s", scn_error());
    for (i = 0; (name = scn_gemm_kernel_name((int)i, &runs)) != NULL && !runs; i++) {}
    CHECK(name && !strcmp(scn_gemm_kernel(), name), "the default %s is not the best kernel "
          "this CPU runs", scn_gemm_kernel());
#if defined(__aarch64__) && defined(__ARM_NEON) && (defined(__GNUC__) || defined(__clang__))
    CHECK(!strcmp(scn_gemm_kernel(), "neon"), "AArch64 runs the %s kernel, not neon",
          scn_gemm_kernel());
#endif
    printf("math: kernels tested:");
    for (i = 0; (name = scn_gemm_kernel_name((int)i, &runs)) != NULL; i++)
        if (runs) printf(" %s", name);
    printf("\n");
}

static void test_gemm_determinism(void) {
    /* 5 x 2 tiles of MC x NC, so that both threads get some */
    const int M = 600, N = 600, K = 300;
    float *A = (float *)xmalloc((size_t)M * K * sizeof(float));
    float *B = (float *)xmalloc((size_t)K * N * sizeof(float));
    float *C1 = (float *)xmalloc((size_t)M * N * sizeof(float));
    float *C2 = (float *)xmalloc((size_t)M * N * sizeof(float));
    size_t i;
    int it;
    for (i = 0; i < (size_t)M * K; i++) A[i] = tr_sym();
    for (i = 0; i < (size_t)K * N; i++) B[i] = tr_sym();
    for (it = 0; it < 4; it++) {
        int ta = it >> 1, tb = it & 1;
        int lda = ta ? M : K, ldb = tb ? K : N;
        scn_gemm(ta, tb, M, N, K, -0.5f, A, lda, B, ldb, 0.0f, C1, N);
        scn_gemm(ta, tb, M, N, K, -0.5f, A, lda, B, ldb, 0.0f, C2, N);
        CHECK(memcmp(C1, C2, (size_t)M * N * sizeof(float)) == 0,
              "gemm ta=%d tb=%d: two identical calls differ", ta, tb);
#ifdef _OPENMP
        {
            int saved = omp_get_max_threads(), t;
            omp_set_num_threads(1);
            scn_gemm(ta, tb, M, N, K, -0.5f, A, lda, B, ldb, 0.0f, C1, N);
            /* the tiles go to threads dynamically: try a few times */
            for (t = 0; t < 3; t++) {
                omp_set_num_threads(2);
                scn_gemm(ta, tb, M, N, K, -0.5f, A, lda, B, ldb, 0.0f, C2, N);
                CHECK(memcmp(C1, C2, (size_t)M * N * sizeof(float)) == 0,
                      "gemm ta=%d tb=%d: 1 and 2 threads differ (try %d)", ta, tb, t);
            }
            omp_set_num_threads(saved);
        }
#endif
    }
    free(A); free(B); free(C1); free(C2);
}

/* ------------------------------------------------------- conv geometry */

static void test_conv_geom(void) {
    /* N, C, H, W, k, stride, pad, Ho, Wo */
    static const int ok[][9] = {
        { 1, 1, 5, 5, 3, 1, 0, 3, 3 },
        { 2, 3, 7, 5, 3, 2, 1, 4, 3 },
        { 1, 1, 28, 28, 5, 1, 2, 28, 28 },
        { 1, 1, 4, 4, 5, 1, 2, 4, 4 },
        { 1, 2, 6, 9, 1, 1, 0, 6, 9 },
        { 4, 1, 10, 7, 4, 3, 3, 5, 4 },
        { 1, 1, 1, 1, 1, 1, 0, 1, 1 },
        { 1, 1, 5, 5, 5, 1, 0, 1, 1 },
        { 1, 1, 3, 3, 2, 5, 1, 1, 1 },
        { 3, 2, 8, 6, 2, 2, 0, 4, 3 },
        { 1, 1, 9, 8, 3, 2, 0, 4, 3 },
    };
    /* N, C, H, W, k, stride, pad that must be refused */
    static const int bad[][7] = {
        { 1, 1, 5, 5, 0, 1, 0 },    /* k < 1 */
        { 1, 1, 5, 5, -1, 1, 0 },
        { 1, 1, 5, 5, 3, 0, 0 },    /* stride < 1 */
        { 1, 1, 5, 5, 3, -2, 0 },
        { 1, 1, 5, 5, 3, 1, 3 },    /* pad >= k */
        { 1, 1, 5, 5, 3, 1, 4 },
        { 1, 1, 5, 5, 1, 1, 1 },
        { 1, 1, 5, 5, 3, 1, -1 },   /* pad < 0 */
        { 1, 1, 2, 5, 5, 1, 1 },    /* kernel larger than the padded input */
        { 1, 1, 5, 2, 5, 1, 1 },
        { 1, 1, 4, 4, 7, 1, 0 },
        { 0, 1, 5, 5, 3, 1, 0 },    /* non-positive sizes */
        { 1, 0, 5, 5, 3, 1, 0 },
        { 1, 1, 0, 5, 1, 1, 0 },
        { 1, 1, 5, 0, 1, 1, 0 },
        { -1, 1, 5, 5, 3, 1, 0 },
        { 1, 1, 5, -3, 1, 1, 0 },
        { 1 << 20, 1, 64, 64, 1, 1, 0 },   /* P = 2^32 columns: too large */
    };
    size_t c;
    for (c = 0; c < sizeof ok / sizeof ok[0]; c++) {
        const int *v = ok[c];
        scn_conv_geom g;
        scn_status s;
        memset(&g, 0xff, sizeof g);
        s = scn_conv_geom_init(&g, v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
        CHECK(s == SCN_OK, "conv geom case %d: status %d (%s)", (int)c, (int)s, scn_error());
        if (s != SCN_OK) continue;
        CHECK(g.N == v[0] && g.C == v[1] && g.H == v[2] && g.W == v[3] &&
              g.k == v[4] && g.stride == v[5] && g.pad == v[6],
              "conv geom case %d: input fields not recorded", (int)c);
        CHECK(g.Ho == v[7] && g.Wo == v[8], "conv geom case %d: Ho x Wo = %d x %d, want %d x %d",
              (int)c, g.Ho, g.Wo, v[7], v[8]);
        CHECK(g.m == v[1] * v[4] * v[4], "conv geom case %d: m = %d, want %d", (int)c, g.m,
              v[1] * v[4] * v[4]);
        CHECK(g.P == v[0] * v[7] * v[8], "conv geom case %d: P = %d, want %d", (int)c, g.P,
              v[0] * v[7] * v[8]);
    }
    for (c = 0; c < sizeof bad / sizeof bad[0]; c++) {
        const int *v = bad[c];
        scn_conv_geom g;
        scn_status s;
        char before[512];
        plant_tensor_error();
        snprintf(before, sizeof before, "%s", scn_error());
        s = scn_conv_geom_init(&g, v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
        CHECK(s == SCN_ERR_ARG, "conv geom (%d,%d,%d,%d,k=%d,s=%d,p=%d): status %d, want "
              "SCN_ERR_ARG", v[0], v[1], v[2], v[3], v[4], v[5], v[6], (int)s);
        CHECK(fresh_message(before), "conv geom (%d,%d,%d,%d,k=%d,s=%d,p=%d): no message "
              "(scn_error() = \"%s\")", v[0], v[1], v[2], v[3], v[4], v[5], v[6], scn_error());
    }
}

/* ------------------------------------------------------ im2col / col2im */

static void test_im2col_case(int N, int C, int H, int W, int k, int s, int pad) {
    scn_conv_geom g;
    size_t nx, nX, i;
    float *x, *X, *Y, *xb;
    double *ref_back, lhs = 0.0, rhs = 0.0, nrm = 0.0;
    int c, ki, kj, b, oy, ox, wrong = 0, wrong_back = 0;
    if (scn_conv_geom_init(&g, N, C, H, W, k, s, pad) != SCN_OK) {
        CHECK(0, "geometry %d %d %d %d k=%d s=%d p=%d refused: %s", N, C, H, W, k, s, pad,
              scn_error());
        return;
    }
    nx = (size_t)N * C * H * W;
    nX = (size_t)g.m * g.P;
    x = (float *)xmalloc(nx * sizeof(float));
    xb = (float *)xmalloc(nx * sizeof(float));
    X = (float *)xmalloc(nX * sizeof(float));
    Y = (float *)xmalloc(nX * sizeof(float));
    ref_back = (double *)xmalloc(nx * sizeof(double));
    for (i = 0; i < nx; i++) { x[i] = tr_sym(); xb[i] = qnan(); ref_back[i] = 0.0; }
    for (i = 0; i < nX; i++) { X[i] = qnan(); Y[i] = tr_sym(); }

    scn_im2col(&g, x, X);
    scn_col2im(&g, Y, xb);      /* xb held NaN: col2im must zero it first */

    for (c = 0; c < C; c++)
        for (ki = 0; ki < k; ki++)
            for (kj = 0; kj < k; kj++) {
                size_t row = (size_t)c * k * k + (size_t)ki * k + kj;
                for (b = 0; b < N; b++)
                    for (oy = 0; oy < g.Ho; oy++)
                        for (ox = 0; ox < g.Wo; ox++) {
                            size_t col = ((size_t)b * g.Ho + oy) * g.Wo + ox;
                            int y = oy * s - pad + ki, xx = ox * s - pad + kj;
                            int inside = y >= 0 && y < H && xx >= 0 && xx < W;
                            size_t src = (((size_t)b * C + c) * H + (inside ? y : 0)) * W +
                                         (inside ? xx : 0);
                            float want = inside ? x[src] : 0.0f;
                            float got = X[row * g.P + col];
                            /* im2col only copies: exact equality */
                            if (!(got == want)) wrong++;
                            if (inside) ref_back[src] += Y[row * g.P + col];
                            lhs += (double)X[row * g.P + col] * Y[row * g.P + col];
                        }
            }
    for (i = 0; i < nx; i++) {
        double d = fabs((double)xb[i] - ref_back[i]);
        if (!(d <= 1e-5 * (1.0 + fabs(ref_back[i])))) wrong_back++;
        rhs += (double)x[i] * xb[i];
        nrm += fabs((double)x[i] * xb[i]);
    }
    CHECK(wrong == 0, "im2col N=%d C=%d H=%d W=%d k=%d s=%d p=%d: %d of %zu entries wrong",
          N, C, H, W, k, s, pad, wrong, nX);
    CHECK(wrong_back == 0, "col2im N=%d C=%d H=%d W=%d k=%d s=%d p=%d: %d of %zu entries "
          "wrong", N, C, H, W, k, s, pad, wrong_back, nx);
    CHECK(fabs(lhs - rhs) <= 1e-5 * (1.0 + nrm),
          "adjoint N=%d C=%d H=%d W=%d k=%d s=%d p=%d: <im2col x, Y> = %.12g, "
          "<x, col2im Y> = %.12g", N, C, H, W, k, s, pad, lhs, rhs);
    free(x); free(xb); free(X); free(Y); free(ref_back);
}

static void test_im2col(void) {
    /* N, C, H, W, k, stride, pad */
    static const int cases[][7] = {
        { 1, 1, 5, 5, 3, 1, 0 },
        { 1, 1, 5, 5, 3, 1, 1 },
        { 2, 3, 7, 5, 3, 2, 1 },
        { 1, 2, 6, 9, 1, 1, 0 },
        { 3, 1, 4, 4, 1, 2, 0 },
        { 3, 2, 8, 6, 4, 3, 2 },
        { 2, 1, 4, 4, 5, 1, 2 },
        { 1, 2, 9, 9, 2, 3, 1 },
        { 2, 3, 11, 6, 3, 2, 2 },
        { 1, 1, 1, 1, 1, 1, 0 },
        { 4, 3, 16, 13, 5, 2, 2 },
        { 2, 4, 10, 3, 3, 1, 1 },
        { 2, 2, 3, 2, 5, 2, 3 },          /* whole window rows in the padding */
        { 1, 1, 7, 7, 3, 3, 0 },
    };
    size_t c;
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++)
        test_im2col_case(cases[c][0], cases[c][1], cases[c][2], cases[c][3], cases[c][4],
                         cases[c][5], cases[c][6]);
}

/* ---------------------------------------------------------------- tensors */

static void test_tensors(void) {
    int shape3[3] = { 2, 3, 4 }, s;
    scn_tensor *t, *t4;
    scn_tensor v;
    size_t i;
    int all_zero = 1;
    char before[512];

    t = scn_tensor_create(3, shape3);
    CHECK(t != NULL, "scn_tensor_create(2x3x4) failed: %s", scn_error());
    if (t) {
        CHECK(t->ndim == 3 && t->shape[0] == 2 && t->shape[1] == 3 && t->shape[2] == 4,
              "create: shape %d (%d %d %d)", t->ndim, t->shape[0], t->shape[1], t->shape[2]);
        CHECK(t->size == 24, "create: size %zu, want 24", t->size);
        CHECK(t->owns != 0, "create: tensor does not own its data");
        CHECK(t->data != NULL, "create: no data");
        for (i = 0; i < t->size; i++)
            if (t->data[i] != 0.0f) all_zero = 0;
        CHECK(all_zero, "create: data not zero-filled");
        for (i = 0; i < t->size; i++) t->data[i] = (float)i;

        /* views */
        {
            int vs[2] = { 3, 4 };
            s = scn_tensor_view(t, 12, 2, vs, &v);
            CHECK(s == SCN_OK, "view 3x4 at 12 of 24: status %d (%s)", s, scn_error());
            if (s == SCN_OK) {
                CHECK(v.data == t->data + 12, "view: data pointer not at the offset");
                CHECK(v.ndim == 2 && v.shape[0] == 3 && v.shape[1] == 4 && v.size == 12,
                      "view: shape %d (%d %d) size %zu", v.ndim, v.shape[0], v.shape[1], v.size);
                CHECK(v.owns == 0, "view claims to own its data");
                CHECK(v.data[0] == 12.0f && v.data[11] == 23.0f, "view: wrong elements");
            }
            vs[0] = 24; vs[1] = 1;
            s = scn_tensor_view(t, 0, 2, vs, &v);
            CHECK(s == SCN_OK, "view of the whole tensor: status %d (%s)", s, scn_error());
            vs[0] = 1; vs[1] = 1;
            s = scn_tensor_view(t, 23, 2, vs, &v);
            CHECK(s == SCN_OK, "view of the last element: status %d (%s)", s, scn_error());
        }
        {
            struct { size_t off; int ndim; int shape[4]; } badv[] = {
                { 13, 2, { 3, 4, 0, 0 } },      /* one past the end */
                { 0, 1, { 25, 0, 0, 0 } },      /* larger than the tensor */
                { 24, 1, { 1, 0, 0, 0 } },      /* starts at the end */
                { 25, 1, { 1, 0, 0, 0 } },      /* starts past the end */
                { (size_t)-1, 1, { 2, 0, 0, 0 } },  /* offset + size wraps around */
                { 0, 0, { 1, 0, 0, 0 } },       /* bad ndim */
                { 0, 5, { 1, 1, 1, 1 } },
                { 0, 2, { -1, 2, 0, 0 } },      /* negative dimension */
            };
            size_t c;
            for (c = 0; c < sizeof badv / sizeof badv[0]; c++) {
                int sh[5] = { 0, 0, 0, 0, 1 };
                memcpy(sh, badv[c].shape, sizeof badv[c].shape);
                plant_conv_error();
                snprintf(before, sizeof before, "%s", scn_error());
                s = scn_tensor_view(t, badv[c].off, badv[c].ndim, sh, &v);
                CHECK(s == SCN_ERR_ARG, "bad view %d: status %d, want SCN_ERR_ARG", (int)c, s);
                CHECK(fresh_message(before), "bad view %d: no message", (int)c);
            }
        }

        /* reshape */
        {
            int r2[2] = { 6, 4 }, r4[4] = { 1, 2, 3, 4 }, rbad[2] = { 5, 5 }, rneg[2] = { -6, -4 };
            int rsmall[2] = { 5, 4 };
            s = scn_tensor_reshape(t, 2, r2);
            CHECK(s == SCN_OK, "reshape 24 -> 6x4: status %d (%s)", s, scn_error());
            CHECK(t->ndim == 2 && t->shape[0] == 6 && t->shape[1] == 4 && t->size == 24,
                  "reshape: shape %d (%d %d) size %zu", t->ndim, t->shape[0], t->shape[1],
                  t->size);
            CHECK(t->data[23] == 23.0f, "reshape changed the data");
            s = scn_tensor_reshape(t, 4, r4);
            CHECK(s == SCN_OK && t->ndim == 4 && t->shape[3] == 4, "reshape 24 -> 1x2x3x4");
            plant_conv_error();
            snprintf(before, sizeof before, "%s", scn_error());
            s = scn_tensor_reshape(t, 2, rbad);
            CHECK(s == SCN_ERR_ARG, "reshape 24 -> 25: status %d, want SCN_ERR_ARG", s);
            CHECK(fresh_message(before), "reshape 24 -> 25: no message");
            CHECK(t->ndim == 4 && t->shape[0] == 1 && t->shape[1] == 2 && t->shape[2] == 3 &&
                  t->shape[3] == 4 && t->size == 24, "failed reshape changed the tensor");
            plant_conv_error();
            snprintf(before, sizeof before, "%s", scn_error());
            s = scn_tensor_reshape(t, 2, rsmall);
            CHECK(s == SCN_ERR_ARG, "reshape 24 -> 20: status %d, want SCN_ERR_ARG", s);
            CHECK(fresh_message(before), "reshape 24 -> 20: no message");
            CHECK(t->ndim == 4 && t->size == 24, "failed reshape changed the tensor");
            plant_conv_error();
            snprintf(before, sizeof before, "%s", scn_error());
            s = scn_tensor_reshape(t, 2, rneg);
            CHECK(s == SCN_ERR_ARG, "reshape to negative dims: status %d", s);
            CHECK(fresh_message(before), "reshape to negative dims: no message");
            plant_conv_error();
            snprintf(before, sizeof before, "%s", scn_error());
            s = scn_tensor_reshape(t, 5, r4);
            CHECK(s == SCN_ERR_ARG && fresh_message(before), "reshape to 5 dims: status %d", s);
        }
        scn_tensor_free(t);
    }

    t4 = scn_tensor_create4(2, 3, 5, 7);
    CHECK(t4 != NULL, "create4 failed: %s", scn_error());
    if (t4) {
        CHECK(t4->ndim == 4 && t4->shape[0] == 2 && t4->shape[1] == 3 && t4->shape[2] == 5 &&
              t4->shape[3] == 7 && t4->size == 210 && t4->owns,
              "create4: shape %d (%d %d %d %d) size %zu", t4->ndim, t4->shape[0],
              t4->shape[1], t4->shape[2], t4->shape[3], t4->size);
        all_zero = 1;
        for (i = 0; i < t4->size; i++)
            if (t4->data[i] != 0.0f) all_zero = 0;
        CHECK(all_zero, "create4: data not zero-filled");
        scn_tensor_free(t4);
    }
    scn_tensor_free(NULL);     /* documented as fine */

    /* refused shapes */
    {
        int sh5[5] = { 1, 1, 1, 1, 1 }, neg[2] = { 3, -1 }, huge[4] = { 2147483647,
            2147483647, 2147483647, 2147483647 };
        struct { int ndim; const int *shape; const char *what; } badc[] = {
            { 0, sh5, "ndim 0" }, { 5, sh5, "ndim 5" }, { -1, sh5, "ndim -1" },
            { 2, neg, "negative dimension" }, { 4, huge, "overflowing size" },
        };
        size_t c;
        for (c = 0; c < sizeof badc / sizeof badc[0]; c++) {
            plant_conv_error();
            snprintf(before, sizeof before, "%s", scn_error());
            t = scn_tensor_create(badc[c].ndim, badc[c].shape);
            CHECK(t == NULL, "create with %s did not fail", badc[c].what);
            CHECK(fresh_message(before), "create with %s: no message", badc[c].what);
            scn_tensor_free(t);
        }
        plant_conv_error();
        snprintf(before, sizeof before, "%s", scn_error());
        t = scn_tensor_create4(2, -3, 4, 4);
        CHECK(t == NULL && fresh_message(before), "create4 with a negative dimension");
        scn_tensor_free(t);
    }
}

/* ------------------------------------------------------------------- RNG */

static void test_rng(void) {
    scn_rng a, b, c;
    int i, same, differ;
    const int n = 100000;
    double sum, sum2, mn, mx;
    long counts[10];
    int below_ok;

    /* the PCG32 reference (pcg32-demo: seed 42, stream 54) */
    {
        static const uint32_t want[6] = { 0xa15c02b7u, 0x7b47f409u, 0xba1d3330u,
                                          0x83d2f293u, 0xbfa4784bu, 0xcbed606eu };
        int ok = 1;
        scn_rng_seed(&a, 42u, 54u);
        for (i = 0; i < 6; i++)
            if (scn_rng_u32(&a) != want[i]) ok = 0;
        CHECK(ok, "scn_rng_u32 does not reproduce the PCG32 reference sequence");
    }

    /* a zeroed generator draws (scn_rng_below on a generator stuck at 0
     * would never return): the same as stream 0 from state 0 */
    memset(&a, 0, sizeof a);
    b.state = 0;
    b.inc = 1;
    differ = same = 0;
    for (i = 0; i < 100; i++) {
        uint32_t x = scn_rng_u32(&a);
        differ += x != 0;
        same += x == scn_rng_u32(&b);
    }
    CHECK(differ > 90 && same == 100 && scn_rng_below(&a, 3) < 3,
          "a zeroed generator: %d of 100 draws nonzero, %d as stream 0", differ, same);

    scn_rng_seed(&a, 12345u, 7u);
    scn_rng_seed(&b, 12345u, 7u);
    same = 1;
    for (i = 0; i < 1000; i++)
        if (scn_rng_u32(&a) != scn_rng_u32(&b)) same = 0;
    CHECK(same, "same seed and stream gave different sequences");

    scn_rng_seed(&a, 12345u, 7u);
    scn_rng_seed(&b, 12346u, 7u);
    scn_rng_seed(&c, 12345u, 8u);
    differ = 0;
    same = 0;
    for (i = 0; i < 100; i++) {
        uint32_t x = scn_rng_u32(&a), y = scn_rng_u32(&b), z = scn_rng_u32(&c);
        differ += x != y;
        same += x != z;
    }
    CHECK(differ > 90, "different seeds: only %d of 100 draws differ", differ);
    CHECK(same > 90, "different streams: only %d of 100 draws differ", same);

    /* uniform: [0, 1), mean 1/2, variance 1/12 */
    scn_rng_seed(&a, 2024u, 1u);
    sum = sum2 = 0.0;
    mn = 1.0; mx = 0.0;
    for (i = 0; i < n; i++) {
        float u = scn_rng_uniform(&a);
        if (u < mn) mn = u;
        if (u > mx) mx = u;
        sum += u;
        sum2 += (double)u * u;
    }
    CHECK(mn >= 0.0 && mx < 1.0, "uniform outside [0, 1): min %g max %g", mn, mx);
    CHECK(mn < 1e-3 && mx > 1.0 - 1e-3, "uniform does not cover [0, 1): min %g max %g", mn, mx);
    CHECK_NEAR(sum / n, 0.5, 0.005);
    CHECK_NEAR(sum2 / n - (sum / n) * (sum / n), 1.0 / 12.0, 0.003);

    /* normal: mean 0, variance 1, finite */
    scn_rng_seed(&a, 99u, 3u);
    sum = sum2 = 0.0;
    same = 1;
    for (i = 0; i < n; i++) {
        float z = scn_rng_normal(&a);
        if (!isfinite(z)) same = 0;
        sum += z;
        sum2 += (double)z * z;
    }
    CHECK(same, "normal produced a NaN or infinity");
    CHECK(fabs(sum / n) < 0.02, "normal mean %g", sum / n);
    CHECK(fabs(sum2 / n - 1.0) < 0.03, "normal variance %g", sum2 / n);

    /* below: always < bound, roughly uniform for bound 10 */
    scn_rng_seed(&a, 7u, 11u);
    memset(counts, 0, sizeof counts);
    below_ok = 1;
    for (i = 0; i < n; i++) {
        uint32_t r = scn_rng_below(&a, 10u);
        if (r >= 10u) below_ok = 0;
        else counts[r]++;
    }
    CHECK(below_ok, "scn_rng_below(10) returned a value >= 10");
    for (i = 0; i < 10; i++)
        CHECK(counts[i] > n / 10 - 500 && counts[i] < n / 10 + 500,
              "scn_rng_below(10): value %d drawn %ld times of %d", i, counts[i], n);
    below_ok = 1;
    for (i = 0; i < 1000; i++) {
        if (scn_rng_below(&a, 1u) != 0u) below_ok = 0;
        if (scn_rng_below(&a, 3u) >= 3u) below_ok = 0;
        if (scn_rng_below(&a, 0x80000001u) >= 0x80000001u) below_ok = 0;
        if (scn_rng_below(&a, 0xffffffffu) >= 0xffffffffu) below_ok = 0;
    }
    CHECK(below_ok, "scn_rng_below out of range for bounds 1, 3, 2^31+1 or 2^32-1");
}

/* Row strides shorter than the rows they step over are refused. */
static void test_gemm_strides(void) {
    float A[6] = {0}, B[6] = {0}, C[4] = {0};
    CHECK(scn_gemm(0, 0, 2, 2, 3, 1.0f, A, 2, B, 2, 0.0f, C, 2) == SCN_ERR_ARG,
          "lda 2 < K 3 accepted");
    CHECK(scn_gemm(0, 0, 2, 2, 3, 1.0f, A, 3, B, 1, 0.0f, C, 2) == SCN_ERR_ARG,
          "ldb 1 < N 2 accepted");
    CHECK(scn_gemm(1, 1, 2, 2, 3, 1.0f, A, 2, B, 3, 0.0f, C, 1) == SCN_ERR_ARG,
          "ldc 1 < N 2 accepted");
    CHECK(scn_gemm(1, 1, 2, 2, 3, 1.0f, A, 2, B, 3, 0.0f, C, 2) == SCN_OK, "%s",
          scn_error());
}

/* --------------------------------------------------------------- backend */

static int count_gemm = 0, count_im2col = 0, count_up = 0, count_down = 0;

static scn_status counting_gemm(scn_workspace *ws, int ta, int tb, int M, int N, int K,
                                float alpha, const float *A, int lda, const float *B, int ldb,
                                float beta, float *C, int ldc) {
    count_gemm++;
    return scn_backend_cpu()->gemm(ws, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

static scn_status counting_im2col(const scn_conv_geom *g, const float *x, float *X) {
    count_im2col++;
    return scn_backend_cpu()->im2col(g, x, X);
}

static scn_status counting_upload(void *dst, const void *src, size_t bytes) {
    count_up++;
    memcpy(dst, src, bytes);
    return SCN_OK;
}

static scn_status counting_download(void *dst, const void *src, size_t bytes) {
    count_down++;
    memcpy(dst, src, bytes);
    return SCN_OK;
}

/* One training step, an evaluation forward and a checkpoint image of a
 * net made under the current backend. */
static void device_run(scn_net **net, scn_sgd *opt, const float *x, float *dx,
                       float *logits, unsigned char **ckpt, size_t *len) {
    static const unsigned char labels[3] = { 0, 3, 1 };
    float dlogits[3 * 4];
    const float *z;
    *net = scn_net_create("conv:n=3 bn relu dropout:p=0.2 res[ conv:n=3 relu ] "
                          "res[ conv:n=4,s=2 ] gap linear:n=4", 2, 6, 6, 5);
    CHECK(*net && scn_sgd_init(opt, *net, NULL) == SCN_OK, "%s", scn_error());
    if (!*net) return;
    scn_net_zero_grad(*net);
    z = scn_net_forward(*net, x, 3, 1);
    CHECK(z && scn_softmax_xent(z, labels, 3, 4, dlogits, NULL, NULL) == SCN_OK &&
          scn_net_backward(*net, dlogits, dx) == SCN_OK &&
          scn_sgd_step(opt, *net, 0.1f) == SCN_OK, "%s", scn_error());
    z = scn_net_forward(*net, x, 3, 0);
    CHECK(z != NULL, "%s", scn_error());
    if (z) memcpy(logits, z, sizeof(float) * 3 * 4);
    CHECK(scn_checkpoint_encode(*net, opt, NULL, ckpt, len) == SCN_OK, "%s", scn_error());
}

/* A backend whose memory is "device" memory (host_memory 0; here the host's
 * own, copied through counting upload and download): the net moves its
 * input, logits, gradients and checkpoint through them and computes the
 * same bits as on the CPU backend. */
static void test_device_backend(void) {
    scn_backend dev = *scn_backend_cpu();
    scn_net *a = NULL, *b = NULL;
    scn_sgd oa, ob;
    float x[3 * 2 * 36], dxa[3 * 2 * 36], dxb[3 * 2 * 36], la[12], lb[12];
    unsigned char *ca = NULL, *cb = NULL;
    size_t na = 0, nb = 0;
    int i;
    for (i = 0; i < 3 * 2 * 36; i++) x[i] = (float)((i * 37) % 11) / 11.0f - 0.4f;
    dev.name = "device";
    dev.host_memory = 0;
    dev.upload = counting_upload;
    dev.download = counting_download;
    device_run(&a, &oa, x, dxa, la, &ca, &na);
    scn_backend_set(&dev);
    device_run(&b, &ob, x, dxb, lb, &cb, &nb);
    scn_backend_set(NULL);
    CHECK(count_up >= 3 && count_down >= 4, "uploads %d, downloads %d", count_up, count_down);
    CHECK(a && b && !memcmp(scn_net_params(a), scn_net_params(b),
                            scn_net_param_count(a) * sizeof(float)), "parameters differ");
    CHECK(!memcmp(dxa, dxb, sizeof dxa) && !memcmp(la, lb, sizeof la), "dx or logits differ");
    CHECK(na == nb && na && !memcmp(ca, cb, na), "checkpoint images differ");
    scn_mem_free(ca);
    scn_mem_free(cb);
    if (a) scn_sgd_free(&oa);
    if (b) scn_sgd_free(&ob);
    scn_net_free(a);
    scn_net_free(b);
}

static void test_backend(void) {
    const scn_backend *cpu = scn_backend_cpu();
    scn_backend mine;
    float A[6] = { 1, 2, 3, 4, 5, 6 }, B[6] = { 1, 0, 0, 1, 1, 1 }, C[4] = { 0, 0, 0, 0 };
    float x[9], X[4 * 4];
    scn_conv_geom g;
    int i;

    CHECK(cpu != NULL, "scn_backend_cpu() is NULL");
    if (!cpu) return;
    CHECK(scn_backend_get() == cpu, "the initial backend is not the CPU one");
    CHECK(cpu->name && cpu->name[0], "the CPU backend has no name");
    CHECK(cpu->host_memory && cpu->alloc && cpu->release && cpu->upload && cpu->download &&
          cpu->gemm && cpu->im2col && cpu->col2im && cpu->cols_to_nchw &&
          cpu->nchw_to_cols && cpu->en_solve && cpu->en_backward && cpu->fill && cpu->copy &&
          cpu->axpy && cpu->relu && cpu->relu_backward && cpu->mul && cpu->broadcast &&
          cpu->sum_add && cpu->dot && cpu->sparsity && cpu->find_nonfinite &&
          cpu->bn_forward && cpu->bn_backward && cpu->maxpool && cpu->maxpool_backward &&
          cpu->avgpool && cpu->avgpool_backward && cpu->sgd_update && cpu->clamp_min &&
          cpu->col_norm_clip, "the CPU backend has a NULL entry");

    mine = *cpu;
    mine.name = "counting";
    mine.gemm = counting_gemm;
    mine.im2col = counting_im2col;
    scn_backend_set(&mine);
    CHECK(scn_backend_get() == &mine, "scn_backend_set did not install the table");

    /* [1 2 3; 4 5 6] * [1 0; 0 1; 1 1] = [4 5; 10 11] */
    scn_gemm(0, 0, 2, 2, 3, 1.0f, A, 3, B, 2, 0.0f, C, 2);
    CHECK(count_gemm == 1, "scn_gemm called the backend's gemm %d times, want 1", count_gemm);
    CHECK(C[0] == 4 && C[1] == 5 && C[2] == 10 && C[3] == 11,
          "gemm through the backend: %g %g %g %g", C[0], C[1], C[2], C[3]);
    for (i = 0; i < 9; i++) x[i] = (float)i;
    if (scn_conv_geom_init(&g, 1, 1, 3, 3, 2, 1, 0) == SCN_OK) {
        scn_im2col(&g, x, X);
        CHECK(count_im2col == 1, "scn_im2col called the backend's im2col %d times",
              count_im2col);
        CHECK(X[0] == 0 && X[3] == 4 && X[15] == 8, "im2col through the backend");
    }

    scn_backend_set(NULL);
    CHECK(scn_backend_get() == cpu, "scn_backend_set(NULL) did not restore the CPU backend");
    scn_gemm(0, 0, 2, 2, 3, -0.5f, A, 3, B, 2, 1.0f, C, 2);
    CHECK(count_gemm == 1, "after restoring, scn_gemm still reached the old table");
    CHECK(C[0] == 2 && C[1] == 2.5f && C[2] == 5 && C[3] == 5.5f,
          "gemm after restoring: %g %g %g %g", C[0], C[1], C[2], C[3]);
}

/* ---------------------------------------------------------------- errors */

static void test_status_strings(void) {
    static const scn_status all[] = { SCN_OK, SCN_ERR_NOMEM, SCN_ERR_IO, SCN_ERR_FORMAT,
                                      SCN_ERR_ARG, SCN_ERR_NUMERIC };
    const int n = (int)(sizeof all / sizeof all[0]);
    int i, j;
    const char *u;
    for (i = 0; i < n; i++) {
        const char *s = scn_status_string(all[i]);
        CHECK(s != NULL && s[0] != '\0', "scn_status_string(%d) is empty", (int)all[i]);
        if (!s) continue;
        for (j = 0; j < i; j++) {
            const char *t = scn_status_string(all[j]);
            CHECK(!t || strcmp(s, t) != 0, "statuses %d and %d share the string \"%s\"",
                  (int)all[i], (int)all[j], s);
        }
    }
    u = scn_status_string((scn_status)99);
    CHECK(u != NULL && u[0] != '\0', "scn_status_string(99) is empty");
}

int main(void) {
    CHECK(scn_error() != NULL && scn_error()[0] == '\0',
          "scn_error() before any failure is \"%s\", want \"\"", scn_error());
    test_status_strings();
    test_tensors();
    test_rng();
    test_conv_geom();
    test_im2col();
    test_backend();
    test_device_backend();
    test_gemm_strides();
    test_gemm();
    test_gemm_kernels();
    test_gemm_determinism();
    CHECK(gemm_cases >= 380, "only %d gemm cases ran", gemm_cases);
    return check_summary("math");
}
