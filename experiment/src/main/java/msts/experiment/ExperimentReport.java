package msts.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.StatisticalBarRenderer;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.statistics.DefaultStatisticalCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The experiment's report from its cell files (docs/experiment.md, "The report"): report.md and report.html with
 * the configuration × metric table (mean and 95% CI over seeds), the paired differences against the baseline
 * (CI, paired-t and exact sign-flip p-values, verdict), the matched-L0 check and L0-vs-metric frontier, the
 * unlearning curves of every SAE and RMU on one forget-vs-retain plot, ground-truth recovery by time scale and
 * regime, and a conclusion written only from those numbers. summary.json holds every statistic.
 */
public final class ExperimentReport {
    private ExperimentReport() {}

    /** A metric: its cell file and field, label, and direction (null: no better/worse, e.g. L0). */
    record Metric(String key, String file, String field, String label, Boolean higherIsBetter) {}

    static final Color[] PALETTE = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e),
            new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0x17becf), new Color(0x7f7f7f)};

    static List<Metric> metrics(Plan plan) {
        List<Metric> m = new ArrayList<>();
        if (plan.evals().contains("core")) {
            m.add(new Metric("l0", "core.json", "l0", "L0", null));
            m.add(new Metric("explained_variance", "core.json", "explained_variance", "explained variance", true));
            m.add(new Metric("ce_loss_score", "core.json", "ce_loss_score", "CE-loss score", true));
        }
        if (plan.evals().contains("unlearning")) m.add(new Metric("unlearning_score", "unlearning.json", "unlearning_score", "unlearning score", true));
        if (plan.evals().contains("probing")) {
            int k = plan.probing().ks()[0];
            m.add(new Metric("probing_top" + k, "probing.json", "sae_top_" + k + "_test_accuracy", "probing top-" + k + " accuracy", true));
        }
        if (plan.evals().contains("ground_truth")) {
            int longest = java.util.Arrays.stream(plan.groundTruth().scales()).max().orElse(1);
            for (String r : plan.groundTruth().regimes()) {
                m.add(new Metric("gt_" + r + "_mean", "gt-" + r, "recovery_mean", "GT recovery " + r + " (mean)", true));
                m.add(new Metric("gt_" + r + "_L" + longest, "gt-" + r, "recovery_by_time_scale/" + longest, "GT recovery " + r + " (scale " + longest + ")", true));
            }
        }
        return m;
    }

    static JsonNode readOrNull(Path f) {
        try {
            return Files.isRegularFile(f) ? Experiment.JSON.readTree(f.toFile()) : null;
        } catch (IOException e) {
            return null;
        }
    }

    static Path file(Plan plan, Path out, Metric m, String config, long seed) {
        if (m.file().startsWith("gt-")) return out.resolve("cells").resolve(m.file()).resolve(config).resolve("seed-" + seed).resolve("gt.json");
        return out.resolve("cells").resolve(config).resolve("seed-" + seed).resolve(m.file());
    }

    static double value(JsonNode n, String field) {
        if (n == null) return Double.NaN;
        JsonNode v = n;
        for (String p : field.split("/")) v = v.path(p);
        return v.isNumber() ? v.asDouble() : Double.NaN;
    }

    /** Per seed (plan order), the metric of one config; NaN where the cell is missing. RMU: config "rmu". */
    static double[] values(Plan plan, Path out, Metric m, String config) {
        double[] v = new double[plan.seeds().size()];
        for (int i = 0; i < v.length; i++) {
            long s = plan.seeds().get(i);
            Path f = config.equals("rmu") ? out.resolve("cells/rmu/seed-" + s + "/rmu.json") : file(plan, out, m, config, s);
            v[i] = value(readOrNull(f), m.field());
        }
        return v;
    }

    /** The configs a metric applies to (ground truth: the plan's GT configs; unlearning: + RMU). */
    static List<String> configsOf(Plan plan, Metric m) {
        List<String> c = new ArrayList<>();
        if (m.file().startsWith("gt-")) c.addAll(plan.groundTruth().configs());
        else plan.configs().forEach(x -> c.add(x.name()));
        if (m.key().equals("unlearning_score") && plan.evals().contains("rmu")) c.add("rmu");
        return c;
    }

    static String f(double v) {
        if (Double.isNaN(v)) return "–";
        double a = Math.abs(v);
        return String.format(Locale.ROOT, a != 0 && (a < 1e-3 || a >= 1e4) ? "%.3g" : "%.4f", v);
    }

    static String ci(Stats.Summary s) {
        if (s.n() == 0) return "–";
        if (s.n() == 1) return f(s.mean()) + " (n=1)";
        return f(s.mean()) + " [" + f(s.lo()) + ", " + f(s.hi()) + "]";
    }

    static String p(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, v < 1e-3 ? "%.1e" : "%.3f", v);
    }

    public static Path write(Plan plan, Path out) throws IOException {
        System.setProperty("java.awt.headless", "true");
        Path rep = out.resolve("report");
        Files.createDirectories(rep);
        List<Metric> metrics = metrics(plan);
        int n = plan.seeds().size();
        String base = plan.baseline();
        ObjectNode summary = Experiment.JSON.createObjectNode();
        summary.put("plan", plan.name());
        summary.put("plan_hash", plan.hash());
        summary.put("seeds", n);
        summary.put("baseline", base);
        StringBuilder md = new StringBuilder(), html = new StringBuilder();
        List<String[]> plots = new ArrayList<>();
        String title = "msts experiment '" + plan.name() + "': " + plan.configs().size() + " SAE configurations × " + n + " seeds";
        md.append("# ").append(title).append("\n\n");

        JsonNode mcq = readOrNull(out.resolve("mcq.json"));
        String modelNote = "Model: " + plan.model() + ", hook layer " + plan.layer() + ". Every number is a mean over " + n
                + " seeds with its t-based 95% confidence interval [lo, hi]; differences are paired by seed (docs/experiment.md).";
        md.append(modelNote).append("\n\n");
        double forgetUnmod = Double.NaN;
        if (mcq != null) {
            List<String> parts = new ArrayList<>();
            for (var e : mcq.path("accuracy").properties()) {
                if (e.getKey().startsWith("wmdp")) forgetUnmod = e.getValue().path("accuracy_original_order").asDouble();
                parts.add(e.getKey() + " " + f(e.getValue().path("accuracy_original_order").asDouble()) + " (original order)"
                        + (e.getValue().has("accuracy_mean_24_orders") ? " / " + f(e.getValue().path("accuracy_mean_24_orders").asDouble()) + " (mean over the 24 orders)" : "")
                        + (e.getValue().has("accuracy_all_24_orders") ? " / " + f(e.getValue().path("accuracy_all_24_orders").asDouble()) + " (right in all 24 orders)" : ""));
            }
            md.append("Unmodified model MCQ accuracy (chance 0.25): ").append(String.join(", ", parts)).append(". Unlearning accuracies are over the questions it answers correctly")
                    .append(mcq.path("all_permutations").asBoolean() ? " in all 24 choice orders" : " in the original order").append(".\n\n");
        }

        // ---- configuration × metric table
        List<String> rows = new ArrayList<>();
        plan.configs().forEach(c -> rows.add(c.name()));
        if (plan.evals().contains("rmu") && plan.evals().contains("unlearning")) rows.add("rmu");
        List<List<String>> table = new ArrayList<>();
        List<String> head = new ArrayList<>(List.of("configuration"));
        metrics.forEach(m -> head.add(m.label()));
        table.add(head);
        ObjectNode sm = summary.putObject("metrics");
        Map<String, Map<String, Stats.Summary>> sums = new LinkedHashMap<>();
        for (String r : rows) {
            List<String> line = new ArrayList<>(List.of(r.equals("rmu") ? "RMU (reference)" : r + (r.equals(base) ? " (baseline)" : "")));
            for (Metric m : metrics) {
                if (!configsOf(plan, m).contains(r)) {
                    line.add("–");
                    continue;
                }
                double[] v = values(plan, out, m, r);
                Stats.Summary s = Stats.summary(v);
                sums.computeIfAbsent(m.key(), k -> new LinkedHashMap<>()).put(r, s);
                line.add(ci(s));
                ObjectNode o = sm.with(m.key()).putObject(r);
                o.put("n", s.n());
                o.put("mean", s.mean());
                o.put("ci95_lo", s.lo());
                o.put("ci95_hi", s.hi());
                ArrayNode vs = o.putArray("values");
                for (double x : v) vs.add(x);
            }
            table.add(line);
        }
        md.append("## Configuration × metric (mean [95% CI] over seeds)\n\n");
        table(md, table);
        describeConfigs(plan, out, md);
        if (plan.evals().contains("probing")) probingNote(plan, out, md, summary);

        // ---- paired differences
        List<List<String>> pt = new ArrayList<>();
        pt.add(List.of("configuration", "metric", "Δ vs " + base + " [95% CI]", "p (paired t)", "p (sign-flip, exact)", "verdict at n=" + n));
        ArrayNode pd = summary.putArray("paired_differences");
        List<String> findings = new ArrayList<>();
        Map<String, DefaultStatisticalCategoryDataset> diffPlots = new LinkedHashMap<>();
        for (Metric m : metrics) {
            List<String> cs = configsOf(plan, m);
            if (!cs.contains(base)) continue;
            double[] b = values(plan, out, m, base);
            for (String c : cs) {
                if (c.equals(base)) continue;
                Stats.Paired d = Stats.paired(values(plan, out, m, c), b);
                Stats.Verdict v = m.higherIsBetter() == null ? null : Stats.verdict(d, m.higherIsBetter());
                String cname = c.equals("rmu") ? "RMU" : c;
                pt.add(List.of(cname, m.label(), f(d.mean()) + " [" + f(d.lo()) + ", " + f(d.hi()) + "]", p(d.pT()), p(d.pSignFlip()),
                        v == null ? (Double.isNaN(d.lo()) || (d.lo() <= 0 && d.hi() >= 0) ? "no detectable difference" : "differs (no direction)") : v.text));
                ObjectNode o = pd.addObject();
                o.put("config", c);
                o.put("metric", m.key());
                o.put("n", d.n());
                o.put("mean_difference", d.mean());
                o.put("ci95_lo", d.lo());
                o.put("ci95_hi", d.hi());
                o.put("t", d.t());
                o.put("p_paired_t", d.pT());
                o.put("p_sign_flip_exact", d.pSignFlip());
                o.put("verdict", v == null ? "n/a" : v.text);
                if (v != null && v != Stats.Verdict.NO_DIFFERENCE)
                    findings.add(String.format(Locale.ROOT, "%s is %s than %s on %s (Δ %s, 95%% CI [%s, %s], paired t p = %s, exact sign-flip p = %s)",
                            cname, v == Stats.Verdict.BETTER ? "better" : "worse", base, m.label(), f(d.mean()), f(d.lo()), f(d.hi()), p(d.pT()), p(d.pSignFlip())));
                if (!Double.isNaN(d.mean()))
                    diffPlots.computeIfAbsent(m.key(), k -> new DefaultStatisticalCategoryDataset())
                            .add(d.mean(), Double.isNaN(d.hi()) ? 0 : d.hi() - d.mean(), "Δ", cname);
            }
        }
        md.append("\n## Paired differences against the baseline (").append(base).append(")\n\n");
        md.append("Δ = configuration − baseline per seed. Verdict: better/worse when the 95% CI of Δ excludes 0 (paired t-test p < 0.05), else no detectable "
                + "difference at n = ").append(n).append(" seeds. The exact sign-flip test cannot go below 2/2^n = ").append(p(2.0 / (1L << n)))
                .append(" with n = ").append(n).append(".\n\n");
        table(md, pt);
        for (Metric m : metrics) {
            var ds = diffPlots.get(m.key());
            if (ds == null) continue;
            JFreeChart ch = ChartFactory.createBarChart("Paired difference vs " + base + ": " + m.label(), "configuration", "Δ (mean, 95% CI)", ds,
                    PlotOrientation.VERTICAL, false, false, false);
            CategoryPlot cp = (CategoryPlot) ch.getPlot();
            StatisticalBarRenderer r = new StatisticalBarRenderer();
            r.setSeriesPaint(0, PALETTE[0]);
            r.setErrorIndicatorPaint(Color.BLACK);
            r.setShadowVisible(false);
            r.setBarPainter(new org.jfree.chart.renderer.category.StandardBarPainter());
            cp.setRenderer(r);
            cp.setBackgroundPaint(Color.WHITE);
            cp.setRangeGridlinePaint(new Color(0xdddddd));
            png(rep, plots, "paired_" + m.key() + ".png", "Paired difference vs " + base + " on " + m.label() + " (bar: mean Δ; whisker: 95% CI)", ch);
        }

        // ---- matched L0
        String l0Note = matchedL0(plan, sums, md, summary);
        if (plan.targetL0() != null) calibration(plan, out, rep, plots, md, summary);
        frontier(plan, out, rep, plots);
        String tuneNote = tuning(plan, out, md, summary);

        // ---- unlearning curves
        if (plan.evals().contains("unlearning") || plan.evals().contains("rmu")) unlearningCurves(plan, out, rep, plots, summary);

        // ---- ground truth
        String gtText = "";
        if (plan.evals().contains("ground_truth")) gtText = groundTruth(plan, out, rep, plots, md, summary);

        // ---- conclusion
        List<String> concl = new ArrayList<>();
        if (!Double.isNaN(forgetUnmod) && forgetUnmod <= 0.35)
            concl.add(String.format(Locale.ROOT, "The unmodified model answers the forget-domain MCQs at %s (chance 0.25), so the unlearning numbers do not measure the removal of knowledge the model has.", f(forgetUnmod)));
        if (findings.isEmpty()) concl.add("At n = " + n + " seeds no configuration differs detectably from the baseline (" + base + ") on any metric.");
        else {
            concl.add("At n = " + n + " seeds: " + String.join("; ", findings) + ".");
            concl.add("Every other comparison in the paired-difference table shows no detectable difference.");
        }
        if (!l0Note.isEmpty()) concl.add(l0Note);
        if (!tuneNote.isEmpty()) concl.add(tuneNote);
        if (!gtText.isEmpty()) concl.add(gtText);
        md.append("\n## Conclusion (generated from the numbers above)\n\n");
        for (String c : concl) md.append("- ").append(c).append("\n");
        ArrayNode cj = summary.putArray("conclusion");
        concl.forEach(cj::add);
        md.append("\n## Plots\n\n");
        for (String[] pl : plots) md.append("![").append(pl[1]).append("](").append(pl[0]).append(")\n\n");
        msts.io.AtomicFiles.writeString(rep.resolve("report.md"), md);
        msts.io.AtomicFiles.writeString(rep.resolve("summary.json"), Experiment.JSON.writeValueAsString(summary) + "\n");
        html.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>").append(esc(title)).append("</title><style>body{font-family:sans-serif;max-width:1200px;margin:2em auto}"
                + "table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}img{max-width:100%}</style></head><body>");
        html.append(mdToHtml(md.toString()));
        html.append("</body></html>\n");
        msts.io.AtomicFiles.writeString(rep.resolve("report.html"), html);
        return rep;
    }

    static void describeConfigs(Plan plan, Path out, StringBuilder md) {
        md.append("\nConfigurations (as evaluated").append(plan.targetL0() != null ? ", L1/k calibrated to L0 " + f(plan.targetL0()) : "")
                .append(plan.configs().stream().anyMatch(x -> x.tune() != null) ? ", tuned configs at their selected settings" : "").append("): ");
        List<String> d = new ArrayList<>();
        for (Plan.SaeCfg c0 : plan.configs()) {
            Plan.SaeCfg c;
            try {
                c = Resolve.effective(plan, out, c0);
            } catch (IOException | IllegalStateException e) {
                c = c0;
            }
            d.add(String.format(Locale.ROOT, "%s = %s%s, d_sae %d, %s, %ssep %s (%s), context %d, %d tokens", c.name(), c.arch(),
                    c.temporal() ? " (dilations " + java.util.Arrays.toString(c.dilations()) + ", act " + c.act() + ")" : "", c.dSae(),
                    c.act().equals("topk") ? "k " + c.k() : "L1 " + f(c.l1()), "", c.sepWeight(), c.sepForm(), c.context(), c.tokens()));
        }
        md.append(String.join("; ", d)).append(".\n");
    }

    /**
     * The matched-L0 check: each config's mean L0 (core eval, evaluation seeds) against the baseline's — within 10%
     * → matched (the comparisons are against the baseline). With a target L0 the report also gives each config's
     * distance from the target (calibrated on other rows and another seed, the achieved L0 can sit off the target
     * by the same amount for every config).
     */
    static String matchedL0(Plan plan, Map<String, Map<String, Stats.Summary>> sums, StringBuilder md, ObjectNode summary) {
        Map<String, Stats.Summary> l0 = sums.get("l0");
        if (l0 == null || !l0.containsKey(plan.baseline())) return "";
        Double target = plan.targetL0();
        double b = l0.get(plan.baseline()).mean();
        List<String> off = new ArrayList<>(), all = new ArrayList<>();
        ObjectNode o = summary.putObject("l0_relative_to_baseline");
        ObjectNode ot = target != null ? summary.putObject("l0_relative_to_target") : null;
        for (var e : l0.entrySet()) {
            double m = e.getValue().mean();
            if (ot != null) {
                ot.put(e.getKey(), m / target - 1);
                all.add(String.format(Locale.ROOT, "%s %s (%+.0f%% from the target)", e.getKey(), ci(e.getValue()), 100 * (m / target - 1)));
            }
            if (e.getKey().equals(plan.baseline())) continue;
            double rel = m / b - 1;
            o.put(e.getKey(), rel);
            if (Math.abs(rel) > 0.10) off.add(String.format(Locale.ROOT, "%s (%+.0f%%)", e.getKey(), 100 * rel));
        }
        md.append("\n## Matched L0\n\n");
        if (target != null)
            md.append("Each configuration's L1 (or k) was calibrated so that its L0 on the validation rows is ").append(f(target))
                    .append(" (calibration below). Achieved L0 on the evaluation seeds (core eval on ").append(coreText(plan)).append("; mean [95% CI]): ").append(String.join("; ", all)).append(".\n\n");
        String text;
        if (off.isEmpty()) text = "Every configuration's mean L0 is within 10% of the baseline's (" + f(b) + "): the comparisons are at matched sparsity.";
        else text = "L0 is not matched (more than 10% from the baseline's " + f(b) + "): " + String.join(", ", off)
                + "; their reconstruction and unlearning differences are confounded with sparsity — compare them on the L0-vs-metric frontier plot.";
        md.append(text).append("\n");
        return text;
    }

    /** Where the core eval and the validation read their text (plan core.corpus), in words. */
    static String coreText(Plan plan) {
        return plan.core().corpus().equals(Plan.Core.RETAIN)
                ? "the world's retain corpus (held-out templates)"
                : "held-out text of the SAEs' training corpus (the world's train.jsonl after the last document any harvest read)";
    }

    /** The calibration stage: per unit its grid, measured L0s, chosen value; and the frontier its points draw. */
    static void calibration(Plan plan, Path out, Path rep, List<String[]> plots, StringBuilder md, ObjectNode summary) throws IOException {
        var cal = plan.calibration();
        md.append("\n### Calibration to L0 ").append(f(plan.targetL0())).append("\n\n");
        md.append(String.format(Locale.ROOT, "Seed %d (not an evaluation seed); each grid point trained for %s tokens; L0, explained variance and CE-loss score "
                        + "measured on %d validation rows of %d tokens: %s, after the core eval's rows. Chosen: interpolated in log(L1 or k) vs log(L0) "
                        + "between the two grid points that bracket the target; \"no\" under bracketed means the target lies outside the measured L0s and "
                        + "the nearest grid point was used.\n\n", cal.seed(), cal.tokens() > 0 ? String.valueOf(cal.tokens()) : "the config's own",
                plan.validation().rows(), plan.validation().context(), coreText(plan)));
        List<List<String>> t = new ArrayList<>();
        t.add(List.of("unit", "param", "grid → L0 (validation)", "chosen", "bracketed"));
        ObjectNode so = summary.putObject("calibration");
        XYSeriesCollection ev = new XYSeriesCollection();
        for (var u : plan.units().entrySet()) {
            JsonNode ch = readOrNull(out.resolve("calibration").resolve(u.getKey()).resolve("choice.json"));
            if (ch == null) continue;
            so.set(u.getKey(), ch);
            List<String> pts = new ArrayList<>();
            XYSeries xs = new XYSeries(u.getKey(), false);
            for (int i = 0; i < ch.path("grid").size(); i++) {
                double g = ch.path("grid").get(i).asDouble();
                pts.add(f(g) + " → " + f(ch.path("l0").get(i).asDouble()));
                JsonNode pt = readOrNull(out.resolve("calibration").resolve(u.getKey()).resolve(Experiment.param(u.getValue()) + "-" + Experiment.fmt(g)).resolve("cal.json"));
                if (pt != null && !Double.isNaN(value(pt, "explained_variance")) && !Double.isNaN(value(pt, "l0")))
                    xs.add(value(pt, "l0"), value(pt, "explained_variance"));
            }
            if (xs.getItemCount() > 0) ev.addSeries(xs);
            t.add(List.of(u.getKey(), ch.path("param").asText(), String.join(", ", pts), f(ch.path("chosen").asDouble()), ch.path("bracketed").asBoolean() ? "yes" : "no"));
        }
        table(md, t);
        if (ev.getSeriesCount() > 0) {
            JFreeChart c = ChartFactory.createXYLineChart("Calibration: L0 vs explained variance (validation rows, calibration seed)", "L0", "explained variance", ev);
            styleXY(c, true);
            c.getXYPlot().addDomainMarker(new org.jfree.chart.plot.ValueMarker(plan.targetL0(), Color.GRAY, new BasicStroke(1.5f)));
            png(rep, plots, "frontier_calibration_l0_explained_variance.png", "L0-vs-explained-variance frontier from the calibration grid (one line per "
                    + "configuration or tuning candidate; vertical line: the target L0)", c);
        }
    }

    /** The tuning stage: per tuned config the grid's validation numbers and what was selected. */
    static String tuning(Plan plan, Path out, StringBuilder md, ObjectNode summary) {
        List<String> notes = new ArrayList<>();
        ObjectNode so = null;
        for (Plan.SaeCfg c : plan.configs()) {
            if (c.tune() == null) continue;
            JsonNode sel = readOrNull(out.resolve("tuning").resolve(c.name()).resolve("selected.json"));
            if (sel == null) continue;
            if (so == null) {
                so = summary.putObject("tuning");
                md.append("\n## Tuning\n\n");
            }
            so.set(c.name(), sel);
            md.append(String.format(Locale.ROOT, "`%s`: %d candidates (%s) trained on tuning seed %d (not an evaluation seed)%s, each measured on the validation "
                            + "rows (%s; no evaluation question); selected by %s (higher is better).\n\n", c.name(), c.tune().candidates().size(),
                    String.join(" × ", c.tune().keys()), plan.tuningSeed(), plan.targetL0() != null ? " at its calibrated L1/k" : "", coreText(plan), sel.path("select").asText()));
            List<List<String>> t = new ArrayList<>();
            t.add(List.of("candidate", "settings", "L1 / k", "L0", "explained variance", "CE-loss score", "selected"));
            for (JsonNode k : sel.path("candidates"))
                t.add(List.of(k.path("candidate").asText(), k.path("settings").asText(), f(k.has("l1") ? k.path("l1").asDouble() : k.path("k").asDouble()),
                        f(value(k, "l0")), f(value(k, "explained_variance")), f(value(k, "ce_loss_score")),
                        k.path("candidate").asText().equals(sel.path("selected").asText()) ? "yes" : ""));
            table(md, t);
            notes.add(String.format(Locale.ROOT, "%s is the tuning candidate %s (%s), selected by validation %s on tuning seed %d", c.name(),
                    sel.path("selected").asText(), sel.path("settings").asText(), sel.path("select").asText(), plan.tuningSeed()));
        }
        return notes.isEmpty() ? "" : "Tuning: " + String.join("; ", notes) + ".";
    }

    /** The probing eval's reference: the probe on the model's own residual (no SAE) and on all SAE latents, per config. */
    static void probingNote(Plan plan, Path out, StringBuilder md, ObjectNode summary) {
        List<String> parts = new ArrayList<>();
        int k = plan.probing().ks()[0];
        for (String field : new String[]{"llm_top_" + k + "_test_accuracy", "llm_test_accuracy", "sae_test_accuracy"}) {
            Metric m = new Metric(field, "probing.json", field, field, true);
            List<String> per = new ArrayList<>();
            for (Plan.SaeCfg c : plan.configs()) {
                Stats.Summary s = Stats.summary(values(plan, out, m, c.name()));
                if (s.n() > 0) per.add(c.name() + " " + ci(s));
                if (field.startsWith("llm")) break; // the model's residual: the same for every config
            }
            if (!per.isEmpty()) parts.add(field + ": " + String.join(", ", per));
        }
        if (!parts.isEmpty())
            md.append("\nSparse probing (").append(msts.data.world.WorldFiles.PROBING).append(", label 1 = forget domain): test accuracy of a logistic probe on the top-")
                    .append(k).append(" SAE latents by class-mean difference; for reference ").append(String.join("; ", parts)).append(".\n");
    }

    static void frontier(Plan plan, Path out, Path rep, List<String[]> plots) throws IOException {
        if (!plan.evals().contains("core")) return;
        XYSeriesCollection ev = new XYSeriesCollection(), un = new XYSeriesCollection();
        for (Plan.SaeCfg c : plan.configs()) {
            XYSeries a = new XYSeries(c.name()), b = new XYSeries(c.name() + " ");
            for (long s : plan.seeds()) {
                JsonNode core = readOrNull(out.resolve("cells").resolve(c.name()).resolve("seed-" + s).resolve("core.json"));
                JsonNode u = readOrNull(out.resolve("cells").resolve(c.name()).resolve("seed-" + s).resolve("unlearning.json"));
                double l0 = value(core, "l0");
                if (!Double.isNaN(l0) && !Double.isNaN(value(core, "explained_variance"))) a.add(l0, value(core, "explained_variance"));
                if (!Double.isNaN(l0) && !Double.isNaN(value(u, "unlearning_score"))) b.add(l0, value(u, "unlearning_score"));
            }
            if (a.getItemCount() > 0) ev.addSeries(a);
            if (b.getItemCount() > 0) un.addSeries(b);
        }
        if (ev.getSeriesCount() > 0) {
            JFreeChart ch = ChartFactory.createScatterPlot("L0 vs explained variance (every seed)", "L0", "explained variance", ev);
            styleXY(ch, false);
            png(rep, plots, "frontier_l0_explained_variance.png", "L0-vs-explained-variance frontier: one point per configuration and seed", ch);
        }
        if (un.getSeriesCount() > 0) {
            JFreeChart ch = ChartFactory.createScatterPlot("L0 vs unlearning score (every seed)", "L0", "unlearning score", un);
            styleXY(ch, false);
            png(rep, plots, "frontier_l0_unlearning.png", "L0-vs-unlearning-score frontier: one point per configuration and seed", ch);
        }
    }

    /** Every SAE's clamp settings (mean over seeds per setting, its Pareto frontier drawn) and RMU's steps, forget vs retain accuracy. */
    static void unlearningCurves(Plan plan, Path out, Path rep, List<String[]> plots, ObjectNode summary) throws IOException {
        XYSeriesCollection ds = new XYSeriesCollection();
        ObjectNode curves = summary.putObject("unlearning_curves");
        if (plan.evals().contains("unlearning"))
            for (Plan.SaeCfg c : plan.configs()) {
                List<double[]> sum = new ArrayList<>();
                int[] cnt = null;
                for (long s : plan.seeds()) {
                    JsonNode u = readOrNull(out.resolve("cells").resolve(c.name()).resolve("seed-" + s).resolve("unlearning.json"));
                    if (u == null) continue;
                    JsonNode st = u.path("settings");
                    if (cnt == null) {
                        cnt = new int[st.size()];
                        for (int i = 0; i < st.size(); i++) sum.add(new double[2]);
                    }
                    for (int i = 0; i < Math.min(st.size(), cnt.length); i++) {
                        sum.get(i)[0] += st.get(i).path("retain_accuracy").asDouble();
                        sum.get(i)[1] += st.get(i).path("forget_accuracy").asDouble();
                        cnt[i]++;
                    }
                }
                if (cnt == null) continue;
                List<double[]> pts = new ArrayList<>();
                for (int i = 0; i < cnt.length; i++) if (cnt[i] > 0) pts.add(new double[]{sum.get(i)[0] / cnt[i], sum.get(i)[1] / cnt[i]});
                List<double[]> front = paretoFront(pts);
                XYSeries xs = new XYSeries(c.name() + " (SAE clamp)", false);
                ArrayNode a = curves.putArray(c.name());
                for (double[] p : front) {
                    xs.add(p[0], p[1]);
                    a.add(Experiment.JSON.createArrayNode().add(p[0]).add(p[1]));
                }
                ds.addSeries(xs);
            }
        if (plan.evals().contains("rmu")) {
            Map<Integer, double[]> bySteps = new java.util.TreeMap<>();
            for (long s : plan.seeds()) {
                JsonNode r = readOrNull(out.resolve("cells/rmu/seed-" + s + "/rmu.json"));
                if (r == null) continue;
                for (JsonNode p : r.path("points")) {
                    double[] acc = bySteps.computeIfAbsent(p.path("step").asInt(), k -> new double[3]);
                    acc[0] += p.path("retain_accuracy").asDouble();
                    acc[1] += p.path("forget_accuracy").asDouble();
                    acc[2]++;
                }
            }
            XYSeries xs = new XYSeries("RMU (steps " + bySteps.keySet() + ")", false);
            ArrayNode a = curves.putArray("rmu");
            for (var e : bySteps.entrySet()) {
                double[] v = e.getValue();
                xs.add(v[0] / v[2], v[1] / v[2]);
                a.add(Experiment.JSON.createArrayNode().add(e.getKey()).add(v[0] / v[2]).add(v[1] / v[2]));
            }
            if (xs.getItemCount() > 0) ds.addSeries(xs);
        }
        if (ds.getSeriesCount() == 0) return;
        JFreeChart ch = ChartFactory.createXYLineChart("Unlearning: forget vs retain accuracy (mean over seeds)", "retain accuracy (MMLU-style sets)",
                "forget accuracy (WMDP-style set)", ds);
        styleXY(ch, true);
        ch.getXYPlot().getDomainAxis().setRange(-0.02, 1.02); // accuracies: fixed axes, so curves of different runs compare
        ch.getXYPlot().getRangeAxis().setRange(-0.02, 1.02);
        png(rep, plots, "unlearning_curves.png", "Unlearning curves: each SAE's clamp settings (Pareto frontier of the per-setting means over seeds) "
                + "and RMU after each evaluated step; lower-right is better (forget accuracy down, retain accuracy kept)", ch);
    }

    /** Points not dominated (another with retain ≥ and forget ≤, one strictly), sorted by retain accuracy. */
    static List<double[]> paretoFront(List<double[]> pts) {
        List<double[]> f = new ArrayList<>();
        for (double[] p : pts) {
            boolean dom = false;
            for (double[] q : pts)
                if (q != p && q[0] >= p[0] && q[1] <= p[1] && (q[0] > p[0] || q[1] < p[1])) dom = true;
            if (!dom) f.add(p);
        }
        f.sort((a, b) -> Double.compare(a[0], b[0]));
        return f;
    }

    /** Recovery by time scale per regime and config (mean, 95% CI) and the plain answer to "does the temporal SAE recover low-SNR features better". */
    static String groundTruth(Plan plan, Path out, Path rep, List<String[]> plots, StringBuilder md, ObjectNode summary) throws IOException {
        var g = plan.groundTruth();
        YIntervalSeriesCollection ds = new YIntervalSeriesCollection();
        List<List<String>> t = new ArrayList<>();
        List<String> head = new ArrayList<>(List.of("regime", "configuration"));
        for (int L : g.scales()) head.add("scale " + L);
        head.add("mean");
        t.add(head);
        ObjectNode o = summary.putObject("ground_truth");
        List<String> answers = new ArrayList<>();
        int longest = java.util.Arrays.stream(g.scales()).max().orElse(1);
        for (String r : g.regimes()) {
            for (String c : g.configs()) {
                YIntervalSeries ys = new YIntervalSeries(c + " / " + r);
                double jitter = Math.pow(2, 0.06 * (ds.getSeriesCount() - 1.5)); // series side by side at each scale
                List<String> line = new ArrayList<>(List.of(r, c));
                for (int L : g.scales()) {
                    Metric m = new Metric("x", "gt-" + r, "recovery_by_time_scale/" + L, "", true);
                    Stats.Summary s = Stats.summary(values(plan, out, m, c));
                    line.add(ci(s));
                    if (s.n() > 0) ys.add(L * jitter, s.mean(), Double.isNaN(s.lo()) ? s.mean() : s.lo(), Double.isNaN(s.hi()) ? s.mean() : s.hi());
                    o.with(r).with(c).put(String.valueOf(L), s.mean());
                }
                line.add(ci(Stats.summary(values(plan, out, new Metric("x", "gt-" + r, "recovery_mean", "", true), c))));
                t.add(line);
                if (ys.getItemCount() > 0) ds.addSeries(ys);
            }
            if (g.configs().contains(plan.baseline()))
                for (String c : g.configs()) {
                    if (c.equals(plan.baseline()) || !plan.config(c).temporal()) continue;
                    Metric m = new Metric("x", "gt-" + r, "recovery_by_time_scale/" + longest, "", true);
                    Stats.Paired d = Stats.paired(values(plan, out, m, c), values(plan, out, m, plan.baseline()));
                    Stats.Verdict v = Stats.verdict(d, true);
                    answers.add(String.format(Locale.ROOT, "in the %s regime the temporal SAE %s recovers the scale-%d features %s the baseline "
                                    + "(Δ %s, 95%% CI [%s, %s], paired t p = %s, exact sign-flip p = %s)", r, c, longest,
                            v == Stats.Verdict.BETTER ? "better than" : v == Stats.Verdict.WORSE ? "worse than" : "with no detectable difference from",
                            f(d.mean()), f(d.lo()), f(d.hi()), p(d.pT()), p(d.pSignFlip())));
                }
        }
        double chance = chanceRecovery(g.d(), g.dSae(), g.featuresPerScale() * g.scales().length, 12345);
        o.put("chance_recovery_random_decoder", chance);
        for (String r : g.regimes())
            for (String c : g.configs()) {
                double m = Stats.summary(values(plan, out, new Metric("x", "gt-" + r, "recovery_by_time_scale/" + longest, "", true), c)).mean();
                if (m < chance + 0.05)
                    answers.add(String.format(Locale.ROOT, "in the %s regime %s's scale-%d recovery (%s) is within 0.05 of a random decoder's (%s): it does not recover those features",
                            r, c, longest, f(m), f(chance)));
            }
        md.append("\n## Ground-truth recovery by time scale and regime (mean [95% CI] over seeds)\n\n");
        md.append(String.format(Locale.ROOT, "Recovery of a planted feature: max over latents of the cosine between its direction and a decoder row, averaged "
                        + "over the features of a time scale. Regimes: clean (noise σ = %s per dimension) and low_snr (per-token SNR E[m²]/σ² = %s, so a "
                        + "feature of mean run length L has run SNR L·%s: %s).\n\n", f(g.cleanNoise()), f(g.tokenSnr()), f(g.tokenSnr()),
                String.join(", ", java.util.Arrays.stream(g.scales()).mapToObj(L -> "L=" + L + " → " + f(L * g.tokenSnr())).toList())));
        table(md, t);
        md.append(String.format(Locale.ROOT, "\nChance level: a random decoder (%d random unit rows in %d dimensions) scores %s.\n", g.dSae(), g.d(), f(chance)));
        if (ds.getSeriesCount() > 0) {
            LogAxis x = new LogAxis("time scale (mean on-run length, tokens)");
            x.setBase(2);
            x.setSmallestValue(0.5);
            x.setTickUnit(new org.jfree.chart.axis.NumberTickUnit(1));
            x.setNumberFormatOverride(new java.text.DecimalFormat("0"));
            int maxScale = java.util.Arrays.stream(g.scales()).max().orElse(1), minScale = java.util.Arrays.stream(g.scales()).min().orElse(1);
            x.setRange(minScale / 1.5, maxScale * 1.5);
            XYErrorRenderer r = new XYErrorRenderer();
            r.setDefaultLinesVisible(true);
            for (int i = 0; i < ds.getSeriesCount(); i++) {
                r.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
                r.setSeriesStroke(i, new BasicStroke(2f));
            }
            XYPlot p = new XYPlot(ds, x, new org.jfree.chart.axis.NumberAxis("recovery (mean max cosine)"), r);
            p.setBackgroundPaint(Color.WHITE);
            JFreeChart ch = new JFreeChart("Ground-truth recovery by time scale and regime", JFreeChart.DEFAULT_TITLE_FONT, p, true);
            png(rep, plots, "ground_truth_recovery.png", "Ground-truth recovery by time scale, per regime and configuration (mean over seeds, 95% CI)", ch);
        }
        if (answers.isEmpty()) return "";
        return "Ground truth: " + String.join("; ", answers) + ".";
    }

    /**
     * The recovery score of a random decoder: mean over nFeatures random unit directions of the max over nLatents
     * random unit rows of their cosine (Gaussian directions normalised, SplittableRandom(seed)): the level below
     * which "recovery" means nothing.
     */
    static double chanceRecovery(int d, int nLatents, int nFeatures, long seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        double[][] lat = new double[nLatents][], fe = new double[nFeatures][];
        for (double[][] a : new double[][][]{lat, fe})
            for (int i = 0; i < a.length; i++) {
                double[] v = new double[d];
                double n = 0;
                for (int k = 0; k < d; k++) {
                    v[k] = r.nextGaussian();
                    n += v[k] * v[k];
                }
                for (int k = 0; k < d; k++) v[k] /= Math.sqrt(n);
                a[i] = v;
            }
        double sum = 0;
        for (double[] g : fe) {
            double best = Double.NEGATIVE_INFINITY;
            for (double[] l : lat) {
                double c = 0;
                for (int k = 0; k < d; k++) c += g[k] * l[k];
                best = Math.max(best, c);
            }
            sum += best;
        }
        return sum / nFeatures;
    }

    static void styleXY(JFreeChart c, boolean lines) {
        XYPlot p = c.getXYPlot();
        p.setBackgroundPaint(Color.WHITE);
        p.setDomainGridlinePaint(new Color(0xdddddd));
        p.setRangeGridlinePaint(new Color(0xdddddd));
        XYLineAndShapeRenderer rr = new XYLineAndShapeRenderer(lines, true);
        for (int i = 0; i < p.getSeriesCount(); i++) {
            rr.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
            rr.setSeriesStroke(i, new BasicStroke(2f));
            rr.setSeriesShape(i, new java.awt.geom.Ellipse2D.Double(-4, -4, 8, 8));
        }
        p.setRenderer(rr);
        if (p.getDomainAxis() instanceof org.jfree.chart.axis.NumberAxis a) a.setAutoRangeIncludesZero(false);
        if (p.getRangeAxis() instanceof org.jfree.chart.axis.NumberAxis a) a.setAutoRangeIncludesZero(false);
    }

    static void png(Path rep, List<String[]> plots, String file, String caption, JFreeChart chart) throws IOException {
        chart.setBackgroundPaint(Color.WHITE);
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(b, chart, 900, 520);
        msts.io.AtomicFiles.write(rep.resolve(file), b.toByteArray());
        plots.add(new String[]{file, caption});
    }

    static void table(StringBuilder md, List<List<String>> rows) {
        for (int i = 0; i < rows.size(); i++) {
            md.append("| ").append(String.join(" | ", rows.get(i))).append(" |\n");
            if (i == 0) md.append("|").append("---|".repeat(rows.get(0).size())).append("\n");
        }
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** The report's markdown subset (headings, tables, bullets, images, paragraphs) as HTML. */
    static String mdToHtml(String md) {
        StringBuilder h = new StringBuilder();
        boolean inTable = false, inList = false;
        for (String line : md.split("\n")) {
            if (!line.startsWith("|") && inTable) { h.append("</table>\n"); inTable = false; }
            if (!line.startsWith("- ") && inList) { h.append("</ul>\n"); inList = false; }
            if (line.startsWith("# ")) h.append("<h1>").append(esc(line.substring(2))).append("</h1>\n");
            else if (line.startsWith("## ")) h.append("<h2>").append(esc(line.substring(3))).append("</h2>\n");
            else if (line.startsWith("### ")) h.append("<h3>").append(esc(line.substring(4))).append("</h3>\n");
            else if (line.startsWith("|---")) continue;
            else if (line.startsWith("|")) {
                boolean headRow = !inTable;
                if (!inTable) { h.append("<table>\n"); inTable = true; }
                h.append("<tr>");
                String[] cells = line.substring(1, line.length() - 1).split("\\|");
                for (String c : cells) h.append(headRow ? "<th>" : "<td>").append(esc(c.trim())).append(headRow ? "</th>" : "</td>");
                h.append("</tr>\n");
            } else if (line.startsWith("- ")) {
                if (!inList) { h.append("<ul>\n"); inList = true; }
                h.append("<li>").append(esc(line.substring(2))).append("</li>\n");
            } else if (line.startsWith("![")) {
                int a = line.indexOf("]("), b = line.lastIndexOf(')');
                String alt = line.substring(2, a), src = line.substring(a + 2, b);
                h.append("<figure><img src=\"").append(esc(src)).append("\" alt=\"").append(esc(alt)).append("\"><figcaption>").append(esc(alt)).append("</figcaption></figure>\n");
            } else if (!line.isBlank()) h.append("<p>").append(esc(line)).append("</p>\n");
        }
        if (inTable) h.append("</table>\n");
        if (inList) h.append("</ul>\n");
        return h.toString();
    }
}
