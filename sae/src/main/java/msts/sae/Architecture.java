package msts.sae;

/**
 * SAE architectures by their cfg.json name (SAELens names plus msts' "temporal"). Every architecture but
 * temporal fixes its activation; temporal takes it from cfg.json's "activation" key and adds the dilated
 * convolution input stage ({@link DilatedConv}). "relu" is accepted as an alias of "standard".
 */
public enum Architecture implements Names {
    STANDARD("standard", Activation.RELU),
    TOPK("topk", Activation.TOPK),
    JUMPRELU("jumprelu", Activation.JUMPRELU),
    /** Training only: saved as "jumprelu" (SAELens BatchTopKTrainingSAE), see {@link BatchTopKSae}. */
    BATCHTOPK("batchtopk", Activation.BATCHTOPK),
    TEMPORAL("temporal", null);

    private final String cfgName;
    private final Activation activation;

    Architecture(String cfgName, Activation activation) {
        this.cfgName = cfgName;
        this.activation = activation;
    }

    @Override public String cfgName() { return cfgName; }

    /** The activation this architecture fixes, or null (temporal: chosen by cfg.json "activation"). */
    public Activation fixedActivation() { return activation; }

    public static Architecture parse(String name) {
        return Names.parse(Architecture.class, name, "architecture", "relu", "standard");
    }

    @Override public String toString() { return cfgName; }
}
