package msts.tornado;

import msts.engine.Kernels;

/**
 * Plain-Java reference of the SAE kernels and of one training step, written from the loops of worker
 * "sae"'s {@code msts.model.sae.SaeKernels} / {@code SaeLoss#compute} (ReLU, no separation, no AuxK)
 * while those are not on main yet. TODO(tornado): replace with direct calls once they are merged.
 */
final class SaeReference {
    private SaeReference() {}

    static int off(int j, int dil, boolean centred) { return centred ? (j - 1) * dil : -j * dil; }

    static void convForward(float[] xc, float[] w, int[] dil, boolean centred, int T, int d, float[] z, int rows) {
        for (int r = 0; r < rows; r++) {
            int t = r % T, o = r * d;
            System.arraycopy(xc, o, z, o, d);
            for (int s = 0; s < dil.length; s++)
                for (int j = 0; j < 3; j++) {
                    int off = off(j, dil[s], centred);
                    if (t + off < 0 || t + off >= T) continue;
                    for (int c = 0; c < d; c++) z[o + c] += w[(s * d + c) * 3 + j] * xc[(r + off) * d + c];
                }
        }
    }

    static void convBackwardInput(float[] dz, float[] w, int[] dil, boolean centred, int T, int d, float[] dxc, int rows) {
        for (int r = 0; r < rows; r++) {
            int t = r % T, o = r * d;
            System.arraycopy(dz, o, dxc, o, d);
            for (int s = 0; s < dil.length; s++)
                for (int j = 0; j < 3; j++) {
                    int off = off(j, dil[s], centred);
                    if (t - off < 0 || t - off >= T) continue;
                    for (int c = 0; c < d; c++) dxc[o + c] += w[(s * d + c) * 3 + j] * dz[(r - off) * d + c];
                }
        }
    }

    static void convBackwardWeights(float[] dz, float[] xc, int[] dil, boolean centred, int rows, int T, int d, float[] dw) {
        java.util.Arrays.fill(dw, 0f);
        for (int r = 0; r < rows; r++) {
            int t = r % T, o = r * d;
            for (int s = 0; s < dil.length; s++)
                for (int j = 0; j < 3; j++) {
                    int off = off(j, dil[s], centred);
                    if (t + off < 0 || t + off >= T) continue;
                    for (int c = 0; c < d; c++) dw[(s * d + c) * 3 + j] += dz[o + c] * xc[(r + off) * d + c];
                }
        }
    }

    static void adam(float[] p, float[] g, float[] m, float[] v, float lr, float b1, float b2, float eps, float bc1, float bc2) {
        for (int i = 0; i < p.length; i++) {
            float mi = b1 * m[i] + (1f - b1) * g[i];
            float vi = b2 * v[i] + (1f - b2) * g[i] * g[i];
            m[i] = mi;
            v[i] = vi;
            p[i] -= lr * (mi / bc1) / ((float) Math.sqrt(vi / bc2) + eps);
        }
    }

    /** Parameters and Adam state of the reference trainer (index order W_enc, b_enc, W_dec, b_dec, conv_w). */
    static final class State {
        final float[][] p, m, v;
        int step;

        State(float[]... params) {
            p = new float[params.length][];
            m = new float[params.length][];
            v = new float[params.length][];
            for (int i = 0; i < params.length; i++) {
                p[i] = params[i].clone();
                m[i] = new float[params[i].length];
                v[i] = new float[params[i].length];
            }
        }
    }

    /** One step; returns {mse, l1, l0}. */
    static double[] step(SaeTrainPlan.Spec s, State st, float[] x, float lr, float l1) {
        int d = s.dIn(), n = s.dSae(), N = s.rows(), T = s.T(), ls = s.lossStart(), M = s.counted();
        float[] wEnc = st.p[0], bEnc = st.p[1], wDec = st.p[2], bDec = st.p[3];
        float[] conv = s.temporal() ? st.p[4] : null;
        float[] xc = new float[N * d];
        for (int r = 0; r < N; r++) for (int c = 0; c < d; c++) xc[r * d + c] = x[r * d + c] - bDec[c];
        float[] z = xc;
        if (s.temporal()) {
            z = new float[N * d];
            convForward(xc, conv, s.dilations(), s.centred(), T, d, z, N);
        }
        float[] pre = new float[N * n], f = new float[N * n], xhat = new float[N * d], e = new float[N * d];
        Kernels.gemm(false, false, N, n, d, 1f, z, 0, d, wEnc, 0, n, 0f, pre, 0, n);
        for (int r = 0; r < N; r++) for (int j = 0; j < n; j++) pre[r * n + j] += bEnc[j];
        for (int i = 0; i < N * n; i++) f[i] = Math.max(pre[i], 0f);
        Kernels.gemm(false, false, N, d, n, 1f, f, 0, n, wDec, 0, d, 0f, xhat, 0, d);
        double sse = 0;
        for (int r = 0; r < N; r++)
            for (int c = 0; c < d; c++) {
                xhat[r * d + c] += bDec[c];
                e[r * d + c] = xhat[r * d + c] - x[r * d + c];
                if (r % T >= ls) sse += (double) e[r * d + c] * e[r * d + c];
            }
        float[] colF = new float[n], norms = new float[n], wL1 = new float[n];
        long active = 0;
        for (int r = 0; r < N; r++) {
            if (r % T < ls) continue;
            for (int j = 0; j < n; j++) if (f[r * n + j] > 0f) { colF[j] += f[r * n + j]; active++; }
        }
        double l1sum = 0;
        for (int j = 0; j < n; j++) {
            double q = 0;
            for (int c = 0; c < d; c++) q += (double) wDec[j * d + c] * wDec[j * d + c];
            norms[j] = (float) Math.sqrt(q);
            wL1[j] = s.unitNorm() ? 1f : norms[j];
            l1sum += (double) colF[j] * wL1[j];
        }
        // backward
        float[][] g = new float[st.p.length][];
        for (int i = 0; i < g.length; i++) g[i] = new float[st.p[i].length];
        float invM = 1f / M;
        for (int r = 0; r < N; r++) {
            float sc = r % T < ls ? 0f : 2f * invM;
            for (int c = 0; c < d; c++) e[r * d + c] *= sc;
        }
        Kernels.gemm(true, false, n, d, N, 1f, f, 0, n, e, 0, d, 0f, g[2], 0, d);
        for (int r = 0; r < N; r++) for (int c = 0; c < d; c++) g[3][c] += e[r * d + c];
        float[] df = new float[N * n];
        Kernels.gemm(false, true, N, n, d, 1f, e, 0, d, wDec, 0, d, 0f, df, 0, n);
        float sl = l1 * invM;
        for (int r = 0; r < N; r++) {
            if (r % T < ls) continue;
            for (int j = 0; j < n; j++) if (f[r * n + j] > 0f) df[r * n + j] += sl * wL1[j];
        }
        if (!s.unitNorm())
            for (int j = 0; j < n; j++) {
                if (norms[j] == 0f) continue;
                float a = sl * colF[j] / norms[j];
                for (int c = 0; c < d; c++) g[2][j * d + c] += a * wDec[j * d + c];
            }
        for (int i = 0; i < N * n; i++) if (!(f[i] > 0f)) df[i] = 0f;
        for (int r = 0; r < N; r++) for (int j = 0; j < n; j++) g[1][j] += df[r * n + j];
        Kernels.gemm(true, false, d, n, N, 1f, z, 0, d, df, 0, n, 0f, g[0], 0, n);
        if (s.temporal()) {
            float[] dz = new float[N * d], dxc = new float[N * d];
            Kernels.gemm(false, true, N, d, n, 1f, df, 0, n, wEnc, 0, n, 0f, dz, 0, d);
            convBackwardInput(dz, conv, s.dilations(), s.centred(), T, d, dxc, N);
            convBackwardWeights(dz, xc, s.dilations(), s.centred(), N, T, d, g[4]);
            for (int c = 0; c < d; c++) {
                float acc = 0f;
                for (int r = 0; r < N; r++) acc += dxc[r * d + c];
                g[3][c] += -acc;
            }
        } else {
            for (int i = 0; i < d; i++) {
                float acc = 0f;
                for (int j = 0; j < n; j++) acc += wEnc[i * n + j] * g[1][j];
                g[3][i] += -acc;
            }
        }
        st.step++;
        float bc1 = (float) (1 - Math.pow(s.beta1(), st.step)), bc2 = (float) (1 - Math.pow(s.beta2(), st.step));
        for (int i = 0; i < st.p.length; i++)
            adam(st.p[i], g[i], st.m[i], st.v[i], lr, s.beta1(), s.beta2(), s.eps(), bc1, bc2);
        return new double[]{sse / M, l1 * l1sum / M, (double) active / M};
    }
}
