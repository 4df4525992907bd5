// GenerationConfig: generation_config.json parsing, the config.json fallback, generate(**kwargs)
// overrides, validation and the length rules of transformers' _prepare_generated_length.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "fake_model.h"

namespace mlhub::generation {
namespace {

using nlohmann::json;

TEST(GenerationConfigTest, ParsesGenerationConfigJson) {
  auto c = GenerationConfig::from_json(json::parse(R"({
    "bos_token_id": 1, "eos_token_id": [2, 32000], "pad_token_id": null, "do_sample": true,
    "temperature": 0.6, "top_p": 0.9, "max_length": 4096, "transformers_version": "4.57.3",
    "early_stopping": "never", "stop_strings": "###", "min_p": 0.05 })"));
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->bos_token_id, 1);
  EXPECT_EQ(c->eos_token_id, (std::vector<int64_t>{2, 32000}));
  EXPECT_FALSE(c->pad_token_id.has_value());
  EXPECT_EQ(c->resolved_pad_token_id(), 2);  // transformers falls back to eos_token_id[0]
  EXPECT_TRUE(c->do_sample);
  EXPECT_EQ(c->temperature, 0.6);
  EXPECT_EQ(c->top_k, 50);  // the default
  EXPECT_EQ(c->early_stopping, EarlyStopping::kNever);
  EXPECT_EQ(c->stop_strings, std::vector<std::string>{"###"});
  EXPECT_EQ(c->min_p, 0.05);
  EXPECT_EQ(c->resolved_max_length(10, 100000), 4096);  // a stored max_length is a total
  EXPECT_EQ(c->resolved_max_length(10, 2048), 2048);    // capped by the model
}

TEST(GenerationConfigTest, DefaultLengthIsTwentyNewTokens) {
  GenerationConfig c;
  EXPECT_EQ(c.resolved_max_length(7, 1000), 27);
  // A stored max_length of 20 is transformers' default, so it still means 20 new tokens...
  auto stored = GenerationConfig::from_json(json::parse(R"({"max_length": 20})"));
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->resolved_max_length(7, 1000), 27);
  // ...but max_length=20 passed to generate() is a total.
  ASSERT_TRUE(c.update(json::parse(R"({"max_length": 20})")).ok());
  EXPECT_EQ(c.resolved_max_length(7, 1000), 20);
  ASSERT_TRUE(c.update(json::parse(R"({"max_new_tokens": 5})")).ok());
  EXPECT_EQ(c.resolved_max_length(7, 1000), 12);  // max_new_tokens wins
  EXPECT_EQ(c.resolved_min_length(7), 0);
  ASSERT_TRUE(c.update(json::parse(R"({"min_length": 3, "min_new_tokens": 4})")).ok());
  EXPECT_EQ(c.resolved_min_length(7), 11);  // min_new_tokens wins
}

TEST(GenerationConfigTest, OverridesAndValidation) {
  GenerationConfig c;
  EXPECT_FALSE(c.update(json::parse(R"({"no_such_flag": 1})")).ok());
  EXPECT_FALSE(c.update(json::parse(R"({"top_k": "ten"})")).ok());
  ASSERT_TRUE(c.update(json::parse(R"({"eos_token_id": 7, "early_stopping": true, "num_beams": 4,
                                       "num_return_sequences": 2, "length_penalty": 0.5})"))
                  .ok());
  EXPECT_EQ(c.eos_token_id, std::vector<int64_t>{7});
  EXPECT_EQ(c.early_stopping, EarlyStopping::kTrue);
  EXPECT_TRUE(c.validate().ok());
  c.num_return_sequences = 5;
  EXPECT_FALSE(c.validate().ok());
  c = GenerationConfig();
  c.do_sample = true;
  c.temperature = 0;
  EXPECT_FALSE(c.validate().ok());
  c.do_sample = false;  // transformers ignores warpers without sampling
  EXPECT_TRUE(c.validate().ok());
  c.max_new_tokens = 0;
  EXPECT_FALSE(c.validate().ok());
  // to_json round-trips.
  GenerationConfig d;
  d.eos_token_id = {2, 3};
  d.early_stopping = EarlyStopping::kNever;
  d.seed = 9;
  auto e = GenerationConfig::from_json(d.to_json());
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->to_json(), d.to_json());
}

TEST(GenerationConfigTest, LoadFallsBackToConfigJson) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("mlhub_genconfig_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json")
      << R"({"model_type": "llama", "bos_token_id": 1, "eos_token_id": 2,
                                           "pad_token_id": 0, "max_position_embeddings": 2048})";
  auto c = GenerationConfig::load(dir);
  ASSERT_TRUE(c.ok()) << c.status().to_string();
  EXPECT_EQ(c->eos_token_id, std::vector<int64_t>{2});
  EXPECT_EQ(c->pad_token_id, 0);
  std::ofstream(dir / "generation_config.json") << R"({"eos_token_id": [2, 5], "do_sample": true})";
  c = GenerationConfig::load(dir);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->eos_token_id, (std::vector<int64_t>{2, 5}));
  EXPECT_FALSE(c->pad_token_id.has_value());  // not taken from config.json (transformers neither)
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mlhub::generation
