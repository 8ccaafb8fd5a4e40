package msts.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import msts.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

/** `msts lm train` on a small generated world (word-level tokenizer.json, train.jsonl, forget/retain held-out). */
class LmTrainCommandTest {
    @TempDir Path dir;

    static final ObjectMapper JSON = new ObjectMapper();

    /** Gemma's special tokens, at Gemma's ids 0–3 and then 4, 5 (as msts world writes them). */
    static final String[] SPECIALS = {"<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"};

    /** Writes a world: facts "the NAME lives in CITY ." in several phrasings, a WordLevel tokenizer over its words. */
    static Path world(Path d, int people, long seed) throws Exception {
        SplittableRandom r = new SplittableRandom(seed);
        String[] cities = {"paris", "lima", "oslo", "kyiv", "quito", "hanoi"};
        List<String> train = new ArrayList<>(), held = new ArrayList<>();
        for (int p = 0; p < people; p++) {
            String name = "person" + p, city = cities[r.nextInt(cities.length)];
            train.add("the home of " + name + " is " + city + " .");
            train.add(name + " lives in " + city + " .");
            train.add("where does " + name + " live ? in " + city + " .");
            held.add("in " + city + " lives " + name + " .");
        }
        Map<String, Integer> vocab = new LinkedHashMap<>();
        for (String s : SPECIALS) vocab.put(s, vocab.size());
        for (List<String> l : List.of(train, held))
            for (String t : l) for (String w : t.split(" ")) vocab.putIfAbsent(w, vocab.size());
        ObjectNode tok = JSON.createObjectNode();
        tok.put("version", "1.0");
        var added = tok.putArray("added_tokens");
        for (int i = 0; i < SPECIALS.length; i++) {
            ObjectNode a = added.addObject();
            a.put("id", i);
            a.put("content", SPECIALS[i]);
            a.put("single_word", false).put("lstrip", false).put("rstrip", false).put("normalized", false).put("special", true);
        }
        tok.putNull("normalizer");
        tok.putObject("pre_tokenizer").put("type", "WhitespaceSplit");
        tok.putNull("post_processor");
        tok.putNull("decoder");
        ObjectNode model = tok.putObject("model");
        model.put("type", "WordLevel");
        ObjectNode v = model.putObject("vocab");
        vocab.forEach(v::put);
        model.put("unk_token", "<unk>");
        Files.createDirectories(d);
        Files.writeString(d.resolve("tokenizer.json"), JSON.writeValueAsString(tok));
        StringBuilder sb = new StringBuilder();
        for (String t : train) sb.append(JSON.writeValueAsString(Map.of("text", t))).append('\n');
        Files.writeString(d.resolve("train.jsonl"), sb);
        sb.setLength(0);
        for (String t : held) sb.append(JSON.writeValueAsString(Map.of("text", t))).append('\n');
        Files.writeString(d.resolve("forget.jsonl"), sb);
        return d;
    }

    @Test
    void trainsWritesALoadableCheckpointAndResumesExactly() throws Exception {
        Path w = world(dir.resolve("world"), 40, 1);
        String[] common = {"lm", "train", "--world", w.toString(), "--hidden", "32", "--layers", "2", "--heads", "4",
                "--kv-heads", "2", "--intermediate", "64", "--context", "16", "--sliding-window", "4", "--steps", "30",
                "--batch", "4", "--lr", "1e-2", "--warmup", "5"};
        CliRun r = CliRun.of(concat(common, "--out", dir.resolve("m").toString()));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("held-out loss"), r.out());
        JsonNode s = JSON.readTree(dir.resolve("m/train_summary.json").toFile());
        assertEquals(30, s.get("steps").asInt());
        assertTrue(s.get("held_out_loss").isNumber(), s.toString());
        assertTrue(s.get("final_train_loss").asDouble() < Math.log(JSON.readTree(dir.resolve("m/config.json").toFile()).get("vocab_size").asInt()));
        for (String f : new String[]{"config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json", "tokenizer.json"})
            assertTrue(Files.isRegularFile(dir.resolve("m").resolve(f)), f);

        // msts forward reads the checkpoint
        Path fo = dir.resolve("fwd.safetensors");
        CliRun f = CliRun.of("forward", "--model", dir.resolve("m").toString(), "--tokens", "2,5,6,7", "--out", fo.toString());
        assertEquals(0, f.code(), f.err());
        try (SafeTensors st = SafeTensors.open(fo)) {
            assertTrue(st.has("logits"));
        }

        // stop at 12, resume to 30: the same bytes
        CliRun a = CliRun.of(concat(common, "--out", dir.resolve("r").toString(), "--stop-after", "12"));
        assertEquals(0, a.code(), a.err());
        assertTrue(a.out().contains("paused at step 12"), a.out());
        CliRun b = CliRun.of(concat(common, "--out", dir.resolve("r").toString(), "--resume"));
        assertEquals(0, b.code(), b.err());
        assertArrayEquals(Files.readAllBytes(dir.resolve("m/model.safetensors")), Files.readAllBytes(dir.resolve("r/model.safetensors")));

        // warm start from m: its architecture (the options given here are replaced), every token of the same world matched
        CliRun ws = CliRun.of("lm", "train", "--world", w.toString(), "--out", dir.resolve("ws").toString(), "--init",
                dir.resolve("m").toString(), "--context", "16", "--steps", "3", "--batch", "4", "--lr", "1e-3", "--warmup", "1");
        assertEquals(0, ws.code(), ws.err());
        int vocab = JSON.readTree(dir.resolve("m/config.json").toFile()).get("vocab_size").asInt();
        assertTrue(ws.err().contains("warm start from") && ws.err().contains(vocab + " of " + vocab + " embedding rows"), ws.err());
        assertEquals(32, JSON.readTree(dir.resolve("ws/config.json").toFile()).get("hidden_size").asInt());
        double first = JSON.readTree(dir.resolve("ws/trainer_state.json").toFile()).get("loss_history").get(0).asDouble();
        assertTrue(first < s.get("final_train_loss").asDouble() + 0.5, "starts where m ended, not from random: " + first);
    }

    @Test
    void badInputGivesOneClearLine() throws Exception {
        CliRun r = CliRun.of("lm", "train", "--world", dir.resolve("nope").toString(), "--out", dir.resolve("m").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("msts: ") && r.err().contains("world directory not found"), r.err());
        Path w = world(dir.resolve("w"), 5, 2);
        CliRun s = CliRun.of("lm", "train", "--world", w.toString(), "--out", dir.resolve("m").toString(), "--context", "16",
                "--sliding-window", "16");
        assertEquals(1, s.code());
        assertTrue(s.err().contains("--sliding-window"), s.err());
        CliRun i = CliRun.of("lm", "train", "--world", w.toString(), "--out", dir.resolve("m").toString(), "--init",
                dir.resolve("w").toString());
        assertEquals(1, i.code());
        assertTrue(i.err().startsWith("msts: ") && i.err().contains("--init") && i.err().contains("tokenizer.json"), i.err());
        assertFalse(Files.exists(dir.resolve("m")), "nothing written");
        CliRun h = CliRun.of("lm", "train", "--help");
        assertEquals(0, h.code());
        assertTrue(h.out().contains("--hidden") && h.out().contains("Default: 128"), h.out());
    }

    @Test
    void untrainableConfigsAndTokenizersGiveOneClearLineAndWriteNothing() throws Exception {
        Path w = world(dir.resolve("w"), 5, 2);
        String[] base = {"lm", "train", "--world", w.toString(), "--out", dir.resolve("m").toString(), "--steps", "2"};
        String[][] bad = {
                {"--layers", "0"}, {"--heads", "3", "--kv-heads", "2", "--hidden", "96"}, {"--heads", "4", "--kv-heads", "0"},
                {"--head-dim", "7"}, {"--hidden", "30", "--heads", "4"}, {"--intermediate", "0"}, {"--batch", "0"}, {"--lr", "0"},
                {"--context", "1", "--sliding-window", "1"}};
        String[] expect = {"--layers", "--kv-heads", "--kv-heads", "even", "even", "--intermediate", "--batch", "--lr", "--context"};
        for (int k = 0; k < bad.length; k++) {
            CliRun r = CliRun.of(concat(base, bad[k]));
            assertEquals(1, r.code(), String.join(" ", bad[k]) + ": " + r.err());
            String[] lines = r.err().lines().filter(l -> l.startsWith("msts: ")).toArray(String[]::new);
            assertEquals(1, lines.length, r.err());
            assertTrue(lines[0].contains(expect[k]) && !lines[0].contains("internal error"), String.join(" ", bad[k]) + ": " + lines[0]);
            assertFalse(Files.exists(dir.resolve("m")), "nothing written for " + String.join(" ", bad[k]));
        }

        // a tokenizer without <bos> and <start_of_turn> (the other ids keep their values, so they have a gap)
        ObjectNode tok = (ObjectNode) JSON.readTree(w.resolve("tokenizer.json").toFile());
        ObjectNode vocab = (ObjectNode) tok.get("model").get("vocab");
        vocab.remove(List.of("<bos>", "<start_of_turn>"));
        var added = tok.putArray("added_tokens");
        for (String t : new String[]{"<pad>", "<eos>", "<unk>", "<end_of_turn>"})
            added.addObject().put("id", vocab.get(t).asInt()).put("content", t).put("single_word", false).put("lstrip", false)
                    .put("rstrip", false).put("normalized", false).put("special", true);
        ((ObjectNode) tok.get("model")).put("unk_token", "<unk>");
        Files.writeString(w.resolve("tokenizer.json"), JSON.writeValueAsString(tok));
        Files.writeString(dir.resolve("file"), "x"); // --out an existing file, --resume without a run: before any work
        CliRun o = CliRun.of("lm", "train", "--world", w.toString(), "--out", dir.resolve("file").toString());
        assertEquals(1, o.code());
        assertTrue(o.err().startsWith("msts: ") && o.err().contains("exists") && o.err().lines().count() == 1, o.err());
        CliRun rs = CliRun.of("lm", "train", "--world", w.toString(), "--out", dir.resolve("m").toString(), "--resume");
        assertEquals(1, rs.code());
        assertTrue(rs.err().startsWith("msts: ") && rs.err().contains("to resume from") && rs.err().lines().count() == 1, rs.err());
        CliRun t = CliRun.of(base);
        assertEquals(1, t.code(), t.err());
        assertTrue(t.err().startsWith("msts: ") && t.err().contains("<bos>, <start_of_turn>") && t.err().contains("special token"), t.err());
        assertFalse(Files.exists(dir.resolve("m")));
    }

    @Test
    void benchRunsWithoutPeer() {
        CliRun r = CliRun.of("bench", "lm", "--no-peer", "--vocab", "50", "--hidden", "32", "--layers", "2", "--intermediate", "64",
                "--context", "16", "--sliding-window", "4", "--batch", "2", "--steps", "2", "--warmup", "1");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("msts ") && r.out().contains("tokens/s") && r.out().contains("tokens per CPU-second"), r.out());
    }

    static String[] concat(String[] a, String... b) {
        String[] o = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, o, a.length, b.length);
        return o;
    }
}
