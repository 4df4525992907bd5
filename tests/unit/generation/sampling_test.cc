// Sampling: our RNG is reproducible per seed, and the tokens it draws follow the probabilities
// the warpers leave (chi-square with a fixed seed and a generous bound).
#include <cmath>
#include <map>

#include <gtest/gtest.h>

#include "fake_model.h"

namespace mlhub::generation {
namespace {

using testing::FakeDecoder;

TEST(SamplingTest, RngIsDeterministicPerSeedAndStream) {
  Rng a(42, 0), b(42, 0), c(42, 1), d(43, 0);
  const uint64_t x = a.next_u64();
  EXPECT_EQ(x, b.next_u64());
  EXPECT_NE(x, c.next_u64());
  EXPECT_NE(x, d.next_u64());
  for (int i = 0; i < 1000; ++i) {
    const double u = a.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
}

TEST(SamplingTest, DrawsFollowTheWarpedDistribution) {
  // Scores after top_k=6 and top_p=0.9: the draws must match softmax of what is left.
  std::vector<float> scores = {1.0f, 2.5f, -0.5f, 0.3f, 2.0f, -3.0f, 1.7f, 0.9f, -1.0f, 0.0f};
  GenerationConfig c;
  c.do_sample = true;
  c.top_k = 6;
  c.top_p = 0.9;
  c.temperature = 0.8;
  LogitsProcessorList list = build_logits_processors(c, 0);
  std::vector<int64_t> tokens = {1};
  list.apply({tokens, 1}, scores);
  std::vector<double> p(scores.size());
  double total = 0;
  for (size_t i = 0; i < scores.size(); ++i)
    total += p[i] = std::isinf(scores[i]) ? 0.0 : std::exp(scores[i]);
  for (double& v : p) v /= total;
  Rng rng(2024);
  const int n = 200000;
  std::vector<int> counts(scores.size(), 0);
  for (int i = 0; i < n; ++i) ++counts[sample_from_logits(scores, rng)];
  double chi2 = 0;
  int dof = -1;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (p[i] == 0) {
      EXPECT_EQ(counts[i], 0) << "a filtered token was drawn: " << i;
      continue;
    }
    const double e = p[i] * n;
    chi2 += (counts[i] - e) * (counts[i] - e) / e;
    ++dof;
  }
  EXPECT_GE(dof, 2);
  // The 99.99th percentile of chi-square with <= 9 degrees of freedom is below 34.
  EXPECT_LT(chi2, 34.0) << "dof " << dof;
}

TEST(SamplingTest, ArgmaxTakesTheFirstMaximum) {
  std::vector<float> s = {0.5f, 2.0f, 2.0f, -1.0f};
  EXPECT_EQ(argmax(s), 1);
  std::vector<float> all_inf = {-INFINITY, -INFINITY};
  Rng rng(1);
  EXPECT_THROW(sample_from_logits(all_inf, rng), Error);
}

GenerationConfig sampling_config(uint64_t seed) {
  GenerationConfig c;
  c.do_sample = true;
  c.seed = seed;
  c.max_new_tokens = 16;
  c.eos_token_id = {testing::kEos};
  c.temperature = 1.5;
  return c;
}

TEST(SamplingTest, GenerateIsReproduciblePerSeed) {
  FakeDecoder model;
  const std::vector<std::vector<int64_t>> prompts = {{5, 9, 3}, {7}};
  auto a = generate(model, prompts, sampling_config(11));
  auto b = generate(model, prompts, sampling_config(11));
  auto c = generate(model, prompts, sampling_config(12));
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  for (size_t p = 0; p < prompts.size(); ++p) {
    EXPECT_EQ((*a)[p].sequences[0].tokens, (*b)[p].sequences[0].tokens);
  }
  EXPECT_NE((*a)[0].sequences[0].tokens, (*c)[0].sequences[0].tokens);
  // Greedy would give one fixed sequence; sampling at temperature 1.5 explores.
  GenerationConfig greedy = sampling_config(11);
  greedy.do_sample = false;
  auto g = generate(model, prompts, greedy);
  EXPECT_NE((*a)[0].sequences[0].tokens, (*g)[0].sequences[0].tokens);
}

TEST(SamplingTest, ReturnSequencesAreIndependentDraws) {
  FakeDecoder model;
  GenerationConfig c = sampling_config(5);
  c.num_return_sequences = 4;
  auto r = generate(model, {{5, 9, 3}}, c);
  ASSERT_TRUE(r.ok());
  const auto& seqs = (*r)[0].sequences;
  ASSERT_EQ(seqs.size(), 4u);
  std::set<std::vector<int64_t>> distinct;
  for (const auto& s : seqs) distinct.insert(s.tokens);
  EXPECT_GE(distinct.size(), 3u);
}

TEST(SamplingTest, FirstTokenDistributionMatchesTheModel) {
  // Over many seeds the first sampled token follows softmax(logits / T) of the fake model.
  FakeDecoder model;
  GenerationConfig c = sampling_config(0);
  c.max_new_tokens = 1;
  c.top_k = 0;
  std::vector<float> logits(testing::kVocab);
  testing::fake_logits(3, 9, 2, logits.data());
  std::vector<double> p(testing::kVocab);
  double total = 0;
  for (int64_t v = 0; v < testing::kVocab; ++v) total += p[v] = std::exp(logits[v] / 1.5);
  std::vector<int> counts(testing::kVocab, 0);
  const int n = 20000;
  for (int s = 0; s < n; ++s) {
    c.seed = static_cast<uint64_t>(s);
    auto r = generate(model, {{5, 9, 3}}, c);
    ASSERT_TRUE(r.ok());
    ++counts[(*r)[0].sequences[0].tokens[0]];
  }
  // Pool rare tokens so each cell expects >= 10 draws.
  double chi2 = 0, rest_e = 0, rest_o = 0;
  int cells = 0;
  for (int64_t v = 0; v < testing::kVocab; ++v) {
    const double e = p[v] / total * n;
    if (e < 10) {
      rest_e += e;
      rest_o += counts[v];
      continue;
    }
    chi2 += (counts[v] - e) * (counts[v] - e) / e;
    ++cells;
  }
  if (rest_e > 0) chi2 += (rest_o - rest_e) * (rest_o - rest_e) / rest_e, ++cells;
  EXPECT_GE(cells, 5);
  EXPECT_LT(chi2, 3.0 * cells + 30) << cells << " cells";
}

}  // namespace
}  // namespace mlhub::generation
