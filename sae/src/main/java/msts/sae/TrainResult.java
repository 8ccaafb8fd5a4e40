package msts.sae;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a training run returns (and, when complete, writes as summary.json via {@link #toMap}: the same keys
 * as before this record existed).
 *
 * @param fin             averages over the last (up to 50) steps of this run
 * @param deadLatents     latents silent for deadAfterTokens tokens
 * @param silentForWindow latents silent for min(deadAfterTokens, all tokens of the run)
 * @param complete        false when the run stopped early (maxStepsThisRun) with a checkpoint to resume
 */
public record TrainResult(Architecture architecture, Activation activation, int dIn, int dSae, long steps, long tokens,
                          int tokensPerStep, long tokensThisRun, double secondsThisRun, double tokensPerSecond,
                          String ops, String stepsOn, float scalingFactor, Final fin, int deadLatents,
                          long deadAfterTokens, int silentForWindow, SaeConfig sae, TrainConfig train,
                          boolean complete) {

    /** Averages of the last steps; null values when no step ran in this run. */
    public record Final(Double loss, Double mse, Double l1Loss, Double auxkLoss, Double sepLoss, Double l0,
                        Double explainedVariance, int averagedOverSteps) {
        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("loss", loss);
            m.put("mse", mse);
            m.put("l1_loss", l1Loss);
            m.put("auxk_loss", auxkLoss);
            m.put("sep_loss", sepLoss);
            m.put("l0", l0);
            m.put("explained_variance", explainedVariance);
            m.put("averaged_over_steps", averagedOverSteps);
            return m;
        }
    }

    /** summary.json contents. */
    public Map<String, Object> toMap() {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("architecture", architecture.cfgName());
        s.put("activation", activation.cfgName());
        s.put("d_in", dIn);
        s.put("d_sae", dSae);
        s.put("steps", steps);
        s.put("tokens", tokens);
        s.put("tokens_per_step", tokensPerStep);
        s.put("tokens_this_run", tokensThisRun);
        s.put("seconds_this_run", secondsThisRun);
        s.put("tokens_per_second", tokensPerSecond);
        s.put("ops", ops);
        s.put("steps_on", stepsOn);
        s.put("scaling_factor", scalingFactor);
        s.put("final", fin.toMap());
        s.put("dead_latents", deadLatents);
        s.put("dead_after_tokens", deadAfterTokens);
        s.put("latents_silent_for_window", silentForWindow);
        s.put("sae", sae.toMap());
        s.put("train", train.toMap());
        s.put("complete", complete);
        return s;
    }
}
