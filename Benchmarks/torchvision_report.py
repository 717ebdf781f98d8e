"""Masked forwards on full-size torchvision models: harsanyi's CPU path and OpenCL path against onnxruntime, one run.

    /work/torchvenv/bin/python Tests/Tools/make_torchvision_fixtures.py --bench     # ResNet-18, MobileNet-V2 at 64x64
    .venv/bin/python Benchmarks/torchvision_report.py [--models DIR] [--n 10] [--seconds 5] [--cli PATH]

Models: the `--bench` exports of make_torchvision_fixtures.py (random initialisation, BatchNorm statistics from
seeded images; legacy exporter opset 17 and dynamo opset 20 with external data), input [1, 3, 64, 64].
Sample: the first image of <model>.inputs.npy; players: a 2 x 5 grid of patches (n = 10), baseline 0.
onnxruntime: CPUExecutionProvider, default graph optimisations and threads, on the 2^n masked inputs built with
numpy beforehand (not timed), at batches 32, 128 and 512; each timing runs batches cycling through the 2^n inputs
for at least --seconds; median of 3; the best batch is the reference. harsanyi: `bench forward --seconds S`
(median of 3, set-up reported apart), CPU path and OpenCL (the device path extract uses), both plain and with
the linearity shortcut. Prints Markdown: samples/s and the ratio to onnxruntime.
"""

import argparse
import json
import os
import subprocess
import time

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORT_BATCHES = [32, 128, 512]


def grid_players(shape, rows, cols):
    c, h, w = shape
    lists = []
    for p in range(rows * cols):
        r, q = divmod(p, cols)
        ys = range(r * h // rows, (r + 1) * h // rows)
        xs = range(q * w // cols, (q + 1) * w // cols)
        lists.append([ch * h * w + y * w + x for ch in range(c) for y in ys for x in xs])
    return lists


def ort_rate(path, sample, lists, seconds):
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    n = len(lists)
    flat = sample.reshape(-1)
    masks = ((np.arange(2**n)[:, None] >> np.arange(n)[None, :]) & 1).astype(bool)
    batch = np.repeat(flat[None, :], 2**n, axis=0)
    for k, idx in enumerate(lists):
        batch[:, idx] = np.where(masks[:, k:k + 1], flat[idx][None, :], 0.0)
    batch = batch.reshape((2**n,) + sample.shape[1:]).astype(np.float32)
    best = (0.0, 0)
    for size in ORT_BATCHES:
        sess.run(None, {name: batch[:size]})  # warm-up
        rates = []
        for _ in range(3):
            done, start, t0 = 0, 0, time.perf_counter()
            while True:
                sess.run(None, {name: batch[start:start + size]})
                done += size
                start = (start + size) % 2**n
                if time.perf_counter() - t0 >= seconds:
                    break
            rates.append(done / (time.perf_counter() - t0))
        best = max(best, (float(np.median(rates)), size))
    return best


def harsanyi(cli, path, inputs, players, backend, seconds):
    out = subprocess.run([cli, "bench", "forward", "--model", path, "--input", inputs, "--players", players,
                          "--backend", backend, "--seconds", str(seconds), "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="/tmp/harsanyi-bench-models")
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--cli", default=os.path.join(ROOT, ".build", "release", "harsanyi"))
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    rows, cols = {8: (2, 4), 10: (2, 5), 12: (3, 4)}[args.n]
    names = [("resnet18", "legacy17"), ("resnet18", "dynamo20"), ("mobilenet_v2_full", "legacy17"),
             ("mobilenet_v2_full", "dynamo20")]
    print(f"| model | exporter | onnxruntime (best batch) | cpu plain | cpu + shortcut | opencl plain | opencl + shortcut "
          f"| set-up cpu / opencl (s) |")
    print("|---|---|---|---|---|---|---|---|")
    for model, exporter in names:
        if args.only and args.only not in model:
            continue
        path = os.path.join(args.models, f"{model}_{exporter}.onnx")
        inputs = os.path.join(args.models, f"{model}.inputs.npy")
        if not os.path.exists(path):
            continue
        sample = np.load(inputs)[:1]
        sample_file = os.path.join(args.models, f"{model}.sample.npy")
        np.save(sample_file, sample)
        lists = grid_players(sample.shape[1:], rows, cols)
        ref, size = ort_rate(path, sample, lists, args.seconds)
        cells, setup = [], []
        for backend in ["cpu", "opencl"]:
            r = harsanyi(args.cli, path, sample_file, f"grid:{rows}x{cols}", backend, args.seconds)
            plain = r["plain_samples_per_s"]
            cut = r.get("shortcut_samples_per_s")
            cells.append(f"{plain:,.0f} ({plain / ref:.2f}x)")
            cells.append(f"{cut:,.0f} ({cut / ref:.2f}x)" if isinstance(cut, float) else "n/a")
            setup.append(f"{r['plain_setup_s']:.2f}")
        print(f"| {model} | {exporter} | {ref:,.0f} ({size}) | " + " | ".join(cells) + f" | {' / '.join(setup)} |",
              flush=True)


if __name__ == "__main__":
    main()
