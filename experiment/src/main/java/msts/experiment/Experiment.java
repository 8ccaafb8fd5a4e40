package msts.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import msts.data.ActivationSource;
import msts.data.ActivationSources;
import msts.data.Corpus;
import msts.data.GemmaActivations;
import msts.data.HarvestSpec;
import msts.data.Harvester;
import msts.data.StoreBatches;
import msts.data.StoreManifest;
import msts.data.world.WorldFiles;
import msts.data.world.WorldSpec;
import msts.engine.backend.Backend;
import msts.evals.CoreEval;
import msts.evals.CoreMetrics;
import msts.evals.DisentangleMetrics;
import msts.evals.Disentanglement;
import msts.evals.EvalResult;
import msts.evals.GemmaModel;
import msts.evals.SyntheticSequences;
import msts.evals.Unlearning;
import msts.evals.UnlearningMetrics;
import msts.model.gemma.ForwardEngine;
import msts.model.gemma.ForwardEngineFactory;
import msts.model.gemma.Gemma2;
import msts.model.gemma.Gemma2Config;
import msts.model.tokenizer.GemmaTokenizer;
import msts.model.train.Gemma2Backprop;
import msts.model.train.LmParams;
import msts.model.train.Rmu;
import msts.sae.AbstractSae;
import msts.sae.Activation;
import msts.sae.Architecture;
import msts.sae.SaeConfig;
import msts.sae.SaeIO;
import msts.sae.SaeTrainer;
import msts.sae.TrainConfig;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Runs a {@link Plan} into a directory, cell by cell (docs/experiment.md). A cell is one unit of work with one
 * result file: the unmodified model's MCQ accuracy, a harvest per context, the matched-L0 calibration (unit ×
 * grid point, and each unit's choice), the tuning stage (candidate, and each tuned config's selection), config ×
 * seed × {train, core, unlearning, probing}, ground-truth config × seed × regime, RMU × seed. Results are written atomically (temp file +
 * rename), so a killed run leaves only finished cells; a re-run skips them. DIR/plan.json records the plan and
 * its hash: a directory holding another plan is refused before any work. Progress: one line per cell with the
 * elapsed time and an ETA from the measured mean time of each kind of cell.
 *
 * <p>Layout: DIR/plan.json, DIR/world/ (when the plan describes a world), DIR/stores/ctx-C/, DIR/mcq.json,
 * DIR/calibration/UNIT/{l1-V|k-V}/cal.json + choice.json, DIR/tuning/CONFIG/tI/tune.json + selected.json,
 * DIR/cells/CONFIG/seed-S/{sae/, train.json, core.json, unlearning.json, probing.json, *_eval_results.json},
 * DIR/cells/gt-REGIME/CONFIG/seed-S/gt.json, DIR/cells/rmu/seed-S/rmu.json, DIR/report/.
 */
public final class Experiment {
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final Plan plan;
    private final Path out;
    private final Backend backend;
    private final PrintStream log;
    private Path world;
    private final Map<String, double[]> kindTimes = new LinkedHashMap<>();
    private long t0;

    public Experiment(Plan plan, Path out, Backend backend, PrintStream log) {
        this.plan = plan;
        this.out = out;
        this.backend = backend;
        this.log = log;
        this.world = plan.world() != null ? plan.world() : out.resolve("world");
    }

    /** One cell: its kind (for the ETA), a label, its result file and the work. */
    record Cell(String kind, String label, Path result, Work work) {}

    interface Work {
        void run() throws Exception;
    }

    public Path world() { return world; }

    // ---- checks before any work -------------------------------------------------------------------

    /** Everything that can be checked without computing: one IllegalArgumentException naming what is wrong. */
    public void check() {
        Path modelDir = Path.of(plan.model());
        if (!Files.isRegularFile(modelDir.resolve("config.json")))
            throw new IllegalArgumentException("plan model " + modelDir + ": no config.json (an HF Gemma-2 checkpoint directory)");
        if (!Files.isRegularFile(modelDir.resolve("model.safetensors")) && !Files.isRegularFile(modelDir.resolve("model.safetensors.index.json")))
            throw new IllegalArgumentException("plan model " + modelDir + ": no model.safetensors");
        Gemma2Config mc = Gemma2Config.load(modelDir.resolve("config.json"));
        if (plan.layer() >= mc.numHiddenLayers())
            throw new IllegalArgumentException("plan layer " + plan.layer() + " is outside the model's " + mc.numHiddenLayers() + " layers (0.." + (mc.numHiddenLayers() - 1) + ")");
        int maxPos;
        try {
            maxPos = JSON.readTree(modelDir.resolve("config.json").toFile()).path("max_position_embeddings").asInt(8192); // transformers' Gemma2Config default
        } catch (IOException e) {
            throw new IllegalArgumentException(modelDir.resolve("config.json") + ": unreadable (" + e.getMessage() + ")");
        }
        for (int ctx : plan.allContexts())
            if (ctx > maxPos)
                throw new IllegalArgumentException("plan context " + ctx + " exceeds the model's max_position_embeddings " + maxPos + " (" + modelDir.resolve("config.json") + ")");
        if (plan.evals().contains("rmu") && plan.rmu().layer() >= mc.numHiddenLayers())
            throw new IllegalArgumentException("plan rmu.layer " + plan.rmu().layer() + " is outside the model's " + mc.numHiddenLayers() + " layers");
        if (plan.world() != null)
            for (String f : List.of(WorldFiles.TRAIN, WorldFiles.FORGET, WorldFiles.RETAIN, "wmdp_bio.jsonl"))
                if (!Files.isRegularFile(plan.world().resolve(f)))
                    throw new IllegalArgumentException("plan world " + plan.world() + ": missing " + f + " (a directory written by msts world)");
        if (plan.world() != null && plan.evals().contains("probing") && !Files.isRegularFile(plan.world().resolve(WorldFiles.PROBING)))
            throw new IllegalArgumentException("plan world " + plan.world() + ": missing " + WorldFiles.PROBING + " (the probing eval's labelled texts)");
        if (plan.world() != null && mmluFiles(plan.world()).isEmpty())
            throw new IllegalArgumentException("plan world " + plan.world() + ": no mmlu_*.jsonl question sets");
        for (Plan.SaeCfg c : plan.configs()) {
            long perSeq = c.context();
            if (c.temporal() && c.batch() / perSeq < 1) throw new IllegalArgumentException("config " + c.name() + ": batch smaller than one sequence");
        }
        var g = plan.groundTruth();
        if (plan.evals().contains("ground_truth")) spec(g, "clean", 0); // the spec's own checks (on-fraction vs time scales)
        Path rec = out.resolve("plan.json");
        if (Files.isRegularFile(rec)) {
            String have;
            try {
                have = JSON.readTree(rec.toFile()).path("plan_hash").asText("");
            } catch (IOException e) {
                throw new IllegalArgumentException(rec + ": unreadable (" + e.getMessage() + "); choose another --out");
            }
            if (!have.equals(plan.hash()))
                throw new IllegalArgumentException(out + " holds an experiment of another plan (plan hash " + abbrev(have) + ", this plan "
                        + abbrev(plan.hash()) + "); its results are not mixed with this plan's: choose another --out or delete " + out);
        } else if (Files.isDirectory(out)) {
            try (Stream<Path> s = Files.list(out)) {
                if (s.findAny().isPresent())
                    throw new IllegalArgumentException(out + " is not empty and holds no experiment (no plan.json); choose a new or empty --out");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    static String abbrev(String h) { return h.length() > 12 ? h.substring(0, 12) : h; }

    static List<Path> mmluFiles(Path world) {
        try (Stream<Path> s = Files.list(world)) {
            return s.filter(p -> p.getFileName().toString().matches("mmlu_.*\\.jsonl")).sorted().toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    // ---- the cells --------------------------------------------------------------------------------

    Path store(int ctx) { return out.resolve("stores").resolve("ctx-" + ctx); }

    Path cellDir(String config, long seed) { return out.resolve("cells").resolve(config).resolve("seed-" + seed); }

    Path gtDir(String regime, String config, long seed) { return out.resolve("cells").resolve("gt-" + regime).resolve(config).resolve("seed-" + seed); }

    List<Cell> cells() {
        List<Cell> cells = new ArrayList<>();
        List<String> ev = plan.evals();
        boolean modelEvals = ev.contains("unlearning") || ev.contains("rmu");
        if (modelEvals) cells.add(new Cell("mcq", "unmodified model MCQ accuracy", out.resolve("mcq.json"), this::mcq));
        boolean needSae = ev.contains("core") || ev.contains("unlearning") || ev.contains("probing");
        boolean gtTuned = ev.contains("ground_truth") && plan.groundTruth().configs().stream().anyMatch(n -> plan.config(n).tune() != null);
        if (needSae || gtTuned) {
            for (int ctx : plan.contexts())
                cells.add(new Cell("harvest", "harvest layer " + plan.layer() + " context " + ctx, store(ctx).resolve("harvest.done.json"), () -> harvest(ctx)));
            if (plan.targetL0() != null)
                for (var u : plan.units().entrySet()) {
                    String key = u.getKey();
                    Plan.SaeCfg c = u.getValue();
                    for (double g : grid(c))
                        cells.add(new Cell("calibrate", "calibrate " + key + " " + param(c) + " " + fmt(g), calPoint(key, c, g), () -> calibratePoint(key, c, g)));
                    cells.add(new Cell("choose", "calibrate " + key + ": choose " + param(c) + " for L0 " + fmt(plan.targetL0()), calDir(key).resolve("choice.json"),
                            () -> choose(key, c)));
                }
            for (Plan.SaeCfg c : plan.configs())
                if (c.tune() != null) {
                    for (Plan.Candidate k : c.tune().candidates())
                        cells.add(new Cell("tune", "tune " + c.name() + " " + k.id() + " (" + k.settings() + ")", tuneDir(c.name()).resolve(k.id()).resolve("tune.json"),
                                () -> tune(c, k)));
                    cells.add(new Cell("select", "tune " + c.name() + ": select by " + c.tune().select(), tuneDir(c.name()).resolve("selected.json"), () -> select(c)));
                }
        }
        if (needSae) {
            for (long seed : plan.seeds())
                for (Plan.SaeCfg c : plan.configs()) {
                    Path d = cellDir(c.name(), seed);
                    cells.add(new Cell("train", c.name() + " seed " + seed + " train", d.resolve("train.json"), () -> train(effective(c), seed)));
                    if (ev.contains("core")) cells.add(new Cell("core", c.name() + " seed " + seed + " core", d.resolve("core.json"), () -> core(c, seed)));
                    if (ev.contains("unlearning"))
                        cells.add(new Cell("unlearning", c.name() + " seed " + seed + " unlearning", d.resolve("unlearning.json"), () -> unlearning(c, seed)));
                    if (ev.contains("probing"))
                        cells.add(new Cell("probing", c.name() + " seed " + seed + " probing", d.resolve("probing.json"), () -> probing(c, seed)));
                }
        }
        if (ev.contains("rmu"))
            for (long seed : plan.seeds())
                cells.add(new Cell("rmu", "RMU seed " + seed, cellDir("rmu", seed).resolve("rmu.json"), () -> rmu(seed)));
        if (ev.contains("ground_truth"))
            for (long seed : plan.seeds())
                for (String regime : plan.groundTruth().regimes())
                    for (String cn : plan.groundTruth().configs())
                        cells.add(new Cell("gt-" + regime, "ground truth " + regime + " " + cn + " seed " + seed, gtDir(regime, cn, seed).resolve("gt.json"),
                                () -> groundTruth(tuned(plan.config(cn)), regime, seed)));
        return cells;
    }

    /** Checks, records the plan, runs every unfinished cell, writes the report. Returns the report directory. */
    public Path run() throws Exception {
        check();
        t0 = System.nanoTime();
        Files.createDirectories(out);
        writeAtomically(out.resolve("plan.json"), plan.record());
        if (plan.worldSpec() != null) {
            var w = plan.worldSpec();
            WorldSpec ws = WorldSpec.demo(w.seed(), w.entities(), w.evalEntities(), w.paraphrases());
            if (!Files.isRegularFile(world.resolve(WorldFiles.MANIFEST))) WorldFiles.write(world, ws, true);
        }
        List<Cell> cells = cells();
        int total = cells.size(), done = 0;
        for (Cell c : cells) if (Files.isRegularFile(c.result())) done++;
        log.printf(Locale.ROOT, "msts experiment '%s': %d cells (%d configs × %d seeds, evals %s), %d already done in %s%n",
                plan.name(), total, plan.configs().size(), plan.seeds().size(), plan.evals(), done, out);
        log.flush();
        int i = 0;
        for (Cell c : cells) {
            i++;
            if (Files.isRegularFile(c.result())) continue;
            long s = System.nanoTime();
            log.printf(Locale.ROOT, "[experiment %d/%d] %s ...%n", i, total, c.label());
            log.flush();
            c.work().run();
            double sec = (System.nanoTime() - s) / 1e9;
            kindTimes.computeIfAbsent(c.kind(), k -> new double[2]);
            kindTimes.get(c.kind())[0] += sec;
            kindTimes.get(c.kind())[1]++;
            done++;
            log.printf(Locale.ROOT, "[experiment %d/%d %3.0f%%] %s done in %.1f s; elapsed %.1f min, ETA %s%n", done, total, 100.0 * done / total,
                    c.label(), sec, (System.nanoTime() - t0) / 6e10, eta(cells));
            log.flush();
        }
        Path rep = ExperimentReport.write(plan, out);
        log.printf(Locale.ROOT, "msts experiment '%s' done in %.1f min (this run). Report: %s%n", plan.name(), (System.nanoTime() - t0) / 6e10,
                rep.resolve("report.html").toAbsolutePath());
        log.flush();
        return rep;
    }

    /** Remaining cells × the mean time of their kind so far (kinds not yet seen: the mean over all cells run). */
    String eta(List<Cell> cells) {
        double all = 0, n = 0;
        for (double[] t : kindTimes.values()) {
            all += t[0];
            n += t[1];
        }
        double mean = n == 0 ? 0 : all / n, rest = 0;
        boolean guessed = false;
        for (Cell c : cells) {
            if (Files.isRegularFile(c.result())) continue;
            double[] t = kindTimes.get(c.kind());
            if (t == null) guessed = true;
            rest += t == null ? mean : t[0] / t[1];
        }
        return String.format(Locale.ROOT, "%s%.1f min", guessed ? "~" : "", rest / 60);
    }

    // ---- cell work --------------------------------------------------------------------------------

    GemmaModel loadModel() {
        return GemmaModel.load(Path.of(plan.model()), null, backend);
    }

    Map<String, List<Unlearning.Question>> questionSets() {
        Map<String, List<Unlearning.Question>> m = new LinkedHashMap<>();
        m.put("wmdp_bio", Unlearning.readQuestions(world.resolve("wmdp_bio.jsonl"), "biology"));
        for (Path f : mmluFiles(world)) {
            String name = f.getFileName().toString().replaceFirst("\\.jsonl$", "");
            m.put(name, Unlearning.readQuestions(f, name));
        }
        return m;
    }

    /** The unmodified model's accuracy per set; all_permutations "auto" → true iff every set has a question right in all 24 orders. */
    void mcq() throws IOException {
        ObjectNode res = JSON.createObjectNode();
        boolean allPerm = true;
        boolean ask24 = !plan.unlearning().allPermutations().equals("false");
        try (GemmaModel m = loadModel()) {
            for (var e : questionSets().entrySet()) {
                var a = Unlearning.mcqAccuracy(m, m.tokenizer(), e.getValue(), ask24, plan.unlearning().batch(), e.getKey());
                ObjectNode r = res.putObject(e.getKey());
                r.put("total", a.total());
                r.put("accuracy_original_order", a.originalOrder());
                if (ask24) {
                    r.put("accuracy_all_24_orders", a.all24Orders());
                    r.put("accuracy_mean_24_orders", a.mean24Orders());
                }
                allPerm &= ask24 && a.correctAll24Orders() > 0;
            }
        }
        boolean use = switch (plan.unlearning().allPermutations()) {
            case "true" -> true;
            case "false" -> false;
            default -> allPerm;
        };
        ObjectNode o = JSON.createObjectNode();
        o.set("accuracy", res);
        o.put("all_permutations", use);
        o.put("all_permutations_setting", plan.unlearning().allPermutations());
        writeAtomically(out.resolve("mcq.json"), o);
    }

    boolean allPermutations() throws IOException {
        return JSON.readTree(out.resolve("mcq.json").toFile()).path("all_permutations").asBoolean();
    }

    void harvest(int ctx) throws IOException {
        Path dir = store(ctx), modelDir = Path.of(plan.model());
        HarvestSpec h = new HarvestSpec(modelDir, plan.layer(), List.of(world.resolve(WorldFiles.TRAIN)), ctx, String.valueOf(plan.harvest().tokens()),
                16, null, plan.harvest().dtype(), null, 0, "blocks", "prepend", "text", backend.ops().name());
        Harvester.Config cfg = h.config();
        try (GemmaTokenizer tok = GemmaTokenizer.load(h.tokenizerJson()); Gemma2 m = Gemma2.load(modelDir, backend.ops())) {
            ForwardEngine engine = ForwardEngineFactory.engine(backend, m);
            try {
                Harvester.Result r = Harvester.run(dir, cfg, tok, new GemmaActivations(engine, plan.layer()), true);
                ObjectNode o = JSON.createObjectNode();
                o.put("sequences", r.sequencesInStore());
                o.put("context", ctx);
                o.put("corpus_exhausted", r.corpusExhausted());
                writeAtomically(dir.resolve("harvest.done.json"), o);
            } finally {
                ForwardEngineFactory.close(engine, m);
            }
        }
    }

    static SaeConfig.Builder saeConfig(Plan.SaeCfg c, int dIn, int ctx) {
        Architecture a = Architecture.parse(c.arch());
        return SaeConfig.builder().dIn(dIn).dSae(c.dSae()).architecture(a)
                .activation(a == Architecture.TEMPORAL ? Activation.parse(c.act()) : a.fixedActivation())
                .k(c.k()).dilations(c.temporal() ? c.dilations() : new int[]{1, 2, 4}).l1Coefficient(c.l1())
                .sepWeight(c.sepWeight()).sepForm(c.sepForm()).contextSize(ctx);
    }

    static TrainConfig trainConfig(long tokens, float lr, long seed) {
        return TrainConfig.builder().totalTokens(tokens).lr(lr).seed(seed).build();
    }

    // ---- matched L0 (calibration) and tuning -----------------------------------------------------

    Path calDir(String unit) { return out.resolve("calibration").resolve(unit); }

    Path tuneDir(String config) { return out.resolve("tuning").resolve(config); }

    /** The swept sparsity parameter of a config: "l1" (ReLU) or "k" (TopK). */
    static String param(Plan.SaeCfg c) { return c.topk() ? "k" : "l1"; }

    static double[] grid(Plan.SaeCfg c) {
        return c.topk() ? java.util.Arrays.stream(c.kGrid()).asDoubleStream().toArray() : c.l1Grid();
    }

    static String fmt(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? String.valueOf((long) v) : String.valueOf(v);
    }

    Path calPoint(String unit, Plan.SaeCfg c, double g) { return calDir(unit).resolve(param(c) + "-" + fmt(g)).resolve("cal.json"); }

    long calibrationTokens(Plan.SaeCfg c) {
        return plan.calibration().tokens() > 0 ? Math.max(c.batch(), plan.calibration().tokens()) : c.tokens();
    }

    /** Trains {@code c} on the calibration seed at one grid point (short: calibration.tokens) and measures it on the validation rows. */
    void calibratePoint(String unit, Plan.SaeCfg c, double g) throws IOException {
        Plan.SaeCfg at = c.withSparsity(g);
        long seed = plan.calibration().seed();
        AbstractSae sae = trainInMemory(at, calibrationTokens(c), seed);
        ObjectNode o = validate(sae);
        o.put("param", param(c));
        o.put("value", g);
        o.put("seed", seed);
        o.put("tokens", calibrationTokens(c));
        writeAtomically(calPoint(unit, c, g), o);
    }

    /** Picks the L1 / k whose validation L0 matches the target (Calibrate.choose) from the unit's grid points. */
    void choose(String unit, Plan.SaeCfg c) throws IOException {
        double[] g = grid(c), l0 = new double[g.length];
        for (int i = 0; i < g.length; i++) l0[i] = JSON.readTree(calPoint(unit, c, g[i]).toFile()).path("l0").asDouble();
        Calibrate.Choice ch = Calibrate.choose(g, l0, plan.targetL0());
        double v = c.topk() ? Math.max(1, Math.min(c.dSae(), Math.round(ch.value()))) : ch.value();
        ObjectNode o = JSON.createObjectNode();
        o.put("param", param(c));
        o.put("target_l0", plan.targetL0());
        o.put("seed", plan.calibration().seed());
        o.put("tokens", calibrationTokens(c));
        var a = o.putArray("grid");
        for (double x : g) a.add(x);
        var b = o.putArray("l0");
        for (double x : l0) b.add(x);
        o.put("chosen", v);
        o.put("bracketed", ch.bracketed());
        o.put("method", ch.method());
        writeAtomically(calDir(unit).resolve("choice.json"), o);
    }

    /** A tuning candidate at its calibrated sparsity, trained on the tuning seed for its full tokens, measured on the validation rows. */
    void tune(Plan.SaeCfg c, Plan.Candidate k) throws IOException {
        Plan.SaeCfg at = calibrated(c.name() + "/" + k.id(), k.cfg());
        AbstractSae sae = trainInMemory(at, at.tokens(), plan.tuningSeed());
        ObjectNode o = validate(sae);
        o.put("candidate", k.id());
        o.put("settings", k.settings());
        o.put("seed", plan.tuningSeed());
        o.put(param(at), at.topk() ? at.k() : at.l1());
        writeAtomically(tuneDir(c.name()).resolve(k.id()).resolve("tune.json"), o);
    }

    /** The candidate with the highest validation metric (the first on a tie). */
    void select(Plan.SaeCfg c) throws IOException {
        String metric = c.tune().select();
        ObjectNode o = JSON.createObjectNode();
        o.put("select", metric);
        o.put("seed", plan.tuningSeed());
        var a = o.putArray("candidates");
        String best = null;
        double bestV = Double.NEGATIVE_INFINITY;
        for (Plan.Candidate k : c.tune().candidates()) {
            JsonNode t = JSON.readTree(tuneDir(c.name()).resolve(k.id()).resolve("tune.json").toFile());
            a.add(t);
            double v = t.path(metric).asDouble(Double.NaN);
            if (best == null || v > bestV) {
                best = k.id();
                bestV = Double.isNaN(v) ? Double.NEGATIVE_INFINITY : v;
            }
        }
        o.put("selected", best);
        String sel = best;
        o.put("settings", c.tune().candidates().stream().filter(k -> k.id().equals(sel)).findFirst().orElseThrow().settings());
        writeAtomically(tuneDir(c.name()).resolve("selected.json"), o);
    }

    /** A tuned config's selected candidate (its settings, under the config's name); an untuned config as it is. */
    Plan.SaeCfg tuned(Plan.SaeCfg c) throws IOException {
        return Resolve.tuned(plan, out, c);
    }

    /** The config as evaluated: tuned settings, then the calibrated L1 / k when the plan has a target L0. */
    Plan.SaeCfg effective(Plan.SaeCfg c) throws IOException {
        return Resolve.effective(plan, out, c);
    }

    Plan.SaeCfg calibrated(String unit, Plan.SaeCfg c) throws IOException {
        return Resolve.calibrated(plan, out, unit, c);
    }

    AbstractSae trainInMemory(Plan.SaeCfg c, long tokens, long seed) throws IOException {
        try (ActivationSource src = ActivationSources.open(store(c.context()))) {
            StoreManifest man = StoreManifest.read(store(c.context()));
            SaeConfig cfg = saeConfig(c, (int) src.dIn(), src.contextSize()).hookLayer(man.layer()).hookName(man.hookName())
                    .modelName(Path.of(plan.model()).getFileName().toString()).build();
            var batches = new StoreBatches(src, cfg.temporal(), c.batch(), false, seed);
            SaeTrainer t = new SaeTrainer(cfg, trainConfig(tokens, c.lr(), seed), backend, null).quiet(true);
            t.train(batches, false);
            return t.exportSae();
        }
    }

    /**
     * The validation rows: retain-corpus rows of validation.context tokens after the stream tokens the core eval's
     * rows cover (so no core-eval token is used for calibration or selection).
     */
    int[][] validationRows(GemmaModel m) {
        var v = plan.validation();
        long coreTokens = (long) plan.core().rows() * (plan.core().context() - 1);
        int skip = (int) ((coreTokens + v.context() - 2) / (v.context() - 1));
        int[][] all = coreRows(m, v.context(), skip + v.rows());
        if (all.length < skip + v.rows())
            throw new IllegalArgumentException(coreCorpusName() + ": " + all.length + " rows of " + v.context() + " tokens; the validation needs "
                    + v.rows() + " after the core eval's " + skip);
        return java.util.Arrays.copyOfRange(all, skip, skip + v.rows());
    }

    /**
     * The first n rows of ctx tokens of the core eval's text (plan core.corpus): held out = the world's train.jsonl
     * from the first document that no harvest of this plan read (the latest {@link StoreManifest#heldOutStart()} over
     * the plan's stores), with the harvest's corpus options; retain = the world's retain corpus.
     */
    int[][] coreRows(GemmaModel m, int ctx, int n) {
        if (plan.core().corpus().equals(Plan.Core.RETAIN)) return rows(m, WorldFiles.RETAIN, ctx, n, 0, Corpus.BosMode.PREPEND);
        StoreManifest latest = null;
        for (int c : plan.contexts()) {
            StoreManifest s = StoreManifest.read(store(c));
            if (latest == null || s.heldOutStart().document() > latest.heldOutStart().document()) latest = s;
        }
        return latest.heldOutRows(m.tokenizer(), ctx, n);
    }

    String coreCorpusName() {
        return plan.core().corpus().equals(Plan.Core.RETAIN) ? WorldFiles.RETAIN : WorldFiles.TRAIN + " (held out from the harvests)";
    }

    /** L0, explained variance and CE-loss score of an SAE on the validation rows (the core eval's code). */
    ObjectNode validate(AbstractSae sae) throws IOException {
        try (GemmaModel m = loadModel()) {
            EvalResult<CoreMetrics> e = CoreEval.run(backend.ops(), m, m.tokenizer(), sae, validationRows(m),
                    new CoreEval.Config(plan.layer(), 16, true, coreCorpusName()), "validation");
            CoreMetrics q = e.metrics();
            ObjectNode o = JSON.createObjectNode();
            o.put("l0", q.sparsity().l0());
            o.put("explained_variance", q.reconstructionQuality().explainedVariance());
            o.put("ce_loss_score", q.modelPerformancePreservation().ceLossScore());
            return o;
        }
    }

    void probing(Plan.SaeCfg c, long seed) throws IOException {
        Path d = cellDir(c.name(), seed);
        AbstractSae sae = loadSae(c.name(), seed);
        var p = plan.probing();
        List<msts.evals.SparseProbing.Task> tasks = msts.evals.SparseProbing.tasks(world.resolve(WorldFiles.PROBING));
        try (GemmaModel m = loadModel()) {
            var e = msts.evals.SparseProbing.run(m, m.tokenizer(), sae, plan.layer(), tasks,
                    new msts.evals.SparseProbing.Config(p.context(), p.trainFraction(), p.seed(), p.ks(), 1.0, p.maxExamples()), c.name() + "-seed" + seed);
            e.write(d);
            var q = e.metrics();
            ObjectNode o = JSON.createObjectNode();
            o.put("sae_test_accuracy", q.saeTestAccuracy());
            o.put("llm_test_accuracy", q.llmTestAccuracy());
            for (int k : p.ks()) {
                Double v = q.saeTop(k), l = q.llmTopK().get(k);
                o.put("sae_top_" + k + "_test_accuracy", v == null ? Double.NaN : v);
                o.put("llm_top_" + k + "_test_accuracy", l == null ? Double.NaN : l);
            }
            writeAtomically(d.resolve("probing.json"), o);
        }
    }

    void train(Plan.SaeCfg c, long seed) throws IOException {
        Path d = cellDir(c.name(), seed), sae = d.resolve("sae"), tmp = d.resolve("sae.partial");
        deleteTree(tmp);
        deleteTree(sae);
        Files.createDirectories(d);
        try (ActivationSource src = ActivationSources.open(store(c.context()))) {
            StoreManifest man = StoreManifest.read(store(c.context()));
            SaeConfig cfg = saeConfig(c, (int) src.dIn(), src.contextSize()).hookLayer(man.layer()).hookName(man.hookName())
                    .modelName(Path.of(plan.model()).getFileName().toString()).build();
            var batches = new StoreBatches(src, cfg.temporal(), c.batch(), false, seed);
            var r = new SaeTrainer(cfg, trainConfig(c.tokens(), c.lr(), seed), backend, tmp).quiet(true).train(batches, false);
            deleteTree(tmp.resolve("checkpoint"));
            Files.move(tmp, sae, StandardCopyOption.ATOMIC_MOVE);
            ObjectNode o = JSON.createObjectNode();
            o.put("steps", r.steps());
            o.put("tokens_per_second", r.tokensPerSecond());
            o.put("l0", nz(r.fin().l0()));
            o.put("explained_variance", nz(r.fin().explainedVariance()));
            o.put(c.topk() ? "k" : "l1", c.topk() ? c.k() : c.l1());
            o.put("context", c.context());
            o.put("dilations", java.util.Arrays.toString(c.dilations()));
            o.put("sep_weight", c.sepWeight());
            writeAtomically(d.resolve("train.json"), o);
        }
    }

    static double nz(Double d) { return d == null ? Double.NaN : d; }

    AbstractSae loadSae(String config, long seed) throws IOException {
        return SaeIO.load(cellDir(config, seed).resolve("sae"), backend.ops());
    }

    /**
     * The retain corpus of unlearning's feature selection and of RMU: the world's general retain corpus (text of
     * every training kind about the retain domains — SAEBench's and RMU's wikitext analogue; docs/world.md), or the
     * topic-only retain corpus for a world written before the general one existed.
     */
    String retainCorpus() {
        return Files.isRegularFile(world.resolve(WorldFiles.RETAIN_GENERAL)) ? WorldFiles.RETAIN_GENERAL : WorldFiles.RETAIN;
    }

    int[][] rows(GemmaModel m, String file, int ctx, int n, int minChars, Corpus.BosMode bos) {
        Corpus.Options o = new Corpus.Options(minChars, Corpus.Options.DEFAULT.textSplit(), bos, "text");
        int[][] r = Corpus.readRows(List.of(world.resolve(file)), m.tokenizer(), ctx, n, o);
        if (r.length == 0) throw new IllegalArgumentException(world.resolve(file) + ": no complete rows of " + ctx + " tokens");
        return r;
    }

    void core(Plan.SaeCfg c, long seed) throws IOException {
        Path d = cellDir(c.name(), seed);
        AbstractSae sae = loadSae(c.name(), seed);
        try (GemmaModel m = loadModel()) {
            int[][] r = coreRows(m, plan.core().context(), plan.core().rows());
            EvalResult<CoreMetrics> e = CoreEval.run(backend.ops(), m, m.tokenizer(), sae, r, new CoreEval.Config(plan.layer(), 16, true, coreCorpusName()),
                    c.name() + "-seed" + seed);
            e.write(d);
            CoreMetrics q = e.metrics();
            ObjectNode o = JSON.createObjectNode();
            o.put("l0", q.sparsity().l0());
            o.put("explained_variance", q.reconstructionQuality().explainedVariance());
            o.put("ce_loss_score", q.modelPerformancePreservation().ceLossScore());
            o.put("kl_div_score", q.modelBehaviorPreservation().klDivScore());
            writeAtomically(d.resolve("core.json"), o);
        }
    }

    void unlearning(Plan.SaeCfg c, long seed) throws IOException {
        Path d = cellDir(c.name(), seed);
        AbstractSae sae = loadSae(c.name(), seed);
        var u = plan.unlearning();
        boolean perms = allPermutations();
        Map<String, List<Unlearning.Question>> sets = questionSets();
        List<Unlearning.Question> wmdp = sets.remove("wmdp_bio");
        try (GemmaModel m = loadModel()) {
            int[][] fr = rows(m, WorldFiles.FORGET, u.context(), u.rows(), 50, Corpus.BosMode.OVERWRITE);
            int[][] rr = rows(m, retainCorpus(), u.context(), u.rows(), 50, Corpus.BosMode.OVERWRITE);
            EvalResult<UnlearningMetrics> e = Unlearning.run(m, m.tokenizer(), sae, plan.layer(), fr, rr, wmdp, sets,
                    new Unlearning.Config(u.retainThresholds(), u.nFeatures(), u.multipliers(), perms, 0.99, u.batch()), c.name() + "-seed" + seed);
            e.write(d);
            UnlearningMetrics q = e.metrics();
            ObjectNode o = JSON.createObjectNode();
            o.put("unlearning_score", q.unlearningScore());
            o.put("all_permutations", perms);
            o.put("retain_corpus", retainCorpus());
            var pts = o.putArray("settings");
            for (var s : q.settings()) {
                ObjectNode p = pts.addObject();
                p.put("retain_threshold", s.retainThreshold());
                p.put("n_features", s.nFeatures());
                p.put("multiplier", s.multiplier());
                p.put("forget_accuracy", s.wmdpBioAccuracy());
                p.put("retain_accuracy", s.mmluAccuracy());
            }
            writeAtomically(d.resolve("unlearning.json"), o);
        }
    }

    SyntheticSequences.Spec spec(Plan.GroundTruth g, String regime, long seed) {
        var s = new SyntheticSequences.Spec(g.d(), g.scales(), g.featuresPerScale(), g.onFraction(), 0.5, 1.5, g.cleanNoise(), g.seqs(), g.context(), seed);
        return regime.equals("low_snr") ? s.withTokenSnr(g.tokenSnr()) : s;
    }

    void groundTruth(Plan.SaeCfg c, String regime, long seed) throws IOException {
        var g = plan.groundTruth();
        Path d = gtDir(regime, c.name(), seed);
        Files.createDirectories(d);
        SyntheticSequences.Spec s = spec(g, regime, 1000 + seed);
        SyntheticSequences.Data data = SyntheticSequences.generate(s);
        SaeConfig cfg = saeConfig(c, g.d(), g.context()).dSae(g.dSae()).l1Coefficient(g.l1()).k(Math.min(c.k(), g.dSae()))
                .hookLayer(0).modelName("synthetic-" + regime).build();
        ActivationSource src = data.source();
        var batches = new StoreBatches(src, cfg.temporal(), c.batch(), false, seed);
        SaeTrainer t = new SaeTrainer(cfg, trainConfig(g.tokens(), c.lr(), seed), backend, null).quiet(true);
        t.train(batches, false);
        AbstractSae sae = t.exportSae();
        var gt = new Disentanglement.GroundTruth(data.directions(), data.timeScale(), g.d());
        var dc = Disentanglement.Config.defaults();
        EvalResult<DisentangleMetrics> e = Disentanglement.run(backend.ops(), sae, src, gt,
                new Disentanglement.Config(Math.min(512, g.seqs()), 16, dc.topLatents(), dc.histogramBins(), dc.histogramLatents(), true), c.name() + "-" + regime);
        var q = e.metrics().groundTruth();
        ObjectNode o = JSON.createObjectNode();
        o.put("regime", regime);
        o.put("noise_std", s.noiseStd());
        o.put("token_snr", s.tokenSnr());
        o.put("recovery_mean", q.recoveryMean());
        var by = o.putObject("recovery_by_time_scale");
        q.recoveryByTimeScale().forEach((k, v) -> by.put(String.valueOf(k), v));
        var snr = o.putObject("run_snr_by_time_scale");
        for (int L : g.scales()) snr.put(String.valueOf(L), s.runSnr(L));
        writeAtomically(d.resolve("gt.json"), o);
    }

    void rmu(long seed) throws IOException {
        var rc = plan.rmu();
        Path d = cellDir("rmu", seed), modelDir = Path.of(plan.model());
        Files.createDirectories(d);
        boolean perms = allPermutations();
        Map<String, List<Unlearning.Question>> sets = questionSets(), kept = new LinkedHashMap<>();
        int[][] fr, rr;
        try (GemmaModel m = loadModel()) {
            for (var e : sets.entrySet())
                kept.put(e.getKey(), Unlearning.answeredCorrectly(m, m.tokenizer(), e.getValue(), perms, plan.unlearning().batch(), e.getKey()));
            fr = rows(m, WorldFiles.FORGET, rc.context(), rc.rows(), 50, Corpus.BosMode.OVERWRITE);
            rr = rows(m, retainCorpus(), rc.context(), rc.rows(), 50, Corpus.BosMode.OVERWRITE);
        }
        LmParams params = LmParams.load(modelDir);
        Gemma2Backprop probe = new Gemma2Backprop(params.config(), backend.ops(), rc.batch(), rc.context(), false);
        double norm = Rmu.meanNorm(probe, params, params.data(), fr, rc.layer());
        double c = rc.steeringRatio() * norm;
        Rmu.Config cfg = new Rmu.Config(rc.layer(), rc.firstLayer(), rc.modules(), c, rc.alpha(), rc.lr(), rc.steps(), rc.batch(), seed, 0.01f);
        ObjectNode o = JSON.createObjectNode();
        o.put("steering_coefficient", c);
        o.put("mean_forget_norm", norm);
        o.put("retain_corpus", retainCorpus());
        o.put("steering_ratio", rc.steeringRatio());
        o.put("alpha", rc.alpha());
        o.put("all_permutations", perms);
        var pts = o.putArray("points");
        Path tmpModel = d.resolve("model.partial");
        java.util.Set<Integer> at = new java.util.TreeSet<>();
        for (int s : rc.evalSteps()) at.add(s);
        Exception[] failed = {null};
        Rmu.run(params, backend.ops(), fr, rr, rc.context(), cfg, (step, lf, lr, p) -> {
            if (!at.contains(step) || failed[0] != null) return;
            try {
                deleteTree(tmpModel);
                params.writeModel(tmpModel, Map.of("msts_rmu_step", String.valueOf(step)));
                Files.copy(modelDir.resolve("tokenizer.json"), tmpModel.resolve("tokenizer.json"));
                try (GemmaModel m = GemmaModel.load(tmpModel, null, backend)) {
                    double fAcc = Unlearning.accuracy(m, m.tokenizer(), kept.get("wmdp_bio"), null, plan.unlearning().batch());
                    double ok = 0;
                    int n = 0;
                    for (var e : kept.entrySet()) {
                        if (e.getKey().equals("wmdp_bio") || e.getValue().isEmpty()) continue;
                        ok += Unlearning.accuracy(m, m.tokenizer(), e.getValue(), null, plan.unlearning().batch()) * e.getValue().size();
                        n += e.getValue().size();
                    }
                    ObjectNode pt = pts.addObject();
                    pt.put("step", step);
                    pt.put("forget_loss", lf);
                    pt.put("retain_loss", lr);
                    pt.put("forget_accuracy", fAcc);
                    pt.put("retain_accuracy", n == 0 ? Double.NaN : ok / n);
                }
                deleteTree(tmpModel);
            } catch (Exception e) {
                failed[0] = e;
            }
        });
        if (failed[0] instanceof IOException io) throw io;
        if (failed[0] instanceof RuntimeException re) throw re;
        if (failed[0] != null) throw new IllegalStateException(failed[0]);
        // the SAE score's rule: 1 − min forget accuracy over points whose retain accuracy is ≥ 0.99
        double min = 1;
        for (JsonNode p : pts) if (p.path("retain_accuracy").asDouble() >= 0.99) min = Math.min(min, p.path("forget_accuracy").asDouble());
        o.put("unlearning_score", 1 - min);
        writeAtomically(d.resolve("rmu.json"), o);
    }

    // ---- files ------------------------------------------------------------------------------------

    /** Writes JSON to a temp file in the same directory and renames it over {@code f}. */
    static void writeAtomically(Path f, JsonNode n) throws IOException {
        Files.createDirectories(f.getParent());
        Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
        Files.writeString(tmp, JSON.writeValueAsString(n) + "\n");
        Files.move(tmp, f, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }
}
