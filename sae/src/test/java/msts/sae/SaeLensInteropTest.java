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
 * python/msts_saelens.py (the SAELens class of msts' temporal SAE) reproduces msts' encode and decode: this
 * test saves temporal SAEs of every activation and both conv modes, with msts' f = encode(x) and x̂ = decode(f)
 * on a batch of sequences, and runs python/tests/test_msts_saelens.py on them with Debian's torch
 * (/usr/bin/python3). SAELens itself is not installable here: the script registers the module with a minimal
 * stand-in of SAELens' base classes (python/tests/saelens_standin.py). Skipped where torch is missing.
 */
class SaeLensInteropTest {
    static final String PYTHON = "/usr/bin/python3";

    static boolean torchAvailable() {
        try {
            Process p = new ProcessBuilder(PYTHON, "-c", "import torch, numpy").redirectErrorStream(true).start();
            return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    static void fixture(Path dir, String name, SaeConfig cfg, Map<String, float[]> extras, long seed) throws IOException {
        Random r = new Random(seed);
        SaeParams p = new SaeParams(cfg.dIn(), cfg.dSae(), cfg.temporal() ? cfg.dilations().length : 0);
        for (float[] a : p.arrays()) for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextGaussian() * 0.3);
        AbstractSae sae = SaeRegistry.create(cfg, p, extras, CpuOps.INSTANCE);
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

    @Test
    void pythonModuleReproducesMstsTemporalSaes(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(torchAvailable(), PYTHON + " with torch and numpy is not available");
        int d = 16, n = 48;
        float[] th = new float[n];
        Random r = new Random(5);
        for (int j = 0; j < n; j++) th[j] = 0.2f + 0.4f * r.nextFloat();
        long seed = 1;
        for (String act : new String[]{"relu", "topk", "jumprelu"})
            for (String mode : new String[]{"causal", "centred"}) {
                SaeConfig cfg = SaeConfig.builder().dIn(d).dSae(n).architecture("temporal").activation(act).k(6)
                        .dilations(1, 3, 8).convMode(mode).modelName("gemma-2-2b").hookName("blocks.12.hook_resid_post").hookLayer(12).build();
                fixture(dir, "temporal-" + act + "-" + mode, cfg, act.equals("jumprelu") ? Map.of("threshold", th) : Map.of(), seed++);
            }
        fixture(dir, "standard", SaeConfig.builder().dIn(d).dSae(n).build(), Map.of(), seed);
        Path script = Path.of("..", "python", "tests", "test_msts_saelens.py").toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(script), script.toString());
        Process p = new ProcessBuilder(PYTHON, script.toString(), dir.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "python timed out");
        System.out.println(out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("OK 7 cases"), out);
    }
}
