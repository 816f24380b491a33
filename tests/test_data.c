/* test_data.c - the data sets of scn.h sections 11 and 13 (and the file
 * readers' hardening, with .npy and checkpoints of sections 4 and 14).
 *
 * Every file is written here, in the published layout, into a mkdtemp
 * directory under /tmp (removed at the end), then read back through
 * scn_dataset_open / scn_dataset_detect / scn_dataset_read with exact
 * values: CIFAR-10 (batches, the cifar-10-batches-bin/ subfolder),
 * CIFAR-100 (fine and coarse labels), STL-10 (column-major planes, labels
 * 1-10, the unlabeled split), .amat text (CRLF, no final newline), image
 * folders (PNG, BMP, JPEG; gray and RGB; split and flat layouts; classes
 * as the union of both splits) and a tiny IDX set. Then for every reader
 * empty, truncated, corrupt and oversized files, each of which must fail
 * with scn_error() naming the file; then statistics, normalisation,
 * augmentation and per-class subsets on constructed data.
 *
 * Pixels are expected as byte * (1.0f / 255.0f), the scaling every reader
 * uses (it differs from byte / 255.0f by one ulp for some bytes).
 *
 *   bin/test_data                 runs the tests
 *   bin/test_data --write DIR     writes one small data set per format into
 *                                 DIR/idx, cifar10, cifar100, stl10, amat,
 *                                 folder (for tests/test_cli.sh) and exits
 */
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "check.h"

#include <dirent.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* stb_image_write (libstb-dev) writes the PNG and BMP files; its
 * warnings are not ours */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#ifdef __clang__
#pragma clang diagnostic ignored "-Wunknown-warning-option"
#else
#pragma GCC diagnostic ignored "-Wpragmas"
#endif
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STB_IMAGE_WRITE_STATIC
#include <stb/stb_image_write.h>
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif

static char root[64];               /* the mkdtemp directory */

/* ------------------------------------------------------------ helpers */

/* A formatted path in one of 256 rotating buffers (each test function
 * makes far fewer between a path's creation and its last use). */
static const char *P(const char *fmt, ...) {
    static char buf[256][512];
    static int k;
    char *b = buf[k++ & 255];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof buf[0], fmt, ap);
    va_end(ap);
    return b;
}

/* mkdir -p of the directory part of path (all of it if dir_too). */
static void mkdirs(const char *path, int dir_too) {
    char b[512];
    size_t i, n = strlen(path);
    if (n >= sizeof b) return;
    memcpy(b, path, n + 1);
    for (i = 1; i <= n; i++)
        if (b[i] == '/' || (dir_too && b[i] == '\0')) {
            char c = b[i];
            b[i] = '\0';
            mkdir(b, 0700);
            b[i] = c;
        }
}

static int write_file(const char *path, const void *b, size_t n) {
    FILE *f;
    size_t w;
    mkdirs(path, 0);
    f = fopen(path, "wb");
    w = f && n ? fwrite(b, 1, n, f) : 0;
    if (f && fclose(f) != 0) return 0;
    CHECK(f && w == n, "cannot write %s", path);
    return f && w == n;
}

static int write_text(const char *path, const char *s) { return write_file(path, s, strlen(s)); }

static unsigned char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    unsigned char *b = NULL;
    long n;
    *len = 0;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        b = (unsigned char *)malloc((size_t)n + 1);
        if (b) *len = fread(b, 1, (size_t)n, f);
    }
    fclose(f);
    return b;
}

static void rm_rf(const char *path) {
    struct stat sb;
    if (lstat(path, &sb) != 0) return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        char sub[1024];
        while (d && (e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            rm_rf(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* A deterministic byte for pixel (c, h, w) of item, asymmetric in h and w. */
static unsigned char pix(int item, int c, int h, int w, int salt) {
    uint32_t x = (uint32_t)item * 2654435761u ^
                 (uint32_t)(c * 97 + h * 131 + w * 7919 + salt * 104729 + 17);
    x ^= x >> 15; x *= 2246822519u;
    x ^= x >> 13; x *= 3266489917u;
    x ^= x >> 16;
    return (unsigned char)x;
}

/* How every reader scales a byte. */
static float u8f(unsigned char b) { return (float)b * (1.0f / 255.0f); }

static int label10(int item) { return (item * 7 + 3) % 10; }
static int coarse20(int item) { return (item * 3 + 1) % 20; }
static int fine100(int item) { return (item * 37 + 5) % 100; }
static int stl_label(int item) { return (item * 3 + 2) % 10; }    /* 0-9; file has +1 */

/* Reads all items of ds, in reverse order in one batch (so every record
 * file is sought in), and compares them with want(item, c, h, w) and the
 * labels with lab[item] (lab NULL: an unlabeled split). */
typedef float (*want_fn)(int item, int c, int h, int w, const void *ctx);

static void check_items(scn_dataset *ds, want_fn want, const void *ctx,
                        const unsigned char *lab, const char *what) {
    size_t item, hw;
    float *x;
    unsigned char *labels;
    int *idx, i, c, h, w, bad = 0, badlab = 0, bi = -1, bc = 0, bh = 0, bw = 0;
    float got = 0, exp = 0;
    if (!ds) return;
    hw = (size_t)ds->H * ds->W;
    item = hw * ds->C;
    x = (float *)malloc(item * ds->count * sizeof *x + 1);
    labels = (unsigned char *)malloc((size_t)ds->count + 1);
    idx = (int *)malloc((size_t)ds->count * sizeof *idx + 1);
    if (!x || !labels || !idx) { free(x); free(labels); free(idx); CHECK(0, "oom"); return; }
    memset(labels, 0xAA, (size_t)ds->count);
    for (i = 0; i < ds->count; i++) idx[i] = ds->count - 1 - i;
    CHECK(scn_dataset_read(ds, idx, ds->count, x, labels) == SCN_OK, "%s: read: %s", what,
          scn_error());
    for (i = 0; i < ds->count; i++) {
        int it = idx[i];
        const float *p = x + (size_t)i * item;
        for (c = 0; c < ds->C; c++)
            for (h = 0; h < ds->H; h++)
                for (w = 0; w < ds->W; w++) {
                    float e = want(it, c, h, w, ctx), g = p[c * hw + (size_t)h * ds->W + w];
                    if (g != e && !bad++) { bi = it; bc = c; bh = h; bw = w; got = g; exp = e; }
                }
        if (lab) {
            if (labels[i] != lab[it] || ds->labels[it] != lab[it]) badlab++;
        } else if (labels[i] != 0xAA) {
            badlab++;
        }
    }
    CHECK(bad == 0, "%s: %d pixels differ; first: item %d (c %d, h %d, w %d) is %.9g, want "
          "%.9g", what, bad, bi, bc, bh, bw, (double)got, (double)exp);
    CHECK(badlab == 0, "%s: %d labels differ", what, badlab);
    free(x); free(labels); free(idx);
}

/* Opening split of dir (format; NULL: detected) must fail, or, for lazy
 * readers, reading some item must; either way naming `file`. */
static void expect_fail(const char *dir, const char *split, const char *format,
                        const char *file, int lazy, const char *what) {
    scn_dataset *ds = scn_dataset_open(dir, split, format);
    int failed = ds == NULL, i;
    if (ds) {
        size_t item = (size_t)ds->C * ds->H * ds->W;
        float *x = (float *)malloc(item * sizeof *x + 1);
        unsigned char y;
        for (i = 0; lazy && x && i < ds->count && !failed; i++)
            failed = scn_dataset_read(ds, &i, 1, x, &y) != SCN_OK;
        free(x);
        scn_dataset_close(ds);
    }
    CHECK(failed, "%s: %s (%s) %s without an error", what, dir, split,
          lazy ? "opened and read" : "opened");
    if (failed)
        CHECK(strstr(scn_error(), file) != NULL, "%s: error \"%s\" does not name %s", what,
              scn_error(), file);
}

/* A 16x16 RGB JPEG (quality 95) of the smooth image smooth_rgb() makes,
 * written by stb_image_write's stbi_write_jpg and embedded because that
 * encoder shifts a signed int past its range (UBSan stops the test). */
static const unsigned char smooth_jpg[746] = {
    0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x01,
    0x00, 0x01, 0x00, 0x00, 0xff, 0xdb, 0x00, 0x84, 0x00, 0x02, 0x01, 0x01, 0x01, 0x01, 0x01, 0x02,
    0x01, 0x01, 0x01, 0x02, 0x02, 0x02, 0x02, 0x02, 0x04, 0x03, 0x02, 0x02, 0x02, 0x02, 0x05, 0x04,
    0x04, 0x03, 0x04, 0x06, 0x05, 0x06, 0x06, 0x06, 0x05, 0x06, 0x06, 0x06, 0x07, 0x09, 0x08, 0x06,
    0x07, 0x09, 0x07, 0x06, 0x06, 0x08, 0x0b, 0x08, 0x09, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x06, 0x08,
    0x0b, 0x0c, 0x0b, 0x0a, 0x0c, 0x09, 0x0a, 0x0a, 0x0a, 0x01, 0x02, 0x02, 0x02, 0x02, 0x02, 0x02,
    0x05, 0x03, 0x03, 0x05, 0x0a, 0x07, 0x06, 0x07, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
    0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
    0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a,
    0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0x0a, 0xff, 0xc0, 0x00, 0x11, 0x08, 0x00,
    0x10, 0x00, 0x10, 0x03, 0x01, 0x11, 0x00, 0x02, 0x11, 0x01, 0x03, 0x11, 0x01, 0xff, 0xc4, 0x01,
    0xa2, 0x00, 0x00, 0x01, 0x05, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x10, 0x00,
    0x02, 0x01, 0x03, 0x03, 0x02, 0x04, 0x03, 0x05, 0x05, 0x04, 0x04, 0x00, 0x00, 0x01, 0x7d, 0x01,
    0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22,
    0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24,
    0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29,
    0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a,
    0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a,
    0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a,
    0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8,
    0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6,
    0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3,
    0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
    0xfa, 0x01, 0x00, 0x03, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x11, 0x00,
    0x02, 0x01, 0x02, 0x04, 0x04, 0x03, 0x04, 0x07, 0x05, 0x04, 0x04, 0x00, 0x01, 0x02, 0x77, 0x00,
    0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71, 0x13,
    0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xa1, 0xb1, 0xc1, 0x09, 0x23, 0x33, 0x52, 0xf0, 0x15,
    0x62, 0x72, 0xd1, 0x0a, 0x16, 0x24, 0x34, 0xe1, 0x25, 0xf1, 0x17, 0x18, 0x19, 0x1a, 0x26, 0x27,
    0x28, 0x29, 0x2a, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4a, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88,
    0x89, 0x8a, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6,
    0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4,
    0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe2,
    0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9,
    0xfa, 0xff, 0xda, 0x00, 0x0c, 0x03, 0x01, 0x00, 0x02, 0x11, 0x03, 0x11, 0x00, 0x3f, 0x00, 0xf2,
    0x9f, 0xd9, 0xb7, 0xe1, 0xb7, 0xfc, 0x7b, 0xff, 0x00, 0xa3, 0xfa, 0x76, 0xaf, 0xd4, 0x0f, 0xce,
    0x4f, 0xd0, 0x0f, 0xd9, 0xb7, 0xe1, 0xb7, 0xfc, 0x7b, 0xff, 0x00, 0xa3, 0xfa, 0x76, 0xa0, 0x0f,
    0x9f, 0xff, 0x00, 0x66, 0xdf, 0x86, 0xdf, 0xf1, 0xef, 0xfe, 0x8f, 0xe9, 0xda, 0x80, 0x3e, 0xe3,
    0xf8, 0x61, 0xe1, 0x9f, 0xf8, 0x47, 0xfc, 0x3d, 0x1f, 0x90, 0x9b, 0x6e, 0x6e, 0x71, 0x14, 0x18,
    0x38, 0x2b, 0x9f, 0xbc, 0xc3, 0x90, 0x46, 0x07, 0x71, 0xd0, 0x95, 0xaf, 0xe7, 0xff, 0x00, 0xa4,
    0x97, 0x89, 0x9f, 0xf1, 0x0e, 0x3c, 0x38, 0xad, 0xf5, 0x5a, 0x9c, 0xb8, 0xdc, 0x5d, 0xe8, 0xd1,
    0xb3, 0xb4, 0xa3, 0xcc, 0xbf, 0x79, 0x55, 0x5a, 0x70, 0x9a, 0xf6, 0x50, 0xbf, 0x2d, 0x48, 0x73,
    0x72, 0x56, 0x95, 0x1e, 0x65, 0x69, 0x1e, 0xae, 0x4f, 0x83, 0xfa, 0xe6, 0x31, 0x73, 0x2f, 0x76,
    0x3a, 0xbf, 0xd1, 0x76, 0xd5, 0xf4, 0xed, 0x73, 0xff, 0xd9,
};

/* The image smooth_jpg encodes: 16x16 RGB, interleaved. */
static void smooth_rgb(unsigned char *img) {
    int i, c;
    for (i = 0; i < 256; i++)
        for (c = 0; c < 3; c++)
            img[i * 3 + c] = (unsigned char)(40 + 8 * (i % 16) + 4 * (i / 16) + 30 * c);
}

/* ------------------------------------------------------------ writers */

/* n CIFAR records for items first..first+n-1 (CIFAR-100 if c100). */
static unsigned char *cifar_bytes(int first, int n, int c100, int salt, size_t *len) {
    size_t rec = 3072 + 1 + (size_t)c100;
    unsigned char *b = (unsigned char *)malloc(rec * (size_t)n + 64), *p;
    int i, c, h, w;
    *len = rec * (size_t)n;
    if (!b) return NULL;
    for (i = 0; i < n; i++) {
        int it = first + i;
        p = b + rec * (size_t)i;
        if (c100) { p[0] = (unsigned char)coarse20(it); p[1] = (unsigned char)fine100(it); }
        else p[0] = (unsigned char)label10(it);
        p += 1 + c100;
        for (c = 0; c < 3; c++)
            for (h = 0; h < 32; h++)
                for (w = 0; w < 32; w++) p[c * 1024 + h * 32 + w] = pix(it, c, h, w, salt);
    }
    return b;
}

static void write_cifar(const char *path, int first, int n, int c100, int salt) {
    size_t len;
    unsigned char *b = cifar_bytes(first, n, c100, salt, &len);
    if (b) write_file(path, b, len);
    free(b);
}

/* CIFAR-10 in dir: nb batches of per items, then ntest test items. */
static void write_cifar10(const char *dir, int nb, int per, int ntest, int salt) {
    int k;
    for (k = 1; k <= nb; k++)
        write_cifar(P("%s/data_batch_%d.bin", dir, k), (k - 1) * per, per, 0, salt);
    write_cifar(P("%s/test_batch.bin", dir), 1000, ntest, 0, salt);
}

/* STL-10 images: plane c stored column-major (byte c*9216 + w*96 + h). */
static unsigned char *stl_x(int first, int n, int salt, size_t *len) {
    unsigned char *b = (unsigned char *)malloc(27648 * (size_t)n + 64);
    int i, c, h, w;
    *len = 27648 * (size_t)n;
    if (!b) return NULL;
    for (i = 0; i < n; i++)
        for (c = 0; c < 3; c++)
            for (h = 0; h < 96; h++)
                for (w = 0; w < 96; w++)
                    b[27648 * (size_t)i + c * 9216 + w * 96 + h] = pix(first + i, c, h, w, salt);
    return b;
}

static void write_stl(const char *dir, const char *split, int first, int n, int labels,
                      int salt) {
    size_t len;
    unsigned char *b = stl_x(first, n, salt, &len), y[256];
    int i;
    if (b) write_file(P("%s/%s_X.bin", dir, split), b, len);
    free(b);
    if (!labels) return;
    for (i = 0; i < n && i < 256; i++) y[i] = (unsigned char)(1 + stl_label(first + i));
    write_file(P("%s/%s_y.bin", dir, split), y, (size_t)n);
}

/* .amat text: n lines of side*side values then the label, "%.18e" each.
 * crlf: "\r\n" line ends; last_nl: whether the last line ends in one. */
static char *amat_text(int first, int n, int side, int crlf, int last_nl, int salt) {
    size_t cap = (size_t)n * (side * side + 1) * 26 + 64, len = 0;
    char *s = (char *)malloc(cap);
    int i, j;
    if (!s) return NULL;
    for (i = 0; i < n; i++) {
        for (j = 0; j < side * side; j++)
            len += (size_t)snprintf(s + len, cap - len, "%.18e ",
                                    pix(first + i, 0, j / side, j % side, salt) / 255.0);
        len += (size_t)snprintf(s + len, cap - len, "%.18e", (double)label10(first + i));
        if (i + 1 < n || last_nl) len += (size_t)snprintf(s + len, cap - len, crlf ? "\r\n" : "\n");
    }
    return s;
}

static void write_amat(const char *path, int first, int n, int side, int crlf, int last_nl,
                       int salt) {
    char *s = amat_text(first, n, side, crlf, last_nl, salt);
    if (s) write_text(path, s);
    free(s);
}

/* An image of w x h with comp channels (interleaved) from pix(item, ...). */
static unsigned char *image_bytes(int item, int w, int h, int comp, int salt) {
    unsigned char *b = (unsigned char *)malloc((size_t)w * h * comp);
    int x, y, c;
    if (!b) return NULL;
    for (y = 0; y < h; y++)
        for (x = 0; x < w; x++)
            for (c = 0; c < comp; c++) b[((size_t)y * w + x) * comp + c] = pix(item, c, y, x, salt);
    return b;
}

/* kind: 'p' PNG, 'b' BMP. */
static void write_image(const char *path, int item, int w, int h, int comp, int salt, char kind) {
    unsigned char *b = image_bytes(item, w, h, comp, salt);
    int ok = 0;
    mkdirs(path, 0);
    if (b) {
        if (kind == 'p') ok = stbi_write_png(path, w, h, comp, b, w * comp);
        else ok = stbi_write_bmp(path, w, h, comp, b);
    }
    CHECK(ok, "cannot write the image %s", path);
    free(b);
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24); p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8); p[3] = (unsigned char)v;
}

/* IDX pair prefix-{images-idx3,labels-idx1}-ubyte of n side x side images. */
static void write_idx(const char *dir, const char *prefix, int first, int n, int side,
                      int salt) {
    size_t ilen = 16 + (size_t)n * side * side, i;
    unsigned char *im = (unsigned char *)malloc(ilen), *lb = (unsigned char *)malloc(8 + (size_t)n);
    int k, h, w;
    if (!im || !lb) { free(im); free(lb); return; }
    put_be32(im, 0x803); put_be32(im + 4, (uint32_t)n);
    put_be32(im + 8, (uint32_t)side); put_be32(im + 12, (uint32_t)side);
    put_be32(lb, 0x801); put_be32(lb + 4, (uint32_t)n);
    for (k = 0, i = 16; k < n; k++) {
        lb[8 + k] = (unsigned char)label10(first + k);
        for (h = 0; h < side; h++)
            for (w = 0; w < side; w++) im[i++] = pix(first + k, 0, h, w, salt);
    }
    write_file(P("%s/%s-images-idx3-ubyte", dir, prefix), im, ilen);
    write_file(P("%s/%s-labels-idx1-ubyte", dir, prefix), lb, 8 + (size_t)n);
    free(im); free(lb);
}

/* ------------------------------------------------ expected-value functions */

typedef struct { int first, salt; } rec_ctx;    /* item i of the split is pix item first + i */

static float want_rec(int item, int c, int h, int w, const void *ctx) {
    const rec_ctx *r = (const rec_ctx *)ctx;
    return u8f(pix(r->first + item, c, h, w, r->salt));
}

typedef struct { int side; float *vals; } amat_ctx;   /* vals: items x side^2 */

static float want_amat(int item, int c, int h, int w, const void *ctx) {
    const amat_ctx *a = (const amat_ctx *)ctx;
    (void)c;
    return a->vals[((size_t)item * a->side + h) * a->side + w];
}

/* The values of .amat text as the reader must see them: (float)strtod of
 * each pixel token; n lines of dim pixels (labels skipped). */
static float *amat_values(const char *text, int n, int dim) {
    float *v = (float *)malloc((size_t)n * dim * sizeof *v + 1);
    const char *s = text;
    int i, j;
    if (!v) return NULL;
    for (i = 0; i < n; i++) {
        for (j = 0; j < dim; j++) {
            char *end;
            v[(size_t)i * dim + j] = (float)strtod(s, &end);
            s = end;
        }
        strtod(s, (char **)&s);                 /* the label */
    }
    return v;
}

/* ============================================================ CIFAR-10 */

static void test_cifar10(void) {
    const char *d1 = P("%s/c10", root), *d2 = P("%s/c10sub", root);
    rec_ctx tr = {0, 1}, te = {1000, 1};
    unsigned char lab[64], tlab[64];
    scn_dataset *ds;
    const char *fmt;
    int i;
    for (i = 0; i < 64; i++) { lab[i] = (unsigned char)label10(i); tlab[i] = (unsigned char)label10(1000 + i); }

    /* five batches of 3 items directly in the directory, 4 test items */
    write_cifar10(d1, 5, 3, 4, 1);
    fmt = scn_dataset_detect(d1);
    CHECK(fmt && !strcmp(fmt, "cifar10"), "detect %s: %s (%s)", d1, fmt ? fmt : "NULL", scn_error());
    ds = scn_dataset_open(d1, "train", NULL);
    CHECK(ds != NULL, "cifar10 train: %s", scn_error());
    if (ds) {
        CHECK(ds->count == 15 && ds->C == 3 && ds->H == 32 && ds->W == 32 && ds->classes == 10,
              "cifar10 train: %d items of %dx%dx%d, %d classes", ds->count, ds->C, ds->H, ds->W,
              ds->classes);
        CHECK(!strcmp(ds->format, "cifar10"), "cifar10 format '%s'", ds->format);
        CHECK(ds->labels != NULL, "cifar10: no labels");
        check_items(ds, want_rec, &tr, lab, "cifar10 train");
        /* one pixel by hand: item 7 (batch 3, record 1), c 2, h 5, w 30 */
        {
            float x[3072];
            unsigned char y = 0;
            int k = 7;
            CHECK(scn_dataset_read(ds, &k, 1, x, &y) == SCN_OK, "read: %s", scn_error());
            CHECK(x[2 * 1024 + 5 * 32 + 30] == u8f(pix(7, 2, 5, 30, 1)) && y == label10(7),
                  "cifar10 item 7 pixel %.9g label %d", (double)x[2 * 1024 + 5 * 32 + 30], y);
            CHECK(fabsf(x[2 * 1024 + 5 * 32 + 30] - pix(7, 2, 5, 30, 1) / 255.0f) <= 1e-7f,
                  "cifar10: not byte / 255");
            k = 15;
            CHECK(scn_dataset_read(ds, &k, 1, x, &y) == SCN_ERR_ARG, "item 15 of 15 read");
            k = -1;
            CHECK(scn_dataset_read(ds, &k, 1, x, &y) == SCN_ERR_ARG, "item -1 read");
            CHECK(scn_dataset_read(ds, NULL, 0, NULL, NULL) == SCN_OK, "empty read: %s",
                  scn_error());
        }
        scn_dataset_close(ds);
    }
    ds = scn_dataset_open(d1, "test", "cifar10");
    CHECK(ds && ds->count == 4, "cifar10 test: %s", ds ? "wrong count" : scn_error());
    check_items(ds, want_rec, &te, tlab, "cifar10 test");
    scn_dataset_close(ds);

    /* in cifar-10-batches-bin/; batches stop at the first missing one */
    write_cifar10(P("%s/cifar-10-batches-bin", d2), 2, 4, 3, 1);
    write_cifar(P("%s/cifar-10-batches-bin/data_batch_4.bin", d2), 8, 4, 0, 1);
    fmt = scn_dataset_detect(d2);
    CHECK(fmt && !strcmp(fmt, "cifar10"), "detect %s: %s", d2, fmt ? fmt : scn_error());
    ds = scn_dataset_open(d2, "train", NULL);
    CHECK(ds && ds->count == 8, "cifar10 in subfolder: %s (count %d, want 8: batch 3 is "
          "missing)", ds ? "" : scn_error(), ds ? ds->count : -1);
    check_items(ds, want_rec, &tr, lab, "cifar10 subfolder train");
    scn_dataset_close(ds);
    ds = scn_dataset_open(d2, "test", NULL);
    CHECK(ds && ds->count == 3, "cifar10 subfolder test: %s", ds ? "count" : scn_error());
    check_items(ds, want_rec, &te, tlab, "cifar10 subfolder test");
    scn_dataset_close(ds);

    /* split errors */
    CHECK(scn_dataset_open(d1, "unlabeled", NULL) == NULL && strstr(scn_error(), "unlabeled"),
          "cifar10 unlabeled split: %s", scn_error());
    CHECK(scn_dataset_open(d1, "validation", NULL) == NULL && strstr(scn_error(), "validation"),
          "split 'validation': %s", scn_error());
    CHECK(scn_dataset_open(d1, "train", "cifar11") == NULL && strstr(scn_error(), "cifar11"),
          "format 'cifar11': %s", scn_error());
}

/* =========================================================== CIFAR-100 */

static void test_cifar100(void) {
    const char *d = P("%s/c100", root), *d2 = P("%s/c100sub", root), *fmt;
    rec_ctx tr = {0, 2}, te = {500, 2};
    unsigned char fine[64], coarse[64], tfine[64], tcoarse[64];
    scn_dataset *ds;
    int i;
    for (i = 0; i < 64; i++) {
        fine[i] = (unsigned char)fine100(i); coarse[i] = (unsigned char)coarse20(i);
        tfine[i] = (unsigned char)fine100(500 + i); tcoarse[i] = (unsigned char)coarse20(500 + i);
    }
    write_cifar(P("%s/train.bin", d), 0, 12, 1, 2);
    write_cifar(P("%s/test.bin", d), 500, 5, 1, 2);
    fmt = scn_dataset_detect(d);
    CHECK(fmt && !strcmp(fmt, "cifar100"), "detect %s: %s", d, fmt ? fmt : scn_error());
    ds = scn_dataset_open(d, "train", NULL);
    CHECK(ds && ds->count == 12 && ds->classes == 100 && !strcmp(ds->format, "cifar100"),
          "cifar100 train: %s", ds ? "count/classes/format" : scn_error());
    check_items(ds, want_rec, &tr, fine, "cifar100 train (fine)");
    scn_dataset_close(ds);
    ds = scn_dataset_open(d, "test", "cifar100");
    CHECK(ds && ds->count == 5 && ds->classes == 100, "cifar100 test: %s", ds ? "count" : scn_error());
    check_items(ds, want_rec, &te, tfine, "cifar100 test (fine)");
    scn_dataset_close(ds);
    ds = scn_dataset_open(d, "train", "cifar100-coarse");
    CHECK(ds && ds->count == 12 && ds->classes == 20 && !strcmp(ds->format, "cifar100-coarse"),
          "cifar100-coarse train: %s", ds ? "count/classes/format" : scn_error());
    check_items(ds, want_rec, &tr, coarse, "cifar100 train (coarse)");
    scn_dataset_close(ds);
    ds = scn_dataset_open(d, "test", "cifar100-coarse");
    CHECK(ds && ds->count == 5 && ds->classes == 20, "cifar100-coarse test: %s",
          ds ? "count" : scn_error());
    check_items(ds, want_rec, &te, tcoarse, "cifar100 test (coarse)");
    scn_dataset_close(ds);

    write_cifar(P("%s/cifar-100-binary/train.bin", d2), 0, 3, 1, 2);
    write_cifar(P("%s/cifar-100-binary/test.bin", d2), 500, 2, 1, 2);
    fmt = scn_dataset_detect(d2);
    CHECK(fmt && !strcmp(fmt, "cifar100"), "detect %s: %s", d2, fmt ? fmt : scn_error());
    ds = scn_dataset_open(d2, "test", "cifar100-coarse");
    CHECK(ds && ds->count == 2, "cifar100 in subfolder: %s", ds ? "count" : scn_error());
    check_items(ds, want_rec, &te, tcoarse, "cifar100 subfolder test (coarse)");
    scn_dataset_close(ds);
}

/* ============================================================== STL-10 */

static void test_stl10(void) {
    const char *d = P("%s/stl", root), *d2 = P("%s/stlsub", root), *fmt;
    rec_ctx tr = {0, 3}, te = {100, 3}, un = {200, 3};
    unsigned char lab[16], tlab[16], y;
    scn_dataset *ds;
    float *x = (float *)malloc(27648 * sizeof *x);
    int i, k;
    for (i = 0; i < 16; i++) { lab[i] = (unsigned char)stl_label(i); tlab[i] = (unsigned char)stl_label(100 + i); }
    write_stl(d, "train", 0, 3, 1, 3);
    write_stl(d, "test", 100, 2, 1, 3);
    write_stl(d, "unlabeled", 200, 2, 0, 3);
    fmt = scn_dataset_detect(d);
    CHECK(fmt && !strcmp(fmt, "stl10"), "detect %s: %s", d, fmt ? fmt : scn_error());
    ds = scn_dataset_open(d, "train", NULL);
    CHECK(ds && ds->count == 3 && ds->C == 3 && ds->H == 96 && ds->W == 96 &&
          ds->classes == 10 && !strcmp(ds->format, "stl10"), "stl10 train: %s",
          ds ? "shape/classes" : scn_error());
    check_items(ds, want_rec, &tr, lab, "stl10 train");
    /* the transposition by hand: item 1, channel 1, row 2, column 90 */
    if (ds && x) {
        unsigned char at = pix(1, 1, 2, 90, 3), mirror = pix(1, 1, 90, 2, 3);
        size_t len;
        unsigned char *file = read_file(P("%s/train_X.bin", d), &len);
        k = 1;
        CHECK(at != mirror, "test setup: pix symmetric at (2, 90)");
        CHECK(file && len == 3 * 27648 && file[27648 + 9216 + 90 * 96 + 2] == at,
              "test setup: train_X.bin is not column-major");
        CHECK(scn_dataset_read(ds, &k, 1, x, &y) == SCN_OK, "stl read: %s", scn_error());
        CHECK(x[9216 + 2 * 96 + 90] == u8f(at), "stl10: pixel (c 1, h 2, w 90) is %.9g, want "
              "%.9g (the file's byte at c*9216 + w*96 + h)%s", (double)x[9216 + 2 * 96 + 90],
              (double)u8f(at), x[9216 + 2 * 96 + 90] == u8f(mirror) ? ": not transposed" : "");
        CHECK(y == stl_label(1), "stl10 item 1 label %d, want %d (file %d)", y, stl_label(1),
              stl_label(1) + 1);
        free(file);
    }
    scn_dataset_close(ds);
    ds = scn_dataset_open(d, "test", NULL);
    CHECK(ds && ds->count == 2 && ds->classes == 10, "stl10 test: %s", ds ? "count" : scn_error());
    check_items(ds, want_rec, &te, tlab, "stl10 test");
    scn_dataset_close(ds);
    ds = scn_dataset_open(d, "unlabeled", NULL);
    CHECK(ds && ds->count == 2 && ds->classes == 0 && ds->labels == NULL,
          "stl10 unlabeled: %s", ds ? "count/classes/labels" : scn_error());
    check_items(ds, want_rec, &un, NULL, "stl10 unlabeled");
    if (ds) {
        k = 1;
        CHECK(scn_dataset_read(ds, &k, 1, x, NULL) == SCN_OK, "unlabeled read without "
              "labels: %s", scn_error());
    }
    scn_dataset_close(ds);

    write_stl(P("%s/stl10_binary", d2), "test", 100, 1, 1, 3);
    fmt = scn_dataset_detect(d2);
    CHECK(fmt && !strcmp(fmt, "stl10"), "detect %s: %s", d2, fmt ? fmt : scn_error());
    ds = scn_dataset_open(d2, "test", "stl10");
    CHECK(ds && ds->count == 1, "stl10 in subfolder: %s", ds ? "count" : scn_error());
    check_items(ds, want_rec, &te, tlab, "stl10 subfolder test");
    scn_dataset_close(ds);
    expect_fail(d2, "train", "stl10", d2, 0, "stl10 without train_X.bin");
    free(x);
}

/* =============================================================== .amat */

static void test_amat(void) {
    const char *d = P("%s/amat", root), *d2 = P("%s/amat_crlf", root), *fmt;
    char *text;
    unsigned char lab[16], tlab[16];
    amat_ctx a;
    scn_dataset *ds;
    int i;
    for (i = 0; i < 16; i++) { lab[i] = (unsigned char)label10(i); tlab[i] = (unsigned char)label10(50 + i); }
    write_amat(P("%s/mnist_x_train.amat", d), 0, 6, 28, 0, 1, 4);
    write_amat(P("%s/mnist_x_test.amat", d), 50, 3, 28, 0, 1, 4);
    write_text(P("%s/README", d), "not an amat file\n");
    fmt = scn_dataset_detect(d);
    CHECK(fmt && !strcmp(fmt, "amat"), "detect %s: %s", d, fmt ? fmt : scn_error());

    text = amat_text(0, 6, 28, 0, 1, 4);
    a.side = 28;
    a.vals = text ? amat_values(text, 6, 784) : NULL;
    ds = scn_dataset_open(d, "train", NULL);
    CHECK(ds && ds->count == 6 && ds->C == 1 && ds->H == 28 && ds->W == 28 &&
          !strcmp(ds->format, "amat"), "amat train: %s", ds ? "shape" : scn_error());
    CHECK(ds && ds->classes == 9, "amat classes %d, want 9 (largest label, 8, + 1)",
          ds ? ds->classes : -1);
    if (a.vals) check_items(ds, want_amat, &a, lab, "amat train");
    scn_dataset_close(ds);
    free(a.vals);
    free(text);

    /* CRLF line ends, the last line without one, blank lines between */
    text = amat_text(50, 3, 28, 1, 0, 4);
    if (text) {
        size_t n = strlen(text);
        char *t2 = (char *)malloc(n + 16);
        memcpy(t2, "\r\n", 2);
        memcpy(t2 + 2, text, n + 1);
        write_text(P("%s/b_train.amat", d2), t2);
        write_text(P("%s/b_test.amat", d2), text);
        free(t2);
    }
    a.vals = text ? amat_values(text, 3, 784) : NULL;
    ds = scn_dataset_open(d2, "train", "amat");
    CHECK(ds && ds->count == 3, "amat CRLF, leading blank line: %s (count %d)",
          ds ? "" : scn_error(), ds ? ds->count : -1);
    if (a.vals) check_items(ds, want_amat, &a, tlab, "amat CRLF train");
    scn_dataset_close(ds);
    ds = scn_dataset_open(d2, "test", "amat");
    CHECK(ds && ds->count == 3, "amat CRLF test: %s", ds ? "count" : scn_error());
    if (a.vals) check_items(ds, want_amat, &a, tlab, "amat CRLF test");
    scn_dataset_close(ds);
    free(a.vals);
    free(text);

    /* any square count: 3x3 pixels + label, spaces and tabs */
    write_text(P("%s/amat9/v_train.amat", root),
               "0 0.5 1\t0.25 0.125 0 0 0 1 2\n1 1 1 1 1 1 1 1 1 0.0e+00 \n");
    write_text(P("%s/amat9/v_test.amat", root), "0 0 0 0 0 0 0 0 0 7");
    ds = scn_dataset_open(P("%s/amat9", root), "train", NULL);
    CHECK(ds && ds->count == 2 && ds->H == 3 && ds->W == 3 && ds->classes == 3,
          "amat 3x3: %s", ds ? "shape/classes" : scn_error());
    if (ds) {
        float x[18];
        unsigned char y[2];
        int idx[2] = {0, 1};
        static const float want[18] = {0, 0.5f, 1, 0.25f, 0.125f, 0, 0, 0, 1,
                                       1, 1, 1, 1, 1, 1, 1, 1, 1};
        CHECK(scn_dataset_read(ds, idx, 2, x, y) == SCN_OK && !memcmp(x, want, sizeof want) &&
              y[0] == 2 && y[1] == 0, "amat 3x3 values or labels (%d %d)", y[0], y[1]);
    }
    scn_dataset_close(ds);
    ds = scn_dataset_open(P("%s/amat9", root), "test", NULL);
    CHECK(ds && ds->count == 1 && ds->classes == 8 && ds->labels[0] == 7,
          "amat 3x3 test, no final newline: %s", ds ? "count/label" : scn_error());
    scn_dataset_close(ds);
}

/* ======================================================= image folders */

#ifdef SCN__STB
typedef struct { const int *items; int salt, comp; } img_ctx;  /* item i: pix item items[i] */

static float want_img(int item, int c, int h, int w, const void *ctx) {
    const img_ctx *m = (const img_ctx *)ctx;
    return u8f(pix(m->items[item], m->comp == 1 ? 0 : c, h, w, m->salt));
}

static void test_folders(void) {
    const char *d = P("%s/fold", root), *fmt;
    scn_dataset *ds;
    /* train: cat/a.png cat/b.bmp, dog/D.PNG dog/c.png (sorted by name:
       "D.PNG" < "c.png"), emu/ with no images; test: bird/e.png, cat/f.bmp */
    static const int tr_items[4] = {1, 2, 4, 3}, te_items[2] = {5, 6};
    static const unsigned char tr_lab[4] = {1, 1, 2, 2}, te_lab[2] = {0, 1};
    img_ctx ctr = {tr_items, 5, 3}, cte = {te_items, 5, 3};
    write_image(P("%s/train/cat/a.png", d), 1, 8, 6, 3, 5, 'p');
    write_image(P("%s/train/cat/b.bmp", d), 2, 8, 6, 3, 5, 'b');
    write_image(P("%s/train/dog/c.png", d), 3, 8, 6, 3, 5, 'p');
    write_image(P("%s/train/dog/D.PNG", d), 4, 8, 6, 3, 5, 'p');
    write_text(P("%s/train/dog/notes.txt", d), "skipped\n");
    write_text(P("%s/train/dog/.hidden.png", d), "hidden files are skipped");
    write_text(P("%s/train/emu/readme", d), "no images here");
    write_image(P("%s/test/bird/e.png", d), 5, 8, 6, 3, 5, 'p');
    write_image(P("%s/test/cat/f.bmp", d), 6, 8, 6, 3, 5, 'b');
    fmt = scn_dataset_detect(d);
    CHECK(fmt && !strcmp(fmt, "folder"), "detect %s: %s", d, fmt ? fmt : scn_error());
    ds = scn_dataset_open(d, "train", NULL);
    CHECK(ds && ds->count == 4 && ds->C == 3 && ds->H == 6 && ds->W == 8 && ds->classes == 4 &&
          !strcmp(ds->format, "folder"), "folder train: %s (count %d C %d H %d W %d classes "
          "%d, want 4 3 6 8 4)", ds ? "" : scn_error(), ds ? ds->count : -1, ds ? ds->C : -1,
          ds ? ds->H : -1, ds ? ds->W : -1, ds ? ds->classes : -1);
    if (ds && ds->count == 4) check_items(ds, want_img, &ctr, tr_lab, "folder train (png, bmp)");
    scn_dataset_close(ds);
    ds = scn_dataset_open(d, "test", NULL);
    CHECK(ds && ds->count == 2 && ds->classes == 4, "folder test: %s (count %d classes %d; "
          "bird only in test/, emu only in train/)", ds ? "" : scn_error(),
          ds ? ds->count : -1, ds ? ds->classes : -1);
    if (ds && ds->count == 2) check_items(ds, want_img, &cte, te_lab, "folder test");
    scn_dataset_close(ds);

    /* gray PNGs: C = 1; a later RGB image with r = g = b is converted */
    {
        const char *g = P("%s/gray", root);
        static const int items[3] = {10, 11, 12};
        static const unsigned char lab[3] = {0, 1, 1};
        img_ctx cg = {items, 6, 1};
        unsigned char *rgb = image_bytes(12, 5, 7, 1, 6), *rgb3 = (unsigned char *)malloc(105);
        int i;
        write_image(P("%s/train/x/a.png", g), 10, 5, 7, 1, 6, 'p');
        write_image(P("%s/train/y/b.png", g), 11, 5, 7, 1, 6, 'p');
        for (i = 0; rgb && rgb3 && i < 35; i++) rgb3[3 * i] = rgb3[3 * i + 1] = rgb3[3 * i + 2] = rgb[i];
        mkdirs(P("%s/train/y/c.png", g), 0);
        CHECK(rgb && rgb3 && stbi_write_png(P("%s/train/y/c.png", g), 5, 7, 3, rgb3, 15),
              "write gray-as-rgb png");
        write_image(P("%s/test/x/a.png", g), 10, 5, 7, 1, 6, 'p');
        ds = scn_dataset_open(g, "train", "folder");
        CHECK(ds && ds->count == 3 && ds->C == 1 && ds->H == 7 && ds->W == 5 && ds->classes == 2,
              "gray folder: %s (C %d)", ds ? "shape" : scn_error(), ds ? ds->C : -1);
        if (ds && ds->count == 3) check_items(ds, want_img, &cg, lab, "gray folder");
        scn_dataset_close(ds);
        free(rgb); free(rgb3);
    }

    /* RGB first, then a gray image: C = 3, the gray one's planes equal */
    {
        const char *g = P("%s/rgbgray", root);
        float x[3 * 16];
        unsigned char y;
        int k = 1, j, ok = 1;
        write_image(P("%s/k/a.png", g), 20, 4, 4, 3, 7, 'p');
        write_image(P("%s/k/b.png", g), 21, 4, 4, 1, 7, 'p');
        ds = scn_dataset_open(g, "train", "folder");
        CHECK(ds && ds->C == 3 && ds->count == 2, "rgb then gray: %s", ds ? "C/count" : scn_error());
        if (ds && ds->C == 3 && ds->count == 2) {
            CHECK(scn_dataset_read(ds, &k, 1, x, &y) == SCN_OK, "read: %s", scn_error());
            for (j = 0; j < 16; j++)
                ok &= x[j] == u8f(pix(21, 0, j / 4, j % 4, 7)) && x[16 + j] == x[j] &&
                      x[32 + j] == x[j];
            CHECK(ok, "a gray image in an RGB folder: planes differ from its gray values");
        }
        scn_dataset_close(ds);
    }

    /* gray + alpha first: C = 1, the alpha dropped (section 13) */
    {
        const char *g = P("%s/grayalpha", root);
        write_image(P("%s/k/a.png", g), 30, 4, 4, 2, 8, 'p');
        ds = scn_dataset_open(g, "train", "folder");
        CHECK(ds != NULL, "gray+alpha folder: %s", scn_error());
        CHECK(ds && ds->C == 1, "gray+alpha PNG first: C = %d, want 1", ds ? ds->C : -1);
        if (ds && ds->C == 1) {
            float x[16];
            unsigned char y;
            int k = 0, j, ok = 1;
            CHECK(scn_dataset_read(ds, &k, 1, x, &y) == SCN_OK, "read: %s", scn_error());
            for (j = 0; j < 16; j++) ok &= x[j] == u8f(pix(30, 0, j / 4, j % 4, 8));
            CHECK(ok, "gray+alpha: the gray plane is not the image's gray values");
        }
        scn_dataset_close(ds);
    }

    /* JPEG: right size, values close to the smooth image encoded */
    {
        const char *g = P("%s/jpg", root);
        unsigned char img[16 * 16 * 3];
        float x[3 * 256];
        unsigned char y;
        int k = 0, i, c;
        double worst = 0.0, sum = 0.0;
        smooth_rgb(img);
        write_file(P("%s/k/a.jpg", g), smooth_jpg, sizeof smooth_jpg);
        fmt = scn_dataset_detect(g);
        CHECK(fmt && !strcmp(fmt, "folder"), "detect jpg folder: %s", fmt ? fmt : scn_error());
        ds = scn_dataset_open(g, "test", NULL);
        CHECK(ds && ds->count == 1 && ds->C == 3 && ds->H == 16 && ds->W == 16,
              "jpeg folder: %s", ds ? "shape" : scn_error());
        if (ds && ds->count == 1 && ds->C == 3 && ds->H == 16 && ds->W == 16) {
            CHECK(scn_dataset_read(ds, &k, 1, x, &y) == SCN_OK, "jpeg read: %s", scn_error());
            for (c = 0; c < 3; c++)
                for (i = 0; i < 256; i++) {
                    double e = fabs(x[c * 256 + i] - img[i * 3 + c] / 255.0);
                    sum += e;
                    if (e > worst) worst = e;
                }
            CHECK(worst < 0.06 && sum / 768 < 0.015, "jpeg: error max %.4f mean %.4f", worst,
                  sum / 768);
        }
        scn_dataset_close(ds);
    }

    /* flat layout: DIR/CLASS/...; both splits are the same images */
    {
        const char *g = P("%s/flat", root);
        static const int items[3] = {40, 41, 42};
        static const unsigned char lab[3] = {0, 1, 1};
        img_ctx cf = {items, 9, 3};
        write_image(P("%s/ant/1.png", g), 40, 3, 5, 3, 9, 'p');
        write_image(P("%s/bee/2.bmp", g), 41, 3, 5, 3, 9, 'b');
        write_image(P("%s/bee/3.png", g), 42, 3, 5, 3, 9, 'p');
        fmt = scn_dataset_detect(g);
        CHECK(fmt && !strcmp(fmt, "folder"), "detect flat folder: %s", fmt ? fmt : scn_error());
        ds = scn_dataset_open(g, "train", NULL);
        CHECK(ds && ds->count == 3 && ds->classes == 2, "flat train: %s", ds ? "count" : scn_error());
        if (ds && ds->count == 3) check_items(ds, want_img, &cf, lab, "flat train");
        scn_dataset_close(ds);
        ds = scn_dataset_open(g, "test", NULL);
        CHECK(ds && ds->count == 3 && ds->classes == 2, "flat test: %s", ds ? "count" : scn_error());
        if (ds && ds->count == 3) check_items(ds, want_img, &cf, lab, "flat test");
        scn_dataset_close(ds);
    }

    /* a different size is refused, naming both files */
    {
        const char *g = P("%s/sizes", root);
        const char *first = P("%s/train/a/x.png", g), *other = P("%s/train/b/y.png", g);
        write_image(first, 50, 8, 8, 3, 1, 'p');
        write_image(other, 51, 9, 8, 3, 1, 'p');
        write_image(P("%s/test/a/z.png", g), 52, 8, 8, 3, 1, 'p');
        ds = scn_dataset_open(g, "train", NULL);
        CHECK(ds == NULL, "images of 8x8 and 9x8 opened as one data set");
        CHECK(strstr(scn_error(), first) && strstr(scn_error(), other),
              "size error \"%s\" does not name both %s and %s", scn_error(), first, other);
        scn_dataset_close(ds);
        ds = scn_dataset_open(g, "test", NULL);
        CHECK(ds && ds->count == 1 && ds->classes == 2, "sizes test split: %s",
              ds ? "count" : scn_error());
        scn_dataset_close(ds);
    }
    /* the split layout needs the split's folder; no images at all */
    write_image(P("%s/onlytrain/train/a/x.png", root), 1, 4, 4, 3, 1, 'p');
    expect_fail(P("%s/onlytrain", root), "test", NULL, P("%s/onlytrain/test", root), 0,
                "folder without test/");
    write_text(P("%s/noimg/a/x.txt", root), "text");
    expect_fail(P("%s/noimg", root), "train", "folder", P("%s/noimg", root), 0,
                "class folders without images");
}
#endif

/* ================================================================= IDX */

static void test_idx_detect(void) {
    const char *d = P("%s/idx", root), *fmt;
    rec_ctx tr = {0, 11}, te = {30, 11};
    unsigned char lab[8], tlab[8];
    scn_dataset *ds;
    int i;
    for (i = 0; i < 8; i++) { lab[i] = (unsigned char)label10(i); tlab[i] = (unsigned char)label10(30 + i); }
    write_idx(d, "train", 0, 5, 6, 11);
    write_idx(d, "t10k", 30, 3, 6, 11);
    fmt = scn_dataset_detect(d);
    CHECK(fmt && !strcmp(fmt, "idx"), "detect %s: %s", d, fmt ? fmt : scn_error());
    ds = scn_dataset_open(d, "train", NULL);
    CHECK(ds && ds->count == 5 && ds->C == 1 && ds->H == 6 && ds->W == 6 &&
          !strcmp(ds->format, "idx"), "idx train: %s", ds ? "shape" : scn_error());
    check_items(ds, want_rec, &tr, lab, "idx train");
    scn_dataset_close(ds);
    ds = scn_dataset_open(d, "test", NULL);
    CHECK(ds && ds->count == 3, "idx test: %s", ds ? "count" : scn_error());
    check_items(ds, want_rec, &te, tlab, "idx test");
    scn_dataset_close(ds);
}

static void test_detect_errors(void) {
    const char *e = P("%s/emptydir", root), *f = P("%s/plainfile", root), *o = P("%s/other", root);
    mkdirs(e, 1);
    CHECK(scn_dataset_detect(e) == NULL && strstr(scn_error(), e), "empty dir: \"%s\"",
          scn_error());
    CHECK(scn_dataset_open(e, "train", NULL) == NULL && strstr(scn_error(), e),
          "open empty dir: \"%s\"", scn_error());
    write_text(f, "x");
    CHECK(scn_dataset_detect(f) == NULL && strstr(scn_error(), f), "a file: \"%s\"", scn_error());
    CHECK(scn_dataset_detect(P("%s/nowhere", root)) == NULL &&
          strstr(scn_error(), "nowhere"), "missing dir: \"%s\"", scn_error());
    write_text(P("%s/data.csv", o), "1,2,3\n");
    CHECK(scn_dataset_detect(o) == NULL && strstr(scn_error(), o), "unknown files: \"%s\"",
          scn_error());
}

/* ============================================================ hardening */

static void test_bad_cifar(void) {
    size_t len;
    unsigned char *b;
    const char *d, *f;

    /* CIFAR-10 */
    d = P("%s/h/c10_empty", root); f = P("%s/data_batch_1.bin", d);
    write_file(f, "", 0);
    expect_fail(d, "train", NULL, f, 0, "cifar10 empty data_batch_1.bin");
    d = P("%s/h/c10_cut", root); f = P("%s/data_batch_1.bin", d);
    b = cifar_bytes(0, 3, 0, 1, &len);
    if (b) write_file(f, b, len - 1500);
    expect_fail(d, "train", "cifar10", f, 0, "cifar10 cut mid-record");
    d = P("%s/h/c10_extra", root); f = P("%s/test_batch.bin", d);
    if (b) { memset(b + len, 7, 5); write_file(f, b, len + 5); }
    expect_fail(d, "test", "cifar10", f, 0, "cifar10 test_batch with 5 extra bytes");
    d = P("%s/h/c10_label", root); f = P("%s/data_batch_1.bin", d);
    if (b) { b[3073 * 2] = 10; write_file(f, b, len); }
    expect_fail(d, "train", "cifar10", f, 0, "cifar10 label 10");
    d = P("%s/h/c10_label255", root); f = P("%s/test_batch.bin", d);
    if (b) { b[3073 * 2] = 255; write_file(f, b, len); }
    expect_fail(d, "test", "cifar10", f, 0, "cifar10 label 255");
    free(b);
    /* a bad second batch behind a good first one */
    d = P("%s/h/c10_batch2", root); f = P("%s/data_batch_2.bin", d);
    write_cifar(P("%s/data_batch_1.bin", d), 0, 2, 0, 1);
    b = cifar_bytes(2, 2, 0, 1, &len);
    if (b) write_file(f, b, len - 1);
    expect_fail(d, "train", "cifar10", f, 0, "cifar10 truncated data_batch_2.bin");
    if (b) { b[3073] = 11; write_file(f, b, len); }
    expect_fail(d, "train", "cifar10", f, 0, "cifar10 data_batch_2.bin label 11");
    free(b);
    /* the test file missing: the error names the directory */
    expect_fail(d, "test", "cifar10", d, 0, "cifar10 without test_batch.bin");
    /* a batch cut short after the data set was opened: reading fails */
    {
        scn_dataset *ds;
        float x[3072];
        unsigned char y;
        int k = 3;
        d = P("%s/h/c10_shrunk", root); f = P("%s/data_batch_2.bin", d);
        write_cifar(P("%s/data_batch_1.bin", d), 0, 2, 0, 1);
        write_cifar(f, 2, 2, 0, 1);
        ds = scn_dataset_open(d, "train", "cifar10");
        CHECK(ds && ds->count == 4, "c10_shrunk: %s", scn_error());
        if (ds) {
            write_cifar(f, 2, 1, 0, 1);
            CHECK(scn_dataset_read(ds, &k, 1, x, &y) != SCN_OK && strstr(scn_error(), f),
                  "item 3 read from a batch cut after opening: \"%s\"", scn_error());
            k = 2;
            CHECK(scn_dataset_read(ds, &k, 1, x, &y) == SCN_OK && x[5] == u8f(pix(2, 0, 0, 5, 1)),
                  "item 2, still there: %s", scn_error());
        }
        scn_dataset_close(ds);
    }

    /* CIFAR-100 */
    d = P("%s/h/c100_empty", root); f = P("%s/train.bin", d);
    write_file(f, "", 0);
    expect_fail(d, "train", NULL, f, 0, "cifar100 empty train.bin");
    d = P("%s/h/c100_cut", root); f = P("%s/train.bin", d);
    b = cifar_bytes(0, 3, 1, 2, &len);
    if (b) write_file(f, b, len - 3000);
    expect_fail(d, "train", "cifar100", f, 0, "cifar100 cut mid-record");
    expect_fail(d, "train", "cifar100-coarse", f, 0, "cifar100-coarse cut mid-record");
    d = P("%s/h/c100_extra", root); f = P("%s/test.bin", d);
    if (b) { memset(b + len, 0, 3); write_file(f, b, len + 3); }
    expect_fail(d, "test", "cifar100", f, 0, "cifar100 test.bin with 3 extra bytes");
    d = P("%s/h/c100_fine", root); f = P("%s/train.bin", d);
    if (b) { b[3074 + 1] = 100; write_file(f, b, len); }
    expect_fail(d, "train", "cifar100", f, 0, "cifar100 fine label 100");
    {   /* the coarse labels are fine there */
        scn_dataset *ds = scn_dataset_open(d, "train", "cifar100-coarse");
        CHECK(ds && ds->count == 3, "cifar100-coarse with a bad fine label: %s", scn_error());
        scn_dataset_close(ds);
    }
    d = P("%s/h/c100_coarse", root); f = P("%s/train.bin", d);
    if (b) { b[3074 + 1] = (unsigned char)fine100(1); b[3074 * 2] = 20; write_file(f, b, len); }
    expect_fail(d, "train", "cifar100-coarse", f, 0, "cifar100 coarse label 20");
    {
        scn_dataset *ds = scn_dataset_open(d, "train", "cifar100");
        CHECK(ds && ds->count == 3, "cifar100 (fine) with a bad coarse label: %s", scn_error());
        scn_dataset_close(ds);
    }
    free(b);
}

static void test_bad_stl(void) {
    size_t len;
    unsigned char *b, y[64];
    const char *d, *f;
    int i;

    b = stl_x(0, 2, 3, &len);
    for (i = 0; i < 64; i++) y[i] = (unsigned char)(1 + stl_label(i));
    /* X */
    d = P("%s/h/stl_xempty", root); f = P("%s/train_X.bin", d);
    write_file(f, "", 0);
    write_file(P("%s/train_y.bin", d), y, 2);
    expect_fail(d, "train", NULL, f, 0, "stl10 empty train_X.bin");
    d = P("%s/h/stl_xcut", root); f = P("%s/train_X.bin", d);
    if (b) write_file(f, b, len - 27648 / 2);
    write_file(P("%s/train_y.bin", d), y, 2);
    expect_fail(d, "train", "stl10", f, 0, "stl10 train_X.bin cut mid-image");
    d = P("%s/h/stl_xextra", root); f = P("%s/test_X.bin", d);
    if (b) { memset(b + len, 1, 9); write_file(f, b, len + 9); }
    write_file(P("%s/test_y.bin", d), y, 2);
    expect_fail(d, "test", "stl10", f, 0, "stl10 test_X.bin with 9 extra bytes");
    d = P("%s/h/stl_ucut", root); f = P("%s/unlabeled_X.bin", d);
    if (b) write_file(f, b, 100);
    expect_fail(d, "unlabeled", "stl10", f, 0, "stl10 unlabeled_X.bin of 100 bytes");
    /* y */
    d = P("%s/h/stl_ymissing", root); f = P("%s/train_y.bin", d);
    if (b) write_file(P("%s/train_X.bin", d), b, len);
    expect_fail(d, "train", "stl10", f, 0, "stl10 without train_y.bin");
    d = P("%s/h/stl_yempty", root); f = P("%s/train_y.bin", d);
    if (b) write_file(P("%s/train_X.bin", d), b, len);
    write_file(f, "", 0);
    expect_fail(d, "train", "stl10", f, 0, "stl10 empty train_y.bin");
    d = P("%s/h/stl_yshort", root); f = P("%s/train_y.bin", d);
    if (b) write_file(P("%s/train_X.bin", d), b, len);
    write_file(f, y, 1);
    expect_fail(d, "train", "stl10", f, 0, "stl10 train_y.bin with 1 label for 2 images");
    d = P("%s/h/stl_ylong", root); f = P("%s/train_y.bin", d);
    if (b) write_file(P("%s/train_X.bin", d), b, len);
    write_file(f, y, 3);
    expect_fail(d, "train", "stl10", f, 0, "stl10 train_y.bin with 3 labels for 2 images");
    d = P("%s/h/stl_ylonger", root); f = P("%s/test_y.bin", d);
    if (b) write_file(P("%s/test_X.bin", d), b, len);
    write_file(f, y, 64);
    expect_fail(d, "test", "stl10", f, 0, "stl10 test_y.bin with 64 labels for 2 images");
    CHECK(strstr(scn_error(), "SCN_GUNZIP_MAX") == NULL, "stl10 labels file longer than the "
          "images: the message \"%s\" blames SCN_GUNZIP_MAX", scn_error());
    d = P("%s/h/stl_y0", root); f = P("%s/train_y.bin", d);
    if (b) write_file(P("%s/train_X.bin", d), b, len);
    y[1] = 0;
    write_file(f, y, 2);
    expect_fail(d, "train", "stl10", f, 0, "stl10 label 0");
    d = P("%s/h/stl_y11", root); f = P("%s/test_y.bin", d);
    if (b) write_file(P("%s/test_X.bin", d), b, len);
    y[1] = 11;
    write_file(f, y, 2);
    expect_fail(d, "test", "stl10", f, 0, "stl10 label 11");
    free(b);
}

/* A 2x2 .amat case: dir h/NAME holds x_train.amat with `text`, which must
 * fail, naming the file. */
static void bad_amat(const char *name, const char *text) {
    const char *d = P("%s/h/amat_%s", root, name), *f = P("%s/x_train.amat", d);
    char what[96];
    write_text(f, text);
    write_text(P("%s/x_test.amat", d), "0 0 0 0 1\n");
    snprintf(what, sizeof what, ".amat %s", name);
    expect_fail(d, "train", NULL, f, 0, what);
}

static void test_bad_amat(void) {
    char *big;
    const char *d;
    bad_amat("empty", "");
    bad_amat("blank", "\n\r\n  \t\n");
    bad_amat("cut_line", "0 0.5 1 0.25 3\n1 1 1 1 2\n0.5 0.");
    bad_amat("cut_line_nl", "0 0.5 1 0.25 3\n1 1 1 1 2\n0.5 0.5 0.5\n");
    bad_amat("word", "0 0.5 1 0.25 3\n1 abc 1 1 2\n");
    bad_amat("two_dots", "0 0.5 1.0.0 0.25 3\n");
    bad_amat("comma", "0,0.5,1,0.25,3\n");
    bad_amat("extra_value", "0 0.5 1 0.25 3\n1 1 1 1 1 2\n");
    bad_amat("not_square", "0 0.5 1 3\n");
    bad_amat("one_value", "3\n");
    bad_amat("label_frac", "0 0.5 1 0.25 3.5\n");
    bad_amat("label_neg", "0 0.5 1 0.25 -1\n");
    bad_amat("label_256", "0 0.5 1 0.25 256\n");
    bad_amat("label_nan", "0 0.5 1 0.25 nan\n");
    bad_amat("pixel_inf", "0 inf 1 0.25 3\n");
    bad_amat("pixel_nan", "0 0.5 NaN 0.25 3\n");
    bad_amat("pixel_over_float", "0 0.5 1e300 0.25 3\n");       /* finite, but not as a float */
    bad_amat("pixel_huge", "0 0.5 1e999 0.25 3\n");
    bad_amat("long_token", "0 0.5 1 0.000000000000000000000000000000000000000000000000000000000000000000000001 3\n");
    bad_amat("nul_byte", "0 0.5 1 0.2\0005 3\n");                /* stops at the NUL: a cut line */
    big = (char *)malloc(4096);
    if (big) {                                                  /* binary garbage */
        int i;
        for (i = 0; i < 4095; i++) big[i] = (char)(pix(i, 0, 0, 0, 99) | 1);
        big[4095] = '\0';
        bad_amat("garbage", big);
        free(big);
    }
    /* two train files in one directory: both named */
    d = P("%s/h/amat_two", root);
    write_text(P("%s/a_train.amat", d), "0 0 0 0 1\n");
    write_text(P("%s/b_train.amat", d), "0 0 0 0 1\n");
    CHECK(scn_dataset_open(d, "train", "amat") == NULL && strstr(scn_error(), "a_train.amat") &&
          strstr(scn_error(), "b_train.amat"), "two train .amat files: \"%s\"", scn_error());
    expect_fail(d, "test", "amat", d, 0, ".amat without a test file");
}

#ifdef SCN__STB
/* Folder dir h/NAME with k/a.png (good) then k/FILE (bytes b, n). */
static void bad_image(const char *name, const char *file, const void *b, size_t n) {
    const char *d = P("%s/h/img_%s", root, name), *f = P("%s/k/%s", d, file);
    char what[96];
    write_image(P("%s/k/a.png", d), 1, 16, 16, 3, 1, 'p');
    write_file(f, b, n);
    snprintf(what, sizeof what, "folder %s", name);
    expect_fail(d, "train", "folder", f, 1, what);
}

static void test_bad_images(void) {
    static const char junk[] = "this is not a PNG file, just text that ends here";
    char tmp[512];
    unsigned char *b, *noisy;
    size_t len;
    int i;
    snprintf(tmp, sizeof tmp, "%s/h/tmpimg", root);
    bad_image("empty", "b.png", "", 0);
    bad_image("garbage", "b.png", junk, sizeof junk);
    bad_image("garbage_jpg", "b.jpg", junk, sizeof junk);
    bad_image("png_magic_only", "b.png", "\x89PNG\r\n\x1a\n", 8);
    /* noisy 16x16 images (incompressible), cut mid-image */
    noisy = image_bytes(77, 16, 16, 3, 12);
    mkdirs(P("%s/x", tmp), 0);
    for (i = 0; noisy && i < 2; i++) {
        const char *src = P("%s/src.%s", tmp, i ? "bmp" : "png");
        int ok = i ? stbi_write_bmp(src, 16, 16, 3, noisy) : stbi_write_png(src, 16, 16, 3, noisy, 48);
        CHECK(ok, "write %s", src);
        b = read_file(src, &len);
        CHECK(b && len > 200, "read back %s", src);
        if (b && len > 200) {
            bad_image(i ? "cut_bmp" : "cut_png", i ? "b.bmp" : "b.png", b, len / 2);
            /* BMP: the last pixel byte missing; PNG: the IEND chunk (12 bytes) */
            bad_image(i ? "cut_bmp_end" : "cut_png_iend", i ? "b.bmp" : "b.png", b,
                      i ? len - 1 : len - 12);
        }
        free(b);
    }
    /* an image replaced by one of another size after opening */
    {
        const char *d = P("%s/h/img_resized", root), *f = P("%s/k/b.png", d);
        scn_dataset *ds;
        float x[3 * 256];
        unsigned char y;
        int k = 1;
        write_image(P("%s/k/a.png", d), 1, 16, 16, 3, 1, 'p');
        write_image(f, 2, 16, 16, 3, 1, 'p');
        ds = scn_dataset_open(d, "train", "folder");
        CHECK(ds && ds->count == 2, "img_resized: %s", scn_error());
        if (ds) {
            write_image(f, 2, 16, 15, 3, 1, 'p');
            CHECK(scn_dataset_read(ds, &k, 1, x, &y) != SCN_OK && strstr(scn_error(), f),
                  "an image resized after opening: \"%s\"", scn_error());
        }
        scn_dataset_close(ds);
    }
    /* 257 class folders */
    {
        char d[512], sub[600];
        snprintf(d, sizeof d, "%s/h/img_257", root);
        write_image(P("%s/c000/a.png", d), 1, 4, 4, 3, 1, 'p');
        for (i = 1; i < 257; i++) {
            snprintf(sub, sizeof sub, "%s/c%03d", d, i);
            mkdirs(sub, 1);
        }
        expect_fail(d, "train", NULL, d, 0, "257 class folders");
        CHECK(strstr(scn_error(), "257"), "257 class folders: \"%s\"", scn_error());
    }
    /* the JPEG cut in its Huffman tables, and in its scan data */
    bad_image("cut_jpg_tables", "b.jpg", smooth_jpg, sizeof smooth_jpg / 2);
    bad_image("cut_jpg_scan", "b.jpg", smooth_jpg, sizeof smooth_jpg - 60);
    /* edits of the good JPEG: marked progressive (refused by name), its
     * scan pointed at a Huffman table it never defines, a Huffman table
     * with more than 256 codes, and its scan data cut without the marker */
    {
        unsigned char j[sizeof smooth_jpg];
        size_t k, sof = 0, sos = 0, dht = 0;
        for (k = 0; k + 1 < sizeof j; k++) {
            if (smooth_jpg[k] != 0xFF) continue;
            if (smooth_jpg[k + 1] == 0xC0 && !sof) sof = k;
            if (smooth_jpg[k + 1] == 0xDA && !sos) sos = k;
            if (smooth_jpg[k + 1] == 0xC4 && !dht) dht = k;
        }
        CHECK(sof && sos && dht, "smooth_jpg: SOF0 %zu, SOS %zu, DHT %zu", sof, sos, dht);
        if (sof && sos && dht) {
            memcpy(j, smooth_jpg, sizeof j);
            j[sof + 1] = 0xC2;
            bad_image("jpg_progressive", "b.jpg", j, sizeof j);
            CHECK(strstr(scn_error(), "progressive") != NULL, "progressive: %s", scn_error());
            memcpy(j, smooth_jpg, sizeof j);
            j[sos + 6] = 0x33;                  /* component 1: DC and AC table 3 */
            bad_image("jpg_undefined_table", "b.jpg", j, sizeof j);
            memcpy(j, smooth_jpg, sizeof j);
            j[dht + 5 + 14] = 0xFF;             /* 255 codes each of 15 and 16 bits */
            j[dht + 5 + 15] = 0xFF;
            bad_image("jpg_dht_over_256", "b.jpg", j, sizeof j);
            memcpy(j, smooth_jpg, sizeof j);
            memcpy(j + sizeof j - 80, "\xff\xd9", 2);   /* EOI inside the scan */
            bad_image("jpg_scan_short", "b.jpg", j, sizeof j - 78);
        }
    }
    free(noisy);
}
#endif

/* .npy: what tests/test_npy.c leaves out: bytes after the data, and a
 * shape far larger than the file. */
static void npy_file(const char *path, const char *shape, const void *data, size_t dlen) {
    char h[128];
    unsigned char b[256];
    int n = snprintf(h, sizeof h, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }",
                     shape), total = 10 + n + 1;
    total = (total + 63) / 64 * 64;
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (unsigned char)(total - 10); b[9] = 0;
    memcpy(b + 10, h, (size_t)n);
    memset(b + 10 + n, ' ', (size_t)(total - 10 - n - 1));
    b[total - 1] = '\n';
    memcpy(b + total, data, dlen);
    write_file(path, b, (size_t)total + dlen);
}

static void test_bad_npy(void) {
    float v[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    const char *f;
    scn_tensor *t;
    f = P("%s/h/npy/good.npy", root);
    npy_file(f, "(2, 3)", v, 24);
    t = scn_npy_load(f);
    CHECK(t && t->size == 6 && t->data[5] == 6.0f, "hand-built .npy: %s", scn_error());
    scn_tensor_free(t);
    f = P("%s/h/npy/extra4.npy", root);
    npy_file(f, "(2, 3)", v, 28);
    CHECK(scn_npy_load(f) == NULL && strstr(scn_error(), f), ".npy with 4 bytes after the "
          "data: \"%s\"", scn_error());
    f = P("%s/h/npy/extra1.npy", root);
    npy_file(f, "(2, 3)", v, 25);
    CHECK(scn_npy_load(f) == NULL && strstr(scn_error(), f), ".npy with 1 byte after the "
          "data: \"%s\"", scn_error());
    f = P("%s/h/npy/huge.npy", root);
    npy_file(f, "(2000000000, 2000000000, 2000000000, 2000000000)", v, 32);
    CHECK(scn_npy_load(f) == NULL && strstr(scn_error(), f), ".npy claiming 1.6e37 floats: "
          "\"%s\"", scn_error());
    f = P("%s/h/npy/big.npy", root);
    npy_file(f, "(100000, 100000)", v, 32);
    CHECK(scn_npy_load(f) == NULL && strstr(scn_error(), f), ".npy claiming 1e10 floats: "
          "\"%s\"", scn_error());
}

/* Checkpoints: what tests/test_checkpoint.c leaves out: version-3 records
 * whose fields claim other shapes, sizes or values, with the END record's
 * CRC recomputed, so the checks behind the CRC run. Each must fail with a
 * message naming the file (never with the CRC's), and never crash. */

/* a record: tag and a payload of its own */
typedef struct ck_rec { char tag[5]; unsigned char *p; size_t n; } ck_rec;
typedef struct ck_recs { ck_rec r[16]; int n; } ck_recs;

static void ck_le(unsigned char *at, uint64_t v, int bytes) {
    int i;
    for (i = 0; i < bytes; i++) at[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t ck_get(const unsigned char *at, int bytes) {
    uint64_t v = 0;
    int i;
    for (i = 0; i < bytes; i++) v |= (uint64_t)at[i] << (8 * i);
    return v;
}

/* The records between the magic and END, payloads copied; 0 if malformed. */
static int ck_parse(const unsigned char *b, size_t len, ck_recs *rs) {
    size_t at = 8;
    memset(rs, 0, sizeof *rs);
    if (len < 8 || memcmp(b, "SCNCKPT3", 8)) return 0;
    while (len - at >= 12 && rs->n < 16) {
        uint64_t size = ck_get(b + at + 4, 8);
        ck_rec *r = &rs->r[rs->n];
        if (size > len - at - 12) return 0;
        if (!memcmp(b + at, "END ", 4)) return at + 12 + size == len;
        memcpy(r->tag, b + at, 4);
        r->n = (size_t)size;
        r->p = (unsigned char *)malloc(r->n + 1);
        memcpy(r->p, b + at + 12, r->n);
        rs->n++;
        at += 12 + r->n;
    }
    return 0;
}

/* magic, the records, "END " with the CRC-32 of all before it */
static unsigned char *ck_emit(const ck_recs *rs, size_t *len) {
    size_t n = 8 + 16, at = 8;
    unsigned char *b;
    int i;
    for (i = 0; i < rs->n; i++) n += 12 + rs->r[i].n;
    b = (unsigned char *)malloc(n);
    memcpy(b, "SCNCKPT3", 8);
    for (i = 0; i < rs->n; i++) {
        memcpy(b + at, rs->r[i].tag, 4);
        ck_le(b + at + 4, rs->r[i].n, 8);
        if (rs->r[i].n) memcpy(b + at + 12, rs->r[i].p, rs->r[i].n);
        at += 12 + rs->r[i].n;
    }
    memcpy(b + at, "END ", 4);
    ck_le(b + at + 4, 4, 8);
    ck_le(b + at + 12, scn_crc32(0, b, at), 4);
    *len = n;
    return b;
}

static ck_rec *ck_find(ck_recs *rs, const char *tag) {
    int i;
    for (i = 0; i < rs->n; i++)
        if (!memcmp(rs->r[i].tag, tag, 4)) return &rs->r[i];
    return NULL;
}

static void ck_drop(ck_recs *rs, const char *tag) {
    int i, n = 0;
    for (i = 0; i < rs->n; i++) {
        if (!memcmp(rs->r[i].tag, tag, 4)) { free(rs->r[i].p); continue; }
        rs->r[n++] = rs->r[i];
    }
    rs->n = n;
}

/* the payload to n bytes; new bytes zero */
static void ck_resize(ck_rec *r, size_t n) {
    r->p = (unsigned char *)realloc(r->p, n + 1);
    if (n > r->n) memset(r->p + r->n, 0, n - r->n);
    r->n = n;
}

static void ck_f32(ck_rec *r, size_t at, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if (at + 4 <= r->n) ck_le(r->p + at, u, 4);
}

static void ck_u32(ck_rec *r, size_t at, uint32_t v) { if (at + 4 <= r->n) ck_le(r->p + at, v, 4); }
static void ck_u64(ck_rec *r, size_t at, uint64_t v) { if (at + 8 <= r->n) ck_le(r->p + at, v, 8); }

/* NET's spec (at 32, its length at 28) replaced by n bytes of s */
static void ck_spec(ck_rec *r, const char *s, size_t n) {
    ck_resize(r, 32 + n);
    ck_u32(r, 28, (uint32_t)n);
    memcpy(r->p + 32, s, n);
}

static void ck_free(ck_recs *rs) {
    int i;
    for (i = 0; i < rs->n; i++) free(rs->r[i].p);
    rs->n = 0;
}

/* A version-3 checkpoint built by hand: spec, input shape, nparams zero
 * parameters, no buffers, no state or optimiser. */
static unsigned char *ckpt_build(const char *spec, uint32_t C, uint32_t H, uint32_t W,
                                 uint64_t nparams, size_t *len) {
    ck_recs rs;
    ck_rec *r;
    unsigned char *b;
    memset(&rs, 0, sizeof rs);
    r = &rs.r[rs.n++];
    memcpy(r->tag, "NET ", 4);
    ck_resize(r, 0);
    ck_spec(r, spec, strlen(spec));
    ck_u32(r, 0, C); ck_u32(r, 4, H); ck_u32(r, 8, W);
    ck_u64(r, 12, 0x853c49e6748fea9bULL); ck_u64(r, 20, 0xda3e39cb94b95bdbULL);
    r = &rs.r[rs.n++];
    memcpy(r->tag, "PARM", 4);
    ck_resize(r, 8 + 4 * (size_t)nparams);
    ck_u64(r, 0, nparams);
    r = &rs.r[rs.n++];
    memcpy(r->tag, "BUFF", 4);
    ck_resize(r, 8);
    b = ck_emit(&rs, len);
    ck_free(&rs);
    return b;
}

static void test_bad_checkpoints(void) {
    const char *f, *spec = "sc:n=4,s=2 bn gap linear:n=3";
    scn_net *net = scn_net_create(spec, 3, 8, 8, 1), *back;
    scn_sgd opt, opt2;
    scn_train_state st, st2;
    unsigned char *b, *c;
    size_t len, n2, np;
    ck_recs rs;
    int i;
    CHECK(net != NULL, "net: %s", scn_error());
    if (!net) return;
    np = scn_net_param_count(net);
    memset(&st, 0, sizeof st);
    st.epoch = 3; st.step = 99; st.batch = 16;
    for (i = 0; i < SCN_MAX_CHANNELS; i++) { st.mean[i] = 0.5f; st.std[i] = 0.25f; }
    CHECK(scn_sgd_init(&opt, net, NULL) == SCN_OK, "sgd: %s", scn_error());
    f = P("%s/h/ckpt/good.scn", root);
    mkdirs(f, 0);
    CHECK(scn_checkpoint_save(f, net, &opt, &st) == SCN_OK, "save: %s", scn_error());
    scn_sgd_free(&opt);
    b = read_file(f, &len);
    i = b && ck_parse(b, len, &rs) ? rs.n : -1;
    CHECK(i == 6, "read back %s: %d records", f, i);
    if (i >= 0) ck_free(&rs);
    if (i != 6) { free(b); scn_net_free(net); return; }

    /* edit: code on ck_rec *r (the record tagged tag) and ck_recs cp_;
     * always: 1 if it must fail without an optimiser and a state too
     * (every check but the optimiser's settings) */
#define CKPT_CASE(fname, what, tag, always, edit)                               \
    do {                                                                        \
        const char *p_ = P("%s/h/ckpt/%s", root, fname);                        \
        ck_recs cp_;                                                            \
        ck_rec *r;                                                              \
        unsigned char *e_;                                                      \
        size_t n_;                                                              \
        int k_;                                                                 \
        if (!ck_parse(b, len, &cp_)) break;                                     \
        r = ck_find(&cp_, tag);                                                 \
        if (!r) { ck_free(&cp_); break; }                                       \
        edit;                                                                   \
        e_ = ck_emit(&cp_, &n_);                                                \
        write_file(p_, e_, n_);                                                 \
        for (k_ = 0; k_ < 1 + (always); k_++) {                                 \
            back = scn_checkpoint_load(p_, k_ ? NULL : &opt2, k_ ? NULL : &st2);  \
            CHECK(back == NULL, "checkpoint %s loaded (%s)", what,              \
                  k_ ? "net only" : "with optimiser and state");                \
            CHECK(back || (strstr(scn_error(), p_) != NULL &&                   \
                           !strstr(scn_error(), "checksum")),                   \
                  "checkpoint %s: \"%s\"", what, scn_error());                  \
            if (back && !k_) scn_sgd_free(&opt2);                               \
            scn_net_free(back);                                                 \
        }                                                                       \
        free(e_);                                                               \
        ck_free(&cp_);                                                          \
    } while (0)

    /* the control: the records re-emitted load */
    if (ck_parse(b, len, &rs)) {
        unsigned char *e = ck_emit(&rs, &n2);
        CHECK(n2 == len && !memcmp(e, b, len), "records re-emitted differ");
        f = P("%s/h/ckpt/again.scn", root);
        write_file(f, e, n2);
        back = scn_checkpoint_load(f, &opt2, &st2);
        CHECK(back != NULL, "re-emitted checkpoint: %s", scn_error());
        CHECK(!back || (st2.epoch == 3 && st2.batch == 16 && opt2.count == np),
              "re-emitted checkpoint: epoch %d", st2.epoch);
        if (back) scn_sgd_free(&opt2);
        scn_net_free(back);
        free(e);
        ck_free(&rs);
    }

    /* NET: u32 C, H, W at 0, 4, 8; generator at 12, 20; spec length at 28 */
    CKPT_CASE("c65536.scn", "claiming C = 65536", "NET ", 1, ck_u32(r, 0, 65536));
    CKPT_CASE("c70000.scn", "claiming C = 70000", "NET ", 1, ck_u32(r, 0, 70000));
    CKPT_CASE("cmax.scn", "claiming C = 2^32 - 1", "NET ", 1, ck_u32(r, 0, 0xffffffffu));
    CKPT_CASE("hw.scn", "claiming H = W = 2^20", "NET ", 1,
              (ck_u32(r, 4, 1u << 20), ck_u32(r, 8, 1u << 20)));
    CKPT_CASE("c0.scn", "claiming C = 0", "NET ", 1, ck_u32(r, 0, 0));
    CKPT_CASE("h0.scn", "claiming H = 0", "NET ", 1, ck_u32(r, 4, 0));
    CKPT_CASE("w0.scn", "claiming W = 0", "NET ", 1, ck_u32(r, 8, 0));
    CKPT_CASE("c4.scn", "claiming C = 4", "NET ", 1, ck_u32(r, 0, 4));
    CKPT_CASE("speclen1.scn", "with a spec length one more than the record", "NET ", 1,
              ck_u32(r, 28, (uint32_t)strlen(spec) + 1));
    CKPT_CASE("speclen-1.scn", "with a spec length one less than the record", "NET ", 1,
              ck_u32(r, 28, (uint32_t)strlen(spec) - 1));
    CKPT_CASE("spec0.scn", "with an empty spec", "NET ", 1, ck_spec(r, "", 0));
    CKPT_CASE("specbig.scn", "with a 2^31-byte spec length", "NET ", 1, ck_u32(r, 28, 1u << 31));
    CKPT_CASE("specmax.scn", "with a 2^32-1-byte spec length", "NET ", 1,
              ck_u32(r, 28, 0xffffffffu));
    CKPT_CASE("net31.scn", "with a NET record of 31 bytes", "NET ", 1, ck_resize(r, 31));
    CKPT_CASE("net12.scn", "with a NET record of 12 bytes", "NET ", 1, ck_resize(r, 12));
    CKPT_CASE("net0.scn", "with an empty NET record", "NET ", 1, ck_resize(r, 0));
    CKPT_CASE("spec.scn", "with a spec that fails", "NET ", 1, memcpy(r->p + 32, "zz", 2));
    CKPT_CASE("specn.scn", "with a spec that builds more parameters (linear:n=4)", "NET ", 1,
              ck_spec(r, "sc:n=4,s=2 bn gap linear:n=4", strlen(spec)));
    CKPT_CASE("specbn.scn", "with a spec without its bn layer", "NET ", 1,
              ck_spec(r, "sc:n=4,s=2 gap linear:n=3", strlen("sc:n=4,s=2 gap linear:n=3")));
    CKPT_CASE("specnul.scn", "with a NUL inside the spec", "NET ", 1,
              r->p[32 + 6] = '\0');
    CKPT_CASE("specpreset.scn", "with a preset of other sizes as spec", "NET ", 1,
              ck_spec(r, "lenet", 5));
    {
        char *longspec = (char *)malloc(70001);
        if (longspec) {
            memset(longspec, ' ', 70000);
            memcpy(longspec, spec, strlen(spec));
            CKPT_CASE("speclong.scn", "with a spec of 70000 bytes", "NET ", 1,
                      ck_spec(r, longspec, 70000));
            free(longspec);
        }
    }

    /* PARM, BUFF: u64 count at 0, the floats at 8 */
    CKPT_CASE("np1.scn", "claiming one parameter more", "PARM", 1, ck_u64(r, 0, np + 1));
    CKPT_CASE("np-1.scn", "claiming one parameter less", "PARM", 1, ck_u64(r, 0, np - 1));
    CKPT_CASE("np.scn", "claiming 2^40 parameters", "PARM", 1, ck_u64(r, 0, 1ull << 40));
    CKPT_CASE("np63.scn", "claiming 2^63 parameters", "PARM", 1, ck_u64(r, 0, 1ull << 63));
    CKPT_CASE("npmax.scn", "claiming 2^64-1 parameters", "PARM", 1, ck_u64(r, 0, ~0ull));
    CKPT_CASE("npless.scn", "with one parameter fewer than the spec builds", "PARM", 1,
              (ck_resize(r, r->n - 4), ck_u64(r, 0, np - 1)));
    CKPT_CASE("npnone.scn", "with no parameters", "PARM", 1, (ck_resize(r, 8), ck_u64(r, 0, 0)));
    CKPT_CASE("npodd.scn", "with a PARM record of 4k+2 bytes", "PARM", 1, ck_resize(r, r->n + 2));
    CKPT_CASE("parm4.scn", "with a PARM record of 4 bytes", "PARM", 1, ck_resize(r, 4));
    CKPT_CASE("parm0.scn", "with an empty PARM record", "PARM", 1, ck_resize(r, 0));
    CKPT_CASE("nb1.scn", "claiming one buffer value more", "BUFF", 1,
              ck_u64(r, 0, ck_get(r->p, 8) + 1));
    CKPT_CASE("nbless.scn", "with one buffer value fewer than the spec builds", "BUFF", 1,
              (ck_resize(r, r->n - 4), ck_u64(r, 0, ck_get(r->p, 8) - 1)));
    CKPT_CASE("nbmore.scn", "with one buffer value more than the spec builds", "BUFF", 1,
              (ck_resize(r, r->n + 4), ck_u64(r, 0, ck_get(r->p, 8) + 1)));
    CKPT_CASE("nb62.scn", "claiming 2^62 buffer values", "BUFF", 1, ck_u64(r, 0, 1ull << 62));

    /* NORM: u32 channels, the means, the stds */
    CKPT_CASE("std0.scn", "with a zero std", "NORM", 1, ck_f32(r, 4 + 4 * 3 + 4, 0.0f));
    CKPT_CASE("nan.scn", "with a NaN mean", "NORM", 1, ck_f32(r, 4, NAN));
    CKPT_CASE("nanstd.scn", "with a NaN std", "NORM", 1, ck_f32(r, 4 + 4 * 3, NAN));
    CKPT_CASE("neg.scn", "with a negative std", "NORM", 1, ck_f32(r, 4 + 4 * 3 + 8, -1.0f));
    CKPT_CASE("infstd.scn", "with an Inf std", "NORM", 1, ck_f32(r, 4 + 4 * 3 + 4, INFINITY));
    CKPT_CASE("infmean.scn", "with an Inf mean", "NORM", 1, ck_f32(r, 4 + 4, -INFINITY));
    CKPT_CASE("norm17.scn", "with 17 channels of normalisation", "NORM", 1, {
        ck_resize(r, 4 + 8 * 17);
        ck_u32(r, 0, 17);
        for (i = 0; i < 17; i++) ck_f32(r, 4 + 4 * 17 + 4 * (size_t)i, 1.0f);
    });
    CKPT_CASE("normmax.scn", "claiming 2^32-1 channels", "NORM", 1, ck_u32(r, 0, 0xffffffffu));
    CKPT_CASE("norm2.scn", "claiming 2 channels in a record of 3", "NORM", 1, ck_u32(r, 0, 2));
    CKPT_CASE("norm4.scn", "claiming 4 channels in a record of 3", "NORM", 1, ck_u32(r, 0, 4));
    CKPT_CASE("norm3b.scn", "with a NORM record of 3 bytes", "NORM", 1, ck_resize(r, 3));
    CKPT_CASE("normx.scn", "with a NORM record 4 bytes long", "NORM", 1, ck_resize(r, r->n + 4));

    /* TRST: i32 epoch, i64 step, u64 state, u64 inc, i32 batch */
    CKPT_CASE("epoch-1.scn", "with epoch -1", "TRST", 1, ck_u32(r, 0, 0xffffffffu));
    CKPT_CASE("epochmin.scn", "with epoch -2^31", "TRST", 1, ck_u32(r, 0, 0x80000000u));
    CKPT_CASE("step-1.scn", "with step -1", "TRST", 1, ck_u64(r, 4, ~0ull));
    CKPT_CASE("batch-1.scn", "with batch -1", "TRST", 1, ck_u32(r, 28, 0xffffffffu));
    CKPT_CASE("trst28.scn", "with a TRST record of 28 bytes", "TRST", 1, ck_resize(r, 28));
    CKPT_CASE("trst36.scn", "with a TRST record of 36 bytes", "TRST", 1, ck_resize(r, 36));
    CKPT_CASE("trst0.scn", "with an empty TRST record", "TRST", 1, ck_resize(r, 0));

    /* SGD: f32 lr, momentum, decay, gamma at 0-12; i32 nesterov, schedule,
     * epochs at 16-24; milestones at 28; i64 steps at 60; u64 count at 68;
     * the velocity at 76 */
    CKPT_CASE("sgdshort.scn", "with an SGD record one byte short", "SGD ", 1,
              ck_resize(r, r->n - 1));
    CKPT_CASE("sgd10.scn", "with an SGD record of 10 bytes", "SGD ", 1, ck_resize(r, 10));
    CKPT_CASE("sgdnv1.scn", "claiming one velocity more", "SGD ", 1, ck_u64(r, 68, np + 1));
    CKPT_CASE("sgdnv62.scn", "claiming 2^62 velocities", "SGD ", 1, ck_u64(r, 68, 1ull << 62));
    CKPT_CASE("sgdsteps.scn", "with steps -1", "SGD ", 1, ck_u64(r, 60, ~0ull));
    CKPT_CASE("sgdless.scn", "with one velocity fewer than parameters", "SGD ", 0,
              (ck_resize(r, r->n - 4), ck_u64(r, 68, np - 1)));
    CKPT_CASE("sgdnone.scn", "with no velocity", "SGD ", 0, (ck_resize(r, 76), ck_u64(r, 68, 0)));
    CKPT_CASE("lr.scn", "with lr -1", "SGD ", 0, ck_f32(r, 0, -1.0f));
    CKPT_CASE("lrnan.scn", "with lr NaN", "SGD ", 0, ck_f32(r, 0, NAN));
    CKPT_CASE("mom.scn", "with momentum 1.5", "SGD ", 0, ck_f32(r, 4, 1.5f));
    CKPT_CASE("momnan.scn", "with momentum NaN", "SGD ", 0, ck_f32(r, 4, NAN));
    CKPT_CASE("sched.scn", "with schedule 7", "SGD ", 0, ck_u32(r, 20, 7));
    CKPT_CASE("cos0.scn", "with a cosine schedule over 0 epochs", "SGD ", 0,
              (ck_u32(r, 20, SCN_LR_COSINE), ck_u32(r, 24, 0)));
    CKPT_CASE("velnan.scn", "with a NaN velocity", "SGD ", 0, ck_f32(r, 76 + 4, NAN));
    CKPT_CASE("velinf.scn", "with an Inf velocity", "SGD ", 0,
              ck_f32(r, 76 + 4 * (np - 1), INFINITY));

    /* whole records missing, another magic */
    CKPT_CASE("nonet.scn", "without a NET record", "NET ", 1, ck_drop(&cp_, "NET "));
    CKPT_CASE("noparm.scn", "without a PARM record", "PARM", 1, ck_drop(&cp_, "PARM"));
    CKPT_CASE("nobuff.scn", "without a BUFF record", "BUFF", 1, ck_drop(&cp_, "BUFF"));
    CKPT_CASE("nonorm.scn", "without a NORM record", "NORM", 0, ck_drop(&cp_, "NORM"));
    CKPT_CASE("notrst.scn", "without a TRST record", "TRST", 0, ck_drop(&cp_, "TRST"));
    CKPT_CASE("nosgd.scn", "without an SGD record", "SGD ", 0, ck_drop(&cp_, "SGD "));
    CKPT_CASE("unknown.scn", "with an unknown critical record", "NET ", 1,
              memcpy(cp_.r[cp_.n - 1].tag, "Xtra", 4));

    /* raw edits: bytes after END, END of 8 bytes, a version-4 magic */
    c = (unsigned char *)malloc(len + 64);
    f = P("%s/h/ckpt/extra.scn", root);
    memcpy(c, b, len);
    memset(c + len, 0, 16);
    write_file(f, c, len + 16);
    back = scn_checkpoint_load(f, NULL, NULL);
    CHECK(back == NULL && strstr(scn_error(), f), "checkpoint with 16 bytes appended: %s",
          back ? "loaded" : scn_error());
    scn_net_free(back);
    f = P("%s/h/ckpt/end8.scn", root);
    ck_le(c + len - 12, 8, 8);
    write_file(f, c, len + 4);
    back = scn_checkpoint_load(f, NULL, NULL);
    CHECK(back == NULL && strstr(scn_error(), f), "checkpoint with an 8-byte END: %s",
          back ? "loaded" : scn_error());
    scn_net_free(back);
    f = P("%s/h/ckpt/v4.scn", root);
    memcpy(c, b, len);
    memcpy(c, "SCNCKPT4", 8);
    ck_le(c + len - 4, scn_crc32(0, c, len - 16), 4);
    write_file(f, c, len);
    back = scn_checkpoint_load(f, NULL, NULL);
    CHECK(back == NULL && strstr(scn_error(), f), "checkpoint of version 4: %s",
          back ? "loaded" : scn_error());
    scn_net_free(back);
    free(c);
    free(b);

    /* hand-built: a control that loads, then an input of 65536^3 values,
       which flatten's int arithmetic would wrap to 0 features */
    b = ckpt_build("flatten linear:n=2", 1, 2, 2, 10, &n2);
    f = P("%s/h/ckpt/flat_ok.scn", root);
    if (b) write_file(f, b, n2);
    back = scn_checkpoint_load(f, NULL, NULL);
    CHECK(back != NULL, "hand-built checkpoint (1x2x2, flatten linear:n=2): %s", scn_error());
    scn_net_free(back);
    free(b);
    b = ckpt_build("flatten linear:n=2", 65536, 65536, 65536, 2, &n2);
    f = P("%s/h/ckpt/flat_huge.scn", root);
    if (b) write_file(f, b, n2);
    back = scn_checkpoint_load(f, NULL, NULL);
    CHECK(back == NULL, "a checkpoint of input 65536x65536x65536 with 'flatten linear:n=2' "
          "and %d parameters loaded (flatten's features, 2^48, wrapped in int)",
          back ? (int)scn_net_param_count(back) : 2);
    CHECK(back != NULL || strstr(scn_error(), f) != NULL, "flat_huge: \"%s\"", scn_error());
    scn_net_free(back);
    free(b);
    scn_net_free(net);
#undef CKPT_CASE
}

/* ================================ stats, normalisation, augmentation, subsets */

static void test_stats(void) {
    /* 4 CIFAR-10 items: R is 0 or 255 half and half, G all 255, B 0 on a
       quarter of the pixels: means .5 1 .75, stds .5 1 (constant) sqrt(.1875) */
    const char *d = P("%s/stats", root);
    unsigned char *b;
    size_t len;
    int i, j;
    float mean[3], std[3];
    scn_dataset *ds;
    b = cifar_bytes(0, 4, 0, 1, &len);
    if (!b) return;
    for (i = 0; i < 4; i++) {
        unsigned char *p = b + 3073 * (size_t)i + 1;
        for (j = 0; j < 1024; j++) {
            p[j] = (unsigned char)((i + j) % 2 ? 255 : 0);
            p[1024 + j] = 255;
            p[2048 + j] = (unsigned char)((j * 7 + i) % 4 == 0 ? 0 : 255);
        }
    }
    write_file(P("%s/data_batch_1.bin", d), b, len);
    write_file(P("%s/test_batch.bin", d), b, len);
    free(b);
    ds = scn_dataset_open(d, "train", NULL);
    CHECK(ds != NULL, "stats set: %s", scn_error());
    if (!ds) return;
    CHECK(scn_dataset_stats(ds, mean, std) == SCN_OK, "stats: %s", scn_error());
    CHECK(mean[0] == 0.5f && mean[1] == 1.0f && mean[2] == 0.75f, "means %.9g %.9g %.9g, want "
          ".5 1 .75", (double)mean[0], (double)mean[1], (double)mean[2]);
    CHECK(std[0] == 0.5f && std[1] == 1.0f && std[2] == (float)sqrt(0.1875),
          "stds %.9g %.9g %.9g, want .5 1 %.9g", (double)std[0], (double)std[1],
          (double)std[2], sqrt(0.1875));
    /* normalising the whole set with them: every channel mean 0 */
    {
        int idx[4] = {0, 1, 2, 3}, c;
        float *x = (float *)malloc(4 * 3072 * sizeof *x);
        double s[3] = {0, 0, 0};
        if (x && scn_dataset_read(ds, idx, 4, x, NULL) == SCN_OK) {
            scn_normalize(x, 4, 3, 1024, mean, std);
            for (i = 0; i < 4; i++)
                for (c = 0; c < 3; c++)
                    for (j = 0; j < 1024; j++) s[c] += x[(i * 3 + c) * 1024 + j];
            CHECK(s[0] == 0.0 && s[1] == 0.0 && fabs(s[2]) < 1e-3, "normalised sums %g %g %g",
                  s[0], s[1], s[2]);
            CHECK(x[0] == -1.0f && x[1] == 1.0f && x[1024] == 0.0f,
                  "normalised R %g %g, G %g", (double)x[0], (double)x[1], (double)x[1024]);
        }
        free(x);
    }
    scn_dataset_close(ds);
}

static void test_normalize(void) {
    float x[2 * 3 * 4], want[2 * 3 * 4];
    const float mean[3] = {0.5f, 1.0f, 0.25f}, std[3] = {0.5f, 2.0f, 0.125f};
    int b, c, j;
    for (b = 0; b < 2; b++)
        for (c = 0; c < 3; c++)
            for (j = 0; j < 4; j++) {
                x[(b * 3 + c) * 4 + j] = (float)(b + j) * 0.25f + (float)c;
                want[(b * 3 + c) * 4 + j] = (x[(b * 3 + c) * 4 + j] - mean[c]) / std[c];
            }
    scn_normalize(x, 2, 3, 4, mean, std);
    CHECK(!memcmp(x, want, sizeof x), "normalize per channel: x[5] %g want %g, x[22] %g want %g",
          (double)x[5], (double)want[5], (double)x[22], (double)want[22]);
}

/* Whether out is in shifted by (dy, dx) (zeros coming in), mirrored if f:
 * out(i, j) = in(i + dy, (f ? W-1-j : j) + dx). */
static int is_shift(const float *in, const float *out, int C, int H, int W, int dy, int dx,
                    int f) {
    int c, i, j;
    for (c = 0; c < C; c++)
        for (i = 0; i < H; i++)
            for (j = 0; j < W; j++) {
                int si = i + dy, sj = (f ? W - 1 - j : j) + dx;
                float e = si >= 0 && si < H && sj >= 0 && sj < W ?
                          in[((size_t)c * H + si) * W + sj] : 0.0f;
                if (out[((size_t)c * H + i) * W + j] != e) return 0;
            }
    return 1;
}

static void test_augment(void) {
    enum { N = 64, C = 2, H = 5, W = 7, ITEM = C * H * W };
    static float in[N * ITEM], out[N * ITEM], out2[N * ITEM];
    scn_rng r, r2;
    int b, i, pad, flip, seen[2], offsets[5][5];
    for (i = 0; i < N * ITEM; i++) in[i] = 0.1f + (float)(pix(i, 0, 0, 0, 13) % 200) / 256.0f;

    scn_rng_seed(&r, 5, 1);
    memcpy(out, in, sizeof in);
    CHECK(scn_augment(out, N, C, H, W, 0, 0, &r) == SCN_OK && !memcmp(out, in, sizeof in),
          "augment pad 0 flip 0 is not the identity");
    CHECK(scn_augment(out, N, C, H, W, -1, 0, &r) == SCN_ERR_ARG, "augment pad -1 accepted");
    CHECK(scn_augment(out, N, 0, H, W, 1, 0, &r) == SCN_ERR_ARG, "augment C 0 accepted");

    /* flip only: each item unchanged or mirrored, both happen */
    memcpy(out, in, sizeof in);
    CHECK(scn_augment(out, N, C, H, W, 0, 1, &r) == SCN_OK, "flip: %s", scn_error());
    seen[0] = seen[1] = 0;
    for (b = 0; b < N; b++) {
        const float *x = in + b * ITEM, *y = out + b * ITEM;
        int same = is_shift(x, y, C, H, W, 0, 0, 0), mirrored = is_shift(x, y, C, H, W, 0, 0, 1);
        CHECK(same || mirrored, "flip: item %d neither unchanged nor mirrored", b);
        seen[mirrored]++;
    }
    CHECK(seen[0] > 8 && seen[1] > 8, "flip: %d unchanged, %d mirrored of %d", seen[0], seen[1], N);

    /* crop (pad 2), without and with flip: shifted copies, offsets in range */
    for (flip = 0; flip <= 1; flip++) {
        int bad = 0, nflip = 0, distinct = 0;
        pad = 2;
        memset(offsets, 0, sizeof offsets);
        memcpy(out, in, sizeof in);
        scn_rng_seed(&r, 77, 3);
        r2 = r;
        CHECK(scn_augment(out, N, C, H, W, pad, flip, &r) == SCN_OK, "crop: %s", scn_error());
        for (b = 0; b < N; b++) {
            const float *x = in + b * ITEM, *y = out + b * ITEM;
            int found = 0, dy, dx, f;
            for (f = 0; f <= flip && !found; f++)
                for (dy = -pad; dy <= pad && !found; dy++)
                    for (dx = -pad; dx <= pad && !found; dx++)
                        if (is_shift(x, y, C, H, W, dy, dx, f)) {
                            found = 1;
                            offsets[dy + pad][dx + pad]++;
                            nflip += f;
                        }
            bad += !found;
        }
        for (i = 0; i < 25; i++) distinct += offsets[i / 5][i % 5] > 0;
        CHECK(bad == 0, "crop pad 2 flip %d: %d items are not a shifted copy", flip, bad);
        CHECK(distinct >= 10, "crop pad 2 flip %d: only %d distinct offsets in %d items", flip,
              distinct, N);
        CHECK(!flip || (nflip > 8 && nflip < N - 8), "crop + flip: %d of %d flipped", nflip, N);
        /* the same generator state gives the same batch */
        memcpy(out2, in, sizeof in);
        CHECK(scn_augment(out2, N, C, H, W, pad, flip, &r2) == SCN_OK &&
              !memcmp(out, out2, sizeof out), "crop flip %d: same seed, different result", flip);
        CHECK(r.state == r2.state, "crop flip %d: generator states differ after", flip);
    }
    /* pad larger than the image: still only zeros and shifted values */
    memcpy(out, in, sizeof in);
    scn_rng_seed(&r, 9, 9);
    CHECK(scn_augment(out, 4, C, H, W, 8, 1, &r) == SCN_OK, "pad 8: %s", scn_error());
}

static scn_status fake_read(scn_dataset *ds, const int *idx, int n, float *x,
                            unsigned char *labels) {
    int i;
    for (i = 0; i < n; i++) {
        x[i] = (float)idx[i];
        if (labels) labels[i] = ds->labels[idx[i]];
    }
    return SCN_OK;
}

static void test_per_class(void) {
    /* 50 items of 4 classes: 20, 15, 10 and 5 of them, interleaved */
    static unsigned char lab[50];
    static const int want_count[4] = {20, 15, 10, 5};
    int have[4] = {0, 0, 0, 0}, idx[40], idx2[40], idx3[40], i, n, k, c, ok, differ = 0;
    scn_dataset ds;
    scn_rng r;
    for (i = 0; i < 50; i++) {
        c = i % 4;
        while (have[c] == want_count[c]) c = (c + 1) % 4;
        lab[i] = (unsigned char)c;
        have[c]++;
    }
    memset(&ds, 0, sizeof ds);
    ds.count = 50; ds.C = ds.H = ds.W = 1; ds.classes = 4; ds.labels = lab;
    strcpy(ds.format, "fake");
    ds.read = fake_read;
    for (k = 1; k <= 5; k++) {
        int per[4] = {0, 0, 0, 0};
        scn_rng_seed(&r, 42, 7);
        n = scn_dataset_per_class(&ds, k, &r, idx);
        CHECK(n == 4 * k, "per class k %d: %d items (%s)", k, n, n < 0 ? scn_error() : "");
        if (n != 4 * k) continue;
        ok = 1;
        for (i = 0; i < n; i++) {
            if (idx[i] < 0 || idx[i] >= 50 || (i && idx[i] <= idx[i - 1])) ok = 0;
            else per[lab[idx[i]]]++;
        }
        CHECK(ok, "per class k %d: indices not ascending and in range", k);
        CHECK(per[0] == k && per[1] == k && per[2] == k && per[3] == k,
              "per class k %d: %d %d %d %d of each", k, per[0], per[1], per[2], per[3]);
        scn_rng_seed(&r, 42, 7);
        CHECK(scn_dataset_per_class(&ds, k, &r, idx2) == n && !memcmp(idx, idx2, n * sizeof *idx),
              "per class k %d: the same seed gives another subset", k);
        scn_rng_seed(&r, 43, 7);
        if (scn_dataset_per_class(&ds, k, &r, idx3) == n && memcmp(idx, idx3, n * sizeof *idx))
            differ++;
    }
    CHECK(differ >= 3, "per class: another seed gave the same subset %d of 4 times", 5 - differ);
    scn_rng_seed(&r, 42, 7);
    CHECK(scn_dataset_per_class(&ds, 6, &r, idx) == -1 && strstr(scn_error(), "class 3"),
          "per class k 6 (class 3 has 5): \"%s\"", scn_error());
    CHECK(scn_dataset_per_class(&ds, 0, &r, idx) == -1, "per class k 0 accepted");
    ds.labels = NULL; ds.classes = 0;
    CHECK(scn_dataset_per_class(&ds, 1, &r, idx) == -1, "per class without labels accepted");
    /* through the interface's read and stats */
    ds.labels = lab; ds.classes = 4;
    {
        float m, s, x[3];
        unsigned char y[3];
        int j[3] = {49, 0, 7};
        CHECK(scn_dataset_read(&ds, j, 3, x, y) == SCN_OK && x[0] == 49.0f && y[0] == lab[49] &&
              y[2] == lab[7], "custom data set read");
        CHECK(scn_dataset_stats(&ds, &m, &s) == SCN_OK && m == 24.5f &&
              fabsf(s - (float)sqrt((50.0 * 50.0 - 1.0) / 12.0)) < 1e-5f,
              "stats of 0..49: mean %g std %g", (double)m, (double)s);
    }
}

/* ============================================================ --write */

static int write_sets(const char *dir) {
    int c, i;
    const char *d;
    mkdirs(dir, 1);
    /* idx: 40 + 20 of 28x28 */
    write_idx(P("%s/idx", dir), "train", 0, 40, 28, 21);
    write_idx(P("%s/idx", dir), "t10k", 100, 20, 28, 21);
    /* cifar10: five batches of 8, 20 test */
    write_cifar10(P("%s/cifar10", dir), 5, 8, 20, 22);
    /* cifar100: 40 + 20 */
    write_cifar(P("%s/cifar100/train.bin", dir), 0, 40, 1, 23);
    write_cifar(P("%s/cifar100/test.bin", dir), 100, 20, 1, 23);
    /* stl10: 40 + 20 + 10 unlabeled */
    d = P("%s/stl10", dir);
    write_stl(d, "train", 0, 40, 1, 24);
    write_stl(d, "test", 100, 20, 1, 24);
    write_stl(d, "unlabeled", 200, 10, 0, 24);
    /* amat: 40 + 20 of 28x28 */
    write_amat(P("%s/amat/mnist_rot_train.amat", dir), 0, 40, 28, 0, 1, 25);
    write_amat(P("%s/amat/mnist_rot_test.amat", dir), 100, 20, 28, 0, 1, 25);
    /* folder: 10 classes, 4 + 2 RGB PNGs of 16x16 each */
    for (c = 0; c < 10; c++)
        for (i = 0; i < 6; i++)
            write_image(P("%s/folder/%s/c%d/%d.png", dir, i < 4 ? "train" : "test", c, i),
                        c * 10 + i, 16, 16, 3, 26, 'p');
    return check_failures != 0;
}

/* ============================================================== main */

int main(int argc, char **argv) {
    if (argc == 3 && !strcmp(argv[1], "--write")) return write_sets(argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--write DIR]\n", argv[0]);
        return 2;
    }
    strcpy(root, "/tmp/scn_test_data.XXXXXX");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    test_cifar10();
    test_cifar100();
    test_stl10();
    test_amat();
#ifdef SCN__STB
    test_folders();
#endif
    test_idx_detect();
    test_detect_errors();
    test_bad_cifar();
    test_bad_stl();
    test_bad_amat();
#ifdef SCN__STB
    test_bad_images();
#endif
    test_bad_npy();
    test_bad_checkpoints();
    test_stats();
    test_normalize();
    test_augment();
    test_per_class();
    rm_rf(root);
    if (getenv("SCN_TEST_VERBOSE")) printf("data: %d checks\n", check_count);
    return check_summary("data");
}
