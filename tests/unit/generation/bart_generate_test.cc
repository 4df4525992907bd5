// generate_seq2seq() on the BART, mBART and Marian goldens (tests/golden/seq2seq, written by
// transformers 4.57.3 with tools/reference/seq2seq_goldens.py): greedy for all three inputs in one
// call, and each case.json beam search (4 beams, 2 returned; length_penalty, no_repeat_ngram_size,
// early_stopping), with the generation settings of the case folder's generation_config.json
// (forced BOS / EOS, Marian's <pad> ban) under the call's own, as model.generate(**kwargs) does.
#include <gtest/gtest.h>

#include <cmath>

#include "../models/seq2seq_golden.h"
#include "mlhub/generation.h"

namespace mlhub::generation {
namespace {

using namespace models::seq2seq_golden;

GenerationConfig config_for(const Case& c, const nlohmann::json& call) {
  auto config = GenerationConfig::load(c.dir);
  if (!config.ok()) throw std::runtime_error(config.status().to_string());
  const Status s = config->update(call);
  if (!s.ok()) throw std::runtime_error(s.to_string());
  return *config;
}

class BartGenerate : public ::testing::TestWithParam<std::string> {};

TEST_P(BartGenerate, GreedyMatchesTransformers) {
  const Case c = load_case(GetParam());
  const auto model = load_model(c);
  const GenerationConfig config = config_for(c, c.meta["greedy"]["config"]);
  auto results = generate_seq2seq(*model, c.inputs, config);
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  ASSERT_EQ(results->size(), c.inputs.size());
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    const auto golden = c.meta["greedy"]["sequences"][i].get<std::vector<int64_t>>();
    ASSERT_EQ((*results)[i].sequences.size(), 1u);
    EXPECT_EQ((*results)[i].sequences[0].tokens, generated_part(golden, config.eos_token_id))
        << GetParam() << " input " << i;
  }
}

TEST_P(BartGenerate, BeamSearchMatchesTransformers) {
  const Case c = load_case(GetParam());
  const auto model = load_model(c);
  const nlohmann::json& beams = c.meta["beam"];
  ASSERT_EQ(beams.size(), 4u);  // two configs for each of the first two inputs
  float worst = 0;
  for (size_t k = 0; k < beams.size(); ++k) {
    const nlohmann::json& b = beams[k];
    const GenerationConfig config = config_for(c, b["config"]);
    auto results = generate_seq2seq(*model, {c.inputs[k / 2]}, config);
    ASSERT_TRUE(results.ok()) << results.status().to_string();
    const auto& got = (*results)[0].sequences;
    ASSERT_EQ(got.size(), b["sequences"].size()) << GetParam() << " beam " << k;
    for (size_t r = 0; r < got.size(); ++r) {
      const auto golden = b["sequences"][r].get<std::vector<int64_t>>();
      EXPECT_EQ(got[r].tokens, generated_part(golden, config.eos_token_id))
          << GetParam() << " beam config " << k << " sequence " << r << ": " << b["config"].dump();
      const float want = b["scores"][r].get<float>();
      EXPECT_NEAR(got[r].score, want, 1e-4f) << GetParam() << " beam config " << k << " seq " << r;
      worst = std::max(worst, std::fabs(got[r].score - want));
    }
  }
  std::printf("[ %s ] beam sequences_scores max |diff| %.3g\n", GetParam().c_str(), worst);
}

// The sources in one call (padded through the encoder together, decoded in one batch) give what
// each gives alone.
TEST_P(BartGenerate, BatchOfSourcesEqualsEachAlone) {
  const Case c = load_case(GetParam());
  const auto model = load_model(c);
  const GenerationConfig config = config_for(c, c.meta["beam"][0]["config"]);
  auto together = generate_seq2seq(*model, c.inputs, config);
  ASSERT_TRUE(together.ok()) << together.status().to_string();
  for (size_t i = 0; i < c.inputs.size(); ++i) {
    auto alone = generate_seq2seq(*model, {c.inputs[i]}, config);
    ASSERT_TRUE(alone.ok()) << alone.status().to_string();
    ASSERT_EQ((*alone)[0].sequences.size(), (*together)[i].sequences.size());
    for (size_t r = 0; r < (*alone)[0].sequences.size(); ++r) {
      EXPECT_EQ((*alone)[0].sequences[r].tokens, (*together)[i].sequences[r].tokens) << i;
      EXPECT_EQ((*alone)[0].sequences[r].score, (*together)[i].sequences[r].score) << i;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Goldens, BartGenerate, ::testing::Values("bart", "mbart", "marian"));

}  // namespace
}  // namespace mlhub::generation
