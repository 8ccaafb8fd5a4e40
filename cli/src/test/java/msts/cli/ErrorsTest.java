package msts.cli;

import msts.engine.Tensor;
import msts.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@link Errors#message}: every Throwable becomes one plain line — JVM errors and raw JDK text included. */
class ErrorsTest {
    @TempDir Path dir;

    static void plain(String m, String expect) {
        assertFalse(m.contains("\n"), m);
        assertFalse(m.isBlank());
        assertTrue(m.contains(expect), "'" + expect + "' in: " + m);
        assertFalse(m.matches("-?\\d+"), m);
    }

    @Test
    void everyHelpTextIsAValidFormatString() {
        // picocli renders each description line with String.format; a bare '%' ("95% CIs") makes it print a WARN
        // (to the stream its tracer captured, not to the command's err) and fall back to the raw line
        java.util.ArrayDeque<picocli.CommandLine> todo = new java.util.ArrayDeque<>(java.util.List.of(Main.commandLine()));
        int commands = 0, lines = 0;
        while (!todo.isEmpty()) {
            picocli.CommandLine c = todo.poll();
            todo.addAll(c.getSubcommands().values());
            commands++;
            var spec = c.getCommandSpec();
            java.util.List<String> texts = new java.util.ArrayList<>();
            texts.addAll(java.util.List.of(spec.usageMessage().description()));
            texts.addAll(java.util.List.of(spec.usageMessage().header()));
            texts.addAll(java.util.List.of(spec.usageMessage().footer()));
            for (var o : spec.options()) texts.addAll(java.util.List.of(o.description()));
            for (var p : spec.positionalParameters()) texts.addAll(java.util.List.of(p.description()));
            for (String t : texts) {
                lines++;
                assertDoesNotThrow(() -> String.format(java.util.Locale.ROOT, t), spec.qualifiedName() + ": " + t);
            }
        }
        assertTrue(commands > 20 && lines > 200, commands + " commands, " + lines + " lines");
    }

    @Test
    void jvmErrorsAndRawJavaText() {
        plain(Errors.message(new OutOfMemoryError("Java heap space")), "out of memory");
        plain(Errors.message(new RuntimeException(new OutOfMemoryError("Direct buffer memory"))), "out of memory");
        plain(Errors.message(new StackOverflowError()), "stack overflow");
        plain(Errors.message(new ArrayIndexOutOfBoundsException("Index 0 out of bounds for length 0")), "internal error");
        plain(Errors.message(new IllegalStateException("-424509440")), "internal error");
        plain(Errors.message(new NullPointerException()), "internal error");
        plain(Errors.message(new NegativeArraySizeException("-64771072")), "too large");
        plain(Errors.message(new NoSuchFileException("/proc/msts-out")), "/proc/msts-out: no such file or directory");
        plain(Errors.message(new AccessDeniedException("/proc/msts-out")), "/proc/msts-out: permission denied");
        plain(Errors.message(new UncheckedIOException(new IOException("x.json: cannot write: No space left on device"))), "no space left on device");
        plain(Errors.message(new IllegalArgumentException("line one\n  at detail two")), "line one");
    }

    @Test
    void aFaultInAMappedReadNamesTheFileThatChanged() throws IOException {
        Path p = dir.resolve("model.safetensors");
        SafeTensors.write(p, Map.of("w", Tensor.of(new float[1 << 16], 1 << 16)));
        try (SafeTensors st = SafeTensors.open(p)) {
            assertEquals(0f, st.tensor("w").get(0));
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ch.truncate(100);
            }
            String m = Errors.message(new InternalError("a fault occurred in an unsafe memory access"));
            plain(m, "truncated or rewritten");
            assertTrue(m.contains(p.toAbsolutePath().toString()) && m.contains("shrank"), m);
        }
    }
}
