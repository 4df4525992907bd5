// The generation routes' shared engine plumbing (generation_run.h).
#include "server/inference/generation_run.h"

#include <algorithm>

#include "mlhub/models.h"
#include "mlhub/pipelines.h"

namespace mlhub::inference::gen {

GenerationEngine& language_engine(Call& call) {
  ServedModel& served = call.acquire("text-generation");
  if (!served.generator()) {
    throw InferenceError(ErrorKind::kUnsupported,
                         "Model " + call.info.repo_id +
                             " is not a language model: text generation is not available");
  }
  return *served.generator();
}

namespace {

Prepared fit(const GenerationEngine& engine, std::vector<int64_t> ids, const GenParams& params,
             int64_t default_new_tokens) {
  Prepared p;
  p.prompt = std::move(ids);
  fit_prompt(p.prompt, params.truncate, engine.max_input_tokens());
  const LanguageModel& lm = engine.model();
  p.config = make_config(params, lm.generation_config(), static_cast<int64_t>(p.prompt.size()),
                         lm.max_positions(), default_new_tokens);
  return p;
}

}  // namespace

Prepared prepare_text(const GenerationEngine& engine, const std::string& text,
                      const GenParams& params, int64_t default_new_tokens,
                      bool add_special_tokens) {
  if (text.empty())
    throw InferenceError(ErrorKind::kValidation,
                         "Input validation error: `inputs` cannot be empty");
  auto ids = engine.model().encode(text, add_special_tokens);
  if (!ids.ok())
    throw InferenceError(ErrorKind::kValidation,
                         "Input validation error: " + ids.status().message());
  return fit(engine, std::move(*ids), params, default_new_tokens);
}

Prepared prepare_chat(const GenerationEngine& engine, const nlohmann::ordered_json& messages,
                      const GenParams& params, int64_t default_new_tokens) {
  const LanguageModel& lm = engine.model();
  if (!lm.has_chat_template()) {
    throw InferenceError(
        ErrorKind::kValidation,
        "This model has no chat template: use /v1/completions or /generate with a plain prompt");
  }
  // The template sees the messages as a Python dict would (insertion order kept).
  auto ids = lm.chat_prompt(nlohmann::json(messages));
  if (!ids.ok())
    throw InferenceError(ErrorKind::kValidation, "Template error: " + ids.status().message());
  return fit(engine, std::move(*ids), params, default_new_tokens);
}

bool wait_all(std::span<Running> runs, const std::function<bool()>& gone,
              const std::function<bool(size_t, const TokenEvent&)>& on_event) {
  auto cancel_all = [&] {
    for (Running& r : runs) {
      if (!r.done) r.handle.cancel();
    }
    return false;
  };
  // Takes one event; false when the caller could not pass it on.
  auto take = [&](size_t i, TokenEvent e) {
    runs[i].events.push_back(std::move(e));
    return !on_event || on_event(i, runs[i].events.back());
  };
  while (true) {
    bool any_event = false;
    size_t waiting = runs.size();
    for (size_t i = 0; i < runs.size(); ++i) {
      Running& r = runs[i];
      if (r.done) continue;
      while (auto e = r.handle.next(std::chrono::milliseconds(0))) {
        any_event = true;
        if (!take(i, std::move(*e))) return cancel_all();
        // Asked per event too: an engine faster than the consumer never leaves this loop idle.
        if (gone && gone()) return cancel_all();
      }
      if (r.handle.finished()) {
        // Events that arrived between next() and finished() are still queued.
        while (auto e = r.handle.next(std::chrono::milliseconds(0))) {
          if (!take(i, std::move(*e))) return cancel_all();
        }
        r.done = true;
      } else if (waiting == runs.size()) {
        waiting = i;
      }
    }
    if (waiting == runs.size()) return true;
    if (gone && gone()) return cancel_all();
    if (!any_event) {
      if (auto e = runs[waiting].handle.next(kPollInterval)) {
        if (!take(waiting, std::move(*e))) return cancel_all();
      }
    }
  }
}

void record_client_left(Call& call, std::span<const Running> runs) {
  call.status = kClientClosedStatus;
  int64_t tokens = 0;
  for (const Running& r : runs) tokens += static_cast<int64_t>(r.events.size());
  call.usage.output_tokens = tokens;
}

GenerationOutcome outcome_of(const GenerationHandle& handle) {
  return handle.outcome();
}

std::string flushed_tail(const GenerationOutcome& outcome, const std::string& streamed) {
  if (outcome.text.size() > streamed.size() &&
      outcome.text.compare(0, streamed.size(), streamed) == 0) {
    return outcome.text.substr(streamed.size());
  }
  return "";
}

std::vector<float> prompt_logprobs(const LanguageModel& model, std::span<const int64_t> prompt) {
  std::vector<float> out;
  if (prompt.size() < 2) return out;
  out.reserve(prompt.size() - 1);
  // Chunks bound the logits held at once ([chunk, vocab] floats) for long prompts.
  constexpr size_t kChunk = 64;
  const models::DecoderModel& m = model.model();
  try {
    models::KvCache cache = m.new_cache();
    std::vector<float> row;
    for (size_t start = 0; start + 1 < prompt.size(); start += kChunk) {
      // Rows of tokens [start, end) predict tokens [start + 1, end].
      const size_t end = std::min(prompt.size() - 1, start + kChunk);
      models::DecoderSequence seq;
      seq.tokens = prompt.subspan(start, end - start);
      seq.cache = &cache;
      seq.all_logits = true;
      const Tensor logits =
          m.forward(std::span<const models::DecoderSequence>(&seq, 1)).to(DType::kF32).contiguous();
      const int64_t vocab = logits.dim(-1);
      const float* data = logits.data<float>();
      for (size_t r = 0; r < end - start; ++r) {
        row.assign(data + static_cast<int64_t>(r) * vocab,
                   data + static_cast<int64_t>(r + 1) * vocab);
        generation::log_softmax_inplace(row);
        const int64_t next = prompt[start + r + 1];
        out.push_back(next >= 0 && next < vocab ? row[static_cast<size_t>(next)] : 0.0f);
      }
    }
  } catch (const Error& e) {
    throw InferenceError(
        ErrorKind::kGeneration,
        std::string("computing the prompt's log-probabilities failed: ") + e.what());
  }
  return out;
}

}  // namespace mlhub::inference::gen
