// Integer dot products of quantized weight rows with 8-bit activation rows (AVX2), as a register-
// tiled GEMM: a tile of R activation rows x C weight rows decodes each weight block once for the R
// rows and loads each activation block once for the C weight rows.
//
// Every output element gets the arithmetic written in docs/kernels.md ("Quantized weights"), which
// ops::ref::linear_quantized repeats in scalar code: per block, exact int32 lane sums (lane l holds
// values 4l..4l+3 of each 32-value chunk), converted to float and added into 8 float lanes with one
// FMA by the product of the two scales (+ one FMA for the min of Q4_1 / Q4_K / Q5_K), then one
// fixed reduction tree (vec::hsum8). Tiles only change which accumulators sit in registers
// together, never the operations of an element, so the result is the same for any R, C, m or split.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/quant.h"
#include "kernels/cpu/vec_math.h"
#include "mlhub/core.h"

namespace mlhub::kernels {

namespace {

inline float h2f(uint16_t h) { return _cvtsh_ss(h); }

inline __m256i load32(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }

// 16 nibble bytes -> 32 bytes in value order (low nibbles, then high nibbles).
inline __m256i nibbles32(const uint8_t* qs) {
  const __m128i q = _mm_loadu_si128(reinterpret_cast<const __m128i*>(qs));
  const __m128i m = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(q, 4), m), _mm_and_si128(q, m));
}

// ---- Weight decoders for the 32-value formats: the 32 integer weights of a block as bytes,
// signed (kSigned, used with the sign trick) or unsigned.
struct DecQ4_0 {
  using Block = BlockQ4_0;
  static constexpr bool kSigned = true, kMin = false;
  static __m256i q(const Block& b) { return _mm256_sub_epi8(nibbles32(b.qs), _mm256_set1_epi8(8)); }
};
struct DecQ4_1 {
  using Block = BlockQ4_1;
  static constexpr bool kSigned = false, kMin = true;
  static __m256i q(const Block& b) { return nibbles32(b.qs); }
};
struct DecQ8_0 {
  using Block = BlockQ8_0;
  static constexpr bool kSigned = true, kMin = false;
  static __m256i q(const Block& b) { return load32(b.qs); }
};

// 8 int32 lane sums of w[i] * x[i] over 4 consecutive bytes each (exact: |sum| < 2^16).
// `w` is |w| when the weights are signed and `x` then carries their signs.
inline __m256i dot_lanes(__m256i w, __m256i x) {
  return _mm256_madd_epi16(_mm256_maddubs_epi16(w, x), _mm256_set1_epi16(1));
}

// Weight rows are contiguous and read in order, so the bytes this far ahead of a block are read
// soon: prefetching them hides DRAM latency when W does not fit in the caches (generation).
constexpr int kPrefetchBytes = 8192;

template <class Dec, int R, int C>
void tile_q8a(int64_t nb, const uint8_t* w, size_t wrb, const BlockQ8A* const* x, float* y,
              int64_t ldy) {
  using Block = typename Dec::Block;
  __m256 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
  for (int64_t b = 0; b < nb; ++b) {
    __m256i wq[C], wa[C];
    __m256 dw[C], mw[C];
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      const Block& blk = reinterpret_cast<const Block*>(w + c * wrb)[b];
      _mm_prefetch(reinterpret_cast<const char*>(&blk) + kPrefetchBytes, _MM_HINT_T0);
      wq[c] = Dec::q(blk);
      wa[c] = Dec::kSigned ? _mm256_sign_epi8(wq[c], wq[c]) : wq[c];
      if constexpr (Dec::kMin) {  // d and m are adjacent halves: one conversion for both
        uint32_t dm;
        std::memcpy(&dm, &blk, 4);
        const __m128 f = _mm_cvtph_ps(_mm_cvtsi32_si128(static_cast<int>(dm)));
        dw[c] = _mm256_broadcastss_ps(f);
        mw[c] = _mm256_broadcastss_ps(_mm_movehdup_ps(f));
      } else {
        dw[c] = _mm256_set1_ps(h2f(blk.d));
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const BlockQ8A& xb = x[r][b];
      const __m256i xq = load32(xb.qs);
      const __m256 dx = _mm256_set1_ps(xb.d);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const __m256i p = dot_lanes(wa[c], Dec::kSigned ? _mm256_sign_epi8(xq, wq[c]) : xq);
        acc[r][c] = _mm256_fmadd_ps(_mm256_mul_ps(dw[c], dx), _mm256_cvtepi32_ps(p), acc[r][c]);
        if constexpr (Dec::kMin)
          acc[r][c] = _mm256_fmadd_ps(mw[c], _mm256_loadu_ps(xb.ls), acc[r][c]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) y[r * ldy + c] = vec::hsum8(acc[r][c]);
}

// ---- K-quants: per super-block, 8 chunks of 32 values; each chunk's int16 pair sums are
// multiplied by its int16 scales (madd), giving int32 lanes summed over the super-block.
// Decoders fill, for one weight super-block: q[8] (bytes, signed when kSigned), sc[8] (int16
// scale of each 16-bit pair-sum entry), mins (int16 [m0, m0, m1, m1, ..]: pairs with bsums),
// d and dmin.
struct KDecoded {
  __m256i q[8];
  __m256i sc[8];
  __m256i mins;
  float d, dmin;
};

struct DecQ4_K {
  using Block = BlockQ4_K;
  static constexpr bool kSigned = false, kMin = true;
  static void decode(const Block& b, KDecoded* o) {
    for (int j = 0; j < 8; j += 2) {
      const __m256i raw = load32(b.qs + 16 * j);
      o->q[j] = _mm256_and_si256(raw, _mm256_set1_epi8(0x0F));
      o->q[j + 1] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), _mm256_set1_epi8(0x0F));
    }
    alignas(32) int16_t mins[16];
    for (int j = 0; j < 8; ++j) {
      int sc, mn;
      k_scale_min(b.scales, j, &sc, &mn);
      o->sc[j] = _mm256_set1_epi16(static_cast<int16_t>(sc));
      mins[2 * j] = mins[2 * j + 1] = static_cast<int16_t>(mn);
    }
    o->mins = load32(mins);
    o->d = h2f(b.d);
    o->dmin = h2f(b.dmin);
  }
};

struct DecQ5_K {
  using Block = BlockQ5_K;
  static constexpr bool kSigned = false, kMin = true;
  static void decode(const Block& b, KDecoded* o) {
    const __m256i qh = load32(b.qh);
    for (int j = 0; j < 8; j += 2) {
      const __m256i raw = load32(b.qs + 16 * j);
      const __m256i h0 = _mm256_and_si256(_mm256_srli_epi16(qh, j), _mm256_set1_epi8(1));
      const __m256i h1 = _mm256_and_si256(_mm256_srli_epi16(qh, j + 1), _mm256_set1_epi8(1));
      o->q[j] = _mm256_or_si256(_mm256_and_si256(raw, _mm256_set1_epi8(0x0F)),
                                _mm256_slli_epi16(h0, 4));
      o->q[j + 1] = _mm256_or_si256(
          _mm256_and_si256(_mm256_srli_epi16(raw, 4), _mm256_set1_epi8(0x0F)),
          _mm256_slli_epi16(h1, 4));
    }
    alignas(32) int16_t mins[16];
    for (int j = 0; j < 8; ++j) {
      int sc, mn;
      k_scale_min(b.scales, j, &sc, &mn);
      o->sc[j] = _mm256_set1_epi16(static_cast<int16_t>(sc));
      mins[2 * j] = mins[2 * j + 1] = static_cast<int16_t>(mn);
    }
    o->mins = load32(mins);
    o->d = h2f(b.d);
    o->dmin = h2f(b.dmin);
  }
};

struct DecQ6_K {
  using Block = BlockQ6_K;
  static constexpr bool kSigned = true, kMin = false;
  static void decode(const Block& b, KDecoded* o) {
    for (int j = 0; j < 8; ++j) {  // values 32j..32j+31 = 128 h + 32 s + t
      const int h = j / 4, s = j % 4;
      const __m256i lo = _mm256_and_si256(
          _mm256_srli_epi16(load32(b.ql + 64 * h + 32 * (s % 2)), 4 * (s / 2)),
          _mm256_set1_epi8(0x0F));
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(load32(b.qh + 32 * h), 2 * s),
                                          _mm256_set1_epi8(3));
      o->q[j] = _mm256_sub_epi8(_mm256_or_si256(lo, _mm256_slli_epi16(hi, 4)),
                                _mm256_set1_epi8(32));
      o->sc[j] = _mm256_set_m128i(_mm_set1_epi16(b.scales[2 * j + 1]),
                                  _mm_set1_epi16(b.scales[2 * j]));
    }
    o->mins = _mm256_setzero_si256();
    o->d = h2f(b.d);
    o->dmin = 0.0f;
  }
};

template <class Dec, int R, int C>
void tile_q8k(int64_t nb, const uint8_t* w, size_t wrb, const BlockQ8K* const* x, float* y,
              int64_t ldy) {
  using Block = typename Dec::Block;
  __m256 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm256_setzero_ps();
  KDecoded dec[C];
  for (int64_t b = 0; b < nb; ++b) {
    for (int c = 0; c < C; ++c) Dec::decode(reinterpret_cast<const Block*>(w + c * wrb)[b], &dec[c]);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const BlockQ8K& xb = x[r][b];
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        const KDecoded& dc = dec[c];
        __m256i sum = _mm256_setzero_si256();
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) {
          const __m256i xq = load32(xb.qs + 32 * j);
          const __m256i p16 =
              Dec::kSigned
                  ? _mm256_maddubs_epi16(_mm256_sign_epi8(dc.q[j], dc.q[j]),
                                         _mm256_sign_epi8(xq, dc.q[j]))
                  : _mm256_maddubs_epi16(dc.q[j], xq);
          sum = _mm256_add_epi32(sum, _mm256_madd_epi16(p16, dc.sc[j]));
        }
        const __m256 dx = _mm256_set1_ps(xb.d);
        acc[r][c] = _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(dc.d), dx),
                                    _mm256_cvtepi32_ps(sum), acc[r][c]);
        if constexpr (Dec::kMin) {
          const __m256i mprod = _mm256_madd_epi16(dc.mins, load32(xb.bsums));
          const __m256 nmd = _mm256_set1_ps(-(dc.dmin * xb.d));
          acc[r][c] = _mm256_fmadd_ps(nmd, _mm256_cvtepi32_ps(mprod), acc[r][c]);
        }
      }
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) y[r * ldy + c] = vec::hsum8(acc[r][c]);
}

// Runs a tile kernel over m x n: columns in blocks of kNc (that block of weight rows stays in
// L1/L2 while every row of x passes), rows in tiles of R, columns in tiles of C, edges with
// smaller tiles (1 row / 1 column): the same per-element arithmetic.
constexpr int64_t kNc = 64;

template <class XBlock, class Tile>
void run_tiles(int64_t m, int64_t n, int64_t nb, const uint8_t* w, size_t wrb, const XBlock* xq,
               float* y, int64_t ldy, Tile&& tile) {
  for (int64_t c0 = 0; c0 < n; c0 += kNc) {
    const int64_t c1 = std::min(n, c0 + kNc);
    for (int64_t r = 0; r < m;) {
      const XBlock* rows[4];
      const int rt = m - r >= 4 ? 4 : 1;
      for (int i = 0; i < rt; ++i) rows[i] = xq + (r + i) * nb;
      tile(rt, c0, c1, rows, y + r * ldy);
      r += rt;
    }
  }
}

template <class Dec, class XBlock, class TileFn>
void gemm_with(int64_t m, int64_t n, int64_t nb, const uint8_t* w, size_t wrb, const XBlock* xq,
               float* y, int64_t ldy, TileFn tile4x2, TileFn tile1x4, TileFn tile1x1) {
  run_tiles(m, n, nb, w, wrb, xq, y, ldy,
            [&](int rt, int64_t c0, int64_t c1, const XBlock* const* rows, float* yr) {
              int64_t c = c0;
              if (rt == 4) {
                for (; c + 2 <= c1; c += 2) tile4x2(nb, w + c * wrb, wrb, rows, yr + c, ldy);
                for (; c < c1; ++c)
                  for (int i = 0; i < 4; ++i) tile1x1(nb, w + c * wrb, wrb, rows + i, yr + i * ldy + c, ldy);
              } else {
                for (; c + 4 <= c1; c += 4) tile1x4(nb, w + c * wrb, wrb, rows, yr + c, ldy);
                for (; c < c1; ++c) tile1x1(nb, w + c * wrb, wrb, rows, yr + c, ldy);
              }
            });
}

template <class Dec>
void gemm_q8a(int64_t m, int64_t n, int64_t nb, const uint8_t* w, size_t wrb, const void* xq,
              float* y, int64_t ldy) {
  gemm_with<Dec>(m, n, nb, w, wrb, static_cast<const BlockQ8A*>(xq), y, ldy,
                 &tile_q8a<Dec, 4, 2>, &tile_q8a<Dec, 1, 4>, &tile_q8a<Dec, 1, 1>);
}

template <class Dec>
void gemm_q8k(int64_t m, int64_t n, int64_t nb, const uint8_t* w, size_t wrb, const void* xq,
              float* y, int64_t ldy) {
  gemm_with<Dec>(m, n, nb, w, wrb, static_cast<const BlockQ8K*>(xq), y, ldy,
                 &tile_q8k<Dec, 4, 2>, &tile_q8k<Dec, 1, 4>, &tile_q8k<Dec, 1, 1>);
}

}  // namespace

void quant_gemm(DType type, int64_t m, int64_t n, int64_t k, const void* w, size_t w_row_bytes,
                const void* xq, float* y, int64_t ldy) {
  const auto* wp = static_cast<const uint8_t*>(w);
  switch (type) {
    case DType::kQ4_0: return gemm_q8a<DecQ4_0>(m, n, k / kQK, wp, w_row_bytes, xq, y, ldy);
    case DType::kQ4_1: return gemm_q8a<DecQ4_1>(m, n, k / kQK, wp, w_row_bytes, xq, y, ldy);
    case DType::kQ8_0: return gemm_q8a<DecQ8_0>(m, n, k / kQK, wp, w_row_bytes, xq, y, ldy);
    case DType::kQ4_K: return gemm_q8k<DecQ4_K>(m, n, k / kQKK, wp, w_row_bytes, xq, y, ldy);
    case DType::kQ5_K: return gemm_q8k<DecQ5_K>(m, n, k / kQKK, wp, w_row_bytes, xq, y, ldy);
    case DType::kQ6_K: return gemm_q8k<DecQ6_K>(m, n, k / kQKK, wp, w_row_bytes, xq, y, ldy);
    default: throw Error(Status::invalid_argument("quant_gemm: no integer kernel for this type"));
  }
}

}  // namespace mlhub::kernels
