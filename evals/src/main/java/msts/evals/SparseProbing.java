package msts.evals;

import msts.model.tokenizer.Tokenizer;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import msts.engine.util.Progress;
import msts.sae.Sae;

/**
 * SAEBench-style sparse probing: per example, mean-pool SAE latents (and, as the "llm" baseline, the
 * residual stream) over non-special tokens; choose the top-k latents by |mean(pos) − mean(neg)| on the
 * training split; fit L2 logistic regression (C = 1); report test accuracy for each k. docs/evals.md.
 */
public final class SparseProbing {
    private SparseProbing() {}

    public static final int[] DEFAULT_KS = {1, 2, 5, 10, 20, 50};

    public record Config(int contextSize, double trainFraction, long seed, int[] ks, double C, int maxExamples) {
        public static Config defaults() {
            return new Config(128, 0.8, 42, DEFAULT_KS, 1.0, 5000);
        }
    }

    /** A binary task: example texts and their labels. */
    public record Task(String name, List<String> texts, boolean[] labels) {}

    /**
     * Tasks from a labelled JSONL file ({@code text}, {@code label}): two classes → one task (positive =
     * the larger label in sorted order, i.e. 1/true); more → one-vs-rest tasks "name/label".
     */
    public static List<Task> tasks(Path file) {
        List<JsonNode> recs = TokenRows.readJsonl(file);
        List<String> texts = new ArrayList<>(), labels = new ArrayList<>();
        int no = 0;
        for (JsonNode n : recs) {
            no++;
            JsonNode t = n.get("text"), l = n.get("label");
            if (t == null || !t.isTextual() || l == null || l.isNull())
                throw new IllegalArgumentException(file + ": record " + no + " needs \"text\" (string) and \"label\"");
            texts.add(t.asText());
            labels.add(l.asText());
        }
        TreeSet<String> classes = new TreeSet<>(labels);
        if (classes.size() < 2) throw new IllegalArgumentException(file + ": needs at least two distinct labels, found " + classes);
        String base = file.getFileName().toString().replaceFirst("\\.jsonl?$", "");
        List<Task> out = new ArrayList<>();
        List<String> pos = classes.size() == 2 ? List.of(classes.last()) : new ArrayList<>(classes);
        for (String c : pos) {
            boolean[] y = new boolean[labels.size()];
            for (int i = 0; i < y.length; i++) y[i] = labels.get(i).equals(c);
            out.add(new Task(classes.size() == 2 ? base : base + "/" + c, texts, y));
        }
        return out;
    }

    /** Mean-pooled features of one task: sae [n, dSae] and llm [n, dIn]. */
    record Pooled(float[] sae, float[] llm) {}

    static Pooled pool(LanguageModel lm, Tokenizer tok, Sae sae, int layer, List<String> texts, int ctx, Progress p) {
        int n = texts.size(), F = sae.dSae(), d = sae.dIn();
        float[] outS = new float[n * F], outL = new float[n * d];
        for (int i = 0; i < n; i++) {
            int[] ids = tok.encode(texts.get(i), true);
            if (ids.length > ctx) ids = java.util.Arrays.copyOf(ids, ctx);
            int T = ids.length;
            float[] x = lm.residAt(layer, new int[][]{ids})[0];
            float[] f = SaeApply.encode(sae, x, T);
            int cnt = 0;
            for (int t = 0; t < T; t++) {
                if (tok.isSpecial(ids[t])) continue;
                cnt++;
                for (int j = 0; j < F; j++) outS[i * F + j] += f[t * F + j];
                for (int k = 0; k < d; k++) outL[i * d + k] += x[t * d + k];
            }
            if (cnt > 0) {
                for (int j = 0; j < F; j++) outS[i * F + j] /= cnt;
                for (int k = 0; k < d; k++) outL[i * d + k] /= cnt;
            }
            if (p != null) p.advance(1);
        }
        return new Pooled(outS, outL);
    }

    /** Indices of the k columns with the largest |mean(pos) − mean(neg)| over the given rows (ties: lower index). */
    public static int[] topKMeanDiff(float[] x, boolean[] y, int[] rows, int dim, int k) {
        double[] mp = new double[dim], mn = new double[dim];
        int np = 0, nn = 0;
        for (int r : rows) {
            double[] m = y[r] ? mp : mn;
            if (y[r]) np++; else nn++;
            for (int j = 0; j < dim; j++) m[j] += x[r * dim + j];
        }
        Integer[] order = new Integer[dim];
        double[] diff = new double[dim];
        for (int j = 0; j < dim; j++) {
            order[j] = j;
            diff[j] = Math.abs(mp[j] / Math.max(1, np) - mn[j] / Math.max(1, nn));
        }
        java.util.Arrays.sort(order, (a, b) -> diff[b] != diff[a] ? Double.compare(diff[b], diff[a]) : Integer.compare(a, b));
        int[] out = new int[Math.min(k, dim)];
        for (int i = 0; i < out.length; i++) out[i] = order[i];
        return out;
    }

    /** Test accuracy of an L2 logistic probe on the selected columns (all columns when cols is null). */
    static double probe(float[] x, boolean[] y, int dim, int[] train, int[] test, int[] cols, double C) {
        int k = cols == null ? dim : cols.length;
        float[] xtr = gather(x, dim, train, cols, k), xte = gather(x, dim, test, cols, k);
        boolean[] ytr = new boolean[train.length], yte = new boolean[test.length];
        for (int i = 0; i < train.length; i++) ytr[i] = y[train[i]];
        for (int i = 0; i < test.length; i++) yte[i] = y[test[i]];
        LogisticRegression m = LogisticRegression.fit(xtr, ytr, train.length, k, C);
        return m.accuracy(xte, yte, test.length);
    }

    static float[] gather(float[] x, int dim, int[] rows, int[] cols, int k) {
        float[] out = new float[rows.length * k];
        for (int i = 0; i < rows.length; i++)
            for (int c = 0; c < k; c++) out[i * k + c] = x[rows[i] * dim + (cols == null ? c : cols[c])];
        return out;
    }

    /** Deterministic split: indices shuffled with the seed, the first round(frac·n) train. Both classes must be in train. */
    static int[][] split(boolean[] y, double frac, long seed, String name) {
        int n = y.length;
        int[] idx = new int[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int t = idx[i];
            idx[i] = idx[j];
            idx[j] = t;
        }
        int nTr = (int) Math.round(frac * n);
        if (nTr < 2 || nTr >= n) throw new IllegalArgumentException(name + ": too few examples (" + n + ") to split");
        int[] tr = java.util.Arrays.copyOf(idx, nTr), te = java.util.Arrays.copyOfRange(idx, nTr, n);
        boolean pos = false, neg = false;
        for (int i : tr) { if (y[i]) pos = true; else neg = true; }
        if (!pos || !neg) throw new IllegalArgumentException(name + ": the training split has only one class");
        return new int[][]{tr, te};
    }

    public static EvalResult<ProbingMetrics> run(LanguageModel lm, Tokenizer tok, Sae sae, int layer, List<Task> tasks, Config cfg, String saeId) {
        List<Map<String, Object>> details = new ArrayList<>();
        int total = 0;
        for (Task t : tasks) total += Math.min(t.texts().size(), cfg.maxExamples());
        Map<String, Object> perClass = new LinkedHashMap<>();
        int maxTrain = 0, maxTest = 0;
        try (Progress p = new Progress("eval probing", total, "ex")) {
            Map<List<String>, Pooled> cache = new java.util.IdentityHashMap<>();
            for (Task task : tasks) {
                List<String> texts = task.texts().subList(0, Math.min(task.texts().size(), cfg.maxExamples()));
                boolean[] y = java.util.Arrays.copyOf(task.labels(), texts.size());
                Pooled pooled = cache.get(task.texts());
                if (pooled == null) {
                    pooled = pool(lm, tok, sae, layer, texts, cfg.contextSize(), p);
                    cache.put(task.texts(), pooled);
                }
                int[][] sp = split(y, cfg.trainFraction(), cfg.seed(), task.name());
                maxTrain = Math.max(maxTrain, sp[0].length);
                maxTest = Math.max(maxTest, sp[1].length);
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("dataset_name", task.name());
                d.put("llm_test_accuracy", probe(pooled.llm(), y, sae.dIn(), sp[0], sp[1], null, cfg.C()));
                for (int k : cfg.ks())
                    d.put("llm_top_" + k + "_test_accuracy", k > sae.dIn() ? null
                            : probe(pooled.llm(), y, sae.dIn(), sp[0], sp[1], topKMeanDiff(pooled.llm(), y, sp[0], sae.dIn(), k), cfg.C()));
                d.put("sae_test_accuracy", probe(pooled.sae(), y, sae.dSae(), sp[0], sp[1], null, cfg.C()));
                for (int k : cfg.ks())
                    d.put("sae_top_" + k + "_test_accuracy", k > sae.dSae() ? null
                            : probe(pooled.sae(), y, sae.dSae(), sp[0], sp[1], topKMeanDiff(pooled.sae(), y, sp[0], sae.dSae(), k), cfg.C()));
                details.add(d);
                perClass.put(task.name(), Map.of("n_train", sp[0].length, "n_test", sp[1].length,
                        "top_sae_latents", topKMeanDiff(pooled.sae(), y, sp[0], sae.dSae(), Math.min(10, sae.dSae()))));
            }
        }
        Map<String, Object> llm = new LinkedHashMap<>(), saeM = new LinkedHashMap<>();
        for (String key : details.getFirst().keySet()) {
            if (key.equals("dataset_name")) continue;
            double s = 0;
            int n = 0;
            for (var d : details) if (d.get(key) instanceof Double v) { s += v; n++; }
            (key.startsWith("llm") ? llm : saeM).put(key, n > 0 ? s / n : null);
        }
        Map<String, Map<String, Object>> metrics = new LinkedHashMap<>();
        metrics.put("llm", llm);
        metrics.put("sae", saeM);
        // every field of SAEBench's SparseProbingEvalConfig, so none falls back to a default that is not what ran;
        // the set sizes are the largest over the tasks (each task's own in eval_result_unstructured)
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("random_seed", cfg.seed());
        config.put("dataset_names", tasks.stream().map(Task::name).toList());
        config.put("probe_train_set_size", maxTrain);
        config.put("probe_test_set_size", maxTest);
        config.put("context_length", cfg.contextSize());
        config.put("sae_batch_size", 1);
        config.put("llm_batch_size", 1);
        config.put("llm_dtype", SaeBenchConfig.LLM_DTYPE);
        config.put("model_name", SaeBenchConfig.modelName(sae));
        config.put("k_values", cfg.ks());
        config.put("lower_vram_usage", false);
        config.put("train_fraction", cfg.trainFraction());
        config.put("C", cfg.C());
        config.put("hook_layer", layer);
        config.put("pooling", "mean over non-special tokens");
        EvalOutput out = EvalOutput.of("sparse_probing", config, metrics, details, perClass, sae, saeId);
        return new EvalResult<>(out, ProbingMetrics.from(out));
    }
}
