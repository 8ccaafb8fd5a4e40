package msts.io;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import msts.engine.DType;
import msts.engine.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class SafeTensorsTest {
    @TempDir Path dir;

    /** Raw file: header length, header JSON (as given), data bytes. */
    private Path raw(String name, long headerLen, String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLen).put(h);
        Path p = dir.resolve(name);
        Files.write(p, b.array());
        return p;
    }

    private Path raw(String name, String header, int dataBytes) throws IOException {
        return raw(name, header.getBytes(StandardCharsets.UTF_8).length, header, dataBytes);
    }

    private static SafeTensorsException fails(Path p) {
        return assertThrows(SafeTensorsException.class, () -> { try (var s = SafeTensors.open(p)) { } });
    }

    private static void mentions(SafeTensorsException e, String... parts) {
        for (String part : parts)
            assertTrue(e.getMessage().contains(part), () -> "message '" + e.getMessage() + "' lacks '" + part + "'");
    }

    // ---- round trips -------------------------------------------------------------------------------

    @Test
    void roundTripAllDtypesAndMetadata() throws IOException {
        float[] a = {1f, -2.5f, 3.25f, 1e-8f, -0f, 7f};
        Map<String, Tensor> m = new LinkedHashMap<>();
        m.put("a", Tensor.of(a, 2, 3));
        m.put("b.bf16", Tensor.of(new float[]{0.1f, 1.7f, -3f}, 3).to(DType.BF16));
        m.put("c.f16", Tensor.of(new float[]{0.1f, 65504f, -3f, 0.5f}, 2, 2).to(DType.F16));
        m.put("scalar", Tensor.of(new float[]{42f}));
        m.put("empty", Tensor.allocate(DType.F32, 0, 4));
        Path f = dir.resolve("sub/rt.safetensors");
        SafeTensors.write(f, m, Map.of("format", "pt", "note", "hello"));
        long size = Files.size(f);
        ByteBuffer head = ByteBuffer.wrap(Files.readAllBytes(f)).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(0, (8 + head.getLong(0)) % 8, "data starts 8-byte aligned");
        try (SafeTensors st = SafeTensors.open(f)) {
            assertEquals(m.keySet(), st.names());
            assertEquals(Map.of("format", "pt", "note", "hello"), st.metadata());
            assertEquals(size, st.mappedBytes());
            for (var e : m.entrySet()) {
                Tensor t = st.tensor(e.getKey());
                assertEquals(e.getValue().dtype(), t.dtype());
                assertArrayEquals(e.getValue().shape(), t.shape());
                assertArrayEquals(e.getValue().toFloatArray(), t.toFloatArray(), 0f, e.getKey());
            }
            assertTrue(st.tensor("a").segment().isMapped(), "tensor is a view of the mapping");
            assertTrue(st.has("a"));
            assertFalse(st.has("zz"));
        }
        try (var s = Files.list(f.getParent())) {
            assertEquals(1, s.count(), "no temp file left behind");
        }
    }

    @Test
    void overwriteReplacesAtomically() throws IOException {
        Path f = dir.resolve("x.safetensors");
        SafeTensors.write(f, Map.of("a", Tensor.of(new float[]{1, 2}, 2)), null);
        try (SafeTensors open = SafeTensors.open(f)) {
            SafeTensors.write(f, Map.of("b", Tensor.of(new float[]{3}, 1)), null);
            assertEquals(2f, open.tensor("a").get(1), "old mapping stays valid after the rename");
        }
        try (SafeTensors st = SafeTensors.open(f)) {
            assertEquals(java.util.Set.of("b"), st.names());
        }
    }

    @Test
    void readsFileWrittenByNumpyPeer() throws IOException {
        Path f = dir.resolve("numpy.safetensors");
        try (InputStream in = getClass().getResourceAsStream("/safetensors/numpy.safetensors")) {
            Files.copy(in, f);
        }
        JsonNode exp;
        try (InputStream in = getClass().getResourceAsStream("/safetensors/numpy.expected.json")) {
            exp = new ObjectMapper().readTree(in);
        }
        try (SafeTensors st = SafeTensors.open(f)) {
            assertEquals("numpy", st.metadata().get("producer"));
            for (var it = exp.fields(); it.hasNext(); ) {
                var e = it.next();
                Tensor t = st.tensor(e.getKey());
                JsonNode shape = e.getValue().get("shape"), vals = e.getValue().get("values");
                assertEquals(shape.size(), t.rank());
                for (int i = 0; i < shape.size(); i++) assertEquals(shape.get(i).asLong(), t.dim(i));
                for (int i = 0; i < vals.size(); i++) assertEquals((float) vals.get(i).asDouble(), t.get(i), 0f);
            }
            assertEquals("I64", st.entry("d.i64").dtype());
            var ex = assertThrows(SafeTensorsException.class, () -> st.tensor("d.i64"));
            mentions(ex, "d.i64", "I64", "not supported");
            assertEquals(0, st.tensor("e.empty").numel());
        }
    }

    // ---- sharded ---------------------------------------------------------------------------------

    private Path sharded() throws IOException {
        Path d = dir.resolve("ckpt");
        Files.createDirectories(d);
        SafeTensors.write(d.resolve("model-00001-of-00002.safetensors"),
                Map.of("w1", Tensor.of(new float[]{1, 2, 3}, 3)), Map.of("format", "pt"));
        SafeTensors.write(d.resolve("model-00002-of-00002.safetensors"),
                Map.of("w2", Tensor.of(new float[]{4, 5}, 1, 2)), Map.of("format", "pt"));
        Files.writeString(d.resolve(SafeTensors.INDEX_FILE), """
                {"metadata": {"total_size": 20},
                 "weight_map": {"w1": "model-00001-of-00002.safetensors", "w2": "model-00002-of-00002.safetensors"}}""");
        return d;
    }

    @Test
    void readsShardedCheckpoint() throws IOException {
        Path d = sharded();
        try (SafeTensors st = SafeTensors.open(d)) {
            assertEquals(java.util.Set.of("w1", "w2"), st.names());
            assertEquals(3f, st.tensor("w1").get(2));
            assertEquals(5f, st.tensor("w2").get(1));
            assertEquals("20", st.metadata().get("total_size"));
            assertEquals(2, st.files().size());
        }
    }

    @Test
    void shardFileMissing() throws IOException {
        Path d = sharded();
        Files.delete(d.resolve("model-00002-of-00002.safetensors"));
        mentions(fails(d), "model-00002-of-00002.safetensors", "missing", "w2");
    }

    @Test
    void tensorListedInIndexButNotInShard() throws IOException {
        Path d = sharded();
        Files.writeString(d.resolve(SafeTensors.INDEX_FILE), """
                {"weight_map": {"w1": "model-00001-of-00002.safetensors", "w3": "model-00001-of-00002.safetensors"}}""");
        mentions(fails(d), "w3", "model-00001-of-00002.safetensors", "not present");
    }

    @Test
    void directoryWithoutCheckpoint() {
        mentions(fails(dir), "no model.safetensors");
        mentions(fails(dir.resolve("nope.safetensors")), "nope.safetensors", "no such file");
    }

    // ---- bad files: one clear exception each -----------------------------------------------------

    @Test
    void truncatedBelowEightBytes() throws IOException {
        Path p = dir.resolve("t.safetensors");
        Files.write(p, new byte[]{1, 2, 3});
        mentions(fails(p), "t.safetensors", "truncated");
    }

    @Test
    void headerBeyondFile() throws IOException {
        mentions(fails(raw("h.safetensors", 1000, "{}", 0)), "h.safetensors", "beyond the end");
    }

    @Test
    void headerTooLarge() throws IOException {
        mentions(fails(raw("big.safetensors", 200_000_000L, "{}", 0)), "big.safetensors", "exceeds the limit");
        mentions(fails(raw("neg.safetensors", -5L, "{}", 0)), "neg.safetensors", "exceeds the limit");
    }

    @Test
    void headerNotJson() throws IOException {
        mentions(fails(raw("j.safetensors", "{\"a\": [1, ", 0)), "j.safetensors", "not valid JSON");
        mentions(fails(raw("k.safetensors", "[1, 2]  ", 0)), "k.safetensors", "'{'");
        mentions(fails(raw("l.safetensors", "xxxxxxxx", 0)), "l.safetensors", "'{'");
    }

    @Test
    void duplicateTensorName() throws IOException {
        var e = fails(raw("dup.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8));
        mentions(e, "dup.safetensors", "not valid JSON", "Duplicate field 'w'");
    }

    @Test
    void offsetsOutOfRange() throws IOException {
        var e = fails(raw("o.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8));
        mentions(e, "o.safetensors", "'w'", "out of range");
    }

    @Test
    void beginAfterEnd() throws IOException {
        var e = fails(raw("b.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8));
        mentions(e, "'w'", "begin > end");
    }

    @Test
    void overlapping() throws IOException {
        var e = fails(raw("ov.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}", 12));
        mentions(e, "ov.safetensors", "'b'", "overlaps", "'a'");
    }

    @Test
    void holeBetweenTensors() throws IOException {
        var e = fails(raw("hole.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", 12));
        mentions(e, "hole.safetensors", "'b'", "hole");
    }

    @Test
    void trailingBytesNotCovered() throws IOException {
        var e = fails(raw("tail.safetensors", "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12));
        mentions(e, "tail.safetensors", "cover 4 bytes", "12");
    }

    @Test
    void unknownDtype() throws IOException {
        var e = fails(raw("d.safetensors", "{\"w\":{\"dtype\":\"Q4\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2));
        mentions(e, "d.safetensors", "'w'", "unknown dtype 'Q4'");
    }

    @Test
    void shapeSizeMismatch() throws IOException {
        var e = fails(raw("s.safetensors", "{\"w\":{\"dtype\":\"BF16\",\"shape\":[3,2],\"data_offsets\":[0,8]}}", 8));
        mentions(e, "s.safetensors", "'w'", "needs 12 bytes", "span 8");
        var o = fails(raw("ovf.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,8],\"data_offsets\":[0,8]}}", 8));
        mentions(o, "'w'", "overflows");
    }

    @Test
    void otherDtypesValidatedBySize() throws IOException {
        Path ok = raw("i.safetensors", "{\"i\":{\"dtype\":\"I64\",\"shape\":[2],\"data_offsets\":[0,16]},"
                + "\"u\":{\"dtype\":\"BOOL\",\"shape\":[3],\"data_offsets\":[16,19]}}", 19);
        try (SafeTensors st = SafeTensors.open(ok)) {
            assertEquals(2, st.names().size());
            mentions(assertThrows(SafeTensorsException.class, () -> st.tensor("u")), "'u'", "BOOL");
        }
        var e = fails(raw("i2.safetensors", "{\"i\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[0,16]}}", 16));
        mentions(e, "'i'", "needs 8 bytes");
    }

    @Test
    void malformedEntry() throws IOException {
        mentions(fails(raw("m1.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,0]}}", 0)),
                "'w'", "invalid dimension");
        mentions(fails(raw("m2.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4)), "'w'", "data_offsets");
        mentions(fails(raw("m3.safetensors", "{\"w\":3}", 0)), "'w'", "not an object");
        mentions(fails(raw("m4.safetensors", "{\"__metadata__\":{\"a\":1}}", 0)), "__metadata__");
    }

    @Test
    void missingTensorListsNearNames() throws IOException {
        Path f = dir.resolve("n.safetensors");
        SafeTensors.write(f, Map.of("model.norm.weight", Tensor.of(new float[]{1}, 1),
                "model.embed_tokens.weight", Tensor.of(new float[]{1, 2}, 1, 2)), null);
        try (SafeTensors st = SafeTensors.open(f)) {
            var e = assertThrows(SafeTensorsException.class, () -> st.tensor("model.norm.weights"));
            mentions(e, "n.safetensors", "'model.norm.weights'", "no such tensor", "nearest names: model.norm.weight");
            var s = assertThrows(SafeTensorsException.class, () -> st.tensor("model.norm.weight", 2));
            mentions(s, "shape [1], expected [2]");
        }
    }

    @Test
    void spacePaddedHeaderAccepted() throws IOException {
        Path p = raw("pad.safetensors", "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}       ", 4);
        try (SafeTensors st = SafeTensors.open(p)) {
            assertEquals(0f, st.tensor("w").get(0));
        }
    }

    @Test
    void useAfterCloseIsAnExceptionNotACrash() throws IOException {
        Path f = dir.resolve("c.safetensors");
        SafeTensors.write(f, Map.of("a", Tensor.of(new float[]{1, 2}, 2)), null);
        SafeTensors st = SafeTensors.open(f);
        Tensor t = st.tensor("a");
        st.close();
        assertThrows(IllegalStateException.class, () -> t.get(0));
    }

    /** Written files are data files readable by everyone (0644), not the 0600 of the temp file they were renamed from. */
    @Test
    void writtenFilesAreWorldReadable() throws IOException {
        Path st = dir.resolve("p.safetensors"), js = dir.resolve("p.json");
        SafeTensors.write(st, Map.of("x", Tensor.of(new float[]{1, 2}, 2)));
        AtomicFiles.write(js, "{}".getBytes(StandardCharsets.UTF_8));
        for (Path p : new Path[]{st, js})
            assertEquals("rw-r--r--", java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(p)), p.toString());
    }

    @Test
    void metadataIsWrittenInSortedKeyOrderSoTheBytesDoNotDependOnTheMapType() throws Exception {
        Map<String, Tensor> t = Map.of("w", Tensor.of(new float[]{1f, 2f}, 2));
        Map<String, String> a = new LinkedHashMap<>(), b = new LinkedHashMap<>();
        for (String k : new String[]{"step", "producer", "format", "zeta", "alpha"}) a.put(k, "v" + k);
        for (String k : new String[]{"alpha", "zeta", "format", "producer", "step"}) b.put(k, "v" + k);
        SafeTensors.write(dir.resolve("a.safetensors"), t, a);
        SafeTensors.write(dir.resolve("b.safetensors"), t, b);
        assertArrayEquals(Files.readAllBytes(dir.resolve("a.safetensors")), Files.readAllBytes(dir.resolve("b.safetensors")));
        String head = new String(Files.readAllBytes(dir.resolve("a.safetensors")), StandardCharsets.UTF_8);
        assertTrue(head.indexOf("\"alpha\"") < head.indexOf("\"format\"") && head.indexOf("\"format\"") < head.indexOf("\"zeta\""), head);
    }
}
