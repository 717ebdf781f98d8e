"""NumPy baseline for the fast (butterfly) subset transforms, and a verifier for their output files.

Conventions: a vector over all subsets of n players has length 2^n, indexed by the subset's
bitmask (bit i = player i). Transforms (spec /work/shared/spec/interactions.md section 4.1), in
place, one pass per bit:

    and              subset Moebius (Harsanyi AND):  for i with the bit set:   a[i] -= a[i ^ bit]
    zeta             subset sum (its inverse):       for i with the bit set:   a[i] += a[i ^ bit]
    mobius-superset  M_and^T:                        for i with the bit clear: a[i] -= a[i | bit]
    zeta-superset    superset sum:                   for i with the bit clear: a[i] += a[i | bit]
    or               I_or[S] = -sum_{T subset S} (-1)^(|S|-|T|) v[N\\T] for S != 0, I_or[0] = v[0]
                     (AND transform of the complemented vector, negated, entry 0 reset to v[0])

Benchmark (float32): (a) the in-place AND butterfly at n (default 24), median of 5; (b) np.copyto
of the same buffer into a preallocated array, median of 5; (c) file to file at --file-n (default
26; 0 skips it): np.load of an input .npy, the butterfly, np.save of the output, median of 3, with
the load / transform / save medians too. Human-readable lines, or one JSON object with --json:

    python3 Tests/Tools/bench_numpy_transform.py [--n 24] [--file-n 26] [--json]

Verify a transform written by another implementation (computed here in float64; arrays of shape
(..., 2^n) are transformed along the last axis). Prints the max abs error; exit code 0 if it is
<= 1e-4 * max(1, max|IN|) * n, else 1:

    python3 Tests/Tools/bench_numpy_transform.py --verify IN.npy OUT.npy --kind and

Self-check of every kind against the dense reference matrices of sparsifier_reference.py:

    python3 Tests/Tools/bench_numpy_transform.py --selfcheck
"""

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

KINDS = ("and", "or", "zeta", "zeta-superset", "mobius-superset", "or-inverse", "or-transpose")


def players(size):
    """n such that size == 2^n, or ValueError."""
    n = int(size).bit_length() - 1
    if size < 1 or 1 << n != size:
        raise ValueError(f"last axis has length {size}, not a power of two")
    return n


def butterfly(a, subtract=True, superset=False):
    """In-place subset (superset=False) or superset transform along the last axis of a.

    subtract=True is the Moebius transform, False the zeta transform. For bit b the last axis is
    viewed as (-1, 2, 2^b): [:, 1, :] are the indices with bit b set, [:, 0, :] those without.
    """
    if not a.flags.c_contiguous:
        raise ValueError("butterfly needs a C-contiguous array (it works on reshaped views)")
    lead = a.shape[:-1]
    for bit in range(players(a.shape[-1])):
        view = a.reshape(*lead, -1, 2, 1 << bit)
        with_bit, without_bit = view[..., 1, :], view[..., 0, :]
        target, source = (without_bit, with_bit) if superset else (with_bit, without_bit)
        if subtract:
            target -= source
        else:
            target += source
    return a


def transform(v, kind):
    """The `kind` transform of v along its last axis, in float64 (a new array).

    The OR family is written from its definitions, not from the Swift code's step lists:
    or:           I(S) = -sum_{T subset S} (-1)^{|S|-|T|} v(N minus T) for S nonempty, I(empty) = v(empty),
                  i.e. minus the Moebius transform of the index-reversed v (N minus T = (2^n - 1) - T);
    or-inverse:   v(S) = I(empty) + sum_{T meets S} I(T) = I(empty) + total - sum_{T subset N minus S} I(T);
    or-transpose: (M_or^T y)(L) = y(empty)[L = empty] - sum_{S nonempty} (-1)^{|S|+|L|+n} y(S)[L contains N minus S],
                  i.e. minus the index-reversed superset Moebius transform of y with y(empty) set to 0.
    """
    v = np.asarray(v, dtype=np.float64)
    if kind == "or":
        out = np.ascontiguousarray(v[..., ::-1])  # index complement: N\T = (2^n - 1) - T
        butterfly(out)
        np.negative(out, out=out)
        out[..., 0] = v[..., 0]
        return out
    if kind == "or-inverse":
        below = butterfly(np.array(v, dtype=np.float64, order="C", copy=True), subtract=False)
        total = below[..., -1:]
        return v[..., :1] + total - np.ascontiguousarray(below[..., ::-1])
    if kind == "or-transpose":
        y = np.array(v, dtype=np.float64, order="C", copy=True)
        y[..., 0] = 0
        out = -np.ascontiguousarray(butterfly(y, subtract=True, superset=True)[..., ::-1])
        out[..., 0] += v[..., 0]
        return out
    out = np.array(v, dtype=np.float64, order="C", copy=True)
    return butterfly(out, subtract=kind in ("and", "mobius-superset"), superset=kind.endswith("superset"))


def magnitude(v, kind):
    """Per output entry, the sum of the absolute values of the terms the transform adds, and the depth of the
    longest chain of roundings that produce it: float arithmetic then errs by at most depth * u * magnitude
    (u the unit round-off; the standard bound for a summation tree of that depth, plus exact sign changes)."""
    a = np.abs(np.asarray(v, dtype=np.float64))
    n = players(a.shape[-1])
    if kind in ("and", "zeta"):
        return butterfly(np.array(a, order="C"), subtract=False), n
    if kind in ("mobius-superset", "zeta-superset"):
        return butterfly(np.array(a, order="C"), subtract=False, superset=True), n
    if kind == "or":
        out = butterfly(np.ascontiguousarray(a[..., ::-1]), subtract=False)
        out[..., 0] = a[..., 0]
        return out, n
    if kind == "or-inverse":
        below = butterfly(np.array(a, order="C"), subtract=False)
        return a[..., :1] + below[..., -1:] + np.ascontiguousarray(below[..., ::-1]), n + 2
    y = np.array(a, order="C")
    y[..., 0] = 0
    out = np.ascontiguousarray(butterfly(y, subtract=False, superset=True)[..., ::-1])
    out[..., 0] += a[..., 0]
    return out, n + 1


def verify(in_path, out_path, kind):
    """Compare OUT with the float64 transform of IN, entry by entry, within depth * u * magnitude (see magnitude();
    u of IN's type, the precision the transform ran in); returns True if every entry is within its bound."""
    x = np.load(in_path)
    y = np.load(out_path)
    if x.shape != y.shape:
        print(f"shape mismatch: IN {x.shape}, OUT {y.shape}")
        return False
    n = players(x.shape[-1])
    expected = transform(x, kind)
    err = np.abs(expected - y.astype(np.float64))
    mag, depth = magnitude(x, kind)
    u = float(np.finfo(x.dtype if x.dtype in (np.float32, np.float64) else np.float64).eps) / 2
    tol = max(depth, 1) * u * mag
    ratio = float((err / np.maximum(tol, np.finfo(np.float64).tiny)).max())
    ok = bool((err <= tol).all())
    worst = int(np.argmax(err - tol))
    print(f"{kind}: n={n}, shape {x.shape}, IN {x.dtype}, OUT {y.dtype}: max abs err {float(err.max()):.3e}, "
          f"worst error/bound {ratio:.3f} (bound {depth} u |terms| at entry {worst}: {float(tol.flat[worst]):.3e}) "
          f"{'OK' if ok else 'FAIL'}")
    return ok


def selfcheck():
    """Every kind against the dense matrices of the reference code, n = 1..8, plus a batch."""
    from sparsifier_reference import and_matrix, or_matrix

    rng = np.random.default_rng(0)
    ok = True
    for n in range(1, 9):
        m_and = and_matrix(n)
        dense = {
            "and": m_and,
            "or": or_matrix(n),
            "zeta": np.abs(m_and),  # 1[T subset S] = inverse of M_and
            "zeta-superset": np.abs(m_and).T,
            "mobius-superset": m_and.T,
            "or-inverse": np.rint(np.linalg.inv(or_matrix(n))),  # M_or is unimodular: its inverse is 0/1
            "or-transpose": or_matrix(n).T,
        }
        v = rng.normal(size=(3, 1 << n))
        for kind in KINDS:
            err = np.abs(transform(v, kind) - v @ dense[kind].T).max()
            if err > 1e-12:
                print(f"FAIL n={n} {kind}: max abs err {err:.2e}")
                ok = False
    ok = bound_check() and ok
    print("self-check passed: all kinds match the dense matrices for n = 1..8; the error bound holds for float32 "
          "butterflies and catches one dropped term" if ok else "self-check FAILED")
    return ok


def bound_check(n=14, seed=3):
    """verify()'s bound both ways: a float32 computation of each kind (numpy, same butterflies) lies within it, and
    the same computation with one input term dropped (the smallest plausible bug) lies outside it."""
    import os
    import tempfile
    rng = np.random.default_rng(seed)
    x = rng.uniform(-1, 1, 1 << n).astype(np.float32)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
        np.save(src, x)
        for kind in KINDS:
            y32 = float32_transform(x, kind)
            np.save(dst, y32)
            if not verify(src, dst, kind):
                print(f"FAIL: float32 {kind} (seed {seed}) exceeds the bound")
                ok = False
            dropped = x.copy()
            dropped[int(rng.integers(1, x.size - 1))] = 0  # one term lost
            np.save(dst, float32_transform(dropped, kind))
            if verify(src, dst, kind):
                print(f"FAIL: a dropped term in {kind} (seed {seed}) passes the bound")
                ok = False
    return ok


def float32_transform(x, kind):
    """transform() carried out in float32 (every add rounded to float32), for bound_check."""
    x = np.asarray(x, dtype=np.float32)
    if kind == "or":
        out = np.ascontiguousarray(x[::-1])
        butterfly(out)
        out = -out
        out[0] = x[0]
        return out
    if kind == "or-inverse":
        below = butterfly(x.copy(), subtract=False)
        return (x[0] + below[-1]) - np.ascontiguousarray(below[::-1])
    if kind == "or-transpose":
        y = x.copy()
        y[0] = 0
        out = -np.ascontiguousarray(butterfly(y, subtract=True, superset=True)[::-1])
        out[0] += x[0]
        return out
    return butterfly(x.copy(), subtract=kind in ("and", "mobius-superset"), superset=kind.endswith("superset"))


def median_ms(fn, repeats, setup=lambda: None):
    """Median wall time of fn() in ms over `repeats` runs, calling setup() untimed before each."""
    times = []
    for _ in range(repeats):
        setup()
        start = time.perf_counter()
        fn()
        times.append(1e3 * (time.perf_counter() - start))
    return statistics.median(times)


def bench(n, file_n):
    rng = np.random.default_rng(0)
    source = rng.standard_normal(1 << n, dtype=np.float32)
    work = np.empty_like(source)
    result = {
        "n": n,
        # refill before each run so every run transforms the same values
        "butterfly_ms": median_ms(lambda: butterfly(work), 5, setup=lambda: np.copyto(work, source)),
        "copy_ms": median_ms(lambda: np.copyto(work, source), 5),
    }
    if file_n:
        with tempfile.TemporaryDirectory() as tmp:
            in_path, out_path = Path(tmp) / "in.npy", Path(tmp) / "out.npy"
            np.save(in_path, rng.standard_normal(1 << file_n, dtype=np.float32))
            phases = {"load": [], "transform": [], "save": []}
            totals = []
            for _ in range(3):
                t0 = time.perf_counter()
                a = np.load(in_path)
                t1 = time.perf_counter()
                butterfly(a)
                t2 = time.perf_counter()
                np.save(out_path, a)
                t3 = time.perf_counter()
                del a
                for key, dt in zip(phases, (t1 - t0, t2 - t1, t3 - t2)):
                    phases[key].append(1e3 * dt)
                totals.append(1e3 * (t3 - t0))
        result.update({
            "file_n": file_n,
            "file_to_file_ms": statistics.median(totals),
            **{f"file_{key}_ms": statistics.median(values) for key, values in phases.items()},
        })
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=24, help="players for the in-memory benchmark (default 24)")
    parser.add_argument("--file-n", type=int, default=26, help="players for the file-to-file run (default 26, 0 skips)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of human lines")
    parser.add_argument("--verify", nargs=2, metavar=("IN", "OUT"), help="check OUT against the transform of IN")
    parser.add_argument("--kind", choices=KINDS, default="and", help="transform for --verify (default and)")
    parser.add_argument("--selfcheck", action="store_true", help="check every kind against the dense matrices")
    args = parser.parse_args()

    if args.selfcheck:
        return 0 if selfcheck() else 1
    if args.verify:
        return 0 if verify(*args.verify, args.kind) else 1

    result = bench(args.n, args.file_n)
    if args.json:
        print(json.dumps(result))
        return 0
    mib = (4 << args.n) / 2**20
    print(f"n={args.n} float32 ({mib:.0f} MiB): AND butterfly {result['butterfly_ms']:.2f} ms, "
          f"copy {result['copy_ms']:.2f} ms (median of 5)")
    if args.file_n:
        print(f"file to file n={args.file_n} ({(4 << args.file_n) / 2**20:.0f} MiB): "
              f"{result['file_to_file_ms']:.1f} ms (median of 3; phase medians: load {result['file_load_ms']:.1f}, "
              f"butterfly {result['file_transform_ms']:.1f}, save {result['file_save_ms']:.1f} ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
