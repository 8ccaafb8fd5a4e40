package msts.data.world;

/**
 * Sizes of a planted world. entitiesPerDomain: entities per domain, of which evalEntities are EVAL (asked in
 * the MCQ eval sets, prose only in training) and the rest PRACTICE. paraphrases: training prose documents per
 * entity (each states all the entity's facts in freshly drawn templates and order). practiceVariants: MCQ
 * practice documents per practice fact (a multiple of 4: each fact's answer sits at each letter equally often;
 * otherwise the letters are balanced over the domain's practice facts, in random order — few variants per fact
 * keep a tiny model from memorising a practice fact in MCQ form, docs/demo-model.md runs Z). corpusDocs:
 * held-out-template documents per entity in forget.jsonl / retain.jsonl. probingPerClass: examples per class of
 * probing_topic.jsonl. openBookVariants: open-book practice MCQs per practice fact (a
 * multiple of 4, or 0): a prose document about the practice entity (which states the answer) followed by the
 * MCQ, so the answer letter can be found by matching the stated value to a choice line. valueVariants:
 * value-answer practice documents per practice fact: the MCQ prompt whose model turn is "Answer:" followed by
 * the answer's value (not its letter), which trains recalling the value at the end of the prompt (letters
 * balanced as for practiceVariants). faqVariants:
 * FAQ prose documents per entity (every entity, eval and practice): each fact as a question worded unlike the
 * MCQ eval's, directly followed by the value ({@link Lexicon#FAQ}), so recalling a fact at the end of a
 * question is learned for every entity, as web text teaches it; no choices, letters or chat template.
 * drillVariants: format drills per relation ("Which choice is {v}?", no entity). verifyVariants: yes/no
 * verification documents per fact of every entity, eval and practice ({@link Lexicon#VERIFY_ANSWERS}): an MCQ
 * question wording followed by a candidate value and "? Yes" (the entity's value) or "? No" (another value of the
 * relation), alternating over the domain's facts so each answer is half of them; they teach checking a named value
 * against the entity's fact, the step a multiple-choice answer needs at each choice line (docs/demo-model.md, run Y);
 * no choices, letters or chat template.
 */
public record WorldSpec(long seed, int entitiesPerDomain, int evalEntities, int paraphrases, int practiceVariants,
                        int corpusDocs, int probingPerClass, int openBookVariants, int valueVariants, int faqVariants, int drillVariants,
                        int verifyVariants) {

    /**
     * The demo's world recipe (docs/demo-model.md, "The verification curriculum": 200 entities per domain, 20 of them
     * asked in the eval MCQs, so 180 practice entities per domain with 2 closed-book, no open-book and 2 value-answer
     * MCQs per fact; 40 paraphrases; 12 yes/no verification documents per fact of every entity), as strings for
     * picocli defaults; {@link #demo} builds it. The demo's model is first trained on the {@link #format} world, then
     * on the {@link #practice} world, then on this one (docs/demo-model.md).
     */
    public static final String DEMO_ENTITIES = "200", DEMO_EVAL_ENTITIES = "20", DEMO_PARAPHRASES = "40", DEMO_PRACTICE_VARIANTS = "2",
            DEMO_OPEN_BOOK_VARIANTS = "0", DEMO_VALUE_VARIANTS = "2", DEMO_FAQ_VARIANTS = "0", DEMO_DRILL_VARIANTS = "0",
            DEMO_VERIFY_VARIANTS = "12";

    /** The demo's world ({@code msts demo} with default world options; the plan world of {@code msts experiment}). */
    public static WorldSpec demo(long seed, int entitiesPerDomain, int evalEntities, int paraphrases) {
        return new WorldSpec(seed, entitiesPerDomain, evalEntities, paraphrases, Integer.parseInt(DEMO_PRACTICE_VARIANTS), 6, 120,
                Integer.parseInt(DEMO_OPEN_BOOK_VARIANTS), Integer.parseInt(DEMO_VALUE_VARIANTS), Integer.parseInt(DEMO_FAQ_VARIANTS),
                Integer.parseInt(DEMO_DRILL_VARIANTS), Integer.parseInt(DEMO_VERIFY_VARIANTS));
    }

    /**
     * The world of the demo model's first stage, where it learns the MCQ format (run K of docs/demo-model.md: 40
     * entities per domain, 120 paraphrases, 24 closed-book, 24 open-book and 24 value-answer MCQs per practice fact).
     */
    public static WorldSpec format(long seed) {
        return new WorldSpec(seed, 40, 20, 120, 24, 6, 120, 24, 24, 0, 0);
    }

    /**
     * The world of the demo model's practice stages, after the format stage and before the demo world (runs Q and R of
     * docs/demo-model.md, the demo world until 2026-12-03: 100 entities per domain, 20 eval, 60 paraphrases, 8
     * closed-book, 8 open-book and 8 value-answer MCQs per practice fact), where the MCQ step becomes less tied to
     * particular entities.
     */
    public static WorldSpec practice(long seed) {
        return new WorldSpec(seed, 100, 20, 60, 8, 6, 120, 8, 8, 0, 0);
    }

    public static WorldSpec defaults(long seed) {
        return new WorldSpec(seed, 40, 20, 200, 48, 6, 120, 0, 0, 0, 0);
    }

    /** A world without verification documents. */
    public WorldSpec(long seed, int entitiesPerDomain, int evalEntities, int paraphrases, int practiceVariants, int corpusDocs, int probingPerClass,
                     int openBookVariants, int valueVariants, int faqVariants, int drillVariants) {
        this(seed, entitiesPerDomain, evalEntities, paraphrases, practiceVariants, corpusDocs, probingPerClass, openBookVariants, valueVariants,
                faqVariants, drillVariants, 0);
    }

    /** A world without FAQ documents. */
    public WorldSpec(long seed, int entitiesPerDomain, int evalEntities, int paraphrases, int practiceVariants, int corpusDocs, int probingPerClass,
                     int openBookVariants, int valueVariants) {
        this(seed, entitiesPerDomain, evalEntities, paraphrases, practiceVariants, corpusDocs, probingPerClass, openBookVariants, valueVariants, 0, 0);
    }

    /** A world without open-book practice. */
    public WorldSpec(long seed, int entitiesPerDomain, int evalEntities, int paraphrases, int practiceVariants, int corpusDocs, int probingPerClass) {
        this(seed, entitiesPerDomain, evalEntities, paraphrases, practiceVariants, corpusDocs, probingPerClass, 0, 0, 0, 0);
    }

    public WorldSpec {
        if (verifyVariants < 0 || verifyVariants > 1000)
            throw new IllegalArgumentException("verify variants must be in 0..1000, got " + verifyVariants);
        if (drillVariants < 0 || drillVariants % 4 != 0 || drillVariants > 4000)
            throw new IllegalArgumentException("drill variants must be a multiple of 4 in 0..4000, got " + drillVariants);
        if (faqVariants < 0 || faqVariants > 1000) throw new IllegalArgumentException("FAQ variants must be in 0..1000, got " + faqVariants);
        if (valueVariants < 0 || valueVariants > 400) throw new IllegalArgumentException("value variants must be in 0..400, got " + valueVariants);
        if (openBookVariants < 0 || openBookVariants % 4 != 0 || openBookVariants > 400)
            throw new IllegalArgumentException("open-book variants must be a multiple of 4 in 0..400, got " + openBookVariants);
        if (entitiesPerDomain < 2 || entitiesPerDomain > 400)
            throw new IllegalArgumentException("entities per domain must be in 2..400, got " + entitiesPerDomain);
        if (evalEntities < 1 || evalEntities >= entitiesPerDomain)
            throw new IllegalArgumentException("eval entities must be in 1.." + (entitiesPerDomain - 1) + ", got " + evalEntities);
        if (paraphrases < 1 || paraphrases > 10_000) throw new IllegalArgumentException("paraphrases must be in 1..10000, got " + paraphrases);
        if (practiceVariants < 1 || practiceVariants > 400)
            throw new IllegalArgumentException("practice variants must be in 1..400, got " + practiceVariants);
        if (corpusDocs < 1 || corpusDocs > 1000) throw new IllegalArgumentException("corpus docs per entity must be in 1..1000, got " + corpusDocs);
        if (probingPerClass < 2 || probingPerClass > 100_000)
            throw new IllegalArgumentException("probing examples per class must be in 2..100000, got " + probingPerClass);
    }
}
