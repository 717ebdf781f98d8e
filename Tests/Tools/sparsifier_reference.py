"""Dense NumPy port of the reference AND-OR (Harsanyi) sparsifier.

This mirrors the lab's reference code (spec: /work/shared/spec/interactions.md, sections 4, 5 and
12): the AND and OR transforms are dense 2^n x 2^n matrices (`get_reward2Iand_mat`,
`get_reward2Ior_mat`) and the sparsifier is PyTorch SGD with momentum 0.9 on the L1 loss
sum|Iand| + sum|Ior|, with the analytic gradient standing in for autograd.

Conventions: a subset S of the players {0..n-1} is an integer bitmask, bit i = player i (least
significant bit = player 0). A vector over all subsets has length 2^n and is indexed by that
bitmask: index 0 is the empty set, index 2^n - 1 is N.

Used by `make_sparsifier_fixtures.py` and `bench_dense_sparsifier.py`. Self-check (matrix
definitions, inverse identities, gradient against finite differences, reorganisation):

    python3 Tests/Tools/sparsifier_reference.py --selfcheck
"""

import argparse
import sys

import numpy as np

MODES = ("pq", "p", "q")
MOMENTUM = 0.9


def popcount(masks):
    """Number of set bits of each entry of a non-negative integer array."""
    masks = np.asarray(masks, dtype=np.int64)
    counts = np.zeros(masks.shape, dtype=np.int64)
    for bit in range(int(masks.max(initial=0)).bit_length()):
        counts += (masks >> bit) & 1
    return counts


def players(size):
    """n such that size == 2^n, or ValueError."""
    n = int(size).bit_length() - 1
    if size < 1 or 1 << n != size:
        raise ValueError(f"length {size} is not a power of two")
    return n


def _kronecker_power(kernel, n, dtype, scale=1):
    """scale * kernel^(kron n) for a 2x2 kernel with entries in {0, 1, -1}, built block-wise: one
    new (most significant) bit per step, block (r, c) of the next matrix is kernel[r][c] times the
    current one."""
    m = np.full((1, 1), scale, dtype=dtype)
    for _ in range(n):
        h = m.shape[0]
        nxt = np.empty((2 * h, 2 * h), dtype=dtype)
        for r in (0, 1):
            for c in (0, 1):
                block = nxt[r * h:(r + 1) * h, c * h:(c + 1) * h]
                if kernel[r][c] == 0:
                    block.fill(0)
                elif kernel[r][c] == 1:
                    np.copyto(block, m)
                else:
                    np.negative(m, out=block)
        m = nxt
    return m


def and_matrix(n, dtype=np.float64):
    """M_and[S, T] = (-1)^(|S|-|T|) * 1[T subset of S], shape (2^n, 2^n).

    Per bit (row bit s, column bit t) the factor is [[1, 0], [-1, 1]][s][t].
    """
    return _kronecker_power(((1, 0), (-1, 1)), n, dtype)


def or_matrix(n, dtype=np.float64):
    """M_or[S, L] = -(-1)^(|S|+|L|+n) * 1[L superset of N\\S] for S != 0; M_or[0] = e_0.

    For S != 0 this is -M_and[L, N\\S], whose per-bit factor is [[0, 1], [1, -1]][s][l].
    """
    m = _kronecker_power(((0, 1), (1, -1)), n, dtype, scale=-1)
    m[0] = 0
    m[0, 0] = 1
    return m


def dense_matrices(n, dtype=np.float64):
    """(M_and, M_or) for n players."""
    return and_matrix(n, dtype), or_matrix(n, dtype)


def interactions(v, p, q, mode, m_and, m_or):
    """(Iand, Ior) of the AND-OR decomposition at (p, q); Ior is zero in mode "q"."""
    if mode == "q":
        return m_and @ (v + q), np.zeros_like(v)
    base = 0.5 * (v + q)
    return m_and @ (base + p), m_or @ (base - p)


def gradient(iand, ior, mode, m_and, m_or):
    """(dL/dp, dL/dq) of L = sum|Iand| + sum|Ior|, with sign(0) = 0 as in PyTorch.

    An entry is None where that variable is not trained in `mode`.
    """
    g_and = m_and.T @ np.sign(iand)
    if mode == "q":
        return None, g_and
    g_or = m_or.T @ np.sign(ior)
    grad_p = g_and - g_or
    if mode == "p":
        return grad_p, None
    return grad_p, 0.5 * (g_and + g_or)


def _sgd_momentum_step(param, grad, buf, lr):
    """PyTorch SGD (momentum 0.9, no dampening/Nesterov): updates param in place, returns buf."""
    buf = grad.copy() if buf is None else MOMENTUM * buf + grad
    param -= lr * buf
    return buf


def sparsify(v, mode, qthres, lr, niter, qtricks=False, dtype=np.float64, matrices=None):
    """Reference AND-OR sparsifier (spec section 5.1) with dense matrices.

    v: rewards, length 2^n. mode: "pq" (train p and q), "p" (q absent, i.e. always 0) or "q"
    (AND only: Iand = M_and (v + q), loss sum|Iand|, p = 0, Ior = 0). The q bound is
    qthres * |v[N] - v[0]|; the lr decays geometrically from lr to lr/10 over niter iterations;
    the last iteration takes no step. qtricks re-centres q to zero mean after every step.
    matrices: optional prebuilt (M_and, M_or) of the same dtype, to time the loop alone.

    Returns a dict: Iand, Ior, p, q (the values the last loss was computed from, q clamped),
    loss (per-iteration float64 loss trace, length niter) and min_abs (per-iteration float64 min
    of |I| over the entries of Iand and, except in mode "q", Ior: the margin before a rounding
    difference could flip a sign and change the trajectory).
    """
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    if niter < 1:
        raise ValueError("niter must be at least 1")
    v = np.asarray(v, dtype=dtype)
    n = players(v.size)
    m_and, m_or = dense_matrices(n, dtype) if matrices is None else matrices
    bound = np.dtype(dtype).type(qthres * abs(float(v[-1]) - float(v[0])))
    lrs = np.logspace(np.log10(lr), np.log10(lr) - 1, niter).astype(dtype)
    p = np.zeros_like(v)
    q = np.zeros_like(v)
    buf_p = buf_q = None
    loss = np.empty(niter)
    min_abs = np.empty(niter)
    for it in range(niter):
        np.clip(q, -bound, bound, out=q)
        iand, ior = interactions(v, p, q, mode, m_and, m_or)
        abs_and, abs_or = np.abs(iand), np.abs(ior)
        loss[it] = abs_and.sum() + abs_or.sum()
        min_abs[it] = abs_and.min() if mode == "q" else min(abs_and.min(), abs_or.min())
        if it == niter - 1:
            break
        grad_p, grad_q = gradient(iand, ior, mode, m_and, m_or)
        if grad_p is not None:
            buf_p = _sgd_momentum_step(p, grad_p, buf_p, lrs[it])
        if grad_q is not None:
            buf_q = _sgd_momentum_step(q, grad_q, buf_q, lrs[it])
            if qtricks:
                q -= q.mean()
    return {"Iand": iand, "Ior": ior, "p": p, "q": q, "loss": loss, "min_abs": min_abs}


def reorganize(iand, ior):
    """Move the OR mass of every S with |S| <= 1 into AND (spec section 5.3); returns copies."""
    iand, ior = np.array(iand, copy=True), np.array(ior, copy=True)
    small = np.concatenate(([0], 1 << np.arange(players(iand.size))))
    iand[small] += ior[small]
    ior[small] = 0
    return iand, ior


# ----------------------------------------------------------------------------- self-check


def _check(name, ok, detail=""):
    print(f"{'ok  ' if ok else 'FAIL'} {name}{': ' + detail if detail else ''}")
    return ok


def _definition_matrices(n):
    """(M_and, M_or, Z, U) straight from the element-wise definitions, for small n.

    Z[S, T] = 1[T subset S] and U[S, T] = 1[T = 0 or T meets S] are the universal-matching
    inverses: v_and = Z Iand and v_or = U Ior.
    """
    full = (1 << n) - 1
    s = np.arange(1 << n)[:, None]
    t = np.arange(1 << n)[None, :]
    size_s, size_t = popcount(s), popcount(t)
    subset = (s & t) == t
    m_and = np.where(subset, (-1.0) ** (size_s - size_t), 0.0)
    m_or = np.where((t & (full ^ s)) == (full ^ s), -((-1.0) ** (size_s + size_t + n)), 0.0)
    m_or[0] = 0.0
    m_or[0, 0] = 1.0
    z = subset.astype(np.float64)
    u = ((t == 0) | ((s & t) != 0)).astype(np.float64)
    return m_and, m_or, z, u


def _selfcheck_matrices():
    ok = True
    for n in range(1, 8):
        m_and, m_or = dense_matrices(n)
        d_and, d_or, z, u = _definition_matrices(n)
        eye = np.eye(1 << n)
        ok &= _check(
            f"n={n} matrices",
            np.array_equal(m_and, d_and)
            and np.array_equal(m_or, d_or)
            and np.count_nonzero(m_and) == 3**n
            and np.count_nonzero(m_or) == 3**n
            and np.array_equal(z @ m_and, eye)
            and np.array_equal(u @ m_or, eye),
            "match the definitions, 3^n non-zeros, Z M_and = U M_or = I",
        )
    m32 = dense_matrices(6, np.float32)
    ok &= _check(
        "float32 build",
        all(m.dtype == np.float32 and np.array_equal(m, m64) for m, m64 in zip(m32, dense_matrices(6))),
    )
    return ok


def _selfcheck_gradient(rng):
    """Analytic gradient against central differences; exact while no |I| crosses 0."""
    n, h = 5, 1e-6
    m_and, m_or = dense_matrices(n)
    ok = True
    for mode in MODES:
        while True:
            v, p, q = rng.normal(size=(3, 1 << n))
            if mode == "p":
                q[:] = 0
            if mode == "q":
                p[:] = 0
            iand, ior = interactions(v, p, q, mode, m_and, m_or)
            margin = np.abs(iand).min() if mode == "q" else min(np.abs(iand).min(), np.abs(ior).min())
            if margin > 100 * h:
                break
        grad_p, grad_q = gradient(iand, ior, mode, m_and, m_or)

        def loss(pp, qq):
            a, o = interactions(v, pp, qq, mode, m_and, m_or)
            return np.abs(a).sum() + np.abs(o).sum()

        for name, grad, var in (("p", grad_p, p), ("q", grad_q, q)):
            if grad is None:
                continue
            numeric = np.empty_like(var)
            for i in range(var.size):
                var[i] += h
                up = loss(p, q)
                var[i] -= 2 * h
                down = loss(p, q)
                var[i] += h
                numeric[i] = (up - down) / (2 * h)
            err = np.abs(numeric - grad).max()
            ok &= _check(f"mode {mode}: dL/d{name} vs finite differences", err < 1e-6, f"max err {err:.2e}")
    return ok


def _selfcheck_sparsify(rng):
    """Short runs: Z Iand + U Ior = v + q (the decomposition is exact), reorganisation is exact."""
    n = 6
    _, _, z, u = _definition_matrices(n)
    v = rng.normal(0, 3, 1 << n)
    ok = True
    for mode in MODES:
        for qtricks in (False, True):
            out = sparsify(v, mode, 0.04, 1e-3, 100, qtricks=qtricks)
            bound = 0.04 * abs(v[-1] - v[0])
            rebuilt = z @ out["Iand"] + u @ out["Ior"]
            re_and, re_or = reorganize(out["Iand"], out["Ior"])
            small = np.concatenate(([0], 1 << np.arange(n)))
            ok &= _check(
                f"mode {mode} qtricks={qtricks}",
                np.allclose(rebuilt, v + out["q"], atol=1e-10)
                and np.allclose(z @ re_and + u @ re_or, rebuilt, atol=1e-10)
                and not re_or[small].any()
                and np.abs(out["q"]).max() <= bound
                and (mode != "p" or not out["q"].any())
                and (mode != "q" or not out["p"].any())
                and out["loss"][-1] < out["loss"][0],
                f"loss {out['loss'][0]:.4f} -> {out['loss'][-1]:.4f}",
            )
    return ok


def selfcheck():
    rng = np.random.default_rng(0)
    ok = _selfcheck_matrices()
    ok &= _selfcheck_gradient(rng)
    ok &= _selfcheck_sparsify(rng)
    print("self-check passed" if ok else "self-check FAILED")
    return ok


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--selfcheck", action="store_true", help="run the self-check and exit")
    args = parser.parse_args()
    if not args.selfcheck:
        parser.print_help()
        sys.exit(2)
    sys.exit(0 if selfcheck() else 1)
