// The inference API server: routes inference requests (docs/inference.md) to the models of this
// hub (or of a remote hub), with auth, metering, quotas and metrics. HubServer's dispatcher hands
// every request to InferenceServer::handle first; it answers the inference routes and returns
// nullopt for everything else.
//
// Route families and their files:
//   routes_task.cc        POST /models/{id} (+ /pipeline/{task}), /hf-inference/models/{id},
//                         /pipeline/{task}/{id}: the Hugging Face task API (encoder tasks; the
//                         text-generation task is delegated to routes_generate.cc)
//   routes_tei.cc         /models/{id}/embed, /rerank, /predict, /similarity, /tokenize and the
//                         OpenAI /v1/embeddings (model-scoped and router-style)
//   routes_generate.cc    TGI /models/{id}/generate, /generate_stream, and the task API's
//                         text-generation (also TGI's `POST /` form with "stream")
//   routes_openai.cc      /v1/chat/completions, /v1/completions (model-scoped and router-style),
//                         GET /v1/models
//   inference_server.cc   dispatch, Call, errors, /info, /health, /metrics, /api/usage
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/http/http.h"
#include "server/hub/hub_server.h"
#include "server/inference/engine.h"
#include "server/inference/metering.h"

namespace mlhub::inference {

using http::Request;
using http::Response;

// Which API's error shapes and status codes a route speaks.
enum class ApiFamily : uint8_t {
  kTaskApi,  // {"error": msg}; validation -> 400
  kTgi,      // {"error": msg, "error_type": "validation|overloaded|generation|..."}; validation -> 422
  kOpenAi,   // {"error": {"message", "type", "code", "param"}}; validation -> 400
  kTei,      // {"error": msg, "error_type": "Validation|Overloaded|Backend|..."}; validation -> 422
};

// The response for an error in a family's shape, with Retry-After when set.
Response error_response(ApiFamily family, const InferenceError& error);
// The status an error kind gets in a family.
int error_status(ApiFamily family, ErrorKind kind);

class InferenceServer;

// One inference request in flight: who calls, which model, the clock, and the usage to record.
// Created by the dispatcher after auth and admission; records usage and metrics once, when
// finish() is called or when the last reference goes away (so a streaming route keeps a
// shared_ptr<Call> in its Response::stream lambda and the record is written after the stream).
class Call {
 public:
  Call(InferenceServer& server, ApiFamily family, std::string route);
  ~Call();
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  InferenceServer& server;
  const ApiFamily family;
  const std::string route;    // "task", "generate", "generate_stream", "chat", "completions", ...
  std::string token;          // the bearer token ("" = none)
  hub::Caller caller;
  Admission admission;
  ModelInfo info;             // set once the model is resolved
  std::string task;           // the task that runs
  std::shared_ptr<ServedModel> model;  // set by acquire()
  std::function<bool()> gone;          // the client hung up (Request::gone)
  std::chrono::steady_clock::time_point start = std::chrono::steady_clock::now();
  store::UsageRecord usage;   // routes fill input_characters, input_tokens, output_tokens
  double queue_ms = 0, inference_ms = 0;
  bool admitted = false;      // admission succeeded: usage is recorded against it
  int status = 200;           // the response status, recorded when the call ends

  // Loads (or finds) the model for `task_name` and sets `task` and `model`; checks the plan's
  // model size first. Throws InferenceError.
  ServedModel& acquire(const std::string& task_name);
  // Records usage and metrics now with `final_status` (later calls do nothing).
  void finish(int final_status);

 private:
  bool finished_ = false;
};

// What the routes receive: the parsed request and its call.
struct RouteContext {
  Request& req;
  std::shared_ptr<Call> call;
  nlohmann::json body;  // the parsed JSON body (null for GET)
  std::string forced_task;  // from /pipeline/{task}, else ""
};

// ---- routes (one family per file) -------------------------------------------------------------

// routes_task.cc: the task API for the model's task (or forced_task). Throws InferenceError.
Response task_api(RouteContext& ctx);
// routes_tei.cc
Response tei_embed(RouteContext& ctx);       // POST /embed
Response tei_rerank(RouteContext& ctx);      // POST /rerank
Response tei_predict(RouteContext& ctx);     // POST /predict
Response tei_similarity(RouteContext& ctx);  // POST /similarity
Response tei_tokenize(RouteContext& ctx);    // POST /tokenize
Response openai_embeddings(RouteContext& ctx);  // POST /v1/embeddings
// routes_generate.cc
Response tgi_generate(RouteContext& ctx, bool stream);  // /generate, /generate_stream
// The task API's text-generation ({inputs, parameters, stream}): a list of {generated_text,
// details?}, or TGI's SSE when "stream" is true.
Response task_text_generation(RouteContext& ctx);
// summarization / translation / text2text-generation (and text-generation) on an encoder-decoder
// model (routes_seq2seq.cc).
Response task_seq2seq(RouteContext& ctx, const std::string& task);
// routes_openai.cc
Response openai_chat(RouteContext& ctx);         // POST /v1/chat/completions
Response openai_completions(RouteContext& ctx);  // POST /v1/completions
// GET /info (routes_tei.cc): TEI's Info for an encoder model; for a language model it calls
// tgi_info (routes_generate.cc), TGI's Info.
Response model_info_route(RouteContext& ctx);
Response tgi_info(RouteContext& ctx);

// ---- shared helpers for the routes (inference_server.cc) -------------------------------------

// Compact JSON text; invalid UTF-8 in strings becomes U+FFFD instead of throwing.
std::string json_text(const nlohmann::json& j);
// A JSON response with the usual inference headers.
Response json_reply(int status, const nlohmann::json& body);
// Adds TGI's metering headers (x-compute-type, x-compute-time, x-compute-characters,
// x-total-time, x-queue-time, x-inference-time, x-prompt-tokens, x-generated-tokens) from call.
void add_timing_headers(Response& res, const Call& call);
// An SSE response: `produce` gets a function that sends one "data: <json>\n\n" event and returns
// false once the client is gone. Content-Type text/event-stream, X-Accel-Buffering: no.
Response sse_response(std::function<void(const std::function<bool(const std::string&)>& send)> produce);
// Code-point count of UTF-8 text (what x-compute-characters and the character quotas count).
int64_t count_characters(const std::string& text);

struct InferenceOptions {
  ManagerOptions manager;
  MeterOptions meter;
  // Remote mode (mlhub serve --inference-only --hub URL): models and tokens come from that hub.
  std::optional<hub::HubConfig> remote_hub;
};

class InferenceServer {
 public:
  // Local mode: models from `hub`'s store, tokens from its MetadataStore.
  InferenceServer(hub::HubServer& hub, InferenceOptions options);
  ~InferenceServer();

  // Answers an inference route; nullopt when the request is not one.
  std::optional<Response> handle(Request& req);

  ModelManager& models() { return *models_; }
  Meter& meter() { return *meter_; }
  Metrics& metrics() { return *metrics_; }
  hub::HubServer& hub() { return hub_; }
  // The caller of a request: this hub's tokens, or (remote mode) the remote hub's, checked with
  // its whoami and mirrored as a local account for metering. Throws InferenceError kUnauthorized
  // / HttpError 401 for a token nobody knows.
  hub::Caller authenticate(const Request& req);

  static constexpr size_t kMaxBodyBytes = 16u << 20;

 private:
  Response usage_route(Request& req);
  struct Impl;
  hub::HubServer& hub_;
  std::unique_ptr<ModelManager> models_;
  std::unique_ptr<Meter> meter_;
  std::unique_ptr<Metrics> metrics_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlhub::inference
