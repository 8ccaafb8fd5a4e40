package msts.evals;

/** Latent activations of many tokens stored sparsely (CSR: per token the active latent ids and values). */
public final class SparseActs {
    public final int dSae;
    private int[] rowPtr = new int[1025];
    private int[] idx = new int[4096];
    private float[] val = new float[4096];
    private int rows, nnz;

    public SparseActs(int dSae) {
        this.dSae = dSae;
    }

    /** Appends rows of dense f [rows, dSae]. */
    public void add(float[] f, int nRows) {
        for (int r = 0; r < nRows; r++) {
            for (int j = 0; j < dSae; j++) {
                float v = f[r * dSae + j];
                if (v == 0f) continue;
                if (nnz == idx.length) {
                    idx = java.util.Arrays.copyOf(idx, nnz * 2);
                    val = java.util.Arrays.copyOf(val, nnz * 2);
                }
                idx[nnz] = j;
                val[nnz++] = v;
            }
            if (rows + 2 > rowPtr.length) rowPtr = java.util.Arrays.copyOf(rowPtr, rowPtr.length * 2);
            rowPtr[++rows] = nnz;
        }
    }

    public int rows() { return rows; }
    public int start(int row) { return rowPtr[row]; }
    public int end(int row) { return rowPtr[row + 1]; }
    public int index(int k) { return idx[k]; }
    public float value(int k) { return val[k]; }
}
