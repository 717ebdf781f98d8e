// Kronecker-structured operators over the 2^n subsets (bit i of an index = player i).
//
//   kron_pass   for one bit b, every pair (lo, hi) = (i, i | 2^b) with bit b clear in i:
//               (a[lo], a[hi]) <- (c00·a[lo] + c01·a[hi], c10·a[lo] + c11·a[hi])
//
// Applied once per bit b = 0..n−1 it computes (⊗_i m)·a for the 2 × 2 matrix m = [[c00, c01], [c10, c11]] (rows
// and columns: player absent, present): the noise-model solve of spec §10.1 (m = g⁻¹ = [[1+2σ², −1], [−1, 2]] /
// (1+4σ²)) and any other per-player 2 × 2 operator. One work item per pair: 2^(n−1) items per pass, each reading
// and writing two elements; for b ≥ 1 neighbouring items touch neighbouring addresses (coalesced on a GPU).
// Cost: n passes over memory, 6·n·2^(n−1) flops. Precision: REAL as in subset_transform.cl.

#ifdef USE_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#pragma OPENCL FP_CONTRACT OFF // no fused multiply-add: host and device must round alike
#ifndef REAL
#define REAL float // element type; the host builds a second program with -DREAL=double -DUSE_FP64
#endif

__kernel void kron_pass(__global REAL *a, const uint bit, const REAL c00, const REAL c01, const REAL c10,
                        const REAL c11) {
    const ulong i = get_global_id(0);
    const ulong low = i & ((1UL << bit) - 1UL);
    const ulong lo = ((i >> bit) << (bit + 1)) | low;
    const ulong hi = lo | (1UL << bit);
    const REAL x = a[lo], y = a[hi];
    a[lo] = c00 * x + c01 * y;
    a[hi] = c10 * x + c11 * y;
}
