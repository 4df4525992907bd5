// Inline AVX2 + FMA math on 8 floats: exp, erf, erfc, tanh, sigmoid and the activations built on
// them, plus masked loads for row tails. Private to src/kernels/cpu.
//
// Accuracy (measured on dense grids against double-precision libm; tests/unit/ops/kernels_test.cc
// checks it): exp relative error 1.2e-7 (about 1 ulp); erf absolute 1.2e-7, relative 1.7e-7;
// tanh absolute 7.9e-8, relative 1.4e-7; gelu (erf) relative 4.4e-7 over its whole range, the
// negative tail included (torch's float gelu is off by up to ~5e-7 absolute there). The
// polynomials were fitted for mlhub (weighted least squares iterated towards minimax, relative
// error) to: erfc(a) exp(a^2) = t P(t) with t = 1 / (1 + p a) on a in [0, 9.3] (p = 0.3275911,
// the substitution of Abramowitz & Stegun 7.1.26; P has degree 9 instead of their 5, relative
// error 3e-9); erf(x) / x = Q(x^2) on [0, 0.75]; (tanh(x) - x) / x^3 = R(x^2) on [0, 0.625].
//
// Tails: every kernel handles n % 8 leftovers by a masked load into a zero-filled vector and the
// same vector code, so an element's result does not depend on where in a row it sits.
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstdint>

namespace mlhub::kernels::vec {

inline __m256 set1(float x) { return _mm256_set1_ps(x); }
inline __m256 abs8(__m256 x) { return _mm256_andnot_ps(set1(-0.0f), x); }
inline __m256 sign8(__m256 x) { return _mm256_and_ps(set1(-0.0f), x); }

// Lane mask selecting the first `count` (0..8) lanes.
inline __m256i tail_mask(int64_t count) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(count)), idx);
}
inline __m256 load_tail(const float* p, __m256i mask) { return _mm256_maskload_ps(p, mask); }
inline void store_tail(float* p, __m256i mask, __m256 v) { _mm256_maskstore_ps(p, mask, v); }

// exp(x): 2^n * p(r), r = x - n ln2 in two parts. Past ln(FLT_MAX) the result is +inf; below
// about -87.3 it flushes to 0 (no denormals); NaN stays NaN (min/max return their second
// operand when one is NaN).
inline __m256 exp8(__m256 x) {
  const __m256 overflow = _mm256_cmp_ps(x, set1(88.72283935546875f), _CMP_GT_OQ);
  x = _mm256_max_ps(set1(-88.3762626647949f), _mm256_min_ps(set1(88.3762626647949f), x));
  const __m256 fx = _mm256_round_ps(_mm256_mul_ps(x, set1(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  x = _mm256_fnmadd_ps(fx, set1(0.693359375f), x);
  x = _mm256_fnmadd_ps(fx, set1(-2.12194440e-4f), x);
  __m256 p = set1(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, x, set1(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, x, set1(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, x, set1(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, x, set1(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, x, set1(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(x, x), _mm256_add_ps(x, set1(1.0f)));
  __m256i n = _mm256_cvtps_epi32(fx);
  n = _mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23);
  return _mm256_blendv_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(n)), set1(INFINITY), overflow);
}

// erfc(a) for a >= 0, with relative accuracy (no 1 - erf cancellation), given a^2 as an
// unevaluated sum a2 + a2_err (exact to ~2^-48), so that exp(-a^2) keeps full precision even
// where a^2 is large: a 1-ulp error in a^2 = 80 would cost 1e-5 relative.
inline __m256 erfc_pos8(__m256 a, __m256 a2, __m256 a2_err) {
  const __m256 one = set1(1.0f);
  const __m256 t = _mm256_div_ps(one, _mm256_fmadd_ps(set1(0.3275911f), a, one));
  __m256 p = set1(5.789810419e-02f);
  p = _mm256_fmadd_ps(p, t, set1(-3.239566982e-01f));
  p = _mm256_fmadd_ps(p, t, set1(6.439457536e-01f));
  p = _mm256_fmadd_ps(p, t, set1(-5.830267072e-01f));
  p = _mm256_fmadd_ps(p, t, set1(5.213210583e-01f));
  p = _mm256_fmadd_ps(p, t, set1(-6.163154915e-02f));
  p = _mm256_fmadd_ps(p, t, set1(2.100660652e-01f));
  p = _mm256_fmadd_ps(p, t, set1(1.646956801e-01f));
  p = _mm256_fmadd_ps(p, t, set1(1.859160811e-01f));
  p = _mm256_fmadd_ps(p, t, set1(1.847722381e-01f));
  // exp(-(a2 + err)) = exp(-a2) (1 - err) to first order; err <= ulp(a2) / 2.
  const __m256 e = _mm256_mul_ps(exp8(_mm256_sub_ps(_mm256_setzero_ps(), a2)),
                                 _mm256_sub_ps(one, a2_err));
  return _mm256_mul_ps(_mm256_mul_ps(t, p), e);
}

// erfc(a), a >= 0, clamped at 10 (erfc(10) < FLT_TRUE_MIN) so that a * a stays finite.
inline __m256 erfc_pos8(__m256 a) {
  a = _mm256_min_ps(set1(10.0f), a);  // NaN stays NaN
  const __m256 a2 = _mm256_mul_ps(a, a);
  return erfc_pos8(a, a2, _mm256_fmsub_ps(a, a, a2));  // fmsub: a*a - a2 exactly
}

inline __m256 erf8(__m256 x) {
  const __m256 a = abs8(x);
  const __m256 u = _mm256_mul_ps(x, x);
  __m256 q = set1(-6.749617169e-04f);
  q = _mm256_fmadd_ps(q, u, set1(5.114361644e-03f));
  q = _mm256_fmadd_ps(q, u, set1(-2.683463320e-02f));
  q = _mm256_fmadd_ps(q, u, set1(1.128337681e-01f));
  q = _mm256_fmadd_ps(q, u, set1(-3.761262000e-01f));
  q = _mm256_fmadd_ps(q, u, set1(1.128379107e+00f));
  const __m256 small = _mm256_mul_ps(x, q);
  const __m256 large = _mm256_or_ps(_mm256_sub_ps(set1(1.0f), erfc_pos8(a)), sign8(x));
  return _mm256_blendv_ps(large, small, _mm256_cmp_ps(a, set1(0.75f), _CMP_LT_OQ));
}

inline __m256 tanh8(__m256 x) {
  const __m256 a = abs8(x);
  const __m256 u = _mm256_mul_ps(x, x);
  __m256 r = set1(-5.704990588e-03f);
  r = _mm256_fmadd_ps(r, u, set1(2.063908987e-02f));
  r = _mm256_fmadd_ps(r, u, set1(-5.373971537e-02f));
  r = _mm256_fmadd_ps(r, u, set1(1.333144158e-01f));
  r = _mm256_fmadd_ps(r, u, set1(-3.333328068e-01f));
  const __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(u, x), r, x);
  const __m256 e = exp8(_mm256_add_ps(a, a));
  const __m256 large = _mm256_or_ps(
      _mm256_sub_ps(set1(1.0f), _mm256_div_ps(set1(2.0f), _mm256_add_ps(e, set1(1.0f)))),
      sign8(x));
  return _mm256_blendv_ps(large, small, _mm256_cmp_ps(a, set1(0.625f), _CMP_LT_OQ));
}

inline __m256 sigmoid8(__m256 x) {
  const __m256 one = set1(1.0f);
  return _mm256_div_ps(one, _mm256_add_ps(one, exp8(_mm256_sub_ps(_mm256_setzero_ps(), x))));
}

// gelu(x) = x Phi(x) = 0.5 x erfc(-x / sqrt 2), written through erfc of a = |x| / sqrt 2 so the
// negative tail keeps relative accuracy: x >= 0: x - 0.5 x E, x < 0: 0.5 x E. a^2 = x^2 / 2 is
// formed from x exactly (x * x and its FMA error, halved), not from the rounded a.
inline __m256 gelu_erf8(__m256 x) {
  const __m256 xc = _mm256_max_ps(set1(-14.2f), _mm256_min_ps(set1(14.2f), x));  // a < 10.05
  const __m256 x2 = _mm256_mul_ps(xc, xc);
  const __m256 x2_err = _mm256_fmsub_ps(xc, xc, x2);
  const __m256 half = set1(0.5f);
  const __m256 e = erfc_pos8(_mm256_mul_ps(abs8(xc), set1(0.70710678118654752f)),
                             _mm256_mul_ps(half, x2), _mm256_mul_ps(half, x2_err));
  const __m256 half_x = _mm256_mul_ps(half, x);
  const __m256 neg = _mm256_mul_ps(half_x, e);
  // Past |x| = 14 erfc is 0: keep x itself there so that +inf maps to +inf, not inf * 0.
  const __m256 pos = _mm256_blendv_ps(_mm256_fnmadd_ps(half_x, e, x), x,
                                      _mm256_cmp_ps(x, set1(14.0f), _CMP_GT_OQ));
  return _mm256_blendv_ps(pos, neg, x);  // the sign bit selects
}

inline __m256 gelu_tanh8(__m256 x) {
  const __m256 x3 = _mm256_mul_ps(_mm256_mul_ps(x, x), x);
  const __m256 inner =
      _mm256_mul_ps(set1(0.7978845608028654f), _mm256_fmadd_ps(set1(0.044715f), x3, x));
  return _mm256_mul_ps(_mm256_mul_ps(set1(0.5f), x), _mm256_add_ps(set1(1.0f), tanh8(inner)));
}

// Activation kinds, in ops::Activation order.
enum Kind { kIdentity, kGeluErf, kGeluTanh, kGeluQuick, kRelu, kSilu, kTanh, kSigmoid };

inline __m256 act8(__m256 x, int kind) {
  switch (kind) {
    case kGeluErf:
      return gelu_erf8(x);
    case kGeluTanh:
      return gelu_tanh8(x);
    case kGeluQuick:
      return _mm256_mul_ps(x, sigmoid8(_mm256_mul_ps(set1(1.702f), x)));
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

// Applies f to n floats of x into y (x and y may alias), tails masked.
template <typename F>
inline void map8(const float* x, float* y, int64_t n, F f) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    store_tail(y + i, m, f(load_tail(x + i, m)));
  }
}

}  // namespace mlhub::kernels::vec
