// mlhub tensor: an n-dimensional array with a dtype, a shape, strides and shared storage.
//
// Storage is either owned (64-byte aligned heap memory) or a read-only view into memory that
// someone else keeps alive (a memory-mapped checkpoint file): weights of a safetensors file are
// used in place when their dtype and alignment allow, with no copy.
//
// Tensors are cheap handles: copying a Tensor shares the storage (like torch). Views (reshape of
// a contiguous tensor, slice, select, transpose) share storage too; clone()/contiguous() copy.
// Quantized tensors (DType kQ*) are storage for weights: their last dimension must be a multiple
// of the block size, they are contiguous, and only views that keep whole rows work on them
// (reshape keeping the last dim, slice/select of a leading dim); other ops, data<T>() and to()
// throw kInvalidArgument (dequantize with ops::dequantize). raw_data() gives the blocks.
// A Tensor is not synchronised: concurrent reads are fine, concurrent writes to shared storage
// are the caller's business. Misuse (wrong dtype, bad shape, index out of range) throws
// mlhub::Error with kInvalidArgument; see docs/error_handling.md.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "mlhub/core.h"

namespace mlhub {

enum class DType : uint8_t {
  kF32, kF16, kBF16, kF64, kI64, kI32, kI16, kI8, kU8, kBool,
  // ggml's block-quantized formats (GGUF files), byte for byte as ggml lays them out: the last
  // dimension is cut into blocks of dtype_block_elems() values stored in dtype_block_bytes()
  // bytes (scales + packed integers). Layouts: src/kernels/cpu/quant.h.
  kQ4_0, kQ4_1, kQ5_0, kQ5_1, kQ8_0,  // 32 values per block
  kQ2_K, kQ3_K, kQ4_K, kQ5_K, kQ6_K,  // 256 values per super-block
};

// Bytes per element of a plain dtype. Throws kInvalidArgument for a quantized dtype (it has no
// per-element size: use dtype_row_bytes).
size_t dtype_size(DType dtype);
// "F32", "F16", "BF16", "F64", "I64", ... (safetensors spelling); "Q4_0", "Q4_K", ... (ggml's).
std::string_view dtype_name(DType dtype);
bool dtype_is_quantized(DType dtype);
// Values per block and bytes per block (1 and dtype_size() for plain dtypes).
int64_t dtype_block_elems(DType dtype);
size_t dtype_block_bytes(DType dtype);
// Bytes of `n` consecutive values along the last dim. Throws kInvalidArgument when n is not a
// multiple of the block size, or on overflow.
size_t dtype_row_bytes(DType dtype, int64_t n);

using Shape = std::vector<int64_t>;
std::string shape_string(const Shape& shape);  // "[2, 3, 4]"
int64_t shape_numel(const Shape& shape);        // throws kInvalidArgument on overflow/negative

// A block of bytes. Owned storage is zero-initialised and 64-byte aligned.
class Storage {
 public:
  // Allocates `bytes` zeroed bytes. Throws kOutOfRange when the allocation fails.
  static std::shared_ptr<Storage> allocate(size_t bytes);
  // Wraps memory kept alive by `owner` (e.g. a mapped file). The view is read-only: mutable
  // access to a tensor over it throws kInvalidArgument.
  static std::shared_ptr<Storage> view(std::shared_ptr<const void> owner, const void* data,
                                       size_t bytes);

  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  const std::byte* data() const { return data_; }
  std::byte* mutable_data();  // throws when read-only
  size_t size() const { return size_; }
  bool read_only() const { return owner_ != nullptr; }

 private:
  Storage() = default;
  std::byte* data_ = nullptr;
  size_t size_ = 0;
  std::shared_ptr<const void> owner_;  // set for views
};

class Tensor {
 public:
  Tensor() = default;  // an undefined tensor: defined() == false

  // New contiguous tensors in owned storage.
  static Tensor empty(DType dtype, const Shape& shape);  // zero-filled (storage is zeroed)
  static Tensor zeros(DType dtype, const Shape& shape) { return empty(dtype, shape); }
  static Tensor full(const Shape& shape, float value);  // F32
  static Tensor from_floats(std::span<const float> values, const Shape& shape);
  static Tensor from_ints(std::span<const int64_t> values, const Shape& shape);  // I64
  // Copies numel * dtype_size bytes from `data`.
  static Tensor from_bytes(DType dtype, const Shape& shape, const void* data);
  // A view over `storage` starting at `byte_offset`, contiguous. Throws kInvalidArgument when
  // the tensor would not fit inside the storage.
  static Tensor view_of(std::shared_ptr<Storage> storage, size_t byte_offset, DType dtype,
                        const Shape& shape);

  bool defined() const { return storage_ != nullptr; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  const std::vector<int64_t>& strides() const { return strides_; }  // in elements
  int ndim() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const;  // negative i counts from the end
  int64_t numel() const;
  size_t nbytes() const;
  bool is_contiguous() const;
  bool read_only() const { return storage_ && storage_->read_only(); }
  const std::shared_ptr<Storage>& storage() const { return storage_; }
  size_t byte_offset() const { return offset_; }

  // Typed pointers to the first element. Throw kInvalidArgument when T does not match dtype()
  // (float<->kF32, double<->kF64, int64_t<->kI64, int32_t<->kI32, int16_t/uint16_t<->kI16/kF16/
  // kBF16, int8_t<->kI8, uint8_t<->kU8/kBool). data<T>() also throws on read-only storage.
  template <typename T>
  const T* data() const;
  template <typename T>
  T* data();
  const void* raw_data() const;

  // Views (share storage). reshape needs a contiguous tensor; one dim may be -1.
  Tensor reshape(const Shape& shape) const;
  Tensor slice(int dim, int64_t start, int64_t end) const;  // [start, end) along dim
  Tensor select(int dim, int64_t index) const;              // removes dim
  Tensor transpose(int dim0, int dim1) const;
  Tensor unsqueeze(int dim) const;

  // Copies.
  Tensor contiguous() const;  // returns *this when already contiguous
  Tensor clone() const;       // always a fresh contiguous copy in owned storage
  // Converts to `dtype` (f16/bf16/f64/ints -> f32 and back; round-to-nearest-even for f16/bf16).
  // Returns *this when the dtype already matches.
  Tensor to(DType dtype) const;

  // Element access for tests and small glue (slow: computes the strided offset).
  float item_f32(std::initializer_list<int64_t> index) const;  // F32/F16/BF16/F64
  int64_t item_i64(std::initializer_list<int64_t> index) const;  // integer dtypes
  std::vector<float> to_floats() const;  // any float dtype, row-major order

 private:
  std::shared_ptr<Storage> storage_;
  size_t offset_ = 0;  // bytes
  DType dtype_ = DType::kF32;
  Shape shape_;
  std::vector<int64_t> strides_;
};

// Half-precision conversions (scalar; kernels may have vector versions).
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
float bf16_to_f32(uint16_t h);
uint16_t f32_to_bf16(float f);

}  // namespace mlhub
