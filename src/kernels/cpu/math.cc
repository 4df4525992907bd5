// Vectorised elementwise math: exp, erf, tanh and the activations built on them, softmax and
// norm rows, dot/axpy. AVX2 + FMA with scalar tails. Accuracy against libm is tested in
// tests/unit/ops/kernels_test.cc (exp ~2 ulp; erf abs error < 2e-7 (Abramowitz-Stegun 7.1.26);
// tanh abs error < 3e-7).
#include <immintrin.h>

#include <cmath>

#include "kernels/cpu/kernels.h"

namespace mlhub::kernels {
namespace {

// Cephes-style expf: 2^n * p(r), r = x - n ln2 in two parts.
inline __m256 exp8(__m256 x) {
  const __m256 hi = _mm256_set1_ps(88.3762626647949f), lo = _mm256_set1_ps(-88.3762626647949f);
  x = _mm256_max_ps(_mm256_min_ps(x, hi), lo);
  __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
  __m256 p = _mm256_set1_ps(1.9875691500E-4f);
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(1.3981999507E-3f));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(8.3334519073E-3f));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(4.1665795894E-2f));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(1.6666665459E-1f));
  p = _mm256_fmadd_ps(p, x, _mm256_set1_ps(5.0000001201E-1f));
  const __m256 x2 = _mm256_mul_ps(x, x);
  p = _mm256_fmadd_ps(p, x2, _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
  __m256i n = _mm256_cvtps_epi32(fx);
  n = _mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23);
  return _mm256_mul_ps(p, _mm256_castsi256_ps(n));
}

inline __m256 abs8(__m256 x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
inline __m256 sign_of8(__m256 x) { return _mm256_and_ps(_mm256_set1_ps(-0.0f), x); }

// erf by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7).
inline __m256 erf8(__m256 x) {
  const __m256 s = sign_of8(x);
  const __m256 a = abs8(x);
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(_mm256_set1_ps(0.3275911f), a, one));
  __m256 p = _mm256_set1_ps(1.061405429f);
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-1.453152027f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(1.421413741f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(-0.284496736f));
  p = _mm256_fmadd_ps(p, t, _mm256_set1_ps(0.254829592f));
  p = _mm256_mul_ps(p, t);
  const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a)));
  const __m256 r = _mm256_fnmadd_ps(p, e, one);
  return _mm256_or_ps(r, s);
}

inline __m256 tanh8(__m256 x) {
  const __m256 s = sign_of8(x);
  const __m256 a = _mm256_min_ps(abs8(x), _mm256_set1_ps(20.0f));
  const __m256 one = _mm256_set1_ps(1.0f);
  const __m256 e = exp8(_mm256_add_ps(a, a));
  const __m256 r = _mm256_sub_ps(one, _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, one)));
  return _mm256_or_ps(r, s);
}

inline __m256 sigmoid8(__m256 x) {
  const __m256 one = _mm256_set1_ps(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

inline float erf1(float x) {
  const float a = std::fabs(x);
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  const float p =
      ((((1.061405429f * t - 1.453152027f) * t + 1.421413741f) * t - 0.284496736f) * t +
       0.254829592f) *
      t;
  const float r = 1.0f - p * std::exp(-a * a);
  return x < 0 ? -r : r;
}

// Activation kinds (ops::Activation order).
enum Kind { kIdentity, kGeluErf, kGeluTanh, kGeluQuick, kRelu, kSilu, kTanh, kSigmoid };

inline __m256 act8(__m256 x, int kind) {
  const __m256 half = _mm256_set1_ps(0.5f), one = _mm256_set1_ps(1.0f);
  switch (kind) {
    case kGeluErf:
      return _mm256_mul_ps(_mm256_mul_ps(half, x),
                           _mm256_add_ps(one, erf8(_mm256_mul_ps(x, _mm256_set1_ps(0.70710678118654752f)))));
    case kGeluTanh: {
      const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
      const __m256 inner = _mm256_mul_ps(_mm256_set1_ps(0.7978845608028654f),
                                         _mm256_fmadd_ps(_mm256_set1_ps(0.044715f), x3, x));
      return _mm256_mul_ps(_mm256_mul_ps(half, x), _mm256_add_ps(one, tanh8(inner)));
    }
    case kGeluQuick:
      return _mm256_mul_ps(x, sigmoid8(_mm256_mul_ps(_mm256_set1_ps(1.702f), x)));
    case kRelu:
      return _mm256_max_ps(x, _mm256_setzero_ps());
    case kSilu:
      return _mm256_mul_ps(x, sigmoid8(x));
    case kTanh:
      return tanh8(x);
    case kSigmoid:
      return sigmoid8(x);
    default:
      return x;
  }
}

inline float act1(float x, int kind) {
  switch (kind) {
    case kGeluErf:
      return 0.5f * x * (1.0f + erf1(x * 0.70710678118654752f));
    case kGeluTanh:
      return 0.5f * x * (1.0f + std::tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
    case kGeluQuick:
      return x / (1.0f + std::exp(-1.702f * x));
    case kRelu:
      return x > 0 ? x : 0.0f;
    case kSilu:
      return x / (1.0f + std::exp(-x));
    case kTanh:
      return std::tanh(x);
    case kSigmoid:
      return 1.0f / (1.0f + std::exp(-x));
    default:
      return x;
  }
}

inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

inline float hmax8(__m256 v) {
  __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_max_ps(s, _mm_movehl_ps(s, s));
  s = _mm_max_ss(s, _mm_shuffle_ps(s, s, 1));
  return _mm_cvtss_f32(s);
}

}  // namespace

void vexp(const float* x, float* y, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, exp8(_mm256_loadu_ps(x + i)));
  for (; i < n; ++i) y[i] = std::exp(x[i]);
}

void activation_inplace(float* x, int64_t n, int kind) {
  if (kind == kIdentity) return;
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, act8(_mm256_loadu_ps(x + i), kind));
  for (; i < n; ++i) x[i] = act1(x[i], kind);
}

void bias_activation(float* x, int64_t rows, int64_t n, const float* bias, int kind) {
  for (int64_t r = 0; r < rows; ++r) {
    float* row = x + r * n;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
      __m256 v = _mm256_loadu_ps(row + i);
      if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + i));
      _mm256_storeu_ps(row + i, act8(v, kind));
    }
    for (; i < n; ++i) row[i] = act1(bias ? row[i] + bias[i] : row[i], kind);
  }
}

void layer_norm_row(const float* x, const float* r, const float* w, const float* b, float eps,
                    int64_t n, float* y) {
  // y holds x + r first (so the residual sum is rounded once, as torch's add then norm).
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 v = _mm256_loadu_ps(x + i);
    if (r) v = _mm256_add_ps(v, _mm256_loadu_ps(r + i));
    _mm256_storeu_ps(y + i, v);
    acc = _mm256_add_ps(acc, v);
  }
  float sum = hsum8(acc);
  for (; i < n; ++i) {
    y[i] = r ? x[i] + r[i] : x[i];
    sum += y[i];
  }
  const float mean = sum / static_cast<float>(n);
  const __m256 vm = _mm256_set1_ps(mean);
  __m256 acc2 = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 d = _mm256_sub_ps(_mm256_loadu_ps(y + i), vm);
    acc2 = _mm256_fmadd_ps(d, d, acc2);
  }
  float var = hsum8(acc2);
  for (; i < n; ++i) var += (y[i] - mean) * (y[i] - mean);
  var /= static_cast<float>(n);
  const float inv = 1.0f / std::sqrt(var + eps);
  const __m256 vi = _mm256_set1_ps(inv);
  for (i = 0; i + 8 <= n; i += 8) {
    __m256 v = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(y + i), vm), vi);
    v = _mm256_mul_ps(v, _mm256_loadu_ps(w + i));
    if (b) v = _mm256_add_ps(v, _mm256_loadu_ps(b + i));
    _mm256_storeu_ps(y + i, v);
  }
  for (; i < n; ++i) y[i] = (y[i] - mean) * inv * w[i] + (b ? b[i] : 0.0f);
}

void rms_norm_row(const float* x, const float* w, float eps, int64_t n, float* y) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 v = _mm256_loadu_ps(x + i);
    acc = _mm256_fmadd_ps(v, v, acc);
  }
  float ss = hsum8(acc);
  for (; i < n; ++i) ss += x[i] * x[i];
  const float inv = 1.0f / std::sqrt(ss / static_cast<float>(n) + eps);
  for (i = 0; i < n; ++i) y[i] = x[i] * inv * w[i];
}

void softmax_row(float* x, int64_t n) {
  __m256 vmax = _mm256_set1_ps(-INFINITY);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(x + i));
  float mx = hmax8(vmax);
  for (; i < n; ++i) mx = std::max(mx, x[i]);
  const __m256 vm = _mm256_set1_ps(mx);
  __m256 acc = _mm256_setzero_ps();
  for (i = 0; i + 8 <= n; i += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  float sum = hsum8(acc);
  for (; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const __m256 vi = _mm256_set1_ps(1.0f / sum);
  for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vi));
  const float inv = 1.0f / sum;
  for (; i < n; ++i) x[i] *= inv;
}

float dot(const float* a, const float* b, int64_t n) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) {
    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), acc1);
  }
  for (; i + 8 <= n; i += 8) acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc0);
  float s = hsum8(_mm256_add_ps(acc0, acc1));
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void axpy(float a, const float* x, float* y, int64_t n) {
  const __m256 va = _mm256_set1_ps(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  for (; i < n; ++i) y[i] += a * x[i];
}

}  // namespace mlhub::kernels
