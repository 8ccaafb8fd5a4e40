package msts.sae;

import msts.engine.Ops;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * The SAE classes by architecture (SAELens' registry: "standard", "topk", "jumprelu"; msts' "temporal" is the
 * class of its "activation" with the dilated-convolution input stage). Used by {@link SaeIO#load} and by the
 * trainer; immutable.
 */
public final class SaeRegistry {
    private SaeRegistry() {}

    /** Creates the SAE over parameters p (raw or training space); extras: the tensors of {@link Entry#extraTensors}. */
    @FunctionalInterface
    public interface Factory {
        AbstractSae create(SaeConfig cfg, SaeParams p, Map<String, float[]> extras, Ops ops);
    }

    /**
     * One activation's class, the tensors beyond {@link SaeParams#NAMES} it loads (each [d_sae]), and whether
     * it has a training loss.
     */
    public record Entry(Activation activation, Factory factory, List<String> extraTensors, boolean trainable) {}

    private static final Map<Activation, Entry> BY_ACTIVATION;

    static {
        Map<Activation, Entry> m = new EnumMap<>(Activation.class);
        m.put(Activation.RELU, new Entry(Activation.RELU, (c, p, x, o) -> new StandardSae(c, p, o), List.of(), true));
        m.put(Activation.TOPK, new Entry(Activation.TOPK, (c, p, x, o) -> new TopKSae(c, p, o), List.of(), true));
        m.put(Activation.JUMPRELU, new Entry(Activation.JUMPRELU, JumpReluSae::new, List.of("threshold"), true));
        m.put(Activation.BATCHTOPK, new Entry(Activation.BATCHTOPK, (c, p, x, o) -> new BatchTopKSae(c, p, o), List.of(), true));
        BY_ACTIVATION = java.util.Collections.unmodifiableMap(m);
    }

    /** The entry of a configuration (its activation's class; temporal adds the conv stage inside the class). */
    public static Entry entry(SaeConfig cfg) {
        Entry e = BY_ACTIVATION.get(cfg.activation());
        if (e == null) throw new IllegalArgumentException("no SAE class for activation " + cfg.activation());
        return e;
    }

    /** The entry of an architecture name ("standard", "topk", "jumprelu"; "temporal" needs its activation). */
    public static Entry entry(String architecture, String activation) {
        Architecture a = Architecture.parse(architecture);
        Activation act = a.fixedActivation() != null ? a.fixedActivation() : Activation.parse(activation);
        return BY_ACTIVATION.get(act);
    }

    /** The SAE for cfg over p, computing with ops. */
    public static AbstractSae create(SaeConfig cfg, SaeParams p, Map<String, float[]> extras, Ops ops) {
        return entry(cfg).factory().create(cfg, p, extras, ops);
    }

    /** The SAE for cfg over p (architectures without extra tensors). */
    public static AbstractSae create(SaeConfig cfg, SaeParams p, Ops ops) {
        return create(cfg, p, Map.of(), ops);
    }
}
