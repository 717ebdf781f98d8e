"""Time to the certified optimum of the AND-OR decomposition, next to scipy's HiGHS and the reference SGD.

One run, one machine: for every reward vector (real MLP outputs of Tests/Fixtures/rewards and LeNet masked outputs
made here by `harsanyi extract`, all with v(empty) subtracted as every cited setup does) it times

- `harsanyi interactions --optimizer auto` (exact LP by CLP where the problem after removing null players is small
  enough, else PDLP) on the CPU path and on OpenCL, to a 1e-4 relative gap or the time limit;
- scipy HiGHS on the full sparse LP of spec 5.4 (Tests/Tools/lp_oracle.py) where n <= --highs-max-n;
- the reference SGD (10000 iterations, lr 1e-5) and the loss it reaches, as a ratio to the optimum.

Every timing is the command's own `seconds` (solver only, no process start), median of --repeat runs.

    .venv/bin/python Benchmarks/decomposition_report.py [--repeat 3] [--time-limit 120] [--json out.json]
"""

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "Tools"))
import lp_oracle  # noqa: E402

BIN = ROOT / ".build" / "release" / "harsanyi"
REAL = ["breast_cancer_mlp_n10_s517", "breast_cancer_mlp_n10_s532", "breast_cancer_mlp_n10_s291", "wine_mlp_n12_s24",
        "wine_mlp_n12_s105", "digits_mlp_n12_s312", "digits_mlp_n12_s1579", "digits_mlp_n16_s312"]
LENET = [("lenet_s0_grid4x4", "4x4"), ("lenet_s0_grid3x6", "3x6"), ("lenet_s0_grid4x5", "4x5")]


def run(args):
    out = subprocess.run([str(BIN)] + args, capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"harsanyi {' '.join(args)}: {out.stderr.strip().splitlines()[-1]}")
    return out


def vectors(work):
    """(name, path) of every v, v(empty) subtracted."""
    found = []
    for name in REAL:
        v = np.load(ROOT / "Tests" / "Fixtures" / "rewards" / f"{name}.npy")
        path = work / f"{name}.npy"
        np.save(path, v - v[0])
        found.append((name, path))
    for name, grid in LENET:
        out = work / name
        run(["extract", "--model", str(ROOT / "Tests/Fixtures/onnx/lenet_digits.onnx"), "--input",
             str(ROOT / "Tests/Fixtures/onnx/lenet_digits.inputs.npy"), "--players", f"grid:{grid}", "--mode", "and",
             "--out", str(out), "--force", "--backend", "opencl"])
        found.append((name, out / "rewards.npy"))
    return found


def solve(path, work, repeat, extra):
    """Median seconds and the last summary of `harsanyi interactions` with `extra` options."""
    times, summary = [], None
    for _ in range(repeat):
        out = work / "r"
        run(["interactions", "--values", str(path), "--out", str(out), "--force"] + extra)
        summary = json.loads((out / "summary.json").read_text())
        times.append(summary["seconds"])
    return statistics.median(times), summary


def highs(path, repeat):
    v = np.load(path)
    times, value = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        value = lp_oracle.solve(v, "pq", 0.04)["optimum"]
        times.append(time.perf_counter() - start)
    return statistics.median(times), value


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--time-limit", type=float, default=120)
    parser.add_argument("--highs-max-n", type=int, default=10)
    parser.add_argument("--json", help="write the rows here")
    args = parser.parse_args()
    if not BIN.exists():
        sys.exit(f"{BIN} is missing: swift build -c release --product harsanyi")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, path in vectors(work):
            n = int(np.load(path).size).bit_length() - 1
            row = {"vector": name, "n": n}
            for backend in ("cpu", "opencl"):
                if backend == "opencl" and row["cpu"]["solver"] == "exact":
                    row["opencl"] = dict(row["cpu"], note="exact: the LP runs on the host whatever the backend")
                    continue
                seconds, s = solve(path, work, args.repeat, ["--backend", backend, "--gap", "1e-4",
                                                             "--time-limit", str(args.time_limit)])
                o = s["optimality"]
                row[backend] = {"seconds": seconds, "solver": s["settings"]["optimizer"], "loss": o["loss"],
                                "lower_bound": o["lower_bound"], "gap": o["relative_gap"], "status": o["status"],
                                "solved_players": o["solved_players"], "null_players": s["null_players"]}
            seconds, s = solve(path, work, 1, ["--backend", "cpu", "--optimizer", "sgd"])
            row["sgd"] = {"seconds": seconds, "loss": s["optimality"]["loss"]}
            if n <= args.highs_max_n:
                row["highs"] = dict(zip(("seconds", "optimum"), highs(path, args.repeat)))
            rows.append(row)
            print(json.dumps(row), flush=True)
    print()
    print("| v | n (solved) | solver | best loss | gap (CPU / OpenCL) | CPU s | OpenCL s | HiGHS s | vs HiGHS "
          "| SGD loss / L* |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        c, o, h = r["cpu"], r["opencl"], r.get("highs")
        highs_s = f"{h['seconds']:.3g}" if h else "n/a"
        ratio = f"{h['seconds'] / max(c['seconds'], 1e-6):.0f}x faster" if h else "n/a"
        print(f"| {r['vector']} | {r['n']} ({c['solved_players']}) | {c['solver']} | {c['loss']:.6g} "
              f"| {c['gap']:.1e} / {o['gap']:.1e} | {c['seconds']:.3g} | {o['seconds']:.3g} | {highs_s} | {ratio} "
              f"| {r['sgd']['loss'] / c['loss']:.2f} |")
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
