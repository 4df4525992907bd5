"""The C++ hub client (`mlhub login/whoami/repo/download/upload`, `mlhub run --model org/name`)
against a real `mlhub serve`, checked with the real Python huggingface_hub on the same server and
the same cache folders.

Run with the hub client environment (huggingface_hub 2.x), falling back to the reference one:
    ~/.cache/mlhub/hubenv/bin/python -m pytest tests/integration/cpp_client -q
MLHUB_BIN names the mlhub binary (default build/mlhub, relative to the repository root);
MLHUB_HUB_PYTHON the interpreter of the Python client steps (default: the one running pytest).
Python's huggingface_hub reads HF_ENDPOINT / HF_HUB_CACHE at import, so every Python step runs in
its own interpreter (sys.executable) with the environment of that step.
"""
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
MLHUB = Path(os.environ.get("MLHUB_BIN", ROOT / "build" / "mlhub")).resolve()
# The interpreter of the Python client steps (default: the one running pytest).
PYTHON = os.environ.get("MLHUB_HUB_PYTHON", sys.executable)
MINILM = Path.home() / ".cache" / "mlhub" / "models" / "all-MiniLM-L6-v2"
BIG = 12 * 1000 * 1000  # over the hub's LFS threshold: goes through the LFS batch API


# ---- fixtures ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    """A running `mlhub serve` on a free port; yields (endpoint, admin token, data dir)."""
    if not MLHUB.exists():
        pytest.skip(f"{MLHUB} not built")
    data = tmp_path_factory.mktemp("hubdata")
    proc = subprocess.Popen(
        [str(MLHUB), "serve", "--data", str(data), "--host", "127.0.0.1", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    endpoint = None
    for line in proc.stdout:
        m = re.search(r"listening on (http://\S+)", line)
        if m:
            endpoint = m.group(1).rstrip("/")
            break
    if endpoint is None:
        proc.kill()
        pytest.fail("mlhub serve did not start: " + proc.stderr.read())
    token = (data / "admin.token").read_text().strip()
    yield endpoint, token, data
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture
def env_for(hub, tmp_path):
    """Builds the environment of one step: endpoint, token, HF_HOME and a named cache."""
    endpoint, token, _ = hub

    def make(cache="cache", **extra):
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("HF_", "HUGGINGFACE_", "TRANSFORMERS_"))}
        env.update(HF_ENDPOINT=endpoint, HF_TOKEN=token, HF_HOME=str(tmp_path / "hfhome"),
                   HF_HUB_CACHE=str(tmp_path / cache), HF_HUB_DISABLE_TELEMETRY="1",
                   HF_HUB_DISABLE_PROGRESS_BARS="1")
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
        return env

    return make


def mlhub(*args, env, input=None, check=True):
    r = subprocess.run([str(MLHUB), *map(str, args)], env=env, input=input,
                       capture_output=True, text=True, timeout=600)
    if check and r.returncode != 0:
        pytest.fail(f"mlhub {' '.join(map(str, args))} exited {r.returncode}: {r.stderr}")
    return r


def py(code, env):
    """Runs `code` in a fresh interpreter; returns what it printed as JSON."""
    r = subprocess.run([PYTHON, "-c", textwrap.dedent(code)], env=env,
                       capture_output=True, text=True, timeout=600)
    if r.returncode != 0:
        pytest.fail(f"python step failed:\n{code}\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def make_folder(root: Path, seed: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "big.bin").write_bytes(os.urandom(BIG))
    (root / "config.json").write_text(json.dumps({"seed": seed, "model_type": "test"}))
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "sub" / "notes.txt").write_text(f"notes {seed}\n")
    (root / "sub" / "deeper" / "x.txt").write_text("x" * 1000)
    (root / "empty.txt").write_bytes(b"")
    return root


def files_of(folder: Path):
    """{relative path: sha256 of content} of every file (following symlinks), .git* skipped."""
    out = {}
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).as_posix()
        if p.is_file() and not rel.startswith(".gitattributes") and not rel.startswith(".cache/"):
            out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def layout_of(cache: Path, repo_folder: str):
    """The cache shape that must match between clients: blob names, symlink targets, refs."""
    root = cache / repo_folder
    blobs = sorted(p.name for p in (root / "blobs").iterdir())
    links = {p.relative_to(root / "snapshots").as_posix(): os.readlink(p)
             for p in (root / "snapshots").rglob("*") if p.is_symlink()}
    refs = {p.relative_to(root / "refs").as_posix(): p.read_bytes()
            for p in (root / "refs").rglob("*") if p.is_file()}
    return blobs, links, refs


@pytest.fixture(scope="module")
def uploaded(hub, tmp_path_factory):
    """admin/cpp-up: created and filled by `mlhub repo create` + `mlhub upload` (a folder)."""
    endpoint, token, _ = hub
    src = make_folder(tmp_path_factory.mktemp("src") / "model", seed=1)
    env = dict(os.environ, HF_ENDPOINT=endpoint, HF_TOKEN=token,
               HF_HOME=str(tmp_path_factory.mktemp("uphome")))
    r = mlhub("repo", "create", "admin/cpp-up", env=env)
    assert r.stdout.strip() == f"{endpoint}/admin/cpp-up"
    r = mlhub("upload", "admin/cpp-up", src, "--commit-message", "upload from mlhub", env=env)
    assert "/admin/cpp-up/commit/" in r.stdout
    return src


# ---- (1) mlhub upload -> huggingface_hub download --------------------------------------------


def test_mlhub_upload_python_snapshot_download(hub, uploaded, env_for):
    endpoint, token, _ = hub
    # The 12 MB file went through LFS: the tree lists it with an lfs oid = its sha256.
    req = urllib.request.Request(f"{endpoint}/api/models/admin/cpp-up/tree/main?recursive=true",
                                 headers={"Authorization": f"Bearer {token}"})
    tree = {e["path"]: e for e in json.load(urllib.request.urlopen(req)) if e["type"] == "file"}
    assert tree["big.bin"]["lfs"]["oid"] == hashlib.sha256((uploaded / "big.bin").read_bytes()).hexdigest()
    assert "lfs" not in tree["config.json"]
    folder = py("""
        import json, huggingface_hub as h
        print(json.dumps(h.snapshot_download("admin/cpp-up")))
    """, env_for("pycache"))
    assert files_of(Path(folder)) == files_of(uploaded)


def test_upload_again_is_a_no_op_and_single_file_upload(hub, uploaded, env_for, tmp_path):
    env = env_for()
    r = mlhub("upload", "admin/cpp-up", uploaded, env=env)
    assert "nothing changed" in r.stderr
    one = tmp_path / "one.txt"
    one.write_text("one file\n")
    r = mlhub("upload", "admin/cpp-up", one, "docs/one.txt", env=env)
    assert "/commit/" in r.stdout
    path = py("""
        import json, huggingface_hub as h
        print(json.dumps(h.hf_hub_download("admin/cpp-up", "docs/one.txt")))
    """, env_for("pycache-one"))
    assert Path(path).read_text() == "one file\n"


# ---- (2) huggingface_hub upload -> mlhub download --------------------------------------------


def test_python_upload_mlhub_download(hub, env_for, tmp_path):
    src = tmp_path / "pysrc"
    src.mkdir()
    (src / "weights.bin").write_bytes(os.urandom(3 * 1000 * 1000))
    (src / "tokenizer.json").write_text('{"version": "1.0"}')
    (src / "nested").mkdir()
    (src / "nested" / "a.txt").write_text("a\n")
    env = env_for()
    py(f"""
        import json, huggingface_hub as h
        h.create_repo("admin/py-up", exist_ok=True)
        h.upload_folder(repo_id="admin/py-up", folder_path={str(src)!r})
        print(json.dumps(True))
    """, env)
    r = mlhub("download", "admin/py-up", "--quiet", env=env_for("mlcache"))
    snapshot = Path(r.stdout.strip())
    assert snapshot.parent.parent == tmp_path / "mlcache" / "models--admin--py-up"
    assert files_of(snapshot) == files_of(src)
    # One file prints its path; a pattern selects files.
    r = mlhub("download", "admin/py-up", "nested/a.txt", env=env_for("mlcache"))
    assert Path(r.stdout.strip()) == snapshot / "nested" / "a.txt"
    r = mlhub("download", "admin/py-up", "--include", "*.json", "--local-dir", tmp_path / "ld",
              env=env_for("mlcache2"))
    assert files_of(tmp_path / "ld") == {"tokenizer.json": files_of(src)["tokenizer.json"]}
    # huggingface_hub takes that local_dir copy as up to date (its .metadata record matches).
    local = tmp_path / "ld" / "tokenizer.json"
    meta = tmp_path / "ld" / ".cache" / "huggingface" / "download" / "tokenizer.json.metadata"
    assert meta.read_text().split("\n")[0] == snapshot.name
    mtime = local.stat().st_mtime_ns
    got = py(f"""
        import json, huggingface_hub as h
        print(json.dumps(h.hf_hub_download("admin/py-up", "tokenizer.json", local_dir={str(tmp_path / "ld")!r})))
    """, env_for("mlcache3"))
    assert Path(got) == local and local.stat().st_mtime_ns == mtime
    assert not (tmp_path / "mlcache3").exists()  # Python answered from the local_dir record


# ---- (3) one cache, both clients --------------------------------------------------------------


def test_python_fills_cache_mlhub_reads_offline(uploaded, env_for):
    env = env_for("shared-py")
    folder = py("""
        import json, huggingface_hub as h
        print(json.dumps(h.snapshot_download("admin/cpp-up")))
    """, env)
    offline = env_for("shared-py", HF_HUB_OFFLINE="1")
    r = mlhub("download", "admin/cpp-up", env=offline)
    assert r.stdout.strip() == folder
    r = mlhub("download", "admin/cpp-up", "sub/deeper/x.txt", env=offline)
    assert r.stdout.strip() == str(Path(folder) / "sub" / "deeper" / "x.txt")
    r = mlhub("download", "admin/cpp-up", "not-cached.txt", env=offline, check=False)
    assert r.returncode != 0 and "offline" in r.stderr


def test_mlhub_fills_cache_python_reads_offline(uploaded, env_for, tmp_path):
    r = mlhub("download", "admin/cpp-up", "--quiet", env=env_for("shared-ml"))
    snapshot = r.stdout.strip()
    got = py("""
        import json, huggingface_hub as h
        files = ["big.bin", "config.json", "sub/notes.txt", "sub/deeper/x.txt", "empty.txt"]
        print(json.dumps({
            "files": {f: h.hf_hub_download("admin/cpp-up", f, local_files_only=True) for f in files},
            "snapshot": h.snapshot_download("admin/cpp-up", local_files_only=True),
        }))
    """, env_for("shared-ml", HF_HUB_OFFLINE="1"))
    assert got["snapshot"] == snapshot
    for f, p in got["files"].items():
        assert p == str(Path(snapshot) / f)
        assert hashlib.sha256(Path(p).read_bytes()).hexdigest() == files_of(uploaded)[f]
    # Python, online, into another cache: the same blob names, symlink targets and refs.
    py("""
        import json, huggingface_hub as h
        print(json.dumps(h.snapshot_download("admin/cpp-up")))
    """, env_for("shared-py2"))
    assert layout_of(tmp_path / "shared-ml", "models--admin--cpp-up") == \
        layout_of(tmp_path / "shared-py2", "models--admin--cpp-up")
    # The tree listing cache (huggingface_hub >= 1.22 reads it offline) is identical too.
    commit = Path(snapshot).name
    ours = tmp_path / "shared-ml" / "models--admin--cpp-up" / "trees" / f"{commit}.json"
    theirs = tmp_path / "shared-py2" / "models--admin--cpp-up" / "trees" / f"{commit}.json"
    if theirs.exists():  # huggingface_hub >= 1.22
        assert ours.read_bytes() == theirs.read_bytes()
    # Every path in the two caches (.locks, CACHEDIR.TAG, refs, trees, …) is the same.
    def names(cache):
        return sorted(p.relative_to(cache).as_posix() for p in cache.rglob("*"))
    ml, py2 = tmp_path / "shared-ml", tmp_path / "shared-py2"
    if (py2 / "CACHEDIR.TAG").exists():  # written by huggingface_hub >= 1.x
        assert names(ml) == names(py2)
        assert (ml / "CACHEDIR.TAG").read_bytes() == (py2 / "CACHEDIR.TAG").read_bytes()


# ---- (4) resume -------------------------------------------------------------------------------


def test_resume_incomplete_blob(uploaded, env_for, tmp_path):
    env = env_for("resume")
    r = mlhub("download", "admin/cpp-up", "big.bin", env=env)
    pointer = Path(r.stdout.strip())
    blob = pointer.resolve()
    data = blob.read_bytes()
    # Leave a truncated .incomplete and no blob / pointer, as an interrupted download does.
    incomplete = blob.with_name(blob.name + ".incomplete")
    incomplete.write_bytes(data[: 5 * 1000 * 1000])
    blob.unlink()
    pointer.unlink()
    r = mlhub("download", "admin/cpp-up", "big.bin", env=env_for("resume", MLHUB_LOG="info"))
    assert "Range: bytes=5000000- answered 206 (resuming)" in r.stderr, r.stderr
    assert Path(r.stdout.strip()).read_bytes() == data
    assert not incomplete.exists()


# ---- (5) mlhub run --model <repo id> -----------------------------------------------------------


def test_run_feature_extraction_from_hub(env_for):
    if not (MINILM / "config.json").exists():
        pytest.skip(f"{MINILM} missing")
    env = env_for("runcache")
    mlhub("upload", "admin/all-MiniLM-L6-v2", MINILM, "--quiet", env=env)
    line = "The quick brown fox jumps over the lazy dog.\n"
    remote = mlhub("run", "feature-extraction", "--model", "admin/all-MiniLM-L6-v2", env=env,
                   input=line)
    local = mlhub("run", "feature-extraction", "--model", MINILM, env=env, input=line)
    assert remote.stdout == local.stdout and remote.stdout.startswith("[[[")
    # Offline, the cached snapshot is used (through refs/main).
    again = mlhub("run", "feature-extraction", "--model", "admin/all-MiniLM-L6-v2@main",
                  env=env_for("runcache", HF_HUB_OFFLINE="1"), input=line)
    assert again.stdout == local.stdout


# ---- (6) login / whoami -------------------------------------------------------------------------


def test_login_whoami(hub, env_for, tmp_path):
    endpoint, token, data = hub
    home = tmp_path / "loginhome"
    env = env_for(HF_TOKEN=None, HF_HOME=str(home))
    r = mlhub("whoami", env=env, check=False)
    assert r.returncode != 0 and "not logged in" in r.stderr
    r = mlhub("login", "--token", token, env=env)
    assert "admin" in r.stdout
    assert (home / "token").read_text() == token
    assert oct((home / "token").stat().st_mode & 0o777) == "0o600"
    assert mlhub("whoami", env=env).stdout.splitlines()[0] == "admin"
    # huggingface_hub sees the same login.
    got = py("""
        import json, huggingface_hub as h
        from huggingface_hub.utils import get_stored_tokens
        print(json.dumps([h.whoami()["name"], list(get_stored_tokens().values())]))
    """, env)
    assert got == ["admin", [token]]
    # Another user's read token, given on stdin.
    mlhub("user", "create", "--data", data, "reader", env=env)
    read_token = mlhub("token", "create", "--data", data, "--user", "reader", "--role", "read",
                       env=env).stdout.strip().split()[-1]
    r = mlhub("login", env=env, input=read_token + "\n")
    assert mlhub("whoami", env=env).stdout.splitlines()[0] == "reader"


# ---- (7) errors ---------------------------------------------------------------------------------


def test_errors_are_clear(uploaded, env_for, tmp_path):
    env = env_for("errcache")
    r = mlhub("download", "admin/does-not-exist", env=env, check=False)
    assert r.returncode != 0 and "repository not found" in r.stderr
    r = mlhub("download", "admin/cpp-up", "missing.txt", env=env, check=False)
    assert r.returncode != 0 and "file not found" in r.stderr
    assert list((tmp_path / "errcache" / "models--admin--cpp-up" / ".no_exist").rglob("missing.txt"))
    r = mlhub("download", "admin/cpp-up", "config.json", "--revision", "no-such-branch", env=env,
              check=False)
    assert r.returncode != 0 and "revision not found" in r.stderr
    bad = env_for("errcache", HF_TOKEN="hf_not_a_real_token")
    for args in (["whoami"], ["download", "admin/cpp-up", "config.json"],
                 ["upload", "admin/cpp-up", tmp_path]):
        r = mlhub(*args, env=bad, check=False)
        assert r.returncode != 0 and "invalid" in r.stderr.lower(), (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr


# ---- more: paginated trees, batched preupload, concurrent downloads of one blob -----------------


def test_many_files_paginate_and_batch(env_for, tmp_path):
    """1,100 files: preupload batches of 256, tree pages of 1,000 (Link rel="next")."""
    src = tmp_path / "many"
    for i in range(1100):
        d = src / f"d{i % 7}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"f{i:04d}.txt").write_text(f"file {i}\n")
    env = env_for("many-ml")
    mlhub("upload", "admin/many", src, "--quiet", env=env)
    snapshot = Path(mlhub("download", "admin/many", "--quiet", env=env).stdout.strip())
    assert files_of(snapshot) == files_of(src)
    py("""
        import json, huggingface_hub as h
        print(json.dumps(h.snapshot_download("admin/many")))
    """, env_for("many-py"))
    assert layout_of(tmp_path / "many-ml", "models--admin--many") == \
        layout_of(tmp_path / "many-py", "models--admin--many")


def test_concurrent_download_with_python_shares_the_lock(uploaded, env_for, tmp_path):
    """mlhub and huggingface_hub fetch the same 12 MB blob into one cache at the same time."""
    env = env_for("race")
    code = textwrap.dedent("""
        import json, huggingface_hub as h
        print(json.dumps(h.hf_hub_download("admin/cpp-up", "big.bin")))
    """)
    procs = [subprocess.Popen([str(MLHUB), "download", "admin/cpp-up", "big.bin", "--quiet"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    procs.append(subprocess.Popen([PYTHON, "-c", code], env=env, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True))
    outs = [p.communicate(timeout=600) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    paths = {o[0].strip().splitlines()[-1].strip('"') for o in outs}
    assert len(paths) == 1
    assert hashlib.sha256(Path(paths.pop()).read_bytes()).hexdigest() == files_of(uploaded)["big.bin"]
    blobs = list((tmp_path / "race" / "models--admin--cpp-up" / "blobs").iterdir())
    assert [b.name for b in blobs if "incomplete" in b.name] == []
