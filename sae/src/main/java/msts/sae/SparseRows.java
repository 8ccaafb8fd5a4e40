package msts.sae;

import java.util.Arrays;

/**
 * The non-zeros of a dense [rows, n] matrix in CSR form (by row, ascending column) and, on request, CSC form
 * (by column, ascending row): the one sparse-activation structure of msts. Two ways to fill it: {@link #build}
 * rebuilds it in place per batch (the SAE's sparse products, docs/sae.md "Sparse path"); {@link #append}
 * adds rows at the end (the evals collecting latent activations over many batches).
 */
public final class SparseRows {
    int rows, n, nnz;
    int[] start = new int[1], idx = new int[16];
    float[] val = new float[16];
    int[] colStart = new int[1], rowIdx = new int[16];
    float[] cval = new float[16];
    private int[] fill = new int[1];

    /** An empty structure; {@link #build} and {@link #count} set the width. */
    public SparseRows() {}

    /** An empty structure of width n for {@link #append}. */
    public SparseRows(int n) {
        this.n = n;
    }

    /** Builds the CSR (and, if csc, the CSC) structure of the non-zeros of a[0 .. rows·n). */
    public void build(float[] a, int rows, int n, boolean csc) {
        count(a, rows, n);
        gather(a, csc);
    }

    /** First half of {@link #build}: row counts and offsets; returns the number of non-zeros. */
    public int count(float[] a, int rows, int n) {
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
    public void gather(float[] a, boolean csc) {
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

    /** Appends the non-zeros of the rows of a [nRows, n] after the existing rows (CSR only). */
    public void append(float[] a, int nRows) {
        if (start.length < rows + nRows + 1) start = Arrays.copyOf(start, Math.max(rows + nRows + 1, 2 * start.length));
        for (int r = 0; r < nRows; r++) {
            for (int j = 0; j < n; j++) {
                float v = a[r * n + j];
                if (v == 0f) continue;
                if (nnz == idx.length) {
                    idx = Arrays.copyOf(idx, nnz * 2);
                    val = Arrays.copyOf(val, nnz * 2);
                }
                idx[nnz] = j;
                val[nnz++] = v;
            }
            start[++rows] = nnz;
        }
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

    public int rows() { return rows; }

    /** Width (columns) of the matrix. */
    public int width() { return n; }

    public int nnz() { return nnz; }

    /** First entry of row r (CSR). */
    public int start(int r) { return start[r]; }

    /** One past the last entry of row r (CSR). */
    public int end(int r) { return start[r + 1]; }

    /** Column of CSR entry k. */
    public int index(int k) { return idx[k]; }

    /** Value of CSR entry k. */
    public float value(int k) { return val[k]; }

    public double density() {
        return rows == 0 ? 0 : (double) nnz / ((double) rows * n);
    }
}
