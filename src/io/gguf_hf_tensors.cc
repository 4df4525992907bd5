// transformers' GGUF tensor processors (modeling_gguf_pytorch_utils.py TENSOR_PROCESSORS),
// applied without dequantizing: llama's q/k permutation moves whole rows (so quantized rows
// move as they are), gemma2's norm - 1 and gpt2's transposes need plain dtypes.
#include <fmt/format.h>

#include <cstring>

#include "io/gguf_internal.h"

namespace mlhub::io {
namespace {

using json = nlohmann::json;

bool contains(std::string_view s, std::string_view part) {
  return s.find(part) != std::string_view::npos;
}

// llama.cpp's converter stores q/k rows of each head as (pair, half) pairs interleaved:
// HF row h*2d + j*d + i was written to GGUF row h*2d + i*2 + j. Undone by moving rows.
Tensor unpermute_rows(const Tensor& t, int64_t n_head, const std::string& name) {
  const int64_t rows = t.shape().at(0);
  const int64_t dim = rows / n_head / 2;
  if (dim * 2 * n_head != rows)
    corrupt(fmt::format("tensor \"{}\": {} rows cannot be split into {} heads of row pairs", name,
                        rows, n_head));
  const size_t row_bytes = t.nbytes() / static_cast<size_t>(rows);
  auto storage = Storage::allocate(t.nbytes());
  const auto* src = static_cast<const std::byte*>(t.raw_data());
  std::byte* dst = storage->mutable_data();
  for (int64_t h = 0; h < n_head; ++h)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t i = 0; i < dim; ++i) {
        const int64_t out_row = h * 2 * dim + j * dim + i;
        const int64_t in_row = h * 2 * dim + i * 2 + j;
        std::memcpy(dst + static_cast<size_t>(out_row) * row_bytes,
                    src + static_cast<size_t>(in_row) * row_bytes, row_bytes);
      }
  return Tensor::view_of(std::move(storage), 0, t.dtype(), t.shape());
}

bool is_plain_float(DType d) {
  return d == DType::kF32 || d == DType::kF16 || d == DType::kBF16;
}

Tensor minus_one(const Tensor& t, const std::string& name) {
  if (!is_plain_float(t.dtype()))
    unimplemented(fmt::format("tensor \"{}\" is {}: gemma2's norm - 1 needs F32, F16 or BF16", name,
                              dtype_name(t.dtype())));
  std::vector<float> v = t.to_floats();
  for (float& x : v) x -= 1.0f;  // transformers subtracts in float32 after dequantizing
  return Tensor::from_floats(v, t.shape());
}

Tensor transposed(const Tensor& t, const std::string& name) {
  if (t.ndim() == 1) return t;
  if (t.ndim() != 2 || dtype_is_quantized(t.dtype()))
    unimplemented(fmt::format("tensor \"{}\" ({} {}): gpt2's transpose needs a 2-d plain tensor",
                              name, dtype_name(t.dtype()), shape_string(t.shape())));
  return t.transpose(0, 1).contiguous();
}

// A head count from load_gguf_checkpoint's parsed config, or 0 when absent (no permutation).
int64_t head_count(const json& parsed, const char* key) {
  if (!parsed.contains(key) || parsed[key].is_null()) return 0;
  const json& v = parsed[key];
  if (!v.is_number_integer() || v.get<int64_t>() <= 0)
    corrupt(fmt::format("{} is {}, not a positive integer", key, v.dump()));
  return v.get<int64_t>();
}

Tensor process(const Tensor& t, const std::string& name, std::string_view arch,
               const json& parsed) {
  if (arch == "llama" && (contains(name, ".attn_k.") || contains(name, ".attn_q."))) {
    const int64_t heads = head_count(parsed, "num_attention_heads");
    const int64_t kv_heads = head_count(parsed, "num_key_value_heads");
    if (heads == 0 || kv_heads == 0) return t;
    return unpermute_rows(t, contains(name, ".attn_q.") ? heads : kv_heads, name);
  }
  if ((arch == "gemma2") && contains(name, "norm.weight")) return minus_one(t, name);
  if (arch == "gpt2" && (contains(name, "attn_qkv.weight") || contains(name, "ffn_down.weight") ||
                         contains(name, "ffn_up.weight") || contains(name, "attn_output.weight")))
    return transposed(t, name);
  return t;
}

}  // namespace

Checkpoint gguf_hf_tensors(const GgufFile& f, std::string_view arch, const json& parsed,
                           const std::vector<std::pair<std::string, std::string>>& names) {
  CheckpointData out;
  for (const auto& [gguf_name, hf_name] : names) {
    auto t = f.tensor(gguf_name);
    if (!t.ok()) {
      // tensor() names the file already; the caller's with_context adds it again.
      std::string msg = t.status().message();
      const std::string prefix = f.source() + ": ";
      if (msg.rfind(prefix, 0) == 0) msg = msg.substr(prefix.size());
      throw Error(t.status().code(), msg);
    }
    out.tensors[hf_name] = process(*t, gguf_name, arch, parsed);
  }
  out.files = {f.source()};
  return CheckpointData::wrap(std::move(out));
}

}  // namespace mlhub::io
