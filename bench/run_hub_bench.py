"""Hub benchmark: mlhub serve against nginx (the practical limit of serving bytes over HTTP) on
the same machine, files and loopback.

1. Download of a large file (default 1 GB; an LFS object in mlhub, a static file in nginx) with
   curl to /dev/null: median GB/s of alternating runs, ratio mlhub / nginx.
2. Small requests under concurrency: model_info (GET /api/models/{id}, JSON built from git and
   SQLite) and resolve GET of config.json with wrk; resolve HEAD with ApacheBench (wrk cannot
   measure HEAD: its parser waits for a body). nginx serves a static file of the same size as
   the ceiling. Requests/s, latency, ratios.

Usage: python bench/run_hub_bench.py [BUILD] [--size-mb 1024] [--duration 10] [--connections 64]
Everything runs on loopback, bounded in time, and servers are killed at exit.
"""
import argparse
import atexit
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PROCS = []


def cleanup():
    for p in PROCS:
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(cleanup)


def start_mlhub(binary, data):
    proc = subprocess.Popen([str(binary), "serve", "--data", str(data), "--port", "0", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    PROCS.append(proc)
    for _ in range(50):
        line = proc.stdout.readline().decode()
        m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if m:
            return m.group(1)
    raise RuntimeError("mlhub serve did not start")


def start_nginx(root, port, tmp):
    conf = tmp / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read the files (root's home is 0700)
    conf.write_text(f"""{user}worker_processes 2;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  types {{ application/json json; }}
  default_type application/octet-stream;
  server {{ listen 127.0.0.1:{port}; root {root}; }}
}}
""")
    proc = subprocess.Popen(["nginx", "-p", str(tmp), "-c", str(conf)], stderr=subprocess.DEVNULL)
    PROCS.append(proc)
    for _ in range(50):
        try:
            requests.get(f"http://127.0.0.1:{port}/config.json", timeout=1)
            return f"http://127.0.0.1:{port}"
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("nginx did not start")


def free_port():
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_big_file(path, size):
    if path.exists() and path.stat().st_size == size:
        return
    chunk = os.urandom(1 << 20)
    with open(path, "wb") as f:
        for i in range(size >> 20):
            f.write(hashlib.sha256(chunk + i.to_bytes(8, "little")).digest() * 32768)  # 1 MiB, not all equal
        f.write(chunk[: size % (1 << 20)])


def upload_lfs(url, token, repo, path):
    """The LFS path as clients do it: batch, signed PUT, NDJSON commit with an lfsFile."""
    auth = {"authorization": f"Bearer {token}"}
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 22):
            h.update(block)
    oid, size = h.hexdigest(), path.stat().st_size
    r = requests.post(f"{url}/{repo}.git/info/lfs/objects/batch", headers=auth,
                      json={"operation": "upload", "transfers": ["basic"], "objects": [{"oid": oid, "size": size}],
                            "hash_algo": "sha256", "ref": {"name": "main"}})
    r.raise_for_status()
    obj = r.json()["objects"][0]
    start = time.perf_counter()
    if "actions" in obj:  # curl streams the body the way a real client does (Python requests is the bottleneck)
        out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-T", str(path),
                              obj["actions"]["upload"]["href"]], capture_output=True, text=True, timeout=600)
        assert out.stdout == "200", out.stdout
    put_s = time.perf_counter() - start
    lines = [{"key": "header", "value": {"summary": "bench files"}},
             {"key": "lfsFile", "value": {"path": path.name, "algo": "sha256", "oid": oid, "size": size}},
             {"key": "file", "value": {"path": "config.json", "content": "eyJhIjogMX0K", "encoding": "base64"}}]
    requests.post(f"{url}/api/models/{repo}/commit/main", headers={**auth, "content-type": "application/x-ndjson"},
                  data="\n".join(json.dumps(x) for x in lines) + "\n").raise_for_status()
    return put_s


def curl_speed(url):
    out = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}", url],
                         capture_output=True, text=True, timeout=600).stdout.split()
    assert out[0] == "200", out
    return int(out[1]) / float(out[2]) / 1e9, int(out[1])


def wrk(url, duration, connections, threads, script=None):
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if script:
        cmd[1:1] = ["-s", str(script)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"\s+(50|99)%\s+([\d.]+\w+)", out))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)", out)
    return {"rps": rps, "p50": lat.get("50"), "p99": lat.get("99"), "errors": errors.group(0) if errors else ""}


def ab_head(url, duration, connections):
    cmd = ["ab", "-i", "-k", "-q", "-t", str(duration), "-n", "10000000", "-c", str(connections), url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60).stdout
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
    pct = dict(re.findall(r"\s+(50|99)%\s+(\d+)", out))
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    non2xx = re.search(r"Non-2xx responses:\s+(\d+)", out)
    return {"rps": rps, "p50": pct.get("50", "?") + "ms", "p99": pct.get("99", "?") + "ms",
            "errors": f"failed {failed}" + (f", non-2xx {non2xx.group(1)}" if non2xx else "") if failed or non2xx else ""}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=str(ROOT / "build"))
    ap.add_argument("--size-mb", type=int, default=1024)
    ap.add_argument("--duration", type=int, default=10)
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workdir", default=str(Path.home() / ".cache/mlhub/bench/hub"))
    args = ap.parse_args()
    binary = Path(args.build) / "mlhub"
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    files = work / "files"
    files.mkdir(exist_ok=True)
    big = files / f"big-{args.size_mb}mb.bin"
    make_big_file(big, args.size_mb << 20)
    (files / "config.json").write_text('{"a": 1}\n')
    tmp = Path(tempfile.mkdtemp(prefix="mlhub-bench-"))
    try:
        url = start_mlhub(binary, tmp / "data")
        token = (tmp / "data" / "admin.token").read_text().strip()
        repo = "admin/bench"
        requests.post(f"{url}/api/repos/create", headers={"authorization": f"Bearer {token}"},
                      json={"name": "bench", "organization": None}).raise_for_status()
        put_s = upload_lfs(url, token, repo, big)
        nginx = start_nginx(files, free_port(), tmp)
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
              f"mlhub {binary}; nginx {subprocess.run(['nginx', '-v'], capture_output=True, text=True).stderr.strip()}")
        print(f"upload of {args.size_mb} MB through the LFS batch API (signed PUT, sha256 verified, fsync): "
              f"{big.stat().st_size / put_s / 1e9:.2f} GB/s")

        mlhub_url = f"{url}/{repo}/resolve/main/{big.name}"
        nginx_url = f"{nginx}/{big.name}"
        speeds = {"mlhub": [], "nginx": []}
        for _ in range(args.runs):
            for name, u in (("nginx", nginx_url), ("mlhub", mlhub_url)):
                gbps, n = curl_speed(u)
                assert n == big.stat().st_size
                speeds[name].append(gbps)
        med = {k: statistics.median(v) for k, v in speeds.items()}
        print(f"\n1. download of {args.size_mb} MB with curl (median of {args.runs}, alternating)")
        print(f"   nginx (static file):        {med['nginx']:.2f} GB/s")
        print(f"   mlhub (/resolve, LFS blob): {med['mlhub']:.2f} GB/s")
        print(f"   ratio mlhub / nginx:        {med['mlhub'] / med['nginx']:.2f}")

        print(f"\n2. small requests, {args.connections} connections, {args.threads} client threads, "
              f"{args.duration} s each (client and servers share the {os.cpu_count()} cores)")
        rows = [
            ("model_info GET /api/models/{id}", "mlhub", wrk(f"{url}/api/models/{repo}", args.duration, args.connections, args.threads)),
            ("resolve GET config.json", "mlhub", wrk(f"{url}/{repo}/resolve/main/config.json", args.duration, args.connections, args.threads)),
            ("static GET config.json", "nginx", wrk(f"{nginx}/config.json", args.duration, args.connections, args.threads)),
            ("resolve HEAD config.json (ab)", "mlhub", ab_head(f"{url}/{repo}/resolve/main/config.json", args.duration, args.connections)),
            ("static HEAD config.json (ab)", "nginx", ab_head(f"{nginx}/config.json", args.duration, args.connections)),
        ]
        for what, who, r in rows:
            print(f"   {who:5s} {what:34s} {r['rps']:10.0f} req/s   p50 {r['p50']:>8s}  p99 {r['p99']:>8s}  {r['errors']}")
        nginx_get, nginx_head = rows[2][2]["rps"], rows[4][2]["rps"]
        print(f"   ratio mlhub/nginx: model_info {rows[0][2]['rps'] / nginx_get:.2f}, resolve GET {rows[1][2]['rps'] / nginx_get:.2f}, "
              f"resolve HEAD {rows[3][2]['rps'] / nginx_head:.2f}")
    finally:
        cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
