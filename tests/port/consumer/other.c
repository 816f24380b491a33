/* other.c - the API only: one sparse code, D = I, x = (1, 0.05), lambda1
 * 0.1 gives alpha = (0.9, 0). */
#include <scn.h>
#include <stdio.h>

int other_solve(void);

int other_solve(void) {
    float D[4] = {1, 0, 0, 1}, X[2] = {1.0f, 0.05f}, alpha[2] = {0, 0};
    scn_solve_desc sd = {0};
    sd.lambda1 = 0.1f;
    if (scn_en_solve(D, 2, 2, X, 1, &sd, alpha, NULL) != SCN_OK ||
        alpha[0] < 0.8999f || alpha[0] > 0.9001f || alpha[1] != 0.0f) {
        fprintf(stderr, "consumer: solve gave (%g, %g): %s\n", alpha[0], alpha[1], scn_error());
        return 1;
    }
    return 0;
}
