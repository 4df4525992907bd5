"""Small tokenizer.json files derived from real ones, for the tiny pipeline models.

Both functions keep the original's normalizer, pre-tokenizer, post-processor and decoder, keep
only the vocabulary the given texts need (plus the base alphabet), renumber ids compactly in the
original order, and check that the result tokenizes every text exactly as the original
(tokens and offsets). Used by pipeline_goldens.py.
"""

import json

import tokenizers


def _check(original, path, texts):
    small = tokenizers.Tokenizer.from_file(path)
    for text in texts:
        a, b = original.encode(text), small.encode(text)
        if a.tokens != b.tokens or a.offsets != b.offsets:
            raise RuntimeError(f"derived tokenizer {path} differs on {text!r}")


def _renumber(doc, ordered):
    vocab = {tok: i for i, tok in enumerate(ordered)}
    doc["model"]["vocab"] = vocab
    for added in doc["added_tokens"]:
        added["id"] = vocab[added["content"]]
    return vocab


def derive_wordpiece(original_path, out_path, texts, specials, target):
    """WordPiece: the specials first, then the single characters (and ## forms) of ASCII and of
    the texts, every token of the texts, and the most frequent whole words (bert-base-uncased
    lists them from id 1996 in frequency order) up to `target` entries. Greedy longest match
    over a subset that contains every token the original chose gives the same tokens."""
    with open(original_path) as f:
        doc = json.load(f)
    vocab = doc["model"]["vocab"]
    original = tokenizers.Tokenizer.from_file(original_path)
    keep = set(specials)
    chars = set(chr(c) for c in range(32, 127))
    for text in texts:
        enc = original.encode(text, add_special_tokens=False)
        if "[UNK]" in enc.tokens:
            raise RuntimeError(f"{text!r} has [UNK] in the original tokenizer")
        keep.update(enc.tokens)
        chars.update(original.normalizer.normalize_str(text))
    for tok in vocab:
        bare = tok[2:] if tok.startswith("##") else tok
        if len(bare) == 1 and bare in chars:
            keep.add(tok)
    by_id = sorted(vocab.items(), key=lambda kv: kv[1])
    for tok, idx in by_id:
        if len(keep) >= target:
            break
        if idx >= 1996 and not tok.startswith("##") and tok.isalpha():
            keep.add(tok)
    ordered = list(specials) + [t for t, _ in by_id if t in keep and t not in specials]
    new_vocab = _renumber(doc, ordered)
    for special in doc["post_processor"]["special_tokens"].values():
        special["ids"] = [new_vocab[t] for t in special["tokens"]]
    with open(out_path, "w") as f:
        json.dump(doc, f, ensure_ascii=False)
    _check(original, out_path, texts)
    return len(new_vocab)


def _bpe_symbols(word, ranks):
    """Every symbol that byte-pair merging creates for `word` (lowest rank first, leftmost on
    ties), including the intermediate ones."""
    parts = list(word)
    seen = set(parts)
    while len(parts) > 1:
        best, at = None, -1
        for i in range(len(parts) - 1):
            rank = ranks.get((parts[i], parts[i + 1]))
            if rank is not None and (best is None or rank < best):
                best, at = rank, i
        if best is None:
            break
        pair = (parts[at], parts[at + 1])
        merged, i = [], 0
        while i < len(parts):
            if i + 1 < len(parts) and (parts[i], parts[i + 1]) == pair:
                merged.append(parts[i] + parts[i + 1])
                i += 2
            else:
                merged.append(parts[i])
                i += 1
        parts = merged
        seen.update(parts)
    return seen


def derive_byte_level_bpe(original_path, out_path, texts, head, tail):
    """Byte-level BPE (roberta-base): the `head` specials first, the 256 byte symbols, every
    symbol the merges create on the texts' words, the merges among kept symbols (original
    order), then the `tail` specials (roberta keeps <mask> last)."""
    with open(original_path) as f:
        doc = json.load(f)
    vocab = doc["model"]["vocab"]
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
              for m in doc["model"]["merges"]]
    ranks = {pair: i for i, pair in enumerate(merges)}
    original = tokenizers.Tokenizer.from_file(original_path)
    alphabet = tokenizers.pre_tokenizers.ByteLevel.alphabet()
    keep = set(head) | set(tail) | set(alphabet)
    for text in texts:
        for word, _ in original.pre_tokenizer.pre_tokenize_str(text):
            keep.update(_bpe_symbols(word, ranks))
    missing = [t for t in keep if t not in vocab]
    if missing:
        raise RuntimeError(f"symbols not in the original vocabulary: {missing[:5]}")
    by_id = sorted(vocab.items(), key=lambda kv: kv[1])
    middle = [t for t, _ in by_id if t in keep and t not in head and t not in tail]
    new_vocab = _renumber(doc, list(head) + middle + list(tail))
    kept_merges = [m for m in merges if m[0] in keep and m[1] in keep and m[0] + m[1] in keep]
    doc["model"]["merges"] = [" ".join(m) for m in kept_merges]
    proc = doc["post_processor"]
    proc["sep"] = [proc["sep"][0], new_vocab[proc["sep"][0]]]
    proc["cls"] = [proc["cls"][0], new_vocab[proc["cls"][0]]]
    with open(out_path, "w") as f:
        json.dump(doc, f, ensure_ascii=False)
    _check(original, out_path, texts)
    return len(new_vocab)
