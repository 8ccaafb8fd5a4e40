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
 * {@code msts experiment} end to end on a reduced plan (2 seeds, 3 SAE configurations on two contexts and a tuned
 * one, every eval, RMU, both ground-truth regimes, L1 calibrated to a target L0) over a small world and a tiny model
 * trained on it here; then resume (evaluation, calibration and tuning cells), a different plan in the same directory,
 * and bad plans, each one {@code msts:} line before any work.
 */
class ExperimentCommandTest {
    @TempDir static Path dir;
    static final ObjectMapper JSON = new ObjectMapper();

    static final String PLAN = """
            {
              "name": "small", "model": "m", "world": "w", "layer": 1, "seeds": 2,
              "harvest": {"tokens": 3000},
              "train": {"d_sae": 64, "l1": 4, "lr": 0.001, "batch": 256, "tokens": 12000, "context": 32},
              "target_l0": 12,
              "calibration": {"seed": 100, "tokens": 4000, "l1_grid": [0.5, 2, 8]},
              "tuning": {"seed": 200},
              "configs": [
                {"name": "baseline", "arch": "relu"},
                {"name": "conv+sep", "arch": "temporal", "dilations": [1, 2], "sep_weight": 0.1},
                {"name": "ctx64", "arch": "temporal", "dilations": [1, 2], "context": 64},
                {"name": "tuned", "arch": "temporal", "tune": {"dilations": [[1], [1, 2]], "sep_weight": [0, 0.3]}, "l1_grid": [1, 4]}
              ],
              "core": {"rows": 4, "context": 32},
              "validation": {"rows": 4, "context": 32},
              "probing": {"context": 32, "ks": [1, 2]},
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
                "## Matched L0", "### Calibration to L0 12", "## Tuning", "probing top-1 accuracy", "## Ground-truth recovery by time scale and regime",
                "## Conclusion", "low_snr"})
            assertTrue(md.contains(s), s);
        for (String png : new String[]{"unlearning_curves.png", "ground_truth_recovery.png", "paired_unlearning_score.png", "frontier_l0_explained_variance.png",
                "frontier_calibration_l0_explained_variance.png", "paired_probing_top1.png"}) {
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
        // feature selection and RMU read the world's general retain corpus (the wikitext analogue), and say so
        assertEquals("retain_general.jsonl", JSON.readTree(out.resolve("cells/ctx64/seed-1/unlearning.json").toFile()).path("retain_corpus").asText());
        assertEquals("retain_general.jsonl", rmu.path("retain_corpus").asText());
        assertTrue(Files.isRegularFile(out.resolve("stores/ctx-64/manifest.json")), "one store per context");
        assertEquals(2, s.at("/metrics/probing_top1/ctx64/n").asInt(), "probing on every seed");
        double top1 = s.at("/metrics/probing_top1/baseline/mean").asDouble();
        assertTrue(top1 >= 0 && top1 <= 1, "an accuracy: " + top1);

        // matched L0: each config's L1 comes from its calibration grid (calibration seed, not an evaluation seed) and is what it was trained with
        for (String c : new String[]{"baseline", "conv+sep", "ctx64"}) {
            JsonNode ch = JSON.readTree(out.resolve("calibration/" + c + "/choice.json").toFile());
            assertEquals(3, ch.path("grid").size(), c);
            assertEquals(12.0, ch.path("target_l0").asDouble());
            for (int i = 0; i < 3; i++) {
                JsonNode pt = JSON.readTree(out.resolve("calibration/" + c + "/l1-" + new String[]{"0.5", "2", "8"}[i] + "/cal.json").toFile());
                assertEquals(pt.path("l0").asDouble(), ch.path("l0").get(i).asDouble(), 0, "the choice records the measured L0s");
                assertEquals(100, pt.path("seed").asLong(), "calibration seed");
            }
            double chosen = ch.path("chosen").asDouble();
            assertTrue(chosen >= 0.5 && chosen <= 8, c + ": chosen L1 in the grid's range: " + chosen);
            if (ch.path("bracketed").asBoolean()) {
                int i = 0;
                double[] g = {0.5, 2, 8}, l0 = new double[3];
                for (int j = 0; j < 3; j++) l0[j] = ch.path("l0").get(j).asDouble();
                while ((l0[i] - 12) * (l0[i + 1] - 12) > 0) i++;
                assertTrue(chosen >= g[i] && chosen <= g[i + 1], c + ": between the bracketing grid points");
            }
            for (int seed = 0; seed < 2; seed++)
                assertEquals((float) chosen, (float) JSON.readTree(out.resolve("cells/" + c + "/seed-" + seed + "/train.json").toFile()).path("l1").asDouble(),
                        c + " trained at its calibrated L1");
        }
        assertTrue(s.has("l0_relative_to_target"), "L0 compared with the target");
        // tuning: 4 candidates, each calibrated, trained on the tuning seed; the selected one has the highest validation explained variance
        JsonNode sel = JSON.readTree(out.resolve("tuning/tuned/selected.json").toFile());
        assertEquals(4, sel.path("candidates").size());
        String best = null;
        double bestEv = Double.NEGATIVE_INFINITY;
        for (JsonNode k : sel.path("candidates")) {
            assertEquals(200, k.path("seed").asLong(), "tuning seed");
            double chosen = JSON.readTree(out.resolve("calibration/tuned/" + k.path("candidate").asText() + "/choice.json").toFile()).path("chosen").asDouble();
            assertEquals((float) chosen, (float) k.path("l1").asDouble(), "a candidate is tuned at its calibrated L1");
            if (k.path("explained_variance").asDouble() > bestEv) {
                bestEv = k.path("explained_variance").asDouble();
                best = k.path("candidate").asText();
            }
        }
        assertEquals(best, sel.path("selected").asText());
        String[] dil = {"[1]", "[1]", "[1, 2]", "[1, 2]"};
        float[] sep = {0f, 0.3f, 0f, 0.3f};
        int b = Integer.parseInt(best.substring(1));
        JsonNode tunedTrain = JSON.readTree(out.resolve("cells/tuned/seed-1/train.json").toFile());
        assertEquals(dil[b], tunedTrain.path("dilations").asText(), "the evaluated config is the selected candidate");
        assertEquals(sep[b], (float) tunedTrain.path("sep_weight").asDouble());
        assertEquals((float) JSON.readTree(out.resolve("calibration/tuned/" + best + "/choice.json").toFile()).path("chosen").asDouble(),
                (float) tunedTrain.path("l1").asDouble());

        // resume: a lost cell is recomputed, nothing else; the results are bit-identical
        byte[] summary = Files.readAllBytes(out.resolve("report/summary.json"));
        byte[] choice = Files.readAllBytes(out.resolve("calibration/ctx64/choice.json")), selected = Files.readAllBytes(out.resolve("tuning/tuned/selected.json"));
        Files.delete(out.resolve("cells/conv+sep/seed-1/core.json"));
        Files.delete(out.resolve("calibration/ctx64/l1-2/cal.json"));
        Files.delete(out.resolve("calibration/ctx64/choice.json"));
        Files.delete(out.resolve("tuning/tuned/t1/tune.json"));
        Files.delete(out.resolve("tuning/tuned/selected.json"));
        CliRun again = CliRun.of("experiment", dir.resolve("small.json").toString(), "--out", out.toString());
        assertEquals(0, again.code(), again.err());
        assertTrue(again.err().contains("74 cells") && again.err().contains("69 already done"), again.err());
        assertTrue(again.err().contains("conv+sep seed 1 core done"), again.err());
        assertTrue(again.err().contains("calibrate ctx64 l1 2 done") && again.err().contains("tune tuned t1"), again.err());
        assertFalse(again.err().contains("ctx64 seed 0 train"), "evaluation cells already done are not retrained");
        assertArrayEquals(choice, Files.readAllBytes(out.resolve("calibration/ctx64/choice.json")), "a recomputed calibration cell is bit-identical");
        assertArrayEquals(selected, Files.readAllBytes(out.resolve("tuning/tuned/selected.json")), "a recomputed tuning cell is bit-identical");
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
                {"\"calibration\": {\"seed\": 100", "\"calibration\": {\"seed\": 1", "calibration.seed 1 is an evaluation seed"},
                {"\"tuning\": {\"seed\": 200}", "\"tuning\": {\"seed\": 0}", "tuning.seed 0 is an evaluation seed"},
                {"\"sep_weight\": [0, 0.3]}", "\"sep_weight\": [0, 0.3], \"name\": [\"x\"]}", "'name' is not a tunable config key"},
                {"\"probing\": {\"context\": 32", "\"probing\": {\"context\": 9000", "context 9000 exceeds the model's max_position_embeddings"},
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
