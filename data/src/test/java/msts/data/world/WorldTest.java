package msts.data.world;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import msts.model.tokenizer.GemmaTokenizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The planted world: determinism, MCQs about trained facts, no MCQ on eval entities in training, corpora held
 * out from the training templates, and the tokenizer read by {@link GemmaTokenizer} (the Rust library via DJL).
 * Checks read the written files back, not the generator's internals.
 */
class WorldTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final WorldSpec SPEC = new WorldSpec(11, 16, 8, 20, 8, 3, 40, 4, 4, 3, 8);

    @TempDir static Path dir;
    static Path world;
    static JsonNode manifest;
    static GemmaTokenizer tok;

    @BeforeAll
    static void make() throws Exception {
        world = WorldFiles.write(dir.resolve("w"), SPEC, false);
        manifest = JSON.readTree(world.resolve(WorldFiles.MANIFEST).toFile());
        tok = GemmaTokenizer.load(world.resolve(WorldFiles.TOKENIZER));
    }

    @AfterAll
    static void close() { tok.close(); }

    static List<JsonNode> jsonl(String name) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(world.resolve(name), StandardCharsets.UTF_8)) if (!l.isBlank()) out.add(JSON.readTree(l));
        return out;
    }

    static List<String> texts(String name) throws Exception {
        return jsonl(name).stream().map(n -> n.get("text").asText()).toList();
    }

    /** Sentences of a prose text (". " separated; the last keeps its period). */
    static List<String> sentences(String text) {
        List<String> out = new ArrayList<>();
        for (String s : text.split("(?<=\\.) ")) out.add(s);
        return out;
    }

    static boolean hasWord(String text, String phrase) {
        return Pattern.compile("(^|[^A-Za-z])" + Pattern.quote(phrase) + "($|[^A-Za-z])").matcher(text).find();
    }

    /** entity name → (relation → value), and each domain's relation value sets, from world.json. */
    record Facts(Map<String, Map<String, String>> facts, Map<String, String> split, Map<String, Map<String, Set<String>>> values,
                 Map<String, String> domainOf) {}

    static Facts facts() {
        Map<String, Map<String, String>> f = new HashMap<>();
        Map<String, String> split = new HashMap<>(), dom = new HashMap<>();
        Map<String, Map<String, Set<String>>> vals = new HashMap<>();
        for (JsonNode d : manifest.get("domains")) {
            Map<String, Set<String>> vs = new HashMap<>();
            for (JsonNode r : d.get("relations")) {
                Set<String> s = new HashSet<>();
                r.get("values").forEach(v -> s.add(v.asText()));
                vs.put(r.get("name").asText(), s);
            }
            vals.put(d.get("mcq_file").asText(), vs);
            for (JsonNode e : d.get("entities")) {
                Map<String, String> m = new HashMap<>();
                e.get("facts").fields().forEachRemaining(x -> m.put(x.getKey(), x.getValue().asText()));
                f.put(e.get("name").asText(), m);
                split.put(e.get("name").asText(), e.get("split").asText());
                dom.put(e.get("name").asText(), d.get("name").asText());
            }
        }
        return new Facts(f, split, vals, dom);
    }

    static List<String> mcqFiles() {
        List<String> out = new ArrayList<>();
        manifest.at("/files/forget_mcq").forEach(n -> out.add(n.asText()));
        manifest.at("/files/retain_mcq").forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherWorld(@TempDir Path other) throws Exception {
        Path again = WorldFiles.write(other.resolve("again"), SPEC, false);
        List<String> names;
        try (var s = Files.list(world)) {
            names = s.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertEquals(10, names.size(), names.toString());
        for (String n : names) assertArrayEquals(Files.readAllBytes(world.resolve(n)), Files.readAllBytes(again.resolve(n)), n);
        Map<String, byte[]> b = WorldFiles.render(new WorldSpec(12, 16, 8, 20, 8, 3, 40));
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(world.resolve(WorldFiles.TRAIN)), b.get(WorldFiles.TRAIN)));
        // the manifest's hashes are those of the files
        for (var e : manifest.get("sha256").properties())
            assertEquals(e.getValue().asText(), WorldFiles.sha256(Files.readAllBytes(world.resolve(e.getKey()))), e.getKey());
    }

    @Test
    void everyMcqAsksAnEvalFactTheProseTeaches() throws Exception {
        Facts f = facts();
        List<String> prose = jsonl(WorldFiles.TRAIN).stream().filter(n -> n.get("kind").asText().equals("prose"))
                .map(n -> n.get("text").asText()).toList();
        List<String> trainSentences = new ArrayList<>();
        for (String t : prose) trainSentences.addAll(sentences(t));
        int total = 0;
        for (String file : mcqFiles()) {
            List<JsonNode> qs = jsonl(file);
            JsonNode which = manifest.at("/mcq_facts/" + file);
            assertEquals(qs.size(), which.size());
            assertEquals(SPEC.evalEntities() * 4, qs.size(), file);
            int[] letters = new int[4];
            for (int i = 0; i < qs.size(); i++) {
                JsonNode q = qs.get(i);
                String entity = which.get(i).get("entity").asText(), rel = which.get(i).get("relation").asText();
                assertEquals("eval", f.split().get(entity), entity);
                assertTrue(hasWord(q.get("question").asText(), entity), q.toString());
                List<String> ch = new ArrayList<>();
                q.get("choices").forEach(c -> ch.add(c.asText()));
                assertEquals(4, ch.size());
                assertEquals(4, new HashSet<>(ch).size(), "distinct choices: " + q);
                int a = q.get("answer").asInt();
                letters[a]++;
                String value = ch.get(a);
                assertEquals(f.facts().get(entity).get(rel), value, q.toString());
                // distractors come from the same relation's value set and are not the entity's value
                for (String c : ch) assertTrue(f.values().get(file).get(rel).contains(c), c + " not a " + rel + " value");
                // the fact is stated in the training prose: sentences naming both the entity and the value
                long stated = trainSentences.stream().filter(s -> hasWord(s, entity) && hasWord(s, value)).count();
                assertTrue(stated >= SPEC.paraphrases(), entity + " " + rel + " stated " + stated + " times");
                // ... in several different wordings
                Set<String> forms = new HashSet<>();
                trainSentences.stream().filter(s -> hasWord(s, entity) && hasWord(s, value)).forEach(forms::add);
                assertTrue(forms.size() >= 5, entity + " " + rel + ": only " + forms.size() + " wordings");
                if (file.startsWith("mmlu_")) assertEquals(file.substring(5, file.length() - 6), q.get("subject").asText());
                else assertFalse(q.has("subject"), "cais/wmdp records have no subject");
                total++;
            }
            // each letter is the answer equally often
            for (int l = 0; l < 4; l++) assertEquals(qs.size() / 4, letters[l], file + " letter " + l);
        }
        assertEquals(3 * SPEC.evalEntities() * 4, total);
        // a guesser that knows no facts and picks the value most frequent in training stays near chance
        for (var e : manifest.get("frequency_baseline_accuracy").properties())
            assertTrue(e.getValue().asDouble() < 0.45, e.getKey() + " frequency baseline " + e.getValue());
    }

    @Test
    void evalEntitiesNeverAppearInTrainingMcqsAndPracticeUsesTheEvalPrompt() throws Exception {
        Facts f = facts();
        List<String> evalNames = f.split().entrySet().stream().filter(e -> e.getValue().equals("eval")).map(Map.Entry::getKey).toList();
        List<String> practiceNames = f.split().entrySet().stream().filter(e -> e.getValue().equals("practice")).map(Map.Entry::getKey).toList();
        int mcqs = 0, open = 0, valued = 0, drills = 0;
        int[] drillLetters = new int[4];
        Pattern pv = Pattern.compile("^(<bos><start_of_turn>user\n.*\nA\\. ([^\n]+)\nB\\. ([^\n]+)\nC\\. ([^\n]+)\nD\\. ([^\n]+)<end_of_turn>\n<start_of_turn>model\nAnswer: \\()( ([^\n)]+)\\)<end_of_turn>)$", Pattern.DOTALL);
        Set<String> practiced = new HashSet<>();
        int[] letters = new int[4];
        Pattern p = Pattern.compile("^<bos><start_of_turn>user\nThe following are multiple choice questions \\(with answers\\) about ([a-z ]+)\\.\n"
                + "([^\n]+)\nA\\. ([^\n]+)\nB\\. ([^\n]+)\nC\\. ([^\n]+)\nD\\. ([^\n]+)<end_of_turn>\n<start_of_turn>model\nAnswer: \\(([ABCD])\\)<end_of_turn>$");
        for (JsonNode n : jsonl(WorldFiles.TRAIN)) {
            String t = n.get("text").asText(), kind = n.get("kind").asText();
            boolean chat = t.contains("<start_of_turn>") || t.contains("Answer:");
            assertEquals(kind.startsWith("mcq"), chat, t);
            if (!chat) {
                assertFalse(n.has("completion"), "prose has no completion: " + t);
                continue;
            }
            for (String e : evalNames) assertFalse(hasWord(t, e), "eval entity " + e + " in a training MCQ: " + t);
            if (kind.equals("mcq_value")) {
                // the eval's prompt verbatim, answered with the value (not the letter): " value)<end_of_turn>"
                valued++;
                Matcher v = pv.matcher(t);
                assertTrue(v.matches(), "value practice not in the eval's prompt format: " + t);
                assertEquals(v.group(6), n.path("completion").asText(), t);
                List<String> choices = List.of(v.group(2), v.group(3), v.group(4), v.group(5));
                assertTrue(choices.contains(v.group(7)), "the value answer is one of the choices: " + t);
                String entity = practiceNames.stream().filter(e -> hasWord(t, e)).findFirst().orElseThrow(() -> new AssertionError(t));
                assertTrue(f.facts().get(entity).containsValue(v.group(7)), "value answer " + v.group(7) + " is not a fact of " + entity);
                continue;
            }
            if (kind.equals("mcq_drill")) {
                // a format drill: "Which choice is V?" in the eval's prompt, answered with V's letter; names no entity
                Matcher m = p.matcher(t);
                assertTrue(m.matches(), "drill not in the eval's prompt format: " + t);
                for (String e : f.facts().keySet()) assertFalse(hasWord(t, e), "a drill names entity " + e + ": " + t);
                int letter = "ABCD".indexOf(m.group(7));
                String named = m.group(2).replaceAll("^.* ([^ ]+)\\?$", "$1");
                assertEquals(named, m.group(3 + letter), "the drill's answer is the named value: " + t);
                for (int c = 0; c < 4; c++) if (c != letter) assertNotEquals(named, m.group(3 + c), t);
                assertEquals(m.group(7) + ")<end_of_turn>", n.path("completion").asText(), t);
                drillLetters[letter]++;
                drills++;
                continue;
            }
            // open book: a prose document about the practice entity, then the prompt (from the literal <bos>)
            int bos = t.indexOf("<bos>");
            String context = t.substring(0, bos), q = t.substring(bos);
            assertEquals(kind.equals("mcq_open_book"), !context.isEmpty(), t);
            if (kind.equals("mcq")) mcqs++; else open++;
            Matcher m = p.matcher(q);
            assertTrue(m.matches(), "practice MCQ not in the eval's prompt format: " + t);
            String entity = practiceNames.stream().filter(e -> hasWord(m.group(2), e)).findFirst().orElseThrow(() -> new AssertionError(t));
            practiced.add(entity);
            int letter = "ABCD".indexOf(m.group(7));
            if (kind.equals("mcq")) letters[letter]++;
            String value = m.group(3 + letter);
            assertTrue(f.facts().get(entity).containsValue(value), "practice answer " + value + " is not a fact of " + entity);
            assertEquals(m.group(7) + ")<end_of_turn>", n.path("completion").asText(), "the completion is the answer: " + t);
            if (!context.isEmpty()) {
                assertTrue(hasWord(context, entity) && hasWord(context, value), "the open book states the answer: " + t);
                for (int c = 0; c < 4; c++)
                    if (c != letter) assertFalse(hasWord(context, m.group(3 + c)), "the open book names a distractor: " + t);
            }
        }
        assertEquals(3 * (SPEC.entitiesPerDomain() - SPEC.evalEntities()) * 4 * SPEC.practiceVariants(), mcqs);
        assertEquals(3 * (SPEC.entitiesPerDomain() - SPEC.evalEntities()) * 4 * SPEC.openBookVariants(), open);
        assertEquals(open, manifest.at("/training_docs/mcq_open_book").asInt());
        assertEquals(3 * (SPEC.entitiesPerDomain() - SPEC.evalEntities()) * 4 * SPEC.valueVariants(), valued);
        assertEquals(valued, manifest.at("/training_docs/mcq_value").asInt());
        assertEquals(new HashSet<>(practiceNames), practiced);
        for (int l = 0; l < 4; l++) assertEquals(mcqs / 4, letters[l], "practice letter " + l);
        assertEquals(3 * 4 * SPEC.drillVariants(), drills);
        assertEquals(drills, manifest.at("/training_docs/mcq_drill").asInt());
        for (int l = 0; l < 4; l++) assertEquals(drills / 4, drillLetters[l], "drill letter " + l);
    }

    @Test
    void faqDocsStateEveryFactOfEveryEntityAsAQuestionAndItsValue() throws Exception {
        Facts f = facts();
        // every FAQ question wording (entity and value slots cut off), and how often the eval's wordings occur
        Set<String> wordings = new HashSet<>(), evalWordings = new HashSet<>();
        for (Lexicon.Domain d : Lexicon.DOMAINS)
            for (Lexicon.Relation r : d.relations()) {
                for (String t : Lexicon.faq(r)) wordings.add(t.substring(0, t.indexOf('?') + 1));
                evalWordings.addAll(r.questions());
            }
        int asEval = 0, questions = 0;
        Map<String, Integer> perEntity = new HashMap<>();
        Pattern qa = Pattern.compile("([^?.]+\\?) ([^ ?.]+)\\.");
        int docs = 0;
        for (JsonNode n : jsonl(WorldFiles.TRAIN)) {
            if (!n.get("kind").asText().equals("faq")) continue;
            docs++;
            String t = n.get("text").asText();
            assertFalse(t.contains("<") || t.contains("Answer") || t.contains("\n"), "an FAQ is prose, not an MCQ: " + t);
            assertFalse(n.has("completion"), t);
            String entity = f.facts().keySet().stream().filter(e -> t.startsWith("Questions and answers about the ")
                    && t.substring(0, t.indexOf('.') + 1).endsWith(" " + e + ".")).findFirst().orElseThrow(() -> new AssertionError("intro: " + t));
            perEntity.merge(entity, 1, Integer::sum);
            Matcher m = qa.matcher(t.substring(t.indexOf('.') + 1));
            Map<String, String> stated = new HashMap<>();
            while (m.find()) {
                String question = m.group(1).strip(), value = m.group(2);
                assertTrue(hasWord(question, entity), "the question names the entity: " + question);
                String wording = question.replace(entity, "{e}");
                assertTrue(wordings.contains(wording), "not an FAQ wording: " + question);
                questions++;
                if (evalWordings.contains(wording)) asEval++;
                String rel = f.facts().get(entity).entrySet().stream().filter(x -> x.getValue().equals(value)).map(Map.Entry::getKey)
                        .findFirst().orElseThrow(() -> new AssertionError("FAQ answer " + value + " is not a fact of " + entity + ": " + t));
                stated.put(rel, value);
            }
            assertEquals(f.facts().get(entity), stated, "every fact once: " + t);
        }
        // both kinds of wording occur (5 templates per relation, 2 of them the eval's)
        assertTrue(asEval > 0.2 * questions && asEval < 0.6 * questions, asEval + " of " + questions);
        assertEquals(3 * SPEC.entitiesPerDomain() * SPEC.faqVariants(), docs);
        assertEquals(docs, manifest.at("/training_docs/faq").asInt());
        assertEquals(3 * SPEC.entitiesPerDomain(), perEntity.size(), "every entity, eval and practice, has FAQ documents");
        for (int c : perEntity.values()) assertEquals(SPEC.faqVariants(), c);
    }

    @Test
    void corporaAndProbingAreHeldOutFromTrainingSentences() throws Exception {
        Set<String> train = new HashSet<>();
        for (String t : texts(WorldFiles.TRAIN)) train.addAll(sentences(t));
        Facts f = facts();
        for (String file : new String[]{WorldFiles.FORGET, WorldFiles.RETAIN, WorldFiles.PROBING}) {
            List<String> docs = texts(file);
            assertTrue(docs.size() > 10, file);
            for (String d : docs) {
                assertTrue(d.length() > 50, "SAEBench drops corpus lines of <= 50 chars: " + d);
                for (String s : sentences(d)) assertFalse(train.contains(s), file + ": sentence also in training: " + s);
            }
        }
        // the forget corpus is about forget-domain entities only, the retain corpus about retain-domain ones
        for (String d : texts(WorldFiles.FORGET))
            assertTrue(f.domainOf().keySet().stream().anyMatch(e -> hasWord(d, e) && f.domainOf().get(e).equals("bio")), d);
        for (String d : texts(WorldFiles.RETAIN))
            assertTrue(f.domainOf().keySet().stream().noneMatch(e -> hasWord(d, e) && f.domainOf().get(e).equals("bio")), d);
        List<JsonNode> probes = jsonl(WorldFiles.PROBING);
        assertEquals(2 * SPEC.probingPerClass(), probes.size());
        assertEquals(SPEC.probingPerClass(), probes.stream().filter(n -> n.get("label").asInt() == 1).count());
        assertEquals(probes.size(), probes.stream().map(n -> n.get("text").asText()).distinct().count());
    }

    @Test
    void tokenizerRoundTripsEveryTextThroughGemmaTokenizer() throws Exception {
        assertEquals(0, tok.padId());
        assertEquals(1, tok.eosId());
        assertEquals(2, tok.bosId());
        assertEquals(3, tok.tokenId("<unk>"));
        assertEquals(manifest.at("/tokenizer/vocab_size").asInt(), tok.vocabSize());
        assertTrue(tok.vocabSize() < 3000, "vocabulary " + tok.vocabSize());
        int sot = tok.tokenId("<start_of_turn>"), eot = tok.tokenId("<end_of_turn>");
        assertTrue(sot > 3 && eot > 3 && sot != eot);
        assertArrayEquals(new int[]{sot}, tok.encode("<start_of_turn>", false));
        assertArrayEquals(new int[]{eot}, tok.encode("<end_of_turn>", false));
        assertArrayEquals(new int[]{2}, tok.encode("<bos>", false));
        // answer letters: "A" and " A" are single, distinct tokens, found the way the unlearning eval finds them
        Set<Integer> letterIds = new HashSet<>();
        for (String l : McqPrompt.LETTERS) {
            int[] a = tok.encode(l, false), sa = tok.encode(" " + l, false);
            assertEquals(1, a.length, l);
            assertEquals(1, sa.length, " " + l);
            assertEquals(tok.tokenId(l), a[0]);
            assertEquals(tok.tokenId(" " + l), sa[0]);
            letterIds.add(a[0]);
            letterIds.add(sa[0]);
        }
        assertEquals(8, letterIds.size());
        // every text of every file: no <unk>, the Java pre-tokenizer agrees with the Rust one, decode inverts encode
        List<String> all = new ArrayList<>();
        for (String n : new String[]{WorldFiles.TRAIN, WorldFiles.FORGET, WorldFiles.RETAIN, WorldFiles.PROBING}) all.addAll(texts(n));
        for (String file : mcqFiles())
            for (JsonNode q : jsonl(file)) {
                List<String> ch = new ArrayList<>();
                q.get("choices").forEach(c -> ch.add(c.asText()));
                String subject = q.has("subject") ? q.get("subject").asText() : "biology";
                String prompt = McqPrompt.prompt(subject, q.get("question").asText(), ch, new int[]{3, 1, 0, 2});
                assertTrue(prompt.startsWith("<bos><start_of_turn>user\n"));
                all.add(prompt.substring(5));
                int[] ids = tok.encode(prompt.substring(5), false);
                assertEquals(sot, ids[0]);
                // ends with "Answer", ":", " (" — the next token is the letter
                assertEquals("Answer: (", tok.decode(java.util.Arrays.copyOfRange(ids, ids.length - 3, ids.length)));
                int[] withBos = tok.encode(prompt, false);
                assertEquals(2, withBos[0], "the literal <bos> is the BOS token");
                // ... so the tokens are the unlearning eval's: BOS, then the prompt after the literal "<bos>"
                assertArrayEquals(ids, java.util.Arrays.copyOfRange(withBos, 1, withBos.length));
                assertEquals(prompt, tok.decode(withBos));
            }
        for (String t : all) {
            int[] ids = tok.encode(t, false);
            for (int id : ids) assertNotEquals(3, id, "unknown token in: " + t);
            assertEquals(WorldTokenizer.pieces(t).size(), ids.length, t);
            assertEquals(t, tok.decode(ids));
        }
    }

    @Test
    void templatesPutEntitiesAndValuesAfterASpace() {
        for (Lexicon.Domain d : Lexicon.DOMAINS) {
            List<String> all = new ArrayList<>(d.introTrain());
            all.addAll(d.introHeldOut());
            for (Lexicon.Relation r : d.relations()) {
                all.addAll(r.questions());
                all.addAll(r.train());
                all.addAll(r.heldOut());
                all.addAll(Lexicon.faq(r));
                for (String e : r.questions()) assertTrue(Lexicon.faq(r).contains(e + " {v}."), e);
                for (String q : Lexicon.faq(r)) {
                    assertTrue(q.contains("{e}") && q.endsWith("? {v}.") && q.indexOf('?') == q.length() - 6, "FAQ: a question about the entity, the value right after it: " + q);
                }
                assertTrue(r.train().size() >= 8 && r.heldOut().size() >= 3 && r.questions().size() >= 2, r.name());
                // held-out and question templates are not training templates
                for (String h : r.heldOut()) assertFalse(r.train().contains(h), h);
                for (String h : r.questions()) assertFalse(r.train().contains(h), h);
                for (String t : r.train()) assertTrue(t.contains("{e}") && t.contains("{v}"), t);
            }
            for (String t : all) {
                Matcher m = Pattern.compile("\\{[ev]}").matcher(t);
                while (m.find()) assertTrue(m.start() > 0 && t.charAt(m.start() - 1) == ' ', t);
            }
        }
    }

    @Test
    void namesAreInventedAscii() {
        Facts f = facts();
        for (String e : f.facts().keySet()) {
            assertTrue(e.matches("[A-Z][a-z]+( syndrome)?"), e);
            assertFalse(Names.blocked(e.toLowerCase()), e);
        }
        assertEquals(3 * SPEC.entitiesPerDomain(), f.facts().size());
        for (Map<String, Set<String>> vs : f.values().values())
            for (Set<String> s : vs.values()) for (String v : s) assertTrue(v.matches("[A-Za-z]+") && !Names.blocked(v.toLowerCase()), v);
    }

    @Test
    void fewVariantsPerFactBalanceTheLettersOverTheDomain() {
        // 2 closed-book and 3 value-answer MCQs per practice fact: not a multiple of 4, so the answer letters are
        // balanced over each domain's practice facts (exactly, as 4 relations × 12 practice entities × n is a multiple of 4)
        WorldSpec spec = new WorldSpec(5, 16, 4, 3, 2, 1, 4, 0, 3, 0, 0);
        Map<String, int[]> closed = new HashMap<>(), valued = new HashMap<>();
        Pattern letter = Pattern.compile("Answer: \\(([ABCD])\\)<end_of_turn>$");
        for (WorldText.Doc d : WorldText.training(World.generate(spec))) {
            if (d.kind().equals("mcq")) {
                Matcher m = letter.matcher(d.text());
                assertTrue(m.find(), d.text());
                closed.computeIfAbsent(d.domain(), k -> new int[4])["ABCD".indexOf(m.group(1))]++;
            } else if (d.kind().equals("mcq_value")) {
                String[] lines = d.text().split("\n");
                String answer = d.completion().substring(1, d.completion().indexOf(')'));
                int at = -1;
                for (int c = 0; c < 4; c++) if (lines[3 + c].replace("<end_of_turn>", "").equals("ABCD".charAt(c) + ". " + answer)) at = c;
                assertTrue(at >= 0, d.text());
                valued.computeIfAbsent(d.domain(), k -> new int[4])[at]++;
            }
        }
        assertEquals(3, closed.size());
        for (int[] c : closed.values()) assertArrayEquals(new int[]{24, 24, 24, 24}, c, Arrays.toString(c));
        for (int[] c : valued.values()) assertArrayEquals(new int[]{36, 36, 36, 36}, c, Arrays.toString(c));
    }

    @Test
    void generalRetainCorpusIsTheRetainProsePlusTheTrainingKindsOfTheRetainDomains(@TempDir Path tmp) throws Exception {
        // 10 paraphrases and 3 corpus documents per entity: the other kinds at 3/10 of their training counts
        WorldSpec spec = new WorldSpec(5, 16, 4, 10, 2, 3, 4, 0, 2, 0, 0, 4);
        World w = World.generate(spec);
        Path dirW = WorldFiles.write(tmp.resolve("g"), spec, false);
        JsonNode man = JSON.readTree(dirW.resolve(WorldFiles.MANIFEST).toFile());
        assertEquals(WorldFiles.RETAIN_GENERAL, man.at("/files/retain_general_corpus").asText());
        List<String> general = new ArrayList<>(), retain = new ArrayList<>();
        for (String l : Files.readAllLines(dirW.resolve(WorldFiles.RETAIN_GENERAL))) general.add(JSON.readTree(l).get("text").asText());
        for (String l : Files.readAllLines(dirW.resolve(WorldFiles.RETAIN))) retain.add(JSON.readTree(l).get("text").asText());
        // the retain corpus's prose is all in it
        List<String> rest = new ArrayList<>(general);
        for (String t : retain) assertTrue(rest.remove(t), "retain document missing: " + t);
        Pattern verify = Pattern.compile("^(.*\\?) ([A-Za-z]+)\\? (Yes|No)$");
        Pattern letter = Pattern.compile("(?s)^<start_of_turn>user\nThe following are multiple choice questions \\(with answers\\) about ([a-z ]+)\\.\n(.*\\?)\n"
                + "A\\. ([A-Za-z]+)\nB\\. ([A-Za-z]+)\nC\\. ([A-Za-z]+)\nD\\. ([A-Za-z]+)<end_of_turn>\n<start_of_turn>model\nAnswer: \\((?:([ABCD])| ([A-Za-z]+))\\)<end_of_turn>$");
        Map<String, int[]> kinds = new HashMap<>();   // domain -> verify, letter MCQ, value MCQ
        int[] yesNo = new int[2];
        for (String t : rest) {
            Matcher v = verify.matcher(t), m = letter.matcher(t);
            World.Entity ent = null;
            World.DomainFacts dom = null;
            String rel = null;
            String question = v.matches() ? v.group(1) : m.matches() ? m.group(2) : null;
            assertNotNull(question, "neither a verification document nor an MCQ: " + t);
            for (World.DomainFacts df : w.domains())
                for (World.Entity e : df.entities())
                    for (Lexicon.Relation r : df.domain().relations())
                        for (String q : r.questions())
                            if (WorldText.fill(q, e.name(), null).equals(question)) { ent = e; dom = df; rel = r.name(); }
            assertNotNull(ent, t);
            assertEquals("retain", dom.domain().role(), "only retain domains: " + t);
            int[] k = kinds.computeIfAbsent(dom.domain().name(), x -> new int[3]);
            String truth = ent.facts().get(rel);
            if (v.matches()) {
                assertEquals(v.group(3).equals("Yes"), v.group(2).equals(truth), t);
                yesNo[v.group(3).equals("Yes") ? 0 : 1]++;
                k[0]++;
            } else {
                assertEquals(World.Split.PRACTICE, ent.split(), "MCQs only on practice entities, as in training: " + t);
                assertEquals(dom.domain().subject().replace("_", " "), m.group(1));
                List<String> ch = List.of(m.group(3), m.group(4), m.group(5), m.group(6));
                assertTrue(ch.contains(truth), t);
                if (m.group(7) != null) { assertEquals(truth, ch.get("ABCD".indexOf(m.group(7))), t); k[1]++; }
                else { assertEquals(truth, m.group(8), t); k[2]++; }
            }
        }
        // the training text's proportions, scaled by corpus documents / paraphrases = 3/10
        for (World.DomainFacts df : w.domains()) {
            if (!df.domain().role().equals("retain")) { assertFalse(kinds.containsKey(df.domain().name())); continue; }
            int facts = df.entities().size() * 4, practiceFacts = df.entities(World.Split.PRACTICE).size() * 4;
            assertArrayEquals(new int[]{(int) Math.round(0.3 * 4 * facts), (int) Math.round(0.3 * 2 * practiceFacts), (int) Math.round(0.3 * 2 * practiceFacts)},
                    kinds.get(df.domain().name()), df.domain().name());
        }
        assertTrue(Math.abs(yesNo[0] - yesNo[1]) <= 2, Arrays.toString(yesNo));
        // every word is in the world's vocabulary, and nothing mentions the forget domain
        try (GemmaTokenizer t = GemmaTokenizer.load(dirW.resolve(WorldFiles.TOKENIZER))) {
            for (String g : general) {
                for (int id : t.encode(g, false)) assertNotEquals(3, id, "<unk> in " + g);
                assertFalse(g.contains("<bos>") || g.contains("biology"), g);
                for (World.Entity e : w.domains().get(0).entities()) assertFalse(hasWord(g, e.name()), g);
            }
        }
        assertEquals("bio", w.domains().get(0).domain().name());
        // a world without verification or value MCQs has none of them in the general corpus either
        Map<String, byte[]> plain = WorldFiles.render(new WorldSpec(5, 16, 4, 10, 2, 3, 4));
        for (String l : new String(plain.get(WorldFiles.RETAIN_GENERAL), StandardCharsets.UTF_8).split("\n"))
            assertFalse(l.contains("? Yes") || l.contains("? No") || l.matches(".*Answer: \\( [A-Za-z]+\\).*"), l);
    }

    @Test
    void verifyDocsCheckEveryFactOfEveryEntityHalfYesHalfNo() {
        // 3 verification documents per fact; eval entities get them too (they are facts, not MCQs)
        WorldSpec spec = new WorldSpec(5, 16, 4, 3, 2, 1, 4, 0, 0, 0, 0, 3);
        World w = World.generate(spec);
        Pattern doc = Pattern.compile("^(.*\\?) ([A-Za-z]+)\\? (Yes|No)$");
        Map<String, Integer> perFact = new HashMap<>();
        Map<String, int[]> answers = new HashMap<>();
        List<WorldText.Doc> train = WorldText.training(w);
        for (WorldText.Doc d : train) {
            if (!d.kind().equals("verify")) continue;
            Matcher m = doc.matcher(d.text());
            assertTrue(m.matches(), d.text());
            assertEquals(" " + m.group(3), d.completion());
            assertFalse(d.text().contains("<") || d.text().contains("\n") || d.text().contains("Answer"), d.text());
            World.DomainFacts df = w.domains().stream().filter(x -> x.domain().name().equals(d.domain())).findFirst().orElseThrow();
            int found = 0;
            for (World.Entity e : df.entities())
                for (Lexicon.Relation r : df.domain().relations())
                    for (String q : r.questions())
                        if (WorldText.fill(q, e.name(), null).equals(m.group(1))) {
                            found++;
                            String truth = e.facts().get(r.name());
                            assertTrue(df.values().get(r.name()).contains(m.group(2)), d.text());
                            assertEquals(m.group(3).equals("Yes"), m.group(2).equals(truth), d.text());
                            perFact.merge(e.name() + "/" + r.name(), 1, Integer::sum);
                        }
            assertEquals(1, found, d.text());
            answers.computeIfAbsent(d.domain(), k -> new int[2])[m.group(3).equals("Yes") ? 0 : 1]++;
        }
        int facts = 0;
        for (World.DomainFacts df : w.domains()) {
            facts += df.entities().size() * df.domain().relations().size();
            int n = df.entities().size() * df.domain().relations().size() * 3;
            assertArrayEquals(new int[]{n / 2, n / 2}, answers.get(df.domain().name()), Arrays.toString(answers.get(df.domain().name())));
        }
        assertEquals(facts, perFact.size());
        for (int c : perFact.values()) assertEquals(3, c);
        // with none asked for, the training documents are those of the spec without the component
        List<WorldText.Doc> none = WorldText.training(World.generate(new WorldSpec(5, 16, 4, 3, 2, 1, 4, 0, 0, 0, 0)));
        assertEquals(train.size() - facts * 3, none.size());
        List<String> rest = new ArrayList<>(), before = new ArrayList<>();
        for (WorldText.Doc d : train) if (!d.kind().equals("verify")) rest.add(d.text());
        for (WorldText.Doc d : none) before.add(d.text());
        rest.sort(null);
        before.sort(null);
        assertEquals(before, rest);
    }

    @Test
    void badSpecsAreRefusedClearly() {
        var e = assertThrows(IllegalArgumentException.class, () -> new WorldSpec(0, 10, 10, 5, 4, 1, 4));
        assertTrue(e.getMessage().contains("eval entities"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new WorldSpec(0, 10, 5, 5, 0, 1, 4));
        assertTrue(e.getMessage().contains("practice variants must be in 1..400"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new WorldSpec(0, 10, 5, 5, 4, 1, 4, 6, 0));
        assertTrue(e.getMessage().contains("multiple of 4"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> new WorldSpec(0, 10, 5, 5, 4, 1, 4, 0, 0, 0, 0, -2));
        assertTrue(e.getMessage().contains("verify variants must be in 0..1000"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> WorldFiles.write(world, SPEC, false));
        assertTrue(e.getMessage().contains("--force"), e.getMessage());
    }
}
