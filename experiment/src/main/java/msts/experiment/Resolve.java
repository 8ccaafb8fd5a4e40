package msts.experiment;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A config as evaluated, from the experiment directory's stage results: a tuned config's selected candidate
 * (DIR/tuning/CONFIG/selected.json), then the calibrated L1 / k (DIR/calibration/UNIT/choice.json) when the plan
 * has a target L0. Those files are cells written before any evaluation cell needs them.
 */
final class Resolve {
    private Resolve() {}

    static JsonNode read(Path f, String what) throws IOException {
        if (!Files.isRegularFile(f)) throw new IllegalStateException(what + " is not done yet (" + f + " missing)");
        return Experiment.JSON.readTree(f.toFile());
    }

    /** The selected candidate id of a tuned config, or null (untuned, or not selected yet when {@code required} is false). */
    static String selected(Path out, Plan.SaeCfg c, boolean required) throws IOException {
        if (c.tune() == null) return null;
        Path f = out.resolve("tuning").resolve(c.name()).resolve("selected.json");
        if (!required && !Files.isRegularFile(f)) return null;
        return read(f, "tuning of " + c.name()).path("selected").asText();
    }

    static Plan.Candidate candidate(Plan.SaeCfg c, String id) {
        return c.tune().candidates().stream().filter(k -> k.id().equals(id)).findFirst()
                .orElseThrow(() -> new IllegalStateException(c.name() + ": selected candidate " + id + " is not in the plan's tuning grid"));
    }

    static Plan.SaeCfg tuned(Plan plan, Path out, Plan.SaeCfg c) throws IOException {
        if (c.tune() == null) return c;
        return c.as(candidate(c, selected(out, c, true)).cfg());
    }

    /** The calibration unit of an evaluated config: its name, or CONFIG/tI for a tuned one. */
    static String unit(Path out, Plan.SaeCfg c) throws IOException {
        return c.tune() == null ? c.name() : c.name() + "/" + selected(out, c, true);
    }

    static Plan.SaeCfg calibrated(Plan plan, Path out, String unit, Plan.SaeCfg c) throws IOException {
        if (plan.targetL0() == null) return c;
        JsonNode ch = read(out.resolve("calibration").resolve(unit).resolve("choice.json"), "calibration of " + unit);
        return c.withSparsity(ch.path("chosen").asDouble());
    }

    static Plan.SaeCfg effective(Plan plan, Path out, Plan.SaeCfg c) throws IOException {
        return calibrated(plan, out, unit(out, c), tuned(plan, out, c));
    }
}
