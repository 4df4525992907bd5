// Helpers of the GGUF tests: fixture paths, the real SmolLM2 file, and a byte-level GGUF
// builder for hostile files.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "io_test_util.h"
#include "mlhub/io.h"

namespace mlhub::io::testing {

inline std::filesystem::path gguf_dir() {
  return data_dir() / "gguf";
}

inline std::filesystem::path smollm2_gguf() {
  return std::filesystem::path(MLHUB_MODELS_DIR) / "SmolLM2-135M-Instruct.Q4_1.gguf";
}

// Opens the real SmolLM2 GGUF; a missing file is a test failure, not a skip.
#define MLHUB_OPEN_SMOLLM2(var)                                                          \
  ASSERT_TRUE(std::filesystem::exists(::mlhub::io::testing::smollm2_gguf()))             \
      << ::mlhub::io::testing::smollm2_gguf() << " is missing: run scripts/setup";       \
  auto var##_result = ::mlhub::io::GgufFile::open(::mlhub::io::testing::smollm2_gguf()); \
  ASSERT_TRUE(var##_result.ok()) << var##_result.status().to_string();                   \
  const ::mlhub::io::GgufFile& var = *var##_result

// Writes GGUF structures field by field (little-endian), so tests can build broken files.
class GgufBuilder {
 public:
  GgufBuilder& raw(std::string_view b) {
    out_.append(b);
    return *this;
  }
  GgufBuilder& u8(uint8_t v) { return le(v, 1); }
  GgufBuilder& u32(uint32_t v) { return le(v, 4); }
  GgufBuilder& u64(uint64_t v) { return le(v, 8); }
  GgufBuilder& str(std::string_view s) { return u64(s.size()).raw(s); }
  GgufBuilder& header(uint64_t n_tensors, uint64_t n_kv, uint32_t version = 3) {
    return raw("GGUF").u32(version).u64(n_tensors).u64(n_kv);
  }
  GgufBuilder& kv_u32(std::string_view key, uint32_t v) { return str(key).u32(4).u32(v); }
  GgufBuilder& kv_str(std::string_view key, std::string_view v) { return str(key).u32(8).str(v); }
  // `ne` in ggml order (fastest dimension first).
  GgufBuilder& tensor(std::string_view name, const std::vector<uint64_t>& ne, uint32_t type,
                      uint64_t offset) {
    str(name).u32(static_cast<uint32_t>(ne.size()));
    for (uint64_t d : ne) u64(d);
    return u32(type).u64(offset);
  }
  GgufBuilder& pad(size_t alignment = 32) {
    while (out_.size() % alignment != 0) out_ += '\0';
    return *this;
  }
  GgufBuilder& zeros(size_t n) {
    out_.append(n, '\0');
    return *this;
  }
  const std::string& bytes() const { return out_; }

 private:
  GgufBuilder& le(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_ += static_cast<char>((v >> (8 * i)) & 0xff);
    return *this;
  }
  std::string out_;
};

}  // namespace mlhub::io::testing
