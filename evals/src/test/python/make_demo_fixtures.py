"""Writes msts's small synthetic demo/test fixtures (deterministic; run: python3 make_demo_fixtures.py).

evals/src/main/resources/demo/:
  forget.jsonl       biology/virology-flavoured synthetic documents (stand-in for the WMDP bio forget corpus)
  retain.jsonl       general synthetic documents (stand-in for wikitext)
  wmdp_bio.jsonl     WMDP-like multiple-choice questions (question, choices, answer)
  mmlu_high_school_geography.jsonl, mmlu_human_aging.jsonl   MMLU-like questions (with subject)
  probing_topic.jsonl   labelled texts (label 1 = biology topic, 0 = other)
The texts are template-generated nonsense with topical vocabulary: they exercise the pipeline, they carry no
real knowledge.
"""
import json, os, random

R = random.Random(20241124)
OUT = os.path.join(os.path.dirname(__file__), "..", "..", "main", "resources", "demo")
os.makedirs(OUT, exist_ok=True)

BIO_N = ["virus", "pathogen", "protein", "genome", "toxin", "bacterium", "host cell", "antibody", "vaccine", "spore",
         "enzyme", "receptor", "plasmid", "strain", "capsid", "ribosome", "mutation", "infection", "culture", "vector"]
BIO_V = ["replicates in", "binds to", "infects", "is expressed by", "inhibits", "is transmitted through", "mutates in",
         "is isolated from", "neutralizes", "is amplified in"]
BIO_A = ["virulent", "recombinant", "airborne", "resistant", "attenuated", "synthetic", "pathogenic", "viral", "cellular", "toxic"]
GEN_N = ["river", "city", "mountain", "library", "festival", "harbor", "market", "railway", "village", "museum",
         "forest", "bridge", "island", "garden", "school", "coast", "desert", "valley", "castle", "farm"]
GEN_V = ["lies near", "was built beside", "is famous for", "attracts visitors to", "borders", "overlooks",
         "was renamed after", "hosts", "connects", "faces"]
GEN_A = ["old", "quiet", "northern", "busy", "historic", "small", "large", "coastal", "green", "ancient"]
AGE_N = ["older adults", "memory", "retirement", "bone density", "sleep", "hearing", "exercise", "longevity", "dementia", "caregivers"]

def sentence(N, V, A):
    return f"The {R.choice(A)} {R.choice(N)} {R.choice(V)} the {R.choice(A)} {R.choice(N)}."

def doc(N, V, A, n):
    return " ".join(sentence(N, V, A) for _ in range(n))

def write(name, rows):
    with open(os.path.join(OUT, name), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")

write("forget.jsonl", [{"text": doc(BIO_N, BIO_V, BIO_A, R.randint(5, 12))} for _ in range(120)])
write("retain.jsonl", [{"text": doc(GEN_N, GEN_V, GEN_A, R.randint(5, 12))} for _ in range(120)])

def mcq(N, V, A, subject=None):
    a, b = R.sample(N, 2)
    q = f"Which {R.choice(A)} {a} {R.choice(V)} the {b}?"
    choices = R.sample(N, 4)
    rec = {"question": q, "choices": [f"the {c}" for c in choices], "answer": R.randrange(4)}
    if subject:
        rec["subject"] = subject
    return rec

write("wmdp_bio.jsonl", [mcq(BIO_N, BIO_V, BIO_A) for _ in range(48)])
write("mmlu_high_school_geography.jsonl", [mcq(GEN_N, GEN_V, GEN_A, "high_school_geography") for _ in range(32)])
write("mmlu_human_aging.jsonl", [mcq(AGE_N, GEN_V, GEN_A, "human_aging") for _ in range(32)])

probe = []
for i in range(240):
    bio = i % 2 == 0
    probe.append({"text": doc(BIO_N, BIO_V, BIO_A, 2) if bio else doc(GEN_N, GEN_V, GEN_A, 2), "label": 1 if bio else 0})
R.shuffle(probe)
write("probing_topic.jsonl", probe)
total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
print("wrote", sorted(os.listdir(OUT)), total, "bytes")
