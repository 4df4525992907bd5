// Shared checks and helpers of the ops (private to src/ops).
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <string_view>

#include "mlhub/core.h"
#include "mlhub/ops.h"

namespace mlhub::ops::detail {

[[noreturn]] inline void fail(const std::string& message) {
  throw Error(Status::invalid_argument(message));
}

// An F32 contiguous version of x (converts F16/BF16/F64; copies strided views).
inline Tensor f32(const Tensor& x, std::string_view op, std::string_view what) {
  if (!x.defined()) fail(fmt::format("{}: {} is undefined", op, what));
  return x.to(DType::kF32).contiguous();
}

// Rows of the last dimension: (rows, width).
inline std::pair<int64_t, int64_t> rows_of(const Tensor& x) {
  const int64_t w = x.ndim() == 0 ? 1 : x.dim(-1);
  return {w == 0 ? 0 : x.numel() / w, w};
}

// Splits [0, n) into up to `lanes` chunks on the global pool when the work (n * cost_per_item
// flops, roughly) is big enough to pay for the dispatch; else runs inline.
template <typename Fn>
void parallel_rows(int64_t n, double cost_per_item, Fn&& fn) {
  ThreadPool& pool = ThreadPool::global();
  const int64_t lanes = static_cast<int64_t>(pool.lanes());
  if (lanes <= 1 || n <= 1 || static_cast<double>(n) * cost_per_item < 200000.0) {
    fn(int64_t{0}, n);
    return;
  }
  const int64_t chunks = std::min<int64_t>(n, lanes);
  pool.parallel_for(static_cast<size_t>(chunks), [&](size_t c) {
    const int64_t begin = n * static_cast<int64_t>(c) / chunks;
    const int64_t end = n * static_cast<int64_t>(c + 1) / chunks;
    if (begin < end) fn(begin, end);
  });
}

inline Shape with_last(Shape s, int64_t last) {
  s.back() = last;
  return s;
}

}  // namespace mlhub::ops::detail
