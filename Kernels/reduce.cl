// reduce.cl: sums over device buffers, so a loss or a mean never needs the host.
//
//   sum_partial  partial[g] = Σ f(a[i]) (+ Σ f(b[i]) when hasB) over work group g's contiguous chunk,
//                f = |x| when useAbs else x; a tree in __local memory inside each group.
//   sum_final    out[index] = scale · Σ_g partial[g] (one work item; a fixed order, so results repeat).
// The host launches a fixed number of groups, so the summation order depends only on the launch shape.
// Precision: REAL is float unless the host defines REAL=double and USE_FP64.

#ifdef USE_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#pragma OPENCL FP_CONTRACT OFF // no fused multiply-add: host and device must round alike
#ifndef REAL
#define REAL float // element type; the host builds a second program with -DREAL=double -DUSE_FP64
#endif

__kernel void sum_partial(__global const REAL *a, __global const REAL *b, const ulong count, const uint useAbs,
                          const uint hasB, __global REAL *partial, __local REAL *scratch) {
    const size_t lid = get_local_id(0), wg = get_local_size(0), g = get_group_id(0), groups = get_num_groups(0);
    const size_t chunk = (count + groups - 1) / groups;
    const size_t start = g * chunk, end = min((size_t)count, start + chunk);
    REAL acc = 0;
    for (size_t i = start + lid; i < end; i += wg) {
        REAL x = a[i];
        acc += useAbs ? fabs(x) : x;
        if (hasB) {
            REAL y = b[i];
            acc += useAbs ? fabs(y) : y;
        }
    }
    scratch[lid] = acc;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (size_t s = wg / 2; s > 0; s >>= 1) {  // wg is a power of two
        if (lid < s) scratch[lid] += scratch[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0) partial[g] = scratch[0];
}

__kernel void sum_final(__global const REAL *partial, const uint groups, __global REAL *out, const uint index,
                        const REAL scale) {
    REAL s = 0;
    for (uint g = 0; g < groups; ++g) s += partial[g];
    out[index] = scale * s;
}
