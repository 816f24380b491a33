/* test_idx.c - IDX data sets and gzip (scn.h, "Data sets: IDX files").
 *
 * Valid tiny sets (5 images of 4x3 and their labels) raw, in hand-built
 * gzip files of stored deflate blocks (every optional header field), and
 * in real compressed gzip files made by Python's gzip module (embedded
 * below: fixed and dynamic Huffman blocks); every prefix of every valid
 * file must fail, one-byte corruptions must fail or give the exact data;
 * then each error on its own (CRC, ISIZE, magic, type, dimensions, counts,
 * labels, limits, missing files), checking that the message names the
 * file and the problem. Through scn_idx_parse the bytes always sit in a
 * buffer of their exact size, so -fsanitize=address catches any read past
 * the end. Files live in a mkdtemp directory under /tmp. If the Debian
 * package dataset-fashion-mnist is installed, the real sets are loaded
 * and checked too (and timed). Built with SCN_NO_STB_IMAGE, the gzip
 * cases check the "needs stb_image" error instead.
 */
#define SCN_IDX_MAX_CLASSES 10   /* the limit is tested with MNIST's 10 classes */
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "check.h"


#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#ifdef SCN__STB
#define HAVE_GZ 1
#else
#define HAVE_GZ 0
#endif
/* scn.h's own stb_image copy tells where the deflate data ends (a copy the
 * including file brought, SCN__STB == 1, does not) */
#if !defined(SCN__STB) || SCN__STB == 2
#define KNOWS_END 1
#else
#define KNOWS_END 0
#endif

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"

static char dir[64];                /* the mkdtemp directory */
static char path[256];              /* the last path made by mkpath */

/* ---------------------------------------------------------------------
 * The embedded gzip files, made by (Python 3):
 *
 *   import gzip, io, struct
 *   def tiny_images():
 *       b = bytearray(struct.pack('>IIII', 0x803, 5, 4, 3))
 *       for i in range(5):
 *           for r in range(4):
 *               for c in range(3):
 *                   b.append((i*50 + r*17 + c*5 + 1) & 0xff)
 *       return bytes(b)
 *   def tiny_labels():
 *       return struct.pack('>II', 0x801, 5) + bytes([3, 0, 9, 1, 4])
 *   def medium_images():
 *       n, R, C = 48, 8, 8
 *       b = bytearray(struct.pack('>IIII', 0x803, n, R, C))
 *       x = 12345
 *       for i in range(n):
 *           for r in range(R):
 *               for c in range(C):
 *                   x = (x * 1103515245 + 12345) & 0x7fffffff
 *                   b.append(((r*C + c + i) % 13) * 19 if ((x >> 16) & 7) < 3 else 0)
 *       return bytes(b)
 *   def gz(data, fname=''):
 *       bio = io.BytesIO()
 *       with gzip.GzipFile(filename=fname, mode='wb', fileobj=bio, mtime=0,
 *                          compresslevel=9) as f:
 *           f.write(data)
 *       return bio.getvalue()
 *   tiny_images_gz = gz(tiny_images(), 'train-images-idx3-ubyte')  # FNAME set
 *   tiny_labels_gz = gz(tiny_labels())
 *   medium_images_gz = gz(medium_images())   # a dynamic Huffman block
 * --------------------------------------------------------------------- */
static const unsigned char tiny_images_gz[120] = {
    0x1f, 0x8b, 0x08, 0x08, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff, 0x74, 0x72, 0x61, 0x69, 0x6e, 0x2d,
    0x69, 0x6d, 0x61, 0x67, 0x65, 0x73, 0x2d, 0x69, 0x64, 0x78, 0x33, 0x2d, 0x75, 0x62, 0x79, 0x74,
    0x65, 0x00, 0x63, 0x60, 0xe0, 0x60, 0x66, 0x60, 0x60, 0x60, 0x05, 0x62, 0x16, 0x20, 0x66, 0x66,
    0x64, 0xe3, 0x16, 0x12, 0x97, 0x51, 0xd6, 0xd0, 0x35, 0xb1, 0xb4, 0x33, 0xb6, 0xb0, 0x75, 0xf1,
    0xf4, 0x0b, 0x8d, 0x8a, 0x4f, 0xcb, 0x2e, 0x48, 0xcd, 0xca, 0x2f, 0xab, 0x6e, 0x68, 0xef, 0x99,
    0x38, 0x63, 0xee, 0xa2, 0xe9, 0x73, 0x16, 0xae, 0x58, 0xbb, 0x69, 0xe7, 0xbe, 0xc3, 0xa7, 0xce,
    0x5f, 0x39, 0x79, 0xee, 0xf2, 0xad, 0xfb, 0x4f, 0x5e, 0x7f, 0xf8, 0xfa, 0x87, 0x91, 0x0d, 0x00,
    0x47, 0xc1, 0x25, 0xbf, 0x4c, 0x00, 0x00, 0x00,
};
static const unsigned char tiny_labels_gz[33] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff, 0x63, 0x60, 0xe0, 0x60, 0x64, 0x60,
    0x60, 0x60, 0x65, 0x66, 0xe0, 0x64, 0x64, 0x01, 0x00, 0x4d, 0xe9, 0xbf, 0x5c, 0x0d, 0x00, 0x00,
    0x00,
};
static const unsigned char medium_images_gz[833] = {
    0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff, 0x6d, 0x56, 0xc1, 0x71, 0xc4, 0x20,
    0x0c, 0xd4, 0x4c, 0x3e, 0xf9, 0xd3, 0x83, 0xdf, 0xf9, 0xd2, 0x83, 0x7b, 0xa0, 0x07, 0xf7, 0x40,
    0x0f, 0xee, 0xc1, 0x3d, 0x5c, 0x0f, 0xee, 0xc1, 0x85, 0x04, 0xa4, 0x5d, 0x49, 0x38, 0xf1, 0x8c,
    0x93, 0xc3, 0x20, 0x24, 0x56, 0xab, 0x15, 0x22, 0xdf, 0x5f, 0x22, 0xf2, 0x33, 0xde, 0x6f, 0xbc,
    0x75, 0xbc, 0xfd, 0x14, 0x7d, 0xb6, 0x31, 0x38, 0xe4, 0x94, 0x8f, 0x8e, 0x6c, 0x70, 0xcd, 0x9f,
    0x65, 0xcc, 0xb4, 0x39, 0x23, 0xf2, 0x48, 0x19, 0x7f, 0xdb, 0x78, 0x75, 0xa6, 0xee, 0xfe, 0x73,
    0x7e, 0x4f, 0xe6, 0xb2, 0x8f, 0xf7, 0xbc, 0x3e, 0xc3, 0x42, 0x36, 0x59, 0xbc, 0xec, 0x63, 0x2f,
    0xc1, 0xb2, 0x76, 0xf4, 0x61, 0x7e, 0x9b, 0xf7, 0xb9, 0x97, 0xa8, 0x85, 0xf9, 0x18, 0x16, 0xb7,
    0x79, 0x17, 0x81, 0xf7, 0x19, 0x57, 0x2c, 0xdb, 0x35, 0xc4, 0x0f, 0xb6, 0x9d, 0xff, 0x2e, 0x04,
    0xaf, 0x71, 0xc1, 0x42, 0xe3, 0x82, 0x43, 0x0b, 0x65, 0x2c, 0xbb, 0x2d, 0xe2, 0x0e, 0x0b, 0xfd,
    0x0e, 0x87, 0x73, 0xd0, 0xf4, 0xec, 0x36, 0x18, 0x5e, 0x60, 0xa1, 0xcb, 0x0e, 0xdf, 0xb8, 0xe9,
    0x09, 0x35, 0xc4, 0xf9, 0xbd, 0x5b, 0x28, 0xc5, 0xe2, 0x12, 0x0b, 0x7e, 0x84, 0x32, 0x07, 0x97,
    0x23, 0x4c, 0xbc, 0xe8, 0x10, 0x4f, 0x93, 0x0e, 0xb4, 0x14, 0x95, 0xb9, 0xe8, 0x9e, 0x60, 0x57,
    0x38, 0xbc, 0x1f, 0x42, 0x07, 0x84, 0xe7, 0x81, 0x09, 0x10, 0x1c, 0xf2, 0xec, 0xf3, 0x58, 0x9c,
    0x91, 0x48, 0xc3, 0x88, 0xab, 0x59, 0x1a, 0x1e, 0xb5, 0x69, 0x12, 0xde, 0xd5, 0x7c, 0x3a, 0xd4,
    0x34, 0xcc, 0x9c, 0x78, 0x1a, 0xfa, 0x9c, 0x01, 0xa8, 0x47, 0x77, 0x84, 0xf5, 0x1c, 0x76, 0x42,
    0xcb, 0xfb, 0xbf, 0x0f, 0xb2, 0xe8, 0x29, 0xb5, 0xbd, 0x66, 0x5c, 0x0d, 0x28, 0x2a, 0x26, 0x70,
    0x58, 0xe4, 0x1f, 0x12, 0x58, 0x28, 0x3c, 0x89, 0xf1, 0x11, 0xe6, 0x0c, 0xc4, 0xc1, 0x96, 0x60,
    0x4a, 0x31, 0x12, 0x20, 0xa5, 0xe4, 0xa3, 0x0f, 0x3c, 0xe2, 0x0c, 0x03, 0x81, 0x10, 0x07, 0xf5,
    0xb4, 0x34, 0x80, 0x9c, 0x97, 0x9f, 0x84, 0xa5, 0x61, 0xe9, 0xb1, 0xe0, 0x6d, 0xd1, 0x52, 0x00,
    0x78, 0xb6, 0x35, 0xd9, 0x4a, 0x28, 0x2e, 0x13, 0x3a, 0xc4, 0x6f, 0x12, 0x0d, 0xb9, 0xb2, 0xbc,
    0x63, 0x63, 0x1d, 0xcc, 0x8d, 0xbb, 0x7a, 0xb1, 0x1c, 0xe2, 0xbb, 0x10, 0x20, 0x00, 0xe1, 0x29,
    0x85, 0x77, 0x21, 0x39, 0xc9, 0x2e, 0x9c, 0xfd, 0xbc, 0x12, 0x05, 0x19, 0x4a, 0x35, 0x73, 0xc1,
    0x40, 0x38, 0xa3, 0x14, 0xf4, 0xa2, 0x41, 0x5d, 0xdd, 0x09, 0xba, 0xfc, 0x80, 0x43, 0xe4, 0xa3,
    0x69, 0xc7, 0xee, 0x74, 0x1e, 0x08, 0x1f, 0xfc, 0xbe, 0x31, 0x2a, 0x0e, 0xcc, 0xe1, 0xf3, 0x96,
    0x0b, 0x2b, 0x33, 0x24, 0xa8, 0x52, 0x3b, 0x40, 0x73, 0x71, 0x20, 0x9a, 0x6d, 0x8c, 0x52, 0xe6,
    0x8c, 0xb1, 0xab, 0x23, 0x8b, 0x5b, 0xaa, 0x44, 0x68, 0x87, 0xac, 0xf5, 0xf3, 0xc0, 0xbc, 0x13,
    0x3a, 0x27, 0x3a, 0xd3, 0xe0, 0xac, 0xcb, 0x34, 0xcf, 0xac, 0x4b, 0xe4, 0x34, 0x46, 0x70, 0xe3,
    0x84, 0xf0, 0xc6, 0x43, 0xdd, 0x0e, 0xf6, 0x89, 0x78, 0x25, 0xd7, 0xe2, 0xb4, 0x80, 0x88, 0xaa,
    0x24, 0x1e, 0x9d, 0xc8, 0x2f, 0xf1, 0x4a, 0x66, 0x70, 0x73, 0xd6, 0x2d, 0xca, 0x45, 0xbc, 0x72,
    0x46, 0x96, 0x82, 0x5d, 0x18, 0xec, 0x27, 0xe9, 0x5e, 0xb2, 0x61, 0x53, 0x21, 0xe1, 0xe2, 0x42,
    0x0d, 0x6e, 0x19, 0xa8, 0xa7, 0x66, 0x91, 0x3d, 0x23, 0x1a, 0x88, 0xd5, 0x4f, 0xf9, 0x83, 0x49,
    0x2a, 0x65, 0xea, 0xf9, 0xe3, 0xd2, 0x93, 0x4f, 0x72, 0xa6, 0x8c, 0xb0, 0x03, 0xa4, 0xe0, 0xd1,
    0x33, 0x98, 0xea, 0x1d, 0xf2, 0xca, 0xde, 0xd0, 0x73, 0xbd, 0x67, 0x51, 0x20, 0x87, 0x14, 0xdf,
    0xe8, 0x19, 0xee, 0xdd, 0x90, 0x07, 0x53, 0xb9, 0xe8, 0x0e, 0x25, 0x08, 0x0d, 0x4e, 0x3c, 0x9d,
    0xc1, 0xa7, 0x36, 0xe5, 0xed, 0x80, 0x6c, 0x4c, 0x40, 0x7c, 0x72, 0xc5, 0x79, 0x33, 0xa2, 0xaa,
    0x94, 0x2d, 0x77, 0x4c, 0x91, 0xe8, 0x71, 0x35, 0xc4, 0xd5, 0xeb, 0x1d, 0x6d, 0x15, 0xc2, 0x27,
    0xc1, 0x3a, 0x17, 0xd1, 0xd4, 0x54, 0x17, 0xb1, 0x0a, 0x15, 0xfc, 0x7b, 0xac, 0xe8, 0xa4, 0x3b,
    0x31, 0xb1, 0xb2, 0x8c, 0x5c, 0xc9, 0xd1, 0xcf, 0x2c, 0x7c, 0x5e, 0x00, 0xe6, 0xdd, 0x1b, 0xc8,
    0x49, 0xf3, 0xa5, 0x8f, 0xdb, 0x5e, 0xde, 0xba, 0xbd, 0x2f, 0xb2, 0x75, 0x7b, 0x61, 0x1e, 0x59,
    0x37, 0x4f, 0x8f, 0x0a, 0x21, 0x5a, 0x8f, 0x5b, 0x3a, 0x3c, 0x8a, 0x29, 0x70, 0x64, 0x95, 0xac,
    0x77, 0x1b, 0xcf, 0x55, 0x52, 0x67, 0x96, 0x19, 0xba, 0x72, 0x98, 0xc3, 0x42, 0xa2, 0x5f, 0xca,
    0x4b, 0x44, 0x49, 0x8f, 0x76, 0xa4, 0x1b, 0x49, 0xea, 0x7e, 0x2d, 0x15, 0xd9, 0x6e, 0x25, 0xbe,
    0xc8, 0x05, 0x24, 0x71, 0xb9, 0x2d, 0xe0, 0x8c, 0xc5, 0xab, 0xfa, 0x0e, 0xb4, 0x60, 0x91, 0xf2,
    0x9e, 0x8a, 0x9c, 0xf2, 0x8a, 0xbd, 0xd6, 0x2a, 0x09, 0xad, 0x03, 0x8e, 0xa1, 0x43, 0x91, 0xd2,
    0xc4, 0xbb, 0x6d, 0x69, 0xb7, 0x49, 0xac, 0x16, 0x1f, 0xc5, 0xe3, 0x32, 0x0d, 0x86, 0x2c, 0xdc,
    0x8b, 0x9a, 0x47, 0xfb, 0x92, 0x27, 0xa9, 0x76, 0xe8, 0x63, 0xba, 0xcc, 0x2d, 0x39, 0xb1, 0x0b,
    0x18, 0xfb, 0x3b, 0x45, 0x69, 0x87, 0xc0, 0x3c, 0x7e, 0x39, 0xba, 0xd2, 0x8c, 0xd7, 0x09, 0xaf,
    0x33, 0x65, 0xbd, 0xfe, 0x55, 0x76, 0x93, 0x45, 0x55, 0x42, 0x83, 0xaf, 0xcf, 0xab, 0x81, 0xb0,
    0x63, 0x39, 0xcd, 0xe5, 0x8d, 0x56, 0xf0, 0x31, 0x0b, 0x6f, 0x62, 0xa3, 0xbc, 0xaa, 0x9a, 0x17,
    0xc6, 0xac, 0xce, 0x35, 0x37, 0xdc, 0xea, 0x51, 0xe9, 0x22, 0xe8, 0x50, 0x91, 0xe5, 0x9e, 0x54,
    0xe3, 0x06, 0x55, 0xe4, 0x45, 0x35, 0x39, 0x7e, 0x01, 0xac, 0xdc, 0x17, 0xcc, 0x10, 0x0c, 0x00,
    0x00,
};

/* ---------------------------------------------------------------------
 * Helpers
 * --------------------------------------------------------------------- */

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

static void put_be32(unsigned char *p, uint32_t u) {
    p[0] = (unsigned char)(u >> 24); p[1] = (unsigned char)(u >> 16);
    p[2] = (unsigned char)(u >> 8);  p[3] = (unsigned char)u;
}

static void put_le32(unsigned char *p, uint32_t u) {
    p[0] = (unsigned char)u;         p[1] = (unsigned char)(u >> 8);
    p[2] = (unsigned char)(u >> 16); p[3] = (unsigned char)(u >> 24);
}

/* CRC-32 bit by bit, independent of the library's table-driven one. */
static uint32_t crc32_slow(const unsigned char *p, size_t n) {
    uint32_t c = 0xffffffffu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static int contains(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

/* The tiny set: 5 images of 4x3 and labels 3 0 9 1 4. */
#define TINY_N 5
#define TINY_R 4
#define TINY_C 3
#define TINY_IMG_LEN (16 + TINY_N * TINY_R * TINY_C)
#define TINY_LAB_LEN (8 + TINY_N)
static const unsigned char tiny_label_values[TINY_N] = {3, 0, 9, 1, 4};
static unsigned char tiny_img[TINY_IMG_LEN], tiny_lab[TINY_LAB_LEN];

static unsigned char tiny_pixel(int i, int r, int c) {
    return (unsigned char)((i * 50 + r * 17 + c * 5 + 1) & 0xff);
}

static void build_tiny(void) {
    put_be32(tiny_img, 0x803);
    put_be32(tiny_img + 4, TINY_N);
    put_be32(tiny_img + 8, TINY_R);
    put_be32(tiny_img + 12, TINY_C);
    for (int i = 0; i < TINY_N; i++)
        for (int r = 0; r < TINY_R; r++)
            for (int c = 0; c < TINY_C; c++)
                tiny_img[16 + (i * TINY_R + r) * TINY_C + c] = tiny_pixel(i, r, c);
    put_be32(tiny_lab, 0x801);
    put_be32(tiny_lab + 4, TINY_N);
    memcpy(tiny_lab + 8, tiny_label_values, TINY_N);
}

/* The medium images the embedded medium_images_gz holds (48 of 8x8). */
#define MED_N 48
#define MED_R 8
#define MED_C 8
#define MED_LEN (16 + MED_N * MED_R * MED_C)
static unsigned char med_img[MED_LEN];

static void build_medium(void) {
    uint32_t x = 12345;
    size_t k = 16;
    put_be32(med_img, 0x803);
    put_be32(med_img + 4, MED_N);
    put_be32(med_img + 8, MED_R);
    put_be32(med_img + 12, MED_C);
    for (int i = 0; i < MED_N; i++)
        for (int r = 0; r < MED_R; r++)
            for (int c = 0; c < MED_C; c++) {
                x = (x * 1103515245u + 12345u) & 0x7fffffffu;
                med_img[k++] = ((x >> 16) & 7) < 3
                    ? (unsigned char)(((r * MED_C + c + i) % 13) * 19) : 0;
            }
}

/* gzip flags */
#define FTEXT 1
#define FHCRC 2
#define FEXTRA 4
#define FNAME 8
#define FCOMMENT 16

/* A gzip file of data[0..n) in stored (BTYPE 00) deflate blocks of at most
 * `block` bytes, with the optional header fields that flags ask for (and
 * a correct header CRC for FHCRC). Returns its length; out must hold
 * 64 + n + 5 (n / block + 1) bytes. */
static size_t gz_stored(unsigned char *out, const unsigned char *data, size_t n,
                        int flags, size_t block) {
    size_t p = 0, done = 0;
    out[p++] = 0x1f; out[p++] = 0x8b; out[p++] = 8; out[p++] = (unsigned char)flags;
    put_le32(out + p, 1234567890u); p += 4;             /* MTIME */
    out[p++] = 0; out[p++] = 3;                         /* XFL, OS = Unix */
    if (flags & FEXTRA) {
        static const unsigned char extra[] = {'A', 'p', 2, 0, 'h', 'i'};
        out[p++] = sizeof extra; out[p++] = 0;
        memcpy(out + p, extra, sizeof extra); p += sizeof extra;
    }
    if (flags & FNAME) { memcpy(out + p, "tiny.idx", 9); p += 9; }
    if (flags & FCOMMENT) { memcpy(out + p, "made by hand", 13); p += 13; }
    if (flags & FHCRC) {
        uint32_t c = crc32_slow(out, p);
        out[p++] = (unsigned char)c; out[p++] = (unsigned char)(c >> 8);
    }
    do {
        size_t len = n - done < block ? n - done : block;
        int final = done + len == n;
        out[p++] = (unsigned char)final;                /* BFINAL, BTYPE = 00 */
        out[p++] = (unsigned char)len; out[p++] = (unsigned char)(len >> 8);
        out[p++] = (unsigned char)~len; out[p++] = (unsigned char)(~len >> 8);
        memcpy(out + p, data + done, len);
        p += len;
        done += len;
    } while (done < n);
    put_le32(out + p, crc32_slow(data, n)); p += 4;
    put_le32(out + p, (uint32_t)n); p += 4;
    return p;
}

/* scn_idx_parse on a private copy of exactly n bytes (ASan sees overreads). */
static scn_status parse_exact(const unsigned char *b, size_t n, const char *name, int ndim,
                              int *dims, unsigned char **data) {
    unsigned char *copy = (unsigned char *)malloc(n ? n : 1);
    scn_status s;
    if (n) memcpy(copy, b, n);
    s = scn_idx_parse(copy, n, name, ndim, dims, data);
    free(copy);
    return s;
}

static scn_status gunzip_exact(const unsigned char *b, size_t n, const char *name,
                               unsigned char **out, size_t *outlen) {
    unsigned char *copy = (unsigned char *)malloc(n ? n : 1);
    scn_status s;
    if (n) memcpy(copy, b, n);
    s = scn_gunzip(copy, n, name, out, outlen);
    free(copy);
    return s;
}

/* A gzip case that must succeed (or, without stb_image, fail saying so). */
#define CHECK_GZ_OK(s, what) do {                                              \
    if (HAVE_GZ) CHECK((s) == SCN_OK, "%s: %s", what, scn_error());          \
    else CHECK((s) == SCN_ERR_FORMAT && contains(scn_error(),                \
               "gzip support needs stb_image"), "%s: %s", what, scn_error()); \
} while (0)

/* A failure of status st whose message names `name` and contains `sub`. */
#define CHECK_FAIL(s, st, name, sub) do {                                      \
    scn_status s_ = (s);                                                       \
    CHECK(s_ == (st) && contains(scn_error(), name) && contains(scn_error(), sub), \
          "status %d (want %d), message \"%s\" (want \"%s\" and \"%s\")",       \
          (int)s_, (int)(st), scn_error(), name, sub);                         \
} while (0)

/* The gzip error, when gzip works; otherwise the "needs stb_image" one. */
#define CHECK_GZ_FAIL(s, name, sub) \
    CHECK_FAIL(s, SCN_ERR_FORMAT, name, HAVE_GZ ? (sub) : "gzip support needs stb_image")

/* A set holds the tiny data set. */
static void check_tiny_set(const scn_idx_set *set, const char *what) {
    int ok = set->count == TINY_N && set->rows == TINY_R && set->cols == TINY_C &&
             set->classes == 10 && set->images && set->labels;
    CHECK(ok, "%s: count %d rows %d cols %d classes %d", what, set->count, set->rows,
          set->cols, set->classes);
    if (!ok) return;
    CHECK(memcmp(set->images, tiny_img + 16, TINY_N * TINY_R * TINY_C) == 0,
          "%s: pixels differ", what);
    CHECK(memcmp(set->labels, tiny_label_values, TINY_N) == 0, "%s: labels differ", what);
}

/* ---------------------------------------------------------------------
 * Valid files
 * --------------------------------------------------------------------- */

static void test_valid_raw(void) {
    scn_idx_set set;
    int dims[3] = {0, 0, 0};
    unsigned char *data = NULL;
    CHECK(scn_idx_set_parse(tiny_img, TINY_IMG_LEN, "img", tiny_lab, TINY_LAB_LEN, "lab",
                            &set) == SCN_OK, "raw set: %s", scn_error());
    check_tiny_set(&set, "raw set");
    scn_idx_free(&set);
    CHECK(set.images == NULL && set.labels == NULL && set.count == 0, "free zeroes");
    scn_idx_free(NULL);

    CHECK(parse_exact(tiny_img, TINY_IMG_LEN, "img", 3, dims, &data) == SCN_OK, "%s",
          scn_error());
    CHECK(dims[0] == TINY_N && dims[1] == TINY_R && dims[2] == TINY_C, "dims %d %d %d",
          dims[0], dims[1], dims[2]);
    CHECK(data && memcmp(data, tiny_img + 16, TINY_N * TINY_R * TINY_C) == 0, "data");
    scn_mem_free(data);
    dims[0] = 0;
    CHECK(parse_exact(tiny_lab, TINY_LAB_LEN, "lab", 1, dims, &data) == SCN_OK, "%s",
          scn_error());
    CHECK(dims[0] == TINY_N && data && memcmp(data, tiny_label_values, TINY_N) == 0,
          "labels");
    scn_mem_free(data);
    scn_mem_free(NULL);

    /* classes = largest label + 1 */
    {
        unsigned char lab[TINY_LAB_LEN];
        memcpy(lab, tiny_lab, sizeof lab);
        memset(lab + 8, 2, TINY_N);
        lab[8 + 3] = 6;
        CHECK(scn_idx_set_parse(tiny_img, TINY_IMG_LEN, "img", lab, sizeof lab, "lab",
                                &set) == SCN_OK && set.classes == 7,
              "classes %d: %s", set.classes, scn_error());
        scn_idx_free(&set);
    }
}

static void test_valid_gzip(void) {
    unsigned char img_gz[512], lab_gz[256], *out = NULL;
    size_t img_n, lab_n, outlen = 0;
    int dims[3];
    scn_idx_set set;
    scn_status s;
    static const int flag_sets[] = {0, FTEXT, FHCRC, FEXTRA, FNAME, FCOMMENT,
                                    FTEXT | FHCRC | FEXTRA | FNAME | FCOMMENT};
    static const size_t blocks[] = {1, 7, 64, 65535};

    /* hand-built stored blocks: every header field, several block sizes */
    for (size_t f = 0; f < sizeof flag_sets / sizeof *flag_sets; f++)
        for (size_t k = 0; k < sizeof blocks / sizeof *blocks; k++) {
            char what[64];
            snprintf(what, sizeof what, "stored gzip, flags 0x%02x, blocks of %zu",
                     flag_sets[f], blocks[k]);
            img_n = gz_stored(img_gz, tiny_img, TINY_IMG_LEN, flag_sets[f], blocks[k]);
            s = gunzip_exact(img_gz, img_n, "img.gz", &out, &outlen);
            CHECK_GZ_OK(s, what);
            if (s == SCN_OK)
                CHECK(outlen == TINY_IMG_LEN && memcmp(out, tiny_img, outlen) == 0,
                      "%s: inflated data differs", what);
            scn_mem_free(out);
        }
    img_n = gz_stored(img_gz, tiny_img, TINY_IMG_LEN, FNAME | FHCRC, 16);
    lab_n = gz_stored(lab_gz, tiny_lab, TINY_LAB_LEN, 0, 65535);
    s = scn_idx_set_parse(img_gz, img_n, "img.gz", lab_gz, lab_n, "lab.gz", &set);
    CHECK_GZ_OK(s, "stored gzip set");
    if (s == SCN_OK) check_tiny_set(&set, "stored gzip set");
    scn_idx_free(&set);

    /* an empty member: ISIZE 0 inflates to nothing, which is no IDX file */
    img_n = gz_stored(img_gz, tiny_img, 0, 0, 65535);
    s = gunzip_exact(img_gz, img_n, "empty.gz", &out, &outlen);
    CHECK_GZ_OK(s, "empty gzip");
    CHECK(s != SCN_OK || outlen == 0, "empty gzip gave %zu bytes", outlen);
    scn_mem_free(out);
    CHECK_GZ_FAIL(parse_exact(img_gz, img_n, "empty.gz", 3, dims, &out), "empty.gz",
                  "too short for an IDX file");

    /* real compressed files (Python's gzip): fixed and dynamic Huffman */
    s = scn_idx_set_parse(tiny_images_gz, sizeof tiny_images_gz, "tiny_images.gz",
                          tiny_labels_gz, sizeof tiny_labels_gz, "tiny_labels.gz", &set);
    CHECK_GZ_OK(s, "compressed set");
    if (s == SCN_OK) check_tiny_set(&set, "compressed set");
    scn_idx_free(&set);
    s = parse_exact(medium_images_gz, sizeof medium_images_gz, "medium.gz", 3, dims, &out);
    CHECK_GZ_OK(s, "medium images");
    if (s == SCN_OK) {
        CHECK(dims[0] == MED_N && dims[1] == MED_R && dims[2] == MED_C, "medium dims");
        CHECK(memcmp(out, med_img + 16, MED_LEN - 16) == 0, "medium pixels differ");
        CHECK(crc32_slow(med_img, MED_LEN) == 0xcc17dcacu, "medium generator");
    }
    scn_mem_free(out);
}

/* ---------------------------------------------------------------------
 * Every prefix fails; one-byte corruptions fail or give the exact data
 * --------------------------------------------------------------------- */

static void check_prefixes(const unsigned char *b, size_t n, int ndim, const char *name) {
    int dims[3], bad = 0;
    unsigned char *data;
    for (size_t k = 0; k < n; k++) {
        data = NULL;
        scn_status s = parse_exact(b, k, name, ndim, dims, &data);
        if (s == SCN_OK || !contains(scn_error(), name)) {
            if (!bad++)
                CHECK(0, "%s: prefix of %zu of %zu bytes: status %d, \"%s\"", name, k, n,
                      (int)s, scn_error());
        }
        scn_mem_free(data);
    }
    CHECK(bad == 0, "%s: %d of %zu prefixes were accepted", name, bad, n);
    /* one byte too many */
    {
        unsigned char *longer = (unsigned char *)malloc(n + 1);
        memcpy(longer, b, n);
        longer[n] = 0;
        data = NULL;
        CHECK(parse_exact(longer, n + 1, name, ndim, dims, &data) != SCN_OK,
              "%s: a trailing byte was accepted", name);
        scn_mem_free(data);
        free(longer);
    }
}

static void check_corruptions(const unsigned char *b, size_t n, int ndim, const char *name,
                              const unsigned char *want, size_t want_len) {
    static const unsigned char flips[] = {0x01, 0x10, 0x80, 0xff};
    unsigned char *copy = (unsigned char *)malloc(n);
    int dims[3], wrong = 0, accepted = 0, tail_ok = 0;
    for (size_t k = 0; k < n; k++)
        for (size_t f = 0; f < sizeof flips; f++) {
            unsigned char *data = NULL;
            memcpy(copy, b, n);
            copy[k] ^= flips[f];
            if (scn_idx_parse(copy, n, name, ndim, dims, &data) == SCN_OK) {
                size_t got = (size_t)dims[0] * (ndim == 3 ? (size_t)dims[1] * dims[2] : 1);
                accepted++;
                if (k >= n - 8) tail_ok++;
                if (got != want_len || memcmp(data, want, want_len) != 0) wrong++;
            }
            scn_mem_free(data);
        }
    CHECK(wrong == 0, "%s: %d corruptions inflated to wrong data", name, wrong);
    CHECK(tail_ok == 0, "%s: %d trailer corruptions accepted", name, tail_ok);
    if (getenv("SCN_TEST_VERBOSE"))
        printf("idx: %s: %d of %zu one-byte corruptions accepted (header fields)\n", name,
               accepted, n * sizeof flips);
    free(copy);
}

static void test_prefixes_and_corruptions(void) {
    unsigned char img_gz[512];
    size_t img_n = gz_stored(img_gz, tiny_img, TINY_IMG_LEN,
                             FHCRC | FEXTRA | FNAME | FCOMMENT, 16);
    check_prefixes(tiny_img, TINY_IMG_LEN, 3, "tiny-images");
    check_prefixes(tiny_lab, TINY_LAB_LEN, 1, "tiny-labels");
    check_prefixes(img_gz, img_n, 3, "stored.gz");
    check_prefixes(tiny_images_gz, sizeof tiny_images_gz, 3, "tiny_images.gz");
    check_prefixes(tiny_labels_gz, sizeof tiny_labels_gz, 1, "tiny_labels.gz");
    check_prefixes(medium_images_gz, sizeof medium_images_gz, 3, "medium.gz");
    if (HAVE_GZ) {
        check_corruptions(img_gz, img_n, 3, "stored.gz", tiny_img + 16, TINY_IMG_LEN - 16);
        check_corruptions(tiny_images_gz, sizeof tiny_images_gz, 3, "tiny_images.gz",
                          tiny_img + 16, TINY_IMG_LEN - 16);
        check_corruptions(medium_images_gz, sizeof medium_images_gz, 3, "medium.gz",
                          med_img + 16, MED_LEN - 16);
    }
}

/* ---------------------------------------------------------------------
 * Each gzip error on its own
 * --------------------------------------------------------------------- */

static void test_gzip_errors(void) {
    unsigned char g[512], *out = NULL;
    size_t n, outlen;
    int dims[3];

    CHECK_FAIL(gunzip_exact(tiny_img, TINY_IMG_LEN, "raw", &out, &outlen), SCN_ERR_FORMAT,
               "raw", "not gzip data");
    CHECK(out == NULL && outlen == 0, "outputs cleared on failure");
    CHECK_FAIL(scn_gunzip(g, 0, "nothing", &out, &outlen), SCN_ERR_FORMAT, "nothing",
               "not gzip data");
    CHECK_FAIL(scn_gunzip(NULL, 5, "null", &out, &outlen), SCN_ERR_ARG, "null", "NULL");
    gz_stored(g, tiny_img, TINY_IMG_LEN, 0, 65535);
    CHECK_GZ_FAIL(gunzip_exact(g, 17, "short.gz", &out, &outlen), "short.gz",
                  "truncated gzip data");

    /* CRC-32 and ISIZE */
    n = gz_stored(g, tiny_img, TINY_IMG_LEN, 0, 65535);
    g[n - 8] ^= 1;
    CHECK_GZ_FAIL(gunzip_exact(g, n, "crc.gz", &out, &outlen), "crc.gz", "CRC-32 mismatch");
    n = gz_stored(g, tiny_img, TINY_IMG_LEN, 0, 65535);
    g[n - 20] ^= 0x40;                                  /* a data byte */
    CHECK_GZ_FAIL(gunzip_exact(g, n, "data.gz", &out, &outlen), "data.gz", "CRC-32 mismatch");
    n = gz_stored(g, tiny_img, TINY_IMG_LEN, 0, 65535);
    put_le32(g + n - 4, TINY_IMG_LEN + 1);
    CHECK_GZ_FAIL(gunzip_exact(g, n, "isize+1.gz", &out, &outlen), "isize+1.gz",
                  "inflates to 76 bytes but the gzip trailer says 77");
    put_le32(g + n - 4, TINY_IMG_LEN - 1);
    CHECK_GZ_FAIL(gunzip_exact(g, n, "isize-1.gz", &out, &outlen), "isize-1.gz",
                  "more than the 75 bytes the gzip trailer states");
    put_le32(g + n - 4, 100000);                        /* > 1032 x 81 */
    CHECK_GZ_FAIL(gunzip_exact(g, n, "isize-huge.gz", &out, &outlen), "isize-huge.gz",
                  "inflates to 100000 bytes, more than 81 bytes of deflate data can hold");
    put_le32(g + n - 4, 0xffffffffu);
    CHECK_GZ_FAIL(gunzip_exact(g, n, "isize-max.gz", &out, &outlen), "isize-max.gz",
                  "over the 1073741824-byte limit");

    /* header fields */
    n = gz_stored(g, tiny_img, TINY_IMG_LEN, 0, 65535);
    g[2] = 9;
    CHECK_GZ_FAIL(gunzip_exact(g, n, "cm.gz", &out, &outlen), "cm.gz",
                  "compression method 9 is not deflate");
    n = gz_stored(g, tiny_img, TINY_IMG_LEN, 0, 65535);
    g[3] = 0x20;
    CHECK_GZ_FAIL(gunzip_exact(g, n, "flg.gz", &out, &outlen), "flg.gz",
                  "reserved gzip header flags");
    n = gz_stored(g, tiny_img, TINY_IMG_LEN, FNAME | FHCRC, 65535);
    g[12] ^= 1;                                         /* a file name byte */
    CHECK_GZ_FAIL(gunzip_exact(g, n, "hcrc.gz", &out, &outlen), "hcrc.gz",
                  "gzip header CRC mismatch");
    n = gz_stored(g, tiny_img, TINY_IMG_LEN, FEXTRA, 65535);
    g[10] = 0xff; g[11] = 0x7f;                         /* XLEN past the end */
    CHECK_GZ_FAIL(gunzip_exact(g, n, "xlen.gz", &out, &outlen), "xlen.gz", "FEXTRA field");
    n = gz_stored(g, tiny_img, TINY_IMG_LEN, FEXTRA, 65535);
    CHECK_GZ_FAIL(gunzip_exact(g, 19, "xlen2.gz", &out, &outlen), "xlen2.gz",
                  "gzip header truncated in its FEXTRA");
    n = gz_stored(g, tiny_img, 0, FNAME, 65535);
    memset(g + 10, 'a', n - 10);                        /* no terminator */
    CHECK_GZ_FAIL(gunzip_exact(g, n, "fname.gz", &out, &outlen), "fname.gz",
                  "truncated in its file name");
    n = gz_stored(g, tiny_img, 0, FCOMMENT, 65535);
    memset(g + 10, 'a', n - 10);
    CHECK_GZ_FAIL(gunzip_exact(g, n, "fcomment.gz", &out, &outlen), "fcomment.gz",
                  "truncated in its comment");
    n = gz_stored(g, tiny_img, 0, FHCRC, 65535);
    CHECK_GZ_FAIL(gunzip_exact(g, 19, "fhcrc.gz", &out, &outlen), "fhcrc.gz",
                  "truncated in its header CRC");

    /* deflate errors */
    n = gz_stored(g, tiny_img, TINY_IMG_LEN, 0, 65535);
    g[10] = 0x07;                                       /* BFINAL, BTYPE = 11 (reserved) */
    CHECK_GZ_FAIL(gunzip_exact(g, n, "btype.gz", &out, &outlen), "btype.gz",
                  "corrupt deflate data");
    n = gz_stored(g, tiny_img, TINY_IMG_LEN, 0, 65535);
    g[13] ^= 1;                                         /* NLEN no longer ~LEN */
    CHECK_GZ_FAIL(gunzip_exact(g, n, "nlen.gz", &out, &outlen), "nlen.gz",
                  "corrupt deflate data");
    n = gz_stored(g, tiny_img, TINY_IMG_LEN, 0, 65535);
    g[10] = 0;                                          /* not final: runs off the end */
    CHECK_GZ_FAIL(gunzip_exact(g, n, "final.gz", &out, &outlen), "final.gz",
                  "corrupt deflate data");

    /* trailing bytes and a second member */
    n = gz_stored(g, tiny_img, TINY_IMG_LEN, 0, 65535);
    memset(g + n, 0, 8);
    CHECK_GZ_FAIL(gunzip_exact(g, n + 8, "trailing.gz", &out, &outlen), "trailing.gz",
                  "inflates to more than");
    if (KNOWS_END) {
        n = gz_stored(g, tiny_img, TINY_IMG_LEN, 0, 65535);
        n += gz_stored(g + n, tiny_img, TINY_IMG_LEN, 0, 65535);   /* same trailer */
        CHECK_GZ_FAIL(gunzip_exact(g, n, "members.gz", &out, &outlen), "members.gz",
                      "several gzip members");
        CHECK(out == NULL, "no output on failure");
        n = gz_stored(g, tiny_img, TINY_IMG_LEN, 0, 65535);
        memmove(g + n - 3, g + n - 8, 8);               /* 5 bytes before a good trailer */
        memset(g + n - 8, 0xaa, 5);
        CHECK_GZ_FAIL(gunzip_exact(g, n + 5, "junk.gz", &out, &outlen), "junk.gz",
                      "5 bytes between the end of the deflate data and the gzip trailer");
    }

    /* the IDX layer names the file too */
    n = gz_stored(g, tiny_img, TINY_IMG_LEN, 0, 65535);
    g[n - 8] ^= 1;
    CHECK_GZ_FAIL(parse_exact(g, n, "crc-idx.gz", 3, dims, &out), "crc-idx.gz",
                  "CRC-32 mismatch");
}

/* Inputs too large to make for real, as zero pages of /dev/zero. */
static void *map_zeros(size_t n) {
    int fd = open("/dev/zero", O_RDONLY);
    void *p;
    if (fd < 0) return NULL;
    p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    close(fd);
    return p == MAP_FAILED ? NULL : p;
}

static void test_huge_inputs(void) {
    unsigned char *out = NULL, *m;
    size_t outlen = 0, n;
    int dims[3];
    if (sizeof(size_t) < 8) {
        printf("idx: 32-bit size_t, skipping the over-2-GiB input checks\n");
        return;
    }
    /* over INT_MAX bytes of deflate data: refused before stb_image sees it */
    n = (size_t)INT_MAX + 64;
    m = (unsigned char *)map_zeros(n);
    if (!m) {
        printf("idx: cannot map %zu bytes of /dev/zero, skipping the INT_MAX check\n", n);
    } else {
        m[0] = 0x1f; m[1] = 0x8b; m[2] = 8;
        CHECK_GZ_FAIL(scn_gunzip(m, n, "huge.gz", &out, &outlen), "huge.gz", "INT_MAX");
        munmap(m, n);
    }
    /* an ISIZE over the 1 GiB cap that the deflate size could justify */
    n = (size_t)2 << 20;
    m = (unsigned char *)calloc(n, 1);
    m[0] = 0x1f; m[1] = 0x8b; m[2] = 8;
    put_le32(m + n - 4, (1u << 30) + 1);
    CHECK_GZ_FAIL(scn_gunzip(m, n, "capped.gz", &out, &outlen), "capped.gz",
                  "over the 1073741824-byte limit");
    free(m);
    /* a raw labels file of 1 GiB + 1 labels: consistent, but over the cap */
    n = 8 + ((size_t)1 << 30) + 1;
    m = (unsigned char *)map_zeros(n);
    if (!m) {
        printf("idx: cannot map %zu bytes of /dev/zero, skipping the cap check\n", n);
    } else {
        put_be32(m, 0x801);
        put_be32(m + 4, (1u << 30) + 1);
        CHECK_FAIL(scn_idx_parse(m, n, "big-labels", 1, dims, &out), SCN_ERR_FORMAT,
                   "big-labels", "over the 1073741824-byte limit");
        munmap(m, n);
    }
}

/* ---------------------------------------------------------------------
 * Each IDX error on its own
 * --------------------------------------------------------------------- */

static void test_idx_errors(void) {
    unsigned char img[TINY_IMG_LEN + 8], lab[TINY_LAB_LEN], *data = NULL;
    int dims[3];
    scn_idx_set set;

#define FRESH() (memcpy(img, tiny_img, TINY_IMG_LEN), memcpy(lab, tiny_lab, TINY_LAB_LEN))
    FRESH();
    img[0] = 0x12;
    CHECK_FAIL(parse_exact(img, TINY_IMG_LEN, "magic", 3, dims, &data), SCN_ERR_FORMAT,
               "magic", "not an IDX file (it starts 12 00 08 03");
    CHECK(data == NULL, "no data on failure");
    FRESH();
    img[2] = 0x0D;
    CHECK_FAIL(parse_exact(img, TINY_IMG_LEN, "dtype", 3, dims, &data), SCN_ERR_FORMAT,
               "dtype", "IDX data type 0x0d (float32) is not supported");
    FRESH();
    img[3] = 2;
    CHECK_FAIL(parse_exact(img, TINY_IMG_LEN, "ndim", 3, dims, &data), SCN_ERR_FORMAT,
               "ndim", "the IDX header has 2 dimensions; images have 3");
    CHECK_FAIL(parse_exact(tiny_lab, TINY_LAB_LEN, "swapped", 3, dims, &data),
               SCN_ERR_FORMAT, "swapped", "an IDX labels file (1 dimension) where images");
    CHECK_FAIL(parse_exact(tiny_img, TINY_IMG_LEN, "swapped2", 1, dims, &data),
               SCN_ERR_FORMAT, "swapped2", "an IDX images file (3 dimensions) where labels");
    CHECK_FAIL(parse_exact(tiny_img, 10, "hdr", 3, dims, &data), SCN_ERR_FORMAT, "hdr",
               "truncated in the IDX header (10 of 16 bytes)");
    CHECK_FAIL(parse_exact(tiny_img, 3, "tiny", 3, dims, &data), SCN_ERR_FORMAT, "tiny",
               "too short for an IDX file");
    CHECK_FAIL(parse_exact(tiny_img, TINY_IMG_LEN - 1, "short", 3, dims, &data),
               SCN_ERR_FORMAT, "short",
               "header says 5 images of 4x3 (60 bytes of pixels) but the file holds 59 "
               "bytes after its 16-byte header");
    FRESH();
    CHECK_FAIL(parse_exact(img, TINY_IMG_LEN + 1, "long", 3, dims, &data), SCN_ERR_FORMAT,
               "long", "but the file holds 61 bytes");
    CHECK_FAIL(parse_exact(tiny_lab, TINY_LAB_LEN - 2, "labshort", 1, dims, &data),
               SCN_ERR_FORMAT, "labshort",
               "header says 5 labels (5 bytes of labels) but the file holds 3");
    /* oversized and overflowing dimensions */
    FRESH();
    put_be32(img + 4, 0x80000000u);
    CHECK_FAIL(parse_exact(img, TINY_IMG_LEN, "2^31", 3, dims, &data), SCN_ERR_FORMAT,
               "2^31", "header says 2147483648 images of 4x3 (25769803776 bytes of pixels) "
               "but the file holds 60");
    put_be32(img + 4, 0xffffffffu);
    put_be32(img + 8, 0xffffffffu);
    put_be32(img + 12, 0xffffffffu);
    CHECK_FAIL(parse_exact(img, TINY_IMG_LEN, "overflow", 3, dims, &data), SCN_ERR_FORMAT,
               "overflow", "header says 4294967295 images of 4294967295x4294967295");
    FRESH();
    put_be32(img + 8, 0);
    CHECK_FAIL(parse_exact(img, 16, "zero", 3, dims, &data), SCN_ERR_FORMAT, "zero",
               "header says 5 images of 0x3: no data");
    /* in-memory copies never get an IDX header mistaken for gzip and vice versa */
    CHECK_FAIL(scn_idx_parse(tiny_img, TINY_IMG_LEN, "nd", 2, dims, &data), SCN_ERR_ARG,
               "nd", "ndim is 2");

    /* pairs: counts and labels */
    FRESH();
    put_be32(lab + 4, TINY_N - 1);
    CHECK_FAIL(scn_idx_set_parse(tiny_img, TINY_IMG_LEN, "imgs", lab, TINY_LAB_LEN - 1,
                                 "labs", &set), SCN_ERR_FORMAT, "labs",
               "imgs holds 5 images but labs holds 4 labels");
    CHECK(set.images == NULL && set.labels == NULL && set.count == 0, "set zeroed");
    FRESH();
    lab[8 + 2] = 12;
    lab[8 + 4] = 200;
    CHECK_FAIL(scn_idx_set_parse(tiny_img, TINY_IMG_LEN, "imgs", lab, TINY_LAB_LEN, "labs",
                                 &set), SCN_ERR_FORMAT, "labs",
               "label 12 at index 2 is out of range: labels must be below 10 "
               "(SCN_IDX_MAX_CLASSES); the largest in the file is 200");
    FRESH();
    lab[8 + 4] = 10;
    CHECK_FAIL(scn_idx_set_parse(tiny_img, TINY_IMG_LEN, "imgs", lab, TINY_LAB_LEN, "labs",
                                 &set), SCN_ERR_FORMAT, "labs", "label 10 at index 4");
    CHECK_FAIL(scn_idx_set_parse(tiny_img, TINY_IMG_LEN, "imgs", tiny_img, TINY_IMG_LEN,
                                 "labs", &set), SCN_ERR_FORMAT, "labs",
               "an IDX images file (3 dimensions) where labels");
    CHECK_FAIL(scn_idx_set_parse(tiny_img, TINY_IMG_LEN, "imgs", tiny_lab, TINY_LAB_LEN,
                                 "labs", NULL), SCN_ERR_ARG, "", "NULL");
#undef FRESH
}

/* ---------------------------------------------------------------------
 * Files: scn_idx_load
 * --------------------------------------------------------------------- */

static void rm_tree(const char *d) {
    DIR *dp = opendir(d);
    struct dirent *e;
    char p[512];
    if (!dp) return;
    while ((e = readdir(dp)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", d, e->d_name);
        if (unlink(p) != 0) rm_tree(p);
    }
    closedir(dp);
    rmdir(d);
}

/* A fresh subdirectory of the test directory. */
static const char *subdir(const char *name) {
    mkpath(name);
    rm_tree(path);
    mkdir(path, 0700);
    return path;
}

static int put(const char *d, const char *name, const void *b, size_t n) {
    char p[512];
    snprintf(p, sizeof p, "%s/%s", d, name);
    return write_file(p, b, n);
}

static void test_load(void) {
    unsigned char img_gz[512], lab_gz[256];
    size_t img_n = gz_stored(img_gz, tiny_img, TINY_IMG_LEN, FNAME, 32);
    size_t lab_n = gz_stored(lab_gz, tiny_lab, TINY_LAB_LEN, 0, 65535);
    scn_idx_set set;
    scn_status s;
    char d[256], d2[300];

    /* raw train pair */
    snprintf(d, sizeof d, "%s", subdir("raw"));
    CHECK(put(d, "train-images-idx3-ubyte", tiny_img, TINY_IMG_LEN) &&
          put(d, "train-labels-idx1-ubyte", tiny_lab, TINY_LAB_LEN), "write");
    CHECK(scn_idx_load(d, 1, &set) == SCN_OK, "raw load: %s", scn_error());
    check_tiny_set(&set, "raw load");
    scn_idx_free(&set);
    snprintf(d2, sizeof d2, "%s/", d);                  /* a trailing slash is fine */
    CHECK(scn_idx_load(d2, 1, &set) == SCN_OK, "raw load with slash: %s", scn_error());
    scn_idx_free(&set);
    /* no t10k pair there: the message names the directory and the files */
    CHECK_FAIL(scn_idx_load(d, 0, &set), SCN_ERR_IO, d,
               "neither t10k-labels-idx1-ubyte nor t10k-labels-idx1-ubyte.gz is there");
    CHECK(set.images == NULL && set.labels == NULL && set.count == 0, "zeroed on failure");

    /* gzipped t10k pair (stored and compressed), found under .gz names */
    snprintf(d, sizeof d, "%s", subdir("gz"));
    CHECK(put(d, "t10k-images-idx3-ubyte.gz", tiny_images_gz, sizeof tiny_images_gz) &&
          put(d, "t10k-labels-idx1-ubyte.gz", lab_gz, lab_n), "write");
    s = scn_idx_load(d, 0, &set);
    CHECK_GZ_OK(s, "gz load");
    if (s == SCN_OK) check_tiny_set(&set, "gz load");
    scn_idx_free(&set);

    /* gzip is found by its magic, not its name, and raw wins over .gz */
    snprintf(d, sizeof d, "%s", subdir("names"));
    CHECK(put(d, "train-images-idx3-ubyte", img_gz, img_n) &&
          put(d, "train-labels-idx1-ubyte.gz", tiny_lab, TINY_LAB_LEN) &&
          put(d, "train-images-idx3-ubyte.gz", "junk", 4), "write");
    s = scn_idx_load(d, 1, &set);
    CHECK_GZ_OK(s, "magic, not names");
    if (s == SCN_OK) check_tiny_set(&set, "magic, not names");
    scn_idx_free(&set);

    /* labels there, images missing */
    snprintf(d, sizeof d, "%s", subdir("half"));
    CHECK(put(d, "train-labels-idx1-ubyte", tiny_lab, TINY_LAB_LEN), "write");
    CHECK_FAIL(scn_idx_load(d, 1, &set), SCN_ERR_IO, d,
               "neither train-images-idx3-ubyte nor train-images-idx3-ubyte.gz is there");
    /* a directory that does not exist */
    snprintf(d2, sizeof d2, "%s/no-such-dir", dir);
    CHECK_FAIL(scn_idx_load(d2, 1, &set), SCN_ERR_IO, d2, "train-labels-idx1-ubyte.gz");

    /* a truncated file: the message names the file and both sizes */
    snprintf(d, sizeof d, "%s", subdir("trunc"));
    CHECK(put(d, "train-images-idx3-ubyte", tiny_img, TINY_IMG_LEN - 7) &&
          put(d, "train-labels-idx1-ubyte", tiny_lab, TINY_LAB_LEN), "write");
    snprintf(d2, sizeof d2, "%s/train-images-idx3-ubyte", d);
    CHECK_FAIL(scn_idx_load(d, 1, &set), SCN_ERR_FORMAT, d2,
               "header says 5 images of 4x3 (60 bytes of pixels) but the file holds 53");
    /* the same, gzipped */
    snprintf(d, sizeof d, "%s", subdir("truncgz"));
    img_n = gz_stored(img_gz, tiny_img, TINY_IMG_LEN - 7, 0, 65535);
    CHECK(put(d, "train-images-idx3-ubyte.gz", img_gz, img_n) &&
          put(d, "train-labels-idx1-ubyte.gz", tiny_labels_gz, sizeof tiny_labels_gz),
          "write");
    snprintf(d2, sizeof d2, "%s/train-images-idx3-ubyte.gz", d);
    s = scn_idx_load(d, 1, &set);
    if (HAVE_GZ)
        CHECK_FAIL(s, SCN_ERR_FORMAT, d2, "header says 5 images of 4x3 (60 bytes of pixels) "
                   "but the file holds 53 bytes after its 16-byte header (inflated)");
    else
        CHECK_FAIL(s, SCN_ERR_FORMAT, "labels-idx1-ubyte.gz", "needs stb_image");
    /* a damaged .gz file on disk */
    snprintf(d, sizeof d, "%s", subdir("crc"));
    img_n = gz_stored(img_gz, tiny_img, TINY_IMG_LEN, 0, 65535);
    img_gz[img_n - 6] ^= 0x55;
    CHECK(put(d, "train-images-idx3-ubyte.gz", img_gz, img_n) &&
          put(d, "train-labels-idx1-ubyte", tiny_lab, TINY_LAB_LEN), "write");
    snprintf(d2, sizeof d2, "%s/train-images-idx3-ubyte.gz", d);
    CHECK_GZ_FAIL(scn_idx_load(d, 1, &set), d2, "CRC-32 mismatch");
    /* images and labels disagree */
    snprintf(d, sizeof d, "%s", subdir("count"));
    {
        unsigned char lab[TINY_LAB_LEN];
        memcpy(lab, tiny_lab, sizeof lab);
        put_be32(lab + 4, TINY_N - 1);
        CHECK(put(d, "train-images-idx3-ubyte", tiny_img, TINY_IMG_LEN) &&
              put(d, "train-labels-idx1-ubyte", lab, TINY_LAB_LEN - 1), "write");
    }
    CHECK_FAIL(scn_idx_load(d, 1, &set), SCN_ERR_FORMAT, "train-images-idx3-ubyte holds 5 "
               "images but", "train-labels-idx1-ubyte holds 4 labels");
    /* a directory where a file should be */
    snprintf(d, sizeof d, "%s", subdir("isdir"));
    snprintf(d2, sizeof d2, "%s/train-labels-idx1-ubyte", d);
    mkdir(d2, 0700);
    CHECK_FAIL(scn_idx_load(d, 1, &set), SCN_ERR_IO, d2, "");
    /* arguments */
    CHECK_FAIL(scn_idx_load(NULL, 1, &set), SCN_ERR_ARG, "", "NULL directory");
    CHECK_FAIL(scn_idx_load(d, 1, NULL), SCN_ERR_ARG, "", "NULL output");
}

/* ---------------------------------------------------------------------
 * The real Fashion-MNIST, if installed
 * --------------------------------------------------------------------- */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void check_fashion(int train) {
    /* from Python's gzip module on the same files */
    static const unsigned char first_train[20] = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5,
                                                  0, 9, 5, 5, 7, 9, 1, 0, 6, 4};
    static const unsigned char first_test[20] = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7,
                                                 4, 5, 7, 3, 4, 1, 2, 4, 8, 0};
    const int n = train ? 60000 : 10000;
    const uint64_t sum_all = train ? 3431114169u : 573469082u;
    const uint64_t sum_first = train ? 76247 : 33456;
    scn_idx_set set;
    double t = now();
    scn_status s = scn_idx_load(FASHION_DIR, train, &set);
    t = now() - t;
    CHECK_GZ_OK(s, train ? "Fashion-MNIST train" : "Fashion-MNIST t10k");
    if (s != SCN_OK) return;
    printf("idx: Fashion-MNIST %s: %d images of %dx%d, %d classes, loaded in %.3f s\n",
           train ? "train" : "t10k", set.count, set.rows, set.cols, set.classes, t);
    CHECK(set.count == n && set.rows == 28 && set.cols == 28 && set.classes == 10,
          "%d images of %dx%d, %d classes", set.count, set.rows, set.cols, set.classes);
    if (set.count == n && set.rows == 28 && set.cols == 28) {
        int per_class[10] = {0};
        uint64_t sum = 0, first = 0;
        size_t i;
        for (i = 0; i < (size_t)n; i++)
            if (set.labels[i] < 10) per_class[set.labels[i]]++;
        for (i = 0; i < 10; i++)
            CHECK(per_class[i] == n / 10, "class %zu: %d items", i, per_class[i]);
        CHECK(memcmp(set.labels, train ? first_train : first_test, 20) == 0,
              "first labels differ");
        for (i = 0; i < (size_t)n * 784; i++) sum += set.images[i];
        for (i = 0; i < 784; i++) first += set.images[i];
        CHECK(sum == sum_all && first == sum_first, "pixel sums %llu, %llu",
              (unsigned long long)sum, (unsigned long long)first);
    }
    scn_idx_free(&set);
}

static void test_fashion(void) {
    if (access(FASHION_DIR, R_OK) != 0) {
        printf("idx: note: %s is absent (Debian package dataset-fashion-mnist); "
               "skipping the real data set\n", FASHION_DIR);
        return;
    }
    check_fashion(1);
    check_fashion(0);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/scn_test_idx_XXXXXX");
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    build_tiny();
    build_medium();
    if (!HAVE_GZ) printf("idx: note: built without stb_image; gzip cases expect the error\n");
    test_valid_raw();
    test_valid_gzip();
    test_prefixes_and_corruptions();
    test_gzip_errors();
    test_huge_inputs();
    test_idx_errors();
    test_load();
    test_fashion();
    rm_tree(dir);
    return check_summary("idx");
}
