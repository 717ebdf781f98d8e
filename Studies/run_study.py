"""A study across samples, end to end, with the `harsanyi` command (issue: studies across samples).

Models: the networks Tests/Tools/make_onnx_fixtures.py trains with numpy and exports to ONNX (offline data from
scikit-learn; deterministic): a LeNet-style CNN on digits (8x8 images, players = a 3x4 grid of cells, n = 12) and an
MLP on breast cancer (raw features, players = the first 10 features, baseline = the training mean, n = 10). Data:
the same train/test split as the fixtures (train_test_split(test_size=0.25, random_state=0, stratify=y)).

Steps, each a `harsanyi` command (printed before it runs):
  1. dataset runs: correctly classified training and test samples, K per class (--per-class K --only-correct),
     target = the true label, default certified decomposition (mode pq, exact optimum);
  2. analyze orders, generalization (train vs test, with the half-split control), transfer and bound per model;
  3. copies the figures (SVG) and the JSON results into docs/studies/ (small) and writes docs/studies/results.json
     with the numbers docs/studies.md discusses.

    python3 Studies/run_study.py [--harsanyi .build/release/harsanyi] [--per-class 5] [--work /tmp/harsanyi-study]

Needs numpy and scikit-learn (for the data only); the runs take a few minutes on one core.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FIX = os.path.join(ROOT, "Tests", "Fixtures", "onnx")


def data(work):
    out = {}
    d = load_digits()
    x = (d.data / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    xtr, xte, ytr, yte = train_test_split(x, d.target, test_size=0.25, random_state=0, stratify=d.target)
    b = load_breast_cancer()
    btr, bte, cytr, cyte = train_test_split(b.data.astype(np.float32), b.target, test_size=0.25, random_state=0,
                                            stratify=b.target)
    for name, arrays in (("digits", (xtr, ytr, xte, yte)), ("cancer", (btr, cytr, bte, cyte))):
        for split, xs, ys in (("train", arrays[0], arrays[1]), ("test", arrays[2], arrays[3])):
            np.save(os.path.join(work, f"{name}_{split}_x.npy"), xs)
            np.save(os.path.join(work, f"{name}_{split}_y.npy"), ys.astype(np.int64))
            out[f"{name}_{split}"] = len(ys)
    return out


def run(cmd):
    print("$ " + " ".join(cmd), flush=True)
    start = time.time()
    subprocess.run(cmd, check=True)
    return time.time() - start


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--harsanyi", default=os.path.join(ROOT, ".build", "release", "harsanyi"))
    p.add_argument("--per-class", type=int, default=5)
    p.add_argument("--work", default="/tmp/harsanyi-study")
    p.add_argument("--backend", default="cpu")
    a = p.parse_args()
    os.makedirs(a.work, exist_ok=True)
    sizes = data(a.work)
    docs = os.path.join(ROOT, "docs", "studies")
    os.makedirs(docs, exist_ok=True)
    models = {
        "digits": (os.path.join(FIX, "lenet_digits.onnx"), ["--players", "grid:3x4"]),
        "cancer": (os.path.join(FIX, "mlp_breast_cancer.onnx"),
                   ["--players", "features:0,1,2,3,4,5,6,7,8,9", "--baseline",
                    "mean:" + os.path.join(FIX, "mlp_breast_cancer.baseline.npy")]),
    }
    summary = {"sizes": sizes, "per_class": a.per_class, "seconds": {}}
    for name, (model, extra) in models.items():
        runs = {}
        for split in ("train", "test"):
            out = os.path.join(a.work, f"{name}_{split}_run")
            runs[split] = out
            summary["seconds"][f"{name}_{split}_run"] = run(
                [a.harsanyi, "extract", "--model", model, "--input", os.path.join(a.work, f"{name}_{split}_x.npy"),
                 "--labels", os.path.join(a.work, f"{name}_{split}_y.npy"), "--per-class", str(a.per_class),
                 "--only-correct", "--backend", a.backend, "--out", out] + extra)
        for analysis, args in (("orders", [runs["test"]]), ("transfer", [runs["test"]]), ("bound", [runs["test"]]),
                               ("generalization", ["--train", runs["train"], "--test", runs["test"]])):
            target = os.path.join(docs, f"{name}_{analysis}.json")
            run([a.harsanyi, "analyze", analysis] + args + ["--out", target])
            summary[f"{name}_{analysis}"] = json.load(open(target))
        orders_train = os.path.join(docs, f"{name}_orders_train.json")
        run([a.harsanyi, "analyze", "orders", runs["train"], "--out", orders_train])
        # One test sample on its own, for its figure (the sample, its players and its top primitives).
        single = os.path.join(a.work, f"{name}_sample0")
        run([a.harsanyi, "extract", "--model", model, "--input", os.path.join(a.work, f"{name}_test_x.npy"),
             "--labels", os.path.join(a.work, f"{name}_test_y.npy"), "--index", "0", "--backend", a.backend,
             "--out", single, "--force"] + extra)
        shutil.copy(os.path.join(single, "figure.svg"), os.path.join(docs, f"{name}_sample0.svg"))
    json.dump(summary["seconds"], open(os.path.join(docs, "timings.json"), "w"), indent=1)
    json.dump(summary["seconds"], sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
