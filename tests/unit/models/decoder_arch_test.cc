// Architecture-specific decoder behaviour that the parity suite (decoder_parity_test.cc) does not
// reach: the load report for keys of older checkpoints, the token ids a KvCache records, and
// Phi-3 LongRoPE's re-encoding when a sequence first passes original_max_position_embeddings.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include <nlohmann/json.hpp>

#include "mlhub/io.h"
#include "mlhub/models.h"

namespace mlhub::models {
namespace {

namespace fs = std::filesystem;
const fs::path kGolden = fs::path(MLHUB_SOURCE_DIR) / "tests" / "golden" / "decoders";

// A copy of golden case `name` in a temporary folder with its checkpoint keys renamed by
// `rename` (an empty result drops the key) and `extra` keys added.
fs::path legacy_checkpoint(const std::string& name,
                           const std::function<std::string(const std::string&)>& rename,
                           const std::vector<std::string>& extra) {
  const fs::path dir = fs::temp_directory_path() / ("mlhub_decoder_arch_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(kGolden / name / "config.json", dir / "config.json");
  auto ckpt = io::Checkpoint::open(kGolden / name);
  if (!ckpt.ok()) throw std::runtime_error(ckpt.status().to_string());
  std::map<std::string, Tensor> tensors;
  for (const std::string& key : ckpt->names()) {
    const std::string to = rename(key);
    if (!to.empty()) tensors[to] = ckpt->get(key);
  }
  for (const std::string& key : extra) tensors[key] = Tensor::zeros(DType::kF32, {2});
  const Status st = io::write_safetensors(dir / "model.safetensors", tensors);
  if (!st.ok()) throw std::runtime_error(st.to_string());
  return dir;
}

struct LegacyCase {
  std::string name;
  std::function<std::string(const std::string&)> rename;
  std::vector<std::string> extra;
  std::vector<std::string> unexpected;  // transformers' output_loading_info
};

// The expected reports are what transformers 4.57.3 gives for the same files:
//   m, info = GPT2LMHeadModel.from_pretrained(folder, output_loading_info=True)
// (non-persistent buffers and _keys_to_ignore_on_load_unexpected are not reported; per-layer
// rotary_emb.inv_freq keys are dropped for models with a rotary buffer; an unknown key is
// reported, without the base-model prefix transformers added to a prefix-less checkpoint).
TEST(DecoderLoadReport, LegacyBufferKeysAreIgnoredAsTransformersDoes) {
  const std::string kPrefix = "transformer.";
  const std::vector<LegacyCase> cases = {
      // The original GPT-2 checkpoints: no "transformer." prefix, no lm_head (tied), the attention
      // mask buffers saved.
      {"gpt2",
       [&](const std::string& k) {
         if (k == "lm_head.weight") return std::string();
         return k.rfind(kPrefix, 0) == 0 ? k.substr(kPrefix.size()) : k;
       },
       {"h.0.attn.bias", "h.1.attn.masked_bias", "h.0.attn.junk"},
       {"h.0.attn.junk"}},
      {"gpt_neox", [](const std::string& k) { return k; },
       {"gpt_neox.layers.0.attention.bias", "gpt_neox.layers.1.attention.masked_bias",
        "gpt_neox.layers.0.attention.rotary_emb.inv_freq", "gpt_neox.layers.0.attention.junk"},
       {"gpt_neox.layers.0.attention.junk"}},
      {"phi3", [](const std::string& k) { return k; },
       {"model.layers.0.self_attn.rotary_emb.inv_freq", "model.layers.0.self_attn.junk"},
       {"model.layers.0.self_attn.junk"}},
      {"gemma2", [](const std::string& k) { return k; },
       {"model.layers.1.self_attn.rotary_emb.inv_freq", "model.norm.junk"},
       {"model.norm.junk"}},
  };
  for (const LegacyCase& c : cases) {
    SCOPED_TRACE(c.name);
    const fs::path dir = legacy_checkpoint(c.name, c.rename, c.extra);
    auto model = load_decoder(dir);
    ASSERT_TRUE(model.ok()) << model.status().to_string();
    const nn::LoadReport& report = (*model)->load_report();
    EXPECT_TRUE(report.missing_keys.empty());
    EXPECT_TRUE(report.mismatched_keys.empty());
    EXPECT_EQ(report.unexpected_keys, c.unexpected);
    fs::remove_all(dir);
  }
}

TEST(DecoderLoadReport, MissingFusedWeightsAreNamed) {
  const fs::path dir = legacy_checkpoint(
      "phi3",
      [](const std::string& k) {
        return k == "model.layers.1.mlp.gate_up_proj.weight" ? std::string() : k;
      },
      {});
  auto model = load_decoder(dir);
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(model.status().message().find("model.layers.1.mlp.gate_up_proj.weight"),
            std::string::npos)
      << model.status().to_string();
  fs::remove_all(dir);
}

std::vector<int64_t> whole_sequence(const nlohmann::json& meta, int p) {
  auto seq = meta["prompts"][p].get<std::vector<int64_t>>();
  const auto gen = meta["greedy"][p].get<std::vector<int64_t>>();
  seq.insert(seq.end(), gen.begin(), gen.end());
  return seq;
}

nlohmann::json case_json(const std::string& name) {
  std::ifstream in(kGolden / name / "case.json");
  return nlohmann::json::parse(in);
}

// The logits of one full forward over `tokens` (all rows).
std::vector<float> full_forward(const DecoderModel& model, std::span<const int64_t> tokens) {
  KvCache cache = model.new_cache();
  const DecoderSequence s{tokens, &cache, true};
  return model.forward({&s, 1}).to_floats();
}

TEST(DecoderKvCache, RecordsTokenIds) {
  auto model = load_decoder(kGolden / "gpt2");
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  KvCache cache = (*model)->new_cache();
  const std::vector<int64_t> a = {5, 6, 7}, b = {9};
  const DecoderSequence first{a, &cache, false};
  (*model)->forward({&first, 1});
  const DecoderSequence second{b, &cache, false};
  (*model)->forward({&second, 1});
  EXPECT_EQ(cache.tokens(), (std::vector<int64_t>{5, 6, 7, 9}));
  KvCache copy = cache.clone();
  cache.truncate(2);
  EXPECT_EQ(cache.tokens(), (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(copy.tokens(), (std::vector<int64_t>{5, 6, 7, 9}));
}

// transformers' Phi-3 generation re-encodes a LongRoPE sequence once it passes the original
// context, so the cached path gives, at every step, the logits of one full forward over the
// sequence so far: the short factors up to original_max_position_embeddings tokens, the long
// ones after (bit for bit here: batched rows equal rows alone).
TEST(DecoderPhi3LongRope, CachedStepsEqualFullForwardOfEachPrefix) {
  const std::string name = "phi3-longrope";
  auto model = load_decoder(kGolden / name);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  const DecoderModel& m = **model;
  std::ifstream config_file(kGolden / name / "config.json");
  const nlohmann::json config = nlohmann::json::parse(config_file);
  const auto original = config["original_max_position_embeddings"].get<size_t>();
  const nlohmann::json meta = case_json(name);
  const std::vector<int64_t> seq = whole_sequence(meta, meta["full_logits_prompt"].get<int>());
  const size_t prompt = meta["prompts"][meta["full_logits_prompt"].get<int>()].size();
  ASSERT_LT(prompt, original);
  ASSERT_GT(seq.size(), original + 1);
  const int64_t v = m.vocab_size();

  KvCache cache = m.new_cache();
  const DecoderSequence pre{std::span<const int64_t>(seq.data(), prompt), &cache, true};
  std::vector<float> steps = m.forward({&pre, 1}).to_floats();
  for (size_t t = prompt; t < seq.size(); ++t) {
    const DecoderSequence next{std::span<const int64_t>(&seq[t], 1), &cache, false};
    const auto row = m.forward({&next, 1}).to_floats();
    steps.insert(steps.end(), row.begin(), row.end());
  }
  EXPECT_EQ(cache.tokens(), seq);

  const std::vector<float> short_rows = full_forward(m, {seq.data(), original});
  const std::vector<float> long_rows = full_forward(m, seq);
  const size_t split = original * static_cast<size_t>(v);
  ASSERT_EQ(steps.size(), long_rows.size());
  EXPECT_EQ(std::memcmp(steps.data(), short_rows.data(), split * 4), 0)
      << "rows before the original length";
  EXPECT_EQ(std::memcmp(steps.data() + split, long_rows.data() + split,
                        (steps.size() - split) * 4),
            0)
      << "rows from the original length on";
  // Without the re-encoding the rows past the original length would differ (the keys cached
  // with the short factors): the two regimes do give different logits.
  EXPECT_NE(std::memcmp(short_rows.data(), long_rows.data(), split * 4), 0);
}

// A sequence that crosses in a ragged batch, with all_logits, returns only its new tokens' rows.
TEST(DecoderPhi3LongRope, CrossingInsideABatchReturnsOnlyTheNewRows) {
  const std::string name = "phi3-longrope";
  auto model = load_decoder(kGolden / name);
  ASSERT_TRUE(model.ok()) << model.status().to_string();
  const DecoderModel& m = **model;
  const nlohmann::json meta = case_json(name);
  const std::vector<int64_t> a = whole_sequence(meta, 1), b = whole_sequence(meta, 0);
  KvCache ca = m.new_cache(), cb = m.new_cache();
  const DecoderSequence pa{std::span<const int64_t>(a.data(), 30), &ca, false};
  const DecoderSequence pb{std::span<const int64_t>(b.data(), 5), &cb, false};
  m.forward({&pa, 1});
  m.forward({&pb, 1});
  // a goes from 30 to 35 tokens (past 32), b from 5 to 8.
  const DecoderSequence step[2] = {{std::span<const int64_t>(a.data() + 30, 5), &ca, true},
                                   {std::span<const int64_t>(b.data() + 5, 3), &cb, true}};
  const Tensor got = m.forward(step);
  ASSERT_EQ(got.dim(0), 8);
  const int64_t v = m.vocab_size();
  const auto rows = got.to_floats();
  const auto want_a = full_forward(m, {a.data(), 35});
  const auto want_b = full_forward(m, {b.data(), 8});
  EXPECT_EQ(std::memcmp(rows.data(), want_a.data() + 30 * v, 5 * v * 4), 0);
  EXPECT_EQ(std::memcmp(rows.data() + 5 * v, want_b.data() + 5 * v, 3 * v * 4), 0);
  EXPECT_EQ(ca.length(), 35);
  EXPECT_EQ(cb.length(), 8);
}

}  // namespace
}  // namespace mlhub::models
