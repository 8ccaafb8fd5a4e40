package msts.model.train;

import msts.engine.Ops;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * RMU, Representation Misdirection for Unlearning (Li et al. 2024, "The WMDP Benchmark", §5 and the
 * reference code rmu/unlearn.py), on a Gemma-2 held as {@link LmParams}. Formulas: docs/experiment.md ("RMU").
 *
 * <p>A fixed random unit vector u (torch.rand(1,1,H) normalised: entries uniform in [0, 1), as the reference code)
 * scaled by c is the target of the forget activations at layer L; retain activations are held at the frozen
 * model's. Per step, with one forget batch and one retain batch of B rows × T tokens (h = resid_post of L,
 * positions 1..T−1, i.e. BOS excluded; n = B·(T−1) positions, H = hidden size):
 * <pre>
 *   loss = (1/(n·H)) Σ_t ‖h_f,t − c·u‖²  +  α · (1/(n·H)) Σ_t ‖h_r,t − h_r,t^frozen‖²
 * </pre>
 * (torch's mse_loss: the mean over positions and hidden dimensions, as the reference). Only the selected MLP
 * weights ({@link Config#modules}: any of gate, up, down, post_norm; the reference updates down_proj, param_ids=[6]) of
 * layers {@code firstLayer..layer} are updated, by AdamW (torch defaults: β = (0.9, 0.999), ε = 1e-8, weight
 * decay 0.01) with a constant learning rate; everything else stays frozen.
 */
public final class Rmu {
    private Rmu() {}

    /** The weights RMU can update in each of layers firstLayer..L. */
    public static final List<String> MODULES = List.of("gate", "up", "down", "post_norm");

    /** The checkpoint name of module {@code m} of layer {@code l}. */
    public static String weightName(int l, String m) {
        return "model.layers." + l + (m.equals("post_norm") ? ".post_feedforward_layernorm.weight" : ".mlp." + m + "_proj.weight");
    }

    /**
     * @param layer      L: the layer whose resid_post is steered
     * @param firstLayer the first updated layer (the reference: L − 2)
     * @param modules    MLP weights updated in layers firstLayer..L: "gate", "up", "down" (mlp.*_proj.weight) and
     *                   "post_norm" (post_feedforward_layernorm.weight: Gemma-2's RMSNorm on the MLP output, whose
     *                   weight sets that output's size)
     * @param steering   c, the norm of the target c·u (absolute; see docs for how the experiment scales it)
     * @param alpha      retain weight α
     */
    public record Config(int layer, int firstLayer, List<String> modules, double steering, double alpha, float lr,
                         int steps, int batch, long seed, float weightDecay) {
        public Config {
            if (firstLayer < 0 || firstLayer > layer) throw new IllegalArgumentException("RMU layers " + firstLayer + ".." + layer + " are empty or negative");
            if (modules.isEmpty()) throw new IllegalArgumentException("RMU needs at least one of " + MODULES + " to update");
            for (String m : modules)
                if (!MODULES.contains(m)) throw new IllegalArgumentException("RMU module '" + m + "' is not one of " + MODULES);
            if (!(steering > 0) || !Double.isFinite(steering)) throw new IllegalArgumentException("RMU steering coefficient must be positive, got " + steering);
            if (!(alpha >= 0) || !Double.isFinite(alpha)) throw new IllegalArgumentException("RMU alpha must be >= 0, got " + alpha);
            if (!(lr > 0) || steps < 0 || batch < 1) throw new IllegalArgumentException("RMU needs lr > 0, steps >= 0, batch >= 1");
            modules = List.copyOf(modules);
        }
    }

    /** u: H entries uniform in [0, 1) from SplittableRandom(seed), divided by their norm. */
    public static float[] unitVector(int hidden, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] u = new double[hidden];
        double n = 0;
        for (int i = 0; i < hidden; i++) {
            u[i] = r.nextDouble();
            n += u[i] * u[i];
        }
        float[] out = new float[hidden];
        for (int i = 0; i < hidden; i++) out[i] = (float) (u[i] / Math.sqrt(n));
        return out;
    }

    /** The [lo, hi) ranges of {@link LmParams#data} RMU updates. */
    public static List<int[]> updatedRanges(LmParams lay, Config c) {
        List<int[]> out = new ArrayList<>();
        for (int l = c.firstLayer(); l <= c.layer(); l++) {
            for (String m : c.modules()) {
                LmParams.Slot s = lay.slot(weightName(l, m));
                out.add(new int[]{s.offset(), s.offset() + s.size()});
            }
        }
        return out;
    }

    /**
     * Mean over positions t ≥ 1 of ‖h_t‖ at resid_post(layer) for {@code rows} (batched by the bp's size; a
     * partial last batch is padded with its first row and not counted). Used to scale c to the model.
     */
    public static double meanNorm(Gemma2Backprop bp, LmParams lay, float[] params, int[][] rows, int layer) {
        int B = bp.batch(), T = bp.context(), H = lay.config().hiddenSize();
        double s = 0;
        long n = 0;
        for (int b0 = 0; b0 < rows.length; b0 += B) {
            int[][] batch = new int[B][];
            int valid = Math.min(B, rows.length - b0);
            for (int i = 0; i < B; i++) batch[i] = rows[b0 + Math.min(i, valid - 1)];
            float[] h = bp.residPost(params, lay, batch, layer);
            for (int i = 0; i < valid; i++)
                for (int t = 1; t < T; t++) {
                    double q = 0;
                    for (int k = 0; k < H; k++) {
                        float v = h[(i * T + t) * H + k];
                        q += v * v;
                    }
                    s += Math.sqrt(q);
                    n++;
                }
        }
        return n == 0 ? Double.NaN : s / n;
    }

    /**
     * One term of the loss and its gradient: forward of {@code rows} to resid_post(layer), loss w·(1/(n·H))·Σ_{t≥1}
     * ‖h_t − target_t‖² with target = {@code target} (one H-vector for every position when its length is H, else
     * [B·T, H]), backward through layers firstLayer..layer into {@code grad} (added). Returns the loss term.
     */
    public static double term(Gemma2Backprop bp, LmParams lay, float[] params, int[][] rows, int layer, int firstLayer,
                              float[] target, double weight, float[] grad, float[] dScratch) {
        int B = bp.batch(), T = bp.context(), H = lay.config().hiddenSize();
        float[] h = bp.residPost(params, lay, rows, layer);
        double norm = 1.0 / ((double) B * (T - 1) * H), loss = 0;
        boolean shared = target.length == H;
        float g = (float) (2 * weight * norm);
        for (int i = 0; i < B; i++)
            for (int t = 0; t < T; t++) {
                int r = (i * T + t) * H;
                if (t == 0) {
                    Arrays.fill(dScratch, r, r + H, 0f);
                    continue;
                }
                for (int k = 0; k < H; k++) {
                    float diff = h[r + k] - (shared ? target[k] : target[r + k]);
                    loss += (double) diff * diff;
                    dScratch[r + k] = g * diff;
                }
            }
        bp.residBackward(params, lay, layer, firstLayer, dScratch, grad);
        return weight * norm * loss;
    }

    /** Told the step (1-based) and the loss terms after each step; may evaluate {@code params} (do not modify them). */
    public interface Listener {
        void step(int step, double forgetLoss, double retainLoss, float[] params);
    }

    /**
     * Fine-tunes {@code model} in place for c.steps() steps. Step s uses forget rows and retain rows
     * s·B .. s·B+B−1 (cyclically) of a SplittableRandom(seed) shuffle of each corpus. The target c·u uses
     * {@link #unitVector}(H, seed).
     */
    public static void run(LmParams model, Ops ops, int[][] forgetRows, int[][] retainRows, int context, Config c, Listener listener) {
        if (c.layer() >= model.config().numHiddenLayers())
            throw new IllegalArgumentException("RMU layer " + c.layer() + " is outside the model's " + model.config().numHiddenLayers() + " layers");
        if (forgetRows.length == 0 || retainRows.length == 0) throw new IllegalArgumentException("RMU needs forget and retain rows");
        int H = model.config().hiddenSize(), B = c.batch();
        float[] p = model.data(), frozen = p.clone();
        float[] u = unitVector(H, c.seed()), cu = new float[H];
        for (int k = 0; k < H; k++) cu[k] = (float) (c.steering() * u[k]);
        Gemma2Backprop bp = new Gemma2Backprop(model.config(), ops, B, context, false);
        int[] fo = shuffle(forgetRows.length, c.seed() ^ 0x5851F42D4C957F2DL), ro = shuffle(retainRows.length, c.seed() ^ 0x14057B7EF767814FL);
        List<int[]> ranges = updatedRanges(model, c);
        float[] grad = new float[p.length], d = new float[B * context * H], frozenAct = new float[B * context * H];
        float[] m = new float[p.length], v = new float[p.length];
        final float b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
        for (int s = 1; s <= c.steps(); s++) {
            int[][] fb = new int[B][], rb = new int[B][];
            for (int i = 0; i < B; i++) {
                fb[i] = forgetRows[fo[(int) (((long) (s - 1) * B + i) % fo.length)]];
                rb[i] = retainRows[ro[(int) (((long) (s - 1) * B + i) % ro.length)]];
            }
            System.arraycopy(bp.residPost(frozen, model, rb, c.layer()), 0, frozenAct, 0, frozenAct.length);
            Arrays.fill(grad, 0f);
            double lf = term(bp, model, p, fb, c.layer(), c.firstLayer(), cu, 1.0, grad, d);
            double lr = term(bp, model, p, rb, c.layer(), c.firstLayer(), frozenAct, c.alpha(), grad, d);
            double bc1 = 1 - Math.pow(b1, s), bc2 = Math.sqrt(1 - Math.pow(b2, s));
            float stepSize = (float) (c.lr() / bc1), keep = (float) (1 - (double) c.lr() * c.weightDecay());
            for (int[] r : ranges) AdamW.update(p, grad, m, v, r[0], r[1], keep, b1, b2, eps, stepSize, (float) bc2);
            if (listener != null) listener.step(s, lf, lr, p);
        }
    }

    static int[] shuffle(int n, long seed) {
        int[] o = new int[n];
        for (int i = 0; i < n; i++) o[i] = i;
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1), t = o[i];
            o[i] = o[j];
            o[j] = t;
        }
        return o;
    }
}
