package msts.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.PrintWriter;
import java.io.StringWriter;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** `msts devices` and the --backend mixin without the TornadoVM module (the default build). */
class DevicesCommandTest {
    @Test
    void devicesSaysTornadoIsNotAvailable() {
        StringWriter out = new StringWriter();
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(new PrintWriter(out));
        assertEquals(0, cl.execute("devices"));
        assertTrue(out.toString().contains("tornado  not available"), out.toString());
    }

    @Test
    void deviceWithoutTornadoBackendIsAnError() {
        BackendOption b = new BackendOption();
        new CommandLine(new Object() {
            @CommandLine.Mixin BackendOption opt = b;
        }).parseArgs("--device", "0:0");
        var e = assertThrows(IllegalArgumentException.class, b::backend);
        assertTrue(e.getMessage().contains("--backend tornado"), e.getMessage());
    }

    @Test
    void runOptionsAreCheckedAtTheTop() {
        CliRun r = CliRun.of("forward", "--threads", "0", "--model", "no-such-dir", "--tokens", "1", "--out", "x.safetensors");
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("msts: --threads must be >= 1"), r.err());
        r = CliRun.of("forward", "--backend", "reference", "--backend-option", "maxPlans=2", "--model", "no-such-dir", "--tokens", "1", "--out", "x.safetensors");
        assertEquals(1, r.code());
        assertTrue(r.err().contains("backend 'reference' takes no --backend-option"), r.err());
        r = CliRun.of("forward", "--ops", "reference", "--model", "no-such-dir", "--tokens", "1", "--out", "x.safetensors");
        assertEquals(2, r.code(), "--ops folded into --backend: a usage error now");
    }
}
