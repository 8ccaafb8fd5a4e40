package msts.cli;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * UTF-8 whatever the locale. The JVM decodes argv with the locale's charset (sun.jnu.encoding: under LC_ALL=C
 * that is ASCII, and "café" arrives as "caf??"); msts re-reads its arguments as the UTF-8 bytes the process was
 * started with (/proc/self/cmdline, Linux) and writes UTF-8 to stdout/stderr.
 */
final class Utf8Args {
    private Utf8Args() {}

    /** args as UTF-8: the last args.length entries of /proc/self/cmdline when the locale's charset is not UTF-8. */
    static String[] of(String[] args) {
        Charset jnu = jnuCharset();
        if (jnu.equals(StandardCharsets.UTF_8) || args.length == 0) return args;
        try {
            byte[] raw = Files.readAllBytes(Path.of("/proc/self/cmdline"));
            String[] fromProc = fromCmdline(raw, args.length);
            return fromProc == null || !consistent(args, fromProc) ? args : fromProc;
        } catch (IOException | RuntimeException e) {
            return args; // no /proc: keep what the JVM decoded
        }
    }

    static Charset jnuCharset() {
        try {
            return Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8"));
        } catch (RuntimeException e) {
            return StandardCharsets.UTF_8;
        }
    }

    /** The last n NUL-terminated entries of a cmdline, strictly UTF-8-decoded; null if there are fewer or one is not UTF-8. */
    static String[] fromCmdline(byte[] raw, int n) {
        List<String> all = new ArrayList<>();
        CharsetDecoder dec = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
        int start = 0;
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] != 0) continue;
            try {
                all.add(dec.decode(java.nio.ByteBuffer.wrap(raw, start, i - start)).toString());
            } catch (java.nio.charset.CharacterCodingException e) {
                all.add(null);
            }
            start = i + 1;
        }
        if (all.size() < n) return null;
        String[] out = all.subList(all.size() - n, all.size()).toArray(new String[0]);
        for (String s : out) if (s == null) return null;
        return out;
    }

    /** Same count and the same ASCII characters where the JVM's decoding kept them (guards against a mismatch). */
    static boolean consistent(String[] jvm, String[] utf8) {
        for (int i = 0; i < jvm.length; i++) {
            String a = jvm[i], b = utf8[i];
            if (a.equals(b)) continue;
            StringBuilder asciiA = new StringBuilder(), asciiB = new StringBuilder();
            a.chars().filter(c -> c < 128 && c != '?').forEach(asciiA::appendCodePoint);
            b.chars().filter(c -> c < 128 && c != '?').forEach(asciiB::appendCodePoint);
            if (!asciiA.toString().equals(asciiB.toString())) return false;
        }
        return true;
    }

    /** A UTF-8 writer on a standard stream (auto-flushing). */
    static PrintWriter writer(FileDescriptor fd) {
        return new PrintWriter(new OutputStreamWriter(new FileOutputStream(fd), StandardCharsets.UTF_8), true);
    }

    /** A text file read as UTF-8 (one clear error when it is not). */
    static String readFile(Path file) {
        try {
            byte[] b = Files.readAllBytes(file);
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(java.nio.ByteBuffer.wrap(b)).toString();
        } catch (java.nio.charset.CharacterCodingException e) {
            throw new IllegalArgumentException(file + ": not UTF-8 text");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read: " + e.getMessage());
        }
    }
}
