/* test_solver.c - the elastic-net solver: optimality (KKT), polishing,
 * the step bound, warm start, fixed iterations, determinism, bad input. */
#include "../scn.h"
#include "check.h"
#include "common.h"
#ifdef _OPENMP
#include <omp.h>
#endif

typedef struct { int m, n, P; float corr, l1, l2; int signed_codes; } problem;

/* Solves one random problem; checks the KKT conditions in double and what
 * polishing buys over the bare FISTA iterate. */
static void check_problem(const problem *pb, unsigned seed) {
    scn_rng r;
    scn_solve_desc d;
    scn_solve_info info, raw_info;
    float *D = fmalloc((size_t)pb->m * pb->n), *X = fmalloc((size_t)pb->m * pb->P);
    float *a = fmalloc((size_t)pb->n * pb->P), *raw = fmalloc((size_t)pb->n * pb->P);
    double kkt, kkt_raw, scale = 1.0;
    memset(&d, 0, sizeof d);
    d.lambda1 = pb->l1; d.lambda2 = pb->l2; d.signed_codes = pb->signed_codes;
    scn_rng_seed(&r, seed, 1);
    make_dict(&r, pb->m, pb->n, pb->corr, D);
    make_signals(&r, D, pb->m, pb->n, pb->P, X);
    CHECK(scn_en_solve(D, pb->m, pb->n, X, pb->P, &d, a, &info) == SCN_OK, "%s", scn_error());
    d.no_polish = 1;
    CHECK(scn_en_solve(D, pb->m, pb->n, X, pb->P, &d, raw, &raw_info) == SCN_OK, "%s", scn_error());
    d.no_polish = 0;
    kkt = kkt_double(D, pb->m, pb->n, X, pb->P, &d, a);
    kkt_raw = kkt_double(D, pb->m, pb->n, X, pb->P, &d, raw);
    CHECK(kkt < 2e-5 * scale, "m=%d n=%d corr=%g signed=%d: KKT %.3g", pb->m, pb->n,
          pb->corr, pb->signed_codes, kkt);
    CHECK(info.polished == pb->P, "polished %d of %d", info.polished, pb->P);
    CHECK(kkt <= kkt_raw * 1.01 + 1e-7, "polished KKT %.3g > FISTA's %.3g", kkt, kkt_raw);
    CHECK(fabs(info.kkt - kkt) < 1e-4, "reported kkt %.3g vs %.3g", info.kkt, kkt);
    CHECK(info.iters >= 1 && info.iters <= 2000, "iters %d", info.iters);
    free(D); free(X); free(a); free(raw);
}

static void test_kkt(void) {
    static const problem cases[] = {
        { 20, 40, 64, 0.0f, 0.1f, 0.05f, 0 },
        { 20, 40, 64, 0.0f, 0.1f, 0.05f, 1 },
        { 16, 64, 64, 0.1f, 0.05f, 1e-3f, 0 },     /* overcomplete, correlated */
        { 16, 64, 64, 0.1f, 0.05f, 1e-3f, 1 },
        { 32, 16, 100, 0.0f, 0.0f, 0.01f, 0 },     /* lambda1 = 0 */
        { 8, 8, 30, 0.0f, 1.0f, 1.0f, 1 },
    };
    unsigned i;
    int k, runs;
    const char *name;
    /* every microkernel this machine runs: FISTA's panels and epilogue
     * follow its width and instruction set */
    for (k = 0; (name = scn_gemm_kernel_name(k, &runs)) != NULL; k++) {
        if (!runs) continue;
        CHECK(scn_gemm_kernel_select(name) == SCN_OK, "%s", scn_error());
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++) check_problem(&cases[i], 10 + i);
    }
    scn_gemm_kernel_select(NULL);
}

/* D = I: alpha = shrink(x, lambda1) / (1 + lambda2) in closed form. */
static void test_identity(void) {
    enum { n = 5, P = 3 };
    float D[n * n] = {0}, X[n * P], a[n * P];
    scn_solve_desc d;
    int sgn, i;
    for (i = 0; i < n; i++) D[i * n + i] = 1.0f;
    for (i = 0; i < n * P; i++) X[i] = (float)(i % 7) - 3.0f + 0.25f;
    memset(&d, 0, sizeof d);
    d.lambda1 = 0.5f; d.lambda2 = 0.25f;
    for (sgn = 0; sgn < 2; sgn++) {
        d.signed_codes = sgn;
        CHECK(scn_en_solve(D, n, n, X, P, &d, a, NULL) == SCN_OK, "%s", scn_error());
        for (i = 0; i < n * P; i++) {
            double x = X[i], want = x > 0.5 ? (x - 0.5) / 1.25
                                  : (sgn && x < -0.5) ? (x + 0.5) / 1.25 : 0.0;
            CHECK_NEAR(a[i], want, 1e-6);
        }
    }
}

/* kappa bounds every Rayleigh quotient and is within 0.1% of the power
 * iteration's estimate. */
static void test_lipschitz(void) {
    enum { m = 24, n = 48 };
    float D[m * n];
    double kappa, v[n], w[n], rq = 0.0;
    scn_rng r;
    int it, i, j, k;
    scn_rng_seed(&r, 3, 3);
    make_dict(&r, m, n, 0.3f, D);
    CHECK(scn_en_lipschitz(D, m, n, 0.01f, &kappa) == SCN_OK, "%s", scn_error());
    for (i = 0; i < n; i++) v[i] = scn_rng_normal(&r);
    for (it = 0; it < 2000; it++) {
        double norm = 0.0;
        for (i = 0; i < n; i++) norm += v[i] * v[i];
        norm = sqrt(norm);
        for (i = 0; i < n; i++) v[i] /= norm;
        rq = 0.0;
        for (j = 0; j < n; j++) {                 /* w = (D^T D + 0.01 I) v */
            double s = 0.01 * v[j];
            for (k = 0; k < n; k++) {
                double g = 0.0;
                for (i = 0; i < m; i++) g += (double)D[i * n + j] * D[i * n + k];
                s += g * v[k];
            }
            w[j] = s;
            rq += v[j] * s;
        }
        CHECK(rq <= kappa, "Rayleigh quotient %.9g exceeds kappa %.9g", rq, kappa);
        memcpy(v, w, sizeof v);
    }
    CHECK(kappa <= rq * 1.001, "kappa %.9g is loose against %.9g", kappa, rq);
    CHECK(scn_en_lipschitz(D, 0, n, 0.01f, &kappa) == SCN_ERR_ARG, "m = 0 accepted");
}

static void test_modes(void) {
    enum { m = 12, n = 24, P = 40 };
    float D[m * n], X[m * P], a[n * P], b[n * P];
    scn_solve_desc d;
    scn_solve_info info;
    scn_rng r;
    int i;
    scn_rng_seed(&r, 5, 5);
    make_dict(&r, m, n, 0.0f, D);
    make_signals(&r, D, m, n, P, X);
    memset(&d, 0, sizeof d);
    d.lambda1 = 0.05f; d.lambda2 = 0.05f;
    CHECK(scn_en_solve(D, m, n, X, P, &d, a, &info) == SCN_OK, "%s", scn_error());
    /* warm start from the solution: done in a few iterations, same answer */
    memcpy(b, a, sizeof b);
    d.warm_start = 1;
    CHECK(scn_en_solve(D, m, n, X, P, &d, b, &info) == SCN_OK, "%s", scn_error());
    CHECK(info.iters <= 3, "warm start took %d iterations", info.iters);
    for (i = 0; i < n * P; i++) CHECK_NEAR(b[i], a[i], 1e-5);
    /* fixed iterations: exactly that many, no polishing */
    d.warm_start = 0; d.fixed_iter = 7;
    CHECK(scn_en_solve(D, m, n, X, P, &d, b, &info) == SCN_OK, "%s", scn_error());
    CHECK(info.iters == 7 && info.polished == 0, "iters %d polished %d", info.iters,
          info.polished);
    /* a large lambda1 zeroes everything */
    d.fixed_iter = 0; d.lambda1 = 100.0f;
    CHECK(scn_en_solve(D, m, n, X, P, &d, b, &info) == SCN_OK, "%s", scn_error());
    for (i = 0; i < n * P; i++) CHECK(b[i] == 0.0f, "b[%d] = %g", i, b[i]);
    /* the same call twice, and with 1 or 2 threads: the same bits */
    d.lambda1 = 0.05f;
    CHECK(scn_en_solve(D, m, n, X, P, &d, b, NULL) == SCN_OK, "%s", scn_error());
    CHECK(!memcmp(a, b, sizeof b), "two identical solves differ");
#ifdef _OPENMP
    omp_set_num_threads(1);
    CHECK(scn_en_solve(D, m, n, X, P, &d, b, NULL) == SCN_OK, "%s", scn_error());
    CHECK(!memcmp(a, b, sizeof b), "1 thread differs from the default");
    omp_set_num_threads(2);
    CHECK(scn_en_solve(D, m, n, X, P, &d, b, NULL) == SCN_OK, "%s", scn_error());
    CHECK(!memcmp(a, b, sizeof b), "2 threads differ from the default");
#endif
}

static void test_bad_input(void) {
    float D[6] = {1, 0, 0, 1, 1, 1}, X[4] = {1, 2, 3, 4}, a[4];
    scn_solve_desc d;
    memset(&d, 0, sizeof d);
    d.lambda2 = 0.1f;
    d.lambda1 = -1.0f;
    CHECK(scn_en_solve(D, 3, 2, X, 1, &d, a, NULL) == SCN_ERR_ARG, "negative lambda1");
    CHECK(strstr(scn_error(), "lambda1") != NULL, "message: %s", scn_error());
    d.lambda1 = 0.1f;
    CHECK(scn_en_solve(D, 0, 2, X, 1, &d, a, NULL) == SCN_ERR_ARG, "m = 0");
    X[2] = NAN;
    CHECK(scn_en_solve(D, 3, 2, X, 1, &d, a, NULL) == SCN_ERR_NUMERIC, "NaN input");
    CHECK(strstr(scn_error(), "input entry (2, 0)") != NULL, "message: %s", scn_error());
    {   /* the backward pass names it too when dD depends on it */
        float G[2] = {1, 1}, code[2] = {0.5f, 0.25f}, dD[6];
        CHECK(scn_en_backward(D, 3, 2, X, 1, code, G, &d, dD, NULL, NULL) == SCN_ERR_NUMERIC &&
              strstr(scn_error(), "sparse backward: input entry (2, 0)") != NULL,
              "NaN input to the backward pass: %s", scn_error());
    }
    X[2] = 3.0f;
    d.max_iter = -1;
    CHECK(scn_en_solve(D, 3, 2, X, 1, &d, a, NULL) == SCN_ERR_ARG, "max_iter -1");
}

/* Scratch past what size_t addresses is refused with an error, not wrapped:
 * on a 32-bit target D^T X of 2048 atoms by 2^20 signals is 8 GiB (the
 * inputs themselves are small: m = 1; the backward pass's inputs, n x P,
 * could not exist there). On 64-bit targets the same call
 * would really allocate it, so only the sizes are checked there. */
static void test_too_large(void) {
    const int m = 1, n = 2048, P = 1 << 20;
    float *D, *X, *a;
    scn_solve_desc d;
    scn_status s;
    int j;
    if (sizeof(size_t) >= 8) {
        CHECK((uint64_t)n * P * sizeof(float) <= SIZE_MAX, "64-bit size_t holds the sizes");
        return;
    }
    D = fmalloc((size_t)m * n);
    X = fmalloc((size_t)m * P);
    a = fmalloc(16);        /* never reached: the scratch is refused first */
    memset(&d, 0, sizeof d);
    d.lambda1 = 0.1f;
    for (j = 0; j < n; j++) D[j] = 1.0f;
    memset(X, 0, (size_t)m * P * sizeof(float));
    s = scn_en_solve(D, m, n, X, P, &d, a, NULL);
    CHECK(s == SCN_ERR_NOMEM && strstr(scn_error(), "size_t"), "solve of %d x %d codes on "
          "32-bit: status %d (%s)", n, P, (int)s, scn_error());
    free(D); free(X); free(a);
}

/* A workspace keeps the last dictionary's Gram matrix and step bound: a
 * solve after D changed in place (same pointer), after lambda2 changed,
 * and after a change of microkernel gives what a fresh workspace gives,
 * bit for bit; so do a backward after its forward and a repeated solve. */
static void test_dict_cache(void) {
    enum { m = 12, n = 20, P = 40 };
    scn_rng r;
    scn_solve_desc d, fresh;
    scn_workspace ws = { NULL, 0, NULL };
    float *D = fmalloc(m * n), *X = fmalloc(m * P), *a = fmalloc(n * P), *b = fmalloc(n * P);
    float *G = fmalloc(n * P), *dD = fmalloc(m * n), *dD2 = fmalloc(m * n);
    int step, k, runs;
    const char *name;
    memset(&d, 0, sizeof d);
    d.lambda1 = 0.05f; d.lambda2 = 0.01f; d.signed_codes = 1;
    fresh = d;
    d.ws = &ws;
    scn_rng_seed(&r, 5, 1);
    make_dict(&r, m, n, 0.1f, D);
    make_signals(&r, D, m, n, P, X);
    for (k = 0; k < n * P; k++) G[k] = scn_rng_normal(&r);
    for (step = 0; step < 5; step++) {
        if (step == 1) D[7] += 0.25f;                   /* the same pointer, new contents */
        if (step == 2) d.lambda2 = fresh.lambda2 = 0.2f;
        if (step == 3)                                  /* another kernel, if there is one */
            for (k = 0; (name = scn_gemm_kernel_name(k, &runs)) != NULL; k++)
                if (runs && strcmp(name, scn_gemm_kernel_name(0, NULL))) {
                    scn_gemm_kernel_select(name);
                    break;
                }
        CHECK(scn_en_solve(D, m, n, X, P, &d, a, NULL) == SCN_OK, "%s", scn_error());
        CHECK(scn_en_solve(D, m, n, X, P, &fresh, b, NULL) == SCN_OK, "%s", scn_error());
        CHECK(!memcmp(a, b, sizeof(float) * n * P), "step %d: a cached solve differs", step);
        CHECK(scn_en_backward(D, m, n, X, P, a, G, &d, dD, NULL, NULL) == SCN_OK, "%s",
              scn_error());
        CHECK(scn_en_backward(D, m, n, X, P, a, G, &fresh, dD2, NULL, NULL) == SCN_OK, "%s",
              scn_error());
        CHECK(!memcmp(dD, dD2, sizeof(float) * m * n), "step %d: a cached backward differs",
              step);
    }
    scn_gemm_kernel_select(NULL);
    scn_workspace_free(&ws);
    CHECK(ws.data == NULL && ws.dict == NULL, "workspace not cleared");
    free(D); free(X); free(a); free(b); free(G); free(dD); free(dD2);
}

int main(void) {
    test_too_large();
    test_dict_cache();
    test_kkt();
    test_identity();
    test_lipschitz();
    test_modes();
    test_bad_input();
    return check_summary("solver");
}
