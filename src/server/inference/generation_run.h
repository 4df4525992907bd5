// Private to src/server/inference: what the generation routes (routes_generate.cc,
// routes_openai.cc) share around the engine: finding the model's GenerationEngine, submitting
// prompts, pulling their events while watching for a client that hung up, and the prompt
// log-probabilities TGI reports with decoder_input_details.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "server/inference/engine.h"
#include "server/inference/generation_params.h"
#include "server/inference/inference_server.h"

namespace mlhub::inference::gen {

// How often a waiting route looks at the client's socket.
constexpr std::chrono::milliseconds kPollInterval{50};

// The language model's engine of the call's model (loads it). Throws InferenceError kUnsupported
// when the model is not a language model.
GenerationEngine& language_engine(Call& call);

// One prompt, ready for the engine.
struct Prepared {
  std::vector<int64_t> prompt;
  generation::GenerationConfig config;
};

// Tokenizes `text` (special tokens added: TGI's add_special_tokens default) and fits it with
// fit_prompt / make_config. Throws kValidation.
Prepared prepare_text(const GenerationEngine& engine, const std::string& text,
                      const GenParams& params, int64_t default_new_tokens,
                      bool add_special_tokens = true);
// Renders a chat with the model's template (add_generation_prompt) and fits it. Throws
// kValidation (no template, a template error, too long).
Prepared prepare_chat(const GenerationEngine& engine, const nlohmann::ordered_json& messages,
                      const GenParams& params, int64_t default_new_tokens);

// A submitted request and the events taken from it so far.
struct Running {
  GenerationHandle handle;
  std::vector<TokenEvent> events;
  bool done = false;
};

// Cancels the requests still running when a route leaves early (an error, a failed submit, a
// client gone), unless released (the requests were handed to a stream).
struct CancelGuard {
  std::vector<Running>& runs;
  bool armed = true;
  ~CancelGuard() {
    if (!armed) return;
    for (Running& r : runs) {
      if (!r.done) r.handle.cancel();
    }
  }
  void release() { armed = false; }
};

// Waits until every request finished, taking their events (appended to Running::events, and
// handed to `on_event` with the request's index when set). Between events asks `gone` (may be
// empty); when the client left, or `on_event` returned false (a send failed), cancels every request
// and returns false.
bool wait_all(std::span<Running> runs, const std::function<bool()>& gone,
              const std::function<bool(size_t, const TokenEvent&)>& on_event = nullptr);

// The outcome of a finished request; the engine's InferenceError passes through.
GenerationOutcome outcome_of(const GenerationHandle& handle);

// What the streamed pieces did not cover: the streamer's final flush (U+FFFD for bytes that never
// completed a character). `streamed` is the concatenation of the events' text.
std::string flushed_tail(const GenerationOutcome& outcome, const std::string& streamed);

// log p(prompt[i + 1] | prompt[..i]) under the model's raw distribution, for i in [0, n - 1): what
// TGI's prefill reports. Runs the prompt through the model in chunks (one extra forward on the
// calling thread; the engine's batch is not disturbed). Throws kGeneration on a model error.
std::vector<float> prompt_logprobs(const LanguageModel& model, std::span<const int64_t> prompt);

// The status recorded for a request whose client hung up (nginx's "client closed request").
constexpr int kClientClosedStatus = 499;

// Records a request whose client hung up: status 499, and the tokens generated until then (the
// work was done, so it is metered).
void record_client_left(Call& call, std::span<const Running> runs);

}  // namespace mlhub::inference::gen
