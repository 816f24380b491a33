/* test_cuda_host.cu - the CUDA backend without a GPU: scn_cuda.cu built
 * with SCN_CUDA_HOST_EMULATION, so every kernel body runs on the host over
 * its whole index space through the backend's own orchestration (FISTA
 * stages, the per-column polish and backward, the reductions), with host
 * memory behind the table's upload and download and scn.h's CPU GEMM in
 * cuBLAS's place. Each entry is compared with the CPU backend
 * (tests/cuda_checks.h), then training steps of an SCN, a DDSE and an
 * SDNet net routed through the table with scn_backend_set. */
#define SCN_CUDA_HOST_EMULATION
/* a few columns' Cholesky scratch per launch, so the polish and the
 * backward pass go through their column batches */
#define SCN_CUDA_COLUMN_BYTES ((size_t)64 << 10)
static unsigned long cc_launches;       /* kernels launched by the backend */
#define SCN_CUDA_LAUNCH_HOOK(who) ((void)(who), cc_launches++)
#include "../scn_cuda.cu"
#include "check.h"
#include "cuda_checks.h"

int main(void) {
    const scn_backend *be = scn_cuda_backend();
    CHECK(be != NULL && !strcmp(be->name, "cuda-emulated"), "%s", scn_error());
    CHECK(!strcmp(scn_cuda_device_name(), "host emulation"), "device name %s",
          scn_cuda_device_name());
    if (be) cc_all(be, 1);
    return check_summary("cuda_host");
}
