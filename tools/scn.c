/* scn - the command-line tool of scn.h.
 *
 *   cc -O2 -fopenmp -o bin/scn tools/scn.c -lm
 *
 * Built with -DSCN_MPI by mpicc it is bin/scn-mpi, whose one command,
 * train, runs over MPI ranks (scn.h section 17):
 *
 *   mpicc -O2 -fopenmp -DSCN_MPI -o bin/scn-mpi tools/scn.c -lm
 *   mpirun -np 2 bin/scn-mpi train --threads 1 ...
 *
 * Built with -DSCN_CUDA and linked with scn_cuda.cu's object (which holds
 * the implementation) it is bin/scn-cuda: the commands on the GPU, but
 * `scn layer`, which solves its host arrays on the CPU (`make cuda`;
 * README, "GPU backend").
 *
 * Each subcommand is a thin layer over the public API: it parses flags,
 * loads files, calls the library and writes results. No math lives here.
 */
#define _POSIX_C_SOURCE 200809L
#ifndef SCN_CUDA
#define SCN_IMPLEMENTATION
#endif
#include "../scn.h"
#ifdef SCN_CUDA
#define SCN_CUDA_DECLARATIONS_ONLY
#include "../scn_cuda.cu"
#endif

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include "png.h"

static const char *prog_cmd = "scn";

#ifdef SCN_MPI
/* bin/scn-mpi: ranks other than 0 print nothing (stdout and stderr go to
 * /dev/null) except a failure of their own that the others cannot share,
 * written to rank_err before MPI_Abort. */
static scn_mpi mpi;
static FILE *rank_err;
#define RANK0 (mpi.rank == 0)

/* A library status made every rank's: 0 everywhere, or non-zero
 * everywhere with scn_error() naming the failing rank. */
static scn_status shared(scn_status s) { return scn_mpi_agree(&mpi, s); }

/* Whether `bad` holds on any rank. */
static int any_rank(int bad) {
    int any = bad;
    MPI_Allreduce(&bad, &any, 1, MPI_INT, MPI_MAX, mpi.comm);
    if (any) mpi.shared = 1;
    return any;
}

/* A training failure: shared ones end every rank normally; one only this
 * rank saw ends the job, since the others may wait for it in a collective. */
static void unshared_failure(void) {
    if (mpi.shared || mpi.size == 1) return;
    fprintf(rank_err ? rank_err : stderr, "%s: rank %d: %s\n", prog_cmd, mpi.rank,
            scn_error());
    fflush(rank_err ? rank_err : stderr);
    MPI_Abort(MPI_COMM_WORLD, 1);
}
#else
#define RANK0 1
static scn_status shared(scn_status s) { return s; }
static int any_rank(int bad) { return bad; }
#endif

/* Prints "scn CMD: message" and returns the exit status 1. */
static char last_error[512];     /* what die printed last (scn-mpi repeats it) */
static int die(const char *fmt, const char *arg) {
    size_t n = (size_t)snprintf(last_error, sizeof last_error, "%s: ", prog_cmd);
    if (n < sizeof last_error) snprintf(last_error + n, sizeof last_error - n, fmt, arg);
    fprintf(stderr, "%s\n", last_error);
    return 1;
}

static int die_lib(void) { return die("%s", scn_error()); }

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Options: a table of names, kinds, destinations and allowed ranges. */
enum { OPT_STR, OPT_FLOAT, OPT_INT, OPT_FLAG };

typedef struct option {
    const char *name;
    int kind;
    void *dst;
    double min, max;    /* numbers: the allowed closed range */
    int *seen;          /* may be NULL: set to 1 when given */
} option;

/* Parses argv against opts. Returns 0 to go on, 1 after printing an error,
 * 2 after printing the help text. */
static int parse_options(int argc, char **argv, const option *opts, const char *help) {
    unsigned char given[64] = {0};
    int i;
    for (i = 0; i < argc; i++) {
        const option *o;
        const char *v;
        char *end;
        double x;
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(help, stdout);
            return 2;
        }
        for (o = opts; o->name && strcmp(o->name, argv[i]); o++) {}
        if (!o->name) {
            fprintf(stderr, "%s: unknown option %s (see %s --help)\n", prog_cmd, argv[i],
                    prog_cmd);
            return 1;
        }
        if (o - opts < 64 && given[o - opts]++)
            return die("%s is given twice", o->name);
        if (o->seen) *o->seen = 1;
        if (o->kind == OPT_FLAG) { *(int *)o->dst = 1; continue; }
        if (i + 1 >= argc) return die("%s needs a value", o->name);
        v = argv[++i];
        if (o->kind == OPT_STR) { *(const char **)o->dst = v; continue; }
        errno = 0;
        x = strtod(v, &end);
        if (end == v || *end || errno || strpbrk(v, "xX") || !(x >= o->min && x <= o->max) ||
            (o->kind == OPT_INT && x != (double)(long)x)) {
            if (o->kind == OPT_INT)
                fprintf(stderr, "%s: %s %s: need an integer in [%.0f, %.0f]\n", prog_cmd,
                        o->name, v, o->min, o->max);
            else
                fprintf(stderr, "%s: %s %s: need a number in [%g, %g]\n", prog_cmd, o->name,
                        v, o->min, o->max);
            return 1;
        }
        if (o->kind == OPT_INT) *(int *)o->dst = (int)x;
        else *(float *)o->dst = (float)x;
    }
    return 0;
}

static void set_threads(int t) {
#ifdef _OPENMP
    if (t > 0) omp_set_num_threads(t);
#else
    (void)t;
#endif
}

/* Whether two output paths name one file: the same file now, or, when
 * they do not exist yet, the same name in the same directory. */
static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    char da[4096], db[4096];
    const char *na = strrchr(a, '/'), *nb = strrchr(b, '/');
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    snprintf(da, sizeof da, "%.*s", na ? (int)(na - a) : 1, na ? a : ".");
    snprintf(db, sizeof db, "%.*s", nb ? (int)(nb - b) : 1, nb ? b : ".");
    if (stat(da, &sa) != 0 || stat(db, &sb) != 0) return 0;
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino &&
           !strcmp(na ? na + 1 : a, nb ? nb + 1 : b);
}

/* mkdir -p for one level: fine if it exists already as a directory (or a
 * link to one). 0 with errno set (ENOTDIR for another kind of file) if not. */
static int ensure_dir(const char *dir) {
    struct stat st;
    if (mkdir(dir, 0777) == 0) return 1;
    if (errno != EEXIST) return 0;
    if (stat(dir, &st) != 0) return 0;
    if (S_ISDIR(st.st_mode)) return 1;
    errno = ENOTDIR;
    return 0;
}

/* DIR/NAME into path (cap bytes); 1 after printing if it does not fit. */
static int path_in(const char *dir, const char *name, char *path, size_t cap) {
    if (snprintf(path, cap, "%s/%s", dir, name) >= (int)cap)
        return die("output path too long: %s", dir);
    return 0;
}

/* Writes t to DIR/NAME, whole or not at all (scn_npy_save goes through a
 * temporary and a rename). */
static int save_in(const char *dir, const char *name, scn_tensor *t) {
    char path[4096];
    if (path_in(dir, name, path, sizeof path)) return 1;
    if (scn_npy_save(path, t) != SCN_OK) return die_lib();
    return 0;
}

/* ---------------------------------------------------------------- layer */

static const char *layer_help =
    "usage: scn layer --dict D.npy --input X.npy --lambda1 L1 --lambda2 L2 [--signed]\n"
    "                 [--grad G.npy] [--tol T] [--max-iter N] [--no-polish]\n"
    "                 [--threads T] --out DIR\n"
    "\n"
    "Solves the elastic net for every column x of X (m x P) against D (m x n):\n"
    "  alpha = argmin_{alpha >= 0} 1/2 |x - D alpha|^2 + L1 |alpha|_1 + L2/2 |alpha|^2\n"
    "(--signed drops alpha >= 0) and writes DIR/alpha.npy (n x P). With --grad G\n"
    "(n x P, dLoss/dalpha) it also writes the fixed-point gradients DIR/dD.npy\n"
    "(m x n), DIR/dX.npy (m x P) and DIR/dlambda1.npy (shape (1,)). All float32.\n"
    "Prints one line: FISTA iterations, final KKT residual, seconds, polished columns,\n"
    "and the columns that stopped at --max-iter short of --tol (approximate codes).\n"
    "\n"
    "  --tol T        FISTA stops a column when its largest change is <= T times\n"
    "                 its largest entry (default 1e-5)\n"
    "  --max-iter N   FISTA iteration cap (default 2000)\n"
    "  --no-polish    return the FISTA iterate without support polishing\n"
    "  --threads T    OpenMP threads (default: all cores; the solver uses at most\n"
    "                 256, with the same results for any count)\n"
    "Every output is checked before the solve and written whole or not at all\n"
    "(a temporary, then a rename; a symlink is written through). Another run\n"
    "writing to DIR at the same time is refused.\n"
    "Defaults give the exact minimiser to float32 accuracy.\n";

static int cmd_layer(int argc, char **argv) {
    const char *dict = NULL, *input = NULL, *grad = NULL, *out = NULL;
    int have_l1 = 0, have_l2 = 0, threads = 0, rc = 1;
    scn_solve_desc sd;
    scn_solve_info info;
    scn_tensor *D = NULL, *X = NULL, *G = NULL, *alpha = NULL, *dD = NULL, *dX = NULL,
               *dl = NULL;
    scn_output_lock lock = { -1, NULL };
    double t0;
    int m, n, P, shape[2], one = 1;
    const option opts[] = {
        { "--dict", OPT_STR, &dict, 0, 0, NULL },
        { "--input", OPT_STR, &input, 0, 0, NULL },
        { "--grad", OPT_STR, &grad, 0, 0, NULL },
        { "--out", OPT_STR, &out, 0, 0, NULL },
        { "--lambda1", OPT_FLOAT, &sd.lambda1, 0, 1e30, &have_l1 },
        { "--lambda2", OPT_FLOAT, &sd.lambda2, 0, 1e30, &have_l2 },
        { "--signed", OPT_FLAG, &sd.signed_codes, 0, 0, NULL },
        { "--no-polish", OPT_FLAG, &sd.no_polish, 0, 0, NULL },
        { "--tol", OPT_FLOAT, &sd.tol, 1e-30, 1, NULL },
        { "--max-iter", OPT_INT, &sd.max_iter, 1, 1e9, NULL },
        { "--threads", OPT_INT, &threads, 1, 1024, NULL },
        { NULL, 0, NULL, 0, 0, NULL }
    };
    memset(&sd, 0, sizeof sd);
    if ((rc = parse_options(argc, argv, opts, layer_help)) != 0) return rc == 2 ? 0 : 1;
    rc = 1;
#ifdef SCN_CUDA
    scn_backend_set(NULL);      /* its arrays are host memory: solved on the CPU */
#endif
    if (!dict) return die("%s", "--dict is required (see scn layer --help)");
    if (!input) return die("%s", "--input is required (see scn layer --help)");
    if (!out) return die("%s", "--out is required (see scn layer --help)");
    if (!have_l1 || !have_l2) return die("%s", "--lambda1 and --lambda2 are required");
    set_threads(threads);
    if (!(D = scn_npy_load(dict)) || !(X = scn_npy_load(input))) { rc = die_lib(); goto done; }
    if (D->ndim != 2) { rc = die("%s: the dictionary must be a 2-d array (m x n)", dict); goto done; }
    if (X->ndim != 2) { rc = die("%s: the input must be a 2-d array (m x P)", input); goto done; }
    m = D->shape[0]; n = D->shape[1]; P = X->shape[1];
    if (X->shape[0] != m) {
        fprintf(stderr, "%s: %s has %d rows but the dictionary %s has %d\n", prog_cmd,
                input, X->shape[0], dict, m);
        goto done;
    }
    if (m < 1 || n < 1 || P < 1) { rc = die("%s", "empty dictionary or input"); goto done; }
    if (grad) {
        if (!(G = scn_npy_load(grad))) { rc = die_lib(); goto done; }
        if (G->ndim != 2 || G->shape[0] != n || G->shape[1] != P) {
            fprintf(stderr, "%s: %s must be n x P = %d x %d\n", prog_cmd, grad, n, P);
            goto done;
        }
    }
    /* every output is checked (and the directory locked) before the solve,
     * so a run that cannot write its results fails before the long work
     * and two runs never interleave their files in one directory */
    if (!ensure_dir(out)) {
        fprintf(stderr, "%s: cannot create the output directory %s (%s)\n", prog_cmd, out,
                strerror(errno));
        goto done;
    }
    {
        static const char *const names[4] = { "alpha.npy", "dD.npy", "dX.npy",
                                              "dlambda1.npy" };
        char path[4096];
        int i;
        for (i = 0; i < (G ? 4 : 1); i++) {
            if (path_in(out, names[i], path, sizeof path)) goto done;
            if (scn_output_check(path) != SCN_OK) { rc = die_lib(); goto done; }
        }
        if (path_in(out, "alpha.npy", path, sizeof path)) goto done;
        if (scn_output_lock_take(path, &lock) != SCN_OK) { rc = die_lib(); goto done; }
    }
    shape[0] = n; shape[1] = P;
    if (!(alpha = scn_tensor_create(2, shape))) { rc = die_lib(); goto done; }
    /* the solve is one library call without progress: on a large problem
       (seconds of work) say what is running, then how long it took */
    if ((double)m * n * P > 1e8)
        fprintf(stderr, "%s: solving %d signals against %d atoms of %d...\n", prog_cmd, P, n, m);
    t0 = now_seconds();
    if (scn_en_solve(D->data, m, n, X->data, P, &sd, alpha->data, &info)) { rc = die_lib(); goto done; }
    if (G) {
        shape[0] = m; shape[1] = n;
        dD = scn_tensor_create(2, shape);
        shape[1] = P;
        dX = scn_tensor_create(2, shape);
        dl = scn_tensor_create(1, &one);
        if (!dD || !dX || !dl) { rc = die_lib(); goto done; }
        if (scn_en_backward(D->data, m, n, X->data, P, alpha->data, G->data, &sd,
                            dD->data, dX->data, dl->data)) { rc = die_lib(); goto done; }
    }
    printf("iterations %d kkt %.3e seconds %.3f polished %d/%d\n", info.iters, info.kkt,
           now_seconds() - t0, info.polished, P);
    if (info.unconverged)       /* the line above is parsed by scripts: a note of its own */
        fprintf(stderr, "%s: %d of %d columns stopped at --max-iter before reaching --tol\n",
                prog_cmd, info.unconverged, P);
    if (save_in(out, "alpha.npy", alpha)) goto done;
    if (G && (save_in(out, "dD.npy", dD) || save_in(out, "dX.npy", dX) ||
              save_in(out, "dlambda1.npy", dl))) goto done;
    rc = 0;
done:
    scn_output_lock_release(&lock);
    scn_tensor_free(D); scn_tensor_free(X); scn_tensor_free(G); scn_tensor_free(alpha);
    scn_tensor_free(dD); scn_tensor_free(dX); scn_tensor_free(dl);
    return rc;
}

/* ---------------------------------------------------------------- train */

static const char *train_help =
    "usage: scn train [--data DIR] [--format F] [--model NAME|SPEC] [--epochs E]\n"
    "                 [--batch B] [--lr LR] --out model.scn [--resume] [--log run.csv]\n"
    "                 [--threads T] [--momentum M] [--nesterov] [--wd W]\n"
    "                 [--milestones E1,E2,... | --cosine] [--seed S]\n"
    "                 [--limit N | --per-class K] [--crop P] [--flip] [--profile]\n"
    "                 [--unlabelled N|all] [--mu M1,M2,... [--mu-epochs E1,...]]\n"
    "                 [--precise-bn N] [--test-limit N] [--csc-all]\n"
    "                 [--recipe NAME] [--normalize channel|pixel] [--batch-augment]\n"
    "                 [--wd-lambda1] [--no-flip] [--no-batch-augment] [--no-wd-lambda1]\n"
    "                 [--label-smoothing E]\n"
    "\n"
    "Trains a network with SGD on the training split of DIR (default\n"
    "/usr/share/datasets/fashion-mnist), evaluates on the test split after every\n"
    "epoch and writes a checkpoint to --out after each. Inputs are normalised per\n"
    "channel with the training split's mean and std (--normalize pixel: its mean\n"
    "image instead of the channel means). A NaN or Inf in the loss,\n"
    "a gradient or a parameter stops training with a message; --out then keeps\n"
    "the last good epoch. Two runs cannot write the same --out at once.\n"
    "\n"
    "  --format F    idx, cifar10, cifar100, cifar100-coarse, stl10, amat, folder\n"
    "                (default: detected from the files; see scn info)\n"
    "  --model       a preset or a layer spec (default scn-mnist), e.g.\n"
    "                \"sc:n=32 bn sc:n=8 bn sc:n=64,s=2 bn gap linear:n=10\";\n"
    "                presets and layer words with their options are listed below\n"
    "  --epochs E    total epochs (default 3)        --batch B   batch size (default 64)\n"
    "  --lr LR       initial learning rate (0.1)     --momentum  0.9\n"
    "  --nesterov    Nesterov momentum\n"
    "  --wd W        weight decay, on weights only: not biases, lambda1 or BN (5e-4)\n"
    "  --milestones  epochs where lr drops 10x (default: none)\n"
    "  --cosine      cosine schedule from lr down to 0 over --epochs\n"
    "  --resume      continue from --out exactly as if never stopped (the same\n"
    "                --model; the checkpoint's optimiser settings are kept)\n"
    "  --log FILE    one CSV row per epoch: epoch,lr,loss,train_acc,test_acc,seconds,\n"
    "                images_per_s (seconds: the whole epoch with its test pass;\n"
    "                images/s: training images over training time)\n"
    "  --limit N     use only the first N training images (quick runs; default: all)\n"
    "  --per-class K train on K random labelled images of each class (chosen by\n"
    "                --seed; the limited-data experiments)\n"
    "  --unlabelled N  semi-supervised (SF section 4.4): N random images of the rest\n"
    "                of the training split (all: every one), used without their labels;\n"
    "                each step adds a batch of them. Needs --per-class or --limit\n"
    "  --mu M1,...   the weight of the sparse-coding layers' unsupervised loss (SF\n"
    "                eqs. 12, 14), stepping down through the values (default with\n"
    "                --unlabelled: 0.8,0.5,0.3,0; else 0)\n"
    "  --mu-epochs E1,...  the epochs after which mu steps (default: equal parts)\n";
/* the rest of train_help (one literal would pass C99's 4095 characters) */
static const char *train_help_rest =
    "  --crop P      random crops of each image zero-padded by P pixels (CIFAR: 4;\n"
    "                default 0, none)\n"
    "  --flip        random horizontal flips\n"
    "                (--resume: give the same data options again)\n"
    "  --label-smoothing E  train against (1 - E) onehot + E / classes (default 0)\n"
    "  --seed S      initialisation and shuffling seed (default 1)\n"
    "  --threads T   OpenMP threads (default: all cores)\n"
    "  --profile     after each epoch, seconds per layer (forward, backward)\n"
    "  --precise-bn N  before each test pass (and checkpoint), recompute every BN\n"
    "                layer's statistics over the first N training images with the\n"
    "                weights as they are (default 2048; 0: keep the running\n"
    "                averages, which trail the weights: after a short run they can\n"
    "                put most test images in a few classes)\n"
    "  --test-limit N  test on the first N test images only (default: all; 0: no\n"
    "                test pass, the epoch line says \"test -\")\n"
    "  --csc-all     every conv layer of --model a csc layer with the same options\n"
    "                (SDNet-All; e.g. --model resnet-mnist --csc-all)\n"
    "  --normalize M channel (default): x = (x - mean[c]) / std[c], the training\n"
    "                split's channel means and stds; pixel: x = (x - m[c,i,j]) / std[c],\n"
    "                m the training split's mean image (SCN section 5's per-pixel-mean\n"
    "                subtraction; the std keeps the inputs' scale). Kept in --out:\n"
    "                scn eval tests with the same\n"
    "  --batch-augment  one crop and flip draw for the whole batch (\"images in the\n"
    "                same batch share the same augmentation parameters\", SCN section\n"
    "                5); default: one per image\n"
    "  --wd-lambda1  weight decay on every learned lambda1 too, as SCN Algorithm 2\n"
    "                applies it (default: weights only). lambda1 never goes below 1e-6\n"
    "  --no-flip, --no-batch-augment, --no-wd-lambda1  turn off what a recipe turns on\n"
    "  --recipe NAME the paper's settings for a data set (SCN section 5, \"Training\");\n"
    "                options given on the command line override the recipe's values:\n"
    "    NAME             model            batch epochs lr  milestones crop flip norm\n"
    "    scn-cifar        scn-cifar        128   200    0.1 80,160     4    yes  pixel\n"
    "    scn-stl          scn-cifar        16    200    0.1 80,160     12   yes  pixel\n"
    "    scn-mnist-paper  scn-mnist-paper  128   25     0.1 10,20      0    no   channel\n"
    "                all: momentum 0.9, --wd 5e-4 with --wd-lambda1, --batch-augment\n"
    "Progress goes to stderr: one line updated in place on a terminal, otherwise\n"
    "a plain line every 10 s and at the end of each pass.\n";

#ifdef SCN_MPI
static const char *mpi_help =
    "\n"
    "scn-mpi train: the same, data-parallel over the ranks of mpirun (scn.h\n"
    "section 17): mpirun -np N bin/scn-mpi train --threads T ... (as root add\n"
    "--allow-run-as-root; more ranks than cores: --oversubscribe). --batch is the\n"
    "global batch, split equally over the ranks; --threads is per rank. Rank 0\n"
    "prints, tests and writes --out and --log; every rank reads --data.\n"
    "  --bn-local    BN statistics per shard (ghost batch norm) instead of over\n"
    "                the whole batch; with a fixed --shards the weights are\n"
    "                bit-identical for any number of ranks dividing it\n"
    "  --shards S    with --bn-local: shards per batch, a multiple of the ranks\n"
    "                (default: one per rank)\n"
    "After each epoch a line \"mpi: ...\" gives the mean step time and the part\n"
    "of it spent exchanging gradients.\n";
#endif

/* The presets, then every layer kind with its options, from the tables. */
static void print_kinds(FILE *f) {
    int i, j;
    fputs("\npresets:", f);
    for (i = 0; scn_net_preset_name(i); i++) fprintf(f, " %s", scn_net_preset_name(i));
    fputs("\n\nlayer words (word:option=value,flag,...; blocks take a body: res[ ... ]):\n", f);
    for (i = 0; i < scn_kind_count(); i++) {
        const scn_kind_info *k = scn_kind(i);
        fprintf(f, "  %-9s %s\n", k->name, k->help);
        for (j = 0; j < k->option_count; j++) {
            const scn_option *o = &k->options[j];
            char def[48];
            if (o->required) snprintf(def, sizeof def, "required");
            else if (o->type == SCN_OPTION_FLAG) snprintf(def, sizeof def, "flag");
            else if (isinf(o->def)) snprintf(def, sizeof def, "default none");
            else if (o->def < o->min) def[0] = '\0';
            else snprintf(def, sizeof def, "default %g", o->def);
            fprintf(f, "      %-7s %s%s%s%s\n", o->name, o->help, def[0] ? " (" : "", def,
                    def[0] ? ")" : "");
        }
    }
}

/* Whether the net takes items of the data set's shape (says why not). */
static int same_input(const scn_net *net, const scn_dataset *ds, const char *model,
                      const char *data) {
    int C, H, W;
    scn_net_input_shape(net, &C, &H, &W);
    if (C == ds->C && H == ds->H && W == ds->W) return 1;
    fprintf(stderr, "%s: %s takes %dx%dx%d images but %s holds %dx%dx%d\n", prog_cmd, model,
            C, H, W, data, ds->C, ds->H, ds->W);
    return 0;
}

static void fmt_time(double s, char *buf, size_t cap) {
    long t = (long)(s + 0.5);
    snprintf(buf, cap, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
}

/* The library's progress reports: one line updated in place on a terminal,
 * a line per report otherwise. */
typedef struct progress_ctx {
    int epochs, tty;
    const char *what;   /* NULL, or a pass other than training and evaluation */
} progress_ctx;

/* Seconds between progress reports: twice a second in place on a
 * terminal, a plain line every 10 s into a file or pipe. */
static double progress_every(int tty) { return tty ? 0.5 : 10.0; }

/* Progress of a loop the library does not run (the benchmarks): "WHAT
 * done/total" on stderr as show_progress does, once the loop has taken a
 * second; t0 is its start, *last the time of the last report. */
static void tick(const char *what, int done, int total, double t0, double *last) {
    int tty = isatty(2);
    double now = now_seconds();
    if (now - t0 < 1.0 || (now - *last < progress_every(tty) && done < total)) return;
    *last = now;
    fprintf(stderr, "%s%s %s %d/%d%s", tty ? "\r" : "", prog_cmd, what, done, total,
            tty && done < total ? "   " : "\n");
}

static void show_progress(const scn_progress *p, void *user) {
    const progress_ctx *c = (const progress_ctx *)user;
    char eta[32];
    fmt_time(p->step ? p->seconds / p->step * (p->steps - p->step) : 0.0, eta, sizeof eta);
    if (c->what)
        fprintf(stderr, "%s%s: batch %d/%d %.0f img/s ETA %s%s", c->tty ? "\r" : "",
                c->what, p->step, p->steps, p->images_per_s, eta, c->tty ? "   " : "\n");
    else if (p->training)
        fprintf(stderr, "%sepoch %d/%d step %d/%d loss %.4f acc %.2f%% %.0f img/s ETA %s%s",
                c->tty ? "\r" : "", p->epoch + 1, c->epochs, p->step, p->steps, p->loss,
                100.0 * p->accuracy, p->images_per_s, eta, c->tty ? "   " : "\n");
    else
        fprintf(stderr, "%sevaluating: batch %d/%d acc %.2f%% %.0f img/s ETA %s%s",
                c->tty ? "\r" : "", p->step, p->steps, 100.0 * p->accuracy,
                p->images_per_s, eta, c->tty ? "   " : "\n");
    if (c->tty && p->step == p->steps) fputc('\n', stderr);
}

/* Seconds per layer since the last call, and SC code density. */
static void print_profile(scn_net *net) {
    int i;
    for (i = 0; i < scn_net_layer_count(net); i++) {
        char line[200];
        double f, b;
        float d = scn_net_layer_density(net, i);
        scn_net_layer_time(net, i, &f, &b, 1);
        scn_net_describe(net, i, line, sizeof line);
        line[30] = '\0';
        if (d >= 0) printf("profile %s forward %8.2fs backward %8.2fs density %.3f\n", line, f, b, d);
        else printf("profile %s forward %8.2fs backward %8.2fs\n", line, f, b);
    }
    fflush(stdout);
}

/* 100 x as "%.2f" into buf. */
static const char *pct(double x, char *buf) {
    snprintf(buf, 32, "%.2f", 100.0 * x);
    return buf;
}

/* The test pass after an epoch: BN statistics recomputed over the first
 * precise_bn training items (0: kept as training left them), then the
 * accuracy on ed's test items; te->images is 0 when ed asks for none. */
static scn_status evaluate_epoch(scn_net *net, scn_dataset *train, scn_dataset *test,
                                 const scn_train_state *st, const scn_train_desc *td,
                                 const scn_train_desc *ed, int precise_bn,
                                 scn_pass_result *te) {
    progress_ctx *pc = (progress_ctx *)td->user;
    scn_status s = SCN_OK;
    memset(te, 0, sizeof *te);
    if (precise_bn > 0) {
        pc->what = "precise BN";
        s = scn_bn_recompute(net, train, st, td, precise_bn);
        pc->what = NULL;
    }
    if (s || ed->item_count == 0 || !RANK0) return s;   /* MPI: rank 0 tests */
    return scn_evaluate(net, test, st, ed, te, NULL);
}

/* Up to 8 increasing epochs like "10,20"; 0 if malformed. */
static int parse_milestones(const char *s, scn_sgd_desc *d) {
    int k = 0;
    if (s && !*s) return 0;
    while (s && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > 1000000 || k == 8 || (k && v <= d->milestones[k - 1]))
            return 0;
        d->milestones[k++] = (int)v;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return 0;
    }
    return 1;
}

/* Up to `max` comma-separated numbers in [lo, hi] (integers if `whole`),
 * increasing if `rising`; the count, or -1 if malformed. */
static int parse_list(const char *s, double *v, int max, double lo, double hi, int whole,
                      int rising) {
    int k = 0;
    if (!s || !*s) return -1;
    while (*s) {
        char *end;
        double x = strtod(s, &end);
        if (end == s || k == max || !(x >= lo && x <= hi) || (whole && x != (double)(long)x) ||
            (rising && k && x <= v[k - 1]) || (*end && *end != ','))
            return -1;
        v[k++] = x;
        s = *end ? end + 1 : end;
        if (*end && !*s) return -1;
    }
    return k;
}

/* The paper's steps of mu (SF section 4.4), the default with --unlabelled. */
#define SF_MU_STEPS "0.8,0.5,0.3,0"

/* SF section 4.4's step-down schedule of mu: mu[j] from epoch at[j-1] on
 * (0-based; at[-1] = 0). */
typedef struct mu_schedule {
    float mu[8];
    int at[7];
    int n;
} mu_schedule;

/* --mu (up to 8 values in [0, 1]) and --mu-epochs (the n - 1 increasing
 * epochs where it steps; default: --epochs in n equal parts). 1 after
 * printing on error. */
static int mu_schedule_parse(mu_schedule *m, const char *mu, const char *at, int epochs) {
    double v[8], e[8];
    int j, ne;
    memset(m, 0, sizeof *m);
    if ((m->n = parse_list(mu, v, 8, 0, 1, 0, 0)) < 1)
        return die("--mu %s: need up to 8 values in [0, 1] like 0.8,0.5,0.3,0", mu);
    for (j = 0; j < m->n; j++) m->mu[j] = (float)v[j];
    if (!at) {
        for (j = 0; j + 1 < m->n; j++) m->at[j] = (int)((j + 1) * (double)epochs / m->n + 0.5);
        return 0;
    }
    if ((ne = parse_list(at, e, 7, 1, 1e6, 1, 1)) != m->n - 1) {
        fprintf(stderr, "%s: --mu-epochs %s: need %d increasing epochs, one per step of --mu\n",
                prog_cmd, at, m->n - 1);
        return 1;
    }
    for (j = 0; j < ne; j++) m->at[j] = (int)e[j];
    return 0;
}

static float mu_at(const mu_schedule *m, int epoch) {
    int j = 0;
    while (j + 1 < m->n && epoch >= m->at[j]) j++;
    return m->mu[j];
}

/* The training items not among the `labelled` ones (ascending), or `want`
 * of them at random through r (want 0: all): the semi-supervised
 * experiments' unlabelled images. Returns the count, -1 on error (printed). */
static int unlabelled_items(int count, const int *labelled, int nl, int want, scn_rng *r,
                            int **out) {
    unsigned char *used = calloc((size_t)count, 1);
    int *rest = malloc((size_t)count * sizeof *rest), n = 0, i;
    if (!used || !rest) {
        free(used);
        free(rest);
        return die("%s", "out of memory"), -1;
    }
    for (i = 0; i < nl; i++) used[labelled ? labelled[i] : i] = 1;
    for (i = 0; i < count; i++) if (!used[i]) rest[n++] = i;
    free(used);
    if (want > n) {
        free(rest);
        fprintf(stderr, "%s: --unlabelled %d: only %d training images are left unlabelled\n",
                prog_cmd, want, n);
        return -1;
    }
    if (want) {
        scn_shuffle(rest, n, r);
        n = want;
    }
    *out = rest;
    return n;
}

/* --unlabelled: "all" (0) or a count; -1 after printing if neither */
static int parse_unlabelled(const char *s) {
    double v;
    if (!strcmp(s, "all")) return 0;
    if (parse_list(s, &v, 1, 1, 2147483647.0, 1, 0) == 1) return (int)v;
    return die("--unlabelled %s: need a count of images or all", s), -1;
}

/* A preset's spec with its classifier sized to the data's classes (the
 * presets end in linear:n=10); any other model as it is. */
static const char *sized_preset(const char *model, int classes, char *buf, size_t cap) {
    const char *spec = scn_net_preset(model);
    size_t len;
    if (!spec || classes == 10 || classes < 1) return model;
    len = strlen(spec);
    if (len < 11 || strcmp(spec + len - 11, "linear:n=10") ||
        (size_t)snprintf(buf, cap, "%.*slinear:n=%d", (int)(len - 11), spec, classes) >= cap)
        return model;
    return buf;
}

/* Writes a line to the log and flushes it; 1 (with the message) if either fails. */
static int log_line(FILE *f, const char *path, const char *fmt, ...) {
    va_list ap;
    int bad;
    va_start(ap, fmt);
    bad = vfprintf(f, fmt, ap) < 0;
    va_end(ap);
    if (bad || fflush(f) != 0 || ferror(f))
        return die("cannot write the log %s (disk full?)", path);
    return 0;
}

/* Opens the CSV log: written anew, or on --resume appended to, with the
 * header written when the file is empty and a line ended that was not. */
static FILE *open_log(const char *path, int append) {
    static const char *header = "epoch,lr,loss,train_acc,test_acc,seconds,images_per_s\n";
    FILE *f = fopen(path, append ? "a+" : "w");
    long size;
    int last = '\n';
    if (!f) { die("cannot open the log %s", path); return NULL; }
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) > 0 && fseek(f, size - 1, SEEK_SET) == 0)
        last = fgetc(f);
    else size = 0;
    fseek(f, 0, SEEK_END);
    if ((size == 0 && log_line(f, path, "%s", header)) ||
        (last != '\n' && log_line(f, path, "\n"))) {
        fclose(f);
        return NULL;
    }
    return f;
}

/* --csc-all (SDNet-All, SDNet section 4.4): the model's spec (a preset's
 * expansion) with every conv word a csc one; 1 after printing if none or
 * it does not fit. */
static int csc_all_spec(const char *model, char *buf, size_t cap) {
    const char *s = scn_net_preset(model) ? scn_net_preset(model) : model, *p;
    size_t at = 0;
    int swapped = 0;
    for (p = s; *p; ) {
        int word = (p == s || p[-1] == ' ' || p[-1] == '[') && !strncmp(p, "conv", 4) &&
                   (p[4] == ':' || p[4] == ' ' || p[4] == ']' || !p[4]);
        const char *put = word ? "csc" : p;
        size_t len = word ? 3 : 1;
        if (at + len >= cap) return die("--csc-all: the spec of %s is too long", model);
        memcpy(buf + at, put, len);
        at += len;
        p += word ? 4 : 1;
        swapped += word;
    }
    buf[at] = '\0';
    if (!swapped) return die("--csc-all: %s has no conv layer", model);
    return 0;
}

/* The net to train: resumed from out (refused when --model names another
 * spec) or made from model for the data. */
static scn_net *train_net(const char *out, int resume, const char *model, int have_model,
                          const scn_dataset *train, int seed, scn_sgd *opt,
                          const scn_sgd_desc *sd, scn_train_state *st, int batch,
                          int pixel_mean) {
    char spec[512];
    const char *want = sized_preset(model, train->classes, spec, sizeof spec);
    scn_net *net;
    int have = resume && access(out, F_OK) == 0;
    scn_status s;
#ifdef SCN_MPI
    MPI_Bcast(&have, 1, MPI_INT, 0, mpi.comm);     /* rank 0's file decides */
    net = have ? scn_mpi_checkpoint_load(&mpi, out, opt, st) : NULL;
#else
    net = have ? scn_checkpoint_load(out, opt, st) : NULL;
#endif
    if (have) {
        if (!net) { die_lib(); return NULL; }
        if (have_model && strcmp(scn_net_preset(want) ? scn_net_preset(want) : want,
                                 scn_net_spec(net))) {
            fprintf(stderr, "%s: --resume: %s holds \"%s\", not --model %s\n", prog_cmd, out,
                    scn_net_spec(net), model);
            scn_sgd_free(opt);
            scn_net_free(net);
            return NULL;
        }
        if (st->batch && st->batch != batch)
            fprintf(stderr, "%s: --resume: batch %d (the checkpoint trained with %d)\n",
                    prog_cmd, batch, st->batch);
        printf("resuming %s after epoch %d (step %lld)\n", out, st->epoch, (long long)st->step);
        return net;
    }
    net = scn_net_create(want, train->C, train->H, train->W, (uint64_t)seed);
    s = net ? scn_sgd_init(opt, net, sd) : SCN_ERR_ARG;
    if (!s) s = scn_dataset_stats((scn_dataset *)train, st->mean, st->std);
    if (!s && pixel_mean) {     /* the training split's mean image (SCN section 5) */
        size_t n = (size_t)train->C * train->H * train->W;
        float *m = malloc(n * sizeof *m);
        s = !m ? SCN_ERR_NOMEM : scn_dataset_pixel_mean((scn_dataset *)train, m);
        if (!s) s = scn_train_state_set_pixel_mean(st, m, n);
        free(m);
    }
    scn_rng_seed(&st->rng, (uint64_t)seed, 0x7a1);
#ifdef SCN_MPI
    if (!(s = shared(s))) s = scn_mpi_sync(&mpi, net, opt, st);    /* rank 0's everywhere */
#endif
    if (s) {
        die_lib();
        scn_net_free(net);
        return NULL;
    }
    return net;
}

static int cmd_train(int argc, char **argv) {
    const char *data = "/usr/share/datasets/fashion-mnist", *model = "scn-mnist";
    const char *out = NULL, *log_path = NULL, *milestones = NULL, *format = NULL;
    const char *unlabelled = NULL, *mu = NULL, *mu_epochs = NULL;
    int epochs = 3, batch = 64, resume = 0, threads = 0, seed = 1, limit = 0, rc = 1;
    int profile = 0, per_class = 0, crop = 0, flip = 0, nesterov = 0, cosine = 0;
    int have_lr = 0, have_mom = 0, have_wd = 0, have_model = 0, K, i;
    int precise_bn = 2048, test_limit = -1, csc_all = 0;
    int have_epochs = 0, have_batch = 0, have_crop = 0, batch_aug = 0, no_batch_aug = 0;
    int no_flip = 0, wd_l1 = 0, no_wd_l1 = 0;
    const char *recipe_name = NULL, *normalize = NULL;
    const scn_recipe *recipe = NULL;
    float lr = 0.1f, momentum = 0.9f, wd = 5e-4f, smoothing = 0.0f;
    static char all_spec[4096];
    scn_dataset *train = NULL, *test = NULL;
    scn_net *net = NULL;
    scn_sgd opt;
    scn_sgd_desc sd;
    scn_train_state st;
    scn_train_desc td, ed;
    scn_output_lock lock, loglock;
    progress_ctx pc;
    FILE *logf = NULL;
    int *pool = NULL, *upool = NULL, want_u = 0;
    mu_schedule mus;
#ifdef SCN_MPI
    scn_mpi_desc md = {0, 0};
#endif
    const option opts[] = {
        { "--data", OPT_STR, &data, 0, 0, NULL },
        { "--format", OPT_STR, &format, 0, 0, NULL },
        { "--per-class", OPT_INT, &per_class, 1, 2147483647.0, NULL },
        { "--crop", OPT_INT, &crop, 0, 64, &have_crop },
        { "--flip", OPT_FLAG, &flip, 0, 0, NULL },
        { "--no-flip", OPT_FLAG, &no_flip, 0, 0, NULL },
        { "--batch-augment", OPT_FLAG, &batch_aug, 0, 0, NULL },
        { "--no-batch-augment", OPT_FLAG, &no_batch_aug, 0, 0, NULL },
        { "--wd-lambda1", OPT_FLAG, &wd_l1, 0, 0, NULL },
        { "--no-wd-lambda1", OPT_FLAG, &no_wd_l1, 0, 0, NULL },
        { "--recipe", OPT_STR, &recipe_name, 0, 0, NULL },
        { "--normalize", OPT_STR, &normalize, 0, 0, NULL },
        { "--model", OPT_STR, &model, 0, 0, &have_model },
        { "--out", OPT_STR, &out, 0, 0, NULL },
        { "--log", OPT_STR, &log_path, 0, 0, NULL },
        { "--milestones", OPT_STR, &milestones, 0, 0, NULL },
        { "--cosine", OPT_FLAG, &cosine, 0, 0, NULL },
        { "--epochs", OPT_INT, &epochs, 1, 100000, &have_epochs },
        { "--batch", OPT_INT, &batch, 2, 65536, &have_batch },
        { "--lr", OPT_FLOAT, &lr, 1e-30, 1e3, &have_lr },
        { "--momentum", OPT_FLOAT, &momentum, 0, 0.999, &have_mom },
        { "--nesterov", OPT_FLAG, &nesterov, 0, 0, NULL },
        { "--wd", OPT_FLOAT, &wd, 0, 1, &have_wd },
        { "--resume", OPT_FLAG, &resume, 0, 0, NULL },
        { "--threads", OPT_INT, &threads, 1, 1024, NULL },
        { "--seed", OPT_INT, &seed, 0, 2147483647.0, NULL },
        { "--limit", OPT_INT, &limit, 2, 2147483647.0, NULL },
        { "--profile", OPT_FLAG, &profile, 0, 0, NULL },
        { "--unlabelled", OPT_STR, &unlabelled, 0, 0, NULL },
        { "--mu", OPT_STR, &mu, 0, 0, NULL },
        { "--mu-epochs", OPT_STR, &mu_epochs, 0, 0, NULL },
        { "--precise-bn", OPT_INT, &precise_bn, 0, 2147483647.0, NULL },
        { "--test-limit", OPT_INT, &test_limit, 0, 2147483647.0, NULL },
        { "--csc-all", OPT_FLAG, &csc_all, 0, 0, NULL },
        { "--label-smoothing", OPT_FLOAT, &smoothing, 0, 0.999, NULL },
#ifdef SCN_MPI
        { "--bn-local", OPT_FLAG, &md.bn_local, 0, 0, NULL },
        { "--shards", OPT_INT, &md.shards, 1, 65536, NULL },
#endif
        { NULL, 0, NULL, 0, 0, NULL }
    };
    memset(&opt, 0, sizeof opt);
    memset(&st, 0, sizeof st);
    memset(&lock, 0, sizeof lock);
    lock.fd = -1;
    loglock = lock;
    if ((rc = parse_options(argc, argv, opts, train_help)) != 0) {
        if (rc == 2) {
            fputs(train_help_rest, stdout);
            print_kinds(stdout);
        }
#ifdef SCN_MPI
        if (rc == 2) fputs(mpi_help, stdout);
#endif
        return rc == 2 ? 0 : 1;
    }
#ifdef SCN_MPI
    if (md.shards && !md.bn_local) return die("%s", "--shards needs --bn-local");
    if (scn_mpi_init(&mpi, MPI_COMM_WORLD, &md)) return die_lib();
#endif
    rc = 1;
    if (!out) return die("%s", "--out is required (see scn train --help)");
    if (flip && no_flip) return die("%s", "--flip and --no-flip exclude each other");
    if (batch_aug && no_batch_aug)
        return die("%s", "--batch-augment and --no-batch-augment exclude each other");
    if (wd_l1 && no_wd_l1) return die("%s", "--wd-lambda1 and --no-wd-lambda1 exclude each other");
    if (normalize && strcmp(normalize, "channel") && strcmp(normalize, "pixel"))
        return die("--normalize %s: channel or pixel", normalize);
    if (recipe_name) {
        /* the recipe's values, then the options given over them */
        if (!(recipe = scn_recipe_find(recipe_name))) return die_lib();
        if (!have_model) model = recipe->model;
        if (!have_epochs) epochs = recipe->epochs;
        if (!have_batch) batch = recipe->batch;
        if (!have_lr) lr = recipe->lr;
        if (!have_mom) momentum = recipe->momentum;
        if (!have_wd) wd = recipe->weight_decay;
        if (!have_crop) crop = recipe->crop;
        if (!flip && !no_flip) flip = recipe->flip;
        if (!batch_aug && !no_batch_aug) batch_aug = recipe->batch_augment;
        if (!wd_l1 && !no_wd_l1) wd_l1 = recipe->decay_lambda1;
        if (!normalize) normalize = recipe->norm == SCN_NORM_PIXEL ? "pixel" : "channel";
    }
    if (!normalize) normalize = "channel";
    if (csc_all) {
        if (csc_all_spec(model, all_spec, sizeof all_spec)) return 1;
        model = all_spec;
    }
    memset(&sd, 0, sizeof sd);
    sd.lr = lr;
    sd.momentum = momentum > 0 ? momentum : -1.0f;
    sd.weight_decay = wd > 0 ? wd : -1.0f;
    sd.nesterov = nesterov;
    sd.schedule = cosine ? SCN_LR_COSINE : SCN_LR_STEP;
    sd.epochs = epochs;
    sd.decay_lambda1 = wd_l1;
    if (!parse_milestones(milestones, &sd))
        return die("--milestones %s: need up to 8 increasing epochs like 10,20", milestones);
    if (recipe && !milestones && !cosine)
        memcpy(sd.milestones, recipe->milestones, sizeof sd.milestones);
    if (recipe)
        printf("recipe %s (%s): --model %s --epochs %d --batch %d --lr %g --momentum %g "
               "--wd %g%s%s --crop %d%s%s --normalize %s\n", recipe->name, recipe->data, model,
               epochs, batch, (double)lr, (double)momentum, (double)wd,
               wd_l1 ? " --wd-lambda1" : "", cosine ? " --cosine" : "", crop,
               flip ? " --flip" : "", batch_aug ? " --batch-augment" : "", normalize);
    if (cosine && milestones) return die("%s", "--cosine and --milestones exclude each other");
    if (limit && per_class) return die("%s", "--limit and --per-class exclude each other");
    if (nesterov && momentum <= 0) return die("%s", "--nesterov needs --momentum above 0");
    if (unlabelled && ((want_u = parse_unlabelled(unlabelled)) < 0)) return 1;
    if (unlabelled && !limit && !per_class)
        return die("%s", "--unlabelled needs --per-class or --limit (the unlabelled images "
                   "are the rest of the training split)");
    if (mu_epochs && !mu) return die("%s", "--mu-epochs needs --mu");
    if (mu_schedule_parse(&mus, mu ? mu : unlabelled ? SF_MU_STEPS : "0", mu_epochs,
                          epochs))
        return 1;
    set_threads(threads);
    if (log_path && same_file(out, log_path))
        return die("--log %s names the checkpoint --out itself", log_path);
    /* the outputs are rank 0's */
    if (any_rank(RANK0 && (scn_output_check(out) || scn_output_lock_take(out, &lock) ||
                           (log_path && (scn_output_check(log_path) ||
                                         scn_output_lock_take(log_path, &loglock)))))) {
        rc = RANK0 ? die_lib() : 1;
        scn_output_lock_release(&lock);
        return rc;
    }
    train = scn_dataset_open(data, "train", format);
    test = train ? scn_dataset_open(data, "test", format) : NULL;
    if (shared(test ? SCN_OK : SCN_ERR_IO)) { rc = die_lib(); goto done; }
    if (!(net = train_net(out, resume, model, have_model || recipe, train, seed, &opt, &sd, &st,
                          batch, !strcmp(normalize, "pixel"))))
        goto done;
    if (st.epoch && (have_lr || have_mom || have_wd || milestones || nesterov || cosine ||
                     wd_l1 || no_wd_l1 || recipe))
        fprintf(stderr, "%s: --resume keeps the checkpoint's optimiser settings\n", prog_cmd);
    {
        /* the data options, kept in the checkpoint: a resume says what changed */
        char note[sizeof st.note];
        snprintf(note, sizeof note, "data %s, format %s, limit %d, per-class %d, crop %d, "
                 "flip %d, batch-augment %d, normalize %s, seed %d, unlabelled %s, mu %s/%s, "
                 "label smoothing %g",
                 data, format ? format : "auto", limit, per_class, crop, flip, batch_aug,
                 st.pixel_mean ? "pixel" : "channel", seed, unlabelled ? unlabelled : "none",
                 mu ? mu : "-", mu_epochs ? mu_epochs : "-", (double)smoothing);
        if (st.epoch && !strcmp(normalize, "pixel") != !!st.pixel_mean)
            fprintf(stderr, "%s: --resume: %s normalises %s; --normalize %s is not applied\n",
                    prog_cmd, out, st.pixel_mean ? "with the mean image (pixel)"
                                                 : "per channel", normalize);
        if (st.epoch && st.note[0] && strcmp(note, st.note))
            fprintf(stderr, "%s: --resume: the checkpoint trained on %s; now %s\n", prog_cmd,
                    st.note, note);
        memcpy(st.note, note, sizeof note);
    }
    if (opt.desc.schedule == SCN_LR_COSINE && opt.desc.epochs != epochs) {
        fprintf(stderr, "%s: --resume: the cosine schedule now anneals over %d epochs (it "
                "was %d)\n", prog_cmd, epochs, opt.desc.epochs);
        opt.desc.epochs = epochs;
    }
    if (st.epoch >= epochs) {
        printf("%s has trained %d epochs already: nothing to do for --epochs %d\n", out,
               st.epoch, epochs);
        rc = 0;
        goto done;
    }
    st.batch = batch;
    K = scn_net_classes(net);
    if (!same_input(net, train, out, data) || !same_input(net, test, out, data)) goto done;
    if (K != train->classes || K < test->classes) {
        fprintf(stderr, "%s: the model has %d outputs but the data has %d classes (end the "
                "spec in a classifier such as linear:n=%d)\n", prog_cmd, K,
                train->classes > test->classes ? train->classes : test->classes,
                train->classes);
        goto done;
    }
    for (i = 0; i < scn_net_layer_count(net); i++) {
        char line[200];
        scn_net_describe(net, i, line, sizeof line);
        printf("%s\n", line);
    }
    printf("%zu parameters; %s: %d train, %d test, %dx%dx%d, %d classes\n",
           scn_net_param_count(net), data, train->count, test->count, train->C, train->H,
           train->W, train->classes);
    memset(&td, 0, sizeof td);
    td.batch = batch;
    td.crop = crop;
    td.flip = flip;
    td.batch_augment = batch_aug;
    td.label_smoothing = smoothing;
    td.item_count = limit;
    if (per_class) {
        scn_rng pick;
        pool = malloc((size_t)per_class * train->classes * sizeof *pool);
        if (!pool) { rc = die("%s", "out of memory"); goto done; }
        scn_rng_seed(&pick, (uint64_t)seed, 0x5e1);
        if ((td.item_count = scn_dataset_per_class(train, per_class, &pick, pool)) < 0)
            { rc = die_lib(); goto done; }
        td.items = pool;
        printf("training on %d images: %d of each class\n", td.item_count, per_class);
    }
    if (unlabelled) {
        scn_rng pick;
        scn_rng_seed(&pick, (uint64_t)seed, 0x0a1);
        if ((td.unlabelled_count = unlabelled_items(train->count, td.items, td.item_count,
                                                    want_u, &pick, &upool)) < 0)
            goto done;
        td.unlabelled = upool;
        printf("and %d images without their labels (mu %s)\n", td.unlabelled_count,
               mu ? mu : SF_MU_STEPS);
    }
    pc.epochs = epochs;
    pc.tty = isatty(2);
    pc.what = NULL;
    td.progress = show_progress;
    td.user = &pc;
    td.progress_every = progress_every(pc.tty);
    ed = td;
    ed.items = NULL;
    ed.item_count = test_limit;
    if (any_rank(log_path && RANK0 && !(logf = open_log(log_path, st.epoch > 0)))) goto done;
    if (!st.epoch && !strcmp(scn_net_layer_kind(net, 0), "pca")) {
        char line[200];     /* DDSE's PCA base, fitted here so that its figures show */
        pc.what = "pca fit";
        if (shared(scn_pca_fit(net, train, &st, &td))) { rc = die_lib(); goto done; }
        pc.what = NULL;
        scn_net_describe(net, 0, line, sizeof line);
        if (RANK0) printf("%s\n", line);
    }
    fflush(stdout);
    while (st.epoch < epochs) {
        float elr = scn_sgd_lr(&opt, st.epoch);
        double t0 = now_seconds();
        scn_pass_result tr, te;
        char test_acc[32], pct_buf[32];
        td.mu = mu_at(&mus, st.epoch);
#ifdef SCN_MPI
        if (scn_mpi_train_epoch(&mpi, net, &opt, train, &st, &td, &tr)) {
            unshared_failure();
#else
        if (scn_train_epoch(net, &opt, train, &st, &td, &tr)) {
#endif
            fprintf(stderr, "\n%s: %s\n", prog_cmd, scn_error());
            if (st.epoch > 0)
                fprintf(stderr, "%s: stopped; %s keeps epoch %d, the last good one\n",
                        prog_cmd, out, st.epoch);
            else
                fprintf(stderr, "%s: stopped before the first checkpoint\n", prog_cmd);
            goto done;
        }
        if (profile) print_profile(net);
#ifdef SCN_MPI
        if (shared(evaluate_epoch(net, train, test, &st, &td, &ed, precise_bn, &te)) ||
            scn_mpi_checkpoint_save(&mpi, out, net, &opt, &st)) { rc = die_lib(); goto done; }
#else
        if (evaluate_epoch(net, train, test, &st, &td, &ed, precise_bn, &te) ||
            scn_checkpoint_save(out, net, &opt, &st)) { rc = die_lib(); goto done; }
#endif
        if (te.images)
            snprintf(test_acc, sizeof test_acc, "%.4f", te.accuracy);
        else
            test_acc[0] = '\0';    /* --test-limit 0: no test pass */
        printf("epoch %d/%d lr %.4g loss %.4f train %.2f%% test %s%s time %.1fs %.0f img/s",
               st.epoch, epochs, elr, tr.loss, 100.0 * tr.accuracy,
               te.images ? pct(te.accuracy, pct_buf) : "-", te.images ? "%" : "",
               now_seconds() - t0, tr.images_per_s);
        if (mu || unlabelled) printf(" mu %g", td.mu);
        putchar('\n');
#ifdef SCN_MPI
        printf("mpi: %d ranks, %d shards, step %.1f ms, exchange %.1f ms, %.1f img/s\n",
               mpi.size, mpi.desc.shards, 1e3 * mpi.step_seconds / mpi.steps,
               1e3 * mpi.comm_seconds / mpi.steps, batch * mpi.steps / mpi.step_seconds);
        mpi.step_seconds = mpi.comm_seconds = 0.0;
        mpi.steps = 0;
#endif
        fflush(stdout);
        if (logf && log_line(logf, log_path, "%d,%g,%.6f,%.4f,%s,%.2f,%.1f\n", st.epoch, elr,
                             tr.loss, tr.accuracy, test_acc, now_seconds() - t0,
                             tr.images_per_s))
            goto done;
    }
    rc = 0;
done:
    if (logf && fclose(logf) != 0 && rc == 0) rc = die("cannot write the log %s", log_path);
    free(pool);
    free(upool);
    scn_sgd_free(&opt);
    scn_net_free(net);
    scn_train_state_free(&st);
    scn_dataset_close(train);
    scn_dataset_close(test);
    scn_output_lock_release(&lock);
    scn_output_lock_release(&loglock);
    return rc;
}

/* -------------------------------------------------------------- limited */

static const char *limited_help =
    "usage: scn limited --per-class K1,K2,... --trials T --models M1,M2,...\n"
    "                   [--data DIR] [--format F] [--unlabelled N|all] [--epochs E]\n"
    "                   [--lr LR] [--batch B] [--mu M1,...] [--csv out.csv]\n"
    "                   [--seed S] [--threads T]\n"
    "\n"
    "The limited-labels experiment of the SF paper (section 5.2): for each K and\n"
    "trial, K labelled images of every class are drawn from the training split\n"
    "of DIR (default /usr/share/datasets/fashion-mnist; the same images for every\n"
    "model in a trial, different ones in each trial); each model is trained on\n"
    "them from its own random start and evaluated on the whole test split. After\n"
    "the trials of a model and K, one line on stdout:\n"
    "  MODEL K MEAN SD       (test accuracy in percent over the trials; SD with\n"
    "                         the n - 1 denominator, 0 for one trial)\n"
    "Progress goes to stderr: one line per trial, and within a trial the epochs\n"
    "and the test pass as scn train shows them.\n"
    "\n"
    "  --models      presets or specs, comma-separated (default\n"
    "                lenet-paper,lenet-sf,lenet-csf; a spec holding commas cannot be\n"
    "                given here)\n"
    "  --unlabelled N  semi-supervised (SF section 4.4): also N random images of the\n"
    "                rest of the training split (all: every one) without labels, a\n"
    "                batch of them per step; mu steps down through --mu over the\n"
    "                epochs. Models without a sparse-coding layer train supervised\n"
    "  --mu M1,...   default 0.8,0.5,0.3,0 (the paper's), in equal parts of --epochs\n"
    "  --epochs E    default: enough for about 100 steps, at least 6 (K=10: 34,\n"
    "                K=30: 12, K=60: 6 with 10 classes and batch 32): every model\n"
    "                fits its labelled images (training error 0) by then\n"
    "  --lr LR       default 0.01, momentum 0.9, weight decay 5e-4 (lr 0.1 diverges\n"
    "                without batch normalisation)\n"
    "  --batch B     default 32, or half the labelled images when fewer than 64\n"
    "  --csv FILE    one row per run: model,per_class,trial,unlabelled,accuracy,seconds\n"
    "  --seed S      trial t draws its images with seed S + t (default 1)\n";

/* Whether net has a sparse-coding layer (sc, csf, sf) for mu to weigh:
 * only those report a code density. */
static int has_sparse_coding(const scn_net *net) {
    int i;
    for (i = 0; i < scn_net_layer_count(net); i++)
        if (scn_net_layer_density(net, i) >= 0.0f) return 1;
    return 0;
}

/* The experiments' test pass over the first `limit` test images (0: all),
 * with progress on stderr; 1 (with the message) on failure. */
static int test_pass(scn_net *net, scn_dataset *test, const scn_train_state *st, int limit,
                     scn_pass_result *res) {
    scn_train_desc ed;
    progress_ctx pc;
    memset(&ed, 0, sizeof ed);
    memset(&pc, 0, sizeof pc);
    pc.tty = isatty(2);
    ed.item_count = limit;
    ed.progress = show_progress;
    ed.user = &pc;
    ed.progress_every = progress_every(pc.tty);
    return scn_evaluate(net, test, st, &ed, res, NULL) ? die_lib() : 0;
}

/* The experiments' data: both splits of DIR and the training split's
 * per-channel statistics; 1 (with the message) on failure. */
static int open_splits(const char *data, const char *format, scn_dataset **train,
                       scn_dataset **test, scn_train_state *stats) {
    memset(stats, 0, sizeof *stats);
    if (!(*train = scn_dataset_open(data, "train", format)) ||
        !(*test = scn_dataset_open(data, "test", format)) ||
        scn_dataset_stats(*train, stats->mean, stats->std))
        return die_lib();
    return 0;
}

/* One model on one labelled subset: trained, then its test accuracy. */
typedef struct limited_run {
    const char *model;
    scn_dataset *train, *test;
    const scn_train_state *stats;       /* the training split's mean and std */
    const int *items, *unlabelled;
    int count, unlabelled_count, epochs, batch, seed;
    float lr;
    const mu_schedule *mu;              /* NULL: supervised */
} limited_run;

static int limited_train(const limited_run *r, double *accuracy) {
    char buf[512];
    const char *spec = sized_preset(r->model, r->train->classes, buf, sizeof buf);
    scn_net *net = scn_net_create(spec, r->train->C, r->train->H, r->train->W,
                                  (uint64_t)r->seed);
    scn_sgd opt;
    scn_sgd_desc sd;
    scn_train_state st = *r->stats;
    scn_train_desc td;
    scn_pass_result res;
    double t0 = now_seconds(), last = t0;
    int rc = 1, semi = r->mu && net && has_sparse_coding(net);
    memset(&opt, 0, sizeof opt);
    if (!net) return die_lib();
    memset(&sd, 0, sizeof sd);
    sd.lr = r->lr;
    if (scn_sgd_init(&opt, net, &sd)) { rc = die_lib(); goto done; }
    scn_rng_seed(&st.rng, (uint64_t)r->seed, 0x7a1);
    memset(&td, 0, sizeof td);
    td.batch = r->batch;
    td.items = r->items;
    td.item_count = r->count;
    if (semi) {
        td.unlabelled = r->unlabelled;
        td.unlabelled_count = r->unlabelled_count;
    }
    while (st.epoch < r->epochs) {
        td.mu = semi ? mu_at(r->mu, st.epoch) : 0.0f;
        if (scn_train_epoch(net, &opt, r->train, &st, &td, &res)) { rc = die_lib(); goto done; }
        tick("training: epoch", st.epoch, r->epochs, t0, &last);
    }
    if (test_pass(net, r->test, &st, 0, &res)) goto done;
    *accuracy = 100.0 * res.accuracy;
    rc = 0;
done:
    scn_sgd_free(&opt);
    scn_net_free(net);
    return rc;
}

/* The comma-separated names of list into names[] (at most max), in buf. */
static int split_names(const char *list, char *buf, size_t cap, char **names, int max) {
    int n = 0;
    char *p;
    if (snprintf(buf, cap, "%s", list) >= (int)cap || !*buf) return -1;
    for (p = buf; n < max; ) {
        names[n++] = p;
        if (!(p = strchr(p, ','))) return names[n - 1][0] ? n : -1;
        *p++ = '\0';
        if (!names[n - 1][0]) return -1;
    }
    return -1;
}

static int cmd_limited(int argc, char **argv) {
    const char *data = "/usr/share/datasets/fashion-mnist", *format = NULL, *csv = NULL;
    const char *ks = NULL, *models = "lenet-paper,lenet-sf,lenet-csf", *unlabelled = NULL;
    const char *mu = NULL;
    int trials = 0, epochs = 0, batch = 0, seed = 1, threads = 0, want_u = 0, rc = 1;
    int nk, nm, ki, mi, t, *items = NULL, *upool = NULL;
    float lr = 0.01f;
    double kv[16], *acc = NULL;
    char mbuf[1024], *names[16];
    scn_dataset *train = NULL, *test = NULL;
    scn_train_state stats;
    mu_schedule mus;
    FILE *out = NULL;
    scn_output_lock lock;
    const option opts[] = {
        { "--data", OPT_STR, &data, 0, 0, NULL },
        { "--format", OPT_STR, &format, 0, 0, NULL },
        { "--per-class", OPT_STR, &ks, 0, 0, NULL },
        { "--trials", OPT_INT, &trials, 1, 1000, NULL },
        { "--models", OPT_STR, &models, 0, 0, NULL },
        { "--unlabelled", OPT_STR, &unlabelled, 0, 0, NULL },
        { "--epochs", OPT_INT, &epochs, 1, 100000, NULL },
        { "--lr", OPT_FLOAT, &lr, 1e-30, 1e3, NULL },
        { "--batch", OPT_INT, &batch, 2, 65536, NULL },
        { "--mu", OPT_STR, &mu, 0, 0, NULL },
        { "--csv", OPT_STR, &csv, 0, 0, NULL },
        { "--seed", OPT_INT, &seed, 0, 1000000000, NULL },
        { "--threads", OPT_INT, &threads, 1, 1024, NULL },
        { NULL, 0, NULL, 0, 0, NULL }
    };
    memset(&lock, 0, sizeof lock);
    lock.fd = -1;
    if ((rc = parse_options(argc, argv, opts, limited_help)) != 0) return rc == 2 ? 0 : 1;
    rc = 1;
    if (!ks) return die("%s", "--per-class is required, e.g. --per-class 10,30,60");
    if (!trials) return die("%s", "--trials is required (the paper's figure: several)");
    if ((nk = parse_list(ks, kv, 16, 1, 1e6, 1, 0)) < 1)
        return die("--per-class %s: need up to 16 counts like 10,30,60", ks);
    if ((nm = split_names(models, mbuf, sizeof mbuf, names, 16)) < 1)
        return die("--models %s: need up to 16 names separated by commas", models);
    if (unlabelled && (want_u = parse_unlabelled(unlabelled)) < 0) return 1;
    if (mu && !unlabelled) return die("%s", "--mu needs --unlabelled");
    set_threads(threads);
    if (csv && (scn_output_check(csv) || scn_output_lock_take(csv, &lock))) return die_lib();
    if (open_splits(data, format, &train, &test, &stats)) goto done;
    if (!train->labels || train->classes < 1) { rc = die("%s has no labels", data); goto done; }
    for (mi = 0; mi < nm; mi++) {           /* every model is made before any training */
        char buf[512];
        scn_net *net = scn_net_create(sized_preset(names[mi], train->classes, buf, sizeof buf),
                                      train->C, train->H, train->W, 1);
        if (!net) {
            fprintf(stderr, "%s: --models %s: %s\n", prog_cmd, names[mi], scn_error());
            goto done;
        }
        if (unlabelled && !has_sparse_coding(net))
            fprintf(stderr, "%s: %s has no sparse-coding layer: trained supervised\n",
                    prog_cmd, names[mi]);
        scn_net_free(net);
    }
    items = malloc(sizeof *items * (size_t)train->count);
    acc = malloc(sizeof *acc * (size_t)trials);
    if (!items || !acc) { rc = die("%s", "out of memory"); goto done; }
    if (csv) {
        if (!(out = fopen(csv, "w"))) { rc = die("cannot write %s", csv); goto done; }
        if (log_line(out, csv, "model,per_class,trial,unlabelled,accuracy,seconds\n")) goto done;
    }
    for (ki = 0; ki < nk; ki++) {
        int k = (int)kv[ki], e = epochs, b = batch, count = k * train->classes;
        if (count > train->count) {
            fprintf(stderr, "%s: --per-class %d: %d images, more than the %d training "
                    "images\n", prog_cmd, k, count, train->count);
            goto done;
        }
        if (!b) b = count >= 64 ? 32 : count / 2 > 1 ? count / 2 : 2;
        if (!e) e = (int)ceil(100.0 / (count / b)) > 6 ? (int)ceil(100.0 / (count / b)) : 6;
        if (unlabelled && mu_schedule_parse(&mus, mu ? mu : SF_MU_STEPS, NULL, e)) goto done;
        for (mi = 0; mi < nm; mi++) {
            double mean = 0.0, var = 0.0;
            for (t = 0; t < trials; t++) {
                limited_run r;
                scn_rng pick;
                double t0 = now_seconds();
                /* the same labelled (and unlabelled) images for every model of a trial */
                scn_rng_seed(&pick, (uint64_t)(seed + t), 0x5e1 + (uint64_t)k);
                memset(&r, 0, sizeof r);
                if ((r.count = scn_dataset_per_class(train, k, &pick, items)) < 0) {
                    rc = die_lib();
                    goto done;
                }
                if (unlabelled) {
                    free(upool);
                    upool = NULL;
                    if ((r.unlabelled_count = unlabelled_items(train->count, items, r.count,
                                                               want_u, &pick, &upool)) < 0)
                        goto done;
                    r.unlabelled = upool;
                    r.mu = &mus;
                }
                r.model = names[mi];
                r.train = train;
                r.test = test;
                r.stats = &stats;
                r.items = items;
                r.epochs = e;
                r.batch = b;
                r.lr = lr;
                r.seed = seed + t;
                if (limited_train(&r, &acc[t])) goto done;
                fprintf(stderr, "%s: %s K=%d trial %d/%d: %.2f%% (%d epochs, %.0f s)\n",
                        prog_cmd, names[mi], k, t + 1, trials, acc[t], e, now_seconds() - t0);
                if (out && log_line(out, csv, "%s,%d,%d,%d,%.4f,%.1f\n", names[mi], k, t + 1,
                                    r.unlabelled_count, acc[t], now_seconds() - t0))
                    goto done;
                mean += acc[t];
            }
            mean /= trials;
            for (t = 0; t < trials; t++) var += (acc[t] - mean) * (acc[t] - mean);
            printf("%s %d %.2f %.2f\n", names[mi], k, mean,
                   trials > 1 ? sqrt(var / (trials - 1)) : 0.0);
            fflush(stdout);
        }
    }
    rc = 0;
done:
    if (out && fclose(out) != 0 && rc == 0) rc = die("cannot write %s", csv);
    free(items);
    free(upool);
    free(acc);
    scn_dataset_close(train);
    scn_dataset_close(test);
    scn_output_lock_release(&lock);
    return rc;
}

/* ----------------------------------------------------------- sweep-ddse */

static const char *sweep_help =
    "usage: scn sweep-ddse --ratios R1,R2,... [--models M1,...] [--data DIR]\n"
    "                      [--format F] [--epochs E] [--lr LR] [--batch B] [--limit N]\n"
    "                      [--test-limit N] [--csv out.csv] [--seed S] [--threads T]\n"
    "\n"
    "The sparsity sweep of the DDSE paper (Figure 3): for each ratio s/n, DDSE\n"
    "(ddse-mnist) and its five baselines (ddse-fc, ddse-fc-dropout,\n"
    "ddse-fc-dropconnect, ddse-lista, ddse-noshortcut) are trained on the training\n"
    "split of DIR (default /usr/share/datasets/fashion-mnist; 28 x 28 images) and\n"
    "tested on its test split. s, the nonzeros per row or column of the sparse\n"
    "weights, is the ratio times the input size, rounded (at least 1). Only\n"
    "ddse-mnist and ddse-noshortcut depend on s: the other four are trained once\n"
    "and their result repeated for every ratio. Per ratio, one line per model on\n"
    "stdout:\n"
    "  RATIO MODEL ERROR     (test error in percent)\n"
    "Progress goes to stderr, with each model's time per training epoch.\n"
    "\n"
    "  --ratios      s/n values in (0, 1], comma-separated (required)\n"
    "  --models      a comma-separated subset of the six (default: all)\n"
    "  --epochs E    epochs per model (default 10); the learning rate drops 10x\n"
    "                after half and after three quarters of them (the paper drops\n"
    "                it by hand when progress stops)\n"
    "  --lr LR       default 0.01, momentum 0.9, no weight decay (section 4.1)\n"
    "  --batch B     default 128 (section 4.1)\n"
    "  --limit N     train on the first N training images only (quick runs)\n"
    "  --test-limit N  test on the first N test images only\n"
    "  --csv FILE    one row per trained model: ratio,model,nnz,error,\n"
    "                seconds_per_epoch,epochs\n"
    "  --seed S      initialisation and shuffling seed (default 1)\n";

static const char *const sweep_models[] = {
    "ddse-mnist", "ddse-fc", "ddse-fc-dropout", "ddse-fc-dropconnect", "ddse-lista",
    "ddse-noshortcut"
};
enum { SWEEP_MODELS = 6 };

/* wanted[i]: whether sweep_models[i] is in the comma-separated list (NULL:
 * all of them); 1 (with the message) for a name not among them. */
static int sweep_select(const char *list, int *wanted) {
    char buf[256], *names[SWEEP_MODELS];
    int n, i, j;
    for (j = 0; j < SWEEP_MODELS; j++) wanted[j] = !list;
    if (!list) return 0;
    if ((n = split_names(list, buf, sizeof buf, names, SWEEP_MODELS)) < 1)
        return die("--models %s: need names separated by commas", list);
    for (i = 0; i < n; i++) {
        for (j = 0; j < SWEEP_MODELS && strcmp(names[i], sweep_models[j]); j++) continue;
        if (j == SWEEP_MODELS)
            return die("--models: %s is not one of ddse-mnist, ddse-fc, ddse-fc-dropout, "
                       "ddse-fc-dropconnect, ddse-lista, ddse-noshortcut", names[i]);
        wanted[j] = 1;
    }
    return 0;
}

/* A preset's spec with nnz=S in place of its own, or NULL if it has none. */
static const char *with_nnz(const char *spec, int nnz, char *buf, size_t cap) {
    const char *at = strstr(spec, "nnz="), *end;
    if (!at) return NULL;
    end = at + 4 + strspn(at + 4, "0123456789");
    if ((size_t)snprintf(buf, cap, "%.*snnz=%d%s", (int)(at - spec), spec, nnz, end) >= cap)
        return NULL;
    return buf;
}

typedef struct sweep_run {
    scn_dataset *train, *test;
    const scn_train_state *stats;
    int epochs, batch, seed, limit, test_limit;
    float lr;
    float *pca;             /* the pca layer's fitted buffers, kept for the next */
    size_t pca_count;
} sweep_run;

/* The PCA basis depends on the data only: fitted for the first model that
 * starts with a pca layer, then copied into the others (the nets hold no
 * other buffers). 1 on failure. */
static int sweep_pca(sweep_run *r, scn_net *net, const scn_train_state *st,
                     const scn_train_desc *td) {
    size_t count;
    float *buffers = scn_net_buffers(net, &count);
    if (strcmp(scn_net_layer_kind(net, 0), "pca")) return 0;
    if (r->pca && r->pca_count == count) {
        memcpy(buffers, r->pca, count * sizeof *buffers);
        return 0;
    }
    if (scn_pca_fit(net, r->train, st, td)) return die_lib();
    free(r->pca);
    if (!(r->pca = malloc(count * sizeof *r->pca))) return die("%s", "out of memory");
    memcpy(r->pca, buffers, count * sizeof *buffers);
    r->pca_count = count;
    return 0;
}

/* Trains spec as section 4.1 says and returns its test error (percent) and
 * mean seconds per training epoch. */
static int sweep_train(sweep_run *r, const char *name, const char *spec, double *error,
                       double *epoch_s) {
    scn_net *net = scn_net_create(spec, r->train->C, r->train->H, r->train->W,
                                  (uint64_t)r->seed);
    scn_sgd opt;
    scn_sgd_desc sd;
    scn_train_state st = *r->stats;
    scn_train_desc td;
    scn_pass_result res;
    double t0 = now_seconds(), last = t0, train_s = 0.0;
    int rc = 1;
    char what[96];
    memset(&opt, 0, sizeof opt);
    if (!net) {
        fprintf(stderr, "%s: %s: %s\n", prog_cmd, name, scn_error());
        return 1;
    }
    memset(&sd, 0, sizeof sd);
    sd.lr = r->lr;
    sd.weight_decay = -1.0f;                    /* none: section 4.1 names none */
    sd.milestones[0] = r->epochs / 2 > 0 ? r->epochs / 2 : 0;
    sd.milestones[1] = r->epochs * 3 / 4 > sd.milestones[0] ? r->epochs * 3 / 4 : 0;
    if (scn_sgd_init(&opt, net, &sd)) { rc = die_lib(); goto done; }
    scn_rng_seed(&st.rng, (uint64_t)r->seed, 0xdd5e);
    memset(&td, 0, sizeof td);
    td.batch = r->batch;
    td.item_count = r->limit;
    snprintf(what, sizeof what, "%s: epoch", name);
    if (sweep_pca(r, net, &st, &td)) goto done;
    while (st.epoch < r->epochs) {
        if (scn_train_epoch(net, &opt, r->train, &st, &td, &res)) { rc = die_lib(); goto done; }
        train_s += res.seconds;
        tick(what, st.epoch, r->epochs, t0, &last);
    }
    if (test_pass(net, r->test, &st, r->test_limit, &res)) goto done;
    *error = 100.0 * (1.0 - res.accuracy);
    *epoch_s = train_s / r->epochs;
    rc = 0;
done:
    scn_sgd_free(&opt);
    scn_net_free(net);
    return rc;
}

static int cmd_sweep_ddse(int argc, char **argv) {
    const char *data = "/usr/share/datasets/fashion-mnist", *format = NULL, *csv = NULL;
    const char *ratios = NULL, *models = NULL;
    int epochs = 10, batch = 128, seed = 1, threads = 0, limit = 0, test_limit = 0, rc = 1;
    int nr, ri, mi, n;
    float lr = 0.01f;
    double rv[16], error[SWEEP_MODELS], epoch_s[SWEEP_MODELS];
    int done_once[SWEEP_MODELS], wanted[SWEEP_MODELS];
    scn_dataset *train = NULL, *test = NULL;
    scn_train_state stats;
    sweep_run r;
    FILE *out = NULL;
    scn_output_lock lock;
    const option opts[] = {
        { "--data", OPT_STR, &data, 0, 0, NULL },
        { "--format", OPT_STR, &format, 0, 0, NULL },
        { "--ratios", OPT_STR, &ratios, 0, 0, NULL },
        { "--models", OPT_STR, &models, 0, 0, NULL },
        { "--epochs", OPT_INT, &epochs, 1, 100000, NULL },
        { "--lr", OPT_FLOAT, &lr, 1e-30, 1e3, NULL },
        { "--batch", OPT_INT, &batch, 1, 65536, NULL },
        { "--limit", OPT_INT, &limit, 1, 2147483647, NULL },
        { "--test-limit", OPT_INT, &test_limit, 1, 2147483647, NULL },
        { "--csv", OPT_STR, &csv, 0, 0, NULL },
        { "--seed", OPT_INT, &seed, 0, 1000000000, NULL },
        { "--threads", OPT_INT, &threads, 1, 1024, NULL },
        { NULL, 0, NULL, 0, 0, NULL }
    };
    memset(&lock, 0, sizeof lock);
    lock.fd = -1;
    memset(&r, 0, sizeof r);
    if ((rc = parse_options(argc, argv, opts, sweep_help)) != 0) return rc == 2 ? 0 : 1;
    rc = 1;
    if (!ratios) return die("%s", "--ratios is required, e.g. --ratios 0.05,0.1,0.25,0.5");
    if ((nr = parse_list(ratios, rv, 16, 1e-9, 1.0, 0, 0)) < 1)
        return die("--ratios %s: need up to 16 values in (0, 1] like 0.1,0.25", ratios);
    if (sweep_select(models, wanted)) return 1;
    set_threads(threads);
    if (csv && (scn_output_check(csv) || scn_output_lock_take(csv, &lock))) return die_lib();
    if (open_splits(data, format, &train, &test, &stats)) goto done;
    if (train->C * train->H * train->W != 784 || train->classes < 1 || train->classes > 10) {
        fprintf(stderr, "%s: %s holds %dx%dx%d images in %d classes: the DDSE presets take "
                "28 x 28 gray images in at most 10 classes\n", prog_cmd, data, train->C,
                train->H, train->W, train->classes);
        goto done;
    }
    if (limit && limit < batch) {
        fprintf(stderr, "%s: --limit %d is less than a batch of %d\n", prog_cmd, limit,
                batch);
        goto done;
    }
    n = train->C * train->H * train->W;
    if (csv) {
        if (!(out = fopen(csv, "w"))) { rc = die("cannot write %s", csv); goto done; }
        if (log_line(out, csv, "ratio,model,nnz,error,seconds_per_epoch,epochs\n")) goto done;
    }
    r.train = train;
    r.test = test;
    r.stats = &stats;
    r.epochs = epochs;
    r.batch = batch;
    r.seed = seed;
    r.limit = limit;
    r.test_limit = test_limit;
    r.lr = lr;
    memset(done_once, 0, sizeof done_once);
    for (ri = 0; ri < nr; ri++) {
        int nnz = (int)floor(rv[ri] * n + 0.5);
        if (nnz < 1) nnz = 1;
        for (mi = 0; mi < SWEEP_MODELS; mi++) {
            char buf[512], at[64];
            const char *preset = scn_net_preset(sweep_models[mi]);
            const char *spec = with_nnz(preset, nnz, buf, sizeof buf);
            if (!wanted[mi]) continue;
            if (!spec && done_once[mi]) {       /* not parameterised by s */
                printf("%g %s %.2f\n", rv[ri], sweep_models[mi], error[mi]);
                fflush(stdout);
                continue;
            }
            if (sweep_train(&r, sweep_models[mi], spec ? spec : preset, &error[mi],
                            &epoch_s[mi]))
                goto done;
            done_once[mi] = 1;
            snprintf(at, sizeof at, " at s/n %g (s = %d)", rv[ri], nnz);
            fprintf(stderr, "%s: %s%s: test error %.2f%% (%d epochs, %.1f s per epoch)\n",
                    prog_cmd, sweep_models[mi], spec ? at : " (any s)", error[mi], epochs,
                    epoch_s[mi]);
            printf("%g %s %.2f\n", rv[ri], sweep_models[mi], error[mi]);
            fflush(stdout);
            if (out && log_line(out, csv, "%g,%s,%d,%.4f,%.2f,%d\n", spec ? rv[ri] : 0.0,
                                sweep_models[mi], spec ? nnz : 0, error[mi], epoch_s[mi],
                                epochs))
                goto done;
        }
    }
    rc = 0;
done:
    if (out && fclose(out) != 0 && rc == 0) rc = die("cannot write %s", csv);
    free(r.pca);
    scn_dataset_close(train);
    scn_dataset_close(test);
    scn_output_lock_release(&lock);
    return rc;
}

/* ----------------------------------------------------------------- eval */

static const char *eval_help =
    "usage: scn eval --model model.scn [--data DIR] [--format F] [--batch B]\n"
    "                [--threads T] [--test-limit N] [--eval-tol T] [--confusion out.png]\n"
    "\n"
    "Evaluates a checkpoint on the test split of DIR (default\n"
    "/usr/share/datasets/fashion-mnist): prints \"test accuracy: NN.NN%\", the\n"
    "pass's speed (\"evaluation: N images, S s, R images/s\") and the confusion\n"
    "matrix (rows: true class, columns: predicted).\n"
    "  --eval-tol T  the SC layers stop FISTA at relative change T and skip\n"
    "                polishing (default 0.01; 0: codes solved exactly, as in training)\n"
    "  --format F    the data's format (default: detected; see scn info)\n"
    "  --batch B     images per forward pass (default 256). Memory grows with it:\n"
    "                the net keeps every layer's output for the batch (scn-mnist,\n"
    "                2 threads: a peak of 273 MB at 256, 104 MB at 64)\n"
    "  --threads T   OpenMP threads (default: all cores)\n"
    "  --test-limit N  the first N test images only (default: all)\n"
    "  --confusion F also draw the confusion matrix as a PNG to F: a row per true\n"
    "                class, each cell shaded by its share of the row\n";

static int draw_confusion(const long *conf, int K, const char *out);

static int cmd_eval(int argc, char **argv) {
    const char *data = "/usr/share/datasets/fashion-mnist", *model = NULL, *format = NULL;
    int batch = 256, threads = 0, rc = 1, K, i, j, test_limit = 0;
    float eval_tol = SCN_EVAL_TOL;
    const char *confusion_png = NULL;
    scn_dataset *test = NULL;
    scn_net *net = NULL;
    scn_train_state st;
    scn_train_desc ed;
    scn_pass_result te;
    progress_ctx pc;
    long *confusion = NULL;
    const option opts[] = {
        { "--model", OPT_STR, &model, 0, 0, NULL },
        { "--data", OPT_STR, &data, 0, 0, NULL },
        { "--format", OPT_STR, &format, 0, 0, NULL },
        { "--batch", OPT_INT, &batch, 1, 65536, NULL },
        { "--threads", OPT_INT, &threads, 1, 1024, NULL },
        { "--test-limit", OPT_INT, &test_limit, 1, 2147483647.0, NULL },
        { "--eval-tol", OPT_FLOAT, &eval_tol, 0, 0.999, NULL },
        { "--confusion", OPT_STR, &confusion_png, 0, 0, NULL },
        { NULL, 0, NULL, 0, 0, NULL }
    };
    if ((rc = parse_options(argc, argv, opts, eval_help)) != 0) return rc == 2 ? 0 : 1;
    rc = 1;
    if (!model) return die("%s", "--model is required (see scn eval --help)");
    set_threads(threads);
    memset(&st, 0, sizeof st);
    if (!(net = scn_checkpoint_load(model, NULL, &st)) ||
        !(test = scn_dataset_open(data, "test", format)) ||
        scn_net_set_eval_tol(net, eval_tol)) { rc = die_lib(); goto done; }
    K = scn_net_classes(net);
    if (!same_input(net, test, model, data)) goto done;
    confusion = calloc((size_t)K * K, sizeof *confusion);
    if (!confusion) { rc = die("%s", "out of memory"); goto done; }
    if (confusion_png && scn_output_check(confusion_png)) { rc = die_lib(); goto done; }
    memset(&ed, 0, sizeof ed);
    ed.batch = batch;
    ed.item_count = test_limit;
    pc.epochs = 0;
    pc.tty = isatty(2);
    pc.what = NULL;
    ed.progress = show_progress;
    ed.user = &pc;
    ed.progress_every = progress_every(pc.tty);
    if (scn_evaluate(net, test, &st, &ed, &te, confusion)) { rc = die_lib(); goto done; }
    printf("test accuracy: %.2f%%\n", 100.0 * te.accuracy);
    printf("evaluation: %ld images, %.2f s, %.1f images/s\n", te.images, te.seconds,
           te.images_per_s);
    printf("confusion (rows: true, columns: predicted)\n     ");
    for (j = 0; j < K; j++) printf(" %6d", j);
    printf("\n");
    for (i = 0; i < K; i++) {
        printf("%4d ", i);
        for (j = 0; j < K; j++) printf(" %6ld", confusion[i * K + j]);
        printf("\n");
    }
    fflush(stdout);
    rc = confusion_png ? draw_confusion(confusion, K, confusion_png) : 0;
done:
    free(confusion);
    scn_net_free(net);
    scn_train_state_free(&st);
    scn_dataset_close(test);
    return rc;
}

/* ----------------------------------------------------------------- info */

static const char *info_help =
    "usage: scn info [--data DIR] [--format F]\n"
    "\n"
    "Says what data set DIR holds (default /usr/share/datasets/fashion-mnist):\n"
    "its format, then per split the item count, the image size (CxHxW), the\n"
    "classes, the files it was read from and how many items each label has.\n"
    "Formats (--format, default\n"
    "detected): idx, cifar10, cifar100, cifar100-coarse, stl10, amat, folder.\n";

/* One line for a split, its files, then its label histogram; 1 (said on
 * stderr) if it cannot be opened. ds: the split opened already, or NULL. */
static int print_split(const char *data, const char *split, const char *format,
                       scn_dataset *ds) {
    long hist[256] = {0};
    int i;
    if (!ds && !(ds = scn_dataset_open(data, split, format))) {
        fprintf(stderr, "%s: %s split: %s\n", prog_cmd, split, scn_error());
        return 1;
    }
    printf("%s: %d items of %dx%dx%d, ", split, ds->count, ds->C, ds->H, ds->W);
    if (!ds->labels) {
        printf("no labels\n");
    } else {
        printf("%d classes\n", ds->classes);
    }
    printf("  files %s\n", ds->files);
    if (ds->labels) {
        printf("  labels");
        for (i = 0; i < ds->count; i++) hist[ds->labels[i]]++;
        for (i = 0; i < ds->classes; i++)
            printf("%s%d:%ld", i && i % 10 == 0 ? "\n        " : " ", i, hist[i]);
        printf("\n");
    }
    scn_dataset_close(ds);
    return 0;
}

static int cmd_info(int argc, char **argv) {
    const char *data = "/usr/share/datasets/fashion-mnist", *format = NULL;
    int rc;
    const option opts[] = {
        { "--data", OPT_STR, &data, 0, 0, NULL },
        { "--format", OPT_STR, &format, 0, 0, NULL },
        { NULL, 0, NULL, 0, 0, NULL }
    };
    scn_dataset *train;
    int detected = 0;
    if ((rc = parse_options(argc, argv, opts, info_help)) != 0) return rc == 2 ? 0 : 1;
    if (!format && (detected = 1) && !(format = scn_dataset_detect(data))) return die_lib();
    /* a directory that only looks like a format (an empty class folder)
     * holds no data: say so once, before claiming a format */
    if (!(train = scn_dataset_open(data, "train", format))) {
        if (!detected) return die_lib();
        fprintf(stderr, "%s: %s: no data set here (it looked like format %s: %s)\n",
                prog_cmd, data, format, scn_error());
        return 1;
    }
    printf("%s: format %s\n", data, format);
    rc = print_split(data, "train", format, train) | print_split(data, "test", format, NULL);
    if (!strcmp(format, "stl10")) print_split(data, "unlabeled", format, NULL); /* optional */
    return rc;
}

/* ---------------------------------------------------------------- bench */

static const char *bench_help =
    "usage: scn bench layer [--batch N] [--channels C] [--size S] [--atoms n]\n"
    "                       [--kernel k] [--iters T] [--reps R] [--threads T]\n"
    "       scn bench step [--model NAME|SPEC] [--data DIR | --channels C --size S]\n"
    "                      [--batch N] [--steps S] [--warmup W] [--lr LR] [--threads T]\n"
    "       scn bench csc ... (scn bench csc --help)\n\n"
    "Times one convolutional sparse-coding layer on random data: k x k patches,\n"
    "padding k/2, stride 1, lambda1 0.1, lambda2 0.01. The forward pass runs\n"
    "exactly --iters FISTA iterations (no early stop, no polishing); the\n"
    "backward pass is the fixed-point gradient for D and the input with an\n"
    "all-ones upstream gradient. Prints the median of --reps runs:\n"
    "  forward <seconds>\n"
    "  forward+backward <seconds>\n\n"
    "  --batch 32  --channels 16  --size 28  --atoms 64  --kernel 3\n"
    "  --iters 20  --reps 5       --threads (default: all cores)\n\n"
    "step times whole SGD training steps (forward, loss, backward, update) of a\n"
    "network on the first N training images of --data (IDX, normalised), or on\n"
    "random C x S x S images (default 1 x 28 x 28) and labels without it, as\n"
    "`scn train` runs them\n"
    "(solver to tolerance, polished), and prints the median:\n"
    "  images/s <training images per second>\n"
    "  peak_rss_mb <the process's peak resident memory>\n"
    "The --warmup steps first train on the same batch: a fresh network's codes\n"
    "are denser and slower to solve than after a few steps of training.\n"
    "  --model scn-mnist  --batch 64  --steps 5  --warmup 20  --lr 0.1 (nets\n"
    "  without BN, such as the ddse presets, need 0.01)\n";

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The median of t[0..n) (sorts t). */
static double median(double *t, int n) {
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return t[n / 2];
}

/* The first N training images of ds (from dir), normalised, and their labels. */
static int read_first(scn_dataset *ds, const char *dir, int N, float *x,
                      unsigned char *labels) {
    int *idx = malloc((size_t)N * sizeof *idx), i;
    float mean[SCN_MAX_CHANNELS], std[SCN_MAX_CHANNELS];
    if (!idx) return die("%s", "out of memory");
    if (ds->count < N) {
        free(idx);
        return die("%s has fewer training images than --batch", dir);
    }
    for (i = 0; i < N; i++) idx[i] = i;
    if (scn_dataset_stats(ds, mean, std) || scn_dataset_read(ds, idx, N, x, labels)) {
        free(idx);
        return die_lib();
    }
    scn_normalize(x, N, ds->C, ds->H * ds->W, mean, std);
    free(idx);
    return 0;
}

static int bench_step(int argc, char **argv) {
    const char *model = "scn-mnist", *spec, *data = NULL;
    int N = 64, steps = 5, warmup = 20, threads = 0, C = 1, S = 28, r, rc, K, correct;
    scn_dataset *ds = NULL;
    float lr = 0.1f;
    scn_net *net = NULL;
    scn_sgd opt;
    scn_rng rng;
    float *x = NULL, *dlogits = NULL;
    unsigned char *labels = NULL;
    double t[64], loss, t0, start, last;
    size_t i;
    struct rusage ru;
    const option opts[] = {
        { "--model", OPT_STR, &model, 0, 0, NULL },
        { "--data", OPT_STR, &data, 0, 0, NULL },
        { "--batch", OPT_INT, &N, 2, 1e5, NULL },
        { "--channels", OPT_INT, &C, 1, SCN_MAX_CHANNELS, NULL },
        { "--size", OPT_INT, &S, 1, 4096, NULL },
        { "--steps", OPT_INT, &steps, 1, 64, NULL },
        { "--warmup", OPT_INT, &warmup, 0, 1e6, NULL },
        { "--lr", OPT_FLOAT, &lr, 1e-30, 1e3, NULL },
        { "--threads", OPT_INT, &threads, 1, 1024, NULL },
        { NULL, 0, NULL, 0, 0, NULL }
    };
    if ((rc = parse_options(argc, argv, opts, bench_help)) != 0) return rc == 2 ? 0 : 1;
    set_threads(threads);
    spec = scn_net_preset(model) ? scn_net_preset(model) : model;
    if (data) {
        if (!(ds = scn_dataset_open(data, "train", NULL))) return die_lib();
        C = ds->C;
        S = ds->H;
        if (ds->W != S) {
            scn_dataset_close(ds);
            return die("%s: bench step takes square images only", data);
        }
    }
    if (!(net = scn_net_create(spec, C, S, S, 1))) {
        scn_dataset_close(ds);
        return die_lib();
    }
    rc = 1;
    K = scn_net_classes(net);
    x = malloc((size_t)N * C * S * S * sizeof *x);
    dlogits = malloc((size_t)N * K * sizeof *dlogits);
    labels = malloc((size_t)N);
    memset(&opt, 0, sizeof opt);
    if (!x || !dlogits || !labels || scn_sgd_init(&opt, net, NULL)) {
        die("%s", "out of memory");
        goto done;
    }
    scn_rng_seed(&rng, 1, 0);
    for (i = 0; i < (size_t)N * C * S * S; i++) x[i] = scn_rng_normal(&rng);
    for (i = 0; i < (size_t)N; i++) labels[i] = (unsigned char)scn_rng_below(&rng, (uint32_t)K);
    if (ds && read_first(ds, data, N, x, labels)) goto done;
    for (r = -warmup, start = last = now_seconds(); r < steps; r++) {
        const float *z;
        t0 = now_seconds();
        scn_net_zero_grad(net);
        if (!(z = scn_net_forward(net, x, N, 1)) ||
            scn_softmax_xent(z, labels, N, K, dlogits, &loss, &correct) ||
            scn_net_backward(net, dlogits, NULL) || scn_sgd_step(&opt, net, lr)) {
            die_lib();
            goto done;
        }
        if (r >= 0) t[r] = now_seconds() - t0;
        tick("step", r + warmup + 1, steps + warmup, start, &last);
    }
    getrusage(RUSAGE_SELF, &ru);
    printf("images/s %.1f\npeak_rss_mb %.1f\n", N / median(t, steps), ru.ru_maxrss / 1024.0);
    rc = 0;
done:
    scn_sgd_free(&opt);
    scn_net_free(net);
    scn_dataset_close(ds);
    free(x); free(dlogits); free(labels);
    return rc;
}

static const char *bench_csc_help =
    "usage: scn bench csc [--batch N] [--channels C] [--size S] [--atoms M]\n"
    "                     [--kernel k] [--stride s] [--iters T] [--fixed --l2 L2]\n"
    "                     [--reps R] [--threads t]\n\n"
    "Times one csc layer (SDNet's convolutional sparse coding) on random N x C x S\n"
    "x S data: M atoms of C x k x k, stride s, padding (k-1)/2, lambda 0.1, T FISTA\n"
    "steps; backward through the unrolled steps (or with --fixed the fixed-point\n"
    "gradient, which needs --l2 > 0) for the dictionary and the input with an\n"
    "all-ones upstream gradient. Prints the median of --reps runs after one\n"
    "warm-up, and the process's peak memory:\n"
    "  forward <seconds>\n"
    "  forward+backward <seconds>\n"
    "  peak_rss_mb <MB>\n\n"
    "  --batch 32  --channels 3  --size 32  --atoms 64  --kernel 3  --stride 1\n"
    "  --iters 2   --reps 5      --threads (default: all cores)\n";

static int bench_csc(int argc, char **argv) {
    int N = 32, C = 3, S = 32, M = 64, k = 3, stride = 1, iters = 2, reps = 5, threads = 0;
    int fixed = 0, r, rc, K;
    float l2 = 0.0f;
    char spec[160];
    scn_net *net;
    scn_rng rng;
    float *x = NULL, *dx = NULL, *dl = NULL;
    double tf[64], tfb[64], start, last;
    size_t i, xs;
    struct rusage ru;
    const option opts[] = {
        { "--batch", OPT_INT, &N, 1, 1e6, NULL },
        { "--channels", OPT_INT, &C, 1, 1e5, NULL },
        { "--size", OPT_INT, &S, 1, 1e5, NULL },
        { "--atoms", OPT_INT, &M, 1, 1e5, NULL },
        { "--kernel", OPT_INT, &k, 1, 99, NULL },
        { "--stride", OPT_INT, &stride, 1, 99, NULL },
        { "--iters", OPT_INT, &iters, 1, 1000, NULL },
        { "--fixed", OPT_FLAG, &fixed, 0, 0, NULL },
        { "--l2", OPT_FLOAT, &l2, 0, 1e3, NULL },
        { "--reps", OPT_INT, &reps, 1, 64, NULL },
        { "--threads", OPT_INT, &threads, 1, 1024, NULL },
        { NULL, 0, NULL, 0, 0, NULL }
    };
    if ((rc = parse_options(argc, argv, opts, bench_csc_help)) != 0) return rc == 2 ? 0 : 1;
    set_threads(threads);
    snprintf(spec, sizeof spec, "csc:n=%d,k=%d,s=%d,iters=%d,l2=%g%s", M, k, stride, iters,
             (double)l2, fixed ? ",fixed" : "");
    if (!(net = scn_net_create(spec, C, S, S, 1))) return die_lib();
    rc = 1;
    K = scn_net_classes(net);
    xs = (size_t)N * C * S * S;
    x = malloc(xs * sizeof *x);
    dx = malloc(xs * sizeof *dx);
    dl = malloc((size_t)N * K * sizeof *dl);
    if (!x || !dx || !dl) { die("%s", "out of memory"); goto done; }
    scn_rng_seed(&rng, 1, 0);
    for (i = 0; i < xs; i++) x[i] = scn_rng_normal(&rng);
    for (i = 0; i < (size_t)N * K; i++) dl[i] = 1.0f;
    for (r = -1, start = last = now_seconds(); r < reps; r++) {
        double t0 = now_seconds(), t1;
        if (!scn_net_forward(net, x, N, 1)) { die_lib(); goto done; }
        t1 = now_seconds();
        if (scn_net_backward(net, dl, dx)) { die_lib(); goto done; }
        if (r >= 0) {
            tf[r] = t1 - t0;
            tfb[r] = now_seconds() - t0;
        }
        tick("repetition", r + 2, reps + 1, start, &last);
    }
    getrusage(RUSAGE_SELF, &ru);
    printf("forward %.6f\nforward+backward %.6f\npeak_rss_mb %.1f\n", median(tf, reps),
           median(tfb, reps), ru.ru_maxrss / 1024.0);
    rc = 0;
done:
    free(x); free(dx); free(dl);
    scn_net_free(net);
    return rc;
}

#ifdef SCN_CUDA
/* bin/scn-cuda: bench layer's arrays move to the device (the host copy is
 * freed); device_free frees either kind */
static const float *on_device[8];

static int to_device(float **p, size_t count) {
    const scn_backend *be = scn_backend_get();
    float *d = (float *)be->alloc(count * sizeof **p);
    size_t i;
    if (!d || be->upload(d, *p, count * sizeof **p)) {
        if (d) be->release(d);
        return 1;
    }
    free(*p);
    *p = d;
    for (i = 0; i < 8 && on_device[i]; i++) {}
    if (i < 8) on_device[i] = d;
    return 0;
}

static void device_free(float *p) {
    size_t i;
    for (i = 0; i < 8; i++)
        if (p && on_device[i] == p) { scn_backend_get()->release(p); on_device[i] = NULL; return; }
    free(p);
}
#endif

static int cmd_bench(int argc, char **argv) {
    int N = 32, C = 16, S = 28, n = 64, k = 3, iters = 20, reps = 5, threads = 0, r, rc;
    scn_conv_geom g;
    scn_solve_desc sd;
    scn_workspace ws = { NULL, 0, NULL };
    scn_rng rng;
    float *x = NULL, *D = NULL, *X = NULL, *alpha = NULL, *codes = NULL, *ones = NULL,
          *dD = NULL, *dx = NULL, dl;
    double tf[64], tfb[64], start, last;
    size_t i, xs, ms;
    const option opts[] = {
        { "--batch", OPT_INT, &N, 1, 1e6, NULL },
        { "--channels", OPT_INT, &C, 1, 1e5, NULL },
        { "--size", OPT_INT, &S, 1, 1e5, NULL },
        { "--atoms", OPT_INT, &n, 1, 1e5, NULL },
        { "--kernel", OPT_INT, &k, 1, 99, NULL },
        { "--iters", OPT_INT, &iters, 1, 1e6, NULL },
        { "--reps", OPT_INT, &reps, 1, 64, NULL },
        { "--threads", OPT_INT, &threads, 1, 1024, NULL },
        { NULL, 0, NULL, 0, 0, NULL }
    };
    if (argc >= 1 && !strcmp(argv[0], "step")) return bench_step(argc - 1, argv + 1);
    if (argc >= 1 && !strcmp(argv[0], "csc")) return bench_csc(argc - 1, argv + 1);
    if (argc < 1 || strcmp(argv[0], "layer")) {
        if (argc >= 1 && (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h"))) {
            fputs(bench_help, stdout);
            return 0;
        }
        return die("%s", "the benchmarks are 'layer', 'step' and 'csc' (see scn bench --help)");
    }
    if ((rc = parse_options(argc - 1, argv + 1, opts, bench_help)) != 0) return rc == 2 ? 0 : 1;
    set_threads(threads);
    if (scn_conv_geom_init(&g, N, C, S, S, k, 1, k / 2)) return die_lib();
    xs = (size_t)N * C * S * S;
    ms = (size_t)g.m * g.P;
    x = malloc(xs * sizeof *x);
    dx = malloc(xs * sizeof *dx);
    D = malloc((size_t)g.m * n * sizeof *D);
    dD = malloc((size_t)g.m * n * sizeof *dD);
    X = malloc(ms * sizeof *X);
    alpha = malloc((size_t)n * g.P * sizeof *alpha);
    codes = malloc((size_t)n * g.P * sizeof *codes);
    ones = malloc((size_t)n * g.P * sizeof *ones);
    rc = 1;
    if (!x || !dx || !D || !dD || !X || !alpha || !codes || !ones) {
        die("%s", "out of memory");
        goto done;
    }
    scn_rng_seed(&rng, 1, 0);
    for (i = 0; i < xs; i++) x[i] = scn_rng_normal(&rng);
    for (i = 0; i < (size_t)g.m * n; i++) D[i] = scn_rng_normal(&rng) / sqrtf((float)g.m);
    for (i = 0; i < (size_t)n * g.P; i++) ones[i] = 1.0f;
#ifdef SCN_CUDA
    if (to_device(&x, xs) || to_device(&dx, xs) || to_device(&D, (size_t)g.m * n) ||
        to_device(&dD, (size_t)g.m * n) || to_device(&X, ms) ||
        to_device(&alpha, (size_t)n * g.P) || to_device(&codes, (size_t)n * g.P) ||
        to_device(&ones, (size_t)n * g.P)) {
        die_lib();
        goto done;
    }
#endif
    memset(&sd, 0, sizeof sd);
    sd.lambda1 = 0.1f;
    sd.lambda2 = 0.01f;
    sd.fixed_iter = iters;
    sd.ws = &ws;                                    /* scratch kept across calls */
    for (r = 0, start = last = now_seconds(); r < reps; r++) {
        double t0 = now_seconds(), t1;
        if (scn_sc_conv_forward(&g, D, n, x, &sd, X, alpha, codes, NULL)) { die_lib(); goto done; }
        t1 = now_seconds();
        if (scn_sc_conv_backward(&g, D, n, X, alpha, ones, &sd, dD, dx, &dl)) {
            die_lib();
            goto done;
        }
        tf[r] = t1 - t0;
        tfb[r] = now_seconds() - t0;
        tick("repetition", r + 1, reps, start, &last);
    }
    printf("forward %.6f\nforward+backward %.6f\n", median(tf, reps), median(tfb, reps));
    rc = 0;
done:
#ifdef SCN_CUDA
    device_free(x); device_free(dx); device_free(D); device_free(dD); device_free(X);
    device_free(alpha); device_free(codes); device_free(ones);
#else
    free(x); free(dx); free(D); free(dD); free(X); free(alpha); free(codes); free(ones);
#endif
    scn_workspace_free(&ws);
    return rc;
}

/* ----------------------------------------------------------- show, plot */

static const char *show_help =
    "usage: scn show --model M --layer L --out atoms.png\n"
    "       scn show --model M --layer L --recon [--data DIR] [--format F]\n"
    "                [--images N] [--noise NAME [--severity S]] [--lambda L]\n"
    "                --out recon.png\n"
    "\n"
    "Draws sc, csf or csc layer L of a checkpoint (L as `scn train` numbers the\n"
    "layers) as a PNG.\n"
    "Without --recon: its dictionary, one tile per atom in a grid, each atom scaled\n"
    "from its own minimum (black) to its maximum (white); an atom over C channels\n"
    "other than 1 or 3 is its C k x k channel planes side by side.\n"
    "With --recon: for the first N test images of DIR (default\n"
    "/usr/share/datasets/fashion-mnist, --images default 6), one row each:\n"
    "the layer's input | its reconstruction D alpha | the residual (input and\n"
    "reconstruction on the input's scale; residual: gray 0, white and black +-\n"
    "its largest size). Deeper layers show their input's first channel (3\n"
    "channels: as colour). Prints |input - D alpha| / |input| per image.\n"
    "A csc layer draws A(z) (SDNet eq. 3) in place of D alpha, with a caption.\n"
    "  --format F    the data's format (default: detected; see scn info)\n"
    "  --noise NAME  corrupt the images first (gaussian, shot, speckle, impulse;\n"
    "                scn_corrupt), at --severity 1-5 (default 3)\n"
    "  --lambda L    a csc layer's lambda for this picture (default: as trained;\n"
    "                scn robust prints the adaptive one)\n";

/* Layer L (1-based) of net as a patch-wise sparse-coding layer's m, n, k,
 * and whether atom j is row j of its m x n parameters (csc: a convolution's
 * weights, n x m) rather than column j (sc, csf: D, m x n); 1 after
 * printing if not. */
static int sc_layer(const scn_net *net, int L, int *m, int *n, int *k, int *by_row) {
    char line[256];
    const char *kind = scn_net_layer_kind(net, L - 1), *p;
    size_t count;
    if (!kind || (strcmp(kind, "sc") && strcmp(kind, "csf") && strcmp(kind, "csc"))) {
        fprintf(stderr, "%s: layer %d is %s, not sc, csf or csc (scn train prints the "
                "layers)\n", prog_cmd, L, kind ? kind : "not there");
        return 1;
    }
    scn_net_describe(net, L - 1, line, sizeof line);
    *by_row = !strcmp(kind, "csc");
    if (*by_row) {      /* "NN csc  n x H x W  P params  (kxk/s, ..." */
        scn_net_layer_params(net, L - 1, &count);
        if (sscanf(line, "%*d %*s %d x", n) != 1 || !(p = strstr(line, "  (")) ||
            sscanf(p, "  (%dx", k) != 1 || *n < 1 || *k < 1 || count % (size_t)*n)
            return die("cannot read the layer's shape from \"%s\"", line);
        *m = (int)(count / (size_t)*n);
        return *m % (*k * *k) ? die("cannot read the layer's shape from \"%s\"", line) : 0;
    }
    if (!(p = strstr(line, "(m ")) || sscanf(p, "(m %d, n %d, %dx", m, n, k) != 3 ||
        *k < 1 || *m % (*k * *k))
        return die("cannot read the layer's shape from \"%s\"", line);
    return 0;
}

/* The dictionary of an sc, csf or csc layer, one normalised tile per atom. */
#define ATOM(i, j) D[by_row ? (size_t)(j) * m + (i) : (size_t)(i) * n + (j)]
static int draw_atoms(const scn_net *net, int L, const char *out) {
    int m, n, k, C, side, cols, rows, scale, tile, j, c, y, x, rc, by_row;
    size_t count, at;
    const float *D;
    canvas cv;
    char title[128];
    if (sc_layer(net, L, &m, &n, &k, &by_row)) return 1;
    at = scn_net_layer_params(net, L - 1, &count);
    D = scn_net_params((scn_net *)net) + at;        /* entry i of atom j: ATOM(i, j) */
    C = m / (k * k);
    side = C == 1 || C == 3 ? 1 : (int)ceil(sqrt((double)C));  /* channel planes per row */
    scale = 48 / (k * side) > 1 ? 48 / (k * side) : 1;
    tile = k * side * scale + (side - 1) * (side > 1);
    cols = (int)ceil(sqrt((double)n));
    rows = (n + cols - 1) / cols;
    snprintf(title, sizeof title, "layer %d: %d atoms of %dx%dx%d", L, n, C, k, k);
    x = cols * (tile + 4) + 4;
    if (!canvas_init(&cv, x > text_width(title, 2) + 8 ? x : text_width(title, 2) + 8,
                     rows * (tile + 4) + 24))
        return die("%s", "out of memory");
    canvas_text(&cv, 4, 4, title, 2, 0x000000);
    for (j = 0; j < n; j++) {
        int x0 = 4 + (j % cols) * (tile + 4), y0 = 24 + (j / cols) * (tile + 4);
        float lo = ATOM(0, j), hi = lo;
        for (x = 0; x < m; x++) {
            lo = fminf(lo, ATOM(x, j));
            hi = fmaxf(hi, ATOM(x, j));
        }
        canvas_box(&cv, x0 - 1, y0 - 1, x0 + tile + 1, y0 + tile + 1, 0x808080);
        for (c = 0; c < (C == 3 ? 1 : C); c++)
            for (y = 0; y < k; y++)
                for (x = 0; x < k; x++) {
                    int px = x0 + (c % side) * (k * scale + 1) + x * scale;
                    int py = y0 + (c / side) * (k * scale + 1) + y * scale;
                    unsigned rgb = gray(ATOM((c * k + y) * k + x, j), lo, hi);
                    if (C == 3)
                        rgb = (gray(ATOM((0 * k + y) * k + x, j), lo, hi) & 0xff0000) |
                              (gray(ATOM((1 * k + y) * k + x, j), lo, hi) & 0xff00) |
                              (gray(ATOM((2 * k + y) * k + x, j), lo, hi) & 0xff);
                    canvas_box(&cv, px, py, px + scale, py + scale, rgb);
                }
    }
    rc = canvas_save(&cv, out, prog_cmd);
    canvas_free(&cv);
    return rc;
}
#undef ATOM

/* Pixel (y, x) of image b's plane 0 (or colour for 3 channels) of an
 * N x C x H x W array on [lo, hi]. */
static unsigned plane_rgb(const float *a, const int *sh, int b, int y, int x, double lo,
                          double hi) {
    size_t hw = (size_t)sh[2] * sh[3], o = (size_t)b * sh[1] * hw + (size_t)y * sh[3] + x;
    if (sh[1] != 3) return gray(a[o], lo, hi);
    return (gray(a[o], lo, hi) & 0xff0000) | (gray(a[o + hw], lo, hi) & 0xff00) |
           (gray(a[o + 2 * hw], lo, hi) & 0xff);
}

/* input | D alpha (csc: A(z)) | residual for the first N test images,
 * corrupted first when noise is not NULL, at lambda when it is >= 0 (csc). */
static int draw_recon(scn_net *net, int L, const char *data, const char *format, int N,
                      const scn_train_state *st, const char *noise, int severity,
                      float lambda, const char *out) {
    int m, n, k, sh[4], b, y, x, scale, rc = 1, idx[64], col, by_row, top;
    char caption[128];
    scn_rng r;
    scn_dataset *ds = NULL;
    float *img = NULL, *in = NULL, *rec = NULL;
    size_t each, i;
    canvas cv = { 0, 0, NULL };
    static const char *const head[3] = { "input", "D alpha", "residual" };
    if (sc_layer(net, L, &m, &n, &k, &by_row)) return 1;
    if (lambda >= 0.0f && scn_net_set_csc_lambda(net, L - 1, lambda)) return die_lib();
    if (!(ds = scn_dataset_open(data, "test", format))) return die_lib();
    if (!same_input(net, ds, "the model", data)) goto done;
    if (N > ds->count) N = ds->count;
    each = (size_t)ds->C * ds->H * ds->W;
    for (b = 0; b < N; b++) idx[b] = b;
    if (!(img = malloc(each * N * sizeof *img))) { die("%s", "out of memory"); goto done; }
    if (scn_dataset_read(ds, idx, N, img, NULL)) { die_lib(); goto done; }
    scn_rng_seed(&r, 1, (uint64_t)severity);
    if (noise && scn_corrupt(img, each * N, noise, severity, &r)) { die_lib(); goto done; }
    if (scn_train_state_normalize(st, img, N, ds->C, ds->H, ds->W)) { die_lib(); goto done; }
    if (!scn_net_forward(net, img, N, 0) || scn_net_sc_recon(net, L - 1, sh, NULL, NULL)) {
        die_lib();
        goto done;
    }
    each = (size_t)sh[1] * sh[2] * sh[3];
    in = malloc(each * N * sizeof *in);
    rec = malloc(each * N * sizeof *rec);
    if (!in || !rec) { die("%s", "out of memory"); goto done; }
    if (scn_net_sc_recon(net, L - 1, sh, in, rec)) { die_lib(); goto done; }
    scale = 96 / sh[2] > 1 ? 96 / sh[2] : 1;
    caption[0] = '\0';
    if (by_row && noise)    /* csc: what the picture shows, noise and lambda */
        snprintf(caption, sizeof caption, "%s noise %d, lambda %g", noise, severity,
                 (double)scn_net_csc_lambda(net, L - 1));
    else if (by_row)
        snprintf(caption, sizeof caption, "clean, lambda %g",
                 (double)scn_net_csc_lambda(net, L - 1));
    top = caption[0] ? 44 : 28;
    if (!canvas_init(&cv, 3 * (sh[3] * scale + 8) + 8, N * (sh[2] * scale + 8) + top + 4)) {
        die("%s", "out of memory");
        goto done;
    }
    for (col = 0; col < 3; col++)
        canvas_text(&cv, 8 + col * (sh[3] * scale + 8), 6, col == 1 && by_row ? "A(z)" : head[col],
                    2, 0x000000);
    if (caption[0]) canvas_text(&cv, 8, 26, caption, 1, 0x000000);
    for (b = 0; b < N; b++) {
        double lo = in[b * each], hi = lo, rmax = 0.0, r2 = 0.0, x2 = 0.0;
        for (i = b * each; i < (b + 1) * each; i++) {
            double r = in[i] - rec[i];
            lo = fmin(lo, in[i]);
            hi = fmax(hi, in[i]);
            rmax = fmax(rmax, fabs(r));
            r2 += r * r;
            x2 += (double)in[i] * in[i];
        }
        for (i = b * each; i < (b + 1) * each; i++) img[i] = in[i] - rec[i];
        printf("image %d: |input - %s| / |input| = %.4f\n", b, by_row ? "A(z)" : "D alpha",
               x2 > 0 ? sqrt(r2 / x2) : 0.0);
        for (y = 0; y < sh[2]; y++)
            for (x = 0; x < sh[3]; x++) {
                int py = top + b * (sh[2] * scale + 8) + y * scale;
                unsigned v[3];
                v[0] = plane_rgb(in, sh, b, y, x, lo, hi);
                v[1] = plane_rgb(rec, sh, b, y, x, lo, hi);
                v[2] = plane_rgb(img, sh, b, y, x, -rmax, rmax);
                for (col = 0; col < 3; col++) {
                    int px = 8 + col * (sh[3] * scale + 8) + x * scale;
                    canvas_box(&cv, px, py, px + scale, py + scale, v[col]);
                }
            }
    }
    rc = canvas_save(&cv, out, prog_cmd);
done:
    canvas_free(&cv);
    free(img); free(in); free(rec);
    scn_dataset_close(ds);
    return rc;
}

static int cmd_show(int argc, char **argv) {
    const char *model = NULL, *out = NULL, *data = "/usr/share/datasets/fashion-mnist";
    const char *format = NULL;
    const char *noise = NULL;
    int layer = 0, recon = 0, images = 6, rc, severity = 3;
    float lambda = -1.0f;
    scn_net *net;
    scn_train_state st;
    const option opts[] = {
        { "--model", OPT_STR, &model, 0, 0, NULL },
        { "--layer", OPT_INT, &layer, 1, 100000, NULL },
        { "--out", OPT_STR, &out, 0, 0, NULL },
        { "--recon", OPT_FLAG, &recon, 0, 0, NULL },
        { "--data", OPT_STR, &data, 0, 0, NULL },
        { "--format", OPT_STR, &format, 0, 0, NULL },
        { "--images", OPT_INT, &images, 1, 64, NULL },
        { "--noise", OPT_STR, &noise, 0, 0, NULL },
        { "--severity", OPT_INT, &severity, 1, 5, NULL },
        { "--lambda", OPT_FLOAT, &lambda, 0, 1000, NULL },
        { NULL, 0, NULL, 0, 0, NULL }
    };
    if ((rc = parse_options(argc, argv, opts, show_help)) != 0) return rc == 2 ? 0 : 1;
    if (!model || !layer || !out)
        return die("%s", "--model, --layer and --out are required (see scn show --help)");
    if (!(net = scn_checkpoint_load(model, NULL, &st))) return die_lib();
    rc = recon ? draw_recon(net, layer, data, format, images, &st, noise, severity, lambda, out)
               : draw_atoms(net, layer, out);
    scn_net_free(net);
    scn_train_state_free(&st);
    return rc;
}

static const char *plot_help =
    "usage: scn plot run.csv --out curves.png\n"
    "\n"
    "Draws the CSV that `scn train --log` writes as a PNG: the training loss per\n"
    "epoch (left) and the training and test accuracy per epoch (right), with\n"
    "axes, ticks and a legend. Epochs without a test pass (--test-limit 0) have\n"
    "no test point.\n";

/* A step of 1, 2 or 5 times a power of ten giving about 5 ticks over span. */
static double nice_step(double span) {
    double p = pow(10.0, floor(log10(span / 5))), r = span / 5 / p;
    return p * (r < 1.5 ? 1 : r < 3.5 ? 2 : r < 7.5 ? 5 : 10);
}

typedef struct panel {
    int x0, y0, w, h;           /* the plot area on the canvas */
    double xlo, xhi, ylo, yhi;
} panel;

static double px_of(const panel *p, double x) {
    return p->x0 + (x - p->xlo) / (p->xhi - p->xlo) * p->w;
}
static double py_of(const panel *p, double y) {
    return p->y0 + p->h - (y - p->ylo) / (p->yhi - p->ylo) * p->h;
}

/* Frame, ticks with their numbers, title and axis names of a panel whose
 * y range covers ys[0..n) of the series given. */
static void draw_axes(canvas *cv, panel *p, const char *title, const char *xname,
                      const char *yname) {
    double step, t;
    char num[32];
    canvas_line(cv, p->x0, p->y0 + p->h, p->x0 + p->w, p->y0 + p->h, 1, 0x000000);
    canvas_line(cv, p->x0, p->y0, p->x0, p->y0 + p->h, 1, 0x000000);
    step = p->xhi - p->xlo > 10 ? ceil((p->xhi - p->xlo) / 10) : 1;
    for (t = ceil(p->xlo); t <= p->xhi + 1e-9; t += step) {
        int x = (int)px_of(p, t);
        canvas_line(cv, x, p->y0 + p->h, x, p->y0 + p->h + 5, 1, 0x000000);
        snprintf(num, sizeof num, "%g", t);
        canvas_text(cv, x - text_width(num, 1) / 2, p->y0 + p->h + 8, num, 1, 0x000000);
    }
    step = nice_step(p->yhi - p->ylo);
    p->ylo = floor(p->ylo / step) * step;
    p->yhi = ceil(p->yhi / step) * step;
    for (t = p->ylo; t <= p->yhi + step * 1e-6; t += step) {
        int y = (int)py_of(p, t);
        canvas_line(cv, p->x0 - 5, y, p->x0, y, 1, 0x000000);
        canvas_line(cv, p->x0 + 1, y, p->x0 + p->w, y, 1, 0xe0e0e0);
        snprintf(num, sizeof num, "%g", fabs(t) < step * 1e-6 ? 0.0 : t);
        canvas_text(cv, p->x0 - 8 - text_width(num, 1), y - 3, num, 1, 0x000000);
    }
    canvas_text(cv, p->x0 + p->w / 2 - text_width(title, 2) / 2, p->y0 - 24, title, 2, 0);
    canvas_text(cv, p->x0 + p->w / 2 - text_width(xname, 1) / 2, p->y0 + p->h + 22, xname,
                1, 0x000000);
    canvas_text(cv, p->x0 - 40, p->y0 - 12, yname, 1, 0x000000);
}

/* A series: points (epoch, value), a line through them where both ends exist. */
static void draw_series(canvas *cv, const panel *p, const double *x, const double *y,
                        const int *have, int n, unsigned rgb) {
    int i;
    for (i = 0; i < n; i++) {
        if (!have[i]) continue;
        if (i > 0 && have[i - 1])
            canvas_line(cv, px_of(p, x[i - 1]), py_of(p, y[i - 1]), px_of(p, x[i]),
                        py_of(p, y[i]), 2, rgb);
        canvas_box(cv, (int)px_of(p, x[i]) - 3, (int)py_of(p, y[i]) - 3,
                   (int)px_of(p, x[i]) + 4, (int)py_of(p, y[i]) + 4, rgb);
    }
}

#define PLOT_MAX 100000

static int cmd_plot(int argc, char **argv) {
    const char *csv = NULL, *out = NULL;
    static double ep[PLOT_MAX], loss[PLOT_MAX], tr[PLOT_MAX], te[PLOT_MAX];
    static int one[PLOT_MAX], has_te[PLOT_MAX];
    char line[512];
    int n = 0, rc, i, lineno = 0;
    double lo, hi;
    FILE *f;
    canvas cv;
    panel pl, pa;
    const option opts[] = {
        { "--out", OPT_STR, &out, 0, 0, NULL },
        { NULL, 0, NULL, 0, 0, NULL }
    };
    if (argc >= 1 && argv[0][0] != '-') { csv = argv[0]; argc--; argv++; }
    if ((rc = parse_options(argc, argv, opts, plot_help)) != 0) return rc == 2 ? 0 : 1;
    if (!csv || !out) return die("%s", "a CSV file and --out are required (see scn plot --help)");
    if (!(f = fopen(csv, "r"))) return die("cannot read %s", csv);
    while (fgets(line, sizeof line, f) && n < PLOT_MAX) {
        char te_text[64] = "";
        double lr;
        lineno++;
        if (lineno == 1 && !strncmp(line, "epoch,", 6)) continue;
        if (sscanf(line, "%lf,%lf,%lf,%lf,%63[^,]", &ep[n], &lr, &loss[n], &tr[n], te_text) < 4) {
            fclose(f);
            fprintf(stderr, "%s: %s line %d is not epoch,lr,loss,train_acc,test_acc,... "
                    "(as scn train --log writes)\n", prog_cmd, csv, lineno);
            return 1;
        }
        has_te[n] = sscanf(te_text, "%lf", &te[n]) == 1;
        tr[n] *= 100.0;
        te[n] *= 100.0;
        one[n++] = 1;
    }
    fclose(f);
    if (n == 0) return die("%s has no epochs to plot", csv);
    if (!canvas_init(&cv, 1000, 420)) return die("%s", "out of memory");
    pl.x0 = 70; pl.y0 = 50; pl.w = 380; pl.h = 300;
    pa = pl;
    pa.x0 = 580;
    pl.xlo = pa.xlo = 0;
    pl.xhi = pa.xhi = ep[n - 1] > 1 ? ep[n - 1] : 1;
    lo = hi = loss[0];
    for (i = 0; i < n; i++) { lo = fmin(lo, loss[i]); hi = fmax(hi, loss[i]); }
    pl.ylo = 0; pl.yhi = hi > 0 ? hi * 1.05 : 1;
    lo = 100; hi = 0;
    for (i = 0; i < n; i++) {
        lo = fmin(lo, tr[i]); hi = fmax(hi, tr[i]);
        if (has_te[i]) { lo = fmin(lo, te[i]); hi = fmax(hi, te[i]); }
    }
    pa.ylo = fmax(0.0, lo - 5); pa.yhi = fmin(100.0, hi + 5);
    if (pa.yhi <= pa.ylo) pa.yhi = pa.ylo + 1;
    draw_axes(&cv, &pl, "training loss", "epoch", "loss");
    draw_axes(&cv, &pa, "accuracy", "epoch", "%");
    draw_series(&cv, &pl, ep, loss, one, n, 0x1f77b4);
    draw_series(&cv, &pa, ep, tr, one, n, 0x1f77b4);
    draw_series(&cv, &pa, ep, te, has_te, n, 0xff7f0e);
    /* legend, bottom right of the accuracy panel */
    canvas_box(&cv, pa.x0 + pa.w - 110, pa.y0 + pa.h - 58, pa.x0 + pa.w - 8, pa.y0 + pa.h - 8,
               0xffffff);
    canvas_line(&cv, pa.x0 + pa.w - 100, pa.y0 + pa.h - 44, pa.x0 + pa.w - 76,
                pa.y0 + pa.h - 44, 3, 0x1f77b4);
    canvas_text(&cv, pa.x0 + pa.w - 70, pa.y0 + pa.h - 50, "train", 2, 0x000000);
    canvas_line(&cv, pa.x0 + pa.w - 100, pa.y0 + pa.h - 22, pa.x0 + pa.w - 76,
                pa.y0 + pa.h - 22, 3, 0xff7f0e);
    canvas_text(&cv, pa.x0 + pa.w - 70, pa.y0 + pa.h - 28, "test", 2, 0x000000);
    rc = canvas_save(&cv, out, prog_cmd);
    canvas_free(&cv);
    return rc;
}

/* The confusion matrix as a PNG: rows true class, columns predicted, each
 * cell shaded by its share of its row, counts written where they fit. */
static int draw_confusion(const long *conf, int K, const char *out) {
    int cell = K <= 12 ? 44 : 600 / K > 6 ? 600 / K : 6, m = 70, i, j, rc;
    char num[32];
    canvas cv;
    if (!canvas_init(&cv, m + K * cell + 20, m + K * cell + 20)) return die("%s", "out of memory");
    canvas_text(&cv, m + K * cell / 2 - text_width("predicted", 2) / 2, 8, "predicted", 2, 0);
    canvas_text(&cv, 4, m + K * cell / 2 - 7, "true", 2, 0);
    for (i = 0; i < K; i++) {
        long row = 0;
        if (cell >= 16) {
            snprintf(num, sizeof num, "%d", i);
            canvas_text(&cv, m + i * cell + cell / 2 - text_width(num, 1) / 2, m - 14, num, 1, 0);
            canvas_text(&cv, m - 8 - text_width(num, 1), m + i * cell + cell / 2 - 3, num, 1, 0);
        }
        for (j = 0; j < K; j++) row += conf[(size_t)i * K + j];
        for (j = 0; j < K; j++) {
            double f = row ? (double)conf[(size_t)i * K + j] / row : 0.0;
            unsigned r = (unsigned)(255 - 225 * f), g = (unsigned)(255 - 170 * f);
            canvas_box(&cv, m + j * cell, m + i * cell, m + (j + 1) * cell - 1,
                       m + (i + 1) * cell - 1, r << 16 | g << 8 | 255u);
            if (cell >= 28) {
                snprintf(num, sizeof num, "%ld", conf[(size_t)i * K + j]);
                canvas_text(&cv, m + j * cell + cell / 2 - text_width(num, 1) / 2,
                            m + i * cell + cell / 2 - 3, num, 1, f > 0.5 ? 0xffffff : 0x000000);
            }
        }
    }
    rc = canvas_save(&cv, out, prog_cmd);
    canvas_free(&cv);
    return rc;
}

/* ------------------------------------------------------------------ robust */

static const char *robust_help =
    "usage: scn robust --model M --noise gaussian|shot|speckle|impulse\n"
    "                  --lambdas L1,L2,... [--data DIR] [--format F]\n"
    "                  [--severities 1,2,3,4,5] [--train-limit N] [--test-limit N]\n"
    "                  [--per-image] [--batch B] [--seed S] [--threads T]\n"
    "\n"
    "Robust inference with a net's csc layers (SDNet Algorithm 1). For each\n"
    "severity, the first --train-limit training images (default 10000; 0: all)\n"
    "corrupted by the noise (scn_corrupt, the CIFAR-10-C levels): their average\n"
    "csc residual r_c = |x - A(z)| at the training lambda (averaged over the csc\n"
    "layers and the images) and the accuracy at each lambda of --lambdas; lambda_c\n"
    "the most accurate (the first of equals). A least-squares line lambda(r)\n"
    "through the pairs (r_c, lambda_c) (a constant, their mean, when fewer than\n"
    "two residuals differ), applied to residuals clamped to the range seen. Then\n"
    "the test images corrupted at each severity: the accuracy at the training\n"
    "lambda, and at lambda(r) for their average residual r at the training\n"
    "lambda. Prints the fit (one line per severity: r_c, lambda_c and the\n"
    "training accuracy at each lambda), then\n"
    "  SEVERITY FIXED ADAPTIVE LAMBDA\n"
    "one line per severity (test accuracy in percent at the training lambda and\n"
    "the adaptive one, and the adaptive lambda), a line `mean` over the\n"
    "severities and the fitted line. With --per-image a fifth column PER_IMAGE:\n"
    "each test image at lambda(its own residual), rounded to the nearest value\n"
    "of --lambdas, and a closing line saying at how many severities that beats\n"
    "one lambda for the set.\n"
    "A model without csc layers (a plain ResNet) gets the FIXED column only: its\n"
    "accuracy on the same corrupted test images, for comparison.\n"
    "  --data DIR       default /usr/share/datasets/fashion-mnist\n"
    "  --test-limit N   the first N test images (default 0: all)\n"
    "  --batch 256  --seed 1 (the noise's)  --threads (default: all cores)\n";

/* A set of images in memory, clean, with labels. */
typedef struct image_set {
    int n, C, HW;
    float *x;
    unsigned char *y;
} image_set;

static int load_images(const char *data, const char *split, const char *format, int limit,
                       const scn_net *net, image_set *s) {
    scn_dataset *ds = scn_dataset_open(data, split, format);
    int *idx = NULL, i, rc = 1;
    if (!ds) return die_lib();
    if (!same_input(net, ds, "the model", data)) goto done;
    if (!ds->labels) { die("%s has no labels", data); goto done; }
    s->n = limit > 0 && limit < ds->count ? limit : ds->count;
    s->C = ds->C;
    s->HW = ds->H * ds->W;
    s->x = malloc((size_t)s->n * s->C * s->HW * sizeof *s->x);
    s->y = malloc((size_t)s->n);
    idx = malloc((size_t)s->n * sizeof *idx);
    if (!s->x || !s->y || !idx) { die("%s", "out of memory"); goto done; }
    for (i = 0; i < s->n; i++) idx[i] = i;
    if (scn_dataset_read(ds, idx, s->n, s->x, s->y)) { die_lib(); goto done; }
    rc = 0;
done:
    free(idx);
    scn_dataset_close(ds);
    return rc;
}

/* x: the set corrupted at a severity (fixed noise per set, noise and
 * severity) and normalised */
static int corrupt_set(const image_set *s, const char *noise, int severity, uint64_t seed,
                       const scn_train_state *st, float *x) {
    size_t count = (size_t)s->n * s->C * s->HW;
    scn_rng r;
    memcpy(x, s->x, count * sizeof *x);
    scn_rng_seed(&r, seed, (uint64_t)severity);
    if (scn_corrupt(x, count, noise, severity, &r) ||
        scn_train_state_normalize(st, x, s->n, s->C, s->HW, 1))
        return die_lib();
    return 0;
}

/* Evaluates the images `which` (NULL: all) of x at lambda: the number
 * right, and (res not NULL) each image's residual. */
static int robust_pass(scn_net *net, const image_set *s, const float *x, const int *which,
                       int count, float lambda, int batch, long *right, float *res) {
    size_t each = (size_t)s->C * s->HW;
    int K = scn_net_classes(net), at, b, j;
    float *xb = malloc((size_t)batch * each * sizeof *xb);
    unsigned char *yb = malloc((size_t)batch);
    *right = 0;
    if (!xb || !yb) { free(xb); free(yb); return die("%s", "out of memory"); }
    if (lambda >= 0.0f && scn_net_set_csc_lambda(net, -1, lambda)) {
        free(xb); free(yb);
        return die_lib();
    }
    for (at = 0; at < count; at += batch) {
        int nb = count - at < batch ? count - at : batch, correct;
        const float *z;
        for (b = 0; b < nb; b++) {
            j = which ? which[at + b] : at + b;
            memcpy(xb + b * each, x + (size_t)j * each, each * sizeof *xb);
            yb[b] = s->y[j];
        }
        if (!(z = scn_net_forward(net, xb, nb, 0)) ||
            scn_softmax_xent(z, yb, nb, K, NULL, NULL, &correct) ||
            (res && scn_net_csc_residual(net, res + at))) {
            free(xb); free(yb);
            return die_lib();
        }
        *right += correct;
    }
    free(xb); free(yb);
    return 0;
}

static double mean_of(const float *v, int n) {
    double s = 0.0;
    int i;
    for (i = 0; i < n; i++) s += v[i];
    return n ? s / n : 0.0;
}

static int cmd_robust(int argc, char **argv) {
    const char *model = NULL, *data = "/usr/share/datasets/fashion-mnist", *format = NULL;
    const char *noise = NULL, *lambdas = NULL, *severities = "1,2,3,4,5";
    int train_limit = 10000, test_limit = 0, batch = 256, seed = 1, threads = 0, per_image = 0;
    int nl, ns, i, j, c, rc = 1, wins = 0, nfit = 0;
    double lam[64], sev[5], rfit[5], lfit[5], a = 0.0, b = 0.0, rlo = 0.0, rhi = 0.0;
    double fixed_sum = 0.0, adapt_sum = 0.0, per_sum = 0.0;
    float lambda0, *x = NULL, *res = NULL, *acc = NULL;
    int *group = NULL, *which = NULL;
    image_set tr = { 0, 0, 0, NULL, NULL }, te = { 0, 0, 0, NULL, NULL };
    scn_net *net = NULL;
    scn_train_state st;
    scn_rng probe;
    long right;
    const option opts[] = {
        { "--model", OPT_STR, &model, 0, 0, NULL },
        { "--data", OPT_STR, &data, 0, 0, NULL },
        { "--format", OPT_STR, &format, 0, 0, NULL },
        { "--noise", OPT_STR, &noise, 0, 0, NULL },
        { "--lambdas", OPT_STR, &lambdas, 0, 0, NULL },
        { "--severities", OPT_STR, &severities, 0, 0, NULL },
        { "--train-limit", OPT_INT, &train_limit, 0, 2147483647.0, NULL },
        { "--test-limit", OPT_INT, &test_limit, 0, 2147483647.0, NULL },
        { "--per-image", OPT_FLAG, &per_image, 0, 0, NULL },
        { "--batch", OPT_INT, &batch, 1, 65536, NULL },
        { "--seed", OPT_INT, &seed, 0, 2147483647.0, NULL },
        { "--threads", OPT_INT, &threads, 1, 1024, NULL },
        { NULL, 0, NULL, 0, 0, NULL }
    };
    memset(&st, 0, sizeof st);
    if ((rc = parse_options(argc, argv, opts, robust_help)) != 0) return rc == 2 ? 0 : 1;
    rc = 1;
    if (!model || !noise || !lambdas)
        return die("%s", "--model, --noise and --lambdas are required (see scn robust --help)");
    if ((nl = parse_list(lambdas, lam, 64, 0, 1000, 0, 0)) < 1)
        return die("--lambdas %s: need up to 64 numbers in [0, 1000], comma-separated",
                   lambdas);
    if ((ns = parse_list(severities, sev, 5, 1, 5, 1, 1)) < 1)
        return die("--severities %s: need rising whole numbers in 1..5, comma-separated",
                   severities);
    scn_rng_seed(&probe, 1, 1);
    if (scn_corrupt(NULL, 0, noise, 1, &probe)) return die_lib();   /* the noise's name */
    set_threads(threads);
    if (!(net = scn_checkpoint_load(model, NULL, &st))) return die_lib();
    lambda0 = scn_net_csc_lambda(net, -1);
    if (lambda0 < 0.0f) {       /* a baseline: its accuracy on the corrupted test images */
        if (load_images(data, "test", format, test_limit, net, &te) ||
            !(x = malloc((size_t)te.n * te.C * te.HW * sizeof *x)))
            goto done;
        printf("%s has no csc layer: its accuracy on the corrupted test images only\n"
               "SEVERITY FIXED ADAPTIVE LAMBDA\n", model);
        for (c = 0; c < ns; c++) {
            if (corrupt_set(&te, noise, (int)sev[c], (uint64_t)seed + 1, &st, x) ||
                robust_pass(net, &te, x, NULL, te.n, -1.0f, batch, &right, NULL))
                goto done;
            fixed_sum += 100.0 * right / te.n;
            printf("%d %.2f - -\n", (int)sev[c], 100.0 * right / te.n);
        }
        printf("mean %.2f - -\n", fixed_sum / ns);
        rc = 0;
        goto done;
    }
    if (load_images(data, "train", format, train_limit, net, &tr) ||
        load_images(data, "test", format, test_limit, net, &te))
        goto done;
    x = malloc((size_t)(tr.n > te.n ? tr.n : te.n) * tr.C * tr.HW * sizeof *x);
    res = malloc((size_t)(tr.n > te.n ? tr.n : te.n) * sizeof *res);
    acc = malloc((size_t)nl * sizeof *acc);
    group = malloc((size_t)te.n * sizeof *group);
    which = malloc((size_t)te.n * sizeof *which);
    if (!x || !res || !acc || !group || !which) { die("%s", "out of memory"); goto done; }
    printf("robust inference: %s, %s noise, training lambda %g, %d training and %d test "
           "images\n", model, noise, (double)lambda0, tr.n, te.n);
    /* Algorithm 1, steps 4-11: the residual and the best lambda per severity */
    for (c = 0; c < ns; c++) {
        int best = 0;
        if (corrupt_set(&tr, noise, (int)sev[c], (uint64_t)seed, &st, x) ||
            robust_pass(net, &tr, x, NULL, tr.n, lambda0, batch, &right, res))
            goto done;
        rfit[c] = mean_of(res, tr.n);
        for (j = 0; j < nl; j++) {
            if (robust_pass(net, &tr, x, NULL, tr.n, (float)lam[j], batch, &right, NULL))
                goto done;
            acc[j] = (float)(100.0 * right / tr.n);
            if (acc[j] > acc[best]) best = j;
        }
        lfit[c] = lam[best];
        printf("fit severity %d: residual %.4f, lambda %g; training accuracy per lambda",
               (int)sev[c], rfit[c], lfit[c]);
        for (j = 0; j < nl; j++) printf(" %.2f", (double)acc[j]);
        printf("\n");
        fflush(stdout);
    }
    /* step 12: lambda(r) = a + b r by least squares */
    {
        double mr = 0.0, ml = 0.0, srr = 0.0, srl = 0.0;
        rlo = rhi = rfit[0];
        for (c = 0; c < ns; c++) {
            mr += rfit[c] / ns;
            ml += lfit[c] / ns;
            rlo = fmin(rlo, rfit[c]);
            rhi = fmax(rhi, rfit[c]);
        }
        for (c = 0; c < ns; c++) {
            srr += (rfit[c] - mr) * (rfit[c] - mr);
            srl += (rfit[c] - mr) * (lfit[c] - ml);
        }
        nfit = ns;
        b = srr > 0.0 && rhi > rlo ? srl / srr : 0.0;
        a = ml - b * mr;
    }
    printf(per_image ? "SEVERITY FIXED ADAPTIVE LAMBDA PER_IMAGE\n"
                     : "SEVERITY FIXED ADAPTIVE LAMBDA\n");
    for (c = 0; c < ns; c++) {
        double fixed, adaptive, r, lc, per = 0.0;
        if (corrupt_set(&te, noise, (int)sev[c], (uint64_t)seed + 1, &st, x) ||
            robust_pass(net, &te, x, NULL, te.n, lambda0, batch, &right, res))
            goto done;
        fixed = 100.0 * right / te.n;
        r = fmin(fmax(mean_of(res, te.n), rlo), rhi);
        lc = fmax(a + b * r, 0.0);
        if (robust_pass(net, &te, x, NULL, te.n, (float)lc, batch, &right, NULL)) goto done;
        adaptive = 100.0 * right / te.n;
        if (per_image) {        /* each image at lambda(its residual), snapped to --lambdas */
            long got = 0;
            for (i = 0; i < te.n; i++) {
                double li = fmax(a + b * fmin(fmax(res[i], rlo), rhi), 0.0);
                int nearest = 0;
                for (j = 1; j < nl; j++)
                    if (fabs(lam[j] - li) < fabs(lam[nearest] - li)) nearest = j;
                group[i] = nearest;
            }
            for (j = 0; j < nl; j++) {
                int m = 0;
                for (i = 0; i < te.n; i++)
                    if (group[i] == j) which[m++] = i;
                if (m && robust_pass(net, &te, x, which, m, (float)lam[j], batch, &right, NULL))
                    goto done;
                got += m ? right : 0;
            }
            per = 100.0 * got / te.n;
        }
        fixed_sum += fixed;
        adapt_sum += adaptive;
        per_sum += per;
        if (per_image) {
            printf("%d %.2f %.2f %.4g %.2f\n", (int)sev[c], fixed, adaptive, lc, per);
            wins += per > adaptive;
        } else {
            printf("%d %.2f %.2f %.4g\n", (int)sev[c], fixed, adaptive, lc);
        }
        fflush(stdout);
    }
    if (per_image)
        printf("mean %.2f %.2f - %.2f\n", fixed_sum / ns, adapt_sum / ns, per_sum / ns);
    else
        printf("mean %.2f %.2f -\n", fixed_sum / ns, adapt_sum / ns);
    printf("line lambda(r) = %.6g + %.6g r for r in [%.4f, %.4f] (%d severities%s)\n", a, b,
           rlo, rhi, nfit, !(rhi > rlo) ? ", constant: fewer than two distinct residuals"
                           : b == 0.0 ? ", constant: the same lambda_c at every severity" : "");
    if (per_image)
        printf("per-image lambda beats one lambda for the set at %d of %d severities\n", wins,
               ns);
    rc = 0;
done:
    free(x); free(res); free(acc); free(group); free(which);
    free(tr.x); free(tr.y); free(te.x); free(te.y);
    scn_net_free(net);
    scn_train_state_free(&st);
    return rc;
}

/* ----------------------------------------------------------------- main */

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    { "layer", cmd_layer, "sparse codes and fixed-point gradients of one layer (.npy in/out)" },
    { "train", cmd_train, "train a network on a data set, with checkpoints (--recipe NAME: "
                          "the SCN paper's settings)" },
    { "eval", cmd_eval, "test accuracy and confusion matrix of a checkpoint" },
    { "limited", cmd_limited, "the SF paper's limited-labels experiment: MODEL K MEAN SD" },
    { "sweep-ddse", cmd_sweep_ddse, "the DDSE paper's sparsity sweep: RATIO MODEL ERROR" },
    { "info", cmd_info, "what a data set directory holds: format, sizes, classes" },
    { "bench", cmd_bench, "time a sparse-coding layer or a training step (bench layer, "
                          "bench step, bench csc)" },
    { "robust", cmd_robust, "SDNet's robust inference (Algorithm 1): SEVERITY FIXED "
                            "ADAPTIVE LAMBDA" },
    { "show", cmd_show, "draw an SC layer's atoms, or its reconstructions, as a PNG" },
    { "plot", cmd_plot, "draw the loss and accuracy curves of a --log CSV as a PNG" },
};

static void usage(FILE *f) {
    size_t i;
    fputs("usage: scn COMMAND [options]   (scn COMMAND --help for its options)\n"
          "       scn --version\n\n"
          "commands:\n", f);
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fputs("\nProgress goes to stderr (in place on a terminal, plain lines otherwise);\n"
          "results to stdout; errors to stderr, one line, with a non-zero exit.\n", f);
}

#ifdef SCN_MPI
#define PROG "scn-mpi"
static int scn_main(int argc, char **argv);

/* bin/scn-mpi: MPI around scn's main, for `train` only. */
int main(int argc, char **argv) {
    int rc, fd;
    if (MPI_Init(&argc, &argv) != MPI_SUCCESS) {
        fputs("scn-mpi: MPI_Init failed\n", stderr);
        return 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &mpi.rank);
    if (mpi.rank && (fd = dup(2)) >= 0) {
        rank_err = fdopen(fd, "w");
        if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
            rank_err = NULL;
    }
    if (argc >= 2 && argv[1][0] != '-' && strcmp(argv[1], "train")) {
        fprintf(stderr, "scn-mpi: runs train only (scn %s for the rest)\n", argv[1]);
        rc = 2;
    } else {
        rc = scn_main(argc, argv);
    }
    fflush(stdout);
    /* a failure the other ranks did not share (options that differ between
       ranks, say) leaves them in a collective: end the job */
    if (rc && !mpi.shared && (MPI_Comm_size(MPI_COMM_WORLD, &fd), fd > 1)) {
        if (rank_err && last_error[0]) fprintf(rank_err, "rank %d: %s\n", mpi.rank, last_error);
        fflush(rank_err ? rank_err : stderr);
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
    scn_mpi_free(&mpi);
    MPI_Finalize();
    return rc;
}
#define main scn_main
#elif defined(SCN_CUDA)
#define PROG "scn-cuda"
#else
#define PROG "scn"
#endif

int main(int argc, char **argv) {
    static char name[64];
    size_t i;
    /* a file-size limit makes writes fail (EFBIG), reported like a full
       disk, instead of killing the process mid-checkpoint */
    signal(SIGXFSZ, SIG_IGN);
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) { usage(stdout); return 0; }
    if (!strcmp(argv[1], "--version")) {
        printf("scn %d.%d.%d (scn.h)\n", SCN_VERSION_MAJOR, SCN_VERSION_MINOR,
               SCN_VERSION_PATCH);
        return 0;
    }
#ifdef SCN_CUDA
    {                       /* every net and every call below on the GPU */
        const scn_backend *gpu = scn_cuda_backend();
        if (!gpu) {
            fprintf(stderr, PROG ": %s\n", scn_error());
            return 1;
        }
        scn_backend_set(gpu);
    }
#endif
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            snprintf(name, sizeof name, PROG " %s", commands[i].name);
            prog_cmd = name;
            return commands[i].run(argc - 2, argv + 2);
        }
    fprintf(stderr, "scn: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
