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
//              (a 256 KiB tile stays in cache). Data unit: a 16-wide vector (one 64-byte line of floats);
//              bits 0..3 inside it by shuffle + select, fused with the first radix-4 stage across vectors.
//   <op>_rows  (CPU devices) bits [lo, lo+k), lo >= 4: one work group of one item per block of VC vectors in
//              each of 2^k rows of stride 2^lo. Rows that far apart share cache sets, so the block is gathered
//              into contiguous __local scratch (2^k · VC vectors), transformed with radix-4 stages, scattered back.
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

#ifdef USE_FP64
typedef double16 VEC;
typedef long16 VMASK;
typedef ulong16 VPERM;
#else
typedef float16 VEC;
typedef int16 VMASK;
typedef uint16 VPERM;
#endif

// Lane permutations i -> i ^ b and the lanes with bit b set, for the bits inside a 16-wide vector.
#define PERM1 ((VPERM)(1, 0, 3, 2, 5, 4, 7, 6, 9, 8, 11, 10, 13, 12, 15, 14))
#define PERM2 ((VPERM)(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13))
#define PERM4 ((VPERM)(4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11))
#define PERM8 ((VPERM)(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7))
#define MSET1 ((VMASK)(0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1, 0, -1))
#define MSET2 ((VMASK)(0, 0, -1, -1, 0, 0, -1, -1, 0, 0, -1, -1, 0, 0, -1, -1))
#define MSET4 ((VMASK)(0, 0, 0, 0, -1, -1, -1, -1, 0, 0, 0, 0, -1, -1, -1, -1))
#define MSET8 ((VMASK)(0, 0, 0, 0, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1))

// The butterfly on bit b inside a vector: the lanes that change take their partner lane through a shuffle.
#define VSTEP_mobius(x, b) x = select(x, x - shuffle(x, PERM##b), MSET##b)
#define VSTEP_zeta(x, b) x = select(x, x + shuffle(x, PERM##b), MSET##b)
#define VSTEP_mobius_sup(x, b) x = select(x, x - shuffle(x, PERM##b), ~MSET##b)
#define VSTEP_zeta_sup(x, b) x = select(x, x + shuffle(x, PERM##b), ~MSET##b)
#define VSTEPS(OP, x) VSTEP_##OP(x, 1); VSTEP_##OP(x, 2); VSTEP_##OP(x, 4); VSTEP_##OP(x, 8)

#define BFLY_mobius(lo, hi) ((hi) -= (lo))
#define BFLY_zeta(lo, hi) ((hi) += (lo))
#define BFLY_mobius_sup(lo, hi) ((lo) -= (hi))
#define BFLY_zeta_sup(lo, hi) ((lo) += (hi))

// Radix-4 on four values x0..x3 at offsets 0, s, 2s, 3s: bit b then bit b+1.
#define RADIX4(OP, x0, x1, x2, x3) \
    BFLY_##OP(x0, x1); BFLY_##OP(x2, x3); BFLY_##OP(x0, x2); BFLY_##OP(x1, x3)

#define DEFINE_SUBSET_TRANSFORM(OP)                                                             \
__kernel void OP##_tile(__global REAL *a, const uint L) {                                        \
    if (L < 4) { /* tiny transforms (n < 4): scalar loops */                                     \
        __global REAL *t = a;                                                                   \
        for (uint s = 1; s < (1u << L); s <<= 1)                                                \
            for (uint i = 0; i < (1u << L); ++i)                                                \
                if ((i & s) == 0) BFLY_##OP(t[i], t[i | s]);                                    \
        return;                                                                                 \
    }                                                                                           \
    __global VEC *t = (__global VEC *)(a + ((size_t)get_global_id(0) << L));                    \
    const uint len = 1u << (L - 4), vbits = L - 4;                                              \
    uint b = 0;                                                                                 \
    if (vbits >= 2) { /* bits 0..5: lanes of 4 consecutive vectors, then radix-4 across them */ \
        for (uint j = 0; j < len; j += 4) {                                                     \
            VEC x0 = t[j], x1 = t[j + 1], x2 = t[j + 2], x3 = t[j + 3];                         \
            VSTEPS(OP, x0); VSTEPS(OP, x1); VSTEPS(OP, x2); VSTEPS(OP, x3);                     \
            RADIX4(OP, x0, x1, x2, x3);                                                         \
            t[j] = x0; t[j + 1] = x1; t[j + 2] = x2; t[j + 3] = x3;                             \
        }                                                                                       \
        b = 2;                                                                                  \
    } else {                                                                                    \
        for (uint j = 0; j < len; ++j) { VEC x = t[j]; VSTEPS(OP, x); t[j] = x; }               \
    }                                                                                           \
    for (; b + 1 < vbits; b += 2) {                                                             \
        const uint s = 1u << b;                                                                 \
        for (uint base = 0; base < len; base += 4 * s)                                          \
            for (uint j = base; j < base + s; ++j) {                                            \
                VEC x0 = t[j], x1 = t[j + s], x2 = t[j + 2 * s], x3 = t[j + 3 * s];             \
                RADIX4(OP, x0, x1, x2, x3);                                                     \
                t[j] = x0; t[j + s] = x1; t[j + 2 * s] = x2; t[j + 3 * s] = x3;                 \
            }                                                                                   \
    }                                                                                           \
    if (b < vbits) {                                                                            \
        const uint s = 1u << b;                                                                 \
        for (uint j = 0; j < s; ++j) BFLY_##OP(t[j], t[j + s]);                                 \
    }                                                                                           \
}                                                                                               \
                                                                                                \
__kernel void OP##_rows(__global REAL *a, const uint lo, const uint k, const uint VC,            \
                        __local VEC *buf) {                                                     \
    const size_t rowVecs = ((size_t)1 << lo) / 16;                                              \
    const size_t chunks = rowVecs / VC;                                                         \
    const size_t gid = get_global_id(0);                                                        \
    __global VEC *t = (__global VEC *)a + ((gid / chunks) << (lo + k - 4)) + (gid % chunks) * VC;\
    const uint rows = 1u << k;                                                                  \
    for (uint r = 0; r < rows; ++r)                                                             \
        for (uint c = 0; c < VC; ++c) buf[r * VC + c] = t[r * rowVecs + c];                     \
    uint b = 0;                                                                                 \
    for (; b + 1 < k; b += 2) {                                                                 \
        const uint s = VC << b;                                                                 \
        for (uint r = 0; r < rows; r += 4u << b)                                                \
            for (uint j = r * VC; j < (r + (1u << b)) * VC; ++j) {                              \
                VEC x0 = buf[j], x1 = buf[j + s], x2 = buf[j + 2 * s], x3 = buf[j + 3 * s];     \
                RADIX4(OP, x0, x1, x2, x3);                                                     \
                buf[j] = x0; buf[j + s] = x1; buf[j + 2 * s] = x2; buf[j + 3 * s] = x3;         \
            }                                                                                   \
    }                                                                                           \
    if (b < k) {                                                                                \
        const uint s = VC << b;                                                                 \
        for (uint r = 0; r < rows; r += 2u << b)                                                \
            for (uint j = r * VC; j < (r + (1u << b)) * VC; ++j) BFLY_##OP(buf[j], buf[j + s]); \
    }                                                                                           \
    for (uint r = 0; r < rows; ++r)                                                             \
        for (uint c = 0; c < VC; ++c) t[r * rowVecs + c] = buf[r * VC + c];                     \
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
