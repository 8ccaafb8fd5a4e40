"""Minimal safetensors writer/reader in numpy (no safetensors package): the independent peer of
msts.io.SafeTensors used to produce test fixtures. Format: 8-byte little-endian header length N,
N bytes of JSON (space-padded to a multiple of 8), then row-major little-endian tensor data."""
import json
import struct

import numpy as np

_DT = {np.dtype('float32'): 'F32', np.dtype('float16'): 'F16', np.dtype('float64'): 'F64',
       np.dtype('int64'): 'I64', np.dtype('int32'): 'I32', np.dtype('int8'): 'I8',
       np.dtype('uint8'): 'U8', np.dtype('bool'): 'BOOL'}


def f32_to_bf16_bits(a):
    """Round-to-nearest-even f32 -> bf16 bit patterns (uint16), as torch does."""
    a = np.ascontiguousarray(a, dtype=np.float32)
    x = a.view(np.uint32).astype(np.uint64)
    lsb = (x >> 16) & 1
    return ((x + 0x7FFF + lsb) >> 16).astype(np.uint16)


def bf16_bits_to_f32(b):
    return (b.astype(np.uint32) << 16).view(np.float32)


class BF16:
    """Marks an array of bf16 bit patterns (uint16) for writing with dtype BF16."""
    def __init__(self, bits):
        self.bits = np.ascontiguousarray(bits, dtype=np.uint16)


def write(path, tensors, metadata=None):
    header = {}
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    blobs, off = [], 0
    for name, t in tensors.items():
        if isinstance(t, BF16):
            dt, arr = 'BF16', t.bits
        else:
            arr = np.ascontiguousarray(t)
            dt = _DT[arr.dtype]
        b = arr.astype(arr.dtype.newbyteorder('<'), copy=False).tobytes()
        header[name] = {'dtype': dt, 'shape': list(arr.shape), 'data_offsets': [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * ((8 - len(h) % 8) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def read(path):
    with open(path, 'rb') as f:
        data = f.read()
    n = struct.unpack('<Q', data[:8])[0]
    header = json.loads(data[8:8 + n])
    out = {}
    inv = {v: k for k, v in _DT.items()}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        b, en = e['data_offsets']
        raw = data[8 + n + b: 8 + n + en]
        if e['dtype'] == 'BF16':
            out[name] = bf16_bits_to_f32(np.frombuffer(raw, dtype='<u2')).reshape(e['shape'])
        else:
            out[name] = np.frombuffer(raw, dtype=inv[e['dtype']].newbyteorder('<')).reshape(e['shape'])
    return out
