package msts.engine;

import java.util.Locale;

/**
 * The arithmetic of the linear layers (x·Wᵀ), chosen once at the top ({@code --compute f32|bf16}) and
 * applied to the backend's {@link Ops} with {@link #apply}.
 * <ul>
 *   <li>{@code F32} (default): weights widened to F32, activations kept in F32, F32 multiply-adds.</li>
 *   <li>{@code BF16}: PyTorch's BF16 path — activations rounded to BF16 (round to nearest even) before each
 *       matmul with BF16 weights, products exact in F32, F32 accumulation ({@link Kernels#matmulBF16Compute});
 *       run by the AVX512_BF16 native kernel where the CPU has it, else by the Vector API fallback
 *       ({@link msts.engine.bf16.Bf16Ops}). Matmuls with F32 or F16 weights stay F32. Error against F32:
 *       docs/engine.md, "BF16 compute".</li>
 * </ul>
 */
public enum Compute {
    F32, BF16;

    /** "f32" / "bf16" (any case); a clear error naming the choices otherwise. */
    public static Compute parse(String s) {
        if (s == null) return F32;
        return switch (s.trim().toLowerCase(Locale.ROOT)) {
            case "f32" -> F32;
            case "bf16" -> BF16;
            default -> throw new IllegalArgumentException("--compute must be f32 or bf16, got '" + s + "'");
        };
    }

    /** The ops computing with this arithmetic on top of {@code base} (F32: base itself). */
    public Ops apply(Ops base) {
        return this == F32 ? base : msts.engine.bf16.Bf16Ops.of(base);
    }
}
