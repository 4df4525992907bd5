// concat(): F32 parts joined along one dim by block copies.
#include <cstring>
#include <vector>

#include "ops/ops_internal.h"

namespace mlhub::ops {

Tensor concat(std::span<const Tensor> parts, int dim) {
  if (parts.empty()) detail::fail("concat: no tensors");
  std::vector<Tensor> f32s;
  f32s.reserve(parts.size());
  for (const Tensor& p : parts) f32s.push_back(detail::f32(p, "concat", "part"));
  const Tensor& first = f32s[0];
  const int nd = first.ndim();
  const int d = dim < 0 ? dim + nd : dim;
  if (d < 0 || d >= nd)
    detail::fail(fmt::format("concat: dim {} out of range for rank {}", dim, nd));
  Shape out_shape = first.shape();
  out_shape[d] = 0;
  for (const Tensor& t : f32s) {
    if (t.ndim() != nd) detail::fail("concat: parts differ in rank");
    for (int i = 0; i < nd; ++i)
      if (i != d && t.dim(i) != first.dim(i))
        detail::fail(fmt::format("concat: {} does not match {}", shape_string(t.shape()),
                                 shape_string(first.shape())));
    out_shape[d] += t.dim(d);
  }
  Tensor y = Tensor::empty(DType::kF32, out_shape);
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < d; ++i) outer *= out_shape[i];
  for (int i = d + 1; i < nd; ++i) inner *= out_shape[i];
  float* yp = y.data<float>();
  int64_t offset = 0;
  for (const Tensor& t : f32s) {
    const int64_t chunk = t.dim(d) * inner;
    for (int64_t o = 0; o < outer && chunk > 0; ++o)
      std::memcpy(yp + o * out_shape[d] * inner + offset, t.data<float>() + o * chunk,
                  chunk * sizeof(float));
    offset += chunk;
  }
  return y;
}

}  // namespace mlhub::ops
