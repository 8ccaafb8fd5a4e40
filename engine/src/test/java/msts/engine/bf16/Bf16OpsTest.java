package msts.engine.bf16;

import msts.engine.CpuOps;
import msts.engine.Compute;
import msts.engine.DType;
import msts.engine.Kernels;
import msts.engine.Ops;
import msts.engine.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * BF16 compute ({@link Bf16Ops}) against the plain-loop reference {@link Kernels#matmulBF16Compute}.
 *
 * <p>Tolerance: both sides compute the same exact products p_i = bf16(x_i)·w_i (exact in F32) and add them
 * in F32, in different orders. Any order of n additions in F32 is within γ_n·Σ|p_i| of the exact sum
 * (γ_n = n·u/(1 − n·u), u = 2⁻²⁴; Higham, Accuracy and Stability, §4.2), so two orders differ by at most
 * 2·γ_n·Σ|p_i|; that is the bound checked. (vdpbf16ps also flushes subnormal inputs and outputs to zero;
 * the test data has none.) That the activations are rounded at all is checked by the unrounded (F32-activation)
 * product: its largest distance to the reference is more than 8× the kernel's.
 */
class Bf16OpsTest {
    static final double U = 0x1p-24;
    final Arena arena = Arena.ofAuto();

    /** [out, in] BF16 weights in an off-heap segment at byte offset shift (unaligned when odd). */
    Tensor weights(Random rnd, int out, int in, int shift) {
        long bytes = (long) out * in * 2;
        MemorySegment seg = arena.allocate(bytes + 64, 64).asSlice(shift, bytes);
        Tensor w = Tensor.wrap(seg, DType.BF16, out, in);
        for (long i = 0; i < (long) out * in; i++) w.set(i, (float) rnd.nextGaussian() * 0.05f);
        return w;
    }

    static float[] gaussian(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian();
        return a;
    }

    /** Σ_i |bf16(x[r, i]) · w[o, i]| per output. */
    static double[] absTerms(float[] x, Tensor w, int rows, int in, int outDim) {
        double[] s = new double[rows * outDim];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outDim; o++) {
                double a = 0;
                for (int i = 0; i < in; i++) a += Math.abs((double) DType.BF16.round(x[r * in + i]) * w.get((long) o * in + i));
                s[r * outDim + o] = a;
            }
        return s;
    }

    /** Largest |got − want| / (2·γ_n·Σ|terms|); ≤ 1 passes. */
    static double worst(float[] want, float[] got, double[] terms, int n) {
        double g = n * U / (1 - n * U), worst = 0;
        for (int i = 0; i < want.length; i++) {
            double bound = 2 * g * terms[i] + Float.MIN_NORMAL;
            worst = Math.max(worst, Math.abs((double) got[i] - want[i]) / bound);
        }
        return worst;
    }

    static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs((double) a[i] - b[i]));
        return m;
    }

    static final int[][] SHAPES = { // rows, in, outDim: tails in k (not ×32), rows (not ×4), columns (not ×4)
            {1, 64, 8}, {3, 37, 5}, {4, 2304, 12}, {7, 100, 9}, {9, 4700, 6}, {13, 2305, 7}, {16, 512, 64}};

    void checkAgainstReference(Ops ops) {
        Random rnd = new Random(7);
        for (int[] s : SHAPES) {
            int rows = s[0], in = s[1], outDim = s[2];
            Tensor w = weights(rnd, outDim, in, 1);
            float[] x = gaussian(rnd, rows * in);
            float[] want = new float[rows * outDim], got = new float[rows * outDim], f32 = new float[rows * outDim];
            Kernels.matmulBF16Compute(want, x, w.segment(), rows, in, outDim);
            ops.matmul(got, x, w, rows);
            double[] terms = absTerms(x, w, rows, in, outDim);
            double e = worst(want, got, terms, in);
            if (!(e <= 1)) fail(ops.name() + " " + rows + "×" + in + "→" + outDim + ": error " + e + " × 2γ_n·Σ|terms|");
            // the activations really were rounded: the unrounded (F32) product is much farther away
            Kernels.matmulBF16(f32, x, w.segment(), rows, in, outDim);
            double dRound = maxDiff(want, got), dF32 = maxDiff(want, f32);
            assertTrue(in < 64 || dRound * 8 < dF32, ops.name() + ": max |got − reference| " + dRound
                    + " not well below the F32-activation product's " + dF32);
        }
    }

    @Test
    void vectorFallbackMatchesReference() {
        checkAgainstReference(Bf16Ops.of(new CpuOps(), Bf16Ops.Kernel.VECTOR));
    }

    @Test
    void nativeKernelMatchesReference() {
        assumeTrue(Bf16Native.load().isPresent(), "native BF16 kernel not available: " + Bf16Native.unavailableReason());
        checkAgainstReference(Bf16Ops.of(new CpuOps(), Bf16Ops.Kernel.NATIVE));
    }

    @Test
    void fallbackOverReferenceOpsIsTheReferenceBitForBit() {
        // ReferenceOps' BF16 matmul sums in the reference order, so on rounded activations it is the reference
        Ops ops = Bf16Ops.of(Ops.reference(), Bf16Ops.Kernel.VECTOR);
        Random rnd = new Random(3);
        Tensor w = weights(rnd, 11, 300, 0);
        float[] x = gaussian(rnd, 5 * 300), want = new float[5 * 11], got = new float[5 * 11];
        Kernels.matmulBF16Compute(want, x, w.segment(), 5, 300, 11);
        ops.matmul(got, x, w, 5);
        assertArrayEquals(want, got);
    }

    @Test
    void nativeIsPresentWhereTheCpuHasAvx512Bf16() throws IOException {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        String arch = System.getProperty("os.arch");
        assumeTrue(Files.isReadable(cpuinfo) && (arch.equals("amd64") || arch.equals("x86_64")), "not Linux x86-64");
        String flags = Files.readString(cpuinfo);
        assumeTrue(flags.contains(" avx512_bf16") && flags.contains(" avx512bw"), "CPU without AVX512_BF16");
        // the build compiled and packaged the library, and the run-time detection agrees with /proc/cpuinfo
        assertTrue(Bf16Native.load().isPresent(), "native BF16 kernel missing: " + Bf16Native.unavailableReason());
        assertEquals(Bf16Ops.Kernel.NATIVE, Bf16Ops.of(new CpuOps()).kernel());
    }

    @Test
    void aRowGetsTheSameBitsInAnyBatch() {
        for (Bf16Ops.Kernel k : Bf16Ops.Kernel.values()) {
            if (k == Bf16Ops.Kernel.NATIVE && Bf16Native.load().isEmpty()) continue;
            Ops ops = Bf16Ops.of(new CpuOps(), k);
            Random rnd = new Random(11);
            int in = 4700, outDim = 70, rows = 13;
            Tensor w = weights(rnd, outDim, in, 0);
            float[] x = gaussian(rnd, rows * in), all = new float[rows * outDim];
            ops.matmul(all, x, w, rows);
            for (int r : new int[] {0, 5, 12}) {
                float[] one = new float[outDim];
                ops.matmul(one, java.util.Arrays.copyOfRange(x, r * in, (r + 1) * in), w, 1);
                assertArrayEquals(java.util.Arrays.copyOfRange(all, r * outDim, (r + 1) * outDim), one, k + " row " + r);
            }
            float[] again = new float[rows * outDim];
            ops.matmul(again, x, w, rows);
            assertArrayEquals(all, again, k + ": not deterministic");
        }
    }

    @Test
    void confinedWeightsRunOnTheCallingThread() {
        for (Bf16Ops.Kernel k : Bf16Ops.Kernel.values()) {
            if (k == Bf16Ops.Kernel.NATIVE && Bf16Native.load().isEmpty()) continue;
            try (Arena confined = Arena.ofConfined()) {
                Random rnd = new Random(5);
                int rows = 8, in = 256, outDim = 400;
                Tensor w = Tensor.allocate(confined, DType.BF16, outDim, in);
                for (long i = 0; i < (long) outDim * in; i++) w.set(i, (float) rnd.nextGaussian());
                float[] x = gaussian(rnd, rows * in), want = new float[rows * outDim], got = new float[rows * outDim];
                Kernels.matmulBF16Compute(want, x, w.segment(), rows, in, outDim);
                Bf16Ops.of(new CpuOps(), k).matmul(got, x, w, rows);
                assertTrue(worst(want, got, absTerms(x, w, rows, in, outDim), in) <= 1, k.toString());
            }
        }
    }

    @Test
    void nonBf16WeightsAreTheBaseBackends() {
        Ops base = new CpuOps(), ops = Compute.BF16.apply(base);
        Random rnd = new Random(2);
        for (DType dt : new DType[] {DType.F32, DType.F16}) {
            Tensor w = Tensor.allocate(dt, 9, 70);
            for (long i = 0; i < 9 * 70; i++) w.set(i, (float) rnd.nextGaussian());
            float[] x = gaussian(rnd, 3 * 70), want = new float[27], got = new float[27];
            base.matmul(want, x, w, 3);
            ops.matmul(got, x, w, 3);
            assertArrayEquals(want, got, dt.toString());
        }
    }

    @Test
    void computeOptionParsesAndNames() {
        Ops base = new CpuOps();
        assertSame(base, Compute.F32.apply(base));
        assertEquals(Compute.BF16, Compute.parse("BF16"));
        assertEquals(Compute.F32, Compute.parse("f32"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> Compute.parse("fp8"));
        assertTrue(e.getMessage().contains("f32 or bf16"), e.getMessage());
        Ops b = Compute.BF16.apply(base);
        assertNotNull(b);
        assertTrue(b.name().startsWith("cpu+bf16-"), b.name());
    }
}
