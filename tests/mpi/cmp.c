/* cmp A.scn B.scn TOL - compares two checkpoints' parameters, BN buffers,
 * momentum and training state for tests/test_mpi.sh. TOL 0: every value
 * bit-identical (and the generators and step counts equal); TOL > 0: the
 * largest difference, relative to the largest magnitude in its layer,
 * must be at most TOL. Prints the largest difference either way; exits 1
 * when the checkpoints differ by more. */
#define SCN_IMPLEMENTATION
#include "../../scn.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The largest |a - b| relative to max |a| over each layer's parameters. */
static double param_gap(scn_net *a, scn_net *b) {
    const float *pa = scn_net_params(a), *pb = scn_net_params(b);
    double worst = 0.0;
    int i;
    for (i = 0; i < scn_net_layer_count(a); i++) {
        size_t n, at = scn_net_layer_params(a, i, &n), j;
        double big = 0.0, gap = 0.0;
        for (j = at; j < at + n; j++) {
            if (fabs(pa[j]) > big) big = fabs(pa[j]);
            if (fabs((double)pa[j] - pb[j]) > gap) gap = fabs((double)pa[j] - pb[j]);
        }
        if (big > 0 && gap / big > worst) worst = gap / big;
    }
    return worst;
}

int main(int argc, char **argv) {
    scn_sgd oa, ob;
    scn_train_state sa, sb;
    scn_net *a, *b;
    size_t na, nb;
    double tol, gap;
    int same;
    if (argc != 4) { fprintf(stderr, "usage: cmp A.scn B.scn TOL\n"); return 2; }
    tol = atof(argv[3]);
    if (!(a = scn_checkpoint_load(argv[1], &oa, &sa)) ||
        !(b = scn_checkpoint_load(argv[2], &ob, &sb))) {
        fprintf(stderr, "cmp: %s\n", scn_error());
        return 2;
    }
    if (scn_net_param_count(a) != scn_net_param_count(b) ||
        strcmp(scn_net_spec(a), scn_net_spec(b))) {
        fprintf(stderr, "cmp: different nets\n");
        return 1;
    }
    scn_net_buffers(a, &na);
    scn_net_buffers(b, &nb);
    same = na == nb && sa.step == sb.step && sa.epoch == sb.epoch && oa.steps == ob.steps &&
           !memcmp(scn_net_params(a), scn_net_params(b), scn_net_param_count(a) * 4) &&
           !memcmp(scn_net_buffers(a, &na), scn_net_buffers(b, &nb), na * 4) &&
           !memcmp(oa.velocity, ob.velocity, oa.count * 4) &&
           !memcmp(&sa.rng, &sb.rng, sizeof sa.rng) &&
           !memcmp(scn_net_rng(a), scn_net_rng(b), sizeof(scn_rng));
    gap = param_gap(a, b);
    printf("%s vs %s: %s, largest parameter difference %.3g of its layer's largest "
           "magnitude (step %lld)\n", argv[1], argv[2], same ? "bit-identical" : "different",
           gap, (long long)sa.step);
    return tol == 0.0 ? !same : !(gap <= tol && sa.step == sb.step);
}
