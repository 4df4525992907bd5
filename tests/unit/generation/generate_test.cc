// generate() against transformers' generate() on the fake LM (tests/golden/generation/
// generate.json): greedy and beam search, processors, eos lists, lengths; batches equal single
// prompts; one forward per step; the Generator's continuous batching.
#include <gtest/gtest.h>

#include <cmath>

#include "fake_model.h"

namespace mlhub::generation {
namespace {

using nlohmann::json;
using testing::FakeDecoder;
using testing::load_golden;

// Our tokens, filled to the width of transformers' row.
std::vector<int64_t> filled(const GeneratedSequence& s, size_t width, int64_t fill) {
  std::vector<int64_t> out = s.tokens;
  if (out.size() < width) out.resize(width, fill);
  return out;
}

class GoldenGenerate : public ::testing::TestWithParam<std::string> {};

TEST_P(GoldenGenerate, MatchesTransformers) {
  const json g = load_golden("generate.json");
  const json* found = nullptr;
  for (const json& c : g["cases"]) {
    if (c["name"] == GetParam()) found = &c;
  }
  ASSERT_NE(found, nullptr);
  const json& c = *found;
  GenerationConfig config;
  config.eos_token_id = {testing::kEos};
  config.pad_token_id = testing::kPad;
  ASSERT_TRUE(config.update(c["kwargs"]).ok()) << c["kwargs"].dump();
  const auto prompts = c["prompts"].get<std::vector<std::vector<int64_t>>>();
  FakeDecoder model;
  auto results = generate(model, prompts, config);
  ASSERT_TRUE(results.ok()) << results.status().to_string();
  ASSERT_EQ(results->size(), prompts.size());
  const int64_t fill = c["fill"];
  for (size_t p = 0; p < prompts.size(); ++p) {
    const json& want = c["expected"][p];
    const auto& seqs = (*results)[p].sequences;
    ASSERT_EQ(seqs.size(), want["rows"].size()) << "prompt " << p;
    for (size_t i = 0; i < seqs.size(); ++i) {
      const auto row = want["rows"][i].get<std::vector<int64_t>>();
      EXPECT_EQ(filled(seqs[i], row.size(), fill), row)
          << GetParam() << " prompt " << p << " sequence " << i;
      EXPECT_LE(seqs[i].tokens.size(), row.size());
      if (want.contains("scores")) {
        const float ws = testing::golden_float(want["scores"][i]);
        EXPECT_NEAR(seqs[i].score, ws, 2e-5f * std::max(1.0f, std::fabs(ws)))
            << GetParam() << " prompt " << p << " sequence " << i;
      }
      // The finish reason agrees with the tokens.
      const auto& eos = config.eos_token_id;
      const bool ends_eos = !seqs[i].tokens.empty() &&
                            std::find(eos.begin(), eos.end(), seqs[i].tokens.back()) != eos.end();
      EXPECT_EQ(seqs[i].finish_reason, ends_eos ? FinishReason::kEos : FinishReason::kLength);
    }
  }
}

std::vector<std::string> case_names() {
  std::vector<std::string> names;
  const json g = load_golden("generate.json");
  for (const json& c : g["cases"]) names.push_back(c["name"]);
  return names;
}

INSTANTIATE_TEST_SUITE_P(Transformers, GoldenGenerate, ::testing::ValuesIn(case_names()),
                         [](const auto& info) { return info.param; });

GenerationConfig base_config() {
  GenerationConfig c;
  c.eos_token_id = {testing::kEos};
  c.pad_token_id = testing::kPad;
  c.max_new_tokens = 12;
  return c;
}

const std::vector<std::vector<int64_t>> kPrompts = {{5, 9, 3}, {7}, {11, 4, 4, 8, 20}, {30, 29}};

void expect_batch_equals_single(const GenerationConfig& config) {
  FakeDecoder model;
  auto batch = generate(model, kPrompts, config);
  ASSERT_TRUE(batch.ok()) << batch.status().to_string();
  for (size_t p = 0; p < kPrompts.size(); ++p) {
    auto single = generate(model, {kPrompts[p]}, config);
    ASSERT_TRUE(single.ok());
    const auto& a = (*batch)[p].sequences;
    const auto& b = (*single)[0].sequences;
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(a[i].tokens, b[i].tokens) << "prompt " << p;
      EXPECT_EQ(a[i].score, b[i].score);
      EXPECT_EQ(a[i].finish_reason, b[i].finish_reason);
    }
  }
}

TEST(GenerateTest, BatchEqualsSinglePrompt) {
  GenerationConfig c = base_config();
  c.repetition_penalty = 1.4;
  c.no_repeat_ngram_size = 3;
  expect_batch_equals_single(c);
  c.num_beams = 3;
  c.num_return_sequences = 2;
  expect_batch_equals_single(c);
  c = base_config();
  c.do_sample = true;
  c.seed = 7;
  c.num_return_sequences = 3;
  expect_batch_equals_single(c);
}

TEST(GenerateTest, OneForwardPerStepOverTheWholeBatch) {
  FakeDecoder model;
  GenerationConfig c = base_config();
  c.eos_token_id.clear();  // every prompt runs the full 12 steps
  auto r = generate(model, kPrompts, c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(model.forwards.load(), 12);
  EXPECT_EQ(model.max_batch.load(), 4);
  // Beam search: the prompt is prefilled once, then num_beams rows per prompt.
  FakeDecoder beams;
  c.num_beams = 3;
  r = generate(beams, kPrompts, c);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(beams.forwards.load(), 12);
  EXPECT_EQ(beams.max_batch.load(), 12);
}

TEST(GenerateTest, StreamsTokensAsGenerated) {
  FakeDecoder model;
  std::vector<std::vector<int64_t>> seen(kPrompts.size());
  GenerateOptions opts;
  opts.on_token = [&](size_t prompt, size_t index, int64_t token) {
    EXPECT_EQ(index, 0u);
    seen[prompt].push_back(token);
  };
  auto r = generate(model, kPrompts, base_config(), opts);
  ASSERT_TRUE(r.ok());
  for (size_t p = 0; p < kPrompts.size(); ++p) EXPECT_EQ(seen[p], (*r)[p].sequences[0].tokens);
}

TEST(GenerateTest, GeneratorAcceptsRequestsBetweenSteps) {
  FakeDecoder model;
  const GenerationConfig c = base_config();
  GenerationConfig beams = c;
  beams.num_beams = 2;
  Generator gen(model);
  auto a = gen.add(kPrompts[0], c);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(gen.step().ok());
  ASSERT_TRUE(gen.step().ok());
  auto b = gen.add(kPrompts[2], beams);  // joins a running batch
  auto d = gen.add(kPrompts[3], c);
  ASSERT_TRUE(b.ok() && d.ok());
  ASSERT_TRUE(gen.step().ok());
  gen.cancel(*d);
  while (gen.has_running()) ASSERT_TRUE(gen.step().ok());
  auto ra = gen.take(*a), rb = gen.take(*b), rd = gen.take(*d);
  ASSERT_TRUE(ra.ok() && rb.ok() && rd.ok());
  EXPECT_FALSE(gen.take(*a).ok());  // once
  FakeDecoder fresh;
  auto alone_a = generate(fresh, {kPrompts[0]}, c);
  auto alone_b = generate(fresh, {kPrompts[2]}, beams);
  EXPECT_EQ(ra->sequences[0].tokens, (*alone_a)[0].sequences[0].tokens);
  EXPECT_EQ(rb->sequences[0].tokens, (*alone_b)[0].sequences[0].tokens);
  EXPECT_EQ(rd->sequences[0].finish_reason, FinishReason::kCancelled);
  EXPECT_EQ(rd->sequences[0].tokens.size(), 1u);
}

TEST(GenerateTest, RejectsBadRequests) {
  FakeDecoder model;
  GenerationConfig c = base_config();
  EXPECT_EQ(generate(model, {{}}, c).status().code(), StatusCode::kInvalidArgument);  // no bos
  c.bos_token_id = 0;
  EXPECT_TRUE(generate(model, {{}}, c).ok());
  EXPECT_EQ(generate(model, {{40}}, c).status().code(), StatusCode::kInvalidArgument);  // vocab
  c.stop_strings = {"x"};
  EXPECT_EQ(generate(model, {{3}}, c).status().code(),
            StatusCode::kInvalidArgument);  // no tokenizer
  c = base_config();
  c.max_new_tokens.reset();
  c.max_length = 3;
  EXPECT_EQ(generate(model, {{3, 4, 5}}, c).status().code(), StatusCode::kInvalidArgument);
  c = base_config();
  c.num_return_sequences = 2;  // greedy
  EXPECT_EQ(generate(model, {{3}}, c).status().code(), StatusCode::kInvalidArgument);
}

TEST(GenerateTest, LengthIsCappedByTheModelContext) {
  FakeDecoder model;
  GenerationConfig c = base_config();
  c.eos_token_id.clear();
  c.max_new_tokens = 500;
  auto r = generate(model, {{3, 4}}, c);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ((*r)[0].sequences[0].tokens.size(), static_cast<size_t>(testing::kMaxPositions - 2));
  EXPECT_EQ((*r)[0].sequences[0].finish_reason, FinishReason::kLength);
}

}  // namespace
}  // namespace mlhub::generation

namespace mlhub::generation {
namespace {

// Event::logprob is log_softmax(processed scores)[token]: for greedy decoding the scores are the
// raw logits of the fake LM (no processor changes them), so it is recomputed here from
// fake_logits; the events' sum equals the sequence's score.
TEST(GenerateTest, GeneratorEventsCarryTheTokenLogprob) {
  testing::FakeDecoder model;
  GenerationConfig c = base_config();
  Generator gen(model);
  const std::vector<int64_t> prompt = kPrompts[1];
  auto id = gen.add(prompt, c);
  ASSERT_TRUE(id.ok());
  std::vector<int64_t> tokens = prompt;
  double sum = 0;
  size_t events = 0;
  while (gen.has_running()) {
    auto step = gen.step();
    ASSERT_TRUE(step.ok());
    for (const auto& e : *step) {
      std::vector<float> row(testing::kVocab);
      const int64_t pos = static_cast<int64_t>(tokens.size()) - 1;
      const int64_t prev = tokens.size() > 1 ? tokens[tokens.size() - 2] : testing::kVocab;
      testing::fake_logits(tokens.back(), prev, pos, row.data());
      log_softmax_inplace(row);
      EXPECT_TRUE(std::isfinite(e.logprob));
      EXPECT_LE(e.logprob, 0.0f);
      EXPECT_FLOAT_EQ(e.logprob, row[e.token]) << "token " << events;
      sum += e.logprob;
      tokens.push_back(e.token);
      ++events;
    }
  }
  ASSERT_GT(events, 1u);
  auto r = gen.take(*id);
  ASSERT_TRUE(r.ok());
  EXPECT_NEAR(r->sequences[0].score, sum, 1e-3);
}

}  // namespace
}  // namespace mlhub::generation
