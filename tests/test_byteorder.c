/* test_byteorder.c - a checkpoint and a .npy file written on one byte order
 * load bit-identically on the other.
 *
 *   test_byteorder              write, then check, in a temporary directory
 *                               (the round trip on this machine)
 *   test_byteorder write DIR    DIR/net.scn after one training step (so the
 *                               BN buffers, velocity and state are set),
 *                               DIR/sparse.scn the same for a ddse net
 *                               (its weights mostly zero: the PARZ record),
 *                               DIR/t.npy, and beside each its values as
 *                               hexadecimal bit patterns (net.hex, sparse.hex,
 *                               t.hex: text, the same on every byte order)
 *   test_byteorder check DIR    loads them, compares every value's bits with
 *                               the .hex files, and encodes them again: the
 *                               bytes must equal the files read
 *
 * make portability writes on x86-64 and checks under qemu-s390x (big-
 * endian), then the reverse.
 */
#include "../scn.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* a dense net (PARM) and one whose weights are mostly zero (PARZ) */
static const char *const models[2][2] = {
    { "net", "sc:n=6,l1=0.05 bn conv:n=4 relu gap linear:n=10" },
    { "sparse", "ddse:n=12,iters=1,nnz=3,every=1 linear:n=10" },
};

static char dir[256];

static void path_of(char *out, size_t cap, const char *name) {
    snprintf(out, cap, "%s/%s", dir, name);
}

/* Appends the bit patterns of x[0..n) to f, one per line. */
static void put_hex(FILE *f, const float *x, size_t n) {
    size_t i;
    uint32_t u;
    for (i = 0; i < n; i++) {
        memcpy(&u, x + i, sizeof u);
        fprintf(f, "%08lx\n", (unsigned long)u);
    }
}

/* Compares the bit patterns of x[0..n) with the next n lines of f. */
static int same_hex(FILE *f, const float *x, size_t n, const char *what) {
    size_t i;
    unsigned long want;
    uint32_t u;
    for (i = 0; i < n; i++) {
        memcpy(&u, x + i, sizeof u);
        if (fscanf(f, "%lx", &want) != 1) {
            CHECK(0, "%s: the .hex file ends at value %zu of %zu", what, i, n);
            return 0;
        }
        if ((unsigned long)u != want) {
            CHECK(0, "%s value %zu: bits %08lx, written as %08lx", what, i,
                  (unsigned long)u, want);
            return 0;
        }
    }
    return 1;
}

/* NAME.scn after one training step of spec (BN buffers, velocity and
 * state set) and its values as NAME.hex */
static void write_net(const char *name, const char *spec, scn_rng *r) {
    char path[320], file[64];
    scn_net *net = scn_net_create(spec, 1, 8, 8, 7);
    scn_sgd opt;
    scn_train_state st;
    float x[4 * 64], dl[4 * 10];
    unsigned char labels[4] = { 1, 3, 5, 7 };
    const float *logits;
    double loss;
    size_t nb, i;
    float *buf;
    FILE *f;
    CHECK(net != NULL, "net: %s", scn_error());
    if (!net) return;
    CHECK(scn_sgd_init(&opt, net, NULL) == SCN_OK, "sgd: %s", scn_error());
    memset(&st, 0, sizeof st);
    for (i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = scn_rng_normal(r);
    /* one training step: BN running statistics, gradients, velocity */
    logits = scn_net_forward(net, x, 4, 1);
    CHECK(logits != NULL, "forward: %s", scn_error());
    if (logits) {
        CHECK(scn_softmax_xent(logits, labels, 4, 10, dl, &loss, NULL) == SCN_OK, "xent: %s",
              scn_error());
        CHECK(scn_net_backward(net, dl, NULL) == SCN_OK, "backward: %s", scn_error());
        CHECK(scn_sgd_step(&opt, net, 0.1f) == SCN_OK, "step: %s", scn_error());
    }
    st.epoch = 1; st.step = 1; st.batch = 4; st.rng = *r;
    st.mean[0] = 0.25f; st.std[0] = 1.5f;
    snprintf(file, sizeof file, "%s.scn", name);
    path_of(path, sizeof path, file);
    CHECK(scn_checkpoint_save(path, net, &opt, &st) == SCN_OK, "save: %s", scn_error());
    snprintf(file, sizeof file, "%s.hex", name);
    path_of(path, sizeof path, file);
    f = fopen(path, "w");
    CHECK(f != NULL, "%s", path);
    if (f) {
        buf = scn_net_buffers(net, &nb);
        put_hex(f, scn_net_params(net), scn_net_param_count(net));
        put_hex(f, buf, nb);
        fclose(f);
    }
    scn_sgd_free(&opt);
    scn_net_free(net);
}

static void write_files(void) {
    char path[320];
    scn_rng r;
    size_t i;
    FILE *f;
    scn_tensor *t;
    int shape[3] = { 3, 5, 7 }, k;
    scn_rng_seed(&r, 11, 3);
    for (k = 0; k < 2; k++) write_net(models[k][0], models[k][1], &r);
    /* the .npy: random values, and a signed zero, a subnormal, the largest
     * float, an infinity and a NaN payload that byte swapping must keep */
    t = scn_tensor_create(3, shape);
    CHECK(t != NULL, "tensor: %s", scn_error());
    if (t) {
        const uint32_t special[5] = { 0x80000000u, 0x00000001u, 0x7f7fffffu, 0xff800000u,
                                      0x7fc12345u };
        for (i = 0; i < t->size; i++) t->data[i] = scn_rng_normal(&r);
        for (i = 0; i < 5; i++) memcpy(t->data + 10 * i, special + i, 4);
        path_of(path, sizeof path, "t.npy");
        CHECK(scn_npy_save(path, t) == SCN_OK, "npy save: %s", scn_error());
        path_of(path, sizeof path, "t.hex");
        f = fopen(path, "w");
        CHECK(f != NULL, "%s", path);
        if (f) { put_hex(f, t->data, t->size); fclose(f); }
        scn_tensor_free(t);
    }
}

/* NAME.scn against NAME.hex, and encoded again against its own bytes */
static void check_net(const char *name) {
    char path[320], hex[64];
    scn_sgd opt;
    scn_train_state st;
    scn_net *net;
    unsigned char *file, *again = NULL;
    size_t len, len2 = 0, nb;
    FILE *f;
    snprintf(hex, sizeof hex, "%s.scn", name);
    path_of(path, sizeof path, hex);
    net = scn_checkpoint_load(path, &opt, &st);
    CHECK(net != NULL, "load %s: %s", path, scn_error());
    if (net) {
        snprintf(hex, sizeof hex, "%s.hex", name);
        path_of(path, sizeof path, hex);
        f = fopen(path, "r");
        CHECK(f != NULL, "%s", path);
        if (f) {
            float *buf = scn_net_buffers(net, &nb);
            if (same_hex(f, scn_net_params(net), scn_net_param_count(net), "parameter"))
                same_hex(f, buf, nb, "buffer");
            fclose(f);
        }
        CHECK(st.epoch == 1 && st.step == 1 && st.batch == 4 && st.mean[0] == 0.25f &&
              st.std[0] == 1.5f, "state: epoch %d step %lld batch %d mean %g std %g",
              st.epoch, (long long)st.step, st.batch, (double)st.mean[0],
              (double)st.std[0]);
        /* the velocity and SGD settings have no .hex: encoding again must
         * give the file's bytes, which covers them and every field */
        snprintf(hex, sizeof hex, "%s.scn", name);
        path_of(path, sizeof path, hex);
        file = check_read_file(path, &len);
        CHECK(scn_checkpoint_encode(net, &opt, &st, &again, &len2) == SCN_OK, "encode: %s",
              scn_error());
        CHECK(file && again && len == len2 && memcmp(file, again, len) == 0,
              "the checkpoint encoded again differs from the file read (%zu vs %zu bytes)",
              len, len2);
        if (file && !strcmp(name, "sparse")) {  /* the compact record is the one tested */
            size_t i;
            int parz = 0;
            for (i = 0; i + 4 <= len; i++) parz |= !memcmp(file + i, "PARZ", 4);
            CHECK(parz, "%s.scn holds no PARZ record", name);
        }
        free(file);
        scn_mem_free(again);
        scn_sgd_free(&opt);
        scn_net_free(net);
    }
}

static void check_files(void) {
    char path[320];
    scn_tensor *t;
    unsigned char *file;
    size_t len, len2 = 0;
    FILE *f;
    int k;
    for (k = 0; k < 2; k++) check_net(models[k][0]);
    path_of(path, sizeof path, "t.npy");
    t = scn_npy_load(path);
    CHECK(t != NULL, "load %s: %s", path, scn_error());
    if (t) {
        char copy[320];
        unsigned char *b2;
        CHECK(t->ndim == 3 && t->shape[0] == 3 && t->shape[1] == 5 && t->shape[2] == 7,
              "npy shape");
        path_of(path, sizeof path, "t.hex");
        f = fopen(path, "r");
        CHECK(f != NULL, "%s", path);
        if (f) { same_hex(f, t->data, t->size, "npy"); fclose(f); }
        path_of(copy, sizeof copy, "t.again.npy");
        CHECK(scn_npy_save(copy, t) == SCN_OK, "npy save: %s", scn_error());
        path_of(path, sizeof path, "t.npy");
        file = check_read_file(path, &len);
        b2 = check_read_file(copy, &len2);
        CHECK(file && b2 && len == len2 && memcmp(file, b2, len) == 0,
              "the .npy saved again differs from the file read");
        free(file);
        free(b2);
        remove(copy);
        scn_tensor_free(t);
    }
}

int main(int argc, char **argv) {
    if (argc == 3 && strlen(argv[2]) < sizeof dir) {
        strcpy(dir, argv[2]);
        if (strcmp(argv[1], "write") == 0) write_files();
        else if (strcmp(argv[1], "check") == 0) check_files();
        else CHECK(0, "usage: test_byteorder [write|check DIR]");
        return check_summary("byteorder");
    }
    strcpy(dir, "/tmp/scn_byteorder.XXXXXX");
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    write_files();
    check_files();
    {
        const char *names[] = { "net.scn", "net.hex", "t.npy", "t.hex" };
        char path[320];
        size_t i;
        for (i = 0; i < 4; i++) { path_of(path, sizeof path, names[i]); remove(path); }
        rmdir(dir);
    }
    return check_summary("byteorder");
}
