package msts.evals;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SaeBenchLayoutTest {
    static Path run(Path runs, String name, double ceScore) {
        FakeModel lm = FakeModel.random(16, 5, 7);
        EvalOutput o = CoreEval.run(msts.engine.CpuOps.INSTANCE, lm, new FakeTokenizer(16), TestSae.identity(5), new int[][]{{2, 5, 6, 7, 1}}, new CoreEval.Config(0, 1, true), name).output();
        return o.write(runs.resolve(name)).getParent();
    }

    @Test
    void twoSaesLandSideBySideUnderTheEvalType(@TempDir Path dir) throws Exception {
        Path a = run(dir.resolve("runs"), "relu-8k", 0), b = run(dir.resolve("runs"), "temporal-8k", 0);
        // a second eval type in one run
        Map<String, Map<String, Object>> m = Map.of("unlearning", Map.of("unlearning_score", 0.25));
        new EvalOutput("unlearning", Map.of(), "id", 1L, m, List.of(), null, "msts", null, null, null, Map.of()).write(b);
        Path root = dir.resolve("saebench");
        List<Path> written = SaeBenchLayout.export(List.of(a, b), root);
        assertEquals(3, written.size());
        assertTrue(Files.isRegularFile(root.resolve("core/relu-8k_eval_results.json")));
        assertTrue(Files.isRegularFile(root.resolve("core/temporal-8k_eval_results.json")));
        Path un = root.resolve("unlearning/temporal-8k_eval_results.json");
        assertTrue(Files.isRegularFile(un));
        // graphing_utils.plot_results finds the core file of an eval by replacing the eval type with "core"
        Path core = Path.of(un.toString().replace("unlearning", "core"));
        JsonNode c = EvalOutput.read(core);
        assertTrue(c.at("/eval_result_metrics/sparsity/l0").isNumber());
        assertTrue(c.at("/eval_result_metrics/model_performance_preservation/ce_loss_score").isNumber());
        assertEquals(Files.readString(a.resolve("core_eval_results.json")), Files.readString(root.resolve("core/relu-8k_eval_results.json")));
    }

    @Test
    void sameRunNameTwiceIsRejectedBeforeWriting(@TempDir Path dir) {
        Path a = run(dir.resolve("x"), "sae", 0), b = run(dir.resolve("y"), "sae", 0);
        var ex = assertThrows(IllegalArgumentException.class, () -> SaeBenchLayout.export(List.of(a, b), dir.resolve("out")));
        assertTrue(ex.getMessage().contains("two runs named sae"), ex.getMessage());
        assertFalse(Files.exists(dir.resolve("out")));
    }
}
