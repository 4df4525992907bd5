// Tensor, Storage and dtype helpers (include/mlhub/tensor.h).
#include "mlhub/tensor.h"

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>

namespace mlhub {
namespace {

[[noreturn]] void fail(const std::string& message) {
  throw Error(Status::invalid_argument(message));
}

int normalize_dim(int dim, int ndim, bool allow_end = false) {
  const int limit = allow_end ? ndim + 1 : ndim;
  const int d = dim < 0 ? dim + limit : dim;
  if (d < 0 || d >= limit) fail(fmt::format("dim {} out of range for a {}-d tensor", dim, ndim));
  return d;
}

std::vector<int64_t> contiguous_strides(const Shape& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t s = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = s;
    s *= shape[i];
  }
  return strides;
}

// Reads element `flat` (already an element offset) of any float dtype as float.
float load_float(const std::byte* base, DType dtype, int64_t offset) {
  switch (dtype) {
    case DType::kF32: {
      float v;
      std::memcpy(&v, base + offset * 4, 4);
      return v;
    }
    case DType::kF16:
    case DType::kBF16: {
      uint16_t h;
      std::memcpy(&h, base + offset * 2, 2);
      return dtype == DType::kF16 ? f16_to_f32(h) : bf16_to_f32(h);
    }
    case DType::kF64: {
      double v;
      std::memcpy(&v, base + offset * 8, 8);
      return static_cast<float>(v);
    }
    default:
      break;
  }
  fail(fmt::format("expected a floating-point tensor, got {}", dtype_name(dtype)));
}

int64_t load_int(const std::byte* base, DType dtype, int64_t offset) {
  switch (dtype) {
    case DType::kI64: {
      int64_t v;
      std::memcpy(&v, base + offset * 8, 8);
      return v;
    }
    case DType::kI32: {
      int32_t v;
      std::memcpy(&v, base + offset * 4, 4);
      return v;
    }
    case DType::kI16: {
      int16_t v;
      std::memcpy(&v, base + offset * 2, 2);
      return v;
    }
    case DType::kI8:
      return static_cast<int8_t>(base[offset]);
    case DType::kU8:
    case DType::kBool:
      return static_cast<uint8_t>(base[offset]);
    default:
      break;
  }
  fail(fmt::format("expected an integer tensor, got {}", dtype_name(dtype)));
}

void store_value(std::byte* base, DType dtype, int64_t offset, double v) {
  switch (dtype) {
    case DType::kF32: {
      float f = static_cast<float>(v);
      std::memcpy(base + offset * 4, &f, 4);
      return;
    }
    case DType::kF16:
    case DType::kBF16: {
      const float f = static_cast<float>(v);
      uint16_t h = dtype == DType::kF16 ? f32_to_f16(f) : f32_to_bf16(f);
      std::memcpy(base + offset * 2, &h, 2);
      return;
    }
    case DType::kF64:
      std::memcpy(base + offset * 8, &v, 8);
      return;
    case DType::kI64: {
      int64_t i = static_cast<int64_t>(v);
      std::memcpy(base + offset * 8, &i, 8);
      return;
    }
    case DType::kI32: {
      int32_t i = static_cast<int32_t>(v);
      std::memcpy(base + offset * 4, &i, 4);
      return;
    }
    case DType::kI16: {
      int16_t i = static_cast<int16_t>(v);
      std::memcpy(base + offset * 2, &i, 2);
      return;
    }
    case DType::kI8:
      base[offset] = static_cast<std::byte>(static_cast<int8_t>(v));
      return;
    case DType::kU8:
      base[offset] = static_cast<std::byte>(static_cast<uint8_t>(v));
      return;
    case DType::kBool:
      base[offset] = static_cast<std::byte>(v != 0 ? 1 : 0);
      return;
    default:
      break;
  }
  fail(fmt::format("cannot store a value into a {} tensor", dtype_name(dtype)));
}

bool is_float(DType d) {
  return d == DType::kF32 || d == DType::kF16 || d == DType::kBF16 || d == DType::kF64;
}

// Calls fn(element_offset) for every element of a strided tensor, in row-major order.
template <typename Fn>
void for_each_offset(const Shape& shape, const std::vector<int64_t>& strides, int64_t base,
                     Fn&& fn) {
  const int64_t n = shape_numel(shape);
  if (n == 0) return;
  const size_t nd = shape.size();
  std::vector<int64_t> index(nd, 0);
  int64_t offset = base;
  for (int64_t i = 0; i < n; ++i) {
    fn(offset);
    for (size_t d = nd; d-- > 0;) {
      if (++index[d] < shape[d]) {
        offset += strides[d];
        break;
      }
      offset -= strides[d] * (shape[d] - 1);
      index[d] = 0;
    }
  }
}

}  // namespace

namespace {
struct BlockFormat {
  int64_t elems;
  size_t bytes;
};
// ggml's block sizes (ggml-common.h): QK4_0 = 32 -> 2 + 16 bytes, ..., QK_K = 256.
BlockFormat block_format(DType dtype) {
  switch (dtype) {
    case DType::kQ4_0: return {32, 18};
    case DType::kQ4_1: return {32, 20};
    case DType::kQ5_0: return {32, 22};
    case DType::kQ5_1: return {32, 24};
    case DType::kQ8_0: return {32, 34};
    case DType::kQ2_K: return {256, 84};
    case DType::kQ3_K: return {256, 110};
    case DType::kQ4_K: return {256, 144};
    case DType::kQ5_K: return {256, 176};
    case DType::kQ6_K: return {256, 210};
    default: return {1, dtype_size(dtype)};
  }
}
}  // namespace

bool dtype_is_quantized(DType dtype) { return dtype >= DType::kQ4_0; }
int64_t dtype_block_elems(DType dtype) { return block_format(dtype).elems; }
size_t dtype_block_bytes(DType dtype) { return block_format(dtype).bytes; }

size_t dtype_row_bytes(DType dtype, int64_t n) {
  const BlockFormat f = block_format(dtype);
  if (n < 0 || n % f.elems != 0)
    fail(fmt::format("{} values of {} are not a whole number of {}-value blocks", n,
                     dtype_name(dtype), f.elems));
  const uint64_t blocks = static_cast<uint64_t>(n / f.elems);
  if (blocks > std::numeric_limits<size_t>::max() / f.bytes)
    fail(fmt::format("{} values of {} overflow the address space", n, dtype_name(dtype)));
  return static_cast<size_t>(blocks) * f.bytes;
}

size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::kF64:
    case DType::kI64:
      return 8;
    case DType::kF32:
    case DType::kI32:
      return 4;
    case DType::kF16:
    case DType::kBF16:
    case DType::kI16:
      return 2;
    case DType::kI8:
    case DType::kU8:
    case DType::kBool:
      return 1;
    default:
      break;
  }
  fail(fmt::format("{} is block-quantized and has no per-element size", dtype_name(dtype)));
}

std::string_view dtype_name(DType dtype) {
  switch (dtype) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kF64: return "F64";
    case DType::kI64: return "I64";
    case DType::kI32: return "I32";
    case DType::kI16: return "I16";
    case DType::kI8: return "I8";
    case DType::kU8: return "U8";
    case DType::kBool: return "BOOL";
    case DType::kQ4_0: return "Q4_0";
    case DType::kQ4_1: return "Q4_1";
    case DType::kQ5_0: return "Q5_0";
    case DType::kQ5_1: return "Q5_1";
    case DType::kQ8_0: return "Q8_0";
    case DType::kQ2_K: return "Q2_K";
    case DType::kQ3_K: return "Q3_K";
    case DType::kQ4_K: return "Q4_K";
    case DType::kQ5_K: return "Q5_K";
    case DType::kQ6_K: return "Q6_K";
  }
  return "?";
}

std::string shape_string(const Shape& shape) { return fmt::format("[{}]", fmt::join(shape, ", ")); }

int64_t shape_numel(const Shape& shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) fail(fmt::format("negative dimension in shape {}", shape_string(shape)));
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d)
      fail(fmt::format("shape {} has too many elements", shape_string(shape)));
    n *= d;
  }
  return n;
}

namespace {
// Bytes of a contiguous tensor of `shape`; for a quantized dtype the last dim is whole blocks.
size_t storage_bytes(DType dtype, const Shape& shape) {
  const int64_t n = shape_numel(shape);
  if (dtype_is_quantized(dtype)) {
    if (shape.empty()) fail(fmt::format("a {} tensor needs at least one dimension", dtype_name(dtype)));
    const int64_t cols = shape.back();
    const size_t row = dtype_row_bytes(dtype, cols);
    const int64_t rows = cols == 0 ? 0 : n / cols;
    if (row != 0 && static_cast<uint64_t>(rows) > std::numeric_limits<size_t>::max() / row)
      fail(fmt::format("shape {} is too large", shape_string(shape)));
    return static_cast<size_t>(rows) * row;
  }
  if (static_cast<uint64_t>(n) > std::numeric_limits<size_t>::max() / dtype_size(dtype))
    fail(fmt::format("shape {} is too large", shape_string(shape)));
  return static_cast<size_t>(n) * dtype_size(dtype);
}

// Byte offset of element offset `elements` (a multiple of the block size for quantized dtypes).
size_t element_bytes(DType dtype, int64_t elements) {
  if (!dtype_is_quantized(dtype)) return static_cast<size_t>(elements) * dtype_size(dtype);
  return dtype_row_bytes(dtype, elements);
}

void require_plain(DType dtype, const char* what) {
  if (dtype_is_quantized(dtype))
    fail(fmt::format("{} of a {} tensor: quantized tensors only support row views "
                     "(dequantize with ops::dequantize first)", what, dtype_name(dtype)));
}
}  // namespace

// ---- Storage ---------------------------------------------------------------------------------

std::shared_ptr<Storage> Storage::allocate(size_t bytes) {
  std::shared_ptr<Storage> s(new Storage());
  const size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded > 0) {
    void* p = std::aligned_alloc(64, rounded);
    if (p == nullptr)
      throw Error(Status(StatusCode::kOutOfRange, fmt::format("cannot allocate {} bytes", bytes)));
    std::memset(p, 0, rounded);
    s->data_ = static_cast<std::byte*>(p);
  }
  s->size_ = bytes;
  return s;
}

std::shared_ptr<Storage> Storage::view(std::shared_ptr<const void> owner, const void* data,
                                       size_t bytes) {
  if (owner == nullptr) fail("Storage::view needs an owner");
  std::shared_ptr<Storage> s(new Storage());
  s->data_ = const_cast<std::byte*>(static_cast<const std::byte*>(data));
  s->size_ = bytes;
  s->owner_ = std::move(owner);
  return s;
}

Storage::~Storage() {
  if (owner_ == nullptr) std::free(data_);
}

std::byte* Storage::mutable_data() {
  if (read_only()) fail("cannot write to a read-only tensor (a view into a mapped file)");
  return data_;
}

// ---- Tensor construction ---------------------------------------------------------------------

Tensor Tensor::empty(DType dtype, const Shape& shape) {
  const size_t bytes = storage_bytes(dtype, shape);
  Tensor t;
  t.storage_ = Storage::allocate(bytes);
  t.dtype_ = dtype;
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  return t;
}

Tensor Tensor::full(const Shape& shape, float value) {
  Tensor t = empty(DType::kF32, shape);
  float* p = t.data<float>();
  for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = value;
  return t;
}

Tensor Tensor::from_floats(std::span<const float> values, const Shape& shape) {
  if (static_cast<int64_t>(values.size()) != shape_numel(shape))
    fail(fmt::format("{} values do not fill shape {}", values.size(), shape_string(shape)));
  return from_bytes(DType::kF32, shape, values.data());
}

Tensor Tensor::from_ints(std::span<const int64_t> values, const Shape& shape) {
  if (static_cast<int64_t>(values.size()) != shape_numel(shape))
    fail(fmt::format("{} values do not fill shape {}", values.size(), shape_string(shape)));
  return from_bytes(DType::kI64, shape, values.data());
}

Tensor Tensor::from_bytes(DType dtype, const Shape& shape, const void* data) {
  Tensor t = empty(dtype, shape);
  if (t.nbytes() > 0) std::memcpy(t.storage_->mutable_data(), data, t.nbytes());
  return t;
}

Tensor Tensor::view_of(std::shared_ptr<Storage> storage, size_t byte_offset, DType dtype,
                       const Shape& shape) {
  if (storage == nullptr) fail("Tensor::view_of needs a storage");
  const size_t bytes = storage_bytes(dtype, shape);
  if (bytes > std::numeric_limits<size_t>::max() - byte_offset ||
      byte_offset + bytes > storage->size())
    fail(fmt::format("a {} tensor of shape {} at byte {} does not fit in {} bytes",
                     dtype_name(dtype), shape_string(shape), byte_offset, storage->size()));
  Tensor t;
  t.storage_ = std::move(storage);
  t.offset_ = byte_offset;
  t.dtype_ = dtype;
  t.shape_ = shape;
  t.strides_ = contiguous_strides(shape);
  return t;
}

// ---- accessors -------------------------------------------------------------------------------

int64_t Tensor::dim(int i) const { return shape_[normalize_dim(i, ndim())]; }

int64_t Tensor::numel() const { return defined() ? shape_numel(shape_) : 0; }

size_t Tensor::nbytes() const { return defined() ? storage_bytes(dtype_, shape_) : 0; }

bool Tensor::is_contiguous() const { return strides_ == contiguous_strides(shape_) || numel() <= 1; }

const void* Tensor::raw_data() const {
  if (!defined()) fail("use of an undefined tensor");
  return storage_->data() + offset_;
}

namespace {
template <typename T>
bool dtype_matches(DType d) {
  if constexpr (std::is_same_v<T, float>) return d == DType::kF32;
  if constexpr (std::is_same_v<T, double>) return d == DType::kF64;
  if constexpr (std::is_same_v<T, int64_t>) return d == DType::kI64;
  if constexpr (std::is_same_v<T, int32_t>) return d == DType::kI32;
  if constexpr (std::is_same_v<T, int16_t> || std::is_same_v<T, uint16_t>)
    return d == DType::kI16 || d == DType::kF16 || d == DType::kBF16;
  if constexpr (std::is_same_v<T, int8_t>) return d == DType::kI8;
  if constexpr (std::is_same_v<T, uint8_t>) return d == DType::kU8 || d == DType::kBool;
  return false;
}
}  // namespace

template <typename T>
const T* Tensor::data() const {
  if (!defined()) fail("use of an undefined tensor");
  if (!dtype_matches<T>(dtype_))
    fail(fmt::format("tensor of dtype {} accessed with the wrong element type", dtype_name(dtype_)));
  return reinterpret_cast<const T*>(storage_->data() + offset_);
}

template <typename T>
T* Tensor::data() {
  if (!defined()) fail("use of an undefined tensor");
  if (!dtype_matches<T>(dtype_))
    fail(fmt::format("tensor of dtype {} accessed with the wrong element type", dtype_name(dtype_)));
  return reinterpret_cast<T*>(storage_->mutable_data() + offset_);
}

#define MLHUB_TENSOR_DATA(T)                 \
  template const T* Tensor::data<T>() const; \
  template T* Tensor::data<T>();
MLHUB_TENSOR_DATA(float)
MLHUB_TENSOR_DATA(double)
MLHUB_TENSOR_DATA(int64_t)
MLHUB_TENSOR_DATA(int32_t)
MLHUB_TENSOR_DATA(int16_t)
MLHUB_TENSOR_DATA(uint16_t)
MLHUB_TENSOR_DATA(int8_t)
MLHUB_TENSOR_DATA(uint8_t)
#undef MLHUB_TENSOR_DATA

// ---- views -----------------------------------------------------------------------------------

Tensor Tensor::reshape(const Shape& shape) const {
  if (!defined()) fail("reshape of an undefined tensor");
  Shape out = shape;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      if (infer >= 0) fail("reshape: only one dimension may be -1");
      infer = static_cast<int>(i);
    } else {
      if (out[i] < 0) fail(fmt::format("reshape: bad shape {}", shape_string(shape)));
      known *= out[i];
    }
  }
  const int64_t n = numel();
  if (infer >= 0) {
    if (known == 0 || n % known != 0)
      fail(fmt::format("reshape: cannot view {} as {}", shape_string(shape_), shape_string(shape)));
    out[infer] = n / known;
  }
  if (shape_numel(out) != n)
    fail(fmt::format("reshape: cannot view {} as {}", shape_string(shape_), shape_string(shape)));
  if (dtype_is_quantized(dtype_) && (out.empty() || out.back() != shape_.back()))
    require_plain(dtype_, "reshape changing the last dim");
  if (!is_contiguous()) return contiguous().reshape(out);
  Tensor t = *this;
  t.shape_ = out;
  t.strides_ = contiguous_strides(out);
  return t;
}

Tensor Tensor::slice(int dim, int64_t start, int64_t end) const {
  const int d = normalize_dim(dim, ndim());
  if (start < 0 || end < start || end > shape_[d])
    fail(fmt::format("slice [{}, {}) out of range for dim {} of size {}", start, end, d,
                     shape_[d]));
  Tensor t = *this;
  if (dtype_is_quantized(dtype_) && d == ndim() - 1 && (start != 0 || end != shape_[d]))
    require_plain(dtype_, "slice of the last dim");
  t.offset_ += element_bytes(dtype_, start * strides_[d]);
  t.shape_[d] = end - start;
  return t;
}

Tensor Tensor::select(int dim, int64_t index) const {
  const int d = normalize_dim(dim, ndim());
  if (index < 0) index += shape_[d];
  if (index < 0 || index >= shape_[d])
    fail(fmt::format("index {} out of range for dim {} of size {}", index, d, shape_[d]));
  Tensor t = *this;
  if (d == ndim() - 1) require_plain(dtype_, "select of the last dim");
  t.offset_ += element_bytes(dtype_, index * strides_[d]);
  t.shape_.erase(t.shape_.begin() + d);
  t.strides_.erase(t.strides_.begin() + d);
  return t;
}

Tensor Tensor::transpose(int dim0, int dim1) const {
  const int a = normalize_dim(dim0, ndim());
  const int b = normalize_dim(dim1, ndim());
  if (a != b && (a == ndim() - 1 || b == ndim() - 1)) require_plain(dtype_, "transpose");
  Tensor t = *this;
  std::swap(t.shape_[a], t.shape_[b]);
  std::swap(t.strides_[a], t.strides_[b]);
  return t;
}

Tensor Tensor::unsqueeze(int dim) const {
  const int d = normalize_dim(dim, ndim(), /*allow_end=*/true);
  if (d == ndim()) require_plain(dtype_, "unsqueeze after the last dim");
  Tensor t = *this;
  const int64_t stride = d < ndim() ? strides_[d] * shape_[d] : 1;
  t.shape_.insert(t.shape_.begin() + d, 1);
  t.strides_.insert(t.strides_.begin() + d, stride);
  return t;
}

// ---- copies ----------------------------------------------------------------------------------

Tensor Tensor::contiguous() const {
  if (!defined()) fail("contiguous of an undefined tensor");
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  if (!defined()) fail("clone of an undefined tensor");
  Tensor out = empty(dtype_, shape_);
  std::byte* dst = out.storage_->mutable_data();
  if (is_contiguous()) {
    if (nbytes() > 0) std::memcpy(dst, storage_->data() + offset_, nbytes());
    return out;
  }
  require_plain(dtype_, "strided copy");
  const size_t esize = dtype_size(dtype_);
  const std::byte* src = storage_->data() + offset_;
  for_each_offset(shape_, strides_, 0, [&](int64_t off) {
    std::memcpy(dst, src + off * static_cast<int64_t>(esize), esize);
    dst += esize;
  });
  return out;
}

Tensor Tensor::to(DType dtype) const {
  if (!defined()) fail("conversion of an undefined tensor");
  if (dtype == dtype_) return *this;
  require_plain(dtype_, "conversion");
  require_plain(dtype, "conversion");
  Tensor out = empty(dtype, shape_);
  std::byte* dst = out.storage_->mutable_data();
  const std::byte* src = storage_->data() + offset_;
  int64_t i = 0;
  const bool from_float = is_float(dtype_);
  // Fast paths for the common weight conversions.
  if (dtype == DType::kF32 && is_contiguous() && (dtype_ == DType::kF16 || dtype_ == DType::kBF16)) {
    float* o = reinterpret_cast<float*>(dst);
    for (int64_t k = 0, n = numel(); k < n; ++k) {
      uint16_t h;
      std::memcpy(&h, src + k * 2, 2);
      o[k] = dtype_ == DType::kF16 ? f16_to_f32(h) : bf16_to_f32(h);
    }
    return out;
  }
  for_each_offset(shape_, strides_, 0, [&](int64_t off) {
    const double v = from_float ? static_cast<double>(load_float(src, dtype_, off))
                                : static_cast<double>(load_int(src, dtype_, off));
    store_value(dst, dtype, i++, v);
  });
  return out;
}

namespace {
int64_t element_offset(const Tensor& t, std::initializer_list<int64_t> index) {
  if (static_cast<int>(index.size()) != t.ndim())
    fail(fmt::format("{} indices for a {}-d tensor", index.size(), t.ndim()));
  int64_t off = 0;
  int d = 0;
  for (int64_t i : index) {
    if (i < 0 || i >= t.shape()[d])
      fail(fmt::format("index {} out of range for dim {} of size {}", i, d, t.shape()[d]));
    off += i * t.strides()[d];
    ++d;
  }
  return off;
}
}  // namespace

float Tensor::item_f32(std::initializer_list<int64_t> index) const {
  require_plain(dtype_, "item_f32");
  const int64_t off = element_offset(*this, index);
  return load_float(static_cast<const std::byte*>(raw_data()), dtype_, off);
}

int64_t Tensor::item_i64(std::initializer_list<int64_t> index) const {
  require_plain(dtype_, "item_i64");
  const int64_t off = element_offset(*this, index);
  return load_int(static_cast<const std::byte*>(raw_data()), dtype_, off);
}

std::vector<float> Tensor::to_floats() const {
  const Tensor f = to(DType::kF32).contiguous();
  const float* p = f.data<float>();
  return std::vector<float>(p, p + f.numel());
}

// ---- half precision --------------------------------------------------------------------------

float f16_to_f32(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: normalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400) == 0) {
        mant <<= 1;
        --exp;
      }
      mant &= 0x3ff;
      bits = sign | (exp << 23) | (mant << 13);
    }
  } else if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000);
  const uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return sign | (abs > 0x7f800000u ? 0x7e00 : 0x7c00);  // NaN / inf
  if (abs >= 0x477ff000u) return sign | 0x7c00;  // rounds to >= 65520: overflow to inf
  if (abs < 0x38800000u) {                        // below the smallest normal half: subnormal
    if (abs < 0x33000000u) return sign;           // < 2^-25 rounds to zero
    const uint32_t e = abs >> 23;
    const uint32_t mant = (abs & 0x7fffff) | 0x800000;
    const uint32_t shift = 126 - e;  // 14..24 -> to half subnormal units (2^-24)
    uint32_t half = mant >> shift;
    const uint32_t rem = mant & ((1u << shift) - 1);
    const uint32_t halfway = 1u << (shift - 1);
    if (rem > halfway || (rem == halfway && (half & 1))) ++half;
    return sign | static_cast<uint16_t>(half);
  }
  uint32_t bits = abs - (112u << 23);  // rebias exponent 127 -> 15
  const uint32_t rem = bits & 0x1fff;
  bits >>= 13;
  if (rem > 0x1000 || (rem == 0x1000 && (bits & 1))) ++bits;
  return sign | static_cast<uint16_t>(bits);
}

float bf16_to_f32(uint16_t h) {
  const uint32_t bits = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_bf16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((x >> 16) | 0x40);  // NaN
  const uint32_t rounding = 0x7fff + ((x >> 16) & 1);
  return static_cast<uint16_t>((x + rounding) >> 16);
}

}  // namespace mlhub
