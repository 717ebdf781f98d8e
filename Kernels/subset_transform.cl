// subset_transform.cl: in-place fast subset transforms over 2^n values (index bit i = player i).
//
// Four butterflies, each applied once per bit b to every pair (lo, hi) = (i, i | 2^b) with bit b clear in i:
//   mobius       (AND, Möbius over subsets)        hi -= lo    I(S) = Σ_{T⊆S} (−1)^{|S|−|T|} v(T)
//   zeta         (inverse of mobius, subset sums)   hi += lo    v(S) = Σ_{T⊆S} I(T)
//   mobius_sup   (transpose of mobius)              lo -= hi    g(T) = Σ_{S⊇T} (−1)^{|S|−|T|} s(S)
//   zeta_sup     (superset sums)                    lo += hi    z(T) = Σ_{S⊇T} s(S)
// The bits commute, so any grouping of bits into passes gives the same result. Every butterfly is one exact
// add or subtract per element and per bit: no fast-math, no contraction (the alternating sums cancel).
//
// Kernel variants, chosen by the host per device type (both are correct everywhere):
//   <op>_tile  (CPU devices) one work item per contiguous tile of 2^L values, all bits < L, in place with loops
//              (a 256 KiB tile stays in cache; radix-16 on bits 0..3, then radix-4 stages).
//   <op>_rows  (CPU devices) bits [lo, lo+k): one work item per block of C contiguous columns in 2^k rows of
//              stride 2^lo, radix-4 stages in place (the block stays in L1/L2). Needs C | 2^lo.
//   <op>_local (GPU devices) one work group per tile of 2^L values staged in __local memory, one barrier per bit.
//   <op>_reg   (GPU devices) bits [lo, lo+k), k <= RADIX_BITS: one work item per column, 2^k values in registers;
//              adjacent work items touch adjacent addresses (coalesced).
// Precision: REAL is float unless the host defines REAL=double and USE_FP64 (device must report cl_khr_fp64).

#ifdef USE_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#pragma OPENCL FP_CONTRACT OFF // no fused multiply-add: host and device must round alike
#ifndef REAL
#define REAL float // element type; the host builds a second program with -DREAL=double -DUSE_FP64
#endif
#ifndef RADIX_BITS
#define RADIX_BITS 4 // bits per <op>_reg pass: 16 values held in registers per work item
#endif

#define BFLY_mobius(lo, hi) ((hi) -= (lo))
#define BFLY_zeta(lo, hi) ((hi) += (lo))
#define BFLY_mobius_sup(lo, hi) ((lo) -= (hi))
#define BFLY_zeta_sup(lo, hi) ((lo) += (hi))

// Radix-4 on four values x0..x3 at offsets 0, s, 2s, 3s: bit b then bit b+1.
#define RADIX4(OP, x0, x1, x2, x3) \
    BFLY_##OP(x0, x1); BFLY_##OP(x2, x3); BFLY_##OP(x0, x2); BFLY_##OP(x1, x3)

#define DEFINE_SUBSET_TRANSFORM(OP)                                                             \
__kernel void OP##_tile(__global REAL *a, const uint L) {                                        \
    __global REAL *t = a + ((size_t)get_global_id(0) << L);                                      \
    const uint len = 1u << L;                                                                   \
    uint b = 0;                                                                                 \
    if (L >= 4) {                                                                               \
        for (uint g = 0; g < len; g += 16) {                                                    \
            REAL x[16];                                                                         \
            for (uint i = 0; i < 16; ++i) x[i] = t[g + i];                                      \
            for (uint s = 1; s < 16; s <<= 1)                                                   \
                for (uint i = 0; i < 16; ++i)                                                   \
                    if ((i & s) == 0) BFLY_##OP(x[i], x[i | s]);                                \
            for (uint i = 0; i < 16; ++i) t[g + i] = x[i];                                      \
        }                                                                                       \
        b = 4;                                                                                  \
    }                                                                                           \
    for (; b + 1 < L; b += 2) {                                                                 \
        const uint s = 1u << b;                                                                 \
        for (uint base = 0; base < len; base += 4 * s)                                          \
            for (uint j = base; j < base + s; ++j) {                                            \
                REAL x0 = t[j], x1 = t[j + s], x2 = t[j + 2 * s], x3 = t[j + 3 * s];            \
                RADIX4(OP, x0, x1, x2, x3);                                                     \
                t[j] = x0; t[j + s] = x1; t[j + 2 * s] = x2; t[j + 3 * s] = x3;                 \
            }                                                                                   \
    }                                                                                           \
    if (b < L) {                                                                                \
        const uint s = 1u << b;                                                                 \
        for (uint j = 0; j < s; ++j) BFLY_##OP(t[j], t[j + s]);                                 \
    }                                                                                           \
}                                                                                               \
                                                                                                \
__kernel void OP##_rows(__global REAL *a, const uint lo, const uint k, const uint C) {           \
    const size_t chunks = ((size_t)1 << lo) / C;                                                \
    const size_t gid = get_global_id(0);                                                        \
    __global REAL *t = a + ((gid / chunks) << (lo + k)) + (gid % chunks) * C;                   \
    const size_t stride = (size_t)1 << lo;                                                      \
    const uint rows = 1u << k;                                                                  \
    uint b = 0;                                                                                 \
    for (; b + 1 < k; b += 2) {                                                                 \
        const size_t s = stride << b;                                                           \
        for (uint r = 0; r < rows; r += 4u << b)                                                \
            for (uint q = r; q < r + (1u << b); ++q) {                                          \
                __global REAL *p = t + q * stride;                                              \
                for (uint c = 0; c < C; ++c) {                                                  \
                    REAL x0 = p[c], x1 = p[c + s], x2 = p[c + 2 * s], x3 = p[c + 3 * s];        \
                    RADIX4(OP, x0, x1, x2, x3);                                                 \
                    p[c] = x0; p[c + s] = x1; p[c + 2 * s] = x2; p[c + 3 * s] = x3;             \
                }                                                                               \
            }                                                                                   \
    }                                                                                           \
    if (b < k) {                                                                                \
        const size_t s = stride << b;                                                           \
        for (uint r = 0; r < rows; r += 2u << b)                                                \
            for (uint q = r; q < r + (1u << b); ++q) {                                          \
                __global REAL *p = t + q * stride;                                              \
                for (uint c = 0; c < C; ++c) BFLY_##OP(p[c], p[c + s]);                         \
            }                                                                                   \
    }                                                                                           \
}                                                                                               \
                                                                                                \
__kernel void OP##_local(__global REAL *a, const uint L, __local REAL *tile) {                   \
    const size_t len = (size_t)1 << L;                                                          \
    __global REAL *t = a + get_group_id(0) * len;                                               \
    const size_t lid = get_local_id(0), wg = get_local_size(0);                                 \
    for (size_t i = lid; i < len; i += wg) tile[i] = t[i];                                      \
    barrier(CLK_LOCAL_MEM_FENCE);                                                               \
    for (uint b = 0; b < L; ++b) {                                                              \
        const size_t s = (size_t)1 << b;                                                        \
        for (size_t p = lid; p < len / 2; p += wg) {                                            \
            const size_t i = ((p >> b) << (b + 1)) | (p & (s - 1));                             \
            BFLY_##OP(tile[i], tile[i | s]);                                                    \
        }                                                                                       \
        barrier(CLK_LOCAL_MEM_FENCE);                                                           \
    }                                                                                           \
    for (size_t i = lid; i < len; i += wg) t[i] = tile[i];                                      \
}                                                                                               \
                                                                                                \
__kernel void OP##_reg(__global REAL *a, const uint lo, const uint k) {                          \
    const size_t gid = get_global_id(0);                                                        \
    const size_t stride = (size_t)1 << lo;                                                      \
    __global REAL *t = a + ((gid >> lo) << (lo + k)) + (gid & (stride - 1));                    \
    const uint rows = 1u << k;                                                                  \
    REAL x[1 << RADIX_BITS];                                                                    \
    for (uint r = 0; r < rows; ++r) x[r] = t[r * stride];                                       \
    for (uint s = 1; s < rows; s <<= 1)                                                         \
        for (uint r = 0; r < rows; ++r)                                                         \
            if ((r & s) == 0) BFLY_##OP(x[r], x[r | s]);                                        \
    for (uint r = 0; r < rows; ++r) t[r * stride] = x[r];                                       \
}

DEFINE_SUBSET_TRANSFORM(mobius)
DEFINE_SUBSET_TRANSFORM(zeta)
DEFINE_SUBSET_TRANSFORM(mobius_sup)
DEFINE_SUBSET_TRANSFORM(zeta_sup)
