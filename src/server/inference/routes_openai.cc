// The OpenAI-compatible generation routes: POST /v1/chat/completions and /v1/completions, both
// model-scoped (/models/{id}/v1/...) and router-style (/v1/... with "model" in the body; the
// dispatcher resolves it). Shapes: docs/inference-api.md §3.12, §4.4 and OpenAI's API reference.
//
// Differences from OpenAI, by design: one choice per prompt (n = 1); logprobs report the chosen
// token only (top_logprobs = 0); tools, response_format and logit_bias are refused with a 400
// rather than ignored, because this server can neither constrain the output nor parse tool calls.
// Every streamed delta carries role "assistant", as TGI's do (TGI's own text-generation client
// requires it; OpenAI's client accepts it).
#include <ctime>
#include <functional>

#include "server/inference/generation_params.h"
#include "server/inference/generation_run.h"
#include "server/inference/inference_server.h"

namespace mlhub::inference {
namespace {

using gen::CancelGuard;
using gen::Running;


// What every chunk and answer of one request repeats.
struct Envelope {
  std::string id;
  std::string object;
  int64_t created = 0;
  std::string model;

  json make(json choices) const {
    return json{{"id", id},
                {"object", object},
                {"created", created},
                {"model", model},
                {"system_fingerprint", gen::kSystemFingerprint},
                {"choices", std::move(choices)}};
  }
};

Envelope envelope(const Call& call, const char* id_prefix, const char* object) {
  return Envelope{gen::random_id(id_prefix), object, static_cast<int64_t>(std::time(nullptr)),
                  call.info.repo_id};
}

json usage_json(const Call& call) {
  return json{{"prompt_tokens", call.usage.input_tokens},
              {"completion_tokens", call.usage.output_tokens},
              {"total_tokens", call.usage.input_tokens + call.usage.output_tokens}};
}

Response client_closed(Call& call, std::span<const Running> runs) {
  gen::record_client_left(call, runs);
  return json_reply(gen::kClientClosedStatus,
                    json{{"error", {{"message", "the client closed the request"}}}});
}

// The OpenAI-shaped mid-stream error event.
json stream_error(const InferenceError& e) {
  return json{{"error",
               {{"message", e.what()},
                {"type", "server_error"},
                {"http_status_code", error_status(ApiFamily::kOpenAi, e.kind)}}}};
}

// One prompt's text as the client sees it: the engine's pieces through the stop trimmer (so the
// text ends before a stop sequence), then the streamer's final flush.
struct ChoiceText {
  gen::StopTrimmer trimmer;
  std::string streamed;  // the engine's pieces so far (for the flush)
  std::string shown;     // what was released

  explicit ChoiceText(std::vector<std::string> stops) : trimmer(std::move(stops)) {}
  std::string feed(const TokenEvent& e) {
    streamed += e.text;
    std::string out = trimmer.feed(e.text);
    shown += out;
    return out;
  }
  std::string finish(const GenerationOutcome& out) {
    std::string rest = trimmer.feed(gen::flushed_tail(out, streamed));
    rest += trimmer.finish();
    shown += rest;
    return rest;
  }
  std::string finish_reason(const GenerationOutcome& out) const {
    return trimmer.stopped() ? "stop" : gen::openai_finish_reason(out.finish_reason);
  }
};

void record_outcome(Call& call, const GenerationOutcome& out) {
  call.usage.output_tokens += static_cast<int64_t>(out.tokens.size());
  call.queue_ms = std::max(call.queue_ms, out.queue_ms);
  call.inference_ms = std::max(call.inference_ms, out.inference_ms);
}

// ---- chat ---------------------------------------------------------------------------------------

Response chat_answer(Call& call, const gen::ChatRequest& r, std::vector<Running>& runs,
                     const gen::Prepared& p) {
  if (!gen::wait_all(runs, call.gone)) return client_closed(call, runs);
  const GenerationOutcome out = gen::outcome_of(runs[0].handle);
  record_outcome(call, out);
  ChoiceText text(p.config.stop_strings);
  for (const TokenEvent& e : runs[0].events) text.feed(e);
  text.finish(out);
  json logprobs = nullptr;
  if (r.logprobs) {
    json content = json::array();
    for (const TokenEvent& e : runs[0].events) content.push_back(gen::openai_logprob(e));
    logprobs = json{{"content", std::move(content)}};
  }
  const Envelope env = envelope(call, "chatcmpl-", "chat.completion");
  json body =
      env.make(json::array({json{{"index", 0},
                                 {"message", {{"role", "assistant"}, {"content", text.shown}}},
                                 {"logprobs", std::move(logprobs)},
                                 {"finish_reason", text.finish_reason(out)}}}));
  body["usage"] = usage_json(call);
  Response res = json_reply(200, body);
  add_timing_headers(res, call);
  return res;
}

using SendFn = std::function<bool(const std::string&)>;

// Runs a stream's body; an error after the headers becomes OpenAI's error event.
void guarded(Call& call, std::vector<Running>& runs, const SendFn& send,
             const std::function<void()>& body) {
  CancelGuard guard{runs};
  try {
    body();
  } catch (const InferenceError& e) {
    call.status = error_status(ApiFamily::kOpenAi, e.kind);
    send(json_text(stream_error(e)));
  } catch (const std::exception& e) {
    call.status = 500;
    send(json_text(stream_error(
        InferenceError(ErrorKind::kGeneration, std::string("generation failed: ") + e.what()))));
  }
}

// The usage chunk (choices: []) that stream_options.include_usage asks for.
json usage_chunk(const Envelope& env, const Call& call) {
  json u = env.make(json::array());
  u["usage"] = usage_json(call);
  return u;
}

struct ChatStream {
  std::shared_ptr<Call> call;
  std::shared_ptr<std::vector<Running>> runs;  // one request
  Envelope env;
  bool include_usage = false;
  bool logprobs = false;
  std::shared_ptr<ChoiceText> text;

  void operator()(const SendFn& send) const {
    guarded(*call, *runs, send, [&] { run(send); });
  }

  bool chunk(const SendFn& send, json delta, json finish_reason, json lp) const {
    delta["role"] = "assistant";
    json c = env.make(json::array({json{{"index", 0},
                                        {"delta", std::move(delta)},
                                        {"logprobs", std::move(lp)},
                                        {"finish_reason", std::move(finish_reason)}}}));
    if (include_usage) c["usage"] = nullptr;
    return send(json_text(c));
  }

  void run(const SendFn& send) const {
    if (!chunk(send, json{{"content", ""}}, nullptr, nullptr)) {
      return gen::record_client_left(*call, *runs);
    }
    const bool completed = gen::wait_all(*runs, call->gone, [&](size_t, const TokenEvent& e) {
      const std::string piece = text->feed(e);
      // A stop sequence ended the text: the rest would be cut anyway.
      if (text->trimmer.stopped()) runs->front().handle.cancel();
      if (piece.empty() && !logprobs) return true;
      json lp = logprobs ? json{{"content", json::array({gen::openai_logprob(e)})}} : json(nullptr);
      return chunk(send, json{{"content", piece}}, nullptr, std::move(lp));
    });
    if (!completed) return gen::record_client_left(*call, *runs);
    const GenerationOutcome out = gen::outcome_of(runs->front().handle);
    record_outcome(*call, out);
    const std::string rest = text->finish(out);
    if (!rest.empty() && !chunk(send, json{{"content", rest}}, nullptr, nullptr)) return;
    if (!chunk(send, json::object(), text->finish_reason(out), nullptr)) return;
    if (include_usage && !send(json_text(usage_chunk(env, *call)))) return;
    send("[DONE]");
  }
};

Response chat_stream(const std::shared_ptr<Call>& call, const gen::ChatRequest& r,
                     std::shared_ptr<std::vector<Running>> runs, const gen::Prepared& p) {
  return sse_response(
      ChatStream{call, std::move(runs), envelope(*call, "chatcmpl-", "chat.completion.chunk"),
                 r.include_usage, r.logprobs, std::make_shared<ChoiceText>(p.config.stop_strings)});
}

// ---- completions --------------------------------------------------------------------------------

Response completions_answer(Call& call, const gen::CompletionRequest& r, std::vector<Running>& runs,
                            const std::vector<gen::Prepared>& prepared) {
  if (!gen::wait_all(runs, call.gone)) return client_closed(call, runs);
  json choices = json::array();
  for (size_t i = 0; i < runs.size(); ++i) {
    const GenerationOutcome out = gen::outcome_of(runs[i].handle);
    record_outcome(call, out);
    ChoiceText text(prepared[i].config.stop_strings);
    for (const TokenEvent& e : runs[i].events) text.feed(e);
    text.finish(out);
    choices.push_back(json{{"index", i},
                           {"text", (r.echo ? r.prompts[i] : std::string()) + text.shown},
                           {"logprobs", nullptr},
                           {"finish_reason", text.finish_reason(out)}});
  }
  json body = envelope(call, "cmpl-", "text_completion").make(std::move(choices));
  body["usage"] = usage_json(call);
  Response res = json_reply(200, body);
  add_timing_headers(res, call);
  return res;
}

struct CompletionStream {
  std::shared_ptr<Call> call;
  std::shared_ptr<std::vector<Running>> runs;  // one request per prompt
  Envelope env;
  bool include_usage = false;
  std::shared_ptr<std::vector<ChoiceText>> texts;
  std::vector<std::string> echoes;  // the prompts, with echo

  void operator()(const SendFn& send) const {
    guarded(*call, *runs, send, [&] { run(send); });
  }

  bool chunk(const SendFn& send, size_t index, const std::string& text, json finish_reason) const {
    json c = env.make(json::array({json{{"index", index},
                                        {"text", text},
                                        {"logprobs", nullptr},
                                        {"finish_reason", std::move(finish_reason)}}}));
    if (include_usage) c["usage"] = nullptr;
    return send(json_text(c));
  }

  void run(const SendFn& send) const {
    for (size_t i = 0; i < echoes.size(); ++i) {
      if (!chunk(send, i, echoes[i], nullptr)) return gen::record_client_left(*call, *runs);
    }
    const bool completed = gen::wait_all(*runs, call->gone, [&](size_t i, const TokenEvent& e) {
      const std::string piece = (*texts)[i].feed(e);
      if ((*texts)[i].trimmer.stopped()) (*runs)[i].handle.cancel();
      return piece.empty() || chunk(send, i, piece, nullptr);
    });
    if (!completed) return gen::record_client_left(*call, *runs);
    for (size_t i = 0; i < runs->size(); ++i) {
      const GenerationOutcome out = gen::outcome_of((*runs)[i].handle);
      record_outcome(*call, out);
      ChoiceText& text = (*texts)[i];
      const std::string rest = text.finish(out);
      if (!rest.empty() && !chunk(send, i, rest, nullptr)) return;
      if (!chunk(send, i, "", text.finish_reason(out))) return;
    }
    if (include_usage && !send(json_text(usage_chunk(env, *call)))) return;
    send("[DONE]");
  }
};

Response completions_stream(const std::shared_ptr<Call>& call, const gen::CompletionRequest& r,
                            std::shared_ptr<std::vector<Running>> runs,
                            const std::vector<gen::Prepared>& prepared) {
  auto texts = std::make_shared<std::vector<ChoiceText>>();
  for (const gen::Prepared& p : prepared) texts->emplace_back(p.config.stop_strings);
  return sse_response(CompletionStream{
      call, std::move(runs), envelope(*call, "cmpl-", "text_completion"), r.include_usage,
      std::move(texts), r.echo ? r.prompts : std::vector<std::string>()});
}

}  // namespace

Response openai_chat(RouteContext& ctx) {
  std::shared_ptr<Call> call = ctx.call;
  const gen::ChatRequest r = gen::parse_chat_request(ctx.body);
  GenerationEngine& engine = gen::language_engine(*call);
  const gen::Prepared p = gen::prepare_chat(engine, r.messages, r.gen, gen::kDefaultMaxNewTokens);
  call->usage.input_characters = r.input_characters;
  call->usage.input_tokens = static_cast<int64_t>(p.prompt.size());
  auto runs = std::make_shared<std::vector<Running>>();
  runs->push_back(Running{engine.submit(p.prompt, p.config), {}, false});
  if (r.stream) return chat_stream(call, r, runs, p);
  CancelGuard guard{*runs};
  return chat_answer(*call, r, *runs, p);
}

Response openai_completions(RouteContext& ctx) {
  std::shared_ptr<Call> call = ctx.call;
  const gen::CompletionRequest r = gen::parse_completion_request(ctx.body);
  GenerationEngine& engine = gen::language_engine(*call);
  std::vector<gen::Prepared> prepared;
  for (const std::string& prompt : r.prompts) {
    prepared.push_back(gen::prepare_text(engine, prompt, r.gen, gen::kDefaultCompletionTokens));
    call->usage.input_characters += count_characters(prompt);
    call->usage.input_tokens += static_cast<int64_t>(prepared.back().prompt.size());
  }
  auto runs = std::make_shared<std::vector<Running>>();
  runs->reserve(prepared.size());
  CancelGuard guard{*runs};  // a submit that fails (queue full) cancels the ones before it
  for (const gen::Prepared& p : prepared)
    runs->push_back(Running{engine.submit(p.prompt, p.config), {}, false});
  if (!r.stream) return completions_answer(*call, r, *runs, prepared);
  guard.release();
  return completions_stream(call, r, runs, prepared);
}

}  // namespace mlhub::inference
