package msts.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import msts.evals.SaeBenchLayout;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code msts export saebench}: run directories → SAEBench's {@code <root>/<eval_type>/<sae_name>_eval_results.json}. */
@Command(name = "saebench", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Copies each RUN's <eval_type>_eval_results.json to OUT/<eval_type>/<RUN name>_eval_results.json,",
                "the layout SAEBench's loaders and graphing code read (the SAE is named after its run directory)."})
public final class ExportSaeBenchCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "SAEBench results root")
    Path out;

    @Parameters(arity = "1..*", paramLabel = "RUN", description = "run directories holding *_eval_results.json (msts eval --out)")
    List<Path> runs;

    @Override
    public Integer call() {
        List<Path> written = SaeBenchLayout.export(runs, out);
        for (Path p : written) spec.commandLine().getOut().println("wrote " + p);
        spec.commandLine().getOut().flush();
        return 0;
    }
}
