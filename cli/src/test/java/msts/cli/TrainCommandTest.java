package msts.cli;

import msts.engine.Tensor;
import msts.sae.Architecture;
import msts.sae.Sae;
import msts.sae.SaeIO;
import msts.sae.SaeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.*;

class TrainCommandTest {
    static Path activations(Path dir, boolean withNaN) throws Exception {
        int n = 16, ctx = 8, d = 12;
        float[] x = new float[n * ctx * d];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < x.length; i++) x[i] = r.nextDouble() < 0.3 ? (float) r.nextDouble(0, 3) : 0f;
        if (withNaN) java.util.Arrays.fill(x, Float.NaN);
        Path f = dir.resolve(withNaN ? "nan.safetensors" : "acts.safetensors");
        SaeTensors.write(f, Map.of("activations", Tensor.of(x, n, ctx, d)), Map.of());
        return f;
    }

    static int run(ByteArrayOutputStream err, String... args) {
        PrintStream old = System.err;
        System.setProperty("msts.quiet", "true");
        try {
            System.setErr(new PrintStream(err, true));
            return Main.run(args);
        } finally {
            System.setErr(old);
        }
    }

    @Test
    void trainsEachArchitectureAndWritesSaeLensLayout(@TempDir Path dir) throws Exception {
        Path acts = activations(dir, false);
        for (String arch : new String[]{"relu", "topk", "temporal"}) {
            Path out = dir.resolve(arch);
            int code = run(new ByteArrayOutputStream(), "train", "--activations", acts.toString(), "--arch", arch,
                    "--d-sae", "24", "--k", "4", "--tokens", "2000", "--batch", "64", "--lr", "1e-3",
                    "--sep-weight", "0.1", "--checkpoint-every", "5", "--out", out.toString());
            assertEquals(0, code, arch);
            Sae sae = SaeIO.load(out, msts.engine.Ops.reference());
            assertEquals(Architecture.parse(arch), sae.architecture()); // --arch relu is an alias of standard
            assertEquals(12, sae.dIn());
            assertTrue(Files.isRegularFile(out.resolve("summary.json")));
            assertTrue(Files.isRegularFile(out.resolve("checkpoint/training_state.safetensors")));
        }
        // a second run into the same directory without --resume is refused with one clear line
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = run(err, "train", "--activations", acts.toString(), "--d-sae", "24", "--out", dir.resolve("relu").toString());
        assertEquals(1, code);
        assertTrue(err.toString().contains("--resume"), err.toString());
    }

    /** --arch jumprelu | batchtopk and their temporal forms (--activation) train and save as SAELens jumprelu. */
    @Test
    void trainsThresholdSaesAndSavesThemAsJumpRelu(@TempDir Path dir) throws Exception {
        Path acts = activations(dir, false);
        String[][] runs = {{"jumprelu", "relu"}, {"batchtopk", "relu"}, {"temporal", "jumprelu"}, {"temporal", "batchtopk"}};
        for (String[] v : runs) {
            Path out = dir.resolve(v[0] + "-" + v[1]);
            int code = run(new ByteArrayOutputStream(), "train", "--activations", acts.toString(), "--arch", v[0],
                    "--activation", v[1], "--d-sae", "24", "--k", "4", "--l0", "0.1", "--bandwidth", "0.1",
                    "--init-threshold", "0.02", "--threshold-lr", "0.05", "--tokens", "2000", "--batch", "64",
                    "--lr", "1e-3", "--out", out.toString());
            assertEquals(0, code, v[0] + "/" + v[1]);
            Sae sae = SaeIO.load(out, msts.engine.Ops.reference());
            assertEquals(v[0].equals("temporal") ? Architecture.TEMPORAL : Architecture.JUMPRELU, sae.architecture());
            assertEquals("jumprelu", sae.cfg().get("activation"));
            assertTrue(msts.sae.SaeTensors.read(out.resolve("sae_weights.safetensors")).containsKey("threshold"));
        }
        CliRun h = CliRun.of("train", "--help");
        assertEquals(0, h.code(), h.err());
        String help = h.out().replaceAll("\\s+", " ");
        for (String s : new String[]{"--bandwidth", "Default: 0.05", "--init-threshold", "Default: 0.01", "--l0", "Default: 1.0", "batchtopk"})
            assertTrue(help.contains(s), "help lacks " + s + ": " + help);
    }

    @Test
    void referenceBackendTrainsOnTheReferenceOps(@TempDir Path dir) throws Exception {
        Path acts = activations(dir, false);
        Path out = dir.resolve("ref");
        int code = run(new ByteArrayOutputStream(), "train", "--backend", "reference", "--quiet", "--threads", String.valueOf(msts.engine.Parallel.threads()),
                "--activations", acts.toString(), "--d-sae", "16", "--tokens", "640", "--batch", "64", "--out", out.toString());
        assertEquals(0, code);
        var summary = new com.fasterxml.jackson.databind.ObjectMapper().readTree(out.resolve("summary.json").toFile());
        assertEquals("reference", summary.get("ops").asText(), summary.toString());
        assertEquals("cpu", summary.get("steps_on").asText(), "no whole-step extension: the trainer's own step on the backend's ops");
    }

    @Test
    void nanActivationsStopWithNonZeroExit(@TempDir Path dir) throws Exception {
        Path acts = activations(dir, true);
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = run(err, "train", "--activations", acts.toString(), "--d-sae", "8", "--no-normalize",
                "--tokens", "500", "--batch", "32", "--out", dir.resolve("o").toString());
        assertEquals(1, code);
        assertTrue(err.toString().contains("NaN"), err.toString());
        assertFalse(Files.exists(dir.resolve("o/summary.json")));
    }

    @Test
    void missingInputIsOneClearError(@TempDir Path dir) {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = run(err, "train", "--activations", dir.resolve("none.safetensors").toString(), "--d-sae", "8", "--out", dir.resolve("o").toString());
        assertEquals(1, code);
        assertTrue(err.toString().contains("no such file"), err.toString());
    }

    /** harvest → train --store end to end: a tiny random Gemma-2, a BF16 store, a temporal SAE on it. */
    @Test
    void trainsOnAHarvestedStore(@TempDir Path dir) throws Exception {
        Path model = msts.model.gemma.TinyGemma2.write(dir.resolve("tiny"), msts.model.gemma.TinyGemma2.Spec.small(), 3);
        Path corpus = dir.resolve("c.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 12; i++) sb.append("{\"text\": \"document ").append(i).append(" about sparse features and temporal context over tokens\"}\n");
        Files.writeString(corpus, sb.toString());
        Path tj = HarvestCommandTest.wordTokenizer(dir.resolve("tokenizer.json"), Files.readString(corpus));
        Path store = dir.resolve("store");
        CliRun h = CliRun.of("harvest", "--model", model.toString(), "--layer", "1", "--corpus", corpus.toString(),
                "--context", "8", "--tokens", "96", "--tokenizer", tj.toString(), "--quiet", "--out", store.toString());
        assertEquals(0, h.code(), h.err());
        Path out = dir.resolve("sae");
        CliRun t = CliRun.of("train", "--store", store.toString(), "--arch", "temporal", "--d-sae", "32", "--tokens", "700",
                "--batch", "32", "--hook-layer", "1", "--out", out.toString());
        assertEquals(0, t.code(), t.err());
        Sae sae = SaeIO.load(out, msts.engine.Ops.reference());
        assertEquals(Architecture.TEMPORAL, sae.architecture());
        assertEquals("blocks.1.hook_resid_post", sae.cfg().get("hook_name"));
        assertEquals(8, sae.cfg().get("context_size"));

        // without flags the hook and model come from the store's manifest (not blocks.0 / gemma-2-2b)
        Path out2 = dir.resolve("sae2");
        t = CliRun.of("train", "--store", store.toString(), "--d-sae", "16", "--tokens", "64", "--batch", "32", "--out", out2.toString());
        assertEquals(0, t.code(), t.err());
        Sae s2 = SaeIO.load(out2, msts.engine.Ops.reference());
        assertEquals("blocks.1.hook_resid_post", s2.cfg().get("hook_name"));
        assertEquals(1, s2.cfg().get("hook_layer"));
        assertEquals("tiny", s2.cfg().get("model_name"));
        assertFalse(t.err().contains("warning"), t.err());
        // a differing --hook-layer is ignored with a warning; a differing --model-name wins with a warning
        Path out3 = dir.resolve("sae3");
        t = CliRun.of("train", "--store", store.toString(), "--d-sae", "16", "--tokens", "64", "--batch", "32",
                "--hook-layer", "0", "--model-name", "gemma-2-2b", "--out", out3.toString());
        assertEquals(0, t.code(), t.err());
        Sae s3 = SaeIO.load(out3, msts.engine.Ops.reference());
        assertEquals("blocks.1.hook_resid_post", s3.cfg().get("hook_name"));
        assertEquals("gemma-2-2b", s3.cfg().get("model_name"));
        assertTrue(t.err().contains("--hook-layer 0 ignored") && t.err().contains("--model-name gemma-2-2b differs"), t.err());
    }
}
