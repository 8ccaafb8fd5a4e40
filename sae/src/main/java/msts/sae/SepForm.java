package msts.sae;

/** Pairs of the separation loss: all (exact Gram), sampled (uniform pairs) or coactive (pairs active on one token). */
public enum SepForm implements Names {
    ALL("all"), SAMPLED("sampled"), COACTIVE("coactive");

    private final String cfgName;

    SepForm(String cfgName) { this.cfgName = cfgName; }

    @Override public String cfgName() { return cfgName; }

    public static SepForm parse(String name) { return Names.parse(SepForm.class, name, "sep form"); }

    @Override public String toString() { return cfgName; }
}
