package msts.tornado;

import java.util.Locale;
import java.util.Map;

/**
 * The typed options of the "tornado" backend, from {@code --backend-option KEY=VALUE}:
 * {@code maxPlans} (forward plans kept at once by {@link PlanForwardEngine}; each holds its own device copy of
 * the weights, so a second one doubles the device memory; default 1) and {@code matmul} (the matmul kernel
 * shape, see {@link Grids#threadPerOutput}; default auto).
 */
public record TornadoOptions(int maxPlans, Matmul matmul) {
    /** auto: one work-item per output on CPU OpenCL devices, one work-group per output feature on GPUs. */
    public enum Matmul { AUTO, THREADS, GROUPS }

    public static final TornadoOptions DEFAULT = new TornadoOptions(1, Matmul.AUTO);

    public TornadoOptions {
        if (maxPlans < 1) throw new IllegalArgumentException("tornado backend option maxPlans must be >= 1, got " + maxPlans);
        if (matmul == null) throw new IllegalArgumentException("tornado backend option matmul is null");
    }

    /** Parses {@code --backend-option} pairs; unknown keys and bad values are one clear error. */
    public static TornadoOptions parse(Map<String, String> options) {
        int maxPlans = DEFAULT.maxPlans();
        Matmul matmul = DEFAULT.matmul();
        for (var e : options.entrySet()) {
            String v = e.getValue() == null ? "" : e.getValue().trim();
            switch (e.getKey()) {
                case "maxPlans" -> {
                    try {
                        maxPlans = Integer.parseInt(v);
                    } catch (NumberFormatException x) {
                        throw new IllegalArgumentException("tornado backend option maxPlans=" + v + " is not a number");
                    }
                }
                case "matmul" -> {
                    try {
                        matmul = Matmul.valueOf(v.toUpperCase(Locale.ROOT));
                    } catch (IllegalArgumentException x) {
                        throw new IllegalArgumentException("tornado backend option matmul=" + v + " (auto, threads or groups)");
                    }
                }
                default -> throw new IllegalArgumentException("backend 'tornado' has no option '" + e.getKey() + "' (known: maxPlans, matmul)");
            }
        }
        return new TornadoOptions(maxPlans, matmul);
    }
}
