"""Crash test: the server is killed with SIGKILL at random moments while six clients upload
concurrently (regular files inside NDJSON commits, and LFS objects through the batch API), then
restarted on the same data folder. Afterwards every acknowledged commit is there with its exact
bytes, nothing else is (except commits whose request was cut off by the kill), every repo passes
`git fsck --strict`, and no temp or lock file is left. CRASH_SEED replays a run."""
import hashlib
import json
import os
import random
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from conftest import Hub

KILLS = 6
UPLOADERS = 6


class Cluster:
    """The server process and its current URL, swapped on every restart."""

    def __init__(self, data: Path):
        self.data = data
        self.lock = threading.Lock()
        self.hub = Hub(data)
        self.generation = 0

    def url(self):
        with self.lock:
            return self.hub.url, self.generation

    def crash_and_restart(self):
        with self.lock:
            self.hub.proc.kill()
            self.hub.proc.wait(timeout=10)
            self.hub.log.close()
            self.hub = Hub(self.data)
            self.generation += 1


def lfs_upload(client, url, token, repo, data):
    oid = hashlib.sha256(data).hexdigest()
    r = client.post(f"{url}/{repo}.git/info/lfs/objects/batch", headers={"authorization": f"Bearer {token}"},
                    content=json.dumps({"operation": "upload", "transfers": ["basic"], "hash_algo": "sha256",
                                        "objects": [{"oid": oid, "size": len(data)}], "ref": {"name": "main"}}))
    r.raise_for_status()
    obj = r.json()["objects"][0]
    if "actions" in obj:
        client.put(obj["actions"]["upload"]["href"], content=data).raise_for_status()
    return oid


def uploader(cluster, token, repo, branch, index, rng, acked, cut_off, stop):
    n = 0
    client = httpx.Client(timeout=20)
    while not stop.is_set():
        url, generation = cluster.url()
        title = f"u{index}-c{n}"
        files = {f"u{index}/c{n}/a.txt": rng.randbytes(rng.randint(10, 3000)),
                 f"u{index}/c{n}/b.txt": rng.randbytes(rng.randint(10, 3000))}
        lfs = {}
        try:
            if n % 3 == 2:
                data = rng.randbytes(rng.randint(2, 4) * 1000 * 1000)
                lfs[f"u{index}/c{n}/w.bin"] = (lfs_upload(client, url, token, repo, data), data)
            lines = [{"key": "header", "value": {"summary": title}}]
            lines += [{"key": "file", "value": {"path": p, "content": __import__("base64").b64encode(d).decode(),
                                                 "encoding": "base64"}} for p, d in files.items()]
            lines += [{"key": "lfsFile", "value": {"path": p, "algo": "sha256", "oid": oid, "size": len(d)}}
                      for p, (oid, d) in lfs.items()]
            body = "\n".join(json.dumps(x) for x in lines) + "\n"
            r = client.post(f"{url}/api/models/{repo}/commit/{branch}", content=body,
                            headers={"authorization": f"Bearer {token}", "content-type": "application/x-ndjson"})
        except (httpx.TransportError, httpx.HTTPStatusError):
            cut_off.add(title)  # no answer: the commit may or may not have happened
            while cluster.url()[1] == generation and not stop.is_set():
                time.sleep(0.02)
            n += 1
            continue
        assert r.status_code == 200, r.text
        expected = {p: hashlib.sha256(d).hexdigest() for p, d in files.items()}
        expected.update({p: oid for p, (oid, _) in lfs.items()})
        acked.append((repo, branch, r.json()["commitOid"], title, expected))
        n += 1
    client.close()


def test_sigkill_during_concurrent_uploads_loses_nothing_acknowledged(tmp_path):
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    print(f"CRASH_SEED={seed}")
    rng = random.Random(seed)
    cluster = Cluster(tmp_path / "data")
    token = cluster.hub.admin_token
    repos = [f"admin/crash{i}" for i in range(3)]
    with httpx.Client(timeout=20, headers={"authorization": f"Bearer {token}"}) as c:
        for repo in repos:
            c.post(f"{cluster.hub.url}/api/repos/create", json={"name": repo.split("/")[1], "organization": None}).raise_for_status()
            c.post(f"{cluster.hub.url}/api/models/{repo}/branch/dev", json={}).raise_for_status()
    acked, cut_off, stop = [], set(), threading.Event()
    threads = [threading.Thread(target=uploader, args=(cluster, token, repos[i % 3], ["main", "dev"][i // 3], i,
                                                       random.Random(rng.random()), acked, cut_off, stop))
               for i in range(UPLOADERS)]
    for t in threads:
        t.start()
    try:
        for _ in range(KILLS):
            time.sleep(rng.uniform(0.2, 1.5))
            cluster.crash_and_restart()
        time.sleep(1.0)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    hub = cluster.hub
    try:
        assert len(acked) > 20, f"too few commits went through ({len(acked)})"
        client = httpx.Client(timeout=30, headers={"authorization": f"Bearer {token}"})
        # Every acknowledged commit is in its branch's history, with exactly its bytes.
        history = {}
        for repo in repos:
            for branch in ("main", "dev"):
                r = client.get(f"{hub.url}/api/models/{repo}/commits/{branch}", params={"limit": 1000})
                r.raise_for_status()
                history[(repo, branch)] = [(c["id"], c["title"]) for c in r.json()]
        for repo, branch, commit, title, files in acked:
            assert (commit, title) in history[(repo, branch)], f"acknowledged commit {commit} ({title}) is lost"
            for path, digest in files.items():
                r = client.get(f"{hub.url}/{repo}/resolve/{commit}/{path}")
                assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == digest, (commit, path)
        # Nothing else: only acknowledged commits, the initial commit, and requests the kill cut off.
        allowed = {title for _, _, _, title, _ in acked} | cut_off | {"initial commit"}
        for (repo, branch), commits in history.items():
            for commit, title in commits:
                assert title in allowed, f"unexpected commit {commit} ({title}) on {repo}@{branch}"
        # The repositories are sound, and recovery left no temp or lock files behind.
        bare = sorted((hub.data / "repos").glob("*/*.git"))
        assert len(bare) == len(repos)
        for repo_dir in bare:
            out = subprocess.run(["git", "-C", str(repo_dir), "fsck", "--strict", "--no-dangling"], capture_output=True, text=True)
            assert out.returncode == 0, out.stdout + out.stderr
            assert not list(repo_dir.rglob("*.lock")), list(repo_dir.rglob("*.lock"))
        assert not list((hub.data / "blobs" / "tmp").iterdir())
        assert not (hub.data / "repos" / "tmp").exists() or not list((hub.data / "repos" / "tmp").iterdir())
        # And the server still takes commits.
        r = client.post(f"{hub.url}/api/models/{repos[0]}/commit/main",
                        content='{"key":"header","value":{"summary":"after"}}\n{"key":"file","value":{"path":"after.txt","content":"aGk="}}\n',
                        headers={"content-type": "application/x-ndjson"})
        assert r.status_code == 200
        print(f"{len(acked)} acknowledged commits, {len(cut_off)} cut off by {KILLS} kills")
    finally:
        hub.stop()
