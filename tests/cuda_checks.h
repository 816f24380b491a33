/* cuda_checks.h - every entry of the CUDA backend's table against the CPU
 * backend, and whole training steps of three model families routed through
 * it, from the same seeds. Included by test_cuda_host.cu (the kernels' bodies
 * run on the host, SCN_CUDA_HOST_EMULATION) and test_cuda.cu (a real
 * device), after scn_cuda.cu and check.h.
 *
 * Tolerances, as max |gpu - cpu| / max(1, |cpu|) over the output (the
 * device contracts a * b + c into one rounding, the emulation does not):
 *   layouts (im2col, cols <-> NCHW), copies, fill, relu, masks, pooling
 *   forward, top_s, the thresholds, find_nonfinite and every count: exact;
 *   col2im, pooling backward: 1e-6 (the CPU's order of additions, kept);
 *   axpy, scal, SGD, BN, the projections, sum_add: 1e-5;
 *   dot, sum of squares (double): 1e-9 relative;
 *   GEMM (cuBLAS or the CPU's own blocking on other panels): 1e-5;
 *   solver codes: 1e-4 (polished: exact solutions of the same KKT system,
 *   so only rounding differs), KKT residual 1e-5, kappa equal, iterations
 *   within 2 + 5%, the counts of polished, unpolished and unconverged
 *   columns equal (CC_SLACK below on a device); backward gradients 1e-4;
 *   a training step: relative 2-norm difference of logits, parameters
 *   after the SGD step and the input gradient below 1e-3. */

/* Columns by which the solver's counts (polished, unpolished, unconverged)
 * may differ: none when emulated (the same arithmetic as the CPU's up to
 * GEMM blocking); one on a device, where a column at the edge of a test
 * can fall the other way by a rounding. */
#ifdef SCN_CUDA_HOST_EMULATION
#define CC_SLACK 0
#else
#define CC_SLACK 1
#endif

static const scn_backend *cc_cpu, *cc_gpu;

static float *cc_up(const float *h, size_t n) {
    float *d = (float *)cc_gpu->alloc(n * sizeof(float));
    CHECK(d != NULL, "alloc %zu floats: %s", n, scn_error());
    if (d && h) CHECK(cc_gpu->upload(d, h, n * sizeof(float)) == SCN_OK, "%s", scn_error());
    return d;
}

static void cc_down(float *h, const float *d, size_t n) {
    CHECK(cc_gpu->download(h, d, n * sizeof(float)) == SCN_OK, "%s", scn_error());
}

static double cc_diff(const float *a, const float *b, size_t n) {
    double worst = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / fmax(1.0, fabs((double)b[i]));
        if (!(d <= worst)) worst = d;           /* NaN counts as the worst */
    }
    return worst;
}

static double cc_rel2(const float *a, const float *b, size_t n) {
    double num = 0.0, den = 0.0;
    size_t i;
    for (i = 0; i < n; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num) / fmax(sqrt(den), 1e-30);
}

static float *cc_rand(size_t n, uint64_t seed, float scale) {
    float *x = (float *)malloc(n * sizeof(float));
    scn_rng r;
    size_t i;
    scn_rng_seed(&r, seed, 3);
    for (i = 0; i < n; i++) x[i] = scale * scn_rng_normal(&r);
    return x;
}

/* out_gpu = the device result downloaded; compares with out_cpu */
#define CC_NEAR(name, gpu_host, cpu_host, n, tol) do {                          \
    double d_ = cc_diff(gpu_host, cpu_host, n);                                \
    CHECK(d_ <= (tol), "%s: difference %g > %g", name, d_, (double)(tol));    \
} while (0)

/* ---------------------------------------------------------------- GEMM */

static void cc_gemm(void) {
    int ta, tb, M = 37, N = 29, K = 53, lda, ldb, ldc = N + 3;
    for (ta = 0; ta < 2; ta++)
        for (tb = 0; tb < 2; tb++) {
            float beta = ta ? 0.5f : 0.0f;
            size_t na, nb, nc = (size_t)M * ldc;
            float *A, *B, *C, *Cg, *dA, *dB, *dC;
            lda = (ta ? M : K) + 2;
            ldb = (tb ? K : N) + 1;
            na = (size_t)(ta ? K : M) * lda;
            nb = (size_t)(tb ? N : K) * ldb;
            A = cc_rand(na, 1, 1.0f); B = cc_rand(nb, 2, 1.0f); C = cc_rand(nc, 3, 1.0f);
            Cg = (float *)malloc(nc * sizeof(float));
            dA = cc_up(A, na); dB = cc_up(B, nb); dC = cc_up(C, nc);
            CHECK(cc_cpu->gemm(NULL, ta, tb, M, N, K, 0.7f, A, lda, B, ldb, beta, C, ldc) == 0 &&
                  cc_gpu->gemm(NULL, ta, tb, M, N, K, 0.7f, dA, lda, dB, ldb, beta, dC, ldc) == 0,
                  "%s", scn_error());
            cc_down(Cg, dC, nc);
            CC_NEAR(ta ? (tb ? "gemm TT" : "gemm TN") : (tb ? "gemm NT" : "gemm NN"), Cg, C, nc,
                    1e-5);
            /* K = 0 and alpha = 0 scale C by beta */
            CHECK(cc_cpu->gemm(NULL, ta, tb, M, N, 0, 1.0f, A, lda, B, ldb, 0.25f, C, ldc) == 0 &&
                  cc_gpu->gemm(NULL, ta, tb, M, N, 0, 1.0f, dA, lda, dB, ldb, 0.25f, dC, ldc) == 0,
                  "%s", scn_error());
            cc_down(Cg, dC, nc);
            CC_NEAR("gemm K = 0", Cg, C, nc, 1e-5);
            if (!tb) {              /* the sparse-A product: same C as gemm */
                size_t i;
                for (i = 0; i < na; i++) if (i % 3) A[i] = 0.0f;
                CHECK(cc_gpu->upload(dA, A, na * sizeof(float)) == 0, "%s", scn_error());
                CHECK(cc_cpu->gemm_sparse_a(ta, M, N, K, 1.5f, A, lda, B, ldb, beta, C, ldc) == 0 &&
                      cc_gpu->gemm_sparse_a(ta, M, N, K, 1.5f, dA, lda, dB, ldb, beta, dC,
                                            ldc) == 0, "%s", scn_error());
                cc_down(Cg, dC, nc);
                CC_NEAR("gemm_sparse_a", Cg, C, nc, 1e-5);
            }
            free(A); free(B); free(C); free(Cg);
            cc_gpu->release(dA); cc_gpu->release(dB); cc_gpu->release(dC);
        }
}

/* -------------------------------------------------------------- layouts */

static void cc_layouts(void) {
    scn_conv_geom g;
    int n = 5;
    size_t xs, Xs, ys;
    float *x, *X, *Xg, *xg, *y, *yg, *dx, *dX, *dy;
    CHECK(scn_conv_geom_init(&g, 2, 3, 7, 6, 3, 2, 1) == SCN_OK, "%s", scn_error());
    xs = (size_t)g.N * g.C * g.H * g.W;
    Xs = (size_t)g.m * g.P;
    ys = (size_t)g.N * n * g.Ho * g.Wo;
    x = cc_rand(xs, 4, 1.0f); X = cc_rand(Xs, 5, 1.0f); y = cc_rand(ys, 6, 1.0f);
    Xg = (float *)malloc(Xs * sizeof(float)); xg = (float *)malloc(xs * sizeof(float));
    yg = (float *)malloc(ys * sizeof(float));
    dx = cc_up(x, xs); dX = cc_up(NULL, Xs); dy = cc_up(NULL, ys);
    CHECK(cc_cpu->im2col(&g, x, X) == 0 && cc_gpu->im2col(&g, dx, dX) == 0, "%s", scn_error());
    cc_down(Xg, dX, Xs);
    CC_NEAR("im2col", Xg, X, Xs, 0.0);
    CHECK(cc_cpu->col2im(&g, X, x) == 0 && cc_gpu->col2im(&g, dX, dx) == 0, "%s", scn_error());
    cc_down(xg, dx, xs);
    CC_NEAR("col2im", xg, x, xs, 1e-6);
    /* n x P codes <-> N x n x Ho x Wo (the first n rows of X as codes) */
    CHECK(cc_cpu->cols_to_nchw(&g, n, X, y) == 0 && cc_gpu->cols_to_nchw(&g, n, dX, dy) == 0,
          "%s", scn_error());
    cc_down(yg, dy, ys);
    CC_NEAR("cols_to_nchw", yg, y, ys, 0.0);
    CHECK(cc_cpu->nchw_to_cols(&g, n, y, X) == 0 && cc_gpu->nchw_to_cols(&g, n, dy, dX) == 0,
          "%s", scn_error());
    cc_down(Xg, dX, (size_t)n * g.P);
    CC_NEAR("nchw_to_cols", Xg, X, (size_t)n * g.P, 0.0);
    free(x); free(X); free(Xg); free(xg); free(y); free(yg);
    cc_gpu->release(dx); cc_gpu->release(dX); cc_gpu->release(dy);
}

/* --------------------------------------------------------- element-wise */

/* The element-wise entries, one after another on the same arrays: each
 * output downloaded and compared. */
static void cc_elementwise(void) {
    const int rows = 13, cols = 31;
    const size_t n = (size_t)rows * cols;
    float *a = cc_rand(n, 7, 1.0f), *b = cc_rand(n, 8, 1.0f), *c = cc_rand(n, 9, 1.0f);
    float *th = cc_rand(rows, 10, 0.5f), *th2 = (float *)malloc(rows * sizeof(float));
    float *v = cc_rand(n, 11, 0.1f), *out = (float *)malloc(n * sizeof(float));
    float *da = cc_up(a, n), *db = cc_up(b, n), *dc = cc_up(c, n), *dth = cc_up(NULL, rows);
    float *dv = cc_up(v, n), *sums = (float *)calloc((size_t)cols, sizeof(float));
    float *dsums = cc_up(NULL, cols);
    size_t i;
    int k;
    for (i = 0; i < (size_t)rows; i++) th[i] = fabsf(th[i]);
    memcpy(th2, th, rows * sizeof(float));
    CHECK(cc_gpu->upload(dth, th, rows * sizeof(float)) == 0, "%s", scn_error());
    for (i = 0; i < n; i += 7) b[i] = 0.0f;             /* zeros for masks and relu */
    CHECK(cc_gpu->upload(db, b, n * sizeof(float)) == 0, "%s", scn_error());

#define CC_STEP(name, cpu_call, gpu_call, host, dev, count, tol) do {            \
        CHECK((cpu_call) == SCN_OK && (gpu_call) == SCN_OK, "%s: %s", name,      \
              scn_error());                                                      \
        cc_down(out, dev, count);                                                \
        CC_NEAR(name, out, host, count, tol);                                    \
    } while (0)
    CC_STEP("fill", cc_cpu->fill(c, n, 0.25f), cc_gpu->fill(dc, n, 0.25f), c, dc, n, 0.0);
    CC_STEP("copy", cc_cpu->copy(c, a, n), cc_gpu->copy(dc, da, n), c, dc, n, 0.0);
    CC_STEP("axpy", cc_cpu->axpy(c, -0.3f, b, n), cc_gpu->axpy(dc, -0.3f, db, n), c, dc, n,
            1e-5);
    CC_STEP("relu", cc_cpu->relu(c, a, n), cc_gpu->relu(dc, da, n), c, dc, n, 0.0);
    CC_STEP("relu_backward", cc_cpu->relu_backward(c, b, a, n),
            cc_gpu->relu_backward(dc, db, da, n), c, dc, n, 0.0);
    CC_STEP("mul", cc_cpu->mul(c, a, b, n), cc_gpu->mul(dc, da, db, n), c, dc, n, 0.0);
    CC_STEP("scal", cc_cpu->scal(c, 1.7f, n), cc_gpu->scal(dc, 1.7f, n), c, dc, n, 1e-5);
    CC_STEP("clamp_min", cc_cpu->clamp_min(c, n, -0.1f), cc_gpu->clamp_min(dc, n, -0.1f), c,
            dc, n, 0.0);
    for (k = 0; k < 2; k++) {
        CC_STEP("shrink_all", cc_cpu->shrink_all(c, a, n, 0.3f, 0.9f, k),
                cc_gpu->shrink_all(dc, da, n, 0.3f, 0.9f, k), c, dc, n, 0.0);
        CC_STEP("shrink_all_backward", cc_cpu->shrink_all_backward(b, c, a, n, 0.9f),
                cc_gpu->shrink_all_backward(db, dc, da, n, 0.9f), b, db, n, 0.0);
    }
    CC_STEP("shrink", cc_cpu->shrink(c, a, th, rows, cols), cc_gpu->shrink(dc, da, dth, rows, cols),
            c, dc, n, 0.0);
    CC_STEP("shrink_backward", cc_cpu->shrink_backward(b, th2, c, a, rows, cols),
            cc_gpu->shrink_backward(db, dth, dc, da, rows, cols), b, db, n, 0.0);
    cc_down(out, dth, rows);
    CC_NEAR("shrink_backward dtheta", out, th2, (size_t)rows, 1e-5);
    for (k = 0; k < 2; k++) {
        CC_STEP("sgd_update w", cc_cpu->sgd_update(c, a, v, n, 0.1f, 0.9f, 5e-4f, k),
                cc_gpu->sgd_update(dc, da, dv, n, 0.1f, 0.9f, 5e-4f, k), c, dc, n, 1e-5);
        cc_down(out, dv, n);
        CC_NEAR("sgd_update v", out, v, n, 1e-5);
    }
    for (k = 0; k < 2; k++) {
        CC_STEP("broadcast", cc_cpu->broadcast(c, rows, cols, a, k),
                cc_gpu->broadcast(dc, rows, cols, da, k), c, dc, n, 0.0);
        CHECK(cc_gpu->upload(dc, b, n * sizeof(float)) == 0, "%s", scn_error());
        memcpy(c, b, n * sizeof(float));
        CC_STEP("sum_add", cc_cpu->sum_add(sums, c, rows, cols, k),
                cc_gpu->sum_add(dsums, dc, rows, cols, k), sums, dsums,
                (size_t)(k ? cols : rows), 1e-5);
    }
#undef CC_STEP
    free(a); free(b); free(c); free(th); free(th2); free(v); free(out); free(sums);
    cc_gpu->release(da); cc_gpu->release(db); cc_gpu->release(dc); cc_gpu->release(dth);
    cc_gpu->release(dv); cc_gpu->release(dsums);
}

/* ----------------------------------------------------------- reductions */

static void cc_reductions(void) {
    const size_t n = 5000;
    float *a = cc_rand(n, 12, 1.0f), *b = cc_rand(n, 13, 1.0f);
    float *da, *db;
    double x = 0, y = 0, segc[5], segg[5];
    size_t nzc = 0, nzg = 1, wc = 0, wg = 0, i;
    for (i = 0; i < n; i += 3) a[i] = 0.0f;
    da = cc_up(a, n); db = cc_up(b, n);
    CHECK(cc_cpu->dot(a, b, n, &x) == 0 && cc_gpu->dot(da, db, n, &y) == 0, "%s", scn_error());
    CHECK(fabs(x - y) <= 1e-9 * fmax(1.0, fabs(x)), "dot %.17g vs %.17g", y, x);
    CHECK(cc_gpu->dot(da, db, 0, &y) == 0 && y == 0.0, "dot of nothing %g", y);
    CHECK(cc_cpu->sparsity(a, n, &nzc, &x) == 0 && cc_gpu->sparsity(da, n, &nzg, &y) == 0,
          "%s", scn_error());
    CHECK(nzc == nzg && fabs(x - y) <= 1e-9 * x, "sparsity %zu %g vs %zu %g", nzg, y, nzc, x);
    CHECK(cc_cpu->find_nonfinite(a, n, &wc) == 0 && cc_gpu->find_nonfinite(da, n, &wg) == 0 &&
          wc == n && wg == n, "find_nonfinite on finite data: %zu, %zu", wg, wc);
    a[4321] = INFINITY; a[4400] = NAN;
    CHECK(cc_gpu->upload(da, a, n * sizeof(float)) == 0, "%s", scn_error());
    CHECK(cc_cpu->find_nonfinite(a, n, &wc) == 0 && cc_gpu->find_nonfinite(da, n, &wg) == 0 &&
          wc == 4321 && wg == 4321, "find_nonfinite: %zu, %zu", wg, wc);
    CHECK(cc_cpu->seg_sumsq(b, 5, 1000, segc) == 0 && cc_gpu->seg_sumsq(db, 5, 1000, segg) == 0,
          "%s", scn_error());
    for (i = 0; i < 5; i++)
        CHECK(fabs(segc[i] - segg[i]) <= 1e-9 * segc[i], "seg_sumsq %zu: %g vs %g", i, segg[i],
              segc[i]);
    free(a); free(b);
    cc_gpu->release(da); cc_gpu->release(db);
}

/* ----------------------------------------------------------- BN, pooling */

static void cc_bn(void) {
    scn_bn_args a;
    size_t n, C = 5;
    float *x, *y, *xh, *inv, *run, *gam, *bet, *dg, *db, *dx, *out;
    float *d_x, *d_y, *d_xh, *d_inv, *d_run, *d_gam, *d_bet, *d_dg, *d_db, *d_dx;
    int train;
    a.N = 3; a.C = (int)C; a.HW = 17; a.momentum = 0.1f; a.eps = 1e-5f;
    n = (size_t)a.N * C * a.HW;
    x = cc_rand(n, 14, 2.0f); y = cc_rand(n, 0, 0.0f); xh = cc_rand(n, 0, 0.0f);
    inv = cc_rand(C, 0, 0.0f); run = cc_rand(2 * C, 15, 0.1f); gam = cc_rand(C, 16, 1.0f);
    bet = cc_rand(C, 17, 1.0f); dg = cc_rand(C, 18, 1.0f); db = cc_rand(C, 19, 1.0f);
    dx = cc_rand(n, 20, 1.0f); out = (float *)malloc(n * sizeof(float));
    for (train = 0; train < (int)C; train++) run[C + train] = 1.0f + fabsf(run[C + train]);
    d_x = cc_up(x, n); d_y = cc_up(NULL, n); d_xh = cc_up(NULL, n); d_inv = cc_up(NULL, C);
    d_run = cc_up(run, 2 * C); d_gam = cc_up(gam, C); d_bet = cc_up(bet, C);
    d_dg = cc_up(dg, C); d_db = cc_up(db, C); d_dx = cc_up(dx, n);
    for (train = 1; train >= 0; train--) {
        CHECK(cc_cpu->bn_forward(&a, x, y, gam, bet, run, xh, inv, train) == 0 &&
              cc_gpu->bn_forward(&a, d_x, d_y, d_gam, d_bet, d_run, d_xh, d_inv, train) == 0,
              "%s", scn_error());
        cc_down(out, d_y, n); CC_NEAR("bn_forward y", out, y, n, 1e-5);
        cc_down(out, d_xh, n); CC_NEAR("bn_forward xhat", out, xh, n, 1e-5);
        cc_down(out, d_inv, C); CC_NEAR("bn_forward inv", out, inv, C, 1e-5);
        cc_down(out, d_run, 2 * C); CC_NEAR("bn_forward running", out, run, 2 * C, 1e-5);
    }
    CHECK(cc_cpu->bn_backward(&a, x, xh, inv, gam, dg, db, dx) == 0 &&
          cc_gpu->bn_backward(&a, d_x, d_xh, d_inv, d_gam, d_dg, d_db, d_dx) == 0, "%s",
          scn_error());
    cc_down(out, d_dx, n); CC_NEAR("bn_backward dx", out, dx, n, 1e-5);
    cc_down(out, d_dg, C); CC_NEAR("bn_backward dgamma", out, dg, C, 1e-5);
    cc_down(out, d_db, C); CC_NEAR("bn_backward dbeta", out, db, C, 1e-5);
    CHECK(cc_cpu->bn_backward(&a, x, xh, inv, gam, dg, db, NULL) == 0 &&
          cc_gpu->bn_backward(&a, d_x, d_xh, d_inv, d_gam, d_dg, d_db, NULL) == 0, "%s",
          scn_error());
    cc_down(out, d_dg, C); CC_NEAR("bn_backward dgamma (no dx)", out, dg, C, 1e-5);
    free(x); free(y); free(xh); free(inv); free(run); free(gam); free(bet); free(dg);
    free(db); free(dx); free(out);
    cc_gpu->release(d_x); cc_gpu->release(d_y); cc_gpu->release(d_xh); cc_gpu->release(d_inv);
    cc_gpu->release(d_run); cc_gpu->release(d_gam); cc_gpu->release(d_bet);
    cc_gpu->release(d_dg); cc_gpu->release(d_db); cc_gpu->release(d_dx);
}

static void cc_pool(void) {
    scn_pool_args a[2];
    int t;
    /* overlapping 3 x 3 windows at stride 2; global average pooling */
    a[0].N = 2; a[0].C = 3; a[0].H = 9; a[0].W = 8; a[0].kh = 3; a[0].kw = 3; a[0].stride = 2;
    a[0].Ho = 4; a[0].Wo = 3;
    a[1] = a[0]; a[1].kh = 9; a[1].kw = 8; a[1].stride = 1; a[1].Ho = 1; a[1].Wo = 1;
    for (t = 0; t < 2; t++) {
        size_t in = (size_t)a[t].N * a[t].C * a[t].H * a[t].W;
        size_t on = (size_t)a[t].N * a[t].C * a[t].Ho * a[t].Wo, i;
        float *x = cc_rand(in, 21 + t, 1.0f), *y = cc_rand(on, 0, 0.0f), *dy = cc_rand(on, 23, 1.0f);
        float *dx = cc_rand(in, 0, 0.0f), *out = (float *)malloc(in * sizeof(float));
        int *arg = (int *)calloc(on, sizeof(int)), *garg = (int *)calloc(on, sizeof(int)), *d_arg;
        float *d_x = cc_up(x, in), *d_y = cc_up(NULL, on), *d_dy = cc_up(dy, on),
              *d_dx = cc_up(NULL, in);
        for (i = 0; i < in; i += 5) x[i] = x[i + 1 < in ? i + 1 : i];   /* ties */
        CHECK(cc_gpu->upload(d_x, x, in * sizeof(float)) == 0, "%s", scn_error());
        d_arg = (int *)cc_gpu->alloc(on * sizeof(int));
        CHECK(cc_cpu->maxpool(&a[t], x, y, arg) == 0 &&
              cc_gpu->maxpool(&a[t], d_x, d_y, d_arg) == 0, "%s", scn_error());
        cc_down(out, d_y, on); CC_NEAR("maxpool", out, y, on, 0.0);
        CHECK(cc_gpu->download(garg, d_arg, on * sizeof(int)) == 0 &&
              !memcmp(garg, arg, on * sizeof(int)), "maxpool argmax differs");
        CHECK(cc_cpu->maxpool_backward(&a[t], dy, arg, dx) == 0 &&
              cc_gpu->maxpool_backward(&a[t], d_dy, d_arg, d_dx) == 0, "%s", scn_error());
        cc_down(out, d_dx, in); CC_NEAR("maxpool_backward", out, dx, in, 1e-6);
        CHECK(cc_cpu->avgpool(&a[t], x, y) == 0 && cc_gpu->avgpool(&a[t], d_x, d_y) == 0, "%s",
              scn_error());
        cc_down(out, d_y, on); CC_NEAR("avgpool", out, y, on, 1e-6);
        CHECK(cc_cpu->avgpool_backward(&a[t], dy, dx) == 0 &&
              cc_gpu->avgpool_backward(&a[t], d_dy, d_dx) == 0, "%s", scn_error());
        cc_down(out, d_dx, in); CC_NEAR("avgpool_backward", out, dx, in, 1e-6);
        free(x); free(y); free(dy); free(dx); free(out); free(arg); free(garg);
        cc_gpu->release(d_x); cc_gpu->release(d_y); cc_gpu->release(d_dy);
        cc_gpu->release(d_dx); cc_gpu->release(d_arg);
    }
}

/* ----------------------------------------------------------- projections */

static void cc_projections(void) {
    const int rows = 12, cols = 9;
    const size_t n = (size_t)rows * cols;
    float *a = cc_rand(n, 24, 1.0f), *out = (float *)malloc(n * sizeof(float)), *d = cc_up(NULL, n);
    int by_col, s;
    size_t i;
    for (i = 0; i < n; i += 4) a[i] = a[i / 2];          /* equal magnitudes: ties */
    for (i = 0; i < n; i += 6) a[i] = -a[i];
    for (by_col = 0; by_col < 2; by_col++)
        for (s = 0; s <= 10; s += 3) {
            float *c = (float *)malloc(n * sizeof(float));
            memcpy(c, a, n * sizeof(float));
            CHECK(cc_gpu->upload(d, a, n * sizeof(float)) == 0, "%s", scn_error());
            CHECK(cc_cpu->top_s(c, rows, cols, s, by_col) == 0 &&
                  cc_gpu->top_s(d, rows, cols, s, by_col) == 0, "%s", scn_error());
            cc_down(out, d, n);
            CHECK(!memcmp(out, c, n * sizeof(float)), "top_s s = %d by_col %d differs", s,
                  by_col);
            free(c);
        }
    for (i = 0; i < (size_t)cols; i++) a[i] = 0.0f;     /* a zero row is left */
    CHECK(cc_gpu->upload(d, a, n * sizeof(float)) == 0, "%s", scn_error());
    CHECK(cc_cpu->row_normalize(a, rows, cols) == 0 && cc_gpu->row_normalize(d, rows, cols) == 0,
          "%s", scn_error());
    cc_down(out, d, n); CC_NEAR("row_normalize", out, a, n, 1e-6);
    for (i = 0; i < n; i++) a[i] *= (float)(1 + i % 3);
    CHECK(cc_gpu->upload(d, a, n * sizeof(float)) == 0, "%s", scn_error());
    CHECK(cc_cpu->col_norm_clip(a, rows, cols, 1.5f) == 0 &&
          cc_gpu->col_norm_clip(d, rows, cols, 1.5f) == 0, "%s", scn_error());
    cc_down(out, d, n); CC_NEAR("col_norm_clip", out, a, n, 1e-6);
    free(a); free(out);
    cc_gpu->release(d);
}

/* ---------------------------------------------------------------- solver */

/* D (m x n) with unit columns */
static float *cc_dict(int m, int n, uint64_t seed) {
    float *D = cc_rand((size_t)m * n, seed, 1.0f);
    int i, j;
    for (j = 0; j < n; j++) {
        double s = 0.0;
        for (i = 0; i < m; i++) s += (double)D[(size_t)i * n + j] * D[(size_t)i * n + j];
        for (i = 0; i < m; i++) D[(size_t)i * n + j] /= (float)sqrt(s);
    }
    return D;
}

static void cc_solver_case(const char *name, int m, int n, int P, scn_solve_desc sd,
                           double tol) {
    float *D = cc_dict(m, n, 30), *X = cc_rand((size_t)m * P, 31, 1.0f);
    float *a = cc_rand((size_t)n * P, 32, 0.1f), *ag = (float *)malloc((size_t)n * P * sizeof(float));
    float *G = cc_rand((size_t)n * P, 33, 1.0f);
    float *dD = cc_rand((size_t)m * n, 0, 0.0f), *dX = cc_rand((size_t)m * P, 0, 0.0f);
    float *hdD = (float *)malloc((size_t)m * n * sizeof(float));
    float *hdX = (float *)malloc((size_t)m * P * sizeof(float));
    float *d_D = cc_up(D, (size_t)m * n), *d_X = cc_up(X, (size_t)m * P);
    float *d_a = cc_up(a, (size_t)n * P), *d_G = cc_up(G, (size_t)n * P);
    float *d_dD = cc_up(NULL, (size_t)m * n), *d_dX = cc_up(NULL, (size_t)m * P), dl = 0, dlg = 1;
    scn_workspace wc = { NULL, 0, NULL }, wg = { NULL, 0, NULL };
    scn_solve_info ic, ig;
    scn_solve_desc sc = sd, sg = sd;
    sc.ws = &wc;
    sg.ws = &wg;
    CHECK(cc_cpu->en_solve(D, m, n, X, P, &sc, a, &ic) == 0, "%s: %s", name, scn_error());
    CHECK(cc_gpu->en_solve(d_D, m, n, d_X, P, &sg, d_a, &ig) == 0, "%s: %s", name, scn_error());
    cc_down(ag, d_a, (size_t)n * P);
    {
        double d = cc_diff(ag, a, (size_t)n * P);
        CHECK(d <= tol, "%s: codes differ by %g", name, d);
    }
    CHECK(abs(ig.polished - ic.polished) <= CC_SLACK &&
          abs(ig.unpolished - ic.unpolished) <= CC_SLACK &&
          abs(ig.unconverged - ic.unconverged) <= CC_SLACK && ig.kappa == ic.kappa,
          "%s: info polished %d/%d unpolished %d/%d unconverged %d/%d kappa %.17g/%.17g", name,
          ig.polished, ic.polished, ig.unpolished, ic.unpolished, ig.unconverged,
          ic.unconverged, ig.kappa, ic.kappa);
    CHECK(abs(ig.iters - ic.iters) <= 2 + ic.iters / 20, "%s: iterations %d vs %d", name,
          ig.iters, ic.iters);
    CHECK(fabs(ig.kkt - ic.kkt) <= 1e-5 * fmax(1.0, ic.kkt), "%s: kkt %g vs %g", name, ig.kkt,
          ic.kkt);
    /* the backward pass at the CPU's codes (same support on both) */
    CHECK(cc_gpu->upload(d_a, a, (size_t)n * P * sizeof(float)) == 0, "%s", scn_error());
    if (!sd.fixed_iter) {
        CHECK(cc_cpu->en_backward(D, m, n, X, P, a, G, &sc, dD, dX, &dl) == 0 &&
              cc_gpu->en_backward(d_D, m, n, d_X, P, d_a, d_G, &sg, d_dD, d_dX, &dlg) == 0,
              "%s backward: %s", name, scn_error());
        cc_down(hdD, d_dD, (size_t)m * n);
        cc_down(hdX, d_dX, (size_t)m * P);
        CC_NEAR("en_backward dD", hdD, dD, (size_t)m * n, 1e-4);
        CC_NEAR("en_backward dX", hdX, dX, (size_t)m * P, 1e-4);
        CHECK(fabs(dl - dlg) <= 1e-4 * fmax(1.0, fabs(dl)), "%s: dlambda1 %g vs %g", name, dlg,
              dl);
        CHECK(cc_gpu->en_backward(d_D, m, n, d_X, P, d_a, d_G, &sg, NULL, d_dX, NULL) == 0,
              "%s backward, dX only: %s", name, scn_error());
        cc_down(hdX, d_dX, (size_t)m * P);
        CC_NEAR("en_backward dX alone", hdX, dX, (size_t)m * P, 1e-4);
    }
    scn_workspace_free(&wc);
    scn_workspace_free(&wg);
    free(D); free(X); free(a); free(ag); free(G); free(dD); free(dX); free(hdD); free(hdX);
    cc_gpu->release(d_D); cc_gpu->release(d_X); cc_gpu->release(d_a); cc_gpu->release(d_G);
    cc_gpu->release(d_dD); cc_gpu->release(d_dX);
}

/* the same status and the same message for the same bad input */
static void cc_solver_errors(void) {
    const int m = 6, n = 8, P = 5;
    float *D = cc_dict(m, n, 40), *X = cc_rand((size_t)m * P, 41, 1.0f);
    float *a = cc_rand((size_t)n * P, 0, 0.0f), *G = cc_rand((size_t)n * P, 42, 1.0f);
    float *d_D, *d_X, *d_a, *d_G;
    scn_solve_desc sd;
    char msg[512];
    scn_status sc, sg;
    int t;
    memset(&sd, 0, sizeof sd);
    sd.lambda1 = 0.1f; sd.lambda2 = 0.01f;
    d_D = cc_up(D, (size_t)m * n); d_X = cc_up(X, (size_t)m * P);
    d_a = cc_up(a, (size_t)n * P); d_G = cc_up(G, (size_t)n * P);
    for (t = 0; t < 5; t++) {
        float *host = t == 0 ? X : t == 1 ? D : G, *dev = t == 0 ? d_X : t == 1 ? d_D : d_G;
        size_t at = t == 1 ? 13 : 7, cnt = t == 1 ? (size_t)m * n : t == 0 ? (size_t)m * P
                                                                          : (size_t)n * P;
        float keep = host[at];
        scn_solve_desc bad = sd;
        if (t == 3) bad.lambda1 = -1.0f;
        if (t == 4) bad.tol = NAN;
        if (t < 3) {
            host[at] = t == 2 ? INFINITY : NAN;
            CHECK(cc_gpu->upload(dev, host, cnt * sizeof(float)) == 0, "%s", scn_error());
        }
        if (t == 2) {
            sc = cc_cpu->en_backward(D, m, n, X, P, a, G, &bad, NULL, NULL, NULL);
            snprintf(msg, sizeof msg, "%s", scn_error());
            sg = cc_gpu->en_backward(d_D, m, n, d_X, P, d_a, d_G, &bad, NULL, NULL, NULL);
        } else {
            sc = cc_cpu->en_solve(D, m, n, X, P, &bad, a, NULL);
            snprintf(msg, sizeof msg, "%s", scn_error());
            sg = cc_gpu->en_solve(d_D, m, n, d_X, P, &bad, d_a, NULL);
        }
        CHECK(sc != SCN_OK && sc == sg && !strcmp(msg, scn_error()),
              "bad input %d: cpu %d '%s', gpu %d '%s'", t, sc, msg, sg, scn_error());
        if (t < 3) {
            host[at] = keep;
            CHECK(cc_gpu->upload(dev, host, cnt * sizeof(float)) == 0, "%s", scn_error());
        }
    }
    free(D); free(X); free(a); free(G);
    cc_gpu->release(d_D); cc_gpu->release(d_X); cc_gpu->release(d_a); cc_gpu->release(d_G);
}

static void cc_solver(void) {
    scn_solve_desc sd;
    int sgn;
    for (sgn = 0; sgn < 2; sgn++) {
        memset(&sd, 0, sizeof sd);
        sd.lambda1 = 0.1f; sd.lambda2 = 0.01f; sd.signed_codes = sgn;
        cc_solver_case(sgn ? "signed, polished" : "nonnegative, polished", 20, 30, 37, sd, 1e-4);
        sd.no_polish = 1; sd.tol = 1e-6f;
        cc_solver_case(sgn ? "signed, unpolished" : "nonnegative, unpolished", 20, 30, 37, sd,
                       1e-4);
        sd.no_polish = 0; sd.tol = 0; sd.max_iter = 7;      /* the cap: unconverged columns */
        cc_solver_case("iteration cap", 20, 30, 37, sd, 1e-4);
        sd.max_iter = 0; sd.fixed_iter = 20;
        cc_solver_case("fixed iterations", 20, 30, 37, sd, 1e-4);
        sd.fixed_iter = 0; sd.warm_start = 1;
        cc_solver_case("warm start", 20, 30, 37, sd, 1e-4);
    }
    memset(&sd, 0, sizeof sd);
    sd.lambda1 = 0.05f; sd.lambda2 = 0.001f;
    cc_solver_case("overcomplete, many columns", 27, 64, 300, sd, 1e-4);
    cc_solver_errors();
}

/* ---------------------------------------------------------- training step */

/* One SGD step of `spec` on N random C x H x W images under backend be:
 * the train-mode logits, the parameters after the step and the input
 * gradient, in host memory. */
static int cc_train_step(const scn_backend *be, const char *spec, int C, int H, int W, int N,
                         float *logits, float **params, size_t *count, float *dx) {
    scn_net *net;
    scn_sgd opt;
    float *x = cc_rand((size_t)N * C * H * W, 50, 1.0f), *dl;
    unsigned char labels[64];
    const float *z;
    int K, i, ok = 0;
    scn_backend_set(be);
    cc_launches = 0;
    net = scn_net_create(spec, C, H, W, 7);
    CHECK(net != NULL, "%s on %s: %s", spec, be->name, scn_error());
    if (!net) { scn_backend_set(NULL); free(x); return 0; }
    K = scn_net_classes(net);
    dl = (float *)malloc((size_t)N * K * sizeof(float));
    for (i = 0; i < N; i++) labels[i] = (unsigned char)(i % K);
    memset(&opt, 0, sizeof opt);
    scn_net_zero_grad(net);
    if (scn_sgd_init(&opt, net, NULL) == SCN_OK && (z = scn_net_forward(net, x, N, 1)) != NULL) {
        memcpy(logits, z, (size_t)N * K * sizeof(float));
        if (scn_softmax_xent(z, labels, N, K, dl, NULL, NULL) == SCN_OK &&
            scn_net_backward(net, dl, dx) == SCN_OK && scn_sgd_step(&opt, net, 0.05f) == SCN_OK)
            ok = 1;
    }
    CHECK(ok, "%s on %s: %s", spec, be->name, scn_error());
    CHECK(be == cc_cpu || cc_launches > 0, "%s: the step launched no kernel", spec);
    if (ok) {
        *count = scn_net_param_count(net);
        *params = (float *)malloc(*count * sizeof(float));
        if (be->host_memory) memcpy(*params, scn_net_params(net), *count * sizeof(float));
        else CHECK(be->download(*params, scn_net_params(net), *count * sizeof(float)) == 0,
                   "%s", scn_error());
    }
    scn_sgd_free(&opt);
    scn_net_free(net);
    scn_backend_set(NULL);
    free(x); free(dl);
    return ok;
}

static void cc_training(const char *spec, int C, int H, int W, int N) {
    size_t in = (size_t)N * C * H * W, pc = 0, pg = 0;
    float lc[64 * 10], lg[64 * 10], *xc = (float *)calloc(in, sizeof(float));
    float *xg = (float *)calloc(in, sizeof(float)), *wc = NULL, *wg = NULL;
    const char *name = scn_net_preset(spec) ? scn_net_preset(spec) : spec;
    if (cc_train_step(cc_cpu, name, C, H, W, N, lc, &wc, &pc, xc) &&
        cc_train_step(cc_gpu, name, C, H, W, N, lg, &wg, &pg, xg)) {
        double dlog = cc_rel2(lg, lc, (size_t)N * 10), dw, dx = cc_rel2(xg, xc, in);
        CHECK(pc == pg, "%s: %zu vs %zu parameters", spec, pg, pc);
        dw = pc == pg ? cc_rel2(wg, wc, pc) : 1.0;
        printf("training step %s: logits %.2g, parameters %.2g, input gradient %.2g "
               "(relative 2-norm differences)\n", spec, dlog, dw, dx);
        CHECK(dlog <= 1e-3 && dw <= 1e-3 && dx <= 1e-3, "%s: logits %g, parameters %g, dx %g",
              spec, dlog, dw, dx);
    }
    free(xc); free(xg); free(wc); free(wg);
}

/* Runs every check; gpu is the table under test. */
static void cc_all(const scn_backend *gpu, int train) {
    cc_cpu = scn_backend_cpu();
    cc_gpu = gpu;
    CHECK(!gpu->host_memory, "the CUDA table says host memory");
    cc_gemm();
    cc_layouts();
    cc_elementwise();
    cc_reductions();
    cc_bn();
    cc_pool();
    cc_projections();
    cc_solver();
    if (train) {
        cc_training("scn-mnist", 1, 28, 28, 4);
        cc_training("ddse:n=48,iters=2,nnz=12 linear:n=10", 1, 8, 8, 6);
        cc_training("sdnet-mnist", 1, 28, 28, 4);
    }
}
