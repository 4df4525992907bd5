// Marian (MarianMTModel, the OPUS-MT translation models): the BART encoder-decoder
// (src/models/bart.cc, src/models/bart_layers.h) with fixed sinusoidal positions instead of
// learned ones, no LayerNorm on the embeddings, post-LayerNorm layers, token embeddings scaled by
// sqrt(d_model) (scale_embedding), final_logits_bias, and optionally separate source and target
// vocabularies (share_encoder_decoder_embeddings false, decoder_vocab_size).
// transformers/models/marian/modeling_marian.py (4.57.3):
// https://github.com/huggingface/transformers/blob/v4.57.3/src/transformers/models/marian/modeling_marian.py
// Junczys-Dowmunt et al. 2018, "Marian: Fast Neural Machine Translation in C++", arXiv:1804.00344;
// Tiedemann & Thottingal 2020, "OPUS-MT", EAMT.
#include <cmath>
#include <vector>

#include "models/bart_layers.h"
#include "models/common.h"

namespace mlhub::models {
namespace {

// MarianSinusoidalPositionalEmbedding._init_weight: for feature pair k the angle
// pos / 10000^(2k / dim), computed in float64 (numpy) and rounded to float32; sines fill the first
// ceil(dim / 2) columns and cosines the rest (not interleaved, unlike XLM's table).
Tensor sinusoidal_positions(int64_t n_pos, int64_t dim) {
  const int64_t sentinel = dim % 2 == 0 ? dim / 2 : dim / 2 + 1;
  std::vector<float> out(static_cast<size_t>(n_pos * dim));
  for (int64_t pos = 0; pos < n_pos; ++pos) {
    float* row = out.data() + pos * dim;
    // Column j of numpy's position_enc uses the exponent 2 * (j // 2) / dim; the sines take the
    // even columns j = 2k, the cosines the odd ones j = 2k + 1: both exponents are 2k / dim.
    for (int64_t k = 0; k < dim - sentinel || k < sentinel; ++k) {
      const double angle =
          static_cast<double>(pos) /
          std::pow(10000.0, static_cast<double>(2 * k) / static_cast<double>(dim));
      if (k < sentinel) row[k] = static_cast<float>(std::sin(angle));
      if (k < dim - sentinel) row[sentinel + k] = static_cast<float>(std::cos(angle));
    }
  }
  return Tensor::from_floats(out, {n_pos, dim});
}

}  // namespace

std::unique_ptr<Seq2SeqBase> make_marian(const ModelConfig& config, const nn::WeightMap& w) {
  const nlohmann::json& j = config.raw;
  BartFamilyConfig c = parse_bart_family_config(config);
  // MarianConfig's own defaults where they differ from BART's.
  c.vocab_size = config_int(j, "vocab_size", 58101);
  c.shared_embeddings = config_bool(j, "share_encoder_decoder_embeddings", true);
  // MarianConfig: decoder_vocab_size = decoder_vocab_size or vocab_size. With shared embeddings
  // the output layer has vocab_size rows whatever decoder_vocab_size says.
  c.decoder_vocab_size = config_int(j, "decoder_vocab_size", 0);
  if (c.shared_embeddings || c.decoder_vocab_size == 0) c.decoder_vocab_size = c.vocab_size;
  config_check(c.vocab_size > 0 && c.decoder_vocab_size > 0, "marian", "sizes must be positive");
  c.pre_layer_norm = false;
  c.layernorm_embedding = false;
  // Used where the checkpoint has no embed_positions.weight: save_pretrained leaves both tables
  // out (_keys_to_ignore_on_save) and from_pretrained recomputes them.
  c.sinusoidal_table = sinusoidal_positions(c.max_position_embeddings, c.d_model);
  return make_bart_family(config, w, c);
}

}  // namespace mlhub::models
