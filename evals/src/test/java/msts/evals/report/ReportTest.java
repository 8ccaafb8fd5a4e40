package msts.evals.report;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import msts.evals.EvalOutput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ReportTest {
    /** Builds two runs' JSONs with the eval classes on fakes (see ReportFixtures), then the report. */
    @Test
    void writesHtmlMarkdownAndPlots(@TempDir Path dir) throws Exception {
        Path a = dir.resolve("baseline"), b = dir.resolve("temporal");
        msts.evals.ReportFixtures.writeRun(a, 0.3f, 1);
        msts.evals.ReportFixtures.writeRun(b, 0.1f, 2);
        Path out = Path.of(System.getenv().getOrDefault("MSTS_REPORT_OUT", dir.resolve("report").toString()));
        Path html = Report.write(Report.load(List.of(a, b)), out, "msts report test", "Numbers from fakes.");
        String h = Files.readString(html);
        assertTrue(h.contains("<td>baseline</td>") || h.contains("<th>baseline</th>"));
        assertTrue(h.contains("temporal"));
        String md = Files.readString(out.resolve("report.md"));
        assertTrue(md.contains("| metric | baseline | temporal |"));
        assertTrue(md.contains("| unlearning score |"));
        assertTrue(md.contains("| GT recovery, 16-token features |"));
        for (String png : new String[]{"l0_vs_explained_variance.png", "ground_truth_recovery.png", "unlearning_accuracy.png",
                "decoder_cosine_histogram.png", "latent_persistence.png", "autocorrelation_by_lag.png", "probing_accuracy.png"}) {
            Path p = out.resolve(png);
            assertTrue(Files.size(p) > 5000, png);
            assertTrue(h.contains("src=\"" + png + "\""), png);
            byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(p), 8);
            assertEquals((byte) 0x89, head[0]);
            assertEquals('P', head[1]);
        }
        assertTrue(EvalOutput.read(a.resolve("core_eval_results.json")).has("eval_result_metrics"));
    }

    @Test
    void missingRunDirectoryIsOneClearError(@TempDir Path dir) {
        var e = assertThrows(IllegalArgumentException.class, () -> Report.load(List.of(dir.resolve("nope"))));
        assertTrue(e.getMessage().contains("run directory not found"));
        var e2 = assertThrows(IllegalArgumentException.class, () -> Report.load(List.of(dir)));
        assertTrue(e2.getMessage().contains("no *_eval_results.json"));
    }
}
