package msts.bench;

import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The torch peer of {@code msts bench matmul --compute bf16} is found from the source tree and ships in the jar. */
class Bf16MatmulBenchTest {
    @Test
    void torchPeerScriptIsFound() throws Exception {
        Path p = Bf16MatmulBench.script();
        assertTrue(Files.isRegularFile(p), p.toString());
        assertTrue(Files.readString(p).contains("torch.bfloat16"), p.toString());
        assertNotNull(Bf16MatmulBench.class.getResource("/msts/bench/torch_bf16_matmul.py"), "script missing from the jar");
    }

    @Test
    void layerTorchPeerScriptSitsNextToTheNumpyOne() {
        Path numpy = LayerBench.findScript();
        assertNotNull(numpy, "scripts/bench_layer_numpy.py");
        assertTrue(Files.isRegularFile(numpy.resolveSibling("bench_layer_torch.py")));
    }
}
