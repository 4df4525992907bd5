// add / add_ / mul with suffix broadcasting, and scale.
#include "kernels/cpu/kernels.h"
#include "ops/ops_internal.h"

namespace mlhub::ops {

using detail::fail;

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

using BinaryKernel = void (*)(const float*, const float*, float*, int64_t, int64_t);

// y = a op b over chunks of whole repeats of b.
void run_binary(const float* ap, const float* bp, float* yp, int64_t n, int64_t nb,
                BinaryKernel kernel) {
  if (n == 0) return;
  const int64_t repeats = n / nb;
  detail::parallel_chunks(repeats, static_cast<double>(nb), [&](int64_t r0, int64_t r1) {
    kernel(ap + r0 * nb, bp, yp + r0 * nb, (r1 - r0) * nb, nb);
  });
}

Tensor binary(const Tensor& a_in, const Tensor& b_in, std::string_view op, BinaryKernel kernel) {
  const Tensor a = detail::f32(a_in, op, "a");
  const Tensor b = detail::f32(b_in, op, "b");
  check_broadcast(a, b, op);
  Tensor y = Tensor::empty(DType::kF32, a.shape());
  run_binary(a.data<float>(), b.data<float>(), y.data<float>(), a.numel(), b.numel(), kernel);
  return y;
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b) { return binary(a, b, "add", kernels::add); }

void add_(Tensor& a, const Tensor& b_in) {
  if (!a.defined() || a.dtype() != DType::kF32 || !a.is_contiguous() || a.read_only())
    fail("add_: the target must be an owned contiguous F32 tensor");
  const Tensor b = detail::f32(b_in, "add_", "b");
  check_broadcast(a, b, "add_");
  run_binary(a.data<float>(), b.data<float>(), a.data<float>(), a.numel(), b.numel(),
             kernels::add);
}

Tensor mul(const Tensor& a, const Tensor& b) { return binary(a, b, "mul", kernels::mul); }

Tensor scale(const Tensor& a_in, float s) {
  const Tensor a = detail::f32(a_in, "scale", "input");
  Tensor y = Tensor::empty(DType::kF32, a.shape());
  const float* ap = a.data<float>();
  float* yp = y.data<float>();
  detail::parallel_chunks(
      a.numel(), 1.0,
      [&](int64_t i0, int64_t i1) { kernels::scale(ap + i0, s, yp + i0, i1 - i0); }, 64);
  return y;
}

}  // namespace mlhub::ops
