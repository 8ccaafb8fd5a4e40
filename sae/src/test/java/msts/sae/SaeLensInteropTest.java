package msts.sae;

import static org.junit.jupiter.api.Assertions.*;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import msts.engine.CpuOps;
import msts.engine.Tensor;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * msts SAEs load in SAELens and reproduce msts: this test saves temporal SAEs of every activation in both conv
 * modes and standard / topk / jumprelu / batchtopk SAEs, with msts' f = encode(x) and x̂ = decode(f) on a batch of
 * sequences, and runs python/tests/test_msts_saelens.py on them with Debian's torch (/usr/bin/python3):
 * against the real SAELens when there is one ({@link #realSaeLensLoadsMstsSaes}), and python/msts_saelens.py
 * against a minimal stand-in of SAELens' base classes (python/tests/saelens_standin.py) everywhere. Skipped where
 * torch is missing. docs/interop.md says which SAELens versions were verified.
 */
class SaeLensInteropTest {
    static final String PYTHON = "/usr/bin/python3";

    static boolean torchAvailable() {
        return pythonOk("import torch, numpy");
    }

    /** Random parameters for cfg; batchtopk is exported as msts exports it (JumpReLU with θ for every latent). */
    static AbstractSae sae(SaeConfig cfg, Map<String, float[]> extras, long seed) {
        Random r = new Random(seed);
        SaeParams p = new SaeParams(cfg.dIn(), cfg.dSae(), cfg.temporal() ? cfg.dilations().length : 0);
        for (float[] a : p.arrays()) for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextGaussian() * 0.3);
        AbstractSae sae = SaeRegistry.create(cfg, p, extras, CpuOps.INSTANCE);
        if (sae instanceof BatchTopKSae b) {
            b.restoreTrainingState(Map.of("topk_threshold", 0.45));
            sae = b.forInference(cfg, p);
        }
        return sae;
    }

    /** Saves sae under dir/name/sae and msts' x, f = encode(x), x̂ = decode(f) on 2 sequences of 12 as dir/name/io.safetensors. */
    static void fixture(Path dir, String name, AbstractSae sae, long seed) throws IOException {
        Random r = new Random(seed ^ 0x5eed);
        SaeConfig cfg = sae.config();
        Path caseDir = dir.resolve(name);
        sae.save(caseDir.resolve("sae"));
        int nSeq = 2, T = 12, d = cfg.dIn(), n = cfg.dSae();
        float[] x = new float[nSeq * T * d];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        float[] f = new float[nSeq * T * n], xhat = new float[nSeq * T * d];
        sae.encode(x, nSeq, T, f);
        sae.decode(f, nSeq * T, xhat);
        int active = 0;
        for (float v : f) if (v != 0) active++;
        assertTrue(active > 0 && active < f.length, name + ": some but not all latents fire");
        Map<String, Tensor> io = new LinkedHashMap<>();
        io.put("x", Tensor.of(x, nSeq, T, d));
        io.put("f", Tensor.of(f, nSeq, T, n));
        io.put("x_hat", Tensor.of(xhat, nSeq, T, d));
        SaeTensors.write(caseDir.resolve("io.safetensors"), io, Map.of());
    }

    /** Temporal SAEs of every activation and both conv modes, and the four non-temporal architectures. */
    static int fixtures(Path dir) throws IOException {
        int d = 16, n = 48, cases = 0;
        float[] th = new float[n];
        Random r = new Random(5);
        for (int j = 0; j < n; j++) th[j] = 0.2f + 0.4f * r.nextFloat();
        long seed = 1;
        for (String act : new String[]{"relu", "topk", "jumprelu", "batchtopk"})
            for (String mode : new String[]{"causal", "centred"}) {
                SaeConfig cfg = SaeConfig.builder().dIn(d).dSae(n).architecture("temporal").activation(act).k(6)
                        .dilations(1, 3, 8).convMode(mode).modelName("gemma-2-2b").hookName("blocks.12.hook_resid_post").hookLayer(12).build();
                fixture(dir, "temporal-" + act + "-" + mode, sae(cfg, act.equals("jumprelu") ? Map.of("threshold", th) : Map.of(), seed), seed++);
                cases++;
            }
        for (String arch : new String[]{"standard", "topk", "jumprelu", "batchtopk"}) {
            SaeConfig cfg = SaeConfig.builder().dIn(d).dSae(n).architecture(arch).k(6)
                    .modelName("gemma-2-2b").hookName("blocks.12.hook_resid_post").hookLayer(12).build();
            fixture(dir, arch, sae(cfg, arch.equals("jumprelu") ? Map.of("threshold", th) : Map.of(), seed), seed++);
            cases++;
        }
        return cases;
    }

    static String runPython(Path dir, Map<String, String> env, String... args) throws Exception {
        Path script = Path.of("..", "python", "tests", "test_msts_saelens.py").toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(script), script.toString());
        var cmd = new java.util.ArrayList<>(java.util.List.of(PYTHON, script.toString(), dir.toString()));
        cmd.addAll(java.util.List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "python timed out");
        System.out.println(out);
        assertEquals(0, p.exitValue(), out);
        return out;
    }

    @Test
    void pythonModuleReproducesMstsTemporalSaes(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(torchAvailable(), PYTHON + " with torch and numpy is not available");
        int cases = fixtures(dir);
        String out = runPython(dir, Map.of(), "--saelens", "standin");
        assertTrue(out.contains("OK " + cases + " cases"), out);
    }

    /**
     * The same fixtures loaded by the REAL SAELens ({@code SAE.load_from_disk}: its config parsing, registry,
     * state-dict loading and its StandardSAE / TopKSAE / JumpReLUSAE classes): from an installed
     * {@code sae_lens}, or from a SAELens checkout named by MSTS_SAELENS_SRC (SAELens' code is not part of
     * msts; python/tests/real_saelens.py says which missing third-party imports it stubs and why that
     * cannot change the SAE maths). Skipped, saying so, when neither is there.
     */
    @Test
    void realSaeLensLoadsMstsSaes(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(torchAvailable(), PYTHON + " with torch and numpy is not available");
        String src = System.getenv("MSTS_SAELENS_SRC");
        boolean installed = src == null && pythonOk("import sae_lens");
        Assumptions.assumeTrue(installed || src != null,
                "real SAELens not available: no sae_lens for " + PYTHON + " and MSTS_SAELENS_SRC (a SAELens checkout, see docs/interop.md) is not set");
        int cases = fixtures(dir);
        String out = runPython(dir, Map.of(), "--saelens", "real");
        assertTrue(out.contains("OK " + cases + " cases"), out);
        assertTrue(out.contains("real SAELens "), out);
    }

    static boolean pythonOk(String code) {
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", code).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(120, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
