/* png.h - the pictures of the scn tool and the lessons in examples/: an
 * RGB canvas with boxes, lines, text, gray images and line charts, written
 * as PNG by stb_image_write (libstb-dev). Included by tools/scn.c and the
 * lessons (after scn.h); the library itself never draws. Without the
 * header (a cross compiler that does not see /usr/include/stb) the tool
 * builds and its picture options say so.
 *
 * Text is stb_easy_font's: each glyph a handful of axis-aligned quads,
 * filled here as boxes, about 6 x 7 pixels per character at scale 1. */
#ifndef SCN_TOOL_PNG_H
#define SCN_TOOL_PNG_H

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

/* A program uses some of these helpers, not all: no warning for the rest. */
#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
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

/* A gray picture of the h x w values v (row-major), each value a
 * scale x scale square, lo black and hi white, top-left at (x, y). */
static void canvas_gray_image(canvas *c, int x, int y, const float *v, int h, int w,
                              int scale, double lo, double hi) {
    int i, j;
    for (i = 0; i < h; i++)
        for (j = 0; j < w; j++)
            canvas_box(c, x + j * scale, y + i * scale, x + (j + 1) * scale,
                       y + (i + 1) * scale, gray(v[i * w + j], lo, hi));
}

/* A line chart: the plot area on the canvas and the ranges it shows. On a
 * log axis (logx, logy) the range must be positive and the ticks are the
 * powers of ten in it. Series are drawn with their legend, top right. */
typedef struct chart {
    int x0, y0, w, h;
    double xlo, xhi, ylo, yhi;
    int logx, logy;
    int entries;                /* legend entries so far */
} chart;

/* Where t falls in [lo, hi], 0..1, on a linear or log scale, clamped. */
static double chart_frac(double t, double lo, double hi, int log_axis) {
    double f = log_axis ? (log10(t > 0 ? t : lo) - log10(lo)) / (log10(hi) - log10(lo))
                        : (t - lo) / (hi - lo);
    return f < 0 ? 0 : f > 1 ? 1 : f;
}
static double chart_px(const chart *k, double x) {
    return k->x0 + chart_frac(x, k->xlo, k->xhi, k->logx) * k->w;
}
static double chart_py(const chart *k, double y) {
    return k->y0 + k->h - chart_frac(y, k->ylo, k->yhi, k->logy) * k->h;
}

/* The ticks of an axis: powers of ten on a log one, else a step of 1, 2 or
 * 5 times a power of ten giving about 5 of them. */
static void chart_ticks(canvas *cv, const chart *k, int vertical) {
    double lo = vertical ? k->ylo : k->xlo, hi = vertical ? k->yhi : k->xhi, t, step;
    int log_axis = vertical ? k->logy : k->logx;
    char num[32];
    if (log_axis) {
        t = pow(10.0, ceil(log10(lo) - 1e-9));
        step = 10.0;
    } else {
        step = pow(10.0, floor(log10((hi - lo) / 5)));
        step *= (hi - lo) / 5 / step < 1.5 ? 1 : (hi - lo) / 5 / step < 3.5 ? 2 : 5;
        t = ceil(lo / step - 1e-9) * step;
    }
    for (; t <= hi * (1 + 1e-9) + 1e-12; t = log_axis ? t * step : t + step) {
        if (log_axis && (t < 1e-3 || t > 1e4))
            snprintf(num, sizeof num, "1e%d", (int)floor(log10(t) + 0.5));
        else
            snprintf(num, sizeof num, "%g", !log_axis && fabs(t) < step * 1e-6 ? 0.0 : t);
        if (vertical) {
            int y = (int)chart_py(k, t);
            canvas_line(cv, k->x0 + 1, y, k->x0 + k->w, y, 1, 0xe0e0e0);
            canvas_line(cv, k->x0 - 5, y, k->x0, y, 1, 0x000000);
            canvas_text(cv, k->x0 - 8 - text_width(num, 1), y - 3, num, 1, 0x000000);
        } else {
            int x = (int)chart_px(k, t);
            canvas_line(cv, x, k->y0 + 1, x, k->y0 + k->h, 1, 0xe0e0e0);
            canvas_line(cv, x, k->y0 + k->h, x, k->y0 + k->h + 5, 1, 0x000000);
            canvas_text(cv, x - text_width(num, 1) / 2, k->y0 + k->h + 8, num, 1, 0x000000);
        }
    }
}

/* Grid, ticks with their numbers, frame, title (above) and axis names. */
static void chart_axes(canvas *cv, chart *k, const char *title, const char *xname,
                       const char *yname) {
    k->entries = 0;
    chart_ticks(cv, k, 0);
    chart_ticks(cv, k, 1);
    canvas_line(cv, k->x0, k->y0 + k->h, k->x0 + k->w, k->y0 + k->h, 1, 0x000000);
    canvas_line(cv, k->x0, k->y0, k->x0, k->y0 + k->h, 1, 0x000000);
    canvas_text(cv, k->x0 + k->w / 2 - text_width(title, 2) / 2, k->y0 - 34, title, 2, 0);
    canvas_text(cv, k->x0 + k->w / 2 - text_width(xname, 1) / 2, k->y0 + k->h + 22, xname,
                1, 0x000000);
    canvas_text(cv, k->x0 - 40, k->y0 - 14, yname, 1, 0x000000);
}

/* A series through (x[i], y[i]), i < n, with points marked when dots, and
 * its legend entry when label is not NULL. */
static void chart_series(canvas *cv, chart *k, const double *x, const double *y, int n,
                         unsigned rgb, int dots, const char *label) {
    int i, lx = k->x0 + k->w - 150, ly = k->y0 + 12 + 18 * k->entries;
    for (i = 0; i < n; i++) {
        double px = chart_px(k, x[i]), py = chart_py(k, y[i]);
        if (i > 0) canvas_line(cv, chart_px(k, x[i - 1]), chart_py(k, y[i - 1]), px, py, 2, rgb);
        if (dots) canvas_box(cv, (int)px - 3, (int)py - 3, (int)px + 4, (int)py + 4, rgb);
    }
    if (!label) return;
    canvas_box(cv, lx - 6, ly - 8, k->x0 + k->w - 4, ly + 10, 0xffffff);
    canvas_line(cv, lx, ly, lx + 24, ly, 3, rgb);
    canvas_text(cv, lx + 30, ly - 6, label, 1, 0x000000);
    k->entries++;
}

#if defined(__GNUC__) || defined(__clang__)
#pragma GCC diagnostic pop
#endif

#endif
