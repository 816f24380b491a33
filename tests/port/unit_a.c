/* unit_a.c - the file of a two-file program that holds the implementation
 * (with -DSCN_STATIC: both files hold a private copy). */
#define SCN_IMPLEMENTATION
#include "../../scn.h"
#include <stdio.h>

int unit_b_solve(void);

int main(void) {
    float A[4] = {1, 2, 3, 4}, B[4] = {1, 0, 0, 1}, C[4];
    if (scn_gemm(0, 0, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2) != SCN_OK || C[3] != 4) {
        fprintf(stderr, "unit_a: gemm: %s\n", scn_error());
        return 1;
    }
    return unit_b_solve();
}
