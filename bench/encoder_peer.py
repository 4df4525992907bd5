#!/usr/bin/env python3
"""The peer side of the encoder benchmark: ONNX Runtime or PyTorch eager on the same weights and
the same inputs as bench/encoder_bench.cc. Prints one JSON line (same fields as encoder_bench).

  encoder_peer.py ort|torch MODEL_DIR THREADS shape BATCH SEQ ITERS
  encoder_peer.py ort|torch MODEL_DIR THREADS sentences FILE BATCH ITERS
  encoder_peer.py ort|torch MODEL_DIR THREADS load

ONNX Runtime runs the model exported from the same weights with torch.onnx.export and then fused
with onnxruntime.transformers.optimizer (attention, layer norm, gelu fusions: the setup people
deploy), cached in ~/.cache/mlhub/bench/onnx/. Both peers run in float32 with THREADS intra-op
threads and one inter-op thread.
"""
import hashlib
import json
import os
import resource
import sys
import time

CACHE = os.path.join(os.path.expanduser("~"), ".cache", "mlhub", "bench", "onnx")


def synthetic(batch, seq):
    import numpy as np
    ids = np.zeros((batch, seq), dtype=np.int64)
    for b in range(batch):
        for t in range(seq):
            ids[b, t] = 101 if t == 0 else 102 if t == seq - 1 else 1000 + (b * 131 + t * 17) % 1000
    return ids, np.ones_like(ids), np.zeros_like(ids)


def onnx_path(model_dir):
    real = os.path.realpath(model_dir)
    st = os.stat(os.path.join(real, "config.json"))
    key = hashlib.sha256(("%s|%d" % (real, st.st_mtime_ns)).encode()).hexdigest()[:16]
    return os.path.join(CACHE, key + ".opt.onnx")


def export_onnx(model_dir, path):
    import torch
    from transformers import AutoConfig, AutoModel
    os.makedirs(os.path.dirname(path), exist_ok=True)
    model = AutoModel.from_pretrained(model_dir, torch_dtype=torch.float32).eval()
    ids, mask, types = (torch.from_numpy(a) for a in synthetic(2, 16))
    raw = path.replace(".opt.onnx", ".onnx")
    axes = {0: "batch", 1: "seq"}
    torch.onnx.export(model, (ids, mask, types), raw, dynamo=False, opset_version=17,
                      input_names=["input_ids", "attention_mask", "token_type_ids"],
                      output_names=["last_hidden_state"],
                      dynamic_axes={"input_ids": axes, "attention_mask": axes,
                                    "token_type_ids": axes, "last_hidden_state": axes})
    cfg = AutoConfig.from_pretrained(model_dir)
    try:
        from onnxruntime.transformers import optimizer
        opt = optimizer.optimize_model(raw, model_type="bert", num_heads=cfg.num_attention_heads,
                                       hidden_size=cfg.hidden_size, opt_level=1)
        opt.save_model_to_file(path)
    except Exception as e:  # the plain export still runs, with ORT's own graph optimizations
        print("encoder_peer: optimizer failed (%s); using the plain export" % e, file=sys.stderr)
        os.replace(raw, path)


class OrtSide:
    def __init__(self, model_dir, threads):
        import onnxruntime as ort
        path = onnx_path(model_dir)
        if not os.path.exists(path):
            export_onnx(model_dir, path)
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
        self.names = [i.name for i in self.sess.get_inputs()]

    def forward(self, ids, mask, types):
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        return self.sess.run(None, {k: feed[k] for k in self.names})[0]


class TorchSide:
    def __init__(self, model_dir, threads):
        import torch
        from transformers import AutoModel
        torch.set_num_threads(threads)
        torch.set_num_interop_threads(1)
        self.torch = torch
        self.model = AutoModel.from_pretrained(model_dir, torch_dtype=torch.float32).eval()

    def forward(self, ids, mask, types):
        t = self.torch
        with t.inference_mode():
            return self.model(input_ids=t.from_numpy(ids), attention_mask=t.from_numpy(mask),
                              token_type_ids=t.from_numpy(types)).last_hidden_state


def main():
    side, model_dir, threads, mode = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    t0 = time.perf_counter()
    runner = (OrtSide if side == "ort" else TorchSide)(model_dir, threads)
    out = {"side": side, "mode": mode, "load_s": time.perf_counter() - t0}
    times = []
    if mode == "shape":
        batch, seq, iters = int(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7])
        ids, mask, types = synthetic(batch, seq)
        runner.forward(ids, mask, types)
        for _ in range(iters):
            t = time.perf_counter()
            runner.forward(ids, mask, types)
            times.append(time.perf_counter() - t)
        out.update(batch=batch, seq=seq, sentences=batch)
    elif mode == "sentences":
        import numpy as np
        from tokenizers import Tokenizer
        lines = [l for l in open(sys.argv[5], encoding="utf-8").read().split("\n") if l]
        batch, iters = int(sys.argv[6]), int(sys.argv[7])
        tok = Tokenizer.from_file(os.path.join(model_dir, "tokenizer.json"))
        tok.no_padding()
        tok.enable_truncation(128)
        tok.enable_padding(pad_id=0)

        def one_pass():
            for b in range(0, len(lines), batch):
                encs = tok.encode_batch(lines[b:b + batch])
                ids = np.array([e.ids for e in encs], dtype=np.int64)
                mask = np.array([e.attention_mask for e in encs], dtype=np.int64)
                runner.forward(ids, mask, np.zeros_like(ids))
        one_pass()
        for _ in range(iters):
            t = time.perf_counter()
            one_pass()
            times.append(time.perf_counter() - t)
        out.update(batch=batch, sentences=len(lines))
    out["times"] = times
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps(out))


if __name__ == "__main__":
    main()
