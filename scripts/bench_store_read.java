import msts.data.*;
import java.nio.file.Path;

/** Read throughput of ActivationBatcher on a store: java -cp cli/target/msts.jar --add-modules jdk.incubator.vector scripts/bench_store_read.java STORE_DIR */
public class ReadBench {
    public static void main(String[] a) {
        try (ActivationSource src = ActivationSources.open(Path.of(a[0]))) {
            int d = src.dIn(), ctx = src.contextSize();
            var b = new ActivationBatcher(src, 1);
            float[] x = new float[4096 * d];
            for (int rep = 0; rep < 3; rep++) {
                long t0 = System.nanoTime();
                long n = 0;
                for (int i = 0; i < 20; i++) { b.nextTokens(4096, x); n += 4096; }
                double s = (System.nanoTime() - t0) / 1e9;
                long t1 = System.nanoTime();
                long m = 0;
                for (int i = 0; i < 20; i++) { b.nextSequences(32, x); m += 32L * ctx; }
                double s2 = (System.nanoTime() - t1) / 1e9;
                long t2 = System.nanoTime();
                double sc = b.estimateNormScale(Long.MAX_VALUE);
                double s3 = (System.nanoTime() - t2) / 1e9;
                System.out.printf("rep %d: nextTokens %.0f tok/s (%.2f GB/s F32 out), nextSequences %.0f tok/s, exact norm scale %.6f over %d tokens in %.2f s%n",
                        rep, n / s, n * d * 4 / s / 1e9, m / s2, sc, (long) src.numSequences() * (ctx - 1), s3);
            }
        }
    }
}
