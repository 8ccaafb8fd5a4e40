package msts.sae;

import msts.data.ActivationSource;
import msts.data.BatchSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static msts.sae.SaeTrainerTest.*;
import static org.junit.jupiter.api.Assertions.*;

/** Training JumpReLU and BatchTopK SAEs (and their temporal forms): loss goes down, SAELens-layout export, resume. */
class ThresholdSaeTrainingTest {
    static final String[][] VARIANTS = {{"jumprelu", "jumprelu"}, {"temporal", "jumprelu"}, {"batchtopk", "batchtopk"}, {"temporal", "batchtopk"}};

    static SaeConfig config(String arch, String act) {
        return builder(arch, act).l0Coefficient(0.05f).k(4).build();
    }

    /** Loss of params p on batch 0 (scaled by s), no gradient. */
    static double lossOn(SaeConfig c, SaeParams p, BatchSource b, float s) {
        float[] x = new float[b.rows() * c.dIn()];
        b.fill(0, x);
        for (int i = 0; i < x.length; i++) x[i] *= s;
        AbstractSae sae = SaeRegistry.create(c, p, REF.ops());
        return sae.loss(x, b.nSeq(), b.seqLen(), new AbstractSae.LossInput(b.lossStart(), c.sparsityCoefficient(), null, 0, null), null).loss();
    }

    @Test
    void shortTrainingReducesTheLoss() throws Exception {
        ActivationSource src = synthetic(11);
        for (String[] v : VARIANTS) {
            SaeConfig c = config(v[0], v[1]);
            SaeTrainer tr = new SaeTrainer(c, tc(30_000).build(), REF, null).quiet(true);
            TrainResult s = tr.train(batches(c, src), false);
            double before = lossOn(c, SaeParams.init(c, 7), batches(c, src), tr.scalingFactor());
            double after = lossOn(c, tr.params(), batches(c, src), tr.scalingFactor());
            assertTrue(after < 0.5 * before, v[0] + "/" + v[1] + ": loss " + before + " → " + after);
            assertTrue(s.fin().explainedVariance() > 0.7, v[0] + "/" + v[1] + ": explained variance " + s.fin().explainedVariance());
            if (v[1].equals("jumprelu")) { // the thresholds moved (STE gradients reach log_threshold)
                float init = (float) Math.log(c.jumpReluInitThreshold());
                int moved = 0;
                for (float lt : tr.params().log_threshold) if (lt != init) moved++;
                assertTrue(moved > c.dSae() / 2, "thresholds moved for " + moved + " latents");
            }
        }
    }

    @Test
    void savedInSaeLensLayoutAndLoadedBack(@TempDir Path dir) throws Exception {
        ActivationSource src = synthetic(12);
        for (String[] v : VARIANTS) {
            SaeConfig c = config(v[0], v[1]);
            Path out = dir.resolve(v[0] + "-" + v[1]);
            SaeTrainer tr = new SaeTrainer(c, tc(6000).build(), REF, out).quiet(true);
            tr.train(batches(c, src), false);
            Map<String, SaeTensors.Entry> w = SaeTensors.read(out.resolve("sae_weights.safetensors"));
            assertFalse(w.containsKey("log_threshold"), "SAELens saves threshold, not log_threshold");
            float[] th = w.get("threshold").data();
            assertArrayEquals(new long[]{c.dSae()}, w.get("threshold").shape());
            @SuppressWarnings("unchecked")
            Map<String, Object> cfgJson = SaeIO.JSON.readValue(out.resolve("cfg.json").toFile(), Map.class);
            // both save as JumpReLU (BatchTopK: SAELens' inference conversion); temporal keeps its architecture
            assertEquals(c.temporal() ? "temporal" : "jumprelu", cfgJson.get("architecture"));
            assertEquals("jumprelu", cfgJson.get("activation"));
            if (v[1].equals("jumprelu")) {
                float[] expect = new float[c.dSae()];
                ThresholdKernels.expInto(tr.params().log_threshold, expect);
                assertArrayEquals(expect, th, 0f);
            } else {
                float theta = (float) ((BatchTopKSae) tr.sae()).topkThreshold();
                for (float t : th) assertEquals(theta, t, 0f);
                assertTrue(th[0] > 0f, "the running threshold moved away from 0");
            }
            AbstractSae loaded = SaeIO.load(out, REF.ops());
            assertInstanceOf(JumpReluSae.class, loaded);
            assertFalse(loaded.trainable());
            AbstractSae exported = tr.exportSae();
            BatchSource b = batches(c, src);
            float[] x = new float[b.rows() * c.dIn()];
            b.fill(1, x);
            int rows = b.rows();
            float[] f1 = new float[rows * c.dSae()], f2 = new float[rows * c.dSae()];
            exported.encode(x, b.nSeq(), b.seqLen(), f1);
            loaded.encode(x, b.nSeq(), b.seqLen(), f2);
            assertArrayEquals(f1, f2, 0f);
            // inference is f = pre·1[pre > θ]: every active value exceeds its latent's threshold
            int active = 0;
            for (int r = 0; r < rows; r++)
                for (int j = 0; j < c.dSae(); j++)
                    if (f2[r * c.dSae() + j] != 0f) {
                        assertTrue(f2[r * c.dSae() + j] > th[j]);
                        active++;
                    }
            assertTrue(active > 0);
        }
    }

    @Test
    void resumeGivesIdenticalWeightsAndThreshold(@TempDir Path dir) throws Exception {
        ActivationSource src = synthetic(13);
        for (String[] v : new String[][]{{"jumprelu", "jumprelu"}, {"temporal", "batchtopk"}}) {
            SaeConfig c = config(v[0], v[1]);
            TrainConfig t = tc(6000).checkpointEvery(10).build();
            Path oneGo = dir.resolve(v[1] + "-one"), split = dir.resolve(v[1] + "-split");
            SaeTrainer full = new SaeTrainer(c, t, REF, oneGo).quiet(true);
            full.train(batches(c, src), false);
            TrainConfig half = tc(6000).checkpointEvery(10).maxStepsThisRun(full.step() / 2).build();
            assertFalse(new SaeTrainer(c, half, REF, split).quiet(true).train(batches(c, src), false).complete());
            SaeTrainer resumed = new SaeTrainer(c, t, REF, split).quiet(true);
            resumed.train(batches(c, src), true);
            float[][] pa = full.params().arrays(), pb = resumed.params().arrays();
            for (int i = 0; i < pa.length; i++) assertArrayEquals(pa[i], pb[i], v[1] + " " + SaeParams.NAMES[i]);
            // threshold (JumpReLU: exp(log_threshold); BatchTopK: the running θ from trainer_state.json) identical
            assertArrayEquals(Files.readAllBytes(oneGo.resolve("sae_weights.safetensors")),
                    Files.readAllBytes(split.resolve("sae_weights.safetensors")));
        }
    }
}
