package msts.data.world;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;

/**
 * The planted facts: per domain of {@link Lexicon}, {@code entitiesPerDomain} invented entities, each with one
 * value per relation. An entity is either an EVAL entity (its facts are in the training text only as prose;
 * the MCQ eval sets ask about them) or a PRACTICE entity (prose plus MCQ practice in the training text, so the
 * model learns the answer format). Everything is a function of the spec (seed included).
 */
public record World(WorldSpec spec, List<DomainFacts> domains) {

    public enum Split { EVAL, PRACTICE }

    public record Entity(String name, Split split, Map<String, String> facts) {}

    /** A domain's entities and, per relation, its value set (the distractor pool). */
    public record DomainFacts(Lexicon.Domain domain, Map<String, List<String>> values, List<Entity> entities) {
        public List<Entity> entities(Split s) {
            return entities.stream().filter(e -> e.split() == s).toList();
        }
    }

    /** Independent random stream for one purpose, so changing one part's size leaves the others unchanged. */
    static SplittableRandom stream(long seed, String purpose) {
        long h = 0x9E3779B97F4A7C15L;
        for (int i = 0; i < purpose.length(); i++) h = (h ^ purpose.charAt(i)) * 0x100000001B3L;
        return new SplittableRandom(seed ^ h);
    }

    public static World generate(WorldSpec spec) {
        Set<String> used = new TreeSet<>();
        // template words are never invented names, so an invented word is always a token of its own
        for (Lexicon.Domain d : Lexicon.DOMAINS) {
            List<String> all = new ArrayList<>(d.introTrain());
            all.addAll(d.introHeldOut());
            all.add(Lexicon.FAQ_INTRO.get(d.name()));
            all.addAll(Lexicon.DRILL);
            all.addAll(Lexicon.VERIFY_ANSWERS);
            for (Lexicon.Relation r : d.relations()) {
                all.addAll(r.questions());
                all.addAll(r.train());
                all.addAll(r.heldOut());
                all.addAll(Lexicon.faq(r));
                if (r.values().fixed() != null) all.addAll(r.values().fixed());
            }
            for (String t : all)
                for (String w : t.split("[^A-Za-z]+")) if (!w.isEmpty()) used.add(w.toLowerCase(Locale.ROOT));
        }
        SplittableRandom rnd = stream(spec.seed(), "facts");
        int n = spec.entitiesPerDomain(), nEval = spec.evalEntities();
        List<DomainFacts> out = new ArrayList<>();
        for (Lexicon.Domain d : Lexicon.DOMAINS) {
            List<String> names = new ArrayList<>();
            for (int i = 0; i < n; i++) names.add(Names.draw(rnd, d.entityStyle(), used));
            Map<String, List<String>> values = new LinkedHashMap<>();
            Map<String, List<String>> assigned = new LinkedHashMap<>();
            for (Lexicon.Relation r : d.relations()) {
                List<String> vs;
                if (r.values().fixed() != null) vs = r.values().fixed();
                else {
                    int count = r.unique() ? n : r.values().count();
                    List<String> g = new ArrayList<>();
                    for (int i = 0; i < count; i++) g.add(Names.draw(rnd, r.values().style(), used));
                    vs = List.copyOf(g);
                }
                values.put(r.name(), vs);
                // even spread: value i mod |V| for entity i, then shuffled; unique relations get a permutation
                if (r.unique() && vs.size() < n) throw new IllegalStateException(r.name() + ": fewer values than entities");
                List<String> a = new ArrayList<>();
                for (int i = 0; i < n; i++) a.add(vs.get(i % vs.size()));
                shuffle(a, rnd);
                assigned.put(r.name(), a);
            }
            List<Entity> ents = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Map<String, String> f = new LinkedHashMap<>();
                for (Lexicon.Relation r : d.relations()) f.put(r.name(), assigned.get(r.name()).get(i));
                ents.add(new Entity(names.get(i), i < nEval ? Split.EVAL : Split.PRACTICE, f));
            }
            out.add(new DomainFacts(d, values, List.copyOf(ents)));
        }
        return new World(spec, List.copyOf(out));
    }

    public DomainFacts domain(String name) {
        for (DomainFacts d : domains) if (d.domain().name().equals(name)) return d;
        throw new IllegalArgumentException("no domain " + name);
    }

    /** Fisher–Yates with the given stream (explicit, so the order never depends on a library's algorithm). */
    static <T> void shuffle(List<T> a, SplittableRandom rnd) {
        for (int i = a.size() - 1; i > 0; i--) {
            int j = rnd.nextInt(i + 1);
            T t = a.get(i);
            a.set(i, a.get(j));
            a.set(j, t);
        }
    }
}
