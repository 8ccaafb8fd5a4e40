package msts.engine.backend;

import static org.junit.jupiter.api.Assertions.*;

import msts.engine.CpuOps;
import msts.engine.Ops;
import org.junit.jupiter.api.Test;

/** Backend resolution without the TornadoVM module on the class path (the default build). */
class BackendsTest {
    @Test
    void cpuIsAlwaysAvailable() {
        assertNotNull(Backends.resolve("cpu", null));
        assertNotNull(Backends.resolve(null, null));
        assertSame(CpuOps.INSTANCE, Backends.resolve("cpu", null).ops());
        assertSame(CpuOps.INSTANCE, Backends.resolve(null, null).ops());
        assertEquals("cpu", Backends.resolve("CPU", null).name());
    }

    @Test
    void referenceIsTheControl() {
        Backend b = Backends.resolve("reference", null);
        assertEquals("reference", b.name());
        assertSame(Ops.reference(), b.ops());
        assertTrue(b.extension(Object.class).isEmpty(), "built-in backends have no extensions");
    }

    @Test
    void tornadoWithoutItsModuleGivesOneClearError() {
        var e = assertThrows(IllegalArgumentException.class, () -> Backends.resolve("tornado", null));
        assertTrue(e.getMessage().contains("not on the class path"), e.getMessage());
        assertTrue(e.getMessage().contains("--backend tornado"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void unknownBackendIsNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> Backends.resolve("cuda", null));
        assertTrue(e.getMessage().contains("'cuda'"), e.getMessage());
        assertTrue(e.getMessage().contains("cpu, reference"), e.getMessage());
    }

    @Test
    void deviceNeedsADeviceBackend() {
        for (String b : new String[]{"cpu", "reference"}) {
            var e = assertThrows(IllegalArgumentException.class, () -> Backends.resolve(b, "0:0"));
            assertTrue(e.getMessage().contains("--device 0:0"), e.getMessage());
            assertTrue(e.getMessage().contains("--backend tornado"), e.getMessage());
        }
    }

    @Test
    void builtInsTakeNoOptions() {
        var e = assertThrows(IllegalArgumentException.class, () -> Backends.resolve("cpu", null, java.util.Map.of("maxPlans", "2")));
        assertTrue(e.getMessage().contains("maxPlans"), e.getMessage());
    }
}
