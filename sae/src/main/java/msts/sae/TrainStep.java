package msts.sae;

/**
 * One optimiser step of {@link SaeTrainer}: loss and gradients, unit-norm projection, clipping, Adam, decoder
 * renormalisation. The CPU implementation is {@link CpuTrainStep} (on the host arrays); a backend may offer
 * its own through {@link TrainStepFactory} (the TornadoVM module: parameters and Adam moments resident on the
 * device), which must compute the same step. The trainer does all bookkeeping the same way for both. The host
 * copies (parameters, Adam moments) are brought up to date only by {@link #syncTo}.
 */
public interface TrainStep extends AutoCloseable {
    /**
     * Metrics of one step over the counted rows; fireCount[j] = counted rows where latent j is active;
     * explainedVariance NaN when the step does not compute it (the trainer then does).
     */
    record Metrics(double loss, double mse, double l1, double aux, double sep, double l0, double explainedVariance,
                   int[] fireCount) {
        /** A step that computes only MSE, L1 and L0 (loss = mse + l1). */
        public Metrics(double mse, double l1, double l0, int[] fireCount) {
            this(mse + l1, mse, l1, 0, 0, l0, Double.NaN, fireCount);
        }
    }

    /** The loss or gradient became NaN / infinite before the update; the message says which ("loss is NaN"). */
    final class NonFinite extends RuntimeException {
        public NonFinite(String what) {
            super(what, null, false, false);
        }
    }

    /** Runs the next step on batch x [rows, d_in] (already scaled) with learning rate lr and L1 coefficient l1. */
    Metrics step(float[] x, float lr, float l1);

    /** Copies the parameters and Adam moments back into p, m, v. */
    void syncTo(SaeParams p, SaeParams m, SaeParams v);

    @Override
    void close();
}
