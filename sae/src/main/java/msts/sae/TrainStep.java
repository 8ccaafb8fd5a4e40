package msts.sae;

/**
 * One optimiser step of {@link SaeTrainer} executed elsewhere than on the host arrays (the TornadoVM module:
 * {@code SaeTrainPlan}, parameters and Adam moments resident on the device). The CPU path is the trainer's own
 * loop ({@link SaeLoss#compute} + Adam on {@link SaeParams}); an implementation must compute the same step:
 * loss and gradients, unit-norm projection, Adam, decoder renormalisation. The host copies
 * (parameters, Adam moments) are brought up to date only by {@link #syncTo}.
 */
public interface TrainStep extends AutoCloseable {
    /** Metrics of one step over the counted rows; fireCount[j] = counted rows where latent j is active. */
    record Metrics(double mse, double l1, double l0, int[] fireCount) {}

    /** Runs the next step on batch x [rows, d_in] (already scaled) with learning rate lr and L1 coefficient l1. */
    Metrics step(float[] x, float lr, float l1);

    /** Copies the parameters and Adam moments back into p, m, v. */
    void syncTo(SaeParams p, SaeParams m, SaeParams v);

    @Override
    void close();
}
