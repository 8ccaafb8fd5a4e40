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
}
