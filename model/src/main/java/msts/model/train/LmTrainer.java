package msts.model.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import msts.engine.DType;
import msts.engine.Ops;
import msts.engine.Tensor;
import msts.io.SafeTensors;
import msts.model.gemma.Gemma2Config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The training loop of a Gemma-2 language model: AdamW with warm-up + cosine schedule and global-norm
 * clipping on the mean next-token cross-entropy of batches of {@link TokenRows}, deterministic for a seed
 * (same seed → bit-identical weights; resume → bit-identical to an uninterrupted run).
 *
 * <p>Checkpoint directory (written whole into a sibling temp directory, then renamed into place):
 * config.json + model.safetensors (F32, the HF layout Gemma2ForCausalLM and {@code msts forward} read),
 * optimizer.safetensors (AdamW m.NAME, v.NAME), trainer_state.json (step, settings, data, loss history),
 * tokenizer.json (a copy, when given) and, at the end, train_summary.json. A non-finite loss or gradient
 * stops the run before the update with {@link DivergedException}; the last checkpoint stays as it was.
 */
public final class LmTrainer {
    public static final String STATE = "trainer_state.json", OPTIMIZER = "optimizer.safetensors", SUMMARY = "train_summary.json";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Training stopped on a non-finite loss or gradient norm. */
    public static final class DivergedException extends RuntimeException {
        public DivergedException(String m) { super(m); }
    }

    /** Called after every step. */
    @FunctionalInterface
    public interface Listener {
        void step(long step, long steps, double loss, double gradNorm, double lr);
    }

    /**
     * @param finalLoss    mean training loss over the last max(1, steps/20) steps
     * @param heldOutLoss  mean next-token loss on the held-out rows (NaN when none)
     */
    public record Result(long step, long steps, long tokensSeen, double lastLoss, double finalLoss, double heldOutLoss,
                         long heldOutTokens, double seconds, double tokensPerSecond, long parameters) {}

    private final Gemma2Config model;
    private final LmTrainConfig cfg;
    private final Ops ops;
    private final Path out;
    private final Path tokenizer;

    /**
     * @param tokenizer tokenizer.json to copy into every checkpoint (null = none)
     */
    public LmTrainer(Gemma2Config model, LmTrainConfig cfg, Ops ops, Path out, Path tokenizer) {
        this.model = model;
        this.cfg = cfg;
        this.ops = ops;
        this.out = out;
        this.tokenizer = tokenizer;
    }

    /**
     * Trains from scratch (or from the checkpoint in {@code out} when {@code resume}) until step
     * {@code stopAt} (≤ cfg.steps; cfg.steps when ≤ 0), checkpointing every cfg.checkpointEvery steps and
     * at the stop. Held-out loss (heldOut may be null) is measured at the end of the schedule.
     */
    private LmParams init;

    /**
     * Starts a new run from these parameters instead of the seeded initialisation (a warm start, e.g.
     * {@link LmParams#warmStart}); the optimizer state and the schedule start fresh. Ignored by --resume, which
     * continues from the checkpoint.
     */
    public LmTrainer startingFrom(LmParams p) {
        this.init = p;
        return this;
    }

    public Result train(TokenRows data, TokenRows heldOut, boolean resume, long stopAt, Listener listener) {
        if (data.context() < 2) throw new IllegalArgumentException("context must be ≥ 2");
        long stop = stopAt <= 0 ? cfg.steps() : Math.min(stopAt, cfg.steps());
        LmParams params;
        AdamW adam;
        long step;
        List<Double> history = new ArrayList<>();
        checkOut(out, resume);
        if (resume) {
            params = LmParams.load(out);
            if (!params.config().equals(withDtype(model)))
                throw new IllegalArgumentException(out + ": the checkpoint's model config differs from the requested one: " + params.config());
            adam = new AdamW(params);
            JsonNode st = readJson(out.resolve(STATE));
            step = st.get("step").asLong();
            LmTrainConfig saved = configFrom(st.get("train"));
            if (!saved.equals(cfg))
                throw new IllegalArgumentException(out + ": the checkpoint was trained with " + saved + ", not " + cfg);
            if (st.path("data").path("rows").asInt() != data.rows() || st.path("data").path("context").asInt() != data.context()
                    || st.path("data").path("loss_weight_sum").asDouble(-1) != data.weightSum())
                throw new IllegalArgumentException(out + ": the training rows differ from the checkpoint's (" + st.get("data") + ")");
            for (JsonNode h : st.get("loss_history")) history.add(h.asDouble());
            try (SafeTensors o = SafeTensors.open(out.resolve(OPTIMIZER))) {
                for (LmParams.Slot s : params.slots()) {
                    copy(o.tensor("m." + s.name(), longs(s.shape())), adam.m(), s.offset(), s.size());
                    copy(o.tensor("v." + s.name(), longs(s.shape())), adam.v(), s.offset(), s.size());
                }
            }
        } else {
            if (init != null && !init.config().equals(withDtype(model)))
                throw new IllegalArgumentException("the warm-start parameters' config " + init.config() + " differs from the model to train");
            params = init != null ? init : LmParams.initialize(withDtype(model), cfg.seed(), cfg.initStd());
            adam = new AdamW(params);
            step = 0;
        }
        int B = cfg.batch();
        Gemma2Backprop bp = new Gemma2Backprop(params.config(), ops, B, data.context(), false);
        float[] grad = new float[params.size()];
        long t0 = System.nanoTime(), startStep = step;
        double lastLoss = history.isEmpty() ? Double.NaN : history.get(history.size() - 1);
        while (step < stop) {
            int[][] rows = data.batch(step, B);
            double loss = bp.lossAndGradient(params.data(), params, rows, data.targetWeights(step, B), grad);
            double norm = AdamW.globalNorm(grad);
            if (!Double.isFinite(loss) || !Double.isFinite(norm))
                throw new DivergedException("training diverged at step " + (step + 1) + " (loss " + loss + ", gradient norm "
                        + norm + "); " + (Files.isRegularFile(out.resolve(STATE))
                        ? "the last good checkpoint is " + out + " (step " + savedStep() + ")" : "no checkpoint was written")
                        + "; try a lower --lr or a smaller --clip");
            AdamW.clip(grad, norm, cfg.clip());
            double lr = cfg.lrAt(step);
            adam.step(params.data(), grad, step + 1, lr, cfg);
            step++;
            history.add(loss);
            lastLoss = loss;
            if (listener != null) listener.step(step, cfg.steps(), loss, norm, lr);
            if (step < stop && cfg.checkpointEvery() > 0 && step % cfg.checkpointEvery() == 0)
                save(params, adam, step, data, history, null);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long trained = step - startStep;
        double tps = seconds > 0 ? trained * (double) B * data.context() / seconds : 0;
        double heldLoss = Double.NaN;
        long heldTokens = 0;
        if (heldOut != null && step == cfg.steps()) {
            double[] r = evaluate(params, heldOut);
            heldLoss = r[0];
            heldTokens = (long) r[1];
        }
        int tail = (int) Math.max(1, Math.min(history.size(), cfg.steps() / 20));
        double fin = 0;
        for (int i = history.size() - tail; i < history.size(); i++) fin += history.get(i);
        fin /= tail;
        Result res = new Result(step, cfg.steps(), step * B * (long) data.context(), lastLoss, fin, heldLoss, heldTokens, seconds, tps, params.size());
        save(params, adam, step, data, history, step == cfg.steps() ? res : null);
        return res;
    }

    /** Mean next-token loss over all rows of {@code rows} in order (batches of cfg.batch; padding rows not counted). */
    public double[] evaluate(LmParams params, TokenRows rows) {
        int B = cfg.batch();
        Gemma2Backprop bp = new Gemma2Backprop(params.config(), ops, B, rows.context(), false);
        double sum = 0;
        long count = 0;
        for (int r0 = 0; r0 < rows.rows(); r0 += B) {
            int valid = Math.min(B, rows.rows() - r0);
            int[][] batch = new int[B][];
            for (int i = 0; i < B; i++) batch[i] = rows.row(r0 + Math.min(i, valid - 1));
            double l = bp.loss(params.data(), params, batch, valid);
            sum += l * bp.counted();
            count += bp.counted();
        }
        return new double[]{count == 0 ? Double.NaN : sum / count, count};
    }

    private long savedStep() {
        try {
            return readJson(out.resolve(STATE)).get("step").asLong();
        } catch (RuntimeException e) {
            return -1;
        }
    }

    private static Gemma2Config withDtype(Gemma2Config c) {
        return new Gemma2Config(c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(),
                c.numAttentionHeads(), c.numKeyValueHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(),
                c.queryPreAttnScalar(), c.attnLogitSoftcapping(), c.finalLogitSoftcapping(), c.slidingWindow(),
                c.bosTokenId(), c.eosTokenId(), c.padTokenId(), c.tieWordEmbeddings(), c.attentionBias(),
                c.hiddenActivation(), c.slidingLayers(), "float32");
    }

    // ---- checkpoint ------------------------------------------------------------------------------------

    private void save(LmParams params, AdamW adam, long step, TokenRows data, List<Double> history, Result summary) {
        Path parent = out.toAbsolutePath().getParent();
        String name = out.getFileName().toString();
        Path tmp = parent.resolve(name + ".tmp-" + ProcessHandle.current().pid());
        Path old = parent.resolve(name + ".old-" + ProcessHandle.current().pid());
        try {
            deleteTree(tmp);
            Files.createDirectories(tmp);
            params.writeModel(tmp, Map.of("producer", "msts lm train", "step", Long.toString(step)));
            Map<String, Tensor> opt = new LinkedHashMap<>();
            for (LmParams.Slot s : params.slots()) {
                opt.put("m." + s.name(), slice(adam.m(), s));
                opt.put("v." + s.name(), slice(adam.v(), s));
            }
            SafeTensors.write(tmp.resolve(OPTIMIZER), opt, Map.of("step", Long.toString(step)));
            ObjectNode st = JSON.createObjectNode();
            st.put("step", step);
            st.put("tokens_seen", step * cfg.batch() * (long) data.context());
            st.set("train", configJson(cfg));
            ObjectNode d = st.putObject("data");
            d.put("rows", data.rows());
            d.put("context", data.context());
            d.put("next_row_position", step * cfg.batch());
            if (data.weighted()) d.put("loss_weight_sum", data.weightSum());
            ArrayNode h = st.putArray("loss_history");
            for (double x : history) h.add(x);
            Files.writeString(tmp.resolve(STATE), JSON.writeValueAsString(st));
            if (tokenizer != null) Files.copy(tokenizer, tmp.resolve("tokenizer.json"), StandardCopyOption.REPLACE_EXISTING);
            if (summary != null) Files.writeString(tmp.resolve(SUMMARY), JSON.writeValueAsString(summaryJson(summary, params.config())));
            deleteTree(old);
            if (Files.exists(out)) Files.move(out, old, StandardCopyOption.ATOMIC_MOVE);
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE);
            deleteTree(old);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the checkpoint " + out + ": " + e.getMessage(), e);
        }
    }

    private ObjectNode summaryJson(Result r, Gemma2Config c) {
        ObjectNode o = JSON.createObjectNode();
        o.put("steps", r.step());
        o.put("tokens_seen", r.tokensSeen());
        o.put("final_train_loss", r.finalLoss());
        o.put("last_step_loss", r.lastLoss());
        if (Double.isFinite(r.heldOutLoss())) o.put("held_out_loss", r.heldOutLoss()); else o.putNull("held_out_loss");
        o.put("held_out_tokens", r.heldOutTokens());
        o.put("seconds_this_run", r.seconds());
        o.put("tokens_per_second", r.tokensPerSecond());
        o.put("parameters", r.parameters());
        o.set("train", configJson(cfg));
        return o;
    }

    static ObjectNode configJson(LmTrainConfig c) {
        ObjectNode o = JSON.createObjectNode();
        o.put("steps", c.steps());
        o.put("batch", c.batch());
        o.put("lr", c.lr());
        o.put("warmup", c.warmup());
        o.put("weight_decay", c.weightDecay());
        o.put("beta1", c.beta1());
        o.put("beta2", c.beta2());
        o.put("adam_eps", c.adamEps());
        o.put("clip", c.clip());
        o.put("seed", c.seed());
        o.put("init_std", c.initStd());
        o.put("checkpoint_every", c.checkpointEvery());
        return o;
    }

    static LmTrainConfig configFrom(JsonNode o) {
        return new LmTrainConfig(o.get("steps").asInt(), o.get("batch").asInt(), (float) o.get("lr").asDouble(),
                o.get("warmup").asInt(), (float) o.get("weight_decay").asDouble(), (float) o.get("beta1").asDouble(),
                (float) o.get("beta2").asDouble(), (float) o.get("adam_eps").asDouble(), (float) o.get("clip").asDouble(),
                o.get("seed").asLong(), (float) o.get("init_std").asDouble(), o.get("checkpoint_every").asInt());
    }

    private static Tensor slice(float[] a, LmParams.Slot s) {
        Tensor t = Tensor.allocate(DType.F32, longs(s.shape()));
        for (int i = 0; i < s.size(); i++) t.set(i, a[s.offset() + i]);
        return t;
    }

    private static void copy(Tensor t, float[] dst, int off, int n) {
        for (int i = 0; i < n; i++) dst[off + i] = t.get(i);
    }

    private static long[] longs(int[] s) {
        long[] l = new long[s.length];
        for (int i = 0; i < s.length; i++) l[i] = s[i];
        return l;
    }

    private static JsonNode readJson(Path p) {
        try {
            return JSON.readTree(p.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException(p + ": " + e.getMessage(), e);
        }
    }

    /**
     * Whether {@code out} can take this run, checked before any work: a new run needs it absent or an empty
     * directory, a resumed one needs its trainer state.
     */
    public static void checkOut(Path out, boolean resume) {
        if (resume && !Files.isRegularFile(out.resolve(STATE)))
            throw new IllegalArgumentException(out + ": no " + STATE + " to resume from");
        if (!resume && Files.exists(out) && !isEmptyDir(out))
            throw new IllegalArgumentException(out + " exists; choose a new --out or continue it with --resume");
    }

    private static boolean isEmptyDir(Path p) {
        if (!Files.isDirectory(p)) return false;
        try (Stream<Path> s = Files.list(p)) {
            return s.findAny().isEmpty();
        } catch (IOException e) {
            return false;
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            for (Path x : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(x);
        }
    }
}
