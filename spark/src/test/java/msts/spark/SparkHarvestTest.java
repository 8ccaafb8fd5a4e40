package msts.spark;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/** The spark-submit entry point: the command line, its output line, its errors. */
class SparkHarvestTest {
    @TempDir Path dir;

    record Run(int code, String out, String err) {}

    static Run run(String... args) {
        PrintStream o = System.out, e = System.err;
        var bo = new ByteArrayOutputStream();
        var be = new ByteArrayOutputStream();
        System.setOut(new PrintStream(bo, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(be, true, StandardCharsets.UTF_8));
        try {
            int c = SparkHarvest.run(args);
            return new Run(c, bo.toString(StandardCharsets.UTF_8), be.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(o);
            System.setErr(e);
        }
    }

    @Test
    void harvestCommandMakesTheSingleMachineStore() throws Exception {
        Fixture fx = Fixture.make(dir);
        Path one = dir.resolve("one"), two = dir.resolve("spark");
        fx.single(one, fx.spec("120"));
        String[] cmd = {"harvest", "--master", "local[1]", "--model", fx.model().toString(), "--layer", "1",
                "--corpus", fx.corpus().toString(), "--context", "16", "--tokens", "120", "--batch-seqs", "2",
                "--shard-seqs", "3", "--dtype", "bf16", "--tokenizer", fx.tokenizer().toString(), "--quiet",
                "--out", two.toString()};
        Run r = run(cmd);
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("8 sequences × 16 tokens × d 64") && r.out().contains("this run 3 shards (8 sequences)"),
                r.out());
        Fixture.assertSameStore(one, two);
    }

    @Test
    void badOptionsGiveOneLineAndExitCodes() throws Exception {
        Fixture fx = Fixture.make(dir);
        Run r = run("harvest", "--master", "local[1]", "--model", fx.model().toString(), "--layer", "1", "--corpus",
                fx.corpus().toString(), "--tokens", "100", "--dtype", "fp8", "--out", dir.resolve("o").toString());
        assertEquals(1, r.code());
        assertEquals("msts: --dtype must be bf16 or f32, got fp8", r.err().strip());
        assertFalse(Files.exists(dir.resolve("o")));
        r = run("harvest", "--model", fx.model().toString(), "--layer", "7", "--corpus", fx.corpus().toString(),
                "--tokens", "100", "--tokenizer", fx.tokenizer().toString(), "--out", dir.resolve("o").toString());
        assertEquals(1, r.code());
        assertTrue(r.err().startsWith("msts: --layer 7 is outside the model's layers 0..1"), r.err());
        assertEquals(2, run("harvest", "--layer", "1").code());
    }
}
