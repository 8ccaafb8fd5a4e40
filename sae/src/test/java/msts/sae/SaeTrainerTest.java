package msts.sae;
import msts.data.StoreBatches;
import msts.data.BatchSource;

import msts.engine.Ops;
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

    static SaeConfig cfg(String arch, String act) {
        SaeConfig c = new SaeConfig();
        c.dIn = D;
        c.dSae = 32;
        c.architecture = arch;
        c.activation = act;
        c.k = 4;
        c.l1Coefficient = 0.5f;
        c.dilations = new int[]{1, 2, 4};
        return c;
    }

    static TrainConfig tc(long tokens) {
        TrainConfig t = new TrainConfig();
        t.totalTokens = tokens;
        t.lr = 3e-3f;
        t.seed = 7;
        t.deadAfterTokens = 2000;
        return t;
    }

    static BatchSource batches(SaeConfig c, ActivationSource src) {
        return new StoreBatches(src, c.temporal(), 96, false, 3);
    }

    @Test
    void everyVariantLearnsTheSyntheticDictionary() throws Exception {
        ActivationSource src = synthetic(1);
        for (String[] v : new String[][]{{"relu", "relu"}, {"topk", "topk"}, {"temporal", "relu"}, {"temporal", "topk"}}) {
            SaeConfig c = cfg(v[0], v[1]);
            if (v[0].equals("temporal")) c.sepWeight = 0.1f;
            SaeTrainer tr = new SaeTrainer(c, tc(40_000), Ops.reference(), null).quiet(true);
            Map<String, Object> s = tr.train(batches(c, src), false);
            @SuppressWarnings("unchecked") Map<String, Object> fin = (Map<String, Object>) s.get("final");
            double ev = (Double) fin.get("explained_variance");
            assertTrue(ev > 0.8, v[0] + "/" + v[1] + ": explained variance " + ev);
            assertTrue((Double) fin.get("l0") < 16, v[0] + "/" + v[1] + ": L0 " + fin.get("l0"));
        }
    }

    @Test
    void sameSeedGivesIdenticalWeights() throws Exception {
        ActivationSource src = synthetic(2);
        for (String arch : new String[]{"relu", "temporal"}) {
            SaeConfig c = cfg(arch, "relu");
            c.sepWeight = 0.2f;
            SaeTrainer a = new SaeTrainer(c, tc(5000), Ops.reference(), null).quiet(true);
            SaeTrainer b = new SaeTrainer(c, tc(5000), Ops.reference(), null).quiet(true);
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
            SaeConfig c = cfg(v[0], v[1]);
            c.sepWeight = 0.1f;
            c.sepForm = "sampled";
            c.sepPairs = 50;
            TrainConfig t = tc(8000);
            t.checkpointEvery = 10;
            Path oneGo = dir.resolve(v[0] + "-one"), split = dir.resolve(v[0] + "-split");
            SaeTrainer full = new SaeTrainer(c, t, Ops.reference(), oneGo).quiet(true);
            full.train(batches(c, src), false);
            TrainConfig half = tc(8000);
            half.checkpointEvery = 10;
            half.maxStepsThisRun = full.step() / 2;
            Map<String, Object> s1 = new SaeTrainer(c, half, Ops.reference(), split).quiet(true).train(batches(c, src), false);
            assertEquals(false, s1.get("complete"));
            assertFalse(Files.exists(split.resolve("summary.json")));
            SaeTrainer resumed = new SaeTrainer(c, t, Ops.reference(), split).quiet(true);
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
        SaeConfig c = cfg("relu", "relu");
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
        TrainConfig t = tc(96 * 30);
        t.checkpointEvery = 5;
        SaeTrainer tr = new SaeTrainer(c, t, Ops.reference(), dir).quiet(true);
        TrainingDivergedException e = assertThrows(TrainingDivergedException.class, () -> tr.train(poisoned, false));
        assertTrue(e.getMessage().contains("step 13"), e.getMessage());
        assertTrue(e.getMessage().contains("step 10"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("summary.json")));
        Sae kept = SaeIO.load(dir.resolve("checkpoint"), msts.engine.CpuOps.INSTANCE);
        for (float w : kept.decoderWeights()) assertTrue(Float.isFinite(w));
        // and the run can be resumed from it (with clean data it completes)
        Map<String, Object> s = new SaeTrainer(c, t, Ops.reference(), dir).quiet(true).train(inner, true);
        assertEquals(true, s.get("complete"));
    }

    @Test
    void scheduleShapes() {
        TrainConfig t = new TrainConfig();
        t.lr = 1f;
        t.lrWarmupSteps = 10;
        t.lrDecayFraction = 0.2f;
        assertEquals(0.1f, SaeTrainer.lrAt(t, 0, 100), 1e-6);
        assertEquals(1f, SaeTrainer.lrAt(t, 50, 100), 1e-6);
        assertEquals(0.5f, SaeTrainer.lrAt(t, 90, 100), 1e-6);
        assertEquals(0.05f, SaeTrainer.lrAt(t, 99, 100), 1e-6);
        SaeConfig c = new SaeConfig();
        c.l1Coefficient = 2f;
        t.l1WarmupSteps = 4;
        assertEquals(0.5f, SaeTrainer.l1At(c, t, 0, 100), 1e-6);
        assertEquals(2f, SaeTrainer.l1At(c, t, 10, 100), 1e-6);
    }
}
