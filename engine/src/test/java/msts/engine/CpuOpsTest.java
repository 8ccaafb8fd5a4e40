package msts.engine;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Every {@link CpuOps} op against the plain reference ({@link ReferenceOps} / {@link Kernels}) on awkward
 * shapes. Tolerances are relative to the magnitude of the summed terms: a sum of k products in F32 by
 * two different summation orders differs by at most about c·2⁻²⁴·√k·Σ|terms| in practice; the constant
 * was set from the measured worst case (see the comment at each assertion).
 */
class CpuOpsTest {
    static final float EPS = 0x1p-24f;
    final Ops fast = new CpuOps();
    final Ops ref = Ops.reference();
    final Arena arena = Arena.ofAuto();

    static float[] rand(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = rnd.nextFloat() * 2f - 1f;
        return a;
    }

    /** A weight tensor [out, in] in an off-heap segment at byte offset {@code shift} (unaligned when odd). */
    Tensor weights(Random rnd, DType dt, int out, int in, int shift) {
        long bytes = (long) out * in * dt.bytes;
        MemorySegment seg = arena.allocate(bytes + 64, 64).asSlice(shift, bytes);
        Tensor w = Tensor.wrap(seg, dt, out, in);
        for (long i = 0; i < (long) out * in; i++) w.set(i, rnd.nextFloat() * 2f - 1f);
        return w;
    }

    /** max over i of |got−want| / (EPS·scale[i]), with scale the sum of absolute terms (≥ 1 ulp of want). */
    static double worst(float[] want, float[] got, double[] scale, int n) {
        double worst = 0;
        for (int i = 0; i < n; i++) {
            if (Float.isNaN(want[i]) != Float.isNaN(got[i])) return Double.POSITIVE_INFINITY;
            double s = Math.max(scale[i], Math.abs(want[i])) + Float.MIN_NORMAL;
            worst = Math.max(worst, Math.abs((double) got[i] - want[i]) / (EPS * s));
        }
        return worst;
    }

    static void check(String what, float[] want, float[] got, double[] scale, int n, double bound) {
        double w = worst(want, got, scale, n);
        if (System.getenv("MSTS_TEST_TRACE") != null) System.out.printf("TRACE %s worst=%.3f bound=%.1f%n", what, w, bound);
        if (!(w <= bound)) fail(what + ": error " + w + "·2⁻²⁴·Σ|terms| exceeds " + bound);
    }

    // ---- matmul ----------------------------------------------------------------------------------

    @Test
    void matmulMatchesReferenceOnAwkwardShapes() {
        int[][] shapes = { // rows, in, out
                {1, 1, 1}, {1, 3, 5}, {3, 17, 33}, {5, 33, 17}, {1, 257, 7}, {4, 32, 4}, {9, 257, 13},
                {17, 100, 9}, {2, 2304, 6}, {8, 1200, 9}, {13, 2500, 11}, {1, 9216, 5}, {12, 64, 64}, {70, 40, 3}, {33, 2400, 6}};
        Random rnd = new Random(1);
        for (DType dt : DType.values()) {
            for (int[] s : shapes) {
                int rows = s[0], in = s[1], out = s[2];
                for (int shift : new int[] {0, 3}) {
                    Tensor w = weights(rnd, dt, out, in, shift);
                    float[] x = rand(rnd, rows * in);
                    float[] want = new float[rows * out], got = new float[rows * out];
                    ref.matmul(want, x, w, rows);
                    fast.matmul(got, x, w, rows);
                    double[] scale = new double[rows * out];
                    for (int r = 0; r < rows; r++)
                        for (int o = 0; o < out; o++) {
                            double t = 0;
                            for (int i = 0; i < in; i++) t += Math.abs(x[r * in + i] * w.get((long) o * in + i));
                            scale[r * out + o] = t;
                        }
                    // two float summation orders: measured worst 3.0 (BF16, k = 64; ≤ 0.4·√k everywhere); bound 2·√k
                    check("matmul " + dt + " rows=" + rows + " in=" + in + " out=" + out + " shift=" + shift,
                            want, got, scale, rows * out, 2 * Math.sqrt(in));
                }
            }
        }
    }

    @Test
    void matmulRowDoesNotDependOnTheBatch() {
        // every kernel (4×4 tile, 1×4 tile for leftover rows, 1×1 dot for leftover columns) sums in the same
        // order, so a row alone gives the same bits as inside any batch
        Random rnd = new Random(12);
        for (DType dt : DType.values()) {
            for (int[] s : new int[][] {{13, 2500, 11}, {6, 257, 9}, {9, 64, 4}}) {
                int rows = s[0], in = s[1], out = s[2];
                Tensor w = weights(rnd, dt, out, in, 1);
                float[] x = rand(rnd, rows * in), all = new float[rows * out], one = new float[out];
                fast.matmul(all, x, w, rows);
                for (int r = 0; r < rows; r++) {
                    fast.matmul(one, java.util.Arrays.copyOfRange(x, r * in, (r + 1) * in), w, 1);
                    for (int o = 0; o < out; o++)
                        assertEquals(Float.floatToRawIntBits(all[r * out + o]), Float.floatToRawIntBits(one[o]),
                                dt + " rows=" + rows + " in=" + in + ": row " + r + " col " + o + " alone vs in the batch");
                }
            }
        }
    }

    @Test
    void matmulWidensBf16AndF16SpecialValuesExactly() {
        // weights chosen to hit every widening path: ±0, subnormals, normals, ±inf for F16/BF16
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {
            int in = 64, out = 6;
            Tensor w = Tensor.wrap(arena.allocate((long) out * in * 2 + 1).asSlice(1), dt, out, in);
            float[] vals = dt == DType.F16
                    ? new float[] {0f, -0f, 1e-7f, -3e-6f, 5.9604645E-8f, 65504f, -2.5f, 0.1f, -6.1e-5f}
                    : new float[] {0f, -0f, 1e-7f, -3e-6f, 1e-40f, 3e38f, -2.5f, 0.1f, -1e-39f};
            Random rnd = new Random(2);
            for (long i = 0; i < (long) out * in; i++) w.set(i, vals[rnd.nextInt(vals.length)]);
            // one-hot x rows pick single weights, so the product is exact and must equal the widened value
            float[] x = new float[in * in];
            for (int i = 0; i < in; i++) x[i * in + i] = 1f;
            float[] got = new float[in * out];
            fast.matmul(got, x, w, in);
            for (int r = 0; r < in; r++)
                for (int o = 0; o < out; o++)
                    assertEquals(w.get((long) o * in + r), got[r * out + o], 0f, dt + " weight [" + o + "," + r + "]");
            w.set(5, Float.POSITIVE_INFINITY);
            fast.matmul(got, x, w, in);
            assertEquals(Float.POSITIVE_INFINITY, got[5 * out], dt + " inf");
        }
    }

    @Test
    void matmulRejectsShortBuffers() {
        Tensor w = Tensor.allocate(DType.F32, 4, 8);
        assertThrows(IllegalArgumentException.class, () -> fast.matmul(new float[8], new float[15], w, 2));
        assertThrows(IllegalArgumentException.class, () -> fast.matmul(new float[7], new float[16], w, 2));
    }

    // ---- gemm ------------------------------------------------------------------------------------

    @Test
    void gemmMatchesReferenceForAllTransposes() {
        int[][] shapes = { // m, n, k
                {1, 1, 1}, {3, 17, 33}, {17, 33, 3}, {33, 1, 257}, {1, 40, 300}, {9, 40, 300},
                {130, 70, 20}, {8, 32, 16}, {5, 2100, 7}, {257, 3, 5}, {70, 129, 513}};
        float[][] ab = {{1f, 0f}, {0.7f, 1f}, {-1.3f, -0.5f}, {2f, 0.25f}};
        Random rnd = new Random(3);
        int combo = 0;
        for (int[] s : shapes) {
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    int m = s[0], n = s[1], k = s[2];
                    float alpha = ab[combo % ab.length][0], beta = ab[combo % ab.length][1];
                    combo++;
                    int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
                    int lda = aCols + (combo % 3), ldb = bCols + (combo % 2) * 5, ldc = n + (combo % 4);
                    int aOff = combo % 5, bOff = combo % 7, cOff = combo % 3;
                    float[] a = rand(rnd, aOff + aRows * lda), b = rand(rnd, bOff + bRows * ldb);
                    float[] c0 = rand(rnd, cOff + m * ldc + 3);
                    float[] want = c0.clone(), got = c0.clone();
                    ref.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, want, cOff, ldc);
                    fast.gemm(ta, tb, m, n, k, alpha, a, aOff, lda, b, bOff, ldb, beta, got, cOff, ldc);
                    double[] scale = new double[got.length];
                    for (int i = 0; i < m; i++)
                        for (int j = 0; j < n; j++) {
                            double t = Math.abs(beta * c0[cOff + i * ldc + j]);
                            for (int p = 0; p < k; p++) {
                                float av = ta ? a[aOff + p * lda + i] : a[aOff + i * lda + p];
                                float bv = tb ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j];
                                t += Math.abs(alpha * av * bv);
                            }
                            scale[cOff + i * ldc + j] = t;
                        }
                    // every element, including the padding between rows (ldc > n) that must stay untouched;
                    // measured worst 4.7 (k = 513); closest to the bound at small k (3.3 at k = 3: β·C and α folded into
                    // the packed A add roundings); bound 2·√k + 2
                    check("gemm tA=" + ta + " tB=" + tb + " m=" + m + " n=" + n + " k=" + k + " α=" + alpha + " β=" + beta,
                            want, got, scale, got.length, 2 * Math.sqrt(k) + 2);
                    for (int i = 0; i < got.length; i++)
                        if (scale[i] == 0 && got[i] != c0[i]) fail("gemm wrote outside C at " + i);
                }
            }
        }
    }

    @Test
    void gemmWithBetaZeroIgnoresNaNInC() {
        Random rnd = new Random(4);
        int m = 20, n = 37, k = 11;
        float[] a = rand(rnd, m * k), b = rand(rnd, k * n);
        float[] want = new float[m * n], got = new float[m * n];
        java.util.Arrays.fill(got, Float.NaN);
        ref.gemmNN(m, n, k, a, b, want);
        fast.gemmNN(m, n, k, a, b, got);
        for (int i = 0; i < m * n; i++) assertEquals(want[i], got[i], 1e-5f);
    }

    @Test
    void gemmRejectsArraysTooSmall() {
        assertThrows(IllegalArgumentException.class,
                () -> fast.gemm(false, false, 4, 4, 4, 1f, new float[15], 0, 4, new float[16], 0, 4, 0f, new float[16], 0, 4));
        assertThrows(IllegalArgumentException.class,
                () -> fast.gemm(false, true, 4, 4, 4, 1f, new float[16], 0, 4, new float[16], 0, 3, 0f, new float[16], 0, 4));
    }

    // ---- layer ops -------------------------------------------------------------------------------

    @Test
    void rmsNormMatchesReference() {
        Random rnd = new Random(5);
        for (DType dt : new DType[] {DType.F32, DType.BF16}) {
            for (int dim : new int[] {1, 3, 17, 33, 257, 2304}) {
                for (int rows : new int[] {1, 3, 40}) {
                    Tensor w = weights(rnd, dt, 1, dim, 1).reshape(dim);
                    float[] x = rand(rnd, rows * dim);
                    float[] want = new float[rows * dim], got = new float[rows * dim];
                    ref.rmsNorm(want, x, w, rows, dim, 1e-6f);
                    fast.rmsNorm(got, x, w, rows, dim, 1e-6f);
                    double[] scale = new double[rows * dim];
                    for (int i = 0; i < scale.length; i++) scale[i] = Math.abs(want[i]);
                    // only the sum of squares is reordered (its rounding error grows like √dim and enters
                    // through rsqrt): measured worst 21.1 ulps at dim 2304 (BF16 w); bound 4 + √dim
                    check("rmsNorm " + dt + " dim=" + dim + " rows=" + rows, want, got, scale, scale.length, 4 + Math.sqrt(dim));
                    float[] inPlace = x.clone();
                    fast.rmsNorm(inPlace, inPlace, w, rows, dim, 1e-6f);
                    check("rmsNorm in place dim=" + dim, got, inPlace, scale, scale.length, 0);
                }
            }
        }
    }

    @Test
    void ropeMatchesReferenceExactly() {
        Random rnd = new Random(6);
        for (int hd : new int[] {2, 6, 34, 64, 256}) {
            for (int[] rh : new int[][] {{1, 1}, {5, 3}, {33, 2}}) {
                for (int pos0 : new int[] {0, 37}) {
                    int rows = rh[0], heads = rh[1];
                    float[] want = rand(rnd, rows * heads * hd), got = want.clone();
                    ref.rope(want, rows, heads, hd, pos0, 10000f);
                    fast.rope(got, rows, heads, hd, pos0, 10000f);
                    // same angles and the same unfused float ops in the same order: identical results
                    for (int i = 0; i < want.length; i++)
                        assertEquals(want[i], got[i], 0f, "rope hd=" + hd + " rows=" + rows + " at " + i);
                }
            }
        }
    }

    @Test
    void attentionMatchesReference() {
        Random rnd = new Random(7);
        int[][] cfg = { // T, heads, kvHeads, headDim
                {1, 1, 1, 3}, {5, 4, 2, 17}, {37, 4, 1, 32}, {19, 2, 2, 33}, {70, 8, 4, 16}};
        for (int[] c : cfg) {
            int T = c[0], heads = c[1], kv = c[2], hd = c[3];
            for (float softcap : new float[] {0f, 50f, 2f}) {
                for (int window : new int[] {0, 1, 4, 100}) {
                    float[] q = rand(rnd, T * heads * hd), k = rand(rnd, T * kv * hd), v = rand(rnd, T * kv * hd);
                    float scale = 2f / (float) Math.sqrt(hd);
                    float[] want = new float[T * heads * hd], got = new float[T * heads * hd];
                    ref.attention(want, q, k, v, T, heads, kv, hd, scale, softcap, window);
                    fast.attention(got, q, k, v, T, heads, kv, hd, scale, softcap, window);
                    double[] mag = new double[want.length];
                    java.util.Arrays.fill(mag, 1.0); // outputs are convex combinations of v ∈ [−1, 1]
                    // scores reordered (q·k) then softmax-weighted: measured worst 4.0 ulps of 1; bound 64
                    check("attention T=" + T + " H=" + heads + "/" + kv + " hd=" + hd + " cap=" + softcap + " win=" + window,
                            want, got, mag, want.length, 64);
                }
            }
        }
    }

    @Test
    void gegluMatchesReference() {
        Random rnd = new Random(8);
        for (int n : new int[] {1, 3, 17, 33, 257, 9216, 40001}) {
            float[] gate = rand(rnd, n), up = rand(rnd, n);
            for (int i = 0; i < n; i += 7) gate[i] *= 8f; // reach the saturated tails of tanh
            float[] want = new float[n], got = new float[n];
            ref.gegluTanh(want, gate, up, n);
            fast.gegluTanh(got, gate, up, n);
            double[] scale = new double[n];
            for (int i = 0; i < n; i++) scale[i] = Math.abs(gate[i] * up[i]);
            // x/(1+e^(−2u)) with a polynomial exp vs ½x(1+Math.tanh(u)): measured worst 3.4 ulps; bound 8
            check("geglu n=" + n, want, got, scale, n, 8);
            float[] inPlace = gate.clone();
            fast.gegluTanh(inPlace, inPlace, up, n);
            check("geglu in place n=" + n, got, inPlace, scale, n, 0);
        }
    }

    // The element-wise ops below compute each output from its own inputs with the reference's scalar
    // formula (or an exact element-wise vector add), so the fast results must equal the reference bit for bit.

    static void assertSameBits(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what + ": length");
        for (int i = 0; i < want.length; i++)
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i]))
                fail(what + ": element " + i + " is " + got[i] + ", reference " + want[i]);
    }

    @Test
    void gegluErfMatchesReference() {
        Random rnd = new Random(9);
        for (int n : new int[] {1, 3, 17, 257, 40001}) {
            float[] gate = rand(rnd, n), up = rand(rnd, n);
            for (int i = 0; i < n; i += 5) gate[i] *= 6f; // both branches of erf (|x/√2| below and above 2.5)
            float[] want = new float[n], got = new float[n];
            ref.gegluErf(want, gate, up, n);
            fast.gegluErf(got, gate, up, n);
            assertSameBits("gegluErf n=" + n, want, got);
            float[] inPlace = gate.clone();
            fast.gegluErf(inPlace, inPlace, up, n);
            assertSameBits("gegluErf in place n=" + n, want, inPlace);
        }
        // the reference itself against its formula with an independent erf value: GELU(1) = ½(1 + erf(1/√2))
        assertEquals(0.8413447460685429, Kernels.geluErf(1f), 1e-7);
        assertEquals(-0.15865525393145707, Kernels.geluErf(-1f), 1e-7);
    }

    @Test
    void softcapMatchesReference() {
        Random rnd = new Random(10);
        for (int n : new int[] {1, 5, 100_003}) {
            float[] x = rand(rnd, n);
            for (int i = 0; i < n; i++) x[i] *= 100f;
            float[] want = x.clone(), got = x.clone();
            ref.softcap(want, n, 30f);
            fast.softcap(got, n, 30f);
            assertSameBits("softcap n=" + n, want, got);
            for (int i = 0; i < n; i++) if (Math.abs(got[i]) > 30f) fail("softcap exceeds the cap: " + got[i]);
        }
    }

    @Test
    void addMatchesReference() {
        Random rnd = new Random(11);
        for (int n : new int[] {1, 15, 17, 100_003}) {
            float[] acc = rand(rnd, n), y = rand(rnd, n);
            float[] want = acc.clone(), got = acc.clone();
            ref.add(want, y, n);
            fast.add(got, y, n);
            assertSameBits("add n=" + n, want, got);
            assertEquals(acc[0] + y[0], got[0]); // the formula
        }
    }

    @Test
    void addBiasMatchesReference() {
        Random rnd = new Random(12);
        for (DType dt : DType.values()) {
            for (int[] sh : new int[][] {{1, 1}, {3, 17}, {65, 256}, {7, 1000}}) {
                int rows = sh[0], dim = sh[1];
                Tensor b = weights(rnd, dt, 1, dim, 2).reshape(dim);
                float[] x = rand(rnd, rows * dim);
                float[] want = x.clone(), got = x.clone();
                ref.addBias(want, b, rows, dim);
                fast.addBias(got, b, rows, dim);
                assertSameBits("addBias " + dt + " " + rows + "×" + dim, want, got);
                assertEquals(x[rows * dim - 1] + b.get(dim - 1), got[rows * dim - 1]); // the formula
            }
        }
    }

    @Test
    void embedMatchesReference() {
        Random rnd = new Random(13);
        for (DType dt : DType.values()) {
            int vocab = 50, dim = 37;
            Tensor table = weights(rnd, dt, vocab, dim, 0);
            int[] ids = new int[200];
            for (int i = 0; i < ids.length; i++) ids[i] = rnd.nextInt(vocab);
            float scale = dt.round((float) Math.sqrt(dim));
            float[] want = new float[ids.length * dim], got = new float[ids.length * dim];
            ref.embed(want, ids, table, dim, scale);
            fast.embed(got, ids, table, dim, scale);
            assertSameBits("embed " + dt, want, got);
            assertEquals(table.get((long) ids[5] * dim + 3) * scale, got[5 * dim + 3]); // the formula
            try (Arena confined = Arena.ofConfined()) { // a table only this thread may read
                MemorySegment seg = confined.allocate((long) vocab * dim * dt.bytes, 64);
                MemorySegment.copy(table.segment(), 0, seg, 0, seg.byteSize());
                float[] conf = new float[ids.length * dim];
                fast.embed(conf, ids, Tensor.wrap(seg, dt, vocab, dim), dim, scale);
                assertSameBits("embed confined " + dt, want, conf);
            }
        }
    }

    @Test
    void parallelForCoversEveryIndexOnce() {
        for (int n : new int[] {0, 1, 7, 1000, 100_003}) {
            int[] hits = new int[n];
            Parallel.forRange(0, n, 13, (lo, hi) -> {
                for (int i = lo; i < hi; i++) hits[i]++;
            });
            for (int i = 0; i < n; i++) assertEquals(1, hits[i], "index " + i + " of " + n);
        }
        // many short loops back to back: helpers that start late must neither be waited for nor touch a
        // finished loop's data
        int[] acc = new int[64];
        for (int rep = 0; rep < 20_000; rep++) {
            Parallel.forRange(0, 64, 8, (lo, hi) -> {
                for (int i = lo; i < hi; i++) acc[i]++;
            });
        }
        for (int i = 0; i < 64; i++) assertEquals(20_000, acc[i], "index " + i + " after repeated loops");
        RuntimeException boom = assertThrows(RuntimeException.class, () -> Parallel.forRange(0, 100, 1, (lo, hi) -> {
            if (lo == 57) throw new IllegalStateException("boom");
        }));
        assertEquals(true, String.valueOf(boom.getMessage()).contains("boom") || boom.getCause() != null);
    }
}
