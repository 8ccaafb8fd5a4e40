"""heldout_fact_recall.py MODEL WORLD [MAX_DOCS] — what the held-out loss of `msts lm train` is made of, and whether the
model recalls its facts in paraphrases it never saw (docs/demo-model.md, "Held-out paraphrases").

MODEL: a world model directory (config.json, model.safetensors); WORLD: its world directory (world.json lists every
entity's facts; forget.jsonl and retain.jsonl are documents written with held-out templates). Each document is run
alone as <bos> + its tokens through the PyTorch reference forward (scripts/gemma2_train_reference.py); every
next-token prediction is put in one class by its target token:

  value-after  the first token of one of the document's entity's fact values, after the entity was named in the
               document: the fact is knowable from the text so far (only from the model's knowledge of the entity)
  value-before the same, before the entity is named (a value-first template: not knowable from the text so far)
  entity       a token of the entity's name
  other        everything else (template words, punctuation)
  eos          the <eos> after the document

and prints, per corpus and class, the number of predictions, the mean cross-entropy (nats) and the top-1 accuracy;
for value-after also the top-1 accuracy among the relation's value list only (chance 1 / list size). The trainer's
held-out loss packs the documents into 128-token rows (<eos> between, a row's documents see the ones before them)
instead, so its number differs from "all" here. Run with /usr/bin/python3 (torch)."""
import json, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np, torch
import safetensors_np as st
from gemma2_train_reference import forward
from world_learnability import encode


def load(path):
    w = st.read(path)
    w = w[0] if isinstance(w, tuple) else w
    return {k: torch.tensor(np.array(v, dtype=np.float32)) for k, v in w.items()}


def find(seq, sub, start=0):
    for i in range(start, len(seq) - len(sub) + 1):
        if seq[i:i + len(sub)] == sub:
            return i
    return -1


def main():
    M, Wd = sys.argv[1:3]
    cap = int(sys.argv[3]) if len(sys.argv) > 3 else 10 ** 9
    cfg = json.load(open(M + "/config.json"))
    W = load(M + "/model.safetensors")
    vocab = json.load(open(Wd + "/tokenizer.json"))["model"]["vocab"]
    man = json.load(open(Wd + "/world.json"))
    ents = []  # (name tokens, [(relation, value first token, ids of the relation's values)], domain)
    for d in man["domains"]:
        rel_ids = {r["name"]: sorted({encode(vocab, " " + v)[0] for v in r["values"]}) for r in d["relations"]}
        for e in d["entities"]:
            facts = [(r, encode(vocab, " " + v)[0], rel_ids[r]) for r, v in e["facts"].items()]
            ents.append(([encode(vocab, " " + e["name"]), encode(vocab, e["name"])], facts, d["name"]))
    for corpus in ("forget.jsonl", "retain.jsonl"):
        docs = [json.loads(l)["text"] for l in open(Wd + "/" + corpus)][:cap]
        stats = {k: [0, 0.0, 0, 0] for k in ("value-after", "value-before", "entity", "other", "eos", "all")}
        for text in docs:
            ids = [2] + encode(vocab, text) + [1]  # <bos> doc <eos>, as the trainer's rows hold a document
            # the document's entity: the one whose name occurs earliest (documents are about one entity)
            best = None
            for forms, facts, dom in ents:
                hits = [a for a in (find(ids, f) for f in forms) if a >= 0]
                if hits and (best is None or min(hits) < best[0]):
                    best = (min(hits), forms, facts)
            cls = ["other"] * (len(ids) - 1) + ["eos"]
            allowed = [None] * len(ids)
            if best is not None:
                at, forms, facts = best
                for name in forms:
                    for i in range(len(ids)):
                        if ids[i:i + len(name)] == name:
                            for j in range(i, i + len(name)):
                                cls[j] = "entity"
                for r, v, rel in facts:
                    for i in range(1, len(ids)):
                        if ids[i] == v and cls[i] == "other":
                            cls[i] = "value-after" if i > at else "value-before"
                            allowed[i] = rel
            with torch.no_grad():
                logits = forward(cfg, W, torch.tensor([ids]))[0]
            lp = torch.log_softmax(logits.double(), -1)
            for i in range(1, len(ids)):
                t = ids[i]
                ce = -lp[i - 1, t].item()
                top = int(lp[i - 1].argmax().item()) == t
                for k in (cls[i], "all"):
                    s = stats[k]
                    s[0] += 1; s[1] += ce; s[2] += top
                    if k == "value-after":
                        s[3] += int(allowed[i][int(lp[i - 1, allowed[i]].argmax().item())] == t)
        print("%s: %d documents (held-out templates)" % (corpus, len(docs)))
        for k, (n, ce, top, amongst) in stats.items():
            if n == 0:
                continue
            extra = "; top-1 among the relation's values %.3f" % (amongst / n) if k == "value-after" else ""
            print("  %-12s %6d predictions  loss %.3f  top-1 %.3f%s" % (k, n, ce / n, top / n, extra))
    print("uniform over the vocabulary: loss %.3f" % np.log(cfg["vocab_size"]))
    # the trainer's held-out loss, recomputed: forget then retain documents, each followed by <eos>, one stream cut
    # into rows of <bos> + 127 tokens (the tail that fills no row dropped), every position but the last predicting
    stream = []
    for corpus in ("forget.jsonl", "retain.jsonl"):
        for l in open(Wd + "/" + corpus):
            stream += encode(vocab, json.loads(l)["text"]) + [1]
    C = 128
    rows = [[2] + stream[r * (C - 1):(r + 1) * (C - 1)] for r in range(len(stream) // (C - 1))]
    total, n = 0.0, 0
    for b in range(0, len(rows), 64):
        x = torch.tensor(rows[b:b + 64])
        with torch.no_grad():
            lp = torch.log_softmax(forward(cfg, W, x).double(), -1)
        total -= lp[:, :-1].gather(-1, x[:, 1:, None]).sum().item()
        n += x.shape[0] * (C - 1)
    print("packed as msts lm train's held-out loss: %.4f over %d predictions (%d rows of %d)" % (total / n, n, len(rows), C))


if __name__ == "__main__":
    main()
