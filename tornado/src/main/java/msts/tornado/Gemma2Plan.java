package msts.tornado;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import msts.engine.DType;
import msts.engine.Kernels;
import msts.engine.Tensor;
import msts.model.gemma.Gemma2Config;
import msts.model.gemma.Gemma2Weights;
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
        int L = config.numHiddenLayers();
        if (lastLayer < 0 || lastLayer >= L)
            throw new IllegalArgumentException("lastLayer " + lastLayer + " outside 0.." + (L - 1));
        if (withLogits && lastLayer != L - 1)
            throw new IllegalArgumentException("logits need the whole model");
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

    /** Result of one call: resid_post of each captured layer [N·H], the last layer's resid [N·H], logits [N·V] or null. */
    public record Output(float[][] captured, float[] resid, float[] logits) {}

    /**
     * Runs the plan on already-embedded rows (x = embed(tokens)·√H, [nSeq·T, H], e.g. from
     * {@link msts.engine.Ops#embed}); the embedding table stays on the host (it is the largest tensor).
     */
    public Output forward(float[] embedded) {
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
