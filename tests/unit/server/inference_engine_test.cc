// The inference engine's batching: EncoderQueue (dynamic batches from whatever queued while the
// previous batch ran; each request gets exactly what Pipeline::run gives its input alone) and
// GenerationEngine (continuous batching: concurrent requests get generation::generate()'s tokens
// for their prompt alone, requests join a running batch, cancel, overload, validation).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <set>
#include <thread>

#include "inference_test_util.h"
#include "server/inference/engine.h"

namespace mlhub::inference {
namespace {

using namespace std::chrono_literals;
using testing::GatedPipeline;
using testing::kModels;
namespace fs = std::filesystem;

std::shared_ptr<const Pipeline> load_pipeline(const std::string& task, const std::string& model) {
  auto p = pipeline(task, kModels / model);
  EXPECT_TRUE(p.ok()) << p.status().to_string();
  return std::shared_ptr<const Pipeline>(std::move(*p));
}

const std::function<bool()> kNeverGone = [] { return false; };

using testing::kind_of;

// ---- EncoderQueue ------------------------------------------------------------------------------

TEST(EncoderQueueTest, ConcurrentRequestsBatchAndEqualRunAlone) {
  auto real = load_pipeline("text-classification", "bert-tiny-sentiment");
  auto gated = std::make_shared<GatedPipeline>(real);
  std::atomic<size_t> batches{0}, biggest{0}, inputs_seen{0};
  QueueOptions opts;
  opts.on_batch = [&](size_t size, double seconds) {
    ++batches;
    inputs_seen += size;
    size_t b = biggest.load();
    while (size > b && !biggest.compare_exchange_weak(b, size)) {
    }
    EXPECT_GE(seconds, 0.0);
  };
  EncoderQueue queue(gated, opts);
  constexpr int kThreads = 12;
  std::vector<std::string> texts;
  for (int i = 0; i < kThreads; ++i) {
    texts.push_back("request number " + std::to_string(i) + (i % 3 ? " is great" : " was awful") +
                    std::string(static_cast<size_t>(i), '!'));
  }
  std::vector<json> got(kThreads);
  std::vector<RunStats> stats(kThreads);
  std::vector<std::thread> threads;
  // The first request's batch is held until every other request is queued behind it, so the
  // second batch must take them all (same parameters, within the budgets).
  threads.emplace_back([&] { got[0] = queue.run({texts[0]}, json::object(), kNeverGone, &stats[0])[0]; });
  gated->wait_entered(1);
  for (int i = 1; i < kThreads; ++i) {
    threads.emplace_back(
        [&, i] { got[i] = queue.run({texts[i]}, json::object(), kNeverGone, &stats[i])[0]; });
  }
  while (queue.queued() < kThreads - 1) std::this_thread::sleep_for(1ms);
  gated->open();
  for (auto& t : threads) t.join();

  EXPECT_EQ(batches.load(), 2u);
  EXPECT_EQ(biggest.load(), static_cast<size_t>(kThreads - 1));
  EXPECT_EQ(inputs_seen.load(), static_cast<size_t>(kThreads));
  for (int i = 0; i < kThreads; ++i) {
    EXPECT_EQ(got[i], real->run(texts[i])) << texts[i];
    EXPECT_EQ(stats[i].batch_size, i == 0 ? 1u : static_cast<size_t>(kThreads - 1));
    EXPECT_EQ(stats[i].input_tokens, real->count_tokens(texts[i]));
    EXPECT_GT(stats[i].input_tokens, 2);
    EXPECT_GE(stats[i].queue_ms, 0.0);
  }
}

TEST(EncoderQueueTest, OnlyEqualParametersShareABatchAndBudgetsSplitBatches) {
  auto real = load_pipeline("text-classification", "bert-tiny-sentiment");
  auto gated = std::make_shared<GatedPipeline>(real);
  QueueOptions opts;
  opts.max_batch_requests = 3;
  EncoderQueue queue(gated, opts);
  std::vector<std::thread> threads;
  std::vector<json> got(8);
  const json top2 = {{"top_k", 2}};
  threads.emplace_back([&] { got[0] = queue.run({"first"}, json::object(), kNeverGone)[0]; });
  gated->wait_entered(1);
  for (int i = 1; i < 8; ++i) {
    threads.emplace_back([&, i] {
      const json& params = i % 2 ? top2 : json::object();
      got[i] = queue.run({"text " + std::to_string(i)}, params, kNeverGone)[0];
    });
    while (queue.queued() < static_cast<size_t>(i)) std::this_thread::sleep_for(1ms);
  }
  gated->open();
  for (auto& t : threads) t.join();
  // Queue order 1(top2) 2 3(top2) 4 5(top2) 6 7(top2): batches of at most 3 equal-params inputs.
  const auto b = gated->batches();
  ASSERT_EQ(b.size(), 4u);
  EXPECT_EQ(b[1], (std::vector<json>{"text 1", "text 3", "text 5"}));
  EXPECT_EQ(b[2], (std::vector<json>{"text 2", "text 4", "text 6"}));
  EXPECT_EQ(b[3], (std::vector<json>{"text 7"}));
  for (int i = 1; i < 8; ++i) {
    EXPECT_EQ(got[i], real->run("text " + std::to_string(i), i % 2 ? top2 : json::object()));
  }
  EXPECT_EQ(got[1].size(), 2u);  // top_k 2: two labels
}

TEST(EncoderQueueTest, FullQueueIsOverloaded) {
  auto gated = std::make_shared<GatedPipeline>(load_pipeline("text-classification", "bert-tiny-sentiment"));
  QueueOptions opts;
  opts.max_queued_requests = 2;
  EncoderQueue queue(gated, opts);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  threads.emplace_back([&] { ok += queue.run({"a"}, json::object(), kNeverGone).size(); });
  gated->wait_entered(1);  // running: no longer queued
  for (const char* t : {"b", "c"}) {
    threads.emplace_back([&, t] { ok += queue.run({t}, json::object(), kNeverGone).size(); });
  }
  while (queue.queued() < 2) std::this_thread::sleep_for(1ms);
  try {
    queue.run({"d"}, json::object(), kNeverGone);
    ADD_FAILURE() << "a full queue accepted a request";
  } catch (const InferenceError& e) {
    EXPECT_EQ(e.kind, ErrorKind::kOverloaded);
    EXPECT_GT(e.retry_after_seconds, 0);
  }
  gated->open();
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 3);
}

TEST(EncoderQueueTest, GoneRequestIsDroppedBeforeItsBatchRuns) {
  auto real = load_pipeline("text-classification", "bert-tiny-sentiment");
  auto gated = std::make_shared<GatedPipeline>(real);
  EncoderQueue queue(gated, QueueOptions{});
  std::atomic<bool> gone{false};
  std::thread first([&] { queue.run({"holding the worker"}, json::object(), kNeverGone); });
  gated->wait_entered(1);
  std::atomic<int> dropped{0};
  json kept;
  std::thread leaver([&] {
    try {
      queue.run({"the client hung up"}, json::object(), [&] { return gone.load(); });
    } catch (const InferenceError& e) {
      if (e.kind == ErrorKind::kUnavailable) ++dropped;
    }
  });
  std::thread stayer([&] { kept = queue.run({"still here"}, json::object(), kNeverGone)[0]; });
  while (queue.queued() < 2) std::this_thread::sleep_for(1ms);
  gone = true;
  std::this_thread::sleep_for(120ms);  // the waiting caller notices within its 50 ms poll
  gated->open();
  first.join();
  leaver.join();
  stayer.join();
  EXPECT_EQ(dropped.load(), 1);
  EXPECT_EQ(kept, real->run("still here"));
  for (const auto& batch : gated->batches()) {
    for (const json& in : batch) EXPECT_NE(in, "the client hung up");
  }
}

TEST(EncoderQueueTest, ABadInputFailsOnlyItsOwnRequest) {
  auto real = load_pipeline("text-classification", "bert-tiny-sentiment");
  auto gated = std::make_shared<GatedPipeline>(real);
  EncoderQueue queue(gated, QueueOptions{});
  std::thread first([&] { queue.run({"warm"}, json::object(), kNeverGone); });
  gated->wait_entered(1);
  std::vector<json> good(3);
  std::optional<InferenceError> bad;
  std::vector<std::thread> threads;
  for (int i = 0; i < 3; ++i) {
    threads.emplace_back([&, i] { good[i] = queue.run({"fine " + std::to_string(i)}, json::object(), kNeverGone)[0]; });
  }
  threads.emplace_back([&] {
    try {
      queue.run({json{{"not", "text"}}}, json::object(), kNeverGone);
    } catch (const InferenceError& e) {
      bad = e;
    }
  });
  while (queue.queued() < 4) std::this_thread::sleep_for(1ms);
  gated->open();
  first.join();
  for (auto& t : threads) t.join();
  ASSERT_TRUE(bad.has_value());
  EXPECT_EQ(bad->kind, ErrorKind::kValidation);
  EXPECT_NE(std::string(bad->what()).find("text-classification expects"), std::string::npos)
      << bad->what();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(good[i], real->run("fine " + std::to_string(i)));
}

TEST(EncoderQueueTest, OversizedInputIsAValidationError) {
  QueueOptions opts;
  opts.max_input_chars = 10;
  EncoderQueue queue(load_pipeline("text-classification", "bert-tiny-sentiment"), opts);
  EXPECT_EQ(kind_of([&] { queue.run({"short", "far too long for this queue"}, json::object(), kNeverGone); }),
            ErrorKind::kValidation);
  EXPECT_EQ(queue.run({"short"}, json::object(), kNeverGone).size(), 1u);
  EXPECT_TRUE(queue.run({}, json::object(), kNeverGone).empty());
}

TEST(EncoderQueueTest, AThrowingBatchCallbackFailsNothing) {
  auto real = load_pipeline("text-classification", "bert-tiny-sentiment");
  QueueOptions opts;
  opts.on_batch = [](size_t, double) { throw std::runtime_error("metrics broke"); };
  EncoderQueue queue(real, opts);
  EXPECT_EQ(queue.run({"fine"}, json::object(), kNeverGone)[0], real->run("fine"));
  EXPECT_EQ(queue.run({"again"}, json::object(), kNeverGone)[0], real->run("again"));
}

// ---- GenerationEngine ------------------------------------------------------------------------

class GenerationEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto lm = LanguageModel::load(testing::llama_folder());
    ASSERT_TRUE(lm.ok()) << lm.status().to_string();
    lm_ = std::move(*lm);
  }
  static void TearDownTestSuite() { lm_.reset(); }

  static generation::GenerationConfig greedy(int64_t max_new_tokens) {
    generation::GenerationConfig c = lm_->pipeline_config();
    c.do_sample = false;
    c.max_new_tokens = max_new_tokens;
    return c;
  }
  static std::vector<int64_t> prompt(const std::string& text) {
    auto ids = lm_->encode(text);
    EXPECT_TRUE(ids.ok());
    return *ids;
  }
  static std::vector<int64_t> alone(const std::vector<int64_t>& p,
                                    const generation::GenerationConfig& c) {
    auto r = generation::generate(lm_->model(), {p}, c);
    EXPECT_TRUE(r.ok()) << r.status().to_string();
    return (*r)[0].sequences[0].tokens;
  }
  // Pulls every event of a request, then its outcome.
  static GenerationOutcome drain(GenerationHandle& h, std::vector<TokenEvent>* events) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (auto e = h.next(100ms)) {
        events->push_back(std::move(*e));
      } else if (h.finished()) {
        break;
      }
    }
    EXPECT_TRUE(h.finished());
    return h.outcome();
  }

  // The tokenizer's added tokens marked special (Qwen2.5: <|endoftext|>, <|im_start|>, ...).
  static const std::set<int64_t>& special_ids() {
    static const std::set<int64_t> ids = [] {
      std::set<int64_t> out;
      for (const auto& t : lm_->tokenizer().added_tokens()) {
        if (t.special) out.insert(t.id);
      }
      return out;
    }();
    return ids;
  }

  static std::shared_ptr<const LanguageModel> lm_;
};

TEST_F(GenerationEngineTest, LanguageModelAnswersAsTheChatPipeline) {
  EXPECT_TRUE(lm_->is_special(151645));  // <|im_end|>
  EXPECT_FALSE(lm_->is_special(9707));
  EXPECT_EQ(lm_->max_positions(), 512);
  ASSERT_TRUE(lm_->has_chat_template());
  const json chat = json::array({{{"role", "user"}, {"content", "Hi"}}});
  auto ids = lm_->chat_prompt(chat);
  auto text = lm_->render_chat(chat);
  ASSERT_TRUE(ids.ok() && text.ok());
  EXPECT_NE(text->find("<|im_start|>assistant"), std::string::npos) << *text;
  auto plain = lm_->encode(*text, false);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(*ids, *plain);
  EXPECT_EQ(lm_->decode(*ids, false), *text);
  EXPECT_EQ(lm_->chat_prompt(json::array()).status().code(), StatusCode::kInvalidArgument);
  // The chat pipeline replies with text_after_prompt of what it generated.
  auto chat_pipe = pipeline("chat", testing::llama_folder());
  ASSERT_TRUE(chat_pipe.ok());
  generation::GenerationConfig c = greedy(6);
  const json reply = (*chat_pipe)->run(chat, {{"do_sample", false}, {"max_new_tokens", 6}});
  EXPECT_EQ(reply["content"], lm_->text_after_prompt(*ids, alone(*ids, c)));
}

std::shared_ptr<const LanguageModel> GenerationEngineTest::lm_;

TEST_F(GenerationEngineTest, ConcurrentRequestsEqualGenerateAlone) {
  std::mutex mu;
  std::vector<std::pair<std::string, size_t>> steps;
  GenerationOptions opts;
  opts.on_batch = [&](const char* kind, size_t size, double) {
    std::lock_guard lock(mu);
    steps.emplace_back(kind, size);
  };
  GenerationEngine engine(lm_, opts);
  const std::vector<std::string> texts = {"Hello there", "The capital of France is",
                                          "1 2 3 4 5 6", "Once upon a time, in a land"};
  const std::vector<int64_t> lengths = {12, 7, 16, 9};
  std::vector<std::vector<TokenEvent>> events(texts.size());
  std::vector<GenerationOutcome> outcomes(texts.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < texts.size(); ++i) {
    threads.emplace_back([&, i] {
      GenerationHandle h = engine.submit(prompt(texts[i]), greedy(lengths[i]));
      outcomes[i] = drain(h, &events[i]);
    });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < texts.size(); ++i) {
    SCOPED_TRACE(texts[i]);
    const auto p = prompt(texts[i]);
    EXPECT_EQ(outcomes[i].prompt, p);
    EXPECT_EQ(outcomes[i].tokens, alone(p, greedy(lengths[i])));
    ASSERT_EQ(events[i].size(), outcomes[i].tokens.size());
    std::string text;
    for (size_t k = 0; k < events[i].size(); ++k) {
      const TokenEvent& e = events[i][k];
      EXPECT_EQ(e.id, outcomes[i].tokens[k]);
      EXPECT_EQ(e.index, k);
      EXPECT_TRUE(std::isfinite(e.logprob));
      EXPECT_LE(e.logprob, 0.0f);
      EXPECT_EQ(e.special, special_ids().count(e.id) > 0) << e.id;
      EXPECT_EQ(e.token_text, lm_->decode(std::vector<int64_t>{e.id}, false));
      text += e.text;
    }
    EXPECT_EQ(text, outcomes[i].text);
    EXPECT_EQ(outcomes[i].text, lm_->decode(outcomes[i].tokens));
    EXPECT_FALSE(outcomes[i].text.empty());
    EXPECT_NE(outcomes[i].finish_reason, generation::FinishReason::kNone);
  }
  size_t widest = 0;
  std::lock_guard lock(mu);
  for (const auto& [kind, size] : steps) widest = std::max(widest, size);
  EXPECT_GT(widest, 1u) << "no step ran two requests together";
  EXPECT_EQ(engine.running(), 0u);
  EXPECT_EQ(engine.queued(), 0u);
}

TEST_F(GenerationEngineTest, ARequestJoinsARunningBatch) {
  std::mutex mu;
  std::vector<std::pair<std::string, size_t>> steps;
  GenerationOptions opts;
  opts.on_batch = [&](const char* kind, size_t size, double) {
    std::lock_guard lock(mu);
    steps.emplace_back(kind, size);
  };
  GenerationEngine engine(lm_, opts);
  const auto pa = prompt("A long answer follows:"), pb = prompt("Short");
  GenerationHandle a = engine.submit(pa, greedy(40));
  std::vector<TokenEvent> ea, eb;
  // Wait until `a` is decoding, then submit `b`.
  while (ea.size() < 3) {
    if (auto e = a.next(1s)) ea.push_back(std::move(*e));
  }
  GenerationHandle b = engine.submit(pb, greedy(5));
  const GenerationOutcome ob = drain(b, &eb);
  const GenerationOutcome oa = drain(a, &ea);
  EXPECT_EQ(oa.tokens, alone(pa, greedy(40)));
  EXPECT_EQ(ob.tokens, alone(pb, greedy(5)));
  EXPECT_EQ(ea.size(), oa.tokens.size());
  // Steps: a's prefill, a's decodes, then b's prefill joined a's decode (size 2).
  std::lock_guard lock(mu);
  ASSERT_GE(steps.size(), 3u);
  EXPECT_EQ(steps[0], (std::pair<std::string, size_t>{"prefill", 1}));
  EXPECT_EQ(steps[1].first, "decode");
  bool joined = false;
  for (size_t i = 1; i < steps.size(); ++i) {
    if (steps[i] == std::pair<std::string, size_t>{"prefill", 2}) joined = true;
  }
  EXPECT_TRUE(joined);
}

TEST_F(GenerationEngineTest, CancelStopsARequest) {
  GenerationEngine engine(lm_, GenerationOptions{});
  generation::GenerationConfig c = greedy(400);
  c.eos_token_id.clear();
  GenerationHandle h = engine.submit(prompt("Keep talking"), c);
  std::vector<TokenEvent> events;
  while (events.size() < 2) {
    if (auto e = h.next(1s)) events.push_back(std::move(*e));
  }
  h.cancel();
  const GenerationOutcome o = drain(h, &events);
  EXPECT_EQ(o.finish_reason, generation::FinishReason::kCancelled);
  EXPECT_LT(o.tokens.size(), 400u);
  EXPECT_EQ(events.size(), o.tokens.size());
  EXPECT_EQ(engine.running(), 0u);
}

TEST_F(GenerationEngineTest, FullEngineIsOverloaded) {
  GenerationOptions opts;
  opts.max_queued_requests = 2;
  opts.max_running = 1;
  GenerationEngine engine(lm_, opts);
  generation::GenerationConfig c = greedy(300);
  c.eos_token_id.clear();
  GenerationHandle a = engine.submit(prompt("one"), c);
  GenerationHandle b = engine.submit(prompt("two"), c);
  try {
    engine.submit(prompt("three"), c);
    ADD_FAILURE() << "a full engine accepted a request";
  } catch (const InferenceError& e) {
    EXPECT_EQ(e.kind, ErrorKind::kOverloaded);
    EXPECT_GT(e.retry_after_seconds, 0);
  }
  // max_running 1: `b` waits while `a` runs.
  std::vector<TokenEvent> ea;
  while (ea.empty()) {
    if (auto e = a.next(1s)) ea.push_back(std::move(*e));
  }
  EXPECT_EQ(engine.running(), 1u);
  EXPECT_EQ(engine.queued(), 1u);
  a.cancel();
  b.cancel();
  std::vector<TokenEvent> eb;
  EXPECT_EQ(drain(a, &ea).finish_reason, generation::FinishReason::kCancelled);
  EXPECT_EQ(drain(b, &eb).finish_reason, generation::FinishReason::kCancelled);
}

// Under overload the engine refuses a request it could only start after max_wait_seconds,
// instead of queueing it up to max_queued_requests: the estimate is the requests ahead times
// the mean time a finished request held its slot.
TEST_F(GenerationEngineTest, ARequestThatWouldWaitTooLongIsRefusedAtOnce) {
  GenerationOptions opts;
  opts.max_queued_requests = 100;
  opts.max_running = 1;
  opts.max_wait_seconds = 1e-6;  // any measurable wait is too long
  GenerationEngine engine(lm_, opts);
  generation::GenerationConfig c = greedy(4);
  // Until 4 requests finished there is no estimate: queueing behind a running one is allowed.
  for (int i = 0; i < 4; ++i) {
    std::vector<TokenEvent> events;
    GenerationHandle h = engine.submit(prompt("warm up " + std::to_string(i)), c);
    EXPECT_EQ(drain(h, &events).finish_reason, generation::FinishReason::kLength);
  }
  generation::GenerationConfig long_config = greedy(300);
  long_config.eos_token_id.clear();
  GenerationHandle a = engine.submit(prompt("one"), long_config);
  std::vector<TokenEvent> ea;
  while (ea.empty()) {  // `a` holds the only slot
    if (auto e = a.next(1s)) ea.push_back(std::move(*e));
  }
  try {
    engine.submit(prompt("two"), c);
    ADD_FAILURE() << "a request that must wait was queued";
  } catch (const InferenceError& e) {
    EXPECT_EQ(e.kind, ErrorKind::kOverloaded);
    EXPECT_GE(e.retry_after_seconds, 1);
    EXPECT_NE(std::string(e.what()).find("before a new one would start"), std::string::npos) << e.what();
  }
  EXPECT_EQ(engine.queued(), 0u);
  a.cancel();
  EXPECT_EQ(drain(a, &ea).finish_reason, generation::FinishReason::kCancelled);
  // With a free slot nothing waits, so nothing is refused.
  std::vector<TokenEvent> eb;
  GenerationHandle b = engine.submit(prompt("three"), c);
  EXPECT_EQ(drain(b, &eb).finish_reason, generation::FinishReason::kLength);
}

TEST_F(GenerationEngineTest, ValidationErrors) {
  GenerationOptions opts;
  opts.max_input_tokens = 4;
  GenerationEngine engine(lm_, opts);
  EXPECT_EQ(engine.max_input_tokens(), 4);
  try {
    engine.submit({1, 2, 3, 4, 5}, greedy(3));
    ADD_FAILURE();
  } catch (const InferenceError& e) {
    EXPECT_EQ(e.kind, ErrorKind::kValidation);
    EXPECT_NE(std::string(e.what()).find("4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("5"), std::string::npos) << e.what();
  }
  generation::GenerationConfig bad = greedy(3);
  bad.do_sample = true;
  bad.temperature = -1;
  EXPECT_EQ(kind_of([&] { engine.submit({1, 2}, bad); }), ErrorKind::kValidation);
  EXPECT_EQ(kind_of([&] { engine.submit({1, 999999999}, greedy(3)); }), ErrorKind::kValidation);

  // No input limit but the context: max_new_tokens is capped at max_positions (512).
  GenerationEngine wide(lm_, GenerationOptions{});
  EXPECT_EQ(wide.max_input_tokens(), 511);
  generation::GenerationConfig c = greedy(10000);
  c.eos_token_id.clear();
  std::vector<int64_t> p(500, 9707);
  GenerationHandle h = wide.submit(p, c);
  std::vector<TokenEvent> events;
  const GenerationOutcome o = drain(h, &events);
  EXPECT_EQ(o.tokens.size(), 12u);
  EXPECT_EQ(o.finish_reason, generation::FinishReason::kLength);
}

TEST_F(GenerationEngineTest, AThrowingBatchCallbackFailsNothing) {
  GenerationOptions opts;
  opts.on_batch = [](const char*, size_t, double) { throw std::runtime_error("metrics broke"); };
  GenerationEngine engine(lm_, opts);
  const auto p = prompt("Still fine");
  GenerationHandle h = engine.submit(p, greedy(5));
  std::vector<TokenEvent> events;
  EXPECT_EQ(drain(h, &events).tokens, alone(p, greedy(5)));
}

TEST_F(GenerationEngineTest, SamplingDrawsAndReportsASeed) {
  GenerationEngine engine(lm_, GenerationOptions{});
  generation::GenerationConfig c = greedy(6);
  c.do_sample = true;
  const auto p = prompt("Random words:");
  GenerationHandle h = engine.submit(p, c);
  std::vector<TokenEvent> events;
  const GenerationOutcome o = drain(h, &events);
  // Generating again with the reported seed reproduces the tokens.
  c.seed = o.seed;
  EXPECT_EQ(o.tokens, alone(p, c));
  GenerationHandle again = engine.submit(p, c);
  std::vector<TokenEvent> e2;
  const GenerationOutcome o2 = drain(again, &e2);
  EXPECT_EQ(o2.seed, o.seed);
  EXPECT_EQ(o2.tokens, o.tokens);
}

// The real SmolLM2-135M-Instruct GGUF (scripts/setup): a served chat reply streams exactly the
// chat pipeline's sentence, ends on the end-of-turn token (special, no text) with reason eos.
TEST(GgufGenerationEngine, ServedChatReplyIsThePipelinesReply) {
  const fs::path gguf = fs::path(MLHUB_MODELS_DIR) / "SmolLM2-135M-Instruct.Q4_1.gguf";
  ASSERT_TRUE(fs::exists(gguf)) << gguf << " is missing: run scripts/setup";
  auto lm = LanguageModel::load(gguf);
  ASSERT_TRUE(lm.ok()) << lm.status().to_string();
  const json messages = json::array(
      {{{"role", "user"}, {"content", "What is the capital of France? Answer briefly."}}});
  auto ids = (*lm)->chat_prompt(messages);
  ASSERT_TRUE(ids.ok());
  GenerationEngine engine(*lm, GenerationOptions{});
  generation::GenerationConfig c = (*lm)->pipeline_config();
  c.do_sample = false;
  c.max_new_tokens = 32;
  GenerationHandle h = engine.submit(*ids, c);
  std::vector<TokenEvent> events;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto e = h.next(100ms)) {
      events.push_back(std::move(*e));
    } else if (h.finished()) {
      break;
    }
  }
  ASSERT_TRUE(h.finished());
  const GenerationOutcome o = h.outcome();
  EXPECT_EQ(o.text, "The capital of France is Paris.");
  EXPECT_EQ(o.finish_reason, generation::FinishReason::kEos);
  ASSERT_FALSE(events.empty());
  EXPECT_TRUE(events.back().special);
  EXPECT_EQ(events.back().token_text, "<|im_end|>");
  EXPECT_EQ(events.back().text, "");
  std::string text;
  for (const TokenEvent& e : events) text += e.text;
  EXPECT_EQ(text, o.text);
  EXPECT_EQ(o.text, (*lm)->text_after_prompt(*ids, o.tokens));
  auto chat = pipeline("chat", gguf);
  ASSERT_TRUE(chat.ok());
  EXPECT_EQ((*chat)->run(messages, {{"do_sample", false}, {"max_new_tokens", 32}})["content"], o.text);
}

}  // namespace
}  // namespace mlhub::inference
