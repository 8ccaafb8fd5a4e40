package msts.engine;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** Backend resolution without the TornadoVM module on the class path (the default build). */
class BackendsTest {
    @Test
    void cpuIsAlwaysAvailable() {
        assertNotNull(Backends.ops("cpu", null));
        assertNotNull(Backends.ops(null, null));
    }

    @Test
    void tornadoWithoutItsModuleGivesOneClearError() {
        var e = assertThrows(IllegalArgumentException.class, () -> Backends.ops("tornado", null));
        assertTrue(e.getMessage().contains("not on the class path"), e.getMessage());
        assertTrue(e.getMessage().contains("--backend tornado"), e.getMessage());
    }

    @Test
    void unknownBackendIsNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> Backends.ops("cuda", null));
        assertTrue(e.getMessage().contains("'cuda'"), e.getMessage());
    }
}
