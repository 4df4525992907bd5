// GGUF metadata: validation by walking (no copies), typed getters and JSON decoding.
#include <fmt/format.h>

#include <bit>
#include <cstring>
#include <limits>

#include "io/gguf_internal.h"

namespace mlhub::io {

using json = nlohmann::json;

std::string_view gguf_type_name(GgufType type) {
  static constexpr std::string_view kNames[] = {"u8",  "i8",  "u16",  "i16",    "u32",
                                                "i32", "f32", "bool", "string", "array",
                                                "u64", "i64", "f64"};
  const auto i = static_cast<uint32_t>(type);
  return i < std::size(kNames) ? kNames[i] : std::string_view("unknown");
}

int gguf_scalar_size(uint32_t type) {
  switch (static_cast<GgufType>(type)) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kBool:
      return 1;
    case GgufType::kU16:
    case GgufType::kI16:
      return 2;
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kF32:
      return 4;
    case GgufType::kU64:
    case GgufType::kI64:
    case GgufType::kF64:
      return 8;
    case GgufType::kString:
    case GgufType::kArray:
      return 0;
  }
  return -1;
}

void GgufCursor::need(uint64_t n, std::string_view what) const {
  if (n > remaining())
    corrupt(fmt::format("the file is truncated: {} needs {} bytes at offset {}, {} are left", what,
                        n, pos_, remaining()));
}

uint64_t GgufCursor::uint(int bytes, std::string_view what) {
  need(static_cast<uint64_t>(bytes), what);
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(data_[pos_ + i]);
  pos_ += static_cast<uint64_t>(bytes);
  return v;
}

std::string_view GgufCursor::string(std::string_view what) {
  const uint64_t n = uint(8, what);
  if (n > remaining())
    corrupt(
        fmt::format("{}: a string of {} bytes at offset {} runs past the end of the file ({} "
                    "bytes are left)",
                    what, n, pos_, remaining()));
  const std::string_view s(reinterpret_cast<const char*>(data_ + pos_), n);
  pos_ += n;
  return s;
}

void gguf_skip_value(GgufCursor& cur, uint32_t type, const std::string& what, int depth) {
  const int size = gguf_scalar_size(type);
  if (size < 0) corrupt(fmt::format("{} holds unknown value type {}", what, type));
  if (size > 0) {
    cur.skip(static_cast<uint64_t>(size), what);
    return;
  }
  if (static_cast<GgufType>(type) == GgufType::kString) {
    cur.string(what);
    return;
  }
  if (depth >= kGgufMaxArrayDepth)
    corrupt(fmt::format("{}: arrays nested deeper than {} levels", what, kGgufMaxArrayDepth));
  const auto elem = static_cast<uint32_t>(cur.uint(4, what + " (array type)"));
  const uint64_t count = cur.uint(8, what + " (array length)");
  const int esize = gguf_scalar_size(elem);
  if (esize < 0) corrupt(fmt::format("{}: array of unknown value type {}", what, elem));
  // Every element takes at least `min` bytes: a count the file cannot hold is refused at once.
  const uint64_t min = esize > 0 ? static_cast<uint64_t>(esize) : elem == 8 ? 8 : 12;
  if (count > cur.remaining() / min)
    corrupt(fmt::format("{}: an array of {} {} values cannot fit in the {} bytes left", what, count,
                        gguf_type_name(static_cast<GgufType>(elem)), cur.remaining()));
  if (esize > 0) {
    cur.skip(count * static_cast<uint64_t>(esize), what);
    return;
  }
  for (uint64_t i = 0; i < count; ++i) gguf_skip_value(cur, elem, what, depth + 1);
}

namespace {

bool is_integer(GgufType t) {
  switch (t) {
    case GgufType::kU8:
    case GgufType::kI8:
    case GgufType::kU16:
    case GgufType::kI16:
    case GgufType::kU32:
    case GgufType::kI32:
    case GgufType::kU64:
    case GgufType::kI64:
      return true;
    default:
      return false;
  }
}

bool is_float(GgufType t) {
  return t == GgufType::kF32 || t == GgufType::kF64;
}

// Scalars decoded from validated bytes.
uint64_t read_bits(GgufCursor& c, GgufType t) {
  return c.uint(gguf_scalar_size(static_cast<uint32_t>(t)), "a value");
}

json scalar_json(GgufCursor& c, GgufType t) {
  const uint64_t bits = read_bits(c, t);
  switch (t) {
    case GgufType::kU8:
    case GgufType::kU16:
    case GgufType::kU32:
    case GgufType::kU64:
      return bits;
    case GgufType::kI8:
      return static_cast<int8_t>(bits);
    case GgufType::kI16:
      return static_cast<int16_t>(bits);
    case GgufType::kI32:
      return static_cast<int32_t>(bits);
    case GgufType::kI64:
      return static_cast<int64_t>(bits);
    case GgufType::kF32:
      return static_cast<double>(std::bit_cast<float>(static_cast<uint32_t>(bits)));
    case GgufType::kF64:
      return std::bit_cast<double>(bits);
    case GgufType::kBool:
      return bits != 0;
    default:
      return nullptr;
  }
}

json value_at(GgufCursor& c, GgufType t) {
  if (t == GgufType::kString) return std::string(c.string("a string"));
  if (t != GgufType::kArray) return scalar_json(c, t);
  const auto elem = static_cast<GgufType>(c.uint(4, "array type"));
  const uint64_t count = c.uint(8, "array length");
  json out = json::array();
  for (uint64_t i = 0; i < count; ++i) out.push_back(value_at(c, elem));
  return out;
}

// Signed value of an integer scalar; kOutOfRange for a u64 past INT64_MAX.
int64_t int_at(GgufCursor& c, GgufType t, const std::string& what) {
  const json v = scalar_json(c, t);
  if (v.is_number_unsigned() &&
      v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
    throw Error(StatusCode::kOutOfRange,
                fmt::format("{}: {} does not fit in int64", what, v.get<uint64_t>()));
  return v.get<int64_t>();
}

}  // namespace

json gguf_value_json(const GgufData& d, const GgufEntry& e) {
  GgufCursor c(d.image, d.size, e.value_offset);
  return value_at(c, e.type);
}

// ---- GgufFile metadata accessors ---------------------------------------------------------------

const std::vector<std::string>& GgufFile::keys() const {
  return data_->keys;
}

bool GgufFile::contains(const std::string& key) const {
  return data_->key_index.count(key) != 0;
}

std::optional<GgufType> GgufFile::type_of(const std::string& key) const {
  const auto it = data_->key_index.find(key);
  if (it == data_->key_index.end()) return std::nullopt;
  return data_->entries[it->second].type;
}

std::optional<GgufType> GgufFile::array_type_of(const std::string& key) const {
  const auto it = data_->key_index.find(key);
  if (it == data_->key_index.end()) return std::nullopt;
  const GgufEntry& e = data_->entries[it->second];
  if (e.type != GgufType::kArray) return std::nullopt;
  GgufCursor c(data_->image, data_->size, e.value_offset);
  return static_cast<GgufType>(c.uint(4, "array type"));
}

namespace {

// The entry for `key` checked against a type predicate; the cursor is placed at its value (for
// arrays: at the first element, with the element type and count read).
struct Found {
  GgufCursor cur;
  GgufType type;
  uint64_t count = 0;
};

template <typename Pred>
Found find_typed(const GgufData& d, const std::string& key, bool array, Pred ok,
                 std::string_view want) {
  const auto it = d.key_index.find(key);
  if (it == d.key_index.end())
    throw Error(StatusCode::kNotFound, fmt::format("{}: no metadata key \"{}\"", d.source, key));
  const GgufEntry& e = d.entries[it->second];
  Found f{GgufCursor(d.image, d.size, e.value_offset), e.type};
  std::string got(gguf_type_name(e.type));
  bool good = array ? e.type == GgufType::kArray : ok(e.type);
  if (array && good) {
    f.type = static_cast<GgufType>(f.cur.uint(4, "array type"));
    f.count = f.cur.uint(8, "array length");
    got = fmt::format("array of {}", gguf_type_name(f.type));
    good = ok(f.type);
  }
  if (!good)
    throw Error(StatusCode::kInvalidArgument,
                fmt::format("{}: metadata \"{}\" is {}, not {}", d.source, key, got, want));
  return f;
}

}  // namespace

Result<std::string> GgufFile::get_string(const std::string& key) const {
  return catch_errors([&] {
    Found f = find_typed(
        *data_, key, false, [](GgufType t) { return t == GgufType::kString; }, "string");
    return std::string(f.cur.string(key));
  });
}

Result<int64_t> GgufFile::get_int(const std::string& key) const {
  return catch_errors([&] {
    Found f = find_typed(*data_, key, false, is_integer, "an integer");
    return int_at(f.cur, f.type, fmt::format("{}: metadata \"{}\"", data_->source, key));
  });
}

Result<double> GgufFile::get_float(const std::string& key) const {
  return catch_errors([&] {
    Found f = find_typed(*data_, key, false, is_float, "f32 or f64");
    return scalar_json(f.cur, f.type).get<double>();
  });
}

Result<bool> GgufFile::get_bool(const std::string& key) const {
  return catch_errors([&] {
    Found f = find_typed(
        *data_, key, false, [](GgufType t) { return t == GgufType::kBool; }, "bool");
    return read_bits(f.cur, f.type) != 0;
  });
}

Result<std::vector<std::string>> GgufFile::get_string_array(const std::string& key) const {
  return catch_errors([&] {
    Found f = find_typed(
        *data_, key, true, [](GgufType t) { return t == GgufType::kString; }, "an array of string");
    std::vector<std::string> out;
    out.reserve(f.count);  // validated at parse time: count strings fit in the file
    for (uint64_t i = 0; i < f.count; ++i) out.emplace_back(f.cur.string(key));
    return out;
  });
}

Result<std::vector<int64_t>> GgufFile::get_int_array(const std::string& key) const {
  return catch_errors([&] {
    Found f = find_typed(*data_, key, true, is_integer, "an array of integers");
    const std::string what = fmt::format("{}: metadata \"{}\"", data_->source, key);
    std::vector<int64_t> out;
    out.reserve(f.count);
    for (uint64_t i = 0; i < f.count; ++i) out.push_back(int_at(f.cur, f.type, what));
    return out;
  });
}

Result<std::vector<double>> GgufFile::get_float_array(const std::string& key) const {
  return catch_errors([&] {
    Found f = find_typed(*data_, key, true, is_float, "an array of f32 or f64");
    std::vector<double> out;
    out.reserve(f.count);
    for (uint64_t i = 0; i < f.count; ++i) out.push_back(scalar_json(f.cur, f.type).get<double>());
    return out;
  });
}

json GgufFile::metadata_json() const {
  json out = json::object();
  for (const GgufEntry& e : data_->entries) out[e.key] = gguf_value_json(*data_, e);
  return out;
}

json GgufFile::value_json(const std::string& key) const {
  const auto it = data_->key_index.find(key);
  if (it == data_->key_index.end()) return nullptr;
  return gguf_value_json(*data_, data_->entries[it->second]);
}

}  // namespace mlhub::io
