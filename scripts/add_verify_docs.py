"""add_verify_docs.py SRC_WORLD DST_WORLD [--per-fact N] [--seed S] — a copy of an msts world whose train.jsonl also
holds yes/no verification documents (docs/demo-model.md, "Run Y: verification documents"): for every fact of every
entity, eval entities included, N documents "{question} {value}? Yes" (the true value) or "{question} {other}? No"
(another value of the relation, drawn at random), half of each, completion " Yes" / " No", kind "verify". They teach
each fact in a second direction (value given, is it the entity's?) and never show choices, letters or the chat
template, so no eval MCQ is seen. tokenizer.json gains the words "Yes" and "No" (new ids at the end). Other files are
copied unchanged. Run with /usr/bin/python3 or python3 (no numpy needed)."""
import argparse, json, os, random, shutil
ap = argparse.ArgumentParser(); ap.add_argument('src'); ap.add_argument('dst')
ap.add_argument('--per-fact', type=int, default=6); ap.add_argument('--seed', type=int, default=0)
a = ap.parse_args()
if a.per_fact < 2 or a.per_fact % 2: raise SystemExit('add_verify_docs: --per-fact must be even and >= 2')
shutil.copytree(a.src, a.dst)
rng = random.Random(a.seed)
man = json.load(open(os.path.join(a.src, 'world.json')))
docs = []
for d in man['domains']:
    rels = {r['name']: r for r in d['relations']}
    for e in d['entities']:
        for rn, v in e['facts'].items():
            r = rels[rn]
            for i in range(a.per_fact):
                yes = i % 2 == 0
                c = v if yes else rng.choice([x for x in r['values'] if x != v])
                q = r['questions'][rng.randrange(len(r['questions']))].replace('{e}', e['name'])
                ans = ' Yes' if yes else ' No'
                docs.append({'text': q + ' ' + c + '?' + ans, 'kind': 'verify', 'domain': d['name'], 'completion': ans})
lines = open(os.path.join(a.src, 'train.jsonl')).read().splitlines()
lines += [json.dumps(x) for x in docs]
rng.shuffle(lines)
open(os.path.join(a.dst, 'train.jsonl'), 'w').write('\n'.join(lines) + '\n')
tok = json.load(open(os.path.join(a.src, 'tokenizer.json')))
vocab = tok['model']['vocab']
for w in ('\u2581Yes', '\u2581No'):
    vocab.setdefault(w, max(vocab.values()) + 1)
json.dump(tok, open(os.path.join(a.dst, 'tokenizer.json'), 'w'), ensure_ascii=False, indent=2)
print(f'{len(docs)} verification documents added; {len(lines)} documents; vocab {len(vocab)}')
