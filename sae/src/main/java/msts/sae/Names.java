package msts.sae;

import java.util.Arrays;
import java.util.stream.Collectors;

/** The cfg.json spelling of the config enums, and the one parser for them (clear error on unknown names). */
public interface Names {
    /** The name as written in cfg.json and accepted on the command line. */
    String cfgName();

    /** The constant whose {@link #cfgName} (or an alias) is {@code name}; IllegalArgumentException naming the choices otherwise. */
    static <E extends Enum<E> & Names> E parse(Class<E> type, String name, String what, String... aliases) {
        for (E e : type.getEnumConstants()) if (e.cfgName().equalsIgnoreCase(name)) return e;
        for (int i = 0; i + 1 < aliases.length; i += 2)
            if (aliases[i].equalsIgnoreCase(name)) return parse(type, aliases[i + 1], what);
        throw new IllegalArgumentException("unknown " + what + " '" + name + "' ("
                + Arrays.stream(type.getEnumConstants()).map(Names::cfgName).collect(Collectors.joining(", ")) + ")");
    }
}
