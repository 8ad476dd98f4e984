// The space-time permutation scan (core/detect/scan.h) against the obvious implementation,
// measured in the same run.
//
// Data: --locations (default 200, about the demo node's subdivisions) places scattered over
// Europe with log-normal sizes, --weeks (default 52) weeks of Poisson(--cases-per-week, default
// 2,000) cases, each placed in proportion to its place's size; --window (default 4) weeks in a
// cylinder, half the cases at most in its base, prospective.
//
// Sentinel: detect::SpaceTimePermutationScan with --replicates (default 999), on every core: a
// replicate deals a random sample of case locations to the cases of the scanned weeks only, and
// counts every cylinder of a centre incrementally (each further place adds its window counts).
// Baseline ("obvious"): what a literal reading of Kulldorff et al. 2005 gives, on one core:
// every replicate shuffles the times of all cases, rebuilds the whole count table and counts
// each cylinder afresh from it; run for --baseline-replicates (default 20) and compared per
// replicate, and per core for fairness. Both must find the same largest ratio in the observed
// data (relative 1e-9), or the run fails.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/detect/scan.h"

namespace sentinel::bench {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

struct Args {
  int locations = 200, weeks = 52, window = 4, replicates = 999, baseline_replicates = 20;
  double cases_per_week = 2000;
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const double v = std::strtod(argv[i + 1], nullptr);
    if (flag == "--locations")
      a.locations = static_cast<int>(v);
    else if (flag == "--weeks")
      a.weeks = static_cast<int>(v);
    else if (flag == "--window")
      a.window = static_cast<int>(v);
    else if (flag == "--replicates")
      a.replicates = static_cast<int>(v);
    else if (flag == "--baseline-replicates")
      a.baseline_replicates = static_cast<int>(v);
    else if (flag == "--cases-per-week")
      a.cases_per_week = v;
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      std::exit(2);
    }
  }
  return a;
}

detect::ScanData Generate(const Args& a) {
  std::mt19937_64 rng(20050301);
  std::uniform_real_distribution<double> lat(36, 60), lon(-9, 30);
  std::lognormal_distribution<double> size(0, 1);
  detect::ScanData data;
  std::vector<double> weights;
  for (int z = 0; z < a.locations; ++z) {
    data.locations.push_back({"P" + std::to_string(z), lat(rng), lon(rng)});
    weights.push_back(size(rng));
    data.cases.emplace_back(static_cast<std::size_t>(a.weeks), 0);
  }
  std::discrete_distribution<int> where(weights.begin(), weights.end());
  std::poisson_distribution<int> cases(a.cases_per_week);
  for (int t = 0; t < a.weeks; ++t) {
    data.time.push_back(t);
    for (int n = cases(rng); n > 0; --n)
      data.cases[static_cast<std::size_t>(where(rng))][static_cast<std::size_t>(t)] += 1;
  }
  return data;
}

// The literal scan: neighbours by distance, each cylinder counted from the table.
class ObviousScan {
 public:
  ObviousScan(const detect::ScanData& data, const detect::ScanOptions& options)
      : data_(data), options_(options), z_n_(data.locations.size()), t_n_(data.time.size()) {
    location_cases_.assign(z_n_, 0);
    step_cases_.assign(t_n_, 0);
    for (std::size_t z = 0; z < z_n_; ++z) {
      for (std::size_t t = 0; t < t_n_; ++t) {
        location_cases_[z] += static_cast<double>(data.cases[z][t]);
        step_cases_[t] += static_cast<double>(data.cases[z][t]);
        total_ += static_cast<double>(data.cases[z][t]);
        times_.insert(times_.end(), static_cast<std::size_t>(data.cases[z][t]),
                      static_cast<std::uint32_t>(t));
        owners_.insert(owners_.end(), static_cast<std::size_t>(data.cases[z][t]),
                       static_cast<std::uint32_t>(z));
      }
    }
    for (std::size_t centre = 0; centre < z_n_; ++centre) {
      std::vector<std::pair<double, std::size_t>> by;
      for (std::size_t z = 0; z < z_n_; ++z) {
        const auto& c = data.locations[centre];
        const auto& l = data.locations[z];
        by.emplace_back(z == centre ? -1 : detect::GreatCircleKm(c.lat, c.lon, l.lat, l.lon), z);
      }
      std::sort(by.begin(), by.end());
      std::vector<std::size_t> order;
      double base = 0;
      for (const auto& [d, z] : by) {
        if (base + location_cases_[z] > options.max_share * total_) break;
        base += location_cases_[z];
        order.push_back(z);
      }
      neighbours_.push_back(std::move(order));
    }
  }

  double MaxRatio(const std::vector<std::vector<std::int64_t>>& table) const {
    double best = 0;
    const std::size_t height =
        std::min<std::size_t>(static_cast<std::size_t>(options_.max_window), t_n_);
    for (const auto& order : neighbours_) {
      for (std::size_t k = 1; k <= order.size(); ++k) {
        double base = 0;
        for (std::size_t j = 0; j < k; ++j) base += location_cases_[order[j]];
        for (std::size_t h = 1; h <= height; ++h) {
          double c = 0, window = 0;
          for (std::size_t t = t_n_ - h; t < t_n_; ++t) {
            window += step_cases_[t];
            for (std::size_t j = 0; j < k; ++j) c += static_cast<double>(table[order[j]][t]);
          }
          if (c < static_cast<double>(options_.min_cases)) continue;
          best = std::max(best, detect::ScanLogLikelihoodRatio(c, base * window / total_, total_));
        }
      }
    }
    return best;
  }

  double Replicate(std::uint64_t seed) const {
    std::mt19937_64 rng(seed);
    std::vector<std::uint32_t> times = times_;
    std::shuffle(times.begin(), times.end(), rng);
    std::vector<std::vector<std::int64_t>> table(z_n_, std::vector<std::int64_t>(t_n_, 0));
    for (std::size_t i = 0; i < times.size(); ++i) table[owners_[i]][times[i]] += 1;
    return MaxRatio(table);
  }

 private:
  const detect::ScanData& data_;
  const detect::ScanOptions& options_;
  std::size_t z_n_, t_n_;
  std::vector<double> location_cases_, step_cases_;
  double total_ = 0;
  std::vector<std::uint32_t> times_, owners_;
  std::vector<std::vector<std::size_t>> neighbours_;
};

}  // namespace
}  // namespace sentinel::bench

int main(int argc, char** argv) {
  using namespace sentinel;
  using namespace sentinel::bench;
  const Args a = Parse(argc, argv);
  const detect::ScanData data = Generate(a);
  detect::ScanOptions options;
  options.max_window = a.window;
  options.replicates = a.replicates;

  const auto t0 = Clock::now();
  auto result = detect::SpaceTimePermutationScan(data, options);
  const double ours = Seconds(Clock::now() - t0);
  if (!result.ok()) {
    std::fprintf(stderr, "scan: %s\n", result.status().ToString().c_str());
    return 1;
  }

  const ObviousScan obvious(data, options);
  const double observed = obvious.MaxRatio(data.cases);
  const double found = result->clusters.empty() ? 0 : result->clusters[0].llr;
  const auto t1 = Clock::now();
  double sink = 0;
  for (int r = 0; r < a.baseline_replicates; ++r)
    sink += obvious.Replicate(static_cast<std::uint64_t>(r));
  const double baseline = Seconds(Clock::now() - t1);

  const unsigned cores = std::max(1U, std::thread::hardware_concurrency());
  const double ours_per = ours / (a.replicates + 1);
  const double obvious_per = baseline / a.baseline_replicates;
  std::printf(
      "space-time permutation scan: %d places, %d weeks, %lld cases, window %d, %d replicates, %u "
      "cores\n",
      a.locations, a.weeks, static_cast<long long>(result->cases), a.window, a.replicates, cores);
  std::printf("  sentinel  %8.3f s  (%.3f ms a replicate, all cores)\n", ours, 1e3 * ours_per);
  std::printf(
      "  obvious   %8.3f s  for %d replicates (%.3f ms a replicate, one core; %.0f s for %d)\n",
      baseline, a.baseline_replicates, 1e3 * obvious_per, obvious_per * (a.replicates + 1),
      a.replicates);
  std::printf("  ratio %.0fx (%.0fx per core)   most likely cluster: llr %.4f, p %.4f\n",
              obvious_per / ours_per, obvious_per / (ours_per * cores), found,
              result->clusters.empty() ? 1.0 : result->clusters[0].p_value.value_or(1));
  // Stopping early (Besag-Clifford) at the level live detection uses: the same alarms, at the
  // cost of the replicates it takes to tell that nothing here is an alarm.
  detect::ScanOptions early = options;
  early.alpha = 0.01;
  early.stop_after = static_cast<int>(std::floor(early.alpha * (a.replicates + 1))) + 1;
  const auto t2 = Clock::now();
  auto stopped = detect::SpaceTimePermutationScan(data, early);
  const double early_seconds = Seconds(Clock::now() - t2);
  if (!stopped.ok()) return 1;
  bool same_alarms = stopped->clusters.size() == result->clusters.size();
  for (std::size_t c = 0; same_alarms && c < result->clusters.size(); ++c) {
    same_alarms =
        stopped->clusters[c].alarm == (result->clusters[c].p_value.value_or(1) <= early.alpha);
  }
  std::printf(
      "  stopping early (h = %d, alpha %.2f): %8.3f s, %d of %d replicates, same alarms: %s; "
      "ratio %.0fx\n",
      early.stop_after, early.alpha, early_seconds, stopped->replicates_run, a.replicates,
      same_alarms ? "yes" : "NO", ours / early_seconds);
  if (!same_alarms) return 1;
  if (std::fabs(found - observed) > 1e-9 * std::max(1.0, observed)) {
    std::fprintf(stderr, "MISMATCH: sentinel's largest ratio %.12g, the obvious scan's %.12g\n",
                 found, observed);
    return 1;
  }
  return sink < 0 ? 1 : 0;
}
