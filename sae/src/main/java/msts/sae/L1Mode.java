package msts.sae;

/** decoder_norm: L1 weighted by ‖W_dec,j‖; unit_norm: unit decoder rows, parallel gradient removed (docs/sae.md). */
public enum L1Mode implements Names {
    DECODER_NORM("decoder_norm"), UNIT_NORM("unit_norm");

    private final String cfgName;

    L1Mode(String cfgName) { this.cfgName = cfgName; }

    @Override public String cfgName() { return cfgName; }

    public static L1Mode parse(String name) { return Names.parse(L1Mode.class, name, "l1 mode"); }

    @Override public String toString() { return cfgName; }
}
