package msts.evals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import msts.engine.Tensor;
import msts.io.SafeTensors;

/**
 * Files of the synthetic benchmark: {@code activations.safetensors} (tensor {@code activations}
 * [n_seq, ctx, d], F32; what {@code msts train --activations} reads) and {@code ground_truth.safetensors}
 * ({@code directions} [n_features, d], {@code time_scale} [n_features] as F32), spec in the metadata.
 */
public final class SyntheticFiles {
    private SyntheticFiles() {}

    public static final String ACTIVATIONS = "activations.safetensors";
    public static final String GROUND_TRUTH = "ground_truth.safetensors";

    public static void write(Path dir, SyntheticSequences.Data data) throws java.io.IOException {
        Files.createDirectories(dir);
        var s = data.spec();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("generator", "msts SyntheticSequences");
        meta.put("d", String.valueOf(s.d()));
        meta.put("time_scales", java.util.Arrays.toString(s.timeScales()));
        meta.put("features_per_scale", String.valueOf(s.featuresPerScale()));
        meta.put("on_fraction", String.valueOf(s.onFraction()));
        meta.put("magnitude", s.magMin() + ".." + s.magMax());
        meta.put("noise_std", String.valueOf(s.noiseStd()));
        meta.put("seed", String.valueOf(s.seed()));
        SafeTensors.write(dir.resolve(ACTIVATIONS), Map.of("activations", Tensor.of(data.activations(), s.nSeq(), s.ctx(), s.d())), meta);
        float[] scale = new float[data.timeScale().length];
        for (int i = 0; i < scale.length; i++) scale[i] = data.timeScale()[i];
        Map<String, Tensor> gt = new LinkedHashMap<>();
        gt.put("directions", Tensor.of(data.directions(), s.nFeatures(), s.d()));
        gt.put("time_scale", Tensor.of(scale, s.nFeatures()));
        SafeTensors.write(dir.resolve(GROUND_TRUTH), gt, meta);
    }

    /** Reads a ground-truth file (or the one in a directory). */
    public static Disentanglement.GroundTruth readGroundTruth(Path fileOrDir) {
        Path f = Files.isDirectory(fileOrDir) ? fileOrDir.resolve(GROUND_TRUTH) : fileOrDir;
        try (SafeTensors st = SafeTensors.open(f)) {
            if (!st.has("directions") || !st.has("time_scale"))
                throw new IllegalArgumentException(f + ": expected tensors 'directions' [n, d] and 'time_scale' [n]");
            Tensor dir = st.tensor("directions");
            long[] shape = dir.shape();
            if (shape.length != 2) throw new IllegalArgumentException(f + ": 'directions' must be 2-D [n, d]");
            float[] ts = st.tensor("time_scale").toFloatArray();
            if (ts.length != shape[0]) throw new IllegalArgumentException(f + ": 'time_scale' has " + ts.length + " entries, 'directions' " + shape[0] + " rows");
            int[] scale = new int[ts.length];
            for (int i = 0; i < ts.length; i++) scale[i] = Math.round(ts[i]);
            return new Disentanglement.GroundTruth(dir.toFloatArray(), scale, (int) shape[1]);
        }
    }
}
