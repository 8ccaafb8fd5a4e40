package msts.spark;

import msts.data.GemmaActivations;
import msts.data.HarvestSpec;
import msts.data.Harvester;
import msts.data.StoreException;
import msts.data.StoreManifest;
import msts.model.tokenizer.GemmaTokenizer;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

import static org.junit.jupiter.api.Assertions.*;

/** The Spark harvest in local[2] mode against the single-machine harvest of the same options: same bytes. */
class ClusterHarvesterTest {
    static JavaSparkContext sc;
    @TempDir static Path shared;
    static Fixture fx;

    @BeforeAll
    static void start() throws Exception {
        fx = Fixture.make(shared);
        SparkConf conf = new SparkConf().setMaster("local[2]").setAppName("msts-test").set("spark.ui.enabled", "false");
        sc = new JavaSparkContext(conf);
    }

    @AfterAll
    static void stop() {
        if (sc != null) sc.close();
    }

    ClusterHarvester.Result cluster(Path out, HarvestSpec spec) {
        try (GemmaTokenizer tok = GemmaTokenizer.load(fx.tokenizer())) {
            return ClusterHarvester.run(sc, out.toString(), spec.config(), tok, 64, "cpu", true);
        }
    }

    @Test
    void sameStoreAsOneMachineAndAKilledRunRedoesOnlyMissingShards(@TempDir Path dir) throws Exception {
        HarvestSpec spec = fx.spec("170"); // ceil(170/16) = 11 sequences: shards of 3, 3, 3, 2
        Path one = dir.resolve("one"), two = dir.resolve("spark");
        Harvester.Result single = fx.single(one, spec);
        assertEquals(11, single.sequencesInStore());
        ClusterHarvester.Result r = cluster(two, spec);
        assertEquals(4, r.shardsRun());
        assertEquals(0, r.shardsKept());
        assertEquals(11, r.sequencesWritten());
        assertFalse(r.corpusExhausted());
        Fixture.assertSameStore(one, two);

        // what a killed job leaves: shards 0 and 3 done, 1 never written, 2 not what the plan says (its last token
        // changed), a temp file of an attempt, and the manifest the driver wrote at the start (no shards)
        Path killed = dir.resolve("killed");
        Files.createDirectories(killed);
        for (String n : Fixture.names(two)) Files.copy(two.resolve(n), killed.resolve(n));
        Files.delete(killed.resolve(StoreManifest.shardName(1)));
        Path s2 = killed.resolve(StoreManifest.shardName(2));
        try (var ch = java.nio.channels.FileChannel.open(s2, StandardOpenOption.WRITE)) {
            ch.write(java.nio.ByteBuffer.wrap(new byte[] {0, 0, (byte) 0x80, 0x3f}), Files.size(s2) - 4); // 1.0f
        }
        Files.writeString(killed.resolve(".shard_00001.safetensors.0-7.tmp"), "partial");
        try (GemmaTokenizer tok = GemmaTokenizer.load(fx.tokenizer())) {
            Harvester.newManifest(spec.config(), 64).write(killed);
        }
        Object ino0 = Files.getAttribute(killed.resolve(StoreManifest.shardName(0)), "unix:ino");
        Object ino3 = Files.getAttribute(killed.resolve(StoreManifest.shardName(3)), "unix:ino");

        r = cluster(killed, spec);
        assertEquals(2, r.shardsRun(), "shards 1 and 2 redone");
        assertEquals(2, r.shardsKept());
        assertEquals(6, r.sequencesWritten());
        assertEquals(ino0, Files.getAttribute(killed.resolve(StoreManifest.shardName(0)), "unix:ino"), "shard 0 kept");
        assertEquals(ino3, Files.getAttribute(killed.resolve(StoreManifest.shardName(3)), "unix:ino"), "shard 3 kept");
        Fixture.assertSameStore(one, killed);

        // the same job again: nothing to do, nothing changes
        r = cluster(killed, spec);
        assertEquals(0, r.shardsRun());
        Fixture.assertSameStore(one, killed);
    }

    @Test
    void extendingAFinishedStoreAndRunningOutOfCorpusMatchOneMachine(@TempDir Path dir) throws Exception {
        Path one = dir.resolve("one"), two = dir.resolve("spark");
        HarvestSpec small = fx.spec("80"), large = fx.spec("1M");  // 5 sequences (shards 3, 2), then the whole corpus
        fx.single(one, small);
        cluster(two, small);
        Fixture.assertSameStore(one, two);
        Harvester.Result a = fx.single(one, large);
        ClusterHarvester.Result b = cluster(two, large);
        assertTrue(a.corpusExhausted());
        assertTrue(b.corpusExhausted());
        assertEquals(a.sequencesInStore(), b.sequencesInStore());
        assertEquals(a.sequencesWritten(), b.sequencesWritten());
        assertTrue(b.sequencesInStore() > 10, "the corpus holds more than 10 rows: " + b.sequencesInStore());
        Fixture.assertSameStore(one, two);
        // the short shard of 2 sequences stays: the extension starts a new shard after it, as on one machine
        assertEquals(2, StoreManifest.read(two).shards().get(1).numSequences());
    }

    @Test
    void otherArgumentsAndForeignDirectoriesAreRefused(@TempDir Path dir) throws Exception {
        Path out = dir.resolve("spark");
        cluster(out, fx.spec("48"));
        HarvestSpec other = new HarvestSpec(fx.model(), 0, java.util.List.of(fx.corpus()), 16, "48", 2, 3, "bf16",
                fx.tokenizer(), 0, "blocks", "prepend", "text", "cpu");
        var e = assertThrows(StoreException.class, () -> cluster(out, other));
        assertTrue(e.getMessage().contains("layer: 1 in the store, 0 now"), e.getMessage());
        Path foreign = dir.resolve("foreign");
        Files.createDirectories(foreign);
        Files.writeString(foreign.resolve("notes.txt"), "mine");
        e = assertThrows(StoreException.class, () -> cluster(foreign, fx.spec("48")));
        assertTrue(e.getMessage().contains("not an activation store"), e.getMessage());
        assertEquals("mine", Files.readString(foreign.resolve("notes.txt")));
    }
}
