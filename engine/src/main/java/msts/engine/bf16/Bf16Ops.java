package msts.engine.bf16;

import msts.engine.DType;
import msts.engine.Kernels;
import msts.engine.Ops;
import msts.engine.Parallel;
import msts.engine.Tensor;

import java.lang.foreign.MemorySegment;

/**
 * {@code --compute bf16}: the ops of a base backend with every matmul against BF16 weights done in PyTorch's
 * BF16 arithmetic — activations rounded to BF16 (round to nearest even), exact products, F32 accumulation
 * ({@link Kernels#matmulBF16Compute} is the plain-loop reference). Everything else, and matmuls with F32 or
 * F16 weights, is the base backend's.
 *
 * <p>Two kernels compute it:
 * <ul>
 *   <li>{@link Kernel#NATIVE}: {@link Bf16Native} (AVX512_BF16 {@code vdpbf16ps}, x as bf16 bits), threads
 *       over output columns with {@link Parallel};</li>
 *   <li>{@link Kernel#VECTOR}: the activations rounded to BF16 values (still F32 numbers), then the base
 *       backend's BF16-weight matmul: its widened weights times BF16-valued activations are the same exact
 *       products, accumulated in F32 — the same arithmetic, another summation order.</li>
 * </ul>
 * Both are deterministic and give a row the same bits whatever batch it is in (fixed k blocks).
 */
public final class Bf16Ops extends msts.engine.ForwardingOps {
    /** Which kernel runs the BF16 matmuls. */
    public enum Kernel { NATIVE, VECTOR }

    /** k block of the native kernel: fixed, so a result does not depend on the row count. */
    static final int KC = 2304;

    private final Bf16Native nat; // null: VECTOR

    private Bf16Ops(Ops base, Bf16Native nat) {
        super(base);
        this.nat = nat;
    }

    /** The native kernel when this machine runs it, else the Vector API fallback. */
    public static Bf16Ops of(Ops base) {
        return new Bf16Ops(base, Bf16Native.load().orElse(null));
    }

    /**
     * A given kernel; NATIVE throws with the reason when this machine cannot run it.
     */
    public static Bf16Ops of(Ops base, Kernel k) {
        if (k == Kernel.VECTOR) return new Bf16Ops(base, null);
        return new Bf16Ops(base, Bf16Native.load().orElseThrow(() ->
                new IllegalArgumentException("native BF16 kernel not available: " + Bf16Native.unavailableReason())));
    }

    public Kernel kernel() { return nat != null ? Kernel.NATIVE : Kernel.VECTOR; }

    @Override
    public String name() {
        return base.name() + "+bf16-" + (nat != null ? "avx512bf16" : "vector");
    }

    // ---- matmul --------------------------------------------------------------------------------------

    /** Never started; only asks whether a segment is readable by threads other than its owner. */
    private static final Thread OTHER_THREAD = new Thread(() -> {});

    private static final ThreadLocal<short[][]> XB = ThreadLocal.withInitial(() -> new short[1][0]);
    private static final ThreadLocal<float[][]> XR = ThreadLocal.withInitial(() -> new float[1][0]);

    @Override
    public void matmul(float[] out, float[] x, Tensor w, int rows) {
        if (w.dtype() != DType.BF16) {
            base.matmul(out, x, w, rows);
            return;
        }
        if (w.rank() != 2) throw new IllegalArgumentException("matmul weight must be [out, in], got " + w);
        int outDim = Math.toIntExact(w.dim(0)), in = Math.toIntExact(w.dim(1));
        if ((long) rows * in > x.length) throw new IllegalArgumentException("x has " + x.length + " floats, need " + rows + "×" + in);
        if ((long) rows * outDim > out.length) throw new IllegalArgumentException("out has " + out.length + " floats, need " + rows + "×" + outDim);
        if (rows == 0 || outDim == 0) return;
        int n = rows * in;
        int chunk = Math.max(1, 65536 / Math.max(1, in));
        if (nat == null) {
            float[] xr = floats(n);
            Parallel.forRange(0, rows, chunk, (lo, hi) -> roundRows(xr, x, lo * in, hi * in));
            base.matmul(out, xr, w, rows);
            return;
        }
        short[] xb = shorts(n);
        Parallel.forRange(0, rows, chunk, (lo, hi) -> toBf16(xb, x, lo * in, hi * in));
        MemorySegment os = MemorySegment.ofArray(out), xs = MemorySegment.ofArray(xb), ws = w.segment();
        if (!ws.isAccessibleBy(OTHER_THREAD)) { // a confined arena's segment: only this thread may pass it
            nat.matmul(os, xs, ws, in, outDim, 0, rows, 0, outDim, KC);
            return;
        }
        int blocks = (outDim + 3) / 4;
        if (blocks >= 4 * Parallel.threads() || rows < 8) {
            Parallel.forRange(0, blocks, Math.max(1, Math.min(64, blocks / (Parallel.threads() * 8))), (lo, hi) ->
                    nat.matmul(os, xs, ws, in, outDim, 0, rows, lo * 4, Math.min(hi * 4, outDim), KC));
        } else { // few output columns, many rows: split the rows instead
            int rowBlocks = (rows + 3) / 4;
            Parallel.forRange(0, rowBlocks, Math.max(1, rowBlocks / (Parallel.threads() * 4)), (lo, hi) ->
                    nat.matmul(os, xs, ws, in, outDim, lo * 4, Math.min(hi * 4, rows), 0, outDim, KC));
        }
    }

    /** xb[i] = bf16 bits of x[i] (round to nearest even), i in [lo, hi). */
    static void toBf16(short[] xb, float[] x, int lo, int hi) {
        for (int i = lo; i < hi; i++) xb[i] = DType.f32ToBf16(x[i]);
    }

    /** xr[i] = x[i] rounded to the nearest BF16 value, i in [lo, hi). */
    static void roundRows(float[] xr, float[] x, int lo, int hi) {
        for (int i = lo; i < hi; i++) xr[i] = DType.bf16ToF32(DType.f32ToBf16(x[i]));
    }

    private static short[] shorts(int n) {
        short[][] s = XB.get();
        if (s[0].length < n) s[0] = new short[n];
        return s[0];
    }

    private static float[] floats(int n) {
        float[][] s = XR.get();
        if (s[0].length < n) s[0] = new float[n];
        return s[0];
    }
}
