// The inference engine behind the inference routes: where a model's files come from
// (ModelSource), which models are loaded (ModelManager: memory budget, LRU eviction, one load per
// model), and how requests reach a model: EncoderQueue (dynamic batching by token budget for the
// encoder tasks) and GenerationEngine (continuous batching for generation: requests join and
// leave the running batch between steps). docs/inference.md describes the whole.
//
// Errors: everything here throws InferenceError, which the routes turn into each API family's
// error body (inference_server.h).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/core.h"
#include "mlhub/generation.h"
#include "mlhub/hub.h"
#include "mlhub/pipelines.h"

namespace mlhub::hub {
class HubServer;
}

namespace mlhub::inference {

using nlohmann::json;

// What went wrong, independent of the API family that reports it. The routes map kind to a status
// and an error_type per family (inference_server.h: error_response).
enum class ErrorKind : uint8_t {
  kValidation,    // bad JSON shape, bad parameter, input too long  -> 400 (task API) / 422 (TGI, TEI, OpenAI)
  kUnauthorized,  // no or bad token where one is needed            -> 401
  kForbidden,     // the plan does not allow this (model too large) -> 403
  kNotFound,      // no such model, or not visible to the caller    -> 404
  kUnsupported,   // the model cannot run this task                 -> 400 (task API) / 424 (TEI) / 422
  kTooLarge,      // request body or batch too large                -> 413
  kOverloaded,    // queue full                                     -> 429, Retry-After
  kRateLimited,   // quota: requests per minute, monthly characters -> 429, Retry-After
  kModelTooLarge, // the model does not fit the server's memory budget -> 507 (never 503: it is permanent)
  kGeneration,    // the model failed while running                 -> 424 (TGI) / 500
  kUnavailable,   // shutting down                                  -> 503, Retry-After
};

struct InferenceError : std::runtime_error {
  InferenceError(ErrorKind kind, const std::string& message, int retry_after_seconds = 0)
      : std::runtime_error(message), kind(kind), retry_after_seconds(retry_after_seconds) {}
  ErrorKind kind;
  int retry_after_seconds;  // > 0: sent as Retry-After
};

// ---- Where model files come from ------------------------------------------------------------

// What the hub says about a model repo at one commit, and where its files are on this machine.
struct ModelInfo {
  std::string repo_id;       // "org/name"
  std::string commit;        // 40 hex
  std::string pipeline_tag;  // from the model card ("" when none)
  std::string library_name;  // "sentence-transformers", "transformers", "gguf", ...
  std::vector<std::string> tags;
  bool is_private = false;
  int64_t owner_id = 0;      // the owning account in this hub's store (0 for a remote hub)
  // A folder with config.json + weights + tokenizer files, or one .gguf file.
  std::filesystem::path path;
  bool is_gguf = false;
  uint64_t weight_bytes = 0;  // the weight files' size: the memory budget's estimate of the model
};

class ModelSource {
 public:
  virtual ~ModelSource() = default;
  // Resolves `repo_id` at `revision` for a caller holding `token` (may be empty) and makes its
  // files available locally. Throws InferenceError kNotFound when the repo does not exist or the
  // caller may not read it, kUnsupported when it holds no loadable model.
  virtual ModelInfo resolve(const std::string& repo_id, const std::string& revision,
                            const std::string& token) = 0;
};

// This hub's own store: access as the hub routes check it (private repos need a token of a user
// who may read them); the commit's files are materialised once under
// data_dir/inference/{owner}/{name}/{commit}/ (LFS blobs hard-linked from the blob store when
// possible, copied otherwise; written to a temporary folder and renamed, so a killed process
// leaves no half folder).
std::unique_ptr<ModelSource> local_hub_source(hub::HubServer& hub);
// Another hub (mlhub serve --inference-only --hub URL): model_info + snapshot_download into the
// Hugging Face cache of `config`, with the caller's token.
std::unique_ptr<ModelSource> remote_hub_source(const hub::HubConfig& config);

// ---- Encoder tasks: dynamic batching -------------------------------------------------------

struct QueueOptions {
  size_t max_queued_requests = 256;  // beyond: kOverloaded
  size_t max_batch_tokens = 16384;   // a batch's token budget (estimated from input sizes)
  size_t max_batch_requests = 64;    // inputs per batch at most
  size_t max_input_chars = 1 << 20;  // one input's size at most: kValidation beyond
  // Called by the worker after each model batch with its inputs and seconds (the manager binds
  // ManagerOptions::on_batch with kind "encoder" here). Must be cheap and thread-safe.
  std::function<void(size_t size, double seconds)> on_batch;
};

struct RunStats {
  double queue_ms = 0;      // waiting for a batch
  double compute_ms = 0;    // the batch's model time (shared by every request in it)
  size_t batch_size = 0;    // inputs in the batch this request ran in
  int64_t input_tokens = 0; // this request's tokens (Pipeline::count_tokens), -1 when unknown
};

// One queue and one worker thread per (model, task). A worker takes every queued request whose
// parameters equal the first one's, up to the token budget, and runs them as one
// Pipeline::run_batch; so element i of a request's result equals Pipeline::run(inputs[i]).
class EncoderQueue {
 public:
  EncoderQueue(std::shared_ptr<const Pipeline> pipeline, QueueOptions options);
  ~EncoderQueue();  // fails queued requests with kUnavailable, joins the worker
  // Blocks until this request's results are ready. `gone` is polled while waiting: when it
  // returns true before the batch starts, the request is dropped (kUnavailable is thrown).
  // Throws kOverloaded when the queue is full, kValidation for bad input (the pipeline's
  // kInvalidArgument message), kGeneration for other pipeline failures.
  std::vector<json> run(std::vector<json> inputs, const json& params,
                        const std::function<bool()>& gone, RunStats* stats = nullptr);
  size_t queued() const;
  const Pipeline& pipeline() const { return *pipeline_; }

 private:
  struct Impl;
  std::shared_ptr<const Pipeline> pipeline_;
  std::unique_ptr<Impl> impl_;
};

// ---- Generation: continuous batching ---------------------------------------------------------

struct GenerationOptions {
  size_t max_queued_requests = 256;  // waiting + running; beyond: kOverloaded
  size_t max_running = 16;           // sequences in one step at most (the rest wait)
  int64_t max_input_tokens = 0;      // 0 = the model's max_positions() - 1
  // A new request that would wait longer than this for a slot is refused at once (kOverloaded,
  // Retry-After) instead of queueing: the wait is estimated from the requests ahead of it and
  // the mean time a finished request held its slot (once 4 requests finished). Under sustained
  // overload this answers 429 within seconds, where the queue limit alone would let clients wait
  // minutes first. 0 = no limit.
  double max_wait_seconds = 30;
  // Called by the engine's thread after each step: kind "prefill" (the step ran new prompts) or
  // "decode", with the sequences in the step and its seconds. Must be cheap and thread-safe.
  std::function<void(const char* kind, size_t size, double seconds)> on_batch;
};

// One generated token as the routes report it.
struct TokenEvent {
  int64_t id = 0;
  std::string text;      // this token's share of the output text: the UTF-8-safe streamer piece
                         // (TextStreamer, special tokens skipped); "" while bytes are incomplete.
                         // Concatenated over a request they give GenerationOutcome::text.
  std::string token_text;  // the token alone, decoded with special tokens (TGI's token.text)
  float logprob = 0;     // log-probability of the token under the processed distribution
  bool special = false;
  size_t index = 0;      // 0-based position in the generated sequence
};

struct GenerationOutcome {
  std::vector<int64_t> prompt;
  std::vector<int64_t> tokens;  // generated (eos / stop token included)
  std::string text;             // concatenation of every TokenEvent::text, plus the streamer's flush
  generation::FinishReason finish_reason = generation::FinishReason::kNone;
  uint64_t seed = 0;
  double queue_ms = 0, inference_ms = 0;
};

class GenerationEngine;

// A submitted request: the route's thread pulls its events while the engine's thread produces
// them.
class GenerationHandle {
 public:
  // Waits up to `timeout` for the next event. Returns the event; nullopt when none came in time
  // (check finished()) or the request is finished and every event was taken.
  std::optional<TokenEvent> next(std::chrono::milliseconds timeout);
  bool finished() const;
  // After finished(): the outcome. Throws the InferenceError that ended the request, if one did.
  GenerationOutcome outcome() const;
  // Stops generating (client gone); the outcome's finish_reason becomes kCancelled.
  void cancel();

 private:
  friend class GenerationEngine;
  struct State;
  std::shared_ptr<State> state_;
};

// One engine (one thread driving a generation::Generator) per loaded language model.
class GenerationEngine {
 public:
  GenerationEngine(std::shared_ptr<const LanguageModel> model, GenerationOptions options);
  ~GenerationEngine();  // cancels everything, joins
  // Queues a request. Throws kOverloaded when full, kValidation for a bad config or a prompt
  // longer than max_input_tokens (message names both lengths).
  GenerationHandle submit(std::vector<int64_t> prompt, const generation::GenerationConfig& config);
  const LanguageModel& model() const { return *model_; }
  size_t queued() const;   // waiting for a slot
  size_t running() const;  // in the running batch
  int64_t max_input_tokens() const;
  // The options it runs with (TGI's /info reports max_queued_requests as max_concurrent_requests).
  const GenerationOptions& options() const;

 private:
  struct Impl;
  std::shared_ptr<const LanguageModel> model_;
  std::unique_ptr<Impl> impl_;
};

// ---- Loaded models ---------------------------------------------------------------------------

// A loaded model serving one kind of work: an encoder pipeline for one task, or a language model
// for text-generation and chat. Stays loaded while a request holds its shared_ptr.
class ServedModel {
 public:
  const ModelInfo& info() const { return info_; }
  const std::string& task() const { return task_; }  // the pipeline task, or "text-generation"
  EncoderQueue* encoder() const { return encoder_.get(); }        // null for generation
  GenerationEngine* generator() const { return generator_.get(); }  // null for encoder tasks
  uint64_t bytes() const { return info_.weight_bytes; }

 private:
  friend class ModelManager;
  ModelInfo info_;
  std::string task_;
  std::unique_ptr<EncoderQueue> encoder_;
  std::unique_ptr<GenerationEngine> generator_;
};

struct ManagerOptions {
  uint64_t memory_budget_bytes = 8ull << 30;  // sum of loaded models' weight_bytes at most
  QueueOptions queue;
  GenerationOptions generation;
  // Called after every model batch (from the worker / engine thread; must be cheap and
  // thread-safe): kind "encoder", "prefill" (a step that ran new prompts) or "decode".
  std::function<void(const std::string& model, const char* kind, size_t size, double seconds)> on_batch;
};

class ModelManager {
 public:
  ModelManager(std::unique_ptr<ModelSource> source, ManagerOptions options);
  ~ModelManager();

  // The task a request runs when it names none: the card's pipeline_tag, mapped onto mlhub's
  // pipelines (sentence-similarity models embed with "sentence-embeddings" when the input is
  // text, conversational text-generation models chat). Resolves the repo (access checked).
  ModelInfo resolve(const std::string& repo_id, const std::string& revision, const std::string& token);

  // The model loaded for `task` ("text-generation" and "chat" share one language model; every
  // other task is a pipeline task name). Loads it when needed: concurrent callers of the same
  // (repo, commit, task) wait for one load. To make room, evicts the least recently used models
  // no request holds. Throws kModelTooLarge when it cannot fit the budget even alone,
  // kOverloaded when the budget is taken by models in use, kUnsupported when the model cannot
  // run the task, kNotFound from the source.
  std::shared_ptr<ServedModel> acquire(const ModelInfo& info, const std::string& task);

  struct Loaded {
    std::string repo_id, commit, task;
    uint64_t bytes = 0;
    bool in_use = false;
    size_t queued = 0;   // requests waiting for a batch / a generation slot
    size_t running = 0;  // sequences in the running generation batch
  };
  std::vector<Loaded> loaded() const;
  uint64_t used_bytes() const;
  const ManagerOptions& options() const;  // as configured (what /info reports)

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlhub::inference
