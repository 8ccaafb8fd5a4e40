package msts.data;

import com.fasterxml.jackson.databind.node.ObjectNode;
import msts.engine.DType;
import msts.engine.Ops;
import msts.model.gemma.Gemma2;
import msts.model.gemma.TinyGemma2;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Harvest on a tiny random Gemma-2: the store holds exactly Gemma2.forward's resid_post for the corpus rows. */
class HarvestGemmaTest {
    @TempDir Path dir;

    @Test
    void storedActivationsEqualForwardCapture() throws Exception {
        Path model = TinyGemma2.write(dir.resolve("tiny"), TinyGemma2.Spec.small().withLayers(3), 11);
        Path corpus = dir.resolve("c.txt");
        Files.writeString(corpus, "the quick brown fox jumps over the lazy dog\n\nsparse autoencoders on gemma\n"
                + "find features\n\nresidual streams carry information across many layers of the model\n");
        int ctx = 8, layer = 1;
        ObjectNode args = StoreManifest.JSON.createObjectNode();
        try (Gemma2 g = Gemma2.load(model, Ops.reference())) {
            int[][] rows = Corpus.readRows(List.of(corpus), CorpusTest.CHARS, ctx, 0, Corpus.Options.DEFAULT);
            assertTrue(rows.length >= 10);
            for (DType dt : new DType[] {DType.F32, DType.BF16}) {
                Path out = dir.resolve("store-" + dt);
                var cfg = new Harvester.Config(model.toString(), layer, "chars", List.of(corpus), Corpus.Options.DEFAULT,
                        ctx, (long) rows.length * ctx, 3, 4, dt, args);
                var res = Harvester.run(out, cfg, CorpusTest.CHARS, new GemmaActivations(g, layer), true);
                assertEquals(rows.length, res.sequencesWritten());
                // independent capture: the whole model run, layer 1 captured, one row at a time
                float[][] full = g.forward(rows, new Gemma2.Options(-1, new int[] {layer}, null, Gemma2.LogitsMode.NONE)).resid()[0];
                int d = g.config().hiddenSize();
                try (ActivationSource st = ActivationSources.open(out)) {
                    assertEquals(d, st.dIn());
                    assertEquals(rows.length, st.numSequences());
                    float[] seq = new float[ctx * d];
                    double maxDiff = 0;
                    for (int s = 0; s < rows.length; s++) {
                        assertArrayEquals(rows[s], st.tokens(s));
                        st.readSequence(s, seq, 0);
                        for (int i = 0; i < ctx * d; i++) {
                            assertEquals(dt.round(full[s][i]), seq[i], 1e-5f * Math.max(1f, Math.abs(full[s][i])),
                                    "sequence " + s + " element " + i);
                            maxDiff = Math.max(maxDiff, Math.abs(dt.round(full[s][i]) - seq[i]));
                        }
                    }
                    assertTrue(maxDiff < 1e-4, "max diff " + maxDiff);
                }
            }
            var e = assertThrows(IllegalArgumentException.class, () -> new GemmaActivations(g, 3));
            assertTrue(e.getMessage().contains("outside the model's layers 0..2"), e.getMessage());
            var big = new FnTokenizer(s -> new int[] {600, 601, 602}, 2, 1);
            e = assertThrows(IllegalArgumentException.class, () -> Harvester.run(dir.resolve("bad"),
                    new Harvester.Config("m", 0, "big", List.of(corpus), Corpus.Options.DEFAULT, 4, 8, 2, 2, DType.F32, args),
                    big, new GemmaActivations(g, 0), true));
            assertTrue(e.getMessage().contains("outside the model's vocabulary (512)"), e.getMessage());
        }
    }
}
