#!/usr/bin/env python3
"""Writes the encoder-decoder (T5, BART, Marian) and XLNet goldens for issue 7.

For every seq2seq case this builds a tiny model with transformers itself (seeded, every parameter
randomised so that no weight goes unchecked) whose vocabulary is the real tokenizer's, saves it
with save_pretrained in bfloat16 (the real vocabularies dominate the size), reloads it as float32
and records for 3 texts tokenized by the real tokenizer:
  - the encoder's last_hidden_state (reference.safetensors, "encoder.<i>": [T, d_model] f32);
  - greedy generate() (max_new_tokens 16) with the smallest top-1/top-2 logit gap seen (a parity
    failure on a step whose gap is below ~1e-5 is a tie, not a bug);
  - beam search (num_beams 4, 2 returned, length_penalty) and the same with no_repeat_ngram_size 2:
    sequences and sequences_scores;
  - decoded text of the greedy output.
One model per pipeline task is also run through transformers.pipeline (summarization: bart,
translation: marian, text2text-generation: t5) into pipelines.json of that case.
XLNet (no XLNet tokenizer is available offline) gets random ids and records the logits of
XLNetForSequenceClassification, ForTokenClassification and ForQuestionAnsweringSimple, which share
one randomised body; then (make_xlnet_pipelines, also alone with --only xlnet-pipelines) a small
SentencePiece model is trained into an XLNet tokenizer (xlnet/tokenizer/) and the
text-classification, token-classification and question-answering pipelines are run on the three
heads (xlnet/pipelines.json); make_xlnet_variants (--only xlnet-variants) adds sequence
classifiers with other config values (xlnet/variants/).

tokenizer.json / vocab files are NOT committed (1-2 MB each): tests take them from
../shared/data/tokenizers/<case.json "tokenizer">; the small tokenizer_config.json (and
special_tokens_map.json) written by transformers are committed next to the model.
mBART's tokenizer (sentencepiece, 250k pieces + language codes) is not available offline: the
mbart case has a 256-id vocabulary, language codes at 250-253 and ids laid out as mbart-50's
tokenizer does, with no pipeline or decoded text.

    ~/.cache/mlhub/pyenv/bin/python tools/reference/seq2seq_goldens.py [--only CASE]...

CASE: t5, t5-v1_1, bart, mbart, marian, t5-shapes (T5 with uneven shapes on random ids), xlnet.

Output per case: tests/golden/seq2seq/<case>/ config.json, generation_config.json,
model.safetensors, tokenizer_config.json, case.json, reference.safetensors. No network is used.
"""

import argparse
import json
import math
import os
import shutil
import sys
import tempfile

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import tokenizers  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

transformers.utils.logging.disable_progress_bar()

PINNED = "4.57.3"
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(ROOT, "tests", "golden", "seq2seq")
SHARED = os.environ.get("MLHUB_SHARED", os.path.join(ROOT, "..", "shared"))

# d_model 16 (not 32): the real vocabularies (32k-50k rows) are most of each file, and the
# whole folder must stay near 6 MB. Two layers and several heads still exercise every path.
D_MODEL = 16
LAYERS = 2
NEW_TOKENS = 16
TEXTS = [
    "The tower is 324 metres tall, about the same height as an 81-storey building.",
    "Studies have shown that owning a dog is good for you.",
    "Hello world!",
]
T5_PREFIX = "summarize: "

T5_COMMON = dict(vocab_size=32100, d_model=D_MODEL, d_kv=8, d_ff=32, num_layers=LAYERS,
                 num_decoder_layers=LAYERS, num_heads=2, relative_attention_num_buckets=8,
                 relative_attention_max_distance=20, decoder_start_token_id=0, pad_token_id=0,
                 eos_token_id=1)
BART_COMMON = dict(vocab_size=50265, d_model=D_MODEL, encoder_layers=LAYERS,
                   decoder_layers=LAYERS, encoder_attention_heads=2, decoder_attention_heads=2,
                   encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=512,
                   bos_token_id=0, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2,
                   forced_bos_token_id=0, forced_eos_token_id=2)
MARIAN_COMMON = dict(vocab_size=32001, d_model=D_MODEL, encoder_layers=LAYERS,
                     decoder_layers=LAYERS, encoder_attention_heads=2, decoder_attention_heads=2,
                     encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=512,
                     pad_token_id=32000, eos_token_id=0, decoder_start_token_id=32000,
                     forced_eos_token_id=0, scale_embedding=True, activation_function="swish",
                     bad_words_ids=[[32000]])  # as opus-mt configs: never generate <pad>

# mBART-50 style: pre-norm layers, a final layer norm on encoder and decoder, layernorm_embedding,
# scale_embedding, learned positions offset 2; the last ids of the (small, untokenized) vocabulary
# stand for language codes, the decoder starts with </s> and forces the target language first.
MBART_LANGS = {"en_XX": 250, "de_DE": 251, "fr_XX": 252, "ro_RO": 253}
MBART_COMMON = dict(vocab_size=256, d_model=32, encoder_layers=LAYERS, decoder_layers=LAYERS,
                    encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64,
                    decoder_ffn_dim=64, max_position_embeddings=128, scale_embedding=True,
                    bos_token_id=0, pad_token_id=1, eos_token_id=2, decoder_start_token_id=2,
                    forced_bos_token_id=MBART_LANGS["de_DE"], forced_eos_token_id=2)

# As in the real t5-small config.json (lengths shortened): the summarization and translation
# pipelines take prefix and generation settings from here.
T5_TASK_PARAMS = {
    "summarization": dict(early_stopping=True, length_penalty=2.0, max_length=24, min_length=6,
                          no_repeat_ngram_size=3, num_beams=4, prefix="summarize: "),
    "translation_en_to_de": dict(early_stopping=True, max_length=20, num_beams=4,
                                 prefix="translate English to German: "),
}

# case -> (config class, model class, config kwargs, tokenizer folder, tokenizer class, prefix,
#          pipeline tasks run on it)
CASES = {
    "t5": ("T5Config", "T5ForConditionalGeneration",
           dict(T5_COMMON, feed_forward_proj="relu", tie_word_embeddings=True,
                task_specific_params=T5_TASK_PARAMS),
           "t5-small", "T5TokenizerFast", T5_PREFIX,
           ("text2text-generation", "summarization", "translation_en_to_de")),
    "t5-v1_1": ("T5Config", "T5ForConditionalGeneration",
                dict(T5_COMMON, feed_forward_proj="gated-gelu", tie_word_embeddings=False),
                "t5-small", "T5TokenizerFast", T5_PREFIX, ()),
    "bart": ("BartConfig", "BartForConditionalGeneration", BART_COMMON,
             "roberta-base", "BartTokenizerFast", "", ("summarization",)),
    "mbart": ("MBartConfig", "MBartForConditionalGeneration", MBART_COMMON, None, None, "", ()),
    "marian": ("MarianConfig", "MarianMTModel", MARIAN_COMMON,
               "marian-nmt", "MarianTokenizer", "", ("translation",)),
}

# T5 with the shapes the two tokenized cases leave alone: more encoder than decoder layers (the
# other way round, transformers 4.57.3's generate() fails: its DynamicCache is sized by
# num_layers), num_heads * d_kv (12) != d_model (16), a gated SiLU feed-forward with a tied
# head, and few relative buckets so that short sequences reach the logarithmic and saturated
# buckets. Random ids over a 256-token vocabulary (no tokenizer needed), each source ending
# with eos.
T5_SHAPES = dict(vocab_size=256, d_model=D_MODEL, d_kv=4, d_ff=32, num_layers=3,
                 num_decoder_layers=2, num_heads=3, relative_attention_num_buckets=16,
                 relative_attention_max_distance=24, feed_forward_proj="gated-silu",
                 tie_word_embeddings=True, decoder_start_token_id=0, pad_token_id=0,
                 eos_token_id=1)

XLNET = dict(vocab_size=256, d_model=32, n_layer=LAYERS, n_head=4, d_inner=64,
             pad_token_id=5, bos_token_id=1, eos_token_id=2, num_labels=3)
XLNET_HEADS = ("XLNetForSequenceClassification", "XLNetForTokenClassification",
               "XLNetForQuestionAnsweringSimple")


def randomise(model, seed):
    """Every parameter random: norms around 1, biases small, matrices scaled by fan-in."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            shape = p.shape
            if "embed_positions" in name and "Marian" in type(model).__name__:
                continue  # static sinusoids, not saved: from_pretrained recomputes them
            if p.ndim == 1 and ("norm" in name or "layer_norm" in name) and \
                    name.endswith("weight"):
                p.copy_(1.0 + 0.2 * torch.randn(shape, generator=g))
            elif p.ndim == 1:
                p.copy_(0.1 * torch.randn(shape, generator=g))
            elif "shared" in name or "embed" in name or "word_embedding" in name \
                    or "relative_attention_bias" in name:
                p.copy_(0.5 * torch.randn(shape, generator=g))
            elif name in ("mask_emb",) or name.endswith(("r_w_bias", "r_r_bias", "r_s_bias")) \
                    or name.endswith("seg_embed"):
                p.copy_(0.1 * torch.randn(shape, generator=g))
            else:
                scale = 3.0 if "lm_head" in name else 1.0
                p.copy_(scale * torch.randn(shape, generator=g) / math.sqrt(shape[-1]))
        for name, b in model.named_buffers():
            if name.endswith("final_logits_bias"):  # bart/marian: a saved buffer
                b.copy_(0.1 * torch.randn(b.shape, generator=g))


def top_gap(logits):
    top = torch.topk(logits, 2, dim=-1).values
    return float((top[..., 0] - top[..., 1]).min())


def load_tokenizer(folder, cls):
    src = os.path.join(SHARED, "data", "tokenizers", folder)
    if cls == "MarianTokenizer":
        # MarianTokenizer wants source.spm/target.spm; the fixture has one joint model.
        tmp = tempfile.mkdtemp()
        for f in os.listdir(src):
            shutil.copy(os.path.join(src, f), tmp)
        for f in ("source.spm", "target.spm"):
            shutil.copy(os.path.join(src, "vocab.joint.spm"), os.path.join(tmp, f))
        src = tmp
    return getattr(transformers, cls).from_pretrained(src)


def beam(model, ids, **kw):
    out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                         output_scores=True, return_dict_in_generate=True, **kw)
    return {"config": kw, "sequences": out.sequences.tolist(),
            "scores": out.sequences_scores.tolist()}


def run_pipeline(task, model, tok, texts):
    pipe = transformers.pipeline(task, model=model, tokenizer=tok, device="cpu")
    # pad_token for the batch_size 2 call; every tokenizer here has one.
    assert tok.pad_token_id is not None
    # {} runs the pipeline's own defaults: with no generation settings in the model's
    # generation_config, transformers' text2text pipelines use num_beams 4, max_new_tokens 256
    # (Text2TextGenerationPipeline._default_generation_config), and task_specific_params of the
    # config (t5) override them for summarization / translation_xx_to_yy.
    calls = [dict(),
             dict(max_new_tokens=NEW_TOKENS, num_beams=1),
             dict(max_new_tokens=NEW_TOKENS, num_beams=4, no_repeat_ngram_size=2,
                  length_penalty=2.0, early_stopping=True),
             dict(max_length=12, min_length=8, num_beams=2, num_return_sequences=2),
             dict(max_new_tokens=NEW_TOKENS, num_beams=1, batch_size=2),
             dict(max_new_tokens=NEW_TOKENS, return_tensors=True)]
    records = []
    for kw in calls:
        out = pipe(texts, **kw)
        out = [[{k: (v.tolist() if torch.is_tensor(v) else v) for k, v in r.items()} for r in o]
               if isinstance(o, list) else
               {k: (v.tolist() if torch.is_tensor(v) else v) for k, v in o.items()} for o in out]
        records.append({"inputs": texts, "parameters": kw, "output": out})
    return {"task": task, "generation_config": pipe.generation_config.to_diff_dict(),
            "calls": records}


def generate_all(model, inputs):
    """Encoder states, greedy (with the smallest top-2 gap) and the two beam searches."""
    tensors, greedy, gaps, beams = {}, [], [], []
    with torch.no_grad():
        for i, ids in enumerate(inputs):
            x = torch.tensor([ids])
            enc = model.get_encoder()(input_ids=x, attention_mask=torch.ones_like(x))
            tensors[f"encoder.{i}"] = enc.last_hidden_state[0].float().contiguous()
            out = model.generate(x, attention_mask=torch.ones_like(x), do_sample=False,
                                 num_beams=1, max_new_tokens=NEW_TOKENS, output_scores=True,
                                 return_dict_in_generate=True)
            greedy.append(out.sequences[0].tolist())
            gaps.append(min(top_gap(s[0]) for s in out.scores))
        for ids in inputs[:2]:
            x = torch.tensor([ids])
            beams.append(beam(model, x, num_beams=4, num_return_sequences=2,
                              max_new_tokens=NEW_TOKENS, length_penalty=2.0,
                              early_stopping=False))
            beams.append(beam(model, x, num_beams=4, num_return_sequences=2,
                              max_new_tokens=NEW_TOKENS, length_penalty=0.5,
                              no_repeat_ngram_size=2, early_stopping=True))
    return tensors, greedy, gaps, beams


def write_ids_case(name, folder, model, inputs, fields):
    """A case with token ids and no tokenizer: encoder states, greedy and beams of `inputs`,
    case.json with `fields` (class, notes, ...) in front of them."""
    tensors, greedy, gaps, beams = generate_all(model, inputs)
    save_file(tensors, os.path.join(folder, "reference.safetensors"))
    case = {"case": name, "transformers": transformers.__version__, **fields,
            "input_ids": inputs,
            "greedy": {"config": {"max_new_tokens": NEW_TOKENS}, "sequences": greedy,
                       "min_top2_gap": gaps},
            "beam": beams}
    with open(os.path.join(folder, "case.json"), "w") as f:
        json.dump(case, f, indent=1)
        f.write("\n")
    print(f"{name}: min gap {min(gaps):.2e}, greedy {greedy[0]}")


def make_untokenized(name, model_cls, model, folder, seed):
    """mBART without its tokenizer: ids as mbart-50's tokenizer lays them out."""
    g = torch.Generator().manual_seed(seed + 1)
    src = MBART_LANGS["en_XX"]
    inputs = [[src] + torch.randint(4, MBART_LANGS["en_XX"], (n,), generator=g).tolist() + [2]
              for n in (11, 17, 3)]
    write_ids_case(name, folder, model, inputs, {
        "class": model_cls, "saved_dtype": "bfloat16", "tokenizer": None,
        "language_codes": MBART_LANGS,
        "note": "no mBART tokenizer offline: ids generated as mbart-50 lays them out, "
                "[src_lang] tokens </s>; decoder starts with </s> (2), forced BOS = tgt_lang"})


def make_case(name, spec, out_dir):
    config_cls, model_cls, kwargs, tok_folder, tok_cls, prefix, tasks = spec
    seed = sum(ord(c) for c in name)
    torch.manual_seed(seed)
    config = getattr(transformers, config_cls)(**kwargs)
    model = getattr(transformers, model_cls)(config)
    randomise(model, seed)
    model.eval()
    folder = os.path.join(out_dir, name)
    shutil.rmtree(folder, ignore_errors=True)
    model.to(torch.bfloat16).save_pretrained(folder, safe_serialization=True)
    tok = load_tokenizer(tok_folder, tok_cls) if tok_folder else None
    if tok:
        tok.save_pretrained(folder)
    # Only the small configs are committed; the vocabularies come from ../shared.
    for f in os.listdir(folder):
        if f not in ("config.json", "generation_config.json", "model.safetensors",
                     "tokenizer_config.json", "special_tokens_map.json"):
            os.remove(os.path.join(folder, f))
    model = getattr(transformers, model_cls).from_pretrained(folder, dtype=torch.float32)
    model.eval()

    if tok is None:
        return make_untokenized(name, model_cls, model, folder, seed)
    inputs = [tok(prefix + t).input_ids for t in TEXTS]
    # What the shared tokenizer.json gives (tokenizers library), for the C++ side, which reads
    # tokenizer.json: equal to input_ids except for marian, whose fixture's tokenizer.json is a
    # different conversion from its vocab.joint.spm + vocab.json (what MarianTokenizer uses).
    fast = tokenizers.Tokenizer.from_file(
        os.path.join(SHARED, "data", "tokenizers", tok_folder, "tokenizer.json"))
    json_ids = [fast.encode(prefix + t).ids for t in TEXTS]
    tensors, greedy, gaps, beams = generate_all(model, inputs)
    texts_out = [tok.decode(seq, skip_special_tokens=True) for seq in greedy]
    save_file(tensors, os.path.join(folder, "reference.safetensors"))
    case = {
        "case": name, "transformers": transformers.__version__, "class": model_cls,
        "saved_dtype": "bfloat16", "tokenizer": f"shared/data/tokenizers/{tok_folder}",
        "tokenizer_class": tok_cls, "prefix": prefix, "texts": TEXTS, "input_ids": inputs,
        "tokenizer_json_ids": json_ids, "tokenizer_json_matches": json_ids == inputs,
        "greedy": {"config": {"max_new_tokens": NEW_TOKENS}, "sequences": greedy,
                   "decoded": texts_out, "min_top2_gap": gaps},
        "beam": beams,
    }
    # text2text-generation adds no prefix of its own: its inputs carry t5's "summarize: ".
    case["pipelines"] = [run_pipeline(task, model, tok,
                                      [(prefix if task == "text2text-generation" else "") + t
                                       for t in TEXTS[:2]]) for task in tasks]
    with open(os.path.join(folder, "case.json"), "w") as f:
        json.dump(case, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"{name}: min gap {min(gaps):.2e}, greedy {texts_out[0]!r}")


def make_t5_shapes(out_dir):
    name = "t5-shapes"
    seed = sum(ord(c) for c in name)
    torch.manual_seed(seed)
    model = transformers.T5ForConditionalGeneration(transformers.T5Config(**T5_SHAPES))
    randomise(model, seed)
    folder = os.path.join(out_dir, name)
    shutil.rmtree(folder, ignore_errors=True)
    model.to(torch.bfloat16).save_pretrained(folder, safe_serialization=True)
    model = transformers.T5ForConditionalGeneration.from_pretrained(folder, dtype=torch.float32)
    model.eval()
    g = torch.Generator().manual_seed(seed + 1)
    inputs = [torch.randint(2, T5_SHAPES["vocab_size"], (n,), generator=g).tolist() + [1]
              for n in (29, 8, 2)]
    write_ids_case(name, folder, model, inputs, {
        "class": "T5ForConditionalGeneration", "saved_dtype": "bfloat16", "tokenizer": None,
        "note": "random ids (no tokenizer), each source ending with eos (1); 3 encoder layers, "
                "2 decoder layers, 3 heads x d_kv 4 != d_model 16, gated-silu, tied head"})


def make_xlnet(out_dir):
    name = "xlnet"
    seed = sum(ord(c) for c in name)
    torch.manual_seed(seed)
    config = transformers.XLNetConfig(**XLNET)
    folder = os.path.join(out_dir, name)
    shutil.rmtree(folder, ignore_errors=True)
    # One body, three heads: the body of the first is copied into the others.
    g = torch.Generator().manual_seed(seed + 1)
    # XLNet's tokenizer puts <sep> (4) <cls> (3) at the END; segment ids: A=0, B=1, cls=2.
    lengths = (9, 14)
    input_ids, token_types = [], []
    for n in lengths:
        body = torch.randint(6, XLNET["vocab_size"], (n,), generator=g).tolist()
        input_ids.append(body[:n // 2] + [4] + body[n // 2:] + [4, 3])
        token_types.append([0] * (n // 2 + 1) + [1] * (n - n // 2 + 1) + [2])
    # Batch of the two, left-padded like XLNet's tokenizer (padding_side="left").
    width = max(len(i) for i in input_ids)
    ids = torch.tensor([[XLNET["pad_token_id"]] * (width - len(i)) + i for i in input_ids])
    types = torch.tensor([[4] * (width - len(t)) + t for t in token_types])
    mask = torch.tensor([[0] * (width - len(i)) + [1] * len(i) for i in input_ids])
    tensors, heads, body_state = {}, {}, None
    for cls in XLNET_HEADS:
        # ForQuestionAnsweringSimple splits its qa_outputs into start/end: 2 labels.
        config.num_labels = 2 if "QuestionAnswering" in cls else XLNET["num_labels"]
        model = getattr(transformers, cls)(config)
        randomise(model, seed if body_state is None else seed + len(cls))
        if body_state is None:
            body_state = model.transformer.state_dict()
        else:
            model.transformer.load_state_dict(body_state)
        sub = os.path.join(folder, cls.replace("XLNetFor", "").lower())
        model.save_pretrained(sub, safe_serialization=True)
        model = getattr(transformers, cls).from_pretrained(sub, dtype=torch.float32)
        model.eval()
        with torch.no_grad():
            out = model(input_ids=ids, attention_mask=mask, token_type_ids=types)
            if cls == XLNET_HEADS[0]:
                hs = model.transformer(input_ids=ids, attention_mask=mask,
                                       token_type_ids=types).last_hidden_state
                tensors["last_hidden_state"] = hs.float().contiguous()
        key = cls.replace("XLNetFor", "")
        for field in ("logits", "start_logits", "end_logits"):
            if getattr(out, field, None) is not None:
                tensors[f"{key}.{field}"] = getattr(out, field).float().contiguous()
        heads[key] = os.path.basename(sub)
    save_file(tensors, os.path.join(folder, "reference.safetensors"))
    case = {"case": name, "transformers": transformers.__version__, "heads": heads,
            "tokenizer": None, "input_ids": ids.tolist(), "attention_mask": mask.tolist(),
            "token_type_ids": types.tolist(),
            "note": "ids generated directly (no XLNet tokenizer offline); left padding, "
                    "<sep>=4 <cls>=3 at the end, pad=5 with token type 4 as XLNet's tokenizer"}
    with open(os.path.join(folder, "case.json"), "w") as f:
        json.dump(case, f, indent=1)
        f.write("\n")
    print(f"{name}: {sorted(tensors)}")


# Config variants of XLNetForSequenceClassification on the xlnet case's batch: the config fields
# the default case leaves at one value (clamp_len, ff_activation, summary_*, layer_norm_eps).
XLNET_VARIANTS = {
    "clamp-first-noproj": dict(clamp_len=3, ff_activation="relu", summary_type="first",
                               summary_use_proj=False, summary_activation=None),
    "mean-gelu-new": dict(ff_activation="gelu_new", summary_type="mean", layer_norm_eps=1e-5),
}


def make_xlnet_variants(out_dir):
    """xlnet/variants/<name>/ (config.json, model.safetensors, reference.safetensors with
    "logits" and "last_hidden_state") for each XLNET_VARIANTS entry, run on case.json's batch."""
    folder = os.path.join(out_dir, "xlnet")
    with open(os.path.join(folder, "case.json")) as f:
        case = json.load(f)
    inputs = {k: torch.tensor(case[k]) for k in ("input_ids", "attention_mask", "token_type_ids")}
    shutil.rmtree(os.path.join(folder, "variants"), ignore_errors=True)
    for i, (name, overrides) in enumerate(XLNET_VARIANTS.items()):
        seed = sum(ord(c) for c in name) + i
        torch.manual_seed(seed)
        config = transformers.XLNetConfig(**dict(XLNET, **overrides))
        model = transformers.XLNetForSequenceClassification(config)
        randomise(model, seed)
        sub = os.path.join(folder, "variants", name)
        model.save_pretrained(sub, safe_serialization=True)
        model = transformers.XLNetForSequenceClassification.from_pretrained(
            sub, dtype=torch.float32)
        model.eval()
        with torch.no_grad():
            out = model(**inputs, output_hidden_states=True)
        save_file({"logits": out.logits.float().contiguous(),
                   "last_hidden_state": out.hidden_states[-1].float().contiguous()},
                  os.path.join(sub, "reference.safetensors"))
        print(f"xlnet variant {name}: logits {out.logits.tolist()}")


# The XLNet pipeline goldens (make_xlnet_pipelines): the texts a small SentencePiece model is
# trained on (it must cover the pipeline inputs), and the calls recorded.
XLNET_CORPUS = TEXTS + [
    "I loved this movie, it was wonderful. I hated the ending, it was terrible.",
    "My name is Sarah and I live in London.",
    "George Washington was the first president of the United States of America.",
    "What is the capital of France? Paris is the capital and most populous city of France.",
    "The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France. "
    "It is named after the engineer Gustave Eiffel, whose company designed and built the tower "
    "for the 1889 World's Fair.",
    "Where is the Eiffel Tower? Who built it, and when?",
]
XLNET_QA_CONTEXT = XLNET_CORPUS[-2]
XLNET_PIPELINES = {
    # task: (head folder, [(inputs, parameters), ...]); every call runs on all its inputs.
    "text-classification": ("sequenceclassification", [
        (["I loved this movie, it was wonderful.", "Hello world!", XLNET_CORPUS[4]], {}),
        (["Hello world!", "My name is Sarah and I live in London."], {"top_k": None}),
        ([{"text": "What is the capital of France?",
           "text_pair": "Paris is the capital of France."}], {}),
    ]),
    "token-classification": ("tokenclassification", [
        (["My name is Sarah and I live in London.", "Hello world!"], {}),
        (["George Washington was the first president of the United States of America.",
          "My name is Sarah and I live in London."], {"aggregation_strategy": "simple"}),
        (["The Eiffel Tower is in Paris, France."], {"aggregation_strategy": "first"}),
    ]),
    "question-answering": ("questionansweringsimple", [
        ([{"question": "Who built the Eiffel Tower?", "context": XLNET_QA_CONTEXT}], {}),
        ([{"question": "Where is the Eiffel Tower?", "context": XLNET_QA_CONTEXT}],
         {"top_k": 3}),
        # Several overlapping windows of different lengths: the batch pads them (on the left).
        ([{"question": "When was it built?", "context": XLNET_QA_CONTEXT}],
         {"max_seq_len": 32, "doc_stride": 8, "top_k": 2}),
    ]),
}


def make_xlnet_pipelines(out_dir):
    """An XLNet tokenizer (a 256-piece SentencePiece unigram model trained here, converted by
    XLNetTokenizerFast: left padding, <sep> <cls> at the end, token types 0/1/2) next to the xlnet
    case's head checkpoints, and what transformers.pipeline returns for each task on them.
    Writes xlnet/tokenizer/ (tokenizer.json, tokenizer_config.json, special_tokens_map.json;
    spiece.model is left out: tokenizer.json is what gets loaded) and xlnet/pipelines.json."""
    import sentencepiece as spm
    folder = os.path.join(out_dir, "xlnet")
    tok_dir = os.path.join(folder, "tokenizer")
    shutil.rmtree(tok_dir, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = os.path.join(tmp, "corpus.txt")
        with open(corpus, "w") as f:
            f.write("\n".join(XLNET_CORPUS) + "\n")
        # XLNet's piece layout: <unk> <s> </s> then <cls> <sep> <pad> <mask> <eod> <eop> (3-8),
        # as the case's ids assume (pad 5, sep 4, cls 3). hard_vocab_limit off: the corpus is
        # small, so the model gets the pieces it supports (at most the model's 256).
        spm.SentencePieceTrainer.train(
            input=corpus, model_prefix=os.path.join(tmp, "spiece"), vocab_size=256,
            model_type="unigram", hard_vocab_limit=False, character_coverage=1.0,
            num_threads=1, minloglevel=2, unk_id=0, bos_id=1, eos_id=2, pad_id=-1,
            control_symbols=["<cls>", "<sep>", "<pad>", "<mask>", "<eod>", "<eop>"])
        tok = transformers.XLNetTokenizerFast(vocab_file=os.path.join(tmp, "spiece.model"))
        tok.save_pretrained(tok_dir)
    os.remove(os.path.join(tok_dir, "spiece.model"))
    # What the tests load: the files as committed.
    tok = transformers.AutoTokenizer.from_pretrained(tok_dir)
    assert tok.padding_side == "left" and (tok.cls_token_id, tok.sep_token_id,
                                           tok.pad_token_id) == (3, 4, 5)
    assert len(tok) <= XLNET["vocab_size"]
    records = []
    for task, (head, calls) in XLNET_PIPELINES.items():
        sub = os.path.join(folder, head)
        model = transformers.AutoConfig.from_pretrained(sub)
        model = getattr(transformers, model.architectures[0]).from_pretrained(
            sub, dtype=torch.float32)
        model.eval()
        pipe = transformers.pipeline(task, model=model, tokenizer=tok, device="cpu")
        for inputs, kw in calls:
            records.append({"task": task, "model": head, "inputs": inputs, "parameters": kw,
                            "output": [to_plain(pipe(x, **kw)) for x in inputs]})
    with open(os.path.join(folder, "pipelines.json"), "w") as f:
        json.dump({"transformers": transformers.__version__, "calls": records}, f, indent=1,
                  ensure_ascii=False)
        f.write("\n")
    print(f"xlnet pipelines: {len(records)} calls, vocabulary {len(tok)}")


def to_plain(value):
    """Pipeline output as JSON: numpy scalars and arrays as Python numbers and lists."""
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if hasattr(value, "tolist"):
        return value.tolist()
    return value


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=OUT)
    parser.add_argument("--only", action="append")
    args = parser.parse_args()
    if transformers.__version__ != PINNED:
        sys.exit(f"transformers {PINNED} is the reference; found {transformers.__version__}")
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    for name, spec in CASES.items():
        if args.only and name not in args.only:
            continue
        make_case(name, spec, args.out)
    if not args.only or "t5-shapes" in args.only:
        make_t5_shapes(args.out)
    if not args.only or "xlnet" in args.only:
        make_xlnet(args.out)
    if not args.only or "xlnet" in args.only or "xlnet-pipelines" in args.only:
        make_xlnet_pipelines(args.out)
    if not args.only or "xlnet" in args.only or "xlnet-variants" in args.only:
        make_xlnet_variants(args.out)


if __name__ == "__main__":
    main()
