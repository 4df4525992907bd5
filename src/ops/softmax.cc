// softmax / log_softmax over the last dim, rows on the pool.
#include "kernels/cpu/kernels.h"
#include "ops/ops_internal.h"

namespace mlhub::ops {

namespace {

Tensor rowwise(const Tensor& x, std::string_view op, void (*row_fn)(float*, int64_t)) {
  Tensor y = detail::f32_copy(x, op, "input");
  const auto shape_rw = detail::rows_of(y);
  const int64_t rows = shape_rw.first, width = shape_rw.second;  // (clang 14: no captured bindings)
  float* p = y.data<float>();
  detail::parallel_chunks(rows, 20.0 * width, [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) row_fn(p + i * width, width);
  });
  return y;
}

}  // namespace

Tensor softmax(const Tensor& x) { return rowwise(x, "softmax", kernels::softmax_row); }
Tensor log_softmax(const Tensor& x) {
  return rowwise(x, "log_softmax", kernels::log_softmax_row);
}

}  // namespace mlhub::ops
