/* fuzz_util.h - what the libFuzzer targets share: one private temporary
 * directory per process (made on first use under $TMPDIR, else /dev/shm,
 * else /tmp; emptied before every input and removed at exit), writing a
 * file into it, and a check that stops the run when the library breaks a
 * promise it makes (that is a finding, like a crash).
 *
 * Nothing is ever written or removed outside that directory.
 */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A broken promise: report it and abort (libFuzzer saves the input). */
#define FZ_CHECK(cond)                                                               \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "%s:%d: FZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                 \
        }                                                                            \
    } while (0)

/* With FUZZ_VERBOSE set in the environment, each input's outcome is
 * printed ("ok", or the library's error): to check that seeds are valid. */
#define FZ_NOTE(ok, what)                                                            \
    do {                                                                             \
        if (getenv("FUZZ_VERBOSE"))                                                  \
            fprintf(stderr, "fuzz: %s: %s\n", what, (ok) ? "ok" : scn_error());      \
    } while (0)

static char fz__dir[512];
static char fz__path[1024];

/* Removes everything below dir (not dir itself); dir is ours. */
static inline void fz__empty(const char *dir) {
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[1024];
    struct stat sb;
    if (!d) return;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) >= (int)sizeof p) continue;
        if (lstat(p, &sb) != 0) continue;
        if (S_ISDIR(sb.st_mode)) {
            fz__empty(p);
            rmdir(p);
        } else {
            unlink(p);
        }
    }
    closedir(d);
}

static inline void fz__cleanup(void) {
    if (!fz__dir[0]) return;
    fz__empty(fz__dir);
    rmdir(fz__dir);
    fz__dir[0] = '\0';
}

/* The process's directory, made once. */
static inline const char *fz_dir(void) {
    if (!fz__dir[0]) {
        const char *base = getenv("TMPDIR");
        struct stat sb;
        if (!base || !*base || stat(base, &sb) != 0 || !S_ISDIR(sb.st_mode))
            base = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp";
        snprintf(fz__dir, sizeof fz__dir, "%s/scn_fuzz.XXXXXX", base);
        if (!mkdtemp(fz__dir)) {
            fprintf(stderr, "fuzz: mkdtemp %s: %s\n", fz__dir, strerror(errno));
            abort();
        }
        atexit(fz__cleanup);
    }
    return fz__dir;
}

/* Empties the directory: every input starts from nothing. */
static inline void fz_reset(void) { fz__empty(fz_dir()); }

/* dir/rel, in a static buffer (the next call overwrites it). */
static inline const char *fz_path(const char *rel) {
    snprintf(fz__path, sizeof fz__path, "%s/%s", fz_dir(), rel);
    return fz__path;
}

/* Makes dir/rel (one level; its parent must exist). */
static inline void fz_mkdir(const char *rel) {
    if (mkdir(fz_path(rel), 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "fuzz: mkdir %s: %s\n", fz_path(rel), strerror(errno));
        abort();
    }
}

/* Writes len bytes to dir/rel; aborts if that fails (the harness is broken). */
static inline void fz_write(const char *rel, const void *data, size_t len) {
    const char *p = fz_path(rel);
    FILE *f = fopen(p, "wb");
    if (!f || (len && fwrite(data, 1, len, f) != len) || fclose(f) != 0) {
        fprintf(stderr, "fuzz: cannot write %s: %s\n", p, strerror(errno));
        abort();
    }
}

/* Reads every item of an open data set in one batch (checking pixels and
 * labels against what section 11 promises) and then item by item in
 * reverse (when there are several). Include scn.h first. */
#ifdef SCN_H
static inline void fz_read_all(scn_dataset *ds) {
    size_t item, k;
    int *idx, i;
    float *x;
    unsigned char *labels;
    FZ_CHECK(ds->count >= 1 && ds->C >= 1 && ds->H >= 1 && ds->W >= 1);
    item = (size_t)ds->C * ds->H * ds->W;
    idx = (int *)malloc((size_t)ds->count * sizeof *idx);
    x = (float *)malloc((size_t)ds->count * item * sizeof *x);
    labels = (unsigned char *)malloc((size_t)ds->count);
    FZ_CHECK(idx && x && labels);
    for (i = 0; i < ds->count; i++) idx[i] = i;
    if (scn_dataset_read(ds, idx, ds->count, x, labels) == SCN_OK) {
        /* pixels are bytes / 255 except in .amat text, taken as written */
        if (strcmp(ds->format, "amat") != 0)
            for (k = 0; k < (size_t)ds->count * item; k++)
                FZ_CHECK(x[k] >= 0.0f && x[k] <= 1.0f);
        if (ds->labels)
            for (i = 0; i < ds->count; i++) {
                FZ_CHECK(ds->labels[i] < ds->classes);
                FZ_CHECK(labels[i] == ds->labels[i]);
            }
    }
    for (i = ds->count - 1; ds->count > 1 && i >= 0; i--)
        if (scn_dataset_read(ds, &i, 1, x, labels) != SCN_OK) break;
    free(idx);
    free(x);
    free(labels);
}
#endif

#endif
