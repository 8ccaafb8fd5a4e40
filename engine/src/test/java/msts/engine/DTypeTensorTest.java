package msts.engine;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** DType conversions against an independent rounding rule, and Tensor views sharing their segment. */
class DTypeTensorTest {

    /**
     * Independent bf16 rounding: the two bf16 neighbours of f (truncation and the next value up in
     * magnitude), pick the nearer in exact double arithmetic, ties to the even bit pattern.
     */
    static short bf16Nearest(float f) {
        int bits = Float.floatToRawIntBits(f);
        int lo = bits >>> 16, hi = lo + 1;
        double dlo = Math.abs(widen(lo) - f), dhi = Math.abs(widen(hi) - f);
        if (dlo < dhi) return (short) lo;
        if (dhi < dlo) return (short) hi;
        return (short) ((lo & 1) == 0 ? lo : hi);
    }

    /** bf16 pattern → double, treating the pattern above the largest finite (infinity) as 2^128. */
    static double widen(int pattern) {
        int p = pattern & 0x7FFF;
        double sign = (pattern & 0x8000) != 0 ? -1 : 1;
        if (p == 0x7F80) return sign * Math.scalb(1.0, 128);
        return Float.intBitsToFloat(pattern << 16);
    }

    @Test
    void bf16RoundsToNearestEven() {
        Random rnd = new Random(11);
        for (int t = 0; t < 200_000; t++) {
            int bits = rnd.nextInt();
            if (t % 4 == 0) bits = (bits & 0xFFFF0000) | 0x8000;          // exact ties
            if (t % 4 == 1) bits = (bits & 0xFFFF0000) | (0x8000 + (t & 1) * 2 - 1); // just off a tie
            float f = Float.intBitsToFloat(bits);
            if (Float.isNaN(f) || (bits & 0x7F800000) == 0x7F800000) continue;
            assertEquals(bf16Nearest(f), DType.f32ToBf16(f), () -> "f32 bits " + Integer.toHexString(Float.floatToRawIntBits(f)));
        }
        assertEquals(Float.POSITIVE_INFINITY, DType.bf16ToF32(DType.f32ToBf16(Float.MAX_VALUE)));
        assertEquals(Float.NEGATIVE_INFINITY, DType.bf16ToF32(DType.f32ToBf16(Float.NEGATIVE_INFINITY)));
        assertTrue(Float.isNaN(DType.bf16ToF32(DType.f32ToBf16(Float.NaN))));
        assertTrue(Float.isNaN(DType.bf16ToF32(DType.f32ToBf16(Float.intBitsToFloat(0x7F800001)))), "signalling NaN stays NaN");
    }

    @Test
    void roundTripsAreExactForRepresentableValues() {
        for (int p = 0; p < 0x10000; p++) {
            short s = (short) p;
            float b = DType.bf16ToF32(s);
            if (!Float.isNaN(b)) assertEquals(s, DType.f32ToBf16(b));
            float h = DType.f16ToF32(s);
            if (!Float.isNaN(h)) assertEquals(s, DType.f32ToF16(h));
        }
        assertEquals(1.5f, DType.BF16.round(1.5f));
        assertEquals(DType.bf16ToF32(DType.f32ToBf16(0.1f)), DType.BF16.round(0.1f));
    }

    @Test
    void slicesRowsAndReshapesAreViews() {
        for (DType dt : DType.values()) {
            Tensor t = Tensor.allocate(Arena.ofAuto(), dt, 4, 3, 2);
            for (int i = 0; i < 24; i++) t.set(i, i);
            Tensor s = t.slice(1, 3);
            assertArrayEquals(new long[] {2, 3, 2}, s.shape());
            assertEquals(6f, s.get(0));
            assertEquals(17f, s.get(11));
            Tensor r = t.row(2);
            assertArrayEquals(new long[] {3, 2}, r.shape());
            assertEquals(12f, r.get(0));
            r.set(5, -7f);                       // write through the view …
            assertEquals(-7f, t.get(17));        // … is visible in the parent
            assertEquals(-7f, s.get(11));
            Tensor flat = t.reshape(24);
            assertEquals(-7f, flat.get(17));
            assertEquals(0, t.slice(2, 2).numel());
            assertThrows(IndexOutOfBoundsException.class, () -> t.slice(3, 5));
            assertThrows(IndexOutOfBoundsException.class, () -> t.slice(2, 1));
            assertThrows(IllegalArgumentException.class, () -> t.reshape(5, 5));
            float[] rows = new float[12];
            t.copyRowsTo(2, 4, rows);
            assertEquals(-7f, rows[5]);
            assertEquals(23f, rows[11]);
        }
    }

    @Test
    void conversionRoundsValues() {
        Tensor f = Tensor.of(new float[] {0.1f, 1f / 3, 65504f, 70000f}, 4);
        Tensor b = f.to(DType.BF16), h = f.to(DType.F16);
        for (int i = 0; i < 4; i++) {
            assertEquals(DType.BF16.round(f.get(i)), b.get(i));
            assertEquals(DType.F16.round(f.get(i)), h.get(i));
        }
        assertEquals(Float.POSITIVE_INFINITY, h.get(3));
    }
}
