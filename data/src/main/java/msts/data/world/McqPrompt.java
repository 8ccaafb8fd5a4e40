package msts.data.world;

import java.util.List;

/**
 * SAEBench's multiple-choice prompt for the unlearning eval (chat template of gemma-2-*-it): the one place
 * this string is defined; {@code msts.evals.Unlearning} builds its prompts with {@link #prompt}, and the
 * world's MCQ practice documents are these prompts followed by the answer letter.
 */
public final class McqPrompt {
    private McqPrompt() {}

    public static final String GEMMA_INST_FORMAT = "<bos><start_of_turn>user\n%s<end_of_turn>\n<start_of_turn>model\n";
    public static final String PRE_QUESTION_FORMAT = "The following are multiple choice questions (with answers) about %s.\n";
    public static final String ANSWER_PREFIX = "Answer: (";
    public static final String[] LETTERS = {"A", "B", "C", "D"};

    /**
     * The prompt: "&lt;bos&gt;&lt;start_of_turn&gt;user\nThe following are … about SUBJECT.\nQUESTION\nA. c0\nB. c1\nC. c2\nD. c3
     * &lt;end_of_turn&gt;\n&lt;start_of_turn&gt;model\nAnswer: (" with choice i = choices[perm[i]] and underscores of the
     * subject read as spaces.
     */
    public static String prompt(String subject, String question, List<String> choices, int[] perm) {
        StringBuilder body = new StringBuilder(String.format(PRE_QUESTION_FORMAT, subject.replace('_', ' ')));
        body.append(question);
        for (int i = 0; i < 4; i++) body.append('\n').append(LETTERS[i]).append(". ").append(choices.get(perm[i]));
        return String.format(GEMMA_INST_FORMAT, body) + ANSWER_PREFIX;
    }
}
