/* unit_b.c - the other file: the API only (or, with -DSCN_STATIC, its own
 * private implementation too). */
#ifdef SCN_STATIC
#define SCN_IMPLEMENTATION
#endif
#include "../../scn.h"
#include <stdio.h>

int unit_b_solve(void);

/* one sparse code: D = I (2 x 2), x = (1, 0.05), lambda1 0.1 -> (0.9, 0) */
int unit_b_solve(void) {
    float D[4] = {1, 0, 0, 1}, X[2] = {1.0f, 0.05f}, alpha[2] = {0, 0};
    scn_solve_desc sd = {0};
    sd.lambda1 = 0.1f;
    if (scn_en_solve(D, 2, 2, X, 1, &sd, alpha, NULL) != SCN_OK) {
        fprintf(stderr, "unit_b: solve: %s\n", scn_error());
        return 1;
    }
    if (alpha[0] < 0.8999f || alpha[0] > 0.9001f || alpha[1] != 0.0f) {
        fprintf(stderr, "unit_b: alpha = (%g, %g), want (0.9, 0)\n", alpha[0], alpha[1]);
        return 1;
    }
    return 0;
}
