package msts.model.gemma;

import msts.engine.Ops;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Attention biases (q, k, v, o) and the exact erf GELU through every {@link Ops} implementation against the
 * independent numpy reference (scripts/gemma2_reference.py, variant gemma2-tiny-bias-erf; float64 with
 * math.erf). Both features run as ops ({@code addBias}, {@code gegluErf}), not inline in Gemma2.
 */
class Gemma2BiasErfParityTest {
    @Test
    void biasAndErfGeluMatchNumpyReference() throws Exception {
        for (Ops ops : Gemma2ParityTest.allOps()) {
            try (Gemma2 m = Gemma2.load(Gemma2ParityTest.resource("gemma2-tiny-bias-erf"), ops)) {
                assertTrue(m.config().attentionBias());
                assertFalse(m.config().geluTanh());
            }
            Gemma2ParityTest.check("gemma2-tiny-bias-erf", ops, Gemma2ParityTest.LOGIT_TOL, Gemma2ParityTest.RESID_TOL);
        }
    }
}
