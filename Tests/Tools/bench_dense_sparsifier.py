"""Benchmark of the dense reference sparsifier (the lab's reference approach, NumPy on the CPU).

For each n, builds M_and and M_or once in float32 (as the reference code does before moving them
to the GPU), then times `iterations` iterations of the dense sparsifier loop in mode "pq"
(`sparsifier_reference.sparsify`: per iteration two matvecs for the loss and, except on the last
iteration, two transposed matvecs for the gradient) on random float32 rewards, after a
3-iteration warm-up. The rate is the median over `repeats` timed runs: on a shared machine single
runs vary a lot. An n whose two matrices would need more than 12 GiB is skipped with a message.

    python3 Tests/Tools/bench_dense_sparsifier.py [N ...] [--iterations 50] [--repeats 3] [--json]

Defaults: n = 10 12 14, 50 iterations, 3 repeats. --json prints a JSON list of
{"n": .., "iterations_per_s": .., "build_s": ..} (skipped n are left out).
"""

import argparse
import json
import statistics
import sys
import time

import numpy as np

from sparsifier_reference import dense_matrices, sparsify

MAX_MATRIX_BYTES = 12 * 2**30


def bench(n, iterations, repeats):
    rng = np.random.default_rng(n)
    v = rng.normal(0.0, 3.0, 1 << n).astype(np.float32)
    start = time.perf_counter()
    matrices = dense_matrices(n, np.float32)
    build_s = time.perf_counter() - start
    sparsify(v, "pq", 0.04, 1e-5, 3, dtype=np.float32, matrices=matrices)  # warm-up: BLAS threads, caches
    loop_s = []
    for _ in range(repeats):
        start = time.perf_counter()
        sparsify(v, "pq", 0.04, 1e-5, iterations, dtype=np.float32, matrices=matrices)
        loop_s.append(time.perf_counter() - start)
    return {"n": n, "iterations_per_s": iterations / statistics.median(loop_s), "build_s": build_s}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("n", type=int, nargs="*", default=[10, 12, 14], help="numbers of players (default 10 12 14)")
    parser.add_argument("--iterations", type=int, default=50, help="sparsifier iterations to time (default 50)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs; the median is reported (default 3)")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of human lines")
    args = parser.parse_args()

    results = []
    for n in args.n:
        need = 2 * 4 * 4**n  # two float32 2^n x 2^n matrices
        if need > MAX_MATRIX_BYTES:
            print(f"n={n}: skipped, the two float32 matrices need {need / 2**30:.0f} GiB > 12 GiB",
                  file=sys.stderr if args.json else sys.stdout)
            continue
        result = bench(n, args.iterations, args.repeats)
        results.append(result)
        if not args.json:
            print(f"n={n}: build {result['build_s']:.3f} s ({need / 2**20:.0f} MiB), "
                  f"{result['iterations_per_s']:.1f} iterations/s "
                  f"(median of {args.repeats} runs of {args.iterations} iterations)")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
