#!/usr/bin/python3
"""One SDNet CSC layer in PyTorch, as the published code writes it, for make bench.

  csc_torch.py [--batch 32 --channels 3 --size 32 --atoms 64 --kernel 3
                --stride 1 --iters 2 --reps 5 --threads 2]
      forward <median s>            FISTA by conv2d (A^*) and conv_transpose2d (A)
      forward+backward <median s>   autograd through the unrolled steps
      peak_rss_mb <peak resident memory>

The same layer as `scn bench csc`: a dictionary of unit atoms (atoms x
channels x k x k, a convolution's weights), lambda 0.1, step 0.9 / lambda_K
from the power iteration (SDNet appendix eqs. 9-10, at most 50 steps, not
timed), z0 = 0, signed shrinkage, padding (k-1)/2, random inputs, an
all-ones upstream gradient for the dictionary and the input.
"""
import argparse
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

LAMBDA = 0.1


def synth(z, A, stride, pad, size):
    """A(z): the transposed convolution back to the input's size."""
    out = F.conv_transpose2d(z, A, stride=stride, padding=pad)
    return F.pad(out, (0, size - out.shape[3], 0, size - out.shape[2]))


def lambda_k(A, shape, stride, pad, size):
    """Largest eigenvalue of A^* A by power iteration (eqs. 9-10)."""
    with torch.no_grad():
        v = torch.randn(shape, generator=torch.Generator().manual_seed(0x5d))
        v /= v.norm()
        for _ in range(50):
            w = F.conv2d(synth(v, A, stride, pad, size), A, stride=stride, padding=pad)
            w /= w.norm()
            done = (w - v).norm() < 1e-5 ** 0.5
            v = w
            if done:
                break
        w = F.conv2d(synth(v, A, stride, pad, size), A, stride=stride, padding=pad)
        return float((v * w).sum())


def csc(x, A, t, iters, stride, pad):
    """FISTA (SDNet appendix eq. 6) from z = 0, signed shrinkage (eq. 8)."""
    size = x.shape[3]
    b = F.conv2d(x, A, stride=stride, padding=pad)
    z = torch.zeros_like(b)
    y, m = z, 1.0
    for _ in range(iters):
        u = y + t * (b - F.conv2d(synth(y, A, stride, pad, size), A, stride=stride,
                                  padding=pad))
        new = torch.sign(u) * F.relu(u.abs() - LAMBDA * t)
        m1 = (1 + (1 + 4 * m * m) ** 0.5) / 2
        y = new + (m - 1) / m1 * (new - z)
        z, m = new, m1
    return z


def median_time(fn, reps):
    fn()                                                     # warm-up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--channels", type=int, default=3)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--atoms", type=int, default=64)
    p.add_argument("--kernel", type=int, default=3)
    p.add_argument("--stride", type=int, default=1)
    p.add_argument("--iters", type=int, default=2)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(1)
    x = torch.randn(a.batch, a.channels, a.size, a.size, generator=g)
    A0 = torch.randn(a.atoms, a.channels, a.kernel, a.kernel, generator=g)
    A0 /= A0.flatten(1).norm(dim=1)[:, None, None, None]
    pad = (a.kernel - 1) // 2
    ho = (a.size + 2 * pad - a.kernel) // a.stride + 1
    t = 0.9 / lambda_k(A0, (1, a.atoms, ho, ho), a.stride, pad, a.size)

    def fwd():
        with torch.no_grad():
            csc(x, A0, t, a.iters, a.stride, pad)

    def fwd_bwd():
        A = A0.clone().requires_grad_()
        xi = x.clone().requires_grad_()
        csc(xi, A, t, a.iters, a.stride, pad).sum().backward()

    print("forward %.6f" % median_time(fwd, a.reps))
    print("forward+backward %.6f" % median_time(fwd_bwd, a.reps))
    print("peak_rss_mb %.1f" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


if __name__ == "__main__":
    sys.exit(main())
