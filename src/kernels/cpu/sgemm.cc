// mlhub's own FP32 GEMM: packed panels, a 6 x 16 AVX2 + FMA register tile, Goto-style cache
// blocking (kc x 16 B micro-panels in L1, mc x kc A block in L2, kc x nc B block in L3).
//
// Why our own rather than the BLAS libraries measured in docs/kernels.md: every element of C is
// one FMA chain over k = 0..K-1 in order, starting from zero, whatever M, N, the tile it lands
// in, the blocking or the thread split. Rows of a batch therefore come out bit-identical to the
// same rows computed alone, and results do not depend on the thread count; the libraries switch
// kernels by shape (small-matrix paths, M < 16 paths, edge kernels) and do not guarantee that.
// Speed: ~96% of the best library on average from M = 128 on; at M = 16, where packing W costs
// most, level with OpenBLAS and ~0.7x BLIS's unpacked kernels (table in docs/kernels.md).
// sgemm_packed skips that cost for weights packed once (ops::PackedWeight, used by nn::Linear).
#include <immintrin.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "kernels/cpu/kernels.h"

namespace mlhub::kernels {
namespace {

constexpr int64_t kMr = kGemmRows, kNr = kGemmCols;  // register tile: 6 x 16
static_assert(kMr == 6 && kNr == 16, "tile_6x16 is written for a 6 x 16 tile");
// Cache blocks (kMc % kMr == 0). K is cut into equal blocks of at most kKc (K = 384 stays whole:
// a second pass over C costs more than the larger L1 footprint).
constexpr int64_t kKc = 384, kMc = 96, kNc = 2048;

struct AlignedFree {
  void operator()(float* p) const { std::free(p); }
};

// Per-thread packing buffers, allocated once at their largest size.
float* pack_buffer(int which, size_t floats) {
  thread_local std::unique_ptr<float, AlignedFree> buffers[2];
  thread_local size_t sizes[2] = {0, 0};
  if (sizes[which] < floats) {
    floats = (floats + 15) / 16 * 16;  // aligned_alloc wants a multiple of the alignment
    buffers[which].reset(static_cast<float*>(std::aligned_alloc(64, floats * sizeof(float))));
    sizes[which] = floats;
  }
  return buffers[which].get();
}

// A[rows, kc] (row stride lda) -> panels of kMr rows: panel p holds, for each k, the kMr values
// A[p*kMr + i, k] (rows past `rows` are zero).
void pack_a(const float* a, int64_t lda, int64_t rows, int64_t kc, float* out) {
  for (int64_t p = 0; p < rows; p += kMr) {
    const int64_t r = std::min(kMr, rows - p);
    for (int64_t k = 0; k < kc; ++k) {
      for (int64_t i = 0; i < r; ++i) out[i] = a[(p + i) * lda + k];
      for (int64_t i = r; i < kMr; ++i) out[i] = 0.0f;
      out += kMr;
    }
  }
}

// 8 rows of 8 floats (row r at src + r * ld) -> 8 columns: dst[k * dst_ld + r] = src[r][k].
inline void transpose_8x8(const float* src, int64_t ld, float* dst, int64_t dst_ld) {
  __m256 r[8], t[8];
  for (int i = 0; i < 8; ++i) r[i] = _mm256_loadu_ps(src + i * ld);
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {
    r[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
    r[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
    r[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
  }
  for (int i = 0; i < 4; ++i) {
    _mm256_storeu_ps(dst + i * dst_ld, _mm256_permute2f128_ps(r[i], r[i + 4], 0x20));
    _mm256_storeu_ps(dst + (i + 4) * dst_ld, _mm256_permute2f128_ps(r[i], r[i + 4], 0x31));
  }
}

// B block of kc x cols -> panels of kNr columns: panel p holds, for each k, B(k, p*kNr + j)
// (columns past `cols` are zero). b_nk: B is given as [N, K] (nn.Linear weights, element (k, n)
// at b[n * ldb + k]), transposed here 8 x 8 at a time; else [K, N], copied row by row.
void pack_b(const float* b, int64_t ldb, bool b_nk, int64_t kc, int64_t cols, float* out) {
  for (int64_t p = 0; p < cols; p += kNr) {
    const int64_t c = std::min(kNr, cols - p);
    if (!b_nk) {
      for (int64_t k = 0; k < kc; ++k) std::memcpy(out + k * kNr, b + k * ldb + p, c * 4);
    } else {
      int64_t k = 0;
      if (c == kNr)
        for (; k + 8 <= kc; k += 8) {
          transpose_8x8(b + p * ldb + k, ldb, out + k * kNr, kNr);
          transpose_8x8(b + (p + 8) * ldb + k, ldb, out + k * kNr + 8, kNr);
        }
      for (int64_t j = 0; j < c; ++j) {
        const float* src = b + (p + j) * ldb;
        for (int64_t kk = k; kk < kc; ++kk) out[kk * kNr + j] = src[kk];
      }
    }
    for (int64_t k = 0; k < kc && c < kNr; ++k)
      std::memset(out + k * kNr + c, 0, (kNr - c) * sizeof(float));
    out += kc * kNr;
  }
}

// C[6, 16] (row stride ldc) = (accumulate ? C : 0) + A_panel x B_panel over kc.
inline void tile_6x16(int64_t kc, const float* a, const float* b, float* c, int64_t ldc,
                      bool accumulate) {
  __m256 acc[kMr][2];
  for (int64_t i = 0; i < kMr; ++i) {
    acc[i][0] = accumulate ? _mm256_loadu_ps(c + i * ldc) : _mm256_setzero_ps();
    acc[i][1] = accumulate ? _mm256_loadu_ps(c + i * ldc + 8) : _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
    for (int64_t i = 0; i < kMr; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      acc[i][0] = _mm256_fmadd_ps(ai, b0, acc[i][0]);
      acc[i][1] = _mm256_fmadd_ps(ai, b1, acc[i][1]);
    }
    a += kMr;
    b += kNr;
  }
  for (int64_t i = 0; i < kMr; ++i) {
    _mm256_storeu_ps(c + i * ldc, acc[i][0]);
    _mm256_storeu_ps(c + i * ldc + 8, acc[i][1]);
  }
}

// One packed A block x one packed B block into C (rows x cols valid). Edge tiles go through a
// local 6 x 16 buffer with the same tile code, so their elements get the same arithmetic.
void macro_block(int64_t rows, int64_t cols, int64_t kc, const float* pa, const float* pb,
                 float* c, int64_t ldc, bool accumulate) {
  alignas(32) float tmp[kMr * kNr];
  for (int64_t j = 0; j < cols; j += kNr) {
    const int64_t nc = std::min(kNr, cols - j);
    const float* bp = pb + j * kc;
    for (int64_t i = 0; i < rows; i += kMr) {
      const int64_t mr = std::min(kMr, rows - i);
      const float* ap = pa + i * kc;
      float* cp = c + i * ldc + j;
      if (mr == kMr && nc == kNr) {
        tile_6x16(kc, ap, bp, cp, ldc, accumulate);
        continue;
      }
      if (accumulate)
        for (int64_t r = 0; r < mr; ++r) std::memcpy(tmp + r * kNr, cp + r * ldc, nc * 4);
      tile_6x16(kc, ap, bp, tmp, kNr, accumulate);
      for (int64_t r = 0; r < mr; ++r) std::memcpy(cp + r * ldc, tmp + r * kNr, nc * 4);
    }
  }
}

// K is cut into equal blocks of at most kKc; this is the size of each (the last may be shorter).
int64_t k_block(int64_t k) {
  const int64_t k_blocks = (k + kKc - 1) / kKc;
  return (k + k_blocks - 1) / k_blocks;
}

int64_t round_up_cols(int64_t n) { return (n + kNr - 1) / kNr * kNr; }

}  // namespace

void sgemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, bool b_nk, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i) std::memset(c + i * ldc, 0, n * sizeof(float));
    return;
  }
  const int64_t nc_max = std::min(kNc, (n + kNr - 1) / kNr * kNr);
  const int64_t mc_max = std::min(kMc, (m + kMr - 1) / kMr * kMr);
  const int64_t kc_max = k_block(k);
  float* pb = pack_buffer(0, static_cast<size_t>(kc_max * nc_max));
  float* pa = pack_buffer(1, static_cast<size_t>(kc_max * mc_max));
  for (int64_t jc = 0; jc < n; jc += kNc) {
    const int64_t cols = std::min(kNc, n - jc);
    for (int64_t pc = 0; pc < k; pc += kc_max) {
      const int64_t kc = std::min(kc_max, k - pc);
      pack_b(b_nk ? b + jc * ldb + pc : b + pc * ldb + jc, ldb, b_nk, kc, cols, pb);
      for (int64_t ic = 0; ic < m; ic += kMc) {
        const int64_t rows = std::min(kMc, m - ic);
        pack_a(a + ic * lda + pc, lda, rows, kc, pa);
        macro_block(rows, cols, kc, pa, pb, c + ic * ldc + jc, ldc, pc > 0);
      }
    }
  }
}

int64_t sgemm_packed_b_floats(int64_t n, int64_t k) { return round_up_cols(n) * k; }

// Each K block of the weight, packed as sgemm packs one column block of it: the panels are the
// same bytes sgemm would build, just built once.
void sgemm_pack_b(int64_t n, int64_t k, const float* b, int64_t ldb, int64_t col0, int64_t cols,
                  float* out) {
  if (cols <= 0 || k <= 0) return;
  const int64_t n_pad = round_up_cols(n), kc_max = k_block(k);
  for (int64_t pc = 0; pc < k; pc += kc_max) {
    const int64_t kc = std::min(kc_max, k - pc);
    pack_b(b + col0 * ldb + pc, ldb, true, kc, cols, out + pc * n_pad + col0 * kc);
  }
}

void sgemm_packed(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                  const float* packed_b, int64_t n_total, int64_t col0, float* c, int64_t ldc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    for (int64_t i = 0; i < m; ++i) std::memset(c + i * ldc, 0, n * sizeof(float));
    return;
  }
  const int64_t n_pad = round_up_cols(n_total), kc_max = k_block(k);
  const int64_t mc_max = std::min(kMc, (m + kMr - 1) / kMr * kMr);
  float* pa = pack_buffer(1, static_cast<size_t>(kc_max * mc_max));
  // The loop nest of sgemm, reading B's panels in place (block pc starts at pc * n_pad; the
  // panel of column j within it at j * kc).
  for (int64_t jc = 0; jc < n; jc += kNc) {
    const int64_t cols = std::min(kNc, n - jc);
    for (int64_t pc = 0; pc < k; pc += kc_max) {
      const int64_t kc = std::min(kc_max, k - pc);
      const float* pb = packed_b + pc * n_pad + (col0 + jc) * kc;
      for (int64_t ic = 0; ic < m; ic += kMc) {
        const int64_t rows = std::min(kMc, m - ic);
        pack_a(a + ic * lda + pc, lda, rows, kc, pa);
        macro_block(rows, cols, kc, pa, pb, c + ic * ldc + jc, ldc, pc > 0);
      }
    }
  }
}

}  // namespace mlhub::kernels
