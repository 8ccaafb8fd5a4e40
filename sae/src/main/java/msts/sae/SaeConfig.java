package msts.sae;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Architecture and loss settings of one SAE, written to / read from a SAELens-style {@code cfg.json}.
 * SAELens keys (d_in, d_sae, architecture, hook_name, hook_layer, model_name, dtype, context_size,
 * normalize_activations, apply_b_dec_to_input) plus msts keys (activation, k, dilations, conv_mode,
 * l1_coefficient, l1_mode, sep_*, aux_k_*). Formulas: docs/sae.md.
 */
public final class SaeConfig {
    public int dIn;
    public int dSae;
    /** "relu" (SAELens "standard"), "topk", "temporal" or "jumprelu" (load only). */
    public String architecture = "relu";
    /** Activation of the temporal SAE: "relu" or "topk" (for relu/topk architectures it equals the architecture). */
    public String activation = "relu";
    public int k = 64;
    public int[] dilations = {1, 2, 4};
    /** "causal" (taps t, t−d, t−2d) or "centred" (taps t−d, t, t+d). */
    public String convMode = "causal";
    public float l1Coefficient = 5f;
    /** "decoder_norm": L1 weighted by ‖W_dec,j‖; "unit_norm": unit decoder rows, parallel gradient removed. */
    public String l1Mode = "decoder_norm";
    public float sepWeight = 0f;
    /** Pairs of the separation loss: "all" (exact Gram), "sampled" or "coactive". */
    public String sepForm = "all";
    /** Margin m of the separation loss: φ(c) = relu(|c| − m)²; m = 0 is the squared cosine. */
    public float sepMargin = 0f;
    /** Number of pairs per step for the sampled / coactive forms. */
    public int sepPairs = 4096;
    public float auxKCoefficient = 1f / 32f;
    /** 0 = SAELens default d_in / 2. */
    public int kAux = 0;

    public String hookName = "blocks.0.hook_resid_post";
    public int hookLayer = 0;
    public String modelName = "gemma-2-2b";
    public int contextSize = 128;
    public String normalizeActivations = "none";
    /** Activation scaling factor s used during training (already folded into exported weights). */
    public float scalingFactor = 1f;

    public boolean temporal() { return "temporal".equals(architecture); }

    /** The nonlinearity actually applied: "relu", "topk" or "jumprelu". */
    public String act() { return temporal() ? activation : architecture; }

    public boolean topk() { return "topk".equals(act()); }

    public int nScales() { return temporal() ? dilations.length : 0; }

    public boolean centred() { return "centred".equals(convMode) || "centered".equals(convMode); }

    public boolean unitNorm() { return "unit_norm".equals(l1Mode); }

    public int kAuxEffective() { return kAux > 0 ? kAux : Math.max(1, dIn / 2); }

    public SaeConfig copy() {
        SaeConfig c = fromMap(toMap());
        return c;
    }

    public void validate() {
        if (dIn <= 0 || dSae <= 0) throw new IllegalArgumentException("d_in and d_sae must be positive (got " + dIn + ", " + dSae + ")");
        if (!List.of("relu", "topk", "temporal", "jumprelu").contains(architecture))
            throw new IllegalArgumentException("unknown architecture '" + architecture + "' (relu, topk, temporal)");
        if (!List.of("relu", "topk", "jumprelu").contains(act()))
            throw new IllegalArgumentException("unknown activation '" + act() + "' (relu, topk)");
        if (topk() && (k <= 0 || k > dSae)) throw new IllegalArgumentException("k must be in 1.." + dSae + " (got " + k + ")");
        if (temporal()) {
            if (dilations.length == 0) throw new IllegalArgumentException("temporal SAE needs at least one dilation");
            for (int d : dilations) if (d <= 0) throw new IllegalArgumentException("dilations must be positive: " + Arrays.toString(dilations));
            if (!centred() && !"causal".equals(convMode)) throw new IllegalArgumentException("conv mode must be causal or centred (got " + convMode + ")");
        }
        if (!List.of("decoder_norm", "unit_norm").contains(l1Mode)) throw new IllegalArgumentException("l1 mode must be decoder_norm or unit_norm");
        if (!List.of("all", "sampled", "coactive").contains(sepForm)) throw new IllegalArgumentException("sep form must be all, sampled or coactive (got " + sepForm + ")");
        if (sepMargin < 0 || sepMargin >= 1) throw new IllegalArgumentException("sep margin must be in [0, 1)");
    }

    /** cfg.json contents (SAELens names). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("d_in", dIn);
        m.put("d_sae", dSae);
        m.put("architecture", "relu".equals(architecture) ? "standard" : architecture);
        m.put("activation", act());
        m.put("hook_name", hookName);
        m.put("hook_layer", hookLayer);
        m.put("model_name", modelName);
        m.put("dtype", "float32");
        m.put("device", "cpu");
        m.put("context_size", contextSize);
        m.put("normalize_activations", normalizeActivations);
        m.put("apply_b_dec_to_input", true);
        m.put("k", k);
        if (topk()) m.put("activation_fn_kwargs", Map.of("k", k));
        m.put("dilations", Arrays.stream(dilations).boxed().toList());
        m.put("conv_mode", convMode);
        m.put("l1_coefficient", l1Coefficient);
        m.put("l1_mode", l1Mode);
        m.put("sep_weight", sepWeight);
        m.put("sep_form", sepForm);
        m.put("sep_margin", sepMargin);
        m.put("sep_pairs", sepPairs);
        m.put("aux_k_coefficient", auxKCoefficient);
        m.put("k_aux", kAux);
        m.put("scaling_factor", scalingFactor);
        return m;
    }

    /** Reads a cfg.json map (ours or SAELens': "standard" → relu; unknown keys ignored). */
    @SuppressWarnings("unchecked")
    public static SaeConfig fromMap(Map<String, Object> m) {
        SaeConfig c = new SaeConfig();
        c.dIn = intOf(m, "d_in", 0);
        c.dSae = intOf(m, "d_sae", 0);
        String arch = String.valueOf(m.getOrDefault("architecture", "standard"));
        c.architecture = switch (arch) {
            case "standard", "relu" -> "relu";
            default -> arch;
        };
        c.activation = c.temporal() ? String.valueOf(m.getOrDefault("activation", "relu")) : c.architecture;
        c.k = intOf(m, "k", 64);
        if (m.get("activation_fn_kwargs") instanceof Map<?, ?> kw && kw.get("k") instanceof Number n) c.k = n.intValue();
        if (m.get("dilations") instanceof List<?> l) c.dilations = l.stream().mapToInt(o -> ((Number) o).intValue()).toArray();
        c.convMode = String.valueOf(m.getOrDefault("conv_mode", "causal"));
        c.l1Coefficient = floatOf(m, "l1_coefficient", 5f);
        c.l1Mode = String.valueOf(m.getOrDefault("l1_mode", "decoder_norm"));
        c.sepWeight = floatOf(m, "sep_weight", 0f);
        c.sepForm = String.valueOf(m.getOrDefault("sep_form", "all"));
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
        return c;
    }

    private static int intOf(Map<String, Object> m, String key, int def) {
        return m.get(key) instanceof Number n ? n.intValue() : def;
    }

    private static float floatOf(Map<String, Object> m, String key, float def) {
        return m.get(key) instanceof Number n ? n.floatValue() : def;
    }
}
