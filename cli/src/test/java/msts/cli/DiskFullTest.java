package msts.cli;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A full disk, for real: a 1 MiB tmpfs mounted for the test (needs root and mount rights; skipped with the
 * reason otherwise). Every writer fails with one line saying "no space left on device" and where, the
 * previous good file survives byte for byte, and no temp file, checkpoint.tmp or 0-byte output is left.
 */
class DiskFullTest {
    @TempDir static Path dir;
    static Path fs, acts;
    static boolean mounted;

    @BeforeAll
    static void mount() throws Exception {
        fs = Files.createDirectories(dir.resolve("tmpfs"));
        String why;
        try {
            Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", fs.toString()).redirectErrorStream(true).start();
            boolean done = p.waitFor(20, TimeUnit.SECONDS);
            why = new String(p.getInputStream().readAllBytes()).strip();
            mounted = done && p.exitValue() == 0;
        } catch (IOException e) {
            why = e.getMessage();
        }
        Assumptions.assumeTrue(mounted, "cannot mount a tmpfs here (needs root and mount rights): " + why);
        assertEquals(0, CliRun.of("synthetic", "--out", dir.resolve("syn").toString(), "--seqs", "32", "--context", "16", "--d", "16").code());
        acts = dir.resolve("syn/activations.safetensors");
    }

    @AfterAll
    static void unmount() throws Exception {
        if (mounted) new ProcessBuilder("umount", "-l", fs.toString()).start().waitFor(20, TimeUnit.SECONDS);
    }

    /** Fills the tmpfs until ENOSPC (leaving `leave` bytes free, roughly), returns the filler. */
    static Path fill(String name, long leave) throws IOException {
        Path f = fs.resolve(name);
        byte[] block = new byte[4096];
        try (OutputStream o = Files.newOutputStream(f)) {
            while (Files.getFileStore(fs).getUsableSpace() > leave) o.write(block);
        } catch (IOException full) {
            // full
        }
        return f;
    }

    static void clean() throws IOException {
        try (Stream<Path> s = Files.walk(fs)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) if (!p.equals(fs)) Files.delete(p);
        }
    }

    static List<String> litter(Path d) throws IOException {
        try (Stream<Path> s = Files.walk(d)) {
            return s.filter(p -> {
                String n = p.getFileName().toString();
                try {
                    return n.endsWith(".tmp") || n.startsWith(".tmp-") || n.equals("checkpoint.tmp")
                            || (Files.isRegularFile(p) && Files.size(p) == 0 && !n.equals(".lock"));
                } catch (IOException e) {
                    return true;
                }
            }).map(Path::toString).toList();
        }
    }

    static void assertNoSpace(CliRun r, String where) {
        HostileInputTest.assertOneLine(r, 1, "no space left on device");
        assertTrue(r.err().contains(where), "names " + where + ": " + r.err());
    }

    @Test
    void tinyModelAndSyntheticKeepTheOldFilesAndLeaveNoLitter() throws Exception {
        clean();
        Path out = fs.resolve("syn");
        assertEquals(0, CliRun.of("synthetic", "--out", out.toString(), "--seqs", "8", "--context", "8", "--d", "8").code());
        byte[] before = Files.readAllBytes(out.resolve("activations.safetensors"));
        CliRun r = CliRun.of("synthetic", "--out", out.toString(), "--seqs", "512", "--context", "64", "--d", "16", "--force");
        assertNoSpace(r, "activations.safetensors");
        assertArrayEquals(before, Files.readAllBytes(out.resolve("activations.safetensors")), "the previous file survives");
        assertEquals(List.of(), litter(fs));

        r = CliRun.of("tiny-model", "--out", fs.resolve("model").toString(), "--vocab", "20000");
        assertNoSpace(r, "model.safetensors");
        assertEquals(List.of(), litter(fs));
    }

    @Test
    void trainCheckpointOnAFullDiskLeavesNoCheckpointTmp() throws Exception {
        clean();
        Path out = fs.resolve("run");
        // W_enc + W_dec + Adam moments of a 16→4096 SAE: ~2 MiB, more than the disk
        CliRun r = CliRun.of("train", "--activations", acts.toString(), "--d-sae", "4096", "--tokens", "512", "--batch", "256",
                "--quiet", "--out", out.toString());
        assertNoSpace(r, out.toString());
        assertEquals(List.of(), litter(fs));
        assertFalse(Files.exists(out.resolve("checkpoint.tmp")));
    }

    @Test
    void evalJsonAndReportOnAFullDisk() throws Exception {
        clean();
        Path run = dir.resolve("run");
        CliRun r = CliRun.of("train", "--activations", acts.toString(), "--d-sae", "24", "--tokens", "512", "--batch", "256", "--quiet",
                "--out", dir.resolve("sae").toString());
        assertEquals(0, r.code(), r.err());
        r = CliRun.of("eval", "disentangle", "--sae", dir.resolve("sae").toString(), "--activations", acts.toString(), "--out", run.toString());
        assertEquals(0, r.code(), r.err());
        Path json = run.resolve("disentanglement_eval_results.json");
        try (var s = Files.list(run)) {
            json = s.filter(p -> p.toString().endsWith(".json")).findFirst().orElseThrow();
        }
        // the same eval into the full disk, over an existing good result
        Path evalOut = fs.resolve("eval");
        Files.createDirectories(evalOut);
        Files.copy(json, evalOut.resolve(json.getFileName()));
        byte[] before = Files.readAllBytes(evalOut.resolve(json.getFileName()));
        Path filler = fill("filler", 0);
        r = CliRun.of("eval", "disentangle", "--sae", dir.resolve("sae").toString(), "--activations", acts.toString(), "--out", evalOut.toString());
        assertNoSpace(r, json.getFileName().toString());
        assertArrayEquals(before, Files.readAllBytes(evalOut.resolve(json.getFileName())));
        assertEquals(List.of(), litter(fs));

        r = CliRun.of("report", run.toString(), "--out", fs.resolve("report").toString());
        HostileInputTest.assertOneLine(r, 1, "no space left on device");
        assertEquals(List.of(), litter(fs), "no 0-byte PNG, no temp files");
        Files.delete(filler);
    }
}
