"""Writes per-operator ONNX test cases under Tests/Fixtures/onnx/cases/.

Each case is a small graph (one operator, or a short pattern such as Gelu written with Erf) built
with onnx.helper at the opset real exporters use for it, plus the opset-version differences that
change an operator's signature or semantics (attribute -> input moves, Softmax-11 flattening,
Split num_outputs, Pad axes, Resize-10 / Upsample, ...). Inputs come from seeded numpy
(np.random.default_rng(crc32(case name))); reference outputs come from onnxruntime
(CPUExecutionProvider, one thread, graph optimisations disabled, so every node runs as written).
Where numpy gives an easy independent reference it is computed in float64 and must agree with
onnxruntime (the relative error max|ref - ort| / max(1, max|ref|) is recorded); the stored output
is always onnxruntime's.

Models: ir_version = the minimum IR for the opset (onnx.helper.find_min_ir_version_for), so
opset 7/8 models are IR 3 and list their initializers as graph inputs too (as IR 3 requires and
old exporters did); the "inputs" of a case in the manifest are only the tensors that must be fed.
Graph inputs / outputs are float32 or int64; a batch axis of the first input is symbolic "N".
Every model is checked with onnx.checker.check_model(full_check=True) unless the manifest
description says "(plain checker)".

Files, all in Tests/Fixtures/onnx/cases/:

    manifest.json                 {"reference", "onnx", "cases": [...], "bad": [...]}
    <case>.onnx                   the model (external-data cases: plus <case>.onnx.data or one
                                  file per tensor, listed in "data_files")
    <case>.in.<input>.npy         one per fed graph input
    <case>.out.<output>.npy       one per graph output (onnxruntime)
    bad_*.onnx (+ data files)     models the loader must refuse, with a substring its error
                                  message must contain ("bad" list)
    README.md                     a table of the cases

Pinned versions (others print a warning):
    onnx 1.23.2, onnxruntime 1.32.0, numpy 2.4.6, protobuf 7.36.2

Run (a few seconds):

    python3 -m venv /work/fxvenv
    /work/fxvenv/bin/pip install numpy==2.4.6 onnx==1.23.2 onnxruntime==1.32.0 protobuf
    /work/fxvenv/bin/python Tests/Tools/make_operator_cases.py
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import math  # noqa: E402
import shutil  # noqa: E402
import zlib  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
from google.protobuf import __version__ as protobuf_version  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

OUT_DIR = Path(__file__).resolve().parents[1] / "Fixtures" / "onnx" / "cases"
PINNED = {"onnx": "1.23.2", "onnxruntime": "1.32.0", "numpy": "2.4.6", "protobuf": "7.36.2"}
VERSIONS = {"onnx": onnx.__version__, "onnxruntime": ort.__version__, "numpy": np.__version__,
            "protobuf": protobuf_version}
INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min
DEFAULT_TOL = 1e-5


# ---------------------------------------------------------------------------------------------
# Case builder


class Case:
    def __init__(self, name, opset, desc):
        self.name, self.opset, self.desc = name, opset, desc
        self.rng = np.random.default_rng(zlib.crc32(name.encode()))
        self.nodes, self.inits, self.inputs, self.outputs = [], [], [], []
        self.ref = None          # () -> {output name: array}
        self.tol = DEFAULT_TOL
        self.k = 0

    # data
    def randn(self, *shape, scale=1.0):
        return (self.rng.standard_normal(shape) * scale).astype(np.float32)

    def uniform(self, lo, hi, *shape):
        return self.rng.uniform(lo, hi, shape).astype(np.float32)

    def ints(self, lo, hi, *shape):
        """float32 integers in [lo, hi) (so that Equal / Floor / ... have ties)."""
        return self.rng.integers(lo, hi, shape).astype(np.float32)

    # graph
    def input(self, name, arr, sym=True):
        assert arr.dtype in (np.float32, np.int64), arr.dtype
        self.inputs.append((name, arr, sym))
        return name

    def const(self, name, arr):
        self.inits.append(numpy_helper.from_array(np.array(arr, order="C"), name))
        return name

    def node(self, op, ins, out=None, n_out=1, name=None, **attrs):
        self.k += 1
        if out is None:
            outs = [f"t{self.k}"] if n_out == 1 else [f"t{self.k}_{i}" for i in range(n_out)]
        elif isinstance(out, str):
            outs = [out]
        else:
            outs = list(out)
        self.nodes.append(helper.make_node(op, ins, outs, name=name or f"{op}_{self.k}", **attrs))
        return outs[0] if len(outs) == 1 else outs

    def output(self, *names):
        self.outputs.extend(names)


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def f32(a):
    return np.asarray(a, dtype=np.float32)


def i64(a):
    return np.asarray(a, dtype=np.int64)


def f64(a):
    return np.asarray(a, dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# numpy references


def np_softmax(x, axis):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def np_erf(x):
    return np.vectorize(math.erf)(f64(x))


def np_resize(x, out_shape, mode, ctm, nearest_mode="round_prefer_floor", scales=None):
    y = f64(x)
    for ax in range(x.ndim):
        n_in, n_out = x.shape[ax], out_shape[ax]
        s = scales[ax] if scales is not None else n_out / n_in
        if n_in == n_out and s == 1:
            continue
        i = np.arange(n_out, dtype=np.float64)
        if ctm == "asymmetric":
            c = i / s
        elif ctm == "half_pixel":
            c = (i + 0.5) / s - 0.5
        elif ctm == "pytorch_half_pixel":
            c = (i + 0.5) / s - 0.5 if n_out > 1 else np.zeros(n_out)
        elif ctm == "align_corners":
            c = i * (n_in - 1) / (n_out - 1) if n_out > 1 else np.zeros(n_out)
        else:
            raise ValueError(ctm)
        if mode == "nearest":
            if nearest_mode == "floor":
                idx = np.floor(c)
            elif nearest_mode == "round_prefer_floor":
                idx = np.ceil(c - 0.5)
            elif nearest_mode == "round_prefer_ceil":
                idx = np.floor(c + 0.5)
            else:
                raise ValueError(nearest_mode)
            y = np.take(y, np.clip(idx, 0, n_in - 1).astype(int), axis=ax)
        else:
            c = np.clip(c, 0, n_in - 1)
            i0 = np.floor(c).astype(int)
            i1 = np.minimum(i0 + 1, n_in - 1)
            w = (c - i0).reshape([-1 if a == ax else 1 for a in range(x.ndim)])
            y = np.take(y, i0, axis=ax) * (1 - w) + np.take(y, i1, axis=ax) * w
    return y


def np_pool2d(x, k, s, pads, mode, ceil=False, dil=(1, 1), include_pad=False):
    """ONNX / onnxruntime pooling over the last two axes (pads = top, left, bottom, right)."""
    n, c, h, w = x.shape
    sizes, dims = [], (h, w)
    for a in range(2):
        eff = (k[a] - 1) * dil[a] + 1
        span = dims[a] + pads[a] + pads[a + 2] - eff
        o = (-(-span // s[a]) if ceil else span // s[a]) + 1
        if ceil and (o - 1) * s[a] >= dims[a] + pads[a]:
            o -= 1
        sizes.append(o)
    fill = -np.inf if mode == "max" else 0.0
    xp = np.full((n, c, h + pads[0] + pads[2] + 2 * k[0] * dil[0],
                  w + pads[1] + pads[3] + 2 * k[1] * dil[1]), fill)
    xp[:, :, pads[0]:pads[0] + h, pads[1]:pads[1] + w] = x
    valid = np.zeros(xp.shape[2:], bool)
    valid[pads[0]:pads[0] + h, pads[1]:pads[1] + w] = True
    padded_extent = (h + pads[0] + pads[2], w + pads[1] + pads[3])
    out = np.zeros((n, c, sizes[0], sizes[1]))
    for i in range(sizes[0]):
        for j in range(sizes[1]):
            rows = [i * s[0] + a * dil[0] for a in range(k[0])]
            cols = [j * s[1] + b * dil[1] for b in range(k[1])]
            win = xp[:, :, rows][:, :, :, cols]
            if mode == "max":
                out[:, :, i, j] = win.max(axis=(2, 3))
            else:
                if include_pad:
                    cnt = (sum(r < padded_extent[0] for r in rows)
                           * sum(q < padded_extent[1] for q in cols))
                else:
                    cnt = valid[np.ix_(rows, cols)].sum()
                out[:, :, i, j] = win.sum(axis=(2, 3)) / cnt
    return out


# ---------------------------------------------------------------------------------------------
# Cases: normalisation


@case
def layernorm():
    out = []
    for name, axis, shape, bias, eps, desc in (
            ("layernorm_axis_last", -1, (3, 4, 8), True, None,
             "LayerNormalization axis -1 with scale and bias, x [N,4,8]"),
            ("layernorm_axis_m2", -2, (2, 3, 4, 5), True, None,
             "LayerNormalization axis -2 (normalises the last two axes), scale/bias [4,5]"),
            ("layernorm_no_bias", -1, (2, 3, 6), False, None,
             "LayerNormalization axis -1, scale only (B omitted)"),
            ("layernorm_eps", -1, (2, 5, 4), True, 1e-3,
             "LayerNormalization axis -1, epsilon 1e-3, small-variance rows")):
        c = Case(name, 17, desc)
        x = c.randn(*shape)
        if eps:
            x = x * 0.03
        norm_shape = shape[axis:]
        sc = c.randn(*norm_shape)
        b = c.randn(*norm_shape)
        ins = [c.input("x", x), c.const("scale", sc)] + ([c.const("B", b)] if bias else [])
        attrs = {"axis": axis} | ({"epsilon": eps} if eps else {})
        c.node("LayerNormalization", ins, "y", **attrs)
        c.output("y")

        def ref(x=x, sc=sc, b=b, axis=axis, bias=bias, eps=eps or 1e-5):
            axes = tuple(range(x.ndim + axis, x.ndim))
            xd = f64(x)
            m = xd.mean(axis=axes, keepdims=True)
            v = ((xd - m) ** 2).mean(axis=axes, keepdims=True)
            return {"y": (xd - m) / np.sqrt(v + eps) * sc + (b if bias else 0)}
        c.ref = ref
        out.append(c)
    return out


@case
def instancenorm():
    out = []
    for opset in (7, 13):  # InstanceNormalization-6 is the version in opsets 6..21
        c = Case(f"instancenorm_opset{opset}", opset,
                 f"InstanceNormalization-6 at opset {opset}, x [N,3,4,5], epsilon 1e-3")
        x, sc, b = c.randn(2, 3, 4, 5), c.randn(3), c.randn(3)
        c.node("InstanceNormalization", [c.input("x", x), c.const("scale", sc), c.const("B", b)],
               "y", epsilon=1e-3)
        c.output("y")

        def ref(x=x, sc=sc, b=b):
            xd = f64(x)
            m = xd.mean(axis=(2, 3), keepdims=True)
            v = xd.var(axis=(2, 3), keepdims=True)
            return {"y": (xd - m) / np.sqrt(v + 1e-3) * sc[:, None, None] + b[:, None, None]}
        c.ref = ref
        out.append(c)
    return out


@case
def batchnorm_versions():
    out = []
    for opset, extra in ((7, {"spatial": 1}), (9, {}), (15, {})):
        c = Case(f"batchnorm_opset{opset}", opset,
                 f"BatchNormalization opset {opset} (inference, 1 output"
                 + (", spatial=1" if extra else "") + "), epsilon 1e-3, x [N,3,4,4]")
        x, sc, b, mu = c.randn(2, 3, 4, 4), c.randn(3), c.randn(3), c.randn(3)
        var = c.uniform(0.5, 2.0, 3)
        c.node("BatchNormalization", [c.input("x", x), c.const("scale", sc), c.const("B", b),
                                      c.const("mean", mu), c.const("var", var)], "y",
               epsilon=1e-3, **extra)
        c.output("y")
        c.ref = lambda x=x, sc=sc, b=b, mu=mu, var=var: {
            "y": (f64(x) - mu[:, None, None]) / np.sqrt(f64(var)[:, None, None] + 1e-3)
            * sc[:, None, None] + b[:, None, None]}
        out.append(c)
    return out


# ---------------------------------------------------------------------------------------------
# Cases: activations and elementwise


def unary_case(name, opset, desc, op, x, ref, pre=None, **attrs):
    c = Case(name, opset, desc)
    src = c.input("x", x)
    c.node(op, [src], "y", **attrs)
    c.output("y")
    c.ref = lambda: {"y": ref(f64(x))}
    return c


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0)


@case
def activations():
    out = []
    r = np.random.default_rng(1)
    x = (r.standard_normal((2, 3, 8)) * 2.5).astype(np.float32)
    x[0, 0, :6] = [-3, 3, -4, 4, 0, 0.5]  # HardSwish / HardSigmoid corners
    out.append(unary_case("hardswish", 14, "HardSwish (opset 14), x [N,3,8] incl. +-3, +-4",
                          "HardSwish", x, lambda x: x * np.clip(x + 3, 0, 6) / 6))
    out.append(unary_case("hardsigmoid_default", 13, "HardSigmoid defaults alpha 0.2, beta 0.5",
                          "HardSigmoid", x, lambda x: np.clip(0.2 * x + 0.5, 0, 1)))
    out.append(unary_case("hardsigmoid_alpha_beta", 13, "HardSigmoid alpha 0.3, beta 0.4",
                          "HardSigmoid", x, lambda x: np.clip(0.3 * x + 0.4, 0, 1),
                          alpha=0.3, beta=0.4))
    for approx in ("none", "tanh"):
        ref = ((lambda x: 0.5 * x * (1 + np_erf(x / np.sqrt(2)))) if approx == "none" else
               (lambda x: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))))
        out.append(unary_case(f"gelu_{approx}", 20, f'Gelu (opset 20) approximate="{approx}"',
                              "Gelu", x, ref, approximate=approx))
    out.append(unary_case("erf", 13, "Erf", "Erf", x, np_erf))
    out.append(unary_case("mish", 18, "Mish (opset 18)", "Mish", x,
                          lambda x: x * np.tanh(softplus(x))))
    out.append(unary_case("softplus", 13, "Softplus", "Softplus", x, softplus))
    out.append(unary_case("elu", 13, "Elu alpha default (1.0)", "Elu", x,
                          lambda x: np.where(x > 0, x, np.expm1(x))))
    out.append(unary_case("elu_alpha", 13, "Elu alpha 0.5", "Elu", x,
                          lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)), alpha=0.5))
    a, g = 1.67326319217681884765625, 1.05070102214813232421875
    out.append(unary_case("selu", 13, "Selu default alpha / gamma", "Selu", x,
                          lambda x: g * np.where(x > 0, x, a * np.expm1(x))))
    out.append(unary_case("exp", 13, "Exp", "Exp", x, np.exp))
    out.append(unary_case("neg", 13, "Neg", "Neg", x, np.negative))
    out.append(unary_case("abs", 13, "Abs", "Abs", x, np.abs))
    out.append(unary_case("floor", 13, "Floor (incl. integers and negatives)", "Floor",
                          np.round(x * 2) / 2, np.floor))
    out.append(unary_case("ceil", 13, "Ceil (incl. integers and negatives)", "Ceil",
                          np.round(x * 2) / 2, np.ceil))
    pos = np.abs(x) + np.float32(0.05)
    out.append(unary_case("log", 13, "Log of positive inputs", "Log", pos, np.log))
    out.append(unary_case("sqrt", 13, "Sqrt of positive inputs", "Sqrt", pos, np.sqrt))
    rec = np.where(np.abs(x) < 0.5, np.sign(x + 1e-3) * 0.5 + x, x).astype(np.float32)
    out.append(unary_case("reciprocal", 13, "Reciprocal, |x| >= 0.5", "Reciprocal", rec,
                          lambda x: 1 / x))

    c = Case("silu_sigmoid_mul", 13, "SiLU as exported: Sigmoid(x) then Mul(x, .)")
    c.node("Mul", [c.input("x", x), c.node("Sigmoid", ["x"])], "y")
    c.output("y")
    c.ref = lambda: {"y": f64(x) * sigmoid(f64(x))}
    out.append(c)

    c = Case("gelu_erf_pattern", 13, "GELU as PyTorch exports it: Div(x, sqrt 2) -> Erf -> "
             "Add 1 -> Mul x -> Mul 0.5")
    c.input("x", x)
    d = c.node("Div", ["x", c.const("sqrt2", f32(np.sqrt(2)))])
    e = c.node("Erf", [d])
    a1 = c.node("Add", [e, c.const("one", f32(1.0))])
    m = c.node("Mul", ["x", a1])
    c.node("Mul", [m, c.const("half", f32(0.5))], "y")
    c.output("y")
    c.ref = lambda: {"y": 0.5 * f64(x) * (1 + np_erf(f64(x) / np.sqrt(2)))}
    out.append(c)

    c = Case("prelu_channel", 13, "PRelu with per-channel slope [C,1,1], x [N,3,4,4]")
    xc, sl = c.randn(2, 3, 4, 4), c.uniform(0.05, 0.5, 3, 1, 1)
    c.node("PRelu", [c.input("x", xc), c.const("slope", sl)], "y")
    c.output("y")
    c.ref = lambda: {"y": np.where(xc < 0, f64(sl) * xc, xc)}
    out.append(c)

    c = Case("prelu_scalar", 13, "PRelu with a slope of shape [1], x [N,3,4]")
    xs, sl1 = c.randn(2, 3, 4), f32([0.25])
    c.node("PRelu", [c.input("x", xs), c.const("slope", sl1)], "y")
    c.output("y")
    c.ref = lambda: {"y": np.where(xs < 0, 0.25 * f64(xs), xs)}
    out.append(c)
    return out


@case
def pow_cases():
    out = []
    c = Case("pow_scalar_2", 13, "Pow(x, 2.0), exponent a rank-0 float initializer")
    x = c.randn(2, 3, 4)
    c.node("Pow", [c.input("x", x), c.const("e", f32(2.0))], "y")
    c.output("y")
    c.ref = lambda: {"y": f64(x) ** 2}
    out.append(c)

    c = Case("pow_sqrt", 13, "Pow(x, 0.5) with positive base")
    xp = c.uniform(0.1, 4.0, 2, 3, 4)
    c.node("Pow", [c.input("x", xp), c.const("e", f32(0.5))], "y")
    c.output("y")
    c.ref = lambda: {"y": np.sqrt(f64(xp))}
    out.append(c)

    c = Case("pow_tensor_exponent", 13, "Pow(x [N,3,4] positive, exponent [4]) broadcasting")
    xp2, e = c.uniform(0.2, 3.0, 2, 3, 4), f32([0.0, 1.0, -1.5, 2.5])
    c.node("Pow", [c.input("x", xp2), c.const("e", e)], "y")
    c.output("y")
    c.ref = lambda: {"y": f64(xp2) ** f64(e)}
    out.append(c)

    c = Case("pow_int64_exponent", 13, "Pow(x float, exponent int64 initializer [3]) "
             "(T1 float, T2 int64, allowed since opset 12)")
    x3, ei = c.randn(2, 4, 3), i64([1, 2, 3])
    c.node("Pow", [c.input("x", x3), c.const("e", ei)], "y")
    c.output("y")
    c.ref = lambda: {"y": f64(x3) ** ei}
    out.append(c)
    return out


@case
def variadic():
    out = []
    for op, fn in (("Min", lambda a, b, c: np.minimum(np.minimum(a, b), c)),
                   ("Max", lambda a, b, c: np.maximum(np.maximum(a, b), c)),
                   ("Mean", lambda a, b, c: (a + b + c) / 3),
                   ("Sum", lambda a, b, c: a + b + c)):
        c = Case(f"{op.lower()}_variadic", 13,
                 f"{op} with 3 inputs and broadcasting: x [N,3,4], a [4], b [3,1]")
        x, a, b = c.randn(2, 3, 4), c.randn(4), c.randn(3, 1)
        c.node(op, [c.input("x", x), c.const("a", a), c.const("b", b)], "y")
        c.output("y")
        c.ref = lambda x=x, a=a, b=b, fn=fn: {"y": fn(f64(x), f64(a), f64(b))}
        out.append(c)
    c = Case("max_two_same_shape", 13, "Max of two graph inputs of the same shape [N,5]")
    x, y = c.randn(3, 5), c.randn(3, 5)
    c.node("Max", [c.input("x", x), c.input("z", y)], "y")
    c.output("y")
    c.ref = lambda: {"y": np.maximum(x, y)}
    out.append(c)
    return out


@case
def compare_logic():
    out = []
    for op, fn in (("Equal", np.equal), ("Less", np.less), ("Greater", np.greater),
                   ("LessOrEqual", np.less_equal), ("GreaterOrEqual", np.greater_equal)):
        opset = 16 if op in ("LessOrEqual", "GreaterOrEqual") else 13
        c = Case(f"compare_{op.lower()}", opset,
                 f"{op}(x [N,3,4], b [4]) on integer-valued floats (ties present) -> "
                 "Cast(to=FLOAT)")
        x, b = c.ints(-2, 3, 2, 3, 4), c.ints(-2, 3, 4)
        c.node("Cast", [c.node(op, [c.input("x", x), c.const("b", b)])], "y",
               to=TensorProto.FLOAT)
        c.output("y")
        c.ref = lambda x=x, b=b, fn=fn: {"y": fn(x, b).astype(np.float64)}
        out.append(c)

    c = Case("logic_not", 13, "Not(Greater(x, 0)) -> Cast(to=FLOAT)")
    x = c.ints(-2, 3, 2, 3, 4)
    c.node("Cast", [c.node("Not", [c.node("Greater", [c.input("x", x), c.const("zero", f32(0))])])],
           "y", to=TensorProto.FLOAT)
    c.output("y")
    c.ref = lambda x=x: {"y": (~(x > 0)).astype(np.float64)}
    out.append(c)

    for op, fn in (("And", np.logical_and), ("Or", np.logical_or), ("Xor", np.logical_xor)):
        c = Case(f"logic_{op.lower()}", 13,
                 f"{op}(Greater(x, -1), Less(x, 1)) -> Cast(to=FLOAT)")
        x = c.ints(-2, 3, 2, 3, 4)
        c.input("x", x)
        g = c.node("Greater", ["x", c.const("m1", f32(-1))])
        lt = c.node("Less", ["x", c.const("p1", f32(1))])
        c.node("Cast", [c.node(op, [g, lt])], "y", to=TensorProto.FLOAT)
        c.output("y")
        c.ref = lambda x=x, fn=fn: {"y": fn(x > -1, x < 1).astype(np.float64)}
        out.append(c)

    c = Case("where_greater", 13, "Where(Greater(x, 0), x, Mul(x, 0.1)) (leaky relu)")
    x = c.randn(2, 3, 4)
    c.input("x", x)
    cond = c.node("Greater", ["x", c.const("zero", f32(0))])
    c.node("Where", [cond, "x", c.node("Mul", ["x", c.const("s", f32(0.1))])], "y")
    c.output("y")
    c.ref = lambda x=x: {"y": np.where(x > 0, f64(x), 0.1 * f64(x))}
    out.append(c)

    c = Case("where_bool_initializer", 13,
             "Where(bool initializer [4], x [N,3,4], float initializer [3,1]) broadcasting "
             "(bool initializer dtype)")
    x, cb, o = c.randn(2, 3, 4), np.array([True, False, False, True]), c.randn(3, 1)
    c.node("Where", [c.const("cond", cb), c.input("x", x), c.const("other", o)], "y")
    c.output("y")
    c.ref = lambda: {"y": np.where(cb, f64(x), f64(o))}
    out.append(c)
    return out


# ---------------------------------------------------------------------------------------------
# Cases: shape manipulation


@case
def slices():
    out = []
    x = np.random.default_rng(7).standard_normal((2, 5, 6)).astype(np.float32)
    for name, starts, ends, axes, steps, desc, ref in (
            ("slice13_axes_steps", [1, 0], [3, 100], [1, -1], [1, 2],
             "Slice-13 axes [1,-1] (negative axis), steps [1,2], end 100 beyond the dim",
             lambda x: x[:, 1:3, 0::2]),
            ("slice13_negative_step", [-1], [INT64_MIN], [2], [-1],
             "Slice-13 reverse along axis 2: start -1, end INT64_MIN, step -1",
             lambda x: x[:, :, ::-1]),
            ("slice13_negative_step2", [100, 4], [-100, 0], [-1, 1], [-2, -3],
             "Slice-13 steps -2 / -3, start 100 (clamped to dim-1), end -100",
             lambda x: x[:, 4:0:-3, ::-2]),
            ("slice13_omitted_axes_steps", [0, 1, -4], [INT64_MAX, INT64_MAX, -1], None, None,
             "Slice-13 without axes and steps (all axes, step 1), ends INT64_MAX, negative "
             "start and end", lambda x: x[:, 1:, -4:-1])):
        c = Case(name, 13, desc)
        ins = [c.input("x", x), c.const("starts", i64(starts)), c.const("ends", i64(ends))]
        if axes is not None:
            ins.append(c.const("axes", i64(axes)))
        if steps is not None:
            ins.append(c.const("steps", i64(steps)))
        c.node("Slice", ins, "y")
        c.output("y")
        c.ref = lambda ref=ref: {"y": ref(f64(x))}
        out.append(c)

    c = Case("slice9_attributes", 9, "Slice-9 with attributes starts [1,-3] ends [100,-1] "
             "axes [1,2] (no steps)")
    c.node("Slice", [c.input("x", x)], "y", starts=[1, -3], ends=[100, -1], axes=[1, 2])
    c.output("y")
    c.ref = lambda: {"y": f64(x)[:, 1:, -3:-1]}
    out.append(c)

    c = Case("slice9_no_axes", 9, "Slice-9 attributes starts [0,0,2] ends [1000,2,5], axes "
             "omitted")
    c.node("Slice", [c.input("x", x)], "y", starts=[0, 0, 2], ends=[1000, 2, 5])
    c.output("y")
    c.ref = lambda: {"y": f64(x)[:, 0:2, 2:5]}
    out.append(c)
    return out


@case
def splits():
    out = []
    x = np.random.default_rng(8).standard_normal((2, 7, 3)).astype(np.float32)
    specs = (
        ("split13_sizes", 13, "Split-13 with split input [2,4,1] on axis 1",
         {"axis": 1}, [2, 4, 1], [2, 4, 1]),
        ("split18_num_outputs", 18, "Split-18 num_outputs 3 on axis 1 of size 7 (3, 3, 1: "
         "uneven last chunk)", {"axis": 1, "num_outputs": 3}, None, [3, 3, 1]),
        ("split11_attribute", 11, "Split-11 with split attribute [5,2] on axis -2",
         {"axis": -2, "split": [5, 2]}, None, [5, 2]),
        ("split13_equal", 13, "Split-13 without sizes: 3 equal parts of axis 2 (size 3)",
         {"axis": 2}, None, [1, 1, 1]),
    )
    for name, opset, desc, attrs, sizes, parts in specs:
        c = Case(name, opset, desc)
        ins = [c.input("x", x)] + ([c.const("split", i64(sizes))] if sizes else [])
        outs = [f"y{i}" for i in range(len(parts))]
        c.node("Split", ins, outs, **attrs)
        c.output(*outs)
        axis = attrs["axis"] % 3

        def ref(parts=parts, axis=axis, outs=outs):
            pieces = np.split(f64(x), np.cumsum(parts)[:-1], axis=axis)
            return dict(zip(outs, pieces))
        c.ref = ref
        out.append(c)
    return out


@case
def expand_tile_pad():
    out = []
    c = Case("expand_rank_up", 13, "Expand x [N,1,4] to shape [2,1,3,1] -> [2,N,3,4]")
    x = c.randn(2, 1, 4)
    c.node("Expand", [c.input("x", x), c.const("shape", i64([2, 1, 3, 1]))], "y")
    c.output("y")
    c.ref = lambda: {"y": np.broadcast_to(f64(x), (2, 2, 3, 4))}
    out.append(c)

    c = Case("expand_same_rank", 13, "Expand x [N,1,4] to shape [1,3,1] -> [N,3,4]")
    c.node("Expand", [c.input("x", x), c.const("shape", i64([1, 3, 1]))], "y")
    c.output("y")
    c.ref = lambda: {"y": np.broadcast_to(f64(x), (2, 3, 4))}
    out.append(c)

    c = Case("tile", 13, "Tile x [N,2,3] with repeats [1,2,3]")
    xt = c.randn(2, 2, 3)
    c.node("Tile", [c.input("x", xt), c.const("repeats", i64([1, 2, 3]))], "y")
    c.output("y")
    c.ref = lambda: {"y": np.tile(f64(xt), (1, 2, 3))}
    out.append(c)

    xp = np.random.default_rng(9).standard_normal((2, 2, 4, 5)).astype(np.float32)
    pads = [0, 0, 1, 2, 0, 0, 2, 1]
    npp = ((0, 0), (0, 0), (1, 2), (2, 1))
    for opset in (13, 18):
        c = Case(f"pad{opset}_constant", opset, f"Pad-{opset} constant mode, constant_value "
                 "input 1.5, pads [0,0,1,2,0,0,2,1]")
        c.node("Pad", [c.input("x", xp), c.const("pads", i64(pads)), c.const("value", f32(1.5))],
               "y", mode="constant")
        c.output("y")
        c.ref = lambda: {"y": np.pad(f64(xp), npp, constant_values=1.5)}
        out.append(c)
        for mode in ("reflect", "edge"):
            c = Case(f"pad{opset}_{mode}", opset, f"Pad-{opset} {mode} mode, pads "
                     "[0,0,1,2,0,0,2,1]")
            c.node("Pad", [c.input("x", xp), c.const("pads", i64(pads))], "y", mode=mode)
            c.output("y")
            c.ref = lambda mode=mode: {"y": np.pad(f64(xp), npp, mode=mode)}
            out.append(c)
    c = Case("pad13_default_mode", 13, "Pad-13 with mode omitted (constant 0) and "
             "constant_value omitted")
    c.node("Pad", [c.input("x", xp), c.const("pads", i64(pads))], "y")
    c.output("y")
    c.ref = lambda: {"y": np.pad(f64(xp), npp)}
    out.append(c)

    c = Case("pad18_axes", 18, "Pad-18 with axes input [-1, 2]: pads [1,2,0,1] = "
             "(begin -1, begin 2, end -1, end 2), constant 0.5")
    c.node("Pad", [c.input("x", xp), c.const("pads", i64([1, 2, 0, 1])),
                   c.const("value", f32(0.5)), c.const("axes", i64([-1, 2]))], "y")
    c.output("y")
    c.ref = lambda: {"y": np.pad(f64(xp), ((0, 0), (0, 0), (2, 1), (1, 0)), constant_values=0.5)}
    out.append(c)

    c = Case("pad18_axes_reflect", 18, "Pad-18 reflect with axes input [3]: pads [2,3]")
    c.node("Pad", [c.input("x", xp), c.const("pads", i64([2, 3])), "", c.const("axes", i64([3]))],
           "y", mode="reflect")
    c.output("y")
    c.ref = lambda: {"y": np.pad(f64(xp), ((0, 0), (0, 0), (0, 0), (2, 3)), mode="reflect")}
    out.append(c)

    c = Case("pad10_attributes", 10, "Pad-2 form at opset 10: pads and value attributes, "
             "constant mode")
    c.node("Pad", [c.input("x", xp)], "y", pads=pads, value=-0.75, mode="constant")
    c.output("y")
    c.ref = lambda: {"y": np.pad(f64(xp), npp, constant_values=-0.75)}
    out.append(c)

    c = Case("pad10_reflect", 10, "Pad-2 form at opset 10: reflect, pads attribute")
    c.node("Pad", [c.input("x", xp)], "y", pads=pads, mode="reflect")
    c.output("y")
    c.ref = lambda: {"y": np.pad(f64(xp), npp, mode="reflect")}
    out.append(c)
    return out


@case
def shape_ops():
    out = []
    c = Case("constantofshape_add", 13, "Shape(x) -> ConstantOfShape(value float 0.25) -> Add x")
    x = c.randn(3, 2, 4)
    c.input("x", x)
    cs = c.node("ConstantOfShape", [c.node("Shape", ["x"])],
                value=helper.make_tensor("value", TensorProto.FLOAT, [1], [0.25]))
    c.node("Add", [cs, "x"], "y")
    c.output("y")
    c.ref = lambda: {"y": f64(x) + 0.25}
    out.append(c)

    c = Case("range_float", 11, "Range(0.0, 5.0, 1.0) from scalar initializers -> Add x [N,5]; "
             "Range(5.0, 0.0, -1.5) (4 elements) -> Mul the first 4 columns")
    x5 = c.randn(2, 5)
    c.input("x", x5)
    r1 = c.node("Range", [c.const("s", f32(0)), c.const("l", f32(5)), c.const("d", f32(1))])
    a = c.node("Add", ["x", r1], "y")
    r2 = c.node("Range", [c.const("s2", f32(5)), c.const("l2", f32(0)), c.const("d2", f32(-1.5))])
    sl = c.node("Slice", [a, c.const("st", i64([0])), c.const("en", i64([4])),
                          c.const("ax", i64([1]))])
    c.node("Mul", [sl, r2], "z")
    c.output("y", "z")

    def ref_range():
        y = f64(x5) + np.arange(5)
        return {"y": y, "z": y[:, :4] * np.array([5, 3.5, 2, 0.5])}
    c.ref = ref_range
    out.append(c)

    c = Case("range_int64", 11, "Range(int64 1, 10, 3) -> Cast(to=FLOAT) -> Mul x [N,3]")
    x3 = c.randn(2, 3)
    c.input("x", x3)
    r = c.node("Range", [c.const("s", i64(1)), c.const("l", i64(10)), c.const("d", i64(3))])
    c.node("Mul", ["x", c.node("Cast", [r], to=TensorProto.FLOAT)], "y")
    c.output("y")
    c.ref = lambda: {"y": f64(x3) * np.array([1, 4, 7])}
    out.append(c)

    c = Case("shape15_start_end", 15, "Shape-15 start 1, end -1 of x [N,3,4,5] -> int64 [3,4] "
             "(int64 graph output); also Shape start -2 -> Cast -> ReduceProd as a float")
    x4 = c.randn(2, 3, 4, 5)
    c.input("x", x4)
    c.node("Shape", ["x"], "s", start=1, end=-1)
    t = c.node("Cast", [c.node("Shape", ["x"], start=-2)], to=TensorProto.FLOAT)
    c.node("ReduceProd", [t], "p", keepdims=0)
    c.output("s", "p")
    c.ref = lambda: {"s": np.array([3, 4]), "p": np.array(20.0)}
    out.append(c)

    c = Case("shape_gather_reshape", 13, "Dynamic reshape as exporters write it: Shape(x) -> "
             "Gather(0) -> Unsqueeze -> Concat with [-1] -> Reshape x [N,3,4] -> [N,12]")
    xr = c.randn(3, 3, 4)
    c.input("x", xr)
    g = c.node("Gather", [c.node("Shape", ["x"]), c.const("zero", i64(0))], axis=0)
    u = c.node("Unsqueeze", [g, c.const("ax0", i64([0]))])
    cat = c.node("Concat", [u, c.const("m1", i64([-1]))], axis=0)
    c.node("Reshape", ["x", cat], "y")
    c.output("y")
    c.ref = lambda: {"y": f64(xr).reshape(3, 12)}
    out.append(c)
    return out


@case
def resizes():
    out = []
    x = np.random.default_rng(10).standard_normal((2, 2, 3, 4)).astype(np.float32)
    specs = [
        # name, opset, mode, ctm, nearest_mode, scales, sizes, axes, sym
        ("resize13_nearest_asym_floor", 13, "nearest", "asymmetric", "floor",
         [1, 1, 2, 2], None, None, True),
        ("resize13_nearest_half_pixel_rpf", 13, "nearest", "half_pixel", "round_prefer_floor",
         None, [2, 2, 5, 7], None, False),
        ("resize13_nearest_downscale", 13, "nearest", "asymmetric", "floor",
         [1, 1, 0.5, 0.5], None, None, True),
        ("resize13_linear_half_pixel", 13, "linear", "half_pixel", None,
         [1, 1, 2, 2], None, None, True),
        ("resize13_linear_align_corners", 13, "linear", "align_corners", None,
         None, [2, 2, 5, 7], None, False),
        ("resize13_linear_pytorch_half_pixel", 13, "linear", "pytorch_half_pixel", None,
         None, [2, 2, 1, 6], None, False),
        ("resize13_linear_asymmetric", 13, "linear", "asymmetric", None,
         [1, 1, 1.5, 2.5], None, None, True),
        ("resize18_nearest_axes_sizes", 18, "nearest", "half_pixel", "round_prefer_floor",
         None, [6, 9], [2, 3], True),
        ("resize18_linear_half_pixel", 18, "linear", "half_pixel", None,
         [1, 1, 2, 2], None, None, True),
        ("resize18_linear_axes_scales", 18, "linear", "align_corners", None,
         [2, 3], None, [2, 3], True),
    ]
    for name, opset, mode, ctm, nmode, scales, sizes, axes, sym in specs:
        what = f"scales {scales}" if scales else f"sizes {sizes}"
        desc = (f"Resize-{opset} mode {mode}, coordinate_transformation_mode {ctm}"
                + (f", nearest_mode {nmode}" if nmode else "") + f", {what}"
                + (f", axes {axes}" if axes else ""))
        c = Case(name, opset, desc)
        attrs = {"mode": mode, "coordinate_transformation_mode": ctm}
        if nmode:
            attrs["nearest_mode"] = nmode
        if axes:
            attrs["axes"] = axes
        ins = [c.input("x", x, sym), ""]
        if scales:
            ins.append(c.const("scales", f32(scales)))
        else:
            ins += ["", c.const("sizes", i64(sizes))]
        c.node("Resize", ins, "y", **attrs)
        c.output("y")
        full_scales = full_sizes = None
        if axes:
            full_scales = [1.0, 1.0] + list(scales) if scales else None
            full_sizes = [2, 2] + list(sizes) if sizes else None
        else:
            full_scales, full_sizes = scales, sizes
        if full_sizes is None:
            full_sizes = [int(np.floor(d * s)) for d, s in zip(x.shape, full_scales)]
        c.ref = (lambda fs=full_sizes, m=mode, ctm=ctm, nm=nmode or "round_prefer_floor",
                 sc=full_scales: {"y": np_resize(x, fs, m, ctm, nm, sc)})
        out.append(c)

    c = Case("resize10_nearest", 10, "Resize-10 (X, scales) nearest, scales [1,1,2,3]")
    c.node("Resize", [c.input("x", x), c.const("scales", f32([1, 1, 2, 3]))], "y", mode="nearest")
    c.output("y")
    c.ref = lambda: {"y": np.repeat(np.repeat(f64(x), 2, axis=2), 3, axis=3)}
    out.append(c)

    c = Case("resize10_linear", 10, "Resize-10 (X, scales) linear, scales [1,1,2,2] "
             "(asymmetric coordinates)")
    c.node("Resize", [c.input("x", x), c.const("scales", f32([1, 1, 2, 2]))], "y", mode="linear")
    c.output("y")
    c.ref = lambda: {"y": np_resize(x, [2, 2, 6, 8], "linear", "asymmetric")}
    out.append(c)

    c = Case("upsample9_nearest", 9, "Upsample-9 (X, scales input) nearest, scales [1,1,2,3]")
    c.node("Upsample", [c.input("x", x), c.const("scales", f32([1, 1, 2, 3]))], "y",
           mode="nearest")
    c.output("y")
    c.ref = lambda: {"y": np.repeat(np.repeat(f64(x), 2, axis=2), 3, axis=3)}
    out.append(c)

    c = Case("upsample7_nearest", 7, "Upsample-7 (scales attribute) nearest, scales [1,1,2,2]")
    c.node("Upsample", [c.input("x", x)], "y", mode="nearest", scales=[1.0, 1.0, 2.0, 2.0])
    c.output("y")
    c.ref = lambda: {"y": np.repeat(np.repeat(f64(x), 2, axis=2), 2, axis=3)}
    out.append(c)
    return out


@case
def einsums():
    out = []
    rng = np.random.default_rng(11)
    specs = (
        ("einsum_bij_bjk", "bij,bjk->bik", (2, 3, 4), (2, 4, 5), True, "batched matmul"),
        ("einsum_ij_jk", "ij,jk->ik", (3, 4), (4, 5), False, "matmul"),
        ("einsum_bhid_bhjd", "bhid,bhjd->bhij", (2, 2, 3, 4), (2, 2, 5, 4), True,
         "attention scores Q K^T"),
        ("einsum_bhij_bhjd", "bhij,bhjd->bhid", (2, 2, 3, 5), (2, 2, 5, 4), True,
         "attention weights times V"),
        ("einsum_transpose", "ij->ji", (3, 5), None, False, "transpose"),
        ("einsum_bi_i", "bi,i->b", (3, 4), (4,), True, "matrix-vector (sum over i)"),
        ("einsum_reduce", "bij->bj", (2, 3, 4), None, True, "sum over an axis"),
    )
    for name, eq, sa, sb, sym, what in specs:
        c = Case(name, 12, f'Einsum (opset 12) "{eq}" ({what})')
        a = rng.standard_normal(sa).astype(np.float32)
        ins = [c.input("x", a, sym)]
        b = None
        if sb:
            b = rng.standard_normal(sb).astype(np.float32)
            ins.append(c.const("w", b))
        c.node("Einsum", ins, "y", equation=eq)
        c.output("y")
        c.ref = (lambda eq=eq, a=a, b=b:
                 {"y": np.einsum(eq, f64(a)) if b is None else np.einsum(eq, f64(a), f64(b))})
        out.append(c)
    return out


@case
def reductions():
    out = []
    fns = {
        "ReduceL2": lambda x, ax, k: np.sqrt((x ** 2).sum(axis=ax, keepdims=k)),
        "ReduceProd": lambda x, ax, k: x.prod(axis=ax, keepdims=k),
        "ReduceMin": lambda x, ax, k: x.min(axis=ax, keepdims=k),
        "ReduceMax": lambda x, ax, k: x.max(axis=ax, keepdims=k),
        "ReduceSumSquare": lambda x, ax, k: (x ** 2).sum(axis=ax, keepdims=k),
        "ReduceLogSumExp": lambda x, ax, k: np.log(np.exp(x).sum(axis=ax, keepdims=k)),
        "ReduceMean": lambda x, ax, k: x.mean(axis=ax, keepdims=k),
        "ReduceL1": lambda x, ax, k: np.abs(x).sum(axis=ax, keepdims=k),
    }
    x = np.random.default_rng(12).uniform(0.5, 1.5, (2, 3, 4)).astype(np.float32)
    x[0, 1, 2] = -0.7
    for op, fn in fns.items():
        base = op[len("Reduce"):].lower()
        if op == "ReduceMean":
            v13 = [(11, "reducemean11_axes_attr", [1, 2], 1, "ReduceMean-11 axes attribute [1,2], "
                    "keepdims 1")]
        else:
            v13 = [(13, f"reduce{base}13_axes_attr", [1], 1,
                    f"{op}-13 axes attribute [1], keepdims 1"),
                   (13, f"reduce{base}13_all_axes", None, 0,
                    f"{op}-13 axes omitted (all axes), keepdims 0 -> scalar")]
        for opset, name, axes, keep, desc in v13:
            c = Case(name, opset, desc)
            attrs = {"keepdims": keep} | ({"axes": axes} if axes else {})
            c.node(op, [c.input("x", x)], "y", **attrs)
            c.output("y")
            ax = tuple(axes) if axes else None
            c.ref = lambda fn=fn, ax=ax, keep=keep: {"y": fn(f64(x), ax, bool(keep))}
            out.append(c)
        if op in ("ReduceMax", "ReduceL1"):
            continue
        for name, axes, keep, noop, desc in (
                (f"reduce{base}18_axes_input", [-1], 0, None,
                 f"{op}-18 axes input [-1], keepdims 0"),
                (f"reduce{base}18_axes_input_keep", [0, 2], 1, None,
                 f"{op}-18 axes input [0,2], keepdims 1"),
                (f"reduce{base}18_noop_empty", None, 1, 1,
                 f"{op}-18 no axes input, noop_with_empty_axes 1 -> no reduction (onnxruntime "
                 "still applies the per-element part: ReduceL2 |x|, ReduceSumSquare x^2)"),
                (f"reduce{base}18_empty_axes_all", [], 0, 0,
                 f"{op}-18 empty axes input [], noop_with_empty_axes 0 -> reduce all, "
                 "keepdims 0")):
            if op != "ReduceMean" and name.endswith("_keep"):
                continue
            c = Case(name, 18, desc)
            ins = [c.input("x", x)]
            if axes is not None:
                ins.append(c.const("axes", i64(axes)))
            attrs = {"keepdims": keep} | ({"noop_with_empty_axes": noop} if noop is not None
                                          else {})
            c.node(op, ins, "y", **attrs)
            c.output("y")
            if noop:
                # onnxruntime reduces over no axes: each element alone (ReduceL2 -> |x|,
                # ReduceSumSquare -> x^2, the others -> x)
                c.ref = lambda fn=fn: {"y": fn(f64(x), (), True)}
            else:
                ax = tuple(axes) if axes else None
                c.ref = lambda fn=fn, ax=ax, keep=keep: {"y": fn(f64(x), ax, bool(keep))}
            out.append(c)
    return out


@case
def pools():
    out = []
    x = np.random.default_rng(13).standard_normal((2, 2, 6, 6)).astype(np.float32)
    c = Case("globalmaxpool", 13, "GlobalMaxPool x [N,2,6,6]")
    c.node("GlobalMaxPool", [c.input("x", x)], "y")
    c.output("y")
    c.ref = lambda: {"y": f64(x).max(axis=(2, 3), keepdims=True)}
    out.append(c)

    c = Case("maxpool12_dilations", 12, "MaxPool-12 kernel 2x2, dilations 2, strides 1, pads 1")
    c.node("MaxPool", [c.input("x", x)], "y", kernel_shape=[2, 2], dilations=[2, 2],
           strides=[1, 1], pads=[1, 1, 1, 1])
    c.output("y")
    c.ref = lambda: {"y": np_pool2d(x, (2, 2), (1, 1), (1, 1, 1, 1), "max", dil=(2, 2))}
    out.append(c)

    c = Case("maxpool12_ceil", 12, "MaxPool-12 kernel 3, stride 2, ceil_mode 1 on 6x6")
    c.node("MaxPool", [c.input("x", x)], "y", kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)
    c.output("y")
    c.ref = lambda: {"y": np_pool2d(x, (3, 3), (2, 2), (0, 0, 0, 0), "max", ceil=True)}
    out.append(c)

    c = Case("averagepool_ceil", 13, "AveragePool kernel 3, stride 2, ceil_mode 1 on 6x6 "
             "(last window partly outside: averages the valid elements)")
    c.node("AveragePool", [c.input("x", x)], "y", kernel_shape=[3, 3], strides=[2, 2],
           ceil_mode=1)
    c.output("y")
    c.ref = lambda: {"y": np_pool2d(x, (3, 3), (2, 2), (0, 0, 0, 0), "avg", ceil=True)}
    out.append(c)

    c = Case("averagepool_pads_include", 13, "AveragePool kernel 3, stride 2, pads 1, "
             "count_include_pad 1")
    c.node("AveragePool", [c.input("x", x)], "y", kernel_shape=[3, 3], strides=[2, 2],
           pads=[1, 1, 1, 1], count_include_pad=1)
    c.output("y")
    c.ref = lambda: {"y": np_pool2d(x, (3, 3), (2, 2), (1, 1, 1, 1), "avg", include_pad=True)}
    out.append(c)

    c = Case("averagepool_pads_exclude", 13, "AveragePool kernel 3, stride 2, pads 1, "
             "count_include_pad 0 (default)")
    c.node("AveragePool", [c.input("x", x)], "y", kernel_shape=[3, 3], strides=[2, 2],
           pads=[1, 1, 1, 1])
    c.output("y")
    c.ref = lambda: {"y": np_pool2d(x, (3, 3), (2, 2), (1, 1, 1, 1), "avg")}
    out.append(c)
    return out


# ---------------------------------------------------------------------------------------------
# Cases: version differences of common ops


@case
def version_differences():
    out = []
    x = np.random.default_rng(14).standard_normal((2, 3, 4)).astype(np.float32)

    c = Case("clip7_attributes", 7, "Clip-7 with min -0.5 / max 0.5 attributes")
    c.node("Clip", [c.input("x", x)], "y", min=-0.5, max=0.5)
    c.output("y")
    c.ref = lambda: {"y": np.clip(f64(x), -0.5, 0.5)}
    out.append(c)

    c = Case("clip13_min_only", 13, "Clip-13 with min input 0 and max omitted (Relu)")
    c.node("Clip", [c.input("x", x), c.const("min", f32(0))], "y")
    c.output("y")
    c.ref = lambda: {"y": np.maximum(f64(x), 0)}
    out.append(c)

    c = Case("clip13_max_only", 13, "Clip-13 with min omitted (empty name) and max input 0.3")
    c.node("Clip", [c.input("x", x), "", c.const("max", f32(0.3))], "y")
    c.output("y")
    c.ref = lambda: {"y": np.minimum(f64(x), 0.3)}
    out.append(c)

    c = Case("clip13_min_max", 13, "Clip-13 with min 0 and max 6 inputs (Relu6)")
    xs = x * 5
    c.node("Clip", [c.input("x", xs), c.const("min", f32(0)), c.const("max", f32(6))], "y")
    c.output("y")
    c.ref = lambda: {"y": np.clip(f64(xs), 0, 6)}
    out.append(c)

    x1 = np.random.default_rng(15).standard_normal((2, 1, 4)).astype(np.float32)
    c = Case("squeeze_unsqueeze11", 11, "Squeeze-11 axes attribute [1] then Unsqueeze-11 axes "
             "attribute [-1]: [N,1,4] -> [N,4] -> [N,4,1]")
    c.node("Unsqueeze", [c.node("Squeeze", [c.input("x", x1)], axes=[1])], "y", axes=[-1])
    c.output("y")
    c.ref = lambda: {"y": f64(x1).reshape(2, 4, 1)}
    out.append(c)

    c = Case("squeeze_unsqueeze13", 13, "Squeeze-13 axes input [1] then Unsqueeze-13 axes "
             "input [1, -1]: [N,1,4] -> [N,4] -> [N,1,4,1]")
    c.node("Unsqueeze", [c.node("Squeeze", [c.input("x", x1), c.const("sq", i64([1]))]),
                         c.const("usq", i64([1, -1]))], "y")
    c.output("y")
    c.ref = lambda: {"y": f64(x1).reshape(2, 1, 4, 1)}
    out.append(c)

    for opset in (11, 13):
        c = Case(f"softmax{opset}_axis1_rank3", opset,
                 f"Softmax-{opset} axis 1 on x [N,3,4]: "
                 + ("flattens to [N,12] and normalises over all 12 (opset < 13)" if opset == 11
                    else "normalises along axis 1 only"))
        c.node("Softmax", [c.input("x", x)], "y", axis=1)
        c.output("y")
        c.ref = ((lambda: {"y": np_softmax(f64(x).reshape(2, 12), 1).reshape(2, 3, 4)})
                 if opset == 11 else (lambda: {"y": np_softmax(f64(x), 1)}))
        out.append(c)
        c = Case(f"logsoftmax{opset}_axis1_rank3", opset,
                 f"LogSoftmax-{opset} axis 1 on x [N,3,4]"
                 + (" (flattening semantics)" if opset == 11 else ""))
        c.node("LogSoftmax", [c.input("x", x)], "y", axis=1)
        c.output("y")
        c.ref = ((lambda: {"y": np.log(np_softmax(f64(x).reshape(2, 12), 1)).reshape(2, 3, 4)})
                 if opset == 11 else (lambda: {"y": np.log(np_softmax(f64(x), 1))}))
        out.append(c)
    c = Case("softmax11_default_axis", 11, "Softmax-11 axis omitted (default 1, flattening) "
             "on x [N,3,4]")
    c.node("Softmax", [c.input("x", x)], "y")
    c.output("y")
    c.ref = lambda: {"y": np_softmax(f64(x).reshape(2, 12), 1).reshape(2, 3, 4)}
    out.append(c)
    c = Case("softmax13_default_axis", 13, "Softmax-13 axis omitted (default -1) on x [N,3,4]")
    c.node("Softmax", [c.input("x", x)], "y")
    c.output("y")
    c.ref = lambda: {"y": np_softmax(f64(x), -1)}
    out.append(c)

    c = Case("dropout7", 7, "Dropout-7 ratio 0.3 attribute (inference: identity)")
    c.node("Dropout", [c.input("x", x)], "y", ratio=0.3)
    c.output("y")
    c.ref = lambda: {"y": f64(x)}
    out.append(c)
    c = Case("dropout12_ratio_input", 12, "Dropout-12 ratio input 0.3, training_mode absent "
             "(identity)")
    c.node("Dropout", [c.input("x", x), c.const("ratio", f32(0.3))], "y")
    c.output("y")
    c.ref = lambda: {"y": f64(x)}
    out.append(c)

    xe = np.zeros((2, 0, 3), np.float32)
    c = Case("reshape14_allowzero_empty", 14, "Reshape-14 allowzero 1 with a literal 0 in the "
             "shape [3,0,2]: empty input [2,0,3] -> empty output [3,0,2]")
    c.node("Reshape", [c.input("x", xe, False), c.const("shape", i64([3, 0, 2]))], "y",
           allowzero=1)
    c.output("y")
    c.ref = lambda: {"y": np.zeros((3, 0, 2))}
    out.append(c)
    c = Case("reshape14_allowzero_minus1", 14, "Reshape-14 allowzero 1, shape [-1, 2] (no zero)")
    c.node("Reshape", [c.input("x", x), c.const("shape", i64([-1, 2]))], "y", allowzero=1)
    c.output("y")
    c.ref = lambda: {"y": f64(x).reshape(-1, 2)}
    out.append(c)
    c = Case("reshape14_zero_copies", 14, "Reshape-14 allowzero 0 (explicit), shape [0,-1]: "
             "0 copies the input dim -> [N,12]")
    c.node("Reshape", [c.input("x", x), c.const("shape", i64([0, -1]))], "y", allowzero=0)
    c.output("y")
    c.ref = lambda: {"y": f64(x).reshape(2, 12)}
    out.append(c)

    c = Case("flatten9_axis0", 9, "Flatten-9 axis 0: [N,3,4] -> [1, N*12]")
    c.node("Flatten", [c.input("x", x)], "y", axis=0)
    c.output("y")
    c.ref = lambda: {"y": f64(x).reshape(1, -1)}
    out.append(c)

    xg = np.random.default_rng(16).standard_normal((3, 4)).astype(np.float32)
    wg = np.random.default_rng(17).standard_normal((5, 4)).astype(np.float32)
    bg = np.random.default_rng(18).standard_normal((5,)).astype(np.float32)
    for opset in (7, 9):
        c = Case(f"gemm{opset}_alpha_beta_transb", opset,
                 f"Gemm-{opset} alpha 0.5, beta 2, transB 1, C [5] broadcast")
        c.node("Gemm", [c.input("x", xg), c.const("W", wg), c.const("C", bg)], "y",
               alpha=0.5, beta=2.0, transB=1)
        c.output("y")
        c.ref = lambda: {"y": 0.5 * f64(xg) @ f64(wg).T + 2 * f64(bg)}
        out.append(c)
    c = Case("gemm9_scalar_c", 9, "Gemm-9 transB 1, C a rank-0 scalar")
    c.node("Gemm", [c.input("x", xg), c.const("W", wg), c.const("C", f32(0.75))], "y", transB=1)
    c.output("y")
    c.ref = lambda: {"y": f64(xg) @ f64(wg).T + 0.75}
    out.append(c)
    c = Case("gemm13_no_c", 13, "Gemm-13 transB 1, alpha 2, C omitted")
    c.node("Gemm", [c.input("x", xg), c.const("W", wg)], "y", transB=1, alpha=2.0)
    c.output("y")
    c.ref = lambda: {"y": 2 * f64(xg) @ f64(wg).T}
    out.append(c)

    c = Case("concat11_negative_axis", 11, "Concat-11 axis -1 of x [N,3,4], initializer [2,3,2],"
             " x")
    cc = c.randn(2, 3, 2)
    c.node("Concat", [c.input("x", x), c.const("c", cc), "x"], "y", axis=-1)
    c.output("y")
    c.ref = lambda: {"y": np.concatenate([f64(x), cc, f64(x)], axis=-1)}
    out.append(c)

    c = Case("cast13_float_int64_float", 13, "Cast float -> int64 (truncation toward zero; "
             "int64 graph output i) -> float (output y)")
    xc = c.randn(2, 3, 4, scale=3.0)
    xc[0, 0, :4] = [-1.7, 1.7, -0.5, 2.0]
    c.input("x", xc)
    c.node("Cast", ["x"], "i", to=TensorProto.INT64)
    c.node("Cast", ["i"], "y", to=TensorProto.FLOAT)
    c.output("i", "y")
    c.ref = lambda: {"i": np.trunc(xc).astype(np.int64), "y": np.trunc(f64(xc))}
    out.append(c)

    c = Case("cast13_float16_roundtrip", 13, "Cast float -> float16 -> float (round to nearest "
             "even, values up to ~300)")
    xh = c.randn(2, 3, 8, scale=100.0)
    xh[0, 0, :3] = [2049.0, 2051.0, 1e-6]
    c.node("Cast", [c.node("Cast", [c.input("x", xh)], to=TensorProto.FLOAT16)], "y",
           to=TensorProto.FLOAT)
    c.output("y")
    c.ref = lambda: {"y": xh.astype(np.float16).astype(np.float64)}
    c.tol = 0.0
    out.append(c)

    c = Case("matmul_batch_broadcast", 13, "MatMul [N,1,3,4] x initializer [2,4,5] -> [N,2,3,5]")
    xm, wm = c.randn(3, 1, 3, 4), c.randn(2, 4, 5)
    c.node("MatMul", [c.input("x", xm), c.const("W", wm)], "y")
    c.output("y")
    c.ref = lambda: {"y": f64(xm) @ f64(wm)}
    out.append(c)

    c = Case("matmul_vector", 13, "MatMul [N,3,4] x vector initializer [4] -> [N,3]")
    wv = c.randn(4)
    c.node("MatMul", [c.input("x", x), c.const("w", wv)], "y")
    c.output("y")
    c.ref = lambda: {"y": f64(x) @ f64(wv)}
    out.append(c)

    c = Case("gather_axis1_negative", 13, "Gather x [N,5,3] axis 1 with indices [-1,0,-2,1] "
             "(negative indices)")
    xq = c.randn(2, 5, 3)
    idx = i64([-1, 0, -2, 1])
    c.node("Gather", [c.input("x", xq), c.const("idx", idx)], "y", axis=1)
    c.output("y")
    c.ref = lambda: {"y": np.take(f64(xq), idx, axis=1)}
    out.append(c)

    c = Case("gather_scalar_index", 13, "Gather x [N,5,3] axis -1 with a rank-0 index (drops "
             "the axis)")
    c.node("Gather", [c.input("x", xq), c.const("idx", i64(2))], "y", axis=-1)
    c.output("y")
    c.ref = lambda: {"y": f64(xq)[:, :, 2]}
    out.append(c)

    c = Case("transpose_default_perm", 13, "Transpose without perm (reverses axes): [N,3,4] -> "
             "[4,3,N]")
    c.node("Transpose", [c.input("x", x)], "y")
    c.output("y")
    c.ref = lambda: {"y": f64(x).T}
    out.append(c)
    return out


# ---------------------------------------------------------------------------------------------
# Cases: indexing and accumulation (GatherND, GatherElements, CumSum, Trilu)
#
# An input whose batch axis the constant indices address (GatherND indexes the axes up to k,
# GatherElements' output keeps the indices' own shape; CumSum along axis 0 sums across the batch) is
# declared with a fixed first axis (symbolic_batch false), so that the compiled-executor test, which
# plans a batch-1 sample, leaves it out. The cases with a free batch axis (CumSum / Trilu on other
# axes, GatherND after a Transpose that moves the batch last) run there too.


def np_gathernd(data, idx, b=0):
    data, idx = f64(data), np.asarray(idx)
    k = idx.shape[-1]
    bshape = data.shape[:b]
    assert idx.shape[:b] == bshape
    d2 = data.reshape((-1,) + data.shape[b:])
    i2 = idx.reshape((-1,) + idx.shape[b:])
    out = []
    for bi in range(d2.shape[0]):
        ii = i2[bi].reshape(-1, k)
        out.append(np.stack([d2[bi][tuple(int(v) for v in row)] for row in ii]))
    return np.stack(out).reshape(idx.shape[:-1] + data.shape[b + k:])


def np_gather_elements(data, idx, axis):
    data, idx = f64(data), np.asarray(idx)
    axis %= data.ndim
    sub = data[tuple(slice(None) if d == axis else slice(0, idx.shape[d])
                     for d in range(data.ndim))]
    return np.take_along_axis(sub, np.where(idx < 0, idx + data.shape[axis], idx), axis=axis)


def np_cumsum(x, axis, exclusive=0, reverse=0):
    x = np.asarray(x)
    x = f64(x) if x.dtype != np.int64 else x
    if reverse:
        x = np.flip(x, axis)
    y = np.cumsum(x, axis=axis)
    if exclusive:
        y = y - x
    return np.flip(y, axis) if reverse else y


@case
def gathernd_cases():
    out = []
    c = Case("gathernd_k1", 13, "GatherND batch_dims 0, data [3,5,7], indices [2,3,1] (k 1: whole "
             "[5,7] slices), negative indices -1 / -3 -> [2,3,5,7]")
    x = c.randn(3, 5, 7)
    idx = i64([[[2], [-1], [0]], [[-3], [1], [-2]]])
    c.node("GatherND", [c.input("x", x, False), c.const("idx", idx)], "y")
    c.output("y")
    c.ref = lambda x=x, idx=idx: {"y": np_gathernd(x, idx)}
    out.append(c)

    c = Case("gathernd_k_rank", 13, "GatherND batch_dims 0, data [3,5,7], indices [2,3,3] (k = "
             "rank: single elements), negative indices -> [2,3]")
    x = c.randn(3, 5, 7)
    idx = i64([[[2, 4, 6], [-1, -5, -7], [0, 0, 0]], [[1, -2, 3], [-3, 2, -1], [2, 0, 5]]])
    c.node("GatherND", [c.input("x", x, False), c.const("idx", idx)], "y")
    c.output("y")
    c.ref = lambda x=x, idx=idx: {"y": np_gathernd(x, idx)}
    out.append(c)

    c = Case("gathernd11_k2", 11, "GatherND-11 (no batch_dims attribute), data [3,5,7], indices "
             "[5,2] (k 2: rows of 7), negative indices -> [5,7]")
    x = c.randn(3, 5, 7)
    idx = i64([[0, 4], [-1, -1], [2, 0], [-3, 2], [1, -4]])
    c.node("GatherND", [c.input("x", x, False), c.const("idx", idx)], "y")
    c.output("y")
    c.ref = lambda x=x, idx=idx: {"y": np_gathernd(x, idx)}
    out.append(c)

    c = Case("gathernd_batch1_k1", 12, "GatherND-12 batch_dims 1, data [3,5,7], indices [3,2,3,1] "
             "(k 1 per batch), negative indices -> [3,2,3,7]")
    x = c.randn(3, 5, 7)
    idx = c.rng.integers(-5, 5, (3, 2, 3, 1)).astype(np.int64)
    c.node("GatherND", [c.input("x", x, False), c.const("idx", idx)], "y", batch_dims=1)
    c.output("y")
    c.ref = lambda x=x, idx=idx: {"y": np_gathernd(x, idx, 1)}
    out.append(c)

    c = Case("gathernd_batch1_k2", 13, "GatherND batch_dims 1, data [3,5,7], indices [3,5,2] (k 2 "
             "= rank - batch_dims: single elements), negative indices -> [3,5]")
    x = c.randn(3, 5, 7)
    idx = np.stack([c.rng.integers(-5, 5, (3, 5)), c.rng.integers(-7, 7, (3, 5))], -1)
    idx = idx.astype(np.int64)
    c.node("GatherND", [c.input("x", x, False), c.const("idx", idx)], "y", batch_dims=1)
    c.output("y")
    c.ref = lambda x=x, idx=idx: {"y": np_gathernd(x, idx, 1)}
    out.append(c)

    c = Case("gathernd_batch1_pool", 13, "GatherND batch_dims 1 as the dynamo exporter pools: "
             "hidden [3,7,5], indices [3,1] (one position per sequence, one negative) -> [3,5]")
    x = c.randn(3, 7, 5)
    idx = i64([[6], [-1], [2]])
    c.node("GatherND", [c.input("x", x, False), c.const("idx", idx)], "y", batch_dims=1)
    c.output("y")
    c.ref = lambda x=x, idx=idx: {"y": np_gathernd(x, idx, 1)}
    out.append(c)

    c = Case("gathernd_batch2", 13, "GatherND batch_dims 2, data [3,5,7], indices [3,5,3,1] -> "
             "[3,5,3]")
    x = c.randn(3, 5, 7)
    idx = c.rng.integers(-7, 7, (3, 5, 3, 1)).astype(np.int64)
    c.node("GatherND", [c.input("x", x, False), c.const("idx", idx)], "y", batch_dims=2)
    c.output("y")
    c.ref = lambda x=x, idx=idx: {"y": np_gathernd(x, idx, 2)}
    out.append(c)

    c = Case("gathernd_int64", 13, "GatherND batch_dims 0 on int64 data [5,7] (graph input, values "
             "up to +-10^6), indices [3,1] and [2,2,2] -> int64 outputs [3,7] and [2,2]")
    xi = c.rng.integers(-10 ** 6, 10 ** 6, (5, 7)).astype(np.int64)
    i1, i2 = i64([[4], [-5], [2]]), i64([[[0, 6], [-1, -7]], [[3, 3], [-2, 1]]])
    c.input("x", xi, False)
    c.node("GatherND", ["x", c.const("idx1", i1)], "y")
    c.node("GatherND", ["x", c.const("idx2", i2)], "z")
    c.output("y", "z")
    c.ref = lambda xi=xi, i1=i1, i2=i2: {"y": np_gathernd(xi, i1).astype(np.int64),
                                         "z": np_gathernd(xi, i2).astype(np.int64)}
    out.append(c)

    c = Case("gathernd_batch1_int64", 13, "GatherND batch_dims 1 on int64 data [3,5] (graph "
             "input), indices [3,2,1] -> int64 [3,2]")
    xi = c.rng.integers(-1000, 1000, (3, 5)).astype(np.int64)
    idx = i64([[[4], [-5]], [[0], [-1]], [[2], [2]]])
    c.node("GatherND", [c.input("x", xi, False), c.const("idx", idx)], "y", batch_dims=1)
    c.output("y")
    c.ref = lambda xi=xi, idx=idx: {"y": np_gathernd(xi, idx, 1).astype(np.int64)}
    out.append(c)

    # The batch axis moved last, so that GatherND never addresses it: these run on the compiled path
    # too.
    c = Case("gathernd_transposed_batch", 13, "Transpose x [N,5,7] -> [5,7,N], GatherND batch_dims "
             "0 indices [4,2] (k 2, negative indices) -> [4,N], Transpose -> [N,4]")
    x = c.randn(3, 5, 7)
    idx = i64([[4, 6], [-1, 0], [0, -7], [-3, 3]])
    t = c.node("Transpose", [c.input("x", x)], perm=[1, 2, 0])
    c.node("Transpose", [c.node("GatherND", [t, c.const("idx", idx)])], "y", perm=[1, 0])
    c.output("y")
    c.ref = lambda x=x, idx=idx: {"y": np_gathernd(f64(x).transpose(1, 2, 0), idx).T}
    out.append(c)

    c = Case("gathernd_transposed_batch1", 13, "Transpose x [N,5,7] -> [5,7,N], GatherND "
             "batch_dims 1 indices [5,3,1] (negative indices) -> [5,3,N], Transpose -> [N,5,3]")
    x = c.randn(3, 5, 7)
    idx = c.rng.integers(-7, 7, (5, 3, 1)).astype(np.int64)
    t = c.node("Transpose", [c.input("x", x)], perm=[1, 2, 0])
    c.node("Transpose", [c.node("GatherND", [t, c.const("idx", idx)], batch_dims=1)], "y",
           perm=[2, 0, 1])
    c.output("y")
    c.ref = lambda x=x, idx=idx: {"y": np_gathernd(f64(x).transpose(1, 2, 0), idx, 1)
                                  .transpose(2, 0, 1)}
    out.append(c)
    return out


@case
def gather_elements_cases():
    out = []
    c = Case("gatherelements_axis0", 13, "GatherElements axis 0, data [5,7,3], indices [4,6,2] "
             "(smaller on the non-axis dims), negative indices -> [4,6,2]")
    x = c.randn(5, 7, 3)
    idx = c.rng.integers(-5, 5, (4, 6, 2)).astype(np.int64)
    c.node("GatherElements", [c.input("x", x, False), c.const("idx", idx)], "y", axis=0)
    c.output("y")
    c.ref = lambda x=x, idx=idx: {"y": np_gather_elements(x, idx, 0)}
    out.append(c)

    c = Case("gatherelements11_axis_m1", 11, "GatherElements-11 axis -1, data [3,5,7], indices "
             "[2,3,9] (smaller on the non-axis dims, longer on the axis), negative indices -> "
             "[2,3,9]")
    x = c.randn(3, 5, 7)
    idx = c.rng.integers(-7, 7, (2, 3, 9)).astype(np.int64)
    c.node("GatherElements", [c.input("x", x, False), c.const("idx", idx)], "y", axis=-1)
    c.output("y")
    c.ref = lambda x=x, idx=idx: {"y": np_gather_elements(x, idx, -1)}
    out.append(c)

    c = Case("gatherelements_axis_m2", 13, "GatherElements axis -2, data [3,5,7], indices [3,3,5] "
             "(same batch, smaller last dim), negative indices -> [3,3,5]")
    x = c.randn(3, 5, 7)
    idx = c.rng.integers(-5, 5, (3, 3, 5)).astype(np.int64)
    c.node("GatherElements", [c.input("x", x, False), c.const("idx", idx)], "y", axis=-2)
    c.output("y")
    c.ref = lambda x=x, idx=idx: {"y": np_gather_elements(x, idx, -2)}
    out.append(c)

    c = Case("gatherelements_int64", 13, "GatherElements axis 1 on int64 data [3,7] (graph input), "
             "indices [3,5] with negatives -> int64 [3,5]")
    xi = c.rng.integers(-1000, 1000, (3, 7)).astype(np.int64)
    idx = c.rng.integers(-7, 7, (3, 5)).astype(np.int64)
    c.node("GatherElements", [c.input("x", xi, False), c.const("idx", idx)], "y", axis=1)
    c.output("y")
    c.ref = lambda xi=xi, idx=idx: {"y": np_gather_elements(xi, idx, 1).astype(np.int64)}
    out.append(c)
    return out


@case
def cumsum_cases():
    out = []
    combos = ((0, 0, ""), (1, 0, "_exclusive"), (0, 1, "_reverse"), (1, 1, "_exclusive_reverse"))
    for ex, rev, suffix in combos:
        c = Case(f"cumsum_axis1{suffix}", 14, f"CumSum float x [N,5,7] along axis 1 (int64 scalar "
                 f"input), exclusive {ex}, reverse {rev}")
        x = c.randn(3, 5, 7)
        attrs = {k: v for k, v in (("exclusive", ex), ("reverse", rev)) if v}
        c.node("CumSum", [c.input("x", x), c.const("axis", i64(1))], "y", **attrs)
        c.output("y")
        c.ref = lambda x=x, ex=ex, rev=rev: {"y": np_cumsum(x, 1, ex, rev)}
        out.append(c)
    for ex, rev, suffix in combos:
        c = Case(f"cumsum_int64_axis_m1{suffix}", 14, f"CumSum int64 x [N,5,7] (graph input) along "
                 f"axis -1, exclusive {ex}, reverse {rev}")
        xi = c.rng.integers(-1000, 1000, (3, 5, 7)).astype(np.int64)
        c.node("CumSum", [c.input("x", xi), c.const("axis", i64(-1))], "y", exclusive=ex,
               reverse=rev)
        c.output("y")
        c.ref = lambda xi=xi, ex=ex, rev=rev: {"y": np_cumsum(xi, -1, ex, rev)}
        out.append(c)

    c = Case("cumsum11_axis_m1_int32", 11, "CumSum-11 float x [N,5,7] along axis -1 given as an "
             "int32 scalar initializer, exclusive 1")
    x = c.randn(3, 5, 7)
    c.node("CumSum", [c.input("x", x), c.const("axis", np.array(-1, np.int32))], "y", exclusive=1)
    c.output("y")
    c.ref = lambda x=x: {"y": np_cumsum(x, -1, 1, 0)}
    out.append(c)

    c = Case("cumsum_axis0_reverse", 14, "CumSum float x [3,5,7] along axis 0 (sums across the "
             "first axis), reverse 1")
    x = c.randn(3, 5, 7)
    c.node("CumSum", [c.input("x", x, False), c.const("axis", i64(0))], "y", reverse=1)
    c.output("y")
    c.ref = lambda x=x: {"y": np_cumsum(x, 0, 0, 1)}
    out.append(c)

    c = Case("cumsum_position_ids", 14, "Position ids as RoBERTa / OPT export them: ids int64 "
             "[N,7] (padding id 1) -> Not(Equal(ids, 1)) -> Cast int64 -> CumSum axis 1 -> Mul "
             "mask -> Add 1")
    ids = c.rng.integers(2, 50, (3, 7)).astype(np.int64)
    ids[0, 5:] = 1
    ids[2, 2:] = 1
    c.input("ids", ids)
    mask = c.node("Cast", [c.node("Not", [c.node("Equal", ["ids", c.const("pad", i64(1))])])],
                  to=TensorProto.INT64)
    cs = c.node("CumSum", [mask, c.const("axis", i64(1))])
    c.node("Add", [c.node("Mul", [cs, mask]), c.const("one", i64(1))], "y")
    c.output("y")

    def ref_pos(ids=ids):
        m = (ids != 1).astype(np.int64)
        return {"y": np.cumsum(m, axis=1) * m + 1}
    c.ref = ref_pos
    out.append(c)
    return out


@case
def trilu_cases():
    out = []
    for upper in (1, 0):
        for k in (None, -1, 0, 2):
            which = "upper" if upper else "lower"
            name = f"trilu_{which}" + ("" if k is None else f"_k{k}".replace("-", "m"))
            desc = (f"Trilu {which} on x [N,5,7] (non-square last two dims), "
                    + ("k omitted (default 0)" if k is None else f"k {k} (rank-0 int64 input)"))
            if upper and k is None:
                desc += ", upper attribute omitted (default 1)"
            c = Case(name, 14, desc)
            x = c.randn(3, 5, 7)
            ins = [c.input("x", x)] + ([] if k is None else [c.const("k", i64(k))])
            c.node("Trilu", ins, "y", **({} if upper and k is None else {"upper": upper}))
            c.output("y")
            fn = np.triu if upper else np.tril
            c.ref = lambda x=x, fn=fn, k=k: {"y": fn(f64(x), 0 if k is None else k)}
            out.append(c)

    c = Case("trilu_upper_tall_km4", 14, "Trilu upper on a tall x [N,7,3], k -4")
    x = c.randn(3, 7, 3)
    c.node("Trilu", [c.input("x", x), c.const("k", i64(-4))], "y", upper=1)
    c.output("y")
    c.ref = lambda x=x: {"y": np.triu(f64(x), -4)}
    out.append(c)

    c = Case("trilu_lower_int64_k1", 14, "Trilu lower on int64 x [N,5,7] (graph input), k 1")
    xi = c.rng.integers(-1000, 1000, (3, 5, 7)).astype(np.int64)
    c.node("Trilu", [c.input("x", xi), c.const("k", i64(1))], "y", upper=0)
    c.output("y")
    c.ref = lambda xi=xi: {"y": np.tril(xi, 1)}
    out.append(c)
    return out


# ---------------------------------------------------------------------------------------------
# Cases: initializer dtypes, multi-input, opset range


@case
def initializer_dtypes():
    out = []
    x = np.random.default_rng(19).standard_normal((2, 3, 4)).astype(np.float32)
    for name, dtype, op, vals in (
            ("init_int8_mul", np.int8, "Mul", [-128, -3, 0, 127]),
            ("init_uint8_mul", np.uint8, "Mul", [0, 1, 200, 255]),
            ("init_float16_add", np.float16, "Add", [0.1, -2.5, 1000.0, 3.14159]),
            ("init_double_add", np.float64, "Add", [0.1, -2.5, 1e10, np.pi]),
            ("init_int32_add", np.int32, "Add", [-100000, 0, 7, 2 ** 30])):
        c = Case(name, 13, f"{np.dtype(dtype).name} initializer [4] -> Cast(to=FLOAT) -> {op} "
                 "with x [N,3,4]")
        w = np.array(vals, dtype=dtype)
        c.input("x", x)
        c.node(op, ["x", c.node("Cast", [c.const("w", w)], to=TensorProto.FLOAT)], "y")
        c.output("y")
        wf = f64(w.astype(np.float32))
        c.ref = (lambda op=op, wf=wf: {"y": f64(x) * wf if op == "Mul" else f64(x) + wf})
        out.append(c)
    c = Case("init_bool_where", 13, "bool initializer [3,1] as the Where condition, Where(c, x, "
             "-x)")
    cb = np.array([[True], [False], [True]])
    c.input("x", x)
    c.node("Where", [c.const("cond", cb), "x", c.node("Neg", ["x"])], "y")
    c.output("y")
    c.ref = lambda: {"y": np.where(cb, f64(x), -f64(x))}
    out.append(c)
    return out


@case
def multi_input():
    out = []
    c = Case("two_float_inputs", 13, "Two float inputs x, z [N,4]: Add, Mul, Gemm (transB) "
             "-> [N,3]")
    x, z, w, b = c.randn(3, 4), c.randn(3, 4), c.randn(3, 4), c.randn(3)
    c.input("x", x)
    c.input("z", z)
    m = c.node("Mul", [c.node("Add", ["x", "z"]), "z"])
    c.node("Gemm", [m, c.const("W", w), c.const("b", b)], "y", transB=1)
    c.output("y")
    c.ref = lambda x=x, z=z, w=w, b=b: {"y": ((f64(x) + z) * z) @ f64(w).T + b}
    out.append(c)

    c = Case("float_and_int64_inputs", 13, "Float input x [N,4] and int64 input idx [N]: "
             "Gather(table [10,4], idx) + x")
    x, idx, table = c.randn(3, 4), i64([7, 0, 9]), c.randn(10, 4)
    c.input("x", x)
    c.input("idx", idx)
    c.node("Add", [c.node("Gather", [c.const("table", table), "idx"], axis=0), "x"], "y")
    c.output("y")
    c.ref = lambda: {"y": f64(table)[idx] + x}
    out.append(c)
    return out


@case
def opset_range():
    out = []
    for opset in (7, 8, 10, 16, 19, 20, 21):
        c = Case(f"opset{opset}_gemm_relu_add", opset,
                 f"Gemm (transB) -> Relu -> Add at opset {opset}")
        x, w, b, a = c.randn(2, 4), c.randn(3, 4), c.randn(3), c.randn(3)
        r = c.node("Relu", [c.node("Gemm", [c.input("x", x), c.const("W", w), c.const("b", b)],
                                   transB=1)])
        c.node("Add", [r, c.const("a", a)], "y")
        c.output("y")
        c.ref = lambda x=x, w=w, b=b, a=a: {"y": np.maximum(f64(x) @ f64(w).T + b, 0) + a}
        out.append(c)
    return out


# ---------------------------------------------------------------------------------------------
# Building, running, saving


def ir_for(opset):
    return helper.find_min_ir_version_for([helper.make_opsetid("", opset)])


def session(model_or_path):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
    src = model_or_path if isinstance(model_or_path, str) else model_or_path.SerializeToString()
    return ort.InferenceSession(src, so, providers=["CPUExecutionProvider"])


def build_model(c):
    ir = ir_for(c.opset)
    vis = []
    for name, arr, sym in c.inputs:
        shape = list(arr.shape)
        if sym:
            shape[0] = "N"
        vis.append(helper.make_tensor_value_info(
            name, helper.np_dtype_to_tensor_dtype(arr.dtype), shape))
    if ir < 4:  # IR 3: every initializer is also a graph input
        for t in c.inits:
            vis.append(helper.make_tensor_value_info(t.name, t.data_type, list(t.dims)))
    outs = [onnx.ValueInfoProto(name=n) for n in c.outputs]
    graph = helper.make_graph(c.nodes, c.name, vis, outs, c.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", c.opset)],
                              producer_name="harsanyi-make_operator_cases",
                              producer_version="1", doc_string=c.desc)
    model.ir_version = ir
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except Exception:  # noqa: BLE001
        inferred = onnx.shape_inference.infer_shapes(model)
    for i, o in enumerate(inferred.graph.output):
        if o.type.tensor_type.elem_type:
            model.graph.output[i].CopyFrom(o)
        else:
            model.graph.output[i].CopyFrom(
                helper.make_tensor_value_info(o.name, TensorProto.FLOAT, None))
    unshaped = [i for i, o in enumerate(model.graph.output)
                if not o.type.tensor_type.HasField("shape")]
    if unshaped:
        # Shape inference cannot see through this graph (e.g. a data-dependent Reshape):
        # declare the shape onnxruntime produces, the batch axis as "N".
        feeds = {n: a for n, a, _ in c.inputs}
        results = session(model).run(c.outputs, feeds)
        batch = c.inputs[0][1].shape[0] if c.inputs and c.inputs[0][2] else None
        for i in unshaped:
            dims = [("N" if (a == 0 and d == batch) else d) for a, d in enumerate(results[i].shape)]
            model.graph.output[i].CopyFrom(helper.make_tensor_value_info(
                c.outputs[i], model.graph.output[i].type.tensor_type.elem_type, dims))
    check = "full"
    try:
        onnx.checker.check_model(model, full_check=True)
    except Exception as e:  # noqa: BLE001
        onnx.checker.check_model(model)
        check = f"plain ({str(e).splitlines()[0][:120]})"
    return model, check


def op_list(model):
    return sorted({n.op_type for n in model.graph.node})


def rel_err(ref, y):
    ref = f64(ref)
    if ref.size == 0:
        return 0.0
    return float(np.abs(ref - f64(y)).max() / max(1.0, np.abs(ref).max()))


def io_entries(c, results):
    ins = [{"name": n, "file": f"{c.name}.in.{n}.npy", "shape": list(a.shape),
            "dtype": str(a.dtype), "symbolic_batch": bool(s)} for n, a, s in c.inputs]
    outs = [{"name": n, "file": f"{c.name}.out.{n}.npy", "shape": list(y.shape),
             "dtype": str(y.dtype)} for n, y in zip(c.outputs, results)]
    return ins, outs


def finish_case(c, model, check, results, data_files, manifest, stats):
    for (n, a, _s) in c.inputs:
        np.save(OUT_DIR / f"{c.name}.in.{n}.npy", a)
    for n, y in zip(c.outputs, results):
        assert y.dtype in (np.float32, np.int64), (c.name, n, y.dtype)
        np.save(OUT_DIR / f"{c.name}.out.{n}.npy", y)
    err = None
    if c.ref is not None:
        ref = c.ref()
        err = 0.0
        for n, y in zip(c.outputs, results):
            r = np.asarray(ref[n])
            assert r.shape == y.shape, (c.name, n, r.shape, y.shape)
            e = rel_err(r, y)
            assert e <= c.tol, (c.name, n, e)
            err = max(err, e)
        if err > stats["worst"][0]:
            stats["worst"] = (err, c.name)
    if not check.startswith("full"):
        stats["plain"].append((c.name, check))
    ins, outs = io_entries(c, results)
    desc = c.desc + ("" if check == "full" else " (plain checker)")
    manifest["cases"].append({
        "name": c.name, "description": desc, "opset": c.opset, "ir_version": model.ir_version,
        "ops": op_list(model), "model": f"{c.name}.onnx", "data_files": data_files,
        "inputs": ins, "outputs": outs, "numpy_check_rel_err": err})


def run_case(c, manifest, stats):
    try:
        model, check = build_model(c)
        onnx.save(model, OUT_DIR / f"{c.name}.onnx")
        feeds = {n: a for n, a, _ in c.inputs}
        results = session(model).run(c.outputs, feeds)
    except Exception as e:  # noqa: BLE001
        stats["refused"].append((c.name, f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"))
        for f in OUT_DIR.glob(f"{c.name}.*"):
            f.unlink()
        return
    finish_case(c, model, check, results, [], manifest, stats)


# External data cases -------------------------------------------------------------------------


def mlp_case(name, desc, opset=13):
    c = Case(name, opset, desc)
    x = c.randn(3, 4)
    w1, b1, w2, b2 = c.randn(8, 4), c.randn(8), c.randn(3, 8), c.randn(3)
    c.input("x", x)
    h = c.node("Relu", [c.node("Gemm", ["x", c.const(f"{name}_W1", w1),
                                       c.const(f"{name}_b1", b1)], transB=1)])
    c.node("Gemm", [h, c.const(f"{name}_W2", w2), c.const(f"{name}_b2", b2)], "y", transB=1)
    c.output("y")
    c.ref = lambda: {"y": np.maximum(f64(x) @ f64(w1).T + b1, 0) @ f64(w2).T + b2}
    return c


def external_cases(manifest, stats):
    # one file
    c = mlp_case("external_one_file", "Gemm -> Relu -> Gemm with all 4 initializers in one "
                 "external file external_one_file.onnx.data (size_threshold 0)")
    model, check = build_model(c)
    path = OUT_DIR / f"{c.name}.onnx"
    loc = f"{c.name}.onnx.data"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=loc, size_threshold=0)
    m = onnx.load(str(path), load_external_data=False)
    entries = [{e.key: e.value for e in t.external_data} for t in m.graph.initializer]
    assert all(e["location"] == loc for e in entries), entries
    assert int(entries[1].get("offset", "0")) > 0, entries
    results = session(str(path)).run(c.outputs, {n: a for n, a, _ in c.inputs})
    finish_case(c, model, check, results, [loc], manifest, stats)

    # one file per tensor
    c = mlp_case("external_per_tensor", "Gemm -> Relu -> Gemm with each initializer in its own "
                 "external file (named after the tensor)")
    model, check = build_model(c)
    path = OUT_DIR / f"{c.name}.onnx"
    onnx.save_model(model, str(path), save_as_external_data=True, all_tensors_to_one_file=False,
                    size_threshold=0)
    m = onnx.load(str(path), load_external_data=False)
    files = []
    for t in m.graph.initializer:
        loc = {e.key: e.value for e in t.external_data}["location"]
        assert (OUT_DIR / loc).exists(), loc
        files.append(loc)
    results = session(str(path)).run(c.outputs, {n: a for n, a, _ in c.inputs})
    finish_case(c, model, check, results, files, manifest, stats)


# Bad models ----------------------------------------------------------------------------------


def simple_model(name, opset, nodes, inputs, outputs, inits):
    graph = helper.make_graph(nodes, name, inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="harsanyi-make_operator_cases")
    model.ir_version = max(ir_for(min(opset, 21)), 3)
    return model


def fvi(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def bad_cases(manifest):
    bad = []

    def add(name, desc, model, error, data_files=()):
        onnx.save(model, OUT_DIR / f"{name}.onnx")
        bad.append({"name": name, "description": desc, "model": f"{name}.onnx",
                    "data_files": list(data_files), "error": error})

    rng = np.random.default_rng(99)

    def relu_add(name, opset):
        b = numpy_helper.from_array(rng.standard_normal(4).astype(np.float32), "b")
        ins = [fvi("x", ["N", 4])] + ([fvi("b", [4])] if ir_for(min(opset, 21)) < 4 else [])
        return simple_model(name, opset, [
            helper.make_node("Relu", ["x"], ["r"], name="relu"),
            helper.make_node("Add", ["r", "b"], ["y"], name="add")],
            ins, [fvi("y", ["N", 4])], [b])

    m = relu_add("bad_opset6", 6)
    add("bad_opset6", "Relu + Add declared at opset 6 (below the supported range)", m, "opset 6")
    m = relu_add("bad_opset22", 22)
    m.ir_version = 10
    add("bad_opset22", "Relu + Add declared at opset 22 (above the supported range)", m,
        "opset 22")

    def ext_model(name, locations, write=None):
        """Gemm x W with W [4,3] (and b [3]) stored externally at the given locations."""
        w = rng.standard_normal((4, 3)).astype(np.float32)
        b = rng.standard_normal(3).astype(np.float32)
        tw, tb = numpy_helper.from_array(w, "W_ext"), numpy_helper.from_array(b, "b_ext")
        m = simple_model(name, 13, [helper.make_node("Gemm", ["x", "W_ext", "b_ext"], ["y"],
                                                     name="gemm")],
                         [fvi("x", ["N", 4])], [fvi("y", ["N", 3])], [tw, tb])
        offset = 0
        for t, loc in zip(m.graph.initializer, locations):
            raw = t.raw_data
            t.ClearField("raw_data")
            t.data_location = TensorProto.EXTERNAL
            for k, v in (("location", loc), ("offset", str(offset)), ("length", str(len(raw)))):
                e = t.external_data.add()
                e.key, e.value = k, v
            if write is not None:
                write.append(raw)
            offset += len(raw)
        return m

    m = ext_model("bad_ext_outside", ["../outside.bin", "../outside.bin"])
    add("bad_ext_outside", 'external data location "../outside.bin" (escapes the model '
        "directory)", m, "outside")
    m = ext_model("bad_ext_absolute", ["/etc/passwd", "/etc/passwd"])
    add("bad_ext_absolute", 'external data location "/etc/passwd" (absolute path)', m,
        "location")
    m = ext_model("bad_ext_missing", ["bad_ext_missing.onnx.data"] * 2)
    add("bad_ext_missing", "external data file bad_ext_missing.onnx.data does not exist", m,
        "bad_ext_missing.onnx.data")

    raws = []
    w = rng.standard_normal((4, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    tw, tt = numpy_helper.from_array(w, "W_ok"), numpy_helper.from_array(b, "b_truncated")
    m = simple_model("bad_ext_truncated", 13, [helper.make_node("Gemm", ["x", "W_ok",
                                                                         "b_truncated"], ["y"],
                                                                name="gemm")],
                     [fvi("x", ["N", 4])], [fvi("y", ["N", 3])], [tw, tt])
    offset = 0
    loc = "bad_ext_truncated.onnx.data"
    for t in m.graph.initializer:
        raw = t.raw_data
        raws.append(raw)
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", loc), ("offset", str(offset)), ("length", str(len(raw)))):
            e = t.external_data.add()
            e.key, e.value = k, v
        offset += len(raw)
    data = b"".join(raws)
    (OUT_DIR / loc).write_bytes(data[:len(raws[0]) + 4])  # b_truncated: 12 bytes, only 4 there
    add("bad_ext_truncated", "external data file shorter than offset+length of tensor "
        "b_truncated (48 + 12 bytes needed, 52 present)", m, "b_truncated", [loc])

    boxes = numpy_helper.from_array(rng.uniform(0, 1, (1, 5, 4)).astype(np.float32), "boxes")
    m = simple_model("bad_unsupported_op", 13, [
        helper.make_node("NonMaxSuppression", ["boxes", "scores"], ["sel"], name="nms_node"),
        helper.make_node("Cast", ["sel"], ["y"], to=TensorProto.FLOAT, name="cast")],
        [fvi("scores", [1, 1, 5])], [fvi("y", [None, 3])], [boxes])
    onnx.checker.check_model(m)
    add("bad_unsupported_op", "NonMaxSuppression (unsupported op) in node nms_node", m,
        "nms_node")

    shp = numpy_helper.from_array(np.array([-1, -1], np.int64), "shape")
    m = simple_model("bad_reshape_two_minus1", 13, [
        helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape_two_minus1")],
        [fvi("x", ["N", 12])], [fvi("y", ["A", "B"])], [shp])
    onnx.checker.check_model(m)
    add("bad_reshape_two_minus1", "Reshape whose shape initializer is [-1,-1] (two -1)", m,
        "reshape_two_minus1")

    m = simple_model("bad_dangling_input", 13, [
        helper.make_node("Relu", ["x"], ["r"], name="relu"),
        helper.make_node("Add", ["r", "ghost_tensor"], ["y"], name="dangling_add")],
        [fvi("x", ["N", 4])], [fvi("y", ["N", 4])], [])
    add("bad_dangling_input", "node dangling_add reads ghost_tensor, which no node, input or "
        "initializer produces", m, "ghost_tensor")
    manifest["bad"] = bad


# README --------------------------------------------------------------------------------------


def write_readme(manifest, stats):
    lines = [
        "# ONNX operator cases",
        "",
        "Generated by `Tests/Tools/make_operator_cases.py` (run "
        "`/work/fxvenv/bin/python Tests/Tools/make_operator_cases.py`; do not edit by hand).",
        "",
        f"Reference outputs: {manifest['reference']}; onnx {manifest['onnx']}. "
        "Inputs are seeded numpy; `numpy check` is the relative error "
        "max|numpy - onnxruntime| / max(1, max|numpy|) of an independent float64 numpy "
        "reference (empty where there is none). Each case: `<case>.onnx`, "
        "`<case>.in.<input>.npy`, `<case>.out.<output>.npy`; see `manifest.json`.",
        "",
        "| case | opset | ops | what it tests | numpy check |",
        "|---|---|---|---|---|",
    ]
    for c in manifest["cases"]:
        err = "" if c["numpy_check_rel_err"] is None else f"{c['numpy_check_rel_err']:.1e}"
        lines.append(f"| {c['name']} | {c['opset']} | {', '.join(c['ops'])} | "
                     f"{c['description'].replace('|', '&#124;')} | {err} |")
    lines += ["", "## Models the loader must refuse", "",
              "| model | error must contain | what |", "|---|---|---|"]
    for b in manifest["bad"]:
        lines.append(f"| {b['name']} | `{b['error']}` | {b['description']} |")
    if stats["plain"]:
        lines += ["", "Checked with the plain onnx checker only (full_check refused for checker "
                  "reasons):", ""]
        lines += [f"- {n}: {why}" for n, why in stats["plain"]]
    if stats["refused"]:
        lines += ["", "Left out (onnxruntime refused):", ""]
        lines += [f"- {n}: {why}" for n, why in stats["refused"]]
    (OUT_DIR / "README.md").write_text("\n".join(lines) + "\n")


def main():
    for k, v in PINNED.items():
        if VERSIONS[k] != v:
            print(f"warning: {k} {VERSIONS[k]} (fixtures were made with {v})")
    if OUT_DIR.exists():
        shutil.rmtree(OUT_DIR)
    OUT_DIR.mkdir(parents=True)
    manifest = {"reference": f"onnxruntime {ort.__version__} CPUExecutionProvider, one thread, "
                "graph optimisations disabled", "onnx": onnx.__version__, "cases": [], "bad": []}
    stats = {"worst": (0.0, None), "plain": [], "refused": []}
    names = set()
    for fn in CASES:
        for c in fn():
            assert c.name not in names, c.name
            names.add(c.name)
            run_case(c, manifest, stats)
    external_cases(manifest, stats)
    bad_cases(manifest)
    (OUT_DIR / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    write_readme(manifest, stats)
    size = sum(f.stat().st_size for f in OUT_DIR.iterdir())
    n_checked = sum(c["numpy_check_rel_err"] is not None for c in manifest["cases"])
    print(f"{len(manifest['cases'])} cases ({n_checked} checked against numpy, worst relative "
          f"error {stats['worst'][0]:.1e} in {stats['worst'][1]}), {len(manifest['bad'])} bad "
          f"models, {len(list(OUT_DIR.iterdir()))} files, {size / 1e6:.2f} MB")
    for n, why in stats["plain"]:
        print(f"plain checker only: {n}: {why}")
    for n, why in stats["refused"]:
        print(f"onnxruntime refused: {n}: {why}")


if __name__ == "__main__":
    main()
