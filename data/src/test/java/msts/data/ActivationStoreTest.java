package msts.data;

import com.fasterxml.jackson.databind.node.ObjectNode;
import msts.engine.DType;
import msts.engine.Tensor;
import msts.io.SafeTensors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.*;

class ActivationStoreTest {
    @TempDir Path dir;

    static StoreManifest manifest(DType dt, int ctx, int d, int perShard, long target) {
        ObjectNode args = StoreManifest.JSON.createObjectNode();
        args.put("layer", 3);
        return new StoreManifest("tiny", StoreManifest.hookName(3), 3, d, ctx, dt, perShard, "fake",
                List.of("/c.jsonl"), Corpus.Options.DEFAULT, args, target, List.of(), Corpus.Position.START, false, false);
    }

    static float[] random(int n, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * 3);
        return x;
    }

    /** I32 ids are exact beyond 2^24 (F32 ids were not); a store whose shard holds F32 ids (older msts) still reads. */
    @Test
    void tokenIdsAreI32AndOldF32StoresRead() {
        int n = 2, ctx = 3, d = 2;
        float[] data = random(n * ctx * d, 3);
        int[][] tokens = {{2, 16_777_217, 5}, {2, 7, 255_999}};
        Path out = dir.resolve("ids");
        var w = ActivationStoreWriter.openOrCreate(out, manifest(DType.F32, ctx, d, n, n));
        try (var b = w.newShard(n)) {
            for (int s = 0; s < n; s++) b.add(data, s * ctx * d, tokens[s]);
            w.commit(b, new Corpus.Position(n, 0, n));
        }
        w.finish(false);
        w.close();
        try (ActivationSource src = ActivationSources.open(out)) {
            for (int s = 0; s < n; s++) assertArrayEquals(tokens[s], src.tokens(s));
        }
        // rewrite the shard as an older msts wrote it: F32 token ids
        Path shard = out.resolve("shard_00000.safetensors");
        float[] f32 = new float[n * ctx];
        int[][] small = {{2, 651, 5}, {2, 7, 255_999}};
        for (int s = 0; s < n; s++) for (int p = 0; p < ctx; p++) f32[s * ctx + p] = small[s][p];
        java.util.Map<String, msts.engine.Tensor> t = new java.util.LinkedHashMap<>();
        t.put("activations", msts.engine.Tensor.of(data, n, ctx, d));
        t.put("tokens", msts.engine.Tensor.of(f32, n, ctx));
        SafeTensors.write(shard, t, java.util.Map.of("format", "msts-activation-shard"));
        try (ActivationSource src = ActivationSources.open(out)) {
            assertInstanceOf(ActivationStore.class, src);
            for (int s = 0; s < n; s++) assertArrayEquals(small[s], src.tokens(s));
        }
    }

    @Test
    void roundTripF32AndBf16() {
        int n = 11, ctx = 5, d = 7, per = 4;
        float[] data = random(n * ctx * d, 1);
        int[][] tokens = new int[n][ctx];
        for (int s = 0; s < n; s++) for (int p = 0; p < ctx; p++) tokens[s][p] = p == 0 ? 2 : 255_999 - s * 100 - p;
        for (DType dt : new DType[] {DType.F32, DType.BF16}) {
            Path out = dir.resolve(dt.name());
            var w = ActivationStoreWriter.openOrCreate(out, manifest(dt, ctx, d, per, n));
            assertFalse(w.resumed());
            for (int s = 0; s < n; ) {
                int m = Math.min(per, n - s);
                try (var b = w.newShard(m)) {
                    for (int i = 0; i < m; i++) b.add(data, (s + i) * ctx * d, tokens[s + i]);
                    w.commit(b, new Corpus.Position(s + m, 0, s + m));
                }
                s += m;
            }
            w.finish(false);
            w.close();
            try (ActivationSource src = ActivationSources.open(out)) {
                assertInstanceOf(ActivationStore.class, src);
                assertTrue(((ActivationStore) src).isComplete());
                assertEquals(3, ((ActivationStore) src).manifest().shards().size());
                assertEquals(n, src.numSequences());
                assertEquals(ctx, src.contextSize());
                assertEquals(d, src.dIn());
                float[] seq = new float[ctx * d], tokv = new float[d];
                for (int s = 0; s < n; s++) {
                    src.readSequence(s, seq, 0);
                    for (int i = 0; i < ctx * d; i++) assertEquals(dt.round(data[s * ctx * d + i]), seq[i]);
                    src.readToken(s, 3, tokv, 0);
                    assertArrayEquals(Arrays.copyOfRange(seq, 3 * d, 4 * d), tokv);
                    assertArrayEquals(tokens[s], src.tokens(s));
                }
            }
        }
        // token ids are stored as I32
        try (var st = SafeTensors.open(dir.resolve("F32/shard_00000.safetensors"))) {
            assertEquals("I32", st.entry("tokens").dtype());
        }
        // BF16 shards hold BF16 (half the bytes)
        try (var st = SafeTensors.open(dir.resolve("BF16/shard_00000.safetensors"))) {
            assertEquals(DType.BF16, st.tensor("activations").dtype());
            assertEquals("msts-activation-shard", st.metadata().get("format"));
        }
    }

    @Test
    void leftoversOfAKilledRunAreNeverReadAndAreRedone() throws Exception {
        int ctx = 3, d = 2;
        float[] data = random(6 * ctx * d, 2);
        int[] tok = {2, 5, 6};
        var w = ActivationStoreWriter.openOrCreate(dir, manifest(DType.F32, ctx, d, 2, 6));
        try (var b = w.newShard(2)) {
            b.add(data, 0, tok);
            b.add(data, ctx * d, tok);
            w.commit(b, new Corpus.Position(2, 0, 2));
        }
        // while the writer is open, a second one is refused
        var busy = assertThrows(StoreException.class, () -> ActivationStoreWriter.openOrCreate(dir, manifest(DType.F32, ctx, d, 2, 6)));
        assertTrue(busy.getMessage().contains("being written by another harvest"), busy.getMessage());
        w.close(); // (a killed process releases its lock the same way)
        // a kill while writing shard 1: its temp file, and even a renamed shard whose manifest update was lost
        Files.write(dir.resolve(".shard_00001.safetensors.12345.tmp"), new byte[] {1, 2, 3});
        Files.write(dir.resolve("shard_00001.safetensors"), new byte[] {9, 9, 9, 9, 9, 9, 9, 9, 9});
        try (var st = ActivationStore.open(dir)) {
            assertEquals(2, st.numSequences());
            assertFalse(st.isComplete());
        }
        var w2 = ActivationStoreWriter.openOrCreate(dir, manifest(DType.F32, ctx, d, 2, 6));
        w2.close();
        assertTrue(w2.resumed());
        assertEquals(2, w2.sequencesDone());
        assertEquals(new Corpus.Position(2, 0, 2), w2.position());
        assertFalse(Files.exists(dir.resolve(".shard_00001.safetensors.12345.tmp")));
        assertFalse(Files.exists(dir.resolve("shard_00001.safetensors")));
    }

    @Test
    void otherArgumentsAreRefused() {
        ActivationStoreWriter.openOrCreate(dir, manifest(DType.F32, 3, 2, 2, 6)).close();
        var other = manifest(DType.BF16, 4, 2, 2, 6);
        var e = assertThrows(StoreException.class, () -> ActivationStoreWriter.openOrCreate(dir, other));
        assertTrue(e.getMessage().contains("other arguments"), e.getMessage());
        assertTrue(e.getMessage().contains("dtype: F32 in the store, BF16 now"), e.getMessage());
        assertTrue(e.getMessage().contains("context: 3 in the store, 4 now"), e.getMessage());
        // a different target (--tokens) is allowed
        ActivationStoreWriter.openOrCreate(dir, manifest(DType.F32, 3, 2, 2, 60)).close();
        assertEquals(60, StoreManifest.read(dir).targetSequences());
    }

    @Test
    void refusesNonEmptyDirectoryWithoutManifest() throws Exception {
        Files.writeString(dir.resolve("notes.txt"), "x");
        var e = assertThrows(StoreException.class, () -> ActivationStoreWriter.openOrCreate(dir, manifest(DType.F32, 3, 2, 2, 6)));
        assertTrue(e.getMessage().contains("not an activation store"), e.getMessage());
        assertFalse(Files.exists(dir.resolve(ActivationStoreWriter.LOCK_FILE)), "no lock file left in a foreign directory");
        e = assertThrows(StoreException.class, () -> ActivationStore.open(dir));
        assertTrue(e.getMessage().contains("no manifest.json"), e.getMessage());
    }

    @Test
    void activationFileWrittenBySafeTensors() {
        int n = 4, ctx = 6, d = 3;
        float[] data = random(n * ctx * d, 3);
        for (DType dt : new DType[] {DType.F32, DType.BF16}) {
            Path f = dir.resolve("acts_" + dt + ".safetensors");
            Map<String, Tensor> t = new LinkedHashMap<>();
            t.put("activations", Tensor.of(data.clone(), n, ctx, d).to(dt));
            SafeTensors.write(f, t, Map.of());
            try (ActivationSource src = ActivationSources.open(f)) {
                assertInstanceOf(ActivationFile.class, src);
                assertEquals(n, src.numSequences());
                assertEquals(ctx, src.contextSize());
                assertEquals(d, src.dIn());
                assertNull(src.tokens(0));
                float[] seq = new float[ctx * d];
                for (int s = 0; s < n; s++) {
                    src.readSequence(s, seq, 0);
                    for (int i = 0; i < ctx * d; i++) assertEquals(dt.round(data[s * ctx * d + i]), seq[i]);
                }
                // usable by the batcher like a store
                var b = new ActivationBatcher(src, 1);
                float[] x = new float[n * ctx * d];
                b.nextSequences(n, x);
            }
        }
        Path bad = dir.resolve("bad.safetensors");
        SafeTensors.write(bad, Map.of("acts", Tensor.of(data.clone(), n, ctx, d)), Map.of());
        var e = assertThrows(StoreException.class, () -> ActivationFile.open(bad));
        assertTrue(e.getMessage().contains("no tensor 'activations'"), e.getMessage());
        SafeTensors.write(bad, Map.of("activations", Tensor.of(data.clone(), n * ctx, d)), Map.of());
        e = assertThrows(StoreException.class, () -> ActivationFile.open(bad));
        assertTrue(e.getMessage().contains("expected [n_seq, ctx, d]"), e.getMessage());
        e = assertThrows(StoreException.class, () -> ActivationSources.open(dir.resolve("missing")));
        assertTrue(e.getMessage().contains("no activation store or activations file"), e.getMessage());
    }

    /** A safetensors file written by hand (as numpy/torch would): F32 activations and I32 or I64 tokens. */
    @Test
    void activationFileWithIntegerTokens() throws Exception {
        int n = 3, ctx = 4, d = 2;
        float[] data = random(n * ctx * d, 4);
        for (String dt : new String[] {"I32", "I64"}) {
            int tb = dt.equals("I32") ? 4 : 8;
            long actBytes = (long) n * ctx * d * 4, tokBytes = (long) n * ctx * tb;
            String header = "{\"activations\":{\"dtype\":\"F32\",\"shape\":[" + n + "," + ctx + "," + d
                    + "],\"data_offsets\":[0," + actBytes + "]},\"tokens\":{\"dtype\":\"" + dt + "\",\"shape\":[" + n + "," + ctx
                    + "],\"data_offsets\":[" + actBytes + "," + (actBytes + tokBytes) + "]}}";
            while ((header.length() % 8) != 0) header += " ";
            var buf = java.nio.ByteBuffer.allocate((int) (8 + header.length() + actBytes + tokBytes)).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            buf.putLong(header.length()).put(header.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            for (float v : data) buf.putFloat(v);
            for (int i = 0; i < n * ctx; i++) {
                if (tb == 4) buf.putInt(250_000 + i); else buf.putLong(250_000 + i);
            }
            Path f = dir.resolve("ext_" + dt + ".safetensors");
            Files.write(f, buf.array());
            try (ActivationSource src = ActivationSources.open(f)) {
                for (int s = 0; s < n; s++) {
                    int[] t = src.tokens(s);
                    for (int p = 0; p < ctx; p++) assertEquals(250_000 + s * ctx + p, t[p]);
                }
                float[] seq = new float[ctx * d];
                src.readSequence(2, seq, 0);
                assertArrayEquals(Arrays.copyOfRange(data, 2 * ctx * d, 3 * ctx * d), seq);
            }
        }
    }
}
