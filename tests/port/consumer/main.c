/* main.c - a two-file consumer of an installed scn.h (pkg-config or CMake):
 * this file holds the implementation, other.c uses the API. */
#define SCN_IMPLEMENTATION
#include <scn.h>
#include <stdio.h>

int other_solve(void);

int main(void) {
    printf("scn %d.%d.%d, GEMM kernel %s\n", SCN_VERSION_MAJOR, SCN_VERSION_MINOR,
           SCN_VERSION_PATCH, scn_gemm_kernel());
    return other_solve();
}
