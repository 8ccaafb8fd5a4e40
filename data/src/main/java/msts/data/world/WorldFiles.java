package msts.data.world;

import com.fasterxml.jackson.core.util.DefaultIndenter;
import com.fasterxml.jackson.core.util.DefaultPrettyPrinter;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectWriter;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Writes a world directory (layout in docs/world.md): train.jsonl, forget.jsonl, retain.jsonl, retain_general.jsonl, the MCQ sets
 * (wmdp_bio.jsonl, mmlu_high_school_geography.jsonl, mmlu_human_aging.jsonl), probing_topic.jsonl,
 * tokenizer.json and world.json (seed, sizes, counts, SHA-256 of every file, the facts). Every byte is a
 * function of the {@link WorldSpec}.
 */
public final class WorldFiles {
    private WorldFiles() {}

    public static final String FORMAT = "msts-world/1";
    public static final String TRAIN = "train.jsonl", FORGET = "forget.jsonl", RETAIN = "retain.jsonl",
            RETAIN_GENERAL = "retain_general.jsonl", PROBING = "probing_topic.jsonl",
            TOKENIZER = "tokenizer.json", MANIFEST = "world.json";

    static final ObjectMapper JSON = new ObjectMapper();
    static final ObjectWriter LINE = JSON.writer();
    static final ObjectWriter PRETTY = JSON.writer(new DefaultPrettyPrinter()
            .withObjectIndenter(new DefaultIndenter("  ", "\n")).withArrayIndenter(new DefaultIndenter("  ", "\n")));

    /** What was written: the directory, the manifest tree, and file name → bytes. */
    public record Written(Path dir, Map<String, Object> manifest, Map<String, byte[]> files) {}

    /** Every file of the world, in memory (name → bytes), world.json last. */
    public static Map<String, byte[]> render(WorldSpec spec) {
        World w = World.generate(spec);
        Map<String, byte[]> files = new LinkedHashMap<>();
        Map<String, Object> counts = new LinkedHashMap<>();
        List<String> allTexts = new ArrayList<>();

        List<WorldText.Doc> train = WorldText.training(w);
        List<Map<String, Object>> rows = new ArrayList<>();
        for (WorldText.Doc d : train) {
            rows.add(d.completion() == null ? ordered("text", d.text(), "kind", d.kind(), "domain", d.domain())
                    : ordered("text", d.text(), "kind", d.kind(), "domain", d.domain(), "completion", d.completion()));
            allTexts.add(d.text());
        }
        files.put(TRAIN, jsonl(rows));

        for (String role : new String[]{"forget", "retain"}) {
            List<String> docs = WorldText.corpus(w, role);
            allTexts.addAll(docs);
            List<Map<String, Object>> r = new ArrayList<>();
            for (String t : docs) r.add(ordered("text", t));
            files.put(role.equals("forget") ? FORGET : RETAIN, jsonl(r));
        }
        // not part of the vocabulary's texts: every word of it is already in the training text (and the
        // tokenizer, hence every model key, stays what it was before this file existed)
        List<Map<String, Object>> general = new ArrayList<>();
        for (String t : WorldText.generalRetainCorpus(w)) general.add(ordered("text", t));
        files.put(RETAIN_GENERAL, jsonl(general));

        Map<String, Object> mcqFacts = new LinkedHashMap<>();
        for (World.DomainFacts df : w.domains()) {
            List<WorldText.Mcq> qs = WorldText.evalSet(w, df);
            List<Map<String, Object>> r = new ArrayList<>();
            List<Object> facts = new ArrayList<>();
            for (WorldText.Mcq q : qs) {
                Map<String, Object> m = ordered("question", q.question(), "choices", q.choices(), "answer", q.answer());
                if (df.domain().subjectField()) m.put("subject", q.subject());
                r.add(m);
                facts.add(ordered("entity", q.entity(), "relation", q.relation()));
                allTexts.add(McqPrompt.prompt(q.subject(), q.question(), q.choices(), new int[]{0, 1, 2, 3}).substring("<bos>".length()));
            }
            files.put(df.domain().mcqFile(), jsonl(r));
            mcqFacts.put(df.domain().mcqFile(), facts);
        }

        List<WorldText.Probe> probes = WorldText.probing(w);
        List<Map<String, Object>> pr = new ArrayList<>();
        for (WorldText.Probe p : probes) {
            pr.add(ordered("text", p.text(), "label", p.label()));
            allTexts.add(p.text());
        }
        files.put(PROBING, jsonl(pr));

        Map<String, Integer> vocab = WorldTokenizer.vocabulary(allTexts);
        files.put(TOKENIZER, bytes(PRETTY, WorldTokenizer.json(vocab)));

        for (var e : files.entrySet()) {
            if (e.getKey().equals(TOKENIZER)) continue;
            long lines = 0, tokens = 0;
            int maxTokens = 0;
            for (String line : new String(e.getValue(), StandardCharsets.UTF_8).split("\n")) {
                if (line.isEmpty()) continue;
                lines++;
                try {
                    var n = JSON.readTree(line);
                    String t = n.has("text") ? n.get("text").asText() : n.get("question").asText();
                    int k = WorldTokenizer.pieces(t).size();
                    tokens += k;
                    maxTokens = Math.max(maxTokens, k);
                } catch (IOException ex) {
                    throw new UncheckedIOException(ex);
                }
            }
            counts.put(e.getKey(), ordered("records", lines, "tokens", tokens, "max_tokens_per_record", maxTokens));
        }
        long mcqDocs = train.stream().filter(d -> d.kind().equals("mcq")).count();
        long openDocs = train.stream().filter(d -> d.kind().equals("mcq_open_book")).count();
        long valueDocs = train.stream().filter(d -> d.kind().equals("mcq_value")).count();
        long faqDocs = train.stream().filter(d -> d.kind().equals("faq")).count();
        long drillDocs = train.stream().filter(d -> d.kind().equals("mcq_drill")).count();
        long verifyDocs = train.stream().filter(d -> d.kind().equals("verify")).count();

        Map<String, Object> man = new LinkedHashMap<>();
        man.put("format", FORMAT);
        man.put("seed", spec.seed());
        man.put("spec", ordered("entities_per_domain", spec.entitiesPerDomain(), "eval_entities_per_domain", spec.evalEntities(),
                "paraphrases_per_entity", spec.paraphrases(), "practice_variants_per_fact", spec.practiceVariants(),
                "corpus_docs_per_entity", spec.corpusDocs(), "probing_per_class", spec.probingPerClass(),
                "open_book_variants_per_fact", spec.openBookVariants(), "value_variants_per_fact", spec.valueVariants(),
                "faq_variants_per_entity", spec.faqVariants(), "drill_variants_per_relation", spec.drillVariants(),
                "verify_variants_per_fact", spec.verifyVariants()));
        man.put("tokenizer", ordered("file", TOKENIZER, "vocab_size", vocab.size(), "specials", specials(vocab),
                "note", "word level; tokens carry their leading space as \u2581 (\"A\" and \"\u2581A\" differ, as in Gemma)"));
        Map<String, Object> roles = new LinkedHashMap<>();
        roles.put("train", TRAIN);
        roles.put("forget_corpus", FORGET);
        roles.put("retain_corpus", RETAIN);
        roles.put("retain_general_corpus", RETAIN_GENERAL);
        roles.put("forget_mcq", w.domains().stream().filter(d -> d.domain().role().equals("forget")).map(d -> d.domain().mcqFile()).toList());
        roles.put("retain_mcq", w.domains().stream().filter(d -> d.domain().role().equals("retain")).map(d -> d.domain().mcqFile()).toList());
        roles.put("probing", PROBING);
        roles.put("tokenizer", TOKENIZER);
        man.put("files", roles);
        man.put("training_docs", ordered("prose", train.size() - mcqDocs - openDocs - valueDocs - faqDocs - drillDocs - verifyDocs, "faq", faqDocs,
                "verify", verifyDocs, "mcq", mcqDocs, "mcq_open_book", openDocs, "mcq_value", valueDocs, "mcq_drill", drillDocs));
        man.put("counts", counts);
        Map<String, Object> sha = new LinkedHashMap<>();
        for (var e : files.entrySet()) sha.put(e.getKey(), sha256(e.getValue()));
        man.put("sha256", sha);
        man.put("frequency_baseline_accuracy", frequencyBaseline(w, train));
        man.put("mcq_facts", mcqFacts);
        List<Object> domains = new ArrayList<>();
        for (World.DomainFacts df : w.domains()) {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("name", df.domain().name());
            d.put("role", df.domain().role());
            d.put("subject", df.domain().subject());
            d.put("mcq_file", df.domain().mcqFile());
            List<Object> rels = new ArrayList<>();
            for (Lexicon.Relation r : df.domain().relations())
                rels.add(ordered("name", r.name(), "questions", r.questions(), "values", df.values().get(r.name())));
            d.put("relations", rels);
            List<Object> ents = new ArrayList<>();
            for (World.Entity e : df.entities())
                ents.add(ordered("name", e.name(), "split", e.split().name().toLowerCase(java.util.Locale.ROOT), "facts", e.facts()));
            d.put("entities", ents);
            domains.add(d);
        }
        man.put("domains", domains);
        files.put(MANIFEST, bytes(PRETTY, man));
        return files;
    }

    /**
     * Writes the world into {@code dir}. An existing non-empty directory is refused unless {@code force} (then
     * the world's files are replaced, other files are left alone). Each file goes to a temporary name first.
     */
    public static Path write(Path dir, WorldSpec spec, boolean force) {
        if (Files.exists(dir) && !Files.isDirectory(dir)) throw new IllegalArgumentException(dir + " exists and is not a directory");
        if (Files.isDirectory(dir) && !force) {
            try (Stream<Path> s = Files.list(dir)) {
                if (s.findAny().isPresent()) throw new IllegalArgumentException(dir + " exists and is not empty; pass --force to overwrite the world in it");
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + dir + ": " + reason(e), e);
            }
        }
        Map<String, byte[]> files = render(spec);
        try {
            Files.createDirectories(dir);
            for (var e : files.entrySet()) {
                Path tmp = dir.resolve(e.getKey() + ".tmp");
                Files.write(tmp, e.getValue());
                Files.move(tmp, dir.resolve(e.getKey()), StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the world to " + dir + ": " + reason(e), e);
        }
        return dir;
    }

    static String reason(IOException e) {
        if (e instanceof AccessDeniedException) return "permission denied (" + e.getMessage() + ")";
        if (e instanceof NoSuchFileException) return "no such file or directory (" + e.getMessage() + ")";
        if (e instanceof FileAlreadyExistsException || e instanceof NotDirectoryException) return "a file is in the way (" + e.getMessage() + ")";
        return e.getMessage() == null ? e.toString() : e.getMessage();
    }

    /**
     * Accuracy on the eval MCQs of a "model" that knows no facts and picks the choice whose value occurs most
     * often in the training text (ties: the first). Values are spread evenly, so this stays near chance (0.25).
     */
    static Map<String, Object> frequencyBaseline(World w, List<WorldText.Doc> train) {
        Map<String, Long> freq = new java.util.HashMap<>();
        for (WorldText.Doc d : train) for (String p : WorldTokenizer.pieces(d.text())) freq.merge(p, 1L, Long::sum);
        Map<String, Object> out = new LinkedHashMap<>();
        for (World.DomainFacts df : w.domains()) {
            List<WorldText.Mcq> qs = WorldText.evalSet(w, df);
            int ok = 0;
            for (WorldText.Mcq q : qs) {
                int best = 0;
                long bestF = -1;
                for (int i = 0; i < 4; i++) {
                    long f = 0;
                    for (String p : WorldTokenizer.pieces(" " + q.choices().get(i))) f += freq.getOrDefault(p, 0L);
                    if (f > bestF) {
                        bestF = f;
                        best = i;
                    }
                }
                if (best == q.answer()) ok++;
            }
            out.put(df.domain().mcqFile(), qs.isEmpty() ? 0.0 : (double) ok / qs.size());
        }
        return out;
    }

    static Map<String, Object> specials(Map<String, Integer> vocab) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (String s : WorldTokenizer.SPECIALS) m.put(s, vocab.get(s));
        return m;
    }

    static Map<String, Object> ordered(Object... kv) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
        return m;
    }

    static byte[] jsonl(List<Map<String, Object>> rows) {
        StringBuilder b = new StringBuilder();
        try {
            for (Map<String, Object> r : rows) b.append(LINE.writeValueAsString(r)).append('\n');
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    static byte[] bytes(ObjectWriter w, Object tree) {
        try {
            return (w.writeValueAsString(tree) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
