package msts.cli;

import java.nio.file.Path;
import java.util.concurrent.Callable;
import msts.data.world.WorldFiles;
import msts.data.world.WorldSpec;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code msts world}: a planted-knowledge world (invented facts, training prose, MCQ sets, corpora, tokenizer); docs/world.md. */
@Command(name = "world", mixinStandardHelpOptions = true,
        description = {"Writes a planted-knowledge world to DIR: invented facts in a forget domain (fictional pathogens, WMDP-bio",
                "style) and two retain domains (invented countries, invented aging conditions; MMLU style), training prose with",
                "many paraphrases per fact plus MCQ practice on other entities (train.jsonl), held-out forget/retain corpora,",
                "MCQ eval sets in the cais/wmdp and cais/mmlu layout, a probing set, a small tokenizer.json and world.json.",
                "The same seed and sizes give the same bytes. Layout and design: docs/world.md."})
public final class WorldCommand implements Callable<Integer> {
    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "output directory (must be new or empty unless --force)")
    Path out;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "integer seed")
    String seed;

    @Option(names = "--force", description = "write into an existing non-empty DIR (replaces the world's files)")
    boolean force;

    @Option(names = "--entities", defaultValue = "40", description = "entities per domain")
    int entities;

    @Option(names = "--eval-entities", defaultValue = "20", description = "of those, asked in the MCQ eval sets")
    int evalEntities;

    @Option(names = "--paraphrases", defaultValue = "200", description = "training prose documents per entity")
    int paraphrases;

    @Option(names = "--practice-variants", defaultValue = "48", description = "MCQ practice documents per practice fact (a multiple of 4 balances each fact's answer letters; other counts balance them over the domain)")
    int practiceVariants;
    @Option(names = "--open-book-variants", defaultValue = "0", description = "open-book practice MCQs per practice fact (prose stating the answer, then the MCQ), multiple of 4")
    int openBookVariants;
    @Option(names = "--value-variants", defaultValue = "0", description = "value-answer practice MCQs per practice fact (the model turn gives the answer's value, not its letter)")
    int valueVariants;
    @Option(names = "--faq-variants", defaultValue = "0", description = "FAQ prose documents per entity (every fact as a question worded unlike the eval's, then its value)")
    int faqVariants;
    @Option(names = "--drill-variants", defaultValue = "0", description = "MCQ format drills per relation (\"Which choice is V?\", answered with its letter; no entity), multiple of 4")
    int drillVariants;
    @Option(names = "--verify-variants", defaultValue = "0", description = "yes/no verification documents per fact of every entity (\"{question} {value}? Yes|No\"; no choices or letters)")
    int verifyVariants;

    @Option(names = "--corpus-docs", defaultValue = "6", description = "held-out corpus documents per entity")
    int corpusDocs;

    @Option(names = "--probing-per-class", defaultValue = "120", description = "probing examples per class")
    int probingPerClass;

    @Option(names = "--verbose", description = "stack traces on errors")
    boolean verbose;

    @Override
    public Integer call() {
        long s;
        try {
            s = Long.parseLong(seed.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--seed must be an integer (a Java long), got '" + seed + "'");
        }
        WorldSpec ws = new WorldSpec(s, entities, evalEntities, paraphrases, practiceVariants, corpusDocs, probingPerClass, openBookVariants, valueVariants, faqVariants, drillVariants,
                verifyVariants);
        WorldFiles.write(out, ws, force);
        spec.commandLine().getOut().printf("wrote world (seed %d) to %s; layout in docs/world.md, facts in %s%n", s, out,
                out.resolve(WorldFiles.MANIFEST));
        spec.commandLine().getOut().flush();
        return 0;
    }
}
