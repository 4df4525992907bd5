#!/usr/bin/env python3
"""Generates the tokenizer benchmark texts from the committed seeds in this folder.

No downloads: the texts are built from seed_en.txt (English prose), seed_code.txt (code blocks
separated by "=====" lines) and seed_multilingual.txt, with a fixed-seed splitmix64 generator
(not Python's `random`, so the output is the same on every Python version).

  en_code.txt       ~1.5 MB: English paragraphs (one per line) from a word-level Markov chain
                    over the seed, with a long tail of derived words, names and numbers (so BPE
                    word caches see a realistic share of new words), mixed ~25% by bytes with
                    code blocks whose identifiers and numbers are renamed.
  multilingual.txt  ~0.5 MB: lines in 15 languages + emoji (Latin, Cyrillic, Greek, Arabic,
                    Hebrew, Devanagari, Hangul, CJK, Thai).

Usage: make_bench_text.py OUT_DIR  (prints the files with their sizes and sha256)
"""
import hashlib
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
MASK64 = (1 << 64) - 1


class Rng:
    """splitmix64: tiny, fast and fully specified."""

    def __init__(self, seed):
        self.state = seed & MASK64

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK64
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def below(self, n):
        return self.next() % n

    def chance(self, p):
        return self.next() < p * 2.0**64

    def pick(self, seq):
        return seq[self.below(len(seq))]


ROOTS = ("act aud bene bio cept chron cred dict duc fact fer form graph ject jud lect loc log "
         "man mem mit mob mort nov path ped pend phon port pos quer rupt scrib sect sent sign "
         "spec struct tact tend terr therm tract vers vid voc volv cycl dem gen geo hydr lum "
         "magn micro mon morph nat neur opt photo plan poly psych scop tele temp ten vac vent "
         "vit viv zo card cogn cor corp duct flect flu frag grad grat junct leg liber lingu "
         "mand mar migr min mod mut not numer oper pac par pat pel plic pon prim quest reg "
         "sci sequ serv sol son stat tain tort trib turb urb vad val ven ver vert vinc").split()
PREFIXES = ("un re in dis pre post over under inter trans sub super anti auto co counter de "
            "mis non semi multi micro hyper extra").split()
SUFFIXES = ("ation able ible ment ness ity ize ise ism ist ive ous al ial ic ical er or ed ing "
            "ly less ful ward ure ance ence ant ent ory ary ify ate").split()
SYLLABLES = ("ka lo mi ra ten bor el sa vin dor ath ric an ber go le ma nu ost pi qua ren sil "
             "tor ul ve win xa yel zan ko").split()


def derived_word(rng):
    word = rng.pick(ROOTS)
    if rng.chance(0.45):
        word = rng.pick(PREFIXES) + word
    for _ in range(1 + rng.below(2)):
        word += rng.pick(SUFFIXES)
    return word


def name(rng):
    parts = [rng.pick(SYLLABLES) for _ in range(2 + rng.below(2))]
    return "".join(parts).capitalize()


def number(rng):
    kind = rng.below(6)
    if kind == 0:
        return str(1700 + rng.below(330))  # a year
    if kind == 1:
        return "$%d.%02d" % (rng.below(5000), rng.below(100))
    if kind == 2:
        return "%d.%d%%" % (rng.below(100), rng.below(10))
    if kind == 3:
        return "{:,}".format(rng.below(10_000_000))
    if kind == 4:
        return "%d:%02d" % (rng.below(24), rng.below(60))
    return str(rng.below(1000))


def markov_chain(words):
    chain = {}
    for a, b in zip(words, words[1:]):
        chain.setdefault(a, []).append(b)
    return chain


def ends_sentence(word):
    return word.endswith((".", "?", "!", '."', '?"', '!"'))


class Prose:
    def __init__(self, text, derived_words=True):
        self.derived_words = derived_words  # English tail words; off for other languages
        paragraphs = [p.split() for p in text.splitlines() if p.strip()]
        words = [w for p in paragraphs for w in p]
        self.chain = markov_chain(words)
        self.starts = [p[0] for p in paragraphs]
        self.starts += [b for a, b in zip(words, words[1:]) if ends_sentence(a)]

    def sentence(self, rng):
        word = rng.pick(self.starts)
        out = [word]
        while not ends_sentence(word) or len(out) < 4:
            nexts = self.chain.get(word)
            if not nexts or len(out) > 40:
                out[-1] = out[-1].rstrip(",;:") + "."
                break
            word = rng.pick(nexts)
            out.append(self.decorate(rng, word) if self.derived_words else word)
        return " ".join(out)

    @staticmethod
    def decorate(rng, word):
        if word.isalpha() and word.islower():
            r = rng.next() / 2.0**64
            if r < 0.06:
                return derived_word(rng)
            if r < 0.075:
                return name(rng)
            if r < 0.09:
                return number(rng)
        return word

    def paragraph(self, rng):
        return " ".join(self.sentence(rng) for _ in range(2 + rng.below(7)))


KEYWORDS = set(("and as assert async await break case catch class const continue def default "
                "del do elif else enum except explicit false False fn for from function if impl "
                "import in include int let match mut namespace new None not null or private "
                "public pub raise return self Self size_t static std string struct switch "
                "template this throw true True try typename u32 use void while with yield "
                "SELECT FROM WHERE AND AS ON BY GROUP ORDER LIMIT JOIN LEFT HAVING COUNT SUM "
                "DESC echo set for done in then fi exit").split())
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
INT = re.compile(r"\b\d+\b")


def identifier(rng, like):
    parts = [rng.pick(SYLLABLES) + rng.pick(SYLLABLES) for _ in range(1 + rng.below(3))]
    if "_" in like or like.islower():
        return "_".join(parts)
    if like[:1].isupper():
        return "".join(p.capitalize() for p in parts)
    return parts[0] + "".join(p.capitalize() for p in parts[1:])


def code_block(rng, blocks):
    block = rng.pick(blocks)
    renames = {}
    for ident in dict.fromkeys(IDENT.findall(block)):
        if ident not in KEYWORDS and len(ident) > 2 and rng.chance(0.35):
            renames[ident] = identifier(rng, ident)
    block = IDENT.sub(lambda m: renames.get(m.group(0), m.group(0)), block)
    return INT.sub(lambda m: str(rng.below(10 ** len(m.group(0)) + 1)), block)


def english_and_code(rng, target_bytes):
    prose = Prose(open(os.path.join(HERE, "seed_en.txt"), encoding="utf-8").read())
    code = open(os.path.join(HERE, "seed_code.txt"), encoding="utf-8").read()
    blocks = [b.strip("\n") for b in code.split("=====\n") if b.strip()]
    lines, total, code_bytes = [], 0, 0
    while total < target_bytes:
        if code_bytes < 0.25 * total:
            text = code_block(rng, blocks)
            code_bytes += len(text.encode("utf-8"))
        else:
            text = prose.paragraph(rng)
        lines.append(text)
        total += len(text.encode("utf-8")) + 1
    return "\n".join(lines) + "\n"


def multilingual(rng, target_bytes):
    languages = []  # (code, spaced, sentences)
    for line in open(os.path.join(HERE, "seed_multilingual.txt"), encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("## "):
            _, code, kind = line.split()
            languages.append((code, kind == "spaced", []))
        elif line and not line.startswith("#"):
            languages[-1][2].append(line)
    chains = {code: Prose("\n".join(s), derived_words=False)
              for code, spaced, s in languages if spaced}
    lines, total = [], 0
    while total < target_bytes:
        code, spaced, sentences = rng.pick(languages)
        count = 1 + rng.below(5)
        if spaced:
            text = " ".join(chains[code].sentence(rng) for _ in range(count))
        else:
            text = "".join(rng.pick(sentences) for _ in range(count))
        lines.append(text)
        total += len(text.encode("utf-8")) + 1
    return "\n".join(lines) + "\n"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    outputs = {
        "en_code.txt": english_and_code(Rng(20240607), 1_500_000),
        "multilingual.txt": multilingual(Rng(7), 500_000),
    }
    for file_name, text in outputs.items():
        data = text.encode("utf-8")
        with open(os.path.join(out_dir, file_name), "wb") as f:
            f.write(data)
        print("%s %d bytes sha256 %s" % (file_name, len(data), hashlib.sha256(data).hexdigest()))


if __name__ == "__main__":
    main()
