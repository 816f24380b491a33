// The header must build as C++11 too: compile the implementation and make
// one call through each section that needs no files.
#define SCN_IMPLEMENTATION
#include "../scn.h"
#include <cstdio>

int main() {
    float A[4] = {1, 2, 3, 4}, B[4] = {1, 0, 0, 1}, C[4] = {0, 0, 0, 0};
    scn_gemm(0, 0, 2, 2, 2, 1.0f, A, 2, B, 2, 0.0f, C, 2);
    if (C[0] != 1 || C[1] != 2 || C[2] != 3 || C[3] != 4) {
        std::fprintf(stderr, "cxx: gemm gave %g %g %g %g\n", C[0], C[1], C[2], C[3]);
        return 1;
    }
    return 0;
}
