package msts.experiment;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The plan format: the built-in plan, defaults, the hash, and the errors of bad plans. */
class PlanTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path BASE = Path.of("/plans");

    @Test
    void builtinSparsePlanComparesTheTemporalSaeWithTheBaselineAtTheDemosSparsity() {
        Plan p = Plan.parse(Plan.builtin("sparse"), BASE);
        assertEquals("demo", p.model());
        assertEquals(10, p.seeds().size());
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L), p.seeds());
        assertEquals("baseline", p.baseline());
        assertEquals(2, p.configs().size());
        assertArrayEquals(new int[]{1, 2, 4}, p.config("conv").dilations());
        assertEquals(6.0, p.targetL0());
        assertFalse(p.seeds().contains(p.calibration().seed()));
        assertArrayEquals(new double[]{6, 8, 10, 12}, p.units().get("baseline").l1Grid());
        assertArrayEquals(new double[]{4, 6, 8, 10}, p.units().get("conv").l1Grid());
        assertEquals(List.of("core", "unlearning"), p.evals());
        assertEquals(List.of(64), p.contexts(), "the demo's SAE context");
        assertNotEquals(Plan.parse(Plan.builtin("seed"), BASE).hash(), p.hash());
        assertEquals(Plan.BUILTIN, List.of("seed", "sparse"));
    }

    @Test
    void builtinSeedPlanIsTheStudysFiveRunsAgainstTheBaseline() {
        Plan p = Plan.parse(Plan.builtin("seed"), BASE);
        assertEquals("demo", p.model());
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), p.seeds());
        assertEquals("baseline", p.baseline());
        assertEquals(6, p.configs().size(), "baseline + five runs");
        assertArrayEquals(new int[]{1, 2, 4}, p.config("conv").dilations());
        assertEquals(0.1f, p.config("sep").sepWeight());
        assertEquals(128, p.config("baseline").context());
        assertEquals(256, p.config("conv+sep-ctx256").context(), "run 4: context 256 instead of 128");
        assertEquals(List.of(128, 256), p.contexts());
        assertEquals(Plan.EVALS, p.evals());
        // matched L0: every config calibrated to one target on a seed the evaluation does not use
        assertEquals(16.0, p.targetL0());
        assertFalse(p.seeds().contains(p.calibration().seed()));
        for (var u : p.units().entrySet())
            assertArrayEquals(new double[]{1, 2, 4, 8}, u.getValue().l1Grid(), u.getKey());
        assertEquals(0, p.calibration().tokens(), "calibrated at full length: L0 keeps falling as training goes on");
        // run 5: final is tuned over dilations × separation weight on a tuning seed, selected by a validation metric
        Plan.Tune t = p.config("final").tune();
        assertEquals(6, t.candidates().size());
        assertEquals(List.of("dilations", "sep_weight"), t.keys());
        assertEquals("explained_variance", t.select());
        assertArrayEquals(new int[]{1, 2, 4, 8}, t.candidates().get(5).cfg().dilations());
        assertEquals(0.3f, t.candidates().get(5).cfg().sepWeight());
        assertEquals(0.03f, t.candidates().get(0).cfg().sepWeight());
        assertFalse(p.seeds().contains(p.tuningSeed()));
        assertEquals(5 + 6, p.units().size(), "5 untuned configs + 6 candidates are calibrated");
        assertEquals(List.of("clean", "low_snr"), p.groundTruth().regimes());
        assertTrue(p.groundTruth().tokenSnr() < 1 && 16 * p.groundTruth().tokenSnr() > 1);
        // RMU tuned on the demo model (docs/experiment.md, "RMU settings"): the paper's α 1200 and lr 5e-5 move nothing there
        assertEquals(100, p.rmu().alpha());
        assertEquals(1e-3f, p.rmu().lr());
        assertEquals(List.of("gate", "up", "down"), p.rmu().modules());
        assertEquals(p.rmu().layer() - 2, p.rmu().firstLayer(), "RMU updates layers L-2..L");
    }

    @Test
    void hashIgnoresKeyOrderAndFollowsTheResolvedModel() throws Exception {
        ObjectNode a = (ObjectNode) JSON.readTree("{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"}],\"seeds\":3}");
        ObjectNode b = (ObjectNode) JSON.readTree("{\"seeds\":3,\"configs\":[{\"name\":\"b\"}],\"world\":\"w\",\"model\":\"m\"}");
        Plan pa = Plan.parse(a, BASE), pb = Plan.parse(b, BASE);
        assertEquals(pa.hash(), pb.hash());
        assertNotEquals(pa.hash(), pa.withModel("/elsewhere").hash());
        ObjectNode c = a.deepCopy();
        c.put("seeds", 4);
        assertNotEquals(pa.hash(), Plan.parse(c, BASE).hash());
        // defaults are filled in
        assertEquals(List.of(0L, 1L, 2L), pa.seeds());
        assertEquals("b", pa.baseline());
        assertEquals("relu", pa.config("b").arch());
        assertEquals(Path.of("/plans/m").toString(), pa.model());
        // the core eval reads held-out training text unless the plan asks for the retain corpus, which changes the hash
        assertEquals(Plan.Core.HELD_OUT, pa.core().corpus());
        ObjectNode r = a.deepCopy();
        r.putObject("core").put("corpus", "retain");
        Plan pr = Plan.parse(r, BASE);
        assertEquals(Plan.Core.RETAIN, pr.core().corpus());
        assertNotEquals(pa.hash(), pr.hash());
    }

    @Test
    void badPlansNameTheKey() throws Exception {
        List<String[]> cases = new ArrayList<>();
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\",\"d_sae\":0}]}", "configs[0].d_sae\" must be in 1.."});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[]}", "\"configs\" must be a non-empty list"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"},{\"name\":\"b\"}]}", "two configs are named 'b'"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"}],\"baseline\":\"z\"}", "baseline 'z' is not one of"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"}],\"evals\":[\"autointerp\"]}", "unknown eval 'autointerp'"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\",\"l1_grid\":[1,2]}]}", "apply only with the plan's \"target_l0\""});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"target_l0\":8,\"configs\":[{\"name\":\"b\",\"k_grid\":[4,8]}]}", "give l1_grid, not k_grid"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"target_l0\":8,\"configs\":[{\"name\":\"b\",\"arch\":\"topk\",\"d_sae\":16,\"k\":4,\"k_grid\":[4,32]}]}", "k_grid entry 32 exceeds d_sae 16"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"target_l0\":8,\"configs\":[{\"name\":\"b\",\"l1_grid\":[0,2]}]}", "l1_grid entries must be > 0"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"target_l0\":8,\"calibration\":{\"seed\":2},\"configs\":[{\"name\":\"b\"}]}", "calibration.seed 2 is an evaluation seed"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"calibration\":{\"seed\":99},\"configs\":[{\"name\":\"b\"}]}", "\"calibration\" applies only with \"target_l0\""});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"target_l0\":0,\"configs\":[{\"name\":\"b\"}]}", "\"target_l0\" must be > 0"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"},{\"name\":\"f\",\"tune\":{\"sep_weight\":[0.1]},\"select\":\"unlearning_score\"}]}", "select must be one of"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"},{\"name\":\"f\",\"tune\":{\"colour\":[1]}}]}", "'colour' is not a tunable config key"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"},{\"name\":\"f\",\"tune\":{\"sep_weight\":[]}}]}", "tune.sep_weight must be a non-empty list"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"},{\"name\":\"f\",\"tune\":{\"d_sae\":[0]}}]}", "configs[1].tune[t0].d_sae\" must be in 1.."});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"},{\"name\":\"f\",\"select\":\"explained_variance\"}]}", "\"select\" needs a \"tune\" grid"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\",\"tune\":{\"l1\":[1,2]}}]}", "baseline 'b' cannot be tuned"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"seeds\":[0,2000],\"configs\":[{\"name\":\"b\"},{\"name\":\"f\",\"tune\":{\"l1\":[1,2]}}]}", "tuning.seed 2000 is an evaluation seed"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"}],\"probing\":{\"train_fraction\":1}}", "probing.train_fraction must be in (0, 1)"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\",\"arch\":\"temporal\",\"batch\":32,\"context\":64}]}", "less than one sequence"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"}],\"ground_truth\":{\"token_snr\":1.5}}", "token_snr must be in (0, 1)"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"}],\"ground_truth\":{\"token_snr\":0.05}}", "no feature has SNR > 1 over its run"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"}],\"rmu\":{\"modules\":[\"attn\"]}}", "is not gate, up, down or post_norm"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"}],\"unlearning\":{\"multipliers\":[2.5]}}", "whole numbers"});
        cases.add(new String[]{"{\"world\":\"w\",\"configs\":[{\"name\":\"b\"}]}", "missing key \"model\""});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"}],\"train\":{\"lr\":\"fast\"}}", "train.lr\" must be a finite number"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"}],\"core\":{\"corpus\":\"forget\"}}", "core.corpus\" must be one of [held_out, retain]"});
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Plan.parse((ObjectNode) JSON.readTree(c[0]), BASE), c[1]);
            assertTrue(e.getMessage().contains(c[1]), c[1] + " vs " + e.getMessage());
        }
    }

    @Test
    void tuneGridExpandsToEveryCombinationFirstKeyOutermost() throws Exception {
        ObjectNode a = (ObjectNode) JSON.readTree("{\"model\":\"m\",\"world\":\"w\",\"target_l0\":10,\"train\":{\"l1\":4},\"configs\":[{\"name\":\"b\"},"
                + "{\"name\":\"f\",\"arch\":\"temporal\",\"context\":32,\"tune\":{\"context\":[32,64],\"sep_weight\":[0.1,0.2,0.3]}},"
                + "{\"name\":\"k\",\"arch\":\"topk\",\"d_sae\":64}]}");
        Plan p = Plan.parse(a, BASE);
        List<Plan.Candidate> c = p.config("f").tune().candidates();
        assertEquals(6, c.size());
        int[] ctx = {32, 32, 32, 64, 64, 64};
        float[] sep = {0.1f, 0.2f, 0.3f, 0.1f, 0.2f, 0.3f};
        for (int i = 0; i < 6; i++) {
            assertEquals("t" + i, c.get(i).id());
            assertEquals(ctx[i], c.get(i).cfg().context());
            assertEquals(sep[i], c.get(i).cfg().sepWeight());
            assertArrayEquals(new int[]{1, 2, 4}, c.get(i).cfg().dilations(), "untuned keys keep the config's value");
        }
        assertEquals("context=64, sep_weight=0.2", c.get(4).settings());
        assertEquals(List.of(64, 32), p.contexts(), "candidates' contexts are harvested");
        assertEquals(List.of("b", "f/t0", "f/t1", "f/t2", "f/t3", "f/t4", "f/t5", "k"), List.copyOf(p.units().keySet()));
        assertArrayEquals(new double[]{1, 2, 4, 8}, p.config("b").l1Grid(), "default L1 grid: the config's L1 × 1/4, 1/2, 1, 2");
        assertArrayEquals(new int[]{10}, p.config("k").kGrid(), "default k grid: the target L0");
        assertNull(p.config("k").l1Grid());
        assertEquals(7, p.config("k").withSparsity(7).k());
        assertEquals(2.5f, p.config("b").withSparsity(2.5).l1());
        Plan.SaeCfg as = p.config("f").as(c.get(5).cfg());
        assertEquals("f", as.name());
        assertEquals(64, as.context());
        assertNotNull(as.tune());
    }

    @Test
    void paretoFrontKeepsOnlyUndominatedSettings() {
        List<double[]> pts = List.of(new double[]{1.0, 0.9}, new double[]{0.95, 0.5}, new double[]{0.9, 0.6}, new double[]{0.99, 0.95}, new double[]{0.8, 0.2});
        List<double[]> f = ExperimentReport.paretoFront(pts);
        assertEquals(3, f.size());
        assertArrayEquals(new double[]{0.8, 0.2}, f.get(0));
        assertArrayEquals(new double[]{0.95, 0.5}, f.get(1));
        assertArrayEquals(new double[]{1.0, 0.9}, f.get(2));
    }

    @Test
    void chanceRecoveryIsTheRandomDecodersLevel() {
        assertTrue(ExperimentReport.chanceRecovery(2, 2000, 50, 1) > 0.999, "many latents in 2 dimensions cover every direction");
        double c = ExperimentReport.chanceRecovery(32, 256, 192, 1);
        assertTrue(c > 0.4 && c < 0.7, "random decoder in 32 dimensions: " + c);
        assertTrue(ExperimentReport.chanceRecovery(512, 4, 50, 1) < 0.15, "few latents in many dimensions: near 0");
    }
}
