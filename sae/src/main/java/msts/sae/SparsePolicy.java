package msts.sae;

/**
 * When the SAE's decoder and backward products skip the zero latents (docs/sae.md, "Sparse path"): when at
 * most {@code threshold} of f is non-zero. 0 = always dense, &gt; 1 = always sparse, negative = automatic
 * ({@link #autoThreshold}). Formerly the system property msts.sae.sparse; now a field of {@link TrainConfig}.
 */
public record SparsePolicy(double threshold) {
    public static final SparsePolicy AUTO = new SparsePolicy(-1), DENSE = new SparsePolicy(0), SPARSE = new SparsePolicy(2);

    /**
     * Density below which the sparse products beat the GEMMs, from msts bench train on the 2-core dev
     * machine (docs/benchmarks.md): about 2.5 % while W_dec fits in cache (d_sae·d_in ≤ 4M), falling in
     * proportion beyond (≈ 0.27 % at 16384 × 2304, where each active latent costs DRAM traffic).
     */
    public static double autoThreshold(int dSae, int dIn) {
        return 0.025 * Math.min(1.0, 4e6 / ((double) dSae * dIn));
    }

    /** The threshold in effect for a [rows, dSae] activation matrix of an SAE with d_in dIn. */
    public double effective(int dSae, int dIn) {
        return threshold >= 0 ? threshold : autoThreshold(dSae, dIn);
    }

    /** Whether nnz non-zeros of [rows, dSae] take the sparse products. */
    public boolean sparse(long nnz, int rows, int dSae, int dIn) {
        double th = effective(dSae, dIn);
        return th > 0 && nnz <= th * rows * dSae;
    }
}
