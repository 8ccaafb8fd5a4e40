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
        Map<String, Object> m = readJsonObject(cfgFile);
        SaeConfig cfg;
        try {
            cfg = SaeConfig.fromMap(m);
        } catch (IllegalArgumentException e) {
            throw new IOException(cfgFile + ": " + e.getMessage());
        }
        Map<String, SaeTensors.Entry> t = SaeTensors.read(wFile);
        // shapes checked against cfg.json before anything is sized by it (a huge d_sae is an error, not an OOM)
        SaeTensors.Entry wEnc = t.get("W_enc");
        if (wEnc == null) throw new IOException(wFile + ": missing tensor W_enc");
        if (wEnc.shape().length != 2 || wEnc.shape()[0] != cfg.dIn() || wEnc.shape()[1] != cfg.dSae())
            throw new IOException(wFile + ": tensor W_enc has shape " + Arrays.toString(wEnc.shape()) + ", " + cfgFile
                    + " says d_in " + cfg.dIn() + ", d_sae " + cfg.dSae());
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
            // log_threshold is training state: SAELens saves threshold = exp(log_threshold) (the SAE's extras)
            if (arrays[i].length == 0 || arrays[i] == p.log_threshold) continue;
            tensors.put(SaeParams.NAMES[i], Tensor.of(arrays[i], p.shape(i)));
        }
        for (var e : extras.entrySet()) tensors.put(e.getKey(), Tensor.of(e.getValue(), e.getValue().length));
        SaeTensors.write(dir.resolve("sae_weights.safetensors"), tensors, Map.of("format", "pt"));
        writeJson(dir.resolve("cfg.json"), cfg.toMap());
    }

    /** A JSON object from file; malformed or non-object JSON is an IOException naming the file. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> readJsonObject(Path file) throws IOException {
        Object v;
        try {
            v = JSON.readValue(file.toFile(), Object.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            String m = e.getOriginalMessage();
            int nl = m == null ? -1 : m.indexOf('\n');
            var loc = e.getLocation();
            throw new IOException(file + ": malformed JSON" + (loc != null ? " at line " + loc.getLineNr() + ", column " + loc.getColumnNr() : "")
                    + ": " + (nl >= 0 ? m.substring(0, nl) : m) + " (truncated or damaged file?)", e);
        }
        if (!(v instanceof Map<?, ?>)) throw new IOException(file + ": expected a JSON object, got " + (v == null ? "an empty file" : v.getClass().getSimpleName()));
        return (Map<String, Object>) v;
    }

    static void writeJson(Path file, Object value) throws IOException {
        msts.io.AtomicFiles.write(file, JSON.writeValueAsBytes(value)); // temp + fsync + rename; no litter on failure
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
