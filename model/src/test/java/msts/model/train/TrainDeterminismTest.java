package msts.model.train;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Training steps give the same bits in a cold JVM as after the JIT compiled them (a resumed run starts
 * cold), and with 1 or 3 threads (rows are split differently): {@link TrainDeterminismProbe} in child JVMs.
 */
class TrainDeterminismTest {
    static String probe(int threads) throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Path fx = Gemma2BackpropTest.fixture();
        Process p = new ProcessBuilder(List.of(java, "--add-modules", "jdk.incubator.vector", "-Dmsts.threads=" + threads,
                "-cp", System.getProperty("java.class.path"), TrainDeterminismProbe.class.getName(), fx.toString(), "600")).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), err);
        return out;
    }

    @Test
    void sameBitsColdAfterJitAndForAnyThreadCount() throws Exception {
        String one = probe(1), three = probe(3);
        assertTrue(one.startsWith("0 "), "bits changed while the JIT warmed up (1 thread): " + one);
        assertTrue(three.startsWith("0 "), "bits changed while the JIT warmed up (3 threads): " + three);
        assertEquals(one, three, "1 thread vs 3 threads");
    }
}
