package msts.sae;
import msts.data.BatchSource;

import msts.engine.Ops;
import msts.engine.Tensor;
import msts.engine.util.Progress;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Trains one SAE with Adam on a {@link BatchSource} (docs/sae.md, "Training"): activation scaling,
 * LR warm-up + linear decay, L1 warm-up, optional gradient clipping, unit-norm decoder handling,
 * dead-latent tracking, atomic checkpoints with optimiser state (resume gives bit-identical weights),
 * NaN/Inf detection, and the final SAELens-layout export + summary.json.
 *
 * Output directory layout: {@code cfg.json} + {@code sae_weights.safetensors} (final SAE, scaling folded),
 * {@code summary.json}, and {@code checkpoint/} (the same two SAE files for that step plus
 * {@code training_state.safetensors} and {@code trainer_state.json} for --resume).
 */
public final class SaeTrainer {
    private final SaeConfig cfg;
    private final TrainConfig tc;
    private final Ops ops;
    private final Path out;
    private SaeParams p, m, v, g;
    private long[] sinceFired;
    private long step;
    private float scale = 1f;
    private boolean quiet;
    private final double[] ring = new double[7 * 50];
    private int ringN;

    public SaeTrainer(SaeConfig cfg, TrainConfig tc, Ops ops, Path out) {
        cfg.validate();
        this.cfg = cfg;
        this.tc = tc;
        this.ops = ops;
        this.out = out;
    }

    private double[] stepTimes;

    /** Records the wall time of each step of this run (seconds) into times[i] for the i-th step (benchmarks). */
    public SaeTrainer recordStepTimes(double[] times) {
        this.stepTimes = times;
        return this;
    }

    private String backend, device;
    private String stepsOn = "cpu";

    /**
     * Runs the steps on backend {@code name} (a registered {@link TrainStepProvider}, e.g. "tornado"; null/"cpu" =
     * this class's own loop) on {@code device} ("B:D" or null). Configurations the backend does not support
     * (see {@link TrainStepProvider#unsupported}) train on the CPU loop, with a one-line warning on stderr.
     */
    public SaeTrainer backend(String name, String device) {
        this.backend = name;
        this.device = device;
        return this;
    }

    /** The step executor for this run, or null for the CPU loop. */
    private TrainStep openStep(int nSeq, int T, int lossStart) {
        if (backend == null || backend.equalsIgnoreCase("cpu")) return null;
        TrainStepProvider prov = null;
        for (TrainStepProvider tp : java.util.ServiceLoader.load(TrainStepProvider.class))
            if (tp.name().equalsIgnoreCase(backend)) prov = tp;
        if (prov == null) return null; // the backend's Ops (if any) still run inside the CPU loop
        String why = prov.unsupported(cfg, tc);
        if (why != null) {
            System.err.println("warning: " + backend + " training steps do not support " + why
                    + "; this run trains on the CPU loop (backend ops " + ops.name() + ")");
            return null;
        }
        TrainStep ts = prov.create(cfg, tc, nSeq, T, lossStart, p, m, v, step, device);
        stepsOn = prov.name();
        return ts;
    }

    public SaeTrainer quiet(boolean q) {
        this.quiet = q;
        return this;
    }

    /** Parameters in training (scaled) space. */
    public SaeParams params() { return p; }

    public float scalingFactor() { return scale; }

    public long step() { return step; }

    /** The trained SAE for raw activations (scaling folded into the weights). */
    public AbstractSae exportSae() {
        SaeConfig c = exportConfig();
        return SaeIO.of(c, SaeIO.foldScaling(p, scale), null, ops);
    }

    private SaeConfig exportConfig() {
        SaeConfig c = cfg.copy();
        c.scalingFactor = scale;
        c.normalizeActivations = "none"; // folded: the exported SAE takes raw activations
        return c;
    }

    /** Linear warm-up, then constant, then linear decay to 0 over the last lrDecayFraction of the steps. */
    static float lrAt(TrainConfig tc, long step, long steps) {
        int warm = tc.lrWarmupSteps >= 0 ? tc.lrWarmupSteps : (int) Math.min(1000, steps / 10);
        double f = warm > 0 ? Math.min(1.0, (step + 1.0) / warm) : 1.0;
        long decayStart = steps - (long) Math.floor(steps * (double) tc.lrDecayFraction);
        if (step >= decayStart && steps > decayStart) f *= (double) (steps - step) / (steps - decayStart);
        return (float) (tc.lr * f);
    }

    static float l1At(SaeConfig cfg, TrainConfig tc, long step, long steps) {
        long warm = tc.l1WarmupSteps >= 0 ? tc.l1WarmupSteps : steps / 20;
        return (float) (cfg.l1Coefficient * (warm > 0 ? Math.min(1.0, (step + 1.0) / warm) : 1.0));
    }

    /**
     * Runs (or, with resume, continues) training to tc.totalTokens and writes the outputs when out != null.
     * Returns the summary (also written as summary.json).
     */
    public Map<String, Object> train(BatchSource src, boolean resume) throws IOException {
        if (src.dIn() != cfg.dIn) throw new IllegalArgumentException("activations have d_in " + src.dIn() + ", the SAE expects " + cfg.dIn);
        if (cfg.temporal() && src.seqLen() < 2)
            throw new IllegalArgumentException("the temporal SAE needs whole-sequence batches (seqLen " + src.seqLen() + ")");
        int perStep = src.countedRows();
        long steps = tc.steps(perStep);
        int N = src.rows(), nSeq = src.nSeq(), T = src.seqLen(), lossStart = src.lossStart();
        long checkpointStep = -1;
        if (resume && out != null && loadCheckpoint()) {
            checkpointStep = step;
        } else {
            scale = tc.normalize ? estimateScaling(src) : 1f;
            p = SaeParams.init(cfg, tc.seed);
            if (tc.initEncoderBias != 0f) java.util.Arrays.fill(p.b_enc, tc.initEncoderBias);
            m = p.zerosLike();
            v = p.zerosLike();
            sinceFired = new long[cfg.dSae];
            step = 0;
        }
        g = p.zerosLike();
        SaeLoss loss = new SaeLoss(cfg, ops);
        float[] x = new float[N * cfg.dIn];
        boolean[] dead = new boolean[cfg.dSae];
        long startStep = step;
        long t0 = System.nanoTime();
        SaeLoss.Result last = null;
        TrainStep dev = openStep(nSeq, T, lossStart);
        try (dev; Progress progress = new Progress("train " + cfg.architecture, steps * perStep, "tok", System.err,
                quiet || Progress.quietByDefault())) {
            final SaeLoss.Result[] shown = new SaeLoss.Result[1];
            progress.metrics(() -> shown[0] == null ? "" : String.format(Locale.ROOT,
                    "loss %.4g mse %.4g L0 %.1f EV %.3f dead %d", shown[0].loss, shown[0].mse, shown[0].l0,
                    shown[0].explainedVariance, shown[0].deadLatents));
            progress.set(step * perStep);
            long stopAt = tc.maxStepsThisRun > 0 ? Math.min(steps, startStep + tc.maxStepsThisRun) : steps;
            for (; step < stopAt; step++) {
                long ts = System.nanoTime();
                src.fill(step, x);
                if (scale != 1f) {
                    float s = scale;
                    Par.forRange(0, x.length, 1 << 16, (lo, hi) -> SaeKernels.scale(x, s, lo, hi));
                }
                for (int j = 0; j < cfg.dSae; j++) dead[j] = sinceFired[j] >= tc.deadAfterTokens;
                float l1 = l1At(cfg, tc, step, steps);
                if (dev != null) { // the whole step on the backend; parameters stay there until a checkpoint
                    TrainStep.Metrics dm = dev.step(x, lrAt(tc, step, steps), l1);
                    SaeLoss.Result r = new SaeLoss.Result();
                    r.mse = dm.mse();
                    r.l1 = dm.l1();
                    r.l0 = dm.l0();
                    r.loss = dm.mse() + dm.l1();
                    r.countedRows = perStep;
                    r.explainedVariance = 1 - dm.mse() * perStep / SaeLoss.totalVariance(x, N, cfg.dIn, T, lossStart);
                    if (!Double.isFinite(r.loss)) diverged("loss is " + r.loss, checkpointStep);
                    int[] fired = dm.fireCount();
                    for (int j = 0; j < cfg.dSae; j++) sinceFired[j] = fired[j] > 0 ? 0 : sinceFired[j] + perStep;
                    if (stepTimes != null && step - startStep < stepTimes.length) stepTimes[(int) (step - startStep)] = (System.nanoTime() - ts) / 1e9;
                    record(r);
                    last = r;
                    shown[0] = r;
                    progress.set((step + 1) * perStep);
                    if (out != null && tc.checkpointEvery > 0 && (step + 1) % tc.checkpointEvery == 0 && step + 1 < steps) {
                        dev.syncTo(p, m, v);
                        step++;
                        writeCheckpoint();
                        checkpointStep = step;
                        step--;
                    }
                    continue;
                }
                SaeLoss.Result r = loss.compute(p, x, nSeq, T, lossStart, l1, cfg.topk() ? dead : null, g, sepSeed(step));
                if (!Double.isFinite(r.loss)) diverged("loss is " + r.loss, checkpointStep);
                if (cfg.unitNorm()) Par.rows(cfg.dSae, 64, (lo, hi) -> SaeKernels.projectOutParallel(g.W_dec, p.W_dec, cfg.dIn, lo, hi));
                double gn = Math.sqrt(sumSq(g));
                if (!Double.isFinite(gn)) diverged("gradient norm is " + gn, checkpointStep);
                if (tc.clipNorm > 0 && gn > tc.clipNorm) {
                    float s = (float) (tc.clipNorm / gn);
                    for (float[] a : g.arrays()) Par.forRange(0, a.length, 1 << 16, (lo, hi) -> SaeKernels.scale(a, s, lo, hi));
                }
                adamStep(lrAt(tc, step, steps), step + 1);
                if (cfg.unitNorm()) Par.rows(cfg.dSae, 64, (lo, hi) -> SaeKernels.normalizeRows(p.W_dec, cfg.dIn, lo, hi));
                int[] fired = loss.fireCount();
                for (int j = 0; j < cfg.dSae; j++) sinceFired[j] = fired[j] > 0 ? 0 : sinceFired[j] + perStep;
                if (stepTimes != null && step - startStep < stepTimes.length) stepTimes[(int) (step - startStep)] = (System.nanoTime() - ts) / 1e9;
                record(r);
                last = r;
                shown[0] = r;
                progress.set((step + 1) * perStep);
                if (out != null && tc.checkpointEvery > 0 && (step + 1) % tc.checkpointEvery == 0 && step + 1 < steps) {
                    step++;
                    writeCheckpoint();
                    checkpointStep = step;
                    step--;
                }
            }
            if (dev != null) dev.syncTo(p, m, v);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long tokensThisRun = (step - startStep) * perStep;
        Map<String, Object> summary = summary(steps, perStep, tokensThisRun, seconds, last);
        summary.put("complete", step >= steps);
        if (out != null) {
            writeCheckpoint();
            if (step < steps) return summary;
            SaeIO.save(out, exportConfig(), SaeIO.foldScaling(p, scale), null);
            SaeIO.writeJson(out.resolve("summary.json"), summary);
        }
        return summary;
    }

    private long sepSeed(long step) {
        return tc.seed * 0x9E3779B97F4A7C15L + step;
    }

    private void diverged(String what, long checkpointStep) {
        String where = out == null ? "" : checkpointStep >= 0
                ? "; the last good checkpoint (step " + checkpointStep + ") is kept in " + out.resolve("checkpoint")
                : "; no checkpoint had been written yet";
        throw new TrainingDivergedException(what + " at step " + step + " (after " + step + " optimiser steps): training stopped"
                + where + ". Try a lower --lr, gradient clipping (--clip), or check the activations for NaN/Inf.");
    }

    private static double sumSq(SaeParams g) {
        double s = 0;
        for (float[] a : g.arrays()) {
            int chunk = 1 << 16, nc = (a.length + chunk - 1) / chunk;
            double[] part = new double[nc];
            Par.forRange(0, nc, 1, (lo, hi) -> {
                for (int c = lo; c < hi; c++) part[c] = SaeKernels.sumSq(a, c * chunk, Math.min(a.length, (c + 1) * chunk));
            });
            for (double v : part) s += v;
        }
        return s;
    }

    private void adamStep(float lr, long t) {
        float bc1 = (float) (1 - Math.pow(tc.beta1, t)), bc2 = (float) (1 - Math.pow(tc.beta2, t));
        float[][] pa = p.arrays(), ga = g.arrays(), ma = m.arrays(), va = v.arrays();
        for (int i = 0; i < pa.length; i++) {
            float[] pp = pa[i], gg = ga[i], mm = ma[i], vv = va[i];
            Par.forRange(0, pp.length, 1 << 15, (lo, hi) ->
                    SaeKernels.adam(pp, gg, mm, vv, lr, tc.beta1, tc.beta2, tc.adamEps, bc1, bc2, lo, hi));
        }
    }

    /** s = sqrt(d_in) / mean‖x‖ over the counted rows of the first batches (SAELens' estimate). */
    float estimateScaling(BatchSource src) {
        float[] x = new float[src.rows() * src.dIn()];
        double sum = 0;
        long n = 0;
        int T = src.seqLen(), d = src.dIn();
        for (int b = 0; b < Math.max(1, tc.scalingBatches); b++) {
            src.fill(b, x);
            for (int r = 0; r < src.rows(); r++) {
                if (r % T < src.lossStart()) continue;
                double ss = 0;
                for (int c = 0; c < d; c++) ss += (double) x[r * d + c] * x[r * d + c];
                sum += Math.sqrt(ss);
                n++;
            }
        }
        double mean = sum / n;
        if (!(mean > 0) || !Double.isFinite(mean)) throw new IllegalArgumentException("cannot normalise activations: mean norm is " + mean);
        return (float) (Math.sqrt(d) / mean);
    }

    private void record(SaeLoss.Result r) {
        int slot = ringN % 50;
        double[] vals = {r.loss, r.mse, r.l1, r.aux, r.sep, r.l0, r.explainedVariance};
        System.arraycopy(vals, 0, ring, slot * 7, 7);
        ringN++;
    }

    private Map<String, Object> summary(long steps, int perStep, long tokensThisRun, double seconds, SaeLoss.Result last) {
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("architecture", cfg.architecture);
        s.put("activation", cfg.act());
        s.put("d_in", cfg.dIn);
        s.put("d_sae", cfg.dSae);
        s.put("steps", steps);
        s.put("tokens", steps * perStep);
        s.put("tokens_per_step", perStep);
        s.put("tokens_this_run", tokensThisRun);
        s.put("seconds_this_run", seconds);
        s.put("tokens_per_second", seconds > 0 ? tokensThisRun / seconds : 0);
        s.put("ops", ops.name());
        s.put("steps_on", stepsOn);
        s.put("scaling_factor", scale);
        int n = Math.min(ringN, 50);
        String[] names = {"loss", "mse", "l1_loss", "auxk_loss", "sep_loss", "l0", "explained_variance"};
        Map<String, Object> fin = new LinkedHashMap<>();
        for (int k = 0; k < names.length; k++) {
            double acc = 0;
            for (int i = 0; i < n; i++) acc += ring[i * 7 + k];
            fin.put(names[k], n > 0 ? acc / n : null);
        }
        fin.put("averaged_over_steps", n);
        s.put("final", fin);
        int deadCount = 0;
        for (long f : sinceFired) if (f >= tc.deadAfterTokens) deadCount++;
        long neverFiredWindow = Math.min(tc.deadAfterTokens, steps * perStep);
        int quiet = 0;
        for (long f : sinceFired) if (f >= neverFiredWindow) quiet++;
        s.put("dead_latents", deadCount);
        s.put("dead_after_tokens", tc.deadAfterTokens);
        s.put("latents_silent_for_window", quiet);
        s.put("sae", exportConfig().toMap());
        s.put("train", tc.toMap());
        return s;
    }

    // ---- checkpoints ----

    private void writeCheckpoint() throws IOException {
        Path tmp = out.resolve("checkpoint.tmp");
        Path fin = out.resolve("checkpoint");
        Path old = out.resolve("checkpoint.old");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        SaeIO.save(tmp, exportConfig(), SaeIO.foldScaling(p, scale), null);
        Map<String, Tensor> st = new LinkedHashMap<>();
        String[] prefixes = {"param.", "adam_m.", "adam_v."};
        SaeParams[] sets = {p, m, v};
        for (int k = 0; k < 3; k++) {
            float[][] a = sets[k].arrays();
            for (int i = 0; i < a.length; i++)
                if (a[i].length > 0) st.put(prefixes[k] + SaeParams.NAMES[i], Tensor.of(a[i], sets[k].shape(i)));
        }
        SaeTensors.write(tmp.resolve("training_state.safetensors"), st, Map.of("step", Long.toString(step)));
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("step", step);
        state.put("scaling_factor", scale);
        state.put("tokens_since_fired", sinceFired);
        state.put("sae", cfg.toMap());
        state.put("train", tc.toMap());
        SaeIO.writeJson(tmp.resolve("trainer_state.json"), state);
        // swap in: checkpoint → checkpoint.old, tmp → checkpoint, drop old (a kill at any point leaves one complete copy)
        deleteTree(old);
        if (Files.exists(fin)) Files.move(fin, old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(tmp, fin, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(old);
    }

    @SuppressWarnings("unchecked")
    private boolean loadCheckpoint() throws IOException {
        Path dir = out.resolve("checkpoint");
        if (!Files.isRegularFile(dir.resolve("trainer_state.json"))) dir = out.resolve("checkpoint.old");
        if (!Files.isRegularFile(dir.resolve("trainer_state.json"))) return false;
        Map<String, Object> state = SaeIO.JSON.readValue(dir.resolve("trainer_state.json").toFile(), Map.class);
        SaeConfig saved = SaeConfig.fromMap((Map<String, Object>) state.get("sae"));
        if (saved.dIn != cfg.dIn || saved.dSae != cfg.dSae || !saved.architecture.equals(cfg.architecture) || saved.nScales() != cfg.nScales())
            throw new IllegalArgumentException("checkpoint in " + dir + " is a " + saved.architecture + " SAE " + saved.dIn + "→" + saved.dSae
                    + ", this run asks for " + cfg.architecture + " " + cfg.dIn + "→" + cfg.dSae);
        step = ((Number) state.get("step")).longValue();
        scale = ((Number) state.get("scaling_factor")).floatValue();
        List<Number> sf = (List<Number>) state.get("tokens_since_fired");
        sinceFired = new long[cfg.dSae];
        for (int j = 0; j < cfg.dSae; j++) sinceFired[j] = sf.get(j).longValue();
        Map<String, SaeTensors.Entry> t = SaeTensors.read(dir.resolve("training_state.safetensors"));
        p = new SaeParams(cfg.dIn, cfg.dSae, cfg.nScales());
        m = p.zerosLike();
        v = p.zerosLike();
        String[] prefixes = {"param.", "adam_m.", "adam_v."};
        SaeParams[] sets = {p, m, v};
        for (int k = 0; k < 3; k++) {
            float[][] a = sets[k].arrays();
            for (int i = 0; i < a.length; i++) {
                if (a[i].length == 0) continue;
                SaeTensors.Entry e = t.get(prefixes[k] + SaeParams.NAMES[i]);
                if (e == null || e.data().length != a[i].length)
                    throw new IOException(dir + ": training state lacks " + prefixes[k] + SaeParams.NAMES[i]);
                System.arraycopy(e.data(), 0, a[i], 0, a[i].length);
            }
        }
        return true;
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(q -> {
                try {
                    Files.delete(q);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
