// Progress bars of the hub client: one line per file on stderr, redrawn with '\r', only when
// stderr is a terminal.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <mutex>

#include "hub/internal.h"

namespace mlhub::hub::internal {
namespace {

std::mutex& draw_mutex() {
  static std::mutex mu;
  return mu;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

std::string format_bytes(double bytes) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  int unit = 0;
  while (bytes >= 1000.0 && unit < 4) {
    bytes /= 1000.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, unit == 0 ? "%.0f%s" : "%.1f%s", bytes, kUnits[unit]);
  return buf;
}

ProgressBar::ProgressBar(bool enabled, std::string name, uint64_t total, uint64_t initial)
    : enabled_(enabled && ::isatty(STDERR_FILENO) == 1),
      name_(std::move(name)),
      total_(total),
      initial_(initial),
      done_(initial),
      start_ms_(now_ms()) {}

ProgressBar::~ProgressBar() {
  if (enabled_) draw(true);
}

void ProgressBar::update(uint64_t done) {
  if (!enabled_) return;
  done_ = done;
  const int64_t t = now_ms();
  if (t - last_ms_ < 100) return;
  last_ms_ = t;
  draw(false);
}

void ProgressBar::draw(bool final_line) {
  const double seconds = std::max<int64_t>(now_ms() - start_ms_, 1) / 1000.0;
  const double speed = static_cast<double>(done_ - std::min(done_, initial_)) / seconds;
  std::string name = name_;
  if (name.size() > 40) name = "..." + name.substr(name.size() - 37);
  std::string line = name + "  " + format_bytes(static_cast<double>(done_));
  if (total_ > 0) {
    line += " / " + format_bytes(static_cast<double>(total_));
    line += "  " + std::to_string(done_ * 100 / total_) + "%";
  }
  line += "  " + format_bytes(speed) + "/s";
  std::lock_guard<std::mutex> lock(draw_mutex());
  std::fprintf(stderr, "\r%-78s%s", line.c_str(), final_line ? "\n" : "");
  std::fflush(stderr);
}

}  // namespace mlhub::hub::internal
