package msts.model.train;

import msts.engine.CpuOps;
import msts.engine.DType;
import msts.model.gemma.Gemma2;
import msts.model.gemma.Gemma2Config;
import msts.model.gemma.TinyGemma2;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** Determinism, exact resume, divergence handling and learning of {@link LmTrainer} on small token streams. */
class LmTrainerTest {
    @TempDir Path tmp;

    static Gemma2Config model() {
        // vocab 40, hidden 32, 2 layers (0 slides), heads 4/2, head_dim 8, window 4 < context 12
        return new TinyGemma2.Spec(40, 32, 64, 2, 4, 2, 8, 4, 20f, 15f, 8f, 10000f, DType.F32, 0.5f, 1f).config();
    }

    /** A stream with structure to learn: repeated "sentences" of a small grammar. */
    static int[] stream(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int[] s = new int[n];
        for (int i = 0; i < n; ) {
            int a = 3 + r.nextInt(10);
            int[] sent = {a, 20 + a % 7, 30 + (a * 3) % 9, 1};
            for (int t = 0; t < sent.length && i < n; t++) s[i++] = sent[t];
        }
        return s;
    }

    static LmTrainConfig cfg(int steps, float lr, long seed, int every) {
        return new LmTrainConfig(steps, 4, lr, 2, 0.1f, 0.9f, 0.95f, 1e-8f, 1f, seed, 0.02f, every);
    }

    @Test
    void sameSeedGivesIdenticalWeightsAndOtherSeedDoesNot() throws Exception {
        TokenRows rows = new TokenRows(stream(2000, 1), 12, 2, 7);
        new LmTrainer(model(), cfg(6, 3e-3f, 7, 0), CpuOps.INSTANCE, tmp.resolve("a"), null).train(rows, null, false, 0, null);
        new LmTrainer(model(), cfg(6, 3e-3f, 7, 0), CpuOps.INSTANCE, tmp.resolve("b"), null).train(rows, null, false, 0, null);
        new LmTrainer(model(), cfg(6, 3e-3f, 8, 0), CpuOps.INSTANCE, tmp.resolve("c"), null).train(rows, null, false, 0, null);
        byte[] a = Files.readAllBytes(tmp.resolve("a/model.safetensors"));
        assertArrayEquals(a, Files.readAllBytes(tmp.resolve("b/model.safetensors")));
        assertFalse(java.util.Arrays.equals(a, Files.readAllBytes(tmp.resolve("c/model.safetensors"))));
    }

    @Test
    void resumeIsBitIdenticalToAnUninterruptedRun() throws Exception {
        TokenRows rows = new TokenRows(stream(1000, 2), 12, 2, 3);
        LmTrainConfig c = cfg(8, 3e-3f, 3, 0);
        LmTrainer.Result full = new LmTrainer(model(), c, CpuOps.INSTANCE, tmp.resolve("full"), null).train(rows, rows, false, 0, null);
        LmTrainer.Result half = new LmTrainer(model(), c, CpuOps.INSTANCE, tmp.resolve("split"), null).train(rows, rows, false, 4, null);
        assertEquals(4, half.step());
        assertFalse(Files.exists(tmp.resolve("split/" + LmTrainer.SUMMARY)), "no summary before the end");
        LmTrainer.Result rest = new LmTrainer(model(), c, CpuOps.INSTANCE, tmp.resolve("split"), null).train(rows, rows, true, 0, null);
        assertEquals(8, rest.step());
        for (String f : new String[]{"model.safetensors", LmTrainer.OPTIMIZER})
            assertArrayEquals(Files.readAllBytes(tmp.resolve("full/" + f)), Files.readAllBytes(tmp.resolve("split/" + f)), f);
        assertEquals(full.finalLoss(), rest.finalLoss());
        assertEquals(full.heldOutLoss(), rest.heldOutLoss());
        assertTrue(Double.isFinite(rest.heldOutLoss()));
        // a different schedule cannot resume this checkpoint
        assertThrows(IllegalArgumentException.class, () -> new LmTrainer(model(), cfg(9, 3e-3f, 3, 0), CpuOps.INSTANCE,
                tmp.resolve("split"), null).train(rows, null, true, 0, null));
    }

    @Test
    void learnsAndWritesACheckpointTheInferenceForwardLoads() throws Exception {
        TokenRows rows = new TokenRows(stream(4000, 4), 12, 2, 5);
        double[] first = {Double.NaN};
        LmTrainer.Result r = new LmTrainer(model(), cfg(60, 1e-2f, 5, 20), CpuOps.INSTANCE, tmp.resolve("m"), null)
                .train(rows, null, false, 0, (s, n, loss, norm, lr) -> { if (s == 1) first[0] = loss; });
        assertTrue(first[0] > 3.0, "initial loss ≈ ln 40 = 3.69: " + first[0]);
        assertTrue(r.finalLoss() < 0.6 * first[0], "loss fell from " + first[0] + " to " + r.finalLoss());
        LmParams p = LmParams.load(tmp.resolve("m"));
        Gemma2Backprop bp = new Gemma2Backprop(p.config(), CpuOps.INSTANCE, 4, 12, false);
        int[][] batch = rows.batch(0, 4);
        bp.loss(p.data(), p, batch);
        try (Gemma2 g = Gemma2.load(tmp.resolve("m"), CpuOps.INSTANCE)) {
            float[][] lg = g.forward(batch, Gemma2.Options.logitsAll()).logits();
            float[] all = bp.logits();
            for (int b = 0; b < 4; b++)
                for (int i = 0; i < lg[b].length; i++)
                    assertEquals(all[b * lg[b].length + i], lg[b][i], 1e-4f);
        }
        assertTrue(Files.isRegularFile(tmp.resolve("m/" + LmTrainer.SUMMARY)));
        assertFalse(Files.list(tmp).anyMatch(f -> f.getFileName().toString().contains(".tmp-")), "no temp directory left");
    }

    @Test
    void divergenceStopsAndKeepsTheLastGoodCheckpoint() throws Exception {
        TokenRows rows = new TokenRows(stream(1000, 6), 12, 2, 9);
        LmTrainConfig c = new LmTrainConfig(10, 4, 1e30f, 0, 0f, 0.9f, 0.95f, 1e-8f, 0f, 9, 0.02f, 1);
        LmTrainer t = new LmTrainer(model(), c, CpuOps.INSTANCE, tmp.resolve("d"), null);
        LmTrainer.DivergedException e = assertThrows(LmTrainer.DivergedException.class, () -> t.train(rows, null, false, 0, null));
        assertTrue(e.getMessage().contains("diverged at step"), e.getMessage());
        assertTrue(e.getMessage().contains("last good checkpoint"), e.getMessage());
        String state = Files.readString(tmp.resolve("d/" + LmTrainer.STATE));
        assertTrue(state.contains("\"step\" : 1"), state.substring(0, Math.min(200, state.length())));
        LmParams p = LmParams.load(tmp.resolve("d"));
        for (float x : p.data()) assertTrue(Float.isFinite(x));
    }

    @Test
    void refusesToOverwriteAnotherDirectory() throws Exception {
        Files.createDirectories(tmp.resolve("busy"));
        Files.writeString(tmp.resolve("busy/x"), "x");
        TokenRows rows = new TokenRows(stream(200, 1), 12, 2, 1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                new LmTrainer(model(), cfg(2, 1e-3f, 1, 0), CpuOps.INSTANCE, tmp.resolve("busy"), null).train(rows, null, false, 0, null));
        assertTrue(e.getMessage().contains("--resume"));
        assertEquals("x", Files.readString(tmp.resolve("busy/x")));
    }

    @Test
    void scheduleWarmsUpThenDecaysToZero() {
        LmTrainConfig c = cfg(100, 1f, 1, 0);
        assertEquals(0.5, c.lrAt(0), 1e-12);
        assertEquals(1.0, c.lrAt(1), 1e-12);
        assertEquals(1.0, c.lrAt(2), 1e-12);
        assertEquals(0.5, c.lrAt(2 + 49), 1e-12);
        assertEquals(0.0, c.lrAt(100), 1e-12);
        assertTrue(c.lrAt(60) < c.lrAt(59));
    }

    @Test
    void weightedRowsTrainDeterministicallyResumeExactlyAndRefuseOtherWeights() throws Exception {
        int[] st = stream(1000, 4);
        float[] w = new float[st.length];
        for (int i = 0; i < w.length; i++) w[i] = st[i] >= 30 ? 5f : (i % 3 == 0 ? 0f : 1f);
        TokenRows rows = new TokenRows(st, w, 12, 2, 5);
        LmTrainConfig c = cfg(6, 3e-3f, 5, 0);
        new LmTrainer(model(), c, CpuOps.INSTANCE, tmp.resolve("w1"), null).train(rows, null, false, 0, null);
        new LmTrainer(model(), c, CpuOps.INSTANCE, tmp.resolve("w2"), null).train(rows, null, false, 3, null);
        new LmTrainer(model(), c, CpuOps.INSTANCE, tmp.resolve("w2"), null).train(rows, null, true, 0, null);
        new LmTrainer(model(), c, CpuOps.INSTANCE, tmp.resolve("plain"), null).train(new TokenRows(st, 12, 2, 5), null, false, 0, null);
        byte[] a = Files.readAllBytes(tmp.resolve("w1/model.safetensors"));
        assertArrayEquals(a, Files.readAllBytes(tmp.resolve("w2/model.safetensors")), "weighted: split + resume = uninterrupted");
        assertFalse(java.util.Arrays.equals(a, Files.readAllBytes(tmp.resolve("plain/model.safetensors"))), "the weights change the training");
        new LmTrainer(model(), c, CpuOps.INSTANCE, tmp.resolve("w3"), null).train(rows, null, false, 3, null);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
                new LmTrainer(model(), c, CpuOps.INSTANCE, tmp.resolve("w3"), null).train(new TokenRows(st, 12, 2, 5), null, true, 0, null));
        assertTrue(e.getMessage().contains("training rows differ"), e.getMessage());
    }

    static Gemma2Config withVocab(Gemma2Config c, int vocab) {
        return new Gemma2Config(vocab, c.hiddenSize(), c.intermediateSize(), c.numHiddenLayers(), c.numAttentionHeads(),
                c.numKeyValueHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(), c.queryPreAttnScalar(),
                c.attnLogitSoftcapping(), c.finalLogitSoftcapping(), c.slidingWindow(), c.bosTokenId(), c.eosTokenId(),
                c.padTokenId(), c.tieWordEmbeddings(), c.attentionBias(), c.hiddenActivation(), c.slidingLayers(), c.torchDtype());
    }

    @Test
    void warmStartCopiesEveryWeightAndMatchesEmbeddingRowsByToken() throws Exception {
        TokenRows rows = new TokenRows(stream(1000, 4), 12, 2, 5);
        new LmTrainer(model(), cfg(5, 3e-3f, 9, 0), CpuOps.INSTANCE, tmp.resolve("src"), null).train(rows, null, false, 0, null);
        LmParams src = LmParams.load(tmp.resolve("src"));
        String[] from = new String[40];
        for (int i = 0; i < 40; i++) from[i] = "t" + i;
        // the new vocabulary: 42 entries, token "t(39-i)" at id i for i < 38, then two tokens the old one lacks
        String[] to = new String[42];
        for (int i = 0; i < 38; i++) to[i] = "t" + (39 - i);
        to[38] = "new1"; to[39] = "new2"; to[40] = "t1"; to[41] = "t0";
        Gemma2Config c = withVocab(src.config(), 42);
        int[] copied = new int[1];
        LmParams w = LmParams.warmStart(c, 11, 0.02f, src, from, to, copied);
        LmParams fresh = LmParams.initialize(c, 11, 0.02f);
        assertEquals(40, copied[0]);
        int H = c.hiddenSize();
        for (int i = 0; i < 42; i++) {
            int j = i < 38 ? 39 - i : i == 40 ? 1 : i == 41 ? 0 : -1;
            for (int h = 0; h < H; h++) {
                float got = w.data()[w.embedOffset() + i * H + h];
                float want = j >= 0 ? src.data()[src.embedOffset() + j * H + h] : fresh.data()[fresh.embedOffset() + i * H + h];
                assertEquals(want, got, 0f, "embedding row " + i + " column " + h);
            }
        }
        for (LmParams.Slot s : w.slots()) {
            if (s.offset() == w.embedOffset()) continue;
            LmParams.Slot o = src.slot(s.name());
            for (int k = 0; k < s.size(); k++)
                assertEquals(src.data()[o.offset() + k], w.data()[s.offset() + k], 0f, s.name() + "[" + k + "]");
        }
        // it trains from there (the first loss is that of the warm-started weights, not of a random model)
        LmTrainer.Result r = new LmTrainer(c, cfg(3, 1e-3f, 11, 0), CpuOps.INSTANCE, tmp.resolve("warm"), null)
                .startingFrom(w).train(rows, null, false, 0, null);
        assertEquals(3, r.step());
        Gemma2Config other = new TinyGemma2.Spec(42, 32, 64, 3, 4, 2, 8, 4, 20f, 15f, 8f, 10000f, DType.F32, 0.5f, 1f).config();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LmParams.warmStart(other, 11, 0.02f, src, from, to, null));
        assertTrue(e.getMessage().contains("architecture"), e.getMessage());
    }
}
