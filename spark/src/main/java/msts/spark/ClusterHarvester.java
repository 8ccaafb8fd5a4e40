package msts.spark;

import msts.data.ActivationStoreWriter;
import msts.data.Corpus;
import msts.data.Harvester;
import msts.data.StoreException;
import msts.data.StoreManifest;
import msts.engine.util.Progress;
import msts.model.tokenizer.Tokenizer;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.Success$;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;

import java.io.IOException;
import java.io.Serializable;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A harvest on a Spark cluster that writes the same store as {@link Harvester#run} on one machine.
 *
 * <p>The driver cuts the corpus into rows with {@link Corpus#rows} (tokenizing only; the forward pass is the
 * cost) and groups them into the shards a single-machine run would write: shard i holds rows
 * [first_i, first_i + S) after the store's complete shards, the last one shorter when the target or the corpus
 * ends. Each missing shard is one task: an executor runs the model (mapped from the model path, which every node
 * must be able to read) on the shard's rows in batches of --batch-seqs, exactly as {@link Harvester#fillShard}
 * does on one machine, and writes the shard file to the store through Hadoop's FileSystem API. When every task
 * has succeeded the driver lists the shards in manifest.json and marks the store complete.
 *
 * <p>Re-running after a killed job redoes only missing shards: a shard file already under its final name is kept
 * when its header and tokens are those of the planned shard (files appear only complete: temp name + rename).
 */
public final class ClusterHarvester {
    private ClusterHarvester() {}

    /** What a run did: shards (and sequences) computed now, shards found complete and kept, the store's size. */
    public record Result(int shardsRun, long sequencesWritten, int shardsKept, long sequencesInStore,
                         boolean corpusExhausted, double seconds) {
        public double tokensPerSecond(int context) { return seconds > 0 ? sequencesWritten * context / seconds : 0; }
    }

    /** One shard to compute: its index, first sequence and rows. */
    record ShardTask(int index, long first, int[][] rows) implements Serializable {}

    /** What every task needs besides its rows (the manifest as JSON bytes; Hadoop settings as strings). */
    record Job(String model, String ops, int layer, int batchSequences, String store, byte[] manifest,
               Map<String, String> hadoop) implements Serializable {}

    /** A planned shard: task plus the corpus position after it (for the manifest). */
    private record Planned(ShardTask task, Corpus.Position after) {}

    /**
     * Harvests into {@code store} (a URI or local path every node can write) on the cluster of {@code sc}.
     *
     * @param dIn the model's hidden size (from its config.json; the driver does not load the weights)
     * @param ops the backend the executors use ("cpu" or "reference")
     */
    public static Result run(JavaSparkContext sc, String store, Harvester.Config cfg, Tokenizer tok, int dIn,
                             String ops, boolean quiet) {
        long start = System.nanoTime();
        Configuration hconf = sc.hadoopConfiguration();
        StoreFs fs = StoreFs.open(store, hconf);
        StoreManifest fresh = Harvester.newManifest(cfg, dIn);
        try (FileChannel lock = lock(fs)) {
            StoreManifest m = openOrCreate(fs, fresh);
            long target = m.targetSequences();
            if (m.numSequences() >= target || m.corpusExhausted()) {
                boolean exhausted = m.corpusExhausted();
                if (!m.complete() || exhausted) fs.writeManifest(m.finished(exhausted));
                return new Result(0, 0, 0, m.numSequences(), exhausted, 0);
            }
            if (m.position().rows() != m.numSequences())
                throw new StoreException(fs.dir + ": the manifest's corpus position (" + m.position().rows()
                        + " rows) does not match its shards (" + m.numSequences() + " sequences)");

            boolean[] exhausted = {false};
            List<Planned> plan = plan(cfg, tok, m, exhausted);
            Set<String> planned = new HashSet<>();
            for (Planned p : plan) planned.add(StoreManifest.shardName(p.task().index()));
            Set<String> listed = new HashSet<>();
            for (StoreManifest.Shard s : m.shards()) listed.add(s.file());
            for (String name : fs.list())  // leftovers a single-machine writer would delete, except planned shards
                if (ActivationStoreWriter.isLeftover(name) && !listed.contains(name) && !planned.contains(name)) fs.delete(name);

            List<ShardTask> todo = new ArrayList<>();
            int kept = 0;
            for (Planned p : plan) {
                ShardTask t = p.task();
                String name = StoreManifest.shardName(t.index());
                if (fs.shardMatches(name, m, t.first(), t.rows())) kept++;
                else {
                    fs.delete(name);
                    todo.add(t);
                }
            }
            long sequences = 0;
            for (ShardTask t : todo) sequences += t.rows().length;
            if (!todo.isEmpty()) compute(sc, fs, m, cfg, ops, todo, sequences, quiet);

            StoreManifest done = m;
            for (Planned p : plan) {
                ShardTask t = p.task();
                done = done.withShard(new StoreManifest.Shard(StoreManifest.shardName(t.index()), t.first(), t.rows().length), p.after());
            }
            done = done.finished(exhausted[0]);
            fs.writeManifest(done);
            double secs = (System.nanoTime() - start) / 1e9;
            if (exhausted[0] && !quiet)
                System.err.printf(java.util.Locale.ROOT, "harvest: the corpus ended after %d sequences (%d tokens); asked for %d%n",
                        done.numSequences(), done.numSequences() * cfg.context(), target);
            return new Result(todo.size(), sequences, kept, done.numSequences(), exhausted[0], secs);
        } catch (IOException e) {
            throw new StoreException(fs.dir + ": " + e.getMessage(), e);
        }
    }

    /** The shards after the store's complete ones, cut exactly as {@link Harvester#run} cuts them. */
    private static List<Planned> plan(Harvester.Config cfg, Tokenizer tok, StoreManifest m, boolean[] exhausted) {
        List<Planned> plan = new ArrayList<>();
        long target = m.targetSequences(), done = m.numSequences();
        int index = m.shards().size();
        try (Corpus.Rows rows = Corpus.rows(cfg.corpus(), tok, cfg.context(), target, cfg.corpusOptions(), m.position())) {
            while (done < target) {
                int want = (int) Math.min(cfg.shardSequences(), target - done);
                List<int[]> got = new ArrayList<>(want);
                while (got.size() < want && rows.hasNext()) got.add(rows.next());
                if (got.isEmpty()) {
                    exhausted[0] = true;
                    break;
                }
                plan.add(new Planned(new ShardTask(index++, done, got.toArray(new int[0][])), rows.position()));
                done += got.size();
                if (got.size() < want) {
                    exhausted[0] = true;
                    break;
                }
            }
        }
        return plan;
    }

    private static void compute(JavaSparkContext sc, StoreFs fs, StoreManifest m, Harvester.Config cfg, String ops,
                                List<ShardTask> todo, long sequences, boolean quiet) {
        Map<String, String> hadoop = new HashMap<>();
        for (Map.Entry<String, String> e : sc.hadoopConfiguration()) hadoop.put(e.getKey(), e.getValue());
        Job job = new Job(cfg.model(), ops, cfg.layer(), cfg.batchSequences(), fs.dir.toString(), m.toBytes(), hadoop);
        int ctx = cfg.context();
        try (Progress progress = new Progress("harvest L" + cfg.layer() + " (" + todo.size() + " shards)",
                sequences * ctx, "tok", System.err, quiet)) {
            SparkListener listener = new SparkListener() {
                @Override
                public void onTaskEnd(SparkListenerTaskEnd end) {
                    int i = end.taskInfo().index();
                    if (end.reason() == Success$.MODULE$ && i >= 0 && i < todo.size())
                        progress.advance((long) todo.get(i).rows().length * ctx);
                }
            };
            sc.sc().addSparkListener(listener);
            try {
                sc.setJobDescription("msts harvest " + fs.dir + " (" + todo.size() + " shards)");
                sc.parallelize(todo, todo.size()).foreach(t -> writeShard(job, t));
            } finally {
                sc.sc().removeSparkListener(listener);
            }
        }
    }

    /** On an executor: the shard's activations, written to the store. */
    static void writeShard(Job job, ShardTask t) throws Exception {
        StoreManifest m = StoreManifest.parse(job.manifest(), java.nio.file.Path.of(job.store(), StoreManifest.FILE));
        Configuration conf = new Configuration(false);
        job.hadoop().forEach(conf::set);
        StoreFs fs = StoreFs.open(job.store(), conf);
        TaskContext tc = TaskContext.get();
        String attempt = tc == null ? "local" : tc.stageId() + "-" + tc.taskAttemptId();
        ExecutorModels.with(job.model(), job.ops(), job.layer(), model -> {
            if (model.dIn() != m.dIn())
                throw new StoreException(job.model() + ": hidden size " + model.dIn() + " on this node, " + m.dIn() + " on the driver");
            try (ActivationStoreWriter.ShardBuilder b = ActivationStoreWriter.newShard(m, t.rows().length)) {
                Harvester.fillShard(b, t.rows(), job.batchSequences(), model, n -> { });
                fs.writeShard(StoreManifest.shardName(t.index()), ActivationStoreWriter.shardTensors(b),
                        ActivationStoreWriter.shardMetadata(m, t.first()), attempt);
            }
            return null;
        });
    }

    /**
     * Opens the store as {@link ActivationStoreWriter#openOrCreate} does: continues a manifest made with the same
     * arguments (an error naming the differences otherwise), refuses a non-empty directory without one.
     */
    private static StoreManifest openOrCreate(StoreFs fs, StoreManifest fresh) throws IOException {
        if (!fs.isDirectoryOrAbsent()) throw new StoreException(fs.dir + " exists and is not a directory");
        StoreManifest old = fs.readManifest();
        if (old != null) {
            List<String> diff = ActivationStoreWriter.differences(old, fresh);
            if (!diff.isEmpty())
                throw new StoreException(fs.dir + " holds activations made with other arguments (" + String.join("; ", diff)
                        + "); use another --out directory, or delete this one to start over");
            StoreManifest m = old.withTarget(fresh.targetSequences());
            fs.writeManifest(m);
            return m;
        }
        for (String name : fs.list())
            if (!ActivationStoreWriter.isOurs(name))
                throw new StoreException(fs.dir + " is not empty and holds no " + StoreManifest.FILE
                        + " (not an activation store); refusing to write into it");
        fs.mkdirs();
        fs.writeManifest(fresh);
        return fresh;
    }

    /**
     * On the local file system (file:, which includes NFS mounts), the same OS lock on .lock as a single-machine
     * harvest holds: one harvest per store at a time. Other file systems have no lock; run one job per store.
     */
    private static FileChannel lock(StoreFs fs) throws IOException {
        java.nio.file.Path dir = fs.localDir();
        if (dir == null) return null;
        java.nio.file.Files.createDirectories(dir);
        FileChannel ch = FileChannel.open(dir.resolve(ActivationStoreWriter.LOCK_FILE), StandardOpenOption.CREATE,
                StandardOpenOption.WRITE);
        try {
            if (ch.tryLock() == null) throw new java.nio.channels.OverlappingFileLockException();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            ch.close();
            throw new StoreException(dir + " is being written by another harvest (" + ActivationStoreWriter.LOCK_FILE + " is locked)");
        }
        return ch;
    }
}
