// Metrics: the Prometheus registry of the inference routes (metering.h), on prometheus-cpp.
// Names follow text-generation-inference's (docs/inference-api.md §4.8) so TGI dashboards work;
// mlhub_* names cover what TGI has no metric for. Label values: model = repo id, route = the
// dispatcher's route name, method = batch kind ("encoder", "prefill", "decode").
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "server/inference/metering.h"

namespace mlhub::inference {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// Seconds: from a cached embedding (milliseconds) to a long generation (minutes).
const Histogram::BucketBoundaries kSeconds = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                              0.5,   1,      2.5,   5,    10,    30,   60,  120};
// Token counts and batch sizes: powers of two.
Histogram::BucketBoundaries powers_of_two(double top) {
  Histogram::BucketBoundaries b;
  for (double v = 1; v <= top; v *= 2) b.push_back(v);
  return b;
}

}  // namespace

struct Metrics::Impl {
  prometheus::Registry registry;

  Family<Counter>& request_count = BuildCounter().Name("tgi_request_count").Help("Inference requests received").Register(registry);
  Family<Counter>& request_success =
      BuildCounter().Name("tgi_request_success").Help("Inference requests answered with a status below 400").Register(registry);
  Family<Counter>& request_failure =
      BuildCounter().Name("tgi_request_failure").Help("Inference requests answered with a status of 400 or more").Register(registry);
  Family<Histogram>& request_duration =
      BuildHistogram().Name("tgi_request_duration").Help("Successful requests' total time in seconds").Register(registry);
  Family<Histogram>& queue_duration = BuildHistogram()
                                          .Name("tgi_request_queue_duration")
                                          .Help("Successful requests' time waiting for a batch, in seconds")
                                          .Register(registry);
  Family<Histogram>& inference_duration = BuildHistogram()
                                              .Name("tgi_request_inference_duration")
                                              .Help("Successful requests' model time in seconds")
                                              .Register(registry);
  Family<Histogram>& input_length =
      BuildHistogram().Name("tgi_request_input_length").Help("Successful requests' input tokens").Register(registry);
  Family<Histogram>& generated_tokens =
      BuildHistogram().Name("tgi_request_generated_tokens").Help("Successful requests' generated tokens").Register(registry);
  Family<Counter>& batch_count =
      BuildCounter().Name("tgi_batch_inference_count").Help("Batches run, by kind (method)").Register(registry);
  Family<Histogram>& batch_size =
      BuildHistogram().Name("tgi_batch_next_size").Help("Sequences per batch, by kind (method)").Register(registry);
  Family<Histogram>& batch_duration =
      BuildHistogram().Name("tgi_batch_forward_duration").Help("Batches' model time in seconds, by kind (method)").Register(registry);
  Family<Gauge>& queue_size = BuildGauge().Name("tgi_queue_size").Help("Requests waiting, per model").Register(registry);
  Family<Gauge>& batch_current_size =
      BuildGauge().Name("tgi_batch_current_size").Help("Sequences in the running batch, per model").Register(registry);
  Family<Gauge>& models_loaded = BuildGauge().Name("mlhub_models_loaded").Help("Models in memory").Register(registry);
  Family<Gauge>& models_loaded_bytes =
      BuildGauge().Name("mlhub_models_loaded_bytes").Help("Weight bytes of the models in memory").Register(registry);
  Family<Counter>& input_tokens_total =
      BuildCounter().Name("mlhub_input_tokens_total").Help("Input tokens processed, per model").Register(registry);
  Family<Counter>& generated_tokens_total = BuildCounter()
                                                .Name("mlhub_generated_tokens_total")
                                                .Help("Tokens generated, per model; rate() gives tokens per second")
                                                .Register(registry);
  Gauge& loaded = models_loaded.Add({});
  Gauge& loaded_bytes = models_loaded_bytes.Add({});
  const Histogram::BucketBoundaries token_buckets = powers_of_two(65536);
  const Histogram::BucketBoundaries size_buckets = powers_of_two(512);
};

Metrics::Metrics() : impl_(std::make_unique<Impl>()) {}
Metrics::~Metrics() = default;

void Metrics::request(const std::string& model, const std::string& route, int status, double total_s, double queue_s,
                      double inference_s, int64_t input_tokens, int64_t output_tokens) {
  Impl& m = *impl_;
  const prometheus::Labels labels = {{"model", model}, {"route", route}};
  m.request_count.Add(labels).Increment();
  // Token counts of failed requests are whatever was processed before the failure: still work.
  if (input_tokens > 0) m.input_tokens_total.Add({{"model", model}}).Increment(static_cast<double>(input_tokens));
  if (output_tokens > 0) m.generated_tokens_total.Add({{"model", model}}).Increment(static_cast<double>(output_tokens));
  if (status >= 400) {
    m.request_failure.Add({{"model", model}, {"route", route}, {"status", std::to_string(status)}}).Increment();
    return;
  }
  // As in TGI, latency and length histograms describe successful requests only: a 429 answered
  // in a microsecond would otherwise pull the latency quantiles down.
  m.request_success.Add(labels).Increment();
  m.request_duration.Add(labels, kSeconds).Observe(total_s);
  m.queue_duration.Add(labels, kSeconds).Observe(queue_s);
  m.inference_duration.Add(labels, kSeconds).Observe(inference_s);
  if (input_tokens >= 0) m.input_length.Add(labels, m.token_buckets).Observe(static_cast<double>(input_tokens));
  // Only routes that generate have output tokens; an embedding's 0 is not a generation length.
  if (output_tokens > 0) m.generated_tokens.Add(labels, m.token_buckets).Observe(static_cast<double>(output_tokens));
}

void Metrics::batch(const std::string& model, const std::string& kind, size_t size, double seconds) {
  Impl& m = *impl_;
  const prometheus::Labels labels = {{"model", model}, {"method", kind}};
  m.batch_count.Add(labels).Increment();
  m.batch_size.Add(labels, m.size_buckets).Observe(static_cast<double>(size));
  m.batch_duration.Add(labels, kSeconds).Observe(seconds);
  m.batch_current_size.Add({{"model", model}}).Set(static_cast<double>(size));
}

void Metrics::queue_size(const std::string& model, size_t queued, size_t running) {
  impl_->queue_size.Add({{"model", model}}).Set(static_cast<double>(queued));
  impl_->batch_current_size.Add({{"model", model}}).Set(static_cast<double>(running));
}

void Metrics::models_loaded(size_t count, uint64_t bytes) {
  impl_->loaded.Set(static_cast<double>(count));
  impl_->loaded_bytes.Set(static_cast<double>(bytes));
}

std::string Metrics::text() const {
  return prometheus::TextSerializer().Serialize(impl_->registry.Collect());
}

}  // namespace mlhub::inference
