package msts.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code msts experiment} end to end on a reduced plan (2 seeds, 3 SAE configurations on two contexts, every
 * eval, RMU, both ground-truth regimes) over a small world and a tiny model trained on it here; then resume,
 * a different plan in the same directory, and bad plans, each one {@code msts:} line before any work.
 */
class ExperimentCommandTest {
    @TempDir static Path dir;
    static final ObjectMapper JSON = new ObjectMapper();

    static final String PLAN = """
            {
              "name": "small", "model": "m", "world": "w", "layer": 1, "seeds": 2,
              "harvest": {"tokens": 3000},
              "train": {"d_sae": 64, "l1": 4, "lr": 0.001, "batch": 256, "tokens": 12000, "context": 32},
              "configs": [
                {"name": "baseline", "arch": "relu"},
                {"name": "conv+sep", "arch": "temporal", "dilations": [1, 2], "sep_weight": 0.1},
                {"name": "ctx64", "arch": "temporal", "dilations": [1, 2], "context": 64}
              ],
              "core": {"rows": 4, "context": 32},
              "unlearning": {"rows": 16, "context": 32, "retain_thresholds": [0.01], "n_features": [5], "multipliers": [25, 100],
                             "all_permutations": false, "batch": 16},
              "ground_truth": {"configs": ["baseline", "conv+sep"], "seqs": 64, "context": 32, "d": 16, "features_per_scale": 8,
                               "tokens": 12000, "d_sae": 64},
              "rmu": {"layer": 1, "steps": 4, "eval_steps": [2, 4], "rows": 16, "context": 32, "batch": 2, "lr": 0.001}
            }
            """;

    @BeforeAll
    static void worldAndModel() {
        CliRun w = CliRun.of("world", "--out", dir.resolve("w").toString(), "--entities", "6", "--eval-entities", "3", "--paraphrases", "12");
        assertEquals(0, w.code(), w.err());
        CliRun m = CliRun.of("lm", "train", "--world", dir.resolve("w").toString(), "--out", dir.resolve("m").toString(), "--hidden", "32",
                "--layers", "2", "--heads", "4", "--kv-heads", "2", "--intermediate", "128", "--context", "128", "--sliding-window", "32",
                "--tokens", "12000", "--batch", "4", "--quiet");
        assertEquals(0, m.code(), m.err());
    }

    static Path plan(String name, String text) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, text);
        return p;
    }

    @Test
    void reducedPlanRunsEndToEndResumesAndRefusesAnotherPlan() throws Exception {
        Path out = dir.resolve("exp");
        CliRun r = CliRun.of("experiment", plan("small.json", PLAN).toString(), "--out", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Report: " + out.resolve("report/report.html").toAbsolutePath()), r.out());
        assertTrue(r.err().contains("ETA"), "progress with ETA over the whole experiment");
        String md = Files.readString(out.resolve("report/report.md"));
        for (String s : new String[]{"| configuration | L0 | explained variance", "RMU (reference)", "## Paired differences against the baseline",
                "## Matched L0", "## Ground-truth recovery by time scale and regime", "## Conclusion", "low_snr"})
            assertTrue(md.contains(s), s);
        for (String png : new String[]{"unlearning_curves.png", "ground_truth_recovery.png", "paired_unlearning_score.png", "frontier_l0_explained_variance.png"}) {
            byte[] b = Files.readAllBytes(out.resolve("report").resolve(png));
            assertTrue(b.length > 3000 && b[0] == (byte) 0x89 && b[1] == 'P', png);
        }
        JsonNode s = JSON.readTree(out.resolve("report/summary.json").toFile());
        assertEquals(2, s.at("/metrics/unlearning_score/baseline/n").asInt());
        assertEquals(2, s.at("/metrics/unlearning_score/rmu/n").asInt(), "RMU is evaluated on every seed");
        assertEquals(2, s.at("/metrics/gt_low_snr_L16/conv+sep/n").asInt());
        assertTrue(s.path("paired_differences").size() >= 8);
        for (JsonNode d : s.path("paired_differences")) {
            assertEquals(2, d.path("n").asInt(), d.toString());
            double p = d.path("p_sign_flip_exact").asDouble();
            assertTrue(p == 0.5 || p == 1.0, "with 2 pairs the exact sign-flip p is 2/4 or 4/4: " + d);
        }
        JsonNode gt = JSON.readTree(out.resolve("cells/gt-low_snr/conv+sep/seed-0/gt.json").toFile());
        assertEquals(0.5, gt.path("token_snr").asDouble(), 1e-9, "per-token SNR < 1");
        assertEquals(8.0, gt.at("/run_snr_by_time_scale/16").asDouble(), 1e-9, "SNR over a 16-token run > 1");
        JsonNode rmu = JSON.readTree(out.resolve("cells/rmu/seed-1/rmu.json").toFile());
        assertEquals(2, rmu.path("points").size());
        assertEquals(2.0 * rmu.path("mean_forget_norm").asDouble(), rmu.path("steering_coefficient").asDouble(), 1e-9);
        assertTrue(Files.isRegularFile(out.resolve("cells/ctx64/seed-1/unlearning_eval_results.json")), "SAEBench-schema results per cell");
        assertTrue(Files.isRegularFile(out.resolve("stores/ctx-64/manifest.json")), "one store per context");

        // resume: a lost cell is recomputed, nothing else; the results are bit-identical
        byte[] summary = Files.readAllBytes(out.resolve("report/summary.json"));
        Files.delete(out.resolve("cells/conv+sep/seed-1/core.json"));
        CliRun again = CliRun.of("experiment", dir.resolve("small.json").toString(), "--out", out.toString());
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("30 already done"), again.err());
        assertTrue(again.err().contains("conv+sep seed 1 core done"), again.err());
        assertArrayEquals(summary, Files.readAllBytes(out.resolve("report/summary.json")));

        // another plan in the same directory: one line, nothing touched
        byte[] planRecord = Files.readAllBytes(out.resolve("plan.json"));
        CliRun other = CliRun.of("experiment", plan("other.json", PLAN.replace("\"seeds\": 2", "\"seeds\": 3")).toString(), "--out", out.toString());
        assertEquals(1, other.code());
        assertTrue(other.err().startsWith("msts: ") && other.err().contains("another plan") && other.err().strip().lines().count() == 1, other.err());
        assertArrayEquals(planRecord, Files.readAllBytes(out.resolve("plan.json")));
        assertFalse(Files.exists(out.resolve("cells/baseline/seed-2")));
    }

    @Test
    void badPlansAreOneLineBeforeAnyWork() throws Exception {
        String[][] cases = {
                {"\"name\": \"small\",", "\"name\": \"small\", \"bogus\": 1,", "unknown key [\"bogus\"]"},
                {"{\"name\": \"baseline\", \"arch\": \"relu\"}", "{\"name\": \"baseline\", \"arch\": \"topk\", \"k\": 100}", "k 100 exceeds d_sae 64"},
                {"\"model\": \"m\"", "\"model\": \"no-such-model\"", "no config.json"},
                {"\"seeds\": 2", "\"seeds\": 1", "\"seeds\" must be 2..24"},
                {"\"layer\": 1", "\"layer\": 7", "outside the model's 2 layers"},
                {"\"world\": \"w\"", "\"world\": \"nowhere\"", "missing train.jsonl"},
                {"\"dilations\": [1, 2], \"sep_weight\"", "\"dilations\": [1, 2], \"sep_wieght\"", "unknown key [\"configs[1].sep_wieght\"]"},
                {"\"eval_steps\": [2, 4]", "\"eval_steps\": [2, 9]", "after the last step 4"},
        };
        int i = 0;
        for (String[] c : cases) {
            assertTrue(PLAN.contains(c[0]), c[0]);
            Path out = dir.resolve("bad" + i);
            CliRun r = CliRun.of("experiment", plan("bad" + i++ + ".json", PLAN.replace(c[0], c[1])).toString(), "--out", out.toString());
            assertEquals(1, r.code(), c[2] + ": " + r.err());
            assertTrue(r.err().startsWith("msts: ") && r.err().contains(c[2]) && r.err().strip().lines().count() == 1, c[2] + ": " + r.err());
            assertFalse(Files.exists(out), "no work before the plan is checked: " + c[2]);
        }
        CliRun none = CliRun.of("experiment", "--plan", "nope", "--out", dir.resolve("x").toString());
        assertEquals(1, none.code());
        assertTrue(none.err().contains("no built-in plan 'nope'"), none.err());
        CliRun missing = CliRun.of("experiment", dir.resolve("missing.json").toString(), "--out", dir.resolve("y").toString());
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("plan file not found"), missing.err());
    }
}
