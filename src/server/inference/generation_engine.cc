// GenerationEngine: continuous batching, as text-generation-inference's router does it. One thread
// owns a generation::Generator; between two steps it admits waiting requests (up to max_running)
// and retires finished or cancelled ones, so a request joins the running batch at the next step
// instead of waiting for the batch to drain. Every request has its own TextStreamer, which turns
// its tokens into UTF-8-safe text pieces; the route's thread pulls them through the handle.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <random>

#include <fmt/format.h>

#include "server/inference/engine.h"

namespace mlhub::inference {
namespace {

using Clock = std::chrono::steady_clock;

double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

}  // namespace

struct GenerationHandle::State {
  // Shared between the engine's thread and the route's thread, under mu.
  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<TokenEvent> events;
  bool finished = false;
  std::optional<InferenceError> error;
  GenerationOutcome outcome;
  std::atomic<bool> cancel_requested{false};

  // The engine thread's own.
  generation::GenerationConfig config;
  Clock::time_point submitted, admitted;
  uint64_t request = 0;  // the Generator's id once admitted
  bool counted = false;  // counted in the engine's running_count
  std::unique_ptr<generation::TextStreamer> streamer;
  std::string piece;  // what the streamer released for the current token
  size_t generated = 0;

  void push(TokenEvent e) {
    std::lock_guard lock(mu);
    outcome.text += e.text;
    events.push_back(std::move(e));
    cv.notify_all();
  }
  void finish(std::optional<InferenceError> err) {
    std::lock_guard lock(mu);
    finished = true;
    error = std::move(err);
    cv.notify_all();
  }
};

std::optional<TokenEvent> GenerationHandle::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(state_->mu);
  state_->cv.wait_for(lock, timeout, [&] { return !state_->events.empty() || state_->finished; });
  if (state_->events.empty()) return std::nullopt;
  TokenEvent e = std::move(state_->events.front());
  state_->events.pop_front();
  return e;
}

bool GenerationHandle::finished() const {
  std::lock_guard lock(state_->mu);
  return state_->finished;
}

GenerationOutcome GenerationHandle::outcome() const {
  std::lock_guard lock(state_->mu);
  if (state_->error) throw *state_->error;
  return state_->outcome;
}

void GenerationHandle::cancel() {
  // The engine's thread sees the flag before its next step (it is never idle while a request
  // waits or runs, so no wake-up is needed).
  state_->cancel_requested = true;
}

struct GenerationEngine::Impl {
  using State = GenerationHandle::State;

  const LanguageModel* lm = nullptr;
  GenerationOptions options;
  generation::Generator generator;

  mutable std::mutex mu;
  std::condition_variable cv;
  std::deque<std::shared_ptr<State>> waiting;  // under mu
  size_t running_count = 0;                    // under mu: requests admitted and not finished
  bool stopping = false;
  // Under mu: the mean seconds a finished request held its slot (exponential moving average)
  // and how many requests it has seen; the basis of submit()'s wait estimate.
  double slot_seconds = 0;
  size_t slot_samples = 0;

  std::map<uint64_t, std::shared_ptr<State>> running;  // the engine thread's
  std::thread thread;

  explicit Impl(const LanguageModel& model) : lm(&model), generator(model.model(), &model.tokenizer()) {}

  void loop();
  void run_step();  // admit, one Generator::step, hand out its events
  bool admit();  // returns whether a request joined
  void retire_cancelled();
  void handle(const generation::Generator::Event& e);
  void emit(State& s, int64_t token, float logprob, bool last);
  // Takes the request's result from the generator, then end().
  void complete(State& s, std::optional<InferenceError> err);
  // Uncounts the request and marks it finished (with `err`, if any).
  void end(State& s, std::optional<InferenceError> err);
  void fail_running(const std::string& message);
};

void GenerationEngine::Impl::emit(State& s, int64_t token, float logprob, bool last) {
  s.piece.clear();
  Status st = s.streamer->put(token);
  // The streamer's flush rides on the last token, so the events' texts always add up to the
  // outcome's text.
  if (st.ok() && last) st = s.streamer->end();
  if (!st.ok()) throw Error(st);
  TokenEvent e;
  e.id = token;
  e.text = std::move(s.piece);
  const int64_t one[1] = {token};
  e.token_text = lm->decode(one, /*skip_special_tokens=*/false);
  e.logprob = logprob;
  e.special = lm->is_special(token);
  e.index = s.generated++;
  s.push(std::move(e));
}

void GenerationEngine::Impl::complete(State& s, std::optional<InferenceError> err) {
  auto r = generator.take(s.request);
  if (r.ok() && !r->sequences.empty()) {
    std::lock_guard lock(s.mu);
    s.outcome.tokens = r->sequences[0].tokens;
    s.outcome.finish_reason = r->sequences[0].finish_reason;
  }
  {
    std::lock_guard lock(s.mu);
    s.outcome.inference_ms = ms_between(s.admitted, Clock::now());
  }
  end(s, std::move(err));
}

void GenerationEngine::Impl::end(State& s, std::optional<InferenceError> err) {
  s.streamer.reset();
  if (s.counted) {
    // Before the request shows as finished, so a caller that saw it finish never sees it run.
    const double held = ms_between(s.admitted, Clock::now()) / 1000.0;
    std::lock_guard lock(mu);
    --running_count;
    s.counted = false;
    if (s.request != 0 && !s.cancel_requested) {
      slot_seconds = slot_samples == 0 ? held : 0.8 * slot_seconds + 0.2 * held;
      ++slot_samples;
    }
  }
  s.finish(std::move(err));
}

// A beam request reports one event when it ends; its tokens are streamed then.
void GenerationEngine::Impl::handle(const generation::Generator::Event& e) {
  auto it = running.find(e.request);
  if (it == running.end()) return;
  State& s = *it->second;
  const bool last = e.finish_reason != generation::FinishReason::kNone;
  try {
    if (e.token >= 0) {
      if (e.index == 0) emit(s, e.token, e.logprob, last);
    } else if (last) {
      auto r = generator.take(s.request);
      if (!r.ok()) throw Error(r.status());
      const auto& seq = r->sequences.at(0);
      for (size_t i = 0; i < seq.tokens.size(); ++i) {
        emit(s, seq.tokens[i], 0.0f, i + 1 == seq.tokens.size());
      }
      {
        std::lock_guard lock(s.mu);
        s.outcome.tokens = seq.tokens;
        s.outcome.finish_reason = seq.finish_reason;
      }
      complete(s, std::nullopt);  // the result was taken above: complete keeps these tokens
      running.erase(it);
      return;
    }
  } catch (const std::exception& ex) {
    generator.cancel(s.request);
    complete(s, InferenceError(ErrorKind::kGeneration, ex.what()));
    running.erase(it);
    return;
  }
  if (last) {
    complete(s, std::nullopt);
    running.erase(it);
  }
}

bool GenerationEngine::Impl::admit() {
  bool joined = false;
  while (true) {
    std::shared_ptr<State> s;
    {
      std::lock_guard lock(mu);
      if (waiting.empty() || running.size() >= options.max_running) break;
      s = std::move(waiting.front());
      waiting.pop_front();
      // Counted from the moment it leaves `waiting`, so submit()'s in-flight count never
      // misses it.
      ++running_count;
      s->counted = true;
    }
    s->admitted = Clock::now();
    {
      std::lock_guard lock(s->mu);
      s->outcome.queue_ms = ms_between(s->submitted, s->admitted);
    }
    if (s->cancel_requested) {
      {
        std::lock_guard lock(s->mu);
        s->outcome.finish_reason = generation::FinishReason::kCancelled;
      }
      end(*s, std::nullopt);
      continue;
    }
    auto id = generator.add(s->outcome.prompt, s->config);
    if (!id.ok()) {
      const ErrorKind kind = id.status().code() == StatusCode::kInvalidArgument
                                 ? ErrorKind::kValidation
                                 : ErrorKind::kGeneration;
      end(*s, InferenceError(kind, id.status().message()));
      continue;
    }
    s->request = *id;
    s->streamer = std::make_unique<generation::TextStreamer>(
        lm->tokenizer(), [st = s.get()](std::string_view text) { st->piece += text; },
        /*skip_prompt=*/true, /*skip_special_tokens=*/true);
    Status ps = s->streamer->put_prompt(s->outcome.prompt);
    if (!ps.ok()) {
      generator.cancel(s->request);
      complete(*s, InferenceError(ErrorKind::kGeneration, ps.message()));
      continue;
    }
    running[s->request] = s;
    joined = true;
  }
  return joined;
}

void GenerationEngine::Impl::retire_cancelled() {
  for (auto it = running.begin(); it != running.end();) {
    if (it->second->cancel_requested) {
      generator.cancel(it->first);
      complete(*it->second, std::nullopt);
      it = running.erase(it);
    } else {
      ++it;
    }
  }
}

void GenerationEngine::Impl::fail_running(const std::string& message) {
  for (auto& [id, s] : running) {
    generator.cancel(id);
    complete(*s, InferenceError(ErrorKind::kGeneration, message));
  }
  running.clear();
}

void GenerationEngine::Impl::run_step() {
  retire_cancelled();
  const bool prefill = admit();
  if (running.empty()) return;
  const size_t size = running.size();
  const Clock::time_point start = Clock::now();
  auto events = generator.step();
  const double seconds = ms_between(start, Clock::now()) / 1000.0;
  // Reported before the step's events are handed out, so a request that finished in this step
  // is already counted in the metrics when its caller sees it finish.
  if (options.on_batch) {
    try {
      options.on_batch(prefill ? "prefill" : "decode", size, seconds);
    } catch (const std::exception& e) {  // metrics must not fail the requests
      log(LogLevel::kError, std::string("inference: on_batch: ") + e.what());
    }
  }
  if (!events.ok()) {
    fail_running("Request failed during generation: " + events.status().message());
  } else {
    for (const auto& e : *events) handle(e);
  }
}

void GenerationEngine::Impl::loop() {
  while (true) {
    {
      std::unique_lock lock(mu);
      cv.wait(lock, [&] { return stopping || !waiting.empty() || !running.empty(); });
      if (stopping) break;
    }
    try {
      run_step();
    } catch (const std::exception& e) {
      // Nothing may escape the engine's thread: whatever broke fails the running requests.
      log(LogLevel::kError, std::string("inference: generation engine: ") + e.what());
      fail_running(std::string("Request failed during generation: ") + e.what());
    }
  }
  // Shutting down: everything still queued or running ends as cancelled.
  for (auto& [id, s] : running) {
    generator.cancel(id);
    complete(*s, std::nullopt);
  }
  running.clear();
  std::lock_guard lock(mu);
  for (auto& s : waiting) {
    std::lock_guard slock(s->mu);
    s->outcome.finish_reason = generation::FinishReason::kCancelled;
    s->finished = true;
    s->cv.notify_all();
  }
  waiting.clear();
  running_count = 0;
}

GenerationEngine::GenerationEngine(std::shared_ptr<const LanguageModel> model,
                                   GenerationOptions options)
    : model_(std::move(model)), impl_(std::make_unique<Impl>(*model_)) {
  impl_->options = std::move(options);
  if (impl_->options.max_running == 0) impl_->options.max_running = 1;
  impl_->thread = std::thread([impl = impl_.get()] { impl->loop(); });
}

GenerationEngine::~GenerationEngine() {
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
    impl_->cv.notify_all();
  }
  impl_->thread.join();
}

int64_t GenerationEngine::max_input_tokens() const {
  if (impl_->options.max_input_tokens > 0) return impl_->options.max_input_tokens;
  return std::max<int64_t>(model_->max_positions() - 1, 1);
}

const GenerationOptions& GenerationEngine::options() const { return impl_->options; }

GenerationHandle GenerationEngine::submit(std::vector<int64_t> prompt,
                                          const generation::GenerationConfig& config) {
  generation::GenerationConfig c = config;
  if (Status s = c.validate(); !s.ok()) {
    throw InferenceError(ErrorKind::kValidation, "Input validation error: " + s.message());
  }
  if (c.num_return_sequences != 1) {
    throw InferenceError(ErrorKind::kValidation,
                         "Input validation error: the generation engine returns one sequence per "
                         "request (num_return_sequences must be 1)");
  }
  if (prompt.empty() && c.bos_token_id) prompt.push_back(*c.bos_token_id);
  if (prompt.empty()) {
    throw InferenceError(ErrorKind::kValidation, "Input validation error: `inputs` cannot be empty");
  }
  const int64_t vocab = model_->model().vocab_size();
  for (int64_t t : prompt) {
    if (t < 0 || t >= vocab) {
      throw InferenceError(ErrorKind::kValidation,
                           fmt::format("Input validation error: token id {} is outside the "
                                       "vocabulary ({} tokens)",
                                       t, vocab));
    }
  }
  const int64_t n = static_cast<int64_t>(prompt.size());
  const int64_t max_input = max_input_tokens();
  if (n > max_input) {
    throw InferenceError(ErrorKind::kValidation,
                         fmt::format("Input validation error: `inputs` must have less than {} "
                                     "tokens. Given: {}",
                                     max_input, n));
  }
  // Like TGI, new tokens stop at the model's context: prompt + max_new_tokens <= max_positions.
  const int64_t max_total = model_->max_positions();
  const int64_t wanted = c.resolved_max_length(n, INT64_MAX) - n;
  if (n + wanted > max_total) {
    if (max_total - n < 1) {
      throw InferenceError(
          ErrorKind::kValidation,
          fmt::format("Input validation error: `inputs` tokens + `max_new_tokens` must be <= {}. "
                      "Given: {} `inputs` tokens and {} `max_new_tokens`",
                      max_total, n, wanted));
    }
    c.max_new_tokens = max_total - n;
  }
  if (c.do_sample && !c.seed) {
    c.seed = (static_cast<uint64_t>(std::random_device{}()) << 32) ^ std::random_device{}();
  }
  auto state = std::make_shared<GenerationHandle::State>();
  state->config = c;
  state->outcome.prompt = std::move(prompt);
  state->outcome.seed = c.seed.value_or(0);
  state->submitted = Clock::now();
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopping) {
      throw InferenceError(ErrorKind::kUnavailable, "the model is being unloaded", 1);
    }
    const size_t in_flight = impl_->waiting.size() + impl_->running_count;
    if (in_flight >= impl_->options.max_queued_requests) {
      throw InferenceError(ErrorKind::kOverloaded,
                           fmt::format("Model is overloaded: {} requests are in flight", in_flight),
                           1);
    }
    // Every slot busy: this request waits for the requests ahead of it, max_running at a time.
    if (impl_->options.max_wait_seconds > 0 && impl_->slot_samples >= 4 &&
        impl_->running_count >= impl_->options.max_running) {
      const double rounds = std::ceil(static_cast<double>(impl_->waiting.size() + 1) /
                                      static_cast<double>(std::max<size_t>(1, impl_->options.max_running)));
      const double wait = rounds * impl_->slot_seconds;
      if (wait > impl_->options.max_wait_seconds) {
        throw InferenceError(ErrorKind::kOverloaded,
                             fmt::format("Model is overloaded: {} requests are waiting, about {:.0f} s "
                                         "before a new one would start (the limit is {:.0f} s)",
                                         impl_->waiting.size(), wait, impl_->options.max_wait_seconds),
                             static_cast<int>(std::ceil(wait - impl_->options.max_wait_seconds)));
      }
    }
    impl_->waiting.push_back(state);
    impl_->cv.notify_all();
  }
  GenerationHandle h;
  h.state_ = std::move(state);
  return h;
}

size_t GenerationEngine::queued() const {
  std::lock_guard lock(impl_->mu);
  return impl_->waiting.size();
}

size_t GenerationEngine::running() const {
  std::lock_guard lock(impl_->mu);
  return impl_->running_count;
}

}  // namespace mlhub::inference
