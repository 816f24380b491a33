/* 04_sc_layer.c - lesson 4: one convolutional sparse-coding layer on an image.
 *
 *   cc -O2 -fopenmp -o 04_sc_layer examples/04_sc_layer.c -lm
 *   ./04_sc_layer [data-dir] [image]      (writes 04_sc_layer.png)
 *
 * An SC layer (SCN section 3.1) codes every k x k patch of its input: it
 * cuts the image into the columns of a patch matrix (im2col, one column
 * per location), solves SCN eq. 1 for every column against the same
 * dictionary, and lays the codes out as n feature maps, one per atom:
 * codes[j][y][x] says how much of atom j the patch at (y, x) holds.
 * The dictionary here is drawn by hand so the maps can be read: a flat
 * atom, edges in 8 directions and bright and dark bars in 4 orientations.
 */
#define _POSIX_C_SOURCE 200809L
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "../tools/png.h"

enum { k = 5, m = k * k, n = 17, S = 28, P = S * S };

/* Atom j of the hand-drawn dictionary (m x n), unit norm: 0 flat, 1-8
 * edges (the image gets brighter towards 45 j degrees), 9-12 bright bars,
 * 13-16 dark bars (orientations 0, 45, 90, 135 degrees). */
static void draw_atoms(float *D) {
    int j, i;
    for (j = 0; j < n; j++) {
        double th = (j <= 8 ? j - 1 : (j - 9) % 4) * 3.14159265358979 / 4, norm = 0.0;
        for (i = 0; i < m; i++) {
            double u = i % k - k / 2, v = k / 2 - i / k, w = exp(-(u * u + v * v) / 4.5);
            double along = u * cos(th) + v * sin(th), across = -u * sin(th) + v * cos(th);
            double d = j == 0 ? 1.0 : j <= 8 ? w * along : w * (1.0 - across * across);
            D[i * n + j] = (float)(j >= 13 ? -d : d);
        }
        for (i = 0; i < m; i++) norm += D[i * n + j] * D[i * n + j];
        for (i = 0; i < m; i++) D[i * n + j] /= (float)sqrt(norm);
    }
}

/* Atom j's short name: flat, e0..e315 (edges), b0..b135 (bright bars), d0..d135 (dark). */
static const char *name(int j) {
    static char buf[8];
    if (j == 0) return "flat";
    snprintf(buf, sizeof buf, "%c%d", j <= 8 ? 'e' : j <= 12 ? 'b' : 'd',
             j <= 8 ? 45 * (j - 1) : 45 * ((j - 9) % 4));
    return buf;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
    int pick = argc > 2 ? atoi(argv[2]) : 0, i, j, fail = 0, edge_n = 0, flat_n = 0;
    static float D[m * n], img[P], X[m * P], alpha[n * P], codes[n * P], R[m * P];
    static float recon[P], cover[P], ones[m * P], density[P];
    double err = 0.0, norm = 0.0, edge_d = 0.0, flat_d = 0.0, busy[n] = { 0 };
    scn_idx_set set;
    scn_conv_geom g;
    scn_solve_desc sd;
    scn_solve_info info;
    canvas cv;

    if (scn_idx_load(dir, 0, &set) != SCN_OK) {
        fprintf(stderr, "%s\n", scn_error());
        return 1;
    }
    if (pick < 0 || pick >= set.count) pick = 0;
    for (i = 0; i < P; i++) img[i] = set.images[(size_t)pick * P + i] / 255.0f;
    draw_atoms(D);

    /* the layer: im2col, one elastic net per column, codes as n maps */
    memset(&sd, 0, sizeof sd);
    sd.lambda1 = 0.05f;
    sd.lambda2 = 0.01f;
    if (scn_conv_geom_init(&g, 1, 1, S, S, k, 1, k / 2) != SCN_OK ||
        scn_sc_conv_forward(&g, D, n, img, &sd, X, alpha, codes, &info) != SCN_OK) {
        fprintf(stderr, "%s\n", scn_error());
        return 1;
    }
    /* the reconstruction: every patch D a back in place (col2im), each
     * pixel the mean of the patches that cover it */
    for (i = 0; i < m * P; i++) ones[i] = 1.0f;
    if (scn_gemm(0, 0, m, P, n, 1.0f, D, n, alpha, P, 0.0f, R, P) != SCN_OK ||
        scn_col2im(&g, R, recon) != SCN_OK || scn_col2im(&g, ones, cover) != SCN_OK) {
        fprintf(stderr, "%s\n", scn_error());
        return 1;
    }
    for (i = 0; i < P; i++) {
        recon[i] /= cover[i];
        err += pow(recon[i] - img[i], 2);
        norm += img[i] * img[i];
        density[i] = 0.0f;
        for (j = 0; j < n; j++) {
            density[i] += codes[j * P + i] > 0.0f;
            busy[j] += codes[j * P + i] > 0.0f;
        }
        /* where the patch is flat (garment or background) vs where it has an edge */
        if (fabs(X[(m / 2) * P + i] - X[(m / 2 - 1) * P + i]) +
            fabs(X[(m / 2) * P + i] - X[(m / 2 - k) * P + i]) > 0.2) {
            edge_d += density[i];
            edge_n++;
        } else {
            flat_d += density[i];
            flat_n++;
        }
    }
    printf("image %d (label %d), %dx%d patches, %d atoms, lambda1 = %g, lambda2 = %g\n", pick,
           set.labels[pick], k, k, n, sd.lambda1, sd.lambda2);
    printf("%d locations, %d FISTA iterations, KKT residual %.2e, %d polished\n", P,
           info.iters, info.kkt, info.polished);
    printf("atom:      flat ");
    for (j = 1; j < n; j++) printf(" %-4s", name(j));
    printf("\nactive %%: %5.1f ", 100.0 * busy[0] / P);
    for (j = 1; j < n; j++) printf(" %4.1f", 100.0 * busy[j] / P);
    printf("\nactive atoms per location: %.2f on edges (%d), %.2f elsewhere (%d)\n",
           edge_d / edge_n, edge_n, flat_d / flat_n, flat_n);
    printf("reconstruction error |x - recon|^2 / |x|^2 = %.4f\n", err / norm);

    if (info.kkt > 1e-3 || err / norm > 0.1 || edge_d / edge_n <= flat_d / flat_n) {
        printf("FAIL: the codes are not optimal, or do not reconstruct, or edges are not busier\n");
        fail = 1;
    } else {
        printf("checks passed: optimal codes, close reconstruction, edges use more atoms\n");
    }

    if (!canvas_init(&cv, 650, 640)) return 1;
    canvas_text(&cv, 20, 10, "image, reconstruction, atoms per location", 2, 0x000000);
    canvas_gray_image(&cv, 20, 40, img, S, S, 4, 0.0, 1.0);
    canvas_gray_image(&cv, 150, 40, recon, S, S, 4, 0.0, 1.0);
    canvas_gray_image(&cv, 280, 40, density, S, S, 4, 0.0, 6.0);
    canvas_text(&cv, 410, 60, "density: black 0,", 1, 0x000000);
    canvas_text(&cv, 410, 72, "white 6 or more atoms", 1, 0x000000);
    canvas_text(&cv, 20, 170, "each atom and its feature map (white = largest code)", 2, 0);
    for (j = 0; j < n; j++) {
        int x0 = 20 + (j % 6) * 104, y0 = 200 + (j / 6) * 145;
        float atom[m], big = 1e-9f, top = 1e-9f;
        for (i = 0; i < m; i++) big = fmaxf(big, fabsf(atom[i] = D[i * n + j]));
        for (i = 0; i < P; i++) top = fmaxf(top, codes[j * P + i]);
        canvas_gray_image(&cv, x0, y0, atom, k, k, 5, -big, big);
        canvas_text(&cv, x0 + 32, y0 + 6, name(j), 2, 0x000000);
        canvas_gray_image(&cv, x0, y0 + 30, codes + j * P, S, S, 3, 0.0, top);
    }
    if (canvas_save(&cv, "04_sc_layer.png", "04_sc_layer")) fail = 1;
    else printf("wrote 04_sc_layer.png\n");
    canvas_free(&cv);
    scn_idx_free(&set);
    return fail;
}
