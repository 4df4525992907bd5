// Logits processors against transformers' own classes (tests/golden/generation/processors.json,
// from tools/reference/generation_goldens.py): same -inf positions, values within 1e-6.
#include <cmath>

#include <gtest/gtest.h>

#include "fake_model.h"

namespace mlhub::generation {
namespace {

using nlohmann::json;
using testing::golden_float;
using testing::load_golden;

std::vector<float> row_of(const json& r) {
  std::vector<float> out;
  for (const json& v : r) out.push_back(golden_float(v));
  return out;
}

std::unique_ptr<LogitsProcessor> processor_for(const json& a) {
  const int64_t keep = a.value("min_tokens_to_keep", 1);
  if (a.contains("repetition_penalty")) return make_repetition_penalty(a["repetition_penalty"]);
  if (a.contains("no_repeat_ngram_size")) return make_no_repeat_ngram(a["no_repeat_ngram_size"]);
  if (a.contains("bad_words_ids")) return make_no_bad_words(a["bad_words_ids"], a["eos_token_id"]);
  if (a.contains("min_length")) return make_min_length(a["min_length"], a["eos_token_id"]);
  if (a.contains("temperature")) return make_temperature(a["temperature"]);
  if (a.contains("top_k")) return make_top_k(a["top_k"], keep);
  if (a.contains("top_p")) return make_top_p(a["top_p"], keep);
  if (a.contains("min_p")) return make_min_p(a["min_p"], keep);
  if (a.contains("typical_p")) return make_typical(a["typical_p"], keep);
  throw std::runtime_error("unknown processor " + a.dump());
}

void expect_rows_equal(const std::vector<float>& got, const std::vector<float>& want,
                       const std::string& what) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    if (std::isinf(want[i]) || std::isinf(got[i])) {
      EXPECT_EQ(got[i], want[i]) << what << " index " << i;
    } else {
      EXPECT_NEAR(got[i], want[i], 1e-6f * std::max(1.0f, std::fabs(want[i])))
          << what << " index " << i;
    }
  }
}

TEST(LogitsProcessTest, EachProcessorMatchesTransformers) {
  const json g = load_golden("processors.json");
  const auto& ids = g["input_ids"];
  int checked = 0;
  for (const json& c : g["cases"]) {
    auto proc = processor_for(c["processor"]);
    const json& inputs = c["input"] == "logprobs" ? g["logprobs"] : g["scores"];
    for (size_t r = 0; r < ids.size(); ++r) {
      std::vector<int64_t> tokens = ids[r].get<std::vector<int64_t>>();
      std::vector<float> scores = row_of(inputs[r]);
      const std::vector<float> before = scores;
      proc->apply({tokens, 6}, scores);
      const std::string what = c["name"].get<std::string>() + " row " + std::to_string(r);
      if (c.contains("masked")) {
        std::vector<float> want = before;
        for (int64_t i : c["masked"][r].get<std::vector<int64_t>>()) want[i] = -INFINITY;
        // Exact: these processors only write -inf.
        for (size_t i = 0; i < want.size(); ++i)
          EXPECT_EQ(scores[i], want[i]) << what << " index " << i;
      } else {
        expect_rows_equal(scores, row_of(c["expected"][r]), what);
      }
      ++checked;
    }
  }
  EXPECT_GE(checked, 100);
}

TEST(LogitsProcessTest, ListFromConfigMatchesGenerateOrder) {
  const json g = load_golden("processors.json");
  const auto& ids = g["input_ids"];
  for (const json& l : g["lists"]) {
    GenerationConfig config;
    ASSERT_TRUE(config.update(l["config"]).ok());
    const int64_t prompt_len = l["prompt_length"];
    LogitsProcessorList list =
        build_logits_processors(config, config.resolved_min_length(prompt_len));
    // transformers adds MinLength and MinNewTokensLength with one threshold; we add one.
    std::vector<std::string> want;
    for (const json& name : l["classes"]) {
      if (name == "MinNewTokensLengthLogitsProcessor" && !want.empty() &&
          want.back() == "MinLengthLogitsProcessor")
        continue;
      want.push_back(name);
    }
    std::vector<std::string> got;
    for (size_t i = 0; i < list.size(); ++i) got.emplace_back(list[i].name());
    EXPECT_EQ(got, want) << l["config"].dump();
    for (size_t r = 0; r < ids.size(); ++r) {
      std::vector<int64_t> tokens = ids[r].get<std::vector<int64_t>>();
      std::vector<float> scores = row_of(g["scores"][r]);
      list.apply({tokens, prompt_len}, scores);
      expect_rows_equal(scores, row_of(l["expected"][r]), l["config"].dump());
    }
  }
}

TEST(LogitsProcessTest, PresenceAndFrequencyPenaltyCountGeneratedTokensOnly) {
  // OpenAI: logit -= count * frequency + (count > 0) * presence, over generated tokens.
  auto p = make_presence_frequency_penalty(0.5, 0.25);
  std::vector<int64_t> tokens = {1, 1, 3, /*generated:*/ 2, 2, 2, 4};
  std::vector<float> s = {1, 1, 1, 1, 1, 1};
  p->apply({tokens, 3}, s);
  EXPECT_EQ(s, (std::vector<float>{1, 1, 1.0f - 0.75f - 0.5f, 1, 1.0f - 0.25f - 0.5f, 1}));
}

TEST(LogitsProcessTest, RejectsWhatTransformersRejects) {
  EXPECT_THROW(make_temperature(0.0), Error);
  EXPECT_THROW(make_top_k(0), Error);
  EXPECT_THROW(make_top_p(1.5), Error);
  EXPECT_THROW(make_repetition_penalty(0.0), Error);
  EXPECT_THROW(make_typical(1.0), Error);
  EXPECT_THROW(make_no_repeat_ngram(0), Error);
}

TEST(LogitsProcessTest, LogSoftmaxNormalises) {
  std::vector<float> s = {1.0f, 2.0f, -INFINITY, 0.5f};
  log_softmax_inplace(s);
  double total = 0;
  for (float v : s) total += std::exp(static_cast<double>(v));
  EXPECT_NEAR(total, 1.0, 1e-6);
  EXPECT_EQ(s[2], -INFINITY);
  EXPECT_NEAR(s[1] - s[0], 1.0f, 1e-6f);
}

}  // namespace
}  // namespace mlhub::generation

namespace mlhub::generation {
namespace {

// ForcedBOS / ForcedEOS (encoder-decoder generation): transformers' processors set every score to
// -inf but the forced token's, which becomes 0, at exactly one length. End-to-end parity on
// BART / mBART / Marian goldens covers them inside generate(); this pins the lengths.
TEST(ForcedTokens, OnlyAtTheirLength) {
  const std::vector<float> scores = {0.5f, -1.0f, 2.0f, 0.25f, -3.0f};
  const std::vector<int64_t> one = {7}, two = {7, 1}, four = {7, 1, 2, 3};
  auto bos = make_forced_bos(3);
  std::vector<float> s = scores;
  bos->apply({one, 1}, s);
  for (size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s[i], i == 3 ? 0.0f : -INFINITY) << i;
  s = scores;
  bos->apply({two, 1}, s);
  EXPECT_EQ(s, scores);

  auto eos = make_forced_eos(/*max_length=*/5, {1, 4});
  s = scores;
  eos->apply({four, 1}, s);  // length 4 == max_length - 1
  for (size_t i = 0; i < s.size(); ++i) EXPECT_EQ(s[i], i == 1 || i == 4 ? 0.0f : -INFINITY) << i;
  s = scores;
  eos->apply({two, 1}, s);
  EXPECT_EQ(s, scores);
}

TEST(ForcedTokens, ComeAfterMinLengthInTheBuiltList) {
  GenerationConfig c;
  c.eos_token_id = {2};
  c.forced_bos_token_id = 0;
  c.forced_eos_token_id = {2};
  c.no_repeat_ngram_size = 3;
  const LogitsProcessorList list = build_logits_processors(c, /*min_length=*/4, /*max_length=*/10);
  std::vector<std::string> names;
  for (size_t i = 0; i < list.size(); ++i) names.emplace_back(list[i].name());
  EXPECT_EQ(names, (std::vector<std::string>{"NoRepeatNGramLogitsProcessor", "MinLengthLogitsProcessor",
                                             "ForcedBOSTokenLogitsProcessor",
                                             "ForcedEOSTokenLogitsProcessor"}));
}

}  // namespace
}  // namespace mlhub::generation
