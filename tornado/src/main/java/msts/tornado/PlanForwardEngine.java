package msts.tornado;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import msts.model.gemma.ForwardEngine;
import msts.model.gemma.Gemma2;
import msts.model.gemma.Gemma2Config;
import msts.model.gemma.SaeSplice;
import uk.ac.manchester.tornado.api.common.TornadoDevice;

/**
 * {@link ForwardEngine} on TornadoVM: each batch runs through a {@link Gemma2Plan} (one task graph per layer,
 * weights transferred once per plan, activations resident between layers). A plan serves one batch shape, so
 * plans are cached by (sequences, length, last layer, captures, logits); the least recently used is freed
 * beyond {@link TornadoOptions#maxPlans} (default 1: each plan holds its own copy of the weights on the device). Sequences of unequal length are split into equal-length groups (one plan per
 * length, results put back in batch order). A hook that carries an SAE splice ({@link SaeSplice.Hook}: the evals'
 * splice and clamp) runs inside the plan ({@link Gemma2Plan.Splice}; the plan is keyed by the splice's layer, mode
 * and SAE arrays, the row mask / selected latents / multiplier go in per call). Any other {@link Gemma2.ResidHook}
 * needs the residual on the host between layers, which the plan does not do: such calls run the model op by op
 * on its own {@code Ops} (TornadoOps under {@code --backend tornado}), with a one-line note on stderr.
 */
public final class PlanForwardEngine implements ForwardEngine, AutoCloseable {
    private final Gemma2 model;
    private final TornadoDevice device;
    /** maxPlans: plans kept at once; every plan holds its own device copy of the weights, so a second cached
     *  plan doubles the device memory (about 5 GB for Gemma-2-2B in BF16). matmul: the kernel shape. */
    private final TornadoOptions options;
    private final LinkedHashMap<String, Gemma2Plan> plans = new LinkedHashMap<>(8, 0.75f, true);
    private boolean notedHook, notedSplit;
    private int plansBuilt;

    public PlanForwardEngine(Gemma2 model, TornadoDevice device, TornadoOptions options) {
        this.model = model;
        this.device = device;
        this.options = options;
    }

    /** Plans kept at once (tornado backend option maxPlans). */
    int maxPlans() { return options.maxPlans(); }

    @Override
    public Gemma2Config config() { return model.config(); }

    @Override
    public String describe() {
        return "tornado plan" + (device == null ? "" : " on " + device.getDeviceName());
    }

    /** Number of cached plans (tests). */
    int cachedPlans() { return plans.size(); }

    /** Number of plans built so far (tests: a new hook for the same SAE must reuse its plan). */
    int plansBuilt() { return plansBuilt; }

    @Override
    public synchronized Gemma2.Result forward(int[][] batch, Gemma2.Options opts) {
        Gemma2Config c = model.config();
        int L = c.numHiddenLayers();
        if (batch == null || batch.length == 0) throw new IllegalArgumentException("empty batch");
        int last = opts.stopAfterLayer() < 0 ? L - 1 : opts.stopAfterLayer();
        if (last >= L)
            throw new IllegalArgumentException("stopAfterLayer " + opts.stopAfterLayer() + " but the model has " + L + " layers");
        if (opts.logits() != Gemma2.LogitsMode.NONE && last != L - 1)
            throw new IllegalArgumentException("logits need the whole model; stopAfterLayer=" + opts.stopAfterLayer());
        for (int cl : opts.captureLayers())
            if (cl < 0 || cl > last) throw new IllegalArgumentException("capture layer " + cl + " outside 0.." + last);
        for (int s = 0; s < batch.length; s++)
            if (batch[s] == null || batch[s].length == 0) throw new IllegalArgumentException("sequence " + s + " is empty");
        SaeSplice splice = opts.hook() instanceof SaeSplice.Hook h ? h.splice() : null;
        if (splice != null && (splice.layer() > last || splice.layer() < 0
                || (splice.mode() == SaeSplice.Mode.CLAMP && splice.features().length == 0)))
            splice = null; // the hook would change nothing (as on the host)
        else if (splice != null && splice.mode() == SaeSplice.Mode.REPLACE && splice.rowMask().length < batch.length)
            throw new IllegalArgumentException("the splice's row mask covers " + splice.rowMask().length + " sequences, the batch has " + batch.length);
        if (opts.hook() != null && !(opts.hook() instanceof SaeSplice.Hook)) {
            if (!notedHook) {
                System.err.println("note: the TornadoVM plan keeps the residual on the device; a resid hook runs the model op by op");
                notedHook = true;
            }
            return model.forward(batch, opts);
        }
        // group sequences by length (one plan per length)
        Map<Integer, List<Integer>> groups = new LinkedHashMap<>();
        for (int s = 0; s < batch.length; s++) groups.computeIfAbsent(batch[s].length, k -> new ArrayList<>()).add(s);
        if (groups.size() > 1 && !notedSplit) {
            System.err.println("note: the TornadoVM plan needs equal-length sequences; this batch runs as "
                    + groups.size() + " groups of equal length");
            notedSplit = true;
        }
        int[] cap = opts.captureLayers();
        int H = c.hiddenSize(), V = c.vocabSize();
        boolean logits = opts.logits() != Gemma2.LogitsMode.NONE;
        float[][][] resid = new float[cap.length][batch.length][];
        float[][] lg = logits ? new float[batch.length][] : null;
        for (var e : groups.entrySet()) {
            int T = e.getKey();
            List<Integer> idx = e.getValue();
            int[][] sub = new int[idx.size()][];
            for (int i = 0; i < sub.length; i++) sub[i] = batch[idx.get(i)];
            Gemma2Plan plan = plan(sub.length, T, last, cap, logits, splice);
            float[] emb = Gemma2Plans.embed(model, sub);
            Gemma2Plan.Output o;
            if (splice == null) {
                o = plan.forward(emb);
            } else if (splice.mode() == SaeSplice.Mode.REPLACE) {
                float[] rows = new float[sub.length * T];
                for (int i = 0; i < sub.length; i++) {
                    boolean[] mk = splice.rowMask()[idx.get(i)];
                    for (int t = 0; t < T; t++) rows[i * T + t] = mk[t] ? 1f : 0f;
                }
                o = plan.forward(emb, rows, null, 0f);
            } else {
                float[] sel = new float[splice.sae().dSae()];
                for (int j : splice.features()) sel[j] = 1f;
                o = plan.forward(emb, null, sel, splice.multiplier());
            }
            for (int i = 0; i < sub.length; i++) {
                int s = idx.get(i);
                for (int k = 0; k < cap.length; k++)
                    resid[k][s] = Arrays.copyOfRange(o.captured()[k], i * T * H, (i + 1) * T * H);
                if (logits) {
                    lg[s] = opts.logits() == Gemma2.LogitsMode.ALL
                            ? Arrays.copyOfRange(o.logits(), i * T * V, (i + 1) * T * V)
                            : Arrays.copyOfRange(o.logits(), ((i + 1) * T - 1) * V, (i + 1) * T * V);
                }
            }
        }
        return new Gemma2.Result(resid, lg);
    }

    private Gemma2Plan plan(int nSeq, int T, int last, int[] cap, boolean logits, SaeSplice splice) {
        String key = nSeq + "x" + T + "/" + last + "/" + Arrays.toString(cap) + "/" + logits;
        Gemma2Plan.Splice sp = null;
        if (splice != null) { // the plan holds a copy of the SAE: keyed by the identity of its arrays
            SaeSplice.Encoder e = splice.sae();
            sp = new Gemma2Plan.Splice(splice.layer(), e, splice.mode());
            key += "/splice " + splice.layer() + " " + splice.mode() + " " + System.identityHashCode(e.wEnc()) + ":"
                    + System.identityHashCode(e.wDec()) + ":" + System.identityHashCode(e.bEnc()) + ":" + System.identityHashCode(e.bDec())
                    + ":" + e.act() + ":" + e.k() + ":" + (e.threshold() == null ? 0 : Arrays.hashCode(e.threshold()));
        }
        Gemma2Plan p = plans.get(key);
        if (p != null && (sp == null || sameArrays(p.splice().sae(), sp.sae()))) return p;
        if (p != null) { // an identity-hash collision: another SAE under the same key
            plans.remove(key);
            p.close();
        }
        while (plans.size() >= options.maxPlans()) {
            Iterator<Gemma2Plan> it = plans.values().iterator();
            Gemma2Plan old = it.next();
            it.remove();
            old.close();
        }
        p = Gemma2Plans.create(model, nSeq, T, last, cap, logits, device, options.matmul(), sp);
        plansBuilt++;
        plans.put(key, p);
        return p;
    }

    /** Whether two splice encoders are the same arrays (the plan copied a's when it was built). */
    private static boolean sameArrays(SaeSplice.Encoder a, SaeSplice.Encoder b) {
        return a.wEnc() == b.wEnc() && a.bEnc() == b.bEnc() && a.wDec() == b.wDec() && a.bDec() == b.bDec()
                && (a.convW() == b.convW() || a.convW().length + b.convW().length == 0) && a.act() == b.act() && a.k() == b.k()
                && Arrays.equals(a.threshold(), b.threshold()) && Arrays.equals(a.dilations(), b.dilations())
                && a.centred() == b.centred();
    }

    @Override
    public synchronized void close() {
        for (Gemma2Plan p : plans.values()) p.close();
        plans.clear();
    }
}
