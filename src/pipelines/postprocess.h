// The model-independent halves of the pipelines, as pure functions over scores so they can be
// tested against transformers' own functions on the same numbers:
//   token classification: entity aggregation (none/simple/first/average/max), grouping and the
//     overlap resolution of strided chunks (token_classification.py);
//   question answering: span scoring and selection (select_starts_ends / decode_spans in
//     question_answering.py);
//   zero-shot classification: entailment scores and their order (zero_shot_classification.py).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mlhub::pipelines {

// ---- token classification -----------------------------------------------------------------

enum class Aggregation { kNone, kSimple, kFirst, kAverage, kMax };
// "none", "simple", "first", "average", "max" (any case); throws kInvalidArgument otherwise.
Aggregation parse_aggregation(const std::string& name);

// One token of the input with its label probabilities (gather_pre_entities).
struct PreEntity {
  std::string word;                   // the token string, or the original text for unknown tokens
  std::vector<float> scores;          // softmax over the labels
  std::optional<int64_t> start, end;  // character offsets into the input
  int64_t index = 0;                  // token index in the model input
  bool is_subword = false;
};

// An output entity: {"entity", "score", "index", "word", "start", "end"} when not grouped,
// {"entity_group", "score", "word", "start", "end"} when grouped.
struct Entity {
  std::string entity;
  bool grouped = false;
  double score = 0;
  std::optional<int64_t> index;
  std::string word;
  std::optional<int64_t> start, end;
};
nlohmann::json entity_to_json(const Entity& e);

// convert_tokens_to_string of the tokenizer.
using TokensToString = std::function<std::string(const std::vector<std::string>&)>;

// TokenClassificationPipeline.aggregate: labels per token (kNone), or grouped entities.
std::vector<Entity> aggregate_entities(const std::vector<PreEntity>& pre, Aggregation strategy,
                                       const std::vector<std::string>& id2label,
                                       const TokensToString& tokens_to_string);
// Drops entities whose label / group is in `ignore_labels`.
std::vector<Entity> filter_entities(std::vector<Entity> entities,
                                    const std::vector<std::string>& ignore_labels);
// aggregate_overlapping_entities: for entities from overlapping chunks, keeps the longest (then
// highest-scoring) of each run of overlapping ones, in start order.
std::vector<Entity> aggregate_overlapping_entities(std::vector<Entity> entities);

// ---- question answering -------------------------------------------------------------------

struct SpanCandidate {
  int64_t start = 0;  // token indices, inclusive
  int64_t end = 0;
  float score = 0;
};

// select_starts_ends + decode_spans on one chunk. `allowed[i]` is 1 when token i may be part of
// the answer ((1 - p_mask) & attention_mask). Updates `min_null_score` when
// handle_impossible_answer. Returns up to `top_k` spans, best first (ties by position).
std::vector<SpanCandidate> select_spans(std::span<const float> start_logits,
                                        std::span<const float> end_logits,
                                        std::span<const uint8_t> allowed, int64_t top_k,
                                        bool handle_impossible_answer, int64_t max_answer_len,
                                        double& min_null_score);

// ---- zero-shot classification -------------------------------------------------------------

// `logits` holds one row of NLI logits per candidate label. Returns one score per label:
// softmax over labels of the entailment logit, or (multi_label, or a single label) per label
// the softmax of [contradiction, entailment]. `entailment_id` -1 means the last column, as
// numpy indexing does when no label starts with "entail".
std::vector<float> zero_shot_scores(const std::vector<std::vector<float>>& logits,
                                    int64_t entailment_id, bool multi_label);
// list(reversed(scores.argsort())): label indices by decreasing score.
std::vector<size_t> zero_shot_order(const std::vector<float>& scores);

}  // namespace mlhub::pipelines
