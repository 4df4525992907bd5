// Raw-pointer CPU kernels (AVX2 + FMA). Private to the ops module: ops check shapes and dtypes,
// then call these on contiguous F32 buffers. No allocation, no threads: callers split the work.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mlhub::kernels {

// C[m, n] = A[m, k] (row stride lda) x B^T where B is [n, k] (row stride ldb), C row stride ldc.
// beta 0 overwrites C, 1 accumulates. Single-threaded BLAS call (OpenBLAS).
void sgemm_nt(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
              int64_t ldb, float* c, int64_t ldc, float beta);
// C[m, n] = A[m, k] x B[k, n] (row-major, given strides).
void sgemm_nn(int64_t m, int64_t n, int64_t k, const float* a, int64_t lda, const float* b,
              int64_t ldb, float* c, int64_t ldc, float beta);
// Makes the BLAS library single-threaded (mlhub's pool owns the threads). Idempotent.
void blas_init();

// Activations over n floats in place. kind values follow ops::Activation.
void activation_inplace(float* x, int64_t n, int kind);
// Adds bias[n] to each of `rows` rows of x[rows, n], then applies the activation.
void bias_activation(float* x, int64_t rows, int64_t n, const float* bias, int kind);

// Vectorised math (max abs error documented in docs/kernels.md); x and y may alias.
void vexp(const float* x, float* y, int64_t n);

// One row: y = (x + r - mean) / sqrt(var + eps) * w + b (r, b may be null).
void layer_norm_row(const float* x, const float* r, const float* w, const float* b, float eps,
                    int64_t n, float* y);
void rms_norm_row(const float* x, const float* w, float eps, int64_t n, float* y);
// In-place softmax of one row (max-subtracted).
void softmax_row(float* x, int64_t n);

float dot(const float* a, const float* b, int64_t n);
// y += a * x
void axpy(float a, const float* x, float* y, int64_t n);

}  // namespace mlhub::kernels
