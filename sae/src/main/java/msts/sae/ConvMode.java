package msts.sae;

/** Taps of the temporal convolution: causal (t, t−d, t−2d) or centred (t−d, t, t+d). */
public enum ConvMode implements Names {
    CAUSAL("causal"), CENTRED("centred");

    private final String cfgName;

    ConvMode(String cfgName) { this.cfgName = cfgName; }

    @Override public String cfgName() { return cfgName; }

    public static ConvMode parse(String name) { return Names.parse(ConvMode.class, name, "conv mode", "centered", "centred"); }

    @Override public String toString() { return cfgName; }
}
