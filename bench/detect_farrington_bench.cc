// Farrington throughput: --count (default 100,000) weekly series of ten years, each judged at its
// latest week (the question asked every week in operation), with the original and the Noufaily
// settings, on --threads threads (default 2). The target: under 10 s for 100,000 series
// on 2 cores.
//
// Series: seasonal Poisson counts (mean 0.5 to 50, seeded), a tenth of them with an outbreak in
// the judged week. Baseline, measured in the same run: the same judgement on one thread over the
// first --baseline (default 5,000) series; the ratio is the throughput gained over it.
// --write-series=FILE writes those baseline series (one column each) for R's farringtonFlexible
// to judge: bench/detect_farrington_bench.sh does that and prints the ratio against R.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/detect/farrington.h"

namespace sentinel::bench {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::vector<detect::CountSeries> MakeSeries(std::size_t count) {
  std::mt19937_64 rng(20260101);
  std::uniform_real_distribution<double> level(0.5, 50);
  std::vector<detect::CountSeries> out(count);
  for (std::size_t s = 0; s < count; ++s) {
    const double mean = level(rng);
    detect::CountSeries& series = out[s];
    for (int t = 0; t < 520; ++t) {
      const double m = mean * (1 + 0.4 * std::sin(2 * M_PI * t / 52.0)) * (1 + 0.0005 * t);
      std::poisson_distribution<int> counts(m);
      series.time.push_back(t);
      series.observed.push_back(counts(rng));
    }
    if (s % 10 == 0) series.observed.back() += 3 * std::sqrt(mean) + 5;
  }
  return out;
}

// One column per series, one row per week.
void WriteSeries(const std::vector<detect::CountSeries>& series, std::size_t n,
                 const std::string& path) {
  std::ofstream out(path);
  for (std::size_t s = 0; s < n; ++s) out << (s ? "," : "") << 's' << s;
  out << '\n';
  for (std::size_t t = 0; t < series.front().observed.size(); ++t) {
    for (std::size_t s = 0; s < n; ++s) out << (s ? "," : "") << series[s].observed[t];
    out << '\n';
  }
}

struct Tally {
  std::size_t alarms = 0, judged = 0;
};

Tally JudgeAll(const std::vector<detect::CountSeries>& series, std::size_t n, unsigned threads,
               const detect::FarringtonOptions& options) {
  std::atomic<std::size_t> next{0}, alarms{0}, judged{0};
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      std::size_t a = 0, j = 0;
      for (std::size_t i; (i = next.fetch_add(1)) < n;) {
        const std::size_t last = series[i].observed.size();
        const auto got = detect::Farrington(series[i], last - 1, last, options);
        a += got.front().alarm.value_or(false) ? 1 : 0;
        j += got.front().upperbound.has_value() ? 1 : 0;
      }
      alarms += a;
      judged += j;
    });
  }
  for (auto& th : pool) th.join();
  return {alarms.load(), judged.load()};
}

}  // namespace
}  // namespace sentinel::bench

int main(int argc, char** argv) {
  using namespace sentinel;
  using bench::Clock;
  std::size_t count = 100000, baseline = 5000;
  unsigned threads = 2;
  std::string write_series;
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--count=", 8)) count = std::strtoul(argv[i] + 8, nullptr, 10);
    if (!std::strncmp(argv[i], "--baseline=", 11))
      baseline = std::strtoul(argv[i] + 11, nullptr, 10);
    if (!std::strncmp(argv[i], "--threads=", 10))
      threads = static_cast<unsigned>(std::atoi(argv[i] + 10));
    if (!std::strncmp(argv[i], "--write-series=", 15)) write_series = argv[i] + 15;
  }
  baseline = std::min(baseline, count);
  const auto series = bench::MakeSeries(count);
  if (!write_series.empty()) bench::WriteSeries(series, baseline, write_series);
  std::printf("farrington benchmark: %zu weekly series of 520 weeks, latest week judged\n", count);
  const struct {
    const char* name;
    detect::FarringtonOptions options;
  } presets[] = {{"original", detect::FarringtonOriginal()}, {"noufaily", detect::Noufaily()}};
  for (const auto& p : presets) {
    auto t0 = Clock::now();
    const bench::Tally one = bench::JudgeAll(series, baseline, 1, p.options);
    const double one_rate = static_cast<double>(baseline) / bench::Seconds(Clock::now() - t0);
    t0 = Clock::now();
    const bench::Tally all = bench::JudgeAll(series, count, threads, p.options);
    const double secs = bench::Seconds(Clock::now() - t0);
    const double rate = static_cast<double>(count) / secs;
    std::printf("  %-9s %u threads: %9.0f series/s (%.2f s; %zu bounds, %zu alarms)\n", p.name,
                threads, rate, secs, all.judged, all.alarms);
    std::printf("  %-9s 1 thread  : %9.0f series/s (%zu series; %zu alarms)\n", p.name, one_rate,
                baseline, one.alarms);
    std::printf("  %-9s ratio %u threads / 1 thread: %.2fx; target (100,000 in < 10 s): %s\n",
                p.name, threads, rate / one_rate, rate * 10 >= 100000 ? "met" : "NOT met");
  }
  return 0;
}
