/* test_npy.c - .npy files (scn.h section 4).
 *
 * Round trips through scn_npy_save/scn_npy_load (and the saved bytes
 * against the format spec); hand-built valid files (versions 1.0/2.0/3.0,
 * '<f8', 0-d, key order, whitespace, old 16-byte alignment, a header
 * longer than 255 bytes); malformed files that must fail with a message
 * naming the file; then every prefix and many one-byte corruptions of
 * valid images through scn_npy_parse, which must never crash or read out
 * of bounds (also run this under -fsanitize=address). The test builds all
 * bytes itself; its files live in a mkdtemp directory under /tmp.
 */
#include "../scn.h"
#include "check.h"

#include <dirent.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];                /* the mkdtemp directory */
static char path[256];              /* the last path made by mkpath */
static unsigned char f4_6[24];      /* 1..6 as '<f4' */
static unsigned char f8_6[48];      /* f8_vals as '<f8' */
static volatile float sink;         /* where check_sane reads data to */
static const float f4_vals[6] = {1, 2, 3, 4, 5, 6};
static const double f8_vals[6] = {0.1, -2.5, 1e30, 3.0, 1e-3, -7.0};
#define DICT23 "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"

static const char *mkpath(const char *name) {
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        path[0] = '\0';
    return path;
}

static int write_file(const char *p, const void *b, size_t n) {
    FILE *f = fopen(p, "wb");
    size_t w = f && n ? fwrite(b, 1, n, f) : 0;
    return f && fclose(f) == 0 && w == n;
}
/* The low nbytes of u, little-endian. */
static void put_le(unsigned char *p, uint64_t u, int nbytes) {
    for (int i = 0; i < nbytes; i++) p[i] = (unsigned char)(u >> 8 * i);
}

static void put_f32(unsigned char *p, float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    put_le(p, u, 4);
}

/* An .npy image in out: magic, version major.0, the header length (uint16
 * for 1.0, uint32 after), dict padded with spaces and a final '\n' so that
 * everything before the data is a multiple of align, then the data. */
static size_t build(unsigned char *out, int major, const char *dict,
                    size_t align, const void *data, size_t dlen) {
    size_t pre = major == 1 ? 10 : 12, dl = strlen(dict);
    size_t total = (pre + dl + 1 + align - 1) / align * align;
    size_t hlen = total - pre;
    memcpy(out, "\x93NUMPY", 6);
    out[6] = (unsigned char)major;
    out[7] = 0;
    put_le(out + 8, hlen, (int)pre - 8);
    memcpy(out + pre, dict, dl);
    memset(out + pre + dl, ' ', hlen - dl - 1);
    out[total - 1] = '\n';
    if (dlen) memcpy(out + total, data, dlen);
    return total + dlen;
}

/* scn_npy_parse on an exact-size heap copy, so ASan sees any overread. */
static scn_tensor *parse_copy(const unsigned char *b, size_t n, const char *name) {
    unsigned char *c = malloc(n ? n : 1);
    scn_tensor *t;
    if (n) memcpy(c, b, n);
    t = scn_npy_parse(c, n, name);
    free(c);
    return t;
}

/* t has shape shp[0..nd) and holds want bit for bit. */
static void check_tensor(const scn_tensor *t, const char *what, int nd,
                         const int *shp, const float *want) {
    size_t n = 1;
    CHECK(t != NULL, "%s: failed: %s", what, scn_error());
    if (!t) return;
    CHECK(t->ndim == nd, "%s: ndim %d, want %d", what, t->ndim, nd);
    for (int d = 0; d < nd; d++) {
        CHECK(t->shape[d] == shp[d], "%s: shape[%d] = %d, want %d", what, d,
              t->shape[d], shp[d]);
        n *= (size_t)shp[d];
    }
    CHECK(t->size == n, "%s: size %zu, want %zu", what, t->size, n);
    if (t->size == n && n)
        CHECK(memcmp(t->data, want, n * sizeof(float)) == 0, "%s: data differ", what);
}

/* A valid image: through a file and scn_npy_load, then scn_npy_parse. */
static void expect_good(const char *name, const unsigned char *b, size_t n,
                        int nd, const int *shp, const float *want) {
    const char *p = mkpath(name);
    scn_tensor *t;
    CHECK(write_file(p, b, n), "%s: cannot write", p);
    t = scn_npy_load(p);
    check_tensor(t, name, nd, shp, want);
    scn_tensor_free(t);
    t = parse_copy(b, n, name);
    check_tensor(t, name, nd, shp, want);
    scn_tensor_free(t);
}

/* A malformed image: NULL from both, with an error naming the file.
 * Names are unique, so a stale message from an earlier case can't pass. */
static void expect_bad(const char *name, const unsigned char *b, size_t n) {
    const char *p = mkpath(name);
    scn_tensor *t;
    CHECK(write_file(p, b, n), "%s: cannot write", p);
    t = scn_npy_load(p);
    CHECK(t == NULL, "%s: a bad file loaded", name);
    CHECK(strstr(scn_error(), p) != NULL, "%s: error \"%s\" lacks the path",
          name, scn_error());
    scn_tensor_free(t);
    t = parse_copy(b, n, name);
    CHECK(t == NULL, "%s: a bad image parsed", name);
    CHECK(strstr(scn_error(), name) != NULL, "%s: error \"%s\" lacks the name",
          name, scn_error());
    scn_tensor_free(t);
}

static void test_round_trip(void) {
    static const int shapes[4][4] = {{7}, {3, 5}, {2, 3, 5}, {3, 1, 5, 7}};
    for (int nd = 1; nd <= 4; nd++) {
        char name[32];
        scn_tensor *t = scn_tensor_create(nd, shapes[nd - 1]), *u;
        unsigned char *b, le[4];
        size_t n, hlen;
        CHECK(t != NULL, "create %d-d: %s", nd, scn_error());
        if (!t) continue;
        for (size_t i = 0; i < t->size; i++)
            t->data[i] = ((float)i * 0.37f - 11.1f) * (i % 3 ? 1.0f : -1e-3f);
        t->data[0] = -0.0f;
        t->data[1] = INFINITY;
        t->data[2] = NAN;
        t->data[3] = 1e-42f;                            /* subnormal */
        t->data[t->size - 1] = -3.4e38f;
        snprintf(name, sizeof name, "rt%d.npy", nd);
        CHECK(scn_npy_save(mkpath(name), t) == SCN_OK, "save %s: %s", name, scn_error());
        /* The bytes: version 1.0, data 64-aligned, '<f4' little-endian. */
        b = check_read_file(path, &n);
        hlen = n >= 10 ? (size_t)b[8] | (size_t)b[9] << 8 : 0;
        CHECK(n >= 10 && memcmp(b, "\x93NUMPY\x01\x00", 8) == 0, "%s: magic/version", name);
        CHECK((10 + hlen) % 64 == 0, "%s: header length %zu not aligned", name, hlen);
        CHECK(n == 10 + hlen + 4 * t->size, "%s: file is %zu bytes", name, n);
        if (n == 10 + hlen + 4 * t->size && hlen > 0 && hlen < 1024) {
            char hdr[1024] = {0}, one_d[16];
            memcpy(hdr, b + 10, hlen);
            CHECK(hdr[hlen - 1] == '\n', "%s: header lacks '\\n'", name);
            CHECK(strstr(hdr, "'descr'") && strstr(hdr, "'<f4'") &&
                  strstr(hdr, "'fortran_order'") && strstr(hdr, "False") &&
                  strstr(hdr, "'shape'"), "%s: header %s", name, hdr);
            snprintf(one_d, sizeof one_d, "(%d,)", shapes[0][0]);
            if (nd == 1)    /* without the comma Python reads an int */
                CHECK(strstr(hdr, one_d) != NULL, "%s: 1-d shape in %s", name, hdr);
            for (size_t i = 0; i < t->size; i++) {
                put_f32(le, t->data[i]);
                if (memcmp(b + 10 + hlen + 4 * i, le, 4) != 0) {
                    CHECK(0, "%s: element %zu not '<f4'", name, i);
                    break;
                }
            }
        }
        free(b);
        u = scn_npy_load(path);
        check_tensor(u, name, nd, shapes[nd - 1], t->data);
        scn_tensor_free(u);
        scn_tensor_free(t);
    }
}

/* Zero elements: either works (size 0, shape kept) or fails cleanly. */
static void test_empty_arrays(void) {
    static const int shp[2][2] = {{0}, {3, 0}};
    static const char *dicts[2] = {
        "{'descr': '<f4', 'fortran_order': False, 'shape': (0,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 0), }"};
    unsigned char b[128];
    for (int k = 0; k < 2; k++) {
        char name[32];
        scn_tensor *t = scn_tensor_create(k + 1, shp[k]), *u;
        snprintf(name, sizeof name, "zero%d.npy", k);
        if (!t) {
            CHECK(scn_error()[0] != '\0', "create of 0 elements: empty error");
        } else if (scn_npy_save(mkpath(name), t) != SCN_OK) {
            CHECK(strstr(scn_error(), path) != NULL, "save %s: %s", name, scn_error());
        } else {
            u = scn_npy_load(path);
            if (u) check_tensor(u, name, k + 1, shp[k], NULL);
            else CHECK(strstr(scn_error(), path) != NULL, "%s: %s", name, scn_error());
            scn_tensor_free(u);
        }
        scn_tensor_free(t);
        snprintf(name, sizeof name, "zero-image%d", k);
        u = parse_copy(b, build(b, 1, dicts[k], 64, NULL, 0), name);
        if (u) check_tensor(u, name, k + 1, shp[k], NULL);
        else CHECK(strstr(scn_error(), name) != NULL, "%s: %s", name, scn_error());
        scn_tensor_free(u);
    }
}

static void test_valid_files(void) {
    static const int s23[2] = {2, 3}, s5[1] = {5}, s1[1] = {1}, s4d[4] = {1, 2, 1, 3};
    unsigned char b[1024];
    float f8_as_f4[6];
    for (int i = 0; i < 6; i++) f8_as_f4[i] = (float)f8_vals[i];
    expect_good("v1.npy", b, build(b, 1, DICT23, 64, f4_6, 24), 2, s23, f4_vals);
    expect_good("v2.npy", b, build(b, 2, DICT23, 64, f4_6, 24), 2, s23, f4_vals);
    expect_good("v3.npy", b, build(b, 3, DICT23, 64, f4_6, 24), 2, s23, f4_vals);
    expect_good("align16.npy", b, build(b, 1, DICT23, 16, f4_6, 24), 2, s23, f4_vals);
    expect_good("longhdr.npy", b, build(b, 1, DICT23, 512, f4_6, 24), 2, s23, f4_vals);
    expect_good("f8.npy", b, build(b, 1, "{'descr': '<f8', 'fortran_order': False, "
                "'shape': (2, 3), }", 64, f8_6, 48), 2, s23, f8_as_f4);
    expect_good("1d.npy", b, build(b, 1, "{'descr': '<f4', 'fortran_order': False, "
                "'shape': (5,), }", 64, f4_6, 20), 1, s5, f4_vals);
    expect_good("0d.npy", b, build(b, 1, "{'descr': '<f4', 'fortran_order': False, "
                "'shape': (), }", 64, f4_6, 4), 1, s1, f4_vals);
    expect_good("4d.npy", b, build(b, 1, "{'descr': '<f4', 'fortran_order': False, "
                "'shape': (1, 2, 1, 3), }", 64, f4_6, 24), 4, s4d, f4_vals);
    expect_good("spaces.npy", b, build(b, 1, "{ 'descr' : '<f4' ,\t'fortran_order' :"
                "  False ,  'shape' : ( 2 , 3 , ) , }", 64, f4_6, 24), 2, s23, f4_vals);
    expect_good("tight.npy", b, build(b, 1, "{'descr':'<f4','fortran_order':False,"
                "'shape':(2,3)}", 64, f4_6, 24), 2, s23, f4_vals);
    expect_good("order1.npy", b, build(b, 1, "{'shape': (2, 3), 'fortran_order': "
                "False, 'descr': '<f4', }", 64, f4_6, 24), 2, s23, f4_vals);
    expect_good("order2.npy", b, build(b, 1, "{'fortran_order': False, 'descr': "
                "'<f4', 'shape': (2, 3)}", 64, f4_6, 24), 2, s23, f4_vals);
}

/* A bad image made from a good one's dict with a different shape/descr. */
#define BAD_DICT(name, descr, fo, shape, dlen)                              \
    expect_bad(name, b, build(b, 1, "{'descr': '" descr "', 'fortran_order': " \
               fo ", 'shape': " shape ", }", 64, f8_6, dlen))

static void test_bad_files(void) {
    unsigned char good[256], b[256];
    size_t n = build(good, 1, DICT23, 64, f4_6, 24), n2;
    expect_bad("bad_empty.npy", good, 0);
    expect_bad("bad_short_magic.npy", good, 4);
    memcpy(b, good, n); b[1] = 'X';
    expect_bad("bad_magic.npy", b, n);
    memcpy(b, good, n); b[6] = 9;
    expect_bad("bad_version.npy", b, n);
    memcpy(b, good, n); b[7] = 5;
    expect_bad("bad_minor.npy", b, n);
    memcpy(b, good, n); b[8] = 0xE8; b[9] = 0x03;       /* 1000 > file */
    expect_bad("bad_hlen.npy", b, n);
    n2 = build(b, 2, DICT23, 64, f4_6, 24);
    b[8] = 0xF0; b[9] = b[10] = b[11] = 0xFF;           /* ~4 GiB */
    expect_bad("bad_hlen_v2.npy", b, n2);
    expect_bad("bad_no_descr.npy", b, build(b, 1, "{'fortran_order': False, "
               "'shape': (2, 3), }", 64, f4_6, 24));
    expect_bad("bad_no_shape.npy", b, build(b, 1, "{'descr': '<f4', "
               "'fortran_order': False, }", 64, f4_6, 24));
    BAD_DICT("bad_fortran.npy", "<f4", "True", "(2, 3)", 24);
    BAD_DICT("bad_i4.npy", "<i4", "False", "(2, 3)", 24);
    BAD_DICT("bad_big_endian.npy", ">f4", "False", "(2, 3)", 24);
    BAD_DICT("bad_u1.npy", "|u1", "False", "(2, 3)", 24);
    BAD_DICT("bad_negative.npy", "<f4", "False", "(-2, 3)", 24);
    BAD_DICT("bad_5d.npy", "<f4", "False", "(1, 1, 2, 1, 3)", 24);
    /* Sizes that wrap (in int or size_t) to exactly the data present. */
    BAD_DICT("bad_overflow.npy", "<f4", "False", "(4294967296, 4294967296)", 0);
    BAD_DICT("bad_wrap.npy", "<f4", "False", "(65536, 65536, 65536, 65536)", 0);
    BAD_DICT("bad_int_dim.npy", "<f4", "False", "(4294967302,)", 24);
    BAD_DICT("bad_int_max.npy", "<f4", "False", "(2147483648,)", 24);
    BAD_DICT("bad_f8_short.npy", "<f8", "False", "(2, 3)", 47);
    BAD_DICT("bad_short_data.npy", "<f4", "False", "(3, 3)", 24);
    BAD_DICT("bad_garbage.npy", "<f4", "False", "(2, x)", 24);
    BAD_DICT("bad_open_tuple.npy", "<f4", "False", "(2, 3", 24);
    expect_bad("bad_truncated.npy", good, n - 1);
    expect_bad("bad_unterminated.npy", b, build(b, 1, "{'descr': '<f4', "
               "'fortran_order': False, 'shape': (2, 3), ", 64, f4_6, 24));
    CHECK(scn_npy_load(mkpath("missing.npy")) == NULL, "a missing file loaded");
    CHECK(strstr(scn_error(), path) != NULL, "missing: \"%s\"", scn_error());
    CHECK(mkdir(mkpath("a_dir.npy"), 0700) == 0, "mkdir %s", path);
    CHECK(scn_npy_load(path) == NULL, "a directory loaded");
    CHECK(strstr(scn_error(), path) != NULL, "directory: \"%s\"", scn_error());
}

/* A parse that succeeded must describe data that is really there. */
static void check_sane(const scn_tensor *t, const unsigned char *b, size_t len,
                       size_t elem, const char *what) {
    size_t hend = 10 + ((size_t)b[8] | (size_t)b[9] << 8), prod = 1;
    int ok = t->ndim >= 1 && t->ndim <= SCN_MAX_DIMS;
    for (int d = 0; ok && d < t->ndim; d++) {
        ok = t->shape[d] >= 0;
        prod *= ok ? (size_t)t->shape[d] : 0;
    }
    ok = ok && prod == t->size && hend <= len && t->size * elem <= len - hend;
    CHECK(ok, "%s: parsed ndim %d size %zu from %zu bytes", what, t->ndim, t->size, len);
    for (size_t i = 0; ok && i < t->size; i++)     /* ASan: all there? */
        sink += t->data[i];
}

static void test_prefixes_and_flips(void) {
    static const unsigned char subs[] = {'0', '1', '8', '9', ',', '(', ')', ' ',
                                         '-', '\'', '{', '}', ':', '\n', 0};
    unsigned char imgs[2][256], b[256];
    size_t lens[2];
    char name[48];
    lens[0] = build(imgs[0], 1, DICT23, 64, f4_6, 24);
    lens[1] = build(imgs[1], 2, "{'descr': '<f8', 'fortran_order': False, "
                    "'shape': (2, 3), }", 64, f8_6, 48);
    for (int k = 0; k < 2; k++)
        for (size_t len = 0; len < lens[k]; len++) {
            scn_tensor *t;
            snprintf(name, sizeof name, "prefix[%d:%zu]", k, len);
            t = parse_copy(imgs[k], len, name);
            CHECK(t == NULL, "%s parsed", name);
            CHECK(strstr(scn_error(), name) != NULL, "%s: \"%s\"", name, scn_error());
            scn_tensor_free(t);
        }
    /* One byte of the v1 header changed: to its complement, or to a
     * character that means something in the dict. */
    for (size_t i = 0; i < lens[0] - 24; i++)
        for (size_t k = 0; k <= sizeof subs; k++) {
            scn_tensor *t;
            memcpy(b, imgs[0], lens[0]);
            b[i] = k == sizeof subs ? (unsigned char)(b[i] ^ 0xFF) : subs[k];
            snprintf(name, sizeof name, "flip[%zu:%zu]", i, k);
            t = parse_copy(b, lens[0], name);
            if (t) check_sane(t, b, lens[0], imgs[0][i] == '4' && b[i] == '8' ? 8 : 4, name);
            scn_tensor_free(t);
        }
}

static void test_save_errors(void) {
    int shp[1] = {3};
    scn_tensor *t = scn_tensor_create(1, shp);
    CHECK(t != NULL, "create: %s", scn_error());
    if (!t) return;
    CHECK(scn_npy_save(mkpath("no/such/dir/x.npy"), t) == SCN_ERR_IO, "save to %s", path);
    CHECK(strstr(scn_error(), path) != NULL, "save error \"%s\"", scn_error());
    scn_tensor_free(t);
}

int main(void) {
    DIR *d;
    struct dirent *e;
    strcpy(dir, "/tmp/scn_test_npy.XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    for (int i = 0; i < 6; i++) {
        uint64_t u;
        memcpy(&u, &f8_vals[i], 8);
        put_le(f8_6 + 8 * i, u, 8);
        put_f32(f4_6 + 4 * i, f4_vals[i]);
    }
    test_round_trip();
    test_empty_arrays();
    test_valid_files();
    test_bad_files();
    test_prefixes_and_flips();
    test_save_errors();
    if ((d = opendir(dir)) != NULL) {
        while ((e = readdir(d)) != NULL)
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
                if (unlink(mkpath(e->d_name)) != 0) rmdir(path);
        closedir(d);
    }
    CHECK(rmdir(dir) == 0, "rmdir %s", dir);
    return check_summary("npy");
}
