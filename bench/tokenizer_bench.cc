// Tokenizer throughput benchmark (mlhub side; bench/tokenizer_peer.py measures the Rust library
// and tiktoken the same way, bench/run_tokenizer_bench.py runs both and prints the ratios).
//
//   tokenizer_bench --tokenizer PATH --text FILE [--mode single|batch] [--threads N]
//                   [--repeats R] [--load-repeats L] [--json]
//
// The text is split into lines and empty lines are skipped. Each repeat encodes every line once
// with special tokens and char offsets (what the Python binding's encode does); one untimed
// warm-up pass runs first. single: Tokenizer::encode per line on the calling thread. batch:
// Tokenizer::encode_batch over all lines on a ThreadPool giving N lanes (N - 1 workers plus the
// caller, see ThreadPool::parallel_for). Prints the median and minimum time, MB/s (10^6 bytes of
// UTF-8 input per second), tokens/s, the total token count (so the runner can check that every
// side did the same work) and the median load time of L loads.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "mlhub/core.h"
#include "mlhub/tokenizers.h"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  std::string tokenizer;
  std::string text;
  std::string mode = "single";
  size_t threads = 1;
  size_t repeats = 5;
  size_t load_repeats = 5;
  bool json = false;
};

[[noreturn]] void usage(const char* msg) {
  std::fprintf(stderr,
               "error: %s\nusage: tokenizer_bench --tokenizer PATH --text FILE "
               "[--mode single|batch] [--threads N] [--repeats R] [--load-repeats L] [--json]\n",
               msg);
  std::exit(2);
}

size_t parse_count(const char* value, const char* flag) {
  char* end = nullptr;
  const long n = std::strtol(value, &end, 10);
  if (end == value || *end != '\0' || n < 1) {
    usage((std::string(flag) + " needs a count >= 1").c_str());
  }
  return static_cast<size_t>(n);
}

Options parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--json") {
      o.json = true;
      continue;
    }
    if (i + 1 >= argc) usage(("missing value after " + std::string(arg)).c_str());
    const char* value = argv[++i];
    if (arg == "--tokenizer") o.tokenizer = value;
    else if (arg == "--text") o.text = value;
    else if (arg == "--mode") o.mode = value;
    else if (arg == "--threads") o.threads = parse_count(value, "--threads");
    else if (arg == "--repeats") o.repeats = parse_count(value, "--repeats");
    else if (arg == "--load-repeats") o.load_repeats = parse_count(value, "--load-repeats");
    else usage(("unknown option " + std::string(arg)).c_str());
  }
  if (o.tokenizer.empty() || o.text.empty()) usage("--tokenizer and --text are required");
  if (o.mode != "single" && o.mode != "batch") usage("--mode is single or batch");
  if (o.mode == "single") o.threads = 1;
  // parallel_for always uses the caller plus at least one worker, so batch needs 2 lanes.
  if (o.mode == "batch" && o.threads < 2) usage("--mode batch needs --threads >= 2");
  return o;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) usage(("cannot read " + path).c_str());
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) lines.push_back(std::move(line));
  }
  return lines;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Runs fn once untimed, then `repeats` timed times; returns the times and fn's token count.
template <typename Fn>
std::vector<double> timed(size_t repeats, size_t* tokens, Fn&& fn) {
  *tokens = fn();
  std::vector<double> times;
  for (size_t r = 0; r < repeats; ++r) {
    const auto t0 = Clock::now();
    *tokens = fn();
    times.push_back(seconds_since(t0));
  }
  return times;
}

std::string json_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using mlhub::tok::Tokenizer;
  const Options opt = parse_options(argc, argv);
  const std::vector<std::string> lines = read_lines(opt.text);
  size_t num_bytes = 0;
  for (const auto& line : lines) num_bytes += line.size();

  std::vector<double> load_times;
  std::optional<Tokenizer> tok;
  for (size_t i = 0; i < opt.load_repeats; ++i) {
    const auto t0 = Clock::now();
    auto loaded = Tokenizer::from_file(opt.tokenizer);
    load_times.push_back(seconds_since(t0));
    if (!loaded.ok()) {
      std::fprintf(stderr, "error: %s\n", loaded.status().to_string().c_str());
      return 1;
    }
    tok.emplace(std::move(loaded).value());
  }

  size_t tokens = 0;
  std::vector<double> times;
  bool failed = false;
  if (opt.mode == "single") {
    times = timed(opt.repeats, &tokens, [&] {
      size_t n = 0;
      for (const auto& line : lines) {
        auto enc = tok->encode(line);
        if (!enc.ok()) {
          std::fprintf(stderr, "encode failed: %s\n", enc.status().to_string().c_str());
          failed = true;
          continue;
        }
        n += enc->size();
      }
      return n;
    });
  } else {
    mlhub::ThreadPool pool(opt.threads - 1);
    std::vector<mlhub::tok::EncodeInput> inputs;
    inputs.reserve(lines.size());
    for (const auto& line : lines) inputs.push_back({line, std::nullopt});
    times = timed(opt.repeats, &tokens, [&] {
      auto encs = tok->encode_batch(inputs, true, mlhub::tok::OffsetType::kChar, &pool);
      if (!encs.ok()) {
        std::fprintf(stderr, "encode_batch failed: %s\n", encs.status().to_string().c_str());
        failed = true;
        return size_t{0};
      }
      size_t n = 0;
      for (const auto& e : *encs) n += e.size();
      return n;
    });
  }
  if (failed) return 1;

  const double med = median(times);
  const double mb_per_s = static_cast<double>(num_bytes) / med / 1e6;
  const double tokens_per_s = static_cast<double>(tokens) / med;
  const double load_ms = median(load_times) * 1e3;
  if (opt.json) {
    std::ostringstream ts;
    for (size_t i = 0; i < times.size(); ++i) ts << (i ? ", " : "") << times[i];
    std::printf(
        "{\"side\": \"mlhub\", \"tokenizer\": \"%s\", \"text\": \"%s\", \"mode\": \"%s\", "
        "\"threads\": %zu, \"lines\": %zu, \"bytes\": %zu, \"tokens\": %zu, \"median_s\": %.6f, "
        "\"min_s\": %.6f, \"times_s\": [%s], \"mb_per_s\": %.4f, \"tokens_per_s\": %.1f, "
        "\"load_ms\": %.3f}\n",
        json_escape(opt.tokenizer).c_str(), json_escape(opt.text).c_str(), opt.mode.c_str(),
        opt.threads, lines.size(), num_bytes, tokens, med,
        *std::min_element(times.begin(), times.end()), ts.str().c_str(), mb_per_s, tokens_per_s,
        load_ms);
  } else {
    std::printf("tokenizer %s\nmode %s, %zu thread(s), %zu lines, %zu bytes, %zu tokens\n",
                opt.tokenizer.c_str(), opt.mode.c_str(), opt.threads, lines.size(), num_bytes,
                tokens);
    std::printf("median %.4f s: %.2f MB/s, %.0f tokens/s; load %.1f ms (median of %zu)\n", med,
                mb_per_s, tokens_per_s, load_ms, load_times.size());
  }
  return 0;
}
