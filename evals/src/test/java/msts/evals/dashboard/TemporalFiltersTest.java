package msts.evals.dashboard;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** Tap gain and strength against hand-computed values (d_in 2, two latents, one scale). */
class TemporalFiltersTest {
    @Test
    void gainAndStrengthByHand() {
        // W_enc [d_in=2, d_sae=2]: latent 0 reads (1, 2), latent 1 reads (0, 0) (no encoder: all zero)
        float[] wEnc = {1, 0, 2, 0};
        // conv_w [1, 2, 3]: channel 0 taps (0.5, -1, 0), channel 1 taps (0.25, 0, 2)
        float[] conv = {0.5f, -1f, 0f, 0.25f, 0f, 2f};
        SaeView v = new SaeView(null, 2, 2, "temporal", true, wEnc, new float[4], conv, new int[]{2}, false, Map.of());
        float[][][] f = TemporalFilters.of(v, 0);
        // ‖w‖² = 5; gain_j = Σ w_c² k_cj / 5; strength_j = sqrt(Σ w_c² k_cj² / 5)
        assertEquals((1 * 0.5 + 4 * 0.25) / 5, f[0][0][0], 1e-6);
        assertEquals(-1.0 / 5, f[0][1][0], 1e-6);
        assertEquals(8.0 / 5, f[0][2][0], 1e-6);
        assertEquals(Math.sqrt((0.25 + 4 * 0.0625) / 5), f[0][0][1], 1e-6);
        assertEquals(Math.sqrt(1.0 / 5), f[0][1][1], 1e-6);
        assertEquals(Math.sqrt(16.0 / 5), f[0][2][1], 1e-6);
        assertEquals(0f, TemporalFilters.of(v, 1)[0][2][0], "a latent without encoder weights has no filter");
        assertEquals(0, v.tapOffset(0, 0));
        assertEquals(-4, v.tapOffset(0, 2));
        SaeView c = new SaeView(null, 2, 2, "temporal", true, wEnc, new float[4], conv, new int[]{2}, true, Map.of());
        assertEquals(-2, c.tapOffset(0, 0));
        assertEquals(2, c.tapOffset(0, 2));
    }
}
