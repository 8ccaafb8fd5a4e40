package msts.evals;

import msts.engine.Ops;
import msts.model.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import msts.engine.util.Progress;
import msts.sae.Sae;

/**
 * SAEBench's core eval: sparsity, reconstruction and shrinkage metrics on resid_post at the hook layer,
 * feature density, decoder geometry, and the downstream CE-loss / KL scores by splicing x̂ into the forward
 * pass (clean vs SAE-spliced vs zero-ablated). Special tokens (BOS/EOS/PAD) are excluded. docs/evals.md.
 */
public final class CoreEval {
    private CoreEval() {}

    /**
     * layer: hook layer; batchSize: prompts per batch; computeCeKl: splice x̂ into the forward pass for the CE/KL
     * scores; dataset: what the rows were read from (written as eval_config.dataset; "" = not given).
     */
    public record Config(int layer, int batchSize, boolean computeCeKl, String dataset) {
        public Config {
            if (dataset == null) dataset = "";
        }

        public Config(int layer, int batchSize, boolean computeCeKl) {
            this(layer, batchSize, computeCeKl, "");
        }
    }

    /** SAEBench writes −1 for every NaN in the core results (core/main.py replace_nans_with_negative_one). */
    static final double NOT_A_NUMBER = -1.0;

    /** Runs the core eval; {@code ops} computes the decoder-cosine Gram blocks (the run's backend ops). */
    public static EvalResult<CoreMetrics> run(Ops ops, LanguageModel lm, Tokenizer tok, Sae sae, int[][] rows, Config cfg, String saeId) {
        if (sae.dIn() != lm.hiddenSize())
            throw new IllegalArgumentException("SAE d_in " + sae.dIn() + " does not match the model's hidden size " + lm.hiddenSize());
        if (cfg.layer() < 0 || cfg.layer() >= lm.numLayers())
            throw new IllegalArgumentException("hook layer " + cfg.layer() + " outside the model's 0.." + (lm.numLayers() - 1));
        ReconstructionStats stats = new ReconstructionStats(sae.dIn(), sae.dSae());
        DownstreamStats down = new DownstreamStats(lm.vocabSize());
        int bs = Math.max(1, cfg.batchSize());
        try (Progress p = new Progress("eval core", rows.length, "seq")) {
            for (int b0 = 0; b0 < rows.length; b0 += bs) {
                int[][] batch = java.util.Arrays.copyOfRange(rows, b0, Math.min(rows.length, b0 + bs));
                boolean[][] mask = new boolean[batch.length][];
                for (int s = 0; s < batch.length; s++) mask[s] = TokenRows.mask(tok, batch[s]);
                addSparsityVariance(lm, sae, cfg.layer(), batch, mask, stats);
                if (cfg.computeCeKl()) down.add(lm, sae, cfg.layer(), batch, mask);
                p.advance(batch.length);
            }
        }
        double[] density = stats.featureDensity();
        int dIn = sae.dIn(), dSae = sae.dSae();
        double[] maxCos = DecoderGeometry.maxCosineToOthers(ops, sae.decoderWeights(), dSae, dIn);
        float[] wEnc = sae.encoderWeights(), bEnc = sae.encoderBias();
        double[] maxEncCos = EncoderGeometry.maxEncoderCosine(ops, wEnc, dIn, dSae);
        double[] encNorm = EncoderGeometry.encoderNorms(wEnc, dIn, dSae);
        double[] encDecCos = EncoderGeometry.encoderDecoderCosine(wEnc, sae.decoderWeights(), dIn, dSae);
        Map<String, Map<String, Object>> metrics = new LinkedHashMap<>();
        // SAEBench's schema requires both downstream groups: without CE/KL they hold −1 (eval_config says why)
        metrics.putAll(cfg.computeCeKl() ? down.metrics() : DownstreamStats.notComputed());
        metrics.putAll(stats.metrics());
        Map<String, Object> tokenStats = new LinkedHashMap<>();
        tokenStats.put("total_tokens_eval_reconstruction", down.positions);
        tokenStats.put("total_tokens_eval_sparsity_variance", stats.tokens());
        metrics.put("token_stats", tokenStats);
        metrics.put("misc_metrics", ReconstructionStats.miscMetrics(density, maxCos, maxEncCos));
        double[] cah = stats.consistentActivation();
        List<Map<String, Object>> details = new ArrayList<>();
        for (int j = 0; j < dSae; j++) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("index", j);
            d.put("feature_density", density[j]);
            d.put("consistent_activation_heuristic", cah[j]);
            d.put("encoder_bias", (double) bEnc[j]);
            d.put("encoder_norm", encNorm[j]);
            d.put("encoder_decoder_cosine_sim", encDecCos[j]);
            d.put("max_decoder_cosine_sim", maxCos[j]);
            d.put("max_encoder_cosine_sim", maxEncCos[j]);
            details.add(d);
        }
        // every field of SAEBench's CoreEvalConfig, so none falls back to a default that is not what ran
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("model_name", SaeBenchConfig.modelName(sae));
        config.put("llm_dtype", SaeBenchConfig.LLM_DTYPE);
        config.put("batch_size_prompts", bs);
        config.put("n_eval_reconstruction_batches", cfg.computeCeKl() ? (rows.length + bs - 1) / bs : 0);
        config.put("n_eval_sparsity_variance_batches", (rows.length + bs - 1) / bs);
        config.put("dataset", cfg.dataset());
        config.put("context_size", rows.length == 0 ? 0 : rows[0].length);
        config.put("compute_kl", cfg.computeCeKl());
        config.put("compute_ce_loss", cfg.computeCeKl());
        config.put("compute_l2_norms", true);
        config.put("compute_sparsity_metrics", true);
        config.put("compute_variance_metrics", true);
        config.put("compute_featurewise_density_statistics", true);
        config.put("compute_featurewise_weight_based_metrics", true);
        config.put("exclude_special_tokens_from_reconstruction", true);
        config.put("verbose", false);
        config.put("hook_layer", cfg.layer());
        config.put("n_prompts", rows.length);
        EvalOutput out = EvalOutput.of("core", config, nanToMinusOne(metrics), nanToMinusOne(details), Map.of(), sae, saeId);
        return new EvalResult<>(out, CoreMetrics.from(out));
    }

    /** A copy with every NaN (and ±∞) number replaced by −1, SAEBench's convention for core results. */
    @SuppressWarnings("unchecked")
    static <T> T nanToMinusOne(T o) {
        if (o instanceof Double d) return (T) (Double.isFinite(d) ? d : (Double) NOT_A_NUMBER);
        if (o instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            m.forEach((k, v) -> out.put(String.valueOf(k), nanToMinusOne(v)));
            return (T) out;
        }
        if (o instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            for (Object v : l) out.add(nanToMinusOne(v));
            return (T) out;
        }
        return o;
    }

    static void addSparsityVariance(LanguageModel lm, Sae sae, int layer, int[][] batch, boolean[][] mask,
                                    ReconstructionStats stats) {
        float[][] resid = lm.residAt(layer, batch);
        for (int s = 0; s < batch.length; s++) {
            int T = batch[s].length;
            float[] f = SaeApply.encode(sae, resid[s], T);
            float[] xhat = SaeApply.decode(sae, f, T);
            int[] seqOf = new int[T];
            java.util.Arrays.fill(seqOf, s);
            stats.addBatch(resid[s], xhat, f, mask[s], seqOf, T);
        }
    }

    /** CE and KL accumulators over counted positions. */
    static final class DownstreamStats {
        final int vocab;
        long positions, cePositions;
        double ceClean, ceSae, ceZero, klSae, klZero;

        DownstreamStats(int vocab) {
            this.vocab = vocab;
        }

        void add(LanguageModel lm, Sae sae, int layer, int[][] batch, boolean[][] mask) {
            float[][] clean = lm.logits(batch, null);
            float[][] spliced = lm.logits(batch, SaeApply.splice(sae, layer, mask));
            float[][] zero = lm.logits(batch, SaeApply.zeroAblate(layer));
            double[] lp = new double[vocab], lq = new double[vocab], p = new double[vocab];
            for (int s = 0; s < batch.length; s++) {
                int T = batch[s].length;
                for (int t = 0; t < T; t++) {
                    if (!mask[s][t]) continue;
                    positions++;
                    LogMath.logSoftmax(clean[s], t * vocab, vocab, lp);
                    for (int v = 0; v < vocab; v++) p[v] = Math.exp(lp[v]);
                    LogMath.logSoftmax(spliced[s], t * vocab, vocab, lq);
                    klSae += LogMath.kl(p, lp, lq);
                    boolean ce = t + 1 < T;
                    int next = ce ? batch[s][t + 1] : -1;
                    if (ce) {
                        cePositions++;
                        ceClean -= lp[next];
                        ceSae -= lq[next];
                    }
                    LogMath.logSoftmax(zero[s], t * vocab, vocab, lq);
                    klZero += LogMath.kl(p, lp, lq);
                    if (ce) ceZero -= lq[next];
                }
            }
        }

        /** The two downstream groups when CE/KL were not computed: every value −1. */
        static Map<String, Map<String, Object>> notComputed() {
            Map<String, Map<String, Object>> g = new LinkedHashMap<>();
            Map<String, Object> mb = new LinkedHashMap<>();
            for (String k : new String[]{"kl_div_score", "kl_div_with_ablation", "kl_div_with_sae"}) mb.put(k, NOT_A_NUMBER);
            g.put("model_behavior_preservation", mb);
            Map<String, Object> mp = new LinkedHashMap<>();
            for (String k : new String[]{"ce_loss_score", "ce_loss_with_ablation", "ce_loss_with_sae", "ce_loss_without_sae"}) mp.put(k, NOT_A_NUMBER);
            g.put("model_performance_preservation", mp);
            return g;
        }

        Map<String, Map<String, Object>> metrics() {
            double kS = klSae / positions, kZ = klZero / positions;
            double cC = ceClean / cePositions, cS = ceSae / cePositions, cZ = ceZero / cePositions;
            Map<String, Map<String, Object>> g = new LinkedHashMap<>();
            Map<String, Object> mb = new LinkedHashMap<>();
            mb.put("kl_div_score", (kZ - kS) / kZ);
            mb.put("kl_div_with_ablation", kZ);
            mb.put("kl_div_with_sae", kS);
            g.put("model_behavior_preservation", mb);
            Map<String, Object> mp = new LinkedHashMap<>();
            mp.put("ce_loss_score", (cZ - cS) / (cZ - cC));
            mp.put("ce_loss_with_ablation", cZ);
            mp.put("ce_loss_with_sae", cS);
            mp.put("ce_loss_without_sae", cC);
            g.put("model_performance_preservation", mp);
            return g;
        }
    }
}
