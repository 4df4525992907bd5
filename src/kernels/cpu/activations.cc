// Elementwise kernels: activations (fused with a bias add for linear()), exp/erf/tanh for tests,
// add/mul/scale with a broadcast operand. All tails go through masked vector loads, so each
// element gets the same arithmetic wherever it sits.
#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vec_math.h"

namespace mlhub::kernels {

using namespace vec;  // NOLINT(build/namespaces): the vector helpers are this file's vocabulary

namespace {

template <int kKind>
void activation_impl(float* x, int64_t n) {
  map8(x, x, n, [](__m256 v) { return act8(v, kKind); });
}

template <int kKind>
void bias_activation_impl(float* x, int64_t rows, int64_t n, int64_t ld, const float* bias) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * ld;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      __m256 v = _mm256_loadu_ps(row + i);
      if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + i));
      _mm256_storeu_ps(row + i, act8(v, kKind));
    }
    if (i < n) {
      const __m256i m = tail_mask(n - i);
      __m256 v = load_tail(row + i, m);
      if (bias) v = _mm256_add_ps(v, load_tail(bias + i, m));
      store_tail(row + i, m, act8(v, kKind));
    }
  }
}

// Dispatches a runtime kind to a template instantiation, so the switch in act8 folds away.
template <template <int> class Fn, typename... Args>
void by_kind(int kind, Args... args) {
  switch (kind) {
    case kGeluErf:
      return Fn<kGeluErf>::run(args...);
    case kGeluTanh:
      return Fn<kGeluTanh>::run(args...);
    case kGeluQuick:
      return Fn<kGeluQuick>::run(args...);
    case kRelu:
      return Fn<kRelu>::run(args...);
    case kSilu:
      return Fn<kSilu>::run(args...);
    case kTanh:
      return Fn<kTanh>::run(args...);
    case kSigmoid:
      return Fn<kSigmoid>::run(args...);
    default:
      return Fn<kIdentity>::run(args...);
  }
}

template <int kKind>
struct Activate {
  static void run(float* x, int64_t n) { activation_impl<kKind>(x, n); }
};
template <int kKind>
struct BiasActivate {
  static void run(float* x, int64_t rows, int64_t n, int64_t ld, const float* bias) {
    bias_activation_impl<kKind>(x, rows, n, ld, bias);
  }
};

template <typename Op>
void binary(const float* a, const float* b, float* y, int64_t n, int64_t nb, Op op) {
  if (nb >= n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
      _mm256_storeu_ps(y + i, op(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    if (i < n) {
      const __m256i m = tail_mask(n - i);
      store_tail(y + i, m, op(load_tail(a + i, m), load_tail(b + i, m)));
    }
    return;
  }
  // b repeats every nb elements (nb divides n): one pass of the contiguous kernel per repeat.
  for (int64_t off = 0; off < n; off += nb) binary(a + off, b, y + off, nb, nb, op);
}

}  // namespace

void activation_inplace(float* x, int64_t n, int kind) {
  if (kind == kIdentity) return;
  by_kind<Activate>(kind, x, n);
}

void bias_activation(float* x, int64_t rows, int64_t n, int64_t ld, const float* bias, int kind) {
  if (kind == kIdentity && !bias) return;
  by_kind<BiasActivate>(kind, x, rows, n, ld, bias);
}

void vexp(const float* x, float* y, int64_t n) { map8(x, y, n, exp8); }
void verf(const float* x, float* y, int64_t n) { map8(x, y, n, erf8); }
void vtanh(const float* x, float* y, int64_t n) { map8(x, y, n, tanh8); }

void add(const float* a, const float* b, float* y, int64_t n, int64_t nb) {
  binary(a, b, y, n, nb, [](__m256 u, __m256 v) { return _mm256_add_ps(u, v); });
}

void mul(const float* a, const float* b, float* y, int64_t n, int64_t nb) {
  binary(a, b, y, n, nb, [](__m256 u, __m256 v) { return _mm256_mul_ps(u, v); });
}

void scale(const float* a, float s, float* y, int64_t n) {
  const __m256 vs = set1(s);
  map8(a, y, n, [vs](__m256 v) { return _mm256_mul_ps(v, vs); });
}

}  // namespace mlhub::kernels
