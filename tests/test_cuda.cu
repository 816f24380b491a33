/* test_cuda.cu - the CUDA backend on a device: every entry of the table and
 * training steps of three model families against the CPU backend from the
 * same seeds (tests/cuda_checks.h). Without a device it prints one line
 * and passes: `make test` builds it wherever nvcc is, and tests/gpu_check.sh
 * runs it where a GPU is. */
static unsigned long cc_launches;       /* kernels launched by the backend */
#define SCN_CUDA_LAUNCH_HOOK(who) ((void)(who), cc_launches++)
#include "../scn_cuda.cu"
#include "check.h"
#include "cuda_checks.h"

int main(void) {
    int count = 0;
    const scn_backend *be;
    if (cudaGetDeviceCount(&count) != cudaSuccess || count < 1) {
        printf("test_cuda: skipped, no CUDA device\n");
        return 0;
    }
    be = scn_cuda_backend();
    CHECK(be != NULL, "%s", scn_error());
    if (be) {
        printf("test_cuda: %s\n", scn_cuda_device_name());
        cc_all(be, 1);
    }
    return check_summary("cuda");
}
