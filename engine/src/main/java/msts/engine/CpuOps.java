package msts.engine;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;

/**
 * The fast CPU backend: Vector API kernels (preferred species, 16 float lanes with AVX-512) run on all
 * cores through {@link Parallel}. Each op computes the same formula as its plain loop in
 * {@link Kernels} (tested against it in CpuOpsTest); only the summation order differs. Blocking schemes
 * and measured speed: docs/engine.md.
 */
public final class CpuOps implements Ops {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> SI = IntVector.SPECIES_PREFERRED;

    private static final int L = S.length();
    /** gemm micro-tile: MR rows × NR columns of C in registers. */
    private static final int G_MR = 4, G_NR = 3 * L;

    /** Lane permutations i → i xor h for h = L/2, L/4, ..., 1 (see {@link #hsum}). */
    private static final VectorShuffle<Float>[] HALVES = halves();
    /** The same permutations as constants (C2 needs constant shuffles to emit one permute each). */
    private static final VectorShuffle<Float> X8 = xor(8), X4 = xor(4), X2 = xor(2), X1 = xor(1);
    /** blend masks: lanes whose index has bit h set. */
    private static final VectorMask<Float> M8 = bit(8), M4 = bit(4), M2 = bit(2), M1 = bit(1);

    private static VectorShuffle<Float> xor(int h) {
        return VectorShuffle.fromOp(S, j -> (j ^ h) % S.length());
    }

    private static VectorMask<Float> bit(int h) {
        boolean[] m = new boolean[S.length()];
        for (int i = 0; i < m.length; i++) m[i] = (i & h) != 0;
        return VectorMask.fromArray(S, m, 0);
    }

    @SuppressWarnings("unchecked")
    private static VectorShuffle<Float>[] halves() {
        VectorShuffle<Float>[] out = new VectorShuffle[Integer.numberOfTrailingZeros(S.length())];
        for (int i = 0, h = S.length() / 2; h >= 1; i++, h /= 2) {
            final int hh = h;
            out[i] = VectorShuffle.fromOp(S, j -> j ^ hh);
        }
        return out;
    }

    /**
     * Horizontal sum in a fixed pairwise order. {@code reduceLanes(ADD)} leaves the order unspecified, and
     * the interpreter, C1 and C2 sum in different orders, so results changed as the JIT warmed up (a
     * resumed harvest differed from an uninterrupted one); this tree gives the same bits in every tier.
     */
    public static float hsum(FloatVector v) {
        if (L == 16) {
            v = v.add(v.rearrange(X8));
            v = v.add(v.rearrange(X4));
            v = v.add(v.rearrange(X2));
            return v.add(v.rearrange(X1)).lane(0);
        }
        for (VectorShuffle<Float> sh : HALVES) v = v.add(v.rearrange(sh));
        return v.lane(0);
    }

    /** One butterfly step on a pair: lanes with bit h clear sum x's lanes i and i^h, the others y's. */
    private static FloatVector pair(FloatVector x, FloatVector y, VectorMask<Float> m, VectorShuffle<Float> sh) {
        return x.blend(y, m).add(y.blend(x, m).rearrange(sh));
    }

    /** Position of 4x4-tile accumulator a (row-major) in the vector {@link #reduce4x4} produces. */
    private static final int[] BITREV4 = {0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15};

    /**
     * Sums each of the 16 accumulators t[16a .. 16a+16) of a 4×4 tile (fixed butterfly order, the same
     * tree as {@link #hsum}, so identical bits in every JIT tier) and stores or adds the 4×4 results into
     * out. A separate method so that the tile kernels stay small enough for C2 to inline all their vector
     * ops; the accumulators come through memory (t) instead of arguments, which would be boxed.
     */
    private static void reduce4x4(float[] t, float[] out, int ob, int outDim, boolean acc) {
        if (L != 16) {
            for (int a = 0; a < 16; a++) t[16 * L + BITREV4[a]] = hsum(FloatVector.fromArray(S, t, a * L));
        } else {
            FloatVector p0 = pair(FloatVector.fromArray(S, t, 0), FloatVector.fromArray(S, t, 16), M8, X8);
            FloatVector p1 = pair(FloatVector.fromArray(S, t, 32), FloatVector.fromArray(S, t, 48), M8, X8);
            FloatVector p2 = pair(FloatVector.fromArray(S, t, 64), FloatVector.fromArray(S, t, 80), M8, X8);
            FloatVector p3 = pair(FloatVector.fromArray(S, t, 96), FloatVector.fromArray(S, t, 112), M8, X8);
            FloatVector p4 = pair(FloatVector.fromArray(S, t, 128), FloatVector.fromArray(S, t, 144), M8, X8);
            FloatVector p5 = pair(FloatVector.fromArray(S, t, 160), FloatVector.fromArray(S, t, 176), M8, X8);
            FloatVector p6 = pair(FloatVector.fromArray(S, t, 192), FloatVector.fromArray(S, t, 208), M8, X8);
            FloatVector p7 = pair(FloatVector.fromArray(S, t, 224), FloatVector.fromArray(S, t, 240), M8, X8);
            FloatVector q0 = pair(p0, p1, M4, X4), q1 = pair(p2, p3, M4, X4), q2 = pair(p4, p5, M4, X4), q3 = pair(p6, p7, M4, X4);
            FloatVector r0 = pair(q0, q1, M2, X2), r1 = pair(q2, q3, M2, X2);
            pair(r0, r1, M1, X1).intoArray(t, 16 * L);
        }
        int tl = 17 * L; // the scalar tails (tail4x4)
        for (int i = 0; i < 4; i++) {
            int o = ob + i * outDim, a = 4 * i;
            store4(out, o, t[16 * L + BITREV4[a]] + t[tl + a], t[16 * L + BITREV4[a + 1]] + t[tl + a + 1],
                    t[16 * L + BITREV4[a + 2]] + t[tl + a + 2], t[16 * L + BITREV4[a + 3]] + t[tl + a + 3], acc);
        }
    }

    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    /**
     * Block sizes of the CPU kernels (docs/engine.md): matmul k block {@code matmulKc} (x block in L2), gemm
     * KC/MC/NC (Goto/BLIS packing). They change speed only, never which products are summed in which order
     * within a row (results stay bit-identical across row counts for a fixed tuning).
     */
    public record Tuning(int matmulKc, int gemmKc, int gemmMc, int gemmNc) {
        public static final Tuning DEFAULT = new Tuning(2304, 256, 128, 2048);

        public Tuning {
            if (matmulKc < 1 || gemmKc < 1 || gemmMc < 1 || gemmNc < 1)
                throw new IllegalArgumentException("CPU tuning block sizes must be positive: " + matmulKc + ", " + gemmKc + ", " + gemmMc + ", " + gemmNc);
        }

        /**
         * The tuning of {@link #INSTANCE}: {@link #DEFAULT} overridden by the documented system properties
         * {@code -Dmsts.matmul.kc}, {@code -Dmsts.gemm.kc}, {@code -Dmsts.gemm.mc}, {@code -Dmsts.gemm.nc}
         * (for benchmarks), read here and nowhere else.
         */
        public static Tuning fromSystemProperties() {
            return new Tuning(Integer.getInteger("msts.matmul.kc", DEFAULT.matmulKc), Integer.getInteger("msts.gemm.kc", DEFAULT.gemmKc),
                    Integer.getInteger("msts.gemm.mc", DEFAULT.gemmMc), Integer.getInteger("msts.gemm.nc", DEFAULT.gemmNc));
        }
    }

    /** The CPU ops with {@link Tuning#fromSystemProperties()} (the defaults unless a property is set). */
    public static final CpuOps INSTANCE = new CpuOps(Tuning.fromSystemProperties());

    private final Tuning tuning;
    private final int mmKc, gKc, gMc, gNc;

    /** The CPU ops with the default tuning. */
    public CpuOps() {
        this(Tuning.DEFAULT);
    }

    public CpuOps(Tuning tuning) {
        if (SI.length() != L) throw new IllegalStateException("int and float species differ: " + SI + " vs " + S);
        this.tuning = tuning;
        this.mmKc = tuning.matmulKc();
        this.gKc = tuning.gemmKc();
        this.gMc = Math.max(G_MR, tuning.gemmMc() / G_MR * G_MR);
        this.gNc = Math.max(G_NR, tuning.gemmNc() / G_NR * G_NR);
    }

    public Tuning tuning() { return tuning; }

    @Override public String name() { return "cpu"; }

    // ---- scratch ---------------------------------------------------------------------------------

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[5][]);

    /** A per-thread reusable buffer of at least n floats (slot separates independent uses). */
    static float[] scratch(int slot, int n) {
        float[][] s = SCRATCH.get();
        float[] b = s[slot];
        if (b == null || b.length < n) {
            b = new float[Math.max(n, b == null ? 0 : b.length + b.length / 2)];
            s[slot] = b;
        }
        return b;
    }

    private static final int SLOT_MATMUL_X = 0, SLOT_GEMM_B = 1, SLOT_GEMM_A = 2, SLOT_ROW = 3, SLOT_GEMM_A_ALL = 4;

    // ==== matmul x·Wᵀ ===============================================================================
    //
    // Dot-product form: both x rows and W rows are contiguous along k, so every tile accumulates lane-wise
    // partial sums over k in vector registers and reduces them once at the end of a k block. A 4×4 tile
    // (4 rows of x × 4 rows of W) loads 8 vectors per 16 FMAs, so each weight vector is reused across 4
    // rows. Work is split over output columns; k is blocked so that the x block stays in L2.
    //
    // 16-bit weights: one IntVector load holds 2·L consecutive bf16/f16 values; the even-indexed values
    // are the low halves, the odd ones the high halves. x is permuted once per call into the same
    // even/odd order (per block of 2·L), so widening is a shift (bf16) or a few bit ops (f16) in registers.

    /** Never started; only asks whether a segment is readable by threads other than its owner. */
    private static final Thread OTHER_THREAD = new Thread(() -> {});

    private static final int MM_RB = 4, MM_CB = 4;

    @Override
    public void matmul(float[] out, float[] x, Tensor w, int rows) {
        if (w.rank() != 2) throw new IllegalArgumentException("matmul weight must be [out, in], got " + w);
        int outDim = Math.toIntExact(w.dim(0)), in = Math.toIntExact(w.dim(1));
        if ((long) rows * in > x.length) throw new IllegalArgumentException("x has " + x.length + " floats, need " + rows + "×" + in);
        if ((long) rows * outDim > out.length) throw new IllegalArgumentException("out has " + out.length + " floats, need " + rows + "×" + outDim);
        if (rows == 0 || outDim == 0) return;
        MemorySegment seg = w.segment();
        DType dt = w.dtype();
        float[] xs = x;
        if (dt != DType.F32) {
            float[] xsw = scratch(SLOT_MATMUL_X, rows * in);
            Parallel.forRange(0, rows, Math.max(1, 65536 / Math.max(1, in)), (lo, hi) -> permutePairs(xsw, x, lo, hi, in));
            xs = xsw;
        }
        final float[] xp = xs;
        // k blocks at fixed multiples of KC whatever the row count, so a row's result does not depend on
        // the batch it is in (together with the canonical order of every kernel, see matmulColumns)
        int kc = Math.max(2 * L, mmKc / (2 * L) * (2 * L));
        int blocks = (outDim + MM_CB - 1) / MM_CB;
        int chunk = Math.max(1, Math.min(64, blocks / (Parallel.threads() * 8)));
        if (!seg.isAccessibleBy(OTHER_THREAD)) { // a confined arena's segment: only this thread may read it
            matmulColumns(out, xp, seg, dt, 0, rows, in, outDim, 0, outDim, kc);
        } else if (blocks >= 4 * Parallel.threads() || rows < 2 * MM_RB) {
            Parallel.forRange(0, blocks, chunk, (lo, hi) ->
                    matmulColumns(out, xp, seg, dt, 0, rows, in, outDim, lo * MM_CB, Math.min(hi * MM_CB, outDim), kc));
        } else { // few output columns, many rows: split the rows instead
            int rowBlocks = (rows + MM_RB - 1) / MM_RB;
            Parallel.forRange(0, rowBlocks, Math.max(1, rowBlocks / (Parallel.threads() * 4)), (lo, hi) ->
                    matmulColumns(out, xp, seg, dt, lo * MM_RB, Math.min(hi * MM_RB, rows), in, outDim, 0, outDim, kc));
        }
    }

    /** Writes rows [r0, r1) of x into xs with each block of 2·L values reordered as [even-indexed..., odd-indexed...]. */
    static void permutePairs(float[] xs, float[] x, int r0, int r1, int in) {
        int vend = in / (2 * L) * (2 * L);
        for (int r = r0; r < r1; r++) {
            int base = r * in;
            for (int k = 0; k < vend; k += 2 * L) {
                for (int j = 0; j < L; j++) {
                    xs[base + k + j] = x[base + k + 2 * j];
                    xs[base + k + L + j] = x[base + k + 2 * j + 1];
                }
            }
            System.arraycopy(x, base + vend, xs, base + vend, in - vend);
        }
    }

    /** out[r0..r1, o0..o1) for one k block after another. */
    private static void matmulColumns(float[] out, float[] xs, MemorySegment w, DType dt, int r0, int r1, int in,
                                      int outDim, int o0, int o1, int kc) {
        float[] t = new float[17 * L + 16]; // a 4×4 tile's accumulators and tails on their way to reduce4x4
        for (int k0 = 0; k0 < in; k0 += kc) {
            int k1 = Math.min(in, k0 + kc);
            boolean acc = k0 > 0;
            for (int o = o0; o < o1; o += MM_CB) {
                if (o + MM_CB <= o1) {
                    int r = r0;
                    if (dt != DType.F16) {
                        for (; r + MM_RB <= r1; r += MM_RB) {
                            if (dt == DType.F32) tileF32x4x4(out, xs, w, in, outDim, r, o, k0, k1, acc, t);
                            else tileBF16x4x4(out, xs, w, in, outDim, r, o, k0, k1, acc, t);
                        }
                    }
                    for (; r < r1; r++) {
                        switch (dt) {
                            case F32 -> tileF32x1x4(out, xs, w, in, outDim, r, o, k0, k1, acc);
                            case BF16 -> tile16x1x4(out, xs, w, in, outDim, r, o, k0, k1, acc, false);
                            case F16 -> tile16x1x4(out, xs, w, in, outDim, r, o, k0, k1, acc, true);
                        }
                    }
                } else {
                    for (int oo = o; oo < o1; oo++) {
                        for (int r = r0; r < r1; r++) {
                            float s = switch (dt) {
                                case F32 -> dotF32(xs, r * in, w, (long) oo * in * 4, k0, k1);
                                case BF16 -> dot16(xs, r * in, w, (long) oo * in * 2, k0, k1, in, false);
                                case F16 -> dot16(xs, r * in, w, (long) oo * in * 2, k0, k1, in, true);
                            };
                            int oi = r * outDim + oo;
                            out[oi] = acc ? out[oi] + s : s;
                        }
                    }
                }
            }
        }
    }

    private static float wF32(MemorySegment w, long byteOff) {
        return w.get(Tensor.F32, byteOff);
    }

    private static float w16(MemorySegment w, long byteOff, boolean f16) {
        short h = w.get(Tensor.I16, byteOff);
        return f16 ? Float.float16ToFloat(h) : DType.bf16ToF32(h);
    }

    /** bf16 in the low 16 bits of each int lane → f32. */
    private static FloatVector bf16Lo(IntVector v) {
        return v.lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats();
    }

    /** bf16 in the high 16 bits of each int lane → f32. */
    private static FloatVector bf16Hi(IntVector v) {
        return v.and(0xFFFF0000).reinterpretAsFloats();
    }

    /**
     * f16 bits in the low 16 bits of each int lane (high bits zero) → f32, exact for normals,
     * subnormals, ±0, ±inf and NaN: the magnitude bits shifted into f32 position and scaled by 2^112
     * re-bias the exponent; exponent 31 (inf/NaN) maps to 255.
     */
    private static FloatVector f16ToF32(IntVector h) {
        IntVector mag = h.and(0x7FFF).lanewise(VectorOperators.LSHL, 13);
        FloatVector f = mag.reinterpretAsFloats().mul(0x1p112f);
        VectorMask<Integer> special = h.and(0x7C00).compare(VectorOperators.EQ, 0x7C00);
        IntVector bits = f.reinterpretAsInts().blend(mag.or(0x7F800000), special);
        return bits.or(h.and(0x8000).lanewise(VectorOperators.LSHL, 16)).reinterpretAsFloats();
    }

    private static FloatVector f16Lo(IntVector v) { return f16ToF32(v.and(0xFFFF)); }

    private static FloatVector f16Hi(IntVector v) { return f16ToF32(v.lanewise(VectorOperators.LSHR, 16)); }

    private static float dotF32(float[] x, int xb, MemorySegment w, long wb, int k0, int k1) {
        FloatVector a0 = FloatVector.zero(S);
        int k = k0;
        for (; k + 2 * L <= k1; k += 2 * L) {
            a0 = FloatVector.fromArray(S, x, xb + k).fma(FloatVector.fromMemorySegment(S, w, wb + 4L * k, LE), a0);
            a0 = FloatVector.fromArray(S, x, xb + k + L).fma(FloatVector.fromMemorySegment(S, w, wb + 4L * (k + L), LE), a0);
        }
        float t = 0f;
        for (; k < k1; k++) t += x[xb + k] * wF32(w, wb + 4L * k);
        return hsum(a0) + t;
    }

    /** Dot of permuted x with a 16-bit weight row over [k0, k1); k0 is a multiple of 2·L. */
    private static float dot16(float[] x, int xb, MemorySegment w, long wb, int k0, int k1, int in, boolean f16) {
        FloatVector a0 = FloatVector.zero(S);
        int k = k0;
        for (; k + 2 * L <= k1; k += 2 * L) {
            IntVector v = IntVector.fromMemorySegment(SI, w, wb + 2L * k, LE);
            FloatVector lo = f16 ? f16Lo(v) : bf16Lo(v), hi = f16 ? f16Hi(v) : bf16Hi(v);
            a0 = FloatVector.fromArray(S, x, xb + k).fma(lo, a0);
            a0 = FloatVector.fromArray(S, x, xb + k + L).fma(hi, a0);
        }
        float t = 0f;
        for (; k < k1; k++) t += x[xb + k] * w16(w, wb + 2L * k, f16);
        return hsum(a0) + t;
    }

    private static void tileF32x1x4(float[] out, float[] x, MemorySegment w, int in, int outDim, int r, int o,
                                    int k0, int k1, boolean acc) {
        long w0 = (long) o * in * 4, w1 = w0 + 4L * in, w2 = w1 + 4L * in, w3 = w2 + 4L * in;
        int xb = r * in;
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int k = k0;
        for (; k + 2 * L <= k1; k += 2 * L) { // the canonical order (see matmulColumns)
            FloatVector xv = FloatVector.fromArray(S, x, xb + k), xw = FloatVector.fromArray(S, x, xb + k + L);
            long kb = 4L * k, kc = kb + 4L * L;
            a0 = xv.fma(FloatVector.fromMemorySegment(S, w, w0 + kb, LE), a0);
            a1 = xv.fma(FloatVector.fromMemorySegment(S, w, w1 + kb, LE), a1);
            a2 = xv.fma(FloatVector.fromMemorySegment(S, w, w2 + kb, LE), a2);
            a3 = xv.fma(FloatVector.fromMemorySegment(S, w, w3 + kb, LE), a3);
            a0 = xw.fma(FloatVector.fromMemorySegment(S, w, w0 + kc, LE), a0);
            a1 = xw.fma(FloatVector.fromMemorySegment(S, w, w1 + kc, LE), a1);
            a2 = xw.fma(FloatVector.fromMemorySegment(S, w, w2 + kc, LE), a2);
            a3 = xw.fma(FloatVector.fromMemorySegment(S, w, w3 + kc, LE), a3);
        }
        float t0 = 0f, t1 = 0f, t2 = 0f, t3 = 0f;
        for (; k < k1; k++) {
            float xv = x[xb + k];
            long kb = 4L * k;
            t0 += xv * wF32(w, w0 + kb);
            t1 += xv * wF32(w, w1 + kb);
            t2 += xv * wF32(w, w2 + kb);
            t3 += xv * wF32(w, w3 + kb);
        }
        store4(out, r * outDim + o, hsum(a0) + t0, hsum(a1) + t1, hsum(a2) + t2, hsum(a3) + t3, acc);
    }

    private static void tile16x1x4(float[] out, float[] x, MemorySegment w, int in, int outDim, int r, int o,
                                   int k0, int k1, boolean acc, boolean f16) {
        long w0 = (long) o * in * 2, w1 = w0 + 2L * in, w2 = w1 + 2L * in, w3 = w2 + 2L * in;
        int xb = r * in;
        FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
        int k = k0;
        for (; k + 2 * L <= k1; k += 2 * L) { // the canonical order (see matmulColumns)
            FloatVector xe = FloatVector.fromArray(S, x, xb + k), xo = FloatVector.fromArray(S, x, xb + k + L);
            long kb = 2L * k;
            IntVector v0 = IntVector.fromMemorySegment(SI, w, w0 + kb, LE);
            IntVector v1 = IntVector.fromMemorySegment(SI, w, w1 + kb, LE);
            IntVector v2 = IntVector.fromMemorySegment(SI, w, w2 + kb, LE);
            IntVector v3 = IntVector.fromMemorySegment(SI, w, w3 + kb, LE);
            if (f16) {
                a0 = xe.fma(f16Lo(v0), a0); a1 = xe.fma(f16Lo(v1), a1); a2 = xe.fma(f16Lo(v2), a2); a3 = xe.fma(f16Lo(v3), a3);
                a0 = xo.fma(f16Hi(v0), a0); a1 = xo.fma(f16Hi(v1), a1); a2 = xo.fma(f16Hi(v2), a2); a3 = xo.fma(f16Hi(v3), a3);
            } else {
                a0 = xe.fma(bf16Lo(v0), a0); a1 = xe.fma(bf16Lo(v1), a1); a2 = xe.fma(bf16Lo(v2), a2); a3 = xe.fma(bf16Lo(v3), a3);
                a0 = xo.fma(bf16Hi(v0), a0); a1 = xo.fma(bf16Hi(v1), a1); a2 = xo.fma(bf16Hi(v2), a2); a3 = xo.fma(bf16Hi(v3), a3);
            }
        }
        float t0 = 0f, t1 = 0f, t2 = 0f, t3 = 0f;
        for (; k < k1; k++) {
            float xv = x[xb + k];
            long kb = 2L * k;
            t0 += xv * w16(w, w0 + kb, f16);
            t1 += xv * w16(w, w1 + kb, f16);
            t2 += xv * w16(w, w2 + kb, f16);
            t3 += xv * w16(w, w3 + kb, f16);
        }
        store4(out, r * outDim + o, hsum(a0) + t0, hsum(a1) + t1, hsum(a2) + t2, hsum(a3) + t3, acc);
    }

    private static void store4(float[] out, int i, float s0, float s1, float s2, float s3, boolean acc) {
        if (acc) {
            out[i] += s0; out[i + 1] += s1; out[i + 2] += s2; out[i + 3] += s3;
        } else {
            out[i] = s0; out[i + 1] = s1; out[i + 2] = s2; out[i + 3] = s3;
        }
    }

    private static void tileF32x4x4(float[] out, float[] x, MemorySegment w, int in, int outDim, int r, int o,
                                    int k0, int k1, boolean acc, float[] t) {
        long w0 = (long) o * in * 4, w1 = w0 + 4L * in, w2 = w1 + 4L * in, w3 = w2 + 4L * in;
        int x0 = r * in, x1 = x0 + in, x2 = x1 + in, x3 = x2 + in;
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        int k = k0;
        for (; k + 2 * L <= k1; k += 2 * L) { // two k vectors per iteration: 32 FMAs per 16 loads
            long kb = 4L * k;
            FloatVector v0 = FloatVector.fromMemorySegment(S, w, w0 + kb, LE);
            FloatVector v1 = FloatVector.fromMemorySegment(S, w, w1 + kb, LE);
            FloatVector v2 = FloatVector.fromMemorySegment(S, w, w2 + kb, LE);
            FloatVector v3 = FloatVector.fromMemorySegment(S, w, w3 + kb, LE);
            FloatVector xv = FloatVector.fromArray(S, x, x0 + k);
            c00 = xv.fma(v0, c00); c01 = xv.fma(v1, c01); c02 = xv.fma(v2, c02); c03 = xv.fma(v3, c03);
            xv = FloatVector.fromArray(S, x, x1 + k);
            c10 = xv.fma(v0, c10); c11 = xv.fma(v1, c11); c12 = xv.fma(v2, c12); c13 = xv.fma(v3, c13);
            xv = FloatVector.fromArray(S, x, x2 + k);
            c20 = xv.fma(v0, c20); c21 = xv.fma(v1, c21); c22 = xv.fma(v2, c22); c23 = xv.fma(v3, c23);
            xv = FloatVector.fromArray(S, x, x3 + k);
            c30 = xv.fma(v0, c30); c31 = xv.fma(v1, c31); c32 = xv.fma(v2, c32); c33 = xv.fma(v3, c33);
            kb += 4L * L;
            v0 = FloatVector.fromMemorySegment(S, w, w0 + kb, LE);
            v1 = FloatVector.fromMemorySegment(S, w, w1 + kb, LE);
            v2 = FloatVector.fromMemorySegment(S, w, w2 + kb, LE);
            v3 = FloatVector.fromMemorySegment(S, w, w3 + kb, LE);
            xv = FloatVector.fromArray(S, x, x0 + k + L);
            c00 = xv.fma(v0, c00); c01 = xv.fma(v1, c01); c02 = xv.fma(v2, c02); c03 = xv.fma(v3, c03);
            xv = FloatVector.fromArray(S, x, x1 + k + L);
            c10 = xv.fma(v0, c10); c11 = xv.fma(v1, c11); c12 = xv.fma(v2, c12); c13 = xv.fma(v3, c13);
            xv = FloatVector.fromArray(S, x, x2 + k + L);
            c20 = xv.fma(v0, c20); c21 = xv.fma(v1, c21); c22 = xv.fma(v2, c22); c23 = xv.fma(v3, c23);
            xv = FloatVector.fromArray(S, x, x3 + k + L);
            c30 = xv.fma(v0, c30); c31 = xv.fma(v1, c31); c32 = xv.fma(v2, c32); c33 = xv.fma(v3, c33);
        }
        int ob = r * outDim + o;
        c00.intoArray(t, 0); c01.intoArray(t, L); c02.intoArray(t, 2 * L); c03.intoArray(t, 3 * L);
        c10.intoArray(t, 4 * L); c11.intoArray(t, 5 * L); c12.intoArray(t, 6 * L); c13.intoArray(t, 7 * L);
        c20.intoArray(t, 8 * L); c21.intoArray(t, 9 * L); c22.intoArray(t, 10 * L); c23.intoArray(t, 11 * L);
        c30.intoArray(t, 12 * L); c31.intoArray(t, 13 * L); c32.intoArray(t, 14 * L); c33.intoArray(t, 15 * L);
        tail4x4(t, x, x0, in, w, w0, 4L * in, k, k1, false);
        reduce4x4(t, out, ob, outDim, acc);
    }

    private static void tileBF16x4x4(float[] out, float[] x, MemorySegment w, int in, int outDim, int r, int o,
                                     int k0, int k1, boolean acc, float[] t) {
        long w0 = (long) o * in * 2, w1 = w0 + 2L * in, w2 = w1 + 2L * in, w3 = w2 + 2L * in;
        int x0 = r * in, x1 = x0 + in, x2 = x1 + in, x3 = x2 + in;
        FloatVector c00 = FloatVector.zero(S), c01 = c00, c02 = c00, c03 = c00;
        FloatVector c10 = c00, c11 = c00, c12 = c00, c13 = c00;
        FloatVector c20 = c00, c21 = c00, c22 = c00, c23 = c00;
        FloatVector c30 = c00, c31 = c00, c32 = c00, c33 = c00;
        int k = k0;
        for (; k + 2 * L <= k1; k += 2 * L) {
            long kb = 2L * k;
            IntVector i0 = IntVector.fromMemorySegment(SI, w, w0 + kb, LE);
            IntVector i1 = IntVector.fromMemorySegment(SI, w, w1 + kb, LE);
            IntVector i2 = IntVector.fromMemorySegment(SI, w, w2 + kb, LE);
            IntVector i3 = IntVector.fromMemorySegment(SI, w, w3 + kb, LE);
            // even-indexed k (low halves)
            FloatVector v0 = bf16Lo(i0), v1 = bf16Lo(i1), v2 = bf16Lo(i2), v3 = bf16Lo(i3);
            FloatVector xv = FloatVector.fromArray(S, x, x0 + k);
            c00 = xv.fma(v0, c00); c01 = xv.fma(v1, c01); c02 = xv.fma(v2, c02); c03 = xv.fma(v3, c03);
            xv = FloatVector.fromArray(S, x, x1 + k);
            c10 = xv.fma(v0, c10); c11 = xv.fma(v1, c11); c12 = xv.fma(v2, c12); c13 = xv.fma(v3, c13);
            xv = FloatVector.fromArray(S, x, x2 + k);
            c20 = xv.fma(v0, c20); c21 = xv.fma(v1, c21); c22 = xv.fma(v2, c22); c23 = xv.fma(v3, c23);
            xv = FloatVector.fromArray(S, x, x3 + k);
            c30 = xv.fma(v0, c30); c31 = xv.fma(v1, c31); c32 = xv.fma(v2, c32); c33 = xv.fma(v3, c33);
            // odd-indexed k (high halves)
            v0 = bf16Hi(i0); v1 = bf16Hi(i1); v2 = bf16Hi(i2); v3 = bf16Hi(i3);
            xv = FloatVector.fromArray(S, x, x0 + k + L);
            c00 = xv.fma(v0, c00); c01 = xv.fma(v1, c01); c02 = xv.fma(v2, c02); c03 = xv.fma(v3, c03);
            xv = FloatVector.fromArray(S, x, x1 + k + L);
            c10 = xv.fma(v0, c10); c11 = xv.fma(v1, c11); c12 = xv.fma(v2, c12); c13 = xv.fma(v3, c13);
            xv = FloatVector.fromArray(S, x, x2 + k + L);
            c20 = xv.fma(v0, c20); c21 = xv.fma(v1, c21); c22 = xv.fma(v2, c22); c23 = xv.fma(v3, c23);
            xv = FloatVector.fromArray(S, x, x3 + k + L);
            c30 = xv.fma(v0, c30); c31 = xv.fma(v1, c31); c32 = xv.fma(v2, c32); c33 = xv.fma(v3, c33);
        }
        int ob = r * outDim + o;
        c00.intoArray(t, 0); c01.intoArray(t, L); c02.intoArray(t, 2 * L); c03.intoArray(t, 3 * L);
        c10.intoArray(t, 4 * L); c11.intoArray(t, 5 * L); c12.intoArray(t, 6 * L); c13.intoArray(t, 7 * L);
        c20.intoArray(t, 8 * L); c21.intoArray(t, 9 * L); c22.intoArray(t, 10 * L); c23.intoArray(t, 11 * L);
        c30.intoArray(t, 12 * L); c31.intoArray(t, 13 * L); c32.intoArray(t, 14 * L); c33.intoArray(t, 15 * L);
        tail4x4(t, x, x0, in, w, w0, 2L * in, k, k1, true);
        reduce4x4(t, out, ob, outDim, acc);
    }

    /** The scalar k tails [k, k1) of a 4×4 tile (row-major), into buf[17L .. 17L+16). */
    private static void tail4x4(float[] buf, float[] x, int x0, int in,
                                MemorySegment w, long w0, long wRowBytes, int k, int k1, boolean half) {
        for (int i = 0; i < 4; i++) {
            int xb = x0 + i * in;
            for (int j = 0; j < 4; j++) {
                long wb = w0 + j * wRowBytes;
                float t = 0f;
                for (int kk = k; kk < k1; kk++)
                    t += x[xb + kk] * (half ? w16(w, wb + 2L * kk, false) : wF32(w, wb + 4L * kk));
                buf[17 * L + 4 * i + j] = t;
            }
        }
    }

    // ==== gemm ========================================================================================
    //
    // Goto/BLIS scheme: C is first scaled by beta; then for each NC-column block and KC-deep slice,
    // op(B) is packed (shared, in parallel) into NR-wide column panels [KC][NR] and each task packs an
    // MC×KC block of alpha·op(A) into MR-tall row panels [KC][MR]; the micro-kernel keeps an MR×NR tile
    // of C in registers (MR broadcasts of A × NR/L vectors of B per k step). Edge tiles go through a
    // small buffer. The transposes only change the packing loops.

    // G_MR, G_NR: the gemm micro-tile, declared with L at the top (the tuning in the constructor needs them)

    @Override
    public void gemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                     float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                     float beta, float[] c, int cOff, int ldc) {
        checkGemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff, ldc);
        if (m == 0 || n == 0) return;
        if (beta != 1f) {
            Parallel.forRange(0, m, Math.max(1, 65536 / Math.max(1, n)), (lo, hi) -> {
                for (int i = lo; i < hi; i++) scaleRow(c, cOff + i * ldc, n, beta);
            });
        }
        if (k == 0 || alpha == 0f) return;

        float[] bp = scratch(SLOT_GEMM_B, gKc * Math.min(gNc, roundUp(n, G_NR)));
        for (int jc = 0; jc < n; jc += gNc) {
            int nc = Math.min(gNc, n - jc);
            int panels = (nc + G_NR - 1) / G_NR;
            for (int pc = 0; pc < k; pc += gKc) {
                int kc = Math.min(gKc, k - pc);
                final int jc0 = jc, pc0 = pc;
                Parallel.forRange(0, panels, Math.max(1, panels / (Parallel.threads() * 4)), (lo, hi) -> {
                    for (int jp = lo; jp < hi; jp++)
                        packB(bp, jp * kc * G_NR, transB, b, bOff, ldb, pc0, kc, jc0 + jp * G_NR,
                                Math.min(G_NR, nc - jp * G_NR));
                });
                int mBlocks = (m + gMc - 1) / gMc;
                // ≥ 8 tasks per thread, so a thread the OS pauses (a shared machine) delays little
                int want = 8 * Parallel.threads();
                int jGroups = mBlocks >= want ? 1 : Math.min(panels, (want + mBlocks - 1) / mBlocks);
                int perGroup = (panels + jGroups - 1) / jGroups;
                final int groups = (panels + perGroup - 1) / perGroup;
                // several column groups per row block: pack all of op(A) once (in parallel) instead of once per task
                final float[] apAll = groups > 1 ? scratch(SLOT_GEMM_A_ALL, mBlocks * gMc * kc) : null;
                if (apAll != null)
                    Parallel.forRange(0, mBlocks, 1, (lo, hi) -> {
                        for (int ib = lo; ib < hi; ib++)
                            packA(apAll, ib * gMc * kc, transA, alpha, a, aOff, lda, ib * gMc, Math.min(gMc, m - ib * gMc), pc0, kc);
                    });
                Parallel.forRange(0, mBlocks * groups, 1, (lo, hi) -> {
                    float[] ap = apAll != null ? apAll : scratch(SLOT_GEMM_A, gMc * kc);
                    int packedIc = -1;
                    for (int t = lo; t < hi; t++) {
                        int ib = t / groups, g = t % groups;
                        int ic = ib * gMc, mc = Math.min(gMc, m - ic);
                        int a0 = apAll != null ? ib * gMc * kc : 0;
                        if (apAll == null && ic != packedIc) {
                            packA(ap, 0, transA, alpha, a, aOff, lda, ic, mc, pc0, kc);
                            packedIc = ic;
                        }
                        int jpEnd = Math.min(panels, (g + 1) * perGroup);
                        for (int jp = g * perGroup; jp < jpEnd; jp++) {
                            int j = jc0 + jp * G_NR, nr = Math.min(G_NR, jc0 + nc - j);
                            for (int ir = 0; ir < mc; ir += G_MR) {
                                int mr = Math.min(G_MR, mc - ir);
                                int ci = cOff + (ic + ir) * ldc + j;
                                if (mr == G_MR && nr == G_NR) {
                                    micro4x3(kc, ap, a0 + ir * kc, bp, jp * kc * G_NR, c, ci, ldc);
                                } else {
                                    float[] edge = scratch(SLOT_ROW, G_MR * G_NR);
                                    java.util.Arrays.fill(edge, 0, G_MR * G_NR, 0f);
                                    micro4x3(kc, ap, a0 + ir * kc, bp, jp * kc * G_NR, edge, 0, G_NR);
                                    for (int i = 0; i < mr; i++)
                                        for (int jj = 0; jj < nr; jj++) c[ci + i * ldc + jj] += edge[i * G_NR + jj];
                                }
                            }
                        }
                    }
                });
            }
        }
    }

    private static int roundUp(int v, int m) { return (v + m - 1) / m * m; }

    private static void scaleRow(float[] c, int off, int n, float beta) {
        if (beta == 0f) {
            java.util.Arrays.fill(c, off, off + n, 0f);
            return;
        }
        int j = 0;
        for (; j + L <= n; j += L) FloatVector.fromArray(S, c, off + j).mul(beta).intoArray(c, off + j);
        for (; j < n; j++) c[off + j] *= beta;
    }

    /** Packs op(B)[pc..pc+kc, j..j+nr] into dst[p*NR + jj], zero-padding columns nr..NR. */
    private static void packB(float[] dst, int d0, boolean transB, float[] b, int bOff, int ldb,
                              int pc, int kc, int j, int nr) {
        if (!transB) {
            for (int p = 0; p < kc; p++) {
                int src = bOff + (pc + p) * ldb + j, d = d0 + p * G_NR;
                if (nr == G_NR) {
                    System.arraycopy(b, src, dst, d, G_NR);
                } else {
                    for (int jj = 0; jj < nr; jj++) dst[d + jj] = b[src + jj];
                    for (int jj = nr; jj < G_NR; jj++) dst[d + jj] = 0f;
                }
            }
        } else {
            for (int jj = 0; jj < nr; jj++) {
                int src = bOff + (j + jj) * ldb + pc;
                for (int p = 0; p < kc; p++) dst[d0 + p * G_NR + jj] = b[src + p];
            }
            for (int jj = nr; jj < G_NR; jj++)
                for (int p = 0; p < kc; p++) dst[d0 + p * G_NR + jj] = 0f;
        }
    }

    /** Packs alpha·op(A)[ic..ic+mc, pc..pc+kc] into MR-row panels dst[dOff + (ir/MR)*kc*MR + p*MR + i]. */
    private static void packA(float[] dst, int dOff, boolean transA, float alpha, float[] a, int aOff, int lda,
                              int ic, int mc, int pc, int kc) {
        if (transA) {
            // row p of op(A)ᵀ is contiguous: read it once, front to back (one memory page per p)
            for (int p = 0; p < kc; p++) {
                int src = aOff + (pc + p) * lda + ic, d = dOff + p * G_MR;
                for (int ir = 0; ir < mc; ir += G_MR) {
                    int mr = Math.min(G_MR, mc - ir), di = d + ir * kc;
                    for (int i = 0; i < mr; i++) dst[di + i] = alpha * a[src + ir + i];
                    for (int i = mr; i < G_MR; i++) dst[di + i] = 0f;
                }
            }
            return;
        }
        for (int ir = 0; ir < mc; ir += G_MR) {
            int mr = Math.min(G_MR, mc - ir), d0 = dOff + ir * kc;
            for (int i = 0; i < mr; i++) {
                int src = aOff + (ic + ir + i) * lda + pc;
                for (int p = 0; p < kc; p++) dst[d0 + p * G_MR + i] = alpha * a[src + p];
            }
            for (int i = mr; i < G_MR; i++)
                for (int p = 0; p < kc; p++) dst[d0 + p * G_MR + i] = 0f;
        }
    }

    /**
     * C[0..4, 0..3L) += Σ_p ap[p*4 + i] · bp[p*3L + j]. The C tile is loaded into the accumulators
     * first and stored back at the end; kept this small so C2 inlines every vector op (a larger body
     * hits its inlining node cutoff and then boxes vectors).
     */
    private static void micro4x3(int kc, float[] ap, int ai, float[] bp, int bi, float[] c, int ci, int ldc) {
        int r1 = ci + ldc, r2 = r1 + ldc, r3 = r2 + ldc;
        FloatVector c00 = FloatVector.fromArray(S, c, ci), c01 = FloatVector.fromArray(S, c, ci + L), c02 = FloatVector.fromArray(S, c, ci + 2 * L);
        FloatVector c10 = FloatVector.fromArray(S, c, r1), c11 = FloatVector.fromArray(S, c, r1 + L), c12 = FloatVector.fromArray(S, c, r1 + 2 * L);
        FloatVector c20 = FloatVector.fromArray(S, c, r2), c21 = FloatVector.fromArray(S, c, r2 + L), c22 = FloatVector.fromArray(S, c, r2 + 2 * L);
        FloatVector c30 = FloatVector.fromArray(S, c, r3), c31 = FloatVector.fromArray(S, c, r3 + L), c32 = FloatVector.fromArray(S, c, r3 + 2 * L);
        for (int p = 0; p < kc; p++, ai += G_MR, bi += G_NR) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bi), b1 = FloatVector.fromArray(S, bp, bi + L),
                    b2 = FloatVector.fromArray(S, bp, bi + 2 * L);
            FloatVector av = FloatVector.broadcast(S, ap[ai]);
            c00 = av.fma(b0, c00); c01 = av.fma(b1, c01); c02 = av.fma(b2, c02);
            av = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = av.fma(b0, c10); c11 = av.fma(b1, c11); c12 = av.fma(b2, c12);
            av = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = av.fma(b0, c20); c21 = av.fma(b1, c21); c22 = av.fma(b2, c22);
            av = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = av.fma(b0, c30); c31 = av.fma(b1, c31); c32 = av.fma(b2, c32);
        }
        c00.intoArray(c, ci); c01.intoArray(c, ci + L); c02.intoArray(c, ci + 2 * L);
        c10.intoArray(c, r1); c11.intoArray(c, r1 + L); c12.intoArray(c, r1 + 2 * L);
        c20.intoArray(c, r2); c21.intoArray(c, r2 + L); c22.intoArray(c, r2 + 2 * L);
        c30.intoArray(c, r3); c31.intoArray(c, r3 + L); c32.intoArray(c, r3 + 2 * L);
    }

    static void checkGemm(boolean transA, boolean transB, int m, int n, int k,
                          float[] a, int aOff, int lda, float[] b, int bOff, int ldb,
                          float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("gemm: negative size m=" + m + " n=" + n + " k=" + k);
        if (m == 0 || n == 0) return;
        int aRows = transA ? k : m, aCols = transA ? m : k;
        int bRows = transB ? n : k, bCols = transB ? k : n;
        checkMatrix("A", a, aOff, lda, aRows, aCols);
        checkMatrix("B", b, bOff, ldb, bRows, bCols);
        checkMatrix("C", c, cOff, ldc, m, n);
    }

    private static void checkMatrix(String name, float[] x, int off, int ld, int rows, int cols) {
        if (rows == 0 || cols == 0) return;
        if (off < 0 || ld < cols || (long) off + (long) (rows - 1) * ld + cols > x.length)
            throw new IllegalArgumentException("gemm: " + name + " [" + rows + "×" + cols + "] with offset " + off
                    + " and leading dimension " + ld + " does not fit an array of " + x.length);
    }

    // ==== Gemma-2 layer ops =========================================================================

    /** Fast {@link Kernels#rmsNorm}: sum of squares and scaling in vector lanes, rows on all cores. */
    @Override
    public void rmsNorm(float[] out, float[] x, Tensor w, int rows, int dim, float eps) {
        float[] w1 = new float[dim];
        for (int i = 0; i < dim; i++) w1[i] = 1f + w.get(i);
        Parallel.forRange(0, rows, Math.max(1, 16384 / Math.max(1, dim)), (lo, hi) -> {
            for (int r = lo; r < hi; r++) rmsNormRow(out, x, w1, r * dim, dim, eps);
        });
    }

    private static void rmsNormRow(float[] out, float[] x, float[] w1, int off, int dim, float eps) {
        FloatVector acc = FloatVector.zero(S);
        int i = 0;
        for (; i + L <= dim; i += L) {
            FloatVector v = FloatVector.fromArray(S, x, off + i);
            acc = v.fma(v, acc);
        }
        float ss = hsum(acc);
        for (; i < dim; i++) ss += x[off + i] * x[off + i];
        float inv = (float) (1.0 / Math.sqrt(ss / dim + eps));
        i = 0;
        for (; i + L <= dim; i += L)
            FloatVector.fromArray(S, x, off + i).mul(inv).mul(FloatVector.fromArray(S, w1, i)).intoArray(out, off + i);
        for (; i < dim; i++) out[off + i] = x[off + i] * inv * w1[i];
    }

    /** Fast {@link Kernels#rope}: cos/sin once per row, rotation in vector lanes, rows on all cores. */
    @Override
    public void rope(float[] x, int rows, int heads, int headDim, int pos0, float theta) {
        int half = headDim / 2;
        float[] invFreq = new float[half];
        for (int i = 0; i < half; i++) invFreq[i] = Kernels.ropeInvFreq(i, headDim, theta);
        Parallel.forRange(0, rows, Math.max(1, 8192 / Math.max(1, heads * headDim)), (lo, hi) -> {
            float[] cs = new float[2 * half];
            for (int r = lo; r < hi; r++) {
                float pos = (float) (pos0 + r);
                for (int i = 0; i < half; i++) {
                    float angle = pos * invFreq[i];
                    cs[i] = (float) Math.cos(angle);
                    cs[half + i] = (float) Math.sin(angle);
                }
                for (int h = 0; h < heads; h++) ropeHead(x, (r * heads + h) * headDim, half, cs);
            }
        });
    }

    private static void ropeHead(float[] x, int base, int half, float[] cs) {
        int i = 0;
        for (; i + L <= half; i += L) {
            FloatVector x0 = FloatVector.fromArray(S, x, base + i), x1 = FloatVector.fromArray(S, x, base + half + i);
            FloatVector cos = FloatVector.fromArray(S, cs, i), sin = FloatVector.fromArray(S, cs, half + i);
            x0.mul(cos).sub(x1.mul(sin)).intoArray(x, base + i);
            x1.mul(cos).add(x0.mul(sin)).intoArray(x, base + half + i);
        }
        for (; i < half; i++) {
            float cos = cs[i], sin = cs[half + i];
            float x0 = x[base + i], x1 = x[base + half + i];
            x[base + i] = x0 * cos - x1 * sin;
            x[base + half + i] = x1 * cos + x0 * sin;
        }
    }

    /** Fast {@link Kernels#attention}: q·k and p·v in vector lanes, (head, query) rows on all cores. */
    @Override
    public void attention(float[] out, float[] q, float[] k, float[] v, int T, int heads, int kvHeads,
                          int headDim, float scale, float softcap, int window) {
        if (kvHeads <= 0 || heads % kvHeads != 0)
            throw new IllegalArgumentException("attention: heads " + heads + " not a multiple of kv heads " + kvHeads);
        int group = heads / kvHeads;
        int qStride = heads * headDim, kvStride = kvHeads * headDim;
        Parallel.forRange(0, heads * T, Math.max(1, Math.min(T, 64)), (lo, hi) -> {
            float[] scores = new float[T];
            for (int t = lo; t < hi; t++) {
                int h = t / T, i = t % T;
                attendRow(out, q, k, v, scores, i, h, h / group, qStride, kvStride, headDim, scale, softcap, window);
            }
        });
    }

    private static void attendRow(float[] out, float[] q, float[] k, float[] v, float[] scores, int i, int h, int kvh,
                                  int qStride, int kvStride, int hd, float scale, float softcap, int window) {
        int jStart = window > 0 ? Math.max(0, i - window + 1) : 0;
        int qb = i * qStride + h * hd;
        float max = Float.NEGATIVE_INFINITY;
        for (int j = jStart; j <= i; j++) {
            int kb = j * kvStride + kvh * hd;
            FloatVector acc = FloatVector.zero(S);
            int d = 0;
            for (; d + L <= hd; d += L)
                acc = FloatVector.fromArray(S, q, qb + d).fma(FloatVector.fromArray(S, k, kb + d), acc);
            float s = hsum(acc);
            for (; d < hd; d++) s += q[qb + d] * k[kb + d];
            s *= scale;
            if (softcap > 0f) s = softcap * (float) Math.tanh(s / softcap);
            scores[j] = s;
            max = Math.max(max, s);
        }
        float denom = 0f;
        for (int j = jStart; j <= i; j++) {
            scores[j] = (float) Math.exp(scores[j] - max);
            denom += scores[j];
        }
        int ob = qb;
        java.util.Arrays.fill(out, ob, ob + hd, 0f);
        for (int j = jStart; j <= i; j++) {
            int vb = j * kvStride + kvh * hd;
            float p = scores[j];
            int d = 0;
            for (; d + L <= hd; d += L)
                FloatVector.fromArray(S, v, vb + d).fma(FloatVector.broadcast(S, p), FloatVector.fromArray(S, out, ob + d)).intoArray(out, ob + d);
            for (; d < hd; d++) out[ob + d] += p * v[vb + d];
        }
        int d = 0;
        for (; d + L <= hd; d += L) FloatVector.fromArray(S, out, ob + d).div(denom).intoArray(out, ob + d);
        for (; d < hd; d++) out[ob + d] /= denom;
    }

    // ==== element-wise ops ==========================================================================

    /** Fast {@link Kernels#gegluTanh}: {@link #geluTanh(FloatVector)} lane-wise, on all cores. */
    @Override
    public void gegluTanh(float[] out, float[] gate, float[] up, int n) {
        Parallel.forRange(0, n, 1 << 14, (lo, hi) -> gegluTanhRange(out, gate, up, lo, hi));
    }

    /**
     * Fast {@link Kernels#gegluErf}: the reference's scalar {@link Kernels#geluErf} (a double-precision
     * series; no vector form) on all cores, so the bits equal the reference's.
     */
    @Override
    public void gegluErf(float[] out, float[] gate, float[] up, int n) {
        Parallel.forRange(0, n, 1 << 12, (lo, hi) -> {
            for (int i = lo; i < hi; i++) out[i] = Kernels.geluErf(gate[i]) * up[i];
        });
    }

    /** Fast {@link Kernels#softcap}: the same scalar formula (Math.tanh, so the same bits) on all cores. */
    @Override
    public void softcap(float[] x, int n, float cap) {
        Parallel.forRange(0, n, 1 << 14, (lo, hi) -> {
            for (int i = lo; i < hi; i++) x[i] = cap * (float) Math.tanh(x[i] / cap);
        });
    }

    /** Fast {@link Kernels#add}: vector adds on all cores (element-wise, so the same bits). */
    @Override
    public void add(float[] acc, float[] y, int n) {
        Parallel.forRange(0, n, 1 << 15, (lo, hi) -> addRange(acc, y, lo, hi));
    }

    /** acc[i] += y[i] for i in [lo, hi). */
    private static void addRange(float[] acc, float[] y, int lo, int hi) {
        int i = lo;
        for (; i + L <= hi; i += L)
            FloatVector.fromArray(S, acc, i).add(FloatVector.fromArray(S, y, i)).intoArray(acc, i);
        for (; i < hi; i++) acc[i] += y[i];
    }

    /** Fast {@link Kernels#addBias}: the bias widened once, then vector adds per row on all cores. */
    @Override
    public void addBias(float[] x, Tensor b, int rows, int dim) {
        float[] bias = new float[dim];
        for (int i = 0; i < dim; i++) bias[i] = b.get(i);
        Parallel.forRange(0, rows, Math.max(1, 16384 / Math.max(1, dim)), (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                int off = r * dim, i = 0;
                for (; i + L <= dim; i += L)
                    FloatVector.fromArray(S, x, off + i).add(FloatVector.fromArray(S, bias, i)).intoArray(x, off + i);
                for (; i < dim; i++) x[off + i] += bias[i];
            }
        });
    }

    /**
     * Fast {@link Kernels#embed}: rows gathered on all cores (one product per element, so the same bits).
     * A table in a confined arena is read on the calling thread only.
     */
    @Override
    public void embed(float[] out, int[] ids, Tensor table, int dim, float scale) {
        if (!table.segment().isAccessibleBy(OTHER_THREAD)) {
            Kernels.embed(out, ids, table, dim, scale);
            return;
        }
        Parallel.forRange(0, ids.length, Math.max(1, 16384 / Math.max(1, dim)), (lo, hi) -> {
            for (int r = lo; r < hi; r++) {
                long base = (long) ids[r] * dim;
                for (int i = 0; i < dim; i++) out[r * dim + i] = table.get(base + i) * scale;
            }
        });
    }

    private static final float GELU_C = (float) 0.7978845608028654;

    // GELU(tanh) = ½x(1 + tanh(u)) = x / (1 + e^(−2u)), u = √(2/π)(x + 0.044715x³) — the same function
    // without tanh's cancellation near −1, built from add/mul/fma/div only so that every JIT tier (and
    // the scalar tail) gives the same bits; Vector API TANH differs between the interpreter and C2.
    private static final float LOG2E = 1.4426950408889634f, LN2_HI = 0.693145751953125f, LN2_LO = 1.4286068203094172e-6f;
    private static final float ROUND = 12582912f; // 1.5·2^23: (t + ROUND) − ROUND rounds t to an integer

    /** e^y for y in [−87, 87]: y = n·ln2 + r, |r| ≤ ln2/2, e^r by its degree-7 Taylor polynomial. */
    private static FloatVector exp(FloatVector y) {
        FloatVector n = y.mul(LOG2E).add(ROUND).sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), y);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(FloatVector.broadcast(S, 1f / 5040), FloatVector.broadcast(S, 1f / 720));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 120));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 24));
        p = p.fma(r, FloatVector.broadcast(S, 1f / 6));
        p = p.fma(r, FloatVector.broadcast(S, 0.5f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        IntVector e = ((IntVector) n.convert(VectorOperators.F2I, 0)).add(127).lanewise(VectorOperators.LSHL, 23);
        return p.mul(e.reinterpretAsFloats());
    }

    /** Scalar twin of {@link #exp(FloatVector)}: the same operations in the same order. */
    private static float exp(float y) {
        float n = y * LOG2E + ROUND - ROUND;
        float r = Math.fma(n, -LN2_HI, y);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, 1f / 5040, 1f / 720);
        p = Math.fma(p, r, 1f / 120);
        p = Math.fma(p, r, 1f / 24);
        p = Math.fma(p, r, 1f / 6);
        p = Math.fma(p, r, 0.5f);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        return p * Float.intBitsToFloat(((int) n + 127) << 23);
    }

    /** {@link Kernels#geluTanh} as x/(1 + e^(−2u)) lane-wise (see the comment above). */
    private static FloatVector geluTanh(FloatVector g) {
        FloatVector u = g.mul(g).mul(g).mul(0.044715f).add(g).mul(GELU_C);
        FloatVector y = u.mul(-2f).max(-87f).min(87f);
        return g.div(exp(y).add(1f));
    }

    /** Scalar twin of {@link #geluTanh(FloatVector)}. */
    static float geluTanh(float g) {
        float u = (g * g * g * 0.044715f + g) * GELU_C;
        float y = Math.min(Math.max(u * -2f, -87f), 87f);
        return g / (exp(y) + 1f);
    }

    private static void gegluTanhRange(float[] out, float[] gate, float[] up, int lo, int hi) {
        int i = lo;
        for (; i + L <= hi; i += L)
            geluTanh(FloatVector.fromArray(S, gate, i)).mul(FloatVector.fromArray(S, up, i)).intoArray(out, i);
        for (; i < hi; i++) out[i] = geluTanh(gate[i]) * up[i];
    }
}
