package msts.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import msts.data.world.WorldFiles;
import msts.data.world.WorldSpec;
import msts.engine.backend.Backend;
import msts.experiment.Experiment;
import msts.experiment.Plan;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code msts experiment}: runs an experiment plan (SAE configurations × seeds × evals, RMU as the reference,
 * the ground-truth benchmark in a clean and a low-SNR regime) into a resumable directory and writes the report
 * with confidence intervals and paired tests. The logic is msts.experiment; docs/experiment.md.
 */
@Command(name = "experiment", mixinStandardHelpOptions = true,
        description = {"Runs an experiment plan over seeds: harvests once per context, calibrates every configuration's L1 (or k) to the",
                "plan's target L0 and tunes configurations with a tuning grid (on seeds the evaluation does not use), trains every SAE",
                "configuration × seed, runs the core, unlearning and sparse-probing evals, RMU fine-tuning (the reference unlearning",
                "method) and the ground-truth benchmark",
                "(clean and low-SNR regimes), then writes DIR/report/ (table with 95%% CIs, paired differences vs the baseline with",
                "p-values and verdicts, unlearning curves, ground-truth recovery, conclusion). Resumable: a re-run skips finished",
                "cells; a directory holding another plan is refused. Plan format: docs/experiment.md."})
public final class ExperimentCommand implements Callable<Integer> {
    static final class Source {
        @Parameters(index = "0", arity = "0..1", paramLabel = "PLAN.json", description = "the plan file") Path file;
        @Option(names = "--plan", paramLabel = "NAME", description = "a built-in plan: seed (the study's five runs vs the baseline on the demo world, L0 16, 5 seeds, every eval) "
                + "or sparse (baseline vs the temporal SAE at the demo's sparsity, L0 6, 10 seeds, core and unlearning)") String builtin;
    }

    @ArgGroup(exclusive = true, multiplicity = "1") Source source;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "experiment directory (new, empty, or one holding this plan's earlier run)")
    Path out;

    @Option(names = "--model", paramLabel = "DIR", description = "override the plan's model (an HF Gemma-2 checkpoint directory)")
    Path model;

    @Option(names = "--world", paramLabel = "DIR", description = "override the plan's world (a directory written by msts world)")
    Path world;

    @Option(names = "--model-cache", paramLabel = "DIR", description = "where msts demo keeps its trained models (plan model \"demo\"; default: the msts cache)")
    Path modelCache;

    @picocli.CommandLine.Mixin BackendOption backend;
    @picocli.CommandLine.Mixin RunOptions run;
    @picocli.CommandLine.Mixin VerboseOption verbose;

    @Override
    public Integer call() throws Exception {
        run.apply();
        ObjectNode raw = source.file != null ? Plan.read(source.file) : Plan.builtin(source.builtin);
        Path base = source.file != null ? source.file.toAbsolutePath().getParent() : Path.of("").toAbsolutePath();
        Plan plan = Plan.parse(raw, base);
        if (world != null) plan = plan.withWorld(world.toAbsolutePath().normalize());
        if (model != null) plan = plan.withModel(model.toAbsolutePath().normalize().toString());
        else if (plan.model().equals("demo")) plan = plan.withModel(demoModel(plan).toString());
        try (Backend b = backend.backend()) {
            Experiment e = new Experiment(plan, out, b, System.err);
            e.check();
            Path rep = e.run();
            spec.commandLine().getOut().println("Report: " + rep.resolve("report.html").toAbsolutePath());
            spec.commandLine().getOut().flush();
        }
        return 0;
    }

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    /**
     * The plan model "demo": the model msts demo trains and caches for the plan's world (same world spec and seed,
     * the demo's default trainer settings): from the cache, else the model msts ships for it (ShippedModel). Not
     * trained here: one clear error when it is neither cached nor shipped.
     */
    Path demoModel(Plan plan) throws Exception {
        var w = plan.worldSpec();
        if (w == null)
            throw new IllegalArgumentException("plan model \"demo\" needs the plan's world as a spec ({seed, entities, ...}), not a directory; pass --model DIR");
        byte[] manifest = WorldFiles.render(WorldSpec.demo(w.seed(), w.entities(), w.evalEntities(), w.paraphrases())).get(WorldFiles.MANIFEST);
        JsonNode man = new ObjectMapper().readTree(manifest);
        Path dir = DemoCommand.defaultModel(man, w.seed(), modelCache);
        if (!DemoCommand.isModel(dir)) ShippedModel.install(dir);
        if (!DemoCommand.isModel(dir))
            throw new IllegalArgumentException("the plan's model is the demo model of its world (seed " + w.seed() + "), which is not trained yet (" + dir
                    + " is missing): run `msts demo" + (w.seed() != 0 ? " --seed " + w.seed() : "") + (modelCache != null ? " --model-cache " + modelCache : "")
                    + "` once (it trains and caches it), or pass --model DIR");
        return dir;
    }
}
