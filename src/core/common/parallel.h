// Running independent jobs on every core.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace sentinel {

// Calls job(i) once for every i in [0, n), on as many threads as the machine has cores (never
// more than n; the caller's thread is one of them), and returns when all are done. Jobs are
// taken in index order, one at a time, so uneven jobs balance; job must be safe to call from
// several threads at once for different i, and results kept per index make the outcome
// independent of the number of threads.
template <typename Job>
void ParallelFor(std::size_t n, const Job& job) {
  std::atomic<std::size_t> next{0};
  const auto work = [&] {
    for (std::size_t i; (i = next.fetch_add(1)) < n;) job(i);
  };
  const std::size_t threads =
      std::min<std::size_t>(std::max(1U, std::thread::hardware_concurrency()), n);
  std::vector<std::thread> pool;
  for (std::size_t t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (std::thread& t : pool) t.join();
}

}  // namespace sentinel
