// Attention for query rows of one (batch, head), in blocks of kQBlock rows: scores block
// (register-blocked dot products), scale + bias + key mask, softmax, times V. Only kQBlock x Tk
// scores are live at a time, so nothing of size T x T is materialised and K/V stay in cache.
//
// Every score is the same computation wherever it sits: an 8-lane FMA chain over d (tail masked)
// reduced by one fixed tree (reduce8); every output element is an FMA chain over keys j = 0..Tk-1
// from zero. Padded keys get probability exactly 0 and add exactly 0, so a sequence gives the same
// bits alone or padded inside a batch (tests/unit/ops/attention_test.cc).
#include <algorithm>
#include <cfloat>
#include <cmath>

#include "kernels/cpu/kernels.h"
#include "kernels/cpu/vec_math.h"

namespace mlhub::kernels {

using namespace vec;  // NOLINT(build/namespaces)

namespace {

constexpr int64_t kQBlock = 8;

int64_t round_up8(int64_t n) { return (n + 7) / 8 * 8; }

// Sums of the 8 lanes of each of a0..a7, as one vector: lane c holds
// ((c0 + c1) + (c2 + c3)) + ((c4 + c5) + (c6 + c7)) of ac.
inline __m256 reduce8(__m256 a0, __m256 a1, __m256 a2, __m256 a3, __m256 a4, __m256 a5,
                      __m256 a6, __m256 a7) {
  const __m256 u0 = _mm256_hadd_ps(_mm256_hadd_ps(a0, a1), _mm256_hadd_ps(a2, a3));
  const __m256 u1 = _mm256_hadd_ps(_mm256_hadd_ps(a4, a5), _mm256_hadd_ps(a6, a7));
  return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

// s[r][j + c] = q_r . k_{j+c} for 2 query rows x 4 keys. Missing rows / keys alias valid ones
// (same arithmetic, results not stored).
inline void scores_2x4(const float* q0, const float* q1, const float* const k[4], int64_t d,
                       float* s0, float* s1, int64_t valid_rows, int64_t valid_keys) {
  __m256 a[8];
  for (__m256& x : a) x = _mm256_setzero_ps();
  int64_t i = 0;
  auto step = [&](__m256 x0, __m256 x1, auto load_k) {
    for (int c = 0; c < 4; ++c) {
      const __m256 kv = load_k(k[c] + i);
      a[c] = _mm256_fmadd_ps(x0, kv, a[c]);
      a[4 + c] = _mm256_fmadd_ps(x1, kv, a[4 + c]);
    }
  };
  for (; i + 8 <= d; i += 8)
    step(_mm256_loadu_ps(q0 + i), _mm256_loadu_ps(q1 + i),
         [](const float* p) { return _mm256_loadu_ps(p); });
  if (i < d) {
    const __m256i m = tail_mask(d - i);
    step(load_tail(q0 + i, m), load_tail(q1 + i, m),
         [m](const float* p) { return load_tail(p, m); });
  }
  const __m256 sums = reduce8(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7]);
  if (valid_keys == 4) {
    _mm_storeu_ps(s0, _mm256_castps256_ps128(sums));
    if (valid_rows > 1) _mm_storeu_ps(s1, _mm256_extractf128_ps(sums, 1));
    return;
  }
  alignas(32) float out[8];
  _mm256_store_ps(out, sums);
  for (int64_t c = 0; c < valid_keys; ++c) s0[c] = out[c];
  if (valid_rows > 1)
    for (int64_t c = 0; c < valid_keys; ++c) s1[c] = out[4 + c];
}

// Raw scores of `rows` query rows starting at t0 against keys [0, tk) into s (row stride ld).
void scores_block(const AttentionHead& h, int64_t t0, int64_t rows, int64_t tk, float* s,
                  int64_t ld) {
  for (int64_t r = 0; r < rows; r += 2) {
    const int64_t valid_rows = std::min<int64_t>(2, rows - r);
    const float* q0 = h.q + (t0 + r) * h.q_stride;
    const float* q1 = valid_rows > 1 ? q0 + h.q_stride : q0;
    for (int64_t j = 0; j < tk; j += 4) {
      const int64_t valid_keys = std::min<int64_t>(4, tk - j);
      const float* k[4];
      for (int64_t c = 0; c < 4; ++c) k[c] = h.k + (j + std::min(c, valid_keys - 1)) * h.k_stride;
      scores_2x4(q0, q1, k, h.d, s + r * ld + j, s + (r + 1) * ld + j, valid_rows, valid_keys);
    }
  }
}

// out_r = sum_j p_r[j] v_j for 2 rows, over a panel of up to 4 vectors (32 floats) of Dv.
template <int kVecs>
inline void pv_2rows(const AttentionHead& h, int64_t tk, const float* p0, const float* p1,
                     int64_t col, int64_t width, float* o0, float* o1, bool two) {
  __m256 a0[kVecs], a1[kVecs];
  for (int c = 0; c < kVecs; ++c) a0[c] = a1[c] = _mm256_setzero_ps();
  const __m256i m = tail_mask(width - (kVecs - 1) * 8);  // the last vector may be partial
  const bool full = width == kVecs * 8;
  auto accumulate = [&](auto load_last) {
    for (int64_t j = 0; j < tk; ++j) {
      const float* vrow = h.v + j * h.v_stride + col;
      const __m256 b0 = set1(p0[j]), b1 = set1(p1[j]);
      for (int c = 0; c < kVecs; ++c) {
        const __m256 vv = c == kVecs - 1 ? load_last(vrow + c * 8) : _mm256_loadu_ps(vrow + c * 8);
        a0[c] = _mm256_fmadd_ps(b0, vv, a0[c]);
        a1[c] = _mm256_fmadd_ps(b1, vv, a1[c]);
      }
    }
  };
  // Same FMA sequence either way; the masked load only where the panel is partial.
  if (full)
    accumulate([](const float* p) { return _mm256_loadu_ps(p); });
  else
    accumulate([m](const float* p) { return load_tail(p, m); });
  for (int c = 0; c < kVecs; ++c) {
    if (c == kVecs - 1) {
      store_tail(o0 + col + c * 8, m, a0[c]);
      if (two) store_tail(o1 + col + c * 8, m, a1[c]);
    } else {
      _mm256_storeu_ps(o0 + col + c * 8, a0[c]);
      if (two) _mm256_storeu_ps(o1 + col + c * 8, a1[c]);
    }
  }
}

void pv_block(const AttentionHead& h, int64_t t0, int64_t rows, int64_t tk, const float* s,
              int64_t ld) {
  for (int64_t r = 0; r < rows; r += 2) {
    const bool two = rows - r > 1;
    const float* p0 = s + r * ld;
    const float* p1 = two ? p0 + ld : p0;
    float* o0 = h.out + (t0 + r) * h.out_stride;
    float* o1 = two ? o0 + h.out_stride : o0;
    for (int64_t col = 0; col < h.dv; col += 32) {
      const int64_t width = std::min<int64_t>(32, h.dv - col);
      switch ((width + 7) / 8) {
        case 4:
          pv_2rows<4>(h, tk, p0, p1, col, width, o0, o1, two);
          break;
        case 3:
          pv_2rows<3>(h, tk, p0, p1, col, width, o0, o1, two);
          break;
        case 2:
          pv_2rows<2>(h, tk, p0, p1, col, width, o0, o1, two);
          break;
        default:
          pv_2rows<1>(h, tk, p0, p1, col, width, o0, o1, two);
          break;
      }
    }
  }
}

// tanh(x / cap) * cap, lane-wise (Gemma 2's attention soft-capping), through the scalar tanhf
// so the values are those of a correctly rounded tanh as torch computes it.
inline __m256 softcap8(__m256 x, float cap) {
  alignas(32) float v[8];
  _mm256_store_ps(v, x);
  for (float& e : v) e = std::tanh(e / cap) * cap;
  return _mm256_load_ps(v);
}

// Scale, softcap, bias, key mask, causal/window mask, softmax of one score row of query t over
// keys [0, tk).
void finish_row(const AttentionHead& h, int64_t t, int64_t tk, float* row) {
  const __m256 vs = set1(h.scale);
  const float* brow = h.bias ? h.bias + t * h.tk : nullptr;
  const bool causal = h.causal_offset >= 0;
  const int64_t last = t + h.causal_offset;                             // last visible key
  const int64_t first = h.window > 0 ? last - h.window + 1 : 0;  // first visible key
  const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  int64_t j = 0;
  auto one = [&](__m256 x, __m256 bias, __m256 keep) {
    x = _mm256_mul_ps(x, vs);
    if (h.softcap > 0.0f) x = softcap8(x, h.softcap);
    x = _mm256_add_ps(x, bias);
    if (causal) {
      // keys j + lane within [first, last]: compare in 32-bit relative to j (|values| < 2^31
      // because tk is bounded by a cache that fits in memory).
      const __m256i idx = lane;
      const int64_t lo = std::max<int64_t>(first - j, -1), hi = std::max<int64_t>(std::min<int64_t>(last - j, 8), -2);
      const __m256i in = _mm256_and_si256(
          _mm256_cmpgt_epi32(idx, _mm256_set1_epi32(static_cast<int32_t>(lo) - 1)),
          _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int32_t>(hi) + 1), idx));
      keep = _mm256_and_ps(keep, _mm256_castsi256_ps(in));
    }
    // transformers adds finfo(float32).min to a masked score; the sum rounds to min itself for
    // any score below ~1e31, so a fully masked row becomes uniform, as in torch.
    return _mm256_blendv_ps(set1(-FLT_MAX), x, keep);
  };
  const __m256 all = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
  for (; j + 8 <= tk; j += 8) {
    const __m256 b = brow ? _mm256_loadu_ps(brow + j) : _mm256_setzero_ps();
    const __m256 keep = h.key_mask ? _mm256_cmp_ps(_mm256_loadu_ps(h.key_mask + j),
                                                   _mm256_setzero_ps(), _CMP_NEQ_UQ)
                                   : all;
    _mm256_storeu_ps(row + j, one(_mm256_loadu_ps(row + j), b, keep));
  }
  if (j < tk) {
    const __m256i m = tail_mask(tk - j);
    const __m256 b = brow ? load_tail(brow + j, m) : _mm256_setzero_ps();
    const __m256 keep = h.key_mask ? _mm256_cmp_ps(load_tail(h.key_mask + j, m),
                                                   _mm256_setzero_ps(), _CMP_NEQ_UQ)
                                   : all;
    store_tail(row + j, m, one(load_tail(row + j, m), b, keep));
  }
  softmax_row(row, tk);
}

}  // namespace

int64_t attention_scratch_floats(int64_t tk) { return kQBlock * round_up8(tk); }

void attention_rows(const AttentionHead& h, int64_t q0, int64_t q1, float* scratch) {
  const int64_t ld = round_up8(h.tk);
  for (int64_t t0 = q0; t0 < q1; t0 += kQBlock) {
    const int64_t rows = std::min(kQBlock, q1 - t0);
    // Causal: keys past the block's last visible one are never computed.
    const int64_t tk =
        h.causal_offset >= 0 ? std::min(h.tk, t0 + rows + h.causal_offset) : h.tk;
    scores_block(h, t0, rows, tk, scratch, ld);
    for (int64_t r = 0; r < rows; ++r) finish_row(h, t0 + r, tk, scratch + r * ld);
    pv_block(h, t0, rows, tk, scratch, ld);
  }
}

}  // namespace mlhub::kernels
