package msts.sae;

/** The metrics of the last {@link #SIZE} steps; their averages are the run's final metrics. */
final class MetricsWindow {
    static final int SIZE = 50;
    private static final int K = 7;
    private final double[] ring = new double[K * SIZE];
    private int count;

    void add(TrainStep.Metrics r, double explainedVariance) {
        int slot = count % SIZE;
        double[] vals = {r.loss(), r.mse(), r.l1(), r.aux(), r.sep(), r.l0(), explainedVariance};
        System.arraycopy(vals, 0, ring, slot * K, K);
        count++;
    }

    TrainResult.Final averages() {
        int n = Math.min(count, SIZE);
        Double[] avg = new Double[K];
        for (int k = 0; k < K; k++) {
            double acc = 0;
            for (int i = 0; i < n; i++) acc += ring[i * K + k];
            avg[k] = n > 0 ? acc / n : null;
        }
        return new TrainResult.Final(avg[0], avg[1], avg[2], avg[3], avg[4], avg[5], avg[6], n);
    }
}
