package msts.evals.dashboard;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.IntFunction;
import msts.data.ActivationSource;
import msts.engine.Parallel;

/**
 * Writes the static feature dashboards (docs/features.md): {@code index.html} (every latent: density,
 * maximum, mean activation, a label; sortable, searchable, paged by plain JS in the page) and one
 * {@code latents/NNNNN.html} per latent (top contexts with per-token highlighting, activation histogram,
 * promoted/suppressed output tokens, and for temporal SAEs the activation along the sequence and the
 * conv filter per scale). Data are inlined as JS objects; styles and scripts are copied into
 * {@code assets/}. Nothing is loaded from the network: the pages work from file://.
 */
public final class DashboardWriter {
    private DashboardWriter() {}

    static final ObjectMapper JSON = new ObjectMapper();
    static final String[] ASSETS = {"dashboard.css", "index.js", "latent.js"};

    /**
     * What the pages show besides the scan.
     *
     * @param title   page title (e.g. the SAE directory name)
     * @param source  where the activations came from (shown)
     * @param model   the model whose embedding gave the logits, or null
     * @param piece   token id → vocabulary entry (null when no tokenizer is known: ids are shown)
     * @param notes   lines shown under the index header
     */
    public record Info(String title, String source, String model, IntFunction<String> piece, java.util.List<String> notes) {}

    public static void write(Path out, SaeView sae, LatentScan.Result scan, LogitLens.Result logits, ActivationSource tokens, Info info) throws IOException {
        Files.createDirectories(out.resolve("assets"));
        Files.createDirectories(out.resolve("latents"));
        // pages of an earlier run with more latents would otherwise stay behind (only our own NNNNN.html names)
        try (var old = Files.newDirectoryStream(out.resolve("latents"), "[0-9][0-9][0-9][0-9][0-9].html")) {
            for (Path p : old) if (Integer.parseInt(p.getFileName().toString().substring(0, 5)) >= sae.dSae()) Files.delete(p);
        }
        for (String a : ASSETS)
            try (InputStream in = DashboardWriter.class.getResourceAsStream(a)) {
                if (in == null) throw new IllegalStateException("resource " + a + " missing from the jar");
                Files.write(out.resolve("assets").resolve(a), in.readAllBytes());
            }
        boolean hasTokens = scan.sequences() > 0 && tokens != null && tokens.tokens(0) != null;
        ObjectNode meta = JSON.createObjectNode();
        meta.put("title", info.title());
        meta.put("architecture", sae.architecture());
        meta.put("temporal", sae.temporal());
        meta.put("d_in", sae.dIn());
        meta.put("d_sae", sae.dSae());
        meta.put("hook_name", String.valueOf(sae.cfg().getOrDefault("hook_name", "")));
        meta.put("model_name", String.valueOf(sae.cfg().getOrDefault("model_name", "")));
        meta.put("source", info.source());
        meta.put("sequences", scan.sequences());
        meta.put("context_size", scan.contextSize());
        meta.put("counted_tokens", scan.countedTokens());
        meta.put("first_position", scan.firstPosition());
        meta.put("logits_model", info.model());
        meta.put("has_logits", logits != null);
        meta.put("has_tokens", hasTokens);
        ArrayNode notes = meta.putArray("notes");
        info.notes().forEach(notes::add);
        if (sae.temporal()) {
            ArrayNode dl = meta.putArray("dilations");
            for (int d : sae.dilations()) dl.add(d);
            meta.put("conv_mode", sae.centred() ? "centred" : "causal");
        }
        Files.writeString(out.resolve("meta.js"), "window.MSTS_META = " + json(meta) + ";\n");

        int n = sae.dSae();
        ObjectNode index = JSON.createObjectNode();
        ArrayNode rows = index.putArray("latents");
        String[][] labels = new String[n][];
        Parallel.forRange(0, n, 64, (lo, hi) -> {
            for (int j = lo; j < hi; j++) {
                try {
                    labels[j] = writeLatent(out, j, sae, scan, logits, hasTokens ? tokens : null, info.piece());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        });
        for (int j = 0; j < n; j++) {
            ArrayNode r = rows.addArray();
            r.add(j).add((float) scan.density(j)).add(scan.max()[j]).add((float) scan.meanActive(j)).add(labels[j][0]).add(labels[j][1]);
        }
        Files.writeString(out.resolve("index-data.js"), "window.MSTS_INDEX = " + json(index) + ";\n");
        Files.writeString(out.resolve("index.html"), page(info.title() + " · latents", "", "index-data.js", "index.js", ""));
    }

    /** Writes latents/NNNNN.html; returns the latent's index labels: {token at the maximum, top 3 promoted tokens}. */
    static String[] writeLatent(Path out, int j, SaeView sae, LatentScan.Result scan, LogitLens.Result logits,
                              ActivationSource tokens, IntFunction<String> piece) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("id", j);
        o.put("active", scan.active()[j]);
        o.put("density", scan.density(j));
        o.put("max", scan.max()[j]);
        o.put("mean", (float) scan.meanActive(j));
        int[] h = scan.histogram(j);
        int last = h.length - 1;
        while (last >= 0 && h[last] == 0) last--;
        ObjectNode hist = o.putObject("hist");
        hist.put("width", scan.histWidth()[j]);
        ArrayNode hc = hist.putArray("counts");
        for (int i = 0; i <= last; i++) hc.add(h[i]);
        String label = "", atMax = "";
        ArrayNode ex = o.putArray("examples");
        for (LatentScan.Example e : scan.top()[j]) {
            ObjectNode x = ex.addObject();
            x.put("seq", e.seq());
            x.put("pos", e.pos());
            x.put("act", e.act());
            x.put("start", e.start());
            ArrayNode acts = x.putArray("acts");
            for (float a : e.acts()) acts.add(a);
            if (tokens != null) {
                int[] ids = tokens.tokens(e.seq());
                ArrayNode ia = x.putArray("ids"), ta = x.putArray("toks");
                for (int t = 0; t < e.acts().length; t++) {
                    int id = ids[e.start() + t];
                    ia.add(id);
                    ta.add(display(piece, id));
                }
                if (atMax.isEmpty()) atMax = display(piece, ids[e.pos()]);
            }
        }
        if (logits != null) {
            int m = logits.m();
            ArrayNode pos = o.putArray("promoted"), neg = o.putArray("suppressed");
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < m; i++) {
                int tp = logits.topIds()[j * m + i], tn = logits.bottomIds()[j * m + i];
                pos.addArray().add(display(piece, tp)).add(logits.topValues()[j * m + i]).add(tp);
                neg.addArray().add(display(piece, tn)).add(logits.bottomValues()[j * m + i]).add(tn);
                if (i < 3) sb.append(i == 0 ? "" : " · ").append(display(piece, tp).strip());
            }
            label = sb.toString();
        }
        if (sae.temporal()) {
            float[][][] fl = TemporalFilters.of(sae, j);
            ArrayNode conv = o.putArray("conv");
            for (int s = 0; s < fl.length; s++) {
                ObjectNode sc = conv.addObject();
                sc.put("dilation", sae.dilations()[s]);
                ArrayNode taps = sc.putArray("taps");
                for (int t = 0; t < 3; t++) taps.addArray().add(sae.tapOffset(s, t)).add(fl[s][t][0]).add(fl[s][t][1]);
            }
        }
        String data = "<script>window.MSTS_LATENT = " + json(o) + ";</script>\n";
        Files.writeString(out.resolve("latents").resolve(fileName(j)),
                page("Latent " + j, "../", null, "latent.js", data));
        return new String[]{atMax, label};
    }

    public static String fileName(int j) { return String.format("%05d.html", j); }

    /** Token text for display: the vocabulary entry with SentencePiece's ▁ as a space and byte tokens <0xNN> as text; "#id" without a tokenizer. */
    static String display(IntFunction<String> piece, int id) {
        String p = piece == null ? null : piece.apply(id);
        if (p == null) return "#" + id;
        if (p.length() == 6 && p.startsWith("<0x") && p.endsWith(">")) {
            int b = Integer.parseInt(p.substring(3, 5), 16);
            return b < 128 ? String.valueOf((char) b) : p;
        }
        return p.replace('\u2581', ' ');
    }

    private static String page(String title, String up, String dataJs, String js, String inline) {
        return "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                + "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                + "<title>" + escape(title) + "</title>\n"
                + "<link rel=\"stylesheet\" href=\"" + up + "assets/dashboard.css\">\n"
                + "</head><body>\n<div id=\"app\"></div>\n"
                + "<script src=\"" + up + "meta.js\"></script>\n"
                + (dataJs == null ? "" : "<script src=\"" + up + dataJs + "\"></script>\n")
                + inline
                + "<script src=\"" + up + "assets/" + js + "\"></script>\n</body></html>\n";
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    /** JSON safe inside a script element ("</" and "<!--" cannot close or comment it). */
    static String json(Object o) {
        try {
            return JSON.writeValueAsString(o).replace("</", "<\\/").replace("<!--", "<\\!--");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

}
