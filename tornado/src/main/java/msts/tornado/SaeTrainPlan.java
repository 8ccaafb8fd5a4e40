package msts.tornado;

import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.TornadoExecutionResult;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;

/**
 * One SAE training step (forward, loss terms, gradients, Adam) as a single TornadoVM task graph:
 * parameters, gradients and Adam moments are transferred once ({@code FIRST_EXECUTION}) and stay on the
 * device; each step sends the batch and five hyper-parameters and brings back three metrics
 * (sum of squared errors, L1 sum, number of active latents). Parameters come back only on {@link #syncParams()}.
 *
 * <p>Variants: the ReLU baseline (L1 on f·‖W_dec‖, or on f with unit-norm decoders) and the temporal SAE
 * (the depth-wise dilated convolution in front of the encoder, gradients through it). The math is that
 * of {@code msts.sae.SaeLoss#compute} followed by {@code SaeKernels.adam} on every parameter, for the
 * "relu" activation with the exact ("all" pairs) separation loss when its weight is non-zero, then the
 * update of {@code msts.sae.CpuTrainStep}: unit-norm projection of the decoder gradient, gradient-norm
 * clipping (when clipNorm &gt; 0), Adam, decoder renormalisation (unit_norm mode only).
 *
 * <p>TopK / BatchTopK ({@link Act}): the selection kernels ({@link TopKKernelsGpu}) replace ReLU, there is no L1
 * term, and {@code msts.sae.AuxK} runs on the device: per step the host sends the dead-latent mask (from the
 * trainer's firing tracker), k_aux = min(k_aux, n_dead) and 2·c·min(n_dead/k_aux, 1)/M; the dead latents' k_aux
 * largest raw pre-activations per row ({@link TopKKernelsGpu#topkDeadRows}) are decoded against the residual
 * x − x̂, and their gradient flows into b_dec, W_dec and the selected pre-activations, in the order of
 * {@code AbstractSae.loss} (after the MSE gradient is masked to the active latents, before the encoder's).
 * BatchTopK also returns the smallest positive f of the counted rows (its inference threshold's statistic).
 */
public final class SaeTrainPlan implements AutoCloseable {
    /** The activation of the plan: ReLU (with L1), TopK per row or BatchTopK over the batch (both with AuxK). */
    public enum Act { RELU, TOPK, BATCHTOPK }

    /**
     * Shapes and fixed settings of the plan. dilations empty = baseline (no convolution). act TOPK / BATCHTOPK:
     * k latents per row (BatchTopK: K = ⌊k·counted⌋ of the batch), AuxK with coefficient auxCoef and
     * k_aux = kAux (the effective value, {@code SaeConfig.kAuxEffective}); no L1 term.
     */
    public record Spec(int dIn, int dSae, int nSeq, int T, int lossStart, int[] dilations, boolean centred,
                       boolean unitNorm, float beta1, float beta2, float eps, float sepWeight, float sepMargin,
                       float clipNorm, Act act, int k, float auxCoef, int kAux) {
        /** Without separation loss and without clipping (ReLU). */
        public Spec(int dIn, int dSae, int nSeq, int T, int lossStart, int[] dilations, boolean centred,
                    boolean unitNorm, float beta1, float beta2, float eps) {
            this(dIn, dSae, nSeq, T, lossStart, dilations, centred, unitNorm, beta1, beta2, eps, 0f, 0f, 0f);
        }

        /** ReLU. */
        public Spec(int dIn, int dSae, int nSeq, int T, int lossStart, int[] dilations, boolean centred,
                    boolean unitNorm, float beta1, float beta2, float eps, float sepWeight, float sepMargin,
                    float clipNorm) {
            this(dIn, dSae, nSeq, T, lossStart, dilations, centred, unitNorm, beta1, beta2, eps, sepWeight, sepMargin,
                    clipNorm, Act.RELU, 0, 0f, 0);
        }

        /** TopK or BatchTopK: the selection and AuxK instead of ReLU and L1. */
        public boolean topk() { return act != Act.RELU; }

        /** BatchTopK's K = ⌊k·counted⌋ ({@code ThresholdKernels.batchK}). */
        public int batchK() { return msts.sae.ThresholdKernels.batchK(k, counted()); }

        /** The exact ("all" pairs) separation loss is on, and has pairs. */
        public boolean separation() { return sepWeight != 0f && dSae >= 2; }

        public int rows() { return nSeq * T; }
        public boolean temporal() { return dilations.length > 0; }
        public int counted() { return nSeq * (T - lossStart); }
    }

    /**
     * Metrics of one step: mse = sse / counted, l1 = λ·Σ_j colF_j·wL1_j / counted, l0 = active / counted,
     * sep = w·Σ_{i≠j} φ(cos_ij) / (n(n−1)) (0 when off), gradNorm = ‖g‖ before clipping (NaN when clipping is off),
     * aux = the AuxK loss (TopK/BatchTopK; 0 otherwise), minPositive = the smallest positive f of the counted rows
     * (BatchTopK's threshold statistic; +∞ when none or not BatchTopK).
     */
    public record Metrics(double mse, double l1, double l0, double sep, double gradNorm, double loss, double aux,
                          float minPositive) {}

    /** Work-groups per gradient array in the squared-norm reduction of clipping. */
    static final int NORM_GROUPS = 256;

    public static final String GRAPH = "saeStep";
    private static final int EVERY = DataTransferMode.EVERY_EXECUTION;
    private static final int FIRST = DataTransferMode.FIRST_EXECUTION;
    private static final int UNDER_DEMAND = DataTransferMode.UNDER_DEMAND;

    private final Spec spec;
    public final FloatArray W_enc, b_enc, W_dec, b_dec, conv_w;
    private final FloatArray x, hyper, metrics, fire, deadMask, f, sel;
    private final FloatArray[] m, v;
    private final TornadoExecutionPlan plan;
    private TornadoExecutionResult last;
    private long step;

    /**
     * Builds the graph around copies of the initial parameters (W_enc [d, n], b_enc [n], W_dec [n, d],
     * b_dec [d], conv_w [S, d, 3] or empty), on {@code device} (null = default device).
     */
    public SaeTrainPlan(Spec s, float[] wEnc, float[] bEnc, float[] wDec, float[] bDec, float[] convW,
                        TornadoDevice device) {
        this(s, new float[][]{wEnc, bEnc, wDec, bDec, convW}, null, null, 0, device);
    }

    /**
     * Builds the graph around copies of the parameters {W_enc, b_enc, W_dec, b_dec, conv_w} and, when resuming,
     * the Adam moments m0, v0 (same layout, null = zeros) after {@code stepsDone} steps (Adam's bias correction
     * continues from there).
     */
    public SaeTrainPlan(Spec s, float[][] params0, float[][] m0, float[][] v0, long stepsDone, TornadoDevice device) {
        this(s, params0, m0, v0, stepsDone, device, !Grids.threadPerOutput(device, TornadoOptions.Matmul.AUTO));
    }

    /**
     * As above, with the kernel shapes chosen by the caller: {@code tiled} = the GPU shapes ({@link SaeKernelsGpu#gemmTiled},
     * BatchTopK over many work-groups {@link TopKKernelsGpu#batchTopKTasks}), else the plain-loop gemm
     * {@link SaeKernelsGpu#gemm} and the one-group {@link TopKKernelsGpu#batchTopK} (CPU OpenCL devices);
     * see {@link Grids#threadPerOutput}.
     */
    public SaeTrainPlan(Spec s, float[][] params0, float[][] m0, float[][] v0, long stepsDone, TornadoDevice device,
                        boolean tiled) {
        this.spec = s;
        this.step = stepsDone;
        float[] wEnc = params0[0], bEnc = params0[1], wDec = params0[2], bDec = params0[3], convW = params0[4];
        int d = s.dIn(), n = s.dSae(), N = s.rows(), S = s.dilations().length;
        W_enc = FloatArray.fromArray(wEnc);
        b_enc = FloatArray.fromArray(bEnc);
        W_dec = FloatArray.fromArray(wDec);
        b_dec = FloatArray.fromArray(bDec);
        conv_w = s.temporal() ? FloatArray.fromArray(convW) : new FloatArray(1);
        FloatArray gW_enc = new FloatArray(d * n), gb_enc = new FloatArray(n), gW_dec = new FloatArray(n * d),
                gb_dec = new FloatArray(d), gconv = new FloatArray(Math.max(1, S * d * 3));
        FloatArray[] params = {W_enc, b_enc, W_dec, b_dec, conv_w};
        FloatArray[] grads = {gW_enc, gb_enc, gW_dec, gb_dec, gconv};
        m = new FloatArray[5];
        v = new FloatArray[5];
        for (int i = 0; i < 5; i++) {
            boolean given = i < 4 || s.temporal();
            m[i] = m0 != null && given ? FloatArray.fromArray(m0[i]) : new FloatArray(params[i].getSize());
            v[i] = v0 != null && given ? FloatArray.fromArray(v0[i]) : new FloatArray(params[i].getSize());
        }
        x = new FloatArray(N * d);
        fire = new FloatArray(n);
        hyper = new FloatArray(7); // lr, bias corrections 1 and 2, λ/M, 2/M, k_aux (AuxK), 2·c_aux/M
        // sse, L1 sum, active count, Σφ (separation), Σg² (clipping), AuxK Σ‖ê − r‖², min positive f, BatchTopK kept
        metrics = new FloatArray(8);
        deadMask = new FloatArray(n);
        boolean topk = s.topk();
        IntArray dil = IntArray.fromArray(S > 0 ? s.dilations() : new int[]{1});
        FloatArray xc = new FloatArray(N * d), z = s.temporal() ? new FloatArray(N * d) : xc;
        f = new FloatArray(N * n);
        FloatArray pre = new FloatArray(N * n), xhat = new FloatArray(N * d),
                e = new FloatArray(N * d), rowSq = new FloatArray(N), colF = new FloatArray(n),
                norms = new FloatArray(n), wL1 = new FloatArray(n), l1part = new FloatArray(n), df = new FloatArray(N * n);
        FloatArray dz = s.temporal() ? new FloatArray(N * d) : new FloatArray(1);
        FloatArray dxc = s.temporal() ? new FloatArray(N * d) : new FloatArray(1);
        int T = s.T(), ls = s.lossStart(), centred = s.centred() ? 1 : 0;

        GridScheduler grid = new GridScheduler();
        int np = s.temporal() ? 5 : 4; // parameter tensors in use
        TaskGraph g = new TaskGraph(GRAPH).transferToDevice(EVERY, x, hyper);
        if (topk) g.transferToDevice(EVERY, deadMask);
        for (int i = 0; i < np; i++) g.transferToDevice(FIRST, params[i], grads[i], m[i], v[i]);
        g.transferToDevice(FIRST, xc, pre, f, xhat, e, rowSq, colF, fire, norms, wL1, l1part, df, metrics);
        if (s.temporal()) g.transferToDevice(FIRST, dil, z, dz, dxc);
        FloatArray u = null, gram = null, sepRow = null, du = null, sq = null;
        if (s.separation()) {
            u = new FloatArray(n * d);
            gram = new FloatArray(n * n);
            sepRow = new FloatArray(n);
            du = new FloatArray(n * d);
            g.transferToDevice(FIRST, u, gram, sepRow, du);
        }
        if (s.clipNorm() > 0) {
            sq = new FloatArray(np * NORM_GROUPS);
            g.transferToDevice(FIRST, sq);
        }
        FloatArray aux = null, auxHat = null, auxRowSq = null, dAux = null;
        if (topk) {
            aux = new FloatArray(N * n);
            sel = new FloatArray(N * n);
            auxHat = new FloatArray(N * d);
            auxRowSq = new FloatArray(N);
            dAux = new FloatArray(N * n);
            g.transferToDevice(FIRST, aux, sel, auxHat, auxRowSq, dAux);
        } else {
            sel = null;
        }
        // ---- forward ----
        g.task("sub", SaeKernelsGpu::subRowVector, x, b_dec, xc, N, d);
        if (s.temporal()) g.task("conv", SaeKernelsGpu::convForward, xc, conv_w, dil, S, centred, T, d, z, N);
        gemm(g, grid, tiled, "enc", 0, 0, N, n, d, z, d, W_enc, n, pre, n);
        switch (s.act()) {
            case RELU -> g.task("encBiasRelu", SaeKernelsGpu::addRowVectorRelu, pre, b_enc, f, N, n);
            case TOPK -> reduce(g.task("encBias", SaeKernelsGpu::addRowVector, pre, b_enc, N, n), grid, "topk", N)
                    .task("topk", TopKKernelsGpu::topkRows, new KernelContext(), pre, f, n, s.k());
            case BATCHTOPK -> { // GPUs: the multi-group selection; CPU devices: one work-group (fewer launches, same result)
                g.task("encBias", SaeKernelsGpu::addRowVector, pre, b_enc, N, n);
                if (tiled)
                    TopKKernelsGpu.batchTopKTasks(g, grid, GRAPH, "batchTopK", pre, f, N, n, T, ls, s.batchK(), metrics, 7,
                            TopKKernelsGpu.batchTopKGroups(N * n));
                else
                    reduce(g, grid, "batchTopK", 1).task("batchTopK", TopKKernelsGpu::batchTopK, new KernelContext(), pre, f, N, n,
                            T, ls, s.batchK(), metrics, 7);
            }
        }
        gemm(g, grid, tiled, "dec", 0, 0, N, d, n, f, n, W_dec, d, xhat, d)
                .task("decBias", SaeKernelsGpu::addRowVector, xhat, b_dec, N, d);
        reduce(g, grid, "err", N).task("err", SaeKernelsGpu::diffRowSq, new KernelContext(), xhat, x, e, rowSq, d, T, ls);
        reduce(g, grid, "sse", 1).task("sse", SaeKernelsGpu::sumTo, new KernelContext(), rowSq, N, metrics, 0);
        reduce(g, grid, "colF", n).task("colF", SaeKernelsGpu::columnSums, new KernelContext(), f, N, n, T, ls, 1f, 0, 0, colF);
        reduce(g, grid, "fire", n).task("fire", SaeKernelsGpu::columnSums, new KernelContext(), f, N, n, T, ls, 1f, 0, 1, fire);
        reduce(g, grid, "l0", 1).task("l0", SaeKernelsGpu::sumTo, new KernelContext(), fire, n, metrics, 2);
        reduce(g, grid, "norms", n).task("norms", SaeKernelsGpu::rowNorms, new KernelContext(), W_dec, d, norms);
        if (!topk) {
            g.task("l1w", SaeKernelsGpu::l1Weights, norms, colF, s.unitNorm() ? 1 : 0, wL1, l1part, n);
            reduce(g, grid, "l1", 1).task("l1", SaeKernelsGpu::sumTo, new KernelContext(), l1part, n, metrics, 1);
        } else { // AuxK: the dead latents' k_aux largest pre-activations fit the residual x − x̂ (msts.sae.AuxK)
            reduce(g, grid, "auxSel", N).task("auxSel", TopKKernelsGpu::topkDeadRows, new KernelContext(), pre, deadMask, hyper, 5, aux, sel, n);
            gemm(g, grid, tiled, "auxDec", 0, 0, N, d, n, aux, n, W_dec, d, auxHat, d)
                    .task("auxBias", SaeKernelsGpu::addRowVector, auxHat, b_dec, N, d);
            reduce(g, grid, "auxErr", N).task("auxErr", SaeKernelsGpu::addRowSq, new KernelContext(), auxHat, e, auxRowSq, d, T, ls);
            reduce(g, grid, "auxSum", 1).task("auxSum", SaeKernelsGpu::sumTo, new KernelContext(), auxRowSq, N, metrics, 5);
            if (s.act() == Act.BATCHTOPK)
                reduce(g, grid, "minPos", 1).task("minPos", SaeKernelsGpu::minPositive, new KernelContext(), f, N, n, T, ls, metrics, 6);
        }
        if (s.separation()) { // L_sep on U = W_dec/‖W_dec‖ through the Gram matrix (SeparationLoss, form "all")
            float sepScale = (float) (s.sepWeight() / ((double) n * (n - 1)));
            g.task("sepUnit", SaeKernelsGpu::unitRows, W_dec, norms, u, n, d);
            gemm(g, grid, tiled, "sepGram", 0, 1, n, n, d, u, d, u, d, 0f, gram, n);
            reduce(g, grid, "sepPhi", n).task("sepPhi", SaeKernelsGpu::sepGram, new KernelContext(), gram, n, s.sepMargin(), sepScale, sepRow);
            reduce(g, grid, "sepSum", 1).task("sepSum", SaeKernelsGpu::sumTo, new KernelContext(), sepRow, n, metrics, 3);
        }
        // ---- backward (the order of SaeLoss.compute) ----
        g.task("dxhat", SaeKernelsGpu::scaleMaskRows, e, hyper, 4, N, d, T, ls);
        gemm(g, grid, tiled, "gWdec", 1, 0, n, d, N, f, n, e, d, gW_dec, d);
        reduce(g, grid, "gbdec", d).task("gbdec", SaeKernelsGpu::columnSums, new KernelContext(), e, N, d, T, 0, 1f, 0, 0, gb_dec);
        gemm(g, grid, tiled, "df", 0, 1, N, n, d, e, d, W_dec, d, df, n);
        if (!topk) {
            g.task("l1df", SaeKernelsGpu::addRowVectorActive, df, wL1, hyper, 3, f, N, n, T, ls);
            if (!s.unitNorm())
                g.task("l1W", SaeKernelsGpu::addScaledRowsByNorm, gW_dec, W_dec, colF, norms, hyper, 3, n, d);
        }
        g.task("mask", SaeKernelsGpu::maskByActive, df, f, N * n);
        if (topk) { // AuxK backward (AuxK.backward): δ_aux = 2·c/M·(ê − r) on counted rows into b_dec, W_dec, pre
            g.task("auxScale", SaeKernelsGpu::scaleMaskRows, auxHat, hyper, 6, N, d, T, ls);
            reduce(g, grid, "auxGbdec", d).task("auxGbdec", SaeKernelsGpu::columnSums, new KernelContext(), auxHat, N, d, T, 0, 1f, 1, 0, gb_dec);
            gemm(g, grid, tiled, "auxGWdec", 1, 0, n, d, N, aux, n, auxHat, d, 1f, gW_dec, d);
            gemm(g, grid, tiled, "auxDf", 0, 1, N, n, d, auxHat, d, W_dec, d, dAux, n)
                    .task("auxAdd", SaeKernelsGpu::addSelected, df, dAux, sel, N * n);
        }
        reduce(g, grid, "gbenc", n).task("gbenc", SaeKernelsGpu::columnSums, new KernelContext(), df, N, n, T, 0, 1f, 0, 0, gb_enc);
        gemm(g, grid, tiled, "gWenc", 1, 0, d, n, N, z, d, df, n, gW_enc, n);
        if (s.temporal()) {
            gemm(g, grid, tiled, "dz", 0, 1, N, d, n, df, n, W_enc, n, dz, d)
                    .task("convBx", SaeKernelsGpu::convBackwardInput, dz, conv_w, dil, S, centred, T, d, dxc, N);
            reduce(g, grid, "convBw", S * d * 3)
                    .task("convBw", SaeKernelsGpu::convBackwardWeights, new KernelContext(), dz, xc, dil, centred, N, T, d, gconv);
            reduce(g, grid, "gbdec2", d)
                    .task("gbdec2", SaeKernelsGpu::columnSums, new KernelContext(), dxc, N, d, T, 0, -1f, 1, 0, gb_dec);
        } else {
            reduce(g, grid, "gbdec2", d)
                    .task("gbdec2", SaeKernelsGpu::addMatVec, new KernelContext(), W_enc, gb_enc, n, -1f, gb_dec);
        }
        if (s.separation()) { // dU = G'·U + G'ᵀ·U, then dW_dec += the gradient through U = W/‖W‖
            gemm(g, grid, tiled, "sepDu1", 0, 0, n, d, n, gram, n, u, d, 0f, du, d);
            gemm(g, grid, tiled, "sepDu2", 1, 0, n, d, n, gram, n, u, d, 1f, du, d);
            reduce(g, grid, "sepBack", n).task("sepBack", SaeKernelsGpu::backUnitRows, new KernelContext(), du, u, norms, gW_dec, d);
        }
        // ---- the trainer's update (CpuTrainStep): unit-norm projection, clipping, Adam, renormalisation ----
        if (s.unitNorm())
            reduce(g, grid, "project", n).task("project", SaeKernelsGpu::projectOutParallel, new KernelContext(), gW_dec, W_dec, d);
        String[] names = {"W_enc", "b_enc", "W_dec", "b_dec", "conv_w"};
        if (s.clipNorm() > 0) { // ‖g‖² over all gradients (NORM_GROUPS partials per array), then g *= min(1, c/‖g‖)
            for (int i = 0; i < np; i++)
                reduce(g, grid, "sq_" + names[i], NORM_GROUPS).task("sq_" + names[i], SaeKernelsGpu::sumSqGroups,
                        new KernelContext(), grads[i], grads[i].getSize(), NORM_GROUPS, sq, i * NORM_GROUPS);
            reduce(g, grid, "gradSq", 1).task("gradSq", SaeKernelsGpu::sumTo, new KernelContext(), sq, np * NORM_GROUPS, metrics, 4);
            for (int i = 0; i < np; i++)
                g.task("clip_" + names[i], SaeKernelsGpu::clipScale, grads[i], metrics, 4, s.clipNorm(), grads[i].getSize());
        }
        for (int i = 0; i < np; i++)
            g.task("adam_" + names[i], SaeKernelsGpu::adam, params[i], grads[i], m[i], v[i], hyper,
                    s.beta1(), s.beta2(), s.eps(), params[i].getSize());
        if (s.unitNorm())
            reduce(g, grid, "renorm", n).task("renorm", SaeKernelsGpu::normalizeRows, new KernelContext(), W_dec, d);
        g.transferToHost(EVERY, metrics, fire);
        g.transferToHost(UNDER_DEMAND, f);
        if (topk) g.transferToHost(UNDER_DEMAND, sel);
        if (s.temporal()) g.transferToHost(UNDER_DEMAND, W_enc, b_enc, W_dec, b_dec, conv_w);
        else g.transferToHost(UNDER_DEMAND, W_enc, b_enc, W_dec, b_dec);
        for (int i = 0; i < np; i++) g.transferToHost(UNDER_DEMAND, m[i], v[i]);
        ImmutableTaskGraph itg = g.snapshot();
        plan = new TornadoExecutionPlan(itg);
        plan.withGridScheduler(grid);
        if (device != null) plan.withDevice(device);
    }

    /** C = op(A)·op(B) (α = 1, β = 0) as task {@code name}: {@link SaeKernelsGpu#gemmTiled} or the plain loop. */
    private static TaskGraph gemm(TaskGraph g, GridScheduler grid, boolean tiled, String name, int ta, int tb, int m,
                                  int n, int k, FloatArray a, int lda, FloatArray b, int ldb, FloatArray c, int ldc) {
        return gemm(g, grid, tiled, name, ta, tb, m, n, k, a, lda, b, ldb, 0f, c, ldc);
    }

    /** C = op(A)·op(B) + β·C as task {@code name}. */
    private static TaskGraph gemm(TaskGraph g, GridScheduler grid, boolean tiled, String name, int ta, int tb, int m,
                                  int n, int k, FloatArray a, int lda, FloatArray b, int ldb, float beta, FloatArray c, int ldc) {
        if (!tiled) return g.task(name, SaeKernelsGpu::gemm, ta, tb, m, n, k, 1f, a, lda, b, ldb, beta, c, ldc);
        Grids.tiles(grid, GRAPH, name, m, n);
        return g.task(name, SaeKernelsGpu::gemmTiled, new KernelContext(), ta, tb, m, n, k, 1f, a, lda, b, ldb, beta, c, ldc);
    }

    private static TaskGraph reduce(TaskGraph g, GridScheduler grid, String task, int groups) {
        Grids.groupPerItem(grid, GRAPH, task, groups);
        return g;
    }

    public Spec spec() { return spec; }

    /** Per latent, the counted rows where it was active in the last step. */
    public int[] fireCounts() {
        int[] out = new int[fire.getSize()];
        for (int j = 0; j < out.length; j++) out[j] = Math.round(fire.get(j));
        return out;
    }

    /** Brings the Adam moments back and returns them as {m, v}, each {W_enc, b_enc, W_dec, b_dec, conv_w}. */
    public float[][][] syncMoments() {
        int np = spec.temporal() ? 5 : 4;
        if (last != null)
            for (int i = 0; i < np; i++) last.transferToHost(m[i], v[i]);
        float[][][] out = new float[2][5][];
        for (int i = 0; i < 5; i++) {
            out[0][i] = m[i].toHeapArray();
            out[1][i] = v[i].toHeapArray();
        }
        return out;
    }

    /**
     * Runs one step on batch x [nSeq·T, d] with learning rate lr and L1 coefficient l1, and returns the
     * metrics. Step numbers (for Adam's bias correction) count from 1.
     */
    public Metrics step(float[] batch, float lr, float l1) {
        return step(batch, lr, l1, null);
    }

    /**
     * As {@link #step(float[], float, float)}, with AuxK's dead-latent mask (TopK/BatchTopK; null = none dead):
     * k_aux = min(kAux, n_dead), scale c·min(n_dead/kAux, 1) as {@code msts.sae.AuxK}; no AuxK when no latent
     * is dead or c = 0. The L1 coefficient is ignored for TopK/BatchTopK.
     */
    public Metrics step(float[] batch, float lr, float l1, boolean[] dead) {
        if (batch.length != x.getSize())
            throw new IllegalArgumentException("batch has " + batch.length + " floats, plan expects " + x.getSize());
        step++;
        int M = spec.counted();
        x.getSegment().copyFrom(java.lang.foreign.MemorySegment.ofArray(batch));
        hyper.set(0, lr);
        hyper.set(1, (float) (1 - Math.pow(spec.beta1(), step)));
        hyper.set(2, (float) (1 - Math.pow(spec.beta2(), step)));
        hyper.set(3, l1 / M);
        hyper.set(4, 2f / M);
        int n = spec.dSae();
        float auxScale = 0f;
        if (spec.topk()) {
            int nDead = 0;
            if (dead != null) for (int j = 0; j < n; j++) {
                boolean b = dead[j];
                deadMask.set(j, b ? 1f : 0f);
                nDead += b ? 1 : 0;
            }
            else deadMask.init(0f);
            boolean used = nDead > 0 && spec.auxCoef() != 0f;
            auxScale = used ? spec.auxCoef() * Math.min((float) nDead / spec.kAux(), 1f) : 0f;
            hyper.set(5, used ? Math.min(spec.kAux(), nDead) : 0);
            hyper.set(6, 2f * auxScale * (1f / M));
        }
        last = plan.execute();
        double mse = metrics.get(0) / M, l0 = metrics.get(2) / (double) M;
        double l1v = spec.topk() ? 0 : l1 * (double) metrics.get(1) / M;
        double aux = spec.topk() ? auxScale * (double) metrics.get(5) / M : 0;
        float minPos = Float.POSITIVE_INFINITY;
        if (spec.act() == Act.BATCHTOPK && metrics.get(6) > 0f) minPos = metrics.get(6);
        double sep = spec.separation() ? spec.sepWeight() * (double) metrics.get(3) / ((double) n * (n - 1)) : 0;
        double gn = spec.clipNorm() > 0 ? Math.sqrt(metrics.get(4)) : Double.NaN;
        return new Metrics(mse, l1v, l0, sep, gn, mse + l1v + aux + sep, aux, minPos);
    }

    /** The activations f [rows, d_sae] of the last step (brought back from the device; tests). */
    public float[] features() {
        if (last != null) last.transferToHost(f);
        return f.toHeapArray();
    }

    /** AuxK's selection of the last step [rows, d_sae], 1 where selected (TopK/BatchTopK only; tests). */
    public float[] auxSelection() {
        if (sel == null) throw new IllegalStateException("no AuxK in a " + spec.act() + " plan");
        if (last != null) last.transferToHost(sel);
        return sel.toHeapArray();
    }

    /** Copies the device parameters back into the host arrays {@link #W_enc} … {@link #conv_w}. */
    public void syncParams() {
        if (last == null) return;
        if (spec.temporal()) last.transferToHost(W_enc, b_enc, W_dec, b_dec, conv_w);
        else last.transferToHost(W_enc, b_enc, W_dec, b_dec);
    }

    @Override
    public void close() {
        try {
            plan.freeDeviceMemory();
            plan.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the TornadoVM plan failed", e);
        }
    }
}
