package msts.model.gemma;

/**
 * Runs the Gemma-2 forward pass for a batch: the seam between the commands (forward, harvest) and how the
 * pass is executed. The CPU implementation is {@link Gemma2} itself (op by op through its {@code Ops});
 * a backend may offer a {@link ForwardEngineFactory} extension (the TornadoVM module: whole-layer task graphs).
 * Model and command code call {@link #forward} and never branch on the backend.
 */
public interface ForwardEngine {
    Gemma2Config config();

    /** Same contract as {@link Gemma2#forward}. */
    Gemma2.Result forward(int[][] batch, Gemma2.Options opts);

    /** Short name for logs and metadata ("cpu ops …", "tornado plan …"). */
    String describe();
}
