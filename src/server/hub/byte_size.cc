// parse_byte_size / format_byte_size (include/mlhub/server.h): sizes in plans, limits and
// messages. Kept apart from serve.cc so the inference metering links without the whole server.
#include <cctype>
#include <cmath>
#include <cstdio>
#include <utility>

#include "mlhub/server.h"

namespace mlhub::server {

Result<uint64_t> parse_byte_size(std::string_view text) {
  const std::string original(text);
  auto bad = [&](const std::string& why) {
    return Status::invalid_argument("invalid size '" + original + "': " + why +
                                    " (write e.g. 500MB, 1.5GB, 2GiB or a number of bytes)");
  };
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  if (!text.empty() && text.front() == '-') return bad("it is negative");
  size_t i = 0;
  double whole = 0, fraction = 0, scale = 1;
  size_t digits = 0;
  for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, ++digits) whole = whole * 10 + (text[i] - '0');
  if (i < text.size() && text[i] == '.') {
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i, ++digits) {
      scale /= 10;
      fraction += (text[i] - '0') * scale;
    }
  }
  if (digits == 0) return bad("no number");
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  std::string unit;
  for (; i < text.size(); ++i) unit += static_cast<char>(std::tolower(static_cast<unsigned char>(text[i])));
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1},         {"b", 1},          {"k", 1e3},           {"kb", 1e3},          {"m", 1e6},
      {"mb", 1e6},     {"g", 1e9},        {"gb", 1e9},          {"t", 1e12},          {"tb", 1e12},
      {"ki", 1024.0},  {"kib", 1024.0},   {"mi", 1048576.0},    {"mib", 1048576.0},   {"gi", 1073741824.0},
      {"gib", 1073741824.0}, {"ti", 1099511627776.0}, {"tib", 1099511627776.0}};
  for (const auto& [name, multiplier] : kUnits) {
    if (unit != name) continue;
    const double bytes = std::round((whole + fraction) * multiplier);
    if (bytes >= 9.2e18) return bad("too large");
    return static_cast<uint64_t>(bytes);
  }
  return bad("unknown unit '" + unit + "'");
}

std::string format_byte_size(uint64_t bytes) {
  static const std::pair<const char*, double> kUnits[] = {{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"kB", 1e3}};
  for (const auto& [name, size] : kUnits) {
    if (static_cast<double>(bytes) < size) continue;
    const double v = static_cast<double>(bytes) / size;
    char buf[32];
    // One decimal where it matters (1.2 GB), none where it is noise (500 MB, 12 GB).
    if (v < 9.95 && std::lround(v * 10) % 10 != 0) {
      std::snprintf(buf, sizeof buf, "%.1f %s", v, name);
    } else {
      std::snprintf(buf, sizeof buf, "%.0f %s", v, name);
    }
    return buf;
  }
  return std::to_string(bytes) + " B";
}

}  // namespace mlhub::server
