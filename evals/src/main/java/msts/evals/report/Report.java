package msts.evals.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import java.util.function.Function;
import msts.evals.CoreMetrics;
import msts.evals.DisentangleMetrics;
import msts.evals.EvalOutput;
import msts.evals.ProbingMetrics;
import msts.evals.UnlearningMetrics;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * {@code msts report}: reads the SAEBench-schema JSONs of several runs (one directory per SAE, e.g. baseline
 * and temporal) and writes one page — report.html with PNG plots, and report.md with the same comparison
 * table — putting the runs side by side.
 */
public final class Report {
    private Report() {}

    /**
     * One run: a label, the SAE it evaluated and its typed eval results (null for an eval the run does not have).
     */
    public record Run(String label, Path dir, SaeInfo sae, CoreMetrics core, UnlearningMetrics unlearning,
                      ProbingMetrics probing, DisentangleMetrics disentangle) {}

    /** The SAE of a run as its results record it (sae_cfg_dict); "?" where absent. */
    public record SaeInfo(String architecture, String dIn, String dSae) {
        static SaeInfo from(JsonNode eval) {
            JsonNode cfg = eval.path("sae_cfg_dict");
            return new SaeInfo(cfg.path("architecture").asText("?"), cfg.path("d_in").asText("?"), cfg.path("d_sae").asText("?"));
        }
    }

    static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
            new Color(0x9467bd), new Color(0x8c564b)};

    /** Finds {@code *_eval_results.json} under each directory (up to 3 levels deep). */
    public static List<Run> load(List<Path> dirs) {
        List<Run> runs = new ArrayList<>();
        for (Path d : dirs) {
            if (!Files.isDirectory(d)) throw new IllegalArgumentException(d + ": run directory not found");
            Map<String, JsonNode> evals = new LinkedHashMap<>();
            try (Stream<Path> s = Files.walk(d, 3)) {
                for (Path f : s.filter(p -> p.getFileName().toString().endsWith("_eval_results.json")).sorted().toList()) {
                    JsonNode n = EvalOutput.read(f);
                    evals.put(n.path("eval_type_id").asText(f.getFileName().toString()), n);
                }
            } catch (IOException e) {
                throw new IllegalArgumentException(d + ": cannot list: " + e.getMessage());
            }
            if (evals.isEmpty()) throw new IllegalArgumentException(d + ": no *_eval_results.json files (run msts eval ... --out " + d + ")");
            JsonNode core = evals.get(CoreMetrics.EVAL_TYPE_ID), un = evals.get(UnlearningMetrics.EVAL_TYPE_ID),
                    pr = evals.get(ProbingMetrics.EVAL_TYPE_ID), dis = evals.get(DisentangleMetrics.EVAL_TYPE_ID);
            runs.add(new Run(d.getFileName().toString(), d, SaeInfo.from(evals.values().iterator().next()),
                    core == null ? null : CoreMetrics.from(core), un == null ? null : UnlearningMetrics.from(un),
                    pr == null ? null : ProbingMetrics.from(pr), dis == null ? null : DisentangleMetrics.from(dis)));
        }
        return runs;
    }

    /** Writes report.html, report.md and the PNGs into {@code out}; returns the HTML path. */
    public static Path write(List<Run> runs, Path out, String title, String note) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Files.createDirectories(out);
        List<String[]> plots = new ArrayList<>(); // file, caption
        plot(out, plots, "l0_vs_explained_variance.png", "Sparsity vs reconstruction: L0 (x) and explained variance (y), one point per SAE", l0VsEv(runs));
        plot(out, plots, "ground_truth_recovery.png", "Synthetic benchmark: mean max cosine similarity of decoder directions to planted features, by time scale (1.0 = every feature recovered)", recovery(runs));
        plot(out, plots, "unlearning_accuracy.png", "Unlearning sweep: WMDP-bio accuracy (lower is better) and pooled MMLU accuracy (should stay ≥ 0.99) per setting (retain threshold θ, features n, multiplier ×)", unlearning(runs));
        plot(out, plots, "decoder_cosine_histogram.png", "Distribution of pairwise decoder cosine similarities", cosineHist(runs));
        plot(out, plots, "latent_persistence.png", "Temporal persistence of each latent (mean autocorrelation over lags 1..16), latents sorted", persistence(runs));
        plot(out, plots, "autocorrelation_by_lag.png", "Mean latent autocorrelation by token lag", autocorr(runs));
        plot(out, plots, "probing_accuracy.png", "Sparse probing: test accuracy of a logistic probe on the top-k latents", probing(runs));
        List<String> header = new ArrayList<>(List.of("metric"));
        for (Run r : runs) header.add(r.label());
        List<List<String>> rows = table(runs);
        // markdown
        StringBuilder md = new StringBuilder("# ").append(title).append("\n\n");
        if (note != null && !note.isBlank()) md.append("> ").append(note.replace("\n", "\n> ")).append("\n\n");
        md.append("| ").append(String.join(" | ", header)).append(" |\n|");
        md.append(" --- |".repeat(header.size())).append('\n');
        for (List<String> r : rows) md.append("| ").append(String.join(" | ", r.stream().map(c -> c.replace("|", "\\|")).toList())).append(" |\n");
        md.append('\n');
        for (String[] p : plots) md.append("![").append(p[1]).append("](").append(p[0]).append(")\n\n");
        msts.io.AtomicFiles.writeString(out.resolve("report.md"), md);
        // html
        StringBuilder h = new StringBuilder("<!doctype html><html><head><meta charset=\"utf-8\"><title>").append(esc(title))
                .append("</title><style>body{font-family:sans-serif;max-width:1250px;margin:2em auto;padding:0 1em}"
                        + "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:4px 10px;text-align:right}"
                        + "td:first-child,th:first-child{text-align:left}.note{background:#fff6d5;border-left:4px solid #e0b000;padding:.6em 1em}"
                        + "figure{margin:1.5em 0}figcaption{color:#444;font-size:.95em}</style></head><body>");
        h.append("<h1>").append(esc(title)).append("</h1>");
        if (note != null && !note.isBlank()) h.append("<p class=\"note\">").append(esc(note).replace("\n", "<br>")).append("</p>");
        h.append("<p>Runs: ");
        for (Run r : runs) h.append("<code>").append(esc(r.label())).append("</code> (").append(esc(r.dir().toString())).append(") ");
        h.append("</p><table><tr>");
        for (String c : header) h.append("<th>").append(esc(c)).append("</th>");
        h.append("</tr>");
        for (List<String> r : rows) {
            h.append("<tr>");
            for (String c : r) h.append("<td>").append(esc(c)).append("</td>");
            h.append("</tr>");
        }
        h.append("</table>");
        for (String[] p : plots)
            h.append("<figure><img src=\"").append(p[0]).append("\" alt=\"").append(esc(p[1])).append("\"><figcaption>")
                    .append(esc(p[1])).append("</figcaption></figure>");
        h.append("<p>Metric definitions: docs/evals.md. Each eval's full results (SAEBench schema) are the *_eval_results.json files in the run directories.</p></body></html>\n");
        Path html = out.resolve("report.html");
        msts.io.AtomicFiles.writeString(html, h);
        return html;
    }

    static void plot(Path out, List<String[]> plots, String file, String caption, JFreeChart chart) throws IOException {
        if (chart == null) return;
        chart.setBackgroundPaint(Color.WHITE);
        int w = file.startsWith("unlearning") ? 1200 : 900;
        // encoded in memory, then written all or nothing: a full disk leaves no 0-byte PNG
        java.io.ByteArrayOutputStream png = new java.io.ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(png, chart, w, 520);
        msts.io.AtomicFiles.write(out.resolve(file), png.toByteArray());
        plots.add(new String[]{file, caption});
    }

    // ---- table -----------------------------------------------------------------------------------

    /** A table row: its label and the cell of a run ("–" when the run lacks the value). */
    record Row(String label, Function<Run, String> cell) {}

    /** The formatted value, "–" for a missing eval (null) or a missing/non-finite value (NaN, null). */
    static <T> Row row(String label, Function<Run, T> part, Function<T, Double> value) {
        return new Row(label, r -> {
            T p = part.apply(r);
            Double v = p == null ? null : value.apply(p);
            return v == null || Double.isNaN(v) ? "–" : fmt(v);
        });
    }

    /** "a / b" with "–" for a missing (NaN) value; "–" alone when a is missing. */
    static String pair(double a, double b) {
        return Double.isNaN(a) ? "–" : fmt(a) + " / " + (Double.isNaN(b) ? "–" : fmt(b));
    }

    static final List<Row> ROWS = List.of(
            row("L0", Run::core, c -> c.sparsity().l0()),
            row("explained variance", Run::core, c -> c.reconstructionQuality().explainedVariance()),
            row("MSE (per element)", Run::core, c -> c.reconstructionQuality().mse()),
            row("cos(x, x̂)", Run::core, c -> c.reconstructionQuality().cossim()),
            row("‖x̂‖/‖x‖", Run::core, c -> c.shrinkage().l2Ratio()),
            row("relative reconstruction bias", Run::core, c -> c.shrinkage().relativeReconstructionBias()),
            row("CE-loss score", r -> r.core() == null ? null : r.core().modelPerformancePreservation(), CoreMetrics.ModelPerformance::ceLossScore),
            new Row("CE clean / SAE / zero", r -> {
                var p = r.core() == null ? null : r.core().modelPerformancePreservation();
                return p == null || Double.isNaN(p.ceLossWithoutSae()) ? "–"
                        : fmt(p.ceLossWithoutSae()) + " / " + fmt(p.ceLossWithSae()) + " / " + fmt(p.ceLossWithAblation());
            }),
            row("KL score", r -> r.core() == null ? null : r.core().modelBehaviorPreservation(), CoreMetrics.ModelBehavior::klDivScore),
            row("frac alive", Run::core, c -> c.miscMetrics().fracAlive()),
            new Row("density > 1% / > 10%", r -> {
                var m = r.core() == null ? null : r.core().miscMetrics();
                return m == null || Double.isNaN(m.freqOver1Percent()) ? "–" : fmt(m.freqOver1Percent()) + " / " + fmt(m.freqOver10Percent());
            }),
            row("avg max decoder cos", Run::core, c -> c.miscMetrics().averageMaxDecoderCosineSim()),
            row("unlearning score", Run::unlearning, UnlearningMetrics::unlearningScore),
            new Row("forget MCQ acc., unmodified (original order / all 24)", r -> r.unlearning() == null ? "–"
                    : pair(r.unlearning().wmdpAccuracyOriginalOrder(), r.unlearning().wmdpAccuracyAll24Orders())),
            new Row("retain MCQ acc., unmodified (original order / all 24)", r -> r.unlearning() == null ? "–"
                    : pair(r.unlearning().mmluAccuracyOriginalOrder(), r.unlearning().mmluAccuracyAll24Orders())),
            row("SAE probe top-1", Run::probing, p -> p.saeTop(1)),
            row("SAE probe top-5", Run::probing, p -> p.saeTop(5)),
            row("SAE probe top-20", Run::probing, p -> p.saeTop(20)),
            row("SAE probe all latents", Run::probing, ProbingMetrics::saeTestAccuracy),
            row("residual probe (all dims)", Run::probing, ProbingMetrics::llmTestAccuracy),
            row("mean latent persistence", Run::disentangle, d -> d.temporalPersistence().meanPersistence()),
            row("mean autocorr lag 1", Run::disentangle, d -> d.temporalPersistence().meanAutocorrLag1()),
            row("top-latent co-activation (Jaccard)", Run::disentangle, d -> d.coactivation().meanJaccardTopLatents()),
            row("top-latent |corr|", Run::disentangle, d -> d.coactivation().meanAbsCorrTopLatents()),
            row("GT recovery, 1-token features", r -> r.disentangle() == null ? null : r.disentangle().groundTruth(), g -> g.recoveryByTimeScale().get(1)),
            row("GT recovery, 4-token features", r -> r.disentangle() == null ? null : r.disentangle().groundTruth(), g -> g.recoveryByTimeScale().get(4)),
            row("GT recovery, 16-token features", r -> r.disentangle() == null ? null : r.disentangle().groundTruth(), g -> g.recoveryByTimeScale().get(16)),
            row("GT recovery, mean", r -> r.disentangle() == null ? null : r.disentangle().groundTruth(), DisentangleMetrics.GroundTruth::recoveryMean));

    static List<List<String>> table(List<Run> runs) {
        List<List<String>> out = new ArrayList<>();
        List<String> arch = new ArrayList<>(List.of("architecture"));
        List<String> width = new ArrayList<>(List.of("d_in → d_sae"));
        for (Run r : runs) {
            arch.add(r.sae().architecture());
            width.add(r.sae().dIn() + " → " + r.sae().dSae());
        }
        out.add(arch);
        out.add(width);
        for (Row row : ROWS) {
            List<String> cells = new ArrayList<>(List.of(row.label()));
            boolean any = false;
            for (Run r : runs) {
                String c = row.cell().apply(r);
                if (!c.equals("–")) any = true;
                cells.add(c);
            }
            if (any) out.add(cells);
        }
        return out;
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) return "NaN";
        if (v != 0 && (Math.abs(v) >= 1e4 || Math.abs(v) < 1e-3)) return String.format(Locale.ROOT, "%.3e", v);
        return String.format(Locale.ROOT, "%.4f", v);
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    // ---- charts ----------------------------------------------------------------------------------

    static JFreeChart l0VsEv(List<Run> runs) {
        XYSeriesCollection ds = new XYSeriesCollection();
        for (Run r : runs) {
            if (r.core() == null) continue;
            double l0 = r.core().sparsity().l0(), ev = r.core().reconstructionQuality().explainedVariance();
            if (Double.isNaN(l0) || Double.isNaN(ev)) continue;
            XYSeries s = new XYSeries(r.label());
            s.add(l0, ev);
            ds.addSeries(s);
        }
        if (ds.getSeriesCount() == 0) return null;
        JFreeChart c = ChartFactory.createScatterPlot("L0 vs explained variance", "L0 (active latents per token)", "explained variance", ds);
        styleXY(c, true);
        return c;
    }

    static JFreeChart recovery(List<Run> runs) {
        DefaultCategoryDataset ds = new DefaultCategoryDataset();
        for (Run r : runs) {
            if (r.disentangle() == null || r.disentangle().groundTruth() == null) continue;
            r.disentangle().groundTruth().recoveryByTimeScale().forEach((scale, v) ->
                    ds.addValue(v, r.label(), scale + "-token features"));
        }
        if (ds.getRowCount() == 0) return null;
        JFreeChart c = ChartFactory.createBarChart("Ground-truth recovery by time scale", "planted feature time scale",
                "mean max cosine to a decoder direction", ds, PlotOrientation.VERTICAL, true, false, false);
        styleBars(c, false);
        ((CategoryPlot) c.getPlot()).getRangeAxis().setRange(0, 1.05);
        return c;
    }

    static JFreeChart unlearning(List<Run> runs) {
        DefaultCategoryDataset ds = new DefaultCategoryDataset();
        for (Run r : runs) {
            if (r.unlearning() == null) continue;
            for (UnlearningMetrics.Setting d : r.unlearning().settings()) {
                String cat = "θ=" + trim(d.retainThreshold()) + " n=" + d.nFeatures() + " ×" + trim(d.multiplier());
                ds.addValue(d.wmdpBioAccuracy(), r.label() + " WMDP-bio", cat);
                ds.addValue(d.mmluAccuracy(), r.label() + " MMLU", cat);
            }
        }
        if (ds.getRowCount() == 0) return null;
        JFreeChart c = ChartFactory.createBarChart("Unlearning: accuracy per setting (on questions the unmodified model answers correctly)",
                "setting", "accuracy", ds, PlotOrientation.VERTICAL, true, false, false);
        styleBars(c, true);
        CategoryPlot p = (CategoryPlot) c.getPlot();
        p.getDomainAxis().setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        p.getRangeAxis().setRange(0, 1.05);
        return c;
    }

    static String trim(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }

    static JFreeChart cosineHist(List<Run> runs) {
        XYSeriesCollection ds = new XYSeriesCollection();
        for (Run r : runs) {
            if (r.disentangle() == null) continue;
            double[] counts = r.disentangle().decoderCosineHistogramCounts();
            if (counts.length == 0) continue;
            int bins = counts.length;
            double total = 0;
            for (double c : counts) total += c;
            XYSeries s = new XYSeries(r.label());
            for (int b = 0; b < bins; b++) s.add(-1 + (b + 0.5) * 2.0 / bins, counts[b] / total);
            ds.addSeries(s);
        }
        if (ds.getSeriesCount() == 0) return null;
        JFreeChart c = ChartFactory.createXYLineChart("Decoder cosine similarity histogram", "cos(d_i, d_j)", "fraction of pairs", ds);
        styleXY(c, false);
        return c;
    }

    static JFreeChart persistence(List<Run> runs) {
        XYSeriesCollection ds = new XYSeriesCollection();
        for (Run r : runs) {
            if (r.disentangle() == null) continue;
            List<Double> v = new ArrayList<>();
            for (double x : r.disentangle().latentPersistence()) if (!Double.isNaN(x)) v.add(x);
            if (v.isEmpty()) continue;
            v.sort((a, b) -> Double.compare(b, a));
            XYSeries s = new XYSeries(r.label() + " (" + v.size() + " alive latents)");
            for (int i = 0; i < v.size(); i++) s.add(v.size() == 1 ? 0 : (double) i / (v.size() - 1), v.get(i));
            ds.addSeries(s);
        }
        if (ds.getSeriesCount() == 0) return null;
        JFreeChart c = ChartFactory.createXYLineChart("Per-latent temporal persistence", "latent rank (0 = most persistent, 1 = least)",
                "mean autocorrelation, lags 1..16", ds);
        styleXY(c, false);
        return c;
    }

    static JFreeChart autocorr(List<Run> runs) {
        XYSeriesCollection ds = new XYSeriesCollection();
        for (Run r : runs) {
            if (r.disentangle() == null) continue;
            double[] a = r.disentangle().meanAutocorrelationByLag();
            if (a.length == 0) continue;
            XYSeries s = new XYSeries(r.label());
            for (int l = 0; l < a.length; l++) if (!Double.isNaN(a[l])) s.add(l + 1, a[l]);
            ds.addSeries(s);
        }
        if (ds.getSeriesCount() == 0) return null;
        JFreeChart c = ChartFactory.createXYLineChart("Mean latent autocorrelation", "lag (tokens)", "autocorrelation", ds);
        styleXY(c, true);
        return c;
    }

    static JFreeChart probing(List<Run> runs) {
        XYSeriesCollection ds = new XYSeriesCollection();
        for (Run r : runs) {
            if (r.probing() == null) continue;
            XYSeries s = new XYSeries(r.label());
            r.probing().saeTopK().forEach((k, v) -> {
                if (v != null) s.add(k.intValue(), v.doubleValue());
            });
            if (s.getItemCount() > 0) ds.addSeries(s);
        }
        if (ds.getSeriesCount() == 0) return null;
        JFreeChart c = ChartFactory.createXYLineChart("Sparse probing", "k (latents)", "test accuracy", ds);
        styleXY(c, true);
        return c;
    }

    static void styleXY(JFreeChart c, boolean shapes) {
        XYPlot p = c.getXYPlot();
        p.setBackgroundPaint(Color.WHITE);
        p.setDomainGridlinePaint(new Color(0xdddddd));
        p.setRangeGridlinePaint(new Color(0xdddddd));
        XYLineAndShapeRenderer rr = new XYLineAndShapeRenderer(!c.getTitle().getText().startsWith("L0"), shapes);
        for (int i = 0; i < p.getSeriesCount(); i++) {
            rr.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
            rr.setSeriesStroke(i, new BasicStroke(2f));
            rr.setSeriesShape(i, new java.awt.geom.Ellipse2D.Double(-5, -5, 10, 10));
        }
        p.setRenderer(rr);
        c.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    }

    /** The colour mixed 55% with white (the MMLU bar next to its run's WMDP bar). */
    static Color tint(Color c) {
        return new Color((int) (c.getRed() * 0.45 + 255 * 0.55), (int) (c.getGreen() * 0.45 + 255 * 0.55), (int) (c.getBlue() * 0.45 + 255 * 0.55));
    }

    static void styleBars(JFreeChart c, boolean pairs) {
        CategoryPlot p = (CategoryPlot) c.getPlot();
        p.setBackgroundPaint(Color.WHITE);
        p.setRangeGridlinePaint(new Color(0xdddddd));
        BarRenderer r = (BarRenderer) p.getRenderer();
        r.setBarPainter(new StandardBarPainter());
        r.setShadowVisible(false);
        r.setItemMargin(0.02);
        for (int i = 0; i < p.getDataset().getRowCount(); i++) {
            Color base = PALETTE[(pairs ? i / 2 : i) % PALETTE.length];
            r.setSeriesPaint(i, pairs && i % 2 == 1 ? tint(base) : base);
        }
        c.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
    }
}
