#!/usr/bin/python3
"""Independent learnability check of a planted world (msts world): trains a small GPT-style decoder in PyTorch on
WORLD/train.jsonl (documents packed as doc EOS doc ..., rows of CTX tokens with BOS first, like msts lm train) and
reports the unlearning eval's MCQ accuracy on the eval sets: argmax over letters of max(p(L), p(" L")) after the
eval's prompt, in the original order and in all 24 choice orders. Not Gemma-2 (plain pre-LN GPT); it answers
"can a tiny transformer learn this world's facts from prose and answer MCQs about entities it never saw as MCQs?"

usage: /usr/bin/python3 scripts/world_learnability.py WORLD [--steps N] [--d 128] [--layers 4] [--threads 2]

Status: written and started once on the shared 2-core machine (≈8 s per step under load), never run to the first
evaluation; no result from it is quoted anywhere.
"""
import argparse, itertools, json, math, re, sys, time
import torch, torch.nn as nn, torch.nn.functional as F

SPACE = "\u2581"
SPECIALS = ["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]
SPLIT = re.compile(SPACE + "?[A-Za-z]+|" + SPACE + "?[0-9]|" + SPACE + "?[^A-Za-z0-9" + SPACE + "]|" + SPACE)
SPECIAL_RE = re.compile("|".join(re.escape(s) for s in sorted(SPECIALS, key=len, reverse=True)))


def encode(vocab, text):
    out, i = [], 0
    for m in SPECIAL_RE.finditer(text):
        out += [vocab.get(p, 3) for p in SPLIT.findall(text[i:m.start()].replace(" ", SPACE))]
        out.append(vocab[m.group()])
        i = m.end()
    out += [vocab.get(p, 3) for p in SPLIT.findall(text[i:].replace(" ", SPACE))]
    return out


def prompt(subject, question, choices, perm):
    body = "The following are multiple choice questions (with answers) about %s.\n" % subject.replace("_", " ") + question
    for i in range(4):
        body += "\n" + "ABCD"[i] + ". " + choices[perm[i]]
    return "<bos><start_of_turn>user\n%s<end_of_turn>\n<start_of_turn>model\n" % body + "Answer: ("


class Block(nn.Module):
    def __init__(self, d, h):
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.att = nn.MultiheadAttention(d, h, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(d, 4 * d), nn.GELU(), nn.Linear(4 * d, d))

    def forward(self, x, mask):
        y = self.n1(x)
        x = x + self.att(y, y, y, attn_mask=mask, need_weights=False)[0]
        return x + self.mlp(self.n2(x))


class GPT(nn.Module):
    def __init__(self, V, d, L, h, ctx):
        super().__init__()
        self.emb, self.pos = nn.Embedding(V, d), nn.Embedding(ctx, d)
        self.blocks = nn.ModuleList(Block(d, h) for _ in range(L))
        self.norm = nn.LayerNorm(d)

    def forward(self, ids):
        T = ids.shape[1]
        mask = torch.triu(torch.full((T, T), float("-inf")), 1)
        x = self.emb(ids) + self.pos(torch.arange(T))
        for b in self.blocks:
            x = b(x, mask)
        return self.norm(x) @ self.emb.weight.T


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("world")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--ctx", type=int, default=128)
    ap.add_argument("--d", type=int, default=128)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    W = a.world
    vocab = json.load(open(W + "/tokenizer.json"))["model"]["vocab"]
    man = json.load(open(W + "/world.json"))
    stream = []
    for line in open(W + "/train.jsonl"):
        stream += encode(vocab, json.loads(line)["text"]) + [1]
    n = len(stream) // (a.ctx - 1)
    rows = torch.tensor(stream[: n * (a.ctx - 1)]).view(n, a.ctx - 1)
    rows = torch.cat([torch.full((n, 1), 2), rows], 1)
    sets = {}
    for f in man["files"]["forget_mcq"] + man["files"]["retain_mcq"]:
        qs = [json.loads(l) for l in open(W + "/" + f)]
        sets[f] = [(q.get("subject", "biology"), q["question"], q["choices"], q["answer"]) for q in qs]
    letters = [[vocab[l] for l in "ABCD"], [vocab[SPACE + l] for l in "ABCD"]]
    print("world %s: %d training tokens, %d rows, vocab %d" % (W, len(stream), n, len(vocab)), flush=True)
    model = GPT(len(vocab), a.d, a.layers, a.heads, a.ctx)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, betas=(0.9, 0.95), weight_decay=0.1)
    perms = list(itertools.permutations(range(4)))

    @torch.no_grad()
    def accuracy(qs, all_perms):
        model.eval()
        ok = 0
        for subj, q, ch, ans in qs:
            good = True
            for perm in (perms if all_perms else [(0, 1, 2, 3)]):
                ids = torch.tensor([encode(vocab, prompt(subj, q, ch, perm))])
                lp = F.log_softmax(model(ids)[0, -1], -1)
                pred = max(range(4), key=lambda i: max(lp[letters[0][i]], lp[letters[1][i]]))
                if perm[pred] != ans:
                    good = False
                    break
            ok += good
        model.train()
        return ok / len(qs)

    g = torch.Generator().manual_seed(a.seed)
    t0 = time.time()
    for step in range(a.steps):
        lr = a.lr * min(1, (step + 1) / 50) * 0.5 * (1 + math.cos(math.pi * step / a.steps))
        for pg in opt.param_groups:
            pg["lr"] = lr
        b = rows[torch.randint(0, n, (a.batch,), generator=g)]
        loss = F.cross_entropy(model(b[:, :-1]).reshape(-1, len(vocab)), b[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if (step + 1) % a.eval_every == 0 or step + 1 == a.steps:
            accs = {f: round(accuracy(qs, False), 3) for f, qs in sets.items()}
            print("step %d loss %.3f tokens %d time %.0fs acc(original order) %s" % (
                step + 1, loss.item(), (step + 1) * a.batch * a.ctx, time.time() - t0, accs), flush=True)
    accs = {f: round(accuracy(qs, True), 3) for f, qs in sets.items()}
    print("final acc(all 24 orders) %s" % accs, flush=True)


if __name__ == "__main__":
    main()
