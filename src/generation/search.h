// Private: the per-request search strategies the Generator drives (greedy / sampling in
// sample_search.cc, beam search in beam_search.cc).
#pragma once

#include <memory>
#include <vector>

#include "mlhub/generation.h"

namespace mlhub::generation::internal {

// What a request fixes at add(): its config, prompt, resolved lengths and processors.
struct RequestContext {
  GenerationConfig config;
  std::vector<int64_t> prompt;
  int64_t max_length = 0;  // total, resolved and capped by the model's max_positions()
  int64_t min_length = 0;  // total, resolved
  int64_t vocab_size = 0;
  LogitsProcessorList processors;
  std::unique_ptr<StopStringMatcher> stop;  // null without stop_strings
  uint64_t seed = 0;
  // Encoder-decoder models: the source every cache of the request decodes from.
  std::shared_ptr<const models::CrossMemory> cross;
  // A cache for this request (the model's, with the source attached).
  models::KvCache new_cache(const models::DecoderModel& model) const {
    models::KvCache c = model.new_cache();
    c.set_cross(cross);
    return c;
  }
};

// Why the sequence `tokens` (prompt + generated, last one new) stops, or kNone: eos first, then
// a stop string, then length (so a final eos reports kEos).
FinishReason stop_reason(const RequestContext& ctx, std::span<const int64_t> tokens);

// One request's part of a step: collect() appends its sequences to the batch (their token spans
// stay valid until consume()), consume() reads one logits row per appended sequence.
class Search {
 public:
  virtual ~Search() = default;
  virtual void collect(std::vector<models::DecoderSequence>& batch) = 0;
  virtual void consume(const float* logits, uint64_t request,
                       std::vector<Generator::Event>& events) = 0;
  virtual bool finished() const = 0;
  virtual void cancel() = 0;
  virtual GenerationResult result() = 0;
};

std::unique_ptr<Search> make_sample_search(const models::DecoderModel& model,
                                           std::shared_ptr<const RequestContext> ctx);
std::unique_ptr<Search> make_beam_search(const models::DecoderModel& model,
                                         std::shared_ptr<const RequestContext> ctx);

}  // namespace mlhub::generation::internal
