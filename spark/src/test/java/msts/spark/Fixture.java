package msts.spark;

import com.fasterxml.jackson.databind.ObjectMapper;
import msts.data.GemmaActivations;
import msts.data.HarvestSpec;
import msts.data.Harvester;
import msts.engine.CpuOps;
import msts.model.gemma.Gemma2;
import msts.model.gemma.TinyGemma2;
import msts.model.tokenizer.GemmaTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** A tiny random Gemma-2 (vocab 512, d 64, 2 layers), a word-level tokenizer.json and a JSONL corpus of 60 documents. */
record Fixture(Path model, Path corpus, Path tokenizer) {
    static final int WORDS = 300;

    static Fixture make(Path dir) throws Exception {
        Path model = TinyGemma2.write(dir.resolve("tiny"), TinyGemma2.Spec.small(), 3);
        Random r = new Random(11);
        StringBuilder sb = new StringBuilder();
        for (int d = 0; d < 60; d++) {
            StringBuilder t = new StringBuilder();
            for (int i = 0, n = 1 + r.nextInt(25); i < n; i++) t.append(i == 0 ? "" : " ").append("w").append(r.nextInt(WORDS));
            sb.append("{\"text\": \"").append(t).append("\"}\n");
        }
        Path corpus = dir.resolve("corpus.jsonl");
        Files.writeString(corpus, sb.toString());
        return new Fixture(model, corpus, wordTokenizer(dir.resolve("tokenizer.json")));
    }

    /** A Hugging Face WordLevel tokenizer.json over w0..w299 (ids from 4), Gemma's special ids 0..3. */
    static Path wordTokenizer(Path file) throws IOException {
        var om = new ObjectMapper();
        var root = om.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        var added = root.putArray("added_tokens");
        String[] special = {"<pad>", "<eos>", "<bos>", "<unk>"};
        for (int i = 0; i < special.length; i++)
            added.addObject().put("id", i).put("content", special[i]).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        root.putNull("normalizer");
        root.putObject("pre_tokenizer").put("type", "Whitespace");
        root.putNull("post_processor");
        root.putNull("decoder");
        var m = root.putObject("model");
        m.put("type", "WordLevel");
        var vocab = m.putObject("vocab");
        for (int i = 0; i < special.length; i++) vocab.put(special[i], i);
        for (int w = 0; w < WORDS; w++) vocab.put("w" + w, special.length + w);
        m.put("unk_token", "<unk>");
        om.writeValue(file.toFile(), root);
        return file;
    }

    /** Harvest options: layer 1, context 16, batches of 2, shards of 3 sequences, BF16. */
    HarvestSpec spec(String tokens) {
        return new HarvestSpec(model, 1, List.of(corpus), 16, tokens, 2, 3, "bf16", tokenizer, 0, "blocks", "prepend",
                "text", "cpu");
    }

    /** The single-machine harvest (msts harvest's code path) into {@code out}. */
    Harvester.Result single(Path out, HarvestSpec spec) {
        try (GemmaTokenizer tok = GemmaTokenizer.load(tokenizer); Gemma2 g = Gemma2.load(model, CpuOps.INSTANCE)) {
            return Harvester.run(out, spec.config(), tok, new GemmaActivations(g, spec.layer()), true);
        }
    }

    /** Both directories hold the same file names with the same bytes. */
    static void assertSameStore(Path expected, Path actual) throws IOException {
        List<String> a = names(expected), b = names(actual);
        assertEquals(a, b, "files of " + actual);
        for (String n : a) assertArrayEquals(Files.readAllBytes(expected.resolve(n)), Files.readAllBytes(actual.resolve(n)), n);
    }

    static List<String> names(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return new ArrayList<>(s.map(p -> p.getFileName().toString()).sorted().toList());
        }
    }
}
