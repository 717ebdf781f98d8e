"""Independent numpy computations of the `harsanyi analyze` metrics (spec sections 6, 7, 11), and the fixture
they are checked on.

    python3 Tests/Tools/analysis_reference.py --make-fixture   # writes Tests/Fixtures/studies/
    python3 Tests/Tools/analysis_reference.py --orders RUN [--threshold sample|pooled|model] [--tau T] [--strict]
                                                           [--normalize]

The fixture is a synthetic dataset run in the layout `harsanyi extract --indices` writes (run.json, samples/NNNNNN/
with rewards.npy, Iand.npy, Ior.npy): 7 samples, n = 5, sparse planted AND and OR interactions of every order with
both signs and exact ties, v rebuilt from them (so the run is a faithful decomposition), one sample "skipped" and
one "failed" in the index (they must not be counted). expected_orders.json holds this script's results for several
threshold settings. The metric code below is written from the spec's formulas with numpy, not from the Swift code.
"""
import argparse
import json
import os
import sys
from itertools import combinations

import numpy as np

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fixtures", "studies")
SETTINGS = [("sample", None, False, False), ("pooled", None, False, False), ("model", None, False, True),
            ("sample", 0.2, True, False)]


def order_of(n):
    return np.array([bin(s).count("1") for s in range(1 << n)])


def load_run(run):
    index = json.load(open(os.path.join(run, "run.json")))
    n = index["identity"]["n"]
    samples = []
    for entry in index["samples"]:
        if entry["status"] != "done":
            continue
        d = os.path.join(run, "samples", "%06d" % entry["index"])
        samples.append({k: np.load(os.path.join(d, f + ".npy")) for k, f in
                        (("v", "rewards"), ("iand", "Iand"), ("ior", "Ior"))})
    return n, samples


def thresholds(samples, reference, tau):
    maxima = np.array([max(np.abs(s["iand"]).max(), np.abs(s["ior"]).max()) for s in samples])
    if reference == "sample":
        return (0.05 if tau is None else tau) * maxima
    if reference == "pooled":
        return np.full(len(samples), (0.05 if tau is None else tau) * maxima.max())
    spread = np.mean([abs(s["v"][-1] - s["v"][0]) for s in samples])
    return np.full(len(samples), (0.03 if tau is None else tau) * spread)


def orders(run, reference="sample", tau=None, strict=False, normalize=False):
    n, samples = load_run(run)
    k_of = order_of(n)
    t = thresholds(samples, reference, tau)
    spread = np.mean([abs(s["v"][-1] - s["v"][0]) for s in samples])
    scale = 1 / spread if normalize and spread > 0 else 1.0
    rows = []
    for k in range(n + 1):
        row = {"order": k, "subsets": int((k_of == k).sum())}
        for name in ("and", "or", "both"):
            per = []
            for x, s in enumerate(samples):
                values = {"and": s["iand"][k_of == k], "or": s["ior"][k_of == k],
                          "both": np.concatenate([s["iand"][k_of == k], s["ior"][k_of == k]])}[name]
                salient = (np.abs(values) > t[x]) if strict else (np.abs(values) >= t[x])
                salient &= values != 0
                total_abs = np.abs(values).sum()
                per.append({
                    "positive": np.maximum(values, 0).sum(), "negative": np.minimum(values, 0).sum(),
                    "salient_positive": np.maximum(values[salient], 0).sum(),
                    "salient_negative": np.minimum(values[salient], 0).sum(),
                    "salient_count": float(salient.sum()), "mean_abs": np.abs(values).mean(),
                    "eta": values.sum() / total_abs if total_abs > 0 else None,
                })
            etas = [p["eta"] for p in per if p["eta"] is not None]
            out = {key: float(np.mean([p[key] for p in per])) * (scale if key not in ("salient_count",) else 1)
                   for key in ("positive", "negative", "salient_positive", "salient_negative", "salient_count",
                               "mean_abs")}
            out["eta"] = float(np.mean(etas)) if etas else 0.0
            out["eta_samples"] = len(etas)
            row[name] = out
        rows.append(row)
    return {"n": n, "samples": len(samples), "thresholds": [float(x) for x in t], "orders": rows}


def jaccard(u, w):
    """Generalised Jaccard of signed vectors (spec section 8): positive and negative parts as separate coordinates."""
    uu = np.concatenate([np.maximum(u, 0), -np.minimum(u, 0)])
    ww = np.concatenate([np.maximum(w, 0), -np.minimum(w, 0)])
    return np.minimum(uu, ww).sum() / (np.maximum(uu, ww).sum() + 1e-7)


def class_targets(run):
    index = json.load(open(os.path.join(run, "run.json")))
    return [e["target"] for e in index["samples"] if e["status"] == "done"]


def generalization(train, test):
    """sim(k) = mean over shared classes of J(class-mean (Iand, Ior) vectors of order k, train vs test)."""
    n, a = load_run(train)
    _, b = load_run(test)
    ya, yb = class_targets(train), class_targets(test)
    k_of = order_of(n)

    def means(samples, ys, k):
        out = {}
        for c in sorted(set(ys)):
            members = [s for s, y in zip(samples, ys) if y == c]
            # interleaved (Iand(S), Ior(S)) over the S of order k in increasing index order
            vecs = [np.stack([s["iand"][k_of == k], s["ior"][k_of == k]], axis=1).ravel() for s in members]
            out[c] = np.mean(vecs, axis=0)
        return out

    sims = []
    for k in range(n + 1):
        ma, mb = means(a, ya, k), means(b, yb, k)
        shared = sorted(set(ma) & set(mb))
        sims.append(float(np.mean([jaccard(ma[c], mb[c]) for c in shared])) if shared else None)
    return sims


def transfer(run, reference="sample", tau=None, strict=False):
    """Cover ratio, alpha, beta and the alpha-weighted beta score per class (spec section 8), from the definitions."""
    n, samples = load_run(run)
    ys = class_targets(run)
    t = thresholds(samples, reference, tau)
    sets = []
    for x, s in enumerate(samples):
        values = np.concatenate([s["iand"], s["ior"]])
        sal = (np.abs(values) > t[x]) if strict else (np.abs(values) >= t[x])
        sal &= values != 0
        sets.append({int(i): bool(values[i] > 0) for i in np.nonzero(sal)[0]})
    out = []
    for c in sorted(set(ys)):
        members = [i for i, y in enumerate(ys) if y == c]
        ratios = [len(set(sets[a]) & set(sets[b])) / len(sets[a]) for a in members if sets[a] for b in members
                  if b != a]
        keys = sorted(set().union(*[set(sets[m]) for m in members]))
        ab = []
        for key in keys:
            p = sum(1 for m in members if sets[m].get(key) is True)
            q = sum(1 for m in members if sets[m].get(key) is False)
            ab.append(((p + q) / len(members), max(p, q) / (p + q)))
        weight = sum(a for a, _ in ab)
        out.append({"target": c, "samples": len(members), "cover_ratio": float(np.mean(ratios)) if ratios else None,
                    "discrimination_score": sum(a * b for a, b in ab) / weight if weight > 0 else None,
                    "alpha_beta": [[a, b] for a, b in ab]})
    return out


def bound(run, tau=0.05):
    """Spec section 11 (Ren et al. ICLR 2024) per sample, ported from the reference code's steps: p from u-bar, base-n
    digits of |A/u1|, delta, lambda, and the bound on the count of |I_and| >= tau max|I_and|."""
    n, samples = load_run(run)
    k_of = order_of(n)
    out = []
    for s in samples:
        u = s["v"] - s["v"][0]
        ubar = np.array([u[k_of == m].mean() for m in range(n + 1)])
        p = None
        if ubar[1] > 0 and (ubar[2:] > 0).all():
            p = max(np.log(ubar[m] / ubar[1]) / np.log(m) for m in range(2, n + 1))
        iand = s["iand"]
        thr = tau * np.abs(iand).max()
        rows = []
        for k in range(n + 1):
            vals = iand[k_of == k]
            a, total = vals.sum(), np.abs(vals).sum()
            rows.append({"order": k, "A": float(a), "eta": float(a / total) if total > 0 else None,
                         "count": int(((np.abs(vals) >= thr) & (vals != 0)).sum()), "bound": None, "lambda": None,
                         "delta_k": None})
        delta = None
        if p is not None:
            fp = int(np.floor(p))
            digits = []
            for k in range(1, n + 1):
                x = abs(rows[k]["A"] / ubar[1])
                ds = []  # base-n digits, least significant first; the fraction into a_0
                whole = int(np.floor(x))
                frac = x - whole
                while whole > 0:
                    ds.append(whole % n)
                    whole //= n
                ds = ds or [0]
                ds[0] += frac
                high = sum(d * n ** i for i, d in enumerate(ds) if i >= fp)
                low = sum(d * n ** i for i, d in enumerate(ds) if i < fp)
                digits.append((high, low))
                if high > 0:
                    rows[k]["delta_k"] = float(np.log(high) / np.log(n) - p)
            deltas = [r["delta_k"] for r in rows if r["delta_k"] is not None]
            delta = max(deltas) if deltas else None
            for k in range(1, n + 1):
                sign = -1.0 if rows[k]["A"] < 0 else 1.0
                if rows[k]["delta_k"] is not None:
                    rows[k]["lambda"] = float(sign * n ** (rows[k]["delta_k"] - delta))
                eta = rows[k]["eta"]
                if eta is None or eta == 0 or thr <= 0:
                    continue
                main = (rows[k]["lambda"] or 0.0) * n ** (p + (delta or 0.0))
                rows[k]["bound"] = float(ubar[1] / (thr * abs(eta)) * abs(main + sign * digits[k - 1][1]))
        out.append({"p": p, "delta": delta, "orders": rows})
    return out


def zeta(a):
    a = a.copy()
    n = int(np.log2(a.size))
    for b in range(n):
        v = a.reshape(-1, 2, 1 << b)
        v[:, 1, :] += v[:, 0, :]
    return a


def or_inverse(i_or):
    """v(S) = I(empty) + sum_{T meets S} I(T) = I(empty) + total - sum_{T subset N minus S} I(T)."""
    below = zeta(i_or)
    return i_or[0] + below[-1] - below[::-1]


def make_fixture():
    make_run("run_n5", 20261201)
    make_run("run_n5_test", 20261202)
    run = os.path.join(ROOT, "run_n5")
    expected = []
    for reference, tau, strict, normalize in SETTINGS:
        expected.append({"threshold": reference, "tau": tau, "strict": strict, "normalize": normalize,
                         "result": orders(run, reference, tau, strict, normalize)})
    json.dump({"run": "run_n5", "cases": expected}, open(os.path.join(ROOT, "expected_orders.json"), "w"), indent=1)
    make_run("run_n5_bound", 20261203, monotone=True)
    json.dump({"run": "run_n5_bound", "samples": bound(os.path.join(ROOT, "run_n5_bound"))},
              open(os.path.join(ROOT, "expected_bound.json"), "w"), indent=1)
    json.dump({"run": "run_n5", "classes": transfer(run)}, open(os.path.join(ROOT, "expected_transfer.json"), "w"),
              indent=1)
    gen = generalization(run, os.path.join(ROOT, "run_n5_test"))
    json.dump({"train": "run_n5", "test": "run_n5_test", "train_vs_test": gen},
              open(os.path.join(ROOT, "expected_generalization.json"), "w"), indent=1)
    print(f"wrote run_n5, run_n5_test, expected_orders.json ({len(expected)} settings), expected_generalization.json")


def make_run(name, seed, monotone=False):
    rng = np.random.default_rng(seed)
    n, count = 5, 32
    run = os.path.join(ROOT, name)
    os.makedirs(os.path.join(run, "samples"), exist_ok=True)
    levels = np.array([0.0, 0.0, 0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0])
    entries = []
    for i in range(9):
        status = "done"
        if i == 3:
            status = "skipped: misclassified (predicted 1, label 0)"
        if i == 6:
            status = "failed: synthetic failure"
        entry = {"index": i, "status": status}
        if status == "done":
            iand = rng.choice(levels, count) * rng.choice([-1.0, 1.0], count)
            ior = rng.choice(levels, count) * rng.choice([-1.0, 1.0], count)
            iand[0], ior[0] = 0.0, 0.0
            iand[0b10110] = 1.5  # a tie across types and samples
            ior[0b01101] = -1.5
            if monotone:  # non-negative AND only: u(S) grows with S, the bound's assumptions hold
                iand, ior = np.abs(iand), np.zeros(count)
            v = zeta(iand) + or_inverse(ior)
            d = os.path.join(run, "samples", "%06d" % i)
            os.makedirs(d, exist_ok=True)
            for name, a in (("rewards", v), ("Iand", iand), ("Ior", ior)):
                np.save(os.path.join(d, name + ".npy"), a.astype(np.float64))
            entry.update({"folder": "samples/%06d" % i, "target": int(i % 2), "predicted": int(i % 2)})
        entries.append(entry)
    identity = {"model": "synthetic", "model_fingerprint": "synthetic", "n": n, "players": "features:0,1,2,3,4",
                "mask_at": "", "input": "synthetic"}
    index = {"format": "harsanyi dataset run 1", "identity": identity, "samples": entries,
             "counts": {"done": 7, "skipped": 1, "failed": 1}}
    json.dump(index, open(os.path.join(run, "run.json"), "w"), indent=2, sort_keys=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--make-fixture", action="store_true")
    p.add_argument("--orders")
    p.add_argument("--threshold", default="sample")
    p.add_argument("--tau", type=float)
    p.add_argument("--strict", action="store_true")
    p.add_argument("--normalize", action="store_true")
    a = p.parse_args()
    if a.make_fixture:
        make_fixture()
    elif a.orders:
        json.dump(orders(a.orders, a.threshold, a.tau, a.strict, a.normalize), sys.stdout, indent=1)
    else:
        p.print_help()


if __name__ == "__main__":
    main()
