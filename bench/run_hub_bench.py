#!/usr/bin/env python3
"""Hub benchmark: `mlhub serve` side by side with nginx (the practical ceiling for serving bytes
over HTTP) on the same machine, the same files and loopback.

  run_hub_bench.py [--size-mb 1024] [--duration 10] [--connections 64] [--threads 2]
                   [--runs 7] [--upload-runs 3] [--hf-runs 3] [--rounds 3] [--workdir DIR] [--json PATH]

The binary is $MLHUB_BIN (default build/mlhub).

0. Upload: a random file of --size-mb (kept in --workdir and reused while its size matches) goes
   into a fresh data dir as an LFS file the way huggingface_hub does it (preupload, LFS batch,
   PUT of the raw bytes to the signed href, NDJSON commit with an lfsFile line), timed per phase,
   --upload-runs times (each into a fresh data dir), alternating with a local copy of the file
   with fsync: the least the server has to do with the bytes (nginx takes no uploads). For scale
   also sha256 of the file in Python (OpenSSL); the server hashes while it receives.
1. Download of the big file with curl to /dev/null: nginx (static file) and mlhub
   (/resolve/main/<file>, the LFS blob), --runs alternating runs each, median GB/s, ratio
   mlhub / nginx. Extra, mlhub only: huggingface_hub.hf_hub_download into a fresh cache.
2. Small requests with wrk (--threads threads, --connections connections, --duration s, keep-alive):
   mlhub model_info (GET /api/models/{id}), mlhub resolve GET config.json, nginx GET of the same
   config.json as a static file. HEAD: mlhub resolve HEAD and nginx HEAD, with wrk if this wrk can
   measure HEAD (probed; wrk 4.1 cannot), else with ApacheBench without keep-alive (one connection
   per request, both sides alike). --rounds alternating rounds, median req/s and latencies.
Everything is on loopback; client and servers share the machine's cores. Servers are killed at
exit. All figures are labelled mlhub or nginx; ratios are mlhub / nginx (> 1: mlhub faster).
The JSON result goes to --json, or bench/results/hub.json when git ignores that path, else stdout.
"""
import argparse
import atexit
import hashlib
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PROCS = []


def cleanup():
    """SIGTERM first: nginx's master then stops its workers (SIGKILL would orphan them)."""
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


def run(cmd, timeout, check=True, env=None):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if check and out.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, cmd))}: exit {out.returncode}\n{out.stdout}\n{out.stderr}")
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine():
    model = "?"
    for line in run(["lscpu"], 10, check=False).stdout.splitlines():
        if line.startswith("Model name:"):
            model = line.split(":", 1)[1].strip()
    return {"nproc": int(run(["nproc"], 10).stdout), "cpu": model, "kernel": platform.release(),
            "loadavg_start": os.getloadavg()[0]}


# ---------------------------------------------------------------- servers

def start_mlhub(binary, data, log):
    proc = subprocess.Popen([str(binary), "serve", "--data", str(data), "--host", "127.0.0.1", "--port", "0",
                             "--quiet"], stdout=subprocess.PIPE, stderr=log, text=True)
    PROCS.append(proc)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if m:
            return proc, m.group(1)
    raise RuntimeError(f"mlhub serve did not start (exit {proc.poll()}); see {log.name}")


def start_nginx(root, tmp):
    port = free_port()
    workers = os.cpu_count() or 1
    conf = (HERE / "hub" / "nginx.conf.in").read_text()
    for k, v in {"@WORKERS@": workers, "@TMP@": tmp, "@PORT@": port, "@ROOT@": root}.items():
        conf = conf.replace(k, str(v))
    (tmp / "nginx.conf").write_text(conf)
    proc = subprocess.Popen(["nginx", "-p", str(tmp), "-c", str(tmp / "nginx.conf")],
                            stdout=subprocess.DEVNULL, stderr=open(tmp / "nginx-stderr.log", "w"))
    PROCS.append(proc)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            requests.head(f"{url}/config.json", timeout=1)
            return proc, url, workers
        except requests.ConnectionError:
            if proc.poll() is not None:
                break
            time.sleep(0.1)
    raise RuntimeError(f"nginx did not start; see {tmp}/nginx-error.log and nginx-stderr.log")


# ---------------------------------------------------------------- files and upload

def make_big_file(path, size):
    if path.exists() and path.stat().st_size == size:
        return False
    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as f:
        left = size
        while left:
            n = min(left, 1 << 24)
            f.write(os.urandom(n))
            left -= n
    tmp.rename(path)
    return True


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    return h.hexdigest()


def copy_fsync(src, dst):
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        while block := fi.read(1 << 22):
            fo.write(block)
        fo.flush()
        os.fsync(fo.fileno())


def upload_lfs(url, token, repo, path, oid):
    """preupload -> LFS batch -> PUT to the signed href -> NDJSON commit, as huggingface_hub does."""
    auth = {"authorization": f"Bearer {token}"}
    size = path.stat().st_size
    times = {}
    with open(path, "rb") as f:
        sample = f.read(512)
    t = time.perf_counter()
    r = requests.post(f"{url}/api/models/{repo}/preupload/main", headers=auth, timeout=60,
                      json={"files": [{"path": path.name, "size": size,
                                       "sample": __import__("base64").b64encode(sample).decode()}]})
    r.raise_for_status()
    mode = r.json()["files"][0]["uploadMode"]
    if mode != "lfs":
        raise RuntimeError(f"preupload of a {size}-byte random file answered uploadMode={mode!r}, expected 'lfs'")
    times["preupload_s"] = time.perf_counter() - t
    t = time.perf_counter()
    r = requests.post(f"{url}/{repo}.git/info/lfs/objects/batch", timeout=60,
                      headers={**auth, "accept": "application/vnd.git-lfs+json",
                               "content-type": "application/vnd.git-lfs+json"},
                      data=json.dumps({"operation": "upload", "transfers": ["basic", "multipart"],
                                       "objects": [{"oid": oid, "size": size}], "hash_algo": "sha256",
                                       "ref": {"name": "main"}}))
    r.raise_for_status()
    obj = r.json()["objects"][0]
    times["batch_s"] = time.perf_counter() - t
    if "actions" not in obj:
        raise RuntimeError(f"LFS batch says a fresh data dir already has {oid}: {obj}")
    action = obj["actions"]["upload"]
    t = time.perf_counter()
    with open(path, "rb") as f:  # streamed from the file, no headers (as Python's client does)
        requests.put(action["href"], data=f, headers=action.get("header") or {}, timeout=600).raise_for_status()
    times["put_s"] = time.perf_counter() - t
    if "verify" in obj["actions"]:
        v = obj["actions"]["verify"]
        requests.post(v["href"], headers={**auth, **(v.get("header") or {})}, json={"oid": oid, "size": size},
                      timeout=60).raise_for_status()
    t = time.perf_counter()
    lines = [{"key": "header", "value": {"summary": "bench files"}},
             {"key": "lfsFile", "value": {"path": path.name, "algo": "sha256", "oid": oid, "size": size}},
             {"key": "file", "value": {"path": "config.json", "content": "eyJhIjogMX0K", "encoding": "base64"}}]
    r = requests.post(f"{url}/api/models/{repo}/commit/main", timeout=60,
                      headers={**auth, "content-type": "application/x-ndjson"},
                      data="\n".join(json.dumps(x) for x in lines) + "\n")
    r.raise_for_status()
    times["commit_s"] = time.perf_counter() - t
    times["total_s"] = sum(times.values())
    return times, r.json()["commitOid"]


def check_resolve(url, repo, name, size, oid):
    """What the download measurement relies on; a deviation is printed (it is a server bug)."""
    problems = []
    r = requests.head(f"{url}/{repo}/resolve/main/{name}", timeout=10)
    h = r.headers
    if r.status_code != 200:
        problems.append(f"HEAD resolve: {r.status_code}")
    if h.get("content-length") != str(size) or h.get("x-linked-size") != str(size):
        problems.append(f"HEAD resolve sizes: Content-Length {h.get('content-length')}, "
                        f"X-Linked-Size {h.get('x-linked-size')}, expected {size}")
    if (h.get("x-linked-etag") or "").strip('"') != oid:
        problems.append(f"HEAD resolve X-Linked-Etag {h.get('x-linked-etag')}, expected the sha256 {oid}")
    r = requests.get(f"{url}/{repo}/resolve/main/{name}", headers={"range": "bytes=100-199"}, timeout=10)
    if r.status_code != 206 or len(r.content) != 100 or r.headers.get("content-range") != f"bytes 100-199/{size}":
        problems.append(f"Range bytes=100-199: {r.status_code}, {len(r.content)} bytes, "
                        f"Content-Range {r.headers.get('content-range')}")
    return problems


def http10_keepalive(url, path):
    """HTTP/1.0 request with Connection: keep-alive (ApacheBench -k does this). A server that keeps
    the connection must say `Connection: keep-alive`, or the client waits for a close."""
    host, port = url.split("//")[1].split(":")
    with socket.create_connection((host, int(port)), timeout=3) as s:
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\nConnection: keep-alive\r\n\r\n".encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        head = data.split(b"\r\n\r\n")[0].decode("latin-1").lower()
        announced = re.search(r"^connection:\s*keep-alive", head, re.M) is not None
        if announced:
            return "ok (Connection: keep-alive)"
        m = re.search(r"^content-length:\s*(\d+)", head, re.M)
        body = len(data.split(b"\r\n\r\n", 1)[1])
        s.settimeout(2)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return "ok (closes the connection)"
                body += len(chunk)
        except socket.timeout:
            return (f"BUG: no 'Connection: keep-alive' in the answer but the connection stays open "
                    f"(Content-Length {m.group(1) if m else None}, {body} body bytes read): "
                    f"HTTP/1.0 keep-alive clients such as ab -k hang")


# ---------------------------------------------------------------- measurements

def curl_download(url, size):
    out = run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{speed_download} %{time_total}",
               url], 600).stdout.split()
    code, got, speed, total = out[0], int(out[1]), float(out[2]), float(out[3])
    if code != "200" or got != size:
        raise RuntimeError(f"curl {url}: HTTP {code}, {got} bytes, expected 200 and {size}")
    return {"gbps": speed / 1e9, "seconds": total}


def hf_download(endpoint, token, repo, name, tmp, verify):
    cache = tmp / "hf-cache"
    env = dict(os.environ, HF_ENDPOINT=endpoint, HF_TOKEN=token, HF_HUB_DISABLE_XET="1",
               HF_HUB_DISABLE_TELEMETRY="1", HF_HUB_DISABLE_PROGRESS_BARS="1", HF_HUB_OFFLINE="0")
    cmd = [sys.executable, str(HERE / "hub" / "hf_download.py"), repo, name, str(cache)] + (["--sha256"] if verify else [])
    try:
        out = run(cmd, 600, env=env)
        return json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def to_ms(s):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", s)
    if not m:
        return None
    return float(m.group(1)) * {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}[m.group(2)]


def wrk(url, a, script=None, duration=None, connections=None, threads=None):
    duration = duration or a.duration
    cmd = ["wrk", f"-t{threads or a.threads}", f"-c{connections or a.connections}", f"-d{duration}s",
           "--latency", "--timeout", "5s"]
    if script:
        cmd += ["-s", str(script)]
    out = run(cmd + [url], duration + 60).stdout
    n = int(re.search(r"(\d+) requests in", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
    errors = []
    if m := re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        errors.append(f"non-2xx/3xx {m.group(1)}")
    if m := re.search(r"Socket errors: (.*)", out):
        errors.append(f"socket errors: {m.group(1)}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"tool": "wrk", "rps": rps, "requests": n, "p50_ms": to_ms(lat.get("50", "")),
            "p99_ms": to_ms(lat.get("99", "")), "errors": "; ".join(errors)}


def ab_head(url, a):
    cmd = ["ab", "-i", "-q", "-s", "10", "-t", str(a.duration), "-n", "100000000", "-c", str(a.connections), url]
    res = run(cmd, a.duration + 60, check=False)
    out = res.stdout + res.stderr
    m = re.search(r"Requests per second:\s+([\d.]+)", out)
    if not m:
        raise RuntimeError(f"ab failed: {' '.join(cmd)}\n{out[-2000:]}")
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\d+)", out, re.M))
    errors = []
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    if failed:
        detail = re.search(r"\(Connect: .*?\)", out)
        errors.append(f"failed {failed}" + (f" {detail.group(0)}" if detail else ""))
    if m2 := re.search(r"Non-2xx responses:\s+(\d+)", out):
        errors.append(f"non-2xx {m2.group(1)}")
    return {"tool": "ab (no keep-alive)", "rps": float(m.group(1)),
            "requests": int(re.search(r"Complete requests:\s+(\d+)", out).group(1)),
            "p50_ms": float(pct["50"]) if "50" in pct else None, "p99_ms": float(pct["99"]) if "99" in pct else None,
            "errors": "; ".join(errors)}


def wrk_can_head(url):
    """wrk 4.1 waits for a body after a HEAD answer with Content-Length and completes nothing."""
    try:
        r = wrk(url, None, script=HERE / "hub" / "head.lua", duration=2, connections=1, threads=1)
        return r["requests"] > 0
    except (RuntimeError, subprocess.TimeoutExpired):
        return False


def server_pids(proc):
    """The process and its children (nginx's workers)."""
    pids = [proc.pid]
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if int(open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1]) == proc.pid:
                    pids.append(int(d))
            except (OSError, IndexError, ValueError):
                pass
    return pids


def cpu_seconds(pids):
    """utime + stime of the processes (all their threads), in seconds."""
    total = 0
    for pid in pids:
        try:
            fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def measured(proc, fn):
    """fn()'s result plus the server's CPU time per request (immune to other load on the machine)."""
    pids = server_pids(proc)
    before = cpu_seconds(pids)
    r = fn()
    r["server_cpu_us_per_req"] = (cpu_seconds(pids) - before) / max(r["requests"], 1) * 1e6
    return r


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


# ---------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--duration", type=int, default=10, help="seconds per wrk/ab run")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2, help="wrk client threads")
    ap.add_argument("--runs", type=int, default=7, help="curl downloads per server")
    ap.add_argument("--upload-runs", type=int, default=3, help="uploads (each into a fresh data dir)")
    ap.add_argument("--hf-runs", type=int, default=3, help="hf_hub_download runs (0: skip)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds of the small-request runs")
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "mlhub-hub-bench"),
                    help="where the big file is kept between runs")
    ap.add_argument("--json", help="write the result here")
    a = ap.parse_args()
    binary = Path(os.environ.get("MLHUB_BIN", ROOT / "build" / "mlhub")).resolve()
    if not binary.exists():
        sys.exit(f"no mlhub binary at {binary} (set MLHUB_BIN)")
    started = time.monotonic()
    info = machine()
    st = binary.stat()
    info["mlhub_bin"] = f"{binary} ({time.strftime('%Y-%m-%d %H:%M', time.gmtime(st.st_mtime))} UTC, "\
                        f"sha256 {sha256_file(binary)[:12]})"
    info["nginx"] = run(["nginx", "-v"], 10).stderr.strip()
    info["wrk"] = run(["wrk", "--version"], 10, check=False).stdout.splitlines()[0].split(" Copyright")[0]
    result = {"machine": info, "args": vars(a)}

    files = Path(a.workdir) / "files"
    files.mkdir(parents=True, exist_ok=True)
    size = a.size_mb << 20
    big = files / f"random-{a.size_mb}mb.bin"
    t = time.perf_counter()
    created = make_big_file(big, size)
    print(f"file: {big} ({size} bytes, {'written in %.1f s' % (time.perf_counter() - t) if created else 'reused'})")
    (files / "config.json").write_text('{"a": 1}\n')
    tmp = Path(tempfile.mkdtemp(prefix="mlhub-hub-bench-"))
    log = open(tmp / "mlhub-serve.log", "w")
    try:
        # ---- 0. upload
        t = time.perf_counter()
        oid = sha256_file(big)
        sha_s = time.perf_counter() - t
        gb = size / 1e9
        ups, copies, server = [], [], None
        repo = "admin/bench"
        for k in range(a.upload_runs):  # alternating: copy + fsync, then an upload into a fresh data dir
            t = time.perf_counter()
            copy_fsync(big, tmp / "copy.bin")
            copies.append(time.perf_counter() - t)
            (tmp / "copy.bin").unlink()
            if server:
                server.terminate()
                server.wait(timeout=10)
                shutil.rmtree(tmp / f"data{k - 1}")
            server, url = start_mlhub(binary, tmp / f"data{k}", log)
            token = (tmp / f"data{k}" / "admin.token").read_text().strip()
            requests.post(f"{url}/api/repos/create", headers={"authorization": f"Bearer {token}"}, timeout=30,
                          json={"name": "bench", "organization": None, "type": "model"}).raise_for_status()
            ups.append(upload_lfs(url, token, repo, big, oid)[0])
        up = {k: med([u[k] for u in ups]) for k in ups[0]}
        copy_s = med(copies)
        result["upload"] = {"runs": ups, "median": up, "gbps_total": gb / up["total_s"], "gbps_put": gb / up["put_s"],
                            "client_sha256_gbps": gb / sha_s, "copy_fsync_runs_s": copies,
                            "copy_fsync_gbps": gb / copy_s}
        problems = check_resolve(url, repo, big.name, size, oid)
        ka = http10_keepalive(url, f"/{repo}/resolve/main/config.json")
        nginx, nginx_url, workers = start_nginx(files, tmp)
        ka_nginx = http10_keepalive(nginx_url, "/config.json")
        info["nginx_workers"] = workers
        result["conformance"] = {"resolve": problems, "http10_keepalive_mlhub": ka, "http10_keepalive_nginx": ka_nginx}

        print(f"machine: {info['nproc']} cores, {info['cpu']}, kernel {info['kernel']}, "
              f"load average {info['loadavg_start']:.2f} at start")
        print(f"mlhub: {info['mlhub_bin']}\nnginx: {info['nginx']}, {workers} workers; {info['wrk']}")
        print(f"\n0. upload of {a.size_mb} MiB into mlhub as an LFS file (preupload, batch, PUT, commit; "
              f"median of {a.upload_runs}, each into a fresh data dir)")
        print(f"   mlhub  upload, all four requests   {result['upload']['gbps_total']:6.2f} GB/s   "
              f"runs {' '.join('%.2f' % (gb / u['total_s']) for u in ups)}  (PUT {up['put_s']:.2f} s, "
              f"commit {up['commit_s'] * 1e3:.0f} ms)")
        print(f"   floor: local copy + fsync          {gb / copy_s:6.2f} GB/s   runs {' '.join('%.2f' % (gb / c) for c in copies)}")
        print(f"   ratio mlhub upload / copy+fsync    {copy_s / up['total_s']:6.2f}")
        print(f"   for scale: sha256 in Python (OpenSSL, one core) {gb / sha_s:.2f} GB/s; the server hashes while it writes")
        for p in problems:
            print(f"   SERVER BUG: {p}")
        print(f"   HTTP/1.0 keep-alive: mlhub {ka}; nginx {ka_nginx}")

        # ---- 1. download
        mlhub_big = f"{url}/{repo}/resolve/main/{big.name}"
        nginx_big = f"{nginx_url}/{big.name}"
        curl_download(mlhub_big, size), curl_download(nginx_big, size)  # warm both page caches
        dl = {"nginx": [], "mlhub": []}
        for _ in range(a.runs):
            dl["nginx"].append(curl_download(nginx_big, size))
            dl["mlhub"].append(curl_download(mlhub_big, size))
        hf = []
        for i in range(a.hf_runs):
            hf.append(hf_download(url, token, repo, big.name, tmp, verify=(i == 0)))
            if i == 0 and hf[0].get("sha256") != oid:
                print(f"   SERVER BUG: hf_hub_download content sha256 {hf[0].get('sha256')}, expected {oid}")
        d = {k: med([r["gbps"] for r in v]) for k, v in dl.items()}
        result["download"] = {"curl_runs": dl, "nginx_gbps": d["nginx"], "mlhub_gbps": d["mlhub"],
                              "ratio_mlhub_nginx": d["mlhub"] / d["nginx"],
                              "hf_hub_download_runs": hf,
                              "hf_hub_download_gbps": med([gb / r["seconds"] for r in hf]) if hf else None}
        print(f"\n1. download of {a.size_mb} MiB with curl -o /dev/null (median of {a.runs} alternating runs, warm page cache)")
        print(f"   nginx  static file             {d['nginx']:6.2f} GB/s   runs {' '.join('%.2f' % r['gbps'] for r in dl['nginx'])}")
        print(f"   mlhub  /resolve/main (LFS)     {d['mlhub']:6.2f} GB/s   runs {' '.join('%.2f' % r['gbps'] for r in dl['mlhub'])}")
        print(f"   ratio mlhub / nginx            {d['mlhub'] / d['nginx']:6.2f}")
        if hf:
            print(f"   extra, mlhub only: huggingface_hub hf_hub_download into a fresh cache (writes the file): "
                  f"{result['download']['hf_hub_download_gbps']:.2f} GB/s (median of {len(hf)}; "
                  f"sha256 {'verified' if hf[0].get('sha256') == oid else 'WRONG'})")

        # ---- 2. small requests
        head_tool = "wrk" if wrk_can_head(f"{nginx_url}/config.json") else "ab"
        mlhub_config = f"{url}/{repo}/resolve/main/config.json"
        head = HERE / "hub" / "head.lua"
        targets = [
            ("mlhub", "model_info GET /api/models/{id}", server, lambda: wrk(f"{url}/api/models/{repo}", a)),
            ("mlhub", "resolve GET config.json", server, lambda: wrk(mlhub_config, a)),
            ("nginx", "static GET config.json", nginx, lambda: wrk(f"{nginx_url}/config.json", a)),
        ]
        if head_tool == "wrk":
            targets += [("mlhub", "resolve HEAD config.json", server, lambda: wrk(mlhub_config, a, script=head)),
                        ("nginx", "static HEAD config.json", nginx, lambda: wrk(f"{nginx_url}/config.json", a, script=head))]
        else:
            targets += [("mlhub", "resolve HEAD config.json", server, lambda: ab_head(mlhub_config, a)),
                        ("nginx", "static HEAD config.json", nginx, lambda: ab_head(f"{nginx_url}/config.json", a))]
        one = max(2, a.duration // 2)  # one connection: the service time of a single request
        targets += [
            ("mlhub", "model_info GET, 1 connection", server,
             lambda: wrk(f"{url}/api/models/{repo}", a, duration=one, connections=1, threads=1)),
            ("mlhub", "resolve GET, 1 connection", server, lambda: wrk(mlhub_config, a, duration=one, connections=1, threads=1)),
            ("nginx", "static GET, 1 connection", nginx,
             lambda: wrk(f"{nginx_url}/config.json", a, duration=one, connections=1, threads=1)),
        ]
        runs = {(who, what): [] for who, what, _, _ in targets}
        for rnd in range(a.rounds):
            for who, what, proc, fn in targets:
                if "1 connection" in what and rnd > 0:
                    continue
                runs[(who, what)].append(measured(proc, fn))
        rows = {}
        for (who, what), rs in runs.items():
            rows[f"{who} {what}"] = {"who": who, "what": what, "tool": rs[0]["tool"],
                                     "rps": med([r["rps"] for r in rs]), "p50_ms": med([r["p50_ms"] for r in rs]),
                                     "p99_ms": med([r["p99_ms"] for r in rs]),
                                     "server_cpu_us_per_req": med([r["server_cpu_us_per_req"] for r in rs]),
                                     "errors": [r["errors"] for r in rs if r["errors"]], "runs": rs}
        ng, nh = rows["nginx static GET config.json"]["rps"], rows["nginx static HEAD config.json"]["rps"]
        ratios = {"model_info / nginx GET": rows["mlhub model_info GET /api/models/{id}"]["rps"] / ng,
                  "resolve GET / nginx GET": rows["mlhub resolve GET config.json"]["rps"] / ng,
                  "resolve HEAD / nginx HEAD": rows["mlhub resolve HEAD config.json"]["rps"] / nh}
        result["small_requests"] = {"rows": rows, "ratios_mlhub_nginx": ratios, "head_tool": head_tool}
        print(f"\n2. small requests: {a.connections} connections, {a.duration} s per run, median of {a.rounds} "
              f"alternating rounds; wrk -t{a.threads} with keep-alive"
              + ("" if head_tool == "wrk" else
                 f"; HEAD with ab -c{a.connections} without keep-alive (this wrk cannot measure HEAD)"))
        print(f"   {'':5s} {'request':34s} {'tool':18s} {'req/s':>9s} {'p50 ms':>8s} {'p99 ms':>8s} "
              f"{'server CPU':>11s}  errors")
        for k, r in rows.items():
            print(f"   {r['who']:5s} {r['what']:34s} {r['tool']:18s} {r['rps']:9.0f} {r['p50_ms'] or 0:8.2f} "
                  f"{r['p99_ms'] or 0:8.2f} {r['server_cpu_us_per_req']:8.0f} us  {'; '.join(r['errors']) or 'none'}")
        print("   ratios mlhub / nginx: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()))
        print("   (server CPU: user+system time of the server's processes per request, all threads; one-connection "
              "rows run once)")
    finally:
        cleanup()
        log.close()
        info["loadavg_end"] = os.getloadavg()[0]
        info["wall_s"] = time.monotonic() - started
        serve_log = (tmp / "mlhub-serve.log").read_text()[-2000:] if (tmp / "mlhub-serve.log").exists() else ""
        if serve_log.strip():
            print(f"\nmlhub serve stderr (tail):\n{serve_log}")
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nload average {info['loadavg_end']:.2f} at the end (counts the benchmark's own server threads); "
          f"wall time {info['wall_s']:.0f} s")
    target = a.json
    if not target:
        probe = run(["git", "-C", str(ROOT), "check-ignore", "-q", "bench/results/hub.json"], 10, check=False)
        target = str(ROOT / "bench" / "results" / "hub.json") if probe.returncode == 0 else None
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(json.dumps(result, indent=1) + "\n")
        print(f"result: {target}")
    else:
        print("result (bench/results/ is not git-ignored, so printed only):")
        print(json.dumps(result))


if __name__ == "__main__":
    main()
