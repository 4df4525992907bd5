#!/usr/bin/env python3
"""Writes the pipeline goldens: tiny task models and what transformers' pipeline() returns.

1. Derives two small tokenizers (small_tokenizers.py): WordPiece from
   ../shared/data/tokenizers/bert-base-uncased (2,000 entries) and byte-level BPE from
   roberta-base (the symbols the inputs need), both checked to tokenize every input exactly as
   the original.
2. Builds tiny seeded BertFor*/RobertaFor* models on them (tests/golden/pipelines/models/<name>/,
   saved with save_pretrained next to the tokenizer files written by transformers).
3. Runs transformers.pipeline (and sentence_transformers.CrossEncoder for text-ranking) on the
   inputs of pipeline_inputs.py and writes tests/golden/pipelines/<task>.jsonl.

    ~/.cache/mlhub/pyenv/bin/python tools/reference/pipeline_goldens.py [--shared ../shared]

The formats are described in tools/reference/README.md. No network is used.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import zlib

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import BertConfig, BertTokenizerFast  # noqa: E402
from transformers import RobertaConfig, RobertaTokenizerFast  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pipeline_inputs as inp  # noqa: E402
import small_tokenizers  # noqa: E402

transformers.utils.logging.disable_progress_bar()

PINNED = "4.57.3"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
VOCAB_TARGET = 2000
MAX_LEN = 128  # model_max_length of the tokenizer = max_position_embeddings of the models

MODELS = {
    # name: (class, config overrides)
    "bert-tiny-sentiment": ("BertForSequenceClassification",
                            {"labels": inp.SENTIMENT_LABELS}),
    "bert-tiny-multilabel": ("BertForSequenceClassification",
                             {"labels": inp.TOPIC_LABELS,
                              "problem_type": "multi_label_classification"}),
    "bert-tiny-ner": ("BertForTokenClassification", {"labels": inp.NER_LABELS}),
    "bert-tiny-qa": ("BertForQuestionAnswering", {}),
    "bert-tiny-mlm": ("BertForMaskedLM", {}),
    "bert-tiny-nli": ("BertForSequenceClassification", {"labels": inp.NLI_LABELS}),
    "bert-tiny-reranker": ("BertForSequenceClassification", {"num_labels": 1}),
    "bert-tiny-encoder": ("BertModel", {}),
    # Byte-level BPE (derived from roberta-base): offsets over accented text.
    "roberta-tiny-ner": ("RobertaForTokenClassification", {"labels": inp.NER_LABELS}),
    "roberta-tiny-qa": ("RobertaForQuestionAnswering", {}),
}


def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def all_texts():
    """Every string a pipeline will tokenize, so that the small vocabulary covers them."""
    texts = list(inp.SENTENCES) + list(inp.FILL_MASK) + [inp.FILL_MASK_TWO]
    texts += inp.FILL_MASK_TARGETS + inp.ZERO_SHOT
    for qa in inp.QA + inp.QA_ACCENTS:
        texts += [qa["question"], qa["context"]]
    for templ in ("This example is {}.", inp.ZERO_SHOT_TEMPLATE):
        texts += [templ.format(label) for label in inp.ZERO_SHOT_LABELS]
    for case in inp.RANKING:
        texts += [case["query"]] + case["texts"]
    return texts


def build_models(out_dir, wordpiece_json, bpe_json):
    tokenizers_by_kind = {
        "wordpiece": BertTokenizerFast(tokenizer_file=wordpiece_json, do_lower_case=True,
                                       model_max_length=MAX_LEN),
        "bpe": RobertaTokenizerFast(tokenizer_file=bpe_json, model_max_length=MAX_LEN),
    }
    for name, (cls_name, extra) in MODELS.items():
        folder = os.path.join(out_dir, "models", name)
        if os.path.isdir(folder):
            shutil.rmtree(folder)
        roberta = cls_name.startswith("Roberta")
        tok = tokenizers_by_kind["bpe" if roberta else "wordpiece"]
        kwargs = dict(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2,
                      num_attention_heads=4, intermediate_size=37,
                      max_position_embeddings=MAX_LEN, initializer_range=0.5, pad_token_id=0)
        if roberta:
            # Positions start after padding_idx 1, as in roberta-base (514 = 512 + 2).
            kwargs.update(max_position_embeddings=MAX_LEN + 2, type_vocab_size=1,
                          pad_token_id=1, bos_token_id=0, eos_token_id=2)
        labels = extra.get("labels")
        if labels:
            kwargs["id2label"] = {i: label for i, label in enumerate(labels)}
            kwargs["label2id"] = {label: i for i, label in enumerate(labels)}
        if "num_labels" in extra:
            kwargs["num_labels"] = extra["num_labels"]
        if "problem_type" in extra:
            kwargs["problem_type"] = extra["problem_type"]
        config = (RobertaConfig if roberta else BertConfig)(**kwargs)
        torch.manual_seed(seed_of(name))
        model = getattr(transformers, cls_name)(config)
        model.eval()
        model.save_pretrained(folder)
        tok.save_pretrained(folder)


def jsonable(value):
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, torch.Tensor):
        return jsonable(value.tolist())
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value


class Writer:
    """Collects the cases of one task file; one pipeline object per (model, task, init)."""

    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.cases = {}
        self.pipes = {}

    def pipe(self, model, task, init):
        key = (model, task, json.dumps(init, sort_keys=True))
        if key not in self.pipes:
            folder = os.path.join(self.out_dir, "models", model)
            self.pipes[key] = transformers.pipeline(task, model=folder, device="cpu", **init)
        return self.pipes[key]

    def add(self, file_task, model, task, input_, params=None, init=None):
        params, init = params or {}, init or {}
        pipe = self.pipe(model, task, init)
        with torch.no_grad():
            if task == "question-answering":
                # The keyword form: a dict as the positional input is deprecated in 4.57.
                out = pipe(question=input_["question"], context=input_["context"], **params)
            else:
                out = pipe(input_, **params)
        self.record(file_task, model, task, init, input_, params, jsonable(out))

    def record(self, file_task, model, task, init, input_, params, output, **extra):
        line = {"model": model, "task": task, "init": init, "input": input_, "params": params,
                "output": output}
        line.update(extra)
        self.cases.setdefault(file_task, []).append(line)

    def write(self):
        for task, lines in self.cases.items():
            with open(os.path.join(self.out_dir, task + ".jsonl"), "w") as f:
                for line in lines:
                    f.write(json.dumps(line, ensure_ascii=False) + "\n")
            print(f"wrote {task}.jsonl: {len(lines)} cases", flush=True)


def text_classification(w):
    t, m = "text-classification", "bert-tiny-sentiment"
    short = inp.SENTENCES[:-1]
    for s in short:
        w.add(t, m, t, s)
    for s in short[:4]:
        w.add(t, m, t, s, {"top_k": None})
    for s in short[4:7]:
        w.add(t, m, t, s, {"top_k": 2})
    for s in short[7:9]:
        w.add(t, m, t, s, {"top_k": 1})
    for fn in ("none", "sigmoid", "softmax"):
        for s in short[9:11]:
            w.add(t, m, t, s, {"function_to_apply": fn})
        w.add(t, m, t, short[11], {"function_to_apply": fn, "top_k": None})
    w.add(t, m, t, {"text": short[0], "text_pair": short[1]})
    w.add(t, m, t, {"text": short[5], "text_pair": short[3]}, {"top_k": None})
    w.add(t, m, t, inp.LONG_TEXT, {"truncation": True})
    w.add(t, m, t, inp.LONG_TEXT, {"truncation": True, "top_k": None})
    w.add(t, m, "sentiment-analysis", short[2])
    m = "bert-tiny-multilabel"
    for s in short[:5]:
        w.add(t, m, t, s)
    for s in short[5:9]:
        w.add(t, m, t, s, {"top_k": None})
    w.add(t, m, t, short[9], {"top_k": None, "function_to_apply": "softmax"})
    w.add(t, m, t, short[10], {"top_k": 2, "function_to_apply": "none"})


def token_classification(w):
    t, m = "token-classification", "bert-tiny-ner"
    ner_sentences = [inp.SENTENCES[i] for i in (3, 4, 5, 6, 7, 8, 9, 12, 14, 16, 21)]
    for agg in ("none", "simple", "first", "average", "max"):
        for s in ner_sentences:
            w.add(t, m, t, s, init={"aggregation_strategy": agg})
    for agg in ("none", "simple", "first"):
        for s in ner_sentences[:3]:
            w.add(t, m, t, s, {"ignore_labels": []}, init={"aggregation_strategy": agg})
    for agg in ("none", "simple"):
        w.add(t, m, t, inp.LONG_TEXT, init={"aggregation_strategy": agg})
    for agg in ("simple", "first", "max"):
        w.add(t, m, t, inp.LONG_TEXT, {"stride": 16}, init={"aggregation_strategy": agg})
    m = "roberta-tiny-ner"
    for agg in ("none", "simple", "first", "average", "max"):
        for s in [inp.SENTENCES[i] for i in (4, 9, 11, 16)]:
            w.add(t, m, t, s, init={"aggregation_strategy": agg})
    w.add(t, m, t, inp.LONG_TEXT, {"stride": 16}, init={"aggregation_strategy": "simple"})
    m = "bert-tiny-ner"
    w.add(t, m, "ner", ner_sentences[0])
    w.add(t, m, "ner", ner_sentences[1], init={"aggregation_strategy": "simple"})


def question_answering(w):
    t, m = "question-answering", "bert-tiny-qa"
    for qa in inp.QA:
        w.add(t, m, t, qa)
    for qa in inp.QA[:2] + inp.QA[4:5]:
        w.add(t, m, t, qa, {"top_k": 3})
    for qa in inp.QA[4:]:
        w.add(t, m, t, qa, {"doc_stride": 32, "max_seq_len": 64})
        w.add(t, m, t, qa, {"doc_stride": 32, "max_seq_len": 64, "top_k": 3})
    for qa in inp.QA[:4]:
        w.add(t, m, t, qa, {"max_answer_len": 5})
        w.add(t, m, t, qa, {"handle_impossible_answer": True})
    w.add(t, m, t, inp.QA[5], {"handle_impossible_answer": True, "top_k": 3})
    # Deep enough that the null answer {"score", "start": 0, "end": 0, "answer": ""} is listed.
    w.add(t, m, t, inp.QA[0], {"handle_impossible_answer": True, "top_k": 40})
    for qa in inp.QA[:2] + inp.QA_ACCENTS:
        w.add(t, "roberta-tiny-qa", t, qa, {"top_k": 2})
    w.add(t, "roberta-tiny-qa", t, inp.QA[4], {"doc_stride": 32, "max_seq_len": 64})
    w.add(t, m, t, inp.QA[6], {"max_answer_len": 5, "top_k": 3, "doc_stride": 32,
                               "max_seq_len": 64})


def fill_mask(w):
    t, m = "fill-mask", "bert-tiny-mlm"
    for s in inp.FILL_MASK:
        w.add(t, m, t, s)
    for s in inp.FILL_MASK[:3]:
        w.add(t, m, t, s, {"top_k": 5})
        w.add(t, m, t, s, {"top_k": 2})
    for s in inp.FILL_MASK[:3]:
        w.add(t, m, t, s, {"targets": inp.FILL_MASK_TARGETS})
    w.add(t, m, t, inp.FILL_MASK[3], {"targets": inp.FILL_MASK_TARGETS, "top_k": 2})
    w.add(t, m, t, inp.FILL_MASK_TWO)
    w.add(t, m, t, inp.FILL_MASK_TWO, {"top_k": 3})


def feature_extraction(w):
    t, m = "feature-extraction", "bert-tiny-encoder"
    for s in inp.SENTENCES[:4] + [inp.SENTENCES[9], inp.SENTENCES[11]]:
        w.add(t, m, t, s)
    w.add(t, m, t, inp.LONG_TEXT, {"tokenize_kwargs": {"truncation": True}})


def zero_shot(w):
    t, m = "zero-shot-classification", "bert-tiny-nli"
    labels = inp.ZERO_SHOT_LABELS
    for s in inp.ZERO_SHOT:
        w.add(t, m, t, s, {"candidate_labels": labels})
        w.add(t, m, t, s, {"candidate_labels": labels, "multi_label": True})
    for s in inp.ZERO_SHOT[:2]:
        w.add(t, m, t, s, {"candidate_labels": labels,
                           "hypothesis_template": inp.ZERO_SHOT_TEMPLATE})
        w.add(t, m, t, s, {"candidate_labels": labels,
                           "hypothesis_template": inp.ZERO_SHOT_TEMPLATE, "multi_label": True})
    w.add(t, m, t, inp.ZERO_SHOT[2], {"candidate_labels": "economy, travel"})
    w.add(t, m, t, inp.ZERO_SHOT[3], {"candidate_labels": ["travel"]})
    w.add(t, m, t, inp.ZERO_SHOT[3], {"candidate_labels": ["travel"], "multi_label": True})


def text_ranking(w):
    from sentence_transformers import CrossEncoder

    t, m = "text-ranking", "bert-tiny-reranker"
    folder = os.path.join(w.out_dir, "models", m)
    model = CrossEncoder(folder, device="cpu")  # num_labels 1: sigmoid by default
    # A second instance: predict(activation_fn=...) replaces the model's activation for good.
    identity = CrossEncoder(folder, device="cpu", activation_fn=torch.nn.Identity())
    for case in inp.RANKING:
        pairs = [(case["query"], text) for text in case["texts"]]
        scores = model.predict(pairs)
        raw = identity.predict(pairs)
        rank = model.rank(case["query"], case["texts"])
        w.record(t, m, t, {}, case, {}, {"scores": jsonable(scores)},
                 raw_scores=jsonable(raw), rank=jsonable(rank))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", default=os.path.join(os.path.dirname(ROOT), "shared"))
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "golden", "pipelines"))
    args = parser.parse_args()
    if transformers.__version__ != PINNED:
        sys.exit(f"transformers {transformers.__version__} found, the goldens pin {PINNED}")
    torch.set_num_threads(1)
    if os.path.isdir(args.out):
        shutil.rmtree(args.out)
    os.makedirs(os.path.join(args.out, "models"))
    data = os.path.join(args.shared, "data", "tokenizers")
    texts = all_texts()
    with tempfile.TemporaryDirectory() as tmp:
        wordpiece = os.path.join(tmp, "wordpiece.json")
        size = small_tokenizers.derive_wordpiece(
            os.path.join(data, "bert-base-uncased", "tokenizer.json"), wordpiece, texts,
            SPECIALS, VOCAB_TARGET)
        print(f"derived WordPiece tokenizer: {size} entries", flush=True)
        bpe = os.path.join(tmp, "bpe.json")
        size = small_tokenizers.derive_byte_level_bpe(
            os.path.join(data, "roberta-base", "tokenizer.json"), bpe, texts,
            ["<s>", "<pad>", "</s>", "<unk>"], ["<mask>"])
        print(f"derived byte-level BPE tokenizer: {size} entries", flush=True)
        build_models(args.out, wordpiece, bpe)
    w = Writer(args.out)
    for task in (text_classification, token_classification, question_answering, fill_mask,
                 feature_extraction, zero_shot, text_ranking):
        task(w)
    w.write()


if __name__ == "__main__":
    main()
