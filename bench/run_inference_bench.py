#!/usr/bin/env python3
"""Inference server load test: `mlhub serve` with its inference API under many concurrent
clients, on loopback, side by side with llama.cpp's OpenAI-compatible server for chat.

  run_inference_bench.py [--chat-levels 1,4,16] [--chat-requests 16] [--embed-levels 1,8,32]
                         [--embed-requests 200] [--overload-seconds 20] [--threads 2]
                         [--only chat|embed] [--json PATH]

The binary is $MLHUB_BIN (default build/mlhub); run it with the hub clients' Python
(~/.cache/mlhub/hubenv: huggingface_hub to publish, httpx for the load).

Chat: SmolLM2-135M-Instruct Q4_1 GGUF (~/.cache/mlhub/models, linked by scripts/setup), the same
file on both servers:
  mlhub   `mlhub serve` (MLHUB_NUM_THREADS=threads), the GGUF published into a fresh hub with a
          card `pipeline_tag: text-generation`, `tags: [conversational]`, called at
          POST /models/{id}/v1/chat/completions with a hub token (account on an unlimited plan);
          its defaults: up to 16 sequences decoded together (continuous batching), 256 queued.
  llama   `python -m llama_cpp.server` of llama-cpp-python 0.3.36 (scripts/setup_bench_llama:
          the AVX2 build plus the server extra), --n_threads and --n_threads_batch = threads,
          --n_ctx 4096, --interrupt_requests False (its default True cuts a running stream short
          whenever another request waits, which would make its latencies look better than the
          work done), and repeat_penalty 1.0 in each request (its server's default is 1.1 even at
          temperature 0; mlhub's is 1.0, plain greedy). It runs one request at a time: the FastAPI app takes a global lock around
          the model for the whole request, so concurrent requests queue (no parallel slots, no
          batching, no queue limit).
Same prompts (16 short writing tasks, cycled), greedy (temperature 0), max_tokens 64, streamed
(SSE), so each request yields its time to first token. For each concurrency level (closed loop:
N clients, each sending its next request when its last one ends) a fixed number of requests
(max(--chat-requests, 3 x N)): requests/s, output tokens/s (content events: one token each on
both servers), p50/p99 latency and time to first token. Then an open loop at twice the best
measured rate for --overload-seconds (requests arrive on schedule whatever the answers), plus up
to 60 s to drain: counts of 200 / 429 / 503 / other, p99, unfinished requests (cancelled at the
drain limit), whether the server is still up and answers, and its memory: VmRSS before and
after, VmHWM during the phase (/proc/PID/status; the peak is reset through /proc/PID/clear_refs
when the phase starts, so model loading and publishing do not count).

Embeddings: all-MiniLM-L6-v2 published with `pipeline_tag: sentence-similarity`, one sentence
per request at POST /models/{id}/embed (TEI's route), 1 / 8 / 32 clients, max(--embed-requests,
20 x N) requests each: requests/s, p50/p99, and the mean encoder batch size from mlhub's
/metrics (tgi_batch_next_size{method="encoder"}, before/after difference); then twice the best
rate. No peer here: sentence-transformers in-process is not a server, and no embedding server
is packaged for this machine, so the figures stand alone.

The chat rows' "batch" is mlhub's mean decode batch (sequences per decode step, from
tgi_batch_next_size{method="decode"}); llama-cpp-python decodes one sequence at a time.
Each row also shows the CPU the server process and the Python client used over the row's wall
time, in cores (server/client, out of the machine's nproc), and the server's peak VmRSS.

Bounded: fixed request counts, a fixed overload window, timeouts on every request; servers are
killed at exit. Everything is on loopback; the client (Python, asyncio, bench/inference_load.py) shares the machine's cores with
the server, the same way for both servers. Ratios are mlhub / llama (> 1: mlhub faster for
rates, slower for latencies). The JSON result goes to --json, or bench/results/inference.json
when git ignores that path, else stdout.
"""
import argparse
import asyncio
import atexit
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from inference_load import chat_request, closed_loop, json_request, open_loop, proc_memory_kb, summarize  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
CACHE = Path.home() / ".cache" / "mlhub"
MODELS = Path(os.environ.get("MLHUB_MODELS", CACHE / "models"))
SMOLLM2 = MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"
MINILM = MODELS / "all-MiniLM-L6-v2"
PYENV = Path(os.environ.get("MLHUB_PYENV", CACHE / "pyenv"))
LLAMA_PATH = [CACHE / "bench" / "llama_avx2", CACHE / "bench" / "llama_server"]
PROCS = []

PROMPTS = [f"Write a short paragraph about {t}." for t in (
    "the sea", "autumn leaves", "a busy train station", "the first day of school", "coffee", "mountains at dawn",
    "a lost umbrella", "city lights at night", "an old library", "learning to swim", "a thunderstorm",
    "the smell of bread", "a chess game", "a desert road", "winter birds", "a lighthouse keeper")]


def sentences():
    """Real English sentences and sentence pairs (5 to ~60 tokens) from bench/data/seed_en.txt, as
    the encoder bench builds them."""
    text = (HERE / "data" / "seed_en.txt").read_text(encoding="utf-8")
    sents = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.strip()) > 3]
    lines = []
    for i, s in enumerate(sents):
        lines += [s, " ".join(sents[i:i + 2])]
    return lines[:128]


def cleanup():
    for p in PROCS:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=10)


atexit.register(cleanup)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine():
    model = "?"
    out = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
    for line in out.splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    return {"nproc": os.cpu_count(), "cpu": model, "kernel": platform.release(), "loadavg_start": os.getloadavg()[0]}


# ---------------------------------------------------------------- servers

def start_mlhub(binary, data, threads, log):
    env = dict(os.environ, MLHUB_NUM_THREADS=str(threads))
    proc = subprocess.Popen([str(binary), "serve", "--data", str(data), "--host", "127.0.0.1", "--port", "0", "--quiet"],
                            stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    PROCS.append(proc)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if m:
            # Keep reading its stdout so the server never blocks on a full pipe.
            import threading
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return proc, m.group(1)
    raise RuntimeError(f"mlhub serve did not start (exit {proc.poll()}); see {log.name}")


def unlimited_plan(binary, data):
    """Puts admin on a plan without limits, so quotas do not shape the load (the server's default
    plan may limit requests per minute). Returns a note for the report."""
    create = subprocess.run([str(binary), "plan", "create", "bench-unlimited", "--data", str(data),
                             "--requests-per-minute", "0", "--monthly-characters", "0", "--monthly-tokens", "0",
                             "--max-model-size", "0"], capture_output=True, text=True, timeout=30)
    if create.returncode != 0:
        return f"no `mlhub plan` ({create.stderr.strip()[:120]}): the default plan applies"
    assign = subprocess.run([str(binary), "plan", "assign", "bench-unlimited", "--account", "admin", "--data", str(data)],
                            capture_output=True, text=True, timeout=30)
    if assign.returncode != 0:
        raise RuntimeError(f"mlhub plan assign: {assign.stderr}")
    return "admin on plan bench-unlimited (no limits)"


def publish(url, token, repo, source, card):
    from huggingface_hub import HfApi
    api = HfApi(endpoint=url, token=token)
    api.create_repo(repo, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="mlhub-bench-publish-") as tmp:
        folder = Path(tmp)
        if source.is_dir():
            for p in source.iterdir():
                if p.is_dir() and not p.name.startswith("."):
                    shutil.copytree(p, folder / p.name)
                elif p.is_file() and p.name != "README.md":
                    os.symlink(p.resolve(), folder / p.name)
        else:
            os.symlink(source.resolve(), folder / source.name)
        (folder / "README.md").write_text(card)
        api.upload_folder(repo_id=repo, folder_path=str(folder), commit_message=f"publish {source.name}")


def card(pipeline_tag, library, tags):
    return "\n".join(["---", f"pipeline_tag: {pipeline_tag}", f"library_name: {library}", "tags:",
                      *[f"- {t}" for t in tags], "---", "", "Published by bench/run_inference_bench.py.", ""])


def start_llama(threads, log):
    port = free_port()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(map(str, LLAMA_PATH)))
    cmd = [str(PYENV / "bin" / "python"), "-m", "llama_cpp.server", "--model", str(SMOLLM2),
           "--n_threads", str(threads), "--n_threads_batch", str(threads), "--n_ctx", "4096",
           "--interrupt_requests", "False", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=log, stderr=log, env=env)
    PROCS.append(proc)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            if httpx.get(f"{url}/v1/models", timeout=2).status_code == 200:
                return proc, url, cmd
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"llama_cpp.server did not start (exit {proc.poll()}); see {log.name}")


def alive(proc, url, path, headers=None):
    """Still running and answering a GET (any status below 500)."""
    if proc.poll() is not None:
        return False
    try:
        return httpx.get(f"{url}{path}", headers=headers or {}, timeout=10).status_code < 500
    except httpx.HTTPError:
        return False


def metric_sum_count(text, name, labels):
    """(sum, count) of a Prometheus histogram series whose labels include `labels`."""
    total = {"sum": 0.0, "count": 0.0}
    for line in text.splitlines():
        for part in ("sum", "count"):
            prefix = f"{name}_{part}{{"
            if line.startswith(prefix):
                series, value = line.rsplit(" ", 1)
                if all(f'{k}="{v}"' in series for k, v in labels.items()):
                    total[part] += float(value)
    return total["sum"], total["count"]


# ---------------------------------------------------------------- workloads

def reset_peak_rss(pid):
    """Resets the process's VmHWM to its current RSS (Linux: "5" into /proc/PID/clear_refs), so the
    VmHWM read afterwards is the peak of what ran since. False where the kernel refuses."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def overload(url, make, rate, seconds, drain_s, pid):
    """The open loop at `rate`, with the server's memory before, during (peak VmRSS sampled every
    0.25 s, and VmHWM since a reset) and after."""
    rss_before = proc_memory_kb(pid)[0] / 1024
    reset = reset_peak_rss(pid)
    over = summarize(asyncio.run(open_loop(url, make, rate, seconds, drain_s, pid)))
    rss_after, hwm = proc_memory_kb(pid)
    over.update(rate=rate, rss_before_mb=rss_before, rss_after_mb=rss_after / 1024,
                vm_hwm_phase_mb=hwm / 1024 if reset else None)
    return over


def chat_workload(name, url, route, headers, extra_body, pid, a, batches=None):
    """Closed-loop levels, then the open loop at twice the best rate, on one chat server.
    batches() -> (sum, count) of the server's decode batch sizes, where it reports them."""
    def make(client, i):
        body = {"messages": [{"role": "user", "content": PROMPTS[i % len(PROMPTS)]}], "max_tokens": 64,
                "temperature": 0, "stream": True, **extra_body}
        return chat_request(client, route, headers, body, i % len(PROMPTS), timeout_s=120)

    out = {"levels": {}}
    # Warm-up: the model is loaded (mlhub loads it on first use) and every prompt's greedy reply
    # recorded once, to compare the two servers' texts.
    t = time.perf_counter()
    warm = asyncio.run(closed_loop(url, make, 1, len(PROMPTS), pid))
    out["warmup_s"] = time.perf_counter() - t
    bad = [r.error for r in warm.results if r.status != 200]
    if bad:
        raise RuntimeError(f"{name} chat warm-up failed: {bad[:3]}")
    out["replies"] = {r.prompt: r.text for r in warm.results}
    # Tokens are counted as streamed content events; check that against the server's own count
    # (usage.completion_tokens of the same request, not streamed) and text.
    body = {"messages": [{"role": "user", "content": PROMPTS[0]}], "max_tokens": 64, "temperature": 0, **extra_body}
    whole = httpx.post(url + route, headers=headers, json=body, timeout=120).json()
    first = next(r for r in warm.results if r.prompt == 0)
    out["token_check"] = {"streamed_events": first.tokens, "usage_completion_tokens": whole["usage"]["completion_tokens"],
                          "same_text": whole["choices"][0]["message"]["content"] == first.text}
    def mean_batch(before):
        if not batches:
            return None
        after = batches()
        return (after[0] - before[0]) / (after[1] - before[1]) if after[1] > before[1] else None

    for c in a.chat_levels:
        n = max(a.chat_requests, 3 * c)
        before = batches() if batches else None
        run = asyncio.run(closed_loop(url, make, c, n, pid))
        out["levels"][c] = summarize(run)
        out["levels"][c]["mean_batch_size"] = mean_batch(before)
        print_row(name, f"{c} clients", out["levels"][c], chat=True)
    best = max(v["rps"] for v in out["levels"].values())
    rate = 2 * best
    before = batches() if batches else None
    over = overload(url, make, rate, a.overload_seconds, 60, pid)
    over["mean_batch_size"] = mean_batch(before)
    out["overload"] = over
    print_row(name, f"open {rate:.2f}/s", over, chat=True)
    return out


def embed_workload(url, route, headers, pid, a, metrics_url, model):
    texts = sentences()
    def check(body):
        vec = body[0] if isinstance(body, list) and body and isinstance(body[0], list) else body
        if not (isinstance(vec, list) and len(vec) == 384):
            raise ValueError(f"not one 384-dim embedding: {str(body)[:80]}")

    def make(client, i):
        return json_request(client, route, headers, {"inputs": texts[i % len(texts)]}, i, 60, check)

    def batches():
        text = httpx.get(metrics_url, timeout=10).text
        return metric_sum_count(text, "tgi_batch_next_size", {"model": model, "method": "encoder"})

    out = {"levels": {}}
    warm = asyncio.run(closed_loop(url, make, 1, 8, pid))
    bad = [r.error for r in warm.results if r.status != 200]
    if bad:
        raise RuntimeError(f"embeddings warm-up failed: {bad[:3]}")
    for c in a.embed_levels:
        before = batches()
        run = asyncio.run(closed_loop(url, make, c, max(a.embed_requests, 20 * c), pid))
        after = batches()
        row = summarize(run)
        row["batches"] = after[1] - before[1]
        row["mean_batch_size"] = (after[0] - before[0]) / row["batches"] if row["batches"] else None
        out["levels"][c] = row
        print_row("mlhub", f"{c} clients", row, chat=False)
    rate = 2 * max(v["rps"] for v in out["levels"].values())
    before = batches()
    over = overload(url, make, rate, a.overload_seconds, 30, pid)
    after = batches()
    over["batches"] = after[1] - before[1]
    over["mean_batch_size"] = (after[0] - before[0]) / over["batches"] if over["batches"] else None
    out["overload"] = over
    print_row("mlhub", f"open {rate:.0f}/s", over, chat=False)
    return out


# ---------------------------------------------------------------- report

def fmt(v, spec):
    return format(v, spec) if v is not None else "-".rjust(len(format(0, spec)))


def print_header(chat):
    extra = f" {'tok/s':>7s} {'TTFT p50':>9s} {'TTFT p99':>9s}" if chat else ""
    print(f"   {'server':6s} {'load':>14s} {'req':>5s} {'ok':>5s} {'req/s':>8s}{extra} {'batch':>6s} {'p50 ms':>8s} {'p99 ms':>8s}"
          f" {'RSS MB':>7s} {'cores':>11s}  other statuses")


def print_row(who, load, r, chat):
    others = {k: v for k, v in r["status_counts"].items() if k != "200"}
    if r["unfinished"]:
        others["unfinished"] = r["unfinished"]
    extra = (f" {r['tokens_per_s']:7.1f} {fmt(r['ttft_p50_ms'], '9.0f')} {fmt(r['ttft_p99_ms'], '9.0f')}" if chat
             else "") + f" {fmt(r.get('mean_batch_size'), '6.1f')}"
    print(f"   {who:6s} {load:>14s} {r['requests']:5d} {r['ok']:5d} {r['rps']:8.2f}{extra} {fmt(r['p50_ms'], '8.0f')}"
          f" {fmt(r['p99_ms'], '8.0f')} {r['rss_max_mb']:7.0f} {r['server_cores']:5.2f}/{r['client_cores']:4.2f}"
          f"  {others or ''}", flush=True)


def memory_note(o):
    hwm = f"{o['vm_hwm_phase_mb']:.0f}" if o.get("vm_hwm_phase_mb") is not None else "?"
    return f"RSS {o['rss_before_mb']:.0f} MB before, VmHWM {hwm} MB during, {o['rss_after_mb']:.0f} MB after"


def ratios(m, l):
    out = {}
    for c in m["levels"]:
        a, b = m["levels"][c], l["levels"].get(c)
        if not b:
            continue
        def div(x, y):
            return x / y if x and y else None
        out[c] = {"rps": div(a["rps"], b["rps"]), "tokens_per_s": div(a["tokens_per_s"], b["tokens_per_s"]),
                  "p50": div(a["p50_ms"], b["p50_ms"]), "p99": div(a["p99_ms"], b["p99_ms"]),
                  "ttft_p50": div(a["ttft_p50_ms"], b["ttft_p50_ms"])}
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chat-levels", default="1,4,16")
    p.add_argument("--chat-requests", type=int, default=16)
    p.add_argument("--embed-levels", default="1,8,32")
    p.add_argument("--embed-requests", type=int, default=200)
    p.add_argument("--overload-seconds", type=float, default=20)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--only", choices=["chat", "embed"])
    p.add_argument("--json")
    a = p.parse_args()
    a.chat_levels = [int(x) for x in a.chat_levels.split(",")]
    a.embed_levels = [int(x) for x in a.embed_levels.split(",")]
    binary = Path(os.environ.get("MLHUB_BIN", ROOT / "build" / "mlhub")).resolve()
    for path, why in ((binary, "build it (make)"), (SMOLLM2, "run scripts/setup"), (MINILM, "run scripts/setup")):
        if not path.exists():
            sys.exit(f"{path} is missing: {why}")
    if a.only != "embed" and not (LLAMA_PATH[1] / ".mlhub-pins").exists():
        sys.exit(f"{LLAMA_PATH[1]} is missing: run scripts/setup_bench_llama")

    info = machine()
    started = time.monotonic()
    result = {"machine": info, "threads": a.threads}
    tmp = Path(tempfile.mkdtemp(prefix="mlhub-inference-bench-"))
    log = open(tmp / "mlhub-serve.log", "w")
    llama_log = open(tmp / "llama-server.log", "w")
    print(f"inference bench: {info['cpu']}, {info['nproc']} cores, load {info['loadavg_start']:.2f}; "
          f"{a.threads} threads per server; loopback", flush=True)
    try:
        proc, url = start_mlhub(binary, tmp / "data", a.threads, log)
        token = (tmp / "data" / "admin.token").read_text().strip()
        auth = {"authorization": f"Bearer {token}"}
        result["plan"] = unlimited_plan(binary, tmp / "data")
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        # Big files through the LFS batch API (streamed to the blob store), not inside the commit.
        os.environ["HF_HUB_DISABLE_XET"] = "1"
        chat_id, embed_id = "admin/SmolLM2-135M-Instruct-GGUF", "admin/all-MiniLM-L6-v2"
        publish(url, token, chat_id, SMOLLM2, card("text-generation", "gguf", ["conversational", "gguf"]))
        publish(url, token, embed_id, MINILM, card("sentence-similarity", "sentence-transformers",
                                                  ["sentence-transformers", "feature-extraction", "sentence-similarity"]))
        print(f"mlhub serve at {url} ({result['plan']}); models published", flush=True)

        if a.only != "embed":
            print(f"\nchat: SmolLM2-135M-Instruct Q4_1, {len(PROMPTS)} prompts, greedy, max_tokens 64, streamed; "
                  f"closed loop, then open loop at 2x the best rate for {a.overload_seconds:.0f} s (+60 s drain)")
            print_header(chat=True)
            decode = lambda: metric_sum_count(httpx.get(f"{url}/metrics", timeout=10).text, "tgi_batch_next_size",  # noqa: E731
                                              {"model": chat_id, "method": "decode"})
            m = chat_workload("mlhub", url, f"/models/{chat_id}/v1/chat/completions", auth, {}, proc.pid, a, decode)
            m["alive_after"] = alive(proc, url, f"/api/models/{chat_id}")
            lproc, lurl, lcmd = start_llama(a.threads, llama_log)
            result["llama_cmd"] = " ".join(lcmd)
            # llama-cpp-python's server applies repeat_penalty 1.1 unless told otherwise, even at
            # temperature 0: 1.0 makes it plain greedy decoding, as mlhub does.
            ll = chat_workload("llama", lurl, "/v1/chat/completions", {}, {"repeat_penalty": 1.0}, lproc.pid, a)
            ll["alive_after"] = alive(lproc, lurl, "/v1/models")
            lproc.terminate()
            same = sum(1 for i, t in m["replies"].items() if ll["replies"].get(i) == t)
            for who, r in (("mlhub", m), ("llama", ll)):
                t = r["token_check"]
                print(f"   {who}: prompt 0 streamed as {t['streamed_events']} content events; not streamed: "
                      f"usage.completion_tokens {t['usage_completion_tokens']}, same text: {t['same_text']}")
            result["chat"] = {"mlhub": m, "llama": ll, "ratios_mlhub_llama": ratios(m, ll), "same_replies": same}
            print(f"   same greedy reply on both servers: {same} of {len(PROMPTS)} prompts (different Q4_1 kernels "
                  f"and activation rounding can pick a different token where two are close)")
            print("   ratios mlhub / llama (rates: > 1 mlhub faster; latencies: < 1 mlhub faster):")
            for c, r in result["chat"]["ratios_mlhub_llama"].items():
                print("     " + f"{c:>2} clients: " + ", ".join(f"{k} {v:.2f}" for k, v in r.items() if v is not None))
            for who, r in (("mlhub", m), ("llama", ll)):
                o = r["overload"]
                print(f"   {who} at 2x ({o['rate']:.2f} req/s for {a.overload_seconds:.0f} s): {o['ok']} ok, "
                      f"statuses {o['status_counts']}, {o['unfinished']} unfinished, p99 {fmt(o['p99_ms'], '.0f')} ms; "
                      f"up and answering after: {r['alive_after']}; {memory_note(o)}")

        if a.only != "chat":
            print(f"\nembeddings: all-MiniLM-L6-v2, one sentence per request, POST /models/{{id}}/embed; no peer "
                  f"(see the docstring)")
            print_header(chat=False)
            e = embed_workload(url, f"/models/{embed_id}/embed", auth, proc.pid, a, f"{url}/metrics", embed_id)
            e["alive_after"] = alive(proc, url, f"/api/models/{embed_id}")
            result["embeddings"] = e
            o = e["overload"]
            print(f"   mlhub at 2x ({o['rate']:.0f} req/s for {a.overload_seconds:.0f} s): {o['ok']} ok, statuses "
                  f"{o['status_counts']}, {o['unfinished']} unfinished, p99 {fmt(o['p99_ms'], '.0f')} ms; up and "
                  f"answering after: {e['alive_after']}; {memory_note(o)}")
    finally:
        cleanup()
        log.close()
        llama_log.close()
        info["loadavg_end"] = os.getloadavg()[0]
        info["wall_s"] = time.monotonic() - started
        for name in ("mlhub-serve.log", "llama-server.log"):
            text = (tmp / name).read_text()[-1500:] if (tmp / name).exists() else ""
            if name == "mlhub-serve.log" and text.strip():
                print(f"\n{name} (tail):\n{text}")
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nload average {info['loadavg_end']:.2f} at the end; wall time {info['wall_s']:.0f} s")
    target = a.json
    if not target:
        probe = subprocess.run(["git", "-C", str(ROOT), "check-ignore", "-q", "bench/results/inference.json"])
        target = str(ROOT / "bench" / "results" / "inference.json") if probe.returncode == 0 else None
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(json.dumps(result, indent=1, default=str) + "\n")
        print(f"result: {target}")
    else:
        print("result (bench/results/ is not git-ignored, so printed only):")
        print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
