package msts.engine.util;

import java.util.Locale;

/**
 * Size checks before allocating: a request that cannot fit in the Java heap is refused up front with the
 * amount it needs and the amount there is, instead of an OutOfMemoryError half-way through.
 */
public final class Memory {
    private Memory() {}

    /** Bytes the heap can still give: max heap − used (after a GC when that is not enough). */
    public static long available() {
        Runtime rt = Runtime.getRuntime();
        long avail = rt.maxMemory() - (rt.totalMemory() - rt.freeMemory());
        return avail;
    }

    /**
     * Throws IllegalArgumentException naming what, the bytes needed and the bytes available when {@code bytes}
     * (negative = overflowed, i.e. beyond any heap) does not fit. {@code hint} says what to change.
     */
    public static void require(long bytes, String what, String hint) {
        if (bytes >= 0 && bytes <= available()) return;
        if (bytes >= 0) {
            System.gc();
            if (bytes <= available()) return;
        }
        if (bytes < 0)
            throw new IllegalArgumentException(what + " needs more memory than a Java array or heap can hold (the sizes overflow): " + hint);
        throw new IllegalArgumentException(what + " needs " + human(bytes) + " of memory, the Java heap has "
                + human(available()) + " free of " + human(Runtime.getRuntime().maxMemory()) + ": " + hint);
    }

    /** a·b·c… with overflow to −1 (never wraps). */
    public static long product(long... factors) {
        long p = 1;
        for (long f : factors) {
            if (f < 0) return -1;
            try {
                p = Math.multiplyExact(p, f);
            } catch (ArithmeticException e) {
                return -1;
            }
        }
        return p;
    }

    public static String human(long bytes) {
        if (bytes < 1024) return bytes + " B";
        String[] u = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
        double v = bytes;
        int i = -1;
        while (v >= 1024 && i < u.length - 1) { v /= 1024; i++; }
        return String.format(Locale.ROOT, "%.1f %s", v, u[i]);
    }
}
