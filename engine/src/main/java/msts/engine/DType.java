package msts.engine;

/**
 * Storage types of tensors. Compute is always F32; BF16 and F16 are widened when read.
 * Names match safetensors' dtype strings.
 */
public enum DType {
    F32(4), BF16(2), F16(2);

    public final int bytes;

    DType(int bytes) { this.bytes = bytes; }

    /** bf16 → f32: the 16 bits are the top half of the f32. */
    public static float bf16ToF32(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** f32 → bf16 with round-to-nearest-even (NaN kept quiet), as torch does. */
    public static short f32ToBf16(float f) {
        int x = Float.floatToRawIntBits(f);
        if ((x & 0x7FFFFFFF) > 0x7F800000) return (short) ((x >>> 16) | 0x40); // NaN
        int lsb = (x >>> 16) & 1;
        return (short) ((x + 0x7FFF + lsb) >>> 16);
    }

    public static float f16ToF32(short bits) { return Float.float16ToFloat(bits); }

    public static short f32ToF16(float f) { return Float.floatToFloat16(f); }

    /** Rounds an f32 to the nearest value representable in this dtype (identity for F32). */
    public float round(float f) {
        return switch (this) {
            case F32 -> f;
            case BF16 -> bf16ToF32(f32ToBf16(f));
            case F16 -> f16ToF32(f32ToF16(f));
        };
    }

    /** Parses a safetensors dtype string; null when msts cannot compute with it. */
    public static DType fromSafetensors(String s) {
        return switch (s) {
            case "F32" -> F32;
            case "BF16" -> BF16;
            case "F16" -> F16;
            default -> null;
        };
    }
}
