package msts.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import msts.model.tokenizer.GemmaTokenizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizeCommandTest {
    static final String TEXT = "naïve café 日本 hello";

    /** A WordLevel tokenizer.json whose vocabulary has non-ASCII words (and Gemma's special ids 0..3). */
    static Path tokenizer(Path dir) throws Exception {
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
        String[] words = {"naïve", "café", "日本", "hello", "caf", "na", "ve"};
        for (int i = 0; i < words.length; i++) vocab.put(words[i], 4 + i);
        m.put("unk_token", "<unk>");
        Path f = dir.resolve("tokenizer.json");
        Files.writeString(f, om.writeValueAsString(root), StandardCharsets.UTF_8);
        return f;
    }

    static String run(String... args) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintWriter out = new PrintWriter(new OutputStreamWriter(bytes, StandardCharsets.UTF_8), true);
        int rc = Main.run(out, null, args);
        out.flush();
        assertEquals(0, rc, String.join(" ", args));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void textToIdsAndPiecesWithAndWithoutBos(@TempDir Path dir) throws Exception {
        Path tj = tokenizer(dir);
        String out = run("tokenize", "--tokenizer", tj.toString(), "--text", TEXT);
        assertEquals("ids: 2,4,5,6,7", out.lines().findFirst().orElseThrow());
        assertTrue(out.contains("5\tcafé"), out);
        assertTrue(out.contains("6\t日本"), out);
        JsonNode j = new ObjectMapper().readTree(run("tokenize", "--tokenizer", tj.toString(), "--text", TEXT, "--no-bos", "--format", "json"));
        assertEquals("[4,5,6,7]", j.get("ids").toString());
        assertEquals("[\"naïve\",\"café\",\"日本\",\"hello\"]", j.get("pieces").toString());
        try (GemmaTokenizer tok = GemmaTokenizer.load(tj)) {
            assertArrayEquals(tok.encode(TEXT, false), new int[]{4, 5, 6, 7});
        }
    }

    @Test
    void fileIsReadAsUtf8AndDecodeRoundTrips(@TempDir Path dir) throws Exception {
        Path tj = tokenizer(dir);
        Path f = dir.resolve("t.txt");
        Files.writeString(f, TEXT, StandardCharsets.UTF_8);
        assertEquals("ids: 2,4,5,6,7", run("tokenize", "--tokenizer", tj.toString(), "--file", f.toString()).lines().findFirst().orElseThrow());
        String text = run("tokenize", "--tokenizer", tj.toString(), "--decode", "4,5,6,7").strip();
        assertEquals(List.of("naïve", "café", "日本", "hello"), List.of(text.split(" ")));
        Files.write(dir.resolve("bad.txt"), new byte[]{'a', (byte) 0xC3, (byte) 0x28});
        assertEquals(1, Main.run("tokenize", "--tokenizer", tj.toString(), "--file", dir.resolve("bad.txt").toString()));
        assertEquals(1, Main.run("tokenize", "--tokenizer", tj.toString(), "--decode", "4,999"));
    }

    /** A real process under LC_ALL=C: the non-ASCII argument still reaches the tokenizer as UTF-8. */
    @Test
    void nonAsciiArgumentUnderCLocale(@TempDir Path dir) throws Exception {
        Path tj = tokenizer(dir);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), "msts.cli.Main", "tokenize", "--tokenizer", tj.toString(), "--text", TEXT, "--format", "json"));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().remove("LANG");
        pb.environment().remove("LC_CTYPE");
        pb.environment().put("LC_ALL", "C");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), err);
        JsonNode j = new ObjectMapper().readTree(out.lines().filter(l -> l.startsWith("{")).findFirst().orElseThrow(() -> new AssertionError(out + err)));
        assertEquals("[2,4,5,6,7]", j.get("ids").toString(), "no <unk> (3): the text arrived as UTF-8");
        assertEquals("café", j.get("pieces").get(2).asText(), "stdout is UTF-8 under LC_ALL=C");
    }
}
