// nn_gemm.cl: matrix products of the ONNX executor (Sources/HarsanyiOpenCL/OpenCLModel*.swift): Gemm, MatMul
// and Conv, all on one tiled scheme with __local tiles and a register tile per work item.
//
//   gemm         Y[z](i, j) = act(alpha · Σ_k A[z](i, k) · B[z](k, j) + beta · C[z](i, j))   for z < batch
//                Every operand is addressed through strides, so transA/transB, row/column/full/scalar broadcast
//                of C (stride 0) and MatMul's batch (a batch stride; 0 for a broadcast operand) need no copies:
//                  A[z](i, k) = A[offA + z·bsA + i·sAm + k·sAk]      (same for B with sBk, sBn; C with sCm, sCn)
//                  Y[z](i, j) = Y[offY + z·bsY + i·ldY + j]
//                flags: 1 = add beta·C, 2 = ReLU (fused Relu node), 4 = A contiguous along k (sAk = 1),
//                       8 = B contiguous along k (sBk = 1); bits 4/8 only pick the tile-load order that coalesces.
//   conv_igemm   Conv as an implicit GEMM (no im2col buffer): per group g, rows = output channels of g (Mg),
//                columns = (batch, oy, ox) flattened (N = batch·outH·outW), k = (ci, ky, kx) (K = Cg·kH·kW).
//                  A = W[(g·Mg + i)·K + k] (ONNX weight layout [M, Cg, kH, kW], contiguous)
//                  B(k, (b, oy, ox)) = X[b, g·Cg + ci, oy·sH − padT + ky·dH, ox·sW − padL + kx·dW] (0 outside)
//                  Y[b, g·Mg + i, oy, ox] (NCHW);   bias[g·Mg + i] added when flags & 1; ReLU when flags & 2.
//                ktab (host-made, 3 ints per k): channel offset ci·inH·inW, ky·dH, kx·dW, so the inner loop
//                has no divisions. 1-D convolution is the case inH = kH = 1.
//   conv_direct  The same convolution, one work item per output pixel computing all its output channels (plain
//                loops over Cg·kH·kW): for depthwise and other small groups where a GEMM tile would be mostly padding.
//   gemm_config  Writes the tile sizes compiled in (TS_M, TS_N, TS_K, threads per group, CONV_PX_NARROW, CONV_ROW,
//                CONV_PX_WIDE), so the host always
//                launches what the kernels were built with (the defaults below may be tuned per device).
//
// Launch (gemm, conv_igemm): 1-D, local size GEMM_THREADS, one work group per TS_M × TS_N output tile;
// group id = (z · tilesN·tilesM) + tileM · tilesN + tileN, z = batch item (gemm) or conv group (conv_igemm).
// Work item (tm, tn) owns rows tm + r·(TS_M/WPT_M) and columns tn + c·(TS_N/WPT_N) of the tile: neighbouring
// work items write neighbouring columns (coalesced stores) and read neighbouring __local words.
// Any M, N, K ≥ 0 (edges are zero-filled in the tiles and not stored). Indices are 32-bit within one operand
// (host checks each buffer < 2^31 elements); offsets are ulong.
// Tile defaults: measured on PoCL (2-core AVX-512) with the digits models, where a conv group has 8–32 output
// channels: 16 × 64 × 16 with 2 × 4 values per work item (128 work items) ran the implicit-GEMM convolutions 2–4×
// faster than 32 × 64 with 4 × 4. Larger M (big Gemm layers on a GPU) would prefer 64 × 64 with 4 × 4 or more.
// float32 executor; REAL stays a macro like the other kernel files. No fast-math; FP_CONTRACT off.

#ifdef USE_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#pragma OPENCL FP_CONTRACT OFF // no fused multiply-add: host and device must round alike
#ifndef REAL
#define REAL float // element type; the host builds a second program with -DREAL=double -DUSE_FP64
#endif

#ifndef TS_M
#define TS_M 16 // rows of an output tile (output channels of a conv group: often few)
#endif
#ifndef TS_N
#define TS_N 64 // columns of an output tile
#endif
#ifndef TS_K
#define TS_K 16 // depth of the A and B tiles in __local memory
#endif
#ifndef WPT_M
#define WPT_M 2 // rows per work item
#endif
#ifndef WPT_N
#define WPT_N 4 // columns per work item
#endif
#define RT_M (TS_M / WPT_M) // work items along the rows of a tile
#define RT_N (TS_N / WPT_N) // work items along the columns
#define GEMM_THREADS (RT_M * RT_N)
#define PAD 1 // breaks __local bank conflicts of the column reads
#if (GEMM_THREADS % TS_N) != 0 || (TS_M % WPT_M) != 0 || (TS_N % WPT_N) != 0
#error "nn_gemm.cl: TS_M, TS_N must be multiples of WPT_M, WPT_N, and the work-group size a multiple of TS_N"
#endif

#define CONV_PX_NARROW 4 // output columns per work item in conv_vec*, conv_vec_pool*
#define CONV_PX_WIDE 8   // ... in the *_w8 forms (rows of 8 or more columns)
#define CONV_PX CONV_PX_NARROW
#ifndef CONV_ROW
#define CONV_ROW 64 // longest input row segment conv_vec holds in private memory
#endif

__kernel void gemm_config(__global int *out) {
    out[0] = TS_M;
    out[1] = TS_N;
    out[2] = TS_K;
    out[3] = GEMM_THREADS;
    out[4] = CONV_PX_NARROW;
    out[5] = CONV_ROW;
    out[6] = CONV_PX_WIDE;
}

// acc += As · Bs over one TS_K slice (the inner product of the register tile).
#define TILE_PRODUCT()                                                                                                 \
    for (int kk = 0; kk < TS_K; ++kk) {                                                                                \
        REAL a[WPT_M], b[WPT_N];                                                                                       \
        for (int r = 0; r < WPT_M; ++r) a[r] = As[kk][tm + r * RT_M];                                                  \
        for (int c = 0; c < WPT_N; ++c) b[c] = Bs[kk][tn + c * RT_N];                                                  \
        for (int r = 0; r < WPT_M; ++r)                                                                                \
            for (int c = 0; c < WPT_N; ++c) acc[r][c] += a[r] * b[c];                                                  \
    }

__kernel __attribute__((reqd_work_group_size(GEMM_THREADS, 1, 1))) void
gemm(__global const REAL *A, __global const REAL *B, __global const REAL *C, __global REAL *Y, const uint M,
     const uint N, const uint K, const ulong offA, const uint sAm, const uint sAk, const ulong bsA, const ulong offB,
     const uint sBk, const uint sBn, const ulong bsB, const ulong offC, const uint sCm, const uint sCn,
     const ulong bsC, const ulong offY, const uint ldY, const ulong bsY, const REAL alpha, const REAL beta,
     const uint flags, const uint tilesM, const uint tilesN) {
    __local REAL As[TS_K][TS_M + PAD];
    __local REAL Bs[TS_K][TS_N + PAD];
    const int tid = get_local_id(0), tm = tid / RT_N, tn = tid % RT_N;
    const uint gid = get_group_id(0), perZ = tilesM * tilesN;
    const uint z = gid / perZ, tile = gid % perZ;
    const int row0 = (tile / tilesN) * TS_M, col0 = (tile % tilesN) * TS_N;
    __global const REAL *a_ = A + offA + z * bsA;
    __global const REAL *b_ = B + offB + z * bsB;

    REAL acc[WPT_M][WPT_N];
    for (int r = 0; r < WPT_M; ++r)
        for (int c = 0; c < WPT_N; ++c) acc[r][c] = 0;

    for (uint k0 = 0; k0 < K; k0 += TS_K) {
        // A tile (TS_M × TS_K), stored transposed as As[k][m]; the index order follows A's contiguous axis.
        for (int l = tid; l < TS_M * TS_K; l += GEMM_THREADS) {
            int m, kk;
            if (flags & 4u) { m = l / TS_K; kk = l % TS_K; } else { kk = l / TS_M; m = l % TS_M; }
            const uint gi = row0 + m, gk = k0 + kk;
            As[kk][m] = (gi < M && gk < K) ? a_[gi * sAm + gk * sAk] : (REAL)0;
        }
        // B tile (TS_K × TS_N) as Bs[k][n].
        for (int l = tid; l < TS_K * TS_N; l += GEMM_THREADS) {
            int n, kk;
            if (flags & 8u) { n = l / TS_K; kk = l % TS_K; } else { kk = l / TS_N; n = l % TS_N; }
            const uint gj = col0 + n, gk = k0 + kk;
            Bs[kk][n] = (gj < N && gk < K) ? b_[gk * sBk + gj * sBn] : (REAL)0;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        TILE_PRODUCT();
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    __global REAL *y_ = Y + offY + z * bsY;
    __global const REAL *c_ = C + offC + z * bsC;
    for (int r = 0; r < WPT_M; ++r) {
        const uint i = row0 + tm + r * RT_M;
        if (i >= M) break;
        for (int c = 0; c < WPT_N; ++c) {
            const uint j = col0 + tn + c * RT_N;
            if (j >= N) break;
            REAL v = alpha * acc[r][c];
            if (flags & 1u) v = v + beta * c_[i * sCm + j * sCn];
            if (flags & 2u) v = max(v, (REAL)0);
            y_[i * ldY + j] = v;
        }
    }
}

// p (ints): C, inH, inW, outH, outW, strideH, strideW, padT, padL, Mg, Cg, K, M (total output channels), batch
__kernel __attribute__((reqd_work_group_size(GEMM_THREADS, 1, 1))) void
conv_igemm(__global const REAL *X, __global const REAL *W, __global const REAL *bias, __global REAL *Y,
           __global const int *ktab, __global const int *p, const uint flags, const uint tilesM, const uint tilesN) {
    __local REAL As[TS_K][TS_M + PAD];
    __local REAL Bs[TS_K][TS_N + PAD];
    const int Cin = p[0], inH = p[1], inW = p[2], outH = p[3], outW = p[4], sH = p[5], sW = p[6], padT = p[7],
              padL = p[8], Mg = p[9], Cg = p[10], K = p[11], M = p[12], batch = p[13];
    const int outHW = outH * outW, N = batch * outHW;
    const int tid = get_local_id(0), tm = tid / RT_N, tn = tid % RT_N;
    const uint gid = get_group_id(0), perG = tilesM * tilesN;
    const int g = gid / perG, tile = gid % perG;
    const int row0 = (tile / tilesN) * TS_M, col0 = (tile % tilesN) * TS_N;
    __global const REAL *w_ = W + (size_t)g * Mg * K;
    // This work item's column of the B tile: output pixel (b, oy, ox) -> window origin (iy0, ix0) in image b.
    const int bn = tid % TS_N, colJ = col0 + bn, colValid = colJ < N;
    const int colB = colValid ? colJ / outHW : 0, colPix = colValid ? colJ % outHW : 0;
    const int iy0 = (colPix / outW) * sH - padT, ix0 = (colPix % outW) * sW - padL;
    __global const REAL *xcol = X + ((size_t)colB * Cin + g * Cg) * inH * inW;

    REAL acc[WPT_M][WPT_N];
    for (int r = 0; r < WPT_M; ++r)
        for (int c = 0; c < WPT_N; ++c) acc[r][c] = 0;

    for (int k0 = 0; k0 < K; k0 += TS_K) {
        for (int l = tid; l < TS_M * TS_K; l += GEMM_THREADS) {
            const int m = l / TS_K, kk = l % TS_K; // W is contiguous along k
            const int gi = row0 + m, gk = k0 + kk;
            As[kk][m] = (gi < Mg && gk < K) ? w_[gi * K + gk] : (REAL)0;
        }
        // Work item tid always loads column n = tid % TS_N of the B tile (GEMM_THREADS is a multiple of TS_N), so
        // its output pixel was decomposed once, above; rows kk step by GEMM_THREADS / TS_N.
        for (int kk = tid / TS_N; kk < TS_K; kk += GEMM_THREADS / TS_N) {
            const int gk = k0 + kk;
            REAL v = 0;
            if (colValid && gk < K) {
                const int iy = iy0 + ktab[3 * gk + 1], ix = ix0 + ktab[3 * gk + 2];
                if (iy >= 0 && iy < inH && ix >= 0 && ix < inW) v = xcol[ktab[3 * gk] + iy * inW + ix];
            }
            Bs[kk][bn] = v;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
        TILE_PRODUCT();
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int r = 0; r < WPT_M; ++r) {
        const int i = row0 + tm + r * RT_M;
        if (i >= Mg) break;
        const int o = g * Mg + i;
        const REAL bo = (flags & 1u) ? bias[o] : (REAL)0;
        for (int c = 0; c < WPT_N; ++c) {
            const int j = col0 + tn + c * RT_N;
            if (j >= N) break;
            const int b = j / outHW, pix = j % outHW;
            REAL v = acc[r][c] + bo;
            if (flags & 2u) v = max(v, (REAL)0);
            Y[((size_t)b * M + o) * outHW + pix] = v;
        }
    }
}

// One work item per output pixel (b, oy, ox), global size = batch·outH·outW (exact): it computes every output
// channel of that pixel, so the index arithmetic is paid once per pixel, not per output value, and neighbouring
// work items read neighbouring input pixels and write neighbouring outputs.
// p (ints): as conv_igemm, then kH, kW, dH, dW.
__kernel void conv_direct(__global const REAL *X, __global const REAL *W, __global const REAL *bias, __global REAL *Y,
                          __global const int *p, const uint flags) {
    const int Cin = p[0], inH = p[1], inW = p[2], outH = p[3], outW = p[4], sH = p[5], sW = p[6], padT = p[7],
              padL = p[8], Mg = p[9], Cg = p[10], K = p[11], M = p[12];
    const int kH = p[14], kW = p[15], dH = p[16], dW = p[17];
    const int idx = get_global_id(0), outHW = outH * outW;
    const int pix = idx % outHW, b = idx / outHW;
    const int iy0 = (pix / outW) * sH - padT, ix0 = (pix % outW) * sW - padL;
    int o = 0;
    for (int g = 0; g < M / Mg; ++g) {
        __global const REAL *x_ = X + (b * Cin + g * Cg) * inH * inW;
        for (int i = 0; i < Mg; ++i, ++o) {
            __global const REAL *w_ = W + o * K;
            REAL acc = 0;
            for (int ci = 0; ci < Cg; ++ci) {
                for (int ky = 0; ky < kH; ++ky) {
                    const int iy = iy0 + ky * dH;
                    if (iy < 0 || iy >= inH) continue;
                    for (int kx = 0; kx < kW; ++kx) {
                        const int ix = ix0 + kx * dW;
                        if (ix < 0 || ix >= inW) continue;
                        acc += w_[(ci * kH + ky) * kW + kx] * x_[(ci * inH + iy) * inW + ix];
                    }
                }
            }
            if (flags & 1u) acc = acc + bias[o];
            if (flags & 2u) acc = max(acc, (REAL)0);
            Y[(b * M + o) * outHW + pix] = acc;
        }
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Channel-vector kernels: the output channels (Gemm/MatMul columns, Conv output channels) of one work item are a
// vector of CV values (float8 or float16, the suffix of the kernel name) against a constant weight matrix that the
// host transposed and zero-padded once, so each step is one vector load of weights (the same address in every work
// item: a broadcast on GPUs, an L1 hit on CPUs) times one input value. Work items run over rows / output pixels, so
// neighbouring work items read neighbouring inputs and write neighbouring outputs. No __local memory and no
// barriers: on CPU devices (PoCL) each work item is straight vector code; on GPUs, many work items per row.
//
//   gemm_rows{8,16}  Y[i, j] = act(alpha · Σ_k A[i·lda + k] · Bt[k·ldb + j] + beta · C[i·sCm + j·sCn]), i < M, j < N.
//                    Bt: [K, ldb] (ldb a multiple of CV, zero columns past N). One work item per (row, CV columns);
//                    global size M · ldb / CV. flags: 1 = add beta·C, 2 = ReLU, 16 = C is a row vector padded to
//                    ldb (Cp), added as a vector.
//   conv_vec{8,16}   Conv with Wt[g][k][ldw] (k = (ci, ky, kx), ldw a multiple of CV, zero channels past Mg) and the
//                    bias padded alike (biasP[g·ldw + i]). One work item per (image, group, channel block, output row,
//                    CONV_PX output columns): the input row segment under the window goes to private memory once per
//                    (ci, ky) (its part outside the image zeroed once), then each tap is one weight vector times
//                    CONV_PX values.
//                    global size = batch · groups · (ldw / CV) · outH · ceil(outW / CONV_PX). p: as conv_direct.
//                    The host checks (CONV_PX − 1)·sW + (kW − 1)·dW + 1 ≤ CONV_ROW. CONV_PX is CONV_PX_NARROW, or
//                    CONV_PX_WIDE in the *_w8 forms (fewer work items and weight loads on rows of 8 or more).
//   conv_vec_pool{8,16}  conv_vec followed by a MaxPool or AveragePool (a pool node that alone reads the conv output,
//                    with its windows inside it): one work item per (image, group, channel block, pooled row, ppx
//                    pooled columns) computes the conv rows under its windows (bias, ReLU) and pools them, so the
//                    conv output is never stored. The mean sums each window row by row, then divides by kH·kW.
// Summation order: k ascending, one multiply and one add per term (FP_CONTRACT off), then bias, then ReLU.


#define GEMM_ROWS(NAME, CV, VT, VLOAD, VSTORE)                                                                          \
    __kernel void NAME(__global const REAL *A, __global const REAL *Bt, __global const REAL *C, __global REAL *Y,      \
                       const uint M, const uint N, const uint K, const uint lda, const uint ldb, const uint sCm,        \
                       const uint sCn, const uint ldy, const REAL alpha, const REAL beta, const uint flags) {           \
        const uint nb = ldb / CV, gid = get_global_id(0);                                                              \
        const uint i = gid / nb, j0 = (gid - i * nb) * CV;                                                             \
        __global const REAL *a_ = A + (size_t)i * lda;                                                                 \
        __global const REAL *b_ = Bt + j0;                                                                             \
        VT acc = 0;                                                                                                    \
        for (uint k = 0; k < K; ++k) acc += VLOAD(0, b_ + (size_t)k * ldb) * a_[k];                                    \
        VT v = alpha * acc;                                                                                            \
        if (flags & 16u) v = v + beta * VLOAD(0, C + j0);                                                              \
        __global REAL *y_ = Y + (size_t)i * ldy + j0;                                                                  \
        if ((flags & 17u) != 1u && j0 + CV <= N) {                                                                     \
            if (flags & 2u) v = max(v, (VT)0);                                                                         \
            VSTORE(v, 0, y_);                                                                                          \
            return;                                                                                                    \
        }                                                                                                              \
        REAL out[CV];                                                                                                  \
        VSTORE(v, 0, out);                                                                                             \
        for (uint c = 0; c < CV && j0 + c < N; ++c) {                                                                  \
            REAL r = out[c];                                                                                           \
            if ((flags & 17u) == 1u) r = r + beta * C[i * sCm + (j0 + c) * sCn];                                       \
            if (flags & 2u) r = max(r, (REAL)0);                                                                       \
            y_[c] = r;                                                                                                 \
        }                                                                                                              \
    }

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
GEMM_ROWS(gemm_rows8, 8, CAT(REAL, 8), vload8, vstore8)
GEMM_ROWS(gemm_rows16, 16, CAT(REAL, 16), vload16, vstore16)

// xs[tlo, thi) = xr[xs0 + tlo, xs0 + thi).
#define CONV_COPY_ROW(xr)                                                                                              \
    {                                                                                                                  \
        for (int t = tlo; t < thi; ++t) xs[t] = (xr)[xs0 + t];                                                         \
    }

// The shared header of conv_vec and conv_vec_pool: parameters, and the work item's image, group and channel block
// from `idx` (what is left of the global id after the row and column indices were taken off).
#define CONV_HEADER(CV, VT, VLOAD)                                                                                     \
    const int Cin = p[0], inH = p[1], inW = p[2], outH = p[3], outW = p[4], sH = p[5], sW = p[6], padT = p[7],         \
              padL = p[8], Mg = p[9], Cg = p[10], K = p[11], M = p[12];                                                \
    const int kH = p[14], kW = p[15], dH = p[16], dW = p[17];                                                          \
    const int nb = ldw / CV, G = M / Mg;                                                                               \
    const int xlen = (CONV_PX - 1) * sW + (kW - 1) * dW + 1;                                                           \
    REAL xs[CONV_ROW];                                                                                                 \
    VT acc[CONV_PX];

#define CONV_BLOCK(CV, VT, VLOAD)                                                                                      \
    const int blk = idx % (nb * G), b = idx / (nb * G);                                                                \
    const int g = blk / nb, i0 = (blk - g * nb) * CV;                                                                  \
    __global const REAL *x_ = X + ((size_t)b * Cin + g * Cg) * inH * inW;                                              \
    __global const REAL *w_ = Wt + (size_t)g * K * ldw + i0;                                                           \
    const VT bv = (flags & 1u) ? VLOAD(0, biasP + g * ldw + i0) : (VT)0;

// acc[q] = Σ_k W[k] · x(k; oy, ox0 + q) for q < CONV_PX (no bias): the input row segment under the windows goes to
// xs once per (ci, ky), zeros outside the image.
#define CONV_SEGMENT(VT, VLOAD, oy, ox0)                                                                               \
    {                                                                                                                  \
        const int iy0 = (oy) * sH - padT, xs0 = (ox0) * sW - padL;                                                     \
        /* xs[t] for t in [tlo, thi) is inside the image (copied per row), the rest is zero (set once). */          \
        const int tlo = clamp(-xs0, 0, xlen), thi = clamp(inW - xs0, tlo, xlen);                                       \
        for (int t = 0; t < xlen; ++t) xs[t] = 0;                                                                      \
        _Pragma("unroll") for (int q = 0; q < CONV_PX; ++q) acc[q] = 0;                                                                  \
        for (int ci = 0; ci < Cg; ++ci) {                                                                              \
            for (int ky = 0; ky < kH; ++ky) {                                                                          \
                const int iy = iy0 + ky * dH;                                                                          \
                if (iy < 0 || iy >= inH) continue;                                                                     \
                __global const REAL *xr = x_ + (ci * inH + iy) * inW;                                                  \
                CONV_COPY_ROW(xr)                                                                                      \
                __global const REAL *wk = w_ + (size_t)((ci * kH + ky) * kW) * ldw;                                    \
                for (int kx = 0; kx < kW; ++kx) {                                                                      \
                    const VT w = VLOAD(0, wk + (size_t)kx * ldw);                                                      \
                    _Pragma("unroll") for (int q = 0; q < CONV_PX; ++q) acc[q] += w * xs[q * sW + kx * dW];                              \
                }                                                                                                      \
            }                                                                                                          \
        }                                                                                                              \
    }

#define CONV_VEC(NAME, CV, VT, VLOAD, VSTORE)                                                                           \
    __kernel void NAME(__global const REAL *X, __global const REAL *Wt, __global const REAL *biasP, __global REAL *Y,  \
                       __global const int *p, const uint flags, const uint ldw) {                                      \
        CONV_HEADER(CV, VT, VLOAD)                                                                                     \
        const int chunks = (outW + CONV_PX - 1) / CONV_PX;                                                             \
        int idx = get_global_id(0);                                                                                    \
        const int ch = idx % chunks;                                                                                   \
        idx /= chunks;                                                                                                 \
        const int oy = idx % outH;                                                                                     \
        idx /= outH;                                                                                                   \
        CONV_BLOCK(CV, VT, VLOAD)                                                                                      \
        const int ox0 = ch * CONV_PX;                                                                                  \
        CONV_SEGMENT(VT, VLOAD, oy, ox0)                                                                               \
        const int outHW = outH * outW;                                                                                 \
        __global REAL *y_ = Y + ((size_t)b * M + g * Mg + i0) * outHW + oy * outW;                                     \
        for (int q = 0; q < CONV_PX && ox0 + q < outW; ++q) {                                                          \
            VT v = acc[q] + bv;                                                                                        \
            if (flags & 2u) v = max(v, (VT)0);                                                                         \
            REAL out[CV];                                                                                              \
            VSTORE(v, 0, out);                                                                                         \
            for (int c = 0; c < CV && i0 + c < Mg; ++c) y_[c * outHW + ox0 + q] = out[c];                              \
        }                                                                                                              \
    }

// pp (ints): pool kH, kW, sH, sW, pooled outH, outW, isMax, pooled columns per work item (ppx, with
// (ppx − 1)·sW + kW ≤ CONV_PX). Windows lie inside the conv output (no pool padding or dilation: the host checks).
#define CONV_VEC_POOL(NAME, CV, VT, VLOAD, VSTORE)                                                                      \
    __kernel void NAME(__global const REAL *X, __global const REAL *Wt, __global const REAL *biasP, __global REAL *Y,  \
                       __global const int *p, const uint flags, const uint ldw, __global const int *pp) {              \
        CONV_HEADER(CV, VT, VLOAD)                                                                                     \
        const int pkH = pp[0], pkW = pp[1], psH = pp[2], psW = pp[3], pOutH = pp[4], pOutW = pp[5], isMax = pp[6],      \
                  ppx = pp[7];                                                                                         \
        const int chunks = (pOutW + ppx - 1) / ppx;                                                                    \
        int idx = get_global_id(0);                                                                                    \
        const int ch = idx % chunks;                                                                                   \
        idx /= chunks;                                                                                                 \
        const int py = idx % pOutH;                                                                                    \
        idx /= pOutH;                                                                                                  \
        CONV_BLOCK(CV, VT, VLOAD)                                                                                      \
        const int px0 = ch * ppx, ox0 = px0 * psW, count = min(ppx, pOutW - px0);                                      \
        VT pooled[CONV_PX];                                                                                            \
        _Pragma("unroll") for (int q = 0; q < CONV_PX; ++q) pooled[q] = isMax ? (VT)(-INFINITY) : (VT)0;                                \
        for (int a = 0; a < pkH; ++a) {                                                                                \
            const int oy = py * psH + a;                                                                               \
            CONV_SEGMENT(VT, VLOAD, oy, ox0)                                                                           \
            /* Conv output t (a constant index, so acc stays in registers) joins every window that covers it, */    \
            /* in increasing t: each window sums its row left to right. */                                             \
            _Pragma("unroll") for (int t = 0; t < CONV_PX; ++t) {                                                      \
                VT v = acc[t] + bv;                                                                                    \
                if (flags & 2u) v = max(v, (VT)0);                                                                     \
                for (int q = 0; q < count; ++q) {                                                                      \
                    if (t < q * psW || t >= q * psW + pkW) continue;                                                   \
                    pooled[q] = isMax ? max(pooled[q], v) : pooled[q] + v;                                             \
                }                                                                                                      \
            }                                                                                                          \
        }                                                                                                              \
        const int pOutHW = pOutH * pOutW;                                                                              \
        __global REAL *y_ = Y + ((size_t)b * M + g * Mg + i0) * pOutHW + py * pOutW + px0;                             \
        for (int q = 0; q < count; ++q) {                                                                              \
            const VT v = isMax ? pooled[q] : pooled[q] / (VT)((REAL)(pkH * pkW));                                      \
            REAL out[CV];                                                                                              \
            VSTORE(v, 0, out);                                                                                         \
            for (int c = 0; c < CV && i0 + c < Mg; ++c) y_[c * pOutHW + q] = out[c];                                   \
        }                                                                                                              \
    }

// conv_pix8: for groups with few output channels (depthwise and the like), where a channel vector would be mostly
// padding: the vector runs over 8 neighbouring output columns instead. One work item per (image, output channel,
// 8 columns) walks all output rows (so the per-item set-up is paid once per column block, not per row); stride 1
// along the row (the host checks), input row segment in private memory as in conv_vec, each tap one scalar weight
// times 8 inputs. Global size batch · M · ceil(outW / 8). p: as conv_direct; W in ONNX layout.
__kernel void conv_pix8(__global const REAL *X, __global const REAL *W, __global const REAL *bias, __global REAL *Y,
                        __global const int *p, const uint flags) {
    const int Cin = p[0], inH = p[1], inW = p[2], outH = p[3], outW = p[4], sH = p[5], padT = p[7], padL = p[8],
              Mg = p[9], Cg = p[10], K = p[11], M = p[12];
    const int kH = p[14], kW = p[15], dH = p[16], dW = p[17];
    const int chunks = (outW + 7) / 8;
    int idx = get_global_id(0);
    const int ch = idx % chunks;
    idx /= chunks;
    const int o = idx % M, b = idx / M, g = o / Mg;
    const int ox0 = ch * 8, xs0 = ox0 - padL, xlen = 8 + (kW - 1) * dW;
    __global const REAL *x_ = X + ((size_t)b * Cin + g * Cg) * inH * inW;
    __global const REAL *w_ = W + (size_t)o * K;
    __global REAL *y_ = Y + ((size_t)b * M + o) * outH * outW + ox0;
    const REAL bo = (flags & 1u) ? bias[o] : (REAL)0;
    REAL xs[CONV_ROW];
    // xs[t] for t in [tlo, thi) is inside the image (copied per row); the rest stays zero.
    const int tlo = clamp(-xs0, 0, xlen), thi = clamp(inW - xs0, tlo, xlen), interior = tlo == 0 && thi == xlen;
    for (int t = 0; t < xlen; ++t) xs[t] = 0;
    for (int oy = 0; oy < outH; ++oy) {
        const int iy0 = oy * sH - padT;
        CAT(REAL, 8) acc = 0;
        for (int ci = 0; ci < Cg; ++ci) {
            for (int ky = 0; ky < kH; ++ky) {
                const int iy = iy0 + ky * dH;
                if (iy < 0 || iy >= inH) continue;
                __global const REAL *xr = x_ + (ci * inH + iy) * inW;
                __global const REAL *wk = w_ + (ci * kH + ky) * kW;
                if (interior) {  // the whole segment lies in the image: straight from global memory
                    for (int kx = 0; kx < kW; ++kx) acc += vload8(0, xr + xs0 + kx * dW) * wk[kx];
                    continue;
                }
                CONV_COPY_ROW(xr)
                for (int kx = 0; kx < kW; ++kx) acc += vload8(0, xs + kx * dW) * wk[kx];
            }
        }
        acc = acc + bo;
        if (flags & 2u) acc = max(acc, (CAT(REAL, 8))0);
        __global REAL *yr = y_ + oy * outW;
        if (ox0 + 8 <= outW) {
            vstore8(acc, 0, yr);
        } else {
            REAL out[8];
            vstore8(acc, 0, out);
            for (int q = 0; q < outW - ox0; ++q) yr[q] = out[q];
        }
    }
}

CONV_VEC(conv_vec8, 8, CAT(REAL, 8), vload8, vstore8)
CONV_VEC(conv_vec16, 16, CAT(REAL, 16), vload16, vstore16)
CONV_VEC_POOL(conv_vec_pool8, 8, CAT(REAL, 8), vload8, vstore8)
CONV_VEC_POOL(conv_vec_pool16, 16, CAT(REAL, 16), vload16, vstore16)
// The same kernels with CONV_PX_WIDE columns per work item (the macros read CONV_PX where they are expanded).
#undef CONV_PX
#define CONV_PX CONV_PX_WIDE
CONV_VEC(conv_vec8_w8, 8, CAT(REAL, 8), vload8, vstore8)
CONV_VEC(conv_vec16_w8, 16, CAT(REAL, 16), vload16, vstore16)
CONV_VEC_POOL(conv_vec_pool8_w8, 8, CAT(REAL, 8), vload8, vstore8)
CONV_VEC_POOL(conv_vec_pool16_w8, 16, CAT(REAL, 16), vload16, vstore16)
