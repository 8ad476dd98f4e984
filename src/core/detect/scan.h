// Space-time clusters: the space-time permutation scan statistic (Kulldorff, Heffernan, Hartman,
// Assunção and Mostashari, PLoS Medicine 2005). docs/detect_scan.md gives the formulas.
//
// Cases are counted per location (a place with a centroid) and time step. Without space-time
// interaction, a location's share of a step's cases would be its share of all cases, so the
// expected count of a cylinder A (a circle of locations around a centre, over a window of
// consecutive steps) is mu_A = C_base * C_window / C: only the two margins, no population. The
// scan looks at every cylinder, up to a share of all cases in its base and a number of steps in
// its height, and takes the largest Poisson generalised log-likelihood ratio over those with
// more cases than expected. Its p-value is its rank among the largest ratios of data whose case
// times are shuffled among cases (both margins kept), seeded and so reproducible, and
// independent of the number of threads. Prospective scans look only at windows that end at the
// last step (clusters still alive); their recurrence interval, 1/p steps, says how often a
// cluster this unusual would arise by chance if the scan ran every step.
//
// Secondary clusters are the best cylinders of other centres that share no location with a
// cluster already reported, judged against the same replicate maxima (conservative, as SaTScan
// does). With stop_after, replicates stop as soon as stop_after of them reach the most likely
// cluster's ratio (Besag and Clifford 1991); every p-value is then g / n, g the replicates among
// the n run that reach that cluster's ratio: a dataset without a cluster costs a few dozen
// replicates instead of all. The replicates run are the first n in order, so the answer still
// depends on the seed alone. Pure computation on the caller's data; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/common/status.h"

namespace sentinel::detect {

struct ScanLocation {
  std::string name;
  double lat = 0, lon = 0;  // WGS 84 degrees
};

struct ScanData {
  std::vector<ScanLocation> locations;
  std::vector<std::int64_t> time;                // labels of the steps, one per step
  std::vector<std::vector<std::int64_t>> cases;  // [location][step], counts >= 0
};

// Bounds that keep one scan to seconds, not hours: cases are shuffled one by one.
inline constexpr std::size_t kMaxScanLocations = 20'000;
inline constexpr std::int64_t kMaxScanCases = 50'000'000;
inline constexpr int kMaxScanReplicates = 99'999;

struct ScanOptions {
  int max_window = 4;      // the most steps a cylinder spans
  double max_share = 0.5;  // the largest share of all cases a cylinder's base holds
  std::optional<double> max_radius_km;
  int replicates = 999;  // Monte Carlo replicates; 0: no p-values
  std::uint64_t seed = 1;
  bool prospective = true;     // windows end at the last step
  std::int64_t min_cases = 2;  // a cluster has at least this many cases
  double alpha = 0.05;         // a cluster with p <= alpha is an alarm
  int max_clusters = 10;       // the most (non-overlapping) clusters reported
  // Sequential Monte Carlo (Besag and Clifford, Biometrika 1991): replicates stop once this many
  // reach the most likely cluster's ratio, whose p-value is then at least stop_after / n, too
  // large to matter; 0 runs them all. A cluster that may still be an alarm runs every one.
  int stop_after = 0;
};

struct ScanCluster {
  std::size_t centre = 0;
  std::vector<std::size_t> locations;  // indices into ScanData::locations, nearest first
  double radius_km = 0;
  std::size_t first_step = 0, last_step = 0;  // indices into ScanData::time
  std::int64_t observed = 0;
  double expected = 0;
  double llr = 0;
  std::optional<double> p_value;           // empty without replicates
  std::optional<double> recurrence_steps;  // prospective scans with replicates: 1 / p
  bool alarm = false;                      // p_value <= alpha
};

struct ScanResult {
  std::int64_t cases = 0;
  int replicates_run = 0;  // fewer than asked when the replicates stopped early (stop_after)
  std::vector<ScanCluster> clusters;  // most likely first, then secondary ones, by llr
  // The largest ratio of each replicate, in replicate order (what the p-values rank against).
  std::vector<double> replicate_maxima;
};

// The Poisson generalised log-likelihood ratio of a cylinder holding `c` cases where `mu` were
// expected, out of `total`; 0 unless c > mu.
double ScanLogLikelihoodRatio(double c, double mu, double total);

// InvalidArgument naming the offending option or location/step.
Status ValidateScan(const ScanData& data, const ScanOptions& options);

// `progress(done, total)` is called now and then as replicates finish (from any thread, one at a
// time); it may be empty.
Result<ScanResult> SpaceTimePermutationScan(
    const ScanData& data, const ScanOptions& options,
    const std::function<void(int done, int total)>& progress = {});

// Great-circle distance on a sphere of the Earth's mean radius.
double GreatCircleKm(double lat1, double lon1, double lat2, double lon2);

}  // namespace sentinel::detect
