// git-lfs pointer files (https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md).
#include <limits>

#include "mlhub/store.h"

namespace mlhub::store {

namespace {
constexpr std::string_view kVersionLine = "version https://git-lfs.github.com/spec/v1\n";
constexpr std::string_view kOidPrefix = "oid sha256:";
constexpr std::string_view kSizePrefix = "size ";
constexpr size_t kMaxPointerSize = 1024;  // git-lfs never reads a blob larger than this as a pointer
}  // namespace

std::string format_lfs_pointer(const LfsPointer& pointer) {
  // git-lfs encodes an empty file as an empty blob (Pointer.Encoded() returns "" for size 0;
  // `git lfs pointer --file=empty` prints nothing), so a size-0 pointer has no text.
  if (pointer.size == 0) return "";
  std::string out;
  out.reserve(kVersionLine.size() + kOidPrefix.size() + pointer.oid.size() + 32);
  out += kVersionLine;
  out += kOidPrefix;
  out += pointer.oid;
  out += '\n';
  out += kSizePrefix;
  out += std::to_string(pointer.size);
  out += '\n';
  return out;
}

// Only the canonical form git-lfs writes: the three keys in spec order, each line ending in
// '\n', a lowercase sha256 and a decimal size without sign or leading zeros that fits in int64
// (git-lfs parses sizes as int64). Extension keys ("ext-0-foo") are not accepted.
std::optional<LfsPointer> parse_lfs_pointer(std::string_view text) {
  if (text.size() > kMaxPointerSize) return std::nullopt;
  if (text.substr(0, kVersionLine.size()) != kVersionLine) return std::nullopt;
  text.remove_prefix(kVersionLine.size());

  if (text.substr(0, kOidPrefix.size()) != kOidPrefix) return std::nullopt;
  text.remove_prefix(kOidPrefix.size());
  const size_t oid_end = text.find('\n');
  if (oid_end == std::string_view::npos) return std::nullopt;
  LfsPointer pointer;
  pointer.oid = std::string(text.substr(0, oid_end));
  if (!is_lower_hex(pointer.oid, 64)) return std::nullopt;
  text.remove_prefix(oid_end + 1);

  if (text.substr(0, kSizePrefix.size()) != kSizePrefix) return std::nullopt;
  text.remove_prefix(kSizePrefix.size());
  const size_t size_end = text.find('\n');
  // The size line is the last one: exactly one '\n' after the digits, nothing else.
  if (size_end == std::string_view::npos || size_end + 1 != text.size()) return std::nullopt;
  const std::string_view digits = text.substr(0, size_end);
  if (digits.empty() || digits.size() > 19 || (digits.size() > 1 && digits[0] == '0')) {
    return std::nullopt;
  }
  uint64_t size = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    size = size * 10 + static_cast<uint64_t>(c - '0');  // 19 digits cannot overflow uint64
  }
  if (size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
  pointer.size = size;
  return pointer;
}

}  // namespace mlhub::store
