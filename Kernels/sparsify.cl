// sparsify.cl: the elementwise steps of the AND-OR sparsifier (HarsanyiCore/Sparsifier.swift), fused so that
// each iteration makes a few passes over device memory and never returns to the host.
//
//   split_and_or   q <- clamp(q, −bound, bound); vAnd = h·(v + q) + p; vOr = h·(v + q) − p (h = scale: 0.5, or 1 for AND only)
//                  (flags: 1 = has p, 2 = has q, 4 = write vOr)
//   sign_inplace   a <- sign(a), with sign(0) = 0 (PyTorch's gradient of |x| at 0)
//   momentum_step  g = cA·gA + cB·gB; buf <- first ? g : momentum·buf + g; x <- x − lr·buf   (torch.optim.SGD)
//   adam_step      g as above; m <- β1·m + (1−β1)·g; s <- β2·s + (1−β2)·g²; x <- x − lr·(m/c1)/(sqrt(s/c2) + ε)
//   subtract_at    x <- x − s[index]          (re-centring q by its mean)
//   pdhg_primal    x <- clamp(x − τ(T)·(cA·gA + cB·gB), −bound, bound), τ(T) = 1 / (w·colsum(T))
//   pdhg_dual      y' = clamp(y + σ(S)·I, −1, 1); ybar = 2y' − y; y = y',  σ(S) = 1 / (w·rowsum(S))
//   blend          t <- α·t + β·s             (running averages of the PDLP iterates)
//   null_players   moving |= the bits b with v[s | 2^b] != v[s] (bit b clear in s): players that are not null
//   track_best     state = (best loss, improved flag): improved = trace[it] < best; if so best = trace[it]
//   copy_if        dst <- src where state's improved flag is set (keeps the best iterate on the device)
// The primal-dual steps use the diagonal preconditioning of Pock & Chambolle (ICCV 2011) with the exact
// row and column sums of |M_and| and |M_or|: |M_and| row S sums to 2^|S|, column T to 2^(n−|T|);
// |M_or| row S ≠ ∅ sums to 2^|S| (row ∅ to 1), column T to 2^|T| − [T = N] + [T = ∅].
// Precision: REAL is float unless the host defines REAL=double and USE_FP64.

#ifdef USE_FP64
#pragma OPENCL EXTENSION cl_khr_fp64 : enable
#endif
#pragma OPENCL FP_CONTRACT OFF // no fused multiply-add: host and device must round alike
#ifndef REAL
#define REAL float // element type; the host builds a second program with -DREAL=double -DUSE_FP64
#endif

__kernel void split_and_or(__global const REAL *v, __global const REAL *p, __global REAL *q, __global REAL *vAnd,
                           __global REAL *vOr, const REAL bound, const REAL scale, const uint flags) {
    const size_t i = get_global_id(0);
    REAL h = v[i];
    if (flags & 2u) {
        const REAL qi = clamp(q[i], -bound, bound);
        q[i] = qi;
        h = h + qi;
    }
    h = scale * h;
    const REAL pi = (flags & 1u) ? p[i] : (REAL)0;
    vAnd[i] = h + pi;
    if (flags & 4u) vOr[i] = h - pi;
}

__kernel void sign_inplace(__global REAL *a) {
    const size_t i = get_global_id(0);
    const REAL x = a[i];
    a[i] = x > 0 ? (REAL)1 : (x < 0 ? (REAL)-1 : (REAL)0);
}

__kernel void momentum_step(__global REAL *x, __global REAL *buf, __global const REAL *gA, __global const REAL *gB,
                            const REAL cA, const REAL cB, const REAL lr, const REAL momentum, const uint first) {
    const size_t i = get_global_id(0);
    REAL g = cA * gA[i];
    if (cB != 0) g = g + cB * gB[i];
    const REAL b = first ? g : momentum * buf[i] + g;
    buf[i] = b;
    x[i] = x[i] - lr * b;
}

__kernel void adam_step(__global REAL *x, __global REAL *m, __global REAL *s, __global const REAL *gA,
                        __global const REAL *gB, const REAL cA, const REAL cB, const REAL lr, const REAL beta1,
                        const REAL beta2, const REAL eps, const REAL c1, const REAL c2) {
    const size_t i = get_global_id(0);
    REAL g = cA * gA[i];
    if (cB != 0) g = g + cB * gB[i];
    const REAL mi = beta1 * m[i] + (1 - beta1) * g;
    const REAL si = beta2 * s[i] + (1 - beta2) * g * g;
    m[i] = mi;
    s[i] = si;
    x[i] = x[i] - lr * (mi / c1) / (sqrt(si / c2) + eps);
}

__kernel void subtract_at(__global REAL *x, __global const REAL *s, const uint index) {
    x[get_global_id(0)] -= s[index];
}

// colsum(T) = 2^(n−|T|) + (withOr ? 2^|T| − [T = N] + [T = ∅] : 0)
__kernel void pdhg_primal(__global REAL *x, __global const REAL *gA, __global const REAL *gB, const REAL cA,
                          const REAL cB, const REAL weight, const uint n, const uint withOr, const REAL bound) {
    const size_t t = get_global_id(0);
    const uint k = popcount((uint)t);
    REAL col = (REAL)(1u << (n - k));
    if (withOr) col += (REAL)(1u << k) - (t == ((1u << n) - 1u) ? 1 : 0) + (t == 0 ? 1 : 0);
    REAL g = cA * gA[t];
    if (cB != 0) g = g + cB * gB[t];
    x[t] = clamp(x[t] - g / (weight * col), -bound, bound);
}

// rowsum(S) = 2^|S|, or 1 for the ∅ row of M_or (isOr).
__kernel void pdhg_dual(__global REAL *y, __global REAL *ybar, __global const REAL *I, const REAL weight,
                        const uint isOr) {
    const size_t s = get_global_id(0);
    const REAL row = (isOr && s == 0) ? (REAL)1 : (REAL)(1u << popcount((uint)s));
    const REAL old = y[s];
    const REAL nw = clamp(old + I[s] / (weight * row), (REAL)-1, (REAL)1);
    y[s] = nw;
    ybar[s] = 2 * nw - old;
}

// A single work item.
__kernel void track_best(__global const REAL *trace, const uint it, __global REAL *state) {
    const REAL loss = trace[it];
    const int better = it == 0 || loss < state[0];
    if (better) state[0] = loss;
    state[1] = better ? (REAL)1 : (REAL)0;
}

__kernel void copy_if(__global const REAL *state, __global const REAL *src, __global REAL *dst) {
    if (state[1] != 0) dst[get_global_id(0)] = src[get_global_id(0)];
}

// One work item per subset s: the players b ∉ s whose addition changes v, OR-ed into one mask (O(n·2^n) reads).
__kernel void null_players(__global const REAL *v, const uint n, __global volatile uint *moving) {
    const uint s = (uint)get_global_id(0);
    const REAL x = v[s];
    uint found = 0u;
    for (uint b = 0u; b < n; ++b) {
        const uint bit = 1u << b;
        if ((s & bit) == 0u && v[s | bit] != x) found |= bit;
    }
    if (found != 0u) atomic_or(moving, found);
}

__kernel void blend(__global REAL *t, __global const REAL *s, const REAL alpha, const REAL beta) {
    const size_t i = get_global_id(0);
    t[i] = alpha * t[i] + beta * s[i];
}
