// Metrics (src/server/inference/metrics.cc): the exposition text a Prometheus scrape reads.
#include <gtest/gtest.h>

#include <sstream>

#include "server/inference/metering.h"

namespace mlhub::inference {
namespace {

// The value of the sample line `series` (name{labels}) in `text`, or -1 when absent.
double sample(const std::string& text, const std::string& series) {
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(series + " ", 0) == 0) return std::stod(line.substr(series.size() + 1));
  }
  return -1;
}

TEST(MetricsTest, RequestsBatchesAndGaugesRender) {
  Metrics m;
  m.request("org/llama", "chat", 200, 0.5, 0.1, 0.4, 12, 30);
  m.request("org/llama", "chat", 200, 2.0, 0.0, 2.0, 8, 10);
  m.request("org/llama", "chat", 429, 0.001, 0, 0, -1, 0);
  m.request("org/bert", "embed", 200, 0.02, 0.005, 0.01, 5, 0);
  m.batch("org/llama", "decode", 4, 0.03);
  m.batch("org/llama", "decode", 2, 0.01);
  m.batch("org/bert", "encoder", 16, 0.2);
  m.queue_size("org/llama", 7, 3);
  m.models_loaded(2, 123456789);
  const std::string text = m.text();

  EXPECT_NE(text.find("# TYPE tgi_request_count counter"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE tgi_request_duration histogram"), std::string::npos);
  EXPECT_NE(text.find("# TYPE tgi_queue_size gauge"), std::string::npos);

  EXPECT_EQ(sample(text, R"(tgi_request_count{model="org/llama",route="chat"})"), 3);
  EXPECT_EQ(sample(text, R"(tgi_request_success{model="org/llama",route="chat"})"), 2);
  EXPECT_EQ(sample(text, R"(tgi_request_failure{model="org/llama",route="chat",status="429"})"), 1);
  EXPECT_EQ(sample(text, R"(tgi_request_count{model="org/bert",route="embed"})"), 1);
  // Histograms: successful requests only.
  EXPECT_EQ(sample(text, R"(tgi_request_duration_count{model="org/llama",route="chat"})"), 2);
  EXPECT_DOUBLE_EQ(sample(text, R"(tgi_request_duration_sum{model="org/llama",route="chat"})"), 2.5);
  EXPECT_EQ(sample(text, R"(tgi_request_duration_bucket{model="org/llama",route="chat",le="1"})"), 1);
  EXPECT_EQ(sample(text, R"(tgi_request_duration_bucket{model="org/llama",route="chat",le="+Inf"})"), 2);
  EXPECT_DOUBLE_EQ(sample(text, R"(tgi_request_queue_duration_sum{model="org/llama",route="chat"})"), 0.1);
  EXPECT_DOUBLE_EQ(sample(text, R"(tgi_request_inference_duration_sum{model="org/llama",route="chat"})"), 2.4);
  EXPECT_EQ(sample(text, R"(tgi_request_input_length_sum{model="org/llama",route="chat"})"), 20);
  EXPECT_EQ(sample(text, R"(tgi_request_generated_tokens_sum{model="org/llama",route="chat"})"), 40);
  EXPECT_EQ(sample(text, R"(tgi_request_generated_tokens_bucket{model="org/llama",route="chat",le="16"})"), 1);
  // An embedding generates nothing: no generated-tokens series for it.
  EXPECT_EQ(sample(text, R"(tgi_request_generated_tokens_count{model="org/bert",route="embed"})"), -1);
  EXPECT_EQ(sample(text, R"(tgi_request_input_length_count{model="org/bert",route="embed"})"), 1);

  EXPECT_EQ(sample(text, R"(mlhub_generated_tokens_total{model="org/llama"})"), 40);
  EXPECT_EQ(sample(text, R"(mlhub_input_tokens_total{model="org/llama"})"), 20);
  EXPECT_EQ(sample(text, R"(mlhub_input_tokens_total{model="org/bert"})"), 5);

  EXPECT_EQ(sample(text, R"(tgi_batch_inference_count{method="decode",model="org/llama"})"), 2);
  EXPECT_EQ(sample(text, R"(tgi_batch_inference_count{method="encoder",model="org/bert"})"), 1);
  EXPECT_EQ(sample(text, R"(tgi_batch_next_size_sum{method="decode",model="org/llama"})"), 6);
  EXPECT_EQ(sample(text, R"(tgi_batch_next_size_bucket{method="decode",model="org/llama",le="2"})"), 1);
  EXPECT_DOUBLE_EQ(sample(text, R"(tgi_batch_forward_duration_sum{method="encoder",model="org/bert"})"), 0.2);
  EXPECT_EQ(sample(text, R"(tgi_batch_current_size{model="org/bert"})"), 16);
  EXPECT_EQ(sample(text, R"(tgi_batch_current_size{model="org/llama"})"), 3);  // queue_size came last
  EXPECT_EQ(sample(text, R"(tgi_queue_size{model="org/llama"})"), 7);
  EXPECT_EQ(sample(text, "mlhub_models_loaded"), 2);
  EXPECT_EQ(sample(text, "mlhub_models_loaded_bytes"), 123456789);
}

TEST(MetricsTest, EmptyRegistryStillNamesTheFamilies) {
  Metrics m;
  const std::string text = m.text();
  EXPECT_EQ(sample(text, "mlhub_models_loaded"), 0);
  EXPECT_EQ(text.find("tgi_request_count{"), std::string::npos);
}

}  // namespace
}  // namespace mlhub::inference
