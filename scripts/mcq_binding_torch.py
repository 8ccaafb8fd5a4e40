"""mcq_binding_torch.py MODEL WORLD [--data mcq|drill|mix|ctx|verify] [--train all|0,1,..] [--what all|attn|mlp] ...
PyTorch experiment on the step from a recalled value to its letter (docs/demo-model.md, "Run Y"). Starting from a
trained msts world model (HF layout), it fine-tunes with the loss on the answer letter only, on closed-book MCQs about
the world's PRACTICE facts drawn afresh every step (random wording, distractors and order), plus by --data:
  drill:  half the examples "Which choice is {v}?" (value named in the question, no entity)
  mix:    as drill (half drills, half MCQs)
  ctx:    half the examples open-book with four facts of the relation stated before the question (every choice value is
          in the context, so finding the choice that repeats a context value does not answer it)
  verify: every step also a batch of "{question} {value}? Yes|No" checks (answer word only) on facts of ALL entities,
          eval ones included (two new tokens Yes/No); the MCQs stay practice-only
  mcq:    MCQs only.
--train/--what choose the trainable weights (the rest frozen). Every --every steps it prints, for the 80 eval questions
per domain (original order): v = the answer's value is the first of the four choice values at 'Answer: (', l = the
answer's letter is the first of A-D (what the unlearning eval scores); the letter accuracy on 240 fresh practice MCQs,
240 drills, 240 open-book (ctx) MCQs, and (verify) 240 yes/no checks on eval facts. Nothing is written.
The Yes/No embedding rows are added in every mode (two more logits in each softmax); the mcq, drill, mix and ctx
runs quoted in docs/demo-model.md were made before that, with the model's own vocabulary.
The forward pass is scripts/gemma2_train_reference.py's (float32); with Debian's netlib BLAS it is ~5x slower
than with libopenblas0-pthread. Run with /usr/bin/python3 (torch)."""
import json, sys, math, random, itertools
sys.path.insert(0, __import__('os').path.dirname(__import__('os').path.abspath(__file__)))
import numpy as np, torch
import safetensors_np as st
from gemma2_train_reference import forward, rms_norm
from world_learnability import encode, prompt
SP = '\u2581'
def load(M):
    cfg = json.load(open(M + '/config.json')); w = st.read(M + '/model.safetensors')
    if isinstance(w, tuple): w = w[0]
    W = {k: torch.tensor(np.array(v, dtype=np.float32)) for k, v in w.items()}
    return cfg, W
def world(Wd):
    vocab = json.load(open(Wd + '/tokenizer.json'))['model']['vocab']
    man = json.load(open(Wd + '/world.json'))
    return vocab, man
def evalsets(Wd, man):
    out = []
    for d in man['domains']:
        f = [x for x in man['files']['forget_mcq'] + man['files']['retain_mcq'] if d['name'] in x][0]
        qs = [json.loads(l) for l in open(Wd + '/' + f)]
        out.append((d, qs, man['mcq_facts'][f]))
    return out
def batch_ids(vocab, texts):
    ids = [encode(vocab, t) for t in texts]
    T = max(map(len, ids)); last = torch.tensor([len(x) - 1 for x in ids])
    t = torch.zeros(len(ids), T, dtype=torch.long)
    for i, x in enumerate(ids): t[i, :len(x)] = torch.tensor(x)
    return t, last
def head(cfg, W, x):
    x = rms_norm(x, W['model.norm.weight'], cfg['rms_norm_eps'])
    lg = x @ W['model.embed_tokens.weight'].T
    c = cfg.get('final_logit_softcapping')
    return torch.tanh(lg / c) * c if c else lg
import argparse
ap = argparse.ArgumentParser(); ap.add_argument('model'); ap.add_argument('world')
ap.add_argument('--train', default='3'); ap.add_argument('--steps', type=int, default=600); ap.add_argument('--batch', type=int, default=32)
ap.add_argument('--lr', type=float, default=1e-3); ap.add_argument('--every', type=int, default=100); ap.add_argument('--seed', type=int, default=0)
ap.add_argument('--data', default='mcq', help='mcq | drill | mix | ctx | verify'); ap.add_argument('--what', default='all', help='all | attn | mlp (within trained layers)')
a = ap.parse_args(); torch.set_num_threads(2); random.seed(a.seed); torch.manual_seed(a.seed)
cfg, W = load(a.model); vocab, man = world(a.world)
L = torch.tensor([vocab[c] for c in 'ABCD'])
NV = W['model.embed_tokens.weight'].shape[0]; vocab[SP + 'Yes'] = NV; vocab[SP + 'No'] = NV + 1
W['model.embed_tokens.weight'] = torch.cat([W['model.embed_tokens.weight'], torch.randn(2, cfg['hidden_size']) * 0.02])
YN = torch.tensor([NV, NV + 1])
layers = list(range(cfg['num_hidden_layers'])) if a.train == 'all' else [int(x) for x in a.train.split(',')]
def trainable(k):
    if a.train == 'all': return True
    for l in layers:
        if k.startswith(f'model.layers.{l}.'):
            if a.what == 'attn': return 'self_attn' in k or 'post_attention' in k or 'input_layernorm' in k
            if a.what == 'mlp': return 'mlp' in k or 'feedforward' in k
            return True
    return False
P = [W[k].requires_grad_() for k in W if trainable(k)]
print('trainable params', sum(p.numel() for p in P), flush=True)
opt = torch.optim.AdamW([p for p in P], lr=a.lr, betas=(0.9, 0.95), weight_decay=0.0)
practice = []
for d in man['domains']:
    rels = {r['name']: r for r in d['relations']}
    for e in d['entities']:
        if e['split'] != 'eval':
            for rn, v in e['facts'].items(): practice.append((d, rels[rn], e['name'], v))
print('practice facts', len(practice), flush=True)
def mk(fact, rng):
    d, r, e, v = fact
    q = rng.choice(r['questions']).replace('{e}', e)
    ch = rng.sample([x for x in r['values'] if x != v], 3) + [v]; rng.shuffle(ch)
    return prompt(d['subject'], q, ch, [0,1,2,3]), ch.index(v)
def mkdrill(rng):
    d = rng.choice(man['domains']); r = rng.choice(d['relations'])
    ch = rng.sample(r['values'], 4); v = rng.randrange(4)
    return prompt(d['subject'], 'Which choice is ' + ch[v] + '?', ch, [0,1,2,3]), v
allfacts = []
for d in man['domains']:
    rels = {r['name']: r for r in d['relations']}
    for e in d['entities']:
        for rn, v in e['facts'].items(): allfacts.append((d, rels[rn], e['name'], v, e['split']))
def mkver(rng, pool):
    d, r, e, v, sp = rng.choice(pool)
    yes = rng.random() < 0.5
    c = v if yes else rng.choice([x for x in r['values'] if x != v])
    return '<bos>' + rng.choice(r['questions']).replace('{e}', e) + ' ' + c + '? ' + ('Yes' if yes else 'No'), yes
byrel = {}
for f in practice: byrel.setdefault((f[0]['name'], f[1]['name']), []).append(f)
def mkctx(rng):
    fs = byrel[rng.choice(list(byrel))]
    while True:
        four = rng.sample(fs, 4)
        if len({f[3] for f in four}) == 4: break
    d, r = four[0][0], four[0][1]
    ctx = ' '.join(rng.choice(r['questions']).replace('{e}', f[2]) + ' ' + f[3] + '.' for f in four)
    k = rng.randrange(4); ch = [f[3] for f in four]; rng.shuffle(ch)
    return prompt(d['subject'], ctx + ' ' + rng.choice(r['questions']).replace('{e}', four[k][2]), ch, [0,1,2,3]), ch.index(four[k][3])
def sample(rng):
    if a.data == 'verify': return mk(rng.choice(practice), rng)
    if a.data == 'ctx': return mkctx(rng) if rng.random() < 0.5 else mk(rng.choice(practice), rng)
    if a.data == 'ctxonly': return mkctx(rng)
    if a.data == 'drill' or (a.data == 'mix' and rng.random() < 0.5): return mkdrill(rng)
    return mk(rng.choice(practice), rng)
def evaluate():
    out = []
    with torch.no_grad():
        for d, qs, facts in evalsets(a.world, man):
            t, last = batch_ids(vocab, [prompt(d['subject'], q['question'], q['choices'], [0,1,2,3]) for q in qs])
            lg = forward(cfg, W, t)[torch.arange(len(qs)), last]
            let = sum(int(torch.argmax(lg[i, L]) == q['answer']) for i, q in enumerate(qs))
            val = sum(int(torch.argmax(lg[i, [vocab[SP + c] for c in q['choices']]]) == q['answer']) for i, q in enumerate(qs))
            out.append(f"{d['name'][:3]} v{val} l{let}")
        rng = random.Random(123); sm = [mk(f, rng) for f in rng.sample(practice, 240)]
        t, last = batch_ids(vocab, [s[0] for s in sm]); lg = forward(cfg, W, t)[torch.arange(len(sm)), last]
        pl = sum(int(torch.argmax(lg[i, L]) == s[1]) for i, s in enumerate(sm))
        rng = random.Random(99); sm = [mkctx(rng) for _ in range(240)]
        t, last = batch_ids(vocab, [s[0] for s in sm]); lg = forward(cfg, W, t)[torch.arange(len(sm)), last]
        cl = sum(int(torch.argmax(lg[i, L]) == s[1]) for i, s in enumerate(sm))
        rng = random.Random(321); sm = [mkdrill(rng) for _ in range(240)]
        t, last = batch_ids(vocab, [s[0] for s in sm]); lg = forward(cfg, W, t)[torch.arange(len(sm)), last]
        dl = sum(int(torch.argmax(lg[i, L]) == s[1]) for i, s in enumerate(sm))
        rng = random.Random(7); sm = [mkver(rng, [f for f in allfacts if f[4] == 'eval']) for _ in range(240)]
        t, last = batch_ids(vocab, [x[0][:x[0].rindex(' ')] for x in sm]); lg = forward(cfg, W, t)[torch.arange(len(sm)), last]
        vl = sum(int((lg[i, NV] > lg[i, NV + 1]) == x[1]) for i, x in enumerate(sm))
    return f"ver(eval) {vl}/240 " + " ".join(out) + f" | practice let {pl}/240 drill let {dl}/240 ctx let {cl}/240"
print('step 0', evaluate(), flush=True)
rng = random.Random(a.seed); import time; t0=time.time(); tl=0
for s in range(1, a.steps + 1):
    lr = a.lr * min(1, s / 20) * 0.5 * (1 + math.cos(math.pi * s / a.steps))
    for g in opt.param_groups: g['lr'] = lr
    sm = [sample(rng) for _ in range(a.batch)]
    t, last = batch_ids(vocab, [x[0] for x in sm])
    lg = head(cfg, W, forward(cfg, W, t, stop_layer=cfg['num_hidden_layers']-1)[torch.arange(a.batch), last])
    loss = torch.nn.functional.cross_entropy(lg, L[torch.tensor([x[1] for x in sm])])
    if a.data == 'verify':
        vs = [mkver(rng, allfacts) for _ in range(a.batch)]
        t, last = batch_ids(vocab, [x[0][:x[0].rindex(' ')] for x in vs])
        lg = head(cfg, W, forward(cfg, W, t, stop_layer=cfg['num_hidden_layers']-1)[torch.arange(a.batch), last])
        loss = loss + torch.nn.functional.cross_entropy(lg, torch.tensor([NV if x[1] else NV + 1 for x in vs]))
    opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(P, 1.0); opt.step()
    tl = tl + loss.item() if s % 20 else 0
    if s % 20 == 0: print(f'step {s} loss {loss.item():.3f} {time.time()-t0:.0f}s', flush=True)
    if s % a.every == 0: print('step', s, evaluate(), flush=True)
