package msts.evals;

import java.nio.file.Path;

/**
 * What an eval returns: its SAEBench-schema {@link EvalOutput} (the JSON written) and the same numbers as a
 * typed record {@code M} ({@link CoreMetrics}, {@link UnlearningMetrics}, {@link ProbingMetrics},
 * {@link DisentangleMetrics}) that callers read by field. The typed record is parsed from the output by the
 * same reader that reads the written file back ({@code M.from(JsonNode)}), so both always agree.
 */
public record EvalResult<M>(EvalOutput output, M metrics) {
    /** Writes {@code dir/<eval_type_id>_eval_results.json} (see {@link EvalOutput#write}). */
    public Path write(Path dir) { return output.write(dir); }
}
