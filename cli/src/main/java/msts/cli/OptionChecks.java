package msts.cli;

import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

import java.lang.reflect.Array;
import java.lang.reflect.Field;
import java.util.Locale;

/**
 * One range check for every numeric option of every command, run by {@link Main}'s execution strategy after
 * parsing and before the command (a violation is one line, exit 1): NaN and ±Infinity are refused everywhere; the range is the option's
 * {@link Range} or, without one, at least min(0, default). Integer overflow is refused by picocli's own
 * converters. Commands added later inherit the check without code of their own.
 */
final class OptionChecks {
    private OptionChecks() {}

    /** A value that parsed but lies outside its option's range (exit 1, like any other bad input). */
    static final class OutOfRange extends IllegalArgumentException {
        private final transient CommandLine cmd;

        OutOfRange(CommandLine cmd, String message) {
            super(message);
            this.cmd = cmd;
        }

        CommandLine commandLine() { return cmd; }
    }

    static void check(CommandLine.ParseResult pr) {
        for (CommandLine.ParseResult p = pr; p != null; p = p.subcommand()) {
            for (OptionSpec o : p.commandSpec().options()) check(p.commandSpec().commandLine(), o);
        }
    }

    private static void check(CommandLine cmd, OptionSpec o) {
        Class<?> type = o.type();
        boolean array = type.isArray();
        Class<?> el = array ? type.getComponentType() : type;
        if (!isNumeric(el)) return;
        Object v = o.getValue();
        if (v == null) return;
        Range r = o.userObject() instanceof Field f ? f.getAnnotation(Range.class) : null;
        double min, max = r == null ? Double.POSITIVE_INFINITY : r.max();
        boolean exclusive = r != null && r.minExclusive();
        if (r != null && !Double.isNaN(r.min())) {
            min = r.min();
        } else {
            double dflt = 0;
            try {
                if (o.defaultValue() != null && !array) dflt = Double.parseDouble(o.defaultValue());
            } catch (NumberFormatException ignored) {
                // a non-numeric default (e.g. ${...}); keep 0
            }
            min = Math.min(0, dflt);
        }
        if (array) {
            for (int i = 0; i < Array.getLength(v); i++) check(cmd, o, ((Number) Array.get(v, i)).doubleValue(), min, max, exclusive);
        } else {
            check(cmd, o, ((Number) v).doubleValue(), min, max, exclusive);
        }
    }

    private static void check(CommandLine cmd, OptionSpec o, double x, double min, double max, boolean exclusive) {
        String name = o.longestName();
        if (Double.isNaN(x) || Double.isInfinite(x))
            throw new OutOfRange(cmd, name + " must be a finite number, got " + fmt(x));
        if (x < min || (exclusive && x == min) || x > max) {
            String range = exclusive ? "> " + fmt(min) : ">= " + fmt(min);
            if (max != Double.POSITIVE_INFINITY) range = (exclusive ? "in (" : "in [") + fmt(min) + ", " + fmt(max) + "]";
            else if (min == 0 && !exclusive) range = "non-negative";
            throw new OutOfRange(cmd, name + " must be " + range + ", got " + fmt(x));
        }
    }

    private static boolean isNumeric(Class<?> c) {
        return c == int.class || c == long.class || c == float.class || c == double.class || c == short.class
                || Number.class.isAssignableFrom(c);
    }

    private static String fmt(double x) {
        if (x == Math.rint(x) && Math.abs(x) < 1e15) return Long.toString((long) x);
        return String.format(Locale.ROOT, "%s", x);
    }
}
