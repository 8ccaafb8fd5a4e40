package msts.data;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class ActivationBatcherTest {
    static final int N = 50, CTX = 9, D = 6;

    /** data[s, p, 0] = s, data[s, p, 1] = p, the rest random; position 0 has a huge norm like BOS. */
    static float[] data(long seed) {
        Random r = new Random(seed);
        float[] x = new float[N * CTX * D];
        for (int s = 0; s < N; s++)
            for (int p = 0; p < CTX; p++) {
                int o = (s * CTX + p) * D;
                x[o] = s;
                x[o + 1] = p;
                for (int j = 2; j < D; j++) x[o + j] = (float) (r.nextGaussian() * (p == 0 ? 500 : 1 + s % 3));
            }
        return x;
    }

    static final float[] DATA = data(7);
    static final ActivationSource SRC = ActivationSources.inMemory(DATA, N, CTX, D);

    @Test
    void eachSequenceOncePerEpochInShuffledOrderWithContentIntact() {
        var b = new ActivationBatcher(SRC, 42);
        float[] x = new float[5 * CTX * D];
        int[] ids = new int[5];
        int[][] order = new int[3][N];
        for (int e = 0; e < 3; e++) {
            for (int k = 0; k < N; k += 5) {
                b.nextSequences(5, x, ids);
                for (int i = 0; i < 5; i++) {
                    order[e][k + i] = ids[i];
                    assertArrayEquals(Arrays.copyOfRange(DATA, ids[i] * CTX * D, (ids[i] + 1) * CTX * D),
                            Arrays.copyOfRange(x, i * CTX * D, (i + 1) * CTX * D));
                }
            }
            assertEquals(e + 1, b.epoch());
            int[] sorted = order[e].clone();
            Arrays.sort(sorted);
            for (int s = 0; s < N; s++) assertEquals(s, sorted[s], "epoch " + e + " visits each sequence once");
            assertFalse(Arrays.equals(sorted, order[e]), "epoch order is shuffled");
        }
        assertFalse(Arrays.equals(order[0], order[1]), "each epoch has its own permutation");
    }

    @Test
    void deterministicBySeedAndResumable() {
        float[] a = new float[7 * CTX * D], c = new float[7 * CTX * D], e = new float[7 * CTX * D];
        var b1 = new ActivationBatcher(SRC, 3);
        var b2 = new ActivationBatcher(SRC, 3);
        var b3 = new ActivationBatcher(SRC, 4);
        boolean differs = false;
        for (int i = 0; i < 20; i++) {
            b1.nextSequences(7, a);
            b2.nextSequences(7, c);
            assertArrayEquals(a, c);
            b3.nextSequences(7, e);
            differs |= !Arrays.equals(a, e);
            b1.nextTokens(30, a);
            b2.nextTokens(30, c);
            assertArrayEquals(a, c);
        }
        assertTrue(differs, "another seed gives another order");
        var r = new ActivationBatcher(SRC, 3);
        r.seekSequences(b1.sequencesServed());
        r.seekTokens(b1.tokensServed());
        for (int i = 0; i < 5; i++) {
            b1.nextSequences(7, a);
            r.nextSequences(7, c);
            assertArrayEquals(a, c);
            b1.nextTokens(30, a);
            r.nextTokens(30, c);
            assertArrayEquals(a, c);
        }
    }

    @Test
    void tokensCoverEveryNonBosPositionOncePerEpochShuffled() {
        for (boolean exclude : new boolean[] {true, false}) {
            var b = new ActivationBatcher(SRC, 9, exclude, 10);
            int per = CTX - (exclude ? 1 : 0);
            int total = N * per;
            float[] x = new float[total * D];
            b.nextTokens(total, x);
            Set<Integer> seen = new HashSet<>();
            int inOrder = 0;
            for (int t = 0; t < total; t++) {
                int s = (int) x[t * D], p = (int) x[t * D + 1];
                if (exclude) assertNotEquals(0, p, "BOS position excluded");
                assertTrue(seen.add(s * CTX + p), "token (" + s + "," + p + ") served twice in one epoch");
                int o = (s * CTX + p) * D;
                assertArrayEquals(Arrays.copyOfRange(DATA, o, o + D), Arrays.copyOfRange(x, t * D, t * D + D));
                if (t > 0 && (int) x[(t - 1) * D] == s && (int) x[(t - 1) * D + 1] == p - 1) inOrder++;
            }
            assertEquals(total, seen.size());
            assertTrue(inOrder < total / 10, "tokens are shuffled across sequences, " + inOrder + " in order");
            assertEquals(1, b.tokenEpoch());
        }
    }

    @Test
    void scaleMultipliesEveryServedValue() {
        float[] a = new float[2 * CTX * D], c = new float[2 * CTX * D];
        var b1 = new ActivationBatcher(SRC, 1);
        var b2 = new ActivationBatcher(SRC, 1).setScale(2.5f);
        b1.nextSequences(2, a);
        b2.nextSequences(2, c);
        for (int i = 0; i < a.length; i++) assertEquals(a[i] * 2.5f, c[i]);
        b1.nextTokens(10, a);
        b2.nextTokens(10, c);
        for (int i = 0; i < 10 * D; i++) assertEquals(a[i] * 2.5f, c[i]);
    }

    @Test
    void normScaleMatchesDirectComputationAndExcludesBos() {
        // direct: mean over s, p ≥ 1 of ||x[s,p]||
        double sum = 0, sumAll = 0;
        for (int s = 0; s < N; s++)
            for (int p = 0; p < CTX; p++) {
                double q = 0;
                for (int j = 0; j < D; j++) q += (double) DATA[(s * CTX + p) * D + j] * DATA[(s * CTX + p) * D + j];
                if (p > 0) sum += Math.sqrt(q);
                sumAll += Math.sqrt(q);
            }
        double exact = Math.sqrt(D) / (sum / (N * (CTX - 1)));
        double exactAll = Math.sqrt(D) / (sumAll / (N * CTX));
        var b = new ActivationBatcher(SRC, 5);
        assertEquals(exact, b.estimateNormScale(Long.MAX_VALUE), 1e-12 * exact);
        assertEquals(exactAll, new ActivationBatcher(SRC, 5, false, 8).estimateNormScale(Long.MAX_VALUE), 1e-12 * exactAll);
        assertTrue(exactAll < exact / 3, "BOS norm would dominate the estimate");
        double sampled = b.estimateNormScale(20_000);
        assertEquals(exact, sampled, 0.03 * exact);
        assertEquals(sampled, new ActivationBatcher(SRC, 5).estimateNormScale(20_000), "deterministic");
        assertEquals(0, b.sequencesServed());
        // after scaling, the mean norm of non-BOS tokens is sqrt(d_in)
        b.setScale((float) exact);
        float[] x = new float[N * (CTX - 1) * D];
        b.nextTokens(N * (CTX - 1), x);
        double m = 0;
        for (int t = 0; t < N * (CTX - 1); t++) m += ActivationBatcher.norm(x, t * D, D);
        assertEquals(Math.sqrt(D), m / (N * (CTX - 1)), 1e-5);
    }

    @Test
    void trainerBatchesArePureFunctionsOfTheIndexOverTheBatcherStreams() {
        var seqs = new msts.data.StoreBatches(SRC, true, 3 * CTX, false, 8);
        assertEquals(3 * CTX, seqs.rows());
        assertEquals(CTX, seqs.seqLen());
        assertEquals(1, seqs.lossStart());
        var ref = new ActivationBatcher(SRC, 8);
        float[] a = new float[seqs.rows() * D], c = new float[seqs.rows() * D];
        for (int i = 0; i < 40; i++) {
            ref.nextSequences(3, c);
            seqs.fill(i, a);
            assertArrayEquals(c, a, "batch " + i);
        }
        seqs.fill(7, a);
        new msts.data.StoreBatches(SRC, true, 3 * CTX, false, 8).fill(7, c);
        assertArrayEquals(c, a);
        var toks = new msts.data.StoreBatches(SRC, false, 32, false, 8);
        assertEquals(32, toks.rows());
        assertEquals(1, toks.seqLen());
        var tref = new ActivationBatcher(SRC, 8);
        float[] ta = new float[32 * D], tc = new float[32 * D];
        for (int i = 0; i < 30; i++) {
            tref.nextTokens(32, tc);
            toks.fill(i, ta);
            assertArrayEquals(tc, ta, "token batch " + i);
        }
        toks.fill(3, ta);
        new msts.data.StoreBatches(SRC, false, 32, false, 8).fill(3, tc);
        assertArrayEquals(tc, ta);
    }
}
