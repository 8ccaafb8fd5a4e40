package msts.sae;

import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@link ThresholdKernels} against the PyTorch fixtures of scripts/sae_reference.py (autograd through SAELens'
 * JumpReLU / Step functions, BatchTopK and update_topk_threshold), with the rest of the forward pass written
 * here as plain double loops — independent of the SAE classes.
 */
class ThresholdKernelsTest {
    static final Path DIR = Path.of("src/test/resources/sae-ref");

    /** Fixture: params, x and the forward quantities pre, δ = ∂L/∂x̂ and ∂L/∂f computed here in double. */
    record Fwd(Map<String, Object> meta, Map<String, SaeTensors.Entry> t, int d, int n, int rows, int T, int lossStart,
               int counted, float[] pre, float[] f, float[] df, float[] delta) {}

    @SuppressWarnings("unchecked")
    static Fwd forward(String name, boolean jumprelu) throws Exception {
        Map<String, Object> meta = new ObjectMapper().readValue(DIR.resolve(name + ".json").toFile(), Map.class);
        Map<String, Object> c = (Map<String, Object>) meta.get("cfg");
        Map<String, SaeTensors.Entry> t = SaeTensors.read(DIR.resolve(name + ".safetensors"));
        int d = (Integer) c.get("d_in"), n = (Integer) c.get("d_sae");
        int nSeq = (Integer) meta.get("nSeq"), T = (Integer) meta.get("T"), lossStart = (Integer) meta.get("lossStart");
        int rows = nSeq * T, counted = nSeq * (T - lossStart);
        float[] x = t.get("x").data(), bdec = t.get("b_dec").data(), wenc = t.get("W_enc").data(),
                benc = t.get("b_enc").data(), wdec = t.get("W_dec").data();
        float[] xc = new float[rows * d], z = new float[rows * d];
        SaeKernels.subRowVector(x, bdec, xc, d, 0, rows);
        if ("temporal".equals(c.get("architecture"))) {
            int[] dil = ((List<Integer>) c.get("dilations")).stream().mapToInt(Integer::intValue).toArray();
            SaeKernels.convForward(xc, t.get("conv_w").data(), dil, "centred".equals(c.get("conv_mode")), T, d, z, 0, rows);
        } else {
            z = xc;
        }
        float[] pre = new float[rows * n];
        for (int r = 0; r < rows; r++)
            for (int j = 0; j < n; j++) {
                double s = benc[j];
                for (int k = 0; k < d; k++) s += (double) z[r * d + k] * wenc[k * n + j];
                pre[r * n + j] = (float) s;
            }
        float[] f = new float[rows * n];
        if (jumprelu) {
            float[] theta = new float[n];
            ThresholdKernels.expInto(t.get("log_threshold").data(), theta);
            SaeKernels.jumpRelu(pre, theta, f, n, 0, rows);
        } else {
            ThresholdKernels.batchTopK(pre, f, rows, n, T, lossStart, ThresholdKernels.batchK(((Number) c.get("k")).doubleValue(), counted),
                    new float[counted * n]);
        }
        // δ = (2/|M|)(x̂ − x) on counted rows; ∂L/∂f = δ·W_decᵀ
        float[] df = new float[rows * n], deltaOut = new float[rows * d];
        for (int r = 0; r < rows; r++) {
            if (r % T < lossStart) continue;
            double[] delta = new double[d];
            for (int k = 0; k < d; k++) {
                double xh = bdec[k];
                for (int j = 0; j < n; j++) xh += (double) f[r * n + j] * wdec[j * d + k];
                delta[k] = 2.0 / counted * (xh - x[r * d + k]);
                deltaOut[r * d + k] = (float) delta[k];
            }
            for (int j = 0; j < n; j++) {
                double s = 0;
                for (int k = 0; k < d; k++) s += delta[k] * wdec[j * d + k];
                df[r * n + j] = (float) s;
            }
        }
        return new Fwd(meta, t, d, n, rows, T, lossStart, counted, pre, f, df, deltaOut);
    }

    @SuppressWarnings("unchecked")
    @ParameterizedTest
    @ValueSource(strings = {"jumprelu", "temporal_jumprelu"})
    void jumpReluForwardAndPseudoGradientsMatchTorch(String name) throws Exception {
        Fwd w = forward(name, true);
        Map<String, Object> c = (Map<String, Object>) w.meta().get("cfg");
        float eps = ((Number) c.get("jumprelu_bandwidth")).floatValue();
        float lambda = ((Number) c.get("l0_coefficient")).floatValue();
        assertArrayEquals(w.t().get("f").data(), w.f(), 1e-5f, "f");
        float[] theta = new float[w.n()];
        ThresholdKernels.expInto(w.t().get("log_threshold").data(), theta);
        // L0 term value
        long above = ThresholdKernels.countAboveThreshold(w.pre(), theta, w.rows(), w.n(), w.T(), w.lossStart());
        double l0 = ((Number) ((Map<String, Object>) w.meta().get("terms")).get("l0")).doubleValue();
        assertEquals(l0, lambda * above / (double) w.counted(), 1e-6);
        // ∂L/∂pre through JumpReLU, then ∂L/∂b_enc = Σ_r ∂L/∂pre_r against torch
        float[] dpre = new float[w.rows() * w.n()];
        ThresholdKernels.jumpReluBackwardInput(w.pre(), theta, w.df(), dpre, w.n(), 0, w.rows());
        float[] gbenc = w.t().get("grad.b_enc").data();
        for (int j = 0; j < w.n(); j++) {
            double s = 0;
            for (int r = 0; r < w.rows(); r++) s += dpre[r * w.n() + j];
            assertEquals(gbenc[j], s, 2e-5 + 1e-4 * Math.abs(gbenc[j]), "b_enc[" + j + "]");
        }
        // θ pseudo-gradient: JumpReLU STE (decoder path) + Step STE (L0 term), then through θ = exp(logθ)
        float[] dtheta = new float[w.n()], dlog = new float[w.n()];
        ThresholdKernels.jumpReluThetaGrad(w.pre(), theta, w.df(), eps, w.rows(), w.n(), dtheta, 0, w.n());
        ThresholdKernels.stepThetaGrad(w.pre(), theta, eps, lambda / w.counted(), w.rows(), w.n(), w.T(), w.lossStart(), dtheta, 0, w.n());
        ThresholdKernels.logThetaGrad(theta, dtheta, dlog);
        // the fused kernel (∂L/∂f of the window entries from δ and W_dec) agrees with the one taking ∂L/∂f
        float[] fused = new float[w.n()], ref0 = new float[w.n()];
        ThresholdKernels.jumpReluThetaGrad(w.pre(), theta, w.df(), eps, w.rows(), w.n(), ref0, 0, w.n());
        ThresholdKernels.jumpReluThetaGradFromDelta(w.pre(), theta, w.delta(), w.t().get("W_dec").data(), w.d(), eps, w.rows(), w.n(), fused, 0, w.n());
        assertArrayEquals(ref0, fused, 1e-6f);
        float[] ref = w.t().get("grad.log_threshold").data();
        int nonZero = 0;
        for (int j = 0; j < w.n(); j++) {
            assertEquals(ref[j], dlog[j], 2e-5 + 1e-4 * Math.abs(ref[j]), "log_threshold[" + j + "]");
            if (ref[j] != 0f) nonZero++;
        }
        assertTrue(nonZero >= w.n() / 2, "the fixture exercises the rectangle window for most latents");
    }

    @SuppressWarnings("unchecked")
    @ParameterizedTest
    @ValueSource(strings = {"batchtopk", "temporal_batchtopk"})
    void batchTopKSelectionAndThresholdMatchTorch(String name) throws Exception {
        Fwd w = forward(name, false);
        assertArrayEquals(w.t().get("f").data(), w.f(), 1e-5f, "f");
        int active = 0;
        for (float v : w.f()) if (v > 0f) active++;
        assertEquals(((Number) w.meta().get("active")).intValue(), active);
        Map<String, Object> c = (Map<String, Object>) w.meta().get("cfg");
        int K = ThresholdKernels.batchK(((Number) c.get("k")).doubleValue(), w.counted());
        assertTrue(active <= K && active > w.counted(), "batch-level selection: some rows hold more than k");
        double th = ThresholdKernels.updateThreshold(((Number) w.meta().get("topk_threshold_in")).doubleValue(), w.f(),
                w.rows(), w.n(), w.T(), w.lossStart(), ((Number) c.get("topk_threshold_lr")).doubleValue());
        assertEquals(((Number) w.meta().get("topk_threshold_out")).doubleValue(), th, 1e-7);
    }

    @Test
    void batchTopKKeepsExactlyTheKLargestOverTheBatchWithTiesByIndex() {
        // 2 counted rows after one BOS row (T = 3, lossStart = 1), n = 3
        float[] pre = {9, 9, 9, /* counted */ 0.5f, -1f, 2f, /* */ 2f, 0.1f, 2f};
        float[] f = new float[9];
        int kept = ThresholdKernels.batchTopK(pre, f, 3, 3, 3, 1, 3, new float[6]);
        assertEquals(3, kept);
        assertArrayEquals(new float[]{0, 0, 0, 0, 0, 2f, 2f, 0, 2f}, f);
        assertEquals(0.3, ThresholdKernels.updateThreshold(0.3, new float[9], 3, 3, 3, 1, 0.5), 0.0);
        assertEquals(0.5 * 0.3 + 0.5 * 2.0, ThresholdKernels.updateThreshold(0.3, f, 3, 3, 3, 1, 0.5), 1e-12);
    }

    @Test
    void rectangleIsTheOpenUnitInterval() {
        assertTrue(ThresholdKernels.rectangle(0f));
        assertTrue(ThresholdKernels.rectangle(0.4999f));
        assertFalse(ThresholdKernels.rectangle(0.5f));
        assertFalse(ThresholdKernels.rectangle(-0.5f));
    }
}
