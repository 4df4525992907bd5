"""Load generation for bench/run_inference_bench.py: asyncio + httpx clients against an
OpenAI-style chat route (streamed, SSE) or a JSON embedding route, closed loop (N clients, each
sends its next request when the previous one ends) or open loop (requests at a fixed rate,
whatever the answers), with the server's memory sampled from /proc while the load runs.

Every function is bounded: a fixed number of requests, or a fixed arrival window plus a drain
limit; requests still running at the limit are cancelled and counted as unfinished.
"""
import asyncio
import json
import statistics
import time
from dataclasses import dataclass, field

import httpx


@dataclass
class Result:
    status: int = 0            # HTTP status; 0 = connection error or cancelled
    latency_s: float = 0.0     # request sent -> response complete
    ttft_s: float = None       # request sent -> first content token (streams)
    tokens: int = 0            # streamed content events (one token each on both servers)
    text: str = ""
    error: str = ""
    prompt: int = -1           # index of the prompt / input sent


@dataclass
class Run:
    results: list = field(default_factory=list)
    wall_s: float = 0.0
    unfinished: int = 0
    rss_max_kb: int = 0
    hwm_kb: int = 0


def pct(values, q):
    """The q-th percentile (nearest rank); None for no values."""
    if not values:
        return None
    v = sorted(values)
    return v[min(len(v) - 1, max(0, int(round(q / 100 * len(v) + 0.5)) - 1))]


def summarize(run: Run):
    ok = [r for r in run.results if r.status == 200]
    lat = [r.latency_s for r in ok]
    ttft = [r.ttft_s for r in ok if r.ttft_s is not None]
    codes = {}
    for r in run.results:
        codes[str(r.status)] = codes.get(str(r.status), 0) + 1
    tokens = sum(r.tokens for r in ok)
    return {
        "requests": len(run.results), "ok": len(ok), "status_counts": codes, "unfinished": run.unfinished,
        "wall_s": run.wall_s, "rps": len(ok) / run.wall_s if run.wall_s else 0.0,
        "output_tokens": tokens, "tokens_per_s": tokens / run.wall_s if run.wall_s else 0.0,
        "p50_ms": 1e3 * pct(lat, 50) if lat else None, "p99_ms": 1e3 * pct(lat, 99) if lat else None,
        "mean_ms": 1e3 * statistics.fmean(lat) if lat else None,
        "ttft_p50_ms": 1e3 * pct(ttft, 50) if ttft else None, "ttft_p99_ms": 1e3 * pct(ttft, 99) if ttft else None,
        "rss_max_mb": run.rss_max_kb / 1024, "vm_hwm_mb": run.hwm_kb / 1024,
        "errors": sorted({r.error for r in run.results if r.error})[:5],
    }


def proc_memory_kb(pid):
    """(VmRSS, VmHWM) of a process in kB, from /proc/PID/status; (0, 0) once it is gone."""
    rss = hwm = 0
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
                elif line.startswith("VmHWM:"):
                    hwm = int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return rss, hwm


async def _sample_memory(pid, run: Run, stop: asyncio.Event):
    while not stop.is_set():
        rss, hwm = proc_memory_kb(pid)
        run.rss_max_kb = max(run.rss_max_kb, rss)
        run.hwm_kb = max(run.hwm_kb, hwm)
        try:
            await asyncio.wait_for(stop.wait(), 0.25)
        except asyncio.TimeoutError:
            pass


# ---------------------------------------------------------------- one request

async def chat_request(client: httpx.AsyncClient, url, headers, body, index, timeout_s) -> Result:
    """One streamed chat completion: latency, time to first content, content events, text."""
    res = Result(prompt=index)
    t0 = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            async with client.stream("POST", url, headers=headers, json=body) as r:
                res.status = r.status_code
                if r.status_code != 200:
                    res.error = f"{r.status_code}: {(await r.aread())[:200].decode(errors='replace')}"
                else:
                    parts = []
                    async for line in r.aiter_lines():
                        if not line.startswith("data:"):
                            continue  # blank separators, ": ping" comments
                        data = line[5:].strip()
                        if data == "[DONE]":
                            break
                        event = json.loads(data)
                        if "error" in event:
                            res.status, res.error = 0, f"stream error: {event['error']}"[:200]
                            break
                        for choice in event.get("choices") or []:
                            piece = (choice.get("delta") or {}).get("content")
                            if piece:
                                if res.ttft_s is None:
                                    res.ttft_s = time.perf_counter() - t0
                                res.tokens += 1
                                parts.append(piece)
                    res.text = "".join(parts)
    except (httpx.HTTPError, TimeoutError, json.JSONDecodeError) as e:
        res.status, res.error = 0, f"{type(e).__name__}: {e}"[:200]
    res.latency_s = time.perf_counter() - t0
    return res


async def json_request(client: httpx.AsyncClient, url, headers, body, index, timeout_s, check=None) -> Result:
    """One JSON request (embeddings); `check` validates a 200 answer's body (raises ValueError)."""
    res = Result(prompt=index)
    t0 = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            r = await client.post(url, headers=headers, json=body)
        res.status = r.status_code
        if r.status_code == 200:
            if check:
                check(r.json())
        else:
            res.error = f"{r.status_code}: {r.text[:200]}"
    except (httpx.HTTPError, TimeoutError, ValueError) as e:
        res.status, res.error = 0, f"{type(e).__name__}: {e}"[:200]
    res.latency_s = time.perf_counter() - t0
    return res


# ---------------------------------------------------------------- load shapes

def _client(connections):
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    return httpx.AsyncClient(limits=limits, timeout=httpx.Timeout(None), trust_env=False)


async def closed_loop(make_request, concurrency, total, pid):
    """`concurrency` clients share `total` requests; each sends its next one when the last ends.
    make_request(client, i) -> coroutine of a Result for request number i."""
    run, stop = Run(), asyncio.Event()
    counter = iter(range(total))
    async with _client(concurrency) as client:
        async def worker():
            for i in counter:
                run.results.append(await make_request(client, i))
        sampler = asyncio.create_task(_sample_memory(pid, run, stop))
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        run.wall_s = time.perf_counter() - t0
        stop.set()
        await sampler
    return run


async def open_loop(make_request, rate, duration_s, drain_s, pid, max_connections=1024):
    """Requests arrive every 1/rate s for duration_s, whether or not earlier ones are done; then
    up to drain_s for the stragglers, after which they are cancelled (counted unfinished).
    Throughput is completed requests over the arrival window plus the drain actually used."""
    run, stop = Run(), asyncio.Event()
    tasks = []
    async with _client(max_connections) as client:
        sampler = asyncio.create_task(_sample_memory(pid, run, stop))
        t0 = time.perf_counter()
        n = int(rate * duration_s)
        for i in range(n):
            delay = t0 + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(make_request(client, i)))
        done, pending = await asyncio.wait(tasks, timeout=max(0.0, t0 + duration_s + drain_s - time.perf_counter()))
        for t in pending:
            t.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        run.wall_s = time.perf_counter() - t0
        run.results = [t.result() for t in done if not t.cancelled() and t.exception() is None]
        run.unfinished = len(tasks) - len(run.results)
        stop.set()
        await sampler
    return run
