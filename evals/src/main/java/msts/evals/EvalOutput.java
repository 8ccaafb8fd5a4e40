package msts.evals;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import msts.sae.Sae;

/**
 * One eval result in SAEBench's output schema ({@code sae_bench/evals/base_eval_output.py}): the same
 * top-level keys, {@code eval_result_metrics} as metric groups of flat key→number maps (group and key
 * names as in SAEBench's {@code eval_output.py} of each eval), per-latent / per-setting rows in
 * {@code eval_result_details}, anything else in {@code eval_result_unstructured}. Written as
 * {@code <eval_type_id>_eval_results.json}. NaN/∞ are written as null.
 */
public record EvalOutput(
        String evalTypeId,
        Map<String, Object> evalConfig,
        String evalId,
        long datetimeEpochMillis,
        Map<String, Map<String, Object>> evalResultMetrics,
        List<Map<String, Object>> evalResultDetails,
        Object evalResultUnstructured,
        String saeBenchCommitHash,
        String saeLensId,
        String saeLensReleaseId,
        String saeLensVersion,
        Map<String, Object> saeCfgDict) {

    public static final ObjectMapper MAPPER = new ObjectMapper()
            .setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(SerializationFeature.INDENT_OUTPUT);

    /** A new result with a fresh uuid and the current time; sae_lens ids null, commit hash "msts". */
    public static EvalOutput of(String evalTypeId, Map<String, Object> config,
                                Map<String, Map<String, Object>> metrics, List<Map<String, Object>> details,
                                Object unstructured, Sae sae, String saeId) {
        return new EvalOutput(evalTypeId, config, UUID.randomUUID().toString(), System.currentTimeMillis(),
                metrics, details == null ? List.of() : details, unstructured, "msts", saeId, null, null,
                sae == null ? null : new LinkedHashMap<>(sae.cfg()));
    }

    public static String fileName(String evalTypeId) {
        return evalTypeId + "_eval_results.json";
    }

    /** Writes {@code dir/<eval_type_id>_eval_results.json} atomically (temp file + rename); returns the path. */
    public Path write(Path dir) {
        try {
            Files.createDirectories(dir);
            Path file = dir.resolve(fileName(evalTypeId));
            byte[] json = MAPPER.writeValueAsBytes(sanitize(this.asMap()));
            msts.io.AtomicFiles.write(file, json); // all or nothing: no temp litter, the old file survives a failure
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** The JSON object as an ordered map with SAEBench's key names. */
    public Map<String, Object> asMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("eval_type_id", evalTypeId);
        m.put("eval_config", evalConfig);
        m.put("eval_id", evalId);
        m.put("datetime_epoch_millis", datetimeEpochMillis);
        m.put("eval_result_metrics", evalResultMetrics);
        m.put("eval_result_details", evalResultDetails);
        m.put("eval_result_unstructured", evalResultUnstructured);
        m.put("sae_bench_commit_hash", saeBenchCommitHash);
        m.put("sae_lens_id", saeLensId);
        m.put("sae_lens_release_id", saeLensReleaseId);
        m.put("sae_lens_version", saeLensVersion);
        m.put("sae_cfg_dict", saeCfgDict);
        return m;
    }

    public static JsonNode read(Path file) {
        try {
            return MAPPER.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read eval results " + file + ": " + e.getMessage(), e);
        }
    }

    /** Replaces non-finite numbers by null and primitive arrays by lists (JSON has no NaN). */
    static Object sanitize(Object o) {
        if (o instanceof Double d) return Double.isFinite(d) ? d : null;
        if (o instanceof Float f) return Float.isFinite(f) ? (Object) f.doubleValue() : null;
        if (o instanceof Map<?, ?> map) {
            Map<String, Object> out = new LinkedHashMap<>();
            map.forEach((k, v) -> out.put(String.valueOf(k), sanitize(v)));
            return out;
        }
        if (o instanceof List<?> list) {
            List<Object> out = new ArrayList<>(list.size());
            for (Object v : list) out.add(sanitize(v));
            return out;
        }
        if (o instanceof double[] a) {
            List<Object> out = new ArrayList<>(a.length);
            for (double v : a) out.add(sanitize(v));
            return out;
        }
        if (o instanceof float[] a) {
            List<Object> out = new ArrayList<>(a.length);
            for (float v : a) out.add(sanitize((double) v));
            return out;
        }
        if (o instanceof int[] a) {
            List<Object> out = new ArrayList<>(a.length);
            for (int v : a) out.add(v);
            return out;
        }
        return o;
    }
}
