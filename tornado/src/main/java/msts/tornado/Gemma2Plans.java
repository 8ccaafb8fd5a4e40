package msts.tornado;

import msts.engine.Kernels;
import msts.model.gemma.Gemma2;
import msts.model.gemma.Gemma2Config;
import msts.model.gemma.Gemma2Weights;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

/** Builds a {@link Gemma2Plan} from a loaded {@link Gemma2} (config + mmap'd weights) and embeds token batches for it. */
public final class Gemma2Plans {
    private Gemma2Plans() {}

    /** The kernel-level shape of a Gemma-2 config; rejects features the plan does not implement. */
    public static Gemma2Plan.Shape shape(Gemma2Config c) {
        if (c.attentionBias()) throw new IllegalArgumentException("the TornadoVM plan does not implement attention biases");
        if (!c.geluTanh()) throw new IllegalArgumentException("the TornadoVM plan implements the tanh GELU only");
        int[] windows = new int[c.numHiddenLayers()];
        for (int l = 0; l < windows.length; l++) windows[l] = c.windowOf(l);
        return new Gemma2Plan.Shape(c.hiddenSize(), c.intermediateSize(), c.numAttentionHeads(), c.numKeyValueHeads(),
                c.headDim(), c.rmsNormEps(), c.ropeTheta(), c.attnScale(), c.attnLogitSoftcapping(),
                c.finalLogitSoftcapping(), windows);
    }

    /**
     * A plan for batches of nSeq sequences of T tokens through layers 0..lastLayer (-1 = all), capturing
     * resid_post of {@code capture}, with logits for every position when {@code logits}.
     */
    public static Gemma2Plan create(Gemma2 model, int nSeq, int T, int lastLayer, int[] capture, boolean logits,
                                    TornadoDevice device, TornadoOptions.Matmul matmul) {
        Gemma2Config c = model.config();
        Gemma2Weights w = model.weights();
        var layers = new Gemma2Plan.LayerTensors[c.numHiddenLayers()];
        for (int l = 0; l < layers.length; l++) {
            Gemma2Weights.Layer x = w.layers()[l];
            layers[l] = new Gemma2Plan.LayerTensors(x.inputLayernorm(), x.qProj(), x.kProj(), x.vProj(), x.oProj(),
                    x.postAttentionLayernorm(), x.preFeedforwardLayernorm(), x.gateProj(), x.upProj(), x.downProj(),
                    x.postFeedforwardLayernorm());
        }
        int last = lastLayer < 0 ? layers.length - 1 : lastLayer;
        return new Gemma2Plan(shape(c), layers, logits ? w.norm() : null, logits ? w.lmHead() : null, nSeq, T, last,
                capture, device, matmul);
    }

    /** x = embed(tokens)·√hidden for a batch of equal-length sequences, [nSeq·T, hidden] (on the host). */
    public static float[] embed(Gemma2 model, int[][] batch) {
        int H = model.config().hiddenSize(), T = batch[0].length, V = model.config().vocabSize();
        int[] ids = new int[batch.length * T];
        for (int s = 0; s < batch.length; s++) {
            if (batch[s].length != T)
                throw new IllegalArgumentException("the TornadoVM plan needs sequences of equal length; sequence " + s
                        + " has " + batch[s].length + " tokens, sequence 0 has " + T);
            for (int t = 0; t < T; t++) {
                int id = batch[s][t];
                if (id < 0 || id >= V) throw new IllegalArgumentException("token id " + id + " outside [0, " + V + ")");
                ids[s * T + t] = id;
            }
        }
        float[] x = new float[ids.length * H];
        Kernels.embed(x, ids, model.weights().embedTokens(), H, model.embedScale());
        return x;
    }
}
