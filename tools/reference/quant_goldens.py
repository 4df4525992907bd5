#!/usr/bin/env python3
"""Goldens for ops::dequantize: random ggml blocks and gguf-py's dequantization of them.

For each of the ten block formats mlhub reads (Q4_0 .. Q8_0, Q2_K .. Q6_K) this writes
tests/golden/quant/<TYPE>.q (ROWS rows of raw blocks, random bytes with the f16 scale fields set
to finite values: normal, subnormal, zero, negative) and <TYPE>.f32 (gguf.quants.dequantize of
them, little-endian float32, [ROWS, COLS]); manifest.json records shapes and versions.
tests/unit/ops/quant_dequant_test.cc compares mlhub's dequantize with these bit for bit.

Run with the reference env: ~/.cache/mlhub/pyenv/bin/python tools/reference/quant_goldens.py
"""
import importlib.metadata
import json
import pathlib

import gguf
import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize

ROWS, COLS = 4, 512  # 16 blocks of 32 or 2 super-blocks of 256 per row
SEED = 20261127

# Byte offsets of the f16 fields (scales, mins) inside each block (ggml-common.h).
F16_FIELDS = {
    "Q4_0": [0], "Q4_1": [0, 2], "Q5_0": [0], "Q5_1": [0, 2], "Q8_0": [0],
    "Q2_K": [80, 82], "Q3_K": [108], "Q4_K": [0, 2], "Q5_K": [0, 2], "Q6_K": [208],
}


def random_f16(rng, n):
    """Finite half values: mostly N(0, 0.05), with some subnormals, zeros and large ones."""
    v = (rng.standard_normal(n) * 0.05).astype(np.float16)
    kind = rng.integers(0, 16, n)
    v[kind == 0] = np.float16(0.0)
    sub = kind == 1  # subnormal halves: bit patterns 0x0001 .. 0x03ff, either sign
    v[sub] = (rng.integers(1, 0x400, sub.sum()) | (rng.integers(0, 2, sub.sum()) << 15)).astype(
        np.uint16).view(np.float16)
    v[kind == 2] = (rng.standard_normal((kind == 2).sum()) * 100).astype(np.float16)
    return v


def main():
    out = pathlib.Path(__file__).resolve().parents[2] / "tests" / "golden" / "quant"
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(SEED)
    manifest = {"generator": "tools/reference/quant_goldens.py", "gguf": importlib.metadata.version("gguf"),
                "numpy": np.__version__, "rows": ROWS, "cols": COLS, "types": {}}
    for name, fields in F16_FIELDS.items():
        qtype = T[name]
        block_elems, block_bytes = gguf.GGML_QUANT_SIZES[qtype]
        n_blocks = ROWS * COLS // block_elems
        blocks = rng.integers(0, 256, (n_blocks, block_bytes), dtype=np.uint8)
        for off in fields:
            blocks[:, off:off + 2] = random_f16(rng, n_blocks).view(np.uint8).reshape(-1, 2)
        raw = blocks.reshape(ROWS, -1)
        values = dequantize(raw, qtype).astype(np.float32)
        assert values.shape == (ROWS, COLS) and np.isfinite(values).all(), name
        (out / f"{name}.q").write_bytes(raw.tobytes())
        (out / f"{name}.f32").write_bytes(values.astype("<f4").tobytes())
        manifest["types"][name] = {"block_elems": block_elems, "block_bytes": block_bytes,
                                   "row_bytes": raw.shape[1]}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")


if __name__ == "__main__":
    main()
