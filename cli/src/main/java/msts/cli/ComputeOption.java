package msts.cli;

import msts.engine.Compute;
import msts.engine.Ops;
import picocli.CommandLine.Option;

/**
 * Shared picocli mixin: {@code --compute f32|bf16}, the arithmetic of the linear layers ({@link Compute}).
 * Applied once, at the top, to the backend's ops: {@code compute.apply(ops, backend)}.
 */
public final class ComputeOption {
    @Option(names = "--compute", defaultValue = "f32", paramLabel = "f32|bf16",
            description = {"Matmul arithmetic: f32 (default; weights widened to F32) or bf16 (PyTorch's BF16 path: activations",
                    "rounded to BF16, F32 accumulation; AVX512_BF16 native kernel where the CPU has it, else the Vector API;",
                    "applies to BF16 weights). Error against f32: docs/engine.md."})
    String compute = "f32";

    public Compute value() { return Compute.parse(compute); }

    /** The ops computing with the chosen arithmetic; bf16 is a CPU-backend option. */
    Ops apply(Ops base, BackendOption backend) {
        Compute c = value();
        if (c != Compute.F32 && backend != null && backend.isTornado())
            throw new IllegalArgumentException("--compute " + compute + " runs on --backend cpu only");
        return c.apply(base);
    }
}
