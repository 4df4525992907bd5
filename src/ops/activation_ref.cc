// Reference activations: double precision through libm.
#include <cmath>

#include "ops/ops_internal.h"

namespace mlhub::ops {

double detail::ref_activation(double x, Activation act) {
  switch (act) {
    case Activation::kGeluErf:
      return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
    case Activation::kGeluTanh:
      return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case Activation::kGeluQuick:
      return x / (1.0 + std::exp(-1.702 * x));
    case Activation::kRelu:
      return x > 0 ? x : 0.0;
    case Activation::kSilu:
      return x / (1.0 + std::exp(-x));
    case Activation::kTanh:
      return std::tanh(x);
    case Activation::kSigmoid:
      return 1.0 / (1.0 + std::exp(-x));
    case Activation::kIdentity:
      break;
  }
  return x;
}

Tensor ref::activation(const Tensor& x_in, Activation act) {
  Tensor y = detail::f32_copy(x_in, "ref::activation", "input");
  float* p = y.data<float>();
  for (int64_t i = 0, n = y.numel(); i < n; ++i)
    p[i] = static_cast<float>(detail::ref_activation(p[i], act));
  return y;
}

}  // namespace mlhub::ops
