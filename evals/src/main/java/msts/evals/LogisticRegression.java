package msts.evals;

/**
 * L2-regularised binary logistic regression with an unpenalised intercept, the objective of sklearn's
 * {@code LogisticRegression(penalty="l2", C)}:  min_{w,b} ½‖w‖² + C·Σ_i log(1 + exp(−s_i(w·x_i + b))),
 * s_i = ±1. Solved by Newton's method with conjugate-gradient inner solves (Hessian-vector products, so
 * memory is O(n·d)) and backtracking line search. Deterministic. docs/evals.md.
 */
public final class LogisticRegression {
    public final double[] w;
    public double b;

    private LogisticRegression(int d) {
        w = new double[d];
    }

    /** x [n, d] row-major, y[i] ∈ {false, true}. */
    public static LogisticRegression fit(float[] x, boolean[] y, int n, int d, double C) {
        LogisticRegression m = new LogisticRegression(d);
        double[] p = new double[n], z = new double[n], g = new double[d + 1], step = new double[d + 1];
        double f = m.objective(x, y, n, d, C, z);
        for (int iter = 0; iter < 100; iter++) {
            m.margins(x, n, d, z);
            for (int i = 0; i < n; i++) p[i] = sigmoid(z[i]);
            // gradient: w + C·Xᵀ(p − y), C·Σ(p − y)
            for (int k = 0; k < d; k++) g[k] = m.w[k];
            g[d] = 0;
            for (int i = 0; i < n; i++) {
                double r = C * (p[i] - (y[i] ? 1 : 0));
                for (int k = 0; k < d; k++) g[k] += r * x[i * d + k];
                g[d] += r;
            }
            double gmax = 0;
            for (double v : g) gmax = Math.max(gmax, Math.abs(v));
            if (gmax < 1e-9 * Math.max(1, C * n)) break;
            cg(x, n, d, C, p, g, step);
            // backtracking line search on the objective along −step
            double t = 1, gs = 0;
            for (int k = 0; k <= d; k++) gs += g[k] * step[k];
            double[] w0 = m.w.clone();
            double b0 = m.b;
            double fNew;
            while (true) {
                for (int k = 0; k < d; k++) m.w[k] = w0[k] - t * step[k];
                m.b = b0 - t * step[d];
                fNew = m.objective(x, y, n, d, C, z);
                if (fNew <= f - 1e-4 * t * gs || t < 1e-10) break;
                t *= 0.5;
            }
            if (f - fNew < 1e-14 * Math.max(1, Math.abs(f))) {
                f = fNew;
                break;
            }
            f = fNew;
        }
        return m;
    }

    /** Solves H·s = g by conjugate gradients, H = diag(1..1, 0) + C·X̃ᵀ D X̃, X̃ = [X, 1], D = p(1−p). */
    private static void cg(float[] x, int n, int d, double C, double[] p, double[] g, double[] s) {
        int m = d + 1;
        java.util.Arrays.fill(s, 0);
        double[] r = g.clone(), q = g.clone(), hq = new double[m], xv = new double[n];
        double rr = dot(r, r), tol = 1e-20 + 1e-12 * rr;
        for (int it = 0; it < Math.min(4 * m + 50, 500) && rr > tol; it++) { // truncated Newton: inexact inner solves are fine
            hessVec(x, n, d, C, p, q, hq, xv);
            double qhq = dot(q, hq);
            if (qhq <= 0) break;
            double a = rr / qhq;
            for (int k = 0; k < m; k++) {
                s[k] += a * q[k];
                r[k] -= a * hq[k];
            }
            double rrNew = dot(r, r);
            double beta = rrNew / rr;
            rr = rrNew;
            for (int k = 0; k < m; k++) q[k] = r[k] + beta * q[k];
        }
    }

    private static void hessVec(float[] x, int n, int d, double C, double[] p, double[] v, double[] out, double[] xv) {
        for (int i = 0; i < n; i++) {
            double s = v[d];
            for (int k = 0; k < d; k++) s += x[i * d + k] * v[k];
            xv[i] = C * p[i] * (1 - p[i]) * s;
        }
        for (int k = 0; k < d; k++) out[k] = v[k];
        out[d] = 0;
        for (int i = 0; i < n; i++) {
            double s = xv[i];
            for (int k = 0; k < d; k++) out[k] += s * x[i * d + k];
            out[d] += s;
        }
    }

    private void margins(float[] x, int n, int d, double[] z) {
        for (int i = 0; i < n; i++) {
            double s = b;
            for (int k = 0; k < d; k++) s += w[k] * x[i * d + k];
            z[i] = s;
        }
    }

    /** ½‖w‖² + C·Σ log(1 + exp(−s_i z_i)). */
    public double objective(float[] x, boolean[] y, int n, int d, double C, double[] z) {
        margins(x, n, d, z);
        double f = 0;
        for (double v : w) f += 0.5 * v * v;
        for (int i = 0; i < n; i++) f += C * log1pExp(y[i] ? -z[i] : z[i]);
        return f;
    }

    public boolean predict(float[] x, int off) {
        double s = b;
        for (int k = 0; k < w.length; k++) s += w[k] * x[off + k];
        return s > 0;
    }

    public double accuracy(float[] x, boolean[] y, int n) {
        int ok = 0;
        for (int i = 0; i < n; i++) if (predict(x, i * w.length) == y[i]) ok++;
        return (double) ok / n;
    }

    static double sigmoid(double z) {
        return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
    }

    static double log1pExp(double z) {
        return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
    }

    private static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }
}
