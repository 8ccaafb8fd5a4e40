package msts.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * An experiment plan (docs/experiment.md, "Plan format"): the model and world, hook layer, SAE configurations,
 * seeds and evals. Parsed strictly: an unknown key, a value of the wrong type or an impossible size is one
 * {@link IllegalArgumentException} naming the key, before any work. Defaults are filled in, so the canonical
 * JSON ({@link #canonical}) and its hash ({@link #hash}) identify what runs.
 *
 * @param model  an HF checkpoint directory, or "demo" (the demo's cached model for the demo world; resolved by the caller)
 * @param world  a world directory (msts world), or null when {@link #worldSpec} describes one to write
 */
public record Plan(String name, String model, Path world, WorldSpecJson worldSpec, int layer, List<Long> seeds,
                   String baseline, Harvest harvest, List<SaeCfg> configs, List<String> evals, Core core,
                   Unlearn unlearning, GroundTruth groundTruth, RmuCfg rmu, Probing probing, Double targetL0,
                   Calibration calibration, Validation validation, long tuningSeed, ObjectNode canonical) {

    public static final List<String> EVALS = List.of("core", "unlearning", "probing", "ground_truth", "rmu");

    /** The metrics a tuning grid can select by (higher is better), measured on the validation rows. */
    public static final List<String> SELECT = List.of("explained_variance", "ce_loss_score");

    /**
     * Matched-L0 calibration (docs/experiment.md, "Matched L0"): on {@code seed} (not an evaluation seed) each config
     * is trained for {@code tokens} (0: the config's own) at every point of its L1 grid (ReLU) or k grid (TopK);
     * the L0 measured on the validation rows brackets the plan's target_l0, and the value is interpolated.
     */
    public record Calibration(long seed, long tokens, double[] l1Grid, int[] kGrid) {}

    /** Held-out rows of the retain corpus (after the core eval's rows) on which calibration and tuning measure. */
    public record Validation(int rows, int context) {}

    /** Sparse probing on the world's probing_topic.jsonl (label 1: forget domain, 0: retain). */
    public record Probing(int context, int[] ks, double trainFraction, long seed, int maxExamples) {}

    /**
     * A tuning grid: every combination of {@code grid}'s values (config keys) is a candidate, calibrated and trained
     * on the plan's tuning seed; the one with the highest {@code select} metric on the validation rows is the config.
     */
    public record Tune(String select, List<String> keys, List<Candidate> candidates) {}

    /** A tuning candidate: id t0, t1, … (grid order, first key outermost), its settings and the config they make. */
    public record Candidate(String id, String settings, SaeCfg cfg) {}

    /** A world to write (msts world's options). */
    public record WorldSpecJson(long seed, int entities, int evalEntities, int paraphrases) {}

    public record Harvest(long tokens, String dtype) {}

    /** One SAE configuration; context: the harvest context its store uses. */
    public record SaeCfg(String name, String arch, String act, int dSae, float l1, int k, int[] dilations, float sepWeight,
                         String sepForm, int context, long tokens, int batch, float lr, double[] l1Grid, int[] kGrid, Tune tune) {
        public boolean temporal() { return arch.equals("temporal"); }

        /** Sparsity set by k (TopK activation) rather than by the L1 coefficient. */
        public boolean topk() { return act.equals("topk"); }

        /** This config with the calibrated L1 (ReLU) or k (TopK). */
        public SaeCfg withSparsity(double value) {
            return topk() ? new SaeCfg(name, arch, act, dSae, l1, (int) value, dilations, sepWeight, sepForm, context, tokens, batch, lr, l1Grid, kGrid, tune)
                    : new SaeCfg(name, arch, act, dSae, (float) value, k, dilations, sepWeight, sepForm, context, tokens, batch, lr, l1Grid, kGrid, tune);
        }

        /** This config's settings replaced by a tuning candidate's (the name kept). */
        public SaeCfg as(SaeCfg c) {
            return new SaeCfg(name, c.arch, c.act, c.dSae, c.l1, c.k, c.dilations, c.sepWeight, c.sepForm, c.context, c.tokens, c.batch, c.lr,
                    c.l1Grid, c.kGrid, tune);
        }
    }

    /**
     * The core eval's and the validation's text: {@code held_out} = the SAE's training corpus (the world's
     * train.jsonl) after the last document any harvest of the plan read, as SAEBench's core eval reads the SAE's own
     * dataset; {@code retain} = the world's retain corpus (held-out templates, off the model's training distribution).
     */
    public record Core(int rows, int context, String corpus) {
        public static final String HELD_OUT = "held_out", RETAIN = "retain";
    }

    public record Unlearn(int rows, int context, double[] retainThresholds, int[] nFeatures, double[] multipliers,
                          String allPermutations, int batch) {}

    /** The synthetic ground-truth benchmark: the SAEs of {@code configs} trained on each regime's sequences per seed. */
    public record GroundTruth(List<String> configs, List<String> regimes, int seqs, int context, int d, int[] scales,
                              int featuresPerScale, double onFraction, double cleanNoise, double tokenSnr, int dSae,
                              long tokens, float l1) {}

    /**
     * RMU: steering = ρ · (mean ‖h‖ of the frozen model's forget activations at layer), alpha as given; evalSteps:
     * the steps after which forget/retain accuracy is measured (the unlearning curve).
     */
    public record RmuCfg(int layer, int firstLayer, List<String> modules, double steeringRatio, double alpha, float lr,
                         int steps, int batch, int context, int rows, int[] evalSteps) {}

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    /**
     * The built-in plans: {@code seed} (the study's five runs against the baseline at L0 16, 5 seeds, every eval) and
     * {@code sparse} (baseline against the temporal SAE at the demo's sparsity, L0 6, 10 seeds, core and unlearning).
     */
    public static final List<String> BUILTIN = List.of("seed", "sparse");

    /** A built-in plan by name. */
    public static ObjectNode builtin(String name) {
        if (!BUILTIN.contains(name))
            throw new IllegalArgumentException("--plan: no built-in plan '" + name + "' (built in: " + String.join(", ", BUILTIN) + ")");
        try (InputStream in = Plan.class.getResourceAsStream("/plans/" + name + ".json")) {
            return (ObjectNode) JSON.readTree(in);
        } catch (IOException e) {
            throw new IllegalStateException("built-in plan " + name + ".json unreadable", e);
        }
    }

    public static ObjectNode read(Path file) {
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException(file + ": plan file not found");
        try {
            JsonNode n = JSON.readTree(file.toFile());
            if (!(n instanceof ObjectNode o)) throw new IllegalArgumentException(file + ": a plan is a JSON object");
            return o;
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": not valid JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
        }
    }

    /** Parses and checks a plan; relative paths resolve against {@code base}. */
    public static Plan parse(ObjectNode in, Path base) {
        Obj o = new Obj(in, "plan");
        String name = o.str("name", "plan");
        String model = o.reqStr("model");
        Path world = null;
        WorldSpecJson ws = null;
        JsonNode w = o.raw("world");
        if (w == null) throw new IllegalArgumentException("plan: missing key \"world\" (a world directory or {seed, entities, eval_entities, paraphrases})");
        if (w.isTextual()) world = base.resolve(w.asText()).normalize();
        else {
            Obj wo = o.obj("world");
            ws = new WorldSpecJson(wo.lng("seed", 0), wo.intIn("entities", Integer.parseInt(msts.data.world.WorldSpec.DEMO_ENTITIES), 2, 400), wo.intIn("eval_entities", Integer.parseInt(msts.data.world.WorldSpec.DEMO_EVAL_ENTITIES), 1, 399),
                    wo.intIn("paraphrases", Integer.parseInt(msts.data.world.WorldSpec.DEMO_PARAPHRASES), 1, 10000));
            wo.done();
        }
        if (!model.equals("demo")) model = base.resolve(model).normalize().toString();
        int layer = o.intIn("layer", 2, 0, 10_000);
        List<Long> seeds = new ArrayList<>();
        JsonNode s = o.raw("seeds");
        if (s == null || s.isInt()) {
            int n = s == null ? 5 : s.asInt();
            if (n < 2 || n > 24) throw new IllegalArgumentException("plan: \"seeds\" must be 2..24 (confidence intervals need 2; the exact sign-flip test enumerates 2^n), got " + n);
            for (int i = 0; i < n; i++) seeds.add((long) i);
        } else if (s.isArray()) {
            for (JsonNode x : s) {
                if (!x.canConvertToLong()) throw new IllegalArgumentException("plan: \"seeds\" entries must be integers, got " + x);
                if (seeds.contains(x.asLong())) throw new IllegalArgumentException("plan: seed " + x + " is listed twice");
                seeds.add(x.asLong());
            }
            if (seeds.size() < 2 || seeds.size() > 24) throw new IllegalArgumentException("plan: \"seeds\" needs 2..24 seeds, got " + seeds.size());
        } else throw new IllegalArgumentException("plan: \"seeds\" must be a count or a list of integers");
        Obj h = o.obj("harvest");
        Harvest harvest = new Harvest(h.lngIn("tokens", 60000, 1, 1L << 40), h.oneOf("dtype", "f32", "f32", "bf16"));
        h.done();

        Obj td = o.obj("train");
        Defaults d0 = new Defaults(td.intIn("d_sae", 512, 1, 1 << 22), td.intIn("batch", 1024, 1, 1 << 24), td.intIn("context", 64, 2, 1 << 16),
                td.lngIn("tokens", 300000, 1, 1L << 40), td.pos("lr", 1e-3), td.nonNeg("l1", 8));
        td.done();
        Double targetL0 = null;
        if (o.raw("target_l0") != null) {
            double t = o.num("target_l0", 0);
            if (!(t > 0)) throw new IllegalArgumentException("plan: \"target_l0\" must be > 0, got " + t);
            targetL0 = t;
        }
        Obj ca = o.obj("calibration");
        Calibration cal = new Calibration(ca.lng("seed", 1000), ca.lngIn("tokens", 0, 0, 1L << 40), ca.doubles("l1_grid", null), ca.ints("k_grid", null, 1, 1 << 22));
        ca.done();
        if (targetL0 == null && !ca.n.isEmpty()) throw new IllegalArgumentException("plan: \"calibration\" applies only with \"target_l0\" (the L0 to match)");
        if (cal.l1Grid() != null) for (double v : cal.l1Grid()) if (!(v > 0)) throw new IllegalArgumentException("plan: calibration.l1_grid entries must be > 0 (interpolated in log L1), got " + v);
        Obj tu = o.obj("tuning");
        long tuningSeed = tu.lng("seed", 2000);
        tu.done();
        List<SaeCfg> configs = new ArrayList<>();
        JsonNode cs = o.raw("configs");
        if (cs == null || !cs.isArray() || cs.isEmpty()) throw new IllegalArgumentException("plan: \"configs\" must be a non-empty list of SAE configurations");
        Set<String> names = new LinkedHashSet<>();
        boolean anyTune = false;
        for (int i = 0; i < cs.size(); i++) {
            if (!(cs.get(i) instanceof ObjectNode co)) throw new IllegalArgumentException("plan: configs[" + i + "] must be an object");
            SaeCfg c = config(co, "configs[" + i + "]", d0, targetL0, cal, true);
            if (!names.add(c.name())) throw new IllegalArgumentException("plan: two configs are named '" + c.name() + "'");
            anyTune |= c.tune() != null;
            configs.add(c);
        }
        if (targetL0 != null && seeds.contains(cal.seed()))
            throw new IllegalArgumentException("plan: calibration.seed " + cal.seed() + " is an evaluation seed; calibrate on a seed the evaluation does not use");
        if (anyTune && seeds.contains(tuningSeed))
            throw new IllegalArgumentException("plan: tuning.seed " + tuningSeed + " is an evaluation seed; tune on a seed the evaluation does not use");
        String baseline = o.str("baseline", configs.get(0).name());
        if (configs.stream().anyMatch(c -> c.name().equals(baseline) && c.tune() != null))
            throw new IllegalArgumentException("plan: the baseline '" + baseline + "' cannot be tuned (it is the fixed reference)");
        if (!names.contains(baseline)) throw new IllegalArgumentException("plan: baseline '" + baseline + "' is not one of the configs " + names);
        List<String> evals = o.strs("evals", EVALS);
        for (String e : evals) if (!EVALS.contains(e)) throw new IllegalArgumentException("plan: unknown eval '" + e + "' (known: " + EVALS + ")");

        Obj co = o.obj("core");
        Core core = new Core(co.intIn("rows", 24, 1, 1 << 20), co.intIn("context", 64, 2, 1 << 16), co.oneOf("corpus", Core.HELD_OUT, Core.HELD_OUT, Core.RETAIN));
        co.done();
        Obj uo = o.obj("unlearning");
        Unlearn un = new Unlearn(uo.intIn("rows", 128, 1, 1 << 20), uo.intIn("context", 64, 2, 1 << 16),
                uo.doubles("retain_thresholds", new double[]{0.001, 0.01}), uo.ints("n_features", new int[]{10, 20}, 1, 1 << 22),
                uo.doubles("multipliers", new double[]{25, 50, 100, 200}), uo.oneOf("all_permutations", "auto", "auto", "true", "false"),
                uo.intIn("batch", 16, 1, 4096));
        for (double m : un.multipliers()) if (m != Math.rint(m) || m < 0) throw new IllegalArgumentException("plan: unlearning.multipliers must be whole numbers >= 0, got " + m);
        uo.done();
        Obj go = o.obj("ground_truth");
        List<String> gtConfigs = go.strs("configs", List.of(baseline));
        for (String g : gtConfigs) if (!names.contains(g)) throw new IllegalArgumentException("plan: ground_truth.configs: '" + g + "' is not one of the configs " + names);
        List<String> regimes = go.strs("regimes", List.of("clean", "low_snr"));
        for (String r : regimes) if (!List.of("clean", "low_snr").contains(r)) throw new IllegalArgumentException("plan: ground_truth.regimes: '" + r + "' is not clean or low_snr");
        int[] scales = go.ints("scales", new int[]{1, 4, 16}, 1, 1 << 16);
        double onFraction = go.num("on_fraction", 0.03);
        if (!(onFraction > 0 && onFraction < 1)) throw new IllegalArgumentException("plan: ground_truth.on_fraction must be in (0, 1)");
        double snr = go.num("token_snr", 0.5);
        if (!(snr > 0 && snr < 1)) throw new IllegalArgumentException("plan: ground_truth.token_snr must be in (0, 1): the low-SNR regime has per-token SNR < 1");
        GroundTruth gt = new GroundTruth(gtConfigs, regimes, go.intIn("seqs", 512, 1, 1 << 20), go.intIn("context", 64, 2, 1 << 16),
                go.intIn("d", 32, 1, 1 << 14), scales, go.intIn("features_per_scale", 64, 1, 1 << 16), onFraction,
                go.num("clean_noise", 0.1), snr, go.intIn("d_sae", 256, 1, 1 << 20), go.lngIn("tokens", 500000, 1, 1L << 40), go.nonNeg("l1", 2));
        int longest = java.util.Arrays.stream(scales).max().orElse(1);
        if (regimes.contains("low_snr") && longest * snr <= 1)
            throw new IllegalArgumentException("plan: ground_truth: the longest time scale " + longest + " × token_snr " + snr + " <= 1: no feature has SNR > 1 over its run");
        go.done();
        Obj ro = o.obj("rmu");
        int rl = ro.intIn("layer", layer, 0, 10_000);
        RmuCfg rmu = new RmuCfg(rl, ro.intIn("first_layer", Math.max(0, rl - 2), 0, rl), ro.strs("modules", List.of("down")),
                ro.num("steering_ratio", 2.0), ro.num("alpha", 1200), ro.pos("lr", 5e-5), ro.intIn("steps", 150, 1, 1 << 20),
                ro.intIn("batch", 4, 1, 4096), ro.intIn("context", 64, 2, 1 << 16), ro.intIn("rows", 256, 1, 1 << 20),
                ro.ints("eval_steps", new int[]{25, 50, 100, 150}, 1, 1 << 20));
        for (String m : rmu.modules()) if (!msts.model.train.Rmu.MODULES.contains(m)) throw new IllegalArgumentException("plan: rmu.modules: '" + m + "' is not gate, up, down or post_norm");
        for (int e : rmu.evalSteps()) if (e > rmu.steps()) throw new IllegalArgumentException("plan: rmu.eval_steps: " + e + " is after the last step " + rmu.steps());
        if (!(rmu.steeringRatio() > 0) || !(rmu.alpha() >= 0)) throw new IllegalArgumentException("plan: rmu.steering_ratio must be > 0 and rmu.alpha >= 0");
        ro.done();
        Obj po = o.obj("probing");
        Probing probing = new Probing(po.intIn("context", 128, 2, 1 << 16), po.ints("ks", new int[]{1, 5}, 1, 1 << 22),
                po.num("train_fraction", 0.8), po.lng("seed", 42), po.intIn("max_examples", 5000, 4, 1 << 24));
        if (!(probing.trainFraction() > 0 && probing.trainFraction() < 1)) throw new IllegalArgumentException("plan: probing.train_fraction must be in (0, 1)");
        if (probing.ks().length == 0) throw new IllegalArgumentException("plan: probing.ks must list at least one k");
        po.done();
        Obj vo = o.obj("validation");
        Validation val = new Validation(vo.intIn("rows", core.rows(), 1, 1 << 20), vo.intIn("context", core.context(), 2, 1 << 16));
        vo.done();
        o.done();
        ObjectNode canon = in.deepCopy();
        return new Plan(name, model, world, ws, layer, List.copyOf(seeds), baseline, harvest, List.copyOf(configs), List.copyOf(evals), core, un, gt, rmu,
                probing, targetL0, cal, val, tuningSeed, canon);
    }

    /** The train section's defaults of every config. */
    record Defaults(int dSae, int batch, int context, long tokens, float lr, float l1) {}

    /** Config keys a tuning grid may vary. */
    static final List<String> TUNABLE = List.of("arch", "act", "d_sae", "l1", "k", "dilations", "sep_weight", "sep_form", "context", "tokens", "batch", "lr");

    /** One config (configs[i], or a tuning candidate when {@code tunable} is false). */
    static SaeCfg config(ObjectNode co, String where, Defaults d0, Double targetL0, Calibration cal, boolean tunable) {
        Obj c = new Obj(co, where);
        String cn = c.reqStr("name");
        if (!cn.matches("[A-Za-z0-9_.+-]{1,64}")) throw new IllegalArgumentException("plan: " + where + ".name '" + cn + "' must be 1-64 of A-Z a-z 0-9 _ . + -");
        String arch = c.oneOf("arch", "relu", "relu", "topk", "temporal");
        String act = c.oneOf("act", arch.equals("topk") ? "topk" : "relu", "relu", "topk");
        int[] dil = c.ints("dilations", arch.equals("temporal") ? new int[]{1, 2, 4} : new int[0], 1, 4096);
        if (arch.equals("temporal") && dil.length == 0) throw new IllegalArgumentException("plan: " + where + ": a temporal SAE needs dilations");
        if (!arch.equals("temporal") && dil.length > 0) throw new IllegalArgumentException("plan: " + where + ": dilations apply to arch temporal only");
        int ctx = c.intIn("context", d0.context(), 2, 1 << 16);
        int dSae = c.intIn("d_sae", d0.dSae(), 1, 1 << 22), k = c.intIn("k", 32, 1, 1 << 22);
        if (k > dSae) throw new IllegalArgumentException("plan: " + where + ": k " + k + " exceeds d_sae " + dSae);
        int batch = c.intIn("batch", d0.batch(), 1, 1 << 24);
        if (arch.equals("temporal") && batch < ctx)
            throw new IllegalArgumentException("plan: " + where + ": batch " + batch + " tokens is less than one sequence of context " + ctx);
        long tokens = c.lngIn("tokens", d0.tokens(), 1, 1L << 40);
        if (tokens < batch) throw new IllegalArgumentException("plan: " + where + ": tokens " + tokens + " is less than one batch of " + batch);
        float l1 = c.nonNeg("l1", d0.l1()), sep = c.nonNeg("sep_weight", 0), lr = c.pos("lr", d0.lr());
        String sepForm = c.oneOf("sep_form", "all", "all", "sampled", "coactive");
        boolean topk = act.equals("topk");
        double[] l1Grid = null;
        int[] kGrid = null;
        if (targetL0 == null) {
            if (c.raw("l1_grid") != null || c.raw("k_grid") != null)
                throw new IllegalArgumentException("plan: " + where + ": l1_grid/k_grid apply only with the plan's \"target_l0\"");
        } else if (topk) {
            if (c.raw("l1_grid") != null) throw new IllegalArgumentException("plan: " + where + ": a TopK SAE's L0 is set by k: give k_grid, not l1_grid");
            kGrid = c.ints("k_grid", cal.kGrid() != null ? cal.kGrid() : new int[]{(int) Math.max(1, Math.round(targetL0))}, 1, 1 << 22);
            for (int g : kGrid) if (g > dSae) throw new IllegalArgumentException("plan: " + where + ": k_grid entry " + g + " exceeds d_sae " + dSae);
        } else {
            if (c.raw("k_grid") != null) throw new IllegalArgumentException("plan: " + where + ": a ReLU SAE's L0 is set by the L1 coefficient: give l1_grid, not k_grid");
            l1Grid = c.doubles("l1_grid", cal.l1Grid() != null ? cal.l1Grid() : new double[]{l1 / 4.0, l1 / 2.0, l1, 2.0 * l1});
            for (double v : l1Grid) if (!(v > 0)) throw new IllegalArgumentException("plan: " + where + ".l1_grid entries must be > 0 (interpolated in log L1), got " + v);
        }
        if (kGrid != null) kGrid = java.util.Arrays.stream(kGrid).sorted().distinct().toArray();
        if (l1Grid != null) l1Grid = java.util.Arrays.stream(l1Grid).sorted().distinct().toArray();
        Tune tune = null;
        JsonNode tn = c.raw("tune");
        String select = c.str("select", null);
        if (tn != null || select != null) {
            if (!tunable) throw new IllegalArgumentException("plan: " + where + ": a tuning candidate cannot have its own tune grid");
            if (tn == null) throw new IllegalArgumentException("plan: " + where + ": \"select\" needs a \"tune\" grid");
            if (!(tn instanceof ObjectNode to) || to.isEmpty())
                throw new IllegalArgumentException("plan: " + where + ".tune must be an object of config key → list of values, e.g. {\"sep_weight\": [0.03, 0.1]}");
            if (select == null) select = "explained_variance";
            if (!SELECT.contains(select)) throw new IllegalArgumentException("plan: " + where + ".select must be one of " + SELECT + ", got " + select);
            List<String> keys = new ArrayList<>();
            List<List<JsonNode>> vals = new ArrayList<>();
            for (var e : to.properties()) {
                if (!TUNABLE.contains(e.getKey()))
                    throw new IllegalArgumentException("plan: " + where + ".tune: '" + e.getKey() + "' is not a tunable config key " + TUNABLE);
                if (!e.getValue().isArray() || e.getValue().isEmpty())
                    throw new IllegalArgumentException("plan: " + where + ".tune." + e.getKey() + " must be a non-empty list of values");
                keys.add(e.getKey());
                List<JsonNode> v = new ArrayList<>();
                e.getValue().forEach(v::add);
                vals.add(v);
            }
            long n = 1;
            for (var v : vals) n *= v.size();
            if (n > 64) throw new IllegalArgumentException("plan: " + where + ".tune: " + n + " combinations (at most 64)");
            List<Candidate> cands = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ObjectNode cn2 = co.deepCopy();
                cn2.remove(List.of("tune", "select"));
                List<String> desc = new ArrayList<>();
                int rest = i;
                int[] idx = new int[keys.size()];
                for (int j = keys.size() - 1; j >= 0; j--) {
                    idx[j] = rest % vals.get(j).size();
                    rest /= vals.get(j).size();
                }
                for (int j = 0; j < keys.size(); j++) {
                    JsonNode v = vals.get(j).get(idx[j]);
                    cn2.set(keys.get(j), v);
                    desc.add(keys.get(j) + "=" + v);
                }
                cands.add(new Candidate("t" + i, String.join(", ", desc), config(cn2, where + ".tune[t" + i + "]", d0, targetL0, cal, false)));
            }
            tune = new Tune(select, List.copyOf(keys), List.copyOf(cands));
        }
        c.done();
        return new SaeCfg(cn, arch, act, dSae, l1, k, dil, sep, sepForm, ctx, tokens, batch, lr, l1Grid, kGrid, tune);
    }

    /** This plan with the model resolved to a directory (e.g. "demo" to the cached demo model); part of the hash. */
    public Plan withModel(String dir) {
        return new Plan(name, dir, world, worldSpec, layer, seeds, baseline, harvest, configs, evals, core, unlearning, groundTruth, rmu, probing,
                targetL0, calibration, validation, tuningSeed, canonical);
    }

    /** This plan with its world given as a directory (overrides a world spec). */
    public Plan withWorld(Path dir) {
        return new Plan(name, model, dir, null, layer, seeds, baseline, harvest, configs, evals, core, unlearning, groundTruth, rmu, probing,
                targetL0, calibration, validation, tuningSeed, canonical);
    }

    /** The contexts harvested (one store each), in plan order. */
    public List<Integer> contexts() {
        List<Integer> out = new ArrayList<>();
        for (SaeCfg c : configs) {
            if (!out.contains(c.context())) out.add(c.context());
            if (c.tune() != null) for (Candidate k : c.tune().candidates()) if (!out.contains(k.cfg().context())) out.add(k.cfg().context());
        }
        return List.copyOf(out);
    }

    /** Every context a harvest, eval or RMU row of this plan uses (checked against the model's max position). */
    public List<Integer> allContexts() {
        List<Integer> out = new ArrayList<>(contexts());
        for (int c : new int[]{core.context(), unlearning.context(), validation.context(), probing.context(), rmu.context()}) if (!out.contains(c)) out.add(c);
        return out;
    }

    /** Calibration/tuning units: every untuned config, and every tuning candidate (key CONFIG/tI), in plan order. */
    public Map<String, SaeCfg> units() {
        Map<String, SaeCfg> m = new LinkedHashMap<>();
        for (SaeCfg c : configs) {
            if (c.tune() == null) m.put(c.name(), c);
            else for (Candidate k : c.tune().candidates()) m.put(c.name() + "/" + k.id(), k.cfg());
        }
        return m;
    }

    public SaeCfg config(String name) {
        for (SaeCfg c : configs) if (c.name().equals(name)) return c;
        throw new IllegalArgumentException("no config " + name);
    }

    /** SHA-256 of the plan as resolved: the input plus its resolved model/world paths, keys sorted. */
    /**
     * Version of what the code does with an unchanged plan, part of {@link #hash()}: raised when a change alters the
     * results a plan gives, so that a directory of the old code's cells is refused instead of mixed. 2: the core
     * eval and validation read held-out training text by default (core.corpus).
     */
    static final int PROTOCOL = 2;

    public String hash() {
        try {
            ObjectNode n = canonical.deepCopy();
            n.put("model", model);
            n.put("protocol", PROTOCOL);
            if (world != null) n.put("world", world.toString());
            String text = JSON.writeValueAsString(JSON.treeToValue(n, Object.class));
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A strict reader of one JSON object: every key read is ticked off; {@link #done} rejects the rest. */
    static final class Obj {
        final ObjectNode n;
        final String where;
        final Set<String> used = new LinkedHashSet<>();

        Obj(ObjectNode n, String where) {
            this.n = n;
            this.where = where;
        }

        JsonNode raw(String k) {
            used.add(k);
            JsonNode v = n.get(k);
            return v == null || v.isNull() ? null : v;
        }

        String at(String k) { return where.equals("plan") ? k : where + "." + k; }

        Obj obj(String k) {
            JsonNode v = raw(k);
            if (v == null) return new Obj(JSON.createObjectNode(), at(k));
            if (!(v instanceof ObjectNode o)) throw new IllegalArgumentException("plan: \"" + at(k) + "\" must be an object");
            return new Obj(o, at(k));
        }

        String str(String k, String def) {
            JsonNode v = raw(k);
            if (v == null) return def;
            if (!v.isTextual()) throw new IllegalArgumentException("plan: \"" + at(k) + "\" must be a string, got " + v);
            return v.asText();
        }

        String reqStr(String k) {
            String s = str(k, null);
            if (s == null || s.isBlank()) throw new IllegalArgumentException("plan: missing key \"" + at(k) + "\"");
            return s;
        }

        String oneOf(String k, String def, String... allowed) {
            JsonNode v = raw(k);
            String s = v == null ? def : v.isBoolean() ? String.valueOf(v.asBoolean()) : v.isTextual() ? v.asText() : null;
            if (s == null || !List.of(allowed).contains(s))
                throw new IllegalArgumentException("plan: \"" + at(k) + "\" must be one of " + List.of(allowed) + ", got " + v);
            return s;
        }

        List<String> strs(String k, List<String> def) {
            JsonNode v = raw(k);
            if (v == null) return def;
            if (!v.isArray()) throw new IllegalArgumentException("plan: \"" + at(k) + "\" must be a list of strings");
            List<String> out = new ArrayList<>();
            for (JsonNode x : v) {
                if (!x.isTextual()) throw new IllegalArgumentException("plan: \"" + at(k) + "\" must be a list of strings, got " + x);
                out.add(x.asText());
            }
            return List.copyOf(out);
        }

        double num(String k, double def) {
            JsonNode v = raw(k);
            if (v == null) return def;
            if (!v.isNumber() || !Double.isFinite(v.asDouble())) throw new IllegalArgumentException("plan: \"" + at(k) + "\" must be a finite number, got " + v);
            return v.asDouble();
        }

        float pos(String k, double def) {
            double d = num(k, def);
            if (!(d > 0)) throw new IllegalArgumentException("plan: \"" + at(k) + "\" must be > 0, got " + d);
            return (float) d;
        }

        float nonNeg(String k, double def) {
            double d = num(k, def);
            if (!(d >= 0)) throw new IllegalArgumentException("plan: \"" + at(k) + "\" must be >= 0, got " + d);
            return (float) d;
        }

        long lng(String k, long def) {
            JsonNode v = raw(k);
            if (v == null) return def;
            if (!v.canConvertToLong() || !v.isIntegralNumber()) throw new IllegalArgumentException("plan: \"" + at(k) + "\" must be an integer, got " + v);
            return v.asLong();
        }

        long lngIn(String k, long def, long lo, long hi) {
            long x = lng(k, def);
            if (x < lo || x > hi) throw new IllegalArgumentException("plan: \"" + at(k) + "\" must be in " + lo + ".." + hi + ", got " + x);
            return x;
        }

        int intIn(String k, int def, int lo, int hi) {
            return (int) lngIn(k, def, lo, hi);
        }

        int[] ints(String k, int[] def, int lo, int hi) {
            JsonNode v = raw(k);
            if (v == null) return def;
            if (!v.isArray()) throw new IllegalArgumentException("plan: \"" + at(k) + "\" must be a list of integers");
            int[] out = new int[v.size()];
            for (int i = 0; i < out.length; i++) {
                JsonNode x = v.get(i);
                if (!x.isIntegralNumber() || x.asLong() < lo || x.asLong() > hi)
                    throw new IllegalArgumentException("plan: \"" + at(k) + "\" entries must be integers in " + lo + ".." + hi + ", got " + x);
                out[i] = x.asInt();
            }
            return out;
        }

        double[] doubles(String k, double[] def) {
            JsonNode v = raw(k);
            if (v == null) return def;
            if (!v.isArray() || v.isEmpty()) throw new IllegalArgumentException("plan: \"" + at(k) + "\" must be a non-empty list of numbers");
            double[] out = new double[v.size()];
            for (int i = 0; i < out.length; i++) {
                if (!v.get(i).isNumber()) throw new IllegalArgumentException("plan: \"" + at(k) + "\" entries must be numbers, got " + v.get(i));
                out[i] = v.get(i).asDouble();
            }
            return out;
        }

        void done() {
            List<String> unknown = new ArrayList<>();
            for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
                String f = it.next();
                if (!used.contains(f)) unknown.add(f);
            }
            if (!unknown.isEmpty())
                throw new IllegalArgumentException("plan: unknown key" + (unknown.size() > 1 ? "s " : " ") + unknown.stream().map(this::at).map(x -> "\"" + x + "\"").toList()
                        + " (known: " + used + ")");
        }
    }

    /** The plan as run, with its hash, for DIR/plan.json. */
    public ObjectNode record() {
        ObjectNode r = JSON.createObjectNode();
        r.put("format", "msts-experiment/1");
        r.put("plan_hash", hash());
        r.put("model", model);
        if (world != null) r.put("world", world.toString());
        r.set("plan", canonical.deepCopy());
        return r;
    }

    static Map<String, Object> map(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    static ArrayNode array() { return JSON.createArrayNode(); }
}
