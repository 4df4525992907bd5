// Helpers of the io tests: fixture paths, the expected values torch wrote (expected.json, made
// by tools/reference/gen_io_fixtures.py), exact element reads, and a tiny pickle writer for
// building hostile pickles opcode by opcode.
#pragma once

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <unistd.h>
#include <string>
#include <vector>

#include "mlhub/io.h"

namespace mlhub::io::testing {

inline std::filesystem::path data_dir() {
  return std::filesystem::path(MLHUB_SOURCE_DIR) / "tests" / "data" / "io";
}

inline std::string read_bytes(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline void write_bytes(const std::filesystem::path& p, std::string_view bytes) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline const nlohmann::json& expected() {
  static const nlohmann::json j = nlohmann::json::parse(read_bytes(data_dir() / "expected.json"));
  return j;
}

// A fresh empty folder under the system temp dir, removed by the destructor.
class TempDir {
 public:
  explicit TempDir(const std::string& name) {
    path_ = std::filesystem::temp_directory_path() /
            ("mlhub_io_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Every element of `t` in row-major order, read exactly through its strides: floats as double,
// integers (and bool) as int64 stored in a double only when it is exact, so both are compared
// separately.
struct Elements {
  std::vector<double> floats;
  std::vector<int64_t> ints;
};

inline Elements elements(const Tensor& t) {
  Elements out;
  const auto* base = static_cast<const std::byte*>(t.raw_data());
  const int64_t n = t.numel();
  std::vector<int64_t> index(t.shape().size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < index.size(); ++d) off += index[d] * t.strides()[d];
    const std::byte* p = base + off * static_cast<int64_t>(dtype_size(t.dtype()));
    const auto load = [&](auto v) {
      std::memcpy(&v, p, sizeof(v));
      return v;
    };
    switch (t.dtype()) {
      case DType::kF32: out.floats.push_back(load(float{})); break;
      case DType::kF64: out.floats.push_back(load(double{})); break;
      case DType::kF16: out.floats.push_back(f16_to_f32(load(uint16_t{}))); break;
      case DType::kBF16: out.floats.push_back(bf16_to_f32(load(uint16_t{}))); break;
      case DType::kI64: out.ints.push_back(load(int64_t{})); break;
      case DType::kI32: out.ints.push_back(load(int32_t{})); break;
      case DType::kI16: out.ints.push_back(load(int16_t{})); break;
      case DType::kI8: out.ints.push_back(load(int8_t{})); break;
      case DType::kU8:
      case DType::kBool: out.ints.push_back(load(uint8_t{})); break;
      default: ADD_FAILURE() << "quantized dtype in a plain-tensor fixture"; return out;
    }
    for (size_t d = index.size(); d-- > 0;) {
      if (++index[d] < t.shape()[d]) break;
      index[d] = 0;
    }
  }
  return out;
}

// Checks name, dtype, shape and every value of `t` against an expected.json entry.
inline void expect_tensor_equals(const std::string& name, const Tensor& t,
                                 const nlohmann::json& want) {
  SCOPED_TRACE("tensor " + name);
  ASSERT_TRUE(t.defined());
  EXPECT_EQ(std::string(dtype_name(t.dtype())), want["dtype"].get<std::string>());
  EXPECT_EQ(t.shape(), want["shape"].get<Shape>());
  const Elements e = elements(t);
  const bool is_float = t.dtype() == DType::kF32 || t.dtype() == DType::kF64 ||
                        t.dtype() == DType::kF16 || t.dtype() == DType::kBF16;
  if (is_float) {
    const auto values = want["values"].get<std::vector<double>>();
    ASSERT_EQ(e.floats.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(e.floats[i], values[i]) << "index " << i;
  } else {
    const auto values = want["values"].get<std::vector<int64_t>>();
    ASSERT_EQ(e.ints.size(), values.size());
    for (size_t i = 0; i < values.size(); ++i) EXPECT_EQ(e.ints[i], values[i]) << "index " << i;
  }
}

// Checks that `status` has `code` and that its message contains `needle`.
#define EXPECT_STATUS(status_expr, code_, needle)                                     \
  do {                                                                                \
    const ::mlhub::Status st_ = (status_expr);                                        \
    EXPECT_EQ(st_.code(), (code_)) << st_.to_string();                                \
    EXPECT_NE(st_.message().find(needle), std::string::npos) << st_.to_string();      \
  } while (0)

// Writes pickle opcodes (protocol 2).
class PickleWriter {
 public:
  PickleWriter& raw(std::string_view b) { out_.append(b); return *this; }
  PickleWriter& op(char c) { out_ += c; return *this; }
  PickleWriter& proto() { return raw(std::string_view("\x80\x02", 2)); }
  PickleWriter& mark() { return op('('); }
  PickleWriter& str(std::string_view s) {
    op('X');
    le(s.size(), 4);
    return raw(s);
  }
  PickleWriter& int1(uint8_t v) { op('K'); le(v, 1); return *this; }
  PickleWriter& int4(int32_t v) { op('J'); le(static_cast<uint32_t>(v), 4); return *this; }
  PickleWriter& global(std::string_view module, std::string_view name) {
    op('c');
    raw(module);
    op('\n');
    raw(name);
    return op('\n');
  }
  PickleWriter& put(uint8_t i) { op('q'); le(i, 1); return *this; }
  PickleWriter& get(uint8_t i) { op('h'); le(i, 1); return *this; }
  PickleWriter& long_get(uint32_t i) { op('j'); le(i, 4); return *this; }
  PickleWriter& tuple() { return op('t'); }
  PickleWriter& empty_tuple() { return op(')'); }
  PickleWriter& empty_dict() { return op('}'); }
  PickleWriter& reduce() { return op('R'); }
  PickleWriter& persid() { return op('Q'); }
  PickleWriter& setitems() { return op('u'); }
  PickleWriter& stop() { return op('.'); }
  PickleWriter& newfalse() { return op('\x89'); }
  // ('storage', torch.<type>, key, 'cpu', numel) followed by BINPERSID.
  PickleWriter& storage(std::string_view type, std::string_view key, uint8_t numel) {
    mark().str("storage").global("torch", type).str(key).str("cpu").int1(numel).tuple();
    return persid();
  }
  // _rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict()).
  PickleWriter& tensor(std::string_view type, std::string_view key, uint8_t numel, uint8_t offset,
                       const std::vector<uint8_t>& size, const std::vector<uint8_t>& stride) {
    global("torch._utils", "_rebuild_tensor_v2").mark();
    storage(type, key, numel).int1(offset);
    mark();
    for (uint8_t s : size) int1(s);
    tuple().mark();
    for (uint8_t s : stride) int1(s);
    tuple().newfalse().global("collections", "OrderedDict").empty_tuple().reduce().tuple();
    return reduce();
  }
  const std::string& bytes() const { return out_; }

 private:
  void le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_ += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  std::string out_;
};

// {name: tensor} as a complete pickle.
inline std::string one_tensor_pickle(std::string_view type, uint8_t numel, uint8_t offset,
                                     const std::vector<uint8_t>& size,
                                     const std::vector<uint8_t>& stride) {
  PickleWriter w;
  w.proto().empty_dict().mark().str("w").tensor(type, "0", numel, offset, size, stride);
  return w.setitems().stop().bytes();
}

}  // namespace mlhub::io::testing
