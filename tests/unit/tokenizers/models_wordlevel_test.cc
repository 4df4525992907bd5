// WordLevel model tests (spec 8.3). Expected values come from the Python reference,
// tokenizers 0.22.2: Tokenizer.from_str({"version":"1.0","model":M}).model.tokenize(p),
// printed as "id:value(start,end)".
#include "models_test_util.h"

namespace mlhub::tok {
namespace {

using testing::expect_cases;
using testing::load_error;
using testing::load_error_mentions;
using testing::model_from_string;
using testing::run;

TEST(ModelsWordLevel, WholePieceOrUnk) {
  // M = {"type":"WordLevel","unk_token":"<unk>",
  //      "vocab":{"<unk>":0,"hello":1,"world":2,"héllo":3,"":4}}
  auto m = model_from_string(
      R"({"type":"WordLevel","unk_token":"<unk>",)"
      R"("vocab":{"<unk>":0,"hello":1,"world":2,"héllo":3,"":4}})");
  expect_cases(*m, {
      {"hello", "1:hello(0,5)"},
      {"héllo", "3:héllo(0,6)"},
      {"nope", "0:<unk>(0,4)"},
      {"😀", "0:<unk>(0,4)"},
      {"", "4:(0,0)"},
  });
  EXPECT_EQ(m->token_to_id("world"), 2u);
  EXPECT_EQ(m->token_to_id("World"), std::nullopt);
  EXPECT_EQ(m->id_to_token(3), std::optional<std::string_view>("héllo"));
  EXPECT_EQ(m->id_to_token(5), std::nullopt);
  EXPECT_EQ(m->vocab_size(), 5u);
}

TEST(ModelsWordLevel, UnkMissingFromVocabIsAnEncodeError) {
  // M = {"type":"WordLevel","unk_token":"[UNK]","vocab":{"a":0}}: "b" raises in Python.
  auto m = model_from_string(R"({"type":"WordLevel","unk_token":"[UNK]","vocab":{"a":0}})");
  EXPECT_EQ(run(*m, "a"), "0:a(0,1)");
  EXPECT_EQ(run(*m, "b"), "ERROR");
}

TEST(ModelsWordLevel, WithoutTypeLoadsByShape) {
  // {"vocab":{"a":0},"unk_token":"<unk>"} has no merges and lacks WordPiece's fields.
  auto m = model_from_string(R"({"vocab":{"a":0},"unk_token":"<unk>"})");
  EXPECT_EQ(run(*m, "a"), "0:a(0,1)");
  EXPECT_EQ(run(*m, "b"), "ERROR");
}

TEST(ModelsWordLevel, LoadErrors) {
  // Python: missing field `unk_token`; invalid value: integer `-1`, expected u32.
  EXPECT_EQ(load_error(R"({"type":"WordLevel","vocab":{"a":0}})"),
            "$.model: missing required field \"unk_token\"");
  EXPECT_EQ(load_error(R"({"type":"WordLevel","unk_token":"x"})"),
            "$.model: missing required field \"vocab\"");
  EXPECT_TRUE(load_error_mentions(
      R"({"type":"WordLevel","unk_token":"x","vocab":{"a":-1}})",
      "$.model.vocab.a"));
  EXPECT_TRUE(load_error_mentions(
      R"({"type":"WordLevel","unk_token":null,"vocab":{}})",
      "$.model.unk_token"));
  EXPECT_EQ(load_error(R"({"type":"Foo","vocab":{}})"),
            "$.model.type: unknown model type \"Foo\" (expected BPE, WordPiece, WordLevel or "
            "Unigram)");
  EXPECT_TRUE(load_error_mentions(R"({"vocab":{"a":0}})", "matches no model"));
  EXPECT_NE(load_error(R"([1,2])"), "");
}

TEST(ModelsWordLevel, SparseAndHugeIds) {
  auto m = model_from_string(
      R"({"type":"WordLevel","unk_token":"<unk>",)"
      R"("vocab":{"<unk>":4000000000,"a":3,"b":4294967295}})");
  EXPECT_EQ(run(*m, "zz"), "4000000000:<unk>(0,2)");
  EXPECT_EQ(run(*m, "b"), "4294967295:b(0,1)");
  EXPECT_EQ(m->id_to_token(4294967295u), std::optional<std::string_view>("b"));
  EXPECT_EQ(m->id_to_token(3), std::optional<std::string_view>("a"));
  EXPECT_EQ(m->id_to_token(0), std::nullopt);
  EXPECT_EQ(m->id_to_token(3999999999u), std::nullopt);
}

}  // namespace
}  // namespace mlhub::tok
