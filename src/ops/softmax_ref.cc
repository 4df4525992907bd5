// Reference softmax: double precision, one thread.
#include <cmath>
#include <vector>

#include "ops/ops_internal.h"

namespace mlhub::ops {

Tensor ref::softmax(const Tensor& x_in) {
  Tensor y = detail::f32_copy(x_in, "ref::softmax", "input");
  const auto [rows, width] = detail::rows_of(y);
  std::vector<double> e(static_cast<size_t>(width));
  for (int64_t r = 0; r < rows; ++r) {
    float* row = y.data<float>() + r * width;
    double mx = -INFINITY, sum = 0;
    for (int64_t i = 0; i < width; ++i) mx = std::max<double>(mx, row[i]);
    for (int64_t i = 0; i < width; ++i) sum += e[i] = std::exp(row[i] - mx);
    for (int64_t i = 0; i < width; ++i) row[i] = static_cast<float>(e[i] / sum);
  }
  return y;
}

}  // namespace mlhub::ops
