package msts.tornado;

import static msts.tornado.Accel.*;

import java.util.Random;

import msts.engine.DType;
import msts.engine.Kernels;
import msts.engine.Ops;
import msts.engine.Tensor;
import msts.model.gemma.Gemma2Config;
import msts.model.gemma.Gemma2Weights;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;

/**
 * The per-layer task-graph plan of the Gemma-2 forward against the CPU reference ops on a random tiny
 * model: residual stream after captured layers and the soft-capped logits.
 * The CPU side follows msts.model.gemma.Gemma2#forward op for op (TODO(tornado): call Gemma2 + TinyGemma2
 * directly once worker "gemma"'s classes are on main).
 */
class Gemma2PlanAccelTest {
    @BeforeEach
    void device() { assumeDevice(); }

    record Model(Gemma2Config config, Gemma2Weights weights) {
        Tensor embed() { return weights.embedTokens(); }
        Tensor norm() { return weights.norm(); }
    }

    static Tensor rnd(Random r, DType dt, float scale, long... shape) {
        Tensor t = Tensor.allocate(dt, shape);
        for (long i = 0; i < t.numel(); i++) t.set(i, (float) r.nextGaussian() * scale);
        return t;
    }

    static Model tiny(DType dt, long seed) {
        Random r = new Random(seed);
        int H = 40, I = 70, heads = 4, kv = 2, hd = 12, V = 37;
        // query_pre_attn_scalar = hd (scale hd^-0.5), attention soft-cap 50, final 30, window 3 on layers 0 and 2
        var config = new Gemma2Config(V, H, I, 3, heads, kv, hd, 1e-6f, 10000f, hd, 50f, 30f, 3, 2, 1, 0, true, false,
                "gelu_pytorch_tanh", new boolean[]{true, false, true}, dt == DType.BF16 ? "bfloat16" : "float32");
        var layers = new Gemma2Weights.Layer[3];
        for (int l = 0; l < 3; l++)
            layers[l] = new Gemma2Weights.Layer(rnd(r, dt, 0.1f, H), rnd(r, dt, 0.2f, heads * hd, H),
                    rnd(r, dt, 0.2f, kv * hd, H), rnd(r, dt, 0.2f, kv * hd, H), rnd(r, dt, 0.2f, H, heads * hd),
                    rnd(r, dt, 0.1f, H), rnd(r, dt, 0.1f, H), rnd(r, dt, 0.2f, I, H), rnd(r, dt, 0.2f, I, H),
                    rnd(r, dt, 0.2f, H, I), rnd(r, dt, 0.1f, H), null, null, null, null);
        Tensor embed = rnd(r, dt, 1f, V, H);
        return new Model(config, new Gemma2Weights(embed, layers, rnd(r, dt, 0.1f, H), embed));
    }

    /** CPU forward with the reference ops; returns resid after each layer [L][N·H] and logits [N·V]. */
    static float[][] cpuForward(Model m, int[] ids, int nSeq, int T, float[] logitsOut) {
        Ops ops = Ops.reference();
        var s = m.config();
        int H = s.hiddenSize(), I = s.intermediateSize(), Q = s.qDim(), KV = s.kvDim(), N = nSeq * T;
        float[] x = new float[N * H], xn = new float[N * H], tmp = new float[N * H], q = new float[N * Q],
                k = new float[N * KV], v = new float[N * KV], att = new float[N * Q], gate = new float[N * I], up = new float[N * I];
        Kernels.embed(x, ids, m.embed(), H, (float) Math.sqrt(H));
        float[][] resid = new float[s.numHiddenLayers()][];
        for (int l = 0; l < s.numHiddenLayers(); l++) {
            var w = m.weights().layers()[l];
            ops.rmsNorm(xn, x, w.inputLayernorm(), N, H, s.rmsNormEps());
            ops.matmul(q, xn, w.qProj(), N);
            ops.matmul(k, xn, w.kProj(), N);
            ops.matmul(v, xn, w.vProj(), N);
            for (int sq = 0; sq < nSeq; sq++) {
                float[] qs = java.util.Arrays.copyOfRange(q, sq * T * Q, (sq + 1) * T * Q);
                float[] ks = java.util.Arrays.copyOfRange(k, sq * T * KV, (sq + 1) * T * KV);
                float[] vs = java.util.Arrays.copyOfRange(v, sq * T * KV, (sq + 1) * T * KV);
                float[] os = new float[T * Q];
                ops.rope(qs, T, s.numAttentionHeads(), s.headDim(), 0, s.ropeTheta());
                ops.rope(ks, T, s.numKeyValueHeads(), s.headDim(), 0, s.ropeTheta());
                ops.attention(os, qs, ks, vs, T, s.numAttentionHeads(), s.numKeyValueHeads(), s.headDim(), s.attnScale(), s.attnLogitSoftcapping(), s.windowOf(l));
                System.arraycopy(os, 0, att, sq * T * Q, T * Q);
            }
            ops.matmul(tmp, att, w.oProj(), N);
            ops.rmsNorm(tmp, tmp, w.postAttentionLayernorm(), N, H, s.rmsNormEps());
            Kernels.add(x, tmp, N * H);
            ops.rmsNorm(xn, x, w.preFeedforwardLayernorm(), N, H, s.rmsNormEps());
            ops.matmul(gate, xn, w.gateProj(), N);
            ops.matmul(up, xn, w.upProj(), N);
            ops.gegluTanh(gate, gate, up, N * I);
            ops.matmul(tmp, gate, w.downProj(), N);
            ops.rmsNorm(tmp, tmp, w.postFeedforwardLayernorm(), N, H, s.rmsNormEps());
            Kernels.add(x, tmp, N * H);
            resid[l] = x.clone();
        }
        ops.rmsNorm(xn, x, m.norm(), N, H, s.rmsNormEps());
        ops.matmul(logitsOut, xn, m.embed(), N);
        Kernels.softcap(logitsOut, logitsOut.length, s.finalLogitSoftcapping());
        return resid;
    }

    @ParameterizedTest(name = "{0} nSeq={1} T={2} matmul={3}")
    @CsvSource({"F32, 2, 7, groups", "BF16, 2, 7, threads", "F32, 1, 1, threads", "BF16, 3, 11, groups"})
    void residualsAndLogitsMatchCpu(DType dt, int nSeq, int T, String matmul) {
        // both matmul kernel shapes inside a whole plan (tornado backend option matmul=threads|groups)
        residualsAndLogits(dt, nSeq, T, TornadoOptions.Matmul.valueOf(matmul.toUpperCase(java.util.Locale.ROOT)));
    }

    void residualsAndLogits(DType dt, int nSeq, int T, TornadoOptions.Matmul matmul) {
        Model m = tiny(dt, 7);
        int V = (int) m.embed().dim(0), H = m.config().hiddenSize(), N = nSeq * T;
        Random r = new Random(1);
        int[] ids = new int[N];
        for (int i = 0; i < N; i++) ids[i] = r.nextInt(V);
        float[] wantLogits = new float[N * V];
        float[][] want = cpuForward(m, ids, nSeq, T, wantLogits);
        float[] x = new float[N * H];
        Kernels.embed(x, ids, m.embed(), H, (float) Math.sqrt(H));
        try (var plan = new Gemma2Plan(m.config(), m.weights(), true, nSeq, T, 2, new int[]{0, 1}, null, matmul)) {
            for (int rep = 0; rep < 2; rep++) { // second call: weights and scratch already resident
                var out = plan.forward(x);
                String tag = dt + " " + nSeq + "x" + T + " call " + (rep + 1);
                check("resid layer0 " + tag, FloatArray.fromArray(out.captured()[0]), want[0], 2e-5);
                check("resid layer1 " + tag, FloatArray.fromArray(out.captured()[1]), want[1], 2e-5);
                check("resid layer2 " + tag, FloatArray.fromArray(out.resid()), want[2], 2e-5);
                check("logits " + tag, FloatArray.fromArray(out.logits()), wantLogits, 2e-5);
            }
        }
    }
}
