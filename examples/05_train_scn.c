/* 05_train_scn.c - lesson 5: a small sparse-coding network trained on Fashion-MNIST.
 *
 *   apt-get install -y libstb-dev dataset-fashion-mnist
 *   cc -O2 -fopenmp -o 05_train_scn examples/05_train_scn.c -lm
 *   ./05_train_scn [epochs] [data-dir]
 *
 * Every sc layer of the network solves a nonnegative elastic net per 3x3
 * patch (SCN eq. 1) and is trained end to end through the solution's
 * optimality conditions (SCN eqs. 11-17). The library runs the loop:
 * scn_train_epoch shuffles, normalises, takes the forward pass, the loss,
 * the backward pass and the SGD step for every batch; scn_bn_recompute
 * measures the BN statistics of the trained weights and scn_evaluate
 * scores the test split. This file opens the data, builds the net and
 * reports.
 */
#define _POSIX_C_SOURCE 200809L
#define SCN_IMPLEMENTATION
#include "../scn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Called by the library every half second: one line, rewritten in place. */
static void progress(const scn_progress *p, void *user) {
    (void)user;
    fprintf(stderr, "\r%s %d/%d loss %.4f acc %.2f%%   ", p->training ? "step" : "test",
            p->step, p->steps, p->loss, 100.0 * p->accuracy);
    if (p->step == p->steps) fputc('\n', stderr);
}

int main(int argc, char **argv) {
    int epochs = argc > 1 ? atoi(argv[1]) : 2, rc = 1;
    const char *dir = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist";
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
    if (!(train = scn_dataset_open(dir, "train", NULL)) ||
        !(test = scn_dataset_open(dir, "test", NULL)))
        goto fail;
    /* a small bottleneck SCN; the classifier as wide as the data has classes */
    snprintf(spec, sizeof spec, "sc:n=32 bn sc:n=8 bn sc:n=64,s=2 bn sc:n=16 bn "
             "sc:n=128,s=2 bn sc:n=32 bn gap linear:n=%d", train->classes);
    if (!(net = scn_net_create(spec, train->C, train->H, train->W, 1)) ||
        scn_sgd_init(&opt, net, NULL) ||                     /* lr 0.1, momentum 0.9 */
        scn_dataset_stats(train, st.mean, st.std))           /* per-channel normalisation */
        goto fail;
    scn_rng_seed(&st.rng, 1, 2);
    printf("%zu parameters, %d training images\n", scn_net_param_count(net), train->count);

    while (st.epoch < epochs) {
        if (scn_train_epoch(net, &opt, train, &st, &desc, &r)) goto fail;
        printf("epoch %d: loss %.4f, train accuracy %.2f%%\n", st.epoch, r.loss,
               100.0 * r.accuracy);
        /* BN statistics for these weights (the running averages trail them),
         * from 2048 training images, then the test split */
        if (scn_bn_recompute(net, train, &st, &desc, 2048) ||
            scn_evaluate(net, test, &st, &desc, &r, NULL))
            goto fail;
        printf("epoch %d: test accuracy %.2f%%\n", st.epoch, 100.0 * r.accuracy);
    }
    rc = 0;
fail:
    if (rc) fprintf(stderr, "%s\n", scn_error());
    scn_sgd_free(&opt);
    scn_net_free(net);
    scn_dataset_close(train);
    scn_dataset_close(test);
    return rc;
}
