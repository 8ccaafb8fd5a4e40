package msts.model.gemma;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import msts.engine.CpuOps;
import msts.engine.Ops;
import msts.io.SafeTensors;
import org.junit.jupiter.api.Test;

import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The Java forward pass against the independent numpy reference (scripts/gemma2_reference.py), whose
 * outputs are test resources: tiny random checkpoints with sequences longer than the sliding window,
 * GQA and both soft-caps saturating. Runs every available {@link Ops} implementation.
 */
class Gemma2ParityTest {
    static final float LOGIT_TOL = 1e-4f;
    static final float RESID_TOL = 1e-4f; // relative to max(1, |expected|)

    static Path resource(String name) {
        try {
            return Path.of(Gemma2ParityTest.class.getResource("/" + name).toURI());
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    /** Every Ops implementation: the reference (control) and the Vector API CPU backend. */
    static List<Ops> allOps() {
        return List.of(Ops.reference(), CpuOps.INSTANCE);
    }

    static int[][] sequences(Path dir) throws Exception {
        JsonNode j = new ObjectMapper().readTree(dir.resolve("expected.json").toFile());
        JsonNode seqs = j.get("sequences");
        int[][] out = new int[seqs.size()][];
        for (int s = 0; s < out.length; s++) {
            out[s] = new int[seqs.get(s).size()];
            for (int i = 0; i < out[s].length; i++) out[s][i] = seqs.get(s).get(i).asInt();
        }
        return out;
    }

    /** Max |Δ| (relative to max(1,|e|) when rel) between a and the expected tensor. */
    static double maxDiff(float[] a, float[] e, boolean rel) {
        assertEquals(e.length, a.length, "length");
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            double d = Math.abs(a[i] - e[i]);
            if (rel) d /= Math.max(1.0, Math.abs(e[i]));
            if (!(d <= Double.MAX_VALUE)) return Double.POSITIVE_INFINITY;
            m = Math.max(m, d);
        }
        return m;
    }

    /** Runs the fixture with the batch of all sequences and each sequence alone; returns max |Δlogit|. */
    static double[] check(String name, Ops ops, float logitTol, float residTol) throws Exception {
        Path dir = resource(name);
        int[][] seqs = sequences(dir);
        try (Gemma2 model = Gemma2.load(dir, ops); SafeTensors exp = SafeTensors.open(dir.resolve("expected.safetensors"))) {
            int L = model.config().numHiddenLayers();
            int[] all = new int[L];
            for (int l = 0; l < L; l++) all[l] = l;
            Gemma2.Result batched = model.forward(seqs, Gemma2.Options.logitsAll().withCapture(all));
            double dLogit = 0, dResid = 0;
            for (int s = 0; s < seqs.length; s++) {
                Gemma2.Result single = model.forward(new int[][]{seqs[s]}, Gemma2.Options.logitsAll().withCapture(all));
                for (Gemma2.Result r : new Gemma2.Result[]{batched, single}) {
                    int idx = r == batched ? s : 0;
                    dLogit = Math.max(dLogit, maxDiff(r.logits()[idx], exp.tensor("seq" + s + ".logits").toFloatArray(), false));
                    for (int l = 0; l < L; l++)
                        dResid = Math.max(dResid, maxDiff(r.resid()[l][idx],
                                exp.tensor("seq" + s + ".resid_post." + l).toFloatArray(), true));
                }
            }
            System.out.printf("parity %-20s ops=%-10s max|Δlogit|=%.3g max rel|Δresid|=%.3g%n", name, ops.name(), dLogit, dResid);
            assertTrue(dLogit <= logitTol, name + " " + ops.name() + ": max |Δlogit| " + dLogit);
            assertTrue(dResid <= residTol, name + " " + ops.name() + ": max rel |Δresid| " + dResid);
            return new double[]{dLogit, dResid};
        }
    }

    @Test
    void f32MatchesNumpyReference() throws Exception {
        for (Ops ops : allOps()) check("gemma2-tiny", ops, LOGIT_TOL, RESID_TOL);
    }

    @Test
    void bf16ShardedMatchesNumpyOnSameBf16Weights() throws Exception {
        for (Ops ops : allOps()) check("gemma2-tiny-bf16", ops, LOGIT_TOL, RESID_TOL);
    }

    @Test
    void untiedHeadLayerTypesNoAttnCapMatchNumpy() throws Exception {
        for (Ops ops : allOps()) check("gemma2-tiny-untied", ops, LOGIT_TOL, RESID_TOL);
    }

    @Test
    void bf16EmbedScaleIsRounded() {
        try (Gemma2 m = Gemma2.load(resource("gemma2-tiny-bf16"), Ops.reference());
             Gemma2 f = Gemma2.load(resource("gemma2-tiny"), Ops.reference())) {
            assertEquals(6.9375f, m.embedScale()); // bf16(sqrt(48))
            assertEquals((float) Math.sqrt(48), f.embedScale());
        }
    }
}
