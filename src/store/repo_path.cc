// Validation of client-supplied repo paths and branch/tag names. Both run on raw (already
// percent-decoded) user input, before anything touches git or the disk.
#include <cstdio>
#include <optional>

#include "mlhub/store.h"

namespace mlhub::store {

namespace {

constexpr size_t kMaxPathBytes = 4096;
constexpr size_t kMaxRefBytes = 1024;
constexpr size_t kMaxRefComponentBytes = 200;  // a loose ref is a file named <component>.lock first

// The first control character: C0 (< 0x20), DEL, or a C1 control (U+0080-U+009F, encoded as
// C2 80-9F). `s` must be valid UTF-8.
std::optional<size_t> control_char(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F) return i;
    if (c == 0xC2 && i + 1 < s.size() && static_cast<unsigned char>(s[i + 1]) <= 0x9F) return i;
  }
  return std::nullopt;
}

std::string hex_byte(std::string_view s, size_t at) {
  char buf[8];
  std::snprintf(buf, sizeof(buf), "0x%02X", static_cast<unsigned>(static_cast<unsigned char>(s[at])));
  return buf;
}

// `s` quoted for an error message: valid UTF-8 (messages end up in JSON), control characters
// and non-UTF-8 bytes as \xNN, cut after 200 bytes.
std::string quoted(std::string_view s) {
  const bool utf8 = !find_invalid_utf8(s).has_value();
  std::string out = "'";
  for (size_t i = 0; i < s.size() && i < 200; ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && !utf8)) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\x%02X", static_cast<unsigned>(c));
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > 200) {
    // Do not end inside a multi-byte character.
    while (out.size() > 1 && (static_cast<unsigned char>(out.back()) & 0xC0) == 0x80) out.pop_back();
    if (out.size() > 1 && static_cast<unsigned char>(out.back()) >= 0xC0) out.pop_back();
    out += "...";
  }
  return out + "'";
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Checks shared by paths and ref names: length, UTF-8, control characters.
Status check_text(std::string_view s, std::string_view what, size_t max_bytes) {
  if (s.empty()) return Status::invalid_argument(std::string(what) + " is empty");
  if (s.size() > max_bytes) {
    return Status::invalid_argument(std::string(what) + " is longer than " + std::to_string(max_bytes) +
                                    " bytes: " + quoted(s));
  }
  if (auto at = find_invalid_utf8(s)) {
    return Status::invalid_argument(std::string(what) + " " + quoted(s) + " is not valid UTF-8 (byte " +
                                    hex_byte(s, *at) + " at offset " + std::to_string(*at) + ")");
  }
  if (auto at = control_char(s)) {
    return Status::invalid_argument(std::string(what) + " " + quoted(s) + " contains a control character (" +
                                    hex_byte(s, *at) + " at offset " + std::to_string(*at) + ")");
  }
  return Status();
}

// True when `segment` percent-decodes to "." or ".." (e.g. "%2e%2E", ".%2e").
bool decodes_to_dots(std::string_view segment) {
  size_t dots = 0;
  for (size_t i = 0; i < segment.size();) {
    if (segment[i] == '.') {
      ++i;
    } else if (segment[i] == '%' && i + 2 < segment.size() && segment[i + 1] == '2' && (segment[i + 2] == 'e' || segment[i + 2] == 'E')) {
      i += 3;
    } else {
      return false;
    }
    ++dots;
  }
  return dots >= 1 && dots <= 2;
}

}  // namespace

Status validate_repo_path(std::string_view path) {
  if (Status s = check_text(path, "path", kMaxPathBytes); !s.ok()) return s;
  auto bad = [&](std::string_view problem) {
    return Status::invalid_argument("invalid path " + quoted(path) + ": " + std::string(problem));
  };
  if (path.find('\\') != std::string_view::npos) return bad("contains a backslash");
  if (path.front() == '/') return bad("starts with '/'");
  size_t begin = 0;
  while (true) {
    const size_t end = std::min(path.find('/', begin), path.size());
    const std::string_view segment = path.substr(begin, end - begin);
    if (segment.empty()) return bad("has an empty segment");
    if (segment == "." || segment == "..") return bad("has a '" + std::string(segment) + "' segment");
    // Clients that send paths unencoded (JS) would have "%2e%2e" decoded to ".." by any router
    // on the way: refuse segments that become "." or ".." once percent-decoded.
    if (decodes_to_dots(segment)) return bad("has a segment that percent-decodes to '.' or '..'");
    // Case-insensitively: ".GIT" is ".git" on case-insensitive file systems of clones.
    if (iequals(segment, ".git")) return bad("has a '.git' segment");
    if (end == path.size()) break;
    begin = end + 1;
  }
  return Status();
}

// `git check-ref-format --branch` rules (git-check-ref-format(1)), plus valid UTF-8 and a length
// limit so that every ref fits in a file name.
Status validate_ref_name(std::string_view name) {
  if (Status s = check_text(name, "ref name", kMaxRefBytes); !s.ok()) return s;
  auto bad = [&](std::string_view problem) {
    return Status::invalid_argument("invalid ref name " + quoted(name) + ": " + std::string(problem));
  };
  for (char c : name) {
    if (c == ' ' || c == '~' || c == '^' || c == ':' || c == '?' || c == '*' || c == '[' || c == '\\') {
      return bad(std::string("contains '") + c + "'");
    }
  }
  if (name == "@") return bad("is '@'");
  if (name == "HEAD") return bad("is 'HEAD'");
  if (name.find("@{") != std::string_view::npos) return bad("contains '@{'");
  if (name.find("..") != std::string_view::npos) return bad("contains '..'");
  if (name.front() == '-') return bad("starts with '-'");
  if (name.front() == '/' || name.back() == '/') return bad("starts or ends with '/'");
  if (name.back() == '.') return bad("ends with '.'");
  size_t begin = 0;
  while (true) {
    const size_t end = std::min(name.find('/', begin), name.size());
    const std::string_view component = name.substr(begin, end - begin);
    if (component.empty()) return bad("has an empty component ('//')");
    if (component.front() == '.') return bad("has a component starting with '.'");
    if (component.size() >= 5 && component.substr(component.size() - 5) == ".lock") {
      return bad("has a component ending with '.lock'");
    }
    if (component.size() > kMaxRefComponentBytes) return bad("has a component longer than 200 bytes");
    if (end == name.size()) break;
    begin = end + 1;
  }
  return Status();
}

}  // namespace mlhub::store
