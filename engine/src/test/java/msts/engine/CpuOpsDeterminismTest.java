package msts.engine;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * CpuOps must give the same bits on its first, interpreted call as after C1 and C2 have compiled it:
 * otherwise a resumed harvest or a repeated forward pass differs from an uninterrupted one. A fresh
 * child JVM runs {@link DeterminismProbe}, which counts how often the output changes while warming up.
 */
class CpuOpsDeterminismTest {

    @Test
    void sameBitsColdAndAfterJit() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        Process p = new ProcessBuilder(List.of(java, "--add-modules", "jdk.incubator.vector", "-Dmsts.threads=2",
                "-cp", System.getProperty("java.class.path"), DeterminismProbe.class.getName(), "1500")).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), err);
        assertEquals("0", out, "CpuOps output changed while the JIT warmed up (times changed: " + out + ")");
    }
}
