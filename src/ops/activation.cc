// Activations by name and as a standalone op (linear() fuses them into its output pass).
#include "kernels/cpu/kernels.h"
#include "ops/ops_internal.h"

namespace mlhub::ops {

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
  detail::fail(fmt::format("unknown activation \"{}\"", name));
}

Tensor activation(const Tensor& x, Activation act) {
  Tensor y = detail::f32_copy(x, "activation", "input");
  float* p = y.data<float>();
  detail::parallel_chunks(
      y.numel(), 30.0,
      [&](int64_t i0, int64_t i1) {
        kernels::activation_inplace(p + i0, i1 - i0, static_cast<int>(act));
      },
      64);
  return y;
}

}  // namespace mlhub::ops
