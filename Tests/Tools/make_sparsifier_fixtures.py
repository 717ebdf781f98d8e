"""Writes the AND-OR sparsifier fixtures under Tests/Fixtures/sparsifier/<case>/.

Each case runs the dense reference sparsifier (`sparsifier_reference.sparsify`, spec
/work/shared/spec/interactions.md section 5.1) in float64 on deterministic rewards and stores:

    rewards.npy             v, float64, length 2^n (bit i of the index = player i)
    Iand.npy, Ior.npy       interactions at the last iteration, NOT reorganised
    p.npy, q.npy            p and q at the last iteration (q clamped)
    loss.npy                per-iteration loss trace, length `iterations`
    case.json               n, mode, qthres, lr, iterations, qtricks, seed, description, and
                            min_abs_interaction: the smallest |I| met over the whole run, i.e.
                            the margin before a rounding difference could flip a sign of the
                            L1 gradient and change the trajectory

Run from anywhere (needs only numpy); prints the first and last loss of every case:

    python3 Tests/Tools/make_sparsifier_fixtures.py
"""

import json
from pathlib import Path

import numpy as np

from sparsifier_reference import sparsify

FIXTURES = Path(__file__).resolve().parents[1] / "Fixtures" / "sparsifier"
QTHRES = 0.04


def gaussian_rewards(n, rng, sigma):
    return rng.normal(0.0, sigma, 1 << n)


def structured_rewards(n, rng, n_and, n_or, noise):
    """Planted AND terms w * 1[T subset S] and OR terms w * 1[T meets S], a bias, gaussian noise.

    Noise keeps every interaction away from exact zero at the start, so no sign is decided by
    rounding.
    """
    masks = np.arange(1 << n)
    v = np.full(1 << n, rng.normal(0.0, 1.0))
    for kind, count in (("and", n_and), ("or", n_or)):
        for _ in range(count):
            order = int(rng.integers(1, min(3, n) + 1))
            t = int(sum(1 << int(i) for i in rng.choice(n, size=order, replace=False)))
            w = rng.normal(0.0, 2.0)
            v += w * ((masks & t) == t if kind == "and" else (masks & t) != 0)
    return v + rng.normal(0.0, noise, 1 << n)


# name, n, mode, lr, iterations, seed, reward kind, description (names ending in _recenter re-centre q: qtricks)
CASES = (
    ("n3_gaussian_pq", 3, "pq", 1e-2, 50, 3, "gaussian", "v ~ N(0, 1), i.i.d."),
    ("n5_structured_pq", 5, "pq", 1e-3, 300, 5, "structured",
     "bias + 3 planted AND and 2 planted OR terms (orders 1-3, weights N(0, 2)) + N(0, 0.05) noise"),
    ("n8_logodds_pq", 8, "pq", 1e-4, 500, 8, "logodds", "log-odds-like v ~ N(0, 3), i.i.d."),
    ("n8_logodds_p", 8, "p", 1e-4, 500, 8, "logodds", "log-odds-like v ~ N(0, 3), i.i.d."),
    ("n8_logodds_q", 8, "q", 1e-4, 500, 8, "logodds", "log-odds-like v ~ N(0, 3), i.i.d."),
    ("n10_structured_pq", 10, "pq", 1e-5, 1000, 10, "structured",
     "bias + 6 planted AND and 4 planted OR terms (orders 1-3, weights N(0, 2)) + N(0, 0.05) noise"),
    ("n8_logodds_pq_recenter", 8, "pq", 1e-4, 500, 8, "logodds",
     "log-odds-like v ~ N(0, 3), i.i.d.; q re-centred to zero mean after every step (--recenter-q)"),
    ("n6_structured_q_recenter", 6, "q", 1e-3, 300, 6, "structured",
     "bias + 6 planted AND and 4 planted OR terms + N(0, 0.05) noise; q re-centred after every step (--recenter-q)"),
)


def rewards_for(kind, n, seed):
    rng = np.random.default_rng(seed)
    if kind == "gaussian":
        return gaussian_rewards(n, rng, 1.0)
    if kind == "logodds":
        return gaussian_rewards(n, rng, 3.0)
    if n <= 5:
        return structured_rewards(n, rng, n_and=3, n_or=2, noise=0.05)
    return structured_rewards(n, rng, n_and=6, n_or=4, noise=0.05)


def main():
    for name, n, mode, lr, iterations, seed, kind, description in CASES:
        v = rewards_for(kind, n, seed)
        qtricks = name.endswith("_recenter")
        out = sparsify(v, mode, QTHRES, lr, iterations, qtricks=qtricks)
        case_dir = FIXTURES / name
        case_dir.mkdir(parents=True, exist_ok=True)
        np.save(case_dir / "rewards.npy", v)
        for key in ("Iand", "Ior", "p", "q", "loss"):
            np.save(case_dir / f"{key}.npy", out[key].astype(np.float64))
        case = {
            "n": n,
            "mode": mode,
            "qthres": QTHRES,
            "lr": lr,
            "iterations": iterations,
            "qtricks": qtricks,
            "seed": seed,
            "description": description,
            "min_abs_interaction": float(out["min_abs"].min()),
        }
        (case_dir / "case.json").write_text(json.dumps(case, indent=2) + "\n")
        loss = out["loss"]
        print(f"{name:20s} loss {loss[0]:12.6f} -> {loss[-1]:12.6f} ({100 * (1 - loss[-1] / loss[0]):5.1f}% less), "
              f"min |I| {out['min_abs'].min():.2e}")


if __name__ == "__main__":
    main()
