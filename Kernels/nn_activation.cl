// nn_activation.cl: the activations and elementwise math of today's CNNs and transformers, for the ONNX executor
// (Sources/HarsanyiOpenCL/OpenCLModelActivations.swift). One work item per output element, exact global size
// (no bound checks); dense C-order float tensors under 2^31 elements, so index arithmetic is 32-bit.
//
//   activation    y = f(x), op (the host's table Planner.activationCodes):
//                  0 Exp  1 Log  2 Sqrt  3 Reciprocal  4 Abs  5 Neg  6 Erf  7 Gelu x/2·(1 + erf(x/√2))
//                  8 Gelu tanh form x/2·(1 + tanh(√(2/π)(x + 0.044715x³)))  9 HardSigmoid max(0, min(1, a·x + b))
//                 10 HardSwish x·max(0, min(1, x/6 + 1/2))  11 Softplus log(1 + eˣ) (stable form)
//                 12 Mish x·tanh(softplus(x))  13 Elu (x ≥ 0 ? x : a(eˣ − 1))  14 Floor  15 Ceil  16 Sin  17 Cos
//                 18 Softsign x/(1 + |x|)  19 Sign  20 Selu b·(x > 0 ? x : a(eˣ − 1))  21 Not (x == 0)
//   (Pow, Min, Max, PRelu, comparisons and logic are ops of nn_elementwise.cl's `binary`.)
//   where_select  Where: y = c ≠ 0 ? a : b with three-way broadcasting, p = {rank, shape, strideC, strideA, strideB}
// Accuracy: OpenCL's built-in exp/log/erf/tanh (≤ 4 ulp in the OpenCL 1.2 full profile) against the reference's
// Double-then-round; the tests hold both to onnxruntime. No fast-math; FP_CONTRACT off.
#pragma OPENCL FP_CONTRACT OFF
#define MAX_RANK 6

inline float softplus_f(const float x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

__kernel void activation(__global const float *x, __global float *y, const uint op, const float a, const float b) {
    const size_t i = get_global_id(0);
    const float v = x[i];
    float r;
    switch (op) {
    case 0: r = exp(v); break;
    case 1: r = log(v); break;
    case 2: r = sqrt(v); break;
    case 3: r = 1.0f / v; break;
    case 4: r = fabs(v); break;
    case 5: r = -v; break;
    case 6: r = erf(v); break;
    case 7: r = 0.5f * v * (1.0f + erf(v * 0.70710678118654752f)); break;
    case 8: r = 0.5f * v * (1.0f + tanh(0.79788456080286536f * (v + 0.044715f * v * v * v))); break;
    case 9: r = fmax(0.0f, fmin(1.0f, a * v + b)); break;
    case 10: r = v * fmax(0.0f, fmin(1.0f, v / 6.0f + 0.5f)); break;
    case 11: r = softplus_f(v); break;
    case 12: r = v * tanh(softplus_f(v)); break;
    case 13: r = v >= 0 ? v : a * expm1(v); break;
    case 14: r = floor(v); break;
    case 15: r = ceil(v); break;
    case 16: r = sin(v); break;
    case 17: r = cos(v); break;
    case 18: r = v / (1.0f + fabs(v)); break;
    case 19: r = v > 0 ? 1.0f : v < 0 ? -1.0f : 0.0f; break;
    case 20: r = b * (v > 0 ? v : a * expm1(v)); break;
    default: r = v == 0 ? 1.0f : 0.0f; break;
    }
    y[i] = r;
}

__kernel void where_select(__global const float *c, __global const float *a, __global const float *b, __global float *y,
                     __global const int *p) {
    const size_t i = get_global_id(0);
    const int rank = p[0];
    uint r = i, ic = 0, ia = 0, ib = 0;
    for (int d = rank - 1; d >= 0; --d) {
        const uint n = p[1 + d], q = r % n;
        r /= n;
        ic += q * p[1 + MAX_RANK + d];
        ia += q * p[1 + 2 * MAX_RANK + d];
        ib += q * p[1 + 3 * MAX_RANK + d];
    }
    y[i] = c[ic] != 0 ? a[ia] : b[ib];
}
