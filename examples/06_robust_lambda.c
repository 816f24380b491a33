/* 06_robust_lambda.c - lesson 6: a convolutional sparse code under noise (SDNet).
 *
 *   apt-get install -y libstb-dev dataset-fashion-mnist
 *   cc -O2 -fopenmp -o 06_robust_lambda examples/06_robust_lambda.c -lm
 *   ./06_robust_lambda [--quick] [fashion-mnist-dir]   (writes 06_robust_lambda.png)
 *
 * A csc layer codes the whole image with a convolutional dictionary A:
 * z = argmin lambda |z|_1 + 1/2 |x - A(z)|^2 (SDNet eqs. 3-4), solved by
 * two unrolled FISTA steps. lambda is not learned, so it can change after
 * training. A small net with a csc first layer is trained on clean
 * images; then test images get Gaussian noise at CIFAR-10-C severities
 * 0 (none), 1, 3 and 5, and for lambdas 0.05 to 0.4 the lesson prints the
 * accuracy and the mean residual |x - A(z)| at the csc layer, and which
 * lambda is best at each noise level (SDNet section 3.3: noisier inputs
 * want a larger lambda). --quick: one step on 64 images, 200 test
 * images, to test the build.
 */
#define _POSIX_C_SOURCE 200809L
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "../tools/png.h"

enum { TRAIN = 3000, LAMBDAS = 4, LEVELS = 4, BATCH = 100 };
static const float lambdas[LAMBDAS] = { 0.05f, 0.1f, 0.2f, 0.4f };
static const int levels[LEVELS] = { 0, 1, 3, 5 };     /* 0: clean */

/* Accuracy and mean csc residual on the first n test images, corrupted at
 * `severity` (before normalising, as a camera would). */
static int score(scn_net *net, scn_dataset *test, const scn_train_state *st, int n,
                 int severity, double *accuracy, double *residual) {
    static float x[BATCH * 784], r[BATCH];
    static unsigned char y[BATCH];
    int idx[BATCH], b, i, j, right = 0;
    scn_rng noise;
    double rsum = 0.0;
    scn_rng_seed(&noise, 6, (uint64_t)severity);   /* the same noise for every lambda */
    for (b = 0; b < n; b += BATCH) {
        int m = n - b < BATCH ? n - b : BATCH;
        const float *z;
        for (i = 0; i < m; i++) idx[i] = b + i;
        if (scn_dataset_read(test, idx, m, x, y)) return 1;
        if (severity && scn_corrupt(x, (size_t)m * 784, "gaussian", severity, &noise)) return 1;
        scn_normalize(x, m, 1, 784, st->mean, st->std);
        if (!(z = scn_net_forward(net, x, m, 0)) || scn_net_csc_residual(net, r)) return 1;
        for (i = 0; i < m; i++) {
            int best = 0;
            for (j = 1; j < 10; j++) if (z[i * 10 + j] > z[i * 10 + best]) best = j;
            right += best == y[i];
            rsum += r[i];
        }
    }
    *accuracy = (double)right / n;
    *residual = rsum / n;
    return 0;
}

int main(int argc, char **argv) {
    int quick = argc > 1 && !strcmp(argv[1], "--quick"), rc = 1, e, l, v, best[LEVELS];
    const char *dir = argc > 1 + quick ? argv[1 + quick] : "/usr/share/datasets/fashion-mnist";
    int tests = quick ? 200 : 2000;
    double acc[LEVELS][LAMBDAS], res[LEVELS][LAMBDAS], xs[LAMBDAS];
    scn_dataset *train = NULL, *test = NULL;
    scn_net *net = NULL;
    scn_sgd opt;
    scn_train_state st = { 0 };
    scn_train_desc td = { 0 };
    scn_pass_result pr;
    canvas cv;
    chart k = { 60, 50, 360, 220, 0.0, 0.45, 0.0, 1.0, 0, 0, 0 };
    static const unsigned colors[LEVELS] = { 0x1f77b4, 0x2ca02c, 0xff7f0e, 0xd62728 };
    memset(&opt, 0, sizeof opt);
    if (!(train = scn_dataset_open(dir, "train", NULL)) ||
        !(test = scn_dataset_open(dir, "test", NULL)))
        goto fail;
    /* the csc layer first (16 atoms of 3 x 3, lambda 0.1, 2 FISTA steps),
     * then a small convolutional classifier */
    if (!(net = scn_net_create("csc:n=16,l1=0.1 bn relu maxpool conv:n=32 bn relu gap "
                               "linear:n=10", 1, 28, 28, 1)) ||
        scn_sgd_init(&opt, net, NULL) || scn_dataset_stats(train, st.mean, st.std))
        goto fail;
    scn_rng_seed(&st.rng, 1, 6);
    td.item_count = quick ? 64 : TRAIN;
    for (e = 0; e < (quick ? 1 : 3); e++)
        if (scn_train_epoch(net, &opt, train, &st, &td, &pr)) goto fail;
    printf("trained on %d clean images: train accuracy %.1f%%\n", td.item_count,
           100 * pr.accuracy);
    printf("severity  lambda  accuracy  residual |x - A(z)|\n");
    for (v = 0; v < LEVELS; v++)
        for (l = 0; l < LAMBDAS; l++) {
            if (scn_net_set_csc_lambda(net, 0, lambdas[l]) ||
                score(net, test, &st, tests, levels[v], &acc[v][l], &res[v][l]))
                goto fail;
            printf("%8d  %6.2f  %7.2f%%  %8.3f\n", levels[v], lambdas[l], 100 * acc[v][l],
                   res[v][l]);
        }
    if (!canvas_init(&cv, 460, 330)) goto fail;
    chart_axes(&cv, &k, "accuracy against lambda", "lambda (trained at 0.1)", "accuracy");
    for (l = 0; l < LAMBDAS; l++) xs[l] = lambdas[l];
    for (v = 0; v < LEVELS; v++) {
        char label[32];
        snprintf(label, sizeof label, levels[v] ? "noise severity %d" : "clean", levels[v]);
        chart_series(&cv, &k, xs, acc[v], LAMBDAS, colors[v], 1, label);
    }
    rc = canvas_save(&cv, "06_robust_lambda.png", "06_robust_lambda");
    canvas_free(&cv);
    if (rc) goto done;
    printf("wrote 06_robust_lambda.png\n");
    for (v = 0; v < LEVELS; v++) {
        best[v] = 0;
        for (l = 1; l < LAMBDAS; l++) if (acc[v][l] > acc[v][best[v]]) best[v] = l;
        printf("severity %d: best lambda %.2f (%.2f%%)\n", levels[v], lambdas[best[v]],
               100 * acc[v][best[v]]);
    }
    /* the checks (not in --quick, whose net is untrained): the net learned,
     * and the strongest noise wants a lambda at least as large as clean
     * images do */
    if (!quick) rc = acc[0][1] < 0.5 || best[LEVELS - 1] < best[0];
    printf(rc ? "FAIL: the net did not learn, or noise made the best lambda smaller\n"
              : "checks passed%s\n", quick ? "" : ": the best lambda grows with the noise");
    goto done;
fail:
    fprintf(stderr, "%s\n", scn_error());
done:
    scn_sgd_free(&opt);
    scn_net_free(net);
    scn_dataset_close(train);
    scn_dataset_close(test);
    return rc;
}
