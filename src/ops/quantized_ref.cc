// Scalar references of the quantized-weight ops. ref::linear_quantized spells out, per output
// element, the integer arithmetic that src/kernels/cpu/quant_gemm.cc vectorises (docs/kernels.md
// "Quantized weights"): the 8 float lanes, exact int32 lane sums, one FMA per block by the scale
// product, the fixed reduction tree. It therefore gives the same bits as the fast kernels, which
// the tests check; its own accuracy against linear(x, dequantize(w)) is checked separately.
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cpu/quant.h"
#include "ops/ops_internal.h"

namespace mlhub::ops::ref {

using detail::fail;
using kernels::kQK;
using kernels::kQKK;

namespace {

// vec::hsum8's tree: ((a0 + a4) + (a2 + a6)) + ((a1 + a5) + (a3 + a7)).
float hsum8(const float* a) {
  const float s0 = a[0] + a[4], s1 = a[1] + a[5], s2 = a[2] + a[6], s3 = a[3] + a[7];
  return (s0 + s2) + (s1 + s3);
}

// The integer weights of block b of a 32-value format (value order), its scale and min.
void int_block32(DType type, const uint8_t* row, int64_t b, int* q, float* d, float* m) {
  *m = 0.0f;
  if (type == DType::kQ8_0) {
    const auto& blk = reinterpret_cast<const kernels::BlockQ8_0*>(row)[b];
    for (int i = 0; i < kQK; ++i) q[i] = blk.qs[i];
    *d = f16_to_f32(blk.d);
    return;
  }
  const uint8_t* qs;
  if (type == DType::kQ4_0) {
    const auto& blk = reinterpret_cast<const kernels::BlockQ4_0*>(row)[b];
    qs = blk.qs;
    *d = f16_to_f32(blk.d);
  } else {
    const auto& blk = reinterpret_cast<const kernels::BlockQ4_1*>(row)[b];
    qs = blk.qs;
    *d = f16_to_f32(blk.d);
    *m = f16_to_f32(blk.m);
  }
  const int off = type == DType::kQ4_0 ? 8 : 0;
  for (int i = 0; i < 16; ++i) {
    q[i] = (qs[i] & 0x0F) - off;
    q[i + 16] = (qs[i] >> 4) - off;
  }
}

float dot_q8a(DType type, const uint8_t* w, const kernels::BlockQ8A* x, int64_t nb) {
  float acc[8] = {};
  for (int64_t b = 0; b < nb; ++b) {
    int q[kQK];
    float dw, mw;
    int_block32(type, w, b, q, &dw, &mw);
    const float s = dw * x[b].d;
    for (int l = 0; l < 8; ++l) {
      int p = 0;
      for (int t = 0; t < 4; ++t) p += q[4 * l + t] * x[b].qs[4 * l + t];
      acc[l] = std::fma(s, static_cast<float>(p), acc[l]);
      if (type == DType::kQ4_1) acc[l] = std::fma(mw, x[b].ls[l], acc[l]);
    }
  }
  return hsum8(acc);
}

// Integer weights of a K-quant super-block, per-chunk-lane scales (scale[j][l]: the scale of
// lanes l of chunk j), mins per lane, d and dmin.
struct KInts {
  int q[kQKK];
  int scale[8][8];
  int mins[8];
  float d, dmin;
};

KInts int_block_k(DType type, const uint8_t* row, int64_t b) {
  KInts k{};
  if (type == DType::kQ6_K) {
    const auto& blk = reinterpret_cast<const kernels::BlockQ6_K*>(row)[b];
    for (int e = 0; e < kQKK; ++e) {
      const int h = e / 128, r = e % 128;
      const int lo = (blk.ql[64 * h + r % 64] >> (4 * (r / 64))) & 0x0F;
      const int hi = (blk.qh[32 * h + r % 32] >> (2 * (r / 32))) & 3;
      k.q[e] = (lo | (hi << 4)) - 32;
    }
    for (int j = 0; j < 8; ++j)
      for (int l = 0; l < 8; ++l) k.scale[j][l] = blk.scales[2 * j + l / 4];
    k.d = f16_to_f32(blk.d);
    return k;
  }
  const bool q5 = type == DType::kQ5_K;
  const uint8_t* base = row + b * (q5 ? sizeof(kernels::BlockQ5_K) : sizeof(kernels::BlockQ4_K));
  uint16_t dh, mh;
  std::memcpy(&dh, base, 2);
  std::memcpy(&mh, base + 2, 2);
  const uint8_t* qs = base + (q5 ? 48 : 16);
  for (int j = 0; j < 8; ++j) {
    int sc, mn;
    kernels::k_scale_min(base + 4, j, &sc, &mn);
    for (int l = 0; l < 8; ++l) k.scale[j][l] = sc;
    k.mins[j] = mn;
    for (int i = 0; i < 32; ++i) {
      int v = (qs[(j / 2) * 32 + i] >> (4 * (j % 2))) & 0x0F;
      if (q5) v |= ((base[16 + i] >> j) & 1) << 4;
      k.q[32 * j + i] = v;
    }
  }
  k.d = f16_to_f32(dh);
  k.dmin = f16_to_f32(mh);
  return k;
}

float dot_q8k(DType type, const uint8_t* w, const kernels::BlockQ8K* x, int64_t nb) {
  float acc[8] = {};
  for (int64_t b = 0; b < nb; ++b) {
    const KInts k = int_block_k(type, w, b);
    for (int l = 0; l < 8; ++l) {
      int sum = 0;
      for (int j = 0; j < 8; ++j) {
        int p = 0;
        for (int t = 0; t < 4; ++t) p += k.q[32 * j + 4 * l + t] * x[b].qs[32 * j + 4 * l + t];
        sum += k.scale[j][l] * p;
      }
      acc[l] = std::fma(k.d * x[b].d, static_cast<float>(sum), acc[l]);
      if (type != DType::kQ6_K) {
        const int mp = k.mins[l] * (x[b].bsums[2 * l] + x[b].bsums[2 * l + 1]);
        acc[l] = std::fma(-(k.dmin * x[b].d), static_cast<float>(mp), acc[l]);
      }
    }
  }
  return hsum8(acc);
}

}  // namespace

Tensor dequantize(const Tensor& w) {
  if (!w.defined()) fail("dequantize: tensor is undefined");
  if (!dtype_is_quantized(w.dtype())) return w.to(DType::kF32).contiguous();
  if (w.ndim() < 1 || !w.is_contiguous()) fail("dequantize: bad quantized tensor");
  Tensor y = Tensor::empty(DType::kF32, w.shape());
  const int64_t cols = w.dim(-1), rows = cols == 0 ? 0 : w.numel() / cols;
  const size_t rb = dtype_row_bytes(w.dtype(), cols);
  const auto* src = static_cast<const uint8_t*>(w.raw_data());
  for (int64_t r = 0; r < rows; ++r)
    kernels::dequantize_row_scalar(w.dtype(), src + r * rb, y.data<float>() + r * cols, cols);
  return y;
}

Tensor linear_quantized(const Tensor& x_in, const Tensor& weight, const Tensor& bias_in,
                        Activation act) {
  const DType type = weight.dtype();
  const kernels::QuantPath path = kernels::quant_path(type);
  if (!dtype_is_quantized(type) || path == kernels::QuantPath::kGeneric)
    return ref::linear(x_in, ref::dequantize(weight), bias_in, act);
  const Tensor x = detail::f32(x_in, "ref::linear_quantized", "input");
  const int64_t n = weight.dim(0), k = weight.dim(1);
  if (x.dim(-1) != k) fail("ref::linear_quantized: shapes do not match");
  const size_t wrb = dtype_row_bytes(type, k);
  const auto* wp = static_cast<const uint8_t*>(weight.raw_data());
  const Tensor bias = bias_in.defined() ? detail::f32(bias_in, "ref::linear", "bias") : Tensor();
  const int64_t m = x.numel() / k;
  Tensor y = Tensor::empty(DType::kF32, detail::with_last(x.shape(), n));
  float* yp = y.data<float>();
  for (int64_t r = 0; r < m; ++r) {
    const float* xr = x.data<float>() + r * k;
    std::vector<kernels::BlockQ8A> xa;
    std::vector<kernels::BlockQ8K> xk;
    if (path == kernels::QuantPath::kQ8A) {
      xa.resize(static_cast<size_t>(k / kQK));
      kernels::quantize_acts_q8a_scalar(xr, xa.data(), k);
    } else {
      xk.resize(static_cast<size_t>(k / kQKK));
      kernels::quantize_acts_q8k_scalar(xr, xk.data(), k);
    }
    for (int64_t c = 0; c < n; ++c) {
      float v = path == kernels::QuantPath::kQ8A ? dot_q8a(type, wp + c * wrb, xa.data(), k / kQK)
                                                  : dot_q8k(type, wp + c * wrb, xk.data(), k / kQKK);
      if (bias.defined()) v += bias.data<float>()[c];
      yp[r * n + c] = act == Activation::kIdentity
                          ? v
                          : static_cast<float>(detail::ref_activation(v, act));
    }
  }
  return y;
}

}  // namespace mlhub::ops::ref
