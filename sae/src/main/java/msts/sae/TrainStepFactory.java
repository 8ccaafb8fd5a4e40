package msts.sae;

/**
 * A backend's whole-step executor for SAE training, offered as {@code backend.extension(TrainStepFactory.class)}
 * ({@link msts.engine.backend.Backend}); the TornadoVM backend offers one. Without it, or when
 * {@link #unsupported} names a reason, the trainer runs {@link CpuTrainStep} on the backend's ops.
 */
public interface TrainStepFactory {
    /** Null when this factory runs the configuration, otherwise why not (one line). */
    String unsupported(SaeConfig cfg, TrainConfig tc);

    /**
     * A step executor starting from parameters p and Adam moments m, v after {@code stepsDone} steps, for
     * batches of nSeq sequences of T rows with the loss counted from position lossStart (on the backend's device).
     * sae is the trainer's SAE on p (its training state, e.g. BatchTopK's threshold, follows the steps); firing
     * gives the dead-latent mask of AuxK before each step (as {@link CpuTrainStep} reads it).
     */
    TrainStep create(SaeConfig cfg, TrainConfig tc, int nSeq, int T, int lossStart, SaeParams p, SaeParams m,
                     SaeParams v, long stepsDone, AbstractSae sae, FiringTracker firing);
}
