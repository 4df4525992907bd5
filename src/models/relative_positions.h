// Relative-position bucketing of MPNet, T5 and DeBERTa-v2, exposed to the unit tests that compare
// them with transformers' own tables. Private to src/models.
#pragma once

#include <cstdint>

namespace mlhub::models {

// transformers' MPNetEncoder.relative_position_bucket (T5's scheme) for one relative position
// (key position minus query position), in the same float32 steps (mpnet.cc).
int64_t mpnet_relative_position_bucket(int64_t relative_position, int64_t num_buckets,
                                       int64_t max_distance);

// transformers' DeBERTa-v2 make_log_bucket_position for one relative position (query position
// minus key position), in the same float32 steps (deberta_v2.cc).
// transformers' T5Attention._relative_position_bucket for one relative position (key position
// minus query position): bidirectional in T5's encoder, unidirectional in its decoder (t5.cc).
int64_t t5_relative_position_bucket(int64_t relative_position, bool bidirectional,
                                    int64_t num_buckets, int64_t max_distance);

int64_t deberta_log_bucket_position(int64_t relative_position, int64_t bucket_size,
                                    int64_t max_position);

}  // namespace mlhub::models
