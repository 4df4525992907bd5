// Shared by the inference engine tests: the tiny model folders of tests/golden/pipelines/models,
// and a Pipeline wrapper whose first batches can be held back so that the queue fills up
// deterministically behind them.
#pragma once

#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mlhub/pipelines.h"
#include "server/inference/engine.h"

namespace mlhub::inference::testing {

namespace fs = std::filesystem;
using nlohmann::json;

inline const fs::path kModels = fs::path(MLHUB_SOURCE_DIR) / "tests/golden/pipelines/models";

// llama-tiny-qwen-tok has no tokenizer.json (7 MB); like the text-generation test, link its
// files and the shared Qwen2.5 tokenizer.json into a temporary folder.
inline const fs::path& llama_folder() {
  static const fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("mlhub-inference-llama-" + std::to_string(::getpid()));
    fs::remove_all(d);
    fs::create_directories(d);
    for (const auto& e : fs::directory_iterator(kModels / "llama-tiny-qwen-tok")) {
      fs::create_symlink(fs::absolute(e.path()), d / e.path().filename());
    }
    fs::create_symlink(fs::path(MLHUB_SHARED_DIR) / "data/tokenizers/qwen2.5/tokenizer.json",
                       d / "tokenizer.json");
    return d;
  }();
  return dir;
}

// The kind of the InferenceError `fn` throws (a test failure when it throws none).
inline ErrorKind kind_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const InferenceError& e) {
    return e.kind;
  }
  ADD_FAILURE() << "no InferenceError thrown";
  return ErrorKind::kGeneration;
}

// Delegates to a real pipeline; while closed, run_batch waits (so requests pile up in the
// queue behind the batch that runs). Records the inputs of every batch.
class GatedPipeline final : public Pipeline {
 public:
  explicit GatedPipeline(std::shared_ptr<const Pipeline> inner) : inner_(std::move(inner)) {
    task_ = inner_->task();
  }
  json run(const json& input, const json& params) const override {
    return inner_->run(input, params);
  }
  std::vector<json> run_batch(const std::vector<json>& inputs, const json& params) const override {
    {
      std::unique_lock lock(mu_);
      ++entered_;
      cv_.notify_all();
      cv_.wait(lock, [&] { return open_; });
      batches_.push_back(inputs);
    }
    return inner_->run_batch(inputs, params);
  }
  int64_t count_tokens(const json& input, const json& params) const override {
    return inner_->count_tokens(input, params);
  }
  void open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Waits until `n` batches have reached run_batch.
  void wait_entered(int n) const {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return entered_ >= n; });
  }
  std::vector<std::vector<json>> batches() const {
    std::lock_guard lock(mu_);
    return batches_;
  }

 private:
  std::shared_ptr<const Pipeline> inner_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable int entered_ = 0;
  mutable std::vector<std::vector<json>> batches_;
  bool open_ = false;
};

}  // namespace mlhub::inference::testing
