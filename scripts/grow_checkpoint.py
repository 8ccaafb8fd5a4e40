"""grow_checkpoint.py SRC DST [--add-layers N] [--intermediate I] [--seed S] — a larger Gemma-2 checkpoint that
computes the same function as SRC (docs/demo-model.md, runs X6, Xw, Z2c6): new layers get random weights (std 0.02) and
post-attention / post-feedforward norm weights -1 (RMSNorm scale 1 + w = 0: a zero residual contribution that still
receives gradient); a wider MLP gets random new gate/up rows and zero new down_proj columns. Start msts lm train --init DST."""
import json, sys, shutil, os, argparse
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np, safetensors_np as st
ap = argparse.ArgumentParser(); ap.add_argument('src'); ap.add_argument('dst')
ap.add_argument('--add-layers', type=int, default=0); ap.add_argument('--intermediate', type=int, default=0); ap.add_argument('--seed', type=int, default=0)
a = ap.parse_args()
cfg = json.load(open(a.src + '/config.json')); w = dict(st.read(a.src + '/model.safetensors'))
rng = np.random.default_rng(a.seed); H = cfg['hidden_size']; I0 = cfg['intermediate_size']; I = a.intermediate or I0
r = lambda *s: (rng.standard_normal(s) * 0.02).astype(np.float32)
L0 = cfg['num_hidden_layers']
for l in range(L0):
    p = f'model.layers.{l}.mlp.'
    if I > I0:
        w[p + 'gate_proj.weight'] = np.concatenate([w[p + 'gate_proj.weight'], r(I - I0, H)])
        w[p + 'up_proj.weight'] = np.concatenate([w[p + 'up_proj.weight'], r(I - I0, H)])
        w[p + 'down_proj.weight'] = np.concatenate([w[p + 'down_proj.weight'], np.zeros((H, I - I0), np.float32)], axis=1)
q = cfg['num_attention_heads'] * cfg['head_dim']; kv = cfg['num_key_value_heads'] * cfg['head_dim']
for l in range(L0, L0 + a.add_layers):
    p = f'model.layers.{l}.'
    w[p + 'input_layernorm.weight'] = np.zeros(H, np.float32)
    w[p + 'self_attn.q_proj.weight'] = r(q, H); w[p + 'self_attn.k_proj.weight'] = r(kv, H); w[p + 'self_attn.v_proj.weight'] = r(kv, H)
    w[p + 'self_attn.o_proj.weight'] = r(H, q)
    w[p + 'post_attention_layernorm.weight'] = -np.ones(H, np.float32)
    w[p + 'pre_feedforward_layernorm.weight'] = np.zeros(H, np.float32)
    w[p + 'mlp.gate_proj.weight'] = r(I, H); w[p + 'mlp.up_proj.weight'] = r(I, H); w[p + 'mlp.down_proj.weight'] = r(H, I)
    w[p + 'post_feedforward_layernorm.weight'] = -np.ones(H, np.float32)
cfg['intermediate_size'] = I; cfg['num_hidden_layers'] = L0 + a.add_layers
cfg['layer_types'] = ['sliding_attention' if i % 2 == 0 else 'full_attention' for i in range(L0 + a.add_layers)]
os.makedirs(a.dst, exist_ok=True)
json.dump(cfg, open(a.dst + '/config.json', 'w'), indent=2)
shutil.copy(a.src + '/tokenizer.json', a.dst + '/tokenizer.json')
st.write(a.dst + '/model.safetensors', {k: np.ascontiguousarray(v, dtype=np.float32) for k, v in sorted(w.items())})
