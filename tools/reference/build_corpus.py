#!/usr/bin/env python3
"""Builds tests/data/tokenizer_corpus.jsonl, the input corpus of the tokenizer parity suite.

One JSON string per line (lines may themselves contain newlines, hence JSON). The corpus is
deterministic: hand-written seed material below, plus random mixtures drawn from it with a fixed
seed. No network, no dependency outside the standard library.

    python3 tools/reference/build_corpus.py [--out tests/data/tokenizer_corpus.jsonl]

Coverage: English prose, code (Python, C++, JS, JSON, HTML, Rust, Go, SQL, shell, Makefile,
YAML, LaTeX), CJK, RTL scripts (Hebrew, Arabic, Persian, Urdu) with Arabic-Indic digits,
Devanagari and other Indic scripts, Thai, Cyrillic, Greek, Turkish İ/ı, German ß/ẞ, Vietnamese,
emoji (ZWJ families, skin tones, flags, keycaps, tag sequences), combining accents in NFC and NFD,
every whitespace kind, C0/C1 control characters, NUL, U+FFFD, very long words, long digit runs,
URLs, special-token look-alikes of every fixture tokenizer, and every string of section 17.3 of
the spec (except the 1 MiB line).
"""

import argparse
import json
import os
import random
import sys
import unicodedata

SEED = 20250117
TARGET_LINES = 2400

# ------------------------------------------------------------------------------------------------
# Spec section 17.3 (all strings but the 1 MiB line).
SPEC_17_3 = [
    "", " ", " \t\n", "\n\n", "\r\n", " \n",
    "   leading space", "trailing space   ", "Hi  Hello", "Hello there       dear",
    "How are you doing?", "You should've done this", "i'm i'M i've i'Ve i'vE i'VE I'LL",
    "A\n'll !!to?'d''d of, can't.", "def main():\n\tpass", "let a = obj.toString();\ntoString();",
    "0123456789 0 1 2 3 4 5 6 7 8 9 10 100 1000", "12 and 123 and 1234", "²½Ⅻ ١٢٣ ४२",
    "test $1 R2 #3 €4 £5 ¥6 ₣7 ₹8 ₱9 test", "I bought an apple for $1.00 at the store.",
    "Héllò", "H\u00e9llo", "He\u0301llo", "UNwant\u00e9d,running", "ﬁ ﬂ ㎏ ①", "\uFF21\u0301",
    "ậ…", "ำน\u0e49ำ3ลำ", "İstanbul ΟΔΟΣ STRASSE ß ẞ", "안녕하세요 세계",
    "野口里佳 Noguchi Rika", "ah\u535a\u63a8zz", "生活的真谛是", "\U0002B820",
    "どこで生れ。Yes", "Apples are りんご 林檎", "שלום עולם", "مرحبا_١٢٣", "नमस्ते दुनिया",
    "1\u00002\uFFFD3", "\ufeffHello", "\x01hello",
    "a\u200bb a\u00a0b a\u2028b a\u180eb a\u3000b a\u0085b",
    "i⭢j", "I saw a <mask> 😺", "🤗",
    "😂 👍 ❤️ 👁️ 👱🏻 🕵‍♂️ 👨🏻‍🌾 🧑‍🤝‍🧑 👩‍👩‍👧‍👦 🏴󠁧󠁢󠁥󠁮󠁧󠁿",
    "▁This ▁is ▁a ▁test ▁.", "weird \uFF5E edge \uFF5E case", "you…\u00a0\u00a0",
    "[CLS]hello[MASK]world[SEP]", "Yesterday I saw a [MASK] far away", "Hey </s>. how are you",
    " </s> test </s> ", "</s>test</s>", "<s>\n", "<|im_start|>user\nhi<|im_end|>\n",
    "<|endoftext|><|endoftext|>",
    "Ne için gittiğimi falan bilmiyordum, Washington'da belirtilen bir yere rapor vermem "
    "gerekiyordu.",
    "grabbed", " grabbed", "           grabbed", "\ttabs\t\t\t\tout here", "\n\t\n",
    "a" * 50000, "é" * 10000,
]

# Library test vectors quoted in spec section 16.
SPEC_16 = [
    "Hello, y'all! How are you 😁 ?", "Hi <mask> there\t<mask>\t<mask>\u2000",
    "<mask> My name <mask> A<mask> <mask>ony <mask>", "<mask>, <mask>- ◌̰<mask>",
    " \tHäLLo!how  \n Are yoU?  ", "e\u0304\u0304\u0304o", "Hey   friend!", "ax\n####\nboo",
    "my name is john", ".:.:", "\n", "I'm John", "\uFB01", "<s>Hello", "Hello</s>",
    "   <|startoftranscript|> <|en|>   ",
]

# ------------------------------------------------------------------------------------------------
PROSE = [
    "The quick brown fox jumps over the lazy dog. Pack my box with five dozen liquor jugs!",
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was the "
    "age of foolishness, it was the epoch of belief, it was the epoch of incredulity.",
    "Tokenizers split text into pieces that a model can look up in a vocabulary. Most modern "
    "ones work on sub-words: frequent words stay whole, rare ones are broken into smaller parts.",
    "\"Don't touch that!\" she shouted — but it was too late; the vase had already hit the "
    "floor… and shattered into a thousand pieces.",
    "On 3 March 2024 at 14:05 UTC, the server processed 1,234,567 requests (99.98% succeeded); "
    "the median latency was 12.5 ms and the p99 was 230 ms.",
    "Dr. Smith, Mrs. O'Brien and Mr. Müller met at St. Mary's Hospital, 221B Baker St., London "
    "NW1 6XE, U.K., around 9 a.m. on Tue., Jan. 5th.",
    "Wait—what? You're telling me the U.S.A. won't ship it to the E.U. until Q3? That's "
    "absurd!!! I can't believe it... or can I?",
    "In 1905, Einstein published four papers: on the photoelectric effect, Brownian motion, "
    "special relativity, and mass–energy equivalence (E = mc²).",
    "She sells sea-shells by the sea-shore; the shells she sells are sea-shells, I'm sure. "
    "So if she sells sea-shells on the sea-shore, then I'm sure she sells sea-shore shells.",
    "Machine learning models are only as good as the data they're trained on: garbage in, "
    "garbage out. Pre-processing, de-duplication and filtering often matter more than tuning.",
    "A man, a plan, a canal: Panama! Was it a car or a cat I saw? Never odd or even.",
    "The café's naïve façade hid a rôle of some élan; the coöperative's résumé was déjà vu.",
    "Please e-mail support@example.com or call +1 (555) 010-9999 ext. 42 between 9:00–17:00.",
    "They've been there, they'd've gone, y'all'd've known — ain't it the truth, ma'am?",
    "“Curly quotes”, ‘single ones’, «guillemets», „German low quotes“ and 「corner brackets」.",
    "Footnotes¹ and endnotes² are marked with superscripts; H₂O and CO₂ use subscripts.",
    "ALL CAPS SENTENCES ARE SOMETIMES USED FOR EMPHASIS, BUT THEY ARE HARD TO READ.",
    "lowercase only text without any punctuation at all just goes on and on and on",
    "MixedCase camelCase PascalCase snake_case kebab-case SCREAMING_SNAKE_CASE dot.case",
    "The year 2000 problem (Y2K) affected systems storing years as two digits: 99 → 00.",
    "Prices: $5, $5.00, $5.000,00, 5 $, USD 5, €5, 5€, £3.50, ¥1000, ₹2,00,000, 0.5¢.",
    "Versions 1.2.3, v2.0.0-rc.1+build.5, 10.0.19041.1415 and 3.11.7 are all different.",
    "He said, 'I'll be back,' and then he wasn't; we'd waited 'til dawn.",
    "Ellipsis... interrobang‽ en–dash em—dash minus − hyphen‐ non-breaking‑hyphen.",
]

CODE = [
    "def fib(n):\n    \"\"\"Return the n-th Fibonacci number.\"\"\"\n    a, b = 0, 1\n"
    "    for _ in range(n):\n        a, b = b, a + b\n    return a\n",
    "import os\nimport sys\n\nif __name__ == \"__main__\":\n\tsys.exit(main(sys.argv[1:]))\n",
    "class Foo(Bar):\n    def __init__(self, x: int = 0) -> None:\n        super().__init__()\n"
    "        self._x = x  # private\n\n    @property\n    def x(self):\n        return self._x\n",
    "#include <iostream>\n#include <vector>\n\nint main(int argc, char** argv) {\n"
    "  std::vector<int> v{1, 2, 3};\n  for (auto& x : v) std::cout << x << '\\n';\n"
    "  return 0;\n}\n",
    "template <typename T>\nconstexpr T clamp(T v, T lo, T hi) noexcept {\n"
    "\treturn v < lo ? lo : (hi < v ? hi : v);\n}\n",
    "const add = (a, b) => a + b;\nlet x = [1, 2, 3].map(n => n ** 2).filter(Boolean);\n"
    "console.log(`x = ${x.join(\", \")}`);\n",
    "function debounce(fn, ms) {\n  let t;\n  return (...args) => {\n    clearTimeout(t);\n"
    "    t = setTimeout(() => fn.apply(this, args), ms);\n  };\n}\n",
    "{\"name\": \"mlhub\", \"version\": \"0.1.0\", \"tags\": [\"a\", \"b\"], \"nested\": "
    "{\"x\": 1.5e-3, \"y\": null, \"z\": true}}",
    "{\n  \"added_tokens\": [\n    {\"id\": 0, \"content\": \"[PAD]\", \"special\": true}\n  ]\n}",
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\"><title>Test &amp; "
    "demo</title></head>\n<body>\n  <p class=\"x\">Hello&nbsp;world &lt;3</p>\n</body>\n</html>",
    "fn main() {\n    let v: Vec<u32> = (0..10).collect();\n    println!(\"{:?}\", v);\n"
    "    if let Some(x) = v.iter().max() { eprintln!(\"max={x}\"); }\n}\n",
    "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tch := make(chan int)\n"
    "\tgo func() { ch <- 42 }()\n\tfmt.Println(<-ch)\n}\n",
    "SELECT u.id, COUNT(*) AS n FROM users u LEFT JOIN orders o ON o.user_id = u.id\n"
    "WHERE u.created_at >= '2024-01-01' GROUP BY u.id HAVING n > 3 ORDER BY n DESC;",
    "#!/bin/bash\nset -euo pipefail\nfor f in *.txt; do\n  wc -l \"$f\" | awk '{print $1}'\n"
    "done 2>&1 | tee log.txt\n",
    "all: build\n\nbuild:\n\tcmake -S . -B build -G Ninja\n\tninja -C build\n\n.PHONY: all build\n",
    "server:\n  host: 0.0.0.0\n  port: 8080\n  tls:\n    enabled: false\nlogging:\n  - level: "
    "debug\n    format: \"%(asctime)s %(message)s\"\n",
    "\\begin{equation}\n  \\int_0^\\infty e^{-x^2}\\,dx = \\frac{\\sqrt{\\pi}}{2}\n"
    "\\end{equation}",
    "regex = r\"^(?:[a-z0-9!#$%&'*+/=?^_`{|}~-]+)@(?:[a-z0-9-]+\\.)+[a-z]{2,}$\"",
    "x+=1;y-=2;z*=3;w/=4;a%=5;b<<=1;c>>=2;d&=e|f^g;h=!i&&j||k;l=m?n:o;p->q;r::s;",
    "    \t  mixed indentation\n\t    more mixed\n  \t\t  and more\n",
    "if (a != b && c <= d || e >= f) { return a === b ? c !== d : e; } // comment /* c */",
    "# Title\n\n* item one\n* item **two**\n\n```python\nprint('hi')\n```\n\n> quote\n",
    "0x7FFFFFFF 0b1010_1010 0o755 1e10 1.5e-7 .5 5. 1_000_000 0xDEAD_BEEFu64 3.14159f",
    "SELECT * FROM t WHERE name LIKE '%o''reilly%';  -- trailing comment\r\n",
]

CJK = [
    "我爱自然语言处理。今天天气很好，我们去公园散步吧！",
    "北京是中华人民共和国的首都，也是全国的政治、文化中心。",
    "機器學習是人工智慧的一個分支，研究電腦如何從資料中學習。",
    "東京都は日本の首都です。私は毎朝コーヒーを飲みます。",
    "カタカナとひらがなと漢字が混ざった文章を書きます。ﾊﾝｶｸｶﾀｶﾅもあります。",
    "吾輩は猫である。名前はまだ無い。どこで生れたかとんと見当がつかぬ。",
    "한국어는 한글로 씁니다. 저는 학생입니다. 감사합니다!",
    "대한민국의 수도는 서울이며, 인구는 약 천만 명입니다.",
    "全角文字：ＡＢＣ１２３！？（）「」、。　全角スペースもある",
    "中文標點符號：，。！？；：「」『』（）【】《》〈〉……——",
    "𠀀𠀁𠀂 𪚥 𩸽 𠮷野家 CJK Extension B characters",
    "混合English和中文的句子，with some 日本語 and 한국어 too.",
    "ㄅㄆㄇㄈ 注音符號 and ᄀᄁᄂ Hangul Jamo and ㄱㄲㄴ compatibility jamo",
    "一二三四五六七八九十百千万亿 零 〇 壹贰叁",
    "㈱ ㍻ ㋿ ㌀ ㍿ ㎡ ㏄ CJK compatibility squares",
]

RTL = [
    "שלום, מה שלומך היום? אני בסדר, תודה רבה!",
    "בְּרֵאשִׁית בָּרָא אֱלֹהִים אֵת הַשָּׁמַיִם וְאֵת הָאָרֶץ",
    "مرحبا بك في عالم معالجة اللغات الطبيعية.",
    "العربية لغة جميلة، وأرقامها: ٠١٢٣٤٥٦٧٨٩ و ١٢٫٥ و ٣٬٠٠٠",
    "بِسْمِ اللَّهِ الرَّحْمَٰنِ الرَّحِيمِ",
    "كتــــــاب (with tatweel) والـكـتـاب",
    "فارسی: سلام دنیا، اعداد ۰۱۲۳۴۵۶۷۸۹ و گچپژ",
    "اردو: یہ ایک جملہ ہے۔ ٹھیک ہے؟",
    "Mixed RTL: the word שלום means peace, and مرحبا means hello (123).",
    "\u202Bembedded RTL\u202C \u202Aembedded LTR\u202C \u200Fmark\u200E \u2067isolate\u2069",
]

INDIC_SEA = [
    "हिन्दी भारत की राजभाषा है। मैं हिंदी बोलता हूँ।",
    "संस्कृतम् जगतः एकतमा अतिप्राचीना समृद्धा शास्त्रीया च भाषासु वर्तते।",
    "क्षत्रिय ज्ञान श्री त्र द्व्य र्‍य क़ ख़ ग़ ज़ ड़ ढ़ फ़ ॐ ०१२३४५६७८९",
    "বাংলা ভাষা একটি ইন্দো-আর্য ভাষা। ১২৩",
    "தமிழ் ஒரு திராவிட மொழி. ௧௨௩",
    "తెలుగు ఒక ద్రావిడ భాష.",
    "ภาษาไทยเป็นภาษาที่ไม่มีการเว้นวรรคระหว่างคำ ๑๒๓๔๕",
    "สวัสดีครับ ผมชื่อสมชาย ยินดีที่ได้รู้จัก",
    "ພາສາລາວ ສະບາຍດີ",
    "ភាសាខ្មែរ សួស្តី",
    "မြန်မာဘာသာ မင်္ဂလာပါ",
    "Tiếng Việt có nhiều dấu: ắ ằ ẳ ẵ ặ ấ ầ ẩ ẫ ậ đ Đ ơ ư.",
    "සිංහල භාෂාව",
    "ትግርኛ አማርኛ ሰላም ነው። ፩፪፫",
    "ᠮᠣᠩᠭᠣᠯ ᠪᠢᠴᠢᠭ\u180eᠠ Mongolian",
    "བོད་ཡིག་ Tibetan",
]

EUROPEAN = [
    "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "Україна, Київ, їжак, ґанок, Ї Є І Ґ",
    "Српски: Љубав, Њива, Џеп, Ђак, Ћерка",
    "Ελληνικά: Τάχιστη αλώπηξ βαφής ψημένη γη, δρασκελίζει υπέρ νωθρού κυνός.",
    "Πολυτονικό: ἐν ἀρχῇ ἦν ὁ λόγος, ᾠδή, ῥῆμα",
    "ΣΊΣΥΦΟΣ σίσυφος ς σ Σ",
    "Türkçe: İstanbul, ısı, IŞIK, ışık, İi Iı, Çağrı, Gümüşhane",
    "Deutsch: Straße, STRASSE, ẞ, Größe, Maß, Fußgängerübergänge, Ärger, Öl, Übel",
    "Français : « Ça va ? » — Où est l'hôtel ? Noël, cœur, Œuvre, façade",
    "Español: ¿Dónde está la biblioteca? ¡Olé! Niño, año, pingüino.",
    "Português: São Paulo, ação, coração, pão, avô, avó",
    "Polski: Zażółć gęślą jaźń. Łódź, Świętokrzyskie.",
    "Čeština: Příliš žluťoučký kůň úpěl ďábelské ódy.",
    "Íslenska: Þjóðin, æðarfugl, ö, ð, þ, Æ",
    "Dansk/Norsk: Æbleø, blåbær, Ålesund",
    "Română: ș ț ş ţ Ș Ț — Știință",
    "Magyar: Árvíztűrő tükörfúrógép",
    "Հայերեն: Բարեւ աշխարհ",
    "ქართული: გამარჯობა მსოფლიო",
    "Ⓐⓑⓒ ⒜⒝ 🄰🄱 𝐀𝐁𝐂 𝔄𝔅ℭ 𝕬𝕭 𝒜ℬ 𝓐𝓑 𝖠𝖡 𝙰𝙱 math alphanumerics",
    "Ⅰ Ⅱ Ⅲ Ⅳ Ⅻ ⅰ ⅱ ⅲ ½ ⅓ ¼ ⅛ ¹²³ ⁰⁴⁵ ₀₁₂ ① ⑳ ㉑ ㊿",
    "∀x∈ℝ: x² ≥ 0 ∧ ∃y (y ≠ x) ⇒ ∑ᵢ aᵢ ≤ ∏ⱼ bⱼ ∞ ∂ ∇ √ ∫ ≈ ≡ ⊂ ⊆ ∪ ∩",
    "ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ ligatures, Ｆｕｌｌｗｉｄｔｈ, ｈａｌｆ　ｗｉｄｔｈ",
    "Ꙗ ꙗ Ꜳ ꜳ ꟲ ꟳ ꟴ Ɬ ɬ ʃ ʒ ŋ ɐ ə IPA and late additions",
]

EMOJI = [
    "👨‍👩‍👧‍👦 👨‍👨‍👧 👩‍❤️‍💋‍👨 🧑‍🧑‍🧒 family ZWJ sequences",
    "👍🏻 👍🏼 👍🏽 👍🏾 👍🏿 skin tones 🧑🏽‍💻 👩🏿‍🚀",
    "🇺🇸 🇬🇧 🇯🇵 🇩🇪 🇫🇷 🇮🇳 🇧🇷 🇺🇦 flags 🏳️‍🌈 🏳️‍⚧️ 🏴‍☠️",
    "1️⃣ 2️⃣ #️⃣ *️⃣ 0️⃣ keycaps 🔟",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿 🏴󠁧󠁢󠁷󠁬󠁳󠁿 tag sequences",
    "❤ ❤️ ♥ ☺ ☺️ ✌ ✌️ text vs emoji presentation (VS15\uFE0E VS16\uFE0F)",
    "😀😃😄😁😆😅😂🤣🥲🥹☺️😊😇🙂🙃😉😌😍🥰😘",
    "🫠 🫡 🫢 🫣 🫤 🫥 🫦 🫧 🪻 🪼 newer emoji",
    "I love 🍕 and 🍣! 🎉🎉🎉 Let's go 🚀🚀",
    "🤗 Hugging Face 🤗 Transformers 🤗",
    "👩‍🔬👨‍🍳👷‍♀️🧙‍♂️🧜‍♀️🦸🏾‍♂️🤷🏻‍♀️🙋‍♂️",
    "🐈‍⬛ 🐻‍❄️ 🐦‍🔥 🍋‍🟩 ❤️‍🔥 ❤️‍🩹 😶‍🌫️ 😮‍💨",
]

COMBINING = [
    "e\u0301 \u00e9 E\u0301 \u00c9 a\u0308 \u00e4 o\u0302 \u00f4 n\u0303 \u00f1 c\u0327 \u00e7",
    "A\u030a \u00c5 \u212b (Angstrom sign) K \u212a (Kelvin sign) \u2126 \u03a9",
    "Zalgo: Z\u0351\u036b\u0343\u036a\u0302\u036b\u033d\u034f\u0334\u0319\u0324\u031e\u0349"
    "\u035a\u032f\u031e\u0320\u034da\u0300\u0300\u0301\u0357\u035f\u031bl\u0337\u0331g"
    "\u0358o\u0356",
    "q\u0307\u0323 q\u0323\u0307 s\u0323\u0307 \u1e69 \u1e61\u0323 (canonical reordering)",
    "\u0041\u030b\u0323 \u1ea0\u0306 \u1eb6 \u0103\u0323",
    "\u1100\u1161\u11a8 \u1100\u1161 \uac01 \uac00 Hangul jamo (NFD) vs syllables (NFC)",
    "\u0915\u093c \u0958 \u0928\u093c \u0929 Devanagari nukta composition",
    "\u05e9\u05c1 \u05e9\u05c2 \u05e9\u05bc\u05c1 Hebrew points",
    "\u0627\u0653 \u0622 \u0648\u0654 \u0624 Arabic hamza/madda",
    "\u0301leading combining mark, \u0300\u0301\u0302 only marks",
    "\u00c5ngstr\u00f6m vs A\u030angstro\u0308m",
    "cafe\u0301 cafe\u0301\u0301 cafe\u0301\u0327 caf\u00e9",
    "\u0069\u0307 \u0130 \u0049\u0307 dotted i combos",
    "\u1e9b\u0323 \u1e9b \u017f\u0323\u0307 long s with dots",
    "\u0f71\u0f72 \u0f73 \u0f77 \u0f79 Tibetan composite vowels",
    "\U0001d15e \U0001d157\U0001d165 musical symbols (composition exclusions)",
]

WHITESPACE = [
    "\u00a0", "\u1680", "\u2000", "\u2001", "\u2002", "\u2003", "\u2004", "\u2005", "\u2006",
    "\u2007", "\u2008", "\u2009", "\u200a", "\u2028", "\u2029", "\u202f", "\u205f", "\u3000",
    "\u180e", "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u0085", "\t", "\r", "\n",
    "\v", "\f", "\x1c", "\x1d", "\x1e", "\x1f", " ",
]

CONTROLS = [chr(c) for c in list(range(0x00, 0x20)) + [0x7F] + list(range(0x80, 0xA0))]

OTHER_ODD = [
    "\ufffd", "\ufffe\uffff", "\U0010FFFF", "\U000E0001", "\ue000 private use \uf8ff",
    "\U000F0000", "\u00ad soft\u00adhyphen", "\u034f cgj", "\u061c alm", "\u2061\u2062\u2063",
    "\ufff9\ufffa\ufffb interlinear", "\u0600\u0601 arabic number sign", "\U0001F3FB alone",
    "\u20e3 alone keycap", "\ufe0f alone vs16", "\u200d alone zwj",
]

URLS = [
    "https://huggingface.co/docs/tokenizers/index?highlight=encode#encoding",
    "http://example.com:8080/path/to/file.html?a=1&b=2;c=3#frag",
    "ftp://user:p%40ss@ftp.example.org/pub/file.tar.gz",
    "https://ja.wikipedia.org/wiki/日本語 and https://ru.wikipedia.org/wiki/Русский_язык",
    "mailto:someone@example.com?subject=Hello%20World",
    "www.example.co.uk/some-page_name~user/+plus",
    "file:///C:/Program%20Files/App/app.exe and C:\\Users\\me\\Desktop\\notes.txt",
    "git@github.com:huggingface/tokenizers.git and ssh://git@host:22/repo",
    "data:text/plain;base64,SGVsbG8sIFdvcmxkIQ==",
    "https://xn--n3h.com/ and https://☃.net/",
    "@user #hashtag #CamelCaseTag $TICKER r/subreddit u/someone",
    "192.168.0.1 ::1 fe80::1ff:fe23:4567:890a%eth0 2001:db8::/32",
]

NUMBERS = [
    "3.14159265358979323846264338327950288419716939937510",
    "1,000,000 1.000.000 1 000 000 1'000'000 10^6 1e6",
    "-42 +42 ±42 −42 4.2e-10 0.000001 1/3 2⁄3",
    "phone: 555-0199, 555.0199, (555) 0199, +44 20 7946 0958",
    "2024-01-31T23:59:59.999Z 31/01/2024 01.31.24 23h59",
    "١٢٣٤٥٦٧٨٩٠ ۱۲۳۴۵۶۷۸۹۰ १२३४५६७८९० ১২৩ ๑๒๓ ０１２３ 𝟎𝟏𝟐𝟑",
    "123abc456def789 a1b2c3d4 4ever 2day 24/7 7-Eleven",
    "ISBN 978-3-16-148410-0, UUID 123e4567-e89b-12d3-a456-426614174000",
    "IPv4 10.0.0.255, MAC 00:1A:2B:3C:4D:5E, hex #FF00AA, rgb(255, 0, 170)",
]

# Special-token look-alikes of every fixture in ../shared/data/tokenizers.
SPECIAL_TOKENS = [
    "[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]",
    "<s>", "</s>", "<unk>", "<pad>", "<mask>", "<eos>", "<bos>",
    "<|endoftext|>", "<|startoftext|>", "<|im_start|>", "<|im_end|>", "<|fim_prefix|>",
    "<|fim_middle|>", "<|fim_suffix|>", "<tool_call>", "</tool_call>", "<|file_sep|>",
    "<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>",
    "<|eot_id|>", "<|reserved_special_token_0|>", "<|reserved_special_token_250|>",
    "<extra_id_0>", "<extra_id_1>", "<extra_id_99>", "<extra_id_100>",
    "<|startoftranscript|>", "<|notimestamps|>", "<|en|>", "<|transcribe|>", "<|translate|>",
    "<|0.00|>", "<|1.50|>", "<|30.00|>", "<|30.02|>",
    "<start_of_turn>", "<end_of_turn>",
    "<|user|>", "<|assistant|>", "<|system|>", "<|end|>", "<|placeholder1|>",
    ">>TITLE<<", ">>ABSTRACT<<", ">>QUESTION<<", ">>ANSWER<<",
    "(phrasefix)", "(#phrasefix)", "(#0)", "(#9)", "__BT__", "<BT>", "(#SPLIT)", "<[>", "<=>",
    "<]>",
]

PARTIAL_SPECIALS = [
    "<|endof", "endoftext|>", "<|endoftext", "<|endoftext|", "[MAS K]", "[MASK", "MASK]",
    "[mask]", "[Mask]", "< s >", "<s", "s>", "</ s>", "<\\s>", "<|im_start", "|im_start|>",
    "<||>", "<|>", "<>", "[]", "<extra_id_>", "<extra_id_-1>", "<extra_id_0", "<|begin_of_text",
    "<|startoftranscript", "<start_of_turn", "<MASK>", "<Mask>", "[CLS ]", "[ CLS]", ">>TITLE<",
    ">TITLE<<", "(phrasefix", "(#10)", "<|0.01|>", "<|31.00|>", "<|EN|>", "<|EndOfText|>",
]

WORDS = (
    "the of and to in is you that it he was for on are as with his they at be this have from "
    "or one had by word but not what all were we when your can said there use an each which "
    "she do how their if will up other about out many then them these so some her would make "
    "like him into time has look two more write go see number no way could people my than "
    "first water been call who oil its now find long down day did get come made may part "
    "tokenization unbelievable internationalization antidisestablishmentarianism "
    "pneumonoultramicroscopicsilicovolcanoconiosis supercalifragilisticexpialidocious "
    "don't won't it's I'm we've they're you'll he'd o'clock rock'n'roll"
).split()


# ------------------------------------------------------------------------------------------------
def sentences(paragraph):
    """Naive sentence split on '. ', '! ', '? ' (keeps the punctuation)."""
    out, cur = [], ""
    for i, ch in enumerate(paragraph):
        cur += ch
        if ch in ".!?" and i + 1 < len(paragraph) and paragraph[i + 1] == " ":
            out.append(cur.strip())
            cur = ""
    if cur.strip():
        out.append(cur.strip())
    return out


def special_token_lines():
    """Every special token alone, spaced, glued to text, repeated, with newlines."""
    lines = []
    for i, tok in enumerate(SPECIAL_TOKENS):
        other = SPECIAL_TOKENS[(i * 7 + 3) % len(SPECIAL_TOKENS)]
        lines += [
            tok,
            f" {tok} ",
            f"Hello{tok}world",
            f"Hello {tok} world",
            f"{tok}{tok}",
            f"{tok}{other}text{tok}",
            f"{tok}\nline two\n{tok}\n",
            f"  {tok}  {tok}\t{tok}\u2000",
            f"a{tok}b {tok.upper()} {tok.lower()}",
            f"{tok}é{tok}日本{tok}🙂",
        ]
    for tok in PARTIAL_SPECIALS:
        lines += [tok, f"text {tok} text", f"{tok}{tok}"]
    lines += [
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
        "What is 2+2?<|im_end|>\n<|im_start|>assistant\n",
        "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHello!<|eot_id|>"
        "<|start_header_id|>assistant<|end_header_id|>\n\n",
        "<start_of_turn>user\nWrite a poem<end_of_turn>\n<start_of_turn>model\n",
        "<|user|>\nHi there<|end|>\n<|assistant|>\nHello! How can I help?<|end|>\n",
        "<s>[INST] <<SYS>>\nBe nice.\n<</SYS>>\n\nHi [/INST] Hello </s><s>[INST] Bye [/INST]",
        "<|startoftranscript|><|en|><|transcribe|><|0.00|> Hello world.<|1.50|><|endoftext|>",
        "The <extra_id_0> walks in <extra_id_1> park </s>",
        "[CLS] the man went to [MASK] store [SEP] he bought a gallon [MASK] milk [SEP]",
        "<s> Hello world </s></s> Second segment </s>",
        ">>QUESTION<<What is the capital of France?>>ANSWER<<Paris",
        "(phrasefix)(#0) text (#1)(#SPLIT)__BT__<BT><[>x<=>y<]>",
        "<mask>,<mask>.<mask>!<mask><mask> <mask>  <mask>\t<mask>\n<mask>",
        "<|fim_prefix|>def f(x):\n    <|fim_suffix|>\n    return y<|fim_middle|>",
    ]
    return lines


def whitespace_lines():
    lines = []
    for ws in WHITESPACE:
        lines += [f"word{ws}word", f"{ws}lead", f"trail{ws}", ws * 3, f"a {ws} b{ws}{ws}c"]
    lines.append("".join(WHITESPACE))
    lines.append("x".join(WHITESPACE))
    lines.append(" ".join(WHITESPACE) + " end")
    lines += [" " * n + "x" for n in (1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 33, 64)]
    lines += ["x" + " " * n + "y" for n in (2, 5, 17, 31, 40)]
    lines += ["\t" * n + "x" for n in (1, 2, 3, 9, 10, 20)]
    lines += ["\n" * n for n in (1, 2, 3, 5)]
    lines += ["a\r\nb\r\n\r\nc\rd", "  \n  \n  ", "\t \t \t", "\u3000\u3000全角\u3000",
              "end with spaces and newline \n", "\u00a0\u00a0nbsp\u00a0lead", " ", "  ", "\t"]
    return lines


def control_lines():
    lines = []
    for c in CONTROLS:
        lines.append(f"a{c}b")
    lines.append("".join(CONTROLS))
    lines.append("ctl:" + " ".join(CONTROLS) + ":end")
    lines += ["\x00", "\x00\x00\x00", "null\x00byte", "\x00lead", "trail\x00", "\x7fdel",
              "bell\x07 backspace\x08 esc\x1b[31mred\x1b[0m", "\x9b31m csi", "\x85nel"]
    for o in OTHER_ODD:
        lines += [o, f"x{o}y {o} z"]
    return lines


def combining_lines():
    lines = list(COMBINING)
    for s in list(PROSE[11:13]) + ["Héllò wörld", "Ǆemal ǅ ǆ", "Ὀδυσσεύς", "Việt Nam"]:
        for form in ("NFC", "NFD", "NFKC", "NFKD"):
            lines.append(unicodedata.normalize(form, s))
    return lines


def long_lines():
    return [
        "x" * 3000,
        "antidisestablishmentarianism" * 100,
        "ab" * 1500 + " " + "ba" * 1500,
        "é" * 150,
        "é" * 101,
        "a" * 100,
        "a" * 101,
        "a" * 99 + " b",
        "1234567890" * 200,
        "0" * 1000,
        "9" * 257,
        "日本語" * 600,
        "😀" * 400,
        "👨‍👩‍👧‍👦" * 100,
        "-" * 2000,
        "=" * 80 + "\n" + "#" * 80,
        ".:" * 300,
        "ab cd " * 400,
        "A" * 500 + "a" * 500,
        "Lorem-ipsum-dolor-sit-amet-" * 60,
        "ḁ" * 700,
        "ก" * 800,
        "ש" * 500 + "ا" * 500,
        "\u0301" * 300,
        "a\u0301" * 300,
        " " * 1200 + "x",
        "\n" * 500,
        "\t" * 400,
        "𝐀" * 300,
        "http://" + "a" * 1000 + ".com",
    ]


def pool_fragments():
    """Small fragments used by the random mixtures."""
    frags = []
    for p in PROSE:
        frags += sentences(p)
    frags += WORDS
    for group in (CJK, RTL, INDIC_SEA, EUROPEAN, EMOJI, COMBINING, URLS, NUMBERS):
        for s in group:
            frags += s.split(" ")
    frags += [c.split("\n")[0] for c in CODE]
    frags += SPECIAL_TOKENS + PARTIAL_SPECIALS
    frags += ["😀", "👍🏽", "🇯🇵", "👩‍👩‍👧‍👦", "1️⃣", "é", "e\u0301", "ß", "İ", "ı", "ﬁ", "①"]
    frags += [str(n) for n in (0, 7, 42, 123, 1000, 65535, 1234567, 3141592653589793)]
    return [f for f in frags if f]


SEPARATORS = [" "] * 12 + ["", "\n", "\t", "  ", "\u00a0", "\u3000", "\u2009", "\r\n", " \n ",
                            "\u200b", "\u2028", "\u0085", "\x00", "\x0b", ", ", ". ", "\u202f"]


def mixtures(rng, frags, count):
    lines = []
    for _ in range(count):
        n = rng.choice([1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 40])
        parts = []
        for i in range(n):
            parts.append(rng.choice(frags))
            if i + 1 < n:
                parts.append(rng.choice(SEPARATORS))
        s = "".join(parts)
        r = rng.random()
        if r < 0.05:
            s = " " + s
        elif r < 0.10:
            s = s + " "
        elif r < 0.13:
            s = s.upper()
        elif r < 0.16:
            s = s.lower()
        elif r < 0.19:
            s = unicodedata.normalize("NFD", s)
        lines.append(s)
    return lines


def random_char_lines(rng, count):
    """Random code points from interesting ranges (assigned or not, never surrogates)."""
    ranges = [(0x20, 0x7E), (0x00, 0x1F), (0x80, 0x24F), (0x300, 0x36F), (0x370, 0x3FF),
              (0x400, 0x4FF), (0x590, 0x6FF), (0x900, 0x97F), (0xE00, 0xE7F), (0x1100, 0x11FF),
              (0x2000, 0x206F), (0x20A0, 0x214F), (0x2190, 0x22FF), (0x3000, 0x30FF),
              (0x4E00, 0x9FFF), (0xAC00, 0xD7A3), (0xF900, 0xFAFF), (0xFB00, 0xFDFF),
              (0xFE00, 0xFFFD), (0x1F300, 0x1FAFF), (0x1D400, 0x1D7FF), (0x20000, 0x2A6DF),
              (0xE0000, 0xE007F)]
    lines = []
    for _ in range(count):
        n = rng.randint(1, 40)
        chars = []
        for _ in range(n):
            lo, hi = rng.choice(ranges)
            chars.append(chr(rng.randint(lo, hi)))
        lines.append("".join(chars))
    return lines


def dedupe(lines):
    seen, out = set(), []
    for s in lines:
        if s not in seen:
            seen.add(s)
            out.append(s)
    return out


def build():
    rng = random.Random(SEED)
    lines = []
    lines += SPEC_17_3
    lines += SPEC_16
    for p in PROSE:
        lines.append(p)
        lines += sentences(p)
    lines.append("\n\n".join(PROSE[:6]))
    lines += CODE
    for c in CODE:
        lines += [ln for ln in c.split("\n") if ln.strip()]
    for group in (CJK, RTL, INDIC_SEA, EUROPEAN, EMOJI, URLS, NUMBERS):
        lines += group
    lines.append(" ".join(CJK))
    lines.append("\n".join(RTL))
    lines += combining_lines()
    lines += whitespace_lines()
    lines += control_lines()
    lines += special_token_lines()
    lines += long_lines()
    lines += [" ".join(WORDS[i:i + 9]) for i in range(0, len(WORDS), 9)]
    lines += random_char_lines(rng, 200)
    lines = dedupe(lines)
    frags = pool_fragments()
    while len(lines) < TARGET_LINES:
        lines = dedupe(lines + mixtures(rng, frags, TARGET_LINES - len(lines)))
    for s in lines:
        assert isinstance(s, str)
        s.encode("utf-8")  # no lone surrogates
    return lines


def escape_json_text(text):
    """Escapes, in JSON text, every char that some line reader could take for a line break or
    that is invisible (controls, format chars, separators, unassigned). Such chars can only occur
    inside JSON strings, so the result is equivalent JSON."""
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in ("Cc", "Cf", "Zl", "Zp", "Co", "Cn") or (cat == "Zs" and ch != " "):
            cp = ord(ch)
            if cp > 0xFFFF:
                cp -= 0x10000
                out.append("\\u%04x\\u%04x" % (0xD800 + (cp >> 10), 0xDC00 + (cp & 0x3FF)))
            else:
                out.append("\\u%04x" % cp)
        else:
            out.append(ch)
    return "".join(out)


def dump_line(s):
    """One corpus line: a JSON string literal without raw line breaks or invisible chars."""
    return escape_json_text(json.dumps(s, ensure_ascii=False))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.dirname(os.path.dirname(here))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(repo, "tests", "data", "tokenizer_corpus.jsonl"))
    args = ap.parse_args()
    lines = build()
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w", encoding="utf-8", newline="\n") as f:
        for s in lines:
            enc = dump_line(s)
            assert json.loads(enc) == s
            f.write(enc + "\n")
    print(f"{args.out}: {len(lines)} lines", file=sys.stderr)


if __name__ == "__main__":
    main()
