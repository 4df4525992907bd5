#!/usr/bin/env python3
"""Writes the encoder model goldens: tiny random checkpoints and transformers' outputs for them.

For every architecture prefix (bert, distilbert, roberta, xlm-roberta, electra, mpnet,
deberta-v2, deberta-v3) and head (base, seqcls, tokcls, qa, mlm) this builds a tiny model with
transformers itself (seeded), saves it with save_pretrained in the case's weight format, reloads
it from that folder as float32 and records its outputs on a fixed padded batch of three
sequences, and on each sequence alone.

    ~/.cache/mlhub/pyenv/bin/python tools/reference/encoder_goldens.py [--out tests/golden/models]
        [--only CASE]...

Output, per case tests/golden/models/<prefix>-<head>/: config.json and the weights as written
by save_pretrained, case.json and reference.safetensors; plus tests/golden/models/
load_reports.json. The format is described in tools/reference/README.md. No network is used.
"""

import argparse
import json
import os
import shutil
import sys
import zlib

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import torch  # noqa: E402
import transformers  # noqa: E402

transformers.utils.logging.disable_progress_bar()
from safetensors.torch import save_file  # noqa: E402

PINNED = "4.57.3"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

VOCAB = 99
HIDDEN = 32
LAYERS = 2
HEADS = 4
INTERMEDIATE = 37
MAX_POS = 64
INIT_RANGE = 0.5
LENGTHS = (11, 7, 4)
# Where the second segment starts (a [SEP]/eos closes the first one just before it); None: one
# segment only.
SEGMENT_B = (6, 4, None)
NUM_LABELS = {"seqcls": 3, "tokcls": 5}

HEADS_ORDER = ("base", "seqcls", "tokcls", "qa", "mlm")

# Per-prefix: config class and kwargs, class names per head, special ids, whether token_type_ids
# are fed, whether the base model returns a pooler_output.
ARCHS = {
    "bert": {
        "config": "BertConfig",
        "kwargs": dict(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS,
                       num_attention_heads=HEADS, intermediate_size=INTERMEDIATE,
                       max_position_embeddings=MAX_POS, type_vocab_size=2, pad_token_id=0),
        "classes": "Bert",
        "cls": 2, "sep": 3, "pad": 0,
        "token_types": True, "pooler": True,
    },
    "distilbert": {
        "config": "DistilBertConfig",
        "kwargs": dict(vocab_size=VOCAB, dim=HIDDEN, n_layers=LAYERS, n_heads=HEADS,
                       hidden_dim=INTERMEDIATE, max_position_embeddings=MAX_POS, pad_token_id=0),
        "classes": "DistilBert",
        "cls": 2, "sep": 3, "pad": 0,
        "token_types": False, "pooler": False,
    },
    "roberta": {
        "config": "RobertaConfig",
        # type_vocab_size 1 as in the published roberta-base; token_type_ids are not fed.
        "kwargs": dict(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS,
                       num_attention_heads=HEADS, intermediate_size=INTERMEDIATE,
                       max_position_embeddings=MAX_POS, type_vocab_size=1, pad_token_id=1,
                       bos_token_id=0, eos_token_id=2),
        "classes": "Roberta",
        "cls": 0, "sep": 2, "pad": 1,
        "token_types": False, "pooler": True,
    },
    "xlm-roberta": {
        "config": "XLMRobertaConfig",
        "kwargs": dict(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS,
                       num_attention_heads=HEADS, intermediate_size=INTERMEDIATE,
                       max_position_embeddings=MAX_POS, type_vocab_size=1, pad_token_id=1,
                       bos_token_id=0, eos_token_id=2),
        "classes": "XLMRoberta",
        "cls": 0, "sep": 2, "pad": 1,
        "token_types": False, "pooler": True,
    },
    "electra": {
        "config": "ElectraConfig",
        # embedding_size != hidden_size so that embeddings_project exists.
        "kwargs": dict(vocab_size=VOCAB, embedding_size=24, hidden_size=HIDDEN,
                       num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                       intermediate_size=INTERMEDIATE, max_position_embeddings=MAX_POS,
                       type_vocab_size=2, pad_token_id=0),
        "classes": "Electra",
        "cls": 2, "sep": 3, "pad": 0,
        "token_types": True, "pooler": False,
    },
    "mpnet": {
        "config": "MPNetConfig",
        "kwargs": dict(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS,
                       num_attention_heads=HEADS, intermediate_size=INTERMEDIATE,
                       max_position_embeddings=MAX_POS, pad_token_id=1, bos_token_id=0,
                       eos_token_id=2),
        "classes": "MPNet",
        "cls": 0, "sep": 2, "pad": 1,
        "token_types": False, "pooler": True,
    },
    "deberta-v2": {
        "config": "DebertaV2Config",
        # The settings of the published deberta-v2-xlarge (relative attention, the conv layer
        # after the first layer, "p2c|c2p" as a string) except position_buckets: 8 instead of
        # 256 so that relative distances beyond 4 go through the log bucketing even at T=11.
        "kwargs": dict(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS,
                       num_attention_heads=HEADS, intermediate_size=INTERMEDIATE,
                       max_position_embeddings=MAX_POS, type_vocab_size=0, pad_token_id=0,
                       relative_attention=True, max_relative_positions=-1, position_buckets=8,
                       norm_rel_ebd="layer_norm", share_att_key=True, pos_att_type="p2c|c2p",
                       position_biased_input=False, conv_kernel_size=3, conv_act="gelu",
                       layer_norm_eps=1e-7),
        "classes": "DebertaV2",
        "cls": 1, "sep": 2, "pad": 0,
        "token_types": True, "pooler": False,
    },
    "deberta-v3": {
        "config": "DebertaV2Config",
        # The settings of the published deberta-v3-base.
        "kwargs": dict(vocab_size=VOCAB, hidden_size=HIDDEN, num_hidden_layers=LAYERS,
                       num_attention_heads=HEADS, intermediate_size=INTERMEDIATE,
                       max_position_embeddings=MAX_POS, type_vocab_size=0, pad_token_id=0,
                       relative_attention=True, max_relative_positions=-1, position_buckets=256,
                       norm_rel_ebd="layer_norm", share_att_key=True,
                       pos_att_type=["p2c", "c2p"], position_biased_input=False,
                       layer_norm_eps=1e-7),
        "classes": "DebertaV2",
        "cls": 1, "sep": 2, "pad": 0,
        "token_types": True, "pooler": False,
    },
}

HEAD_SUFFIX = {
    "base": "Model",
    "seqcls": "ForSequenceClassification",
    "tokcls": "ForTokenClassification",
    "qa": "ForQuestionAnswering",
    "mlm": "ForMaskedLM",
}

# Cases whose weights are not a single model.safetensors in float32.
WEIGHTS = {
    "bert-seqcls": ("bin", "f32"),
    "bert-mlm": ("sharded-safetensors", "f32"),
    "roberta-base": ("sharded-bin", "f32"),
    "distilbert-base": ("safetensors", "f16"),
    "electra-base": ("safetensors", "bf16"),
}
SHARD_SIZE = "30KB"  # the tiny models are ~80 KB: gives 3 shards

LOAD_REPORTS = (
    ("bert-base", "BertForSequenceClassification"),
    ("bert-base", "BertForMaskedLM"),
    ("bert-mlm", "BertModel"),
    ("roberta-base", "RobertaForQuestionAnswering"),
    ("deberta-v2-seqcls", "DebertaV2Model"),
)


def seed_of(name):
    return zlib.crc32(name.encode()) & 0x7FFFFFFF


def make_inputs(prefix):
    """The padded batch: ids, mask, token types (int64), with per-prefix special ids."""
    arch = ARCHS[prefix]
    gen = torch.Generator().manual_seed(seed_of("inputs-" + prefix))
    batch, width = len(LENGTHS), max(LENGTHS)
    ids = torch.full((batch, width), arch["pad"], dtype=torch.int64)
    mask = torch.zeros((batch, width), dtype=torch.int64)
    types = torch.zeros((batch, width), dtype=torch.int64)
    for row, (length, second) in enumerate(zip(LENGTHS, SEGMENT_B)):
        body = torch.randint(5, VOCAB, (length,), generator=gen)
        body[0] = arch["cls"]
        body[length - 1] = arch["sep"]
        if second is not None:
            body[second - 1] = arch["sep"]
            types[row, second:length] = 1
        ids[row, :length] = body
        mask[row, :length] = 1
    return ids, mask, types


def build_model(prefix, head, num_labels):
    arch = ARCHS[prefix]
    config_cls = getattr(transformers, arch["config"])
    kwargs = dict(arch["kwargs"], initializer_range=INIT_RANGE)
    if head in NUM_LABELS:
        kwargs["num_labels"] = NUM_LABELS[head]
    config = config_cls(**kwargs)
    model_cls = getattr(transformers, arch["classes"] + HEAD_SUFFIX[head])
    torch.manual_seed(seed_of(prefix + "-" + head))
    model = model_cls(config)
    model.eval()
    return model_cls, model


def save_weights(model, folder, weights, dtype):
    if dtype == "f16":
        model = model.half()
    elif dtype == "bf16":
        model = model.to(torch.bfloat16)
    if weights == "safetensors":
        model.save_pretrained(folder)
    elif weights == "bin":
        model.save_pretrained(folder, safe_serialization=False)
    elif weights == "sharded-safetensors":
        model.save_pretrained(folder, max_shard_size=SHARD_SIZE)
    elif weights == "sharded-bin":
        model.save_pretrained(folder, max_shard_size=SHARD_SIZE, safe_serialization=False)
    else:
        raise ValueError(weights)
    names = os.listdir(folder)
    if weights.startswith("sharded") and not any(n.endswith(".index.json") for n in names):
        raise RuntimeError(f"{folder}: expected several shards, got {names}")


def main_outputs(head, out, pooler):
    """The named output tensors of one forward (without hidden states)."""
    if head == "base":
        result = {"last_hidden_state": out.last_hidden_state}
        if pooler:
            result["pooler_output"] = out.pooler_output
        return result
    if head == "qa":
        return {"start_logits": out.start_logits, "end_logits": out.end_logits}
    return {"logits": out.logits}


def run_case(prefix, head, out_dir):
    arch = ARCHS[prefix]
    name = f"{prefix}-{head}"
    weights, dtype = WEIGHTS.get(name, ("safetensors", "f32"))
    folder = os.path.join(out_dir, name)
    if os.path.isdir(folder):
        shutil.rmtree(folder)
    os.makedirs(folder)

    model_cls, model = build_model(prefix, head, NUM_LABELS.get(head))
    save_weights(model, folder, weights, dtype)
    # The reference is the float32 model as loaded back from the saved files, so that f16/bf16
    # rounding and tied weights are exactly what the C++ side reads.
    model = model_cls.from_pretrained(folder, dtype=torch.float32, attn_implementation="eager")
    model.eval()

    ids, mask, types = make_inputs(prefix)
    feed = {"input_ids": ids, "attention_mask": mask}
    if arch["token_types"]:
        feed["token_type_ids"] = types
    tensors = dict(feed)
    with torch.no_grad():
        out = model(**feed, output_hidden_states=True)
        for i, hidden in enumerate(out.hidden_states):
            tensors[f"hidden_states.{i}"] = hidden
        tensors.update(main_outputs(head, out, arch["pooler"]))
        for row, length in enumerate(LENGTHS):
            alone = {k: v[row:row + 1, :length] for k, v in feed.items()}
            single = model(**alone)
            tensors[f"single.{row}.input_ids"] = alone["input_ids"]
            for key, value in main_outputs(head, single, arch["pooler"]).items():
                tensors[f"single.{row}.{key}"] = value
    tensors = {k: v.detach().clone().contiguous() for k, v in tensors.items()}
    for key, value in tensors.items():
        if value.dtype not in (torch.float32, torch.int64):
            raise RuntimeError(f"{name}: {key} is {value.dtype}")
    save_file(tensors, os.path.join(folder, "reference.safetensors"))

    case = {
        "model_type": model.config.model_type,
        "architecture": model_cls.__name__,
        "head": head,
        "weights": weights,
        "dtype": dtype,
        "transformers": transformers.__version__,
        "torch": torch.__version__,
        "seed": seed_of(name),
        "lengths": list(LENGTHS),
        "token_type_ids": arch["token_types"],
        "attn_implementation": "eager",
    }
    with open(os.path.join(folder, "case.json"), "w") as f:
        json.dump(case, f, indent=1)
        f.write("\n")
    return name


def load_reports(out_dir):
    reports = []
    for checkpoint, load_as in LOAD_REPORTS:
        folder = os.path.join(out_dir, checkpoint)
        model_cls = getattr(transformers, load_as)
        torch.manual_seed(0)
        _, info = model_cls.from_pretrained(folder, dtype=torch.float32,
                                            output_loading_info=True)
        reports.append({
            "checkpoint": checkpoint,
            "load_as": load_as,
            "missing_keys": sorted(info["missing_keys"]),
            "unexpected_keys": sorted(info["unexpected_keys"]),
            "mismatched_keys": sorted(str(k) if not isinstance(k, (list, tuple)) else k[0]
                                      for k in info["mismatched_keys"]),
        })
    with open(os.path.join(out_dir, "load_reports.json"), "w") as f:
        json.dump(reports, f, indent=1)
        f.write("\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=os.path.join(ROOT, "tests", "golden", "models"))
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args()
    if transformers.__version__ != PINNED:
        sys.exit(f"transformers {transformers.__version__} found, the goldens pin {PINNED}")
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    for prefix in ARCHS:
        for head in HEADS_ORDER:
            name = f"{prefix}-{head}"
            if args.only and name not in args.only:
                continue
            run_case(prefix, head, args.out)
            print("wrote", name, flush=True)
    load_reports(args.out)
    print("wrote load_reports.json")


if __name__ == "__main__":
    main()
