package msts.tornado;

import static msts.tornado.Accel.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import msts.engine.DType;
import msts.engine.Kernels;
import msts.engine.Ops;
import msts.engine.Tensor;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/** The backend seam: {@link TornadoOps} through the {@link Ops} interface against the reference ops. */
class TornadoOpsAccelTest {
    @BeforeEach
    void device() { assumeDevice(); }

    @ParameterizedTest(name = "transA={0} transB={1} m={2} n={3} k={4} matmul={5}")
    @CsvSource({"false,false,1,1,1,AUTO", "true,false,7,13,5,AUTO", "false,true,9,3,66,AUTO", "true,true,4,5,6,AUTO",
            "false,false,1,1,1,GROUPS", "true,false,17,13,5,GROUPS", "false,true,9,35,66,GROUPS", "true,true,40,5,6,GROUPS"})
    void gemmWithOffsetsAndStrides(boolean ta, boolean tb, int m, int n, int k, TornadoOptions.Matmul matmul) {
        Random r = new Random(m + n + k);
        int lda = (ta ? m : k) + 2, ldb = (tb ? k : n) + 1, ldc = n + 3, aOff = 5, bOff = 3, cOff = 7;
        float[] a = randn(r, aOff + (ta ? k : m) * lda, 1f), b = randn(r, bOff + (tb ? n : k) * ldb, 1f);
        float[] c = randn(r, cOff + m * ldc, 1f), want = c.clone();
        Kernels.gemm(ta, tb, m, n, k, 0.7f, a, aOff, lda, b, bOff, ldb, 0.5f, want, cOff, ldc);
        TornadoOps ops = new TornadoOps(Ops.reference(), null, matmul); // GROUPS: the tiled gemm
        try {
            for (int rep = 0; rep < 2; rep++) {
                float[] got = c.clone();
                ops.gemm(ta, tb, m, n, k, 0.7f, a, aOff, lda, b, bOff, ldb, 0.5f, got, cOff, ldc);
                check("TornadoOps.gemm " + matmul + " " + ta + tb + " " + m + "x" + n + "x" + k, FloatArray.fromArray(got), want, 1e-5);
            }
        } finally {
            ops.close();
        }
    }

    @Test
    void matmulKeepsWeightsResidentAcrossCalls() {
        Random r = new Random(9);
        Tensor w = Tensor.allocate(DType.BF16, 33, 70);
        for (long i = 0; i < w.numel(); i++) w.set(i, (float) r.nextGaussian());
        TornadoOps ops = new TornadoOps(Ops.reference(), null);
        try {
            for (int rows : new int[]{1, 5, 1}) {
                float[] x = randn(r, rows * 70, 1f), want = new float[rows * 33], got = new float[rows * 33];
                Ops.reference().matmul(want, x, w, rows);
                ops.matmul(got, x, w, rows);
                check("TornadoOps.matmul BF16 rows=" + rows, FloatArray.fromArray(got), want, 1e-5);
            }
            assertEquals("tornado(default)", ops.name());
        } finally {
            ops.close();
        }
    }
}
