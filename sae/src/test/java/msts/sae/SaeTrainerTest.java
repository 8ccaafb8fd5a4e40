package msts.sae;
import msts.engine.backend.Backends;
import msts.data.StoreBatches;
import msts.data.BatchSource;

import msts.engine.Ops;
import msts.engine.backend.Backend;
import msts.data.ActivationSource;
import msts.data.ActivationSources;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class SaeTrainerTest {
    static final int D = 16, CTX = 12, NSEQ = 48, FEATS = 24;

    /** Sparse synthetic activations: each token is a sum of ~3 of FEATS random unit directions plus an offset. */
    static ActivationSource synthetic(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] dirs = new float[FEATS * D];
        for (int i = 0; i < FEATS; i++) {
            double ss = 0;
            for (int c = 0; c < D; c++) {
                double v = SaeParams.gaussian(r);
                dirs[i * D + c] = (float) v;
                ss += v * v;
            }
            for (int c = 0; c < D; c++) dirs[i * D + c] /= (float) Math.sqrt(ss);
        }
        float[] x = new float[NSEQ * CTX * D];
        for (int t = 0; t < NSEQ * CTX; t++) {
            for (int c = 0; c < D; c++) x[t * D + c] = 0.5f;
            for (int q = 0; q < 3; q++) {
                int f = r.nextInt(FEATS);
                float a = (float) (1 + 2 * r.nextDouble());
                for (int c = 0; c < D; c++) x[t * D + c] += a * dirs[f * D + c];
            }
        }
        return ActivationSources.inMemory(x, NSEQ, CTX, D);
    }

    static SaeConfig.Builder builder(String arch, String act) {
        return SaeConfig.builder().dIn(D).dSae(32).architecture(arch).activation(act).k(4).l1Coefficient(0.5f).dilations(1, 2, 4);
    }

    static SaeConfig cfg(String arch, String act) {
        return builder(arch, act).build();
    }

    static TrainConfig.Builder tc(long tokens) {
        return TrainConfig.builder().totalTokens(tokens).lr(3e-3f).seed(7).deadAfterTokens(2000);
    }

    static final Backend REF = Backends.reference();

    static BatchSource batches(SaeConfig c, ActivationSource src) {
        return new StoreBatches(src, c.temporal(), 96, false, 3);
    }

    @Test
    void everyVariantLearnsTheSyntheticDictionary() throws Exception {
        ActivationSource src = synthetic(1);
        for (String[] v : new String[][]{{"standard", "relu"}, {"topk", "topk"}, {"temporal", "relu"}, {"temporal", "topk"}}) {
            SaeConfig c = builder(v[0], v[1]).sepWeight(v[0].equals("temporal") ? 0.1f : 0f).build();
            SaeTrainer tr = new SaeTrainer(c, tc(40_000).build(), REF, null).quiet(true);
            TrainResult s = tr.train(batches(c, src), false);
            double ev = s.fin().explainedVariance();
            assertTrue(ev > 0.8, v[0] + "/" + v[1] + ": explained variance " + ev);
            assertTrue(s.fin().l0() < 16, v[0] + "/" + v[1] + ": L0 " + s.fin().l0());
        }
    }

    @Test
    void sameSeedGivesIdenticalWeights() throws Exception {
        ActivationSource src = synthetic(2);
        for (String arch : new String[]{"standard", "temporal"}) {
            SaeConfig c = builder(arch, "relu").sepWeight(0.2f).build();
            SaeTrainer a = new SaeTrainer(c, tc(5000).build(), REF, null).quiet(true);
            SaeTrainer b = new SaeTrainer(c, tc(5000).build(), REF, null).quiet(true);
            a.train(batches(c, src), false);
            b.train(batches(c, src), false);
            float[][] pa = a.params().arrays(), pb = b.params().arrays();
            for (int i = 0; i < pa.length; i++) assertArrayEquals(pa[i], pb[i], SaeParams.NAMES[i]);
        }
    }

    @Test
    void resumeFromCheckpointGivesIdenticalWeights(@TempDir Path dir) throws Exception {
        ActivationSource src = synthetic(3);
        for (String[] v : new String[][]{{"topk", "topk"}, {"temporal", "relu"}}) {
            SaeConfig c = builder(v[0], v[1]).sepWeight(0.1f).sepForm(SepForm.SAMPLED).sepPairs(50).build();
            TrainConfig t = tc(8000).checkpointEvery(10).build();
            Path oneGo = dir.resolve(v[0] + "-one"), split = dir.resolve(v[0] + "-split");
            SaeTrainer full = new SaeTrainer(c, t, REF, oneGo).quiet(true);
            full.train(batches(c, src), false);
            TrainConfig half = tc(8000).checkpointEvery(10).maxStepsThisRun(full.step() / 2).build();
            TrainResult s1 = new SaeTrainer(c, half, REF, split).quiet(true).train(batches(c, src), false);
            assertEquals(false, s1.complete());
            assertFalse(Files.exists(split.resolve("summary.json")));
            SaeTrainer resumed = new SaeTrainer(c, t, REF, split).quiet(true);
            resumed.train(batches(c, src), true);
            assertEquals(full.step(), resumed.step());
            float[][] pa = full.params().arrays(), pb = resumed.params().arrays();
            for (int i = 0; i < pa.length; i++) assertArrayEquals(pa[i], pb[i], v[0] + " " + SaeParams.NAMES[i]);
            assertTrue(Files.isRegularFile(split.resolve("summary.json")));
            // the exported SAE of both runs is byte-identical
            assertArrayEquals(Files.readAllBytes(oneGo.resolve("sae_weights.safetensors")),
                    Files.readAllBytes(split.resolve("sae_weights.safetensors")));
        }
    }

    @Test
    void nanLossStopsAndKeepsLastGoodCheckpoint(@TempDir Path dir) throws Exception {
        ActivationSource good = synthetic(4);
        SaeConfig c = cfg("standard", "relu");
        BatchSource inner = batches(c, good);
        BatchSource poisoned = new BatchSource() {
            public int dIn() { return inner.dIn(); }
            public int seqLen() { return inner.seqLen(); }
            public int lossStart() { return inner.lossStart(); }
            public int rows() { return inner.rows(); }
            public void fill(long index, float[] x) {
                inner.fill(index, x);
                if (index == 13) x[5] = Float.NaN;
            }
        };
        TrainConfig t = tc(96 * 30).checkpointEvery(5).build();
        SaeTrainer tr = new SaeTrainer(c, t, REF, dir).quiet(true);
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> tr.train(poisoned, false));
        assertTrue(e.getMessage().contains("step 13"), e.getMessage());
        assertTrue(e.getMessage().contains("step 10"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("summary.json")));
        Sae kept = SaeIO.load(dir.resolve("checkpoint"), Ops.reference());
        for (float w : kept.decoderWeights()) assertTrue(Float.isFinite(w));
        // and the run can be resumed from it (with clean data it completes)
        TrainResult s = new SaeTrainer(c, t, REF, dir).quiet(true).train(inner, true);
        assertEquals(true, s.complete());
    }

    @Test
    void scheduleShapes() {
        TrainConfig t = TrainConfig.builder().lr(1f).lrWarmupSteps(10).lrDecayFraction(0.2f).l1WarmupSteps(4).build();
        Schedule sch = new Schedule(t, 2f, 100);
        assertEquals(0.1f, sch.lr(0), 1e-6);
        assertEquals(1f, sch.lr(50), 1e-6);
        assertEquals(0.5f, sch.lr(90), 1e-6);
        assertEquals(0.05f, sch.lr(99), 1e-6);
        assertEquals(0.5f, sch.l1(0), 1e-6);
        assertEquals(2f, sch.l1(10), 1e-6);
    }
}
