"""A real `mlhub serve` on loopback for the hub integration suite.

The server binary comes from MLHUB_BIN (default build/mlhub). Each test module gets its own
server on a fresh data folder (`hub` fixture), so modules are independent; tests inside a module
use unique repo names. huggingface_hub reads HF_ENDPOINT at import, so tests that need other
environment variables (HF_HUB_DISABLE_XET, HF_HOME, ...) run their client code in a subprocess
with `hub.python(code, env)`.
"""
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
MLHUB = Path(os.environ.get("MLHUB_BIN", ROOT / "build" / "mlhub")).resolve()
MINILM = Path(os.environ.get("MLHUB_MODELS", Path.home() / ".cache/mlhub/models")) / "all-MiniLM-L6-v2"


class Hub:
    def __init__(self, data: Path, extra_args=()):
        self.data = data
        self.log = open(data.parent / "server.log", "wb")
        self.proc = subprocess.Popen(
            [str(MLHUB), "serve", "--data", str(data), "--host", "127.0.0.1", "--port", "0", *extra_args],
            stdout=subprocess.PIPE, stderr=self.log)
        try:
            line = self._wait_listening(timeout=120)
        except BaseException:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.log.close()
            raise
        self.port = int(re.search(rb"http://127\.0\.0\.1:(\d+)", line).group(1))
        self.url = f"http://127.0.0.1:{self.port}"
        self.admin_token = (data / "admin.token").read_text().strip()

    def _wait_listening(self, timeout: float) -> bytes:
        """The "listening on" line, within `timeout` seconds, or a failure with what was seen."""
        deadline = time.monotonic() + timeout
        seen = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                seen += line
                if re.search(rb"listening on http://127\.0\.0\.1:\d+", line):
                    return line
                if not line:  # stdout closed: the server exited
                    break
            elif self.proc.poll() is not None:
                break
        raise AssertionError(f"{MLHUB} serve did not start in {timeout} s (exit {self.proc.poll()}): {seen!r}; "
                             f"log: {(self.data.parent / 'server.log').read_bytes()[-2000:]!r}\n"
                             f"threads:\n{self._backtraces()}")

    def _backtraces(self) -> str:
        """Where a server that is still running stands (gdb's backtrace of every thread), for a
        start-up that timed out: once seen in CI under load, never reproduced here."""
        if self.proc.poll() is not None or not shutil.which("gdb"):
            return "(no gdb or no process)"
        out = subprocess.run(["gdb", "-p", str(self.proc.pid), "-batch", "-ex", "thread apply all bt 20"],
                             capture_output=True, text=True, timeout=60)
        return out.stdout[-6000:]

    def cli(self, *args) -> str:
        out = subprocess.run([str(MLHUB), *args, "--data", str(self.data)], capture_output=True, text=True, timeout=30)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    def user(self, name: str, role: str = "write") -> str:
        """Creates a user (if needed) and returns a new token of `role`."""
        subprocess.run([str(MLHUB), "user", "create", name, "--data", str(self.data)], capture_output=True, timeout=30)
        return self.cli("token", "create", "--user", name, "--role", role)

    def api(self, token=None):
        from huggingface_hub import HfApi
        return HfApi(endpoint=self.url, token=token or self.admin_token)

    def python(self, code: str, env=None, timeout=180) -> str:
        """Runs `code` in a fresh interpreter with HF_ENDPOINT set (and `env`); returns stdout."""
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
        full_env.update({"HF_ENDPOINT": self.url, "HF_TOKEN": self.admin_token, "HF_HUB_DISABLE_TELEMETRY": "1",
                         "DISABLE_SAFETENSORS_CONVERSION": "1"})
        full_env.update(env or {})
        out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                             env=full_env, timeout=timeout)
        assert out.returncode == 0, f"stdout:\n{out.stdout}\nstderr:\n{out.stderr[-4000:]}"
        return out.stdout

    def stop(self):
        self.proc.kill()
        self.proc.wait(timeout=10)
        self.log.close()


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def hub():
    with tempfile.TemporaryDirectory(prefix="mlhub-itest-") as tmp:
        h = Hub(Path(tmp) / "data")
        try:
            yield h
        finally:
            h.stop()


@pytest.fixture(scope="module")
def lfs_hub():
    """A server that lets huggingface_hub >= 1.20 upload through LFS (with HF_HUB_DISABLE_XET=1)."""
    with tempfile.TemporaryDirectory(prefix="mlhub-itest-") as tmp:
        h = Hub(Path(tmp) / "data", ["--xet-fallback", "lfs"])
        try:
            yield h
        finally:
            h.stop()


@pytest.fixture()
def workdir(tmp_path):
    return tmp_path


def write_files(root: Path, files: dict) -> Path:
    for name, content in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content if isinstance(content, bytes) else content.encode())
    return root
