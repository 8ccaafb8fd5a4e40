"""Writes io/src/test/resources/safetensors/numpy.safetensors (+ expected values as JSON) with the
numpy peer writer, for SafeTensorsTest. Run from the repo root: python3 scripts/make_safetensors_fixture.py"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import safetensors_np as st  # noqa: E402

out = os.path.join(os.path.dirname(__file__), '..', 'model', 'src', 'test', 'resources', 'safetensors')
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)
f32 = rng.standard_normal((3, 5)).astype(np.float32)
f16 = rng.standard_normal((7,)).astype(np.float16)
bf = st.f32_to_bf16_bits(rng.standard_normal((2, 3, 2)).astype(np.float32))
i64 = np.arange(4, dtype=np.int64)
st.write(os.path.join(out, 'numpy.safetensors'),
         {'a.f32': f32, 'b.f16': f16, 'c.bf16': st.BF16(bf), 'd.i64': i64, 'e.empty': np.zeros((0, 3), np.float32)},
         metadata={'format': 'pt', 'producer': 'numpy'})
expected = {
    'a.f32': {'shape': list(f32.shape), 'values': [float(v) for v in f32.ravel()]},
    'b.f16': {'shape': list(f16.shape), 'values': [float(v) for v in f16.astype(np.float32).ravel()]},
    'c.bf16': {'shape': list(bf.shape), 'values': [float(v) for v in st.bf16_bits_to_f32(bf).ravel()]},
}
with open(os.path.join(out, 'numpy.expected.json'), 'w') as f:
    json.dump(expected, f, indent=1)
print('wrote', out)
