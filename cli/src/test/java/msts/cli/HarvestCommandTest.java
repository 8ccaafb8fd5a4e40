package msts.cli;

import msts.engine.Ops;
import msts.model.gemma.Gemma2;
import msts.model.gemma.TinyGemma2;
import msts.data.ActivationStore;
import msts.data.Corpus;
import msts.data.StoreManifest;
import msts.model.tokenizer.GemmaTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** `msts harvest` end to end on a tiny random Gemma-2 (vocab 512) with a small word-level tokenizer.json. */
class HarvestCommandTest {
    @TempDir Path dir;

    /** A Hugging Face WordLevel tokenizer.json over the words of {@code text} (ids from 4), Gemma's special ids. */
    static Path wordTokenizer(Path file, String text) throws Exception {
        var om = new com.fasterxml.jackson.databind.ObjectMapper();
        var root = om.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        var added = root.putArray("added_tokens");
        String[] special = {"<pad>", "<eos>", "<bos>", "<unk>"};
        for (int i = 0; i < special.length; i++) {
            var t = added.addObject();
            t.put("id", i).put("content", special[i]).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        }
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "Whitespace");
        root.putNull("post_processor");
        root.putNull("decoder");
        var m = root.putObject("model");
        m.put("type", "WordLevel");
        var vocab = m.putObject("vocab");
        for (int i = 0; i < special.length; i++) vocab.put(special[i], i);
        int next = special.length;
        for (String w : text.split("[^A-Za-z0-9]+")) if (!w.isEmpty() && !vocab.has(w)) vocab.put(w, next++);
        for (String p : new String[] {".", ":", ",", "{", "}", "\"", "-"}) if (!vocab.has(p)) vocab.put(p, next++);
        m.put("unk_token", "<unk>");
        om.writeValue(file.toFile(), root);
        return file;
    }

    /**
     * {@code --compute bf16}: the store holds the BF16-compute forward (checked against the same forward on the
     * plain reference kernels with activations rounded to BF16: 10× closer than to F32), which differs from
     * the F32 forward by the rounding of the matmul inputs; a store made with one arithmetic is not continued
     * with the other.
     */
    @Test
    void harvestWithBf16Compute() throws Exception {
        Path model = TinyGemma2.write(dir.resolve("tiny16"), TinyGemma2.Spec.small().withDtype(msts.engine.DType.BF16), 5);
        Path corpus = dir.resolve("c.jsonl");
        Files.writeString(corpus, """
                {"text": "The quick brown fox jumps over the lazy dog again and again and again."}
                {"text": "Sparse autoencoders decompose residual stream activations into features."}
                """);
        Path tj = wordTokenizer(dir.resolve("tokenizer.json"), Files.readString(corpus));
        Path out = dir.resolve("store16");
        String[] cmd = {"harvest", "--model", model.toString(), "--layer", "1", "--corpus", corpus.toString(),
                "--context", "8", "--tokens", "24", "--batch-seqs", "2", "--dtype", "f32", "--tokenizer", tj.toString(),
                "--compute", "bf16", "--out", out.toString()};
        CliRun r = CliRun.of(cmd);
        assertEquals(0, r.code(), r.err());
        int[][] rows;
        try (GemmaTokenizer tok = GemmaTokenizer.load(tj)) {
            rows = Corpus.readRows(List.of(corpus), tok, 8, 3, Corpus.Options.DEFAULT);
        }
        Ops refBf16 = msts.engine.bf16.Bf16Ops.of(Ops.reference(), msts.engine.bf16.Bf16Ops.Kernel.VECTOR);
        try (Gemma2 g16 = Gemma2.load(model, refBf16); Gemma2 g32 = Gemma2.load(model, Ops.reference());
             ActivationStore st = ActivationStore.open(out)) {
            float[][] e16 = g16.forward(rows, Gemma2.Options.residAt(1)).resid()[0];
            float[][] e32 = g32.forward(rows, Gemma2.Options.residAt(1)).resid()[0];
            float[] seq = new float[8 * 64];
            double d32 = 0, d16 = 0, n = 0;
            for (int s = 0; s < rows.length; s++) {
                st.readSequence(s, seq, 0);
                for (int i = 0; i < seq.length; i++) {
                    d32 += (double) (seq[i] - e32[s][i]) * (seq[i] - e32[s][i]);
                    d16 += (double) (seq[i] - e16[s][i]) * (seq[i] - e16[s][i]);
                    n += (double) e32[s][i] * e32[s][i];
                }
            }
            double rel = Math.sqrt(d32 / n), rel16 = Math.sqrt(d16 / n);
            assertTrue(rel > 1e-5 && rel < 1e-2, "rel. RMS difference to the F32 forward " + rel);
            // the same arithmetic in another summation order (which may flip a BF16 rounding): 10× closer
            assertTrue(rel16 <= rel / 10, "rel. RMS difference to the reference BF16 forward " + rel16 + " (to F32: " + rel + ")");
        }
        String[] f32 = cmd.clone();
        f32[f32.length - 3] = "f32";
        r = CliRun.of(f32);
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("msts: ") && r.err().contains("--compute: \"bf16\" in the store"), r.err());
    }

    @Test
    void harvestWritesForwardActivationsAndResumes() throws Exception {
        Path model = TinyGemma2.write(dir.resolve("tiny"), TinyGemma2.Spec.small(), 3);
        Path corpus = dir.resolve("c.jsonl");
        Files.writeString(corpus, """
                {"text": "The quick brown fox jumps over the lazy dog."}
                {"text": "Sparse autoencoders decompose residual stream activations into features."}

                {"text": "short"}
                {"text": "Multi-scale temporal context: dilated causal convolutions over the token axis."}
                """);
        Path tj = wordTokenizer(dir.resolve("tokenizer.json"), Files.readString(corpus));
        Path out = dir.resolve("store");
        String[] cmd = {"harvest", "--model", model.toString(), "--layer", "1", "--corpus", corpus.toString(),
                "--context", "8", "--tokens", "40", "--batch-seqs", "2", "--shard-seqs", "2", "--dtype", "f32",
                "--tokenizer", tj.toString(), "--min-chars", "5", "--backend", "reference", "--out", out.toString()};
        CliRun r = CliRun.of(cmd);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("5 sequences × 8 tokens × d 64"), r.out());

        int[][] rows;
        try (GemmaTokenizer tok = GemmaTokenizer.load(tj)) {
            rows = Corpus.readRows(List.of(corpus), tok, 8, 5, Corpus.Options.DEFAULT.withMinChars(5));
        }
        assertEquals(5, rows.length);
        try (Gemma2 g = Gemma2.load(model, Ops.reference()); ActivationStore st = ActivationStore.open(out)) {
            float[][] exp = g.forward(rows, Gemma2.Options.residAt(1)).resid()[0];
            StoreManifest m = st.manifest();
            assertEquals("blocks.1.hook_resid_post", m.hookName());
            assertEquals(3, m.shards().size());
            assertTrue(m.complete());
            float[] seq = new float[8 * 64];
            for (int s = 0; s < 5; s++) {
                assertArrayEquals(rows[s], st.tokens(s));
                assertEquals(2, rows[s][0]);
                st.readSequence(s, seq, 0);
                assertArrayEquals(exp[s], seq, 1e-5f);
            }
        }
        // the same command again: nothing left to do
        r = CliRun.of(cmd);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("this run 0 sequences"), r.out());
        // other arguments: one clear error
        String[] other = cmd.clone();
        other[4] = "0";
        r = CliRun.of(other);
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("msts: ") && r.err().contains("layer: 1 in the store, 0 now"), r.err());
        // a bad corpus line names file:line
        Files.writeString(dir.resolve("bad.jsonl"), "{\"text\": \"fine\"}\n{\"text\": \"x\"\n");
        String[] bad = cmd.clone();
        bad[6] = dir.resolve("bad.jsonl").toString();
        bad[bad.length - 1] = dir.resolve("store2").toString();
        r = CliRun.of(bad);
        assertEquals(1, r.code());
        assertTrue(r.err().contains("bad.jsonl:2: invalid JSON"), r.err());
    }

    @Test
    void countsAndBadOptions() throws Exception {
        assertEquals(2_000_000, HarvestCommand.parseCount("--tokens", "2M"));
        assertEquals(500_000, HarvestCommand.parseCount("--tokens", "500k"));
        assertEquals(1_000_000, HarvestCommand.parseCount("--tokens", "1e6"));
        assertEquals(12_345, HarvestCommand.parseCount("--tokens", "12_345"));
        var e = assertThrows(IllegalArgumentException.class, () -> HarvestCommand.parseCount("--tokens", "lots"));
        assertTrue(e.getMessage().contains("not a count"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> HarvestCommand.parseCount("--tokens", "0"));

        Path model = TinyGemma2.write(dir.resolve("tiny"), TinyGemma2.Spec.small().withLayers(1), 3);
        Path corpus = dir.resolve("c.txt");
        Files.writeString(corpus, "some text\n");
        Path tj = wordTokenizer(dir.resolve("tokenizer.json"), "some text");
        CliRun r = CliRun.of("harvest", "--model", model.toString(), "--layer", "0", "--corpus", corpus.toString(),
                "--tokens", "10", "--dtype", "f16", "--tokenizer", tj.toString(), "--out", dir.resolve("o").toString());
        assertEquals(1, r.code());
        assertEquals("msts: --dtype must be bf16 or f32, got f16", r.err().strip());
        r = CliRun.of("harvest", "--model", model.toString(), "--layer", "0", "--corpus", corpus.toString(),
                "--tokens", "10", "--text-split", "pages", "--tokenizer", tj.toString(), "--out", dir.resolve("o").toString());
        assertEquals(1, r.code());
        assertEquals("msts: --text-split must be one of file, blocks, lines, got 'pages'", r.err().strip());
        r = CliRun.of("harvest", "--model", model.toString(), "--layer", "5", "--corpus", corpus.toString(),
                "--tokens", "10", "--tokenizer", tj.toString(), "--out", dir.resolve("o").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().contains("--layer 5 is outside the model's layers 0..0"), r.err());
    }
}
