package msts.evals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Writes a full set of eval JSONs for one fake run (used by the report test). */
public final class ReportFixtures {
    private ReportFixtures() {}

    public static void writeRun(Path dir, float threshold, long seed) throws Exception {
        Files.createDirectories(dir);
        FakeTokenizer tok = new FakeTokenizer(200);
        FakeModel lm = FakeModel.random(200, 8, 5);
        java.util.Random r = new java.util.Random(seed);
        float[] dirs = new float[24 * 8];
        for (int i = 0; i < dirs.length; i++) dirs[i] = (float) r.nextGaussian();
        TestSae sae = TestSae.tied(DecoderGeometry.unitRows(dirs, 24, 8), 24, 8, threshold);
        int[][] rows = {{2, 5, 6, 7, 1, 9, 10, 11}, {2, 11, 12, 13, 14, 15, 16, 17}, {2, 40, 41, 42, 43, 44, 45, 46}};
        CoreEval.run(msts.engine.CpuOps.INSTANCE, lm, tok, sae, rows, new CoreEval.Config(0, 2, true), "fake").write(dir);
        // unlearning
        List<String> q = new ArrayList<>();
        for (int i = 0; i < 16; i++)
            q.add("{\"question\": \"q" + i + " about thing" + i + "\", \"choices\": [\"w" + i + "\", \"x" + i + "\", \"y\", \"z\"], \"answer\": " + (i % 4) + "}");
        Files.write(dir.resolve("q.jsonl"), q);
        var qs = Unlearning.readQuestions(dir.resolve("q.jsonl"), "biology");
        Files.write(dir.resolve("forget.jsonl"), List.of("{\"text\": \"virus cell protein gene virus toxin pathogen spread host\"}"));
        Files.write(dir.resolve("retain.jsonl"), List.of("{\"text\": \"the river stone house a blue green field and more\"}"));
        var enc = tok;
        int[][] forget = msts.data.Corpus.readRows(List.of(dir.resolve("forget.jsonl")), enc, 5, 10, msts.data.Corpus.Options.DEFAULT);
        int[][] retain = msts.data.Corpus.readRows(List.of(dir.resolve("retain.jsonl")), enc, 5, 10, msts.data.Corpus.Options.DEFAULT);
        Unlearning.run(lm, tok, sae, 0, forget, retain, qs, Map.of("human_aging", qs), new Unlearning.Config(
                new double[]{0.001, 0.01}, new int[]{1, 2}, new double[]{25, 50, 100, 200}, false, 0.99, 8), "fake").write(dir);
        // probing
        List<String> ex = new ArrayList<>();
        for (int i = 0; i < 40; i++) ex.add("{\"text\": \"w" + (i % 7) + " v" + (i % 3) + " u" + (i % 5) + "\", \"label\": " + (i % 2) + "}");
        Files.write(dir.resolve("probe.jsonl"), ex);
        SparseProbing.run(lm, tok, sae, 0, SparseProbing.tasks(dir.resolve("probe.jsonl")), new SparseProbing.Config(16, 0.75, 1,
                new int[]{1, 2, 5, 10, 20}, 1.0, 100), "fake").write(dir);
        // disentanglement on the synthetic benchmark: a decoder that mixes true and random directions
        var data = SyntheticSequences.generate(SyntheticSequences.Spec.defaults(16, 64, 7));
        int nF = data.spec().nFeatures(), d = data.spec().d();
        float[] dec = data.directions().clone();
        for (int i = 0; i < nF * d; i++) if ((i / d) % (int) (seed + 1) == 0) dec[i] += (float) (0.7 * r.nextGaussian());
        TestSae gtSae = TestSae.tied(DecoderGeometry.unitRows(dec, nF, d), nF, d, 0.3f);
        Disentanglement.run(msts.engine.CpuOps.INSTANCE, gtSae, data.source(), new Disentanglement.GroundTruth(data.directions(), data.timeScale(), d),
                Disentanglement.Config.defaults(), "fake").write(dir);
    }
}
