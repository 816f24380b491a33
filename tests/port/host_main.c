/* host_main.c - links scn.h's implementation with the host's stb_image. */
#include "../../scn.h"
#include <stdio.h>

int host_stb_ok(void);

int main(void) {
    if (!host_stb_ok()) { fprintf(stderr, "host stb_image failed\n"); return 1; }
    if (scn_gemm_kernel() == NULL) return 1;
    return 0;
}
