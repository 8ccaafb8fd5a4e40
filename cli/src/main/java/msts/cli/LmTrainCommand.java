package msts.cli;

import msts.engine.Ops;
import msts.engine.util.Progress;
import msts.model.gemma.Gemma2Config;
import msts.model.tokenizer.GemmaTokenizer;
import msts.model.train.LmData;
import msts.model.train.LmParams;
import msts.model.train.LmTrainConfig;
import msts.model.train.LmTrainer;
import msts.model.train.TokenRows;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code msts lm train}: trains a Gemma-2-architecture model from scratch on a world directory's text. */
@Command(name = "train", mixinStandardHelpOptions = true, showDefaultValues = true,
        description = "Trains a small Gemma-2 (tied embeddings, GQA, sliding window on even layers, soft-caps) on "
                + "WORLD/train.jsonl (or train.txt) with WORLD/tokenizer.json; held-out loss on heldout.jsonl or "
                + "forget.jsonl + retain.jsonl. Writes an HF checkpoint (config.json, model.safetensors F32) plus optimizer "
                + "state, trainer_state.json, tokenizer.json and train_summary.json into --out (docs/gemma2-training.md).")
public final class LmTrainCommand implements Callable<Integer> {
    /** Gemma's special tokens a trained model's tokenizer must hold (as single entries). */
    static final List<String> MODEL_SPECIALS = List.of("<pad>", "<eos>", "<bos>", "<start_of_turn>", "<end_of_turn>");

    @Option(names = "--world", required = true, paramLabel = "DIR", description = "world directory (msts world)") Path world;
    @Option(names = "--out", required = true, paramLabel = "MODEL", description = "output checkpoint directory") Path out;
    @Range(min = 1) @Option(names = "--hidden", defaultValue = "128", description = "hidden size") int hidden;
    @Range(min = 1) @Option(names = "--layers", defaultValue = "4", description = "decoder layers (even ones slide)") int layers;
    @Range(min = 1) @Option(names = "--heads", defaultValue = "4", description = "attention heads") int heads;
    @Range(min = 1) @Option(names = "--kv-heads", defaultValue = "2", description = "key/value heads (GQA)") int kvHeads;
    @Option(names = "--head-dim", defaultValue = "0", description = "head size (0 = hidden / heads)") int headDim;
    @Range(min = 1) @Option(names = "--intermediate", defaultValue = "512", description = "GeGLU intermediate size") int intermediate;
    @Range(min = 2) @Option(names = "--context", defaultValue = "128", description = "tokens per training row (BOS first)") int context;
    @Option(names = "--sliding-window", defaultValue = "32", description = "sliding window of the even layers") int window;
    @Option(names = "--attn-softcap", defaultValue = "50", description = "attention logit soft-cap (0 = off)") float attnCap;
    @Option(names = "--final-softcap", defaultValue = "30", description = "final logit soft-cap (0 = off)") float finalCap;
    @Option(names = "--steps", defaultValue = "0", description = "optimizer steps (0 = from --tokens)") int steps;
    @Option(names = "--tokens", defaultValue = "2000000", description = "training tokens when --steps is 0 (steps = tokens / (batch·context))") long tokens;
    @Range(min = 1) @Option(names = "--batch", defaultValue = "16", description = "rows per step") int batch;
    @Range(min = 0, minExclusive = true) @Option(names = "--lr", defaultValue = "3e-3", description = "peak learning rate") float lr;
    @Option(names = "--warmup", defaultValue = "50", description = "linear warm-up steps, then cosine decay to 0") int warmup;
    @Option(names = "--weight-decay", defaultValue = "0.1", description = "AdamW decoupled weight decay (matrices and embedding, not norms)") float weightDecay;
    @Option(names = "--beta1", defaultValue = "0.9") float beta1;
    @Option(names = "--beta2", defaultValue = "0.95") float beta2;
    @Option(names = "--clip", defaultValue = "1.0", description = "global gradient-norm clip (0 = off)") float clip;
    @Option(names = "--init-std", defaultValue = "0.02", description = "std of the initial weights (HF initializer_range)") float initStd;
    @Option(names = "--prompt-weight", defaultValue = "1", description = "loss weight of the prompt tokens of documents with a \"completion\" (0 = loss on the completion only)") float promptWeight;
    @Option(names = "--completion-weight", defaultValue = "1", description = "loss weight of the completion tokens (e.g. an MCQ's answer letter) relative to prose tokens") float completionWeight;
    @Option(names = "--seed", defaultValue = "42", description = "initialisation and data-order seed") long seed;
    @Option(names = "--checkpoint-every", defaultValue = "0", description = "steps between checkpoints (0 = only at the end)") int checkpointEvery;
    @Option(names = "--stop-after", defaultValue = "0", description = "stop (checkpointed) after this step of the schedule; continue with --resume") long stopAfter;
    @Option(names = "--init", paramLabel = "MODEL", description = "warm start: begin from this trained checkpoint (an msts lm train output with its tokenizer.json) instead of random weights; "
            + "its architecture replaces --hidden/--layers/--heads/--kv-heads/--head-dim/--intermediate/--sliding-window/soft-caps; embedding rows are matched by token, tokens new to this world start random (seeded); optimizer and schedule start fresh") Path init;
    @Option(names = "--resume", description = "continue the run in --out (bit-identical to an uninterrupted run)") boolean resume;
    @picocli.CommandLine.Mixin BackendOption backend; // --backend cpu|reference (the gemms and element-wise ops)
    @picocli.CommandLine.Mixin RunOptions run; // --threads N
    @picocli.CommandLine.Mixin QuietOption quiet; // --quiet
    @Option(names = "--verbose", description = "stack traces on errors") boolean verbose;

    @Override
    public Integer call() {
        run.apply();
        LmTrainer.checkOut(out, resume);
        LmData data = LmData.fromWorld(world);
        Ops ops = backend.backend().ops();
        LmData.Stream train;
        int[] held;
        int vocab, bos, eos, pad;
        try (GemmaTokenizer tok = GemmaTokenizer.load(data.tokenizerJson())) {
            List<String> missing = MODEL_SPECIALS.stream().filter(t -> tok.tokenId(t) < 0).toList();
            if (!missing.isEmpty())
                throw new IllegalArgumentException(data.tokenizerJson() + ": lacks Gemma's special token" + (missing.size() == 1 ? " " : "s ")
                        + String.join(", ", missing) + "; a model msts trains needs all of " + String.join(", ", MODEL_SPECIALS)
                        + " so that the chat-template MCQ prompt and the document packing tokenize as Gemma's (msts world writes them)");
            vocab = tok.vocabSize();
            bos = tok.bosId();
            eos = tok.eosId();
            pad = tok.padId();
            train = LmData.weightedTokens(tok, List.of(data.trainFile()), promptWeight, completionWeight);
            held = data.heldOutFiles().isEmpty() ? null : LmData.tokens(tok, data.heldOutFiles());
        }
        int hd = headDim > 0 ? headDim : hidden / Math.max(1, heads);
        LmParams from = null;
        String[] fromPieces = null;
        if (init != null) { // with --resume only the architecture is taken from it; the weights come from the checkpoint
            if (!java.nio.file.Files.isRegularFile(init.resolve("config.json")) || !java.nio.file.Files.isRegularFile(init.resolve("tokenizer.json")))
                throw new IllegalArgumentException("--init " + init + ": needs config.json, model.safetensors and tokenizer.json (an msts lm train output)");
            if (!resume) {
                from = LmParams.load(init);
                fromPieces = GemmaTokenizer.readPieces(init.resolve("tokenizer.json"));
            }
            Gemma2Config f = from != null ? from.config() : Gemma2Config.load(init.resolve("config.json"));
            hidden = f.hiddenSize(); intermediate = f.intermediateSize(); layers = f.numHiddenLayers();
            heads = f.numAttentionHeads(); kvHeads = f.numKeyValueHeads(); headDim = f.headDim(); hd = f.headDim();
            window = f.slidingWindow(); attnCap = f.attnLogitSoftcapping(); finalCap = f.finalLogitSoftcapping();
        }
        if (hidden <= 0 || heads <= 0 || hd <= 0) throw new IllegalArgumentException("--hidden, --heads and the head size must be positive; got --hidden "
                + hidden + ", --heads " + heads + ", head size " + hd);
        if (heads % kvHeads != 0)
            throw new IllegalArgumentException("--heads " + heads + " must be a multiple of --kv-heads " + kvHeads + " (each key/value head serves heads / kv-heads query heads)");
        if (hd % 2 != 0) throw new IllegalArgumentException("the head size must be even for RoPE; got " + hd + (headDim > 0 ? " (--head-dim)" : " (--hidden / --heads)"));
        if (window <= 0 || window >= context)
            throw new IllegalArgumentException("--sliding-window must be in [1, --context) so that both attention kinds are used; got " + window);
        Gemma2Config model = new Gemma2Config(vocab, hidden, intermediate, layers, heads, kvHeads, hd, 1e-6f, 10000f,
                hd, attnCap, finalCap, window, bos, eos, pad, true, false, "gelu_pytorch_tanh", null, "float32");
        TokenRows rows = new TokenRows(train.tokens(), train.weights(), context, bos, seed);
        TokenRows heldRows = held == null ? null : new TokenRows(held, context, bos, seed);
        int n = steps > 0 ? steps : (int) Math.max(1, tokens / ((long) batch * context));
        LmTrainConfig cfg = new LmTrainConfig(n, batch, lr, Math.min(warmup, n), weightDecay, beta1, beta2, 1e-8f, clip,
                seed, initStd, checkpointEvery);
        System.err.printf(Locale.ROOT, "msts lm train: %s; %d training tokens (%d rows of %d), %d held-out tokens; %d steps × %d rows (%s ops)%n",
                model, train.tokens().length, rows.rows(), context, held == null ? 0 : held.length, n, batch, ops.name());
        LmTrainer.Result r;
        double[] last = {Double.NaN, Double.NaN};
        try (Progress p = new Progress(resume ? "train (resumed)" : "train", n, "steps", System.err, quiet.quiet)) {
            p.metrics(() -> String.format(Locale.ROOT, "loss %.4f lr %.2e %.0f tok/s", last[0], last[1],
                    p.rate() * batch * context));
            LmTrainer trainer = new LmTrainer(model, cfg, ops, out, data.tokenizerJson());
            if (from != null) {
                int[] copied = new int[1];
                trainer.startingFrom(LmParams.warmStart(model, seed, initStd, from, fromPieces,
                        GemmaTokenizer.readPieces(data.tokenizerJson()), copied));
                System.err.printf(Locale.ROOT, "msts lm train: warm start from %s (%d of %d embedding rows matched by token)%n", init, copied[0], vocab);
            }
            r = trainer.train(rows, heldRows, resume, stopAfter,
                    (s, total, loss, norm, lrNow) -> {
                        last[0] = loss;
                        last[1] = lrNow;
                        p.set(s);
                    });
        }
        if (r.step() < r.steps()) {
            System.out.printf(Locale.ROOT, "paused at step %d of %d (loss %.4f); continue with --resume%n", r.step(), r.steps(), r.lastLoss());
        } else {
            System.out.printf(Locale.ROOT, "trained %d steps, %d tokens in %.1f s (%.0f tokens/s this run): final train loss %.4f, held-out loss %s%n",
                    r.step(), r.tokensSeen(), r.seconds(), r.tokensPerSecond(), r.finalLoss(),
                    Double.isFinite(r.heldOutLoss()) ? String.format(Locale.ROOT, "%.4f (%d tokens)", r.heldOutLoss(), r.heldOutTokens()) : "n/a");
            System.out.println("wrote " + out + " (config.json, model.safetensors, " + LmTrainer.SUMMARY + ")");
        }
        return 0;
    }
}
