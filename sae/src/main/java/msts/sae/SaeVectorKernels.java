package msts.sae;

import msts.engine.CpuOps;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fast (Vector API) SAE kernels. Each is the fast version of the plain-loop reference kernel of the same
 * name in {@link SaeKernels}, with the same signature and semantics; {@code SaeVectorKernelsTest} checks each
 * against its reference.
 */
public final class SaeVectorKernels {
    private SaeVectorKernels() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    /** Σ_c a[ao + c] · b[bo + c] for c in [0, n) (helper; lanes summed in a fixed order, not a plain loop's). */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc0 = FloatVector.zero(S), acc1 = FloatVector.zero(S);
        int L = S.length(), c = 0;
        for (; c + 2 * L <= n; c += 2 * L) {
            acc0 = FloatVector.fromArray(S, a, ao + c).fma(FloatVector.fromArray(S, b, bo + c), acc0);
            acc1 = FloatVector.fromArray(S, a, ao + c + L).fma(FloatVector.fromArray(S, b, bo + c + L), acc1);
        }
        for (; c + L <= n; c += L) acc0 = FloatVector.fromArray(S, a, ao + c).fma(FloatVector.fromArray(S, b, bo + c), acc0);
        float s = CpuOps.hsum(acc0.add(acc1));
        for (; c < n; c++) s += a[ao + c] * b[bo + c];
        return s;
    }

    /** out[oo .. oo+n) += v · b[bo .. bo+n). */
    static void axpy(float v, float[] b, int bo, float[] out, int oo, int n) {
        FloatVector vv = FloatVector.broadcast(S, v);
        int L = S.length(), c = 0;
        for (; c + L <= n; c += L)
            FloatVector.fromArray(S, b, bo + c).fma(vv, FloatVector.fromArray(S, out, oo + c)).intoArray(out, oo + c);
        for (; c < n; c++) out[oo + c] += v * b[bo + c];
    }

    /** Fast version of {@link SaeKernels#spmmRows} (reference). */
    public static void spmmRows(int[] start, int[] idx, float[] val, float[] b, int d, float[] out, boolean accumulate,
                                int lo, int hi) {
        for (int r = lo; r < hi; r++) {
            if (!accumulate) java.util.Arrays.fill(out, r * d, (r + 1) * d, 0f);
            for (int e = start[r]; e < start[r + 1]; e++) axpy(val[e], b, idx[e] * d, out, r * d, d);
        }
    }

    /** Fast version of {@link SaeKernels#spmmCols} (reference). */
    public static void spmmCols(int[] colStart, int[] rowIdx, float[] cval, float[] a, int d, float[] out,
                                boolean accumulate, int lo, int hi) {
        for (int j = lo; j < hi; j++) {
            if (!accumulate) java.util.Arrays.fill(out, j * d, (j + 1) * d, 0f);
            for (int e = colStart[j]; e < colStart[j + 1]; e++) axpy(cval[e], a, rowIdx[e] * d, out, j * d, d);
        }
    }

    /** Fast version of {@link SaeKernels#sampledDot} (reference). */
    public static void sampledDot(int[] start, int[] idx, float[] a, float[] b, int d, float[] out, int lo, int hi) {
        for (int r = lo; r < hi; r++)
            for (int e = start[r]; e < start[r + 1]; e++) out[e] = dot(a, r * d, b, idx[e] * d, d);
    }
}
