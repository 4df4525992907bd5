// nn.Linear, nn.LayerNorm and nn.Embedding over mlhub::ops, built from a WeightMap so that every
// parameter keeps its torch name ("weight", "bias").
#include "mlhub/nn.h"

namespace mlhub::nn {

Linear::Linear(const WeightMap& w, int64_t in, int64_t out, bool has_bias)
    : weight(w.get("weight", {out, in})), bias(has_bias ? w.get("bias", {out}) : Tensor()) {}

Tensor Linear::operator()(const Tensor& x, ops::Activation act) const {
  return ops::linear(x, weight, bias, act);
}

LayerNorm::LayerNorm(const WeightMap& w, int64_t dim, float eps_value, bool has_bias)
    : weight(w.get("weight", {dim})),
      bias(has_bias ? w.get("bias", {dim}) : Tensor()),
      eps(eps_value) {}

Tensor LayerNorm::operator()(const Tensor& x, const Tensor& residual) const {
  return ops::layer_norm(x, weight, bias, eps, residual);
}

Embedding::Embedding(const WeightMap& w, int64_t num, int64_t dim)
    : weight(w.get("weight", {num, dim})) {}

Tensor Embedding::operator()(const Tensor& ids) const { return ops::embedding(weight, ids); }

}  // namespace mlhub::nn
