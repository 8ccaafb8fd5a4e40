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
    void builtinSeedPlanIsTheStudysFiveRunsAgainstTheBaseline() {
        Plan p = Plan.parse(Plan.builtin("seed"), BASE);
        assertEquals("demo", p.model());
        assertEquals(List.of(0L, 1L, 2L, 3L, 4L), p.seeds());
        assertEquals("baseline", p.baseline());
        assertEquals(6, p.configs().size(), "baseline + five runs");
        assertArrayEquals(new int[]{1, 2, 4}, p.config("conv").dilations());
        assertEquals(0.1f, p.config("sep").sepWeight());
        assertEquals(2 * p.config("baseline").context(), p.config("conv+sep-ctx128").context(), "run 4: twice the context");
        assertEquals(List.of(64, 128), p.contexts());
        assertEquals(Plan.EVALS, p.evals());
        assertEquals(List.of("clean", "low_snr"), p.groundTruth().regimes());
        assertTrue(p.groundTruth().tokenSnr() < 1 && 16 * p.groundTruth().tokenSnr() > 1);
        assertEquals(1200, p.rmu().alpha());
        assertEquals(5e-5f, p.rmu().lr());
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
    }

    @Test
    void badPlansNameTheKey() throws Exception {
        List<String[]> cases = new ArrayList<>();
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\",\"d_sae\":0}]}", "configs[0].d_sae\" must be in 1.."});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[]}", "\"configs\" must be a non-empty list"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"},{\"name\":\"b\"}]}", "two configs are named 'b'"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"}],\"baseline\":\"z\"}", "baseline 'z' is not one of"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"}],\"evals\":[\"probing\"]}", "unknown eval 'probing'"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\",\"arch\":\"temporal\",\"batch\":32,\"context\":64}]}", "less than one sequence"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"}],\"ground_truth\":{\"token_snr\":1.5}}", "token_snr must be in (0, 1)"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"}],\"ground_truth\":{\"token_snr\":0.05}}", "no feature has SNR > 1 over its run"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"}],\"rmu\":{\"modules\":[\"attn\"]}}", "is not gate, up or down"});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"}],\"unlearning\":{\"multipliers\":[2.5]}}", "whole numbers"});
        cases.add(new String[]{"{\"world\":\"w\",\"configs\":[{\"name\":\"b\"}]}", "missing key \"model\""});
        cases.add(new String[]{"{\"model\":\"m\",\"world\":\"w\",\"configs\":[{\"name\":\"b\"}],\"train\":{\"lr\":\"fast\"}}", "train.lr\" must be a finite number"});
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Plan.parse((ObjectNode) JSON.readTree(c[0]), BASE), c[1]);
            assertTrue(e.getMessage().contains(c[1]), c[1] + " vs " + e.getMessage());
        }
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
