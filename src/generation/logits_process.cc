// Logits processors and warpers with transformers' arithmetic (transformers/generation/
// logits_process.py, 4.57), one row at a time. torch rounds a Python float parameter to float32
// before a tensor-scalar op, so every parameter is cast to float before use.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include "mlhub/generation.h"

namespace mlhub::generation {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

[[noreturn]] void invalid(std::string msg) {
  throw Error(StatusCode::kInvalidArgument, msg);
}

bool in_vocab(int64_t id, size_t vocab) {
  return id >= 0 && static_cast<size_t>(id) < vocab;
}

// softmax in float32 as torch's CPU kernel: exp(x - max) * (1 / sum).
std::vector<float> softmax_f32(std::span<const float> x) {
  float mx = kNegInf;
  for (float v : x) mx = std::max(mx, v);
  std::vector<float> p(x.size());
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    p[i] = std::exp(x[i] - mx);
    sum += p[i];
  }
  const float inv = 1.0f / static_cast<float>(sum);
  for (float& v : p) v *= inv;
  return p;
}

// Ascending sort of indices by value, ties by index (torch.sort is not stable; ties between
// finite scores are vanishingly rare with real logits).
std::vector<int64_t> argsort_ascending(std::span<const float> x) {
  std::vector<int64_t> idx(x.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return x[a] < x[b]; });
  return idx;
}

class RepetitionPenalty final : public LogitsProcessor {
 public:
  explicit RepetitionPenalty(double penalty) : penalty_(static_cast<float>(penalty)) {
    if (!(penalty > 0))
      invalid(fmt::format("repetition_penalty has to be strictly positive, got {}", penalty));
  }
  void apply(const SequenceView& seq, std::span<float> scores) const override {
    std::set<int64_t> seen(seq.tokens.begin(), seq.tokens.end());
    for (int64_t t : seen) {
      if (!in_vocab(t, scores.size())) continue;
      float& s = scores[t];
      s = s < 0 ? s * penalty_ : s / penalty_;
    }
  }
  std::string_view name() const override { return "RepetitionPenaltyLogitsProcessor"; }

 private:
  float penalty_;
};

// Not in transformers: OpenAI's definition, over generated tokens only.
class PresenceFrequencyPenalty final : public LogitsProcessor {
 public:
  PresenceFrequencyPenalty(double presence, double frequency)
      : presence_(static_cast<float>(presence)), frequency_(static_cast<float>(frequency)) {}
  void apply(const SequenceView& seq, std::span<float> scores) const override {
    std::vector<std::pair<int64_t, int64_t>> counts;  // (token, count), small
    std::vector<int64_t> gen(
        seq.tokens.begin() + std::min<int64_t>(seq.prompt_length, seq.tokens.size()),
        seq.tokens.end());
    std::sort(gen.begin(), gen.end());
    for (size_t i = 0; i < gen.size();) {
      size_t j = i;
      while (j < gen.size() && gen[j] == gen[i]) ++j;
      if (in_vocab(gen[i], scores.size())) {
        scores[gen[i]] -= static_cast<float>(j - i) * frequency_ + presence_;
      }
      i = j;
    }
  }
  std::string_view name() const override { return "PresenceFrequencyPenalty"; }

 private:
  float presence_, frequency_;
};

class NoRepeatNGram final : public LogitsProcessor {
 public:
  explicit NoRepeatNGram(int64_t n) : n_(n) {
    if (n <= 0) invalid(fmt::format("no_repeat_ngram_size has to be strictly positive, got {}", n));
  }
  void apply(const SequenceView& seq, std::span<float> scores) const override {
    const auto& t = seq.tokens;
    const int64_t len = static_cast<int64_t>(t.size());
    if (len + 1 < n_) return;
    // Ban every token that followed an earlier occurrence of the last n-1 tokens.
    const int64_t prefix_start = len - (n_ - 1);
    for (int64_t i = 0; i + n_ <= len; ++i) {
      bool match = true;
      for (int64_t k = 0; k < n_ - 1 && match; ++k) match = t[i + k] == t[prefix_start + k];
      if (match && in_vocab(t[i + n_ - 1], scores.size())) scores[t[i + n_ - 1]] = kNegInf;
    }
  }
  std::string_view name() const override { return "NoRepeatNGramLogitsProcessor"; }

 private:
  int64_t n_;
};

class NoBadWords final : public LogitsProcessor {
 public:
  NoBadWords(std::vector<std::vector<int64_t>> words, const std::vector<int64_t>& eos) {
    if (words.empty()) invalid("bad_words_ids has to be a non-empty list");
    for (auto& w : words) {
      if (w.empty()) invalid("bad_words_ids entries have to be non-empty");
      for (int64_t id : w) {
        if (id < 0) invalid("bad_words_ids has to hold non-negative ids");
      }
      // transformers drops a bad word that is exactly one eos id.
      if (w.size() == 1 && std::find(eos.begin(), eos.end(), w[0]) != eos.end()) continue;
      words_.push_back(std::move(w));
    }
  }
  void apply(const SequenceView& seq, std::span<float> scores) const override {
    const auto& t = seq.tokens;
    for (const auto& w : words_) {
      if (!in_vocab(w.back(), scores.size())) {
        invalid(fmt::format("bad_words_ids: id {} is outside the vocabulary", w.back()));
      }
      if (w.size() > 1) {
        if (w.size() > t.size()) continue;
        const size_t prefix = w.size() - 1;
        if (!std::equal(w.begin(), w.end() - 1, t.end() - static_cast<std::ptrdiff_t>(prefix)))
          continue;
      }
      scores[w.back()] += kNegInf;
    }
  }
  std::string_view name() const override { return "NoBadWordsLogitsProcessor"; }

 private:
  std::vector<std::vector<int64_t>> words_;
};

class MinLength final : public LogitsProcessor {
 public:
  MinLength(int64_t min_length, std::vector<int64_t> eos)
      : min_length_(min_length), eos_(std::move(eos)) {
    if (min_length < 0)
      invalid(fmt::format("min_length has to be non-negative, got {}", min_length));
  }
  void apply(const SequenceView& seq, std::span<float> scores) const override {
    if (static_cast<int64_t>(seq.tokens.size()) >= min_length_) return;
    for (int64_t e : eos_) {
      if (in_vocab(e, scores.size())) scores[e] = kNegInf;
    }
  }
  std::string_view name() const override { return "MinLengthLogitsProcessor"; }

 private:
  int64_t min_length_;
  std::vector<int64_t> eos_;
};

// ForcedBOSTokenLogitsProcessor / ForcedEOSTokenLogitsProcessor: at one length every score
// becomes -inf but the forced token's (or the eos ids'), which become 0.
class ForcedTokens final : public LogitsProcessor {
 public:
  ForcedTokens(int64_t at_length, std::vector<int64_t> tokens, bool eos)
      : at_length_(at_length), tokens_(std::move(tokens)), eos_(eos) {}
  void apply(const SequenceView& seq, std::span<float> scores) const override {
    if (static_cast<int64_t>(seq.tokens.size()) != at_length_) return;
    std::fill(scores.begin(), scores.end(), kNegInf);
    for (int64_t t : tokens_) {
      if (in_vocab(t, scores.size())) scores[t] = 0.0f;
    }
  }
  std::string_view name() const override {
    return eos_ ? "ForcedEOSTokenLogitsProcessor" : "ForcedBOSTokenLogitsProcessor";
  }

 private:
  int64_t at_length_;
  std::vector<int64_t> tokens_;
  bool eos_;
};

class Temperature final : public LogitsProcessor {
 public:
  explicit Temperature(double t) : t_(static_cast<float>(t)) {
    if (!(t > 0)) invalid(fmt::format("temperature has to be strictly positive, got {}", t));
  }
  void apply(const SequenceView&, std::span<float> scores) const override {
    for (float& s : scores) s /= t_;
  }
  std::string_view name() const override { return "TemperatureLogitsWarper"; }

 private:
  float t_;
};

class TopK final : public LogitsProcessor {
 public:
  TopK(int64_t k, int64_t min_keep) : k_(std::max(k, min_keep)) {
    if (k <= 0) invalid(fmt::format("top_k has to be strictly positive, got {}", k));
  }
  void apply(const SequenceView&, std::span<float> scores) const override {
    const size_t k = std::min<size_t>(k_, scores.size());
    if (k == 0) return;
    std::vector<float> v(scores.begin(), scores.end());
    std::nth_element(v.begin(), v.begin() + (k - 1), v.end(), std::greater<float>());
    const float kth = v[k - 1];
    for (float& s : scores) {
      if (s < kth) s = kNegInf;
    }
  }
  std::string_view name() const override { return "TopKLogitsWarper"; }

 private:
  int64_t k_;
};

class TopP final : public LogitsProcessor {
 public:
  TopP(double p, int64_t min_keep) : threshold_(static_cast<float>(1.0 - p)), min_keep_(min_keep) {
    if (p < 0 || p > 1) invalid(fmt::format("top_p has to be in [0, 1], got {}", p));
    if (min_keep < 1) invalid("min_tokens_to_keep has to be >= 1");
  }
  void apply(const SequenceView&, std::span<float> scores) const override {
    const std::vector<int64_t> order = argsort_ascending(scores);
    std::vector<float> sorted(order.size());
    for (size_t i = 0; i < order.size(); ++i) sorted[i] = scores[order[i]];
    const std::vector<float> probs = softmax_f32(sorted);
    // torch's CPU cumsum accumulates in double and stores float32.
    double acc = 0;
    const size_t n = order.size();
    const size_t keep_from = n > static_cast<size_t>(min_keep_) ? n - min_keep_ : 0;
    for (size_t i = 0; i < keep_from; ++i) {
      acc += probs[i];
      if (static_cast<float>(acc) <= threshold_) scores[order[i]] = kNegInf;
    }
  }
  std::string_view name() const override { return "TopPLogitsWarper"; }

 private:
  float threshold_;
  int64_t min_keep_;
};

class MinP final : public LogitsProcessor {
 public:
  MinP(double p, int64_t min_keep) : min_p_(static_cast<float>(p)), min_keep_(min_keep) {
    if (p < 0 || p > 1) invalid(fmt::format("min_p has to be in [0, 1], got {}", p));
    if (min_keep < 1) invalid("min_tokens_to_keep has to be >= 1");
  }
  void apply(const SequenceView&, std::span<float> scores) const override {
    const std::vector<float> probs = softmax_f32(scores);
    const float top = *std::max_element(probs.begin(), probs.end());
    const float scaled = min_p_ * top;
    // The min_keep highest scores stay (descending order, ties by index).
    std::vector<int64_t> order = argsort_ascending(scores);
    std::set<int64_t> kept;
    for (size_t i = 0; i < order.size() && kept.size() < static_cast<size_t>(min_keep_); ++i) {
      kept.insert(order[order.size() - 1 - i]);
    }
    for (size_t i = 0; i < scores.size(); ++i) {
      if (probs[i] < scaled && !kept.count(static_cast<int64_t>(i))) scores[i] = kNegInf;
    }
  }
  std::string_view name() const override { return "MinPLogitsWarper"; }

 private:
  float min_p_;
  int64_t min_keep_;
};

class Typical final : public LogitsProcessor {
 public:
  Typical(double mass, int64_t min_keep) : mass_(static_cast<float>(mass)), min_keep_(min_keep) {
    if (!(mass > 0 && mass < 1))
      invalid(fmt::format("typical_p has to be in (0, 1), got {}", mass));
    if (min_keep < 1) invalid("min_tokens_to_keep has to be >= 1");
  }
  void apply(const SequenceView&, std::span<float> scores) const override {
    const size_t n = scores.size();
    std::vector<float> logp(scores.begin(), scores.end());
    log_softmax_inplace(logp);
    float ent = 0;  // -nansum(logp * p): -inf * 0 is NaN and skipped
    for (float l : logp) {
      const float term = l * std::exp(l);
      if (!std::isnan(term)) ent += term;
    }
    ent = -ent;
    std::vector<float> shifted(n);
    for (size_t i = 0; i < n; ++i) shifted[i] = std::fabs(-logp[i] - ent);
    const std::vector<int64_t> order = argsort_ascending(shifted);
    std::vector<float> sorted_logits(n);
    for (size_t i = 0; i < n; ++i) sorted_logits[i] = scores[order[i]];
    const std::vector<float> probs = softmax_f32(sorted_logits);
    double acc = 0;
    size_t last = 0;
    for (size_t i = 0; i < n; ++i) {
      acc += probs[i];
      if (static_cast<float>(acc) < mass_) ++last;
    }
    last = std::min(last, n - 1);
    const float cut = shifted[order[last]];
    for (size_t i = static_cast<size_t>(min_keep_); i < n; ++i) {
      if (shifted[order[i]] > cut) scores[order[i]] = kNegInf;
    }
  }
  std::string_view name() const override { return "TypicalLogitsWarper"; }

 private:
  float mass_;
  int64_t min_keep_;
};

}  // namespace

void log_softmax_inplace(std::span<float> scores) {
  float mx = kNegInf;
  for (float v : scores) mx = std::max(mx, v);
  if (std::isinf(mx) && mx < 0) return;  // all -inf: torch gives NaN; leave -inf
  double sum = 0;
  for (float v : scores) sum += std::exp(v - mx);
  const float shift = mx + static_cast<float>(std::log(sum));
  for (float& v : scores) v -= shift;
}

void LogitsProcessorList::apply(const SequenceView& sequence, std::span<float> scores) const {
  for (const auto& p : list_) p->apply(sequence, scores);
}

std::unique_ptr<LogitsProcessor> make_repetition_penalty(double penalty) {
  return std::make_unique<RepetitionPenalty>(penalty);
}
std::unique_ptr<LogitsProcessor> make_presence_frequency_penalty(double presence,
                                                                 double frequency) {
  return std::make_unique<PresenceFrequencyPenalty>(presence, frequency);
}
std::unique_ptr<LogitsProcessor> make_no_repeat_ngram(int64_t ngram_size) {
  return std::make_unique<NoRepeatNGram>(ngram_size);
}
std::unique_ptr<LogitsProcessor> make_no_bad_words(std::vector<std::vector<int64_t>> bad_words_ids,
                                                   std::vector<int64_t> eos_token_id) {
  return std::make_unique<NoBadWords>(std::move(bad_words_ids), eos_token_id);
}
std::unique_ptr<LogitsProcessor> make_min_length(int64_t min_length, std::vector<int64_t> eos) {
  return std::make_unique<MinLength>(min_length, std::move(eos));
}
std::unique_ptr<LogitsProcessor> make_temperature(double temperature) {
  return std::make_unique<Temperature>(temperature);
}
std::unique_ptr<LogitsProcessor> make_forced_bos(int64_t bos_token_id) {
  return std::make_unique<ForcedTokens>(1, std::vector<int64_t>{bos_token_id}, false);
}
std::unique_ptr<LogitsProcessor> make_forced_eos(int64_t max_length, std::vector<int64_t> eos) {
  return std::make_unique<ForcedTokens>(max_length - 1, std::move(eos), true);
}
std::unique_ptr<LogitsProcessor> make_top_k(int64_t top_k, int64_t min_tokens_to_keep) {
  return std::make_unique<TopK>(top_k, min_tokens_to_keep);
}
std::unique_ptr<LogitsProcessor> make_top_p(double top_p, int64_t min_tokens_to_keep) {
  return std::make_unique<TopP>(top_p, min_tokens_to_keep);
}
std::unique_ptr<LogitsProcessor> make_min_p(double min_p, int64_t min_tokens_to_keep) {
  return std::make_unique<MinP>(min_p, min_tokens_to_keep);
}
std::unique_ptr<LogitsProcessor> make_typical(double mass, int64_t min_tokens_to_keep) {
  return std::make_unique<Typical>(mass, min_tokens_to_keep);
}

LogitsProcessorList build_logits_processors(const GenerationConfig& c, int64_t min_length,
                                            int64_t max_length) {
  LogitsProcessorList list;
  if (c.repetition_penalty != 1.0) list.add(make_repetition_penalty(c.repetition_penalty));
  if (c.presence_penalty != 0.0 || c.frequency_penalty != 0.0) {
    list.add(make_presence_frequency_penalty(c.presence_penalty, c.frequency_penalty));
  }
  if (c.no_repeat_ngram_size > 0) list.add(make_no_repeat_ngram(c.no_repeat_ngram_size));
  if (!c.bad_words_ids.empty()) list.add(make_no_bad_words(c.bad_words_ids, c.eos_token_id));
  // MinLength and MinNewTokensLength (both added by transformers when min_new_tokens is set, with
  // the same threshold for an unpadded sequence) are one processor here.
  if (min_length > 0 && !c.eos_token_id.empty())
    list.add(make_min_length(min_length, c.eos_token_id));
  if (c.forced_bos_token_id) list.add(make_forced_bos(*c.forced_bos_token_id));
  if (!c.forced_eos_token_id.empty() && max_length > 0)
    list.add(make_forced_eos(max_length, c.forced_eos_token_id));
  if (c.do_sample) {
    // Beam sampling keeps one non-eos token beyond the eos ids.
    const int64_t keep = c.num_beams > 1 ? static_cast<int64_t>(c.eos_token_id.size()) + 1 : 1;
    const int64_t min_keep = c.num_beams > 1 && c.eos_token_id.empty() ? 2 : keep;
    if (c.temperature != 1.0) list.add(make_temperature(c.temperature));
    if (c.top_k != 0) list.add(make_top_k(c.top_k, min_keep));
    if (c.top_p < 1.0) list.add(make_top_p(c.top_p, min_keep));
    if (c.min_p) list.add(make_min_p(*c.min_p, min_keep));
    if (c.typical_p < 1.0) list.add(make_typical(c.typical_p, min_keep));
  }
  return list;
}

}  // namespace mlhub::generation
