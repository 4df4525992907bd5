// Quantized weights: dequantize(), linear() with a quantized weight, and embedding() lookups in a
// quantized table. Checks shapes, splits the work over the pool, and calls the kernels of
// src/kernels/cpu/quant.h. How the integer path is defined and why: docs/kernels.md.
#include <memory>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/quant.h"
#include "ops/ops_internal.h"
#include "ops/quantized.h"

namespace mlhub::ops {

using detail::fail;

namespace {

// The rows of a quantized tensor: (rows, values per row, bytes per row, first byte).
struct QuantRows {
  int64_t rows, cols;
  size_t row_bytes;
  const uint8_t* data;
};

QuantRows quant_rows(const Tensor& w, std::string_view op) {
  if (!w.defined()) fail(fmt::format("{}: weight is undefined", op));
  if (w.ndim() < 1) fail(fmt::format("{}: a quantized tensor needs a last dimension", op));
  if (!w.is_contiguous()) fail(fmt::format("{}: quantized tensor is not contiguous", op));
  QuantRows q;
  q.cols = w.dim(-1);
  q.rows = q.cols == 0 ? 0 : w.numel() / q.cols;
  q.row_bytes = dtype_row_bytes(w.dtype(), q.cols);
  q.data = static_cast<const uint8_t*>(w.raw_data());
  return q;
}

// Quantizes the m rows of x [m, k] for `path` into one buffer (rows of row_bytes).
std::unique_ptr<uint8_t[]> quantize_rows(kernels::QuantPath path, const float* x, int64_t m,
                                         int64_t k, size_t row_bytes) {
  std::unique_ptr<uint8_t[]> buf(new uint8_t[static_cast<size_t>(m) * row_bytes]);
  uint8_t* out = buf.get();
  detail::parallel_chunks(m, 8.0 * static_cast<double>(k), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) kernels::quantize_acts_row(path, x + r * k, out + r * row_bytes, k);
  });
  return buf;
}

// Columns per dequantized panel of the generic path (a panel of 64 x 4096 floats is 1 MiB).
constexpr int64_t kPanelCols = 64;

}  // namespace

Tensor dequantize(const Tensor& w) {
  if (!w.defined()) fail("dequantize: tensor is undefined");
  if (!dtype_is_quantized(w.dtype())) return w.to(DType::kF32).contiguous();
  const QuantRows q = quant_rows(w, "dequantize");
  Tensor y = Tensor::empty(DType::kF32, w.shape());
  float* yp = y.data<float>();
  detail::parallel_chunks(q.rows, 2.0 * static_cast<double>(q.cols), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      kernels::dequantize_row(w.dtype(), q.data + r * q.row_bytes, yp + r * q.cols, q.cols);
  });
  return y;
}

namespace detail {

Tensor embedding_quantized(const Tensor& weight, const Tensor& ids_in) {
  if (weight.ndim() != 2) fail("embedding: weight must be [V, H]");
  if (!ids_in.defined()) fail("embedding: ids are undefined");
  const QuantRows q = quant_rows(weight, "embedding");
  const Tensor ids = ids_in.to(DType::kI64).contiguous();
  Shape out_shape = ids.shape();
  out_shape.push_back(q.cols);
  Tensor y = Tensor::empty(DType::kF32, out_shape);
  const int64_t* ip = ids.data<int64_t>();
  float* yp = y.data<float>();
  for (int64_t i = 0, n = ids.numel(); i < n; ++i) {
    const int64_t id = ip[i];
    if (id < 0 || id >= q.rows)
      throw Error(Status::out_of_range(
          fmt::format("embedding: id {} is outside the vocabulary of {}", id, q.rows)));
    kernels::dequantize_row(weight.dtype(), q.data + id * q.row_bytes, yp + i * q.cols, q.cols);
  }
  return y;
}

Tensor linear_quantized(const Tensor& x_in, const Tensor& weight, const Tensor& bias_in,
                        Activation act) {
  const Tensor x = detail::f32(x_in, "linear", "input");
  const QuantRows w = quant_rows(weight, "linear");
  if (weight.ndim() != 2 || x.ndim() < 1 || x.dim(-1) != w.cols)
    fail(fmt::format("linear: input {} does not match weight {} ({})", shape_string(x.shape()),
                     shape_string(weight.shape()), dtype_name(weight.dtype())));
  const Tensor bias = bias_in.defined() ? detail::f32(bias_in, "linear", "bias") : Tensor();
  const int64_t n = w.rows, k = w.cols;
  if (bias.defined() && bias.numel() != n)
    fail(fmt::format("linear: bias {} for {} outputs", shape_string(bias.shape()), n));
  int64_t m = 1;
  for (int i = 0; i + 1 < x.ndim(); ++i) m *= x.dim(i);
  Tensor y = Tensor::empty(DType::kF32, detail::with_last(x.shape(), n));
  if (m == 0 || n == 0) return y;
  const float* xp = x.data<float>();
  const float* bp = bias.defined() ? bias.data<float>() : nullptr;
  float* yp = y.data<float>();
  const int kind = static_cast<int>(act);
  const DType type = weight.dtype();
  const kernels::QuantPath path = kernels::quant_path(type);
  const double col_cost = 2.0 * static_cast<double>(m) * static_cast<double>(k);

  if (path == kernels::QuantPath::kGeneric) {
    // Dequantize a panel of weight rows, then the F32 GEMM: exactly linear(x, dequantize(w)).
    detail::parallel_chunks(
        n, col_cost,
        [&](int64_t c0, int64_t c1) {
          std::unique_ptr<float[]> panel(new float[static_cast<size_t>(kPanelCols * k)]);
          for (int64_t c = c0; c < c1; c += kPanelCols) {
            const int64_t cols = std::min(kPanelCols, c1 - c);
            for (int64_t j = 0; j < cols; ++j)
              kernels::dequantize_row(type, w.data + (c + j) * w.row_bytes, panel.get() + j * k, k);
            kernels::sgemm(m, cols, k, xp, k, panel.get(), k, true, yp + c, n);
            kernels::bias_activation(yp + c, m, cols, n, bp ? bp + c : nullptr, kind);
          }
        },
        kernels::kGemmCols);
    return y;
  }

  const size_t xrb = kernels::quant_acts_row_bytes(path, k);
  const std::unique_ptr<uint8_t[]> xq = quantize_rows(path, xp, m, k, xrb);
  const uint8_t* xqp = xq.get();
  // Many rows: split them (each lane streams W once per 64-column block). Few: split the columns
  // so that one token still uses every lane. Any split gives the same bits (quant.h).
  if (m >= 16 * static_cast<int64_t>(ThreadPool::global().lanes())) {
    detail::parallel_chunks(
        m, 2.0 * static_cast<double>(n) * static_cast<double>(k),
        [&](int64_t r0, int64_t r1) {
          float* yr = yp + r0 * n;
          kernels::quant_gemm(type, r1 - r0, n, k, w.data, w.row_bytes, xqp + r0 * xrb, yr, n);
          kernels::bias_activation(yr, r1 - r0, n, n, bp, kind);
        },
        4);
  } else {
    detail::parallel_chunks(
        n, col_cost,
        [&](int64_t c0, int64_t c1) {
          kernels::quant_gemm(type, m, c1 - c0, k, w.data + c0 * w.row_bytes, w.row_bytes, xqp,
                              yp + c0, n);
          kernels::bias_activation(yp + c0, m, c1 - c0, n, bp ? bp + c0 : nullptr, kind);
        },
        4);
  }
  return y;
}

}  // namespace detail

}  // namespace mlhub::ops
