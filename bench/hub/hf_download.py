"""One hf_hub_download of REPO/FILE from the hub at HF_ENDPOINT into a fresh cache dir; prints
{"seconds": ..., "bytes": ..., "sha256": ...} (sha256 only with --sha256). Run by run_hub_bench.py."""
import hashlib
import json
import os
import sys
import time

repo, filename, cache = sys.argv[1], sys.argv[2], sys.argv[3]
from huggingface_hub import hf_hub_download  # noqa: E402  (import not timed)

t0 = time.perf_counter()
path = hf_hub_download(repo, filename, cache_dir=cache, token=os.environ.get("HF_TOKEN"))
seconds = time.perf_counter() - t0
out = {"seconds": seconds, "bytes": os.path.getsize(path)}
if "--sha256" in sys.argv:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    out["sha256"] = h.hexdigest()
print(json.dumps(out))
