package msts.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * `msts demo` (the README's first command) end to end at reduced sizes: every step must succeed and leave
 * the files the report is built from. The full-size demo is the same code with larger token counts.
 */
class DemoCommandTest {
    @TempDir Path dir;

    @Test
    void smallDemoRunsEveryStepAndWritesTheReport() throws Exception {
        Path out = dir.resolve("demo");
        CliRun r = CliRun.of("demo", "--out", out.toString(), "--harvest-tokens", "3000", "--train-tokens", "16000",
                "--synthetic-tokens", "16000", "--d-sae", "64");
        assertEquals(0, r.code(), r.err());
        Path html = out.resolve("report/report.html");
        assertTrue(r.out().contains("Report: " + html.toAbsolutePath()), r.out());
        assertTrue(Files.size(html) > 1000);
        String md = Files.readString(out.resolve("report/report.md"));
        assertTrue(md.contains("RANDOM weights"), "the report must say which numbers come from the random model");
        for (String png : new String[]{"l0_vs_explained_variance.png", "unlearning_accuracy.png", "decoder_cosine_histogram.png",
                "latent_persistence.png", "ground_truth_recovery.png"}) {
            Path p = out.resolve("report").resolve(png);
            assertTrue(Files.size(p) > 5000, png);
            byte[] head = Files.readAllBytes(p);
            assertEquals((byte) 0x89, head[0], png + " is not a PNG");
            assertEquals('P', head[1], png + " is not a PNG");
        }
        for (String sae : new String[]{"baseline", "temporal"}) {
            Path f = out.resolve("features").resolve(sae);
            assertTrue(Files.size(f.resolve("index.html")) > 200, sae + " dashboard index");
            assertTrue(Files.readString(f.resolve("latents/00000.html")).contains("\"promoted\""), sae + " latent page with output tokens");
        }
        assertTrue(r.out().contains("Feature dashboards: " + out.resolve("features/temporal/index.html").toAbsolutePath()), r.out());
        ObjectMapper json = new ObjectMapper();
        for (String sae : new String[]{"baseline", "temporal"}) {
            Path run = out.resolve("runs").resolve(sae);
            for (String eval : new String[]{"core", "unlearning", "sparse_probing", "msts_disentanglement"}) {
                JsonNode n = json.readTree(run.resolve(eval + "_eval_results.json").toFile());
                assertEquals(eval, n.get("eval_type_id").asText());
                assertTrue(n.get("eval_result_metrics").size() > 0, sae + " " + eval);
                assertTrue(n.has("sae_cfg_dict"), sae + " " + eval);
            }
            double score = json.readTree(run.resolve("unlearning_eval_results.json").toFile())
                    .at("/eval_result_metrics/unlearning/unlearning_score").asDouble(Double.NaN);
            assertTrue(score >= 0 && score <= 1, "unlearning score " + score);
        }
        for (String sae : new String[]{"baseline-synthetic", "temporal-synthetic"}) {
            JsonNode n = json.readTree(out.resolve("runs").resolve(sae).resolve("msts_disentanglement_eval_results.json").toFile());
            assertTrue(n.toString().contains("recovery_time_scale_16"), sae);
        }
    }
}
