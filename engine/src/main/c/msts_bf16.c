/*
 * msts native BF16 matmul: out[r, o] (+)= Σ_k x[r, k] · w[o, k] with x and w in bfloat16 and F32
 * accumulation, on AVX512_BF16 (vdpbf16ps: per F32 lane, acc += x[2i]·w[2i] + x[2i+1]·w[2i+1]; the
 * products of two bf16 are exact in F32). Loaded through Panama FFM by msts.engine.bf16.Bf16Native.
 *
 * Built by the engine module's Maven build with gcc (see engine/pom.xml). The kernels carry target
 * attributes, so this file compiles on any x86-64 gcc ≥ 10 whatever the build machine's CPU is;
 * msts_bf16_supported() tells at run time whether this CPU (and OS) can run them.
 *
 * Summation order (fixed, so results do not depend on threads or on the batch a row is in): k is cut
 * into blocks [k0, k0+kc); in a block, each output keeps one 16-lane accumulator fed 32 k at a time
 * (lane i gets k = k0+32j+2i and +2i+1), reduced by _mm512_reduce_add_ps at the block's end, and the
 * block sums are added to out in k order. Math and error: docs/engine.md, "BF16 compute".
 */
#include <immintrin.h>
#include <stdint.h>

#define MSTS_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
#define MSTS_EXPORT __attribute__((visibility("default")))

/** 1 when this CPU and OS run AVX-512F/BW and AVX512_BF16 (the OS check is part of gcc's cpu model). */
MSTS_EXPORT int msts_bf16_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
        && __builtin_cpu_supports("avx512bf16");
}

/** ABI version of the functions below; Bf16Native refuses a library with another one. */
MSTS_EXPORT int msts_bf16_version(void) { return 1; }

MSTS_TARGET static inline __m512bh ld(const uint16_t *p, __mmask32 m, int full) {
    return (__m512bh) (full ? _mm512_loadu_si512((const void *) p) : _mm512_maskz_loadu_epi16(m, p));
}

MSTS_TARGET static inline void put(float *o, float s, int acc) {
    *o = acc ? *o + s : s;
}

/** 4 rows of x × 4 rows of w over [k0, k1). */
MSTS_TARGET static void tile4x4(float *out, const uint16_t *x, const uint16_t *w, long in, long ldo,
                                long r, long o, long k0, long k1, int acc) {
    const uint16_t *x0 = x + r * in, *x1 = x0 + in, *x2 = x1 + in, *x3 = x2 + in;
    const uint16_t *w0 = w + o * in, *w1 = w0 + in, *w2 = w1 + in, *w3 = w2 + in;
    __m512 c00 = _mm512_setzero_ps(), c01 = c00, c02 = c00, c03 = c00;
    __m512 c10 = c00, c11 = c00, c12 = c00, c13 = c00;
    __m512 c20 = c00, c21 = c00, c22 = c00, c23 = c00;
    __m512 c30 = c00, c31 = c00, c32 = c00, c33 = c00;
    for (long k = k0; k < k1; k += 32) {
        int full = k + 32 <= k1;
        __mmask32 m = full ? (__mmask32) ~0u : (__mmask32) ((1u << (k1 - k)) - 1);
        __m512bh v0 = ld(w0 + k, m, full), v1 = ld(w1 + k, m, full), v2 = ld(w2 + k, m, full), v3 = ld(w3 + k, m, full);
        __m512bh a = ld(x0 + k, m, full);
        c00 = _mm512_dpbf16_ps(c00, a, v0); c01 = _mm512_dpbf16_ps(c01, a, v1);
        c02 = _mm512_dpbf16_ps(c02, a, v2); c03 = _mm512_dpbf16_ps(c03, a, v3);
        a = ld(x1 + k, m, full);
        c10 = _mm512_dpbf16_ps(c10, a, v0); c11 = _mm512_dpbf16_ps(c11, a, v1);
        c12 = _mm512_dpbf16_ps(c12, a, v2); c13 = _mm512_dpbf16_ps(c13, a, v3);
        a = ld(x2 + k, m, full);
        c20 = _mm512_dpbf16_ps(c20, a, v0); c21 = _mm512_dpbf16_ps(c21, a, v1);
        c22 = _mm512_dpbf16_ps(c22, a, v2); c23 = _mm512_dpbf16_ps(c23, a, v3);
        a = ld(x3 + k, m, full);
        c30 = _mm512_dpbf16_ps(c30, a, v0); c31 = _mm512_dpbf16_ps(c31, a, v1);
        c32 = _mm512_dpbf16_ps(c32, a, v2); c33 = _mm512_dpbf16_ps(c33, a, v3);
    }
    float *p = out + r * ldo + o;
    put(p, _mm512_reduce_add_ps(c00), acc); put(p + 1, _mm512_reduce_add_ps(c01), acc);
    put(p + 2, _mm512_reduce_add_ps(c02), acc); put(p + 3, _mm512_reduce_add_ps(c03), acc);
    p += ldo;
    put(p, _mm512_reduce_add_ps(c10), acc); put(p + 1, _mm512_reduce_add_ps(c11), acc);
    put(p + 2, _mm512_reduce_add_ps(c12), acc); put(p + 3, _mm512_reduce_add_ps(c13), acc);
    p += ldo;
    put(p, _mm512_reduce_add_ps(c20), acc); put(p + 1, _mm512_reduce_add_ps(c21), acc);
    put(p + 2, _mm512_reduce_add_ps(c22), acc); put(p + 3, _mm512_reduce_add_ps(c23), acc);
    p += ldo;
    put(p, _mm512_reduce_add_ps(c30), acc); put(p + 1, _mm512_reduce_add_ps(c31), acc);
    put(p + 2, _mm512_reduce_add_ps(c32), acc); put(p + 3, _mm512_reduce_add_ps(c33), acc);
}

/** 1 row of x × 4 rows of w over [k0, k1): the same per-output operations as tile4x4. */
MSTS_TARGET static void tile1x4(float *out, const uint16_t *x, const uint16_t *w, long in, long ldo,
                                long r, long o, long k0, long k1, int acc) {
    const uint16_t *x0 = x + r * in;
    const uint16_t *w0 = w + o * in, *w1 = w0 + in, *w2 = w1 + in, *w3 = w2 + in;
    __m512 c0 = _mm512_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
    for (long k = k0; k < k1; k += 32) {
        int full = k + 32 <= k1;
        __mmask32 m = full ? (__mmask32) ~0u : (__mmask32) ((1u << (k1 - k)) - 1);
        __m512bh a = ld(x0 + k, m, full);
        c0 = _mm512_dpbf16_ps(c0, a, ld(w0 + k, m, full));
        c1 = _mm512_dpbf16_ps(c1, a, ld(w1 + k, m, full));
        c2 = _mm512_dpbf16_ps(c2, a, ld(w2 + k, m, full));
        c3 = _mm512_dpbf16_ps(c3, a, ld(w3 + k, m, full));
    }
    float *p = out + r * ldo + o;
    put(p, _mm512_reduce_add_ps(c0), acc); put(p + 1, _mm512_reduce_add_ps(c1), acc);
    put(p + 2, _mm512_reduce_add_ps(c2), acc); put(p + 3, _mm512_reduce_add_ps(c3), acc);
}

/** 1 row of x × 1 row of w over [k0, k1): the same per-output operations again. */
MSTS_TARGET static void tile1x1(float *out, const uint16_t *x, const uint16_t *w, long in, long ldo,
                                long r, long o, long k0, long k1, int acc) {
    const uint16_t *x0 = x + r * in, *w0 = w + o * in;
    __m512 c0 = _mm512_setzero_ps();
    for (long k = k0; k < k1; k += 32) {
        int full = k + 32 <= k1;
        __mmask32 m = full ? (__mmask32) ~0u : (__mmask32) ((1u << (k1 - k)) - 1);
        c0 = _mm512_dpbf16_ps(c0, ld(x0 + k, m, full), ld(w0 + k, m, full));
    }
    put(out + r * ldo + o, _mm512_reduce_add_ps(c0), acc);
}

/**
 * out[r·ldo + o] = Σ_{k<in} x[r·in + k] · w[o·in + k] for r in [r0, r1), o in [o0, o1).
 * x: [rows, in] bf16 bits; w: [outDim, in] bf16 bits; kc: k block (a multiple of 32, > 0).
 * Loop order per k block: 4 columns of w (held in L1) against all rows of x (in L2), so w is read
 * from memory once.
 */
MSTS_EXPORT MSTS_TARGET void msts_bf16_matmul(float *out, const uint16_t *x, const uint16_t *w,
                                              int32_t in, int32_t ldo, int32_t r0, int32_t r1,
                                              int32_t o0, int32_t o1, int32_t kc) {
    for (long k0 = 0; k0 < in; k0 += kc) {
        long k1 = k0 + kc < in ? k0 + kc : in;
        int acc = k0 > 0;
        long o = o0;
        for (; o + 4 <= o1; o += 4) {
            long r = r0;
            for (; r + 4 <= r1; r += 4) tile4x4(out, x, w, in, ldo, r, o, k0, k1, acc);
            for (; r < r1; r++) tile1x4(out, x, w, in, ldo, r, o, k0, k1, acc);
        }
        for (; o < o1; o++)
            for (long r = r0; r < r1; r++) tile1x1(out, x, w, in, ldo, r, o, k0, k1, acc);
    }
}
