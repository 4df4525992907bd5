"""Load generation for bench/run_inference_bench.py: asyncio HTTP/1.1 clients against an
OpenAI-style chat route (streamed, SSE) or a JSON embedding route, closed loop (N clients, each
sends its next request when the previous one ends) or open loop (requests at a fixed rate,
whatever the answers), with the server's memory sampled from /proc while the load runs.

Every function is bounded: a fixed number of requests, or a fixed arrival window plus a drain
limit; requests still running at the limit are cancelled and counted as unfinished.

The client is a small keep-alive HTTP/1.1 client on asyncio streams rather than httpx: under an
open loop thousands of requests wait for a connection at once, and httpx's pool walks every
waiting request on each event (quadratic), which made the client, not the server, the
bottleneck (0.7 of the 2 cores at 130 req/s). Here a waiting request costs a semaphore slot and
an idle connection is popped from a list.
"""
import asyncio
import contextlib
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit


class HttpError(Exception):
    pass


class Response:
    """A response whose body is read once, as a whole or line by line (Content-Length, chunked,
    or until the server closes)."""

    def __init__(self, reader, status, headers):
        self.reader, self.status, self.headers = reader, status, headers
        self.complete = False
        te = headers.get("transfer-encoding", "").lower()
        self.chunked = "chunked" in te
        self.length = int(headers["content-length"]) if "content-length" in headers and not self.chunked else None

    async def chunks(self):
        r = self.reader
        if self.chunked:
            while True:
                size = int((await r.readuntil(b"\r\n")).split(b";")[0], 16)
                if size == 0:
                    while (await r.readuntil(b"\r\n")) != b"\r\n":  # trailers
                        pass
                    break
                data = await r.readexactly(size)
                await r.readexactly(2)
                yield data
        elif self.length is not None:
            if self.length:
                yield await r.readexactly(self.length)
        else:
            while data := await r.read(65536):
                yield data
            self.headers["connection"] = "close"
        self.complete = True

    async def read(self):
        return b"".join([c async for c in self.chunks()])

    async def lines(self):
        buf = b""
        async for c in self.chunks():
            buf += c
            *done, buf = buf.split(b"\n")
            for line in done:
                yield line.rstrip(b"\r").decode()
        if buf:
            yield buf.decode()


class Client:
    """Keep-alive HTTP/1.1 connections to one server, at most `connections` at once."""

    def __init__(self, base_url, connections):
        u = urlsplit(base_url)
        self.host, self.port = u.hostname, u.port or 80
        self.idle = []
        self.slots = asyncio.Semaphore(connections)

    async def close(self):
        for _, w in self.idle:
            w.close()
        self.idle.clear()

    async def _send(self, conn, head, body):
        r, w = conn
        w.write(head + body)
        await w.drain()
        line = await r.readuntil(b"\r\n")
        parts = line.decode("latin-1").split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/"):
            raise HttpError(f"bad status line {line[:60]!r}")
        headers = {}
        while (line := await r.readuntil(b"\r\n")) != b"\r\n":
            k, _, v = line.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        return Response(r, int(parts[1]), headers)

    @contextlib.asynccontextmanager
    async def post(self, path, headers, payload):
        body = json.dumps(payload).encode()
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) +
                "\r\n").encode()
        async with self.slots:
            conn, res = None, None
            while self.idle and res is None:  # a kept connection the server may have closed meanwhile
                conn = self.idle.pop()
                try:
                    res = await self._send(conn, head, body)
                except (OSError, asyncio.IncompleteReadError, HttpError):
                    conn[1].close()
            if res is None:
                conn = await asyncio.open_connection(self.host, self.port)
                res = await self._send(conn, head, body)
            try:
                yield res
            finally:
                if res.complete and res.headers.get("connection", "").lower() != "close":
                    self.idle.append(conn)
                else:
                    conn[1].close()


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
    server_cpu_s: float = 0.0  # the server process's user+system CPU time during the run
    client_cpu_s: float = 0.0  # this (client) process's CPU time during the run
    server_threads: int = 0    # the server's thread count at the end of the run


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
        "server_cores": run.server_cpu_s / run.wall_s if run.wall_s else 0.0,
        "client_cores": run.client_cpu_s / run.wall_s if run.wall_s else 0.0,
        "server_threads": run.server_threads,
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


def proc_cpu_s(pid):
    """User + system CPU seconds of a process (all its threads), from /proc/PID/stat."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def proc_threads(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/task"))
    except FileNotFoundError:
        return 0


class _Usage:
    """CPU used by the server and by this client between start() and stop(run)."""
    def __init__(self, pid):
        self.pid = pid
        self.server0, self.client0 = proc_cpu_s(pid), time.process_time()

    def stop(self, run):
        run.server_cpu_s = proc_cpu_s(self.pid) - self.server0
        run.client_cpu_s = time.process_time() - self.client0
        run.server_threads = proc_threads(self.pid)


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

async def chat_request(client: Client, path, headers, body, index, timeout_s) -> Result:
    """One streamed chat completion: latency, time to first content, content events, text."""
    res = Result(prompt=index)
    t0 = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            async with client.post(path, headers, body) as r:
                res.status = r.status
                if r.status != 200:
                    res.error = f"{r.status}: {(await r.read())[:200].decode(errors='replace')}"
                else:
                    parts = []
                    async for line in r.lines():
                        if not line.startswith("data:"):
                            continue  # blank separators, ": ping" comments
                        data = line[5:].strip()
                        if data == "[DONE]":
                            continue  # the body ends right after; reading it out keeps the connection
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
    except (OSError, HttpError, asyncio.IncompleteReadError, TimeoutError, json.JSONDecodeError) as e:
        res.status, res.error = 0, f"{type(e).__name__}: {e}"[:200]
    res.latency_s = time.perf_counter() - t0
    return res


async def json_request(client: Client, path, headers, body, index, timeout_s, check=None) -> Result:
    """One JSON request (embeddings); `check` validates a 200 answer's body (raises ValueError)."""
    res = Result(prompt=index)
    t0 = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):
            async with client.post(path, headers, body) as r:
                res.status = r.status
                data = await r.read()
        if res.status == 200:
            if check:
                check(json.loads(data))
        else:
            res.error = f"{res.status}: {data[:200].decode(errors='replace')}"
    except (OSError, HttpError, asyncio.IncompleteReadError, TimeoutError, ValueError) as e:
        res.status, res.error = 0, f"{type(e).__name__}: {e}"[:200]
    res.latency_s = time.perf_counter() - t0
    return res


# ---------------------------------------------------------------- load shapes

@contextlib.asynccontextmanager
async def _client(base_url, connections):
    client = Client(base_url, connections)
    try:
        yield client
    finally:
        await client.close()


async def closed_loop(base_url, make_request, concurrency, total, pid):
    """`concurrency` clients share `total` requests; each sends its next one when the last ends.
    make_request(client, i) -> coroutine of a Result for request number i."""
    run, stop = Run(), asyncio.Event()
    counter = iter(range(total))
    async with _client(base_url, concurrency) as client:
        async def worker():
            for i in counter:
                run.results.append(await make_request(client, i))
        sampler = asyncio.create_task(_sample_memory(pid, run, stop))
        usage = _Usage(pid)
        t0 = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        run.wall_s = time.perf_counter() - t0
        usage.stop(run)
        stop.set()
        await sampler
    return run


async def open_loop(base_url, make_request, rate, duration_s, drain_s, pid, max_connections=1024):
    """Requests arrive every 1/rate s for duration_s, whether or not earlier ones are done; then
    up to drain_s for the stragglers, after which they are cancelled (counted unfinished).
    Throughput is completed requests over the arrival window plus the drain actually used."""
    run, stop = Run(), asyncio.Event()
    tasks = []
    async with _client(base_url, max_connections) as client:
        sampler = asyncio.create_task(_sample_memory(pid, run, stop))
        usage = _Usage(pid)
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
        usage.stop(run)
        run.results = [t.result() for t in done if not t.cancelled() and t.exception() is None]
        run.unfinished = len(tasks) - len(run.results)
        stop.set()
        await sampler
    return run
