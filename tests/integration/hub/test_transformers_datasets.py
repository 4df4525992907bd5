"""transformers (AutoTokenizer, AutoModel) and datasets (load_dataset on CSV and JSON Lines
repos) with HF_ENDPOINT pointed at mlhub serve, in fresh processes with an empty HF_HOME."""
import json

import pytest

from conftest import MINILM, unique, write_files


@pytest.fixture(scope="module")
def minilm_repo(hub):
    if not (MINILM / "model.safetensors").exists():
        pytest.fail(f"all-MiniLM-L6-v2 is missing at {MINILM}: run scripts/setup")
    api = hub.api()
    repo = "sentence-transformers/all-MiniLM-L6-v2"
    hub.cli("org", "create", "sentence-transformers", "--member", "admin:admin")
    api.create_repo(repo)
    api.upload_folder(repo_id=repo, folder_path=str(MINILM))
    return repo


def test_auto_tokenizer_and_auto_model_from_the_hub(hub, minilm_repo, tmp_path):
    code = f"""
        import json, torch
        from transformers import AutoModel, AutoTokenizer
        def embed(source):
            tok = AutoTokenizer.from_pretrained(source)
            model = AutoModel.from_pretrained(source).eval()
            enc = tok(["The hub serves this model.", "A second sentence"], padding=True, return_tensors="pt")
            with torch.no_grad():
                out = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(out.dtype)
            sentence = torch.nn.functional.normalize((out * mask).sum(1) / mask.sum(1), dim=-1)  # the model's pooling
            return enc["input_ids"], out, sentence
        r_ids, r_out, r_emb = embed("{minilm_repo}")
        l_ids, l_out, l_emb = embed("{MINILM}")
        print(json.dumps({{"ids": torch.equal(r_ids, l_ids), "states": torch.equal(r_out, l_out),
                          "embedding": torch.equal(r_emb, l_emb), "dim": r_emb.shape[-1],
                          "max_diff": (r_emb - l_emb).abs().max().item()}}))
    """
    out = json.loads(hub.python(code, env={"HF_HOME": str(tmp_path / "hf")}).strip().splitlines()[-1])
    assert out["ids"], out  # same token ids
    assert out["dim"] == 384
    # Same bytes, same process: the whole hidden state and the sentence embedding are bit-identical.
    assert out["states"] and out["embedding"], out
    # It really came through the hub: the cache holds the snapshot.
    snapshots = list((tmp_path / "hf" / "hub" / "models--sentence-transformers--all-MiniLM-L6-v2" / "snapshots").iterdir())
    assert len(snapshots) == 1 and (snapshots[0] / "model.safetensors").exists()


def test_load_dataset_csv_and_jsonl(hub, tmp_path):
    api = hub.api()
    rows = [{"text": f"sentence {i}", "label": i % 2} for i in range(7)]
    csv_repo, jsonl_repo = unique("admin/csv"), unique("admin/jsonl")
    api.create_repo(csv_repo, repo_type="dataset")
    api.create_repo(jsonl_repo, repo_type="dataset")
    csv = "text,label\n" + "".join(f"{r['text']},{r['label']}\n" for r in rows)
    jsonl = "".join(json.dumps(r) + "\n" for r in rows)
    readme = "---\nlicense: mit\n---\n# A test dataset\n"
    api.upload_folder(repo_id=csv_repo, repo_type="dataset",
                      folder_path=str(write_files(tmp_path / "csv", {"data/train.csv": csv, "README.md": readme})))
    api.upload_folder(repo_id=jsonl_repo, repo_type="dataset",
                      folder_path=str(write_files(tmp_path / "jsonl", {"train.jsonl": jsonl, "README.md": readme})))
    code = f"""
        import json
        import datasets
        out = {{}}
        for repo in ("{csv_repo}", "{jsonl_repo}"):
            ds = datasets.load_dataset(repo)
            # streaming reads through HfFileSystem (paths-info, tree, ranged GETs on /resolve)
            streamed = list(datasets.load_dataset(repo, split="train", streaming=True))
            out[repo] = {{"splits": list(ds), "columns": ds["train"].column_names, "rows": ds["train"].to_list(),
                         "streamed": streamed}}
        print(json.dumps(out))
    """
    out = json.loads(hub.python(code, env={"HF_HOME": str(tmp_path / "hf")}).strip().splitlines()[-1])
    for repo in (csv_repo, jsonl_repo):
        assert out[repo]["splits"] == ["train"]
        assert out[repo]["columns"] == ["text", "label"]
        assert out[repo]["rows"] == rows
        assert out[repo]["streamed"] == rows
