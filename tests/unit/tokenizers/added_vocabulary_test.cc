// Added-token extraction (spec section 4), with the vectors of the Rust library's own tests
// (tokenizer/added_vocabulary.rs) and tokenizer-level id assignment (spec 2.3).
#include <gtest/gtest.h>

#include "mlhub/tokenizers.h"
#include "tokenizers/added_vocabulary.h"
#include "tokenizers/components.h"

namespace mlhub::tok {
namespace {

// (piece text, token id or -1) of each piece after extraction.
std::vector<std::pair<std::string, int>> pieces(const PreTokenizedString& p) {
  std::vector<std::pair<std::string, int>> out;
  for (const Split& s : p.splits()) {
    out.emplace_back(s.normalized.get(), s.tokens ? static_cast<int>((*s.tokens)[0].id) : -1);
  }
  return out;
}

std::unique_ptr<Model> word_level(const Json& vocab) {
  Json j = {{"type", "WordLevel"}, {"vocab", vocab}, {"unk_token", "<unk>"}};
  return model_from_json(JsonRef(j, "$.model"));
}

std::unique_ptr<Normalizer> lowercase() {
  Json j = {{"type", "Lowercase"}};
  return normalizer_from_json(JsonRef(j, "$.normalizer"));
}

AddedToken tok(std::string content, bool special, bool lstrip = false, bool rstrip = false,
               bool single_word = false) {
  AddedToken t;
  t.content = std::move(content);
  t.special = special;
  t.normalized = !special;
  t.lstrip = lstrip;
  t.rstrip = rstrip;
  t.single_word = single_word;
  return t;
}

TEST(TokenMatcher, LeftmostLongestNonOverlapping) {
  TokenMatcher m;
  m.build({"danc", "nci", "ing", "\n", "\n\n"});
  auto got = m.find_all("I like dancing\n\n\n");
  ASSERT_EQ(got.size(), 4u);
  EXPECT_EQ(got[0].pattern, 0u);  // danc, not nci
  EXPECT_EQ(got[1].pattern, 2u);  // ing
  EXPECT_EQ(got[2].pattern, 4u);  // \n\n is longer than \n
  EXPECT_EQ(got[3].pattern, 3u);
  EXPECT_EQ(got[3].start, 16u);
}

TEST(AddedVocabulary, AssignsIdsLikeRust) {
  // Rust test can_add_special_tokens: model {test:0, tost:1}.
  auto model = word_level({{"test", 0}, {"tost", 1}});
  AddedVocabulary v;
  EXPECT_EQ(v.add_tokens({tok("added_token_1", true)}, *model, nullptr), 1u);
  EXPECT_EQ(v.add_tokens({tok("added_token_2", true), tok("added_token_2", true)}, *model, nullptr), 1u);
  EXPECT_EQ(v.add_tokens({tok("test", true)}, *model, nullptr), 1u);
  EXPECT_EQ(v.token_to_id("test"), 0u);
  EXPECT_EQ(v.token_to_id("added_token_1"), 2u);
  EXPECT_EQ(v.token_to_id("added_token_2"), 3u);
  EXPECT_TRUE(v.is_special("test"));
  v.add_tokens({tok("tost", true), tok("another_two", false)}, *model, nullptr);
  EXPECT_EQ(v.token_to_id("another_two"), 4u);
  EXPECT_EQ(v.size(), 5u);
}

TEST(AddedVocabulary, ExtractsWithOptions) {
  // Rust test options_use_cases.
  auto model = word_level(Json::object());
  auto norm = lowercase();
  AddedVocabulary v;
  v.add_tokens({tok("my", false, true, true), tok("name", false), tok("ony", false, false, false, true)},
               *model, norm.get());
  v.add_tokens({tok("[CLS]", true), tok("[SEP]", true)}, *model, norm.get());
  auto p = v.extract_and_normalize(norm.get(), "[CLS] My name is Anthony [SEP]", false);
  std::vector<std::pair<std::string, int>> want = {
      {"[CLS]", 3}, {" my ", 0}, {"name", 1}, {" is anthony ", -1}, {"[SEP]", 4}};
  EXPECT_EQ(pieces(p), want);
}

TEST(AddedVocabulary, SingleWord) {
  auto model = word_level(Json::object());
  auto norm = lowercase();
  AddedVocabulary v;
  v.add_tokens({tok("<mask>", false, false, false, true)}, *model, norm.get());
  auto p = v.extract_and_normalize(norm.get(), "<mask> My name <mask> A<mask> <mask>ony <mask>", false);
  std::vector<std::pair<std::string, int>> want = {
      {"<mask>", 0}, {" my name ", -1}, {"<mask>", 0}, {" a<mask> <mask>ony ", -1}, {"<mask>", 0}};
  EXPECT_EQ(pieces(p), want);
  // A combining mark before the token is a word character.
  auto q = v.extract_and_normalize(norm.get(), "<mask>, <mask>- \u25CC\u0330<mask>", false);
  std::vector<std::pair<std::string, int>> want2 = {
      {"<mask>", 0}, {", ", -1}, {"<mask>", 0}, {"- \u25CC\u0330<mask>", -1}};
  EXPECT_EQ(pieces(q), want2);
}

TEST(AddedVocabulary, StripsUnicodeSpaceWithoutOverlap) {
  auto model = word_level(Json::object());
  auto norm = lowercase();
  AddedVocabulary v;
  v.add_tokens({tok("<mask>", false, true, true, true)}, *model, norm.get());
  auto p = v.extract_and_normalize(norm.get(), "Hi <mask> there\t<mask>\t<mask>\u2000", false);
  std::vector<std::pair<std::string, int>> want = {
      {"hi", -1}, {" <mask> ", 0}, {"there", -1}, {"\t<mask>\t", 0}, {"<mask>\u2000", 0}};
  EXPECT_EQ(pieces(p), want);
}

TEST(AddedVocabulary, EncodeSpecialTokensSkipsOnlySpecial) {
  auto model = word_level(Json::object());
  AddedVocabulary v;
  v.add_tokens({tok("[CLS]", true), tok("CL", false)}, *model, nullptr);
  auto p = v.extract_and_normalize(nullptr, "a[CLS]b", true);
  std::vector<std::pair<std::string, int>> want = {{"a[", -1}, {"CL", 1}, {"S]b", -1}};
  EXPECT_EQ(pieces(p), want);
  auto q = v.extract_and_normalize(nullptr, "a[CLS]b", false);
  std::vector<std::pair<std::string, int>> want2 = {{"a", -1}, {"[CLS]", 0}, {"b", -1}};
  EXPECT_EQ(pieces(q), want2);
}

TEST(AddedVocabulary, EmptyInputGivesNoPieces) {
  auto model = word_level(Json::object());
  AddedVocabulary v;
  v.add_tokens({tok("[CLS]", true)}, *model, nullptr);
  EXPECT_TRUE(v.extract_and_normalize(nullptr, "", false).splits().empty());
}

}  // namespace
}  // namespace mlhub::tok
