// nn_elementwise.cl: elementwise and data-movement operators of the ONNX executor
// (Sources/HarsanyiOpenCLExecutor/OpenCLModel*.swift). One work item per output element (channel_affine,
// transpose_rows, copy_block: per row); the global size is exact, so every kernel reads `get_global_id(0)` without
// a bound check. Tensors are dense, C order (row-major), float32, each under 2^31 elements (the host checks), so
// index arithmetic is 32-bit (64-bit division is several times slower on CPU devices).
//
//   binary        y = a op b with numpy broadcasting; op: 0 Add, 1 Sub, 2 Mul, 3 Div, 4 Pow (b == 2: a·a), 5 Min,
//                 6 Max (NaN-propagating), 7 PRelu (a ≥ 0 ? a : a·b), 8 Equal, 9 Less, 10 Greater, 11 LessOrEqual,
//                 12 GreaterOrEqual, 13 And, 14 Or, 15 Xor (booleans as 0/1, any nonzero true); then ReLU when
//                 `relu` (fused). binary_same16 takes ops 0–3 only.
//   binary_same16 the same for equal shapes, 16 elements per work item (vector loads and stores).
//                 mode 0: general, p (ints) = {rank, shape[MAX_RANK], strideA[MAX_RANK], strideB[MAX_RANK]}
//                         (output shape; operand strides in that shape, 0 on broadcast axes; rank ≤ MAX_RANK)
//                 mode 1: a and b have the output's shape (the host launches binary_same16 for it);
//                 mode 2: b is one value;  mode 3: a is one value
//   unary         y = f(x); op: 0 Relu max(x, 0), 1 LeakyRelu (x ≥ 0 ? x : alpha·x), 2 Sigmoid (the CPU path's
//                 two-sided form), 3 Tanh
//   clip          y = min(max(x, lo), hi), lo = lob[0] when flags & 1 else −∞, hi = hib[0] when flags & 2 else +∞
//                 (bounds from buffers: they may be constants or graph inputs)
//   channel_affine  BatchNormalization (inference): y = (x − mean[c]) · a[c] + b[c], c = (i / inner) % C,
//                 with a = scale / sqrt(var + ε) computed once on the host as the CPU path does; then ReLU when
//                 `relu` (a fused Relu node). One work item per (n, c) row of `inner` values (global size N·C).
//   transpose     y[i] = x[Σ_d idx_d(i) · pstride_d]; p = {rank, outShape[MAX_RANK], inStridePermuted[MAX_RANK]}
//   transpose_rows  the same when the last axis stays last: one work item per output row (global size = rows)
//   copy_block    Concat: the input viewed as [outer, block] is written at column offset `offset` of the output
//                 viewed as [outer, outBlock]; one work item per row (global size outer)
//   copy          y = x
// Precision: REAL is float unless the host defines REAL=double and USE_FP64. No fast-math; FP_CONTRACT off.

#ifdef USE_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#pragma OPENCL FP_CONTRACT OFF // no fused multiply-add: host and device must round alike
#ifndef REAL
#define REAL float // element type; the host builds a second program with -DREAL=double -DUSE_FP64
#endif

#define MAX_RANK 6 // the host merges nothing and rejects higher ranks
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b) // CAT(REAL, 16): the vector type of REAL

inline REAL apply_binary(const uint op, const REAL x, const REAL y) {
    switch (op) {
    case 0: return x + y;
    case 1: return x - y;
    case 2: return x * y;
    case 3: return x / y;
    case 4: return y == 2 ? x * x : y == 1 ? x : pow(x, y);
    case 5: return isnan(x) || isnan(y) ? (REAL)NAN : fmin(x, y);
    case 6: return isnan(x) || isnan(y) ? (REAL)NAN : fmax(x, y);
    case 7: return x >= 0 ? x : x * y;
    case 8: return x == y ? 1 : 0;
    case 9: return x < y ? 1 : 0;
    case 10: return x > y ? 1 : 0;
    case 11: return x <= y ? 1 : 0;
    case 12: return x >= y ? 1 : 0;
    case 13: return (x != 0 && y != 0) ? 1 : 0;
    case 14: return (x != 0 || y != 0) ? 1 : 0;
    default: return ((x != 0) != (y != 0)) ? 1 : 0;
    }
}

inline REAL binary_general(const uint op, __global const REAL *a, __global const REAL *b, __global const int *p,
                           const size_t i) {
    const int rank = p[0];
    uint r = i, ia = 0, ib = 0;
    for (int d = rank - 1; d >= 0; --d) {
        const uint n = p[1 + d], q = r % n;
        r /= n;
        ia += q * p[1 + MAX_RANK + d];
        ib += q * p[1 + 2 * MAX_RANK + d];
    }
    return apply_binary(op, a[ia], b[ib]);
}

__kernel void binary(__global const REAL *a, __global const REAL *b, __global REAL *y, __global const int *p,
                     const uint op, const uint mode, const uint relu) {
    const size_t i = get_global_id(0);
    REAL r;
    if (mode == 1) r = apply_binary(op, a[i], b[i]);
    else if (mode == 2) r = apply_binary(op, a[i], b[0]);
    else if (mode == 3) r = apply_binary(op, a[0], b[i]);
    else r = binary_general(op, a, b, p, i);
    y[i] = relu ? max(r, (REAL)0) : r;
}

// binary with mode 1 (equal shapes), 16 elements per work item (global size ceil(count / 16)).
__kernel void binary_same16(__global const REAL *a, __global const REAL *b, __global REAL *y, const uint count,
                            const uint op, const uint relu) {
    const uint i0 = get_global_id(0) * 16;
    if (i0 + 16 <= count) {
        const CAT(REAL, 16) x = vload16(0, a + i0), z = vload16(0, b + i0);
        CAT(REAL, 16) r = op == 0 ? x + z : op == 1 ? x - z : op == 2 ? x * z : x / z;
        if (relu) r = max(r, (CAT(REAL, 16))0);
        vstore16(r, 0, y + i0);
        return;
    }
    for (uint i = i0; i < count; ++i) {
        const REAL r = apply_binary(op, a[i], b[i]);
        y[i] = relu ? max(r, (REAL)0) : r;
    }
}

__kernel void unary(__global const REAL *x, __global REAL *y, const uint op, const REAL alpha) {
    const size_t i = get_global_id(0);
    const REAL v = x[i];
    REAL r;
    switch (op) {
    case 0: r = max(v, (REAL)0); break;
    case 1: r = v >= 0 ? v : alpha * v; break;
    case 2: r = v >= 0 ? 1 / (1 + exp(-v)) : exp(v) / (1 + exp(v)); break;
    default: r = tanh(v); break;
    }
    y[i] = r;
}

__kernel void clip(__global const REAL *x, __global REAL *y, __global const REAL *lob, __global const REAL *hib,
                   const uint flags) {
    const size_t i = get_global_id(0);
    const REAL lo = (flags & 1u) ? lob[0] : -INFINITY, hi = (flags & 2u) ? hib[0] : INFINITY;
    y[i] = min(max(x[i], lo), hi);
}

__kernel void channel_affine(__global const REAL *x, __global REAL *y, __global const REAL *mean,
                             __global const REAL *a, __global const REAL *b, const uint C, const uint inner,
                             const uint relu) {
    const uint row = get_global_id(0), c = row % C;
    const REAL m = mean[c], s = a[c], t = b[c];
    __global const REAL *x_ = x + (size_t)row * inner;
    __global REAL *y_ = y + (size_t)row * inner;
    for (uint i = 0; i < inner; ++i) {
        const REAL v = (x_[i] - m) * s + t;
        y_[i] = relu ? max(v, (REAL)0) : v;
    }
}

__kernel void transpose(__global const REAL *x, __global REAL *y, __global const int *p) {
    const size_t i = get_global_id(0);
    const int rank = p[0];
    uint r = i, src = 0;
    for (int d = rank - 1; d >= 0; --d) {
        const uint n = p[1 + d];
        src += (r % n) * p[1 + MAX_RANK + d];
        r /= n;
    }
    y[i] = x[src];
}

// The last axis kept in place (p as transpose, rank ≥ 2): one work item per output row of `len` values, a
// contiguous copy from the input (its last stride is 1).
__kernel void transpose_rows(__global const REAL *x, __global REAL *y, __global const int *p, const uint len) {
    const uint row = get_global_id(0);
    const int rank = p[0];
    uint r = row, src = 0;
    for (int d = rank - 2; d >= 0; --d) {
        const uint n = p[1 + d];
        src += (r % n) * p[1 + MAX_RANK + d];
        r /= n;
    }
    __global const REAL *x_ = x + src;
    __global REAL *y_ = y + (size_t)row * len;
    for (uint i = 0; i < len; ++i) y_[i] = x_[i];
}

__kernel void copy_block(__global const REAL *x, __global REAL *y, const uint block, const uint outBlock,
                         const uint offset) {
    const uint row = get_global_id(0);
    __global const REAL *x_ = x + (size_t)row * block;
    __global REAL *y_ = y + (size_t)row * outBlock + offset;
    for (uint i = 0; i < block; ++i) y_[i] = x_[i];
}

__kernel void copy(__global const REAL *x, __global REAL *y) {
    const size_t i = get_global_id(0);
    y[i] = x[i];
}
