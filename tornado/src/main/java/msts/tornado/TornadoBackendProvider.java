package msts.tornado;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import msts.engine.CpuOps;
import msts.engine.Ops;
import msts.engine.backend.Backend;
import msts.engine.backend.BackendProvider;
import msts.model.gemma.ForwardEngineFactory;
import msts.sae.TrainStepFactory;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

/**
 * The "tornado" backend (META-INF/services/msts.engine.backend.BackendProvider): ops are {@link TornadoOps}
 * (matmuls on the device, the rest on {@link CpuOps}); extensions are the whole-pass forward engine
 * ({@link ForwardEngineFactory} → {@link PlanForwardEngine}, whole-layer task graphs) and the SAE training step
 * ({@link TrainStepFactory} → {@link PlanTrainStepFactory}).
 */
public final class TornadoBackendProvider implements BackendProvider {
    @Override
    public String name() { return "tornado"; }

    @Override
    public String unavailableReason() {
        try {
            return TornadoRuntimeInfo.unavailableReason();
        } catch (LinkageError e) { // tornado-api classes missing: not launched with the SDK
            return "TornadoVM classes not found (" + e.getMessage() + "); launch through ./msts --backend tornado";
        }
    }

    @Override
    public List<String> devices() {
        if (unavailableReason() != null) return List.of();
        return TornadoRuntimeInfo.devices().stream()
                .map(d -> String.format("%-5s %-8s %s  [%s]  global %.1f GB, local %d KB", d.id(), d.backendName(),
                        d.name(), d.description(), d.globalMemory() / 1e9, d.localMemory() / 1024))
                .toList();
    }

    @Override
    public Backend create(String device, Map<String, String> options) {
        TornadoOptions opts = TornadoOptions.parse(options);
        String why = unavailableReason();
        if (why != null) throw new IllegalArgumentException("backend 'tornado' cannot run here: " + why);
        return new TornadoBackend(device == null ? null : TornadoRuntimeInfo.device(device), opts);
    }

    /** The backend value: one device, one {@link TornadoOps}, the options. */
    static final class TornadoBackend implements Backend {
        private final TornadoDevice device;
        private final TornadoOptions options;
        private final TornadoOps ops;

        TornadoBackend(TornadoDevice device, TornadoOptions options) {
            this.device = device;
            this.options = options;
            this.ops = new TornadoOps(CpuOps.INSTANCE, device, options.matmul());
        }

        @Override public String name() { return "tornado"; }

        @Override public Ops ops() { return ops; }

        TornadoOptions options() { return options; }

        @Override
        public <T> Optional<T> extension(Class<T> type) {
            if (type == ForwardEngineFactory.class)
                return Optional.of(type.cast((ForwardEngineFactory) m -> new PlanForwardEngine(m, device, options)));
            if (type == TrainStepFactory.class)
                return Optional.of(type.cast(new PlanTrainStepFactory(device, options.matmul())));
            return Optional.empty();
        }

        @Override
        public String describe() {
            return "tornado (" + ops.name() + ", maxPlans " + options.maxPlans() + ", matmul " + options.matmul().name().toLowerCase() + ")";
        }

        @Override
        public void close() { ops.close(); }
    }
}
