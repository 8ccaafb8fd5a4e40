package msts.cli;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import msts.data.ActivationFile;
import msts.engine.Tensor;
import msts.io.SafeTensors;
import msts.model.tokenizer.GemmaTokenizer;
import msts.sae.Sae;
import msts.sae.SaeIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code msts features} end to end on a temporal SAE trained by {@code msts train}, a tiny model for the
 * output tokens and the real Gemma tokenizer: the files, their numbers against a direct encode, no network
 * URL anywhere, and the pages rendered by headless Chromium (DOM after the page's JS ran, and a non-blank
 * screenshot).
 */
class FeaturesCommandTest {
    static final int N = 24, CTX = 32, D = 16, VOCAB = 2000, D_SAE = 48;
    @TempDir static Path dir;
    static Path acts, out;
    static CliRun run;

    @BeforeAll
    static void build() throws IOException {
        SplittableRandom r = new SplittableRandom(5);
        float[] x = new float[N * CTX * D], tok = new float[N * CTX];
        float[][] dirs = new float[6][D];
        for (float[] v : dirs) for (int c = 0; c < D; c++) v[c] = (float) (r.nextDouble() * 2 - 1);
        for (int s = 0; s < N; s++)
            for (int t = 0; t < CTX; t++) {
                int id = 3 + r.nextInt(VOCAB - 3);
                tok[s * CTX + t] = id;
                for (int c = 0; c < D; c++) x[(s * CTX + t) * D + c] = (float) (0.1 * (r.nextDouble() - 0.5)) + dirs[id % 6][c] * (1 + (id % 5));
            }
        acts = dir.resolve("acts.safetensors");
        SafeTensors.write(acts, Map.of("activations", Tensor.of(x, N, CTX, D), "tokens", Tensor.of(tok, N, CTX)));
        CliRun m = CliRun.of("tiny-model", "--out", dir.resolve("model").toString(), "--vocab", String.valueOf(VOCAB), "--hidden", String.valueOf(D), "--layers", "2");
        assertEquals(0, m.code(), m.err());
        CliRun t = CliRun.of("train", "--activations", acts.toString(), "--arch", "temporal", "--act", "relu", "--dilations", "1,2",
                "--d-sae", String.valueOf(D_SAE), "--tokens", "8000", "--batch", "256", "--l1", "1", "--lr", "3e-3", "--out", dir.resolve("sae").toString());
        assertEquals(0, t.code(), t.err());
        out = dir.resolve("dash");
        run = CliRun.of("features", "--sae", dir.resolve("sae").toString(), "--store", acts.toString(), "--model", dir.resolve("model").toString(),
                "--tokenizer", GemmaTokenizer.defaultTokenizerJson().toString(), "--top", "5", "--out", out.toString());
        assertEquals(0, run.code(), run.err());
    }

    static JsonNode data(Path file, String var) throws IOException {
        String s = Files.readString(file);
        Matcher m = Pattern.compile("window\\." + var + " = (.*?);(</script>|\\n)", Pattern.DOTALL).matcher(s);
        assertTrue(m.find(), file + " holds no " + var);
        return new ObjectMapper().readTree(m.group(1).replace("<\\/", "</"));
    }

    @Test
    void writesEveryPageWithNumbersFromTheSae() throws Exception {
        assertTrue(run.out().contains("wrote " + out.resolve("index.html")), run.out());
        JsonNode index = data(out.resolve("index-data.js"), "MSTS_INDEX").get("latents");
        assertEquals(D_SAE, index.size());
        Sae sae = SaeIO.load(dir.resolve("sae"), msts.engine.CpuOps.INSTANCE); // what the command used (--backend cpu)
        float[] f = new float[N * CTX * D_SAE];
        try (ActivationFile src = ActivationFile.open(acts)) {
            float[] x = new float[N * CTX * D];
            for (int s = 0; s < N; s++) src.readSequence(s, x, s * CTX * D);
            sae.encode(x, N, CTX, f);
        }
        int live = 0;
        try (GemmaTokenizer tok = GemmaTokenizer.load(GemmaTokenizer.defaultTokenizerJson())) {
            for (int j = 0; j < D_SAE; j++) {
                int active = 0;
                float max = 0;
                for (int r = 0; r < N * CTX; r++) {
                    float v = f[r * D_SAE + j];
                    if (v > 0) active++;
                    max = Math.max(max, v);
                }
                JsonNode row = index.get(j);
                assertEquals(j, row.get(0).asInt());
                assertEquals((double) active / (N * CTX), row.get(1).asDouble(), 1e-6, "density of latent " + j);
                assertEquals(max, row.get(2).floatValue(), 1e-5f * Math.max(1, max), "max of latent " + j);
                Path page = out.resolve("latents").resolve(String.format("%05d.html", j));
                JsonNode lat = data(page, "MSTS_LATENT");
                assertEquals(j, lat.get("id").asInt());
                assertEquals(10, lat.get("promoted").size());
                assertEquals(2, lat.get("conv").size(), "one filter per dilation");
                if (active > 0) {
                    live++;
                    JsonNode ex = lat.get("examples").get(0);
                    assertEquals(max, ex.get("act").floatValue(), 1e-5f * Math.max(1, max));
                    int seq = ex.get("seq").asInt(), pos = ex.get("pos").asInt(), start = ex.get("start").asInt();
                    assertEquals(max, f[(seq * CTX + pos) * D_SAE + j], 1e-5f * Math.max(1, max));
                    try (ActivationFile src = ActivationFile.open(acts)) {
                        int id = src.tokens(seq)[pos];
                        assertEquals(id, ex.get("ids").get(pos - start).asInt());
                        assertEquals(tok.piece(id).replace('\u2581', ' '), ex.get("toks").get(pos - start).asText());
                    }
                }
            }
        }
        assertTrue(live > 0, "some latent must be alive");
    }

    @Test
    void noNetworkUrlInAnyWrittenFile() throws IOException {
        Pattern url = Pattern.compile("https?://", Pattern.CASE_INSENSITIVE);
        try (Stream<Path> files = Files.walk(out)) {
            List<Path> all = files.filter(Files::isRegularFile).toList();
            assertTrue(all.size() >= D_SAE + 5, "files: " + all.size());
            for (Path p : all) assertFalse(url.matcher(Files.readString(p, StandardCharsets.UTF_8)).find(), p + " references a network URL");
        }
    }

    @Test
    void rewritingRemovesPagesOfLatentsThatNoLongerExist() throws IOException {
        Path again = dir.resolve("dash-again");
        Files.createDirectories(again.resolve("latents"));
        Files.writeString(again.resolve("latents").resolve(String.format("%05d.html", D_SAE)), "stale");
        Files.writeString(again.resolve("latents").resolve("notes.html"), "mine");
        CliRun r = CliRun.of("features", "--sae", dir.resolve("sae").toString(), "--store", acts.toString(), "--max-sequences", "4",
                "--quiet", "--out", again.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("4 sequences x " + CTX + " tokens"), r.out());
        assertFalse(Files.exists(again.resolve("latents").resolve(String.format("%05d.html", D_SAE))), "stale page left behind");
        assertTrue(Files.exists(again.resolve("latents").resolve("notes.html")), "a file that is not a latent page is kept");
        assertTrue(Files.exists(again.resolve("latents").resolve(String.format("%05d.html", D_SAE - 1))));
    }

    @Test
    void badInputIsOneClearLine() {
        CliRun r = CliRun.of("features", "--sae", dir.resolve("nope").toString(), "--store", acts.toString(), "--out", dir.resolve("x").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("msts: ") && r.err().contains("cfg.json"), r.err());
        CliRun w = CliRun.of("features", "--sae", dir.resolve("sae").toString(), "--store", dir.resolve("missing").toString(), "--out", dir.resolve("x").toString());
        assertEquals(1, w.code());
        assertTrue(w.err().startsWith("msts: "), w.err());
    }

    // ---- headless Chromium ----

    static Path chromium() {
        for (String name : new String[]{"chromium", "chromium-browser"})
            for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
                Path p = Path.of(d, name);
                if (Files.isExecutable(p)) return p;
            }
        return null;
    }

    /** Runs headless Chromium with the probe flags and a new empty profile; returns stdout. */
    static String chromium(String... args) throws Exception {
        Path exe = chromium();
        Assumptions.assumeTrue(exe != null, "chromium is not installed (.ci/run installs the Debian package 'chromium'); browser checks skipped");
        Path profile = Files.createTempDirectory(dir, "profile");
        List<String> cmd = new java.util.ArrayList<>(List.of(exe.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + profile));
        cmd.addAll(List.of(args));
        Path log = Files.createTempFile(dir, "chromium", ".log");
        Process p = new ProcessBuilder(cmd).redirectError(log.toFile()).start();
        byte[] stdout = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "chromium did not finish");
        assertEquals(0, p.exitValue(), Files.readString(log));
        return new String(stdout, StandardCharsets.UTF_8);
    }

    static int count(String s, String needle) {
        int n = 0;
        for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) n++;
        return n;
    }

    @Test
    void indexRendersInChromium() throws Exception {
        String dom = chromium("--dump-dom", out.resolve("index.html").toUri().toString());
        assertTrue(dom.contains("data-ready=\"1\""), "the index script did not finish:\n" + dom);
        assertEquals(D_SAE, count(dom, "class=\"latent-row"), "one table row per latent (fewer than a page)");
        assertTrue(dom.contains("id=\"density\""), "density chart");
        assertTrue(dom.contains("id=\"search\""), "search box");
        assertTrue(dom.contains("href=\"latents/00000.html\""), "links to the latent pages");
        screenshotIsNotBlank(out.resolve("index.html"));
    }

    @Test
    void indexSortsAndFiltersInChromium() throws Exception {
        JsonNode index = data(out.resolve("index-data.js"), "MSTS_INDEX").get("latents");
        int argmax = 0, dense = 0;
        for (int j = 0; j < D_SAE; j++) {
            if (index.get(j).get(2).floatValue() > index.get(argmax).get(2).floatValue()) argmax = j;
            if (index.get(j).get(1).asDouble() > 0.05) dense++;
        }
        String uri = out.resolve("index.html").toUri().toString();
        String byMax = chromium("--dump-dom", uri + "#sort=max&asc=0");
        Matcher first = Pattern.compile("class=\"latent-row[^\"]*\"><td><a href=\"latents/(\\d+)\\.html\"").matcher(byMax);
        assertTrue(first.find(), byMax);
        assertEquals(argmax, Integer.parseInt(first.group(1)), "sorted by max activation, descending");
        String filtered = chromium("--dump-dom", uri + "#q=%3E0.05");
        assertEquals(dense, count(filtered, "class=\"latent-row"), "filter density > 0.05");
        assertTrue(filtered.contains(dense + " of " + D_SAE + " latents"), "count line");
    }

    @Test
    void latentPageRendersInChromium() throws Exception {
        JsonNode index = data(out.resolve("index-data.js"), "MSTS_INDEX").get("latents");
        int best = 0;
        for (int j = 0; j < D_SAE; j++) if (index.get(j).get(1).asDouble() > index.get(best).get(1).asDouble()) best = j;
        Path page = out.resolve("latents").resolve(String.format("%05d.html", best));
        JsonNode lat = data(page, "MSTS_LATENT");
        int examples = lat.get("examples").size();
        assertTrue(examples > 0);
        String dom = chromium("--dump-dom", page.toUri().toString());
        assertTrue(dom.contains("data-ready=\"1\""), "the latent script did not finish:\n" + dom);
        assertEquals(examples, count(dom, "class=\"example\""));
        int windowTokens = 0;
        for (JsonNode e : lat.get("examples")) windowTokens += e.get("acts").size();
        assertEquals(windowTokens, count(dom, "class=\"tok"), "one span per context token");
        assertEquals(examples, count(dom, "class=\"tok max"), "the maximum is marked once per context");
        assertTrue(dom.contains("id=\"hist\"") && dom.contains("<rect"), "activation histogram");
        assertEquals(10, count(dom, "class=\"logit\""), "promoted/suppressed token rows");
        assertTrue(dom.contains("id=\"conv\""), "temporal filter chart");
        assertEquals(2 * 3, count(dom, "class=\"tap\""), "3 taps per dilation");
        assertEquals(examples, count(dom, "class=\"trace\""), "activation along the sequence per context");
        String firstTok = lat.get("examples").get(0).get("toks").get(0).asText();
        assertTrue(dom.contains(">" + firstTok.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + "<"), "token text " + firstTok);
        screenshotIsNotBlank(page);
    }

    static void screenshotIsNotBlank(Path page) throws Exception {
        Path png = Files.createTempFile(dir, "shot", ".png");
        chromium("--window-size=1200,900", "--screenshot=" + png, page.toUri().toString());
        BufferedImage img = ImageIO.read(png.toFile());
        assertNotNull(img, "not a PNG: " + png);
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3)
            for (int x = 0; x < img.getWidth(); x += 3) colours.add(img.getRGB(x, y));
        assertTrue(colours.size() > 20, page + ": screenshot has " + colours.size() + " colours");
    }
}
