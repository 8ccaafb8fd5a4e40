package msts.cli;

import msts.engine.Compute;
import msts.engine.backend.Backend;
import picocli.CommandLine.Option;

/**
 * Shared picocli mixin: {@code --compute f32|bf16}, the arithmetic of the linear layers ({@link Compute}).
 * Applied once, at the top, to the resolved backend: {@code compute.apply(backend)}.
 */
public final class ComputeOption {
    @Option(names = "--compute", defaultValue = "f32", paramLabel = "f32|bf16",
            description = {"Matmul arithmetic: f32 (default; weights widened to F32) or bf16 (PyTorch's BF16 path: activations",
                    "rounded to BF16, F32 accumulation; AVX512_BF16 native kernel where the CPU has it, else the Vector API;",
                    "applies to BF16 weights; --backend cpu or reference). Error against f32: docs/engine.md."})
    String compute = "f32";

    public Compute value() { return Compute.parse(compute); }

    /**
     * The backend computing with the chosen arithmetic: itself for f32; for bf16 a backend over its ops wrapped in
     * {@link msts.engine.bf16.Bf16Ops} (no extensions: the forward runs op by op). bf16 is for the CPU backends;
     * on reference it uses the vector kernel over the plain loops, i.e. the reference kernel.
     */
    Backend apply(Backend b) {
        Compute c = value();
        if (c == Compute.F32) return b;
        if (!b.name().equals("cpu") && !b.name().equals("reference"))
            throw new IllegalArgumentException("--compute " + compute + " runs on --backend cpu or reference, not " + b.name());
        // reference stays the control: plain loops on rounded activations (= Kernels.matmulBF16Compute bit for bit)
        if (b.name().equals("reference"))
            return Backend.of(b.name(), msts.engine.bf16.Bf16Ops.of(b.ops(), msts.engine.bf16.Bf16Ops.Kernel.VECTOR));
        return Backend.of(b.name(), c.apply(b.ops()));
    }
}
