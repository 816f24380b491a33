/* threads.c - two threads training two networks at once get the bits one
 * thread gets training them one after the other (THREADS AND GLOBAL STATE
 * in scn.h: separate nets and optimisers may be used from separate
 * threads). Built with -fsanitize=thread by make portability, which then
 * also reports any data race inside the library. The first GEMM call of
 * the program is made by both threads at once (the lazily chosen kernel). */
#define SCN_IMPLEMENTATION
#include "../../scn.h"
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MODEL "sc:n=6,l1=0.05 bn conv:n=4 relu gap linear:n=10"
#define STEPS 3
#define BATCH 4

typedef struct {
    uint64_t seed;
    float *params;          /* out: the trained parameters (malloc'd) */
    size_t count;
    int failed;
    char error[512];        /* this thread's scn_error() on failure */
} job;

static void *train(void *arg) {
    job *j = (job *)arg;
    scn_net *net = scn_net_create(MODEL, 1, 8, 8, j->seed);
    scn_sgd opt;
    scn_rng r;
    float x[BATCH * 64], dl[BATCH * 10];
    unsigned char labels[BATCH];
    int step, i;
    j->failed = 1;
    if (!net || scn_sgd_init(&opt, net, NULL) != SCN_OK) goto out;
    scn_rng_seed(&r, j->seed, 9);
    for (step = 0; step < STEPS; step++) {
        const float *logits;
        double loss;
        for (i = 0; i < BATCH * 64; i++) x[i] = scn_rng_normal(&r);
        for (i = 0; i < BATCH; i++) labels[i] = (unsigned char)scn_rng_below(&r, 10);
        if (!(logits = scn_net_forward(net, x, BATCH, 1)) ||
            scn_softmax_xent(logits, labels, BATCH, 10, dl, &loss, NULL) != SCN_OK ||
            scn_net_backward(net, dl, NULL) != SCN_OK || scn_sgd_step(&opt, net, 0.1f) != SCN_OK)
            goto out_opt;
    }
    j->count = scn_net_param_count(net);
    j->params = (float *)malloc(j->count * sizeof(float));
    if (j->params) {
        memcpy(j->params, scn_net_params(net), j->count * sizeof(float));
        j->failed = 0;
    }
out_opt:
    scn_sgd_free(&opt);
out:
    if (j->failed) snprintf(j->error, sizeof j->error, "%s", scn_error());
    scn_net_free(net);
    return NULL;
}

int main(void) {
    job both[2], alone[2];
    pthread_t th[2];
    int i, bad = 0;
    memset(both, 0, sizeof both);
    memset(alone, 0, sizeof alone);
    for (i = 0; i < 2; i++) both[i].seed = alone[i].seed = (uint64_t)(i + 1);
    for (i = 0; i < 2; i++)
        if (pthread_create(&th[i], NULL, train, &both[i]) != 0) {
            fprintf(stderr, "threads: pthread_create failed\n");
            return 1;
        }
    for (i = 0; i < 2; i++) pthread_join(th[i], NULL);
    for (i = 0; i < 2; i++) train(&alone[i]);
    for (i = 0; i < 2; i++) {
        if (both[i].failed || alone[i].failed) {
            fprintf(stderr, "threads: net %d failed: %s%s\n", i, both[i].error, alone[i].error);
            bad = 1;
        } else if (both[i].count != alone[i].count ||
                   memcmp(both[i].params, alone[i].params, both[i].count * sizeof(float))) {
            fprintf(stderr, "threads: net %d trained in parallel differs from alone\n", i);
            bad = 1;
        }
        free(both[i].params);
        free(alone[i].params);
    }
    if (!bad) printf("threads: two nets, %d steps each, identical bits\n", STEPS);
    return bad;
}
