"""Writes the end-to-end fixtures of `harsanyi extract` and `harsanyi forward` under Tests/Fixtures/cli/.

The committed, already trained models of Tests/Fixtures/onnx/ are loaded (nothing is retrained); every
expected value comes from onnxruntime (CPUExecutionProvider, one thread, graph optimisations disabled,
as in make_onnx_fixtures.py), never from the code under test:

- per `extract` case: the 2^n masked inputs are built here (bit i of the subset index = player i;
  players not in S take the baseline; elements of no player keep the sample's value), onnxruntime
  gives their float32 logits, and the reward v is computed from them in float64 numpy exactly as the
  spec (section 2) and the CLI define it (log-odds z_y - logsumexp_{c != y} z_c, logit, log-prob, prob,
  binary). `rewards.npy` is v, minus v(empty) unless --keep-empty. `iand.npy` is the float64 Harsanyi
  dividend I_and = Moebius(rewards), the reference for `--mode and`.
- `--mask-at`: onnxruntime runs the prefix (input -> the masked tensor) on the sample and the suffix
  (the masked tensor -> logits) on the masked feature maps; both cut with onnx.utils.extract_model.
- per `forward` case: onnxruntime's output for a batch (the graph output, or an intermediate tensor).

Every player of every case changes its cell (no player's elements all equal the baseline) and changes
the output (max_S |v(S + i) - v(S)| >= MIN_EFFECT); both are asserted here, so no player is null.

Run (about 10 s):

    /path/to/python -m pip install onnx==1.23.2 onnxruntime==1.32.0 numpy
    python Tests/Tools/make_cli_fixtures.py

The output is deterministic (no randomness; the same files on every run with the same versions).
"""

import json
import os
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnx.utils
import onnxruntime as ort
from onnx import numpy_helper

ROOT = Path(__file__).resolve().parents[2]
ONNX_DIR = ROOT / "Tests/Fixtures/onnx"
OUT = ROOT / "Tests/Fixtures/cli"
REL = "Tests/Fixtures"  # paths in the manifest are relative to the repository root ("{root}/" in args)
MIN_EFFECT = 0.05  # every player moves v by at least this much for some S (far above any round-off)
CONVENTION = (
    "bit i of the subset index is player i (LSB = player 0); index 0 = all players at the baseline, "
    "index 2^n - 1 = the unmasked sample; players not in S take the baseline; elements of no player keep "
    "the sample's value"
)


def session_from_bytes(data):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    return ort.InferenceSession(data, so, providers=["CPUExecutionProvider"])


def session(path):
    return session_from_bytes(Path(path).read_bytes())


def cut(path, inputs, outputs):
    """onnxruntime session of the sub-graph from `inputs` to `outputs` (onnx.utils.extract_model)."""
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "part.onnx")
        onnx.utils.extract_model(str(path), out, inputs, outputs)
        return session(out)


def run(sess, x):
    return sess.run(None, {sess.get_inputs()[0].name: np.ascontiguousarray(x, dtype=np.float32)})[0]


# --- players, exactly as PlayerSpec.resolve orders the elements ---------------------------------------


def grid_players(shape, rows, cols):
    H, W = shape[-2], shape[-1]
    channels = int(np.prod(shape)) // (H * W)
    players = []
    for p in range(rows * cols):
        r, c = divmod(p, cols)
        idx = []
        for ch in range(channels):
            for y in range(r * H // rows, (r + 1) * H // rows):
                for x in range(c * W // cols, (c + 1) * W // cols):
                    idx.append((ch * H + y) * W + x)
        players.append(idx)
    return players


# --- rewards (spec section 2), float64 from float32 logits ----------------------------------------------


def lse(z, axis=-1):
    m = z.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True)))[..., 0]


def reward(logits, kind, y):
    z = logits.astype(np.float64)
    if kind == "log-odds":
        others = np.delete(z, y, axis=1)
        return z[:, y] - lse(others)
    if kind == "logit":
        return z[:, y]
    if kind == "log-prob":
        return z[:, y] - lse(z)
    if kind == "prob":
        return np.exp(z[:, y] - lse(z))
    if kind == "binary":
        return z[:, 0] if y == 1 else -z[:, 0]
    raise ValueError(kind)


def moebius(v):
    """I_and(S) = sum_{T subset S} (-1)^{|S|-|T|} v(T), float64 fast transform (spec 4.1)."""
    a = np.array(v, dtype=np.float64)
    n = a.size.bit_length() - 1
    idx = np.arange(a.size)
    for b in range(n):
        bit = 1 << b
        sel = idx[(idx & bit) != 0]
        a[sel] -= a[sel ^ bit]
    return a


def masked_batch(sample, players, baseline):
    n = len(players)
    flat = sample.reshape(-1)
    out = np.repeat(flat[None, :], 1 << n, axis=0)
    for s in range(1 << n):
        for i, p in enumerate(players):
            if not (s >> i) & 1:
                out[s, p] = baseline[p]
    return out


# --- cases ------------------------------------------------------------------------------------------------


def write_npy(name, array):
    np.save(OUT / name, array)
    return f"{REL}/cli/{name}"


def check_players(name, players, flat_sample, baseline):
    for k, p in enumerate(players):
        assert np.any(flat_sample[p] != baseline[p]), f"{name}: player {k} equals the baseline on all its elements"


def extract_case(spec):
    name = spec["name"]
    model_path = ROOT / spec["model"]
    x = np.load(ROOT / spec["input"])
    sample = x[spec["index"] : spec["index"] + 1]
    full_sess = session(model_path)
    full_logits = run(full_sess, sample)[0].astype(np.float64)
    mask_at = spec.get("mask_at")
    if mask_at:
        model = onnx.load(str(model_path))
        inp, outp = model.graph.input[0].name, model.graph.output[0].name
        masked_value = run(cut(model_path, [inp], [mask_at]), sample)  # [1, ...] the sample's feature map
        forward = cut(model_path, [mask_at], [outp])
    else:
        masked_value = sample
        forward = full_sess
    mask_shape = masked_value.shape[1:]
    count = int(np.prod(mask_shape))
    flat = masked_value.reshape(-1).astype(np.float32)

    players = spec["player_elements"](mask_shape)
    base = spec["baseline_values"](count).astype(np.float32)
    check_players(name, players, flat, base)
    n = len(players)

    batch = masked_batch(flat, players, base).reshape((1 << n,) + tuple(mask_shape))
    logits = run(forward, batch).astype(np.float32)
    kind = spec["output"]
    classes = 2 if kind == "binary" else full_logits.size
    order = np.argsort(-full_logits)
    predicted = (1 if full_logits[0] >= 0 else 0) if kind == "binary" else int(order[0])
    if kind != "binary":
        margin = full_logits[order[0]] - full_logits[order[1]]
        assert margin > 1e-2, f"{name}: predicted class is a near tie ({margin})"
    target = spec["target_class"](predicted, order)
    assert 0 <= target < classes

    v = reward(logits, kind, target)
    # The full-sample row of the batch reproduces the single-sample run (sanity of the masking).
    assert abs(v[-1] - reward(run(forward, masked_value), kind, target)[0]) < 1e-5, name
    effects = [
        max(abs(v[s | 1 << i] - v[s]) for s in range(1 << n) if not (s >> i) & 1) for i in range(n)
    ]
    assert min(effects) >= MIN_EFFECT, f"{name}: player effects {effects}"

    keep = spec.get("keep_empty", False)
    rewards = v if keep else v - v[0]
    iand = moebius(rewards)
    args = spec["args"] + ["--players", spec["players"], "--baseline", spec["baseline"]]
    args += ["--target", spec["target"], "--output", kind] + spec.get("flags", [])
    if mask_at:
        args += ["--mask-at", mask_at]
    files = {
        "logits": write_npy(f"{name}.logits.npy", logits),
        "rewards": write_npy(f"{name}.rewards.npy", rewards),
        "iand": write_npy(f"{name}.iand.npy", iand),
    }
    return {
        "name": name,
        "description": spec["description"],
        "args": args,
        "n": n,
        "players": spec["players"],
        "player_elements": players,
        "baseline": spec["baseline"],
        "mask_at": mask_at or onnx.load(str(model_path)).graph.input[0].name,
        "target": target,
        "target_rule": spec["target_rule"],
        "predicted": predicted,
        "output": kind,
        "subtract_empty": not keep,
        "model_v_empty": float(v[0]),
        "v_full": float(v[-1]),
        "logit_scale": float(np.abs(logits).max()),
        "max_abs_v": float(np.abs(rewards).max()),
        "max_abs_iand": float(np.abs(iand).max()),
        "min_player_effect": float(min(effects)),
        "files": files,
    }


def rel(p):
    return f"{REL}/{p}"


def zero(count):
    return np.zeros(count, np.float32)


def value(x):
    return lambda count: np.full(count, x, np.float32)


def make_binary_mlp():
    """mlp_breast_cancer with its last Gemm folded into one logit z = z_1 - z_0 (a sigmoid model's logit)."""
    m = onnx.load(str(ONNX_DIR / "mlp_breast_cancer.onnx"))
    last = m.graph.node[-1]
    assert last.op_type == "Gemm" and last.output[0] == m.graph.output[0].name
    inits = {i.name: i for i in m.graph.initializer}
    w = numpy_helper.to_array(inits[last.input[1]])  # [2, 16], transB = 1
    b = numpy_helper.to_array(inits[last.input[2]])
    inits[last.input[1]].CopyFrom(numpy_helper.from_array((w[1:2] - w[0:1]).astype(np.float32), last.input[1]))
    inits[last.input[2]].CopyFrom(numpy_helper.from_array((b[1:2] - b[0:1]).astype(np.float32), last.input[2]))
    dims = m.graph.output[0].type.tensor_type.shape.dim
    dims[1].dim_value = 1
    m.doc_string = "mlp_breast_cancer.onnx with the last Gemm folded to one logit z_1 - z_0 (make_cli_fixtures.py)"
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, str(OUT / "mlp_binary.onnx"))
    return f"{REL}/cli/mlp_binary.onnx"


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for f in OUT.iterdir():
        if f.name != "README.md":
            f.unlink()
    names = ("lenet_digits", "resnet_digits", "mlp_breast_cancer")
    lenet, resnet, mlp = (rel(f"onnx/{m}.onnx") for m in names)
    lenet_x, resnet_x, mlp_x = (rel(f"onnx/{m}.inputs.npy") for m in names)
    lenet_labels = np.load(ONNX_DIR / "lenet_digits.labels.npy")
    mlp_binary = make_binary_mlp()

    # groups:FILE.json on LeNet: six interleaved pixel sets (pixel index mod 7 = k, rows 1-6); the rest
    # (residue 6, rows 0 and 7) is in no player and stays present.
    groups = [[r * 8 + c for r in range(1, 7) for c in range(8) if (r * 8 + c) % 7 == k] for k in range(6)]
    with open(OUT / "lenet_groups.json", "w") as f:
        json.dump({"players": groups}, f)
    # tensor:FILE.npy on LeNet: the per-pixel mean of the other seven samples, shape [1, 8, 8].
    lx = np.load(ONNX_DIR / "lenet_digits.inputs.npy")
    tensor_base = lx[1:].mean(axis=0).astype(np.float32)
    write_npy("lenet_baseline.npy", tensor_base)
    # mlp: the 8 features that move the log-odds most when masked alone, listed in descending index order.
    mx = np.load(ONNX_DIR / "mlp_breast_cancer.inputs.npy")
    mean = np.load(ONNX_DIR / "mlp_breast_cancer.baseline.npy")
    msess = session(ROOT / mlp)
    mlp_index = 5
    s = mx[mlp_index : mlp_index + 1]
    one = np.repeat(s, 30, axis=0)
    one[np.arange(30), np.arange(30)] = mean
    z0 = run(msess, s)[0]
    y0 = int(np.argmax(z0))
    drop = np.abs(reward(run(msess, one), "log-odds", y0) - reward(run(msess, s), "log-odds", y0)[0])
    features = sorted(np.argsort(-drop)[:8].tolist(), reverse=True)
    flist = ",".join(map(str, features))

    specs = [
        dict(
            name="lenet_grid_predicted",
            description="LeNet sample 1, 2x4 grid (every cell has ink), zero baseline, predicted class, log-odds, "
            "v(empty) subtracted (the default)",
            model=lenet, input=lenet_x, index=1, args=["--index", "1"],
            players="grid:2x4", player_elements=lambda sh: grid_players(sh, 2, 4),
            baseline="zero", baseline_values=zero,
            target="predicted", target_class=lambda pred, order: pred, target_rule="the predicted class",
            output="log-odds", flags=["--mode", "and"],
        ),
        dict(
            name="lenet_label_keep_empty",
            description="LeNet sample 3, 4x2 grid, zero baseline, label:K with K the runner-up class, log-odds, "
            "--keep-empty",
            model=lenet, input=lenet_x, index=3, args=["--index", "3"],
            players="grid:4x2", player_elements=lambda sh: grid_players(sh, 4, 2),
            baseline="zero", baseline_values=zero,
            target=None, target_class=lambda pred, order: int(order[1]), target_rule="given (--target label:",
            output="log-odds", flags=["--mode", "and", "--keep-empty"], keep_empty=True,
        ),
        dict(
            name="lenet_value_subtract_flag",
            description="LeNet sample 3, 4x2 grid, value:0.25 baseline, predicted class, logit, the hidden "
            "--subtract-empty flag, the default engine (certified sparsifier)",
            model=lenet, input=lenet_x, index=3, args=["--index", "3"],
            players="grid:4x2", player_elements=lambda sh: grid_players(sh, 4, 2),
            baseline="value:0.25", baseline_values=value(0.25),
            target="predicted", target_class=lambda pred, order: pred, target_rule="the predicted class",
            output="logit", flags=["--subtract-empty"],
        ),
        dict(
            name="lenet_groups_tensor",
            description="LeNet sample 0, groups:lenet_groups.json (6 irregular pixel groups, the rest present), "
            "tensor:lenet_baseline.npy (mean of samples 1-7), label:K = the true label, log-prob",
            model=lenet, input=lenet_x, index=0, args=["--index", "0"],
            players="groups:{root}/" + f"{REL}/cli/lenet_groups.json", player_elements=lambda sh: groups,
            baseline="tensor:{root}/" + f"{REL}/cli/lenet_baseline.npy",
            baseline_values=lambda count: tensor_base.reshape(-1),
            target=f"label:{int(lenet_labels[0])}", target_class=lambda pred, order: int(lenet_labels[0]),
            target_rule="given (--target label:",
            output="log-prob", flags=["--mode", "and"],
        ),
        dict(
            name="lenet_mask_at_relu1",
            description="LeNet sample 1 masked at t2 (the first post-ReLU feature map [8, 8, 8]), 2x4 grid of "
            "the map (all channels of a cell), zero baseline, predicted class, log-odds; onnxruntime runs the "
            "prefix and the suffix cut by onnx.utils.extract_model",
            model=lenet, input=lenet_x, index=1, args=["--index", "1"], mask_at="t2",
            players="grid:2x4", player_elements=lambda sh: grid_players(sh, 2, 4),
            baseline="zero", baseline_values=zero,
            target="predicted", target_class=lambda pred, order: pred, target_rule="the predicted class",
            output="log-odds", flags=["--mode", "and"],
        ),
        dict(
            name="resnet_grid_predicted",
            description="ResNet sample 2, 4x2 grid (every cell has ink), zero baseline, predicted class, "
            "log-odds, v(empty) subtracted",
            model=resnet, input=resnet_x, index=2, args=["--index", "2"],
            players="grid:4x2", player_elements=lambda sh: grid_players(sh, 4, 2),
            baseline="zero", baseline_values=zero,
            target="predicted", target_class=lambda pred, order: pred, target_rule="the predicted class",
            output="log-odds", flags=["--mode", "and"],
        ),
        dict(
            name="mlp_features_mean_prob",
            description=f"MLP sample {mlp_index}, features:{flist} (the 8 most influential, listed in "
            "descending order), mean:mlp_breast_cancer.baseline.npy, predicted class, prob",
            model=mlp, input=mlp_x, index=mlp_index, args=["--index", str(mlp_index)],
            players=f"features:{flist}", player_elements=lambda sh: [[f] for f in features],
            baseline="mean:{root}/" + rel("onnx/mlp_breast_cancer.baseline.npy"),
            baseline_values=lambda count: mean.reshape(-1),
            target="predicted", target_class=lambda pred, order: pred, target_rule="the predicted class",
            output="prob", flags=["--mode", "and"],
        ),
        dict(
            name="mlp_binary_label0",
            description=f"single-logit MLP (mlp_binary.onnx, z = z_1 - z_0), sample {mlp_index}, "
            f"features:{flist}, mean baseline, --output binary, label:0 (v = -z)",
            model=mlp_binary, input=mlp_x, index=mlp_index, args=["--index", str(mlp_index)],
            players=f"features:{flist}", player_elements=lambda sh: [[f] for f in features],
            baseline="mean:{root}/" + rel("onnx/mlp_breast_cancer.baseline.npy"),
            baseline_values=lambda count: mean.reshape(-1),
            target="label:0", target_class=lambda pred, order: 0, target_rule="given (--target label:0)",
            output="binary", flags=["--mode", "and"],
        ),
    ]
    cases = []
    for spec in specs:
        spec["args"] = ["--model", "{root}/" + spec["model"], "--input", "{root}/" + spec["input"]] + spec["args"]
        if spec["target"] is None:  # label:K resolved from the model's ranking
            x = np.load(ROOT / spec["input"])[spec["index"] : spec["index"] + 1]
            z = run(session(ROOT / spec["model"]), x)[0]
            spec["target"] = f"label:{int(np.argsort(-z)[1])}"
        cases.append(extract_case(spec))

    forwards = []
    for name, model, inp, output_name in [
        ("lenet_logits", lenet, lenet_x, None),
        ("lenet_t5", lenet, lenet_x, "t5"),
        ("resnet_logits", resnet, resnet_x, None),
        ("resnet_t24", resnet, resnet_x, "t24"),
        ("mlp_logits", mlp, mlp_x, None),
        ("mlp_binary_logits", mlp_binary, mlp_x, None),
    ]:
        x = np.load(ROOT / inp)
        m = onnx.load(str(ROOT / model))
        sess = cut(ROOT / model, [m.graph.input[0].name], [output_name]) if output_name else session(ROOT / model)
        y = run(sess, x)
        args = ["--model", "{root}/" + model, "--input", "{root}/" + inp]
        if output_name:
            args += ["--output-name", output_name]
        forwards.append({
            "name": name, "args": args, "output_name": output_name or m.graph.output[0].name,
            "shape": list(y.shape), "scale": float(np.abs(y).max()),
            "expected": write_npy(f"forward_{name}.npy", y.astype(np.float32)),
        })

    manifest = {
        "generator": "Tests/Tools/make_cli_fixtures.py",
        "versions": {"onnx": onnx.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__},
        "onnxruntime": "CPUExecutionProvider, 1 thread, graph optimisations disabled",
        "convention": CONVENTION,
        "args": "paths start with {root}/, the repository root; add --out DIR and --backend B",
        "min_player_effect_asserted": MIN_EFFECT,
        "extract": cases,
        "forward": forwards,
    }
    with open(OUT / "manifest.json", "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    for c in cases:
        print(f"{c['name']}: n={c['n']} target={c['target']} v(N)={c['v_full']:.4f} "
              f"v(empty)={c['model_v_empty']:.4f} min effect {c['min_player_effect']:.3f} "
              f"max|I|={c['max_abs_iand']:.3f} logit scale {c['logit_scale']:.2f}")
    print(f"{len(list(OUT.iterdir()))} files, {total} bytes")


if __name__ == "__main__":
    main()
