package msts.engine.util;

import java.io.PrintStream;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * A one-line progress bar on stderr: done/total, rate (units/s), ETA and caller-supplied metrics.
 * Redraws in place on a terminal (at most every 200 ms); prints a line every 10 s when stderr is not a
 * terminal (logs, CI). Quiet mode prints nothing.
 */
public final class Progress implements AutoCloseable {
    private final String label;
    private final String unit;
    private final long total;
    private final PrintStream out;
    private final boolean tty;
    private final boolean quiet;
    private final long start = System.nanoTime();
    private long done;
    private long lastDraw;
    private Supplier<String> metrics = () -> "";

    /** A bar on stderr, quiet when {@link #quietByDefault()}. */
    public Progress(String label, long total, String unit) {
        this(label, total, unit, System.err, quietByDefault());
    }

    /**
     * Whether bars are off when the caller does not say (the evals): the documented {@code -Dmsts.quiet=true}
     * (e.g. in {@code MSTS_JAVA_OPTS}), read here and nowhere else. Commands with {@code --quiet} pass it explicitly.
     */
    public static boolean quietByDefault() {
        return Boolean.getBoolean("msts.quiet");
    }

    public Progress(String label, long total, String unit, PrintStream out, boolean quiet) {
        this.label = label;
        this.total = total;
        this.unit = unit;
        this.out = out;
        this.quiet = quiet;
        this.tty = System.console() != null && System.getenv("CI") == null;
    }

    /** Extra text after the rate, e.g. "loss 0.123 L0 45.1". Evaluated only when drawing. */
    public Progress metrics(Supplier<String> m) {
        this.metrics = m;
        return this;
    }

    public void set(long value) {
        done = value;
        maybeDraw(false);
    }

    public void advance(long n) {
        set(done + n);
    }

    public double seconds() {
        return (System.nanoTime() - start) / 1e9;
    }

    /** Units per second since the start. */
    public double rate() {
        double s = seconds();
        return s > 0 ? done / s : 0;
    }

    private void maybeDraw(boolean force) {
        if (quiet) return;
        long now = System.nanoTime();
        long interval = tty ? 200_000_000L : 10_000_000_000L;
        if (!force && now - lastDraw < interval) return;
        lastDraw = now;
        out.print((tty ? "\r" : "") + line() + (tty ? "\u001b[K" : "\n"));
        out.flush();
    }

    String line() {
        double rate = rate();
        StringBuilder sb = new StringBuilder(label).append(' ');
        if (total > 0) {
            double frac = Math.min(1.0, (double) done / total);
            int w = 24, fill = (int) Math.round(frac * w);
            sb.append('[').append("#".repeat(fill)).append(".".repeat(w - fill)).append("] ");
            sb.append(String.format(Locale.ROOT, "%3.0f%% %d/%d %s", frac * 100, done, total, unit));
            double eta = rate > 0 ? (total - done) / rate : Double.NaN;
            sb.append(String.format(Locale.ROOT, "  %s %s/s  ETA %s", human(rate), unit, duration(eta)));
        } else {
            sb.append(String.format(Locale.ROOT, "%d %s  %s %s/s", done, unit, human(rate), unit));
        }
        String m = metrics.get();
        if (!m.isEmpty()) sb.append("  ").append(m);
        return sb.toString();
    }

    static String human(double v) {
        if (v >= 1e6) return String.format(Locale.ROOT, "%.2fM", v / 1e6);
        if (v >= 1e4) return String.format(Locale.ROOT, "%.1fk", v / 1e3);
        return String.format(Locale.ROOT, "%.1f", v);
    }

    static String duration(double s) {
        if (Double.isNaN(s) || Double.isInfinite(s)) return "--";
        long t = Math.round(s);
        return t >= 3600 ? String.format(Locale.ROOT, "%dh%02dm", t / 3600, (t % 3600) / 60)
                : String.format(Locale.ROOT, "%dm%02ds", t / 60, t % 60);
    }

    /** Draws the final state and ends the line. */
    @Override
    public void close() {
        if (quiet) return;
        maybeDraw(true);
        if (tty) out.println();
    }
}
