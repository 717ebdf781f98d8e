// index_complement.cl: the index-complement steps that turn the four subset butterflies into the OR transform,
// its inverse and its transpose (see HarsanyiCore/SubsetTransform.swift for the recipes).
//
// Complementing a subset index, S -> N \ S, is i -> (2^n − 1) − i: a reversal of the array.
//   reverse_affine  a[i] <- scale · a[2^n − 1 − i] + offset, offset = Σ_j useScratch_j · scratch[j] (j = 0, 1)
//   fix_first       a[0] <- c0 · a[0] + c1 · scratch[0]
// Scalars that a step overwrites are saved beforehand into `scratch` with clEnqueueCopyBuffer, so nothing
// round-trips through the host. Precision: REAL as in subset_transform.cl.

#ifdef USE_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#pragma OPENCL FP_CONTRACT OFF // no fused multiply-add: host and device must round alike
#ifndef REAL
#define REAL float // element type; the host builds a second program with -DREAL=double -DUSE_FP64
#endif

// One work item per pair (i, count − 1 − i), i < count / 2; count is a power of two >= 2.
__kernel void reverse_affine(__global REAL *a, const ulong count, const REAL scale,
                             __global const REAL *scratch, const uint useScratch) {
    const size_t i = get_global_id(0);
    const size_t j = count - 1 - i;
    REAL offset = 0;
    if (useScratch & 1u) offset += scratch[0];
    if (useScratch & 2u) offset += scratch[1];
    const REAL x = a[i], y = a[j];
    a[i] = scale * y + offset;
    a[j] = scale * x + offset;
}

// A single work item.
__kernel void fix_first(__global REAL *a, __global const REAL *scratch, const REAL c0, const REAL c1) {
    a[0] = c0 * a[0] + c1 * scratch[0];
}
