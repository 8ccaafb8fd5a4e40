"""thin_practice.py SRC_WORLD DST_WORLD [--keep N] — a copy of an msts world whose train.jsonl keeps, of the practice
MCQs (kinds mcq and mcq_value), only the first N per kind and question text (each fact has two question wordings, so
N = 1 keeps about two of each per fact), and drops open-book MCQs; prose, FAQ and drills stay, in their order.
This is how runs Z2/Z2b/Z2c of docs/demo-model.md were made from world U (N = 1); `msts world --practice-variants 2
--open-book-variants 0 --value-variants 2` is the native equivalent (run N2). Only train.jsonl changes (world.json's
hash of it no longer matches; msts lm train does not check it)."""
import argparse, collections, json, shutil
ap = argparse.ArgumentParser(); ap.add_argument('src'); ap.add_argument('dst'); ap.add_argument('--keep', type=int, default=1)
a = ap.parse_args()
shutil.copytree(a.src, a.dst)
seen, out = collections.Counter(), []
for line in open(a.src + '/train.jsonl'):
    d = json.loads(line)
    if d['kind'] == 'mcq_open_book':
        continue
    if d['kind'] in ('mcq', 'mcq_value'):
        k = (d['kind'], d['text'].split('\n')[2])  # the question line of the eval prompt
        seen[k] += 1
        if seen[k] > a.keep:
            continue
    out.append(line)
with open(a.dst + '/train.jsonl', 'w') as f:
    f.writelines(out)
print(a.dst, collections.Counter(json.loads(l)['kind'] for l in out))
