package msts.cli;

import msts.model.gemma.TinyGemma2;
import msts.sae.SaeConfig;
import msts.sae.SaeIO;
import msts.sae.SaeParams;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Hostile inputs, table-driven: every case runs the CLI and must end with the expected exit code (2 usage,
 * 1 error) and a stderr of exactly one line {@code msts: ...} containing the expected words — no stack
 * trace, no usage dump, no Java-internal text — and must not touch what was there before.
 */
class HostileInputTest {
    @TempDir static Path dir;
    static Path model, acts, sae, saeRun, tok, probing;
    static String d;

    /** One hostile case: arguments ({DIR} is the temp dir), the exit code, words the line must contain, an optional setup. */
    record Case(String name, int code, String expect, Consumer<Path> setup, String... args) {}

    @BeforeAll
    static void setUp() throws Exception {
        d = dir.toString();
        model = TinyGemma2.write(dir.resolve("model"), TinyGemma2.Spec.small(), 3);
        assertEquals(0, CliRun.of("synthetic", "--out", d + "/syn", "--seqs", "32", "--context", "16", "--d", "16").code());
        acts = dir.resolve("syn/activations.safetensors");
        CliRun r = CliRun.of("train", "--activations", acts.toString(), "--d-sae", "24", "--tokens", "1024", "--batch", "256",
                "--quiet", "--out", d + "/run");
        assertEquals(0, r.code(), r.err());
        saeRun = dir.resolve("run");
        SaeConfig cfg = SaeConfig.builder().dIn(16).dSae(24).hookLayer(1).hookName("blocks.1.hook_resid_post").build();
        sae = dir.resolve("sae16");
        SaeIO.save(sae, cfg, SaeParams.init(cfg, 5), java.util.Map.of());
        try (InputStream in = HostileInputTest.class.getResourceAsStream("/demo/probing_topic.jsonl")) {
            List<String> lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().limit(20).toList();
            probing = dir.resolve("probing.jsonl");
            Files.write(probing, lines);
            tok = HarvestCommandTest.wordTokenizer(dir.resolve("tokenizer.json"), String.join(" ", lines) + " alpha beta gamma");
        }
    }

    static Consumer<Path> write(String rel, String content) {
        return base -> {
            try {
                Path p = base.resolve(rel);
                Files.createDirectories(p.getParent());
                Files.writeString(p, content);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        };
    }

    static Consumer<Path> copyDir(Path from, String to) {
        return base -> {
            try {
                Path t = base.resolve(to);
                Files.createDirectories(t);
                try (var s = Files.list(from)) {
                    for (Path f : s.toList()) if (Files.isRegularFile(f)) Files.copy(f, t.resolve(f.getFileName()));
                }
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        };
    }

    static Consumer<Path> both(Consumer<Path> a, Consumer<Path> b) {
        return a.andThen(b);
    }

    /** A Gemma-2 config.json with one field replaced (raw JSON text). */
    static Consumer<Path> config(String name, String field, String rawValue) {
        return base -> {
            try {
                Path t = base.resolve(name);
                Files.createDirectories(t);
                var om = new com.fasterxml.jackson.databind.ObjectMapper();
                var root = (com.fasterxml.jackson.databind.node.ObjectNode) om.readTree(model.resolve("config.json").toFile());
                root.set(field, om.readTree(rawValue));
                Files.writeString(t.resolve("config.json"), om.writeValueAsString(root));
                Files.copy(model.resolve("model.safetensors"), t.resolve("model.safetensors"));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        };
    }

    static Consumer<Path> saeCfg(String name, String field, String rawValue) {
        return base -> {
            try {
                copyDir(sae, name).accept(base);
                var om = new com.fasterxml.jackson.databind.ObjectMapper();
                Path c = base.resolve(name).resolve("cfg.json");
                var root = (com.fasterxml.jackson.databind.node.ObjectNode) om.readTree(c.toFile());
                root.set(field, om.readTree(rawValue));
                Files.writeString(c, om.writeValueAsString(root));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        };
    }

    static Consumer<Path> truncate(Path from, String to, long bytes) {
        return base -> {
            try {
                Path t = base.resolve(to);
                Files.createDirectories(t.getParent());
                byte[] b = Files.readAllBytes(from);
                Files.write(t, java.util.Arrays.copyOf(b, (int) Math.min(bytes, b.length)));
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        };
    }

    static Consumer<Path> checkpointState(String name, String content) {
        return base -> {
            try {
                Path t = base.resolve(name);
                copyTree(saeRun, t);
                Path state = t.resolve("checkpoint/trainer_state.json");
                if (content != null) Files.writeString(state, content);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        };
    }

    static void copyTree(Path from, Path to) throws Exception {
        try (var s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path q = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(q);
                else if (!p.getFileName().toString().equals(".lock")) Files.copy(p, q);
            }
        }
    }

    static List<Case> cases() {
        String A = "{A}", M = "{M}";
        List<Case> c = new ArrayList<>();
        // ---- bad option values: one line, no usage dump; exit 1 for a value out of range, 2 for one that does not parse ----
        String[] train = {"train", "--activations", A, "--d-sae", "8", "--out", "{DIR}/t"};
        String[][] badTrain = {
                {"--lr", "-1", "--lr must be > 0"}, {"--lr", "0", "--lr must be > 0"}, {"--lr", "NaN", "finite"}, {"--lr", "Infinity", "finite"},
                {"--l1", "-0.5", "--l1 must be non-negative"}, {"--clip", "NaN", "--clip must be a finite"}, {"--clip", "-1", "--clip"},
                {"--lr-decay", "5", "--lr-decay must be in [0, 1]"}, {"--max-steps", "-4", "--max-steps"},
                {"--checkpoint-every", "-1", "--checkpoint-every"}, {"--batch", "0", "--batch must be >= 1"},
                {"--tokens", "-5", "--tokens"}, {"--k", "0", "--k must be >= 1"}, {"--sep-weight", "-1", "--sep-weight"},
                {"--sep-margin", "2", "--sep-margin"}, {"--dilations", "1,-2,4", "--dilations"}, {"--sparse", "-2", "--sparse must be >= -1"},
                {"--lr-warmup", "-7", "--lr-warmup must be >= -1"}, {"--aux-coefficient", "-1", "--aux-coefficient"},
                {"--dead-after", "0", "--dead-after"}, {"--threads", "0", "--threads must be >= 1"}, {"--hook-layer", "-3", "--hook-layer"},
                {"--d-sae", "99999999999", "--d-sae"}, {"--batch", "abc", "--batch"}, {"--lr", "1e999", "finite"},
        };
        for (String[] b : badTrain) {
            String[] args = concat(train, b[0], b[1]);
            boolean unparsable = b[1].equals("abc") || b[1].equals("99999999999"); // picocli's converter: a usage error
            c.add(new Case("train " + b[0] + " " + b[1], unparsable ? 2 : 1, b[2], null, args));
        }
        c.add(new Case("unknown option", 2, "Unknown option", null, concat(train, "--bogus")));
        c.add(new Case("unknown command", 2, "frobnicate", null, "frobnicate"));
        c.add(new Case("missing required", 2, "Missing required", null, "train", "--d-sae", "8"));
        c.add(new Case("synthetic --noise NaN", 1, "--noise must be a finite", null, "synthetic", "--out", "{DIR}/s", "--noise", "NaN"));
        c.add(new Case("synthetic --noise -1", 1, "--noise", null, "synthetic", "--out", "{DIR}/s", "--noise", "-1"));
        c.add(new Case("synthetic --seqs 0", 1, "--seqs", null, "synthetic", "--out", "{DIR}/s", "--seqs", "0"));
        c.add(new Case("synthetic --on-fraction 2", 1, "--on-fraction", null, "synthetic", "--out", "{DIR}/s", "--on-fraction", "2"));
        c.add(new Case("synthetic --scales 0", 1, "--scales", null, "synthetic", "--out", "{DIR}/s", "--scales", "1,0"));
        c.add(new Case("tiny-model --hidden 0", 1, "--hidden", null, "tiny-model", "--out", "{DIR}/m", "--hidden", "0"));
        c.add(new Case("tiny-model --layers -1", 1, "--layers", null, "tiny-model", "--out", "{DIR}/m", "--layers", "-1"));
        c.add(new Case("harvest --tokens -1", 1, "--tokens", null, "harvest", "--model", M, "--layer", "0", "--corpus", "x", "--tokens", "-1", "--out", "{DIR}/h"));
        c.add(new Case("harvest --tokens lots", 2, "not a count", null, "harvest", "--model", M, "--layer", "0", "--corpus", "x", "--tokens", "lots", "--out", "{DIR}/h"));
        c.add(new Case("harvest --context 1", 1, "--context", null, "harvest", "--model", M, "--layer", "0", "--corpus", "x", "--tokens", "64", "--context", "1", "--out", "{DIR}/h"));
        c.add(new Case("eval core --rows 0", 1, "--rows", null, "eval", "core", "--sae", "x", "--model", M, "--corpus", "x", "--rows", "0", "--out", "{DIR}/e"));
        c.add(new Case("eval probing --train-fraction 0", 1, "--train-fraction", null, "eval", "probing", "--sae", "x", "--model", M, "--data", "x", "--train-fraction", "0", "--out", "{DIR}/e"));
        c.add(new Case("eval unlearning --multipliers -5", 1, "--multipliers", null, "eval", "unlearning", "--sae", "x", "--model", M,
                "--forget", "x", "--retain", "x", "--wmdp", "x", "--mmlu", "x", "--multipliers", "25,-5", "--out", "{DIR}/e"));

        // ---- errors: one line, exit 1 ----
        c.add(new Case("missing activations", 1, "no such file", null, "train", "--activations", "{DIR}/nope.safetensors", "--d-sae", "8", "--out", "{DIR}/t"));
        c.add(new Case("huge --d-sae", 1, "needs", null, "train", "--activations", A, "--d-sae", "2000000000", "--out", "{DIR}/t"));
        c.add(new Case("huge --batch", 1, "needs", null, "train", "--activations", A, "--d-sae", "64", "--batch", "2000000000", "--out", "{DIR}/t"));
        c.add(new Case("resume without out", 1, "nothing to resume", null, "train", "--activations", A, "--d-sae", "8", "--resume", "--out", "{DIR}/typo"));
        c.add(new Case("resume without checkpoint", 1, "trainer_state.json", write("empty-run/checkpoint/note.txt", "x"),
                "train", "--activations", A, "--d-sae", "24", "--resume", "--out", "{DIR}/empty-run"));
        c.add(new Case("train over a run", 1, "--force", checkpointState("taken", null), "train", "--activations", A, "--d-sae", "24", "--out", "{DIR}/taken"));
        c.add(new Case("resume and force", 1, "contradict", null, "train", "--activations", A, "--d-sae", "24", "--resume", "--force", "--out", "{DIR}/x"));
        c.add(new Case("resume: truncated trainer_state.json", 1, "trainer_state.json", checkpointState("trunc", "{\"step\": 4, \"scal"),
                "train", "--activations", A, "--d-sae", "24", "--tokens", "2048", "--batch", "256", "--resume", "--out", "{DIR}/trunc"));
        c.add(new Case("resume: empty trainer_state.json", 1, "trainer_state.json", checkpointState("empty", ""),
                "train", "--activations", A, "--d-sae", "24", "--tokens", "2048", "--batch", "256", "--resume", "--out", "{DIR}/empty"));
        c.add(new Case("resume: string step", 1, "step must be an integer", checkpointState("strstep", "{\"step\": \"4\", \"scaling_factor\": 1.0, \"tokens_since_fired\": [], \"sae\": {\"d_in\": 16, \"d_sae\": 24}}"),
                "train", "--activations", A, "--d-sae", "24", "--tokens", "2048", "--batch", "256", "--resume", "--out", "{DIR}/strstep"));
        c.add(new Case("truncated activations", 1, "activations", truncate(acts, "trunc.safetensors", 5000),
                "train", "--activations", "{DIR}/trunc.safetensors", "--d-sae", "8", "--out", "{DIR}/t2"));
        c.add(new Case("empty activations", 1, "empty.safetensors", write("empty.safetensors", ""),
                "train", "--activations", "{DIR}/empty.safetensors", "--d-sae", "8", "--out", "{DIR}/t3"));
        c.add(new Case("garbage activations", 1, "garbage.safetensors", write("garbage.safetensors", "\u0010\0\0\0\0\0\0\0{\"a\":1}garbage"),
                "train", "--activations", "{DIR}/garbage.safetensors", "--d-sae", "8", "--out", "{DIR}/t4"));
        c.add(new Case("tiny-model over existing", 1, "--force", null, "tiny-model", "--out", M));
        c.add(new Case("synthetic over existing", 1, "--force", null, "synthetic", "--out", "{DIR}/syn"));
        c.add(new Case("tiny-model huge", 1, "needs", null, "tiny-model", "--out", "{DIR}/big", "--hidden", "100000"));
        c.add(new Case("synthetic huge", 1, "needs", null, "synthetic", "--out", "{DIR}/big", "--seqs", "100000000"));
        c.add(new Case("synthetic: directions overflow", 1, "needs", null, "synthetic", "--out", "{DIR}/big", "--features-per-scale", "100000",
                "--d", "100000", "--seqs", "1", "--context", "2"));
        c.add(new Case("synthetic into a file", 1, "not a directory", null, "synthetic", "--out", "{ACTS}"));
        c.add(new Case("forward huge", 1, "needs", null, "forward", "--model", M, "--tokens", "1,".repeat(70000) + "1", "--out", "{DIR}/f.safetensors"));
        c.add(new Case("forward bad token", 1, "--tokens", null, "forward", "--model", M, "--tokens", "1,x,3", "--out", "{DIR}/f.safetensors"));
        c.add(new Case("info: string rope_theta", 1, "rope_theta must be a number", config("c1", "rope_theta", "\"abc\""), "info", "--model", "{DIR}/c1"));
        c.add(new Case("info: 2^31-1 layers", 1, "num_hidden_layers", config("c2", "num_hidden_layers", "2147483647"), "info", "--model", "{DIR}/c2"));
        c.add(new Case("info: 64-bit vocab", 1, "vocab_size", config("c3", "vocab_size", "4294967808"), "info", "--model", "{DIR}/c3"));
        c.add(new Case("info: float hidden", 1, "hidden_size must be an integer", config("c4", "hidden_size", "64.5"), "info", "--model", "{DIR}/c4"));
        c.add(new Case("info: string bool", 1, "tie_word_embeddings", config("c5", "tie_word_embeddings", "\"yes\""), "info", "--model", "{DIR}/c5"));
        c.add(new Case("info: truncated config", 1, "config.json", both(copyDir(model, "c6"), write("c6/config.json", "{\"model_type\": \"gemma2\", \"hidd")),
                "info", "--model", "{DIR}/c6"));
        c.add(new Case("info: empty config", 1, "config.json", both(copyDir(model, "c7"), write("c7/config.json", "")), "info", "--model", "{DIR}/c7"));
        c.add(new Case("info: no model", 1, "no-model", null, "info", "--model", "{DIR}/no-model"));
        String[] dis = {"eval", "disentangle", "--activations", A, "--out", "{DIR}/e"};
        c.add(new Case("cfg.json string d_sae", 1, "d_sae must be an integer", saeCfg("s1", "d_sae", "\"24\""), concat(dis, "--sae", "{DIR}/s1")));
        c.add(new Case("cfg.json 64-bit d_sae", 1, "d_sae", saeCfg("s2", "d_sae", "8589934616"), concat(dis, "--sae", "{DIR}/s2")));
        c.add(new Case("cfg.json huge d_sae", 1, "d_sae 2000000000", saeCfg("s3", "d_sae", "2000000000"), concat(dis, "--sae", "{DIR}/s3")));
        c.add(new Case("cfg.json string l1", 1, "l1_coefficient must be a number", saeCfg("s4", "l1_coefficient", "\"5\""), concat(dis, "--sae", "{DIR}/s4")));
        c.add(new Case("cfg.json bad dilations", 1, "dilations", saeCfg("s5", "dilations", "[1, \"2\"]"), concat(dis, "--sae", "{DIR}/s5")));
        c.add(new Case("cfg.json truncated", 1, "cfg.json", both(copyDir(sae, "s6"), write("s6/cfg.json", "{\"d_in\": 16, \"d_")), concat(dis, "--sae", "{DIR}/s6")));
        c.add(new Case("cfg.json empty", 1, "cfg.json", both(copyDir(sae, "s7"), write("s7/cfg.json", "")), concat(dis, "--sae", "{DIR}/s7")));
        c.add(new Case("cfg.json array", 1, "cfg.json", both(copyDir(sae, "s8"), write("s8/cfg.json", "[1,2]")), concat(dis, "--sae", "{DIR}/s8")));
        c.add(new Case("no SAE", 1, "nosae", null, concat(dis, "--sae", "{DIR}/nosae")));
        c.add(new Case("probing: d_in mismatch", 1, "d_in 16", null, "eval", "probing", "--sae", "{SAE}", "--model", M, "--tokenizer", "{TOK}",
                "--data", "{PROBING}", "--context", "16", "--out", "{DIR}/e"));
        c.add(new Case("harvest: empty corpus", 1, "no sequence", write("empty.txt", ""), "harvest", "--model", M, "--tokenizer", "{TOK}",
                "--quiet", "--layer", "0", "--corpus", "{DIR}/empty.txt", "--tokens", "64", "--context", "8", "--out", "{DIR}/h-empty"));
        c.add(new Case("harvest: missing corpus", 1, "corpus", null, "harvest", "--model", M, "--tokenizer", "{TOK}",
                "--quiet", "--layer", "0", "--corpus", "{DIR}/none.txt", "--tokens", "64", "--context", "8", "--out", "{DIR}/h-none"));
        c.add(new Case("harvest: bad layer", 1, "layer", write("c.txt", "alpha beta gamma\n"), "harvest", "--model", M, "--tokenizer", "{TOK}",
                "--quiet", "--layer", "9", "--corpus", "{DIR}/c.txt", "--tokens", "64", "--context", "8", "--out", "{DIR}/h-layer"));
        if (Files.isDirectory(Path.of("/proc/self"))) {
            c.add(new Case("synthetic --out under /proc", 1, "cannot be created in /proc", null, "synthetic", "--out", "/proc/msts-out", "--seqs", "8", "--context", "8"));
            c.add(new Case("train --out under /proc", 1, "/proc/msts-out", null, "train", "--activations", A, "--d-sae", "8", "--out", "/proc/msts-out"));
        }
        c.add(new Case("report: no run", 1, "norun", null, "report", "{DIR}/norun", "--out", "{DIR}/rep"));
        return c;
    }

    static String[] concat(String[] a, String... b) {
        String[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @TestFactory
    Stream<DynamicTest> everyHostileInputEndsInOneClearLine() {
        List<Case> cases = cases();
        return cases.stream().map(k -> DynamicTest.dynamicTest(k.name(), () -> {
            if (k.setup() != null) k.setup().accept(dir);
            String[] args = new String[k.args().length];
            for (int i = 0; i < args.length; i++) args[i] = subst(k.args()[i]);
            CliRun r = CliRun.of(args);
            assertOneLine(r, k.code(), k.expect());
        }));
    }

    /** A second train into an --out that a running train holds (its .lock is locked) refuses; nothing is written. */
    @org.junit.jupiter.api.Test
    void trainLocksItsOut() throws Exception {
        Path out = Files.createDirectories(dir.resolve("locked"));
        try (var ch = java.nio.channels.FileChannel.open(out.resolve(".lock"), java.nio.file.StandardOpenOption.CREATE,
                java.nio.file.StandardOpenOption.WRITE); var lock = ch.lock()) {
            CliRun r = CliRun.of("train", "--activations", acts.toString(), "--d-sae", "8", "--tokens", "512", "--batch", "256",
                    "--quiet", "--out", out.toString());
            assertOneLine(r, 1, "in use by another training run");
        }
        try (var s = Files.list(out)) {
            assertEquals(List.of(".lock"), s.map(p -> p.getFileName().toString()).toList(), "nothing written");
        }
        CliRun r = CliRun.of("train", "--activations", acts.toString(), "--d-sae", "8", "--tokens", "512", "--batch", "256",
                "--quiet", "--out", out.toString());
        assertEquals(0, r.code(), r.err());
    }

    static String subst(String s) {
        return s.replace("{DIR}", d).replace("{A}", acts.toString()).replace("{ACTS}", acts.toString()).replace("{M}", model.toString())
                .replace("{MODEL}", model.toString()).replace("{SAE}", sae.toString()).replace("{TOK}", tok.toString())
                .replace("{PROBING}", probing.toString());
    }

    /** Exit code as expected, stderr exactly one line "msts: ..." with the expected words, and no Java internals. */
    static void assertOneLine(CliRun r, int code, String expect) {
        String err = r.err().strip();
        // progress bars (stderr by design) aside
        List<String> lines = err.lines().filter(l -> !l.startsWith("WARNING:") && !l.matches(".*\\[[#.]+\\].*ETA.*")).toList();
        assertEquals(1, lines.size(), "exactly one line on stderr, got:\n" + r.err());
        String line = lines.getFirst();
        assertTrue(line.startsWith("msts: "), line);
        assertTrue(line.contains(d == null ? expect : expect.replace("{DIR}", d)), "'" + expect + "' in: " + line);
        for (String bad : new String[]{"Exception", "\tat ", "java.lang", "Usage:", "null"})
            assertFalse(line.contains(bad), "no '" + bad + "' in: " + line);
        assertEquals(code, r.code(), line);
    }
}
