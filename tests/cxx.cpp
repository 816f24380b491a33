// The header must build as C++11 too: compile the implementation and make
// one call through each section that needs no files. A C++ user's
// zero-initialisation of the description structs ({} and T x{}) compiles
// warning-free under -Wall -Wextra -Werror (C's {0} warns in C++).
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
    scn_solve_desc sd = {};
    scn_sgd_desc od{};
    scn_train_desc td = {};
    scn_train_state st{};
    float D[4] = {1, 0, 0, 1}, X[2] = {1.0f, 0.05f}, alpha[2] = {0, 0};
    sd.lambda1 = 0.1f;
    if (scn_en_solve(D, 2, 2, X, 1, &sd, alpha, nullptr) != SCN_OK || alpha[0] < 0.8999f ||
        alpha[0] > 0.9001f || alpha[1] != 0.0f) {
        std::fprintf(stderr, "cxx: solve gave %g %g: %s\n", alpha[0], alpha[1], scn_error());
        return 1;
    }
    (void)od; (void)td; (void)st;
    return 0;
}
