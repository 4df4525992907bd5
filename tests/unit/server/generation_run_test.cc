// The generation routes' engine plumbing (generation_run.h) on a real GenerationEngine over the
// tiny llama: prompts prepared as the model tokenizes them, every event of concurrent requests
// collected (their text adds up to the outcome's), cancellation when the client leaves or a send
// fails, and the prompt log-probabilities TGI's prefill reports.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "inference_test_util.h"
#include "server/inference/generation_run.h"

namespace mlhub::inference::gen {
namespace {

using testing::llama_folder;

class GenerationRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto lm = LanguageModel::load(llama_folder());
    ASSERT_TRUE(lm.ok()) << lm.status().message();
    lm_ = *lm;
  }
  static void TearDownTestSuite() { lm_.reset(); }
  void SetUp() override {
    ASSERT_TRUE(lm_) << "the tiny llama did not load";
    owned_ = std::make_unique<GenerationEngine>(lm_, GenerationOptions{});
  }

  static std::shared_ptr<const LanguageModel> lm_;
  std::unique_ptr<GenerationEngine> owned_;
  GenerationEngine& engine() { return *owned_; }
};

std::shared_ptr<const LanguageModel> GenerationRun::lm_;

GenParams greedy(int64_t new_tokens) {
  GenParams p;
  p.max_new_tokens = new_tokens;
  return p;
}

std::string concat(const std::vector<TokenEvent>& events) {
  std::string s;
  for (const TokenEvent& e : events) s += e.text;
  return s;
}

TEST_F(GenerationRun, PreparesPromptsAsTheModelTokenizesThem) {
  const Prepared p = prepare_text(engine(), "Hello, my name is", greedy(7), kDefaultMaxNewTokens);
  EXPECT_EQ(p.prompt, *lm_->encode("Hello, my name is"));
  EXPECT_EQ(p.config.max_new_tokens, 7);
  EXPECT_FALSE(p.config.do_sample);

  GenParams truncated = greedy(3);
  truncated.truncate = 2;
  EXPECT_EQ(prepare_text(engine(), "Hello, my name is", truncated, 16).prompt,
            std::vector<int64_t>(p.prompt.end() - 2, p.prompt.end()));

  const nlohmann::ordered_json chat = {{{"role", "user"}, {"content", "Hi there!"}}};
  EXPECT_EQ(prepare_chat(engine(), chat, greedy(3), 16).prompt, *lm_->chat_prompt(chat));

  try {
    std::string long_text;
    for (int i = 0; i < 600; ++i) long_text += "hello ";
    prepare_text(engine(), long_text, greedy(3), 16);
    ADD_FAILURE() << "a prompt longer than the context was accepted";
  } catch (const InferenceError& e) {
    EXPECT_EQ(e.kind, ErrorKind::kValidation);
    EXPECT_NE(std::string(e.what()).find("must have less than 511 tokens"), std::string::npos)
        << e.what();
  }
}

TEST_F(GenerationRun, CollectsEveryEventOfConcurrentRequests) {
  const std::vector<std::string> texts = {"Hello, my name is", "The capital of France is",
                                          "it in in"};
  std::vector<Running> alone, together;
  for (const std::string& t : texts) {
    const Prepared p = prepare_text(engine(), t, greedy(12), 16);
    std::vector<Running> one;
    one.push_back(Running{engine().submit(p.prompt, p.config), {}, false});
    ASSERT_TRUE(wait_all(one, nullptr));
    alone.push_back(std::move(one.front()));
    together.push_back(Running{engine().submit(p.prompt, p.config), {}, false});
  }
  std::vector<size_t> seen(texts.size(), 0);
  ASSERT_TRUE(wait_all(
      together, [] { return false; },
      [&](size_t i, const TokenEvent& e) {
        EXPECT_EQ(e.index, seen[i]) << "events of request " << i << " out of order";
        ++seen[i];
        return true;
      }));
  for (size_t i = 0; i < texts.size(); ++i) {
    const GenerationOutcome a = outcome_of(alone[i].handle), t = outcome_of(together[i].handle);
    EXPECT_EQ(t.tokens, a.tokens) << texts[i];
    EXPECT_EQ(together[i].events.size(), t.tokens.size());
    EXPECT_EQ(seen[i], t.tokens.size());
    EXPECT_EQ(concat(together[i].events) + flushed_tail(t, concat(together[i].events)), t.text);
    EXPECT_EQ(t.text, a.text);
  }
}

TEST_F(GenerationRun, CancelsWhenTheClientLeavesOrASendFails) {
  const Prepared p =
      prepare_text(engine(), "Hello, my name is", greedy(400), kDefaultMaxNewTokens);
  std::vector<Running> runs;
  runs.push_back(Running{engine().submit(p.prompt, p.config), {}, false});
  std::atomic<bool> gone = false;
  EXPECT_FALSE(wait_all(
      runs, [&] { return gone.load(); },
      [&](size_t, const TokenEvent& e) {
        if (e.index == 1) gone = true;
        return true;
      }));
  // The engine ends the request (cancelled) instead of generating its 400 tokens.
  while (!runs[0].handle.finished()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const GenerationOutcome out = outcome_of(runs[0].handle);
  EXPECT_EQ(out.finish_reason, generation::FinishReason::kCancelled);
  EXPECT_LT(out.tokens.size(), 100u);

  std::vector<Running> sent;
  sent.push_back(Running{engine().submit(p.prompt, p.config), {}, false});
  EXPECT_FALSE(wait_all(sent, nullptr, [](size_t, const TokenEvent& e) { return e.index < 2; }));
  EXPECT_EQ(sent[0].events.size(), 3u);
  while (!sent[0].handle.finished()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(outcome_of(sent[0].handle).finish_reason, generation::FinishReason::kCancelled);
  for (int i = 0; i < 200 && engine().running() + engine().queued() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(engine().running() + engine().queued(), 0u);
}

TEST_F(GenerationRun, PromptLogprobsAgreeWithTheEnginesFirstToken) {
  // Greedy without penalties: the first token's logprob is the raw distribution's, which is what
  // the prefill computes for a token appended to the prompt.
  const Prepared p = prepare_text(engine(), "The capital of France is", greedy(1), 16);
  std::vector<Running> runs;
  runs.push_back(Running{engine().submit(p.prompt, p.config), {}, false});
  ASSERT_TRUE(wait_all(runs, nullptr));
  ASSERT_EQ(runs[0].events.size(), 1u);
  const TokenEvent& first = runs[0].events[0];

  std::vector<int64_t> ids = p.prompt;
  ids.push_back(first.id);
  const std::vector<float> lp = prompt_logprobs(*lm_, ids);
  ASSERT_EQ(lp.size(), ids.size() - 1);
  EXPECT_NEAR(lp.back(), first.logprob, 1e-4);
  for (const float x : lp) EXPECT_LE(x, 0.0f);
  // Chunked (long prompts) and whole agree: 150 tokens cross the 64-token chunks.
  std::vector<int64_t> longer;
  while (longer.size() < 150) longer.insert(longer.end(), ids.begin(), ids.end());
  const std::vector<float> lp_long = prompt_logprobs(*lm_, longer);
  ASSERT_EQ(lp_long.size(), longer.size() - 1);
  for (size_t i = 0; i + 1 < ids.size(); ++i) EXPECT_NEAR(lp_long[i], lp[i], 1e-4) << i;
  EXPECT_TRUE(prompt_logprobs(*lm_, std::vector<int64_t>{ids[0]}).empty());
}

}  // namespace
}  // namespace mlhub::inference::gen
