"""Encoder-decoder models through the task API with huggingface_hub's InferenceClient:
summarization (BART), translation (Marian) and text2text-generation (T5, which the client sends
through its text_generation method). The expected texts are transformers 4.57.3's pipeline
outputs recorded in tests/golden/seq2seq/<case>/case.json (tools/reference/seq2seq_goldens.py)
for the same inputs and parameters, so a pass means the server answers what transformers'
pipeline answers."""
import json
import os
import tempfile
from pathlib import Path

import pytest
from huggingface_hub import InferenceClient
from huggingface_hub.errors import HfHubHTTPError

from conftest import ROOT, unique

GOLDEN = ROOT / "tests" / "golden" / "seq2seq"
SHARED = Path(os.environ.get("MLHUB_SHARED_DIR", ROOT.parent / "shared"))


def case(name):
    return json.loads((GOLDEN / name / "case.json").read_text())


def calls(name, task):
    """The recorded pipeline calls of `task`: parameters -> output per input."""
    rec = next(p for p in case(name)["pipelines"] if p["task"] == task)
    return rec["calls"]


def model_folder(name, tmp):
    """The golden checkpoint with its real tokenizer files, laid out as the Hub serves it."""
    meta = case(name)
    folder = Path(tmp) / name
    folder.mkdir()
    for f in ("config.json", "generation_config.json", "model.safetensors", "tokenizer_config.json",
              "special_tokens_map.json"):
        if (GOLDEN / name / f).exists():
            os.symlink(GOLDEN / name / f, folder / f)
    tok = SHARED / Path(meta["tokenizer"]).relative_to("shared")
    if meta.get("tokenizer_class") == "MarianTokenizer":
        # opus-mt's layout: two SentencePiece models and the joint vocabulary, no tokenizer.json.
        os.symlink(tok / "vocab.json", folder / "vocab.json")
        os.symlink(tok / "vocab.joint.spm", folder / "source.spm")
        os.symlink(tok / "vocab.joint.spm", folder / "target.spm")
    else:
        os.symlink(tok / "tokenizer.json", folder / "tokenizer.json")
    return folder


@pytest.fixture(scope="module")
def models(server):
    with tempfile.TemporaryDirectory(prefix="mlhub-seq2seq-") as tmp:
        yield {
            "bart": server.publish(f"admin/{unique('bart')}", model_folder("bart", tmp), "summarization"),
            "t5": server.publish(f"admin/{unique('t5')}", model_folder("t5", tmp), "text2text-generation"),
            "marian": server.publish(f"admin/{unique('marian')}", model_folder("marian", tmp), "translation"),
        }


def client(server, repo):
    return InferenceClient(model=server.model_url(repo), token=server.admin_token)


def test_summarization_equals_the_pipeline(server, models):
    c = client(server, models["bart"])
    recorded = calls("bart", "summarization")
    defaults, greedy = recorded[0], recorded[1]
    text = defaults["inputs"][0]
    # The pipeline's own defaults (4 beams, 256 new tokens, forced BOS/EOS from the model).
    assert c.summarization(text).summary_text == defaults["output"][0]["summary_text"]
    # generate_parameters reach generate().
    out = c.summarization(greedy["inputs"][1], generate_parameters=greedy["parameters"])
    assert out.summary_text == greedy["output"][1]["summary_text"]


def test_translation_equals_the_pipeline(server, models):
    c = client(server, models["marian"])
    beams = calls("marian", "translation")[2]  # 4 beams, no_repeat_ngram_size 2, length_penalty 2
    for i, text in enumerate(beams["inputs"]):
        out = c.translation(text, generate_parameters=beams["parameters"])
        assert out.translation_text == beams["output"][i]["translation_text"]


def test_text2text_through_text_generation(server, models):
    # text_generation has no num_beams: the pipeline's default 4 beams apply, as in the recorded
    # call {max_new_tokens: 16, return_tensors: True}, whose ids decode (skipping special tokens,
    # as the pipeline does) with the real tokenizer.json.
    from tokenizers import Tokenizer
    tok = Tokenizer.from_file(str(SHARED / "data" / "tokenizers" / "t5-small" / "tokenizer.json"))
    c = client(server, models["t5"])
    recorded = calls("t5", "text2text-generation")[5]
    assert recorded["parameters"] == {"max_new_tokens": 16, "return_tensors": True}
    for i, text in enumerate(recorded["inputs"]):
        want = tok.decode(recorded["output"][i]["generated_token_ids"], skip_special_tokens=True)
        assert c.text_generation(text, max_new_tokens=16) == want


def test_a_batch_is_answered_in_order(server, models):
    import httpx
    recorded = calls("bart", "summarization")[1]
    r = httpx.post(server.model_url(models["bart"]), timeout=120,
                   headers={"authorization": f"Bearer {server.admin_token}"},
                   json={"inputs": recorded["inputs"], "parameters": {"generate_parameters": recorded["parameters"]}})
    assert r.status_code == 200, r.text
    assert r.json() == recorded["output"]


def test_bad_parameters_are_client_errors(server, models):
    c = client(server, models["bart"])
    with pytest.raises(HfHubHTTPError) as e:
        c.summarization("some text", generate_parameters={"num_beam_groups": 2})
    assert e.value.response.status_code == 400
    assert "num_beam_groups" in e.value.response.text
    with pytest.raises(HfHubHTTPError) as e:
        c.summarization("some text", generate_parameters={"max_new_tokens": 100000})
    assert e.value.response.status_code == 400
