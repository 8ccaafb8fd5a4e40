package msts.sae;

import msts.engine.Ops;

import java.util.Arrays;
import java.util.Map;

/**
 * BatchTopK SAE (Bussmann et al. 2024; SAELens BatchTopKTrainingSAE), docs/sae.md "BatchTopK". Training
 * forward: the K = ⌊k·|M|⌋ largest ReLU(pre) of the whole batch's counted rows, AuxK as TopK. After every
 * training step the inference threshold θ ← (1 − lr)·θ + lr·(min positive f) (double, θ_0 = 0). Outside
 * training (encode) f = pre·1[pre &gt; θ]; the SAE is saved as SAELens does, as a JumpReLU SAE with
 * threshold θ for every latent ({@link #forInference}).
 */
public class BatchTopKSae extends TopKSae {
    private double topkThreshold;
    /** Set while {@link #loss} runs: the batch layout the batch-level selection needs (-1: inference). */
    private int trainT = -1, trainLossStart;
    private float[] scratch, thresholdVec;

    public BatchTopKSae(SaeConfig cfg, SaeParams params, Ops ops) {
        super(cfg, params, ops);
    }

    /** The current inference threshold θ. */
    public double topkThreshold() { return topkThreshold; }

    /**
     * One training step's threshold update from the batch's smallest positive training activation μ
     * ({@link ThresholdKernels#minPositive}; +∞ = none): what {@link #loss} does after a step, for a backend step
     * that computed f on its device.
     */
    public void observeTrainingStep(float minPositive) {
        topkThreshold = ThresholdKernels.updateThreshold(topkThreshold, minPositive, cfg.topkThresholdLr());
    }

    @Override
    public synchronized LossTerms loss(SaeParams p, float[] x, int nSeq, int T, LossInput in, SaeParams grad) {
        trainT = T;
        trainLossStart = in.lossStart();
        try {
            LossTerms r = super.loss(p, x, nSeq, T, in, grad);
            if (grad != null) // a training step (SAELens updates in training_forward_pass)
                topkThreshold = ThresholdKernels.updateThreshold(topkThreshold, f, nSeq * T, n, T, in.lossStart(), cfg.topkThresholdLr());
            return r;
        } finally {
            trainT = -1;
        }
    }

    /** Inference: JumpReLU with θ for every latent. */
    @Override
    public msts.model.gemma.SaeSplice.Encoder spliceEncoder() {
        float[] th = new float[n];
        Arrays.fill(th, (float) topkThreshold);
        return spliceEncoder(msts.model.gemma.SaeSplice.Act.JUMPRELU, 0, th);
    }

    @Override
    protected void activate(float[] pre, float[] f, int N) {
        if (trainT < 0) { // inference: JumpReLU with θ for every latent
            if (thresholdVec == null) thresholdVec = new float[n];
            Arrays.fill(thresholdVec, (float) topkThreshold);
            float[] th = thresholdVec;
            Par.rows(N, 16, (lo, hi) -> SaeKernels.jumpRelu(pre, th, f, n, lo, hi));
            return;
        }
        int T = trainT, counted = (N / T) * (T - trainLossStart);
        if (scratch == null || scratch.length < counted * n) scratch = new float[counted * n];
        ThresholdKernels.batchTopK(pre, f, N, n, T, trainLossStart, ThresholdKernels.batchK(cfg.k(), counted), scratch);
    }

    @Override
    protected void resized(int rows) {
        super.resized(rows);
        scratch = null;
    }

    @Override public Map<String, Double> trainingState() { return Map.of("topk_threshold", topkThreshold); }

    @Override
    public void restoreTrainingState(Map<String, ?> state) {
        if (state.get("topk_threshold") instanceof Number v) topkThreshold = v.doubleValue();
    }

    /** SAELens process_state_dict_for_saving_inference: a JumpReLU SAE with threshold θ·1 [d_sae]. */
    @Override
    public AbstractSae forInference(SaeConfig exportCfg, SaeParams folded) {
        var b = exportCfg.toBuilder();
        if (exportCfg.temporal()) b.activation(Activation.JUMPRELU);
        else b.architecture(Architecture.JUMPRELU);
        float[] th = new float[n];
        Arrays.fill(th, (float) topkThreshold);
        return SaeRegistry.create(b.build(), folded, Map.of("threshold", th), ops);
    }
}
