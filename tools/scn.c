/* scn - the command-line tool of scn.h.
 *
 *   cc -O2 -fopenmp -o bin/scn tools/scn.c -lm
 *
 * Each subcommand is a thin layer over the public API: it parses flags,
 * loads files, calls the library and writes results. No math lives here.
 */
#define _POSIX_C_SOURCE 200809L
#define SCN_IMPLEMENTATION
#include "../scn.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static const char *prog_cmd = "scn";

/* Prints "scn CMD: message" and returns the exit status 1. */
static int die(const char *fmt, const char *arg) {
    fprintf(stderr, "%s: ", prog_cmd);
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    return 1;
}

static int die_lib(void) { return die("%s", scn_error()); }

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Strict number parsing: the whole argument must be a finite number. */
static int parse_float(const char *s, float *out) {
    char *end;
    double v;
    errno = 0;
    v = strtod(s, &end);
    if (end == s || *end || errno || v != v || v > 3.4e38 || v < -3.4e38) return 0;
    *out = (float)v;
    return 1;
}

static int parse_int(const char *s, int *out) {
    char *end;
    long v;
    errno = 0;
    v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < 0 || v > 1000000000L) return 0;
    *out = (int)v;
    return 1;
}

static void set_threads(int t) {
#ifdef _OPENMP
    if (t > 0) omp_set_num_threads(t);
#else
    (void)t;
#endif
}

/* mkdir -p for one level: fine if it exists already as a directory. */
static int ensure_dir(const char *dir) {
    struct stat st;
    if (mkdir(dir, 0777) == 0) return 1;
    return errno == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

static int save_in(const char *dir, const char *name, scn_tensor *t) {
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return die("output path too long: %s", dir);
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
    "Prints one line: FISTA iterations, final KKT residual, seconds, polished columns.\n"
    "\n"
    "  --tol T        FISTA stops a column when its largest change is <= T times\n"
    "                 its largest entry (default 1e-5)\n"
    "  --max-iter N   FISTA iteration cap (default 2000)\n"
    "  --no-polish    return the FISTA iterate without support polishing\n"
    "  --threads T    OpenMP threads (default: all cores)\n"
    "Defaults give the exact minimiser to float32 accuracy.\n";

static int cmd_layer(int argc, char **argv) {
    const char *dict = NULL, *input = NULL, *grad = NULL, *out = NULL;
    int have_l1 = 0, have_l2 = 0, threads = 0, i, rc = 1;
    scn_solve_desc sd;
    scn_solve_info info;
    scn_tensor *D = NULL, *X = NULL, *G = NULL, *alpha = NULL, *dD = NULL, *dX = NULL,
               *dl = NULL;
    double t0;
    int m, n, P, shape[2], one = 1;
    memset(&sd, 0, sizeof sd);
    for (i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes = strcmp(a, "--signed") && strcmp(a, "--no-polish") &&
                    strcmp(a, "--help") && strcmp(a, "-h");
        if (takes && !v) return die("%s needs a value", a);
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { fputs(layer_help, stdout); return 0; }
        else if (!strcmp(a, "--signed")) sd.signed_codes = 1;
        else if (!strcmp(a, "--no-polish")) sd.no_polish = 1;
        else if (!strcmp(a, "--dict")) dict = v;
        else if (!strcmp(a, "--input")) input = v;
        else if (!strcmp(a, "--grad")) grad = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--lambda1")) {
            if (!parse_float(v, &sd.lambda1) || sd.lambda1 < 0) return die("--lambda1 %s: need a number >= 0", v);
            have_l1 = 1;
        } else if (!strcmp(a, "--lambda2")) {
            if (!parse_float(v, &sd.lambda2) || sd.lambda2 < 0) return die("--lambda2 %s: need a number >= 0", v);
            have_l2 = 1;
        } else if (!strcmp(a, "--tol")) {
            if (!parse_float(v, &sd.tol) || sd.tol <= 0) return die("--tol %s: need a number > 0", v);
        } else if (!strcmp(a, "--max-iter")) {
            if (!parse_int(v, &sd.max_iter) || sd.max_iter < 1) return die("--max-iter %s: need an integer >= 1", v);
        } else if (!strcmp(a, "--threads")) {
            if (!parse_int(v, &threads) || threads < 1) return die("--threads %s: need an integer >= 1", v);
        } else return die("unknown option %s (see scn layer --help)", a);
        if (takes) i++;
    }
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
    if (!ensure_dir(out)) { rc = die("cannot create the output directory %s", out); goto done; }
    shape[0] = n; shape[1] = P;
    if (!(alpha = scn_tensor_create(2, shape))) { rc = die_lib(); goto done; }
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
    if (save_in(out, "alpha.npy", alpha)) goto done;
    if (G && (save_in(out, "dD.npy", dD) || save_in(out, "dX.npy", dX) ||
              save_in(out, "dlambda1.npy", dl))) goto done;
    rc = 0;
done:
    scn_tensor_free(D); scn_tensor_free(X); scn_tensor_free(G); scn_tensor_free(alpha);
    scn_tensor_free(dD); scn_tensor_free(dX); scn_tensor_free(dl);
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
};

static void usage(FILE *f) {
    size_t i;
    fputs("usage: scn COMMAND [options]   (scn COMMAND --help for its options)\n\n"
          "commands:\n", f);
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv) {
    static char name[64];
    size_t i;
    if (argc < 2) { usage(stderr); return 2; }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) { usage(stdout); return 0; }
    for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            snprintf(name, sizeof name, "scn %s", commands[i].name);
            prog_cmd = name;
            return commands[i].run(argc - 2, argv + 2);
        }
    fprintf(stderr, "scn: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
