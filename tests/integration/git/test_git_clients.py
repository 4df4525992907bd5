"""Plain git + git-lfs against `mlhub serve` (docs/hub-api.md §9 (d), §5.1).

Each test starts its own server on a fresh data folder and drives the real clients: git (smart
HTTP), git-lfs (batch API, basic transfer) and huggingface_hub. git runs with a temporary HOME
(git-lfs installed there with `git lfs install --skip-repo`), so the machine's git configuration
is neither read nor changed.

Run: ~/.cache/mlhub/pyenv/bin/python -m pytest tests/integration/git   (MLHUB_BIN=build/mlhub)
"""
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

# Read by huggingface_hub at import time: large files go through the LFS batch API.
os.environ["HF_HUB_DISABLE_XET"] = "1"
os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
os.environ.pop("HF_TOKEN", None)

from huggingface_hub import HfApi, constants, file_download, hf_hub_download  # noqa: E402

ROOT = Path(__file__).resolve().parents[3]
MLHUB_BIN = Path(os.environ.get("MLHUB_BIN", ROOT / "build" / "mlhub")).resolve()
TIMEOUT = 60  # seconds, for every subprocess

if shutil.which("git") is None or shutil.which("git-lfs") is None:
    pytest.fail("git and git-lfs are needed (scripts/setup installs them)", pytrace=False)
if not MLHUB_BIN.exists():
    pytest.fail(f"{MLHUB_BIN} is not built", pytrace=False)


class Hub:
    def __init__(self, root: Path):
        self.root = root
        self.data = root / "data"
        self.log = open(root / "serve.log", "w+")
        self.proc = subprocess.Popen(
            [str(MLHUB_BIN), "serve", "--data", str(self.data), "--port", "0", "--xet-fallback", "lfs", "--quiet"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        self.port = None
        while time.time() < deadline and self.port is None:
            if self.proc.poll() is not None:
                break
            text = (root / "serve.log").read_text()
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", text)
            if m:
                self.port = int(m.group(1))
            else:
                time.sleep(0.05)
        if self.port is None:
            self.stop()
            raise RuntimeError("mlhub serve did not start:\n" + (root / "serve.log").read_text())
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.admin_token = (self.data / "admin.token").read_text().strip()
        self.api = HfApi(endpoint=self.endpoint, token=self.admin_token)

    def token(self, user: str, role: str) -> str:
        out = subprocess.run([str(MLHUB_BIN), "token", "create", "--data", str(self.data), "--user", user, "--role", role],
                             capture_output=True, text=True, timeout=TIMEOUT)
        assert out.returncode == 0, out.stderr
        return re.search(r"hf_[A-Za-z0-9]+", out.stdout).group(0)

    def url(self, repo_id: str, token: str | None = None, user: str = "git") -> str:
        auth = f"{user}:{token}@" if token else ""
        return f"http://{auth}127.0.0.1:{self.port}/{repo_id}"

    def bare_repos(self):
        return sorted((self.data / "repos").glob("*/*.git"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()


@pytest.fixture
def tmp(tmp_path):
    return tmp_path


@pytest.fixture
def hub(tmp, monkeypatch):
    h = Hub(tmp)
    try:
        # huggingface_hub parses the URLs the hub returns against HF_ENDPOINT (read at import).
        monkeypatch.setattr(constants, "ENDPOINT", h.endpoint)
        monkeypatch.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", h.endpoint + "/{repo_id}/resolve/{revision}/{filename}",
                            raising=False)  # huggingface_hub >= 1.0
        monkeypatch.setattr(file_download, "HUGGINGFACE_CO_URL_TEMPLATE", h.endpoint + "/{repo_id}/resolve/{revision}/{filename}",
                            raising=False)  # huggingface_hub < 1.0 only
        yield h
    finally:
        h.stop()  # also when the set-up above fails: no server outlives its test


@pytest.fixture
def git_env(tmp):
    home = tmp / "home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",
        "SSH_ASKPASS": "",
        "GIT_AUTHOR_NAME": "Tester",
        "GIT_AUTHOR_EMAIL": "tester@example.com",
        "GIT_COMMITTER_NAME": "Tester",
        "GIT_COMMITTER_EMAIL": "tester@example.com",
        "LC_ALL": "C",
    }
    out = subprocess.run(["git", "lfs", "install", "--skip-repo"], env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert out.returncode == 0, out.stderr
    # Answer 200 to locks/verify without the advisory on every push.
    subprocess.run(["git", "config", "--global", "lfs.locksverify", "false"], env=env, check=True, timeout=TIMEOUT)
    return env


def git(env, *args, cwd=None, check=True):
    out = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT)
    if check:
        assert out.returncode == 0, f"git {' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}"
    return out


def tree_files(root: Path):
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts}


def write_random(path: Path, size: int, seed: int):
    import random
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(random.Random(seed).randbytes(size))


def uploaded_repo(hub: Hub, tmp: Path, repo_id: str, private=False):
    """A repo made and filled through huggingface_hub: a 12 MB binary goes through LFS."""
    hub.api.create_repo(repo_id, private=private)
    folder = tmp / f"upload-{repo_id.replace('/', '-')}"
    (folder / "sub").mkdir(parents=True)
    (folder / "README.md").write_text("---\nlicense: mit\ntags:\n- test\n---\n# A model\n")
    (folder / "config.json").write_text('{"model_type": "bert", "hidden_size": 8}\n')
    write_random(folder / "sub" / "weights.bin", 12 * 1000 * 1000, seed=1)
    hub.api.upload_folder(repo_id=repo_id, folder_path=folder, commit_message="upload folder")
    return folder


def assert_fsck(hub: Hub):
    for bare in hub.bare_repos():
        out = subprocess.run(["git", "--git-dir", str(bare), "fsck", "--strict", "--no-progress"],
                             capture_output=True, text=True, timeout=TIMEOUT,
                             env={"PATH": os.environ["PATH"], "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"})
        assert out.returncode == 0, f"git fsck --strict {bare}:\n{out.stdout}\n{out.stderr}"


def test_clone_of_an_uploaded_repo_smudges_lfs(hub, tmp, git_env):
    folder = uploaded_repo(hub, tmp, "admin/clone-me")
    info = hub.api.model_info("admin/clone-me")
    for url in (hub.url("admin/clone-me"), hub.url("admin/clone-me") + ".git"):
        dest = tmp / ("clone" + str(len(url)))
        git(git_env, "clone", url, str(dest))
        files = tree_files(dest)
        expected = tree_files(folder)
        for path, content in expected.items():
            assert files.get(path) == content, f"{path} differs in the clone"
        assert set(files) == set(expected) | {".gitattributes"}
        # The big file is an LFS pointer in git, smudged in the working tree.
        assert "sub/weights.bin" in git(git_env, "lfs", "ls-files", "--name-only", cwd=dest).stdout
        assert git(git_env, "cat-file", "-p", "HEAD:sub/weights.bin", cwd=dest).stdout.startswith(
            "version https://git-lfs.github.com/spec/v1")
        assert git(git_env, "rev-parse", "HEAD", cwd=dest).stdout.strip() == info.sha
    # Protocol v0 works as well as v2 (git's default).
    dest = tmp / "clone-v0"
    git(git_env, "-c", "protocol.version=0", "clone", hub.url("admin/clone-me"), str(dest))
    assert (dest / "sub" / "weights.bin").read_bytes() == (folder / "sub" / "weights.bin").read_bytes()
    # Anonymous push to a public repo: a Basic challenge, and git has no credentials.
    (dest / "x.txt").write_text("x\n")
    git(git_env, "add", "x.txt", cwd=dest)
    git(git_env, "commit", "-qm", "x", cwd=dest)
    out = git(git_env, "push", "origin", "main", cwd=dest, check=False)
    assert out.returncode != 0
    assert "could not read Username" in out.stderr or "Authentication failed" in out.stderr, out.stderr


def test_push_is_seen_by_the_api_and_the_commit_api_builds_on_it(hub, tmp, git_env):
    uploaded_repo(hub, tmp, "admin/push-me")
    work = tmp / "work"
    git(git_env, "clone", hub.url("admin/push-me", hub.admin_token, user="admin"), str(work))
    git(git_env, "lfs", "track", "*.dat", cwd=work)
    (work / "notes.txt").write_text("pushed with git\n")
    write_random(work / "data" / "big.dat", 11 * 1000 * 1000, seed=2)
    git(git_env, "add", ".gitattributes", "notes.txt", "data/big.dat", cwd=work)
    git(git_env, "commit", "-qm", "push small and LFS files", cwd=work)
    assert "data/big.dat" in git(git_env, "lfs", "ls-files", "--name-only", cwd=work).stdout
    out = git(git_env, "push", "origin", "main", cwd=work)
    pushed = git(git_env, "rev-parse", "HEAD", cwd=work).stdout.strip()

    files = hub.api.list_repo_files("admin/push-me")
    assert "notes.txt" in files and "data/big.dat" in files and "sub/weights.bin" in files
    assert hub.api.model_info("admin/push-me").sha == pushed
    cache = tmp / "hf-cache"
    for name in ("notes.txt", "data/big.dat"):
        path = hf_hub_download("admin/push-me", name, endpoint=hub.endpoint, token=hub.admin_token, cache_dir=cache)
        assert Path(path).read_bytes() == (work / name).read_bytes(), name
    # The big file is stored as LFS: the tree lists its sha256.
    entries = {e.path: e for e in hub.api.list_repo_tree("admin/push-me", path_in_repo="data")}
    assert entries["data/big.dat"].lfs is not None and entries["data/big.dat"].lfs.size == 11 * 1000 * 1000

    # The commit API builds on top of the pushed commit.
    commit = hub.api.upload_file(path_or_fileobj=b"from the API\n", path_in_repo="api.txt", repo_id="admin/push-me",
                                 commit_message="after the push")
    commits = hub.api.list_repo_commits("admin/push-me")
    assert commits[0].commit_id == commit.oid and commits[1].commit_id == pushed

    # git pull sees it; a second clone has everything.
    git(git_env, "pull", "--ff-only", "origin", "main", cwd=work)
    assert (work / "api.txt").read_text() == "from the API\n"
    second = tmp / "second"
    git(git_env, "clone", hub.url("admin/push-me"), str(second))
    for name in ("notes.txt", "data/big.dat", "api.txt", "sub/weights.bin"):
        assert (second / name).read_bytes() == (work / name).read_bytes(), name

    # A second push from the old clone on top of the API commit (fetch, then push again).
    (work / "notes.txt").write_text("pushed again\n")
    git(git_env, "commit", "-qam", "second push", cwd=work)
    git(git_env, "push", "origin", "main", cwd=work)
    assert hub.api.model_info("admin/push-me").sha == git(git_env, "rev-parse", "HEAD", cwd=work).stdout.strip()

    # Tags travel; a pull request made through the API can be updated by a push to refs/pr/N.
    git(git_env, "tag", "-a", "v1.0", "-m", "release", cwd=work)
    git(git_env, "push", "origin", "v1.0", cwd=work)
    assert "v1.0" in [t.name for t in hub.api.list_repo_refs("admin/push-me").tags]
    pr = hub.api.upload_file(path_or_fileobj=b"pr\n", path_in_repo="pr.txt", repo_id="admin/push-me", create_pr=True)
    assert pr.pr_revision == "refs/pr/1"
    git(git_env, "fetch", "origin", "refs/pr/1:pr1", cwd=work)
    git(git_env, "checkout", "-q", "pr1", cwd=work)
    (work / "pr.txt").write_text("pr, amended with git\n")
    git(git_env, "commit", "-qam", "update the PR", cwd=work)
    git(git_env, "push", "origin", "HEAD:refs/pr/1", cwd=work)
    path = hf_hub_download("admin/push-me", "pr.txt", revision="refs/pr/1", endpoint=hub.endpoint, token=hub.admin_token,
                           cache_dir=cache)
    assert Path(path).read_text() == "pr, amended with git\n"
    # ...but refs outside branches, tags and existing PRs are refused.
    out = git(git_env, "push", "origin", "HEAD:refs/pr/7", cwd=work, check=False)
    assert out.returncode != 0 and "pull request refs" in out.stderr, out.stderr
    out = git(git_env, "push", "origin", "HEAD:refs/convert/parquet", cwd=work, check=False)
    assert out.returncode != 0 and "can be pushed" in out.stderr, out.stderr
    assert_fsck(hub)


def test_private_repo_auth_and_push_rules(hub, tmp, git_env):
    folder = uploaded_repo(hub, tmp, "admin/secret", private=True)
    read_token = hub.token("admin", "read")

    # Anonymous: 401 with a Basic challenge; with prompts off, git gives up.
    out = git(git_env, "clone", hub.url("admin/secret"), str(tmp / "anon"), check=False)
    assert out.returncode != 0 and "could not read Username" in out.stderr, out.stderr
    # A wrong token: authentication fails.
    out = git(git_env, "clone", hub.url("admin/secret", "hf_notatoken"), str(tmp / "bad"), check=False)
    assert out.returncode != 0 and ("Authentication failed" in out.stderr or "401" in out.stderr), out.stderr
    # Another user's token: the repo is not found.
    subprocess.run([str(MLHUB_BIN), "user", "create", "--data", str(hub.data), "bob"], check=True, timeout=TIMEOUT,
                   capture_output=True)
    bob = hub.token("bob", "write")
    out = git(git_env, "clone", hub.url("admin/secret", bob), str(tmp / "bob"), check=False)
    assert out.returncode != 0 and ("not found" in out.stderr.lower() or "404" in out.stderr), out.stderr

    # The owner's read token clones (LFS too) but cannot push.
    work = tmp / "work"
    git(git_env, "clone", hub.url("admin/secret", read_token), str(work))
    assert (work / "sub" / "weights.bin").read_bytes() == (folder / "sub" / "weights.bin").read_bytes()
    (work / "small.txt").write_text("small\n")
    git(git_env, "add", "small.txt", cwd=work)
    git(git_env, "commit", "-qm", "small", cwd=work)
    out = git(git_env, "push", "origin", "main", cwd=work, check=False)
    assert out.returncode != 0 and ("403" in out.stderr or "read-only" in out.stderr), out.stderr

    # With a write token from a credential helper (as `hf auth login` stores it) the push goes
    # through, a new LFS object included: git-lfs sends no credentials to verify, whose href
    # authorises itself.
    Path(git_env["HOME"], ".git-credentials").write_text(f"http://hf_user:{hub.admin_token}@127.0.0.1:{hub.port}\n")
    git(git_env, "config", "credential.helper", "store", cwd=work)
    git(git_env, "remote", "set-url", "origin", hub.url("admin/secret"), cwd=work)
    write_random(work / "more.bin", 11 * 1000 * 1000, seed=4)
    git(git_env, "add", "more.bin", cwd=work)
    git(git_env, "commit", "-qm", "more", cwd=work)
    git(git_env, "push", "origin", "main", cwd=work)
    path = hf_hub_download("admin/secret", "more.bin", endpoint=hub.endpoint, token=hub.admin_token, cache_dir=tmp / "hf")
    assert Path(path).read_bytes() == (work / "more.bin").read_bytes()
    before = hub.api.model_info("admin/secret").sha
    assert before == git(git_env, "rev-parse", "HEAD", cwd=work).stdout.strip()

    # A 12 MB file outside LFS is refused with the Hub's message, and nothing moves.
    (work / ".gitattributes").write_text((work / ".gitattributes").read_text() + "*.raw -filter -text\n")
    write_random(work / "big.raw", 12 * 1000 * 1000, seed=3)
    git(git_env, "add", ".gitattributes", "big.raw", cwd=work)
    git(git_env, "commit", "-qm", "big non-LFS file", cwd=work)
    assert "big.raw" not in git(git_env, "lfs", "ls-files", "--name-only", cwd=work).stdout
    out = git(git_env, "push", "origin", "main", cwd=work, check=False)
    assert out.returncode != 0
    assert "files larger than 10 MB" in out.stderr and "big.raw" in out.stderr, out.stderr
    assert hub.api.model_info("admin/secret").sha == before
    git(git_env, "reset", "-q", "--hard", "HEAD~1", cwd=work)

    # Deleting the default branch is refused; other branches can come and go.
    out = git(git_env, "push", "origin", ":main", cwd=work, check=False)
    assert out.returncode != 0 and "default branch" in out.stderr, out.stderr
    git(git_env, "push", "origin", "main:feature", cwd=work)
    assert "feature" in [b.name for b in hub.api.list_repo_refs("admin/secret").branches]
    git(git_env, "push", "origin", ":feature", cwd=work)
    assert "feature" not in [b.name for b in hub.api.list_repo_refs("admin/secret").branches]
    assert hub.api.model_info("admin/secret").sha == before

    # An LFS pointer whose object never reached the hub is refused.
    pointer = ("version https://git-lfs.github.com/spec/v1\noid sha256:" + "ab" * 32 + "\nsize 12345\n")
    blob = subprocess.run(["git", "hash-object", "-w", "--stdin"], input=pointer, cwd=work, env=git_env,
                          capture_output=True, text=True, timeout=TIMEOUT, check=True).stdout.strip()
    git(git_env, "update-index", "--add", "--cacheinfo", f"100644,{blob},ghost.bin", cwd=work)
    git(git_env, "commit", "-qm", "dangling pointer", "--no-verify", cwd=work)
    out = git(git_env, "-c", "lfs.allowincompletepush=true", "push", "--no-verify", "origin", "main", cwd=work, check=False)
    assert out.returncode != 0 and "never uploaded" in out.stderr and "ghost.bin" in out.stderr, out.stderr
    assert hub.api.model_info("admin/secret").sha == before

    assert_fsck(hub)
