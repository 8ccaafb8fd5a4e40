package msts.data;

import msts.model.gemma.ForwardEngine;
import msts.model.gemma.Gemma2;

/** Binds the harvest to Gemma-2: resid_post of one layer, forward stopped after it. */
public final class GemmaActivations implements Harvester.ActivationModel {
    private final ForwardEngine model;
    private final int layer;
    private final Gemma2.Options opts;

    public GemmaActivations(ForwardEngine model, int layer) {
        int L = model.config().numHiddenLayers();
        if (layer < 0 || layer >= L)
            throw new IllegalArgumentException("--layer " + layer + " is outside the model's layers 0.." + (L - 1));
        this.model = model;
        this.layer = layer;
        this.opts = new Gemma2.Options(layer, new int[] {layer}, null, Gemma2.LogitsMode.NONE);
    }

    @Override
    public int dIn() { return model.config().hiddenSize(); }

    @Override
    public float[][] run(int[][] rows) {
        int v = model.config().vocabSize();
        for (int[] r : rows)
            for (int t : r)
                if (t < 0 || t >= v)
                    throw new IllegalArgumentException("token id " + t + " is outside the model's vocabulary (" + v
                            + "); is the tokenizer the model's?");
        return model.forward(rows, opts).resid()[0];
    }

    public int layer() { return layer; }
}
