// matmul(): batched products over the last two dims, on mlhub's GEMM, batches split over the
// pool (or, for a single large product, its rows).
#include "kernels/cpu/kernels.h"
#include "ops/ops_internal.h"

namespace mlhub::ops {

using detail::fail;

Tensor matmul(const Tensor& a_in, const Tensor& b_in, bool transpose_b) {
  const Tensor a = detail::f32(a_in, "matmul", "a");
  const Tensor b = detail::f32(b_in, "matmul", "b");
  if (a.ndim() < 2 || b.ndim() != a.ndim())
    fail(fmt::format("matmul: shapes {} and {}", shape_string(a.shape()), shape_string(b.shape())));
  const int nd = a.ndim();
  for (int i = 0; i < nd - 2; ++i)
    if (a.dim(i) != b.dim(i))
      fail(fmt::format("matmul: leading dims of {} and {} differ", shape_string(a.shape()),
                       shape_string(b.shape())));
  const int64_t m = a.dim(-2), k = a.dim(-1);
  const int64_t n = transpose_b ? b.dim(-2) : b.dim(-1);
  if ((transpose_b ? b.dim(-1) : b.dim(-2)) != k)
    fail(fmt::format("matmul: inner dims of {} and {} differ", shape_string(a.shape()),
                     shape_string(b.shape())));
  Tensor y = Tensor::empty(DType::kF32, detail::with_last(a.shape(), n));
  if (m == 0 || n == 0) return y;
  const int64_t batch = y.numel() / (m * n);
  const float* ap = a.data<float>();
  const float* bp = b.data<float>();
  float* yp = y.data<float>();
  const int64_t ldb = transpose_b ? k : n;
  const double cost = 2.0 * static_cast<double>(m) * static_cast<double>(n) * k;
  if (batch >= static_cast<int64_t>(ThreadPool::global().lanes())) {
    detail::parallel_chunks(batch, cost, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i)
        kernels::sgemm(m, n, k, ap + i * m * k, k, bp + i * n * k, ldb, transpose_b,
                       yp + i * m * n, n);
    });
  } else {
    for (int64_t i = 0; i < batch; ++i)
      detail::parallel_chunks(
          m, cost / static_cast<double>(m),
          [&](int64_t r0, int64_t r1) {
            kernels::sgemm(r1 - r0, n, k, ap + (i * m + r0) * k, k, bp + i * n * k, ldb,
                           transpose_b, yp + (i * m + r0) * n, n);
          },
          kernels::kGemmRows);
  }
  return y;
}

}  // namespace mlhub::ops
