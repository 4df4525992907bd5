// Decoder benchmark, mlhub side (bench/run_decoder_bench.py runs it beside llama.cpp and
// PyTorch): loads a decoder (a Hugging Face folder or a .gguf file), then for each of `rounds`
// rounds on a fresh KV cache times prompt processing (one forward over the prompt, logits of the
// last token only) and generation (greedy, one token per forward, argmax over the full vocab).
// Prints one JSON line: load seconds, median prompt tokens/s, median generation tokens/s, peak
// RSS. Threads: MLHUB_NUM_THREADS.
//
//   decoder_bench MODEL PROMPT_IDS_JSON [--gen N] [--rounds K] [--dequantize]
//   decoder_bench --bandwidth   read bandwidth of this machine with MLHUB_NUM_THREADS threads:
//                               sums of a 1 GiB buffer split over the pool, best of 5, GB/s
#include <immintrin.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/core.h"
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

// Read bandwidth: each lane sums its contiguous part of a 1 GiB buffer with AVX2 loads.
int bandwidth() {
  const size_t n = size_t{1} << 28;  // floats
  std::vector<float> buf(n, 1.0f);
  mlhub::ThreadPool& pool = mlhub::ThreadPool::global();
  const size_t lanes = pool.lanes();
  double best = 0;
  std::vector<float> sums(lanes);
  for (int rep = 0; rep < 5; ++rep) {
    const double a = now();
    pool.parallel_for(lanes, [&](size_t lane) {
      const size_t lo = n * lane / lanes, hi = n * (lane + 1) / lanes;
      __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
      for (size_t i = lo; i + 16 <= hi; i += 16) {
        acc0 = _mm256_add_ps(acc0, _mm256_loadu_ps(&buf[i]));
        acc1 = _mm256_add_ps(acc1, _mm256_loadu_ps(&buf[i + 8]));
      }
      alignas(32) float t[8];
      _mm256_store_ps(t, _mm256_add_ps(acc0, acc1));
      sums[lane] = t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
    });
    best = std::max(best, static_cast<double>(n * sizeof(float)) / (now() - a));
  }
  nlohmann::json out = {{"read_gb_s", best / 1e9}, {"lanes", lanes}, {"check", sums[0] > 0}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

int main(int argc, char** argv) {
  if (argc == 2 && !std::strcmp(argv[1], "--bandwidth")) return bandwidth();
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
