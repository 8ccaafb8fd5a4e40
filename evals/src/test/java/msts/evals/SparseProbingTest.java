package msts.evals;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SparseProbingTest {
    @Test
    void logisticRegressionMatchesScipy() throws Exception {
        JsonNode cases = CoreEvalTest.fixture("logreg_reference.json");
        for (JsonNode c : cases) {
            int n = c.get("n").asInt(), d = c.get("d").asInt();
            float[] x = CoreEvalTest.floats(c.get("X"));
            boolean[] y = new boolean[n];
            for (int i = 0; i < n; i++) y[i] = c.get("y").get(i).asBoolean();
            LogisticRegression m = LogisticRegression.fit(x, y, n, d, c.get("C").asDouble());
            for (int k = 0; k < d; k++) assertEquals(c.get("w").get(k).asDouble(), m.w[k], 1e-5, c.get("name") + " w" + k);
            assertEquals(c.get("b").asDouble(), m.b, 1e-5, c.get("name") + " b");
        }
    }

    @Test
    void topKPicksTheInformativeColumns() {
        // column 2 separates classes strongly, column 0 weakly, others not at all
        int n = 40, d = 5;
        float[] x = new float[n * d];
        boolean[] y = new boolean[n];
        java.util.Random r = new java.util.Random(1);
        for (int i = 0; i < n; i++) {
            y[i] = i % 2 == 0;
            for (int k = 0; k < d; k++) x[i * d + k] = (float) r.nextGaussian() * 0.1f;
            x[i * d + 2] += y[i] ? 3 : 0;
            x[i * d] += y[i] ? 1 : 0;
        }
        int[] rows = new int[n];
        for (int i = 0; i < n; i++) rows[i] = i;
        assertArrayEquals(new int[]{2, 0}, SparseProbing.topKMeanDiff(x, y, rows, d, 2));
    }

    @Test
    void probingFindsAPlantedConceptLatent(@TempDir Path dir) throws Exception {
        // Texts with the word "virus" are positive. The fake model embeds tokens; a tied SAE latent along the
        // embedding of " virus" fires only on it, so the top-1 SAE probe is (near) perfect.
        FakeTokenizer tok = new FakeTokenizer(64);
        FakeModel lm = FakeModel.random(64, 16, 3);
        String[] words = {"the", "cell", "river", "stone", "blue", "house", "green", "fast"};
        List<String> lines = new ArrayList<>();
        java.util.Random r = new java.util.Random(9);
        for (int i = 0; i < 60; i++) {
            StringBuilder sb = new StringBuilder();
            boolean pos = i % 2 == 0;
            int at = 1 + r.nextInt(5); // never first: "virus" and " virus" are different tokens
            for (int w = 0; w < 6; w++) sb.append(w == 0 ? "" : " ").append(pos && w == at ? "virus" : words[r.nextInt(words.length)]);
            lines.add("{\"text\": \"" + sb + "\", \"label\": " + (pos ? 1 : 0) + "}");
        }
        Path file = dir.resolve("bio.jsonl");
        Files.write(file, lines);
        List<SparseProbing.Task> tasks = SparseProbing.tasks(file);
        assertEquals(1, tasks.size());
        int d = 16;
        float[] dirs = new float[4 * d];
        java.util.Random rr = new java.util.Random(4);
        for (int i = 0; i < dirs.length; i++) dirs[i] = (float) rr.nextGaussian();
        int vid = tok.encode(" virus", false)[0];
        for (int k = 0; k < d; k++) lm.E[vid * d + k] *= 20; // a strong concept direction (C = 1 needs O(1) pooled values)
        for (int k = 0; k < d; k++) dirs[2 * d + k] = lm.E[vid * d + k];
        float[] unit = DecoderGeometry.unitRows(dirs, 4, d);
        double self = 0;
        for (int k = 0; k < d; k++) self += unit[2 * d + k] * lm.E[vid * d + k];
        TestSae sae = TestSae.tied(unit, 4, d, (float) (0.9 * self));
        EvalOutput out = SparseProbing.run(lm, tok, sae, 0, tasks, new SparseProbing.Config(32, 0.7, 1, new int[]{1, 2, 5}, 1.0, 1000), "t").output();
        var s = out.evalResultMetrics().get("sae");
        assertTrue((double) s.get("sae_top_1_test_accuracy") >= 0.9, "top-1 accuracy " + s);
        assertNull(s.get("sae_top_5_test_accuracy"), "k > d_sae is skipped");
        assertEquals("bio", out.evalResultDetails().getFirst().get("dataset_name"));
        assertTrue(out.evalResultMetrics().get("llm").containsKey("llm_test_accuracy"));
    }
}
