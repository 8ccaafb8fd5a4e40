package msts.engine;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Runs CpuOps ops on seeded data, first cold (interpreted) and then repeatedly while the JIT compiles
 * them (C1, then C2), and prints how many times the hash of all output bits changed.
 * {@link CpuOpsDeterminismTest} runs it in a fresh child JVM so that the first call really is cold.
 */
public final class DeterminismProbe {
    public static void main(String[] args) {
        int iterations = Integer.parseInt(args[0]);
        long first = hash(), changes = 0;
        for (int i = 0; i < iterations; i++) if (hash() != first) changes++;
        System.out.println(changes);
    }

    static long hash() {
        SplittableRandom rnd = new SplittableRandom(7);
        long h = 17;
        for (int in : new int[]{67, 256}) {
            int rows = 4, out = 64;
            float[] x = fill(rnd, rows * in);
            for (DType dt : DType.values()) {
                Tensor w = Tensor.of(fill(rnd, out * in), out, in).to(dt);
                float[] y = new float[rows * out];
                CpuOps.INSTANCE.matmul(y, x, w, rows);
                h = h * 31 + Arrays.hashCode(y);
            }
        }
        float[] a = fill(rnd, 19 * 37), b = fill(rnd, 37 * 29), c = new float[19 * 29];
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            CpuOps.INSTANCE.gemm(ta, tb, 19, 29, 37, 1f, a, 0, ta ? 19 : 37, b, 0, tb ? 37 : 29, 0f, c, 0, 29);
            h = h * 31 + Arrays.hashCode(c);
        }
        int T = 9, heads = 4, kv = 2, hd = 32;
        float[] q = fill(rnd, T * heads * hd), k = fill(rnd, T * kv * hd), v = fill(rnd, T * kv * hd);
        float[] o = new float[T * heads * hd];
        CpuOps.INSTANCE.attention(o, q, k, v, T, heads, kv, hd, 0.25f, 5f, 4);
        h = h * 31 + Arrays.hashCode(o);
        int dim = 96;
        float[] xs = fill(rnd, 3 * dim), n = new float[3 * dim];
        CpuOps.INSTANCE.rmsNorm(n, xs, Tensor.of(fill(rnd, dim), dim), 3, dim, 1e-6f);
        h = h * 31 + Arrays.hashCode(n);
        float[] gate = fill(rnd, 1000), up = fill(rnd, 1000), g = new float[1000];
        for (int i = 0; i < gate.length; i++) gate[i] *= 4f;
        CpuOps.INSTANCE.gegluTanh(g, gate, up, 1000);
        h = h * 31 + Arrays.hashCode(g);
        float[] r = fill(rnd, 5 * 2 * 64);
        CpuOps.INSTANCE.rope(r, 5, 2, 64, 3, 10000f);
        return h * 31 + Arrays.hashCode(r);
    }

    private static float[] fill(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextDouble() * 2 - 1);
        return a;
    }
}
