package msts.data.world;

/**
 * Sizes of a planted world. entitiesPerDomain: entities per domain, of which evalEntities are EVAL (asked in
 * the MCQ eval sets, prose only in training) and the rest PRACTICE. paraphrases: training prose documents per
 * entity (each states all the entity's facts in freshly drawn templates and order). practiceVariants: MCQ
 * practice documents per practice fact (a multiple of 4, so each fact's answer sits at each letter equally
 * often). corpusDocs: held-out-template documents per entity in forget.jsonl / retain.jsonl. probingPerClass:
 * examples per class of probing_topic.jsonl.
 */
public record WorldSpec(long seed, int entitiesPerDomain, int evalEntities, int paraphrases, int practiceVariants,
                        int corpusDocs, int probingPerClass) {

    public static WorldSpec defaults(long seed) {
        return new WorldSpec(seed, 40, 20, 200, 48, 6, 120);
    }

    public WorldSpec {
        if (entitiesPerDomain < 2 || entitiesPerDomain > 400)
            throw new IllegalArgumentException("entities per domain must be in 2..400, got " + entitiesPerDomain);
        if (evalEntities < 1 || evalEntities >= entitiesPerDomain)
            throw new IllegalArgumentException("eval entities must be in 1.." + (entitiesPerDomain - 1) + ", got " + evalEntities);
        if (paraphrases < 1 || paraphrases > 10_000) throw new IllegalArgumentException("paraphrases must be in 1..10000, got " + paraphrases);
        if (practiceVariants < 4 || practiceVariants % 4 != 0 || practiceVariants > 400)
            throw new IllegalArgumentException("practice variants must be a positive multiple of 4 (at most 400), got " + practiceVariants);
        if (corpusDocs < 1 || corpusDocs > 1000) throw new IllegalArgumentException("corpus docs per entity must be in 1..1000, got " + corpusDocs);
        if (probingPerClass < 2 || probingPerClass > 100_000)
            throw new IllegalArgumentException("probing examples per class must be in 2..100000, got " + probingPerClass);
    }
}
