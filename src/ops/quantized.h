// Quantized-weight entry points that linear() and embedding() dispatch to (private to src/ops).
#pragma once

#include "mlhub/ops.h"

namespace mlhub::ops::detail {

// linear() when weight.dtype() is quantized; embedding() when the table is.
Tensor linear_quantized(const Tensor& x, const Tensor& weight, const Tensor& bias, Activation act);
Tensor embedding_quantized(const Tensor& weight, const Tensor& ids);

}  // namespace mlhub::ops::detail
