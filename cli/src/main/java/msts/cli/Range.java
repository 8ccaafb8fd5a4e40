package msts.cli;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The allowed range of a numeric option, checked by {@link OptionChecks} for every command before it runs.
 * Without it a numeric option must be finite and at least min(0, its default) — so a -1 sentinel default
 * stays allowed, any other negative value does not.
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface Range {
    /** Smallest allowed value (NaN: the automatic rule, min(0, default)). */
    double min() default Double.NaN;

    /** Largest allowed value. */
    double max() default Double.POSITIVE_INFINITY;

    /** Whether min itself is excluded (e.g. a learning rate must be > 0). */
    boolean minExclusive() default false;
}
