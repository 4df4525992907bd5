#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

#include "mlhub/core.h"

namespace mlhub {
namespace {

LogLevel level_from_env() {
  const char* v = std::getenv("MLHUB_LOG");
  if (v == nullptr) return LogLevel::kWarning;
  std::string s(v);
  if (s == "debug") return LogLevel::kDebug;
  if (s == "info") return LogLevel::kInfo;
  if (s == "error") return LogLevel::kError;
  if (s == "off") return LogLevel::kOff;
  return LogLevel::kWarning;
}

std::atomic<LogLevel>& level_ref() {
  static std::atomic<LogLevel> level{level_from_env()};
  return level;
}

}  // namespace

void set_log_level(LogLevel level) { level_ref().store(level); }
LogLevel log_level() { return level_ref().load(); }

void log(LogLevel level, std::string_view message) {
  if (level < log_level() || level == LogLevel::kOff) return;
  static std::mutex mu;
  static const char kTags[] = {'D', 'I', 'W', 'E'};
  std::lock_guard<std::mutex> lock(mu);
  std::fprintf(stderr, "[mlhub %c] %.*s\n", kTags[static_cast<int>(level)],
               static_cast<int>(message.size()), message.data());
}

}  // namespace mlhub
