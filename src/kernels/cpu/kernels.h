// Raw-pointer CPU kernels (AVX2 + FMA). Private to the ops module: ops check shapes and dtypes,
// then call these on contiguous F32 buffers. No allocation (beyond small stack buffers), no
// threads: callers split the work.
//
// Determinism: every kernel here computes an output element with an arithmetic sequence that
// depends only on the sizes of the reduction it belongs to (row width, head dim, K), never on the
// element's position in a row or on how many rows are processed together. That is what makes
// ops results independent of batch composition and thread count (docs/kernels.md).
#pragma once

#include <cstddef>
#include <cstdint>

namespace mlhub::kernels {

// ---- GEMM (sgemm.cc): mlhub's packed AVX2 GEMM, single-threaded (callers split M or N).
// C[m, n] = A[m, k] (row stride lda) x B, where B is [n, k] with row stride ldb when b_nk (the
// nn.Linear weight layout, C = A W^T), else [k, n]. C (row stride ldc) is overwritten. Each
// element of C is one FMA chain over k in order from zero, whatever m, n and the call split.
void sgemm(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
           int64_t ldb, bool b_nk, float* c, int64_t ldc);
// Register tile of sgemm: splitting M at multiples of kGemmRows and N at multiples of kGemmCols
// avoids extra edge tiles (any split gives the same bits).
constexpr int64_t kGemmRows = 6, kGemmCols = 16;
// sgemm with B = W^T for a weight W [n, k] packed once (ops::PackedWeight) instead of per call.
// The packed form of W takes sgemm_packed_b_floats(n, k) floats (64-byte aligned);
// sgemm_pack_b writes the part of it for rows [col0, col0 + cols) of W (col0 a multiple of
// kGemmCols, cols too unless col0 + cols == n), so that callers can split the packing.
// sgemm_packed computes columns [col0, col0 + n) of C = A W^T (col0 a multiple of kGemmCols,
// n_total W's row count) into c; each element gets exactly sgemm's arithmetic, so the bits are
// those of sgemm(m, n, k, a, lda, w + col0 * k, k, true, c, ldc).
int64_t sgemm_packed_b_floats(int64_t n, int64_t k);
void sgemm_pack_b(int64_t n, int64_t k, const float* b, int64_t ldb, int64_t col0, int64_t cols,
                  float* out);
void sgemm_packed(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda,
                  const float* packed_b, int64_t n_total, int64_t col0, float* c, int64_t ldc);

// ---- Elementwise (activations.cc). `kind` values follow ops::Activation.
void activation_inplace(float* x, int64_t n, int kind);
// For each of `rows` rows of x (row stride ld, n used columns): x += bias (if not null), then
// the activation.
void bias_activation(float* x, int64_t rows, int64_t n, int64_t ld, const float* bias, int kind);
// Vectorised math for tests and ops (x and y may alias). Accuracy: see vec_math.h.
void vexp(const float* x, float* y, int64_t n);
void verf(const float* x, float* y, int64_t n);
void vtanh(const float* x, float* y, int64_t n);
// y[i] = a[i] op b[i % nb] for i < n (b is broadcast when nb < n).
void add(const float* a, const float* b, float* y, int64_t n, int64_t nb);
void mul(const float* a, const float* b, float* y, int64_t n, int64_t nb);
void scale(const float* a, float s, float* y, int64_t n);

// ---- Rows (rows.cc): one row of n floats.
// y = (x + r - mean) / sqrt(var + eps) * w + b (r, b may be null; biased variance, as torch).
void layer_norm_row(const float* x, const float* r, const float* w, const float* b, float eps,
                    int64_t n, float* y);
void rms_norm_row(const float* x, const float* w, float eps, int64_t n, float* y);
// In place, max-subtracted.
void softmax_row(float* x, int64_t n);
void log_softmax_row(float* x, int64_t n);
// x / max(||x||_2, 1e-12), in place.
void l2_normalize_row(float* x, int64_t n);
float dot(const float* a, const float* b, int64_t n);
// y += a * x
void axpy(float a, const float* x, float* y, int64_t n);

// ---- Attention (attention.cc): query rows [q0, q1) of one (batch, head).
struct AttentionHead {
  const float* q;  // row t at q + t * q_stride, D floats
  const float* k;  // row j at k + j * k_stride, D floats
  const float* v;  // row j at v + j * v_stride, Dv floats
  float* out;      // row t at out + t * out_stride, Dv floats
  int64_t q_stride, k_stride, v_stride, out_stride;
  int64_t tk, d, dv;
  const float* key_mask;  // [tk], 0 = padding; null = all attend
  const float* bias;      // row t at bias + t * tk; null = none
  float scale;
  // Causal decoders: when causal_offset >= 0, query row t sees keys j <= t + causal_offset only
  // (and, with window > 0, keys j > t + causal_offset - window: sliding-window attention);
  // keys past the last visible one of a block of rows are not computed at all. Masked keys get
  // probability exactly 0, so a row gives the same bits whatever tk is beyond its last visible
  // key (the KV-cache path equals the full forward).
  int64_t causal_offset = -1;
  int64_t window = 0;
  // Gemma 2: scores become tanh(score / softcap) * softcap after scaling (0 = off).
  float softcap = 0.0f;
};
// Scores (scale, softcap, + bias, masked = -FLT_MAX), softmax, times V, for query rows [q0, q1).
// Uses `scratch` of attention_scratch_floats(tk) floats.
void attention_rows(const AttentionHead& head, int64_t q0, int64_t q1, float* scratch);
int64_t attention_scratch_floats(int64_t tk);

}  // namespace mlhub::kernels
