// Stop strings: transformers' StopStringCriteria on real tokenizers (stop_strings.json), the
// matcher's overlap rule on hand-made token strings, and stop_strings in generate().
#include <gtest/gtest.h>

#include "fake_model.h"

namespace mlhub::generation {
namespace {

using nlohmann::json;
using testing::FakeDecoder;

std::string tokenizer_path(const std::string& name) {
  return std::string(MLHUB_SHARED_DIR) + "/data/tokenizers/" + name + "/tokenizer.json";
}

TEST(StoppingTest, StopStringsMatchTransformersOnRealTokenizers) {
  const json g = testing::load_golden("stop_strings.json");
  std::map<std::string, std::shared_ptr<const std::vector<std::string>>> tables;
  for (const json& c : g) {
    const std::string name = c["tokenizer"];
    if (!tables.count(name)) {
      auto tok = tok::Tokenizer::from_file(tokenizer_path(name));
      ASSERT_TRUE(tok.ok()) << tok.status().to_string();
      auto t = token_strings_for(*tok);
      ASSERT_TRUE(t.ok()) << t.status().to_string();
      tables[name] = std::make_shared<const std::vector<std::string>>(std::move(*t));
    }
    StopStringMatcher m(c["stop_strings"].get<std::vector<std::string>>(), tables[name]);
    const auto ids = c["ids"].get<std::vector<int64_t>>();
    const auto want = c["matches"].get<std::vector<bool>>();
    for (size_t n = 1; n <= ids.size(); ++n) {
      EXPECT_EQ(m.matches(std::span<const int64_t>(ids.data(), n)), want[n - 1])
          << name << ": \"" << c["text"].get<std::string>() << "\" prefix of " << n << " tokens";
    }
  }
}

TEST(StoppingTest, StopStringMustOverlapTheLastToken) {
  auto table = std::make_shared<const std::vector<std::string>>(std::vector<std::string>{
      "st", "op", "opera", "sto", "pper", "las", "topper", "s", "to", "pped", "at", "stop", ""});
  StopStringMatcher m({"stop"}, table);
  auto t = [&](std::vector<int64_t> ids) { return m.matches(ids); };
  // transformers' docstring examples.
  EXPECT_TRUE(t({0, 1}));       // st op
  EXPECT_TRUE(t({11}));         // stop
  EXPECT_TRUE(t({0, 2}));       // st opera
  EXPECT_TRUE(t({3, 4}));       // sto pper
  EXPECT_TRUE(t({5, 6}));       // las topper
  EXPECT_TRUE(t({7, 8, 9}));    // s to pped
  EXPECT_FALSE(t({11, 10}));    // stop at
  EXPECT_FALSE(t({0, 1, 10}));  // st op at
  EXPECT_FALSE(t({1}));         // op (the tokens run out before "st")
  EXPECT_FALSE(t({11, 12}));    // an empty last token overlaps nothing
}

TEST(StoppingTest, GenerateStopsOnAStopStringAcrossTokens) {
  // gpt2 ids 0..31 are single characters, so the fake model's tokens decode to text.
  auto tok = tok::Tokenizer::from_file(tokenizer_path("gpt2"));
  ASSERT_TRUE(tok.ok());
  FakeDecoder model;
  GenerationConfig c;
  c.max_new_tokens = 12;
  c.eos_token_id = {testing::kEos};
  auto plain = generate(model, {{5, 9, 3}}, c);
  ASSERT_TRUE(plain.ok());
  const auto& gen = (*plain)[0].sequences[0].tokens;  // 28 14 16 28 14 ...
  ASSERT_GE(gen.size(), 5u);
  // Stop on the text of generated tokens 2..3; they span two tokens.
  std::vector<uint32_t> ids = {static_cast<uint32_t>(gen[2]), static_cast<uint32_t>(gen[3])};
  auto text = tok->decode(ids);
  ASSERT_TRUE(text.ok());
  c.stop_strings = {*text};
  GenerateOptions opts;
  opts.tokenizer = &*tok;
  auto stopped = generate(model, {{5, 9, 3}}, c, opts);
  ASSERT_TRUE(stopped.ok()) << stopped.status().to_string();
  const auto& s = (*stopped)[0].sequences[0];
  EXPECT_EQ(s.finish_reason, FinishReason::kStopString);
  EXPECT_EQ(s.tokens, std::vector<int64_t>(gen.begin(), gen.begin() + 4));
  // Beam search stops the same hypotheses.
  c.num_beams = 2;
  auto beams = generate(model, {{5, 9, 3}}, c, opts);
  ASSERT_TRUE(beams.ok());
  for (const auto& b : (*beams)[0].sequences) {
    std::vector<uint32_t> all = {5, 9, 3};
    all.insert(all.end(), b.tokens.begin(), b.tokens.end());
    auto t = tok->decode(all);
    ASSERT_TRUE(t.ok());
    const bool ends_with_stop =
        t->size() >= text->size() && t->find(*text, t->size() - text->size()) != std::string::npos;
    EXPECT_EQ(b.finish_reason == FinishReason::kStopString, ends_with_stop) << *t;
  }
}

}  // namespace
}  // namespace mlhub::generation
