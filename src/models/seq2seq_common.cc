// Seq2SeqBase, cross-attention views and CrossMemory allocation (src/models/seq2seq_common.h).
#include "models/seq2seq_common.h"

#include <fmt/format.h>

namespace mlhub::models {

Seq2SeqBase::Seq2SeqBase(const ModelConfig& config) {
  config_ = config;
  const auto it = config.raw.find("decoder_start_token_id");
  if (it == config.raw.end() || !it->is_number_integer())
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("config.json of a {} model has no integer decoder_start_token_id",
                            config.model_type));
  decoder_start_token_id_ = it->get<int64_t>();
}

std::vector<ops::CachedAttentionSequence> cross_views(std::span<const DecoderSequence> batch,
                                                      const BatchLayout& layout, int layer,
                                                      int num_layers, int64_t width) {
  std::vector<ops::CachedAttentionSequence> views;
  views.reserve(batch.size());
  for (size_t s = 0; s < batch.size(); ++s) {
    const CrossMemory* m = batch[s].cache ? batch[s].cache->cross() : nullptr;
    if (m == nullptr)
      throw Error(StatusCode::kInvalidArgument,
                  "encoder-decoder forward: a sequence's cache has no source (KvCache::set_cross)");
    if (m->width != width || static_cast<int>(m->keys.size()) != num_layers ||
        static_cast<int>(m->values.size()) != num_layers || m->length <= 0)
      throw Error(StatusCode::kInvalidArgument,
                  fmt::format("encoder-decoder forward: the source memory ({} layers x {}) does not "
                              "belong to this model ({} layers x {})",
                              m->keys.size(), m->width, num_layers, width));
    ops::CachedAttentionSequence v;
    v.q_row0 = layout.row0[s];
    v.q_rows = layout.rows[s];
    v.k = m->keys[static_cast<size_t>(layer)].data();
    v.v = m->values[static_cast<size_t>(layer)].data();
    v.kv_len = m->length;
    views.push_back(v);
  }
  return views;
}

std::shared_ptr<CrossMemory> make_cross_memory(int num_layers, int64_t length, int64_t width) {
  auto m = std::make_shared<CrossMemory>();
  m->length = length;
  m->width = width;
  m->keys.resize(static_cast<size_t>(num_layers));
  m->values.resize(static_cast<size_t>(num_layers));
  for (int l = 0; l < num_layers; ++l) {
    m->keys[static_cast<size_t>(l)].resize(static_cast<size_t>(length * width));
    m->values[static_cast<size_t>(l)].resize(static_cast<size_t>(length * width));
  }
  return m;
}

}  // namespace mlhub::models
