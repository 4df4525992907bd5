// Usage metering, quotas per plan, and Prometheus metrics of the inference routes.
//
// Every inference request is admitted (Meter::admit: auth, rate and monthly quotas, the plan's
// largest model) before it runs and recorded (Meter::record) after it ran. Records are buffered
// in memory and written to the MetadataStore in batches (every second and at shutdown), so
// metering costs no SQLite write per request; quotas are checked against in-memory counters
// seeded from the store. docs/inference.md, "Metering and quotas".
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/store.h"
#include "server/inference/engine.h"

namespace mlhub::hub {
struct Caller;
}

namespace mlhub::inference {

struct MeterOptions {
  // Whether requests without a token may run public models (billed to no one, under the
  // "anonymous" plan's limits when such a plan exists). Default: a token is required, as on the
  // Hugging Face Inference API.
  bool allow_anonymous = false;
  std::string default_plan = "free";  // the plan of accounts without an assigned plan
  int flush_interval_ms = 1000;
};

// Who pays for a request, decided by admit().
struct Admission {
  int64_t user_id = 0;         // the token's user; 0 = anonymous
  int64_t account_id = 0;      // billed account: the user, or the org named by X-HF-Bill-To
  std::string account_name;
  std::string token_name;
  std::string plan;            // the plan applied
  // Rate-limit headers for the response (RateLimit, RateLimit-Policy), possibly empty.
  std::vector<std::pair<std::string, std::string>> headers;
};

class Meter {
 public:
  Meter(store::MetadataStore& meta, MeterOptions options);
  ~Meter();  // flushes

  // Decides who pays and whether the request may run. `bill_to` is the X-HF-Bill-To header
  // (an org the caller belongs to; kForbidden otherwise). Throws InferenceError:
  // kUnauthorized (no token and anonymous calls are off), kRateLimited (requests per minute, or
  // the monthly character / token allowance used up; retry_after_seconds set: until the minute
  // window frees a slot, or until the month ends), kForbidden (model_bytes above the plan's
  // max_model_bytes, or bad bill_to). Counts the request toward the per-minute window.
  // `model` (the repo id) only names the model in the kForbidden message.
  Admission admit(const hub::Caller& caller, const std::string& bill_to, uint64_t model_bytes,
                  const std::string& model = {});

  // Adds one finished request's usage (also failed ones: status >= 400, they count as requests
  // but their characters and tokens are whatever was processed).
  void record(const Admission& who, store::UsageRecord record);

  // Writes buffered records now.
  void flush();

  // GET /api/usage for `account_id` (see docs/inference.md): totals and per-model, per-day rows
  // between `from` and `to` (unix seconds; defaults: the current month).
  nlohmann::json usage_json(int64_t account_id, std::optional<int64_t> from, std::optional<int64_t> to);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The Prometheus registry of the inference routes (prometheus-cpp), served at GET /metrics.
// Names follow text-generation-inference's where one exists (docs/inference.md lists them).
class Metrics {
 public:
  Metrics();
  ~Metrics();
  // One finished request. route: "task", "generate", "chat", "completions", "embed", ...
  void request(const std::string& model, const std::string& route, int status, double total_s,
               double queue_s, double inference_s, int64_t input_tokens, int64_t output_tokens);
  void batch(const std::string& model, const std::string& kind /*"encoder","prefill","decode"*/,
             size_t size, double seconds);
  void queue_size(const std::string& model, size_t queued, size_t running);
  void models_loaded(size_t count, uint64_t bytes);
  // The exposition text (text/plain; version=0.0.4).
  std::string text() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mlhub::inference
