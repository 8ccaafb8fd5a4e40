package msts.tornado;

import msts.sae.SaeConfig;
import msts.sae.SaeParams;
import msts.sae.TrainConfig;
import msts.sae.TrainStep;
import msts.sae.TrainStepProvider;

/** Registers {@link PlanTrainStep} as the "tornado" training step (META-INF/services/msts.sae.TrainStepProvider). */
public final class PlanTrainStepProvider implements TrainStepProvider {
    @Override
    public String name() { return "tornado"; }

    @Override
    public String unsupported(SaeConfig cfg, TrainConfig tc) { return PlanTrainStep.unsupported(cfg, tc); }

    @Override
    public TrainStep create(SaeConfig cfg, TrainConfig tc, int nSeq, int T, int lossStart, SaeParams p, SaeParams m,
                            SaeParams v, long stepsDone, String device) {
        String why = TornadoRuntimeInfo.unavailableReason();
        if (why != null) throw new IllegalArgumentException("backend 'tornado' cannot run here: " + why);
        return new PlanTrainStep(cfg, tc, nSeq, T, lossStart, p, m, v, stepsDone,
                device == null ? null : TornadoRuntimeInfo.device(device));
    }
}
