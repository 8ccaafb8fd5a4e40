package msts.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/** Every option of every command that has a default shows it in --help ("Default: X"), once. */
class HelpDefaultsTest {
    static void commands(CommandLine cl, List<CommandLine> out) {
        out.add(cl);
        cl.getSubcommands().values().forEach(c -> commands(c, out));
    }

    /** The default an option has: its defaultValue, else the field's initial value (not false/empty/null). */
    static String defaultOf(OptionSpec o) {
        if (o.defaultValue() != null) return o.defaultValueString();
        Object init = o.initialValue();
        if (init == null || Boolean.FALSE.equals(init)) return null;
        if (init instanceof Collection<?> c && c.isEmpty()) return null;
        if (init instanceof Map<?, ?> m && m.isEmpty()) return null;
        if (init.getClass().isArray() && java.lang.reflect.Array.getLength(init) == 0) return null;
        return o.defaultValueString();
    }

    @Test
    void everyOptionWithADefaultShowsIt() {
        List<CommandLine> all = new ArrayList<>();
        commands(Main.commandLine(), all);
        List<String> missing = new ArrayList<>();
        int checked = 0;
        for (CommandLine cl : all) {
            CommandSpec spec = cl.getCommandSpec();
            if (cl.getCommandName().equals("help")) continue;
            String usage = cl.getUsageMessage(CommandLine.Help.Ansi.OFF);
            for (OptionSpec o : spec.options()) {
                if (o.usageHelp() || o.versionHelp() || o.required()) continue;
                String d = defaultOf(o);
                String where = spec.qualifiedName() + " " + o.longestName();
                for (String line : o.description())
                    if (line.contains("${DEFAULT-VALUE}")) missing.add(where + ": default written twice (description and Default:)");
                if (d == null || o.showDefaultValue() == CommandLine.Help.Visibility.NEVER) continue;
                checked++;
                // the option's block of the usage text: from its name to the next option line
                var m = java.util.regex.Pattern.compile("(?m)^\\s+(-\\w, )?(--\\[no-\\]|--)?" + java.util.regex.Pattern.quote(o.longestName().replace("--", "")) + "\\b").matcher(usage);
                String block = "";
                if (m.find()) {
                    block = usage.substring(m.start(), Math.min(usage.length(), m.start() + 900));
                    var nextOpt = java.util.regex.Pattern.compile("(?m)^\\s{2,8}-").matcher(block);
                    if (nextOpt.find(1) && nextOpt.start() > 0) block = block.substring(0, nextOpt.start());
                }
                boolean flag = o.arity().max() == 0; // picocli shows no "Default:" for flags: the description must say it
                String text = block.replaceAll("\\s+", " ");
                if (flag ? !text.toLowerCase(java.util.Locale.ROOT).contains("default") : !text.contains("Default: " + d)) missing.add(where + ": default " + d + " not shown in [" + block + "]");
            }
        }
        assertTrue(checked > 80, "options with defaults checked: " + checked);
        assertTrue(missing.isEmpty(), String.join("\n", missing));
    }

    /** --help works for every command whatever else is (or is not) given: range checks do not run first. */
    @Test
    void everyCommandsHelpExitsZero() {
        List<CommandLine> all = new ArrayList<>();
        commands(Main.commandLine(), all);
        int n = 0;
        for (CommandLine cl : all) {
            if (cl.getCommandName().equals("help") || cl.getCommandSpec().parent() == null) continue;
            List<String> path = new ArrayList<>();
            for (CommandSpec c = cl.getCommandSpec(); c.parent() != null; c = c.parent()) path.addFirst(c.name());
            path.add("--help");
            CliRun r = CliRun.of(path.toArray(new String[0]));
            assertEquals(0, r.code(), String.join(" ", path) + ": " + r.err());
            assertTrue(r.out().startsWith("Usage: msts " + String.join(" ", path.subList(0, path.size() - 1))), r.out());
            n++;
        }
        assertTrue(n > 20, "commands checked: " + n);
    }
}
