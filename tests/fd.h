/* fd.h - the one finite-difference checker every gradient test uses.
 *
 * A test wraps its loss in a function of a context (fd_loss), perturbs one
 * float at a time by +-h and compares the central difference
 * (loss(v + h) - loss(v - h)) / 2h with its analytic gradient, either at
 * every entry (fd_all, then fd_rel_err over the whole array) or at a sample
 * of entries (fd_sampled: the last entry, often a bias or lambda1, and
 * random others), error relative to the largest gradient.
 */
#ifndef SCN_TEST_FD_H
#define SCN_TEST_FD_H
#include <math.h>
#include <stddef.h>

typedef double (*fd_loss)(void *ctx);

/* (loss(v[i] + h) - loss(v[i] - h)) / 2h, v[i] restored after. */
static inline double fd_central(float *v, size_t i, float h, fd_loss loss, void *ctx) {
    float keep = v[i];
    double up, down;
    v[i] = keep + h;
    up = loss(ctx);
    v[i] = keep - h;
    down = loss(ctx);
    v[i] = keep;
    return (up - down) / (2.0 * h);
}

/* The central difference at every entry of v into out. */
static inline void fd_all(float *v, size_t count, float h, fd_loss loss, void *ctx, float *out) {
    size_t i;
    for (i = 0; i < count; i++) out[i] = (float)fd_central(v, i, h, loss, ctx);
}

/* ||a - b|| / ||b|| */
static inline double fd_rel_err(const float *a, const float *b, size_t count) {
    double num = 0.0, den = 0.0;
    size_t i;
    for (i = 0; i < count; i++) {
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
        den += (double)b[i] * b[i];
    }
    return sqrt(num / (den > 0 ? den : 1e-30));
}

/* The worst |fd - g| / max(1e-3, max |g|) over `tries` entries of v: all of
 * them when count <= tries, else the last and tries - 1 drawn through
 * below(count) (the caller's random integer in [0, count)); *at gets the
 * worst entry. */
static inline double fd_sampled(float *v, const float *g, size_t count, size_t tries, float h,
                         fd_loss loss, void *ctx, size_t (*below)(void *, size_t),
                         void *rng, size_t *at) {
    double worst = 0.0, scale = 1e-3;
    size_t t;
    if (count < tries) tries = count;
    *at = 0;
    for (t = 0; t < count; t++) if (fabs(g[t]) > scale) scale = fabs(g[t]);
    for (t = 0; t < tries; t++) {
        size_t i = count <= tries ? t : t == 0 ? count - 1 : below(rng, count);
        double err = fabs(fd_central(v, i, h, loss, ctx) - g[i]) / scale;
        if (err > worst) { worst = err; *at = i; }
    }
    return worst;
}
#endif
