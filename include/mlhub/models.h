// mlhub models: encoder and decoder architectures loaded from Hugging Face folders (and decoders
// from GGUF files), one file per family in src/models/ and one registry (src/models/registry.cc)
// mapping config.json's model_type / architectures to constructors.
//
// Threads: a loaded model is immutable; forward() may be called from several threads at once.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlhub/core.h"
#include "mlhub/io.h"
#include "mlhub/nn.h"
#include "mlhub/tensor.h"

namespace mlhub::models {

// The head on top of the base model (transformers' class suffix).
enum class Head : uint8_t {
  kBase,                    // *Model: last_hidden_state (+ pooler_output where the arch has one)
  kSequenceClassification,  // *ForSequenceClassification: logits [B, num_labels]
  kTokenClassification,     // *ForTokenClassification: logits [B, T, num_labels]
  kQuestionAnswering,       // *ForQuestionAnswering(Simple): start_logits, end_logits [B, T]
  kMaskedLM,                // *ForMaskedLM: logits [B, T, vocab]
};
std::string_view head_name(Head head);  // "SequenceClassification", ...
// The head an architectures[] entry names ("BertForMaskedLM" -> kMaskedLM, "BertModel" -> kBase).
// kNotFound when the name has no known suffix.
Result<Head> head_from_architecture(std::string_view architecture);

// config.json, with the fields every encoder pipeline needs parsed out.
struct ModelConfig {
  nlohmann::json raw;
  std::string model_type;                  // "bert", "distilbert", ...
  std::vector<std::string> architectures;  // as written
  std::vector<std::string> id2label;       // index -> label; "LABEL_i" when absent
  std::string problem_type;                // "", "single_label_classification", ...
  int64_t num_labels = 2;
  int64_t pad_token_id = -1;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 0;  // 0 when the model has no token type embeddings

  // Reads folder/config.json (or a config.json path). kNotFound / kCorruption / kInvalidArgument.
  static Result<ModelConfig> load(const std::filesystem::path& path);
  static Result<ModelConfig> parse(const nlohmann::json& raw);
};

struct EncoderInput {
  Tensor input_ids;       // I64 [B, T]
  Tensor attention_mask;  // I64 [B, T]; undefined = all ones
  Tensor token_type_ids;  // I64 [B, T]; undefined = zeros (ignored by archs without them)
};

struct ForwardOptions {
  bool output_hidden_states = false;  // fill EncoderOutput::hidden_states
  nn::TraceFn trace;                  // optional debug hook
};

struct EncoderOutput {
  Tensor last_hidden_state;  // [B, T, H]
  Tensor pooler_output;      // [B, H] for archs with a pooler in kBase (BERT's pooler), else undefined
  Tensor logits;             // kSequenceClassification/kTokenClassification/kMaskedLM
  Tensor start_logits;       // kQuestionAnswering [B, T]
  Tensor end_logits;         // kQuestionAnswering [B, T]
  // embeddings output, then each layer's output (num_hidden_layers + 1), as transformers'
  // output_hidden_states.
  std::vector<Tensor> hidden_states;
};

class EncoderModel {
 public:
  virtual ~EncoderModel() = default;
  virtual EncoderOutput forward(const EncoderInput& input,
                                const ForwardOptions& options = {}) const = 0;
  const ModelConfig& config() const { return config_; }
  Head head() const { return head_; }
  const nn::LoadReport& load_report() const { return load_report_; }

 protected:
  ModelConfig config_;
  Head head_ = Head::kBase;
  nn::LoadReport load_report_;
};

struct LoadOptions {
  // kBase..kMaskedLM, or unset to take it from config.architectures[0].
  std::optional<Head> head;
  // Build even when weights are missing (they stay zero), as transformers does with random
  // init; the report lists them. Off by default: a pipeline on random weights is a bug.
  bool allow_missing = false;
};

// Loads config.json + checkpoint (io::Checkpoint::open rules) from `folder` and builds the model
// the registry names for config.model_type. kUnimplemented for an unknown model_type or head,
// kInvalidArgument for missing weights (listing them), io errors as io reports them.
Result<std::unique_ptr<EncoderModel>> load_encoder(const std::filesystem::path& folder,
                                                   const LoadOptions& options = {});
// Same, from an already-open checkpoint and config.
Result<std::unique_ptr<EncoderModel>> build_encoder(const ModelConfig& config,
                                                    std::shared_ptr<const io::Checkpoint> ckpt,
                                                    const LoadOptions& options = {});

// The model_type values the registry knows.
std::vector<std::string> supported_model_types();

// ---- Decoder (causal) language models ------------------------------------------------------
//
// A decoder runs a batch of sequences, each with its own KV cache and its own number of new
// tokens: the new tokens of all sequences are stacked into one [N, hidden] activation matrix for
// the linear layers (no padding), and attention runs per sequence against that sequence's cache.
// So a sequence's logits do not depend on what else is in the batch (batched equals one at a
// time, bit for bit), prompts of different lengths need no padding, and sequences can join and
// leave a running batch between steps (continuous batching).

// Encoder-decoder models: what every decoder layer's cross-attention reads of one source, the
// keys and values of the source tokens, computed once per source (Seq2SeqModel::cross_memory)
// and shared, read-only, by every cache that decodes from it (the beams of a search included).
struct CrossMemory {
  int64_t length = 0;  // source tokens
  int64_t width = 0;   // K (and V) features per token and layer: heads x head_dim
  std::vector<std::vector<float>> keys, values;  // per decoder layer, [length, width] token-major
  size_t bytes() const { return 2 * keys.size() * static_cast<size_t>(length * width) * sizeof(float); }
};

// The keys and values one sequence has seen, per layer, token-major: layer l holds
// [length, kv_heads * head_dim] floats for K and for V (rotary already applied to K). Grows as
// tokens are appended. Owned by the caller; a model's forward() appends to it.
class KvCache {
 public:
  KvCache() = default;
  KvCache(int num_layers, int64_t kv_width);  // kv_width = kv_heads * head_dim

  int num_layers() const { return static_cast<int>(layers_.size()); }
  int64_t kv_width() const { return kv_width_; }
  int64_t length() const { return length_; }  // tokens cached
  // The ids of the cached tokens, in order (length() of them). Lets a model re-encode a sequence
  // when its earlier keys go stale (Phi-3 LongRoPE switching to its long factors).
  const std::vector<int64_t>& tokens() const { return tokens_; }
  size_t bytes() const;                        // memory held
  // Drops tokens past `length` (<= length()).
  void truncate(int64_t length);
  // A deep copy (beam search forks a sequence); the cross memory is shared, not copied.
  KvCache clone() const;
  // Encoder-decoder models: the source this sequence decodes from (null for decoder-only models).
  void set_cross(std::shared_ptr<const CrossMemory> memory) { cross_ = std::move(memory); }
  const CrossMemory* cross() const { return cross_.get(); }

  // For models: makes room for `n` more tokens in every layer and returns the row where they
  // start (the current length); commit(tokens) then publishes them, with their ids, once every
  // layer is written (tokens.size() of the reserved rows).
  int64_t reserve(int64_t n);
  void commit(std::span<const int64_t> tokens);
  float* keys(int layer) { return layers_[layer].k.data(); }
  float* values(int layer) { return layers_[layer].v.data(); }
  const float* keys(int layer) const { return layers_[layer].k.data(); }
  const float* values(int layer) const { return layers_[layer].v.data(); }

 private:
  struct Layer {
    std::vector<float> k, v;
  };
  std::vector<Layer> layers_;
  int64_t kv_width_ = 0;
  std::vector<int64_t> tokens_;
  int64_t length_ = 0;
  int64_t capacity_ = 0;
  std::shared_ptr<const CrossMemory> cross_;
};

// One sequence of a decoder batch: `tokens` (at least one) are appended after the cache's
// contents, at positions cache->length(), cache->length() + 1, ...
struct DecoderSequence {
  std::span<const int64_t> tokens;
  KvCache* cache = nullptr;
  bool all_logits = false;  // logits for every new token; otherwise for the last one only
};

class DecoderModel {
 public:
  virtual ~DecoderModel() = default;
  // Runs the batch and returns F32 logits [rows, vocab_size]: for each sequence in order, one
  // row per new token (all_logits) or one row (its last token). Appends to every cache. Throws
  // kInvalidArgument for token ids outside the vocabulary, an empty sequence, a cache that does
  // not belong to this model's shape, or a position past the model's context length.
  virtual Tensor forward(std::span<const DecoderSequence> batch,
                         const ForwardOptions& options = {}) const = 0;
  // An empty cache shaped for this model.
  virtual KvCache new_cache() const = 0;
  virtual int64_t vocab_size() const = 0;
  // The longest sequence the model accepts (max_position_embeddings or the GGUF context length).
  virtual int64_t max_positions() const = 0;
  const ModelConfig& config() const { return config_; }
  const nn::LoadReport& load_report() const { return load_report_; }

 protected:
  ModelConfig config_;
  nn::LoadReport load_report_;
};

struct DecoderLoadOptions {
  // GGUF only: dequantize every quantized weight to F32 at load (what transformers does with
  // gguf_file=). Off by default: quantized weights stay quantized and run on quantized kernels.
  bool dequantize = false;
  bool allow_missing = false;  // as LoadOptions::allow_missing
};

// Loads a decoder from a Hugging Face folder (config.json + safetensors/.bin) or from a .gguf
// file (its metadata gives the config). kUnimplemented for an unknown architecture.
Result<std::unique_ptr<DecoderModel>> load_decoder(const std::filesystem::path& path,
                                                   const DecoderLoadOptions& options = {});

// ---- Encoder-decoder (sequence-to-sequence) models ----------------------------------------
//
// T5 (and v1.1 / flan-t5), BART, mBART and Marian, one file each in src/models/. The encoder runs
// once per source (encode); each source's cross-attention keys and values are computed once
// (cross_memory) and attached to the decoder caches that decode from it (KvCache::set_cross);
// the decoder is then an ordinary DecoderModel, so generation (greedy, sampling, beam search,
// continuous batching) drives it unchanged, with the decoder start token as the prompt.
class Seq2SeqModel : public DecoderModel {
 public:
  // Runs the encoder over a right-padded batch: last_hidden_state [B, S, d_model] (rows past a
  // source's attention mask are padding and meaningless). hidden_states with
  // options.output_hidden_states, as transformers' encoder_hidden_states.
  virtual EncoderOutput encode(const EncoderInput& input, const ForwardOptions& options = {}) const = 0;
  // The cross-attention keys and values of every decoder layer for one source; `states` is that
  // source's encoder output without padding, [S, d_model] (or [1, S, d_model]).
  virtual std::shared_ptr<const CrossMemory> cross_memory(const Tensor& states) const = 0;
  // DecoderModel::forward runs decoder steps: every sequence's cache must carry a CrossMemory
  // (kInvalidArgument otherwise); the logits are transformers' lm_logits (T5's d_model^-0.5
  // rescale when the head is tied, BART / Marian's final_logits_bias included).

  // config.json's decoder_start_token_id (T5: pad, BART: eos, Marian: pad).
  int64_t decoder_start_token_id() const { return decoder_start_token_id_; }
  // The longest source the encoder takes (learned positions), or 0 when unbounded (T5).
  int64_t max_source_positions() const { return max_source_positions_; }

 protected:
  int64_t decoder_start_token_id_ = 0;
  int64_t max_source_positions_ = 0;
};

// Loads an encoder-decoder model (config.json + safetensors / .bin) from a Hugging Face folder:
// model_type t5, bart, mbart or marian with its *ForConditionalGeneration / *MTModel weights.
// kUnimplemented for another model_type, kInvalidArgument for missing weights (unless
// allow_missing), io errors as io reports them.
Result<std::unique_ptr<Seq2SeqModel>> load_seq2seq(const std::filesystem::path& folder,
                                                   const LoadOptions& options = {});
// The model_type values load_seq2seq knows.
std::vector<std::string> supported_seq2seq_types();

}  // namespace mlhub::models
