// GGUF reader: header, metadata index, tensor infos and tensors as views into the mapping.
//
// Layout (ggml docs/gguf.md; every integer little-endian):
//   "GGUF" u32 version u64 tensor_count u64 kv_count
//   kv_count x { string key, u32 type, value }            string = u64 length + bytes
//   tensor_count x { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
//   padding to general.alignment, then the data section (offsets are relative to its start)
// ne[0] is the fastest-varying dimension, so the row-major shape is ne reversed. Metadata is
// validated here by walking it (gguf_metadata.cc) and decoded only when asked for.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "io/gguf_internal.h"

namespace mlhub::io {
namespace {

namespace fs = std::filesystem;

constexpr uint32_t kMaxDims = 4;  // GGML_MAX_DIMS

struct GgmlType {
  uint32_t id;
  std::string_view name;
  uint32_t block_elems;
  uint32_t block_bytes;
  std::optional<DType> dtype;
};

// ggml's type table (ids, block sizes and bytes per block as gguf-py's GGML_QUANT_SIZES).
constexpr GgmlType kGgmlTypes[] = {
    {0, "F32", 1, 4, DType::kF32},          {1, "F16", 1, 2, DType::kF16},
    {2, "Q4_0", 32, 18, DType::kQ4_0},      {3, "Q4_1", 32, 20, DType::kQ4_1},
    {6, "Q5_0", 32, 22, DType::kQ5_0},      {7, "Q5_1", 32, 24, DType::kQ5_1},
    {8, "Q8_0", 32, 34, DType::kQ8_0},      {9, "Q8_1", 32, 40, std::nullopt},
    {10, "Q2_K", 256, 84, DType::kQ2_K},    {11, "Q3_K", 256, 110, DType::kQ3_K},
    {12, "Q4_K", 256, 144, DType::kQ4_K},   {13, "Q5_K", 256, 176, DType::kQ5_K},
    {14, "Q6_K", 256, 210, DType::kQ6_K},   {15, "Q8_K", 256, 292, std::nullopt},
    {16, "IQ2_XXS", 256, 66, std::nullopt}, {17, "IQ2_XS", 256, 74, std::nullopt},
    {18, "IQ3_XXS", 256, 98, std::nullopt}, {19, "IQ1_S", 256, 50, std::nullopt},
    {20, "IQ4_NL", 32, 18, std::nullopt},   {21, "IQ3_S", 256, 110, std::nullopt},
    {22, "IQ2_S", 256, 82, std::nullopt},   {23, "IQ4_XS", 256, 136, std::nullopt},
    {24, "I8", 1, 1, DType::kI8},           {25, "I16", 1, 2, DType::kI16},
    {26, "I32", 1, 4, DType::kI32},         {27, "I64", 1, 8, DType::kI64},
    {28, "F64", 1, 8, DType::kF64},         {29, "IQ1_M", 256, 56, std::nullopt},
    {30, "BF16", 1, 2, DType::kBF16},       {34, "TQ1_0", 256, 54, std::nullopt},
    {35, "TQ2_0", 256, 66, std::nullopt},
};

const GgmlType* find_ggml_type(uint32_t id) {
  for (const GgmlType& t : kGgmlTypes)
    if (t.id == id) return &t;
  return nullptr;
}

uint64_t align_up(uint64_t x, uint64_t alignment) {
  const uint64_t r = x % alignment;
  return r == 0 ? x : x + (alignment - r);
}

void read_header(GgufCursor& cur, GgufData& d, uint64_t& tensor_count, uint64_t& kv_count) {
  cur.need(4, "the magic");
  if (std::memcmp(cur.at(0), "GGUF", 4) != 0) {
    std::string magic;
    for (int i = 0; i < 4; ++i) magic += fmt::format("{:02x}", static_cast<uint8_t>(*cur.at(i)));
    corrupt(fmt::format("not a GGUF file: the magic is 0x{}, not \"GGUF\"", magic));
  }
  cur.skip(4, "the magic");
  const auto version = static_cast<uint32_t>(cur.uint(4, "the version"));
  if (version == 0) corrupt("GGUF version 0 does not exist");
  if ((version & 0xffff) == 0)
    unimplemented(
        fmt::format("the version reads 0x{:08x}: a big-endian GGUF file, which mlhub "
                    "does not read",
                    version));
  if (version == 1 || version > 3)
    unimplemented(
        fmt::format("GGUF version {} is not supported (mlhub reads versions 2 and 3)", version));
  d.version = version;
  tensor_count = cur.uint(8, "the tensor count");
  kv_count = cur.uint(8, "the metadata key/value count");
  // The smallest key/value (empty key, u8) takes 13 bytes and the smallest tensor info 32:
  // counts beyond what the rest of the file can hold are refused before anything is read.
  if (kv_count > cur.remaining() / 13)
    corrupt(fmt::format("kv_count {} cannot fit in the {} bytes that follow the header", kv_count,
                        cur.remaining()));
  if (tensor_count > cur.remaining() / 32)
    corrupt(fmt::format("tensor_count {} cannot fit in the {} bytes that follow the header",
                        tensor_count, cur.remaining()));
}

void read_metadata(GgufCursor& cur, GgufData& d, uint64_t kv_count) {
  d.entries.reserve(kv_count);
  for (uint64_t i = 0; i < kv_count; ++i) {
    const std::string what = fmt::format("metadata key/value #{}", i);
    std::string key(cur.string(what + " (its key)"));
    const std::string kwhat = fmt::format("metadata \"{}\"", key);
    const auto type = static_cast<uint32_t>(cur.uint(4, kwhat + " (its type)"));
    if (gguf_scalar_size(type) < 0)
      corrupt(fmt::format("{} has unknown value type {}", kwhat, type));
    const uint64_t value_offset = cur.pos();
    gguf_skip_value(cur, type, kwhat);
    if (d.key_index.count(key) != 0) corrupt(fmt::format("duplicate {}", kwhat));
    d.key_index.emplace(key, d.entries.size());
    d.keys.push_back(key);
    d.entries.push_back({std::move(key), static_cast<GgufType>(type), value_offset});
  }
}

void read_alignment(GgufData& d) {
  const auto it = d.key_index.find(std::string_view("general.alignment"));
  if (it == d.key_index.end()) return;
  const GgufEntry& e = d.entries[it->second];
  if (e.type != GgufType::kU32)
    corrupt(fmt::format("general.alignment is {}, not u32", gguf_type_name(e.type)));
  GgufCursor c(d.image, d.size, e.value_offset);
  const uint64_t a = c.uint(4, "general.alignment");
  if (a == 0 || (a & (a - 1)) != 0)
    corrupt(fmt::format("general.alignment {} is not a power of two", a));
  d.alignment = a;
}

GgufTensorInfo read_tensor_info(GgufCursor& cur, uint64_t index) {
  GgufTensorInfo t;
  t.name = std::string(cur.string(fmt::format("tensor info #{} (its name)", index)));
  const std::string what = fmt::format("tensor \"{}\"", t.name);
  const uint64_t n_dims = cur.uint(4, what + " (n_dims)");
  if (n_dims < 1 || n_dims > kMaxDims)
    corrupt(fmt::format("{} has {} dimensions (GGUF allows 1 to {})", what, n_dims, kMaxDims));
  uint64_t ne[kMaxDims];
  uint64_t numel = 1;
  for (uint64_t i = 0; i < n_dims; ++i) {
    ne[i] = cur.uint(8, what + " (its dimensions)");
    if (ne[i] > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      corrupt(fmt::format("{} has a negative dimension {}", what, static_cast<int64_t>(ne[i])));
    if (ne[i] == 0) corrupt(fmt::format("{} has a zero dimension", what));
    if (numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / ne[i])
      corrupt(fmt::format("{}: the dimensions overflow 64 bits", what));
    numel *= ne[i];
  }
  for (uint64_t i = n_dims; i-- > 0;) t.shape.push_back(static_cast<int64_t>(ne[i]));
  t.ggml_type = static_cast<uint32_t>(cur.uint(4, what + " (its type)"));
  const GgmlType* type = find_ggml_type(t.ggml_type);
  if (type == nullptr) unimplemented(fmt::format("{} has unknown ggml type {}", what, t.ggml_type));
  t.type_name = type->name;
  t.dtype = type->dtype;
  if (ne[0] % type->block_elems != 0)
    corrupt(fmt::format("{}: rows of {} values are not whole {}-value blocks of {}", what, ne[0],
                        type->block_elems, type->name));
  const uint64_t blocks = numel / type->block_elems;
  if (blocks > std::numeric_limits<uint64_t>::max() / type->block_bytes)
    corrupt(fmt::format("{}: its size overflows 64 bits", what));
  t.nbytes = blocks * type->block_bytes;
  t.offset = cur.uint(8, what + " (its offset)");
  return t;
}

void check_layout(const GgufData& d) {
  const uint64_t data_size = d.size > d.data_offset ? d.size - d.data_offset : 0;
  std::vector<const GgufTensorInfo*> order;
  for (const GgufTensorInfo& t : d.tensors) {
    const std::string what = fmt::format("tensor \"{}\"", t.name);
    if (t.offset % d.alignment != 0)
      corrupt(fmt::format("{}: offset {} is not a multiple of the alignment {}", what, t.offset,
                          d.alignment));
    if (t.offset > data_size || t.nbytes > data_size - t.offset)
      corrupt(fmt::format("{}: {} bytes at offset {} run past the data section ({} bytes)", what,
                          t.nbytes, t.offset, data_size));
    order.push_back(&t);
  }
  std::sort(order.begin(), order.end(),
            [](const GgufTensorInfo* a, const GgufTensorInfo* b) { return a->offset < b->offset; });
  for (size_t i = 1; i < order.size(); ++i) {
    const GgufTensorInfo* a = order[i - 1];
    const GgufTensorInfo* b = order[i];
    if (a->offset + a->nbytes > b->offset)
      corrupt(fmt::format("tensors \"{}\" [{}, {}) and \"{}\" [{}, {}) overlap", a->name, a->offset,
                          a->offset + a->nbytes, b->name, b->offset, b->offset + b->nbytes));
  }
}

std::shared_ptr<GgufData> parse_image(std::shared_ptr<const void> owner, const std::byte* image,
                                      size_t size, std::string source) {
  auto d = std::make_shared<GgufData>();
  d->owner = std::move(owner);
  d->image = image;
  d->size = size;
  d->source = std::move(source);
  with_context(d->source, [&] {
    GgufCursor cur(image, size);
    uint64_t tensor_count = 0;
    uint64_t kv_count = 0;
    read_header(cur, *d, tensor_count, kv_count);
    read_metadata(cur, *d, kv_count);
    read_alignment(*d);
    if (tensor_count > cur.remaining() / 32)
      corrupt(fmt::format("tensor_count {} cannot fit in the {} bytes left after the metadata",
                          tensor_count, cur.remaining()));
    d->tensors.reserve(tensor_count);
    for (uint64_t i = 0; i < tensor_count; ++i) {
      GgufTensorInfo t = read_tensor_info(cur, i);
      if (d->tensor_index.count(t.name) != 0)
        corrupt(fmt::format("duplicate tensor name \"{}\"", t.name));
      d->tensor_index.emplace(t.name, d->tensors.size());
      d->tensors.push_back(std::move(t));
    }
    d->data_offset = align_up(cur.pos(), d->alignment);
    check_layout(*d);
    return 0;
  });
  return d;
}

}  // namespace

Result<GgufFile> GgufFile::open(const fs::path& path) {
  return catch_errors([&] {
    MappedFile mapped = map_file(path);
    GgufFile f;
    f.data_ = parse_image(std::move(mapped.owner), mapped.data, mapped.size, path.string());
    return f;
  });
}

Result<GgufFile> GgufFile::parse(std::string_view bytes) {
  return catch_errors([&] {
    std::shared_ptr<Storage> copy = Storage::allocate(bytes.size());
    if (!bytes.empty()) std::memcpy(copy->mutable_data(), bytes.data(), bytes.size());
    const std::byte* image = copy->data();
    GgufFile f;
    f.data_ = parse_image(std::shared_ptr<const void>(copy, image), image, bytes.size(), "gguf");
    return f;
  });
}

uint32_t GgufFile::version() const {
  return data_->version;
}
uint64_t GgufFile::alignment() const {
  return data_->alignment;
}
uint64_t GgufFile::data_offset() const {
  return data_->data_offset;
}
const std::string& GgufFile::source() const {
  return data_->source;
}
const std::vector<GgufTensorInfo>& GgufFile::tensor_infos() const {
  return data_->tensors;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  const auto it = data_->tensor_index.find(name);
  return it == data_->tensor_index.end() ? nullptr : &data_->tensors[it->second];
}

namespace {

Tensor make_tensor(const GgufData& d, const GgufTensorInfo& t) {
  if (!t.dtype)
    unimplemented(fmt::format("{}: tensor \"{}\" has ggml type {} ({}), which mlhub cannot hold",
                              d.source, t.name, t.type_name, t.ggml_type));
  const uint64_t begin = d.data_offset + t.offset;
  const std::byte* p = d.image + begin;
  const bool plain = !dtype_is_quantized(*t.dtype);
  if (plain && reinterpret_cast<uintptr_t>(p) % dtype_size(*t.dtype) != 0)
    return Tensor::from_bytes(*t.dtype, t.shape, p);
  // Quantized blocks have no alignment requirement (their sizes are not powers of two).
  auto storage = Storage::view(d.owner, p, static_cast<size_t>(t.nbytes));
  return Tensor::view_of(std::move(storage), 0, *t.dtype, t.shape);
}

}  // namespace

Result<Tensor> GgufFile::tensor(const std::string& name) const {
  return catch_errors([&] {
    const GgufTensorInfo* t = find_tensor(name);
    if (t == nullptr)
      throw Error(StatusCode::kNotFound,
                  fmt::format("{}: no tensor \"{}\" in the file", data_->source, name));
    return make_tensor(*data_, *t);
  });
}

Result<Checkpoint> GgufFile::checkpoint() const {
  return catch_errors([&] {
    CheckpointData out;
    for (const GgufTensorInfo& t : data_->tensors) out.tensors[t.name] = make_tensor(*data_, t);
    out.files = {data_->source};
    return CheckpointData::wrap(std::move(out));
  });
}

}  // namespace mlhub::io
