"""Crash test: `mlhub serve` is killed with SIGKILL at random moments while six uploader threads
commit concurrently to two branches of three repos, and restarted on the same data folder.

Uploaders speak raw HTTP as huggingface_hub does: preupload (its commitOid is the parentCommit),
for every third commit an LFS object of 2-5 MB through the batch API and a PUT to the signed href,
then the NDJSON commit with `parentCommit`; a 412 (another uploader moved the branch) is retried
with a fresh head under a new title. Every commit the server acknowledged (200 + commitOid) is
recorded with the sha256 of each file it wrote; every commit request that got no answer because
of a kill is recorded as "cut off" (it may or may not have landed).

After each restart, before any client learns the new port: no temp file in blobs/tmp or
repos/tmp, no *.lock under the repos, and the server answers model_info for every repo.
At the end:
  - every acknowledged commit is an ancestor of (or equal to) its branch head, with the title
    and the parent it was sent with, and each of its files downloads through
    /resolve/<commit>/<path> with the recorded sha256;
  - every commit in each branch's history is acknowledged, the initial commit, or a cut-off
    request (each at most once; a 412-rejected or failed attempt never appears), and cut-off
    commits that landed have all their files too;
  - the API's commit listing equals `git log` of the bare repo;
  - `git fsck --strict` passes on every bare repo, no temp, lock or .incomplete file is left
    after a last restart, and the server still takes a commit.

The binary is $MLHUB_BIN (default build/mlhub). CRASH_SEED replays a run (the kill times, what
each uploader writes and where; thread interleaving is still up to the scheduler);
CRASH_KILLS (default 6) sets the number of kills.
"""
import base64
import hashlib
import json
import os
import random
import re
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[3]
MLHUB = Path(os.environ.get("MLHUB_BIN", ROOT / "build" / "mlhub")).resolve()
KILLS = int(os.environ.get("CRASH_KILLS", "6"))
UPLOADERS = 6
REPOS = ["admin/crash0", "admin/crash1", "admin/crash2"]
BRANCHES = ["main", "dev"]
TIMEOUT = (3, 30)  # connect, read


def sha256(data):
    return hashlib.sha256(data).hexdigest()


class Server:
    """One `mlhub serve` process on the data folder; its stdout and stderr go to files."""

    def __init__(self, data, logs, generation):
        self.out = open(logs / f"serve-{generation}.out", "w+")
        self.err = open(logs / f"serve-{generation}.err", "w")
        self.proc = subprocess.Popen([str(MLHUB), "serve", "--data", str(data), "--host", "127.0.0.1",
                                      "--port", "0", "--quiet"], stdout=self.out, stderr=self.err)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            self.out.seek(0)
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", self.out.read())
            if m:
                self.url = m.group(1)
                return
            assert self.proc.poll() is None, f"mlhub serve exited with {self.proc.returncode}; see {self.err.name}"
            time.sleep(0.02)
        self.proc.kill()
        raise AssertionError(f"mlhub serve did not print its address in 20 s; see {self.err.name}")

    def kill(self):
        self.proc.kill()  # SIGKILL
        self.proc.wait(timeout=10)
        self.out.close()
        self.err.close()


def leftovers(data):
    """Temp, lock and partial files a crash may leave; recovery must remove them all."""
    found = []
    for tmp in (data / "blobs" / "tmp", data / "repos" / "tmp"):
        if tmp.exists():
            found += [str(p) for p in tmp.rglob("*")]
    for top in (data / "repos", data / "blobs"):
        for p in top.rglob("*"):
            name = p.name
            if name.endswith(".lock") or name.endswith(".incomplete") or name.startswith("tmp_") \
                    or name.startswith("pack_git2_") or name.endswith(".tmp"):
                found.append(str(p))
    return sorted(set(found))


class Cluster:
    """The current server and its URL; swapped by crash_and_restart()."""

    def __init__(self, data, logs):
        self.data, self.logs = data, logs
        self.lock = threading.Lock()
        self.generation = 0
        self.killed_generation = -1  # a transport error on generation g is expected once g is being killed
        self.server = Server(data, logs, 0)
        self.url = self.server.url
        self.token = (data / "admin.token").read_text().strip()
        self.restart_problems = []
        self.found_after_kill = []  # temp/lock files the kill left, for recovery to remove

    def current(self):
        with self.lock:
            return self.url, self.generation

    def crash_and_restart(self):
        with self.lock:
            self.killed_generation = self.generation
            self.server.kill()
            self.found_after_kill += leftovers(self.data)
            t = time.monotonic()
            server = Server(self.data, self.logs, self.generation + 1)
            started = time.monotonic() - t
            # Checked before any uploader knows the new port, so nothing new can be in flight.
            left = leftovers(self.data)
            if left:
                self.restart_problems.append(f"restart {self.generation + 1}: left over after recovery: {left[:10]}")
            for repo in REPOS:
                r = requests.get(f"{server.url}/api/models/{repo}", timeout=TIMEOUT,
                                 headers={"authorization": f"Bearer {self.token}"})
                if r.status_code != 200:
                    self.restart_problems.append(f"restart {self.generation + 1}: GET /api/models/{repo}: "
                                                 f"{r.status_code} {r.text[:200]}")
            self.server, self.url = server, server.url
            self.generation += 1
            return started


class Log:
    """What the uploaders saw, shared between threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked = []      # (repo, branch, commit, title, parent, {path: sha256})
        self.cut_off = {}    # title -> (repo, branch, {path: sha256}): commit POST without an answer
        self.rejected = set()  # titles answered 412
        self.errors = []     # anything a correct server never does
        self.conflicts = 0
        self.lfs_puts = 0
        self.cut_by_step = {}  # request step -> transport errors caused by a kill

    def add(self, what, item):
        with self.lock:
            if what == "acked":
                self.acked.append(item)
            elif what == "cut_off":
                self.cut_off[item[0]] = item[1]
            elif what == "rejected":
                self.rejected.add(item)
                self.conflicts += 1
            elif what == "error":
                self.errors.append(item)
            elif what == "lfs_put":
                self.lfs_puts += 1
            elif what == "cut":
                self.cut_by_step[item] = self.cut_by_step.get(item, 0) + 1


def uploader(index, seed, cluster, log, stop):
    rng = random.Random(seed)
    auth = {"authorization": f"Bearer {cluster.token}"}
    session = requests.Session()
    n = 0
    while not stop.is_set():
        n += 1
        repo, branch = rng.choice(REPOS), rng.choice(BRANCHES)
        files = {f"u{index}/c{n}/{name}": rng.randbytes(rng.randint(1, 4000))
                 for name in rng.sample(["a.txt", "b.json", "c.md", "d.csv"], rng.randint(1, 3))}
        lfs = {}
        if n % 3 == 0:
            lfs[f"u{index}/c{n}/weights.bin"] = rng.randbytes(rng.randint(2_000_000, 5_000_000))
        expected = {p: sha256(d) for p, d in {**files, **lfs}.items()}
        for attempt in range(50):
            if stop.is_set():
                break
            url, generation = cluster.current()
            title = f"u{index}-c{n}-a{attempt}"
            step = "preupload"
            try:
                r = session.post(f"{url}/api/models/{repo}/preupload/{branch}", headers=auth, timeout=TIMEOUT,
                                 json={"files": [{"path": p, "size": len(d), "sample": base64.b64encode(d[:512]).decode()}
                                                 for p, d in {**files, **lfs}.items()]})
                if r.status_code != 200:
                    log.add("error", f"POST preupload {repo}@{branch}: {r.status_code} {r.text[:300]}")
                    return
                parent = r.json().get("commitOid")
                if not parent:
                    parent = session.get(f"{url}/api/models/{repo}/revision/{branch}", headers=auth,
                                         timeout=TIMEOUT).json()["sha"]
                for path, data in lfs.items():
                    step = "lfs batch"
                    oid = expected[path]
                    r = session.post(f"{url}/{repo}.git/info/lfs/objects/batch", timeout=TIMEOUT,
                                     headers={**auth, "accept": "application/vnd.git-lfs+json",
                                              "content-type": "application/vnd.git-lfs+json"},
                                     data=json.dumps({"operation": "upload", "transfers": ["basic"], "hash_algo": "sha256",
                                                      "objects": [{"oid": oid, "size": len(data)}],
                                                      "ref": {"name": branch}}))
                    if r.status_code != 200 or "error" in r.json()["objects"][0]:
                        log.add("error", f"POST lfs batch {repo} {oid}: {r.status_code} {r.text[:300]}")
                        return
                    obj = r.json()["objects"][0]
                    if "actions" in obj:
                        step = "lfs put"
                        up = obj["actions"]["upload"]
                        r = session.put(up["href"], data=data, headers=up.get("header") or {}, timeout=TIMEOUT)
                        if r.status_code not in (200, 201):
                            log.add("error", f"PUT lfs {oid} ({len(data)} bytes): {r.status_code} {r.text[:300]}")
                            return
                        log.add("lfs_put", None)
                lines = [{"key": "header", "value": {"summary": title, "description": f"seed {seed}",
                                                     "parentCommit": parent}}]
                lines += [{"key": "file", "value": {"path": p, "content": base64.b64encode(d).decode(),
                                                     "encoding": "base64"}} for p, d in files.items()]
                lines += [{"key": "lfsFile", "value": {"path": p, "algo": "sha256", "oid": expected[p], "size": len(d)}}
                          for p, d in lfs.items()]
                step = "commit"
                r = session.post(f"{url}/api/models/{repo}/commit/{branch}", timeout=TIMEOUT,
                                 headers={**auth, "content-type": "application/x-ndjson"},
                                 data="\n".join(json.dumps(x) for x in lines) + "\n")
            except requests.RequestException as e:
                if step == "commit":
                    log.add("cut_off", (title, (repo, branch, expected)))
                if cluster.killed_generation < generation:
                    log.add("error", f"{step} {repo}@{branch} ({title}) failed while the server was not being "
                                     f"killed: {type(e).__name__}: {e}")
                    return
                log.add("cut", step)
                deadline = time.monotonic() + 15
                while cluster.current()[1] == generation and not stop.is_set() and time.monotonic() < deadline:
                    time.sleep(0.01)
                session.close()
                session = requests.Session()
                continue
            if r.status_code == 412:
                log.add("rejected", title)
                continue
            if r.status_code != 200 or not r.json().get("commitOid"):
                log.add("error", f"POST commit {repo}@{branch} ({title}, parentCommit {parent}): "
                                 f"{r.status_code} {r.text[:300]}")
                return
            log.add("acked", (repo, branch, r.json()["commitOid"], title, parent, expected))
            break
    session.close()


def git(repo_dir, *args):
    out = subprocess.run(["git", "-C", str(repo_dir), *args], capture_output=True, text=True, timeout=60)
    return out


def api_commits(url, token, repo, branch):
    """The whole paginated listing of GET /api/models/{repo}/commits/{branch}."""
    ids, next_url = [], f"{url}/api/models/{repo}/commits/{branch}?limit=100"
    while next_url:
        r = requests.get(next_url, headers={"authorization": f"Bearer {token}"}, timeout=TIMEOUT)
        assert r.status_code == 200, (next_url, r.status_code, r.text[:300])
        ids += [c["id"] for c in r.json()]
        next_url = r.links.get("next", {}).get("url")
        assert len(ids) < 100000
    return ids


def test_sigkill_during_concurrent_uploads(tmp_path):
    if not MLHUB.exists():
        pytest.fail(f"no mlhub binary at {MLHUB} (set MLHUB_BIN)", pytrace=False)
    seed = int(os.environ.get("CRASH_SEED", random.SystemRandom().randrange(1 << 31)))
    print(f"\nCRASH_SEED={seed} (MLHUB_BIN={MLHUB}, data {tmp_path / 'data'})")
    rng = random.Random(seed)
    began = time.monotonic()
    logs = tmp_path / "logs"
    logs.mkdir()
    cluster = Cluster(tmp_path / "data", logs)
    stop = threading.Event()
    try:
        token = cluster.token
        auth = {"authorization": f"Bearer {token}"}
        for repo in REPOS:
            r = requests.post(f"{cluster.url}/api/repos/create", headers=auth, timeout=TIMEOUT,
                              json={"name": repo.split("/")[1], "organization": None, "type": "model"})
            assert r.status_code == 200, r.text
            r = requests.post(f"{cluster.url}/api/models/{repo}/branch/dev", headers=auth, json={}, timeout=TIMEOUT)
            assert r.status_code == 200, r.text

        log = Log()
        threads = [threading.Thread(target=uploader, args=(i, rng.randrange(1 << 31), cluster, log, stop), daemon=True)
                   for i in range(UPLOADERS)]
        delays = [rng.uniform(0.2, 1.5) for _ in range(KILLS)]
        restart_s = []
        for t in threads:
            t.start()
        try:
            for d in delays:
                time.sleep(d)
                restart_s.append(cluster.crash_and_restart())
            time.sleep(1.0)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=40)
        assert not any(t.is_alive() for t in threads), "an uploader hung (request without answer for > 30 s?)"
        print(f"{len(log.acked)} acknowledged commits, {len(log.cut_off)} cut off, {log.conflicts} answered 412, "
              f"{log.lfs_puts} LFS PUTs; {KILLS} kills after {', '.join('%.2f' % d for d in delays)} s; "
              f"restarts took {', '.join('%.2f' % s for s in restart_s)} s")
        kinds = sorted({re.sub(r"[0-9a-f]{6,}|[0-9]+", "*", os.path.relpath(p, cluster.data)) for p in cluster.found_after_kill})
        print(f"requests cut by the kills, by step: {log.cut_by_step}; temp/lock files the kills left for recovery: "
              f"{len(cluster.found_after_kill)} {kinds}")

        # A last SIGKILL with nothing in flight, then a restart: recovery leaves nothing behind.
        cluster.crash_and_restart()
        url, data = cluster.url, cluster.data
        assert not log.errors, "the server misbehaved during the uploads:\n" + "\n".join(log.errors[:20])
        assert not cluster.restart_problems, "\n".join(cluster.restart_problems)
        assert len(log.acked) >= 12, f"too few commits went through ({len(log.acked)})"

        # Bare repos: map each hub repo to its folder through its main head.
        bare = sorted(p for p in (data / "repos").rglob("*.git") if p.is_dir() and "tmp" not in p.relative_to(data / "repos").parts)
        assert len(bare) == len(REPOS), bare
        folder = {}
        for repo in REPOS:
            head = requests.get(f"{url}/api/models/{repo}/revision/main", headers=auth, timeout=TIMEOUT).json()["sha"]
            matches = [b for b in bare if git(b, "rev-parse", "refs/heads/main").stdout.strip() == head]
            assert len(matches) == 1, (repo, head, matches)
            folder[repo] = matches[0]

        for b in bare:
            out = git(b, "fsck", "--strict", "--no-dangling")
            assert out.returncode == 0, f"git fsck --strict {b}:\n{out.stdout}{out.stderr}"

        # Histories, from git and from the API (which must agree).
        history = {}
        for repo in REPOS:
            for branch in BRANCHES:
                out = git(folder[repo], "log", "--format=%H %P%x09%s", f"refs/heads/{branch}")
                assert out.returncode == 0, out.stderr
                entries = [line.split("\t", 1) for line in out.stdout.splitlines()]
                history[(repo, branch)] = [(ids.split()[0], ids.split()[1:], title) for ids, title in entries]
                assert api_commits(url, token, repo, branch) == [c for c, _, _ in history[(repo, branch)]], \
                    f"GET /api/models/{repo}/commits/{branch} differs from git log"

        # Every acknowledged commit: on its branch, with its title and parent, and its bytes.
        acked_titles = {}
        for repo, branch, commit, title, parent, files in log.acked:
            assert title not in acked_titles, f"two acknowledgements for {title}"
            acked_titles[title] = (repo, branch, commit)
            out = git(folder[repo], "merge-base", "--is-ancestor", commit, f"refs/heads/{branch}")
            assert out.returncode == 0, f"acknowledged commit {commit} ({title}) is not in {repo}@{branch}: {out.stderr}"
            subject = git(folder[repo], "log", "-1", "--format=%s %P", commit).stdout.split()
            assert subject == [title, parent], f"{commit}: title/parent {subject}, sent {title} {parent}"
        downloads = 0
        session = requests.Session()

        def check_files(repo, commit, files, why):
            nonlocal downloads
            for path, digest in files.items():
                r = session.get(f"{url}/{repo}/resolve/{commit}/{path}", headers=auth, timeout=TIMEOUT)
                assert r.status_code == 200, f"{why} {commit} {path}: {r.status_code} {r.text[:200]}"
                assert sha256(r.content) == digest, f"{why} {commit} {path}: wrong bytes ({len(r.content)})"
                downloads += 1

        for repo, branch, commit, title, parent, files in log.acked:
            check_files(repo, commit, files, "acknowledged commit")

        # Nothing else: each commit is acknowledged, the initial commit, or a cut-off request (once).
        seen_cut_off = set()
        for (repo, branch), commits in history.items():
            for commit, parents, title in commits:
                if title in acked_titles:
                    assert acked_titles[title] == (repo, branch, commit), \
                        f"{title} is {commit} on {repo}@{branch}, but was acknowledged as {acked_titles[title]}"
                elif not parents:
                    assert title == "initial commit", f"unexpected root commit {commit} ({title}) on {repo}@{branch}"
                else:
                    assert title not in log.rejected, f"{commit} ({title}) on {repo}@{branch} was answered 412"
                    assert title in log.cut_off, f"unexpected commit {commit} ({title}) on {repo}@{branch}"
                    assert log.cut_off[title][:2] == (repo, branch), (title, log.cut_off[title][:2], repo, branch)
                    if (repo, title) not in seen_cut_off:  # dev starts from main: shared ancestors
                        check_files(repo, commit, log.cut_off[title][2], "cut-off commit that landed")
                    seen_cut_off.add((repo, title))
        landed = {t for _, t in seen_cut_off}
        for (repo, branch), commits in history.items():
            titles = [t for _, _, t in commits]
            assert len(titles) == len(set(titles)), f"a commit title twice on {repo}@{branch}"

        left = leftovers(data)
        assert not left, f"left over after the last restart: {left[:20]}"
        r = requests.post(f"{url}/api/models/{REPOS[0]}/commit/main", timeout=TIMEOUT,
                          headers={**auth, "content-type": "application/x-ndjson"},
                          data='{"key":"header","value":{"summary":"after the crashes"}}\n'
                               '{"key":"file","value":{"path":"after.txt","content":"aGk=","encoding":"base64"}}\n')
        assert r.status_code == 200, r.text
        print(f"verified: {len(log.acked)} acknowledged commits, {len(landed)} of {len(log.cut_off)} cut-off "
              f"requests landed, {downloads} files downloaded and hashed, fsck clean; "
              f"{time.monotonic() - began:.1f} s")
    finally:
        stop.set()
        cluster.server.kill()
