// generate() on the real tiny decoders of tests/golden/decoders (random checkpoints written by
// transformers 4.57.3, tools/reference/decoder_goldens.py), against transformers' generate() on
// the same files: greedy (64 new tokens, all three prompts in one batch) and beam search
// (3 beams, 2 returned sequences, an eos id that occurs, 12 new tokens).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "mlhub/generation.h"
#include "mlhub/models.h"

namespace mlhub::generation {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
const fs::path kGolden = fs::path(MLHUB_SOURCE_DIR) / "tests" / "golden" / "decoders";

std::vector<std::string> cases() {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kGolden))
    if (fs::exists(e.path() / "case.json")) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

json load_case(const std::string& name) {
  std::ifstream in(kGolden / name / "case.json");
  return json::parse(in);
}

class DecoderGenerate : public ::testing::TestWithParam<std::string> {};

TEST_P(DecoderGenerate, GreedyBatchMatchesTransformers) {
  const json c = load_case(GetParam());
  auto model = models::load_decoder(kGolden / GetParam());
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  auto config = GenerationConfig::load(kGolden / GetParam());
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  // The golden's generate() call: 64 new tokens exactly, no eos.
  ASSERT_TRUE(config->update({{"max_new_tokens", 64}, {"min_new_tokens", 64},
                              {"eos_token_id", nullptr}, {"do_sample", false}})
                  .ok());
  const auto prompts = c["prompts"].get<std::vector<std::vector<int64_t>>>();
  auto results = generate(**model, prompts, *config);
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  for (size_t p = 0; p < prompts.size(); ++p) {
    ASSERT_EQ((*results)[p].sequences.size(), 1u);
    EXPECT_EQ((*results)[p].sequences[0].tokens, c["greedy"][p].get<std::vector<int64_t>>())
        << GetParam() << " prompt " << p;
    EXPECT_EQ((*results)[p].sequences[0].finish_reason, FinishReason::kLength);
  }
}

TEST_P(DecoderGenerate, BeamSearchMatchesTransformers) {
  const json c = load_case(GetParam());
  auto model = models::load_decoder(kGolden / GetParam());
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  auto config = GenerationConfig::load(kGolden / GetParam());
  ASSERT_TRUE(config.ok()) << config.status().to_string();
  const json& beam = c["beam"];
  ASSERT_TRUE(config->update(beam["config"]).ok()) << beam["config"].dump();
  const auto prompt = c["prompts"][0].get<std::vector<int64_t>>();
  auto results = generate(**model, {prompt}, *config);
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  const auto& seqs = (*results)[0].sequences;
  ASSERT_EQ(seqs.size(), beam["sequences"].size());
  for (size_t i = 0; i < seqs.size(); ++i) {
    // transformers fills a shorter beam with `pad_token_id or eos_token_id`: the golden's pad id
    // is 0, which Python reads as unset, so the fill is the eos id.
    auto want = beam["sequences"][i].get<std::vector<int64_t>>();
    std::vector<int64_t> got = seqs[i].tokens;
    ASSERT_LE(got.size(), want.size());
    got.resize(want.size(), beam["config"]["eos_token_id"].get<int64_t>());
    EXPECT_EQ(got, want) << GetParam() << " beam " << i;
    const float score = beam["scores"][i].get<float>();
    EXPECT_NEAR(seqs[i].score, score, 1e-4f * std::max(1.0f, std::fabs(score)))
        << GetParam() << " beam " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, DecoderGenerate, ::testing::ValuesIn(cases()),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

}  // namespace
}  // namespace mlhub::generation
