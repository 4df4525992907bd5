// text-generation-inference's routes for a language model: POST /models/{id}/generate and
// /generate_stream, the task API's text-generation (TGI's `POST /`: {inputs, parameters, stream}),
// and GET /models/{id}/info (TGI's Info). Shapes: docs/inference-api.md §3.11 and §4.
//
// Every request goes through the model's GenerationEngine (continuous batching): a list of inputs
// is submitted at once and runs in the same batch. Streams pull the engine's events and send one
// TGI StreamResponse per token; the last event carries generated_text (and details when asked).
// Non-streaming answers take their text from the engine's outcome, the concatenation of the
// streamed pieces, so the two agree.
#include <algorithm>
#include <functional>
#include <thread>

#include "server/inference/generation_params.h"
#include "server/inference/generation_run.h"
#include "server/inference/inference_server.h"

namespace mlhub::inference {
namespace {

using gen::CancelGuard;
using gen::Running;


// TGI's `POST /` returns the prompt with the new text for text-generation models (and models
// without a pipeline_tag), and only the new text otherwise (router/src/server.rs,
// compat_generate).
bool default_return_full_text(const ModelInfo& info) {
  return info.pipeline_tag.empty() || info.pipeline_tag == "text-generation";
}

json prefill_of(const LanguageModel& lm, const std::vector<int64_t>& prompt) {
  std::vector<std::string> texts;
  texts.reserve(prompt.size());
  for (const int64_t id : prompt)
    texts.push_back(lm.decode(std::span<const int64_t>(&id, 1), false));
  return gen::tgi_prefill(prompt, texts, gen::prompt_logprobs(lm, prompt));
}

Response client_closed(Call& call, std::span<const Running> runs) {
  gen::record_client_left(call, runs);
  return json_reply(gen::kClientClosedStatus, json{{"error", "the client closed the request"}});
}

// Generates every input together and answers with one {generated_text, details?} per input: a
// list (the task API) or the single object (/generate).
Response generate_all(RouteContext& ctx, const std::vector<std::string>& inputs,
                      const gen::TgiRequest& r, bool return_full_text, bool as_list) {
  Call& call = *ctx.call;
  GenerationEngine& engine = gen::language_engine(call);
  std::vector<gen::Prepared> prepared;
  for (const std::string& input : inputs) {
    prepared.push_back(gen::prepare_text(engine, input, r.gen, gen::kDefaultMaxNewTokens));
    call.usage.input_characters += count_characters(input);
    call.usage.input_tokens += static_cast<int64_t>(prepared.back().prompt.size());
  }
  std::vector<Running> runs;
  runs.reserve(prepared.size());
  CancelGuard guard{runs};
  for (const gen::Prepared& p : prepared)
    runs.push_back(Running{engine.submit(p.prompt, p.config), {}, false});
  // The prompt log-probabilities take one forward of their own, while the engine generates.
  std::vector<json> prefills(inputs.size());
  if (r.details && r.decoder_input_details) {
    for (size_t i = 0; i < prepared.size(); ++i)
      prefills[i] = prefill_of(engine.model(), prepared[i].prompt);
  }
  if (!gen::wait_all(runs, call.gone)) return client_closed(call, runs);

  json results = json::array();
  for (size_t i = 0; i < runs.size(); ++i) {
    const GenerationOutcome out = gen::outcome_of(runs[i].handle);
    call.usage.output_tokens += static_cast<int64_t>(out.tokens.size());
    call.queue_ms = std::max(call.queue_ms, out.queue_ms);
    call.inference_ms = std::max(call.inference_ms, out.inference_ms);
    json item{{"generated_text", (return_full_text ? inputs[i] : std::string()) + out.text}};
    if (r.details)
      item["details"] =
          gen::tgi_details(out, prepared[i].config.do_sample, runs[i].events, prefills[i]);
    results.push_back(std::move(item));
  }
  Response res = json_reply(200, as_list ? results : results.at(0));
  add_timing_headers(res, call);
  return res;
}

using SendFn = std::function<bool(const std::string&)>;

// TGI's SSE: one StreamResponse per generated token. The last token's event is held until the
// request ends, because only then is it known to be the last (it carries generated_text).
struct TgiStream {
  std::shared_ptr<Call> call;
  std::shared_ptr<std::vector<Running>> runs;  // one request
  std::string prefix;                          // the input, with return_full_text
  bool details = false;
  bool sampled = false;
  size_t input_length = 0;

  static json event(const TokenEvent& e, const std::optional<std::string>& text) {
    return json{{"index", e.index + 1},
                {"token", gen::tgi_token(e, text)},
                {"generated_text", nullptr},
                {"details", nullptr}};
  }

  void operator()(const SendFn& send) const {
    CancelGuard guard{*runs};
    try {
      run(send);
    } catch (const InferenceError& e) {
      // TGI's mid-stream error event; the HTTP status (200) is already sent.
      call->status = error_status(ApiFamily::kTgi, e.kind);
      send(json_text(json{{"error", e.what()}, {"error_type", "generation"}}));
    } catch (const std::exception& e) {
      call->status = 500;
      send(json_text(json{{"error", std::string("generation failed: ") + e.what()},
                     {"error_type", "generation"}}));
    }
  }

  void run(const SendFn& send) const {
    std::optional<TokenEvent> held;
    std::string streamed;
    const bool completed = gen::wait_all(*runs, call->gone, [&](size_t, const TokenEvent& e) {
      if (held && !send(json_text(event(*held, std::nullopt)))) return false;
      streamed += e.text;
      held = e;
      return true;
    });
    if (!completed) return gen::record_client_left(*call, *runs);
    const GenerationOutcome out = gen::outcome_of(runs->front().handle);
    call->usage.output_tokens = static_cast<int64_t>(out.tokens.size());
    call->queue_ms = out.queue_ms;
    call->inference_ms = out.inference_ms;
    if (!held) throw InferenceError(ErrorKind::kGeneration, "the model generated no token");
    // The streamer's final flush belongs to the last token, so the pieces add up to the text.
    std::optional<std::string> last_text;
    if (!held->special) last_text = held->text + gen::flushed_tail(out, streamed);
    json last = event(*held, last_text);
    last["generated_text"] = prefix + out.text;
    if (details) {
      last["details"] = json{{"finish_reason", gen::tgi_finish_reason(out.finish_reason)},
                             {"generated_tokens", out.tokens.size()},
                             {"input_length", input_length},
                             {"seed", sampled ? json(out.seed) : json(nullptr)}};
    }
    if (!send(json_text(last))) gen::record_client_left(*call, *runs);
  }
};

Response generate_stream(RouteContext& ctx, const std::string& input, const gen::TgiRequest& r,
                         bool return_full_text) {
  std::shared_ptr<Call> call = ctx.call;
  GenerationEngine& engine = gen::language_engine(*call);
  const gen::Prepared p = gen::prepare_text(engine, input, r.gen, gen::kDefaultMaxNewTokens);
  call->usage.input_characters = count_characters(input);
  call->usage.input_tokens = static_cast<int64_t>(p.prompt.size());
  auto runs = std::make_shared<std::vector<Running>>();
  runs->push_back(Running{engine.submit(p.prompt, p.config), {}, false});
  Response res = sse_response(TgiStream{call, runs, return_full_text ? input : std::string(),
                                        r.details, p.config.do_sample, p.prompt.size()});
  res.set("x-compute-type", "cpu");
  res.set("x-compute-characters", std::to_string(call->usage.input_characters));
  return res;
}

[[noreturn]] void invalid(const std::string& message) {
  throw InferenceError(ErrorKind::kValidation, "Input validation error: " + message);
}

std::string string_input(const json& body) {
  const auto it = body.find("inputs");
  if (it == body.end() || it->is_null()) invalid("`inputs` is required");
  if (!it->is_string()) invalid("`inputs` must be a string");
  return it->get<std::string>();
}

// The task API's inputs: one string, or a list of strings (generated together; not streamed).
std::vector<std::string> task_inputs(const json& body, bool stream) {
  const auto it = body.find("inputs");
  if (it == body.end() || !it->is_array()) return {string_input(body)};
  if (it->empty()) invalid("`inputs` cannot be empty");
  if (stream) invalid("streaming takes one input; send a string in `inputs`");
  if (it->size() > gen::kMaxClientBatchSize) {
    invalid("`inputs` must have at most " + std::to_string(gen::kMaxClientBatchSize) +
            " items. Given: " + std::to_string(it->size()));
  }
  std::vector<std::string> inputs;
  for (const json& in : *it) {
    if (!in.is_string()) invalid("`inputs` must be a string or a list of strings");
    inputs.push_back(in.get<std::string>());
  }
  return inputs;
}

const json& parameters_of(const json& body) {
  static const json kNull;
  const auto it = body.find("parameters");
  return it == body.end() ? kNull : *it;
}

bool stream_flag(const json& body) {
  const auto it = body.find("stream");
  if (it == body.end() || it->is_null()) return false;
  if (!it->is_boolean()) invalid("`stream` must be a boolean");
  return it->get<bool>();
}

}  // namespace

Response tgi_generate(RouteContext& ctx, bool stream) {
  const std::string input = string_input(ctx.body);
  const gen::TgiRequest r = gen::parse_tgi_parameters(parameters_of(ctx.body), stream);
  // TGI's /generate and /generate_stream return only the new text unless asked.
  const bool full = r.return_full_text.value_or(false);
  if (stream) return generate_stream(ctx, input, r, full);
  return generate_all(ctx, {input}, r, full, /*as_list=*/false);
}

Response task_text_generation(RouteContext& ctx) {
  // The task API's text-generation is TGI's `POST /`: its errors are TGI's (422 with an
  // error_type), which both the text-generation client and huggingface_hub turn into typed
  // exceptions.
  try {
    const bool stream = stream_flag(ctx.body);
    const gen::TgiRequest r = gen::parse_tgi_parameters(parameters_of(ctx.body), stream);
    const bool full = r.return_full_text.value_or(default_return_full_text(ctx.call->info));
    const std::vector<std::string> inputs = task_inputs(ctx.body, stream);
    if (stream) return generate_stream(ctx, inputs.front(), r, full);
    return generate_all(ctx, inputs, r, full, /*as_list=*/true);
  } catch (const InferenceError& e) {
    return error_response(ApiFamily::kTgi, e);
  }
}

Response tgi_info(RouteContext& ctx) {
  Call& call = *ctx.call;
  GenerationEngine& engine = gen::language_engine(call);
  const ModelInfo& info = call.info;
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  json body{
      {"model_id", info.repo_id},
      {"model_sha", info.commit},
      {"model_pipeline_tag", info.pipeline_tag.empty() ? json(nullptr) : json(info.pipeline_tag)},
      {"model_device_type", "cpu"},
      {"max_concurrent_requests", engine.options().max_queued_requests},
      {"max_best_of", 1},
      {"max_stop_sequences", gen::kMaxStopSequences},
      {"max_input_tokens", engine.max_input_tokens()},
      {"max_total_tokens", engine.model().max_positions()},
      {"validation_workers", cores},
      {"max_client_batch_size", gen::kMaxClientBatchSize},
      {"router", "mlhub"},
      {"version", gen::kServerVersion},
      {"sha", nullptr},
      {"docker_label", nullptr}};
  return json_reply(200, body);
}

}  // namespace mlhub::inference
