// The hand-written GPT-2 / cl100k / Qwen2 / o200k matchers (regex_fast.cc) against Oniguruma
// itself. Wrapping a pattern in (?:...) keeps its meaning but disables the fast path, so each test
// runs both engines on the same text and requires identical matches.
#include "tokenizers/regex_fast.h"

#include <gtest/gtest.h>

#include <random>

#include "tokenizers/json.h"
#include "tokenizers/regex.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

struct Engines {
  std::string name;
  Regex fast;
  Regex onig;
  explicit Engines(std::string n, std::string_view pattern)
      : name(std::move(n)), fast(pattern), onig("(?:" + std::string(pattern) + ")") {}
};

std::vector<std::unique_ptr<Engines>> all_engines() {
  std::vector<std::unique_ptr<Engines>> v;
  v.push_back(std::make_unique<Engines>("gpt2", kGpt2Pattern));
  v.push_back(std::make_unique<Engines>("cl100k", kCl100kPattern));
  v.push_back(std::make_unique<Engines>("qwen2", kQwen2Pattern));
  v.push_back(std::make_unique<Engines>("o200k", kO200kPattern));
  return v;
}

TEST(RegexFast, RecognizesExactPatternsOnly) {
  EXPECT_EQ(fast_matcher_for(kGpt2Pattern), FastMatcher::kGpt2);
  EXPECT_EQ(fast_matcher_for(kCl100kPattern), FastMatcher::kCl100k);
  EXPECT_EQ(fast_matcher_for(kQwen2Pattern), FastMatcher::kQwen2);
  EXPECT_EQ(fast_matcher_for(kO200kPattern), FastMatcher::kO200k);
  std::string literal(kQwen2Pattern);
  for (size_t i; (i = literal.find(R"(\r\n)")) != std::string::npos;) literal.replace(i, 4, "\r\n");
  EXPECT_EQ(fast_matcher_for(literal), FastMatcher::kQwen2);
  EXPECT_EQ(fast_matcher_for("(?:" + std::string(kGpt2Pattern) + ")"), FastMatcher::kNone);
  EXPECT_EQ(fast_matcher_for(std::string(kGpt2Pattern) + "|x"), FastMatcher::kNone);
}

TEST(RegexFast, HandPickedStrings) {
  const char* inputs[] = {
      "",
      " ",
      "  ",
      "a",
      "Hello there       dear",
      "Hello world\n\n  \n x",
      " \n\n",
      "\r\n",
      "i'm i'M i've i'Ve i'vE i'VE I'LL 'ſ 'Ş",
      "A\n'll !!to?'d''d of, can't.",
      "'",
      "''",
      "'s",
      " 123 12345 1234567",
      "\t\tx \t y  \u00a0z\u3000\u3000w",
      "e\u0301 \u0301x",
      "a\u2028\u2029b",
      "\u0085\u180e\u200b\ufeff",
      "😀 😀😀  ½Ⅻ², ١٢٣٤ 𝟙𝟚𝟛𝟜",
      "𝐀𝐁 𐍈",
      "end with space ",
      "tail\n",
      "x\r\n\r\n",
      "  \r  \n  ",
      "?\n\n!",
      " ?!\r\n",
      "\"quoted\"",
      "don't",
      "$1,000.00",
      "HELLO's World'S CamelCase iPhone ǅemal ʰʰa 中文's ΣΑΣ ς",
      "a/b//\n/ ://x",
      "\u0301A\u0301b ' \u0301's",
  };
  for (const auto& e : all_engines()) {
    for (const char* s : inputs) {
      EXPECT_EQ(e->fast.find_all(s), e->onig.find_all(s)) << e->name << " on " << Json(s).dump();
    }
  }
}

TEST(RegexFast, EveryCodePointInContext) {
  // Every code point in contexts that exercise each class table (\s, \p{L}, \p{N} through
  // GPT-2; o200k's upper/lower classes through o200k), and every 13th one in more contexts for
  // all four matchers.
  auto engines = all_engines();
  const Engines& gpt2 = *engines[0];
  const Engines& o200k = *engines[3];
  std::string gpt2_chunk, o200k_chunk, chunk;
  auto flush = [&](bool all) {
    ASSERT_EQ(gpt2.fast.find_all(gpt2_chunk), gpt2.onig.find_all(gpt2_chunk));
    ASSERT_EQ(o200k.fast.find_all(o200k_chunk), o200k.onig.find_all(o200k_chunk));
    gpt2_chunk.clear();
    o200k_chunk.clear();
    if (!all) return;
    for (const auto& e : engines) {
      ASSERT_EQ(e->fast.find_all(chunk), e->onig.find_all(chunk)) << e->name;
    }
    chunk.clear();
  };
  for (char32_t c = 0; c < 0x110000; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    std::string u = unicode::to_utf8(c);
    gpt2_chunk += " " + u + u + "'";
    o200k_chunk += "A" + u + "a" + u + "'";
    if (c % 13 == 0) chunk += u + " " + u + "'" + u + "a" + u + u + "\n" + u + "1" + u + "\t";
    if (gpt2_chunk.size() > 1 << 16) flush(chunk.size() > 1 << 14);
  }
  flush(true);
}

TEST(RegexFast, RandomMixedStrings) {
  const std::vector<std::string> pieces = {
      "a",      "b",      "Z",      "é",      "ß",      "ſ",      "K",      "İ",     "ı",
      "中",     "文",     "ひ",     "カ",     "ー",     "한",     "ก",      "ำ",     "न",
      "्",       "م",      "ש",      "Ω",      "ж",      "𝐀",      "𐍈",      "0",     "1",
      "9",      "١",      "४",      "²",      "½",      "Ⅻ",      "𝟙",      "!",     "?",
      ".",      ",",      "'",      "\"",     "-",      "$",      "€",      "😀",    "👍🏻",
      "\u200d", "\u0301", "\u0308", "'s",     "'S",     "'t",     "'T",     "'re",   "'RE",
      "'Ve",    "'m",     "'M",     "'ll",    "'lL",    "'d",     "'D",     "'ſ",    " ",
      " ",      " ",      "  ",     "\t",     "\n",     "\r",     "\r\n",   "\n\n",  "\u00a0",
      "\u3000", "\u2028", "\u0085", "\u180e", "\u200b", "\ufeff", "\u2003", "\x0b",  "\x0c",
      "\x1c",   "\x7f",   "\u0378", "ǅ",      "ʰ",      "Σ",      "ς",      "Hello", "WORLD",
      "/",      "ॐ",      "ـ",      "々",
  };
  auto engines = all_engines();
  std::mt19937 rng(42);
  for (int iter = 0; iter < 20000; ++iter) {
    std::string s;
    int n = std::uniform_int_distribution<int>(0, 24)(rng);
    for (int k = 0; k < n; ++k) s += pieces[rng() % pieces.size()];
    for (const auto& e : engines) {
      ASSERT_EQ(e->fast.find_all(s), e->onig.find_all(s)) << e->name << " on " << Json(s).dump();
    }
  }
}

}  // namespace
}  // namespace mlhub::tok
