/* make_corpus.c - writes the seed corpus of the fuzz targets: small valid
 * inputs for each, in the layout its target expects (see the comment at the
 * top of each fuzz_*.c for the selector bytes). Run by fuzz/make_corpus.sh:
 *
 *     make_corpus OUTDIR        (writes OUTDIR/<target>/<seed>)
 *
 * Deterministic: the same seeds every time. gzip data comes from
 * `gzip -n -9` (no name, no time stamp) and from hand-built members with
 * stored blocks and every optional header field. Images come from
 * stb_image_write (Debian: libstb-dev). */
#define SCN_IMPLEMENTATION
#include "../scn.h"
#define STB_IMAGE_WRITE_IMPLEMENTATION
#define STBIW_ASSERT(x) ((void)0)
#include <stb/stb_image_write.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *outdir;
static char scratch[256];           /* mkdtemp directory for temporary files */

/* ---- a growable byte buffer ---- */

typedef struct buf { unsigned char *p; size_t n, cap; } buf;

static void put(buf *b, const void *data, size_t n) {
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = (unsigned char *)realloc(b->p, b->cap);
        if (!b->p) { perror("realloc"); exit(1); }
    }
    if (n) memcpy(b->p + b->n, data, n);
    b->n += n;
}
static void put1(buf *b, unsigned v) { unsigned char c = (unsigned char)v; put(b, &c, 1); }
static void put_le16(buf *b, unsigned v) { put1(b, v & 0xff); put1(b, (v >> 8) & 0xff); }
static void put_le32(buf *b, uint32_t v) { put_le16(b, v & 0xffff); put_le16(b, v >> 16); }
static void put_be32(buf *b, uint32_t v) {
    put1(b, v >> 24); put1(b, (v >> 16) & 0xff); put1(b, (v >> 8) & 0xff); put1(b, v & 0xff);
}
static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }
static void reset(buf *b) { b->n = 0; }

static uint32_t rng = 12345;
static unsigned rnd(void) { rng = rng * 1103515245u + 12345u; return (rng >> 16) & 0x7fff; }

/* ---- output ---- */

static void mkdir_p(const char *p) {
    if (mkdir(p, 0755) != 0 && errno != EEXIST) { perror(p); exit(1); }
}

static void seed(const char *target, const char *name, const void *data, size_t n) {
    char p[512];
    FILE *f;
    snprintf(p, sizeof p, "%s/%s", outdir, target);
    mkdir_p(p);
    snprintf(p, sizeof p, "%s/%s/%s", outdir, target, name);
    f = fopen(p, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) { perror(p); exit(1); }
}

/* prefix bytes, then data */
static void seedp(const char *target, const char *name, const void *pre, size_t np,
                  const void *data, size_t n) {
    buf b = {0};
    put(&b, pre, np);
    put(&b, data, n);
    seed(target, name, b.p, b.n);
    free(b.p);
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    buf b = {0};
    unsigned char tmp[4096];
    size_t got;
    if (!f) { perror(path); exit(1); }
    while ((got = fread(tmp, 1, sizeof tmp, f)) > 0) put(&b, tmp, got);
    fclose(f);
    *n = b.n;
    put1(&b, 0);
    return b.p;
}

static const char *tmp_path(const char *name) {
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", scratch, name);
    return p;
}

/* gzip -n -level of data, into out */
static void gzip_n(const void *data, size_t n, int level, buf *out) {
    char cmd[700];
    FILE *f, *p;
    unsigned char tmp[4096];
    size_t got;
    f = fopen(tmp_path("gz.in"), "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) { perror("gz.in"); exit(1); }
    snprintf(cmd, sizeof cmd, "gzip -n -%d -c '%s'", level, tmp_path("gz.in"));
    p = popen(cmd, "r");
    if (!p) { perror("popen gzip"); exit(1); }
    reset(out);
    while ((got = fread(tmp, 1, sizeof tmp, p)) > 0) put(out, tmp, got);
    if (pclose(p) != 0 || out->n < 18) { fprintf(stderr, "gzip failed\n"); exit(1); }
}

/* A gzip member by hand: stored deflate blocks, the optional header
 * fields flg asks for (FEXTRA 4, FNAME 8, FCOMMENT 16, FHCRC 2). */
static void gzip_stored(const void *data, size_t n, int flg, buf *out) {
    const unsigned char *d = (const unsigned char *)data;
    size_t at = 0;
    reset(out);
    put1(out, 0x1f); put1(out, 0x8b); put1(out, 8); put1(out, flg);
    put_le32(out, 0); put1(out, 0); put1(out, 3);
    if (flg & 4) { put_le16(out, 6); puts_(out, "ab\002\000xy"); }
    if (flg & 8) { puts_(out, "seed.bin"); put1(out, 0); }
    if (flg & 16) { puts_(out, "a comment"); put1(out, 0); }
    if (flg & 2) put_le16(out, scn_crc32(0, out->p, out->n) & 0xffff);
    do {                                    /* blocks of at most 1000 bytes */
        size_t k = n - at > 1000 ? 1000 : n - at;
        put1(out, at + k == n ? 1 : 0);     /* BFINAL, BTYPE 00 */
        put_le16(out, (unsigned)k);
        put_le16(out, (unsigned)~k & 0xffff);
        put(out, d + at, k);
        at += k;
    } while (at < n);
    put_le32(out, scn_crc32(0, data, n));
    put_le32(out, (uint32_t)n);
}

/* ---- .npy ---- */

static void npy(const char *name, int major, const char *dict, int elem, size_t count) {
    buf b = {0}, h = {0};
    size_t pre = major == 1 ? 10 : 12, i;
    puts_(&h, dict);
    while ((pre + h.n + 1) % 64) put1(&h, ' ');
    put1(&h, '\n');
    put(&b, "\x93NUMPY", 6);
    put1(&b, major); put1(&b, 0);
    if (major == 1) put_le16(&b, (unsigned)h.n); else put_le32(&b, (uint32_t)h.n);
    put(&b, h.p, h.n);
    for (i = 0; i < count; i++) {
        if (elem == 4) { float f = (float)i * 0.5f - 1.0f; put(&b, &f, 4); }
        else { double d = (double)i * 0.25 + 1.0; put(&b, &d, 8); }
    }
    seed("fuzz_npy", name, b.p, b.n);
    free(b.p);
    free(h.p);
}

static void make_npy(void) {
    int shapes[3][4] = {{2, 3}, {5}, {1, 2, 2, 1}};
    int nd[3] = {2, 1, 4}, k;
    const char *names[3] = {"save_2x3.npy", "save_5.npy", "save_1x2x2x1.npy"};
    for (k = 0; k < 3; k++) {
        scn_tensor *t = scn_tensor_create(nd[k], shapes[k]);
        size_t i, n;
        unsigned char *bytes;
        for (i = 0; i < t->size; i++) t->data[i] = (float)i - 1.5f;
        if (scn_npy_save(tmp_path("t.npy"), t) != SCN_OK) { fprintf(stderr, "%s\n", scn_error()); exit(1); }
        scn_tensor_free(t);
        bytes = slurp(tmp_path("t.npy"), &n);
        seed("fuzz_npy", names[k], bytes, n);
        free(bytes);
    }
    npy("v1_f8_2x2.npy", 1, "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 8, 4);
    npy("v2_f4_3.npy", 2, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", 4, 3);
    npy("v3_f4_0d.npy", 3, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", 4, 1);
    npy("v1_eq_f8_long.npy", 1, "{\"shape\": (2L, 1L), \"fortran_order\": False, \"descr\": \"=f8\"}",
        8, 2);
    npy("v1_f4_0x3.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", 4, 0);
}

/* ---- IDX and gzip ---- */

static void idx_images(buf *b, int count, int rows, int cols) {
    int i;
    reset(b);
    put_be32(b, 0x803); put_be32(b, count); put_be32(b, rows); put_be32(b, cols);
    for (i = 0; i < count * rows * cols; i++) put1(b, (i * 37 + 11) & 0xff);
}

static void idx_labels(buf *b, int count) {
    int i;
    reset(b);
    put_be32(b, 0x801); put_be32(b, count);
    for (i = 0; i < count; i++) put1(b, (i * 3 + 1) % 10);
}

static void idx_pair(const char *name, int mode, const buf *img, const buf *lab) {
    buf b = {0};
    put1(&b, mode);
    put_le16(&b, (unsigned)img->n);
    put(&b, img->p, img->n);
    put(&b, lab->p, lab->n);
    seed("fuzz_idx", name, b.p, b.n);
    free(b.p);
}

static void make_idx_gunzip(void) {
    buf img = {0}, lab = {0}, gimg = {0}, glab = {0}, g = {0}, d = {0};
    unsigned char m0 = 0, m1 = 1;
    int i;
    idx_images(&img, 3, 4, 5);
    idx_labels(&lab, 3);
    gzip_n(img.p, img.n, 9, &gimg);
    gzip_n(lab.p, lab.n, 9, &glab);
    seedp("fuzz_idx", "images_raw", &m0, 1, img.p, img.n);
    seedp("fuzz_idx", "images_gz", &m0, 1, gimg.p, gimg.n);
    seedp("fuzz_idx", "labels_raw", &m1, 1, lab.p, lab.n);
    seedp("fuzz_idx", "labels_gz", &m1, 1, glab.p, glab.n);
    idx_pair("set_raw", 2, &img, &lab);
    idx_pair("set_gz", 2, &gimg, &glab);
    idx_pair("dataset_raw", 3, &img, &lab);
    idx_pair("dataset_gz", 3, &gimg, &glab);
    gzip_stored(img.p, img.n, 2 | 4 | 8 | 16, &g);
    idx_pair("dataset_gz_stored", 3, &g, &glab);
    idx_images(&img, 2, 28, 28);
    idx_labels(&lab, 2);
    gzip_n(img.p, img.n, 6, &gimg);
    idx_pair("set_28x28_gz", 2, &gimg, &lab);

    /* gunzip: gzip -n at several levels, of text, zeros, noise, nothing */
    for (i = 0; i < 40; i++) puts_(&d, "the quick brown fox jumps over the lazy dog ");
    gzip_n(d.p, d.n, 9, &g); seed("fuzz_gunzip", "text_9.gz", g.p, g.n);
    gzip_n(d.p, d.n, 1, &g); seed("fuzz_gunzip", "text_1.gz", g.p, g.n);
    reset(&d);
    for (i = 0; i < 3000; i++) put1(&d, 0);
    gzip_n(d.p, d.n, 9, &g); seed("fuzz_gunzip", "zeros.gz", g.p, g.n);
    reset(&d);
    for (i = 0; i < 600; i++) put1(&d, rnd() & 0xff);
    gzip_n(d.p, d.n, 9, &g); seed("fuzz_gunzip", "noise.gz", g.p, g.n);
    gzip_stored(d.p, d.n, 0, &g); seed("fuzz_gunzip", "noise_stored.gz", g.p, g.n);
    gzip_n(d.p, 0, 9, &g); seed("fuzz_gunzip", "empty.gz", g.p, g.n);
    gzip_stored("hello, world\n", 13, 2 | 4 | 8 | 16, &g);
    seed("fuzz_gunzip", "all_fields_stored.gz", g.p, g.n);
    gzip_stored("hello, world\n", 13, 8, &g);
    seed("fuzz_gunzip", "fname_stored.gz", g.p, g.n);
    reset(&d);
    for (i = 0; i < 300; i++) put1(&d, "abcabcabd"[rnd() % 9]);
    gzip_n(d.p, d.n, 9, &g); seed("fuzz_gunzip", "dynamic.gz", g.p, g.n);
    gzip_n(img.p, img.n, 9, &g); seed("fuzz_gunzip", "idx_images.gz", g.p, g.n);
    free(img.p); free(lab.p); free(gimg.p); free(glab.p); free(g.p); free(d.p);
}

/* ---- checkpoints ---- */

/* the byte the target reads first: bit 0 clear, the target recomputes the
 * checksum; bits 1, 2: load without an optimiser, a state */
static unsigned char ckpt_mode(int with_opt, int with_state) {
    return (unsigned char)((with_opt ? 0 : 2) | (with_state ? 0 : 4));
}

static void put_le64(buf *b, uint64_t v) { put_le32(b, (uint32_t)v); put_le32(b, (uint32_t)(v >> 32)); }
static void put_f32(buf *b, float f) { uint32_t u; memcpy(&u, &f, 4); put_le32(b, u); }

/* Version 3 from scn_checkpoint_save: NAME (the CRC recomputed by the
 * target) and NAME_whole (taken as it is). optional: a lower-case
 * record "zzzz" goes before END (a reader skips it). */
static void ckpt(const char *name, const char *spec, int C, int H, int W, int with_opt,
                 int with_state, int optional, int recipe) {
    scn_net *net = scn_net_create(spec, C, H, W, 7);
    scn_sgd opt;
    scn_train_state st;
    unsigned char *bytes, mode;
    char whole[128];
    size_t n;
    int c;
    if (!net) { fprintf(stderr, "%s: %s\n", spec, scn_error()); exit(1); }
    memset(&st, 0, sizeof st);
    st.epoch = 3; st.step = 42; st.batch = 8;
    scn_rng_seed(&st.rng, 9, 1);
    for (c = 0; c < SCN_MAX_CHANNELS; c++) { st.mean[c] = 0.25f; st.std[c] = 0.5f; }
    if (recipe) {       /* a mean image (PIXM) and decay on lambda1 (sgdl) */
        float m[64];
        scn_sgd_desc d;
        for (c = 0; c < C * H * W && c < 64; c++) m[c] = 0.125f * (float)c;
        memset(&d, 0, sizeof d);
        d.decay_lambda1 = 1;
        if (scn_train_state_set_pixel_mean(&st, m, (size_t)(C * H * W)) != SCN_OK ||
            (with_opt && scn_sgd_init(&opt, net, &d) != SCN_OK)) {
            fprintf(stderr, "%s\n", scn_error());
            exit(1);
        }
    } else if (with_opt && scn_sgd_init(&opt, net, NULL) != SCN_OK) {
        fprintf(stderr, "sgd\n");
        exit(1);
    }
    if (scn_checkpoint_save(tmp_path("c.scn"), net, with_opt ? &opt : NULL,
                            with_state ? &st : NULL) != SCN_OK) {
        fprintf(stderr, "%s\n", scn_error());
        exit(1);
    }
    if (with_opt) scn_sgd_free(&opt);
    scn_train_state_free(&st);
    scn_net_free(net);
    bytes = slurp(tmp_path("c.scn"), &n);
    if (optional) {     /* "zzzz", 8 bytes, before the 16 bytes of END */
        buf b = {0};
        put(&b, bytes, n - 16);
        puts_(&b, "zzzz");
        put_le64(&b, 8);
        puts_(&b, "optional");
        put(&b, bytes + n - 16, 12);
        put_le32(&b, scn_crc32(0, b.p, b.n - 12));
        free(bytes);
        bytes = b.p;
        n = b.n;
    }
    mode = ckpt_mode(with_opt, with_state);
    seedp("fuzz_checkpoint", name, &mode, 1, bytes, n);
    snprintf(whole, sizeof whole, "%s_whole", name);
    mode |= 1;
    seedp("fuzz_checkpoint", whole, &mode, 1, bytes, n);
    free(bytes);
}

/* Versions 1 and 2 ("SCNCKPT1", "SCNCKPT2"), which scn.h still reads,
 * written here from the offsets scn__ckpt_legacy documents: the x86-64
 * layout of a 144-byte struct after the magic (u32 spec_len, C, H, W; u64
 * nparams, nbuffers, nvelocity; i32 epoch at 40, 4 bytes of padding; i64
 * step at 48; u64 rng state, inc, net rng state, inc at 56-80; f32 mean,
 * std at 88, 92; f32 lr, momentum, weight decay at 96-104; i32
 * milestones[8] at 108; f32 gamma at 140), version 2 then 16 means and 16
 * stds; then the spec, the parameters, buffers and velocity as f32, and
 * the CRC-32 of everything before it. The net is "bn linear:n=2" on 2 x 1
 * x 2 with the parameters of scn_net_create, a velocity and a state. */
static void ckpt_legacy(const char *name, int version) {
    const char *spec = "bn linear:n=2";
    scn_net *net = scn_net_create(spec, 2, 1, 2, 7);
    buf b = {0};
    const float *params;
    float *buffers;
    size_t np, nb, i;
    unsigned char mode = ckpt_mode(1, 1);
    if (!net) { fprintf(stderr, "%s: %s\n", spec, scn_error()); exit(1); }
    params = scn_net_params(net);
    np = scn_net_param_count(net);
    buffers = scn_net_buffers(net, &nb);
    puts_(&b, version == 1 ? "SCNCKPT1" : "SCNCKPT2");
    put_le32(&b, (uint32_t)strlen(spec));
    put_le32(&b, 2); put_le32(&b, 1); put_le32(&b, 2);          /* C, H, W */
    put_le64(&b, np); put_le64(&b, nb); put_le64(&b, np);       /* velocity: one each */
    put_le32(&b, 3); put_le32(&b, 0);                           /* epoch, padding */
    put_le64(&b, 42);                                           /* step */
    put_le64(&b, 0x853c49e6748fea9bULL); put_le64(&b, 0xda3e39cb94b95bdbULL);
    put_le64(&b, 0x0123456789abcdefULL); put_le64(&b, 0x0fedcba987654321ULL);
    put_f32(&b, 0.25f); put_f32(&b, 0.5f);                      /* mean, std */
    put_f32(&b, 0.1f); put_f32(&b, 0.9f); put_f32(&b, 5e-4f);   /* lr, momentum, decay */
    put_le32(&b, 10); put_le32(&b, 20);                         /* milestones */
    for (i = 2; i < 8; i++) put_le32(&b, 0);
    put_f32(&b, 0.1f);                                          /* gamma */
    if (b.n != 8 + 144) { fprintf(stderr, "legacy header: %zu bytes\n", b.n); exit(1); }
    if (version == 2) {
        for (i = 0; i < 16; i++) put_f32(&b, 0.125f * (float)i);
        for (i = 0; i < 16; i++) put_f32(&b, 0.5f + 0.25f * (float)i);
    }
    puts_(&b, spec);
    for (i = 0; i < np; i++) put_f32(&b, params[i]);
    for (i = 0; i < nb; i++) put_f32(&b, buffers[i]);
    for (i = 0; i < np; i++) put_f32(&b, 0.001f * (float)i);
    put_le32(&b, scn_crc32(0, b.p, b.n));
    /* the target recomputes the trailing CRC (mode bit 0 clear) */
    seedp("fuzz_checkpoint", name, &mode, 1, b.p, b.n);
    scn_net_free(net);
    free(b.p);
}

static void make_checkpoint(void) {
    ckpt("linear", "linear:n=2", 1, 2, 2, 1, 1, 0, 0);
    ckpt("linear_bare", "linear:n=2", 1, 2, 2, 0, 0, 0, 0);
    ckpt("linear_optional", "linear:n=2", 1, 2, 2, 1, 1, 1, 0);
    ckpt("bn_relu_flatten", "bn relu flatten linear:n=2", 2, 2, 2, 1, 1, 0, 0);
    ckpt("conv_pool", "conv:n=2,k=1 relu maxpool avgpool:k=1 gap linear:n=2", 1, 2, 2, 1, 0, 0, 0);
    ckpt("sc_dropout", "sc:n=2,k=1,l1=0.2,l2=0.01,iters=5,tol=0.001,norm=1 bn dropout:p=0.3 "
         "gap linear:n=2", 1, 2, 2, 0, 1, 0, 0);
    ckpt("sc_recipe", "sc:n=3,k=1 bn gap linear:n=2", 2, 2, 2, 1, 1, 0, 1);
    ckpt_legacy("legacy_v1", 1);
    ckpt_legacy("legacy_v2", 2);
}

/* ---- CIFAR and STL-10 ---- */

static void records(buf *b, int n, int rec, int nlabels, int label) {
    int i, j;
    for (i = 0; i < n; i++) {
        for (j = 0; j < nlabels; j++) put1(b, (label + i + 7 * j) % (j ? 100 : 10));
        for (j = 0; j < rec - nlabels; j++) put1(b, (i * 31 + j * 7) & 0xff);
    }
}

static void cifar(const char *name, int sel, int k, int n, int c100) {
    buf b = {0};
    put1(&b, sel);
    put1(&b, k);
    records(&b, n, 3073 + c100, 1 + c100, 3);
    seed("fuzz_cifar", name, b.p, b.n);
    free(b.p);
}

static void stl(const char *name, int sel, const char *labels, int n) {
    buf b = {0};
    int i;
    put1(&b, sel);
    put1(&b, (unsigned)strlen(labels));
    puts_(&b, labels);
    for (i = 0; i < n * 27648; i++) put1(&b, (i / 96 + i % 96 * 3) & 0xff);
    seed("fuzz_stl", name, b.p, b.n);
    free(b.p);
}

static void make_records(void) {
    cifar("c10_train_1", 0x08, 0, 1, 0);
    cifar("c10_train_2files", 0x08, 1, 2, 0);
    cifar("c10_test_1", 0x04, 0, 1, 0);
    cifar("c10_train_subdir", 0x10, 0, 1, 0);
    cifar("c100_train_1", 0x01, 0, 1, 1);
    cifar("c100_coarse_test_1", 0x06, 0, 1, 1);
    stl("train_1", 0x00, "\003", 1);
    stl("test_2", 0x01, "\001\012", 2);
    stl("unlabeled_1", 0x02, "", 1);
    stl("train_subdir_1", 0x08, "\005", 1);
}

/* ---- .amat ---- */

static void make_amat(void) {
    buf b = {0};
    int i;
    static const char two[] = "0 0.5 1 0.25 3\n0.125 0.75 0 1 7\n";
    static const char tabs[] = "0.5\t1\n\n1\t0\n";
    seed("fuzz_amat", "2x2_two_lines.amat", two, strlen(two));
    puts_(&b, "");
    for (i = 0; i < 16; i++) {
        char v[40];
        snprintf(v, sizeof v, "%.18e ", i / 16.0);
        puts_(&b, v);
    }
    puts_(&b, "3.000000000000000000e+00\r\n");
    for (i = 0; i < 16; i++) puts_(&b, "0.000000000000000000e+00 ");
    puts_(&b, "9.000000000000000000e+00");                 /* no final newline */
    seed("fuzz_amat", "4x4_mnist_style.amat", b.p, b.n);
    reset(&b);
    for (i = 0; i < 784; i++) puts_(&b, i % 29 ? "0 " : "1 ");
    puts_(&b, "5\n\n");
    seed("fuzz_amat", "28x28_one_line.amat", b.p, b.n);
    seed("fuzz_amat", "1x1_tabs.amat", tabs, strlen(tabs));
    free(b.p);
}

/* ---- images ---- */

static buf img_out;
static void img_write(void *ctx, void *data, int size) { (void)ctx; put(&img_out, data, (size_t)size); }

static void image(const char *name, int sel, int kind, int w, int h, int comp) {
    unsigned char px[16 * 16 * 4], s = (unsigned char)sel;
    int i, ok = 0;
    for (i = 0; i < w * h * comp; i++) px[i] = (unsigned char)(i * 53 + 17);
    reset(&img_out);
    if (kind == 0) ok = stbi_write_png_to_func(img_write, NULL, w, h, comp, px, w * comp);
    if (kind == 1) ok = stbi_write_jpg_to_func(img_write, NULL, w, h, comp, px, 90);
    if (kind == 2) ok = stbi_write_bmp_to_func(img_write, NULL, w, h, comp, px);
    if (!ok) { fprintf(stderr, "stbi_write %s failed\n", name); exit(1); }
    seedp("fuzz_image", name, &s, 1, img_out.p, img_out.n);
}

static void make_images(void) {
    /* a 1x1 GIF89a, named .png: stb_image decides by the bytes */
    static const unsigned char gif[] = {
        'G', 'I', 'F', '8', '9', 'a', 1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff,
        0x21, 0xf9, 4, 1, 0, 0, 0, 0, 0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 1, 0, 0x3b};
    unsigned char s0 = 0;
    image("png_rgb_4x4", 0, 0, 4, 4, 3);
    image("png_gray_3x3", 0, 0, 3, 3, 1);
    image("png_rgba_2x2", 0, 0, 2, 2, 4);
    image("png_gray_alpha_3x2", 0, 0, 3, 2, 2);
    image("jpg_rgb_8x8", 1, 1, 8, 8, 3);
    image("jpg_gray_9x7", 1, 1, 9, 7, 1);
    image("jpeg_rgb_16x16", 3, 1, 16, 16, 3);
    image("bmp_rgb_4x3", 2, 2, 4, 3, 3);
    image("bmp_rgba_3x3", 2, 2, 3, 3, 4);
    seedp("fuzz_image", "gif_1x1_as_png", &s0, 1, gif, sizeof gif);
    free(img_out.p);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: make_corpus OUTDIR\n"); return 2; }
    outdir = argv[1];
    mkdir_p(outdir);
    snprintf(scratch, sizeof scratch, "/tmp/scn_corpus.XXXXXX");
    if (!mkdtemp(scratch)) { perror("mkdtemp"); return 1; }
    make_npy();
    make_idx_gunzip();
    make_checkpoint();
    make_records();
    make_amat();
    make_images();
    unlink(tmp_path("gz.in"));
    unlink(tmp_path("t.npy"));
    unlink(tmp_path("c.scn"));
    rmdir(scratch);
    return 0;
}
