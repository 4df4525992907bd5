// Beam search as transformers 4.57's GenerationMixin._beam_search (utils.py), for one prompt:
// each step scores num_beams x vocab continuations (log_softmax, then the processors, plus the
// running beam score), keeps the top K = max(2, 1 + #eos) * num_beams of them, continues the
// best num_beams that did not stop, and merges the stopped ones among the first num_beams
// candidates into the num_beams finished hypotheses (score / generated_length^length_penalty).
// The -1e9 masks and the early-stop heuristic are reproduced in float32, so hypotheses and
// scores equal transformers' up to log_softmax rounding.
//
// KV caches: beam i of the next step continues beam src(i); the last user of a source cache
// takes it, the others clone it (KvCache::clone), so no cache is copied when beams don't fork.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "search.h"

namespace mlhub::generation::internal {
namespace {

constexpr float kMask = -1.0e9f;

// Indices of the k largest values, largest first, ties to the lower index.
std::vector<int64_t> top_k_indices(std::span<const float> x, size_t k) {
  std::vector<int64_t> idx(x.size());
  std::iota(idx.begin(), idx.end(), 0);
  k = std::min(k, idx.size());
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(),
                    [&](int64_t a, int64_t b) { return x[a] > x[b] || (x[a] == x[b] && a < b); });
  idx.resize(k);
  return idx;
}

// torch.multinomial(softmax(x), k) without replacement, on our RNG.
std::vector<int64_t> sample_without_replacement(std::span<const float> x, size_t k, Rng& rng) {
  const float mx = *std::max_element(x.begin(), x.end());
  std::vector<double> w(x.size());
  for (size_t i = 0; i < x.size(); ++i) w[i] = std::exp(static_cast<double>(x[i]) - mx);
  std::vector<int64_t> out;
  for (size_t n = 0; n < k; ++n) {
    double total = 0;
    for (double v : w) total += v;
    if (!(total > 0)) break;
    const double u = rng.uniform() * total;
    double acc = 0;
    size_t pick = 0;
    for (size_t i = 0; i < w.size(); ++i) {
      if (w[i] <= 0) continue;
      acc += w[i];
      pick = i;
      if (u < acc) break;
    }
    out.push_back(static_cast<int64_t>(pick));
    w[pick] = 0;
  }
  return out;
}

class BeamSearch final : public Search {
 public:
  BeamSearch(const models::DecoderModel& model, std::shared_ptr<const RequestContext> ctx)
      : ctx_(std::move(ctx)),
        num_beams_(static_cast<size_t>(ctx_->config.num_beams)),
        beams_to_keep_(std::max<size_t>(2, 1 + ctx_->config.eos_token_id.size()) * num_beams_),
        rng_(ctx_->seed, 0) {
    running_.resize(num_beams_);
    running_scores_.assign(num_beams_, 0.0f);
    for (size_t b = 1; b < num_beams_; ++b) running_scores_[b] = kMask;
    slots_.resize(num_beams_);
    prefill_cache_ = ctx_->new_cache(model);
  }

  void collect(std::vector<models::DecoderSequence>& batch) override {
    if (done_) return;
    if (generated_ == 0) {
      batch.push_back({ctx_->prompt, &prefill_cache_, false});
      return;
    }
    for (Beam& b : running_) batch.push_back({b.pending, &b.cache, false});
  }

  void consume(const float* logits, uint64_t request,
               std::vector<Generator::Event>& events) override {
    const int64_t v = ctx_->vocab_size;
    const size_t n = num_beams_;
    const int64_t prompt_len = static_cast<int64_t>(ctx_->prompt.size());
    // b. log-probs, processors, plus the running scores.
    std::vector<float> acc(n * v);
    for (size_t b = 0; b < n; ++b) {
      float* row = acc.data() + b * v;
      if (generated_ == 0 && b > 0) {
        std::copy(acc.data(), acc.data() + v, row);  // every beam holds the prompt
      } else {
        std::copy(logits + (generated_ == 0 ? 0 : b * v),
                  logits + (generated_ == 0 ? v : (b + 1) * v), row);
        log_softmax_inplace({row, static_cast<size_t>(v)});
        full_ = ctx_->prompt;
        full_.insert(full_.end(), running_[b].gen.begin(), running_[b].gen.end());
        ctx_->processors.apply({full_, prompt_len}, {row, static_cast<size_t>(v)});
      }
    }
    for (size_t b = 0; b < n; ++b) {
      for (int64_t i = 0; i < v; ++i) acc[b * v + i] += running_scores_[b];
    }
    // c. the top K continuations.
    const std::vector<int64_t> picked = ctx_->config.do_sample
                                            ? sample_without_replacement(acc, beams_to_keep_, rng_)
                                            : top_k_indices(acc, beams_to_keep_);
    const size_t k = picked.size();
    std::vector<Candidate> cand(k);
    for (size_t c = 0; c < k; ++c) {
      cand[c].src = static_cast<size_t>(picked[c] / v);
      cand[c].token = picked[c] % v;
      cand[c].score = acc[picked[c]];
      full_ = ctx_->prompt;
      const auto& gen = running_[generated_ == 0 ? 0 : cand[c].src].gen;
      full_.insert(full_.end(), gen.begin(), gen.end());
      full_.push_back(cand[c].token);
      cand[c].reason = stop_reason(*ctx_, full_);
    }
    // e. the running beams of the next step: the best K that did not stop.
    std::vector<float> running_scores(k);
    bool all_hit = true;
    for (size_t c = 0; c < k; ++c) {
      const bool hit = cand[c].reason != FinishReason::kNone;
      all_hit = all_hit && hit;
      running_scores[c] = cand[c].score + (hit ? kMask : 0.0f);
    }
    const std::vector<int64_t> next = top_k_indices(running_scores, n);
    // f. merge the stopped top-num_beams candidates into the finished hypotheses.
    update_finished(cand);
    advance_running(cand, next, running_scores);
    ++generated_;
    // g. whole-search stopping: the early-stop heuristic and the flags above.
    update_heuristic(prompt_len);
    const bool all_finished =
        std::all_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.finished; });
    const bool exists_open = !(all_finished && ctx_->config.early_stopping == EarlyStopping::kTrue);
    if (!(heuristic_unsatisfied_ && exists_open && !all_hit)) finish(request, events);
  }

  bool finished() const override { return done_; }

  void cancel() override {
    if (done_) return;
    cancelled_ = true;
    done_ = true;
    release();
  }

  GenerationResult result() override {
    GenerationResult out;
    const size_t r = static_cast<size_t>(ctx_->config.num_return_sequences);
    for (size_t i = 0; i < r && i < slots_.size(); ++i) {
      GeneratedSequence s;
      s.tokens = slots_[i].gen;
      s.score = slots_[i].score;
      s.finish_reason =
          cancelled_ && !slots_[i].finished ? FinishReason::kCancelled : slots_[i].reason;
      out.sequences.push_back(std::move(s));
    }
    return out;
  }

 private:
  struct Beam {
    std::vector<int64_t> gen;  // generated tokens
    std::vector<int64_t> pending;
    models::KvCache cache;
  };
  struct Slot {
    std::vector<int64_t> gen;
    float score = kMask;
    bool finished = false;
    FinishReason reason = FinishReason::kLength;
  };
  struct Candidate {
    size_t src = 0;
    int64_t token = 0;
    float score = 0;
    FinishReason reason = FinishReason::kNone;
  };

  const std::vector<int64_t>& source_gen(size_t src) const {
    return running_[generated_ == 0 ? 0 : src].gen;
  }

  void update_finished(const std::vector<Candidate>& cand) {
    const size_t n = num_beams_;
    const auto& cfg = ctx_->config;
    const float denom =
        static_cast<float>(std::pow(static_cast<double>(generated_ + 1), cfg.length_penalty));
    const bool all_finished =
        std::all_of(slots_.begin(), slots_.end(), [](const Slot& s) { return s.finished; });
    const bool full = all_finished && cfg.early_stopping == EarlyStopping::kTrue;
    std::vector<float> merged;
    for (const Slot& s : slots_) merged.push_back(s.score);
    for (size_t c = 0; c < cand.size(); ++c) {
      float s = cand[c].score / denom;
      s += full ? kMask : -0.0f;
      s += heuristic_unsatisfied_ ? -0.0f : kMask;
      const bool just_finished = cand[c].reason != FinishReason::kNone && c < n;
      s += just_finished ? -0.0f : kMask;
      merged.push_back(s);
    }
    std::vector<Slot> next;
    for (int64_t i : top_k_indices(merged, n)) {
      if (static_cast<size_t>(i) < n) {
        next.push_back(slots_[i]);
        continue;
      }
      const size_t c = static_cast<size_t>(i) - n;
      Slot s;
      s.gen = source_gen(cand[c].src);
      s.gen.push_back(cand[c].token);
      s.score = merged[i];
      s.finished = cand[c].reason != FinishReason::kNone && c < n;
      s.reason = cand[c].reason == FinishReason::kNone ? FinishReason::kLength : cand[c].reason;
      next.push_back(std::move(s));
    }
    slots_ = std::move(next);
  }

  void advance_running(const std::vector<Candidate>& cand, const std::vector<int64_t>& next,
                       const std::vector<float>& scores) {
    const size_t n = num_beams_;
    // How many new beams continue each source; the last one takes the cache.
    std::vector<size_t> uses(n, 0);
    for (int64_t c : next) ++uses[generated_ == 0 ? 0 : cand[c].src];
    std::vector<Beam> fresh(next.size());
    for (size_t i = 0; i < next.size(); ++i) {
      const Candidate& c = cand[next[i]];
      const size_t src = generated_ == 0 ? 0 : c.src;
      models::KvCache& from = generated_ == 0 ? prefill_cache_ : running_[src].cache;
      fresh[i].cache = --uses[src] > 0 ? from.clone() : std::move(from);
      fresh[i].gen = source_gen(c.src);
      fresh[i].gen.push_back(c.token);
      fresh[i].pending.assign(1, c.token);
      running_scores_[i] = scores[next[i]];
    }
    running_ = std::move(fresh);
  }

  void update_heuristic(int64_t prompt_len) {
    const auto& cfg = ctx_->config;
    const int64_t best_len = cfg.early_stopping == EarlyStopping::kNever && cfg.length_penalty > 0.0
                                 ? ctx_->max_length - prompt_len
                                 : generated_;
    const float best = running_scores_[0] / static_cast<float>(std::pow(
                                                static_cast<double>(best_len), cfg.length_penalty));
    float worst_all = slots_[0].score;
    for (const Slot& s : slots_) worst_all = std::min(worst_all, s.score);
    bool improvable = false;
    for (const Slot& s : slots_) improvable = improvable || best > (s.finished ? worst_all : kMask);
    heuristic_unsatisfied_ = heuristic_unsatisfied_ && improvable;
  }

  void finish(uint64_t request, std::vector<Generator::Event>& events) {
    done_ = true;
    release();
    events.push_back({request, 0, -1, slots_[0].reason});
  }

  void release() {
    running_.clear();
    prefill_cache_ = models::KvCache();
  }

  std::shared_ptr<const RequestContext> ctx_;
  size_t num_beams_;
  size_t beams_to_keep_;
  Rng rng_;
  std::vector<Beam> running_;
  std::vector<float> running_scores_;
  std::vector<Slot> slots_;  // the finished hypotheses, best first
  models::KvCache prefill_cache_;
  std::vector<int64_t> full_;  // scratch: prompt + a beam's tokens
  int64_t generated_ = 0;
  bool heuristic_unsatisfied_ = true;
  bool done_ = false;
  bool cancelled_ = false;
};

}  // namespace

std::unique_ptr<Search> make_beam_search(const models::DecoderModel& model,
                                         std::shared_ptr<const RequestContext> ctx) {
  return std::make_unique<BeamSearch>(model, std::move(ctx));
}

}  // namespace mlhub::generation::internal
