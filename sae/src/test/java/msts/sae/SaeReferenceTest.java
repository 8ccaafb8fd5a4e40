package msts.sae;

import com.fasterxml.jackson.databind.ObjectMapper;
import msts.engine.Ops;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Loss terms and gradients against PyTorch autograd (fixtures from scripts/sae_reference.py), and
 * loading SAELens-layout directories (standard, jumprelu) against numpy's encode/decode.
 */
class SaeReferenceTest {
    static final Path DIR = Path.of("src/test/resources/sae-ref");

    @SuppressWarnings("unchecked")
    @ParameterizedTest
    @ValueSource(strings = {"relu", "relu_unitnorm_sep", "topk_aux", "temporal_causal_sep", "temporal_centred_topk",
            "jumprelu", "temporal_jumprelu", "batchtopk", "temporal_batchtopk"})
    void lossAndGradientsMatchTorchAutograd(String name) throws Exception {
        Map<String, Object> meta = new ObjectMapper().readValue(DIR.resolve(name + ".json").toFile(), Map.class);
        SaeConfig c = SaeConfig.fromMap((Map<String, Object>) meta.get("cfg"));
        Map<String, SaeTensors.Entry> t = SaeTensors.read(DIR.resolve(name + ".safetensors"));
        SaeParams p = SaeParams.forConfig(c);
        float[][] arrays = p.arrays();
        for (int i = 0; i < arrays.length; i++)
            if (arrays[i].length > 0) System.arraycopy(t.get(SaeParams.NAMES[i]).data(), 0, arrays[i], 0, arrays[i].length);
        boolean[] dead = null;
        if (t.containsKey("dead")) {
            float[] dm = t.get("dead").data();
            dead = new boolean[dm.length];
            for (int j = 0; j < dm.length; j++) dead[j] = dm[j] != 0f;
        }
        int nSeq = (Integer) meta.get("nSeq"), T = (Integer) meta.get("T"), lossStart = (Integer) meta.get("lossStart");
        // the activation's sparsity coefficient: L1's λ, or L0's λ for JumpReLU (its term is reported as l1)
        boolean jump = c.activation() == Activation.JUMPRELU;
        float l1 = jump ? c.l0Coefficient() : ((Number) meta.get("l1")).floatValue();
        String sparsityTerm = jump ? "l0" : "l1";
        for (double sparse : new double[]{0.0, 2.0}) {
        SaeParams g = p.zerosLike();
        AbstractSae loss = SaeRegistry.create(c, p, Ops.reference());
        if (meta.containsKey("topk_threshold_in")) loss.restoreTrainingState(Map.of("topk_threshold", meta.get("topk_threshold_in")));
        AbstractSae.LossTerms r = loss.loss(t.get("x").data(), nSeq, T, new AbstractSae.LossInput(lossStart, l1, dead, 0, new SparsePolicy(sparse)), g);
        assertEquals(sparse > 1, loss.lastCallSparse());
        Map<String, Number> terms = (Map<String, Number>) meta.get("terms");
        assertEquals(((Number) meta.get("loss")).doubleValue(), r.loss(), 1e-5 * Math.abs(r.loss()));
        assertEquals(terms.get("mse").doubleValue(), r.mse(), 1e-5 * r.mse());
        assertEquals(terms.getOrDefault(sparsityTerm, 0).doubleValue(), r.l1(), 1e-5 * Math.abs(r.l1()) + 1e-9);
        if (t.containsKey("f")) assertArrayEquals(t.get("f").data(), loss.features(), 1e-5f, name + " f");
        if (loss instanceof BatchTopKSae b) // SAELens update_topk_threshold after the training step
            assertEquals(((Number) meta.get("topk_threshold_out")).doubleValue(), b.topkThreshold(), 1e-7);
        assertEquals(terms.getOrDefault("aux", 0).doubleValue(), r.aux(), 1e-5 * Math.abs(r.aux()) + 1e-9);
        assertEquals(terms.getOrDefault("sep", 0).doubleValue(), r.sep(), 1e-5 * Math.abs(r.sep()) + 1e-9);
        float[][] grads = g.arrays();
        for (int i = 0; i < grads.length; i++) {
            if (grads[i].length == 0) continue;
            float[] ref = t.get("grad." + SaeParams.NAMES[i]).data();
            for (int k = 0; k < ref.length; k++)
                assertEquals(ref[k], grads[i][k], 2e-5 + 1e-4 * Math.abs(ref[k]), name + " sparse " + sparse + " grad " + SaeParams.NAMES[i] + "[" + k + "]");
        }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"standard", "jumprelu"})
    void loadsSaeLensLayout(String arch) throws Exception {
        Sae sae = SaeIO.load(DIR.resolve("saelens-" + arch), Ops.reference());
        Map<String, SaeTensors.Entry> e = SaeTensors.read(DIR.resolve("saelens-" + arch + "-expected.safetensors"));
        float[] x = e.get("x").data();
        int rows = x.length / sae.dIn();
        float[] f = new float[rows * sae.dSae()], xhat = new float[rows * sae.dIn()];
        sae.encode(x, rows, 1, f);
        sae.decode(f, rows, xhat);
        assertArrayEquals(e.get("f").data(), f, 1e-5f);
        assertArrayEquals(e.get("xhat").data(), xhat, 1e-5f);
        assertEquals(12, sae.cfg().get("hook_layer"));
    }

    /** Exported (folded) weights map raw x exactly as the trained weights map s·x (f equal, x̂ scaled by 1/s). */
    @Test
    void scalingFoldPreservesTheFunction(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        for (String arch : new String[]{"standard", "temporal"}) {
            SaeConfig c = SaeGradientTest.cfg(arch, "relu");
            SaeParams p = SaeGradientTest.randomParams(c, 21);
            float[] x = SaeGradientTest.randomX(22);
            float s = 3.7f;
            float[] xs = x.clone();
            for (int i = 0; i < xs.length; i++) xs[i] *= s;
            AbstractSae ref = SaeRegistry.create(c, p, Ops.reference());
            int rows0 = SaeGradientTest.NSEQ * SaeGradientTest.T;
            float[] fRef = new float[rows0 * c.dSae()], xhatRef = new float[rows0 * c.dIn()];
            ref.encode(xs, SaeGradientTest.NSEQ, SaeGradientTest.T, fRef);
            ref.decode(fRef, rows0, xhatRef);
            AbstractSae folded = SaeRegistry.create(c, SaeIO.foldScaling(p, s), Ops.reference());
            folded.save(tmp.resolve(arch));
            Sae loaded = SaeIO.load(tmp.resolve(arch), Ops.reference());
            int rows = SaeGradientTest.NSEQ * SaeGradientTest.T;
            float[] f = new float[rows * c.dSae()], xhat = new float[rows * c.dIn()];
            loaded.encode(x, SaeGradientTest.NSEQ, SaeGradientTest.T, f);
            loaded.decode(f, rows, xhat);
            assertArrayEquals(fRef, f, 2e-5f);
            for (int i = 0; i < xhat.length; i++) assertEquals(xhatRef[i] / s, xhat[i], 2e-5f);
            assertTrue(Files.isRegularFile(tmp.resolve(arch).resolve("cfg.json")));
        }
    }

    /** Sparse f is decoded through the sparse kernel; same result as the plain definition. */
    @Test
    void sparseDecodeMatchesDefinition() throws Exception {
        SaeConfig c = SaeConfig.builder().dIn(8).dSae(64).build();
        AbstractSae sae = SaeRegistry.create(c, SaeGradientTest.randomParams(c, 9), Ops.reference());
        int rows = 7, n = sae.dSae(), d = sae.dIn();
        assertTrue(1.0 / n <= SparsePolicy.autoThreshold(n, d)); // one active latent per row: sparse path
        float[] f = new float[rows * n];
        for (int r = 0; r < rows; r++) f[r * n + (r * 5) % n] = 0.5f + r;
        float[] xhat = new float[rows * d];
        sae.decode(f, rows, xhat);
        float[] w = sae.decoderWeights();
        float[] bdec = sae.params().b_dec;
        for (int r = 0; r < rows; r++)
            for (int col = 0; col < d; col++) {
                double s = bdec[col];
                for (int j = 0; j < n; j++) s += (double) f[r * n + j] * w[j * d + col];
                assertEquals(s, xhat[r * d + col], 1e-5);
            }
    }
}
