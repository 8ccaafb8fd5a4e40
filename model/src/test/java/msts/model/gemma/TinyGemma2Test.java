package msts.model.gemma;

import msts.engine.DType;
import msts.engine.Ops;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class TinyGemma2Test {
    @TempDir Path dir;

    @Test
    void writesLoadableCheckpointWithSpreadLogits() throws Exception {
        for (DType dt : new DType[]{DType.F32, DType.BF16}) {
            Path d = TinyGemma2.write(dir.resolve(dt.name()), TinyGemma2.Spec.small().withDtype(dt), 42);
            assertTrue(Files.isRegularFile(d.resolve("config.json")));
            try (Gemma2 m = Gemma2.load(d, Ops.reference())) {
                assertEquals(dt, m.weights().embedTokens().dtype());
                assertEquals(TinyGemma2.Spec.small().withDtype(dt).config(), m.config());
                int[] toks = {2, 10, 20, 30, 40, 50, 60, 70, 80, 90};
                var r = m.forward(new int[][]{toks}, Gemma2.Options.logitsAll().withCapture(1));
                float[] lg = r.logits()[0];
                double sum = 0, sq = 0;
                for (float f : lg) { assertTrue(Float.isFinite(f)); sum += f; sq += f * f; }
                double std = Math.sqrt(sq / lg.length - (sum / lg.length) * (sum / lg.length));
                assertTrue(std > 0.5 && std < 8, "logit std " + std);
                for (float f : r.resid()[0][0]) assertTrue(Math.abs(f) < 100, "resid O(1..10): " + f);
            }
        }
    }

    @Test
    void sameSeedSameWeights() throws Exception {
        Path a = TinyGemma2.write(dir.resolve("a"), TinyGemma2.Spec.small(), 1);
        Path b = TinyGemma2.write(dir.resolve("b"), TinyGemma2.Spec.small(), 1);
        Path c = TinyGemma2.write(dir.resolve("c"), TinyGemma2.Spec.small(), 2);
        assertArrayEquals(Files.readAllBytes(a.resolve("model.safetensors")), Files.readAllBytes(b.resolve("model.safetensors")));
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(a.resolve("model.safetensors")), Files.readAllBytes(c.resolve("model.safetensors"))));
    }
}
