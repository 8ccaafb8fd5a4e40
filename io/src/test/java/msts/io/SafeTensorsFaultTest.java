package msts.io;

import msts.engine.DType;
import msts.engine.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Hostile safetensors: a seeded fuzz of the reader (every mutated file opens and reads cleanly or fails with a
 * SafeTensorsException naming the file — never another exception or a crash), and a mapped file truncated while
 * it is read (a Java InternalError, not a JVM crash; {@link SafeTensors#changedMappedFiles} names the file).
 */
class SafeTensorsFaultTest {
    @TempDir Path dir;

    static final int FUZZ_CASES = 600;
    static final long FUZZ_BUDGET_NS = 30_000_000_000L; // bounded in CI time whatever the machine

    private Path valid() throws IOException {
        Map<String, Tensor> m = new LinkedHashMap<>();
        float[] a = new float[6 * 7];
        for (int i = 0; i < a.length; i++) a[i] = i * 0.25f;
        m.put("a", Tensor.of(a, 6, 7));
        m.put("b.weight", Tensor.of(new float[]{1, 2, 3, 4}, 4).to(DType.BF16));
        m.put("c", Tensor.of(new float[]{5, 6}, 1, 2).to(DType.F16));
        Path p = dir.resolve("valid.safetensors");
        SafeTensors.write(p, m, Map.of("format", "pt"));
        return p;
    }

    @Test
    void seededFuzzEveryFileEndsCleanly() throws IOException {
        byte[] good = Files.readAllBytes(valid());
        long headerLen = ByteBuffer.wrap(good).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        String header = new String(good, 8, (int) headerLen, StandardCharsets.UTF_8);
        Random rnd = new Random(20261202L);
        String[] numbers = {"-1", "0", "1", "7", "168", "9223372036854775807", "18446744073709551616", "1e30", "-0.5", "\"3\"", "null", "[]", "{}"};
        long t0 = System.nanoTime();
        int ran = 0, opened = 0, refused = 0;
        for (int n = 0; n < FUZZ_CASES && System.nanoTime() - t0 < FUZZ_BUDGET_NS; n++) {
            byte[] f;
            switch (n % 6) {
                case 0 -> { // flip bytes anywhere
                    f = good.clone();
                    for (int k = 1 + rnd.nextInt(8); k > 0; k--) f[rnd.nextInt(f.length)] ^= (byte) (1 << rnd.nextInt(8));
                }
                case 1 -> f = java.util.Arrays.copyOf(good, rnd.nextInt(good.length)); // truncated
                case 2 -> { // a number of the header replaced
                    java.util.regex.Matcher mm = java.util.regex.Pattern.compile("-?\\d+").matcher(header);
                    java.util.List<int[]> spans = new java.util.ArrayList<>();
                    while (mm.find()) spans.add(new int[]{mm.start(), mm.end()});
                    int[] sp = spans.get(rnd.nextInt(spans.size()));
                    String h = header.substring(0, sp[0]) + numbers[rnd.nextInt(numbers.length)] + header.substring(sp[1]);
                    f = withHeader(good, headerLen, h);
                }
                case 3 -> { // dtype names scrambled
                    String[] dts = {"F32", "BF16", "F16", "F64", "I8", "U8", "I64", "BOOL", "F8_E4M3", "X", "", "f32"};
                    String h = header.replaceFirst("\"dtype\":\"[A-Z0-9_]+\"", "\"dtype\":\"" + dts[rnd.nextInt(dts.length)] + "\"");
                    f = withHeader(good, headerLen, h);
                }
                case 4 -> { // the 8-byte header length replaced
                    f = good.clone();
                    long[] lens = {-1, 0, 1, headerLen - 1, headerLen + 1, good.length, Long.MAX_VALUE, 100_000_001L, rnd.nextLong()};
                    ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(0, lens[rnd.nextInt(lens.length)]);
                }
                default -> { // random bytes, a few with a plausible header length
                    f = new byte[rnd.nextInt(256)];
                    rnd.nextBytes(f);
                    if (f.length >= 8 && rnd.nextBoolean()) ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(0, rnd.nextInt(f.length));
                }
            }
            Path p = dir.resolve("fuzz-" + n + ".safetensors");
            Files.write(p, f);
            ran++;
            try (SafeTensors st = SafeTensors.open(p)) {
                double sum = 0; // every value is read (a fault would surface here)
                for (String name : st.names()) {
                    Tensor t = st.tensor(name);
                    for (long i = 0; i < t.numel(); i++) sum += t.get(i);
                }
                opened++;
            } catch (SafeTensorsException e) {
                refused++;
                assertNotNull(e.getMessage());
                assertTrue(e.getMessage().contains(p.getFileName().toString()), "names the file: " + e.getMessage());
                assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
            } catch (Throwable t) {
                fail("fuzz case " + n + " (kind " + n % 6 + ") ended in " + t + " instead of a SafeTensorsException", t);
            }
        }
        assertTrue(ran >= 100, "at least 100 fuzz cases in the time budget, ran " + ran);
        assertTrue(refused > ran / 3, "most mutations are refused: " + refused + " of " + ran);
        System.out.printf("safetensors fuzz: %d files, %d refused with a clear error, %d read cleanly%n", ran, refused, opened);
    }

    private static byte[] withHeader(byte[] good, long oldLen, String h) {
        byte[] hb = h.getBytes(StandardCharsets.UTF_8);
        byte[] f = new byte[(int) (8 + hb.length + good.length - 8 - oldLen)];
        ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putLong(0, hb.length);
        System.arraycopy(hb, 0, f, 8, hb.length);
        System.arraycopy(good, (int) (8 + oldLen), f, 8 + hb.length, (int) (good.length - 8 - oldLen));
        return f;
    }

    /** A mapped file truncated under a reader: an InternalError in Java (no JVM crash), and the file is named. */
    @Test
    void truncatedWhileMappedIsAnErrorNamingTheFile() throws IOException {
        Map<String, Tensor> m = new LinkedHashMap<>();
        float[] big = new float[1 << 18]; // 1 MiB: the tail lies on pages past the truncation point
        java.util.Arrays.fill(big, 1f);
        m.put("big", Tensor.of(big, big.length));
        Path p = dir.resolve("victim.safetensors");
        SafeTensors.write(p, m);
        try (SafeTensors st = SafeTensors.open(p)) {
            Tensor t = st.tensor("big");
            assertEquals(1f, t.get(big.length - 1));
            assertTrue(SafeTensors.changedMappedFiles().stream().noneMatch(s -> s.contains("victim")));
            try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
                ch.truncate(4096);
            }
            Throwable thrown = null;
            try {
                double s = 0;
                for (long i = 0; i < t.numel(); i++) s += t.get(i);
                fail("reading past the end of a truncated mapping must fault, sum " + s);
            } catch (InternalError e) {
                thrown = e;
            }
            assertTrue(thrown.getMessage() != null && thrown.getMessage().contains("fault"), thrown.toString());
            assertTrue(SafeTensors.changedMappedFiles().stream().anyMatch(s -> s.contains("victim.safetensors") && s.contains("shrank")),
                    SafeTensors.changedMappedFiles().toString());
        }
    }

    /** A rewrite that fails half-way (here: the target's directory vanishes) leaves no temp file and keeps the old file. */
    @Test
    void failedWriteLeavesOldFileAndNoTemp() throws IOException {
        Path p = valid();
        byte[] before = Files.readAllBytes(p);
        Map<String, Tensor> bad = new LinkedHashMap<>();
        bad.put("__metadata__", Tensor.of(new float[]{1}, 1));
        assertThrows(SafeTensorsException.class, () -> SafeTensors.write(p, bad));
        assertArrayEquals(before, Files.readAllBytes(p));
        try (var s = Files.list(dir)) {
            assertTrue(s.noneMatch(f -> f.getFileName().toString().endsWith(".tmp")), "no temp litter");
        }
    }
}
