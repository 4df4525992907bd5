// mlhub nn: the building blocks models are assembled from, and the weight map that binds
// checkpoint tensors to them by their Hugging Face names.
//
// Threads: a WeightMap is used while a model is being built (one thread). Modules are immutable
// after construction and their forward() is safe to call from several threads at once.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "mlhub/io.h"
#include "mlhub/ops.h"
#include "mlhub/tensor.h"

namespace mlhub::nn {

// What loading reported, with transformers' key names and semantics (from_pretrained(...,
// output_loading_info=True)): missing_keys are model parameter names that the checkpoint did not
// provide; unexpected_keys are checkpoint keys the model did not use (minus the patterns the
// architecture ignores, e.g. "position_ids" buffers); mismatched_keys have the wrong shape.
struct LoadReport {
  std::vector<std::string> missing_keys;
  std::vector<std::string> unexpected_keys;
  std::vector<std::string> mismatched_keys;
};

// A view of a checkpoint under a name prefix. sub("encoder").sub("layer").sub("0") scopes to
// "encoder.layer.0."; get("attention.self.query.weight", {H, H}) then reads exactly that key,
// so every name a model asks for equals its key in the Hugging Face state dict.
//
// Base-model prefix (transformers' base_model_prefix rule): a head model (e.g.
// BertForSequenceClassification, prefix "bert") asks for "bert.embeddings..." and a base model
// for "embeddings..."; the map resolves both whether or not the checkpoint's keys carry the
// prefix, as from_pretrained does.
//
// get() converts F16/BF16/F64 tensors to F32 (a copy) and returns F32 tensors in place
// (zero-copy views into the mapped file). A missing key or a shape mismatch is recorded; get()
// then returns a zero tensor of the expected shape so construction can go on and report every
// problem at once. finish() turns the records into the LoadReport and fails (kInvalidArgument,
// listing the keys) when required weights are missing or mismatched, unless allow_missing.
class WeightMap {
 public:
  // model_prefix: the base_model_prefix of the architecture ("bert", "roberta", ...);
  // head_model: whether the model being built is a head model (has the prefix on its base).
  WeightMap(std::shared_ptr<const io::Checkpoint> checkpoint, std::string model_prefix,
            bool head_model);

  WeightMap sub(std::string_view name) const;
  std::string full_name(std::string_view name) const;  // model-side key (prefix + name)

  Tensor get(std::string_view name, const Shape& shape) const;
  // Block-quantized checkpoint tensors (GGUF) are dequantized to F32 by get() unless
  // keep_quantized(true): then they are returned as they are stored (zero-copy), for the layers
  // that run on quantized kernels (nn::Linear, nn::Embedding). Set before building the model.
  void keep_quantized(bool keep) const;
  // As get(), but an absent key is not an error: returns an undefined Tensor.
  Tensor get_optional(std::string_view name, const Shape& shape) const;
  bool has(std::string_view name) const;
  // Declares a model parameter that transformers ties to another (e.g. the MLM decoder weight
  // tied to the word embeddings): a checkpoint without it is not "missing" it.
  void mark_tied(std::string_view name) const;

  // Checkpoint keys matching any of these regexes (transformers'
  // _keys_to_ignore_on_load_unexpected) are not reported as unexpected.
  void ignore_unexpected(std::vector<std::string> patterns) const;

  // Builds the report. allow_missing=false fails on missing/mismatched keys.
  Result<LoadReport> finish(bool allow_missing = false) const;

 private:
  struct State;
  WeightMap(std::shared_ptr<State> state, std::string prefix);
  std::shared_ptr<State> state_;
  std::string prefix_;  // model-side prefix of this view, with trailing '.' or empty
};

// nn.Linear: y = x W^T + b (weight [out, in]). The constructor also packs the weight for the GEMM
// once (ops::PackedWeight), so calls do not repack it; `weight` stays readable. A block-quantized
// weight is kept as it is and multiplied by the quantized kernels (ops::linear). If `weight` is
// replaced afterwards, calls notice and use the new weight unpacked (same results, slower).
struct Linear {
  Linear() = default;
  Linear(const WeightMap& w, int64_t in, int64_t out, bool bias = true);
  // A Linear over a weight [out, in] obtained otherwise (a tied embedding matrix); packed too.
  static Linear from_weight(Tensor weight, Tensor bias);
  Tensor operator()(const Tensor& x, ops::Activation act = ops::Activation::kIdentity) const;
  Tensor weight, bias;
  ops::PackedWeight packed;           // of `weight` as constructed
  const void* packed_from = nullptr;  // weight.raw_data() when packed
};

// nn.LayerNorm over the last dim.
struct LayerNorm {
  LayerNorm() = default;
  LayerNorm(const WeightMap& w, int64_t dim, float eps, bool bias = true);
  // LayerNorm(x + residual) when residual is defined.
  Tensor operator()(const Tensor& x, const Tensor& residual = Tensor()) const;
  Tensor weight, bias;
  float eps = 1e-12f;
};

// RMSNorm over the last dim (LlamaRMSNorm and its copies): x / sqrt(mean(x^2) + eps) * weight.
struct RMSNorm {
  RMSNorm() = default;
  RMSNorm(const WeightMap& w, int64_t dim, float eps);
  Tensor operator()(const Tensor& x) const;
  Tensor weight;
  float eps = 1e-6f;
};

// nn.Embedding.
struct Embedding {
  Embedding() = default;
  Embedding(const WeightMap& w, int64_t num, int64_t dim);
  Tensor operator()(const Tensor& ids) const;
  Tensor weight;
};

// Debug hook (llama.cpp's cb): models call trace(x, "attn_output", layer) at named points;
// tests install a callback to dump or compare intermediates. No cost when unset.
using TraceFn = std::function<void(const Tensor& value, std::string_view name, int layer)>;

}  // namespace mlhub::nn
