package msts.sae;

import java.util.Arrays;

/**
 * The non-zeros of a dense [rows, n] matrix in both CSR (by row, ascending column) and CSC (by column,
 * ascending row) form, rebuilt in place per batch. Lets the SAE skip the zero latents in the decoder
 * and backward products when the activations are sparse (docs/sae.md, "Sparse path").
 */
final class SparseRows {
    int rows, n, nnz;
    int[] start = new int[1], idx = new int[16];
    float[] val = new float[16];
    int[] colStart = new int[1], rowIdx = new int[16];
    float[] cval = new float[16];
    private int[] fill = new int[1];

    /** Builds the CSR (and, if csc, the CSC) structure of the non-zeros of a[0 .. rows·n). */
    void build(float[] a, int rows, int n, boolean csc) {
        count(a, rows, n);
        gather(a, csc);
    }

    /** First half of {@link #build}: row counts and offsets; returns the number of non-zeros. */
    int count(float[] a, int rows, int n) {
        this.rows = rows;
        this.n = n;
        if (start.length < rows + 1) start = new int[rows + 1];
        int[] cnt = new int[rows];
        Par.rows(rows, 16, (lo, hi) -> SaeKernels.countNonZero(a, n, cnt, lo, hi));
        int total = 0;
        for (int r = 0; r < rows; r++) {
            start[r] = total;
            total += cnt[r];
        }
        start[rows] = total;
        nnz = total;
        return total;
    }

    /** Second half of {@link #build}: fills indices and values (after {@link #count} on the same array). */
    void gather(float[] a, boolean csc) {
        int total = nnz, n = this.n;
        if (idx.length < total) {
            idx = new int[total];
            val = new float[total];
        }
        int[] st = start, ix = idx;
        float[] vl = val;
        Par.rows(rows, 16, (lo, hi) -> SaeKernels.gatherNonZero(a, n, st, ix, vl, lo, hi));
        if (csc) buildCsc();
    }

    private void buildCsc() {
        if (colStart.length < n + 1) colStart = new int[n + 1];
        if (fill.length < n) fill = new int[n];
        if (rowIdx.length < nnz) {
            rowIdx = new int[nnz];
            cval = new float[nnz];
        }
        Arrays.fill(colStart, 0, n + 1, 0);
        for (int e = 0; e < nnz; e++) colStart[idx[e] + 1]++;
        for (int j = 0; j < n; j++) colStart[j + 1] += colStart[j];
        System.arraycopy(colStart, 0, fill, 0, n);
        for (int r = 0; r < rows; r++)
            for (int e = start[r]; e < start[r + 1]; e++) {
                int q = fill[idx[e]]++;
                rowIdx[q] = r;
                cval[q] = val[e];
            }
    }

    double density() {
        return rows == 0 ? 0 : (double) nnz / ((double) rows * n);
    }
}
