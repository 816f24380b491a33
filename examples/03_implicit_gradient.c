/* 03_implicit_gradient.c - lesson 3: the gradient through a sparse code, three ways.
 *
 *   cc -O2 -fopenmp -o 03_implicit_gradient examples/03_implicit_gradient.c -lm
 *   ./03_implicit_gradient                (writes 03_implicit_gradient.png)
 *
 * A loss of the code, L = 1/2 |a*(x, lambda1) - t|^2, where a* solves SCN
 * eq. 1. Its gradient with respect to the signal x and lambda1 by
 *   1. the fixed point (SCN eqs. 11-17): on the active set A,
 *      gamma_A = (D_A^T D_A + lambda2 I)^-1 dL/da_A, dL/dx = D gamma (eq. 17),
 *      dL/dlambda1 = -sum gamma (eq. 13): scn_en_backward, one small solve;
 *   2. unrolling K iterations of FISTA and backpropagating through each
 *      one (written out below): exact for the K-step map, not for a*;
 *   3. central finite differences of a* from scn_en_solve: the reference.
 */
#define _POSIX_C_SOURCE 200809L
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include "../tools/png.h"
#include <time.h>

enum { m = 20, n = 40, NK = 8, KMAX = 2000 };
static const double lambda1 = 0.1, lambda2 = 0.01;
static float D[m * n], x[m + 1], tgt[n];  /* x[m] holds lambda1 */
static double Gram[n * n], L;   /* D^T D + lambda2 I and its largest eigenvalue bound */
static scn_workspace ws;        /* keeps the solver's Gram matrix and step across calls */
static scn_solve_desc sd;       /* lambda2 and ws; lambda1 set per solve */

/* L at the exact code (scn_en_solve, polished) for theta = (x, lambda1). */
static double loss_exact(const float *theta, float *alpha) {
    double l = 0.0;
    int j;
    sd.lambda1 = theta[m];
    if (scn_en_solve(D, m, n, theta, 1, &sd, alpha, NULL) != SCN_OK) {
        fprintf(stderr, "%s\n", scn_error());
        exit(1);
    }
    for (j = 0; j < n; j++) l += 0.5 * pow(alpha[j] - tgt[j], 2);
    return l;
}

/* K FISTA iterations from a = 0 (SCN Algorithm 1, step 1/L), then reverse
 * mode through them: gx = (dL/dx, dL/dlambda1) of L(a_K). */
static void unrolled(int K, double *gx) {
    static double z[KMAX * n], c[KMAX];  /* every iterate is kept for the backward */
    double a[n], y[n], dtx[n], abar[n], ybar[n], zbar[n], s = 1.0;
    int t, i, j, k;
    for (j = 0; j < n; j++)
        for (i = 0, dtx[j] = a[j] = y[j] = 0.0; i < m; i++) dtx[j] += D[i * n + j] * x[i];
    for (t = 0; t < K; t++) {          /* forward, keeping z_t and c_t */
        double s_next = (1.0 + sqrt(1.0 + 4.0 * s * s)) / 2.0;
        c[t] = (s - 1.0) / s_next;
        for (j = 0; j < n; j++) {       /* z_t = y_t - (Gram y_t - D^T x + lambda1) / L */
            double g = lambda1 - dtx[j];
            for (k = 0; k < n; k++) g += Gram[j * n + k] * y[k];
            z[t * n + j] = y[j] - g / L;
        }
        for (j = 0; j < n; j++) {       /* a_t+1 = max(0, z_t); y_t+1 = a_t+1 + c_t (a_t+1 - a_t) */
            double next = fmax(0.0, z[t * n + j]);
            y[j] = next + c[t] * (next - a[j]);
            a[j] = next;
        }
        s = s_next;
    }
    for (j = 0; j < n; j++) abar[j] = a[j] - tgt[j], ybar[j] = 0.0;  /* dL/da_K; y_K unused */
    memset(gx, 0, sizeof(double) * (m + 1));
    for (t = K - 1; t >= 0; t--) {     /* backward: adjoints of a_t+1, z_t, y_t */
        for (j = 0; j < n; j++) {
            abar[j] += (1.0 + c[t]) * ybar[j];
            zbar[j] = z[t * n + j] > 0.0 ? abar[j] : 0.0;
            abar[j] = -c[t] * ybar[j];  /* what a_t receives through y_t+1 */
            gx[m] -= zbar[j] / L;
        }
        for (j = 0; j < n; j++) {       /* y_t enters z_t through I - Gram / L */
            ybar[j] = zbar[j];
            for (k = 0; k < n; k++) ybar[j] -= Gram[j * n + k] * zbar[k] / L;
        }
        for (i = 0; i < m; i++)         /* and x through D^T x / L */
            for (j = 0; j < n; j++) gx[i] += D[i * n + j] * zbar[j] / L;
    }
}

/* |u - v| / |v| over the x part (*ex) and the lambda1 part (*el) */
static void rel_err(const double *u, const double *v, double *ex, double *el) {
    double e = 0.0, r = 0.0;
    int i;
    for (i = 0; i < m; i++) { e += pow(u[i] - v[i], 2); r += v[i] * v[i]; }
    *ex = sqrt(e / r);
    *el = fabs(u[m] - v[m]) / fabs(v[m]);
}

int main(void) {
    static const double Ks[NK] = { 10, 20, 50, 100, 200, 500, 1000, 2000 };
    double fd[m + 1], fp[m + 1], un[m + 1], t_fp, t_fd;
    double err_x[NK], err_l1[NK], fp_ex[2], fp_el[2], fp_k[2] = { 10, 2000 };
    float alpha[n], G[n], dx[m], dl1, xs[m + 1];
    scn_rng rng;
    canvas cv;
    chart ch = { 90, 60, 560, 340, 10, 2000, 1e-8, 10, 1, 1, 0 };
    int i, j, r, fail = 0;
    clock_t t0;                         /* processor time: the lesson runs on one thread */

    scn_rng_seed(&rng, 3, 1);
    for (i = 0; i < m * n; i++) D[i] = scn_rng_normal(&rng) / sqrtf((float)m);
    for (i = 0; i < m; i++) x[i] = scn_rng_normal(&rng);
    x[m] = (float)lambda1;
    for (j = 0; j < n; j++) tgt[j] = scn_rng_uniform(&rng);
    for (j = 0; j < n * n; j++)
        for (i = 0, Gram[j] = j / n == j % n ? lambda2 : 0.0; i < m; i++)
            Gram[j] += (double)D[i * n + j / n] * D[i * n + j % n];
    if (scn_en_lipschitz(D, m, n, (float)lambda2, &L) != SCN_OK) return 1;

    /* 1. fixed point: solve, then scn_en_backward with G = dL/da = a - t */
    sd.lambda2 = (float)lambda2;
    sd.ws = &ws;
    t0 = clock();
    for (r = 0; r < 100; r++) {         /* 100 times, to time it */
        loss_exact(x, alpha);
        for (j = 0; j < n; j++) G[j] = alpha[j] - tgt[j];
        if (scn_en_backward(D, m, n, x, 1, alpha, G, &sd, NULL, dx, &dl1) != SCN_OK) {
            fprintf(stderr, "%s\n", scn_error());
            return 1;
        }
    }
    t_fp = (double)(clock() - t0) / CLOCKS_PER_SEC / 100;
    for (i = 0; i < m; i++) fp[i] = dx[i];
    fp[m] = dl1;
    for (j = 0, r = 0; j < n; j++) r += alpha[j] > 0;
    printf("m = %d, n = %d, lambda1 = %g, lambda2 = %g: %d of %d atoms active\n", m, n,
           lambda1, lambda2, r, n);

    /* 3. central finite differences, step 1e-3 as floats take it */
    t0 = clock();
    for (i = 0; i <= m; i++) {
        float up = x[i] + 1e-3f, down = x[i] - 1e-3f;
        double l_up;
        memcpy(xs, x, sizeof xs);
        xs[i] = up;
        l_up = loss_exact(xs, alpha);
        xs[i] = down;
        fd[i] = (l_up - loss_exact(xs, alpha)) / ((double)up - down);
    }
    t_fd = (double)(clock() - t0) / CLOCKS_PER_SEC;

    printf("method                   error dL/dx   error dL/dlambda1   time per gradient\n");
    rel_err(fp, fd, &fp_ex[0], &fp_el[0]);
    fp_ex[1] = fp_ex[0], fp_el[1] = fp_el[0];   /* drawn as flat lines */
    printf("fixed point, eqs. 11-17  %11.2e   %17.2e   %10.1f us\n", fp_ex[0], fp_el[0],
           1e6 * t_fp);
    for (r = 0; r < NK; r++) {          /* 2. unrolled FISTA for growing K */
        t0 = clock();
        unrolled((int)Ks[r], un);
        rel_err(un, fd, &err_x[r], &err_l1[r]);
        printf("unrolled FISTA, K = %4.0f  %11.2e   %17.2e   %10.1f us\n", Ks[r], err_x[r],
               err_l1[r], 1e6 * (clock() - t0) / CLOCKS_PER_SEC);
    }
    printf("finite differences       (reference)   (reference)         %10.1f us\n",
           1e6 * t_fd);

    /* checks: the fixed point agrees with finite differences, unrolling approaches it */
    fail = fp_ex[0] > 1e-3 || fp_el[0] > 1e-3 || err_x[NK - 1] > 1e-2 ||
           err_x[NK - 1] > err_x[0] || err_l1[NK - 1] > err_l1[0];
    printf(fail ? "FAIL: a gradient is off (see the table)\n"
                : "checks passed: the fixed point matches, unrolling converges with K\n");

    if (!canvas_init(&cv, 700, 460)) return 1;
    chart_axes(&cv, &ch, "gradient error vs finite differences", "unrolled iterations K",
               "relative error");
    chart_series(&cv, &ch, Ks, err_x, NK, 0x1f77b4, 1, "unrolled, dL/dx");
    chart_series(&cv, &ch, Ks, err_l1, NK, 0xff7f0e, 1, "unrolled, dL/dl1");
    chart_series(&cv, &ch, fp_k, fp_ex, 2, 0x2ca02c, 0, "fixed point, dL/dx");
    chart_series(&cv, &ch, fp_k, fp_el, 2, 0xd62728, 0, "fixed point, dL/dl1");
    if (canvas_save(&cv, "03_implicit_gradient.png", "03_implicit_gradient")) fail = 1;
    else printf("wrote 03_implicit_gradient.png\n");
    canvas_free(&cv);
    scn_workspace_free(&ws);
    return fail;
}
