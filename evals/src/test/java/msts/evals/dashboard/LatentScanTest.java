package msts.evals.dashboard;

import static org.junit.jupiter.api.Assertions.*;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import msts.data.ActivationSource;
import msts.data.ActivationSources;
import msts.sae.Sae;
import org.junit.jupiter.api.Test;

/**
 * The one-pass scan against a brute-force reference: every statistic, the top-k contexts with their
 * windows and tie order, and the adaptive histogram against a direct histogram at the final bin width.
 * Activations are quantised to multiples of 1/4 so ties in the heap and on bin edges really happen.
 */
class LatentScanTest {
    static final int D = 6, N = 23, T = 11, SEQS = 40;

    /** f[r, j] = round4(relu(x_r · w_j + b_j)), plain loops, row by row: independent of the batch. */
    static Sae rowSae(float[] w, float[] b) {
        return new Sae() {
            public int dIn() { return D; }
            public int dSae() { return N; }
            public msts.sae.Architecture architecture() { return msts.sae.Architecture.STANDARD; }
            public void encode(float[] x, int nSeq, int tt, float[] f) {
                for (int r = 0; r < nSeq * tt; r++)
                    for (int j = 0; j < N; j++) {
                        float s = b[j];
                        for (int c = 0; c < D; c++) s += x[r * D + c] * w[j * D + c];
                        f[r * N + j] = Math.max(0f, Math.round(s * 4f) / 4f);
                    }
            }
            public void decode(float[] f, int rows, float[] xhat) { throw new UnsupportedOperationException(); }
            public float[] decoderWeights() { return w; }
            public float[] encoderWeights() { // W_enc [D, N] = wᵀ
                float[] e = new float[D * N];
                for (int j = 0; j < N; j++) for (int c = 0; c < D; c++) e[c * N + j] = w[j * D + c];
                return e;
            }
            public float[] encoderBias() { return b; }
            public Map<String, Object> cfg() { return Map.of(); }
            public void save(Path dir) { throw new UnsupportedOperationException(); }
        };
    }

    static SaeView view(Sae s, float[] w) {
        return new SaeView(s, D, N, "relu", false, new float[D * N], w, new float[0], new int[0], false, Map.of());
    }

    @Test
    void matchesBruteForceForAnyBatchSize() {
        SplittableRandom r = new SplittableRandom(7);
        float[] w = new float[N * D], b = new float[N], x = new float[SEQS * T * D];
        for (int i = 0; i < w.length; i++) w[i] = (float) (r.nextDouble() * 2 - 1);
        for (int j = 0; j < N; j++) b[j] = (float) (r.nextDouble() * 2 - 1.5) * (j == 5 ? 0 : 1) - (j == 4 ? 100 : 0); // latent 4 is dead
        for (int i = 0; i < x.length; i++) x[i] = (float) (r.nextDouble() * 2 - 1);
        Sae sae = rowSae(w, b);
        ActivationSource src = ActivationSources.inMemory(x, SEQS, T, D);
        float[] f = new float[SEQS * T * N];
        sae.encode(x, SEQS, T, f);
        var base = new LatentScan.Options(5, 3, 2, 8, 1, 0, 0);
        LatentScan.Result ref = null;
        for (int batch : new int[]{1, 3, 7, 0}) {
            LatentScan.Result res = LatentScan.scan(view(sae, w), src, base.withBatch(batch), null);
            check(res, f, base);
            if (ref != null) {
                assertArrayEquals(ref.hist(), res.hist());
                assertArrayEquals(ref.histWidth(), res.histWidth());
                for (int j = 0; j < N; j++) assertEquals(show(ref.top()[j]), show(res.top()[j]));
            }
            ref = res;
        }
        assertEquals(0, ref.active()[4]);
        assertEquals(0, ref.top()[4].length);
        // a prefix of the store
        LatentScan.Result part = LatentScan.scan(view(sae, w), src, base.withMaxSequences(9), null);
        assertEquals(9, part.sequences());
        assertEquals(9L * (T - 1), part.countedTokens());
    }

    static String show(LatentScan.Example[] ex) {
        StringBuilder sb = new StringBuilder();
        for (var e : ex) sb.append(e.seq()).append(':').append(e.pos()).append(':').append(e.act()).append(':').append(e.start()).append(Arrays.toString(e.acts())).append(' ');
        return sb.toString();
    }

    static void check(LatentScan.Result res, float[] f, LatentScan.Options o) {
        int first = o.firstPosition(), W = Math.min(T, o.before() + 1 + o.after());
        assertEquals((long) SEQS * (T - first), res.countedTokens());
        int ties = 0;
        for (int j = 0; j < N; j++) {
            long active = 0;
            double sum = 0;
            float max = 0;
            List<float[]> perSeq = new ArrayList<>(); // {act, seq, pos}
            List<Float> values = new ArrayList<>();
            for (int s = 0; s < SEQS; s++) {
                float sm = 0;
                int sp = -1;
                for (int t = first; t < T; t++) {
                    float v = f[(s * T + t) * N + j];
                    if (v > 0) {
                        active++;
                        sum += v;
                        max = Math.max(max, v);
                        values.add(v);
                        if (v > sm) { sm = v; sp = t; }
                    }
                }
                if (sp >= 0) perSeq.add(new float[]{sm, s, sp});
            }
            assertEquals(active, res.active()[j], "latent " + j);
            assertEquals(sum, res.sum()[j], 0.0, "latent " + j);
            assertEquals(max, res.max()[j], "latent " + j);
            assertEquals((double) active / res.countedTokens(), res.density(j), 1e-15);
            perSeq.sort((a, b) -> a[0] != b[0] ? Float.compare(b[0], a[0]) : Float.compare(a[1], b[1]));
            List<float[]> want = perSeq.subList(0, Math.min(o.topK(), perSeq.size()));
            LatentScan.Example[] got = res.top()[j];
            assertEquals(want.size(), got.length, "latent " + j);
            for (int i = 0; i < got.length; i++) {
                float[] e = want.get(i);
                assertEquals(e[0], got[i].act());
                assertEquals((int) e[1], got[i].seq(), "latent " + j + " rank " + i);
                assertEquals((int) e[2], got[i].pos());
                int s = got[i].seq(), p = got[i].pos(), st = got[i].start();
                assertEquals(Math.max(0, Math.min(p - o.before(), T - W)), st);
                assertEquals(W, got[i].acts().length);
                assertTrue(p >= st && p < st + W);
                for (int t = 0; t < W; t++) assertEquals(f[(s * T + st + t) * N + j], got[i].acts()[t]);
                if (i > 0 && got[i].act() == got[i - 1].act()) ties++;
            }
            // histogram: exactly the direct histogram at the final width, the maximum in the upper half
            int[] h = res.histogram(j);
            if (active == 0) {
                assertEquals(0, Arrays.stream(h).sum());
                continue;
            }
            float wd = res.histWidth()[j];
            assertEquals(0, Float.floatToIntBits(wd) & 0x7fffff, "width " + wd + " is a power of two");
            assertTrue(max / wd >= o.histBins() / 2.0 && max / wd < o.histBins(), "max " + max + " width " + wd);
            int[] direct = new int[o.histBins()];
            for (float v : values) direct[(int) Math.floor(v / wd)]++;
            assertArrayEquals(direct, h, "latent " + j);
        }
        assertTrue(ties > 0, "the data should exercise tie order");
    }

    @Test
    void histogramMergesPairsWhenTheRangeGrows() {
        int[] h = new int[8];
        float[] w = new float[1];
        LatentScan.histAdd(h, w, 8, 0, 1f);     // 1 in [2^0, 2^1): w = 2/8 = 0.25, bin 4
        assertEquals(0.25f, w[0]);
        assertArrayEquals(new int[]{0, 0, 0, 0, 1, 0, 0, 0}, h);
        LatentScan.histAdd(h, w, 8, 0, 0.3f);   // bin 1
        LatentScan.histAdd(h, w, 8, 0, 5f);     // 5/0.25 = 20 ≥ 8: w 0.5 (10), w 1 (5)
        assertEquals(1f, w[0]);
        assertArrayEquals(new int[]{1, 1, 0, 0, 0, 1, 0, 0}, h);
    }

    @Test
    void rejectsMismatchedWidth() {
        float[] w = new float[N * D];
        Sae sae = rowSae(w, new float[N]);
        ActivationSource src = ActivationSources.inMemory(new float[2 * T * (D + 1)], 2, T, D + 1);
        var e = assertThrows(IllegalArgumentException.class, () -> LatentScan.scan(view(sae, w), src, LatentScan.Options.defaults(1), null));
        assertTrue(e.getMessage().contains("d_in"), e.getMessage());
    }
}
