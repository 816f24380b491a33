#!/usr/bin/env python3
"""Independent float64 oracle for the scn elastic-net layer (not a port of scn.h).

Per column x of X (m x P) and dictionary D (m x n), with Q = D^T D + l2 I, b = D^T x:
    alpha* = argmin_a 1/2||x - D a||^2 + l1 ||a||_1 + l2/2 ||a||^2   [s.t. a >= 0 unless signed]
Backward for upstream G (n x P), support L = {alpha != 0}:
    gamma_L = Q_LL^-1 g_L;  dD = -D Gam A^T + (X - D A) Gam^T;  dX = D Gam;  dl1 = -sum(sign(A) Gam)

How it is made exact (independent code; it does not follow scn.h's algorithm):
  * a batched primal active-set method (feature-sign search / Lawson-Hanson), finite and
    monotone, started from zero (or, optionally, a restarted-FISTA warm start): every step
    solves the KKT system on the current signed support exactly in float64;
  * it stops only when the minimum-norm subgradient v of the objective satisfies, per signal,
    |v|_inf <= 1e-12 * (|b|_inf + l1 + | |Q| |a| |_inf)  (backward-error scale);
  * strong convexity (mu >= l2) then certifies ||a - a*||_2 <= ||v||_2 / l2 (reported);
  * `selftest` checks it against scipy's NNLS, long restarted FISTA and finite differences.
`check`: errors are relative Frobenius norms; dlambda1 (a sum over signals) is relative to
max(|ref|, ||per-signal terms||_2) so chance cancellation cannot fake a FAIL.  The gradients
jump where the support changes, so signals whose support is within float32 reach of a
threshold (see margins/TAU) are dropped from a case before the tool sees it ("kept=").
Targets: alpha 1e-4; dD, dX, dlambda1 1e-4 (well) / 1e-2 (bad).  Exit 1 if any case FAILs.

CLI:  python3 tests/oracle.py check --scn bin/scn [--quick] [--extra="--flag value ..."]
      python3 tests/oracle.py fixtures --out tests/fixtures
      python3 tests/oracle.py selftest
"""
import argparse, os, shlex, subprocess, sys, tempfile, time
import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

try:    # keep freed numpy temporaries mapped: page faults dominate otherwise in some sandboxes
    import ctypes
    _libc = ctypes.CDLL("libc.so.6")
    _libc.mallopt(-3, 1 << 30); _libc.mallopt(-1, (1 << 31) - 1)   # M_MMAP_/M_TRIM_THRESHOLD
except (OSError, AttributeError):
    pass

KKT_TOL = 1e-12
CHUNK = 16384           # signals solved together (bounds memory)

# Internally every signal is a ROW: A is P x n, B = X^T D is P x n, so that selecting
# signals is a contiguous gather.  Q = D^T D + l2 I is symmetric, hence A Q = (Q A^T)^T.


def _prox(Z, thr, signed):
    """prox of thr*|.|_1 (+ indicator of a >= 0 when not signed), elementwise."""
    if signed:
        return np.sign(Z) * np.maximum(np.abs(Z) - thr, 0.0)
    return np.maximum(Z - thr, 0.0)


def _aq(A, Q):
    """A @ Q, through a sparse product when A (codes) is sparse."""
    if A.size and np.count_nonzero(A) < 0.15 * A.size:
        return np.asarray(sp.csr_matrix(A) @ Q)
    return A @ Q


def kkt(Q, B, A, l1, signed):
    """Per signal (rows): |v|_inf of the min-norm subgradient v, ||v||_2, and the backward
    scale |b|_inf + l1 + | |Q| |a| |_inf that the 1e-12 test is relative to."""
    Dg = B - _aq(A, Q)                               # minus the smooth gradient
    off = np.maximum((np.abs(Dg) if signed else Dg) - l1, 0.0)
    V = np.where(A != 0, Dg - l1 * np.sign(A), off)
    if not signed:
        V = np.where(A < 0, np.inf, V)               # infeasible entries
    scale = np.abs(B).max(1) + l1 + _aq(np.abs(A), np.abs(Q)).max(1) + 1e-300
    return np.abs(V).max(1), np.sqrt((V * V).sum(1)), scale


def _spd_solve(M, r):
    """Batched solve of SPD systems M (b,k,k) x = r (b,k): Gaussian elimination without
    pivoting (= LDL^T, backward stable for SPD), vectorised over the batch."""
    M = M.copy(); r = r.copy(); k = M.shape[1]
    for i in range(k - 1):
        f = M[:, i + 1:, i] / M[:, i, i, None]
        M[:, i + 1:, i + 1:] -= f[:, :, None] * M[:, None, i, i + 1:]
        r[:, i + 1:] -= f * r[:, i, None]
    x = np.empty_like(r)
    for i in range(k - 1, -1, -1):
        x[:, i] = (r[:, i] - (M[:, i, i + 1:] * x[:, i + 1:]).sum(1)) / M[:, i, i]
    return x


def support_solve(Q, M, R):
    """Row p of Y solves Q[L, L] y_L = R[p, L] with L = M[p] (bool); Y = 0 off L."""
    P, n = M.shape
    Y = np.zeros((P, n))
    k = M.sum(1)
    done = k == 0
    # Signals sharing one support with many others: one Cholesky, many right-hand sides.
    _, inv, cnt = np.unique(np.packbits(M, axis=1), axis=0,
                            return_inverse=True, return_counts=True)
    inv = inv.ravel()
    order = np.argsort(inv, kind="stable")
    starts = np.concatenate([[0], np.cumsum(cnt)])
    for g in np.nonzero(cnt >= 16)[0]:
        rows = order[starts[g]:starts[g + 1]]
        L = np.nonzero(M[rows[0]])[0]
        if L.size:
            c = sla.cho_factor(Q[np.ix_(L, L)])
            Y[np.ix_(rows, L)] = sla.cho_solve(c, R[np.ix_(rows, L)].T).T
        done[rows] = True
    # The rest, bucketed by support size: batched solves of gathered sub-matrices.
    rest = np.nonzero(~done)[0]
    for kk in np.unique(k[rest]):
        rows_k = rest[k[rest] == kk]
        step = max(1, int(2e7 // (kk * kk)))
        for s0 in range(0, rows_k.size, step):
            r = rows_k[s0:s0 + step]
            idx = np.nonzero(M[r])[1].reshape(r.size, kk)       # sorted support per row
            Qs = Q[idx[:, :, None], idx[:, None, :]]
            rhs = R[r[:, None], idx]
            Y[r[:, None], idx] = (_spd_solve(Qs, rhs) if kk <= 24 else
                                  np.linalg.solve(Qs, rhs[..., None])[..., 0])
    return Y


def _fista(Q, B, l1, signed, Lip, iters, tol=1e-13):
    """FISTA with per-signal gradient-based adaptive restart (O'Donoghue & Candes 2015)."""
    A = np.zeros_like(B); Y = A.copy(); t = np.ones(B.shape[0])
    for it in range(iters):
        An = _prox(Y + (B - Y @ Q) / Lip, l1 / Lip, signed)
        restart = ((Y - An) * (An - A)).sum(1) > 0
        tn = 0.5 * (1 + np.sqrt(1 + 4 * t * t))
        beta = np.where(restart, 0.0, (t - 1) / tn)[:, None]
        t = np.where(restart, 1.0, tn)
        Y = An + beta * (An - A)
        A = An
        if it % 50 == 49:
            vi, _, sc = kkt(Q, B, A, l1, signed)
            if np.all(vi <= tol * sc):
                break
    return A


def _active_set(Q, B, A, l1, signed, max_rounds=5000):
    """Batched primal active-set method (feature-sign search, Lee et al. 2007; Lawson-Hanson
    when signs are restricted to +), vectorised over signals.  Each round, every live signal
    either (inner) minimises the quadratic on its signed face exactly -- walking only to the
    first sign change when the face minimiser leaves the orthant, and dropping that atom --
    or (outer) checks the zero coordinates against KKT and adds the violators with the sign
    of their gradient.  The objective never increases and strictly decreases between faces,
    so it is finite; a signal whose additions all bounce back falls back to adding only the
    worst violator (the classical, provably progressing rule)."""
    P, n = B.shape
    A = A.copy() if signed else np.maximum(A, 0.0)
    S = np.sign(A)
    live = np.ones(P, bool); inner = np.ones(P, bool)
    single = np.zeros(P, bool); prog = np.ones(P, bool)
    added = np.zeros((P, n), bool)
    absQ = np.abs(Q)
    rounds = stuck = 0
    while live.any() and rounds < max_rounds:
        rounds += 1
        c = np.nonzero(live & inner)[0]
        if c.size:                                   # inner: exact solve on the face
            Sc = S[c]
            Z = support_solve(Q, Sc != 0, B[c] - l1 * Sc)
            bad = (Z * Sc <= 0) & (Sc != 0)
            ok = ~bad.any(1)
            A[c[ok]] = Z[ok]
            inner[c[ok]] = False
            prog[c[ok]] |= (added[c[ok]] & (Sc[ok] != 0)).any(1)
            cb, bad = c[~ok], bad[~ok]
            if cb.size:                              # walk to the first sign change
                Ab, Zb, Sb = A[cb], Z[~ok], Sc[~ok]
                den = np.where(bad, Ab - Zb, 1.0)
                den[den == 0] = np.inf               # a = z = 0: crossing at t = 0
                T = np.where(bad, Ab / den, np.inf)
                j = np.argmin(T, 1); ar = np.arange(cb.size)
                t = np.clip(T[ar, j], 0.0, 1.0)[:, None]
                An = Ab + t * (Zb - Ab)
                Sb[ar, j] = 0
                Sb[An * Sb <= 0] = 0                 # t = 0: new atoms leave too
                A[cb] = np.where(Sb != 0, An, 0.0); S[cb] = Sb
                prog[cb] |= t[:, 0] > 0
        c = np.nonzero(live & ~inner)[0]
        if c.size == 0:
            continue
        Dg = B[c] - _aq(A[c], Q)                     # outer: KKT on the zero coordinates
        viol = np.where(S[c] == 0, (np.abs(Dg) if signed else Dg) - l1, -np.inf)
        scale = np.abs(B[c]).max(1) + l1 + _aq(np.abs(A[c]), absQ).max(1)
        need = viol > KKT_TOL * scale[:, None]
        done = ~need.any(1)
        live[c[done]] = False
        keep = ~done
        c, need, viol, Dg = c[keep], need[keep], viol[keep], Dg[keep]
        noprog = ~prog[c]
        give_up = noprog & single[c]                 # bounced at rounding level: stop here
        stuck += int(give_up.sum())
        live[c[give_up]] = False
        single[c[noprog]] = True
        keep = ~give_up
        c, need, viol, Dg = c[keep], need[keep], viol[keep], Dg[keep]
        one = np.nonzero(single[c])[0]
        if one.size:                                 # classical rule: worst violator only
            need[one] = False
            need[one, np.argmax(viol[one], 1)] = True
        S[c] = np.where(need, np.sign(Dg), S[c])
        added[c] = need
        prog[c] = False; inner[c] = True
    return A, dict(rounds=rounds, stuck=stuck, unfinished=int(live.sum()))


def solve(D, X, l1, l2, signed, fista_iters=0, info=None):
    """Exact (KKT to ~1e-12 relative) float64 elastic-net codes, n x P.  fista_iters > 0
    warm-starts the active-set method with FISTA (not needed: it is finite from zero)."""
    assert l2 > 0, "oracle assumes lambda2 > 0 (strictly convex)"
    D = np.asarray(D, np.float64); X = np.asarray(X, np.float64)
    n, P = D.shape[1], X.shape[1]
    Q = D.T @ D + l2 * np.eye(n)
    Lip = np.linalg.eigvalsh(Q)[-1]
    out = np.zeros((P, n))
    st = dict(rounds=0, stuck=0, kkt_rel=0.0, cert_rel=0.0, unconverged=0)
    for c0 in range(0, P, CHUNK):
        B = X[:, c0:c0 + CHUNK].T @ D
        A0 = _fista(Q, B, l1, signed, Lip, fista_iters) if fista_iters else np.zeros_like(B)
        A, ai = _active_set(Q, B, A0, l1, signed)
        st["rounds"] = max(st["rounds"], ai["rounds"]); st["stuck"] += ai["stuck"]
        vi, v2, sc = kkt(Q, B, A, l1, signed)
        st["unconverged"] += int((vi > KKT_TOL * sc).sum())
        st["kkt_rel"] = max(st["kkt_rel"], float((vi / sc).max(initial=0)))
        na = np.sqrt((A * A).sum(1))                 # strong convexity, mu >= l2:
        cert = np.where(v2 > 0, v2 / l2 / np.maximum(na, 1e-300), 0.0)   # |a-a*| <= |v|/l2
        st["cert_rel"] = max(st["cert_rel"], float(cert.max(initial=0)))
        out[c0:c0 + CHUNK] = A
    if st["unconverged"]:
        print(f"oracle warning: {st['unconverged']} signals above KKT tol", file=sys.stderr)
    if info is not None:
        info.update(st)
    return np.ascontiguousarray(out.T)


def grads(D, X, alpha, G, l1, l2, signed, per_signal=False):
    """Fixed-point gradients (float64): dD (m x n), dX (m x P), dlambda1 shape (1,)
    [, and per_signal: the P terms whose sum is dlambda1]."""
    D, X, A, G = (np.asarray(v, np.float64) for v in (D, X, alpha, G))
    Q = D.T @ D + l2 * np.eye(D.shape[1])
    Gam = support_solve(Q, A.T != 0, G.T).T
    DG = D @ Gam
    dD = -DG @ A.T + (X - D @ A) @ Gam.T
    terms = -(np.sign(A) * Gam).sum(0)
    return (dD, DG, np.array([terms.sum()])) + ((terms,) if per_signal else ())


def gen_case(seed, m, n, P, l1, l2, signed, kind):
    """float32 D (m x n, unit columns), X (m x P), G (n x P).  'well': gaussian atoms;
    'bad': atoms = a few base vectors + 10% noise (highly correlated; use n = 4m, l2 = 1e-3).
    X = sparse combinations of 1..5 atoms (nonnegative weights; random signs when signed)
    scaled with l1 so codes are non-trivial, plus noise; column 0 is all zero."""
    rng = np.random.default_rng(seed)
    if kind == "well":
        D = rng.standard_normal((m, n))
    elif kind == "bad":
        base = rng.standard_normal((m, max(2, m // 16)))
        D = base[:, np.arange(n) % base.shape[1]] + 0.1 * rng.standard_normal((m, n)) / np.sqrt(m) \
            * np.linalg.norm(base, axis=0)[np.arange(n) % base.shape[1]]
    else:
        raise ValueError(kind)
    D /= np.linalg.norm(D, axis=0)
    kx = max(1, min(5, m // 4, n))
    W = np.zeros((n, P))
    cnt = rng.integers(1, kx + 1, P)
    for p in range(P):
        W[rng.choice(n, cnt[p], replace=False), p] = rng.uniform(0.5, 1.5, cnt[p])
    if signed:
        W *= rng.choice([-1.0, 1.0], W.shape)
    scale = 1.0 + 2.0 * l1
    X = scale * (D @ W + 0.05 * rng.standard_normal((m, P)) / np.sqrt(m))
    if P >= 8:
        X[:, 0] = 0.0
    G = rng.standard_normal((n, P))
    return tuple(np.ascontiguousarray(v, np.float32) for v in (D, X, G))


def margins(D, X, A, l1, l2, signed):
    """Per signal: how far its support is from changing.  on = min |a_j| / |a|_inf over the
    support; off = min dual slack (l1 - |d_j|, or l1 - d_j) / (l1 + |b|_inf) off it.
    The gradients jump when the support changes, so signals a float32 tool may place on the
    other side of a threshold are not a fair test of dD/dX/dlambda1."""
    D, X = np.asarray(D, np.float64), np.asarray(X, np.float64)
    B = D.T @ X
    Dg = B - (D.T @ D + l2 * np.eye(D.shape[1])) @ A
    on = A != 0
    amax = np.abs(A).max(0)
    m_on = np.where(on, np.abs(A) / np.where(amax > 0, amax, 1), np.inf).min(0)
    den = l1 + np.abs(B).max(0)
    slack = l1 - (np.abs(Dg) if signed else Dg)
    m_off = np.where(on, np.inf, slack / np.where(den > 0, den, np.inf)).min(0)
    return m_on, np.where(den > 0, m_off, np.inf)


# margins a float32 tool resolves: (on, off) for check and (stricter) for fixtures
TAU = {"well": (1e-5, 1e-6), "bad": (1e-3, 1e-6)}
TAU_FIX = {"well": (1e-3, 1e-4), "bad": (1e-2, 1e-5)}


def rel(a, b):
    a = np.asarray(a, np.float64); b = np.asarray(b, np.float64)
    nb = np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / nb) if nb > 0 else float(np.linalg.norm(a))


# (m, n, P, lambda1, lambda2, signed, kind)
QUICK = [(16, 16, 200, 0.1, 0.1, 0, "well"), (16, 16, 200, 0.1, 0.1, 1, "well"),
         (32, 48, 300, 0.05, 1.0, 0, "well"), (32, 48, 300, 0.3, 0.5, 1, "well"),
         (16, 16, 100, 0.0, 0.1, 0, "well"), (16, 16, 100, 0.0, 1.0, 1, "well"),
         (8, 8, 50, 1.0, 0.5, 0, "well"),
         (16, 64, 200, 0.1, 1e-3, 0, "bad"), (16, 64, 200, 0.1, 1e-3, 1, "bad"),
         (32, 128, 100, 0.5, 1e-3, 0, "bad"), (32, 128, 100, 1.0, 1e-3, 1, "bad")]
FULL = [(64, 128, 100000, 0.1, 0.1, 0, "well"), (64, 128, 100000, 0.1, 0.5, 1, "well"),
        (256, 256, 10000, 0.05, 1.0, 0, "well"), (256, 512, 5000, 0.2, 0.1, 1, "well"),
        (32, 32, 20000, 0.0, 1.0, 1, "well"), (32, 32, 20000, 0.0, 0.1, 0, "well"),
        (128, 128, 10000, 1.0, 0.3, 0, "well"), (64, 64, 50000, 0.5, 1e-3, 1, "well"),
        (64, 256, 20000, 0.1, 1e-3, 0, "bad"), (64, 256, 20000, 0.1, 1e-3, 1, "bad"),
        (256, 1024, 2000, 0.5, 1e-3, 0, "bad"), (256, 1024, 2000, 1.0, 1e-3, 1, "bad"),
        (128, 512, 5000, 0.02, 1e-3, 0, "bad")]


def _run_tool(args, D, X, G, l1, l2, sg):
    """Run `scn layer` on float32 inputs; returns (stdout line, outputs or None, error)."""
    with tempfile.TemporaryDirectory() as tmp:
        for nm, v in (("D", D), ("X", X), ("G", G)):
            np.save(f"{tmp}/{nm}.npy", np.ascontiguousarray(v))
        out = f"{tmp}/out"; os.makedirs(out)
        cmd = [args.scn, "layer", "--dict", f"{tmp}/D.npy", "--input", f"{tmp}/X.npy",
               "--lambda1", repr(l1), "--lambda2", repr(l2), "--grad", f"{tmp}/G.npy",
               "--out", out] + (["--signed"] if sg else []) + shlex.split(args.extra)
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout)
            line = " | ".join(s.strip() for s in r.stdout.splitlines() if s.strip())
            if r.returncode:
                return line, None, f"exit {r.returncode}: {r.stderr.strip()[-300:]}"
            return line, [np.load(f"{out}/{k}.npy") for k in NAMES], ""
        except Exception as e:                       # missing binary/output, timeout ...
            return "", None, f"{type(e).__name__}: {e}"


NAMES = ["alpha", "dD", "dX", "dlambda1"]


def cmd_check(args):
    cases = QUICK if args.quick else FULL
    worst = {k: (0.0, None) for k in NAMES}
    nfail = 0
    for i, (m, n, P, l1, l2, sg, kind) in enumerate(cases):
        D, X, G = gen_case(1000 + i, m, n, P, l1, l2, sg, kind)
        t0 = time.time()
        info = {}
        A = solve(D, X, l1, l2, sg, info=info)
        mo, mf = margins(D, X, A, l1, l2, sg)
        keep = (mo >= TAU[kind][0]) & (mf >= TAU[kind][1])   # drop ambiguous signals
        X, G, A = X[:, keep], G[:, keep], A[:, keep]
        *ref, terms = (A,) + grads(D, X, A, G, l1, l2, sg, per_signal=True)
        t_or = time.time() - t0
        t0 = time.time()
        line, got, err = _run_tool(args, D, X, G, l1, l2, sg)
        t_tool = time.time() - t0
        errs = {}
        for k, g, rf in zip(NAMES, got or [], ref):
            g = np.asarray(g, np.float64)
            g = g.reshape(rf.shape) if g.size == rf.size == 1 else g
            errs[k] = rel(g, rf) if g.shape == rf.shape else np.inf
            if k == "dlambda1" and g.shape == rf.shape:  # see module doc
                errs[k] = float(abs(g[0] - rf[0]) / max(abs(rf[0]), np.linalg.norm(terms)))
            if not np.isfinite(errs[k]):
                errs[k] = np.inf
                err = err or f"{k}: non-finite or shape {g.shape} != {rf.shape}"
        tol = {"alpha": 1e-4, "dD": 1e-4, "dX": 1e-4, "dlambda1": 1e-4}
        if kind == "bad":
            tol.update(dD=1e-2, dX=1e-2, dlambda1=1e-2)
        ok = bool(errs) and all(errs[k] <= tol[k] for k in NAMES)
        nfail += not ok
        for k, e in errs.items():
            if e > worst[k][0]:
                worst[k] = (e, i)
        es = " ".join(f"{k} {errs[k]:.2e}" for k in NAMES) if errs else "no outputs"
        print(f"[{i:2d}] {'signed' if sg else 'nonneg'} {kind} m={m} n={n} P={P} "
              f"kept={X.shape[1]} l1={l1:g} l2={l2:g} | tool: {line or '-'} | {es} | "
              f"{'PASS' if ok else 'FAIL'} (tool {t_tool:.1f}s, oracle {t_or:.1f}s, "
              f"kkt {info['kkt_rel']:.0e})" + (f" | {err}" if err else ""), flush=True)
    print("worst: " + ", ".join(f"{k} {e:.2e} (case {c})" for k, (e, c) in worst.items()
                                if c is not None))
    print(f"{len(cases) - nfail}/{len(cases)} cases pass")
    return 1 if nfail else 0


FIXTURES = [("nonneg_well", 16, 24, 40, 0.1, 0.1, 0, "well"),
            ("signed_well", 16, 24, 40, 0.1, 0.1, 1, "well"),
            ("nonneg_bad", 8, 32, 40, 0.1, 1e-3, 0, "bad"),
            ("signed_bad", 8, 32, 40, 0.1, 1e-3, 1, "bad")]


def cmd_fixtures(args):
    os.makedirs(args.out, exist_ok=True)
    lines = []
    for i, (name, m, n, P, l1, l2, sg, kind) in enumerate(FIXTURES):
        D, X, G = gen_case(42 + i, m, n, 4 * P, l1, l2, sg, kind)
        A = solve(D, X, l1, l2, sg)
        mo, mf = margins(D, X, A, l1, l2, sg)     # keep P signals with a clear support
        keep = np.nonzero((mo >= TAU_FIX[kind][0]) & (mf >= TAU_FIX[kind][1]))[0][:P]
        assert keep.size == P, "not enough unambiguous signals"
        X, G, A = X[:, keep], G[:, keep], A[:, keep]
        arrs = dict(D=D, X=X, G=G, alpha=A)
        arrs.update(zip(("dD", "dX", "dlambda1"), grads(D, X, A, G, l1, l2, sg)))
        for k, v in arrs.items():
            np.save(os.path.join(args.out, f"{name}_{k}.npy"), np.ascontiguousarray(v, np.float32))
        lines.append(f"{name} {m} {n} {P} {l1:g} {l2:g} {sg} {kind}")
        print(lines[-1], f"nnz={int((A != 0).sum())}")
    with open(os.path.join(args.out, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0


def cmd_selftest(args):
    import scipy.optimize as so
    ok = True
    print("1) KKT certificate; agreement with FISTA-warm-started solve (300 it), long restarted"
          " FISTA (30000 it, 40 signals) and, nonneg, scipy nnls (40 signals)")
    for sg in (0, 1):
        for kind, (m, n, P, l1, l2) in (("well", (32, 48, 5000, 0.1, 0.1)),
                                        ("well", (16, 16, 5000, 0.0, 0.1)),
                                        ("bad", (32, 128, 5000, 0.1, 1e-3))):
            D, X, _ = (v.astype(np.float64) for v in gen_case(7, m, n, P, l1, l2, sg, kind))
            info = {}
            t0 = time.time()
            A = solve(D, X, l1, l2, sg, info=info)
            t1 = time.time() - t0
            Q = D.T @ D + l2 * np.eye(n)
            A2 = _fista(Q, X[:, :40].T @ D, l1, sg, np.linalg.eigvalsh(Q)[-1], 30000).T
            e_f = rel(A[:, :40], A2)
            e_w = rel(solve(D, X[:, :500], l1, l2, sg, fista_iters=300), A[:, :500])
            e_n = 0.0
            if not sg:      # nonneg elastic net == NNLS on [D; sqrt(l2) I], [x; -l1/sqrt(l2)]
                E = np.vstack([D, np.sqrt(l2) * np.eye(n)])
                A3 = np.stack([so.nnls(E, np.concatenate([X[:, p], -l1 / np.sqrt(l2) *
                               np.ones(n)]), maxiter=50 * n)[0] for p in range(40)], 1)
                e_n = rel(A[:, :40], A3)
            good = (info["kkt_rel"] <= KKT_TOL and info["unconverged"] == 0 and
                    e_w < 1e-12 and max(e_f, e_n) < (1e-9 if kind == "well" else 1e-6))
            ok &= good
            print(f"  {'signed' if sg else 'nonneg'} {kind:4s} m={m} n={n} P={P} l1={l1:g} "
                  f"l2={l2:g}: kkt_rel {info['kkt_rel']:.1e}  |a-a*|/|a| <= "
                  f"{info['cert_rel']:.1e}  rounds {info['rounds']}  mean nnz "
                  f"{(A != 0).sum(0).mean():.1f}  ({t1:.1f}s)  warm-start {e_w:.0e}  FISTA {e_f:.0e}"
                  + (f"  nnls {e_n:.0e}" if not sg else "") + ("  ok" if good else "  BAD"))
    print("2) gradients vs central finite differences of solve (loss = sum(G * alpha))")
    for sg in (0, 1):
        for kind, (m, n, l2) in (("well", (6, 8, 0.2)), ("bad", (4, 16, 1e-3))):
            P, l1, h = 3, 0.05, 1e-6
            D, X, G = (v.astype(np.float64) for v in gen_case(3, m, n, P, l1, l2, sg, kind))
            f = lambda D_, X_, l1_: float((G * solve(D_, X_, l1_, l2, sg)).sum())
            A = solve(D, X, l1, l2, sg)
            dD, dX, dl = grads(D, X, A, G, l1, l2, sg)
            E = lambda M, idx: np.where(np.arange(M.size).reshape(M.shape) == idx, h, 0.0)
            fdD = [f(D + E(D, i), X, l1) - f(D - E(D, i), X, l1) for i in range(D.size)]
            fdX = [f(D, X + E(X, i), l1) - f(D, X - E(X, i), l1) for i in range(X.size)]
            fd = [rel(np.reshape(fdD, D.shape) / (2 * h), dD),
                  rel(np.reshape(fdX, X.shape) / (2 * h), dX),
                  rel((f(D, X, l1 + h) - f(D, X, l1 - h)) / (2 * h), dl[0])]
            good = max(fd) < 1e-5
            ok &= good
            print(f"  {'signed' if sg else 'nonneg'} {kind:4s} m={m} n={n} P={P} l2={l2:g} "
                  f"nnz={int((A != 0).sum())}: rel err dD {fd[0]:.1e} dX {fd[1]:.1e} "
                  f"dlambda1 {fd[2]:.1e} {'ok' if good else 'BAD'}")
    print("selftest", "PASS" if ok else "FAIL")
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check", help="compare bin/scn layer against the oracle")
    c.add_argument("--scn", default="bin/scn")
    c.add_argument("--quick", action="store_true")
    c.add_argument("--extra", default="", help='extra flags for `scn layer`: --extra="..."')
    c.add_argument("--timeout", type=float, default=1800.0)
    f = sub.add_parser("fixtures", help="write small committed fixtures")
    f.add_argument("--out", default="tests/fixtures")
    sub.add_parser("selftest", help="validate the oracle (KKT, finite differences)")
    a = ap.parse_args()
    return {"check": cmd_check, "fixtures": cmd_fixtures, "selftest": cmd_selftest}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
