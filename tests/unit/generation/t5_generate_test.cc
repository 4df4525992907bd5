// generate_seq2seq() on the tiny T5 goldens of tests/golden/seq2seq ("t5": ReLU, tied head;
// "t5-v1_1": gated-gelu, untied head; "t5-shapes": uneven layer counts and head sizes), against
// transformers 4.57.3's generate() on the same files (tools/reference/seq2seq_goldens.py):
// greedy (16 new tokens, the 3 inputs in one call) and the beam searches of case.json (4 beams,
// 2 returned, length_penalty, no_repeat_ngram_size).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "../models/seq2seq_golden.h"
#include "mlhub/generation.h"

namespace mlhub::generation {
namespace {

using namespace models::seq2seq_golden;

// transformers' sequences_scores are float32; the bar for them.
constexpr float kScoreTolerance = 1e-4f;

class T5Generate : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    case_ = load_case(GetParam());
    model_ = load_model(case_);
    auto config = GenerationConfig::load(case_.dir);
    ASSERT_TRUE(config.ok()) << config.status().to_string();
    config_ = *config;
  }
  Case case_;
  std::unique_ptr<models::Seq2SeqModel> model_;
  GenerationConfig config_;
};

TEST_P(T5Generate, GreedyMatchesTransformers) {
  const nlohmann::json& greedy = case_.meta["greedy"];
  ASSERT_TRUE(config_.update(greedy["config"]).ok());
  ASSERT_TRUE(config_.update({{"do_sample", false}, {"num_beams", 1}}).ok());
  auto results = generate_seq2seq(*model_, case_.inputs, config_);
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  ASSERT_EQ(results->size(), case_.inputs.size());
  const std::vector<int64_t> eos = eos_ids(*model_);
  for (size_t i = 0; i < case_.inputs.size(); ++i) {
    ASSERT_EQ((*results)[i].sequences.size(), 1u);
    EXPECT_EQ((*results)[i].sequences[0].tokens,
              generated_part(greedy["sequences"][i].get<std::vector<int64_t>>(), eos))
        << GetParam() << " input " << i;
  }
}

// Each beam config of case.json: the same returned sequences, scores within kScoreTolerance.
// Hypotheses whose golden scores lie within the tolerance of each other are a tie (t5's first
// input has two 2.5e-5 apart): their order may differ from transformers', so they are matched
// by tokens, and an order swap is accepted only between such tied hypotheses.
TEST_P(T5Generate, BeamSearchMatchesTransformers) {
  const std::vector<int64_t> eos = eos_ids(*model_);
  const auto& beams = case_.meta["beam"];
  ASSERT_FALSE(beams.empty());
  float worst = 0;
  int swaps = 0;
  for (size_t b = 0; b < beams.size(); ++b) {
    const nlohmann::json& beam = beams[b];
    const size_t input = b / 2;  // the script runs two configs on each of the first two inputs
    GenerationConfig config = config_;
    ASSERT_TRUE(config.update(beam["config"]).ok()) << beam["config"].dump();
    auto results = generate_seq2seq(*model_, {case_.inputs[input]}, config);
    ASSERT_TRUE(results.ok()) << results.status().to_string();
    const auto& got = (*results)[0].sequences;
    const auto& want = beam["sequences"];
    const auto want_scores = beam["scores"].get<std::vector<float>>();
    ASSERT_EQ(got.size(), want.size()) << GetParam() << " beam config " << b;
    for (size_t k = 0; k < want.size(); ++k) {
      const std::vector<int64_t> tokens = generated_part(want[k].get<std::vector<int64_t>>(), eos);
      size_t match = got.size();
      for (size_t g = 0; g < got.size(); ++g)
        if (got[g].tokens == tokens) match = g;
      ASSERT_LT(match, got.size()) << GetParam() << " beam config " << b << ": hypothesis " << k
                                   << " of transformers not returned";
      EXPECT_NEAR(got[match].score, want_scores[k], kScoreTolerance)
          << GetParam() << " beam config " << b << " hypothesis " << k;
      worst = std::max(worst, std::fabs(got[match].score - want_scores[k]));
      if (match != k) {
        ++swaps;  // a swap: only between tied hypotheses
        EXPECT_LE(std::fabs(want_scores[match] - want_scores[k]), kScoreTolerance)
            << GetParam() << " beam config " << b << ": hypotheses " << k << " and " << match
            << " swapped but not tied";
      }
    }
  }
  std::printf("[ %s ] %zu beam searches: sequences equal, scores max abs diff %.3g, %d tied "
              "hypotheses in swapped order\n",
              GetParam().c_str(), beams.size(), worst, swaps);
}

INSTANTIATE_TEST_SUITE_P(Cases, T5Generate, ::testing::Values("t5", "t5-v1_1", "t5-shapes"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& ch : name)
                             if (ch == '-') ch = '_';
                           return name;
                         });

}  // namespace
}  // namespace mlhub::generation
