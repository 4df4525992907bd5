// Seq2seq benchmark, mlhub side (bench/run_seq2seq_bench.py runs it beside PyTorch transformers
// and CTranslate2, bench/seq2seq_peer.py): loads an encoder-decoder model, then times
// generate_seq2seq over a batch of sources (encoder + beam search) with the settings the peers
// use: `beams` beams, min = max = `new` new tokens, the model folder's generation_config.json
// with t5-small's summarization parameters (length_penalty 2.0, early_stopping,
// no_repeat_ngram_size 3 unless --ngram; 0 turns it off). One untimed warm-up call on a short
// source (first 32 tokens, 2 new tokens), as the peers do. Threads: MLHUB_NUM_THREADS.
// Prints one JSON line: load seconds, median seconds per sequence (round time / batch size),
// sequences/s, per source the best beam's generated ids and score, peak RSS.
//
//   seq2seq_bench MODEL_DIR INPUT_IDS_JSON [--rounds K] [--new N] [--beams B] [--ngram N]
//
// INPUT_IDS_JSON: a list of sources, each a list of token ids (eos included).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/generation.h"
#include "mlhub/models.h"

namespace {

namespace gen = mlhub::generation;

double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

int fail(const std::string& what) {
  std::fprintf(stderr, "seq2seq_bench: %s\n", what.c_str());
  return 1;
}

// Parses a non-negative integer option value; -1 on anything else.
int count(const char* text) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  return (end != text && *end == '\0' && v >= 0 && v < 1'000'000) ? static_cast<int>(v) : -1;
}

int run(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: seq2seq_bench MODEL_DIR INPUT_IDS_JSON [--rounds K] [--new N] "
                 "[--beams B] [--ngram N]\n");
    return 2;
  }
  int rounds = 1, new_tokens = 64, beams = 4, ngram = 3;
  for (int i = 3; i < argc; ++i) {
    int* target = !std::strcmp(argv[i], "--rounds")  ? &rounds
                  : !std::strcmp(argv[i], "--new")   ? &new_tokens
                  : !std::strcmp(argv[i], "--beams") ? &beams
                  : !std::strcmp(argv[i], "--ngram") ? &ngram
                                                     : nullptr;
    if (!target || i + 1 >= argc || (*target = count(argv[++i])) < (target == &ngram ? 0 : 1))
      return fail(std::string("bad option or value near '") + argv[i] + "'");
  }
  std::vector<std::vector<int64_t>> sources;
  try {
    std::ifstream in(argv[2]);
    if (!in) return fail(std::string("cannot read ") + argv[2]);
    sources = nlohmann::json::parse(in).get<std::vector<std::vector<int64_t>>>();
  } catch (const std::exception& e) {
    return fail(std::string("INPUT_IDS_JSON must be a list of lists of ids: ") + e.what());
  }
  if (sources.empty()) return fail("INPUT_IDS_JSON holds no source");

  const double t0 = now();
  auto loaded = mlhub::models::load_seq2seq(argv[1]);
  if (!loaded.ok()) return fail(loaded.status().to_string());
  const mlhub::models::Seq2SeqModel& model = **loaded;
  const double load_s = now() - t0;

  auto config = gen::GenerationConfig::load(argv[1]);
  if (!config.ok()) return fail(config.status().to_string());
  config->num_beams = beams;
  config->max_new_tokens = new_tokens;
  config->min_new_tokens = new_tokens;  // no beam stops early: the peers do the same work
  config->length_penalty = 2.0;
  config->early_stopping = gen::EarlyStopping::kTrue;
  config->no_repeat_ngram_size = ngram;
  if (auto s = config->validate(); !s.ok()) return fail(s.to_string());

  // Warm-up: a short source, two new tokens (first-touch of the weights, thread pool start).
  {
    gen::GenerationConfig warm = *config;
    warm.max_new_tokens = warm.min_new_tokens = 2;
    std::vector<std::vector<int64_t>> shorts;
    for (const auto& s : sources)
      shorts.emplace_back(s.begin(), s.begin() + std::min<size_t>(32, s.size()));
    auto r = gen::generate_seq2seq(model, shorts, warm);
    if (!r.ok()) return fail(r.status().to_string());
  }
  std::vector<double> times;
  std::vector<gen::GenerationResult> results;
  for (int r = 0; r < rounds; ++r) {
    const double a = now();
    auto out = gen::generate_seq2seq(model, sources, *config);
    times.push_back(now() - a);
    if (!out.ok()) return fail(out.status().to_string());
    results = std::move(*out);
  }
  nlohmann::json ids = nlohmann::json::array(), scores = nlohmann::json::array();
  for (const auto& r : results) {
    ids.push_back(r.sequences.at(0).tokens);
    scores.push_back(r.sequences.at(0).score);
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const double sec = median(times) / static_cast<double>(sources.size());
  nlohmann::json out = {{"side", "mlhub"},
                        {"load_s", load_s},
                        {"batch", sources.size()},
                        {"new_tokens", new_tokens},
                        {"beams", beams},
                        {"sec_per_seq", sec},
                        {"seq_s", 1.0 / sec},
                        {"peak_rss_mb", usage.ru_maxrss / 1024.0},
                        {"ids", ids},
                        {"scores", scores}};
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {  // mlhub::Error from a model or processor
    return fail(e.what());
  }
}
