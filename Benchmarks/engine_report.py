"""Engine benchmarks for the README: sparsifier speed against the dense reference, and the optimisers' losses.

Run from the repository root after `bash setup.sh` (needs the release CLI: `swift build -c release --product harsanyi`):

    .venv/bin/python Benchmarks/engine_report.py [--speed] [--optimizers] [--quick]

--speed       iterations/s of `harsanyi bench interactions` (CPU path and OpenCL) for n = 10, 12, 14, 16, next to
              the dense-matrix numpy port of the reference (Tests/Tools/bench_dense_sparsifier.py) in the same run,
              and the time of 10000 iterations at n = 16.
--optimizers  the final loss of sgd (reference), adam and pdhg at equal iteration budgets on the real reward
              vectors of Tests/Fixtures/rewards (one run of `harsanyi interactions` each, CPU path, float32).
Prints Markdown tables.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(ROOT, ".build", "release", "harsanyi")


def run(args):
    return subprocess.run(args, check=True, capture_output=True, text=True, cwd=ROOT).stdout


def bench(n, backend, iterations):
    out = run([CLI, "bench", "interactions", "--n", str(n), "--backend", backend, "--iterations", str(iterations), "--json"])
    return json.loads(out)["iterations_per_s"]


def dense(ns):
    out = run([sys.executable, os.path.join(ROOT, "Tests/Tools/bench_dense_sparsifier.py"), *map(str, ns), "--json"])
    return {row["n"]: row.get("iterations_per_s") for row in json.loads(out)}


def speed(quick):
    ns = [10, 12] if quick else [10, 12, 14, 16]
    has_cl = "backend: opencl" in run([CLI, "devices"])
    ref = dense([n for n in ns if n <= 14])
    print("| n | dense numpy (it/s) | CPU path (it/s) | ratio | OpenCL (it/s) | ratio |")
    print("|---|---|---|---|---|---|")
    for n in ns:
        iters = 2000 if n <= 12 else 300
        cpu = bench(n, "cpu", iters)
        cl = bench(n, "opencl", iters) if has_cl else None
        d = ref.get(n)
        ratio = lambda x: f"{x / d:.0f}x" if d and x else "n/a"
        print(f"| {n} | {f'{d:.1f}' if d else 'skipped (16 GiB per matrix)'} | {cpu:.0f} | {ratio(cpu)} | "
              f"{f'{cl:.0f}' if cl else 'n/a'} | {ratio(cl) if cl else 'n/a'} |")
    if not quick:
        for backend in ["cpu"] + (["opencl"] if has_cl else []):
            with tempfile.TemporaryDirectory() as tmp:
                v = os.path.join(ROOT, "Tests/Fixtures/rewards/digits_mlp_n16_s312.npy")
                out = run([CLI, "interactions", "--values", v, "--out", os.path.join(tmp, "r"), "--backend", backend])
                secs = re.search(r"in ([0-9.]+) s", out).group(1)
                print(f"\n10000 iterations at n = 16 (digits_mlp_n16_s312, {backend}): {secs} s")


def optimizers(quick):
    names = ["breast_cancer_mlp_n10_s517", "breast_cancer_mlp_n10_s291", "wine_mlp_n12_s24", "digits_mlp_n12_s312"]
    budgets = [300, 1000] if quick else [300, 1000, 3000, 10000]
    print("| v (real MLP outputs) | iterations | initial loss | sgd (reference) | adam | pdhg |")
    print("|---|---|---|---|---|---|")
    for name in names:
        v = os.path.join(ROOT, f"Tests/Fixtures/rewards/{name}.npy")
        for it in budgets:
            losses, initial = {}, None
            for opt in ["sgd", "adam", "pdhg"]:
                with tempfile.TemporaryDirectory() as tmp:
                    out = run([CLI, "interactions", "--values", v, "--out", os.path.join(tmp, "r"), "--backend", "cpu",
                               "--iterations", str(it), "--optimizer", opt])
                    m = re.search(r"loss ([-0-9.e+]+) -> ([-0-9.e+]+)", out)
                    initial, losses[opt] = float(m.group(1)), float(m.group(2))
            best = min(losses.values())
            cell = lambda o: f"**{losses[o]:.4g}**" if losses[o] == best else f"{losses[o]:.4g}"
            print(f"| {name} | {it} | {initial:.4g} | {cell('sgd')} | {cell('adam')} | {cell('pdhg')} |")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--speed", action="store_true")
    ap.add_argument("--optimizers", action="store_true")
    ap.add_argument("--quick", action="store_true", help="fewer sizes and budgets")
    a = ap.parse_args()
    if not (a.speed or a.optimizers):
        a.speed = a.optimizers = True
    if a.speed:
        speed(a.quick)
        print()
    if a.optimizers:
        optimizers(a.quick)
