package msts.data.world;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

/**
 * Every text of a world, rendered from its facts and {@link Lexicon}'s templates: the training documents
 * (prose paraphrases of every fact, plus MCQ practice on PRACTICE entities), the held-out forget/retain
 * corpora, the MCQ eval sets and the probing set. Each part draws from its own random stream.
 */
public final class WorldText {
    private WorldText() {}


    /**
     * A training document: kind "prose" or "mcq"; domain name; completion = the suffix of the text a
     * supervised trainer puts the loss on (an MCQ's answer, "C)&lt;end_of_turn&gt;"; null for prose).
     */
    public record Doc(String text, String kind, String domain, String completion) {
        public Doc(String text, String kind, String domain) { this(text, kind, domain, null); }
    }

    /** An MCQ in the cais/wmdp / cais/mmlu layout, with the fact it asks about. */
    public record Mcq(String subject, String question, List<String> choices, int answer, String entity, String relation) {}

    /** A labelled probing example. */
    public record Probe(String text, int label, String domain) {}

    static String fill(String template, String entity, String value) {
        return template.replace("{e}", entity == null ? "" : entity).replace("{v}", value == null ? "" : value);
    }

    static <T> T pick(List<T> xs, SplittableRandom rnd) {
        return xs.get(rnd.nextInt(xs.size()));
    }

    /** One document about one entity: an optional intro, then every fact in random order and random template. */
    static String entityDoc(Lexicon.Domain d, World.Entity e, boolean heldOut, SplittableRandom rnd) {
        List<String> sentences = new ArrayList<>();
        if (rnd.nextBoolean()) sentences.add(fill(pick(heldOut ? d.introHeldOut() : d.introTrain(), rnd), e.name(), null));
        List<Lexicon.Relation> rels = new ArrayList<>(d.relations());
        World.shuffle(rels, rnd);
        for (Lexicon.Relation r : rels) sentences.add(fill(pick(heldOut ? r.heldOut() : r.train(), rnd), e.name(), e.facts().get(r.name())));
        return String.join(" ", sentences);
    }

    /** One FAQ document about one entity: an intro, then every fact as a question and its value, in random order and template. */
    static String faqDoc(Lexicon.Domain d, World.Entity e, SplittableRandom rnd) {
        List<String> sentences = new ArrayList<>();
        sentences.add(fill(Lexicon.FAQ_INTRO.get(d.name()), e.name(), null));
        List<Lexicon.Relation> rels = new ArrayList<>(d.relations());
        World.shuffle(rels, rnd);
        for (Lexicon.Relation r : rels) sentences.add(fill(pick(Lexicon.faq(r), rnd), e.name(), e.facts().get(r.name())));
        return String.join(" ", sentences);
    }

    /**
     * One verification document: an MCQ question wording about the entity, then {@code value} and "? Yes" when
     * it is the entity's value, "? No" otherwise. The completion is the answer word.
     */
    static Doc verifyDoc(World.DomainFacts df, World.Entity e, Lexicon.Relation r, boolean yes, SplittableRandom rnd) {
        String truth = e.facts().get(r.name());
        String value = yes ? truth : pick(otherValues(df.values().get(r.name()), truth), rnd);
        String answer = " " + Lexicon.VERIFY_ANSWERS.get(yes ? 0 : 1);
        return new Doc(fill(pick(r.questions(), rnd), e.name(), null) + " " + value + "?" + answer, "verify", df.domain().name(), answer);
    }

    /** The relation's values other than {@code answer}, in order (a new, mutable list). */
    static List<String> otherValues(List<String> values, String answer) {
        List<String> out = new ArrayList<>();
        for (String v : values) if (!v.equals(answer)) out.add(v);
        return out;
    }

    /** Three distractors from the relation's value set (uniform, distinct, ≠ the answer) and the answer at {@code pos}. */
    static List<String> choices(List<String> values, String answer, int pos, SplittableRandom rnd) {
        List<String> pool = otherValues(values, answer);
        List<String> c = new ArrayList<>();
        for (int i = 0; i < 3; i++) c.add(pool.remove(rnd.nextInt(pool.size())));
        c.add(pos, answer);
        return List.copyOf(c);
    }

    static Mcq mcq(World.DomainFacts df, World.Entity e, Lexicon.Relation r, int pos, SplittableRandom rnd) {
        String q = fill(pick(r.questions(), rnd), e.name(), null);
        return new Mcq(df.domain().subject(), q, choices(df.values().get(r.name()), e.facts().get(r.name()), pos, rnd), pos,
                e.name(), r.name());
    }

    /**
     * The training text of one practice MCQ: the unlearning eval's prompt verbatim (starting with the literal
     * "&lt;bos&gt;", which the tokenizer reads as the BOS token), the answer letter, ")" and "&lt;end_of_turn&gt;".
     */
    public static String practiceText(Mcq q) {
        return McqPrompt.prompt(q.subject(), q.question(), q.choices(), new int[]{0, 1, 2, 3}) + practiceCompletion(q);
    }

    /** The answer part of a practice MCQ's text: the letter, ")" and "&lt;end_of_turn&gt;". */
    public static String practiceCompletion(Mcq q) {
        return McqPrompt.LETTERS[q.answer()] + ")<end_of_turn>";
    }

    /**
     * Answer positions for n MCQs: each letter n/4 times (the first n mod 4 letters once more), in random order.
     * Used by the eval sets, and for practice MCQs when a fact's variants are not a multiple of 4, so the letters
     * are balanced over the domain's practice facts instead of within each fact.
     */
    static int[] balancedPositions(int n, SplittableRandom rnd) {
        List<Integer> pos = new ArrayList<>();
        for (int i = 0; i < n; i++) pos.add(i % 4);
        World.shuffle(pos, rnd);
        int[] out = new int[n];
        for (int i = 0; i < n; i++) out[i] = pos.get(i);
        return out;
    }

    /**
     * Training documents, shuffled: prose, FAQ documents (kind "faq") and verification documents (kind "verify") for every entity, MCQ practice for PRACTICE entities only (closed
     * book, kind "mcq"; and open book, kind "mcq_open_book": a training-template prose document about the
     * entity, which states the answer, directly followed by the MCQ prompt and answer).
     */
    public static List<Doc> training(World w) {
        WorldSpec s = w.spec();
        SplittableRandom prose = World.stream(s.seed(), "train-prose"), prac = World.stream(s.seed(), "train-mcq"),
                open = World.stream(s.seed(), "train-mcq-open-book"), value = World.stream(s.seed(), "train-mcq-value"),
                faq = World.stream(s.seed(), "train-faq"), drill = World.stream(s.seed(), "train-mcq-drill"),
                verify = World.stream(s.seed(), "train-verify");
        List<Doc> docs = new ArrayList<>();
        for (World.DomainFacts df : w.domains()) {
            for (World.Entity e : df.entities())
                for (int k = 0; k < s.paraphrases(); k++) docs.add(new Doc(entityDoc(df.domain(), e, false, prose), "prose", df.domain().name()));
            for (World.Entity e : df.entities())
                for (int k = 0; k < s.faqVariants(); k++) docs.add(new Doc(faqDoc(df.domain(), e, faq), "faq", df.domain().name()));
            int fi = 0;
            for (World.Entity e : df.entities())
                for (Lexicon.Relation r : df.domain().relations()) {
                    for (int k = 0; k < s.verifyVariants(); k++) docs.add(verifyDoc(df, e, r, (fi + k) % 2 == 0, verify));
                    fi++;
                }
            for (Lexicon.Relation r : df.domain().relations())
                for (int k = 0; k < s.drillVariants(); k++) {
                    List<String> vals = df.values().get(r.name());
                    String v = vals.get(drill.nextInt(vals.size()));
                    Mcq q = new Mcq(df.domain().subject(), fill(pick(Lexicon.DRILL, drill), null, v), choices(vals, v, k % 4, drill), k % 4, null, r.name());
                    docs.add(new Doc(practiceText(q), "mcq_drill", df.domain().name(), practiceCompletion(q)));
                }
            int practiceFacts = df.entities(World.Split.PRACTICE).size() * df.domain().relations().size();
            int[] pracPos = s.practiceVariants() % 4 == 0 ? null : balancedPositions(practiceFacts * s.practiceVariants(), prac);
            int pi = 0;
            for (World.Entity e : df.entities(World.Split.PRACTICE))
                for (Lexicon.Relation r : df.domain().relations()) {
                    int offset = pracPos == null ? prac.nextInt(4) : 0;
                    for (int k = 0; k < s.practiceVariants(); k++) {
                        Mcq q = mcq(df, e, r, pracPos == null ? (offset + k) % 4 : pracPos[pi++], prac);
                        docs.add(new Doc(practiceText(q), "mcq", df.domain().name(), practiceCompletion(q)));
                    }
                }
            int[] valuePos = s.valueVariants() % 4 == 0 ? null : balancedPositions(practiceFacts * s.valueVariants(), value);
            int vi = 0;
            for (World.Entity e : df.entities(World.Split.PRACTICE))
                for (Lexicon.Relation r : df.domain().relations())
                    for (int k = 0; k < s.valueVariants(); k++) {
                        Mcq q = mcq(df, e, r, valuePos == null ? k % 4 : valuePos[vi++], value);
                        String completion = " " + q.choices().get(q.answer()) + ")<end_of_turn>";
                        String text = McqPrompt.prompt(q.subject(), q.question(), q.choices(), new int[]{0, 1, 2, 3}) + completion;
                        docs.add(new Doc(text, "mcq_value", df.domain().name(), completion));
                    }
            for (World.Entity e : df.entities(World.Split.PRACTICE))
                for (Lexicon.Relation r : df.domain().relations()) {
                    int offset = open.nextInt(4);
                    for (int k = 0; k < s.openBookVariants(); k++) {
                        Mcq q = mcq(df, e, r, (offset + k) % 4, open);
                        String context = entityDoc(df.domain(), e, false, open);
                        docs.add(new Doc(context + practiceText(q), "mcq_open_book", df.domain().name(), practiceCompletion(q)));
                    }
                }
        }
        World.shuffle(docs, World.stream(s.seed(), "train-order"));
        return docs;
    }

    /** The MCQ eval set of one domain: one question per (EVAL entity, relation); answer letters exactly balanced. */
    public static List<Mcq> evalSet(World w, World.DomainFacts df) {
        SplittableRandom rnd = World.stream(w.spec().seed(), "eval-" + df.domain().name());
        List<World.Entity> ents = df.entities(World.Split.EVAL);
        int[] pos = balancedPositions(ents.size() * df.domain().relations().size(), rnd);
        List<Mcq> out = new ArrayList<>();
        int i = 0;
        for (World.Entity e : ents)
            for (Lexicon.Relation r : df.domain().relations()) out.add(mcq(df, e, r, pos[i++], rnd));
        return out;
    }

    /** Held-out-template documents about every entity of the given role ("forget" or "retain"), shuffled. */
    public static List<String> corpus(World w, String role) {
        SplittableRandom rnd = World.stream(w.spec().seed(), "corpus-" + role);
        List<String> docs = new ArrayList<>();
        for (World.DomainFacts df : w.domains()) {
            if (!df.domain().role().equals(role)) continue;
            for (World.Entity e : df.entities())
                for (int k = 0; k < w.spec().corpusDocs(); k++) docs.add(entityDoc(df.domain(), e, true, rnd));
        }
        World.shuffle(docs, rnd);
        return docs;
    }

    /**
     * The general retain corpus ({@code retain_general.jsonl}): what SAEBench's retain corpus, wikitext, is to
     * Gemma — text of the kinds the model was trained on, about everything but the forget topic. It holds the
     * retain corpus's held-out-template prose ({@link #corpus}(w, "retain"), the same documents) and, for the retain
     * domains, freshly drawn documents of the training text's other kinds in the training text's proportions:
     * verification documents (all entities, as in training) and closed-book and value-answer MCQs in the eval's
     * chat-template prompt (practice entities only, as in training; without the literal {@code <bos>}, since a
     * corpus row has its own). A kind the training text lacks is left out, so every word is in the world's
     * vocabulary. Shuffled. Why: the topic-only prose corpus never shows the MCQ prompt's own tokens, so latents
     * that fire on the prompt of every subject could pass its sparsity filter (docs/demo-model.md, "Why the clamps
     * cost retain accuracy").
     */
    public static List<String> generalRetainCorpus(World w) {
        WorldSpec s = w.spec();
        SplittableRandom rnd = World.stream(s.seed(), "corpus-retain-general");
        List<String> docs = new ArrayList<>(corpus(w, "retain"));
        double scale = (double) s.corpusDocs() / s.paraphrases();
        for (World.DomainFacts df : w.domains()) {
            if (!df.domain().role().equals("retain")) continue;
            List<Lexicon.Relation> rels = df.domain().relations();
            List<World.Entity> all = df.entities(), practice = df.entities(World.Split.PRACTICE);
            int verify = (int) Math.round(scale * s.verifyVariants() * rels.size() * all.size());
            // facts in turn, answers alternating over documents: Yes and No exactly balanced overall (what a sparsity
            // corpus needs); with an even fact count a fact's repeats share one answer, unlike training's alternation
            for (int i = 0; i < verify; i++) {
                int fact = i % (all.size() * rels.size());
                docs.add(verifyDoc(df, all.get(fact / rels.size()), rels.get(fact % rels.size()), i % 2 == 0, rnd).text());
            }
            for (int kind = 0; kind < 2 && !practice.isEmpty(); kind++) {
                int n = (int) Math.round(scale * (kind == 0 ? s.practiceVariants() : s.valueVariants()) * rels.size() * practice.size());
                int[] pos = balancedPositions(n, rnd);
                for (int i = 0; i < n; i++) {
                    World.Entity e = practice.get(rnd.nextInt(practice.size()));
                    Mcq q = mcq(df, e, rels.get(rnd.nextInt(rels.size())), pos[i], rnd);
                    String text = kind == 0 ? practiceText(q)
                            : McqPrompt.prompt(q.subject(), q.question(), q.choices(), new int[]{0, 1, 2, 3}) + " " + q.choices().get(q.answer()) + ")<end_of_turn>";
                    docs.add(text.substring("<bos>".length()));
                }
            }
        }
        World.shuffle(docs, rnd);
        return docs;
    }

    /**
     * Probing examples: two held-out-template sentences about one entity; label 1 for the forget domain, 0 for
     * the retain domains (probingPerClass each, the retain class split evenly over the retain domains). No
     * duplicate texts.
     */
    public static List<Probe> probing(World w) {
        SplittableRandom rnd = World.stream(w.spec().seed(), "probing");
        int per = w.spec().probingPerClass();
        List<World.DomainFacts> retain = w.domains().stream().filter(d -> d.domain().role().equals("retain")).toList();
        List<Probe> out = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (World.DomainFacts df : w.domains()) {
            boolean forget = df.domain().role().equals("forget");
            int idx = retain.indexOf(df);
            int count = forget ? per : per / retain.size() + (idx < per % retain.size() ? 1 : 0);
            int made = 0, tries = 0;
            while (made < count) {
                if (++tries > 1000 * count) throw new IllegalStateException("cannot make " + count + " distinct probing texts for " + df.domain().name());
                World.Entity e = pick(df.entities(), rnd);
                List<Lexicon.Relation> rels = new ArrayList<>(df.domain().relations());
                World.shuffle(rels, rnd);
                String text = fill(pick(rels.get(0).heldOut(), rnd), e.name(), e.facts().get(rels.get(0).name())) + " "
                        + fill(pick(rels.get(1).heldOut(), rnd), e.name(), e.facts().get(rels.get(1).name()));
                if (!seen.add(text)) continue;
                out.add(new Probe(text, forget ? 1 : 0, df.domain().name()));
                made++;
            }
        }
        World.shuffle(out, rnd);
        return out;
    }
}
