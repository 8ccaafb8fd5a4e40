package msts.sae;

import msts.engine.Ops;

/**
 * Standard (ReLU) SAE, SAELens "standard": f = ReLU(z·W_enc + b_enc), x̂ = f·W_dec + b_dec, with z the input
 * stage of xc = x − b_dec (the identity; the dilated convolution for architecture "temporal"). Its own loss
 * term is L1: λ · mean over counted rows of Σ_j f_j · ‖W_dec,j‖ (l1_mode decoder_norm) or Σ_j f_j (unit_norm,
 * where the trainer keeps the decoder rows at unit norm). docs/sae.md, "Loss".
 */
public class StandardSae extends AbstractSae {
    private final float[] wL1;
    private boolean useL1;

    public StandardSae(SaeConfig cfg, SaeParams params, Ops ops) {
        super(cfg, params, ops);
        wL1 = new float[n];
    }

    @Override
    protected void activate(float[] pre, float[] f, int N) {
        Par.rows(N, 16, (lo, hi) -> SaeKernels.relu(pre, f, lo * n, hi * n));
    }

    @Override
    protected void penalty(Pass c) {
        useL1 = c.in.l1() != 0f;
        if (!useL1) return;
        boolean unit = cfg.unitNorm();
        double s = 0;
        for (int j = 0; j < n; j++) {
            wL1[j] = unit ? 1f : norms[j];
            s += (double) colF[j] * wL1[j];
        }
        c.l1 = c.in.l1() * s / c.counted;
    }

    /** ∂/∂pre += λ/M · w_j on active counted entries; decoder_norm adds λ/M · (Σ_r f_rj) · W_dec,j / ‖W_dec,j‖. */
    @Override
    protected void penaltyBackward(Pass c) {
        if (!useL1) return;
        float s = c.in.l1() * c.invM;
        float[] dpre = c.dpre;
        if (c.sparse) {
            int T = c.T, ls = c.lossStart;
            Par.rows(c.N, 16, (lo, hi) -> {
                for (int r = lo; r < hi; r++) {
                    if (r % T < ls) continue;
                    for (int q = fS.start[r]; q < fS.start[r + 1]; q++) dpre[r * n + fS.idx[q]] += s * wL1[fS.idx[q]];
                }
            });
        } else {
            Par.rows(c.N, 16, (lo, hi) -> SaeKernels.addRowVectorActive(dpre, wL1, s, f, n, c.T, c.lossStart, lo, hi));
        }
        if (!cfg.unitNorm())
            Par.rows(n, 64, (lo, hi) -> SaeKernels.addScaledRowsByNorm(c.grad.W_dec, c.p.W_dec, colF, norms, s, d, lo, hi));
    }
}
