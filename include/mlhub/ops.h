// mlhub ops: the tensor operations models are written with.
//
// Every op checks shapes and dtypes (throwing mlhub::Error kInvalidArgument on misuse), allocates
// its output, and dispatches to a fast CPU kernel (src/kernels/cpu). Each fast kernel has a slow,
// obviously-correct scalar reference in mlhub::ops::ref (src/ops/*_ref.cc) with the same
// signature; tests compare the two. Unless stated otherwise inputs are F32 (any strides: non-
// contiguous inputs are made contiguous first) and outputs are fresh contiguous F32 tensors.
//
// Threads: ops run on mlhub::ThreadPool::global() (MLHUB_NUM_THREADS). Ops are safe to call from
// several threads at once on different outputs. Results do not depend on the number of threads,
// nor on the other rows of a batch (row i of linear() is the same whatever the batch size), so
// batched inference equals one-at-a-time inference.
#pragma once

#include <cstdint>
#include <span>

#include "mlhub/tensor.h"

namespace mlhub::ops {

enum class Activation : uint8_t {
  kIdentity,
  kGeluErf,    // "gelu": 0.5 x (1 + erf(x / sqrt 2))
  kGeluTanh,   // "gelu_new", "gelu_pytorch_tanh", "gelu_fast" (tanh approximation)
  kGeluQuick,  // "quick_gelu": x * sigmoid(1.702 x)
  kRelu,
  kSilu,  // "silu", "swish"
  kTanh,
  kSigmoid,
};
// Maps a transformers hidden_act string ("gelu", "gelu_new", "relu", ...) to an Activation.
// Throws kInvalidArgument for an unknown name.
Activation activation_from_name(std::string_view hidden_act);

// y = x @ weight^T + bias, then `act`. x [..., in], weight [out, in] (torch nn.Linear layout),
// bias [out] or undefined. Returns [..., out].
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias,
              Activation act = Activation::kIdentity);

// A linear() weight [out, in] packed once into the GEMM's panel layout, for a layer applied many
// times (nn::Linear packs at construction): linear() otherwise repacks the weight on every call,
// which dominates at small batches. linear(x, PackedWeight::pack(w), b, act) gives the same bits
// as linear(x, w, b, act). Immutable once packed; copies share the panels; safe to use from
// several threads at once. Costs a copy of the weight in F32 (~4 * out * in bytes).
class PackedWeight {
 public:
  PackedWeight() = default;  // undefined
  // weight: [out, in], any float dtype. Throws kInvalidArgument otherwise.
  static PackedWeight pack(const Tensor& weight);
  bool defined() const { return defined_; }
  int64_t out_features() const { return out_; }
  int64_t in_features() const { return in_; }
  // The panels (layout private to the kernels), F32, 1-D.
  const Tensor& panels() const { return panels_; }

 private:
  Tensor panels_;
  int64_t out_ = 0, in_ = 0;
  bool defined_ = false;
};
Tensor linear(const Tensor& x, const PackedWeight& weight, const Tensor& bias,
              Activation act = Activation::kIdentity);

// Batched matrix product over the last two dims: a [..., m, k], b [..., k, n] (or [..., n, k]
// when transpose_b) with equal leading dims. Returns [..., m, n].
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_b = false);

// Elementwise (same shape, or b broadcast over the leading dims of a when b's shape is a suffix
// of a's shape, e.g. a [B, T, H] + b [H] or a [B, T, H] + b [T, H]).
Tensor add(const Tensor& a, const Tensor& b);
void add_(Tensor& a, const Tensor& b);  // in place; a must be owned and contiguous
Tensor mul(const Tensor& a, const Tensor& b);
Tensor scale(const Tensor& a, float s);
Tensor activation(const Tensor& x, Activation act);

// Layer norm over the last dim: (x - mean) / sqrt(var + eps) * weight + bias (biased variance,
// as torch). weight/bias [H]; bias may be undefined. If `residual` is defined it is added to x
// first (x + residual is what gets normalised), the fused form of "LayerNorm(x + residual)".
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps,
                  const Tensor& residual = Tensor());
// RMS norm over the last dim: x / sqrt(mean(x^2) + eps) * weight.
Tensor rms_norm(const Tensor& x, const Tensor& weight, float eps);

// Softmax / log-softmax over the last dim (numerically stable, as torch).
Tensor softmax(const Tensor& x);
Tensor log_softmax(const Tensor& x);

// Rows of `weight` [V, H] (any float dtype; output F32) picked by `ids` (I64, any shape S).
// Returns [S..., H]. Throws kOutOfRange for an id outside [0, V).
Tensor embedding(const Tensor& weight, const Tensor& ids);

// Multi-head scaled dot-product attention, fused (no [B, H, T, T] tensor is materialised unless
// `bias` is given), taking and returning the [B, T, H * D] layout that linear() produces, so no
// head transposes are needed:
//   q [B, Tq, H*D], k [B, Tk, H*D], v [B, Tk, H*Dv]; num_heads = H.
//   key_mask: I64 or F32 [B, Tk], nonzero = attend, zero = padding; undefined = all attend.
//   bias: F32 additive scores [B or 1, H or 1, Tq, Tk] added after scaling (relative position
//   biases of MPNet / DeBERTa); undefined = none.
//   scale: multiplies q.k (usually 1/sqrt(D)).
// Masked positions get -inf-like scores as transformers' min-float mask does, so a fully padded
// row gives the uniform average that torch gives. Returns [B, Tq, H*Dv].
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, int num_heads,
                 const Tensor& key_mask, const Tensor& bias, float scale);

// ---- Decoders: rotary position embeddings and causal attention against a KV cache.

// Rotary embedding in place (the "rotate_half" layout of transformers' Llama / GPT-NeoX: the
// first rotary_dim / 2 features of a head pair with the next rotary_dim / 2), on x [N, H*D]
// (owned, contiguous F32) where row i is at position positions[i]:
//   x1' = x1 * cos - x2 * sin,  x2' = x2 * cos + x1 * sin,
//   cos, sin = cos / sin(float(inv_freq[f] * position)) * attention_scaling (float32, as torch).
// inv_freq has rotary_dim / 2 entries; features past rotary_dim are left alone (partial rotary).
void rotary_(Tensor& x, int num_heads, std::span<const int64_t> positions,
             std::span<const float> inv_freq, float attention_scaling);

// One sequence of a cached_attention() batch: its new query rows are q rows
// [q_row0, q_row0 + q_rows), and its keys / values are the kv_len rows of k and v (token-major,
// [kv_len, num_kv_heads * head_dim], row stride kv_stride floats), the last q_rows of which
// belong to the new tokens: query row i sits at position kv_len - q_rows + i and sees keys
// 0..that position (causal).
// Optional additive scores (T5's relative position bias): `bias` holds [num_heads, q_rows,
// kv_len] floats (head h, query row t, key j at bias[(h * q_rows + t) * kv_len + j]), added after
// scaling.
struct CachedAttentionSequence {
  int64_t q_row0 = 0, q_rows = 0;
  const float* k = nullptr;
  const float* v = nullptr;
  int64_t kv_len = 0;
  const float* bias = nullptr;
};
struct CachedAttentionParams {
  int num_heads = 0, num_kv_heads = 0;  // grouped-query attention: num_heads % num_kv_heads == 0
  int64_t head_dim = 0;
  float scale = 1.0f;
  int64_t sliding_window = 0;  // > 0: a query sees only the last sliding_window keys (itself incl.)
  float softcap = 0.0f;        // > 0: scores = tanh(scores / softcap) * softcap (Gemma 2)
  // false: every query row sees all kv_len keys (encoder-decoder cross-attention, where the keys
  // are the source's and kv_len need not cover the query rows).
  bool causal = true;
};
// Attention of q [N, num_heads * head_dim] (F32) against each sequence's keys and values, causal
// unless params.causal is false.
// Returns [N, num_heads * head_dim]. Row results depend only on the row's sequence (batched equals
// alone) and equal the full-sequence forward bit for bit (masked keys weigh exactly 0).
Tensor cached_attention(const Tensor& q, std::span<const CachedAttentionSequence> sequences,
                        const CachedAttentionParams& params);

// Reductions over dim 1 of [B, T, H] with a mask [B, T] (nonzero = include), used by pooling.
Tensor masked_mean(const Tensor& x, const Tensor& mask);  // [B, H]
Tensor masked_max(const Tensor& x, const Tensor& mask);   // [B, H]; -1e9 where all masked
// L2 normalisation of the last dim (torch.nn.functional.normalize, eps 1e-12).
Tensor l2_normalize(const Tensor& x);

// Concatenates along `dim`; all other dims equal.
Tensor concat(std::span<const Tensor> parts, int dim);

// ---- Quantized weights (ggml block formats, DType kQ4_0 .. kQ6_K; docs/kernels.md).

// An F32 copy of w (same shape). Quantized dtypes are decoded exactly as gguf-py 0.17.1's
// gguf.quants.dequantize (which transformers uses for gguf_file= loading and which mirrors ggml):
// bit for bit. Other dtypes are converted with to(kF32) (an F32 contiguous w is returned as is,
// sharing storage). w may be a row view of a bigger tensor (a mapped GGUF file).
Tensor dequantize(const Tensor& w);
// linear(x, w, bias, act) also takes a quantized weight w [out, in] (in a multiple of the block
// size), computing y = x . dequantize(w)^T + bias the way llama.cpp does: each row of x is
// quantized once to 8 bits (32-value blocks with an f32 scale for Q4_0 / Q4_1 / Q8_0, 256-value
// blocks for Q4_K / Q5_K / Q6_K), then every weight block is multiplied with integer dot
// products. So the result differs from linear(x, dequantize(w)) by the activation rounding:
// |error| <= sum_i |w_i| * d_x(i) / 2 (+ float rounding) where d_x = max|x over i's block| / 127;
// tests check this bound per element. Q5_0, Q5_1, Q2_K and Q3_K have no integer kernel:
// they dequantize panels of w and use the F32 GEMM, giving exactly linear(x, dequantize(w)).
// Both ways, row i of y depends only on row i of x and w (not on the batch or thread count).
// embedding(weight, ids) takes a quantized table too: each selected row is dequantized as above.

// The slow references (same contracts, plain loops, single thread). Tests compare each fast op
// with its reference; they are also usable as a debugging fallback.
namespace ref {
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias,
              Activation act = Activation::kIdentity);
Tensor matmul(const Tensor& a, const Tensor& b, bool transpose_b = false);
Tensor activation(const Tensor& x, Activation act);
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps,
                  const Tensor& residual = Tensor());
Tensor rms_norm(const Tensor& x, const Tensor& weight, float eps);
Tensor softmax(const Tensor& x);
Tensor attention(const Tensor& q, const Tensor& k, const Tensor& v, int num_heads,
                 const Tensor& key_mask, const Tensor& bias, float scale);
// Quantized weights: scalar decoding (the same bits as dequantize), and linear() with a quantized
// weight by the same integer arithmetic as the fast kernels, element by element (same bits as
// linear() for kIdentity; activations are applied in double precision).
Tensor dequantize(const Tensor& w);
Tensor linear_quantized(const Tensor& x, const Tensor& weight, const Tensor& bias,
                        Activation act = Activation::kIdentity);
}  // namespace ref

}  // namespace mlhub::ops
