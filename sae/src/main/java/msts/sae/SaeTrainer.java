package msts.sae;

import msts.data.BatchSource;
import msts.engine.Ops;
import msts.engine.backend.Backend;
import msts.engine.util.Progress;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * Trains one SAE on a {@link BatchSource} (docs/sae.md, "Training"). The trainer only loops: per step it
 * fills and scales the batch, asks the {@link Schedule} for LR and λ, runs one {@link TrainStep} (the
 * backend's {@link TrainStepFactory} when it offers one for this configuration, else {@link CpuTrainStep}),
 * and does the same bookkeeping for either: divergence check, {@link FiringTracker}, {@link MetricsWindow},
 * progress, {@link Checkpoint}s. At the end it exports the SAE (scaling folded) and summary.json.
 *
 * Output directory layout: {@code cfg.json} + {@code sae_weights.safetensors} (final SAE, scaling folded),
 * {@code summary.json}, and {@code checkpoint/} (see {@link Checkpoint}) for --resume.
 */
public final class SaeTrainer {
    private final SaeConfig cfg;
    private final TrainConfig tc;
    private final Backend backend;
    private final Ops ops;
    private final Path out;
    private SaeParams p, m, v;
    private AbstractSae sae;
    private FiringTracker firing;
    private long step;
    private float scale = 1f;
    private boolean quiet;
    private double[] stepTimes;
    private String stepsOn = "cpu";

    /** out: the run's directory (null: nothing written). The backend's ops compute; its TrainStepFactory, if any, runs the steps. */
    public SaeTrainer(SaeConfig cfg, TrainConfig tc, Backend backend, Path out) {
        if (!SaeRegistry.entry(cfg).trainable())
            throw new IllegalArgumentException("the " + cfg.architecture() + " architecture can be loaded but not trained");
        this.cfg = cfg;
        this.tc = tc;
        this.backend = backend;
        this.ops = backend.ops();
        this.out = out;
    }

    /** Records the wall time of each step of this run (seconds) into times[i] for the i-th step (benchmarks). */
    public SaeTrainer recordStepTimes(double[] times) {
        this.stepTimes = times;
        return this;
    }

    public SaeTrainer quiet(boolean q) {
        this.quiet = q;
        return this;
    }

    /** Parameters in training (scaled) space. */
    public SaeParams params() { return p; }

    public float scalingFactor() { return scale; }

    /** The SAE being trained (training space; null before {@link #train}). */
    public AbstractSae sae() { return sae; }

    public long step() { return step; }

    /** The trained SAE for raw activations (scaling folded into the weights). */
    public AbstractSae exportSae() {
        return (sae != null ? sae : SaeRegistry.create(cfg, p, ops)).forInference(exportConfig(), SaeIO.foldScaling(p, scale));
    }

    private SaeConfig exportConfig() {
        // folded: the exported SAE takes raw activations
        return cfg.toBuilder().scalingFactor(scale).normalizeActivations("none").build();
    }

    /** The backend's step for this run, or the CPU step (with a warning when the backend's cannot run cfg). */
    private TrainStep openStep(AbstractSae sae, Adam adam, int nSeq, int T, int lossStart) {
        var factory = backend.extension(TrainStepFactory.class);
        if (factory.isPresent()) {
            String why = factory.get().unsupported(cfg, tc);
            if (why == null) {
                stepsOn = backend.name();
                return factory.get().create(cfg, tc, nSeq, T, lossStart, p, m, v, step, sae, firing);
            }
            System.err.println("warning: " + backend.name() + " training steps do not support " + why
                    + "; this run trains on the CPU loop (backend ops " + ops.name() + ")");
        }
        stepsOn = "cpu";
        return new CpuTrainStep(sae, tc, adam, firing, nSeq, T, lossStart, step);
    }

    /** Runs (or, with resume, continues) training to tc.totalTokens and writes the outputs when out != null. */
    public TrainResult train(BatchSource src, boolean resume) throws IOException {
        if (src.dIn() != cfg.dIn()) throw new IllegalArgumentException("activations have d_in " + src.dIn() + ", the SAE expects " + cfg.dIn());
        if (cfg.temporal() && src.seqLen() < 2)
            throw new IllegalArgumentException("the temporal SAE needs whole-sequence batches (seqLen " + src.seqLen() + ")");
        int perStep = src.countedRows();
        long steps = tc.steps(perStep);
        int N = src.rows(), nSeq = src.nSeq(), T = src.seqLen(), lossStart = src.lossStart();
        long checkpointStep = -1;
        Checkpoint.State saved = resume && out != null ? Checkpoint.load(out, cfg) : null;
        long[] sinceFired;
        Map<String, ?> saeState = Map.of();
        if (saved != null) {
            saeState = saved.saeState();
            step = saved.step();
            scale = saved.scale();
            p = saved.p();
            m = saved.m();
            v = saved.v();
            sinceFired = saved.sinceFired();
            checkpointStep = step;
        } else {
            scale = tc.normalize() ? estimateScaling(src) : 1f;
            p = SaeParams.init(cfg, tc.seed());
            if (tc.initEncoderBias() != 0f) Arrays.fill(p.b_enc, tc.initEncoderBias());
            m = p.zerosLike();
            v = p.zerosLike();
            sinceFired = new long[cfg.dSae()];
            step = 0;
        }
        firing = new FiringTracker(sinceFired, tc.deadAfterTokens());
        // JumpReLU: λ of L0 with SAELens' default l0_warm_up_steps = 0 unless --l1-warmup sets one
        TrainConfig sched = cfg.activation() == Activation.JUMPRELU && tc.l1WarmupSteps() < 0 ? tc.toBuilder().l1WarmupSteps(0).build() : tc;
        Schedule schedule = new Schedule(sched, cfg.sparsityCoefficient(), steps);
        MetricsWindow window = new MetricsWindow();
        sae = SaeRegistry.create(cfg, p, ops);
        sae.restoreTrainingState(saeState);
        float[] x = new float[N * cfg.dIn()];
        long startStep = step;
        long t0 = System.nanoTime();
        try (TrainStep stepper = openStep(sae, new Adam(tc, m, v), nSeq, T, lossStart);
             Progress progress = new Progress("train " + cfg.architecture(), steps * perStep, "tok", System.err,
                     quiet || Progress.quietByDefault())) {
            final double[] shown = new double[5];
            final boolean[] any = {false};
            progress.metrics(() -> !any[0] ? "" : String.format(Locale.ROOT,
                    "loss %.4g mse %.4g L0 %.1f EV %.3f dead %d", shown[0], shown[1], shown[2], shown[3], (int) shown[4]));
            progress.set(step * perStep);
            long stopAt = tc.maxStepsThisRun() > 0 ? Math.min(steps, startStep + tc.maxStepsThisRun()) : steps;
            for (; step < stopAt; step++) {
                long ts = System.nanoTime();
                src.fill(step, x);
                if (scale != 1f) {
                    float s = scale;
                    Par.forRange(0, x.length, 1 << 16, (lo, hi) -> SaeKernels.scale(x, s, lo, hi));
                }
                TrainStep.Metrics r;
                try {
                    r = stepper.step(x, schedule.lr(step), schedule.l1(step));
                } catch (TrainStep.NonFinite e) {
                    throw diverged(e.getMessage(), checkpointStep);
                }
                if (!Double.isFinite(r.loss())) throw diverged("loss is " + r.loss(), checkpointStep);
                double ev = Double.isNaN(r.explainedVariance())
                        ? 1 - r.mse() * perStep / AbstractSae.totalVariance(x, N, cfg.dIn(), T, lossStart)
                        : r.explainedVariance();
                firing.update(r.fireCount(), perStep);
                if (stepTimes != null && step - startStep < stepTimes.length) stepTimes[(int) (step - startStep)] = (System.nanoTime() - ts) / 1e9;
                window.add(r, ev);
                shown[0] = r.loss();
                shown[1] = r.mse();
                shown[2] = r.l0();
                shown[3] = ev;
                shown[4] = firing.dead();
                any[0] = true;
                progress.set((step + 1) * perStep);
                if (out != null && tc.checkpointEvery() > 0 && (step + 1) % tc.checkpointEvery() == 0 && step + 1 < steps) {
                    stepper.syncTo(p, m, v);
                    writeCheckpoint(step + 1);
                    checkpointStep = step + 1;
                }
            }
            stepper.syncTo(p, m, v);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long tokensThisRun = (step - startStep) * perStep;
        TrainResult result = new TrainResult(cfg.architecture(), cfg.activation(), cfg.dIn(), cfg.dSae(), steps,
                steps * perStep, perStep, tokensThisRun, seconds, seconds > 0 ? tokensThisRun / seconds : 0, ops.name(),
                stepsOn, scale, window.averages(), firing.dead(), tc.deadAfterTokens(),
                firing.silentFor(Math.min(tc.deadAfterTokens(), steps * perStep)), exportConfig(), tc, step >= steps);
        if (out != null) {
            writeCheckpoint(step);
            if (step < steps) return result;
            exportSae().save(out);
            SaeIO.writeJson(out.resolve("summary.json"), result.toMap());
        }
        return result;
    }

    private void writeCheckpoint(long atStep) throws IOException {
        Checkpoint.write(out, new Checkpoint.State(atStep, scale, firing.sinceFired(), p, m, v, sae.trainingState()), cfg, tc, exportSae());
    }

    private TrainingDivergedException diverged(String what, long checkpointStep) {
        String where = out == null ? "" : checkpointStep >= 0
                ? "; the last good checkpoint (step " + checkpointStep + ") is kept in " + out.resolve("checkpoint")
                : "; no checkpoint had been written yet";
        return new TrainingDivergedException(what + " at step " + step + " (after " + step + " optimiser steps): training stopped"
                + where + ". Try a lower --lr, gradient clipping (--clip), or check the activations for NaN/Inf.");
    }

    /** s = sqrt(d_in) / mean‖x‖ over the counted rows of the first batches (SAELens' estimate). */
    float estimateScaling(BatchSource src) {
        float[] x = new float[src.rows() * src.dIn()];
        double sum = 0;
        long n = 0;
        int T = src.seqLen(), d = src.dIn();
        for (int b = 0; b < Math.max(1, tc.scalingBatches()); b++) {
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
}
