/* png.h - the pictures of the scn tool: an RGB canvas with boxes, lines
 * and text, written as PNG by stb_image_write (libstb-dev). Included by
 * tools/scn.c only; the library itself never draws. Without the header
 * (a cross compiler that does not see /usr/include/stb) the tool builds
 * and its picture options say so.
 *
 * Text is stb_easy_font's: each glyph a handful of axis-aligned quads,
 * filled here as boxes, about 6 x 7 pixels per character at scale 1. */
#ifndef SCN_TOOL_PNG_H
#define SCN_TOOL_PNG_H

#if defined(__has_include)
#if __has_include(<stb/stb_image_write.h>) && __has_include(<stb/stb_easy_font.h>)
#define SCN_TOOL_PNG 1
#endif
#else
#define SCN_TOOL_PNG 1
#endif

#ifdef SCN_TOOL_PNG
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#endif
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#include <stb/stb_easy_font.h>
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif
#endif

typedef struct canvas {
    int w, h;
    unsigned char *rgb;     /* w x h x 3, row-major */
} canvas;

/* A w x h canvas filled white; 0 if out of memory. */
static int canvas_init(canvas *c, int w, int h) {
    c->w = w;
    c->h = h;
    c->rgb = (unsigned char *)malloc((size_t)w * h * 3);
    if (c->rgb) memset(c->rgb, 255, (size_t)w * h * 3);
    return c->rgb != NULL;
}

static void canvas_free(canvas *c) { free(c->rgb); c->rgb = NULL; }

/* Fills [x0, x1) x [y0, y1), clipped, with colour 0xRRGGBB. */
static void canvas_box(canvas *c, int x0, int y0, int x1, int y1, unsigned rgb) {
    int x, y;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > c->w) x1 = c->w;
    if (y1 > c->h) y1 = c->h;
    for (y = y0; y < y1; y++)
        for (x = x0; x < x1; x++) {
            unsigned char *p = c->rgb + ((size_t)y * c->w + x) * 3;
            p[0] = (unsigned char)(rgb >> 16);
            p[1] = (unsigned char)(rgb >> 8);
            p[2] = (unsigned char)rgb;
        }
}

/* A line of the given width from (x0, y0) to (x1, y1), by steps of one
 * pixel along its longer side. */
static void canvas_line(canvas *c, double x0, double y0, double x1, double y1, int width,
                        unsigned rgb) {
    double dx = x1 - x0, dy = y1 - y0;
    int steps = (int)(fabs(dx) > fabs(dy) ? fabs(dx) : fabs(dy)) + 1, i;
    for (i = 0; i <= steps; i++) {
        int x = (int)floor(x0 + dx * i / steps + 0.5), y = (int)floor(y0 + dy * i / steps + 0.5);
        canvas_box(c, x - width / 2, y - width / 2, x - width / 2 + width,
                   y - width / 2 + width, rgb);
    }
}

/* Text with its top-left corner at (x, y), each font pixel scale x scale. */
static void canvas_text(canvas *c, int x, int y, const char *text, int scale, unsigned rgb) {
#ifdef SCN_TOOL_PNG
    static float quads[4 * 4 * 2000];       /* 4 vertices of 16 bytes per quad */
    char buf[256];
    unsigned char colour[4] = { 0, 0, 0, 255 };
    int n, q;
    snprintf(buf, sizeof buf, "%s", text);
    n = stb_easy_font_print(0.0f, 0.0f, buf, colour, quads, (int)sizeof quads);
    for (q = 0; q < n; q++) {
        const float *v = quads + q * 16;     /* x, y, z, colour: 4 floats a vertex */
        int qx0 = (int)v[0], qy0 = (int)v[1], qx1 = (int)v[8], qy1 = (int)v[9];
        canvas_box(c, x + qx0 * scale, y + qy0 * scale, x + qx1 * scale, y + qy1 * scale, rgb);
    }
#else
    (void)c; (void)x; (void)y; (void)text; (void)scale; (void)rgb;
#endif
}

/* Width in pixels of text at scale. */
static int text_width(const char *text, int scale) {
#ifdef SCN_TOOL_PNG
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    return stb_easy_font_width(buf) * scale;
#else
    (void)text;
    return 6 * scale;
#endif
}

/* Gray level of v in [lo, hi], clamped. */
static unsigned gray(double v, double lo, double hi) {
    int g = hi > lo ? (int)(255.0 * (v - lo) / (hi - lo) + 0.5) : 128;
    if (g < 0) g = 0;
    if (g > 255) g = 255;
    return (unsigned)g * 0x010101u;
}

#ifdef SCN_TOOL_PNG
static void png_to_file(void *f, void *data, int size) {
    (void)fwrite(data, 1, (size_t)size, (FILE *)f);    /* ferror() is checked after */
}
#endif

/* Writes the canvas as PNG to path, through a temporary in its directory
 * renamed over it (a failed write leaves an old file as it was). 0, or 1
 * after printing why. */
static int canvas_save(const canvas *c, const char *path, const char *cmd) {
#ifdef SCN_TOOL_PNG
    char tmp[4200];
    FILE *f;
    int ok;
    if (scn_output_check(path) != SCN_OK) {
        fprintf(stderr, "%s: %s\n", cmd, scn_error());
        return 1;
    }
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    if (!(f = fopen(tmp, "wb"))) {
        fprintf(stderr, "%s: cannot write %s: %s\n", cmd, tmp, strerror(errno));
        return 1;
    }
    ok = stbi_write_png_to_func(png_to_file, f, c->w, c->h, 3, c->rgb, c->w * 3);
    ok = ok && !ferror(f);
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        fprintf(stderr, "%s: cannot write %s (disk full?)\n", cmd, path);
        remove(tmp);
        return 1;
    }
    return 0;
#else
    (void)c; (void)path;
    fprintf(stderr, "%s: built without <stb/stb_image_write.h> (apt-get install libstb-dev): "
            "no PNG output\n", cmd);
    return 1;
#endif
}

#endif
