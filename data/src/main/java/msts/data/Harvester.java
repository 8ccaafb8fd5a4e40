package msts.data;

import com.fasterxml.jackson.databind.node.ObjectNode;
import msts.engine.DType;
import msts.engine.util.Progress;
import msts.model.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * Harvests residual-stream activation sequences into an activation store: corpus rows (see {@link Corpus})
 * → model forward up to layer L → resid_post [ctx, d] per row → shards of {@code shardSequences} rows.
 * Resumable: re-running with the same arguments continues after the last complete shard (see
 * {@link ActivationStoreWriter}); a larger {@code tokens} extends a finished store.
 */
public final class Harvester {
    private Harvester() {}

    /** The model part: token rows [B][ctx] → layer-L resid_post per row, [B][ctx · dIn] (row-major [ctx, dIn]). */
    public interface ActivationModel {
        int dIn();

        float[][] run(int[][] rows);
    }

    /**
     * @param model      recorded in the manifest (e.g. the model directory)
     * @param tokenizer  recorded in the manifest (e.g. the tokenizer.json path)
     * @param tokens     target token count; the store gets ceil(tokens / context) sequences (fewer if the corpus ends)
     * @param arguments  the command's arguments, recorded and compared on re-runs (see
     *                   {@link ActivationStoreWriter#MUTABLE_ARGUMENTS} for the ones that may change)
     */
    public record Config(String model, int layer, String tokenizer, List<Path> corpus, Corpus.Options corpusOptions,
                         int context, long tokens, int batchSequences, int shardSequences, DType dtype,
                         ObjectNode arguments) {
        public Config {
            if (context < 2) throw new IllegalArgumentException("--context must be >= 2, got " + context);
            if (tokens <= 0) throw new IllegalArgumentException("--tokens must be > 0, got " + tokens);
            if (batchSequences <= 0) throw new IllegalArgumentException("--batch-seqs must be > 0, got " + batchSequences);
            if (shardSequences <= 0) throw new IllegalArgumentException("--shard-seqs must be > 0, got " + shardSequences);
            if (dtype != DType.F32 && dtype != DType.BF16) throw new IllegalArgumentException("--dtype must be bf16 or f32");
            corpus = List.copyOf(corpus);
        }

        public long targetSequences() { return (tokens + context - 1) / context; }
    }

    /** What a run did: sequences written now, in the store, whether it continued a store, rate. */
    public record Result(long sequencesWritten, long sequencesInStore, boolean resumed, boolean corpusExhausted,
                         double seconds) {
        public double tokensPerSecond(int context) { return seconds > 0 ? sequencesWritten * context / seconds : 0; }
    }

    /** The arguments plus the corpus files' sizes ("corpus_bytes"): a changed corpus cannot be continued. */
    public static ObjectNode withCorpusBytes(Config cfg) {
        ObjectNode a = cfg.arguments().deepCopy();
        var sizes = a.putArray(ActivationStoreWriter.CORPUS_BYTES);
        for (Path p : cfg.corpus()) {
            try {
                sizes.add(java.nio.file.Files.size(p));
            } catch (java.io.IOException e) {
                throw new CorpusException("corpus file not readable: " + p + " (" + e.getMessage() + ")", e);
            }
        }
        return a;
    }

    /** The manifest of a new store for {@code cfg} and a model of width {@code dIn}: no shards yet. */
    public static StoreManifest newManifest(Config cfg, int dIn) {
        List<String> files = cfg.corpus().stream().map(p -> p.toAbsolutePath().normalize().toString()).toList();
        return new StoreManifest(cfg.model(), StoreManifest.hookName(cfg.layer()), cfg.layer(),
                dIn, cfg.context(), cfg.dtype(), cfg.shardSequences(), cfg.tokenizer(), files,
                cfg.corpusOptions(), withCorpusBytes(cfg), cfg.targetSequences(), List.of(), Corpus.Position.START,
                false, false);
    }

    /**
     * Fills shard {@code b} with the activations of {@code rows} (all of the shard's rows, in order), running the
     * model on batches of {@code batchSequences} rows from the shard's first row: the one batching rule of a
     * single-machine and a cluster harvest. {@code advance} is told the tokens done after each batch.
     */
    public static void fillShard(ActivationStoreWriter.ShardBuilder b, int[][] rows, int batchSequences,
                                 ActivationModel model, java.util.function.LongConsumer advance) {
        if (rows.length != b.size()) throw new IllegalArgumentException(rows.length + " rows for a shard of " + b.size());
        int d = model.dIn();
        for (int i = 0; i < rows.length; i += batchSequences) {
            int m = Math.min(batchSequences, rows.length - i);
            int[][] batch = new int[m][];
            System.arraycopy(rows, i, batch, 0, m);
            float[][] acts = model.run(batch);
            if (acts.length != m) throw new IllegalStateException("model returned " + acts.length + " rows for " + m);
            for (int j = 0; j < m; j++) {
                int ctx = batch[j].length;
                if (acts[j].length != ctx * d)
                    throw new IllegalStateException("model returned " + acts[j].length + " floats per row, expected " + ctx * d);
                b.add(acts[j], 0, batch[j]);
            }
            advance.accept((long) m * batch[0].length);
        }
    }

    public static Result run(Path out, Config cfg, Tokenizer tok, ActivationModel model, boolean quiet) {
        StoreManifest fresh = newManifest(cfg, model.dIn());
        try (ActivationStoreWriter w = ActivationStoreWriter.openOrCreate(out, fresh)) {
            return run(out, cfg, tok, model, quiet, w);
        }
    }

    private static Result run(Path out, Config cfg, Tokenizer tok, ActivationModel model, boolean quiet,
                              ActivationStoreWriter w) {
        long target = cfg.targetSequences();
        int ctx = cfg.context();
        long start = System.nanoTime();
        long written = 0;
        boolean exhausted = false;
        long remaining = w.sequencesRemaining();
        if (remaining == 0) {
            if (!w.manifest().complete()) w.finish(w.manifest().corpusExhausted());
            return new Result(0, w.sequencesDone(), w.resumed(), w.manifest().corpusExhausted(), 0);
        }
        if (w.manifest().corpusExhausted()) {
            // a finished store whose corpus ran out cannot grow
            w.finish(true);
            return new Result(0, w.sequencesDone(), w.resumed(), true, 0);
        }
        if (w.position().rows() != w.sequencesDone())
            throw new StoreException(out + ": the manifest's corpus position (" + w.position().rows()
                    + " rows) does not match its shards (" + w.sequencesDone() + " sequences)");
        try (Corpus.Rows rows = Corpus.rows(cfg.corpus(), tok, ctx, target, cfg.corpusOptions(), w.position());
             Progress progress = new Progress("harvest L" + cfg.layer(), remaining * ctx, "tok", System.err, quiet)) {
            long shardNo = w.manifest().shards().size();
            final long[] shardShown = {shardNo};
            progress.metrics(() -> "shard " + shardShown[0] + "  seq " + w.sequencesDone());
            while (w.sequencesDone() < target) {
                int want = (int) Math.min(cfg.shardSequences(), target - w.sequencesDone());
                int[][] shardRows = new int[want][];
                int got = 0;
                while (got < want && rows.hasNext()) shardRows[got++] = rows.next();
                if (got == 0) {
                    exhausted = true;
                    break;
                }
                try (ActivationStoreWriter.ShardBuilder b = w.newShard(got)) {
                    fillShard(b, got == want ? shardRows : java.util.Arrays.copyOf(shardRows, got), cfg.batchSequences(),
                            model, progress::advance);
                    w.commit(b, rows.position());
                }
                written += got;
                shardShown[0] = w.manifest().shards().size();
                if (got < want) {
                    exhausted = true;
                    break;
                }
            }
        }
        if (exhausted && w.sequencesDone() == 0)
            throw new CorpusException("the corpus " + cfg.corpus() + " holds no sequence of " + ctx
                    + " tokens (empty, or shorter than one row): nothing harvested; add text or lower --context");
        w.finish(exhausted);
        double secs = (System.nanoTime() - start) / 1e9;
        if (exhausted && !quiet)
            System.err.printf(Locale.ROOT, "harvest: the corpus ended after %d sequences (%d tokens); asked for %d%n",
                    w.sequencesDone(), w.sequencesDone() * ctx, target);
        return new Result(written, w.sequencesDone(), w.resumed(), exhausted, secs);
    }
}
