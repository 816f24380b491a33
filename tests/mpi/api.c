/* api.c - scn.h section 17 through its API, run on 2 ranks by
 * tests/test_mpi.sh (mpirun -np 2 bin/mpi_api):
 *   - an argument error and a failure on one rank are every rank's, named;
 *   - scn_mpi_sync gives every rank rank 0's net, and refuses another net;
 *   - on a data set held in memory (with crops, flips and dropout), one
 *     rank alone (MPI_COMM_SELF) with synchronised BN is bit-identical to
 *     scn_train_epoch, and with per-shard BN over 2 shards to both ranks
 *     together; a batch that does not split and mu > 0 are refused.
 */
#define SCN_MPI
#define SCN_IMPLEMENTATION
#include "../../scn.h"
#include "../check.h"

#define ITEMS 96
#define SIDE 8
static const char *net_spec = "conv:n=4 bn relu dropout:p=0.25 conv:n=6 bn relu gap "
                              "linear:n=10";
static unsigned char labels[ITEMS];

/* Item i: a smooth pattern that depends on its label, plus a ripple. */
static scn_status toy_read(scn_dataset *ds, const int *idx, int n, float *x,
                           unsigned char *lab) {
    int b, p;
    (void)ds;
    for (b = 0; b < n; b++) {
        int i = idx[b];
        for (p = 0; p < SIDE * SIDE; p++)
            x[b * SIDE * SIDE + p] = 0.5f + 0.4f * (float)sin(0.3 * p * (1 + labels[i]) + i);
        if (lab) lab[b] = labels[i];
    }
    return SCN_OK;
}

static scn_dataset toy(void) {
    scn_dataset ds;
    int i;
    memset(&ds, 0, sizeof ds);
    for (i = 0; i < ITEMS; i++) labels[i] = (unsigned char)(i % 10);
    ds.count = ITEMS; ds.C = 1; ds.H = SIDE; ds.W = SIDE; ds.classes = 10;
    ds.labels = labels;
    ds.read = toy_read;
    return ds;
}

/* A fresh net, optimiser and state, the same on every call. */
static scn_net *fresh(scn_sgd *opt, scn_train_state *st) {
    scn_net *net = scn_net_create(net_spec, 1, SIDE, SIDE, 7);
    memset(st, 0, sizeof *st);
    scn_rng_seed(&st->rng, 3, 0x7a1);
    st->mean[0] = 0.5f;
    st->std[0] = 0.3f;
    if (!net || scn_sgd_init(opt, net, NULL)) return NULL;
    return net;
}

/* Two epochs of training from fresh(): on m (NULL: scn_train_epoch). */
static scn_net *train(scn_mpi *m, scn_dataset *ds, scn_sgd *opt, scn_train_state *st) {
    scn_train_desc d;
    scn_net *net = fresh(opt, st);
    int e;
    memset(&d, 0, sizeof d);
    d.batch = 16; d.crop = 2; d.flip = 1;
    for (e = 0; net && e < 2; e++) {
        scn_status s = m ? scn_mpi_train_epoch(m, net, opt, ds, st, &d, NULL)
                         : scn_train_epoch(net, opt, ds, st, &d, NULL);
        CHECK(s == SCN_OK, "epoch %d: %s", e, scn_error());
    }
    return net;
}

static int same(scn_net *a, const scn_sgd *oa, scn_net *b, const scn_sgd *ob) {
    size_t na = 0, nb = 0;
    const float *ba = scn_net_buffers(a, &na), *bb = scn_net_buffers(b, &nb);
    return scn_net_param_count(a) == scn_net_param_count(b) && na == nb &&
           !memcmp(scn_net_params(a), scn_net_params(b), scn_net_param_count(a) * 4) &&
           !memcmp(ba, bb, na * 4) &&
           !memcmp(oa->velocity, ob->velocity, oa->count * 4) &&
           !memcmp(scn_net_rng(a), scn_net_rng(b), sizeof(scn_rng));
}

static void test_errors(int rank) {
    scn_mpi m;
    scn_mpi_desc d = {1, 3};
    scn_dataset *ds;
    scn_status s;
    CHECK(scn_mpi_init(&m, MPI_COMM_WORLD, &d) == SCN_ERR_ARG &&
          strstr(scn_error(), "3 shards"), "%s", scn_error());
    scn_mpi_free(&m);
    CHECK(scn_mpi_init(&m, MPI_COMM_WORLD, NULL) == SCN_OK, "%s", scn_error());
    CHECK(m.size == 2 && m.desc.shards == 2, "%d ranks, %d shards", m.size, m.desc.shards);
    ds = rank == 1 ? scn_dataset_open("/nonexistent/scn", "train", NULL) : NULL;
    s = scn_mpi_agree(&m, rank == 1 ? SCN_ERR_IO : SCN_OK);
    CHECK(s == SCN_ERR_IO && m.shared && !strncmp(scn_error(), "rank 1: ", 8) &&
          strstr(scn_error(), "/nonexistent/scn"), "%d %s", (int)s, scn_error());
    CHECK(scn_mpi_agree(&m, SCN_OK) == SCN_OK, "%s", scn_error());
    scn_dataset_close(ds);
    scn_mpi_free(&m);
}

static void test_sync(int rank) {
    scn_mpi m;
    scn_sgd opt;
    scn_train_state st;
    scn_net *net = scn_net_create(net_spec, 1, SIDE, SIDE, 100 + rank), *other;
    float first;
    CHECK(net && scn_sgd_init(&opt, net, NULL) == SCN_OK, "%s", scn_error());
    memset(&st, 0, sizeof st);
    st.epoch = 10 + rank;
    scn_mpi_init(&m, MPI_COMM_WORLD, NULL);
    CHECK(scn_mpi_sync(&m, net, &opt, &st) == SCN_OK, "%s", scn_error());
    first = scn_net_params(net)[0];
    MPI_Bcast(&first, 1, MPI_FLOAT, 0, MPI_COMM_WORLD);
    CHECK(st.epoch == 10 && scn_net_params(net)[0] == first, "epoch %d", st.epoch);
    other = scn_net_create(rank ? "linear:n=10" : net_spec, 1, SIDE, SIDE, 1);
    CHECK(scn_mpi_sync(&m, other, NULL, NULL) == SCN_ERR_ARG && m.shared,
          "%s", scn_error());
    scn_net_free(other);
    scn_sgd_free(&opt);
    scn_net_free(net);
    scn_mpi_free(&m);
}

static void test_training(int rank) {
    scn_dataset ds = toy();
    scn_mpi_desc local = {1, 2};
    scn_mpi m, self;
    scn_sgd o1, o2, o3;
    scn_train_state s1, s2, s3;
    scn_train_desc bad;
    scn_net *a, *b = NULL, *c = NULL, *d = NULL;
    int ok = 1;
    /* both ranks together, per-shard BN over 2 shards */
    scn_mpi_init(&m, MPI_COMM_WORLD, &local);
    a = train(&m, &ds, &o1, &s1);
    memset(&bad, 0, sizeof bad);
    bad.batch = 15;
    CHECK(scn_mpi_train_epoch(&m, a, &o1, &ds, &s1, &bad, NULL) == SCN_ERR_ARG &&
          strstr(scn_error(), "equal shards"), "%s", scn_error());
    bad.batch = 16;
    bad.mu = 0.5f;
    CHECK(scn_mpi_train_epoch(&m, a, &o1, &ds, &s1, &bad, NULL) == SCN_ERR_ARG,
          "%s", scn_error());
    scn_mpi_free(&m);
    if (rank == 0) {
        /* rank 0 alone: the same 2 shards in turn, and synchronised BN */
        scn_mpi_init(&self, MPI_COMM_SELF, &local);
        b = train(&self, &ds, &o2, &s2);
        CHECK(a && b && same(a, &o1, b, &o2), "2 ranks and 1 rank (2 shards) differ");
        scn_mpi_free(&self);
        scn_mpi_init(&self, MPI_COMM_SELF, NULL);
        c = train(&self, &ds, &o3, &s3);
        d = train(NULL, &ds, &o2, &s2);
        CHECK(c && d && same(c, &o3, d, &o2), "1 rank and scn_train_epoch differ");
        CHECK(c && !same(a, &o1, c, &o3), "per-shard and synchronised BN agree: no test");
        scn_mpi_free(&self);
        ok = !check_failures;
    }
    MPI_Bcast(&ok, 1, MPI_INT, 0, MPI_COMM_WORLD);
    CHECK(ok, "rank 0's comparisons failed");
    scn_net_free(a); scn_net_free(b); scn_net_free(c); scn_net_free(d);
}

int main(int argc, char **argv) {
    int rank, size, failed;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    CHECK(size == 2, "run on 2 ranks, not %d", size);
    if (size == 2) {
        test_errors(rank);
        test_sync(rank);
        test_training(rank);
    }
    failed = check_summary(rank ? "mpi_api (rank 1)" : "mpi_api");
    MPI_Finalize();
    return failed;
}
