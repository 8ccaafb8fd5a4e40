package msts.model.train;

import msts.engine.CpuOps;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * Child-JVM probe for {@link TrainDeterminismTest}: repeats loss + gradient + clip + AdamW on the autograd
 * fixture from the same start many times (cold, then C1, then C2 code) and prints
 * "changes hash": how often the resulting bits differed from the first repetition, and their hash.
 */
public final class TrainDeterminismProbe {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int reps = Integer.parseInt(args[1]);
        LmParams p0 = LmParams.load(dir);
        int[][] rows = Gemma2BackpropTest.tokens(dir);
        LmTrainConfig c = new LmTrainConfig(10, rows.length, 1e-2f, 1, 0.1f, 0.9f, 0.95f, 1e-8f, 1f, 1, 0.02f, 0);
        Gemma2Backprop bp = new Gemma2Backprop(p0.config(), CpuOps.INSTANCE, rows.length, rows[0].length, false);
        float[] grad = new float[p0.size()];
        int first = 0, changes = 0;
        for (int r = 0; r < reps; r++) {
            float[] w = p0.data().clone();
            AdamW adam = new AdamW(p0);
            double loss = 0;
            for (int s = 0; s < 2; s++) {
                loss = bp.lossAndGradient(w, p0, rows, grad);
                double norm = AdamW.globalNorm(grad);
                AdamW.clip(grad, norm, c.clip());
                adam.step(w, grad, s + 1, c.lrAt(s), c);
            }
            int h = 31 * Arrays.hashCode(w) + Arrays.hashCode(grad) + Double.hashCode(loss);
            if (r == 0) first = h;
            else if (h != first) changes++;
        }
        System.out.println(changes + " " + Integer.toHexString(first));
    }
}
