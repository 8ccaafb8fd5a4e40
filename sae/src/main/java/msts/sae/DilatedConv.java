package msts.sae;

/**
 * The temporal SAE's input stage (docs/sae.md): z = xc + Σ_s Σ_j conv_w[s, ·, j] ⊙ xc_{t+off(s,j)}, a
 * depth-wise convolution per dilation d_s with 3 taps (causal: t, t−d, t−2d; centred: t−d, t, t+d) that
 * never crosses a sequence boundary. Kernels: {@link SaeKernels#convForward} and its two transposes.
 */
public final class DilatedConv implements InputStage {
    private final int[] dilations;
    private final boolean centred;

    public DilatedConv(int[] dilations, ConvMode mode) {
        this.dilations = dilations.clone();
        this.centred = mode == ConvMode.CENTRED;
    }

    @Override public int nScales() { return dilations.length; }

    @Override
    public float[] forward(SaeParams p, float[] xc, int N, int T, float[] z) {
        int d = p.dIn;
        Par.rows(N, 16, (lo, hi) -> SaeKernels.convForward(xc, p.conv_w, dilations, centred, T, d, z, lo, hi));
        return z;
    }

    @Override public boolean needsDz() { return true; }

    /** dxc = convᵀ(dz); ∂L/∂conv_w from dz and xc; ∂L/∂b_dec −= Σ_r dxc_r. */
    @Override
    public void backward(SaeParams p, float[] xc, float[] dz, float[] dxc, int N, int T, SaeParams grad) {
        int d = p.dIn, chunk = Math.max(16, d / (Par.THREADS * 4));
        Par.rows(N, 16, (lo, hi) -> SaeKernels.convBackwardInput(dz, p.conv_w, dilations, centred, T, d, dxc, lo, hi));
        Par.forRange(0, d, chunk, (lo, hi) -> SaeKernels.convBackwardWeights(dz, xc, dilations, centred, N, T, d, grad.conv_w, lo, hi));
        Par.forRange(0, d, chunk, (lo, hi) -> SaeKernels.addColumnSums(dxc, N, d, -1f, grad.b_dec, lo, hi));
    }
}
