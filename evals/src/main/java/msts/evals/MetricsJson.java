package msts.evals;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** Reading helpers for the typed metric records: JSON null (a non-finite number when written) reads as NaN. */
final class MetricsJson {
    private MetricsJson() {}

    /** The eval's JSON as written (NaN/∞ → null), for parsing an in-memory {@link EvalOutput}. */
    static JsonNode tree(EvalOutput o) {
        return EvalOutput.MAPPER.valueToTree(EvalOutput.sanitize(o.asMap()));
    }

    /** A number, or NaN when missing or null. */
    static double num(JsonNode group, String key) {
        JsonNode v = group.path(key);
        return v.isNumber() ? v.asDouble() : Double.NaN;
    }

    /** A number, or null when missing or null. */
    static Double numOrNull(JsonNode group, String key) {
        JsonNode v = group.path(key);
        return v.isNumber() ? v.asDouble() : null;
    }

    /** The group, or null when absent. */
    static JsonNode group(JsonNode metrics, String name) {
        JsonNode g = metrics.path(name);
        return g.isObject() ? g : null;
    }

    /** Keys {@code prefix + k + suffix} of a group, by k (values may be null). */
    static SortedMap<Integer, Double> byInt(JsonNode group, String prefix, String suffix) {
        SortedMap<Integer, Double> out = new TreeMap<>();
        if (group == null) return out;
        for (Map.Entry<String, JsonNode> e : group.properties()) {
            String k = e.getKey();
            if (!k.startsWith(prefix) || !k.endsWith(suffix) || k.length() <= prefix.length() + suffix.length()) continue;
            String mid = k.substring(prefix.length(), k.length() - suffix.length());
            if (!mid.chars().allMatch(Character::isDigit)) continue;
            out.put(Integer.parseInt(mid), e.getValue().isNumber() ? e.getValue().asDouble() : null);
        }
        return out;
    }

    /** A numeric array (null entries → NaN); empty when absent. */
    static double[] doubles(JsonNode arr) {
        if (!arr.isArray()) return new double[0];
        double[] out = new double[arr.size()];
        for (int i = 0; i < out.length; i++) out[i] = arr.get(i).isNumber() ? arr.get(i).asDouble() : Double.NaN;
        return out;
    }

    static List<JsonNode> list(JsonNode arr) {
        List<JsonNode> out = new ArrayList<>();
        if (arr.isArray()) arr.forEach(out::add);
        return out;
    }
}
