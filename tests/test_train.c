/* test_train.c - `scn train` and `scn eval` end to end on a tiny IDX data
 * set written here: a run resumed after a stop ends with the same weights
 * as an uninterrupted one; SIGKILL at random moments never leaves a
 * checkpoint that fails to load; bad data gives a one-line error. Run from
 * the repository root after `make` (it drives bin/scn). */
#include "../scn.h"
#include "check.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SCN_BIN            /* the portability run points it at its own build */
#define SCN_BIN "bin/scn"
#endif
#define MODEL "sc:n=6,l1=0.05 bn conv:n=4 relu gap linear:n=10"

static char dir[64];

static void put_be32(FILE *f, unsigned v) {
    unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
                           (unsigned char)(v >> 8), (unsigned char)v };
    fwrite(b, 1, 4, f);
}

/* count images of 8 x 8 whose brightness pattern depends on the label
 * (i % classes) */
static void write_split(const char *prefix, int count, int classes, unsigned seed) {
    char path[160];
    FILE *f;
    int i, p;
    scn_rng r;
    scn_rng_seed(&r, seed, 1);
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte", dir, prefix);
    f = fopen(path, "wb");
    put_be32(f, 0x801); put_be32(f, (unsigned)count);
    for (i = 0; i < count; i++) fputc(i % classes, f);
    fclose(f);
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte", dir, prefix);
    f = fopen(path, "wb");
    put_be32(f, 0x803); put_be32(f, (unsigned)count); put_be32(f, 8); put_be32(f, 8);
    for (i = 0; i < count; i++)
        for (p = 0; p < 64; p++)
            fputc((p % classes == i % classes ? 200 : 20) + (int)scn_rng_below(&r, 40), f);
    fclose(f);
}

static int run(const char *args) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, SCN_BIN " %s >%s/out.txt 2>%s/err.txt", args, dir, dir);
    return system(cmd);
}

static int file_has(const char *name, const char *text) {
    char path[160], buf[4096];
    size_t n;
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (!(f = fopen(path, "r"))) return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, text) != NULL;
}

static int same_weights(const char *a, const char *b) {
    char pa[160], pb[160];
    scn_net *x, *y;
    int same;
    snprintf(pa, sizeof pa, "%s/%s", dir, a);
    snprintf(pb, sizeof pb, "%s/%s", dir, b);
    x = scn_checkpoint_load(pa, NULL, NULL);
    y = scn_checkpoint_load(pb, NULL, NULL);
    same = x && y && scn_net_param_count(x) == scn_net_param_count(y) &&
           !memcmp(scn_net_params(x), scn_net_params(y),
                   scn_net_param_count(x) * sizeof(float));
    scn_net_free(x);
    scn_net_free(y);
    return same;
}

static void test_resume(void) {
    char args[512];
    snprintf(args, sizeof args, "train --data %s --model '" MODEL "' --epochs 3 --batch 8 "
             "--out %s/full.scn --log %s/full.csv", dir, dir, dir);
    CHECK(run(args) == 0, "uninterrupted run failed");
    CHECK(file_has("out.txt", "epoch 3/3"), "no epoch summary");
    snprintf(args, sizeof args, "train --data %s --model '" MODEL "' --epochs 1 --batch 8 "
             "--out %s/part.scn", dir, dir);
    CHECK(run(args) == 0, "first part failed");
    snprintf(args, sizeof args, "train --data %s --epochs 3 --batch 8 --out %s/part.scn "
             "--resume", dir, dir);
    CHECK(run(args) == 0, "resumed part failed");
    CHECK(file_has("out.txt", "resuming"), "did not resume");
    CHECK(same_weights("full.scn", "part.scn"), "resumed weights differ from uninterrupted");
    CHECK(file_has("full.csv", "epoch,lr,loss"), "no CSV header");
    snprintf(args, sizeof args, "eval --model %s/full.scn --data %s", dir, dir);
    CHECK(run(args) == 0 && file_has("out.txt", "test accuracy: "), "eval failed");
}

/* SIGKILL at random moments of a run that checkpoints every few ms. */
static void test_kill(void) {
    char out[160], model[] = MODEL;
    int trial, loaded = 0;
    scn_rng r;
    scn_rng_seed(&r, 5, 5);
    snprintf(out, sizeof out, "%s/kill.scn", dir);
    for (trial = 0; trial < 12; trial++) {
        pid_t pid = fork();
        struct timespec ts;
        scn_net *net;
        if (pid == 0) {
            char *argv[] = { (char *)SCN_BIN, (char *)"train", (char *)"--data", dir,
                             (char *)"--model", model, (char *)"--epochs", (char *)"100000",
                             (char *)"--batch", (char *)"8", (char *)"--limit", (char *)"16",
                             (char *)"--out", out, (char *)"--resume", NULL };
            if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
                _exit(127);
            execv(SCN_BIN, argv);
            _exit(127);
        }
        ts.tv_sec = 0;
        /* up to 0.55 s: a slow build on a loaded machine (i686 under the
           portability run) must still reach its first checkpoint in some trials */
        ts.tv_nsec = 50000000L + (long)scn_rng_below(&r, 500) * 1000000L;
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        if (access(out, F_OK) != 0) continue;
        net = scn_checkpoint_load(out, NULL, NULL);
        CHECK(net != NULL, "trial %d: checkpoint unreadable after SIGKILL: %s", trial,
              scn_error());
        loaded += net != NULL;
        scn_net_free(net);
    }
    CHECK(loaded > 0, "no checkpoint was ever written before a kill");
}

static void test_bad_data(void) {
    char args[512], path[160];
    FILE *f;
    snprintf(path, sizeof path, "%s/t10k-images-idx3-ubyte", dir);
    f = fopen(path, "r+b");
    if (f) { CHECK(ftruncate(fileno(f), 100) == 0, "truncate"); fclose(f); }
    snprintf(args, sizeof args, "eval --model %s/full.scn --data %s", dir, dir);
    CHECK(run(args) != 0 && file_has("err.txt", "t10k-images-idx3-ubyte"),
          "truncated test images accepted");
    snprintf(path, sizeof path, "%s/full.scn", dir);
    f = fopen(path, "r+b");
    if (f) { CHECK(ftruncate(fileno(f), 50) == 0, "truncate"); fclose(f); }
    write_split("t10k", 20, 10, 2);
    CHECK(run(args) != 0 && file_has("err.txt", "full.scn"), "truncated checkpoint accepted");
    snprintf(args, sizeof args, "train --data %s/nowhere --out %s/x.scn", dir, dir);
    CHECK(run(args) != 0 && file_has("err.txt", "nowhere"), "missing data accepted");
}

/* A preset's classifier takes the data's class count (here 12). */
static void test_classes(void) {
    char args[512];
    write_split("train", 48, 12, 3);
    write_split("t10k", 24, 12, 4);
    snprintf(args, sizeof args, "train --data %s --model scn-mnist --epochs 1 --batch 8 "
             "--out %s/c12.scn", dir, dir);
    CHECK(run(args) == 0, "scn-mnist on 12 classes failed");
    CHECK(file_has("out.txt", "12 classes"), "data not seen as 12 classes");
    CHECK(file_has("out.txt", "linear     12 x"), "the classifier is not 12 wide");
    write_split("train", 64, 10, 1);
    write_split("t10k", 20, 10, 2);
}

int main(void) {
    char cmd[128];
    strcpy(dir, "/tmp/scn_train.XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    CHECK(access(SCN_BIN, X_OK) == 0, SCN_BIN " is not built (run make first)");
    write_split("train", 64, 10, 1);
    write_split("t10k", 20, 10, 2);
    test_resume();
    test_kill();
    test_bad_data();
    test_classes();
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0, "cleanup");
    return check_summary("train");
}
