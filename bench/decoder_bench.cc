// Decoder benchmark, mlhub side (bench/run_decoder_bench.py runs it beside llama.cpp and
// PyTorch): loads a decoder (a Hugging Face folder or a .gguf file), then for each of `rounds`
// rounds on a fresh KV cache times prompt processing (one forward over the prompt, logits of the
// last token only) and generation (greedy, one token per forward, argmax over the full vocab).
// Prints one JSON line: load seconds, median prompt tokens/s, median generation tokens/s, peak
// RSS. Threads: MLHUB_NUM_THREADS.
//
//   decoder_bench MODEL PROMPT_IDS_JSON [--gen N] [--rounds K] [--dequantize]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/models.h"

namespace {

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: decoder_bench MODEL PROMPT_IDS_JSON [--gen N] [--rounds K] "
                         "[--dequantize]\n");
    return 2;
  }
  int gen = 128, rounds = 3;
  mlhub::models::DecoderLoadOptions options;
  for (int i = 3; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--gen") && i + 1 < argc) gen = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--dequantize")) options.dequantize = true;
  }
  std::ifstream in(argv[2]);
  const std::vector<int64_t> prompt = nlohmann::json::parse(in).get<std::vector<int64_t>>();
  const double t0 = now();
  auto loaded = mlhub::models::load_decoder(argv[1], options);
  if (!loaded.ok()) {
    std::fprintf(stderr, "decoder_bench: %s\n", loaded.status().to_string().c_str());
    return 1;
  }
  const auto& model = **loaded;
  const double load_s = now() - t0;
  std::vector<double> pp, tg;
  std::vector<int64_t> tokens;
  for (int r = 0; r < rounds; ++r) {
    mlhub::models::KvCache cache = model.new_cache();
    const double a = now();
    const mlhub::models::DecoderSequence seq{prompt, &cache, false};
    mlhub::Tensor logits = model.forward({&seq, 1});
    const double b = now();
    pp.push_back(static_cast<double>(prompt.size()) / (b - a));
    tokens.clear();
    const double c = now();
    for (int i = 0; i < gen; ++i) {
      const float* row = logits.data<float>();
      const int64_t next = std::max_element(row, row + logits.dim(1)) - row;
      tokens.push_back(next);
      const mlhub::models::DecoderSequence step{std::span<const int64_t>(&tokens.back(), 1),
                                                &cache, false};
      logits = model.forward({&step, 1});
    }
    tg.push_back(gen / (now() - c));
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  nlohmann::json out = {{"side", "mlhub"},
                        {"load_s", load_s},
                        {"prompt_tokens", prompt.size()},
                        {"gen_tokens", gen},
                        {"pp_tok_s", median(pp)},
                        {"tg_tok_s", median(tg)},
                        {"peak_rss_mb", usage.ru_maxrss / 1024.0},
                        {"first_tokens", std::vector<int64_t>(tokens.begin(),
                                                              tokens.begin() + std::min(8, gen))}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
