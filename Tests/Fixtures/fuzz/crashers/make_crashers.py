#!/usr/bin/env python3
"""Writes the minimised .onnx crashers of this folder (no onnx package needed: a few protobuf fields by hand).

Each is the smallest model showing what a fuzz input did to the reader before its fix; see README.md.
"""

import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def varint(v):
    v &= (1 << 64) - 1  # negative int64 values are ten-byte two's complement varints
    out = bytearray()
    while True:
        out.append((v & 0x7F) | (0x80 if v > 0x7F else 0))
        v >>= 7
        if not v:
            return bytes(out)


def field(number, value):
    """A varint field for an int, a length-delimited field for bytes/str."""
    if isinstance(value, int):
        return varint(number << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(number << 3 | 2) + varint(len(value)) + value


def tensor(name, dims, floats):
    return b"".join(field(1, d) for d in dims) + field(2, 1) + field(8, name) + field(9, struct.pack(f"<{len(floats)}f", *floats))


def value_info(name, dims):
    shape = b"".join(field(1, field(1, d) if d is not None else field(2, "N")) for d in dims)
    return field(1, name) + field(2, field(1, field(1, 1) + field(2, shape)))


def attribute_ints(name, values):
    return field(1, name) + b"".join(field(8, v) for v in values) + field(20, 7)


def node(op, inputs, outputs, attributes=()):
    return b"".join(field(1, i) for i in inputs) + b"".join(field(2, o) for o in outputs) + field(4, op) + b"".join(
        field(5, a) for a in attributes)


def model(nodes, initializers, inputs, outputs, opset=13):
    graph = b"".join(field(1, n) for n in nodes) + field(2, "g") + b"".join(field(5, t) for t in initializers)
    graph += b"".join(field(11, v) for v in inputs) + b"".join(field(12, v) for v in outputs)
    return field(1, 7) + field(7, graph) + field(8, field(2, opset))


def write(name, data):
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(data)


# Graph.tensor multiplied the dims without overflow checks: dims [2^62, 4] trapped (arithmetic overflow).
write("onnx-initializer-dims-overflow.onnx", model(
    [node("Add", ["x", "w"], ["y"])], [tensor("w", [1 << 62, 4], [1, 2, 3, 4])],
    [value_info("x", [None, 4])], [value_info("y", [None, 4])]))

# Negative dims whose product matches the data ([-1, -4] for 4 values) passed the count check.
write("onnx-initializer-negative-dims.onnx", model(
    [node("Add", ["x", "w"], ["y"])], [tensor("w", [-1, -4], [1, 2, 3, 4])],
    [value_info("x", [None, 4])], [value_info("y", [None, 4])]))

# AveragePool pads of 2^40 on a 4x4 input: the output (2^39 rows) was allocated (4 GiB+, or a trap).
write("onnx-averagepool-huge-pads.onnx", model(
    [node("AveragePool", ["x"], ["y"], [attribute_ints("kernel_shape", [2, 2]), attribute_ints("pads", [1 << 40, 1, 1, 1])])],
    [], [value_info("x", [None, 1, 4, 4])], [value_info("y", [None, 1, None, None])]))

# Broadcasting a 0-sized axis against 1 gave 1 (not 0): Sub of [0, 3] and [3] read past the empty input.
# A valid model: after the fix it runs to an empty [0, 3] output (the `.runs.onnx` suffix tells the test).
write("onnx-broadcast-zero-dim.runs.onnx", model(
    [node("Sub", ["x", "m"], ["y"])], [tensor("m", [3], [1, 2, 3])],
    [value_info("x", [0, 3])], [value_info("y", [0, 3])]))

# Reshape to a Constant shape [2^62, 4]: the product of the target overflowed (arithmetic-overflow trap).
shape_tensor = field(1, 2) + field(2, 7) + field(8, "s") + field(9, struct.pack("<2q", 1 << 62, 4))
write("onnx-reshape-target-overflow.onnx", model(
    [node("Reshape", ["x", "s"], ["y"])], [shape_tensor], [value_info("x", [None, 4])], [value_info("y", [None, 4])]))

# Conv with group 2^62: the channel check c == cg * group overflowed.
def attribute_int(name, value):
    return field(1, name) + field(3, value) + field(20, 2)


write("onnx-conv-group-overflow.onnx", model(
    [node("Conv", ["x", "w"], ["y"], [attribute_int("group", 1 << 62)])], [tensor("w", [4, 4, 1, 1], [1.0] * 16)],
    [value_info("x", [None, 4, 2, 2])], [value_info("y", [None, 4, 2, 2])]))

# Gemm whose C has a 0-sized axis ([0, 3] with no data) on a batch of one: C broadcast against [1, 3] to [0, 3],
# so the expanded C had no floats and sgemm (beta 1) wrote m·n = 3 floats into that empty array: Swift's shared
# empty-array storage, over the empty-Dictionary singleton after it (the likely cause of a later glibc
# "malloc(): smallbin double linked list corrupted" in a long fuzz run).
write("onnx-gemm-bias-empty-broadcast.onnx", model(
    [node("Gemm", ["x", "w", "c"], ["y"])], [tensor("w", [4, 3], [1.0] * 12), tensor("c", [0, 3], [])],
    [value_info("x", [None, 4])], [value_info("y", [None, 3])]))

# Two nodes writing the same tensor name (not SSA): the compiled CPU program sized the first node's output by the
# shape the second gave that name ([1, 1] here), so the MatMul's sgemm wrote 4 x 5 floats into a region of 16:
# heap corruption ("malloc(): invalid size", "munmap_chunk(): invalid pointer") found by a 300 s fuzz run (seed 9).
write("onnx-duplicate-output-name.onnx", model(
    [node("MatMul", ["x", "w"], ["y"]), node("ReduceSum", ["y"], ["y"])], [tensor("w", [4, 5], [1.0] * 20)],
    [value_info("x", [None, 4])], [value_info("y", [None, 5])]))
