// nn_layout.cl: normalisations over rows and data movement by index tables, for the ONNX executor
// (Sources/HarsanyiOpenCL/OpenCLModelLayout.swift). Dense C-order float tensors under 2^31 elements (the host
// checks), 32-bit index arithmetic. No fast-math; FP_CONTRACT off.
//
//   normalize_rows  LayerNormalization and InstanceNormalization: x viewed as [rows, block]; each row gets
//                   y = (x − μ)·(1/√(σ² + ε))·scale + bias, μ and σ² (biased) of the row, two passes
//                   (mean, then squared deviations: no cancellation). One work-group of NORM_LOCAL items per
//                   row (global size rows·NORM_LOCAL): strided loads across the group, a tree reduction in local
//                   memory.
//                   mode 0: scale[j], bias[j] per position j in the row (LayerNormalization, broadcast on the host);
//                   mode 1: scale[c], bias[c] per row, c = row % channels (InstanceNormalization).
//   index_copy      y[i] = x[idx[i]]: every operator that only moves data (Slice, Split, Expand, Tile, Gather with
//                   constant indices, nearest Resize/Upsample, Pad in reflect/edge/wrap mode). The host makes the
//                   table once per plan by running the operator's reference implementation on the input's flat
//                   indices. One work item per output element: writes coalesced, reads gathered.
#pragma OPENCL FP_CONTRACT OFF
#define MAX_RANK 6
#ifndef NORM_LOCAL
#define NORM_LOCAL 64 // work items per row; the host launches with exactly this local size
#endif

__kernel void normalize_rows(__global const float *x, __global float *y, __global const float *scale,
                             __global const float *bias, const uint block, const uint channels, const uint mode,
                             const float eps, const uint has_bias) {
    __local float part[NORM_LOCAL];
    const uint row = get_group_id(0), t = get_local_id(0);
    __global const float *xr = x + (size_t)row * block;
    __global float *yr = y + (size_t)row * block;
    float s = 0;
    for (uint j = t; j < block; j += NORM_LOCAL) s += xr[j];
    part[t] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint w = NORM_LOCAL / 2; w > 0; w >>= 1) {
        if (t < w) part[t] += part[t + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float mean = part[0] / (float)block;
    barrier(CLK_LOCAL_MEM_FENCE);
    float q = 0;
    for (uint j = t; j < block; j += NORM_LOCAL) {
        const float d = xr[j] - mean;
        q += d * d;
    }
    part[t] = q;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint w = NORM_LOCAL / 2; w > 0; w >>= 1) {
        if (t < w) part[t] += part[t + w];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float inv = 1.0f / sqrt(part[0] / (float)block + eps);
    const uint c = channels > 0 ? row % channels : 0;
    for (uint j = t; j < block; j += NORM_LOCAL) {
        const uint k = mode == 0 ? j : c;
        const float v = (xr[j] - mean) * inv * scale[k];
        yr[j] = has_bias ? v + bias[k] : v;
    }
}

__kernel void index_copy(__global const float *x, __global float *y, __global const int *idx) {
    const size_t i = get_global_id(0);
    y[i] = x[idx[i]];
}
