"""Masked forward throughput: harsanyi's CPU path and OpenCL path (each plain and with the linearity shortcut)
against onnxruntime running the same masked batch, for each fixture model and n = 8, 10, 12, 14, in one run.

    .venv/bin/python Benchmarks/forward_report.py        # needs onnxruntime in .venv and the release CLI
    HARSANYI_CLI=.build-x/release/harsanyi .venv/bin/python Benchmarks/forward_report.py [MODEL ...] [--n 12,14] [--backends opencl]

onnxruntime: CPUExecutionProvider with its default graph optimisations and threads; the 2^n masked inputs are
built with numpy beforehand (not timed) and run in batches of 256, 1024 and 4096 (median of 3 timings, each over at
least 2^16 samples: the 2^n set repeated for small n, as `bench forward` does); the best of
these is the reference (the MLP runs 2-3x faster at 4096 than at 256; the CNNs are flat).
harsanyi: `harsanyi bench forward --backend cpu|opencl` with its default batch (CPU path: masked batches built on the
host, timed; OpenCL: the device path `extract` uses, masked inputs or shortcut rows made on the device and v left
there), median of 3. Prints Markdown: samples/s and the ratio to onnxruntime.
"""

import json
import os
import subprocess
import sys
import time

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.environ.get("HARSANYI_CLI") or os.path.join(ROOT, ".build", "release", "harsanyi")  # override: another build
FIX = os.path.join(ROOT, "Tests", "Fixtures", "onnx")
ORT_BATCHES = [256, 1024, 4096]


def players(model, n):
    if model.startswith("mlp"):
        return f"features:{','.join(map(str, range(n)))}", [[i] for i in range(n)]
    rows, cols = {8: (2, 4), 10: (2, 5), 12: (3, 4), 14: (2, 7)}[n]
    lists = []
    for p in range(rows * cols):
        r, c = divmod(p, cols)
        lists.append([y * 8 + x for y in range(r * 8 // rows, (r + 1) * 8 // rows) for x in range(c * 8 // cols, (c + 1) * 8 // cols)])
    return f"grid:{rows}x{cols}", lists


def ort_rate(model, lists, sample):
    sess = ort.InferenceSession(os.path.join(FIX, model + ".onnx"), providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    n = len(lists)
    flat = sample.reshape(-1)
    masks = ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)
    batch = np.zeros((2**n, flat.size), dtype=np.float32)
    for k, idx in enumerate(lists):
        batch[:, idx] = np.where(masks[:, k:k + 1], flat[idx][None, :], 0.0)
    rest = np.ones(flat.size, dtype=bool)
    for idx in lists:
        rest[idx] = False
    batch[:, rest] = flat[rest]
    batch = batch.reshape((2**n,) + sample.shape[1:])
    best = (0.0, 0)
    for size in ORT_BATCHES:  # onnxruntime at its best batch size for this model and n
        if size > 2**n and size != ORT_BATCHES[0]:
            continue
        rounds = max(1, 2**16 // 2**n)  # each timing covers at least 2^16 samples, like harsanyi's
        times = []
        for _ in range(3):
            t = time.perf_counter()
            for _ in range(rounds):
                for s in range(0, 2**n, size):
                    sess.run(None, {name: batch[s:s + size]})
            times.append(time.perf_counter() - t)
        best = max(best, (rounds * 2**n / sorted(times)[1], size))
    return best


def main():
    has_cl = "backend: opencl" in subprocess.run([CLI, "devices"], capture_output=True, text=True).stdout
    backends = ["cpu"] + (["opencl"] if has_cl else [])
    args = sys.argv[1:]
    ns = [8, 10, 12, 14]
    if "--n" in args:
        i = args.index("--n")
        ns = [int(v) for v in args[i + 1].split(",")]
        del args[i:i + 2]
    if "--backends" in args:
        i = args.index("--backends")
        backends = [b for b in args[i + 1].split(",") if b in backends]
        del args[i:i + 2]
    head = " | ".join(f"{b} plain | {b} + shortcut" for b in backends)
    print(f"| model | n | onnxruntime (best batch) | {head} |")
    print("|---|---|---|" + "---|" * (2 * len(backends)))
    for model in args or ["mlp_breast_cancer", "lenet_digits", "resnet_digits"]:
        x = np.load(os.path.join(FIX, model + ".inputs.npy"))
        for n in ns:
            spec, lists = players(model, n)
            peer, peer_batch = ort_rate(model, lists, x[0:1])
            cells = []
            for b in backends:
                out = subprocess.run([CLI, "bench", "forward", "--model", os.path.join(FIX, model + ".onnx"),
                                      "--input", os.path.join(FIX, model + ".inputs.npy"), "--players", spec, "--backend", b, "--json"],
                                     check=True, capture_output=True, text=True).stdout
                r = json.loads(out)
                for key in ["plain_samples_per_s", "shortcut_samples_per_s"]:
                    v = r.get(key)
                    cells.append(f"{v:,.0f} ({v / peer:.2f}x)" if isinstance(v, float) else "n/a")
            print(f"| {model} | {n} | {peer:,.0f} ({peer_batch}) | " + " | ".join(cells) + " |")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
