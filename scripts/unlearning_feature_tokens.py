"""unlearning_feature_tokens.py MODEL WORLD SAE RESULTS SETTING [N] — where the latents an unlearning setting clamps fire
in the eval's MCQ prompts (docs/demo-model.md, "Why the clamps cost retain accuracy").

MODEL: a world model directory (config.json, model.safetensors); WORLD: its world directory; SAE: an SAE directory
written by `msts train` (cfg.json, sae_weights.safetensors; standard or temporal, relu or topk activation);
RESULTS: the unlearning_eval_results.json of `msts eval unlearning` for that SAE; SETTING: the index of a row of its
eval_result_details (the latents it clamped). For the first N questions (default 40) of each MCQ file, in the original
order, it runs the PyTorch reference forward (scripts/gemma2_train_reference.py) to the SAE's hook layer, encodes
with the SAE's own formula (scripts/sae_reference.py's encoder_input), and counts, per (latent, token), the prompt positions after
position 0 (the eval zeroes position 0) where a clamped latent is active. Prints, per file, how many prompts have any
clamped latent active and the most frequent (latent, token) pairs. Run with /usr/bin/python3 (torch)."""
import json, sys, collections
import os
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np, torch
import safetensors_np as st
from gemma2_train_reference import forward
from sae_reference import encoder_input
from world_learnability import encode, prompt


def load(path):
    w = st.read(path)
    w = w[0] if isinstance(w, tuple) else w
    return {k: torch.tensor(np.array(v, dtype=np.float32)) for k, v in w.items()}


def encode_sae(c, P, x):
    """x [T, d] (one sequence) → latents [T, d_sae], as sae_reference.forward_loss encodes."""
    z = encoder_input(c, P, x.unsqueeze(0), x.shape[0])
    pre = z[0] @ P["W_enc"] + P["b_enc"]
    if c.get("activation", "relu") == "topk":
        v, idx = pre.topk(c["k"], dim=-1)
        return torch.zeros_like(pre).scatter(-1, idx, torch.relu(v))
    return torch.relu(pre)


def main():
    M, Wd, S, R, k = sys.argv[1:6]
    n = int(sys.argv[6]) if len(sys.argv) > 6 else 40
    cfg = json.load(open(M + "/config.json"))
    W = load(M + "/model.safetensors")
    c = json.load(open(S + "/cfg.json"))
    P = load(S + "/sae_weights.safetensors")
    vocab = json.load(open(Wd + "/tokenizer.json"))["model"]["vocab"]
    names = {v: key for key, v in vocab.items()}
    names.update({0: "<pad>", 1: "<eos>", 2: "<bos>", 3: "<unk>", 4: "<start_of_turn>", 5: "<end_of_turn>"})
    det = json.load(open(R))["eval_result_details"][int(k)]
    feats = det["features"]
    print("setting: retain threshold %s, %s latents, multiplier %s; forget %.3f, retain %.3f; latents %s" % (
        det["retain_threshold"], det["n_features"], det["multiplier"], det["wmdp_bio_accuracy"], det["mmlu_accuracy"], feats))
    man = json.load(open(Wd + "/world.json"))
    subjects = {d["mcq_file"]: d["subject"] for d in man["domains"]}
    for f in man["files"]["forget_mcq"] + man["files"]["retain_mcq"]:
        qs = [json.loads(l) for l in open(Wd + "/" + f)][:n]
        fires, hit = collections.Counter(), 0
        for q in qs:
            ids = encode(vocab, prompt(subjects[f], q["question"], q["choices"], [0, 1, 2, 3]))
            with torch.no_grad():
                r = forward(cfg, W, torch.tensor([ids]), stop_layer=c["hook_layer"])[0]
                a = encode_sae(c, P, r)[:, feats]
            any_ = False
            for t in range(1, len(ids)):
                for j, fi in enumerate(feats):
                    if a[t, j] > 0:
                        fires[(fi, names[ids[t]])] += 1
                        any_ = True
            hit += any_
        print("%s: %d of %d prompts have a clamped latent active" % (f, hit, len(qs)))
        print("   ", ", ".join("%d@%r×%d" % (fi, tok, m) for (fi, tok), m in fires.most_common(12)))


if __name__ == "__main__":
    main()
