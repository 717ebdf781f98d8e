// masking.cl: masked inputs made on the device from subset indices, and the scalar reward of each output row,
// so that the 2^n masked inputs never exist on the host and v is written straight into the engine's buffer.
//
//   mask_batch  out[j, e] = keep ? sample[e] : baseline[e] for subset s = start + j, where owner[e] is the player
//               of element e (−1: background) and keep = owner < 0 ? !maskBackground : bit owner of s.
//               One work item per output element; consecutive items write consecutive addresses.
//   reward      v[start + j] = f(z[j, :]) for one row of `classes` logits (float32); kinds: 0 log-odds
//               z_y − logsumexp_{c≠y} z_c, 1 logit z_y, 2 log-probability, 3 probability, 4 single-logit binary
//               (±z by the target). One work item per row; the host checks v for NaN/Inf afterwards.
// Precision: REAL (v's type) is float unless the host defines REAL=double and USE_FP64; inputs are float32.

#ifdef USE_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#pragma OPENCL FP_CONTRACT OFF // no fused multiply-add: host and device must round alike
#ifndef REAL
#define REAL float // element type of v; the host builds a second program with -DREAL=double -DUSE_FP64
#endif

__kernel void mask_batch(__global const float *sample, __global const float *baseline, __global const int *owner,
                         const uint size, const ulong start, const uint maskBackground, __global float *out) {
    const size_t gid = get_global_id(0);
    const size_t j = gid / size, e = gid % size;
    const int p = owner[e];
    const ulong s = start + j;
    const int keep = p < 0 ? !maskBackground : (int)((s >> p) & 1ul);
    out[gid] = keep ? sample[e] : baseline[e];
}

__kernel void reward(__global const float *z, const uint classes, const uint target, const uint kind, __global REAL *v,
                     const ulong start) {
    const size_t j = get_global_id(0);
    __global const float *row = z + j * classes;
    REAL result;
    if (kind == 4) {
        result = target == 1 ? (REAL)row[0] : -(REAL)row[0];
    } else if (kind == 1) {
        result = (REAL)row[target];
    } else {
        REAL m = -INFINITY, mo = -INFINITY;  // max over all classes, and over the other classes
        for (uint c = 0; c < classes; ++c) {
            m = fmax(m, (REAL)row[c]);
            if (c != target) mo = fmax(mo, (REAL)row[c]);
        }
        REAL sum = 0, sumo = 0;
        for (uint c = 0; c < classes; ++c) {
            sum += exp((REAL)row[c] - m);
            if (c != target) sumo += exp((REAL)row[c] - mo);
        }
        const REAL zy = (REAL)row[target];
        if (kind == 0) result = zy - (mo + log(sumo));
        else if (kind == 2) result = zy - (m + log(sum));
        else result = exp(zy - m) / sum;
    }
    v[start + j] = result;
}
