package msts.sae;

/** The latent nonlinearity; each has one {@link Sae} class ({@link SaeRegistry}). */
public enum Activation implements Names {
    RELU("relu"), TOPK("topk"), JUMPRELU("jumprelu"), BATCHTOPK("batchtopk");

    private final String cfgName;

    Activation(String cfgName) { this.cfgName = cfgName; }

    @Override public String cfgName() { return cfgName; }

    public static Activation parse(String name) { return Names.parse(Activation.class, name, "activation"); }

    @Override public String toString() { return cfgName; }
}
