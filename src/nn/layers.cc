// nn.Linear, nn.LayerNorm and nn.Embedding over mlhub::ops, built from a WeightMap so that every
// parameter keeps its torch name ("weight", "bias").
#include "mlhub/nn.h"

namespace mlhub::nn {

Linear::Linear(const WeightMap& w, int64_t in, int64_t out, bool has_bias)
    : Linear(from_weight(w.get("weight", {out, in}), has_bias ? w.get("bias", {out}) : Tensor())) {}

Linear Linear::from_weight(Tensor weight, Tensor bias) {
  Linear l;
  l.weight = std::move(weight);
  l.bias = std::move(bias);
  if (!dtype_is_quantized(l.weight.dtype())) {
    l.packed = ops::PackedWeight::pack(l.weight);
    l.packed_from = l.weight.raw_data();
  }
  return l;
}

Tensor Linear::operator()(const Tensor& x, ops::Activation act) const {
  // `packed` is only used while it still describes `weight` (the fields are public).
  if (packed.defined() && weight.defined() && weight.raw_data() == packed_from &&
      weight.ndim() == 2 && weight.dim(0) == packed.out_features() &&
      weight.dim(1) == packed.in_features())
    return ops::linear(x, packed, bias, act);
  return ops::linear(x, weight, bias, act);
}

LayerNorm::LayerNorm(const WeightMap& w, int64_t dim, float eps_value, bool has_bias)
    : weight(w.get("weight", {dim})),
      bias(has_bias ? w.get("bias", {dim}) : Tensor()),
      eps(eps_value) {}

Tensor LayerNorm::operator()(const Tensor& x, const Tensor& residual) const {
  return ops::layer_norm(x, weight, bias, eps, residual);
}

RMSNorm::RMSNorm(const WeightMap& w, int64_t dim, float eps_value)
    : weight(w.get("weight", {dim})), eps(eps_value) {}

Tensor RMSNorm::operator()(const Tensor& x) const { return ops::rms_norm(x, weight, eps); }

Embedding::Embedding(const WeightMap& w, int64_t num, int64_t dim)
    : weight(w.get("weight", {num, dim})) {}

Tensor Embedding::operator()(const Tensor& ids) const { return ops::embedding(weight, ids); }

}  // namespace mlhub::nn
