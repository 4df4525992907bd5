// Precompiled (tokenizers/src/normalizers/precompiled.rs + the spm_precompiled crate, spec
// 5.2): SentencePiece's precompiled_charsmap, a Darts-clone double array over UTF-8 keys whose
// values index a blob of NUL-terminated replacement strings. The charsmap comes from the file,
// so every array and blob access is bounds-checked; a lookup that would leave the array is
// treated as "no match" (the reference panics there).
#include <cstring>

#include "mlhub/core.h"
#include "tokenizers/normalizers/normalizers.h"
#include "tokenizers/unicode.h"

namespace mlhub::tok {
namespace {

class Precompiled final : public Normalizer {
 public:
  explicit Precompiled(std::string charsmap) {
    if (charsmap.size() < 4) {
      throw Error(StatusCode::kInvalidArgument, "cannot parse precompiled_charsmap");
    }
    auto* p = reinterpret_cast<const unsigned char*>(charsmap.data());
    uint32_t trie_size = p[0] | (p[1] << 8) | (p[2] << 16) | (static_cast<uint32_t>(p[3]) << 24);
    size_t units = trie_size / 4;
    if (units > (charsmap.size() - 4) / 4) {
      throw Error(StatusCode::kInvalidArgument,
                  "cannot parse precompiled_charsmap: trie truncated");
    }
    array_.resize(units);
    for (size_t i = 0; i < units; ++i) {
      const unsigned char* u = p + 4 + 4 * i;
      array_[i] = u[0] | (u[1] << 8) | (u[2] << 16) | (static_cast<uint32_t>(u[3]) << 24);
    }
    // Whatever follows the trie units (including the bytes of a trie size that is not a
    // multiple of 4) is the replacement blob, which must be valid UTF-8.
    blob_ = charsmap.substr(4 + 4 * units);
    if (unicode::find_invalid_utf8(blob_)) {
      throw Error(StatusCode::kInvalidArgument,
                  "precompiled_charsmap: replacements are not valid UTF-8");
    }
  }

  void normalize(NormalizedString& s) const override;

 private:
  static bool has_leaf(uint32_t u) { return (u >> 8) & 1; }
  static uint32_t value(uint32_t u) { return u & 0x7FFFFFFFu; }
  static uint32_t label(uint32_t u) { return u & (0x80000000u | 0xFFu); }
  static size_t offset(uint32_t u) { return static_cast<size_t>(u >> 10) << ((u & 0x200u) >> 6); }

  // The shortest-key hit of a common prefix search over `key`, as a blob offset.
  std::optional<uint32_t> first_hit(std::string_view key) const {
    if (array_.empty()) return std::nullopt;
    size_t pos = offset(array_[0]);
    for (char ch : key) {
      auto c = static_cast<unsigned char>(ch);
      if (c == 0) break;
      pos ^= c;
      if (pos >= array_.size()) return std::nullopt;
      uint32_t unit = array_[pos];
      if (label(unit) != c) return std::nullopt;
      pos ^= offset(unit);
      if (has_leaf(unit)) {
        if (pos >= array_.size()) return std::nullopt;
        return value(array_[pos]);
      }
    }
    return std::nullopt;
  }

  // The replacement for `chunk`, or nullopt when the trie has no prefix of it.
  std::optional<std::string_view> transform(std::string_view chunk) const {
    auto hit = first_hit(chunk);
    if (!hit) return std::nullopt;
    size_t index = *hit;
    if (index > blob_.size() ||
        (index < blob_.size() && (static_cast<unsigned char>(blob_[index]) & 0xC0) == 0x80)) {
      throw Error(StatusCode::kInvalidArgument,
                  "precompiled_charsmap: replacement offset is outside the string blob");
    }
    size_t end = blob_.find('\0', index);
    if (end == std::string::npos) end = blob_.size();
    return std::string_view(blob_).substr(index, end - index);
  }

  std::vector<uint32_t> array_;
  std::string blob_;
};

// Appends the stream for replacing `old_part` by `new_part` (precompiled.rs `replace`): all new
// chars 0; extra chars become +1 from the end; a shrink lowers the last change of the whole
// stream so far (lost when the stream is still empty).
void replace_stream(std::vector<NormalizedString::Change>& out, std::string_view old_part,
                    std::string_view new_part) {
  auto old_count = static_cast<int64_t>(unicode::char_count(old_part));
  auto new_count = static_cast<int64_t>(unicode::char_count(new_part));
  int64_t diff = new_count - old_count;
  size_t i = 0;
  while (i < new_part.size()) out.push_back({unicode::decode_utf8(new_part, i), 0});
  if (diff > 0) {
    for (size_t k = 0; k < static_cast<size_t>(diff) && k < out.size(); ++k) {
      out[out.size() - 1 - k].change = 1;
    }
  } else if (diff < 0 && !out.empty()) {
    out.back().change += static_cast<int32_t>(diff);
  }
}

void Precompiled::normalize(NormalizedString& s) const {
  const std::string& text = s.get();
  thread_local std::vector<NormalizedString::Change> changes;
  changes.clear();
  // The stream is only materialized from the first replacement on: before it, it is the
  // identity of text[0, copied) and costs nothing to rebuild.
  bool modified = false;
  auto start_stream = [&](size_t upto) {
    if (modified) return;
    modified = true;
    changes.reserve(text.size() + 16);
    size_t i = 0;
    while (i < upto) changes.push_back({unicode::decode_utf8(text, i), 0});
  };
  unicode::for_each_grapheme(text, [&](size_t start, size_t end) {
    std::string_view g = std::string_view(text).substr(start, end - start);
    if (g.size() < 6) {
      if (auto norm = transform(g)) {
        start_stream(start);
        replace_stream(changes, g, *norm);
        return;
      }
    }
    size_t i = 0;
    while (i < g.size()) {
      size_t b = i;
      char32_t c = unicode::decode_utf8(g, i);
      std::string_view part = g.substr(b, i - b);
      if (auto norm = transform(part)) {
        start_stream(start + b);
        replace_stream(changes, part, *norm);
      } else if (modified) {
        changes.push_back({c, 0});
      }
    }
  });
  if (modified) transform_like_reference(s, changes, 0);
}

}  // namespace

std::unique_ptr<Normalizer> make_precompiled(std::string charsmap) {
  return std::make_unique<Precompiled>(std::move(charsmap));
}

std::unique_ptr<Normalizer> precompiled_from_json(const JsonRef& j) {
  JsonRef v = j.at("precompiled_charsmap");
  auto bytes = base64_decode(v.str_view());
  if (!bytes) v.fail("invalid base64");
  try {
    return make_precompiled(std::move(*bytes));
  } catch (const Error& e) {
    v.fail(e.what());
  }
}

// ---- base64 ----

std::optional<std::string> base64_decode(std::string_view s) {
  auto sextet = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (s.size() % 4 == 1) return std::nullopt;
  size_t data_len = s.find('=');
  if (data_len == std::string_view::npos) data_len = s.size();
  size_t pad = s.size() - data_len;
  for (size_t i = data_len; i < s.size(); ++i) {
    if (s[i] != '=') return std::nullopt;
  }
  size_t rem = data_len % 4;
  if (rem == 1) return std::nullopt;
  if (pad > 0 && (rem == 0 || pad > 4 - rem)) return std::nullopt;
  std::string out;
  out.reserve(data_len / 4 * 3 + 2);
  uint32_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < data_len; ++i) {
    int v = sextet(s[i]);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return std::nullopt;  // trailing bits set
  return out;
}

}  // namespace mlhub::tok
