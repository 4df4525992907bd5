// Elementwise ops: add/mul with suffix broadcasting, scale, activations.
#include <string>

#include "kernels/cpu/kernels.h"
#include "ops/ops_internal.h"

namespace mlhub::ops {

using detail::fail;

Activation activation_from_name(std::string_view name) {
  if (name == "gelu" || name == "gelu_python") return Activation::kGeluErf;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast")
    return Activation::kGeluTanh;
  if (name == "quick_gelu") return Activation::kGeluQuick;
  if (name == "relu") return Activation::kRelu;
  if (name == "silu" || name == "swish") return Activation::kSilu;
  if (name == "tanh") return Activation::kTanh;
  if (name == "sigmoid") return Activation::kSigmoid;
  if (name == "linear" || name == "identity") return Activation::kIdentity;
  fail(fmt::format("unknown activation \"{}\"", name));
}

namespace {

// b's shape must equal a's or be a suffix of it.
void check_broadcast(const Tensor& a, const Tensor& b, std::string_view op) {
  const int na = a.ndim(), nb = b.ndim();
  bool ok = nb <= na;
  for (int i = 1; ok && i <= nb; ++i) ok = a.dim(-i) == b.dim(-i);
  if (!ok)
    fail(fmt::format("{}: cannot broadcast {} to {}", op, shape_string(b.shape()),
                     shape_string(a.shape())));
}

template <typename Fn>
Tensor binary(const Tensor& a_in, const Tensor& b_in, std::string_view op, Fn fn) {
  const Tensor a = detail::f32(a_in, op, "a");
  const Tensor b = detail::f32(b_in, op, "b");
  check_broadcast(a, b, op);
  Tensor y = Tensor::empty(DType::kF32, a.shape());
  const int64_t n = a.numel(), nb = std::max<int64_t>(b.numel(), 1);
  const float* ap = a.data<float>();
  const float* bp = b.data<float>();
  float* yp = y.data<float>();
  for (int64_t i = 0; i < n; ++i) yp[i] = fn(ap[i], bp[i % nb]);
  return y;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) {
  return binary(a, b, "add", [](float x, float y) { return x + y; });
}

void add_(Tensor& a, const Tensor& b_in) {
  if (!a.defined() || a.dtype() != DType::kF32 || !a.is_contiguous() || a.read_only())
    fail("add_: the target must be an owned contiguous F32 tensor");
  const Tensor b = detail::f32(b_in, "add_", "b");
  check_broadcast(a, b, "add_");
  const int64_t n = a.numel(), nb = std::max<int64_t>(b.numel(), 1);
  float* ap = a.data<float>();
  const float* bp = b.data<float>();
  for (int64_t i = 0; i < n; ++i) ap[i] += bp[i % nb];
}

Tensor mul(const Tensor& a, const Tensor& b) {
  return binary(a, b, "mul", [](float x, float y) { return x * y; });
}

Tensor scale(const Tensor& a_in, float s) {
  Tensor y = detail::f32(a_in, "scale", "input").clone();
  float* p = y.data<float>();
  for (int64_t i = 0, n = y.numel(); i < n; ++i) p[i] *= s;
  return y;
}

Tensor activation(const Tensor& x, Activation act) {
  Tensor y = detail::f32(x, "activation", "input").clone();
  float* p = y.data<float>();
  const int64_t n = y.numel();
  detail::parallel_rows(n, 20.0, [&](int64_t i0, int64_t i1) {
    kernels::activation_inplace(p + i0, i1 - i0, static_cast<int>(act));
  });
  return y;
}

}  // namespace mlhub::ops
