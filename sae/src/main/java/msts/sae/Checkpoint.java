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
    public record State(long step, float scale, long[] sinceFired, SaeParams p, SaeParams m, SaeParams v,
                        Map<String, ?> saeState) {}

    private static final String[] PREFIXES = {"param.", "adam_m.", "adam_v."};

    /** Writes state into out/checkpoint atomically; export: the SAE for raw activations (scaling folded). */
    public static void write(Path out, State s, SaeConfig cfg, TrainConfig tc, AbstractSae export) throws IOException {
        Path tmp = out.resolve("checkpoint.tmp");
        Path fin = out.resolve("checkpoint");
        Path old = out.resolve("checkpoint.old");
        deleteTree(tmp);
        try {
            Files.createDirectories(tmp);
            export.save(tmp);
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
            state.put("sae_state", s.saeState());
            state.put("sae", cfg.toMap());
            state.put("train", tc.toMap());
            SaeIO.writeJson(tmp.resolve("trainer_state.json"), state);
        } catch (IOException | RuntimeException e) {
            try {
                deleteTree(tmp); // no litter; checkpoint/ (the previous good one) is untouched
            } catch (IOException | RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
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
        Path stateFile = dir.resolve("trainer_state.json");
        Map<String, Object> state = SaeIO.readJsonObject(stateFile);
        SaeConfig saved;
        long step;
        float scale;
        List<Number> sf;
        try {
            if (!(state.get("sae") instanceof Map<?, ?>)) throw new IllegalArgumentException("sae must be an object");
            saved = SaeConfig.fromMap((Map<String, Object>) state.get("sae"));
            step = longField(state, "step");
            if (step < 0) throw new IllegalArgumentException("step must be non-negative, got " + step);
            if (!(state.get("scaling_factor") instanceof Number n) || !Float.isFinite(n.floatValue()))
                throw new IllegalArgumentException("scaling_factor must be a finite number, got " + state.get("scaling_factor"));
            scale = ((Number) state.get("scaling_factor")).floatValue();
            if (!(state.get("tokens_since_fired") instanceof List<?> l) || l.size() != saved.dSae())
                throw new IllegalArgumentException("tokens_since_fired must be a list of " + saved.dSae() + " integers");
            for (Object o : l)
                if (!(o instanceof Integer || o instanceof Long)) throw new IllegalArgumentException("tokens_since_fired holds " + o + ", not an integer");
            sf = (List<Number>) state.get("tokens_since_fired");
        } catch (IllegalArgumentException e) {
            throw new IOException(stateFile + ": " + e.getMessage() + " (damaged checkpoint; restore it or train into a new --out)", e);
        }
        if (saved.dIn() != cfg.dIn() || saved.dSae() != cfg.dSae() || saved.architecture() != cfg.architecture() || saved.nScales() != cfg.nScales())
            throw new IllegalArgumentException("checkpoint in " + dir + " is a " + saved.architecture() + " SAE " + saved.dIn() + "→" + saved.dSae()
                    + ", this run asks for " + cfg.architecture() + " " + cfg.dIn() + "→" + cfg.dSae());
        long[] sinceFired = new long[cfg.dSae()];
        for (int j = 0; j < cfg.dSae(); j++) sinceFired[j] = sf.get(j).longValue();
        Map<String, SaeTensors.Entry> t = SaeTensors.read(dir.resolve("training_state.safetensors"));
        SaeParams p = SaeParams.forConfig(cfg);
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
        Map<String, ?> saeState = state.get("sae_state") instanceof Map<?, ?> ss ? (Map<String, ?>) ss : Map.of();
        return new State(step, scale, sinceFired, p, m, v, saeState);
    }

    private static long longField(Map<String, Object> m, String key) {
        Object v = m.get(key);
        if (v instanceof Integer || v instanceof Long) return ((Number) v).longValue();
        throw new IllegalArgumentException(key + " must be an integer, got " + v);
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
