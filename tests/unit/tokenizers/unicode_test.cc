// Unicode helpers: UTF-8 coding and validation, the version-pinned predicates, lowercase,
// normalization data and grapheme breaks. The predicate answers for notable code points were
// checked against tokenizers 0.22.2 (the full tables were compared on every code point once,
// through BertNormalizer, BertPreTokenizer, Digits, Whitespace, Lowercase and StripAccents).
#include "tokenizers/unicode.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace mlhub::tok::unicode {
namespace {

std::string hex(char32_t c) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "U+%04X", static_cast<unsigned>(c));
  return buf;
}

TEST(UnicodeTest, Utf8RoundTrip) {
  for (char32_t c : {U'a', char32_t{0x7F}, char32_t{0x80}, char32_t{0x7FF}, char32_t{0x800},
                     char32_t{0xFFFF}, char32_t{0x10000}, char32_t{0x10FFFF}}) {
    std::string s = to_utf8(c);
    EXPECT_EQ(s.size(), utf8_len(c));
    EXPECT_EQ(utf8_seq_len(static_cast<unsigned char>(s[0])), s.size());
    size_t i = 0;
    EXPECT_EQ(decode_utf8(s, i), c);
    EXPECT_EQ(i, s.size());
    EXPECT_EQ(find_invalid_utf8(s), std::nullopt);
  }
  EXPECT_EQ(char_count("a\xC3\xA9\xF0\x9F\xA4\x97"), 3u);
}

TEST(UnicodeTest, FindInvalidUtf8) {
  EXPECT_EQ(find_invalid_utf8(""), std::nullopt);
  EXPECT_EQ(find_invalid_utf8("ok\xC3"), 2u);                 // truncated
  EXPECT_EQ(find_invalid_utf8("\xC0\xAF"), 0u);               // overlong
  EXPECT_EQ(find_invalid_utf8("a\xE0\x80\xAF"), 1u);          // overlong 3-byte
  EXPECT_EQ(find_invalid_utf8("\xED\xA0\x80"), 0u);           // surrogate
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);       // > U+10FFFF
  EXPECT_EQ(find_invalid_utf8("ab\x80"), 2u);                 // stray continuation
  EXPECT_EQ(find_invalid_utf8("\xE2\x82" "a"), 0u);           // bad continuation
  EXPECT_EQ(find_invalid_utf8("\xFF"), 0u);
}

TEST(UnicodeTest, Whitespace) {
  // Rust char::is_whitespace (spec 6.3).
  for (char32_t c : {0x09, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000, 0x200A, 0x2028, 0x2029, 0x202F,
                     0x205F, 0x3000}) {
    EXPECT_TRUE(is_whitespace(c)) << hex(c);
  }
  for (char32_t c : {0x08, 0x200B, 0xFEFF, 0x180E, 0x1C}) {
    EXPECT_FALSE(is_whitespace(c)) << hex(c);
  }
}

TEST(UnicodeTest, NumericAndWord) {
  // Digits(individual_digits=True) isolates these: Nd, Nl, No (and Unicode 16 digits).
  for (char32_t c : {U'7', U'²', U'½', U'Ⅻ', U'١', U'४', char32_t{0x10D40}}) {
    EXPECT_TRUE(is_numeric(c)) << hex(c);
  }
  EXPECT_FALSE(is_numeric(U'a'));
  // \w of the Rust regex crate: Alphabetic, marks, Nd, Pc, Join_Control.
  for (char32_t c :
       {U'_', U'é', char32_t{0x301}, char32_t{0x200D}, U'‿', U'一', char32_t{0x897}}) {
    EXPECT_TRUE(is_word_char(c)) << hex(c);
  }
  for (char32_t c : {U'-', U' ', U'€', U'²'}) {
    EXPECT_FALSE(is_word_char(c)) << hex(c);
  }
  EXPECT_TRUE(is_alphabetic(U'ß'));
  EXPECT_TRUE(is_alphabetic(0x345));  // Other_Alphabetic mark
  EXPECT_FALSE(is_alphabetic(U'1'));
}

TEST(UnicodeTest, BertPredicatesUseUnicode8) {
  for (char32_t c :
       {U'!', U'`', U'~', U'¡', U'。', U'‿', char32_t{0x166D}, char32_t{0x111C9}}) {
    EXPECT_TRUE(is_bert_punctuation(c)) << hex(c);
  }
  // Symbols are not punctuation; U+2E43 (Po) was assigned in 9.0, after the table's 8.0.
  for (char32_t c : {U'€', U'©', U'±', char32_t{0x2E43}, U'a'}) {
    EXPECT_FALSE(is_bert_punctuation(c)) << hex(c);
  }
  for (char32_t c : {0x00, 0x0B, 0x0C, 0x7F, 0x85, 0xAD, 0x200B, 0xFEFF, 0xE000}) {
    EXPECT_TRUE(is_bert_control(c)) << hex(c);
  }
  for (char32_t c : {0x09, 0x0A, 0x0D, 0x378, 0x20, 0xFFFD}) {
    EXPECT_FALSE(is_bert_control(c)) << hex(c);
  }
  // Mn as of 8.0: U+1734 was Mn then; U+1885 was Lo; U+0897 was unassigned.
  EXPECT_TRUE(is_mark_nonspacing_u8(0x301));
  EXPECT_TRUE(is_mark_nonspacing_u8(0x1734));
  EXPECT_FALSE(is_mark_nonspacing_u8(0x1885));
  EXPECT_FALSE(is_mark_nonspacing_u8(0x903));  // Mc
  EXPECT_FALSE(is_mark_nonspacing_u8(0x897));
}

TEST(UnicodeTest, MarksUseUnicode9) {
  EXPECT_TRUE(is_mark_u9(0x301));
  EXPECT_TRUE(is_mark_u9(0x903));    // Mc
  EXPECT_TRUE(is_mark_u9(0x20DD));   // Me
  EXPECT_TRUE(is_mark_u9(0x1CF2));   // Mc in 9.0, Lo now
  EXPECT_FALSE(is_mark_u9(0x111C9)); // Po in 9.0
  EXPECT_FALSE(is_mark_u9(0x1ABF));  // Mn, assigned in 13.0
  EXPECT_FALSE(is_mark_u9(U'a'));
}

TEST(UnicodeTest, ChineseChars) {
  EXPECT_TRUE(is_chinese_char(U'博'));
  EXPECT_TRUE(is_chinese_char(0x2B920));
  EXPECT_FALSE(is_chinese_char(0x2B820));  // Rust's table starts the range at 2B920
  EXPECT_FALSE(is_chinese_char(U'の'));
}

TEST(UnicodeTest, Lowercase) {
  char32_t out[3];
  ASSERT_EQ(to_lowercase(0x130, out), 2);  // İ -> i + U+0307
  EXPECT_EQ(out[0], U'i');
  EXPECT_EQ(out[1], char32_t{0x307});
  ASSERT_EQ(to_lowercase(U'Σ', out), 1);
  EXPECT_EQ(out[0], U'σ');  // no final-sigma context
  to_lowercase(U'ẞ', out);
  EXPECT_EQ(out[0], U'ß');
  to_lowercase(0xA7CB, out);  // Unicode 16.0 mapping used by the reference's Rust std
  EXPECT_EQ(out[0], char32_t{0x264});
  to_lowercase(U'ß', out);
  EXPECT_EQ(out[0], U'ß');
}

std::u32string decomp(char32_t c, bool compat) {
  std::u32string out;
  decompose(c, compat, out);
  return out;
}

TEST(UnicodeTest, NormalizationDataIsUnicode9) {
  EXPECT_EQ(decomp(U'é', false), (std::u32string{U'e', 0x301}));
  EXPECT_EQ(decomp(U'ﬁ', false), std::u32string{U'ﬁ'});
  EXPECT_EQ(decomp(U'ﬁ', true), (std::u32string{U'f', U'i'}));
  EXPECT_EQ(decomp(0x1E69, false), (std::u32string{U's', 0x323, 0x307}));  // recursive
  EXPECT_EQ(decomp(0xAC01, false), (std::u32string{0x1100, 0x1161, 0x11A8}));  // Hangul
  // U+A7F2 (assigned in 14.0, compat-decomposes to C) is untouched with 9.0 data.
  EXPECT_EQ(decomp(0xA7F2, true), std::u32string{0xA7F2});
  EXPECT_EQ(combining_class(0x301), 230);
  EXPECT_EQ(combining_class(0x323), 220);
  EXPECT_EQ(combining_class(U'a'), 0);
  EXPECT_EQ(combining_class(0x1ABF), 0);  // ccc 220, assigned in 13.0
  EXPECT_EQ(compose(U'e', 0x301), std::optional<char32_t>(U'é'));
  EXPECT_EQ(compose(0x1100, 0x1161), std::optional<char32_t>(0xAC00));
  EXPECT_EQ(compose(0xAC00, 0x11A8), std::optional<char32_t>(0xAC01));
  EXPECT_EQ(compose(U'a', U'b'), std::nullopt);
  EXPECT_EQ(compose(0x2ADD, 0x338), std::nullopt);  // composition exclusion
}

std::vector<std::string> graphemes(std::string_view s) {
  std::vector<std::string> out;
  for_each_grapheme(s, [&](size_t a, size_t b) { out.emplace_back(s.substr(a, b - a)); });
  return out;
}

TEST(UnicodeTest, Graphemes) {
  EXPECT_TRUE(graphemes("").empty());
  EXPECT_EQ(graphemes("e\xCC\x81x"), (std::vector<std::string>{"e\xCC\x81", "x"}));
  EXPECT_EQ(graphemes("\r\n"), (std::vector<std::string>{"\r\n"}));
  // 👨🏻‍🌾 is one cluster; two regional-indicator pairs are two flags.
  EXPECT_EQ(graphemes("👨🏻\xE2\x80\x8D🌾a").size(), 2u);
  EXPECT_EQ(graphemes("🇫🇷🇩🇪").size(), 2u);
  EXPECT_EQ(graphemes("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8").size(), 1u);  // L V T jamo
}

}  // namespace
}  // namespace mlhub::tok::unicode
