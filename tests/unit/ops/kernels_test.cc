// Accuracy of the vector math (exp, erf, tanh, the activations) against double-precision libm
// over dense grids, and position independence of the elementwise kernels.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "kernels/cpu/kernels.h"
#include "test_util.h"

namespace mlhub::ops {
namespace {

std::vector<float> grid(float lo, float hi, float step) {
  std::vector<float> v;
  for (double x = lo; x <= hi; x += step) v.push_back(static_cast<float>(x));
  return v;
}

// Max absolute and relative error of fn over xs against truth(double).
template <typename Fast, typename Truth>
std::pair<double, double> errors(const std::vector<float>& xs, Fast fast, Truth truth,
                                 double rel_floor) {
  std::vector<float> y(xs.size());
  fast(xs.data(), y.data(), static_cast<int64_t>(xs.size()));
  double abs_err = 0, rel_err = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const double t = truth(static_cast<double>(xs[i]));
    const double e = std::fabs(y[i] - t);
    abs_err = std::max(abs_err, e);
    if (std::fabs(t) > rel_floor) rel_err = std::max(rel_err, e / std::fabs(t));
  }
  return {abs_err, rel_err};
}

TEST(KernelsTest, ExpIsWithinAFewUlp) {
  const auto [abs_err, rel] =
      errors(grid(-87.f, 88.f, 0.00731f), kernels::vexp, [](double x) { return std::exp(x); }, 0);
  (void)abs_err;
  EXPECT_LT(rel, 3.0e-7);  // ~2.5 ulp
}

TEST(KernelsTest, ErfMatchesLibm) {
  const auto xs = grid(-6.f, 6.f, 0.000917f);
  const auto [abs_err, rel] =
      errors(xs, kernels::verf, [](double x) { return std::erf(x); }, 0);
  EXPECT_LT(abs_err, 1.5e-7);  // measured 1.21e-7 (one ulp at 1 is 1.19e-7)
  // Relative accuracy near zero too (the small-|x| polynomial).
  const auto [abs_small, rel_small] =
      errors(grid(-0.75f, 0.75f, 0.0000917f), kernels::verf, [](double x) { return std::erf(x); },
             1e-30);
  EXPECT_LT(rel_small, 3e-7);
  (void)rel;
  (void)abs_small;
}

TEST(KernelsTest, TanhMatchesLibm) {
  const auto [abs_err, rel] =
      errors(grid(-12.f, 12.f, 0.000931f), kernels::vtanh, [](double x) { return std::tanh(x); },
             1e-30);
  EXPECT_LT(abs_err, 1.2e-7);
  EXPECT_LT(rel, 3e-7);
}

// The activations in double precision, written so that no tail cancels (gelu through erfc).
double truth(double x, Activation act) {
  switch (act) {
    case Activation::kGeluErf:
      return 0.5 * x * std::erfc(-x / std::sqrt(2.0));
    case Activation::kGeluTanh:
      return 0.5 * x * (1.0 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case Activation::kGeluQuick:
      return x / (1.0 + std::exp(-1.702 * x));
    case Activation::kRelu:
      return x > 0 ? x : 0.0;
    case Activation::kSilu:
      return x / (1.0 + std::exp(-x));
    case Activation::kTanh:
      return std::tanh(x);
    case Activation::kSigmoid:
      return 1.0 / (1.0 + std::exp(-x));
    case Activation::kIdentity:
      break;
  }
  return x;
}

TEST(KernelsTest, ActivationsMatchDoubleReference) {
  // |fast - truth| <= rtol |truth| + atol. gelu (erf) keeps relative accuracy through its whole
  // negative tail (atol ~0); the tanh form cancels in 1 + tanh as torch's does, hence its atol.
  const std::vector<float> xs = grid(-14.f, 14.f, 0.00113f);
  const Tensor x = Tensor::from_floats(xs, {static_cast<int64_t>(xs.size())});
  struct Limit {
    Activation act;
    double rtol, atol;
  };
  const Limit limits[] = {{Activation::kGeluErf, 1.5e-6, 1e-37},
                          {Activation::kGeluTanh, 2e-6, 2e-7},
                          {Activation::kGeluQuick, 2e-6, 1e-40},
                          {Activation::kRelu, 0, 0},
                          {Activation::kSilu, 2e-6, 1e-40},
                          {Activation::kTanh, 3e-7, 1e-40},
                          {Activation::kSigmoid, 2e-6, 1e-40}};
  for (const Limit& l : limits) {
    const auto fast = activation(x, l.act).to_floats();
    for (size_t i = 0; i < xs.size(); ++i) {
      const double t = truth(xs[i], l.act);
      ASSERT_LE(std::fabs(fast[i] - t), l.rtol * std::fabs(t) + l.atol)
          << "activation " << static_cast<int>(l.act) << " at x = " << xs[i];
    }
  }
}

TEST(KernelsTest, ElementwiseResultsDoNotDependOnPosition) {
  // The same value gives the same bits in a full vector or in a masked tail.
  const Tensor x = testing::random_tensor({1, 29}, 5, 3.0f);
  for (Activation act : {Activation::kGeluErf, Activation::kGeluTanh, Activation::kSilu}) {
    const auto whole = activation(x, act).to_floats();
    for (int64_t start = 0; start < 29; start += 3) {
      const auto part = activation(x.slice(1, start, 29), act).to_floats();
      for (size_t i = 0; i < part.size(); ++i) ASSERT_EQ(part[i], whole[start + i]);
    }
  }
}

TEST(KernelsTest, SpecialValues) {
  const std::vector<float> xs = {0.0f, -0.0f, INFINITY, -INFINITY, 1e-30f, -1e-30f, 88.f, -88.f};
  const Tensor x = Tensor::from_floats(xs, {8});
  const auto gelu = activation(x, Activation::kGeluErf).to_floats();
  EXPECT_EQ(gelu[0], 0.0f);
  EXPECT_EQ(gelu[2], INFINITY);
  EXPECT_EQ(gelu[6], 88.f);
  EXPECT_EQ(gelu[7], -0.0f);
  const auto sig = activation(x, Activation::kSigmoid).to_floats();
  EXPECT_EQ(sig[2], 1.0f);
  EXPECT_EQ(sig[3], 0.0f);
  const auto th = activation(x, Activation::kTanh).to_floats();
  EXPECT_EQ(th[2], 1.0f);
  EXPECT_EQ(th[3], -1.0f);
  EXPECT_EQ(th[4], 1e-30f);
}

}  // namespace
}  // namespace mlhub::ops
