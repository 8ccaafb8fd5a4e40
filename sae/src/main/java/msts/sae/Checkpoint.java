package msts.sae;

import msts.engine.Tensor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Training checkpoints in OUT/checkpoint: the exported SAE (cfg.json + sae_weights.safetensors, scaling
 * folded), {@code training_state.safetensors} (param.*, adam_m.*, adam_v.* in training space) and
 * {@code trainer_state.json} (step, scaling factor, tokens since each latent fired, configs). Written into
 * checkpoint.tmp and swapped in (checkpoint → checkpoint.old, tmp → checkpoint, drop old), so a kill at any
 * point leaves one complete copy; {@link #load} falls back to checkpoint.old.
 */
public final class Checkpoint {
    private Checkpoint() {}

    /** What a checkpoint restores: resume from it gives bit-identical results. */
    public record State(long step, float scale, long[] sinceFired, SaeParams p, SaeParams m, SaeParams v) {}

    private static final String[] PREFIXES = {"param.", "adam_m.", "adam_v."};

    /** Writes state into out/checkpoint atomically; export: the SAE for raw activations (cfg with scaling). */
    public static void write(Path out, State s, SaeConfig cfg, TrainConfig tc, SaeConfig exportCfg) throws IOException {
        Path tmp = out.resolve("checkpoint.tmp");
        Path fin = out.resolve("checkpoint");
        Path old = out.resolve("checkpoint.old");
        deleteTree(tmp);
        Files.createDirectories(tmp);
        SaeIO.save(tmp, exportCfg, SaeIO.foldScaling(s.p(), s.scale()), Map.of());
        Map<String, Tensor> st = new LinkedHashMap<>();
        SaeParams[] sets = {s.p(), s.m(), s.v()};
        for (int k = 0; k < 3; k++) {
            float[][] a = sets[k].arrays();
            for (int i = 0; i < a.length; i++)
                if (a[i].length > 0) st.put(PREFIXES[k] + SaeParams.NAMES[i], Tensor.of(a[i], sets[k].shape(i)));
        }
        SaeTensors.write(tmp.resolve("training_state.safetensors"), st, Map.of("step", Long.toString(s.step())));
        Map<String, Object> state = new LinkedHashMap<>();
        state.put("step", s.step());
        state.put("scaling_factor", s.scale());
        state.put("tokens_since_fired", s.sinceFired());
        state.put("sae", cfg.toMap());
        state.put("train", tc.toMap());
        SaeIO.writeJson(tmp.resolve("trainer_state.json"), state);
        deleteTree(old);
        if (Files.exists(fin)) Files.move(fin, old, StandardCopyOption.ATOMIC_MOVE);
        Files.move(tmp, fin, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(old);
    }

    /** The state in out/checkpoint (or checkpoint.old), or null when there is none; checks it is a cfg SAE. */
    @SuppressWarnings("unchecked")
    public static State load(Path out, SaeConfig cfg) throws IOException {
        Path dir = out.resolve("checkpoint");
        if (!Files.isRegularFile(dir.resolve("trainer_state.json"))) dir = out.resolve("checkpoint.old");
        if (!Files.isRegularFile(dir.resolve("trainer_state.json"))) return null;
        Map<String, Object> state = SaeIO.JSON.readValue(dir.resolve("trainer_state.json").toFile(), Map.class);
        SaeConfig saved = SaeConfig.fromMap((Map<String, Object>) state.get("sae"));
        if (saved.dIn() != cfg.dIn() || saved.dSae() != cfg.dSae() || saved.architecture() != cfg.architecture() || saved.nScales() != cfg.nScales())
            throw new IllegalArgumentException("checkpoint in " + dir + " is a " + saved.architecture() + " SAE " + saved.dIn() + "→" + saved.dSae()
                    + ", this run asks for " + cfg.architecture() + " " + cfg.dIn() + "→" + cfg.dSae());
        long step = ((Number) state.get("step")).longValue();
        float scale = ((Number) state.get("scaling_factor")).floatValue();
        List<Number> sf = (List<Number>) state.get("tokens_since_fired");
        long[] sinceFired = new long[cfg.dSae()];
        for (int j = 0; j < cfg.dSae(); j++) sinceFired[j] = sf.get(j).longValue();
        Map<String, SaeTensors.Entry> t = SaeTensors.read(dir.resolve("training_state.safetensors"));
        SaeParams p = new SaeParams(cfg.dIn(), cfg.dSae(), cfg.nScales());
        SaeParams m = p.zerosLike(), v = p.zerosLike();
        SaeParams[] sets = {p, m, v};
        for (int k = 0; k < 3; k++) {
            float[][] a = sets[k].arrays();
            for (int i = 0; i < a.length; i++) {
                if (a[i].length == 0) continue;
                SaeTensors.Entry e = t.get(PREFIXES[k] + SaeParams.NAMES[i]);
                if (e == null || e.data().length != a[i].length)
                    throw new IOException(dir + ": training state lacks " + PREFIXES[k] + SaeParams.NAMES[i]);
                System.arraycopy(e.data(), 0, a[i], 0, a[i].length);
            }
        }
        return new State(step, scale, sinceFired, p, m, v);
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) return;
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(Comparator.reverseOrder()).forEach(q -> {
                try {
                    Files.delete(q);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
        }
    }
}
