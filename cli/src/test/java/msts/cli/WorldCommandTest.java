package msts.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import msts.data.world.WorldSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** `msts world`: writes the world with the documented defaults; bad input is one "msts:" line. */
class WorldCommandTest {
    @TempDir Path dir;

    static void oneErrorLine(CliRun r, String contains) {
        assertEquals(1, r.code(), r.out() + r.err());
        String err = r.err().strip();
        assertTrue(err.startsWith("msts: ") && !err.contains("\n"), err);
        assertTrue(err.contains(contains), err);
    }

    @Test
    void writesTheWorldWithTheDefaultSizes() throws Exception {
        Path out = dir.resolve("w");
        CliRun r = CliRun.of("world", "--out", out.toString(), "--seed", "5");
        assertEquals(0, r.code(), r.err());
        JsonNode m = new ObjectMapper().readTree(out.resolve("world.json").toFile());
        assertEquals(5, m.get("seed").asLong());
        WorldSpec d = WorldSpec.defaults(5);
        assertEquals(d.entitiesPerDomain(), m.at("/spec/entities_per_domain").asInt());
        assertEquals(d.evalEntities(), m.at("/spec/eval_entities_per_domain").asInt());
        assertEquals(d.paraphrases(), m.at("/spec/paraphrases_per_entity").asInt());
        assertEquals(d.practiceVariants(), m.at("/spec/practice_variants_per_fact").asInt());
        assertEquals(d.corpusDocs(), m.at("/spec/corpus_docs_per_entity").asInt());
        assertEquals(d.probingPerClass(), m.at("/spec/probing_per_class").asInt());
        assertEquals(0, m.at("/spec/verify_variants_per_fact").asInt());
        assertEquals(0, m.at("/training_docs/verify").asInt());
        for (String f : new String[]{"train.jsonl", "forget.jsonl", "retain.jsonl", "wmdp_bio.jsonl", "mmlu_high_school_geography.jsonl",
                "mmlu_human_aging.jsonl", "probing_topic.jsonl", "tokenizer.json"})
            assertTrue(Files.size(out.resolve(f)) > 1000, f);
        long tokens = m.at("/counts/train.jsonl/tokens").asLong();
        assertTrue(tokens > 1_000_000 && tokens < 3_000_000, "training tokens " + tokens);
        // existing non-empty directory: refused without --force, nothing changed; accepted with it, same bytes
        byte[] before = Files.readAllBytes(out.resolve("train.jsonl"));
        oneErrorLine(CliRun.of("world", "--out", out.toString(), "--seed", "6"), "--force");
        assertArrayEquals(before, Files.readAllBytes(out.resolve("train.jsonl")));
        assertEquals(0, CliRun.of("world", "--out", out.toString(), "--seed", "5", "--force").code());
        assertArrayEquals(before, Files.readAllBytes(out.resolve("train.jsonl")));
    }

    @Test
    void verifyVariantsAddYesNoDocumentsForEveryFact() throws Exception {
        Path out = dir.resolve("v");
        CliRun r = CliRun.of("world", "--out", out.toString(), "--seed", "5", "--entities", "6", "--eval-entities", "2", "--paraphrases", "2",
                "--practice-variants", "1", "--verify-variants", "2");
        assertEquals(0, r.code(), r.err());
        JsonNode m = new ObjectMapper().readTree(out.resolve("world.json").toFile());
        assertEquals(2, m.at("/spec/verify_variants_per_fact").asInt());
        int facts = 0;
        for (JsonNode d : m.get("domains")) facts += d.get("entities").size() * d.get("relations").size();
        assertEquals(2L * facts, m.at("/training_docs/verify").asLong());
        long yes = 0, no = 0;
        for (String line : Files.readAllLines(out.resolve("train.jsonl"))) {
            JsonNode d = new ObjectMapper().readTree(line);
            if (!d.get("kind").asText().equals("verify")) continue;
            if (d.get("completion").asText().equals(" Yes")) yes++;
            else if (d.get("completion").asText().equals(" No")) no++;
            else fail(line);
        }
        assertEquals(facts, yes);
        assertEquals(facts, no);
        JsonNode vocab = new ObjectMapper().readTree(out.resolve("tokenizer.json").toFile()).at("/model/vocab");
        assertTrue(vocab.has("\u2581Yes") && vocab.has("\u2581No"), "tokenizer has the answer words");
        oneErrorLine(CliRun.of("world", "--out", dir.resolve("c").toString(), "--verify-variants", "-1"), "--verify-variants must be non-negative");
    }

    @Test
    void badInputIsOneClearLine() throws Exception {
        oneErrorLine(CliRun.of("world", "--out", dir.resolve("a").toString(), "--seed", "abc"), "--seed must be an integer");
        oneErrorLine(CliRun.of("world", "--out", dir.resolve("a").toString(), "--seed", "1.5"), "--seed must be an integer");
        Path file = Files.writeString(dir.resolve("file"), "x");
        oneErrorLine(CliRun.of("world", "--out", file.toString()), "not a directory");
        oneErrorLine(CliRun.of("world", "--out", file.resolve("sub").toString()), file.resolve("sub") + ": Not a directory");
        oneErrorLine(CliRun.of("world", "--out", dir.resolve("b").toString(), "--practice-variants", "0"), "practice variants must be in 1..400");
        assertFalse(Files.exists(dir.resolve("a")));
    }
}
