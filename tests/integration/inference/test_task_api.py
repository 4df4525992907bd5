"""The Hugging Face task API, the TEI routes and /v1/embeddings of `mlhub serve`, called by the
real clients (huggingface_hub's InferenceClient, the openai client) and by raw HTTP.

Expected values come from outside mlhub: transformers' own pipelines run in this process on the
same model folders (the tiny checkpoints under tests/golden/pipelines/models), and the committed
sentence-transformers / CrossEncoder references (tests/golden/minilm, tests/golden/pipelines/
text-ranking.jsonl) for all-MiniLM-L6-v2 and the cross-encoder.
"""
import base64
import json
import math
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

from conftest import MINILM, ROOT, SMOLLM2_GGUF, TINY, require

TOL = 1e-4
GOLDEN = ROOT / "tests" / "golden"

# repo id -> (folder, pipeline_tag, library_name)
MODELS = {
    "admin/sentiment": (TINY / "bert-tiny-sentiment", "text-classification", "transformers"),
    "admin/ner": (TINY / "bert-tiny-ner", "token-classification", "transformers"),
    "admin/qa": (TINY / "bert-tiny-qa", "question-answering", "transformers"),
    "admin/mlm": (TINY / "bert-tiny-mlm", "fill-mask", "transformers"),
    "admin/nli": (TINY / "bert-tiny-nli", "zero-shot-classification", "transformers"),
    "admin/reranker": (TINY / "bert-tiny-reranker", "text-ranking", "sentence-transformers"),
    "admin/encoder": (TINY / "bert-tiny-encoder", "feature-extraction", "transformers"),
    "admin/minilm": (MINILM, "sentence-similarity", "sentence-transformers"),
}

TEXTS = [
    "I absolutely loved this movie, the acting was wonderful!",
    "The service was slow and the food arrived cold.",
    "My name is Wolfgang and I live in Berlin.",
    "Sarah Johnson works for the United Nations in Geneva.",
]


def read_jsonl(path: Path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def close(got, want, tol=TOL, path="$"):
    """Asserts `got` equals `want`: same structure and strings, numbers within `tol`."""
    if isinstance(want, (np.floating, np.integer)):
        want = want.item()
    if isinstance(want, float) or isinstance(got, float):
        assert isinstance(got, (int, float)) and math.isfinite(got), f"{path}: got {got!r}, want {want!r}"
        assert abs(got - want) <= tol, f"{path}: got {got}, want {want}"
    elif isinstance(want, dict):
        assert isinstance(got, dict), f"{path}: got {type(got).__name__}, want an object"
        assert set(got) == set(want), f"{path}: keys {sorted(got)} != {sorted(want)}"
        for k in want:
            close(got[k], want[k], tol, f"{path}.{k}")
    elif isinstance(want, (list, tuple)):
        assert isinstance(got, list), f"{path}: got {type(got).__name__}, want a list"
        assert len(got) == len(want), f"{path}: {len(got)} items, want {len(want)}"
        for i, (g, w) in enumerate(zip(got, want)):
            close(g, w, tol, f"{path}[{i}]")
    else:
        assert got == want, f"{path}: got {got!r}, want {want!r}"


def plain(x):
    """huggingface_hub's output dataclasses (and lists of them) as plain JSON values."""
    if isinstance(x, list):
        return [plain(v) for v in x]
    if hasattr(x, "__dataclass_fields__"):
        return {k: plain(v) for k, v in vars(x).items() if v is not None}
    return x


@pytest.fixture(scope="module")
def hub(server):
    require(MINILM)
    for repo_id, (folder, tag, library) in MODELS.items():
        server.publish(repo_id, folder, tag, library_name=library)
    return server


@pytest.fixture(scope="module")
def http(hub):
    with httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {hub.admin_token}"}, timeout=180) as c:
        yield c


@pytest.fixture(scope="module")
def client_for(hub):
    from huggingface_hub import InferenceClient

    # provider="hf-inference" is implied by a URL for the task methods; get_endpoint_info wants it said.
    return lambda repo_id: InferenceClient(model=hub.model_url(repo_id), token=hub.admin_token, timeout=180,
                                           provider="hf-inference")


class Reference:
    """transformers' pipelines over the same folders, built once each."""

    def __init__(self):
        self._pipes = {}

    def __call__(self, task, repo_id):
        if (task, repo_id) not in self._pipes:
            from transformers import pipeline

            self._pipes[task, repo_id] = pipeline(task, model=str(MODELS[repo_id][0]), device="cpu")
        return self._pipes[task, repo_id]


@pytest.fixture(scope="module")
def ref():
    return Reference()


def post(http, path, body, status=200):
    r = http.post(path, json=body)
    assert r.status_code == status, f"{path}: {r.status_code} {r.text[:500]}"
    return r.json()


# ---- the task API through huggingface_hub's InferenceClient ------------------------------------


def test_text_classification(client_for, ref):
    client = client_for("admin/sentiment")
    for text in TEXTS:
        got = plain(client.text_classification(text))
        want = ref("text-classification", "admin/sentiment")(text, top_k=None)
        assert len(got) == 3  # every label, sorted by score (the HF API's answer)
        close(got, want)
        assert [g["score"] for g in got] == sorted((g["score"] for g in got), reverse=True)
    got = plain(client.text_classification(TEXTS[0], top_k=2, function_to_apply="sigmoid"))
    close(got, ref("text-classification", "admin/sentiment")(TEXTS[0], top_k=2, function_to_apply="sigmoid"))


def test_token_classification(client_for, ref):
    client = client_for("admin/ner")
    pipe = ref("token-classification", "admin/ner")
    for text in TEXTS:
        close(plain(client.token_classification(text)), pipe(text, aggregation_strategy="simple"))
    # aggregation none: per-token entities with their index.
    got = plain(client.token_classification(TEXTS[2], aggregation_strategy="none"))
    want = pipe(TEXTS[2])
    assert got and all("entity" in g and "index" in g for g in got)
    close(got, want)


def test_question_answering(client_for):
    """transformers 5 has no question-answering pipeline any more: the expected answers are the
    committed transformers 4.57.3 goldens, every bert-tiny-qa case with its parameters."""
    client = client_for("admin/qa")
    cases = [c for c in read_jsonl(GOLDEN / "pipelines" / "question-answering.jsonl") if c["model"] == "bert-tiny-qa"]
    assert len(cases) >= 20
    for case in cases:
        got = plain(client.question_answering(**case["input"], **case["params"]))
        close(got, case["output"])


def test_fill_mask(client_for, ref):
    client = client_for("admin/mlm")
    pipe = ref("fill-mask", "admin/mlm")
    for text in ["Paris is the [MASK] of France.", "The [MASK] sat on the mat."]:
        close(plain(client.fill_mask(text)), pipe(text))
    close(plain(client.fill_mask("Paris is the [MASK] of France.", targets=["capital", "city"])),
          pipe("Paris is the [MASK] of France.", targets=["capital", "city"]))


def test_zero_shot_classification(client_for, ref):
    client = client_for("admin/nli")
    pipe = ref("zero-shot-classification", "admin/nli")
    labels = ["politics", "sports", "economy", "travel"]
    for multi in (False, True):
        got = plain(client.zero_shot_classification(TEXTS[3], candidate_labels=labels, multi_label=multi))
        want = pipe(TEXTS[3], candidate_labels=labels, multi_label=multi)
        close(got, [{"label": l, "score": s} for l, s in zip(want["labels"], want["scores"])])


def test_feature_extraction_sentence_transformers(client_for):
    """MiniLM (a sentence-similarity model) embeds through the bare model URL, as the Python
    client posts it: pooled vectors equal to sentence-transformers' (the committed golden)."""
    cases = read_jsonl(GOLDEN / "minilm" / "embeddings.jsonl")[:6]
    client = client_for("admin/minilm")
    one = client.feature_extraction(cases[0]["input"])
    assert one.shape == (384,)
    close(one.tolist(), cases[0]["embedding"])
    many = client.feature_extraction([c["input"] for c in cases])
    assert many.shape == (len(cases), 384)
    close(many.tolist(), [c["embedding"] for c in cases])
    cut = client.feature_extraction(cases[0]["input"], normalize=True, dimensions=16)
    assert cut.shape == (16,)
    assert abs(float(np.linalg.norm(cut)) - 1.0) < 1e-5
    close((cut * np.linalg.norm(cases[0]["embedding"][:16])).tolist(), cases[0]["embedding"][:16])


def test_feature_extraction_token_level(client_for, http, ref):
    """A plain transformers encoder answers transformers' token vectors: [1][T][H] for one
    string, [N][T][H] for a list (ragged, so numpy cannot take it: raw HTTP)."""
    pipe = ref("feature-extraction", "admin/encoder")
    one = client_for("admin/encoder").feature_extraction(TEXTS[0])
    assert one.shape[0] == 1 and one.shape[2] == 32
    close(one.tolist(), pipe(TEXTS[0]))
    many = post(http, "/models/admin/encoder", {"inputs": TEXTS[:2]})
    close(many, [pipe(text)[0] for text in TEXTS[:2]])


def test_sentence_similarity(client_for):
    client = client_for("admin/minilm")
    for case in read_jsonl(GOLDEN / "minilm" / "similarity.jsonl"):
        got = client.sentence_similarity(case["source_sentence"], other_sentences=case["sentences"])
        close(got, case["output"])


def test_endpoint_info(client_for):
    info = client_for("admin/minilm").get_endpoint_info()
    assert info["model_id"] == "admin/minilm"
    assert len(info["model_sha"]) == 40
    assert info["model_type"] == {"embedding": {"pooling": "mean"}}
    assert info["max_input_length"] == 256  # sentence_bert_config.json's max_seq_length
    assert info["max_client_batch_size"] == 64
    labels = client_for("admin/sentiment").get_endpoint_info()["model_type"]["classifier"]["id2label"]
    assert labels == {"0": "NEGATIVE", "1": "NEUTRAL", "2": "POSITIVE"}
    assert "reranker" in client_for("admin/reranker").get_endpoint_info()["model_type"]


def test_language_models_go_to_the_generation_routes(hub, http):
    """The task API and /info hand a chat model to the generation routes (TGI's shapes)."""
    hub.publish("admin/smollm2", require(SMOLLM2_GGUF), "text-generation", tags=["conversational"], library_name="gguf")
    out = post(http, "/models/admin/smollm2", {"inputs": "The capital of France is",
                                               "parameters": {"max_new_tokens": 4, "do_sample": False}})
    assert isinstance(out, list) and isinstance(out[0]["generated_text"], str) and out[0]["generated_text"]
    info = http.get("/models/admin/smollm2/info").json()
    assert info["model_id"] == "admin/smollm2" and "max_input_tokens" in info and "model_type" not in info
    r = http.post("/models/admin/smollm2/embed", json={"inputs": "x"})
    assert r.status_code == 424 and r.json()["error_type"] == "Backend"


# ---- batches, URL forms and concurrency (raw HTTP) -------------------------------------------------


def test_batches_equal_single_inputs(http):
    """A list of inputs answers one result per input, each equal to that input sent alone."""
    cases = {
        "admin/sentiment": ({}, TEXTS),
        "admin/ner": ({}, TEXTS),
        "admin/mlm": ({"top_k": 3}, ["Paris is the [MASK] of France.", "I went to the [MASK] to buy bread."]),
        "admin/nli": ({"candidate_labels": ["politics", "sports"]}, TEXTS[:3]),
        "admin/qa": ({"top_k": 2}, [{"question": "Where does he live?", "context": "He lives in Berlin."},
                                    {"question": "Who directed it?", "context": "Kieslowski directed the film in 1988."}]),
        "admin/minilm": ({}, TEXTS),
    }
    for repo_id, (params, inputs) in cases.items():
        batch = post(http, f"/models/{repo_id}", {"inputs": inputs, "parameters": params})
        assert isinstance(batch, list) and len(batch) == len(inputs), repo_id
        for item, got in zip(inputs, batch):
            single = post(http, f"/models/{repo_id}", {"inputs": item, "parameters": params})
            if repo_id == "admin/sentiment":
                single = single[0]  # text-classification nests even one input
            close(got, single, tol=1e-5)


def test_text_classification_is_always_nested(http):
    one = post(http, "/models/admin/sentiment", {"inputs": TEXTS[0]})
    assert isinstance(one, list) and len(one) == 1 and isinstance(one[0], list) and len(one[0]) == 3
    pair = post(http, "/models/admin/sentiment", {"inputs": {"text": TEXTS[0], "text_pair": TEXTS[1]}})
    assert isinstance(pair[0], list) and {"label", "score"} == set(pair[0][0])
    # Legacy "options" and the old headers are accepted and ignored.
    r = http.post("/models/admin/sentiment", json={"inputs": TEXTS[0], "options": {"wait_for_model": True}},
                  headers={"x-wait-for-model": "true", "x-use-cache": "false"})
    assert r.status_code == 200 and r.json() == one


def test_url_forms(http):
    want = post(http, "/models/admin/minilm/pipeline/feature-extraction", {"inputs": "A man is eating food."})
    assert len(want) == 384
    close(post(http, "/hf-inference/models/admin/minilm/pipeline/feature-extraction", {"inputs": "A man is eating food."}), want)
    close(post(http, "/pipeline/feature-extraction/admin/minilm", {"inputs": "A man is eating food."}), want)
    # Old clients put feature-extraction options under parameters.
    cut = post(http, "/models/admin/minilm", {"inputs": "A man is eating food.", "parameters": {"dimensions": 8}})
    close(cut, want[:8])
    sims = post(http, "/models/admin/minilm/pipeline/sentence-similarity",
                {"inputs": {"source_sentence": "A man is eating food.", "sentences": ["A man is eating food."]}})
    close(sims, [1.0])


def test_concurrent_requests_equal_sequential(http):
    """Requests queued together (dynamic batching) get what each gets alone."""
    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS * 4)]
    alone = [post(http, "/models/admin/sentiment", {"inputs": t}) for t in texts]
    with ThreadPoolExecutor(max_workers=8) as pool:
        together = list(pool.map(lambda t: post(http, "/models/admin/sentiment", {"inputs": t}), texts))
    for a, b in zip(alone, together):
        close(b, a, tol=1e-5)


def test_usage_headers(http):
    r = http.post("/models/admin/minilm", json={"inputs": ["A man is eating food.", "A man is riding a horse."]})
    assert r.status_code == 200
    # The inputs' characters and MiniLM's token counts (the golden's: 8 and 9, special tokens in).
    assert r.headers["x-compute-characters"] == str(len("A man is eating food.") + len("A man is riding a horse."))
    assert r.headers["x-compute-tokens"] == "17"


# ---- errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path, body, status, fragment", [
    ("/models/admin/sentiment", b"{not json", 400, "not valid JSON"),
    ("/models/admin/sentiment", {"parameters": {}}, 400, "`inputs` is required"),
    ("/models/admin/sentiment", {"inputs": []}, 400, "`inputs` cannot be empty"),
    ("/models/admin/sentiment", {"inputs": ""}, 400, "empty string"),
    ("/models/admin/sentiment", {"inputs": 42}, 400, "must be"),
    ("/models/admin/sentiment", {"inputs": ["ok", 1]}, 400, "`inputs[1]`"),
    ("/models/admin/sentiment", {"inputs": ["x"] * 65}, 413, "maximum allowed batch size 64"),
    ("/models/admin/sentiment", {"inputs": "x", "parameters": "top_k=2"}, 400, "`parameters` must be an object"),
    ("/models/admin/sentiment", {"inputs": "x", "parameters": {"function_to_apply": "cube"}}, 400, "function_to_apply"),
    ("/models/admin/sentiment/pipeline/image-classification", {"inputs": "x"}, 400, "Task 'image-classification' is not supported"),
    ("/models/admin/no-such-model", {"inputs": "x"}, 404, ""),
    ("/models/admin/nli", {"inputs": "x"}, 400, "candidate_labels"),
    ("/models/admin/mlm", {"inputs": "no mask here"}, 400, "mask"),
    ("/models/admin/qa", {"inputs": {"question": "Where?"}}, 400, "`inputs.context` is required"),
    ("/models/admin/minilm", {"inputs": {"source_sentence": "a", "sentences": []}}, 400, "cannot be empty"),
    ("/models/admin/encoder", {"inputs": "x", "normalize": True}, 400, "one vector per token"),
])
def test_task_api_errors(http, path, body, status, fragment):
    r = http.post(path, content=body) if isinstance(body, bytes) else http.post(path, json=body)
    assert r.status_code == status, r.text
    err = r.json()
    assert isinstance(err, dict) and isinstance(err.get("error"), str), err
    assert fragment in err["error"], err


def test_errors_through_the_client(client_for):
    from huggingface_hub.errors import HfHubHTTPError

    with pytest.raises(HfHubHTTPError) as e:
        client_for("admin/mlm").fill_mask("no mask here")
    assert e.value.response.status_code == 400
    with pytest.raises(HfHubHTTPError) as e:
        client_for("admin/no-such-model").text_classification("x")
    assert e.value.response.status_code == 404


def test_token_required(hub):
    r = httpx.post(f"{hub.url}/models/admin/sentiment", json={"inputs": "x"}, timeout=60)
    assert r.status_code == 401, r.text
    assert "error" in r.json()


# ---- TEI routes -------------------------------------------------------------------------------------


def test_tei_embed(http):
    cases = read_jsonl(GOLDEN / "minilm" / "embeddings.jsonl")[:5]
    one = post(http, "/models/admin/minilm/embed", {"inputs": cases[0]["input"]})
    assert len(one) == 1 and len(one[0]) == 384  # always 2-D
    close(one, [cases[0]["embedding"]])
    many = post(http, "/models/admin/minilm/embed", {"inputs": [c["input"] for c in cases], "normalize": True})
    close(many, [c["embedding"] for c in cases])
    cut = post(http, "/models/admin/minilm/embed", {"inputs": cases[0]["input"], "dimensions": 32})[0]
    assert len(cut) == 32 and abs(math.hypot(*cut) - 1.0) < 1e-5


def test_tei_similarity(http):
    for case in read_jsonl(GOLDEN / "minilm" / "similarity.jsonl"):
        got = post(http, "/models/admin/minilm/similarity",
                   {"inputs": {"source_sentence": case["source_sentence"], "sentences": case["sentences"]}})
        close(got, case["output"])


def test_tei_rerank(http):
    """Scores of sentence-transformers' CrossEncoder (the committed golden), sorted."""
    for case in read_jsonl(GOLDEN / "pipelines" / "text-ranking.jsonl"):
        query, texts = case["input"]["query"], case["input"]["texts"]
        got = post(http, "/models/admin/reranker/rerank", {"query": query, "texts": texts})
        want = sorted(({"index": i, "score": s} for i, s in enumerate(case["output"]["scores"])),
                      key=lambda r: -r["score"])
        close(got, want)
        raw = post(http, "/models/admin/reranker/rerank",
                   {"query": query, "texts": texts, "raw_scores": True, "return_text": True})
        close(raw, sorted(({"index": i, "score": s, "text": texts[i]} for i, s in enumerate(case["raw_scores"])),
                          key=lambda r: -r["score"]))


def test_tei_predict(http, ref):
    pipe = ref("text-classification", "admin/sentiment")
    single = post(http, "/models/admin/sentiment/predict", {"inputs": TEXTS[0]})
    close(single, pipe(TEXTS[0], top_k=None))
    pair = post(http, "/models/admin/sentiment/predict", {"inputs": [TEXTS[0], TEXTS[1]]})
    close(pair, pipe({"text": TEXTS[0], "text_pair": TEXTS[1]}, top_k=None))
    batch = post(http, "/models/admin/sentiment/predict", {"inputs": [[TEXTS[0]], [TEXTS[0], TEXTS[1]]]})
    close(batch, [single, pair], tol=1e-5)
    raw = post(http, "/models/admin/sentiment/predict", {"inputs": TEXTS[0], "raw_scores": True})
    close(raw, pipe(TEXTS[0], top_k=None, function_to_apply="none"))


def test_tei_tokenize(http):
    from tokenizers import Tokenizer

    text = "Café au lait, s'il vous plaît!"
    got = post(http, "/models/admin/minilm/tokenize", {"inputs": text})
    assert len(got) == 1
    want = Tokenizer.from_file(str(MINILM / "tokenizer.json"))
    want.no_truncation()
    want.no_padding()
    enc = want.encode(text)
    assert [t["id"] for t in got[0]] == enc.ids
    data = text.encode()
    for t, (start, stop), special in zip(got[0], enc.offsets, enc.special_tokens_mask):
        assert t["special"] == bool(special)
        if special:
            assert t["start"] is None and t["text"] in ("[CLS]", "[SEP]")
        else:  # TEI's offsets count bytes
            assert data[t["start"]:t["stop"]].decode() == text[start:stop] == t["text"]
    bare = post(http, "/models/admin/minilm/tokenize", {"inputs": [text, "hi"], "add_special_tokens": False})
    assert [t["id"] for t in bare[0]] == want.encode(text, add_special_tokens=False).ids and len(bare) == 2


def test_task_api_text_ranking(http):
    """A text-ranking model on the task API answers TEI's rerank list (there is no HF spec)."""
    case = read_jsonl(GOLDEN / "pipelines" / "text-ranking.jsonl")[0]
    got = post(http, "/models/admin/reranker", {"inputs": case["input"]})
    close(got, post(http, "/models/admin/reranker/rerank", case["input"]))
    assert [r["index"] for r in got] == [r["corpus_id"] for r in case["rank"]]


@pytest.mark.parametrize("path, body, status, error_type", [
    ("/models/admin/sentiment/embed", {"inputs": "x"}, 424, "Backend"),
    ("/models/admin/minilm/rerank", {"query": "q", "texts": ["a"]}, 424, "Backend"),
    ("/models/admin/minilm/embed", {"inputs": ["x"] * 65}, 413, "Validation"),
    ("/models/admin/minilm/embed", {"inputs": []}, 422, "Validation"),
    ("/models/admin/minilm/embed", {"inputs": [101, 102]}, 422, "Validation"),
    ("/models/admin/minilm/embed", {"inputs": "x", "truncation_direction": "left"}, 422, "Validation"),
    ("/models/admin/reranker/rerank", {"query": "q", "texts": []}, 422, "Validation"),
    ("/models/admin/sentiment/predict", {"inputs": ["a", "b", "c"]}, 422, "Validation"),
    ("/models/admin/minilm/similarity", {"inputs": {"source_sentence": "a"}}, 422, "Validation"),
])
def test_tei_errors(http, path, body, status, error_type):
    r = http.post(path, json=body)
    assert r.status_code == status, r.text
    assert r.json()["error_type"] == error_type and r.json()["error"], r.text


# ---- OpenAI /v1/embeddings ---------------------------------------------------------------------------


def test_openai_embeddings(hub):
    from openai import OpenAI

    cases = read_jsonl(GOLDEN / "minilm" / "embeddings.jsonl")[:4]
    counts = json.loads((GOLDEN / "minilm" / "meta.json").read_text())["token_counts"][:4]
    texts = [c["input"] for c in cases]
    for base_url, model in [(f"{hub.url}/v1", "admin/minilm"), (f"{hub.model_url('admin/minilm')}/v1", "anything")]:
        client = OpenAI(base_url=base_url, api_key=hub.admin_token)
        # The client asks for base64 by default and decodes it itself.
        res = client.embeddings.create(model=model, input=texts)
        assert res.object == "list" and res.model == "admin/minilm"
        assert [d.index for d in res.data] == [0, 1, 2, 3]
        close([d.embedding for d in res.data], [c["embedding"] for c in cases])
        assert res.usage.prompt_tokens == res.usage.total_tokens == sum(counts)
        floats = client.embeddings.create(model=model, input=texts[0], encoding_format="float")
        close(floats.data[0].embedding, cases[0]["embedding"])
        short = client.embeddings.create(model=model, input=texts[0], dimensions=64, encoding_format="float")
        assert len(short.data[0].embedding) == 64


def test_openai_embeddings_wire_format(http):
    """base64 is little-endian float32, exactly the float answer's values."""
    body = {"model": "admin/minilm", "input": ["A man is eating food.", "A man is riding a horse."]}
    floats = post(http, "/v1/embeddings", {**body, "encoding_format": "float"})
    b64 = post(http, "/v1/embeddings", {**body, "encoding_format": "base64"})
    for f, b in zip(floats["data"], b64["data"]):
        assert f["object"] == "embedding" and isinstance(b["embedding"], str)
        decoded = np.frombuffer(base64.b64decode(b["embedding"]), dtype="<f4")
        assert decoded.tolist() == np.asarray(f["embedding"], dtype=np.float32).tolist()


def test_openai_embeddings_errors(hub):
    from openai import BadRequestError, OpenAI, NotFoundError

    client = OpenAI(base_url=f"{hub.url}/v1", api_key=hub.admin_token)
    with pytest.raises(BadRequestError) as e:
        client.embeddings.create(model="admin/minilm", input=[[101, 2023, 102]])
    assert "token ids" in str(e.value)
    with pytest.raises(BadRequestError):
        client.embeddings.create(model="admin/minilm", input="x", dimensions=1000)
    with pytest.raises(BadRequestError):
        client.embeddings.create(model="admin/sentiment", input="x")
    with pytest.raises(NotFoundError):
        client.embeddings.create(model="admin/missing", input="x")


# ---- metering -----------------------------------------------------------------------------------------


def test_usage_is_metered(hub):
    """What the routes count reaches /api/usage: the characters sent and the model's tokens."""
    token = hub.user("meter-enc", "read")
    cases = read_jsonl(GOLDEN / "minilm" / "embeddings.jsonl")[:3]
    counts = json.loads((GOLDEN / "minilm" / "meta.json").read_text())["token_counts"][:3]
    texts = [c["input"] for c in cases]
    with httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {token}"}, timeout=180) as c:
        assert c.post("/models/admin/minilm/embed", json={"inputs": texts}).status_code == 200
        assert c.post("/models/admin/minilm", json={"inputs": texts[0]}).status_code == 200
        assert c.post("/models/admin/minilm/embed", json={"inputs": []}).status_code == 422
        usage = c.get("/api/usage").json()
    row = next(r for r in usage["by_model"] if r["model"] == "admin/minilm")
    assert row["requests"] == 3 and row["errors"] == 1
    assert row["input_characters"] == sum(len(t) for t in texts) + len(texts[0])
    assert row["input_tokens"] == sum(counts) + counts[0]
