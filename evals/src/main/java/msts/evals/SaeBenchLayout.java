package msts.evals;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * SAEBench's results layout: {@code <root>/<eval_type_id>/<sae_name>_eval_results.json}. SAEBench's loaders and
 * graphing code (sae_bench_utils/graphing_utils.py get_eval_results, get_core_results, plot_results) take the
 * SAE's name from the file name and find an eval's core results by replacing the eval type in the path with
 * "core". msts writes {@code <run>/<eval_type_id>_eval_results.json} per run directory; {@link #export} copies
 * those into the layout, naming each SAE after its run directory.
 */
public final class SaeBenchLayout {
    private SaeBenchLayout() {}

    public static final String SUFFIX = "_eval_results.json";

    /** {@code root/evalTypeId/saeName_eval_results.json}. */
    public static Path path(Path root, String evalTypeId, String saeName) {
        return root.resolve(evalTypeId).resolve(saeName + SUFFIX);
    }

    /**
     * Copies every {@code *_eval_results.json} of each run directory to {@link #path}(root, its eval_type_id,
     * the run directory's name). Two runs with the same name would overwrite each other: rejected before
     * anything is written. Returns the files written.
     */
    public static List<Path> export(List<Path> runDirs, Path root) {
        Map<String, Path> names = new HashMap<>();
        List<Path[]> copies = new ArrayList<>();
        for (Path run : runDirs) {
            if (!Files.isDirectory(run)) throw new IllegalArgumentException("not a run directory: " + run);
            String name = run.toAbsolutePath().normalize().getFileName().toString();
            Path other = names.putIfAbsent(name, run);
            if (other != null)
                throw new IllegalArgumentException("two runs named " + name + " (" + other + ", " + run + "): SAEBench names an SAE by its file name");
            List<Path> files;
            try (Stream<Path> s = Files.list(run)) {
                files = s.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().toList();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot list " + run + ": " + e.getMessage(), e);
            }
            if (files.isEmpty()) throw new IllegalArgumentException("no *" + SUFFIX + " in " + run);
            for (Path f : files) {
                JsonNode doc = EvalOutput.read(f);
                String type = doc.path("eval_type_id").asText("");
                if (type.isEmpty() || type.contains("/") || type.contains(".."))
                    throw new IllegalArgumentException(f + ": no usable eval_type_id");
                copies.add(new Path[]{f, path(root, type, name)});
            }
        }
        List<Path> written = new ArrayList<>();
        try {
            for (Path[] c : copies) {
                Files.createDirectories(c[1].getParent());
                Path tmp = Files.createTempFile(c[1].getParent(), ".tmp-", ".json");
                Files.copy(c[0], tmp, StandardCopyOption.REPLACE_EXISTING);
                Files.move(tmp, c[1], StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                written.add(c[1]);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write SAEBench layout under " + root + ": " + e.getMessage(), e);
        }
        return written;
    }
}
