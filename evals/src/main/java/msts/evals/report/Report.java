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
import msts.evals.EvalOutput;
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

    /** One run: a label and its eval results by eval_type_id. */
    public record Run(String label, Path dir, Map<String, JsonNode> evals) {
        JsonNode metric(String type, String group, String key) {
            JsonNode e = evals.get(type);
            if (e == null) return null;
            JsonNode v = e.path("eval_result_metrics").path(group).path(key);
            return v.isMissingNode() || v.isNull() ? null : v;
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
            runs.add(new Run(d.getFileName().toString(), d, evals));
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
        Files.writeString(out.resolve("report.md"), md, StandardCharsets.UTF_8);
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
        Files.writeString(html, h, StandardCharsets.UTF_8);
        return html;
    }

    static void plot(Path out, List<String[]> plots, String file, String caption, JFreeChart chart) throws IOException {
        if (chart == null) return;
        chart.setBackgroundPaint(Color.WHITE);
        int w = file.startsWith("unlearning") ? 1200 : 900;
        ChartUtils.saveChartAsPNG(out.resolve(file).toFile(), chart, w, 520);
        plots.add(new String[]{file, caption});
    }

    // ---- table -----------------------------------------------------------------------------------

    record Row(String label, String type, String group, String key) {}

    static final List<Row> ROWS = List.of(
            new Row("L0", "core", "sparsity", "l0"),
            new Row("explained variance", "core", "reconstruction_quality", "explained_variance"),
            new Row("MSE (per element)", "core", "reconstruction_quality", "mse"),
            new Row("cos(x, x̂)", "core", "reconstruction_quality", "cossim"),
            new Row("‖x̂‖/‖x‖", "core", "shrinkage", "l2_ratio"),
            new Row("relative reconstruction bias", "core", "shrinkage", "relative_reconstruction_bias"),
            new Row("CE-loss score", "core", "model_performance_preservation", "ce_loss_score"),
            new Row("CE clean / SAE / zero", "core", "model_performance_preservation", null),
            new Row("KL score", "core", "model_behavior_preservation", "kl_div_score"),
            new Row("frac alive", "core", "misc_metrics", "frac_alive"),
            new Row("density > 1% / > 10%", "core", "misc_metrics", null),
            new Row("avg max decoder cos", "core", "misc_metrics", "average_max_decoder_cosine_sim"),
            new Row("unlearning score", "unlearning", "unlearning", "unlearning_score"),
            new Row("forget MCQ acc., unmodified (original order / all 24)", "unlearning", "unlearning", "wmdp_bio_accuracy_unmodified"),
            new Row("retain MCQ acc., unmodified (original order / all 24)", "unlearning", "unlearning", "mmlu_accuracy_unmodified"),
            new Row("SAE probe top-1", "sparse_probing", "sae", "sae_top_1_test_accuracy"),
            new Row("SAE probe top-5", "sparse_probing", "sae", "sae_top_5_test_accuracy"),
            new Row("SAE probe top-20", "sparse_probing", "sae", "sae_top_20_test_accuracy"),
            new Row("SAE probe all latents", "sparse_probing", "sae", "sae_test_accuracy"),
            new Row("residual probe (all dims)", "sparse_probing", "llm", "llm_test_accuracy"),
            new Row("mean latent persistence", "msts_disentanglement", "temporal_persistence", "mean_persistence"),
            new Row("mean autocorr lag 1", "msts_disentanglement", "temporal_persistence", "mean_autocorr_lag_1"),
            new Row("top-latent co-activation (Jaccard)", "msts_disentanglement", "coactivation", "mean_jaccard_top_latents"),
            new Row("top-latent |corr|", "msts_disentanglement", "coactivation", "mean_abs_corr_top_latents"),
            new Row("GT recovery, 1-token features", "msts_disentanglement", "ground_truth", "recovery_time_scale_1"),
            new Row("GT recovery, 4-token features", "msts_disentanglement", "ground_truth", "recovery_time_scale_4"),
            new Row("GT recovery, 16-token features", "msts_disentanglement", "ground_truth", "recovery_time_scale_16"),
            new Row("GT recovery, mean", "msts_disentanglement", "ground_truth", "recovery_mean"));

    static List<List<String>> table(List<Run> runs) {
        List<List<String>> out = new ArrayList<>();
        List<String> arch = new ArrayList<>(List.of("architecture"));
        List<String> width = new ArrayList<>(List.of("d_in → d_sae"));
        for (Run r : runs) {
            JsonNode cfg = r.evals().values().iterator().next().path("sae_cfg_dict");
            arch.add(cfg.path("architecture").asText("?"));
            width.add(cfg.path("d_in").asText("?") + " → " + cfg.path("d_sae").asText("?"));
        }
        out.add(arch);
        out.add(width);
        for (Row row : ROWS) {
            List<String> cells = new ArrayList<>(List.of(row.label()));
            boolean any = false;
            for (Run r : runs) {
                String c;
                if (row.key() == null && row.group().equals("model_performance_preservation")) {
                    JsonNode a = r.metric("core", row.group(), "ce_loss_without_sae"), b = r.metric("core", row.group(), "ce_loss_with_sae"),
                            z = r.metric("core", row.group(), "ce_loss_with_ablation");
                    c = a == null ? "–" : fmt(a.asDouble()) + " / " + fmt(b.asDouble()) + " / " + fmt(z.asDouble());
                } else if (row.key() != null && row.key().endsWith("_unmodified")) {
                    JsonNode a = r.metric(row.type(), row.group(), row.key() + "_original_order"),
                            b = r.metric(row.type(), row.group(), row.key() + "_all_24_orders");
                    c = a == null ? "–" : fmt(a.asDouble()) + " / " + (b == null ? "–" : fmt(b.asDouble()));
                } else if (row.key() == null) {
                    JsonNode a = r.metric("core", row.group(), "freq_over_1_percent"), b = r.metric("core", row.group(), "freq_over_10_percent");
                    c = a == null ? "–" : fmt(a.asDouble()) + " / " + fmt(b.asDouble());
                } else {
                    JsonNode v = r.metric(row.type(), row.group(), row.key());
                    c = v == null ? "–" : fmt(v.asDouble());
                }
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
            JsonNode l0 = r.metric("core", "sparsity", "l0"), ev = r.metric("core", "reconstruction_quality", "explained_variance");
            if (l0 == null || ev == null) continue;
            XYSeries s = new XYSeries(r.label());
            s.add(l0.asDouble(), ev.asDouble());
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
            JsonNode g = r.evals().getOrDefault("msts_disentanglement", EvalOutput.MAPPER.createObjectNode())
                    .path("eval_result_metrics").path("ground_truth");
            g.properties().forEach(e -> {
                if (e.getKey().startsWith("recovery_time_scale_"))
                    ds.addValue(e.getValue().asDouble(), r.label(), e.getKey().substring("recovery_time_scale_".length()) + "-token features");
            });
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
            JsonNode e = r.evals().get("unlearning");
            if (e == null) continue;
            for (JsonNode d : e.path("eval_result_details")) {
                String cat = "θ=" + trim(d.path("retain_threshold").asDouble()) + " n=" + d.path("n_features").asInt() + " ×"
                        + trim(d.path("multiplier").asDouble());
                ds.addValue(d.path("wmdp_bio_accuracy").asDouble(), r.label() + " WMDP-bio", cat);
                ds.addValue(d.path("mmlu_accuracy").asDouble(), r.label() + " MMLU", cat);
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
            JsonNode u = r.evals().getOrDefault("msts_disentanglement", EvalOutput.MAPPER.createObjectNode()).path("eval_result_unstructured");
            JsonNode counts = u.path("decoder_cosine_histogram_counts");
            if (!counts.isArray() || counts.isEmpty()) continue;
            int bins = counts.size();
            double total = 0;
            for (JsonNode c : counts) total += c.asDouble();
            XYSeries s = new XYSeries(r.label());
            for (int b = 0; b < bins; b++) s.add(-1 + (b + 0.5) * 2.0 / bins, counts.get(b).asDouble() / total);
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
            JsonNode p = r.evals().getOrDefault("msts_disentanglement", EvalOutput.MAPPER.createObjectNode())
                    .path("eval_result_unstructured").path("latent_persistence");
            if (!p.isArray()) continue;
            List<Double> v = new ArrayList<>();
            for (JsonNode x : p) if (x.isNumber()) v.add(x.asDouble());
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
            JsonNode a = r.evals().getOrDefault("msts_disentanglement", EvalOutput.MAPPER.createObjectNode())
                    .path("eval_result_unstructured").path("mean_autocorrelation_by_lag");
            if (!a.isArray() || a.isEmpty()) continue;
            XYSeries s = new XYSeries(r.label());
            for (int l = 0; l < a.size(); l++) if (a.get(l).isNumber()) s.add(l + 1, a.get(l).asDouble());
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
            JsonNode g = r.evals().getOrDefault("sparse_probing", EvalOutput.MAPPER.createObjectNode()).path("eval_result_metrics").path("sae");
            XYSeries s = new XYSeries(r.label());
            g.properties().forEach(e -> {
                String k = e.getKey();
                if (k.startsWith("sae_top_") && e.getValue().isNumber())
                    s.add(Integer.parseInt(k.substring(8, k.indexOf("_test"))), e.getValue().asDouble());
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
