package msts.tornado;

import msts.sae.AbstractSae;
import msts.sae.FiringTracker;
import msts.sae.SaeConfig;
import msts.sae.SaeParams;
import msts.sae.TrainConfig;
import msts.sae.TrainStep;
import msts.sae.TrainStepFactory;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

/**
 * {@link PlanTrainStep} as the TornadoVM backend's SAE training step: the tornado {@code Backend} returns one
 * from {@code extension(TrainStepFactory.class)}, made for its device.
 */
public final class PlanTrainStepFactory implements TrainStepFactory {
    private final TornadoDevice device;
    private final TornadoOptions.Matmul matmul;

    /** device: the backend's device, or null for TornadoVM's default. */
    public PlanTrainStepFactory(TornadoDevice device) {
        this(device, TornadoOptions.Matmul.AUTO);
    }

    /** @param matmul the backend option choosing the gemm kernel (tiled on GPUs under auto) */
    public PlanTrainStepFactory(TornadoDevice device, TornadoOptions.Matmul matmul) {
        this.device = device;
        this.matmul = matmul;
    }

    @Override
    public String unsupported(SaeConfig cfg, TrainConfig tc) { return PlanTrainStep.unsupported(cfg, tc); }

    @Override
    public TrainStep create(SaeConfig cfg, TrainConfig tc, int nSeq, int T, int lossStart, SaeParams p, SaeParams m,
                            SaeParams v, long stepsDone, AbstractSae sae, FiringTracker firing) {
        String why = TornadoRuntimeInfo.unavailableReason();
        if (why != null) throw new IllegalArgumentException("backend 'tornado' cannot run here: " + why);
        return new PlanTrainStep(cfg, tc, nSeq, T, lossStart, p, m, v, stepsDone, sae, firing, device, matmul);
    }
}
