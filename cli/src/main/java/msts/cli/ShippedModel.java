package msts.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * The demo model shipped inside msts (docs/demo-model.md, "Shipped model"): the final stage of the default
 * curriculum for world seed 0, under its cache key, as a resource {@code /msts/demo-models/KEY/}. {@code msts demo}
 * and the plan model "demo" copy it into the model cache instead of training the curriculum (nine stages, ≈ 38 min on two cores)
 * when the key they compute — from the world's text, its tokenizer and every stage's trainer arguments — is the
 * shipped one; any other world trains one stage on top of it (the base of {@code --lm-base shipped}), and other settings
 * train their own curriculum ({@code --lm-base scratch}). {@code msts demo --retrain} trains it again (same bytes:
 * training is bit-reproducible).
 */
final class ShippedModel {
    private ShippedModel() {}

    /** The files of a shipped model (weights, config, tokenizer, the cache key's text, the training summary). */
    static final List<String> FILES = List.of("config.json", "model.safetensors", "tokenizer.json", "demo_model_key.txt", "train_summary.json");

    static String resource(String key, String file) { return "/msts/demo-models/" + key + "/" + file; }

    /** Whether a model is shipped under this cache key. */
    static boolean has(String key) {
        return ShippedModel.class.getResource(resource(key, "model.safetensors")) != null;
    }

    /**
     * Copies the shipped model of {@code dir}'s key (its file name) into {@code dir}, through {@code KEY.shipped.partial} and
     * an atomic rename, so an interrupted copy leaves no half model. False when no model is shipped under that key.
     */
    static boolean install(Path dir) throws IOException {
        String key = dir.getFileName().toString();
        if (!has(key)) return false;
        Path work = dir.resolveSibling(key + ".shipped.partial");
        if (Files.exists(work)) try (var s = Files.walk(work)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
        Files.createDirectories(work);
        for (String f : FILES)
            try (InputStream in = ShippedModel.class.getResourceAsStream(resource(key, f))) {
                if (in == null) throw new IOException("shipped demo model " + key + " lacks " + f);
                Files.copy(in, work.resolve(f));
            }
        Files.move(work, dir, StandardCopyOption.ATOMIC_MOVE);
        return true;
    }
}
