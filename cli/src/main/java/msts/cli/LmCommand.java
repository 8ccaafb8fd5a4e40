package msts.cli;

import picocli.CommandLine.Command;

/** {@code msts lm <what>}: language models trained in msts (docs/gemma2-training.md). */
@Command(name = "lm", mixinStandardHelpOptions = true,
        description = "Language models: train a small Gemma-2 on a world's text.",
        subcommands = {LmTrainCommand.class})
public final class LmCommand implements Runnable {
    @Override
    public void run() {
        new picocli.CommandLine(this).usage(System.out);
    }
}
