/* test_recon.c - scn_net_sc_recon: the input it returns is the image the
 * SC layer saw; with a complete dictionary, signed codes, lambda1 = 0 and a
 * tiny lambda2 the reconstruction equals that input; with a large lambda1
 * it is shrunk; a layer that is not sc, and a net that has not run, are
 * errors. */
#include "../scn.h"
#include "check.h"

int main(void) {
    enum { N = 2, H = 5, W = 6 };
    float x[N * H * W], in[N * H * W], rec[N * H * W];
    scn_net *exact = scn_net_create("sc:n=9,l1=0,l2=1e-6,signed gap linear:n=2", 1, H, W, 4);
    scn_net *shrunk = scn_net_create("sc:n=9,l1=5 gap linear:n=2", 1, H, W, 4);
    scn_rng r;
    int i, shape[4] = { 0, 0, 0, 0 };
    double worst = 0.0, rin = 0.0, rrec = 0.0;
    CHECK(exact && shrunk, "nets: %s", scn_error());
    if (!exact || !shrunk) return check_summary("recon");
    /* exact codes, not evaluation's early stop (SCN_EVAL_TOL): the
       dictionary is complete and lambda2 tiny, so FISTA converges slowly */
    CHECK(scn_net_set_eval_tol(exact, 0.0f) == SCN_OK, "%s", scn_error());
    CHECK(scn_net_set_eval_tol(exact, 1.0f) == SCN_ERR_ARG && strstr(scn_error(), "[0, 1)"),
          "eval tolerance 1: \"%s\"", scn_error());
    scn_rng_seed(&r, 3, 3);
    for (i = 0; i < N * H * W; i++) x[i] = scn_rng_normal(&r);
    CHECK(scn_net_sc_recon(exact, 0, shape, NULL, NULL) == SCN_ERR_ARG &&
          strstr(scn_error(), "not run"), "before a forward: \"%s\"", scn_error());
    CHECK(scn_net_forward(exact, x, N, 0) != NULL, "forward: %s", scn_error());
    CHECK(scn_net_sc_recon(exact, 1, shape, in, rec) == SCN_ERR_ARG &&
          strstr(scn_error(), "gap, not sc"), "layer 2 (gap): \"%s\"", scn_error());
    CHECK(scn_net_sc_recon(exact, 0, shape, NULL, NULL) == SCN_OK &&
          shape[0] == N && shape[1] == 1 && shape[2] == H && shape[3] == W,
          "shape %d %d %d %d", shape[0], shape[1], shape[2], shape[3]);
    CHECK(scn_net_sc_recon(exact, 0, shape, in, rec) == SCN_OK, "recon: %s", scn_error());
    for (i = 0; i < N * H * W; i++) {
        worst = fmax(worst, fabs(in[i] - x[i]));
        worst = fmax(worst, fabs(rec[i] - x[i]));
    }
    CHECK(worst < 1e-3, "input and D alpha vs the image: %g", worst);
    /* at the default evaluation tolerance FISTA stops early, unpolished:
       close to the image, not equal to it */
    CHECK(scn_net_set_eval_tol(exact, SCN_EVAL_TOL) == SCN_OK &&
          scn_net_forward(exact, x, N, 0) != NULL &&
          scn_net_sc_recon(exact, 0, shape, in, rec) == SCN_OK, "%s", scn_error());
    for (i = 0, worst = 0.0, rin = 0.0; i < N * H * W; i++) {
        worst = fmax(worst, fabs(rec[i] - x[i]));
        rin = fmax(rin, fabs(x[i]));
    }
    CHECK(worst > 1e-4 && worst < 0.3 * rin, "early stop: |D alpha - x| %g of |x| %g", worst,
          rin);
    rin = 0.0;
    /* lambda1 = 5 thresholds most codes away: a much smaller reconstruction */
    CHECK(scn_net_forward(shrunk, x, N, 0) != NULL, "forward: %s", scn_error());
    CHECK(scn_net_sc_recon(shrunk, 0, shape, in, rec) == SCN_OK, "recon: %s", scn_error());
    for (i = 0; i < N * H * W; i++) { rin += in[i] * in[i]; rrec += rec[i] * rec[i]; }
    CHECK(rrec < 0.5 * rin, "lambda1 5: |D alpha|^2 %g of |x|^2 %g", rrec, rin);
    scn_net_free(exact);
    scn_net_free(shrunk);
    return check_summary("recon");
}
