package msts.sae;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Architecture and loss settings of one SAE, written to / read from a SAELens-style {@code cfg.json}.
 * SAELens keys (d_in, d_sae, architecture, hook_name, hook_layer, model_name, dtype, context_size, activation_fn,
 * hook_head_index, dataset_path,
 * normalize_activations, apply_b_dec_to_input) plus msts keys (activation, k, dilations, conv_mode,
 * l1_coefficient, l1_mode, sep_*, aux_k_*). Formulas: docs/sae.md. Every instance is valid: the
 * compact constructor is the one place the settings are checked. Build with {@link #builder()}.
 *
 * @param activation     the nonlinearity actually applied (for all but temporal it is the architecture's)
 * @param k              TopK k
 * @param dilations      temporal dilations (one conv scale each)
 * @param auxKCoefficient AuxK coefficient (TopK)
 * @param kAux           AuxK k_aux; 0 = SAELens default d_in / 2
 * @param scalingFactor  activation scaling factor s used during training (already folded into exported weights)
 * @param jumpReluBandwidth     JumpReLU training: STE bandwidth ε (SAELens jumprelu_bandwidth, 0.05)
 * @param jumpReluInitThreshold JumpReLU training: initial threshold θ_0 (SAELens jumprelu_init_threshold, 0.01)
 * @param l0Coefficient         JumpReLU training: L0 coefficient λ (SAELens l0_coefficient, 1.0)
 * @param topkThresholdLr       BatchTopK: rate of the inference-threshold running average (SAELens topk_threshold_lr, 0.01)
 */
public record SaeConfig(int dIn, int dSae, Architecture architecture, Activation activation, int k, int[] dilations,
                        ConvMode convMode, float l1Coefficient, L1Mode l1Mode, Separation separation,
                        float auxKCoefficient, int kAux, String hookName, int hookLayer, String modelName,
                        int contextSize, String normalizeActivations, float scalingFactor,
                        float jumpReluBandwidth, float jumpReluInitThreshold, float l0Coefficient, float topkThresholdLr) {

    /**
     * Cosine separation of decoder directions: weight · mean over pairs of φ(cos), φ(c) = relu(|c| − margin)²
     * (margin 0: the squared cosine); {@code pairs} per step for the sampled / coactive forms.
     */
    public record Separation(float weight, SepForm form, float margin, int pairs) {
        public static final Separation NONE = new Separation(0f, SepForm.ALL, 0f, 4096);

        public Separation {
            if (form == null) throw new IllegalArgumentException("sep form must be all, sampled or coactive");
            if (margin < 0 || margin >= 1) throw new IllegalArgumentException("sep margin must be in [0, 1)");
            if (weight != 0f && form != SepForm.ALL && pairs <= 0) throw new IllegalArgumentException("sep pairs must be positive (got " + pairs + ")");
        }

        public boolean on() { return weight != 0f; }
    }

    public SaeConfig {
        if (dIn <= 0 || dSae <= 0) throw new IllegalArgumentException("d_in and d_sae must be positive (got " + dIn + ", " + dSae + ")");
        if (architecture == null) throw new IllegalArgumentException("no architecture");
        if (architecture.fixedActivation() != null) activation = architecture.fixedActivation();
        if (activation == null) throw new IllegalArgumentException("the temporal SAE needs an activation (relu, topk, jumprelu, batchtopk)");
        if (activation == Activation.JUMPRELU && !(jumpReluBandwidth > 0 && jumpReluInitThreshold > 0 && l0Coefficient >= 0))
            throw new IllegalArgumentException("jumprelu needs bandwidth > 0, initial threshold > 0 and L0 coefficient >= 0 (got "
                    + jumpReluBandwidth + ", " + jumpReluInitThreshold + ", " + l0Coefficient + ")");
        if (activation == Activation.BATCHTOPK && !(topkThresholdLr > 0 && topkThresholdLr <= 1))
            throw new IllegalArgumentException("batchtopk threshold lr must be in (0, 1] (got " + topkThresholdLr + ")");
        if ((activation == Activation.TOPK || activation == Activation.BATCHTOPK) && (k <= 0 || k > dSae)) throw new IllegalArgumentException("k must be in 1.." + dSae + " (got " + k + ")");
        dilations = dilations.clone();
        if (architecture == Architecture.TEMPORAL) {
            if (dilations.length == 0) throw new IllegalArgumentException("temporal SAE needs at least one dilation");
            for (int d : dilations) if (d <= 0) throw new IllegalArgumentException("dilations must be positive: " + Arrays.toString(dilations));
        }
        if (convMode == null || l1Mode == null || separation == null) throw new IllegalArgumentException("conv mode, l1 mode and separation must be set");
    }

    @Override public int[] dilations() { return dilations.clone(); }

    public boolean temporal() { return architecture == Architecture.TEMPORAL; }

    public boolean topk() { return activation == Activation.TOPK; }

    /** Whether the activation trains with AuxK on dead latents (TopK, BatchTopK). */
    public boolean auxK() { return activation == Activation.TOPK || activation == Activation.BATCHTOPK; }

    /** The sparsity coefficient the schedule warms up: L0's λ for JumpReLU, else the L1 coefficient. */
    public float sparsityCoefficient() { return activation == Activation.JUMPRELU ? l0Coefficient : l1Coefficient; }

    public int nScales() { return temporal() ? dilations.length : 0; }

    public boolean centred() { return convMode == ConvMode.CENTRED; }

    public boolean unitNorm() { return l1Mode == L1Mode.UNIT_NORM; }

    public int kAuxEffective() { return kAux > 0 ? kAux : Math.max(1, dIn / 2); }

    public static Builder builder() { return new Builder(); }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.dIn = dIn; b.dSae = dSae; b.architecture = architecture; b.activation = activation; b.k = k;
        b.dilations = dilations.clone(); b.convMode = convMode; b.l1Coefficient = l1Coefficient; b.l1Mode = l1Mode;
        b.sepWeight = separation.weight(); b.sepForm = separation.form(); b.sepMargin = separation.margin();
        b.sepPairs = separation.pairs(); b.auxKCoefficient = auxKCoefficient; b.kAux = kAux; b.hookName = hookName;
        b.hookLayer = hookLayer; b.modelName = modelName; b.contextSize = contextSize;
        b.normalizeActivations = normalizeActivations; b.scalingFactor = scalingFactor;
        b.jumpReluBandwidth = jumpReluBandwidth; b.jumpReluInitThreshold = jumpReluInitThreshold;
        b.l0Coefficient = l0Coefficient; b.topkThresholdLr = topkThresholdLr;
        return b;
    }

    /** cfg.json contents (SAELens names; "standard" for the ReLU SAE). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("d_in", dIn);
        m.put("d_sae", dSae);
        m.put("architecture", architecture.cfgName());
        m.put("activation", activation.cfgName());
        m.put("hook_name", hookName);
        m.put("hook_layer", hookLayer);
        m.put("model_name", modelName);
        m.put("dtype", "float32");
        m.put("device", "cpu");
        m.put("context_size", contextSize);
        m.put("normalize_activations", normalizeActivations);
        m.put("apply_b_dec_to_input", true);
        m.put("k", k);
        // SAELens 5.x reads the activation from activation_fn (+ activation_fn_kwargs.k) and requires
        // hook_head_index and dataset_path; SAELens 6.x turns such a legacy cfg into its own (docs/interop.md).
        // Not for temporal: 6.x would take activation_fn "topk" for the topk architecture.
        if (!temporal()) m.put("activation_fn", topk() ? "topk" : "relu");
        if (topk()) m.put("activation_fn_kwargs", Map.of("k", k));
        m.put("hook_head_index", null);
        m.put("dataset_path", null);
        m.put("dilations", Arrays.stream(dilations).boxed().toList());
        m.put("conv_mode", convMode.cfgName());
        m.put("l1_coefficient", l1Coefficient);
        m.put("l1_mode", l1Mode.cfgName());
        m.put("sep_weight", separation.weight());
        m.put("sep_form", separation.form().cfgName());
        m.put("sep_margin", separation.margin());
        m.put("sep_pairs", separation.pairs());
        m.put("aux_k_coefficient", auxKCoefficient);
        m.put("k_aux", kAux);
        m.put("scaling_factor", scalingFactor);
        if (activation == Activation.JUMPRELU) {
            m.put("jumprelu_bandwidth", jumpReluBandwidth);
            m.put("jumprelu_init_threshold", jumpReluInitThreshold);
            m.put("l0_coefficient", l0Coefficient);
        }
        if (activation == Activation.BATCHTOPK) m.put("topk_threshold_lr", topkThresholdLr);
        return m;
    }

    /** Reads a cfg.json map (ours or SAELens'; "relu" is read as "standard"; unknown keys ignored). */
    public static SaeConfig fromMap(Map<String, Object> m) {
        Builder c = builder();
        c.dIn = intOf(m, "d_in", 0);
        c.dSae = intOf(m, "d_sae", 0);
        c.architecture = Architecture.parse(String.valueOf(m.getOrDefault("architecture", "standard")));
        if (c.architecture == Architecture.TEMPORAL) c.activation = Activation.parse(String.valueOf(m.getOrDefault("activation", "relu")));
        c.k = intOf(m, "k", 64);
        if (m.get("activation_fn_kwargs") instanceof Map<?, ?> kw && kw.get("k") != null) c.k = toInt("activation_fn_kwargs.k", kw.get("k"));
        Object dl = m.get("dilations");
        if (dl != null && !(dl instanceof List<?>)) throw new IllegalArgumentException("dilations must be a list of integers, got " + dl);
        if (dl instanceof List<?> l) {
            c.dilations = new int[l.size()];
            for (int i = 0; i < l.size(); i++) c.dilations[i] = toInt("dilations[" + i + "]", l.get(i));
        }
        c.convMode = ConvMode.parse(String.valueOf(m.getOrDefault("conv_mode", "causal")));
        c.l1Coefficient = floatOf(m, "l1_coefficient", 5f);
        c.l1Mode = L1Mode.parse(String.valueOf(m.getOrDefault("l1_mode", "decoder_norm")));
        c.sepWeight = floatOf(m, "sep_weight", 0f);
        c.sepForm = SepForm.parse(String.valueOf(m.getOrDefault("sep_form", "all")));
        c.sepMargin = floatOf(m, "sep_margin", 0f);
        c.sepPairs = intOf(m, "sep_pairs", 4096);
        c.auxKCoefficient = floatOf(m, "aux_k_coefficient", 1f / 32f);
        c.kAux = intOf(m, "k_aux", 0);
        c.hookName = String.valueOf(m.getOrDefault("hook_name", c.hookName));
        c.hookLayer = intOf(m, "hook_layer", 0);
        c.modelName = String.valueOf(m.getOrDefault("model_name", c.modelName));
        c.contextSize = intOf(m, "context_size", 128);
        Object na = m.get("normalize_activations");
        c.normalizeActivations = na == null ? "none" : String.valueOf(na);
        c.scalingFactor = floatOf(m, "scaling_factor", 1f);
        c.jumpReluBandwidth = floatOf(m, "jumprelu_bandwidth", c.jumpReluBandwidth);
        c.jumpReluInitThreshold = floatOf(m, "jumprelu_init_threshold", c.jumpReluInitThreshold);
        c.l0Coefficient = floatOf(m, "l0_coefficient", c.l0Coefficient);
        c.topkThresholdLr = floatOf(m, "topk_threshold_lr", c.topkThresholdLr);
        return c.build();
    }

    /** An integer field: absent or null → default; anything but an integer within int range is an error naming it. */
    private static int intOf(Map<String, Object> m, String key, int def) {
        Object v = m.get(key);
        return v == null ? def : toInt(key, v);
    }

    private static int toInt(String key, Object v) {
        if (v instanceof Integer i) return i;
        if (v instanceof Long || v instanceof java.math.BigInteger || v instanceof Short || v instanceof Byte)
            throw new IllegalArgumentException(key + " " + v + " is out of range (a 32-bit integer)");
        throw new IllegalArgumentException(key + " must be an integer, got " + describe(v));
    }

    /** A number field: absent or null → default; a non-number or a value beyond float range is an error naming it. */
    private static float floatOf(Map<String, Object> m, String key, float def) {
        Object v = m.get(key);
        if (v == null) return def;
        if (!(v instanceof Number n)) throw new IllegalArgumentException(key + " must be a number, got " + describe(v));
        double d = n.doubleValue();
        if (!Double.isFinite(d) || Math.abs(d) > Float.MAX_VALUE)
            throw new IllegalArgumentException(key + " " + v + " is out of range (a finite 32-bit float)");
        return (float) d;
    }

    private static String describe(Object v) {
        return v instanceof String s ? "the string \"" + s + "\"" : String.valueOf(v);
    }

    /** Mutable builder with the defaults of a fresh SAE (SAELens-like); {@link #build} validates. */
    public static final class Builder {
        private int dIn, dSae;
        private Architecture architecture = Architecture.STANDARD;
        private Activation activation = Activation.RELU;
        private int k = 64;
        private int[] dilations = {1, 2, 4};
        private ConvMode convMode = ConvMode.CAUSAL;
        private float l1Coefficient = 5f;
        private L1Mode l1Mode = L1Mode.DECODER_NORM;
        private float sepWeight = 0f;
        private SepForm sepForm = SepForm.ALL;
        private float sepMargin = 0f;
        private int sepPairs = 4096;
        private float auxKCoefficient = 1f / 32f;
        private int kAux = 0;
        private String hookName = "blocks.0.hook_resid_post";
        private int hookLayer = 0;
        private String modelName = "gemma-2-2b";
        private int contextSize = 128;
        private String normalizeActivations = "none";
        private float scalingFactor = 1f;
        private float jumpReluBandwidth = 0.05f;
        private float jumpReluInitThreshold = 0.01f;
        private float l0Coefficient = 1f;
        private float topkThresholdLr = 0.01f;

        private Builder() {}

        public Builder dIn(int v) { dIn = v; return this; }
        public Builder dSae(int v) { dSae = v; return this; }
        public Builder architecture(Architecture v) { architecture = v; return this; }
        /** By cfg.json / CLI name ("relu" = "standard"). */
        public Builder architecture(String v) { architecture = Architecture.parse(v); return this; }
        public Builder activation(Activation v) { activation = v; return this; }
        public Builder activation(String v) { activation = Activation.parse(v); return this; }
        public Builder k(int v) { k = v; return this; }
        public Builder dilations(int... v) { dilations = v.clone(); return this; }
        public Builder convMode(ConvMode v) { convMode = v; return this; }
        public Builder convMode(String v) { convMode = ConvMode.parse(v); return this; }
        public Builder l1Coefficient(float v) { l1Coefficient = v; return this; }
        public Builder l1Mode(L1Mode v) { l1Mode = v; return this; }
        public Builder l1Mode(String v) { l1Mode = L1Mode.parse(v); return this; }
        public Builder sepWeight(float v) { sepWeight = v; return this; }
        public Builder sepForm(SepForm v) { sepForm = v; return this; }
        public Builder sepForm(String v) { sepForm = SepForm.parse(v); return this; }
        public Builder sepMargin(float v) { sepMargin = v; return this; }
        public Builder sepPairs(int v) { sepPairs = v; return this; }
        public Builder auxKCoefficient(float v) { auxKCoefficient = v; return this; }
        public Builder kAux(int v) { kAux = v; return this; }
        public Builder hookName(String v) { hookName = v; return this; }
        public Builder hookLayer(int v) { hookLayer = v; return this; }
        public Builder modelName(String v) { modelName = v; return this; }
        public Builder contextSize(int v) { contextSize = v; return this; }
        public Builder normalizeActivations(String v) { normalizeActivations = v; return this; }
        public Builder scalingFactor(float v) { scalingFactor = v; return this; }
        public Builder jumpReluBandwidth(float v) { jumpReluBandwidth = v; return this; }
        public Builder jumpReluInitThreshold(float v) { jumpReluInitThreshold = v; return this; }
        public Builder l0Coefficient(float v) { l0Coefficient = v; return this; }
        public Builder topkThresholdLr(float v) { topkThresholdLr = v; return this; }

        public SaeConfig build() {
            return new SaeConfig(dIn, dSae, architecture, activation, k, dilations, convMode, l1Coefficient, l1Mode,
                    new Separation(sepWeight, sepForm, sepMargin, sepPairs), auxKCoefficient, kAux, hookName, hookLayer,
                    modelName, contextSize, normalizeActivations, scalingFactor, jumpReluBandwidth, jumpReluInitThreshold,
                    l0Coefficient, topkThresholdLr);
        }
    }
}
