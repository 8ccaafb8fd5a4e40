package msts.tornado;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import msts.engine.DType;
import msts.engine.Kernels;
import msts.engine.Tensor;
import msts.model.gemma.Gemma2Config;
import msts.model.gemma.Gemma2Weights;
import msts.model.gemma.SaeSplice;
import uk.ac.manchester.tornado.api.types.arrays.IntArray;
import uk.ac.manchester.tornado.api.GridScheduler;
import uk.ac.manchester.tornado.api.ImmutableTaskGraph;
import uk.ac.manchester.tornado.api.KernelContext;
import uk.ac.manchester.tornado.api.TaskGraph;
import uk.ac.manchester.tornado.api.TornadoExecutionPlan;
import uk.ac.manchester.tornado.api.common.TornadoDevice;
import uk.ac.manchester.tornado.api.enums.DataTransferMode;
import uk.ac.manchester.tornado.api.types.arrays.FloatArray;
import uk.ac.manchester.tornado.api.types.arrays.ShortArray;
import uk.ac.manchester.tornado.api.types.arrays.TornadoNativeArray;

/**
 * The Gemma-2 forward pass as TornadoVM task graphs: one graph per transformer layer (plus an optional
 * final-norm/logits graph) inside a single {@link TornadoExecutionPlan}. Weights are transferred once
 * ({@code FIRST_EXECUTION}); the residual stream and the scratch activations stay on the device between
 * graphs ({@code persistOnDevice} / {@code consumeFromDevice}); per call only the embedded tokens go in and
 * the captured residuals / logits come out. The same sequence of ops as {@code msts.model.gemma.Gemma2#forward}
 * (docs/gemma2.md), each op a {@link LayerKernels} kernel. All launch geometry: {@link #grids}.
 *
 * <p>The plan reads the model's own {@link Gemma2Config} and {@link Gemma2Weights} (no mirror of them):
 * attention biases (config.attention_bias) and the exact erf GELU (hidden_activation "gelu") run as their own
 * kernels ({@link LayerKernels#addBias}, {@link LayerKernels#gegluErf}).
 *
 * <p>A plan is built for a fixed batch shape: nSeq sequences of T tokens (rows N = nSeq·T).
 * BF16 weights stay BF16 on the device (ShortArray, widened in the kernel); F16 weights are widened to F32
 * at load (PoCL and many OpenCL devices have no fp16).
 *
 * <p>An optional SAE splice ({@link Splice}, the device form of {@link SaeSplice}) runs inside the graph of its
 * layer, after the layer's last add and before captures and the next layer (where {@code Gemma2} calls its hook):
 * encode (x − b_dec, the temporal convolution, W_enc, b_enc and the activation), decode, then the splice's
 * mode. Its SAE arrays are copied once; the per-call part (REPLACE: the row mask; CLAMP: the selected latents and
 * the multiplier) goes in with each call ({@link #forward(float[], float[], float[], float)}).
 */
public final class Gemma2Plan implements AutoCloseable {

    private static final int EVERY = DataTransferMode.EVERY_EXECUTION;
    private static final int FIRST = DataTransferMode.FIRST_EXECUTION;

    private final Gemma2Config config;
    private final int nSeq, T, lastLayer;
    private final FloatArray x, residOut;
    private final FloatArray[] captures;
    private final int[] captureLayers;
    private final FloatArray logits;
    private final TornadoExecutionPlan plan;
    private final GridScheduler grids = new GridScheduler();
    private final int graphCount;
    private final boolean threads;
    /** The splice's per-call inputs (null without a splice): rows to replace [N]; selected latents [n]; multiplier [1]. */
    private final FloatArray spliceRows, spliceFeatures, spliceMult;
    private final Splice splice;

    /** An SAE splice compiled into the plan: the SAE and the mode at {@code layer} (per-call inputs: {@link #forward}). */
    public record Splice(int layer, SaeSplice.Encoder sae, SaeSplice.Mode mode) {}

    /**
     * @param config        the model's hyper-parameters
     * @param weights       the model's weights (mmap'd or heap); the embedding table stays on the host
     * @param withLogits    also compute the soft-capped logits of every position (needs the whole model)
     * @param lastLayer     run layers 0..lastLayer
     * @param captureLayers layers whose resid_post is copied out each call (may be empty)
     * @param device        target device, null = TornadoVM's default
     */
    public Gemma2Plan(Gemma2Config config, Gemma2Weights weights, boolean withLogits, int nSeq, int T,
                      int lastLayer, int[] captureLayers, TornadoDevice device) {
        this(config, weights, withLogits, nSeq, T, lastLayer, captureLayers, device, TornadoOptions.Matmul.AUTO);
    }

    /** @param matmul the matmul kernel shape (tornado backend option {@code matmul}; AUTO = by device type) */
    public Gemma2Plan(Gemma2Config config, Gemma2Weights weights, boolean withLogits, int nSeq, int T,
                      int lastLayer, int[] captureLayers, TornadoDevice device, TornadoOptions.Matmul matmul) {
        this(config, weights, withLogits, nSeq, T, lastLayer, captureLayers, device, matmul, null);
    }

    /** @param splice an SAE splice at a layer ≤ lastLayer, or null */
    public Gemma2Plan(Gemma2Config config, Gemma2Weights weights, boolean withLogits, int nSeq, int T,
                      int lastLayer, int[] captureLayers, TornadoDevice device, TornadoOptions.Matmul matmul,
                      Splice splice) {
        int L = config.numHiddenLayers();
        if (lastLayer < 0 || lastLayer >= L)
            throw new IllegalArgumentException("lastLayer " + lastLayer + " outside 0.." + (L - 1));
        if (withLogits && lastLayer != L - 1)
            throw new IllegalArgumentException("logits need the whole model");
        if (splice != null && (splice.layer() < 0 || splice.layer() > lastLayer))
            throw new IllegalArgumentException("splice layer " + splice.layer() + " outside 0.." + lastLayer);
        if (splice != null && splice.sae().dIn() != config.hiddenSize())
            throw new IllegalArgumentException("the SAE's d_in " + splice.sae().dIn() + " is not the hidden size " + config.hiddenSize());
        this.splice = splice;
        int nS = splice == null ? 0 : splice.sae().dSae();
        boolean replace = splice != null && splice.mode() == SaeSplice.Mode.REPLACE;
        spliceRows = replace ? new FloatArray(nSeq * T) : null;
        spliceFeatures = splice != null && !replace ? new FloatArray(nS) : null;
        spliceMult = splice != null && !replace ? new FloatArray(1) : null;
        this.config = config;
        this.nSeq = nSeq;
        this.T = T;
        this.lastLayer = lastLayer;
        this.captureLayers = captureLayers.clone();
        this.threads = Grids.threadPerOutput(device, matmul);
        int H = config.hiddenSize(), I = config.intermediateSize(), Q = config.qDim(), KV = config.kvDim(), N = nSeq * T;
        int heads = config.numAttentionHeads(), kvHeads = config.numKeyValueHeads(), hd = config.headDim();
        boolean geluTanh = config.geluTanh();
        x = new FloatArray(N * H);
        residOut = new FloatArray(N * H);
        FloatArray xn = new FloatArray(N * H), tmp = new FloatArray(N * H), q = new FloatArray(N * Q),
                k = new FloatArray(N * KV), v = new FloatArray(N * KV), att = new FloatArray(N * Q),
                tmp2 = new FloatArray(N * H), gate = new FloatArray(N * I), up = new FloatArray(N * I),
                act = new FloatArray(N * I);
        // no task gets the same array twice (an aliased argument never schedules in TornadoVM 5.2's graph compiler)
        float[] inv = new float[hd / 2];
        for (int i = 0; i < inv.length; i++) inv[i] = Kernels.ropeInvFreq(i, hd, config.ropeTheta());
        FloatArray invFreq = FloatArray.fromArray(inv), exp2 = LayerKernels.bf16ExponentTable();
        boolean bf16 = weights.layers()[0].qProj().dtype() == DType.BF16;
        Object[] shared = bf16 ? new Object[]{x, xn, tmp, tmp2, q, k, v, att, gate, up, act, invFreq, exp2}
                : new Object[]{x, xn, tmp, tmp2, q, k, v, att, gate, up, act, invFreq};
        captures = new FloatArray[captureLayers.length];

        List<ImmutableTaskGraph> graphs = new ArrayList<>();
        String prev = null;
        for (int l = 0; l <= lastLayer; l++) {
            String name = "layer" + l;
            Gemma2Weights.Layer w = weights.layers()[l];
            TaskGraph g = new TaskGraph(name);
            // the embedded rows go in on the first graph; later graphs consume x and the scratch from the previous one
            if (prev == null) {
                g.transferToDevice(EVERY, x);
                for (int i = 1; i < shared.length; i++) g.transferToDevice(FIRST, shared[i]);
            } else {
                g.consumeFromDevice(prev, shared);
            }
            Object lnIn = f32(w.inputLayernorm()), wq = weight(w.qProj()), wk = weight(w.kProj()), wv = weight(w.vProj()),
                    wo = weight(w.oProj()), lnPostAtt = f32(w.postAttentionLayernorm()), lnPreFf = f32(w.preFeedforwardLayernorm()),
                    wg = weight(w.gateProj()), wu = weight(w.upProj()), wd = weight(w.downProj()),
                    lnPostFf = f32(w.postFeedforwardLayernorm());
            g.transferToDevice(FIRST, lnIn, wq, wk, wv, wo, lnPostAtt, lnPreFf, wg, wu, wd, lnPostFf);
            boolean bias = w.qBias() != null;
            FloatArray bq = null, bk = null, bv = null, bo = null;
            if (bias) {
                bq = f32(w.qBias());
                bk = f32(w.kBias());
                bv = f32(w.vBias());
                bo = f32(w.oBias());
                g.transferToDevice(FIRST, bq, bk, bv, bo);
            }
            float eps = config.rmsNormEps();
            norm(g, name, "inNorm", xn, x, lnIn, N, H, eps);
            matmul(g, name, "q", q, xn, wq, exp2, N, H, Q);
            matmul(g, name, "k", k, xn, wk, exp2, N, H, KV);
            matmul(g, name, "v", v, xn, wv, exp2, N, H, KV);
            if (bias) {
                g.task("qBias", LayerKernels::addBias, q, bq, N, Q);
                g.task("kBias", LayerKernels::addBias, k, bk, N, KV);
                g.task("vBias", LayerKernels::addBias, v, bv, N, KV);
            }
            g.task("ropeQ", LayerKernels::rope, q, invFreq, N, T, heads, hd, 0);
            g.task("ropeK", LayerKernels::rope, k, invFreq, N, T, kvHeads, hd, 0);
            g.task("attn", LayerKernels::attention, att, q, k, v, nSeq, T, heads, kvHeads,
                    hd, config.attnScale(), config.attnLogitSoftcapping(), config.windowOf(l));
            matmul(g, name, "o", tmp, att, wo, exp2, N, Q, H);
            if (bias) g.task("oBias", LayerKernels::addBias, tmp, bo, N, H);
            norm(g, name, "postAttNorm", tmp2, tmp, lnPostAtt, N, H, eps);
            g.task("addAtt", LayerKernels::add, x, tmp2, N * H);
            norm(g, name, "preFfNorm", xn, x, lnPreFf, N, H, eps);
            matmul(g, name, "gate", gate, xn, wg, exp2, N, H, I);
            matmul(g, name, "up", up, xn, wu, exp2, N, H, I);
            if (geluTanh) g.task("geglu", LayerKernels::gegluTanh, act, gate, up, N * I);
            else g.task("geglu", LayerKernels::gegluErf, act, gate, up, N * I);
            matmul(g, name, "down", tmp, act, wd, exp2, N, I, H);
            norm(g, name, "postFfNorm", tmp2, tmp, lnPostFf, N, H, eps);
            g.task("addFf", LayerKernels::add, x, tmp2, N * H);
            if (splice != null && splice.layer() == l) splice(g, name, N, H);
            for (int c = 0; c < captureLayers.length; c++) {
                if (captureLayers[c] != l) continue;
                captures[c] = new FloatArray(N * H);
                g.transferToDevice(FIRST, captures[c]);
                g.task("capture" + c, LayerKernels::copy, captures[c], x, N * H);
                g.transferToHost(EVERY, captures[c]);
            }
            if (l == lastLayer) { // a consumed buffer cannot be sent back from a later graph: copy x out here
                g.transferToDevice(FIRST, residOut);
                g.task("residOut", LayerKernels::copy, residOut, x, N * H);
                g.transferToHost(EVERY, residOut);
            }
            if (l < lastLayer || withLogits) g.persistOnDevice(shared);
            graphs.add(g.snapshot());
            prev = name;
        }
        if (withLogits) {
            Tensor lmHead = weights.lmHead();
            int V = (int) lmHead.dim(0);
            this.logits = new FloatArray(N * V);
            Object fn = f32(weights.norm()), head = weight(lmHead);
            boolean headBf16 = head instanceof ShortArray;
            TaskGraph g = new TaskGraph("logits");
            if (headBf16 && bf16) g.consumeFromDevice(prev, x, xn, exp2);
            else g.consumeFromDevice(prev, x, xn);
            if (headBf16 && !bf16) g.transferToDevice(FIRST, exp2);
            g.transferToDevice(FIRST, fn, head, this.logits);
            norm(g, "logits", "finalNorm", xn, x, fn, N, H, config.rmsNormEps());
            matmul(g, "logits", "head", this.logits, xn, head, exp2, N, H, V);
            float cap = config.finalLogitSoftcapping();
            if (cap > 0) g.task("cap", LayerKernels::softcap, this.logits, N * V, cap);
            g.transferToHost(EVERY, this.logits);
            graphs.add(g.snapshot());
        } else {
            this.logits = null;
        }
        graphCount = graphs.size();
        plan = new TornadoExecutionPlan(graphs.toArray(ImmutableTaskGraph[]::new));
        plan.withGridScheduler(grids);
        if (device != null) plan.withDevice(device);
    }

    /** The SAE splice's tasks on x [N, H] in graph {@code graph} (see the class comment). */
    private void splice(TaskGraph g, String graph, int N, int d) {
        SaeSplice.Encoder s = splice.sae();
        int n = s.dSae(), S = s.dilations().length;
        FloatArray wEnc = FloatArray.fromArray(s.wEnc()), bEnc = FloatArray.fromArray(s.bEnc()),
                wDec = FloatArray.fromArray(s.wDec()), bDec = FloatArray.fromArray(s.bDec()),
                xc = new FloatArray(N * d), pre = new FloatArray(N * n), f = new FloatArray(N * n), xhat = new FloatArray(N * d);
        g.transferToDevice(FIRST, wEnc, bEnc, wDec, bDec, xc, pre, f, xhat);
        g.task("saeSub", SaeKernelsGpu::subRowVector, x, bDec, xc, N, d);
        FloatArray z = xc;
        if (s.temporal()) {
            FloatArray convW = FloatArray.fromArray(s.convW());
            IntArray dil = IntArray.fromArray(s.dilations());
            z = new FloatArray(N * d);
            g.transferToDevice(FIRST, convW, dil, z);
            g.task("saeConv", SaeKernelsGpu::convForward, xc, convW, dil, S, s.centred() ? 1 : 0, T, d, z, N);
        }
        gemm(g, graph, "saeEnc", N, n, d, z, d, wEnc, n, pre, n);
        switch (s.act()) {
            case RELU -> g.task("saeAct", SaeKernelsGpu::addRowVectorRelu, pre, bEnc, f, N, n);
            case TOPK -> {
                g.task("saeBias", SaeKernelsGpu::addRowVector, pre, bEnc, N, n);
                g.task("saeAct", TopKKernelsGpu::topkRows, new KernelContext(), pre, f, n, s.k());
                Grids.groupPerItem(grids, graph, "saeAct", N);
            }
            case JUMPRELU -> {
                FloatArray theta = FloatArray.fromArray(s.threshold());
                g.transferToDevice(FIRST, theta);
                g.task("saeAct", SaeKernelsGpu::addRowVectorJumpRelu, pre, bEnc, theta, f, N, n);
            }
        }
        if (splice.mode() == SaeSplice.Mode.REPLACE) {
            g.transferToDevice(EVERY, spliceRows);
            gemm(g, graph, "saeDec", N, d, n, f, n, wDec, d, xhat, d);
            g.task("saeDecBias", SaeKernelsGpu::addRowVector, xhat, bDec, N, d);
            g.task("saeReplace", SaeKernelsGpu::replaceRows, x, xhat, spliceRows, N, d);
        } else {
            FloatArray fmod = new FloatArray(N * n), mod = new FloatArray(N * d);
            g.transferToDevice(FIRST, fmod, mod);
            g.transferToDevice(EVERY, spliceFeatures, spliceMult);
            g.task("saeClamp", SaeKernelsGpu::clampLatents, f, fmod, spliceFeatures, spliceMult, N, n, T);
            gemm(g, graph, "saeDec", N, d, n, f, n, wDec, d, xhat, d);
            g.task("saeDecBias", SaeKernelsGpu::addRowVector, xhat, bDec, N, d);
            gemm(g, graph, "saeDecMod", N, d, n, fmod, n, wDec, d, mod, d);
            g.task("saeModBias", SaeKernelsGpu::addRowVector, mod, bDec, N, d);
            g.task("saeSwap", SaeKernelsGpu::swapReconstruction, x, xhat, mod, N * d);
        }
    }

    /** C = A·B (no transposes, α = 1, β = 0): the tiled gemm on GPUs, the plain loop on CPU devices. */
    private void gemm(TaskGraph g, String graph, String task, int m, int n, int k, FloatArray a, int lda,
                      FloatArray b, int ldb, FloatArray c, int ldc) {
        if (threads) {
            g.task(task, SaeKernelsGpu::gemm, 0, 0, m, n, k, 1f, a, lda, b, ldb, 0f, c, ldc);
            return;
        }
        Grids.tiles(grids, graph, task, m, n);
        g.task(task, SaeKernelsGpu::gemmTiled, new KernelContext(), 0, 0, m, n, k, 1f, a, lda, b, ldb, 0f, c, ldc);
    }

    /** Result of one call: resid_post of each captured layer [N·H], the last layer's resid [N·H], logits [N·V] or null. */
    public record Output(float[][] captured, float[] resid, float[] logits) {}

    /**
     * Runs the plan on already-embedded rows (x = embed(tokens)·√H, [nSeq·T, H], e.g. from
     * {@link msts.engine.Ops#embed}); the embedding table stays on the host (it is the largest tensor).
     */
    public Output forward(float[] embedded) {
        if (splice != null) throw new IllegalStateException("this plan has an SAE splice: call forward with its inputs");
        return run(embedded);
    }

    /**
     * As {@link #forward(float[])} for a plan with a splice: REPLACE reads rowMask [nSeq·T] (1 = replace the row),
     * CLAMP reads features [d_sae] (1 = selected) and multiplier.
     */
    public Output forward(float[] embedded, float[] rowMask, float[] features, float multiplier) {
        if (splice == null) throw new IllegalStateException("this plan has no SAE splice");
        if (splice.mode() == SaeSplice.Mode.REPLACE) {
            if (rowMask == null || rowMask.length != spliceRows.getSize())
                throw new IllegalArgumentException("the splice's row mask needs " + spliceRows.getSize() + " entries");
            spliceRows.getSegment().copyFrom(MemorySegment.ofArray(rowMask));
        } else {
            if (features == null || features.length != spliceFeatures.getSize())
                throw new IllegalArgumentException("the clamp's feature selection needs " + spliceFeatures.getSize() + " entries");
            spliceFeatures.getSegment().copyFrom(MemorySegment.ofArray(features));
            spliceMult.set(0, multiplier);
        }
        return run(embedded);
    }

    private Output run(float[] embedded) {
        if (embedded.length != x.getSize())
            throw new IllegalArgumentException("plan expects " + nSeq + "×" + T + " rows of " + config.hiddenSize()
                    + " (" + x.getSize() + " floats), got " + embedded.length);
        x.getSegment().copyFrom(MemorySegment.ofArray(embedded));
        // graph by graph, as the shared-buffer pattern (persistOnDevice → consumeFromDevice) is meant to run
        for (int i = 0; i < graphCount; i++) plan.withGraph(i).execute();
        float[][] cap = new float[captures.length][];
        for (int c = 0; c < captures.length; c++) cap[c] = captures[c].toHeapArray();
        return new Output(cap, residOut.toHeapArray(), logits == null ? null : logits.toHeapArray());
    }

    public int nSeq() { return nSeq; }
    /** The SAE splice compiled into this plan, or null. */
    public Splice splice() { return splice; }
    public int seqLen() { return T; }
    public int lastLayer() { return lastLayer; }

    // ---- building blocks; all grid sizes are set here ----

    private void norm(TaskGraph g, String graph, String task, FloatArray out, FloatArray in, Object w, int rows, int dim, float eps) {
        g.task(task, LayerKernels::rmsNorm, new KernelContext(), out, in, (FloatArray) w, dim, eps);
        Grids.groupPerItem(grids, graph, task, rows);
    }

    private void matmul(TaskGraph g, String graph, String task, FloatArray out, FloatArray in, Object w,
                        FloatArray exp2, int rows, int inDim, int outDim) {
        if (threads) {
            if (w instanceof ShortArray s) g.task(task, LayerKernels::matmulBF16Threads, out, in, s, exp2, rows, inDim, outDim);
            else g.task(task, LayerKernels::matmulF32Threads, out, in, (FloatArray) w, rows, inDim, outDim);
            return;
        }
        if (w instanceof ShortArray s)
            g.task(task, LayerKernels::matmulBF16, new KernelContext(), out, in, s, exp2, rows, inDim, outDim);
        else
            g.task(task, LayerKernels::matmulF32, new KernelContext(), out, in, (FloatArray) w, rows, inDim, outDim);
        Grids.groupPerItem(grids, graph, task, outDim);
    }

    /** The device copy of a linear weight: BF16 as raw 16-bit patterns, F32 as is, F16 widened to F32. */
    static TornadoNativeArray weight(Tensor t) {
        if (t.numel() > Integer.MAX_VALUE) throw new IllegalArgumentException("tensor too large for one device array: " + t);
        return switch (t.dtype()) {
            case BF16 -> ShortArray.fromSegment(t.segment());
            case F32 -> FloatArray.fromSegment(t.segment());
            case F16 -> f32(t);
        };
    }

    /** An F32 device copy of any tensor (norm weights, F16 weights). */
    static FloatArray f32(Tensor t) {
        if (t.dtype() == DType.F32) return FloatArray.fromSegment(t.segment());
        FloatArray a = new FloatArray((int) t.numel());
        for (int i = 0; i < a.getSize(); i++) a.set(i, t.get(i));
        return a;
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
