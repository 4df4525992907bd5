// WordPiece model tests (spec 8.2, 16 item 20). Expected values come from the Python
// reference, tokenizers 0.22.2: Tokenizer.from_str({"version":"1.0","model":M}).model
// .tokenize(p) (or Tokenizer.from_file(F).model.tokenize(p) for real files), printed as
// "id:value(start,end)".
#include <chrono>

#include "models_test_util.h"

namespace mlhub::tok {
namespace {

using testing::expect_cases;
using testing::fixture_model;
using testing::load_error;
using testing::load_error_mentions;
using testing::model_from_string;
using testing::run;

// v = {"[UNK]":0,"un":1,"##aff":2,"##able":3,"a":4,"##b":5,"é":6,"##é":7,"##":8,"##a":9,
//      "aff":10,"##ff":11}
std::string wp_json(std::string_view unk) {
  return std::string(R"({"type":"WordPiece","unk_token":")") + std::string(unk) +
         R"(","continuing_subword_prefix":"##","max_input_chars_per_word":5,)"
         R"("vocab":{"[UNK]":0,"un":1,"##aff":2,"##able":3,"a":4,"##b":5,"é":6,"##é":7,"##":8,)"
         R"("##a":9,"aff":10,"##ff":11}})";
}

TEST(ModelsWordPiece, GreedyLongestMatch) {
  // M = {"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##",
  //      "max_input_chars_per_word":5,"vocab":v}
  auto m = model_from_string(wp_json("[UNK]"));
  expect_cases(*m, {
      {"unaff", "1:un(0,2) 2:##aff(2,5)"},
      {"unaffable", "0:[UNK](0,9)"},  // 9 chars > 5
      {"aéé", "4:a(0,1) 7:##é(1,3) 7:##é(3,5)"},
      {"aaaaa", "4:a(0,1) 9:##a(1,2) 9:##a(2,3) 9:##a(3,4) 9:##a(4,5)"},
      {"aaaaaa", "0:[UNK](0,6)"},
      {"ab", "4:a(0,1) 5:##b(1,2)"},
      {"abx", "0:[UNK](0,3)"},  // one unmatchable char: the whole word is unk
      {"x", "0:[UNK](0,1)"},
      {"", ""},
      {"é", "6:é(0,2)"},
      {"aff", "10:aff(0,3)"},
      {"##", "8:##(0,2)"},
      {"a##", "0:[UNK](0,3)"},
  });
}

TEST(ModelsWordPiece, UnkMissingFromVocabIsAnEncodeError) {
  // M["unk_token"] = "<missing>": only words that need the unk token fail.
  auto m = model_from_string(wp_json("<missing>"));
  expect_cases(*m, {
      {"aa", "4:a(0,1) 9:##a(1,2)"},
      {"ax", "ERROR"},
      {"aaaaaaa", "ERROR"},
  });
}

TEST(ModelsWordPiece, MaxInputCharsCountsChars) {
  // 5 chars of 2 bytes each are still 5 chars.
  auto m = model_from_string(wp_json("[UNK]"));
  EXPECT_EQ(run(*m, "ééééé"), "6:é(0,2) 7:##é(2,4) 7:##é(4,6) 7:##é(6,8) 7:##é(8,10)");
  EXPECT_EQ(run(*m, "éééééé"), "0:[UNK](0,12)");
}

TEST(ModelsWordPiece, BertBaseUncased) {
  // F = bert-base-uncased/tokenizer.json (no "type" in its model: inferred as WordPiece);
  // pieces from tok.pre_tokenizer.pre_tokenize_str(tok.normalizer.normalize_str(text)).
  const Model& m = fixture_model("bert-base-uncased");
  expect_cases(m, {
      {"unwanted", "18162:unwanted(0,8)"},
      {",", "1010:,(0,1)"},
      {"running", "2770:running(0,7)"},
      {"'", "1005:'(0,1)"},
      {"😁", "100:[UNK](0,4)"},
      {"supercalifragilisticexpialidocious",
       "3565:super(0,5) 9289:##cal(5,8) 10128:##if(8,10) 29181:##rag(10,13) 24411:##ilis(13,17) "
       "4588:##tic(17,20) 10288:##ex(20,22) 19312:##pia(22,25) 21273:##lid(25,28) "
       "10085:##oc(28,30) 6313:##ious(30,34)"},
      {"野", "1963:野(0,3)"},
      {"佳", "100:[UNK](0,3)"},
      {"ａｂｃ", "100:[UNK](0,9)"},
      {"xy", "1060:x(0,1) 2100:##y(1,2)"},
  });
  EXPECT_EQ(m.vocab_size(), 30522u);
  EXPECT_EQ(m.token_to_id("[CLS]"), 101u);
  EXPECT_EQ(m.id_to_token(2100), std::optional<std::string_view>("##y"));
  // "a" x 100 -> aaa + 48 x ##aa + ##a; 101 chars -> one [UNK].
  std::vector<Token> t = m.tokenize(std::string(100, 'a'));
  ASSERT_EQ(t.size(), 50u);
  EXPECT_EQ(t[0].id, 13360u);
  EXPECT_EQ(t[1].value, "##aa");
  EXPECT_EQ(t[49].value, "##a");
  EXPECT_EQ(t[49].offsets, Offsets(99, 100));
  EXPECT_EQ(run(m, std::string(101, 'a')), "100:[UNK](0,101)");
}

TEST(ModelsWordPiece, HugeWordIsFast) {
  // Spec 16 item 20: "a" x 50000 must be one [UNK] without quadratic work.
  const Model& m = fixture_model("bert-base-uncased");
  auto start = std::chrono::steady_clock::now();
  std::string word(50000, 'a');
  for (int i = 0; i < 100; ++i) ASSERT_EQ(run(m, word), "100:[UNK](0,50000)");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(ModelsWordPiece, LoadErrorsAndShapeInference) {
  // Python: missing field `continuing_subword_prefix`; invalid value: integer `-1`, expected
  // usize.
  EXPECT_EQ(load_error(R"({"type":"WordPiece","vocab":{},"unk_token":"[UNK]"})"),
            "$.model: missing required field \"continuing_subword_prefix\"");
  EXPECT_TRUE(load_error_mentions(
      R"({"type":"WordPiece","vocab":{},"unk_token":"[UNK]",)"
      R"("continuing_subword_prefix":"##","max_input_chars_per_word":-1})",
      "$.model.max_input_chars_per_word"));
  // Without "type", a file that fails as BPE (merge "a c": c not in vocab) but has the four
  // WordPiece fields loads as WordPiece, as in Python.
  auto m = model_from_string(
      R"({"vocab":{"a":0,"b":1,"ab":2},"merges":["a c"],"unk_token":"a",)"
      R"("continuing_subword_prefix":"##","max_input_chars_per_word":100})");
  EXPECT_EQ(run(*m, "ab"), "2:ab(0,2)");
  EXPECT_EQ(run(*m, "b"), "1:b(0,1)");
  EXPECT_EQ(run(*m, "ba"), "0:a(0,2)");  // no "##a": the whole word is unk ("a")
}

TEST(ModelsWordPiece, LongPrefixAndSparseIds) {
  // A prefix longer than every vocabulary entry can never match a continuation.
  auto m = model_from_string(
      R"({"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"########",)"
      R"("max_input_chars_per_word":100,"vocab":{"[UNK]":4294967295,"ab":7}})");
  EXPECT_EQ(run(*m, "ab"), "7:ab(0,2)");
  EXPECT_EQ(run(*m, "abab"), "4294967295:[UNK](0,4)");
  EXPECT_EQ(m->id_to_token(4294967295u), std::optional<std::string_view>("[UNK]"));
  EXPECT_EQ(m->id_to_token(8), std::nullopt);
}

}  // namespace
}  // namespace mlhub::tok
