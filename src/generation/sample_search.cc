// Greedy decoding and multinomial sampling (transformers' GenerationMixin._sample): processors
// on the raw logits row, then argmax or a draw from softmax. num_return_sequences copies share
// one prefill: the prompt runs once and the others clone its KV cache.
#include <cmath>

#include "search.h"

namespace mlhub::generation::internal {
namespace {

class SampleSearch final : public Search {
 public:
  SampleSearch(const models::DecoderModel& model, std::shared_ptr<const RequestContext> ctx)
      : ctx_(std::move(ctx)) {
    const int64_t n = ctx_->config.do_sample ? ctx_->config.num_return_sequences : 1;
    for (int64_t j = 0; j < n; ++j) {
      Copy c;
      c.tokens = ctx_->prompt;
      c.rng = Rng(ctx_->seed, static_cast<uint64_t>(j));
      copies_.push_back(std::move(c));
    }
    copies_[0].cache = ctx_->new_cache(model);
    copies_[0].pending = ctx_->prompt;
  }

  void collect(std::vector<models::DecoderSequence>& batch) override {
    rows_.clear();
    for (size_t j = 0; j < copies_.size(); ++j) {
      Copy& c = copies_[j];
      if (c.reason != FinishReason::kNone) continue;
      if (prefilled_ || j == 0) {
        batch.push_back({c.pending, &c.cache, false});
        rows_.push_back(j);
      }
    }
  }

  void consume(const float* logits, uint64_t request,
               std::vector<Generator::Event>& events) override {
    const int64_t v = ctx_->vocab_size;
    if (!prefilled_) {
      // The prompt ran once (copy 0); every copy starts from that row and a clone of the cache.
      for (size_t j = 1; j < copies_.size(); ++j) copies_[j].cache = copies_[0].cache.clone();
      for (size_t j = 0; j < copies_.size(); ++j) advance(j, logits, request, events);
      prefilled_ = true;
      return;
    }
    for (size_t r = 0; r < rows_.size(); ++r) advance(rows_[r], logits + r * v, request, events);
  }

  bool finished() const override {
    for (const Copy& c : copies_) {
      if (c.reason == FinishReason::kNone) return false;
    }
    return true;
  }

  void cancel() override {
    for (Copy& c : copies_) {
      if (c.reason == FinishReason::kNone) c.reason = FinishReason::kCancelled;
      c.cache = models::KvCache();
    }
  }

  GenerationResult result() override {
    GenerationResult out;
    const size_t p = ctx_->prompt.size();
    for (Copy& c : copies_) {
      GeneratedSequence s;
      s.tokens.assign(c.tokens.begin() + static_cast<std::ptrdiff_t>(p), c.tokens.end());
      s.finish_reason = c.reason;
      s.score = c.score;
      out.sequences.push_back(std::move(s));
    }
    return out;
  }

 private:
  struct Copy {
    std::vector<int64_t> tokens;   // prompt + generated
    std::vector<int64_t> pending;  // fed at the next forward
    models::KvCache cache;
    Rng rng;
    float score = 0;
    FinishReason reason = FinishReason::kNone;
  };

  void advance(size_t j, const float* row, uint64_t request,
               std::vector<Generator::Event>& events) {
    Copy& c = copies_[j];
    const int64_t v = ctx_->vocab_size;
    scores_.assign(row, row + v);
    ctx_->processors.apply({c.tokens, static_cast<int64_t>(ctx_->prompt.size())}, scores_);
    const int64_t token =
        ctx_->config.do_sample ? sample_from_logits(scores_, c.rng) : argmax(scores_);
    log_softmax_inplace(scores_);
    c.score += scores_[token];
    c.tokens.push_back(token);
    c.pending.assign(1, token);
    c.reason = stop_reason(*ctx_, c.tokens);
    if (c.reason != FinishReason::kNone) c.cache = models::KvCache();  // free it now
    events.push_back({request, j, token, c.reason, scores_[token]});
  }

  std::shared_ptr<const RequestContext> ctx_;
  std::vector<Copy> copies_;
  std::vector<size_t> rows_;  // copy index per collected row
  std::vector<float> scores_;
  bool prefilled_ = false;
};

}  // namespace

FinishReason stop_reason(const RequestContext& ctx, std::span<const int64_t> tokens) {
  const int64_t last = tokens.back();
  for (int64_t e : ctx.config.eos_token_id) {
    if (e == last) return FinishReason::kEos;
  }
  if (ctx.stop && ctx.stop->matches(tokens)) return FinishReason::kStopString;
  if (static_cast<int64_t>(tokens.size()) >= ctx.max_length) return FinishReason::kLength;
  return FinishReason::kNone;
}

std::unique_ptr<Search> make_sample_search(const models::DecoderModel& model,
                                           std::shared_ptr<const RequestContext> ctx) {
  return std::make_unique<SampleSearch>(model, std::move(ctx));
}

}  // namespace mlhub::generation::internal
