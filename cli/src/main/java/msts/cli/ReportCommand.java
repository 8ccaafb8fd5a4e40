package msts.cli;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import msts.evals.report.Report;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code msts report RUN_DIR... --out DIR}: one HTML page (PNG plots) + markdown table comparing the runs. */
@Command(name = "report", mixinStandardHelpOptions = true,
        description = "Compares runs (directories with *_eval_results.json, one per SAE) side by side: report.html, report.md, PNG plots.")
public final class ReportCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(arity = "1..*", paramLabel = "RUN_DIR") List<Path> runs;
    @Option(names = "--out", required = true, paramLabel = "DIR") Path out;
    @Option(names = "--title", defaultValue = "msts: baseline vs temporal SAE") String title;
    @Option(names = "--note", description = "a note shown at the top of the page") String note;
    @Option(names = "--force", description = "overwrite an existing report in --out") boolean force;
    @picocli.CommandLine.Mixin VerboseOption verbose;

    @Override
    public Integer call() throws Exception {
        Outputs.refuseOverwrite(out, force, "report.html", "report.md");
        System.setProperty("java.awt.headless", "true");
        Path html = Report.write(Report.load(runs), out, title, note);
        spec.commandLine().getOut().println("report: " + html.toAbsolutePath());
        spec.commandLine().getOut().flush();
        return 0;
    }
}
