package msts.tornado;

import msts.model.gemma.Gemma2;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

/** Builds a {@link Gemma2Plan} from a loaded {@link Gemma2} (config + mmap'd weights) and embeds token batches for it. */
public final class Gemma2Plans {
    private Gemma2Plans() {}

    /**
     * A plan for batches of nSeq sequences of T tokens through layers 0..lastLayer (-1 = all), capturing
     * resid_post of {@code capture}, with logits for every position when {@code logits}.
     */
    public static Gemma2Plan create(Gemma2 model, int nSeq, int T, int lastLayer, int[] capture, boolean logits,
                                    TornadoDevice device, TornadoOptions.Matmul matmul) {
        return create(model, nSeq, T, lastLayer, capture, logits, device, matmul, null);
    }

    /** As above, with an SAE splice compiled into the plan (null = none). */
    public static Gemma2Plan create(Gemma2 model, int nSeq, int T, int lastLayer, int[] capture, boolean logits,
                                    TornadoDevice device, TornadoOptions.Matmul matmul, Gemma2Plan.Splice splice) {
        int last = lastLayer < 0 ? model.config().numHiddenLayers() - 1 : lastLayer;
        return new Gemma2Plan(model.config(), model.weights(), logits, nSeq, T, last, capture, device, matmul, splice);
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
        model.ops().embed(x, ids, model.weights().embedTokens(), H, model.embedScale());
        return x;
    }
}
