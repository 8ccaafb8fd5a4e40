package msts.cli;

import msts.io.SafeTensors;
import picocli.CommandLine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.util.List;
import java.util.Locale;

/**
 * One rule for every failure: one line {@code msts: <what went wrong, where, what to do>} on stderr, exit 1
 * (2 for usage errors), the stack trace only with --verbose (or MSTS_VERBOSE=1). Applies to every
 * {@link Throwable} — JVM errors included (out of memory, a fault reading a memory-mapped file that shrank) —
 * of every subcommand, through {@link Main}'s execution strategy and exception handlers, so commands added
 * later inherit it without code of their own.
 */
final class Errors {
    private Errors() {}

    static boolean verbose(CommandLine.ParseResult pr) {
        if ("1".equals(System.getenv("MSTS_VERBOSE"))) return true;
        for (CommandLine.ParseResult p = pr; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) return true;
        }
        return false;
    }

    static int handle(Throwable ex, CommandLine cmd, CommandLine.ParseResult pr) {
        cmd.getErr().println("msts: " + message(ex));
        if (verbose(pr)) ex.printStackTrace(cmd.getErr());
        cmd.getErr().flush();
        return 1;
    }

    /** Usage errors (unknown option, bad value): one line and a pointer to --help, exit 2 — no usage dump. */
    static int usage(CommandLine.ParameterException ex, String[] args) {
        CommandLine cmd = ex.getCommandLine();
        String name = cmd.getCommandSpec().qualifiedName(" ");
        cmd.getErr().println("msts: " + oneLine(ex.getMessage()) + " (see '" + name + " --help')");
        if ("1".equals(System.getenv("MSTS_VERBOSE")) || List.of(args).contains("--verbose")) ex.printStackTrace(cmd.getErr());
        cmd.getErr().flush();
        return 2;
    }

    /** The one-line message for a failure: the exception's own words where they say something, else plain words. */
    static String message(Throwable ex) {
        Throwable t = unwrap(ex);
        if (t instanceof OutOfMemoryError) {
            return "out of memory (" + oneLine(t.getMessage()) + "; Java heap limit " + gib(Runtime.getRuntime().maxMemory())
                    + "): use smaller sizes (--batch, --d-sae, --tokens, …) or a larger heap (MSTS_JAVA_OPTS=-Xmx…)";
        }
        if (t instanceof StackOverflowError) return "stack overflow (input nested too deeply?); rerun with --verbose for the trace";
        if (t instanceof InternalError && mappedFault(t)) {
            List<String> changed = SafeTensors.changedMappedFiles();
            return "a memory-mapped input file was truncated or rewritten while being read"
                    + (changed.isEmpty() ? "" : " (" + String.join(", ", changed) + ")")
                    + ": do not modify model, activation or store files while msts reads them; restore the file and rerun";
        }
        if (t instanceof NoSuchFileException e) {
            java.nio.file.Path parent = e.getFile() == null ? null : java.nio.file.Path.of(e.getFile()).toAbsolutePath().getParent();
            boolean parentThere = parent != null && java.nio.file.Files.isDirectory(parent);
            return file(e) + ": no such file or directory" + (parentThere && e.getOtherFile() == null
                    ? " (or it cannot be created in " + parent + ")" : "");
        }
        if (t instanceof AccessDeniedException e) return file(e) + ": permission denied";
        if (t instanceof FileAlreadyExistsException e) return file(e) + ": already exists";
        if (t instanceof NotDirectoryException e) return file(e) + ": not a directory";
        if (t instanceof DirectoryNotEmptyException e) return file(e) + ": directory not empty";
        if (t instanceof FileSystemException e && e.getReason() != null) {
            return file(e) + ": " + diskFull(e.getReason());
        }
        if (t instanceof IOException && t.getMessage() != null) return diskFull(oneLine(t.getMessage()));
        if (t instanceof NegativeArraySizeException)
            return "a size is too large: it overflowed a Java array length (" + oneLine(t.getMessage())
                    + "); use smaller sizes (rerun with --verbose to see where)";
        String m = t.getMessage();
        if (t instanceof IllegalArgumentException || t instanceof IllegalStateException || t instanceof UnsupportedOperationException
                || t.getClass().getName().startsWith("msts.")) {
            if (m != null && !m.isBlank() && !raw(m)) return oneLine(m);
        }
        if (m != null && !m.isBlank() && !raw(m) && !(t instanceof RuntimeException && isJdkBug(t))) return oneLine(m);
        return "internal error (" + t.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + oneLine(m))
                + "); please report it with the output of --verbose";
    }

    private static Throwable unwrap(Throwable ex) {
        Throwable t = ex;
        while ((t instanceof UncheckedIOException || t instanceof CommandLine.ExecutionException
                || t instanceof java.util.concurrent.ExecutionException || t instanceof java.util.concurrent.CompletionException
                || t instanceof java.lang.reflect.InvocationTargetException
                || (t instanceof RuntimeException && t.getClass() == RuntimeException.class && t.getCause() != null
                    && (t.getMessage() == null || t.getMessage().equals(t.getCause().toString()))))
                && t.getCause() != null) {
            t = t.getCause();
        }
        // a JVM error anywhere in the chain decides the message
        for (Throwable c = ex; c != null; c = c.getCause()) {
            if (c instanceof OutOfMemoryError || (c instanceof InternalError && mappedFault(c))) return c;
            if (c.getCause() == c) break;
        }
        return t;
    }

    /** The JDK's words for SIGBUS/SIGSEGV in an access to a mapped file (Unsafe / MemorySegment / vector access). */
    static boolean mappedFault(Throwable t) {
        String m = t.getMessage();
        return m != null && (m.contains("fault occurred") || m.contains("unsafe memory access"));
    }

    /** Exceptions whose message is raw Java text (an index, a bare number, a class name), not a sentence. */
    private static boolean isJdkBug(Throwable t) {
        return t instanceof IndexOutOfBoundsException || t instanceof NullPointerException || t instanceof ArithmeticException
                || t instanceof NegativeArraySizeException || t instanceof ClassCastException || t instanceof ArrayStoreException
                || t instanceof java.util.NoSuchElementException || t instanceof java.util.ConcurrentModificationException;
    }

    private static boolean raw(String m) {
        String s = m.strip();
        return s.matches("-?\\d+") || s.matches("[\\w.$]+Exception") || s.equals("null");
    }

    private static String file(FileSystemException e) {
        return e.getFile() + (e.getOtherFile() != null ? " -> " + e.getOtherFile() : "");
    }

    private static String diskFull(String reason) {
        String r = reason.toLowerCase(Locale.ROOT);
        if (r.contains("no space left"))
            return reason.replace("No space left on device", "no space left on device") + " — free space there or choose another output location";
        if (r.contains("quota")) return reason + " — free space there or choose another output location";
        return reason;
    }

    /** The first line of a message (Jackson and others append source excerpts on further lines). */
    static String oneLine(String m) {
        if (m == null) return "";
        String s = m.strip();
        int nl = s.indexOf('\n');
        if (nl >= 0) s = s.substring(0, nl).strip();
        return s.replace('\r', ' ');
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }
}
