#!/usr/bin/python3
"""The same sparse-coding layer and SCN networks in PyTorch, for make bench.

  torch_ref.py layer [--batch 32 --channels 16 --size 28 --atoms 64 --kernel 3
                      --iters 20 --reps 5 --threads 2 --old --all -v]
      forward <median s>                    FISTA, no gradient
      forward+backward <median s>           implicit (fixed-point) gradient
      forward+backward(autograd) <median s> autograd through the iterations
  torch_ref.py step [--model scn-mnist|scn-cifar] [--batch 64 --iters 20
                     --steps 5 --threads 2 --data DIR --channels C --size S
                     --grad implicit|autograd|best --solver cg|chol|lu
                     --unfold unfold|strided --layout nP|Pn -v]
      images/s <training images per second>
      peak_rss_mb <peak resident memory>

The reference is meant to be the fastest PyTorch a user would plausibly
write, so that scn.h's ratios against it are honest. Every `layer` line is
the best median over a few variants, timed round robin in the same run
(-v prints each variant's median and min to stderr):

  unfolding   F.unfold (then a transpose copy), or one copy of an as_strided
              view of the padded input straight into the layout wanted
  layout      codes as an n x P matrix (A @ Y, "nP"), or P x n (Y @ A, "Pn")
  forward     under torch.no_grad(): FISTA on the 2-D matrix with
              torch.addmm(out=), in-place clamp_, the momentum step as one
              torch.lerp(out=) (lerp(alpha, new, 1 + beta) = new + beta
              (new - alpha)), the threshold folded into the constant term,
              buffers swapped, not reallocated
  implicit    SCN eq. 11, gamma_S = (D_S^T D_S + lambda2 I)^-1 g_S per patch
  backward    and zero off the support, then dD = (X - D A) Gamma^T -
              D Gamma A^T, dX = D Gamma, dlambda1 = -sum Gamma, solved by
                lu    masked batched LU, torch.linalg.solve (as the previous
                      reference did, with a leaner mask)
                chol  masked batched Cholesky, cholesky_ex and two
                      solve_triangular (cholesky_solve was 1.5x slower)
                cg    conjugate gradients on all patches at once: masked 2-D
                      matmuls, a step length per patch, stopped when every
                      patch's residual is below 1e-6 of its right-hand side
                      (tested every 5 iterations); it counts only if its
                      gradients (D, input, lambda1) match LU's to 1e-4
                      relative, checked every run (2e-7 on the default shape,
                      20 iterations; -v prints it)
  autograd    FISTA with out-of-place ops (addmm, relu and lerp per
              iteration), gradients by backpropagation through the iterations

Without --all, `layer` times the variants that won or came close in the runs
the README reports (DEFAULT below: every shape for the forward and autograd
lines, CG on every shape and Cholesky on two for the implicit line; LU and
the other Cholesky shapes lost to CG by 2-3x); --all times them all, and
--old (or --all) adds the previous reference (F.unfold, out-of-place
A @ gamma, masked batched LU) to compare old and new in one run.

`step` trains scn-mnist (the first --batch images of --data, IDX, normalised
like scn train; random without it) or scn-cifar (random C x S x S images,
default 3 x 32 x 32, random labels): the same layers and parameter counts as
scn.h (a learned lambda1 per sc layer, BN gamma/beta, the linear layer;
72,608 and 695,992 parameters), 20 FISTA iterations per layer, SGD lr 0.1
momentum 0.9 weight decay 5e-4 on weights only (as scn train: not on
lambda1, BN or biases), one warm-up step, median of --steps. --grad
implicit solves SCN eq. 11 (--solver, CG by default; the warm-up step checks
every layer's solve against LU on 1024 patches and stops above 1e-4);
autograd backpropagates through the 20 unrolled iterations; best runs both,
each in its own process so that peak_rss_mb is that variant's own, and
prints the faster one's lines (both results and the choice on stderr).
The layers run the forward above; by default implicit uses F.unfold and
P x n, autograd as_strided and n x P (the faster shapes in scn-cifar steps:
as_strided's backward is slow on the P x n layout's channels-last views).
"""
import argparse
import gzip
import os
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

L1, L2 = 0.1, 0.01
VERBOSE = False


def say(*args):
    if VERBOSE:
        print(*args, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- unfolding
def unfold(x, k, s, kind, layout):
    """k x k patches of x (padding k//2, stride s) as m x P ("nP") or P x m ("Pn");
    m runs over (channel, row, column), P over (image, row, column)."""
    N, C, H, W = x.shape
    p = k // 2
    Ho, Wo = (H + 2 * p - k) // s + 1, (W + 2 * p - k) // s + 1
    if kind == "unfold":
        cols = F.unfold(x, k, padding=p, stride=s)                # N x m x HoWo
        if layout == "nP":
            return cols.transpose(0, 1).reshape(C * k * k, -1), Ho, Wo
        return cols.transpose(1, 2).reshape(-1, C * k * k), Ho, Wo
    xp = F.pad(x, (p, p, p, p))                               # any memory format
    sn, sc, sh, sw = xp.stride()
    if layout == "nP":
        v = xp.as_strided((C, k, k, N, Ho, Wo), (sc, sh, sw, sn, s * sh, s * sw))
        return v.reshape(C * k * k, N * Ho * Wo), Ho, Wo
    v = xp.as_strided((N, Ho, Wo, C, k, k), (sn, s * sh, s * sw, sc, sh, sw))
    return v.reshape(N * Ho * Wo, C * k * k), Ho, Wo


def to_image(alpha, N, Ho, Wo, layout):
    """Codes back to an N x n x Ho x Wo tensor (a view: BN and the next unfold take it)."""
    if layout == "nP":
        return alpha.reshape(-1, N, Ho, Wo).transpose(0, 1)
    return alpha.reshape(N, Ho, Wo, -1).permute(0, 3, 1, 2)


# ---------------------------------------------------------------- FISTA
def step_size(D, lam2=L2):
    """G = D^T D + lam2 I and its largest eigenvalue L (no gradient)."""
    with torch.no_grad():
        G = D.t() @ D
        G.diagonal().add_(lam2)
        return G, torch.linalg.eigvalsh(G)[-1].item()


def fista_inplace(D, X, lam1, iters, layout, lam2=L2):
    """Nonnegative elastic-net FISTA without autograd, on the columns (nP) or
    rows (Pn) of X: buffers reused, every update in place."""
    with torch.no_grad():
        G, L = step_size(D, lam2)
        A = torch.eye(G.shape[0], dtype=D.dtype).sub_(G, alpha=1 / L)   # symmetric
        lam1 = float(lam1)
        if layout == "nP":
            b = D.t() @ X                                         # n x P
            mm = lambda y, out: torch.addmm(b, A, y, out=out)
        else:
            b = X @ D                                             # P x n
            mm = lambda y, out: torch.addmm(b, y, A, out=out)
        b.sub_(lam1).mul_(1 / L)
        new = b.clamp(min=0.0)                                    # iteration 1 from zero
        alpha = torch.empty_like(b)
        y = new.clone()
        s = (1 + 5 ** 0.5) / 2
        for _ in range(iters - 1):
            alpha, new = new, alpha
            mm(y, new).clamp_(min=0.0)
            s1 = (1 + (1 + 4 * s * s) ** 0.5) / 2
            beta = (s - 1) / s1
            torch.lerp(alpha, new, 1 + beta, out=y)               # new + beta (new - alpha)
            s = s1
        return new


def fista_old(D, X, iters, lam1=L1, lam2=L2):
    """The previous reference: out-of-place, on the columns of X (m x P)."""
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


def fista_autograd(D, X, lam1, iters, layout, lam2=L2):
    """FISTA that autograd can differentiate: out-of-place, one addmm, relu and
    add per iteration; L is a constant (as in every FISTA code)."""
    n = D.shape[1]
    _, L = step_size(D, lam2)
    G = D.t() @ D
    A = torch.eye(n, dtype=D.dtype) - (G + lam2 * torch.eye(n, dtype=D.dtype)) / L
    if layout == "nP":
        b = (D.t() @ X - lam1) / L
        mm = lambda y: torch.addmm(b, A, y)
    else:
        b = (X @ D - lam1) / L
        mm = lambda y: torch.addmm(b, y, A)
    alpha = torch.relu(b)
    y, s = alpha, (1 + 5 ** 0.5) / 2
    for _ in range(iters - 1):
        new = torch.relu(mm(y))
        s1 = (1 + (1 + 4 * s * s) ** 0.5) / 2
        y = torch.lerp(alpha, new, 1 + (s - 1) / s1)              # new + beta (new - alpha)
        alpha, s = new, s1
    return alpha


# ---------------------------------------------------------------- implicit gradient
def solve_active(G, alpha, g, solver, layout, lam2=L2):
    """gamma = (G_S)^-1 g_S on each patch's support S = {alpha > 0}, zero off it;
    G = D^T D + lam2 I. Codes are n x P (nP) or P x n (Pn)."""
    if solver == "cg":
        return cg_active(G, alpha, g, layout)
    act = (alpha > 0).to(G.dtype)
    if layout == "nP":
        act, g = act.t(), g.t()
    P, n = act.shape
    M = torch.mul(act[:, :, None], G).mul_(act[:, None, :])   # one P x n x n allocation
    M.diagonal(dim1=1, dim2=2).add_(1 - act)                  # identity off the support
    rhs = (g * act)[:, :, None]
    if solver == "lu":
        gamma = torch.linalg.solve(M, rhs)[:, :, 0]
    else:                               # two triangular solves beat cholesky_solve here
        Lc, info = torch.linalg.cholesky_ex(M)
        del M
        z = torch.linalg.solve_triangular(Lc, rhs, upper=False)
        gamma = torch.linalg.solve_triangular(Lc.mT, z, upper=True)[:, :, 0]
    return gamma.t() if layout == "nP" else gamma


CG_TOL, CG_MAX = 1e-6, 500
cg_iters_used = []
CHECK, CHECK_PATCHES = None, 1024       # step: a list to collect each layer's solve error


def cg_active(G, alpha, g, layout):
    """Conjugate gradients for every patch at once: the operator is
    v -> mask * (G v) as one 2-D matmul; a step length per patch; stops when
    every patch's residual is below CG_TOL of its right-hand side."""
    dim = 0 if layout == "nP" else 1
    act = alpha > 0
    Gm = (lambda v: G @ v) if layout == "nP" else (lambda v: v @ G)
    r = g * act
    x = torch.zeros_like(r)
    p = r.clone()
    norm2 = lambda v: torch.linalg.vector_norm(v, dim=dim, keepdim=True).square_()
    rr = norm2(r)
    stop = (CG_TOL ** 2) * rr
    it = 0
    while it < CG_MAX:
        Ap = Gm(p).mul_(act)
        pAp = (p * Ap).sum(dim, keepdim=True)
        a = torch.where(pAp > 0, rr / pAp, torch.zeros_like(pAp))
        x.addcmul_(a, p)
        r.addcmul_(a, Ap, value=-1.0)
        rr_new = norm2(r)
        it += 1
        if it % 5 == 0 and bool((rr_new <= stop).all()):
            break
        beta = torch.where(rr > 0, rr_new / rr, torch.zeros_like(rr))
        torch.addcmul(r, p, beta, out=p)                         # p = r + beta p
        rr = rr_new
    cg_iters_used.append(it)
    return x


class SCImplicit(torch.autograd.Function):
    """alpha = argmin_a>=0 |x - D a|^2/2 + lam1 |a|_1 + lam2 |a|^2/2 per patch;
    backward by SCN eq. 11 and 17."""

    @staticmethod
    def forward(ctx, D, lam1, X, iters, layout, solver):
        alpha = fista_inplace(D, X, lam1, iters, layout)
        ctx.save_for_backward(D, X, alpha)
        ctx.layout, ctx.solver = layout, solver
        return alpha

    @staticmethod
    def backward(ctx, g):
        D, X, alpha = ctx.saved_tensors
        G = D.t() @ D
        G.diagonal().add_(L2)
        gamma = solve_active(G, alpha, g, ctx.solver, ctx.layout)
        if CHECK is not None and ctx.solver != "lu":    # against LU on the first patches
            for i in range(0, CHECK_PATCHES, 256):         # in chunks: no peak memory of its own
                cut = (lambda t: t[:, i:i + 256]) if ctx.layout == "nP" else \
                    (lambda t: t[i:i + 256])
                exact = solve_active(G, cut(alpha), cut(g), "lu", ctx.layout)
                if exact.numel():
                    CHECK.append(((cut(gamma) - exact).norm() / exact.norm().clamp(min=1e-30)).item())
        if ctx.layout == "nP":              # X m x P, alpha and gamma n x P
            R = torch.addmm(X, D, alpha, alpha=-1.0)
            dD = torch.addmm(R @ gamma.t(), D, gamma @ alpha.t(), alpha=-1.0)
            dX = D @ gamma
        else:                               # X P x m, alpha and gamma P x n
            R = torch.addmm(X, alpha, D.t(), alpha=-1.0)
            dD = torch.addmm(R.t() @ gamma, D, gamma.t() @ alpha, alpha=-1.0)
            dX = gamma @ D.t()
        return dD, -gamma.sum().reshape(1), dX, None, None, None


class SCImplicitOld(torch.autograd.Function):
    """The previous reference's layer (fixed lambda1), kept for --old."""

    @staticmethod
    def forward(ctx, D, X, iters):
        with torch.no_grad():
            alpha = fista_old(D, X, iters)
        ctx.save_for_backward(D, X, alpha)
        return alpha

    @staticmethod
    def backward(ctx, g):
        D, X, alpha = ctx.saved_tensors
        n = D.shape[1]
        G = D.t() @ D + L2 * torch.eye(n, dtype=D.dtype)
        act = (alpha > 0).t().to(D.dtype)
        M = act[:, :, None] * G[None] * act[:, None, :]
        M = M + torch.diag_embed(1 - act)
        gamma = torch.linalg.solve(M, (g.t() * act)[:, :, None])[:, :, 0].t()
        R = X - D @ alpha
        dD = R @ gamma.t() - D @ (gamma @ alpha.t())
        dX = D @ gamma
        return dD, dX, None


def sc_conv(x, D, lam1, iters, mode, kind="strided", layout="Pn", solver="chol", k=3, s=1):
    """One sparse-coding layer: mode "forward" (no gradient), "implicit" or "autograd"."""
    N = x.shape[0]
    X, Ho, Wo = unfold(x, k, s, kind, layout)
    if mode == "forward":
        alpha = fista_inplace(D, X, lam1, iters, layout)
    elif mode == "implicit":
        alpha = SCImplicit.apply(D, lam1, X, iters, layout, solver)
    else:
        alpha = fista_autograd(D, X, lam1, iters, layout)
    return to_image(alpha, N, Ho, Wo, layout)


def sc_conv_old(x, D, iters, implicit=True, k=3):
    N, C, H, W = x.shape
    cols = F.unfold(x, k, padding=k // 2)
    X = cols.permute(1, 0, 2).reshape(cols.shape[1], -1)
    alpha = SCImplicitOld.apply(D, X, iters) if implicit else fista_old(D, X, iters)
    n = D.shape[1]
    return alpha.reshape(n, N, H * W).permute(1, 0, 2).reshape(N, n, H, W)


# ---------------------------------------------------------------- layer
# the variants `layer` times without --all: each line's winners in the runs
# the README reports (the others never won a line there)
DEFAULT = {
    "forward": {"unfold/nP", "unfold/Pn", "strided/nP", "strided/Pn"},
    "forward+backward": {"unfold/nP/cg", "unfold/Pn/cg", "strided/nP/cg", "strided/Pn/cg",
                         "unfold/nP/chol", "strided/Pn/chol"},
    "forward+backward(autograd)": {"unfold/nP", "unfold/Pn", "strided/nP", "strided/Pn"},
}

def times(fn, reps):
    out = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def cmd_layer(a):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(a.batch, a.channels, a.size, a.size, generator=g)
    m = a.channels * a.kernel * a.kernel
    D0 = torch.randn(m, a.atoms, generator=g) / m ** 0.5
    lam0 = torch.tensor([L1])
    k = a.kernel
    shapes = [(kind, lay) for kind in ("unfold", "strided") for lay in ("nP", "Pn")]

    def fwd(kind, lay):
        return lambda: sc_conv(x, D0, lam0, a.iters, "forward", kind, lay, k=k)

    def fwd_bwd(mode, kind, lay, solver="chol"):
        def run():
            D = D0.clone().requires_grad_()
            lam = lam0.clone().requires_grad_()
            xi = x.clone().requires_grad_()
            sc_conv(xi, D, lam, a.iters, mode, kind, lay, solver, k=k).sum().backward()
            return D.grad, xi.grad, lam.grad
        return run

    def old_fwd():
        with torch.no_grad():
            sc_conv_old(x, D0, a.iters, implicit=False, k=k)

    def old_fwd_bwd(implicit):
        def run():
            D = D0.clone().requires_grad_()
            xi = x.clone().requires_grad_()
            sc_conv_old(xi, D, a.iters, implicit=implicit, k=k).sum().backward()
        return run

    # agreement: every variant's codes and gradients against the exact (LU) ones
    ref_codes = sc_conv(x, D0, lam0, a.iters, "forward", "unfold", "nP", k=k)
    for kind, lay in shapes[1:]:
        c = sc_conv(x, D0, lam0, a.iters, "forward", kind, lay, k=k)
        err = ((c - ref_codes).norm() / ref_codes.norm()).item()
        say("check forward %s/%s: codes relative difference %.1e" % (kind, lay, err))
        assert err < 1e-5, "forward variants disagree"
    exact = fwd_bwd("implicit", "unfold", "nP", "lu")()
    pick = (lambda line, name: True) if a.all else (lambda line, name: name in DEFAULT[line])
    solvers = ["lu", "chol", "cg"]
    for kind, lay in shapes:
        for solver in solvers[1:]:
            if not pick("forward+backward", "%s/%s/%s" % (kind, lay, solver)):
                continue
            del cg_iters_used[:]
            got = fwd_bwd("implicit", kind, lay, solver)()
            err = max(((u - v).norm() / v.norm()).item() for u, v in zip(got, exact))
            say("check implicit %s/%s/%s: gradients' relative difference to LU %.1e%s" % (
                kind, lay, solver, err,
                " (%d CG iterations)" % cg_iters_used[0] if cg_iters_used else ""))
            if err > 1e-4:
                say("%s left out: its gradient is not within 1e-4 of the exact solve" % solver)
                solvers.remove(solver)

    cands = {"forward": [("%s/%s" % v, fwd(*v)) for v in shapes],
             "forward+backward": [("%s/%s/%s" % (kind, lay, sv), fwd_bwd("implicit", kind, lay, sv))
                                  for kind, lay in shapes for sv in solvers],
             "forward+backward(autograd)": [("%s/%s" % v, fwd_bwd("autograd", *v))
                                            for v in shapes]}
    for line in cands:
        cands[line] = [(name, fn) for name, fn in cands[line] if pick(line, name)]
    if a.old or a.all:
        cands["forward"].append(("old", old_fwd))
        cands["forward+backward"].append(("old", old_fwd_bwd(True)))
        cands["forward+backward(autograd)"].append(("old", old_fwd_bwd(False)))
    # round robin, so that a shared machine's drifting load falls on every variant alike
    for line, variants in cands.items():
        for _, fn in variants:
            fn()                                                  # warm-up
        t = {name: [] for name, _ in variants}
        for _ in range(a.reps):
            for name, fn in variants:
                t[name] += times(fn, 1)
        for name, _ in variants:
            say("%s %-22s median %.6f min %.6f" % (line, name, statistics.median(t[name]),
                                                   min(t[name])))
        best = min(t, key=lambda name: statistics.median(t[name]))
        say("%s best: %s" % (line, best))
        print("%s %.6f" % (line, statistics.median(t[best])), flush=True)


# ---------------------------------------------------------------- networks
MODELS = {
    # (in channels, atoms, stride) per sc layer, each followed by BN; gap; linear
    "scn-mnist": [(1, 32, 1), (32, 8, 1), (8, 64, 2), (64, 16, 1), (16, 128, 2), (128, 32, 1)],
    "scn-cifar": [(3, 64, 1), (64, 16, 1), (16, 64, 1), (64, 16, 1), (16, 64, 1), (64, 16, 1),
                  (16, 128, 2), (128, 32, 1), (32, 128, 1), (128, 32, 1), (32, 256, 2),
                  (256, 64, 1), (64, 256, 1), (256, 64, 1)],
}


class SCN(torch.nn.Module):
    """sc:n=.. bn ... gap linear:n=10, as scn.h's presets: 3x3 windows, padding 1,
    dictionary m x n (m = C*9), a learned lambda1 per sc layer (initially 0.1)."""

    def __init__(self, spec, channels, iters, grad, solver, kind="unfold", layout="nP"):
        super().__init__()
        self.iters, self.grad, self.solver = iters, grad, solver
        self.kind, self.layout = kind, layout
        spec = [(channels, spec[0][1], spec[0][2])] + spec[1:]
        self.D = torch.nn.ParameterList(
            [torch.nn.Parameter(torch.randn(c * 9, n) / (c * 9) ** 0.5) for c, n, _ in spec])
        self.lam1 = torch.nn.ParameterList([torch.nn.Parameter(torch.tensor([L1])) for _ in spec])
        self.strides = [s for _, _, s in spec]
        self.bn = torch.nn.ModuleList([torch.nn.BatchNorm2d(n) for _, n, _ in spec])
        self.fc = torch.nn.Linear(spec[-1][1], 10)

    def forward(self, x):
        for D, lam1, s, bn in zip(self.D, self.lam1, self.strides, self.bn):
            x = bn(sc_conv(x, D, lam1, self.iters, self.grad, self.kind, self.layout, self.solver, s=s))
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
    if a.grad == "best":
        return step_best(a)
    torch.manual_seed(1)
    C = a.channels or (3 if a.model == "scn-cifar" else 1)
    S = a.size or (32 if a.model == "scn-cifar" else 28)
    net = SCN(MODELS[a.model], C, a.iters, a.grad, a.solver, a.unfold, a.layout)
    say("%s: %d parameters, %d x %d x %d images, %s/%s, gradient %s%s" % (
        a.model, sum(p.numel() for p in net.parameters()), C, S, S, a.unfold, a.layout, a.grad,
        " (%s)" % a.solver if a.grad == "implicit" else ""))
    decay = [p for p in net.parameters() if p.dim() == 2]   # as scn train: weights only
    rest = [p for p in net.parameters() if p.dim() != 2]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": rest}],
                          lr=0.1, momentum=0.9)
    if a.data and a.model == "scn-mnist":
        images = read_idx(os.path.join(a.data, "train-images-idx3-ubyte"))
        labels = read_idx(os.path.join(a.data, "train-labels-idx1-ubyte")).long()
        s1 = s2 = 0.0                   # the set's mean and std, in chunks (no float copy)
        for i in range(0, images.shape[0], 4096):
            c = images[i:i + 4096].double() / 255
            s1, s2 = s1 + c.sum().item(), s2 + (c * c).sum().item()
        cnt = images.numel()
        mean = s1 / cnt
        std = ((s2 - cnt * mean * mean) / (cnt - 1)) ** 0.5
        x = ((images[:a.batch].float() / 255 - mean) / std).reshape(a.batch, 1, 28, 28)
        y = labels[:a.batch]
        del images, c
    else:
        x = torch.randn(a.batch, C, S, S)
        y = torch.randint(0, 10, (a.batch,))

    def step():
        opt.zero_grad(set_to_none=True)
        F.cross_entropy(net(x), y).backward()
        opt.step()

    global CHECK
    CHECK = [] if a.grad == "implicit" else None
    del cg_iters_used[:]
    step()                                                       # warm-up, checked
    if CHECK is not None:
        err = max(CHECK) if CHECK else 0.0
        say("warm-up step: %s solves within %.1e of LU on %d patches per layer%s" % (
            a.solver, err, CHECK_PATCHES,
            " (CG iterations per layer: %s)" % cg_iters_used if cg_iters_used else ""))
        if err > 1e-4:
            raise SystemExit("torch_ref.py: the %s solve is off by %.1e (more than 1e-4)"
                             % (a.solver, err))
        CHECK = None
    t = times(step, a.steps)
    say("step seconds: median %.3f min %.3f" % (statistics.median(t), min(t)))
    print("images/s %.1f" % (a.batch / statistics.median(t)))
    print("peak_rss_mb %.1f" % (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def step_best(a):
    """Each gradient in its own process (peak memory per variant); the faster one's lines."""
    base = [sys.executable, os.path.abspath(__file__), "step", "--model", a.model,
            "--batch", str(a.batch), "--iters", str(a.iters), "--steps", str(a.steps),
            "--threads", str(a.threads), "--solver", a.solver]
    for opt in ("channels", "size", "data", "unfold", "layout"):
        if getattr(a, opt):
            base += ["--" + opt, str(getattr(a, opt))]
    if a.verbose:
        base.append("--verbose")
    res = {}
    for grad in ("implicit", "autograd"):
        out = subprocess.run(base + ["--grad", grad], check=True, stdout=subprocess.PIPE,
                             universal_newlines=True).stdout
        res[grad] = dict(line.split() for line in out.splitlines() if line.strip())
        print("step --grad %s: images/s %s peak_rss_mb %s" % (
            grad, res[grad]["images/s"], res[grad]["peak_rss_mb"]), file=sys.stderr)
    best = max(res, key=lambda v: float(res[v]["images/s"]))
    print("step best: %s" % best, file=sys.stderr)
    print("images/s %s" % res[best]["images/s"])
    print("peak_rss_mb %s" % res[best]["peak_rss_mb"])


def main():
    global VERBOSE
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("what", choices=["layer", "step"])
    p.add_argument("--batch", type=int)
    p.add_argument("--channels", type=int)
    p.add_argument("--size", type=int)
    p.add_argument("--atoms", type=int, default=64)
    p.add_argument("--kernel", type=int, default=3)
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--data")
    p.add_argument("--model", choices=sorted(MODELS), default="scn-mnist")
    p.add_argument("--grad", choices=["implicit", "autograd", "best"], default="implicit")
    p.add_argument("--solver", choices=["chol", "cg", "lu"], default="cg")
    p.add_argument("--unfold", choices=["unfold", "strided"])
    p.add_argument("--layout", choices=["nP", "Pn"])
    p.add_argument("--old", action="store_true", help="also time the previous reference")
    p.add_argument("--all", action="store_true", help="time every variant, old ones too")
    p.add_argument("--verbose", "-v", action="store_true", help="each variant's times on stderr")
    a = p.parse_args()
    VERBOSE = a.verbose
    torch.set_num_threads(a.threads)
    if a.batch is None:
        a.batch = 32 if a.what == "layer" else 64
    if a.grad != "best":                # each gradient's faster shape in scn-cifar steps
        a.unfold = a.unfold or ("unfold" if a.grad == "implicit" else "strided")
        a.layout = a.layout or ("Pn" if a.grad == "implicit" else "nP")
    if a.what == "layer":
        a.channels = a.channels or 16
        a.size = a.size or 28
        cmd_layer(a)
    else:
        cmd_step(a)


if __name__ == "__main__":
    sys.exit(main())
