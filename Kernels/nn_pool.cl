// nn_pool.cl: pooling, reductions and (log-)softmax of the ONNX executor (Sources/HarsanyiOpenCL/OpenCLModel*.swift).
// Dense C-order float32 tensors under 2^31 elements (32-bit index arithmetic); one work item per output value (pool: per
// output row), global size = number of outputs (exact).
// Each work item accumulates in the same order as the CPU path (HarsanyiONNX/Ops+Pooling.swift, Ops+Reduce.swift).
//
//   pool_max, pool_avg  MaxPool / AveragePool over x [NC, inH, inW] -> y [NC, outH, outW] (1-D: inH = outH = kH = 1).
//                 One work item per output row (global size NC·outH): the index arithmetic is paid once per row, and
//                 rows whose windows all lie inside the input (no padding) run without bound checks.
//                 p (ints) = {inH, inW, outH, outW, kH, kW, sH, sW, dH, dW, padT, padL, padB, padR, isMax, includePad}
//                 (isMax is implied by the kernel.) reluIn: ReLU applied to each input value first (a Relu node
//                 fused into the pool that alone reads it: the same values as the two nodes compute).
//                 padT/padL: the resolved begin padding (auto_pad done on the host); padB/padR: the `pads`
//                 attribute's end values, which bound the cells count_include_pad counts (not the cells that
//                 ceil_mode adds). Windows with nothing counted divide by 1, as the CPU path does.
//   global_avg    y[nc] = Σ x[nc, 0..size) / size (GlobalAveragePool)
//   reduce        ReduceSum/Mean/Max over arbitrary axes. p (ints) = {keptRank, redRank, keptShape[MAX_RANK],
//                 keptStride[MAX_RANK], redShape[MAX_RANK], redStride[MAX_RANK]} (strides in the input); the
//                 reduced axes are walked in row-major order (the CPU path's order). op: 0 sum, 1 mean, 2 max.
//   softmax       over `n` values at stride `inner`: work item (o, i) normalises x[o·n·inner + j·inner + i],
//                 j < n; global size = outer·inner. logOut: LogSoftmax. (Opset < 13 is the case inner = 1 with
//                 n = the product of the trailing axes; the host chooses.)
// Softmax and pooling read their window serially: fine for the small axes of classifiers (≤ a few thousand).
// Precision: REAL is float unless the host defines REAL=double and USE_FP64. No fast-math; FP_CONTRACT off.

#ifdef USE_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#pragma OPENCL FP_CONTRACT OFF // no fused multiply-add: host and device must round alike
#ifndef REAL
#define REAL float // element type; the host builds a second program with -DREAL=double -DUSE_FP64
#endif

#define MAX_RANK 6

#define POOL_KERNEL(NAME, INIT, COMBINE, FINISH_INTERIOR)                                                                \
__kernel void NAME(__global const REAL *x, __global REAL *y, __global const int *p, const uint reluIn) {              \
    const int inH = p[0], inW = p[1], outH = p[2], outW = p[3], kH = p[4], kW = p[5], sH = p[6], sW = p[7], dH = p[8], \
              dW = p[9], padT = p[10], padL = p[11], padB = p[12], padR = p[13], includePad = p[15];                  \
        const uint row = get_global_id(0);                                                                               \
    const uint c = row / outH;                                                                                       \
    const int oy = row - c * outH;                                                                                   \
    __global const REAL *x_ = x + (size_t)c * inH * inW;                                                             \
    __global REAL *y_ = y + (size_t)row * outW;                                                                      \
    const int iy0 = oy * sH - padT;                                                                                  \
    /* Interior rows: every window lies inside the input, so no bound checks and n = kH·kW. */                      \
    if (iy0 >= 0 && iy0 + (kH - 1) * dH < inH && padL == 0 && (outW - 1) * sW + (kW - 1) * dW < inW) {             \
        const int n = kH * kW;                                                                                       \
        for (int ox = 0; ox < outW; ++ox) {                                                                          \
            __global const REAL *w_ = x_ + iy0 * inW + ox * sW;                                                      \
            REAL acc = INIT;                                                                                         \
            for (int ky = 0; ky < kH; ++ky)                                                                          \
                for (int kx = 0; kx < kW; ++kx) {                                                                    \
                    const REAL r = w_[ky * dH * inW + kx * dW], v = reluIn ? max(r, (REAL)0) : r;                    \
                    acc = COMBINE;                                                                                   \
                }                                                                                                    \
            y_[ox] = FINISH_INTERIOR;                                                                                \
        }                                                                                                            \
        return;                                                                                                      \
    }                                                                                                                \
    for (int ox = 0; ox < outW; ++ox) {                                                                              \
        REAL acc = INIT;                                                                                             \
        int n = 0;                                                                                                   \
        for (int ky = 0; ky < kH; ++ky) {                                                                            \
            const int iy = iy0 + ky * dH;                                                                            \
            const int rowIn = iy >= 0 && iy < inH;                                                                   \
            for (int kx = 0; kx < kW; ++kx) {                                                                        \
                const int ix = ox * sW - padL + kx * dW;                                                             \
                if (!rowIn || ix < 0 || ix >= inW) {                                                                 \
                    if (includePad && iy >= -padT && iy < inH + padB && ix >= -padL && ix < inW + padR) n += 1;      \
                    continue;                                                                                        \
                }                                                                                                    \
                const REAL r = x_[iy * inW + ix], v = reluIn ? max(r, (REAL)0) : r;                              \
                acc = COMBINE;                                                                                       \
                n += 1;                                                                                              \
            }                                                                                                        \
        }                                                                                                            \
        y_[ox] = FINISH_INTERIOR;                                                                                    \
    }                                                                                                                \
}
POOL_KERNEL(pool_max, -INFINITY, max(acc, v), acc)
POOL_KERNEL(pool_avg, (REAL)0, acc + v, acc / (REAL)max(n, 1))

__kernel void global_avg(__global const REAL *x, __global REAL *y, const uint size) {
    const size_t c = get_global_id(0);
    __global const REAL *x_ = x + c * size;
    REAL acc = 0;
    for (uint j = 0; j < size; ++j) acc += x_[j];
    y[c] = acc / (REAL)size;
}

__kernel void reduce(__global const REAL *x, __global REAL *y, __global const int *p, const uint op, const uint count) {
    const uint i = get_global_id(0);
    const int kr = p[0], rr = p[1];
    __global const int *kShape = p + 2, *kStride = p + 2 + MAX_RANK, *rShape = p + 2 + 2 * MAX_RANK,
                       *rStride = p + 2 + 3 * MAX_RANK;
    uint r = i, base = 0;
    for (int d = kr - 1; d >= 0; --d) {
        const uint n = kShape[d];
        base += (r % n) * kStride[d];
        r /= n;
    }
    REAL acc = op == 2 ? -INFINITY : (REAL)0;
    for (uint j = 0; j < count; ++j) {
        uint q = j, off = base;
        for (int d = rr - 1; d >= 0; --d) {
            const uint n = rShape[d];
            off += (q % n) * rStride[d];
            q /= n;
        }
        const REAL v = x[off];
        acc = op == 2 ? max(acc, v) : acc + v;
    }
    y[i] = op == 1 ? acc / (REAL)count : acc;
}

__kernel void softmax(__global const REAL *x, __global REAL *y, const uint n, const uint inner, const uint logOut) {
    const uint t = get_global_id(0);
    const uint base = (t / inner) * n * inner + t % inner;
    REAL m = -INFINITY;
    for (uint j = 0; j < n; ++j) m = max(m, x[base + j * inner]);
    REAL s = 0;
    for (uint j = 0; j < n; ++j) s += exp(x[base + j * inner] - m);
    const REAL ls = log(s);
    for (uint j = 0; j < n; ++j) {
        const REAL v = x[base + j * inner] - m;
        y[base + j * inner] = logOut ? v - ls : exp(v) / s;
    }
}
