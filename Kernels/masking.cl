// masking.cl: masked inputs made on the device from subset indices, and the scalar reward of each output row,
// so that the 2^n masked inputs never exist on the host and v is written straight into the engine's buffer.
//
//   mask_batch  out[j, e] = keep ? sample[e] : baseline[e] for subset s = start + j, where owner[e] is the player
//               of element e (−1: background) and keep = owner < 0 ? !maskBackground : bit owner of s.
//               One work item per MASK_CHUNK elements of a row (global size count · ceil(size / MASK_CHUNK)),
//               vector loads and stores; consecutive items write consecutive addresses.
//   shortcut_rows  The linearity shortcut's rows: out[j, e] = empty[e] + Σ_{i ∈ s} c[i, e] for subset s = start + j,
//               rowSize values per row, n players (c is [n, rowSize]). The sum is taken in the order of the host's
//               LinearShortcut.rows with batches of 2^orderBits: empty, then the set bits ≥ orderBits ascending,
//               then the set bits < orderBits descending (with FP_CONTRACT off the rows are bit-identical).
//               Work items as mask_batch: one per MASK_CHUNK values of a row, the bit loops uniform within it.
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

#define MASK_CHUNK 16 // elements per work item in mask_batch and shortcut_rows (one float16)

__kernel void mask_batch(__global const float *sample, __global const float *baseline, __global const int *owner,
                         const uint size, const ulong start, const uint maskBackground, __global float *out) {
    const uint chunks = (size + MASK_CHUNK - 1) / MASK_CHUNK, gid = get_global_id(0);
    const uint j = gid / chunks, e0 = (gid - j * chunks) * MASK_CHUNK;
    const ulong s = start + j;
    __global float *o = out + (size_t)j * size + e0;
    if (e0 + MASK_CHUNK <= size) {
        const int16 p = vload16(0, owner + e0);
        // keep: bit p of s for players (p >= 0), !maskBackground for background elements (p < 0).
        const long16 bits = (long16)(long)s >> convert_long16(max(p, 0));
        const int16 keep = p < 0 ? (int16)(maskBackground ? 0 : -1) : -convert_int16(bits & 1l);
        vstore16(select(vload16(0, baseline + e0), vload16(0, sample + e0), keep), 0, o);
        return;
    }
    for (uint e = e0; e < size; ++e) {
        const int p = owner[e];
        const int keep = p < 0 ? !maskBackground : (int)((s >> p) & 1ul);
        o[e - e0] = keep ? sample[e] : baseline[e];
    }
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

__kernel void shortcut_rows(__global const float *empty, __global const float *c, const uint rowSize, const uint n,
                            const ulong start, const uint orderBits, __global float *out) {
    const uint chunks = (rowSize + MASK_CHUNK - 1) / MASK_CHUNK, gid = get_global_id(0);
    const uint j = gid / chunks, e0 = (gid - j * chunks) * MASK_CHUNK;
    const ulong s = start + j;
    const uint lo = min(orderBits, n);
    __global float *o = out + (size_t)j * rowSize + e0;
    if (e0 + MASK_CHUNK <= rowSize) {
        // Branch-free: every contribution is loaded (c is small and stays in cache) and masked by its bit, so work
        // items of one work group never diverge; x + 0 = x, so the sums are the host's.
        float16 acc = vload16(0, empty + e0);
        for (uint i = lo; i < n; ++i)
            acc += select((float16)0, vload16(0, c + (size_t)i * rowSize + e0), (int16)(-(int)((s >> i) & 1ul)));
        for (uint i = lo; i-- > 0;)
            acc += select((float16)0, vload16(0, c + (size_t)i * rowSize + e0), (int16)(-(int)((s >> i) & 1ul)));
        vstore16(acc, 0, o);
        return;
    }
    for (uint e = e0; e < rowSize; ++e) {
        float acc = empty[e];
        for (uint i = lo; i < n; ++i)
            if ((s >> i) & 1ul) acc += c[(size_t)i * rowSize + e];
        for (uint i = lo; i-- > 0;)
            if ((s >> i) & 1ul) acc += c[(size_t)i * rowSize + e];
        o[e - e0] = acc;
    }
}
