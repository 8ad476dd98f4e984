// Periodic progress counts on stderr for long batches: "identify: 1200/2988 (40%), 850/s".
// Quiet for short runs (nothing is printed before the first interval passes) and when
// disabled. Thread-safe: Advance() may be called from any worker.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>

namespace sentinel::app {

class Progress {
 public:
  Progress(std::string label, std::size_t total, bool enabled);
  ~Progress();  // prints the final count if anything was printed before
  void Advance(std::size_t n = 1);

 private:
  void Print(std::size_t done, bool final_line);

  std::string label_;
  std::size_t total_;
  bool enabled_;
  bool tty_;
  std::atomic<std::size_t> done_{0};
  std::mutex mu_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
  bool printed_ = false;
};

}  // namespace sentinel::app
