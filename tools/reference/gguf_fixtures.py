#!/usr/bin/env python3
"""Writes the GGUF reader fixtures of tests/unit/io/gguf_test.cc with gguf-py (GGUFWriter) and
records what gguf-py's GGUFReader reads back from them in tests/data/io/gguf/expected.json.

    ~/.cache/mlhub/pyenv/bin/python tools/reference/gguf_fixtures.py [--models DIR]

Files (all small):
  metadata.gguf        every metadata value type, arrays of each, a nested array
  tensors.gguf         one tensor per dtype mlhub maps (F32 F16 BF16 F64 I8 I16 I32 I64, Q4_0 Q4_1
                       Q5_0 Q5_1 Q8_0 via gguf.quants.quantize, Q2_K..Q6_K as random blocks), 1-4 dims
  tensors_v2.gguf      tensors.gguf with the version field set to 2 (same layout)
  align64.gguf         general.alignment = 64
  iq4_xs.gguf          a tensor of a ggml type mlhub does not hold (IQ4_XS)
  smollm2_expected.json  what GGUFReader reads from the real SmolLM2-135M-Instruct.Q4_1.gguf
                       (tensor names/types/shapes/offsets, metadata scalars, array heads)
"""
import argparse
import hashlib
import json
import os
import struct
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T
from gguf import GGUFValueType as V

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "data", "io", "gguf")


def rng():
    return np.random.default_rng(1234)


def write_metadata(path):
    w = gguf.GGUFWriter(path, arch="test")
    w.add_uint8("t.u8", 200)
    w.add_int8("t.i8", -100)
    w.add_uint16("t.u16", 60000)
    w.add_int16("t.i16", -30000)
    w.add_uint32("t.u32", 4_000_000_000)
    w.add_int32("t.i32", -2_000_000_000)
    w.add_float32("t.f32", 0.1)
    w.add_uint64("t.u64", 18_000_000_000_000_000_000)
    w.add_int64("t.i64", -9_000_000_000_000_000_000)
    w.add_float64("t.f64", 0.1)
    w.add_bool("t.bool", True)
    w.add_bool("t.false", False)
    w.add_string("t.string", "h\u00e9llo \u2713 \U0001F600")
    for name, vt, vals in [
        ("u8", V.UINT8, [0, 1, 255]), ("i8", V.INT8, [-128, 0, 127]),
        ("u16", V.UINT16, [0, 65535]), ("i16", V.INT16, [-32768, 32767]),
        ("u32", V.UINT32, [0, 4294967295]), ("i32", V.INT32, [-2147483648, 2147483647]),
        ("f32", V.FLOAT32, [1.5, -0.1, 3e38]), ("u64", V.UINT64, [0, 2**64 - 1]),
        ("i64", V.INT64, [-2**63, 2**63 - 1]), ("f64", V.FLOAT64, [0.1, -1e300]),
        ("bool", V.BOOL, [True, False, True]), ("string", V.STRING, ["a", "", "\u00fc\u00df"]),
    ]:
        w.add_key_value(f"t.arr.{name}", vals, V.ARRAY, sub_type=vt)
    w.add_key_value("t.arr.nested", [[1, 2], [3], ["x", "y"]], V.ARRAY, sub_type=V.ARRAY)
    w.add_tensor("x", np.arange(4, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_tensors(path, alignment=None):
    r = rng()
    w = gguf.GGUFWriter(path, arch="test")
    if alignment is not None:
        w.add_custom_alignment(alignment)
    w.add_tensor("f32.2d", r.standard_normal((3, 5)).astype(np.float32))
    w.add_tensor("f16.3d", r.standard_normal((2, 3, 4)).astype(np.float16))
    w.add_tensor("f32.4d", r.standard_normal((2, 1, 3, 2)).astype(np.float32))
    w.add_tensor("f64.1d", r.standard_normal(3).astype(np.float64))
    w.add_tensor("i8", np.array([-3, 0, 7], dtype=np.int8))
    w.add_tensor("i16", np.array([-300, 7], dtype=np.int16))
    w.add_tensor("i32", np.array([[-70000, 1], [2, 3]], dtype=np.int32))
    w.add_tensor("i64", np.array([-2**40, 5], dtype=np.int64))
    x = r.standard_normal((4, 64)).astype(np.float32)
    bf = gguf.quants.quantize(x, T.BF16)
    w.add_tensor("bf16", bf, raw_shape=bf.shape, raw_dtype=T.BF16)
    for qt in (T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0):
        q = gguf.quants.quantize(x, qt)
        w.add_tensor(qt.name.lower(), q, raw_shape=q.shape, raw_dtype=qt)
    for qt in (T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K):
        _, block_bytes = gguf.GGML_QUANT_SIZES[qt]
        q = r.integers(0, 256, size=(2, block_bytes), dtype=np.uint8)  # 2 rows of one block
        w.add_tensor(qt.name.lower(), q, raw_shape=q.shape, raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_iq4(path):
    w = gguf.GGUFWriter(path, arch="test")
    _, block_bytes = gguf.GGML_QUANT_SIZES[T.IQ4_XS]
    w.add_tensor("f32", np.ones(2, dtype=np.float32))
    q = rng().integers(0, 256, size=(1, block_bytes), dtype=np.uint8)
    w.add_tensor("iq4", q, raw_shape=q.shape, raw_dtype=T.IQ4_XS)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_fuzz_seed(path):
    """A tiny llama file with a byte-level BPE tokenizer: a seed that reaches gguf_to_hf's
    processors and gguf_tokenizer_json (tests/fuzz/corpus/fuzz_gguf)."""
    w = gguf.GGUFWriter(path, arch="llama")
    w.add_uint32("llama.block_count", 1)
    w.add_uint32("llama.attention.head_count", 2)
    w.add_uint32("llama.attention.head_count_kv", 1)
    w.add_uint32("llama.embedding_length", 4)
    w.add_string("tokenizer.ggml.model", "gpt2")
    tokens = ["<s>", "a", "b", "c", "\u0120", "ab", "\u0120a", "abc"]
    w.add_array("tokenizer.ggml.tokens", tokens)
    w.add_array("tokenizer.ggml.token_type", [3, 1, 1, 1, 1, 1, 1, 1])
    w.add_array("tokenizer.ggml.merges", ["a b", "\u0120 a", "ab c"])
    w.add_uint32("tokenizer.ggml.bos_token_id", 0)
    w.add_uint32("tokenizer.ggml.eos_token_id", 0)
    r = rng()
    w.add_tensor("blk.0.attn_q.weight", r.standard_normal((4, 4)).astype(np.float32))
    w.add_tensor("blk.0.attn_k.weight", r.standard_normal((2, 4)).astype(np.float16))
    w.add_tensor("token_embd.weight", r.standard_normal((8, 4)).astype(np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_fuzz_seed_spm_and_qwen(folder):
    """Seeds for the SentencePiece path (scores, no merges) and the qwen2 converter."""
    w = gguf.GGUFWriter(os.path.join(folder, "llama_spm_tokenizer.gguf"), arch="llama")
    tokens = ["<unk>", "<s>", "</s>", "<0x41>", "\u2581", "a", "b", "ab", "\u2581a", "\u2581ab"]
    w.add_string("tokenizer.ggml.model", "llama")
    w.add_array("tokenizer.ggml.tokens", tokens)
    w.add_array("tokenizer.ggml.scores", [0.0, 0.0, 0.0, 0.0, -1.0, -2.0, -3.0, -1.5, -0.5, -0.2])
    w.add_array("tokenizer.ggml.token_type", [2, 3, 3, 6, 1, 1, 1, 1, 1, 1])
    w.add_uint32("tokenizer.ggml.bos_token_id", 1)
    w.add_uint32("tokenizer.ggml.eos_token_id", 2)
    w.add_uint32("tokenizer.ggml.unknown_token_id", 0)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    w = gguf.GGUFWriter(os.path.join(folder, "qwen2_tokenizer.gguf"), arch="qwen2")
    w.add_uint32("qwen2.block_count", 1)
    w.add_string("tokenizer.ggml.model", "gpt2")
    w.add_array("tokenizer.ggml.tokens", ["<|endoftext|>", "a", "b", "ab", "\u0120", "\u0120ab"])
    w.add_array("tokenizer.ggml.merges", ["a b", "\u0120 ab"])
    w.add_tensor("blk.0.attn_norm.weight", np.ones(4, dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def field_json(field):
    """A metadata field as GGUFReader decodes it (floats as Python floats, bytes kept)."""
    v = field.contents()
    return to_json(v)


def to_json(v):
    if isinstance(v, (list, tuple)):
        return [to_json(x) for x in v]
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, np.bool_):
        return bool(v)
    return v


def describe(path, with_metadata=True, head=None):
    r = gguf.GGUFReader(path)
    out = {
        "version": int(r.fields["GGUF.version"].contents()),
        "alignment": int(r.alignment),
        "data_offset": int(r.data_offset),
        "tensor_count": len(r.tensors),
        "tensors": [],
    }
    if with_metadata:
        meta = {}
        for k, f in r.fields.items():
            if k.startswith("GGUF."):
                continue
            v = field_json(f)
            if head is not None and isinstance(v, list):
                v = {"length": len(v), "head": v[:head], "tail": v[-3:]}
            meta[k] = {"type": V(f.types[0]).name, "value": v}
            if f.types[0] == V.ARRAY:
                meta[k]["element_type"] = V(f.types[1]).name if len(f.types) > 1 else None
        out["metadata"] = meta
    for t in r.tensors:
        raw = bytes(np.ascontiguousarray(t.data).view(np.uint8).reshape(-1))
        out["tensors"].append({
            "name": t.name,
            "type": t.tensor_type.name,
            "type_id": int(t.tensor_type),
            "shape": [int(d) for d in reversed(t.shape.tolist())],
            "offset": int(t.data_offset - r.data_offset),
            "nbytes": int(t.n_bytes),
            "sha256": hashlib.sha256(raw).hexdigest(),
        })
        assert len(raw) == t.n_bytes, t.name
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=os.path.expanduser("~/.cache/mlhub/models"))
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    p = lambda n: os.path.join(OUT, n)
    write_metadata(p("metadata.gguf"))
    write_tensors(p("tensors.gguf"))
    with open(p("tensors.gguf"), "rb") as f:
        b = bytearray(f.read())
    struct.pack_into("<I", b, 4, 2)
    with open(p("tensors_v2.gguf"), "wb") as f:
        f.write(b)
    write_tensors(p("align64.gguf"), alignment=64)
    write_iq4(p("iq4_xs.gguf"))
    seeds = os.path.join(HERE, "..", "..", "tests", "fuzz", "corpus", "fuzz_gguf")
    write_fuzz_seed(os.path.join(seeds, "llama_bpe_tokenizer.gguf"))
    write_fuzz_seed_spm_and_qwen(seeds)

    expected = {n: describe(p(n)) for n in
                ("metadata.gguf", "tensors.gguf", "tensors_v2.gguf", "align64.gguf", "iq4_xs.gguf")}
    # GGUFReader flattens arrays of arrays (and reads the strings inside as bytes): the nested
    # value is recorded as written, and its bytes are checked against the writer by the test.
    nested = expected["metadata.gguf"]["metadata"]["t.arr.nested"]
    nested["value"] = [[1, 2], [3], ["x", "y"]]
    nested["note"] = "as written: GGUFReader 0.17.1 flattens nested arrays"
    with open(p("expected.json"), "w") as f:
        json.dump(expected, f, indent=1, sort_keys=True)
        f.write("\n")

    smol = os.path.join(args.models, "SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.exists(smol):
        sys.exit(f"{smol} is missing: run scripts/setup")
    d = describe(smol, head=8)
    with open(p("smollm2_expected.json"), "w") as f:
        json.dump(d, f, indent=0, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
