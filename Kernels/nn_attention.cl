// nn_attention.cl: scaled dot-product attention in one kernel, for the chains the OpenCL executor fuses
// (Sources/HarsanyiOpenCLExecutor/OpenCLModelAttention.swift): MatMul(Q, Kt) → Mul or Div by a constant → Add of up
// to two masks → Softmax over the keys → MatMul with V, as BERT, GPT-2, Llama and OPT exports write it.
//
//   attention   y[g, i, c] = Σ_j p_ij · V[g, j, c],  p_ij = e_ij / Σ_j e_ij,  e_ij = exp(s_ij − max_j s_ij),
//               s_ij = (Σ_k Q[g, i, k] · Kt[g, k, j]) ∘ scale + M0[r0[g·L + i] + j·s0] + M1[r1[g·L + i] + j·s1],
//               ∘ a product (divide = 0) or a quotient (divide = 1), as the graph's Mul or Div; `masks` (0–2) of
//               the M terms. Q [G, L, d], Kt [G, d, Lk], V [G, Lk, dv], y [G, L, dv], C order; the masks are
//               read through row offsets r (G·L ints, the host's broadcast of each mask to [G, L, Lk]) and the
//               key stride s (0 or 1). The same values as the unfused kernels: each s_ij sums over k in order,
//               the probabilities are e_ij divided by the row sum (as nn_pool.cl's softmax), then weighted.
//               One work-group of ATT_LOCAL items per query row (global size G·L·ATT_LOCAL): items stride over the
//               keys (Kt reads coalesced across j) and then over V's columns (V reads coalesced across c); the
//               row of scores lives in local memory (Lk ≤ ATT_MAX_KEYS), max and sum by tree reductions.
// No fast-math; FP_CONTRACT off (no fused multiply-add: host and device round alike).
#pragma OPENCL FP_CONTRACT OFF
#ifndef ATT_LOCAL
#define ATT_LOCAL 32 // work items per query row; the host launches with exactly this local size
#endif
#ifndef ATT_MAX_KEYS
#define ATT_MAX_KEYS 1024 // the longest key sequence fused (4 KiB of local memory)
#endif

__kernel void attention(__global const float *q, __global const float *kt, __global const float *v,
                        __global float *y, __global const float *m0, __global const int *r0, const uint s0,
                        __global const float *m1, __global const int *r1, const uint s1, const uint masks,
                        const float scale, const uint divide, const uint L, const uint Lk, const uint d,
                        const uint dv) {
    __local float p[ATT_MAX_KEYS];
    __local float part[ATT_LOCAL];
    const uint row = get_group_id(0), t = get_local_id(0);
    const uint g = row / L;
    __global const float *qr = q + (size_t)row * d;
    __global const float *kg = kt + (size_t)g * d * Lk;
    __global const float *vg = v + (size_t)g * Lk * dv;
    float mx = -INFINITY;
    for (uint j = t; j < Lk; j += ATT_LOCAL) {
        float s = 0;
        for (uint k = 0; k < d; ++k) s += qr[k] * kg[(size_t)k * Lk + j];
        s = divide ? s / scale : s * scale;
        if (masks > 0) s += m0[r0[row] + j * s0];
        if (masks > 1) s += m1[r1[row] + j * s1];
        p[j] = s;
        mx = fmax(mx, s);
    }
    part[t] = mx;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint w = ATT_LOCAL / 2; w > 0; w >>= 1) {
        if (t < w) part[t] = fmax(part[t], part[t + w]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    mx = part[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    float sum = 0;
    for (uint j = t; j < Lk; j += ATT_LOCAL) {
        const float e = exp(p[j] - mx);
        p[j] = e;
        sum += e;
    }
    part[t] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint w = ATT_LOCAL / 2; w > 0; w >>= 1) {
        if (t < w) part[t] += part[t + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float total = part[0];
    for (uint c = t; c < dv; c += ATT_LOCAL) {
        float acc = 0;
        for (uint j = 0; j < Lk; ++j) acc += (p[j] / total) * vg[(size_t)j * dv + c];
        y[(size_t)row * dv + c] = acc;
    }
}
