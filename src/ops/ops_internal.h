// Shared checks and helpers of the ops (private to src/ops).
#pragma once

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>

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

// A fresh F32 contiguous copy of x that the op may overwrite (never shares x's storage).
inline Tensor f32_copy(const Tensor& x, std::string_view op, std::string_view what) {
  if (!x.defined()) fail(fmt::format("{}: {} is undefined", op, what));
  return x.dtype() == DType::kF32 ? x.clone() : x.to(DType::kF32).contiguous();
}

// Rows of the last dimension: (rows, width).
inline std::pair<int64_t, int64_t> rows_of(const Tensor& x) {
  const int64_t w = x.ndim() == 0 ? 1 : x.dim(-1);
  return {w == 0 ? 0 : x.numel() / w, w};
}

inline Shape with_last(Shape s, int64_t last) {
  s.back() = last;
  return s;
}

// Below this much work (~flops) an op runs on the calling thread: a dispatch costs ~1 us with
// the workers awake and ~5-10 us when they sleep or share a core (bench/gemm_bench.cc
// mlhub/pool_dispatch), while 5e5 flops take ~5-10 us in the kernels.
constexpr double kParallelMinWork = 5.0e5;

// Splits [0, n) into up to lanes() contiguous chunks on the global pool when the work
// (n * cost_per_item) pays for the dispatch; else runs fn(0, n) inline. Chunk boundaries are
// multiples of `align` (except the end). Results must not depend on the split: every kernel
// computes an element the same way whatever chunk it is in.
template <typename Fn>
void parallel_chunks(int64_t n, double cost_per_item, Fn&& fn, int64_t align = 1) {
  ThreadPool& pool = ThreadPool::global();
  const int64_t units = (n + align - 1) / align;
  const int64_t lanes = std::min<int64_t>(static_cast<int64_t>(pool.lanes()), units);
  if (lanes <= 1 || static_cast<double>(n) * cost_per_item < kParallelMinWork) {
    if (n > 0) fn(int64_t{0}, n);
    return;
  }
  pool.parallel_for(static_cast<size_t>(lanes), [&](size_t c) {
    const int64_t begin = std::min(n, units * static_cast<int64_t>(c) / lanes * align);
    const int64_t end = std::min(n, units * static_cast<int64_t>(c + 1) / lanes * align);
    if (begin < end) fn(begin, end);
  });
}

// The scalar activation of the references (double precision, libm).
double ref_activation(double x, Activation act);

}  // namespace mlhub::ops::detail
