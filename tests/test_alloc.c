/* test_alloc.c - allocation-failure injection (scn.h, CONFIGURATION:
 * SCN_MALLOC, SCN_REALLOC, SCN_FREE).
 *
 * The library is built here on a counting allocator that makes the k-th
 * allocation call (malloc, or realloc to a nonzero size) return NULL and
 * keeps every live block on a list (its size and the file and line of the
 * SCN_MALLOC/SCN_REALLOC that made it). A representative workload (open
 * an IDX, a gzipped IDX and a two-batch CIFAR-10 data set by detection,
 * statistics, per-class subset, read, normalise, augment; build a net with
 * every layer kind, one SGD training step, checkpoint save and load, an
 * eval forward of the loaded net; .npy save and load; the elastic-net
 * solver and its backward pass, with and without a workspace) is run for
 * k = 1, 2, ... until a run makes fewer than k allocations. Every run must
 * either stop cleanly or complete:
 *   - the call that met the failure returns NULL / an error status
 *     (SCN_ERR_NOMEM where it returns a status) and scn_error() says that
 *     memory ran out; tried again (nothing fails any more) it succeeds,
 *     so the failure left nothing half-made; the workload then frees what
 *     it holds and stops;
 *   - a call that succeeds must not have had an allocation fail under it
 *     (a failure silently survived is reported), except the documented
 *     fallback: scn_en_kkt's -1 in scn_solve_info.kkt (GEMM has none: a
 *     packing buffer it cannot get is an error).
 * After every run no block may be live: a leak is reported with k and the
 * sites of the leaked blocks. The sweep runs on one thread (deterministic),
 * then every seventh k on up to 4 threads (a failure in a parallel region
 * must still reach the caller), then one plain run on all threads.
 * `bin/test_alloc -k K` runs only k = K on one thread and prints every
 * failed call; in gdb, `break ta_hit` stops at the failing allocation
 * (the first hit is scn_gemm's, found before the workload).
 * The data files are written once, before the sweep, into a mkdtemp
 * directory under /tmp.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------
 * The counting allocator
 * --------------------------------------------------------------------- */

typedef struct ta_block {
    struct ta_block *prev, *next;
    size_t size;
    const char *file;
    int line;
    unsigned magic;
    long call;                      /* the allocation call that made it */
} ta_block;

#define TA_HDR ((sizeof(ta_block) + 15) & ~(size_t)15)
#define TA_LIVE 0x5ca110cu
#define TA_DEAD 0xdeadb10cu

static ta_block ta_head = { &ta_head, &ta_head, 0, NULL, 0, 0, 0 };
static char ta_flag;                /* spin lock over the list and counters */
static long ta_calls;               /* allocation calls since ta_arm */
static long ta_fail_at;             /* the call that fails; 0: none */
static long ta_failed;              /* calls made to fail */
static const char *ta_fail_file;    /* where the failed call was */
static int ta_fail_line;
static long ta_live, ta_live_bytes; /* blocks and bytes live */
static long ta_bad_frees;           /* frees of pointers not ours */
static long ta_watch;               /* -w N: ta_hit at call N too (no failure) */

static void ta_lock(void) {
    while (__atomic_test_and_set(&ta_flag, __ATOMIC_ACQUIRE)) {}
}
static void ta_unlock(void) { __atomic_clear(&ta_flag, __ATOMIC_RELEASE); }

/* called when the injected failure happens (and at call ta_watch): `break
 * ta_hit` in gdb, with `bin/test_alloc -k K [-w N]`, shows who made it */
__attribute__((noinline)) static void ta_hit(void) { __asm__ volatile(""); }

/* 1 if this allocation call is the one to fail */
static int ta_should_fail(const char *file, int line) {
    long n = __atomic_add_fetch(&ta_calls, 1, __ATOMIC_SEQ_CST);
    if (n == ta_watch) ta_hit();
    if (n != __atomic_load_n(&ta_fail_at, __ATOMIC_SEQ_CST)) return 0;
    ta_hit();
    ta_lock();
    ta_failed++;
    ta_fail_file = file;
    ta_fail_line = line;
    ta_unlock();
    return 1;
}

static void ta_link(ta_block *b, size_t size, const char *file, int line) {
    b->size = size;
    b->file = file;
    b->line = line;
    b->magic = TA_LIVE;
    b->call = __atomic_load_n(&ta_calls, __ATOMIC_SEQ_CST);
    ta_lock();
    b->next = ta_head.next;
    b->prev = &ta_head;
    ta_head.next->prev = b;
    ta_head.next = b;
    ta_live++;
    ta_live_bytes += (long)size;
    ta_unlock();
}

/* unlinks the block of user pointer p; NULL if p is not a live block */
static ta_block *ta_unlink(void *p) {
    ta_block *b = (ta_block *)(void *)((char *)p - TA_HDR);
    ta_lock();
    if (b->magic != TA_LIVE) {
        ta_bad_frees++;
        ta_unlock();
        return NULL;
    }
    b->magic = TA_DEAD;
    b->prev->next = b->next;
    b->next->prev = b->prev;
    ta_live--;
    ta_live_bytes -= (long)b->size;
    ta_unlock();
    return b;
}

/* a block of size bytes, not counted as a call */
static void *ta_raw(size_t size, const char *file, int line) {
    ta_block *b;
    if (size > (size_t)-1 - TA_HDR) return NULL;
    b = (ta_block *)malloc(TA_HDR + size);
    if (!b) return NULL;
    ta_link(b, size, file, line);
    return (char *)b + TA_HDR;
}

static void *ta_malloc(size_t size, const char *file, int line) {
    if (size && ta_should_fail(file, line)) return NULL;
    return ta_raw(size, file, line);
}

static void ta_free(void *p) {
    ta_block *b;
    if (!p) return;
    b = ta_unlink(p);
    if (b) free(b);
}

/* realloc(p, 0) gives an empty block (and frees p), counted as no call */
static void *ta_realloc(void *p, size_t size, const char *file, int line) {
    void *q;
    size_t old;
    if (!p) return ta_malloc(size, file, line);
    if (size && ta_should_fail(file, line)) return NULL;   /* p stays valid */
    q = ta_raw(size, file, line);
    if (!q) return NULL;
    old = ((ta_block *)(void *)((char *)p - TA_HDR))->size;
    memcpy(q, p, old < size ? old : size);
    ta_free(p);
    return q;
}

#define SCN_MALLOC(sz)     ta_malloc((sz), __FILE__, __LINE__)
#define SCN_REALLOC(p, sz) ta_realloc((p), (sz), __FILE__, __LINE__)
#define SCN_FREE(p)        ta_free(p)

#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "check.h"

#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static char dir[64], idx_dir[96], gz_dir[96], cifar_dir[96], ckpt_path[128], npy_path[128];

/* ---------------------------------------------------------------------
 * The data sets, written once
 * --------------------------------------------------------------------- */

#define IDX_N 20
#define CIFAR_N1 12
#define CIFAR_N2 8
#define CIFAR_NT 5

static void be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}
static void le32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}

static int spit(const char *d, const char *name, const unsigned char *b, size_t n) {
    char path[256];
    FILE *f;
    size_t w;
    snprintf(path, sizeof path, "%s/%s", d, name);
    f = fopen(path, "wb");
    if (!f) return 0;
    w = fwrite(b, 1, n, f);
    return (fclose(f) == 0) & (w == n);
}

/* data[0..n) as a gzip file of stored deflate blocks */
static size_t gz_stored(unsigned char *out, const unsigned char *data, size_t n) {
    size_t p = 0, done = 0, block = 300;
    out[p++] = 0x1f; out[p++] = 0x8b; out[p++] = 8; out[p++] = 0;
    le32(out + p, 0); p += 4;
    out[p++] = 0; out[p++] = 3;
    do {
        size_t len = n - done < block ? n - done : block;
        out[p++] = (unsigned char)(done + len == n);
        out[p++] = (unsigned char)len; out[p++] = (unsigned char)(len >> 8);
        out[p++] = (unsigned char)~len; out[p++] = (unsigned char)(~len >> 8);
        memcpy(out + p, data + done, len);
        p += len;
        done += len;
    } while (done < n);
    le32(out + p, scn_crc32(0, data, n)); p += 4;
    le32(out + p, (uint32_t)n); p += 4;
    return p;
}

static int write_idx(const char *d, const char *prefix, int count, int gz) {
    unsigned char img[16 + IDX_N * 64], lab[8 + IDX_N], out[2 * (16 + IDX_N * 64) + 64];
    char name[64];
    size_t n;
    int i, p, ok = 1;
    be32(img, 0x803); be32(img + 4, (uint32_t)count); be32(img + 8, 8); be32(img + 12, 8);
    be32(lab, 0x801); be32(lab + 4, (uint32_t)count);
    for (i = 0; i < count; i++) {
        lab[8 + i] = (unsigned char)(i % 10);
        for (p = 0; p < 64; p++)
            img[16 + i * 64 + p] =
                (unsigned char)((p % 10 == i % 10 ? 200 : 20) + (i * 7 + p * 3) % 40);
    }
    snprintf(name, sizeof name, "%s-images-idx3-ubyte%s", prefix, gz ? ".gz" : "");
    n = gz ? gz_stored(out, img, 16 + (size_t)count * 64) : 16 + (size_t)count * 64;
    ok &= spit(d, name, gz ? out : img, n);
    snprintf(name, sizeof name, "%s-labels-idx1-ubyte%s", prefix, gz ? ".gz" : "");
    n = gz ? gz_stored(out, lab, 8 + (size_t)count) : 8 + (size_t)count;
    ok &= spit(d, name, gz ? out : lab, n);
    return ok;
}

static int write_cifar(const char *name, int count, int first) {
    unsigned char *b = (unsigned char *)malloc((size_t)count * 3073);
    int i, j, ok;
    if (!b) return 0;
    for (i = 0; i < count; i++) {
        b[(size_t)i * 3073] = (unsigned char)((first + i) % 10);
        for (j = 0; j < 3072; j++)
            b[(size_t)i * 3073 + 1 + j] = (unsigned char)((j * 13 + (first + i) * 29) % 251);
    }
    ok = spit(cifar_dir, name, b, (size_t)count * 3073);
    free(b);
    return ok;
}

static int write_data(void) {
    int ok = 1;
    snprintf(idx_dir, sizeof idx_dir, "%s/idx", dir);
    snprintf(gz_dir, sizeof gz_dir, "%s/gz", dir);
    snprintf(cifar_dir, sizeof cifar_dir, "%s/cifar", dir);
    snprintf(ckpt_path, sizeof ckpt_path, "%s/model.scn", dir);
    snprintf(npy_path, sizeof npy_path, "%s/t.npy", dir);
    ok &= mkdir(idx_dir, 0700) == 0 && mkdir(gz_dir, 0700) == 0 &&
          mkdir(cifar_dir, 0700) == 0;
    ok &= write_idx(idx_dir, "train", IDX_N, 0) && write_idx(idx_dir, "t10k", 5, 0);
    ok &= write_idx(gz_dir, "train", IDX_N, 1) && write_idx(gz_dir, "t10k", 5, 1);
    ok &= write_cifar("data_batch_1.bin", CIFAR_N1, 0);
    ok &= write_cifar("data_batch_2.bin", CIFAR_N2, CIFAR_N1);
    ok &= write_cifar("test_batch.bin", CIFAR_NT, 100);
    return ok;
}

/* ---------------------------------------------------------------------
 * One workload run, step by step
 * --------------------------------------------------------------------- */

#define SPEC "sc:n=4,iters=30 bn relu conv:n=4 avgpool sc:n=4,s=2,iters=30 bn maxpool:k=1 " \
             "dropout:p=0.25 gap flatten linear:n=10"

static long cur_k;                  /* the k being swept (0: no failure injected) */
static const char *cur_mode = "";   /* "1 thread", "4 threads", ... */
static long step_f0;
static long tolerated;              /* failures the library survived as documented */
static int run_failed;              /* a step failed (cleanly) in this run */
static int verbose;

/* clears scn_error(), so a failed call is seen to set it */
static void step_begin(void) {
    scn_error_clear();
    step_f0 = ta_failed;
}

static int says_no_memory(const char *msg) {
    return strstr(msg, "memory") || strstr(msg, "allocate");
}

/* ok: the call succeeded; st: its status (-1: it returns a pointer);
 * tolerate: the call reported the failure in its documented way although
 * it succeeded. Returns 1 to go on, 0 to stop the workload. */
static int step_end(const char *what, int ok, int st, int tolerate) {
    long inj = ta_failed - step_f0;
    if (ok) {
        if (inj) {
            if (tolerate) tolerated++;
            else
                CHECK(0, "[%s] k=%ld: %s succeeded although the allocation at %s:%d "
                      "failed ('%s')", cur_mode, cur_k, what, ta_fail_file, ta_fail_line,
                      scn_error());
        }
        return 1;
    }
    run_failed = 1;
    if (verbose)
        printf("  k=%ld %s failed at %s:%d: %s\n", cur_k, what,
               inj ? ta_fail_file : "-", inj ? ta_fail_line : 0, scn_error());
    CHECK(inj > 0, "[%s] k=%ld: %s failed with no allocation failure: %s", cur_mode, cur_k,
          what, scn_error());
    if (inj > 0) {
        CHECK(scn_error()[0] != '\0', "[%s] k=%ld: %s failed (allocation at %s:%d) without "
              "a message", cur_mode, cur_k, what, ta_fail_file, ta_fail_line);
        CHECK(st < 0 || st == SCN_ERR_NOMEM, "[%s] k=%ld: %s: allocation at %s:%d failed, "
              "status %s (%s)", cur_mode, cur_k, what, ta_fail_file, ta_fail_line,
              scn_status_string((scn_status)st), scn_error());
        CHECK(!scn_error()[0] || says_no_memory(scn_error()), "[%s] k=%ld: %s: allocation at "
              "%s:%d failed but the message is '%s'", cur_mode, cur_k, what, ta_fail_file,
              ta_fail_line, scn_error());
    }
    return 0;
}

/* A step: the call, then its check. A call that failed is tried once more
 * (no allocation fails any more) and must succeed now - the failure left
 * nothing half-made - before the workload stops. */
#define STEP(what, call, okcond, st, tol) do {                               \
    step_begin();                                                          \
    call;                                                                  \
    if (!step_end(what, (okcond), (st), (tol))) {                          \
        call;                                                              \
        CHECK((okcond), "[%s] k=%ld: %s fails again when retried: %s",     \
              cur_mode, cur_k, what, scn_error());                         \
        goto done;                                                         \
    }                                                                      \
} while (0)

/* the elastic-net problem of the workload (m x n dictionary, P signals) */
#define EM 6
#define EN 8
#define EP 5

/* Runs the workload once; 1 if it completed. */
static int workload(void) {
    scn_dataset *di = NULL, *dg = NULL, *dc = NULL;
    scn_net *net = NULL, *back = NULL;
    scn_sgd opt, opt2;
    scn_train_state st, st2;
    scn_tensor *t = NULL, *t2 = NULL;
    scn_workspace ws = { NULL, 0, NULL };
    scn_solve_desc sd;
    scn_solve_info info;
    scn_rng rng;
    const float *z = NULL;
    float x[10 * 64], xg[10 * 64], dx[10 * 64], xc[2 * 3072], mean[1], std_[1],
          cmean[3] = { 0.5f, 0.5f, 0.5f }, cstd[3] = { 0.25f, 0.25f, 0.25f },
          dlogits[10 * 10], D[EM * EN], X[EM * EP], alpha[EN * EP], G[EN * EP],
          dD[EM * EN], dX[EM * EP], dl1 = 0.0f;
    unsigned char y[10], yg[10], yc[2];
    int idx[10], cidx[2] = { 3, 15 }, n = 0, i, correct = 0, done_all = 0;
    int shape[2] = { 2, 3 };
    double loss = 0.0;
    scn_status s = SCN_OK;
    memset(&opt, 0, sizeof opt);
    memset(&opt2, 0, sizeof opt2);
    memset(&st, 0, sizeof st);
    run_failed = 0;
    scn_rng_seed(&rng, 42, 7);

    /* data sets */
    STEP("scn_dataset_open(idx)", di = scn_dataset_open(idx_dir, "train", NULL), di != NULL,
         -1, 0);
    CHECK(di->count == IDX_N && di->C == 1 && di->H == 8 && di->W == 8 && di->classes == 10 &&
          !strcmp(di->format, "idx"), "[%s] k=%ld: idx set is %s %d x %dx%dx%d", cur_mode,
          cur_k, di->format, di->count, di->C, di->H, di->W);
    STEP("scn_dataset_open(idx.gz)", dg = scn_dataset_open(gz_dir, "train", NULL), dg != NULL,
         -1, 0);
    CHECK(dg->count == IDX_N && !strcmp(dg->format, "idx"), "[%s] k=%ld: gz set has %d items",
          cur_mode, cur_k, dg->count);
    STEP("scn_dataset_open(cifar10)", dc = scn_dataset_open(cifar_dir, "train", NULL),
         dc != NULL, -1, 0);
    CHECK(dc->count == CIFAR_N1 + CIFAR_N2 && dc->C == 3 && !strcmp(dc->format, "cifar10"),
          "[%s] k=%ld: cifar set is %s with %d items (want %d: both batches)", cur_mode,
          cur_k, dc->format, dc->count, CIFAR_N1 + CIFAR_N2);
    STEP("scn_dataset_stats(idx)", s = scn_dataset_stats(di, mean, std_), s == SCN_OK, s, 0);
    STEP("scn_dataset_per_class", n = scn_dataset_per_class(di, 1, &rng, idx), n >= 0, -1, 0);
    CHECK(n == 10, "[%s] k=%ld: per-class subset of %d", cur_mode, cur_k, n);
    STEP("scn_dataset_read(idx)", s = scn_dataset_read(di, idx, 10, x, y), s == SCN_OK, s, 0);
    STEP("scn_dataset_read(idx.gz)", s = scn_dataset_read(dg, idx, 10, xg, yg), s == SCN_OK,
         s, 0);
    CHECK(!memcmp(x, xg, sizeof x) && !memcmp(y, yg, sizeof y), "[%s] k=%ld: gz data differ",
          cur_mode, cur_k);
    scn_normalize(x, 10, 1, 64, mean, std_);
    STEP("scn_augment(idx)", s = scn_augment(x, 10, 1, 8, 8, 1, 1, &rng), s == SCN_OK, s, 0);
    STEP("scn_dataset_read(cifar10)", s = scn_dataset_read(dc, cidx, 2, xc, yc), s == SCN_OK,
         s, 0);
    scn_normalize(xc, 2, 3, 1024, cmean, cstd);    /* (its statistics cost, under ASan) */
    STEP("scn_augment(cifar10)", s = scn_augment(xc, 2, 3, 32, 32, 1, 1, &rng), s == SCN_OK,
         s, 0);

    /* a net, one training step, a checkpoint */
    STEP("scn_net_create", net = scn_net_create(SPEC, 1, 8, 8, 3), net != NULL, -1, 0);
    STEP("scn_sgd_init", s = scn_sgd_init(&opt, net, NULL), s == SCN_OK, s, 0);
    scn_net_zero_grad(net);
    STEP("scn_net_forward(train)", z = scn_net_forward(net, x, 10, 1), z != NULL, -1, 0);
    STEP("scn_softmax_xent", s = scn_softmax_xent(z, y, 10, 10, dlogits, &loss, &correct),
         s == SCN_OK, s, 0);
    STEP("scn_net_backward", s = scn_net_backward(net, dlogits, dx), s == SCN_OK, s, 0);
    STEP("scn_sgd_step", s = scn_sgd_step(&opt, net, scn_sgd_lr(&opt, 0)), s == SCN_OK, s, 0);
    st.epoch = 1; st.step = 1; st.rng = rng;
    st.mean[0] = mean[0]; st.std[0] = std_[0];
    STEP("scn_checkpoint_save", s = scn_checkpoint_save(ckpt_path, net, &opt, &st),
         s == SCN_OK, s, 0);
    STEP("scn_checkpoint_load", back = scn_checkpoint_load(ckpt_path, &opt2, &st2),
         back != NULL, -1, 0);
    CHECK(scn_net_param_count(back) == scn_net_param_count(net) &&
          !memcmp(scn_net_params(back), scn_net_params(net),
                  scn_net_param_count(net) * sizeof(float)) && st2.step == 1,
          "[%s] k=%ld: checkpoint round trip differs", cur_mode, cur_k);
    STEP("scn_net_forward(eval, loaded)", z = scn_net_forward(back, x, 10, 0), z != NULL,
         -1, 0);

    /* .npy */
    STEP("scn_tensor_create", t = scn_tensor_create(2, shape), t != NULL, -1, 0);
    for (i = 0; i < 6; i++) t->data[i] = 0.5f * (float)i - 1.0f;
    STEP("scn_npy_save", s = scn_npy_save(npy_path, t), s == SCN_OK, s, 0);
    STEP("scn_npy_load", t2 = scn_npy_load(npy_path), t2 != NULL, -1, 0);
    CHECK(t2->ndim == 2 && t2->size == 6 && !memcmp(t->data, t2->data, 6 * sizeof(float)),
          "[%s] k=%ld: npy round trip differs", cur_mode, cur_k);

    /* the solver and its backward pass, without and with a workspace */
    {
        scn_rng r;
        scn_rng_seed(&r, 9, 1);
        for (i = 0; i < EM * EN; i++) D[i] = scn_rng_normal(&r) * 0.5f;
        for (i = 0; i < EM * EP; i++) X[i] = scn_rng_normal(&r);
        for (i = 0; i < EN * EP; i++) G[i] = scn_rng_normal(&r);
    }
    memset(&sd, 0, sizeof sd);
    sd.lambda1 = 0.05f; sd.lambda2 = 0.01f;
    /* with info, scn_en_kkt runs inside: its allocation failure is info.kkt = -1 */
    info.kkt = 0.0;
    STEP("scn_en_solve", s = scn_en_solve(D, EM, EN, X, EP, &sd, alpha, &info), s == SCN_OK,
         s, info.kkt == -1.0);
    STEP("scn_en_backward", s = scn_en_backward(D, EM, EN, X, EP, alpha, G, &sd, dD, dX, &dl1),
         s == SCN_OK, s, 0);
    sd.ws = &ws;
    STEP("scn_en_solve(ws)", s = scn_en_solve(D, EM, EN, X, EP, &sd, alpha, NULL), s == SCN_OK,
         s, 0);
    STEP("scn_en_backward(ws)", s = scn_en_backward(D, EM, EN, X, EP, alpha, G, &sd, dD, dX,
                                                   &dl1), s == SCN_OK, s, 0);
    done_all = 1;
done:
    scn_workspace_free(&ws);
    scn_tensor_free(t2);
    scn_tensor_free(t);
    if (back) scn_sgd_free(&opt2);
    scn_net_free(back);
    scn_sgd_free(&opt);
    scn_net_free(net);
    scn_dataset_close(dc);
    scn_dataset_close(dg);
    scn_dataset_close(di);
    remove(ckpt_path);
    remove(npy_path);
    (void)correct;
    return done_all;
}

/* ---------------------------------------------------------------------
 * The sweep
 * --------------------------------------------------------------------- */

static void ta_arm(long k) {
    ta_lock();
    ta_calls = 0;
    ta_failed = 0;
    ta_fail_at = k;
    ta_fail_file = NULL;
    ta_fail_line = 0;
    ta_unlock();
}

static double wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Checks nothing is live; reports and frees what is. */
static void check_leaks(const char *when) {
    long live, bytes;
    ta_lock();
    live = ta_live;
    bytes = ta_live_bytes;
    ta_unlock();
    CHECK(live == 0, "[%s] k=%ld (%s): %ld blocks (%ld bytes) leaked", cur_mode, cur_k, when,
          live, bytes);
    if (live) {
        int shown = 0;
        while (ta_head.next != &ta_head) {
            ta_block *b = ta_head.next;
            if (shown++ < 8)
                fprintf(stderr, "    leaked %zu bytes allocated at %s:%d by allocation "
                        "call %ld (bin/test_alloc -k %ld -w %ld in gdb, break ta_hit)\n",
                        b->size, b->file, b->line, b->call, cur_k, b->call);
            ta_free((char *)b + TA_HDR);
        }
    }
}

/* k = 1, 1 + stride, ... until a run makes fewer than k allocations;
 * returns the number of runs that had a failure injected. */
static long sweep(const char *mode, long stride, long *allocs) {
    long k, calls = 0, clean = 0, completed_with_failure = 0, runs = 0;
    double t0 = wall();
    cur_mode = mode;
    for (k = 1; k < 1000000; k += stride) {
        int completed;
        cur_k = k;
        ta_arm(k);
        completed = workload();
        check_leaks("after the run");
        calls = ta_calls;
        CHECK(completed || run_failed, "[%s] k=%ld: neither completed nor failed", mode, k);
        if (ta_failed == 0) {
            CHECK(completed, "[%s] k=%ld: failed with no allocation failure: %s", mode, k,
                  scn_error());
            break;
        }
        runs++;
        if (completed) completed_with_failure++;
        else clean++;
    }
    *allocs = calls;
    printf("alloc [%s]: %ld allocations per run, k = 1, %ld, ... failed in turn: %ld runs "
           "stopped at the failed call, %ld completed (%.1f s)\n", mode, calls, 1 + stride,
           clean, completed_with_failure, wall() - t0);
    return runs;
}

/* GEMM's packing buffer it cannot get is an error with a message, and C
 * is left for the caller to discard (no silent fallback). */
static void check_gemm_failure(void) {
    float A[12], B[20], C[15];
    scn_status s;
    int i;
    for (i = 0; i < 12; i++) A[i] = (float)(i % 5) - 2.0f;
    for (i = 0; i < 20; i++) B[i] = 0.25f * (float)(i % 7);
    ta_arm(1);
    s = scn_gemm(0, 0, 3, 5, 4, 1.0f, A, 4, B, 5, 0.0f, C, 5);
    CHECK(ta_failed == 1, "scn_gemm made no allocation (%ld calls)", ta_calls);
    CHECK(s == SCN_ERR_NOMEM && says_no_memory(scn_error()), "gemm without memory: %s (%s)",
          scn_status_string(s), scn_error());
    ta_arm(0);
    check_leaks("scn_gemm");
}

/* The multi-thread sweep fails every MT_STRIDE-th allocation only: the
 * single-thread sweep has covered each, and under ASan every run costs. */
#define MT_STRIDE 7

/* bin/test_alloc [-v] [-k K [-w N]]: -v prints every clean failure; -k K
 * runs only the single-thread run with allocation K failing, -w N also
 * calls ta_hit at allocation N (for gdb). */
int main(int argc, char **argv) {
    long swept1 = 0, swept_all = 0, allocs1 = 0, allocs_all = 0, only = 0;
    double t0 = (double)clock();
    int threads = 1, i;
    char mode[32];
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-v")) verbose = 1;
        else if (!strcmp(argv[i], "-k") && i + 1 < argc) only = atol(argv[++i]);
        else if (!strcmp(argv[i], "-w") && i + 1 < argc) ta_watch = atol(argv[++i]);
    }
    strcpy(dir, "/tmp/scn_alloc.XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    CHECK(write_data(), "cannot write the data sets under %s", dir);
#ifdef _OPENMP
    threads = omp_get_max_threads();
    omp_set_num_threads(1);
#endif
    check_gemm_failure();

    if (only > 0) {
        verbose = 1;
        cur_mode = "1 thread";
        cur_k = only;
        ta_arm(only);
        i = workload();
        printf("k=%ld: %s, %ld allocations, %ld failed\n", only,
               i ? "completed" : "stopped", ta_calls, ta_failed);
        check_leaks("after the run");
    } else {
        /* a plain run first: the workload must complete */
        cur_mode = "plain";
        ta_arm(0);
        CHECK(workload(), "the workload fails without injected failures: %s", scn_error());
        check_leaks("plain run");

        swept1 = sweep("1 thread", 1, &allocs1);
#ifdef _OPENMP
        if (threads > 1) {
            int t = threads < 4 ? threads : 4;
            snprintf(mode, sizeof mode, "%d threads", t);
            omp_set_num_threads(t);
            swept_all = sweep(mode, MT_STRIDE, &allocs_all);
            /* the net's sc layers share one solver scratch, grown whenever a
             * call needs more than the last; part of the need is per thread,
             * so each of the four solver calls of the training step (two
             * layers, forward and backward) may grow it on one thread count
             * and not on another: nothing else may differ */
            CHECK(labs(allocs_all - allocs1) <= 4, "%ld allocations on %d threads, %ld on 1",
                  allocs_all, t, allocs1);
            omp_set_num_threads(threads);
            snprintf(mode, sizeof mode, "%d threads", threads);
            cur_mode = mode;
            cur_k = 0;
            ta_arm(0);
            CHECK(workload(), "the workload fails on %d threads: %s", threads, scn_error());
            check_leaks("multi-thread run");
        }
#endif
        printf("alloc: %ld runs with a failure on 1 thread, %ld on %d threads; %ld failures "
               "met a documented fallback; %.1f s CPU\n", swept1, swept_all,
               threads < 4 ? threads : 4, tolerated, ((double)clock() - t0) / CLOCKS_PER_SEC);
    }
    (void)mode;
    (void)allocs_all;
    CHECK(ta_bad_frees == 0, "%ld frees of pointers the allocator did not make", ta_bad_frees);
    {
        const char *names[] = { "idx/train-images-idx3-ubyte", "idx/train-labels-idx1-ubyte",
                                "idx/t10k-images-idx3-ubyte", "idx/t10k-labels-idx1-ubyte",
                                "gz/train-images-idx3-ubyte.gz",
                                "gz/train-labels-idx1-ubyte.gz",
                                "gz/t10k-images-idx3-ubyte.gz", "gz/t10k-labels-idx1-ubyte.gz",
                                "cifar/data_batch_1.bin", "cifar/data_batch_2.bin",
                                "cifar/test_batch.bin" };
        char p[256];
        size_t f;
        for (f = 0; f < sizeof names / sizeof *names; f++) {
            snprintf(p, sizeof p, "%s/%s", dir, names[f]);
            remove(p);
        }
    }
    rmdir(idx_dir);
    rmdir(gz_dir);
    rmdir(cifar_dir);
    rmdir(dir);
    return check_summary("alloc");
}
