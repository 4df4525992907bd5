// The mlhub side of the encoder benchmark (bench/run_encoder_bench.py runs it beside ONNX
// Runtime and PyTorch). Prints one JSON line.
//
//   encoder_bench MODEL_DIR shape BATCH SEQ ITERS     forward on synthetic ids (the same ids the
//                                                     peer script builds), ITERS timed runs
//   encoder_bench MODEL_DIR sentences FILE BATCH ITERS tokenize + forward over every line of
//                                                     FILE in batches of BATCH (padded to the
//                                                     longest in the batch, truncated at 128)
//   encoder_bench MODEL_DIR load                      load time and memory only
//
// Threads come from MLHUB_NUM_THREADS, as for every mlhub program.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/models.h"
#include "mlhub/tokenizers.h"

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double peak_rss_mb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_maxrss) / 1024.0;
}

double current_rss_mb() {
  std::ifstream in("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  in >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * 4096.0 / (1024.0 * 1024.0);
}

// Synthetic input shared with bench/encoder_peer.py: [CLS] ids... [SEP], no padding.
mlhub::models::EncoderInput synthetic_input(int64_t batch, int64_t seq) {
  std::vector<int64_t> ids(batch * seq), mask(batch * seq, 1);
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t t = 0; t < seq; ++t)
      ids[b * seq + t] = t == 0 ? 101 : t == seq - 1 ? 102 : 1000 + (b * 131 + t * 17) % 1000;
  mlhub::models::EncoderInput in;
  in.input_ids = mlhub::Tensor::from_ints(ids, {batch, seq});
  in.attention_mask = mlhub::Tensor::from_ints(mask, {batch, seq});
  in.token_type_ids = mlhub::Tensor::zeros(mlhub::DType::kI64, {batch, seq});
  return in;
}

mlhub::models::EncoderInput tokenize_batch(const mlhub::tok::Tokenizer& tokenizer,
                                           const std::vector<std::string>& lines, size_t begin,
                                           size_t end) {
  std::vector<std::vector<int64_t>> rows;
  size_t longest = 0;
  for (size_t i = begin; i < end; ++i) {
    const auto enc = tokenizer.encode(lines[i], /*add_special_tokens=*/true).value();
    std::vector<int64_t> ids(enc.ids.begin(), enc.ids.end());
    if (ids.size() > 128) {
      const int64_t last = ids.back();
      ids.resize(128);
      ids.back() = last;
    }
    longest = std::max(longest, ids.size());
    rows.push_back(std::move(ids));
  }
  const int64_t b = static_cast<int64_t>(rows.size()), t = static_cast<int64_t>(longest);
  std::vector<int64_t> ids(b * t, 0), mask(b * t, 0);
  for (int64_t i = 0; i < b; ++i)
    for (size_t j = 0; j < rows[i].size(); ++j) {
      ids[i * t + j] = rows[i][j];
      mask[i * t + j] = 1;
    }
  mlhub::models::EncoderInput in;
  in.input_ids = mlhub::Tensor::from_ints(ids, {b, t});
  in.attention_mask = mlhub::Tensor::from_ints(mask, {b, t});
  in.token_type_ids = mlhub::Tensor::zeros(mlhub::DType::kI64, {b, t});
  return in;
}

int usage() {
  std::fprintf(stderr,
               "usage: encoder_bench MODEL_DIR shape BATCH SEQ ITERS\n"
               "       encoder_bench MODEL_DIR sentences FILE BATCH ITERS\n"
               "       encoder_bench MODEL_DIR load\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) return usage();
  const std::string folder = argv[1], mode = argv[2];
  nlohmann::json out;
  out["side"] = "mlhub";
  out["mode"] = mode;
  const double rss_before = current_rss_mb();
  const auto t_load = Clock::now();
  mlhub::models::LoadOptions options;
  options.head = mlhub::models::Head::kBase;
  auto model = mlhub::models::load_encoder(folder, options);
  if (!model.ok()) {
    std::fprintf(stderr, "encoder_bench: %s\n", model.status().to_string().c_str());
    return 1;
  }
  out["load_s"] = seconds_since(t_load);
  out["rss_after_load_mb"] = current_rss_mb() - rss_before;

  std::vector<double> times;
  if (mode == "shape" && argc == 6) {
    const int64_t batch = std::stoll(argv[3]), seq = std::stoll(argv[4]);
    const int iters = std::stoi(argv[5]);
    const auto input = synthetic_input(batch, seq);
    (*model)->forward(input);  // warm-up
    for (int i = 0; i < iters; ++i) {
      const auto t0 = Clock::now();
      auto o = (*model)->forward(input);
      times.push_back(seconds_since(t0));
    }
    out["batch"] = batch;
    out["seq"] = seq;
    out["sentences"] = batch;
  } else if (mode == "sentences" && argc == 6) {
    std::ifstream in(argv[3]);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) lines.push_back(line);
    const size_t batch = std::stoul(argv[4]);
    const int iters = std::stoi(argv[5]);
    auto tokenizer = mlhub::tok::Tokenizer::from_pretrained(folder);
    if (!tokenizer.ok()) {
      std::fprintf(stderr, "encoder_bench: %s\n", tokenizer.status().to_string().c_str());
      return 1;
    }
    auto pass = [&] {
      for (size_t b = 0; b < lines.size(); b += batch)
        (*model)->forward(tokenize_batch(*tokenizer, lines, b, std::min(lines.size(), b + batch)));
    };
    pass();  // warm-up
    for (int i = 0; i < iters; ++i) {
      const auto t0 = Clock::now();
      pass();
      times.push_back(seconds_since(t0));
    }
    out["batch"] = batch;
    out["sentences"] = lines.size();
  } else if (mode != "load") {
    return usage();
  }
  out["times"] = times;
  out["peak_rss_mb"] = peak_rss_mb();
  std::cout << out.dump() << std::endl;
  return 0;
}
