// Private pieces of the GGUF reader shared by gguf.cc, gguf_metadata.cc, gguf_hf.cc and
// gguf_tokenizer.cc.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "io/io_internal.h"

namespace mlhub::io {

// Where one metadata value lies in the image; decoded on demand (parse only validated it).
struct GgufEntry {
  std::string key;
  GgufType type;
  uint64_t value_offset;  // image offset of the value (after the key and its type)
};

struct GgufData {
  std::shared_ptr<const void> owner;  // keeps `image` alive
  const std::byte* image = nullptr;
  size_t size = 0;
  std::string source;
  uint32_t version = 0;
  uint64_t alignment = 32;
  uint64_t data_offset = 0;
  std::vector<GgufEntry> entries;
  std::vector<std::string> keys;
  std::map<std::string, size_t, std::less<>> key_index;
  std::vector<GgufTensorInfo> tensors;
  std::map<std::string, size_t, std::less<>> tensor_index;
};

// A bounds-checked little-endian reader over [0, size) of an image. Running past the end
// throws kCorruption naming what was being read and where.
class GgufCursor {
 public:
  GgufCursor(const std::byte* data, size_t size, uint64_t pos = 0)
      : data_(data), size_(size), pos_(pos) {}
  uint64_t pos() const { return pos_; }
  uint64_t remaining() const { return pos_ <= size_ ? size_ - pos_ : 0; }
  void need(uint64_t n, std::string_view what) const;
  void skip(uint64_t n, std::string_view what) {
    need(n, what);
    pos_ += n;
  }
  uint64_t uint(int bytes, std::string_view what);  // 1, 2, 4 or 8 bytes
  std::string_view string(std::string_view what);   // u64 length + bytes (a view)
  const std::byte* at(uint64_t pos) const { return data_ + pos; }

 private:
  const std::byte* data_;
  size_t size_;
  uint64_t pos_;
};

// Size in bytes of a scalar value type, 0 for string and array, -1 for an unknown type id.
int gguf_scalar_size(uint32_t type);
// Validates one value of `type` at the cursor and moves past it (arrays recursively, at most
// kGgufMaxArrayDepth deep). `what` names the key for messages.
void gguf_skip_value(GgufCursor& cur, uint32_t type, const std::string& what, int depth = 0);
// Decodes the (already validated) value of `e` as JSON.
nlohmann::json gguf_value_json(const GgufData& d, const GgufEntry& e);

// What transformers' load_gguf_checkpoint makes of the file (gguf_hf.cc). Throw mlhub::Error.
// general.architecture (kCorruption when missing or not a string).
std::string gguf_architecture(const GgufFile& f);
// "mistral" for a llama file named exactly "mistral", else `arch` (transformers' rename).
std::string gguf_updated_architecture(const GgufFile& f, const std::string& arch);
// A metadata value as _gguf_parse_value reads it: one-element arrays become their element, and
// `arch` inside strings becomes `updated`.
nlohmann::json gguf_parsed_value(const GgufFile& f, const std::string& key, std::string_view arch,
                                 std::string_view updated);

}  // namespace mlhub::io
