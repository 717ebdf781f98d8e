"""Writes the ONNX import fixtures under Tests/Fixtures/onnx/ (models) and Tests/Fixtures/onnx/ops/.

Three small networks are trained here with plain numpy (hand-written forward and backward passes,
im2col convolution, Adam), exported with onnx.helper (opset 13, ir_version 8, batch dimension
symbolic "N", initializers as raw_data) and checked with onnx.checker (full_check). Reference
outputs come from onnxruntime (CPUExecutionProvider, one thread, graph optimisations disabled so
that every node runs as written):

    mlp_breast_cancer.onnx  load_breast_cancer, raw features [N, 30] -> Sub(mean) -> Div(std)
                            -> Gemm 32 -> Relu -> Gemm 16 -> Relu -> Gemm 2 -> "logits" [N, 2]
    lenet_digits.onnx       load_digits, pixels / 16, [N, 1, 8, 8] -> Conv 3x3 (8) -> Relu
                            -> MaxPool 2 -> Conv 3x3 (16) -> Relu -> AveragePool 2 -> Flatten
                            -> Gemm 32 -> Relu -> Gemm 10 -> "logits" [N, 10]
    resnet_digits.onnx      load_digits, [N, 1, 8, 8] -> stem Conv 3x3 (16) + BN + Relu
                            -> residual block (grouped 1x1 Conv + BN + Relu, channel shuffle as
                            Reshape/Transpose/Reshape, depthwise 3x3 Conv + BN, grouped 1x1 Conv
                            + BN, Add, Relu) -> strided 3x3 Conv (32) + BN + Relu -> two branches
                            (1x1 Conv + Relu | dilated 3x3 Conv + BN + Relu) -> Concat
                            -> GlobalAveragePool -> Flatten -> Gemm 10 -> "logits" [N, 10]
    <model>_opset17.onnx    the same graph declared as opset 17 (every op used has the same
                            semantics there); its onnxruntime logits equal the opset-13 ones

Per model (<model> = file name without .onnx):

    <model>.inputs.npy            float32, the first 8 test samples (raw features / images)
    <model>.labels.npy            int64, their true labels
    <model>.logits.npy            float32 [8, C], onnxruntime
    <model>.masked_inputs_spec.json   players (element indices into the flattened single-sample
                                  input), baseline, n, sample index (row of inputs.npy), label,
                                  convention, v(N), v(empty)
    <model>.masked_logits.npy     float32 [2^n, C], onnxruntime on all 2^n masked inputs
    <model>.masked_logodds.npy    float64 [2^n], v = z_y - logsumexp_{c != y} z_c (y = true label)
    mlp_breast_cancer.baseline.npy    float32 [30], training mean of the raw features

Masking (spec /work/shared/spec/interactions.md sections 1-3): bit i of the subset index is player
i (LSB = player 0); players not in S take the baseline value; elements of no player always keep
the sample's value. MLP: players = raw features 0..9, baseline = training mean. CNNs: the 8x8 image
is a 4x4 grid of 2x2 cells (cell k = grid row k // 4, column k % 4, pixel rows 2(k//4)..+1, columns
2(k%4)..+1); players = cells 4..11 (grid rows 1 and 2), player i = cell 4 + i; the 8 other cells
always present; baseline = zero image.

ops/: single-node (or few-node) graphs with seeded random weights and inputs, each as
<case>.onnx, its inputs (<case>.input.npy when there is one graph input, else
<case>.input.<name>.npy), <case>.output.npy (onnxruntime), all listed in ops/manifest.json.

Data split for all models: train_test_split(test_size=0.25, random_state=0, stratify=y), the same
as Tests/Tools/make_reward_vectors.py. Deterministic: fixed seeds, float64 numpy training with
single-threaded BLAS, weights exported as float32.

Pinned versions (the ones these fixtures were made with; others print a warning):
    onnx 1.23.2, onnxruntime 1.32.0, protobuf 7.36.2, numpy 2.4.6, scikit-learn 1.9.1, scipy 1.17.1

Run (about 20 s on one core):

    .venv/bin/python -m pip install onnx==1.23.2 onnxruntime==1.32.0
    .venv/bin/python Tests/Tools/make_onnx_fixtures.py
"""

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import json  # noqa: E402
import time  # noqa: E402
import zlib  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import onnx  # noqa: E402
import onnxruntime as ort  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
from google.protobuf import __version__ as protobuf_version  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from scipy.special import logsumexp  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "Fixtures" / "onnx"
OPS_DIR = FIXTURES / "ops"
OPSET = 13
ALT_OPSET = 17
IR_VERSION = 8
SPLIT_SEED = 0
TEST_SIZE = 0.25
N_SAMPLES = 8
CONVENTION = ("bit i of the subset index is player i (LSB = player 0); index 0 = all players at "
              "the baseline, index 2^n - 1 = the unmasked sample; players not in S take the "
              "baseline value; input elements that belong to no player always keep the sample's "
              "value")
PINNED = {"onnx": "1.23.2", "onnxruntime": "1.32.0", "protobuf": "7.36.2", "numpy": "2.4.6",
          "scikit-learn": "1.9.1", "scipy": "1.17.1"}
VERSIONS = {"onnx": onnx.__version__, "onnxruntime": ort.__version__,
            "protobuf": protobuf_version, "numpy": np.__version__,
            "scikit-learn": sklearn.__version__, "scipy": scipy.__version__}


# ---------------------------------------------------------------------------------------------
# ONNX building helpers


class Builder:
    """Collects nodes and initializers with unique names."""

    def __init__(self):
        self.nodes, self.inits, self.used, self.count = [], [], set(), 0

    def unique(self, base):
        name, k = base, 1
        while name in self.used:
            k += 1
            name = f"{base}_{k}"
        self.used.add(name)
        return name

    def init(self, base, arr):
        name = self.unique(base)
        self.inits.append(numpy_helper.from_array(np.array(arr, order="C"), name))
        return name

    def f32(self, base, arr):
        return self.init(base, np.asarray(arr, dtype=np.float32))

    def i64(self, base, values):
        return self.init(base, np.asarray(values, dtype=np.int64))

    def node(self, op, inputs, **attrs):
        self.count += 1
        out = self.unique(f"t{self.count}")
        node_name = self.unique(f"{op}_{self.count}")
        self.nodes.append(helper.make_node(op, inputs, [out], name=node_name, **attrs))
        return out


def make_model(graph, opset=OPSET, doc="", check=True):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="harsanyi-make_onnx_fixtures",
                              producer_version="1", doc_string=doc)
    model.ir_version = IR_VERSION
    if check:
        onnx.checker.check_model(model, full_check=True)
    return model


def with_opset(model, opset):
    """The same model declared with another default-domain opset (checked)."""
    m = onnx.ModelProto()
    m.CopyFrom(model)
    del m.opset_import[:]
    m.opset_import.extend([helper.make_opsetid("", opset)])
    onnx.checker.check_model(m, full_check=True)
    return m


def session(model, optimized=False):
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    so.graph_optimization_level = (ort.GraphOptimizationLevel.ORT_ENABLE_ALL if optimized
                                   else ort.GraphOptimizationLevel.ORT_DISABLE_ALL)
    return ort.InferenceSession(model.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])


def op_types(model):
    seen = []
    for n in model.graph.node:
        if n.op_type not in seen:
            seen.append(n.op_type)
    return seen


# ---------------------------------------------------------------------------------------------
# numpy layers: forward(x, train), backward(grad) -> grad wrt input, export(builder, name) -> name


class Param:
    def __init__(self, value, decay=True):
        self.value, self.grad, self.decay = value, np.zeros_like(value), decay


class Layer:
    def params(self):
        return []


def im2col(xp, kh, kw, s, d, ho, wo):
    n, c = xp.shape[:2]
    cols = np.empty((n, c, kh, kw, ho, wo), dtype=xp.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = xp[:, :, i * d:i * d + s * (ho - 1) + 1:s,
                                  j * d:j * d + s * (wo - 1) + 1:s]
    return cols


def conv2d(x, w, b, stride=(1, 1), pads=(0, 0, 0, 0), dil=(1, 1), groups=1):
    """Reference conv (ONNX semantics; pads = top, left, bottom, right), used by the tests too."""
    n, c, h, wd = x.shape
    co, cg, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pads[0], pads[2]), (pads[1], pads[3])))
    ho = (h + pads[0] + pads[2] - dil[0] * (kh - 1) - 1) // stride[0] + 1
    wo = (wd + pads[1] + pads[3] - dil[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.empty((n, co, ho, wo), dtype=np.result_type(x, w))
    og = co // groups
    for g in range(groups):
        xg = xp[:, g * cg:(g + 1) * cg]
        for i in range(ho):
            for j in range(wo):
                patch = xg[:, :, i * stride[0]:i * stride[0] + dil[0] * (kh - 1) + 1:dil[0],
                           j * stride[1]:j * stride[1] + dil[1] * (kw - 1) + 1:dil[1]]
                out[:, g * og:(g + 1) * og, i, j] = np.tensordot(
                    patch, w[g * og:(g + 1) * og], axes=([1, 2, 3], [1, 2, 3]))
    if b is not None:
        out += b[None, :, None, None]
    return out


class Conv(Layer):
    def __init__(self, rng, cin, cout, k, stride=1, pad=0, dil=1, groups=1, bias=True):
        fan_in = cin // groups * k * k
        self.w = Param(rng.normal(0.0, np.sqrt(2.0 / fan_in), (cout, cin // groups, k, k)))
        self.b = Param(np.zeros(cout), decay=False) if bias else None
        self.k, self.s, self.p, self.d, self.g = k, stride, pad, dil, groups

    def params(self):
        return [self.w] + ([self.b] if self.b else [])

    def forward(self, x, train):
        n, c, h, w = x.shape
        k, s, p, d, g = self.k, self.s, self.p, self.d, self.g
        ho = (h + 2 * p - d * (k - 1) - 1) // s + 1
        wo = (w + 2 * p - d * (k - 1) - 1) // s + 1
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        cols = im2col(xp, k, k, s, d, ho, wo).reshape(n, g, c // g * k * k, ho * wo)
        wg = self.w.value.reshape(g, -1, c // g * k * k)
        out = (wg[None] @ cols).reshape(n, -1, ho, wo)
        if self.b:
            out += self.b.value[None, :, None, None]
        self.cache = (x.shape, xp.shape, cols, ho, wo)
        return out

    def backward(self, gy):
        (n, c, h, w), xps, cols, ho, wo = self.cache
        k, s, p, d, g = self.k, self.s, self.p, self.d, self.g
        gy_g = gy.reshape(n, g, -1, ho * wo)
        self.w.grad += (gy_g @ cols.transpose(0, 1, 3, 2)).sum(0).reshape(self.w.value.shape)
        if self.b:
            self.b.grad += gy.sum((0, 2, 3))
        wg = self.w.value.reshape(g, -1, c // g * k * k)
        gcols = (wg.transpose(0, 2, 1)[None] @ gy_g).reshape(n, c, k, k, ho, wo)
        gxp = np.zeros(xps)
        for i in range(k):
            for j in range(k):
                gxp[:, :, i * d:i * d + s * (ho - 1) + 1:s,
                    j * d:j * d + s * (wo - 1) + 1:s] += gcols[:, :, i, j]
        return gxp[:, :, p:p + h, p:p + w]

    def export(self, b, x):
        ins = [x, b.f32("conv.weight", self.w.value)]
        if self.b:
            ins.append(b.f32("conv.bias", self.b.value))
        return b.node("Conv", ins, kernel_shape=[self.k, self.k], pads=[self.p] * 4,
                      strides=[self.s] * 2, dilations=[self.d] * 2, group=self.g)


class BatchNorm(Layer):
    """BatchNorm2d; training uses batch statistics, inference the running mean / variance."""

    def __init__(self, c, eps, momentum=0.1):
        self.gamma, self.beta = Param(np.ones(c), False), Param(np.zeros(c), False)
        self.mean, self.var, self.eps, self.mom = np.zeros(c), np.ones(c), eps, momentum

    def params(self):
        return [self.gamma, self.beta]

    def forward(self, x, train):
        if train:
            mu, var = x.mean((0, 2, 3)), x.var((0, 2, 3))
            m = x.size // x.shape[1]
            self.mean = (1 - self.mom) * self.mean + self.mom * mu
            self.var = (1 - self.mom) * self.var + self.mom * var * m / (m - 1)
        else:
            mu, var = self.mean, self.var
        inv = 1.0 / np.sqrt(var + self.eps)
        xhat = (x - mu[None, :, None, None]) * inv[None, :, None, None]
        self.cache = (xhat, inv)
        return xhat * self.gamma.value[None, :, None, None] + self.beta.value[None, :, None, None]

    def backward(self, gy):
        xhat, inv = self.cache
        self.gamma.grad += (gy * xhat).sum((0, 2, 3))
        self.beta.grad += gy.sum((0, 2, 3))
        gx = gy * self.gamma.value[None, :, None, None]
        m = gy.size // gy.shape[1]
        return (inv[None, :, None, None] / m) * (
            m * gx - gx.sum((0, 2, 3), keepdims=True)
            - xhat * (gx * xhat).sum((0, 2, 3), keepdims=True))

    def export(self, b, x):
        return b.node("BatchNormalization",
                      [x, b.f32("bn.scale", self.gamma.value), b.f32("bn.bias", self.beta.value),
                       b.f32("bn.running_mean", self.mean), b.f32("bn.running_var", self.var)],
                      epsilon=self.eps)


class Relu(Layer):
    def forward(self, x, train):
        self.mask = x > 0
        return x * self.mask

    def backward(self, gy):
        return gy * self.mask

    def export(self, b, x):
        return b.node("Relu", [x])


class Pool2(Layer):
    """2x2 pooling with stride 2 (even sizes), 'max' or 'avg'."""

    def __init__(self, kind):
        self.kind = kind

    def forward(self, x, train):
        n, c, h, w = x.shape
        r = x.reshape(n, c, h // 2, 2, w // 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
            n, c, h // 2, w // 2, 4)
        self.shape = x.shape
        if self.kind == "avg":
            return r.mean(-1)
        self.idx = r.argmax(-1)
        return np.take_along_axis(r, self.idx[..., None], -1)[..., 0]

    def backward(self, gy):
        n, c, h, w = self.shape
        if self.kind == "avg":
            r = np.repeat(gy[..., None] / 4.0, 4, -1)
        else:
            r = np.zeros(gy.shape + (4,))
            np.put_along_axis(r, self.idx[..., None], gy[..., None], -1)
        return r.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5).reshape(
            n, c, h, w)

    def export(self, b, x):
        op = "MaxPool" if self.kind == "max" else "AveragePool"
        return b.node(op, [x], kernel_shape=[2, 2], strides=[2, 2])


class GlobalAvgPool(Layer):
    def forward(self, x, train):
        self.shape = x.shape
        return x.mean((2, 3), keepdims=True)

    def backward(self, gy):
        n, c, h, w = self.shape
        return np.broadcast_to(gy / (h * w), self.shape).copy()

    def export(self, b, x):
        return b.node("GlobalAveragePool", [x])


class Flatten(Layer):
    def forward(self, x, train):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, gy):
        return gy.reshape(self.shape)

    def export(self, b, x):
        return b.node("Flatten", [x], axis=1)


class Dense(Layer):
    """y = x W^T + b with W [out, in], exported as Gemm(transB=1) like PyTorch exports."""

    def __init__(self, rng, din, dout, relu_gain=True):
        std = np.sqrt((2.0 if relu_gain else 1.0) / din)
        self.w = Param(rng.normal(0.0, std, (dout, din)))
        self.b = Param(np.zeros(dout), decay=False)

    def params(self):
        return [self.w, self.b]

    def forward(self, x, train):
        self.x = x
        return x @ self.w.value.T + self.b.value

    def backward(self, gy):
        self.w.grad += gy.T @ self.x
        self.b.grad += gy.sum(0)
        return gy @ self.w.value

    def export(self, b, x):
        return b.node("Gemm", [x, b.f32("fc.weight", self.w.value), b.f32("fc.bias", self.b.value)],
                      alpha=1.0, beta=1.0, transB=1)


class Standardize(Layer):
    """(x - mean) / std with fixed training statistics, exported as Sub and Div."""

    def __init__(self, mean, std):
        self.mean, self.std = mean, std

    def forward(self, x, train):
        return (x - self.mean) / self.std

    def backward(self, gy):
        return gy / self.std

    def export(self, b, x):
        t = b.node("Sub", [x, b.f32("scaler.mean", self.mean)])
        return b.node("Div", [t, b.f32("scaler.scale", self.std)])


class ChannelShuffle(Layer):
    """ShuffleNet channel shuffle: Reshape [N, g, C/g, H, W], Transpose 0 2 1 3 4, Reshape back."""

    def __init__(self, groups):
        self.g = groups

    def forward(self, x, train):
        n, c, h, w = x.shape
        return x.reshape(n, self.g, c // self.g, h, w).transpose(0, 2, 1, 3, 4).reshape(n, c, h, w)

    def backward(self, gy):
        n, c, h, w = gy.shape
        return gy.reshape(n, c // self.g, self.g, h, w).transpose(0, 2, 1, 3, 4).reshape(n, c, h, w)

    def export(self, b, x):
        raise NotImplementedError("needs the shape, see export_shaped")

    def export_shaped(self, b, x, shape):
        c, h, w = shape
        t = b.node("Reshape", [x, b.i64("shuffle.shape5d", [0, self.g, c // self.g, h, w])])
        t = b.node("Transpose", [t], perm=[0, 2, 1, 3, 4])
        return b.node("Reshape", [t, b.i64("shuffle.shape4d", [0, -1, h, w])])


class Sequential(Layer):
    def __init__(self, *layers):
        self.layers = list(layers)

    def params(self):
        return [p for layer in self.layers for p in layer.params()]

    def forward(self, x, train):
        self.shapes = []
        for layer in self.layers:
            self.shapes.append(x.shape[1:])
            x = layer.forward(x, train)
        return x

    def backward(self, gy):
        for layer in reversed(self.layers):
            gy = layer.backward(gy)
        return gy

    def export(self, b, x):
        for layer, shape in zip(self.layers, self.shapes):
            x = (layer.export_shaped(b, x, shape) if isinstance(layer, ChannelShuffle)
                 else layer.export(b, x))
        return x


class Residual(Layer):
    """x + body(x), exported as Add."""

    def __init__(self, body):
        self.body = body

    def params(self):
        return self.body.params()

    def forward(self, x, train):
        return x + self.body.forward(x, train)

    def backward(self, gy):
        return gy + self.body.backward(gy)

    def export(self, b, x):
        return b.node("Add", [x, self.body.export(b, x)])


class ConcatBranches(Layer):
    """Concat of branch outputs along channels."""

    def __init__(self, *branches):
        self.branches = branches

    def params(self):
        return [p for br in self.branches for p in br.params()]

    def forward(self, x, train):
        outs = [br.forward(x, train) for br in self.branches]
        self.sizes = [o.shape[1] for o in outs]
        return np.concatenate(outs, axis=1)

    def backward(self, gy):
        parts = np.split(gy, np.cumsum(self.sizes)[:-1], axis=1)
        return sum(br.backward(g) for br, g in zip(self.branches, parts))

    def export(self, b, x):
        return b.node("Concat", [br.export(b, x) for br in self.branches], axis=1)


# ---------------------------------------------------------------------------------------------
# Training


class Adam:
    def __init__(self, params, wd, b1=0.9, b2=0.999, eps=1e-8):
        self.params, self.wd, self.b1, self.b2, self.eps, self.t = params, wd, b1, b2, eps, 0
        self.m = [np.zeros_like(p.value) for p in params]
        self.v = [np.zeros_like(p.value) for p in params]

    def step(self, lr):
        self.t += 1
        for p, m, v in zip(self.params, self.m, self.v):
            g = p.grad + (self.wd * p.value if p.decay else 0.0)
            m *= self.b1
            m += (1 - self.b1) * g
            v *= self.b2
            v += (1 - self.b2) * g * g
            mhat, vhat = m / (1 - self.b1 ** self.t), v / (1 - self.b2 ** self.t)
            p.value -= lr * mhat / (np.sqrt(vhat) + self.eps)
            p.grad[...] = 0.0


def softmax_xent(z, y):
    z = z - z.max(1, keepdims=True)
    p = np.exp(z)
    p /= p.sum(1, keepdims=True)
    loss = -np.log(p[np.arange(len(y)), y]).mean()
    p[np.arange(len(y)), y] -= 1.0
    return loss, p / len(y)


def predict(model, x, batch=256):
    return np.concatenate([model.forward(x[i:i + batch], False) for i in range(0, len(x), batch)])


def train(name, model, xtr, ytr, seed, epochs, batch, lr, wd):
    print(f"{name}: training ({count_params(model)} parameters)")
    rng = np.random.default_rng(seed)
    opt = Adam(model.params(), wd)
    steps, step = epochs * (len(xtr) // batch), 0
    for epoch in range(epochs):
        perm = rng.permutation(len(xtr))
        total = 0.0
        for k in range(len(xtr) // batch):  # the incomplete last batch is dropped (BatchNorm)
            idx = perm[k * batch:(k + 1) * batch]
            loss, g = softmax_xent(model.forward(xtr[idx], True), ytr[idx])
            model.backward(g)
            opt.step(lr * 0.5 * (1 + np.cos(np.pi * step / steps)))  # cosine decay
            step += 1
            total += loss
        if epoch == 0 or epoch == epochs - 1:
            print(f"    epoch {epoch + 1:3d}/{epochs}: mean train loss {total / (k + 1):.4f}")


def count_params(model):
    return int(sum(p.value.size for p in model.params()))


# ---------------------------------------------------------------------------------------------
# Models


def split(x, y):
    return train_test_split(x, y, np.arange(len(y)), test_size=TEST_SIZE,
                            random_state=SPLIT_SEED, stratify=y)


def mlp_breast_cancer():
    data = load_breast_cancer()
    xtr, xte, ytr, yte, itr, ite = split(data.data, data.target)
    mean, std = xtr.mean(0), xtr.std(0)
    mean32, std32 = mean.astype(np.float32), std.astype(np.float32)
    rng = np.random.default_rng(1)
    body = Sequential(Dense(rng, 30, 32), Relu(), Dense(rng, 32, 16), Relu(),
                      Dense(rng, 16, 2, relu_gain=False))
    t0 = time.perf_counter()
    train("mlp_breast_cancer", body, (xtr - mean) / std, ytr, seed=2, epochs=60, batch=32,
          lr=1e-3, wd=1e-2)
    scaler = Standardize(mean32.astype(np.float64), std32.astype(np.float64))
    model = Sequential(scaler, *body.layers)
    model.forward(xtr[:2], False)  # record shapes
    players = [[i] for i in range(10)]
    return dict(
        name="mlp_breast_cancer", model=model, train_time=time.perf_counter() - t0,
        dataset="sklearn.datasets.load_breast_cancer (raw features)",
        architecture=("Sub(mean) -> Div(std) -> Gemm 30x32 -> Relu -> Gemm 32x16 -> Relu "
                      "-> Gemm 16x2"),
        training="numpy, Adam lr 1e-3 cosine decay, L2 1e-2 on weights, batch 32, 60 epochs, "
                 "softmax cross-entropy on standardised features (scaler baked into the graph)",
        xtr=xtr, ytr=ytr, xte=xte, yte=yte, rows_te=ite,
        input_shape=["N", 30], n_classes=2,
        players=players,
        player_desc="player i = raw feature i (the 10 'mean ...' features), i = 0..9",
        baseline=mean32, baseline_kind="training_mean",
        baseline_desc="training-split mean of the raw features (float32), saved as "
                      "mlp_breast_cancer.baseline.npy; equals the Sub initializer",
    )


def digits_data():
    data = load_digits()
    x = (data.images / 16.0)[:, None, :, :]
    return split(x, data.target)


def cell_players():
    """Players = cells 4..11 of the 4x4 grid of 2x2 cells; indices into the flattened [1,1,8,8]."""
    players = []
    for cell in range(4, 12):
        r, c = divmod(cell, 4)
        players.append([(2 * r + dr) * 8 + 2 * c + dc for dr in (0, 1) for dc in (0, 1)])
    return players


CELL_DESC = ("the 8x8 image as a 4x4 grid of 2x2 cells, cell k = grid row k // 4, column k % 4 "
             "(pixel rows 2(k//4)..2(k//4)+1, columns 2(k%4)..2(k%4)+1); player i = cell 4 + i "
             "(grid rows 1 and 2); cells 0-3 and 12-15 always present; element index = "
             "pixel row * 8 + pixel column of the flattened [1, 1, 8, 8] input")


def lenet_digits():
    xtr, xte, ytr, yte, itr, ite = digits_data()
    rng = np.random.default_rng(3)
    model = Sequential(Conv(rng, 1, 8, 3, pad=1), Relu(), Pool2("max"),
                       Conv(rng, 8, 16, 3, pad=1), Relu(), Pool2("avg"), Flatten(),
                       Dense(rng, 64, 32), Relu(), Dense(rng, 32, 10, relu_gain=False))
    t0 = time.perf_counter()
    train("lenet_digits", model, xtr, ytr, seed=4, epochs=40, batch=32, lr=5e-3, wd=1e-4)
    return dict(
        name="lenet_digits", model=model, train_time=time.perf_counter() - t0,
        dataset="sklearn.datasets.load_digits, pixels / 16 in [0, 1]",
        architecture="Conv 3x3 1->8 pads 1 -> Relu -> MaxPool 2 -> Conv 3x3 8->16 pads 1 -> Relu "
                     "-> AveragePool 2 -> Flatten -> Gemm 64x32 -> Relu -> Gemm 32x10",
        training="numpy, Adam lr 5e-3 cosine decay, L2 1e-4 on weights, batch 32, 40 epochs",
        xtr=xtr, ytr=ytr, xte=xte, yte=yte, rows_te=ite,
        input_shape=["N", 1, 8, 8], n_classes=10,
        players=cell_players(), player_desc=CELL_DESC,
        baseline=np.zeros((1, 8, 8), np.float32), baseline_kind="zero",
        baseline_desc="zero image",
    )


def resnet_digits():
    xtr, xte, ytr, yte, itr, ite = digits_data()
    rng = np.random.default_rng(5)
    eps = 1e-3
    block = Sequential(Conv(rng, 16, 16, 1, groups=4, bias=False), BatchNorm(16, eps), Relu(),
                       ChannelShuffle(4),
                       Conv(rng, 16, 16, 3, pad=1, groups=16, bias=False), BatchNorm(16, eps),
                       Conv(rng, 16, 16, 1, groups=4, bias=False), BatchNorm(16, eps))
    model = Sequential(
        Conv(rng, 1, 16, 3, pad=1, bias=False), BatchNorm(16, eps), Relu(),
        Residual(block), Relu(),
        Conv(rng, 16, 32, 3, stride=2, pad=1, bias=False), BatchNorm(32, eps), Relu(),
        ConcatBranches(Sequential(Conv(rng, 32, 16, 1), Relu()),
                       Sequential(Conv(rng, 32, 16, 3, pad=2, dil=2, bias=False),
                                  BatchNorm(16, eps), Relu())),
        GlobalAvgPool(), Flatten(), Dense(rng, 32, 10, relu_gain=False))
    t0 = time.perf_counter()
    train("resnet_digits", model, xtr, ytr, seed=6, epochs=30, batch=64, lr=1e-2, wd=1e-4)
    return dict(
        name="resnet_digits", model=model, train_time=time.perf_counter() - t0,
        dataset="sklearn.datasets.load_digits, pixels / 16 in [0, 1]",
        architecture=(
            "stem Conv 3x3 1->16 pads 1 (no bias) -> BN -> Relu; residual block: Conv 1x1 16->16 "
            "group 4 -> BN -> Relu -> channel shuffle (Reshape [0,4,4,8,8] -> Transpose "
            "[0,2,1,3,4] -> Reshape [0,-1,8,8]) -> Conv 3x3 depthwise (group 16) pads 1 -> BN -> "
            "Conv 1x1 group 4 -> BN, Add with the block input -> Relu; Conv 3x3 16->32 stride 2 "
            "pads 1 -> BN -> Relu; branches Conv 1x1 32->16 (bias) -> Relu | Conv 3x3 32->16 "
            "dilations 2 pads 2 -> BN -> Relu; Concat axis 1 -> GlobalAveragePool -> Flatten -> "
            "Gemm 32x10. BatchNormalization epsilon 1e-3, running statistics with momentum 0.1 "
            "(unbiased batch variance), as in PyTorch"),
        training="numpy, Adam lr 1e-2 cosine decay, L2 1e-4 on conv/fc weights, batch 64 "
                 "(incomplete last batch dropped), 30 epochs, BN in training mode",
        xtr=xtr, ytr=ytr, xte=xte, yte=yte, rows_te=ite,
        input_shape=["N", 1, 8, 8], n_classes=10,
        players=cell_players(), player_desc=CELL_DESC,
        baseline=np.zeros((1, 8, 8), np.float32), baseline_kind="zero",
        baseline_desc="zero image",
    )


# ---------------------------------------------------------------------------------------------
# Export and reference outputs


def export(spec):
    b = Builder()
    out = spec["model"].export(b, "input")
    assert out == b.nodes[-1].output[0]
    b.nodes[-1].output[0] = "logits"
    graph = helper.make_graph(
        b.nodes, spec["name"],
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, spec["input_shape"])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", spec["n_classes"]])],
        b.inits)
    return make_model(graph, doc=f"{spec['architecture']}. Trained by "
                                 f"Tests/Tools/make_onnx_fixtures.py on {spec['dataset']}.")


def all_masks(n):
    idx = np.arange(1 << n, dtype=np.int64)
    return ((idx[:, None] >> np.arange(n)) & 1).astype(bool)


def masked_inputs(x, baseline, players):
    """[2^n, *x.shape] float32: elements of player i keep x where bit i is set, else baseline."""
    n = len(players)
    masks = all_masks(n)
    flat, base = x.reshape(-1), baseline.reshape(-1)
    present = np.ones((1 << n, flat.size), dtype=bool)
    for i, elems in enumerate(players):
        present[:, elems] = masks[:, [i]]
    return np.where(present, flat[None], base[None]).reshape((1 << n,) + x.shape).astype(np.float32)


def log_odds(z, y):
    z = z.astype(np.float64)
    return z[:, y] - logsumexp(np.delete(z, y, axis=1), axis=1)


def save(path, arr):
    np.save(path, arr)
    return path.name


def run_model(spec):
    name = spec["name"]
    model = export(spec)
    onnx.save(model, FIXTURES / f"{name}.onnx")
    sess = session(model)
    run = lambda x: sess.run(["logits"], {"input": x.astype(np.float32)})[0]  # noqa: E731

    xte, yte = spec["xte"], spec["yte"]
    z_te = run(xte)
    z_tr = run(spec["xtr"])
    acc_te = float((z_te.argmax(1) == yte).mean())
    acc_tr = float((z_tr.argmax(1) == spec["ytr"]).mean())
    z_np = predict(spec["model"], xte.astype(np.float32).astype(np.float64))
    acc_np = float((z_np.argmax(1) == yte).mean())
    diff_np = float(np.abs(z_np - z_te).max())
    z_opt = session(model, optimized=True).run(["logits"], {"input": xte.astype(np.float32)})[0]
    diff_opt = float(np.abs(z_opt - z_te).max())
    print(f"    onnxruntime: train acc {acc_tr:.4f}, test acc {acc_te:.4f} ({len(yte)} test "
          f"samples); numpy float64 test acc {acc_np:.4f}, max |numpy - ort| {diff_np:.2e}, "
          f"max |ort optimised - ort plain| {diff_opt:.2e}; trained in {spec['train_time']:.1f} s")
    assert diff_np < 1e-3, diff_np

    x8 = xte[:N_SAMPLES].astype(np.float32)
    y8 = yte[:N_SAMPLES].astype(np.int64)
    z8 = run(x8)
    assert np.array_equal(z8.argmax(1) == y8, z_te[:N_SAMPLES].argmax(1) == y8)
    files = [f"{name}.onnx",
             save(FIXTURES / f"{name}.inputs.npy", x8),
             save(FIXTURES / f"{name}.labels.npy", y8),
             save(FIXTURES / f"{name}.logits.npy", z8)]

    alt = with_opset(model, ALT_OPSET)
    z_alt = session(alt).run(["logits"], {"input": x8})[0]
    assert np.array_equal(z_alt, z8), "opset 17 variant differs"
    onnx.save(alt, FIXTURES / f"{name}_opset17.onnx")
    files.append(f"{name}_opset17.onnx")

    # Masked forwards for sample 0.
    sample, y = 0, int(y8[0])
    players = spec["players"]
    n = len(players)
    xm = masked_inputs(x8[0], spec["baseline"].astype(np.float32), players)
    zm = run(xm)
    v = log_odds(zm, y)
    assert np.array_equal(xm[-1], x8[0])
    full_diff = float(np.abs(zm[-1] - z8[0]).max())
    single = run(xm[[0, (1 << n) - 1, 5]])
    batch_diff = float(np.abs(single - zm[[0, (1 << n) - 1, 5]]).max())
    if spec["baseline_kind"] == "training_mean":
        files.append(save(FIXTURES / f"{name}.baseline.npy", spec["baseline"].astype(np.float32)))
        baseline = {"kind": "training_mean", "file": f"{name}.baseline.npy",
                    "description": spec["baseline_desc"]}
    else:
        baseline = {"kind": "zero", "description": spec["baseline_desc"]}
    masked_spec = {
        "model": f"{name}.onnx",
        "inputs_file": f"{name}.inputs.npy",
        "sample_index": sample,
        "dataset_row": int(spec["rows_te"][sample]),
        "label": y,
        "predicted": int(z8[0].argmax()),
        "input_shape": [1] + spec["input_shape"][1:],
        "n": n,
        "players": players,
        "players_description": spec["player_desc"],
        "baseline": baseline,
        "convention": CONVENTION,
        "masked_logits_file": f"{name}.masked_logits.npy",
        "masked_logodds_file": f"{name}.masked_logodds.npy",
        "output": "v(S) = z_y - logsumexp_{c != y} z_c on the onnxruntime float32 logits z of the "
                  "masked input, computed in float64; y = label (true class)",
        "v_full": float(v[-1]),
        "v_empty": float(v[0]),
        "max_abs_diff_full_row_vs_logits_npy": full_diff,
    }
    spec_path = FIXTURES / f"{name}.masked_inputs_spec.json"
    spec_path.write_text(json.dumps(masked_spec, indent=1) + "\n")
    files += [f"{name}.masked_inputs_spec.json",
              save(FIXTURES / f"{name}.masked_logits.npy", zm.astype(np.float32)),
              save(FIXTURES / f"{name}.masked_logodds.npy", v.astype(np.float64))]
    print(f"    sample 0: dataset row {masked_spec['dataset_row']}, label {y}, predicted "
          f"{masked_spec['predicted']}; n = {n}, v(N) = {v[-1]:.6f}, v(empty) = {v[0]:.6f}; "
          f"|masked row 2^n-1 - logits[0]| = {full_diff:.1e}, "
          f"batch-vs-small-batch {batch_diff:.1e}")
    print(f"    ops: {op_types(model)}")
    return {
        "name": name, "files": files, "ops": op_types(model), "nodes": len(model.graph.node),
        "params": count_params(spec["model"]), "train_acc": acc_tr, "test_acc": acc_te,
        "n_train": len(spec["ytr"]), "n_test": len(yte), "architecture": spec["architecture"],
        "training": spec["training"], "dataset": spec["dataset"], "diff_np": diff_np,
        "diff_opt": diff_opt, "sample0": masked_spec, "train_time": spec["train_time"],
        "correct8": int((z8.argmax(1) == y8).sum()),
    }


# ---------------------------------------------------------------------------------------------
# Per-operator cases


def pool_ref(x, k, s, pads, kind, count_include_pad=0, ceil_mode=0):
    """Loop reference for 2-D MaxPool / AveragePool (ONNX semantics, pads = t, l, b, r)."""
    n, c, h, w = x.shape
    rnd = np.ceil if ceil_mode else np.floor
    ho = int(rnd((h + pads[0] + pads[2] - k[0]) / s[0])) + 1
    wo = int(rnd((w + pads[1] + pads[3] - k[1]) / s[1])) + 1
    out = np.empty((n, c, ho, wo), dtype=np.float64)
    for i in range(ho):
        for j in range(wo):
            r0, c0 = i * s[0] - pads[0], j * s[1] - pads[1]
            r1, c1 = r0 + k[0], c0 + k[1]
            win = x[:, :, max(r0, 0):min(r1, h), max(c0, 0):min(c1, w)]
            if kind == "max":
                out[:, :, i, j] = win.max((2, 3))
            elif count_include_pad:
                # padded cells count, but not cells past the padded extent (ceil_mode overhang)
                rr = min(r1, h + pads[2]) - r0
                cc = min(c1, w + pads[3]) - c0
                out[:, :, i, j] = win.sum((2, 3)) / (rr * cc)
            else:
                out[:, :, i, j] = win.mean((2, 3))
    return out


def softmax(x, axis):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def op_cases():
    """(name, description, nodes, graph inputs, initializers, numpy reference or None).

    Graph inputs are (name, array, symbolic first dimension). Node outputs named 'out' are the
    graph output.
    """
    cases = []

    def rng_for(name):
        return np.random.default_rng(zlib.crc32(name.encode()))

    def add(name, desc, nodes, inputs, inits=(), ref=None):
        cases.append((name, desc, nodes, inputs, dict(inits), ref))

    def nrm(rng, *shape):
        return rng.normal(0.0, 1.0, shape).astype(np.float32)

    N = helper.make_node

    # Conv 2-D
    def conv_case(name, desc, xs, ws, bias, ref_kw, **attrs):
        rng = rng_for(name)
        x, w = nrm(rng, *xs), nrm(rng, *ws)
        b = nrm(rng, ws[0]) if bias else None
        ins = ["x", "W"] + (["B"] if bias else [])
        inits = [("W", w)] + ([("B", b)] if bias else [])
        ref = None
        if ref_kw is not None:
            def ref(x=x, w=w, b=b, kw=ref_kw):
                if x.ndim == 3:  # Conv1D as a 2-D conv with height 1
                    kw2 = dict(stride=(1,) + kw.get("stride", (1,)),
                               pads=(0, kw["pads"][0], 0, kw["pads"][1]) if "pads" in kw
                               else (0, 0, 0, 0),
                               dil=(1,) + kw.get("dil", (1,)), groups=kw.get("groups", 1))
                    y = conv2d(x[:, :, None].astype(np.float64), w[:, :, None], b, **kw2)
                    return y[:, :, 0]
                return conv2d(x.astype(np.float64), w.astype(np.float64), b, **kw)
        add(name, desc, [N("Conv", ins, ["out"], **attrs)], [("x", x, True)], inits, ref)

    conv_case("conv2d_basic", "Conv 3x3, 3->4 channels, 7x7 input, bias, only kernel_shape given "
              "(default strides/pads/dilations/group)", (2, 3, 7, 7), (4, 3, 3, 3), True, {},
              kernel_shape=[3, 3])
    conv_case("conv2d_no_kernel_shape", "Conv 3x3 with no attributes at all (kernel_shape inferred "
              "from W)", (1, 2, 5, 6), (3, 2, 3, 3), True, {})
    conv_case("conv2d_pads_strides", "Conv 3x3, pads 1, strides 2, odd/even input 9x8",
              (2, 3, 9, 8), (5, 3, 3, 3), True, dict(stride=(2, 2), pads=(1, 1, 1, 1)),
              kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2])
    conv_case("conv2d_asym_pads_rect_kernel", "Conv 2x3 kernel, no bias, asymmetric pads "
              "[top 0, left 1, bottom 1, right 2], strides [1, 2]", (1, 2, 7, 6), (3, 2, 2, 3),
              False, dict(stride=(1, 2), pads=(0, 1, 1, 2)),
              kernel_shape=[2, 3], pads=[0, 1, 1, 2], strides=[1, 2])
    conv_case("conv2d_dilations", "Conv 3x3, dilations 2, pads 2", (1, 2, 9, 9), (3, 2, 3, 3),
              True, dict(dil=(2, 2), pads=(2, 2, 2, 2)),
              kernel_shape=[3, 3], pads=[2, 2, 2, 2], dilations=[2, 2])
    conv_case("conv2d_groups", "Conv 3x3, group 3 (6 -> 9 channels), pads 1, 6x5 input",
              (2, 6, 6, 5), (9, 2, 3, 3), True, dict(groups=3, pads=(1, 1, 1, 1)),
              kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=3)
    conv_case("conv2d_depthwise_stride", "depthwise Conv 3x3 (group = channels = 4), strides 2, "
              "pads 1, 7x7 input", (1, 4, 7, 7), (4, 1, 3, 3), True,
              dict(groups=4, stride=(2, 2), pads=(1, 1, 1, 1)),
              kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[2, 2], group=4)
    conv_case("conv2d_autopad_same_upper", "Conv 3x3, auto_pad SAME_UPPER, strides 2 "
              "(output ceil(7/2) = 4; equals pads 1,1,1,1)", (1, 2, 7, 7), (3, 2, 3, 3), True,
              dict(stride=(2, 2), pads=(1, 1, 1, 1)),
              kernel_shape=[3, 3], auto_pad="SAME_UPPER", strides=[2, 2])
    conv_case("conv1d", "Conv1D kernel 3, pads 1, strides 2, length 11", (2, 3, 11), (4, 3, 3),
              True, dict(stride=(2,), pads=(1, 1)), kernel_shape=[3], pads=[1, 1], strides=[2])
    conv_case("conv1d_dilation_groups", "Conv1D kernel 3, dilations 2, group 2, no bias",
              (1, 4, 10), (6, 2, 3), False, dict(dil=(2,), groups=2),
              kernel_shape=[3], dilations=[2], group=2)

    # Pooling
    def pool_case(name, desc, op, xs, ref, **attrs):
        rng = rng_for(name)
        x = nrm(rng, *xs)
        add(name, desc, [N(op, ["x"], ["out"], **attrs)], [("x", x, True)], (),
            (lambda x=x: ref(x.astype(np.float64))) if ref else None)

    pool_case("maxpool_2x2", "MaxPool kernel 2 strides 2, 8x8", "MaxPool", (2, 3, 8, 8),
              lambda x: pool_ref(x, (2, 2), (2, 2), (0,) * 4, "max"),
              kernel_shape=[2, 2], strides=[2, 2])
    pool_case("maxpool_3x3_s2_pads1", "MaxPool kernel 3 strides 2 pads 1 on 7x7 (pads never win)",
              "MaxPool", (1, 2, 7, 7), lambda x: pool_ref(x, (3, 3), (2, 2), (1,) * 4, "max"),
              kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    pool_case("maxpool_ceil_mode", "MaxPool kernel 2 strides 2 ceil_mode 1 on 7x7 -> 4x4",
              "MaxPool", (1, 2, 7, 7),
              lambda x: pool_ref(x, (2, 2), (2, 2), (0,) * 4, "max", ceil_mode=1),
              kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1)
    pool_case("maxpool_default_strides", "MaxPool kernel 2, strides omitted (default 1), 5x6",
              "MaxPool", (1, 2, 5, 6), lambda x: pool_ref(x, (2, 2), (1, 1), (0,) * 4, "max"),
              kernel_shape=[2, 2])
    pool_case("averagepool_2x2", "AveragePool kernel 2 strides 2, 8x8", "AveragePool",
              (2, 3, 8, 8), lambda x: pool_ref(x, (2, 2), (2, 2), (0,) * 4, "avg"),
              kernel_shape=[2, 2], strides=[2, 2])
    pool_case("averagepool_pads_count_include_pad_0", "AveragePool kernel 3 strides 2 pads 1 on "
              "7x7, count_include_pad 0 (default): divide by the number of real cells",
              "AveragePool", (1, 2, 7, 7),
              lambda x: pool_ref(x, (3, 3), (2, 2), (1,) * 4, "avg", 0),
              kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])
    pool_case("averagepool_pads_count_include_pad_1", "AveragePool kernel 3 strides 2 pads 1 on "
              "7x7, count_include_pad 1: divide by 9 everywhere", "AveragePool", (1, 2, 7, 7),
              lambda x: pool_ref(x, (3, 3), (2, 2), (1,) * 4, "avg", 1),
              kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], count_include_pad=1)
    pool_case("globalaveragepool", "GlobalAveragePool on 5x4", "GlobalAveragePool", (2, 3, 5, 4),
              lambda x: x.mean((2, 3), keepdims=True))

    # Elementwise with broadcasting
    def bin_case(name, desc, op, xs, ys, y_is_input, fn, positive_y=False):
        rng = rng_for(name)
        x, y = nrm(rng, *xs), nrm(rng, *ys)
        if positive_y:
            y = (np.sign(y) * (0.5 + np.abs(y))).astype(np.float32)
        inputs = [("x", x, True)] + ([("y", y, False)] if y_is_input else [])
        add(name, desc, [N(op, ["x", "y"], ["out"])], inputs, [] if y_is_input else [("y", y)],
            lambda x=x, y=y: fn(x, y))

    bin_case("add_bcast_c11", "Add [N,3,5,5] + initializer [3,1,1] (per channel)", "Add",
             (2, 3, 5, 5), (3, 1, 1), False, np.add)
    bin_case("mul_bcast_scalar1", "Mul [N,3,5,5] * initializer [1]", "Mul", (2, 3, 5, 5), (1,),
             False, np.multiply)
    bin_case("sub_bcast_last_axis", "Sub [N,3,5,5] - initializer [5] (last axis)", "Sub",
             (2, 3, 5, 5), (5,), False, np.subtract)
    bin_case("div_bcast_two_inputs", "Div [N,3,5,5] / graph input [1,3,1,5], |y| >= 0.5", "Div",
             (2, 3, 5, 5), (1, 3, 1, 5), True, np.divide, positive_y=True)
    bin_case("add_bcast_both_sides", "Add [N,3,1,5] + graph input [4,1] -> [N,3,4,5]", "Add",
             (2, 3, 1, 5), (4, 1), True, np.add)
    bin_case("mul_same_shape", "Mul of two graph inputs of the same shape [N,2,3]", "Mul",
             (2, 2, 3), (2, 2, 3), True, np.multiply)
    bin_case("sub_scalar_rank0", "Sub [N,3,4] - rank-0 initializer", "Sub", (2, 3, 4), (), False,
             np.subtract)

    # Activations
    def unary_case(name, desc, op, fn, **attrs):
        rng = rng_for(name)
        x = (rng.uniform(-6.0, 6.0, (2, 3, 4, 5))).astype(np.float32)
        add(name, desc, [N(op, ["x"], ["out"], **attrs)], [("x", x, True)], (),
            lambda x=x: fn(x.astype(np.float64)))

    unary_case("relu", "Relu", "Relu", lambda x: np.maximum(x, 0))
    unary_case("leakyrelu_alpha_0_1", "LeakyRelu alpha 0.1", "LeakyRelu",
               lambda x: np.where(x >= 0, x, 0.1 * x), alpha=0.1)
    unary_case("leakyrelu_default_alpha", "LeakyRelu, alpha omitted (default 0.01)", "LeakyRelu",
               lambda x: np.where(x >= 0, x, 0.01 * x))
    unary_case("sigmoid", "Sigmoid on [-6, 6]", "Sigmoid", lambda x: 1 / (1 + np.exp(-x)))
    unary_case("tanh", "Tanh on [-6, 6]", "Tanh", np.tanh)

    # Softmax / LogSoftmax (opset 13: normalise along one axis, NOT the old flatten-to-2-D rule)
    def softmax_case(name, desc, op, axis, shape=(2, 3, 4)):
        rng = rng_for(name)
        x = (3 * nrm(rng, *shape)).astype(np.float32)
        ax = -1 if axis is None else axis
        attrs = {} if axis is None else {"axis": axis}
        fn = (lambda x: softmax(x, ax)) if op == "Softmax" else (
            lambda x: np.log(softmax(x, ax)))
        add(name, desc, [N(op, ["x"], ["out"], **attrs)], [("x", x, True)], (),
            lambda x=x: fn(x.astype(np.float64)))

    softmax_case("softmax_axis1", "Softmax axis 1 on [N,3,4] (opset 13 per-axis semantics; the "
                 "opset < 13 rule would normalise over 12 values)", "Softmax", 1)
    softmax_case("softmax_default_axis", "Softmax, axis omitted (default -1) on [N,3,4]",
                 "Softmax", None)
    softmax_case("softmax_axis_neg2", "Softmax axis -2 on [N,3,4,5]", "Softmax", -2, (2, 3, 4, 5))
    softmax_case("logsoftmax_axis1", "LogSoftmax axis 1 on [N,3,4]", "LogSoftmax", 1)
    softmax_case("logsoftmax_default_axis", "LogSoftmax, axis omitted (default -1) on [N,3,4]",
                 "LogSoftmax", None)

    # Transpose
    rng = rng_for("transpose")
    x = nrm(rng, 2, 3, 4, 5)
    add("transpose_perm_0231", "Transpose perm [0,2,3,1] (NCHW -> NHWC)",
        [N("Transpose", ["x"], ["out"], perm=[0, 2, 3, 1])], [("x", x, True)], (),
        lambda x=x: x.transpose(0, 2, 3, 1))
    x3 = nrm(rng, 2, 3, 4)
    add("transpose_default_perm", "Transpose, perm omitted (reverse the axes) on [2,3,4]",
        [N("Transpose", ["x"], ["out"])], [("x", x3, False)], (), lambda x=x3: x.transpose())

    # Concat
    rng = rng_for("concat")
    a, b2, c = nrm(rng, 2, 1, 3, 3), nrm(rng, 2, 2, 3, 3), nrm(rng, 2, 3, 3, 3)
    add("concat_axis1_three_inputs", "Concat axis 1 of [N,1,3,3], [N,2,3,3], [N,3,3,3]",
        [N("Concat", ["a", "b", "c"], ["out"], axis=1)],
        [("a", a, True), ("b", b2, True), ("c", c, True)], (),
        lambda a=a, b=b2, c=c: np.concatenate([a, b, c], 1))
    a, b2 = nrm(rng, 2, 3, 2), nrm(rng, 2, 3, 4)
    add("concat_axis_neg1_initializer", "Concat axis -1 of graph input [N,3,2] and initializer "
        "[2,3,4]", [N("Concat", ["a", "b"], ["out"], axis=-1)], [("a", a, False)],
        [("b", b2)],
        lambda a=a, b=b2: np.concatenate([a, b], -1))

    # Reductions (opset 13: ReduceMean / ReduceMax take axes as an attribute, ReduceSum as input)
    def reduce_case(name, desc, op, fn, axes, keepdims, axes_input=False):
        rng = rng_for(name)
        x = nrm(rng, 2, 3, 4, 5)
        attrs = {} if keepdims is None else {"keepdims": keepdims}
        ins, inits = ["x"], []
        if axes is not None and axes_input:
            ins.append("axes")
            inits.append(("axes", np.asarray(axes, np.int64)))
        elif axes is not None:
            attrs["axes"] = axes
        kd = 1 if keepdims is None else keepdims
        ax = tuple(range(4)) if axes is None else tuple(axes)
        add(name, desc, [N(op, ins, ["out"], **attrs)], [("x", x, True)], inits,
            lambda x=x: fn(x.astype(np.float64), axis=ax, keepdims=bool(kd)))

    reduce_case("reducemean_axes23_keepdims1", "ReduceMean axes [2,3] keepdims 1", "ReduceMean",
                np.mean, [2, 3], 1)
    reduce_case("reducemean_axis1_keepdims0", "ReduceMean axes [1] keepdims 0", "ReduceMean",
                np.mean, [1], 0)
    reduce_case("reducemean_all_default_keepdims", "ReduceMean, no axes (all), keepdims omitted "
                "(default 1) -> [1,1,1,1]", "ReduceMean", np.mean, None, None)
    reduce_case("reducemax_axes23_keepdims0", "ReduceMax axes [2,3] keepdims 0", "ReduceMax",
                np.max, [2, 3], 0)
    reduce_case("reducemax_axis_neg1_keepdims1", "ReduceMax axes [-1] keepdims 1", "ReduceMax",
                np.max, [-1], 1)
    reduce_case("reducesum_axes_input_keepdims0", "ReduceSum with axes as an int64 input [1,3] "
                "(opset 13 form), keepdims 0", "ReduceSum", np.sum, [1, 3], 0, axes_input=True)

    # Clip (opset 13: min / max are optional inputs)
    rng = rng_for("clip")
    x = (2 * nrm(rng, 2, 3, 4)).astype(np.float32)
    lo, hi = np.array(-0.5, np.float32), np.array(0.7, np.float32)
    add("clip_min_max", "Clip with min -0.5 and max 0.7 as rank-0 initializer inputs",
        [N("Clip", ["x", "min", "max"], ["out"])], [("x", x, True)], [("min", lo), ("max", hi)],
        lambda x=x: np.clip(x, -0.5, 0.7))
    add("clip_max_only", "Clip with min omitted (empty input name) and max 0.7",
        [N("Clip", ["x", "", "max"], ["out"])], [("x", x, True)], [("max", hi)],
        lambda x=x: np.minimum(x, 0.7))
    add("clip_min_only", "Clip with min -0.5 and max omitted (trailing input dropped)",
        [N("Clip", ["x", "min"], ["out"])], [("x", x, True)], [("min", lo)],
        lambda x=x: np.maximum(x, -0.5))
    add("clip_min_max_graph_inputs", "Clip with min / max given as rank-0 graph inputs",
        [N("Clip", ["x", "min", "max"], ["out"])],
        [("x", x, True), ("min", np.array(-1.0, np.float32), False),
         ("max", np.array(0.25, np.float32), False)], (),
        lambda x=x: np.clip(x, -1.0, 0.25))

    # Squeeze / Unsqueeze (opset 13: axes is an int64 input)
    rng = rng_for("squeeze")
    x = nrm(rng, 2, 1, 3, 1)
    add("squeeze_axes_input", "Squeeze axes [1,3] (int64 initializer input) [N,1,3,1] -> [N,3]",
        [N("Squeeze", ["x", "axes"], ["out"])], [("x", x, True)],
        [("axes", np.array([1, 3], np.int64))], lambda x=x: x.squeeze((1, 3)))
    add("squeeze_neg_axis", "Squeeze axes [-1] [N,1,3,1] -> [N,1,3]",
        [N("Squeeze", ["x", "axes"], ["out"])], [("x", x, True)],
        [("axes", np.array([-1], np.int64))], lambda x=x: x.squeeze(-1))
    add("squeeze_no_axes", "Squeeze without axes (all size-1 dims) [2,1,3,1] -> [2,3]",
        [N("Squeeze", ["x"], ["out"])], [("x", x, False)], (), lambda x=x: x.squeeze())
    x = nrm(rng, 2, 3)
    add("unsqueeze_axes_input", "Unsqueeze axes [0,3] (axes refer to the output rank) "
        "[2,3] -> [1,2,3,1]", [N("Unsqueeze", ["x", "axes"], ["out"])], [("x", x, False)],
        [("axes", np.array([0, 3], np.int64))], lambda x=x: x[None, :, :, None])
    add("unsqueeze_neg_axis", "Unsqueeze axes [-1] [N,3] -> [N,3,1]",
        [N("Unsqueeze", ["x", "axes"], ["out"])], [("x", x, True)],
        [("axes", np.array([-1], np.int64))], lambda x=x: x[:, :, None])

    # Reshape / Flatten
    rng = rng_for("reshape")
    x = nrm(rng, 2, 3, 4)
    add("reshape_minus1", "Reshape [2,3,4] with shape [4,-1] -> [4,6]",
        [N("Reshape", ["x", "shape"], ["out"])], [("x", x, False)],
        [("shape", np.array([4, -1], np.int64))], lambda x=x: x.reshape(4, -1))
    x4 = nrm(rng, 2, 3, 4, 5)
    add("reshape_zero_minus1", "Reshape [N,3,4,5] with shape [0,-1,5] (0 copies the input dim) "
        "-> [N,12,5]", [N("Reshape", ["x", "shape"], ["out"])], [("x", x4, True)],
        [("shape", np.array([0, -1, 5], np.int64))], lambda x=x4: x.reshape(x.shape[0], -1, 5))
    shape_const = helper.make_tensor("shape_value", TensorProto.INT64, [2], [0, -1])
    add("reshape_constant_node", "Constant node (value = int64 [0,-1]) feeding Reshape, as in "
        "PyTorch exports: [N,3,4,5] -> [N,60]",
        [N("Constant", [], ["shape"], value=shape_const), N("Reshape", ["x", "shape"], ["out"])],
        [("x", x4, True)], (), lambda x=x4: x.reshape(x.shape[0], -1))
    for axis, desc in ((None, "[N,3,4,5], axis omitted (default 1) -> [N,60]"),
                       (2, "[2,3,4,5], axis 2 -> [6,20]"), (0, "[2,3,4,5], axis 0 -> [1,120]"),
                       (-1, "[2,3,4,5], axis -1 -> [24,5]")):
        k = 1 if axis is None else axis
        name = "flatten_default_axis" if axis is None else f"flatten_axis{axis}".replace("-", "neg")
        add(name, f"Flatten {desc}",
            [N("Flatten", ["x"], ["out"], **({} if axis is None else {"axis": axis}))],
            [("x", x4, axis is None)], (),
            lambda x=x4, k=k: x.reshape(int(np.prod(x.shape[:k % 4])), -1))

    # Gemm / MatMul
    rng = rng_for("gemm")
    a, w, bias = nrm(rng, 3, 4), nrm(rng, 5, 4), nrm(rng, 5)
    add("gemm_transb_bias", "Gemm A [N,4], B [5,4] transB 1, C [5] (PyTorch Linear)",
        [N("Gemm", ["a", "W", "C"], ["out"], transB=1)], [("a", a, True)],
        [("W", w), ("C", bias)], lambda a=a, w=w, c=bias: a @ w.T + c)
    at, w2, c2 = nrm(rng, 4, 3), nrm(rng, 4, 5), nrm(rng, 1, 5)
    add("gemm_transa_alpha_beta", "Gemm transA 1, A [4,3], B [4,5], C [1,5], alpha 0.5, beta 2",
        [N("Gemm", ["a", "W", "C"], ["out"], transA=1, alpha=0.5, beta=2.0)], [("a", at, False)],
        [("W", w2), ("C", c2)], lambda a=at, w=w2, c=c2: 0.5 * a.T @ w + 2 * c)
    add("gemm_no_bias", "Gemm without C, A [N,4], B [4,5]",
        [N("Gemm", ["a", "W"], ["out"])], [("a", a, True)], [("W", w2)],
        lambda a=a, w=w2: a @ w)
    c3 = nrm(rng, 3, 1)
    add("gemm_bias_column", "Gemm A [3,4], B [5,4] transB 1, C [3,1] (broadcast along columns)",
        [N("Gemm", ["a", "W", "C"], ["out"], transB=1)], [("a", a, False)],
        [("W", w), ("C", c3)], lambda a=a, w=w, c=c3: a @ w.T + c)
    xm, wm = nrm(rng, 2, 3, 4), nrm(rng, 4, 5)
    add("matmul_batched", "MatMul [N,3,4] x initializer [4,5]",
        [N("MatMul", ["x", "W"], ["out"])], [("x", xm, True)], [("W", wm)],
        lambda x=xm, w=wm: x @ w)

    # BatchNormalization (inference form)
    rng = rng_for("batchnorm")
    x = nrm(rng, 2, 3, 4, 4)
    sc, bb = nrm(rng, 3), nrm(rng, 3)
    mu, var = nrm(rng, 3), rng.uniform(1e-4, 2e-3, 3).astype(np.float32)
    add("batchnorm_inference_small_var", "BatchNormalization (1 output), epsilon omitted "
        "(default 1e-5), running variances 1e-4..2e-3 so epsilon matters",
        [N("BatchNormalization", ["x", "scale", "B", "mean", "var"], ["out"])],
        [("x", x, True)], [("scale", sc), ("B", bb), ("mean", mu), ("var", var)],
        lambda x=x, s=sc, b=bb, m=mu, v=var: (
            (x.astype(np.float64) - m[:, None, None]) / np.sqrt(v[:, None, None].astype(np.float64)
                                                                + 1e-5)
            * s[:, None, None] + b[:, None, None]))

    # A few-node graph: conv -> bn -> relu -> maxpool -> residual add
    rng = rng_for("few_node_conv_block")
    x = nrm(rng, 2, 4, 6, 6)
    wc = nrm(rng, 4, 4, 3, 3) * 0.3
    sc, bb, mu = nrm(rng, 4), nrm(rng, 4), nrm(rng, 4)
    var = rng.uniform(0.5, 2.0, 4).astype(np.float32)
    add("few_node_conv_bn_relu_add", "Conv 3x3 pads 1 (no bias) -> BatchNormalization epsilon 1e-3 "
        "-> Relu -> Add with the input -> MaxPool 2",
        [N("Conv", ["x", "W"], ["c"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
         N("BatchNormalization", ["c", "scale", "B", "mean", "var"], ["bn"], epsilon=1e-3),
         N("Relu", ["bn"], ["r"]), N("Add", ["r", "x"], ["s"]),
         N("MaxPool", ["s"], ["out"], kernel_shape=[2, 2], strides=[2, 2])],
        [("x", x, True)],
        [("W", wc.astype(np.float32)), ("scale", sc), ("B", bb), ("mean", mu), ("var", var)],
        None)
    return cases


def build_op_case(name, desc, nodes, inputs, inits):
    vis = []
    for iname, arr, sym in inputs:
        shape = list(arr.shape)
        if sym:
            shape[0] = "N"
        vis.append(helper.make_tensor_value_info(iname, helper.np_dtype_to_tensor_dtype(arr.dtype),
                                                 shape))
    initializers = [numpy_helper.from_array(np.array(v, order="C"), k) for k, v in inits.items()]
    out = helper.make_tensor_value_info("out", TensorProto.FLOAT, None)
    graph = helper.make_graph(nodes, name, vis, [out], initializers)
    model = make_model(graph, doc=desc, check=False)
    # Declare the output shape as onnx shape inference derives it (symbolic "N" propagates).
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    model.graph.output[0].CopyFrom(inferred.graph.output[0])
    onnx.checker.check_model(model, full_check=True)
    return model


def run_ops():
    OPS_DIR.mkdir(parents=True, exist_ok=True)
    manifest = {"opset": OPSET, "ir_version": IR_VERSION, "reference": "onnxruntime "
                f"{ort.__version__} CPUExecutionProvider, graph optimisations disabled",
                "cases": []}
    worst = 0.0
    for name, desc, nodes, inputs, inits, ref in op_cases():
        model = build_op_case(name, desc, nodes, inputs, inits)
        onnx.save(model, OPS_DIR / f"{name}.onnx")
        feeds = {iname: arr for iname, arr, _ in inputs}
        y = session(model).run(["out"], feeds)[0]
        in_files = []
        for iname, arr, sym in inputs:
            fname = f"{name}.input.npy" if len(inputs) == 1 else f"{name}.input.{iname}.npy"
            np.save(OPS_DIR / fname, arr)
            in_files.append({"name": iname, "file": fname, "shape": list(arr.shape),
                             "dtype": str(arr.dtype), "symbolic_batch": sym})
        np.save(OPS_DIR / f"{name}.output.npy", y)
        dims = model.graph.output[0].type.tensor_type.shape.dim
        declared = [d.dim_param if d.HasField("dim_param") else d.dim_value for d in dims]
        checked = None
        if ref is not None:
            r = np.asarray(ref(), dtype=np.float64)
            assert r.shape == y.shape, (name, r.shape, y.shape)
            checked = float(np.abs(r - y).max() / max(1.0, np.abs(r).max()))
            assert checked < 1e-5, (name, checked)
            worst = max(worst, checked)
        manifest["cases"].append({
            "name": name, "model": f"{name}.onnx", "ops": op_types(model), "description": desc,
            "inputs": in_files,
            "initializers": {k: list(v.shape) for k, v in inits.items()},
            "output": {"name": "out", "file": f"{name}.output.npy", "shape": list(y.shape),
                       "declared_shape": declared},
            "numpy_check_rel_err": checked,
        })
    (OPS_DIR / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    n_checked = sum(c["numpy_check_rel_err"] is not None for c in manifest["cases"])
    print(f"ops: {len(manifest['cases'])} cases, {n_checked} cross-checked against numpy "
          f"(worst relative error {worst:.1e})")
    return manifest


# ---------------------------------------------------------------------------------------------
# README


def write_readme(results, manifest):
    files = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.name != "README.md")
    total = sum(p.stat().st_size for p in files)
    lines = [
        "# ONNX import fixtures",
        "",
        "Trained models, onnxruntime reference outputs and masked-forward (2^n) references for the",
        "ONNX importer, plus single-operator graphs under `ops/`. Made with (deterministic; numpy",
        "training, well under a minute on one core):",
        "",
        "    .venv/bin/python -m pip install onnx==1.23.2 onnxruntime==1.32.0",
        "    .venv/bin/python Tests/Tools/make_onnx_fixtures.py",
        "",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in VERSIONS.items()) + ".",
        "",
        f"All models: opset {OPSET}, ir_version {IR_VERSION}, float32, input `input` with a",
        "symbolic batch dimension `N`, output `logits`, initializers in `raw_data`",
        "(little-endian), checked with `onnx.checker.check_model(full_check=True)`. Gemm nodes",
        "use `transB=1` (weights [out, in]) as PyTorch exports do. References come from",
        "onnxruntime, CPUExecutionProvider, one thread, graph optimisations disabled (every node",
        "runs as written).",
        "`<model>_opset17.onnx` is the same graph declared as opset 17; onnxruntime gives",
        "bit-identical logits for it.",
        "",
        "Data: scikit-learn data sets, `train_test_split(test_size=0.25, random_state=0,",
        "stratify=y)` (as in `Tests/Fixtures/rewards`); `inputs.npy` = the first 8 test samples.",
        "",
        "## Models",
        "",
        "| model | data | params | train acc | test acc | ops | 8 samples correct |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| `{r['name']}.onnx` | {r['dataset']} ({r['n_train']} train / "
                     f"{r['n_test']} test) | {r['params']} | {r['train_acc']:.4f} | "
                     f"{r['test_acc']:.4f} | {', '.join(r['ops'])} | {r['correct8']}/8 |")
    lines.append("")
    lines.append("Accuracies are those of the exported float32 model in onnxruntime.")
    lines.append("")
    for r in results:
        lines += [f"- `{r['name']}`: {r['architecture']}. Training: {r['training']}. "
                  f"{r['nodes']} nodes. max |numpy float64 - onnxruntime| on the test logits "
                  f"{r['diff_np']:.1e}; onnxruntime with its default graph optimisations "
                  f"(node fusions, constant folding) differs from the reference by up to "
                  f"{r['diff_opt']:.1e}."]
    lines += [
        "",
        "Files per model (`<m>` = model name):",
        "",
        "- `<m>.onnx`, `<m>_opset17.onnx`",
        "- `<m>.inputs.npy` float32 [8, ...], `<m>.labels.npy` int64 [8],",
        "  `<m>.logits.npy` float32 [8, C]",
        "- `<m>.masked_inputs_spec.json`: players (element indices into the flattened one-sample",
        "  input), baseline, n, sample index (row of `inputs.npy`), label, convention, v(N),",
        "  v(empty)",
        "- `<m>.masked_logits.npy` float32 [2^n, C] (onnxruntime, one batch of 2^n)",
        "- `<m>.masked_logodds.npy` float64 [2^n]: v = z_y - logsumexp_{c != y} z_c,",
        "  y = true label",
        "- `mlp_breast_cancer.baseline.npy` float32 [30]: the baseline of the MLP masking",
        "",
        "## Masking (spec `interactions.md` sections 1-3)",
        "",
        "Bit i of the subset index is player i (LSB = player 0); index 0 = all players at the",
        "baseline, index 2^n - 1 = the unmasked sample. Players not in S take the baseline; input",
        "elements of no player always keep the sample's value.",
        "",
        "- MLP: players = raw features 0..9 (n = 10), baseline = training mean of the raw features",
        "  (equal to the graph's Sub initializer, so masked features standardise to exactly 0).",
        "- LeNet and ResNet: the 8x8 image as a 4x4 grid of 2x2 cells (cell k = grid row k // 4,",
        "  column k % 4); players = cells 4..11, player i = cell 4 + i (n = 8); the other 8 cells",
        "  always present; baseline = zero image. Element index = pixel row * 8 + pixel column.",
        "",
        "| model | dataset row | label | predicted | n | v(N) | v(empty) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in results:
        s = r["sample0"]
        lines.append(f"| {r['name']} | {s['dataset_row']} | {s['label']} | {s['predicted']} | "
                     f"{s['n']} | {s['v_full']:.6f} | {s['v_empty']:.6f} |")
    lines += [
        "",
        "Row 2^n - 1 of `masked_logits.npy` is the unmasked sample 0, computed in a batch of 2^n;",
        "it can differ from `logits.npy[0]` (batch of 8) in the last bits (see",
        "`max_abs_diff_full_row_vs_logits_npy` in the spec JSON).",
        "",
        "## Operator cases (`ops/`)",
        "",
        "Each case: `<case>.onnx`, its inputs (`<case>.input.npy` when the graph has one input,",
        "else `<case>.input.<name>.npy`), `<case>.output.npy` (onnxruntime). `ops/manifest.json`",
        "lists every case with its ops, description, inputs (shape, dtype, whether the first",
        "dimension is declared symbolic `N`), initializer shapes, output shape and the relative",
        "error of an independent numpy reference where one was written",
        "(`max|ref - ort| / max(1, max|ref|)`, all below 1e-5).",
        "",
        "| case | ops | description |",
        "|---|---|---|",
    ]
    for c in manifest["cases"]:
        lines.append(f"| `{c['name']}` | {', '.join(c['ops'])} | {c['description']} |")
    lines += [
        "",
        "Suggested tolerances for a float32 implementation: ops and models within",
        "atol 1e-5 + rtol 1e-5 of the reference; log-odds within about 1e-4 absolute.",
        "",
        "## Files",
        "",
        f"{len(files)} files, {total / 1024:.0f} KiB in all (without this README).",
        "",
        "| file | bytes |",
        "|---|---|",
    ]
    lines += [f"| `{p.relative_to(FIXTURES)}` | {p.stat().st_size} |" for p in files
              if p.parent == FIXTURES]
    lines.append(f"| `ops/*` ({sum(p.parent == OPS_DIR for p in files)} files) | "
                 f"{sum(p.stat().st_size for p in files if p.parent == OPS_DIR)} |")
    (FIXTURES / "README.md").write_text("\n".join(lines) + "\n")
    return total


def main():
    for k, v in PINNED.items():
        if VERSIONS[k] != v:
            print(f"warning: {k} {VERSIONS[k]} (fixtures were made with {v})")
    t0 = time.perf_counter()
    FIXTURES.mkdir(parents=True, exist_ok=True)
    results = [run_model(make()) for make in (mlp_breast_cancer, lenet_digits, resnet_digits)]
    manifest = run_ops()
    total = write_readme(results, manifest)
    print(f"wrote {FIXTURES} ({total / 1024:.0f} KiB) in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
