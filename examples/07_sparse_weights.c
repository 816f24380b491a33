/* 07_sparse_weights.c - lesson 7: sparse weights from few images (DDSE).
 *
 *   apt-get install -y libstb-dev dataset-fashion-mnist
 *   cc -O2 -fopenmp -o 07_sparse_weights examples/07_sparse_weights.c -lm
 *   ./07_sparse_weights [--quick] [fashion-mnist-dir]   (writes 07_sparse_weights.png)
 *
 * The deep double sparsity encoder (Wang et al.) writes a dictionary as
 * D = D0 S: D0 the eigenvectors of the data's covariance (PCA, DDSE eq.
 * 5), S sparse, s nonzeros per atom (eq. 3). Unfolding ISTA on it gives a
 * layer whose weights W1 = S^T, W2 = S, W3 = S^T are trained as a network
 * and projected back to s nonzeros per row or column every 15 steps (eq.
 * 8). Here the same unfolded layer is trained twice on 50 images per
 * class: with dense weights (s = n, the projection keeps all) and with
 * s = n / 16, and both are tested on 2000 test images (--quick: one
 * epoch, 200 test images, to test the build). The picture shows
 * atoms of each as images: a row of W1 taken back through D0.
 */
#define _POSIX_C_SOURCE 200809L
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "../tools/png.h"
#include <time.h>

enum { PER_CLASS = 50, TEST = 2000, CODES = 128 };

typedef struct result {
    double accuracy, seconds;
    int most;                   /* most nonzeros in a row of W1 */
    float atoms[8][784];        /* rows of W1 in pixel space */
} result;

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

/* Trains "pca ddse:n=128,iters=1,nnz=s linear" on the items, then tests. */
static int run(scn_dataset *train, scn_dataset *test, const int *items, int count, int s,
               int epochs, int tests, result *out) {
    char spec[128];
    scn_net *net;
    scn_sgd opt;
    scn_sgd_desc sd = { 0 };
    scn_train_state st = { 0 };
    scn_train_desc td = { 0 }, ed = { 0 };
    scn_pass_result r;
    size_t nb, n = 784, at;
    const float *W1, *B;
    int i, j, q;
    snprintf(spec, sizeof spec, "pca ddse:n=%d,iters=1,nnz=%d linear:n=%d", CODES, s,
             train->classes);
    if (!(net = scn_net_create(spec, 1, 28, 28, 1))) return 1;
    sd.lr = 0.01f;                  /* DDSE section 4.1: lr 0.01, momentum 0.9 */
    sd.weight_decay = -1.0f;        /* no weight decay: the projection regularises */
    if (scn_sgd_init(&opt, net, &sd) || scn_dataset_stats(train, st.mean, st.std)) return 1;
    scn_rng_seed(&st.rng, 1, 7);
    td.batch = 50;
    td.items = items;
    td.item_count = count;
    ed.item_count = tests;
    out->seconds = -now();
    for (i = 0; i < epochs; i++)    /* the first epoch also fits the PCA basis */
        if (scn_train_epoch(net, &opt, train, &st, &td, &r)) return 1;
    out->seconds += now();
    if (scn_evaluate(net, test, &st, &ed, &r, NULL)) return 1;
    out->accuracy = r.accuracy;
    /* W1 (CODES x 784) is the ddse layer's first block; the pca basis B (rows
     * the eigenvectors) the net's first buffers: atom i in pixels = B^T W1[i] */
    W1 = scn_net_params(net) + scn_net_layer_params(net, 1, &at);
    B = scn_net_buffers(net, &nb);
    out->most = 0;
    for (i = 0; i < CODES; i++) {
        int nz = 0;
        for (q = 0; q < (int)n; q++) nz += W1[i * n + q] != 0.0f;
        if (nz > out->most) out->most = nz;
    }
    for (i = 0; i < 8; i++)
        for (j = 0; j < (int)n; j++) {
            double v = 0.0;
            for (q = 0; q < (int)n; q++) v += (double)W1[i * n + q] * B[q * n + j];
            out->atoms[i][j] = (float)v;
        }
    scn_sgd_free(&opt);
    scn_net_free(net);
    return 0;
}

/* Each atom scaled to its own largest magnitude, gray 0 in the middle. */
static void draw_atoms(canvas *cv, int y, const char *label, float atoms[8][784]) {
    int i, j;
    canvas_text(cv, 10, y, label, 2, 0);
    for (i = 0; i < 8; i++) {
        float top = 1e-12f;
        for (j = 0; j < 784; j++) if (fabsf(atoms[i][j]) > top) top = fabsf(atoms[i][j]);
        canvas_gray_image(cv, 10 + 90 * i, y + 24, atoms[i], 28, 28, 3, -top, top);
    }
}

int main(int argc, char **argv) {
    int quick = argc > 1 && !strcmp(argv[1], "--quick");
    const char *dir = argc > 1 + quick ? argv[1 + quick] : "/usr/share/datasets/fashion-mnist";
    static result dense, sparse;
    scn_dataset *train = NULL, *test = NULL;
    int items[10 * PER_CLASS], count, rc = 1, epochs = quick ? 1 : 30;
    int tests = quick ? 200 : TEST;
    scn_rng pick;
    canvas cv;
    if (!(train = scn_dataset_open(dir, "train", NULL)) ||
        !(test = scn_dataset_open(dir, "test", NULL)))
        goto fail;
    scn_rng_seed(&pick, 1, 1);
    if ((count = scn_dataset_per_class(train, PER_CLASS, &pick, items)) < 0) goto fail;
    printf("%d training images (%d per class), %d epochs, %d test images\n", count,
           PER_CLASS, epochs, tests);
    if (run(train, test, items, count, 784, epochs, tests, &dense) ||
        run(train, test, items, count, 784 / 16, epochs, tests, &sparse))
        goto fail;
    printf("dense  W (s = 784): test accuracy %.2f%%, %.1f s\n", 100 * dense.accuracy,
           dense.seconds);
    printf("sparse W (s = 49):  test accuracy %.2f%%, %.1f s, at most %d nonzeros per row "
           "of W1\n", 100 * sparse.accuracy, sparse.seconds, sparse.most);
    if (!canvas_init(&cv, 740, 250)) goto fail;
    draw_atoms(&cv, 8, "atoms of the dense layer: rows of W1 through D0", dense.atoms);
    draw_atoms(&cv, 128, "atoms with s = n/16: 49 principal components each", sparse.atoms);
    rc = canvas_save(&cv, "07_sparse_weights.png", "07_sparse_weights");
    canvas_free(&cv);
    if (rc) goto done;
    printf("wrote 07_sparse_weights.png\n");
    /* the checks: the projection held, and both nets learned (not in --quick) */
    rc = sparse.most > 784 / 16;
    if (!quick) rc |= dense.accuracy < 0.5 || sparse.accuracy < 0.5;
    printf(rc ? "FAIL: a row of W1 kept more than s, or a net did not learn\n"
              : "checks passed: s nonzeros per row of W1%s\n",
           quick ? "" : ", both nets above 50%");
    goto done;
fail:
    fprintf(stderr, "%s\n", scn_error());
done:
    scn_dataset_close(train);
    scn_dataset_close(test);
    return rc;
}
