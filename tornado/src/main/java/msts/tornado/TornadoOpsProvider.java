package msts.tornado;

import java.util.List;

import msts.engine.Backends;
import msts.engine.Ops;
import msts.engine.spi.OpsProvider;

/** Registers the "tornado" backend with {@link Backends} (META-INF/services/msts.engine.spi.OpsProvider). */
public final class TornadoOpsProvider implements OpsProvider {
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
    public Ops create(String device) {
        Ops cpu = Backends.ops("cpu", null);
        return new TornadoOps(cpu, device == null ? null : TornadoRuntimeInfo.device(device));
    }
}
