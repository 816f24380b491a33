/* scn_cuda.cu - the CUDA backend of scn.h: the same table (scn.h section 16)
 * on an NVIDIA GPU.
 *
 * WHAT IT IS
 *   Every entry of scn_backend for device memory: GEMM through cuBLAS, and
 *   kernels of its own for the layouts (im2col, col2im, cols <-> NCHW), the
 *   elastic-net solver (FISTA on column panels with per-column restart and
 *   stopping test, then the active-set polish with one small Cholesky per
 *   column, SCN eqs. 3-4 and 7), the fixed-point backward pass (SCN eqs. 11,
 *   13, 17), batch normalisation, pooling, element-wise ops, reductions, the
 *   SGD update and the projections, including DDSE's and SDNet's.
 *
 * HOW TO BUILD IT
 *   This file is scn.h's implementation unit: it defines SCN_IMPLEMENTATION
 *   and includes scn.h, so the library's internals (its error messages, the
 *   dictionary cache of the CPU solver) are shared with the backend. Compile
 *   it with nvcc, and include scn.h elsewhere WITHOUT SCN_IMPLEMENTATION:
 *
 *       nvcc -O2 -std=c++17 -gencode arch=compute_90,code=[sm_90,compute_90] \
 *            -c scn_cuda.cu
 *       cc -O2 -c prog.c && nvcc -o prog prog.o scn_cuda.o -lcublas
 *
 *   A C file reaches the declarations below by including this file with
 *   SCN_CUDA_DECLARATIONS_ONLY defined (tools/scn.c does), or by copying
 *   the two prototypes. `make cuda` builds bin/scn-cuda and the tests.
 *
 * HOW TO USE IT
 *   A net keeps the backend current when it is created; switching a whole
 *   network to the GPU is one call before scn_net_create or loading it:
 *
 *       const scn_backend *gpu = scn_cuda_backend();
 *       if (!gpu) fprintf(stderr, "%s\n", scn_error());   // no device
 *       else scn_backend_set(gpu);
 *       scn_net *net = scn_net_create("scn-mnist", 1, 28, 28, seed);
 *
 *   Its parameters, gradients and workspaces then live on the device; the
 *   input of scn_net_forward and its logits are host memory, copied through
 *   the table's upload and download. Nothing else moves between host and
 *   device behind the caller's back, with three exceptions inside the
 *   solver, all small: the dictionary D (m x n, m and n at most a few
 *   hundred to a thousand) is downloaded so the step bound kappa =
 *   lambda_max(D^T D + lambda2 I) comes from the library's host routine and
 *   stays cached in the caller's scn_workspace while D is unchanged; the
 *   Gram D^T D + lambda2 I (n x n, double) is uploaded for polishing and
 *   the backward pass; and per-column flags and counters (P values) are
 *   read back to steer the stages. The functions of sections 3-7 called
 *   while this backend is current take device pointers.
 *
 *   A CUDA or cuBLAS failure is returned as a status, with the CUDA message
 *   in scn_error(): SCN_ERR_NOMEM when device memory runs out, SCN_ERR_IO
 *   for any other device failure (a launch, a copy, no device).
 *
 * HOW IT IS VERIFIED WITHOUT A GPU
 *   Each kernel's body is a __host__ __device__ function of its index and
 *   arguments; the __global__ wrapper (scn__cu_grid) only computes the index
 *   in a grid-stride loop. With SCN_CUDA_HOST_EMULATION defined, "launching"
 *   runs the body over the whole index space in a host loop, memory is host
 *   memory (still copied through upload and download: the table says
 *   host_memory = 0), and cuBLAS is replaced by scn.h's CPU GEMM. So
 *   tests/test_cuda_host.cu runs this file's real orchestration and every
 *   kernel body on the host; tests/test_cuda.cu runs the same checks on a
 *   device. No kernel uses shared memory, warp shuffles or barriers: every
 *   body is one thread per element, per output, per column or per segment
 *   of a reduction, so the emulation runs exactly what the device runs
 *   (up to the device's fused multiply-adds).
 *
 * CONFIGURATION (define before compiling this file)
 *   SCN_CUDA_HOST_EMULATION     run every kernel body on the host, memory
 *                               and GEMM too (for tests; no GPU needed)
 *   SCN_CUDA_COLUMN_BYTES       device memory for the per-column Cholesky
 *                               scratch of one polish or backward launch
 *                               (default 1 GiB; more columns than fit are
 *                               done in several launches)
 *   SCN_CUDA_LAUNCH_HOOK(who)   run at every kernel launch (default none)
 *   SCN_CUDA_DECLARATIONS_ONLY  only the declarations below (for C files)
 *
 * GLOBAL STATE
 *   One cuBLAS handle, made by the first scn_cuda_backend() call, on the
 *   device current then; like scn_backend_set, call it before work starts.
 *   That call also lets the device's default memory pool keep up to 2 GiB
 *   of the backend's freed scratch for the next calls. Work goes to the
 *   default stream in order, so a download waits for the kernels before
 *   it.
 */
#ifndef SCN_CUDA_H
#define SCN_CUDA_H
#include "scn.h"

#ifdef __cplusplus
extern "C" {
#endif
/* The CUDA backend's table for the current device (creating its cuBLAS
 * handle on the first call), to install with scn_backend_set; NULL, with
 * scn_error() saying why, when there is no usable device. Built with
 * SCN_CUDA_HOST_EMULATION, the same table running every kernel body on
 * the host (for testing without a GPU). */
SCNDEF const scn_backend *scn_cuda_backend(void);
/* The current device's name ("host emulation" when emulated), or "" when
 * there is none. */
SCNDEF const char *scn_cuda_device_name(void);
#ifdef __cplusplus
}
#endif
#endif /* SCN_CUDA_H */

#ifndef SCN_CUDA_DECLARATIONS_ONLY
#ifndef SCN__CUDA_IMPLEMENTED
#define SCN__CUDA_IMPLEMENTED

#define SCN_IMPLEMENTATION
#include "scn.h"

#ifndef SCN_CUDA_HOST_EMULATION
#include <cuda_runtime.h>
#include <cublas_v2.h>
#endif

#define SCN__CU_HD __host__ __device__

/* ======================================================================
 * Launching, memory and errors: the only code that differs between the
 * device and the host emulation.
 * ====================================================================== */

#define SCN__CU_THREADS 256                 /* per block */
#define SCN__CU_SEGS    1024                /* segments of a reduction */
#ifndef SCN_CUDA_COLUMN_BYTES
#define SCN_CUDA_COLUMN_BYTES ((size_t)1 << 30)
#endif
/* FISTA reads the live-column count back every this many iterations; the
 * iterations run past the last column's stop change nothing (a stopped
 * column's state is frozen) and are not counted */
#define SCN__CU_POLL 8
/* bytes of freed scratch the device's memory pool keeps for the next calls */
#define SCN__CU_POOL_KEEP ((uint64_t)2 << 30)
/* the tests count launches to see that work went through this table */
#ifndef SCN_CUDA_LAUNCH_HOOK
#define SCN_CUDA_LAUNCH_HOOK(who) ((void)0)
#endif

#ifdef SCN_CUDA_HOST_EMULATION

template <auto F, typename... A>
static scn_status scn__cu_launch(const char *who, size_t count, A... a) {
    size_t i;
    (void)who;
    SCN_CUDA_LAUNCH_HOOK(who);
    for (i = 0; i < count; i++) F(i, a...);
    return SCN_OK;
}

static void *scn__cu_malloc(size_t bytes, const char *who) {
    void *p = calloc(bytes ? bytes : 1, 1);
    if (!p) scn__fail(SCN_ERR_NOMEM, "%s: could not allocate %zu bytes", who, bytes);
    return p;
}

static void scn__cu_free(void *p) { free(p); }

/* scratch of the backend's own: not zeroed on the device, so filled with
 * NaNs here to catch a read before a write */
static void *scn__cu_scratch(size_t bytes, const char *who) {
    void *p = malloc(bytes ? bytes : 1);
    if (!p) scn__fail(SCN_ERR_NOMEM, "%s: could not allocate %zu bytes", who, bytes);
    else memset(p, 0xff, bytes);
    return p;
}

static void scn__cu_scratch_free(void *p) { free(p); }

static scn_status scn__cu_put(void *dst, const void *host, size_t bytes, const char *who) {
    (void)who;
    if (bytes) memcpy(dst, host, bytes);
    return SCN_OK;
}

static scn_status scn__cu_get(void *host, const void *src, size_t bytes, const char *who) {
    (void)who;
    if (bytes) memcpy(host, src, bytes);
    return SCN_OK;
}

static scn_status scn__cu_move(void *dst, const void *src, size_t bytes, const char *who) {
    (void)who;
    if (bytes && dst != src) memmove(dst, src, bytes);
    return SCN_OK;
}

static scn_status scn__cu_zero(void *dst, size_t bytes, const char *who) {
    (void)who;
    if (bytes) memset(dst, 0, bytes);
    return SCN_OK;
}

/* row-major C = alpha op(A) op(B) + beta C: scn.h's CPU GEMM */
static scn_status scn__cu_gemm_raw(int ta, int tb, int M, int N, int K, float alpha,
                                   const float *A, int lda, const float *B, int ldb,
                                   float beta, float *C, int ldc) {
    return scn__cpu_gemm(NULL, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

SCN__CU_HD static void scn__cu_atomic_add(int *p, int v) { *p += v; }

#else /* the device */

template <auto F, typename... A>
__global__ void scn__cu_grid(size_t count, A... a) {
    size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x;
    size_t step = (size_t)gridDim.x * blockDim.x;
    for (; i < count; i += step) F(i, a...);
}

/* the message of a CUDA error as a status: out of memory or any other */
static scn_status scn__cu_error(cudaError_t e, const char *who) {
    cudaGetLastError();                     /* clears a non-sticky error */
    return scn__fail(e == cudaErrorMemoryAllocation ? SCN_ERR_NOMEM : SCN_ERR_IO,
                     "cuda: %s: %s (%s)", who, cudaGetErrorString(e), cudaGetErrorName(e));
}

template <auto F, typename... A>
static scn_status scn__cu_launch(const char *who, size_t count, A... a) {
    size_t blocks = (count + SCN__CU_THREADS - 1) / SCN__CU_THREADS;
    cudaError_t e;
    if (!count) return SCN_OK;
    SCN_CUDA_LAUNCH_HOOK(who);
    if (blocks > ((size_t)1 << 20)) blocks = (size_t)1 << 20;    /* grid-stride beyond */
    scn__cu_grid<F, A...><<<(unsigned)blocks, SCN__CU_THREADS>>>(count, a...);
    e = cudaGetLastError();
    return e == cudaSuccess ? SCN_OK : scn__cu_error(e, who);
}

/* 1 when the device has stream-ordered memory pools (scn_cuda_backend) */
static int scn__cu_pooled;

/* Scratch of the backend's own, not zeroed: from the device's memory pool
 * in stream order where it has one (no device-wide synchronisation per
 * call; scn_cuda_backend keeps up to SCN__CU_POOL_KEEP of it cached), else
 * cudaMalloc. */
static void *scn__cu_scratch(size_t bytes, const char *who) {
    void *p = NULL;
    cudaError_t e = scn__cu_pooled ? cudaMallocAsync(&p, bytes ? bytes : 1, 0)
                                   : cudaMalloc(&p, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        scn__cu_error(e, who);
        return NULL;
    }
    return p;
}

/* frees scratch after the work queued before it */
static void scn__cu_scratch_free(void *p) {
    if (!p) return;
    if (scn__cu_pooled) cudaFreeAsync(p, 0);
    else cudaFree(p);
}

static void *scn__cu_malloc(size_t bytes, const char *who) {
    void *p = NULL;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
    if (e == cudaSuccess) e = cudaMemset(p, 0, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        if (p) cudaFree(p);
        scn__cu_error(e, who);
        return NULL;
    }
    return p;
}

static void scn__cu_free(void *p) { if (p) cudaFree(p); }

static scn_status scn__cu_copy_kind(void *dst, const void *src, size_t bytes,
                                    cudaMemcpyKind kind, const char *who) {
    cudaError_t e;
    if (!bytes || dst == src) return SCN_OK;
    e = cudaMemcpy(dst, src, bytes, kind);
    return e == cudaSuccess ? SCN_OK : scn__cu_error(e, who);
}

static scn_status scn__cu_put(void *dst, const void *host, size_t bytes, const char *who) {
    return scn__cu_copy_kind(dst, host, bytes, cudaMemcpyHostToDevice, who);
}

static scn_status scn__cu_get(void *host, const void *src, size_t bytes, const char *who) {
    return scn__cu_copy_kind(host, src, bytes, cudaMemcpyDeviceToHost, who);
}

static scn_status scn__cu_move(void *dst, const void *src, size_t bytes, const char *who) {
    return scn__cu_copy_kind(dst, src, bytes, cudaMemcpyDeviceToDevice, who);
}

static scn_status scn__cu_zero(void *dst, size_t bytes, const char *who) {
    cudaError_t e;
    if (!bytes) return SCN_OK;
    e = cudaMemset(dst, 0, bytes);
    return e == cudaSuccess ? SCN_OK : scn__cu_error(e, who);
}

static cublasHandle_t scn__cu_blas;

SCN__CU_HD static void scn__cu_scale_body(size_t idx, float *C, int N, int ldc, float beta) {
    size_t i = idx / (size_t)N, j = idx % (size_t)N;
    C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}

/* Row-major C (M x N) = alpha op(A) op(B) + beta C is, read column-major,
 * C^T = alpha op(B)^T op(A)^T + beta C^T: cuBLAS with the operands swapped
 * and each stored matrix taken as it lies. */
static scn_status scn__cu_gemm_raw(int ta, int tb, int M, int N, int K, float alpha,
                                   const float *A, int lda, const float *B, int ldb,
                                   float beta, float *C, int ldc) {
    cublasStatus_t st;
    if (M <= 0 || N <= 0) return SCN_OK;
    if (K <= 0 || alpha == 0.0f)       /* as the CPU GEMM: C = beta C, beta 0 clears */
        return scn__cu_launch<scn__cu_scale_body>("gemm", (size_t)M * N, C, N, ldc, beta);
    st = cublasSgemm(scn__cu_blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N,
                     ta ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B, ldb, A, lda, &beta,
                     C, ldc);
    if (st != CUBLAS_STATUS_SUCCESS)
        return scn__fail(st == CUBLAS_STATUS_ALLOC_FAILED ? SCN_ERR_NOMEM : SCN_ERR_IO,
                         "cuda: cublasSgemm %d x %d by %d: %s", M, K, N,
                         cublasGetStatusString(st));
    return SCN_OK;
}

SCN__CU_HD static void scn__cu_atomic_add(int *p, int v) {
#ifdef __CUDA_ARCH__
    atomicAdd(p, v);
#else
    *p += v;
#endif
}

#endif /* SCN_CUDA_HOST_EMULATION */

/* One block of device scratch cut into 256-byte aligned pieces. */
typedef struct scn__cu_piece {
    void **ptr;
    size_t bytes;
} scn__cu_piece;

static void *scn__cu_carve(scn__cu_piece *pc, int count, const char *who) {
    size_t total = 0, off = 0;
    unsigned char *base;
    int i;
    for (i = 0; i < count; i++) total += (pc[i].bytes + 255) / 256 * 256;
    if (!(base = (unsigned char *)scn__cu_scratch(total, who))) return NULL;
    for (i = 0; i < count; i++) {
        *pc[i].ptr = pc[i].bytes ? base + off : NULL;
        off += (pc[i].bytes + 255) / 256 * 256;
    }
    return base;
}

/* Segment s of SCN__CU_SEGS over [0, count): [count s / S, count (s+1) / S). */
SCN__CU_HD static size_t scn__cu_seg_at(size_t count, size_t s, size_t segs) {
    return (size_t)((unsigned long long)count * s / segs);
}

static size_t scn__cu_segs(size_t count) {
    return count < SCN__CU_SEGS ? (count ? count : 1) : SCN__CU_SEGS;
}

SCN__CU_HD static int scn__cu_finite(float v) {
    return v - v == 0.0f;                   /* NaN - NaN and Inf - Inf are NaN */
}

/* ======================================================================
 * Memory entries of the table
 * ====================================================================== */

static void *scn__cu_alloc(size_t bytes) { return scn__cu_malloc(bytes, "alloc"); }

static void scn__cu_release(void *p) { scn__cu_free(p); }

static scn_status scn__cu_upload(void *dst, const void *host, size_t bytes) {
    return scn__cu_put(dst, host, bytes, "upload");
}

static scn_status scn__cu_download(void *host, const void *src, size_t bytes) {
    return scn__cu_get(host, src, bytes, "download");
}

/* ======================================================================
 * Dense products and layouts (scn.h sections 3, 7)
 * ====================================================================== */

static scn_status scn__cu_gemm(scn_workspace *ws, int ta, int tb, int M, int N, int K,
                               float alpha, const float *A, int lda, const float *B, int ldb,
                               float beta, float *C, int ldc) {
    (void)ws;                               /* cuBLAS keeps its own scratch */
    return scn__cu_gemm_raw(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* the same product as a dense GEMM: it only has to give the same C */
static scn_status scn__cu_gemm_sparse_a(int ta, int M, int N, int K, float alpha,
                                        const float *A, int lda, const float *B, int ldb,
                                        float beta, float *C, int ldc) {
    return scn__cu_gemm_raw(ta, 0, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* one entry of the patch matrix X (m x P) per index */
SCN__CU_HD static void scn__cu_im2col_body(size_t idx, scn_conv_geom g, const float *x,
                                           float *X) {
    size_t P = (size_t)g.P, row = idx / P, col = idx % P, hw = (size_t)g.Ho * g.Wo;
    int c = (int)(row / ((size_t)g.k * g.k)), i = (int)(row / g.k % g.k), j = (int)(row % g.k);
    int b = (int)(col / hw), oy = (int)(col % hw / g.Wo), ox = (int)(col % g.Wo);
    int y = oy * g.stride - g.pad + i, xx = ox * g.stride - g.pad + j;
    X[idx] = (y >= 0 && y < g.H && xx >= 0 && xx < g.W)
           ? x[(((size_t)b * g.C + c) * g.H + y) * g.W + xx] : 0.0f;
}

/* one input pixel per index, gathering every patch entry that holds it in
 * the CPU's order (window row i, then column j), so the sums match */
SCN__CU_HD static void scn__cu_col2im_body(size_t idx, scn_conv_geom g, const float *X,
                                           float *x) {
    int xx = (int)(idx % g.W), y = (int)(idx / g.W % g.H);
    int c = (int)(idx / ((size_t)g.W * g.H) % g.C), b = (int)(idx / ((size_t)g.W * g.H * g.C));
    float s = 0.0f;
    int i, j;
    for (i = 0; i < g.k; i++) {
        int ty = y + g.pad - i, oy = ty / g.stride;
        if (ty < 0 || ty % g.stride || oy >= g.Ho) continue;
        for (j = 0; j < g.k; j++) {
            int tx = xx + g.pad - j, ox = tx / g.stride;
            if (tx < 0 || tx % g.stride || ox >= g.Wo) continue;
            s += X[((size_t)(c * g.k + i) * g.k + j) * g.P +
                   ((size_t)b * g.Ho + oy) * g.Wo + ox];
        }
    }
    x[idx] = s;
}

static scn_status scn__cu_im2col(const scn_conv_geom *g, const float *x, float *X) {
    return scn__cu_launch<scn__cu_im2col_body>("im2col", (size_t)g->m * g->P, *g, x, X);
}

static scn_status scn__cu_col2im(const scn_conv_geom *g, const float *X, float *x) {
    return scn__cu_launch<scn__cu_col2im_body>("col2im",
                                               (size_t)g->N * g->C * g->H * g->W, *g, X, x);
}

/* n x P <-> N x n x Ho x Wo, one entry of the destination per index */
SCN__CU_HD static void scn__cu_cols_to_nchw_body(size_t idx, size_t hw, int n, size_t P,
                                                 const float *A, float *y) {
    size_t r = idx % hw, j = idx / hw % (size_t)n, b = idx / hw / (size_t)n;
    y[idx] = A[j * P + b * hw + r];
}

SCN__CU_HD static void scn__cu_nchw_to_cols_body(size_t idx, size_t hw, int n, size_t P,
                                                 const float *y, float *A) {
    size_t j = idx / P, col = idx % P, b = col / hw, r = col % hw;
    A[idx] = y[(b * (size_t)n + j) * hw + r];
}

static scn_status scn__cu_cols_to_nchw(const scn_conv_geom *g, int n, const float *A,
                                       float *y) {
    size_t hw = (size_t)g->Ho * g->Wo;
    return scn__cu_launch<scn__cu_cols_to_nchw_body>("cols_to_nchw", (size_t)g->N * n * hw,
                                                     hw, n, (size_t)g->P, A, y);
}

static scn_status scn__cu_nchw_to_cols(const scn_conv_geom *g, int n, const float *y,
                                       float *A) {
    size_t hw = (size_t)g->Ho * g->Wo;
    return scn__cu_launch<scn__cu_nchw_to_cols_body>("nchw_to_cols", (size_t)n * g->P, hw,
                                                     n, (size_t)g->P, y, A);
}

/* ======================================================================
 * Element-wise operations
 * ====================================================================== */

SCN__CU_HD static void scn__cu_fill_body(size_t i, float *y, float v) { y[i] = v; }
SCN__CU_HD static void scn__cu_copy_body(size_t i, float *y, const float *x) { y[i] = x[i]; }
SCN__CU_HD static void scn__cu_axpy_body(size_t i, float *y, float a, const float *x) {
    y[i] += a * x[i];
}
SCN__CU_HD static void scn__cu_relu_body(size_t i, float *y, const float *x) {
    y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
SCN__CU_HD static void scn__cu_relu_backward_body(size_t i, float *dx, const float *y,
                                                  const float *dy) {
    dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}
SCN__CU_HD static void scn__cu_mul_body(size_t i, float *y, const float *x, const float *mask) {
    y[i] = x[i] * mask[i];
}
SCN__CU_HD static void scn__cu_scal_body(size_t i, float *y, float a) { y[i] *= a; }
SCN__CU_HD static void scn__cu_clamp_min_body(size_t i, float *x, float lo) {
    if (x[i] < lo) x[i] = lo;
}
SCN__CU_HD static void scn__cu_broadcast_body(size_t idx, float *A, int cols, const float *b,
                                              int by_col) {
    A[idx] = by_col ? b[idx % (size_t)cols] : b[idx / (size_t)cols];
}
/* SDNet appendix eq. 8: z = scale T(u), T the (nonnegative) soft threshold */
SCN__CU_HD static void scn__cu_shrink_all_body(size_t i, float *z, const float *u, float theta,
                                               float scale, int nonneg) {
    float v = u[i];
    z[i] = scale * (v > theta ? v - theta : !nonneg && v < -theta ? v + theta : 0.0f);
}
SCN__CU_HD static void scn__cu_shrink_all_backward_body(size_t i, float *du, const float *z,
                                                        const float *dz, float scale) {
    du[i] = z[i] != 0.0f ? scale * dz[i] : 0.0f;
}
/* unfolded ISTA (DDSE, LISTA): one threshold per row */
SCN__CU_HD static void scn__cu_shrink_body(size_t idx, float *z, const float *u,
                                           const float *theta, int cols) {
    float t = theta[idx / (size_t)cols], v = u[idx];
    z[idx] = v > t ? v - t : v < -t ? v + t : 0.0f;
}
SCN__CU_HD static void scn__cu_sgd_body(size_t j, float *w, const float *g, float *v, float lr,
                                        float momentum, float decay, int nesterov) {
    if (nesterov) {
        float d = g[j] + decay * w[j];
        v[j] = momentum * v[j] + d;
        w[j] -= lr * (d + momentum * v[j]);
    } else {
        v[j] = momentum * v[j] + (g[j] + decay * w[j]);
        w[j] -= lr * v[j];
    }
}

static scn_status scn__cu_fill(float *y, size_t count, float v) {
    return scn__cu_launch<scn__cu_fill_body>("fill", count, y, v);
}
static scn_status scn__cu_copy(float *y, const float *x, size_t count) {
    return y == x ? SCN_OK : scn__cu_launch<scn__cu_copy_body>("copy", count, y, x);
}
static scn_status scn__cu_axpy(float *y, float a, const float *x, size_t count) {
    return scn__cu_launch<scn__cu_axpy_body>("axpy", count, y, a, x);
}
static scn_status scn__cu_relu(float *y, const float *x, size_t count) {
    return scn__cu_launch<scn__cu_relu_body>("relu", count, y, x);
}
static scn_status scn__cu_relu_backward(float *dx, const float *y, const float *dy,
                                        size_t count) {
    return scn__cu_launch<scn__cu_relu_backward_body>("relu_backward", count, dx, y, dy);
}
static scn_status scn__cu_mul(float *y, const float *x, const float *mask, size_t count) {
    return scn__cu_launch<scn__cu_mul_body>("mul", count, y, x, mask);
}
static scn_status scn__cu_scal(float *y, float a, size_t count) {
    return scn__cu_launch<scn__cu_scal_body>("scal", count, y, a);
}
static scn_status scn__cu_clamp_min(float *x, size_t count, float lo) {
    return scn__cu_launch<scn__cu_clamp_min_body>("clamp_min", count, x, lo);
}
static scn_status scn__cu_broadcast(float *A, int rows, int cols, const float *b, int by_col) {
    return scn__cu_launch<scn__cu_broadcast_body>("broadcast", (size_t)rows * cols, A, cols,
                                                  b, by_col);
}
static scn_status scn__cu_shrink_all(float *z, const float *u, size_t count, float theta,
                                     float scale, int nonneg) {
    return scn__cu_launch<scn__cu_shrink_all_body>("shrink_all", count, z, u, theta, scale,
                                                   nonneg);
}
static scn_status scn__cu_shrink_all_backward(float *du, const float *z, const float *dz,
                                              size_t count, float scale) {
    return scn__cu_launch<scn__cu_shrink_all_backward_body>("shrink_all_backward", count, du,
                                                            z, dz, scale);
}
static scn_status scn__cu_shrink(float *z, const float *u, const float *theta, int rows,
                                 int cols) {
    return scn__cu_launch<scn__cu_shrink_body>("shrink", (size_t)rows * cols, z, u, theta,
                                               cols);
}
static scn_status scn__cu_sgd_update(float *w, const float *g, float *v, size_t count,
                                     float lr, float momentum, float decay, int nesterov) {
    return scn__cu_launch<scn__cu_sgd_body>("sgd_update", count, w, g, v, lr, momentum, decay,
                                            nesterov);
}

/* ======================================================================
 * Reductions: one thread per output summing in the CPU's order, or, over
 * a whole vector, one per segment (partials combined on the host in
 * segment order). Sums in double as on the CPU.
 * ====================================================================== */

SCN__CU_HD static void scn__cu_sum_add_body(size_t o, float *out, const float *A, int rows,
                                            int cols, int by_col) {
    double s = 0.0;
    size_t t;
    if (!by_col) for (t = 0; t < (size_t)cols; t++) s += A[o * cols + t];
    else for (t = 0; t < (size_t)rows; t++) s += A[t * cols + o];
    out[o] += (float)s;
}

static scn_status scn__cu_sum_add(float *out, const float *A, int rows, int cols, int by_col) {
    return scn__cu_launch<scn__cu_sum_add_body>("sum_add", (size_t)(by_col ? cols : rows),
                                                out, A, rows, cols, by_col);
}

/* what a segment of a vector reduction computes */
enum { SCN__CU_DOT, SCN__CU_SPARSITY, SCN__CU_NONFINITE, SCN__CU_SUMSQ };

SCN__CU_HD static void scn__cu_reduce_body(size_t s, int what, const float *x, const float *y,
                                           size_t count, size_t segs, double *part,
                                           unsigned long long *cnt) {
    size_t i = scn__cu_seg_at(count, s, segs), end = scn__cu_seg_at(count, s + 1, segs);
    double acc = 0.0;
    unsigned long long c = 0;
    if (what == SCN__CU_NONFINITE) {
        c = count;
        for (; i < end; i++)
            if (!scn__cu_finite(x[i])) { c = i; break; }
    }
    for (; what != SCN__CU_NONFINITE && i < end; i++) {
        if (what == SCN__CU_DOT) acc += (double)x[i] * y[i];
        else if (what == SCN__CU_SUMSQ) acc += (double)x[i] * x[i];
        else { c += x[i] != 0.0f; acc += fabs((double)x[i]); }
    }
    part[s] = acc;
    cnt[s] = c;
}

/* runs a vector reduction, leaving its per-segment results in host memory
 * (one segment of zeros for an empty vector) */
static scn_status scn__cu_reduce(int what, const float *x, const float *y, size_t count,
                                 double *part, unsigned long long *cnt, size_t *segs_out) {
    size_t segs = scn__cu_segs(count);
    double *dp = NULL;
    unsigned long long *dc = NULL;
    scn__cu_piece pc[] = { { (void **)&dp, segs * sizeof *dp },
                           { (void **)&dc, segs * sizeof *dc } };
    void *blk;
    scn_status s;
    *segs_out = segs;
    part[0] = 0.0;
    cnt[0] = 0;
    if (!count) return SCN_OK;
    if (!(blk = scn__cu_carve(pc, 2, "reduction"))) return scn__last_status;
    s = scn__cu_launch<scn__cu_reduce_body>("reduction", segs, what, x, y, count, segs, dp,
                                            dc);
    if (!s) s = scn__cu_get(part, dp, segs * sizeof *dp, "reduction");
    if (!s) s = scn__cu_get(cnt, dc, segs * sizeof *dc, "reduction");
    scn__cu_scratch_free(blk);
    return s;
}

static scn_status scn__cu_dot(const float *x, const float *y, size_t count, double *out) {
    double part[SCN__CU_SEGS], sum = 0.0;
    unsigned long long cnt[SCN__CU_SEGS];
    size_t segs, s;
    scn_status st = scn__cu_reduce(SCN__CU_DOT, x, y, count, part, cnt, &segs);
    if (st) return st;
    for (s = 0; s < segs; s++) sum += part[s];
    *out = sum;
    return SCN_OK;
}

static scn_status scn__cu_sparsity(const float *x, size_t count, size_t *nonzero,
                                   double *abs_sum) {
    double part[SCN__CU_SEGS], sum = 0.0;
    unsigned long long cnt[SCN__CU_SEGS], nz = 0;
    size_t segs, s;
    scn_status st = scn__cu_reduce(SCN__CU_SPARSITY, x, NULL, count, part, cnt, &segs);
    if (st) return st;
    for (s = 0; s < segs; s++) { sum += part[s]; nz += cnt[s]; }
    *nonzero = (size_t)nz;
    *abs_sum = sum;
    return SCN_OK;
}

static scn_status scn__cu_find_nonfinite(const float *x, size_t count, size_t *where) {
    double part[SCN__CU_SEGS];
    unsigned long long cnt[SCN__CU_SEGS];
    size_t segs, s;
    scn_status st;
    *where = count;
    if (!count) return SCN_OK;
    if ((st = scn__cu_reduce(SCN__CU_NONFINITE, x, NULL, count, part, cnt, &segs))) return st;
    for (s = 0; s < segs; s++)
        if (cnt[s] < count) { *where = (size_t)cnt[s]; break; }
    return SCN_OK;
}

/* out[i] (host memory) = sum of squares of segment i, one thread each */
SCN__CU_HD static void scn__cu_seg_sumsq_body(size_t i, const float *x, size_t len,
                                              double *out) {
    const float *a = x + i * len;
    double s = 0.0;
    size_t j;
    for (j = 0; j < len; j++) s += (double)a[j] * a[j];
    out[i] = s;
}

static scn_status scn__cu_seg_sumsq(const float *x, int segments, size_t len, double *out) {
    double *d;
    scn_status s;
    if (segments <= 0) return SCN_OK;
    if (!(d = (double *)scn__cu_scratch((size_t)segments * sizeof *d, "seg_sumsq")))
        return scn__last_status;
    s = scn__cu_launch<scn__cu_seg_sumsq_body>("seg_sumsq", (size_t)segments, x, len, d);
    if (!s) s = scn__cu_get(out, d, (size_t)segments * sizeof *d, "seg_sumsq");
    scn__cu_scratch_free(d);
    return s;
}

/* ======================================================================
 * Batch normalisation: per channel, SCN__CU_BN_SEGS partial sums over the
 * channel's N HW values (in the CPU's n, then pixel order), combined per
 * channel; then one thread per element.
 * ====================================================================== */

#define SCN__CU_BN_SEGS 64

/* value t (in n-major order) of channel c */
SCN__CU_HD static size_t scn__cu_bn_at(const scn_bn_args *a, int c, size_t t) {
    size_t hw = (size_t)a->HW;
    return ((t / hw) * a->C + c) * hw + t % hw;
}

/* part[c S + s]: sum of x over the segment (mean == NULL), or of
 * (x - mean[c])^2 */
SCN__CU_HD static void scn__cu_bn_part_body(size_t idx, scn_bn_args a, const float *x,
                                            const double *mean, double *part) {
    int c = (int)(idx / SCN__CU_BN_SEGS);
    size_t s = idx % SCN__CU_BN_SEGS, M = (size_t)a.N * a.HW;
    size_t t = scn__cu_seg_at(M, s, SCN__CU_BN_SEGS), end = scn__cu_seg_at(M, s + 1, SCN__CU_BN_SEGS);
    double acc = 0.0;
    for (; t < end; t++) {
        float v = x[scn__cu_bn_at(&a, c, t)];
        if (mean) acc += (v - mean[c]) * (v - mean[c]);
        else acc += v;
    }
    part[idx] = acc;
}

/* per channel: the mean (stage 0), or the variance, the running averages
 * and the inverse std (stage 1); eval (train 0) takes the running ones */
SCN__CU_HD static void scn__cu_bn_stat_body(size_t c, scn_bn_args a, const double *part,
                                            double *mean, int stage, int train,
                                            float *running, float *inv) {
    size_t M = (size_t)a.N * a.HW;
    double sum = 0.0, var;
    int s;
    if (!train) {
        mean[c] = running[c];
        inv[c] = (float)(1.0 / sqrt((double)running[a.C + c] + a.eps));
        return;
    }
    for (s = 0; s < SCN__CU_BN_SEGS; s++) sum += part[c * SCN__CU_BN_SEGS + s];
    if (stage == 0) { mean[c] = sum / (double)M; return; }
    var = sum / (double)M;
    running[c] += a.momentum * ((float)mean[c] - running[c]);
    running[a.C + c] += a.momentum * ((float)(var * M / (M - 1)) - running[a.C + c]);
    inv[c] = (float)(1.0 / sqrt(var + a.eps));
}

SCN__CU_HD static void scn__cu_bn_apply_body(size_t i, scn_bn_args a, const float *x, float *y,
                                             const float *gamma, const float *beta,
                                             const double *mean, const float *inv,
                                             float *xhat) {
    int c = (int)(i / (size_t)a.HW % (size_t)a.C);
    float h = (float)((x[i] - mean[c]) * inv[c]);
    xhat[i] = h;
    y[i] = gamma[c] * h + beta[c];
}

static scn_status scn__cu_bn_forward(const scn_bn_args *a, const float *x, float *y,
                                     const float *gamma, const float *beta, float *running,
                                     float *xhat, float *inv, int train) {
    size_t C = (size_t)a->C, parts = C * SCN__CU_BN_SEGS;
    double *part = NULL, *mean = NULL;
    scn__cu_piece pc[] = { { (void **)&part, parts * sizeof(double) },
                           { (void **)&mean, C * sizeof(double) } };
    void *blk = scn__cu_carve(pc, 2, "bn_forward");
    scn_status s = SCN_OK;
    if (!blk) return scn__last_status;
    if (train) {
        s = scn__cu_launch<scn__cu_bn_part_body>("bn_forward", parts, *a, x,
                                                 (const double *)NULL, part);
        if (!s) s = scn__cu_launch<scn__cu_bn_stat_body>("bn_forward", C, *a,
                                                         (const double *)part, mean, 0, 1,
                                                         running, inv);
        if (!s) s = scn__cu_launch<scn__cu_bn_part_body>("bn_forward", parts, *a, x,
                                                         (const double *)mean, part);
    }
    if (!s) s = scn__cu_launch<scn__cu_bn_stat_body>("bn_forward", C, *a, (const double *)part,
                                                     mean, 1, train, running, inv);
    if (!s) s = scn__cu_launch<scn__cu_bn_apply_body>("bn_forward", (size_t)a->N * C * a->HW,
                                                      *a, x, y, gamma, beta,
                                                      (const double *)mean,
                                                      (const float *)inv, xhat);
    scn__cu_scratch_free(blk);
    return s;
}

/* part[c S + s] and part[C S + c S + s]: sums of dy xhat and of dy */
SCN__CU_HD static void scn__cu_bn_bpart_body(size_t idx, scn_bn_args a, const float *dy,
                                             const float *xhat, double *part) {
    int c = (int)(idx / SCN__CU_BN_SEGS);
    size_t s = idx % SCN__CU_BN_SEGS, M = (size_t)a.N * a.HW;
    size_t t = scn__cu_seg_at(M, s, SCN__CU_BN_SEGS), end = scn__cu_seg_at(M, s + 1, SCN__CU_BN_SEGS);
    double dg = 0.0, db = 0.0;
    for (; t < end; t++) {
        size_t o = scn__cu_bn_at(&a, c, t);
        dg += dy[o] * xhat[o];
        db += dy[o];
    }
    part[idx] = dg;
    part[(size_t)a.C * SCN__CU_BN_SEGS + idx] = db;
}

SCN__CU_HD static void scn__cu_bn_bstat_body(size_t c, scn_bn_args a, const double *part,
                                             double *sums, float *dgamma, float *dbeta) {
    double dg = 0.0, db = 0.0;
    int s;
    for (s = 0; s < SCN__CU_BN_SEGS; s++) {
        dg += part[c * SCN__CU_BN_SEGS + s];
        db += part[(size_t)a.C * SCN__CU_BN_SEGS + c * SCN__CU_BN_SEGS + s];
    }
    sums[c] = dg;
    sums[a.C + c] = db;
    dgamma[c] += (float)dg;
    dbeta[c] += (float)db;
}

SCN__CU_HD static void scn__cu_bn_bapply_body(size_t i, scn_bn_args a, const float *dy,
                                              const float *xhat, const float *inv,
                                              const float *gamma, const double *sums,
                                              float *dx) {
    int c = (int)(i / (size_t)a.HW % (size_t)a.C);
    size_t M = (size_t)a.N * a.HW;
    double dg = sums[c], db = sums[a.C + c];
    dx[i] = (float)(gamma[c] * inv[c] / (double)M * (M * (double)dy[i] - db - xhat[i] * dg));
}

static scn_status scn__cu_bn_backward(const scn_bn_args *a, const float *dy, const float *xhat,
                                      const float *inv, const float *gamma, float *dgamma,
                                      float *dbeta, float *dx) {
    size_t C = (size_t)a->C, parts = C * SCN__CU_BN_SEGS;
    double *part = NULL, *sums = NULL;
    scn__cu_piece pc[] = { { (void **)&part, 2 * parts * sizeof(double) },
                           { (void **)&sums, 2 * C * sizeof(double) } };
    void *blk = scn__cu_carve(pc, 2, "bn_backward");
    scn_status s;
    if (!blk) return scn__last_status;
    s = scn__cu_launch<scn__cu_bn_bpart_body>("bn_backward", parts, *a, dy, xhat, part);
    if (!s) s = scn__cu_launch<scn__cu_bn_bstat_body>("bn_backward", C, *a,
                                                      (const double *)part, sums, dgamma,
                                                      dbeta);
    if (!s && dx) s = scn__cu_launch<scn__cu_bn_bapply_body>("bn_backward",
                                                             (size_t)a->N * C * a->HW, *a, dy,
                                                             xhat, inv, gamma,
                                                             (const double *)sums, dx);
    scn__cu_scratch_free(blk);
    return s;
}

/* ======================================================================
 * Pooling: one thread per output forward; backward one per input pixel,
 * gathering the outputs whose window covers it in the CPU's (output)
 * order, so overlapping windows need no atomics and sum the same.
 * ====================================================================== */

SCN__CU_HD static void scn__cu_maxpool_body(size_t o, scn_pool_args a, const float *x, float *y,
                                            int *arg) {
    size_t ohw = (size_t)a.Ho * a.Wo, pl = o / ohw;
    int oy = (int)(o % ohw / a.Wo), ox = (int)(o % a.Wo), i, j;
    const float *in = x + pl * a.H * a.W;
    int best = (oy * a.stride) * a.W + ox * a.stride;
    for (i = 0; i < a.kh; i++)
        for (j = 0; j < a.kw; j++) {
            int at = (oy * a.stride + i) * a.W + ox * a.stride + j;
            if (in[at] > in[best]) best = at;
        }
    arg[o] = best;
    y[o] = in[best];
}

/* the outputs [lo, hi] along one axis whose window (size k) covers v */
SCN__CU_HD static void scn__cu_cover(int v, int k, int stride, int outs, int *lo, int *hi) {
    *lo = v < k ? 0 : (v - k) / stride + 1;
    *hi = v / stride < outs - 1 ? v / stride : outs - 1;
}

SCN__CU_HD static void scn__cu_pool_back_body(size_t idx, scn_pool_args a, const float *dy,
                                              const int *arg, float *dx) {
    size_t hw = (size_t)a.H * a.W, pl = idx / hw, ohw = (size_t)a.Ho * a.Wo;
    int at = (int)(idx % hw), y = at / a.W, x = at % a.W, y0, y1, x0, x1, oy, ox;
    float area = (float)a.kh * (float)a.kw, s = 0.0f;
    scn__cu_cover(y, a.kh, a.stride, a.Ho, &y0, &y1);
    scn__cu_cover(x, a.kw, a.stride, a.Wo, &x0, &x1);
    for (oy = y0; oy <= y1; oy++)
        for (ox = x0; ox <= x1; ox++) {
            size_t o = pl * ohw + (size_t)oy * a.Wo + ox;
            if (!arg) s += dy[o] / area;                /* average pooling */
            else if (arg[o] == at) s += dy[o];
        }
    dx[idx] = s;
}

SCN__CU_HD static void scn__cu_avgpool_body(size_t o, scn_pool_args a, const float *x,
                                            float *y) {
    size_t ohw = (size_t)a.Ho * a.Wo, pl = o / ohw;
    int oy = (int)(o % ohw / a.Wo), ox = (int)(o % a.Wo), i, j;
    const float *in = x + pl * a.H * a.W;
    double s = 0.0, area = (double)a.kh * a.kw;
    for (i = 0; i < a.kh; i++)
        for (j = 0; j < a.kw; j++) s += in[(oy * a.stride + i) * a.W + ox * a.stride + j];
    y[o] = (float)(s / area);
}

static scn_status scn__cu_maxpool(const scn_pool_args *a, const float *x, float *y, int *arg) {
    return scn__cu_launch<scn__cu_maxpool_body>("maxpool", (size_t)a->N * a->C * a->Ho * a->Wo,
                                                *a, x, y, arg);
}

static scn_status scn__cu_maxpool_backward(const scn_pool_args *a, const float *dy,
                                           const int *arg, float *dx) {
    return scn__cu_launch<scn__cu_pool_back_body>("maxpool_backward",
                                                  (size_t)a->N * a->C * a->H * a->W, *a, dy,
                                                  arg, dx);
}

static scn_status scn__cu_avgpool(const scn_pool_args *a, const float *x, float *y) {
    return scn__cu_launch<scn__cu_avgpool_body>("avgpool", (size_t)a->N * a->C * a->Ho * a->Wo,
                                                *a, x, y);
}

static scn_status scn__cu_avgpool_backward(const scn_pool_args *a, const float *dy, float *dx) {
    return scn__cu_launch<scn__cu_pool_back_body>("avgpool_backward",
                                                  (size_t)a->N * a->C * a->H * a->W, *a, dy,
                                                  (const int *)NULL, dx);
}

/* ======================================================================
 * Projections: one thread per column, row or line
 * ====================================================================== */

SCN__CU_HD static void scn__cu_col_norm_clip_body(size_t j, float *D, int m, int n,
                                                  float max_norm) {
    double s = 0.0;
    int i;
    for (i = 0; i < m; i++) s += (double)D[(size_t)i * n + j] * D[(size_t)i * n + j];
    if (s > (double)max_norm * max_norm) {
        float scale = (float)(max_norm / sqrt(s));
        for (i = 0; i < m; i++) D[(size_t)i * n + j] *= scale;
    }
}

SCN__CU_HD static void scn__cu_row_normalize_body(size_t i, float *A, int cols) {
    float *a = A + i * cols;
    double s = 0.0;
    int j;
    for (j = 0; j < cols; j++) s += (double)a[j] * a[j];
    if (s > 0.0)
        for (j = 0; j < cols; j++) a[j] = (float)(a[j] / sqrt(s));
}

SCN__CU_HD static void scn__cu_shrink_backward_body(size_t i, float *du, float *dtheta,
                                                    const float *z, const float *dz, int cols) {
    double sum = 0.0;
    int j;
    for (j = 0; j < cols; j++) {
        size_t at = i * cols + j;
        float zz = z[at];
        du[at] = zz != 0.0f ? dz[at] : 0.0f;
        sum += zz > 0.0f ? dz[at] : zz < 0.0f ? -dz[at] : 0.0f;
    }
    dtheta[i] -= (float)sum;
}

/* DDSE eq. 8's projection on one line: the s-th largest magnitude t is the
 * value with fewer than s magnitudes above it and at least s at or above
 * (found by counting, O(len^2), no scratch); entries above t stay, those
 * equal to t stay first come while they fit, the rest are zeroed, exactly
 * the CPU's rule. */
SCN__CU_HD static void scn__cu_top_s_body(size_t r, float *A, int rows, int cols, int s,
                                          int by_col) {
    int len = by_col ? rows : cols, i, q, above = 0, ties, found = 0;
    size_t step = by_col ? (size_t)cols : 1;
    float *a = A + (by_col ? r : r * cols), t = 0.0f;
    for (i = 0; i < len && s > 0 && !found; i++) {
        float v = fabsf(a[i * step]);
        int gt = 0, ge = 0;
        for (q = 0; q < len; q++) {
            float w = fabsf(a[q * step]);
            gt += w > v;
            ge += w >= v;
        }
        if (gt < s && s <= ge) { t = v; found = 1; }
    }
    if (s > 0 && !found) return;            /* NaN magnitudes: no order to keep by */
    if (s > 0) for (i = 0; i < len; i++) above += fabsf(a[i * step]) > t;
    ties = s - above;
    for (i = 0; i < len; i++) {
        float v = fabsf(a[i * step]);
        if (s > 0 && v > t) continue;
        if (s > 0 && v == t && ties > 0) ties--;
        else a[i * step] = 0.0f;
    }
}

static scn_status scn__cu_col_norm_clip(float *D, int m, int n, float max_norm) {
    return scn__cu_launch<scn__cu_col_norm_clip_body>("col_norm_clip", (size_t)n, D, m, n,
                                                      max_norm);
}
static scn_status scn__cu_row_normalize(float *A, int rows, int cols) {
    return scn__cu_launch<scn__cu_row_normalize_body>("row_normalize", (size_t)rows, A, cols);
}
static scn_status scn__cu_shrink_backward(float *du, float *dtheta, const float *z,
                                          const float *dz, int rows, int cols) {
    return scn__cu_launch<scn__cu_shrink_backward_body>("shrink_backward", (size_t)rows, du,
                                                        dtheta, z, dz, cols);
}
static scn_status scn__cu_top_s(float *A, int rows, int cols, int s, int by_col) {
    if (s >= (by_col ? rows : cols)) return SCN_OK;
    return scn__cu_launch<scn__cu_top_s_body>("top_s", (size_t)(by_col ? cols : rows), A, rows,
                                              cols, s, by_col);
}

/* ======================================================================
 * The elastic-net solver (scn.h section 5) on the device
 * ====================================================================== */

/* NaN/Inf in a device matrix (rows x cols): SCN_ERR_NUMERIC with the CPU's
 * message "<who>: <what> entry (r, c) is v", else SCN_OK */
static scn_status scn__cu_check_finite(const float *x, size_t rows, size_t cols,
                                       const char *who, const char *what) {
    size_t at;
    float v = 0.0f;
    scn_status s = scn__cu_find_nonfinite(x, rows * cols, &at);
    if (s || at == rows * cols) return s;
    if ((s = scn__cu_get(&v, x + at, sizeof v, who))) return s;
    return scn__fail(SCN_ERR_NUMERIC, "%s: %s (%zu, %zu) is %g", who, what, at / cols,
                     at % cols, (double)v);
}

/* scn__en_check of the CPU solver for device D, then the input X, which
 * the CPU solver scans only when D^T X or dD comes out non-finite (on the
 * device the scan is one cheap pass): the same messages */
static scn_status scn__cu_en_check(const char *who, const float *D, int m, int n,
                                   const float *X, int P, const scn_solve_desc *d) {
    scn_status s;
    if (m < 1 || n < 1 || P < 1)
        return scn__fail(SCN_ERR_ARG, "%s: sizes m = %d, n = %d, P = %d must be positive",
                         who, m, n, P);
    if (n > SCN__ATOMS_MAX)
        return scn__fail(SCN_ERR_ARG, "%s: %d atoms, more than 2^24 (the n x n Gram "
                         "matrix alone would be %g bytes)", who, n, 8.0 * n * n);
    if (!(d->lambda1 >= 0.0f) || !isfinite(d->lambda1))
        return scn__fail(SCN_ERR_ARG, "%s: lambda1 = %g must be finite and >= 0", who,
                         (double)d->lambda1);
    if (!(d->lambda2 >= 0.0f) || !isfinite(d->lambda2))
        return scn__fail(SCN_ERR_ARG, "%s: lambda2 = %g must be finite and >= 0", who,
                         (double)d->lambda2);
    if (!(d->tol >= 0.0f) || d->max_iter < 0 || d->fixed_iter < 0)
        return scn__fail(SCN_ERR_ARG, "%s: tol = %g, max_iter = %d, fixed_iter = %d must "
                         "be >= 0", who, (double)d->tol, d->max_iter, d->fixed_iter);
    if ((s = scn__cu_check_finite(D, (size_t)m, (size_t)n, who, "dictionary entry"))) return s;
    return scn__cu_check_finite(X, (size_t)m, (size_t)P, who, "input entry");
}

/* The dictionary's host-side cache (scn.h's scn__dict: D^T D + lambda2 I in
 * double and, with step, kappa), kept in the caller's workspace while D
 * and lambda2 stay the same: D is downloaded for it (m x n floats). */
static scn_status scn__cu_dict(const scn_solve_desc *d, const float *D, int m, int n, int step,
                               scn__dict **dict, scn__dict **own) {
    size_t mn = (size_t)m * n;
    float *Dh = (float *)scn__calloc(mn, sizeof(float), "sparse solve");
    scn_status s;
    *own = NULL;
    if (!Dh) return SCN_ERR_NOMEM;
    s = scn__cu_get(Dh, D, mn * sizeof *Dh, "sparse solve: dictionary");
    if (!s) s = scn__dict_get(d->ws, Dh, m, n, d->lambda2, step, dict, own);
    SCN_FREE(Dh);
    return s;
}

/* 4 partial sums, as scn__dot_double */
SCN__CU_HD static double scn__cu_dot_double(const double *a, const double *b, int len) {
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    int i;
    for (i = 0; i + 4 <= len; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < len; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

/* d_j^T x for atom j (column j of D, stride n) and signal p (column p of X,
 * stride P), in double with the grouping of scn__dot_double */
SCN__CU_HD static double scn__cu_dot_cols(const float *D, int n, int j, const float *X, int P,
                                          int p, int m) {
    double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
    const float *a = D + j, *b = X + p;
    size_t sa = (size_t)n, sb = (size_t)P;
    int i;
    for (i = 0; i + 4 <= m; i += 4) {
        s0 += (double)a[i * sa] * (double)b[i * sb];
        s1 += (double)a[(i + 1) * sa] * (double)b[(i + 1) * sb];
        s2 += (double)a[(i + 2) * sa] * (double)b[(i + 2) * sb];
        s3 += (double)a[(i + 3) * sa] * (double)b[(i + 3) * sb];
    }
    for (; i < m; i++) s0 += (double)a[i * sa] * (double)b[i * sb];
    return (s0 + s1) + (s2 + s3);
}

/* scn__chol_append: row i of the factor of Gd[S,S] (row stride ld) */
SCN__CU_HD static int scn__cu_chol_append(double *L, int ld, const double *Gd, int n,
                                          const int *S, int i) {
    const double *g = Gd + (size_t)S[i] * n;
    double *li = L + (size_t)i * ld, t;
    int j;
    for (j = 0; j < i; j++) {
        const double *lj = L + (size_t)j * ld;
        li[j] = (g[S[j]] - scn__cu_dot_double(li, lj, j)) / lj[j];
    }
    t = g[S[i]] - scn__cu_dot_double(li, li, i);
    if (!(t > 0.0)) return 0;
    li[i] = sqrt(t);
    return 1;
}

SCN__CU_HD static int scn__cu_chol_factor(double *L, int ld, const double *Gd, int n,
                                          const int *S, int k) {
    int i;
    for (i = 0; i < k; i++)
        if (!scn__cu_chol_append(L, ld, Gd, n, S, i)) return 0;
    return 1;
}

SCN__CU_HD static void scn__cu_chol_solve(const double *L, int ld, int k, double *y) {
    int i, r;
    for (i = 0; i < k; i++)
        y[i] = (y[i] - scn__cu_dot_double(L + (size_t)i * ld, y, i)) / L[(size_t)i * ld + i];
    for (i = k - 1; i >= 0; i--) {
        const double *li = L + (size_t)i * ld;
        y[i] /= li[i];
        for (r = 0; r < i; r++) y[r] -= li[r] * y[i];
    }
}

/* One column's scratch for the active-set solves: the factor (n x n), the
 * atoms' d_j^T x, the solution, the active set and the signs per atom. */
typedef struct scn__cu_colwork {
    double *M, *c, *y;
    int *S;
    signed char *sg;
} scn__cu_colwork;

static size_t scn__cu_colwork_bytes(int n) {
    return ((size_t)n * n + 2 * (size_t)n) * sizeof(double) + (size_t)n * sizeof(int) +
           (size_t)n + 8;
}

SCN__CU_HD static scn__cu_colwork scn__cu_colwork_at(unsigned char *base, size_t q, int n) {
    scn__cu_colwork w;
    size_t per = ((size_t)n * n + 2 * (size_t)n) * sizeof(double) + (size_t)n * sizeof(int) +
                 (size_t)n + 8;
    per = (per + 7) / 8 * 8;
    w.M = (double *)(base + q * per);
    w.c = w.M + (size_t)n * n;
    w.y = w.c + n;
    w.S = (int *)(w.y + n);
    w.sg = (signed char *)(w.S + n);
    return w;
}

/* Solver state on the device: n x P matrices and per-column values. */
typedef struct scn__cu_fista {
    int m, n, P;
    const float *D, *X;
    float *A;                       /* I - (D^T D + lambda2 I) / kappa, n x n */
    double *Gd;                     /* D^T D + lambda2 I, n x n */
    float *DtX, *B, *G, *T;         /* D^T X, D^T X / kappa, gamma, A gamma + B */
    float *s;                       /* momentum counter per column */
    int *live, *member, *stop, *ok, *cols, *counter;
    unsigned char *work;            /* per-column Cholesky scratch */
    size_t chunk;                   /* columns of scratch */
    float thr, tol, sg;
    double l1;
    int test, warm, signed_codes;
    float *alpha;
    unsigned char *stalled;         /* host, P */
    int *hlive, *hstop;             /* host, P */
} scn__cu_fista;

/* Starts the columns of the run: alpha_0 = gamma_0 = 0 (or the codes given,
 * warm), s = 1, live; the others keep their codes and are skipped. */
SCN__CU_HD static void scn__cu_fista_init_body(size_t p, int n, int P, float *alpha, float *G,
                                               float *s, int *live, const int *member,
                                               int *stop, int warm) {
    int j;
    live[p] = member[p];
    stop[p] = 0;
    if (!member[p]) return;
    s[p] = 1.0f;
    for (j = 0; j < n; j++) {
        size_t at = (size_t)j * P + p;
        float v = warm ? alpha[at] : 0.0f;
        alpha[at] = v;
        G[at] = v;
    }
}

SCN__CU_HD static void scn__cu_member_body(size_t q, const int *cols, int *member) {
    member[cols[q]] = 1;
}

/* The FISTA step's epilogue on one column, scn__epilogue_body of the CPU
 * (SCN Algorithm 1, corrected):
 *   alpha_t+1 = shrink(A gamma_t + b),  s_t+1 = (1 + sqrt(1 + 4 s_t^2)) / 2,
 *   gamma_t+1 = alpha_t+1 + (s_t - 1)/s_t+1 (alpha_t+1 - alpha_t),
 * with O'Donoghue & Candes' gradient restart, (gamma_t - alpha_t+1).
 * (alpha_t+1 - alpha_t) > 0 dropping the momentum, and the stopping test
 * max|alpha_t+1 - alpha_t| <= tol max|alpha_t+1| that freezes the column
 * (stop = the iteration it stopped at). */
SCN__CU_HD static void scn__cu_epilogue_body(size_t p, int n, int P, float *T, float *alpha,
                                             float *G, float *s, int *live, const int *member,
                                             int *stop, int it, float thr, float sg, float tol,
                                             int test) {
    float dmax = 0.0f, amax = 0.0f, rdot = 0.0f, beta = 0.0f;
    int j;
    if (!member[p] || !live[p]) return;
    for (j = 0; j < n; j++) {
        size_t at = (size_t)j * P + p;
        float hi = T[at] - thr, lo = T[at] + thr;
        float an = (hi > 0.0f ? hi : 0.0f) + sg * (lo < 0.0f ? lo : 0.0f);
        float da = an - alpha[at], ada = fabsf(da), aan = fabsf(an);
        dmax = ada > dmax ? ada : dmax;
        amax = aan > amax ? aan : amax;
        rdot += (G[at] - an) * da;
        T[at] = an;
    }
    if (rdot > 0.0f) {
        s[p] = 1.0f;                                         /* restart */
    } else {
        float s1 = 0.5f * (1.0f + sqrtf(1.0f + 4.0f * s[p] * s[p]));
        beta = (s[p] - 1.0f) / s1;
        s[p] = s1;
    }
    for (j = 0; j < n; j++) {
        size_t at = (size_t)j * P + p;
        G[at] = T[at] + beta * (T[at] - alpha[at]);
        alpha[at] = T[at];
    }
    if (test && dmax <= tol * amax) { live[p] = 0; stop[p] = it; }
}

SCN__CU_HD static void scn__cu_count_body(size_t p, const int *live, int *counter) {
    if (live[p]) scn__cu_atomic_add(counter, 1);
}

/* FISTA on the `count` columns of cols (host) for at most iters
 * iterations; all P columns go through each product (a stopped or
 * unlisted one is frozen). Returns the iterations of the slowest column,
 * as the CPU's panels count them, in *used. */
static scn_status scn__cu_fista_run(scn__cu_fista *f, const int *cols, int count, int iters,
                                    int *used) {
    int n = f->n, P = f->P, it = 0, q, live = count;
    size_t nP = (size_t)n * P;
    scn_status s;
    *used = 0;
    if ((s = scn__cu_zero(f->member, (size_t)P * sizeof(int), "sparse solve")) ||
        (s = scn__cu_put(f->cols, cols, (size_t)count * sizeof(int), "sparse solve")) ||
        (s = scn__cu_launch<scn__cu_member_body>("sparse solve", (size_t)count,
                                                 (const int *)f->cols, f->member)) ||
        (s = scn__cu_launch<scn__cu_fista_init_body>("sparse solve", (size_t)P, n, P, f->alpha,
                                                     f->G, f->s, f->live,
                                                     (const int *)f->member, f->stop, f->warm)))
        return s;
    while (it < iters && live) {
        if ((s = scn__cu_move(f->T, f->B, nP * sizeof(float), "sparse solve")) ||
            (s = scn__cu_gemm_raw(0, 0, n, P, n, 1.0f, f->A, n, f->G, P, 1.0f, f->T, P)))
            return s;                                           /* t = b + A gamma */
        it++;
        if ((s = scn__cu_launch<scn__cu_epilogue_body>("sparse solve", (size_t)P, n, P, f->T,
                                                       f->alpha, f->G, f->s, f->live,
                                                       (const int *)f->member, f->stop, it,
                                                       f->thr, f->sg, f->tol, f->test)))
            return s;
        if (f->test && (it % SCN__CU_POLL == 0 || it == iters)) {
            if ((s = scn__cu_zero(f->counter, sizeof(int), "sparse solve")) ||
                (s = scn__cu_launch<scn__cu_count_body>("sparse solve", (size_t)P,
                                                        (const int *)f->live, f->counter)) ||
                (s = scn__cu_get(&live, f->counter, sizeof live, "sparse solve")))
                return s;
        }
    }
    if ((s = scn__cu_get(f->hlive, f->live, (size_t)P * sizeof(int), "sparse solve")) ||
        (s = scn__cu_get(f->hstop, f->stop, (size_t)P * sizeof(int), "sparse solve")))
        return s;
    for (q = 0; q < count; q++) {
        int p = cols[q], last = f->hlive[p] ? it : f->hstop[p];
        if (last > *used) *used = last;
        f->stalled[p] = (unsigned char)(f->test && f->hlive[p]);
    }
    return SCN_OK;
}

/* scn__polish_column of the CPU on column p of the device matrices: from
 * FISTA's support and signs, solve SCN eq. 7 on the support, drop entries
 * whose sign is wrong (eq. 3) and add the worst violator of eq. 4 until
 * the KKT conditions hold; then write the exact solution into alpha.
 * Returns 0 (alpha untouched) if that takes more than SCN__POLISH_ROUNDS
 * changes or an active Gram is not positive definite. */
SCN__CU_HD static int scn__cu_polish_column(const float *D, const double *Gd, int m, int n,
                                            const float *X, int P, int p, const float *DtX,
                                            float *alpha, double l1, int signed_codes,
                                            scn__cu_colwork w) {
    int i, j, k = 0, round;
    double scale = l1, worst;
    for (j = 0; j < n; j++) {
        float dtx = DtX[(size_t)j * P + p], a = alpha[(size_t)j * P + p];
        if (fabs((double)dtx) > scale) scale = fabs((double)dtx);
        w.sg[j] = 0;
        if (a != 0.0f) {
            w.sg[j] = a > 0.0f ? 1 : -1;
            w.S[k++] = j;
            w.c[j] = scn__cu_dot_cols(D, n, j, X, P, p, m);
        }
    }
    worst = SCN__KKT_TOL * (scale > 0.0 ? scale : 1.0);
    if (!scn__cu_chol_factor(w.M, n, Gd, n, w.S, k)) return 0;
    for (round = 0; round < SCN__POLISH_ROUNDS; round++) {
        int bad = 0, add = -1;
        double gadd = 0.0, most = worst;
        for (i = 0; i < k; i++) w.y[i] = w.c[w.S[i]] - l1 * w.sg[w.S[i]];
        scn__cu_chol_solve(w.M, n, k, w.y);
        for (i = 0, j = 0; i < k; i++) {             /* eq. 3 needs matching signs */
            if (w.y[i] * w.sg[w.S[i]] > 0.0) { w.S[j] = w.S[i]; w.y[j++] = w.y[i]; }
            else { w.sg[w.S[i]] = 0; bad = 1; }
        }
        k = j;
        if (bad) {
            if (!scn__cu_chol_factor(w.M, n, Gd, n, w.S, k)) return 0;
            continue;
        }
        for (j = 0; j < n; j++) {                   /* eq. 4 off the support */
            const double *gj = Gd + (size_t)j * n;
            double g = DtX[(size_t)j * P + p], v;   /* d_j^T (x - D_S alpha_S) */
            if (w.sg[j]) continue;
            for (i = 0; i < k; i++) g -= gj[w.S[i]] * w.y[i];
            v = signed_codes ? fabs(g) - l1 : g - l1;
            if (v > most) { most = v; add = j; gadd = g; }
        }
        if (add < 0) {
            for (i = 0; i < k; i++)                 /* beyond float range: no answer */
                if (!(fabs(w.y[i]) <= FLT_MAX)) return 0;
            for (j = 0; j < n; j++) alpha[(size_t)j * P + p] = 0.0f;
            for (i = 0; i < k; i++) alpha[(size_t)w.S[i] * P + p] = (float)w.y[i];
            return 1;
        }
        w.sg[add] = gadd < 0.0 ? -1 : 1;
        w.c[add] = scn__cu_dot_cols(D, n, add, X, P, p, m);
        w.S[k] = add;
        if (!scn__cu_chol_append(w.M, n, Gd, n, w.S, k++)) return 0;
    }
    return 0;
}

SCN__CU_HD static void scn__cu_polish_body(size_t q, const int *cols, const float *D,
                                           const double *Gd, int m, int n, const float *X,
                                           int P, const float *DtX, float *alpha, double l1,
                                           int signed_codes, unsigned char *work, int *ok) {
    ok[q] = scn__cu_polish_column(D, Gd, m, n, X, P, cols[q], DtX, alpha, l1, signed_codes,
                                  scn__cu_colwork_at(work, q, n));
}

/* Polishes the `count` columns of cols (host), f->chunk per launch; keeps
 * the ones that failed in cols, in order, and returns their number in
 * *failed. */
static scn_status scn__cu_polish(scn__cu_fista *f, int *cols, int count, int *failed) {
    int c0, q, nf = 0;
    scn_status s = SCN_OK;
    for (c0 = 0; c0 < count && !s; c0 += (int)f->chunk) {
        int cnt = count - c0 < (int)f->chunk ? count - c0 : (int)f->chunk;
        if ((s = scn__cu_put(f->cols, cols + c0, (size_t)cnt * sizeof(int), "sparse solve")) ||
            (s = scn__cu_launch<scn__cu_polish_body>("sparse solve: polish", (size_t)cnt,
                                                     (const int *)f->cols, f->D,
                                                     (const double *)f->Gd, f->m, f->n, f->X,
                                                     f->P, (const float *)f->DtX, f->alpha,
                                                     f->l1, f->signed_codes, f->work, f->ok)) ||
            (s = scn__cu_get(f->hstop, f->ok, (size_t)cnt * sizeof(int), "sparse solve")))
            break;
        for (q = 0; q < cnt; q++)
            if (!f->hstop[q]) cols[nf++] = cols[c0 + q];
    }
    *failed = nf;
    return s;
}

/* scn__solve_stages of the CPU: FISTA to a coarse tolerance, polish, and
 * the columns whose polish failed resume warm with a ten times tighter
 * tolerance, down to the caller's */
static scn_status scn__cu_solve_stages(scn__cu_fista *f, const scn_solve_desc *d, int polish,
                                       int *cols, scn_solve_info *info) {
    int P = f->P, q, count = P, used;
    int budget = d->fixed_iter ? d->fixed_iter : d->max_iter ? d->max_iter
                                                : SCN__DEFAULT_MAX_ITER;
    float tol = d->tol > 0.0f ? d->tol : SCN__DEFAULT_TOL;
    scn_status s;
    f->tol = polish && tol < SCN__COARSE_TOL ? SCN__COARSE_TOL : tol;
    f->test = !d->fixed_iter;
    f->warm = d->warm_start;
    for (q = 0; q < P; q++) cols[q] = q;
    for (;;) {
        if ((s = scn__cu_fista_run(f, cols, count, budget - info->iters, &used))) return s;
        info->iters += used;
        if (!polish) break;
        if ((s = scn__cu_polish(f, cols, count, &count))) return s;
        if (!count || f->tol <= tol || info->iters >= budget) break;
        f->tol = f->tol * 0.1f > tol ? f->tol * 0.1f : tol;
        f->warm = 1;
    }
    info->unpolished = polish ? count : P;
    info->polished = P - info->unpolished;
    if (f->test)
        for (q = 0; q < info->unpolished; q++)
            info->unconverged += f->tol > tol || f->stalled[polish ? cols[q] : q];
    return SCN_OK;
}

/* scn_en_kkt's per-entry violation (SCN eqs. 3-4), max over a segment;
 * Q = D^T (D alpha - X) */
SCN__CU_HD static void scn__cu_kkt_body(size_t sgi, const float *Q, const float *alpha,
                                        size_t count, size_t segs, float l1, float l2,
                                        int signed_codes, double *part) {
    size_t i = scn__cu_seg_at(count, sgi, segs), end = scn__cu_seg_at(count, sgi + 1, segs);
    double worst = 0.0;
    for (; i < end; i++) {
        double g = Q[i] + (double)l2 * alpha[i], a = alpha[i], v;
        if (a != 0.0) v = fabs(g + l1 * (a > 0 ? 1.0 : -1.0));
        else if (signed_codes) v = fabs(g) - l1;
        else v = -l1 - g;
        if (a < 0.0 && !signed_codes) v = fabs(a) > v ? fabs(a) : v;
        if (v > worst) worst = v;
    }
    part[sgi] = worst;
}

static scn_status scn__cu_kkt(const scn__cu_fista *f, const scn_solve_desc *d, double *kkt) {
    size_t mP = (size_t)f->m * f->P, nP = (size_t)f->n * f->P, segs = scn__cu_segs(nP), i;
    double part[SCN__CU_SEGS], worst = 0.0;
    float *R = (float *)scn__cu_scratch(mP * sizeof(float) + (segs + 1) * sizeof(double),
                                          "kkt");
    double *dp;
    scn_status s;
    if (!R) return scn__last_status;
    dp = (double *)(R + mP + (mP & 1));
    if (!(s = scn__cu_move(R, f->X, mP * sizeof(float), "kkt")) &&
        !(s = scn__cu_gemm_raw(0, 0, f->m, f->P, f->n, 1.0f, f->D, f->n, f->alpha, f->P, -1.0f,
                               R, f->P)) &&                                 /* D a - x */
        !(s = scn__cu_gemm_raw(1, 0, f->n, f->P, f->m, 1.0f, f->D, f->n, R, f->P, 0.0f, f->T,
                               f->P)) &&                                    /* D^T (.) */
        !(s = scn__cu_launch<scn__cu_kkt_body>("kkt", segs, (const float *)f->T,
                                               (const float *)f->alpha, nP, segs, d->lambda1,
                                               d->lambda2, d->signed_codes, dp)))
        s = scn__cu_get(part, dp, segs * sizeof(double), "kkt");
    scn__cu_scratch_free(R);
    if (s) return s;
    for (i = 0; i < segs; i++)
        if (part[i] > worst) worst = part[i];
    *kkt = worst;
    return SCN_OK;
}

SCN__CU_HD static void scn__cu_scale_into_body(size_t i, float *y, const float *x, float a) {
    y[i] = x[i] * a;
}

static scn_status scn__cu_en_solve(const float *D, int m, int n, const float *X, int P,
                                   const scn_solve_desc *d, float *alpha,
                                   scn_solve_info *info) {
    scn_solve_info local;
    scn__cu_fista f;
    scn__dict *dict = NULL, *own = NULL;
    float *Ah = NULL;
    int *cols = NULL, polish = !d->fixed_iter && !d->no_polish;
    size_t nP = (size_t)n * P, nn = (size_t)n * n, i, chunk;
    void *blk = NULL;
    scn_status s = scn__cu_en_check("sparse solve", D, m, n, X, P, d);
    if (s) return s;
    if (!info) info = &local;
    memset(info, 0, sizeof *info);
    memset(&f, 0, sizeof f);
    chunk = SCN_CUDA_COLUMN_BYTES / scn__cu_colwork_bytes(n);
    chunk = chunk < 1 ? 1 : chunk > (size_t)P ? (size_t)P : chunk;
    if ((s = scn__cu_dict(d, D, m, n, 1, &dict, &own))) return s;
    {
        scn__cu_piece pc[] = {
            { (void **)&f.A, nn * sizeof(float) }, { (void **)&f.Gd, nn * sizeof(double) },
            { (void **)&f.DtX, nP * sizeof(float) }, { (void **)&f.B, nP * sizeof(float) },
            { (void **)&f.G, nP * sizeof(float) }, { (void **)&f.T, nP * sizeof(float) },
            { (void **)&f.s, (size_t)P * sizeof(float) },
            { (void **)&f.live, (size_t)P * sizeof(int) },
            { (void **)&f.member, (size_t)P * sizeof(int) },
            { (void **)&f.stop, (size_t)P * sizeof(int) },
            { (void **)&f.ok, chunk * sizeof(int) },
            { (void **)&f.cols, (size_t)P * sizeof(int) },
            { (void **)&f.counter, sizeof(int) },
            { (void **)&f.work, polish ? chunk * ((scn__cu_colwork_bytes(n) + 7) / 8 * 8) : 0 },
        };
        blk = scn__cu_carve(pc, (int)(sizeof pc / sizeof pc[0]), "sparse solve");
    }
    Ah = (float *)scn__calloc(nn, sizeof(float), "sparse solve");
    cols = (int *)scn__calloc((size_t)P * 3, sizeof(int), "sparse solve");
    f.stalled = (unsigned char *)scn__calloc((size_t)P, 1, "sparse solve");
    if (!blk || !Ah || !cols || !f.stalled) {
        s = scn__last_status ? scn__last_status : SCN_ERR_NOMEM;
        goto done;
    }
    f.hlive = cols + P;
    f.hstop = cols + 2 * (size_t)P;
    for (i = 0; i < nn; i++)               /* A = I - (D^T D + lambda2 I) / kappa */
        Ah[i] = (float)((i % (n + 1) == 0 ? 1.0 : 0.0) - dict->Gd[i] / dict->kappa);
    if ((s = scn__cu_put(f.A, Ah, nn * sizeof(float), "sparse solve")) ||
        (s = scn__cu_put(f.Gd, dict->Gd, nn * sizeof(double), "sparse solve")) ||
        (s = scn__cu_gemm_raw(1, 0, n, P, m, 1.0f, D, n, X, P, 0.0f, f.DtX, P)))
        goto done;
    /* a D^T X beyond float range thresholds to codes the polish would accept */
    {
        size_t at;
        float v = 0.0f;
        if ((s = scn__cu_find_nonfinite(f.DtX, nP, &at))) goto done;
        if (at < nP) {
            if (!(s = scn__cu_get(&v, f.DtX + at, sizeof v, "sparse solve")))
                s = scn__fail(SCN_ERR_NUMERIC, "sparse solve: D^T X entry (%zu, %zu) is %g: "
                              "the product of the dictionary and the input leaves float "
                              "range (scale them down)", at / P, at % P, (double)v);
            goto done;
        }
    }
    f.m = m; f.n = n; f.P = P; f.D = D; f.X = X; f.alpha = alpha; f.chunk = chunk;
    f.thr = (float)(d->lambda1 / dict->kappa);
    f.sg = d->signed_codes ? 1.0f : 0.0f;
    f.l1 = d->lambda1;
    f.signed_codes = d->signed_codes;
    info->kappa = dict->kappa;
    if ((s = scn__cu_launch<scn__cu_scale_into_body>("sparse solve", nP, f.B,
                                                     (const float *)f.DtX,
                                                     (float)(1.0 / dict->kappa))) ||
        (s = scn__cu_solve_stages(&f, d, polish, cols, info)))
        goto done;
    {
        size_t at;
        float v = 0.0f;
        if ((s = scn__cu_find_nonfinite(alpha, nP, &at))) goto done;
        if (at < nP) {
            if (!(s = scn__cu_get(&v, alpha + at, sizeof v, "sparse solve")))
                s = scn__fail(SCN_ERR_NUMERIC, "sparse solve: code (%zu, %zu) is %g: the "
                              "iteration left float range", at / P, at % P, (double)v);
            goto done;
        }
    }
    if (info != &local) {
        if ((s = scn__cu_kkt(&f, d, &info->kkt))) goto done;
        if (!(info->kkt <= DBL_MAX))
            s = scn__fail(SCN_ERR_NUMERIC, "sparse solve: the KKT residual is %g: D alpha - "
                          "X leaves float range (scale the inputs down)", info->kkt);
    }
done:
    scn__dict_free(own);
    scn__cu_scratch_free(blk);
    SCN_FREE(Ah);
    SCN_FREE(cols);
    SCN_FREE(f.stalled);
    return s;
}

/* ======================================================================
 * The fixed-point backward pass (scn.h section 6) on the device
 * ====================================================================== */

/* gamma of column p (scn__gamma_column): SCN eq. 11 (SF's b for signed
 * codes) on the active set, written into Gamma (zero off it), and
 * dl[p] = -sum sign(alpha_j) gamma_j (SCN eq. 13); ok[p] = 0 if the active
 * Gram is not positive definite */
SCN__CU_HD static void scn__cu_gamma_body(size_t q, int p0, const double *Gd, int n, int P,
                                          const float *alpha, const float *G, float *Gamma,
                                          double *dl, int *ok, unsigned char *work) {
    scn__cu_colwork w = scn__cu_colwork_at(work, q, n);
    int p = p0 + (int)q, j, k = 0;
    double sum = 0.0;
    for (j = 0; j < n; j++) {
        size_t at = (size_t)j * P + p;
        if (alpha[at] != 0.0f) {
            w.sg[k] = alpha[at] > 0.0f ? 1 : -1;
            w.y[k] = G[at];
            w.S[k++] = j;
        }
        Gamma[at] = 0.0f;
    }
    ok[p] = scn__cu_chol_factor(w.M, n, Gd, n, w.S, k);
    dl[p] = 0.0;
    if (!ok[p]) return;
    scn__cu_chol_solve(w.M, n, k, w.y);
    for (j = 0; j < k; j++) {
        Gamma[(size_t)w.S[j] * P + p] = (float)w.y[j];
        sum -= w.sg[j] * w.y[j];
    }
    dl[p] = sum;
}

static scn_status scn__cu_en_backward(const float *D, int m, int n, const float *X, int P,
                                      const float *alpha, const float *G,
                                      const scn_solve_desc *d, float *dD, float *dX,
                                      float *dlambda1) {
    scn__dict *dict = NULL, *own = NULL;
    double *Gd = NULL, *dl = NULL, *hdl = NULL;
    float *Gamma = NULL, *S = NULL, *R = NULL;
    int *ok = NULL, *hok = NULL, p, bad = -1;
    unsigned char *work = NULL;
    size_t nP = (size_t)n * P, mP = (size_t)m * P, chunk;
    void *blk = NULL;
    scn_status s = scn__cu_en_check("sparse backward", D, m, n, X, P, d);
    if (s) return s;
    if ((s = scn__cu_check_finite(alpha, (size_t)n, (size_t)P, "sparse backward",
                                  "code entry")) ||
        (s = scn__cu_check_finite(G, (size_t)n, (size_t)P, "sparse backward",
                                  "upstream gradient entry")))
        return s;
    chunk = SCN_CUDA_COLUMN_BYTES / scn__cu_colwork_bytes(n);
    chunk = chunk < 1 ? 1 : chunk > (size_t)P ? (size_t)P : chunk;
    if ((s = scn__cu_dict(d, D, m, n, 0, &dict, &own))) return s;
    {
        scn__cu_piece pc[] = {
            { (void **)&Gd, (size_t)n * n * sizeof(double) },
            { (void **)&dl, (size_t)P * sizeof(double) },
            { (void **)&ok, (size_t)P * sizeof(int) },
            { (void **)&Gamma, nP * sizeof(float) },
            { (void **)&S, dD ? (size_t)n * n * sizeof(float) : 0 },
            { (void **)&R, dD ? mP * sizeof(float) : 0 },
            { (void **)&work, chunk * ((scn__cu_colwork_bytes(n) + 7) / 8 * 8) },
        };
        blk = scn__cu_carve(pc, (int)(sizeof pc / sizeof pc[0]), "sparse backward");
    }
    hdl = (double *)scn__calloc((size_t)P, sizeof(double) + sizeof(int), "sparse backward");
    if (!blk || !hdl) {
        s = scn__last_status ? scn__last_status : SCN_ERR_NOMEM;
        goto done;
    }
    hok = (int *)(hdl + P);
    if ((s = scn__cu_put(Gd, dict->Gd, (size_t)n * n * sizeof(double), "sparse backward")))
        goto done;
    for (p = 0; p < P; p += (int)chunk) {
        int cnt = P - p < (int)chunk ? P - p : (int)chunk;
        if ((s = scn__cu_launch<scn__cu_gamma_body>("sparse backward", (size_t)cnt, p,
                                                    (const double *)Gd, n, P, alpha, G, Gamma,
                                                    dl, ok, work)))
            goto done;
    }
    if ((s = scn__cu_get(hdl, dl, (size_t)P * sizeof(double), "sparse backward")) ||
        (s = scn__cu_get(hok, ok, (size_t)P * sizeof(int), "sparse backward")))
        goto done;
    for (p = 0; p < P && bad < 0; p++)
        if (!hok[p]) bad = p;
    if (bad >= 0) {
        s = scn__fail(SCN_ERR_NUMERIC, "sparse backward: active-set Gram of column %d is "
                      "singular (lambda2 = %g; use lambda2 > 0)", bad, (double)d->lambda2);
        goto done;
    }
    {
        size_t at;
        float v = 0.0f;
        if ((s = scn__cu_find_nonfinite(Gamma, nP, &at))) goto done;
        if (at < nP) {
            if (!(s = scn__cu_get(&v, Gamma + at, sizeof v, "sparse backward")))
                s = scn__fail(SCN_ERR_NUMERIC, "sparse backward: gamma (%zu, %zu) is %g: the "
                              "active-set system of that column is too ill-conditioned "
                              "(lambda2 = %g)", at / P, at % P, (double)v,
                              (double)d->lambda2);
            goto done;
        }
    }
    if (dlambda1) {
        double sum = 0.0;
        for (p = 0; p < P; p++) sum += hdl[p];
        *dlambda1 = (float)sum;
        if (!isfinite(*dlambda1)) {
            s = scn__fail(SCN_ERR_NUMERIC, "sparse backward: dlambda1 = %g leaves float "
                          "range", sum);
            goto done;
        }
    }
    if (dX) {                                                           /* SCN eq. 17 */
        if ((s = scn__cu_gemm_raw(0, 0, m, P, n, 1.0f, D, n, Gamma, P, 0.0f, dX, P)) ||
            (s = scn__cu_check_finite(dX, (size_t)m, (size_t)P, "sparse backward",
                                      "dX entry")))
            goto done;
    }
    if (dD) {                        /* SCN eq. 11: (X - D A) Gamma^T - D (Gamma A^T) */
        if ((s = scn__cu_gemm_raw(0, 1, n, n, P, 1.0f, Gamma, P, alpha, P, 0.0f, S, n)) ||
            (s = scn__cu_gemm_raw(0, 0, m, n, n, -1.0f, D, n, S, n, 0.0f, dD, n)) ||
            (s = scn__cu_move(R, X, mP * sizeof(float), "sparse backward")) ||
            (s = scn__cu_gemm_raw(0, 0, m, P, n, -1.0f, D, n, alpha, P, 1.0f, R, P)) ||
            (s = scn__cu_gemm_raw(0, 1, m, n, P, 1.0f, R, P, Gamma, P, 1.0f, dD, n)) ||
            (s = scn__cu_check_finite(dD, (size_t)m, (size_t)n, "sparse backward",
                                      "dD entry")))
            goto done;
    }
done:
    scn__dict_free(own);
    scn__cu_scratch_free(blk);
    SCN_FREE(hdl);
    return s;
}

/* ======================================================================
 * The table
 * ====================================================================== */

static const scn_backend scn__cu_backend = {
#ifdef SCN_CUDA_HOST_EMULATION
    "cuda-emulated",
#else
    "cuda",
#endif
    0,
    scn__cu_alloc, scn__cu_release, scn__cu_upload, scn__cu_download,
    scn__cu_gemm, scn__cu_im2col, scn__cu_col2im,
    scn__cu_cols_to_nchw, scn__cu_nchw_to_cols,
    scn__cu_en_solve, scn__cu_en_backward,
    scn__cu_fill, scn__cu_copy, scn__cu_axpy, scn__cu_relu, scn__cu_relu_backward,
    scn__cu_mul, scn__cu_broadcast, scn__cu_sum_add, scn__cu_dot,
    scn__cu_sparsity, scn__cu_find_nonfinite,
    scn__cu_bn_forward, scn__cu_bn_backward,
    scn__cu_maxpool, scn__cu_maxpool_backward, scn__cu_avgpool,
    scn__cu_avgpool_backward,
    scn__cu_sgd_update, scn__cu_clamp_min, scn__cu_col_norm_clip,
    scn__cu_shrink, scn__cu_shrink_backward, scn__cu_top_s, scn__cu_gemm_sparse_a,
    scn__cu_scal, scn__cu_shrink_all, scn__cu_shrink_all_backward, scn__cu_row_normalize,
    scn__cu_seg_sumsq
};

#ifdef SCN_CUDA_HOST_EMULATION

SCNDEF const scn_backend *scn_cuda_backend(void) { return &scn__cu_backend; }
SCNDEF const char *scn_cuda_device_name(void) { return "host emulation"; }

#else

static char scn__cu_name[256];

SCNDEF const scn_backend *scn_cuda_backend(void) {
    int count = 0, dev = 0;
    cudaError_t e;
    cublasStatus_t st;
    if (scn__cu_blas) return &scn__cu_backend;
    e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        scn__cu_error(e, "no device");
        return NULL;
    }
    if (count < 1) {
        scn__fail(SCN_ERR_IO, "cuda: no CUDA device");
        return NULL;
    }
    if ((e = cudaGetDevice(&dev)) != cudaSuccess) {
        scn__cu_error(e, "cudaGetDevice");
        return NULL;
    }
    {
        struct cudaDeviceProp prop;
        if (cudaGetDeviceProperties(&prop, dev) == cudaSuccess)
            snprintf(scn__cu_name, sizeof scn__cu_name, "%s", prop.name);
    }
    if ((st = cublasCreate(&scn__cu_blas)) != CUBLAS_STATUS_SUCCESS) {
        scn__cu_blas = NULL;
        scn__fail(SCN_ERR_IO, "cuda: cublasCreate: %s", cublasGetStatusString(st));
        return NULL;
    }
    /* float32 products in float32 (no TF32 tensor-core rounding), as on the CPU */
    cublasSetMathMode(scn__cu_blas, CUBLAS_DEFAULT_MATH);
    {
        int pools = 0;
        cudaMemPool_t pool;
        uint64_t keep = SCN__CU_POOL_KEEP;
        if (cudaDeviceGetAttribute(&pools, cudaDevAttrMemoryPoolsSupported, dev) ==
                cudaSuccess && pools && cudaDeviceGetDefaultMemPool(&pool, dev) == cudaSuccess &&
            cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep) == cudaSuccess)
            scn__cu_pooled = 1;
        cudaGetLastError();
    }
    return &scn__cu_backend;
}

SCNDEF const char *scn_cuda_device_name(void) {
    int count = 0;
    if (!scn__cu_name[0] && cudaGetDeviceCount(&count) == cudaSuccess && count > 0) {
        struct cudaDeviceProp prop;
        int dev = 0;
        if (cudaGetDevice(&dev) == cudaSuccess &&
            cudaGetDeviceProperties(&prop, dev) == cudaSuccess)
            snprintf(scn__cu_name, sizeof scn__cu_name, "%s", prop.name);
    }
    cudaGetLastError();
    return scn__cu_name;
}

#endif /* SCN_CUDA_HOST_EMULATION */

#endif /* SCN__CUDA_IMPLEMENTED */
#endif /* SCN_CUDA_DECLARATIONS_ONLY */
