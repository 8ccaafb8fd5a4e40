package msts.evals.dashboard;

import static org.junit.jupiter.api.Assertions.*;

import java.util.Arrays;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.IntStream;
import msts.engine.CpuOps;
import msts.engine.DType;
import msts.engine.Tensor;
import org.junit.jupiter.api.Test;

/**
 * W_dec·Eᵀ top/bottom tokens against a brute-force sort of every (latent, token) product. Entries are
 * multiples of 1/8 with |x| ≤ 1 and d = 8, so every product is exact in F32 whatever the summation order
 * and BF16 holds them exactly; many values tie, which checks the tie rule (lower token id first). The
 * vocabulary spans two chunks.
 */
class LogitLensTest {
    @Test
    void matchesBruteForceF32AndBf16() {
        int n = 37, d = 8, vocab = 5000, m = 7;
        SplittableRandom r = new SplittableRandom(3);
        float[] wDec = new float[n * d], e = new float[vocab * d];
        for (int i = 0; i < wDec.length; i++) wDec[i] = r.nextInt(-8, 9) / 8f;
        for (int i = 0; i < e.length; i++) e[i] = r.nextInt(-8, 9) / 8f;
        Tensor f32 = Tensor.of(e, vocab, d);
        for (Tensor embed : new Tensor[]{f32, f32.to(DType.BF16)}) {
            LogitLens.Result res = LogitLens.compute(wDec, n, d, embed, m, CpuOps.INSTANCE);
            for (int j = 0; j < n; j++) {
                float[] logit = new float[vocab];
                for (int v = 0; v < vocab; v++)
                    for (int c = 0; c < d; c++) logit[v] += wDec[j * d + c] * e[v * d + c];
                Integer[] desc = IntStream.range(0, vocab).boxed().sorted(Comparator.<Integer>comparingDouble(v -> -logit[v]).thenComparingInt(v -> v)).toArray(Integer[]::new);
                Integer[] asc = IntStream.range(0, vocab).boxed().sorted(Comparator.<Integer>comparingDouble(v -> logit[v]).thenComparingInt(v -> v)).toArray(Integer[]::new);
                for (int i = 0; i < m; i++) {
                    assertEquals(desc[i], res.topIds()[j * m + i], "latent " + j + " top " + i + " " + embed.dtype());
                    assertEquals(logit[desc[i]], res.topValues()[j * m + i]);
                    assertEquals(asc[i], res.bottomIds()[j * m + i], "latent " + j + " bottom " + i);
                    assertEquals(logit[asc[i]], res.bottomValues()[j * m + i]);
                }
            }
        }
    }

    @Test
    void rejectsAnEmbeddingOfAnotherWidth() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> LogitLens.compute(new float[6], 2, 3, Tensor.of(new float[8], 2, 4), 1, CpuOps.INSTANCE));
        assertTrue(e.getMessage().contains("d_in 3"), e.getMessage());
    }
}
