// Unigram model tests (spec 8.4, 16 item 22). Expected values come from the Python reference,
// tokenizers 0.22.2: Tokenizer.from_str({"version":"1.0","model":M}).model.tokenize(p) (or
// Tokenizer.from_file(F).model.tokenize(p) for real files), printed as "id:value(start,end)".
#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <set>

#include "models_test_util.h"

namespace mlhub::tok {
namespace {

using testing::expect_cases;
using testing::fixture_model;
using testing::load_error;
using testing::load_error_mentions;
using testing::model_from_string;
using testing::run;

// v = [["<unk>",0.0],["a",-1.0],["b",-1.0],["ab",-2.0],["c",-3.0],["abc",-4.0],["bc",-1.5],
//      ["<0xF0>",-5],["<0x9F>",-5],["<0xA4>",-5],["<0x97>",-5]]
std::string ug_json(bool byte_fallback) {
  return std::string(R"({"type":"Unigram","unk_id":0,"byte_fallback":)") +
         (byte_fallback ? "true" : "false") +
         R"(,"vocab":[["<unk>",0.0],["a",-1.0],["b",-1.0],["ab",-2.0],["c",-3.0],["abc",-4.0],)"
         R"(["bc",-1.5],["<0xF0>",-5],["<0x9F>",-5],["<0xA4>",-5],["<0x97>",-5]]})";
}

TEST(ModelsUnigram, ViterbiTiesAndUnkFusing) {
  // M = {"type":"Unigram","unk_id":0,"vocab":v,"byte_fallback":False}
  auto m = model_from_string(ug_json(false));
  expect_cases(*m, {
      {"ab", "3:ab(0,2)"},  // tie a+b == ab (-2): the longer final piece stays
      {"abc", "1:a(0,1) 6:bc(1,3)"},
      {"abx", "3:ab(0,2) 0:x(2,3)"},
      {"xxab", "0:xx(0,2) 3:ab(2,4)"},  // unk pieces fuse; the token string is the text
      {"xyz", "0:xyz(0,3)"},
      {"a🤗b", "1:a(0,1) 0:🤗(1,5) 2:b(5,6)"},
      {"🤗", "0:🤗(0,4)"},
      {"<unk>", "0:<unk>(0,5)"},
      {"x<unk>y", "0:x<unk>y(0,7)"},  // the "<unk>" piece has the unk id, so it fuses too
      {"", ""},
      {"é", "0:é(0,2)"},
  });
}

TEST(ModelsUnigram, ByteFallback) {
  // M["byte_fallback"] = True: every byte token carries the offsets of the whole piece; when
  // a byte has no token ("x"), the piece stays one unk.
  auto m = model_from_string(ug_json(true));
  expect_cases(*m, {
      {"🤗", "7:<0xF0>(0,4) 8:<0x9F>(0,4) 9:<0xA4>(0,4) 10:<0x97>(0,4)"},
      {"a🤗b", "1:a(0,1) 7:<0xF0>(1,5) 8:<0x9F>(1,5) 9:<0xA4>(1,5) 10:<0x97>(1,5) 2:b(5,6)"},
      {"x🤗", "0:x🤗(0,5)"},
      {"é", "0:é(0,2)"},
  });
}

TEST(ModelsUnigram, MissingUnkIdFailsOnlyOnUnknownText) {
  // M = {"type":"Unigram","vocab":[["a",-1.0],["b",-1.0],["ab",-1.0]]}
  auto m = model_from_string(R"({"type":"Unigram","vocab":[["a",-1.0],["b",-1.0],["ab",-1.0]]})");
  expect_cases(*m, {{"ab", "2:ab(0,2)"}, {"abx", "ERROR"}, {"x", "ERROR"}});
}

TEST(ModelsUnigram, DuplicatedPieces) {
  // M = {"type":"Unigram","unk_id":0,"vocab":[["<unk>",0.0],["ab",-0.5],["a",-1.0],["b",-1.0],
  //      ["ab",-5.0]]}: token_to_id keeps the last index, whose score (-5) is used.
  auto m = model_from_string(
      R"({"type":"Unigram","unk_id":0,)"
      R"("vocab":[["<unk>",0.0],["ab",-0.5],["a",-1.0],["b",-1.0],["ab",-5.0]]})");
  expect_cases(*m, {{"ab", "2:a(0,1) 3:b(1,2)"}, {"aab", "2:a(0,1) 2:a(1,2) 3:b(2,3)"}});
  EXPECT_EQ(m->token_to_id("ab"), 4u);
  EXPECT_EQ(m->id_to_token(1), std::optional<std::string_view>("ab"));
  EXPECT_EQ(m->id_to_token(4), std::optional<std::string_view>("ab"));
  EXPECT_EQ(m->id_to_token(5), std::nullopt);
  EXPECT_EQ(m->vocab_size(), 5u);
}

TEST(ModelsUnigram, T5Small) {
  // F = t5-small/tokenizer.json (no "type" in its model: inferred as Unigram); pieces from
  // tok.pre_tokenizer.pre_tokenize_str(tok.normalizer.normalize_str(text)).
  const Model& m = fixture_model("t5-small");
  expect_cases(m, {
      {"▁Hello", "8774:▁Hello(0,8)"},
      {"▁world!", "296:▁world(0,8) 55:!(8,9)"},
      {"▁doing?", "692:▁doing(0,8) 58:?(8,9)"},
      {"▁i⭢j", "3:▁(0,3) 23:i(3,4) 2:⭢(4,7) 354:j(7,8)"},
      {"▁🤗", "3:▁(0,3) 2:🤗(3,7)"},
      {"▁naïve", "3:▁(0,3) 29:n(3,4) 9:a(4,5) 2:ï(5,7) 162:ve(7,9)"},
      {"▁café", "11949:▁café(0,8)"},
      {"▁野口里佳", "3:▁(0,3) 2:野口里佳(3,15)"},
      {"▁Noguchi", "465:▁No(0,5) 1744:gu(5,7) 1436:chi(7,10)"},
      {"▁1234567,", "3:▁(0,3) 14574:123(3,6) 2128:45(6,8) 3708:67(8,10) 6:,(10,11)"},
      {"▁<unk>", "3:▁(0,3) 2:<unk>(3,8)"},
      {"▁</s>", "3:▁(0,3) 1:</s>(3,7)"},
      // Equal-score permutations of "-" and "---": Rust's serde_json reads the scores
      // -12.130167007446289 and -5.129043102264404 slightly off the nearest double, which
      // decides this tie; reading them exactly would give ▁ - --- --- --- ---.
      {"▁-------------", "3:▁(0,3) 14817:---(3,6) 14817:---(6,9) 18:-(9,10) 14817:---(10,13) "
                         "14817:---(13,16)"},
      {"▁supercalifragilisticexpialidocious",
       "1355:▁super(0,8) 15534:cali(8,12) 20791:frag(12,16) 173:il(16,18) 3040:istic(18,23) "
       "994:ex(23,25) 102:p(25,26) 23:i(26,27) 4288:ali(27,30) 7171:doc(30,33) 2936:ious(33,37)"},
  });
  EXPECT_EQ(m.vocab_size(), 32100u);
}

TEST(ModelsUnigram, MarianNmt) {
  const Model& m = fixture_model("marian-nmt");
  expect_cases(m, {
      {"▁Uhello", "278:▁(0,3) 352:U(3,4) 13919:hello(4,9)"},
      {"▁doingP?", "278:▁(0,3) 23750:doing(3,8) 1:P(8,9) 5044:?(9,10)"},
      {"▁i⭢j", "278:▁(0,3) 599:i(3,4) 1:⭢(4,7) 2003:j(7,8)"},
      {"▁naïve", "278:▁(0,3) 2051:na(3,5) 31842:ï(5,7) 2770:ve(7,9)"},
      {"▁野口里佳", "278:▁(0,3) 3577:野(3,6) 1080:口(6,9) 517:里(9,12) 3515:佳(12,15)"},
  });
}

TEST(ModelsUnigram, LoadErrors) {
  // Python: EmptyVocabulary / UnkIdNotInVocabulary / invalid length 3 / invalid type: null,
  // expected a boolean.
  EXPECT_EQ(load_error(R"({"type":"Unigram","vocab":[],"unk_id":0})"),
            "$.model.unk_id: the vocabulary is empty but at least <unk> is needed");
  EXPECT_EQ(load_error(R"({"type":"Unigram","vocab":[["a",0.0]],"unk_id":1})"),
            "$.model.unk_id: unk_id 1 is not smaller than the vocabulary size 1");
  EXPECT_EQ(load_error(R"({"type":"Unigram","vocab":[["a",0.0,1]]})"),
            "$.model.vocab[0]: expected [piece, score]");
  EXPECT_EQ(load_error(R"({"type":"Unigram","vocab":[["a",0.0],["b","x"]]})"),
            "$.model.vocab[1]: expected [piece, score]");
  EXPECT_TRUE(load_error_mentions(
      R"({"type":"Unigram","vocab":[["a",0.0]],"byte_fallback":null})",
      "$.model.byte_fallback"));
  EXPECT_TRUE(load_error_mentions(
      R"({"type":"Unigram","vocab":[["a",0.0]],"unk_id":-1})",
      "$.model.unk_id"));
  EXPECT_EQ(load_error(R"({"type":"Unigram","unk_id":null,"vocab":[]})"), "");
  auto empty = model_from_string(R"({"type":"Unigram","vocab":[]})");
  EXPECT_EQ(run(*empty, ""), "");
  EXPECT_EQ(run(*empty, "a"), "ERROR");
}

// The slow reference: the best segmentation score by exhaustive search.
double brute_best(const std::vector<std::pair<std::string, double>>& vocab, std::string_view s,
                  std::vector<std::string>* best_pieces) {
  if (s.empty()) return 0.0;
  double best = -INFINITY;
  for (const auto& [p, score] : vocab) {
    if (!s.starts_with(p) || p.empty()) continue;
    std::vector<std::string> rest;
    double v = score + brute_best(vocab, s.substr(p.size()), &rest);
    if (v > best) {
      best = v;
      best_pieces->assign(1, p);
      best_pieces->insert(best_pieces->end(), rest.begin(), rest.end());
    }
  }
  return best;
}

TEST(ModelsUnigram, MatchesExhaustiveSearch) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> score(-10.0, -0.1);
  for (int round = 0; round < 20; ++round) {
    const std::vector<std::string> chars = {"a", "b", "c", "é"};
    std::vector<std::pair<std::string, double>> vocab;
    std::set<std::string> seen(chars.begin(), chars.end());
    for (const std::string& c : chars) vocab.emplace_back(c, score(rng));
    for (int k = 0; k < 25; ++k) {
      std::string p;
      int len = 2 + static_cast<int>(rng() % 4);
      for (int i = 0; i < len; ++i) p += chars[rng() % chars.size()];
      if (seen.insert(p).second) vocab.emplace_back(p, score(rng));
    }
    std::map<std::string, double> scores(vocab.begin(), vocab.end());
    Json j = {{"type", "Unigram"}, {"vocab", Json::array()}};
    for (const auto& [p, s] : vocab) j["vocab"].push_back({p, s});
    auto m = model_from_json(JsonRef(j, "$.model"));
    for (int n = 0; n < 30; ++n) {
      std::string s;
      int len = 1 + static_cast<int>(rng() % 9);
      for (int i = 0; i < len; ++i) s += chars[rng() % chars.size()];
      std::vector<std::string> unused;
      const double want = brute_best(vocab, s, &unused);
      // Permuted pieces tie exactly, so compare the path score, not the pieces.
      double got = 0.0;
      std::string joined;
      for (const Token& t : m->tokenize(s)) {
        joined += t.value;
        got += scores.at(t.value);
      }
      EXPECT_EQ(joined, s);
      EXPECT_NEAR(got, want, 1e-9) << s;
    }
  }
}

}  // namespace
}  // namespace mlhub::tok
