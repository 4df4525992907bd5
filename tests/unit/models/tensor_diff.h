// Shared by the encoder parity tests: the largest difference between a model output and
// transformers' reference tensor, reported per tensor.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>

#include "mlhub/tensor.h"

namespace mlhub::models::testing {

// Max |a - b| (infinity when the shapes differ or a value is NaN), printed per tensor.
inline float max_abs_diff(const Tensor& got, const Tensor& want, const std::string& what) {
  if (!got.defined() || got.shape() != want.shape()) {
    ADD_FAILURE() << what << ": shape " << (got.defined() ? shape_string(got.shape()) : "undefined")
                  << ", want " << shape_string(want.shape());
    return INFINITY;
  }
  const auto x = got.to_floats(), y = want.to_floats();
  float m = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const float d = std::fabs(x[i] - y[i]);
    if (!(d <= m)) m = std::isnan(d) ? INFINITY : d;
  }
  std::printf("  %-32s max diff %.3g\n", what.c_str(), m);
  return m;
}

}  // namespace mlhub::models::testing
