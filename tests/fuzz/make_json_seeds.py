"""Writes the hand-made tokenizer.json seeds of corpus/fuzz_tokenizer_json/ (one per family of
components), checking that each loads and encodes in the reference library.

  ~/.cache/mlhub/pyenv/bin/python tests/fuzz/make_json_seeds.py tests/fuzz/corpus/fuzz_tokenizer_json
"""
import base64
import json
import os
import struct
import sys

from tokenizers import Tokenizer

out = sys.argv[1]


def tiny_charsmap():
    """A valid Precompiled charsmap mapping "A" to "a": a 256-unit darts-clone double array
    (root offset 0x40, so every first byte lands inside the array; the reference indexes it
    unchecked) followed by the normalized strings "a\\0"."""
    units = [0] * 256
    units[0] = 0x40 << 10                     # root: offset 0x40
    units[0x40 ^ 0x41] = 0x41 | 0x100 | (2 << 10)  # label 'A', has_leaf, offset 2
    units[1 ^ 2] = 1 << 31                    # the leaf: value 0 (offset into the strings)
    blob = struct.pack("<I", 4 * len(units)) + struct.pack("<256I", *units) + b"a\0"
    return base64.b64encode(blob).decode()


os.makedirs(out, exist_ok=True)
def added(i, c, special=True, **kw):
    d = {"id": i, "content": c, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False, "special": special}
    d.update(kw); return d
seeds = {}
# 1. BERT-like WordPiece
wp_vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "##s", "##ing", "un", "##want", "##ed", "run", ",", ".", "!", "a", "##b", "你", "好"])}
seeds["wordpiece_bert"] = {
 "version": "1.0",
 "truncation": {"direction": "Right", "max_length": 16, "strategy": "LongestFirst", "stride": 2},
 "padding": {"strategy": {"Fixed": 20}, "direction": "Left", "pad_to_multiple_of": 4, "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
 "added_tokens": [added(0, "[PAD]"), added(1, "[UNK]"), added(2, "[CLS]"), added(3, "[SEP]"), added(4, "[MASK]", lstrip=True)],
 "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True, "strip_accents": None, "lowercase": True},
 "pre_tokenizer": {"type": "BertPreTokenizer"},
 "post_processor": {"type": "TemplateProcessing",
   "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
   "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
   "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]}, "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
 "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
 "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##", "max_input_chars_per_word": 100, "vocab": wp_vocab}}
# 2. GPT-2-like byte-level BPE
bl = "ĠhelloworldĠw"
bpe_vocab = {c: i for i, c in enumerate(["!", "a", "b", "d", "e", "h", "l", "o", "r", "w", "Ġ", "Ċ", "he", "ll", "llo", "hello", "Ġw", "or", "Ġwor", "ld", "Ġworld", "<|endoftext|>"])}
seeds["bpe_byte_level"] = {
 "version": "1.0", "truncation": None, "padding": None,
 "added_tokens": [added(21, "<|endoftext|>")],
 "normalizer": None,
 "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
 "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
 "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
 "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "", "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
   "vocab": bpe_vocab, "merges": ["h e", "l l", "ll o", "he llo", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"]}}
# 3. Llama-2-like sentencepiece BPE with byte fallback
sp_vocab = ["<unk>", "<s>", "</s>"] + ["<0x%02X>" % b for b in range(256)] + ["▁", "h", "e", "l", "o", "w", "r", "d", "he", "ll", "▁h", "▁he", "llo", "▁hello", "▁w", "or", "▁wor", "ld", "▁world"]
sp_vocab = {t: i for i, t in enumerate(sp_vocab)}
seeds["bpe_sentencepiece"] = {
 "version": "1.0", "truncation": None, "padding": None,
 "added_tokens": [added(0, "<unk>"), added(1, "<s>"), added(2, "</s>")],
 "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "▁"}, {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]},
 "pre_tokenizer": None,
 "post_processor": {"type": "TemplateProcessing",
   "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
   "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
   "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
 "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "ByteFallback"}, {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
 "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None, "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
   "vocab": sp_vocab, "merges": [["h", "e"], ["l", "l"], ["▁", "h"], ["▁h", "e"], ["ll", "o"], ["▁he", "llo"], ["▁", "w"], ["o", "r"], ["▁w", "or"], ["l", "d"], ["▁wor", "ld"]]}}
# 4. T5-like Unigram
uni_vocab = [["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0], ["▁", -2.0], ["▁hello", -5.0], ["▁world", -5.5], ["h", -8.0], ["e", -8.0], ["l", -8.0], ["o", -8.0], ["w", -8.5], ["r", -8.5], ["d", -8.5], ["▁he", -7.0], ["llo", -7.5], ["<extra_id_0>", 0.0]]
seeds["unigram_metaspace"] = {
 "version": "1.0", "truncation": None, "padding": None,
 "added_tokens": [added(0, "<pad>"), added(1, "</s>"), added(2, "<unk>"), added(15, "<extra_id_0>")],
 "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Lowercase"}, {"type": "Strip", "strip_left": True, "strip_right": True}, {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
 "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}]},
 "post_processor": {"type": "TemplateProcessing",
   "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
   "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 0}}, {"SpecialToken": {"id": "</s>", "type_id": 0}}],
   "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}},
 "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
 "model": {"type": "Unigram", "unk_id": 2, "vocab": uni_vocab, "byte_fallback": False}}
# 5. WordLevel with many pre-tokenizers, BertProcessing, CTC decoder
wl_vocab = {t: i for i, t in enumerate(["[UNK]", "[CLS]", "[SEP]", "hello", "world", "1", "2", "3", "!", ",", "a", "b"])}
seeds["wordlevel_pretokenizers"] = {
 "version": "1.0", "truncation": None, "padding": None,
 "added_tokens": [added(0, "[UNK]"), added(1, "[CLS]"), added(2, "[SEP]"), added(12, "<sep>", special=False, normalized=True, single_word=True, rstrip=True)],
 "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "StripAccents"}, {"type": "NFC"}, {"type": "Nmt"}, {"type": "NFKD"}]},
 "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
   {"type": "Whitespace"}, {"type": "Punctuation", "behavior": "Isolated"}, {"type": "Digits", "individual_digits": True},
   {"type": "Split", "pattern": {"Regex": "\\p{N}+|[a-z]+"}, "behavior": "MergedWithPrevious", "invert": False},
   {"type": "CharDelimiterSplit", "delimiter": "_"}, {"type": "UnicodeScripts"}]},
 "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 2], "cls": ["[CLS]", 1]},
 "decoder": {"type": "CTC", "pad_token": "[UNK]", "word_delimiter_token": "|", "cleanup": True},
 "model": {"type": "WordLevel", "vocab": wl_vocab, "unk_token": "[UNK]"}}
# 6. CLIP/Roberta-like: BPE with end_of_word_suffix, RobertaProcessing, BPEDecoder
cl_vocab = {t: i for i, t in enumerate(["<s>", "</s>", "<unk>", "<pad>", "<mask>", "h", "e", "l", "o", "w", "r", "d", "h</w>", "e</w>", "l</w>", "o</w>", "w</w>", "r</w>", "d</w>", "he", "ll", "llo</w>", "hello</w>", "wor", "ld</w>", "world</w>"])}
seeds["bpe_suffix_roberta"] = {
 "version": "1.0", "truncation": None, "padding": None,
 "added_tokens": [added(0, "<s>"), added(1, "</s>"), added(2, "<unk>"), added(3, "<pad>"), added(4, "<mask>", lstrip=True)],
 "normalizer": {"type": "Sequence", "normalizers": [{"type": "NFC"}, {"type": "Replace", "pattern": {"Regex": "\\s+"}, "content": " "}, {"type": "Lowercase"}]},
 "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "Split", "pattern": {"Regex": "[a-z]+|[0-9]|[^\\s\\p{L}\\p{N}]+"}, "behavior": "Removed", "invert": True}, {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": False}]},
 "post_processor": {"type": "RobertaProcessing", "sep": ["</s>", 1], "cls": ["<s>", 0], "trim_offsets": True, "add_prefix_space": False},
 "decoder": {"type": "BPEDecoder", "suffix": "</w>"},
 "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None, "end_of_word_suffix": "</w>", "fuse_unk": False, "byte_fallback": False,
   "vocab": cl_vocab, "merges": ["h e", "l l", "ll o</w>", "he llo</w>", "w o", "wo r", "l d</w>", "wor ld</w>"]}}
# fix cl vocab for merges
cl_vocab["o</w>"] = cl_vocab["o</w>"]; cl_vocab.setdefault("wo", len(cl_vocab))
seeds["bpe_suffix_roberta"]["model"]["vocab"] = cl_vocab
# 7. FixedLength + Metaspace first + Sequence processors + decoders Replace/Strip
seeds["misc_components"] = {
 "version": "1.0", "truncation": {"direction": "Left", "max_length": 6, "strategy": "OnlyFirst", "stride": 0}, "padding": {"strategy": "BatchLongest", "direction": "Right", "pad_to_multiple_of": None, "pad_id": 0, "pad_type_id": 0, "pad_token": "<pad>"},
 "added_tokens": [added(0, "<pad>"), added(1, "<eos>"), added(2, "<unk>")],
 "normalizer": {"type": "Precompiled", "precompiled_charsmap": tiny_charsmap()},
 "pre_tokenizer": {"type": "Sequence", "pretokenizers": [{"type": "FixedLength", "length": 3}, {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}]},
 "post_processor": {"type": "Sequence", "processors": [{"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}, {"type": "TemplateProcessing", "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<eos>", "type_id": 0}}], "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": "<eos>", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "<eos>", "type_id": 1}}], "special_tokens": {"<eos>": {"id": "<eos>", "ids": [1], "tokens": ["<eos>"]}}}]},
 "decoder": {"type": "Sequence", "decoders": [{"type": "Replace", "pattern": {"String": "▁"}, "content": " "}, {"type": "Strip", "content": " ", "start": 1, "stop": 1}]},
 "model": {"type": "WordLevel", "vocab": {"<pad>": 0, "<eos>": 1, "<unk>": 2, "▁ab": 3, "c": 4, "abc": 5}, "unk_token": "<unk>"}}
for name, spec in seeds.items():
    s = json.dumps(spec, ensure_ascii=False, separators=(",", ":"))
    try:
        t = Tokenizer.from_str(s)
        e = t.encode("Hello world! héllo <s> [MASK] 你好 123_abc")
        p = t.encode("hello", "world")
        print(name, "OK", e.tokens[:12], t.decode(e.ids)[:60])
    except BaseException as ex:
        print(name, "FAIL", ex); continue
    open(os.path.join(out, name + ".json"), "w").write(s)
