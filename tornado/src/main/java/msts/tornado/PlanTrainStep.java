package msts.tornado;

import msts.sae.AbstractSae;
import msts.sae.Activation;
import msts.sae.BatchTopKSae;
import msts.sae.FiringTracker;
import msts.sae.SaeConfig;
import msts.sae.SaeParams;
import msts.sae.SepForm;
import msts.sae.TrainConfig;
import msts.sae.TrainStep;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

/**
 * {@link TrainStep} on a {@link SaeTrainPlan}: parameters and Adam moments live on the device; each step sends
 * the batch and the hyper-parameters and brings back the metrics and per-latent fire counts; {@link #syncTo}
 * (checkpoints, end of training) brings parameters and moments back. TopK / BatchTopK: the AuxK dead mask is read
 * from the trainer's {@link FiringTracker} before each step (as {@code CpuTrainStep} does), and BatchTopK's
 * inference threshold is updated on the trainer's SAE from the step's smallest positive activation.
 */
public final class PlanTrainStep implements TrainStep {
    private final SaeTrainPlan plan;
    private final SaeConfig cfg;
    private final AbstractSae sae;
    private final FiringTracker firing;

    /** Null when the plan runs this configuration, else what it does not support. */
    public static String unsupported(SaeConfig cfg, TrainConfig tc) {
        if (cfg.activation() == Activation.JUMPRELU)
            return "the " + cfg.activation() + " activation (ReLU, TopK and BatchTopK only)";
        if (cfg.separation().on() && cfg.separation().form() != SepForm.ALL)
            return "the " + cfg.separation().form() + " separation loss (the exact form \"all\" only)";
        return null;
    }

    /**
     * @param sae    the trainer's SAE (BatchTopK: its threshold follows the steps; may be null for other activations)
     * @param firing the trainer's dead-latent tracker (AuxK; null = no latent ever dead)
     * @param matmul the backend's kernel-shape option: picks the plan's gemm ({@link Grids#threadPerOutput})
     */
    public PlanTrainStep(SaeConfig cfg, TrainConfig tc, int nSeq, int T, int lossStart, SaeParams p, SaeParams m,
                         SaeParams v, long stepsDone, AbstractSae sae, FiringTracker firing, TornadoDevice device,
                         TornadoOptions.Matmul matmul) {
        String why = unsupported(cfg, tc);
        if (why != null) throw new IllegalArgumentException("the TornadoVM training plan does not support " + why);
        int[] dil = cfg.temporal() ? cfg.dilations() : new int[0];
        if (cfg.activation() == Activation.BATCHTOPK && !(sae instanceof BatchTopKSae))
            throw new IllegalArgumentException("a BatchTopK training step needs the trainer's BatchTopKSae (its threshold)");
        this.cfg = cfg;
        this.sae = sae;
        this.firing = firing;
        SaeTrainPlan.Act act = switch (cfg.activation()) {
            case TOPK -> SaeTrainPlan.Act.TOPK;
            case BATCHTOPK -> SaeTrainPlan.Act.BATCHTOPK;
            default -> SaeTrainPlan.Act.RELU;
        };
        var spec = new SaeTrainPlan.Spec(cfg.dIn(), cfg.dSae(), nSeq, T, lossStart, dil, cfg.centred(), cfg.unitNorm(),
                tc.beta1(), tc.beta2(), tc.adamEps(), cfg.separation().weight(), cfg.separation().margin(), tc.clipNorm(),
                act, cfg.k(), cfg.auxKCoefficient(), cfg.kAuxEffective());
        plan = new SaeTrainPlan(spec, p.arrays(), m.arrays(), v.arrays(), stepsDone, device,
                !Grids.threadPerOutput(device, matmul));
    }

    @Override
    public Metrics step(float[] x, float lr, float l1) {
        boolean[] dead = cfg.auxK() && firing != null ? firing.deadMask() : null;
        SaeTrainPlan.Metrics mt = plan.step(x, lr, l1, dead);
        // the device has already applied the update; the check still stops the run (as CpuTrainStep's does)
        if (!Double.isFinite(mt.loss())) throw new NonFinite("loss is " + mt.loss());
        if (plan.spec().clipNorm() > 0 && !Double.isFinite(mt.gradNorm())) throw new NonFinite("gradient norm is " + mt.gradNorm());
        if (plan.spec().act() == SaeTrainPlan.Act.BATCHTOPK) ((BatchTopKSae) sae).observeTrainingStep(mt.minPositive());
        return new Metrics(mt.loss(), mt.mse(), mt.l1(), mt.aux(), mt.sep(), mt.l0(), Double.NaN, plan.fireCounts());
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
