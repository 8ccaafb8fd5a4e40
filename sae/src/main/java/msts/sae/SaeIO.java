package msts.sae;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import msts.engine.Ops;
import msts.engine.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * SAELens-layout checkpoints: {@code cfg.json} + {@code sae_weights.safetensors} with W_enc [d_in, d_sae],
 * W_dec [d_sae, d_in], b_enc [d_sae], b_dec [d_in]; temporal SAEs add conv_w [n_scales, d_in, 3];
 * JumpReLU SAEs (e.g. Gemma Scope converted to SAELens) carry threshold [d_sae].
 */
public final class SaeIO {
    private SaeIO() {}

    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** Loads a SAELens-layout directory as the class of its architecture ({@link SaeRegistry}); ops computes its products. */
    @SuppressWarnings("unchecked")
    public static AbstractSae load(Path dir, Ops ops) throws IOException {
        Path cfgFile = dir.resolve("cfg.json");
        Path wFile = dir.resolve("sae_weights.safetensors");
        if (!Files.isRegularFile(cfgFile)) throw new IOException(dir + ": no cfg.json (not a SAELens-layout SAE directory)");
        if (!Files.isRegularFile(wFile)) throw new IOException(dir + ": no sae_weights.safetensors");
        Map<String, Object> m = JSON.readValue(cfgFile.toFile(), Map.class);
        SaeConfig cfg;
        try {
            cfg = SaeConfig.fromMap(m);
        } catch (IllegalArgumentException e) {
            throw new IOException(cfgFile + ": " + e.getMessage());
        }
        Map<String, SaeTensors.Entry> t = SaeTensors.read(wFile);
        SaeParams p = new SaeParams(cfg.dIn(), cfg.dSae(), cfg.nScales());
        float[][] arrays = p.arrays();
        for (int i = 0; i < SaeParams.NAMES.length; i++) {
            String name = SaeParams.NAMES[i];
            if (arrays[i].length == 0) continue;
            SaeTensors.Entry e = t.get(name);
            if (e == null) throw new IOException(wFile + ": missing tensor " + name);
            if (!Arrays.equals(e.shape(), p.shape(i)))
                throw new IOException(wFile + ": tensor " + name + " has shape " + Arrays.toString(e.shape())
                        + ", cfg.json implies " + Arrays.toString(p.shape(i)));
            System.arraycopy(e.data(), 0, arrays[i], 0, arrays[i].length);
        }
        Map<String, float[]> extras = new LinkedHashMap<>();
        for (String name : SaeRegistry.entry(cfg).extraTensors()) {
            SaeTensors.Entry e = t.get(name);
            if (e == null || e.data().length != cfg.dSae())
                throw new IOException(wFile + ": " + cfg.architecture() + " SAE needs " + name + " [" + cfg.dSae() + "]");
            extras.put(name, e.data());
        }
        return SaeRegistry.create(cfg, p, extras, ops);
    }

    /** Writes cfg.json + sae_weights.safetensors into dir (each file atomically); extras: further [d_sae] tensors. */
    public static void save(Path dir, SaeConfig cfg, SaeParams p, Map<String, float[]> extras) throws IOException {
        Files.createDirectories(dir);
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        float[][] arrays = p.arrays();
        for (int i = 0; i < SaeParams.NAMES.length; i++) {
            if (arrays[i].length == 0) continue;
            tensors.put(SaeParams.NAMES[i], Tensor.of(arrays[i], p.shape(i)));
        }
        for (var e : extras.entrySet()) tensors.put(e.getKey(), Tensor.of(e.getValue(), e.getValue().length));
        SaeTensors.write(dir.resolve("sae_weights.safetensors"), tensors, Map.of("format", "pt"));
        writeJson(dir.resolve("cfg.json"), cfg.toMap());
    }

    static void writeJson(Path file, Object value) throws IOException {
        Path tmp = Files.createTempFile(file.toAbsolutePath().getParent(), file.getFileName().toString(), ".tmp");
        try {
            JSON.writeValue(tmp.toFile(), value);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * Folds an activation scaling factor s (training saw x' = s·x) into the weights so the SAE maps raw x
     * to the same f and to x̂ = x̂'/s: W_enc ← s·W_enc, W_dec ← W_dec/s, b_dec ← b_dec/s; b_enc and conv_w
     * unchanged (docs/sae.md, "scaling fold"). Returns a new parameter set.
     */
    public static SaeParams foldScaling(SaeParams trained, float s) {
        SaeParams p = trained.copy();
        for (int i = 0; i < p.W_enc.length; i++) p.W_enc[i] *= s;
        for (int i = 0; i < p.W_dec.length; i++) p.W_dec[i] /= s;
        for (int i = 0; i < p.b_dec.length; i++) p.b_dec[i] /= s;
        return p;
    }
}
