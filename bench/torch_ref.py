#!/usr/bin/python3
"""The same sparse-coding layer and scn-mnist network in PyTorch, for make bench.

  torch_ref.py layer [--batch 32 --channels 16 --size 28 --atoms 64 --kernel 3
                      --iters 20 --reps 5 --threads 2]
      forward <median s>                    unfold + FISTA with A @ gamma
      forward+backward <median s>           implicit (fixed-point) gradient
      forward+backward(autograd) <median s> autograd through the iterations
  torch_ref.py step [--batch 64 --iters 20 --steps 5 --threads 2 --data DIR]
      images/s <training images per second>   scn-mnist, implicit gradient
      peak_rss_mb <peak resident memory>

What a PyTorch user would write: the layer unfolds 3x3 patches (padding 1),
runs FISTA on all patches as one batched matrix product per iteration
(nonnegative soft threshold, lambda1 0.1, lambda2 0.01, step 1/L with
L = lambda_max(D^T D) + lambda2), and for the implicit gradient solves
(D_S^T D_S + lambda2 I) gamma_S = g_S for every patch at once with a masked
batched solve (SCN eq. 11). The layer's inputs are random, as in
`scn bench layer`; the step uses the first training images of --data
(IDX, normalised like scn train) or random images without it.
"""
import argparse
import gzip
import os
import resource
import statistics
import sys
import time

import torch
import torch.nn.functional as F

L1, L2 = 0.1, 0.01


def fista(D, X, iters, lam1=L1, lam2=L2):
    """Nonnegative elastic-net FISTA on the columns of X (m x P)."""
    n = D.shape[1]
    G = D.t() @ D + lam2 * torch.eye(n, dtype=D.dtype)
    L = torch.linalg.eigvalsh(G.detach())[-1]
    A = torch.eye(n, dtype=D.dtype) - G / L
    b = (D.t() @ X) / L
    alpha = torch.zeros(n, X.shape[1], dtype=X.dtype)
    gamma, s = alpha, 1.0
    for _ in range(iters):
        new = torch.clamp(A @ gamma + b - lam1 / L, min=0.0)
        s1 = (1 + (1 + 4 * s * s) ** 0.5) / 2
        gamma = new + (s - 1) / s1 * (new - alpha)
        alpha, s = new, s1
    return alpha


class SCImplicit(torch.autograd.Function):
    """alpha = argmin (SCN eq. 1); backward by SCN eqs. 11 and 17."""

    @staticmethod
    def forward(ctx, D, X, iters):
        with torch.no_grad():
            alpha = fista(D, X, iters)
        ctx.save_for_backward(D, X, alpha)
        return alpha

    @staticmethod
    def backward(ctx, g):
        D, X, alpha = ctx.saved_tensors
        n = D.shape[1]
        G = D.t() @ D + L2 * torch.eye(n, dtype=D.dtype)
        act = (alpha > 0).t().to(D.dtype)                       # P x n
        M = act[:, :, None] * G[None] * act[:, None, :]
        M = M + torch.diag_embed(1 - act)                        # identity off the support
        gamma = torch.linalg.solve(M, (g.t() * act)[:, :, None])[:, :, 0].t()
        R = X - D @ alpha
        dD = R @ gamma.t() - D @ (gamma @ alpha.t())
        dX = D @ gamma
        return dD, dX, None


def sc_conv(x, D, iters, implicit=True, k=3):
    N, C, H, W = x.shape
    cols = F.unfold(x, k, padding=k // 2)                        # N x m x HW
    X = cols.permute(1, 0, 2).reshape(cols.shape[1], -1)         # m x P
    alpha = SCImplicit.apply(D, X, iters) if implicit else fista(D, X, iters)
    n = D.shape[1]
    return alpha.reshape(n, N, H * W).permute(1, 0, 2).reshape(N, n, H, W)


def median_time(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def cmd_layer(a):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(a.batch, a.channels, a.size, a.size, generator=g)
    m = a.channels * a.kernel * a.kernel
    D0 = torch.randn(m, a.atoms, generator=g) / m ** 0.5

    def fwd():
        with torch.no_grad():
            sc_conv(x, D0, a.iters, implicit=False, k=a.kernel)

    def fwd_bwd(implicit):
        D = D0.clone().requires_grad_()
        xi = x.clone().requires_grad_()
        sc_conv(xi, D, a.iters, implicit=implicit, k=a.kernel).sum().backward()

    print("forward %.6f" % median_time(fwd, a.reps))
    print("forward+backward %.6f" % median_time(lambda: fwd_bwd(True), a.reps))
    print("forward+backward(autograd) %.6f" % median_time(lambda: fwd_bwd(False), a.reps))


class SCNMnist(torch.nn.Module):
    """scn-mnist: sc:n=32 bn sc:n=8 bn sc:n=64,s=2 bn sc:n=16 bn sc:n=128,s=2 bn
    sc:n=32 bn gap linear:n=10 (3x3 windows, padding 1)."""

    def __init__(self, iters):
        super().__init__()
        spec = [(1, 32, 1), (32, 8, 1), (8, 64, 2), (64, 16, 1), (16, 128, 2), (128, 32, 1)]
        self.iters = iters
        self.D = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.randn(c * 9, n) / (c * 9) ** 0.5) for c, n, _ in spec])
        self.strides = [s for _, _, s in spec]
        self.bn = torch.nn.ModuleList([torch.nn.BatchNorm2d(n) for _, n, _ in spec])
        self.fc = torch.nn.Linear(32, 10)

    def forward(self, x):
        for D, s, bn in zip(self.D, self.strides, self.bn):
            N, C, H, W = x.shape
            cols = F.unfold(x, 3, padding=1, stride=s)
            Ho, Wo = (H - 1) // s + 1, (W - 1) // s + 1
            X = cols.permute(1, 0, 2).reshape(cols.shape[1], -1)
            alpha = SCImplicit.apply(D, X, self.iters)
            n = D.shape[1]
            x = bn(alpha.reshape(n, N, Ho * Wo).permute(1, 0, 2).reshape(N, n, Ho, Wo))
        return self.fc(x.mean(dim=(2, 3)))


def read_idx(path):
    """An IDX file (gzip or not) as a uint8 tensor."""
    for p in (path, path + ".gz"):
        if os.path.exists(p):
            raw = open(p, "rb").read()
            if raw[:2] == b"\x1f\x8b":
                raw = gzip.decompress(raw)
            ndim = raw[3]
            dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
            data = torch.frombuffer(bytearray(raw[4 + 4 * ndim:]), dtype=torch.uint8)
            return data.reshape(dims)
    raise SystemExit("torch_ref.py: no %s[.gz]" % path)


def cmd_step(a):
    torch.manual_seed(1)
    net = SCNMnist(a.iters)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    if a.data:
        images = read_idx(os.path.join(a.data, "train-images-idx3-ubyte")).float() / 255
        labels = read_idx(os.path.join(a.data, "train-labels-idx1-ubyte")).long()
        x = ((images[:a.batch] - images.mean()) / images.std()).reshape(a.batch, 1, 28, 28)
        y = labels[:a.batch]
    else:
        x = torch.randn(a.batch, 1, 28, 28)
        y = torch.randint(0, 10, (a.batch,))

    def step():
        opt.zero_grad()
        F.cross_entropy(net(x), y).backward()
        opt.step()

    step()                                                       # warm-up
    t = median_time(step, a.steps)
    print("images/s %.1f" % (a.batch / t))
    print("peak_rss_mb %.1f" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("what", choices=["layer", "step"])
    p.add_argument("--batch", type=int)
    p.add_argument("--channels", type=int, default=16)
    p.add_argument("--size", type=int, default=28)
    p.add_argument("--atoms", type=int, default=64)
    p.add_argument("--kernel", type=int, default=3)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.batch is None:
        a.batch = 32 if a.what == "layer" else 64
    cmd_layer(a) if a.what == "layer" else cmd_step(a)


if __name__ == "__main__":
    sys.exit(main())
