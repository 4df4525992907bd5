#!/usr/bin/env python3
"""Writes the checkpoint fixtures of tests/data/io/ with the real torch and safetensors.

    ~/.cache/mlhub/pyenv/bin/python tools/reference/gen_io_fixtures.py [--out tests/data/io]

What it writes (all small; the whole folder stays well under 200 KB):

  dtypes.safetensors         one tensor per dtype mlhub reads (F32 F16 BF16 F64 I64 I32 I16 I8 U8
                             BOOL), a 0-d scalar and an empty tensor, with __metadata__
  state_dict_protocol4.bin   four of those tensors saved with pickle_protocol=4
  state_dict.bin             torch.save of an OrderedDict state dict (with _metadata, like
                             Module.state_dict()): f32/f16/bf16/i64 and more, a transposed view
                             and a step-sliced view of another tensor's storage, a tied tensor (the
                             same tensor under two names), a row of a matrix (storage offset), a
                             0-d scalar, an nn.Parameter
  legacy.bin                 the same kind of dict in torch's pre-1.6 (non-zip) format
  sharded_safetensors/       a tiny BertModel saved by transformers with max_shard_size
  sharded_bin/               the same model saved as sharded pytorch_model-*.bin
  evil_os_system.bin         a torch zip whose data.pkl calls os.system via REDUCE
  evil_builtins_eval.bin     a torch zip whose data.pkl calls builtins.eval via REDUCE
  evil_reduce_object.bin     torch.save of an object whose __reduce__ is os.system (pickle
                             writes it as 'posix system')
  evil_posix_system.pkl      a bare pickle (protocol 2) with GLOBAL 'posix system'
  expected.json              what torch reads back from each fixture: names, dtypes, shapes,
                             strides, storage offsets, every value, which tensors share storage

Deterministic: fixed seeds; zip entries written by torch carry no timestamps that change the
values the tests compare. Never downloads anything.
"""
import argparse
import collections
import io
import json
import os
import pathlib
import pickle
import shutil
import zipfile

import safetensors
import safetensors.torch
import torch
import transformers

DTYPE_NAMES = {
    torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16", torch.float64: "F64",
    torch.int64: "I64", torch.int32: "I32", torch.int16: "I16", torch.int8: "I8",
    torch.uint8: "U8", torch.bool: "BOOL",
}


def values_of(t):
    """Every value of `t` in row-major order, exactly (floats as float64, ints as ints)."""
    flat = t.detach().reshape(-1)
    if t.dtype.is_floating_point:
        return [float(v) for v in flat.to(torch.float64).tolist()]
    return [int(v) for v in flat.to(torch.int64).tolist()]


def describe(t):
    return {
        "dtype": DTYPE_NAMES[t.dtype],
        "shape": list(t.shape),
        "stride": list(t.stride()),
        "storage_offset": t.storage_offset(),
        "values": values_of(t),
        "sum": float(t.detach().to(torch.float64).sum()),
    }


def dtype_tensors():
    g = torch.Generator().manual_seed(1234)
    f = torch.randn(2, 3, generator=g)
    return {
        "f32": f,
        "f16": (torch.randn(3, 2, generator=g) * 100).to(torch.float16),
        "bf16": (torch.randn(4, generator=g) * 1e3).to(torch.bfloat16),
        "f64": torch.randn(2, 2, generator=g, dtype=torch.float64),
        "i64": torch.tensor([[-(2**63), 2**63 - 1], [-1, 123456789012345]], dtype=torch.int64),
        "i32": torch.tensor([-(2**31), 2**31 - 1, -7], dtype=torch.int32),
        "i16": torch.tensor([[-32768, 32767], [-2, 3]], dtype=torch.int16),
        "i8": torch.tensor([-128, 127, -1, 0, 5], dtype=torch.int8),
        "u8": torch.tensor([0, 255, 17], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True, True], dtype=torch.bool),
        "scalar": torch.tensor(2.5, dtype=torch.float32),
        "empty": torch.zeros(0, 3, dtype=torch.float32),
    }


def write_dtypes(out, expected):
    tensors = dtype_tensors()
    metadata = {"format": "pt", "source": "gen_io_fixtures.py"}
    path = out / "dtypes.safetensors"
    safetensors.torch.save_file(tensors, str(path), metadata=metadata)
    back = safetensors.torch.load_file(str(path))
    with safetensors.safe_open(str(path), "pt") as f:
        assert f.metadata() == metadata
    expected["dtypes.safetensors"] = {
        "metadata": metadata,
        "tensors": {k: describe(v) for k, v in sorted(back.items())},
    }


def state_dict():
    g = torch.Generator().manual_seed(42)
    weight = torch.randn(3, 4, generator=g)
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    sd = collections.OrderedDict()
    sd["linear.weight"] = weight
    sd["linear.bias"] = torch.randn(3, generator=g)
    sd["half"] = (torch.randn(2, 3, generator=g) * 10).to(torch.float16)
    sd["bf16"] = torch.randn(5, generator=g).to(torch.bfloat16)
    sd["ids"] = torch.tensor([0, -5, 2**40, 7, 9, -(2**62)], dtype=torch.int64)
    sd["f64"] = torch.randn(2, generator=g, dtype=torch.float64)
    sd["i32"] = torch.tensor([[1, -2], [3, -4]], dtype=torch.int32)
    sd["mask"] = torch.tensor([True, False, True], dtype=torch.bool)
    sd["bytes"] = torch.tensor([1, 200, 255], dtype=torch.uint8)
    sd["i8"] = torch.tensor([-3, 4], dtype=torch.int8)
    sd["i16"] = torch.tensor([-300, 301], dtype=torch.int16)
    sd["tied"] = weight                      # the same tensor under a second name
    sd["transposed"] = weight.t()            # permuted strides over the same storage
    sd["row"] = weight[1]                    # storage offset 4
    sd["base"] = base
    sd["strided"] = base[1:, ::2]            # step slice: strides (6, 2), offset 6
    sd["scalar"] = torch.tensor(-1.25)
    sd["param"] = torch.nn.Parameter(torch.randn(2, 2, generator=g))
    # What Module.state_dict() attaches; pickled as BUILD on the OrderedDict.
    sd._metadata = collections.OrderedDict([("", {"version": 1}), ("linear", {"version": 1})])
    return sd


def write_state_dict(out, expected):
    sd = state_dict()
    path = out / "state_dict.bin"
    torch.save(sd, str(path))
    back = torch.load(str(path), weights_only=True)
    ptrs = {}
    for k, v in back.items():
        ptrs.setdefault(v.untyped_storage().data_ptr(), []).append(k)
    expected["state_dict.bin"] = {
        "tensors": {k: describe(v) for k, v in sorted(back.items())},
        "shared_storage": sorted(sorted(g) for g in ptrs.values() if len(g) > 1),
    }
    # Protocol 4 (STACK_GLOBAL, MEMOIZE, FRAME, SHORT_BINUNICODE), which torch.save can be asked for.
    small = collections.OrderedDict((k, sd[k]) for k in ("linear.weight", "transposed", "half", "ids"))
    torch.save(small, str(out / "state_dict_protocol4.bin"), pickle_protocol=4)
    # torch's weights_only loader has no FRAME opcode; this file was written just above.
    back4 = torch.load(str(out / "state_dict_protocol4.bin"), weights_only=False)
    expected["state_dict_protocol4.bin"] = {
        "tensors": {k: describe(v) for k, v in sorted(back4.items())},
    }
    # The pre-1.6 format (a pickle stream, not a zip), which mlhub rejects with a clear error.
    torch.save(collections.OrderedDict([("w", torch.ones(2))]), str(out / "legacy.bin"),
               _use_new_zipfile_serialization=False)


def tiny_bert():
    torch.manual_seed(0)
    config = transformers.BertConfig(
        vocab_size=16, hidden_size=4, num_hidden_layers=1, num_attention_heads=1,
        intermediate_size=8, max_position_embeddings=8, type_vocab_size=2)
    return transformers.BertModel(config)


def write_sharded(out, expected):
    model = tiny_bert()
    for folder, safe in (("sharded_safetensors", True), ("sharded_bin", False)):
        target = out / folder
        shutil.rmtree(target, ignore_errors=True)
        model.save_pretrained(str(target), max_shard_size="1KB", safe_serialization=safe)
        (target / "config.json").unlink()  # not part of what the io tests read
        index_name = "model.safetensors.index.json" if safe else "pytorch_model.bin.index.json"
        index = json.loads((target / index_name).read_text())
        tensors = {}
        for shard in sorted(set(index["weight_map"].values())):
            if safe:
                tensors.update(safetensors.torch.load_file(str(target / shard)))
            else:
                tensors.update(torch.load(str(target / shard), weights_only=True))
        expected[folder] = {
            "index": index_name,
            "shards": len(set(index["weight_map"].values())),
            "tensors": {k: describe(v) for k, v in sorted(tensors.items())},
        }


# ---- hostile pickles, written opcode by opcode so nothing is ever called -------------------------

def binunicode(s):
    b = s.encode()
    return b"X" + len(b).to_bytes(4, "little") + b


def reduce_pickle(module, name, arg):
    """{'x': module.name(arg)} as protocol 2: the state-dict shape with a hostile callable."""
    return (b"\x80\x02}(" + binunicode("x") + b"c" + f"{module}\n{name}\n".encode() +
            binunicode(arg) + b"\x85R" + b"u.")


def write_torch_zip(path, pickle_bytes):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z:
        for name, data in (("archive/data.pkl", pickle_bytes), ("archive/byteorder", b"little"),
                           ("archive/version", b"3\n")):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            z.writestr(info, data)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo this must never run",))


def write_evil(out):
    write_torch_zip(out / "evil_os_system.bin", reduce_pickle("os", "system", "echo pwned"))
    write_torch_zip(out / "evil_builtins_eval.bin",
                    reduce_pickle("builtins", "eval", "__import__('os').system('echo pwned')"))
    torch.save({"x": Evil()}, str(out / "evil_reduce_object.bin"))
    (out / "evil_posix_system.pkl").write_bytes(reduce_pickle("posix", "system", "echo pwned"))
    # Make sure the hand-written pickles are what we think they are (without running them).
    for name in ("evil_os_system.bin", "evil_builtins_eval.bin", "evil_reduce_object.bin"):
        with zipfile.ZipFile(out / name) as z:
            pkl = [n for n in z.namelist() if n.endswith("/data.pkl")]
            assert len(pkl) == 1, name
            try:
                pickle.Unpickler(io.BytesIO(z.read(pkl[0])))
            except Exception as e:  # pragma: no cover
                raise SystemExit(f"{name}: {e}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    root = pathlib.Path(__file__).resolve().parents[2]
    parser.add_argument("--out", default=str(root / "tests" / "data" / "io"))
    args = parser.parse_args()
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    expected = {"generator": {"torch": torch.__version__, "safetensors": safetensors.__version__,
                              "transformers": transformers.__version__}}
    write_dtypes(out, expected)
    write_state_dict(out, expected)
    write_sharded(out, expected)
    write_evil(out)
    (out / "expected.json").write_text(json.dumps(expected, indent=1, sort_keys=True) + "\n")
    for p in out.rglob("*"):
        if p.is_file():
            p.chmod(0o644)  # safetensors creates its files 0600
    total = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"wrote {out} ({total} bytes)")


if __name__ == "__main__":
    main()
