"""mcq_probe.py MODEL WORLD — where a world model's eval MCQ answers fail (docs/demo-model.md, runs V-Z).

For every question of the world's eval MCQ files (original order), with the numpy reference forward:
  bare: after the bare question text, is the answer the most probable of the relation's values (FAQ-style recall)
  val:  at 'Answer: (' of the eval prompt, is the answer's value the most probable of the four choice values
  let:  at 'Answer: (', is the answer's letter the most probable of A-D (what the unlearning eval scores)
Prints counts per domain and relation. Run with /usr/bin/python3 (numpy)."""
import json, sys, math
sys.path.insert(0, __import__('os').path.dirname(__import__('os').path.abspath(__file__)))
import numpy as np
from gemma2_reference import forward
import safetensors_np as st
from world_learnability import encode, prompt
M, W = sys.argv[1], sys.argv[2]
cfg = json.load(open(M + '/config.json')); w = st.read(M + '/model.safetensors')
if isinstance(w, tuple): w = w[0]
vocab = json.load(open(W + '/tokenizer.json'))['model']['vocab']
for i, s in enumerate(["<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>"]): vocab.setdefault(s, i)
L = [vocab[c] for c in "ABCD"]
world = json.load(open(W + '/world.json'))
es = float(np.float32(math.sqrt(cfg['hidden_size'])))
def last(text):
    ids = encode(vocab, text); lg = forward(cfg, w, list(ids), es)[1]; return lg[-1]
for d in world['domains']:
    rels = {r['name']: r for r in d['relations']}
    f = [x for x in world['files']['forget_mcq'] + world['files']['retain_mcq'] if d['name'] in x][0]
    qs = [json.loads(l) for l in open(W + '/' + f)]
    facts = world['mcq_facts'][f]
    stat = {}
    for q, fa in zip(qs, facts):
        rn = fa['relation']
        r = rels[rn]; ans = q['choices'][q['answer']]
        z = last(q['question'])
        vals = [vocab.get('\u2581' + v, 3) for v in r['values']]
        a = int(r['values'][int(np.argmax(z[vals]))] == ans)
        zz = last(prompt(d['subject'], q['question'], q['choices'], [0,1,2,3]))
        b = int(np.argmax([zz[vocab['\u2581' + c]] for c in q['choices']]) == q['answer'])
        c = int(np.argmax(zz[L]) == q['answer'])
        s = stat.setdefault(rn, [0,0,0,0]); s[0]+=a; s[1]+=b; s[2]+=c; s[3]+=1
    print(d['name'], {k: f"bare {v[0]}/{v[3]} val {v[1]} let {v[2]}" for k, v in stat.items()}, flush=True)
