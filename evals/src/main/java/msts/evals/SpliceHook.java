package msts.evals;

import msts.model.gemma.SaeSplice;
import msts.sae.AbstractSae;
import msts.sae.Sae;

/**
 * A {@link ResidHook} that carries its SAE intervention as a {@link SaeSplice}: an engine with a device plan
 * (the TornadoVM forward engine) runs the splice inside its plan; {@link #apply} is the host version.
 */
public record SpliceHook(SaeSplice splice, ResidHook host) implements ResidHook, SaeSplice.Hook {
    @Override
    public void apply(int layer, int seq, float[] resid, int T) {
        host.apply(layer, seq, resid, T);
    }

    /** host, carrying the splice when the SAE can describe its forward ({@link AbstractSae#spliceEncoder}). */
    static ResidHook of(Sae sae, ResidHook host, java.util.function.Function<SaeSplice.Encoder, SaeSplice> splice) {
        return sae instanceof AbstractSae a ? new SpliceHook(splice.apply(a.spliceEncoder()), host) : host;
    }
}
