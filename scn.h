/* scn.h - deep sparse-coding networks in one C header.          v0.2.0
 *
 * WHAT IT IS
 *   A self-contained library for networks whose layers are sparse codes:
 *   every layer solves an elastic-net problem per signal (or per image
 *   patch) and is trained end to end with exact fixed-point gradients
 *   (Sun, Nasrabadi, Tran, "Supervised Deep Sparse Coding Networks").
 *   It holds the core every model is built from (tensors, a seeded RNG,
 *   GEMM, im2col/col2im, .npy files, the batched elastic-net solver with
 *   support polishing and its fixed-point backward pass) and what trains
 *   a model on it: layer kinds defined by tables, networks with residual
 *   blocks, SGD, the training and evaluation loops, data sets,
 *   checkpoints, and a backend table every loop over tensor data goes
 *   through (the CPU one built in). Beside SCN's `sc` layers it builds the
 *   models of three related papers on the same core: sparse factorization
 *   (`sf`, `csf`; Koch and Corso), the deep double sparsity encoder (`pca`,
 *   `ddse`, `lista`; Wang et al.) and SDNet's convolutional sparse coding
 *   (`csc`; Dai et al.), and, with SCN_MPI, data-parallel training over
 *   MPI ranks (section 17).
 *
 * HOW TO USE IT
 *   Include scn.h wherever you need it. In exactly ONE .c file, define the
 *   implementation first:
 *
 *       #define SCN_IMPLEMENTATION
 *       #include "scn.h"
 *
 *   One command builds a program (OpenMP is optional but uses all cores):
 *
 *       cc -O2 -fopenmp -o prog prog.c -lm
 *
 *   Only scn_* names are exported; everything else, stb_image included,
 *   is static. Tested with gcc and clang (-std=c99 -pedantic), g++ and
 *   clang++ (-std=c++11), tcc, on x86-64, 32-bit x86, s390x (big-endian)
 *   and AArch64 (README.md, "Using scn.h in your project"). In C++,
 *   zero-initialise a description with {} (C's {0} draws
 *   -Wmissing-field-initializers from g++ -Wextra).
 *
 *   Solving sparse codes for P signals (columns of X, m x P) against a
 *   dictionary D (m x n), all float32 row-major:
 *
 *       scn_solve_desc sd = {0};      // zero = default; set what you need
 *       sd.lambda1 = 0.1f; sd.lambda2 = 0.01f;
 *       scn_solve_info info;
 *       if (scn_en_solve(D, m, n, X, P, &sd, alpha, &info) != SCN_OK)
 *           fprintf(stderr, "%s\n", scn_error());
 *
 *   Then the gradients for an upstream gradient G = dLoss/dalpha (n x P):
 *
 *       scn_en_backward(D, m, n, X, P, alpha, G, &sd, dD, dX, &dlambda1);
 *
 *   Training a network (examples/05_train_scn.c is this, complete; every
 *   call returns a status or NULL to check):
 *
 *       scn_dataset *train = scn_dataset_open(dir, "train", NULL); // detected
 *       scn_net *net = scn_net_create("scn-mnist", train->C, train->H, train->W, seed);
 *       scn_sgd opt;  scn_sgd_init(&opt, net, NULL);     // lr 0.1, momentum 0.9
 *       scn_train_state st = {0};                        // epoch, generator, ...
 *       scn_dataset_stats(train, st.mean, st.std);       // input normalisation
 *       scn_train_desc desc = {0};                       // batch 64, ...
 *       while (st.epoch < epochs) {
 *           scn_train_epoch(net, &opt, train, &st, &desc, &result);
 *           scn_bn_recompute(net, train, &st, &desc, 2048);  // precise BN
 *           scn_evaluate(net, test, &st, &desc, &result, NULL);
 *           scn_checkpoint_save(path, net, &opt, &st);
 *       }
 *
 *   A network is a spec, one layer per word, residual blocks in brackets:
 *   "conv:n=16 bn relu res[ conv:n=16 bn relu conv:n=16 bn ] gap linear:n=10";
 *   scn_kind() lists every layer kind with its options (section 8).
 *
 * CONFIGURATION (define before including the implementation)
 *   SCN_MALLOC(sz), SCN_REALLOC(p,sz), SCN_FREE(p)
 *                     allocator; define all three or none (default: libc).
 *                     A NULL from SCN_MALLOC is reported as SCN_ERR_NOMEM.
 *   SCN_ASSERT(x)     checks programmer errors only (default: assert.h).
 *   SCNDEF            what every public function is declared with
 *                     (default: extern; SCN_STATIC makes it static).
 *   SCN_STATIC        make every function static (private copy per file;
 *                     unused ones draw no warning under GCC and clang).
 *   SCN_NO_STDIO      drop the functions that read or write files.
 *   SCN_STREAM_MAX    the most bytes read from a pipe or FIFO given as a
 *                     .npy, IDX or checkpoint file (default 1 GiB; see
 *                     INPUT FILES in section 4).
 *   SCN_SC_SCRATCH    the scratch, in bytes, an sc, csf or sf layer solves
 *                     in: it takes a batch's images in groups that fit
 *                     (default 32 MiB; section 8). The codes do not depend
 *                     on it; memory does (README, "Where scn-cifar's time
 *                     and memory went").
 *   SCN_NO_STB_IMAGE  no gzip (.gz IDX files), no image folders, no
 *                     stb_image (section 12).
 *   SCN_STB_IMAGE_PATH  the stb_image.h to include instead of
 *                     <stb/stb_image.h> (section 12).
 *   SCN_GUNZIP_MAX, SCN_IDX_MAX_CLASSES, SCN_IMAGE_MAX_SIDE,
 *   SCN_AMAT_MAX_VALUES  the readers' size limits (sections 12, 13).
 *   SCN_MPI           compile section 17, training over MPI ranks (build
 *                     with mpicc; off by default).
 *   _OPENMP           set by the compiler with -fopenmp: GEMM, the solver
 *                     and the backward pass then run on all cores. Results
 *                     are bit-identical for any thread count.
 *
 * CONVENTIONS
 *   - Every fallible call returns scn_status (SCN_OK = 0) or NULL; then
 *     scn_error() says what failed, naming the file, field and value. The
 *     library never exits, aborts or prints.
 *   - float32 everywhere. Tensors are NCHW, row-major. A matrix of signals
 *     has one signal per column (m x P), as in the papers.
 *   - Whoever calls scn_X_create calls scn_X_free; views never own data.
 *   - A description struct's zero value means "the default" (scn_solve_desc,
 *     scn_sgd_desc, scn_train_desc); in a spec, a given option means
 *     exactly its value.
 *   - Every pointer argument is required unless its function's comment
 *     says it may be NULL. A NULL where one is required is a programmer
 *     error, caught by SCN_ASSERT before anything is dereferenced (a few
 *     older entry points, said so below, return SCN_ERR_ARG instead).
 *   - Comments cite the equation they implement ("SCN eq. 7").
 *
 * THREADS AND GLOBAL STATE
 *   The library keeps three pieces of global state: the current backend
 *   (scn_backend_set), the GEMM microkernel (scn_gemm_kernel_select, or
 *   the best this CPU runs, chosen on first use; threads making their
 *   first call at once choose the same one), and each thread's error
 *   message (scn_error; one for all threads under compilers without
 *   thread-local storage, such as tcc). Set the first two before any work
 *   starts, not while another thread uses the library. Everything else lives in
 *   objects the caller owns: different nets, optimisers, workspaces and
 *   data sets may be used from different threads at once, one object from
 *   one thread at a time; the functions of sections 3-7 may be called from
 *   many threads at once with separate outputs and workspaces.
 *   With SCN_MPI, a synchronised-BN step also keeps its context in a
 *   thread-local pointer (section 17).
 *
 * TABLE OF CONTENTS (each entry is a banner comment below, in the API and
 * again in the implementation)
 *   1. Errors
 *   2. Tensors and RNG
 *   3. Math: GEMM, im2col, col2im      (and symmetric eigenvectors)
 *   4. .npy files and output files    (atomic writes, output locks)
 *   5. Sparse coding solvers          (elastic net, FISTA, polishing)
 *   6. Fixed-point backward           (SCN eqs. 11, 13, 17)
 *   7. Convolutional sparse coding    (im2col -> solve -> codes; SDNet's power
 *                                      iteration)
 *   8. Layers                         (kinds as tables: sc, csf, sf, bn, conv,
 *                                      linear, relu, pooling, dropout, pca, ddse,
 *                                      lista, csc, res, ...)
 *   9. Networks                       (specs, blocks, presets, forward, backward,
 *                                      an SC layer's reconstructions, csc lambda
 *                                      and residuals)
 *  10. Optimisation                   (SGD, Nesterov, schedules, projections)
 *  11. Data sets                      (interface, normalisation, augmentation,
 *                                      CIFAR-10-C noises)
 *  12. Data sets: IDX files and gzip  (MNIST, Fashion-MNIST)
 *  13. Data sets: other formats       (CIFAR-10/100, STL-10, .amat, folders)
 *  14. Training and evaluation        (scn_train_epoch, semi-supervised, scn_evaluate,
 *                                      precise BN, PCA fit, progress)
 *  15. Checkpoints                    (version 3 byte layout, atomic, CRC)
 *  16. Backends                       (the table every loop goes through)
 *  17. Distributed training over MPI  (SCN_MPI: data-parallel SGD,
 *                                      deterministic reduction)
 *
 * VERSION HISTORY (CHANGELOG.md has the details)
 *   0.2.0  layer kinds as tables, residual blocks, training loop in the
 *          library, backend table over every layer, checkpoint version 3
 *   0.1.0  SCN: solver, fixed-point gradients, layers, data sets, CLI
 *
 * LICENSE
 *   MIT License. Copyright (c) 2026 the scn.h authors.
 *
 *   Permission is hereby granted, free of charge, to any person obtaining a
 *   copy of this software and associated documentation files (the
 *   "Software"), to deal in the Software without restriction, including
 *   without limitation the rights to use, copy, modify, merge, publish,
 *   distribute, sublicense, and/or sell copies of the Software, and to
 *   permit persons to whom the Software is furnished to do so, subject to
 *   the following conditions:
 *
 *   The above copyright notice and this permission notice shall be included
 *   in all copies or substantial portions of the Software.
 *
 *   THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS
 *   OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
 *   MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT.
 *   IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY
 *   CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT,
 *   TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE
 *   SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
 */
#ifndef SCN_H
#define SCN_H

#define SCN_VERSION_MAJOR 0
#define SCN_VERSION_MINOR 2
#define SCN_VERSION_PATCH 0

#include <stddef.h>
#include <stdint.h>

#ifndef SCNDEF
#ifdef SCN_STATIC
/* a private copy: the functions a file does not call are not worth a
 * -Wunused-function warning each */
#if defined(__GNUC__) || defined(__clang__)
#define SCNDEF static __attribute__((unused))
#else
#define SCNDEF static
#endif
#else
#define SCNDEF extern
#endif
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* ======================================================================
 * 1. Errors
 * ====================================================================== */

typedef enum scn_status {
    SCN_OK = 0,
    SCN_ERR_NOMEM,      /* an allocation failed */
    SCN_ERR_IO,         /* a file could not be opened, read or written */
    SCN_ERR_FORMAT,     /* a file's contents are malformed or unsupported */
    SCN_ERR_ARG,        /* an argument is out of range or inconsistent */
    SCN_ERR_NUMERIC     /* a NaN/Inf or an indefinite matrix was met */
} scn_status;

/* The message of the most recent failure in this thread ("" if none). */
SCNDEF const char *scn_error(void);
/* Empties this thread's message (to see whether a call sets one). */
SCNDEF void scn_error_clear(void);
/* A fixed name for a status code, e.g. "out of memory". */
SCNDEF const char *scn_status_string(scn_status s);

/* ======================================================================
 * 2. Tensors and RNG
 * ====================================================================== */

#define SCN_MAX_DIMS 4

/* A float32 array of up to 4 dimensions, row-major (NCHW for images).
 * owns != 0: data was allocated by scn_tensor_create and is freed with it. */
typedef struct scn_tensor {
    float *data;
    int ndim;
    int shape[SCN_MAX_DIMS];
    size_t size;        /* product of shape */
    int owns;
    const struct scn_backend *device;   /* whose memory data is: NULL for host
                                           memory (every tensor made here) */
} scn_tensor;

/* A zero-filled tensor of shape[0..ndim), or NULL (see scn_error()). */
SCNDEF scn_tensor *scn_tensor_create(int ndim, const int *shape);
/* Shorthand for a 4-d N x C x H x W tensor. */
SCNDEF scn_tensor *scn_tensor_create4(int n, int c, int h, int w);
/* Frees the tensor (and its data if it owns it). NULL is fine. */
SCNDEF void scn_tensor_free(scn_tensor *t);
/* A non-owning view of `size(shape)` floats of t starting at `offset`. */
SCNDEF scn_status scn_tensor_view(const scn_tensor *t, size_t offset, int ndim,
                                  const int *shape, scn_tensor *view);
/* Changes the shape in place; the element count must stay the same. */
SCNDEF scn_status scn_tensor_reshape(scn_tensor *t, int ndim, const int *shape);

/* PCG32 (O'Neill): small, fast, and the same numbers on every machine.
 * Pass it explicitly: the library has no hidden global random state. Any
 * bits are a working generator (PCG's increment is made odd when used), so
 * a zeroed one (a memset scn_train_state's) draws too, rather than
 * repeating 0. */
typedef struct scn_rng { uint64_t state, inc; } scn_rng;

SCNDEF void     scn_rng_seed(scn_rng *r, uint64_t seed, uint64_t stream);
SCNDEF uint32_t scn_rng_u32(scn_rng *r);
/* Uniform in [0, 1). */
SCNDEF float    scn_rng_uniform(scn_rng *r);
/* Standard normal (Box-Muller). */
SCNDEF float    scn_rng_normal(scn_rng *r);
/* Uniform integer in [0, bound), unbiased; bound > 0. */
SCNDEF uint32_t scn_rng_below(scn_rng *r, uint32_t bound);

/* ======================================================================
 * 3. Math: GEMM, im2col, col2im
 * ====================================================================== */

/* C = alpha * op(A) op(B) + beta * C, row-major. op(A) is M x K, op(B) is
 * K x N; trans_a/trans_b != 0 means the stored matrix is the transpose.
 * lda/ldb/ldc are row strides of the stored matrices. beta = 0 ignores the
 * old contents of C (NaN included). Goes through the current backend; its
 * packing buffers (about 1.2 MB per thread) are allocated for the call, so
 * a program calling it in a loop keeps a workspace and calls the backend's
 * gemm with it instead (the layers and the solver do). */
SCNDEF scn_status scn_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                           const float *A, int lda, const float *B, int ldb,
                           float beta, float *C, int ldc);

/* The GEMM microkernels built in, best first ("avx512", "avx2" on x86 with
 * GCC or clang, "neon" on AArch64, then "c" everywhere): the
 * name of kernel i (NULL past the last) and, in *runs, whether this CPU
 * runs it (runs may be NULL). */
SCNDEF const char *scn_gemm_kernel_name(int i, int *runs);
/* Uses the named microkernel from now on (NULL: the best this CPU runs,
 * the default, chosen on first use); fails for a name this CPU cannot
 * run. Global state: see THREADS AND GLOBAL STATE at the top. */
SCNDEF scn_status scn_gemm_kernel_select(const char *name);
/* The name of the microkernel in use. */
SCNDEF const char *scn_gemm_kernel(void);

/* Geometry of a convolution window over a batch of N x C x H x W images:
 * square window k, stride, zero padding. Filled by scn_conv_geom_init. */
typedef struct scn_conv_geom {
    int N, C, H, W;     /* input */
    int k, stride, pad; /* window */
    int Ho, Wo;         /* output: (H + 2 pad - k) / stride + 1, same for W */
    int m;              /* rows of a patch matrix: C k k */
    int P;              /* columns: N Ho Wo */
} scn_conv_geom;

SCNDEF scn_status scn_conv_geom_init(scn_conv_geom *g, int N, int C, int H, int W,
                                     int k, int stride, int pad);
/* Patch matrix X (m x P) of the batch x (N x C x H x W): row c k k + i k + j,
 * column (b Ho + oy) Wo + ox holds x[b][c][oy s - pad + i][ox s - pad + j]
 * (0 outside the image). */
SCNDEF scn_status scn_im2col(const scn_conv_geom *g, const float *x, float *X);
/* The adjoint: accumulates X (m x P) back into x (x is zeroed first). */
SCNDEF scn_status scn_col2im(const scn_conv_geom *g, const float *X, float *x);

/* Eigenvalues and eigenvectors of the symmetric n x n matrix A (double,
 * row-major, only read): w receives the n eigenvalues in descending
 * order, V (n x n) the orthonormal eigenvectors as its rows (row i goes
 * with w[i]). Householder tridiagonalisation (the reduction the solver's
 * step bound uses) with the reflections accumulated, then the implicit QL
 * algorithm with Wilkinson shifts; O(n^3), about a second for n = 784.
 * SCN_ERR_NUMERIC if an eigenvalue takes more than 60 iterations or A
 * holds a NaN or Inf. */
SCNDEF scn_status scn_sym_eigen(const double *A, int n, double *w, double *V);

/* ======================================================================
 * 4. .npy files and output files
 * ====================================================================== */

#ifndef SCN_NO_STDIO
/* INPUT FILES. Every reader opens regular files only, checked before
 * anything is read (a FIFO would block, /dev/zero never ends, a directory
 * is no data); the readers that take a whole file at once (.npy, IDX,
 * checkpoints, images) also take a pipe or FIFO (e.g. <(zcat D.npy.gz)),
 * read up to SCN_STREAM_MAX bytes; one with nothing writing to it fails
 * at once as empty. Limits: a .npy file or checkpoint is read whole, so
 * it needs its size in memory (plus the tensor); IDX and image limits are
 * in sections 12 and 13. */
#ifndef SCN_STREAM_MAX
#define SCN_STREAM_MAX ((size_t)1 << 30)
#endif
/* Reads a C-order float32 ('<f4') or float64 ('<f8', converted) array of
 * at most SCN_MAX_DIMS dimensions (a 0-d array becomes shape (1,)),
 * format versions 1.0, 2.0 and 3.0. Returns NULL and explains otherwise. */
SCNDEF scn_tensor *scn_npy_load(const char *path);
/* Writes t as a version 1.0 '<f4' C-order array, through the same
 * temporary-file-and-rename path as every file the library writes (see
 * OUTPUT FILES below): a failed save leaves the old file as it was. */
SCNDEF scn_status scn_npy_save(const char *path, const scn_tensor *t);

/* OUTPUT FILES. Every file the library writes is written whole to a
 * temporary in the directory of its target (TARGET.tmp.PID.N, unique per
 * process and call), flushed to disk, then renamed over the target; on
 * any failure the temporary is removed and the old file is left intact.
 * A symlink is written through: the file it points to is replaced and the
 * link stays. An existing output that is not a regular file (a directory,
 * /dev/null, a FIFO, a socket) is refused with SCN_ERR_IO, as is a
 * missing directory. On systems other than POSIX ones, and in a strict
 * ISO build on one (-std=c99 without _POSIX_C_SOURCE >= 200112L, which
 * hides lstat and readlink), the temporary is written with stdio and
 * renamed without these checks and without the lock below. */

/* Checks before long work that path can be written as above: its
 * directory exists and takes a new file (a probe temporary is created
 * and removed there), and path, or what a symlink at path points to, is a
 * regular file or does not exist yet. Does not create path. */
SCNDEF scn_status scn_output_check(const char *path);

/* An advisory lock that keeps two runs from writing the same output: a
 * lock file PATH.lock (next to what path resolves to) holding the
 * holder's process id, locked with fcntl. Taking it never blocks: if
 * another process holds it, SCN_ERR_IO with a message naming that
 * process's id. A lock file left by a run that died is taken over: the
 * system drops a dead process's lock. On Linux with _GNU_SOURCE the lock
 * belongs to the open file (F_OFD_SETLK), so a second take from the same
 * process fails too; otherwise it is a POSIX record lock, which only
 * other processes see.
 * scn_output_lock_release unlocks and removes the lock file; releasing a
 * lock not held (zeroed, or already released) does nothing. On systems
 * other than POSIX ones taking succeeds and locks nothing. */
typedef struct scn_output_lock {
    int fd;             /* the open lock file, -1 when not held */
    char *path;         /* the lock file's name (allocated while held) */
} scn_output_lock;

SCNDEF scn_status scn_output_lock_take(const char *path, scn_output_lock *lk);
SCNDEF void scn_output_lock_release(scn_output_lock *lk);
#endif
/* Parses a .npy image held in memory (what scn_npy_load does after reading
 * the file); `name` labels error messages (may be NULL). bytes may be NULL
 * only when len is 0. */
SCNDEF scn_tensor *scn_npy_parse(const void *bytes, size_t len, const char *name);

/* ======================================================================
 * 5. Sparse coding solvers
 *
 * For each column x of X (m x P) and dictionary D (m x n), SCN eq. 1:
 *   alpha* = argmin_{alpha >= 0} 1/2 |x - D alpha|^2 + lambda1 |alpha|_1
 *                                + lambda2/2 |alpha|^2
 * or, with `signed_codes`, the same without alpha >= 0 (SF/CSF layers).
 *
 * Method: FISTA (SCN Algorithm 1, corrected), 16 or 32 columns at a time
 * with all their iterations in cache (the GEMM microkernel applied to the
 * panel, then one vectorised pass), with a per-column adaptive restart
 * and stopping test. Step 1/kappa, kappa >= lambda_max(D^T D + lambda2 I) computed by
 * Householder tridiagonalisation in double precision and Sturm bisection
 * (the upper end of the bracket, raised by a relative 1e-5 that dwarfs the
 * rounding error of the reduction), so the step never exceeds 1/L.
 * Then support polishing: per column, from FISTA's support, an active-set
 * solve of SCN eq. 7 in double precision; a polished column is kept only
 * if it satisfies the KKT conditions, SCN eqs. 3-4.
 * ====================================================================== */

/* Scratch memory the solver and the backward pass reuse across calls
 * instead of allocating each time; zero-initialise, scn_workspace_free.
 * It also keeps the dictionary's Gram matrix and step bound: a call with
 * the same D (compared bit for bit) and lambda2 as the last one reuses
 * them, as every batch of an evaluation and a backward after its forward
 * do (the results are identical either way). */
typedef struct scn_workspace {
    void *data;
    size_t size;
    void *dict;         /* the solver's: what the last dictionary gave */
} scn_workspace;

/* Frees the scratch and zeroes *ws; NULL is fine. */
SCNDEF void scn_workspace_free(scn_workspace *ws);

typedef struct scn_solve_desc {
    float lambda1;      /* >= 0 */
    float lambda2;      /* >= 0; > 0 keeps the problem strongly convex */
    int signed_codes;   /* 0: nonnegative codes (SCN); 1: signed (SF/CSF) */
    float tol;          /* FISTA stops a column when max|alpha_t+1 - alpha_t|
                           <= tol * max|alpha_t+1|; 0 -> 1e-5 */
    int max_iter;       /* FISTA iteration cap; 0 -> 2000 */
    int no_polish;      /* 1: return FISTA's iterate as it is */
    int warm_start;     /* 1: start from the alpha passed in (e.g. last epoch) */
    int fixed_iter;     /* > 0: exactly this many FISTA iterations, no
                           stopping test, no polishing (unrolled use) */
    scn_workspace *ws;  /* optional scratch kept across calls (one call at a
                           time per workspace) */
} scn_solve_desc;

typedef struct scn_solve_info {     /* kkt is computed only when info is given */
    int iters;          /* FISTA iterations run (the slowest column) */
    int polished;       /* columns whose polished solution was kept */
    int unpolished;     /* columns left at the FISTA iterate */
    double kkt;         /* max violation of SCN eqs. 3-4 over all entries
                           (-1: no memory to measure it; the codes stand) */
    double kappa;       /* the step's Lipschitz bound */
    int unconverged;    /* of the unpolished columns, those that did not meet
                           tol within max_iter (their codes are approximate;
                           always 0 with fixed_iter, which has no test) */
} scn_solve_info;

/* Solves all P columns; alpha is n x P (read first if warm_start). info
 * may be NULL. A value that leaves float range on the way (D^T X, the
 * step bound, the codes, the KKT residual) fails with SCN_ERR_NUMERIC:
 * finite inputs do not guarantee finite products. A column that stopped
 * at max_iter short of tol is counted in info->unconverged, not failed. */
SCNDEF scn_status scn_en_solve(const float *D, int m, int n, const float *X, int P,
                               const scn_solve_desc *desc, float *alpha,
                               scn_solve_info *info);
/* Max over entries of the KKT violation (SCN eqs. 3-4, or their signed
 * analogue) of codes alpha; -1 on allocation failure; Inf or NaN when
 * D alpha - X leaves float range (scn_en_solve turns that into an error). */
SCNDEF double scn_en_kkt(const float *D, int m, int n, const float *X, int P,
                         const scn_solve_desc *desc, const float *alpha);
/* An upper bound kappa >= lambda_max(D^T D + lambda2 I) (see above). */
SCNDEF scn_status scn_en_lipschitz(const float *D, int m, int n, float lambda2,
                                   double *kappa);

/* ======================================================================
 * 6. Fixed-point backward (SCN eqs. 11, 13, 17; SF for signed codes)
 *
 * Given converged codes alpha and the upstream gradient G = dLoss/dalpha
 * (both n x P), per column with active set L = {j : alpha_j != 0}:
 *   gamma_L = (D_L^T D_L + lambda2 I)^-1 g_L, gamma = 0 off L
 *   dD       = -D Gamma Alpha^T + (X - D Alpha) Gamma^T
 *   dX       = D Gamma
 *   dlambda1 = -sum_p sum_j sign(alpha_jp) gamma_jp
 * Any of dD (m x n), dX (m x P), dlambda1 may be NULL. These are the exact
 * gradients only at the true minimiser: solve with polishing first.
 * ====================================================================== */

/* gamma or an output beyond float range (a nearly singular active set)
 * fails with SCN_ERR_NUMERIC; the outputs are then unspecified. */
SCNDEF scn_status scn_en_backward(const float *D, int m, int n, const float *X, int P,
                                  const float *alpha, const float *G,
                                  const scn_solve_desc *desc,
                                  float *dD, float *dX, float *dlambda1);

/* ======================================================================
 * 7. Convolutional sparse coding (SCN section 3.1, patch-wise codes)
 *
 * The layer: X = im2col(x) (m = C k^2 rows, P = N Ho Wo columns), solve
 * against D (m x n), and lay the codes out as N x n x Ho x Wo. Backward
 * runs scn_en_backward and returns dx through col2im.
 * ====================================================================== */

/* x: N x C x H x W as g describes; codes: N x n x Ho x Wo. X (m x P) and
 * alpha (n x P) are caller buffers kept for the backward pass. info may be
 * NULL. */
SCNDEF scn_status scn_sc_conv_forward(const scn_conv_geom *g, const float *D, int n,
                                      const float *x, const scn_solve_desc *desc,
                                      float *X, float *alpha, float *codes,
                                      scn_solve_info *info);
/* dcodes: N x n x Ho x Wo. Outputs dD (m x n), dx (N x C x H x W),
 * dlambda1; any may be NULL. An output that leaves float range (dx sums
 * overlapping windows) fails with SCN_ERR_NUMERIC. */
SCNDEF scn_status scn_sc_conv_backward(const scn_conv_geom *g, const float *D, int n,
                                       const float *X, const float *alpha,
                                       const float *dcodes, const scn_solve_desc *desc,
                                       float *dD, float *dx, float *dlambda1);
/* Reorders between the solver's n x P matrix and N x n x Ho x Wo codes. */
SCNDEF scn_status scn_codes_from_matrix(const scn_conv_geom *g, int n, const float *alpha,
                                        float *codes);
SCNDEF scn_status scn_codes_to_matrix(const scn_conv_geom *g, int n, const float *codes,
                                      float *alpha);
/* The largest eigenvalue of A^* A for the convolutional dictionary A
 * (n atoms, each a row of C k k values: a convolution's weights) over
 * codes of n x Ho x Wo per sample of g, by SDNet appendix eqs. 9-10: the
 * power iteration from a fixed pseudo-random start until the update is
 * below sqrt(1e-5) or after 50 steps, then lambda_max = <v, A^*A v>. The
 * csc layer's step size is 0.9 / lambda_max. A is memory of the current
 * backend; iters (may be NULL) receives the steps taken. */
SCNDEF scn_status scn_csc_power(const scn_conv_geom *g, const float *A, int n,
                                double *lambda_max, int *iters);

/* ======================================================================
 * 8. Layers
 *
 * A layer maps a batch of N samples of shape C x H x W to N x C' x H' x W'.
 * Every layer kind is one table: its spec word, one line of help, its
 * options (name, type, range, default, help) and its functions (setup,
 * init, forward, backward, project, extra loss, describe). The spec parser,
 * `scn train --help` and checkpoint loading all read those tables, so a
 * kind is added with its own code plus one line in the list of kinds, and
 * an option a kind does not have is an error naming the kind and the
 * options it has. An option given in a spec means exactly its value (an
 * explicit 0 is 0, or refused where 0 is out of range); an option left out
 * takes the table's default.
 *
 * Kinds with parameters also take `lr` (a learning-rate scale for the
 * layer's parameters) and `frozen` (not trained). Weight decay applies to
 * a layer's weights (dictionaries, convolution and linear weights), never
 * to biases, lambda1 or BN's scale and shift.
 *
 * The sparse-coding kinds share one elastic-net core: `sc` (SCN: codes
 * >= 0 unless `signed`, lambda1 learned), and the sparse factorization
 * layers of Koch and Corso, `csf` (SF eq. 9: signed codes of each k x k
 * patch, stride 1, no padding) and `sf` (SF eq. 5: signed codes of the
 * whole sample as one vector, like a fully connected layer), whose lambda1
 * is fixed unless `learn` is given and whose atoms are kept to norm <= 1.
 *
 * The deep double sparsity encoder of Wang et al. (DDSE) adds three kinds
 * and an option. `pca` (first layer only) rotates the flattened image into
 * the eigenvector basis of the training covariance (DDSE eq. 5's
 * x_PCA = D0^T x; scn_pca_fit computes it, scn_train_epoch calls that
 * before the first step). `ddse` unfolds k iterations of ISTA (eq. 5,
 * Figure 2) with untied sparse weights W1, W2_j, W3_j, each row of W1 and
 * W3_j and each column of W2_j kept to its s largest entries by a
 * projection every `every` steps (eq. 8) and at the end of every epoch
 * (scn_net_project); weights that sparse (s/n at most 1/8) are multiplied
 * sparsely. `lista` is the dense learned ISTA it is compared with, and
 * `linear:dropconnect=p` drops weights instead of activations (section
 * 4.2's baselines).
 *
 * SDNet (Dai et al.) adds `csc`: convolutional sparse coding (SDNet eqs.
 * 3-4), the code z of an input x minimising lambda |z|_1 + lambda2/2 |z|^2
 * + 1/2 |x - A(z)|^2 for a convolutional dictionary A of unit atoms (a
 * convolution's weights, n x C k k; projected to norm 1 after every step,
 * section 3.2), by `iters` FISTA steps (2 by default) with the step
 * 0.9 / lambda_K from a power iteration (appendix eqs. 6-10, kept in the
 * layer's buffer and recomputed after every step). lambda is never
 * learned and may be changed after training (scn_net_set_csc_lambda);
 * backward goes through the unrolled steps, or with `fixed` (and l2 > 0)
 * is the fixed-point gradient of the converged code.
 *
 * A layer may add its own loss to the network's: forward computes it
 * (scn_net_extra_loss) and backward adds its gradient. The sparse-coding
 * kinds add SF eq. 12's unsupervised loss when scn_net_set_mu asks for it.
 *
 * Composite kinds take a body in brackets: `res[ conv:n=16 bn relu
 * conv:n=16 bn ]` is a residual block, output = input + body(input), with
 * a 1x1 strided convolution on the shortcut when the body changes the
 * shape (as ResNet). Blocks nest.
 * ====================================================================== */

typedef enum scn_option_type {
    SCN_OPTION_INT,         /* a whole number in [min, max] */
    SCN_OPTION_FLOAT,       /* a number in [min, max] */
    SCN_OPTION_FLAG         /* given bare ("signed") or as 0/1 ("signed=0") */
} scn_option_type;

typedef struct scn_option {
    const char *name;       /* as written in a spec: "n", "l1", ... */
    scn_option_type type;
    double min, max;        /* allowed closed range */
    double def;             /* the value when left out */
    int required;           /* 1: must be given (def is then unused) */
    const char *help;       /* one line */
} scn_option;

typedef struct scn_kind_info {
    const char *name;       /* the spec word */
    const char *help;       /* one line */
    const scn_option *options;
    int option_count;
    int composite;          /* 1: takes a body, "name[ ... ]" */
} scn_kind_info;

/* The number of layer kinds, and kind i (NULL when out of range): what
 * `scn train --help` prints. */
SCNDEF int scn_kind_count(void);
SCNDEF const scn_kind_info *scn_kind(int i);
/* The kind with this spec word, or NULL. */
SCNDEF const scn_kind_info *scn_kind_find(const char *name);

typedef struct scn_net scn_net;

/* ======================================================================
 * 9. Networks
 *
 * Layers in sequence (residual blocks own sub-sequences), with all
 * parameters in one contiguous block and their gradients in a second of
 * the same layout (the optimiser is one loop, a checkpoint one write).
 * Built from a preset name or a text spec, one layer per word, options
 * after ':' separated by ',', blocks in brackets:
 *
 *   "sc:n=32 bn sc:n=16,k=1 bn sc:n=64,s=2 bn gap linear:n=10"
 *   "conv:n=16 bn relu res[ conv:n=16 bn relu conv:n=16 bn ] relu gap linear:n=10"
 *
 * scn_kind() lists the words and their options. Presets: scn-mnist,
 * scn-cifar (SCN-4, section 5.1), scn-mnist-paper (the paper's MNIST
 * network: SCN-4 with 8 filters in the first layer), lenet, resnet-tiny,
 * the four networks of the SF paper (Figure 2): lenet-paper, lenet-csf,
 * lenet-sf, lenet-csf-sf, and DDSE and its five baselines (section 4.2)
 * for 28 x 28 inputs: ddse-mnist, ddse-fc, ddse-fc-dropout,
 * ddse-fc-dropconnect, ddse-lista, ddse-noshortcut, and SDNet's (section
 * 3.2) with the ResNets they are compared with: sdnet-mnist, resnet-mnist
 * (28 x 28), sdnet18, resnet18 (32 x 32) (scn_net_preset_name lists them).
 *
 * Layers are numbered 0..scn_net_layer_count()-1 in spec order, a block
 * before the layers of its body, its shortcut projection (if any) after.
 * ====================================================================== */

/* The spec of a preset, or NULL. */
SCNDEF const char *scn_net_preset(const char *name);
/* The name of preset i, or NULL past the last. */
SCNDEF const char *scn_net_preset_name(int i);
/* A network for inputs of C x H x W from a preset name or a spec; its
 * parameters are initialised from `seed`. NULL on error (see scn_error()). */
SCNDEF scn_net *scn_net_create(const char *spec, int C, int H, int W, uint64_t seed);
SCNDEF void scn_net_free(scn_net *net);
/* Runs the layers on x (N x C x H x W) and returns the N x classes logits,
 * owned by the net. train = 1 uses batch statistics and dropout and keeps
 * what backward needs; x must stay valid until scn_net_backward. */
SCNDEF const float *scn_net_forward(scn_net *net, const float *x, int N, int train);
/* The layers' own losses of the last forward (0 when none has one), the
 * sum of their weighted terms, averaged over the batch like the data loss. */
SCNDEF double scn_net_extra_loss(const scn_net *net);
/* Semi-supervised training (SF section 4.4): from now on every training
 * forward adds mu times each sparse-coding layer's (sc, csf, sf)
 * unsupervised loss l_U = 1/2 |x - D alpha|^2 + lambda1 |alpha|_1 +
 * lambda2/2 |alpha|^2 (SF eq. 12, summed over a sample's patches, averaged
 * over the batch) to scn_net_extra_loss, and backward its gradient (SF
 * eqs. 13, 15). The caller weights the supervised loss by 1 - mu (eq. 14;
 * scn_train_epoch does). mu is in [0, 1]; 0, the default, adds nothing. A
 * net without a sparse-coding layer refuses mu > 0. */
SCNDEF scn_status scn_net_set_mu(scn_net *net, float mu);
/* Back-propagates dlogits (N x classes) of the last training forward,
 * adding to the gradients (the layers' own losses included); dx
 * (N x C x H x W) may be NULL. */
SCNDEF scn_status scn_net_backward(scn_net *net, const float *dlogits, float *dx);
SCNDEF void scn_net_zero_grad(scn_net *net);
/* Counts and shapes. */
SCNDEF void scn_net_input_shape(const scn_net *net, int *C, int *H, int *W);
SCNDEF int scn_net_classes(const scn_net *net);
SCNDEF int scn_net_layer_count(const scn_net *net);
SCNDEF size_t scn_net_param_count(const scn_net *net);
/* The parameter and gradient blocks (count = scn_net_param_count). */
SCNDEF float *scn_net_params(scn_net *net);
SCNDEF float *scn_net_grads(scn_net *net);
/* Non-trainable state (BN running statistics, the pca basis) and its size. */
SCNDEF float *scn_net_buffers(scn_net *net, size_t *count);
/* Where layer i's parameters start in the block and how many it has
 * (a block counts its body's). */
SCNDEF size_t scn_net_layer_params(const scn_net *net, int i, size_t *count);
/* The spec word of layer i ("sc", "res", ...), or NULL. */
SCNDEF const char *scn_net_layer_kind(const scn_net *net, int i);
/* One line describing layer i: name, output shape, parameter count (body
 * layers indented under their block). */
SCNDEF void scn_net_describe(const scn_net *net, int i, char *buf, size_t cap);
/* The spec the net was built from (a preset's expansion). */
SCNDEF const char *scn_net_spec(const scn_net *net);
/* The generator dropout draws from (seeded by scn_net_create, kept in
 * checkpoints): reseed it to repeat a training forward exactly. */
SCNDEF scn_rng *scn_net_rng(scn_net *net);
/* Mean sparse-code density of each SC layer's (sc, csf, sf, csc) last
 * forward (-1 for other layers), for monitoring. */
SCNDEF float scn_net_layer_density(const scn_net *net, int i);
/* What SC layer i did in the net's last forward, for pictures and checks:
 * shape receives N, C, H, W (the last forward's batch, the layer's input
 * shape); input receives the layer's input and recon its reconstruction
 * D alpha, each N x C x H x W, each pixel the mean over the patches that
 * cover it (a pixel no patch covers is 0 in both). input and recon may
 * both be NULL to ask the shape only. An sc layer's are rebuilt from its
 * input and output as the net keeps them (of the first layer, the x given
 * to scn_net_forward, which must still hold the batch). Of a csc layer:
 * its input and A(z) (SDNet eq. 3) of the last evaluation forward (train
 * = 0). Host
 * memory; fails with SCN_ERR_ARG for a layer that is not sc, csf, sf or
 * csc, before any forward (a csc layer: any evaluation forward), or on a
 * backend without host memory. */
SCNDEF scn_status scn_net_sc_recon(const scn_net *net, int i, int shape[4], float *input,
                                   float *recon);
/* Sets lambda of csc layer i (i < 0: of every csc layer) to lambda in
 * [0, 1000] for the forwards from now on, without retraining (SDNet
 * section 3.3; the step size and the atoms stay as trained). A checkpoint
 * keeps the spec's lambda, not this one. SCN_ERR_ARG for a layer that is
 * not csc, a net without one, or a lambda out of range. */
SCNDEF scn_status scn_net_set_csc_lambda(scn_net *net, int i, float lambda);
/* How sc, csf and sf layers solve when not training (scn_evaluate, a
 * forward with train = 0): tol > 0 runs FISTA until each code's largest
 * change is at most tol times its largest entry and returns that iterate
 * unpolished; 0 solves exactly as training does (polished to the KKT
 * conditions). Classification needs codes, not the exact minimiser the
 * fixed-point gradients need: a new or loaded net starts at SCN_EVAL_TOL
 * (1e-2), at which a trained scn-mnist net tests as well as with exact
 * codes, in less time (README, "Evaluation solves less than training").
 * SCN_ERR_ARG unless 0 <= tol < 1.
 * Not saved in checkpoints. */
#define SCN_EVAL_TOL 1e-2f
#ifndef SCN_SC_SCRATCH                  /* see CONFIGURATION at the top */
#define SCN_SC_SCRATCH ((size_t)32 << 20)
#endif
SCNDEF scn_status scn_net_set_eval_tol(scn_net *net, float tol);
/* lambda of csc layer i (i < 0: the first csc layer's), or -1 when there
 * is no such csc layer. */
SCNDEF float scn_net_csc_lambda(const scn_net *net, int i);
/* Each sample's residual in the last evaluation forward (train = 0): r
 * (N values, the forward's batch) receives |x - A(z)|_2 of the sample at
 * each csc layer's input, averaged over the net's csc layers (SDNet
 * Algorithm 1, steps 5 and 14). SCN_ERR_ARG for a net without a csc
 * layer or before an evaluation forward. */
SCNDEF scn_status scn_net_csc_residual(const scn_net *net, float *r);
/* Seconds layer i has spent in forward and backward since the net was
 * made or the counters were reset (reset != 0 zeroes them after reading). */
SCNDEF void scn_net_layer_time(scn_net *net, int i, double *forward, double *backward,
                               int reset);

/* Softmax cross-entropy of logits (N x K) against labels: writes
 * dlogits = (softmax - onehot) / N (if not NULL), the summed loss and the
 * number of correct argmax predictions (either may be NULL). */
SCNDEF scn_status scn_softmax_xent(const float *logits, const unsigned char *labels, int N,
                                   int K, float *dlogits, double *loss, int *correct);

/* ======================================================================
 * 10. Optimisation
 *
 * SGD with momentum (plain or Nesterov) and weight decay (on weights only,
 * see section 8, unless decay_lambda1 asks for it on lambda1 too), each
 * layer's learning-rate scale and frozen flag, a multi-step or cosine
 * learning-rate schedule, and after every step each layer's projection
 * (lambda1 >= SCN_LAMBDA1_MIN, atom norms, ...), which is told the step
 * count so a kind can project every k steps.
 *
 * lambda1 is kept strictly positive, as SCN eqs. 1, 2 and 6 require
 * (lambda1 > 0): a learned lambda1 that a step would take below
 * SCN_LAMBDA1_MIN is set to it. Algorithm 2's step 7 writes the
 * projection as (.)_+, which allows 0; at 0 the elastic net has no l1
 * term and its codes lose their sparsity, so the floor is a small
 * positive number instead. A spec's explicit l1=0 is its initial value
 * and holds until the first step.
 * ====================================================================== */

/* The least value a learned lambda1 (sc, and csf or sf with `learn`) is
 * projected to after a step. */
#define SCN_LAMBDA1_MIN 1e-6f

typedef enum scn_lr_schedule {
    SCN_LR_STEP = 0,        /* lr times gamma at each milestone */
    SCN_LR_COSINE           /* lr (1 + cos(pi epoch / epochs)) / 2 */
} scn_lr_schedule;

typedef struct scn_sgd_desc {
    float lr;           /* 0 -> 0.1 */
    float momentum;     /* 0 -> 0.9; negative -> none */
    float weight_decay; /* 0 -> 5e-4; negative -> none */
    int milestones[8];  /* SCN_LR_STEP: epochs where lr is multiplied by
                           gamma; 0 ends the list */
    float gamma;        /* 0 -> 0.1 */
    int nesterov;       /* 1: Nesterov momentum (SDNet trains with it) */
    int schedule;       /* scn_lr_schedule */
    int epochs;         /* SCN_LR_COSINE: the epochs it anneals over (> 0) */
    int decay_lambda1;  /* 1: weight decay on every learned lambda1 too, as
                           SCN Algorithm 2 (step 7) applies it:
                           lambda1 <- lambda1 - lr (dL/dlambda1 + wd lambda1)
                           (through momentum like the weights), then the
                           floor; 0 (default): lambda1 is not decayed */
} scn_sgd_desc;

typedef struct scn_sgd {
    scn_sgd_desc desc;  /* with defaults filled in */
    float *velocity;    /* one per parameter, in the net's backend memory */
    size_t count;
    int64_t steps;      /* steps taken */
    const struct scn_backend *be;
} scn_sgd;

SCNDEF scn_status scn_sgd_init(scn_sgd *opt, const scn_net *net, const scn_sgd_desc *desc);
SCNDEF void scn_sgd_free(scn_sgd *opt);
/* The learning rate of (0-based) epoch under the schedule. */
SCNDEF float scn_sgd_lr(const scn_sgd *opt, int epoch);
/* params -= lr (momentum, decay)(grads), then every layer's projection.
 * A NaN or Inf in a gradient fails with SCN_ERR_NUMERIC before anything
 * changes; one in the updated parameters (a step too large) fails after
 * it, naming the layer: then the net is spoilt and the run should stop. */
SCNDEF scn_status scn_sgd_step(scn_sgd *opt, scn_net *net, float lr);
/* Every layer's projection now, whatever the step count (a ddse layer's
 * top-s projection, which scn_sgd_step applies only every `every` steps),
 * so that the weights evaluated and saved are feasible; scn_train_epoch
 * calls it after its last step. Frozen layers are left alone. */
SCNDEF scn_status scn_net_project(scn_net *net);

/* ======================================================================
 * 11. Data sets
 *
 * A data set is an interface: a count, an item shape, the labels, and a
 * function that reads a batch of items by index. The readers of sections
 * 12 and 13 fill it in, so training code never depends on a file format.
 * Around it: per-channel statistics and normalisation, the per-pixel mean
 * image (SCN section 5, "Training": per-pixel-mean subtraction), the
 * augmentations the papers train with (random crop with zero padding,
 * horizontal flip; per image, or one draw a batch as SCN section 5 does),
 * and seeded subsets of k labelled items per class.
 *
 *   format       path holds                                     splits
 *   idx          train-images-idx3-ubyte, train-labels-idx1-    train test
 *                ubyte, t10k-... (raw or .gz): MNIST, Fashion
 *   cifar10      data_batch_1.bin ... data_batch_5.bin,         train test
 *                test_batch.bin (or in cifar-10-batches-bin/)
 *   cifar100     train.bin, test.bin (or in cifar-100-binary/): train test
 *                fine labels (100 classes)
 *   cifar100-coarse  the same files, coarse labels (20 classes)  train test
 *   stl10        train_X.bin, train_y.bin, test_X.bin,          train test
 *                test_y.bin, unlabeled_X.bin (or in              unlabeled
 *                stl10_binary/)
 *   amat         one *train*.amat and one *test*.amat text      train test
 *                file: MNIST variations (rot, back-rand, ...)
 *   folder       CLASS/IMAGE (png, jpg, bmp) in train/ and      train test
 *                test/, or directly in path (then both splits
 *                are the same images)
 *
 * CIFAR and STL-10 items are read from the files on demand (one seek and
 * one read per item), so only the labels are held in memory; IDX and
 * .amat sets are held whole; image folders are decoded on demand. A data
 * set is read from one thread at a time.
 * ====================================================================== */

/* The most channels per-channel statistics are kept for. */
#define SCN_MAX_CHANNELS 16

typedef struct scn_dataset scn_dataset;
struct scn_dataset {
    int count, C, H, W;
    int classes;                    /* 0 for an unlabeled split */
    char format[16];                /* the table's name, e.g. "cifar10" */
    const unsigned char *labels;    /* count labels, each < classes; NULL if none */
    /* Items idx[0..n) as floats in [0, 1] (n x C x H x W, planar RGB) and
     * their labels (labels may be NULL; ignored for an unlabeled split). */
    scn_status (*read)(scn_dataset *ds, const int *idx, int n, float *x,
                       unsigned char *labels);
    void (*close)(scn_dataset *ds);
    void *impl;
    /* The files the split was read from, by name, comma-separated (an image
     * folder: its directory), so a run can say what it trained on; ends
     * in "..." when longer than fits. Filled by scn_dataset_open. */
    char files[256];
};

#ifndef SCN_NO_STDIO
/* Opens a split ("train", "test", or "unlabeled" for STL-10) of the data
 * set at path in format (a name from the table; NULL or "auto": detected
 * from the file names). NULL on error (a NULL path or split included). */
SCNDEF scn_dataset *scn_dataset_open(const char *path, const char *split, const char *format);
/* The format the files at path are in, or NULL (with the error) if none. */
SCNDEF const char *scn_dataset_detect(const char *path);
#endif
/* Closes and frees ds; NULL is fine. */
SCNDEF void scn_dataset_close(scn_dataset *ds);
/* Reads items idx[0..n) after checking every index is in range. labels
 * may be NULL; a NULL ds, or idx or x with n > 0, is SCN_ERR_ARG. */
SCNDEF scn_status scn_dataset_read(scn_dataset *ds, const int *idx, int n, float *x,
                                   unsigned char *labels);
/* Mean and standard deviation of each of the C channels (arrays of C,
 * C <= SCN_MAX_CHANNELS) over every item: one pass over the data. */
SCNDEF scn_status scn_dataset_stats(scn_dataset *ds, float *mean, float *std);
/* x = (x - mean[c]) / std[c] for n items of C channels of HW values (x
 * may be NULL when n is 0). */
SCNDEF void scn_normalize(float *x, int n, int C, int HW, const float *mean,
                          const float *std);
/* The mean image of the data set: mean[(c H + i) W + j] is the mean of
 * pixel (i, j) of channel c over every item (C x H x W values, summed in
 * double; one pass over the data). SCN section 5 subtracts it from
 * training and test images ("per-pixel-mean subtraction"). */
SCNDEF scn_status scn_dataset_pixel_mean(scn_dataset *ds, float *mean);
/* x = (x - pixel_mean) / std[c] for n items of C channels of HW values:
 * the mean image (C x HW, as scn_dataset_pixel_mean writes it) subtracted
 * from every item, then each channel divided by its std (all 1: the
 * subtraction alone). x may be NULL when n is 0. */
SCNDEF void scn_normalize_pixels(float *x, int n, int C, int HW, const float *pixel_mean,
                                 const float *std);
/* In place, per item: a random crop of the item zero-padded by pad pixels
 * on each side (pad 0: none; offsets uniform in [-pad, pad]), then, if
 * flip, a horizontal flip with probability 1/2. Seeded through r: the
 * same generator state gives the same batch (r may be NULL when pad is 0
 * and flip is 0; x when n is 0). */
SCNDEF scn_status scn_augment(float *x, int n, int C, int H, int W, int pad, int flip,
                              scn_rng *r);
/* As scn_augment, but one draw for the whole batch: every one of the n
 * items gets the same offsets and the same flip ("Images in the same
 * batch share the same augmentation parameters", SCN section 5). Draws
 * from r what scn_augment draws for a single item (nothing when n is 0). */
SCNDEF scn_status scn_augment_shared(float *x, int n, int C, int H, int W, int pad, int flip,
                                     scn_rng *r);
/* Chooses k items of every class at random through r and writes their
 * indices, ascending, to idx (room for classes * k). Returns how many,
 * or -1 (with the error) if a class has fewer than k or there are no
 * labels. */
SCNDEF int scn_dataset_per_class(const scn_dataset *ds, int k, scn_rng *r, int *idx);
/* Fisher-Yates shuffle of idx[0..n) (idx may be NULL when n <= 1). */
SCNDEF void scn_shuffle(int *idx, int n, scn_rng *r);
/* Corrupts count values x in [0, 1] (images before normalisation) in
 * place with one of the four noises of the CIFAR-10-C benchmark (Hendrycks
 * and Dietterich, make_cifar_c.py) at severity 1-5, each value drawn
 * independently through r, the result clipped to [0, 1]:
 *   "gaussian"  x + c N(0, 1),     c = 0.04, 0.06, 0.08, 0.09, 0.10
 *   "shot"      Poisson(c x) / c,  c = 500, 250, 100, 75, 50
 *   "speckle"   x + x c N(0, 1),   c = 0.06, 0.10, 0.12, 0.16, 0.20
 *   "impulse"   with probability c the value becomes 0 or 1 (even odds;
 *               salt and pepper), c = 0.01, 0.02, 0.03, 0.05, 0.07
 * (SDNet section 4.2's corruptions). SCN_ERR_ARG for another noise name or
 * a severity outside 1-5, before anything changes. */
SCNDEF scn_status scn_corrupt(float *x, size_t count, const char *noise, int severity,
                              scn_rng *r);

/* ======================================================================
 * 12. Data sets: IDX files (MNIST, Fashion-MNIST) and gzip
 *
 * IDX as MNIST and Fashion-MNIST ship it: a big-endian header (two zero
 * bytes, the type byte 0x08 = unsigned byte, the number of dimensions,
 * then every dimension as a uint32) followed by the data, row-major.
 * Images are 0x00000803 (count x rows x cols), labels 0x00000801 (count).
 * A data set directory holds train-images-idx3-ubyte,
 * train-labels-idx1-ubyte, t10k-images-idx3-ubyte and
 * t10k-labels-idx1-ubyte, each raw or gzipped (".gz"); gzip is recognised
 * by its magic bytes, not by the name.
 *
 * Everything is validated: magic, type, dimension count, that the data is
 * exactly as long as the dimensions say, that images and labels agree in
 * number, and that every label is below SCN_IDX_MAX_CLASSES (default 256,
 * any byte; define it lower to reject labels a model cannot have).
 * Nothing over SCN_GUNZIP_MAX bytes (default 1 GiB) is read or inflated,
 * and no buffer is allocated before a header or trailer has been checked
 * against the bytes that are actually there. An IDX file is a regular
 * file or a pipe (see INPUT FILES in section 4): a FIFO with no writer
 * reads as empty and fails at once; a device such as /dev/zero is
 * refused.
 *
 * gzip (RFC 1952, one member) is parsed here; the deflate data inside is
 * inflated by stb_image's zlib decoder (public domain, Sean Barrett) and
 * the trailer's CRC-32 and size are both verified. The implementation
 * compiles a private, static copy of <stb/stb_image.h> (on Debian:
 * apt-get install libstb-dev) with only its PNG and GIF decoders, without
 * stdio, on SCN_MALLOC/SCN_FREE. Configuration:
 *   SCN_NO_STB_IMAGE    build without stb_image: gzip data then fails with
 *                       "gzip support needs stb_image (built with
 *                       SCN_NO_STB_IMAGE)"; raw IDX files still load.
 *   SCN_STB_IMAGE_PATH  the header to include instead, e.g.
 *                       -DSCN_STB_IMAGE_PATH='"stb_image.h"'. Without it,
 *                       if <stb/stb_image.h> is absent and the compiler
 *                       has __has_include, the build goes on without gzip
 *                       (the message then says the header was not found).
 *   If the file that defines SCN_IMPLEMENTATION uses stb_image itself, it
 *   includes stb_image.h (with or without STB_IMAGE_IMPLEMENTATION) BEFORE
 *   scn.h; scn.h then calls that copy instead of compiling its own. Only
 *   its public interface is used then, which does not tell where the
 *   deflate data ends: bytes between it and the trailer (a second member)
 *   go unnoticed unless the CRC-32 check catches them.
 * ====================================================================== */

/* The most bytes any file or inflated stream may have (at most INT_MAX). */
#ifndef SCN_GUNZIP_MAX
#define SCN_GUNZIP_MAX ((size_t)1 << 30)
#endif
/* Labels must be below this (MNIST and Fashion-MNIST have 10 classes,
 * EMNIST up to 62). */
#ifndef SCN_IDX_MAX_CLASSES
#define SCN_IDX_MAX_CLASSES 256
#endif

typedef struct scn_idx_set {
    int count;              /* images, and as many labels */
    int rows, cols;         /* image size (28 x 28 for MNIST) */
    int classes;            /* largest label + 1 */
    unsigned char *images;  /* count x rows x cols bytes, row-major, 0..255 */
    unsigned char *labels;  /* count bytes, each < classes */
} scn_idx_set;

#ifndef SCN_NO_STDIO
/* Loads the training pair (train != 0: train-images-idx3-ubyte and
 * train-labels-idx1-ubyte) or the test pair (t10k-...) from dir, each
 * file with or without ".gz" (the raw one wins when both are there).
 * On failure *out is zeroed and scn_error() names the file and problem.
 * A NULL dir or out is SCN_ERR_ARG. */
SCNDEF scn_status scn_idx_load(const char *dir, int train, scn_idx_set *out);
#endif
/* The same from an images and a labels file held in memory (raw or gzip);
 * the names label error messages (either may be NULL). A NULL out, or a
 * NULL buffer with a nonzero length, is SCN_ERR_ARG. */
SCNDEF scn_status scn_idx_set_parse(const void *images, size_t images_len,
                                    const char *images_name, const void *labels,
                                    size_t labels_len, const char *labels_name,
                                    scn_idx_set *out);
/* Frees the arrays and zeroes *s. NULL is fine. */
SCNDEF void scn_idx_free(scn_idx_set *s);
/* One IDX file in memory, raw or gzip. ndim = 3 expects images
 * (0x00000803: count, rows, cols), ndim = 1 labels (0x00000801: count).
 * dims receives the ndim dimensions, *data a copy of the bytes after the
 * header (the product of dims; free it with scn_mem_free). name may be
 * NULL; a NULL dims or data, or bytes with len > 0, is SCN_ERR_ARG. */
SCNDEF scn_status scn_idx_parse(const void *bytes, size_t len, const char *name,
                                int ndim, int *dims, unsigned char **data);
/* Inflates a gzip file held in memory (one member; header fields FTEXT,
 * FHCRC, FEXTRA, FNAME, FCOMMENT understood; CRC-32 and size checked).
 * *out (free with scn_mem_free) receives *outlen bytes; `name` labels
 * error messages (may be NULL). A NULL out or outlen, or in with len > 0,
 * is SCN_ERR_ARG. */
SCNDEF scn_status scn_gunzip(const void *in, size_t len, const char *name,
                             unsigned char **out, size_t *outlen);
/* Frees a buffer that scn_gunzip or scn_idx_parse returned. NULL is fine. */
SCNDEF void scn_mem_free(void *p);

/* ======================================================================
 * 13. Data sets: CIFAR, STL-10, MNIST variations (.amat), image folders
 *
 * Every reader here is behind scn_dataset_open; the layouts are the
 * published ones:
 *   CIFAR-10   records of 1 label byte (0-9) + 3072 pixel bytes (1024
 *              red, 1024 green, 1024 blue; each 32x32 row-major),
 *              10000 per data_batch_N.bin; the batches are taken in order
 *              from data_batch_1.bin up to the first one missing (at most
 *              16; scn_dataset.files names those read). A batch in that
 *              sequence that is a directory or a FIFO is an error naming
 *              it, as is a data_batch_17.bin after 16.
 *   CIFAR-100  records of a coarse (0-19) and a fine (0-99) label byte +
 *              the same 3072 pixel bytes.
 *   STL-10     96x96x3 images of 27648 bytes, each channel's plane stored
 *              column-major (the published Matlab order); labels 1-10,
 *              one byte per image in *_y.bin, read here as 0-9.
 *   .amat      text, one item per line: the pixel values (floats in
 *              [0, 1]; 784 for 28x28, any square count) then the label as
 *              a number (e.g. "3.000000000000000000e+00").
 *   folder     one directory per class, named anything; classes are the
 *              sorted union of the names under train/ and test/ (so both
 *              splits number them alike), at most 256. Images in a split
 *              are PNG, baseline JPEG or BMP, sorted by name; other
 *              files are skipped. Progressive JPEGs are refused: every
 *              JPEG is decoded once by a checker here first, because the
 *              stb_image 2.27 Debian ships misbehaves on corrupt ones. All must have one size: a different one is
 *              rejected, naming both files (nothing is resized). A gray
 *              first image (with or without alpha) gives C = 1, a colour
 *              one C = 3; alpha is dropped and the rest are converted.
 * A file that is truncated, corrupt, empty, oversized or inconsistent with
 * its partner (labels vs images) fails with a message naming it. Folder
 * data sets need POSIX <dirent.h> and stb_image (section 12).
 * Limits: CIFAR, STL-10 and .amat files must be regular files (records
 * are read on demand by seeking, and a regular file's size bounds what
 * is read): a FIFO or device fails at once, naming it. A record file may
 * have up to LONG_MAX bytes (only labels are held in memory); an .amat
 * file is held as floats, 4 bytes per value (at most SCN_AMAT_MAX_VALUES
 * per line, and no more values than the file has); an image file may have
 * up to INT_MAX bytes and sides up to SCN_IMAGE_MAX_SIDE.
 * ====================================================================== */

/* The longest side an image in a folder may have. */
#ifndef SCN_IMAGE_MAX_SIDE
#define SCN_IMAGE_MAX_SIDE 4096
#endif
/* The most values on one .amat line. */
#ifndef SCN_AMAT_MAX_VALUES
#define SCN_AMAT_MAX_VALUES 65537
#endif


/* ======================================================================
 * 14. Training and evaluation
 *
 * The loops every trainer runs, in the library so that `scn train`, the
 * examples and other front ends are thin callers. One epoch: shuffle the
 * items with the state's generator, then per batch read, normalise with
 * the state (scn_train_state_normalize), augment, forward, softmax loss plus
 * the layers' own losses, backward, SGD step at the schedule's rate. Long
 * passes report through a progress callback; the library prints nothing.
 *
 * Semi-supervised epochs (SF section 4.4): with mu > 0 the loss is
 * (1 - mu) times the mean cross-entropy of the labelled images plus mu times
 * the sparse-coding layers' unsupervised loss (SF eqs. 12, 14; see
 * scn_net_set_mu), and each step adds as many images drawn from the
 * `unlabelled` items, whose labels are never read, to the batch; they
 * contribute the unsupervised term only. The caller sets each epoch's mu
 * (the paper steps it down: 0.8, 0.5, 0.3, 0).
 *
 * Normalisation is per channel, x = (x - mean[c]) / std[c], unless the
 * state holds a mean image (scn_train_state_set_pixel_mean): then
 * x = (x - pixel_mean[c, i, j]) / std[c]. SCN section 5 preprocesses
 * "with per-pixel-mean subtraction" and names no scaling; the per-channel
 * std is kept here so that the first layer sees inputs of the scale the
 * sc layers' default lambda1 (0.1) and the per-channel mode assume. Set
 * std to 1 for the subtraction alone.
 *
 * Recipes: the paper's training settings by name (SCN section 5,
 * "Training"; scn_recipe_find), which front ends apply before their own
 * options:
 *
 *   name             model            batch epochs lr  milestones crop flip norm
 *   scn-cifar        scn-cifar        128   200    0.1 80,160     4    yes  pixel
 *   scn-stl          scn-cifar        16    200    0.1 80,160     12   yes  pixel
 *   scn-mnist-paper  scn-mnist-paper  128   25     0.1 10,20      0    no   channel
 *
 * All: momentum 0.9 (the paper does not give it; MatConvNet's default),
 * weight decay 5e-4 on the weights and on lambda1 (Algorithm 2), lr
 * divided by 10 at each milestone, augmentation shared by a batch. MNIST
 * is neither augmented nor mean-subtracted in the paper ("except for
 * MNIST"); its recipe keeps the per-channel standardisation.
 * ====================================================================== */

typedef struct scn_train_state {
    int epoch;          /* epochs completed */
    int64_t step;       /* optimiser steps taken */
    int batch;          /* the batch size trained with (0: not recorded) */
    char note[256];     /* a front end's own text kept with the state (scn
                           train: its data options), NUL-terminated */
    scn_rng rng;        /* the training loop's (shuffling, augmentation) generator */
    /* the input normalisation used in training, per channel */
    float mean[SCN_MAX_CHANNELS], std[SCN_MAX_CHANNELS];
    /* NULL, or the mean image subtracted instead of mean[] (C x H x W
     * floats, pixel_count of them): owned by the state, set by
     * scn_train_state_set_pixel_mean or a checkpoint load, freed by
     * scn_train_state_free. A copy of the struct shares the pointer. */
    float *pixel_mean;
    size_t pixel_count;
} scn_train_state;

/* Keeps a copy of the mean image (count = C H W floats, finite) in st for
 * normalisation from now on, replacing any it held; mean NULL (count 0)
 * drops it, going back to per-channel means. */
SCNDEF scn_status scn_train_state_set_pixel_mean(scn_train_state *st, const float *mean,
                                                 size_t count);
/* Frees what st owns (its mean image); the rest of st is left as it is.
 * NULL is fine. */
SCNDEF void scn_train_state_free(scn_train_state *st);
/* Normalises n items of C x H x W in place as training does: with st's
 * mean image when it holds one (its size must be C H W), else with its
 * per-channel means; then divided by its per-channel stds. x may be NULL
 * when n is 0. */
SCNDEF scn_status scn_train_state_normalize(const scn_train_state *st, float *x, int n, int C,
                                            int H, int W);


typedef struct scn_progress {
    int training;       /* 1: a training epoch; 0: an evaluation pass */
    int epoch;          /* the 0-based epoch being trained */
    int step, steps;    /* batches done, batches in the pass */
    double loss;        /* mean loss per image so far (training) */
    double accuracy;    /* fraction classified right so far */
    double images_per_s;
    double seconds;     /* since the pass began */
} scn_progress;

typedef void (*scn_progress_fn)(const scn_progress *p, void *user);

/* Zero = default, as everywhere. */
typedef struct scn_train_desc {
    int batch;              /* 0 -> 64 (training), 256 (evaluation) */
    int crop;               /* scn_augment's zero padding for random crops */
    int flip;               /* 1: random horizontal flips */
    const int *items;       /* the items to use; NULL: 0 .. count-1 */
    int item_count;         /* with items: how many; without: the first
                               item_count items (0: all) */
    scn_progress_fn progress;   /* may be NULL */
    void *user;                 /* passed to progress */
    double progress_every;      /* seconds between calls; 0 -> 0.5. The last
                                   batch of a pass always reports. */
    float mu;                   /* training: SF eq. 14's weight in [0, 1] (0: supervised) */
    const int *unlabelled;      /* training with mu > 0: items used without labels, */
    int unlabelled_count;       /* `batch` of them per step (fewer if fewer) */
    int batch_augment;          /* 1: one crop and flip draw for the whole batch
                                   (scn_augment_shared; SCN section 5); 0: per image */
    float label_smoothing;      /* training: eps in [0, 1): the targets are
                                   (1 - eps) onehot + eps / K (0: none) */
} scn_train_desc;

/* Normalisation modes of a recipe */
typedef enum scn_norm_mode {
    SCN_NORM_CHANNEL = 0,   /* per-channel mean and std */
    SCN_NORM_PIXEL          /* mean image, then per-channel std */
} scn_norm_mode;

/* A training recipe: the paper's settings for a data set (table above). */
typedef struct scn_recipe {
    const char *name;       /* "scn-cifar", ... */
    const char *data;       /* the data sets it is for, in words */
    const char *model;      /* a preset name */
    int batch, epochs;
    float lr, momentum, weight_decay, gamma;
    int milestones[8];      /* 0 ends the list */
    int crop, flip;         /* translation by up to crop pixels; flips */
    int batch_augment;      /* 1: one augmentation draw per batch */
    int decay_lambda1;      /* 1: weight decay on lambda1 (Algorithm 2) */
    int norm;               /* scn_norm_mode */
} scn_recipe;

/* Recipe i, or NULL past the last. */
SCNDEF const scn_recipe *scn_recipe_get(int i);
/* The recipe with this name, or NULL (SCN_ERR_ARG: scn_error() lists
 * the names). */
SCNDEF const scn_recipe *scn_recipe_find(const char *name);
/* Fills sgd (all its fields) and train (batch, crop, flip, batch_augment;
 * the rest untouched) from recipe r; either may be NULL. The epochs,
 * model and normalisation are the caller's to apply. */
SCNDEF void scn_recipe_apply(const scn_recipe *r, scn_sgd_desc *sgd, scn_train_desc *train);

typedef struct scn_pass_result {
    double loss;        /* mean loss per image (training; data + layers' own) */
    double accuracy;    /* fraction right */
    long images;        /* images seen */
    double seconds;     /* the pass's time */
    double images_per_s;
} scn_pass_result;

/* Trains epoch st->epoch over ds's items in batches (a last partial batch
 * is left out, as the steps of an epoch are fixed), then st->epoch += 1;
 * st->step counts the steps. The rate is scn_sgd_lr(opt, st->epoch). On
 * failure scn_error() says at which epoch and step and why. desc and
 * result may be NULL. */
SCNDEF scn_status scn_train_epoch(scn_net *net, scn_sgd *opt, scn_dataset *ds,
                                  scn_train_state *st, const scn_train_desc *desc,
                                  scn_pass_result *result);
/* Accuracy of net on ds's items (all of them, the last batch partial),
 * normalised as scn_train_state_normalize does with st. confusion
 * (classes x classes, rows true, columns predicted) is added to when not
 * NULL; desc and result may be NULL too. */
SCNDEF scn_status scn_evaluate(scn_net *net, scn_dataset *ds, const scn_train_state *st,
                               const scn_train_desc *desc, scn_pass_result *result,
                               long *confusion);
/* "Precise BN": replaces every BN layer's running mean and variance by
 * statistics of the net as it is now, measured over the first `images`
 * of desc's items (whole batches of desc->batch, default 64; at least
 * one), normalised as scn_train_state_normalize does with st and not
 * augmented. Each batch runs a training forward (every BN normalises
 * with its batch's statistics, as in training); the new mean is the average of the batch
 * means and the new variance the population variance over all the
 * batches (within-batch variance plus the spread of the batch means): an
 * equal-weight average, not training's momentum. Running averages trail
 * the weights by a few dozen steps, which after a short run can leave a
 * net that fits its training images sending most test images to a few
 * classes; recomputed statistics belong to the weights being evaluated.
 * Parameters, gradients and the net's dropout generator are left as they
 * were (a scn_net_backward after it fails: it ran no forward to go back
 * through); a net without BN layers returns at once. desc->progress is called
 * as by scn_evaluate (training = 0). images < 1, or fewer items than one
 * batch, is SCN_ERR_ARG; on any failure the statistics are left as they
 * were. */
SCNDEF scn_status scn_bn_recompute(scn_net *net, scn_dataset *ds, const scn_train_state *st,
                                   const scn_train_desc *desc, int images);
/* Fits the net's pca layer (its first; DDSE section 3.1): the mean and
 * covariance of desc's items of ds (all of them, normalised with st's mean
 * and std, not augmented; the sums in double), and the covariance's full
 * eigenvector basis by scn_sym_eigen, which the layer then applies,
 * largest variance first. The layer records the number of images and two
 * accuracy figures, max |V V^T - I| and max_i |C v_i - w_i v_i| / w_max,
 * with the basis in the net's buffers, so checkpoints carry them; and the
 * seconds taken until the net is freed (scn_net_describe prints all).
 * scn_train_epoch calls it before its first step while the basis is not
 * fitted; call it yourself to fit on other items or to see the figures
 * before training. desc->progress is called as by scn_evaluate. A net
 * whose first layer is not pca is SCN_ERR_ARG. */
SCNDEF scn_status scn_pca_fit(scn_net *net, scn_dataset *ds, const scn_train_state *st,
                              const scn_train_desc *desc);

/* ======================================================================
 * 15. Checkpoints
 *
 * Version 3, byte for byte (every integer and float little-endian, on any
 * host; f32 is IEEE 754 binary32):
 *
 *   "SCNCKPT3"                      8 bytes, the magic
 *   records, each:
 *     tag    4 ASCII bytes          a reader skips an unknown record whose
 *                                   tag starts with a lower-case letter
 *                                   (optional) and refuses any other
 *                                   unknown one
 *     size   u64                    bytes of the payload that follows
 *     payload
 *   "END " record last, payload u32: CRC-32 of every byte before its tag.
 *
 *   "NET "  u32 C, u32 H, u32 W, u64 state, u64 inc (the net's generator,
 *           for dropout), u32 spec bytes, the spec (no NUL)
 *   "PARM"  u64 count, count f32   the parameter block (scn_net_params)
 *   or "PARZ" u64 count, u64 nonzeros, ceil(count / 8) bytes of bitmap
 *           (bit i % 8 of byte i / 8, least significant first: parameter i
 *           is not +0 (a -0 is stored, keeping its sign); the bits past
 *           count 0), nonzeros f32 (those parameters in order): the same
 *           block written compactly, instead of PARM when at most half the
 *           parameters are nonzero
 *           (a net whose weights are mostly zero, as DDSE's projected ones)
 *   "BUFF"  u64 count, count f32   the buffers (BN running statistics)
 *   "NORM"  u32 channels, channels f32 means, channels f32 stds
 *   "PIXM"  u32 C, u32 H, u32 W (the net's input shape), C H W f32: the
 *           mean image normalisation subtracts (scn_train_state.pixel_mean;
 *           written after NORM when the state holds one). Required: a
 *           reader that did not know it would test with the wrong inputs,
 *           so older readers refuse the file
 *   "TRST"  i32 epoch, i64 step, u64 state, u64 inc (the training
 *           loop's generator), i32 batch
 *   "SGD "  f32 lr, f32 momentum, f32 weight_decay, f32 gamma,
 *           i32 nesterov, i32 schedule, i32 epochs, 8 x i32 milestones,
 *           i64 steps, u64 count, count f32 velocity
 *   "sgdl"  i32 decay_lambda1 (optional; 1, written after SGD when the
 *           optimiser decays lambda1; absent: 0)
 *   "note"  scn_train_state.note's bytes without the NUL (optional; written
 *           after TRST when the note is not empty)
 * in this order; NORM, TRST and SGD are written when the caller passes a
 * state and an optimiser. PIXM and sgdl came later within version 3:
 * files without them load as before (no mean image, no decay on
 * lambda1). Later kinds add their own records (sparse weight
 * storage, per-layer state). The file is written to a temporary name and
 * renamed over PATH, so a crash mid-write leaves the previous checkpoint
 * intact; a net holding a NaN or Inf is never written, and none is loaded
 * (nor negative running variances). Versions 1 and 2 ("SCNCKPT1",
 * "SCNCKPT2": the x86-64 layout of an earlier struct) still load.
 * ====================================================================== */

#ifndef SCN_NO_STDIO
/* Saves net, the optimiser (may be NULL) and st (may be NULL). */
SCNDEF scn_status scn_checkpoint_save(const char *path, const scn_net *net,
                                      const scn_sgd *opt, const scn_train_state *st);
/* Loads a checkpoint into a new net; fills opt (initialised from the
 * saved settings, may be NULL) and st (may be NULL; overwritten: free a
 * mean image it held first; scn_train_state_free frees the one it
 * receives). NULL on error. */
SCNDEF scn_net *scn_checkpoint_load(const char *path, scn_sgd *opt, scn_train_state *st);
#endif
/* The same to and from memory: *bytes (free with scn_mem_free) receives
 * the file image. */
SCNDEF scn_status scn_checkpoint_encode(const scn_net *net, const scn_sgd *opt,
                                        const scn_train_state *st, unsigned char **bytes,
                                        size_t *len);
SCNDEF scn_net *scn_checkpoint_decode(const unsigned char *bytes, size_t len,
                                      const char *name, scn_sgd *opt, scn_train_state *st);
/* CRC-32 (IEEE 802.3, as gzip and PNG use), continuing from crc (0 to start). */
SCNDEF uint32_t scn_crc32(uint32_t crc, const void *data, size_t len);

/* ======================================================================
 * 16. Backends
 *
 * Every loop over tensor data goes through a table of functions: the
 * layers, the solver, the optimiser and the projections call only these,
 * so another table (scn_cuda.cu) replaces the CPU one without touching
 * layer code. Each operation returns a status (a backend's failure is
 * reported, never papered over). Pointers are memory of the backend's
 * device; host_memory = 1 says it is ordinary host memory (the CPU one).
 * A net takes the backend current when it is created and keeps it: its
 * parameter, gradient, buffer and activation blocks are that backend's
 * memory, while scn_net_forward takes its input and returns its logits in
 * host memory (copied when host_memory is 0).
 *
 * Global state: the current backend is one of the three pieces listed under
 * THREADS AND GLOBAL STATE at the top of this file.
 * ====================================================================== */

typedef struct scn_bn_args {
    int N, C, HW;           /* NCHW with HW = H * W */
    float momentum, eps;    /* running-average rate, variance offset */
} scn_bn_args;

typedef struct scn_pool_args {
    int N, C, H, W;         /* input */
    int kh, kw, stride;     /* window, no padding */
    int Ho, Wo;             /* output */
} scn_pool_args;

typedef struct scn_backend {
    const char *name;
    int host_memory;        /* 1: pointers are host memory */
    /* memory: zero-filled blocks, copies to and from host memory */
    void *(*alloc)(size_t bytes);
    void (*release)(void *p);
    scn_status (*upload)(void *dst, const void *host, size_t bytes);
    scn_status (*download)(void *host, const void *src, size_t bytes);
    /* dense products and layouts (section 3, 7). ws: packing scratch kept
     * by the caller (NULL: allocated for the call) */
    scn_status (*gemm)(scn_workspace *ws, int trans_a, int trans_b, int M, int N, int K,
                       float alpha, const float *A, int lda, const float *B, int ldb,
                       float beta, float *C, int ldc);
    scn_status (*im2col)(const scn_conv_geom *g, const float *x, float *X);
    scn_status (*col2im)(const scn_conv_geom *g, const float *X, float *x);
    /* n x P matrix (P = N Ho Wo) <-> N x n x Ho x Wo */
    scn_status (*cols_to_nchw)(const scn_conv_geom *g, int n, const float *A, float *y);
    scn_status (*nchw_to_cols)(const scn_conv_geom *g, int n, const float *y, float *A);
    /* sparse coding (sections 5, 6) */
    scn_status (*en_solve)(const float *D, int m, int n, const float *X, int P,
                           const scn_solve_desc *desc, float *alpha,
                           scn_solve_info *info);
    scn_status (*en_backward)(const float *D, int m, int n, const float *X, int P,
                              const float *alpha, const float *G,
                              const scn_solve_desc *desc,
                              float *dD, float *dX, float *dlambda1);
    /* element-wise: y = v; y = x; y += a x; relu; y = x * mask */
    scn_status (*fill)(float *y, size_t count, float v);
    scn_status (*copy)(float *y, const float *x, size_t count);
    scn_status (*axpy)(float *y, float a, const float *x, size_t count);
    scn_status (*relu)(float *y, const float *x, size_t count);
    scn_status (*relu_backward)(float *dx, const float *y, const float *dy, size_t count);
    scn_status (*mul)(float *y, const float *x, const float *mask, size_t count);
    /* rows x cols matrices: A[i][j] = b[i] (by_col 0) or b[j] (by_col 1);
     * out[i] += sum_j A[i][j] (by_col 0) or out[j] += sum_i A[i][j] */
    scn_status (*broadcast)(float *A, int rows, int cols, const float *b, int by_col);
    scn_status (*sum_add)(float *out, const float *A, int rows, int cols, int by_col);
    /* reductions: sum x[i] y[i] in double; the nonzero count and sum |x[i]|
     * (in double); the first NaN/Inf (*where = count if none) */
    scn_status (*dot)(const float *x, const float *y, size_t count, double *out);
    scn_status (*sparsity)(const float *x, size_t count, size_t *nonzero, double *abs_sum);
    scn_status (*find_nonfinite)(const float *x, size_t count, size_t *where);
    /* batch normalisation over N and HW per channel: gamma, beta (C each),
     * running mean and var (C each, updated when train), xhat and the
     * inverse std kept for backward, which adds dgamma and dbeta */
    scn_status (*bn_forward)(const scn_bn_args *a, const float *x, float *y,
                             const float *gamma, const float *beta, float *running,
                             float *xhat, float *inv, int train);
    scn_status (*bn_backward)(const scn_bn_args *a, const float *dy, const float *xhat,
                              const float *inv, const float *gamma, float *dgamma,
                              float *dbeta, float *dx);
    /* pooling: max keeps the argmax of each output for backward; global
     * average pooling is avg with the window the whole plane */
    scn_status (*maxpool)(const scn_pool_args *a, const float *x, float *y, int *arg);
    scn_status (*maxpool_backward)(const scn_pool_args *a, const float *dy, const int *arg,
                                   float *dx);
    scn_status (*avgpool)(const scn_pool_args *a, const float *x, float *y);
    scn_status (*avgpool_backward)(const scn_pool_args *a, const float *dy, float *dx);
    /* optimisation: v = momentum v + g + decay w; w -= lr v (or, Nesterov,
     * w -= lr (g + decay w + momentum v)); projections */
    scn_status (*sgd_update)(float *w, const float *g, float *v, size_t count, float lr,
                             float momentum, float decay, int nesterov);
    scn_status (*clamp_min)(float *x, size_t count, float lo);
    /* scales each column of D (m x n) whose norm exceeds max_norm down to it */
    scn_status (*col_norm_clip)(float *D, int m, int n, float max_norm);
    /* unfolded ISTA (ddse, lista) on rows x cols: z = sign(u) max(|u| - theta[i], 0)
     * with one threshold per row (z may be u); backward: du = dz where z != 0,
     * else 0, and dtheta[i] -= sum_j sign(z[i][j]) dz[i][j] */
    scn_status (*shrink)(float *z, const float *u, const float *theta, int rows, int cols);
    scn_status (*shrink_backward)(float *du, float *dtheta, const float *z, const float *dz,
                                  int rows, int cols);
    /* keeps the s largest magnitudes of each row (by_col 0) or column of A
     * (rows x cols) and zeroes the rest; of equal magnitudes the first in
     * the row or column are kept (DDSE eq. 8's projection) */
    scn_status (*top_s)(float *A, int rows, int cols, int s, int by_col);
    /* C = alpha op(A) B + beta C as gemm(ws, trans_a, 0, ...) computes it,
     * for an A with few nonzeros: each row of op(A) is scanned and only its
     * nonzeros are multiplied (DDSE section 3.3.2), rows split among threads */
    scn_status (*gemm_sparse_a)(int trans_a, int M, int N, int K, float alpha,
                                const float *A, int lda, const float *B, int ldb, float beta,
                                float *C, int ldc);
    /* convolutional sparse coding (csc, SDNet): y *= a; z = scale T(u) with
     * T(u) = sign(u) max(|u| - theta, 0) (SDNet appendix eq. 8), or with
     * nonneg max(u - theta, 0) (z may be u); backward du = scale dz where
     * z != 0, else 0 (du may be dz); each row of A (rows x cols) scaled to
     * norm 1 (a zero row is left); out[i] (host memory) = the sum of
     * squares of x[i len .. (i + 1) len), in double */
    scn_status (*scal)(float *y, float a, size_t count);
    scn_status (*shrink_all)(float *z, const float *u, size_t count, float theta, float scale,
                             int nonneg);
    scn_status (*shrink_all_backward)(float *du, const float *z, const float *dz, size_t count,
                                      float scale);
    scn_status (*row_normalize)(float *A, int rows, int cols);
    scn_status (*seg_sumsq)(const float *x, int segments, size_t len, double *out);
} scn_backend;

/* The built-in CPU backend. */
SCNDEF const scn_backend *scn_backend_cpu(void);
/* The backend in use (the CPU one unless another was set). */
SCNDEF const scn_backend *scn_backend_get(void);
/* Installs a backend for nets created from now on and for the functions
 * of sections 3-7; NULL restores the CPU one (global state: see the top). */
SCNDEF void scn_backend_set(const scn_backend *be);

#ifdef SCN_MPI
/* ======================================================================
 * 17. Distributed training over MPI
 *
 * Data-parallel SGD over the ranks of an MPI communicator (as Horovod and
 * PyTorch's DistributedDataParallel train), compiled when the program
 * defines SCN_MPI and is built with an MPI compiler wrapper (Debian:
 * apt-get install openmpi-bin libopenmpi-dev):
 *
 *     mpicc -O2 -fopenmp -DSCN_MPI -o prog prog.c -lm
 *     mpirun -np 4 ./prog          (as root: --allow-run-as-root)
 *
 * The program initialises MPI itself (MPI_Init) and every rank calls the
 * functions below in the same order: each is collective. Every rank builds
 * the same net and optimiser; scn_mpi_sync then gives them rank 0's
 * parameters, buffers, generators and training state. One step of
 * scn_mpi_train_epoch over P ranks:
 *   - Data: every rank reads and augments the whole global batch of B
 *     items with the shared generator, exactly as scn_train_epoch does,
 *     so shuffles, crops and flips are the draws of one process; each
 *     rank then keeps its share.
 *   - Split: the batch is cut in order into S equal shards (B % S == 0),
 *     shard g = items g B/S .. (g+1) B/S - 1; rank r holds shards
 *     r S/P .. (r+1) S/P - 1. Dropout draws (one per value) are taken
 *     from the net's generator jumped ahead (PCG32 advances in log time)
 *     to where one process would draw them for the shard's first item, so
 *     the ranks together draw what one process draws. (A kind that draws
 *     per batch rather than per item would draw the same values in every
 *     shard, from the step's first state; the generator then moves on by
 *     the per-item draws only.)
 *   - BN, synchronised (the default, S = P): each bn layer's per-channel
 *     sums (in double) are gathered from every rank and added in rank
 *     order, so all ranks normalise with the global batch's mean and
 *     variance and back-propagate through them (two MPI_Allgather calls
 *     per bn forward, one per backward). Per shard (bn_local): each shard
 *     normalises with its own statistics (ghost batch norm), a rank runs
 *     its shards one after another, and the running statistics become the
 *     mean of the shards'.
 *   - Gradients: each shard's gradient block (the mean over its items) is
 *     summed over shards in shard order, first to last, and scaled by
 *     1/S: a reduce-scatter written with MPI_Alltoallv (rank j adds up
 *     segment j of the block) then MPI_Allgatherv; per rank 2 (P-1)/P
 *     times the block's bytes cross the network, as in a ring allreduce.
 *     Every rank then takes the same SGD step.
 * Determinism: nothing depends on timing. With bn_local and a fixed S,
 * every P dividing S gives bit-identical weights (1 rank runs the shards
 * in turn). With synchronised BN, one rank is bit-identical to
 * scn_train_epoch, and P > 1 differs from it by rounding only: a layer's
 * parameter gradient is a sum over the items of its forward, taken
 * inside GEMM and the solver's backward in an order that depends on how
 * many items the forward holds, and synchronised BN needs a rank's items
 * in one forward (tests/test_mpi.sh bounds the difference).
 * Failures: one expected on some ranks only (opening data, reading a
 * batch, checkpoints, a step's loss and gradients, bad arguments) is
 * shared: every rank returns it, scn_error() saying "rank R: ...", and
 * scn_mpi.shared is 1. One inside a forward or backward (out of memory)
 * is returned by its rank alone with shared 0 while the others wait in a
 * collective; the program should then call MPI_Abort (bin/scn-mpi does).
 * Checkpoints are written by rank 0 alone (atomically, section 15) and
 * read by rank 0, which sends the bytes to the rest: any number of ranks
 * resumes any checkpoint. Not supported: semi-supervised epochs (mu > 0)
 * and backends without host memory (SCN_ERR_ARG).
 * Global state: during a synchronised-BN step the step's context is kept
 * in a thread-local pointer; run one scn_mpi_train_epoch per thread.
 * ====================================================================== */

#ifdef __cplusplus
}                       /* mpi.h declares its own linkage */
#endif
#include <mpi.h>
#ifdef __cplusplus
extern "C" {
#endif

typedef struct scn_mpi_desc {
    int bn_local;       /* 0: synchronised BN; 1: statistics per shard */
    int shards;         /* bn_local: shards per batch, a multiple of the
                           ranks (0: one per rank); synchronised: unused */
} scn_mpi_desc;

typedef struct scn_mpi {
    MPI_Comm comm;      /* a duplicate of the caller's (errors returned) */
    int rank, size;
    scn_mpi_desc desc;  /* shards filled in */
    int shared;         /* after a failure: 1 if every rank returned it */
    double comm_seconds;    /* time in the gradient exchange, summed */
    double step_seconds;    /* time in whole steps, summed */
    int64_t steps;          /* steps they were summed over */
} scn_mpi;

/* Prepares m for training over comm's ranks (MPI already initialised).
 * desc may be NULL (synchronised BN). Collective; fails (shared) when
 * bn_local's shards are not a multiple of the ranks. */
SCNDEF scn_status scn_mpi_init(scn_mpi *m, MPI_Comm comm, const scn_mpi_desc *desc);
/* Frees the duplicated communicator (collective). */
SCNDEF void scn_mpi_free(scn_mpi *m);
/* Collective: SCN_OK when s is SCN_OK on every rank; else, on every
 * rank, the status of the lowest failing rank with its message as
 * "rank R: ..." (m->shared = 1). */
SCNDEF scn_status scn_mpi_agree(scn_mpi *m, scn_status s);
/* Copies rank 0's parameters, buffers and dropout generator to every
 * rank's net, and its optimiser state and training state when opt and st
 * are given (NULL on every rank or none). The nets must have the same
 * parameter and buffer counts (else a shared SCN_ERR_ARG). */
SCNDEF scn_status scn_mpi_sync(scn_mpi *m, scn_net *net, scn_sgd *opt, scn_train_state *st);
/* scn_train_epoch over the ranks (see above): the same arguments and
 * results on every rank (result: the global batch's loss and accuracy);
 * desc->progress is called on rank 0 only. desc->batch must split into
 * equal shards; desc->mu must be 0. */
SCNDEF scn_status scn_mpi_train_epoch(scn_mpi *m, scn_net *net, scn_sgd *opt,
                                      scn_dataset *ds, scn_train_state *st,
                                      const scn_train_desc *desc, scn_pass_result *result);
#ifndef SCN_NO_STDIO
/* scn_checkpoint_save on rank 0; every rank returns its status. */
SCNDEF scn_status scn_mpi_checkpoint_save(scn_mpi *m, const char *path, const scn_net *net,
                                          const scn_sgd *opt, const scn_train_state *st);
/* scn_checkpoint_load on rank 0, the bytes broadcast and decoded on the
 * others: the same net, opt and st (either may be NULL) on every rank,
 * or NULL on every rank. */
SCNDEF scn_net *scn_mpi_checkpoint_load(scn_mpi *m, const char *path, scn_sgd *opt,
                                        scn_train_state *st);
#endif
#endif /* SCN_MPI */

#ifdef __cplusplus
}
#endif
#endif /* SCN_H */

/* ######################################################################
 *
 *                          IMPLEMENTATION
 *
 * ###################################################################### */
#ifdef SCN_IMPLEMENTATION
#ifndef SCN__IMPLEMENTED
#define SCN__IMPLEMENTED

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <ctype.h>
#include <float.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(SCN_MALLOC) && defined(SCN_REALLOC) && defined(SCN_FREE)
#elif !defined(SCN_MALLOC) && !defined(SCN_REALLOC) && !defined(SCN_FREE)
#define SCN_MALLOC(sz)     malloc(sz)
#define SCN_REALLOC(p, sz) realloc(p, sz)
#define SCN_FREE(p)        free(p)
#else
#error "scn.h: define all of SCN_MALLOC, SCN_REALLOC and SCN_FREE, or none of them"
#endif

#ifndef SCN_ASSERT
#include <assert.h>
#define SCN_ASSERT(x) assert(x)
#endif

#if defined(__cplusplus) && __cplusplus >= 201103L
#define SCN__TLS thread_local
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define SCN__TLS _Thread_local
#elif defined(__GNUC__)
#define SCN__TLS __thread
#else
#define SCN__TLS
#endif

/* SCN__INLINE: a helper that must be inlined (so it is compiled for the
 * instruction set of its caller); SCN__RESTRICT: pointers that do not
 * alias, so loops over them vectorise. */
#if defined(__GNUC__) || defined(__clang__)
#define SCN__INLINE static inline __attribute__((always_inline))
#define SCN__RESTRICT __restrict
#else
#define SCN__INLINE static
#define SCN__RESTRICT
#endif

/* below this many elements a loop is not worth waking the other threads */
#define SCN__OMP_MIN 32768
#ifdef _OPENMP
#define SCN__PRAGMA(x) _Pragma(#x)
#define SCN__OMP(x) SCN__PRAGMA(omp x)
static int scn__max_threads(void) { return omp_get_max_threads(); }
/* inside a parallel region, active or not: a region opened here runs on
 * one thread (nesting is off), whatever omp_get_max_threads() says */
static int scn__in_parallel(void) { return omp_get_level() > 0; }
static double scn__seconds(void) { return omp_get_wtime(); }
static int scn__thread_id(void) { return omp_get_thread_num(); }
#else
#define SCN__OMP(x)
static int scn__max_threads(void) { return 1; }
static int scn__in_parallel(void) { return 0; }
#include <time.h>
static double scn__seconds(void) { return (double)clock() / CLOCKS_PER_SEC; }
static int scn__thread_id(void) { return 0; }
#endif

/* The most threads a parallel region of the library runs on. Every region
 * caps its team with num_threads(scn__threads()): scratch sized by it is
 * never outgrown when OpenMP would give more (OMP_NUM_THREADS=300), and a
 * huge OMP_NUM_THREADS cannot exhaust the runtime or the memory. Results
 * do not depend on the team size. */
#define SCN__MAX_THREADS 256
static int scn__threads(void) {
    int t = scn__max_threads();
    return t < 1 ? 1 : t > SCN__MAX_THREADS ? SCN__MAX_THREADS : t;
}

/* ======================================================================
 * 1. Errors
 * ====================================================================== */

static SCN__TLS char scn__errbuf[512];
static SCN__TLS scn_status scn__last_status;   /* of the message in scn__errbuf */

SCNDEF const char *scn_error(void) { return scn__errbuf; }
SCNDEF void scn_error_clear(void) { scn__errbuf[0] = '\0'; }

SCNDEF const char *scn_status_string(scn_status s) {
    switch (s) {
    case SCN_OK:          return "ok";
    case SCN_ERR_NOMEM:   return "out of memory";
    case SCN_ERR_IO:      return "input/output error";
    case SCN_ERR_FORMAT:  return "malformed or unsupported file";
    case SCN_ERR_ARG:     return "invalid argument";
    case SCN_ERR_NUMERIC: return "numerical failure";
    }
    return "unknown status";
}

/* Records a message for scn_error() and returns s, so callers can write
 * `return scn__fail(SCN_ERR_ARG, "...", ...);`. */
static scn_status scn__fail(scn_status s, const char *fmt, ...) {
    char msg[sizeof scn__errbuf];      /* an argument may be scn_error() itself */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    strcpy(scn__errbuf, msg);
    scn__last_status = s;
    return s;
}

/* a * b into *out, or 0 if it overflows size_t. */
static int scn__mul_ok(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > (size_t)-1 / a) return 0;
    *out = a * b;
    return 1;
}

/* count elements of `elem` bytes, zeroed; NULL (with the message) on failure. */
static void *scn__calloc(size_t count, size_t elem, const char *what) {
    size_t bytes;
    void *p;
    if (!scn__mul_ok(count, elem, &bytes)) {
        scn__fail(SCN_ERR_NOMEM, "%s: %zu x %zu bytes overflows", what, count, elem);
        return NULL;
    }
    p = SCN_MALLOC(bytes ? bytes : 1);
    if (!p) {
        scn__fail(SCN_ERR_NOMEM, "%s: could not allocate %zu bytes", what, bytes);
        return NULL;
    }
    memset(p, 0, bytes);
    return p;
}

/* 1 if every x[i] is finite; else 0, with the first bad index in *where.
 * The scan is bound by memory bandwidth: a large array is split between
 * the threads, and only a failed scan looks for the first bad index. */
static int scn__all_finite(const float *x, size_t count, size_t *where) {
    long long blocks = (long long)(count / 64), b;
    uint32_t bad = 0;
    size_t i;
    SCN__OMP(parallel for reduction(|:bad) if (count >= SCN__OMP_MIN) num_threads(scn__threads()))
    for (b = 0; b < blocks; b++) {              /* branch-free blocks that vectorise */
        uint32_t u;
        int j;
        for (j = 0; j < 64; j++) {
            memcpy(&u, x + b * 64 + j, sizeof u);
            bad |= (u & 0x7f800000u) == 0x7f800000u;       /* exponent all ones */
        }
    }
    for (i = bad ? 0 : (size_t)blocks * 64; i < count; i++)
        if (!isfinite(x[i])) { *where = i; return 0; }
    return 1;
}

/* ======================================================================
 * 2. Tensors and RNG
 * ====================================================================== */

static scn_status scn__shape_size(int ndim, const int *shape, size_t *size) {
    size_t s = 1;
    int i;
    if (ndim < 1 || ndim > SCN_MAX_DIMS)
        return scn__fail(SCN_ERR_ARG, "tensor: %d dimensions (1 to %d allowed)",
                         ndim, SCN_MAX_DIMS);
    for (i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return scn__fail(SCN_ERR_ARG, "tensor: dimension %d is %d", i, shape[i]);
        if (!scn__mul_ok(s, (size_t)shape[i], &s) || s > ((size_t)-1) / sizeof(float))
            return scn__fail(SCN_ERR_ARG, "tensor: shape too large");
    }
    *size = s;
    return SCN_OK;
}

SCNDEF scn_tensor *scn_tensor_create(int ndim, const int *shape) {
    scn_tensor *t;
    size_t size = 0;    /* gcc -O3 cannot see that a failed scn__shape_size returns */
    int i;
    SCN_ASSERT(shape);
    if (scn__shape_size(ndim, shape, &size) != SCN_OK) return NULL;
    t = (scn_tensor *)scn__calloc(1, sizeof *t, "tensor");
    if (!t) return NULL;
    t->data = (float *)scn__calloc(size, sizeof(float), "tensor data");
    if (!t->data) { SCN_FREE(t); return NULL; }
    t->ndim = ndim;
    for (i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->size = size;
    t->owns = 1;
    return t;
}

SCNDEF scn_tensor *scn_tensor_create4(int n, int c, int h, int w) {
    int shape[4];
    shape[0] = n; shape[1] = c; shape[2] = h; shape[3] = w;
    return scn_tensor_create(4, shape);
}

SCNDEF void scn_tensor_free(scn_tensor *t) {
    if (!t) return;
    if (t->owns && t->device) t->device->release(t->data);
    else if (t->owns) SCN_FREE(t->data);
    SCN_FREE(t);
}

SCNDEF scn_status scn_tensor_view(const scn_tensor *t, size_t offset, int ndim,
                                  const int *shape, scn_tensor *view) {
    size_t size = 0;    /* as in scn_tensor_create */
    int i;
    scn_status s;
    SCN_ASSERT(t && shape && view);
    s = scn__shape_size(ndim, shape, &size);
    if (s) return s;
    if (offset > t->size || size > t->size - offset)
        return scn__fail(SCN_ERR_ARG, "tensor view: %zu elements at offset %zu of a "
                         "tensor of %zu", size, offset, t->size);
    memset(view, 0, sizeof *view);
    view->data = t->data + offset;
    view->ndim = ndim;
    for (i = 0; i < ndim; i++) view->shape[i] = shape[i];
    view->size = size;
    view->owns = 0;
    view->device = t->device;
    return SCN_OK;
}

SCNDEF scn_status scn_tensor_reshape(scn_tensor *t, int ndim, const int *shape) {
    size_t size = 0;    /* as in scn_tensor_create */
    int i;
    scn_status s;
    SCN_ASSERT(t && shape);
    s = scn__shape_size(ndim, shape, &size);
    if (s) return s;
    if (size != t->size)
        return scn__fail(SCN_ERR_ARG, "tensor reshape: %zu elements into a shape of %zu",
                         t->size, size);
    t->ndim = ndim;
    for (i = 0; i < SCN_MAX_DIMS; i++) t->shape[i] = i < ndim ? shape[i] : 0;
    return SCN_OK;
}

SCNDEF uint32_t scn_rng_u32(scn_rng *r) {
    uint64_t old;
    uint32_t xorshifted, rot;
    SCN_ASSERT(r);
    old = r->state;
    r->state = old * 6364136223846793005ULL + (r->inc | 1u);
    xorshifted = (uint32_t)(((old >> 18) ^ old) >> 27);
    rot = (uint32_t)(old >> 59);
    return (xorshifted >> rot) | (xorshifted << ((32 - rot) & 31));
}

SCNDEF void scn_rng_seed(scn_rng *r, uint64_t seed, uint64_t stream) {
    SCN_ASSERT(r);
    r->state = 0;
    r->inc = (stream << 1) | 1u;
    scn_rng_u32(r);
    r->state += seed;
    scn_rng_u32(r);
}

SCNDEF float scn_rng_uniform(scn_rng *r) {
    return (float)(scn_rng_u32(r) >> 8) * (1.0f / 16777216.0f);
}

SCNDEF float scn_rng_normal(scn_rng *r) {
    /* Box-Muller; u1 in (0, 1] keeps the log finite */
    double u1 = ((scn_rng_u32(r) >> 8) + 1.0) / 16777216.0;
    double u2 = (scn_rng_u32(r) >> 8) / 16777216.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

SCNDEF uint32_t scn_rng_below(scn_rng *r, uint32_t bound) {
    uint32_t threshold, x;
    SCN_ASSERT(r && bound > 0);
    threshold = (uint32_t)(-bound) % bound;
    do x = scn_rng_u32(r); while (x < threshold);
    return x % bound;
}

/* ======================================================================
 * 3. Math: GEMM, im2col, col2im
 *
 * GEMM follows the BLIS layering: C is cut into MC x NC tiles, K into KC
 * slices; each tile packs its slice of op(A) into MR-row panels and of
 * op(B) into NR-column panels, and a register-blocked microkernel
 * multiplies one MR x KC panel by one KC x NR panel. The microkernel is
 * chosen at run time (AVX-512, AVX2+FMA, or portable C), so a plain -O2
 * build runs the best one the machine has. Tiles are independent and every
 * C element sums its K terms in the same order, so the result does not
 * depend on the thread count.
 * ====================================================================== */

#define SCN__KC 256
#define SCN__MC 120
#define SCN__NC 1024

/* acc(MR x NR) = sum_p a[p*MR + i] b[p*ldb + j]; C[i, j] = alpha acc +
 * (add ? C[i, j] : 0) for the mv x nv valid corner of the tile. b is a
 * packed panel (ldb = NR) or NR columns of B itself. */
typedef void (*scn__kernel_fn)(int kc, const float *a, const float *b, size_t ldb,
                               float *c, size_t ldc, int mv, int nv, float alpha, int add);

typedef struct scn__kernel {
    const char *name;
    int mr, nr;
    scn__kernel_fn fn;
    int (*supported)(void);
} scn__kernel;

/* The edge of a tile: the mv x nv corner of acc (row stride nr) into C. */
static void scn__tile_out(const float *acc, int nr, float *c, size_t ldc, int mv, int nv,
                          float alpha, int add) {
    int i, j;
    for (i = 0; i < mv; i++)
        for (j = 0; j < nv; j++)
            c[i * ldc + j] = alpha * acc[i * nr + j] + (add ? c[i * ldc + j] : 0.0f);
}

static void scn__kernel_c(int kc, const float *a, const float *b, size_t ldb,
                          float *c, size_t ldc, int mv, int nv, float alpha, int add) {
    float acc[6][16];
    int p, i, j;
    memset(acc, 0, sizeof acc);
    for (p = 0; p < kc; p++, a += 6, b += ldb)
        for (i = 0; i < 6; i++)
            for (j = 0; j < 16; j++) acc[i][j] += a[i] * b[j];
    scn__tile_out(&acc[0][0], 16, c, ldc, mv, nv, alpha, add);
}

#if (defined(__GNUC__) || defined(__clang__)) && (defined(__x86_64__) || defined(__i386__))
#define SCN__X86 1
#include <immintrin.h>

/* 6 x 16 with 12 ymm accumulators: each step broadcasts 6 values of A and
 * loads two 8-float vectors of B. */
__attribute__((target("avx2,fma")))
static void scn__kernel_avx2(int kc, const float *a, const float *b, size_t ldb,
                             float *c, size_t ldc, int mv, int nv, float alpha, int add) {
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00,
           c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00,
           c50 = c00, c51 = c00, b0, b1, x;
    __m256 va = _mm256_set1_ps(alpha);
    float tmp[6][16];
    int p;
    for (p = 0; p < kc; p++, a += 6, b += ldb) {
        b0 = _mm256_loadu_ps(b);
        b1 = _mm256_loadu_ps(b + 8);
        x = _mm256_broadcast_ss(a + 0); c00 = _mm256_fmadd_ps(x, b0, c00); c01 = _mm256_fmadd_ps(x, b1, c01);
        x = _mm256_broadcast_ss(a + 1); c10 = _mm256_fmadd_ps(x, b0, c10); c11 = _mm256_fmadd_ps(x, b1, c11);
        x = _mm256_broadcast_ss(a + 2); c20 = _mm256_fmadd_ps(x, b0, c20); c21 = _mm256_fmadd_ps(x, b1, c21);
        x = _mm256_broadcast_ss(a + 3); c30 = _mm256_fmadd_ps(x, b0, c30); c31 = _mm256_fmadd_ps(x, b1, c31);
        x = _mm256_broadcast_ss(a + 4); c40 = _mm256_fmadd_ps(x, b0, c40); c41 = _mm256_fmadd_ps(x, b1, c41);
        x = _mm256_broadcast_ss(a + 5); c50 = _mm256_fmadd_ps(x, b0, c50); c51 = _mm256_fmadd_ps(x, b1, c51);
    }
    if (nv == 16) {                          /* whole rows: vector stores */
#define SCN__ROW8(r, lo, hi) do { float *cr = c + (r) * ldc;                          \
        _mm256_storeu_ps(cr, add ? _mm256_fmadd_ps(va, lo, _mm256_loadu_ps(cr))       \
                                 : _mm256_mul_ps(va, lo));                            \
        _mm256_storeu_ps(cr + 8, add ? _mm256_fmadd_ps(va, hi, _mm256_loadu_ps(cr + 8)) \
                                     : _mm256_mul_ps(va, hi)); } while (0)
        SCN__ROW8(0, c00, c01);
        if (mv > 1) SCN__ROW8(1, c10, c11);
        if (mv > 2) SCN__ROW8(2, c20, c21);
        if (mv > 3) SCN__ROW8(3, c30, c31);
        if (mv > 4) SCN__ROW8(4, c40, c41);
        if (mv > 5) SCN__ROW8(5, c50, c51);
#undef SCN__ROW8
        return;
    }
    _mm256_storeu_ps(tmp[0], c00); _mm256_storeu_ps(tmp[0] + 8, c01);
    _mm256_storeu_ps(tmp[1], c10); _mm256_storeu_ps(tmp[1] + 8, c11);
    _mm256_storeu_ps(tmp[2], c20); _mm256_storeu_ps(tmp[2] + 8, c21);
    _mm256_storeu_ps(tmp[3], c30); _mm256_storeu_ps(tmp[3] + 8, c31);
    _mm256_storeu_ps(tmp[4], c40); _mm256_storeu_ps(tmp[4] + 8, c41);
    _mm256_storeu_ps(tmp[5], c50); _mm256_storeu_ps(tmp[5] + 8, c51);
    scn__tile_out(&tmp[0][0], 16, c, ldc, mv, nv, alpha, add);
}

/* 6 x 32 with 12 zmm accumulators. */
__attribute__((target("avx512f")))
static void scn__kernel_avx512(int kc, const float *a, const float *b, size_t ldb,
                               float *c, size_t ldc, int mv, int nv, float alpha, int add) {
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c10 = c00, c11 = c00,
           c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00,
           c50 = c00, c51 = c00, b0, b1, x;
    __m512 va = _mm512_set1_ps(alpha);
    float tmp[6][32];
    int p;
    for (p = 0; p < kc; p++, a += 6, b += ldb) {
        b0 = _mm512_loadu_ps(b);
        b1 = _mm512_loadu_ps(b + 16);
        x = _mm512_set1_ps(a[0]); c00 = _mm512_fmadd_ps(x, b0, c00); c01 = _mm512_fmadd_ps(x, b1, c01);
        x = _mm512_set1_ps(a[1]); c10 = _mm512_fmadd_ps(x, b0, c10); c11 = _mm512_fmadd_ps(x, b1, c11);
        x = _mm512_set1_ps(a[2]); c20 = _mm512_fmadd_ps(x, b0, c20); c21 = _mm512_fmadd_ps(x, b1, c21);
        x = _mm512_set1_ps(a[3]); c30 = _mm512_fmadd_ps(x, b0, c30); c31 = _mm512_fmadd_ps(x, b1, c31);
        x = _mm512_set1_ps(a[4]); c40 = _mm512_fmadd_ps(x, b0, c40); c41 = _mm512_fmadd_ps(x, b1, c41);
        x = _mm512_set1_ps(a[5]); c50 = _mm512_fmadd_ps(x, b0, c50); c51 = _mm512_fmadd_ps(x, b1, c51);
    }
    if (nv == 32) {                          /* whole rows: vector stores */
#define SCN__ROW16(r, lo, hi) do { float *cr = c + (r) * ldc;                         \
        _mm512_storeu_ps(cr, add ? _mm512_fmadd_ps(va, lo, _mm512_loadu_ps(cr))       \
                                 : _mm512_mul_ps(va, lo));                            \
        _mm512_storeu_ps(cr + 16, add ? _mm512_fmadd_ps(va, hi, _mm512_loadu_ps(cr + 16)) \
                                      : _mm512_mul_ps(va, hi)); } while (0)
        SCN__ROW16(0, c00, c01);
        if (mv > 1) SCN__ROW16(1, c10, c11);
        if (mv > 2) SCN__ROW16(2, c20, c21);
        if (mv > 3) SCN__ROW16(3, c30, c31);
        if (mv > 4) SCN__ROW16(4, c40, c41);
        if (mv > 5) SCN__ROW16(5, c50, c51);
#undef SCN__ROW16
        return;
    }
    _mm512_storeu_ps(tmp[0], c00); _mm512_storeu_ps(tmp[0] + 16, c01);
    _mm512_storeu_ps(tmp[1], c10); _mm512_storeu_ps(tmp[1] + 16, c11);
    _mm512_storeu_ps(tmp[2], c20); _mm512_storeu_ps(tmp[2] + 16, c21);
    _mm512_storeu_ps(tmp[3], c30); _mm512_storeu_ps(tmp[3] + 16, c31);
    _mm512_storeu_ps(tmp[4], c40); _mm512_storeu_ps(tmp[4] + 16, c41);
    _mm512_storeu_ps(tmp[5], c50); _mm512_storeu_ps(tmp[5] + 16, c51);
    scn__tile_out(&tmp[0][0], 32, c, ldc, mv, nv, alpha, add);
}
#endif

#if (defined(__GNUC__) || defined(__clang__)) && defined(__aarch64__) && defined(__ARM_NEON)
#define SCN__NEON 1
#include <arm_neon.h>

/* 6 x 16 with 24 of AArch64's 32 vector registers as accumulators: each
 * step loads four 4-float vectors of B and multiply-adds each with the 6
 * values of A. Advanced SIMD is part of every ARMv8-A core, so the kernel
 * needs no run-time test there. */
static void scn__kernel_neon(int kc, const float *a, const float *b, size_t ldb,
                             float *c, size_t ldc, int mv, int nv, float alpha, int add) {
    float32x4_t acc[6][4], va = vdupq_n_f32(alpha);
    float tmp[6][16];
    int p, i, j;
    for (i = 0; i < 6; i++)
        for (j = 0; j < 4; j++) acc[i][j] = vdupq_n_f32(0.0f);
    for (p = 0; p < kc; p++, a += 6, b += ldb) {
        float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8),
                    b3 = vld1q_f32(b + 12);
        for (i = 0; i < 6; i++) {
            float32x4_t x = vdupq_n_f32(a[i]);
            acc[i][0] = vfmaq_f32(acc[i][0], x, b0);
            acc[i][1] = vfmaq_f32(acc[i][1], x, b1);
            acc[i][2] = vfmaq_f32(acc[i][2], x, b2);
            acc[i][3] = vfmaq_f32(acc[i][3], x, b3);
        }
    }
    if (nv == 16) {                          /* whole rows: vector stores */
        for (i = 0; i < mv; i++)
            for (j = 0; j < 4; j++) {
                float *cr = c + i * ldc + 4 * j;
                vst1q_f32(cr, add ? vfmaq_f32(vld1q_f32(cr), va, acc[i][j])
                                  : vmulq_f32(va, acc[i][j]));
            }
        return;
    }
    for (i = 0; i < 6; i++)
        for (j = 0; j < 4; j++) vst1q_f32(tmp[i] + 4 * j, acc[i][j]);
    scn__tile_out(&tmp[0][0], 16, c, ldc, mv, nv, alpha, add);
}
#endif

#ifdef SCN__X86
static int scn__has_avx2(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static int scn__has_avx512(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f");
}
#endif

static int scn__has_nothing(void) { return 1; }

/* Best first; the portable kernel runs everywhere. */
static const scn__kernel scn__kernels[] = {
#ifdef SCN__X86
    { "avx512", 6, 32, scn__kernel_avx512, scn__has_avx512 },
    { "avx2", 6, 16, scn__kernel_avx2, scn__has_avx2 },
#endif
#ifdef SCN__NEON
    { "neon", 6, 16, scn__kernel_neon, scn__has_nothing },
#endif
    { "c", 6, 16, scn__kernel_c, scn__has_nothing },
};

/* The kernel in use: the best this machine runs, chosen on first use (a
 * test may point it at another supported one). Two threads making their
 * first GEMM call at once both choose and store the same kernel; the
 * accesses are atomic where the compiler has the builtins, so that race is
 * defined behaviour (and ThreadSanitizer agrees). */
static const scn__kernel *scn__gemm_kernel;
#if defined(__GNUC__) || defined(__clang__)
#define SCN__KERNEL_LOAD() __atomic_load_n(&scn__gemm_kernel, __ATOMIC_ACQUIRE)
#define SCN__KERNEL_STORE(k) __atomic_store_n(&scn__gemm_kernel, (k), __ATOMIC_RELEASE)
#else
#define SCN__KERNEL_LOAD() scn__gemm_kernel
#define SCN__KERNEL_STORE(k) (scn__gemm_kernel = (k))
#endif

static const scn__kernel *scn__kernel_pick(void) {
    const scn__kernel *k = SCN__KERNEL_LOAD();
    if (!k) {
        k = scn__kernels;
        while (!k->supported()) k++;
        SCN__KERNEL_STORE(k);
    }
    return k;
}

SCNDEF const char *scn_gemm_kernel_name(int i, int *runs) {
    int count = (int)(sizeof scn__kernels / sizeof scn__kernels[0]);
    if (i < 0 || i >= count) return NULL;
    if (runs) *runs = scn__kernels[i].supported();
    return scn__kernels[i].name;
}

SCNDEF scn_status scn_gemm_kernel_select(const char *name) {
    int i, runs;
    const char *k;
    if (!name) { SCN__KERNEL_STORE((const scn__kernel *)NULL); return SCN_OK; }
    for (i = 0; (k = scn_gemm_kernel_name(i, &runs)) != NULL; i++)
        if (!strcmp(k, name)) {
            if (!runs)
                return scn__fail(SCN_ERR_ARG, "gemm: this CPU cannot run the %s kernel", name);
            SCN__KERNEL_STORE(&scn__kernels[i]);
            return SCN_OK;
        }
    return scn__fail(SCN_ERR_ARG, "gemm: no kernel named '%s'", name);
}

SCNDEF const char *scn_gemm_kernel(void) { return scn__kernel_pick()->name; }

/* Rows [i0, i0+mc) x cols [p0, p0+kc) of op(A) into MR-row panels,
 * zero-padded to a multiple of MR rows. */
static void scn__pack_a(int trans, const float *A, size_t lda, int i0, int mc,
                        int p0, int kc, int mr, float *dst) {
    int ip, i, p;
    for (ip = 0; ip < mc; ip += mr) {
        if (ip + mr <= mc) {                    /* a full panel: no bounds tests */
            for (p = 0; p < kc; p++, dst += mr) {
                if (trans) {
                    memcpy(dst, A + (size_t)(p0 + p) * lda + i0 + ip, (size_t)mr * sizeof *dst);
                } else {
                    const float *a = A + (size_t)(i0 + ip) * lda + p0 + p;
                    for (i = 0; i < mr; i++) dst[i] = a[(size_t)i * lda];
                }
            }
            continue;
        }
        for (p = 0; p < kc; p++)
            for (i = 0; i < mr; i++, dst++) {
                int r = i0 + ip + i;
                *dst = ip + i >= mc ? 0.0f
                     : trans ? A[(size_t)(p0 + p) * lda + r] : A[(size_t)r * lda + p0 + p];
            }
    }
}

/* Rows [p0, p0+kc) x cols [j0, j0+nc) of op(B) into NR-column panels. */
static void scn__pack_b(int trans, const float *B, size_t ldb, int p0, int kc,
                        int j0, int nc, int nr, float *dst) {
    int jp, j, p;
    for (jp = 0; jp < nc; jp += nr) {
        if (jp + nr <= nc) {                    /* a full panel: no bounds tests */
            for (p = 0; p < kc; p++, dst += nr) {
                if (!trans) {
                    memcpy(dst, B + (size_t)(p0 + p) * ldb + j0 + jp, (size_t)nr * sizeof *dst);
                } else {
                    const float *b = B + (size_t)(j0 + jp) * ldb + p0 + p;
                    for (j = 0; j < nr; j++) dst[j] = b[(size_t)j * ldb];
                }
            }
            continue;
        }
        for (p = 0; p < kc; p++)
            for (j = 0; j < nr; j++, dst++) {
                int col = j0 + jp + j;
                *dst = jp + j >= nc ? 0.0f
                     : trans ? B[(size_t)col * ldb + p0 + p] : B[(size_t)(p0 + p) * ldb + col];
            }
    }
}

static void scn__scale_rows(int M, int N, float beta, float *C, int ldc) {
    int i, j;
    SCN__OMP(parallel for schedule(static) private(j) if ((size_t)M * N > SCN__OMP_MIN)
             num_threads(scn__threads()))
    for (i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (beta == 0.0f) memset(c, 0, (size_t)N * sizeof *c);
        else if (beta != 1.0f) for (j = 0; j < N; j++) c[j] *= beta;
    }
}

/* C = alpha op(A) op(B) + C on the rows [i0, i1) and columns [j0, j1) of C,
 * with one thread's packing buffers. Each KC slice of op(B) is packed once
 * and reused against every MC block of op(A). When there is only one such
 * block and B is not transposed, its full-width panels are read in place:
 * packing would cost as much memory traffic as the product itself. */
static void scn__gemm_tile(const scn__kernel *k, int ta, int tb, int K, float alpha,
                           const float *A, int lda, const float *B, int ldb, float *C,
                           int ldc, int i0, int i1, int j0, int j1, float *apack,
                           float *bpack, int add) {
    int p0, ic, ir, jr, nc = j1 - j0, full = nc / k->nr * k->nr;
    int direct = !tb && i1 - i0 <= SCN__MC;
    for (p0 = 0; p0 < K; p0 += SCN__KC) {
        int kc = K - p0 < SCN__KC ? K - p0 : SCN__KC;
        if (!direct) scn__pack_b(tb, B, (size_t)ldb, p0, kc, j0, nc, k->nr, bpack);
        else if (full < nc) scn__pack_b(tb, B, (size_t)ldb, p0, kc, j0 + full, nc - full,
                                        k->nr, bpack + (size_t)full * kc);
        for (ic = i0; ic < i1; ic += SCN__MC) {
            int mc = i1 - ic < SCN__MC ? i1 - ic : SCN__MC;
            scn__pack_a(ta, A, (size_t)lda, ic, mc, p0, kc, k->mr, apack);
            for (jr = 0; jr < nc; jr += k->nr) {
                int in_place = direct && jr < full;
                const float *b = in_place ? B + (size_t)p0 * ldb + j0 + jr
                                          : bpack + (size_t)jr * kc;
                for (ir = 0; ir < mc; ir += k->mr)
                    k->fn(kc, apack + (size_t)ir * kc, b, in_place ? (size_t)ldb : (size_t)k->nr,
                          C + (size_t)(ic + ir) * ldc + j0 + jr, (size_t)ldc,
                          mc - ir < k->mr ? mc - ir : k->mr,
                          nc - jr < k->nr ? nc - jr : k->nr, alpha, add || p0 > 0);
            }
        }
    }
}

/* The most floats one thread's packing takes, whatever the shapes: a
 * workspace of scn__gemm_team() times this never grows. */
#define SCN__PACK_FLOATS ((size_t)(SCN__MC + 6) * SCN__KC + (size_t)SCN__KC * SCN__NC)

/* The threads a GEMM called here runs on: all, or 1 inside a parallel
 * region (nested regions are inactive). */
static int scn__gemm_team(void) { return scn__in_parallel() ? 1 : scn__threads(); }

/* The blocked GEMM with a given microkernel, packing in ws (grown when too
 * small; NULL: a buffer for this call). C is cut into column strips (each
 * packs its slice of op(B) once), and into row bands as well when there
 * are too few strips to keep every thread busy. */
static scn_status scn__gemm_with(const scn__kernel *k, scn_workspace *ws, int ta, int tb,
                                 int M, int N, int K, float alpha, const float *A, int lda,
                                 const float *B, int ldb, float beta, float *C, int ldc) {
    int team = scn__gemm_team(), threads = team, panels, strip, strips, bands, band, tiles, t;
    size_t apack_n = (size_t)(SCN__MC + 6) * SCN__KC, per_thread, bytes;
    float *buf;
    if (M <= 0 || N <= 0) return SCN_OK;
    if (K <= 0 || alpha == 0.0f) { scn__scale_rows(M, N, beta, C, ldc); return SCN_OK; }
    if (beta != 0.0f) scn__scale_rows(M, N, beta, C, ldc);   /* beta 0: kernels store */
    if ((double)M * N * K < 1e6) threads = 1;
    panels = (N + k->nr - 1) / k->nr;
    strip = (panels + threads - 1) / threads;       /* panels per strip */
    if (strip * k->nr > SCN__NC) strip = SCN__NC / k->nr;
    strips = (panels + strip - 1) / strip;
    bands = strips >= threads ? 1 : (threads + strips - 1) / strips;
    band = ((M + bands - 1) / bands + k->mr - 1) / k->mr * k->mr;
    bands = (M + band - 1) / band;
    tiles = bands * strips;
    per_thread = apack_n + (size_t)SCN__KC * strip * k->nr;
    bytes = per_thread * team * sizeof(float);
    if (ws && ws->size < bytes) scn_workspace_free(ws);
    buf = ws && ws->data ? (float *)ws->data : (float *)SCN_MALLOC(bytes);
    if (!buf)
        return scn__fail(SCN_ERR_NOMEM, "gemm: no memory for %zu bytes of packing buffers",
                         bytes);
    if (ws && !ws->data) { ws->data = buf; ws->size = bytes; }
    SCN__OMP(parallel for schedule(dynamic, 1) num_threads(team) if (tiles > 1 && team > 1))
    for (t = 0; t < tiles; t++) {
        float *apack = buf + per_thread * scn__thread_id();
        int i0 = t / strips * band, j0 = t % strips * strip * k->nr;
        int i1 = i0 + band < M ? i0 + band : M;
        int j1 = j0 + strip * k->nr < N ? j0 + strip * k->nr : N;
        scn__gemm_tile(k, ta, tb, K, alpha, A, lda, B, ldb, C, ldc, i0, i1, j0, j1,
                       apack, apack + apack_n, beta != 0.0f);
    }
    if (!ws) SCN_FREE(buf);
    return SCN_OK;
}

static scn_status scn__cpu_gemm(scn_workspace *ws, int ta, int tb, int M, int N, int K,
                                float alpha, const float *A, int lda, const float *B, int ldb,
                                float beta, float *C, int ldc) {
    return scn__gemm_with(scn__kernel_pick(), ws, ta, tb, M, N, K, alpha, A, lda, B, ldb,
                          beta, C, ldc);
}

SCNDEF scn_status scn_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha,
                           const float *A, int lda, const float *B, int ldb,
                           float beta, float *C, int ldc) {
    SCN_ASSERT(M <= 0 || N <= 0 || (C && (K <= 0 || (A && B))));
    if (M > 0 && N > 0 && (ldc < N || (K > 0 && (lda < (trans_a ? M : K) ||
                                                 ldb < (trans_b ? K : N)))))
        return scn__fail(SCN_ERR_ARG, "gemm: row strides lda %d, ldb %d, ldc %d are shorter "
                         "than the rows of %s A, %s B and C (%d x %d by %d x %d)", lda, ldb,
                         ldc, trans_a ? "transposed" : "plain", trans_b ? "transposed" : "plain",
                         M, K, K, N);
    return scn_backend_get()->gemm(NULL, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb,
                                   beta, C, ldc);
}

SCNDEF scn_status scn_conv_geom_init(scn_conv_geom *g, int N, int C, int H, int W,
                                     int k, int stride, int pad) {
    uint64_t m, P;      /* 64-bit: each product below fits, whatever size_t is */
    SCN_ASSERT(g);
    if (N < 1 || C < 1 || H < 1 || W < 1)
        return scn__fail(SCN_ERR_ARG, "conv: input %d x %d x %d x %d must be positive",
                         N, C, H, W);
    if (k < 1 || stride < 1 || pad < 0 || pad >= k)
        return scn__fail(SCN_ERR_ARG, "conv: kernel %d, stride %d, padding %d (need "
                         "k >= 1, stride >= 1, 0 <= padding < k)", k, stride, pad);
    if ((long long)H + 2LL * pad < k || (long long)W + 2LL * pad < k)
        return scn__fail(SCN_ERR_ARG, "conv: kernel %d larger than the padded input "
                         "%lld x %lld", k, H + 2LL * pad, W + 2LL * pad);
    /* C k and N Ho are at most 2^62, so neither product below wraps; a wrap
     * (as size_t arithmetic did on 32-bit targets) would pass the check */
    m = (uint64_t)C * (uint64_t)k;
    m = m > 1u << 30 ? m : m * (uint64_t)k;
    P = (uint64_t)N * (uint64_t)(((long long)H + 2LL * pad - k) / stride + 1);
    P = P > 1u << 30 ? P : P * (uint64_t)(((long long)W + 2LL * pad - k) / stride + 1);
    if (m > 1u << 30 || P > 1u << 30 || (uint64_t)H * (uint64_t)W > 1u << 30)
        return scn__fail(SCN_ERR_ARG, "conv: patch matrix %llu x %llu too large (at "
                         "most 2^30 rows and columns)", (unsigned long long)m,
                         (unsigned long long)P);
    g->N = N; g->C = C; g->H = H; g->W = W;
    g->k = k; g->stride = stride; g->pad = pad;
    g->Ho = (int)(((long long)H + 2LL * pad - k) / stride + 1);
    g->Wo = (int)(((long long)W + 2LL * pad - k) / stride + 1);
    g->m = (int)m;
    g->P = (int)P;
    return SCN_OK;
}

/* The outputs o in [*lo, *hi) of a row of `len` whose input o * stride + off
 * lies inside [0, size): the rest of the row reads the zero padding. */
static void scn__inside(int len, int stride, int off, int size, int *lo, int *hi) {
    int a = off >= 0 ? 0 : (-off + stride - 1) / stride;
    int b = size - off <= 0 ? 0 : (size - off + stride - 1) / stride;
    *lo = a < len ? a : len;
    *hi = b < *lo ? *lo : b < len ? b : len;
}

static scn_status scn__cpu_im2col(const scn_conv_geom *g, const float *x, float *X) {
    int row;
    SCN__OMP(parallel for schedule(static) if ((size_t)g->m * g->P > SCN__OMP_MIN)
             num_threads(scn__threads()))
    for (row = 0; row < g->m; row++) {
        int c = row / (g->k * g->k), i = row / g->k % g->k, j = row % g->k, lo, hi;
        float *dst = X + (size_t)row * g->P;
        int b, oy, ox;
        scn__inside(g->Wo, g->stride, j - g->pad, g->W, &lo, &hi);
        for (b = 0; b < g->N; b++) {
            const float *src = x + ((size_t)b * g->C + c) * g->H * g->W;
            for (oy = 0; oy < g->Ho; oy++, dst += g->Wo) {
                int y = oy * g->stride - g->pad + i;
                const float *in;
                if (y < 0 || y >= g->H) {
                    memset(dst, 0, (size_t)g->Wo * sizeof *dst);
                    continue;
                }
                in = src + (size_t)y * g->W;
                for (ox = 0; ox < lo; ox++) dst[ox] = 0.0f;
                for (ox = lo; ox < hi; ox++) dst[ox] = in[ox * g->stride + j - g->pad];
                for (ox = hi; ox < g->Wo; ox++) dst[ox] = 0.0f;
            }
        }
    }
    return SCN_OK;
}

static scn_status scn__cpu_col2im(const scn_conv_geom *g, const float *X, float *x) {
    int c;
    memset(x, 0, (size_t)g->N * g->C * g->H * g->W * sizeof *x);
    /* one channel per thread: every x element has one writer */
    SCN__OMP(parallel for schedule(static) if ((size_t)g->m * g->P > SCN__OMP_MIN)
             num_threads(scn__threads()))
    for (c = 0; c < g->C; c++) {
        int i, j, b, oy, ox, lo, hi;
        for (i = 0; i < g->k; i++)
            for (j = 0; j < g->k; j++) {
                const float *src = X + ((size_t)(c * g->k + i) * g->k + j) * g->P;
                scn__inside(g->Wo, g->stride, j - g->pad, g->W, &lo, &hi);
                for (b = 0; b < g->N; b++) {
                    float *img = x + ((size_t)b * g->C + c) * g->H * g->W;
                    for (oy = 0; oy < g->Ho; oy++, src += g->Wo) {
                        int y = oy * g->stride - g->pad + i;
                        float *out;
                        if (y < 0 || y >= g->H) continue;
                        out = img + (size_t)y * g->W;
                        for (ox = lo; ox < hi; ox++) out[ox * g->stride + j - g->pad] += src[ox];
                    }
                }
            }
    }
    return SCN_OK;
}

SCNDEF scn_status scn_im2col(const scn_conv_geom *g, const float *x, float *X) {
    SCN_ASSERT(g && x && X);
    return scn_backend_get()->im2col(g, x, X);
}

SCNDEF scn_status scn_col2im(const scn_conv_geom *g, const float *X, float *x) {
    SCN_ASSERT(g && X && x);
    return scn_backend_get()->col2im(g, X, x);
}

/* ======================================================================
 * 4. .npy files and output files
 *
 * Layout (numpy's NEP 1): "\x93NUMPY", major, minor, header length
 * (uint16 little-endian in 1.0, uint32 in 2.0/3.0), an ASCII Python dict
 * {'descr': '<f4', 'fortran_order': False, 'shape': (m, n), } padded with
 * spaces to a multiple of 64 bytes and ended by '\n', then the raw data.
 * ====================================================================== */

typedef struct scn__npy_header {
    int have_descr, have_order, have_shape;
    int elem;           /* 4 or 8 */
    int fortran;
    int ndim;
    int shape[SCN_MAX_DIMS];
} scn__npy_header;

static int scn__little_endian(void) {
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

static const char *scn__skip_space(const char *s, const char *end) {
    while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++;
    return s;
}

/* A quoted Python string at *ps into buf (truncated to cap); 0 if malformed. */
static int scn__npy_string(const char **ps, const char *end, char *buf, size_t cap) {
    const char *s = *ps;
    char q;
    size_t n = 0;
    if (s >= end || (*s != '\'' && *s != '"')) return 0;
    q = *s++;
    while (s < end && *s != q) {
        if (n + 1 < cap) buf[n++] = *s;
        s++;
    }
    if (s >= end) return 0;
    buf[n] = '\0';
    *ps = s + 1;
    return 1;
}

/* A shape tuple "(a, b, )" into h; returns an error message or NULL. */
static const char *scn__npy_shape(const char **ps, const char *end, scn__npy_header *h) {
    const char *s = scn__skip_space(*ps, end);
    if (s >= end || *s != '(') return "shape is not a tuple";
    s++;
    h->ndim = 0;
    for (;;) {
        uint64_t v = 0;
        int digits = 0;
        s = scn__skip_space(s, end);
        if (s < end && *s == ')') break;
        if (s < end && *s == '-') return "shape has a negative dimension";
        while (s < end && *s >= '0' && *s <= '9') {
            v = v * 10 + (uint64_t)(*s++ - '0');
            if (v > 0x7fffffff) return "shape has a dimension over 2^31";
            digits++;
        }
        if (!digits) return "shape holds something other than integers";
        if (h->ndim == SCN_MAX_DIMS) return "shape has more than 4 dimensions";
        h->shape[h->ndim++] = (int)v;
        s = scn__skip_space(s, end);
        if (s < end && *s == 'L') s++;          /* Python 2 long suffix */
        s = scn__skip_space(s, end);
        if (s < end && *s == ',') { s++; continue; }
        if (s < end && *s == ')') break;
        return "shape tuple is malformed";
    }
    *ps = s + 1;
    return NULL;
}

/* Parses the header dict text [s, end); returns an error message or NULL. */
static const char *scn__npy_dict(const char *s, const char *end, scn__npy_header *h) {
    char key[32], val[32];
    memset(h, 0, sizeof *h);
    s = scn__skip_space(s, end);
    if (s >= end || *s != '{') return "header is not a dict";
    s++;
    for (;;) {
        s = scn__skip_space(s, end);
        if (s < end && *s == '}') break;
        if (!scn__npy_string(&s, end, key, sizeof key)) return "header dict is malformed";
        s = scn__skip_space(s, end);
        if (s >= end || *s != ':') return "header dict is malformed";
        s = scn__skip_space(s + 1, end);
        if (!strcmp(key, "descr")) {
            if (!scn__npy_string(&s, end, val, sizeof val)) return "descr is not a string";
            if (!strcmp(val, "<f4") || (scn__little_endian() && !strcmp(val, "=f4")))
                h->elem = 4;
            else if (!strcmp(val, "<f8") || (scn__little_endian() && !strcmp(val, "=f8")))
                h->elem = 8;
            else return "dtype is not little-endian float32 ('<f4') or float64 ('<f8')";
            h->have_descr = 1;
        } else if (!strcmp(key, "fortran_order")) {
            if (end - s >= 4 && !memcmp(s, "True", 4)) { h->fortran = 1; s += 4; }
            else if (end - s >= 5 && !memcmp(s, "False", 5)) { h->fortran = 0; s += 5; }
            else return "fortran_order is neither True nor False";
            h->have_order = 1;
        } else if (!strcmp(key, "shape")) {
            const char *err = scn__npy_shape(&s, end, h);
            if (err) return err;
            h->have_shape = 1;
        } else {
            return "header has an unknown key";
        }
        s = scn__skip_space(s, end);
        if (s < end && *s == ',') { s++; continue; }
        if (s < end && *s == '}') break;
        return "header dict is malformed";
    }
    if (!h->have_descr) return "header has no 'descr'";
    if (!h->have_order) return "header has no 'fortran_order'";
    if (!h->have_shape) return "header has no 'shape'";
    if (h->fortran) return "array is in Fortran order (only C order is supported)";
    return NULL;
}

static float scn__read_f32le(const unsigned char *p) {
    uint32_t u = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                 (uint32_t)p[3] << 24;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static double scn__read_f64le(const unsigned char *p) {
    uint64_t u = 0;
    double d;
    int i;
    for (i = 7; i >= 0; i--) u = u << 8 | p[i];
    memcpy(&d, &u, 8);
    return d;
}

SCNDEF scn_tensor *scn_npy_parse(const void *bytes, size_t len, const char *name) {
    const unsigned char *b = (const unsigned char *)bytes;
    size_t hlen, start, have, need, i;
    scn__npy_header h;
    scn_tensor *t;
    const char *err;
    SCN_ASSERT(bytes || len == 0);
    if (!name) name = ".npy data";
    if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0) {
        scn__fail(SCN_ERR_FORMAT, "%s: not a .npy file (no \\x93NUMPY magic)", name);
        return NULL;
    }
    if (b[7] != 0 || b[6] < 1 || b[6] > 3) {
        scn__fail(SCN_ERR_FORMAT, "%s: .npy format version %d.%d is not supported "
                  "(1.0, 2.0, 3.0 are)", name, b[6], b[7]);
        return NULL;
    }
    if (b[6] == 1) {
        hlen = (size_t)b[8] | (size_t)b[9] << 8;
        start = 10;
    } else {
        if (len < 12) {
            scn__fail(SCN_ERR_FORMAT, "%s: truncated in the header length", name);
            return NULL;
        }
        hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
        start = 12;
    }
    if (hlen > len - start) {
        scn__fail(SCN_ERR_FORMAT, "%s: header length %zu exceeds the file (%zu bytes)",
                  name, hlen, len);
        return NULL;
    }
    err = scn__npy_dict((const char *)b + start, (const char *)b + start + hlen, &h);
    if (err) {
        scn__fail(SCN_ERR_FORMAT, "%s: %s", name, err);
        return NULL;
    }
    if (h.ndim == 0) { h.ndim = 1; h.shape[0] = 1; }     /* 0-d array: one value */
    have = len - start - hlen;
    need = h.elem;
    for (i = 0; i < (size_t)h.ndim; i++)
        if (!scn__mul_ok(need, (size_t)h.shape[i], &need)) {
            scn__fail(SCN_ERR_FORMAT, "%s: shape is too large", name);
            return NULL;
        }
    if (need != have) {
        scn__fail(SCN_ERR_FORMAT, "%s: header's shape needs %zu data bytes but the file "
                  "holds %zu", name, need, have);
        return NULL;
    }
    t = scn_tensor_create(h.ndim, h.shape);
    if (!t) {
        scn__fail(SCN_ERR_NOMEM, "%s: no memory for %zu bytes", name, need);
        return NULL;
    }
    b += start + hlen;
    for (i = 0; i < t->size; i++)
        t->data[i] = h.elem == 4 ? scn__read_f32le(b + 4 * i) : (float)scn__read_f64le(b + 8 * i);
    return t;
}

#ifndef SCN_NO_STDIO
#include <sys/stat.h>
#ifndef S_ISDIR
#define S_ISDIR(m) (((m) & S_IFMT) == S_IFDIR)
#define S_ISREG(m) (((m) & S_IFMT) == S_IFREG)
#endif

/* POSIX systems write outputs through open/fsync/rename and lock them with
 * fcntl. lstat, readlink and ftruncate are POSIX.1-2001: a strict ISO
 * build (-std=c99 with no feature macro) does not declare them and takes
 * the stdio path below instead (see the header comment of section 4). */
#if defined(__APPLE__) || (defined(__unix__) && (!defined(__STRICT_ANSI__) || \
    (defined(_POSIX_C_SOURCE) && _POSIX_C_SOURCE >= 200112L) || \
    defined(_XOPEN_SOURCE) || defined(_GNU_SOURCE) || defined(_DEFAULT_SOURCE)))
#define SCN__POSIX_FILES 1
#include <fcntl.h>
#include <unistd.h>

/* What a file that is not a regular one is, for messages. */
static const char *scn__file_kind(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISFIFO(m)) return "a FIFO";
    return "not a regular file";
}
#endif

/* The largest file the .npy and checkpoint readers take. */
#define SCN__FILE_MAX ((size_t)-1 / 4)

/* The size scn__open_input reports for a pipe or FIFO: not known. */
#define SCN__SIZE_STREAM ((size_t)-1)

/* Opens an input for reading after checking what it is: a regular file
 * (*size its size), or with `streams` a pipe or FIFO (*size =
 * SCN__SIZE_STREAM; readers that take one bound what they read). Devices
 * are refused (/dev/zero never ends), directories too. A FIFO must not
 * block the open: with no writer it then reads as empty at once. *missing,
 * if given, is set when path does not exist. NULL with the message
 * otherwise. */
static FILE *scn__open_input(const char *path, int streams, size_t *size, int *missing) {
    struct stat st;
    FILE *f;
    const char *kind = "not a regular file";
#ifdef SCN__POSIX_FILES
    /* O_NONBLOCK: opening a FIFO that has no writer returns at once; fstat
     * then examines what was opened, so nothing can swap in after the
     * check. The flag is cleared before anything is read. */
    int fd = open(path, O_RDONLY | O_NONBLOCK), ok;
    if (missing) *missing = 0;
    if (fd < 0) {
        if (missing) *missing = errno == ENOENT;
        scn__fail(SCN_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
        return NULL;
    }
    ok = fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || (streams && S_ISFIFO(st.st_mode)));
    if (!ok && fstat(fd, &st) == 0) kind = scn__file_kind(st.st_mode);
    if (!ok || fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0 ||
        !(f = fdopen(fd, "rb"))) {
        close(fd);
        if (!ok)
            scn__fail(SCN_ERR_IO, "%s: %s; this input is read only from a regular file%s",
                      path, kind, streams ? " or a pipe" : "");
        else
            scn__fail(SCN_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
        return NULL;
    }
    *size = S_ISREG(st.st_mode) ? (size_t)st.st_size : SCN__SIZE_STREAM;
#else
    if (missing) *missing = 0;
    if (stat(path, &st) != 0) {
        if (missing) *missing = errno == ENOENT;
        scn__fail(SCN_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
        return NULL;
    }
    (void)streams;                      /* without POSIX, no FIFO that would not block */
    if (!S_ISREG(st.st_mode)) {
        scn__fail(SCN_ERR_IO, "%s: %s; inputs are read only from regular files", path, kind);
        return NULL;
    }
    if (!(f = fopen(path, "rb"))) {
        scn__fail(SCN_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
        return NULL;
    }
    *size = (size_t)st.st_size;
#endif
    return f;
}

/* Reads a whole regular file or pipe of at most max bytes, in growing
 * chunks (a file's size is checked first, but it may change while it is
 * read). *missing, if given, is set when the file does not exist. */
static unsigned char *scn__read_file(const char *path, size_t max, size_t *len,
                                     int *missing) {
    FILE *f;
    unsigned char *buf = NULL, *grown;
    size_t cap = 0, got = 0, size;
    if (!(f = scn__open_input(path, 1, &size, missing))) return NULL;
    if (size == SCN__SIZE_STREAM && max > (size_t)SCN_STREAM_MAX) max = SCN_STREAM_MAX;
    if (size != SCN__SIZE_STREAM && size > max) {
        fclose(f);
        scn__fail(SCN_ERR_FORMAT, "%s: %zu bytes is over the %zu-byte limit", path, size, max);
        return NULL;
    }
    for (;;) {
        if (got == cap) {
            if (cap == max + 1) {
                scn__fail(SCN_ERR_FORMAT, "%s: larger than the %zu-byte limit%s", path, max,
                          size == SCN__SIZE_STREAM ? " on a pipe (SCN_STREAM_MAX)" : "");
                break;
            }
            cap = cap ? cap * 2 : (size_t)1 << 16;
            if (cap > max + 1) cap = max + 1;
            grown = (unsigned char *)SCN_REALLOC(buf, cap);
            if (!grown) {
                scn__fail(SCN_ERR_NOMEM, "%s: no memory to read %zu bytes", path, cap);
                break;
            }
            buf = grown;
        }
        got += fread(buf + got, 1, cap - got, f);
        if (got < cap) {
            if (ferror(f)) {
                scn__fail(SCN_ERR_IO, "%s: read error", path);
                break;
            }
            if (got == 0 && size == SCN__SIZE_STREAM) {
                scn__fail(SCN_ERR_IO, "%s: a pipe or FIFO that gave no data (nothing "
                          "writing to it?)", path);
                break;
            }
            fclose(f);
            *len = got;
            return buf;
        }
    }
    fclose(f);
    SCN_FREE(buf);
    return NULL;
}

SCNDEF scn_tensor *scn_npy_load(const char *path) {
    size_t len;
    unsigned char *buf;
    scn_tensor *t;
    SCN_ASSERT(path);
    buf = scn__read_file(path, SCN__FILE_MAX, &len, NULL);
    if (!buf) return NULL;
    t = scn_npy_parse(buf, len, path);
    SCN_FREE(buf);
    return t;
}

/* ---- output files: one path for everything the library writes ---- */

/* The longest output path (after following symlinks) the writers take. */
#define SCN__PATH_MAX 4096

#ifdef SCN__POSIX_FILES
/* Locks on the open file (Linux, with _GNU_SOURCE) also exclude a second
 * take from the same process; classic record locks are per process. */
#ifdef F_OFD_SETLK
#define SCN__SETLK F_OFD_SETLK
#else
#define SCN__SETLK F_SETLK
#endif

/* The file path names, following symlinks by hand (realpath() fails on a
 * link whose target does not exist yet, which is a fine output), into
 * out (cap bytes). An existing file that is not a regular one is refused:
 * renaming over a device node or into a directory is never what a
 * caller meant. */
static scn_status scn__output_resolve(const char *path, char *out, size_t cap) {
    char link[SCN__PATH_MAX];
    struct stat st;
    int hops;
    if (!path[0]) return scn__fail(SCN_ERR_ARG, "output path is empty");
    if (strlen(path) >= cap)
        return scn__fail(SCN_ERR_ARG, "%s: path longer than %zu bytes", path, cap - 1);
    strcpy(out, path);
    for (hops = 0;; hops++) {
        ssize_t n;
        size_t dirlen;
        const char *slash;
        if (lstat(out, &st) != 0) {
            if (errno == ENOENT) return SCN_OK;     /* the write creates it */
            return scn__fail(SCN_ERR_IO, "%s: cannot examine %s (%s)", path, out,
                             strerror(errno));
        }
        if (!S_ISLNK(st.st_mode)) break;
        if (hops == 40)
            return scn__fail(SCN_ERR_IO, "%s: too many levels of symbolic links", path);
        n = readlink(out, link, sizeof link);
        if (n < 0)
            return scn__fail(SCN_ERR_IO, "%s: cannot read the link %s (%s)", path, out,
                             strerror(errno));
        if ((size_t)n == sizeof link)
            return scn__fail(SCN_ERR_ARG, "%s: the link %s is too long", path, out);
        link[n] = '\0';
        /* a relative link is relative to the directory holding the link */
        slash = strrchr(out, '/');
        dirlen = link[0] != '/' && slash ? (size_t)(slash - out) + 1 : 0;
        if (dirlen + (size_t)n >= cap)
            return scn__fail(SCN_ERR_ARG, "%s: the link %s leads to a path longer than %zu "
                             "bytes", path, out, cap - 1);
        memcpy(out + dirlen, link, (size_t)n + 1);
    }
    if (!S_ISREG(st.st_mode))
        return scn__fail(SCN_ERR_IO, "%s: %s is %s, not a regular file; outputs are "
                         "written only as regular files", path, out,
                         scn__file_kind(st.st_mode));
    return SCN_OK;
}

/* Creates a new temporary next to target (TARGET.tmp.PID.N) into tmp;
 * returns its descriptor, or -1 with the message. O_EXCL makes the name
 * unique even when two threads draw the same number. */
static int scn__tmp_create(const char *path, const char *target, char *tmp, size_t cap) {
    static SCN__TLS unsigned long counter;
    int tries;
    for (tries = 0; tries < 1000; tries++) {
        int fd;
        if (snprintf(tmp, cap, "%s.tmp.%ld.%lu", target, (long)getpid(), counter++) >=
            (int)cap) {
            scn__fail(SCN_ERR_ARG, "%s: path too long for a temporary", path);
            return -1;
        }
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd >= 0) return fd;
        if (errno == EEXIST) continue;
        if (errno == ENOENT || errno == ENOTDIR)
            scn__fail(SCN_ERR_IO, "%s: the directory of %s does not exist", path, target);
        else
            scn__fail(SCN_ERR_IO, "%s: cannot create a file in the directory of %s (%s)",
                      path, target, strerror(errno));
        return -1;
    }
    scn__fail(SCN_ERR_IO, "%s: no free temporary name next to %s", path, target);
    return -1;
}

static scn_status scn__write_atomic(const char *path, const void *data, size_t len) {
    char target[SCN__PATH_MAX], tmp[SCN__PATH_MAX + 64];
    const unsigned char *p = (const unsigned char *)data;
    struct stat old;
    int fd, err = 0, dfd;
    char *slash;
    scn_status s = scn__output_resolve(path, target, sizeof target);
    if (s) return s;
    fd = scn__tmp_create(path, target, tmp, sizeof tmp);
    if (fd < 0) return SCN_ERR_IO;
    /* the replacement keeps the old file's permissions; failing to copy
     * them (another owner's file) is no reason to lose the data */
    if (stat(target, &old) == 0) (void)fchmod(fd, old.st_mode & 07777);
    while (len > 0) {
        ssize_t w = write(fd, p, len < ((size_t)1 << 30) ? len : ((size_t)1 << 30));
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { err = w < 0 ? errno : ENOSPC; break; }
        p += w;
        len -= (size_t)w;
    }
    if (!err && fsync(fd) != 0) err = errno;
    if (close(fd) != 0 && !err) err = errno;
    if (err) {
        unlink(tmp);
        return scn__fail(SCN_ERR_IO, "%s: write failed (%s); the file there is left as "
                         "it was", path, strerror(err));
    }
    if (rename(tmp, target) != 0) {
        err = errno;
        unlink(tmp);
        return scn__fail(SCN_ERR_IO, "%s: cannot rename %s over %s (%s); the file there "
                         "is left as it was", path, tmp, target, strerror(err));
    }
    /* the rename lives in the directory: sync it too, so a crash now keeps
     * the new file (best effort: some file systems refuse a directory) */
    slash = strrchr(target, '/');
    if (slash == target) slash++;
    if (slash) *slash = '\0';
    dfd = open(slash ? target : ".", O_RDONLY);
    if (dfd >= 0) { (void)fsync(dfd); close(dfd); }
    return SCN_OK;
}

SCNDEF scn_status scn_output_check(const char *path) {
    char target[SCN__PATH_MAX], tmp[SCN__PATH_MAX + 64];
    int fd;
    scn_status s;
    SCN_ASSERT(path);
    s = scn__output_resolve(path, target, sizeof target);
    if (s) return s;
    fd = scn__tmp_create(path, target, tmp, sizeof tmp);
    if (fd < 0) return SCN_ERR_IO;
    close(fd);
    unlink(tmp);
    return SCN_OK;
}

SCNDEF scn_status scn_output_lock_take(const char *path, scn_output_lock *lk) {
    char target[SCN__PATH_MAX], name[SCN__PATH_MAX + 8];
    scn_status s;
    int tries;
    SCN_ASSERT(path && lk);
    lk->fd = -1;
    lk->path = NULL;
    s = scn__output_resolve(path, target, sizeof target);
    if (s) return s;
    if (snprintf(name, sizeof name, "%s.lock", target) >= (int)sizeof name)
        return scn__fail(SCN_ERR_ARG, "%s: path too long for a lock file", path);
    /* a holder removes the file on release, possibly between our open and
     * our lock: then the lock is on a name nobody else sees, so try again */
    for (tries = 0; tries < 8; tries++) {
        struct stat st, now;
        struct flock fl;
        char pid[32];
        int fd = open(name, O_RDWR | O_CREAT | O_NOFOLLOW, 0666), n;
        if (fd < 0)
            return scn__fail(SCN_ERR_IO, "%s: cannot open the lock file %s (%s)", path, name,
                             strerror(errno));
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            return scn__fail(SCN_ERR_IO, "%s: the lock file %s is not a regular file", path,
                             name);
        }
        memset(&fl, 0, sizeof fl);
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;                     /* start 0, length 0: all of it */
        if (fcntl(fd, SCN__SETLK, &fl) != 0) {
            int err = errno;
            if (err == EACCES || err == EAGAIN) {
                long holder = 0;
                n = (int)read(fd, pid, sizeof pid - 1);
                close(fd);
                if (n > 0) { pid[n] = '\0'; holder = strtol(pid, NULL, 10); }
                if (holder > 0)
                    return scn__fail(SCN_ERR_IO, "%s: another run (pid %ld) is writing this "
                                     "output (it holds %s)", path, holder, name);
                return scn__fail(SCN_ERR_IO, "%s: another run is writing this output (it "
                                 "holds %s; its pid is not written yet)", path, name);
            }
            close(fd);
            return scn__fail(SCN_ERR_IO, "%s: cannot lock %s (%s)", path, name,
                             strerror(err));
        }
        if (stat(name, &now) != 0 || now.st_dev != st.st_dev || now.st_ino != st.st_ino) {
            close(fd);
            continue;
        }
        n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) != 0 || write(fd, pid, (size_t)n) != n) {
            s = scn__fail(SCN_ERR_IO, "%s: cannot write to the lock file %s (%s)", path,
                          name, strerror(errno));
            unlink(name);
            close(fd);
            return s;
        }
        lk->path = (char *)scn__calloc(strlen(name) + 1, 1, "lock file name");
        if (!lk->path) {
            unlink(name);
            close(fd);
            return SCN_ERR_NOMEM;
        }
        strcpy(lk->path, name);
        lk->fd = fd;
        return SCN_OK;
    }
    return scn__fail(SCN_ERR_IO, "%s: the lock file %s keeps being replaced", path, name);
}

SCNDEF void scn_output_lock_release(scn_output_lock *lk) {
    SCN_ASSERT(lk);
    if (!lk->path) return;
    /* unlink while still holding the lock, so whoever opened the old file
     * meanwhile finds it replaced (see scn_output_lock_take) */
    unlink(lk->path);
    close(lk->fd);
    SCN_FREE(lk->path);
    lk->path = NULL;
    lk->fd = -1;
}
#else
/* Without POSIX: stdio only. The file is still written whole before it
 * replaces the old one, but nothing is checked about what path is, and
 * rename() may not replace an existing file (Windows), so it is removed
 * first. */
static scn_status scn__write_atomic(const char *path, const void *data, size_t len) {
    static SCN__TLS unsigned long counter;
    char tmp[SCN__PATH_MAX + 64];
    FILE *f;
    int ok;
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%lu", path, counter++) >= (int)sizeof tmp)
        return scn__fail(SCN_ERR_ARG, "%s: path too long for a temporary", path);
    f = fopen(tmp, "wb");
    if (!f) return scn__fail(SCN_ERR_IO, "%s: cannot create %s", path, tmp);
    ok = fwrite(data, 1, len, f) == len && fflush(f) == 0;
    if (fclose(f) != 0) ok = 0;
    if (!ok) {
        remove(tmp);
        return scn__fail(SCN_ERR_IO, "%s: write failed (disk full?); the file there is "
                         "left as it was", path);
    }
    remove(path);
    if (rename(tmp, path) != 0) {
        remove(tmp);
        return scn__fail(SCN_ERR_IO, "%s: cannot rename %s over it", path, tmp);
    }
    return SCN_OK;
}

SCNDEF scn_status scn_output_check(const char *path) {
    char tmp[SCN__PATH_MAX + 64];
    FILE *f;
    SCN_ASSERT(path);
    if (snprintf(tmp, sizeof tmp, "%s.tmp.check", path) >= (int)sizeof tmp)
        return scn__fail(SCN_ERR_ARG, "%s: path too long for a temporary", path);
    if (!(f = fopen(tmp, "wb"))) return scn__fail(SCN_ERR_IO, "%s: cannot create %s", path, tmp);
    fclose(f);
    remove(tmp);
    return SCN_OK;
}

/* No portable non-blocking lock without POSIX: taking succeeds and holds
 * nothing, so a program runs as it would without the lock. */
SCNDEF scn_status scn_output_lock_take(const char *path, scn_output_lock *lk) {
    SCN_ASSERT(path && lk);
    lk->fd = -1;
    lk->path = NULL;
    return SCN_OK;
}

SCNDEF void scn_output_lock_release(scn_output_lock *lk) {
    SCN_ASSERT(lk);
    lk->fd = -1;
}
#endif

SCNDEF scn_status scn_npy_save(const char *path, const scn_tensor *t) {
    char header[256];
    int len, i;
    size_t data_bytes, total, k;
    unsigned char *img;
    scn_status s;
    SCN_ASSERT(path && t && (t->data || t->size == 0));
    len = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (i = 0; i < t->ndim; i++)
        len += snprintf(header + len, sizeof header - len, "%d,%s", t->shape[i],
                        i + 1 < t->ndim ? " " : "");
    if (t->ndim > 1) len--;                 /* (2, 3) but (5,) */
    len += snprintf(header + len, sizeof header - len, "), }");
    while ((10 + len + 1) % 64 != 0) header[len++] = ' ';
    header[len++] = '\n';
    /* the whole image in memory first: scn__write_atomic replaces the old
     * file only once every byte of the new one is on disk */
    if (!scn__mul_ok(t->size, sizeof(float), &data_bytes) ||
        data_bytes > (size_t)-1 - 10 - (size_t)len)
        return scn__fail(SCN_ERR_ARG, "%s: tensor of %zu values is too large to save",
                         path, t->size);
    total = 10 + (size_t)len + data_bytes;
    img = (unsigned char *)scn__calloc(total, 1, path);
    if (!img) return SCN_ERR_NOMEM;
    memcpy(img, "\x93NUMPY\x01\x00", 8);
    img[8] = (unsigned char)(len & 0xff);
    img[9] = (unsigned char)(len >> 8);
    memcpy(img + 10, header, (size_t)len);
    if (scn__little_endian() && data_bytes)
        memcpy(img + 10 + len, t->data, data_bytes);
    else
        for (k = 0; k < t->size; k++) {
            uint32_t u;
            unsigned char *le = img + 10 + len + 4 * k;
            memcpy(&u, &t->data[k], 4);
            le[0] = (unsigned char)u; le[1] = (unsigned char)(u >> 8);
            le[2] = (unsigned char)(u >> 16); le[3] = (unsigned char)(u >> 24);
        }
    s = scn__write_atomic(path, img, total);
    SCN_FREE(img);
    return s;
}
#endif

/* ======================================================================
 * 5. Sparse coding solvers
 * ====================================================================== */

#define SCN__DEFAULT_TOL      1e-5f
#define SCN__COARSE_TOL       3e-2f  /* first stage when polishing */
#define SCN__DEFAULT_MAX_ITER 2000
#define SCN__KAPPA_MARGIN     1e-5   /* relative; see scn_en_lipschitz */
#define SCN__TRIDIAG_PAR      768    /* rows below which a reduction step runs on one thread */
#define SCN__POLISH_ROUNDS    64     /* active-set changes per column */
#define SCN__KKT_TOL          1e-6   /* relative to the column's scale */


/* One buffer of a call's scratch: where to store its address, its size.
 * Sizes are counted in 64 bits, so a size a 32-bit size_t would wrap (n P
 * floats of a large batch) is seen and refused by scn__carve. */
typedef struct scn__piece {
    void **ptr;
    uint64_t bytes;
} scn__piece;

#define SCN__ALIGN(b) (((b) + 63) & ~(uint64_t)63)

/* The most atoms a dictionary may have: 2^24 (a Gram matrix of 2 PB). */
#define SCN__ATOMS_MAX (1 << 24)

/* Lays the pieces out, 64-byte aligned, in one block: the workspace's when
 * the caller gave one (grown if too small, kept across calls), else a new
 * block returned in *owned for the caller to free. */
static scn_status scn__carve(scn_workspace *ws, scn__piece *pc, int count, void **owned,
                             const char *who) {
    uint64_t sum = 64;
    size_t total, off = 0;
    unsigned char *base;
    int i;
    *owned = NULL;
    /* with m, P < 2^31, n <= 2^24 (SCN__ATOMS_MAX) and at most 256 threads
     * every piece is below 2^62 bytes and all of them together below 2^63,
     * so the sum does not wrap before the test */
    for (i = 0; i < count && sum <= SIZE_MAX; i++) sum += SCN__ALIGN(pc[i].bytes);
    if (sum > SIZE_MAX)
        return scn__fail(SCN_ERR_NOMEM, "%s: %llu bytes of scratch needed, more than this "
                         "target's memory addresses (%zu-bit size_t)", who,
                         (unsigned long long)sum, sizeof(size_t) * 8);
    total = (size_t)sum;
    if (ws && ws->size < total) {
        SCN_FREE(ws->data);
        ws->data = SCN_MALLOC(total);
        ws->size = ws->data ? total : 0;
    }
    base = (unsigned char *)(ws ? ws->data : (*owned = SCN_MALLOC(total)));
    if (!base) return scn__fail(SCN_ERR_NOMEM, "%s: could not allocate %zu bytes of "
                                "scratch", who, total);
    off = (size_t)(64 - (uintptr_t)base % 64) % 64;
    for (i = 0; i < count; i++) {
        *pc[i].ptr = base + off;
        off += (size_t)SCN__ALIGN(pc[i].bytes);
    }
    return SCN_OK;
}

/* What one dictionary gives the solver and the backward pass, kept in a
 * workspace while D, lambda2 and the microkernel stay the same. */
typedef struct scn__dict {
    int m, n, mr;
    float lambda2;
    float *D;                   /* the copy the next call is compared with */
    double *Dt, *Gd;            /* D^T (n x m) and D^T D + lambda2 I, in double */
    double kappa;               /* the step bound; 0 until a solve needs it */
    float *apack;               /* I - Gd / kappa in the kernel's MR-row panels */
} scn__dict;

static void scn__dict_free(scn__dict *c) {
    if (!c) return;
    SCN_FREE(c->D);
    SCN_FREE(c->Dt);
    SCN_FREE(c->Gd);
    SCN_FREE(c->apack);
    SCN_FREE(c);
}

SCNDEF void scn_workspace_free(scn_workspace *ws) {
    if (!ws) return;
    SCN_FREE(ws->data);
    scn__dict_free((scn__dict *)ws->dict);
    ws->data = NULL;
    ws->dict = NULL;
    ws->size = 0;
}

static scn_status scn__en_check(const char *who, const float *D, int m, int n, int P,
                                const scn_solve_desc *d) {
    size_t at;
    if (m < 1 || n < 1 || P < 1)
        return scn__fail(SCN_ERR_ARG, "%s: sizes m = %d, n = %d, P = %d must be positive",
                         who, m, n, P);
    if (n > SCN__ATOMS_MAX)     /* the scratch sizes of scn__carve stay below 2^63 */
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
    if (!scn__all_finite(D, (size_t)m * n, &at))
        return scn__fail(SCN_ERR_NUMERIC, "%s: dictionary entry (%zu, %zu) is %g", who,
                         at / n, at % n, (double)D[at]);
    return SCN_OK;
}

/* The input X is not scanned up front (it is the largest operand, and a
 * NaN or Inf in it reaches D^T X and dD, which are checked): when one of
 * those fails, this names the input entry if that is the cause. */
static scn_status scn__en_input_check(const char *who, const float *X, int m, int P) {
    size_t at;
    if (!scn__all_finite(X, (size_t)m * P, &at))
        return scn__fail(SCN_ERR_NUMERIC, "%s: input entry (%zu, %zu) is %g", who,
                         at / P, at % P, (double)X[at]);
    return SCN_OK;
}

/* Dt (n x m) = D^T in double, and Gd (n x n) = D^T D + lambda2 I in double:
 * the polishing and backward solves need the Gram more exactly than float
 * when D_L^T D_L + lambda2 I is ill-conditioned. */
static void scn__gram_double(const float *D, int m, int n, float lambda2,
                             double *Dt, double *Gd) {
    int i, j;
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++) Dt[(size_t)j * m + i] = D[(size_t)i * n + j];
    SCN__OMP(parallel for schedule(dynamic, 8) if ((size_t)n * n * m > SCN__OMP_MIN)
             num_threads(scn__threads()))
    for (j = 0; j < n; j++) {
        int k, r;
        for (k = 0; k <= j; k++) {
            const double *a = Dt + (size_t)j * m, *b = Dt + (size_t)k * m;
            double s = 0.0;
            for (r = 0; r < m; r++) s += a[r] * b[r];
            Gd[(size_t)j * n + k] = s;
        }
    }
    for (j = 0; j < n; j++) {
        for (i = 0; i < j; i++) Gd[(size_t)i * n + j] = Gd[(size_t)j * n + i];
        Gd[(size_t)j * n + j] += lambda2;
    }
}

/* Householder reduction of the symmetric S (n x n, destroyed) to a
 * tridiagonal matrix with diagonal d and sub-diagonal e (Golub & Van Loan,
 * Algorithm 8.3.1). Orthogonal similarity: the eigenvalues are kept. The
 * reflection of step k, H_k = I - 2 v v^T / |v|^2 on rows k+1..n-1, is left
 * in S's column k below the diagonal (zero: H_k = I), where
 * scn__tridiag_basis finds it. */
static void scn__tridiagonalize(double *S, int n, double *d, double *e, double *v,
                                double *w) {
    int k, i, j;
    for (k = 0; k + 2 < n; k++) {
        int len = n - k - 1;
        double norm = 0.0, alpha, vnorm2 = 0.0, beta, pv = 0.0;
        for (i = 0; i < len; i++) {
            v[i] = S[(size_t)(k + 1 + i) * n + k];
            norm += v[i] * v[i];
        }
        norm = sqrt(norm);
        d[k] = S[(size_t)k * n + k];
        for (i = 0; i < len; i++) S[(size_t)(k + 1 + i) * n + k] = 0.0;
        if (norm == 0.0) { e[k] = 0.0; continue; }
        alpha = v[0] > 0 ? -norm : norm;            /* avoid cancellation */
        v[0] -= alpha;
        for (i = 0; i < len; i++) vnorm2 += v[i] * v[i];
        e[k] = alpha;
        if (vnorm2 == 0.0) continue;
        for (i = 0; i < len; i++) S[(size_t)(k + 1 + i) * n + k] = v[i];
        beta = 2.0 / vnorm2;
        /* w = beta S22 v, then w -= (beta/2)(w.v) v, S22 -= v w^T + w v^T; two
         * parallel regions per k only where each is worth the barrier (on
         * a loaded machine a barrier can cost more than a 500 x 500 update) */
        SCN__OMP(parallel for schedule(static) private(j) if (len > SCN__TRIDIAG_PAR)
                 num_threads(scn__threads()))
        for (i = 0; i < len; i++) {
            const double *row = S + (size_t)(k + 1 + i) * n + k + 1;
            double s = 0.0;
            for (j = 0; j < len; j++) s += row[j] * v[j];
            w[i] = beta * s;
        }
        for (i = 0; i < len; i++) pv += w[i] * v[i];
        for (i = 0; i < len; i++) w[i] -= 0.5 * beta * pv * v[i];
        SCN__OMP(parallel for schedule(static) private(j) if (len > SCN__TRIDIAG_PAR)
                 num_threads(scn__threads()))
        for (i = 0; i < len; i++) {
            double *row = S + (size_t)(k + 1 + i) * n + k + 1;
            for (j = 0; j < len; j++) row[j] -= v[i] * w[j] + w[i] * v[j];
        }
    }
    if (n >= 2) {
        d[n - 2] = S[(size_t)(n - 2) * n + n - 2];
        e[n - 2] = S[(size_t)(n - 1) * n + n - 2];
    }
    d[n - 1] = S[(size_t)(n - 1) * n + n - 1];
}

/* Q = H_0 H_1 ... H_{n-3} (n x n) from the reflections scn__tridiagonalize
 * left in S, accumulated from the last (Golub & Van Loan, section 5.1.6):
 * H_k only touches rows and columns k+1.. of the product so far. Columns
 * are split among threads, each summing in the same order: the result does
 * not depend on the thread count. */
static void scn__tridiag_basis(const double *S, int n, double *Q, double *w) {
    int k, i;
    memset(Q, 0, (size_t)n * n * sizeof *Q);
    for (i = 0; i < n; i++) Q[(size_t)i * n + i] = 1.0;
    for (k = n - 3; k >= 0; k--) {
        int len = n - k - 1, jb;
        double vnorm2 = 0.0, beta;
        for (i = 0; i < len; i++) {
            double vi = S[(size_t)(k + 1 + i) * n + k];
            vnorm2 += vi * vi;
        }
        if (vnorm2 == 0.0) continue;
        beta = 2.0 / vnorm2;
        /* Q22 -= beta v (v^T Q22), 64 columns at a time */
        SCN__OMP(parallel for schedule(static) private(i) if (len > SCN__TRIDIAG_PAR / 4)
                 num_threads(scn__threads()))
        for (jb = 0; jb < len; jb += 64) {
            int j, je = jb + 64 < len ? jb + 64 : len;
            double *wj = w + jb;
            for (j = jb; j < je; j++) w[j] = 0.0;
            for (i = 0; i < len; i++) {
                double vi = S[(size_t)(k + 1 + i) * n + k];
                const double *row = Q + (size_t)(k + 1 + i) * n + k + 1;
                for (j = jb; j < je; j++) w[j] += vi * row[j];
            }
            for (i = 0; i < len; i++) {
                double bv = beta * S[(size_t)(k + 1 + i) * n + k];
                double *row = Q + (size_t)(k + 1 + i) * n + k + 1;
                for (j = jb; j < je; j++) row[j] -= bv * wj[j - jb];
            }
        }
    }
}

/* (a, b) <- (c a - s b, s a + c b): a Givens rotation of two rows (restrict:
 * the compiler vectorises it without a run-time overlap test) */
static void scn__rotate_rows(double *SCN__RESTRICT a, double *SCN__RESTRICT b, int n, double c,
                             double s) {
    int k;
    for (k = 0; k < n; k++) {
        double t = b[k];
        b[k] = s * a[k] + c * t;
        a[k] = c * a[k] - s * t;
    }
}

/* Eigenvalues d and eigenvectors of the tridiagonal (d, e) by the implicit
 * QL algorithm with Wilkinson shifts (Golub & Van Loan, section 8.3; QL
 * rather than QR so that the graded matrices a covariance gives converge
 * from the top): on return d holds the eigenvalues, unsorted, and the
 * rotations have been applied to the rows of Zt, so that if Zt held Q^T on
 * entry its row i is the eigenvector of Q T Q^T for d[i]. e (n values,
 * e[i] couples i and i+1) is destroyed. Returns -1 if an eigenvalue takes
 * more than 60 iterations. */
static int scn__tridiag_ql(double *d, double *e, int n, double *Zt) {
    int l, m, i, iter;
    if (n > 0) e[n - 1] = 0.0;
    for (l = 0; l < n; l++) {
        for (iter = 0;; iter++) {
            double g, r, s, c, p, f, b;
            for (m = l; m + 1 < n; m++) {       /* a negligible coupling splits T */
                double dd = fabs(d[m]) + fabs(d[m + 1]);
                if (fabs(e[m]) <= DBL_EPSILON * dd) break;
            }
            if (m == l) break;
            if (iter == 60) return -1;
            /* Wilkinson shift from the leading 2 x 2 block, then the bulge
             * chased from row m up to row l by Givens rotations */
            g = (d[l + 1] - d[l]) / (2.0 * e[l]);
            r = hypot(g, 1.0);
            g = d[m] - d[l] + e[l] / (g + (g >= 0.0 ? r : -r));
            s = c = 1.0;
            p = 0.0;
            for (i = m - 1; i >= l; i--) {
                double *zi = Zt + (size_t)i * n, *zj = zi + n;  /* rows i, i + 1 */
                f = s * e[i];
                b = c * e[i];
                r = hypot(f, g);
                e[i + 1] = r;
                if (r == 0.0) {                 /* underflow: deflate and restart */
                    d[i + 1] -= p;
                    e[m] = 0.0;
                    break;
                }
                s = f / r;
                c = g / r;
                g = d[i + 1] - p;
                r = (d[i] - g) * s + 2.0 * c * b;
                p = s * r;
                d[i + 1] = g + p;
                g = c * r - b;
                scn__rotate_rows(zi, zj, n, c, s);
            }
            if (r == 0.0 && i >= l) continue;
            d[l] -= p;
            e[l] = g;
            e[m] = 0.0;
        }
    }
    return 0;
}

SCNDEF scn_status scn_sym_eigen(const double *A, int n, double *w, double *V) {
    double *S, *e, *v, *t, *Q;
    int i, j;
    SCN_ASSERT(A && w && V && n >= 0);
    for (i = 0; i < n * n; i++)
        if (!isfinite(A[i]))
            return scn__fail(SCN_ERR_NUMERIC, "eigen: A[%d][%d] = %g", i / n, i % n, A[i]);
    if (n == 0) return SCN_OK;
    S = (double *)scn__calloc(2 * (size_t)n * n + 3 * (size_t)n, sizeof(double), "eigen");
    if (!S) return SCN_ERR_NOMEM;
    Q = S + (size_t)n * n; e = Q + (size_t)n * n; v = e + n; t = v + n;
    memcpy(S, A, (size_t)n * n * sizeof *S);
    scn__tridiagonalize(S, n, w, e, v, t);
    scn__tridiag_basis(S, n, Q, t);
    for (i = 0; i < n; i++)                     /* V = Q^T: rows rotate */
        for (j = 0; j < n; j++) V[(size_t)i * n + j] = Q[(size_t)j * n + i];
    if (scn__tridiag_ql(w, e, n, V)) {
        SCN_FREE(S);
        return scn__fail(SCN_ERR_NUMERIC, "eigen: the QL iteration did not converge "
                         "(n = %d)", n);
    }
    for (i = 0; i < n; i++) {                   /* descending, rows with them */
        int best = i;
        for (j = i + 1; j < n; j++) if (w[j] > w[best]) best = j;
        if (best == i) continue;
        t[0] = w[i]; w[i] = w[best]; w[best] = t[0];
        memcpy(S, V + (size_t)i * n, (size_t)n * sizeof *S);
        memcpy(V + (size_t)i * n, V + (size_t)best * n, (size_t)n * sizeof *S);
        memcpy(V + (size_t)best * n, S, (size_t)n * sizeof *S);
    }
    SCN_FREE(S);
    return SCN_OK;
}

/* Number of eigenvalues of the tridiagonal (d, e) below x (Sturm count from
 * the pivots of the LDL^T factorisation of T - x I). */
static int scn__sturm_below(const double *d, const double *e, int n, double x) {
    double q = 1.0;
    int i, count = 0;
    for (i = 0; i < n; i++) {
        q = d[i] - x - (i > 0 ? e[i - 1] * e[i - 1] / q : 0.0);
        if (q == 0.0) q = -1e-300;
        if (q < 0.0) count++;
    }
    return count;
}

/* Largest eigenvalue of (d, e) by bisection from its Gershgorin interval;
 * returns the upper end of the final bracket, so never an underestimate. */
static double scn__tridiag_max_eig(const double *d, const double *e, int n) {
    double lo = d[0], hi = d[0];
    int i, it;
    for (i = 0; i < n; i++) {
        double r = (i > 0 ? fabs(e[i - 1]) : 0.0) + (i + 1 < n ? fabs(e[i]) : 0.0);
        if (d[i] - r < lo) lo = d[i] - r;
        if (d[i] + r > hi) hi = d[i] + r;
    }
    for (it = 0; it < 200 && hi - lo > 1e-14 * fabs(hi); it++) {
        double mid = 0.5 * (lo + hi);
        if (scn__sturm_below(d, e, n, mid) == n) hi = mid;
        else lo = mid;
    }
    return hi;
}

/* kappa from the double Gram Gd (n x n, left intact). */
static scn_status scn__kappa(const double *Gd, int n, double *kappa) {
    double *S = (double *)scn__calloc((size_t)n * n + 4 * (size_t)n, sizeof(double),
                                      "lipschitz bound");
    double *d, *e, *v, *w;
    if (!S) return SCN_ERR_NOMEM;
    d = S + (size_t)n * n; e = d + n; v = e + n; w = v + n;
    memcpy(S, Gd, (size_t)n * n * sizeof *S);
    scn__tridiagonalize(S, n, d, e, v, w);
    *kappa = scn__tridiag_max_eig(d, e, n) * (1.0 + SCN__KAPPA_MARGIN);
    SCN_FREE(S);
    if (!(*kappa > 0.0) || !isfinite(*kappa))
        return scn__fail(SCN_ERR_NUMERIC, "lipschitz bound: lambda_max(D^T D + lambda2 I) "
                         "= %g; the dictionary is zero and lambda2 = 0?", *kappa);
    return SCN_OK;
}

/* A new scn__dict for m x n dictionaries, its contents unset. */
static scn__dict *scn__dict_new(int m, int n) {
    scn__dict *c = (scn__dict *)scn__calloc(1, sizeof *c, "sparse solve");
    if (!c) return NULL;
    memset(c, 0, sizeof *c);
    c->m = m;
    c->n = n;
    c->D = (float *)scn__calloc((size_t)m * n, sizeof(float), "sparse solve");
    c->Dt = (double *)scn__calloc((size_t)m * n, sizeof(double), "sparse solve");
    c->Gd = (double *)scn__calloc((size_t)n * n, sizeof(double), "sparse solve");
    if (c->D && c->Dt && c->Gd) return c;
    scn__dict_free(c);
    return NULL;
}

/* D^T and D^T D + lambda2 I for D: the workspace's when it holds them for
 * this D and lambda2 already, else computed into it (or, with no
 * workspace, into a new one returned in *own for the caller to free).
 * With `step`, also the step bound kappa and FISTA's iteration matrix
 * I - Gd / kappa packed for the current microkernel. */
static scn_status scn__dict_get(scn_workspace *ws, const float *D, int m, int n,
                                float lambda2, int step, scn__dict **out, scn__dict **own) {
    const scn__kernel *k = scn__kernel_pick();
    scn__dict *c = ws ? (scn__dict *)ws->dict : NULL;
    size_t i, nn = (size_t)n * n, mn = (size_t)m * n;
    scn_status s;
    *own = NULL;
    if (!c || c->m != m || c->n != n || c->lambda2 != lambda2 ||
        memcmp(c->D, D, mn * sizeof *D)) {
        if (!c || c->m != m || c->n != n) {
            scn__dict *fresh = scn__dict_new(m, n);
            if (!fresh) return SCN_ERR_NOMEM;
            if (ws) {
                scn__dict_free(c);
                ws->dict = fresh;
            } else {
                *own = fresh;
            }
            c = fresh;
        }
        memcpy(c->D, D, mn * sizeof *D);
        c->lambda2 = lambda2;
        c->kappa = 0.0;
        scn__gram_double(D, m, n, lambda2, c->Dt, c->Gd);
    }
    *out = c;
    if (!step || (c->kappa > 0.0 && c->mr == k->mr)) return SCN_OK;
    if (!c->kappa && (s = scn__kappa(c->Gd, n, &c->kappa))) return s;
    /* a bound beyond float range would make every step below zero */
    if (!(c->kappa <= FLT_MAX)) {
        double kappa = c->kappa;
        c->kappa = 0.0;
        return scn__fail(SCN_ERR_NUMERIC, "sparse solve: the step bound lambda_max(D^T D + "
                         "lambda2 I) = %g exceeds float range (scale the dictionary down)",
                         kappa);
    }
    if (!c->apack || c->mr != k->mr) {
        SCN_FREE(c->apack);
        c->mr = 0;
        c->apack = (float *)scn__calloc((size_t)(n + k->mr - 1) / k->mr * k->mr * n,
                                        sizeof(float), "sparse solve");
        if (!c->apack) return SCN_ERR_NOMEM;
    }
    {
        float *A = (float *)scn__calloc(nn, sizeof(float), "sparse solve");
        if (!A) return SCN_ERR_NOMEM;
        for (i = 0; i < nn; i++)               /* A = I - (D^T D + lambda2 I) / kappa */
            A[i] = (float)((i % (n + 1) == 0 ? 1.0 : 0.0) - c->Gd[i] / c->kappa);
        scn__pack_a(0, A, (size_t)n, 0, n, 0, n, k->mr, c->apack);
        SCN_FREE(A);
    }
    c->mr = k->mr;
    return SCN_OK;
}

SCNDEF scn_status scn_en_lipschitz(const float *D, int m, int n, float lambda2,
                                   double *kappa) {
    double *Dt, *Gd;
    scn_status s;
    size_t at;
    SCN_ASSERT(D && kappa);
    if (m < 1 || n < 1) return scn__fail(SCN_ERR_ARG, "lipschitz: m = %d, n = %d", m, n);
    if (!scn__all_finite(D, (size_t)m * n, &at))
        return scn__fail(SCN_ERR_NUMERIC, "lipschitz: dictionary entry (%zu, %zu) is %g",
                         at / n, at % n, (double)D[at]);
    Dt = (double *)scn__calloc((size_t)n * m + (size_t)n * n, sizeof(double), "lipschitz");
    if (!Dt) return SCN_ERR_NOMEM;
    Gd = Dt + (size_t)n * m;
    scn__gram_double(D, m, n, lambda2, Dt, Gd);
    s = scn__kappa(Gd, n, kappa);
    SCN_FREE(Dt);
    return s;
}

/* ---- FISTA, one column panel at a time ----
 * Columns are independent, so the solver takes them NR at a time (NR the
 * GEMM microkernel's width) and runs every iteration of a panel while its
 * state (n x NR each of b, alpha, gamma and A gamma) stays in cache. The
 * panel's gamma is stored n x NR, which is exactly the microkernel's packed
 * B operand; A = I - (D^T D + lambda2 I)/kappa is packed once per solve.
 * So each iteration is the microkernel over the n/MR row panels of A plus
 * one vectorised pass for threshold, momentum and the convergence test. */

typedef struct scn__fista {
    const scn__kernel *k;
    int n, P;
    const float *apack;             /* A in MR-row panels, n x n */
    const float *DtX;               /* D^T X, n x P */
    float invk, thr, tol;
    int signed_codes, test, warm;
    int threads;                    /* panel states in the scratch (scn__threads) */
    unsigned char *stalled;         /* per column: 1 if its last run ended at the
                                       iteration cap with the test unmet */
} scn__fista;

/* One panel's state: n x NR matrices and NR per-column values. */
typedef struct scn__panel {
    float *b, *a, *g, *t;           /* DtX/kappa, alpha, gamma, A gamma + b */
    float *s, *live;                /* momentum counter; 1 while iterating */
} scn__panel;

static uint64_t scn__panel_floats(int n, int nr) { return (4 * (uint64_t)n + 2) * nr; }

/* Threshold one row of a panel (t = A gamma in, alpha_t+1 = shrink(t + b)
 * out; a stopped column keeps its codes) and fold it into the per-column
 * sums of the convergence and restart tests. sg is 1 for signed codes:
 * shrink(v) = max(v - thr, 0) + sg min(v + thr, 0). */
SCN__INLINE void scn__epilogue_row1(const int nr, float *SCN__RESTRICT t,
                                    const float *SCN__RESTRICT b,
                                    const float *SCN__RESTRICT a,
                                    const float *SCN__RESTRICT g,
                                    const float *SCN__RESTRICT live, float thr, float sg,
                                    float *SCN__RESTRICT dmax, float *SCN__RESTRICT amax,
                                    float *SCN__RESTRICT rdot) {
    int q;
    for (q = 0; q < nr; q++) {
        float v = t[q] + b[q], hi = v - thr, lo = v + thr;
        float an = (hi > 0.0f ? hi : 0.0f) + sg * (lo < 0.0f ? lo : 0.0f);
        float da, ada, aan;
        an = live[q] != 0.0f ? an : a[q];
        da = an - a[q];
        ada = fabsf(da);
        aan = fabsf(an);
        dmax[q] = ada > dmax[q] ? ada : dmax[q];
        amax[q] = aan > amax[q] ? aan : amax[q];
        rdot[q] += (g[q] - an) * da;
        t[q] = an;
    }
}

/* The momentum step of one row: gamma from the new codes t and the old a
 * (a stopped column has t = a, so its gamma is its codes). */
SCN__INLINE void scn__epilogue_row2(const int nr, const float *SCN__RESTRICT t,
                                    const float *SCN__RESTRICT a, float *SCN__RESTRICT g,
                                    const float *SCN__RESTRICT beta) {
    int q;
    for (q = 0; q < nr; q++) g[q] = t[q] + beta[q] * (t[q] - a[q]);
}

/* The step's epilogue on a panel (SCN Algorithm 1, corrected):
 *   alpha_t+1 = shrink(A gamma_t + b),  s_t+1 = (1 + sqrt(1 + 4 s_t^2)) / 2,
 *   gamma_t+1 = alpha_t+1 + (s_t - 1)/s_t+1 (alpha_t+1 - alpha_t),
 * with O'Donoghue & Candes' gradient restart per column: when
 * (gamma_t - alpha_t+1).(alpha_t+1 - alpha_t) > 0 the momentum is dropped.
 * A column stops (live = 0) once its largest change is <= tol times its
 * largest entry. nr is a constant after inlining, so the row loops
 * vectorise with the instruction set of the caller. Returns the number of
 * live columns. */
SCN__INLINE int scn__epilogue_body(const int nr, int n, const scn__fista *f,
                                   scn__panel *pn) {
    float dmax[32], amax[32], rdot[32], beta[32], *swap;
    float sg = f->signed_codes ? 1.0f : 0.0f;
    int j, q, live = 0;
    for (q = 0; q < nr; q++) dmax[q] = amax[q] = rdot[q] = 0.0f;
    for (j = 0; j < n; j++)
        scn__epilogue_row1(nr, pn->t + (size_t)j * nr, pn->b + (size_t)j * nr,
                           pn->a + (size_t)j * nr, pn->g + (size_t)j * nr, pn->live, f->thr,
                           sg, dmax, amax, rdot);
    for (q = 0; q < nr; q++) {
        beta[q] = 0.0f;
        if (rdot[q] > 0.0f) {
            pn->s[q] = 1.0f;                                 /* restart */
        } else {
            float s1 = 0.5f * (1.0f + sqrtf(1.0f + 4.0f * pn->s[q] * pn->s[q]));
            beta[q] = (pn->s[q] - 1.0f) / s1;
            pn->s[q] = s1;
        }
    }
    for (j = 0; j < n; j++)
        scn__epilogue_row2(nr, pn->t + (size_t)j * nr, pn->a + (size_t)j * nr,
                           pn->g + (size_t)j * nr, beta);
    swap = pn->a;                                           /* alpha_t+1 becomes alpha */
    pn->a = pn->t;
    pn->t = swap;
    for (q = 0; q < nr; q++) {
        if (f->test && dmax[q] <= f->tol * amax[q]) pn->live[q] = 0.0f;
        live += pn->live[q] != 0.0f;
    }
    return live;
}

static int scn__epilogue_c(int n, const scn__fista *f, scn__panel *pn) {
    return scn__epilogue_body(16, n, f, pn);
}
#ifdef SCN__X86
__attribute__((target("avx2,fma")))
static int scn__epilogue_avx2(int n, const scn__fista *f, scn__panel *pn) {
    return scn__epilogue_body(16, n, f, pn);
}
__attribute__((target("avx512f")))
static int scn__epilogue_avx512(int n, const scn__fista *f, scn__panel *pn) {
    return scn__epilogue_body(32, n, f, pn);
}
#endif

/* The epilogue compiled for the microkernel's instruction set and width.
 * The NEON kernel shares scn__epilogue_c: Advanced SIMD is AArch64's
 * baseline, so the portable body is already vectorised with it. */
static int (*scn__epilogue_for(const scn__kernel *k))(int, const scn__fista *, scn__panel *) {
#ifdef SCN__X86
    if (k->fn == scn__kernel_avx512) return scn__epilogue_avx512;
    if (k->fn == scn__kernel_avx2) return scn__epilogue_avx2;
#endif
    (void)k;
    return scn__epilogue_c;
}

/* One row of a sparse product: c[0..N) = alpha sum_t val[t] B[idx[t]][.] +
 * beta c (beta 0: c is not read). The portable version; the x86 ones keep
 * 32 (AVX2) or 64 (AVX-512) values of c in registers over all the nonzeros
 * and leave the columns past their last full block to the next narrower. */
static void scn__sparse_row_c(int nnz, const int *idx, const float *val, const float *B,
                              size_t ldb, int N, float alpha, float beta, float *c) {
    int j, t;
    for (j = 0; j < N; j++) {
        float acc = 0.0f;
        for (t = 0; t < nnz; t++) acc += val[t] * B[(size_t)idx[t] * ldb + j];
        c[j] = alpha * acc + (beta != 0.0f ? beta * c[j] : 0.0f);
    }
}
#ifdef SCN__X86
/* (named accumulators: an array of vectors indexed in a loop is kept in
 * memory by GCC, which costs a store and a load per multiply-add) */
__attribute__((target("avx2,fma")))
static void scn__sparse_row_avx2(int nnz, const int *idx, const float *val, const float *B,
                                 size_t ldb, int N, float alpha, float beta, float *c) {
    int j0, t;
    for (j0 = 0; j0 + 32 <= N; j0 += 32) {
        __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
        __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
        float *o = c + j0;
        for (t = 0; t < nnz; t++) {
            const float *b = B + (size_t)idx[t] * ldb + j0;
            __m256 a = _mm256_set1_ps(val[t]);
            c0 = _mm256_fmadd_ps(a, _mm256_loadu_ps(b), c0);
            c1 = _mm256_fmadd_ps(a, _mm256_loadu_ps(b + 8), c1);
            c2 = _mm256_fmadd_ps(a, _mm256_loadu_ps(b + 16), c2);
            c3 = _mm256_fmadd_ps(a, _mm256_loadu_ps(b + 24), c3);
        }
        c0 = _mm256_mul_ps(va, c0); c1 = _mm256_mul_ps(va, c1);
        c2 = _mm256_mul_ps(va, c2); c3 = _mm256_mul_ps(va, c3);
        if (beta != 0.0f) {
            c0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(o), c0);
            c1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(o + 8), c1);
            c2 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(o + 16), c2);
            c3 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(o + 24), c3);
        }
        _mm256_storeu_ps(o, c0); _mm256_storeu_ps(o + 8, c1);
        _mm256_storeu_ps(o + 16, c2); _mm256_storeu_ps(o + 24, c3);
    }
    if (j0 < N) scn__sparse_row_c(nnz, idx, val, B + j0, ldb, N - j0, alpha, beta, c + j0);
}
__attribute__((target("avx512f")))
static void scn__sparse_row_avx512(int nnz, const int *idx, const float *val, const float *B,
                                   size_t ldb, int N, float alpha, float beta, float *c) {
    int j0, t;
    for (j0 = 0; j0 + 64 <= N; j0 += 64) {
        __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
        __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
        float *o = c + j0;
        for (t = 0; t < nnz; t++) {
            const float *b = B + (size_t)idx[t] * ldb + j0;
            __m512 a = _mm512_set1_ps(val[t]);
            c0 = _mm512_fmadd_ps(a, _mm512_loadu_ps(b), c0);
            c1 = _mm512_fmadd_ps(a, _mm512_loadu_ps(b + 16), c1);
            c2 = _mm512_fmadd_ps(a, _mm512_loadu_ps(b + 32), c2);
            c3 = _mm512_fmadd_ps(a, _mm512_loadu_ps(b + 48), c3);
        }
        c0 = _mm512_mul_ps(va, c0); c1 = _mm512_mul_ps(va, c1);
        c2 = _mm512_mul_ps(va, c2); c3 = _mm512_mul_ps(va, c3);
        if (beta != 0.0f) {
            c0 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(o), c0);
            c1 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(o + 16), c1);
            c2 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(o + 32), c2);
            c3 = _mm512_fmadd_ps(vb, _mm512_loadu_ps(o + 48), c3);
        }
        _mm512_storeu_ps(o, c0); _mm512_storeu_ps(o + 16, c1);
        _mm512_storeu_ps(o + 32, c2); _mm512_storeu_ps(o + 48, c3);
    }
    if (j0 < N) scn__sparse_row_avx2(nnz, idx, val, B + j0, ldb, N - j0, alpha, beta, c + j0);
}
#endif

/* The nonzeros of op(A) gathered row by row (compressed rows), then the
 * product 64 columns of B at a time, so that the rows of B the nonzeros
 * pick stay in cache while every row of C takes its part. */
static scn_status scn__cpu_gemm_sparse_a(int ta, int M, int N, int K, float alpha,
                                         const float *A, int lda, const float *B, int ldb,
                                         float beta, float *C, int ldc) {
    void (*row)(int, const int *, const float *, const float *, size_t, int, float, float,
                float *) = scn__sparse_row_c;
    int nt = scn__threads(), i, j0;
    size_t *ptr = (size_t *)scn__calloc((size_t)M + 1, sizeof(size_t), "sparse product");
    int *idx = NULL;
    float *val = NULL;
    if (!ptr) return SCN_ERR_NOMEM;
#ifdef SCN__X86
    {
        const scn__kernel *k = scn__kernel_pick();
        if (k->fn == scn__kernel_avx512) row = scn__sparse_row_avx512;
        else if (k->fn == scn__kernel_avx2) row = scn__sparse_row_avx2;
    }
#endif
    SCN__OMP(parallel for schedule(static) if ((size_t)M * K > SCN__OMP_MIN) num_threads(nt))
    for (i = 0; i < M; i++) {
        size_t n = 0;
        int q;
        for (q = 0; q < K; q++) n += (ta ? A[(size_t)q * lda + i] : A[(size_t)i * lda + q]) != 0.0f;
        ptr[i + 1] = n;
    }
    for (i = 0; i < M; i++) ptr[i + 1] += ptr[i];
    idx = (int *)scn__calloc(ptr[M] + nt, sizeof(int), "sparse product");
    val = (float *)scn__calloc(ptr[M] + nt, sizeof(float), "sparse product");
    if (!idx || !val) { SCN_FREE(ptr); SCN_FREE(idx); SCN_FREE(val); return SCN_ERR_NOMEM; }
    SCN__OMP(parallel for schedule(static) if ((size_t)M * K > SCN__OMP_MIN) num_threads(nt))
    for (i = 0; i < M; i++) {
        size_t at = ptr[i], end = ptr[i + 1], spare = ptr[M] + scn__thread_id();
        int q;
        for (q = 0; q < K; q++) {   /* branch-free: every entry written, kept if nonzero */
            float a = ta ? A[(size_t)q * lda + i] : A[(size_t)i * lda + q];
            size_t to = at < end ? at : spare;  /* after the row's last: a spare slot */
            idx[to] = q;
            val[to] = a;
            at += a != 0.0f;
        }
    }
    for (j0 = 0; j0 < N; j0 += 64) {
        int w = N - j0 < 64 ? N - j0 : 64;
        SCN__OMP(parallel for schedule(static) if ((size_t)M * w > 4096) num_threads(nt))
        for (i = 0; i < M; i++)
            row((int)(ptr[i + 1] - ptr[i]), idx + ptr[i], val + ptr[i], B + j0, (size_t)ldb,
                w, alpha, beta, C + (size_t)i * ldc + j0);
    }
    SCN_FREE(ptr);
    SCN_FREE(idx);
    SCN_FREE(val);
    return SCN_OK;
}

/* Runs FISTA on the columns cols[0..cnt) (cnt <= NR) for at most `iters`
 * iterations, from zero or (warm) from alpha, and writes alpha. Returns the
 * iterations used. */
static int scn__fista_panel(const scn__fista *f, const int *cols, int cnt, int iters,
                            scn__panel *pn, float *alpha) {
    const scn__kernel *k = f->k;
    int (*epilogue)(int, const scn__fista *, scn__panel *) = scn__epilogue_for(k);
    int n = f->n, P = f->P, nr = k->nr, j, q, i, it;
    for (j = 0; j < n; j++)
        for (q = 0; q < nr; q++) {
            size_t at = (size_t)j * nr + q, src = (size_t)j * P + cols[q < cnt ? q : 0];
            pn->b[at] = q < cnt ? f->DtX[src] * f->invk : 0.0f;
            pn->a[at] = pn->g[at] = q < cnt && f->warm ? alpha[src] : 0.0f;
        }
    for (q = 0; q < nr; q++) {
        pn->s[q] = 1.0f;
        pn->live[q] = q < cnt ? 1.0f : 0.0f;
    }
    for (it = 0; it < iters;) {
        for (i = 0; i < n; i += k->mr)                              /* t = A gamma */
            k->fn(n, f->apack + (size_t)i * n, pn->g, (size_t)nr, pn->t + (size_t)i * nr, (size_t)nr,
                  n - i < k->mr ? n - i : k->mr, nr, 1.0f, 0);
        it++;
        if (!epilogue(n, f, pn)) break;
    }
    for (j = 0; j < n; j++)
        for (q = 0; q < cnt; q++) alpha[(size_t)j * P + cols[q]] = pn->a[(size_t)j * nr + q];
    for (q = 0; q < cnt; q++) f->stalled[cols[q]] = f->test && pn->live[q] != 0.0f;
    return it;
}

/* FISTA on the `count` columns listed in cols, panel by panel across the
 * threads; each thread's panel state lives in `state`. Returns the most
 * iterations any panel used. */
static int scn__fista_run(const scn__fista *f, const int *cols, int count, int iters,
                          float *state, float *alpha) {
    int nr = f->k->nr, panels = (count + nr - 1) / nr, pi, most = 0;
    size_t per = (size_t)(SCN__ALIGN(scn__panel_floats(f->n, nr) * sizeof(float)) /
                          sizeof(float));
    SCN__OMP(parallel for schedule(dynamic, 1) reduction(max : most) if (panels > 1)
             num_threads(f->threads))
    for (pi = 0; pi < panels; pi++) {
        float *w = state + per * scn__thread_id();
        scn__panel pn;
        int cnt = count - pi * nr < nr ? count - pi * nr : nr, used;
        size_t nnr = (size_t)f->n * nr;
        pn.b = w; pn.a = w + nnr; pn.g = w + 2 * nnr; pn.t = w + 3 * nnr;
        pn.s = w + 4 * nnr; pn.live = pn.s + nr;
        used = scn__fista_panel(f, cols + (size_t)pi * nr, cnt, iters, &pn, alpha);
        if (used > most) most = used;
    }
    return most;
}

/* The active-set Gram Gd[S,S] is factored U^T U, U upper triangular with
 * row stride ld (>= k), kept by rows, with the reciprocals of its
 * diagonal in dinv: every inner loop below runs along one row, as a simd
 * loop that the instruction set of the caller vectorises (these helpers
 * are inlined into the column routines, compiled once per GEMM kernel),
 * and no division waits on the previous step.
 * L = U^T is kept too, also by rows, for the substitution with U.
 * Appends atom S[i] as column i of U (row i of L): U^T z = Gd[S, S[i]], so
 * an atom joining the active set costs O(i^2) instead of a new
 * factorisation. 0 if the Gram is not positive definite. */
SCN__INLINE int scn__chol_append(double *SCN__RESTRICT U, double *SCN__RESTRICT L,
                                 double *dinv, int ld, const double *Gd, int n,
                                 const int *S, int i) {
    const double *g = Gd + (size_t)S[i] * n;
    double t = g[S[i]];
    int j, r;
    double *SCN__RESTRICT li = L + (size_t)i * ld;
    for (j = 0; j < i; j++) li[j] = g[S[j]];
    for (j = 0; j < i; j++) {
        const double *uj = U + (size_t)j * ld;
        double zj = li[j] * dinv[j];
        li[j] = zj;
        U[(size_t)j * ld + i] = zj;
        t -= zj * zj;
        SCN__OMP(simd)
        for (r = j + 1; r < i; r++) li[r] -= zj * uj[r];
    }
    if (!(t > 0.0)) return 0;
    t = sqrt(t);
    U[(size_t)i * ld + i] = li[i] = t;
    dinv[i] = 1.0 / t;
    return 1;
}

/* U^T U = Gd[S,S] for the k atoms in S, right-looking: each pivot row
 * updates the rows below it, independent of one another, so the chain of
 * dependent steps is k long rather than the k^2 / 2 of k appends. Pivots
 * go four at a time: the four rows are finished among themselves, then
 * the rows below take all four in one pass (a row is read and written
 * once per four multiply-adds). 0 if not positive definite. */
SCN__INLINE int scn__chol_factor(double *SCN__RESTRICT U, double *SCN__RESTRICT L,
                                 double *dinv, int ld, const double *Gd, int n,
                                 const int *S, int k) {
    int p0, p, i, j;
    for (i = 0; i < k; i++) {
        const double *g = Gd + (size_t)S[i] * n;
        double *ui = U + (size_t)i * ld;
        SCN__OMP(simd)
        for (j = i; j < k; j++) ui[j] = g[S[j]];
    }
    for (p0 = 0; p0 < k; p0 += 4) {
        int pe = p0 + 4 < k ? p0 + 4 : k;
        const double *u0 = U + (size_t)p0 * ld;
        for (p = p0; p < pe; p++) {
            double *up = U + (size_t)p * ld, d = up[p], inv;
            if (!(d > 0.0)) return 0;
            d = sqrt(d);
            inv = 1.0 / d;
            up[p] = d;
            dinv[p] = inv;
            SCN__OMP(simd)
            for (j = p + 1; j < k; j++) up[j] *= inv;
            for (i = p + 1; i < pe; i++) {
                double *ui = U + (size_t)i * ld, f = up[i];
                SCN__OMP(simd)
                for (j = i; j < k; j++) ui[j] -= f * up[j];
            }
        }
        for (i = pe; i < k; i++) {
            double *ui = U + (size_t)i * ld;
            if (pe - p0 == 4) {
                const double *u1 = u0 + ld, *u2 = u1 + ld, *u3 = u2 + ld;
                double f0 = u0[i], f1 = u1[i], f2 = u2[i], f3 = u3[i];
                SCN__OMP(simd)
                for (j = i; j < k; j++)
                    ui[j] -= (f0 * u0[j] + f1 * u1[j]) + (f2 * u2[j] + f3 * u3[j]);
            } else {
                for (p = p0; p < pe; p++) {
                    const double *up = U + (size_t)p * ld;
                    double f = up[i];
                    SCN__OMP(simd)
                    for (j = i; j < k; j++) ui[j] -= f * up[j];
                }
            }
        }
    }
    for (i = 0; i < k; i++)
        for (j = i; j < k; j++) L[(size_t)j * ld + i] = U[(size_t)i * ld + j];
    return 1;
}

/* Solves U^T U y = y in place, both triangles by columns (rows of U for
 * U^T, rows of L for U): each step subtracts a multiple of a row, and
 * only one entry waits for the step before. */
SCN__INLINE void scn__chol_solve(const double *SCN__RESTRICT U, const double *SCN__RESTRICT L,
                                 const double *dinv, int ld, int k,
                                 double *SCN__RESTRICT y) {
    int i, r;
    for (i = 0; i < k; i++) {
        const double *ui = U + (size_t)i * ld;
        double yi = y[i] * dinv[i];
        y[i] = yi;
        SCN__OMP(simd)
        for (r = i + 1; r < k; r++) y[r] -= yi * ui[r];
    }
    for (i = k - 1; i >= 0; i--) {
        const double *li = L + (size_t)i * ld;
        double yi = y[i] * dinv[i];
        y[i] = yi;
        SCN__OMP(simd)
        for (r = 0; r < i; r++) y[r] -= yi * li[r];
    }
}

/* The column-wise active-set solves take CH columns at a time: their
 * signals and codes are gathered into contiguous per-column vectors (one
 * pass over rows of the n x P and m x P matrices instead of a cache miss
 * per entry), solved, and scattered back. */
#define SCN__CH 64

/* Per-thread scratch of the column-wise active-set solves. */
typedef struct scn__colwork {
    double *M, *L, *dinv;       /* Cholesky factor U and L = U^T (row stride
                                   n), 1 / their diagonal */
    double *c, *y, *r;          /* d_j^T x per atom; solution; d_j^T (x -
                                   D_S y) */
    float *x;                   /* CH signals, m each */
    float *u, *v;               /* CH columns of two n x P matrices, n each */
    int *S;                     /* the active set */
    signed char *sg;            /* its signs, per atom */
} scn__colwork;

/* Bytes of one thread's column scratch, rounded up to 64 so that every
 * thread's doubles stay aligned (and on their own cache lines). */
static uint64_t scn__colwork_bytes(int m, int n) {
    return SCN__ALIGN((2 * (uint64_t)n * n + 4 * (uint64_t)n) * sizeof(double) +
                      ((uint64_t)SCN__CH * m + 2 * (uint64_t)SCN__CH * n) * sizeof(float) +
                      (uint64_t)n * sizeof(int) + (uint64_t)n);
}

/* Points T threads' scratch into block (T x scn__colwork_bytes). */
static void scn__colwork_setup(scn__colwork *w, int T, unsigned char *block, int m, int n) {
    int t;
    for (t = 0; t < T; t++, block += (size_t)scn__colwork_bytes(m, n)) {
        w[t].M = (double *)block;
        w[t].L = w[t].M + (size_t)n * n;
        w[t].dinv = w[t].L + (size_t)n * n;
        w[t].c = w[t].dinv + n;
        w[t].y = w[t].c + n;
        w[t].r = w[t].y + n;
        w[t].x = (float *)(w[t].r + n);
        w[t].u = w[t].x + (size_t)SCN__CH * m;
        w[t].v = w[t].u + (size_t)SCN__CH * n;
        w[t].S = (int *)(w[t].v + (size_t)SCN__CH * n);
        w[t].sg = (signed char *)(w[t].S + n);
    }
}

/* dst[q * len + i] = src[i * P + cols[q]]: cnt columns of a len x P matrix. */
static void scn__gather(const float *src, int len, int P, const int *cols, int cnt,
                        float *dst) {
    int i, q;
    for (i = 0; i < len; i++)
        for (q = 0; q < cnt; q++) dst[(size_t)q * len + i] = src[(size_t)i * P + cols[q]];
}

/* The reverse of scn__gather, for the columns whose keep[q] is set. */
static void scn__scatter(const float *src, int len, int P, const int *cols, int cnt,
                         const unsigned char *keep, float *dst) {
    int i, q;
    for (i = 0; i < len; i++)
        for (q = 0; q < cnt; q++)
            if (keep[q]) dst[(size_t)i * P + cols[q]] = src[(size_t)q * len + i];
}

/* Support polishing of one column (signal x, its D^T x in dtx, FISTA's
 * codes in a): starting from FISTA's support and signs, solve SCN eq. 7 on
 * the support, drop entries whose sign is wrong and add the worst violator
 * of eq. 4, until the KKT conditions (SCN eqs. 3-4) hold; then write the
 * exact solution to a. Returns 0 (a untouched) if that does not happen
 * within SCN__POLISH_ROUNDS changes. */
/* sum a[i] x[i] (d_j^T x of SCN eq. 7, in double) */
SCN__INLINE double scn__dotf(const double *SCN__RESTRICT a, const float *SCN__RESTRICT x,
                             int len) {
    double t = 0.0;
    int i;
    SCN__OMP(simd reduction(+ : t))
    for (i = 0; i < len; i++) t += a[i] * x[i];
    return t;
}

SCN__INLINE int scn__polish_body(const double *Dt, const double *Gd, int m, int n,
                                 const float *SCN__RESTRICT x, const float *dtx, float *a,
                                 const scn_solve_desc *d, scn__colwork *w) {
    int i, j, k = 0, round;
    double l1 = d->lambda1, scale = l1, worst;
    double *SCN__RESTRICT r = w->r;
    for (j = 0; j < n; j++) {
        if (fabs(dtx[j]) > scale) scale = fabs(dtx[j]);
        w->sg[j] = 0;
        if (a[j] != 0.0f) {
            w->sg[j] = a[j] > 0.0f ? 1 : -1;
            w->S[k++] = j;
            w->c[j] = scn__dotf(Dt + (size_t)j * m, x, m);
        }
    }
    worst = SCN__KKT_TOL * (scale > 0.0 ? scale : 1.0);
    if (!scn__chol_factor(w->M, w->L, w->dinv, n, Gd, n, w->S, k)) return 0;
    for (round = 0; round < SCN__POLISH_ROUNDS; round++) {
        int bad = 0, add = -1;
        double gadd = 0.0, most = worst;
        for (i = 0; i < k; i++) w->y[i] = w->c[w->S[i]] - l1 * w->sg[w->S[i]];
        scn__chol_solve(w->M, w->L, w->dinv, n, k, w->y);
        for (i = 0, j = 0; i < k; i++) {             /* eq. 3 needs matching signs */
            if (w->y[i] * w->sg[w->S[i]] > 0.0) { w->S[j] = w->S[i]; w->y[j++] = w->y[i]; }
            else { w->sg[w->S[i]] = 0; bad = 1; }
        }
        k = j;
        if (bad) {
            if (!scn__chol_factor(w->M, w->L, w->dinv, n, Gd, n, w->S, k)) return 0;
            continue;
        }
        for (j = 0; j < n; j++) r[j] = dtx[j];     /* r = D^T (x - D_S alpha_S) */
        for (i = 0; i < k; i++) {                   /* (Gd symmetric: rows for columns) */
            const double *gi = Gd + (size_t)w->S[i] * n;
            double yi = w->y[i];
            SCN__OMP(simd)
            for (j = 0; j < n; j++) r[j] -= yi * gi[j];
        }
        for (j = 0; j < n; j++) {                   /* eq. 4 off the support */
            double v = d->signed_codes ? fabs(r[j]) - l1 : r[j] - l1;
            if (!w->sg[j] && v > most) { most = v; add = j; gadd = r[j]; }
        }
        if (add < 0) {
            /* a solution beyond float range is no answer: leave FISTA's */
            for (i = 0; i < k; i++)
                if (!(fabs(w->y[i]) <= FLT_MAX)) return 0;
            for (j = 0; j < n; j++) a[j] = 0.0f;
            for (i = 0; i < k; i++) a[w->S[i]] = (float)w->y[i];
            return 1;
        }
        w->sg[add] = gadd < 0.0 ? -1 : 1;
        w->c[add] = scn__dotf(Dt + (size_t)add * m, x, m);
        w->S[k] = add;
        if (!scn__chol_append(w->M, w->L, w->dinv, n, Gd, n, w->S, k++)) return 0;
    }
    return 0;
}

/* The column routine compiled for each GEMM kernel's instruction set. */
typedef int (*scn__polish_fn)(const double *, const double *, int, int, const float *,
                              const float *, float *, const scn_solve_desc *, scn__colwork *);
static int scn__polish_c(const double *Dt, const double *Gd, int m, int n, const float *x,
                         const float *dtx, float *a, const scn_solve_desc *d,
                         scn__colwork *w) {
    return scn__polish_body(Dt, Gd, m, n, x, dtx, a, d, w);
}
#ifdef SCN__X86
__attribute__((target("avx2,fma")))
static int scn__polish_avx2(const double *Dt, const double *Gd, int m, int n, const float *x,
                            const float *dtx, float *a, const scn_solve_desc *d,
                            scn__colwork *w) {
    return scn__polish_body(Dt, Gd, m, n, x, dtx, a, d, w);
}
__attribute__((target("avx512f")))
static int scn__polish_avx512(const double *Dt, const double *Gd, int m, int n,
                              const float *x, const float *dtx, float *a,
                              const scn_solve_desc *d, scn__colwork *w) {
    return scn__polish_body(Dt, Gd, m, n, x, dtx, a, d, w);
}
#endif

static scn__polish_fn scn__polish_for(const scn__kernel *k) {
#ifdef SCN__X86
    if (k->fn == scn__kernel_avx512) return scn__polish_avx512;
    if (k->fn == scn__kernel_avx2) return scn__polish_avx2;
#endif
    (void)k;
    return scn__polish_c;
}

/* Polishes the `count` columns listed in cols, SCN__CH at a time, on at
 * most T threads (w holds T); keeps those that failed in cols (in order)
 * and returns how many they are. */
static int scn__polish(const double *Dt, const double *Gd, const float *DtX, int m, int n,
                       const float *X, int P, const scn_solve_desc *d, float *alpha,
                       scn__colwork *w, int T, int *cols, int count, unsigned char *ok) {
    int c0, q, failed = 0;
    scn__polish_fn column = scn__polish_for(scn__kernel_pick());
    (void)T;                            /* read only by OpenMP's clause */
    SCN__OMP(parallel for schedule(dynamic, 1) private(q) if (count > SCN__CH)
             num_threads(T))
    for (c0 = 0; c0 < count; c0 += SCN__CH) {
        scn__colwork *t = w + scn__thread_id();
        const int *cc = cols + c0;
        int cnt = count - c0 < SCN__CH ? count - c0 : SCN__CH, i;
        for (i = 0; i < m; i++)
            for (q = 0; q < cnt; q++) t->x[(size_t)q * m + i] = X[(size_t)i * P + cc[q]];
        scn__gather(DtX, n, P, cc, cnt, t->u);
        scn__gather(alpha, n, P, cc, cnt, t->v);
        for (q = 0; q < cnt; q++)
            ok[c0 + q] = (unsigned char)column(
                Dt, Gd, m, n, t->x + (size_t)q * m, t->u + (size_t)q * n,
                t->v + (size_t)q * n, d, t);
        scn__scatter(t->v, n, P, cc, cnt, ok + c0, alpha);
    }
    for (q = 0; q < count; q++)
        if (!ok[q]) cols[failed++] = cols[q];
    return failed;
}

SCNDEF double scn_en_kkt(const float *D, int m, int n, const float *X, int P,
                         const scn_solve_desc *d, const float *alpha) {
    float *R, *Q;
    double worst = 0.0;
    size_t i, nP = (size_t)n * P;
    scn_workspace pack = { NULL, 0, NULL };           /* one packing buffer for both products */
    SCN_ASSERT(D && X && d && alpha);
    R = (float *)scn__calloc((size_t)m * P, sizeof(float), "kkt");
    Q = (float *)scn__calloc((size_t)n * P, sizeof(float), "kkt");
    if (R) memcpy(R, X, (size_t)m * P * sizeof *R);
    if (!R || !Q ||
        scn__cpu_gemm(&pack, 0, 0, m, P, n, 1.0f, D, n, alpha, P, -1.0f, R, P) ||  /* D a - x */
        scn__cpu_gemm(&pack, 1, 0, n, P, m, 1.0f, D, n, R, P, 0.0f, Q, P)) {       /* D^T (.) */
        SCN_FREE(R);
        SCN_FREE(Q);
        scn_workspace_free(&pack);
        return -1.0;
    }
    scn_workspace_free(&pack);
    for (i = 0; i < nP; i++) {
        double g = Q[i] + (double)d->lambda2 * alpha[i], a = alpha[i], v;
        if (a != 0.0) v = fabs(g + d->lambda1 * (a > 0 ? 1.0 : -1.0));   /* eq. 3 */
        else if (d->signed_codes) v = fabs(g) - d->lambda1;               /* eq. 4 */
        else v = -d->lambda1 - g;
        if (a < 0.0 && !d->signed_codes) v = fabs(a) > v ? fabs(a) : v;  /* alpha >= 0 */
        if (v > worst) worst = v;
    }
    SCN_FREE(R);
    SCN_FREE(Q);
    return worst;
}

/* FISTA, then support polishing (when cw is given). Polishing needs only the
 * right support, so columns first stop at a coarse tolerance; those whose
 * polished solution fails the KKT test resume from where they stopped
 * with a ten times tighter tolerance, down to the caller's. cols and ok
 * hold P entries each; state is the threads' panel state. */
static void scn__solve_stages(scn__fista *f, const scn_solve_desc *d, const double *Dt,
                              const double *Gd, int m, const float *X, scn__colwork *cw,
                              int *cols, unsigned char *ok, float *state, float *alpha,
                              scn_solve_info *info) {
    int n = f->n, P = f->P, q, count = P;
    int budget = d->fixed_iter ? d->fixed_iter : d->max_iter ? d->max_iter
                                                : SCN__DEFAULT_MAX_ITER;
    float tol = d->tol > 0.0f ? d->tol : SCN__DEFAULT_TOL;
    f->tol = cw && tol < SCN__COARSE_TOL ? SCN__COARSE_TOL : tol;
    f->test = !d->fixed_iter;
    f->warm = d->warm_start;
    for (q = 0; q < P; q++) cols[q] = q;
    for (;;) {
        info->iters += scn__fista_run(f, cols, count, budget - info->iters, state, alpha);
        if (!cw) break;
        count = scn__polish(Dt, Gd, f->DtX, m, n, X, P, d, alpha, cw, f->threads, cols,
                            count, ok);
        if (!count || f->tol <= tol || info->iters >= budget) break;
        f->tol = f->tol * 0.1f > tol ? f->tol * 0.1f : tol;
        f->warm = 1;
    }
    info->unpolished = cw ? count : P;
    info->polished = P - info->unpolished;
    /* a column left at the FISTA iterate met the caller's tolerance only
     * if its last run stopped by the test at that tolerance, not at a
     * coarser stage's or at the iteration cap */
    if (f->test)
        for (q = 0; q < info->unpolished; q++)
            info->unconverged += f->tol > tol || f->stalled[cw ? cols[q] : q];
}

static scn_status scn__cpu_en_solve(const float *D, int m, int n, const float *X, int P,
                                    const scn_solve_desc *d, float *alpha,
                                    scn_solve_info *info) {
    scn_solve_info local;
    scn__fista f;
    scn__colwork cw[SCN__MAX_THREADS];
    scn__dict *dict = NULL, *own = NULL;
    /* NULL until scn__carve fills them (gcc -O3 cannot see that it does
     * whenever it returns SCN_OK) */
    float *DtX = NULL, *state = NULL, *pack = NULL;
    int *cols = NULL;
    unsigned char *ok = NULL, *colblock = NULL;
    void *owned = NULL;
    const scn__kernel *k = scn__kernel_pick();
    size_t i;
    int T = scn__threads(), polish = !d->fixed_iter && !d->no_polish;
    scn__piece pieces[] = {
        { (void **)&DtX, (uint64_t)n * P * sizeof(float) },
        { (void **)&state, T * SCN__ALIGN(scn__panel_floats(n, k->nr) * sizeof(float)) },
        { (void **)&cols, (uint64_t)P * sizeof(int) },
        { (void **)&ok, (uint64_t)P },
        { (void **)&f.stalled, (uint64_t)P },
        { (void **)&colblock, polish ? T * scn__colwork_bytes(m, n) : 0 },
        { (void **)&pack, (uint64_t)scn__gemm_team() * SCN__PACK_FLOATS * sizeof(float) },
    };
    scn_status s = scn__en_check("sparse solve", D, m, n, P, d);
    if (s) return s;
    if (!info) info = &local;
    memset(info, 0, sizeof *info);
    s = scn__carve(d->ws, pieces, (int)(sizeof pieces / sizeof pieces[0]), &owned,
                   "sparse solve");
    if (s) return s;
    if (polish) scn__colwork_setup(cw, T, colblock, m, n);
    /* each check below stops a value that left float range from passing as
     * an answer: an infinite D^T X thresholds to all-zero codes that the
     * polishing test, scaled by that infinity, would accept */
    s = scn__dict_get(d->ws, D, m, n, d->lambda2, 1, &dict, &own);
    if (!s) {
        scn_workspace pw;
        pw.data = pack;
        pw.size = scn__gemm_team() * SCN__PACK_FLOATS * sizeof(float);
        pw.dict = NULL;
        s = scn__cpu_gemm(&pw, 1, 0, n, P, m, 1.0f, D, n, X, P, 0.0f, DtX, P);
        if (!s && !scn__all_finite(DtX, (size_t)n * P, &i) &&
            !(s = scn__en_input_check("sparse solve", X, m, P)))
            s = scn__fail(SCN_ERR_NUMERIC, "sparse solve: D^T X entry (%zu, %zu) is %g: the "
                          "product of the dictionary and the input leaves float range "
                          "(scale them down)", i / P, i % P, (double)DtX[i]);
    }
    if (!s) {
        f.k = k; f.n = n; f.P = P; f.apack = dict->apack; f.DtX = DtX; f.threads = T;
        f.invk = (float)(1.0 / dict->kappa);
        f.thr = (float)(d->lambda1 / dict->kappa);
        f.signed_codes = d->signed_codes;
        info->kappa = dict->kappa;
        scn__solve_stages(&f, d, dict->Dt, dict->Gd, m, X, polish ? cw : NULL, cols, ok,
                          state, alpha, info);
        if (!scn__all_finite(alpha, (size_t)n * P, &i))
            s = scn__fail(SCN_ERR_NUMERIC, "sparse solve: code (%zu, %zu) is %g: the "
                          "iteration left float range", i / P, i % P, (double)alpha[i]);
        else if (info != &local) {
            info->kkt = scn_en_kkt(D, m, n, X, P, d, alpha);
            if (!(info->kkt <= DBL_MAX))
                s = scn__fail(SCN_ERR_NUMERIC, "sparse solve: the KKT residual is %g: D "
                              "alpha - X leaves float range (scale the inputs down)",
                              info->kkt);
        }
    }
    scn__dict_free(own);
    SCN_FREE(owned);
    return s;
}

SCNDEF scn_status scn_en_solve(const float *D, int m, int n, const float *X, int P,
                               const scn_solve_desc *desc, float *alpha,
                               scn_solve_info *info) {
    SCN_ASSERT(D && X && desc && alpha);
    return scn_backend_get()->en_solve(D, m, n, X, P, desc, alpha, info);
}

/* ======================================================================
 * 6. Fixed-point backward
 * ====================================================================== */

/* gamma of one column (codes a, upstream gradient g, overwritten by gamma):
 * SCN eq. 11 (SF's b for signed codes) on the active set; returns
 * -sum sign(alpha_j) gamma_j (SCN eq. 13), or NAN if the active Gram is
 * not positive definite. */
SCN__INLINE double scn__gamma_body(const double *Gd, int n, const float *a, float *g,
                                   scn__colwork *w) {
    int j, k = 0;
    double dl = 0.0;
    for (j = 0; j < n; j++) {
        if (a[j] != 0.0f) {
            w->sg[k] = a[j] > 0.0f ? 1 : -1;
            w->y[k] = g[j];
            w->S[k++] = j;
        }
        g[j] = 0.0f;
    }
    if (!scn__chol_factor(w->M, w->L, w->dinv, n, Gd, n, w->S, k)) return NAN;
    scn__chol_solve(w->M, w->L, w->dinv, n, k, w->y);
    for (j = 0; j < k; j++) {
        g[w->S[j]] = (float)w->y[j];
        dl -= w->sg[j] * w->y[j];
    }
    return dl;
}

/* The column routine compiled for each GEMM kernel's instruction set. */
typedef double (*scn__gamma_fn)(const double *, int, const float *, float *, scn__colwork *);
static double scn__gamma_c(const double *Gd, int n, const float *a, float *g,
                           scn__colwork *w) {
    return scn__gamma_body(Gd, n, a, g, w);
}
#ifdef SCN__X86
__attribute__((target("avx2,fma")))
static double scn__gamma_avx2(const double *Gd, int n, const float *a, float *g,
                              scn__colwork *w) {
    return scn__gamma_body(Gd, n, a, g, w);
}
__attribute__((target("avx512f")))
static double scn__gamma_avx512(const double *Gd, int n, const float *a, float *g,
                                scn__colwork *w) {
    return scn__gamma_body(Gd, n, a, g, w);
}
#endif

static scn__gamma_fn scn__gamma_for(const scn__kernel *k) {
#ifdef SCN__X86
    if (k->fn == scn__kernel_avx512) return scn__gamma_avx512;
    if (k->fn == scn__kernel_avx2) return scn__gamma_avx2;
#endif
    (void)k;
    return scn__gamma_c;
}

/* The residual term of SCN eq. 11 is summed over a fixed number of column
 * slabs (so the result does not depend on the thread count), each in
 * chunks whose residual X - D A stays in cache instead of an m x P matrix. */
#define SCN__SLABS  16
#define SCN__RCHUNK 256

/* part = (X - D A) Gamma^T over the columns [p0, p1); R: m x SCN__RCHUNK;
 * pack: SCN__PACK_FLOATS for the products (run on this thread alone). */
static scn_status scn__residual_slab(const float *D, int m, int n, const float *X, int P,
                                     const float *alpha, const float *Gamma, int p0, int p1,
                                     float *R, float *part, float *pack) {
    int c0, i;
    scn_workspace pw;
    scn_status s = SCN_OK;
    pw.data = pack;
    pw.size = SCN__PACK_FLOATS * sizeof(float);
    pw.dict = NULL;
    memset(part, 0, (size_t)m * n * sizeof *part);
    for (c0 = p0; c0 < p1 && !s; c0 += SCN__RCHUNK) {
        int c = p1 - c0 < SCN__RCHUNK ? p1 - c0 : SCN__RCHUNK;
        for (i = 0; i < m; i++)
            memcpy(R + (size_t)i * c, X + (size_t)i * P + c0, (size_t)c * sizeof *R);
        if (!(s = scn__cpu_gemm(&pw, 0, 0, m, c, n, -1.0f, D, n, alpha + c0, P, 1.0f, R, c)))
            s = scn__cpu_gemm(&pw, 0, 1, m, n, c, 1.0f, R, c, Gamma + c0, P, 1.0f, part, n);
    }
    return s;
}

static scn_status scn__cpu_en_backward(const float *D, int m, int n, const float *X,
                                       int P, const float *alpha, const float *G,
                                       const scn_solve_desc *d,
                                       float *dD, float *dX, float *dlambda1) {
    /* NULL until scn__carve fills them, as in scn__cpu_en_solve */
    scn__dict *dict = NULL, *own = NULL;
    double *Gd, *dl = NULL;
    float *Gamma = NULL, *S = NULL, *R = NULL, *parts = NULL, *pack = NULL;
    scn_workspace pw;
    scn__colwork cw[SCN__MAX_THREADS];
    unsigned char *colblock = NULL;
    void *owned = NULL;
    int T = scn__threads(), p, bad = -1;
    scn__gamma_fn column = scn__gamma_for(scn__kernel_pick());
    size_t at, mn = (size_t)m * n;
    scn__piece pieces[] = {
        { (void **)&dl, (uint64_t)P * sizeof(double) },
        { (void **)&Gamma, (uint64_t)n * P * sizeof(float) },
        { (void **)&S, dD ? (uint64_t)n * n * sizeof(float) : 0 },
        { (void **)&R, dD ? (uint64_t)T * m * SCN__RCHUNK * sizeof(float) : 0 },
        { (void **)&parts, dD ? SCN__SLABS * (uint64_t)m * n * sizeof(float) : 0 },
        { (void **)&colblock, T * scn__colwork_bytes(m, n) },
        { (void **)&pack, dD || dX ? (uint64_t)scn__gemm_team() * SCN__PACK_FLOATS *
                                     sizeof(float) : 0 },
    };
    scn_status s = scn__en_check("sparse backward", D, m, n, P, d);
    if (s) return s;
    if (!scn__all_finite(alpha, (size_t)n * P, &at))
        return scn__fail(SCN_ERR_NUMERIC, "sparse backward: code entry (%zu, %zu) is %g",
                         at / P, at % P, (double)alpha[at]);
    if (!scn__all_finite(G, (size_t)n * P, &at))
        return scn__fail(SCN_ERR_NUMERIC, "sparse backward: upstream gradient entry "
                         "(%zu, %zu) is %g", at / P, at % P, (double)G[at]);
    s = scn__carve(d->ws, pieces, (int)(sizeof pieces / sizeof pieces[0]), &owned,
                   "sparse backward");
    if (s) return s;
    scn__colwork_setup(cw, T, colblock, m, n);
    if ((s = scn__dict_get(d->ws, D, m, n, d->lambda2, 0, &dict, &own))) goto done;
    Gd = dict->Gd;
    SCN__OMP(parallel for schedule(dynamic, 1) if (P > SCN__CH) num_threads(T))
    for (p = 0; p < P; p += SCN__CH) {
        scn__colwork *t = cw + scn__thread_id();
        int cols[SCN__CH], cnt = P - p < SCN__CH ? P - p : SCN__CH, q;
        unsigned char all[SCN__CH];
        for (q = 0; q < cnt; q++) { cols[q] = p + q; all[q] = 1; }
        scn__gather(alpha, n, P, cols, cnt, t->u);
        scn__gather(G, n, P, cols, cnt, t->v);
        for (q = 0; q < cnt; q++) {
            dl[p + q] = column(Gd, n, t->u + (size_t)q * n, t->v + (size_t)q * n, t);
            if (isnan(dl[p + q])) {
                SCN__OMP(critical)
                if (bad < 0 || p + q < bad) bad = p + q;
            }
        }
        scn__scatter(t->v, n, P, cols, cnt, all, Gamma);
    }
    if (bad >= 0) {
        s = scn__fail(SCN_ERR_NUMERIC, "sparse backward: active-set Gram of column %d is "
                      "singular (lambda2 = %g; use lambda2 > 0)", bad, (double)d->lambda2);
        goto done;
    }
    /* gamma solves a system that may be nearly singular: an entry beyond
     * float range would make every output below infinite or NaN */
    if (!scn__all_finite(Gamma, (size_t)n * P, &at)) {
        s = scn__fail(SCN_ERR_NUMERIC, "sparse backward: gamma (%zu, %zu) is %g: the "
                      "active-set system of that column is too ill-conditioned (lambda2 = "
                      "%g)", at / P, at % P, (double)Gamma[at], (double)d->lambda2);
        goto done;
    }
    if (dlambda1) {
        double sum = 0.0;
        for (p = 0; p < P; p++) sum += dl[p];
        *dlambda1 = (float)sum;
        if (!isfinite(*dlambda1)) {
            s = scn__fail(SCN_ERR_NUMERIC, "sparse backward: dlambda1 = %g leaves float "
                          "range", sum);
            goto done;
        }
    }
    pw.data = pack;
    pw.size = scn__gemm_team() * SCN__PACK_FLOATS * sizeof(float);
    pw.dict = NULL;
    if (dX) {
        if ((s = scn__cpu_gemm(&pw, 0, 0, m, P, n, 1.0f, D, n, Gamma, P, 0.0f, dX, P)))
            goto done;                                                    /* SCN eq. 17 */
        if (!scn__all_finite(dX, (size_t)m * P, &at)) {
            s = scn__fail(SCN_ERR_NUMERIC, "sparse backward: dX entry (%zu, %zu) is %g: "
                          "D Gamma leaves float range", at / P, at % P, (double)dX[at]);
            goto done;
        }
    }
    if (dD) {                        /* SCN eq. 11: (X - D A) Gamma^T - D (Gamma A^T) */
        int sl;
        if ((s = scn__cpu_gemm(&pw, 0, 1, n, n, P, 1.0f, Gamma, P, alpha, P, 0.0f, S, n)) ||
            (s = scn__cpu_gemm(&pw, 0, 0, m, n, n, -1.0f, D, n, S, n, 0.0f, dD, n)))
            goto done;
        SCN__OMP(parallel for schedule(dynamic, 1) num_threads(T))
        for (sl = 0; sl < SCN__SLABS; sl++) {
            int id = scn__thread_id();
            scn_status e = scn__residual_slab(
                D, m, n, X, P, alpha, Gamma, (int)((long long)P * sl / SCN__SLABS),
                (int)((long long)P * (sl + 1) / SCN__SLABS), R + (size_t)id * m * SCN__RCHUNK,
                parts + sl * mn, pack + (size_t)id * SCN__PACK_FLOATS);
            if (e) {
                SCN__OMP(critical)
                s = e;
            }
        }
        if (s) goto done;
        for (sl = 0; sl < SCN__SLABS; sl++)
            for (at = 0; at < mn; at++) dD[at] += parts[sl * mn + at];
        if (!scn__all_finite(dD, mn, &at) &&
            !(s = scn__en_input_check("sparse backward", X, m, P)))
            s = scn__fail(SCN_ERR_NUMERIC, "sparse backward: dD entry (%zu, %zu) is %g: the "
                          "gradient leaves float range", at / n, at % n, (double)dD[at]);
    }
done:
    scn__dict_free(own);
    SCN_FREE(owned);
    return s;
}

SCNDEF scn_status scn_en_backward(const float *D, int m, int n, const float *X, int P,
                                  const float *alpha, const float *G,
                                  const scn_solve_desc *desc,
                                  float *dD, float *dX, float *dlambda1) {
    SCN_ASSERT(D && X && alpha && G && desc);
    return scn_backend_get()->en_backward(D, m, n, X, P, alpha, G, desc, dD, dX, dlambda1);
}

/* ======================================================================
 * 7. Convolutional sparse coding
 * ====================================================================== */

SCNDEF scn_status scn_codes_from_matrix(const scn_conv_geom *g, int n, const float *alpha,
                                        float *codes) {
    SCN_ASSERT(g && alpha && codes);
    return scn_backend_get()->cols_to_nchw(g, n, alpha, codes);
}

SCNDEF scn_status scn_codes_to_matrix(const scn_conv_geom *g, int n, const float *codes,
                                      float *alpha) {
    SCN_ASSERT(g && codes && alpha);
    return scn_backend_get()->nchw_to_cols(g, n, codes, alpha);
}

SCNDEF scn_status scn_sc_conv_forward(const scn_conv_geom *g, const float *D, int n,
                                      const float *x, const scn_solve_desc *desc,
                                      float *X, float *alpha, float *codes,
                                      scn_solve_info *info) {
    const scn_backend *be = scn_backend_get();
    scn_status s;
    SCN_ASSERT(g && D && x && desc && X && alpha && codes);
    if ((s = be->im2col(g, x, X)) || (s = be->en_solve(D, g->m, n, X, g->P, desc, alpha, info)))
        return s;
    return be->cols_to_nchw(g, n, alpha, codes);
}

SCNDEF scn_status scn_sc_conv_backward(const scn_conv_geom *g, const float *D, int n,
                                       const float *X, const float *alpha,
                                       const float *dcodes, const scn_solve_desc *desc,
                                       float *dD, float *dx, float *dlambda1) {
    const scn_backend *be = scn_backend_get();
    float *G, *dX;
    scn_status s;
    SCN_ASSERT(g && D && X && alpha && dcodes && desc);
    G = (float *)be->alloc((size_t)n * g->P * sizeof(float));
    dX = dx ? (float *)be->alloc((size_t)g->m * g->P * sizeof(float)) : NULL;
    if (!G || (dx && !dX))
        s = scn__fail(SCN_ERR_NOMEM, "conv backward: no memory for the %d x %d gradients", n,
                      g->P);
    else if (!(s = be->nchw_to_cols(g, n, dcodes, G)) &&
             !(s = be->en_backward(D, g->m, n, X, g->P, alpha, G, desc, dD, dX, dlambda1)) &&
             dx && !(s = be->col2im(g, dX, dx))) {
        size_t at, len = (size_t)g->N * g->C * g->H * g->W;
        /* overlapping windows add up: a finite dX can still sum past float */
        if (!(s = be->find_nonfinite(dx, len, &at)) && at < len)
            s = scn__fail(SCN_ERR_NUMERIC, "conv backward: dx entry %zu is not finite: the "
                          "sum over overlapping windows leaves float range", at);
    }
    be->release(G);
    be->release(dX);
    return s;
}

/* the power iteration's limits (SDNet appendix A) and, for the csc layer's
 * fixed-point backward (section 8), the conjugate gradients' */
#define SCN__CSC_POWER_ITERS 50
#define SCN__CSC_POWER_TOL   3.1622776601683795e-3  /* sqrt(1e-5) */
#define SCN__CSC_CG_ITERS    500
#define SCN__CSC_CG_TOL      1e-6

/* A^*(A(v)) for codes v (n x P) as the geometry g has them: cols (m x P)
 * and img (N x C x H x W) are scratch */
static scn_status scn__csc_gram(const scn_backend *be, scn_workspace *ws,
                                const scn_conv_geom *g, const float *A, int n, const float *v,
                                float *out, float *cols, float *img) {
    scn_status s;
    if ((s = be->gemm(ws, 1, 0, g->m, g->P, n, 1.0f, A, g->m, v, g->P, 0.0f, cols, g->P)) ||
        (s = be->col2im(g, cols, img)) || (s = be->im2col(g, img, cols)))
        return s;
    return be->gemm(ws, 0, 0, n, g->P, g->m, 1.0f, A, g->m, cols, g->P, 0.0f, out, g->P);
}

/* The power iteration of SDNet appendix eqs. 9-10 on A^* A over codes of
 * the geometry g, from a fixed pseudo-random start: v <- A^*A v / |A^*A v|
 * until |v_new - v| < sqrt(1e-5) or 50 steps; lambda_K = <v, A^*A v>.
 * scratch: 2 n P + m P + N C H W floats of be's memory. */
static scn_status scn__csc_power(const scn_backend *be, scn_workspace *ws,
                                 const scn_conv_geom *g, const float *A, int n, float *scratch,
                                 double *lambda_max, int *iters) {
    size_t nP = (size_t)n * g->P, i;
    float *v = scratch, *w = v + nP, *cols = w + nP, *img = cols + (size_t)g->m * g->P;
    float *host = (float *)scn__calloc(nP, sizeof(float), "power iteration");
    double nrm, d = 0.0;
    int it = 0;
    scn_rng r;
    scn_status s;
    if (!host) return SCN_ERR_NOMEM;
    scn_rng_seed(&r, 0x5d, 1);
    for (i = 0; i < nP; i++) host[i] = scn_rng_normal(&r);
    s = be->upload(v, host, nP * sizeof(float));
    SCN_FREE(host);
    if (s || (s = be->dot(v, v, nP, &nrm)) || (s = be->scal(v, (float)(1.0 / sqrt(nrm)), nP)))
        return s;
    *lambda_max = 0.0;
    while (it < SCN__CSC_POWER_ITERS) {
        it++;
        if ((s = scn__csc_gram(be, ws, g, A, n, v, w, cols, img)) ||
            (s = be->dot(w, w, nP, &nrm)))
            return s;
        if (!(nrm > 0.0)) break;            /* A = 0: lambda_K = 0 */
        if ((s = be->scal(w, (float)(1.0 / sqrt(nrm)), nP)) ||
            (s = be->axpy(v, -1.0f, w, nP)) || (s = be->dot(v, v, nP, &d)) ||
            (s = be->copy(v, w, nP)))
            return s;
        if (sqrt(d) < SCN__CSC_POWER_TOL) break;
    }
    if ((s = scn__csc_gram(be, ws, g, A, n, v, w, cols, img)) ||   /* eq. 10 */
        (s = be->dot(v, w, nP, lambda_max)))
        return s;
    if (iters) *iters = it;
    return SCN_OK;
}

SCNDEF scn_status scn_csc_power(const scn_conv_geom *g, const float *A, int n,
                                double *lambda_max, int *iters) {
    const scn_backend *be = scn_backend_get();
    uint64_t need;
    float *scratch;
    scn_status s;
    SCN_ASSERT(g && A && lambda_max);
    if (n < 1 || g->N < 1 || g->m < 1 || g->P < 1)
        return scn__fail(SCN_ERR_ARG, "csc power iteration: %d atoms, %d samples, patches of "
                         "%d, %d windows", n, g->N, g->m, g->P);
    need = 2 * (uint64_t)n * g->P + (uint64_t)g->m * g->P + (uint64_t)g->N * g->C * g->H * g->W;
    if (need > SIZE_MAX / sizeof(float) || !(scratch = (float *)be->alloc(need * sizeof(float))))
        return scn__fail(SCN_ERR_NOMEM, "csc power iteration: no memory for %llu floats",
                         (unsigned long long)need);
    s = scn__csc_power(be, NULL, g, A, n, scratch, lambda_max, iters);
    be->release(scratch);
    return s;
}

/* ======================================================================
 * 8. Layers
 *
 * Every kind below is a table (scn__kind) of its spec word, options and
 * functions; scn__kinds at the end of the section lists them. The layer
 * code holds no loops over tensor data: those are backend operations
 * (section 16), called through l->be.
 * ====================================================================== */

#define SCN__MAX_OPTIONS 16     /* per kind */
#define SCN__MAX_BLOCKS  2      /* parameter blocks per layer */

typedef struct scn__layer scn__layer;

/* A sequence of layers with the activations of its last forward. */
typedef struct scn__seq {
    int L;
    scn__layer *layers;
    float **act;                /* act[i]: output of layer i, for `cap` samples */
    float *dbuf[2];             /* ping-pong gradients between layers */
    int cap;
} scn__seq;

/* A run of a layer's parameters that share their optimiser treatment. */
typedef struct scn__block {
    size_t offset, count;       /* within the layer's parameters */
    int decay;                  /* 1: weight decay applies (weights, not biases);
                                   SCN__DECAY_LAMBDA1: only with the optimiser's
                                   decay_lambda1 (a learned lambda1) */
} scn__block;

typedef struct scn__kind {
    scn_kind_info info;
    /* options -> output shape, parameter blocks, buffer count; checks */
    scn_status (*setup)(scn__layer *l);
    void (*init)(scn__layer *l, scn_rng *r);
    scn_status (*forward)(scn__layer *l, const float *x, float *y, int N, int train);
    /* adds parameter gradients (and those of its own loss); writes dx
     * unless it is NULL */
    scn_status (*backward)(scn__layer *l, const float *x, const float *y, const float *dy,
                           float *dx, int N);
    /* after an optimiser step; step counts the steps taken (NULL: none) */
    scn_status (*project)(scn__layer *l, int64_t step);
    /* the weighted own loss of the last forward (NULL: none) */
    double (*extra_loss)(const scn__layer *l);
    /* details after the shape in scn_net_describe (NULL: none) */
    void (*describe)(const scn__layer *l, char *buf, size_t cap);
    /* checks parameters and buffers read from a checkpoint (host copies;
     * NULL: none beyond their being finite) */
    scn_status (*check)(const scn__layer *l, const float *params, const float *buffers);
} scn__kind;

/* Backend scratch shared by all layers of a net, for what one layer needs
 * only while its forward or backward runs (sc: patches, codes, gradients;
 * the net keeps every layer's output, from which its backward rebuilds
 * them). */
typedef struct scn__scratch {
    float *data;
    size_t cap;                     /* floats */
    scn_workspace solve;            /* the solvers' scratch (its dict unused: each
                                       layer keeps its own, scn__sc_lend) */
} scn__scratch;

struct scn__layer {
    const scn__kind *kind;
    double opt[SCN__MAX_OPTIONS];   /* option values, in the kind's table order */
    unsigned given;                 /* bit i: option i was in the spec */
    int depth;                      /* 0 at the top, 1 inside a block, ... */
    int number;                     /* 1-based, in the net's numbering */
    int is_shortcut;                /* 1: a residual block's projection */
    int C, H, W;                    /* input of one sample */
    int Co, Ho, Wo;                 /* output of one sample */
    int k, stride, pad;             /* window, where the kind has one */
    int flat;                       /* 1: the sample is seen as one C H W vector (sf) */
    int masked;                     /* linear: the last forward used dropconnect */
    size_t nparams, nbuffers;       /* the layer's own (not its body's) */
    scn__block blocks[SCN__MAX_BLOCKS];
    int nblocks;
    float lr_scale;                 /* option lr, 1 by default */
    int frozen;                     /* option frozen */
    float *params, *grads, *buffers;
    const scn_backend *be;          /* the net's */
    scn_workspace *gemm_ws;         /* the net's GEMM packing scratch */
    scn__scratch *shared;           /* the net's scratch for one layer at a time */
    float *ws;                      /* backend scratch grown to the batch */
    size_t ws_cap;
    const float *last_in, *last_out;    /* the input and output of the last forward
                                           (sc: what scn_net_sc_recon reads) */
    float *host;                    /* host scratch (dropout's mask draws) */
    size_t host_cap;
    scn_rng *rng;                   /* the network's, for dropout */
    int en_signed;                  /* SC kinds: signed codes */
    float density;                  /* SC kinds: fraction of nonzero codes, last forward */
    double code_l1;                 /* SC kinds: sum |alpha| of the last forward */
    float mu;                       /* SF eq. 14's weight (scn_net_set_mu) */
    float eval_tol;                 /* SC kinds: FISTA's tolerance, unpolished, when
                                       not training (scn_net_set_eval_tol); 0: exact */
    float unsup;                    /* mu / N when the last forward added l_U, else 0 */
    double extra;                   /* own loss of the last forward, weighted */
    void *dict;                     /* SC: the solver's cache of what D gives (its
                                       Gram and step bound), kept while D is unchanged */
    double seconds[2];              /* time spent in forward and backward */
    double fit_seconds;             /* pca: the last scn_pca_fit's time (not saved) */
    scn__seq body, shortcut;        /* composite kinds: the body, the projection */
    int resid_n;                    /* csc: samples whose |x - A(z)| host holds (the last
                                       evaluation forward), else 0 */
};

/* Backend scratch *data of *cap floats, grown to at least `floats`; NULL
 * on failure. Its contents do not survive growth. */
static float *scn__grow(scn__layer *l, float **data, size_t *cap, uint64_t floats) {
    if (floats > SIZE_MAX / sizeof(float)) {   /* only where size_t is 32-bit */
        scn__fail(SCN_ERR_NOMEM, "%s layer: %llu floats of scratch, more than a %zu-bit "
                  "size_t addresses", l->kind->info.name, (unsigned long long)floats,
                  sizeof(size_t) * 8);
        return NULL;
    }
    if (floats > *cap) {
        l->be->release(*data);
        *cap = 0;
        if (!(*data = (float *)l->be->alloc(floats * sizeof(float)))) {
            scn__fail(SCN_ERR_NOMEM, "%s layer: no memory for %zu floats of scratch",
                      l->kind->info.name, (size_t)floats);
            return NULL;
        }
        *cap = floats;
    }
    return *data;
}

/* The layer's own scratch (forward grows, backward reads). */
static float *scn__ws(scn__layer *l, uint64_t floats) {
    return scn__grow(l, &l->ws, &l->ws_cap, floats);
}

/* The net's shared scratch, at least `floats` long (as scn__ws). */
static float *scn__shared(scn__layer *l, uint64_t floats) {
    return scn__grow(l, &l->shared->data, &l->shared->cap, floats);
}

static float *scn__host(scn__layer *l, size_t floats) {
    if (floats > l->host_cap) {
        float *p = (float *)SCN_REALLOC(l->host, floats * sizeof(float));
        if (!p) {
            scn__fail(SCN_ERR_NOMEM, "%s layer: no memory for %zu floats", l->kind->info.name,
                      floats);
            return NULL;
        }
        l->host = p;
        l->host_cap = floats;
    }
    return l->host;
}

static size_t scn__in_size(const scn__layer *l) { return (size_t)l->C * l->H * l->W; }
static size_t scn__out_size(const scn__layer *l) { return (size_t)l->Co * l->Ho * l->Wo; }

/* A parameter block that weight decay reaches only when the optimiser's
 * decay_lambda1 is set (SCN Algorithm 2, step 7) */
#define SCN__DECAY_LAMBDA1 2

/* Declares a run of `count` parameters after the ones declared so far.
 * The count is 64-bit and the layer's total saturates at SIZE_MAX, so a
 * layer a 32-bit size_t cannot hold (2^32 weights of a linear layer)
 * reaches scn__net_parse's size test instead of wrapping to a small one. */
static void scn__add_block(scn__layer *l, uint64_t count, int decay) {
    scn__block *b = &l->blocks[l->nblocks++];
    uint64_t total = (uint64_t)l->nparams + count;
    b->offset = l->nparams;
    b->count = count > SIZE_MAX ? SIZE_MAX : (size_t)count;
    b->decay = decay;
    l->nparams = total > SIZE_MAX ? SIZE_MAX : (size_t)total;
}

/* The options every kind with parameters takes, last in its table. */
#define SCN__PARAM_OPTIONS                                                          \
    { "lr", SCN_OPTION_FLOAT, 0, 1e6, 1, 0, "learning-rate scale of this layer" },  \
    { "frozen", SCN_OPTION_FLAG, 0, 1, 0, 0, "parameters not trained" }

/* Window layers: k, stride ("s") and "valid" (no padding; pooling never
 * pads) from options at these indices; an unset pooling stride is k. */
static scn_status scn__window(scn__layer *l, int ik, int is, int ivalid) {
    scn_conv_geom g;
    scn_status s;
    int pooling = ivalid < 0;
    memset(&g, 0, sizeof g);    /* gcc -O3 cannot see that a failed init returns */
    l->k = (int)l->opt[ik];
    l->stride = pooling && !(l->given >> is & 1) ? l->k : (int)l->opt[is];
    l->pad = pooling || l->opt[ivalid] != 0 ? 0 : (l->k - 1) / 2;
    s = scn_conv_geom_init(&g, 1, l->C, l->H, l->W, l->k, l->stride, l->pad);
    if (s) return scn__fail(s, "%s layer: %s", l->kind->info.name, scn_error());
    l->Ho = g.Ho;
    l->Wo = g.Wo;
    return SCN_OK;
}

static scn_conv_geom scn__geom(const scn__layer *l, int N) {
    scn_conv_geom g;
    memset(&g, 0, sizeof g);    /* gcc -O3 cannot see that init fills it (checked at setup) */
    if (l->flat) scn_conv_geom_init(&g, N, (int)scn__in_size(l), 1, 1, 1, 1, 0);
    else scn_conv_geom_init(&g, N, l->C, l->H, l->W, l->k, l->stride, l->pad);
    return g;
}

/* Gaussian atoms scaled to unit norm: the columns of D (m x n). */
static void scn__init_atoms(float *D, int m, int n, scn_rng *r) {
    int i, j;
    for (i = 0; i < m * n; i++) D[i] = scn_rng_normal(r);
    for (j = 0; j < n; j++) {
        double s = 0.0;
        for (i = 0; i < m; i++) s += (double)D[i * n + j] * D[i * n + j];
        s = s > 0.0 ? 1.0 / sqrt(s) : 0.0;
        for (i = 0; i < m; i++) D[i * n + j] *= (float)s;
    }
}

/* He-uniform weights for a fan-in of `fan`. */
static void scn__init_he(float *w, size_t count, int fan, scn_rng *r) {
    float bound = sqrtf(6.0f / (float)fan);
    size_t i;
    for (i = 0; i < count; i++) w[i] = bound * (2.0f * scn_rng_uniform(r) - 1.0f);
}

static void scn__no_init(scn__layer *l, scn_rng *r) { (void)l; (void)r; }

/* ---- sparse coding: the elastic net per patch (SCN eq. 1; SF eqs. 5, 9)
 *      sc   SCN's layer: nonnegative (or signed) codes, lambda1 learned
 *      csf  SF section 4.2: signed codes per k x k patch, stride 1, no padding
 *      sf   SF section 4.1: signed codes of the whole sample as one vector
 *      All three keep D (m x n, row-major) as their first parameter block,
 *      lambda1 as the second where it is learned, and add SF eq. 12's
 *      unsupervised loss in training when scn_net_set_mu gave mu > 0. ---- */

/* the options all three share come first, in this order */
enum { EN_N, EN_L1, EN_L2, EN_ITERS, EN_TOL, EN_NORM, EN_LOCAL,
       SC_K = EN_LOCAL + 1, SC_S, SC_VALID, SC_SIGNED,       /* sc */
       SF_LEARN = EN_LOCAL + 1, CSF_K };                      /* sf, csf */

#define SCN__EN_OPTIONS(l1_help, norm_def, norm_help)                                     \
    { "n", SCN_OPTION_INT, 1, 1e6, 0, 1, "atoms (code channels)" },                       \
    { "l1", SCN_OPTION_FLOAT, 0, 1e3, 0.1, 0, l1_help },                                  \
    { "l2", SCN_OPTION_FLOAT, 0, 1e3, 0.01, 0, "lambda2 (fixed)" },                       \
    { "iters", SCN_OPTION_INT, 1, 1e6, 100, 0, "FISTA iteration cap" },                   \
    { "tol", SCN_OPTION_FLOAT, 1e-12, 1, 1e-5, 0, "solver tolerance (relative step)" },   \
    { "norm", SCN_OPTION_FLOAT, 1e-6, INFINITY, norm_def, 0, norm_help },                \
    { "local", SCN_OPTION_FLAG, 0, 1, 0, 0, "mu's unsupervised loss trains the atoms "     \
      "only: its input gradient (SF eq. 15) stops here" }
#define SCN__SF_LEARN_OPTION \
    { "learn", SCN_OPTION_FLAG, 0, 1, 0, 0, "learn lambda1 as SCN does (kept >= 1e-6)" }
#define SCN__SF_NORM_HELP "atoms projected to norm <= this after each step (SF 4.1)"

static const scn_option scn__sc_options[] = {
    SCN__EN_OPTIONS("initial lambda1 (learned, kept >= 1e-6)", INFINITY,
                    "atoms projected to norm <= this after each step"),
    { "k", SCN_OPTION_INT, 1, 99, 3, 0, "patch window k x k" },
    { "s", SCN_OPTION_INT, 1, 99, 1, 0, "stride" },
    { "valid", SCN_OPTION_FLAG, 0, 1, 0, 0, "no zero padding (else (k-1)/2)" },
    { "signed", SCN_OPTION_FLAG, 0, 1, 0, 0, "signed codes (as SF) instead of >= 0" },
    SCN__PARAM_OPTIONS
};
static const scn_option scn__sf_options[] = {
    SCN__EN_OPTIONS("lambda1 (fixed unless learn)", 1, SCN__SF_NORM_HELP),
    SCN__SF_LEARN_OPTION,
    SCN__PARAM_OPTIONS
};
static const scn_option scn__csf_options[] = {
    SCN__EN_OPTIONS("lambda1 (fixed unless learn)", 1, SCN__SF_NORM_HELP),
    SCN__SF_LEARN_OPTION,
    { "k", SCN_OPTION_INT, 1, 99, 5, 0, "patch window k x k (stride 1, no padding)" },
    SCN__PARAM_OPTIONS
};

static int scn__sc_m(const scn__layer *l) {
    return l->flat ? (int)scn__in_size(l) : l->C * l->k * l->k;
}
static int scn__sc_n(const scn__layer *l) { return (int)l->opt[EN_N]; }

/* D, then lambda1 when it is learned */
static scn_status scn__en_setup(scn__layer *l, int signed_codes, int learn_l1) {
    l->Co = scn__sc_n(l);
    l->en_signed = signed_codes;
    scn__add_block(l, (uint64_t)scn__sc_m(l) * scn__sc_n(l), 1);
    if (learn_l1) scn__add_block(l, 1, SCN__DECAY_LAMBDA1);
    return SCN_OK;
}

static scn_status scn__sc_setup(scn__layer *l) {
    scn_status s = scn__window(l, SC_K, SC_S, SC_VALID);
    return s ? s : scn__en_setup(l, l->opt[SC_SIGNED] != 0, 1);
}

static scn_status scn__csf_setup(scn__layer *l) {
    scn_conv_geom g;
    scn_status s;
    memset(&g, 0, sizeof g);
    l->k = (int)l->opt[CSF_K];
    l->stride = 1;
    l->pad = 0;
    if ((s = scn_conv_geom_init(&g, 1, l->C, l->H, l->W, l->k, 1, 0)))
        return scn__fail(s, "csf layer: %s", scn_error());
    l->Ho = g.Ho;
    l->Wo = g.Wo;
    return scn__en_setup(l, 1, l->opt[SF_LEARN] != 0);
}

/* SF: the sample is one vector of m = C H W, seen as m channels of 1 x 1 */
static scn_status scn__sf_setup(scn__layer *l) {
    if (scn__in_size(l) > (size_t)INT_MAX)
        return scn__fail(SCN_ERR_ARG, "sf layer: an input of %zu values (at most %d)",
                         scn__in_size(l), INT_MAX);
    l->flat = 1;
    l->k = l->stride = 1;
    l->pad = 0;
    l->Ho = l->Wo = 1;
    return scn__en_setup(l, 1, l->opt[SF_LEARN] != 0);
}

static int scn__en_learns_l1(const scn__layer *l) { return l->nblocks > 1; }

static void scn__sc_init(scn__layer *l, scn_rng *r) {
    scn__init_atoms(l->params, scn__sc_m(l), scn__sc_n(l), r);
    if (scn__en_learns_l1(l)) l->params[l->blocks[1].offset] = (float)l->opt[EN_L1];
}

/* lambda1: the option, or the learned value read from the backend's memory */
static float scn__sc_lambda1(const scn__layer *l) {
    float l1 = (float)l->opt[EN_L1];
    if (scn__en_learns_l1(l))
        l->be->download(&l1, l->params + l->blocks[1].offset, sizeof l1);
    return l1;
}

static scn_solve_desc scn__sc_solve_desc(scn__layer *l) {
    scn_solve_desc sd;
    float l1 = scn__sc_lambda1(l);
    memset(&sd, 0, sizeof sd);
    sd.lambda1 = l1 > 0.0f ? l1 : 0.0f;
    sd.lambda2 = (float)l->opt[EN_L2];
    sd.signed_codes = l->en_signed;
    sd.tol = (float)l->opt[EN_TOL];
    sd.max_iter = (int)l->opt[EN_ITERS];
    return sd;
}

/* The workspace of one solver call: the net's shared scratch with the
 * layer's own dictionary cache; scn__sc_give_back returns both after the
 * call (either may have been reallocated). One scratch serves every sc
 * layer of a net, while each keeps its Gram from forward to backward. */
static scn_workspace scn__sc_lend(const scn__layer *l) {
    scn_workspace ws = l->shared->solve;
    ws.dict = l->dict;
    return ws;
}

static void scn__sc_give_back(scn__layer *l, const scn_workspace *ws) {
    l->shared->solve.data = ws->data;
    l->shared->solve.size = ws->size;
    l->dict = ws->dict;
}

/* The net's shared scratch an sc layer uses, in floats: X (m x P), alpha
 * (n x P), dD (m x n), G (n x P), dX (m x P), and with the unsupervised
 * loss R = X - D alpha (m x P). The layer keeps none of it between forward
 * and backward: the backward rebuilds X from the layer's input and alpha
 * from its output (a change of layout), both kept by the net, so a net's
 * sc layers together need one layer's scratch instead of all of theirs.
 * Counted in 64 bits: mP and nP fit size_t whenever the total does. */
static uint64_t scn__sc_scratch(const scn_conv_geom *g, int n, int unsup) {
    return (2 + unsup) * (uint64_t)g->m * g->P + 2 * (uint64_t)n * g->P + (uint64_t)g->m * n;
}

typedef struct scn__sc_bufs {
    float *X, *alpha, *dD, *G, *dX, *R;
} scn__sc_bufs;

/* The scratch above for geometry g, carved from the net's shared scratch;
 * SCN_ERR_NOMEM if it cannot grow. */
static scn_status scn__sc_bufs_get(scn__layer *l, const scn_conv_geom *g, int unsup,
                                   scn__sc_bufs *b) {
    int n = scn__sc_n(l);
    size_t mP = (size_t)g->m * g->P, nP = (size_t)n * g->P;
    if (!(b->X = scn__shared(l, scn__sc_scratch(g, n, unsup)))) return SCN_ERR_NOMEM;
    b->alpha = b->X + mP;
    b->dD = b->alpha + nP;
    b->G = b->dD + (size_t)g->m * n;
    b->dX = b->G + nP;
    b->R = b->dX + mP;
    return SCN_OK;
}

/* R = X - D alpha: the residual of the unsupervised loss (SF eq. 12) */
static scn_status scn__sc_residual(scn__layer *l, const scn_conv_geom *g,
                                   const scn__sc_bufs *b) {
    int n = scn__sc_n(l);
    scn_status s = l->be->copy(b->R, b->X, (size_t)g->m * g->P);
    return s ? s : l->be->gemm(l->gemm_ws, 0, 0, g->m, g->P, n, -1.0f, l->params, n,
                               b->alpha, g->P, 1.0f, b->R, g->P);
}

/* How many of a batch's images an sc layer solves at once: as many as
 * keep its scratch within SCN_SC_SCRATCH bytes (at least one). Every patch
 * is its own problem, so the codes do not depend on the grouping; the
 * gradients are sums over the groups. A device backend (host_memory 0)
 * takes the batch whole: its kernels want many columns. */
static int scn__sc_group(const scn__layer *l, int N, int unsup) {
    scn_conv_geom one = scn__geom(l, 1);
    uint64_t per = scn__sc_scratch(&one, scn__sc_n(l), unsup) * sizeof(float);
    uint64_t fit = (uint64_t)SCN_SC_SCRATCH / per;
    if (!l->be->host_memory || fit >= (uint64_t)N) return N;
    return fit > 0 ? (int)fit : 1;
}

/* Solves the codes of one group of images (x its first image, y its first
 * output) into the shared scratch; with unsup, adds the group's |X - D
 * alpha|^2 and |alpha|^2 to rr and aa. Counts nonzero codes and sums |alpha|
 * into nz and l1. */
static scn_status scn__sc_solve_group(scn__layer *l, const scn_conv_geom *g,
                                      const scn_solve_desc *sd, const float *x, float *y,
                                      int unsup, size_t *nz, double *l1, double *rr,
                                      double *aa) {
    int n = scn__sc_n(l);
    size_t nP = (size_t)n * g->P, z;
    double sum, r2, a2;
    scn__sc_bufs b;
    scn_workspace ws = scn__sc_lend(l);
    scn_solve_desc d = *sd;
    scn_status s = scn__sc_bufs_get(l, g, unsup, &b);
    d.ws = &ws;
    if (!s && !(s = l->be->im2col(g, x, b.X))) {
        s = l->be->en_solve(l->params, g->m, n, b.X, g->P, &d, b.alpha, NULL);
        scn__sc_give_back(l, &ws);
    }
    if (s || (s = l->be->cols_to_nchw(g, n, b.alpha, y)) ||
        (s = l->be->sparsity(b.alpha, nP, &z, &sum)))
        return s;
    *nz += z;
    *l1 += sum;
    if (!unsup) return SCN_OK;
    if ((s = scn__sc_residual(l, g, &b)) ||
        (s = l->be->dot(b.R, b.R, (size_t)g->m * g->P, &r2)) ||
        (s = l->be->dot(b.alpha, b.alpha, nP, &a2)))
        return s;
    *rr += r2;
    *aa += a2;
    return SCN_OK;
}

static scn_status scn__sc_forward(scn__layer *l, const float *x, float *y, int N, int train) {
    int n = scn__sc_n(l), unsup = train && l->mu > 0.0f, step = scn__sc_group(l, N, unsup);
    int b0;
    size_t nz = 0;
    double rr = 0.0, aa = 0.0;
    scn_solve_desc sd = scn__sc_solve_desc(l);
    scn_status s;
    if (!train && l->eval_tol > 0.0f) {     /* codes only: no gradient needs them exact */
        sd.tol = l->eval_tol;
        sd.no_polish = 1;
    }
    l->last_in = x;
    l->last_out = y;
    l->code_l1 = 0.0;
    for (b0 = 0; b0 < N; b0 += step) {
        scn_conv_geom g = scn__geom(l, N - b0 < step ? N - b0 : step);
        if ((s = scn__sc_solve_group(l, &g, &sd, x + b0 * scn__in_size(l),
                                     y + b0 * scn__out_size(l), unsup, &nz, &l->code_l1,
                                     &rr, &aa)))
            return s;
    }
    l->density = (float)((double)nz / ((double)n * scn__geom(l, N).P));
    l->extra = 0.0;
    l->unsup = 0.0f;
    if (!unsup) return SCN_OK;
    /* SF eq. 12 summed over the patches of each sample, averaged over the
     * batch, weighted by mu (eq. 14) */
    l->unsup = l->mu / (float)N;
    l->extra = l->unsup * (0.5 * rr + sd.lambda1 * l->code_l1 + 0.5 * sd.lambda2 * aa);
    return SCN_OK;
}

/* The fixed-point gradients of one group of images (x, y, dy, dx at its
 * first image; dx may be NULL): adds the group's dD to the layer's
 * gradient and its dlambda1 to *dl. */
static scn_status scn__sc_backward_group(scn__layer *l, const scn_conv_geom *g,
                                         const scn_solve_desc *sd, const float *x,
                                         const float *y, const float *dy, float *dx,
                                         float *dl) {
    int n = scn__sc_n(l), learn = scn__en_learns_l1(l);
    float c = l->unsup, part = 0.0f;
    scn__sc_bufs b;
    scn_workspace ws = scn__sc_lend(l);
    scn_solve_desc d = *sd;
    scn_status s = scn__sc_bufs_get(l, g, c > 0.0f, &b);
    d.ws = &ws;
    /* the forward's patches and codes, rebuilt from its input and output */
    if (s || (s = l->be->im2col(g, x, b.X)) || (s = l->be->nchw_to_cols(g, n, y, b.alpha)) ||
        (c > 0.0f && (s = scn__sc_residual(l, g, &b))) ||
        (s = l->be->nchw_to_cols(g, n, dy, b.G)))
        return s;
    s = l->be->en_backward(l->params, g->m, n, b.X, g->P, b.alpha, b.G, &d, b.dD,
                           dx ? b.dX : NULL, learn ? &part : NULL);
    scn__sc_give_back(l, &ws);
    if (s) return s;
    if (c > 0.0f && ((s = l->be->gemm(l->gemm_ws, 0, 1, g->m, n, g->P, -c, b.R, g->P, b.alpha,
                                      g->P, 1.0f, b.dD, n)) ||
                     (dx && !l->opt[EN_LOCAL] &&
                      (s = l->be->axpy(b.dX, c, b.R, (size_t)g->m * g->P)))))
        return s;
    if (dx && (s = l->be->col2im(g, b.dX, dx))) return s;
    *dl += part;
    return l->be->axpy(l->grads, 1.0f, b.dD, (size_t)g->m * n);
}

/* The fixed-point gradients (SCN eqs. 11, 13, 17; SF eqs. 6-8). The
 * unsupervised loss c l_U, c = mu / N, is the minimum of the elastic-net
 * objective itself, so alpha's dependence on D and x drops out of its
 * gradient: c times SF eq. 13 in D (-R alpha^T), eq. 15 in x (R; not with
 * `local`) and |alpha|_1 in a learned lambda1. */
static scn_status scn__sc_backward(scn__layer *l, const float *x, const float *y,
                                   const float *dy, float *dx, int N) {
    int step = scn__sc_group(l, N, l->unsup > 0.0f), b0;
    size_t in = scn__in_size(l), out = scn__out_size(l);
    float dl = 0.0f;
    scn_solve_desc sd = scn__sc_solve_desc(l);
    scn_status s;
    for (b0 = 0; b0 < N; b0 += step) {
        scn_conv_geom g = scn__geom(l, N - b0 < step ? N - b0 : step);
        if ((s = scn__sc_backward_group(l, &g, &sd, x + b0 * in, y + b0 * out,
                                        dy + b0 * out, dx ? dx + b0 * in : NULL, &dl)))
            return s;
    }
    if (!scn__en_learns_l1(l)) return SCN_OK;
    dl += l->unsup * (float)l->code_l1;
    return l->be->axpy(l->grads + l->blocks[1].offset, 1.0f, &dl, 1);  /* SCN eq. 13 */
}

/* a learned lambda1 >= SCN_LAMBDA1_MIN > 0 (SCN eq. 6's lambda1 > 0; Algorithm
 * 2, step 7, with a positive floor for its (.)_+: section 10); atoms within norm */
static scn_status scn__sc_project(scn__layer *l, int64_t step) {
    scn_status s = SCN_OK;
    (void)step;
    if (scn__en_learns_l1(l))
        s = l->be->clamp_min(l->params + l->blocks[1].offset, 1, SCN_LAMBDA1_MIN);
    if (s || isinf(l->opt[EN_NORM])) return s;
    return l->be->col_norm_clip(l->params, scn__sc_m(l), scn__sc_n(l),
                                (float)l->opt[EN_NORM]);
}

static double scn__sc_extra_loss(const scn__layer *l) { return l->extra; }

/* a loaded lambda1 must be >= 0 (every step now leaves it >= SCN_LAMBDA1_MIN;
 * files from before the floor may hold 0) */
static scn_status scn__sc_check(const scn__layer *l, const float *params,
                                const float *buffers) {
    float l1 = scn__en_learns_l1(l) ? params[l->blocks[1].offset] : 0.0f;
    (void)buffers;
    return l1 >= 0.0f ? SCN_OK : scn__fail(SCN_ERR_FORMAT, "lambda1 is %g (must be >= 0)",
                                           (double)l1);
}

static void scn__sc_describe(const scn__layer *l, char *buf, size_t cap) {
    const char *l1 = scn__en_learns_l1(l) ? "" : " fixed";
    if (l->flat)
        snprintf(buf, cap, "(m %d, n %d, lambda1 %.4g%s)", scn__sc_m(l), scn__sc_n(l),
                 (double)scn__sc_lambda1(l), l1);
    else
        snprintf(buf, cap, "(m %d, n %d, %dx%d/%d, lambda1 %.4g%s)", scn__sc_m(l),
                 scn__sc_n(l), l->k, l->k, l->stride, (double)scn__sc_lambda1(l), l1);
}

/* ---- batch normalisation: scale, shift; buffers running mean, var ---- */

static const scn_option scn__bn_options[] = { SCN__PARAM_OPTIONS };

#define SCN__BN_EPS      1e-5f
#define SCN__BN_MOMENTUM 0.1f

static scn_status scn__bn_setup(scn__layer *l) {
    l->Co = l->C; l->Ho = l->H; l->Wo = l->W;
    scn__add_block(l, (size_t)l->C, 0);      /* scale */
    scn__add_block(l, (size_t)l->C, 0);      /* shift */
    l->nbuffers = 2 * (size_t)l->C;
    return SCN_OK;
}

static void scn__bn_init(scn__layer *l, scn_rng *r) {
    int c;
    (void)r;
    for (c = 0; c < l->C; c++) {
        l->params[c] = 1.0f;
        l->params[l->C + c] = 0.0f;
        l->buffers[c] = 0.0f;
        l->buffers[l->C + c] = 1.0f;
    }
}

static scn_bn_args scn__bn_args(const scn__layer *l, int N) {
    scn_bn_args a;
    a.N = N; a.C = l->C; a.HW = l->H * l->W;
    a.momentum = SCN__BN_MOMENTUM;
    a.eps = SCN__BN_EPS;
    return a;
}

/* scratch: xhat (N x C x HW), inverse std (C) */
static scn_status scn__bn_forward(scn__layer *l, const float *x, float *y, int N, int train) {
    scn_bn_args a = scn__bn_args(l, N);
    size_t count = (size_t)N * l->C * a.HW;
    float *xhat = scn__ws(l, count + l->C);
    if (!xhat) return SCN_ERR_NOMEM;
    if (train && (size_t)N * a.HW < 2)
        return scn__fail(SCN_ERR_ARG, "bn layer: batch statistics need more than one value "
                         "per channel (batch of %d, %d pixels)", N, a.HW);
    return l->be->bn_forward(&a, x, y, l->params, l->params + l->C, l->buffers, xhat,
                             xhat + count, train);
}

static scn_status scn__bn_backward(scn__layer *l, const float *x, const float *y,
                                   const float *dy, float *dx, int N) {
    scn_bn_args a = scn__bn_args(l, N);
    const float *xhat = l->ws, *inv = xhat + (size_t)N * l->C * a.HW;
    (void)x; (void)y;
    return l->be->bn_backward(&a, dy, xhat, inv, l->params, l->grads, l->grads + l->C, dx);
}

/* loaded running variances must be >= 0 */
static scn_status scn__bn_check(const scn__layer *l, const float *params,
                                const float *buffers) {
    int c;
    (void)params;
    for (c = 0; c < l->C; c++)
        if (buffers[l->C + c] < 0.0f)
            return scn__fail(SCN_ERR_FORMAT, "channel %d's running variance is %g", c,
                             (double)buffers[l->C + c]);
    return SCN_OK;
}

/* ---- convolution: weights (n x C k k), bias (n) ---- */

enum { CONV_N, CONV_K, CONV_S, CONV_VALID };
static const scn_option scn__conv_options[] = {
    { "n", SCN_OPTION_INT, 1, 1e6, 0, 1, "output channels" },
    { "k", SCN_OPTION_INT, 1, 99, 3, 0, "window k x k" },
    { "s", SCN_OPTION_INT, 1, 99, 1, 0, "stride" },
    { "valid", SCN_OPTION_FLAG, 0, 1, 0, 0, "no zero padding (else (k-1)/2)" },
    SCN__PARAM_OPTIONS
};

static scn_status scn__conv_setup(scn__layer *l) {
    scn_status s = scn__window(l, CONV_K, CONV_S, CONV_VALID);
    if (s) return s;
    l->Co = (int)l->opt[CONV_N];
    scn__add_block(l, (uint64_t)l->C * l->k * l->k * l->Co, 1); /* weights */
    scn__add_block(l, (size_t)l->Co, 0);                        /* bias */
    return SCN_OK;
}

static void scn__conv_init(scn__layer *l, scn_rng *r) {
    scn__init_he(l->params, l->blocks[0].count, l->C * l->k * l->k, r);
}

/* scratch: X (m x P), Y / dY (n x P), dX (m x P) */
static scn_status scn__conv_forward(scn__layer *l, const float *x, float *y, int N, int train) {
    scn_conv_geom g = scn__geom(l, N);
    size_t mP = (size_t)g.m * g.P;
    float *X = scn__ws(l, 2 * (uint64_t)g.m * g.P + (uint64_t)l->Co * g.P), *Y; /* as sc */
    scn_status s;
    (void)train;
    if (!X) return SCN_ERR_NOMEM;
    Y = X + mP;
    if ((s = l->be->im2col(&g, x, X)) ||
        (s = l->be->broadcast(Y, l->Co, g.P, l->params + l->blocks[1].offset, 0)) ||
        (s = l->be->gemm(l->gemm_ws, 0, 0, l->Co, g.P, g.m, 1.0f, l->params, g.m, X, g.P,
                         1.0f, Y, g.P)))
        return s;
    return l->be->cols_to_nchw(&g, l->Co, Y, y);
}

static scn_status scn__conv_backward(scn__layer *l, const float *x, const float *y,
                                     const float *dy, float *dx, int N) {
    scn_conv_geom g = scn__geom(l, N);
    size_t mP = (size_t)g.m * g.P;
    float *X = l->ws, *dY = X + mP, *dX = dY + (size_t)l->Co * g.P;
    scn_status s;
    (void)x; (void)y;
    if ((s = l->be->nchw_to_cols(&g, l->Co, dy, dY)) ||
        (s = l->be->gemm(l->gemm_ws, 0, 1, l->Co, g.m, g.P, 1.0f, dY, g.P, X, g.P, 1.0f,
                         l->grads, g.m)) ||
        (s = l->be->sum_add(l->grads + l->blocks[1].offset, dY, l->Co, g.P, 0)))
        return s;
    if (!dx) return SCN_OK;
    if ((s = l->be->gemm(l->gemm_ws, 1, 0, g.m, g.P, l->Co, 1.0f, l->params, g.m, dY, g.P,
                         0.0f, dX, g.P)))
        return s;
    return l->be->col2im(&g, dX, dx);
}

/* An inverted-dropout mask of `count` values (backend memory), each 0 with
 * probability p, else 1/(1-p), drawn on the host from the net's generator. */
static scn_status scn__dropout_mask(scn__layer *l, float *mask, size_t count, float p) {
    float keep = 1.0f / (1.0f - p), *draw = l->be->host_memory ? mask : scn__host(l, count);
    size_t i;
    if (!draw) return SCN_ERR_NOMEM;
    for (i = 0; i < count; i++) draw[i] = scn_rng_uniform(l->rng) < p ? 0.0f : keep;
    return draw != mask ? l->be->upload(mask, draw, count * sizeof *mask) : SCN_OK;
}

/* ---- linear: weights (n x F), bias (n) on the flattened sample; with
 *      dropconnect p, training multiplies the weights by a mask of 0 and
 *      1/(1-p) drawn once per batch (Wan et al.'s DropConnect with one
 *      mask for the batch, inverted so evaluation uses the weights as
 *      they are; DDSE section 4.2, baseline III) ---- */

enum { LINEAR_N, LINEAR_DROPCONNECT };
static const scn_option scn__linear_options[] = {
    { "n", SCN_OPTION_INT, 1, 1e6, 0, 1, "outputs" },
    { "dropconnect", SCN_OPTION_FLOAT, 0, 0.999, 0, 0, "probability of dropping a weight "
      "in training" },
    SCN__PARAM_OPTIONS
};

static scn_status scn__linear_setup(scn__layer *l) {
    l->Co = (int)l->opt[LINEAR_N]; l->Ho = 1; l->Wo = 1;
    scn__add_block(l, (uint64_t)scn__in_size(l) * l->Co, 1); /* weights */
    scn__add_block(l, (size_t)l->Co, 0);               /* bias */
    return SCN_OK;
}

static void scn__linear_init(scn__layer *l, scn_rng *r) {
    scn__init_he(l->params, l->blocks[0].count, (int)scn__in_size(l), r);
}

/* dropconnect in training: 1, and the weights' mask, the masked weights
 * and room for their gradient in the scratch (n F each) */
static int scn__dropconnect(scn__layer *l, int train) {
    return train && l->opt[LINEAR_DROPCONNECT] > 0.0;
}

static scn_status scn__linear_forward(scn__layer *l, const float *x, float *y, int N,
                                      int train) {
    int F = (int)scn__in_size(l), n = l->Co;
    size_t nF = (size_t)n * F;
    const float *Wt = l->params;
    scn_status s = l->be->broadcast(y, N, n, l->params + l->blocks[1].offset, 1);
    if (s) return s;
    if (scn__dropconnect(l, train)) {
        float *mask = scn__ws(l, 3 * (uint64_t)nF);
        if (!mask) return SCN_ERR_NOMEM;
        if ((s = scn__dropout_mask(l, mask, nF, (float)l->opt[LINEAR_DROPCONNECT])) ||
            (s = l->be->mul(mask + nF, l->params, mask, nF)))
            return s;
        Wt = mask + nF;
    }
    l->masked = Wt != l->params;    /* what backward multiplies by */
    return l->be->gemm(l->gemm_ws, 0, 1, N, n, F, 1.0f, x, F, Wt, F, 1.0f, y, n);
}

static scn_status scn__linear_backward(scn__layer *l, const float *x, const float *y,
                                       const float *dy, float *dx, int N) {
    int F = (int)scn__in_size(l), n = l->Co;
    size_t nF = (size_t)n * F;
    const float *Wt = l->masked ? l->ws + nF : l->params;
    scn_status s;
    (void)y;
    if (l->masked) {                /* dW = (dy^T x) .* mask */
        float *dW = l->ws + 2 * nF;
        if ((s = l->be->gemm(l->gemm_ws, 1, 0, n, F, N, 1.0f, dy, n, x, F, 0.0f, dW, F)) ||
            (s = l->be->mul(dW, dW, l->ws, nF)) || (s = l->be->axpy(l->grads, 1.0f, dW, nF)))
            return s;
    } else if ((s = l->be->gemm(l->gemm_ws, 1, 0, n, F, N, 1.0f, dy, n, x, F, 1.0f, l->grads,
                                F))) {
        return s;
    }
    if ((s = l->be->sum_add(l->grads + l->blocks[1].offset, dy, N, n, 1))) return s;
    if (!dx) return SCN_OK;
    return l->be->gemm(l->gemm_ws, 0, 0, N, F, n, 1.0f, dy, n, Wt, F, 0.0f, dx, F);
}

/* ---- shape-only layers: relu, flatten, dropout, pooling ---- */

static scn_status scn__same_setup(scn__layer *l) {
    l->Co = l->C; l->Ho = l->H; l->Wo = l->W;
    return SCN_OK;
}

static scn_status scn__relu_forward(scn__layer *l, const float *x, float *y, int N,
                                    int train) {
    (void)train;
    return l->be->relu(y, x, (size_t)N * scn__in_size(l));
}

static scn_status scn__relu_backward(scn__layer *l, const float *x, const float *y,
                                     const float *dy, float *dx, int N) {
    (void)x;
    return dx ? l->be->relu_backward(dx, y, dy, (size_t)N * scn__in_size(l)) : SCN_OK;
}

static scn_status scn__flatten_setup(scn__layer *l) {
    l->Co = (int)scn__in_size(l); l->Ho = 1; l->Wo = 1;
    return SCN_OK;
}

static scn_status scn__copy_forward(scn__layer *l, const float *x, float *y, int N,
                                    int train) {
    (void)train;
    return l->be->copy(y, x, (size_t)N * scn__in_size(l));
}

static scn_status scn__copy_backward(scn__layer *l, const float *x, const float *y,
                                     const float *dy, float *dx, int N) {
    (void)x; (void)y;
    return dx ? l->be->copy(dx, dy, (size_t)N * scn__in_size(l)) : SCN_OK;
}

static const scn_option scn__dropout_options[] = {
    { "p", SCN_OPTION_FLOAT, 0, 0.999, 0.5, 0, "probability of dropping a value" },
};

/* scratch: the mask */
static scn_status scn__dropout_forward(scn__layer *l, const float *x, float *y, int N,
                                       int train) {
    size_t count = (size_t)N * scn__in_size(l);
    float *mask;
    scn_status s;
    if (!train) return scn__copy_forward(l, x, y, N, 0);
    if (!(mask = scn__ws(l, count))) return SCN_ERR_NOMEM;
    if ((s = scn__dropout_mask(l, mask, count, (float)l->opt[0]))) return s;
    return l->be->mul(y, x, mask, count);
}

static scn_status scn__dropout_backward(scn__layer *l, const float *x, const float *y,
                                        const float *dy, float *dx, int N) {
    (void)x; (void)y;
    return dx ? l->be->mul(dx, dy, l->ws, (size_t)N * scn__in_size(l)) : SCN_OK;
}

enum { POOL_K, POOL_S };
static const scn_option scn__pool_options[] = {
    { "k", SCN_OPTION_INT, 1, 99, 2, 0, "window k x k" },
    { "s", SCN_OPTION_INT, 1, 99, 0, 0, "stride (default: k)" },
};

static scn_status scn__pool_setup(scn__layer *l) {
    l->Co = l->C;
    return scn__window(l, POOL_K, POOL_S, -1);
}

static scn_pool_args scn__pool_args(const scn__layer *l, int N) {
    scn_pool_args a;
    a.N = N; a.C = l->C; a.H = l->H; a.W = l->W;
    a.kh = l->k; a.kw = l->k; a.stride = l->stride;
    a.Ho = l->Ho; a.Wo = l->Wo;
    return a;
}

/* scratch: the argmax (input index within the plane) of each output */
static scn_status scn__maxpool_forward(scn__layer *l, const float *x, float *y, int N,
                                       int train) {
    scn_pool_args a = scn__pool_args(l, N);
    int *arg = (int *)scn__ws(l, (size_t)N * l->C * l->Ho * l->Wo);
    (void)train;
    if (!arg) return SCN_ERR_NOMEM;
    return l->be->maxpool(&a, x, y, arg);
}

static scn_status scn__maxpool_backward(scn__layer *l, const float *x, const float *y,
                                        const float *dy, float *dx, int N) {
    scn_pool_args a = scn__pool_args(l, N);
    (void)x; (void)y;
    return dx ? l->be->maxpool_backward(&a, dy, (const int *)l->ws, dx) : SCN_OK;
}

static scn_status scn__avgpool_forward(scn__layer *l, const float *x, float *y, int N,
                                       int train) {
    scn_pool_args a = scn__pool_args(l, N);
    (void)train;
    return l->be->avgpool(&a, x, y);
}

static scn_status scn__avgpool_backward(scn__layer *l, const float *x, const float *y,
                                        const float *dy, float *dx, int N) {
    scn_pool_args a = scn__pool_args(l, N);
    (void)x; (void)y;
    return dx ? l->be->avgpool_backward(&a, dy, dx) : SCN_OK;
}

/* global average pooling: avgpool with the whole plane as its window */
static scn_status scn__gap_setup(scn__layer *l) {
    l->Co = l->C; l->Ho = 1; l->Wo = 1;
    l->k = 0;
    l->stride = 1;
    return SCN_OK;
}

static scn_pool_args scn__gap_args(const scn__layer *l, int N) {
    scn_pool_args a = scn__pool_args(l, N);
    a.kh = l->H; a.kw = l->W;
    return a;
}

static scn_status scn__gap_forward(scn__layer *l, const float *x, float *y, int N, int train) {
    scn_pool_args a = scn__gap_args(l, N);
    (void)train;
    return l->be->avgpool(&a, x, y);
}

static scn_status scn__gap_backward(scn__layer *l, const float *x, const float *y,
                                    const float *dy, float *dx, int N) {
    scn_pool_args a = scn__gap_args(l, N);
    (void)x; (void)y;
    return dx ? l->be->avgpool_backward(&a, dy, dx) : SCN_OK;
}

/* ---- residual block: y = body(x) + x, or + a 1x1 strided convolution of x
 *      when the body changes the shape (ResNet's projection shortcut) ---- */

static scn_status scn__seq_forward(scn__seq *q, const float *x, int N, int train,
                                   const float **out);
static scn_status scn__seq_backward(scn__seq *q, const float *x, const float *dy, float *dx,
                                    int N);
static scn_status scn__res_setup(scn__layer *l);

static scn_status scn__res_forward(scn__layer *l, const float *x, float *y, int N,
                                   int train) {
    const float *body, *skip = x;
    size_t count = (size_t)N * scn__out_size(l);
    scn_status s;
    if ((s = scn__seq_forward(&l->body, x, N, train, &body)) ||
        (l->shortcut.L && (s = scn__seq_forward(&l->shortcut, x, N, train, &skip))) ||
        (s = l->be->copy(y, body, count)))
        return s;
    return l->be->axpy(y, 1.0f, skip, count);
}

/* scratch: the body's dx, the shortcut's dx */
static scn_status scn__res_backward(scn__layer *l, const float *x, const float *y,
                                    const float *dy, float *dx, int N) {
    size_t in = (size_t)N * scn__in_size(l);
    float *dbody = scn__ws(l, 2 * in), *dskip;
    scn_status s;
    (void)y;
    if (!dbody) return SCN_ERR_NOMEM;
    dskip = dbody + in;
    if ((s = scn__seq_backward(&l->body, x, dy, dx ? dbody : NULL, N))) return s;
    if (l->shortcut.L && (s = scn__seq_backward(&l->shortcut, x, dy, dx ? dskip : NULL, N)))
        return s;
    if (!dx) return SCN_OK;
    if ((s = l->be->copy(dx, dbody, in))) return s;
    return l->be->axpy(dx, 1.0f, l->shortcut.L ? dskip : dy, in);
}

/* ---- pca: x_PCA = D0^T (x - mean) (DDSE eq. 5 and section 3.1), the
 *      sample flattened; D0 the eigenvectors of the training covariance,
 *      computed by scn_pca_fit, kept in the buffers, never trained.
 *      Buffers: basis B = D0^T (n x n, row i the i-th component, by
 *      descending variance), bias -B mean (n), eigenvalues (n), mean (n),
 *      then the fit's record: images, orthogonality error max |B B^T - I|
 *      and residual max_i |C v_i - w_i v_i| / w_0 (the seconds it took are
 *      kept in the layer only, so that equal runs save equal bytes). An
 *      unfitted layer is the identity (images = 0). ---- */

enum { PCA_IMAGES, PCA_ORTHO, PCA_RESID, PCA_INFO };

static int scn__pca_n(const scn__layer *l) { return (int)scn__in_size(l); }
static float *scn__pca_bias(const scn__layer *l) {
    return l->buffers + (size_t)scn__pca_n(l) * scn__pca_n(l);
}
static float *scn__pca_info(const scn__layer *l) { return scn__pca_bias(l) + 3 * scn__pca_n(l); }

static scn_status scn__pca_setup(scn__layer *l) {
    uint64_t n = scn__in_size(l);
    if (n > 16384)
        return scn__fail(SCN_ERR_ARG, "pca layer: %llu inputs (at most 16384: the basis is "
                         "n x n)", (unsigned long long)n);
    l->Co = (int)n; l->Ho = 1; l->Wo = 1;
    l->flat = 1;
    l->nbuffers = (size_t)(n * n + 3 * n + PCA_INFO);
    return SCN_OK;
}

static void scn__pca_init(scn__layer *l, scn_rng *r) {
    int i, n = scn__pca_n(l);
    (void)r;
    for (i = 0; i < n; i++) l->buffers[(size_t)i * n + i] = 1.0f;    /* the rest is 0 */
}

static scn_status scn__pca_forward(scn__layer *l, const float *x, float *y, int N, int train) {
    int n = scn__pca_n(l);
    scn_status s = l->be->broadcast(y, N, n, scn__pca_bias(l), 1);
    (void)train;
    if (s) return s;
    return l->be->gemm(l->gemm_ws, 0, 1, N, n, n, 1.0f, x, n, l->buffers, n, 1.0f, y, n);
}

static scn_status scn__pca_backward(scn__layer *l, const float *x, const float *y,
                                    const float *dy, float *dx, int N) {
    int n = scn__pca_n(l);
    (void)x; (void)y;
    if (!dx) return SCN_OK;
    return l->be->gemm(l->gemm_ws, 0, 0, N, n, n, 1.0f, dy, n, l->buffers, n, 0.0f, dx, n);
}

static void scn__pca_describe(const scn__layer *l, char *buf, size_t cap) {
    const float *info = scn__pca_info(l);
    char took[32] = "";
    if (info[PCA_IMAGES] <= 0.0f) {
        snprintf(buf, cap, "(identity: basis not fitted yet)");
        return;
    }
    if (l->fit_seconds > 0.0) snprintf(took, sizeof took, " in %.2f s", l->fit_seconds);
    snprintf(buf, cap, "(basis of %.0f images%s; max |V V^T - I| %.1e, max |C v - w v| "
             "%.1e w_max)", (double)info[PCA_IMAGES], took, (double)info[PCA_ORTHO],
             (double)info[PCA_RESID]);
}

/* ---- ddse and lista: k iterations of ISTA unfolded into one layer on the
 *      flattened sample x (n), codes z (m), each stage's shrinkage
 *      N(u)_i = sign(u_i) max(|u_i| - theta_i, 0) with thresholds learned
 *      per code and stage (DDSE eq. 2's N; DDSE footnote 1, as LISTA):
 *        ddse  z^0 = N(W1 x), z^j = N(W1 x + z^{j-1} - W3_j W2_j z^{j-1})
 *              (DDSE eq. 5, Figure 2; W2_j, W3_j untied across stages),
 *              W1 and W3_j kept to s nonzeros per row, W2_j per column by
 *              projection every `every` steps (eq. 8, section 4.1);
 *        ddse:shortcut=0  z^j = N(W3_j W2_j z^{j-1}): the same without the
 *              shortcuts (section 4.2, baseline V);
 *        lista z^j = N(W x + S_j z^{j-1}), W (m x n) and S_j (m x m) dense
 *              (Gregor and LeCun; baseline IV), optional dropout p on
 *              z^{j-1} inside each stage.
 *      Work is feature-major (a column per sample). Parameters: block 0 the
 *      weights, W1 (m x n) then W2_j (n x m) and W3_j (m x n) per stage
 *      (lista: W, then S_j); block 1 the thresholds, (k + 1) x m. ---- */

enum { UNF_N, UNF_ITERS, UNF_L1, DDSE_NNZ, DDSE_EVERY, DDSE_SHORTCUT };
enum { LISTA_P = UNF_L1 + 1 };
enum { UNF_DDSE, UNF_PLAIN, UNF_LISTA };     /* the recurrences above */

static const scn_option scn__ddse_options[] = {
    { "n", SCN_OPTION_INT, 1, 1e6, 0, 1, "code size m" },
    { "iters", SCN_OPTION_INT, 0, 64, 2, 0, "unfolded iterations k" },
    { "l1", SCN_OPTION_FLOAT, 0, 1e6, 0.01, 0, "initial thresholds" },
    { "nnz", SCN_OPTION_INT, 1, 1e6, 0, 0, "nonzeros s per row of W1, W3 and column of W2 "
      "(default: a quarter of the inputs)" },
    { "every", SCN_OPTION_INT, 1, 1e9, 15, 0, "steps between projections" },
    { "shortcut", SCN_OPTION_FLAG, 0, 1, 1, 0, "0: no shortcuts (baseline V)" },
    SCN__PARAM_OPTIONS
};

static const scn_option scn__lista_options[] = {
    { "n", SCN_OPTION_INT, 1, 1e6, 0, 1, "code size m" },
    { "iters", SCN_OPTION_INT, 0, 64, 2, 0, "unfolded iterations k" },
    { "l1", SCN_OPTION_FLOAT, 0, 1e6, 0.01, 0, "initial thresholds" },
    { "p", SCN_OPTION_FLOAT, 0, 0.999, 0, 0, "dropout on the codes inside each stage" },
    SCN__PARAM_OPTIONS
};

static int scn__unf_form(const scn__layer *l) {
    if (!strcmp(l->kind->info.name, "lista")) return UNF_LISTA;
    return l->opt[DDSE_SHORTCUT] != 0 ? UNF_DDSE : UNF_PLAIN;
}
static int scn__unf_m(const scn__layer *l) { return (int)l->opt[UNF_N]; }
static int scn__unf_k(const scn__layer *l) { return (int)l->opt[UNF_ITERS]; }
static int scn__ddse_s(const scn__layer *l) {
    int n = (int)scn__in_size(l);
    return l->given >> DDSE_NNZ & 1 ? (int)l->opt[DDSE_NNZ] : (n + 3) / 4;
}
static float scn__lista_p(const scn__layer *l) {
    return scn__unf_form(l) == UNF_LISTA ? (float)l->opt[LISTA_P] : 0.0f;
}

/* Stage j's weights (j = 1..k): ddse W2_j (n x m), W3_j (m x n); lista
 * S_j (m x m) as *a, *b NULL. */
static void scn__unf_stage(const scn__layer *l, float *base, int j, float **a, float **b) {
    size_t m = (size_t)scn__unf_m(l), n = scn__in_size(l);
    if (scn__unf_form(l) == UNF_LISTA) {
        *a = base + m * n + (size_t)(j - 1) * m * m;
        *b = NULL;
    } else {
        *a = base + m * n + (size_t)(j - 1) * 2 * m * n;
        *b = *a + m * n;
    }
}

/* A ddse weight matrix whose density of nonzeros is at most this is
 * multiplied sparsely (bench/sparse.c: the sparse product of a 1024 x 784
 * matrix and a batch of 256 wins below about 1/8 and loses above). */
#define SCN__SPARSE_DENSITY 0.125

/* C = alpha op(A) B + beta C for a weight matrix A (M x K as op sees it;
 * B K x N, C M x N, all packed): sparsely when the layer's weights can be
 * sparse enough (s / n at most SCN__SPARSE_DENSITY) and A is, else by GEMM. */
static scn_status scn__unf_mm(scn__layer *l, int ta, int M, int N, int K, float alpha,
                              const float *A, const float *B, float beta, float *C) {
    int lda = ta ? M : K;
    if (scn__unf_form(l) != UNF_LISTA &&
        scn__ddse_s(l) <= SCN__SPARSE_DENSITY * scn__in_size(l)) {
        size_t nnz;
        double abs_sum;
        scn_status s = l->be->sparsity(A, (size_t)M * K, &nnz, &abs_sum);
        if (s) return s;
        if (nnz <= SCN__SPARSE_DENSITY * M * K)
            return l->be->gemm_sparse_a(ta, M, N, K, alpha, A, lda, B, N, beta, C, N);
    }
    return l->be->gemm(l->gemm_ws, ta, 0, M, N, K, alpha, A, lda, B, N, beta, C, N);
}

static scn_status scn__unf_setup(scn__layer *l) {
    uint64_t m = (uint64_t)l->opt[UNF_N], n = scn__in_size(l), k = (uint64_t)l->opt[UNF_ITERS];
    int lista = scn__unf_form(l) == UNF_LISTA;
    l->Co = (int)m; l->Ho = 1; l->Wo = 1;
    l->flat = 1;
    if (!lista && (uint64_t)scn__ddse_s(l) > n)
        return scn__fail(SCN_ERR_ARG, "ddse layer: nnz=%d is more than the %llu inputs",
                         scn__ddse_s(l), (unsigned long long)n);
    scn__add_block(l, m * n + k * (lista ? m * m : 2 * m * n), 1);  /* weights */
    scn__add_block(l, (k + 1) * m, 0);                              /* thresholds */
    return SCN_OK;
}

/* Largest eigenvalue of D^T D for D (n x m) by power iteration (60 steps
 * from the ones vector, in double): the step bound that makes ISTA's
 * I - D^T D nonexpansive. */
static double scn__power_norm2(const float *D, int n, int m) {
    double *v = (double *)scn__calloc((size_t)m + n, sizeof(double), "init"), *u, lam = 1.0;
    int it, i, j;
    if (!v) return 1.0;
    u = v + m;
    for (j = 0; j < m; j++) v[j] = 1.0 / sqrt((double)m);
    for (it = 0; it < 60; it++) {
        double norm = 0.0;
        for (i = 0; i < n; i++) {
            double s = 0.0;
            for (j = 0; j < m; j++) s += (double)D[(size_t)i * m + j] * v[j];
            u[i] = s;
        }
        for (j = 0; j < m; j++) v[j] = 0.0;
        for (i = 0; i < n; i++)
            for (j = 0; j < m; j++) v[j] += (double)D[(size_t)i * m + j] * u[i];
        for (j = 0; j < m; j++) norm += v[j] * v[j];
        norm = sqrt(norm);
        if (norm == 0.0) break;
        lam = norm;
        for (j = 0; j < m; j++) v[j] /= norm;
    }
    SCN_FREE(v);
    return lam > 0.0 ? lam : 1.0;
}

/* The dictionary D (n x m) of eq. 2 scaled to |D|_2 = 1 (DDSE's default
 * under eq. 1), then the weights ISTA would use: ddse D = D0 S with S
 * random, s ones per column (section 4.1), so in PCA coordinates W1 = S^T,
 * W2_j = S, W3_j = S^T (eq. 5); lista D Gaussian with unit atoms, W = D^T,
 * S_j = I - D^T D. Thresholds start at l1. */
static void scn__unf_init(scn__layer *l, scn_rng *r) {
    int m = scn__unf_m(l), n = (int)scn__in_size(l), k = scn__unf_k(l), i, j, t;
    int form = scn__unf_form(l);
    float *D = (float *)scn__calloc((size_t)n * m, sizeof(float), "init"), *W1 = l->params;
    float *theta = l->params + l->blocks[1].offset, scale;
    if (!D) return;     /* init cannot fail: the weights stay 0 and train from there */
    if (form == UNF_LISTA) {
        scn__init_atoms(D, n, m, r);
    } else {
        int s = scn__ddse_s(l);
        int *rows = (int *)scn__calloc((size_t)n, sizeof(int), "init");
        if (!rows) { SCN_FREE(D); return; }
        for (i = 0; i < n; i++) rows[i] = i;
        for (j = 0; j < m; j++) {           /* s distinct rows per column */
            for (t = 0; t < s; t++) {
                int c = t + (int)scn_rng_below(r, (uint32_t)(n - t)), keep = rows[t];
                rows[t] = rows[c];
                rows[c] = keep;
                D[(size_t)rows[t] * m + j] = 1.0f;
            }
        }
        SCN_FREE(rows);
    }
    scale = (float)(1.0 / sqrt(scn__power_norm2(D, n, m)));
    for (i = 0; i < n * m; i++) D[i] *= scale;
    for (i = 0; i < m; i++)
        for (t = 0; t < n; t++) W1[(size_t)i * n + t] = D[(size_t)t * m + i];
    for (j = 1; j <= k; j++) {
        float *a, *b;
        scn__unf_stage(l, l->params, j, &a, &b);
        if (form == UNF_LISTA) {            /* S_j = I - D^T D (host memory here) */
            scn_backend_cpu()->gemm(NULL, 1, 0, m, m, n, -1.0f, D, m, D, m, 0.0f, a, m);
            for (i = 0; i < m; i++) a[(size_t)i * m + i] += 1.0f;
        } else {
            memcpy(a, D, (size_t)n * m * sizeof *a);
            memcpy(b, W1, (size_t)n * m * sizeof *b);
        }
    }
    for (i = 0; i < (k + 1) * m; i++) theta[i] = (float)l->opt[UNF_L1];
    SCN_FREE(D);
}

/* Scratch, each a column per sample (P = N): X (n), c = W1 x (m), the
 * codes z^0..z^k (m each), per stage v_j = W2_j z^{j-1} (n; ddse) or the
 * dropped-out codes and their mask (m, m; lista with p > 0); then what
 * backward needs: g, du, dc (m each), dv (n), dX (n). */
typedef struct scn__unf_ws {
    float *X, *c, *z, *v, *mask, *g, *du, *dc, *dv, *dX;
} scn__unf_ws;

static scn_status scn__unf_scratch(scn__layer *l, int N, int grow, scn__unf_ws *w) {
    uint64_t m = (uint64_t)scn__unf_m(l), n = scn__in_size(l), k = (uint64_t)scn__unf_k(l);
    uint64_t per = k * (scn__unf_form(l) == UNF_LISTA ? 2 * m : n);
    uint64_t total = (uint64_t)N * (2 * n + m + (k + 1) * m + per + 3 * m + n);
    float *p = grow ? scn__ws(l, total) : l->ws;
    if (!p) return SCN_ERR_NOMEM;
    w->X = p;
    w->c = w->X + n * N;
    w->z = w->c + m * N;
    w->v = w->z + (k + 1) * m * N;      /* ddse: v_j; lista: dropped codes, then masks */
    w->mask = scn__unf_form(l) == UNF_LISTA ? w->v + k * m * N : NULL;
    w->g = w->v + per * N;
    w->du = w->g + m * N;
    w->dc = w->du + m * N;
    w->dv = w->dc + m * N;
    w->dX = w->dv + n * N;
    return SCN_OK;
}

static scn_status scn__unf_forward(scn__layer *l, const float *x, float *y, int N, int train) {
    int m = scn__unf_m(l), n = (int)scn__in_size(l), k = scn__unf_k(l), j;
    int form = scn__unf_form(l);
    size_t mN = (size_t)m * N, nN = (size_t)n * N;
    float *theta = l->params + l->blocks[1].offset, p = train ? scn__lista_p(l) : 0.0f;
    scn_conv_geom g = scn__geom(l, N);     /* flat: n x N columns <-> N x n */
    scn__unf_ws w;
    scn_status s;
    if ((s = scn__unf_scratch(l, N, 1, &w)) || (s = l->be->nchw_to_cols(&g, n, x, w.X)))
        return s;
    /* c = W1 x; z^0 = N(c) */
    if ((s = scn__unf_mm(l, 0, m, N, n, 1.0f, l->params, w.X, 0.0f, w.c)) ||
        (s = l->be->shrink(w.z, w.c, theta, m, N)))
        return s;
    for (j = 1; j <= k; j++) {
        const float *zp = w.z + (j - 1) * mN;
        float *u = w.z + j * mN, *a, *b;
        scn__unf_stage(l, l->params, j, &a, &b);
        if (form == UNF_LISTA) {            /* u = c + S_j drop(z^{j-1}) */
            float *zd = w.v + (j - 1) * mN;
            if (p > 0.0f) {
                float *mask = w.mask + (j - 1) * mN;
                if ((s = scn__dropout_mask(l, mask, mN, p)) ||
                    (s = l->be->mul(zd, zp, mask, mN)))
                    return s;
                zp = zd;
            }
            if ((s = l->be->copy(u, w.c, mN)) ||
                (s = l->be->gemm(l->gemm_ws, 0, 0, m, N, m, 1.0f, a, m, zp, N, 1.0f, u, N)))
                return s;
        } else {                            /* v = W2_j z^{j-1}; u = [c + z^{j-1}] -/+ W3_j v */
            float *v = w.v + (j - 1) * nN;
            int shortcut = form == UNF_DDSE;
            if ((s = scn__unf_mm(l, 0, n, N, m, 1.0f, a, zp, 0.0f, v))) return s;
            if (shortcut && ((s = l->be->copy(u, w.c, mN)) || (s = l->be->axpy(u, 1.0f, zp, mN))))
                return s;
            if ((s = scn__unf_mm(l, 0, m, N, n, shortcut ? -1.0f : 1.0f, b, v,
                                 shortcut ? 1.0f : 0.0f, u)))
                return s;
        }
        if ((s = l->be->shrink(u, u, theta + (size_t)j * m, m, N))) return s;
    }
    return l->be->cols_to_nchw(&g, m, w.z + k * mN, y);
}

static scn_status scn__unf_backward(scn__layer *l, const float *x, const float *y,
                                    const float *dy, float *dx, int N) {
    int m = scn__unf_m(l), n = (int)scn__in_size(l), k = scn__unf_k(l), j;
    int form = scn__unf_form(l);
    size_t mN = (size_t)m * N, nN = (size_t)n * N;
    float *dtheta = l->grads + l->blocks[1].offset, p = scn__lista_p(l);
    scn_conv_geom g = scn__geom(l, N);
    scn__unf_ws w;
    scn_status s;
    (void)x; (void)y;
    if ((s = scn__unf_scratch(l, N, 0, &w)) || (s = l->be->nchw_to_cols(&g, m, dy, w.g)) ||
        (s = l->be->fill(w.dc, mN, 0.0f)))
        return s;
    for (j = k; j >= 1; j--) {      /* g = dLoss/dz^j on entry, dLoss/dz^{j-1} after */
        const float *zp = w.z + (j - 1) * mN;
        float *a, *b, *da, *db;
        scn__unf_stage(l, l->params, j, &a, &b);
        scn__unf_stage(l, l->grads, j, &da, &db);
        if ((s = l->be->shrink_backward(w.du, dtheta + (size_t)j * m, w.z + j * mN, w.g, m, N)))
            return s;
        if (form == UNF_LISTA) {
            const float *zd = p > 0.0f ? w.v + (j - 1) * mN : zp;
            if ((s = l->be->axpy(w.dc, 1.0f, w.du, mN)) ||
                (s = l->be->gemm(l->gemm_ws, 0, 1, m, m, N, 1.0f, w.du, N, zd, N, 1.0f, da,
                                 m)) ||
                (s = l->be->gemm(l->gemm_ws, 1, 0, m, N, m, 1.0f, a, m, w.du, N, 0.0f, w.g,
                                 N)) ||
                (p > 0.0f && (s = l->be->mul(w.g, w.g, w.mask + (j - 1) * mN, mN))))
                return s;
        } else {
            const float *v = w.v + (j - 1) * nN;
            int shortcut = form == UNF_DDSE;
            float sign = shortcut ? -1.0f : 1.0f;
            /* dW3 += sign du v^T; dv = sign W3^T du; dW2 += dv z^T; g = W2^T dv [+ du] */
            if ((shortcut && (s = l->be->axpy(w.dc, 1.0f, w.du, mN))) ||
                (s = l->be->gemm(l->gemm_ws, 0, 1, m, n, N, sign, w.du, N, v, N, 1.0f, db,
                                 n)) ||
                (s = scn__unf_mm(l, 1, n, N, m, sign, b, w.du, 0.0f, w.dv)) ||
                (s = l->be->gemm(l->gemm_ws, 0, 1, n, m, N, 1.0f, w.dv, N, zp, N, 1.0f, da,
                                 m)) ||
                (shortcut && (s = l->be->copy(w.g, w.du, mN))) ||
                (s = scn__unf_mm(l, 1, m, N, n, 1.0f, a, w.dv, shortcut ? 1.0f : 0.0f, w.g)))
                return s;
        }
    }
    /* stage 0: z^0 = N(c) */
    if ((s = l->be->shrink_backward(w.du, dtheta, w.z, w.g, m, N)) ||
        (s = l->be->axpy(w.dc, 1.0f, w.du, mN)) ||
        (s = l->be->gemm(l->gemm_ws, 0, 1, m, n, N, 1.0f, w.dc, N, w.X, N, 1.0f, l->grads, n)))
        return s;
    if (!dx) return SCN_OK;
    if ((s = scn__unf_mm(l, 1, n, N, m, 1.0f, l->params, w.dc, 0.0f, w.dX))) return s;
    return l->be->cols_to_nchw(&g, n, w.dX, dx);
}

/* thresholds >= 0 after every step; ddse: every `every` steps (and at the
 * end of an epoch, step < 0) the top-s projection of eq. 8 */
static scn_status scn__unf_project(scn__layer *l, int64_t step) {
    int m = scn__unf_m(l), n = (int)scn__in_size(l), k = scn__unf_k(l), s = 0, j;
    scn_status st = l->be->clamp_min(l->params + l->blocks[1].offset, (size_t)(k + 1) * m,
                                     0.0f);
    if (st || scn__unf_form(l) == UNF_LISTA) return st;
    if (step >= 0 && step % (int64_t)l->opt[DDSE_EVERY]) return SCN_OK;
    s = scn__ddse_s(l);
    if ((st = l->be->top_s(l->params, m, n, s, 0))) return st;             /* W1 rows */
    for (j = 1; j <= k; j++) {
        float *a, *b;
        scn__unf_stage(l, l->params, j, &a, &b);
        if ((st = l->be->top_s(a, n, m, s, 1)) || (st = l->be->top_s(b, m, n, s, 0)))
            return st;
    }
    return SCN_OK;
}

static void scn__unf_describe(const scn__layer *l, char *buf, size_t cap) {
    int form = scn__unf_form(l);
    if (form == UNF_LISTA)
        snprintf(buf, cap, "(m %d, k %d, dropout %.2g)", scn__unf_m(l), scn__unf_k(l),
                 (double)scn__lista_p(l));
    else
        snprintf(buf, cap, "(m %d, k %d, s %d every %d steps%s)", scn__unf_m(l),
                 scn__unf_k(l), scn__ddse_s(l), (int)l->opt[DDSE_EVERY],
                 form == UNF_PLAIN ? ", no shortcuts" : "");
}

/* thresholds >= 0, as every step leaves them */
static scn_status scn__unf_check(const scn__layer *l, const float *params,
                                 const float *buffers) {
    size_t i, count = l->blocks[1].count;
    (void)buffers;
    for (i = 0; i < count; i++)
        if (params[l->blocks[1].offset + i] < 0.0f)
            return scn__fail(SCN_ERR_FORMAT, "threshold %zu is %g (must be >= 0)", i,
                             (double)params[l->blocks[1].offset + i]);
    return SCN_OK;
}

/* ---- csc: convolutional sparse coding (SDNet section 3.1, appendix A).
 *      The code z (n x H' x W') of an input x (C x H x W) minimises
 *        lambda |z|_1 + lambda2/2 |z|^2 + 1/2 |x - A(z)|^2      (SDNet eq. 4)
 *      with A(z) the transposed convolution by the dictionary (eq. 3) and
 *      A^*(x) the convolution (eq. 7). The dictionary is stored as a
 *      convolution's weights, W (n x C k k), atom j its row j, so in the
 *      im2col layout A(z) = col2im(W^T Z) and A^*(x) = W im2col(x) (Z the
 *      n x P matrix of the codes, P = N H' W'). `iters` FISTA steps from
 *      z0 = 0 (appendix eq. 6), each a shrinkage by lambda t (eq. 8; with
 *      lambda2 also divided by 1 + lambda2 t, its proximal map), step
 *      t = 0.9 / lambda_K, lambda_K the power iteration's estimate of the
 *      largest eigenvalue of A^* A (eqs. 9-10), kept in the layer's buffer:
 *      computed at init and after every optimiser step (the projection,
 *      which first scales every atom to norm 1, the set N of section 3.2),
 *      fixed at test time. lambda is a hyper-parameter, never learned, and
 *      may be changed after training (scn_net_set_csc_lambda). Backward
 *      differentiates the unrolled iterations (the paper's choice), or with
 *      `fixed` the converged code: on its support S, (A^*A + lambda2 I)_SS
 *      beta = g_S by conjugate gradients, then dx = A(beta) and
 *      dW = beta R^T - Z (im2col A(beta))^T, R = im2col(x - A(z)); that
 *      needs lambda2 > 0 (A^*A on S may be singular) and enough iterations
 *      for the code to have converged. An evaluation forward also keeps
 *      A(z) and each sample's residual norm |x - A(z)| (Algorithm 1). ---- */

enum { CSC_N, CSC_K, CSC_S, CSC_VALID, CSC_L1, CSC_L2, CSC_ITERS, CSC_NONNEG, CSC_FIXED };

static const scn_option scn__csc_options[] = {
    { "n", SCN_OPTION_INT, 1, 1e6, 0, 1, "atoms (code channels)" },
    { "k", SCN_OPTION_INT, 1, 99, 3, 0, "window k x k" },
    { "s", SCN_OPTION_INT, 1, 99, 1, 0, "stride" },
    { "valid", SCN_OPTION_FLAG, 0, 1, 0, 0, "no zero padding (else (k-1)/2)" },
    { "l1", SCN_OPTION_FLOAT, 0, 1e3, 0.1, 0, "lambda (fixed; scn_net_set_csc_lambda "
      "changes it)" },
    { "l2", SCN_OPTION_FLOAT, 0, 1e3, 0, 0, "lambda2 (fixed)" },
    { "iters", SCN_OPTION_INT, 1, 1000, 2, 0, "FISTA iterations" },
    { "nonneg", SCN_OPTION_FLAG, 0, 1, 0, 0, "codes >= 0 (the published code's default)" },
    { "fixed", SCN_OPTION_FLAG, 0, 1, 0, 0, "fixed-point gradient of the converged code "
      "(needs l2 > 0) instead of the unrolled one" },
    SCN__PARAM_OPTIONS
};


static int scn__csc_n(const scn__layer *l) { return (int)l->opt[CSC_N]; }
static int scn__csc_iters(const scn__layer *l) { return (int)l->opt[CSC_ITERS]; }
static int scn__csc_fixed(const scn__layer *l) { return l->opt[CSC_FIXED] != 0; }

static scn_status scn__csc_setup(scn__layer *l) {
    scn_status s = scn__window(l, CSC_K, CSC_S, CSC_VALID);
    if (s) return s;
    if (scn__csc_fixed(l) && !(l->opt[CSC_L2] > 0.0))
        return scn__fail(SCN_ERR_ARG, "csc layer: fixed needs l2 > 0 (the fixed-point "
                         "system (A^T A + lambda2 I) on the support must be invertible)");
    l->Co = scn__csc_n(l);
    scn__add_block(l, (uint64_t)scn__csc_n(l) * l->C * l->k * l->k, 1);  /* W */
    l->nbuffers = 1;                                                     /* lambda_K */
    return SCN_OK;
}

/* the power iteration over one sample of the layer's input shape; at init
 * (host memory, before the net's backend holds it) on the CPU backend */
static scn_status scn__csc_step_size(scn__layer *l, int at_init, float *lambda_k) {
    scn_conv_geom g = scn__geom(l, 1);
    uint64_t need = 2 * (uint64_t)scn__csc_n(l) * g.P + (uint64_t)g.m * g.P + scn__in_size(l);
    const scn_backend *be = at_init ? scn_backend_cpu() : l->be;
    float *scratch = at_init ? (float *)scn__calloc((size_t)need, sizeof(float), "csc init")
                             : scn__ws(l, need);
    double lam = 0.0;
    scn_status s;
    if (!scratch) return SCN_ERR_NOMEM;
    s = scn__csc_power(be, at_init ? NULL : l->gemm_ws, &g, l->params, scn__csc_n(l), scratch,
                       &lam, NULL);
    if (at_init) SCN_FREE(scratch);
    *lambda_k = (float)lam;
    return s;
}

/* Gaussian atoms of norm 1 (rows of W), then lambda_K */
static void scn__csc_init(scn__layer *l, scn_rng *r) {
    int n = scn__csc_n(l), m = l->C * l->k * l->k;
    scn_backend_cpu()->fill(l->buffers, 1, 0.0f);
    scn__init_he(l->params, (size_t)n * m, m, r);
    scn_backend_cpu()->row_normalize(l->params, n, m);
    /* init cannot fail: lambda_K stays 0 and forward says so */
    scn__csc_step_size(l, 1, l->buffers);
}

/* the step t and the shrinkage's scale 1 / (1 + lambda2 t) */
static scn_status scn__csc_step(const scn__layer *l, float *t, float *scale) {
    float lk = 0.0f;
    scn_status s = l->be->download(&lk, l->buffers, sizeof lk);
    if (s) return s;
    if (!(lk > 0.0f) || !isfinite(lk))
        return scn__fail(SCN_ERR_NUMERIC, "csc layer: the largest eigenvalue of A^T A is %g "
                         "(all atoms zero?)", (double)lk);
    *t = 0.9f / lk;
    *scale = 1.0f / (1.0f + (float)l->opt[CSC_L2] * *t);
    return SCN_OK;
}

/* Scratch, in floats: X (m x P), B = W X (n x P), the iterates z^1..z^T
 * and y^1..y^T (n x P each; with `fixed` two z and one y, as backward
 * does not need them), cols (m x P), img and rec (N x C x H x W; rec
 * holds A(z) after an evaluation forward), then backward's five n x P
 * vectors and cols2 (m x P). */
typedef struct scn__csc_ws {
    float *X, *B, *Z, *Y, *cols, *img, *rec, *g[5], *cols2;
    size_t nP, mP;
    int fixed;
} scn__csc_ws;

static scn_status scn__csc_scratch(scn__layer *l, int N, int grow, scn__csc_ws *w) {
    scn_conv_geom g = scn__geom(l, N);
    uint64_t nP = (uint64_t)scn__csc_n(l) * g.P, mP = (uint64_t)g.m * g.P;
    uint64_t xs = (uint64_t)N * scn__in_size(l), T = (uint64_t)scn__csc_iters(l);
    int fixed = scn__csc_fixed(l), i;
    uint64_t slots = fixed ? 3 : 2 * T;
    float *p = grow ? scn__ws(l, 3 * mP + (1 + slots + 5) * nP + 2 * xs) : l->ws;
    if (!p) return SCN_ERR_NOMEM;
    w->nP = (size_t)nP;
    w->mP = (size_t)mP;
    w->fixed = fixed;
    w->X = p;
    w->B = w->X + mP;
    w->Z = w->B + nP;
    w->Y = w->Z + (fixed ? 2 : T) * nP;
    w->cols = w->Y + (fixed ? 1 : T) * nP;
    w->img = w->cols + mP;
    w->rec = w->img + xs;
    w->g[0] = w->rec + xs;
    for (i = 1; i < 5; i++) w->g[i] = w->g[i - 1] + nP;
    w->cols2 = w->g[4] + nP;
    return SCN_OK;
}

/* iterate i (1-based) */
static float *scn__csc_z(const scn__csc_ws *w, int i) {
    return w->Z + (size_t)(w->fixed ? (i - 1) % 2 : i - 1) * w->nP;
}
static float *scn__csc_y(const scn__csc_ws *w, int i) {
    return w->Y + (size_t)(w->fixed ? 0 : i - 1) * w->nP;
}

/* FISTA's momentum (eq. 6): m_1 = 1, m_{i+1} = (1 + sqrt(1 + 4 m_i^2)) / 2, and
 * y^i = z^{i-1} + c_i (z^{i-1} - z^{i-2}) with c_i = (m_{i-1} - 1) / m_i
 * (0 for i < 3) */
static double scn__csc_momentum(int i) {
    double m = 1.0;
    int j;
    if (i < 2) return 0.0;
    for (j = 1; j < i - 1; j++) m = (1.0 + sqrt(1.0 + 4.0 * m * m)) / 2.0;
    return (m - 1.0) / ((1.0 + sqrt(1.0 + 4.0 * m * m)) / 2.0);
}

static scn_status scn__csc_forward(scn__layer *l, const float *x, float *y, int N, int train) {
    scn_conv_geom g = scn__geom(l, N);
    int n = scn__csc_n(l), T = scn__csc_iters(l), nonneg = l->opt[CSC_NONNEG] != 0, i;
    float t = 0.0f, scale = 0.0f, theta;  /* set by scn__csc_step (gcc -O3 cannot see it) */
    size_t nz, xs1 = scn__in_size(l);
    scn__csc_ws w;
    scn_status s;
    if ((s = scn__csc_step(l, &t, &scale)) || (s = scn__csc_scratch(l, N, 1, &w))) return s;
    theta = (float)l->opt[CSC_L1] * t;
    if ((s = l->be->im2col(&g, x, w.X)) ||
        (s = l->be->gemm(l->gemm_ws, 0, 0, n, g.P, g.m, 1.0f, l->params, g.m, w.X, g.P, 0.0f,
                         w.B, g.P)))
        return s;
    for (i = 1; i <= T; i++) {
        float *z = scn__csc_z(&w, i), *yi = scn__csc_y(&w, i);
        double c = scn__csc_momentum(i + 1);
        if (i == 1) {           /* y^1 = 0: u = t A^*(x) */
            if ((!w.fixed && (s = l->be->fill(yi, w.nP, 0.0f))) ||
                (s = l->be->copy(z, w.B, w.nP)) || (s = l->be->scal(z, t, w.nP)))
                return s;
        } else if ((s = l->be->gemm(l->gemm_ws, 1, 0, g.m, g.P, n, 1.0f, l->params, g.m, yi,
                                    g.P, 0.0f, w.cols, g.P)) ||
                   (s = l->be->col2im(&g, w.cols, w.img)) ||
                   (s = l->be->im2col(&g, w.img, w.cols)) ||
                   (s = l->be->copy(z, yi, w.nP)) || (s = l->be->axpy(z, t, w.B, w.nP)) ||
                   (s = l->be->gemm(l->gemm_ws, 0, 0, n, g.P, g.m, -t, l->params, g.m, w.cols,
                                    g.P, 1.0f, z, g.P))) {
            return s;           /* u = y + t A^*(x - A(y)) */
        }
        if ((s = l->be->shrink_all(z, z, w.nP, theta, scale, nonneg))) return s;
        if (i == T) break;
        yi = scn__csc_y(&w, i + 1);     /* y^{i+1} = (1 + c) z^i - c z^{i-1} */
        if ((s = l->be->copy(yi, z, w.nP))) return s;
        if (c != 0.0 && ((s = l->be->axpy(yi, (float)c, z, w.nP)) ||
                         (s = l->be->axpy(yi, (float)-c, scn__csc_z(&w, i - 1), w.nP))))
            return s;
    }
    if ((s = l->be->cols_to_nchw(&g, n, scn__csc_z(&w, T), y)) ||
        (s = l->be->sparsity(scn__csc_z(&w, T), w.nP, &nz, &l->code_l1)))
        return s;
    l->density = (float)nz / (float)w.nP;
    l->resid_n = 0;
    if (train) return SCN_OK;
    {   /* rec = A(z); each sample's |x - A(z)| */
        float *res = scn__host(l, (size_t)N);
        double *ss = (double *)scn__calloc((size_t)N, sizeof(double), "csc residual");
        if (!res || !ss) { SCN_FREE(ss); return SCN_ERR_NOMEM; }
        if (!(s = l->be->gemm(l->gemm_ws, 1, 0, g.m, g.P, n, 1.0f, l->params, g.m,
                              scn__csc_z(&w, T), g.P, 0.0f, w.cols, g.P)) &&
            !(s = l->be->col2im(&g, w.cols, w.rec)) &&
            !(s = l->be->copy(w.img, x, (size_t)N * xs1)) &&
            !(s = l->be->axpy(w.img, -1.0f, w.rec, (size_t)N * xs1)) &&
            !(s = l->be->seg_sumsq(w.img, N, xs1, ss))) {
            for (i = 0; i < N; i++) res[i] = (float)sqrt(ss[i]);
            l->resid_n = N;
        }
        SCN_FREE(ss);
        return s;
    }
}

/* Backward through the unrolled iterations: for u^i = y^i + t (B - K y^i),
 * K = W im2col col2im W^T, z^i = scale shrink(u^i), with g_u the gradient
 * at u^i: dW += t g_u X^T - t (g_u (S W^T y^i)^T + y^i (S W^T g_u)^T),
 * S = im2col col2im; dx += t A(g_u); g_y = g_u - t K g_u, passed to z^{i-1}
 * and z^{i-2} through y^i = (1 + c_i) z^{i-1} - c_i z^{i-2}. */
static scn_status scn__csc_backward_unrolled(scn__layer *l, const scn_conv_geom *g,
                                             scn__csc_ws *w, const float *dy, float *dx,
                                             float t, float scale) {
    int n = scn__csc_n(l), i;
    const float *W = l->params;
    float *gz = w->g[0], *gzp = w->g[1], *gu = w->g[2], *gy = w->g[3], *sw;
    scn_status s;
    if ((s = l->be->nchw_to_cols(g, n, dy, gz)) || (s = l->be->fill(gzp, w->nP, 0.0f)) ||
        (dx && (s = l->be->fill(dx, (size_t)g->N * g->C * g->H * g->W, 0.0f))))
        return s;
    for (i = scn__csc_iters(l); i >= 1; i--) {
        const float *yi = scn__csc_y(w, i);
        double c = scn__csc_momentum(i);
        if ((s = l->be->shrink_all_backward(gu, scn__csc_z(w, i), gz, w->nP, scale)) ||
            (s = l->be->gemm(l->gemm_ws, 1, 0, g->m, g->P, n, 1.0f, W, g->m, gu, g->P, 0.0f,
                             w->cols, g->P)) ||
            (s = l->be->col2im(g, w->cols, w->img)) ||
            (dx && (s = l->be->axpy(dx, t, w->img, (size_t)g->N * g->C * g->H * g->W))) ||
            (s = l->be->gemm(l->gemm_ws, 0, 1, n, g->m, g->P, t, gu, g->P, w->X, g->P, 1.0f,
                             l->grads, g->m)))
            return s;
        if (i == 1) break;              /* y^1 = 0 */
        if ((s = l->be->im2col(g, w->img, w->cols2)) ||
            (s = l->be->gemm(l->gemm_ws, 0, 1, n, g->m, g->P, -t, yi, g->P, w->cols2, g->P,
                             1.0f, l->grads, g->m)) ||
            (s = l->be->gemm(l->gemm_ws, 1, 0, g->m, g->P, n, 1.0f, W, g->m, yi, g->P, 0.0f,
                             w->cols, g->P)) ||
            (s = l->be->col2im(g, w->cols, w->img)) ||
            (s = l->be->im2col(g, w->img, w->cols)) ||
            (s = l->be->gemm(l->gemm_ws, 0, 1, n, g->m, g->P, -t, gu, g->P, w->cols, g->P,
                             1.0f, l->grads, g->m)) ||
            (s = l->be->copy(gy, gu, w->nP)) ||
            (s = l->be->gemm(l->gemm_ws, 0, 0, n, g->P, g->m, -t, W, g->m, w->cols2, g->P,
                             1.0f, gy, g->P)) ||
            (s = l->be->axpy(gzp, (float)(1.0 + c), gy, w->nP)) ||
            (s = l->be->fill(gz, w->nP, 0.0f)) ||
            (c != 0.0 && (s = l->be->axpy(gz, (float)-c, gy, w->nP))))
            return s;
        sw = gz; gz = gzp; gzp = sw;    /* z^{i-1}'s gradient is complete */
    }
    return SCN_OK;
}

/* The fixed-point gradient of the converged code (see the kind's comment):
 * conjugate gradients on (A^*A + lambda2 I) restricted to the support. */
static scn_status scn__csc_backward_fixed(scn__layer *l, const scn_conv_geom *g,
                                          scn__csc_ws *w, const float *dy, float *dx) {
    int n = scn__csc_n(l), it;
    const float *W = l->params, *z = scn__csc_z(w, scn__csc_iters(l));
    float *gg = w->g[0], *beta = w->g[1], *r = w->g[2], *p = w->g[3], *Hp = w->g[4];
    float l2 = (float)l->opt[CSC_L2];
    double bb, rr, pHp, rr_new;
    scn_status s;
    if ((s = l->be->nchw_to_cols(g, n, dy, gg)) ||
        (s = l->be->shrink_all_backward(r, z, gg, w->nP, 1.0f)) ||
        (s = l->be->fill(beta, w->nP, 0.0f)) || (s = l->be->copy(p, r, w->nP)) ||
        (s = l->be->dot(r, r, w->nP, &bb)))
        return s;
    rr = bb;
    for (it = 0; it < SCN__CSC_CG_ITERS && rr > SCN__CSC_CG_TOL * SCN__CSC_CG_TOL * bb; it++) {
        if ((s = scn__csc_gram(l->be, l->gemm_ws, g, W, n, p, Hp, w->cols, w->img)) ||
            (s = l->be->axpy(Hp, l2, p, w->nP)) ||
            (s = l->be->shrink_all_backward(Hp, z, Hp, w->nP, 1.0f)) ||
            (s = l->be->dot(p, Hp, w->nP, &pHp)))
            return s;
        if (!(pHp > 0.0)) break;
        if ((s = l->be->axpy(beta, (float)(rr / pHp), p, w->nP)) ||
            (s = l->be->axpy(r, (float)(-rr / pHp), Hp, w->nP)) ||
            (s = l->be->dot(r, r, w->nP, &rr_new)) ||
            (s = l->be->scal(p, (float)(rr_new / rr), w->nP)) ||
            (s = l->be->axpy(p, 1.0f, r, w->nP)))
            return s;
        rr = rr_new;
    }
    /* dx = A(beta); dW = beta R^T - Z (im2col A(beta))^T, R = X - im2col A(z) */
    if ((s = l->be->gemm(l->gemm_ws, 1, 0, g->m, g->P, n, 1.0f, W, g->m, beta, g->P, 0.0f,
                         w->cols, g->P)) ||
        (s = l->be->col2im(g, w->cols, w->img)) ||
        (dx && (s = l->be->copy(dx, w->img, (size_t)g->N * g->C * g->H * g->W))) ||
        (s = l->be->im2col(g, w->img, w->cols2)) ||
        (s = l->be->gemm(l->gemm_ws, 0, 1, n, g->m, g->P, -1.0f, z, g->P, w->cols2, g->P,
                         1.0f, l->grads, g->m)) ||
        (s = l->be->gemm(l->gemm_ws, 0, 1, n, g->m, g->P, 1.0f, beta, g->P, w->X, g->P, 1.0f,
                         l->grads, g->m)) ||
        (s = l->be->gemm(l->gemm_ws, 1, 0, g->m, g->P, n, 1.0f, W, g->m, z, g->P, 0.0f,
                         w->cols, g->P)) ||
        (s = l->be->col2im(g, w->cols, w->img)) || (s = l->be->im2col(g, w->img, w->cols)))
        return s;
    return l->be->gemm(l->gemm_ws, 0, 1, n, g->m, g->P, -1.0f, beta, g->P, w->cols, g->P,
                       1.0f, l->grads, g->m);
}

static scn_status scn__csc_backward(scn__layer *l, const float *x, const float *y,
                                    const float *dy, float *dx, int N) {
    scn_conv_geom g = scn__geom(l, N);
    float t = 0.0f, scale = 0.0f;   /* set by scn__csc_step */
    scn__csc_ws w;
    scn_status s;
    (void)x; (void)y;
    if ((s = scn__csc_step(l, &t, &scale)) || (s = scn__csc_scratch(l, N, 0, &w))) return s;
    return w.fixed ? scn__csc_backward_fixed(l, &g, &w, dy, dx)
                   : scn__csc_backward_unrolled(l, &g, &w, dy, dx, t, scale);
}

/* after every step: atoms to norm 1 (SDNet section 3.2's set N), then
 * lambda_K of the new dictionary (appendix A) */
static scn_status scn__csc_project(scn__layer *l, int64_t step) {
    float lk = 0.0f;
    scn_status s;
    (void)step;
    l->resid_n = 0;             /* the power iteration reuses the scratch */
    if ((s = l->be->row_normalize(l->params, scn__csc_n(l), l->C * l->k * l->k)) ||
        (s = scn__csc_step_size(l, 0, &lk)))
        return s;
    return l->be->upload(l->buffers, &lk, sizeof lk);
}

static void scn__csc_describe(const scn__layer *l, char *buf, size_t cap) {
    float lk = 0.0f;
    l->be->download(&lk, l->buffers, sizeof lk);
    snprintf(buf, cap, "(%dx%d/%d, lambda %.4g, lambda2 %.4g, %d FISTA steps, t = 0.9/%.4g%s%s)",
             l->k, l->k, l->stride, l->opt[CSC_L1], l->opt[CSC_L2], scn__csc_iters(l),
             (double)lk, l->opt[CSC_NONNEG] != 0 ? ", codes >= 0" : "",
             scn__csc_fixed(l) ? ", fixed-point gradient" : "");
}

/* a loaded lambda_K must be a positive number */
static scn_status scn__csc_check(const scn__layer *l, const float *params,
                                 const float *buffers) {
    (void)l; (void)params;
    return buffers[0] > 0.0f ? SCN_OK
                             : scn__fail(SCN_ERR_FORMAT, "lambda_K is %g (must be > 0)",
                                         (double)buffers[0]);
}

/* ---- the list of kinds: one line each ---- */

#define SCN__KIND(name, help, opts, composite) \
    { name, help, opts, (int)(sizeof opts / sizeof opts[0]), composite }
#define SCN__KIND0(name, help, composite) { name, help, NULL, 0, composite }

static const scn__kind scn__kinds[] = {
    /* info; setup, init, forward, backward; project, extra_loss, describe, check */
    { SCN__KIND("sc", "convolutional sparse coding: nonnegative (or signed) elastic net "
                "per patch (SCN eq. 1)", scn__sc_options, 0),
      scn__sc_setup, scn__sc_init, scn__sc_forward, scn__sc_backward,
      scn__sc_project, scn__sc_extra_loss, scn__sc_describe, scn__sc_check },
    { SCN__KIND("csf", "convolutional sparse factorization: signed elastic net per k x k "
                "patch, stride 1, unpadded (SF eq. 9)", scn__csf_options, 0),
      scn__csf_setup, scn__sc_init, scn__sc_forward, scn__sc_backward,
      scn__sc_project, scn__sc_extra_loss, scn__sc_describe, scn__sc_check },
    { SCN__KIND("sf", "sparse factorization: signed elastic net of the flattened sample "
                "(SF eq. 5)", scn__sf_options, 0),
      scn__sf_setup, scn__sc_init, scn__sc_forward, scn__sc_backward,
      scn__sc_project, scn__sc_extra_loss, scn__sc_describe, scn__sc_check },
    { SCN__KIND("bn", "batch normalisation per channel", scn__bn_options, 0),
      scn__bn_setup, scn__bn_init, scn__bn_forward, scn__bn_backward,
      NULL, NULL, NULL, scn__bn_check },
    { SCN__KIND("conv", "convolution with bias", scn__conv_options, 0),
      scn__conv_setup, scn__conv_init, scn__conv_forward, scn__conv_backward,
      NULL, NULL, NULL, NULL },
    { SCN__KIND("linear", "fully connected on the flattened sample", scn__linear_options, 0),
      scn__linear_setup, scn__linear_init, scn__linear_forward, scn__linear_backward,
      NULL, NULL, NULL, NULL },
    { SCN__KIND0("relu", "max(x, 0)", 0),
      scn__same_setup, scn__no_init, scn__relu_forward, scn__relu_backward,
      NULL, NULL, NULL, NULL },
    { SCN__KIND("maxpool", "max over k x k windows", scn__pool_options, 0),
      scn__pool_setup, scn__no_init, scn__maxpool_forward, scn__maxpool_backward,
      NULL, NULL, NULL, NULL },
    { SCN__KIND("avgpool", "mean over k x k windows", scn__pool_options, 0),
      scn__pool_setup, scn__no_init, scn__avgpool_forward, scn__avgpool_backward,
      NULL, NULL, NULL, NULL },
    { SCN__KIND0("gap", "global average pooling: C x H x W -> C x 1 x 1", 0),
      scn__gap_setup, scn__no_init, scn__gap_forward, scn__gap_backward,
      NULL, NULL, NULL, NULL },
    { SCN__KIND0("flatten", "C x H x W -> CHW x 1 x 1", 0),
      scn__flatten_setup, scn__no_init, scn__copy_forward, scn__copy_backward,
      NULL, NULL, NULL, NULL },
    { SCN__KIND("dropout", "inverted dropout in training", scn__dropout_options, 0),
      scn__same_setup, scn__no_init, scn__dropout_forward, scn__dropout_backward,
      NULL, NULL, NULL, NULL },
    { SCN__KIND0("pca", "x -> D0^T (x - mean), D0 the training covariance's eigenvectors "
                 "(DDSE eq. 5; first layer only, fitted by scn_pca_fit)", 0),
      scn__pca_setup, scn__pca_init, scn__pca_forward, scn__pca_backward,
      NULL, NULL, scn__pca_describe, NULL },
    { SCN__KIND("ddse", "deep double sparsity encoder: k unfolded ISTA stages with sparse "
                "weights kept by projection (DDSE eqs. 5, 8)", scn__ddse_options, 0),
      scn__unf_setup, scn__unf_init, scn__unf_forward, scn__unf_backward,
      scn__unf_project, NULL, scn__unf_describe, scn__unf_check },
    { SCN__KIND("lista", "learned ISTA: k unfolded stages with dense weights (DDSE "
                "baseline IV)", scn__lista_options, 0),
      scn__unf_setup, scn__unf_init, scn__unf_forward, scn__unf_backward,
      scn__unf_project, NULL, scn__unf_describe, scn__unf_check },
    { SCN__KIND("csc", "convolutional sparse coding by FISTA with a convolutional dictionary "
                "of unit atoms (SDNet eqs. 3-4)", scn__csc_options, 0),
      scn__csc_setup, scn__csc_init, scn__csc_forward, scn__csc_backward,
      scn__csc_project, NULL, scn__csc_describe, scn__csc_check },
    { SCN__KIND0("res", "residual block res[ ... ]: body(x) + x, or + a 1x1 strided "
                 "convolution of x when the body changes the shape", 1),
      scn__res_setup, scn__no_init, scn__res_forward, scn__res_backward,
      NULL, NULL, NULL, NULL },
};
#define SCN__KIND_COUNT ((int)(sizeof scn__kinds / sizeof scn__kinds[0]))

SCNDEF int scn_kind_count(void) { return SCN__KIND_COUNT; }

SCNDEF const scn_kind_info *scn_kind(int i) {
    return i >= 0 && i < SCN__KIND_COUNT ? &scn__kinds[i].info : NULL;
}

static const scn__kind *scn__kind_find(const char *name) {
    int i;
    for (i = 0; i < SCN__KIND_COUNT; i++)
        if (!strcmp(name, scn__kinds[i].info.name)) return &scn__kinds[i];
    return NULL;
}

SCNDEF const scn_kind_info *scn_kind_find(const char *name) {
    const scn__kind *k = name ? scn__kind_find(name) : NULL;
    return k ? &k->info : NULL;
}

/* ======================================================================
 * 9. Networks
 * ====================================================================== */

struct scn_net {
    scn__seq top;
    scn__layer **all;           /* every layer in numbering order (section 9) */
    int count;
    int C, H, W;
    const scn_backend *be;      /* the backend the net's memory belongs to */
    scn_workspace gemm_ws;      /* GEMM packing scratch shared by the layers */
    scn__scratch shared;        /* backend scratch shared by the layers */
    float *params, *grads, *buffers;
    size_t nparams, nbuffers;
    float *input;               /* device copy of the input (host_memory 0) */
    float *logits;              /* host copy of the logits (host_memory 0) */
    float *dlogits;             /* device copy of dlogits (host_memory 0) */
    int cap, N, trained;        /* batch capacity; last forward's N and mode */
    const float *x;             /* the last forward's input, as the layers saw it */
    double extra;               /* the layers' own losses, last forward */
    scn_rng rng;
    char *spec;
};

static const struct { const char *name, *spec; } scn__presets[] = {
    /* small bottleneck SCN for 28 x 28 gray images: (8, 32) at full size,
       (16, 64) at 1/2, (32, 128) at 1/4; BN after every SC layer, GAP, linear */
    { "scn-mnist", "sc:n=32 bn sc:n=8 bn sc:n=64,s=2 bn sc:n=16 bn sc:n=128,s=2 bn "
                   "sc:n=32 bn gap linear:n=10" },
    /* SCN-4 (SCN section 5.1): (16,64)x3 - (32,128)x2 - (64,256)x2, 3x3
       windows, subsampling by stride 2 entering the 2nd and 3rd sections */
    { "scn-cifar", "sc:n=64 bn sc:n=16 bn sc:n=64 bn sc:n=16 bn sc:n=64 bn sc:n=16 bn "
                   "sc:n=128,s=2 bn sc:n=32 bn sc:n=128 bn sc:n=32 bn "
                   "sc:n=256,s=2 bn sc:n=64 bn sc:n=256 bn sc:n=64 bn gap linear:n=10" },
    /* SCN section 5.1's MNIST network: SCN-4 as scn-cifar, but "for MNIST we
       set the number of filters at the first layer to be 8" -- the first SC
       layer (the first expansion, 64 in scn-cifar) has 8 atoms, as in the
       authors' released MNIST initialisation; the rest is unchanged */
    { "scn-mnist-paper", "sc:n=8 bn sc:n=16 bn sc:n=64 bn sc:n=16 bn sc:n=64 bn sc:n=16 bn "
                         "sc:n=128,s=2 bn sc:n=32 bn sc:n=128 bn sc:n=32 bn "
                         "sc:n=256,s=2 bn sc:n=64 bn sc:n=256 bn sc:n=64 bn gap linear:n=10" },
    { "lenet", "conv:n=6,k=5 relu maxpool conv:n=16,k=5,valid relu maxpool flatten "
               "linear:n=120 relu linear:n=84 relu linear:n=10" },
    /* SF paper, Figure 2 and section 5: a curtailed LeNet-5 of two
       convolutions and two linear layers (7 layers; conv1 5x5x1x20, conv2
       5x5x20x50, fc 800 -> 500, fc 500 -> 10); CSF in place of conv1 (500
       atom entries for conv1's 520 weights); SF in place of fc and its ReLU
       (800 x 500 atoms for 400,500 weights). The paper gives no lambdas:
       these leave about 40% (CSF) and 25% (SF) of the codes nonzero on
       Fashion-MNIST (README, "Sparse factorization"). SF is `local`: with
       the semi-supervised loss passed down (eq. 15) the convolutions below
       diverge or shrink their output to 0, where l_U is 0 */
    { "lenet-paper", "conv:n=20,k=5,valid maxpool conv:n=50,k=5,valid maxpool linear:n=500 "
                     "relu linear:n=10" },
    { "lenet-csf", "csf:n=20,k=5,l1=0.5 maxpool conv:n=50,k=5,valid maxpool linear:n=500 "
                   "relu linear:n=10" },
    { "lenet-sf", "conv:n=20,k=5,valid maxpool conv:n=50,k=5,valid maxpool "
                  "sf:n=500,l1=3,local linear:n=10" },
    { "lenet-csf-sf", "csf:n=20,k=5,l1=0.5 maxpool conv:n=50,k=5,valid maxpool "
                      "sf:n=500,l1=3,local linear:n=10" },
    /* DDSE section 4.2 for 28 x 28 inputs (n = 784) at the paper's defaults:
       m = 1024 codes, k = 2 iterations, s = n/4 = 196; then the five
       baselines with the same layer sizes: I, a (k+1)-layer fully connected
       net (784 -> 1024 -> 1024 -> 1024, ReLU); II, I with dropout 0.5 after
       each layer; III, I with dropconnect 0.5 on each layer; IV, LISTA
       unfolded k times with dropout 0.5 on its codes (dropout inside the
       stages too, lista:p=0.5, diverges at lr 0.01 within 200 steps on
       Fashion-MNIST); V, DDSE without its shortcuts */
    { "ddse-mnist", "pca ddse:n=1024,iters=2,nnz=196 linear:n=10" },
    { "ddse-fc", "linear:n=1024 relu linear:n=1024 relu linear:n=1024 relu linear:n=10" },
    { "ddse-fc-dropout", "linear:n=1024 relu dropout linear:n=1024 relu dropout "
                         "linear:n=1024 relu dropout linear:n=10" },
    { "ddse-fc-dropconnect", "linear:n=1024,dropconnect=0.5 relu "
                             "linear:n=1024,dropconnect=0.5 relu "
                             "linear:n=1024,dropconnect=0.5 relu linear:n=10" },
    { "ddse-lista", "lista:n=1024,iters=2 dropout linear:n=10" },
    { "ddse-noshortcut", "pca ddse:n=1024,iters=2,nnz=196,shortcut=0 linear:n=10" },
    /* a small ResNet (two basic blocks, the second halving the size with a
       projection shortcut): quick to train, the residual path in tests */
    { "resnet-tiny", "conv:n=8 bn relu res[ conv:n=8 bn relu conv:n=8 bn ] relu "
                     "res[ conv:n=16,s=2 bn relu conv:n=16 bn ] relu gap linear:n=10" },    /* SDNet (Dai et al., section 3.2, Table 1): a ResNet whose first
       convolution is a csc layer (lambda 0.1, 2 FISTA steps), and the same
       ResNet with the plain convolution. For 28 x 28 gray images a small
       one (16 channels, then two basic blocks halving the size: 16 at
       14 x 14, 32 at 7 x 7); for 32 x 32 images ResNet-18 as the CIFAR
       papers write it (64, 128, 256, 512 channels, two basic blocks each).
       `scn train --csc-all` makes every convolution a csc layer (SDNet-All) */
    { "resnet-mnist", "conv:n=16 bn relu res[ conv:n=16,s=2 bn relu conv:n=16 bn ] relu "
                     "res[ conv:n=32,s=2 bn relu conv:n=32 bn ] relu gap linear:n=10" },
    { "sdnet-mnist", "csc:n=16 bn relu res[ conv:n=16,s=2 bn relu conv:n=16 bn ] relu "
                    "res[ conv:n=32,s=2 bn relu conv:n=32 bn ] relu gap linear:n=10" },
    { "resnet18", "conv:n=64 bn relu res[ conv:n=64 bn relu conv:n=64 bn ] relu res[ "
                 "conv:n=64 bn relu conv:n=64 bn ] relu res[ conv:n=128,s=2 bn relu "
                 "conv:n=128 bn ] relu res[ conv:n=128 bn relu conv:n=128 bn ] relu "
                 "res[ conv:n=256,s=2 bn relu conv:n=256 bn ] relu res[ conv:n=256 "
                 "bn relu conv:n=256 bn ] relu res[ conv:n=512,s=2 bn relu "
                 "conv:n=512 bn ] relu res[ conv:n=512 bn relu conv:n=512 bn ] relu "
                 "gap linear:n=10" },
    { "sdnet18", "csc:n=64 bn relu res[ conv:n=64 bn relu conv:n=64 bn ] relu res[ "
                "conv:n=64 bn relu conv:n=64 bn ] relu res[ conv:n=128,s=2 bn relu "
                "conv:n=128 bn ] relu res[ conv:n=128 bn relu conv:n=128 bn ] relu "
                "res[ conv:n=256,s=2 bn relu conv:n=256 bn ] relu res[ conv:n=256 "
                "bn relu conv:n=256 bn ] relu res[ conv:n=512,s=2 bn relu "
                "conv:n=512 bn ] relu res[ conv:n=512 bn relu conv:n=512 bn ] relu "
                "gap linear:n=10" },
};
#define SCN__PRESET_COUNT ((int)(sizeof scn__presets / sizeof scn__presets[0]))

SCNDEF const char *scn_net_preset(const char *name) {
    int i;
    for (i = 0; name && i < SCN__PRESET_COUNT; i++)
        if (!strcmp(name, scn__presets[i].name)) return scn__presets[i].spec;
    return NULL;
}

SCNDEF const char *scn_net_preset_name(int i) {
    return i >= 0 && i < SCN__PRESET_COUNT ? scn__presets[i].name : NULL;
}

/* ---- the spec grammar: words, options, blocks in brackets ---- */

typedef struct scn__parser {
    const char *s;              /* what is left of the spec */
    int count;                  /* layers made so far (for messages) */
    scn__layer ctx;             /* the net's backend, workspace and generator */
} scn__parser;

/* The next token into buf: a word, "[" or "]"; 0 at the end, -1 if too long. */
static int scn__token(scn__parser *p, char *buf, size_t cap) {
    size_t len;
    while (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r') p->s++;
    if (!*p->s) return 0;
    len = *p->s == '[' || *p->s == ']' ? 1 : strcspn(p->s, " \t\n\r[]");
    if (len >= cap) {
        scn__fail(SCN_ERR_ARG, "spec word '%.40s...' is too long", p->s);
        return -1;
    }
    memcpy(buf, p->s, len);
    buf[len] = '\0';
    p->s += len;
    return 1;
}

/* "n, k, s, valid, ..." for messages. */
static void scn__option_names(const scn__kind *k, char *buf, size_t cap) {
    int i;
    size_t at = 0;
    buf[0] = '\0';
    for (i = 0; i < k->info.option_count && at < cap; i++)
        at += (size_t)snprintf(buf + at, cap - at, "%s%s", i ? ", " : "",
                               k->info.options[i].name);
}

/* One "key=value" (or bare flag) option of a spec word into l. */
static scn_status scn__spec_option(scn__layer *l, const char *key, const char *val,
                                   const char *word) {
    const scn__kind *k = l->kind;
    const scn_option *o = NULL;
    char *end = NULL, names[256];
    double v;
    int i;
    for (i = 0; i < k->info.option_count; i++)
        if (!strcmp(key, k->info.options[i].name)) { o = &k->info.options[i]; break; }
    if (!o) {
        scn__option_names(k, names, sizeof names);
        if (!k->info.option_count)
            return scn__fail(SCN_ERR_ARG, "spec word '%s': '%s' takes no options", word,
                             k->info.name);
        return scn__fail(SCN_ERR_ARG, "spec word '%s': '%s' has no option '%s' (its "
                         "options: %s)", word, k->info.name, key, names);
    }
    if (!val && o->type != SCN_OPTION_FLAG)
        return scn__fail(SCN_ERR_ARG, "spec word '%s': %s needs a value (%s=...)", word,
                         key, key);
    v = val ? strtod(val, &end) : 1.0;
    if (val && (end == val || *end))
        return scn__fail(SCN_ERR_ARG, "spec word '%s': %s = '%s' is not a number", word,
                         key, val);
    if (!(v >= o->min && v <= o->max) ||           /* before any cast to int */
        (o->type != SCN_OPTION_FLOAT && v != floor(v)))
        return scn__fail(SCN_ERR_ARG, "spec word '%s': %s = %s out of range (%s in "
                         "[%g, %g])", word, key, val, o->type == SCN_OPTION_FLOAT ?
                         "a number" : "an integer", o->min, o->max);
    if (l->given >> i & 1)
        return scn__fail(SCN_ERR_ARG, "spec word '%s': %s given twice", word, key);
    l->opt[i] = v;
    l->given |= 1u << i;
    return SCN_OK;
}

/* A layer of kind k with every option at its default, sharing ctx's
 * backend, GEMM workspace and generator. */
static void scn__layer_start(scn__layer *l, const scn__kind *k, const scn__layer *ctx,
                             int depth) {
    int i;
    SCN_ASSERT(k->info.option_count <= SCN__MAX_OPTIONS);   /* a kind's table fits */
    memset(l, 0, sizeof *l);
    l->kind = k;
    l->depth = depth;
    l->be = ctx->be;
    l->gemm_ws = ctx->gemm_ws;
    l->shared = ctx->shared;
    l->rng = ctx->rng;
    for (i = 0; i < k->info.option_count; i++) l->opt[i] = k->info.options[i].def;
}

/* The spec word "kind:key=val,flag,..." into l. */
static scn_status scn__spec_word(scn__layer *l, const char *word, const scn__layer *ctx,
                                 int depth) {
    char buf[160], *opt, *colon;
    const scn__kind *k;
    int i;
    strcpy(buf, word);
    colon = strchr(buf, ':');
    if (colon) *colon = '\0';
    if (!(k = scn__kind_find(buf))) {
        char names[256];
        size_t at = 0;
        for (i = 0; i < SCN__KIND_COUNT && at < sizeof names; i++)
            at += (size_t)snprintf(names + at, sizeof names - at, "%s%s", i ? ", " : "",
                                   scn__kinds[i].info.name);
        return scn__fail(SCN_ERR_ARG, "spec word '%s': unknown layer '%s' (%s)", word, buf,
                         names);
    }
    scn__layer_start(l, k, ctx, depth);
    for (opt = colon ? colon + 1 : NULL; opt && *opt;) {
        char *next = strchr(opt, ','), *eq;
        scn_status s;
        if (next) *next++ = '\0';
        eq = strchr(opt, '=');
        if (eq) *eq++ = '\0';
        if ((s = scn__spec_option(l, opt, eq, word))) return s;
        opt = next;
    }
    for (i = 0; i < k->info.option_count; i++) {
        const scn_option *o = &k->info.options[i];
        if (o->required && !(l->given >> i & 1))
            return scn__fail(SCN_ERR_ARG, "spec word '%s': '%s' needs %s=... (%s)", word,
                             k->info.name, o->name, o->help);
        if (!strcmp(o->name, "lr")) l->lr_scale = (float)l->opt[i];
        if (!strcmp(o->name, "frozen")) l->frozen = l->opt[i] != 0;
    }
    return SCN_OK;
}

/* Room for one more layer in q. */
static scn__layer *scn__seq_push(scn__seq *q, int *cap) {
    if (q->L == *cap) {
        scn__layer *grown;
        *cap = *cap ? 2 * *cap : 8;
        grown = (scn__layer *)SCN_REALLOC(q->layers, (size_t)*cap * sizeof *grown);
        if (!grown) {
            scn__fail(SCN_ERR_NOMEM, "net: no memory for %d layers", *cap);
            return NULL;
        }
        q->layers = grown;
    }
    memset(&q->layers[q->L], 0, sizeof q->layers[0]);
    return &q->layers[q->L++];
}

/* Sets a layer's input shape and runs its kind's setup. */
static scn_status scn__layer_setup(scn__layer *l, int C, int H, int W, int number,
                                   const char *word) {
    scn_status s;
    l->C = C; l->H = H; l->W = W;
    if ((double)C * H * W > (double)INT_MAX)   /* sizes are counted in int */
        return scn__fail(SCN_ERR_ARG, "layer %d (%s): input %d x %d x %d is over INT_MAX "
                         "values", number, word, C, H, W);
    if ((s = l->kind->setup(l)))
        return scn__fail(s, "layer %d (%s): %s", number, word, scn_error());
    if ((double)l->Co * l->Ho * l->Wo > (double)INT_MAX)
        return scn__fail(SCN_ERR_ARG, "layer %d (%s): output %d x %d x %d is over INT_MAX "
                         "values", number, word, l->Co, l->Ho, l->Wo);
    return SCN_OK;
}

/* Layers until the end of the spec (in_block 0) or the "]" closing a block,
 * chaining shapes from *C x *H x *W. */
static scn_status scn__parse_seq(scn__parser *p, scn__seq *q, int *C, int *H, int *W,
                                 int depth) {
    char word[160];
    int cap = 0, t;
    while ((t = scn__token(p, word, sizeof word)) > 0) {
        scn__layer *l;
        int number;
        scn_status s;
        if (!strcmp(word, "]")) {
            if (depth == 0) return scn__fail(SCN_ERR_ARG, "spec: ']' without a block to close");
            if (q->L == 0) return scn__fail(SCN_ERR_ARG, "spec: an empty block '[ ]'");
            return SCN_OK;
        }
        if (!strcmp(word, "["))
            return scn__fail(SCN_ERR_ARG, "spec: '[' must follow a block word such as res");
        if (!(l = scn__seq_push(q, &cap))) return SCN_ERR_NOMEM;
        number = ++p->count;
        if ((s = scn__spec_word(l, word, &p->ctx, depth)))
            return scn__fail(s, "layer %d: %s", number, scn_error());
        if (l->kind->info.composite) {
            int bc = *C, bh = *H, bw = *W;
            char open[4];
            if (scn__token(p, open, sizeof open) != 1 || strcmp(open, "["))
                return scn__fail(SCN_ERR_ARG, "layer %d (%s): a block needs its body in "
                                 "brackets, e.g. %s[ conv:n=16 bn ]", number, word, word);
            if ((s = scn__parse_seq(p, &l->body, &bc, &bh, &bw, depth + 1))) return s;
        }
        if ((s = scn__layer_setup(l, *C, *H, *W, number, word))) return s;
        *C = l->Co; *H = l->Ho; *W = l->Wo;
    }
    if (t < 0) return SCN_ERR_ARG;
    if (depth > 0) return scn__fail(SCN_ERR_ARG, "spec: a block '[' is never closed");
    if (q->L == 0) return scn__fail(SCN_ERR_ARG, "net: the spec has no layers");
    return SCN_OK;
}

/* The body's output shape decides: the same as the input, identity; else
 * a 1x1 convolution whose stride maps the input's size to the output's. */
static scn_status scn__res_setup(scn__layer *l) {
    const scn__layer *last = &l->body.layers[l->body.L - 1];
    scn__layer *proj;
    int s, cap = 0;
    char word[64];
    scn_status st;
    l->Co = last->Co; l->Ho = last->Ho; l->Wo = last->Wo;
    if (l->Co == l->C && l->Ho == l->H && l->Wo == l->W) return SCN_OK;
    for (s = 1; s <= l->H && s <= l->W; s++)
        if ((l->H - 1) / s + 1 == l->Ho && (l->W - 1) / s + 1 == l->Wo) break;
    if (s > l->H || s > l->W)
        return scn__fail(SCN_ERR_ARG, "res block: its body maps %dx%d to %dx%d, which no "
                         "strided 1x1 projection of the input matches", l->H, l->W, l->Ho,
                         l->Wo);
    if (!(proj = scn__seq_push(&l->shortcut, &cap))) return SCN_ERR_NOMEM;
    snprintf(word, sizeof word, "conv:n=%d,k=1,s=%d,valid", l->Co, s);
    if ((st = scn__spec_word(proj, word, l, l->depth + 1))) return st;
    proj->is_shortcut = 1;
    return scn__layer_setup(proj, l->C, l->H, l->W, 0, word);
}

/* Every layer in numbering order: a layer, its body's, its shortcut's. */
static void scn__seq_list(scn__seq *q, scn__layer **all, int *count) {
    int i;
    for (i = 0; i < q->L; i++) {
        scn__layer *l = &q->layers[i];
        if (all) all[*count] = l;
        ++*count;
        scn__seq_list(&l->body, all, count);
        scn__seq_list(&l->shortcut, all, count);
    }
}

static void scn__seq_free_batch(scn__seq *q, const scn_backend *be) {
    int i;
    if (q->act)
        for (i = 0; i < q->L; i++) be->release(q->act[i]);
    SCN_FREE(q->act);
    be->release(q->dbuf[0]);
    be->release(q->dbuf[1]);
    q->act = NULL;
    q->dbuf[0] = q->dbuf[1] = NULL;
    q->cap = 0;
}

static void scn__seq_free(scn__seq *q, const scn_backend *be) {
    int i;
    scn__seq_free_batch(q, be);
    for (i = 0; i < q->L; i++) {
        scn__layer *l = &q->layers[i];
        scn_workspace cache = { NULL, 0, NULL };
        cache.dict = l->dict;               /* the layer's own; the scratch is the net's */
        be->release(l->ws);
        SCN_FREE(l->host);
        scn_workspace_free(&cache);
        scn__seq_free(&l->body, be);
        scn__seq_free(&l->shortcut, be);
    }
    SCN_FREE(q->layers);
}

SCNDEF void scn_net_free(scn_net *net) {
    if (!net) return;
    scn__seq_free(&net->top, net->be);
    net->be->release(net->params);
    net->be->release(net->grads);
    net->be->release(net->buffers);
    net->be->release(net->input);
    net->be->release(net->dlogits);
    SCN_FREE(net->logits);
    scn_workspace_free(&net->gemm_ws);
    net->be->release(net->shared.data);
    scn_workspace_free(&net->shared.solve);
    SCN_FREE(net->all);
    SCN_FREE(net->spec);
    SCN_FREE(net);
}

/* 1 if the parameters or buffers hold a NaN or Inf (or the backend failed:
 * *s says). */
static int scn__net_has_nonfinite(const scn_net *net, scn_status *s) {
    size_t at;
    if ((*s = net->be->find_nonfinite(net->params, net->nparams, &at))) return 0;
    if (at < net->nparams) return 1;
    if ((*s = net->be->find_nonfinite(net->buffers, net->nbuffers, &at))) return 0;
    return at < net->nbuffers;
}

/* The most parameters (or buffer values) a net may have. */
#define SCN__NET_MAX ((uint64_t)1 << 40)

/* Parses the spec, numbers the layers and counts what they hold. */
static scn_status scn__net_parse(scn_net *net, const char *spec) {
    scn__parser p;
    int C = net->C, H = net->H, W = net->W, i;
    uint64_t np = 0, nb = 0;
    scn_status s;
    memset(&p, 0, sizeof p);
    p.s = spec;
    p.ctx.be = net->be;
    p.ctx.gemm_ws = &net->gemm_ws;
    p.ctx.shared = &net->shared;
    p.ctx.rng = &net->rng;
    if ((s = scn__parse_seq(&p, &net->top, &C, &H, &W, 0))) return s;
    scn__seq_list(&net->top, NULL, &net->count);
    net->all = (scn__layer **)scn__calloc((size_t)net->count, sizeof *net->all, "net");
    if (!net->all) return SCN_ERR_NOMEM;
    net->count = 0;
    scn__seq_list(&net->top, net->all, &net->count);
    for (i = 0; i < net->count; i++) {
        if (i > 0 && !strcmp(net->all[i]->kind->info.name, "pca"))
            return scn__fail(SCN_ERR_ARG, "net: layer %d is pca, which must be the first "
                             "layer (its basis is fitted to the input images)", i + 1);
        net->all[i]->number = i + 1;
        net->all[i]->eval_tol = SCN_EVAL_TOL;
        np += net->all[i]->nparams;
        nb += net->all[i]->nbuffers;
        if (np > SCN__NET_MAX || nb > SCN__NET_MAX)
            return scn__fail(SCN_ERR_ARG, "net: layer %d takes the net over 2^40 parameters",
                             i + 1);
    }
    if (np > (uint64_t)((size_t)-1 / sizeof(float)) || nb > (uint64_t)((size_t)-1 / sizeof(float)))
        return scn__fail(SCN_ERR_ARG, "net: %llu parameters do not fit this machine's memory",
                         (unsigned long long)np);
    net->nparams = (size_t)np;
    net->nbuffers = (size_t)nb;
    return SCN_OK;
}

/* Points every layer into the blocks and runs its kind's init, which
 * writes host memory: on a device backend, into host copies uploaded after. */
static scn_status scn__net_init(scn_net *net) {
    const scn_backend *be = net->be;
    float *hp = net->params, *hb = net->buffers;
    size_t p = 0, b = 0;
    scn_status s = SCN_OK;
    int i, pass;
    if (!be->host_memory) {
        hp = (float *)scn__calloc(net->nparams ? net->nparams : 1, sizeof(float), "net");
        hb = (float *)scn__calloc(net->nbuffers ? net->nbuffers : 1, sizeof(float), "net");
        if (!hp || !hb) { SCN_FREE(hp); SCN_FREE(hb); return SCN_ERR_NOMEM; }
    }
    for (pass = 0; pass < 2; pass++, p = b = 0)      /* host copies, then the blocks */
        for (i = 0; i < net->count; i++) {
            scn__layer *l = net->all[i];
            l->params = (pass ? net->params : hp) + p;
            l->grads = net->grads + p;
            l->buffers = (pass ? net->buffers : hb) + b;
            p += l->nparams;
            b += l->nbuffers;
            if (!pass) l->kind->init(l, &net->rng);
        }
    if (!be->host_memory) {
        if (!(s = be->upload(net->params, hp, net->nparams * sizeof(float))))
            s = be->upload(net->buffers, hb, net->nbuffers * sizeof(float));
        SCN_FREE(hp);
        SCN_FREE(hb);
    }
    return s;
}

/* scn_net_create; a checkpoint passes expect (its parameter and buffer
 * counts), so a spec that does not match them fails before allocating. */
static scn_net *scn__net_build(const char *spec, int C, int H, int W, uint64_t seed,
                               const uint64_t *expect) {
    const char *preset = scn_net_preset(spec);
    scn_net *net;
    if (!spec) { scn__fail(SCN_ERR_ARG, "net: no spec"); return NULL; }
    if (C < 1 || H < 1 || W < 1) {
        scn__fail(SCN_ERR_ARG, "net: input %d x %d x %d", C, H, W);
        return NULL;
    }
    if (preset) spec = preset;
    net = (scn_net *)scn__calloc(1, sizeof *net, "net");
    if (!net) return NULL;
    net->C = C; net->H = H; net->W = W;
    net->be = scn_backend_get();
    scn_rng_seed(&net->rng, seed, 0x5c4);
    net->spec = (char *)scn__calloc(strlen(spec) + 1, 1, "net");
    if (!net->spec || scn__net_parse(net, spec) != SCN_OK) { scn_net_free(net); return NULL; }
    strcpy(net->spec, spec);
    if (expect && (net->nparams != expect[0] || net->nbuffers != expect[1])) {
        scn__fail(SCN_ERR_FORMAT, "%llu parameters and %llu buffers stored, but the spec "
                  "builds %zu and %zu", (unsigned long long)expect[0],
                  (unsigned long long)expect[1], net->nparams, net->nbuffers);
        scn_net_free(net);
        return NULL;
    }
    net->params = (float *)net->be->alloc((net->nparams ? net->nparams : 1) * sizeof(float));
    net->grads = (float *)net->be->alloc((net->nparams ? net->nparams : 1) * sizeof(float));
    net->buffers = (float *)net->be->alloc((net->nbuffers ? net->nbuffers : 1) * sizeof(float));
    if (!net->params || !net->grads || !net->buffers) {
        scn__fail(SCN_ERR_NOMEM, "net: no memory for %zu parameters", net->nparams);
        scn_net_free(net);
        return NULL;
    }
    if (scn__net_init(net) != SCN_OK) { scn_net_free(net); return NULL; }
    return net;
}

SCNDEF scn_net *scn_net_create(const char *spec, int C, int H, int W, uint64_t seed) {
    return scn__net_build(spec, C, H, W, seed, NULL);
}

/* Activation and gradient buffers of q and its blocks for a batch of N. */
static scn_status scn__seq_reserve(scn__seq *q, int N, const scn_backend *be) {
    size_t dmax = 0;
    int i;
    scn_status s;
    scn__seq_free_batch(q, be);
    q->act = (float **)scn__calloc((size_t)q->L, sizeof(float *), "activations");
    if (!q->act) return SCN_ERR_NOMEM;
    for (i = 0; i < q->L; i++) {
        scn__layer *l = &q->layers[i];
        size_t in = scn__in_size(l), out = scn__out_size(l);
        /* in and out are at most INT_MAX (scn__parse_layer), the batch's
         * floats may still be past a 32-bit size_t */
        if ((uint64_t)(in > out ? in : out) * (uint64_t)N * sizeof(float) > SIZE_MAX)
            return scn__fail(SCN_ERR_NOMEM, "net: a batch of %d through layer %d (%s) is "
                             "more memory than this target's %zu-bit size_t addresses", N,
                             l->number, l->kind->info.name, sizeof(size_t) * 8);
        if (l->k > 0) {         /* a window layer: its patch matrix's N Ho Wo columns */
            scn_conv_geom g;
            if ((s = scn_conv_geom_init(&g, N, l->C, l->H, l->W, l->k, l->stride, l->pad)))
                return scn__fail(s, "net: a batch of %d at layer %d (%s): %s", N, l->number,
                                 l->kind->info.name, scn_error());
        }
        q->act[i] = (float *)be->alloc(out * N * sizeof(float));
        if (!q->act[i]) return scn__fail(SCN_ERR_NOMEM, "net: no memory for activations");
        if (in > dmax) dmax = in;
        if (out > dmax) dmax = out;
        if ((s = scn__seq_reserve(&l->body, N, be)) ||
            (s = scn__seq_reserve(&l->shortcut, N, be)))
            return s;
    }
    q->dbuf[0] = (float *)be->alloc(dmax * N * sizeof(float));
    q->dbuf[1] = (float *)be->alloc(dmax * N * sizeof(float));
    if (!q->dbuf[0] || !q->dbuf[1])
        return scn__fail(SCN_ERR_NOMEM, "net: no memory for gradients");
    q->cap = N;
    return SCN_OK;
}

static scn_status scn__net_reserve(scn_net *net, int N) {
    int K = scn_net_classes(net);
    size_t in = (size_t)net->C * net->H * net->W;
    scn_status s;
    if (N <= net->top.cap) return SCN_OK;
    if ((s = scn__seq_reserve(&net->top, N, net->be))) {
        scn__seq_free_batch(&net->top, net->be);
        return s;
    }
    if (net->be->host_memory) return SCN_OK;
    net->be->release(net->input);
    net->be->release(net->dlogits);
    SCN_FREE(net->logits);
    net->input = (float *)net->be->alloc(in * N * sizeof(float));
    net->dlogits = (float *)net->be->alloc((size_t)K * N * sizeof(float));
    net->logits = (float *)scn__calloc((size_t)K * N, sizeof(float), "logits");
    if (!net->input || !net->dlogits || !net->logits) {
        scn__seq_free_batch(&net->top, net->be);
        return scn__fail(SCN_ERR_NOMEM, "net: no memory for a batch of %d", N);
    }
    return SCN_OK;
}

static scn_status scn__seq_forward(scn__seq *q, const float *x, int N, int train,
                                   const float **out) {
    const float *in = x;
    int i;
    for (i = 0; i < q->L; i++) {
        scn__layer *l = &q->layers[i];
        double t0 = scn__seconds();
        scn_status s = l->kind->forward(l, in, q->act[i], N, train);
        l->seconds[0] += scn__seconds() - t0;
        if (s) return scn__fail(s, "layer %d (%s): %s", l->number, l->kind->info.name,
                                scn_error());
        in = q->act[i];
    }
    *out = in;
    return SCN_OK;
}

/* A NaN or Inf in the logits would pass for an answer (an argmax) in
 * evaluation: it is an error naming the first top-level layer whose output
 * holds one (the inputs are finite, so that layer made it). */
static scn_status scn__net_check_output(const scn_net *net, int N) {
    const scn__seq *q = &net->top;
    size_t at, count = (size_t)N * scn__out_size(&q->layers[q->L - 1]);
    scn_status s;
    int i;
    if ((s = net->be->find_nonfinite(q->act[q->L - 1], count, &at)) || at == count) return s;
    for (i = 0; i < q->L; i++) {
        count = (size_t)N * scn__out_size(&q->layers[i]);
        if ((s = net->be->find_nonfinite(q->act[i], count, &at))) return s;
        if (at < count) break;
    }
    return scn__fail(SCN_ERR_NUMERIC, "net forward: layer %d (%s) gives a NaN or Inf (output "
                     "value %zu; parameters diverged, or values left float range)",
                     q->layers[i].number, q->layers[i].kind->info.name, at);
}

SCNDEF const float *scn_net_forward(scn_net *net, const float *x, int N, int train) {
    const float *z;
    size_t in;
    int K, i;
    SCN_ASSERT(net && x);
    in = (size_t)net->C * net->H * net->W;
    K = scn_net_classes(net);
    if (N < 1) { scn__fail(SCN_ERR_ARG, "net forward: batch of %d", N); return NULL; }
    if (scn__net_reserve(net, N) != SCN_OK) return NULL;
    net->trained = 0;
    if (!net->be->host_memory) {
        if (net->be->upload(net->input, x, in * N * sizeof *x)) return NULL;
        x = net->input;
    }
    if (scn__seq_forward(&net->top, x, N, train, &z) || scn__net_check_output(net, N))
        return NULL;
    net->extra = 0.0;
    for (i = 0; i < net->count; i++)
        if (net->all[i]->kind->extra_loss) net->extra += net->all[i]->kind->extra_loss(net->all[i]);
    net->x = x;
    net->N = N;
    net->trained = train;
    if (net->be->host_memory) return z;
    if (net->be->download(net->logits, z, (size_t)K * N * sizeof *z)) return NULL;
    return net->logits;
}

SCNDEF scn_status scn_net_set_mu(scn_net *net, float mu) {
    int i, any = 0;
    SCN_ASSERT(net);
    if (!(mu >= 0.0f && mu <= 1.0f))
        return scn__fail(SCN_ERR_ARG, "mu %g is outside [0, 1]", (double)mu);
    for (i = 0; i < net->count; i++) {
        scn__layer *l = net->all[i];
        if (l->kind->forward != scn__sc_forward) continue;
        l->mu = mu;
        any = 1;
    }
    if (!any && mu > 0.0f)
        return scn__fail(SCN_ERR_ARG, "mu %g: the net has no sparse-coding layer (sc, csf or "
                         "sf) with an unsupervised loss", (double)mu);
    return SCN_OK;
}

SCNDEF double scn_net_extra_loss(const scn_net *net) {
    SCN_ASSERT(net);
    return net->extra;
}

static scn_status scn__seq_backward(scn__seq *q, const float *x, const float *dy, float *dx,
                                    int N) {
    int i;
    for (i = q->L - 1; i >= 0; i--) {
        scn__layer *l = &q->layers[i];
        const float *xi = i ? q->act[i - 1] : x;
        float *dxi = i ? q->dbuf[i % 2] : dx;
        double t0 = scn__seconds();
        scn_status s = l->kind->backward(l, xi, q->act[i], dy, dxi, N);
        l->seconds[1] += scn__seconds() - t0;
        if (s) return scn__fail(s, "layer %d (%s) backward: %s", l->number,
                                l->kind->info.name, scn_error());
        dy = dxi;
    }
    return SCN_OK;
}

SCNDEF scn_status scn_net_backward(scn_net *net, const float *dlogits, float *dx) {
    size_t in;
    float *ddev = dx;
    scn_status s;
    SCN_ASSERT(net && dlogits);
    in = (size_t)net->C * net->H * net->W;
    if (!net->trained)
        return scn__fail(SCN_ERR_ARG, "net backward: no training forward to go back through");
    if (!net->be->host_memory) {
        size_t K = (size_t)scn_net_classes(net);
        if ((s = net->be->upload(net->dlogits, dlogits, K * net->N * sizeof *dlogits)))
            return s;
        dlogits = net->dlogits;
        if (dx) ddev = net->input;         /* the input is not needed any more */
    }
    if ((s = scn__seq_backward(&net->top, net->x, dlogits, ddev, net->N))) return s;
    if (dx && ddev != dx) return net->be->download(dx, ddev, in * net->N * sizeof *dx);
    return SCN_OK;
}

SCNDEF void scn_net_zero_grad(scn_net *net) {
    SCN_ASSERT(net);
    net->be->fill(net->grads, net->nparams, 0.0f);
}

SCNDEF void scn_net_input_shape(const scn_net *net, int *C, int *H, int *W) {
    SCN_ASSERT(net && C && H && W);
    *C = net->C; *H = net->H; *W = net->W;
}

SCNDEF int scn_net_classes(const scn_net *net) {
    SCN_ASSERT(net);
    return (int)scn__out_size(&net->top.layers[net->top.L - 1]);
}
SCNDEF int scn_net_layer_count(const scn_net *net) {
    SCN_ASSERT(net);
    return net->count;
}

SCNDEF size_t scn_net_param_count(const scn_net *net) {
    SCN_ASSERT(net);
    return net->nparams;
}

SCNDEF float *scn_net_params(scn_net *net) {
    SCN_ASSERT(net);
    return net->params;
}

SCNDEF float *scn_net_grads(scn_net *net) {
    SCN_ASSERT(net);
    return net->grads;
}

SCNDEF float *scn_net_buffers(scn_net *net, size_t *count) {
    SCN_ASSERT(net && count);
    *count = net->nbuffers;
    return net->buffers;
}

SCNDEF const char *scn_net_spec(const scn_net *net) {
    SCN_ASSERT(net);
    return net->spec;
}

SCNDEF scn_rng *scn_net_rng(scn_net *net) {
    SCN_ASSERT(net);
    return &net->rng;
}

static scn__layer *scn__net_layer(const scn_net *net, int i) {
    return i >= 0 && i < net->count ? net->all[i] : NULL;
}

/* A layer's parameters with its body's and shortcut's: every layer
 * numbered after it down to its depth's next. */
SCNDEF size_t scn_net_layer_params(const scn_net *net, int i, size_t *count) {
    scn__layer *l;
    size_t n;
    int j;
    SCN_ASSERT(net && count);
    l = scn__net_layer(net, i);
    if (!l) { *count = 0; return 0; }
    n = l->nparams;
    for (j = i + 1; j < net->count && net->all[j]->depth > l->depth; j++)
        n += net->all[j]->nparams;
    *count = n;
    return (size_t)(l->params - net->params);
}

SCNDEF const char *scn_net_layer_kind(const scn_net *net, int i) {
    scn__layer *l;
    SCN_ASSERT(net);
    l = scn__net_layer(net, i);
    return l ? l->kind->info.name : NULL;
}

SCNDEF void scn_net_layer_time(scn_net *net, int i, double *forward, double *backward,
                               int reset) {
    scn__layer *l;
    SCN_ASSERT(net && forward && backward);
    l = scn__net_layer(net, i);
    *forward = l ? l->seconds[0] : 0.0;
    *backward = l ? l->seconds[1] : 0.0;
    if (l && reset) l->seconds[0] = l->seconds[1] = 0.0;
}

SCNDEF float scn_net_layer_density(const scn_net *net, int i) {
    scn__layer *l;
    SCN_ASSERT(net);
    l = scn__net_layer(net, i);
    return l && (l->kind->forward == scn__sc_forward || l->kind->forward == scn__csc_forward)
               ? l->density : -1.0f;
}

/* scn_net_sc_recon of a csc layer: its evaluation forward left x - A(z)
 * and A(z) in its scratch */
static scn_status scn__csc_recon(const scn_net *net, const scn__layer *l, int i, int shape[4],
                                 float *input, float *recon) {
    scn__csc_ws w;
    size_t count, k;
    if (!net->be->host_memory)
        return scn__fail(SCN_ERR_ARG, "reconstruction: backend %s keeps no host memory",
                         net->be->name);
    if (net->N < 1 || l->resid_n != net->N)
        return scn__fail(SCN_ERR_ARG, "reconstruction: layer %d (csc) has not run an "
                         "evaluation forward", i + 1);
    shape[0] = net->N; shape[1] = l->C; shape[2] = l->H; shape[3] = l->W;
    if (!input) return SCN_OK;
    count = (size_t)net->N * scn__in_size(l);
    scn__csc_scratch((scn__layer *)l, net->N, 0, &w);
    memcpy(recon, w.rec, count * sizeof *recon);
    for (k = 0; k < count; k++) input[k] = w.img[k] + w.rec[k];
    return SCN_OK;
}

SCNDEF scn_status scn_net_sc_recon(const scn_net *net, int i, int shape[4], float *input,
                                   float *recon) {
    const scn__layer *l;
    scn_conv_geom g;
    size_t mP, k, count;
    float *DA, *cover, *alpha;
    int n;
    scn_status s;
    SCN_ASSERT(net && shape && !input == !recon);
    l = scn__net_layer(net, i);
    if (l && l->kind->forward == scn__csc_forward)
        return scn__csc_recon(net, l, i, shape, input, recon);
    if (!l || l->kind->forward != scn__sc_forward)
        return scn__fail(SCN_ERR_ARG, "reconstruction: layer %d is %s, not sc, csf, sf or csc",
                         i + 1, l ? l->kind->info.name : "not there");
    if (net->N < 1 || !l->last_out)
        return scn__fail(SCN_ERR_ARG, "reconstruction: layer %d has not run a forward", i + 1);
    if (!net->be->host_memory)
        return scn__fail(SCN_ERR_ARG, "reconstruction: backend %s keeps no host memory",
                         net->be->name);
    g = scn__geom(l, net->N);
    shape[0] = g.N; shape[1] = g.C; shape[2] = g.H; shape[3] = g.W;
    if (!input) return SCN_OK;
    n = scn__sc_n(l);
    mP = (size_t)g.m * g.P;
    count = (size_t)g.N * g.C * g.H * g.W;
    DA = (float *)scn__calloc(mP, sizeof(float), "reconstruction");
    cover = (float *)scn__calloc(count, sizeof(float), "reconstruction");
    alpha = (float *)scn__calloc((size_t)n * g.P, sizeof(float), "reconstruction");
    if (!DA || !cover || !alpha) {
        SCN_FREE(DA);
        SCN_FREE(cover);
        SCN_FREE(alpha);
        return SCN_ERR_NOMEM;
    }
    /* the codes are the layer's last output, in columns; the patches its
     * last input, which col2im below averages back into the image */
    s = net->be->nchw_to_cols(&g, n, l->last_out, alpha);
    if (!s) s = scn__cpu_gemm(NULL, 0, 0, g.m, g.P, n, 1.0f, l->params, n, alpha, g.P, 0.0f,
                              DA, g.P);
    if (!s) s = scn_col2im(&g, DA, recon);
    if (!s) s = scn_im2col(&g, l->last_in, DA);
    if (!s) s = scn_col2im(&g, DA, input);
    for (k = 0; !s && k < mP; k++) DA[k] = 1.0f;
    if (!s) s = scn_col2im(&g, DA, cover);
    for (k = 0; !s && k < count; k++)
        if (cover[k] > 0.0f) { input[k] /= cover[k]; recon[k] /= cover[k]; }
    SCN_FREE(DA);
    SCN_FREE(cover);
    SCN_FREE(alpha);
    return s;
}

SCNDEF scn_status scn_net_set_eval_tol(scn_net *net, float tol) {
    int j;
    SCN_ASSERT(net);
    if (!(tol >= 0.0f && tol < 1.0f))
        return scn__fail(SCN_ERR_ARG, "evaluation tolerance %g: must be in [0, 1)", (double)tol);
    for (j = 0; j < net->count; j++) net->all[j]->eval_tol = tol;
    return SCN_OK;
}

SCNDEF scn_status scn_net_set_csc_lambda(scn_net *net, int i, float lambda) {
    int j, found = 0;
    SCN_ASSERT(net);
    if (!(lambda >= 0.0f && lambda <= 1000.0f))
        return scn__fail(SCN_ERR_ARG, "csc lambda %g: must be in [0, 1000]", (double)lambda);
    if (i >= 0) {
        scn__layer *l = scn__net_layer(net, i);
        if (!l || l->kind->forward != scn__csc_forward)
            return scn__fail(SCN_ERR_ARG, "csc lambda: layer %d is %s, not csc", i + 1,
                             l ? l->kind->info.name : "not there");
    }
    for (j = 0; j < net->count; j++) {
        scn__layer *l = net->all[j];
        if (l->kind->forward != scn__csc_forward || (i >= 0 && j != i)) continue;
        l->opt[CSC_L1] = lambda;
        found++;
    }
    return found ? SCN_OK : scn__fail(SCN_ERR_ARG, "csc lambda: the net has no csc layer");
}

SCNDEF float scn_net_csc_lambda(const scn_net *net, int i) {
    int j;
    SCN_ASSERT(net);
    for (j = i < 0 ? 0 : i; j < net->count && (i < 0 || j == i); j++)
        if (net->all[j]->kind->forward == scn__csc_forward) return (float)net->all[j]->opt[CSC_L1];
    return -1.0f;
}

SCNDEF scn_status scn_net_csc_residual(const scn_net *net, float *r) {
    int j, b, layers = 0;
    SCN_ASSERT(net && r);
    for (j = 0; j < net->count; j++) {
        const scn__layer *l = net->all[j];
        if (l->kind->forward != scn__csc_forward) continue;
        if (net->N < 1 || l->resid_n != net->N)
            return scn__fail(SCN_ERR_ARG, "csc residual: layer %d has not run an evaluation "
                             "forward", j + 1);
        for (b = 0; b < net->N; b++) r[b] = (layers ? r[b] : 0.0f) + l->host[b];
        layers++;
    }
    if (!layers) return scn__fail(SCN_ERR_ARG, "csc residual: the net has no csc layer");
    for (b = 0; b < net->N; b++) r[b] /= (float)layers;
    return SCN_OK;
}

SCNDEF void scn_net_describe(const scn_net *net, int i, char *buf, size_t cap) {
    const scn__layer *l;
    size_t count, at;
    SCN_ASSERT(net && buf && cap > 0);
    l = scn__net_layer(net, i);
    if (!l) { snprintf(buf, cap, "(no layer %d)", i); return; }
    scn_net_layer_params(net, i, &count);
    at = (size_t)snprintf(buf, cap, "%2d %*s%-*s %4d x %3d x %3d  %9zu params", i + 1,
                          2 * l->depth, "", 8 - 2 * (l->depth < 4 ? l->depth : 4),
                          l->kind->info.name, l->Co, l->Ho, l->Wo, count);
    if (l->is_shortcut && at < cap) snprintf(buf + at, cap - at, "  (the block's shortcut)");
    else if (l->kind->describe && at + 2 < cap) {
        buf[at++] = ' ';
        buf[at++] = ' ';
        l->kind->describe(l, buf + at, cap - at);
    }
}

SCNDEF scn_status scn_softmax_xent(const float *logits, const unsigned char *labels, int N,
                                   int K, float *dlogits, double *loss, int *correct) {
    double total = 0.0;
    int b, j, right = 0;
    SCN_ASSERT(logits && labels);
    for (b = 0; b < N; b++) {
        const float *z = logits + (size_t)b * K;
        double mx = z[0], sum = 0.0;
        int best = 0;
        if (labels[b] >= K)
            return scn__fail(SCN_ERR_ARG, "softmax: label %d of sample %d but %d classes",
                             labels[b], b, K);
        for (j = 1; j < K; j++) if (z[j] > mx) { mx = z[j]; best = j; }
        for (j = 0; j < K; j++) sum += exp(z[j] - mx);
        total += log(sum) + mx - z[labels[b]];
        right += best == labels[b];
        if (dlogits)
            for (j = 0; j < K; j++)
                dlogits[(size_t)b * K + j] =
                    (float)((exp(z[j] - mx) / sum - (j == labels[b])) / N);
    }
    if (!isfinite(total))
        return scn__fail(SCN_ERR_NUMERIC, "softmax: the loss is %g (diverged?)", total);
    if (loss) *loss = total;
    if (correct) *correct = right;
    return SCN_OK;
}

/* ======================================================================
 * 10. Optimisation
 * ====================================================================== */

SCNDEF scn_status scn_sgd_init(scn_sgd *opt, const scn_net *net, const scn_sgd_desc *desc) {
    int i;
    SCN_ASSERT(opt && net);
    memset(opt, 0, sizeof *opt);
    if (desc) opt->desc = *desc;
    if (opt->desc.lr == 0.0f) opt->desc.lr = 0.1f;
    if (opt->desc.momentum == 0.0f) opt->desc.momentum = 0.9f;
    if (opt->desc.momentum < 0.0f) opt->desc.momentum = 0.0f;
    if (opt->desc.weight_decay == 0.0f) opt->desc.weight_decay = 5e-4f;
    if (opt->desc.weight_decay < 0.0f) opt->desc.weight_decay = 0.0f;
    if (opt->desc.gamma == 0.0f) opt->desc.gamma = 0.1f;
    if (!(opt->desc.lr > 0.0f && opt->desc.lr <= FLT_MAX) || !(opt->desc.momentum < 1.0f) ||
        !(opt->desc.weight_decay <= FLT_MAX) || !(opt->desc.gamma > 0.0f &&
                                                 opt->desc.gamma <= FLT_MAX))
        return scn__fail(SCN_ERR_ARG, "sgd: lr %g, momentum %g, weight decay %g, gamma %g "
                         "(need lr and gamma finite and > 0, momentum < 1, decay finite)",
                         (double)opt->desc.lr, (double)opt->desc.momentum,
                         (double)opt->desc.weight_decay, (double)opt->desc.gamma);
    if (opt->desc.nesterov != 0 && opt->desc.nesterov != 1)
        return scn__fail(SCN_ERR_ARG, "sgd: nesterov = %d (0 or 1)", opt->desc.nesterov);
    if (opt->desc.decay_lambda1 != 0 && opt->desc.decay_lambda1 != 1)
        return scn__fail(SCN_ERR_ARG, "sgd: decay_lambda1 = %d (0 or 1)",
                         opt->desc.decay_lambda1);
    for (i = 0; i < 8; i++)
        if (opt->desc.milestones[i] < 0)
            return scn__fail(SCN_ERR_ARG, "sgd: milestone %d is %d", i,
                             opt->desc.milestones[i]);
    if (opt->desc.schedule != SCN_LR_STEP && opt->desc.schedule != SCN_LR_COSINE)
        return scn__fail(SCN_ERR_ARG, "sgd: schedule %d (SCN_LR_STEP or SCN_LR_COSINE)",
                         opt->desc.schedule);
    if (opt->desc.schedule == SCN_LR_COSINE && opt->desc.epochs < 1)
        return scn__fail(SCN_ERR_ARG, "sgd: a cosine schedule needs its epochs (%d)",
                         opt->desc.epochs);
    opt->count = net->nparams;
    opt->velocity = (float *)net->be->alloc((opt->count ? opt->count : 1) * sizeof(float));
    if (!opt->velocity)
        return scn__fail(SCN_ERR_NOMEM, "sgd: no memory for %zu velocities", opt->count);
    opt->be = net->be;
    return SCN_OK;
}

SCNDEF void scn_sgd_free(scn_sgd *opt) {
    SCN_ASSERT(opt);
    if (opt->be) opt->be->release(opt->velocity);
    opt->velocity = NULL;
}

SCNDEF float scn_sgd_lr(const scn_sgd *opt, int epoch) {
    float lr;
    int i;
    SCN_ASSERT(opt);
    lr = opt->desc.lr;
    if (opt->desc.schedule == SCN_LR_COSINE)
        return (float)(lr * 0.5 * (1.0 + cos(3.141592653589793 * epoch / opt->desc.epochs)));
    for (i = 0; i < 8 && opt->desc.milestones[i] > 0; i++)
        if (epoch >= opt->desc.milestones[i]) lr *= opt->desc.gamma;
    return lr;
}

/* The first NaN or Inf of a layer's parameters or gradients: 1 with its
 * index in *at, 0 if none (or the backend failed: *st says). */
static int scn__nonfinite(const scn__layer *l, const float *x, size_t *at, scn_status *st) {
    *st = l->be->find_nonfinite(x, l->nparams, at);
    return !*st && *at < l->nparams;
}

/* Per parameter block: v = momentum v + g + decay w, w -= lr v (PyTorch's
 * convention; Nesterov: w -= lr (g + decay w + momentum v)), lr scaled per
 * layer, decay on weights only (and on lambda1 with decay_lambda1: SCN
 * Algorithm 2, step 7); frozen layers skipped. Then every layer's
 * projection, told the step count. */
SCNDEF scn_status scn_sgd_step(scn_sgd *opt, scn_net *net, float lr) {
    float mu, wd;
    scn_status s;
    size_t at;
    int i, b;
    SCN_ASSERT(opt && net && opt->count == net->nparams);
    mu = opt->desc.momentum;
    wd = opt->desc.weight_decay;
    for (i = 0; i < net->count; i++) {
        scn__layer *l = net->all[i];
        if (l->frozen || !l->nparams) continue;
        if (scn__nonfinite(l, l->grads, &at, &s))
            return scn__fail(SCN_ERR_NUMERIC, "sgd: layer %d (%s) has a non-finite gradient "
                             "(at %zu; diverged?); no parameter was changed", i + 1,
                             l->kind->info.name, at);
        if (s) return s;
    }
    opt->steps++;
    for (i = 0; i < net->count; i++) {
        scn__layer *l = net->all[i];
        size_t off = (size_t)(l->params - net->params);
        if (l->frozen || !l->nparams) continue;
        for (b = 0; b < l->nblocks; b++) {
            const scn__block *k = &l->blocks[b];
            if ((s = l->be->sgd_update(l->params + k->offset, l->grads + k->offset,
                                       opt->velocity + off + k->offset, k->count,
                                       lr * l->lr_scale, mu,
                                       k->decay == 1 || (k->decay == SCN__DECAY_LAMBDA1 &&
                                                         opt->desc.decay_lambda1) ? wd : 0.0f,
                                       opt->desc.nesterov)))
                return s;
        }
        if (l->kind->project && (s = l->kind->project(l, opt->steps))) return s;
        if (scn__nonfinite(l, l->params, &at, &s))
            return scn__fail(SCN_ERR_NUMERIC, "sgd: layer %d (%s) has a non-finite parameter "
                             "after the step (at %zu; lr %g too large?)", i + 1,
                             l->kind->info.name, at, (double)lr);
        if (s) return s;
    }
    return SCN_OK;
}

SCNDEF scn_status scn_net_project(scn_net *net) {
    scn_status s;
    int i;
    SCN_ASSERT(net);
    for (i = 0; i < net->count; i++) {
        scn__layer *l = net->all[i];
        if (!l->frozen && l->kind->project && (s = l->kind->project(l, -1))) return s;
    }
    return SCN_OK;
}

/* ======================================================================
 * 11. Data sets
 * ====================================================================== */

SCNDEF void scn_dataset_close(scn_dataset *ds) {
    if (ds && ds->close) ds->close(ds);
}

SCNDEF scn_status scn_dataset_read(scn_dataset *ds, const int *idx, int n, float *x,
                                   unsigned char *labels) {
    int i;
    if (!ds || n < 0 || (n && (!idx || !x)))
        return scn__fail(SCN_ERR_ARG, "data set read: NULL data set or buffer");
    for (i = 0; i < n; i++)
        if (idx[i] < 0 || idx[i] >= ds->count)
            return scn__fail(SCN_ERR_ARG, "data set: item %d of %d", idx[i], ds->count);
    return ds->read(ds, idx, n, x, ds->labels ? labels : NULL);
}

SCNDEF scn_status scn_dataset_stats(scn_dataset *ds, float *mean, float *std) {
    enum { CHUNK = 64 };
    size_t hw, j;
    double s[SCN_MAX_CHANNELS] = {0}, s2[SCN_MAX_CHANNELS] = {0};
    double count;
    float *x;
    int idx[CHUNK], i, n, b, c;
    scn_status st = SCN_OK;
    SCN_ASSERT(ds && mean && std);
    hw = (size_t)ds->H * ds->W;
    count = (double)hw * ds->count;
    if (ds->C < 1 || ds->C > SCN_MAX_CHANNELS)
        return scn__fail(SCN_ERR_ARG, "data set statistics: %d channels (at most %d, "
                         "SCN_MAX_CHANNELS)", ds->C, SCN_MAX_CHANNELS);
    if (ds->count < 1) return scn__fail(SCN_ERR_ARG, "data set statistics: no items");
    x = (float *)scn__calloc(hw * ds->C * CHUNK, sizeof(float), "data set statistics");
    if (!x) return SCN_ERR_NOMEM;
    for (i = 0; i < ds->count && !st; i += n) {
        n = ds->count - i < CHUNK ? ds->count - i : CHUNK;
        for (b = 0; b < n; b++) idx[b] = i + b;
        st = scn_dataset_read(ds, idx, n, x, NULL);
        for (b = 0; !st && b < n; b++)
            for (c = 0; c < ds->C; c++) {
                const float *p = x + ((size_t)b * ds->C + c) * hw;
                double a = 0.0, a2 = 0.0;
                for (j = 0; j < hw; j++) { a += p[j]; a2 += (double)p[j] * p[j]; }
                s[c] += a;
                s2[c] += a2;
            }
    }
    SCN_FREE(x);
    if (st) return st;
    for (c = 0; c < ds->C; c++) {
        double m = s[c] / count, v = s2[c] / count - m * m;
        mean[c] = (float)m;
        std[c] = v > 1e-16 ? (float)sqrt(v) : 1.0f;     /* a constant channel: keep it */
    }
    return SCN_OK;
}

SCNDEF void scn_normalize(float *x, int n, int C, int HW, const float *mean,
                          const float *std) {
    int b, c, j;
    SCN_ASSERT((x || n == 0) && mean && std);
    for (b = 0; b < n; b++)
        for (c = 0; c < C; c++) {
            float m = mean[c], inv = 1.0f / std[c];
            float *p = x + ((size_t)b * C + c) * HW;
            for (j = 0; j < HW; j++) p[j] = (p[j] - m) * inv;
        }
}

SCNDEF scn_status scn_dataset_pixel_mean(scn_dataset *ds, float *mean) {
    enum { CHUNK = 64 };
    size_t item, j;
    double *sum;
    float *x;
    int idx[CHUNK], i, n, b;
    scn_status st = SCN_OK;
    SCN_ASSERT(ds && mean);
    if (ds->C < 1 || ds->H < 1 || ds->W < 1 || ds->count < 1)
        return scn__fail(SCN_ERR_ARG, "mean image: %d items of %dx%dx%d", ds->count, ds->C,
                         ds->H, ds->W);
    item = (size_t)ds->C * ds->H * ds->W;
    sum = (double *)scn__calloc(item, sizeof(double), "mean image");
    x = (float *)scn__calloc(item * CHUNK, sizeof(float), "mean image");
    if (!sum || !x) {
        SCN_FREE(sum);
        SCN_FREE(x);
        return SCN_ERR_NOMEM;
    }
    for (i = 0; i < ds->count && !st; i += n) {
        n = ds->count - i < CHUNK ? ds->count - i : CHUNK;
        for (b = 0; b < n; b++) idx[b] = i + b;
        st = scn_dataset_read(ds, idx, n, x, NULL);
        for (b = 0; !st && b < n; b++)
            for (j = 0; j < item; j++) sum[j] += x[(size_t)b * item + j];
    }
    if (!st)
        for (j = 0; j < item; j++) mean[j] = (float)(sum[j] / ds->count);
    SCN_FREE(sum);
    SCN_FREE(x);
    return st;
}

SCNDEF void scn_normalize_pixels(float *x, int n, int C, int HW, const float *pixel_mean,
                                 const float *std) {
    int b, c, j;
    SCN_ASSERT((x || n == 0) && pixel_mean && std);
    for (b = 0; b < n; b++)
        for (c = 0; c < C; c++) {
            const float *m = pixel_mean + (size_t)c * HW;
            float inv = 1.0f / std[c], *p = x + ((size_t)b * C + c) * HW;
            for (j = 0; j < HW; j++) p[j] = (p[j] - m[j]) * inv;
        }
}

/* One item's channel plane, shifted by (dy, dx) with zeros coming in and
 * mirrored left-right if flip: out(i, j) = in(i + dy, j' + dx), where j' is
 * j or W-1-j. tmp holds H x W. */
static void scn__crop_flip(float *p, int H, int W, int dy, int dx, int flip, float *tmp) {
    int i, j;
    memcpy(tmp, p, (size_t)H * W * sizeof *p);
    for (i = 0; i < H; i++)
        for (j = 0; j < W; j++) {
            int si = i + dy, sj = (flip ? W - 1 - j : j) + dx;
            p[(size_t)i * W + j] =
                si >= 0 && si < H && sj >= 0 && sj < W ? tmp[(size_t)si * W + sj] : 0.0f;
        }
}

/* scn_augment (shared 0) and scn_augment_shared (1) */
static scn_status scn__augment(float *x, int n, int C, int H, int W, int pad, int flip,
                               scn_rng *r, int shared) {
    float *tmp;
    int b, c, dy = 0, dx = 0, f = 0;
    SCN_ASSERT((x || n == 0) && (r || (pad == 0 && !flip)));
    if (pad < 0 || n < 0 || C < 1 || H < 1 || W < 1)
        return scn__fail(SCN_ERR_ARG, "augment: pad %d for %d items of %dx%dx%d", pad, n,
                         C, H, W);
    if ((pad == 0 && !flip) || n == 0) return SCN_OK;
    tmp = (float *)scn__calloc((size_t)H * W, sizeof(float), "augment");
    if (!tmp) return SCN_ERR_NOMEM;
    for (b = 0; b < n; b++) {
        /* per item (shared: once, for the first), in this order: row
         * offset, column offset, flip */
        if (!shared || b == 0) {
            dy = pad ? (int)scn_rng_below(r, 2u * pad + 1) - pad : 0;
            dx = pad ? (int)scn_rng_below(r, 2u * pad + 1) - pad : 0;
            f = flip ? (int)(scn_rng_u32(r) >> 31) : 0;
        }
        if (dy == 0 && dx == 0 && !f) continue;
        for (c = 0; c < C; c++)
            scn__crop_flip(x + ((size_t)b * C + c) * H * W, H, W, dy, dx, f, tmp);
    }
    SCN_FREE(tmp);
    return SCN_OK;
}

SCNDEF scn_status scn_augment(float *x, int n, int C, int H, int W, int pad, int flip,
                              scn_rng *r) {
    return scn__augment(x, n, C, H, W, pad, flip, r, 0);
}

SCNDEF scn_status scn_augment_shared(float *x, int n, int C, int H, int W, int pad, int flip,
                                     scn_rng *r) {
    return scn__augment(x, n, C, H, W, pad, flip, r, 1);
}

static int scn__int_cmp(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

SCNDEF int scn_dataset_per_class(const scn_dataset *ds, int k, scn_rng *r, int *idx) {
    int *order, *taken, i, n = 0, c;
    SCN_ASSERT(ds && r && idx);
    if (!ds->labels || ds->classes < 1) {
        scn__fail(SCN_ERR_ARG, "per-class subset: the %s split has no labels", ds->format);
        return -1;
    }
    if (k < 1) {
        scn__fail(SCN_ERR_ARG, "per-class subset: k = %d (at least 1)", k);
        return -1;
    }
    order = (int *)scn__calloc((size_t)ds->count, sizeof(int), "per-class subset");
    taken = (int *)scn__calloc((size_t)ds->classes, sizeof(int), "per-class subset");
    if (!order || !taken) {
        SCN_FREE(order);
        SCN_FREE(taken);
        return -1;
    }
    /* a random permutation, then the first k of each class met in it */
    for (i = 0; i < ds->count; i++) order[i] = i;
    scn_shuffle(order, ds->count, r);
    for (i = 0; i < ds->count; i++) {
        int j = order[i], y = ds->labels[j];
        if (taken[y] < k) { taken[y]++; order[n++] = j; }
    }
    for (c = 0; c < ds->classes && taken[c] == k; c++) {}
    if (c < ds->classes) {
        scn__fail(SCN_ERR_ARG, "per-class subset: class %d has %d items, fewer than k = %d",
                  c, taken[c], k);
        n = -1;
    } else {
        qsort(order, (size_t)n, sizeof(int), scn__int_cmp);
        memcpy(idx, order, (size_t)n * sizeof(int));
    }
    SCN_FREE(order);
    SCN_FREE(taken);
    return n;
}

/* A Poisson draw of mean lam >= 0: multiplication of uniforms below 10,
 * else Hoermann's transformed rejection with squeeze (PTRS, 1993) */
static double scn__poisson(scn_rng *r, double lam) {
    if (lam < 10.0) {
        double limit = exp(-lam), p = 1.0;
        int k = -1;
        do { p *= 1.0 - scn_rng_uniform(r); k++; } while (p > limit);
        return k;
    } else {
        double slam = sqrt(lam), loglam = log(lam), b = 0.931 + 2.53 * slam;
        double a = -0.059 + 0.02483 * b, inv_alpha = 1.1239 + 1.1328 / (b - 3.4);
        double vr = 0.9277 - 3.6224 / (b - 2.0);
        for (;;) {
            double u = scn_rng_uniform(r) - 0.5, v = 1.0 - scn_rng_uniform(r);
            double us = 0.5 - fabs(u), k = floor((2.0 * a / us + b) * u + lam + 0.43);
            if (us >= 0.07 && v <= vr) return k;
            if (k < 0.0 || (us < 0.013 && v > us)) continue;
            if (log(v) + log(inv_alpha) - log(a / (us * us) + b) <=
                -lam + k * loglam - lgamma(k + 1.0))
                return k;
        }
    }
}

SCNDEF scn_status scn_corrupt(float *x, size_t count, const char *noise, int severity,
                              scn_rng *r) {
    /* CIFAR-10-C's levels (make_cifar_c.py, Hendrycks and Dietterich 2019) */
    static const double levels[4][5] = { { 0.04, 0.06, 0.08, 0.09, 0.10 },   /* gaussian */
                                          { 500, 250, 100, 75, 50 },          /* shot */
                                          { 0.06, 0.10, 0.12, 0.16, 0.20 },   /* speckle */
                                          { 0.01, 0.02, 0.03, 0.05, 0.07 } }; /* impulse */
    static const char *names[4] = { "gaussian", "shot", "speckle", "impulse" };
    int kind;
    size_t i;
    double c;
    SCN_ASSERT(r && (x || count == 0));
    for (kind = 0; kind < 4 && !(noise && !strcmp(noise, names[kind])); kind++) {}
    if (kind == 4)
        return scn__fail(SCN_ERR_ARG, "corrupt: noise \"%s\" (gaussian, shot, speckle or "
                         "impulse)", noise ? noise : "(null)");
    if (severity < 1 || severity > 5)
        return scn__fail(SCN_ERR_ARG, "corrupt: severity %d (1 to 5)", severity);
    c = levels[kind][severity - 1];
    for (i = 0; i < count; i++) {
        double v = x[i];
        if (kind == 0) v += c * scn_rng_normal(r);
        else if (kind == 1) v = scn__poisson(r, v > 0.0 ? c * v : 0.0) / c;
        else if (kind == 2) v += v * c * scn_rng_normal(r);
        else if (scn_rng_uniform(r) < c) v = scn_rng_uniform(r) < 0.5f ? 0.0 : 1.0;
        x[i] = (float)(v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v);
    }
    return SCN_OK;
}

SCNDEF void scn_shuffle(int *idx, int n, scn_rng *r) {
    int i;
    SCN_ASSERT((idx || n <= 1) && r);
    for (i = n - 1; i > 0; i--) {
        int j = (int)scn_rng_below(r, (uint32_t)(i + 1)), t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}


/* ======================================================================
 * 12. Data sets: IDX files and gzip
 * ====================================================================== */

#include <errno.h>

/* stb_image's zlib decoder. SCN__STB is defined when it is available:
 * the including file's copy if stb_image.h was included before scn.h,
 * otherwise a private static one (PNG and GIF only, no stdio), on our
 * allocator, with its warnings silenced. */
#ifndef SCN_NO_STB_IMAGE
#if defined(STBI_INCLUDE_STB_IMAGE_H)
#define SCN__STB 1
#else
#if !defined(SCN_STB_IMAGE_PATH) && defined(__has_include)
#if !__has_include(<stb/stb_image.h>)
#define SCN__STB_MISSING
#endif
#endif
#ifndef SCN__STB_MISSING
#define SCN__STB 2
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
/* tcc has no <emmintrin.h>; stb_image's portable C decoder is the same */
#if defined(__TINYC__) && !defined(STBI_NO_SIMD)
#define STBI_NO_SIMD
#endif
/* PNG, JPEG and BMP for image folders; GIF stays in because without it
 * stb_image (2.27) declares static functions it never defines, which GCC
 * reports at the end of the file where no pragma reaches. The rename
 * matches a typo in 2.27's definition of this one (and is harmless where
 * the typo is fixed). Images are capped at SCN_IMAGE_MAX_SIDE. */
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#ifndef STBI_MAX_DIMENSIONS
#define STBI_MAX_DIMENSIONS SCN_IMAGE_MAX_SIDE
#endif
#define stbi_set_unpremultiply_on_load_thread stbi__unpremultiply_on_load_thread
#define STBI_NO_STDIO
#define STBI_NO_LINEAR
#if !defined(STBI_MALLOC) && !defined(STBI_REALLOC) && !defined(STBI_FREE) && \
    !defined(STBI_REALLOC_SIZED)
#define STBI_MALLOC(sz)     SCN_MALLOC(sz)
#define STBI_REALLOC(p, sz) SCN_REALLOC(p, sz)
#define STBI_FREE(p)        SCN_FREE(p)
#endif
#ifndef STBI_ASSERT
#define STBI_ASSERT(x) SCN_ASSERT(x)
#endif
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#ifdef __clang__
#pragma clang diagnostic ignored "-Wunknown-warning-option"
#else
#pragma GCC diagnostic ignored "-Wpragmas"
#endif
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-variable"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wtype-limits"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wconversion"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#elif defined(_MSC_VER)
#pragma warning(push, 0)
#endif
#ifdef SCN_STB_IMAGE_PATH
#include SCN_STB_IMAGE_PATH
#else
#include <stb/stb_image.h>
#endif
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#elif defined(_MSC_VER)
#pragma warning(pop)
#endif
/* a later #include of stb_image.h in this file then adds nothing */
#undef STB_IMAGE_IMPLEMENTATION
#endif /* !SCN__STB_MISSING */
#endif /* STBI_INCLUDE_STB_IMAGE_H */
#endif /* !SCN_NO_STB_IMAGE */

SCNDEF void scn_mem_free(void *p) { SCN_FREE(p); }

/* the largest buffer this section allocates: SCN_GUNZIP_MAX, but the
 * decoder counts in int */
static size_t scn__gz_limit(void) {
    return SCN_GUNZIP_MAX < (size_t)INT_MAX ? (size_t)SCN_GUNZIP_MAX : (size_t)INT_MAX;
}

#ifdef SCN__STB

static uint32_t scn__gz_le32(const unsigned char *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* stb_image leaves its failure reason as it was on one path (the reserved
 * block type 3); this failing call first sets a neutral one, "zlib
 * corrupt" (a stored block whose LEN and NLEN disagree). */
static void scn__stb_reason_reset(void) {
    static const char bad[5] = {0, 0, 0, 0, 0};
    char out[1];
    (void)stbi_zlib_decode_noheader_buffer(out, 1, bad, 5);
}

/* Inflates the deflate data at b[0..len) into out[0..cap): the number of
 * bytes produced, or -1 (then stbi_failure_reason() says why). *used
 * receives how many input bytes the deflate data took, or (size_t)-1 when
 * that cannot be known. The input goes on past the deflate data (the gzip
 * trailer): stb_image 2.27 wants look-ahead there, as PNG's Adler-32 gives
 * it, and fails on data that ends flush with its input. */
static int scn__inflate(const unsigned char *b, size_t len, unsigned char *out, int cap,
                        size_t *used) {
#if SCN__STB == 2
    /* our own copy: its decoder state tells where the data ended (the bit
     * buffer may hold look-ahead bytes not yet consumed) */
    stbi__zbuf a;
    memset(&a, 0, sizeof a);
    a.zbuffer = (stbi_uc *)b;
    a.zbuffer_end = (stbi_uc *)(b + len);
    if (!stbi__do_zlib(&a, (char *)out, cap, 0, 0)) return -1;
    *used = (size_t)(a.zbuffer - (stbi_uc *)b) - (size_t)(a.num_bits / 8);
    return (int)(a.zout - a.zout_start);
#else
    /* the including file's copy: only its public interface */
    *used = (size_t)-1;
    return stbi_zlib_decode_noheader_buffer((char *)out, cap, (const char *)b, (int)len);
#endif
}

/* RFC 1952 member: 1f 8b, CM = 8, FLG, MTIME (4), XFL, OS, then as FLG
 * says: FEXTRA (XLEN + XLEN bytes), FNAME and FCOMMENT (zero-terminated),
 * FHCRC (low 16 bits of the CRC-32 of the header so far); raw deflate
 * data; CRC-32 and ISIZE (size mod 2^32), little-endian. The trailer is
 * taken to be the last 8 bytes, and the deflate data must end right
 * before it: a second member or trailing bytes are refused. */
static scn_status scn__gunzip_stb(const unsigned char *b, size_t len, const char *name,
                                  unsigned char **out, size_t *outlen) {
    size_t pos = 10, end, dlen, used = 0, limit = scn__gz_limit();
    uint32_t want_crc, isize, crc;
    unsigned char flg, *buf;
    const char *field = NULL, *why;
    int got;
    if (len < 18)
        return scn__fail(SCN_ERR_FORMAT, "%s: truncated gzip data (%zu bytes; the header "
                         "and trailer alone take 18)", name, len);
    if (b[2] != 8)
        return scn__fail(SCN_ERR_FORMAT, "%s: gzip compression method %d is not deflate (8)",
                         name, b[2]);
    flg = b[3];
    if (flg & 0xe0)
        return scn__fail(SCN_ERR_FORMAT, "%s: reserved gzip header flags are set (FLG 0x%02x)",
                         name, flg);
    end = len - 8;
    if (flg & 4) {                                          /* FEXTRA */
        size_t xlen;
        if (end - pos < 2) field = "FEXTRA length";
        else {
            xlen = (size_t)b[pos] | (size_t)b[pos + 1] << 8;
            pos += 2;
            if (end - pos < xlen) field = "FEXTRA field";
            else pos += xlen;
        }
    }
    if (!field && (flg & 8)) {                              /* FNAME */
        const unsigned char *z = (const unsigned char *)memchr(b + pos, 0, end - pos);
        if (!z) field = "file name (FNAME)";
        else pos = (size_t)(z - b) + 1;
    }
    if (!field && (flg & 16)) {                             /* FCOMMENT */
        const unsigned char *z = (const unsigned char *)memchr(b + pos, 0, end - pos);
        if (!z) field = "comment (FCOMMENT)";
        else pos = (size_t)(z - b) + 1;
    }
    if (!field && (flg & 2)) {                              /* FHCRC */
        if (end - pos < 2) field = "header CRC (FHCRC)";
        else {
            unsigned want = (unsigned)b[pos] | (unsigned)b[pos + 1] << 8;
            unsigned have = (unsigned)(scn_crc32(0, b, pos) & 0xffff);
            if (want != have)
                return scn__fail(SCN_ERR_FORMAT, "%s: gzip header CRC mismatch (stored "
                                 "0x%04x, computed 0x%04x)", name, want, have);
            pos += 2;
        }
    }
    if (field)
        return scn__fail(SCN_ERR_FORMAT, "%s: gzip header truncated in its %s", name, field);
    dlen = end - pos;
    if (len - pos > (size_t)INT_MAX)
        return scn__fail(SCN_ERR_FORMAT, "%s: %zu bytes of deflate data; the decoder "
                         "(stb_image) takes at most INT_MAX = %d", name, dlen, INT_MAX);
    want_crc = scn__gz_le32(b + end);
    isize = scn__gz_le32(b + end + 4);
    if ((size_t)isize > limit)
        return scn__fail(SCN_ERR_FORMAT, "%s: the gzip trailer says the data inflates to %lu "
                         "bytes, over the %zu-byte limit (SCN_GUNZIP_MAX)", name,
                         (unsigned long)isize, limit);
    /* deflate's best ratio is 1032:1 (a 258-byte match in 2 bits) */
    if ((uint64_t)isize > (uint64_t)dlen * 1032u)
        return scn__fail(SCN_ERR_FORMAT, "%s: the gzip trailer says the data inflates to %lu "
                         "bytes, more than %zu bytes of deflate data can hold (a truncated "
                         "or corrupt file)", name, (unsigned long)isize, dlen);
    buf = (unsigned char *)SCN_MALLOC(isize ? (size_t)isize : 1);
    if (!buf)
        return scn__fail(SCN_ERR_NOMEM, "%s: no memory to inflate %lu bytes", name,
                         (unsigned long)isize);
    scn__stb_reason_reset();
    got = scn__inflate(b + pos, len - pos, buf, (int)isize, &used);
    if (got < 0) {
        why = stbi_failure_reason();
        SCN_FREE(buf);
        if (why && strcmp(why, "output buffer limit") == 0)
            return scn__fail(SCN_ERR_FORMAT, "%s: the deflate data inflates to more than "
                             "the %lu bytes the gzip trailer states (a corrupt file, or one "
                             "over 4 GiB: the trailer keeps the size modulo 2^32)", name,
                             (unsigned long)isize);
        return scn__fail(SCN_ERR_FORMAT, "%s: corrupt deflate data (stb_image: %s)", name,
                         why ? why : "no reason given");
    }
    if ((uint32_t)got != isize) {
        SCN_FREE(buf);
        return scn__fail(SCN_ERR_FORMAT, "%s: the deflate data inflates to %d bytes but the "
                         "gzip trailer says %lu (a truncated or corrupt file)", name, got,
                         (unsigned long)isize);
    }
    if (used != (size_t)-1 && used != dlen) {
        SCN_FREE(buf);
        if (used > dlen)
            return scn__fail(SCN_ERR_FORMAT, "%s: the deflate data runs into the gzip "
                             "trailer (a truncated or corrupt file)", name);
        return scn__fail(SCN_ERR_FORMAT, "%s: %zu bytes between the end of the deflate data "
                         "and the gzip trailer (several gzip members or trailing bytes, "
                         "which are not supported)", name, dlen - used);
    }
    crc = scn_crc32(0, buf, (size_t)got);
    if (crc != want_crc) {
        SCN_FREE(buf);
        return scn__fail(SCN_ERR_FORMAT, "%s: CRC-32 mismatch: the inflated data gives "
                         "0x%08lx, the gzip trailer says 0x%08lx (a corrupt or truncated "
                         "file, or several gzip members, which are not supported)", name,
                         (unsigned long)crc, (unsigned long)want_crc);
    }
    *out = buf;
    *outlen = (size_t)got;
    return SCN_OK;
}
#endif /* SCN__STB */

SCNDEF scn_status scn_gunzip(const void *in, size_t len, const char *name,
                             unsigned char **out, size_t *outlen) {
    const unsigned char *b = (const unsigned char *)in;
    if (!name) name = "gzip data";
    if (!out || !outlen || (!in && len))
        return scn__fail(SCN_ERR_ARG, "%s: scn_gunzip: NULL argument", name);
    *out = NULL;
    *outlen = 0;
    if (len < 2 || b[0] != 0x1f || b[1] != 0x8b)
        return scn__fail(SCN_ERR_FORMAT, "%s: not gzip data (no 1f 8b magic)", name);
#if defined(SCN__STB)
    return scn__gunzip_stb(b, len, name, out, outlen);
#elif defined(SCN__STB_MISSING)
    return scn__fail(SCN_ERR_FORMAT, "%s: gzip support needs stb_image, and "
                     "<stb/stb_image.h> was not found when scn.h was compiled "
                     "(install libstb-dev or define SCN_STB_IMAGE_PATH)", name);
#else
    return scn__fail(SCN_ERR_FORMAT, "%s: gzip support needs stb_image (built with "
                     "SCN_NO_STB_IMAGE)", name);
#endif
}

static uint32_t scn__idx_be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static const char *scn__idx_type_name(int t) {
    switch (t) {
    case 0x08: return "unsigned byte";
    case 0x09: return "signed byte";
    case 0x0B: return "int16";
    case 0x0C: return "int32";
    case 0x0D: return "float32";
    case 0x0E: return "float64";
    }
    return "unknown";
}

/* Checks a raw IDX image b[0..len) holding ndim (3: images, 1: labels)
 * dimensions; dims receives them and *size the data bytes, which follow
 * the 4 + 4 ndim header bytes. gz: the bytes were inflated (for messages). */
static scn_status scn__idx_check(const unsigned char *b, size_t len, const char *name,
                                 int gz, int ndim, int *dims, size_t *size) {
    const char *what = ndim == 3 ? "images" : "labels";
    const char *how = gz ? " (inflated)" : "";
    size_t hdr = 4 + 4 * (size_t)ndim, need = 1, have;
    uint32_t d[3] = {0, 0, 0};
    double dneed = 1.0;
    char says[96];
    int i, over = 0;
    if (len < 4)
        return scn__fail(SCN_ERR_FORMAT, "%s: too short for an IDX file (%zu bytes%s)", name,
                         len, how);
    if (b[0] != 0 || b[1] != 0)
        return scn__fail(SCN_ERR_FORMAT, "%s: not an IDX file (it starts %02x %02x %02x "
                         "%02x; IDX %s start 00 00 08 %02x)", name, b[0], b[1], b[2], b[3],
                         what, ndim);
    if (b[2] != 0x08)
        return scn__fail(SCN_ERR_FORMAT, "%s: IDX data type 0x%02x (%s) is not supported; "
                         "MNIST-style files hold unsigned bytes (0x08)", name, b[2],
                         scn__idx_type_name(b[2]));
    if (b[3] != ndim) {
        if (b[3] == 1 || b[3] == 3)
            return scn__fail(SCN_ERR_FORMAT, "%s: an IDX %s file (%d dimension%s) where %s "
                             "(%d) were expected", name, b[3] == 1 ? "labels" : "images",
                             b[3], b[3] == 1 ? "" : "s", what, ndim);
        return scn__fail(SCN_ERR_FORMAT, "%s: the IDX header has %d dimensions; %s have %d",
                         name, b[3], what, ndim);
    }
    if (len < hdr)
        return scn__fail(SCN_ERR_FORMAT, "%s: truncated in the IDX header (%zu of %zu "
                         "bytes%s)", name, len, hdr, how);
    for (i = 0; i < ndim; i++) {
        d[i] = scn__idx_be32(b + 4 + 4 * i);
        dneed *= (double)d[i];
        if (!scn__mul_ok(need, (size_t)d[i], &need)) over = 1;
    }
    if (ndim == 3)
        snprintf(says, sizeof says, "%lu images of %lux%lu", (unsigned long)d[0],
                 (unsigned long)d[1], (unsigned long)d[2]);
    else
        snprintf(says, sizeof says, "%lu labels", (unsigned long)d[0]);
    for (i = 0; i < ndim; i++)
        if (d[i] == 0)
            return scn__fail(SCN_ERR_FORMAT, "%s: header says %s: no data", name, says);
    have = len - hdr;
    if (over || need != have)
        return scn__fail(SCN_ERR_FORMAT, "%s: header says %s (%.0f bytes of %s) but the "
                         "file holds %zu bytes after its %zu-byte header%s", name, says,
                         dneed, ndim == 3 ? "pixels" : "labels", have, hdr, how);
    if (need > scn__gz_limit())
        return scn__fail(SCN_ERR_FORMAT, "%s: header says %s (%zu bytes), over the "
                         "%zu-byte limit (SCN_GUNZIP_MAX)", name, says, need,
                         scn__gz_limit());
    for (i = 0; i < ndim; i++) {
        if (d[i] > (uint32_t)INT_MAX)           /* only if SCN_GUNZIP_MAX >= 2^31 */
            return scn__fail(SCN_ERR_FORMAT, "%s: header says %s: too many", name, says);
        dims[i] = (int)d[i];
    }
    *size = need;
    return SCN_OK;
}

/* One IDX file, raw or gzip, in b[0..len). own: b itself, allocated with
 * SCN_MALLOC and taken over (kept as *data or freed), or NULL (copy). */
static scn_status scn__idx_parse(const unsigned char *b, size_t len, unsigned char *own,
                                 const char *name, int ndim, int *dims,
                                 unsigned char **data) {
    size_t size = 0, hdr = 4 + 4 * (size_t)ndim;
    int gz = len >= 2 && b[0] == 0x1f && b[1] == 0x8b;
    scn_status s;
    *data = NULL;
    if (gz) {
        unsigned char *raw;
        s = scn_gunzip(b, len, name, &raw, &len);
        SCN_FREE(own);
        if (s) return s;
        b = own = raw;
    }
    s = scn__idx_check(b, len, name, gz, ndim, dims, &size);
    if (s) {
        SCN_FREE(own);
        return s;
    }
    if (own) {
        memmove(own, own + hdr, size);
        *data = own;
        return SCN_OK;
    }
    *data = (unsigned char *)SCN_MALLOC(size);
    if (!*data)
        return scn__fail(SCN_ERR_NOMEM, "%s: no memory for %zu bytes", name, size);
    memcpy(*data, b + hdr, size);
    return SCN_OK;
}

SCNDEF scn_status scn_idx_parse(const void *bytes, size_t len, const char *name,
                                int ndim, int *dims, unsigned char **data) {
    if (!name) name = "IDX data";
    if (!data || !dims || (!bytes && len))
        return scn__fail(SCN_ERR_ARG, "%s: scn_idx_parse: NULL argument", name);
    *data = NULL;
    if (ndim != 1 && ndim != 3)
        return scn__fail(SCN_ERR_ARG, "%s: scn_idx_parse: ndim is %d (3: images, 1: labels)",
                         name, ndim);
    return scn__idx_parse((const unsigned char *)bytes, len, NULL, name, ndim, dims, data);
}

SCNDEF void scn_idx_free(scn_idx_set *s) {
    if (!s) return;
    SCN_FREE(s->images);
    SCN_FREE(s->labels);
    memset(s, 0, sizeof *s);
}

/* Pairs parsed images and labels into *out, taking both arrays over. */
static scn_status scn__idx_pair(unsigned char *images, const int *idims, const char *iname,
                                unsigned char *labels, int lcount, const char *lname,
                                scn_idx_set *out) {
    int i, max = 0, bad = -1, limit = SCN_IDX_MAX_CLASSES;
    if (idims[0] != lcount) {
        SCN_FREE(images);
        SCN_FREE(labels);
        return scn__fail(SCN_ERR_FORMAT, "%s holds %d images but %s holds %d labels",
                         iname, idims[0], lname, lcount);
    }
    for (i = 0; i < lcount; i++) {
        if (labels[i] > max) max = labels[i];
        if (bad < 0 && labels[i] >= limit) bad = i;
    }
    if (bad >= 0) {
        int v = labels[bad];
        SCN_FREE(images);
        SCN_FREE(labels);
        return scn__fail(SCN_ERR_FORMAT, "%s: label %d at index %d is out of range: labels "
                         "must be below %d (SCN_IDX_MAX_CLASSES); the largest in the file "
                         "is %d", lname, v, bad, SCN_IDX_MAX_CLASSES, max);
    }
    out->count = lcount;
    out->rows = idims[1];
    out->cols = idims[2];
    out->classes = max + 1;
    out->images = images;
    out->labels = labels;
    return SCN_OK;
}

SCNDEF scn_status scn_idx_set_parse(const void *images, size_t images_len,
                                    const char *images_name, const void *labels,
                                    size_t labels_len, const char *labels_name,
                                    scn_idx_set *out) {
    unsigned char *img = NULL, *lab = NULL;
    int idims[3], ldims[1];
    scn_status s;
    if (!images_name) images_name = "IDX images";
    if (!labels_name) labels_name = "IDX labels";
    if (!out) return scn__fail(SCN_ERR_ARG, "scn_idx_set_parse: NULL output");
    memset(out, 0, sizeof *out);
    s = scn_idx_parse(labels, labels_len, labels_name, 1, ldims, &lab);
    if (s) return s;
    s = scn_idx_parse(images, images_len, images_name, 3, idims, &img);
    if (s) {
        SCN_FREE(lab);
        return s;
    }
    return scn__idx_pair(img, idims, images_name, lab, ldims[0], labels_name, out);
}

#ifndef SCN_NO_STDIO

/* Reads dir/base, else dir/base.gz, and parses it (ndim as in
 * scn_idx_parse). *path (allocated) is the file that was used. */
static scn_status scn__idx_load_file(const char *dir, const char *base, int ndim,
                                     char **path, int *dims, unsigned char **data) {
    size_t dl = strlen(dir), bl = strlen(base), len = 0;
    size_t sep = dl > 0 && dir[dl - 1] != '/';
    char *p = (char *)scn__calloc(dl + sep + bl + 4, 1, "IDX file name");
    unsigned char *buf = NULL;
    int k, missing = 1;
    *path = NULL;
    *data = NULL;
    if (!p) return SCN_ERR_NOMEM;
    memcpy(p, dir, dl);
    if (sep) p[dl] = '/';
    memcpy(p + dl + sep, base, bl);
    for (k = 0; k < 2 && !buf && missing; k++) {
        if (k) memcpy(p + dl + sep + bl, ".gz", 4);
        buf = scn__read_file(p, scn__gz_limit(), &len, &missing);
    }
    if (!buf) {
        SCN_FREE(p);
        if (!missing) return SCN_ERR_IO;    /* the message is set */
        return scn__fail(SCN_ERR_IO, "%s: neither %s nor %s.gz is there (an IDX data set "
                         "directory holds train-images-idx3-ubyte, train-labels-idx1-ubyte, "
                         "t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each "
                         "optionally .gz)", dl ? dir : ".", base, base);
    }
    *path = p;
    return scn__idx_parse(buf, len, buf, p, ndim, dims, data);
}

/* Appends the last component of path to ds->files (see scn_dataset).
 * Never cloned for constant arguments: gcc 12 at -O2 with every function
 * static (SCN_STATIC) makes a constant-propagated copy whose dataset it
 * believes has no room, and reports each strcat out of bounds. */
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 8
__attribute__((noipa))
#endif
static void scn__ds_note(scn_dataset *ds, const char *path) {
    const char *base = strrchr(path, '/');
    size_t have = strlen(ds->files), cap = sizeof ds->files;
    base = base && base[1] ? base + 1 : path;
    if (have + 2 + strlen(base) + 4 > cap) {        /* keep room for "..." */
        if (have + 4 < cap && !strstr(ds->files, "...")) strcat(ds->files, ", ...");
        return;
    }
    if (have) strcat(ds->files, ", ");
    strcat(ds->files, base);
}

/* scn_idx_load, noting the files used in ds->files when ds is given. */
static scn_status scn__idx_load_noted(const char *dir, int train, scn_idx_set *out,
                                      scn_dataset *ds) {
    const char *set = train ? "train" : "t10k";
    char ibase[32], lbase[32];
    char *ipath = NULL, *lpath = NULL;
    unsigned char *images = NULL, *labels = NULL;
    int idims[3], ldims[1];
    scn_status s;
    if (!out) return scn__fail(SCN_ERR_ARG, "scn_idx_load: NULL output");
    memset(out, 0, sizeof *out);
    if (!dir) return scn__fail(SCN_ERR_ARG, "scn_idx_load: NULL directory");
    snprintf(ibase, sizeof ibase, "%s-images-idx3-ubyte", set);
    snprintf(lbase, sizeof lbase, "%s-labels-idx1-ubyte", set);
    /* labels first: they are small, and a missing one is found quickly */
    s = scn__idx_load_file(dir, lbase, 1, &lpath, ldims, &labels);
    if (!s) {
        s = scn__idx_load_file(dir, ibase, 3, &ipath, idims, &images);
        if (s) SCN_FREE(labels);
        else s = scn__idx_pair(images, idims, ipath, labels, ldims[0], lpath, out);
    }
    if (!s && ds) {
        scn__ds_note(ds, ipath);
        scn__ds_note(ds, lpath);
    }
    SCN_FREE(ipath);
    SCN_FREE(lpath);
    return s;
}

SCNDEF scn_status scn_idx_load(const char *dir, int train, scn_idx_set *out) {
    return scn__idx_load_noted(dir, train, out, NULL);
}
#endif /* SCN_NO_STDIO */
#ifndef SCN_NO_STDIO
/* The IDX reader behind the data-set interface: the whole split in memory
 * as bytes (60000 x 28 x 28 is 47 MB), scaled to [0, 1] on read. */
typedef struct scn__idx_dataset {
    scn_dataset ds;
    scn_idx_set set;
} scn__idx_dataset;

static scn_status scn__idx_read(scn_dataset *ds, const int *idx, int n, float *x,
                                unsigned char *labels) {
    const scn_idx_set *s = &((scn__idx_dataset *)ds)->set;
    size_t item = (size_t)s->rows * s->cols, j;
    int i;
    for (i = 0; i < n; i++) {
        const unsigned char *p = s->images + (size_t)idx[i] * item;
        for (j = 0; j < item; j++) x[(size_t)i * item + j] = p[j] * (1.0f / 255.0f);
        if (labels) labels[i] = s->labels[idx[i]];
    }
    return SCN_OK;
}

static void scn__idx_close(scn_dataset *ds) {
    scn_idx_free(&((scn__idx_dataset *)ds)->set);
    SCN_FREE(ds);
}

static scn_dataset *scn__idx_open(const char *dir, int train) {
    scn__idx_dataset *d = (scn__idx_dataset *)scn__calloc(1, sizeof *d, "data set");
    if (!d) return NULL;
    if (scn__idx_load_noted(dir, train, &d->set, &d->ds) != SCN_OK) {
        SCN_FREE(d);
        return NULL;
    }
    d->ds.count = d->set.count;
    d->ds.C = 1;
    d->ds.H = d->set.rows;
    d->ds.W = d->set.cols;
    d->ds.classes = d->set.classes;
    d->ds.labels = d->set.labels;
    strcpy(d->ds.format, "idx");
    d->ds.read = scn__idx_read;
    d->ds.close = scn__idx_close;
    return &d->ds;
}
#endif

/* ======================================================================
 * 13. Data sets: CIFAR, STL-10, MNIST variations (.amat), image folders
 * ====================================================================== */

#ifndef SCN_NO_STDIO
#ifndef _WIN32
#include <dirent.h>
#endif

/* dir/name, allocated; NULL (with the error) when out of memory. */
static char *scn__path_join(const char *dir, const char *name) {
    size_t dl = strlen(dir), nl = strlen(name);
    size_t sep = dl > 0 && dir[dl - 1] != '/';
    char *p = (char *)scn__calloc(dl + sep + nl + 1, 1, "file name");
    if (!p) return NULL;
    memcpy(p, dir, dl);
    if (sep) p[dl] = '/';
    memcpy(p + dl + sep, name, nl);
    return p;
}

/* 1 if path is a directory (want_dir) or a regular file (!want_dir). */
static int scn__path_is(const char *path, int want_dir) {
    struct stat sb;
    if (stat(path, &sb) != 0) return 0;
    return want_dir ? S_ISDIR(sb.st_mode) : S_ISREG(sb.st_mode);
}

/* 1 if dir/name exists (any kind of file), 0 if not, -1 (with the error)
 * when out of memory. */
static int scn__name_exists(const char *dir, const char *name) {
    char *p = scn__path_join(dir, name);
    struct stat sb;
    int yes;
    if (!p) return -1;
    yes = stat(p, &sb) == 0;
    SCN_FREE(p);
    return yes;
}

/* The published archives unpack into a folder (cifar-10-batches-bin, ...):
 * path itself if it holds probe, else path/sub if that does, else NULL
 * (*nomem = 1, with the error, when that is for want of memory).
 * Allocated. A probe that is there but not a regular file (a directory, a
 * FIFO) still counts: opening it then fails naming it, which says more
 * than "no data set here". */
static char *scn__data_dir(const char *path, const char *sub, const char *probe,
                           int *nomem) {
    char *d;
    int has = scn__name_exists(path, probe);
    *nomem = 1;
    if (has < 0) return NULL;
    if (has) {
        if ((d = scn__path_join(path, "")) != NULL) *nomem = 0;
        return d;
    }
    if (!(d = scn__path_join(path, sub))) return NULL;
    if ((has = scn__name_exists(d, probe)) > 0) { *nomem = 0; return d; }
    SCN_FREE(d);
    *nomem = has < 0;
    return NULL;
}

/* ---- fixed-size records (CIFAR, STL-10): read on demand, labels kept ---- */

#define SCN__REC_FILES 16

typedef struct scn__rec_dataset {
    scn_dataset ds;
    int nfiles;
    FILE *files[SCN__REC_FILES];
    char *paths[SCN__REC_FILES];
    int first[SCN__REC_FILES + 1];  /* the item each file starts at, then count */
    size_t rec, pix;                /* bytes per record; where its pixels start */
    int col_major;                  /* STL-10: each plane stored column-major */
    unsigned char *labels;          /* count */
    unsigned char *buf;             /* one item's pixels */
} scn__rec_dataset;

static void scn__rec_close(scn_dataset *ds) {
    scn__rec_dataset *d = (scn__rec_dataset *)ds;
    int f;
    for (f = 0; f < d->nfiles; f++) {
        if (d->files[f]) fclose(d->files[f]);
        SCN_FREE(d->paths[f]);
    }
    SCN_FREE(d->labels);
    SCN_FREE(d->buf);
    SCN_FREE(d);
}

static scn_status scn__rec_read(scn_dataset *ds, const int *idx, int n, float *x,
                                unsigned char *labels) {
    scn__rec_dataset *d = (scn__rec_dataset *)ds;
    size_t hw = (size_t)ds->H * ds->W, item = hw * ds->C, j;
    int i, f, c, h, w;
    for (i = 0; i < n; i++) {
        const unsigned char *p = d->buf;
        float *o = x + (size_t)i * item;
        long at;
        for (f = 0; idx[i] >= d->first[f + 1]; f++) {}
        at = (long)(idx[i] - d->first[f]) * (long)d->rec + (long)d->pix;
        if (fseek(d->files[f], at, SEEK_SET) != 0 || fread(d->buf, 1, item, d->files[f]) != item)
            return scn__fail(SCN_ERR_IO, "%s: cannot read item %d (changed since it was "
                             "opened?)", d->paths[f], idx[i] - d->first[f]);
        if (d->col_major)
            for (c = 0; c < ds->C; c++)
                for (h = 0; h < ds->H; h++)
                    for (w = 0; w < ds->W; w++)
                        o[c * hw + (size_t)h * ds->W + w] =
                            p[c * hw + (size_t)w * ds->H + h] * (1.0f / 255.0f);
        else
            for (j = 0; j < item; j++) o[j] = p[j] * (1.0f / 255.0f);
        if (labels) labels[i] = d->labels[idx[i]];
    }
    return SCN_OK;
}

/* A record data set with no files yet; NULL (with the error) on failure. */
static scn__rec_dataset *scn__rec_new(const char *format, int classes, int C, int H, int W,
                                      size_t rec, size_t pix, int col_major) {
    scn__rec_dataset *d = (scn__rec_dataset *)scn__calloc(1, sizeof *d, format);
    if (!d) return NULL;
    d->buf = (unsigned char *)scn__calloc((size_t)C * H * W, 1, format);
    if (!d->buf) { SCN_FREE(d); return NULL; }
    d->ds.C = C; d->ds.H = H; d->ds.W = W;
    d->ds.classes = classes;
    strcpy(d->ds.format, format);
    d->ds.read = scn__rec_read;
    d->ds.close = scn__rec_close;
    d->rec = rec; d->pix = pix; d->col_major = col_major;
    return d;
}

/* Opens path (taken over) as the next file of d: a whole number of records. */
static scn_status scn__rec_add(scn__rec_dataset *d, char *path, const char *what) {
    FILE *f;
    size_t items, size;
    if (!path) return SCN_ERR_NOMEM;
    if (d->nfiles == SCN__REC_FILES) {
        scn__fail(SCN_ERR_ARG, "%s: more than %d files in one split", path, SCN__REC_FILES);
        SCN_FREE(path);
        return SCN_ERR_ARG;
    }
    d->paths[d->nfiles] = path;
    scn__ds_note(&d->ds, path);
    f = d->files[d->nfiles] = scn__open_input(path, 0, &size, NULL);
    d->nfiles++;
    if (!f) return SCN_ERR_IO;
    /* items are found by fseek with a long offset */
    if (size > (size_t)LONG_MAX)
        return scn__fail(SCN_ERR_FORMAT, "%s: %zu bytes is over the %ld-byte limit", path,
                         size, LONG_MAX);
    items = size / d->rec;
    if (size == 0)
        return scn__fail(SCN_ERR_FORMAT, "%s: empty (a %s file holds %zu-byte records)", path,
                         what, d->rec);
    if (size % d->rec)
        return scn__fail(SCN_ERR_FORMAT, "%s: %zu bytes is not a whole number of %zu-byte "
                         "%s records (truncated or not %s? item %zu is cut short)", path,
                         size, d->rec, what, what, items);
    if (items > (size_t)INT_MAX - (size_t)d->ds.count)
        return scn__fail(SCN_ERR_FORMAT, "%s: too many items (%zu)", path, items);
    d->first[d->nfiles - 1] = d->ds.count;
    d->ds.count += (int)items;
    d->first[d->nfiles] = d->ds.count;
    return SCN_OK;
}

/* Labels inside the records (CIFAR): the byte at offset `at` of each. */
static scn_status scn__rec_labels_inline(scn__rec_dataset *d, size_t at, const char *what) {
    enum { CHUNK = 256 };
    unsigned char *chunk;
    int f, i, n;
    d->labels = (unsigned char *)scn__calloc((size_t)d->ds.count, 1, "labels");
    chunk = (unsigned char *)scn__calloc(CHUNK, d->rec, "labels");
    if (!d->labels || !chunk) { SCN_FREE(chunk); return SCN_ERR_NOMEM; }
    for (f = 0; f < d->nfiles; f++) {
        int items = d->first[f + 1] - d->first[f];
        for (i = 0; i < items; i += n) {
            int k;
            n = items - i < CHUNK ? items - i : CHUNK;
            if (fread(chunk, d->rec, (size_t)n, d->files[f]) != (size_t)n) {
                SCN_FREE(chunk);
                return scn__fail(SCN_ERR_IO, "%s: read error at item %d", d->paths[f], i);
            }
            for (k = 0; k < n; k++) {
                unsigned char y = chunk[(size_t)k * d->rec + at];
                if (y >= d->ds.classes) {
                    SCN_FREE(chunk);
                    return scn__fail(SCN_ERR_FORMAT, "%s: item %d has %s label %d (0 to %d "
                                     "allowed; corrupt, or not this format?)", d->paths[f],
                                     i + k, what, y, d->ds.classes - 1);
                }
                d->labels[d->first[f] + i + k] = y;
            }
        }
    }
    SCN_FREE(chunk);
    d->ds.labels = d->labels;
    return SCN_OK;
}

/* Labels in their own file (STL-10 *_y.bin): one byte per item, 1 to
 * classes, stored here as 0 to classes - 1. path is taken over. */
static scn_status scn__rec_labels_file(scn__rec_dataset *d, char *path) {
    size_t n = (size_t)d->ds.count, i, size;
    FILE *f;
    scn_status s = SCN_OK;
    if (!path) return SCN_ERR_NOMEM;
    scn__ds_note(&d->ds, path);
    if (!(f = scn__open_input(path, 0, &size, NULL)))
        s = SCN_ERR_IO;
    else if (size != n)
        s = scn__fail(SCN_ERR_FORMAT, "%s: %zu labels for the %d images of %s", path, size,
                      d->ds.count, d->paths[0]);
    else if (!(d->labels = (unsigned char *)scn__calloc(n, 1, path)))
        s = SCN_ERR_NOMEM;
    else if (fread(d->labels, 1, n, f) != n)
        s = scn__fail(SCN_ERR_IO, "%s: read error", path);
    for (i = 0; !s && i < n; i++) {
        if (d->labels[i] < 1 || d->labels[i] > d->ds.classes)
            s = scn__fail(SCN_ERR_FORMAT, "%s: label %d at item %zu (STL-10 labels are 1 to "
                          "%d)", path, d->labels[i], i, d->ds.classes);
        else d->labels[i]--;
    }
    if (f) fclose(f);
    SCN_FREE(path);
    if (!s) d->ds.labels = d->labels;
    return s;
}

/* CIFAR-10, or CIFAR-100 with its fine or (coarse) its coarse labels. */
static scn_dataset *scn__cifar_open(const char *path, int train, int cifar100, int coarse) {
    const char *probe = cifar100 ? (train ? "train.bin" : "test.bin")
                                 : (train ? "data_batch_1.bin" : "test_batch.bin");
    const char *what = cifar100 ? "CIFAR-100" : "CIFAR-10";
    int nomem;
    char *dir = scn__data_dir(path, cifar100 ? "cifar-100-binary" : "cifar-10-batches-bin",
                              probe, &nomem);
    scn__rec_dataset *d = NULL;
    scn_status s = SCN_OK;
    int k;
    if (!dir && nomem) return NULL;
    if (!dir) {
        scn__fail(SCN_ERR_IO, "%s: no %s here or in %s/ (a %s data set holds %s)", path,
                  probe, cifar100 ? "cifar-100-binary" : "cifar-10-batches-bin", what,
                  cifar100 ? "train.bin and test.bin" : "data_batch_1.bin ... "
                  "data_batch_5.bin and test_batch.bin");
        return NULL;
    }
    d = scn__rec_new(cifar100 ? (coarse ? "cifar100-coarse" : "cifar100") : "cifar10",
                     cifar100 ? (coarse ? 20 : 100) : 10, 3, 32, 32, 3072 + 1 + cifar100,
                     1 + (size_t)cifar100, 0);
    if (!d) { SCN_FREE(dir); return NULL; }
    if (cifar100 || !train) s = scn__rec_add(d, scn__path_join(dir, probe), what);
    /* batches 1, 2, ... up to the first missing (ds->files says which were
     * read); any name at all that is there is opened, so a directory or a
     * FIFO in the sequence is refused by name (scn__rec_add) instead of
     * ending it, and one past the most files a split keeps is an error */
    for (k = 1; !cifar100 && train && !s; k++) {
        char name[32];
        snprintf(name, sizeof name, "data_batch_%d.bin", k);
        if (k > 1) {
            int there = scn__name_exists(dir, name);
            if (there < 0) s = SCN_ERR_NOMEM;
            if (there <= 0) break;
        }
        if (k > SCN__REC_FILES) {
            s = scn__fail(SCN_ERR_FORMAT, "%s: %s is there, but a split is read from at most "
                          "%d batches", dir, name, SCN__REC_FILES);
            break;
        }
        s = scn__rec_add(d, scn__path_join(dir, name), what);
    }
    if (!s) s = scn__rec_labels_inline(d, cifar100 && !coarse ? 1 : 0,
                                       cifar100 ? (coarse ? "a coarse" : "a fine") : "a");
    SCN_FREE(dir);
    if (s) { scn__rec_close(&d->ds); return NULL; }
    return &d->ds;
}

/* STL-10: split 0 train, 1 test, 2 unlabeled (no labels file). */
static scn_dataset *scn__stl_open(const char *path, int split) {
    static const char *xs[3] = {"train_X.bin", "test_X.bin", "unlabeled_X.bin"};
    static const char *ys[2] = {"train_y.bin", "test_y.bin"};
    int nomem;
    char *dir = scn__data_dir(path, "stl10_binary", xs[split], &nomem);
    scn__rec_dataset *d;
    scn_status s;
    if (!dir && nomem) return NULL;
    if (!dir) {
        scn__fail(SCN_ERR_IO, "%s: no %s here or in stl10_binary/ (an STL-10 data set holds "
                  "train_X.bin, train_y.bin, test_X.bin, test_y.bin, unlabeled_X.bin)", path,
                  xs[split]);
        return NULL;
    }
    d = scn__rec_new("stl10", split == 2 ? 0 : 10, 3, 96, 96, 27648, 0, 1);
    if (!d) { SCN_FREE(dir); return NULL; }
    s = scn__rec_add(d, scn__path_join(dir, xs[split]), "STL-10");
    if (!s && (double)d->ds.count * 27648.0 > (double)LONG_MAX)
        s = scn__fail(SCN_ERR_IO, "%s: too large to seek in on this platform", d->paths[0]);
    if (!s && split < 2) s = scn__rec_labels_file(d, scn__path_join(dir, ys[split]));
    SCN_FREE(dir);
    if (s) { scn__rec_close(&d->ds); return NULL; }
    return &d->ds;
}

/* ---- directory listings (image folders, .amat files) ---- */

/* Whether name is longer than ext and ends in it, ignoring case. */
static int scn__ends_with(const char *name, const char *ext) {
    size_t len = strlen(name), el = strlen(ext), i;
    if (len <= el) return 0;
    for (i = 0; i < el && tolower((unsigned char)name[len - el + i]) == ext[i]; i++) {}
    return i == el;
}

static int scn__str_cmp(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void scn__names_free(char **names, int n) {
    int i;
    for (i = 0; names && i < n; i++) SCN_FREE(names[i]);
    SCN_FREE(names);
}

/* The sorted names in dir of its subdirectories (dirs) or regular files
 * (!dirs), hidden ones (".x") left out. -1 (with the error) on failure. */
static int scn__list_dir(const char *dir, int dirs, char ***out) {
#ifdef _WIN32
    (void)dirs;
    *out = NULL;
    scn__fail(SCN_ERR_ARG, "%s: listing directories needs POSIX <dirent.h>", dir);
    return -1;
#else
    DIR *dp = opendir(dir);
    struct dirent *e;
    char **names = NULL, **grown;
    int n = 0, cap = 0;
    *out = NULL;
    if (!dp) {
        scn__fail(SCN_ERR_IO, "%s: cannot open the directory (%s)", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(dp)) != NULL) {
        char *full;
        int keep;
        if (e->d_name[0] == '.') continue;
        if (!(full = scn__path_join(dir, e->d_name))) goto fail;
        keep = scn__path_is(full, dirs);
        if (!dirs && !keep && !scn__path_is(full, 1) &&
            scn__name_exists(dir, e->d_name) == 1) {
            /* a FIFO or device among the images: refused, not skipped */
            scn__fail(SCN_ERR_FORMAT, "%s: not a regular file (image folders hold regular "
                      "files)", full);
            SCN_FREE(full);
            goto fail;
        }
        SCN_FREE(full);
        if (!keep) continue;
        if (n == cap) {
            if (cap >= INT_MAX / 2 / (int)sizeof *names) {
                scn__fail(SCN_ERR_ARG, "%s: too many entries", dir);
                goto fail;
            }
            cap = cap ? 2 * cap : 64;
            grown = (char **)SCN_REALLOC(names, (size_t)cap * sizeof *names);
            if (!grown) { scn__fail(SCN_ERR_NOMEM, "%s: listing", dir); goto fail; }
            names = grown;
        }
        if (!(names[n] = scn__path_join("", e->d_name))) goto fail;
        n++;
    }
    closedir(dp);
    if (n) qsort(names, (size_t)n, sizeof *names, scn__str_cmp);
    *out = names;
    return n;
fail:
    closedir(dp);
    scn__names_free(names, n);
    return -1;
#endif
}

/* ---- MNIST variations: .amat text, held in memory ---- */

typedef struct scn__amat_dataset {
    scn_dataset ds;
    float *x;                   /* count x H x W */
    unsigned char *labels;
} scn__amat_dataset;

static void scn__amat_close(scn_dataset *ds) {
    scn__amat_dataset *d = (scn__amat_dataset *)ds;
    SCN_FREE(d->x);
    SCN_FREE(d->labels);
    SCN_FREE(d);
}

static scn_status scn__amat_read(scn_dataset *ds, const int *idx, int n, float *x,
                                 unsigned char *labels) {
    scn__amat_dataset *d = (scn__amat_dataset *)ds;
    size_t item = (size_t)ds->H * ds->W;
    int i;
    for (i = 0; i < n; i++) {
        memcpy(x + (size_t)i * item, d->x + (size_t)idx[i] * item, item * sizeof(float));
        if (labels) labels[i] = d->labels[idx[i]];
    }
    return SCN_OK;
}

/* The parser's state: the current line's values, what has been kept. */
typedef struct scn__amat_parse {
    const char *path;
    long line;
    float *vals;                /* SCN_AMAT_MAX_VALUES */
    int nv, dim;                /* values on this line; on every line */
    size_t cap;                 /* items room in d->x and d->labels */
} scn__amat_parse;

/* Ends a value token tok[0..len). */
static scn_status scn__amat_value(scn__amat_parse *ps, char *tok, int len) {
    char *end;
    double v;
    tok[len] = '\0';
    v = strtod(tok, &end);
    if (end != tok + len || !(fabs(v) <= FLT_MAX))
        return scn__fail(SCN_ERR_FORMAT, "%s: line %ld: '%s' is not a finite float",
                         ps->path, ps->line, tok);
    if (ps->nv == SCN_AMAT_MAX_VALUES)
        return scn__fail(SCN_ERR_FORMAT, "%s: line %ld has more than %d values "
                         "(SCN_AMAT_MAX_VALUES)", ps->path, ps->line, SCN_AMAT_MAX_VALUES);
    ps->vals[ps->nv++] = (float)v;
    return SCN_OK;
}

/* Ends a line: its values are one item, pixels then label. */
static scn_status scn__amat_line(scn__amat_parse *ps, scn__amat_dataset *d) {
    int n = ps->nv, side;
    float y;
    if (n == 0) return SCN_OK;                      /* a blank line */
    if (!ps->dim) {
        for (side = 1; side * side < n - 1; side++) {}
        if (n < 2 || side * side != n - 1)
            return scn__fail(SCN_ERR_FORMAT, "%s: line %ld has %d values: not a square "
                             "image's pixels plus a label (28x28 MNIST: 785)", ps->path,
                             ps->line, n);
        ps->dim = n;
        d->ds.H = d->ds.W = side;
    }
    if (n != ps->dim)
        return scn__fail(SCN_ERR_FORMAT, "%s: line %ld has %d values but the first has %d "
                         "(truncated?)", ps->path, ps->line, n, ps->dim);
    y = ps->vals[n - 1];
    if (!(y >= 0.0f && y <= 255.0f) || y != (float)(int)y)
        return scn__fail(SCN_ERR_FORMAT, "%s: line %ld: label %g is not a whole number from "
                         "0 to 255", ps->path, ps->line, (double)y);
    if ((size_t)d->ds.count == ps->cap) {
        size_t cap = ps->cap ? 2 * ps->cap : 16, bytes;
        float *x;
        unsigned char *l;
        if (cap > (size_t)INT_MAX || !scn__mul_ok(cap, (size_t)n * sizeof(float), &bytes))
            return scn__fail(SCN_ERR_FORMAT, "%s: too many items", ps->path);
        if (!(x = (float *)SCN_REALLOC(d->x, bytes)))
            return scn__fail(SCN_ERR_NOMEM, "%s: no memory for %zu items", ps->path, cap);
        d->x = x;
        if (!(l = (unsigned char *)SCN_REALLOC(d->labels, cap)))
            return scn__fail(SCN_ERR_NOMEM, "%s: no memory for %zu items", ps->path, cap);
        d->labels = l;
        ps->cap = cap;
    }
    memcpy(d->x + (size_t)d->ds.count * (n - 1), ps->vals, (size_t)(n - 1) * sizeof(float));
    d->labels[d->ds.count++] = (unsigned char)y;
    if ((int)y >= d->ds.classes) d->ds.classes = (int)y + 1;
    ps->nv = 0;
    return SCN_OK;
}

/* Reads path in chunks, value by value, into d. */
static scn_status scn__amat_load(const char *path, scn__amat_dataset *d) {
    enum { CHUNK = 1 << 16, TOK = 63 };
    scn__amat_parse ps;
    char *chunk, tok[TOK + 1];
    int tl = 0;
    size_t got, i;
    scn_status s = SCN_OK;
    FILE *f = scn__open_input(path, 0, &got, NULL);
    if (!f) return SCN_ERR_IO;
    memset(&ps, 0, sizeof ps);
    ps.path = path;
    ps.line = 1;
    ps.vals = (float *)scn__calloc(SCN_AMAT_MAX_VALUES, sizeof(float), path);
    chunk = (char *)scn__calloc(CHUNK, 1, path);
    if (!ps.vals || !chunk) s = SCN_ERR_NOMEM;
    while (!s && (got = fread(chunk, 1, CHUNK, f)) > 0) {
        for (i = 0; i < got && !s; i++) {
            char ch = chunk[i];
            if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') {
                if (tl) s = scn__amat_value(&ps, tok, tl);
                tl = 0;
                if (!s && ch == '\n') {
                    s = scn__amat_line(&ps, d);
                    ps.line++;
                }
            } else if (tl == TOK) {
                s = scn__fail(SCN_ERR_FORMAT, "%s: line %ld: a value longer than %d "
                              "characters (not an .amat file?)", path, ps.line, TOK);
            } else {
                tok[tl++] = ch;
            }
        }
    }
    if (!s && ferror(f)) s = scn__fail(SCN_ERR_IO, "%s: read error (a directory?)", path);
    if (!s && tl) s = scn__amat_value(&ps, tok, tl);
    if (!s) s = scn__amat_line(&ps, d);             /* a last line without '\n' */
    if (!s && d->ds.count == 0)
        s = scn__fail(SCN_ERR_FORMAT, "%s: no items (empty?)", path);
    fclose(f);
    SCN_FREE(ps.vals);
    SCN_FREE(chunk);
    return s;
}

/* The one file in dir whose name ends in .amat and holds `word`. */
static char *scn__amat_find(const char *dir, const char *word) {
    char **names, *found = NULL;
    int n = scn__list_dir(dir, 0, &names), i, hits = 0;
    for (i = 0; i < n; i++) {
        if (scn__ends_with(names[i], ".amat") && strstr(names[i], word)) {
            if (hits++ == 0) found = names[i];
            else {
                scn__fail(SCN_ERR_ARG, "%s: both %s and %s are %s .amat files: keep one per "
                          "directory", dir, found, names[i], word);
                found = NULL;
                break;
            }
        }
    }
    if (n >= 0 && !hits)
        scn__fail(SCN_ERR_IO, "%s: no .amat file with '%s' in its name", dir, word);
    found = found ? scn__path_join(dir, found) : NULL;
    scn__names_free(names, n);
    return found;
}

static scn_dataset *scn__amat_open(const char *path, int train) {
    char *file = scn__amat_find(path, train ? "train" : "test");
    scn__amat_dataset *d;
    scn_status s;
    if (!file) return NULL;
    d = (scn__amat_dataset *)scn__calloc(1, sizeof *d, "amat data set");
    if (!d) { SCN_FREE(file); return NULL; }
    d->ds.C = 1;
    strcpy(d->ds.format, "amat");
    scn__ds_note(&d->ds, file);
    d->ds.read = scn__amat_read;
    d->ds.close = scn__amat_close;
    s = scn__amat_load(file, d);
    SCN_FREE(file);
    if (s) { scn__amat_close(&d->ds); return NULL; }
    d->ds.labels = d->labels;
    return &d->ds;
}

/* ---- image folders: CLASS/IMAGE, decoded on demand with stb_image ---- */

#ifdef SCN__STB

typedef struct scn__folder_dataset {
    scn_dataset ds;
    char **paths;               /* count image files */
    unsigned char *labels;
} scn__folder_dataset;

static void scn__folder_close(scn_dataset *ds) {
    scn__folder_dataset *d = (scn__folder_dataset *)ds;
    scn__names_free(d->paths, ds->count);
    SCN_FREE(d->labels);
    SCN_FREE(d);
}

/* Whether a file name ends in an image extension stb_image decodes here. */
static int scn__is_image_name(const char *name) {
    return scn__ends_with(name, ".png") || scn__ends_with(name, ".jpg") ||
           scn__ends_with(name, ".jpeg") || scn__ends_with(name, ".bmp");
}

/* stb_image's reason for its last failure, never NULL or empty. */
static const char *scn__stb_why(void) {
    const char *why = stbi_failure_reason();
    return why && *why ? why : "corrupt";
}

/* stb_image reads the missing bytes of a cut-off BMP as zeros; an
 * uncompressed one (BI_RGB, BI_BITFIELDS) must hold all its rows. */
static scn_status scn__bmp_check(const unsigned char *b, size_t len, const char *path) {
    uint32_t off, comp;
    int32_t w, h;
    unsigned bits;
    double need;
    if (len < 2 || b[0] != 'B' || b[1] != 'M') return SCN_OK;
    if (len < 34) return scn__fail(SCN_ERR_FORMAT, "%s: truncated BMP header", path);
    off = scn__gz_le32(b + 10);
    w = (int32_t)scn__gz_le32(b + 18);
    h = (int32_t)scn__gz_le32(b + 22);
    bits = (unsigned)b[28] | (unsigned)b[29] << 8;
    comp = scn__gz_le32(b + 30);
    if (comp != 0 && comp != 3) return SCN_OK;  /* RLE: stb_image does not decode it */
    need = off + floor(((double)bits * fabs((double)w) + 31.0) / 32.0) * 4.0 *
                 fabs((double)h);
    if ((double)len < need)
        return scn__fail(SCN_ERR_FORMAT, "%s: truncated BMP (%zu of %.0f bytes)", path, len,
                         need);
    return SCN_OK;
}

/* PNG: every chunk within the file and some image data. stb_image 2.27
 * sizes its buffer by a chunk's stated length before reading it. */
static scn_status scn__png_check(const unsigned char *b, size_t len, const char *path) {
    static const unsigned char sig[8] = {137, 80, 78, 71, 13, 10, 26, 10};
    size_t at = 8, idat = 0;
    if (len < 8 || memcmp(b, sig, 8) != 0) return SCN_OK;
    while (at + 12 <= len) {
        size_t n = (size_t)scn__idx_be32(b + at);
        if (n > len - at - 12)
            return scn__fail(SCN_ERR_FORMAT, "%s: truncated PNG (a %zu-byte chunk at byte "
                             "%zu of %zu)", path, n, at, len);
        if (!memcmp(b + at + 4, "IDAT", 4)) {
            if (n == 0 && idat == 0)    /* stb_image 2.27 copies into a NULL buffer */
                return scn__fail(SCN_ERR_FORMAT, "%s: a PNG whose first IDAT chunk is "
                                 "empty", path);
            idat += n;
        }
        if (!memcmp(b + at + 4, "IEND", 4)) break;
        at += 12 + n;
    }
    if (!idat) return scn__fail(SCN_ERR_FORMAT, "%s: a PNG without image data", path);
    return SCN_OK;
}

/* JPEG, walked as stb_image would decode it before stb_image does.
 * stb_image 2.27 trusts a JPEG where later versions check: a Huffman table
 * of over 256 codes writes past its arrays, a scan may use a table the file
 * never defined (read from uninitialised memory), and entropy-coded data
 * that ends early drives its bit count negative (an out-of-range shift).
 * So every scan is decoded here, symbol by symbol, from bits actually in
 * the file (ITU T.81 F.2.2), and the file is refused unless all of them
 * are there: baseline Huffman JPEG only (SOF0, SOF1); progressive,
 * lossless and arithmetic-coded files are refused by name. */

typedef struct scn__jpg_table {
    unsigned char count[17];    /* codes of each length 1..16 */
    unsigned char sym[256];
} scn__jpg_table;

typedef struct scn__jpg {
    const unsigned char *b;
    size_t len, at;             /* the file; the next byte to read */
    unsigned bits;              /* entropy-coded bits: nbits of them, */
    int nbits;                  /* taken from the top */
    int w, h, nc, hmax, vmax, restart, frame;
    int id[4], hs[4], vs[4];    /* components: id, sampling factors */
    int have[8];                /* tables defined: DC 0-3, AC 4-7 */
    scn__jpg_table t[8];
} scn__jpg;

/* Where the next marker is at or after `at`: an FF followed by neither 00
 * (a stuffed FF) nor FF (a fill byte); len - 1 or more if there is none. */
static size_t scn__jpg_marker(const unsigned char *b, size_t len, size_t at) {
    while (at + 1 < len && (b[at] != 0xFF || b[at + 1] == 0x00 || b[at + 1] == 0xFF)) at++;
    return at;
}

/* The next entropy-coded bit, or -1 where the data ends (a marker). */
static int scn__jpg_bit(scn__jpg *j) {
    if (j->nbits == 0) {
        unsigned c;
        if (j->at >= j->len) return -1;
        c = j->b[j->at];
        if (c == 0xFF) {                        /* FF 00 is a stuffed FF */
            if (j->at + 1 >= j->len || j->b[j->at + 1] != 0x00) return -1;
            j->at++;
        }
        j->at++;
        j->bits = c;
        j->nbits = 8;
    }
    return (int)(j->bits >> --j->nbits) & 1;
}

/* n bits as a number, or -1 where the data ends. */
static long scn__jpg_bits(scn__jpg *j, int n) {
    long v = 0;
    int bit;
    while (n-- > 0) {
        if ((bit = scn__jpg_bit(j)) < 0) return -1;
        v = v << 1 | bit;
    }
    return v;
}

/* One Huffman symbol of t (canonical codes, T.81 C.2), or -1 if the code
 * is not in t or the data ends. */
static int scn__jpg_symbol(scn__jpg *j, const scn__jpg_table *t) {
    int code = 0, first = 0, index = 0, l, bit;
    for (l = 1; l <= 16; l++) {
        if ((bit = scn__jpg_bit(j)) < 0) return -1;
        code = code << 1 | bit;
        if (code >= first && code - first < t->count[l]) return t->sym[index + code - first];
        index += t->count[l];
        first = (first + t->count[l]) << 1;
    }
    return -1;
}

/* One 8x8 block: the DC difference (T.81 F.2.2.1), then AC run/size
 * symbols to the end of block (F.2.2.2). pred: the component's DC. */
static int scn__jpg_block(scn__jpg *j, int dc, int ac, long *pred) {
    int t = scn__jpg_symbol(j, &j->t[dc]), k, rs;
    long v;
    if (t < 0 || t > 15 || (v = scn__jpg_bits(j, t)) < 0) return 0;
    if (t && v < 1L << (t - 1)) v -= (1L << t) - 1;
    *pred += v;
    if (*pred < -32768 || *pred > 32767) return 0;     /* stb_image adds in int */
    for (k = 1; k < 64;) {
        if ((rs = scn__jpg_symbol(j, &j->t[4 + ac])) < 0) return 0;
        if ((rs & 15) == 0) {
            if (rs != 0xF0) break;                      /* end of block */
            k += 16;
        } else {
            k += (rs >> 4) + 1;
            if (scn__jpg_bits(j, rs & 15) < 0) return 0;
        }
    }
    return 1;
}

/* A scan of ns components (frame indices ci, tables dc and ac) from j->at,
 * in stb_image's order: one component's blocks in raster order, or MCUs of
 * every component's h x v blocks; a restart marker every j->restart units.
 * 0 if a block cannot be decoded from the file's bits. */
static int scn__jpg_scan(scn__jpg *j, int ns, const int *ci, const int *dc, const int *ac) {
    long pred[4] = {0, 0, 0, 0};
    long units, u;
    int k, x, todo = j->restart;
    if (ns == 1) {
        int c = ci[0];
        long cw = ((long)j->w * j->hs[c] + j->hmax - 1) / j->hmax;
        long ch = ((long)j->h * j->vs[c] + j->vmax - 1) / j->vmax;
        units = ((cw + 7) >> 3) * ((ch + 7) >> 3);
    } else {
        units = (((long)j->w + 8 * j->hmax - 1) / (8 * j->hmax)) *
                (((long)j->h + 8 * j->vmax - 1) / (8 * j->vmax));
    }
    j->nbits = 0;
    for (u = 0; u < units; u++) {
        for (k = 0; k < ns; k++)
            for (x = 0; x < (ns == 1 ? 1 : j->hs[ci[k]] * j->vs[ci[k]]); x++)
                if (!scn__jpg_block(j, dc[k], ac[k], &pred[k])) return 0;
        if (j->restart && --todo == 0 && u + 1 < units) {
            /* the next marker: RSTn goes on, anything else ends the scan */
            j->nbits = 0;
            j->at = scn__jpg_marker(j->b, j->len, j->at);
            if (j->at + 1 >= j->len || (j->b[j->at + 1] & 0xF8) != 0xD0) return 1;
            j->at += 2;
            todo = j->restart;
            memset(pred, 0, sizeof pred);
        }
    }
    return 1;
}

/* A frame header (SOF0/SOF1) in p[0..n). */
static int scn__jpg_frame(scn__jpg *j, const unsigned char *p, size_t n) {
    int c;
    if (j->frame || n < 6 || p[0] != 8) return 0;
    j->h = p[1] << 8 | p[2];
    j->w = p[3] << 8 | p[4];
    j->nc = p[5];
    if (j->w < 1 || j->h < 1 || j->w > SCN_IMAGE_MAX_SIDE || j->h > SCN_IMAGE_MAX_SIDE ||
        (j->nc != 1 && j->nc != 3 && j->nc != 4) || n < 6 + 3 * (size_t)j->nc)
        return 0;
    j->hmax = j->vmax = 1;
    for (c = 0; c < j->nc; c++) {
        j->id[c] = p[6 + 3 * c];
        j->hs[c] = p[7 + 3 * c] >> 4;
        j->vs[c] = p[7 + 3 * c] & 15;
        if (j->hs[c] < 1 || j->hs[c] > 4 || j->vs[c] < 1 || j->vs[c] > 4) return 0;
        if (j->hs[c] > j->hmax) j->hmax = j->hs[c];
        if (j->vs[c] > j->vmax) j->vmax = j->vs[c];
    }
    j->frame = 1;
    return 1;
}

/* Huffman tables (DHT) in p[0..n): at most 256 codes each, lengths that
 * fit (the Kraft inequality), class 0-1 and id 0-3. */
static int scn__jpg_tables(scn__jpg *j, const unsigned char *p, size_t n) {
    while (n > 0) {
        unsigned long code = 0, total = 0;
        int l, slot;
        if (n < 17 || p[0] >> 4 > 1 || (p[0] & 15) > 3) return 0;
        slot = (p[0] >> 4) * 4 + (p[0] & 15);
        for (l = 1; l <= 16; l++) {
            code = (code << 1) + p[l];
            total += p[l];
            if (code > 1ul << l || total > 256) return 0;
            j->t[slot].count[l] = p[l];
        }
        if (n < 17 + total) return 0;
        memcpy(j->t[slot].sym, p + 17, total);
        j->have[slot] = 1;
        p += 17 + total;
        n -= 17 + total;
    }
    return 1;
}

/* A scan header (SOS) in p[0..n), then the scan's data from j->at. */
static int scn__jpg_sos(scn__jpg *j, const unsigned char *p, size_t n) {
    int ns = n ? p[0] : 0, ci[4], dc[4], ac[4], k, c;
    if (!j->frame || ns < 1 || ns > j->nc || n != 4 + 2 * (size_t)ns) return 0;
    for (k = 0; k < ns; k++) {
        for (c = 0; c < j->nc && j->id[c] != p[1 + 2 * k]; c++) {}
        dc[k] = p[2 + 2 * k] >> 4;
        ac[k] = p[2 + 2 * k] & 15;
        if (c == j->nc || dc[k] > 3 || ac[k] > 3 || !j->have[dc[k]] || !j->have[4 + ac[k]])
            return 0;
        ci[k] = c;
    }
    if (p[1 + 2 * ns] != 0 || p[2 + 2 * ns] != 63 || p[3 + 2 * ns] != 0) return 0;
    return scn__jpg_scan(j, ns, ci, dc, ac);
}

static scn_status scn__jpeg_check(const unsigned char *b, size_t len, const char *path) {
    scn__jpg *j;
    size_t at = 1;
    int ok = 1;
    if (len < 2 || b[0] != 0xFF) return SCN_OK;
    while (at < len && b[at] == 0xFF) at++;     /* stb_image skips fill bytes */
    if (at == len || b[at] != 0xD8) return SCN_OK;    /* not a JPEG */
    if (!(j = (scn__jpg *)scn__calloc(1, sizeof *j, path))) return SCN_ERR_NOMEM;
    j->b = b;
    j->len = len;
    for (at++; ok;) {
        unsigned m;
        size_t end;
        at = scn__jpg_marker(b, len, at);       /* past data after a scan */
        if (at + 1 >= len) break;
        m = b[at + 1];
        if (m == 0xD9) break;                   /* end of image */
        if (m == 0x01 || (m >= 0xD0 && m <= 0xD7)) { at += 2; continue; }
        end = at + 4 <= len ? at + 2 + ((size_t)b[at + 2] << 8 | b[at + 3]) : len + 1;
        if (end > len || end < at + 4) {
            SCN_FREE(j);
            return scn__fail(SCN_ERR_FORMAT, "%s: truncated JPEG (a segment at byte %zu "
                             "runs past the end)", path, at);
        }
        if (m == 0xC2 || m == 0xC3 || (m >= 0xC5 && m <= 0xCF && m != 0xC8 && m != 0xCC)) {
            SCN_FREE(j);
            return scn__fail(SCN_ERR_FORMAT, "%s: a progressive, lossless or arithmetic-coded "
                             "JPEG (only baseline JPEG is read; save it as baseline or PNG)",
                             path);
        }
        if (m == 0xC0 || m == 0xC1) ok = scn__jpg_frame(j, b + at + 4, end - at - 4);
        else if (m == 0xC4) ok = scn__jpg_tables(j, b + at + 4, end - at - 4);
        else if (m == 0xDD) j->restart = end - at == 6 ? b[at + 4] << 8 | b[at + 5] : -1;
        else if (m == 0xDA) {
            j->at = end;
            ok = scn__jpg_sos(j, b + at + 4, end - at - 4);
            end = j->at;
        }
        if (j->restart < 0) ok = 0;
        at = end;
    }
    SCN_FREE(j);
    if (!ok)
        return scn__fail(SCN_ERR_FORMAT, "%s: corrupt or truncated JPEG (a header, Huffman "
                         "table or scan that cannot be decoded)", path);
    return SCN_OK;
}

/* The file's bytes and its size and channels, checked against the limits.
 * *buf is allocated on success. */
static scn_status scn__image_probe(const char *path, unsigned char **buf, size_t *len,
                                   int *w, int *h, int *comp) {
    *buf = scn__read_file(path, (size_t)INT_MAX, len, NULL);
    if (!*buf) return SCN_ERR_IO;
    if (scn__bmp_check(*buf, *len, path) || scn__png_check(*buf, *len, path) ||
        scn__jpeg_check(*buf, *len, path)) {
        SCN_FREE(*buf);
        *buf = NULL;
        return SCN_ERR_FORMAT;
    }
    if (!stbi_info_from_memory(*buf, (int)*len, w, h, comp)) {
        SCN_FREE(*buf);
        *buf = NULL;
        return scn__fail(SCN_ERR_FORMAT, "%s: not a PNG, JPEG or BMP image stb_image can "
                         "read (%s)", path, scn__stb_why());
    }
    if (*w < 1 || *h < 1 || *w > SCN_IMAGE_MAX_SIDE || *h > SCN_IMAGE_MAX_SIDE) {
        SCN_FREE(*buf);
        *buf = NULL;
        return scn__fail(SCN_ERR_FORMAT, "%s: %dx%d pixels (each side 1 to %d, "
                         "SCN_IMAGE_MAX_SIDE)", path, *w, *h, SCN_IMAGE_MAX_SIDE);
    }
    return SCN_OK;
}

static scn_status scn__folder_read(scn_dataset *ds, const int *idx, int n, float *x,
                                   unsigned char *labels) {
    scn__folder_dataset *d = (scn__folder_dataset *)ds;
    size_t hw = (size_t)ds->H * ds->W, j;
    int i, c, w, h, comp;
    for (i = 0; i < n; i++) {
        const char *path = d->paths[idx[i]];
        unsigned char *buf, *px;
        size_t len;
        scn_status s = scn__image_probe(path, &buf, &len, &w, &h, &comp);
        if (s) return s;
        px = w == ds->W && h == ds->H ? stbi_load_from_memory(buf, (int)len, &w, &h, &comp,
                                                              ds->C) : NULL;
        SCN_FREE(buf);
        if (!px)
            return scn__fail(SCN_ERR_FORMAT, "%s: cannot decode it as a %dx%d image (%s)",
                             path, ds->W, ds->H, w != ds->W || h != ds->H ?
                             "its size changed" : scn__stb_why());
        for (c = 0; c < ds->C; c++)             /* interleaved to planar */
            for (j = 0; j < hw; j++)
                x[((size_t)i * ds->C + c) * hw + j] = px[j * ds->C + c] * (1.0f / 255.0f);
        stbi_image_free(px);
        if (labels) labels[i] = d->labels[idx[i]];
    }
    return SCN_OK;
}

/* Appends the images of class folder dir (label y) to d; checks each one's
 * size against the first image's (first: its path). */
static scn_status scn__folder_add(scn__folder_dataset *d, const char *dir, int y,
                                  size_t *cap, char **first) {
    char **names;
    int n = scn__list_dir(dir, 0, &names), i;
    scn_status s = n < 0 ? SCN_ERR_IO : SCN_OK;
    for (i = 0; !s && i < n; i++) {
        unsigned char *buf;
        size_t len;
        int w, h, comp;
        char *path;
        if (!scn__is_image_name(names[i])) continue;
        if (!(path = scn__path_join(dir, names[i]))) { s = SCN_ERR_NOMEM; break; }
        if ((s = scn__image_probe(path, &buf, &len, &w, &h, &comp)) != SCN_OK) {
            SCN_FREE(path);
            break;
        }
        SCN_FREE(buf);
        if (!*first) {
            d->ds.W = w;
            d->ds.H = h;
            d->ds.C = comp >= 3 ? 3 : 1;
        } else if (w != d->ds.W || h != d->ds.H) {
            s = scn__fail(SCN_ERR_FORMAT, "%s is %dx%d but %s is %dx%d: the images of a "
                          "folder data set must all have one size (nothing is resized)",
                          path, w, h, *first, d->ds.W, d->ds.H);
            SCN_FREE(path);
            break;
        }
        if ((size_t)d->ds.count == *cap) {
            size_t nc = *cap ? 2 * *cap : 256;
            char **pp = nc < (size_t)INT_MAX / 2 ? (char **)SCN_REALLOC(d->paths,
                                                                nc * sizeof(char *)) : NULL;
            unsigned char *ll = pp ? (unsigned char *)SCN_REALLOC(d->labels, nc) : NULL;
            if (pp) d->paths = pp;
            if (ll) d->labels = ll;
            if (!pp || !ll) {
                SCN_FREE(path);
                s = scn__fail(SCN_ERR_NOMEM, "%s: no memory for %zu images", dir, nc);
                break;
            }
            *cap = nc;
        }
        d->paths[d->ds.count] = path;
        d->labels[d->ds.count++] = (unsigned char)y;
        if (!*first) *first = path;
    }
    scn__names_free(names, n);
    return s;
}

/* The sorted union of the class folders under path/train and path/test
 * (split layout) or under path; -1 (with the error) on failure. */
static int scn__folder_classes(const char *path, int split_layout, char ***out) {
    static const char *sub[2] = {"train", "test"};
    char **all = NULL;
    int n = 0, k, i;
    *out = NULL;
    for (k = 0; k < (split_layout ? 2 : 1); k++) {
        char *dir = split_layout ? scn__path_join(path, sub[k]) : scn__path_join(path, "");
        char **names, **grown;
        int m;
        if (!dir) { scn__names_free(all, n); return -1; }
        m = split_layout && !scn__path_is(dir, 1) ? 0 : scn__list_dir(dir, 1, &names);
        SCN_FREE(dir);
        if (m < 0) { scn__names_free(all, n); return -1; }
        if (m == 0) continue;
        grown = (char **)SCN_REALLOC(all, (size_t)(n + m) * sizeof *all);
        if (!grown) {
            scn__names_free(names, m);
            scn__names_free(all, n);
            scn__fail(SCN_ERR_NOMEM, "%s: class names", path);
            return -1;
        }
        all = grown;
        memcpy(all + n, names, (size_t)m * sizeof *names);
        n += m;
        SCN_FREE(names);
    }
    if (n) qsort(all, (size_t)n, sizeof *all, scn__str_cmp);
    for (i = k = 0; i < n; i++) {                   /* drop duplicates */
        if (k && !strcmp(all[k - 1], all[i])) SCN_FREE(all[i]);
        else all[k++] = all[i];
    }
    *out = all;
    return k;
}

static scn_dataset *scn__folder_open(const char *path, int train) {
    char *tr = scn__path_join(path, "train"), *te = scn__path_join(path, "test");
    int split_layout = (tr && scn__path_is(tr, 1)) || (te && scn__path_is(te, 1));
    char *root = split_layout ? (train ? tr : te) : scn__path_join(path, "");
    char **classes = NULL, *first = NULL;
    int nc = -1, c;
    size_t cap = 0;
    scn_status s = SCN_OK;
    scn__folder_dataset *d = (scn__folder_dataset *)scn__calloc(1, sizeof *d, "folder");
    if (!tr || !te || !root || !d) s = SCN_ERR_NOMEM;
    else if (!scn__path_is(root, 1))
        s = scn__fail(SCN_ERR_IO, "%s: not there (an image folder data set holds train/CLASS/"
                      " and test/CLASS/, or only CLASS/ folders)", root);
    else if ((nc = scn__folder_classes(path, split_layout, &classes)) < 0) s = SCN_ERR_IO;
    else if (nc == 0)
        s = scn__fail(SCN_ERR_FORMAT, "%s: no class folders", root);
    else if (nc > 256)
        s = scn__fail(SCN_ERR_FORMAT, "%s: %d class folders (at most 256)", path, nc);
    if (d) {
        d->ds.classes = nc > 0 ? nc : 0;
        strcpy(d->ds.format, "folder");
        if (root) scn__ds_note(&d->ds, root);
        d->ds.read = scn__folder_read;
        d->ds.close = scn__folder_close;
    }
    for (c = 0; !s && c < nc; c++) {
        char *dir = scn__path_join(root, classes[c]);
        if (!dir) s = SCN_ERR_NOMEM;
        else if (scn__path_is(dir, 1)) s = scn__folder_add(d, dir, c, &cap, &first);
        SCN_FREE(dir);
    }
    if (!s && d->ds.count == 0)
        s = scn__fail(SCN_ERR_FORMAT, "%s: no PNG, JPEG or BMP images in its class folders",
                      root);
    if (root != tr && root != te) SCN_FREE(root);
    SCN_FREE(tr);
    SCN_FREE(te);
    scn__names_free(classes, nc);
    if (s && d) { scn__folder_close(&d->ds); d = NULL; }
    if (d) d->ds.labels = d->labels;
    return d ? &d->ds : NULL;
}
#else
static scn_dataset *scn__folder_open(const char *path, int train) {
    (void)train;
    scn__fail(SCN_ERR_ARG, "%s: image folders need stb_image (see section 12)", path);
    return NULL;
}
#endif /* SCN__STB */

/* ---- detection and the one entry point ---- */

SCNDEF const char *scn_dataset_detect(const char *path) {
    static const struct { const char *format, *sub, *probe[4]; } known[] = {
        {"idx", "", {"train-labels-idx1-ubyte", "train-labels-idx1-ubyte.gz",
                     "t10k-labels-idx1-ubyte", "t10k-labels-idx1-ubyte.gz"}},
        {"cifar10", "cifar-10-batches-bin", {"data_batch_1.bin", "test_batch.bin", NULL}},
        {"cifar100", "cifar-100-binary", {"train.bin", "test.bin", NULL}},
        {"stl10", "stl10_binary", {"train_X.bin", "test_X.bin", "unlabeled_X.bin"}},
    };
    char **names;
    int k, i, n;
    SCN_ASSERT(path);
    if (!scn__path_is(path, 1)) {
        scn__fail(SCN_ERR_IO, "%s: not a directory", path);
        return NULL;
    }
    for (k = 0; k < (int)(sizeof known / sizeof *known); k++)
        for (i = 0; i < 4 && known[k].probe[i]; i++) {
            int nomem;
            char *d = scn__data_dir(path, known[k].sub, known[k].probe[i], &nomem);
            SCN_FREE(d);
            if (d) return known[k].format;
            if (nomem) return NULL;
        }
    if ((n = scn__list_dir(path, 0, &names)) < 0) return NULL;
    for (i = 0; i < n && !scn__ends_with(names[i], ".amat"); i++) {}
    scn__names_free(names, n);
    if (i < n) return "amat";
    if ((n = scn__list_dir(path, 1, &names)) < 0) return NULL;
    scn__names_free(names, n);
    if (n > 0) return "folder";
    scn__fail(SCN_ERR_FORMAT, "%s: no data set found: expected IDX files "
              "(train-images-idx3-ubyte, ...), CIFAR-10 (data_batch_1.bin, ...), CIFAR-100 "
              "(train.bin, test.bin), STL-10 (train_X.bin, ...), *train*.amat and "
              "*test*.amat, or class folders of images", path);
    return NULL;
}

SCNDEF scn_dataset *scn_dataset_open(const char *path, const char *split, const char *format) {
    int train, unlabeled;
    if (!path || !split) {
        scn__fail(SCN_ERR_ARG, "data set: NULL path or split");
        return NULL;
    }
    train = !strcmp(split, "train");
    unlabeled = !strcmp(split, "unlabeled");
    if (!format || !strcmp(format, "auto"))
        if (!(format = scn_dataset_detect(path))) return NULL;
    if (!train && !unlabeled && strcmp(split, "test")) {
        scn__fail(SCN_ERR_ARG, "data set: split '%s' (train, test, or unlabeled for stl10)",
                  split);
        return NULL;
    }
    if (unlabeled && strcmp(format, "stl10")) {
        scn__fail(SCN_ERR_ARG, "%s: the unlabeled split is STL-10's; %s has train and test",
                  path, format);
        return NULL;
    }
    if (!strcmp(format, "idx")) return scn__idx_open(path, train);
    if (!strcmp(format, "cifar10")) return scn__cifar_open(path, train, 0, 0);
    if (!strcmp(format, "cifar100")) return scn__cifar_open(path, train, 1, 0);
    if (!strcmp(format, "cifar100-coarse")) return scn__cifar_open(path, train, 1, 1);
    if (!strcmp(format, "stl10")) return scn__stl_open(path, train ? 0 : unlabeled ? 2 : 1);
    if (!strcmp(format, "amat")) return scn__amat_open(path, train);
    if (!strcmp(format, "folder")) return scn__folder_open(path, train);
    scn__fail(SCN_ERR_ARG, "data set: unknown format '%s' (idx, cifar10, cifar100, "
              "cifar100-coarse, stl10, amat, folder, or auto)", format);
    return NULL;
}
#endif /* SCN_NO_STDIO */


/* ======================================================================
 * 14. Training and evaluation
 * ====================================================================== */

/* What a pass reads: its items, batch buffers, and the progress clock. */
typedef struct scn__pass {
    int *items, count, batch, K;
    float *x;
    unsigned char *labels;
    size_t item;                /* floats per item */
    scn_progress p;
    double t0, last;
    long right, seen;
    double loss;
} scn__pass;

static void scn__pass_free(scn__pass *ps) {
    SCN_FREE(ps->items);
    SCN_FREE(ps->x);
    SCN_FREE(ps->labels);
}

/* Checks the net against the data and lays out the pass's buffers, with
 * room for `rows` images a batch (batch plus the unlabelled ones). */
static scn_status scn__pass_start(scn__pass *ps, scn_net *net, scn_dataset *ds,
                                  const scn_train_desc *d, int batch, int rows, int training) {
    int i;
    memset(ps, 0, sizeof *ps);
    if (net->C != ds->C || net->H != ds->H || net->W != ds->W)
        return scn__fail(SCN_ERR_ARG, "the net takes %dx%dx%d images but the data set holds "
                         "%dx%dx%d", net->C, net->H, net->W, ds->C, ds->H, ds->W);
    if (!ds->labels) return scn__fail(SCN_ERR_ARG, "the data set has no labels");
    ps->K = scn_net_classes(net);
    if (ds->classes > ps->K)
        return scn__fail(SCN_ERR_ARG, "the net has %d outputs but the data has %d classes",
                         ps->K, ds->classes);
    if (ds->C > SCN_MAX_CHANNELS)
        return scn__fail(SCN_ERR_ARG, "%d channels (at most %d)", ds->C, SCN_MAX_CHANNELS);
    if (d && !(d->label_smoothing >= 0.0f && d->label_smoothing < 1.0f))
        return scn__fail(SCN_ERR_ARG, "label smoothing %g (in [0, 1))",
                         (double)d->label_smoothing);
    ps->count = d && d->item_count > 0 && (d->items || d->item_count < ds->count)
              ? d->item_count : ds->count;
    ps->batch = batch;
    if (training && ps->count < batch)
        return scn__fail(SCN_ERR_ARG, "a batch of %d is larger than the %d training images",
                         batch, ps->count);
    ps->item = (size_t)ds->C * ds->H * ds->W;
    ps->items = (int *)scn__calloc((size_t)ps->count, sizeof(int), "pass");
    ps->x = (float *)scn__calloc(ps->item * rows, sizeof(float), "pass");
    ps->labels = (unsigned char *)scn__calloc((size_t)batch, 1, "pass");
    if (!ps->items || !ps->x || !ps->labels) { scn__pass_free(ps); return SCN_ERR_NOMEM; }
    for (i = 0; i < ps->count; i++) ps->items[i] = d && d->items ? d->items[i] : i;
    ps->p.training = training;
    ps->p.steps = training ? ps->count / batch : (ps->count + batch - 1) / batch;
    ps->t0 = ps->last = scn__seconds();
    return SCN_OK;
}

SCNDEF scn_status scn_train_state_set_pixel_mean(scn_train_state *st, const float *mean,
                                                 size_t count) {
    float *copy = NULL;
    size_t at;
    SCN_ASSERT(st && (mean || count == 0));
    if (mean && count == 0)
        return scn__fail(SCN_ERR_ARG, "mean image: no values");
    if (mean && !scn__all_finite(mean, count, &at))
        return scn__fail(SCN_ERR_ARG, "mean image: value %zu is %g", at, (double)mean[at]);
    if (mean) {
        if (!(copy = (float *)scn__calloc(count, sizeof(float), "mean image")))
            return SCN_ERR_NOMEM;
        memcpy(copy, mean, count * sizeof *copy);
    }
    SCN_FREE(st->pixel_mean);
    st->pixel_mean = copy;
    st->pixel_count = mean ? count : 0;
    return SCN_OK;
}

SCNDEF void scn_train_state_free(scn_train_state *st) {
    if (!st) return;
    SCN_FREE(st->pixel_mean);
    st->pixel_mean = NULL;
    st->pixel_count = 0;
}

SCNDEF scn_status scn_train_state_normalize(const scn_train_state *st, float *x, int n, int C,
                                            int H, int W) {
    SCN_ASSERT(st && (x || n == 0));
    if (n < 0 || C < 1 || H < 1 || W < 1 || C > SCN_MAX_CHANNELS)
        return scn__fail(SCN_ERR_ARG, "normalise: %d items of %dx%dx%d (at most %d "
                         "channels)", n, C, H, W, SCN_MAX_CHANNELS);
    if (!st->pixel_mean) {
        scn_normalize(x, n, C, H * W, st->mean, st->std);
        return SCN_OK;
    }
    if (st->pixel_count != (size_t)C * H * W)
        return scn__fail(SCN_ERR_ARG, "normalise: the mean image has %zu values, the items "
                         "%dx%dx%d", st->pixel_count, C, H, W);
    scn_normalize_pixels(x, n, C, H * W, st->pixel_mean, st->std);
    return SCN_OK;
}

/* The recipes of SCN section 5, "Training" (the table in section 14's
 * introduction). */
static const scn_recipe scn__recipes[] = {
    /* CIFAR-10 and CIFAR-100: batch 128, 200 epochs, lr 0.1 divided by 10
       at epochs 80 and 160, wd 5e-4, translation by up to 4 pixels and
       flips shared by a batch, per-pixel-mean subtraction; SCN-4 */
    { "scn-cifar", "CIFAR-10, CIFAR-100", "scn-cifar", 128, 200, 0.1f, 0.9f, 5e-4f, 0.1f,
      { 80, 160 }, 4, 1, 1, 1, SCN_NORM_PIXEL },
    /* STL-10: the same network and schedule; batch 16 "to have more
       iterations per epoch on the small training set", translation by up
       to 12 pixels */
    { "scn-stl", "STL-10", "scn-cifar", 16, 200, 0.1f, 0.9f, 5e-4f, 0.1f, { 80, 160 }, 12,
      1, 1, 1, SCN_NORM_PIXEL },
    /* MNIST: batch 128, 25 epochs, lr divided by 10 at 10 and 20, neither
       augmentation nor mean subtraction; SCN-4 with 8 filters in the first
       layer */
    { "scn-mnist-paper", "MNIST", "scn-mnist-paper", 128, 25, 0.1f, 0.9f, 5e-4f, 0.1f,
      { 10, 20 }, 0, 0, 1, 1, SCN_NORM_CHANNEL },
};
#define SCN__RECIPE_COUNT ((int)(sizeof scn__recipes / sizeof scn__recipes[0]))

SCNDEF const scn_recipe *scn_recipe_get(int i) {
    return i >= 0 && i < SCN__RECIPE_COUNT ? &scn__recipes[i] : NULL;
}

SCNDEF const scn_recipe *scn_recipe_find(const char *name) {
    int i;
    for (i = 0; name && i < SCN__RECIPE_COUNT; i++)
        if (!strcmp(name, scn__recipes[i].name)) return &scn__recipes[i];
    scn__fail(SCN_ERR_ARG, "no recipe \"%s\" (the recipes: %s, %s, %s)",
              name ? name : "(null)", scn__recipes[0].name, scn__recipes[1].name,
              scn__recipes[2].name);
    return NULL;
}

SCNDEF void scn_recipe_apply(const scn_recipe *r, scn_sgd_desc *sgd, scn_train_desc *train) {
    SCN_ASSERT(r);
    if (sgd) {
        memset(sgd, 0, sizeof *sgd);
        sgd->lr = r->lr;
        sgd->momentum = r->momentum > 0.0f ? r->momentum : -1.0f;
        sgd->weight_decay = r->weight_decay > 0.0f ? r->weight_decay : -1.0f;
        sgd->gamma = r->gamma;
        memcpy(sgd->milestones, r->milestones, sizeof sgd->milestones);
        sgd->schedule = SCN_LR_STEP;
        sgd->epochs = r->epochs;
        sgd->decay_lambda1 = r->decay_lambda1;
    }
    if (train) {
        train->batch = r->batch;
        train->crop = r->crop;
        train->flip = r->flip;
        train->batch_augment = r->batch_augment;
    }
}

/* Reads batch `step` (n items), normalised. */
static scn_status scn__pass_read(scn__pass *ps, scn_dataset *ds, const scn_train_state *st,
                                 int step, int n) {
    scn_status s = scn_dataset_read(ds, ps->items + (size_t)step * ps->batch, n, ps->x,
                                    ps->labels);
    if (s) return s;
    return scn_train_state_normalize(st, ps->x, n, ds->C, ds->H, ds->W);
}

/* The training augmentation desc asks for, on n items (per image or shared). */
static scn_status scn__pass_augment(float *x, int n, const scn_dataset *ds,
                                    const scn_train_desc *desc, scn_rng *r) {
    int crop = desc ? desc->crop : 0, flip = desc ? desc->flip : 0;
    return desc && desc->batch_augment
               ? scn_augment_shared(x, n, ds->C, ds->H, ds->W, crop, flip, r)
               : scn_augment(x, n, ds->C, ds->H, ds->W, crop, flip, r);
}

/* Counts a batch and calls the progress function when it is due. */
static void scn__pass_report(scn__pass *ps, const scn_train_desc *d, int n, int right,
                             double loss) {
    double now = scn__seconds(), every = d && d->progress_every > 0 ? d->progress_every : 0.5;
    ps->p.step++;
    ps->seen += n;
    ps->right += right;
    ps->loss += loss;
    ps->p.seconds = now - ps->t0;
    ps->p.loss = ps->loss / ps->seen;
    ps->p.accuracy = (double)ps->right / ps->seen;
    ps->p.images_per_s = ps->p.seconds > 0 ? ps->seen / ps->p.seconds : 0.0;
    if (d && d->progress && (now - ps->last >= every || ps->p.step == ps->p.steps)) {
        ps->last = now;
        d->progress(&ps->p, d->user);
    }
}

static void scn__pass_result(const scn__pass *ps, scn_pass_result *r) {
    if (!r) return;
    r->loss = ps->p.loss;
    r->accuracy = ps->p.accuracy;
    r->images = ps->seen;
    r->seconds = ps->p.seconds;
    r->images_per_s = ps->p.images_per_s;
}

/* Appends `n` unlabelled items, drawn without replacement from pool (a
 * working copy of the caller's list, partially shuffled), to the batch's
 * images after the first `at`. */
static scn_status scn__pass_read_unlabelled(scn__pass *ps, scn_dataset *ds,
                                            const scn_train_state *st, int *pool, int count,
                                            int at, int n, scn_rng *r) {
    float *x = ps->x + (size_t)at * ps->item;
    scn_status s;
    int j;
    for (j = 0; j < n; j++) {
        int k = j + (int)scn_rng_below(r, (uint32_t)(count - j)), t = pool[j];
        pool[j] = pool[k];
        pool[k] = t;
    }
    if ((s = scn_dataset_read(ds, pool, n, x, NULL))) return s;
    return scn_train_state_normalize(st, x, n, ds->C, ds->H, ds->W);
}

/* scn_softmax_xent against smoothed targets q = (1 - eps) onehot + eps / K:
 * the loss sum_j q_j (lse - z_j) is the cross-entropy plus eps (z_y -
 * mean z), and the gradient (p - q) / N is (p - onehot) / N plus
 * eps (onehot - 1 / K) / N. */
static scn_status scn__smoothed_xent(const float *z, const unsigned char *labels, int N, int K,
                                     float eps, float *dlogits, double *loss, int *correct) {
    scn_status s = scn_softmax_xent(z, labels, N, K, dlogits, loss, correct);
    int b, j;
    if (s || eps == 0.0f) return s;
    for (b = 0; b < N; b++) {
        const float *zb = z + (size_t)b * K;
        double mean = 0.0;
        for (j = 0; j < K; j++) mean += zb[j];
        *loss += eps * (zb[labels[b]] - mean / K);
        for (j = 0; j < K; j++)
            dlogits[(size_t)b * K + j] += eps * ((j == labels[b]) - 1.0f / K) / N;
    }
    return SCN_OK;
}

/* SF eq. 14 on the logits: (1 - mu) times the mean cross-entropy (with
 * labels smoothed by eps) of the first `labelled` rows; rows after them
 * (unlabelled) get no gradient. *loss is the labelled rows' summed loss,
 * weighted. */
static scn_status scn__semisup_xent(const float *z, const unsigned char *labels, int labelled,
                                    int rows, int K, float mu, float eps, float *dlogits,
                                    double *loss, int *correct) {
    size_t i, n = (size_t)labelled * K;
    scn_status s = scn__smoothed_xent(z, labels, labelled, K, eps, dlogits, loss, correct);
    if (s) return s;
    for (i = 0; i < n; i++) dlogits[i] *= 1.0f - mu;
    memset(dlogits + n, 0, (size_t)(rows - labelled) * K * sizeof *dlogits);
    *loss *= 1.0 - mu;
    return SCN_OK;
}

/* The pca layer, if the net starts with one. */
static scn__layer *scn__pca_layer(scn_net *net) {
    return net->count && !strcmp(net->all[0]->kind->info.name, "pca") ? net->all[0] : NULL;
}

/* 1 when the net's pca layer has not been fitted (host copy of its record). */
static int scn__pca_unfitted(scn_net *net) {
    scn__layer *l = scn__pca_layer(net);
    float images = 0.0f;
    if (!l) return 0;
    if (net->be->host_memory) images = scn__pca_info(l)[PCA_IMAGES];
    else if (net->be->download(&images, scn__pca_info(l) + PCA_IMAGES, sizeof images))
        return 0;
    return images <= 0.0f;
}

/* max |V V^T - I| and max_i |C v_i - w_i v_i| / max |w| for the rows of V */
static void scn__eigen_errors(const double *C, const double *w, const double *V, int n,
                              double *ortho, double *resid) {
    double o = 0.0, r = 0.0, top = n ? fabs(w[0]) : 0.0;
    int i;
    if (n && fabs(w[n - 1]) > top) top = fabs(w[n - 1]);
    SCN__OMP(parallel for schedule(dynamic, 8) reduction(max : o, r)
             num_threads(scn__threads()))
    for (i = 0; i < n; i++) {
        const double *v = V + (size_t)i * n;
        double res2 = 0.0;
        int j, q;
        for (j = 0; j < n; j++) {
            const double *u = V + (size_t)j * n, *c = C + (size_t)j * n;
            double dot = 0.0, cv = 0.0;
            for (q = 0; q < n; q++) { dot += v[q] * u[q]; cv += c[q] * v[q]; }
            dot = fabs(dot - (i == j));
            if (dot > o) o = dot;
            cv -= w[i] * v[j];
            res2 += cv * cv;
        }
        if (sqrt(res2) > r) r = sqrt(res2);
    }
    *ortho = o;
    *resid = top > 0.0 ? r / top : r;
}

/* Sums for the covariance of the rows of x (N x n, host), shifted by x0 so
 * that the float products cannot cancel: sum += x - x0, cov += (x - x0)
 * (x - x0)^T, the batch's products by GEMM, accumulated in double. */
static scn_status scn__pca_accumulate(float *x, int N, int n, const float *x0, double *sum,
                                      double *cov, float *G) {
    size_t i, nn = (size_t)n * n;
    int b, j;
    scn_status s;
    for (b = 0; b < N; b++)
        for (j = 0; j < n; j++) {
            x[(size_t)b * n + j] -= x0[j];
            sum[j] += x[(size_t)b * n + j];
        }
    if ((s = scn_backend_cpu()->gemm(NULL, 1, 0, n, n, N, 1.0f, x, n, x, n, 0.0f, G, n)))
        return s;
    for (i = 0; i < nn; i++) cov[i] += G[i];
    return SCN_OK;
}

/* The layer's buffers from the eigen decomposition: B = V (float), bias
 * -B mean, eigenvalues, mean, and the record. */
static scn_status scn__pca_store(scn_net *net, scn__layer *l, const double *w, const double *V,
                                 const double *mean, const float *info, float *host) {
    int n = scn__pca_n(l), i, j;
    size_t nn = (size_t)n * n;
    float *bias = host + nn, *eig = bias + n, *mu = eig + n;
    for (i = 0; i < n; i++) {
        double b = 0.0;
        for (j = 0; j < n; j++) {
            host[(size_t)i * n + j] = (float)V[(size_t)i * n + j];
            b -= V[(size_t)i * n + j] * mean[j];
        }
        bias[i] = (float)b;
        eig[i] = (float)w[i];
        mu[i] = (float)mean[i];
    }
    memcpy(mu + n, info, PCA_INFO * sizeof *info);
    if (net->be->host_memory) {
        memcpy(l->buffers, host, l->nbuffers * sizeof *host);
        return SCN_OK;
    }
    return net->be->upload(l->buffers, host, l->nbuffers * sizeof *host);
}

SCNDEF scn_status scn_pca_fit(scn_net *net, scn_dataset *ds, const scn_train_state *st,
                              const scn_train_desc *desc) {
    int batch = desc && desc->batch > 0 ? desc->batch : 256, step, n, i, j;
    scn__layer *l;
    scn__pass ps;
    scn_status s;
    double *sum = NULL, *cov = NULL, *w = NULL, *V = NULL, t0 = scn__seconds(), ortho, resid;
    float *x0 = NULL, *G = NULL, info[PCA_INFO];
    SCN_ASSERT(net && ds && st);
    if (!(l = scn__pca_layer(net)))
        return scn__fail(SCN_ERR_ARG, "pca fit: the net's first layer is not pca");
    n = scn__pca_n(l);
    if ((s = scn__pass_start(&ps, net, ds, desc, batch, batch, 0)))
        return scn__fail(s, "pca fit: %s", scn_error());
    sum = (double *)scn__calloc((size_t)n, sizeof(double), "pca fit");
    cov = (double *)scn__calloc((size_t)n * n, sizeof(double), "pca fit");
    G = (float *)scn__calloc(l->nbuffers, sizeof(float), "pca fit");  /* n x n, then the buffers */
    x0 = (float *)scn__calloc((size_t)n, sizeof(float), "pca fit");
    if (!sum || !cov || !G || !x0) { s = SCN_ERR_NOMEM; goto done; }
    for (step = 0; step < ps.p.steps; step++) {
        int N = ps.count - step * batch < batch ? ps.count - step * batch : batch;
        if ((s = scn__pass_read(&ps, ds, st, step, N))) break;
        if (!step) memcpy(x0, ps.x, (size_t)n * sizeof *x0);
        if ((s = scn__pca_accumulate(ps.x, N, n, x0, sum, cov, G))) break;
        scn__pass_report(&ps, desc, N, 0, 0.0);
    }
    if (s) {
        scn__fail(s, "pca fit, batch %d: %s", step + 1, scn_error());
        goto done;
    }
    /* covariance = E[(x - x0)(x - x0)^T] - E[x - x0] E[x - x0]^T; mean = x0 + E[x - x0] */
    for (j = 0; j < n; j++) sum[j] /= ps.count;
    for (i = 0; i < n; i++)
        for (j = 0; j < n; j++)
            cov[(size_t)i * n + j] = cov[(size_t)i * n + j] / ps.count - sum[i] * sum[j];
    for (j = 0; j < n; j++) sum[j] += x0[j];
    w = (double *)scn__calloc((size_t)n, sizeof(double), "pca fit");
    V = (double *)scn__calloc((size_t)n * n, sizeof(double), "pca fit");
    if (!w || !V) { s = SCN_ERR_NOMEM; goto done; }
    if ((s = scn_sym_eigen(cov, n, w, V))) {
        scn__fail(s, "pca fit: %s", scn_error());
        goto done;
    }
    scn__eigen_errors(cov, w, V, n, &ortho, &resid);
    info[PCA_IMAGES] = (float)ps.count;
    info[PCA_ORTHO] = (float)ortho;
    info[PCA_RESID] = (float)resid;
    s = scn__pca_store(net, l, w, V, sum, info, G);
    l->fit_seconds = scn__seconds() - t0;
done:
    SCN_FREE(sum); SCN_FREE(cov); SCN_FREE(w); SCN_FREE(V); SCN_FREE(x0); SCN_FREE(G);
    scn__pass_free(&ps);
    return s;
}

SCNDEF scn_status scn_train_epoch(scn_net *net, scn_sgd *opt, scn_dataset *ds,
                                  scn_train_state *st, const scn_train_desc *desc,
                                  scn_pass_result *result) {
    int batch = desc && desc->batch > 0 ? desc->batch : 64, step, correct, unl = 0;
    float lr, mu = desc ? desc->mu : 0.0f, *dlogits;
    float eps = desc ? desc->label_smoothing : 0.0f;
    int *pool = NULL, ucount = desc && desc->unlabelled ? desc->unlabelled_count : 0;
    scn__pass ps;
    scn_status s;
    SCN_ASSERT(net && opt && ds && st);
    lr = scn_sgd_lr(opt, st->epoch);
    if (scn__pca_unfitted(net) && (s = scn_pca_fit(net, ds, st, desc))) return s;
    if ((s = scn_net_set_mu(net, mu))) return s;
    if (mu > 0.0f && ucount > 0) unl = ucount < batch ? ucount : batch;
    if ((s = scn__pass_start(&ps, net, ds, desc, batch, batch + unl, 1))) return s;
    dlogits = (float *)scn__calloc((size_t)(batch + unl) * ps.K, sizeof(float), "training");
    if (unl) pool = (int *)scn__calloc((size_t)ucount, sizeof(int), "training");
    if (!dlogits || (unl && !pool)) {
        s = SCN_ERR_NOMEM;
        goto done;
    }
    if (unl) memcpy(pool, desc->unlabelled, (size_t)ucount * sizeof *pool);
    ps.p.epoch = st->epoch;
    scn_shuffle(ps.items, ps.count, &st->rng);
    for (step = 0; step < ps.p.steps; step++) {
        const float *z;
        double loss;
        if ((s = scn__pass_read(&ps, ds, st, step, batch)) ||
            (unl && (s = scn__pass_read_unlabelled(&ps, ds, st, pool, ucount, batch, unl,
                                                     &st->rng))))
            break;
        scn_net_zero_grad(net);
        if ((s = scn__pass_augment(ps.x, batch + unl, ds, desc, &st->rng))) break;
        if (!(z = scn_net_forward(net, ps.x, batch + unl, 1))) { s = scn__last_status; break; }
        if ((s = scn__semisup_xent(z, ps.labels, batch, batch + unl, ps.K, mu, eps, dlogits,
                                   &loss, &correct)) ||
            (s = scn_net_backward(net, dlogits, NULL)) || (s = scn_sgd_step(opt, net, lr)))
            break;
        st->step++;
        scn__pass_report(&ps, desc, batch, correct, loss + batch * scn_net_extra_loss(net));
    }
    if (!s && (s = scn_net_project(net))) step = ps.p.steps - 1;
    if (!s) {
        st->epoch++;
        scn__pass_result(&ps, result);
    } else {
        scn__fail(s, "epoch %d step %d: %s", st->epoch + 1, step + 1, scn_error());
    }
done:
    scn_net_set_mu(net, 0.0f);
    SCN_FREE(dlogits);
    SCN_FREE(pool);
    scn__pass_free(&ps);
    return s;
}

SCNDEF scn_status scn_evaluate(scn_net *net, scn_dataset *ds, const scn_train_state *st,
                               const scn_train_desc *desc, scn_pass_result *result,
                               long *confusion) {
    int batch = desc && desc->batch > 0 ? desc->batch : 256, step, b, j;
    scn__pass ps;
    scn_status s;
    SCN_ASSERT(net && ds && st);
    if ((s = scn__pass_start(&ps, net, ds, desc, batch, batch, 0))) return s;
    for (step = 0; step < ps.p.steps; step++) {
        int n = ps.count - step * batch < batch ? ps.count - step * batch : batch, right = 0;
        const float *z;
        if ((s = scn__pass_read(&ps, ds, st, step, n))) break;
        if (!(z = scn_net_forward(net, ps.x, n, 0))) { s = scn__last_status; break; }
        for (b = 0; b < n; b++) {
            int best = 0;
            for (j = 1; j < ps.K; j++) if (z[b * ps.K + j] > z[b * ps.K + best]) best = j;
            right += best == ps.labels[b];
            if (confusion) confusion[ps.labels[b] * ps.K + best]++;
        }
        scn__pass_report(&ps, desc, n, right, 0.0);
    }
    if (!s) scn__pass_result(&ps, result);
    else scn__fail(s, "evaluation, batch %d: %s", step + 1, scn_error());
    scn__pass_free(&ps);
    return s;
}

/* A BN layer's buffers (running mean, then running variance, C each)
 * between host memory and the net's. */
static scn_status scn__bn_buffers(scn_net *net, scn__layer *l, float *host, int to_net) {
    size_t bytes = 2 * (size_t)l->C * sizeof(float);
    if (net->be->host_memory) {
        if (to_net) memcpy(l->buffers, host, bytes);
        else memcpy(host, l->buffers, bytes);
        return SCN_OK;
    }
    return to_net ? net->be->upload(l->buffers, host, bytes)
                  : net->be->download(host, l->buffers, bytes);
}

static int scn__is_bn(const scn__layer *l) { return !strcmp(l->kind->info.name, "bn"); }

/* One batch: each BN layer's buffers zeroed, so the training forward
 * leaves momentum times the batch's mean and unbiased variance in them;
 * sum[2 c], sum[2 c + 1] (c over every BN channel) gather E[x], E[x^2]. */
static scn_status scn__bn_batch(scn_net *net, const float *x, int batch, float *host,
                                double *sum) {
    int i, c, at = 0;
    scn_status s = SCN_OK;
    for (i = 0; !s && i < net->count; i++)
        if (scn__is_bn(net->all[i])) {
            memset(host, 0, 2 * (size_t)net->all[i]->C * sizeof(float));
            s = scn__bn_buffers(net, net->all[i], host, 1);
        }
    if (s) return s;
    if (!scn_net_forward(net, x, batch, 1)) return scn__last_status;
    for (i = 0; i < net->count; i++) {
        scn__layer *l = net->all[i];
        double M = (double)batch * l->H * l->W;
        if (!scn__is_bn(l)) continue;
        if ((s = scn__bn_buffers(net, l, host, 0))) return s;
        for (c = 0; c < l->C; c++, at++) {
            double mean = host[c] / (double)SCN__BN_MOMENTUM;
            double var = host[l->C + c] / (double)SCN__BN_MOMENTUM * (M - 1) / M;
            sum[2 * at] += mean;
            sum[2 * at + 1] += var + mean * mean;
        }
    }
    return SCN_OK;
}

SCNDEF scn_status scn_bn_recompute(scn_net *net, scn_dataset *ds, const scn_train_state *st,
                                   const scn_train_desc *desc, int images) {
    int batch = desc && desc->batch > 0 ? desc->batch : 64, step = 0, i, c, at = 0;
    int channels = 0;
    scn_rng saved;
    scn__pass ps;
    scn_status s;
    float *host = NULL, *orig = NULL;   /* orig: the statistics kept on failure */
    double *sum = NULL;
    SCN_ASSERT(net && ds && st);
    for (i = 0; i < net->count; i++)
        if (scn__is_bn(net->all[i])) channels += net->all[i]->C;
    if (images < 1) return scn__fail(SCN_ERR_ARG, "precise BN: %d images (need >= 1)", images);
    if (!channels) return SCN_OK;
    if ((s = scn__pass_start(&ps, net, ds, desc, batch, batch, 1)))
        return scn__fail(s, "precise BN: %s", scn_error());
    ps.p.training = 0;
    ps.p.steps = (images < ps.count ? images : ps.count) / batch;
    if (ps.p.steps < 1) ps.p.steps = 1;
    host = (float *)scn__calloc(2 * (size_t)channels, sizeof(float), "precise BN");
    sum = (double *)scn__calloc(2 * (size_t)channels, sizeof(double), "precise BN");
    orig = (float *)scn__calloc(2 * (size_t)channels, sizeof(float), "precise BN");
    if (!host || !sum || !orig) s = SCN_ERR_NOMEM;
    for (i = 0; !s && i < net->count; i++)
        if (scn__is_bn(net->all[i])) {
            s = scn__bn_buffers(net, net->all[i], orig + 2 * at, 0);
            at += net->all[i]->C;
        }
    at = 0;
    saved = net->rng;       /* dropout draws here must not change training */
    for (step = 0; !s && step < ps.p.steps; step++) {
        if ((s = scn__pass_read(&ps, ds, st, step, batch)) ||
            (s = scn__bn_batch(net, ps.x, batch, host, sum)))
            break;
        scn__pass_report(&ps, desc, batch, 0, 0.0);
    }
    net->rng = saved;
    net->trained = 0;       /* the batches are freed below: nothing to go back through */
    for (i = 0; !s && i < net->count; i++) {
        scn__layer *l = net->all[i];
        double M = (double)ps.p.steps * batch * l->H * l->W;
        if (!scn__is_bn(l)) continue;
        for (c = 0; c < l->C; c++, at++) {
            double mean = sum[2 * at] / ps.p.steps;
            double var = sum[2 * at + 1] / ps.p.steps - mean * mean;
            host[c] = (float)mean;      /* the variance unbiased, as training keeps it */
            host[l->C + c] = (float)(var > 0.0 ? var * M / (M - 1) : 0.0);
        }
        s = scn__bn_buffers(net, l, host, 1);
    }
    if (s) {
        scn__fail(s, "precise BN, batch %d: %s", step + 1, scn_error());
        for (i = 0, at = 0; orig && i < net->count; i++)
            if (scn__is_bn(net->all[i])) {
                scn__bn_buffers(net, net->all[i], orig + 2 * at, 1);
                at += net->all[i]->C;
            }
    }
    SCN_FREE(host);
    SCN_FREE(orig);
    SCN_FREE(sum);
    scn__pass_free(&ps);
    return s;
}


/* ======================================================================
 * 15. Checkpoints
 * ====================================================================== */

/* Slicing by 4 over a table built on the stack: no shared state. */
SCNDEF uint32_t scn_crc32(uint32_t crc, const void *data, size_t n) {
    const unsigned char *p = (const unsigned char *)data;
    uint32_t t[4][256], c;
    int i, k;
    SCN_ASSERT(data || n == 0);
    for (i = 0; i < 256; i++) {
        c = (uint32_t)i;
        for (k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        t[0][i] = c;
    }
    for (i = 0; i < 256; i++)
        for (k = 1; k < 4; k++) t[k][i] = t[0][t[k - 1][i] & 0xff] ^ (t[k - 1][i] >> 8);
    crc = ~crc;
    for (; n >= 4; n -= 4, p += 4) {
        crc ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
               (uint32_t)p[3] << 24;
        crc = t[3][crc & 0xff] ^ t[2][(crc >> 8) & 0xff] ^ t[1][(crc >> 16) & 0xff] ^
              t[0][crc >> 24];
    }
    while (n--) crc = t[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}

#define SCN__CKPT_SPEC_MAX 65536
#define SCN__CKPT_SIDE_MAX 65536

/* ---- little-endian encoding, field by field ---- */

typedef struct scn__out {
    unsigned char *p;
    size_t len, cap;
    int failed;                 /* an allocation failed: the image is incomplete */
} scn__out;

static void scn__out_bytes(scn__out *o, const void *data, size_t n) {
    if (o->failed) return;
    if (n > o->cap - o->len) {
        size_t cap = o->cap ? o->cap : 4096;
        unsigned char *grown;
        while (n > cap - o->len) cap *= 2;
        if (!(grown = (unsigned char *)SCN_REALLOC(o->p, cap))) {
            o->failed = 1;
            scn__fail(SCN_ERR_NOMEM, "checkpoint: no memory for %zu bytes", cap);
            return;
        }
        o->p = grown;
        o->cap = cap;
    }
    memcpy(o->p + o->len, data, n);
    o->len += n;
}

static void scn__out_u64(scn__out *o, uint64_t v) {
    unsigned char b[8];
    int i;
    for (i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
    scn__out_bytes(o, b, 8);
}

static void scn__out_u32(scn__out *o, uint32_t v) {
    unsigned char b[4];
    int i;
    for (i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
    scn__out_bytes(o, b, 4);
}

static void scn__out_f32(scn__out *o, float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    scn__out_u32(o, u);
}

/* count floats, each little-endian (a plain copy on little-endian hosts) */
static void scn__out_f32s(scn__out *o, const float *x, size_t count) {
    size_t i;
    if (scn__little_endian()) { scn__out_bytes(o, x, count * sizeof *x); return; }
    for (i = 0; i < count; i++) scn__out_f32(o, x[i]);
}

/* A record's tag and a size to patch when it ends; returns where. */
static size_t scn__out_begin(scn__out *o, const char *tag) {
    scn__out_bytes(o, tag, 4);
    scn__out_u64(o, 0);
    return o->len;
}

static void scn__out_end(scn__out *o, size_t start) {
    uint64_t size = o->len - start;
    int i;
    if (o->failed) return;
    for (i = 0; i < 8; i++) o->p[start - 8 + i] = (unsigned char)(size >> (8 * i));
}

/* count floats of a backend's memory in host memory (the same pointer on
 * the CPU; else a copy in *tmp for the caller to free). */
static const float *scn__to_host(const scn_backend *be, const float *x, size_t count,
                                 float **tmp) {
    *tmp = NULL;
    if (be->host_memory) return x;
    if (!(*tmp = (float *)scn__calloc(count ? count : 1, sizeof(float), "checkpoint")))
        return NULL;
    if (be->download(*tmp, x, count * sizeof *x)) { SCN_FREE(*tmp); return *tmp = NULL; }
    return *tmp;
}

static void scn__out_floats(scn__out *o, const scn_backend *be, const float *x, size_t count) {
    float *tmp;
    const float *h = scn__to_host(be, x, count, &tmp);
    scn__out_u64(o, count);
    if (!h) { o->failed = 1; return; }
    scn__out_f32s(o, h, count);
    SCN_FREE(tmp);
}

/* The parameter block as PARM, or as PARZ (bitmap and nonzeros) when at
 * most half the parameters are nonzero: then PARZ takes at most 53% of
 * PARM's bytes, and a dense net's file stays readable by versions before
 * PARZ. */
/* 1: a PARZ record stores the value (anything but +0: a -0 keeps its sign,
 * so that a checkpoint reads back bit for bit) */
static int scn__parz_stored(float v) { return v != 0.0f || signbit(v); }

static void scn__out_params(scn__out *o, const scn_backend *be, const float *x, size_t count) {
    float *tmp;
    const float *h = scn__to_host(be, x, count, &tmp);
    size_t i, nnz = 0, at;
    if (!h) { o->failed = 1; return; }
    for (i = 0; i < count; i++) nnz += scn__parz_stored(h[i]);
    if (nnz > count / 2) {          /* dense: PARM, which every version reads */
        at = scn__out_begin(o, "PARM");
        scn__out_u64(o, count);
        scn__out_f32s(o, h, count);
    } else {
        at = scn__out_begin(o, "PARZ");
        scn__out_u64(o, count);
        scn__out_u64(o, nnz);
        for (i = 0; i < count; i += 8) {
            unsigned char bits = 0;
            size_t j;
            for (j = i; j < i + 8 && j < count; j++)
                bits |= (unsigned char)(scn__parz_stored(h[j]) << (j - i));
            scn__out_bytes(o, &bits, 1);
        }
        for (i = 0; i < count; i++) if (scn__parz_stored(h[i])) scn__out_f32(o, h[i]);
    }
    scn__out_end(o, at);
    SCN_FREE(tmp);
}

SCNDEF scn_status scn_checkpoint_encode(const scn_net *net, const scn_sgd *opt,
                                        const scn_train_state *st, unsigned char **bytes,
                                        size_t *len) {
    scn__out o;
    size_t at;
    int c, i;
    scn_status s;
    SCN_ASSERT(net && bytes && len);
    *bytes = NULL;
    *len = 0;
    if (scn__net_has_nonfinite(net, &s))
        return scn__fail(SCN_ERR_NUMERIC, "the net holds a NaN or Inf (training diverged?)");
    if (s) return s;
    if (opt) {
        size_t at;
        if ((s = opt->be->find_nonfinite(opt->velocity, opt->count, &at))) return s;
        if (at < opt->count)
            return scn__fail(SCN_ERR_NUMERIC, "the optimiser's velocity %zu is not finite "
                             "(training diverged?)", at);
    }
    memset(&o, 0, sizeof o);
    scn__out_bytes(&o, "SCNCKPT3", 8);
    at = scn__out_begin(&o, "NET ");
    scn__out_u32(&o, (uint32_t)net->C);
    scn__out_u32(&o, (uint32_t)net->H);
    scn__out_u32(&o, (uint32_t)net->W);
    scn__out_u64(&o, net->rng.state);
    scn__out_u64(&o, net->rng.inc);
    scn__out_u32(&o, (uint32_t)strlen(net->spec));
    scn__out_bytes(&o, net->spec, strlen(net->spec));
    scn__out_end(&o, at);
    scn__out_params(&o, net->be, net->params, net->nparams);
    at = scn__out_begin(&o, "BUFF");
    scn__out_floats(&o, net->be, net->buffers, net->nbuffers);
    scn__out_end(&o, at);
    if (st) {
        int channels = net->C < SCN_MAX_CHANNELS ? net->C : SCN_MAX_CHANNELS;
        at = scn__out_begin(&o, "NORM");
        scn__out_u32(&o, (uint32_t)channels);
        for (c = 0; c < channels; c++) scn__out_f32(&o, st->mean[c]);
        for (c = 0; c < channels; c++) scn__out_f32(&o, st->std[c]);
        scn__out_end(&o, at);
        if (st->pixel_mean) {
            size_t n = (size_t)net->C * net->H * net->W, j;
            if (st->pixel_count != n) {
                SCN_FREE(o.p);
                return scn__fail(SCN_ERR_ARG, "the state's mean image has %zu values for a "
                                 "net of %dx%dx%d", st->pixel_count, net->C, net->H, net->W);
            }
            if (!scn__all_finite(st->pixel_mean, n, &j)) {
                SCN_FREE(o.p);
                return scn__fail(SCN_ERR_NUMERIC, "the state's mean image holds %g at %zu",
                                 (double)st->pixel_mean[j], j);
            }
            at = scn__out_begin(&o, "PIXM");
            scn__out_u32(&o, (uint32_t)net->C);
            scn__out_u32(&o, (uint32_t)net->H);
            scn__out_u32(&o, (uint32_t)net->W);
            for (j = 0; j < n; j++) scn__out_f32(&o, st->pixel_mean[j]);
            scn__out_end(&o, at);
        }
        at = scn__out_begin(&o, "TRST");
        scn__out_u32(&o, (uint32_t)st->epoch);
        scn__out_u64(&o, (uint64_t)st->step);
        scn__out_u64(&o, st->rng.state);
        scn__out_u64(&o, st->rng.inc);
        scn__out_u32(&o, (uint32_t)st->batch);
        scn__out_end(&o, at);
        if (st->note[0]) {
            size_t n = 0;
            while (n < sizeof st->note - 1 && st->note[n]) n++;
            at = scn__out_begin(&o, "note");
            scn__out_bytes(&o, st->note, n);
            scn__out_end(&o, at);
        }
    }
    if (opt) {
        at = scn__out_begin(&o, "SGD ");
        scn__out_f32(&o, opt->desc.lr);
        scn__out_f32(&o, opt->desc.momentum);
        scn__out_f32(&o, opt->desc.weight_decay);
        scn__out_f32(&o, opt->desc.gamma);
        scn__out_u32(&o, (uint32_t)opt->desc.nesterov);
        scn__out_u32(&o, (uint32_t)opt->desc.schedule);
        scn__out_u32(&o, (uint32_t)opt->desc.epochs);
        for (i = 0; i < 8; i++) scn__out_u32(&o, (uint32_t)opt->desc.milestones[i]);
        scn__out_u64(&o, (uint64_t)opt->steps);
        scn__out_floats(&o, opt->be, opt->velocity, opt->count);
        scn__out_end(&o, at);
        if (opt->desc.decay_lambda1) {
            at = scn__out_begin(&o, "sgdl");
            scn__out_u32(&o, (uint32_t)opt->desc.decay_lambda1);
            scn__out_end(&o, at);
        }
    }
    at = scn__out_begin(&o, "END ");
    scn__out_u32(&o, o.failed ? 0 : scn_crc32(0, o.p, at - 12));
    scn__out_end(&o, at);
    if (o.failed) { SCN_FREE(o.p); return SCN_ERR_NOMEM; }
    *bytes = o.p;
    *len = o.len;
    return SCN_OK;
}

/* ---- decoding: every read bounded by its record ---- */

typedef struct scn__in {
    const unsigned char *p, *end;
    int overrun;                /* a read went past end (it read zeros) */
} scn__in;

static uint64_t scn__in_u(scn__in *r, int bytes) {
    uint64_t v = 0;
    int i;
    if (r->end - r->p < bytes) { r->overrun = 1; return 0; }
    for (i = 0; i < bytes; i++) v |= (uint64_t)r->p[i] << (8 * i);
    r->p += bytes;
    return v;
}

static float scn__in_f32(scn__in *r) {
    uint32_t u = (uint32_t)scn__in_u(r, 4);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int scn__in_ok(const scn__in *r) { return !r->overrun; }

/* count floats into x (host memory) */
static void scn__in_f32s(scn__in *r, float *x, size_t count) {
    size_t i;
    if ((size_t)(r->end - r->p) / 4 < count) { r->overrun = 1; return; }
    if (scn__little_endian()) { memcpy(x, r->p, count * 4); r->p += count * 4; return; }
    for (i = 0; i < count; i++) x[i] = scn__in_f32(r);
}

/* What a checkpoint holds, before the net is built. */
typedef struct scn__ckpt {
    const char *name;
    uint32_t C, H, W;
    scn_rng net_rng;
    const unsigned char *spec;
    size_t spec_len;
    uint64_t nparams, nbuffers, nvelocity;
    const unsigned char *params, *buffers, *velocity;  /* little-endian f32 */
    const unsigned char *param_bits;    /* PARZ: the bitmap; params then the nonzeros */
    int has_state, has_sgd;
    uint32_t norm_channels;
    uint32_t pix_C, pix_H, pix_W;       /* PIXM: its shape, and its values */
    const unsigned char *pixel_mean;
    scn_train_state st;
    scn_sgd_desc sgd;
    int64_t sgd_steps;
} scn__ckpt;

/* The records of a version-3 image into k; checks sizes and the CRC. */
static scn_status scn__ckpt_records(const unsigned char *b, size_t len, scn__ckpt *k) {
    scn__in r;
    int have_net = 0, i;
    memset(&r, 0, sizeof r);
    r.p = b + 8;
    r.end = b + len;
    for (;;) {
        char tag[5];
        uint64_t size;
        scn__in f;
        const unsigned char *start = r.p;
        if (r.end - r.p < 12)
            return scn__fail(SCN_ERR_FORMAT, "%s: truncated (no END record)", k->name);
        memcpy(tag, r.p, 4);
        tag[4] = '\0';
        r.p += 4;
        size = scn__in_u(&r, 8);
        if (size > (uint64_t)(r.end - r.p))
            return scn__fail(SCN_ERR_FORMAT, "%s: record '%s' of %llu bytes runs past the "
                             "end (truncated?)", k->name, tag, (unsigned long long)size);
        f.p = r.p;
        f.end = r.p + size;
        f.overrun = 0;
        r.p += size;
        if (!strcmp(tag, "END ")) {
            uint32_t crc = (uint32_t)scn__in_u(&f, 4);
            if (size != 4 || r.p != r.end)
                return scn__fail(SCN_ERR_FORMAT, "%s: END is not the last record (corrupt)",
                                 k->name);
            if (crc != scn_crc32(0, b, (size_t)(start - b)))
                return scn__fail(SCN_ERR_FORMAT, "%s: checksum mismatch (corrupt)", k->name);
            break;
        }
        if (!strcmp(tag, "NET ")) {
            k->C = (uint32_t)scn__in_u(&f, 4);
            k->H = (uint32_t)scn__in_u(&f, 4);
            k->W = (uint32_t)scn__in_u(&f, 4);
            k->net_rng.state = scn__in_u(&f, 8);
            k->net_rng.inc = scn__in_u(&f, 8);
            k->spec_len = (size_t)scn__in_u(&f, 4);
            k->spec = f.p;
            have_net = scn__in_ok(&f) && k->spec_len == (size_t)(f.end - f.p);
            if (!have_net)
                return scn__fail(SCN_ERR_FORMAT, "%s: NET record of %llu bytes is malformed",
                                 k->name, (unsigned long long)size);
        } else if ((!strcmp(tag, "PARM") || !strcmp(tag, "PARZ")) && k->params) {
            return scn__fail(SCN_ERR_FORMAT, "%s: a second parameter record (%s)", k->name,
                             tag);
        } else if (!strcmp(tag, "PARM") || !strcmp(tag, "BUFF")) {
            uint64_t n = scn__in_u(&f, 8);
            if (!scn__in_ok(&f) || n != (uint64_t)(f.end - f.p) / 4 || (f.end - f.p) % 4)
                return scn__fail(SCN_ERR_FORMAT, "%s: %s record says %llu floats in %llu "
                                 "bytes", k->name, tag, (unsigned long long)n,
                                 (unsigned long long)size);
            if (tag[0] == 'P') { k->nparams = n; k->params = f.p; }
            else { k->nbuffers = n; k->buffers = f.p; }
        } else if (!strcmp(tag, "PARZ")) {
            uint64_t n = scn__in_u(&f, 8), nnz = scn__in_u(&f, 8), bytes = n / 8 + (n % 8 != 0);
            uint64_t i, ones = 0;
            if (!scn__in_ok(&f) || bytes > (uint64_t)(f.end - f.p) ||
                nnz > n || (uint64_t)(f.end - f.p) - bytes != 4 * nnz)
                return scn__fail(SCN_ERR_FORMAT, "%s: PARZ record of %llu bytes says %llu "
                                 "parameters, %llu nonzero", k->name, (unsigned long long)size,
                                 (unsigned long long)n, (unsigned long long)nnz);
            for (i = 0; i < bytes; i++) {
                unsigned b8 = f.p[i];
                if (i == bytes - 1 && n % 8 && b8 >> (n % 8))
                    return scn__fail(SCN_ERR_FORMAT, "%s: PARZ bitmap has bits past its %llu "
                                     "parameters (corrupt)", k->name, (unsigned long long)n);
                for (; b8; b8 >>= 1) ones += b8 & 1;
            }
            if (ones != nnz)
                return scn__fail(SCN_ERR_FORMAT, "%s: PARZ bitmap marks %llu nonzeros, the "
                                 "record says %llu (corrupt)", k->name, (unsigned long long)ones,
                                 (unsigned long long)nnz);
            k->nparams = n;
            k->param_bits = f.p;
            k->params = f.p + bytes;
        } else if (!strcmp(tag, "NORM")) {
            uint32_t c, n = (uint32_t)scn__in_u(&f, 4);
            if (n > SCN_MAX_CHANNELS)
                return scn__fail(SCN_ERR_FORMAT, "%s: NORM record of %u channels (at most "
                                 "%d)", k->name, n, SCN_MAX_CHANNELS);
            if (size != 4 + 8 * (uint64_t)n)
                return scn__fail(SCN_ERR_FORMAT, "%s: NORM record of %u channels in %llu "
                                 "bytes", k->name, n, (unsigned long long)size);
            k->norm_channels = n;
            for (c = 0; c < SCN_MAX_CHANNELS; c++) { k->st.mean[c] = 0.0f; k->st.std[c] = 1.0f; }
            for (c = 0; c < n; c++) k->st.mean[c] = scn__in_f32(&f);
            for (c = 0; c < n; c++) k->st.std[c] = scn__in_f32(&f);
            for (c = 0; c < n; c++)
                if (!isfinite(k->st.mean[c]) || !(k->st.std[c] > 0.0f) ||
                    !isfinite(k->st.std[c]))
                    return scn__fail(SCN_ERR_FORMAT, "%s: channel %u's normalisation is mean "
                                     "%g, std %g (corrupt?)", k->name, c,
                                     (double)k->st.mean[c], (double)k->st.std[c]);
            k->has_state |= 1;
        } else if (!strcmp(tag, "PIXM")) {
            uint64_t n;
            if (k->pixel_mean)
                return scn__fail(SCN_ERR_FORMAT, "%s: a second PIXM record", k->name);
            k->pix_C = (uint32_t)scn__in_u(&f, 4);
            k->pix_H = (uint32_t)scn__in_u(&f, 4);
            k->pix_W = (uint32_t)scn__in_u(&f, 4);
            n = (uint64_t)k->pix_C * k->pix_H * k->pix_W;
            if (!scn__in_ok(&f) || n == 0 || (uint64_t)(f.end - f.p) / 4 != n ||
                (f.end - f.p) % 4)
                return scn__fail(SCN_ERR_FORMAT, "%s: PIXM record of %llu bytes for a %ux%ux%u "
                                 "mean image", k->name, (unsigned long long)size, k->pix_C,
                                 k->pix_H, k->pix_W);
            k->pixel_mean = f.p;
        } else if (!strcmp(tag, "sgdl")) {
            uint32_t v = (uint32_t)scn__in_u(&f, 4);
            if (size != 4 || v > 1)
                return scn__fail(SCN_ERR_FORMAT, "%s: sgdl record malformed (%llu bytes, "
                                 "value %u)", k->name, (unsigned long long)size, v);
            k->sgd.decay_lambda1 = (int)v;
        } else if (!strcmp(tag, "TRST")) {
            k->st.epoch = (int)(int32_t)scn__in_u(&f, 4);
            k->st.step = (int64_t)scn__in_u(&f, 8);
            k->st.rng.state = scn__in_u(&f, 8);
            k->st.rng.inc = scn__in_u(&f, 8);
            k->st.batch = (int)(int32_t)scn__in_u(&f, 4);
            if (size != 32 || k->st.epoch < 0 || k->st.step < 0 || k->st.batch < 0)
                return scn__fail(SCN_ERR_FORMAT, "%s: TRST record malformed (epoch %d, step "
                                 "%lld)", k->name, k->st.epoch, (long long)k->st.step);
            k->has_state |= 2;
        } else if (!strcmp(tag, "SGD ")) {
            k->sgd.lr = scn__in_f32(&f);
            k->sgd.momentum = scn__in_f32(&f);
            k->sgd.weight_decay = scn__in_f32(&f);
            k->sgd.gamma = scn__in_f32(&f);
            k->sgd.nesterov = (int)(int32_t)scn__in_u(&f, 4);
            k->sgd.schedule = (int)(int32_t)scn__in_u(&f, 4);
            k->sgd.epochs = (int)(int32_t)scn__in_u(&f, 4);
            for (i = 0; i < 8; i++) k->sgd.milestones[i] = (int)(int32_t)scn__in_u(&f, 4);
            k->sgd_steps = (int64_t)scn__in_u(&f, 8);
            k->nvelocity = scn__in_u(&f, 8);
            if (!scn__in_ok(&f) || k->nvelocity != (uint64_t)(f.end - f.p) / 4 ||
                (f.end - f.p) % 4 || k->sgd_steps < 0)
                return scn__fail(SCN_ERR_FORMAT, "%s: SGD record malformed", k->name);
            k->velocity = f.p;
            k->has_sgd = 1;
        } else if (!strcmp(tag, "note")) {
            size_t n = size < sizeof k->st.note ? (size_t)size : sizeof k->st.note - 1;
            memcpy(k->st.note, f.p, n);
            k->st.note[n] = '\0';
        } else if (!(tag[0] >= 'a' && tag[0] <= 'z')) {
            return scn__fail(SCN_ERR_FORMAT, "%s: record '%s' is not known to this scn.h "
                             "(a newer version wrote it?)", k->name, tag);
        }                                       /* lower case: optional, skipped */
    }
    if (!have_net || !k->params || !k->buffers)
        return scn__fail(SCN_ERR_FORMAT, "%s: a NET, PARM (or PARZ) or BUFF record is missing",
                         k->name);
    return SCN_OK;
}

/* Versions 1 and 2: the x86-64 layout of a 144-byte struct after the magic
 * (u32 spec_len, C, H, W; u64 nparams, nbuffers, nvelocity; i32 epoch at
 * 40; i64 step at 48; u64 rng state, inc, net rng state, inc at 56-80; f32
 * mean, std at 88, 92; f32 lr, momentum, weight decay at 96-104; i32
 * milestones[8] at 108; f32 gamma at 140), version 2 then 16 means and 16
 * stds; then the spec, parameters, buffers, velocity, CRC-32. */
static scn_status scn__ckpt_legacy(const unsigned char *b, size_t len, int v2, scn__ckpt *k) {
    scn__in r;
    size_t head = 144 + (v2 ? 32 * 4 : 0);
    uint64_t need;
    float mean, std;
    int c, i;
    if (len < 8 + head + 4)
        return scn__fail(SCN_ERR_FORMAT, "%s: truncated header (%zu bytes)", k->name, len);
    r.p = b + 8;
    r.end = b + len;
    k->spec_len = (size_t)scn__in_u(&r, 4);
    k->C = (uint32_t)scn__in_u(&r, 4);
    k->H = (uint32_t)scn__in_u(&r, 4);
    k->W = (uint32_t)scn__in_u(&r, 4);
    k->nparams = scn__in_u(&r, 8);
    k->nbuffers = scn__in_u(&r, 8);
    k->nvelocity = scn__in_u(&r, 8);
    k->st.epoch = (int)(int32_t)scn__in_u(&r, 4);
    scn__in_u(&r, 4);
    k->st.step = (int64_t)scn__in_u(&r, 8);
    k->st.rng.state = scn__in_u(&r, 8);
    k->st.rng.inc = scn__in_u(&r, 8);
    k->net_rng.state = scn__in_u(&r, 8);
    k->net_rng.inc = scn__in_u(&r, 8);
    mean = scn__in_f32(&r);
    std = scn__in_f32(&r);
    k->sgd.lr = scn__in_f32(&r);
    k->sgd.momentum = scn__in_f32(&r);
    k->sgd.weight_decay = scn__in_f32(&r);
    for (i = 0; i < 8; i++) k->sgd.milestones[i] = (int)(int32_t)scn__in_u(&r, 4);
    k->sgd.gamma = scn__in_f32(&r);
    for (c = 0; c < SCN_MAX_CHANNELS; c++) { k->st.mean[c] = mean; k->st.std[c] = std; }
    if (v2) {
        for (c = 0; c < 16; c++) { float v = scn__in_f32(&r); if (c < SCN_MAX_CHANNELS) k->st.mean[c] = v; }
        for (c = 0; c < 16; c++) { float v = scn__in_f32(&r); if (c < SCN_MAX_CHANNELS) k->st.std[c] = v; }
    }
    for (c = 0; c < SCN_MAX_CHANNELS; c++)    /* saved without a state: none */
        if (k->st.mean[c] == 0.0f && k->st.std[c] == 0.0f) k->st.std[c] = 1.0f;
    if (k->spec_len == 0 || k->spec_len > SCN__CKPT_SPEC_MAX || k->nparams > SCN__NET_MAX ||
        k->nbuffers > SCN__NET_MAX || k->nvelocity > SCN__NET_MAX || k->st.epoch < 0 ||
        k->st.step < 0)
        return scn__fail(SCN_ERR_FORMAT, "%s: header fields out of range (corrupt?)", k->name);
    need = 8 + head + k->spec_len + 4 * (k->nparams + k->nbuffers + k->nvelocity) + 4;
    if (need != len)
        return scn__fail(SCN_ERR_FORMAT, "%s: header describes %llu bytes but the file "
                         "holds %zu (truncated or corrupt)", k->name,
                         (unsigned long long)need, len);
    r.p = b + len - 4;
    if ((uint32_t)scn__in_u(&r, 4) != scn_crc32(0, b, len - 4))
        return scn__fail(SCN_ERR_FORMAT, "%s: checksum mismatch (corrupt)", k->name);
    for (c = 0; c < SCN_MAX_CHANNELS && c < (int)k->C; c++)
        if (!isfinite(k->st.mean[c]) || !(k->st.std[c] > 0.0f) || !isfinite(k->st.std[c]))
            return scn__fail(SCN_ERR_FORMAT, "%s: channel %d's normalisation is mean %g, std "
                             "%g (corrupt?)", k->name, c, (double)k->st.mean[c],
                             (double)k->st.std[c]);
    k->spec = b + 8 + head;
    k->params = k->spec + k->spec_len;
    k->buffers = k->params + 4 * k->nparams;
    k->velocity = k->buffers + 4 * k->nbuffers;
    k->has_state = 3;
    k->norm_channels = k->C < SCN_MAX_CHANNELS ? k->C : SCN_MAX_CHANNELS;
    k->has_sgd = k->nvelocity > 0;
    return SCN_OK;
}

/* count little-endian floats at src into the backend memory dst, after
 * checking they are finite; with bits (PARZ), src holds only the nonzeros
 * the bitmap marks (their number checked with the record). */
static scn_status scn__ckpt_floats(const scn__ckpt *k, const scn_backend *be, float *dst,
                                   const unsigned char *src, const unsigned char *bits,
                                   size_t count, const char *what, float **host) {
    scn__in r;
    size_t at, i;
    scn_status s;
    if (!(*host = (float *)scn__calloc(count ? count : 1, sizeof(float), k->name)))
        return SCN_ERR_NOMEM;
    r.p = src;
    r.end = src + 4 * count;
    if (!bits) scn__in_f32s(&r, *host, count);
    else
        for (i = 0; i < count; i++)
            if (bits[i / 8] >> (i % 8) & 1) (*host)[i] = scn__in_f32(&r);
    if (!scn__all_finite(*host, count, &at))
        return scn__fail(SCN_ERR_FORMAT, "%s: %s %zu is %g (a diverged or corrupt "
                         "checkpoint)", k->name, what, at, (double)(*host)[at]);
    if (be->host_memory) { memcpy(dst, *host, count * sizeof(float)); return SCN_OK; }
    s = be->upload(dst, *host, count * sizeof(float));
    return s;
}

SCNDEF scn_net *scn_checkpoint_decode(const unsigned char *b, size_t len, const char *name,
                                      scn_sgd *opt, scn_train_state *st) {
    scn__ckpt k;
    char *spec = NULL;
    scn_net *net = NULL;
    float *params = NULL, *buffers = NULL, *velocity = NULL;
    uint64_t counts[2];
    scn_status s;
    int i;
    SCN_ASSERT(b || len == 0);
    memset(&k, 0, sizeof k);
    k.name = name ? name : "checkpoint";
    if (opt) memset(opt, 0, sizeof *opt);
    if (len >= 8 && !memcmp(b, "SCNCKPT3", 8)) s = scn__ckpt_records(b, len, &k);
    else if (len >= 8 && !memcmp(b, "SCNCKPT2", 8)) s = scn__ckpt_legacy(b, len, 1, &k);
    else if (len >= 8 && !memcmp(b, "SCNCKPT1", 8)) s = scn__ckpt_legacy(b, len, 0, &k);
    else s = scn__fail(SCN_ERR_FORMAT, "%s: not an scn checkpoint (bad magic)", k.name);
    if (s) return NULL;
    if (k.spec_len == 0 || k.spec_len > SCN__CKPT_SPEC_MAX || k.C > SCN__CKPT_SIDE_MAX ||
        k.H > SCN__CKPT_SIDE_MAX || k.W > SCN__CKPT_SIDE_MAX) {
        scn__fail(SCN_ERR_FORMAT, "%s: input %u x %u x %u, spec of %zu bytes (corrupt?)",
                  k.name, k.C, k.H, k.W, k.spec_len);
        return NULL;
    }
    if (st && k.has_state != 3) {
        scn__fail(SCN_ERR_FORMAT, "%s: holds no training state (NORM, TRST)", k.name);
        return NULL;
    }
    if ((k.has_state & 1) &&
        k.norm_channels != (k.C < SCN_MAX_CHANNELS ? k.C : SCN_MAX_CHANNELS)) {
        scn__fail(SCN_ERR_FORMAT, "%s: NORM holds %u channels for a net of %u", k.name,
                  k.norm_channels, k.C);
        return NULL;
    }
    if (k.pixel_mean && (k.pix_C != k.C || k.pix_H != k.H || k.pix_W != k.W)) {
        scn__fail(SCN_ERR_FORMAT, "%s: PIXM holds a %ux%ux%u mean image for a net of "
                  "%ux%ux%u", k.name, k.pix_C, k.pix_H, k.pix_W, k.C, k.H, k.W);
        return NULL;
    }
    if (k.pixel_mean && !(k.has_state & 1)) {
        scn__fail(SCN_ERR_FORMAT, "%s: a PIXM record without NORM", k.name);
        return NULL;
    }
    if (opt && (!k.has_sgd || k.nvelocity != k.nparams)) {
        scn__fail(SCN_ERR_FORMAT, "%s: holds no optimiser state to resume", k.name);
        return NULL;
    }
    if (!(spec = (char *)scn__calloc(k.spec_len + 1, 1, k.name))) return NULL;
    memcpy(spec, k.spec, k.spec_len);
    counts[0] = k.nparams;
    counts[1] = k.nbuffers;
    net = scn__net_build(spec, (int)k.C, (int)k.H, (int)k.W, 0, counts);
    if (!net) { scn__fail(SCN_ERR_FORMAT, "%s: its network: %s", k.name, scn_error()); goto fail; }
    net->rng = k.net_rng;
    if (scn__ckpt_floats(&k, net->be, net->params, k.params, k.param_bits, net->nparams,
                         "parameter", &params) ||
        scn__ckpt_floats(&k, net->be, net->buffers, k.buffers, NULL, net->nbuffers, "buffer",
                         &buffers))
        goto fail;
    for (i = 0; i < net->count; i++) {
        scn__layer *l = net->all[i];
        if (l->kind->check &&
            l->kind->check(l, params + (l->params - net->params),
                           buffers + (l->buffers - net->buffers))) {
            scn__fail(SCN_ERR_FORMAT, "%s: layer %d (%s): %s", k.name, i + 1,
                      l->kind->info.name, scn_error());
            goto fail;
        }
    }
    if (opt) {
        if (scn_sgd_init(opt, net, &k.sgd)) {
            scn__fail(SCN_ERR_FORMAT, "%s: optimiser settings: %s", k.name, scn_error());
            goto fail;
        }
        if (scn__ckpt_floats(&k, net->be, opt->velocity, k.velocity, NULL, opt->count,
                             "velocity", &velocity)) {
            scn_sgd_free(opt);
            goto fail;
        }
        opt->steps = k.sgd_steps;
    }
    if (st && k.pixel_mean) {
        size_t n = (size_t)k.C * k.H * k.W, at;
        scn__in r;
        r.p = k.pixel_mean;
        r.end = k.pixel_mean + 4 * n;
        r.overrun = 0;
        if (!(k.st.pixel_mean = (float *)scn__calloc(n, sizeof(float), k.name))) goto fail_opt;
        scn__in_f32s(&r, k.st.pixel_mean, n);
        k.st.pixel_count = n;
        if (!scn__all_finite(k.st.pixel_mean, n, &at)) {
            scn__fail(SCN_ERR_FORMAT, "%s: mean image value %zu is %g (corrupt?)", k.name, at,
                      (double)k.st.pixel_mean[at]);
            SCN_FREE(k.st.pixel_mean);
            goto fail_opt;
        }
    }
    if (st) *st = k.st;
    SCN_FREE(spec); SCN_FREE(params); SCN_FREE(buffers); SCN_FREE(velocity);
    return net;
fail_opt:
    if (opt) scn_sgd_free(opt);
fail:
    scn_net_free(net);
    SCN_FREE(spec); SCN_FREE(params); SCN_FREE(buffers); SCN_FREE(velocity);
    return NULL;
}

#ifndef SCN_NO_STDIO
SCNDEF scn_status scn_checkpoint_save(const char *path, const scn_net *net,
                                      const scn_sgd *opt, const scn_train_state *st) {
    unsigned char *bytes;
    size_t len;
    scn_status s;
    SCN_ASSERT(path && net);
    if ((s = scn_checkpoint_encode(net, opt, st, &bytes, &len)))
        return scn__fail(s, "%s: not written: %s; the file there is left as it was", path,
                         scn_error());
    s = scn__write_atomic(path, bytes, len);
    SCN_FREE(bytes);
    return s;
}

SCNDEF scn_net *scn_checkpoint_load(const char *path, scn_sgd *opt, scn_train_state *st) {
    size_t len;
    unsigned char *b;
    scn_net *net;
    SCN_ASSERT(path);
    if (!(b = scn__read_file(path, SCN__FILE_MAX, &len, NULL))) return NULL;
    net = scn_checkpoint_decode(b, len, path, opt, st);
    SCN_FREE(b);
    return net;
}
#endif

/* ======================================================================
 * 16. Backends
 *
 * The CPU table: the reference every other backend is compared with. Its
 * memory is host memory, so upload and download are copies.
 * ====================================================================== */

static void *scn__cpu_alloc(size_t bytes) {
    void *p = SCN_MALLOC(bytes ? bytes : 1);
    if (p) memset(p, 0, bytes);
    return p;
}

static void scn__cpu_release(void *p) { SCN_FREE(p); }

static scn_status scn__cpu_memcpy(void *dst, const void *src, size_t bytes) {
    if (bytes) memcpy(dst, src, bytes);
    return SCN_OK;
}

static scn_status scn__cpu_cols_to_nchw(const scn_conv_geom *g, int n, const float *A,
                                        float *y) {
    size_t hw = (size_t)g->Ho * g->Wo;
    int b, j;
    for (b = 0; b < g->N; b++)
        for (j = 0; j < n; j++)
            memcpy(y + ((size_t)b * n + j) * hw, A + (size_t)j * g->P + b * hw,
                   hw * sizeof *y);
    return SCN_OK;
}

static scn_status scn__cpu_nchw_to_cols(const scn_conv_geom *g, int n, const float *y,
                                        float *A) {
    size_t hw = (size_t)g->Ho * g->Wo;
    int b, j;
    for (b = 0; b < g->N; b++)
        for (j = 0; j < n; j++)
            memcpy(A + (size_t)j * g->P + b * hw, y + ((size_t)b * n + j) * hw,
                   hw * sizeof *A);
    return SCN_OK;
}

static scn_status scn__cpu_fill(float *y, size_t count, float v) {
    size_t i;
    if (v == 0.0f) memset(y, 0, count * sizeof *y);
    else for (i = 0; i < count; i++) y[i] = v;
    return SCN_OK;
}

static scn_status scn__cpu_copy(float *y, const float *x, size_t count) {
    if (count && y != x) memcpy(y, x, count * sizeof *y);
    return SCN_OK;
}

static scn_status scn__cpu_axpy(float *SCN__RESTRICT y, float a, const float *SCN__RESTRICT x,
                                size_t count) {
    size_t i;
    for (i = 0; i < count; i++) y[i] += a * x[i];
    return SCN_OK;
}

static scn_status scn__cpu_relu(float *y, const float *x, size_t count) {
    size_t i;
    for (i = 0; i < count; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
    return SCN_OK;
}

static scn_status scn__cpu_relu_backward(float *dx, const float *y, const float *dy,
                                         size_t count) {
    size_t i;
    for (i = 0; i < count; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    return SCN_OK;
}

static scn_status scn__cpu_mul(float *y, const float *x, const float *mask, size_t count) {
    size_t i;
    for (i = 0; i < count; i++) y[i] = x[i] * mask[i];
    return SCN_OK;
}

static scn_status scn__cpu_broadcast(float *A, int rows, int cols, const float *b,
                                     int by_col) {
    int i, j;
    for (i = 0; i < rows; i++)
        for (j = 0; j < cols; j++) A[(size_t)i * cols + j] = by_col ? b[j] : b[i];
    return SCN_OK;
}

/* sums in double, added to out once */
static scn_status scn__cpu_sum_add(float *out, const float *A, int rows, int cols,
                                   int by_col) {
    int i, j;
    if (!by_col) {
        for (i = 0; i < rows; i++) {
            double s = 0.0;
            for (j = 0; j < cols; j++) s += A[(size_t)i * cols + j];
            out[i] += (float)s;
        }
        return SCN_OK;
    }
    for (j = 0; j < cols; j++) {
        double s = 0.0;
        for (i = 0; i < rows; i++) s += A[(size_t)i * cols + j];
        out[j] += (float)s;
    }
    return SCN_OK;
}

static scn_status scn__cpu_dot(const float *x, const float *y, size_t count, double *out) {
    double s = 0.0;
    size_t i;
    for (i = 0; i < count; i++) s += (double)x[i] * y[i];
    *out = s;
    return SCN_OK;
}

static scn_status scn__cpu_sparsity(const float *x, size_t count, size_t *nonzero,
                                    double *abs_sum) {
    size_t i, nz = 0;
    double a = 0.0;
    for (i = 0; i < count; i++) {
        nz += x[i] != 0.0f;
        a += fabs((double)x[i]);
    }
    *nonzero = nz;
    *abs_sum = a;
    return SCN_OK;
}

static scn_status scn__cpu_find_nonfinite(const float *x, size_t count, size_t *where) {
    if (scn__all_finite(x, count, where)) *where = count;
    return SCN_OK;
}

static scn_status scn__cpu_bn_forward(const scn_bn_args *a, const float *x, float *y,
                                      const float *gamma, const float *beta, float *running,
                                      float *xhat, float *inv, int train) {
    size_t hw = (size_t)a->HW, M = (size_t)a->N * hw;
    int c;
    SCN__OMP(parallel for schedule(static) if (M * a->C > SCN__OMP_MIN)
             num_threads(scn__threads()))
    for (c = 0; c < a->C; c++) {
        double mean = 0.0, var = 0.0;
        float g = gamma[c], b = beta[c];
        size_t i;
        int n;
        if (train) {
            for (n = 0; n < a->N; n++) {
                const float *p = x + ((size_t)n * a->C + c) * hw;
                for (i = 0; i < hw; i++) mean += p[i];
            }
            mean /= (double)M;
            for (n = 0; n < a->N; n++) {
                const float *p = x + ((size_t)n * a->C + c) * hw;
                for (i = 0; i < hw; i++) var += (p[i] - mean) * (p[i] - mean);
            }
            var /= (double)M;
            running[c] += a->momentum * ((float)mean - running[c]);
            running[a->C + c] += a->momentum *
                ((float)(var * M / (M - 1)) - running[a->C + c]);
        } else {
            mean = running[c];
            var = running[a->C + c];
        }
        inv[c] = (float)(1.0 / sqrt(var + a->eps));
        for (n = 0; n < a->N; n++) {
            size_t o = ((size_t)n * a->C + c) * hw;
            for (i = 0; i < hw; i++) {
                float h = (float)((x[o + i] - mean) * inv[c]);
                xhat[o + i] = h;
                y[o + i] = g * h + b;
            }
        }
    }
    return SCN_OK;
}

static scn_status scn__cpu_bn_backward(const scn_bn_args *a, const float *dy,
                                       const float *xhat, const float *inv,
                                       const float *gamma, float *dgamma, float *dbeta,
                                       float *dx) {
    size_t hw = (size_t)a->HW, M = (size_t)a->N * hw;
    int c;
    SCN__OMP(parallel for schedule(static) if (M * a->C > SCN__OMP_MIN)
             num_threads(scn__threads()))
    for (c = 0; c < a->C; c++) {
        double dg = 0.0, db = 0.0;
        size_t i;
        int n;
        for (n = 0; n < a->N; n++) {
            size_t o = ((size_t)n * a->C + c) * hw;
            for (i = 0; i < hw; i++) { dg += dy[o + i] * xhat[o + i]; db += dy[o + i]; }
        }
        dgamma[c] += (float)dg;
        dbeta[c] += (float)db;
        if (!dx) continue;
        for (n = 0; n < a->N; n++) {
            size_t o = ((size_t)n * a->C + c) * hw;
            for (i = 0; i < hw; i++)
                dx[o + i] = (float)(gamma[c] * inv[c] / (double)M *
                                    (M * (double)dy[o + i] - db - xhat[o + i] * dg));
        }
    }
    return SCN_OK;
}

static scn_status scn__cpu_maxpool(const scn_pool_args *a, const float *x, float *y, int *arg) {
    size_t planes = (size_t)a->N * a->C, pl, hw = (size_t)a->H * a->W;
    for (pl = 0; pl < planes; pl++) {
        const float *in = x + pl * hw;
        int oy, ox, i, j;
        for (oy = 0; oy < a->Ho; oy++)
            for (ox = 0; ox < a->Wo; ox++) {
                int best = (oy * a->stride) * a->W + ox * a->stride;
                for (i = 0; i < a->kh; i++)
                    for (j = 0; j < a->kw; j++) {
                        int at = (oy * a->stride + i) * a->W + ox * a->stride + j;
                        if (in[at] > in[best]) best = at;
                    }
                arg[(pl * a->Ho + oy) * a->Wo + ox] = best;
                y[(pl * a->Ho + oy) * a->Wo + ox] = in[best];
            }
    }
    return SCN_OK;
}

static scn_status scn__cpu_maxpool_backward(const scn_pool_args *a, const float *dy,
                                            const int *arg, float *dx) {
    size_t planes = (size_t)a->N * a->C, pl, o, ohw = (size_t)a->Ho * a->Wo;
    size_t hw = (size_t)a->H * a->W;
    memset(dx, 0, planes * hw * sizeof *dx);
    for (pl = 0; pl < planes; pl++)
        for (o = 0; o < ohw; o++) dx[pl * hw + arg[pl * ohw + o]] += dy[pl * ohw + o];
    return SCN_OK;
}

/* window sums in double */
static scn_status scn__cpu_avgpool(const scn_pool_args *a, const float *x, float *y) {
    size_t planes = (size_t)a->N * a->C, pl, hw = (size_t)a->H * a->W;
    double area = (double)a->kh * a->kw;
    for (pl = 0; pl < planes; pl++) {
        const float *in = x + pl * hw;
        int oy, ox, i, j;
        for (oy = 0; oy < a->Ho; oy++)
            for (ox = 0; ox < a->Wo; ox++) {
                double s = 0.0;
                for (i = 0; i < a->kh; i++)
                    for (j = 0; j < a->kw; j++)
                        s += in[(oy * a->stride + i) * a->W + ox * a->stride + j];
                y[(pl * a->Ho + oy) * a->Wo + ox] = (float)(s / area);
            }
    }
    return SCN_OK;
}

static scn_status scn__cpu_avgpool_backward(const scn_pool_args *a, const float *dy,
                                            float *dx) {
    size_t planes = (size_t)a->N * a->C, pl, hw = (size_t)a->H * a->W;
    float area = (float)a->kh * (float)a->kw;
    memset(dx, 0, planes * hw * sizeof *dx);
    for (pl = 0; pl < planes; pl++) {
        float *out = dx + pl * hw;
        int oy, ox, i, j;
        for (oy = 0; oy < a->Ho; oy++)
            for (ox = 0; ox < a->Wo; ox++) {
                float g = dy[(pl * a->Ho + oy) * a->Wo + ox] / area;
                for (i = 0; i < a->kh; i++)
                    for (j = 0; j < a->kw; j++)
                        out[(oy * a->stride + i) * a->W + ox * a->stride + j] += g;
            }
    }
    return SCN_OK;
}

static scn_status scn__cpu_sgd_update(float *SCN__RESTRICT w, const float *SCN__RESTRICT g,
                                      float *SCN__RESTRICT v, size_t count, float lr,
                                      float momentum, float decay, int nesterov) {
    size_t j;
    if (nesterov) {
        for (j = 0; j < count; j++) {
            float d = g[j] + decay * w[j];
            v[j] = momentum * v[j] + d;
            w[j] -= lr * (d + momentum * v[j]);
        }
        return SCN_OK;
    }
    for (j = 0; j < count; j++) {
        v[j] = momentum * v[j] + (g[j] + decay * w[j]);
        w[j] -= lr * v[j];
    }
    return SCN_OK;
}

static scn_status scn__cpu_clamp_min(float *x, size_t count, float lo) {
    size_t i;
    for (i = 0; i < count; i++) if (x[i] < lo) x[i] = lo;
    return SCN_OK;
}

static scn_status scn__cpu_col_norm_clip(float *D, int m, int n, float max_norm) {
    int i, j;
    for (j = 0; j < n; j++) {
        double s = 0.0;
        for (i = 0; i < m; i++) s += (double)D[(size_t)i * n + j] * D[(size_t)i * n + j];
        if (s > (double)max_norm * max_norm) {
            float scale = (float)(max_norm / sqrt(s));
            for (i = 0; i < m; i++) D[(size_t)i * n + j] *= scale;
        }
    }
    return SCN_OK;
}

static scn_status scn__cpu_shrink(float *z, const float *u, const float *theta, int rows,
                                  int cols) {
    int i, j;
    for (i = 0; i < rows; i++) {
        float t = theta[i];
        for (j = 0; j < cols; j++) {
            float v = u[(size_t)i * cols + j];
            z[(size_t)i * cols + j] = v > t ? v - t : v < -t ? v + t : 0.0f;
        }
    }
    return SCN_OK;
}

static scn_status scn__cpu_shrink_backward(float *du, float *dtheta, const float *z,
                                           const float *dz, int rows, int cols) {
    int i, j;
    for (i = 0; i < rows; i++) {
        double sum = 0.0;
        for (j = 0; j < cols; j++) {
            size_t at = (size_t)i * cols + j;
            float zz = z[at];
            du[at] = zz != 0.0f ? dz[at] : 0.0f;
            sum += zz > 0.0f ? dz[at] : zz < 0.0f ? -dz[at] : 0.0f;
        }
        dtheta[i] -= (float)sum;
    }
    return SCN_OK;
}

/* The k-th largest of a[0..n) (1 <= k <= n), a reordered: Hoare's
 * selection with a median-of-three pivot. */
static float scn__kth_largest(float *a, int n, int k) {
    int lo = 0, hi = n - 1, want = k - 1;
    while (lo < hi) {
        int i = lo, j = hi, mid = lo + (hi - lo) / 2;
        float x = a[lo], y = a[mid], z = a[hi], pivot, t;
        pivot = x > y ? (y > z ? y : x > z ? z : x) : (x > z ? x : y > z ? z : y);
        while (i <= j) {
            while (a[i] > pivot) i++;
            while (a[j] < pivot) j--;
            if (i <= j) { t = a[i]; a[i] = a[j]; a[j] = t; i++; j--; }
        }
        if (want <= j) hi = j;
        else if (want >= i) lo = i;
        else break;
    }
    return a[want];
}

static scn_status scn__cpu_top_s(float *A, int rows, int cols, int s, int by_col) {
    int lines = by_col ? cols : rows, len = by_col ? rows : cols, r, i;
    size_t step = by_col ? (size_t)cols : 1;
    float *mag;
    if (s >= len) return SCN_OK;
    if (!(mag = (float *)scn__calloc((size_t)len, sizeof(float), "projection")))
        return SCN_ERR_NOMEM;
    for (r = 0; r < lines; r++) {
        float *a = A + (by_col ? (size_t)r : (size_t)r * cols), t;
        int above = 0, ties;
        for (i = 0; i < len; i++) mag[i] = fabsf(a[i * step]);
        t = s > 0 ? scn__kth_largest(mag, len, s) : INFINITY;
        for (i = 0; i < len; i++) above += fabsf(a[i * step]) > t;
        ties = s - above;           /* entries equal to t that fit, first come */
        for (i = 0; i < len; i++) {
            float v = fabsf(a[i * step]);
            if (v > t) continue;
            if (v == t && ties > 0) ties--;
            else a[i * step] = 0.0f;
        }
    }
    SCN_FREE(mag);
    return SCN_OK;
}

static scn_status scn__cpu_scal(float *y, float a, size_t count) {
    size_t i;
    for (i = 0; i < count; i++) y[i] *= a;
    return SCN_OK;
}

static scn_status scn__cpu_shrink_all(float *z, const float *u, size_t count, float theta,
                                      float scale, int nonneg) {
    size_t i;
    for (i = 0; i < count; i++) {
        float v = u[i];
        z[i] = scale * (v > theta ? v - theta : !nonneg && v < -theta ? v + theta : 0.0f);
    }
    return SCN_OK;
}

static scn_status scn__cpu_shrink_all_backward(float *du, const float *z, const float *dz,
                                               size_t count, float scale) {
    size_t i;
    for (i = 0; i < count; i++) du[i] = z[i] != 0.0f ? scale * dz[i] : 0.0f;
    return SCN_OK;
}

static scn_status scn__cpu_row_normalize(float *A, int rows, int cols) {
    int i, j;
    for (i = 0; i < rows; i++) {
        float *a = A + (size_t)i * cols;
        double s = 0.0;
        for (j = 0; j < cols; j++) s += (double)a[j] * a[j];
        if (s > 0.0)
            for (j = 0; j < cols; j++) a[j] = (float)(a[j] / sqrt(s));
    }
    return SCN_OK;
}

static scn_status scn__cpu_seg_sumsq(const float *x, int segments, size_t len, double *out) {
    int i;
    size_t j;
    for (i = 0; i < segments; i++) {
        const float *a = x + (size_t)i * len;
        double s = 0.0;
        for (j = 0; j < len; j++) s += (double)a[j] * a[j];
        out[i] = s;
    }
    return SCN_OK;
}

static const scn_backend scn__cpu_backend = {
    "cpu", 1,
    scn__cpu_alloc, scn__cpu_release, scn__cpu_memcpy, scn__cpu_memcpy,
    scn__cpu_gemm, scn__cpu_im2col, scn__cpu_col2im,
    scn__cpu_cols_to_nchw, scn__cpu_nchw_to_cols,
    scn__cpu_en_solve, scn__cpu_en_backward,
    scn__cpu_fill, scn__cpu_copy, scn__cpu_axpy, scn__cpu_relu, scn__cpu_relu_backward,
    scn__cpu_mul, scn__cpu_broadcast, scn__cpu_sum_add, scn__cpu_dot,
    scn__cpu_sparsity, scn__cpu_find_nonfinite,
    scn__cpu_bn_forward, scn__cpu_bn_backward,
    scn__cpu_maxpool, scn__cpu_maxpool_backward, scn__cpu_avgpool,
    scn__cpu_avgpool_backward,
    scn__cpu_sgd_update, scn__cpu_clamp_min, scn__cpu_col_norm_clip,
    scn__cpu_shrink, scn__cpu_shrink_backward, scn__cpu_top_s, scn__cpu_gemm_sparse_a,
    scn__cpu_scal, scn__cpu_shrink_all, scn__cpu_shrink_all_backward, scn__cpu_row_normalize,
    scn__cpu_seg_sumsq
};

static const scn_backend *scn__backend = &scn__cpu_backend;

SCNDEF const scn_backend *scn_backend_cpu(void) { return &scn__cpu_backend; }
SCNDEF const scn_backend *scn_backend_get(void) { return scn__backend; }
SCNDEF void scn_backend_set(const scn_backend *be) {
    scn__backend = be ? be : &scn__cpu_backend;
}


#ifdef SCN_MPI
/* ======================================================================
 * 17. Distributed training over MPI
 * ====================================================================== */

/* An MPI return code as a status; the message names the call. */
static scn_status scn__mpi_rc(int rc, const char *call) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (rc == MPI_SUCCESS) return SCN_OK;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS) len = 0;
    msg[len] = '\0';
    return scn__fail(SCN_ERR_IO, "%s failed: %s", call, msg);
}

SCNDEF scn_status scn_mpi_init(scn_mpi *m, MPI_Comm comm, const scn_mpi_desc *desc) {
    scn_status s;
    SCN_ASSERT(m);
    memset(m, 0, sizeof *m);
    if ((s = scn__mpi_rc(MPI_Comm_dup(comm, &m->comm), "MPI_Comm_dup"))) return s;
    MPI_Comm_set_errhandler(m->comm, MPI_ERRORS_RETURN);
    MPI_Comm_rank(m->comm, &m->rank);
    MPI_Comm_size(m->comm, &m->size);
    if (desc) m->desc = *desc;
    if (!m->desc.bn_local || m->desc.shards == 0) m->desc.shards = m->size;
    if (m->desc.shards < 0 || m->desc.shards % m->size)
        return scn__fail(SCN_ERR_ARG, "%d shards do not split over %d ranks (need a "
                         "multiple)", m->desc.shards, m->size);
    return SCN_OK;
}

SCNDEF void scn_mpi_free(scn_mpi *m) {
    if (m && m->comm != MPI_COMM_NULL && m->size) MPI_Comm_free(&m->comm);
}

SCNDEF scn_status scn_mpi_agree(scn_mpi *m, scn_status s) {
    char msg[512];
    int me = s ? m->rank : m->size, first = m->size, code = (int)s;
    scn_status e;
    SCN_ASSERT(m);
    if ((e = scn__mpi_rc(MPI_Allreduce(&me, &first, 1, MPI_INT, MPI_MIN, m->comm),
                         "MPI_Allreduce")))
        return e;
    if (first == m->size) return SCN_OK;
    snprintf(msg, sizeof msg, "%s", s ? scn_error() : "");
    if ((e = scn__mpi_rc(MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, first, m->comm),
                         "MPI_Bcast")) ||
        (e = scn__mpi_rc(MPI_Bcast(&code, 1, MPI_INT, first, m->comm), "MPI_Bcast")))
        return e;
    m->shared = 1;
    msg[sizeof msg - 1] = '\0';
    return scn__fail((scn_status)code, "rank %d: %s", first, msg);
}

/* Broadcasts n bytes from rank 0, in pieces MPI's int counts can hold. */
static scn_status scn__mpi_bcast(scn_mpi *m, void *p, size_t n) {
    unsigned char *b = (unsigned char *)p;
    while (n > 0) {
        int part = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        scn_status s = scn__mpi_rc(MPI_Bcast(b, part, MPI_BYTE, 0, m->comm), "MPI_Bcast");
        if (s) return s;
        b += part;
        n -= (size_t)part;
    }
    return SCN_OK;
}

/* The training state from rank 0, its mean image (an owned pointer) as
 * values: a rank's own is replaced by rank 0's, or dropped if it has none. */
static scn_status scn__mpi_sync_state(scn_mpi *m, scn_train_state *st) {
    float *mine = st->pixel_mean;
    unsigned long long own = st->pixel_mean ? st->pixel_count : 0, count = own;
    scn_status s = SCN_OK;
    s = scn__mpi_bcast(m, st, sizeof *st);
    st->pixel_mean = mine;              /* rank 0's address means nothing here */
    st->pixel_count = (size_t)own;
    if (s || (s = scn__mpi_bcast(m, &count, sizeof count))) return s;
    if (m->rank != 0 && own != count) {
        SCN_FREE(mine);
        st->pixel_mean = count ? (float *)scn__calloc((size_t)count, sizeof(float),
                                                      "mean image") : NULL;
        s = count && !st->pixel_mean ? SCN_ERR_NOMEM : SCN_OK;
    }
    if ((s = scn_mpi_agree(m, s))) return s;
    st->pixel_count = (size_t)count;
    return count ? scn__mpi_bcast(m, st->pixel_mean, (size_t)count * sizeof(float)) : SCN_OK;
}

SCNDEF scn_status scn_mpi_sync(scn_mpi *m, scn_net *net, scn_sgd *opt, scn_train_state *st) {
    unsigned long long mine[2], root[2];
    scn_status s = SCN_OK;
    SCN_ASSERT(m && net);
    mine[0] = root[0] = net->nparams;
    mine[1] = root[1] = net->nbuffers;
    if (!net->be->host_memory)
        s = scn__fail(SCN_ERR_ARG, "distributed training needs a backend with host memory "
                      "(%s has none)", net->be->name);
    if ((s = scn_mpi_agree(m, s)) || (s = scn__mpi_bcast(m, root, sizeof root))) return s;
    if (mine[0] != root[0] || mine[1] != root[1])
        s = scn__fail(SCN_ERR_ARG, "the net has %llu parameters and %llu buffers; rank 0's "
                      "has %llu and %llu", mine[0], mine[1], root[0], root[1]);
    if (!s && opt && opt->count != net->nparams)
        s = scn__fail(SCN_ERR_ARG, "the optimiser holds %zu values for %zu parameters",
                      opt->count, net->nparams);
    if ((s = scn_mpi_agree(m, s)) ||
        (s = scn__mpi_bcast(m, net->params, net->nparams * sizeof(float))) ||
        (s = scn__mpi_bcast(m, net->buffers, net->nbuffers * sizeof(float))) ||
        (s = scn__mpi_bcast(m, &net->rng, sizeof net->rng)))
        return s;
    if (opt && ((s = scn__mpi_bcast(m, &opt->desc, sizeof opt->desc)) ||
                (s = scn__mpi_bcast(m, &opt->steps, sizeof opt->steps)) ||
                (s = scn__mpi_bcast(m, opt->velocity, opt->count * sizeof(float)))))
        return s;
    return st ? scn__mpi_sync_state(m, st) : SCN_OK;
}

/* PCG32 jumped ahead by delta draws in O(log delta) steps (Brown,
 * "Random number generation with arbitrary strides", 1994; O'Neill's
 * pcg32_advance). */
static scn_rng scn__rng_advance(scn_rng r, uint64_t delta) {
    uint64_t mul = 6364136223846793005ULL, add = r.inc, acc_mul = 1, acc_add = 0;
    while (delta) {
        if (delta & 1) {
            acc_mul *= mul;
            acc_add = acc_add * mul + add;
        }
        add = (mul + 1) * add;
        mul *= mul;
        delta >>= 1;
    }
    r.state = acc_mul * r.state + acc_add;
    return r;
}

static int scn__is_dropout(const scn__layer *l) {
    return !strcmp(l->kind->info.name, "dropout");
}

/* Points each dropout layer at its own generator in gens, jumped from
 * start to the draw one process makes for item `first` of a batch of B
 * (layers draw in turn, one value at a time); NULL gens points them back
 * at the net's. Returns the draws of the whole batch. */
static uint64_t scn__mpi_dropout_place(scn_net *net, scn_rng *gens, const scn_rng *start,
                                       int B, int first) {
    uint64_t before = 0;
    int i, j = 0;
    for (i = 0; i < net->count; i++) {
        scn__layer *l = net->all[i];
        uint64_t size = scn__in_size(l);
        if (!scn__is_dropout(l)) continue;
        if (gens) {
            gens[j] = scn__rng_advance(*start, before + (uint64_t)first * size);
            l->rng = &gens[j++];
        } else {
            l->rng = &net->rng;
        }
        before += (uint64_t)B * size;
    }
    return before;
}

/* Synchronised BN: the step's context, read by the two operations below
 * (the backend table has no user pointer). */
static SCN__TLS scn_mpi *scn__mpi_step;
static SCN__TLS const scn_backend *scn__mpi_base;

/* v[0..n) summed over the ranks in rank order: the same bits everywhere. */
static scn_status scn__mpi_sum(double *v, int n) {
    scn_mpi *m = scn__mpi_step;
    double *all = (double *)scn__calloc((size_t)n * m->size, sizeof(double), "BN");
    scn_status s;
    int i, r;
    if (!all) return SCN_ERR_NOMEM;
    s = scn__mpi_rc(MPI_Allgather(v, n, MPI_DOUBLE, all, n, MPI_DOUBLE, m->comm),
                    "MPI_Allgather (BN statistics)");
    for (i = 0; !s && i < n; i++) {
        double acc = all[i];
        for (r = 1; r < m->size; r++) acc += all[(size_t)r * n + i];
        v[i] = acc;
    }
    SCN_FREE(all);
    return s;
}

/* The CPU backend's bn_forward with each sum taken over every rank's
 * items: the same expressions, so one rank gives the same bits. */
static scn_status scn__mpi_bn_forward(const scn_bn_args *a, const float *x, float *y,
                                      const float *gamma, const float *beta, float *running,
                                      float *xhat, float *inv, int train) {
    size_t hw = (size_t)a->HW, M = (size_t)a->N * hw * scn__mpi_step->size;
    double *sum;
    scn_status s;
    int c;
    if (!train)
        return scn__mpi_base->bn_forward(a, x, y, gamma, beta, running, xhat, inv, train);
    if (!(sum = (double *)scn__calloc(2 * (size_t)a->C, sizeof(double), "BN")))
        return SCN_ERR_NOMEM;
    SCN__OMP(parallel for schedule(static) num_threads(scn__threads()))
    for (c = 0; c < a->C; c++) {
        double mean = 0.0;
        size_t i;
        int n;
        for (n = 0; n < a->N; n++) {
            const float *p = x + ((size_t)n * a->C + c) * hw;
            for (i = 0; i < hw; i++) mean += p[i];
        }
        sum[c] = mean;
    }
    if ((s = scn__mpi_sum(sum, a->C))) goto done;
    for (c = 0; c < a->C; c++) sum[c] /= (double)M;
    SCN__OMP(parallel for schedule(static) num_threads(scn__threads()))
    for (c = 0; c < a->C; c++) {
        double mean = sum[c], var = 0.0;
        size_t i;
        int n;
        for (n = 0; n < a->N; n++) {
            const float *p = x + ((size_t)n * a->C + c) * hw;
            for (i = 0; i < hw; i++) var += (p[i] - mean) * (p[i] - mean);
        }
        sum[a->C + c] = var;
    }
    if ((s = scn__mpi_sum(sum + a->C, a->C))) goto done;
    SCN__OMP(parallel for schedule(static) num_threads(scn__threads()))
    for (c = 0; c < a->C; c++) {
        double mean = sum[c], var = sum[a->C + c] / (double)M;
        float g = gamma[c], b = beta[c];
        size_t i;
        int n;
        running[c] += a->momentum * ((float)mean - running[c]);
        running[a->C + c] += a->momentum * ((float)(var * M / (M - 1)) - running[a->C + c]);
        inv[c] = (float)(1.0 / sqrt(var + a->eps));
        for (n = 0; n < a->N; n++) {
            size_t o = ((size_t)n * a->C + c) * hw;
            for (i = 0; i < hw; i++) {
                float h = (float)((x[o + i] - mean) * inv[c]);
                xhat[o + i] = h;
                y[o + i] = g * h + b;
            }
        }
    }
done:
    SCN_FREE(sum);
    return s;
}

/* The CPU backend's bn_backward with the sums of dy and dy xhat over
 * every rank; dgamma and dbeta receive this rank's share (the gradient
 * exchange adds the shares). */
static scn_status scn__mpi_bn_backward(const scn_bn_args *a, const float *dy,
                                       const float *xhat, const float *inv,
                                       const float *gamma, float *dgamma, float *dbeta,
                                       float *dx) {
    size_t hw = (size_t)a->HW, M = (size_t)a->N * hw * scn__mpi_step->size;
    double *sum = (double *)scn__calloc(2 * (size_t)a->C, sizeof(double), "BN");
    scn_status s;
    int c;
    if (!sum) return SCN_ERR_NOMEM;
    SCN__OMP(parallel for schedule(static) num_threads(scn__threads()))
    for (c = 0; c < a->C; c++) {
        double dg = 0.0, db = 0.0;
        size_t i;
        int n;
        for (n = 0; n < a->N; n++) {
            size_t o = ((size_t)n * a->C + c) * hw;
            for (i = 0; i < hw; i++) { dg += dy[o + i] * xhat[o + i]; db += dy[o + i]; }
        }
        dgamma[c] += (float)dg;
        dbeta[c] += (float)db;
        sum[c] = dg;
        sum[a->C + c] = db;
    }
    if ((s = scn__mpi_sum(sum, 2 * a->C)) || !dx) goto done;
    SCN__OMP(parallel for schedule(static) num_threads(scn__threads()))
    for (c = 0; c < a->C; c++) {
        double dg = sum[c], db = sum[a->C + c];
        size_t i;
        int n;
        for (n = 0; n < a->N; n++) {
            size_t o = ((size_t)n * a->C + c) * hw;
            for (i = 0; i < hw; i++)
                dx[o + i] = (float)(gamma[c] * inv[c] / (double)M *
                                    (M * (double)dy[o + i] - db - xhat[o + i] * dg));
        }
    }
done:
    SCN_FREE(sum);
    return s;
}

/* What one epoch of scn_mpi_train_epoch keeps besides the pass. */
typedef struct scn__mpi_run {
    int B, S, k, n;             /* batch, shards, shards per rank, items per shard */
    size_t L;                   /* floats exchanged per shard */
    float *dlogits;
    float *slots;               /* k shards' blocks (NULL: the gradient block itself) */
    float *send, *recv, *out;   /* the exchange's buffers */
    float *saved;               /* bn_local: the buffers before the step */
    scn_rng *gens;              /* dropout generators */
    double *stats;              /* per shard: status, loss, correct (S x 3) */
    float eps;                  /* label smoothing */
    scn_backend be;             /* synchronised BN: the net's with bn replaced */
    int *counts;                /* 4 x P: the exchange's counts and offsets */
} scn__mpi_run;

static void scn__mpi_run_free(scn__mpi_run *r) {
    SCN_FREE(r->dlogits); SCN_FREE(r->slots); SCN_FREE(r->send); SCN_FREE(r->recv);
    SCN_FREE(r->out); SCN_FREE(r->saved); SCN_FREE(r->gens); SCN_FREE(r->stats);
    SCN_FREE(r->counts);
}

/* Segment j of an L-float block: [L j / P, L (j + 1) / P). */
static size_t scn__mpi_seg(size_t L, int j, int P) { return (size_t)((uint64_t)L * j / P); }

static scn_status scn__mpi_run_start(scn_mpi *m, scn_net *net, scn__mpi_run *r, int B,
                                     int K, float eps) {
    int P = m->size, j;
    size_t seg = 0;
    memset(r, 0, sizeof *r);
    r->B = B;
    r->eps = eps;
    r->S = m->desc.bn_local ? m->desc.shards : P;
    r->k = r->S / P;
    r->n = B / r->S;
    r->L = net->nparams + (m->desc.bn_local ? net->nbuffers : 0);
    if (B % r->S)
        return scn__fail(SCN_ERR_ARG, "a batch of %d does not split into %d equal shards",
                         B, r->S);
    if ((uint64_t)r->L * r->k > (uint64_t)INT_MAX)
        return scn__fail(SCN_ERR_ARG, "%zu floats per rank to exchange: more than MPI's int "
                         "counts hold", r->L * r->k);
    for (j = 0; j < P; j++) {
        size_t len = scn__mpi_seg(r->L, j + 1, P) - scn__mpi_seg(r->L, j, P);
        if (len > seg) seg = len;
    }
    r->dlogits = (float *)scn__calloc((size_t)r->n * K, sizeof(float), "training");
    r->recv = (float *)scn__calloc(seg * r->S + 1, sizeof(float), "training");
    r->gens = (scn_rng *)scn__calloc((size_t)net->count + 1, sizeof(scn_rng), "training");
    r->stats = (double *)scn__calloc((size_t)r->S * 3, sizeof(double), "training");
    r->counts = (int *)scn__calloc(4 * (size_t)P, sizeof(int), "training");
    if (r->k > 1 || m->desc.bn_local) {
        r->slots = (float *)scn__calloc(r->L * r->k + 1, sizeof(float), "training");
        r->send = (float *)scn__calloc(r->L * r->k + 1, sizeof(float), "training");
        r->out = (float *)scn__calloc(r->L + 1, sizeof(float), "training");
        if (!r->slots || !r->send || !r->out) return SCN_ERR_NOMEM;
    }
    if (m->desc.bn_local &&
        !(r->saved = (float *)scn__calloc(net->nbuffers + 1, sizeof(float), "training")))
        return SCN_ERR_NOMEM;
    if (!r->dlogits || !r->recv || !r->gens || !r->stats || !r->counts) return SCN_ERR_NOMEM;
    r->be = *net->be;
    r->be.bn_forward = scn__mpi_bn_forward;
    r->be.bn_backward = scn__mpi_bn_backward;
    return SCN_OK;
}

/* Forward and backward of shard g (items ps->x from g n on), from the
 * step's dropout generator `start`; its block goes to slot `j` (when the
 * run keeps slots) and its status, loss and right answers to stats. */
static scn_status scn__mpi_shard(scn_mpi *m, scn_net *net, scn__pass *ps, scn__mpi_run *r,
                                 const scn_rng *start, int g, int j) {
    int i, correct = 0, first = g * r->n, sync = !m->desc.bn_local;
    double loss = 0.0;
    const float *z;
    scn_status s;
    if (r->saved) memcpy(net->buffers, r->saved, net->nbuffers * sizeof(float));
    net->rng = *start;      /* a draw per batch, not per item, is the same in every shard */
    scn__mpi_dropout_place(net, r->gens, start, r->B, first);
    if (sync) {
        scn__mpi_step = m;
        scn__mpi_base = net->be;
        for (i = 0; i < net->count; i++)
            if (scn__is_bn(net->all[i])) net->all[i]->be = &r->be;
    }
    scn_net_zero_grad(net);
    if (!(z = scn_net_forward(net, ps->x + (size_t)first * ps->item, r->n, 1)))
        s = scn__last_status;
    else if (!(s = scn__smoothed_xent(z, ps->labels + first, r->n, ps->K, r->eps, r->dlogits,
                                      &loss, &correct)))
        s = scn_net_backward(net, r->dlogits, NULL);
    if (sync)
        for (i = 0; i < net->count; i++)
            if (scn__is_bn(net->all[i])) net->all[i]->be = net->be;
    scn__mpi_dropout_place(net, NULL, start, r->B, first);
    if (!s && r->slots) {
        memcpy(r->slots + j * r->L, net->grads, net->nparams * sizeof(float));
        if (m->desc.bn_local)
            memcpy(r->slots + j * r->L + net->nparams, net->buffers,
                   net->nbuffers * sizeof(float));
    }
    r->stats[3 * g] = s;
    r->stats[3 * g + 1] = s ? 0.0 : loss + r->n * scn_net_extra_loss(net);
    r->stats[3 * g + 2] = correct;
    return s;
}

/* Every shard's status, loss and right answers on every rank (each rank
 * fills its own rows of r->stats); any failure shared. */
static scn_status scn__mpi_step_stats(scn_mpi *m, scn__mpi_run *r, scn_status s) {
    scn_status e;
    int g;
    if ((e = scn__mpi_rc(MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, r->stats,
                                       3 * r->k, MPI_DOUBLE, m->comm), "MPI_Allgather")))
        return e;
    for (g = 0; g < r->S; g++)
        if (r->stats[3 * g] != 0.0) return scn_mpi_agree(m, s);
    return SCN_OK;
}

/* The gradient block (and bn_local's buffers) summed over the shards in
 * shard order, times 1/S, on every rank: rank j adds up segment j of
 * every shard's block (MPI_Alltoallv brings them), then MPI_Allgatherv
 * hands each rank's sums to all. */
static scn_status scn__mpi_exchange(scn_mpi *m, scn_net *net, scn__mpi_run *r) {
    int P = m->size, j, g, *sc = r->counts, *sd = sc + P, *rc = sd + P, *rd = rc + P;
    size_t mine0 = scn__mpi_seg(r->L, m->rank, P);
    size_t len = scn__mpi_seg(r->L, m->rank + 1, P) - mine0;
    float scale = 1.0f / (float)r->S, *send = r->slots ? r->send : net->grads;
    float *out = r->slots ? r->out : net->grads, *o = out + mine0;
    size_t e;
    scn_status s;
    for (j = 0; j < P; j++) {
        size_t at = scn__mpi_seg(r->L, j, P), n = scn__mpi_seg(r->L, j + 1, P) - at;
        if (r->slots)
            for (g = 0; g < r->k; g++)
                memcpy(r->send + at * r->k + g * n, r->slots + g * r->L + at,
                       n * sizeof(float));
        sc[j] = (int)(n * r->k);
        sd[j] = (int)(at * r->k);
        rc[j] = (int)(len * r->k);
        rd[j] = (int)(len * r->k * j);
    }
    if ((s = scn__mpi_rc(MPI_Alltoallv(send, sc, sd, MPI_FLOAT, r->recv, rc, rd, MPI_FLOAT,
                                       m->comm), "MPI_Alltoallv (gradients)")))
        return s;
    for (e = 0; e < len; e++) {
        float acc = r->recv[e];
        for (g = 1; g < r->S; g++) acc += r->recv[g * len + e];
        o[e] = acc * scale;
    }
    for (j = 0; j < P; j++) {
        sc[j] = (int)(scn__mpi_seg(r->L, j + 1, P) - scn__mpi_seg(r->L, j, P));
        sd[j] = (int)scn__mpi_seg(r->L, j, P);
    }
    if ((s = scn__mpi_rc(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_FLOAT, out, sc, sd, MPI_FLOAT,
                                        m->comm), "MPI_Allgatherv (gradients)")))
        return s;
    if (r->slots) {
        memcpy(net->grads, out, net->nparams * sizeof(float));
        if (m->desc.bn_local)
            memcpy(net->buffers, out + net->nparams, net->nbuffers * sizeof(float));
    }
    return SCN_OK;
}

/* One step: every rank reads and augments the whole batch, runs its
 * shards, agrees, exchanges and steps. */
static scn_status scn__mpi_train_step(scn_mpi *m, scn_net *net, scn_sgd *opt, scn_dataset *ds,
                                      scn_train_state *st, const scn_train_desc *desc,
                                      scn__pass *ps, scn__mpi_run *r, int step, float lr) {
    scn_rng start;
    double t0;
    scn_status s;
    int j;
    s = scn__pass_read(ps, ds, st, step, r->B);
    if (!s) s = scn__pass_augment(ps->x, r->B, ds, desc, &st->rng);
    if ((s = scn_mpi_agree(m, s))) return s;
    start = net->rng;
    if (r->saved) memcpy(r->saved, net->buffers, net->nbuffers * sizeof(float));
    for (j = 0; !s && j < r->k; j++)
        s = scn__mpi_shard(m, net, ps, r, &start, m->rank * r->k + j, j);
    if (s && !m->desc.bn_local) {
        m->shared = 0;      /* the others may wait in a BN collective: see section 17 */
        return s;
    }
    if ((s = scn__mpi_step_stats(m, r, s))) return s;
    net->rng = scn__rng_advance(start, scn__mpi_dropout_place(net, NULL, &start, r->B, 0));
    t0 = MPI_Wtime();
    s = scn__mpi_exchange(m, net, r);
    m->comm_seconds += MPI_Wtime() - t0;
    if (!s) s = scn_sgd_step(opt, net, lr);
    return s;
}

SCNDEF scn_status scn_mpi_train_epoch(scn_mpi *m, scn_net *net, scn_sgd *opt,
                                      scn_dataset *ds, scn_train_state *st,
                                      const scn_train_desc *desc, scn_pass_result *result) {
    int batch = desc && desc->batch > 0 ? desc->batch : 64, step = 0, g;
    scn_train_desc quiet;
    scn__mpi_run r;
    scn__pass ps;
    scn_status s;
    float lr;
    SCN_ASSERT(m && net && opt && ds && st);
    memset(&r, 0, sizeof r);
    memset(&ps, 0, sizeof ps);
    lr = scn_sgd_lr(opt, st->epoch);
    if (desc) quiet = *desc;
    else memset(&quiet, 0, sizeof quiet);
    if (m->rank) quiet.progress = NULL;     /* progress from rank 0 only */
    m->shared = 0;
    if (desc && desc->mu > 0.0f)
        s = scn__fail(SCN_ERR_ARG, "semi-supervised epochs (mu %g) are not distributed",
                      desc->mu);
    else if (!net->be->host_memory)
        s = scn__fail(SCN_ERR_ARG, "distributed training needs a backend with host memory");
    else if (scn__pca_unfitted(net))    /* every rank the same basis from the same items */
        s = scn_pca_fit(net, ds, st, &quiet);
    else
        s = SCN_OK;
    if (!s && !(s = scn__pass_start(&ps, net, ds, desc, batch, batch, 1)))
        s = scn__mpi_run_start(m, net, &r, batch, ps.K, quiet.label_smoothing);
    if ((s = scn_mpi_agree(m, s))) goto done;
    ps.p.epoch = st->epoch;
    scn_shuffle(ps.items, ps.count, &st->rng);
    for (step = 0; step < ps.p.steps; step++) {
        double t0 = MPI_Wtime(), loss = 0.0;
        int correct = 0;
        if ((s = scn__mpi_train_step(m, net, opt, ds, st, desc, &ps, &r, step, lr))) break;
        st->step++;
        for (g = 0; g < r.S; g++) {
            loss += r.stats[3 * g + 1];
            correct += (int)r.stats[3 * g + 2];
        }
        m->step_seconds += MPI_Wtime() - t0;
        m->steps++;
        scn__pass_report(&ps, &quiet, batch, correct, loss);
    }
    if (!s && (s = scn_net_project(net))) step = ps.p.steps - 1;     /* as scn_train_epoch */
    if (!s) {
        st->epoch++;
        scn__pass_result(&ps, result);
    } else {
        scn__fail(s, "epoch %d step %d: %s", st->epoch + 1, step + 1, scn_error());
    }
done:
    scn__mpi_run_free(&r);
    scn__pass_free(&ps);
    return s;
}

#ifndef SCN_NO_STDIO
SCNDEF scn_status scn_mpi_checkpoint_save(scn_mpi *m, const char *path, const scn_net *net,
                                          const scn_sgd *opt, const scn_train_state *st) {
    SCN_ASSERT(m);
    return scn_mpi_agree(m, m->rank ? SCN_OK : scn_checkpoint_save(path, net, opt, st));
}

SCNDEF scn_net *scn_mpi_checkpoint_load(scn_mpi *m, const char *path, scn_sgd *opt,
                                        scn_train_state *st) {
    scn_net *net = NULL;
    unsigned char *bytes = NULL;
    unsigned long long len = 0;
    size_t n = 0;
    scn_status s = SCN_OK;
    SCN_ASSERT(m);
    if (!m->rank) {
        if (!(net = scn_checkpoint_load(path, opt, st))) s = scn__last_status;
        else s = scn_checkpoint_encode(net, opt, st, &bytes, &n);
    }
    len = n;
    if ((s = scn_mpi_agree(m, s)) || (s = scn__mpi_bcast(m, &len, sizeof len))) goto done;
    if (m->rank && !(bytes = (unsigned char *)scn__calloc((size_t)len + 1, 1, "checkpoint")))
        s = SCN_ERR_NOMEM;
    if ((s = scn_mpi_agree(m, s))) goto done;
    s = scn__mpi_bcast(m, bytes, (size_t)len);
    if (!s && m->rank && !(net = scn_checkpoint_decode(bytes, (size_t)len, path, opt, st)))
        s = scn__last_status;
    if (!(s = scn_mpi_agree(m, s))) s = scn_mpi_sync(m, net, opt, st);
done:
    scn_mem_free(bytes);
    if (s) {
        if (net && opt) scn_sgd_free(opt);
        scn_net_free(net);
        return NULL;
    }
    return net;
}
#endif
#endif /* SCN_MPI */

#endif /* SCN__IMPLEMENTED */
#endif /* SCN_IMPLEMENTATION */
