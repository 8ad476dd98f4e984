// Detection quality on the simulation design of Noufaily et al. (2013), Statistics in Medicine
// 32:1206-1222: 42 scenarios of weekly counts (seven parameter sets x trend off/on x 0-2
// seasonal harmonics), 624 weeks each, past outbreaks in the baseline and one outbreak in the
// last 49 weeks. docs/detect_simulation.md describes the design and what of it is reconstructed.
//
// The simulated series are written to --out (default detect_simulation/) as CSV, so that
// scripts/r/noufaily_simulation.R judges exactly the same data:
//   scenarios.csv  scenario,set,theta,beta,gamma1,gamma2,gamma3,gamma4,m,trend,phi
//   series.csv     series,scenario,replicate,k,size,start,end (the current outbreak)
//   counts.csv     series,time,count: baseline with its past outbreaks, weeks 1..624
//   outbreaks.csv  series,time,cases: the current outbreak's cases (weeks with cases only)
//   alarms.sentinel.csv  method,series,kind,time,alarm: kind "fpr" judges weeks 576..624 of
//                  counts.csv; kind "pod" judges the outbreak's weeks of counts + outbreak.
//
// Printed: false-positive rate and probability of detection per method at --alpha (default
// 0.01), per parameter set and overall, and each method's time. Progress goes to stderr.
// Flags: --replicates=100 per scenario, --threads=2, --seed, --out, and --variants to add
// Noufaily settings that R is not asked about (no reporting minimum; the muan threshold).
#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "core/detect/ears.h"
#include "core/detect/farrington.h"

namespace sentinel::bench {
namespace {

constexpr int kWeeks = 624;
constexpr int kFirstTestWeek = 576;  // weeks 576..624: the 49 test weeks
constexpr int kFirstPastOutbreakWeek = 313;
constexpr int kLastBaselineWeek = 575;
constexpr int kPastOutbreaks = 4;
constexpr int kSeriesPerScenarioLimit = 1000;  // series id = scenario * 1000 + replicate

// One of the seven parameter sets: log mean theta + beta t + sum_j gamma1_j cos(2 pi j t/52) +
// gamma2_j sin(2 pi j t/52), variance phi times the mean.
struct ParameterSet {
  double theta, beta, gamma1, gamma2, phi;
};

// theta, beta, gamma1, gamma2 and phi of the paper's seven parameter sets, as a published
// replication of the study (the AEDDO project's simulation script) lists them; see the docs.
constexpr std::array<ParameterSet, 7> kParameterSets{{
    {0.1, 0.0025, 0.6, 0.6, 1.5},
    {-2, 0.005, 0.1, 0.3, 2},
    {1.5, 0.003, 0.2, -0.4, 1},
    {0.5, 0.002, 0.5, 0.5, 5},
    {2.5, 0.001, 1, 0.1, 3},
    {3.75, 0.001, 0.1, -0.1, 1.1},
    {5, 0.0001, 0.05, 0.01, 1.2},
}};

struct Scenario {
  int id = 0;   // 1..42
  int set = 0;  // 1..7
  double theta = 0, beta = 0, phi = 1;
  std::array<double, 2> cosine{}, sine{};  // per harmonic
  int harmonics = 0;
  bool trend = false;

  double Mean(int week) const {
    double eta = theta + (trend ? beta * week : 0);
    for (int j = 1; j <= harmonics; ++j) {
      const double angle = 2 * M_PI * j * week / 52.0;
      eta += cosine[j - 1] * std::cos(angle) + sine[j - 1] * std::sin(angle);
    }
    return std::exp(eta);
  }
};

std::vector<Scenario> MakeScenarios() {
  std::vector<Scenario> scenarios;
  int id = 0;
  for (std::size_t set = 0; set < kParameterSets.size(); ++set) {
    const ParameterSet& p = kParameterSets[set];
    for (const bool trend : {false, true}) {
      for (int harmonics = 0; harmonics <= 2; ++harmonics) {
        Scenario s;
        s.id = ++id;
        s.set = static_cast<int>(set) + 1;
        s.theta = p.theta;
        s.beta = p.beta;
        s.phi = p.phi;
        s.trend = trend;
        s.harmonics = harmonics;
        // Reconstructed: the second harmonic at half the first one's amplitude.
        s.cosine = {p.gamma1, p.gamma1 / 2};
        s.sine = {p.gamma2, p.gamma2 / 2};
        scenarios.push_back(s);
      }
    }
  }
  return scenarios;
}

struct SimulatedSeries {
  int id = 0;
  const Scenario* scenario = nullptr;
  int replicate = 0;
  std::vector<double> counts;               // baseline and past outbreaks, weeks 1..624
  std::vector<double> outbreak_cases;       // the current outbreak, weeks 1..624
  int k = 0, size = 0, start = 0, end = 0;  // end: last week with a case (0 when size is 0)
};

// Negative binomial with mean mu and variance phi*mu as the gamma-Poisson mixture; Poisson
// when phi is 1.
double DrawCount(std::mt19937_64& rng, double mu, double phi) {
  if (phi <= 1) return static_cast<double>(std::poisson_distribution<long>(mu)(rng));
  const double shape = mu / (phi - 1);
  const double rate = std::gamma_distribution<double>(shape, phi - 1)(rng);
  return rate > 0 ? static_cast<double>(std::poisson_distribution<long>(rate)(rng)) : 0;
}

// Adds an outbreak of Poisson(k * sd) cases starting at `start`, each case `floor(d)` weeks
// later with d lognormal(0, 0.5); cases after `last_week` are not observed. Returns the size.
int AddOutbreak(std::mt19937_64& rng, const Scenario& scenario, int k, int start, int last_week,
                std::vector<double>& cases) {
  const double sd = std::sqrt(scenario.phi * scenario.Mean(start));
  const int size = static_cast<int>(std::poisson_distribution<long>(k * sd)(rng));
  std::lognormal_distribution<double> delay(0, 0.5);
  for (int c = 0; c < size; ++c) {
    const int week = start + static_cast<int>(std::floor(delay(rng)));
    if (week <= last_week) cases[week - 1] += 1;
  }
  return size;
}

SimulatedSeries Simulate(const Scenario& scenario, int replicate, std::uint64_t seed) {
  // Each series has its own stream, so a replicate is the same whatever the replicate count.
  std::seed_seq seq{seed, static_cast<std::uint64_t>(scenario.id),
                    static_cast<std::uint64_t>(replicate)};
  std::mt19937_64 rng(seq);
  SimulatedSeries out;
  out.id = scenario.id * kSeriesPerScenarioLimit + replicate;
  out.scenario = &scenario;
  out.replicate = replicate;
  out.counts.resize(kWeeks);
  out.outbreak_cases.assign(kWeeks, 0);
  for (int week = 1; week <= kWeeks; ++week) {
    out.counts[week - 1] = DrawCount(rng, scenario.Mean(week), scenario.phi);
  }
  static constexpr std::array<int, 4> kPastSizes{2, 3, 5, 10};
  std::uniform_int_distribution<int> past_k(0, 3);
  std::uniform_int_distribution<int> past_start(kFirstPastOutbreakWeek, kLastBaselineWeek);
  for (int i = 0; i < kPastOutbreaks; ++i) {
    const int k = kPastSizes[static_cast<std::size_t>(past_k(rng))];
    AddOutbreak(rng, scenario, k, past_start(rng), kLastBaselineWeek, out.counts);
  }
  out.k = std::uniform_int_distribution<int>(1, 10)(rng);
  out.start = std::uniform_int_distribution<int>(kFirstTestWeek, kWeeks)(rng);
  out.size = AddOutbreak(rng, scenario, out.k, out.start, kWeeks, out.outbreak_cases);
  for (int week = kWeeks; week >= out.start; --week) {
    if (out.outbreak_cases[week - 1] > 0) {
      out.end = week;
      break;
    }
  }
  return out;
}

// The alarms of one method on one simulated series: the 49 test weeks of the series without
// its current outbreak, and the outbreak's weeks of the series with it.
struct SeriesAlarms {
  std::vector<std::optional<bool>> fpr_weeks;  // weeks 576..624
  std::vector<std::optional<bool>> pod_weeks;  // weeks start..end
};

using Detector = std::function<std::vector<std::optional<bool>>(const detect::CountSeries&,
                                                                int first_week, int last_week)>;

Detector FarringtonDetector(const detect::FarringtonOptions& options) {
  return [options](const detect::CountSeries& series, int first_week, int last_week) {
    std::vector<std::optional<bool>> alarms;
    for (const detect::Judgement& j :
         detect::Farrington(series, static_cast<std::size_t>(first_week - 1),
                            static_cast<std::size_t>(last_week), options)) {
      alarms.push_back(j.alarm);
    }
    return alarms;
  };
}

Detector EarsDetector(detect::EarsOptions options) {
  return [options](const detect::CountSeries& series, int first_week, int last_week) {
    std::vector<std::optional<bool>> alarms;
    const auto judged = detect::Ears(series, options);
    if (!judged.ok()) {
      std::fprintf(stderr, "EARS: %s\n", judged.status().message().c_str());
      std::exit(1);
    }
    for (int week = first_week; week <= last_week; ++week) {
      alarms.push_back((*judged)[static_cast<std::size_t>(week - 1)].alarm);
    }
    return alarms;
  };
}

struct Method {
  std::string name;
  Detector detector;
};

detect::CountSeries MakeCountSeries(const std::vector<double>& counts) {
  detect::CountSeries series;
  series.observed = counts;
  for (int week = 1; week <= kWeeks; ++week) series.time.push_back(week);
  return series;
}

SeriesAlarms Judge(const Detector& detector, const SimulatedSeries& simulated) {
  SeriesAlarms out;
  out.fpr_weeks = detector(MakeCountSeries(simulated.counts), kFirstTestWeek, kWeeks);
  if (simulated.size > 0 && simulated.end > 0) {
    std::vector<double> with_outbreak = simulated.counts;
    for (int week = 0; week < kWeeks; ++week) with_outbreak[week] += simulated.outbreak_cases[week];
    out.pod_weeks = detector(MakeCountSeries(with_outbreak), simulated.start, simulated.end);
  }
  return out;
}

// Runs `task(i)` for i in [0, n) on `threads` threads, reporting progress on stderr.
void ParallelFor(std::size_t n, unsigned threads, const std::string& label,
                 const std::function<void(std::size_t)>& task) {
  std::atomic<std::size_t> next{0}, done{0};
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (std::size_t i; (i = next.fetch_add(1)) < n;) {
        task(i);
        const std::size_t finished = done.fetch_add(1) + 1;
        if (finished % std::max<std::size_t>(1, n / 10) == 0 || finished == n) {
          std::fprintf(stderr, "\r  %-10s %3zu%%", label.c_str(), finished * 100 / n);
          if (finished == n) std::fprintf(stderr, "\n");
        }
      }
    });
  }
  for (auto& th : pool) th.join();
}

struct Tally {
  std::size_t false_alarms = 0, test_weeks = 0, detected = 0, outbreaks = 0;
  void Add(const SeriesAlarms& alarms) {
    for (const auto& a : alarms.fpr_weeks) {
      ++test_weeks;
      false_alarms += a.value_or(false) ? 1 : 0;
    }
    if (!alarms.pod_weeks.empty()) {
      ++outbreaks;
      detected += std::any_of(alarms.pod_weeks.begin(), alarms.pod_weeks.end(),
                              [](const auto& a) { return a.value_or(false); })
                      ? 1
                      : 0;
    }
  }
  std::string Format() const {
    return fmt::format("{:5.2f}% {:5.1f}%",
                       100.0 * static_cast<double>(false_alarms) / static_cast<double>(test_weeks),
                       100.0 * static_cast<double>(detected) / static_cast<double>(outbreaks));
  }
};

class CsvFile {
 public:
  explicit CsvFile(const std::filesystem::path& path) : file_(std::fopen(path.c_str(), "w")) {
    if (file_ == nullptr) {
      std::fprintf(stderr, "cannot write %s\n", path.c_str());
      std::exit(1);
    }
  }
  ~CsvFile() { std::fclose(file_); }
  CsvFile(const CsvFile&) = delete;
  CsvFile& operator=(const CsvFile&) = delete;
  void Line(const std::string& line) {
    std::fputs(line.c_str(), file_);
    std::fputc('\n', file_);
  }

 private:
  std::FILE* file_;
};

void WriteData(const std::filesystem::path& dir, const std::vector<Scenario>& scenarios,
               const std::vector<SimulatedSeries>& all) {
  CsvFile scenario_file(dir / "scenarios.csv");
  scenario_file.Line("scenario,set,theta,beta,gamma1,gamma2,gamma3,gamma4,m,trend,phi");
  for (const Scenario& s : scenarios) {
    scenario_file.Line(fmt::format("{},{},{},{},{},{},{},{},{},{},{}", s.id, s.set, s.theta, s.beta,
                                   s.cosine[0], s.sine[0], s.cosine[1], s.sine[1], s.harmonics,
                                   s.trend ? 1 : 0, s.phi));
  }
  CsvFile series_file(dir / "series.csv");
  CsvFile counts_file(dir / "counts.csv");
  CsvFile outbreaks_file(dir / "outbreaks.csv");
  series_file.Line("series,scenario,replicate,k,size,start,end");
  counts_file.Line("series,time,count");
  outbreaks_file.Line("series,time,cases");
  for (const SimulatedSeries& s : all) {
    series_file.Line(fmt::format("{},{},{},{},{},{},{}", s.id, s.scenario->id, s.replicate, s.k,
                                 s.size, s.start, s.end));
    for (int week = 1; week <= kWeeks; ++week) {
      counts_file.Line(fmt::format("{},{},{}", s.id, week, s.counts[week - 1]));
      if (s.outbreak_cases[week - 1] > 0) {
        outbreaks_file.Line(fmt::format("{},{},{}", s.id, week, s.outbreak_cases[week - 1]));
      }
    }
  }
}

std::string AlarmText(const std::optional<bool>& alarm) {
  if (!alarm) return "NA";
  return *alarm ? "1" : "0";
}

}  // namespace
}  // namespace sentinel::bench

int main(int argc, char** argv) {
  using namespace sentinel;
  using Clock = std::chrono::steady_clock;
  int replicates = 100;
  unsigned threads = 2;
  double alpha = 0.01;
  std::uint64_t seed = 20130101;
  std::filesystem::path out_dir = "detect_simulation";
  bool variants = false;
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--replicates=", 13)) replicates = std::atoi(argv[i] + 13);
    if (!std::strncmp(argv[i], "--threads=", 10))
      threads = static_cast<unsigned>(std::atoi(argv[i] + 10));
    if (!std::strncmp(argv[i], "--alpha=", 8)) alpha = std::atof(argv[i] + 8);
    if (!std::strncmp(argv[i], "--seed=", 7)) seed = std::strtoull(argv[i] + 7, nullptr, 10);
    if (!std::strncmp(argv[i], "--out=", 6)) out_dir = argv[i] + 6;
    if (!std::strcmp(argv[i], "--variants")) variants = true;
  }
  if (replicates < 1 || replicates >= bench::kSeriesPerScenarioLimit || threads < 1) {
    std::fprintf(stderr, "--replicates must lie in 1..999 and --threads be at least 1\n");
    return 2;
  }
  std::filesystem::create_directories(out_dir);

  const std::vector<bench::Scenario> scenarios = bench::MakeScenarios();
  std::vector<bench::SimulatedSeries> all;
  for (const bench::Scenario& s : scenarios) {
    for (int r = 1; r <= replicates; ++r) all.push_back(bench::Simulate(s, r, seed));
  }
  bench::WriteData(out_dir, scenarios, all);
  std::fprintf(stderr, "simulated %zu series (%d per scenario) into %s\n", all.size(), replicates,
               out_dir.c_str());

  detect::FarringtonOptions original = detect::FarringtonOriginal();
  original.alpha = alpha;
  detect::FarringtonOptions noufaily = detect::Noufaily();
  noufaily.alpha = alpha;
  std::vector<bench::Method> methods = {
      {"farrington", bench::FarringtonDetector(original)},
      {"noufaily", bench::FarringtonDetector(noufaily)},
  };
  if (variants) {
    // Sentinel-only settings explored against the published ones; R is not asked about them.
    detect::FarringtonOptions no_minimum = noufaily;
    no_minimum.limit54 = {.cases = 0, .weeks = 4};
    detect::FarringtonOptions muan = noufaily;
    muan.thresholdMethod = detect::ThresholdMethod::kMuan;
    methods.push_back({"noufaily-nomin", bench::FarringtonDetector(no_minimum)});
    methods.push_back({"noufaily-muan", bench::FarringtonDetector(muan)});
  }
  for (const detect::EarsMethod m :
       {detect::EarsMethod::kC1, detect::EarsMethod::kC2, detect::EarsMethod::kC3}) {
    methods.push_back(
        {std::string(detect::EarsMethodName(m)),
         bench::EarsDetector({.method = m, .baseline = 7, .min_sigma = 0, .alpha = alpha})});
  }

  bench::CsvFile alarm_file(out_dir / "alarms.sentinel.csv");
  alarm_file.Line("method,series,kind,time,alarm");
  // tallies[method][set]; set 0 is every scenario together.
  std::vector<std::array<bench::Tally, bench::kParameterSets.size() + 1>> tallies(methods.size());
  std::vector<double> seconds(methods.size());
  for (std::size_t m = 0; m < methods.size(); ++m) {
    std::vector<bench::SeriesAlarms> judged(all.size());
    const auto t0 = Clock::now();
    bench::ParallelFor(all.size(), threads, methods[m].name, [&](std::size_t i) {
      judged[i] = bench::Judge(methods[m].detector, all[i]);
    });
    seconds[m] = std::chrono::duration<double>(Clock::now() - t0).count();
    for (std::size_t i = 0; i < all.size(); ++i) {
      const bench::SimulatedSeries& s = all[i];
      tallies[m][0].Add(judged[i]);
      tallies[m][static_cast<std::size_t>(s.scenario->set)].Add(judged[i]);
      for (std::size_t w = 0; w < judged[i].fpr_weeks.size(); ++w) {
        alarm_file.Line(fmt::format("{},{},fpr,{},{}", methods[m].name, s.id,
                                    bench::kFirstTestWeek + static_cast<int>(w),
                                    bench::AlarmText(judged[i].fpr_weeks[w])));
      }
      for (std::size_t w = 0; w < judged[i].pod_weeks.size(); ++w) {
        alarm_file.Line(fmt::format("{},{},pod,{},{}", methods[m].name, s.id,
                                    s.start + static_cast<int>(w),
                                    bench::AlarmText(judged[i].pod_weeks[w])));
      }
    }
  }

  std::printf(
      "Noufaily et al. (2013) simulation: 42 scenarios x %d replicates, alpha %g, seed %llu\n",
      replicates, alpha, static_cast<unsigned long long>(seed));
  std::printf(
      "FPR: alarms among the 49 test weeks without the current outbreak; POD: outbreaks "
      "with at least one alarm in their weeks\n\n");
  std::string header = fmt::format("{:<28}", "parameter set (FPR POD)");
  for (const auto& method : methods) header += fmt::format(" | {:^14}", method.name);
  std::printf("%s\n", header.c_str());
  for (std::size_t set = 1; set <= bench::kParameterSets.size(); ++set) {
    const bench::ParameterSet& p = bench::kParameterSets[set - 1];
    std::string line =
        fmt::format("{:<28}", fmt::format("{} theta={} phi={}", set, p.theta, p.phi));
    for (std::size_t m = 0; m < methods.size(); ++m) {
      line += fmt::format(" | {:>14}", tallies[m][set].Format());
    }
    std::printf("%s\n", line.c_str());
  }
  std::string overall = fmt::format("{:<28}", "all 42 scenarios");
  for (std::size_t m = 0; m < methods.size(); ++m) {
    overall += fmt::format(" | {:>14}", tallies[m][0].Format());
  }
  std::printf("%s\n\n", overall.c_str());
  for (std::size_t m = 0; m < methods.size(); ++m) {
    std::printf("  %-15s %7.1f s on %u threads (%zu series, each judged twice)\n",
                methods[m].name.c_str(), seconds[m], threads, all.size());
  }
  return 0;
}
