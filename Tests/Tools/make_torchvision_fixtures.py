"""Writes torchvision-architecture ONNX fixtures (both of torch's exporters) under Tests/Fixtures/torchvision/.

What it makes
-------------
Small, randomly initialised torchvision classifiers (``weights=None``, ``torch.manual_seed(0)`` right
before each model is built, then ``condition``: every nn.Linear re-drawn with PyTorch's default init and
BatchNorm running statistics calibrated on seeded random images, so the logits depend on the input;
``model.eval()``, 3x32x32 input, 10 classes), each exported to ONNX by

    legacy17   torch.onnx.export(dynamo=False, opset_version=17), TorchScript tracing, batch axis
               "N" declared through dynamic_axes, weights inside the .onnx file
    dynamoNN   torch.onnx.export(dynamo=True) (torch.export + onnxscript, today's default) with
               dynamic_shapes Dim("N", 1..1024) and external_data=True: the weights live in
               "<file>.onnx.data" next to the model; NN = the opset the exporter actually wrote
    legacy9    resnet_tiny only, legacy exporter at opset 9 (model-zoo era)
    legacy10   mobilenet_v2 only, legacy exporter at opset 10 (Clip/Pad/Slice/... with attributes)

Models: resnet_tiny (BasicBlock, widths 8/16/32/64), mobilenet_v2 (width 0.25), mobilenet_v3_small
(width 0.25), efficientnet_b0_tiny (width 0.25, depth 0.25), shufflenet_v2_tiny, regnet_tiny,
densenet_tiny, convnext_tiny, vit_tiny, squeezenet1_1 (the last one is over the per-file size budget
of ~1.5 MB, so it is written only with --oversize; it is not committed).

Per model ``<m>`` and export ``<m>_<exporter>``:

    <m>_<exporter>.onnx (+ .onnx.data)   the exported model
    <m>.inputs.npy       float32 [4, 3, 32, 32]: two images drawn from np.random.default_rng(0)
                         (standard normal), then image 0 with the 8x8 patches 0..7 of the 4x4 grid
                         set to 0 (patch k = grid row k // 4, column k % 4), then image 0 with the
                         patches 8..15 set to 0
    <m>.torch.npy        float32 [4, 10]: torch's logits (eval, no_grad) on those inputs
    <m>_<exporter>.ort.npy   float32 [4, 10]: onnxruntime's logits (CPUExecutionProvider, one intra-op
                         thread, ORT_DISABLE_ALL so every node runs as written), checked against torch:
                         max|ort - torch| / max(1, max|torch|) < 1e-4
    manifest.json        versions, one entry per export (ops, opset, sizes, batch_symbolic, ...),
                         failures, and "all_ops" (the union of operators with the opsets they are used
                         at: what the Swift importer must implement)
    README.md            a table of the above

Versions it was run with (also written to manifest.json): torch 2.13.0+cpu, torchvision 0.28.0 (PyPI's +cu130 wheel),
onnx 1.23.2, onnxruntime 1.32.0, onnxscript 0.7.2, numpy 2.4.6, Python 3.11.

How to run (torch is for making fixtures only, never for CI: the Swift tests only read the files):

    python3 -m venv /work/torchvenv
    /work/torchvenv/bin/pip install torch            # CPU build (a local wheel or the CPU index)
    /work/torchvenv/bin/pip install torchvision==0.28.0 onnx==1.23.2 onnxruntime==1.32.0 onnxscript numpy
    /work/torchvenv/bin/python Tests/Tools/make_torchvision_fixtures.py [--out DIR] [--bench] [--oversize]

--bench additionally writes (to --out, default /tmp/harsanyi-bench-models; not committed) the
full-size resnet18 (1000 classes) and mobilenet_v2 at 64x64 input, legacy17 and dynamo, for benchmarks.
--only NAME[,NAME] limits the run to some models (the manifest then holds only those).

PyPI's torchvision wheels are CUDA builds; next to a CPU-only torch their C extension (_C.so, the
detection ops) cannot load and ``import torchvision`` fails on the fake registration of
torchvision::nms. The classifiers do not use those ops, so the script then declares the two op
schemas itself and imports again (see import_torchvision).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import traceback
import warnings

import numpy as np
import torch

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_OUT = os.path.join(REPO, "Tests", "Fixtures", "torchvision")
BENCH_OUT = "/tmp/harsanyi-bench-models"
SIZE_BUDGET = 1_500_000  # bytes per committed export (.onnx + .data)
TOLERANCE = 1e-4

_KEEP = []  # keeps the fallback torch.library.Library alive


def import_torchvision():
    try:
        import torchvision  # noqa: F401

        return torchvision
    except RuntimeError as error:
        if "torchvision::nms" not in str(error):
            raise
    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]
    lib = torch.library.Library("torchvision", "DEF")
    lib.define("nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    lib.define("qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")
    _KEEP.append(lib)
    import torchvision

    return torchvision


torchvision = import_torchvision()
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from torchvision.models import (  # noqa: E402
    ConvNeXt,
    DenseNet,
    EfficientNet,
    RegNet,
    ShuffleNetV2,
    VisionTransformer,
)
from torchvision.models.convnext import CNBlockConfig  # noqa: E402
from torchvision.models.efficientnet import _efficientnet_conf  # noqa: E402
from torchvision.models.regnet import BlockParams  # noqa: E402
from torchvision.models.resnet import BasicBlock, ResNet  # noqa: E402


# ---------------------------------------------------------------- models


class ResNetTiny(ResNet):
    """torchvision ResNet (same stem: 7x7 conv stride 2, BN, ReLU, maxpool; one BasicBlock per stage)
    with widths 8, 16, 32, 64 instead of 64..512."""

    def __init__(self, num_classes=10):
        super().__init__(BasicBlock, [1, 1, 1, 1], num_classes=num_classes)
        widths = [8, 16, 32, 64]
        self.inplanes = widths[0]
        self.conv1 = torch.nn.Conv2d(3, widths[0], kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(widths[0])
        self.layer1 = self._make_layer(BasicBlock, widths[0], 1)
        self.layer2 = self._make_layer(BasicBlock, widths[1], 1, stride=2)
        self.layer3 = self._make_layer(BasicBlock, widths[2], 1, stride=2)
        self.layer4 = self._make_layer(BasicBlock, widths[3], 1, stride=2)
        self.fc = torch.nn.Linear(widths[3], num_classes)
        for m in self.modules():  # same init as ResNet.__init__
            if isinstance(m, torch.nn.Conv2d):
                torch.nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, torch.nn.BatchNorm2d):
                torch.nn.init.constant_(m.weight, 1)
                torch.nn.init.constant_(m.bias, 0)


def efficientnet_b0_tiny():
    settings, last_channel = _efficientnet_conf("efficientnet_b0", width_mult=0.25, depth_mult=0.25)
    return EfficientNet(settings, dropout=0.2, last_channel=last_channel, num_classes=10)


def regnet_tiny():
    params = BlockParams.from_init_params(depth=4, w_0=8, w_a=8.0, w_m=2.0, group_width=8)
    return RegNet(params, num_classes=10)


def condition(model, size, seed=1):
    """Makes a randomly initialised network usable as a fixture (its logits depend on the input).

    Fresh BatchNorm layers (running mean 0, var 1) leave deep random nets with vanishing signals:
    mobilenet_v2 / v3 / efficientnet gave logits around 1e-8..1e-11 that did not change when half
    the image was masked, and torchvision's ViT zero-initialises its head (all logits 0). So:
    (1) every nn.Linear gets PyTorch's default Linear initialisation (reset_parameters), drawn
    right after the build from the same torch.manual_seed(0) stream; (2) BatchNorm running
    statistics are calibrated on 4 batches of 16 standard-normal images (torch.Generator seeded 1)
    in train mode with a cumulative average (momentum=None), then the model goes to eval."""
    for m in model.modules():
        if isinstance(m, torch.nn.Linear):
            m.reset_parameters()
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if bns:
        g = torch.Generator().manual_seed(seed)
        saved = [m.momentum for m in bns]
        for m in bns:
            m.reset_running_stats()
            m.momentum = None
        model.train()
        with torch.no_grad():
            for _ in range(4):
                model(torch.randn(16, 3, size, size, generator=g))
        for m, mom in zip(bns, saved):
            m.momentum = mom
    model.eval()


# name -> (family, builder, input size, extra legacy opsets)
MODELS = {
    "resnet_tiny": ("resnet", lambda: ResNetTiny(num_classes=10), 32, [9]),
    "mobilenet_v2": ("mobilenet", lambda: torchvision.models.mobilenet_v2(weights=None, width_mult=0.25, num_classes=10), 32, [10]),
    "mobilenet_v3_small": ("mobilenet", lambda: torchvision.models.mobilenet_v3_small(weights=None, width_mult=0.25, num_classes=10), 32, []),
    "efficientnet_b0_tiny": ("efficientnet", efficientnet_b0_tiny, 32, []),
    "shufflenet_v2_tiny": ("shufflenet", lambda: ShuffleNetV2([1, 1, 1], [8, 16, 32, 64, 128], num_classes=10), 32, []),
    "squeezenet1_1": ("squeezenet", lambda: torchvision.models.squeezenet1_1(weights=None, num_classes=10), 32, []),
    "regnet_tiny": ("regnet", regnet_tiny, 32, []),
    "densenet_tiny": ("densenet", lambda: DenseNet(growth_rate=8, block_config=(2, 2), num_init_features=16, num_classes=10), 32, []),
    "convnext_tiny": ("convnext", lambda: ConvNeXt([CNBlockConfig(16, 32, 1), CNBlockConfig(32, None, 1)], num_classes=10), 32, []),
    "vit_tiny": ("vit", lambda: VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=32, mlp_dim=64, num_classes=10), 32, []),
}
OVERSIZE = {"squeezenet1_1"}  # over SIZE_BUDGET: written only with --oversize

BENCH_MODELS = {
    "resnet18": ("resnet", lambda: torchvision.models.resnet18(weights=None, num_classes=1000), 64, []),
    "mobilenet_v2_full": ("mobilenet", lambda: torchvision.models.mobilenet_v2(weights=None), 64, []),
}


# ---------------------------------------------------------------- inputs


def make_inputs(size):
    rng = np.random.default_rng(0)
    images = rng.standard_normal((2, 3, size, size)).astype(np.float32)
    p = size // 4
    masked = []
    for patches in (range(0, 8), range(8, 16)):
        m = images[0].copy()
        for k in patches:
            r, c = divmod(k, 4)
            m[:, r * p:(r + 1) * p, c * p:(c + 1) * p] = 0.0
        masked.append(m)
    return np.concatenate([images, np.stack(masked)], axis=0)


# ---------------------------------------------------------------- onnx inspection


def opset_of(model):
    for imp in model.opset_import:
        if imp.domain in ("", "ai.onnx"):
            return imp.version
    return None


def collect_ops(model):
    ops = set()

    def walk(graph):
        for node in graph.node:
            ops.add(node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}::{node.op_type}")
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    walk(attr.g)
                elif attr.type == onnx.AttributeProto.GRAPHS:
                    for g in attr.graphs:
                        walk(g)

    walk(model.graph)
    for f in model.functions:  # local functions: count what they are made of, not their names
        for node in f.node:
            ops.add(node.op_type if node.domain in ("", "ai.onnx") else f"{node.domain}::{node.op_type}")
    local = {f"{f.domain}::{f.name}" for f in model.functions}
    return sorted(ops - local)


def dim0_symbolic(value_info):
    dims = value_info.type.tensor_type.shape.dim
    return bool(dims) and dims[0].HasField("dim_param") and not dims[0].HasField("dim_value")


def describe(path):
    m = onnx.load(path, load_external_data=False)
    external = any(
        t.data_location == onnx.TensorProto.EXTERNAL for t in m.graph.initializer
    )
    locations = sorted(
        {e.value for t in m.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL
         for e in t.external_data if e.key == "location"}
    )
    inline = sum(1 for t in m.graph.initializer if t.data_location != onnx.TensorProto.EXTERNAL)
    return {
        "opset": opset_of(m),
        "ir_version": m.ir_version,
        "ops": collect_ops(m),
        "nodes": len(m.graph.node),
        "functions": len(m.functions),
        "input_name": m.graph.input[0].name,
        "output_name": m.graph.output[0].name,
        "inputs_count": len(m.graph.input),
        "outputs_count": len(m.graph.output),
        "batch_symbolic": dim0_symbolic(m.graph.input[0]) and dim0_symbolic(m.graph.output[0]),
        "input_dims": [d.dim_param or d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim],
        "external_data": external,
        "data_files": locations,
        "initializers": len(m.graph.initializer),
        "inline_initializers": inline,
    }


def run_ort(path, inputs):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    return sess.run(None, {name: inputs})[0].astype(np.float32)


# ---------------------------------------------------------------- export


def export_legacy(model, x, path, opset):
    torch.onnx.export(
        model, (x,), path, dynamo=False, opset_version=opset,
        input_names=["input"], output_names=["logits"],
        dynamic_axes={"input": {0: "N"}, "logits": {0: "N"}},
    )


def export_dynamo(model, x, path):
    dyn = ({0: torch.export.Dim("N", min=1, max=1024)},)
    kwargs = dict(dynamo=True, input_names=["input"], output_names=["logits"], dynamic_shapes=dyn)
    try:
        torch.onnx.export(model, (x,), path, external_data=True, **kwargs)
    except TypeError as error:  # a torch without external_data=
        if "external_data" not in str(error):
            raise
        torch.onnx.export(model, (x,), path, **kwargs)
        m = onnx.load(path)
        onnx.save_model(m, path, save_as_external_data=True, all_tensors_to_one_file=True,
                        location=os.path.basename(path) + ".data", size_threshold=0)


def remove(paths):
    for p in paths:
        if os.path.exists(p):
            os.remove(p)


def do_model(name, spec, out, entries, failures, include_dynamo=True):
    family, build, size, old_opsets = spec
    print(f"== {name}", flush=True)
    torch.manual_seed(0)
    model = build()
    condition(model, size)
    params = sum(p.numel() for p in model.parameters())

    inputs = make_inputs(size)
    x = torch.from_numpy(inputs)
    with torch.no_grad():
        ref = model(x).numpy().astype(np.float32)
    np.save(os.path.join(out, f"{name}.inputs.npy"), inputs)
    np.save(os.path.join(out, f"{name}.torch.npy"), ref)

    jobs = [("legacy", 17)] + [("legacy", o) for o in old_opsets]
    if include_dynamo:
        jobs.insert(1, ("dynamo", None))
    for kind, opset in jobs:
        tag = f"legacy{opset}" if kind == "legacy" else "dynamo"
        tmp = os.path.join(out, f"{name}_{tag}.onnx")
        t0 = time.time()
        try:
            # not under torch.no_grad(): there nn.MultiheadAttention takes its fused fast path
            # (aten::_native_multi_head_attention), which the legacy exporter cannot export
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if kind == "legacy":
                    export_legacy(model, x, tmp, opset)
                else:
                    export_dynamo(model, x, tmp)
            if kind == "dynamo":  # rename to the opset actually written
                real = opset_of(onnx.load(tmp, load_external_data=False))
                tag = f"dynamo{real}"
                path = os.path.join(out, f"{name}_{tag}.onnx")
                if path != tmp:
                    remove([path, path + ".data"])
                    if os.path.exists(tmp + ".data"):
                        os.rename(tmp + ".data", path + ".data")
                        m = onnx.load(tmp, load_external_data=False)
                        for t in m.graph.initializer:
                            for e in t.external_data:
                                if e.key == "location" and e.value == os.path.basename(tmp) + ".data":
                                    e.value = os.path.basename(path) + ".data"
                        onnx.save(m, path)
                        os.remove(tmp)
                    else:
                        os.rename(tmp, path)
            else:
                path = tmp
            info = describe(path)
            files = [path] + [os.path.join(out, f) for f in info["data_files"]]
            nbytes = sum(os.path.getsize(f) for f in files)
            onnx.checker.check_model(path)  # path form: also checks the external data references
            got = run_ort(path, inputs)
            rel = float(np.max(np.abs(got - ref)) / max(1.0, float(np.max(np.abs(ref)))))
            ort_file = f"{name}_{tag}.ort.npy"
            np.save(os.path.join(out, ort_file), got)
            entry = {
                "name": name, "family": family, "exporter": tag, "opset": info["opset"],
                "ir_version": info["ir_version"],
                "file": os.path.basename(path), "data_files": info["data_files"],
                "external_data": info["external_data"], "batch_symbolic": info["batch_symbolic"],
                "input_dims": info["input_dims"],
                "ops": info["ops"], "nodes": info["nodes"], "functions": info["functions"],
                "initializers": info["initializers"], "inline_initializers": info["inline_initializers"],
                "params": params, "bytes": nbytes, "input_size": size,
                "inputs": f"{name}.inputs.npy", "input_name": info["input_name"],
                "output_name": info["output_name"], "torch": f"{name}.torch.npy", "ort": ort_file,
                "ort_vs_torch_rel": rel, "export_seconds": round(time.time() - t0, 1),
            }
            print(f"   {tag}: opset {info['opset']}, {info['nodes']} nodes, {nbytes} bytes, "
                  f"batch_symbolic={info['batch_symbolic']}, rel={rel:.2e}, ops={info['ops']}", flush=True)
            if not rel < TOLERANCE:
                raise AssertionError(f"ort vs torch relative error {rel:.3e} >= {TOLERANCE}")
            entries.append(entry)
        except Exception as error:  # record and go on
            msg = f"{type(error).__name__}: {error}"
            print(f"   {tag}: FAILED {msg[:2000]}", flush=True)
            traceback.print_exc(limit=3)
            failures.append({"name": name, "exporter": tag, "error": msg[:4000]})


def op_union(entries):
    union = {}
    for e in entries:
        for op in e["ops"]:
            union.setdefault(op, set()).add(e["opset"])
    return {op: sorted(v) for op, v in sorted(union.items())}


def versions():
    import onnxscript

    return {
        "python": platform.python_version(), "torch": torch.__version__,
        "torchvision": torchvision.__version__, "onnx": onnx.__version__,
        "onnxruntime": ort.__version__, "onnxscript": onnxscript.__version__,
        "numpy": np.__version__,
    }


def write_readme(out, manifest):
    v = manifest["versions"]
    lines = [
        "# torchvision ONNX fixtures",
        "",
        "Small randomly initialised torchvision classifiers (`weights=None`, `torch.manual_seed(0)`; every",
        "`nn.Linear` re-drawn with PyTorch's default init, BatchNorm running statistics calibrated on 64 seeded",
        "random-normal images, then eval mode: without that several nets gave input-independent ~1e-8 logits and",
        "the ViT head is zero-initialised), 3x32x32 input, 10 classes, each exported by torch's TorchScript",
        "exporter (`legacy17`, and `legacy9` / `legacy10` for two models) and by the torch.export-based",
        "exporter (`dynamoNN`, NN = the opset it",
        "wrote; weights in the external `<file>.onnx.data`). Made by `Tests/Tools/make_torchvision_fixtures.py`",
        "(torch is used to make these files only, never in CI):",
        "",
        "    /work/torchvenv/bin/python Tests/Tools/make_torchvision_fixtures.py [--out DIR] [--bench] [--oversize]",
        "",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
        "Per model `<m>`: `<m>.inputs.npy` float32 [4, 3, 32, 32] (two standard-normal images from",
        "`np.random.default_rng(0)`; image 0 with 8x8 patches 0..7 of the 4x4 grid zeroed; image 0 with",
        "patches 8..15 zeroed; patch k = grid row k // 4, column k % 4), `<m>.torch.npy` torch logits [4, 10].",
        "Per export: `<m>_<exporter>.onnx` (+ `.onnx.data`), `<m>_<exporter>.ort.npy` onnxruntime logits",
        "(CPUExecutionProvider, 1 thread, ORT_DISABLE_ALL); `rel` = max|ort - torch| / max(1, max|torch|),",
        f"all below {TOLERANCE:g}. `manifest.json` has every field, the failures and `all_ops`.",
        "",
        "| model | exporter | opset | N symbolic | params | bytes | nodes | rel | ops |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e in manifest["models"]:
        lines.append(
            f"| {e['name']} | {e['exporter']} | {e['opset']} | {'yes' if e['batch_symbolic'] else 'no'} | "
            f"{e['params']} | {e['bytes']} | {e['nodes']} | {e['ort_vs_torch_rel']:.1e} | {', '.join(e['ops'])} |"
        )
    lines += ["", "## Failures", ""]
    if manifest["failures"]:
        for f in manifest["failures"]:
            lines.append(f"- {f['name']} {f['exporter']}: `{f['error'][:300]}`")
    else:
        lines.append("None.")
    if manifest.get("not_committed"):
        lines += ["", "## Script-only models", ""]
        for n in manifest["not_committed"]:
            lines.append(f"- {n['name']}: {n['why']}")
    lines += ["", "## Operators (union over all exports, with the opsets they appear at)", ""]
    for op, opsets in manifest["all_ops"].items():
        lines.append(f"- {op}: {', '.join(map(str, opsets))}")
    lines += ["", "By exporter:", ""]
    for ex, ops in manifest["ops_by_exporter"].items():
        lines.append(f"- {ex}: {', '.join(ops)}")
    with open(os.path.join(out, "README.md"), "w") as fh:
        fh.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=None)
    ap.add_argument("--bench", action="store_true")
    ap.add_argument("--oversize", action="store_true", help="also write models over the size budget")
    ap.add_argument("--only", default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)

    if args.bench:
        out = args.out or BENCH_OUT
        models = dict(BENCH_MODELS)
    else:
        out = args.out or DEFAULT_OUT
        models = {k: v for k, v in MODELS.items() if args.oversize or k not in OVERSIZE}
    if args.only:
        keep = set(args.only.split(","))
        models = {k: v for k, v in models.items() if k in keep}
    os.makedirs(out, exist_ok=True)

    entries, failures = [], []
    for name, spec in models.items():
        do_model(name, spec, out, entries, failures)

    manifest = {
        "versions": versions(),
        "tolerance": TOLERANCE,
        "models": entries,
        "failures": failures,
        "all_ops": op_union(entries),
        "ops_by_exporter": {},
    }
    if not args.bench and not args.oversize:
        manifest["not_committed"] = [
            {"name": n, "why": f"over the {SIZE_BUDGET}-byte per-export budget; written with --oversize"}
            for n in sorted(OVERSIZE)
        ]
    for e in entries:
        manifest["ops_by_exporter"].setdefault(e["exporter"], set()).update(e["ops"])
    manifest["ops_by_exporter"] = {k: sorted(v) for k, v in sorted(manifest["ops_by_exporter"].items())}
    big = [e for e in entries if e["bytes"] > SIZE_BUDGET]
    with open(os.path.join(out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")
    if not args.bench:
        write_readme(out, manifest)

    print("\nversions:", manifest["versions"])
    print("\nall_ops (op: opsets):")
    for op, opsets in manifest["all_ops"].items():
        print(f"  {op}: {opsets}")
    for ex, ops in manifest["ops_by_exporter"].items():
        print(f"\n{ex}: {' '.join(ops)}")
    if big and not args.bench:
        print("\nover the size budget:", [(e["file"], e["bytes"]) for e in big])
    if failures:
        print("\nfailures:", [(f["name"], f["exporter"]) for f in failures])
    print(f"\nwrote {len(entries)} exports to {out}")


if __name__ == "__main__":
    main()
