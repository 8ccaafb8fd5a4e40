package msts.evals;

import msts.sae.Sae;

/** Values msts writes into SAEBench's eval_config fields that are the same for every eval. */
final class SaeBenchConfig {
    private SaeBenchConfig() {}

    /** The dtype the language model computes in (activations and logits are F32 in msts). */
    static final String LLM_DTYPE = "float32";

    /** The model the SAE was trained on (its cfg.json model_name), which is the model the eval ran. */
    static String modelName(Sae sae) {
        Object m = sae.cfg().get("model_name");
        return m == null ? "" : String.valueOf(m);
    }
}
