/* 05_train_scn.c - lesson 5: a small sparse-coding network trained on Fashion-MNIST.
 *
 *   apt-get install -y libstb-dev dataset-fashion-mnist
 *   cc -O2 -fopenmp -o 05_train_scn examples/05_train_scn.c -lm
 *   ./05_train_scn [--quick] [epochs] [images] [fashion-mnist-dir]
 *                                         (writes 05_train_scn.png)
 *
 * By default one epoch on the first 3000 training images, tested on the
 * first 3000 test images (under a minute on two cores); images 0 means
 * all of them (60000 and 10000). --quick takes one step, to test the build.
 *
 * Every sc layer of the network solves a nonnegative elastic net per 3x3
 * patch (SCN eq. 1) and is trained end to end through the solution's
 * optimality conditions (SCN eqs. 11-17). The library runs the loop:
 * scn_train_epoch shuffles, normalises, takes the forward pass, the loss,
 * the backward pass and the SGD step for every batch; scn_bn_recompute
 * measures the BN statistics of the trained weights and scn_evaluate
 * scores the test split. This file opens the data, builds the net,
 * reports, and draws what the first layer keeps of a few test images
 * (its reconstruction D alpha, scn_net_sc_recon) with the predictions.
 */
#define _POSIX_C_SOURCE 200809L
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "../tools/png.h"

static const char *names[10] = { "T-shirt", "trouser", "pullover", "dress", "coat",
                                 "sandal", "shirt", "sneaker", "bag", "boot" };

/* Called by the library every half second: one line, rewritten in place. */
static void progress(const scn_progress *p, void *user) {
    (void)user;
    fprintf(stderr, "\r%s %d/%d loss %.4f acc %.2f%%   ", p->training ? "step" : "test",
            p->step, p->steps, p->loss, 100.0 * p->accuracy);
    if (p->step == p->steps) fputc('\n', stderr);
}

/* Eight test images, what the first SC layer reconstructs of them, and the
 * net's guesses (green right, red wrong; the true class in gray below) as
 * 05_train_scn.png. */
static int draw(scn_net *net, scn_dataset *test, const scn_train_state *st) {
    static float x[8 * 784], in[8 * 784], rec[8 * 784];
    int idx[8] = { 0, 1, 2, 3, 4, 5, 6, 7 }, shape[4], i, j, rc;
    unsigned char labels[8];
    const float *logits;
    canvas cv;
    if (scn_dataset_read(test, idx, 8, x, labels) != SCN_OK) return 1;
    scn_normalize(x, 8, 1, 784, st->mean, st->std);
    if (!(logits = scn_net_forward(net, x, 8, 0)) || scn_net_sc_recon(net, 0, shape, in, rec))
        return 1;
    if (!canvas_init(&cv, 8 * 100 + 20, 290)) return 1;
    canvas_text(&cv, 10, 8, "test images, layer 1 reconstruction, prediction (truth)", 2, 0);
    for (i = 0; i < 8; i++) {
        int guess = 0;
        for (j = 1; j < 10; j++) if (logits[i * 10 + j] > logits[i * 10 + guess]) guess = j;
        canvas_gray_image(&cv, 20 + 100 * i, 40, in + i * 784, 28, 28, 3, -1.0, 2.5);
        canvas_gray_image(&cv, 20 + 100 * i, 140, rec + i * 784, 28, 28, 3, -1.0, 2.5);
        canvas_text(&cv, 20 + 100 * i, 240, names[guess], 2,
                    guess == labels[i] ? 0x2ca02c : 0xd62728);
        canvas_text(&cv, 20 + 100 * i, 264, names[labels[i]], 1, 0x606060);
    }
    rc = canvas_save(&cv, "05_train_scn.png", "05_train_scn");
    canvas_free(&cv);
    return rc;
}

int main(int argc, char **argv) {
    int quick = argc > 1 && !strcmp(argv[1], "--quick"), rc = 1;
    int epochs = argc > 1 + quick ? atoi(argv[1 + quick]) : 1;
    int images = quick ? 64 : argc > 2 + quick ? atoi(argv[2 + quick]) : 3000;
    const char *dir = argc > 3 + quick ? argv[3 + quick] : "/usr/share/datasets/fashion-mnist";
    scn_dataset *train = NULL, *test = NULL;
    scn_net *net = NULL;
    scn_sgd opt;
    scn_train_state st;
    scn_train_desc desc;
    scn_pass_result r;
    char spec[256];

    memset(&opt, 0, sizeof opt);
    memset(&st, 0, sizeof st);
    memset(&desc, 0, sizeof desc);          /* zero = defaults: batch 64, no augmentation */
    desc.progress = progress;
    desc.item_count = images;               /* the first `images` of each split (0: all) */
    if (!(train = scn_dataset_open(dir, "train", NULL)) ||
        !(test = scn_dataset_open(dir, "test", NULL)))
        goto fail;
    /* two bottleneck modules (SCN section 3.2: a wide expansion layer, then a
     * slim reduction layer), both at stride 2 to train in a minute; the
     * classifier as wide as the data has classes */
    snprintf(spec, sizeof spec, "sc:n=32,s=2 bn sc:n=8 bn sc:n=64,s=2 bn sc:n=16 bn "
             "gap linear:n=%d", train->classes);
    if (!(net = scn_net_create(spec, train->C, train->H, train->W, 1)) ||
        scn_sgd_init(&opt, net, NULL) ||                     /* lr 0.1, momentum 0.9 */
        scn_dataset_stats(train, st.mean, st.std))           /* per-channel normalisation */
        goto fail;
    scn_rng_seed(&st.rng, 1, 2);
    printf("%zu parameters, %d training images\n", scn_net_param_count(net),
           images > 0 && images < train->count ? images : train->count);

    while (st.epoch < epochs) {
        if (scn_train_epoch(net, &opt, train, &st, &desc, &r)) goto fail;
        printf("epoch %d: loss %.4f, train accuracy %.2f%%\n", st.epoch, r.loss,
               100.0 * r.accuracy);
        /* BN statistics for these weights (the running averages trail them),
         * from up to 2048 training images, then the test split */
        if (scn_bn_recompute(net, train, &st, &desc, images > 0 && images < 2048 ? images : 2048) ||
            scn_evaluate(net, test, &st, &desc, &r, NULL))
            goto fail;
        printf("epoch %d: test accuracy %.2f%%\n", st.epoch, 100.0 * r.accuracy);
    }
    if (draw(net, test, &st)) goto fail;
    printf("wrote 05_train_scn.png\n");
    /* the check: twice as good as guessing (--quick's one step: no check) */
    rc = !quick && r.accuracy < 2.0 / train->classes;
    if (rc) printf("FAIL: test accuracy %.2f%% is not twice chance\n", 100.0 * r.accuracy);
    else if (!quick)
        printf("check passed: the net learned (chance is %.0f%%)\n", 100.0 / train->classes);
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
