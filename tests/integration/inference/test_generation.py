"""Text generation on `mlhub serve`: TGI's /generate and /generate_stream, the task API's
text-generation, /info, and the OpenAI /v1/chat/completions and /v1/completions routes, called by
the real clients (huggingface_hub's InferenceClient, the openai client, TGI's text-generation
client) and by raw HTTP.

Models: the real SmolLM2-135M-Instruct Q4_1 GGUF (a chat model) and the tiny random llama of
tests/golden/pipelines/models/llama-tiny-qwen-tok (with the shared Qwen2.5 tokenizer.json).
Expected texts come from outside the server: transformers' TextGenerationPipeline goldens
(tests/golden/pipelines/text-generation.jsonl), the committed SmolLM2 greedy golden
(tests/golden/smollm2/case.json, transformers on the same GGUF) and `mlhub run text-generation`.
"""
import json
import os
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from conftest import ROOT, SMOLLM2_GGUF, TINY, InferenceHub, require

MLHUB_BIN = Path(os.environ.get("MLHUB_BIN", ROOT / "build" / "mlhub")).resolve()
SHARED = Path(os.environ.get("MLHUB_SHARED_DIR", ROOT.parent / "shared"))
TGI_PYTHON = os.environ.get("MLHUB_TGI_PYTHON", str(Path.home() / ".cache/mlhub/tgienv/bin/python"))
GOLDEN = ROOT / "tests" / "golden"
SMOL = "admin/smollm2-instruct-gguf"
TINY_LM = "admin/llama-tiny"
TEXT_PROMPT = "The three primary colors are"  # the SmolLM2 golden's text prompt


def read_jsonl(path: Path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def publish_models(server: InferenceHub):
    server.publish(SMOL, require(SMOLLM2_GGUF), "text-generation", tags=["conversational"], library_name="gguf")
    with tempfile.TemporaryDirectory(prefix="mlhub-tiny-llama-") as tmp:
        folder = Path(tmp)
        for p in (TINY / "llama-tiny-qwen-tok").iterdir():
            os.symlink(p.resolve(), folder / p.name)
        os.symlink(require(SHARED / "data/tokenizers/qwen2.5/tokenizer.json"), folder / "tokenizer.json")
        server.publish(TINY_LM, folder, "text-generation", tags=["conversational"])


@pytest.fixture(scope="module")
def hub(server):
    publish_models(server)
    return server


@pytest.fixture(scope="module")
def http(hub):
    with httpx.Client(base_url=hub.url, headers={"Authorization": f"Bearer {hub.admin_token}"}, timeout=300) as c:
        yield c


def inference_client(hub, repo=SMOL):
    from huggingface_hub import InferenceClient
    return InferenceClient(model=hub.model_url(repo), token=hub.admin_token, timeout=300)


def generate(http, repo, inputs, **parameters):
    r = http.post(f"/models/{repo}/generate", json={"inputs": inputs, "parameters": parameters})
    assert r.status_code == 200, r.text
    return r.json()


def prompt_tokens(http, repo, inputs) -> int:
    """The prompt's length as /generate counts it (TGI's x-prompt-tokens header). transformers
    tokenizes a GGUF's text with its bos token first (LlamaTokenizerFast), and so does mlhub."""
    r = http.post(f"/models/{repo}/generate", json={"inputs": inputs, "parameters": {"max_new_tokens": 1}})
    assert r.status_code == 200, r.text
    return int(r.headers["x-prompt-tokens"])


def sse_events(response):
    """The JSON payloads of an SSE response, and whether it ended with data: [DONE]."""
    events, done = [], False
    for line in response.iter_lines():
        if not line.startswith("data:"):
            continue
        assert line.startswith("data: "), line  # one space after the colon (clients compare it)
        payload = line[len("data: "):]
        if payload == "[DONE]":
            done = True
            continue
        assert not done, "an event after [DONE]"
        events.append(json.loads(payload))
    return events, done


def mlhub_run_text_generation(model: Path, prompt: str, max_new_tokens: int) -> str:
    """`mlhub run text-generation`, greedy, the new text only, as the server decodes it."""
    out = subprocess.run(
        [str(MLHUB_BIN), "run", "text-generation", "--model", str(model), "--param", "do_sample=false",
         "--param", f"max_new_tokens={max_new_tokens}", "--param", "return_full_text=false",
         "--param", "clean_up_tokenization_spaces=false"],
        input=prompt + "\n", capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[0])[0]["generated_text"]


# ---- TGI routes ------------------------------------------------------------------------------------

def test_generate_equals_transformers_golden(http, hub):
    """The tiny llama, greedy with the repetition penalty its generation_config.json gives
    transformers: /generate's text equals TextGenerationPipeline's, token for token."""
    cases = [c for c in read_jsonl(GOLDEN / "pipelines/text-generation.jsonl")
             if c["model"] == "llama-tiny-qwen-tok" and c["task"] == "text-generation"
             and isinstance(c["input"], str) and set(c["params"]) == {"do_sample", "max_new_tokens",
                                                                      "clean_up_tokenization_spaces"}
             and c["params"]["clean_up_tokenization_spaces"] is False]
    assert cases, "no golden case without clean-up"
    for case in cases:
        want = case["output"][0]["generated_text"]
        got = generate(http, TINY_LM, case["input"], max_new_tokens=case["params"]["max_new_tokens"],
                       repetition_penalty=1.1, return_full_text=True, details=True)
        assert got["generated_text"] == want
        details = got["details"]
        assert details["finish_reason"] in ("length", "eos_token")
        assert details["generated_tokens"] == len(details["tokens"]) <= case["params"]["max_new_tokens"]
        assert details["seed"] is None  # greedy
        assert all(t["logprob"] <= 0 for t in details["tokens"])
        # The same through huggingface_hub (the task API route, TGI's `POST /`).
        text = inference_client(hub, TINY_LM).text_generation(
            case["input"], max_new_tokens=case["params"]["max_new_tokens"], repetition_penalty=1.1,
            return_full_text=True)
        assert text == want


def test_generate_stream_equals_generate(http):
    params = {"max_new_tokens": 24, "details": True}
    whole = generate(http, SMOL, TEXT_PROMPT, **params)
    with http.stream("POST", f"/models/{SMOL}/generate_stream",
                     json={"inputs": TEXT_PROMPT, "parameters": params}) as r:
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/event-stream")
        events, done = sse_events(r)
    assert not done  # TGI's stream has no [DONE]
    assert [e["index"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["generated_text"] is None and e["details"] is None for e in events[:-1])
    last = events[-1]
    assert last["generated_text"] == whole["generated_text"]
    assert "".join(e["token"]["text"] for e in events if not e["token"]["special"]) == whole["generated_text"]
    assert [e["token"]["id"] for e in events] == [t["id"] for t in whole["details"]["tokens"]]
    assert last["details"]["finish_reason"] == whole["details"]["finish_reason"]
    assert last["details"]["generated_tokens"] == whole["details"]["generated_tokens"] == len(events)
    assert last["details"]["input_length"] == prompt_tokens(http, SMOL, TEXT_PROMPT)


def require_golden():
    return json.loads((GOLDEN / "smollm2/case.json").read_text())


def test_generate_equals_mlhub_run(http):
    """Greedy /generate on the quantized GGUF equals the library's own pipeline (same kernels)."""
    want = mlhub_run_text_generation(require(SMOLLM2_GGUF), TEXT_PROMPT, 24)
    got = generate(http, SMOL, TEXT_PROMPT, max_new_tokens=24)
    assert got == {"generated_text": want}
    assert want  # a real continuation


def test_decoder_input_details_and_return_full_text(http):
    golden = require_golden()
    got = generate(http, SMOL, TEXT_PROMPT, max_new_tokens=3, details=True, decoder_input_details=True,
                   return_full_text=True)
    prefill = got["details"]["prefill"]
    text_ids = golden["prompts"]["text"]  # transformers' ids of the text (without bos)
    assert len(prefill) == prompt_tokens(http, SMOL, TEXT_PROMPT) in (len(text_ids), len(text_ids) + 1)
    assert [t["id"] for t in prefill][-len(text_ids):] == text_ids
    assert prefill[0]["logprob"] is None
    assert all(t["logprob"] < 0 for t in prefill[1:])
    assert "".join(t["text"] for t in prefill).endswith(TEXT_PROMPT)
    assert got["generated_text"].startswith(TEXT_PROMPT) and len(got["generated_text"]) > len(TEXT_PROMPT)


def test_task_api_text_generation(http, hub):
    # A list of inputs runs together and gives what each gives alone.
    prompts = ["Once upon a time", TEXT_PROMPT, "The capital of Germany is"]
    alone = [generate(http, SMOL, p, max_new_tokens=12)["generated_text"] for p in prompts]
    r = http.post(f"/models/{SMOL}", json={"inputs": prompts, "parameters": {"max_new_tokens": 12}})
    assert r.status_code == 200, r.text
    # return_full_text defaults to true for a text-generation model (TGI's `POST /`).
    assert r.json() == [{"generated_text": p + a} for p, a in zip(prompts, alone)]
    # One input: still a list; `stream` switches to TGI's SSE.
    r = http.post(f"/models/{SMOL}", json={"inputs": prompts[0], "parameters": {"max_new_tokens": 12,
                                                                                "return_full_text": False}})
    assert r.json() == [{"generated_text": alone[0]}]
    with http.stream("POST", f"/models/{SMOL}", json={"inputs": prompts[0], "stream": True,
                                                     "parameters": {"max_new_tokens": 12}}) as s:
        events, _ = sse_events(s)
    assert events[-1]["generated_text"] == prompts[0] + alone[0]

    client = inference_client(hub)
    assert client.text_generation(prompts[1], max_new_tokens=12) == prompts[1] + alone[1]
    out = client.text_generation(prompts[1], max_new_tokens=12, details=True, return_full_text=False)
    assert out.generated_text == alone[1]
    assert out.details.generated_tokens == len(out.details.tokens)
    streamed = list(client.text_generation(prompts[1], max_new_tokens=12, details=True, stream=True,
                                           return_full_text=False))
    assert "".join(e.token.text for e in streamed if not e.token.special) == alone[1]
    assert streamed[-1].generated_text == alone[1]
    assert streamed[-1].details.finish_reason in ("length", "eos_token")


def test_text_generation_client(hub):
    """TGI's own Python client (its venv: it needs huggingface_hub < 1.0) on the task API URL."""
    code = """
import json, os
from text_generation import Client
from text_generation.errors import ValidationError
c = Client(os.environ["URL"], headers={"Authorization": "Bearer " + os.environ["TOKEN"]}, timeout=300)
r = c.generate(os.environ["PROMPT"], max_new_tokens=16)
events = list(c.generate_stream(os.environ["PROMPT"], max_new_tokens=16))
errors = {}
for name, kw in {"top_n_tokens": {"top_n_tokens": 2}, "best_of": {"best_of": 2, "do_sample": True}}.items():
    try:
        c.generate(os.environ["PROMPT"], max_new_tokens=4, **kw)
        errors[name] = None
    except ValidationError as e:
        errors[name] = str(e)
print(json.dumps({"text": r.generated_text, "finish": r.details.finish_reason.value,
                  "tokens": [t.id for t in r.details.tokens],
                  "stream_text": "".join(e.token.text for e in events if not e.token.special),
                  "stream_last": events[-1].generated_text, "stream_tokens": [e.token.id for e in events],
                  "errors": errors}))
"""
    env = {**os.environ, "URL": hub.model_url(SMOL), "TOKEN": hub.admin_token, "PROMPT": TEXT_PROMPT}
    out = subprocess.run([TGI_PYTHON, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    got = json.loads(out.stdout)
    assert got["text"] == got["stream_text"] == got["stream_last"]
    assert got["tokens"] == got["stream_tokens"] and len(got["tokens"]) <= 16
    assert got["finish"] in ("length", "eos_token")
    assert got["errors"]["top_n_tokens"] == "Input validation error: `top_n_tokens` != 0 is not allowed for this endpoint"
    assert got["errors"]["best_of"] == "Input validation error: `best_of` != 1 is not allowed for this endpoint"


def test_info(http):
    r = http.get(f"/models/{SMOL}/info")
    assert r.status_code == 200, r.text
    info = r.json()
    assert info["model_id"] == SMOL
    assert len(info["model_sha"]) == 40
    assert info["model_pipeline_tag"] == "text-generation"
    assert info["max_best_of"] == 1 and info["max_stop_sequences"] == 4
    assert info["max_total_tokens"] == 8192  # SmolLM2's context
    assert info["max_input_tokens"] == info["max_total_tokens"] - 1
    assert info["max_concurrent_requests"] > 0 and info["router"] == "mlhub"


def test_stop_sequences(http):
    whole = generate(http, SMOL, TEXT_PROMPT, max_new_tokens=20)["generated_text"]
    words = whole.split(" ")
    assert len(words) > 5, whole
    stop = " " + words[4]  # a word from the middle of the greedy continuation
    cut = whole[: whole.index(stop) + len(stop)]
    got = generate(http, SMOL, TEXT_PROMPT, max_new_tokens=20, stop=[stop, "never-generated"], details=True)
    # TGI keeps the stop sequence in the text and says why it stopped.
    assert got["generated_text"] == cut
    assert got["details"]["finish_reason"] == "stop_sequence"


# ---- OpenAI routes ---------------------------------------------------------------------------------

def smol_chat_reply() -> str:
    """The greedy golden reply (transformers on the same GGUF) up to the end of the turn."""
    return require_golden()["greedy_text"]["chat"].split("<|im_end|>")[0]


def test_chat_completion_equals_smollm2_golden(hub):
    golden = require_golden()
    client = inference_client(hub)
    out = client.chat_completion(golden["messages"], temperature=0, max_tokens=32)
    assert out.choices[0].message.content == smol_chat_reply() == "The capital of France is Paris."
    assert out.choices[0].finish_reason == "stop"
    assert out.object == "chat.completion" and out.id.startswith("chatcmpl-") and out.model == SMOL
    assert out.usage.prompt_tokens == len(golden["prompts"]["chat"])
    assert out.usage.completion_tokens == 8  # the reply's 7 tokens and <|im_end|>
    assert out.usage.total_tokens == out.usage.prompt_tokens + out.usage.completion_tokens
    chunks = list(client.chat_completion(golden["messages"], temperature=0, max_tokens=32, stream=True))
    assert chunks[0].choices[0].delta.role == "assistant" and chunks[0].choices[0].delta.content == ""
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == smol_chat_reply()
    assert [c.choices[0].finish_reason for c in chunks][-1] == "stop"
    assert all(c.choices[0].finish_reason is None for c in chunks[:-1])


@pytest.mark.parametrize("scope", ["router", "model"])
def test_openai_client_chat(hub, scope):
    from openai import OpenAI
    base = f"{hub.url}/v1" if scope == "router" else f"{hub.model_url(SMOL)}/v1"
    client = OpenAI(base_url=base, api_key=hub.admin_token, max_retries=0, timeout=300)
    messages = [{"role": "system", "content": "You are brief."},
                {"role": "user", "content": [{"type": "text", "text": "Name a color of the rainbow."}]}]
    whole = client.chat.completions.create(model=SMOL, messages=messages, temperature=0, max_tokens=20,
                                           logprobs=True)
    choice = whole.choices[0]
    assert choice.message.role == "assistant" and choice.message.content
    assert len(choice.logprobs.content) == whole.usage.completion_tokens
    assert all(t.logprob <= 0 for t in choice.logprobs.content)
    stream = client.chat.completions.create(model=SMOL, messages=messages, temperature=0, max_tokens=20,
                                            stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == whole.usage.completion_tokens
    assert "".join(c.choices[0].delta.content or "" for c in chunks[:-1]) == choice.message.content
    assert chunks[-2].choices[0].finish_reason == choice.finish_reason
    # Sampling with a seed is reproducible, streamed or not.
    a = client.chat.completions.create(model=SMOL, messages=messages, temperature=0.9, seed=7, max_tokens=16)
    b = client.chat.completions.create(model=SMOL, messages=messages, temperature=0.9, seed=7, max_tokens=16,
                                       stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in b) == a.choices[0].message.content


def test_openai_chat_stop_is_cut(hub):
    from openai import OpenAI
    client = OpenAI(base_url=f"{hub.url}/v1", api_key=hub.admin_token, max_retries=0, timeout=300)
    messages = require_golden()["messages"]
    whole = client.chat.completions.create(model=SMOL, messages=messages, temperature=0, max_tokens=20, stop=[" Paris"])
    # OpenAI leaves the stop sequence out.
    assert whole.choices[0].message.content == "The capital of France is"
    assert whole.choices[0].finish_reason == "stop"
    chunks = list(client.chat.completions.create(model=SMOL, messages=messages, temperature=0, max_tokens=20,
                                                 stop=" Paris", stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == "The capital of France is"


def test_openai_completions(http, hub):
    from openai import OpenAI
    client = OpenAI(base_url=f"{hub.url}/v1", api_key=hub.admin_token, max_retries=0, timeout=300)
    want = generate(http, SMOL, TEXT_PROMPT, max_new_tokens=16)["generated_text"]
    out = client.completions.create(model=SMOL, prompt=TEXT_PROMPT, max_tokens=16, temperature=0)
    assert out.object == "text_completion" and out.id.startswith("cmpl-")
    assert out.choices[0].text == want
    assert out.choices[0].finish_reason in ("length", "stop")
    assert out.usage.prompt_tokens == prompt_tokens(http, SMOL, TEXT_PROMPT)
    streamed = list(client.completions.create(model=SMOL, prompt=TEXT_PROMPT, max_tokens=16, temperature=0,
                                              stream=True))
    assert "".join(c.choices[0].text for c in streamed) == want
    assert streamed[-1].choices[0].finish_reason == out.choices[0].finish_reason
    # Two prompts: two choices; echo puts each prompt first. Model-scoped URL this time.
    scoped = OpenAI(base_url=f"{hub.model_url(SMOL)}/v1", api_key=hub.admin_token, max_retries=0, timeout=300)
    two = scoped.completions.create(model="ignored", prompt=[TEXT_PROMPT, "Once upon a time"], max_tokens=16,
                                    temperature=0, echo=True)
    assert [c.index for c in two.choices] == [0, 1]
    assert two.choices[0].text == TEXT_PROMPT + want
    assert two.choices[1].text.startswith("Once upon a time")
    # The default length is OpenAI's: 16 tokens.
    default = client.completions.create(model=SMOL, prompt=TEXT_PROMPT, temperature=0)
    assert default.usage.completion_tokens <= 16 and default.choices[0].text == want


# ---- batching, cancellation, errors ----------------------------------------------------------------

def test_concurrent_requests_equal_each_alone(http):
    prompts = ["Once upon a time", "The best way to learn", "My favourite food is", "In 1969, astronauts",
               "Python is a programming language that", "The ocean is"]
    alone = [generate(http, SMOL, p, max_new_tokens=16, details=True) for p in prompts]
    with ThreadPoolExecutor(len(prompts)) as pool:
        together = list(pool.map(lambda p: generate(http, SMOL, p, max_new_tokens=16, details=True), prompts))
    for a, t in zip(alone, together):
        assert t["generated_text"] == a["generated_text"]
        assert [x["id"] for x in t["details"]["tokens"]] == [x["id"] for x in a["details"]["tokens"]]


@pytest.fixture(scope="module")
def one_slot_hub():
    """A server whose engine runs one sequence at a time: a request that is never cancelled
    would block every later one."""
    with tempfile.TemporaryDirectory(prefix="mlhub-itest-inf-") as tmp:
        h = InferenceHub(Path(tmp) / "data", ["--max-running", "1"])
        try:
            h.publish(SMOL, require(SMOLLM2_GGUF), "text-generation", tags=["conversational"], library_name="gguf")
            yield h
        finally:
            h.stop()


def test_disconnect_frees_the_slot(one_slot_hub):
    h = one_slot_hub
    headers = {"Authorization": f"Bearer {h.admin_token}"}
    counting = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,"  # a prompt the model keeps continuing
    long = {"max_new_tokens": 400}
    with httpx.Client(base_url=h.url, headers=headers, timeout=300) as c:
        generate(c, SMOL, "Warm up", max_new_tokens=2)  # loads the model
        # How long the long request takes when nobody hangs up: what a request behind it would
        # wait in a one-slot engine if a dropped client kept its slot.
        t0 = time.monotonic()
        control = generate(c, SMOL, counting, details=True, **long)
        full_run = time.monotonic() - t0
        assert control["details"]["finish_reason"] == "length", control
        t0 = time.monotonic()
        generate(c, SMOL, "Hello", max_new_tokens=4)
        short_run = time.monotonic() - t0
        assert short_run < full_run / 4, (short_run, full_run)
        # The same long request, streamed and dropped after two events.
        with c.stream("POST", f"/models/{SMOL}/generate_stream", json={"inputs": counting, "parameters": long}) as r:
            seen = 0
            for line in r.iter_lines():
                if line.startswith("data: "):
                    assert json.loads(line[6:])["generated_text"] is None  # not the last event
                    seen += 1
                    if seen == 2:
                        break
        assert seen == 2
    # The connection is closed: the engine drops the request, so the next one gets the slot.
    with httpx.Client(base_url=h.url, headers=headers, timeout=300) as c:
        t0 = time.monotonic()
        out = generate(c, SMOL, "Hello", max_new_tokens=4)
        waited = time.monotonic() - t0
    assert out["generated_text"]
    assert waited < full_run / 4, f"follow-up took {waited:.1f}s, the dropped request alone {full_run:.1f}s"


def test_tgi_validation_errors(http, hub):
    def post(params, inputs=TEXT_PROMPT, path="generate"):
        r = http.post(f"/models/{SMOL}/{path}", json={"inputs": inputs, "parameters": params})
        return r.status_code, r.json()

    assert post({"temperature": -1}) == (422, {"error": "Input validation error: `temperature` must be strictly positive",
                                               "error_type": "validation"})
    assert post({"top_p": 2}) == (422, {"error": "Input validation error: `top_p` must be > 0.0 and < 1.0",
                                        "error_type": "validation"})
    # The task API's text-generation speaks TGI's errors too; the tiny llama has 512 positions.
    r = http.post(f"/models/{TINY_LM}", json={"inputs": "hello " * 600, "parameters": {"max_new_tokens": 4}})
    assert r.status_code == 422 and r.json()["error_type"] == "validation"
    assert r.json()["error"].startswith("Input validation error: `inputs` must have less than 511 tokens. Given: ")
    status, body = post({"max_new_tokens": 4, "decoder_input_details": True}, path="generate_stream")
    assert status == 422 and "not supported when streaming" in body["error"]
    r = http.post(f"/models/{SMOL}/generate", json={"parameters": {}})
    assert r.status_code == 422 and r.json()["error_type"] == "validation"

    from huggingface_hub import InferenceClient
    from huggingface_hub.errors import ValidationError
    client = InferenceClient(model=hub.model_url(TINY_LM), token=hub.admin_token)
    with pytest.raises(ValidationError, match="must have less than 511 tokens"):
        client.text_generation("hello " * 600, max_new_tokens=4)
    with pytest.raises(ValidationError, match="`temperature` must be strictly positive"):
        client.text_generation("hello", max_new_tokens=4, temperature=-1.0)


def test_openai_errors(hub):
    import openai
    client = openai.OpenAI(base_url=f"{hub.url}/v1", api_key=hub.admin_token, max_retries=0, timeout=300)
    messages = [{"role": "user", "content": "Hi"}]
    cases = [
        ({"temperature": -1}, "Invalid 'temperature'"),
        ({"top_p": 2}, "Invalid 'top_p'"),
        ({"n": 2}, "only n = 1 is supported"),
        ({"max_tokens": -5}, "Invalid 'max_tokens'"),
    ]
    for kwargs, message in cases:
        with pytest.raises(openai.BadRequestError, match=message) as err:
            client.chat.completions.create(model=SMOL, messages=messages, **kwargs)
        assert err.value.status_code == 400
        assert err.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.BadRequestError, match="must have less than 511 tokens"):
        client.chat.completions.create(model=TINY_LM, messages=[{"role": "user", "content": "hello " * 600}])
    with pytest.raises(openai.BadRequestError, match="'suffix' is not supported"):
        client.completions.create(model=SMOL, prompt="x", suffix="y")
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="admin/no-such-model", messages=messages)
