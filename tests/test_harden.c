/* test_harden.c - what an adversarial run found (issue 12): outputs that
 * are not plain files, partial writes, concurrent writers, special files
 * as input, thread counts above the scratch cap, values that leave float
 * range, and NULL where a buffer is required.
 *
 *   test_outputs      (3) symlinks written through, devices, directories,
 *                     FIFOs and missing directories refused, permissions
 *                     kept, a write cut short by RLIMIT_FSIZE leaves the
 *                     old file and no temporary
 *   test_lock         (4) a second run's lock fails naming the holder's pid
 *                     (held by a forked child); release, stale lock files
 *   test_threads      (1) 300 OpenMP threads: no crash, same bits as one
 *   test_float_range  (2) D^T X, the step bound, gamma and dX past FLT_MAX
 *                     are SCN_ERR_NUMERIC; unconverged columns are counted
 *   test_inputs       (5, 6) FIFOs, /dev/zero and directories as .npy, IDX
 *                     and CIFAR files; seven CIFAR batches named in files
 *   test_null         (7) SCN_ASSERT fires on each required NULL
 * (numbers: the classes of issue 12; tests/cli_harden.sh does the same
 * through the scn tool). Its files live in a mkdtemp directory under
 * /tmp. alarm() bounds the whole run, so a reader that blocks on a FIFO
 * fails the test instead of hanging it. Needs POSIX (fork, mkfifo,
 * symlink, setrlimit).
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdlib.h>

/* SCN_ASSERT records the failure and jumps back to the call under test,
 * so a NULL the library does not check shows up as a crash, and one it
 * checks as a caught assertion. Outside such a call it aborts. */
static jmp_buf assert_jump;
static int assert_armed, assert_fired;
static const char *assert_what;
static void assert_fail(const char *what) {
    assert_what = what;
    if (!assert_armed) abort();
    assert_fired = 1;
    longjmp(assert_jump, 1);
}
#define SCN_ASSERT(x) ((x) ? (void)0 : assert_fail(#x))

#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "check.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static char dir[64];

static const char *mkpath(char *buf, size_t cap, const char *name) {
    snprintf(buf, cap, "%s/%s", dir, name);
    return buf;
}

static long file_size(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

/* the number of entries in dir whose name contains s */
static int count_named(const char *s) {
    char cmd[256];
    FILE *p;
    int n = -1;
    snprintf(cmd, sizeof cmd, "ls -a %s | grep -c -F '%s'", dir, s);
    if ((p = popen(cmd, "r"))) {
        if (fscanf(p, "%d", &n) != 1) n = -1;
        pclose(p);
    }
    return n;
}

static scn_tensor *small_tensor(int n, float v) {
    int shape[1];
    scn_tensor *t;
    int i;
    shape[0] = n;
    t = scn_tensor_create(1, shape);
    for (i = 0; t && i < n; i++) t->data[i] = v;
    return t;
}

/* ---- class 3: outputs that are not plain files, partial writes ---- */
static void test_outputs(void) {
    char a[256], b[256], c[256];
    scn_tensor *t = small_tensor(6, 1.5f), *big = small_tensor(100000, 2.0f), *back;
    struct stat st;
    pid_t pid;
    int status;

    /* a symlink is written through: the target gets the data, the link stays */
    mkpath(a, sizeof a, "target.npy");
    mkpath(b, sizeof b, "link.npy");
    CHECK(scn_npy_save(a, big) == SCN_OK, "%s", scn_error());
    CHECK(symlink("target.npy", b) == 0, "symlink");
    CHECK(scn_npy_save(b, t) == SCN_OK, "save through a link: %s", scn_error());
    CHECK(lstat(b, &st) == 0 && S_ISLNK(st.st_mode), "the link was replaced by a file");
    back = scn_npy_load(a);
    CHECK(back && back->size == 6 && back->data[5] == 1.5f, "the link's target is stale");
    scn_tensor_free(back);

    /* a dangling link names the file to create */
    mkpath(b, sizeof b, "dangling.npy");
    CHECK(symlink("made-by-save.npy", b) == 0, "symlink");
    CHECK(scn_output_check(b) == SCN_OK, "check a dangling link: %s", scn_error());
    CHECK(scn_npy_save(b, t) == SCN_OK, "save through a dangling link: %s", scn_error());
    CHECK(file_size(mkpath(c, sizeof c, "made-by-save.npy")) > 0, "no file behind the link");
    CHECK(lstat(b, &st) == 0 && S_ISLNK(st.st_mode), "the dangling link was replaced");

    /* what is not a regular file is refused, and left alone */
    CHECK(scn_npy_save("/dev/full", t) == SCN_ERR_IO && strstr(scn_error(), "/dev/full") &&
          strstr(scn_error(), "not a regular file"), "/dev/full: %s", scn_error());
    CHECK(scn_output_check("/dev/null") == SCN_ERR_IO, "/dev/null accepted");
    CHECK(stat("/dev/null", &st) == 0 && S_ISCHR(st.st_mode), "/dev/null replaced");
    CHECK(scn_npy_save(dir, t) == SCN_ERR_IO && strstr(scn_error(), "directory"),
          "a directory: %s", scn_error());
    mkpath(b, sizeof b, "link-to-null");
    CHECK(symlink("/dev/null", b) == 0, "symlink");
    CHECK(scn_npy_save(b, t) == SCN_ERR_IO && strstr(scn_error(), "character device"),
          "a link to /dev/null: %s", scn_error());
    mkpath(b, sizeof b, "fifo-out");
    CHECK(mkfifo(b, 0600) == 0, "mkfifo");
    CHECK(scn_output_check(b) == SCN_ERR_IO && strstr(scn_error(), "FIFO"), "a FIFO: %s",
          scn_error());
    mkpath(b, sizeof b, "no-such-dir/x.npy");
    CHECK(scn_output_check(b) == SCN_ERR_IO && strstr(scn_error(), "does not exist"),
          "a missing directory: %s", scn_error());
    CHECK(scn_npy_save(b, t) == SCN_ERR_IO && strstr(scn_error(), "no-such-dir"),
          "save into a missing directory: %s", scn_error());
    mkpath(b, sizeof b, "loop");
    CHECK(symlink("loop", b) == 0, "symlink");
    CHECK(scn_npy_save(b, t) == SCN_ERR_IO && strstr(scn_error(), "symbolic links"),
          "a link loop: %s", scn_error());
    CHECK(scn_output_check(mkpath(b, sizeof b, "new.npy")) == SCN_OK, "%s", scn_error());
    CHECK(file_size(b) == -1, "scn_output_check created the file");

    /* the replacement keeps the old file's permissions */
    CHECK(chmod(a, 0640) == 0 && scn_npy_save(a, t) == SCN_OK && stat(a, &st) == 0 &&
          (st.st_mode & 0777) == 0640, "mode after a save: %o", (unsigned)st.st_mode & 0777);

    /* a write that fails half way (file size limit, as on a full disk) leaves
     * the old file intact and no temporary behind */
    CHECK(scn_npy_save(a, t) == SCN_OK, "%s", scn_error());
    pid = fork();
    if (pid == 0) {
        struct rlimit rl;
        rl.rlim_cur = rl.rlim_max = 4096;
        signal(SIGXFSZ, SIG_IGN);
        setrlimit(RLIMIT_FSIZE, &rl);
        _exit(scn_npy_save(a, big) == SCN_ERR_IO && strstr(scn_error(), "left as it was")
              ? 0 : 1);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
          WEXITSTATUS(status) == 0, "a failed write was not reported");
    back = scn_npy_load(a);
    CHECK(back && back->size == 6, "a failed write spoilt the old file");
    scn_tensor_free(back);
    CHECK(count_named(".tmp.") == 0, "a temporary was left behind");
    scn_tensor_free(t);
    scn_tensor_free(big);
}

/* ---- class 4: concurrent writers ---- */
static void test_lock(void) {
    char a[256], msg[64];
    scn_output_lock lk, lk2;
    int to_child[2], to_parent[2], status;
    char byte;
    pid_t pid;
    mkpath(a, sizeof a, "locked.scn");
    CHECK(pipe(to_child) == 0 && pipe(to_parent) == 0, "pipe");
    pid = fork();
    if (pid == 0) {
        scn_output_lock c;
        int ok = scn_output_lock_take(a, &c) == SCN_OK;
        byte = ok ? 'y' : 'n';
        if (write(to_parent[1], &byte, 1) != 1) _exit(2);
        if (read(to_child[0], &byte, 1) != 1) _exit(3);     /* hold until told */
        scn_output_lock_release(&c);
        _exit(ok ? 0 : 1);
    }
    CHECK(pid > 0 && read(to_parent[0], &byte, 1) == 1 && byte == 'y', "child's lock failed");
    snprintf(msg, sizeof msg, "pid %ld", (long)pid);
    CHECK(scn_output_lock_take(a, &lk) == SCN_ERR_IO && strstr(scn_error(), msg),
          "a second lock: %s (want %s)", scn_error(), msg);
    CHECK(write(to_child[1], "x", 1) == 1, "pipe");
    CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the child failed");
    /* released: it can be taken again, and the lock file is gone after */
    CHECK(scn_output_lock_take(a, &lk) == SCN_OK, "after release: %s", scn_error());
#ifdef F_OFD_SETLK
    CHECK(scn_output_lock_take(a, &lk2) == SCN_ERR_IO, "taken twice in one process");
#else
    (void)lk2;
#endif
    scn_output_lock_release(&lk);
    scn_output_lock_release(&lk);                           /* twice: a no-op */
    CHECK(count_named("locked.scn.lock") == 0, "the lock file is left behind");
    /* a lock file left by a run that died (its pid, no lock) is taken over */
    {
        char lf[256];
        FILE *f = fopen(mkpath(lf, sizeof lf, "locked.scn.lock"), "w");
        CHECK(f && fputs("99999999\n", f) >= 0 && fclose(f) == 0, "write %s", lf);
        CHECK(scn_output_lock_take(a, &lk) == SCN_OK, "a stale lock file: %s", scn_error());
        scn_output_lock_release(&lk);
    }
    /* temporaries are unique per call, so two writers never share one */
    close(to_child[0]); close(to_child[1]); close(to_parent[0]); close(to_parent[1]);
}


/* ---- class 1: more threads than the solver's scratch was sized for ---- */
#define TM 12
#define TN 24
#define TP 700
static void solve_all(const float *D, const float *X, const float *G, float *alpha,
                      float *dD, float *dX, float *dl, scn_solve_info *info) {
    scn_solve_desc sd;
    memset(&sd, 0, sizeof sd);
    sd.lambda1 = 0.1f; sd.lambda2 = 0.01f;
    CHECK(scn_en_solve(D, TM, TN, X, TP, &sd, alpha, info) == SCN_OK, "%s", scn_error());
    CHECK(scn_en_backward(D, TM, TN, X, TP, alpha, G, &sd, dD, dX, dl) == SCN_OK, "%s",
          scn_error());
}

static void test_threads(void) {
    static float D[TM * TN], X[TM * TP], G[TN * TP], a1[TN * TP], a2[TN * TP],
        dD1[TM * TN], dD2[TM * TN], dX1[TM * TP], dX2[TM * TP];
    float dl1, dl2;
    scn_solve_info i1, i2;
    scn_rng r;
    int i;
    scn_rng_seed(&r, 5, 1);
    for (i = 0; i < TM * TN; i++) D[i] = scn_rng_normal(&r) * 0.4f;
    for (i = 0; i < TM * TP; i++) X[i] = scn_rng_normal(&r);
    for (i = 0; i < TN * TP; i++) G[i] = scn_rng_normal(&r);
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    solve_all(D, X, G, a1, dD1, dX1, &dl1, &i1);
#ifdef _OPENMP
    omp_set_num_threads(300);           /* past SCN__MAX_THREADS (256) */
#endif
    solve_all(D, X, G, a2, dD2, dX2, &dl2, &i2);
    CHECK(!memcmp(a1, a2, sizeof a1) && i1.iters == i2.iters && i1.polished == i2.polished,
          "300 threads: codes differ from 1 thread");
    CHECK(!memcmp(dD1, dD2, sizeof dD1) && !memcmp(dX1, dX2, sizeof dX1) && dl1 == dl2,
          "300 threads: gradients differ from 1 thread");
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
}

/* ---- class 2: finite inputs whose products leave float range ---- */
static void test_float_range(void) {
    enum { m = 8, n = 6, P = 40 };
    static float D[m * n], X[m * P], alpha[n * P], G[n * P], dD[m * n], dX[m * P];
    scn_solve_desc sd;
    scn_solve_info info;
    scn_rng r;
    float dl;
    int i;
    scn_rng_seed(&r, 7, 1);
    memset(&sd, 0, sizeof sd);
    sd.lambda1 = 0.1f; sd.lambda2 = 0.01f;
    for (i = 0; i < m * n; i++) D[i] = 1.0f + 0.5f * scn_rng_uniform(&r);
    /* D^T X overflows: every entry of X is 1e38, so each product is ~1e39 */
    for (i = 0; i < m * P; i++) X[i] = 1e38f;
    CHECK(scn_en_solve(D, m, n, X, P, &sd, alpha, &info) == SCN_ERR_NUMERIC &&
          strstr(scn_error(), "D^T X"), "D^T X past FLT_MAX: %s", scn_error());
    sd.no_polish = 1;
    CHECK(scn_en_solve(D, m, n, X, P, &sd, alpha, NULL) == SCN_ERR_NUMERIC,
          "D^T X past FLT_MAX, unpolished, no info: %s", scn_error());
    sd.no_polish = 0;
    /* the step bound overflows: D^T D ~ 1e40 */
    for (i = 0; i < m * P; i++) X[i] = scn_rng_normal(&r);
    for (i = 0; i < m * n; i++) D[i] *= 1e20f;
    CHECK(scn_en_solve(D, m, n, X, P, &sd, alpha, &info) == SCN_ERR_NUMERIC &&
          strstr(scn_error(), "step bound"), "kappa past FLT_MAX: %s", scn_error());
    for (i = 0; i < m * n; i++) D[i] = scn_rng_normal(&r);

    /* a solve stopped by the iteration cap says so; polished columns and
     * converged ones do not count */
    sd.max_iter = 1; sd.no_polish = 1; sd.tol = 1e-7f;
    CHECK(scn_en_solve(D, m, n, X, P, &sd, alpha, &info) == SCN_OK &&
          info.unconverged == P && info.polished == 0, "capped: %d unconverged of %d",
          info.unconverged, P);
    sd.max_iter = 0; sd.no_polish = 0; sd.tol = 0;
    CHECK(scn_en_solve(D, m, n, X, P, &sd, alpha, &info) == SCN_OK &&
          info.unconverged == 0 && info.polished == P, "default: %d unconverged, %d polished",
          info.unconverged, info.polished);
    sd.max_iter = 2;
    CHECK(scn_en_solve(D, m, n, X, P, &sd, alpha, &info) == SCN_OK &&
          info.unconverged == info.unpolished, "capped at 2 with polishing: %d unconverged, "
          "%d unpolished", info.unconverged, info.unpolished);
    sd.max_iter = 0;

    /* backward: a nearly singular active set makes gamma overflow */
    for (i = 0; i < m * n; i++) D[i] = scn_rng_normal(&r) * 1e-4f;
    for (i = 0; i < n * P; i++) { alpha[i] = 1.0f; G[i] = 1e36f; }
    sd.lambda2 = 0.0f;
    CHECK(scn_en_backward(D, m, n, X, P, alpha, G, &sd, dD, dX, &dl) == SCN_ERR_NUMERIC,
          "gamma past FLT_MAX: %s", scn_error());
    /* and a finite gamma can still give an infinite D Gamma: D is 6
     * orthonormal columns of the 8 x 8 Hadamard matrix / sqrt(8), so
     * gamma = g / (1 + lambda2) ~ 2e38 stays finite, but row 0 of D is all
     * 1/sqrt(8) and sums the six into ~4e38 */
    for (i = 0; i < m * n; i++) {
        int row = i / n, col = i % n, bits = row & col, par = 0;
        for (; bits; bits >>= 1) par ^= bits & 1;
        D[i] = (par ? -1.0f : 1.0f) / sqrtf(8.0f);
    }
    for (i = 0; i < n * P; i++) { alpha[i] = 1.0f; G[i] = 2e38f; }
    sd.lambda2 = 0.01f;
    CHECK(scn_en_backward(D, m, n, X, P, alpha, G, &sd, NULL, dX, NULL) == SCN_ERR_NUMERIC &&
          strstr(scn_error(), "dX"),
          "outputs past FLT_MAX: %s", scn_error());

    /* conv backward: every dX entry is finite (~1e38), but an interior
     * pixel sums nine overlapping 3x3 windows */
    {
        static float cD[9], cX[9 * 16], ca[16], cg[16], dx[16];
        scn_conv_geom g;
        CHECK(scn_conv_geom_init(&g, 1, 1, 4, 4, 3, 1, 1) == SCN_OK && g.P == 16, "geom");
        for (i = 0; i < 9; i++) cD[i] = 1.0f / 3.0f;              /* unit atom */
        for (i = 0; i < 16; i++) { ca[i] = 1.0f; cg[i] = 3e38f; }
        sd.lambda2 = 0.01f;
        CHECK(scn_sc_conv_backward(&g, cD, 1, cX, ca, cg, &sd, NULL, dx, NULL) ==
              SCN_ERR_NUMERIC && strstr(scn_error(), "dx"), "conv dx past FLT_MAX: %s",
              scn_error());
    }
}

/* ---- classes 5 and 6: special files as inputs, CIFAR batches ---- */
static int write_bytes(const char *p, const void *b, size_t n) {
    FILE *f = fopen(p, "wb");
    size_t w = f && n ? fwrite(b, 1, n, f) : 0;
    return f && fclose(f) == 0 && w == n;
}

static void test_inputs(void) {
    static unsigned char rec[3073];
    char a[256], b[256], name[64];
    scn_idx_set set;
    scn_dataset *ds;
    int k;
    /* each of these used to block in open() or read without end; alarm()
     * in main turns a regression into a failure */
    mkpath(a, sizeof a, "fifo.npy");
    CHECK(mkfifo(a, 0600) == 0, "mkfifo");
    CHECK(!scn_npy_load(a) && strstr(scn_error(), "fifo.npy") &&
          strstr(scn_error(), "no data"), "a FIFO as .npy: %s", scn_error());
    CHECK(!scn_npy_load("/dev/zero") && strstr(scn_error(), "/dev/zero") &&
          strstr(scn_error(), "character device"), "/dev/zero as .npy: %s", scn_error());
    CHECK(!scn_npy_load(dir) && strstr(scn_error(), "directory"), "a directory as .npy: %s",
          scn_error());

    /* IDX: the labels file is a FIFO, then /dev/zero */
    mkpath(a, sizeof a, "idx");
    CHECK(mkdir(a, 0700) == 0, "mkdir");
    mkpath(b, sizeof b, "idx/train-labels-idx1-ubyte");
    CHECK(mkfifo(b, 0600) == 0, "mkfifo");
    CHECK(scn_idx_load(a, 1, &set) != SCN_OK && strstr(scn_error(), "train-labels"),
          "a FIFO as IDX labels: %s", scn_error());
    CHECK(unlink(b) == 0 && symlink("/dev/zero", b) == 0, "symlink");
    CHECK(scn_idx_load(a, 1, &set) != SCN_OK && strstr(scn_error(), "character device"),
          "/dev/zero as IDX labels: %s", scn_error());

    /* CIFAR-10: seven good batches are all read, and named */
    mkpath(a, sizeof a, "c10");
    CHECK(mkdir(a, 0700) == 0, "mkdir");
    for (k = 1; k <= 7; k++) {
        snprintf(name, sizeof name, "c10/data_batch_%d.bin", k);
        rec[0] = (unsigned char)(k % 10);
        CHECK(write_bytes(mkpath(b, sizeof b, name), rec, sizeof rec), "write %s", b);
    }
    ds = scn_dataset_open(a, "train", "cifar10");
    CHECK(ds && ds->count == 7 && strstr(ds->files, "data_batch_1.bin") &&
          strstr(ds->files, "data_batch_7.bin"), "seven batches: %s",
          ds ? ds->files : scn_error());
    scn_dataset_close(ds);
    /* a batch that is a FIFO, or a directory, is an error naming it */
    CHECK(unlink(mkpath(b, sizeof b, "c10/data_batch_3.bin")) == 0 && mkfifo(b, 0600) == 0,
          "mkfifo");
    ds = scn_dataset_open(a, "train", "cifar10");
    CHECK(!ds && strstr(scn_error(), "data_batch_3.bin") && strstr(scn_error(), "FIFO"),
          "a FIFO batch: %s", ds ? ds->files : scn_error());
    scn_dataset_close(ds);
    CHECK(unlink(b) == 0 && mkdir(b, 0700) == 0, "mkdir");
    ds = scn_dataset_open(a, "train", "cifar10");
    CHECK(!ds && strstr(scn_error(), "data_batch_3.bin") && strstr(scn_error(), "directory"),
          "a directory batch: %s", ds ? ds->files : scn_error());
    scn_dataset_close(ds);
    /* the first batch, which detection looks for, as a directory */
    CHECK(unlink(mkpath(b, sizeof b, "c10/data_batch_1.bin")) == 0 && mkdir(b, 0700) == 0,
          "mkdir");
    ds = scn_dataset_open(a, "train", NULL);
    CHECK(!ds && strstr(scn_error(), "data_batch_1.bin") && strstr(scn_error(), "directory"),
          "data_batch_1.bin a directory: %s", ds ? ds->files : scn_error());
    scn_dataset_close(ds);
    /* test_batch.bin as a FIFO */
    CHECK(mkfifo(mkpath(b, sizeof b, "c10/test_batch.bin"), 0600) == 0, "mkfifo");
    ds = scn_dataset_open(a, "test", "cifar10");
    CHECK(!ds && strstr(scn_error(), "test_batch.bin") && strstr(scn_error(), "FIFO"),
          "a FIFO test batch: %s", ds ? ds->files : scn_error());
    scn_dataset_close(ds);
}

/* ---- class 7: NULL where a buffer is required ---- */
#define EXPECT_ASSERT(call) do {                                           \
    assert_fired = 0;                                                      \
    assert_armed = 1;                                                      \
    if (!setjmp(assert_jump)) (void)(call);                                \
    assert_armed = 0;                                                      \
    CHECK(assert_fired, "%s: returned without SCN_ASSERT", #call);          \
} while (0)

static void test_null(void) {
    float D[6] = {1, 0, 0, 1, 1, 1}, X[3] = {1, 2, 3}, a[2] = {0, 0}, codes[2];
    int shape[1] = {2}, idx[3] = {0, 1, 2};
    scn_solve_desc sd;
    scn_tensor *t = scn_tensor_create(1, shape), view;
    scn_conv_geom g;
    scn_rng r;
    memset(&sd, 0, sizeof sd);
    scn_rng_seed(&r, 1, 1);
    scn_conv_geom_init(&g, 1, 1, 2, 2, 1, 1, 0);
    EXPECT_ASSERT(scn_tensor_create(1, NULL));
    EXPECT_ASSERT(scn_tensor_view(NULL, 0, 1, shape, &view));
    EXPECT_ASSERT(scn_tensor_view(t, 0, 1, shape, NULL));
    EXPECT_ASSERT(scn_tensor_reshape(t, 1, NULL));
    EXPECT_ASSERT(scn_rng_u32(NULL));
    EXPECT_ASSERT(scn_rng_below(&r, 0));
    EXPECT_ASSERT(scn_npy_load(NULL));
    EXPECT_ASSERT(scn_npy_save("/tmp/x.npy", NULL));
    EXPECT_ASSERT(scn_npy_parse(NULL, 10, "x"));
    EXPECT_ASSERT(scn_output_check(NULL));
    EXPECT_ASSERT(scn_output_lock_take("/tmp/x", NULL));
    EXPECT_ASSERT(scn_en_solve(NULL, 3, 2, X, 1, &sd, a, NULL));
    EXPECT_ASSERT(scn_en_solve(D, 3, 2, X, 1, NULL, a, NULL));
    EXPECT_ASSERT(scn_en_solve(D, 3, 2, X, 1, &sd, NULL, NULL));
    EXPECT_ASSERT(scn_en_kkt(D, 3, 2, X, 1, &sd, NULL));
    EXPECT_ASSERT(scn_en_lipschitz(D, 3, 2, 0.0f, NULL));
    EXPECT_ASSERT(scn_en_backward(D, 3, 2, X, 1, a, NULL, &sd, NULL, NULL, NULL));
    EXPECT_ASSERT(scn_codes_from_matrix(&g, 2, NULL, codes));
    EXPECT_ASSERT(scn_codes_to_matrix(&g, 2, codes, NULL));
    EXPECT_ASSERT(scn_sc_conv_forward(NULL, D, 2, X, &sd, X, a, codes, NULL));
    EXPECT_ASSERT(scn_sc_conv_backward(&g, D, 2, X, a, NULL, &sd, NULL, NULL, NULL));
    EXPECT_ASSERT(scn_dataset_stats(NULL, a, a));
    EXPECT_ASSERT(scn_normalize(NULL, 1, 1, 1, a, a));
    EXPECT_ASSERT(scn_augment(a, 1, 1, 1, 2, 1, 0, NULL));
    EXPECT_ASSERT(scn_augment_shared(a, 1, 1, 1, 2, 0, 1, NULL));
    EXPECT_ASSERT(scn_dataset_pixel_mean(NULL, a));
    EXPECT_ASSERT(scn_normalize_pixels(NULL, 1, 1, 1, a, a));
    EXPECT_ASSERT(scn_normalize_pixels(a, 1, 1, 1, NULL, a));
    EXPECT_ASSERT(scn_dataset_per_class(NULL, 1, &r, idx));
    EXPECT_ASSERT(scn_shuffle(NULL, 3, &r));
    EXPECT_ASSERT(scn_dataset_detect(NULL));
    /* sections 8-16: the net's accessors, the optimiser, loops, checkpoints */
    EXPECT_ASSERT(scn_net_forward(NULL, X, 1, 0));
    EXPECT_ASSERT(scn_net_backward(NULL, X, NULL));
    EXPECT_ASSERT(scn_net_param_count(NULL));
    EXPECT_ASSERT(scn_net_params(NULL));
    EXPECT_ASSERT(scn_net_grads(NULL));
    EXPECT_ASSERT(scn_net_buffers(NULL, NULL));
    EXPECT_ASSERT(scn_net_spec(NULL));
    EXPECT_ASSERT(scn_net_rng(NULL));
    EXPECT_ASSERT(scn_net_layer_count(NULL));
    EXPECT_ASSERT(scn_net_layer_density(NULL, 0));
    EXPECT_ASSERT(scn_net_layer_time(NULL, 0, NULL, NULL, 0));
    EXPECT_ASSERT(scn_net_describe(NULL, 0, NULL, 0));
    EXPECT_ASSERT(scn_softmax_xent(NULL, NULL, 1, 2, NULL, NULL, NULL));
    EXPECT_ASSERT(scn_sgd_init(NULL, NULL, NULL));
    EXPECT_ASSERT(scn_sgd_step(NULL, NULL, 0.1f));
    EXPECT_ASSERT(scn_train_epoch(NULL, NULL, NULL, NULL, NULL, NULL));
    EXPECT_ASSERT(scn_evaluate(NULL, NULL, NULL, NULL, NULL, NULL));
    EXPECT_ASSERT(scn_train_state_set_pixel_mean(NULL, a, 1));
    EXPECT_ASSERT(scn_train_state_normalize(NULL, a, 1, 1, 1, 1));
    EXPECT_ASSERT(scn_recipe_apply(NULL, NULL, NULL));
    EXPECT_ASSERT(scn_checkpoint_save(NULL, NULL, NULL, NULL));
    EXPECT_ASSERT(scn_checkpoint_load(NULL, NULL, NULL));
    EXPECT_ASSERT(scn_checkpoint_encode(NULL, NULL, NULL, NULL, NULL));
    EXPECT_ASSERT(scn_checkpoint_decode(NULL, 8, "x", NULL, NULL));
    EXPECT_ASSERT(scn_crc32(0, NULL, 10));
    EXPECT_ASSERT(scn_gemm(0, 0, 2, 2, 2, 1.0f, NULL, 2, D, 2, 0.0f, a, 2));
    EXPECT_ASSERT(scn_im2col(&g, NULL, a));
    /* the ones documented as fine with NULL stay fine */
    scn_tensor_free(NULL);
    scn_workspace_free(NULL);
    scn_dataset_close(NULL);
    scn_idx_free(NULL);
    scn_shuffle(NULL, 0, &r);
    scn_train_state_free(NULL);
    CHECK(scn_recipe_find(NULL) == NULL && scn_recipe_get(99) == NULL, "recipes of nothing");
    CHECK(scn_augment(a, 1, 1, 1, 2, 0, 0, NULL) == SCN_OK, "augment without r: %s",
          scn_error());
    CHECK(scn_npy_parse(NULL, 0, NULL) == NULL && strstr(scn_error(), ".npy data"),
          "parse of nothing: %s", scn_error());
    scn_tensor_free(t);
}

int main(void) {
    alarm(30);
    snprintf(dir, sizeof dir, "/tmp/scn_harden_XXXXXX");
    if (!mkdtemp(dir)) { perror("mkdtemp"); return 1; }
    test_outputs();
    test_lock();
    test_threads();
    test_inputs();
    test_null();
    test_float_range();
    {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    }
    return check_summary("harden");
}
