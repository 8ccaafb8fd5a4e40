package msts.tornado;

import msts.engine.backend.Backends;
import static msts.tornado.Accel.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import msts.engine.Ops;
import msts.data.BatchSource;
import msts.engine.backend.Backend;
import msts.sae.SaeConfig;
import msts.sae.SaeTrainer;
import msts.sae.TrainConfig;
import msts.sae.TrainStepFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The training seam used by {@code msts train --backend tornado}: the trainer asks its Backend for a
 * {@link TrainStepFactory} ({@link PlanTrainStepFactory}) and runs the steps on {@link SaeTrainPlan}. After a few steps
 * (with a checkpoint in between, and a pause + resume that restores the Adam moments and step count) the
 * parameters and the summary metrics must match the CPU loop on the reference ops.
 */
class PlanTrainStepAccelTest {
    static final int D = 16, N_SEQ = 2, T = 8;

    @TempDir Path dir;

    @BeforeEach
    void device() { assumeDevice(); }

    /** Deterministic random batches (index-seeded), with a larger BOS row at position 0 of each sequence. */
    static BatchSource source() {
        return new BatchSource() {
            public int dIn() { return D; }
            public int seqLen() { return T; }
            public int lossStart() { return 1; }
            public int rows() { return N_SEQ * T; }
            public void fill(long index, float[] x) {
                Random r = new Random(1000 + index);
                for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian() * ((i / D) % T == 0 ? 5f : 1f);
            }
        };
    }

    static SaeConfig.Builder builder(String arch, String l1Mode) {
        return SaeConfig.builder().dIn(D).dSae(32).architecture(arch).k(4).l1Coefficient(0.5f).l1Mode(l1Mode).dilations(1, 2, 4);
    }

    static SaeConfig cfg(String arch, String l1Mode) {
        return builder(arch, l1Mode).build();
    }

    static TrainConfig.Builder tcb(int steps) {
        return TrainConfig.builder().totalTokens((long) steps * N_SEQ * (T - 1)).lr(3e-3f).seed(7).checkpointEvery(2);
    }

    static TrainConfig tc(int steps) {
        return tcb(steps).build();
    }

    /** The reference ops with the TornadoVM training step (as the tornado Backend offers it). */
    static final Backend TORNADO_STEPS = new Backend() {
        private final TrainStepFactory steps = new PlanTrainStepFactory(null);

        @Override public String name() { return "tornado"; }

        @Override public Ops ops() { return Ops.reference(); }

        @Override public <X> Optional<X> extension(Class<X> type) {
            return type == TrainStepFactory.class ? Optional.of(type.cast(steps)) : Optional.empty();
        }
    };

    static final Backend CPU = Backends.reference();

    private void same(String what, SaeTrainer got, SaeTrainer want, Map<String, Object> gs, Map<String, Object> ws) {
        String[] names = {"W_enc", "b_enc", "W_dec", "b_dec", "conv_w"};
        float[][] g = got.params().arrays(), w = want.params().arrays();
        for (int i = 0; i < names.length; i++)
            if (w[i].length > 0) check(what + " " + names[i], FloatArray.fromArray(g[i]), w[i], 1e-5);
        @SuppressWarnings("unchecked") Map<String, Object> gf = (Map<String, Object>) gs.get("final"), wf = (Map<String, Object>) ws.get("final");
        for (String k : new String[]{"loss", "mse", "l1_loss", "auxk_loss", "l0", "explained_variance"}) {
            double a = ((Number) gf.get(k)).doubleValue(), b = ((Number) wf.get(k)).doubleValue();
            check(what + " final " + k, FloatArray.fromArray(new float[]{(float) a}), new float[]{(float) b}, 1e-5);
        }
        assertEquals(ws.get("dead_latents"), gs.get("dead_latents"), what + " dead latents");
        assertEquals("tornado", gs.get("steps_on"));
    }

    @Test
    void theTornadoBackendOffersThePlanStep() {
        try (Backend b = msts.engine.backend.Backends.resolve("tornado", null)) {
            assertEquals(PlanTrainStepFactory.class, b.extension(TrainStepFactory.class).orElseThrow().getClass());
            assertEquals(TornadoOps.class, b.ops().getClass());
        }
    }

    @Test
    void reluDecoderNormMatchesCpu() throws Exception {
        SaeConfig c = cfg("standard", "decoder_norm");
        SaeTrainer cpu = new SaeTrainer(c, tc(5), CPU, dir.resolve("cpu")).quiet(true);
        var ws = cpu.train(source(), false).toMap();
        SaeTrainer dev = new SaeTrainer(c, tc(5), TORNADO_STEPS, dir.resolve("dev")).quiet(true);
        var gs = dev.train(source(), false).toMap();
        same("standard decoder_norm", dev, cpu, gs, ws);
    }

    @Test
    void temporalUnitNormPauseResumeMatchesCpu() throws Exception {
        SaeConfig c = cfg("temporal", "unit_norm");
        SaeTrainer cpu = new SaeTrainer(c, tc(4), CPU, dir.resolve("cpu")).quiet(true);
        var ws = cpu.train(source(), false).toMap();
        TrainConfig half = tcb(4).maxStepsThisRun(2).build();
        new SaeTrainer(c, half, TORNADO_STEPS, dir.resolve("dev")).quiet(true).train(source(), false);
        SaeTrainer dev = new SaeTrainer(c, tc(4), TORNADO_STEPS, dir.resolve("dev")).quiet(true);
        var gs = dev.train(source(), true).toMap();
        assertEquals(4L, dev.step());
        // the summary's ring covers only this run's steps after a resume: compare parameters, and metrics of a CPU run resumed the same way
        TrainConfig half2 = tcb(4).maxStepsThisRun(2).build();
        new SaeTrainer(c, half2, CPU, dir.resolve("cpu2")).quiet(true).train(source(), false);
        SaeTrainer cpu2 = new SaeTrainer(c, tc(4), CPU, dir.resolve("cpu2")).quiet(true);
        var ws2 = cpu2.train(source(), true).toMap();
        same("temporal unit_norm resumed", dev, cpu2, gs, ws2);
        String[] names = {"W_enc", "b_enc", "W_dec", "b_dec", "conv_w"};
        for (int i = 0; i < names.length; i++)
            check("temporal resumed vs one go " + names[i], FloatArray.fromArray(dev.params().arrays()[i]), cpu.params().arrays()[i], 1e-5);
    }

    /** The exact separation loss and gradient-norm clipping (both ported to the plan) against the CPU loop. */
    @Test
    void separationAndClippingMatchCpu() throws Exception {
        SaeConfig c = builder("temporal", "unit_norm").sepWeight(0.2f).sepMargin(0.05f).build();
        TrainConfig t = tcb(4).clipNorm(0.5f).build();
        SaeTrainer cpu = new SaeTrainer(c, t, CPU, dir.resolve("cpu")).quiet(true);
        var ws = cpu.train(source(), false).toMap();
        SaeTrainer dev = new SaeTrainer(c, t, TORNADO_STEPS, dir.resolve("dev")).quiet(true);
        var gs = dev.train(source(), false).toMap();
        System.out.println("[accel] sep+clip final: device " + gs.get("final") + " cpu " + ws.get("final"));
        same("temporal unit_norm sep+clip", dev, cpu, gs, ws);
        @SuppressWarnings("unchecked") Map<String, Object> gf = (Map<String, Object>) gs.get("final"), wf = (Map<String, Object>) ws.get("final");
        double sepGot = ((Number) gf.get("sep_loss")).doubleValue(), sepWant = ((Number) wf.get("sep_loss")).doubleValue();
        assertTrue(sepWant > 0, "the separation term is active");
        assertEquals(sepWant, sepGot, 1e-5 * (1 + sepWant), "sep_loss");
        // clipping changed the run: the same run without it ends elsewhere
        SaeTrainer noClip = new SaeTrainer(c, tc(4), CPU, dir.resolve("noclip")).quiet(true);
        noClip.train(source(), false);
        double diff = 0;
        for (int i = 0; i < 4; i++) {
            float[] a = noClip.params().arrays()[i], b = cpu.params().arrays()[i];
            for (int j = 0; j < a.length; j++) diff = Math.max(diff, Math.abs(a[j] - b[j]));
        }
        assertTrue(diff > 1e-4, "clipping at 0.5 was active (max parameter change vs. no clipping " + diff + ")");
    }

    /**
     * TopK and BatchTopK through the trainer (issue 14): the selection, the backward through the selected latents
     * and AuxK on the trainer's dead-latent mask (dead after one silent step, so AuxK is active from step 2), and
     * BatchTopK's inference threshold — parameters, summary metrics (incl. auxk_loss), dead count and threshold
     * vs the CPU loop from the same init; a pause + resume in between for BatchTopK (threshold and counters restored).
     */
    @org.junit.jupiter.params.ParameterizedTest(name = "{0} {1}")
    @org.junit.jupiter.params.provider.CsvSource({"topk, topk", "temporal, topk", "batchtopk, batchtopk", "temporal, batchtopk"})
    void topkAndBatchTopKMatchCpu(String arch, String act) throws Exception {
        SaeConfig c = builder(arch, "decoder_norm").activation(act).auxKCoefficient(0.5f).build();
        TrainConfig t = tcb(5).deadAfterTokens(N_SEQ * (T - 1)).build();
        SaeTrainer cpu = new SaeTrainer(c, t, CPU, dir.resolve("cpu")).quiet(true);
        var ws = cpu.train(source(), false).toMap();
        SaeTrainer dev;
        if (act.equals("batchtopk")) { // 2 steps, then resume (the threshold comes back from the checkpoint)
            new SaeTrainer(c, tcb(5).deadAfterTokens(N_SEQ * (T - 1)).maxStepsThisRun(2).build(), TORNADO_STEPS,
                    dir.resolve("dev")).quiet(true).train(source(), false);
            dev = new SaeTrainer(c, t, TORNADO_STEPS, dir.resolve("dev")).quiet(true);
            var gs = dev.train(source(), true).toMap();
            assertEquals("tornado", gs.get("steps_on"));
        } else {
            dev = new SaeTrainer(c, t, TORNADO_STEPS, dir.resolve("dev")).quiet(true);
            var gs = dev.train(source(), false).toMap();
            same(arch + " " + act, dev, cpu, gs, ws);
        }
        String[] names = {"W_enc", "b_enc", "W_dec", "b_dec", "conv_w"};
        for (int i = 0; i < names.length; i++)
            if (cpu.params().arrays()[i].length > 0)
                check(arch + " " + act + " " + names[i], FloatArray.fromArray(dev.params().arrays()[i]), cpu.params().arrays()[i], 1e-5);
        @SuppressWarnings("unchecked") Map<String, Object> wf = (Map<String, Object>) ws.get("final");
        assertTrue(((Number) wf.get("auxk_loss")).doubleValue() > 0, "AuxK was active in the CPU run");
        assertTrue(((Number) ws.get("dead_latents")).intValue() > 0, "some latents dead");
        if (act.equals("batchtopk")) {
            double want = ((Number) cpu.sae().trainingState().get("topk_threshold")).doubleValue();
            double got = ((Number) dev.sae().trainingState().get("topk_threshold")).doubleValue();
            System.out.printf("[accel] %s %s topk_threshold device %.9f cpu %.9f%n", arch, act, got, want);
            assertTrue(want > 0, "the threshold moved");
            assertEquals(want, got, 1e-6 * (1 + want), "BatchTopK threshold");
        }
    }

    @Test
    void unsupportedConfigsAreNamed() {
        TrainConfig t = tc(2);
        assertNull(PlanTrainStep.unsupported(cfg("temporal", "decoder_norm"), t));
        assertNull(PlanTrainStep.unsupported(cfg("topk", "decoder_norm"), t));
        assertNull(PlanTrainStep.unsupported(cfg("batchtopk", "decoder_norm"), t));
        assertNotNull(PlanTrainStep.unsupported(cfg("jumprelu", "decoder_norm"), t));
        // the exact separation loss and clipping run on the device; the sampled/coactive forms do not
        assertNull(PlanTrainStep.unsupported(builder("temporal", "decoder_norm").sepWeight(0.1f).build(), t));
        SaeConfig sampled = builder("temporal", "decoder_norm").sepWeight(0.1f).sepForm("sampled").build();
        assertNotNull(PlanTrainStep.unsupported(sampled, t));
        assertNull(PlanTrainStep.unsupported(cfg("standard", "decoder_norm"), tcb(2).clipNorm(1f).build()));
    }
}
