package msts.tornado;

import msts.model.gemma.ForwardEngine;
import msts.model.gemma.ForwardEngineProvider;
import msts.model.gemma.Gemma2;

/** Registers {@link PlanForwardEngine} as the "tornado" forward engine (META-INF/services/msts.model.gemma.ForwardEngineProvider). */
public final class PlanForwardEngineProvider implements ForwardEngineProvider {
    @Override
    public String name() { return "tornado"; }

    @Override
    public ForwardEngine create(Gemma2 model, String device) {
        String why = TornadoRuntimeInfo.unavailableReason();
        if (why != null) throw new IllegalArgumentException("backend 'tornado' cannot run here: " + why);
        return new PlanForwardEngine(model, device == null ? null : TornadoRuntimeInfo.device(device));
    }
}
