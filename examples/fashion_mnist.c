/* fashion_mnist.c - train a small sparse-coding network on Fashion-MNIST.
 *
 *   apt-get install -y libstb-dev dataset-fashion-mnist
 *   cc -O2 -fopenmp -o bin/fashion_mnist examples/fashion_mnist.c -lm
 *   bin/fashion_mnist [epochs] [data-dir]
 *
 * Every layer of the network below solves a nonnegative elastic net per
 * 3x3 patch (SCN eq. 1) and is trained end to end through the solution's
 * optimality conditions (SCN eqs. 11-17). The whole loop is here: load,
 * normalise, shuffle, forward, loss, backward, SGD step, evaluate.
 */
#define _POSIX_C_SOURCE 200809L
#define SCN_IMPLEMENTATION
#include "../scn.h"

#include <stdio.h>
#include <stdlib.h>

#define BATCH 64

/* Fraction of the test set the net classifies right. */
static double accuracy(scn_net *net, scn_dataset *test, const float *mean,
                       const float *std, float *x, unsigned char *labels) {
    int idx[BATCH], i, b, j, n, K = scn_net_classes(net), right = 0;
    for (i = 0; i < test->count; i += n) {
        const float *z;
        n = test->count - i < BATCH ? test->count - i : BATCH;
        for (b = 0; b < n; b++) idx[b] = i + b;
        scn_dataset_read(test, idx, n, x, labels);
        scn_normalize(x, n, test->C, test->H * test->W, mean, std);
        if (!(z = scn_net_forward(net, x, n, 0))) return -1.0;
        for (b = 0; b < n; b++) {
            int best = 0;
            for (j = 1; j < K; j++) if (z[b * K + j] > z[b * K + best]) best = j;
            right += best == labels[b];
        }
    }
    return (double)right / test->count;
}

int main(int argc, char **argv) {
    int epochs = argc > 1 ? atoi(argv[1]) : 2, e, step, i;
    const char *dir = argc > 2 ? argv[2] : "/usr/share/datasets/fashion-mnist";
    scn_dataset *train = scn_dataset_open(dir, "train", NULL);
    scn_dataset *test = scn_dataset_open(dir, "test", NULL);
    scn_net *net;
    scn_sgd opt;
    scn_rng rng;
    float mean[SCN_MAX_CHANNELS], std[SCN_MAX_CHANNELS], *x, dlogits[BATCH * 10];
    unsigned char labels[BATCH];
    int *order;
    size_t item;
    if (!train || !test) {
        fprintf(stderr, "%s\n", scn_error());
        return 1;
    }
    net = scn_net_create("scn-mnist", train->C, train->H, train->W, 1);
    if (!net || scn_sgd_init(&opt, net, NULL) || scn_dataset_stats(train, mean, std)) {
        fprintf(stderr, "%s\n", scn_error());
        return 1;
    }
    item = (size_t)train->C * train->H * train->W;
    x = malloc(item * BATCH * sizeof *x);
    order = malloc(train->count * sizeof *order);
    for (i = 0; i < train->count; i++) order[i] = i;
    scn_rng_seed(&rng, 1, 2);
    printf("%zu parameters, %d training images\n", scn_net_param_count(net), train->count);

    for (e = 0; e < epochs; e++) {
        double loss_sum = 0.0;
        scn_shuffle(order, train->count, &rng);
        for (step = 0; step + 1 <= train->count / BATCH; step++) {
            const float *z;
            double loss;
            scn_dataset_read(train, order + step * BATCH, BATCH, x, labels);
            scn_normalize(x, BATCH, train->C, train->H * train->W, mean, std);
            scn_net_zero_grad(net);
            z = scn_net_forward(net, x, BATCH, 1);
            if (!z || scn_softmax_xent(z, labels, BATCH, 10, dlogits, &loss, NULL) ||
                scn_net_backward(net, dlogits, NULL) ||
                scn_sgd_step(&opt, net, scn_sgd_lr(&opt, e))) {
                fprintf(stderr, "%s\n", scn_error());
                return 1;
            }
            loss_sum += loss;
            if (step % 100 == 99)
                fprintf(stderr, "\repoch %d step %d loss %.4f", e + 1, step + 1,
                        loss_sum / ((step + 1) * BATCH));
        }
        fprintf(stderr, "\n");
        printf("epoch %d: test accuracy %.2f%%\n", e + 1,
               100.0 * accuracy(net, test, mean, std, x, labels));
    }
    free(x);
    free(order);
    scn_sgd_free(&opt);
    scn_net_free(net);
    scn_dataset_close(train);
    scn_dataset_close(test);
    return 0;
}
