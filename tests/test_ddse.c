/* test_ddse.c - the deep double sparsity encoder's parts (DDSE, Wang et al.):
 * the symmetric eigen solver behind the pca layer (orthogonality and
 * residual on random, graded, degenerate and trivial matrices), the pca
 * layer fitted to a data set (decorrelated outputs, the basis in
 * checkpoints, auto-fitted by the first training epoch), the top-s
 * projection (ties, rows and columns) and its schedule in training
 * (eq. 8: at most s nonzeros per row of W1, W3 and column of W2 after
 * every projection), the initialisation from S, and dropconnect only in
 * training. The gradients are in test_layers. */
#include "../scn.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>

static float *fmalloc(size_t count) {
    float *p = (float *)calloc(count ? count : 1, sizeof(float));
    if (!p) abort();
    return p;
}

/* ---- eigen solver ---- */

/* A = Q diag(w) Q^T for a random orthogonal Q (Gram-Schmidt of Gaussians). */
static void make_sym(scn_rng *r, int n, const double *w, double *A) {
    double *Q = (double *)calloc((size_t)n * n, sizeof(double));
    int i, j, k;
    for (i = 0; i < n * n; i++) Q[i] = scn_rng_normal(r);
    for (i = 0; i < n; i++) {           /* rows orthonormal */
        double norm = 0.0;
        for (j = 0; j < i; j++) {
            double d = 0.0;
            for (k = 0; k < n; k++) d += Q[i * n + k] * Q[j * n + k];
            for (k = 0; k < n; k++) Q[i * n + k] -= d * Q[j * n + k];
        }
        for (k = 0; k < n; k++) norm += Q[i * n + k] * Q[i * n + k];
        for (k = 0; k < n; k++) Q[i * n + k] /= sqrt(norm);
    }
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++) {
            double s = 0.0;
            for (k = 0; k < n; k++) s += Q[k * n + i] * w[k] * Q[k * n + j];
            A[i * n + j] = s;
        }
    for (i = 0; i < n; i++)             /* exactly symmetric */
        for (j = 0; j < i; j++) A[j * n + i] = A[i * n + j];
    free(Q);
}

/* Solves A, checks orthogonality, residual, order and (if given) the
 * expected eigenvalues, all relative to the largest |eigenvalue|. */
static void check_eigen(const char *what, const double *A, int n, const double *expect) {
    double *w = (double *)calloc((size_t)n + 1, sizeof(double));
    double *V = (double *)calloc((size_t)n * n + 1, sizeof(double));
    double ortho = 0.0, resid = 0.0, top = 0.0, err = 0.0, tol = 1e-13 * (n + 10);
    int i, j, k, sorted = 1;
    CHECK(scn_sym_eigen(A, n, w, V) == SCN_OK, "%s: %s", what, scn_error());
    for (i = 0; i < n; i++) if (fabs(w[i]) > top) top = fabs(w[i]);
    if (top == 0.0) top = 1.0;
    for (i = 0; i < n; i++) {
        if (i && w[i] > w[i - 1]) sorted = 0;
        for (j = 0; j < n; j++) {
            double d = 0.0, cv = 0.0;
            for (k = 0; k < n; k++) {
                d += V[i * n + k] * V[j * n + k];
                cv += A[j * n + k] * V[i * n + k];
            }
            if (fabs(d - (i == j)) > ortho) ortho = fabs(d - (i == j));
            if (fabs(cv - w[i] * V[i * n + j]) > resid) resid = fabs(cv - w[i] * V[i * n + j]);
        }
        if (expect && fabs(w[i] - expect[i]) > err) err = fabs(w[i] - expect[i]);
    }
    CHECK(sorted, "%s: eigenvalues not descending", what);
    CHECK(ortho < tol, "%s (n %d): max |V V^T - I| = %.3g", what, n, ortho);
    CHECK(resid / top < tol, "%s (n %d): max |A v - w v| = %.3g of %.3g", what, n, resid, top);
    CHECK(err / top < tol, "%s (n %d): eigenvalues off by %.3g", what, n, err);
    free(w);
    free(V);
}

static int desc_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

static void test_eigen(void) {
    static const int sizes[] = { 1, 2, 3, 7, 40, 150 };
    scn_rng r;
    int t, i, n;
    scn_rng_seed(&r, 11, 1);
    for (t = 0; t < (int)(sizeof sizes / sizeof sizes[0]); t++) {
        double *A, *w;
        n = sizes[t];
        A = (double *)calloc((size_t)n * n, sizeof(double));
        w = (double *)calloc((size_t)n, sizeof(double));
        for (i = 0; i < n; i++) w[i] = scn_rng_normal(&r) * 3.0;        /* indefinite */
        make_sym(&r, n, w, A);
        qsort(w, (size_t)n, sizeof *w, desc_cmp);
        check_eigen("random", A, n, w);
        for (i = 0; i < n; i++) w[i] = pow(10.0, -8.0 * i / (n > 1 ? n - 1 : 1)); /* graded */
        make_sym(&r, n, w, A);
        check_eigen("graded", A, n, w);
        for (i = 0; i < n; i++) w[i] = i < n / 2 ? 2.0 : 0.5;          /* two clusters */
        make_sym(&r, n, w, A);
        check_eigen("repeated", A, n, w);
        memset(A, 0, (size_t)n * n * sizeof *A);
        for (i = 0; i < n; i++) w[i] = 0.0;
        check_eigen("zero", A, n, w);
        for (i = 0; i < n; i++) A[i * n + i] = w[i] = n - i;             /* diagonal */
        check_eigen("diagonal", A, n, w);
        free(A);
        free(w);
    }
    {   /* 1-2-1 tridiagonal: eigenvalues 2 - 2 cos(k pi / (n + 1)) */
        double A[64 * 64], w[64];
        n = 64;
        memset(A, 0, sizeof A);
        for (i = 0; i < n; i++) {
            A[i * n + i] = 2.0;
            if (i) A[i * n + i - 1] = A[(i - 1) * n + i] = -1.0;
            w[i] = 2.0 - 2.0 * cos((n - i) * 3.14159265358979323846 / (n + 1));
        }
        check_eigen("1-2-1", A, n, w);
        A[5] = NAN;
        CHECK(scn_sym_eigen(A, n, w, A) == SCN_ERR_NUMERIC, "a NaN was accepted");
    }
}

/* ---- a data set in memory: images of 1 x 4 x 5 with correlated pixels ---- */

enum { IMG_C = 1, IMG_H = 4, IMG_W = 5, IMG_N = 600, IMG_PIX = IMG_C * IMG_H * IMG_W };

typedef struct memset_ds {
    scn_dataset ds;
    float x[IMG_N * IMG_PIX];
    unsigned char y[IMG_N];
} memset_ds;

static scn_status mem_read(scn_dataset *ds, const int *idx, int n, float *x,
                           unsigned char *labels) {
    memset_ds *m = (memset_ds *)ds;
    int i;
    for (i = 0; i < n; i++) {
        memcpy(x + (size_t)i * IMG_PIX, m->x + (size_t)idx[i] * IMG_PIX, IMG_PIX * sizeof *x);
        if (labels) labels[i] = m->y[idx[i]];
    }
    return SCN_OK;
}

/* pixel j = 0.5 + a (class c's smooth pattern at j) + b (a pattern common
 * to all) + noise, a around 0.2, b around 0: class c = 0..2 is told by
 * its pattern's sign and size, as a ddse or lista layer can (it is odd:
 * classes symmetric about the mean would defeat it) */
static void make_data(memset_ds *m) {
    scn_rng r;
    int i, j;
    memset(m, 0, sizeof *m);
    scn_rng_seed(&r, 5, 5);
    for (i = 0; i < IMG_N; i++) {
        int c = i % 3;
        float a = 0.2f + 0.05f * scn_rng_normal(&r), b = 0.1f * scn_rng_normal(&r);
        for (j = 0; j < IMG_PIX; j++)
            m->x[i * IMG_PIX + j] = 0.5f + a * sinf(0.3f * j * (c + 1)) + b * cosf(0.7f * j) +
                                    0.02f * scn_rng_normal(&r);
        m->y[i] = (unsigned char)c;
    }
    m->ds.count = IMG_N;
    m->ds.C = IMG_C; m->ds.H = IMG_H; m->ds.W = IMG_W;
    m->ds.classes = 3;
    m->ds.labels = m->y;
    m->ds.read = mem_read;
}

static void test_pca(void) {
    static memset_ds m;
    scn_train_state st;
    scn_net *net = scn_net_create("pca linear:n=3", IMG_C, IMG_H, IMG_W, 1), *back;
    float *y = fmalloc((size_t)IMG_N * IMG_PIX), *x = fmalloc((size_t)IMG_N * IMG_PIX);
    double mean[IMG_PIX], cov[IMG_PIX][IMG_PIX], worst = 0.0;
    char line[256];
    unsigned char *bytes = NULL;
    size_t len = 0, nb;
    const float *buf, *out, *out2;

    int i, j, k;
    make_data(&m);
    memset(&st, 0, sizeof st);
    st.mean[0] = 0.0f; st.std[0] = 1.0f;
    CHECK(net != NULL, "%s", scn_error());
    CHECK(scn_net_create("linear:n=3 pca", 1, 4, 5, 1) == NULL &&
          strstr(scn_error(), "first layer"), "pca after another layer: %s", scn_error());
    scn_net_describe(net, 0, line, sizeof line);
    CHECK(strstr(line, "identity") != NULL, "unfitted: %s", line);
    CHECK(scn_pca_fit(net, &m.ds, &st, NULL) == SCN_OK, "%s", scn_error());
    scn_net_describe(net, 0, line, sizeof line);
    CHECK(strstr(line, "basis of 600 images") != NULL, "fitted: %s", line);
    /* the outputs are decorrelated, zero-mean, variances descending: read
     * through an identity head on a copy of the basis */
    memcpy(x, m.x, sizeof m.x);
    back = scn_net_create("pca linear:n=20", IMG_C, IMG_H, IMG_W, 1);
    buf = scn_net_buffers(net, &nb);
    memcpy(scn_net_buffers(back, &nb), buf, nb * sizeof *buf);
    {
        float *p = scn_net_params(back);
        memset(p, 0, scn_net_param_count(back) * sizeof *p);
        for (i = 0; i < IMG_PIX; i++) p[i * IMG_PIX + i] = 1.0f;
    }
    out2 = scn_net_forward(back, x, IMG_N, 0);
    CHECK(out2 != NULL, "%s", scn_error());
    memcpy(y, out2, (size_t)IMG_N * IMG_PIX * sizeof *y);
    memset(mean, 0, sizeof mean);
    memset(cov, 0, sizeof cov);
    for (i = 0; i < IMG_N; i++)
        for (j = 0; j < IMG_PIX; j++) mean[j] += y[i * IMG_PIX + j] / (double)IMG_N;
    for (i = 0; i < IMG_N; i++)
        for (j = 0; j < IMG_PIX; j++)
            for (k = 0; k < IMG_PIX; k++)
                cov[j][k] += (y[i * IMG_PIX + j] - mean[j]) * (y[i * IMG_PIX + k] - mean[k]) /
                             IMG_N;
    for (j = 0; j < IMG_PIX; j++) {
        CHECK(fabs(mean[j]) < 1e-5, "component %d has mean %g", j, mean[j]);
        CHECK(j == 0 || cov[j][j] <= cov[j - 1][j - 1] * (1 + 1e-4) + 1e-9,
              "variance of component %d (%g) above component %d's (%g)", j, cov[j][j], j - 1,
              cov[j - 1][j - 1]);
        for (k = 0; k < j; k++)
            if (fabs(cov[j][k]) > worst) worst = fabs(cov[j][k]);
    }
    CHECK(worst < 1e-5 * cov[0][0], "components correlated: %g (top variance %g)", worst,
          cov[0][0]);
    /* the stored eigenvalues are those variances */
    CHECK_NEAR(buf[IMG_PIX * IMG_PIX + IMG_PIX], cov[0][0], 1e-4);
    /* the basis travels in checkpoints */
    CHECK(scn_checkpoint_encode(back, NULL, NULL, &bytes, &len) == SCN_OK, "%s", scn_error());
    scn_net_free(back);
    back = scn_checkpoint_decode(bytes, len, "pca", NULL, NULL);
    CHECK(back != NULL, "%s", scn_error());
    if (back) {
        out = scn_net_forward(back, x, IMG_N, 0);
        CHECK(out && !memcmp(out, y, (size_t)IMG_N * IMG_PIX * sizeof *y),
              "a reloaded basis differs");
        scn_net_free(back);
    }
    scn_mem_free(bytes);
    scn_net_free(net);
    free(x);
    free(y);
}

/* ---- projection ---- */

static void test_top_s(void) {
    const scn_backend *be = scn_backend_cpu();
    float A[2 * 6] = { 3, -5, 1, 5, 0, -2,
                       1, 1, 1, -1, 1, 1 };
    float B[4 * 3] = { 1, -9, 0,
                       -4, 2, 1,
                       4, 3, 0,
                       0, -1, 2 };
    static const float A2[12] = { 3, -5, 0, 5, 0, 0,  1, 1, 1, 0, 0, 0 };
    static const float B2[12] = { 0, -9, 0,  -4, 0, 1,  4, 3, 0,  0, 0, 2 };
    CHECK(be->top_s(A, 2, 6, 3, 0) == SCN_OK, "rows");
    CHECK(!memcmp(A, A2, sizeof A), "rows: %g %g %g %g %g %g / %g %g %g %g %g %g", A[0], A[1],
          A[2], A[3], A[4], A[5], A[6], A[7], A[8], A[9], A[10], A[11]);
    CHECK(be->top_s(B, 4, 3, 2, 1) == SCN_OK, "columns");
    CHECK(!memcmp(B, B2, sizeof B), "columns: %g %g %g / %g %g %g / %g %g %g / %g %g %g",
          B[0], B[1], B[2], B[3], B[4], B[5], B[6], B[7], B[8], B[9], B[10], B[11]);
}

/* The sparse product against GEMM: both transpositions, with and without
 * beta, batch widths around the kernels' blocks of 32 and 64 columns. */
static void test_sparse_product(void) {
    static const int widths[] = { 1, 7, 32, 64, 100, 200 };
    const scn_backend *be = scn_backend_cpu();
    enum { M = 37, K = 53 };
    float A[M * K], *B = fmalloc(M * 200 + K * 200), *C1 = fmalloc(M * 200 + K * 200);
    float *C2 = fmalloc(M * 200 + K * 200);
    scn_rng r;
    int w, ta, beta, i;
    scn_rng_seed(&r, 8, 8);
    for (i = 0; i < M * K; i++) A[i] = scn_rng_uniform(&r) < 0.15f ? scn_rng_normal(&r) : 0.0f;
    for (w = 0; w < (int)(sizeof widths / sizeof widths[0]); w++)
        for (ta = 0; ta < 2; ta++)
            for (beta = 0; beta < 2; beta++) {
                int N = widths[w], rows = ta ? K : M, inner = ta ? M : K;
                double worst = 0.0;
                for (i = 0; i < inner * N; i++) B[i] = scn_rng_normal(&r);
                for (i = 0; i < rows * N; i++) C1[i] = C2[i] = scn_rng_normal(&r);
                CHECK(be->gemm(NULL, ta, 0, rows, N, inner, 0.7f, A, K, B, N, (float)beta, C1,
                               N) == SCN_OK &&
                      be->gemm_sparse_a(ta, rows, N, inner, 0.7f, A, K, B, N, (float)beta, C2,
                                        N) == SCN_OK, "%s", scn_error());
                for (i = 0; i < rows * N; i++)
                    if (fabs((double)C1[i] - C2[i]) > worst) worst = fabs((double)C1[i] - C2[i]);
                CHECK(worst < 1e-5, "sparse product, N %d, trans %d, beta %d: off by %g", N, ta,
                      beta, worst);
            }
    free(B);
    free(C1);
    free(C2);
}

/* The most nonzeros in a row (by_col 0) or column of A (rows x cols), and
 * the fewest. */
static void nonzeros(const float *A, int rows, int cols, int by_col, int *most, int *fewest) {
    int lines = by_col ? cols : rows, len = by_col ? rows : cols, r, i;
    *most = 0;
    *fewest = len;
    for (r = 0; r < lines; r++) {
        int c = 0;
        for (i = 0; i < len; i++)
            c += (by_col ? A[(size_t)i * cols + r] : A[(size_t)r * cols + i]) != 0.0f;
        if (c > *most) *most = c;
        if (c < *fewest) *fewest = c;
    }
}

/* W1 (m x n) rows, then per stage W2 (n x m) columns and W3 (m x n) rows:
 * the most nonzeros any of them has, and the fewest. */
static void ddse_nonzeros(scn_net *net, int layer, int n, int m, int k, int *most,
                          int *fewest) {
    size_t count, off = scn_net_layer_params(net, layer, &count);
    const float *p = scn_net_params(net) + off;
    int j, a, b;
    nonzeros(p, m, n, 0, most, fewest);
    p += (size_t)m * n;
    for (j = 0; j < k; j++, p += 2 * (size_t)m * n) {
        nonzeros(p, n, m, 1, &a, &b);
        if (a > *most) *most = a;
        if (b < *fewest) *fewest = b;
        nonzeros(p + (size_t)m * n, m, n, 0, &a, &b);
        if (a > *most) *most = a;
        if (b < *fewest) *fewest = b;
    }
}

static void test_projection_schedule(void) {
    enum { N = 8, n = IMG_PIX, m = 12, k = 2, s = 3 };
    scn_net *net = scn_net_create("ddse:n=12,iters=2,nnz=3,every=3 linear:n=3", IMG_C, IMG_H,
                                  IMG_W, 4);
    scn_sgd opt;
    scn_sgd_desc d;
    scn_rng r;
    float x[N * n], dl[N * 3];
    int step, i, most, fewest;
    memset(&d, 0, sizeof d);
    d.lr = 0.05f;
    CHECK(net && scn_sgd_init(&opt, net, &d) == SCN_OK, "%s", scn_error());
    if (!net) return;
    /* initialised from S: exactly s ones (scaled) per column of S */
    ddse_nonzeros(net, 0, n, m, k, &most, &fewest);
    CHECK(most == s && fewest == s, "init: %d..%d nonzeros per line, want %d", fewest, most, s);
    scn_rng_seed(&r, 2, 2);
    for (step = 1; step <= 7; step++) {
        for (i = 0; i < N * n; i++) x[i] = scn_rng_normal(&r);
        for (i = 0; i < N * 3; i++) dl[i] = scn_rng_normal(&r) / N;
        scn_net_zero_grad(net);
        CHECK(scn_net_forward(net, x, N, 1) && scn_net_backward(net, dl, NULL) == SCN_OK &&
              scn_sgd_step(&opt, net, d.lr) == SCN_OK, "step %d: %s", step, scn_error());
        ddse_nonzeros(net, 0, n, m, k, &most, &fewest);
        if (step % 3 == 0)
            CHECK(most <= s, "step %d (projected): a line has %d nonzeros > s = %d", step,
                  most, s);
        else
            CHECK(most > s, "step %d: the weights were projected between projections "
                  "(%d nonzeros at most)", step, most);
    }
    CHECK(scn_net_project(net) == SCN_OK, "%s", scn_error());
    ddse_nonzeros(net, 0, n, m, k, &most, &fewest);
    CHECK(most <= s, "scn_net_project left %d nonzeros in a line", most);
    scn_sgd_free(&opt);
    scn_net_free(net);
}

/* A training epoch fits the pca basis first and ends projected. */
static void test_epoch(void) {
    static memset_ds m;
    scn_net *net = scn_net_create("pca ddse:n=16,iters=2,nnz=4 linear:n=3", IMG_C, IMG_H,
                                  IMG_W, 3);
    scn_sgd opt;
    scn_sgd_desc sd;
    scn_train_state st;
    scn_train_desc td;
    scn_pass_result res;
    char line[256];
    int e, most, fewest;
    make_data(&m);
    memset(&sd, 0, sizeof sd);
    memset(&st, 0, sizeof st);
    memset(&td, 0, sizeof td);
    sd.lr = 0.05f;
    td.batch = 32;
    st.std[0] = 1.0f;
    scn_rng_seed(&st.rng, 1, 1);
    CHECK(net && scn_sgd_init(&opt, net, &sd) == SCN_OK, "%s", scn_error());
    if (!net) return;
    for (e = 0; e < 6; e++)
        CHECK(scn_train_epoch(net, &opt, &m.ds, &st, &td, &res) == SCN_OK, "%s", scn_error());
    scn_net_describe(net, 0, line, sizeof line);
    CHECK(strstr(line, "basis of 600 images") != NULL, "not fitted by training: %s", line);
    ddse_nonzeros(net, 1, IMG_PIX, 16, 2, &most, &fewest);
    CHECK(most <= 4, "an epoch ended with %d nonzeros in a line", most);
    CHECK(scn_evaluate(net, &m.ds, &st, NULL, &res, NULL) == SCN_OK && res.accuracy > 0.9,
          "accuracy %.3f on three separable classes", res.accuracy);
    scn_sgd_free(&opt);
    scn_net_free(net);
}

/* The END record's CRC after an edit (the last 16 bytes: tag, size, CRC). */
static void fix_crc(unsigned char *b, size_t len) {
    uint32_t crc = scn_crc32(0, b, len - 16);
    int i;
    for (i = 0; i < 4; i++) b[len - 4 + i] = (unsigned char)(crc >> (8 * i));
}

static unsigned char *find_tag(unsigned char *b, size_t len, const char *tag) {
    size_t i;
    for (i = 8; i + 4 <= len; i++) if (!memcmp(b + i, tag, 4)) return b + i;
    return NULL;
}

/* Projected weights are written as PARZ (bitmap and nonzeros), read back
 * exactly; a PARZ whose counts or bitmap disagree is refused by name. */
static void test_compact_checkpoint(void) {
    scn_net *net = scn_net_create("pca ddse:n=64,iters=2,nnz=5 linear:n=3", IMG_C, IMG_H,
                                  IMG_W, 2), *back;
    scn_net *dense = scn_net_create("linear:n=64 linear:n=3", IMG_C, IMG_H, IMG_W, 2);
    unsigned char *bytes = NULL, *z;
    size_t len = 0, dlen = 0, np;
    int i;
    CHECK(net && dense, "%s", scn_error());
    if (!net || !dense) return;
    np = scn_net_param_count(net);
    CHECK(scn_checkpoint_encode(dense, NULL, NULL, &bytes, &dlen) == SCN_OK &&
          find_tag(bytes, dlen, "PARM") && !find_tag(bytes, dlen, "PARZ"),
          "a dense net was not written as PARM");
    scn_mem_free(bytes);
    CHECK(scn_checkpoint_encode(net, NULL, NULL, &bytes, &len) == SCN_OK, "%s", scn_error());
    z = find_tag(bytes, len, "PARZ");
    CHECK(z != NULL && len < 4 * np / 2, "projected weights: %zu bytes for %zu parameters",
          len, np);
    back = scn_checkpoint_decode(bytes, len, "compact", NULL, NULL);
    CHECK(back && !memcmp(scn_net_params(back), scn_net_params(net), np * sizeof(float)),
          "PARZ did not read back exactly: %s", scn_error());
    scn_net_free(back);
    if (z) {
        static const char *const bad[] = { "nonzero", "bitmap marks", "past its" };
        unsigned char *c = (unsigned char *)malloc(len);
        for (i = 0; i < 3; i++) {
            unsigned char *q;
            memcpy(c, bytes, len);
            q = c + (z - bytes);
            if (i == 0) q[20] ^= 1;                 /* nonzeros count */
            if (i == 1) q[28] ^= 0x10;              /* one bit of the bitmap */
            if (i == 2) {                           /* a bit past the count */
                uint64_t n = np;
                q[28 + n / 8] |= (unsigned char)(0x80);
                CHECK(n % 8 != 0, "the test needs a count that is not a multiple of 8");
            }
            fix_crc(c, len);
            back = scn_checkpoint_decode(c, len, "bad", NULL, NULL);
            CHECK(!back && strstr(scn_error(), bad[i]), "corrupt PARZ %d: %s", i, scn_error());
            scn_net_free(back);
        }
        free(c);
    }
    scn_mem_free(bytes);
    scn_net_free(net);
    scn_net_free(dense);
}

/* Dropconnect changes training forwards only, and the same generator
 * state draws the same mask. */
static void test_dropconnect(void) {
    scn_net *a = scn_net_create("linear:n=5,dropconnect=0.5", 1, 2, 3, 9);
    scn_net *b = scn_net_create("linear:n=5", 1, 2, 3, 9);
    float x[2 * 6], ya[10], yb[10], y2[10];
    int i, differ = 0;
    for (i = 0; i < 12; i++) x[i] = (float)i / 7.0f - 0.5f;
    CHECK(a && b, "%s", scn_error());
    if (!a || !b) return;
    memcpy(yb, scn_net_forward(b, x, 2, 1), sizeof yb);
    memcpy(ya, scn_net_forward(a, x, 2, 0), sizeof ya);
    CHECK(!memcmp(ya, yb, sizeof ya), "dropconnect changed an evaluation forward");
    scn_rng_seed(scn_net_rng(a), 4, 4);
    memcpy(ya, scn_net_forward(a, x, 2, 1), sizeof ya);
    scn_rng_seed(scn_net_rng(a), 4, 4);
    memcpy(y2, scn_net_forward(a, x, 2, 1), sizeof y2);
    for (i = 0; i < 10; i++) differ += ya[i] != yb[i];
    CHECK(differ > 0, "dropconnect did not change a training forward");
    CHECK(!memcmp(ya, y2, sizeof ya), "the same generator drew different masks");
    scn_net_free(a);
    scn_net_free(b);
}

int main(void) {
    test_eigen();
    test_pca();
    test_top_s();
    test_sparse_product();
    test_projection_schedule();
    test_epoch();
    test_dropconnect();
    test_compact_checkpoint();
    return check_summary("ddse");
}
