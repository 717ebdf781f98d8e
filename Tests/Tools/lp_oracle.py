"""Exact optimum of the AND-OR (Harsanyi) decomposition: a HiGHS reference ("oracle") for tests.

Spec /work/shared/spec/interactions.md sections 4, 5 and 5.4. With a = v_and and o = v_or as variables the
decomposition is the linear program

    minimise ||M_and a||_1 + ||M_or o||_1   subject to   |a + o - v| <= b  (elementwise),

solved by `scipy.optimize.linprog(method="highs")` on the sparse form: M_and a = zA+ - zA-, M_or o = zO+ - zO-
(z >= 0, objective sum z), a + o - q = v with q in [-b, b]. Modes: "pq" (b = qthres |v(N) - v(0)|), "p"
(b = 0: a + o = v) and "q" (AND only: o = 0, |a - v| <= b, loss ||M_and a||_1). Then p = (a - o) / 2 and
q = a + o - v (mode q: p = 0, q = a - v), as in the reference sparsifier. Subsets are bitmasks, bit i =
player i, index 0 = the empty set. The row duals w of a + o - q = v give the certificate of `dual_bound`.

    .venv/bin/python Tests/Tools/lp_oracle.py --selfcheck
    .venv/bin/python Tests/Tools/lp_oracle.py --solve V.npy [--mode pq|p|q] [--qthres 0.04] [--subtract-empty]
    .venv/bin/python Tests/Tools/lp_oracle.py --make-fixtures Tests/Fixtures/optimum
"""

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import scipy
from scipy import sparse
from scipy.optimize import linprog

import sparsifier_reference as ref  # dense matrices and the reference (p, q) parametrisation, for the self-check
from sparsifier_reference import players

MODES = ("pq", "p", "q")
NNZ_TOL = 1e-9
SOLVER = f"scipy HiGHS {scipy.__version__}"
REWARDS = Path(__file__).resolve().parents[1] / "Fixtures" / "rewards"
REAL = ("breast_cancer_mlp_n10_s517", "breast_cancer_mlp_n10_s532", "breast_cancer_mlp_n10_s291")


def _pairs(n, states):
    """All (row, col) bitmask pairs whose per-bit (row bit, col bit) lies in `states`: 3^n pairs for 3 states."""
    rows, cols = np.zeros(1, np.int64), np.zeros(1, np.int64)
    for i in range(n):
        rows = np.concatenate([rows | (s << i) for s, _ in states])
        cols = np.concatenate([cols | (c << i) for _, c in states])
    return rows, cols


def _sign(exponent):
    return np.where(exponent % 2 == 0, 1.0, -1.0)


def and_matrix(n):
    """Sparse M_and[S, T] = (-1)^(|S|-|T|) 1[T subset of S] (CSR, 3^n non-zeros)."""
    s, t = _pairs(n, ((0, 0), (1, 0), (1, 1)))  # every T subset of S, once
    assert not (t & ~s).any()
    vals = _sign(np.bitwise_count(s) - np.bitwise_count(t))
    return sparse.csr_matrix((vals, (s, t)), shape=(1 << n, 1 << n))


def or_matrix(n):
    """Sparse M_or[S, L] = -(-1)^(|S|+|L|+n) 1[L superset of N\\S] for S != 0, M_or[0, 0] = 1 (3^n non-zeros)."""
    full = (1 << n) - 1
    s, l = _pairs(n, ((0, 1), (1, 0), (1, 1)))  # bits outside S are in L
    assert ((l & (full ^ s)) == (full ^ s)).all()
    vals = -_sign(np.bitwise_count(s) + np.bitwise_count(l) + n)
    empty = s == 0  # the single pair (0, N) becomes (0, 0) with value 1
    l[empty], vals[empty] = 0, 1.0
    return sparse.csr_matrix((vals, (s, l)), shape=(1 << n, 1 << n))


def zeta_and(n):
    """Sparse Z_and[S, T] = 1[T subset of S], the inverse of M_and: v_and(S) = sum_{T subset S} I_and(T)."""
    s, t = _pairs(n, ((0, 0), (1, 0), (1, 1)))
    return sparse.csr_matrix((np.ones(s.size), (s, t)), shape=(1 << n, 1 << n))


def zeta_or_apply(z_and, x):
    """Z_or x with Z_or[S, T] = 1[T = 0 or T meets S]: v_or(S) = I_or(0) + sum_{T meets S} I_or(T)."""
    rest = np.concatenate(([0.0], x[1:]))
    subset_sums = z_and @ rest
    return x[0] + rest.sum() - subset_sums[::-1]  # index S ^ full == reversed order


def zeta_or_t_apply(z_and, w):
    """Z_or^T w: (Z_or^T w)(0) = sum w and, for T != 0, sum of w(S) over S meeting T = sum w - sum_{S in N\\T} w(S)."""
    out = w.sum() - (z_and @ w)[::-1]
    out[0] = w.sum()
    return out


def dual_bound(v, w, b, mode, z_and=None):
    """Lower bound w^T v - b ||w||_1 on L*, after scaling w so that max(||Z_and^T w||_inf, ||Z_or^T w||_inf) = 1
    (mode q: Z_and only). Valid for any w: w^T a <= ||I_and||_1 and w^T o <= ||I_or||_1, so
    L* >= w^T (a + o) = w^T (v + q) >= w^T v - b ||w||_1. May be negative (then 0 is the better bound)."""
    v, w = np.asarray(v, float), np.asarray(w, float)
    z_and = zeta_and(players(v.size)) if z_and is None else z_and
    scale = np.abs(z_and.T @ w).max()
    if mode != "q":
        scale = max(scale, np.abs(zeta_or_t_apply(z_and, w)).max())
    if scale == 0:
        return 0.0
    w = w / scale
    return float(w @ v - b * np.abs(w).sum())


def solve(v, mode="pq", qthres=0.04, bound=None, method="highs"):
    """Optimum of the decomposition of v (length 2^n). bound overrides qthres |v(N) - v(0)| (ignored in mode p).

    Returns a dict: optimum L*, Iand = M_and a, Ior = M_or o (not reorganised), a, o, p, q, w (row duals of
    a + o - q = v: dL*/dv), bound, lower (dual_bound of w), seconds (build and solve) and the linprog result."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    start = time.perf_counter()
    v = np.asarray(v, dtype=np.float64)
    n = players(v.size)
    size = 1 << n
    b = 0.0 if mode == "p" else float(qthres * abs(v[-1] - v[0]) if bound is None else bound)
    m_and, eye = and_matrix(n), sparse.identity(size, format="csr")
    if mode == "q":  # x = [a, zA+, zA-, q]
        blocks, nfree = [[m_and, -eye, eye, None], [eye, None, None, -eye]], 1
    else:  # x = [a, o, zA+, zA-, zO+, zO-, q]
        m_or = or_matrix(n)
        blocks, nfree = [[m_and, None, -eye, eye, None, None, None], [None, m_or, None, None, -eye, eye, None],
                         [eye, eye, None, None, None, None, -eye]], 2
    a_eq, nz = sparse.bmat(blocks, format="csr"), 2 * nfree
    cost = np.concatenate([np.zeros(nfree * size), np.ones(nz * size), np.zeros(size)])
    lower = np.concatenate([np.full(nfree * size, -np.inf), np.zeros(nz * size), np.full(size, -b)])
    upper = np.concatenate([np.full((nfree + nz) * size, np.inf), np.full(size, b)])
    b_eq = np.concatenate([np.zeros(nfree * size), v])
    res = linprog(cost, A_eq=a_eq, b_eq=b_eq, bounds=np.column_stack([lower, upper]), method=method)
    if res.status != 0:
        raise RuntimeError(f"HiGHS failed (n={n}, mode={mode}): {res.message}")
    a = res.x[:size]
    o = np.zeros(size) if mode == "q" else res.x[size:2 * size]
    w = res.eqlin.marginals[-size:]
    out = {"optimum": float(res.fun), "a": a, "o": o, "Iand": m_and @ a,
           "Ior": np.zeros(size) if mode == "q" else m_or @ o, "p": (a - o) / 2 if mode != "q" else np.zeros(size),
           "q": a + o - v, "w": w, "bound": b, "result": res}
    out["lower"] = dual_bound(v, w, b, mode)
    out["seconds"] = time.perf_counter() - start
    return out


def nnz(x):
    return int(np.count_nonzero(np.abs(x) > NNZ_TOL))


# ----------------------------------------------------------------------------- synthetic vectors


def planted(n, rng, k=None, noise=1e-3):
    """Zeta transform of sparse random I_and plus sparse I_or (k entries each, N(0, 1)), plus N(0, noise^2)."""
    k = 2 * n if k is None else k
    size, z = 1 << n, zeta_and(n)
    i_and, i_or = np.zeros(size), np.zeros(size)
    i_and[rng.choice(size, k, replace=False)] = rng.normal(size=k)
    i_or[rng.choice(size, k, replace=False)] = rng.normal(size=k)
    return z @ i_and + zeta_or_apply(z, i_or) + rng.normal(0, noise, size), i_and, i_or


def synthetic(n, kind, seed):
    rng = np.random.default_rng(seed)
    return rng.normal(size=1 << n) if kind == "gaussian" else planted(n, rng)[0]


def add_null_players(v, null, n_out):
    """v over n_out players where players `null` do nothing: v_out(S) = v(S without them, bits compressed)."""
    keep = [i for i in range(n_out) if i not in null]
    s = np.arange(1 << n_out)
    return v[sum(((s >> bit) & 1) << j for j, bit in enumerate(keep))]


# ----------------------------------------------------------------------------- self-check


def _dense_zetas(n):
    """Dense Z_and[S, T] = 1[T subset S] and Z_or[S, T] = 1[T = 0 or T meets S], from the definitions."""
    s, t = np.arange(1 << n)[:, None], np.arange(1 << n)[None, :]
    return ((s & t) == t).astype(float), ((t == 0) | ((s & t) != 0)).astype(float)


def dense_reference(v, mode, b):
    """Same optimum by another route (n <= 5): variables I_and, I_or = I+ - I- (>= 0) and dense rows
    |Z_and I_and + Z_or I_or - v| <= b, solved by HiGHS interior point (crossover) instead of simplex."""
    z_and, z_or = _dense_zetas(players(v.size))
    g = np.hstack([z_and, -z_and] if mode == "q" else [z_and, -z_and, z_or, -z_or])
    res = linprog(np.ones(g.shape[1]), A_ub=np.vstack([g, -g]), b_ub=np.concatenate([v + b, b - v]),
                  bounds=(0, None), method="highs-ipm")
    assert res.status == 0, res.message
    return res.fun


def _selfcheck_matrices():
    fails = []
    for n in range(1, 7):
        m_and, m_or, z, (_, z_or) = and_matrix(n), or_matrix(n), zeta_and(n), _dense_zetas(n)
        x = np.random.default_rng(n).normal(size=1 << n)
        if not (np.array_equal(m_and.toarray(), ref.and_matrix(n)) and np.array_equal(m_or.toarray(), ref.or_matrix(n))
                and m_and.nnz == 3**n == m_or.nnz and np.array_equal((z @ m_and).toarray(), np.eye(1 << n))
                and np.array_equal(z_or @ m_or.toarray(), np.eye(1 << n)) and np.allclose(zeta_or_apply(z, x), z_or @ x)
                and np.allclose(zeta_or_t_apply(z, x), z_or.T @ x)):
            fails.append(f"matrices n={n}")
    return fails


def _close(x, y, rel=1e-7):
    return abs(x - y) <= rel * max(1.0, abs(x), abs(y))


def _selfcheck_problem(n, mode, kind, seed):
    """Every check on one random problem; returns a list of failure descriptions."""
    rng = np.random.default_rng(seed)
    v, i_and, i_or = (rng.normal(0, 3, 1 << n), 0, 0) if kind == "gaussian" else planted(n, rng)
    sol = solve(v, mode)
    L, b, tag, fails = sol["optimum"], sol["bound"], f"n={n} {mode} {kind} seed={seed}", []
    m_and, m_or = ref.dense_matrices(n)
    iand, ior = ref.interactions(v, sol["p"], sol["q"], mode, m_and, m_or)
    # any w must give a bound <= L*: random, perturbed optimal duals, and (mode pq) the AND-only duals of mode q,
    # whose bound is L*_q >= L*_pq unless the Z_or scaling is applied
    candidates = [rng.normal(size=v.size) for _ in range(3)] + [solve(v, "q")["w"]] * (mode == "pq") + [
        sol["w"] + eps * np.abs(sol["w"]).max() * rng.normal(size=v.size) for eps in (0.01, 0.1, 0.3) for _ in range(3)]
    loss0 = sum(np.abs(x).sum() for x in ref.interactions(v, 0 * v, 0 * v, mode, m_and, m_or))
    checks = {
        "feasible": np.abs(sol["q"]).max() <= b + 1e-9 * (1 + np.abs(v).max()),
        "loss of (Iand, Ior) = L*": _close(np.abs(sol["Iand"]).sum() + np.abs(sol["Ior"]).sum(), L),
        "reference interactions(p, q)": np.allclose(iand, sol["Iand"]) and np.allclose(ior, sol["Ior"]),
        "L* <= loss at p = q = 0": L <= loss0 * (1 + 1e-9),
        "HiGHS duals certify L*": _close(sol["lower"], L),
        "random and perturbed w give lower bounds": all(dual_bound(v, w, b, mode) <= L * (1 + 1e-9) + 1e-9
                                                        for w in candidates),
        "scale c = 2.5": _close(solve(2.5 * v, mode)["optimum"], 2.5 * L),
        "scale c = -0.7": _close(solve(-0.7 * v, mode)["optimum"], 0.7 * L),
        # shift: M_and 1 = M_or 1 = e_0 and v(N) - v(0), hence b, is unchanged, so |L*(v + c) - L*(v)| <= |c|
        "shift c = 1.3 moves L* by <= |c|": abs(solve(v + 1.3, mode)["optimum"] - L) <= 1.3 + 1e-9,
    }
    z_and, z_or = _dense_zetas(n)
    if mode == "pq" and kind == "planted" and np.abs(v - z_and @ i_and - z_or @ i_or).max() <= b:
        checks["L* <= loss of the planted I (feasible)"] = L <= np.abs(i_and).sum() + np.abs(i_or).sum() + 1e-9
    if n <= 5:
        checks["dense I-formulation (IPM)"] = _close(dense_reference(v, mode, b), L)
    return [f"{tag}: {name}" for name, ok in checks.items() if not ok]


def selfcheck(seed=20240611):
    fails = _selfcheck_matrices()
    count = 0
    for n in range(3, 8):
        for mode in MODES:
            for kind in ("gaussian", "planted"):
                count += 1
                problem_seed = seed + 100 * n + 10 * MODES.index(mode) + (kind == "planted")
                fails += _selfcheck_problem(n, mode, kind, problem_seed)
    v6 = synthetic(4, "planted", seed)
    for mode in MODES:
        if not _close(solve(v6, mode)["optimum"], solve(add_null_players(v6, (1, 4), 6), mode)["optimum"]):
            fails.append(f"null players n=4 -> 6 {mode} seed={seed}")
    for f in fails:
        print("FAIL", f)
    print(f"lp_oracle self-check {'passed' if not fails else 'FAILED'}: matrices n=1..6, {count} problems "
          f"(n=3..7, modes {'/'.join(MODES)}), null players; {len(fails)} failures; {SOLVER}")
    return not fails


# ----------------------------------------------------------------------------- fixtures and CLI


def _record(v, mode, qthres, variant):
    """One row of optima.json; nnz_margin = [largest |I| counted as zero, smallest |I| counted as non-zero]."""
    sol = solve(v, mode, qthres)
    mags = np.abs(np.concatenate([sol["Iand"], sol["Ior"]]))
    return {"mode": mode, "v": variant, "bound": sol["bound"], "optimum": sol["optimum"], "dual_bound": sol["lower"],
            "nnz_and": nnz(sol["Iand"]), "nnz_or": nnz(sol["Ior"]),
            "nnz_margin": [float(mags[mags <= NNZ_TOL].max(initial=0)),
                           float(mags[mags > NNZ_TOL].min(initial=np.inf)) if mags.max() > NNZ_TOL else None],
            "seconds": round(sol["seconds"], 3)}


def make_fixtures(outdir, qthres=0.04, seed=517):
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    vectors = {name: (np.load(REWARDS / f"{name}.npy"), f"Tests/Fixtures/rewards/{name}.npy") for name in REAL}
    for i, n in enumerate((4, 6, 8)):
        for j, kind in enumerate(("gaussian", "planted")):
            name = f"synthetic_n{n}_{kind}"
            vectors[name] = (synthetic(n, kind, seed + 10 * i + j), f"Tests/Fixtures/optimum/{name}.npy")
    null = add_null_players(vectors["synthetic_n6_planted"][0], (2, 5), 8)
    vectors["synthetic_n8_null_2_5"] = (null, "Tests/Fixtures/optimum/synthetic_n8_null_2_5.npy")
    table = {}
    for name, (v, rel) in vectors.items():
        if name.startswith("synthetic"):
            np.save(outdir / f"{name}.npy", v.astype(np.float64))
        rows = [_record(v - (v[0] if variant == "minus_empty" else 0.0), mode, qthres, variant)
                for mode in MODES for variant in ("raw", "minus_empty")]
        table[name] = {"path": rel, "n": players(v.size), "v_empty": float(v[0]), "optima": rows}
        for r in rows:
            print(f"{name:32s} {r['mode']:2s} {r['v']:11s} L*={r['optimum']:.10g} nnz={r['nnz_and']}+{r['nnz_or']} "
                  f"{r['seconds']:.2f}s", flush=True)
    for base, lifted in zip(table["synthetic_n6_planted"]["optima"], table["synthetic_n8_null_2_5"]["optima"]):
        assert _close(base["optimum"], lifted["optimum"]), (base, lifted)
    doc = {"generator": "Tests/Tools/lp_oracle.py --make-fixtures", "solver": SOLVER, "numpy": np.__version__,
           "qthres": qthres, "nnz_tolerance": NNZ_TOL, "synthetic_seed": seed,
           "null_players": {"vector": "synthetic_n8_null_2_5", "from": "synthetic_n6_planted", "players": [2, 5]},
           "vectors": table}
    (outdir / "optima.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"wrote {outdir / 'optima.json'}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--selfcheck", action="store_true", help="run the self-check; exit 1 on failure")
    parser.add_argument("--solve", metavar="V.npy", help="solve one reward vector")
    parser.add_argument("--make-fixtures", metavar="OUTDIR", help="write OUTDIR/optima.json and synthetic vectors")
    parser.add_argument("--mode", choices=MODES, default="pq")
    parser.add_argument("--qthres", type=float, default=0.04)
    parser.add_argument("--subtract-empty", action="store_true", help="solve for v - v(empty)")
    parser.add_argument("--json", metavar="OUT.json", help="with --solve: write the result summary")
    args = parser.parse_args()
    if args.selfcheck:
        sys.exit(0 if selfcheck() else 1)
    if args.make_fixtures:
        make_fixtures(args.make_fixtures, args.qthres)
    elif args.solve:
        v = np.load(args.solve).astype(np.float64)
        v = v - v[0] if args.subtract_empty else v
        sol = solve(v, args.mode, args.qthres)
        print(f"L* = {sol['optimum']!r} (dual bound {sol['lower']!r}), nnz Iand {nnz(sol['Iand'])}, "
              f"nnz Ior {nnz(sol['Ior'])}, {sol['seconds']:.2f} s")
        if args.json:
            summary = {"n": players(v.size), "mode": args.mode, "qthres": args.qthres, "bound": sol["bound"],
                       "optimum": sol["optimum"], "nnz_and": nnz(sol["Iand"]), "nnz_or": nnz(sol["Ior"]),
                       "seconds": sol["seconds"], "solver": SOLVER}
            Path(args.json).write_text(json.dumps(summary, indent=1) + "\n")
    else:
        parser.print_help()
        sys.exit(2)


if __name__ == "__main__":
    main()
