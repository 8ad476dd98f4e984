#include "core/detect/scan.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <numbers>
#include <numeric>
#include <random>
#include <span>
#include <thread>

#include "core/common/parallel.h"

namespace sentinel::detect {
namespace {

constexpr double kEarthRadiusKm = 6371.0088;  // IUGG mean radius

struct Window {
  std::size_t first = 0, last = 0;  // step indices, inclusive
};

// The circles around one centre: its locations nearest first, cut where the base would hold more
// than the allowed share of cases or reach beyond the radius. Locations at the same distance
// enter together, so a circle closes only after the last of them.
struct Neighbourhood {
  std::vector<std::size_t> order;
  std::vector<double> distance_km;
  std::vector<char> closes_circle;
};

// The best cylinder around one centre: `size` nearest locations over window `window`.
struct CentreBest {
  double llr = 0;
  std::size_t size = 0, window = 0;
  std::int64_t observed = 0;
  double expected = 0;
};

std::uint64_t SplitMix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30U)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27U)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31U);
}

std::vector<Window> Windows(std::size_t steps, const ScanOptions& options) {
  const std::size_t height =
      std::min<std::size_t>(static_cast<std::size_t>(options.max_window), steps);
  std::vector<Window> windows;
  if (options.prospective) {
    for (std::size_t h = 1; h <= height; ++h) windows.push_back({steps - h, steps - 1});
  } else {
    for (std::size_t last = 0; last < steps; ++last) {
      for (std::size_t h = 1; h <= std::min(height, last + 1); ++h) {
        windows.push_back({last + 1 - h, last});
      }
    }
  }
  return windows;
}

// Everything about the data that no shuffle changes: both margins, the circles and the windows.
class Scanner {
 public:
  Scanner(const ScanData& data, const ScanOptions& options)
      : options_(options), locations_(data.locations.size()), steps_(data.time.size()) {
    windows_ = Windows(steps_, options);
    first_relevant_ = options.prospective ? windows_.back().first : 0;
    relevant_steps_ = steps_ - first_relevant_;
    location_cases_.assign(locations_, 0);
    step_cases_.assign(steps_, 0);
    for (std::size_t z = 0; z < locations_; ++z) {
      for (std::size_t t = 0; t < steps_; ++t) {
        location_cases_[z] += data.cases[z][t];
        step_cases_[t] += data.cases[z][t];
      }
      total_ += location_cases_[z];
    }
    for (const Window& w : windows_) {
      std::int64_t sum = 0;
      for (std::size_t t = w.first; t <= w.last; ++t) sum += step_cases_[t];
      window_cases_.push_back(static_cast<double>(sum));
    }
    BuildNeighbourhoods(data);
    // Cases as location labels, and the steps of the relevant cases in a fixed order: a shuffle
    // deals a random sample of labels to those steps (see Replicate).
    for (std::size_t z = 0; z < locations_; ++z) {
      labels_.insert(labels_.end(), static_cast<std::size_t>(location_cases_[z]),
                     static_cast<std::uint32_t>(z));
    }
    for (std::size_t t = first_relevant_; t < steps_; ++t) {
      relevant_case_steps_.insert(relevant_case_steps_.end(),
                                  static_cast<std::size_t>(step_cases_[t]),
                                  static_cast<std::uint32_t>(t - first_relevant_));
    }
  }

  std::int64_t total() const { return total_; }
  const std::vector<Window>& windows() const { return windows_; }
  const Neighbourhood& neighbourhood(std::size_t centre) const { return neighbourhoods_[centre]; }

  // Counts over the relevant steps, [location][step - first_relevant_], of the observed data.
  std::vector<std::int64_t> ObservedCounts(const ScanData& data) const {
    std::vector<std::int64_t> counts(locations_ * relevant_steps_);
    for (std::size_t z = 0; z < locations_; ++z) {
      for (std::size_t t = first_relevant_; t < steps_; ++t) {
        counts[z * relevant_steps_ + t - first_relevant_] = data.cases[z][t];
      }
    }
    return counts;
  }

  // The counts of one replicate: the relevant cases' locations are a uniform random sample,
  // without replacement, of all cases' locations (a partial Fisher-Yates shuffle of `labels`,
  // undone afterwards so the caller's copy serves the next replicate). Shuffling locations among
  // cases is the same as shuffling times among them: both keep the two margins, and each gives
  // every arrangement with them the same probability.
  void Replicate(std::uint64_t seed, std::vector<std::uint32_t>& labels,
                 std::vector<std::int64_t>& counts, std::vector<std::size_t>& swaps) const {
    std::mt19937_64 rng(seed);
    std::fill(counts.begin(), counts.end(), 0);
    const std::size_t n = labels.size();
    const std::size_t k = relevant_case_steps_.size();
    swaps.resize(k);
    for (std::size_t i = 0; i < k; ++i) {
      std::uniform_int_distribution<std::size_t> pick(i, n - 1);
      const std::size_t j = pick(rng);
      swaps[i] = j;
      std::swap(labels[i], labels[j]);
      counts[labels[i] * relevant_steps_ + relevant_case_steps_[i]] += 1;
    }
    for (std::size_t i = k; i-- > 0;) std::swap(labels[i], labels[swaps[i]]);
  }

  const std::vector<std::uint32_t>& labels() const { return labels_; }
  std::size_t count_cells() const { return locations_ * relevant_steps_; }

  // The largest ratio over all cylinders of `counts`; with `best`, each centre's best cylinder.
  double MaxRatio(const std::vector<std::int64_t>& counts, std::vector<CentreBest>* best) const {
    const std::size_t nw = windows_.size();
    // Each location's count in each window, from its prefix sums over the relevant steps.
    std::vector<double> in_window(locations_ * nw);
    std::vector<std::int64_t> prefix(relevant_steps_ + 1);
    for (std::size_t z = 0; z < locations_; ++z) {
      prefix[0] = 0;
      for (std::size_t t = 0; t < relevant_steps_; ++t) {
        prefix[t + 1] = prefix[t] + counts[z * relevant_steps_ + t];
      }
      for (std::size_t w = 0; w < nw; ++w) {
        in_window[z * nw + w] = static_cast<double>(prefix[windows_[w].last + 1 - first_relevant_] -
                                                    prefix[windows_[w].first - first_relevant_]);
      }
    }
    const double total = static_cast<double>(total_);
    const double min_cases = static_cast<double>(options_.min_cases);
    double overall = 0;
    std::vector<double> acc(nw);
    for (std::size_t centre = 0; centre < locations_; ++centre) {
      const Neighbourhood& hood = neighbourhoods_[centre];
      std::fill(acc.begin(), acc.end(), 0.0);
      double base = 0;
      CentreBest centre_best;
      for (std::size_t i = 0; i < hood.order.size(); ++i) {
        const std::size_t z = hood.order[i];
        base += static_cast<double>(location_cases_[z]);
        const double* row = &in_window[z * nw];
        for (std::size_t w = 0; w < nw; ++w) acc[w] += row[w];
        if (!hood.closes_circle[i]) continue;
        const double share = base / total;
        for (std::size_t w = 0; w < nw; ++w) {
          const double c = acc[w];
          if (c < min_cases) continue;
          const double mu = share * window_cases_[w];
          if (c <= mu) continue;
          const double llr = ScanLogLikelihoodRatio(c, mu, total);
          if (llr > centre_best.llr) {
            centre_best = {llr, i + 1, w, static_cast<std::int64_t>(c), mu};
          }
        }
      }
      overall = std::max(overall, centre_best.llr);
      if (best != nullptr) (*best)[centre] = centre_best;
    }
    return overall;
  }

 private:
  void BuildNeighbourhoods(const ScanData& data) {
    const double limit = options_.max_share * static_cast<double>(total_);
    neighbourhoods_.resize(locations_);
    std::vector<std::pair<double, std::size_t>> by_distance(locations_);
    for (std::size_t centre = 0; centre < locations_; ++centre) {
      const ScanLocation& c = data.locations[centre];
      for (std::size_t z = 0; z < locations_; ++z) {
        const ScanLocation& l = data.locations[z];
        // The centre first whatever rounding says about a twin at distance 0.
        by_distance[z] = {z == centre ? -1.0 : GreatCircleKm(c.lat, c.lon, l.lat, l.lon), z};
      }
      std::sort(by_distance.begin(), by_distance.end());
      by_distance[0].first = 0;
      Neighbourhood& hood = neighbourhoods_[centre];
      double base = 0;
      for (std::size_t i = 0; i < locations_;) {
        // One group of locations at the same distance enters whole, or not at all.
        std::size_t end = i + 1;
        while (end < locations_ && by_distance[end].first <= by_distance[i].first) ++end;
        if (options_.max_radius_km && by_distance[i].first > *options_.max_radius_km) break;
        double group = 0;
        for (std::size_t j = i; j < end; ++j) {
          group += static_cast<double>(location_cases_[by_distance[j].second]);
        }
        if (base + group > limit) break;
        base += group;
        for (std::size_t j = i; j < end; ++j) {
          hood.order.push_back(by_distance[j].second);
          hood.distance_km.push_back(by_distance[j].first);
          hood.closes_circle.push_back(static_cast<char>(j + 1 == end));
        }
        i = end;
      }
    }
  }

  const ScanOptions& options_;
  std::size_t locations_, steps_;
  std::vector<Window> windows_;
  std::size_t first_relevant_ = 0, relevant_steps_ = 0;
  std::vector<std::int64_t> location_cases_, step_cases_;
  std::vector<double> window_cases_;
  std::int64_t total_ = 0;
  std::vector<Neighbourhood> neighbourhoods_;
  std::vector<std::uint32_t> labels_;
  std::vector<std::uint32_t> relevant_case_steps_;
};

// Ties count against a cluster; the tolerance absorbs rounding in equal configurations.
double TieBar(double llr) { return llr - 1e-9 * std::max(1.0, llr); }

// Replicates run between two looks at whether enough reach the most likely cluster.
constexpr std::size_t kSequentialBlock = 32;

// The replicates' maxima, in replicate order: all of them, or with `stop_at` (the most likely
// cluster's ratio) and options.stop_after, the first n, n being the first count at which
// stop_after of them reach stop_at.
std::vector<double> ReplicateMaxima(const Scanner& scanner, const ScanOptions& options,
                                    std::optional<double> stop_at,
                                    const std::function<void(int, int)>& progress) {
  const auto replicates = static_cast<std::size_t>(options.replicates);
  std::vector<double> maxima(replicates);
  if (replicates == 0) return maxima;
  // Replicates run a block at a time when they may stop early (the block's size fixed, so where
  // they stop does not depend on the number of threads), else in one block. Within a block,
  // one chunk of replicates per job, so each thread copies the case labels once; replicate r's
  // seed depends only on r, so the maxima do not depend on how the chunks fall.
  const bool sequential = stop_at && options.stop_after > 0;
  const std::size_t block = sequential ? kSequentialBlock : replicates;
  std::atomic<int> done{0};
  std::mutex progress_mutex;
  const int report_every = std::max(1, options.replicates / 50);
  int reached = 0;
  for (std::size_t begin = 0; begin < replicates; begin += block) {
    const std::size_t end = std::min(replicates, begin + block);
    const std::size_t chunks = std::min<std::size_t>(
        end - begin, std::size_t{4} * std::max(1U, std::thread::hardware_concurrency()));
    ParallelFor(chunks, [&](std::size_t chunk) {
      std::vector<std::uint32_t> labels = scanner.labels();
      std::vector<std::int64_t> counts(scanner.count_cells());
      std::vector<std::size_t> swaps;
      for (std::size_t r = begin + chunk; r < end; r += chunks) {
        scanner.Replicate(SplitMix64(options.seed ^ SplitMix64(r + 1)), labels, counts, swaps);
        maxima[r] = scanner.MaxRatio(counts, nullptr);
        const int now = done.fetch_add(1) + 1;
        if (progress && (now % report_every == 0 || now == options.replicates)) {
          const std::lock_guard<std::mutex> lock(progress_mutex);
          progress(now, options.replicates);
        }
      }
    });
    if (!sequential) continue;
    for (std::size_t r = begin; r < end; ++r) {
      if (maxima[r] >= TieBar(*stop_at) && ++reached == options.stop_after) {
        maxima.resize(r + 1);
        if (progress) progress(options.replicates, options.replicates);  // done: stopped early
        return maxima;
      }
    }
  }
  return maxima;
}

}  // namespace

double ScanLogLikelihoodRatio(double c, double mu, double total) {
  if (!(c > mu) || mu <= 0) return 0;
  double llr = c * std::log(c / mu);
  if (total > c) llr += (total - c) * std::log((total - c) / (total - mu));
  return llr;
}

double GreatCircleKm(double lat1, double lon1, double lat2, double lon2) {
  constexpr double kRad = std::numbers::pi / 180.0;
  const double dlat = (lat2 - lat1) * kRad;
  const double dlon = (lon2 - lon1) * kRad;
  const double a =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(lat1 * kRad) * std::cos(lat2 * kRad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kEarthRadiusKm * std::asin(std::min(1.0, std::sqrt(a)));
}

Status ValidateScan(const ScanData& data, const ScanOptions& options) {
  if (options.max_window < 1) return Status::InvalidArgument("scan: max window must be >= 1 step");
  if (!(options.max_share > 0 && options.max_share <= 1)) {
    return Status::InvalidArgument("scan: max share must be in (0, 1]");
  }
  if (options.max_radius_km &&
      !(*options.max_radius_km >= 0 && std::isfinite(*options.max_radius_km))) {
    return Status::InvalidArgument("scan: max radius must be a distance >= 0 km");
  }
  if (options.replicates < 0 || options.replicates > kMaxScanReplicates) {
    return Status::InvalidArgument(
        fmt::format("scan: replicates must be between 0 and {}", kMaxScanReplicates));
  }
  if (options.min_cases < 1) return Status::InvalidArgument("scan: min cases must be >= 1");
  if (options.stop_after < 0) return Status::InvalidArgument("scan: stop after must be >= 0");
  if (!(options.alpha > 0 && options.alpha < 1)) {
    return Status::InvalidArgument("scan: alpha must be in (0, 1)");
  }
  if (options.max_clusters < 1) return Status::InvalidArgument("scan: max clusters must be >= 1");
  if (data.locations.empty()) return Status::InvalidArgument("scan: no locations");
  if (data.locations.size() > kMaxScanLocations) {
    return Status::InvalidArgument(fmt::format("scan: {} locations, more than the {} allowed",
                                               data.locations.size(), kMaxScanLocations));
  }
  if (data.time.empty()) return Status::InvalidArgument("scan: no time steps");
  if (data.cases.size() != data.locations.size()) {
    return Status::InvalidArgument("scan: one row of counts per location is needed");
  }
  std::int64_t total = 0;
  for (std::size_t z = 0; z < data.locations.size(); ++z) {
    const ScanLocation& l = data.locations[z];
    if (!(l.lat >= -90 && l.lat <= 90) || !(l.lon >= -180 && l.lon <= 180)) {
      return Status::InvalidArgument(fmt::format(
          "scan: location '{}': lat/lon {}, {} is not on the globe", l.name, l.lat, l.lon));
    }
    if (data.cases[z].size() != data.time.size()) {
      return Status::InvalidArgument(fmt::format("scan: location '{}': {} counts for {} steps",
                                                 l.name, data.cases[z].size(), data.time.size()));
    }
    for (std::size_t t = 0; t < data.time.size(); ++t) {
      const std::int64_t c = data.cases[z][t];
      if (c < 0 || c > kMaxScanCases - total) {
        return Status::InvalidArgument(fmt::format(
            "scan: location '{}', step {}: count {} is negative or takes the cases past {}", l.name,
            data.time[t], c, kMaxScanCases));
      }
      total += c;
    }
  }
  return Status::Ok();
}

Result<ScanResult> SpaceTimePermutationScan(const ScanData& data, const ScanOptions& options,
                                            const std::function<void(int, int)>& progress) {
  if (Status s = ValidateScan(data, options); !s.ok()) return s;
  const Scanner scanner(data, options);
  ScanResult result;
  result.cases = scanner.total();
  if (result.cases == 0) return result;

  std::vector<CentreBest> best(data.locations.size());
  const double most_likely = scanner.MaxRatio(scanner.ObservedCounts(data), &best);
  result.replicate_maxima = ReplicateMaxima(
      scanner, options, most_likely > 0 ? std::optional<double>(most_likely) : std::nullopt,
      progress);
  result.replicates_run = static_cast<int>(result.replicate_maxima.size());
  const bool stopped = result.replicates_run < options.replicates;

  std::vector<std::size_t> centres(best.size());
  std::iota(centres.begin(), centres.end(), 0);
  std::stable_sort(centres.begin(), centres.end(),
                   [&](std::size_t a, std::size_t b) { return best[a].llr > best[b].llr; });
  std::vector<char> taken(data.locations.size(), 0);
  for (const std::size_t centre : centres) {
    const CentreBest& b = best[centre];
    if (b.llr <= 0 || result.clusters.size() >= static_cast<std::size_t>(options.max_clusters))
      break;
    const Neighbourhood& hood = scanner.neighbourhood(centre);
    const auto members = std::span(hood.order).first(b.size);
    if (std::any_of(members.begin(), members.end(), [&](std::size_t z) { return taken[z] != 0; })) {
      continue;
    }
    ScanCluster cluster;
    cluster.centre = centre;
    cluster.locations.assign(members.begin(), members.end());
    for (const std::size_t z : members) taken[z] = 1;
    cluster.radius_km = hood.distance_km[b.size - 1];
    cluster.first_step = scanner.windows()[b.window].first;
    cluster.last_step = scanner.windows()[b.window].last;
    cluster.observed = b.observed;
    cluster.expected = b.expected;
    cluster.llr = b.llr;
    if (options.replicates > 0) {
      const double bar = TieBar(b.llr);
      const auto beaten =
          std::count_if(result.replicate_maxima.begin(), result.replicate_maxima.end(),
                        [&](double m) { return m >= bar; });
      // Besag and Clifford's p-value when the replicates stopped early, else the usual rank.
      cluster.p_value = stopped ? static_cast<double>(beaten) / result.replicates_run
                                : static_cast<double>(1 + beaten) / (options.replicates + 1);
      if (options.prospective) cluster.recurrence_steps = 1 / *cluster.p_value;
      cluster.alarm = *cluster.p_value <= options.alpha;
    }
    result.clusters.push_back(std::move(cluster));
  }
  return result;
}

}  // namespace sentinel::detect
