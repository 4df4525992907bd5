// safetensors: read (memory-mapped, zero-copy) and write.
//
// Format: an 8-byte little-endian header length N, N bytes of JSON
//   {"__metadata__": {str: str}, name: {"dtype": "F32", "shape": [..], "data_offsets": [b, e]}}
// then the data section; offsets are relative to its start. Every field is validated before a
// tensor is made; see include/mlhub/io.h for the list of what is rejected.
//
// Alignment: a tensor is a view into the mapping when its first byte is aligned for its dtype
// (always the case for files written by the safetensors library, which pads the header to 8
// bytes and orders tensors by dtype). A misaligned tensor is copied into owned, aligned storage,
// because the kernels read elements through typed pointers.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "io/io_internal.h"

namespace mlhub::io {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// The safetensors library's own limit on the header (100 MB).
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

std::optional<DType> dtype_from_name(std::string_view name) {
  static constexpr std::pair<std::string_view, DType> kNames[] = {
      {"F32", DType::kF32}, {"F16", DType::kF16}, {"BF16", DType::kBF16}, {"F64", DType::kF64},
      {"I64", DType::kI64}, {"I32", DType::kI32}, {"I16", DType::kI16},   {"I8", DType::kI8},
      {"U8", DType::kU8},   {"BOOL", DType::kBool}};
  for (const auto& [n, d] : kNames)
    if (n == name) return d;
  return std::nullopt;
}

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin;
  uint64_t end;
};

uint64_t read_le64(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

// A non-negative JSON integer (nlohmann parses non-negative integers as unsigned).
std::optional<uint64_t> as_unsigned(const json& j) {
  if (j.is_number_unsigned()) return j.get<uint64_t>();
  return std::nullopt;
}

Entry parse_entry(const std::string& name, const json& j, uint64_t data_size) {
  const std::string where = fmt::format("tensor \"{}\"", name);
  if (!j.is_object()) corrupt(where + ": entry is not a JSON object");
  const auto dt = j.find("dtype");
  if (dt == j.end() || !dt->is_string()) corrupt(where + ": \"dtype\" is missing or not a string");
  const std::string dtype_str = dt->get<std::string>();
  const std::optional<DType> dtype = dtype_from_name(dtype_str);
  if (!dtype)
    unimplemented(fmt::format("{}: dtype {} is not supported (mlhub reads F32, F16, BF16, F64, "
                              "I64, I32, I16, I8, U8, BOOL)",
                              where, json(dtype_str).dump(-1, ' ', false,
                                                          json::error_handler_t::replace)));

  const auto sh = j.find("shape");
  if (sh == j.end() || !sh->is_array()) corrupt(where + ": \"shape\" is missing or not an array");
  Entry e{name, *dtype, {}, 0, 0};
  // numel and the byte size are checked for overflow as the shape is read.
  uint64_t numel = 1;
  for (const json& d : *sh) {
    if (d.is_number_integer() && !d.is_number_unsigned())
      corrupt(fmt::format("{}: negative dimension {} in \"shape\"", where, d.get<int64_t>()));
    const std::optional<uint64_t> dim = as_unsigned(d);
    if (!dim) corrupt(where + ": \"shape\" holds something that is not an integer");
    if (*dim > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ||
        (*dim != 0 && numel > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / *dim))
      corrupt(fmt::format("{}: shape {} has too many elements", where, sh->dump()));
    numel *= *dim;
    e.shape.push_back(static_cast<int64_t>(*dim));
  }
  const uint64_t esize = dtype_size(e.dtype);
  if (numel > std::numeric_limits<uint64_t>::max() / esize)
    corrupt(fmt::format("{}: shape {} has too many elements", where, sh->dump()));
  const uint64_t nbytes = numel * esize;

  const auto off = j.find("data_offsets");
  if (off == j.end() || !off->is_array() || off->size() != 2)
    corrupt(where + ": \"data_offsets\" is missing or not a [begin, end] pair");
  const std::optional<uint64_t> begin = as_unsigned((*off)[0]);
  const std::optional<uint64_t> end = as_unsigned((*off)[1]);
  if (!begin || !end) corrupt(where + ": \"data_offsets\" are not non-negative integers");
  if (*begin > *end || *end > data_size)
    corrupt(fmt::format("{}: data_offsets [{}, {}] are outside the data section ({} bytes)", where,
                        *begin, *end, data_size));
  if (*end - *begin != nbytes)
    corrupt(fmt::format("{}: data_offsets [{}, {}] hold {} bytes, but {} x {} needs {}", where,
                        *begin, *end, *end - *begin, dtype_str, shape_string(e.shape), nbytes));
  e.begin = *begin;
  e.end = *end;
  return e;
}

// safetensors' own rule: no two tensors share a byte (empty tensors hold no bytes).
void check_no_overlap(std::vector<const Entry*> entries) {
  std::sort(entries.begin(), entries.end(), [](const Entry* a, const Entry* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  const Entry* prev = nullptr;
  for (const Entry* e : entries) {
    if (e->begin == e->end) continue;
    if (prev != nullptr && prev->end > e->begin)
      corrupt(fmt::format("tensors \"{}\" [{}, {}] and \"{}\" [{}, {}] overlap", prev->name,
                          prev->begin, prev->end, e->name, e->begin, e->end));
    prev = e;
  }
}

}  // namespace

CheckpointData parse_safetensors_image(std::shared_ptr<const void> owner, const std::byte* data,
                                       size_t size) {
  if (size < 8) corrupt(fmt::format("{} bytes is too short for a safetensors header", size));
  const uint64_t n = read_le64(data);
  if (n > kMaxHeaderBytes)
    corrupt(fmt::format("header length {} is larger than the {}-byte limit", n, kMaxHeaderBytes));
  if (n > size - 8)
    corrupt(fmt::format("header length {} runs past the end of the file ({} bytes follow it)", n,
                        size - 8));
  const char* header = reinterpret_cast<const char*>(data + 8);
  const json j = json::parse(header, header + n, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) corrupt("the header is not valid JSON");
  if (!j.is_object()) corrupt("the header is not a JSON object");

  const std::byte* base = data + 8 + n;
  const size_t data_size = size - 8 - static_cast<size_t>(n);
  CheckpointData out;
  std::vector<Entry> entries;
  for (const auto& [key, value] : j.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) corrupt("\"__metadata__\" is not a JSON object");
      for (const auto& [mk, mv] : value.items()) {
        if (!mv.is_string()) corrupt(fmt::format("\"__metadata__\".\"{}\" is not a string", mk));
        out.metadata[mk] = mv.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(key, value, data_size));
  }
  std::vector<const Entry*> ptrs;
  for (const Entry& e : entries) ptrs.push_back(&e);
  check_no_overlap(ptrs);

  const std::shared_ptr<Storage> storage = Storage::view(std::move(owner), base, data_size);
  for (const Entry& e : entries) {
    const size_t esize = dtype_size(e.dtype);
    const auto address = reinterpret_cast<uintptr_t>(base) + e.begin;
    if (address % esize == 0) {
      out.tensors[e.name] =
          Tensor::view_of(storage, static_cast<size_t>(e.begin), e.dtype, e.shape);
    } else {
      out.tensors[e.name] = Tensor::from_bytes(e.dtype, e.shape, base + e.begin);
    }
  }
  return out;
}

CheckpointData read_safetensors_file(const fs::path& file) {
  MappedFile mapped = map_file(file);
  CheckpointData out = with_context(file.string(), [&] {
    return parse_safetensors_image(std::move(mapped.owner), mapped.data, mapped.size);
  });
  out.files = {file};
  return out;
}

Result<Checkpoint> read_safetensors(const fs::path& file) {
  return catch_errors([&] { return CheckpointData::wrap(read_safetensors_file(file)); });
}

Result<Checkpoint> parse_safetensors(std::string_view bytes) {
  return catch_errors([&] {
    // One owned copy; the tensors view it as they would view a mapping.
    std::shared_ptr<Storage> copy = Storage::allocate(bytes.size());
    if (!bytes.empty()) std::memcpy(copy->mutable_data(), bytes.data(), bytes.size());
    const std::byte* data = copy->data();
    std::shared_ptr<const void> owner(copy, data);
    return CheckpointData::wrap(with_context(
        "safetensors", [&] { return parse_safetensors_image(owner, data, bytes.size()); }));
  });
}

// ---- writing ---------------------------------------------------------------------------------

namespace {

// The safetensors library lays tensors out by dtype (its Dtype enum order, largest first) and
// then by name, so that every tensor stays aligned; we do the same, which makes our files
// byte-identical to its files for the same tensors and metadata.
int layout_rank(DType d) {
  switch (d) {
    case DType::kI64: return 9;
    case DType::kF64: return 8;
    case DType::kF32: return 7;
    case DType::kI32: return 6;
    case DType::kBF16: return 5;
    case DType::kF16: return 4;
    case DType::kI16: return 3;
    case DType::kI8: return 2;
    case DType::kU8: return 1;
    case DType::kBool: return 0;
    default: return -1;  // quantized: refused by write_safetensors before sorting
  }
}

std::string json_string(const std::string& s) {
  try {
    return json(s).dump(-1, ' ', false, json::error_handler_t::strict);
  } catch (const json::exception&) {
    throw Error(StatusCode::kInvalidArgument, fmt::format("name or metadata is not valid UTF-8"));
  }
}

}  // namespace

Status write_safetensors(const fs::path& file, const std::map<std::string, Tensor>& tensors,
                         const std::map<std::string, std::string>& metadata) {
  auto result = catch_errors([&] {
    std::vector<std::pair<std::string, Tensor>> order;
    for (const auto& [name, t] : tensors) {
      if (!t.defined())
        throw Error(StatusCode::kInvalidArgument, fmt::format("tensor \"{}\" is undefined", name));
      if (name == "__metadata__")
        throw Error(StatusCode::kInvalidArgument, "\"__metadata__\" cannot name a tensor");
      if (dtype_is_quantized(t.dtype()))
        throw Error(StatusCode::kInvalidArgument,
                    fmt::format("tensor \"{}\" is {}: safetensors has no block-quantized dtypes",
                                name, dtype_name(t.dtype())));
      order.emplace_back(name, t.contiguous());
    }
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
      return layout_rank(a.second.dtype()) > layout_rank(b.second.dtype());
    });
    std::string header = "{";
    if (!metadata.empty()) {
      header += "\"__metadata__\":{";
      bool first = true;
      for (const auto& [k, v] : metadata) {
        if (!first) header += ',';
        header += json_string(k);
        header += ':';
        header += json_string(v);
        first = false;
      }
      header += "}";
    }
    uint64_t offset = 0;
    for (const auto& [name, t] : order) {
      if (header.size() > 1) header += ",";
      header += fmt::format("{}:{{\"dtype\":\"{}\",\"shape\":[{}],\"data_offsets\":[{},{}]}}",
                            json_string(name), dtype_name(t.dtype()), fmt::join(t.shape(), ","),
                            offset, offset + t.nbytes());
      offset += t.nbytes();
    }
    header += "}";
    header.append((8 - header.size() % 8) % 8, ' ');

    const fs::path tmp = fs::path(file.string() + ".tmp");
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw Error(StatusCode::kIoError, fmt::format("{}: cannot create", tmp.string()));
      char len[8];
      for (int i = 0; i < 8; ++i) len[i] = static_cast<char>((header.size() >> (8 * i)) & 0xff);
      out.write(len, 8);
      out.write(header.data(), static_cast<std::streamsize>(header.size()));
      for (const auto& [name, t] : order)
        out.write(static_cast<const char*>(t.raw_data()), static_cast<std::streamsize>(t.nbytes()));
      out.flush();
      if (!out) throw Error(StatusCode::kIoError, fmt::format("{}: write failed", tmp.string()));
    }
    // Replace the file only once it is complete.
    std::error_code ec;
    fs::rename(tmp, file, ec);
    if (ec) {
      const std::string why = ec.message();
      fs::remove(tmp, ec);
      throw Error(StatusCode::kIoError, fmt::format("{}: cannot write: {}", file.string(), why));
    }
    return true;
  });
  return result.ok() ? Status() : result.status();
}

}  // namespace mlhub::io
