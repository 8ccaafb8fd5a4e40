package msts.tornado;

import msts.sae.Activation;
import msts.sae.SaeConfig;
import msts.sae.SaeParams;
import msts.sae.TrainConfig;
import msts.sae.TrainStep;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

/**
 * {@link TrainStep} on a {@link SaeTrainPlan}: parameters and Adam moments live on the device; each step sends
 * the batch and the hyper-parameters and brings back the metrics and per-latent fire counts; {@link #syncTo}
 * (checkpoints, end of training) brings parameters and moments back.
 */
public final class PlanTrainStep implements TrainStep {
    private final SaeTrainPlan plan;

    /** Null when the plan runs this configuration, else what it does not support. */
    public static String unsupported(SaeConfig cfg, TrainConfig tc) {
        if (cfg.activation() != Activation.RELU) return "the " + cfg.activation() + " activation (ReLU and temporal-ReLU only)";
        if (cfg.separation().on()) return "the separation loss (--sep-weight)";
        if (tc.clipNorm() > 0) return "gradient-norm clipping (--clip)";
        return null;
    }

    public PlanTrainStep(SaeConfig cfg, TrainConfig tc, int nSeq, int T, int lossStart, SaeParams p, SaeParams m,
                         SaeParams v, long stepsDone, TornadoDevice device) {
        String why = unsupported(cfg, tc);
        if (why != null) throw new IllegalArgumentException("the TornadoVM training plan does not support " + why);
        int[] dil = cfg.temporal() ? cfg.dilations() : new int[0];
        var spec = new SaeTrainPlan.Spec(cfg.dIn(), cfg.dSae(), nSeq, T, lossStart, dil, cfg.centred(), cfg.unitNorm(),
                tc.beta1(), tc.beta2(), tc.adamEps());
        plan = new SaeTrainPlan(spec, p.arrays(), m.arrays(), v.arrays(), stepsDone, device);
    }

    @Override
    public Metrics step(float[] x, float lr, float l1) {
        SaeTrainPlan.Metrics mt = plan.step(x, lr, l1);
        return new Metrics(mt.mse(), mt.l1(), mt.l0(), plan.fireCounts());
    }

    @Override
    public void syncTo(SaeParams p, SaeParams m, SaeParams v) {
        plan.syncParams();
        FloatArrays.copy(plan.W_enc, p.W_enc);
        FloatArrays.copy(plan.b_enc, p.b_enc);
        FloatArrays.copy(plan.W_dec, p.W_dec);
        FloatArrays.copy(plan.b_dec, p.b_dec);
        if (plan.spec().temporal()) FloatArrays.copy(plan.conv_w, p.conv_w);
        float[][][] mv = plan.syncMoments();
        float[][] ma = m.arrays(), va = v.arrays();
        int np = plan.spec().temporal() ? 5 : 4;
        for (int i = 0; i < np; i++) {
            System.arraycopy(mv[0][i], 0, ma[i], 0, ma[i].length);
            System.arraycopy(mv[1][i], 0, va[i], 0, va[i].length);
        }
    }

    @Override
    public void close() { plan.close(); }

    /** Host copies between TornadoVM arrays and Java arrays. */
    static final class FloatArrays {
        private FloatArrays() {}

        static void copy(uk.ac.manchester.tornado.api.types.arrays.FloatArray src, float[] dst) {
            java.lang.foreign.MemorySegment.ofArray(dst).copyFrom(src.getSegment().asSlice(0, (long) dst.length * 4));
        }
    }
}
