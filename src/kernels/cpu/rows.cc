// Row kernels: layer/RMS norm, softmax, log-softmax, L2 normalisation, dot, axpy. Reductions run
// in 8 float lanes (element i in lane i % 8, tails masked to zero) and end with the same hsum8
// tree, so a row's result depends on its values and width only.
#include <algorithm>
#include <cfloat>
#include <cmath>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vec_math.h"

namespace mlhub::kernels {

using namespace vec;  // NOLINT(build/namespaces)

namespace {

// Sum of f(x[i]) over the row.
template <typename F>
float reduce_sum(const float* x, int64_t n, F f) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_add_ps(acc, f(_mm256_loadu_ps(x + i)));
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    // Masked-off lanes must contribute exactly 0: f of the zero fill is blended out.
    acc = _mm256_add_ps(acc, _mm256_and_ps(f(load_tail(x + i, m)), _mm256_castsi256_ps(m)));
  }
  return hsum8(acc);
}

float row_max(const float* x, int64_t n) {
  __m256 acc = set1(-INFINITY);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) acc = _mm256_max_ps(acc, _mm256_loadu_ps(x + i));
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    acc = _mm256_max_ps(acc, _mm256_blendv_ps(acc, load_tail(x + i, m), _mm256_castsi256_ps(m)));
  }
  return hmax8(acc);
}

}  // namespace

void layer_norm_row(const float* x, const float* r, const float* w, const float* b, float eps,
                    int64_t n, float* y) {
  // y holds x + r first, so the residual sum is rounded once, as torch's add then norm.
  const float* src = x;
  if (r) {
    add(x, r, y, n, n);
    src = y;
  }
  const float mean = reduce_sum(src, n, [](__m256 v) { return v; }) / static_cast<float>(n);
  const __m256 vm = set1(mean);
  const float var = reduce_sum(src, n,
                               [vm](__m256 v) {
                                 const __m256 d = _mm256_sub_ps(v, vm);
                                 return _mm256_mul_ps(d, d);
                               }) /
                    static_cast<float>(n);
  const __m256 vi = set1(1.0f / std::sqrt(var + eps));
  int64_t i = 0;
  auto norm = [&](__m256 v, __m256 wv, __m256 bv) {
    return _mm256_fmadd_ps(_mm256_mul_ps(_mm256_sub_ps(v, vm), vi), wv, bv);
  };
  for (; i + 8 <= n; i += 8) {
    const __m256 bv = b ? _mm256_loadu_ps(b + i) : _mm256_setzero_ps();
    _mm256_storeu_ps(y + i, norm(_mm256_loadu_ps(src + i), _mm256_loadu_ps(w + i), bv));
  }
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    const __m256 bv = b ? load_tail(b + i, m) : _mm256_setzero_ps();
    store_tail(y + i, m, norm(load_tail(src + i, m), load_tail(w + i, m), bv));
  }
}

void rms_norm_row(const float* x, const float* w, float eps, int64_t n, float* y) {
  const float ms =
      reduce_sum(x, n, [](__m256 v) { return _mm256_mul_ps(v, v); }) / static_cast<float>(n);
  const __m256 vi = set1(1.0f / std::sqrt(ms + eps));
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vi),
                                          _mm256_loadu_ps(w + i)));
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    const __m256 v = _mm256_mul_ps(load_tail(x + i, m), vi);
    store_tail(y + i, m, _mm256_mul_ps(v, load_tail(w + i, m)));
  }
}

void softmax_row(float* x, int64_t n) {
  const __m256 vm = set1(row_max(x, n));
  // exp and sum in one pass, lanes as in reduce_sum (masked-off lanes add 0).
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vm));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    const __m256 e = _mm256_and_ps(exp8(_mm256_sub_ps(load_tail(x + i, m), vm)),
                                   _mm256_castsi256_ps(m));
    store_tail(x + i, m, e);
    acc = _mm256_add_ps(acc, e);
  }
  const float sum = hsum8(acc);
  const __m256 vi = set1(1.0f / sum);
  map8(x, x, n, [vi](__m256 v) { return _mm256_mul_ps(v, vi); });
}

void log_softmax_row(float* x, int64_t n) {
  const float mx = row_max(x, n);
  const __m256 vm = set1(mx);
  const float sum = reduce_sum(x, n, [vm](__m256 v) { return exp8(_mm256_sub_ps(v, vm)); });
  // x - max - log(sum): subtracting max first keeps the result exact for the largest entry.
  const __m256 vl = set1(std::log(sum));
  map8(x, x, n, [vm, vl](__m256 v) { return _mm256_sub_ps(_mm256_sub_ps(v, vm), vl); });
}

void l2_normalize_row(float* x, int64_t n) {
  const float ss = reduce_sum(x, n, [](__m256 v) { return _mm256_mul_ps(v, v); });
  const __m256 vd = set1(std::max(std::sqrt(ss), 1e-12f));
  map8(x, x, n, [vd](__m256 v) { return _mm256_div_ps(v, vd); });
}

float dot(const float* a, const float* b, int64_t n) {
  __m256 acc = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    acc = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), acc);
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    acc = _mm256_fmadd_ps(load_tail(a + i, m), load_tail(b + i, m), acc);
  }
  return hsum8(acc);
}

void axpy(float a, const float* x, float* y, int64_t n) {
  const __m256 va = set1(a);
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(y + i, _mm256_fmadd_ps(va, _mm256_loadu_ps(x + i), _mm256_loadu_ps(y + i)));
  if (i < n) {
    const __m256i m = tail_mask(n - i);
    store_tail(y + i, m, _mm256_fmadd_ps(va, load_tail(x + i, m), load_tail(y + i, m)));
  }
}

}  // namespace mlhub::kernels
