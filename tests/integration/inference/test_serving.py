"""Serving as an operator sees it: plans and quotas through real clients, /metrics, /api/usage,
the memory budget, and a separate inference-only server that serves another hub's models."""
import re
import tempfile
import time
from pathlib import Path

import httpx
import pytest
from huggingface_hub import InferenceClient
from huggingface_hub.errors import HfHubHTTPError

from conftest import TINY, InferenceHub, unique


def auth(token):
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def models(server):
    return {
        "sentiment": server.publish("admin/tiny-sentiment", TINY / "bert-tiny-sentiment", "text-classification"),
        "ner": server.publish("admin/tiny-ner", TINY / "bert-tiny-ner", "token-classification"),
    }


def test_requests_per_minute_plan_gives_429_with_retry_after(server, models):
    token = server.user("rpm-user")
    server.cli("plan", "create", "rpm2", "--requests-per-minute", "2")
    server.cli("plan", "assign", "rpm2", "--account", "rpm-user")
    url = server.model_url(models["sentiment"])
    client = InferenceClient(model=url, token=token)
    assert client.text_classification("I like it")[0].label  # 1
    assert client.text_classification("I like it too")[0].label  # 2
    with pytest.raises(HfHubHTTPError) as e:
        client.text_classification("one too many")
    assert e.value.response.status_code == 429
    retry = int(e.value.response.headers["Retry-After"])
    assert 1 <= retry <= 60
    assert "Rate limit reached" in e.value.response.json()["error"]
    # Other accounts are not affected by this account's window.
    assert InferenceClient(model=url, token=server.admin_token).text_classification("fine")[0].label


def test_monthly_characters_and_model_size(server, models):
    token = server.user("chars-user")
    server.cli("plan", "create", "chars40", "--monthly-characters", "40", "--max-model-size", "1GB")
    server.cli("plan", "assign", "chars40", "--account", "chars-user")
    url = server.model_url(models["sentiment"])
    with httpx.Client(timeout=60) as http:
        r = http.post(url, json={"inputs": "x" * 30}, headers=auth(token))
        assert r.status_code == 200, r.text
        r = http.post(url, json={"inputs": "y" * 30}, headers=auth(token))  # 60 > 40: this one still ran
        assert r.status_code == 200, r.text
        deadline = time.monotonic() + 10
        while True:  # the counter is updated when the request is recorded
            r = http.post(url, json={"inputs": "z"}, headers=auth(token))
            if r.status_code == 429 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert r.status_code == 429, r.text
        assert int(r.headers["Retry-After"]) > 0
    # A plan whose models must be tiny refuses a bigger one with 403 (permanent, not retried).
    small = server.user("small-user")
    server.cli("plan", "create", "tinymodels", "--max-model-size", "1KB")
    server.cli("plan", "assign", "tinymodels", "--account", "small-user")
    r = httpx.post(url, json={"inputs": "hello"}, headers=auth(small), timeout=60)
    assert r.status_code == 403, r.text
    assert "tinymodels" in r.json()["error"]


def test_usage_is_metered_per_account(server, models):
    token = server.user("usage-user")
    url = server.model_url(models["ner"])
    texts = ["My name is Sarah and I live in London", "Paris is nice"]
    with httpx.Client(timeout=60) as http:
        for t in texts:
            assert http.post(url, json={"inputs": t}, headers=auth(token)).status_code == 200
        assert http.post(url, json={"inputs": 5}, headers=auth(token)).status_code == 400
        usage = http.get(f"{server.url}/api/usage", headers=auth(token)).json()
        assert http.get(f"{server.url}/api/usage").status_code == 401
    assert usage["account"] == "usage-user"
    total = usage["total"]
    assert total["requests"] == 3 and total["errors"] == 1
    assert total["input_characters"] == sum(len(t) for t in texts)
    assert total["input_tokens"] > 0
    [row] = [m for m in usage["by_model"] if m["model"] == models["ner"]]
    assert row["requests"] == 3


def test_metrics_expose_requests_batches_and_models(server, models):
    url = server.model_url(models["sentiment"])
    with httpx.Client(timeout=60) as http:
        for i in range(3):
            assert http.post(url, json={"inputs": f"text {i}"}, headers=auth(server.admin_token)).status_code == 200
        text = http.get(f"{server.url}/metrics").text
    def value(pattern):
        m = re.search(pattern, text, re.M)
        assert m, f"{pattern!r} not in /metrics:\n{text[:3000]}"
        return float(m.group(1))
    assert value(r'^tgi_request_success\{[^}]*model="admin/tiny-sentiment"[^}]*\} (\S+)') >= 3
    assert value(r'^tgi_batch_inference_count\{[^}]*\} (\S+)') >= 1
    assert value(r"^mlhub_models_loaded (\S+)") >= 1
    assert value(r'^tgi_queue_size\{[^}]*model="admin/tiny-sentiment"[^}]*\} (\S+)') == 0
    assert value(r'^tgi_request_duration_count\{[^}]*model="admin/tiny-sentiment"[^}]*\} (\S+)') >= 3


def test_memory_budget_evicts_the_least_recently_used_model():
    """A budget that holds one tiny model: serving the other evicts it, and both keep working."""
    size = sum(p.stat().st_size for p in (TINY / "bert-tiny-sentiment").glob("*.safetensors"))
    with tempfile.TemporaryDirectory(prefix="mlhub-itest-inf-") as tmp:
        h = InferenceHub(Path(tmp) / "data", ["--inference-memory", str(int(size * 1.5))])
        try:
            a = h.publish("admin/a", TINY / "bert-tiny-sentiment", "text-classification")
            b = h.publish("admin/b", TINY / "bert-tiny-nli", "text-classification")
            with httpx.Client(timeout=60) as http:
                for repo in (a, b, a):
                    r = http.post(h.model_url(repo), json={"inputs": "hello"}, headers=auth(h.admin_token))
                    assert r.status_code == 200, r.text
                metrics = http.get(f"{h.url}/metrics").text
            assert re.search(r"^mlhub_models_loaded 1(\.0)?$", metrics, re.M), metrics
        finally:
            h.stop()


def test_inference_only_server_serves_another_hubs_models(server, models):
    """mlhub serve --inference-only --hub URL: models and tokens come from the hub; no hub routes."""
    token = server.user("remote-user")
    private = server.publish(f"admin/{unique('private')}", TINY / "bert-tiny-sentiment", "text-classification",
                             private=True)
    with tempfile.TemporaryDirectory(prefix="mlhub-itest-inf-") as tmp:
        edge = InferenceHub(Path(tmp) / "data", ["--inference-only", "--hub", server.url])
        try:
            with httpx.Client(timeout=120) as http:
                want = http.post(server.model_url(models["sentiment"]), json={"inputs": "great"},
                                 headers=auth(token)).json()
                got = http.post(edge.model_url(models["sentiment"]), json={"inputs": "great"}, headers=auth(token))
                assert got.status_code == 200, got.text
                assert got.json() == want
                # The remote hub decides visibility: the user cannot see admin's private repo...
                r = http.post(edge.model_url(private), json={"inputs": "great"}, headers=auth(token))
                assert r.status_code == 404, r.text
                # ...the admin can.
                r = http.post(edge.model_url(private), json={"inputs": "great"}, headers=auth(server.admin_token))
                assert r.status_code == 200, r.text
                # A token the hub does not know is refused; hub routes are not served here.
                assert http.post(edge.model_url(models["sentiment"]), json={"inputs": "x"},
                                 headers=auth("hf_" + "x" * 34)).status_code == 401
                assert http.get(f"{edge.url}/api/models/{models['sentiment']}").status_code == 404
                # Usage is metered on the inference server, under the remote user's name.
                usage = http.get(f"{edge.url}/api/usage", headers=auth(token)).json()
                assert usage["account"] == "remote-user" and usage["total"]["requests"] == 1
        finally:
            edge.stop()
