#include "app/progress.h"

#include <unistd.h>

#include <cstdio>

namespace sentinel::app {
namespace {
constexpr auto kInterval = std::chrono::milliseconds(1000);
}

Progress::Progress(std::string label, std::size_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      tty_(::isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

Progress::~Progress() {
  if (printed_) Print(done_.load(), true);
}

void Progress::Advance(std::size_t n) {
  const std::size_t done = done_.fetch_add(n) + n;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < kInterval) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (now - last_ < kInterval) return;
  last_ = now;
  Print(done, false);
}

void Progress::Print(std::size_t done, bool final_line) {
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  const double percent =
      total_ > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0;
  // On a terminal the line redraws in place; in a log each report is its own line. An unknown
  // total (0) shows the count alone.
  if (total_ > 0) {
    std::fprintf(stderr, "%s%s: %zu/%zu (%.0f%%), %.0f/s%s", tty_ ? "\r" : "", label_.c_str(), done,
                 total_, percent, rate, (tty_ && !final_line) ? "" : "\n");
  } else {
    std::fprintf(stderr, "%s%s: %zu, %.0f/s%s", tty_ ? "\r" : "", label_.c_str(), done, rate,
                 (tty_ && !final_line) ? "" : "\n");
  }
  std::fflush(stderr);
  printed_ = true;
}

}  // namespace sentinel::app
