// linear(): y = x W^T + b, then an activation, on mlhub's GEMM (src/kernels/cpu/sgemm.cc) split
// over the thread pool, with bias and activation applied to each chunk while it is in cache.
// PackedWeight keeps W in the GEMM's panel layout so that linear() need not repack it per call.
#include "kernels/cpu/kernels.h"
#include "ops/ops_internal.h"
#include "ops/quantized.h"

namespace mlhub::ops {

using detail::fail;

namespace {

// The body shared by both overloads. gemm(m, c0, c1, a, c, ldc) writes C[m, c1 - c0] =
// A[m, in] x W[c0:c1, :]^T (c0 a multiple of kGemmCols); both gemms give the same bits.
template <class Gemm>
Tensor linear_impl(const Tensor& x, int64_t out_features, int64_t in_features,
                   const Tensor& bias_in, Activation act, Gemm&& gemm) {
  // const: biases are often read-only views into a mapped file, and only the const data()
  // accessor may read those.
  const Tensor bias = bias_in.defined() ? detail::f32(bias_in, "linear", "bias") : Tensor();
  if (bias.defined() && bias.numel() != out_features)
    fail(fmt::format("linear: bias {} for {} outputs", shape_string(bias.shape()), out_features));
  int64_t m = 1;
  for (int i = 0; i + 1 < x.ndim(); ++i) m *= x.dim(i);
  Tensor y = Tensor::empty(DType::kF32, detail::with_last(x.shape(), out_features));
  if (m == 0 || out_features == 0) return y;
  const float* xp = x.data<float>();
  const float* bp = bias.defined() ? bias.data<float>() : nullptr;
  float* yp = y.data<float>();
  const int kind = static_cast<int>(act);
  const double row_cost = 2.0 * static_cast<double>(in_features) * out_features;
  // Many rows: split M (each lane streams its rows past all of W). Few rows: split N so that
  // batch 1 still uses every lane. Any split gives the same bits (kernels.h).
  if (m >= 32 * static_cast<int64_t>(ThreadPool::global().lanes())) {
    detail::parallel_chunks(
        m, row_cost,
        [&](int64_t r0, int64_t r1) {
          float* yr = yp + r0 * out_features;
          gemm(r1 - r0, int64_t{0}, out_features, xp + r0 * in_features, yr, out_features);
          kernels::bias_activation(yr, r1 - r0, out_features, out_features, bp, kind);
        },
        kernels::kGemmRows);
  } else {
    detail::parallel_chunks(
        out_features, row_cost * static_cast<double>(m) / static_cast<double>(out_features),
        [&](int64_t c0, int64_t c1) {
          gemm(m, c0, c1, xp, yp + c0, out_features);
          kernels::bias_activation(yp + c0, m, c1 - c0, out_features, bp ? bp + c0 : nullptr,
                                   kind);
        },
        kernels::kGemmCols);
  }
  return y;
}

}  // namespace

Tensor linear(const Tensor& x_in, const Tensor& weight_in, const Tensor& bias, Activation act) {
  // Block-quantized weights (GGUF) take the integer path of quantized.cc.
  if (weight_in.defined() && dtype_is_quantized(weight_in.dtype()))
    return detail::linear_quantized(x_in, weight_in, bias, act);
  const Tensor x = detail::f32(x_in, "linear", "input");
  const Tensor w = detail::f32(weight_in, "linear", "weight");
  if (w.ndim() != 2 || x.ndim() < 1 || x.dim(-1) != w.dim(1))
    fail(fmt::format("linear: input {} does not match weight {}", shape_string(x.shape()),
                     shape_string(w.shape())));
  const int64_t out_features = w.dim(0), in_features = w.dim(1);
  const float* wp = w.data<float>();
  return linear_impl(x, out_features, in_features, bias, act,
                     [&](int64_t m, int64_t c0, int64_t c1, const float* a, float* c, int64_t ldc) {
                       kernels::sgemm(m, c1 - c0, in_features, a, in_features,
                                      wp + c0 * in_features, in_features, true, c, ldc);
                     });
}

PackedWeight PackedWeight::pack(const Tensor& weight_in) {
  const Tensor w = detail::f32(weight_in, "PackedWeight::pack", "weight");
  if (w.ndim() != 2)
    fail(fmt::format("PackedWeight::pack: weight {} is not [out, in]", shape_string(w.shape())));
  PackedWeight p;
  p.defined_ = true;
  p.out_ = w.dim(0);
  p.in_ = w.dim(1);
  // Owned storage is 64-byte aligned, as the kernel's aligned panel loads need.
  p.panels_ = Tensor::empty(DType::kF32, {kernels::sgemm_packed_b_floats(p.out_, p.in_)});
  const float* wp = w.data<float>();
  float* out = p.panels_.data<float>();
  // Split over the pool: packing is memory-bound, and model loading waits for it.
  detail::parallel_chunks(
      p.out_, static_cast<double>(p.in_),
      [&](int64_t c0, int64_t c1) {
        kernels::sgemm_pack_b(p.out_, p.in_, wp, p.in_, c0, c1 - c0, out);
      },
      kernels::kGemmCols);
  return p;
}

Tensor linear(const Tensor& x_in, const PackedWeight& weight, const Tensor& bias, Activation act) {
  if (!weight.defined()) fail("linear: packed weight is undefined");
  const Tensor x = detail::f32(x_in, "linear", "input");
  const int64_t out_features = weight.out_features(), in_features = weight.in_features();
  if (x.ndim() < 1 || x.dim(-1) != in_features)
    fail(fmt::format("linear: input {} does not match packed weight [{}, {}]",
                     shape_string(x.shape()), out_features, in_features));
  const float* pp = weight.panels().data<float>();
  return linear_impl(x, out_features, in_features, bias, act,
                     [&](int64_t m, int64_t c0, int64_t c1, const float* a, float* c, int64_t ldc) {
                       kernels::sgemm_packed(m, c1 - c0, in_features, a, in_features, pp,
                                             out_features, c0, c, ldc);
                     });
}

}  // namespace mlhub::ops
