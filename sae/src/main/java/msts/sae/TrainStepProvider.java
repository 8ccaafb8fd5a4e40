package msts.sae;

/**
 * A {@link TrainStep} backend found with {@link java.util.ServiceLoader} (file
 * {@code META-INF/services/msts.sae.TrainStepProvider}); the TornadoVM module registers "tornado".
 */
public interface TrainStepProvider {
    /** The {@code --backend} name. */
    String name();

    /** Null when this backend runs the configuration, otherwise why not (one line). */
    String unsupported(SaeConfig cfg, TrainConfig tc);

    /**
     * A step executor starting from parameters p and Adam moments m, v after {@code stepsDone} steps, for
     * batches of nSeq sequences of T rows with the loss counted from position lossStart; device "B:D" or null.
     */
    TrainStep create(SaeConfig cfg, TrainConfig tc, int nSeq, int T, int lossStart, SaeParams p, SaeParams m,
                     SaeParams v, long stepsDone, String device);
}
