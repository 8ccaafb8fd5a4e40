package msts.tornado;

import java.util.ArrayList;
import java.util.List;

import uk.ac.manchester.tornado.api.TornadoBackend;
import uk.ac.manchester.tornado.api.TornadoRuntime;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.runtime.TornadoRuntimeProvider;

/** Whether a TornadoVM runtime with at least one device is present, and which devices it has. */
public final class TornadoRuntimeInfo {
    private TornadoRuntimeInfo() {}

    /** One device: its "backend:device" id as used by {@code --device} and {@code -D<graph>.<task>.device}. */
    public record Device(int backend, int index, String backendName, String name, String description,
                         long globalMemory, long localMemory) {
        public String id() { return backend + ":" + index; }
    }

    private static volatile String unavailableReason;
    private static volatile Boolean available;

    /**
     * Empty when TornadoVM can run kernels here; otherwise the reason (no SDK JVM flags, no backend,
     * no device). Never throws.
     */
    public static synchronized String unavailableReason() {
        if (available != null) return available ? null : unavailableReason;
        String reason = null;
        if (System.getProperty("tornado.load.runtime.implementation") == null) {
            reason = "TornadoVM runtime not loaded: launch with the SDK flags (java @$TORNADOVM_HOME/tornado-argfile"
                    + " or the `tornado` launcher; see tornado-config/README.md)";
        } else {
            try {
                TornadoRuntime rt = TornadoRuntimeProvider.getTornadoRuntime();
                int devices = 0;
                for (int b = 0; b < rt.getNumBackends(); b++) devices += rt.getBackend(b).getNumDevices();
                if (devices == 0) reason = "TornadoVM runtime has no device (check the OpenCL/PTX/SPIR-V driver)";
            } catch (Throwable t) {
                reason = "TornadoVM runtime failed to start: " + t;
            }
        }
        unavailableReason = reason;
        available = reason == null;
        return reason;
    }

    public static boolean isAvailable() { return unavailableReason() == null; }

    /** All devices of all backends. Requires {@link #isAvailable()}. */
    public static List<Device> devices() {
        TornadoRuntime rt = TornadoRuntimeProvider.getTornadoRuntime();
        List<Device> out = new ArrayList<>();
        for (int b = 0; b < rt.getNumBackends(); b++) {
            TornadoBackend be = rt.getBackend(b);
            for (int d = 0; d < be.getNumDevices(); d++) {
                TornadoDevice dev = be.getDevice(d);
                out.add(new Device(b, d, be.getName(), dev.getDeviceName(), dev.getDescription(),
                        dev.getMaxGlobalMemory(), dev.getDeviceLocalMemorySize()));
            }
        }
        return out;
    }

    /** Parses "B:D" (e.g. "0:0") into a device, with a clear error for unknown ids. */
    public static TornadoDevice device(String id) {
        String[] p = id.trim().split(":");
        if (p.length != 2) throw new IllegalArgumentException("device must be BACKEND:DEVICE like 0:0, got '" + id + "'");
        int b, d;
        try {
            b = Integer.parseInt(p[0]);
            d = Integer.parseInt(p[1]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("device must be BACKEND:DEVICE like 0:0, got '" + id + "'");
        }
        TornadoRuntime rt = TornadoRuntimeProvider.getTornadoRuntime();
        if (b < 0 || b >= rt.getNumBackends() || d < 0 || d >= rt.getBackend(b).getNumDevices())
            throw new IllegalArgumentException("no TornadoVM device " + id + " (run `msts devices` to list them)");
        return rt.getBackend(b).getDevice(d);
    }
}
