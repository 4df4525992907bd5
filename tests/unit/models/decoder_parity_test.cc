// Every case of tests/golden/decoders (tiny random causal LMs written by transformers 4.57.3, see
// tools/reference/decoder_goldens.py) whose architecture mlhub implements:
//   - the logits of one full forward over a prompt + 64 generated tokens are within 1e-3 of
//     transformers' (fp32), every position;
//   - greedy decoding with the KV cache gives transformers' 64 tokens for each of three prompts;
//   - the KV-cache path (prefill, then one token per step) gives the full forward's logits bit
//     for bit;
//   - the three prompts as one ragged batch give each prompt's tokens and logits bit for bit.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "mlhub/io.h"
#include "mlhub/models.h"

namespace mlhub::models {
namespace {

namespace fs = std::filesystem;
const fs::path kGolden = fs::path(MLHUB_SOURCE_DIR) / "tests" / "golden" / "decoders";
constexpr float kLogitTolerance = 1e-3f;  // the bar for fp32 logits

// The cases of the architectures implemented so far (a case of another architecture is listed
// here when its file lands; GoldenCasesExist checks every listed case has its golden).
const std::vector<std::string> kCases = {
    "llama", "llama-rope-llama3", "llama-tied-bias", "mistral", "qwen2", "qwen3", "gemma", "gemma2",
    "gpt2", "gpt2-scaled", "gpt_neox", "gpt_neox-sequential", "phi3", "phi3-longrope"};
// Cases whose rotary frequencies depend on the longest position of the forward call
// (transformers' longrope / dynamic NTK): the KV-cache path legitimately differs from one full
// forward there, in transformers too.
// decoder_arch_test.cc checks that case's cached path against a full forward of each prefix.
std::vector<std::string> cases_with_position_free_rope() {
  std::vector<std::string> out;
  for (const std::string& name : kCases)
    if (name != "phi3-longrope") out.push_back(name);
  return out;
}

struct Case {
  std::string name;
  nlohmann::json meta;
  std::unique_ptr<DecoderModel> model;
  Tensor logits;  // reference [T, vocab]
};

Case load_case(const std::string& name) {
  Case c;
  c.name = name;
  const fs::path dir = kGolden / name;
  std::ifstream in(dir / "case.json");
  c.meta = nlohmann::json::parse(in);
  auto model = load_decoder(dir);
  if (!model.ok()) throw std::runtime_error(name + ": " + model.status().to_string());
  c.model = std::move(*model);
  auto ref = io::Checkpoint::open(dir / "reference.safetensors");
  if (!ref.ok()) throw std::runtime_error(ref.status().to_string());
  c.logits = ref->get("logits");
  return c;
}

std::vector<int64_t> ids_of(const nlohmann::json& j) { return j.get<std::vector<int64_t>>(); }

int64_t argmax_row(const float* row, int64_t n) {
  return std::max_element(row, row + n) - row;  // first maximum, as torch.argmax
}

// Greedy decoding of `steps` tokens for several prompts at once (each with its cache).
std::vector<std::vector<int64_t>> greedy(const DecoderModel& model,
                                         const std::vector<std::vector<int64_t>>& prompts,
                                         int steps) {
  const size_t n = prompts.size();
  std::vector<KvCache> caches;
  for (size_t i = 0; i < n; ++i) caches.push_back(model.new_cache());
  std::vector<std::vector<int64_t>> out(n), feed = prompts;
  for (int step = 0; step < steps; ++step) {
    std::vector<DecoderSequence> batch(n);
    for (size_t i = 0; i < n; ++i) batch[i] = {feed[i], &caches[i], false};
    const Tensor logits = model.forward(batch);
    const int64_t v = logits.dim(1);
    for (size_t i = 0; i < n; ++i) {
      const int64_t next = argmax_row(logits.data<float>() + i * v, v);
      out[i].push_back(next);
      feed[i] = {next};
    }
  }
  return out;
}

class DecoderParity : public ::testing::TestWithParam<std::string> {};

TEST_P(DecoderParity, FullForwardLogitsMatchTransformers) {
  const Case c = load_case(GetParam());
  const int p = c.meta["full_logits_prompt"].get<int>();
  std::vector<int64_t> seq = ids_of(c.meta["prompts"][p]);
  const auto gen = ids_of(c.meta["greedy"][p]);
  seq.insert(seq.end(), gen.begin(), gen.end());
  KvCache cache = c.model->new_cache();
  const DecoderSequence one{seq, &cache, true};
  const Tensor got = c.model->forward({&one, 1});
  ASSERT_EQ(got.shape(), c.logits.shape());
  const auto x = got.to_floats(), y = c.logits.to_floats();
  float worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(x[i] - y[i]));
  std::printf("  %s: %zu logits, max |diff| %.3g\n", c.name.c_str(), x.size(), worst);
  EXPECT_LE(worst, kLogitTolerance);
  EXPECT_EQ(cache.length(), static_cast<int64_t>(seq.size()));
}

TEST_P(DecoderParity, GreedyTokensMatchTransformers) {
  const Case c = load_case(GetParam());
  std::vector<std::vector<int64_t>> prompts;
  for (const auto& p : c.meta["prompts"]) prompts.push_back(ids_of(p));
  for (size_t i = 0; i < prompts.size(); ++i) {
    const auto want = ids_of(c.meta["greedy"][i]);
    const auto got = greedy(*c.model, {prompts[i]}, static_cast<int>(want.size()));
    EXPECT_EQ(got[0], want) << c.name << " prompt " << i << " (smallest top-2 gap "
                            << c.meta["min_top2_gap"][i] << ")";
  }
}

class DecoderCachePath : public ::testing::TestWithParam<std::string> {};

TEST_P(DecoderCachePath, KvCachePathEqualsFullForward) {
  const Case c = load_case(GetParam());
  const int p = c.meta["full_logits_prompt"].get<int>();
  const auto prompt = ids_of(c.meta["prompts"][p]);
  auto seq = prompt;
  const auto gen = ids_of(c.meta["greedy"][p]);
  seq.insert(seq.end(), gen.begin(), gen.end());
  KvCache full_cache = c.model->new_cache();
  const DecoderSequence all{seq, &full_cache, true};
  const Tensor full = c.model->forward({&all, 1});
  const int64_t v = full.dim(1);

  KvCache cache = c.model->new_cache();
  const DecoderSequence pre{prompt, &cache, true};
  std::vector<float> steps = c.model->forward({&pre, 1}).to_floats();
  for (size_t t = prompt.size(); t < seq.size(); ++t) {
    const DecoderSequence next{std::span<const int64_t>(&seq[t], 1), &cache, false};
    const auto row = c.model->forward({&next, 1}).to_floats();
    steps.insert(steps.end(), row.begin(), row.end());
  }
  const auto want = full.to_floats();
  ASSERT_EQ(steps.size(), want.size());
  size_t differing = 0;
  for (size_t i = 0; i < want.size(); ++i) differing += std::memcmp(&steps[i], &want[i], 4) != 0;
  EXPECT_EQ(differing, 0u) << c.name << ": " << differing << " of " << want.size()
                           << " logits differ (vocab " << v << ")";
}

TEST_P(DecoderParity, BatchedEqualsOneAtATime) {
  const Case c = load_case(GetParam());
  std::vector<std::vector<int64_t>> prompts;
  for (const auto& p : c.meta["prompts"]) prompts.push_back(ids_of(p));
  const auto batched = greedy(*c.model, prompts, 16);
  for (size_t i = 0; i < prompts.size(); ++i)
    EXPECT_EQ(batched[i], greedy(*c.model, {prompts[i]}, 16)[0]) << c.name << " prompt " << i;

  // Prefill logits of a ragged batch equal each prompt's own, bit for bit.
  std::vector<KvCache> caches;
  for (size_t i = 0; i < prompts.size(); ++i) caches.push_back(c.model->new_cache());
  std::vector<DecoderSequence> batch;
  for (size_t i = 0; i < prompts.size(); ++i) batch.push_back({prompts[i], &caches[i], true});
  const auto together = c.model->forward(batch).to_floats();
  std::vector<float> apart;
  for (size_t i = 0; i < prompts.size(); ++i) {
    KvCache cache = c.model->new_cache();
    const DecoderSequence one{prompts[i], &cache, true};
    const auto rows = c.model->forward({&one, 1}).to_floats();
    apart.insert(apart.end(), rows.begin(), rows.end());
  }
  ASSERT_EQ(together.size(), apart.size());
  EXPECT_EQ(std::memcmp(together.data(), apart.data(), apart.size() * 4), 0);
}

INSTANTIATE_TEST_SUITE_P(Cases, DecoderCachePath,
                         ::testing::ValuesIn(cases_with_position_free_rope()),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });
INSTANTIATE_TEST_SUITE_P(Cases, DecoderParity, ::testing::ValuesIn(kCases),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

TEST(DecoderParityCases, GoldenCasesExist) {
  for (const std::string& name : kCases)
    EXPECT_TRUE(fs::exists(kGolden / name / "reference.safetensors")) << name;
}

TEST(DecoderInput, BadBatchesAreRefused) {
  auto model = load_decoder(kGolden / "llama");
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  KvCache cache = (*model)->new_cache();
  const std::vector<int64_t> bad_id = {5, 100000};
  const DecoderSequence s1{bad_id, &cache, false};
  EXPECT_THROW((*model)->forward({&s1, 1}), Error);
  EXPECT_EQ(cache.length(), 0);  // nothing was appended
  const std::vector<int64_t> none;
  const DecoderSequence s2{none, &cache, false};
  EXPECT_THROW((*model)->forward({&s2, 1}), Error);
  KvCache wrong(3, 7);
  const std::vector<int64_t> ok = {5, 6};
  const DecoderSequence s3{ok, &wrong, false};
  EXPECT_THROW((*model)->forward({&s3, 1}), Error);
  const std::vector<int64_t> too_long((*model)->max_positions() + 1, 5);
  const DecoderSequence s4{too_long, &cache, false};
  EXPECT_THROW((*model)->forward({&s4, 1}), Error);
  const DecoderSequence twice[2] = {{ok, &cache, false}, {ok, &cache, false}};
  EXPECT_THROW((*model)->forward(twice), Error);
  EXPECT_EQ(cache.length(), 0);
}

}  // namespace
}  // namespace mlhub::models
