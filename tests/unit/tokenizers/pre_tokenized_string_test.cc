// PreTokenizedString: into_encoding (spec 3.4 and 9: offsets through the alignments, byte or
// char offsets, words, type ids, masks) and get_splits.
#include "tokenizers/pre_tokenized_string.h"

#include <gtest/gtest.h>

#include "pre_tokenizer_test_util.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

// One token per char of the piece, with normalized byte offsets (like a char-level model).
std::vector<Token> per_char_tokens(const NormalizedString& n) {
  std::vector<Token> out;
  const std::string& s = n.get();
  size_t i = 0;
  while (i < s.size()) {
    size_t b = i;
    unicode::decode_utf8(s, i);
    out.push_back(Token{static_cast<uint32_t>(out.size()), s.substr(b, i - b), {b, i}});
  }
  return out;
}

TEST(PreTokenizedString, ByteLevelTokensInsideOneCharReportTheWholeChar) {
  // Spec 16.1: "i⭢j" with GPT-2 -> the three byte tokens of ⭢ all have offsets (1,4) in
  // bytes; in chars that is (1,2).
  auto p = testing::make_pre_tokenizer(
      R"({"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true})");
  const std::string text = "i⭢j";
  PreTokenizedString s(text);
  p->pre_tokenize(s);
  s.tokenize(per_char_tokens);
  Encoding bytes = s.into_encoding(std::nullopt, 0, OffsetType::kByte);
  EXPECT_EQ(bytes.tokens, (std::vector<std::string>{"i", "â", "Ń", "¢", "j"}));
  EXPECT_EQ(bytes.offsets, (std::vector<Offsets>{{0, 1}, {1, 4}, {1, 4}, {1, 4}, {4, 5}}));
  EXPECT_EQ(bytes.words, (std::vector<std::optional<uint32_t>>{0, 1, 1, 1, 2}));
  Encoding chars = s.into_encoding(std::nullopt, 0, OffsetType::kChar);
  EXPECT_EQ(chars.offsets, (std::vector<Offsets>{{0, 1}, {1, 2}, {1, 2}, {1, 2}, {2, 3}}));
}

TEST(PreTokenizedString, PrefixSharesTheFirstCharRange) {
  // Spec 16.2: ByteLevel add_prefix_space -> "ĠMy" is (0,2); Metaspace "▁" alone is (0,1).
  auto bl = testing::make_pre_tokenizer(
      R"({"type":"ByteLevel","add_prefix_space":true,"trim_offsets":true})");
  PreTokenizedString s("My name");
  bl->pre_tokenize(s);
  s.tokenize([](const NormalizedString& n) {
    return std::vector<Token>{Token{1, n.get(), {0, n.len()}}};
  });
  Encoding e = s.into_encoding(std::nullopt, 0, OffsetType::kByte);
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"ĠMy", "Ġname"}));
  EXPECT_EQ(e.offsets, (std::vector<Offsets>{{0, 2}, {2, 7}}));

  auto ms = testing::make_pre_tokenizer(
      R"({"type":"Metaspace","replacement":"▁","prepend_scheme":"always","split":true})");
  PreTokenizedString m("é b");
  ms->pre_tokenize(m);
  m.tokenize(per_char_tokens);
  Encoding me = m.into_encoding(std::nullopt, 0, OffsetType::kByte);
  EXPECT_EQ(me.tokens, (std::vector<std::string>{"▁", "é", "▁", "b"}));
  EXPECT_EQ(me.offsets, (std::vector<Offsets>{{0, 2}, {0, 2}, {2, 3}, {3, 4}}));
  Encoding mc = m.into_encoding(std::nullopt, 0, OffsetType::kChar);
  EXPECT_EQ(mc.offsets, (std::vector<Offsets>{{0, 1}, {0, 1}, {1, 2}, {2, 3}}));
}

TEST(PreTokenizedString, FieldsOfTheEncoding) {
  auto p = testing::make_pre_tokenizer(R"({"type":"WhitespaceSplit"})");
  PreTokenizedString s("ab  cé");
  p->pre_tokenize(s);
  s.tokenize(per_char_tokens);
  Encoding e = s.into_encoding(std::nullopt, 1, OffsetType::kChar);
  EXPECT_EQ(e.ids, (std::vector<uint32_t>{0, 1, 0, 1}));
  EXPECT_EQ(e.tokens, (std::vector<std::string>{"a", "b", "c", "é"}));
  EXPECT_EQ(e.offsets, (std::vector<Offsets>{{0, 1}, {1, 2}, {4, 5}, {5, 6}}));
  EXPECT_EQ(e.words, (std::vector<std::optional<uint32_t>>{0, 0, 1, 1}));
  EXPECT_EQ(e.type_ids, (std::vector<uint32_t>{1, 1, 1, 1}));
  EXPECT_EQ(e.special_tokens_mask, (std::vector<uint32_t>{0, 0, 0, 0}));
  EXPECT_EQ(e.attention_mask, (std::vector<uint32_t>{1, 1, 1, 1}));
  EXPECT_TRUE(e.overflowing.empty());
  EXPECT_TRUE(e.sequence_ranges.empty());

  Encoding w = s.into_encoding(7, 0, OffsetType::kByte);
  EXPECT_EQ(w.words, (std::vector<std::optional<uint32_t>>{7, 7, 7, 7}));
  EXPECT_EQ(w.offsets, (std::vector<Offsets>{{0, 1}, {1, 2}, {4, 5}, {5, 7}}));
}

TEST(PreTokenizedString, CharOffsetQuirks) {
  const std::string text = "aé";
  PreTokenizedString s(text);
  s.tokenize([](const NormalizedString&) {
    return std::vector<Token>{
        Token{0, "end", {1, 3}},    // ends at the text end: char(end-1)+1
        Token{1, "mid", {1, 2}},    // half of é: the whole char
        Token{2, "empty", {3, 3}},  // empty range at the end: not converted (start not found)
        Token{3, "past", {2, 9}},   // outside the alignment table: raw offsets, then converted
    };
  });
  Encoding e = s.into_encoding(std::nullopt, 0, OffsetType::kChar);
  // "past": start 2 -> char 1; end 9 is past the text and so is byte 8 -> start + 2.
  EXPECT_EQ(e.offsets, (std::vector<Offsets>{{1, 2}, {1, 2}, {3, 3}, {1, 3}}));
}

TEST(PreTokenizedString, EmptyAndUntokenized) {
  PreTokenizedString s("");
  s.split([](size_t, NormalizedString) { return std::vector<NormalizedString>{}; });
  EXPECT_TRUE(s.splits().empty());
  EXPECT_TRUE(s.into_encoding(std::nullopt, 0, OffsetType::kChar).empty());

  PreTokenizedString t("abc");
  EXPECT_THROW(t.into_encoding(std::nullopt, 0, OffsetType::kByte), Error);
}

TEST(PreTokenizedString, ConstructFromNormalizedString) {
  const std::string text = "Hello";
  NormalizedString n(text);
  n.lowercase();
  PreTokenizedString s(std::move(n));
  EXPECT_EQ(s.original(), "Hello");
  auto splits = s.get_splits();
  ASSERT_EQ(splits.size(), 1u);
  EXPECT_EQ(splits[0].first, "hello");
  EXPECT_EQ(splits[0].second, (Offsets{0, 5}));
}

}  // namespace
}  // namespace mlhub::tok
