package msts.engine;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Central finite differences for every backward kernel of {@link Kernels} (training). The kernels run in
 * F32; the probe loss L = Σ dy·f(x) is accumulated in double, the step is h = 1e-2 and an analytic
 * derivative g passes when |g − (L(x+h) − L(x−h))/2h| ≤ 1e-2·max(|g|, 0.1·max|g|) + 2e-3 (F32 rounding of
 * f over ~100 terms divided by 2h is ~1e-4; the h² truncation term is of the same order). Sizes are small,
 * so every coordinate is probed.
 */
class KernelsBackwardTest {
    static final double H = 1e-2;

    static float[] rand(SplittableRandom r, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (r.nextGaussian() * std);
        return a;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += (double) a[i] * b[i];
        return s;
    }

    /** Compares the analytic gradient of L(x) = Σ dy·f(x) w.r.t. every x[i] with central differences. */
    static void check(String what, float[] x, float[] analytic, float[] dy, Function<float[], float[]> f) {
        double maxG = 0;
        for (float g : analytic) maxG = Math.max(maxG, Math.abs(g));
        assertTrue(maxG > 0, what + ": gradient is all zero (test has no power)");
        int worst = -1;
        double worstErr = 0;
        for (int i = 0; i < x.length; i++) {
            float keep = x[i];
            x[i] = (float) (keep + H);
            double lp = dot(dy, f.apply(x));
            x[i] = (float) (keep - H);
            double lm = dot(dy, f.apply(x));
            x[i] = keep;
            double fd = (lp - lm) / (2 * H);
            double err = Math.abs(fd - analytic[i]);
            double tol = 1e-2 * Math.max(Math.abs(analytic[i]), 0.1 * maxG) + 2e-3;
            if (err > tol && err > worstErr) {
                worst = i;
                worstErr = err;
            }
        }
        if (worst >= 0) fail(what + "[" + worst + "]: analytic " + analytic[worst] + " vs finite difference off by " + worstErr);
    }

    @Test
    void rmsNorm() {
        SplittableRandom r = new SplittableRandom(1);
        int rows = 3, dim = 8;
        float[] x = rand(r, rows * dim, 1.5), w = rand(r, dim, 0.5), dy = rand(r, rows * dim, 1);
        float eps = 1e-6f;
        Function<float[], float[]> fx = xx -> {
            float[] o = new float[rows * dim];
            Kernels.rmsNorm(o, new float[rows], xx, w, 0, rows, dim, eps);
            return o;
        };
        float[] inv = new float[rows], dx = new float[rows * dim], dw = new float[dim];
        Kernels.rmsNorm(new float[rows * dim], inv, x, w, 0, rows, dim, eps);
        Kernels.rmsNormBackward(dx, dy, x, inv, w, 0, rows, dim);
        check("rmsNorm dx", x, dx, dy, fx);
        Kernels.rmsNormWeightGrad(dw, dy, x, inv, rows, 0, dim, dim);
        check("rmsNorm dw", w, dw, dy, ww -> {
            float[] o = new float[rows * dim];
            Kernels.rmsNorm(o, new float[rows], x, ww, 0, rows, dim, eps);
            return o;
        });
        // forward twin agrees with the Tensor-weight reference
        float[] a = fx.apply(x), b = new float[rows * dim];
        Kernels.rmsNorm(b, x, Tensor.of(w, dim), rows, dim, eps);
        assertArrayEquals(b, a);
    }

    @Test
    void ropeRowsForwardIsRopeAndBackwardIsItsAdjoint() {
        SplittableRandom r = new SplittableRandom(2);
        int T = 5, heads = 3, hd = 8, rows = 2 * T;
        float[] table = Kernels.ropeTable(T, hd, 10000f);
        float[] x = rand(r, rows * heads * hd, 1), dy = rand(r, rows * heads * hd, 1);
        float[] y = x.clone();
        Kernels.ropeRows(y, table, 1, 0, rows, T, heads, hd);
        float[] ref = x.clone();
        Kernels.rope(ref, T, heads, hd, 0, 10000f);                          // sequence 0
        float[] ref1 = java.util.Arrays.copyOfRange(x, T * heads * hd, rows * heads * hd);
        Kernels.rope(ref1, T, heads, hd, 0, 10000f);                         // sequence 1 restarts at 0
        System.arraycopy(ref1, 0, ref, T * heads * hd, ref1.length);
        assertArrayEquals(ref, y);
        float[] dx = dy.clone();
        Kernels.ropeRows(dx, table, -1, 0, rows, T, heads, hd);
        check("rope", x, dx, dy, xx -> {
            float[] o = xx.clone();
            Kernels.ropeRows(o, table, 1, 0, rows, T, heads, hd);
            return o;
        });
    }

    @Test
    void attentionWithWindowSoftcapAndGqa() {
        for (int window : new int[]{0, 3}) {
            SplittableRandom r = new SplittableRandom(3 + window);
            int T = 7, heads = 4, kv = 2, hd = 4;
            float scale = 0.5f, cap = 1.5f;
            float[] q = rand(r, T * heads * hd, 1.5), k = rand(r, T * kv * hd, 1.5), v = rand(r, T * kv * hd, 1);
            float[] dy = rand(r, T * heads * hd, 1);
            float[] dq = new float[q.length], dk = new float[k.length], dv = new float[v.length];
            Kernels.attentionBackward(dq, dk, dv, dy, q, k, v, new float[3 * T], T, heads, kv, hd, scale, cap, window);
            float[][] in = {q, k, v};
            float[][] g = {dq, dk, dv};
            String[] name = {"dq", "dk", "dv"};
            for (int which = 0; which < 3; which++) {
                final int w = which;
                check("attention(window " + window + ") " + name[w], in[w], g[w], dy, xx -> {
                    float[] o = new float[T * heads * hd];
                    Kernels.attention(o, w == 0 ? xx : q, w == 1 ? xx : k, w == 2 ? xx : v, new float[T], T, heads, kv, hd, scale, cap, window);
                    return o;
                });
            }
        }
    }

    @Test
    void geglu() {
        SplittableRandom r = new SplittableRandom(4);
        int n = 40;
        float[] g = rand(r, n, 2), u = rand(r, n, 1), dy = rand(r, n, 1), dg = new float[n], du = new float[n];
        Kernels.gegluBackward(dg, du, dy, g, u, 0, n);
        check("geglu dgate", g, dg, dy, gg -> { float[] o = new float[n]; Kernels.gegluTanh(o, gg, u, n); return o; });
        check("geglu dup", u, du, dy, uu -> { float[] o = new float[n]; Kernels.gegluTanh(o, g, uu, n); return o; });
    }

    @Test
    void softcapAndEmbedding() {
        SplittableRandom r = new SplittableRandom(5);
        int n = 30;
        float cap = 2f;
        float[] x = rand(r, n, 3), dy = rand(r, n, 1), y = x.clone(), dx = new float[n];
        Kernels.softcap(y, 0, n, cap);
        Kernels.softcapBackward(dx, dy, y, 0, n, cap);
        check("softcap", x, dx, dy, xx -> { float[] o = xx.clone(); Kernels.softcap(o, 0, n, cap); return o; });

        int V = 6, dim = 4;
        int[] ids = {1, 3, 1, 5, 1};
        float[] table = rand(r, V * dim, 1), dout = rand(r, ids.length * dim, 1), dt = new float[V * dim];
        Kernels.embedBackward(dt, ids, dout, dim, 2f);
        check("embedding", table, dt, dout, tt -> { float[] o = new float[ids.length * dim]; Kernels.embed(o, ids, tt, dim, 2f); return o; });
    }

    @Test
    void crossEntropy() {
        SplittableRandom r = new SplittableRandom(6);
        int V = 9;
        float[] z = rand(r, 2 * V, 2), dz = new float[2 * V];
        int[] t = {4, -1};
        double loss = Kernels.crossEntropyRow(dz, z, t[0], 0, V, 0.5f) + Kernels.crossEntropyRow(dz, z, t[1], V, V, 0.5f);
        float[] one = {1f};
        check("cross-entropy", z, dz, one, zz -> new float[]{(float) (0.5 * (Kernels.crossEntropyRow(new float[2 * V], zz, t[0], 0, V, 1f)
                + Kernels.crossEntropyRow(new float[2 * V], zz, t[1], V, V, 1f)))});
        for (int j = V; j < 2 * V; j++) assertEquals(0f, dz[j], "uncounted row has no gradient");
        double lse = 0;
        for (int j = 0; j < V; j++) lse += Math.exp(z[j]);
        assertEquals(Math.log(lse) - z[4], loss, 1e-5);
    }
}
