// `sentinel detect`: temporal aberration detection over count series in a CSV file
// (docs/detect.md is the contract).
//
// Reads `series,time,count` rows (app/detect_input.h), or builds the weekly series of a node's
// stored reports (app/detect_series.h), runs one detector on each series and
// writes one row per series and time step: series,time,observed,expected,upperbound,alarm, as
// CSV or JSON Lines. Exit 0 on success, 2 on a usage or input error (the message names the file,
// line and column). Methods live in one table (detect_command.cc): a new detector is one entry
// there plus its parameters here and flags in cli.cc.
#pragma once

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "app/detect_series.h"
#include "app/node.h"
#include "core/common/status.h"
#include "core/detect/detection.h"
#include "core/detect/farrington.h"
#include "core/detect/signal.h"

namespace sentinel::app {

struct DetectCommandOptions {
  std::string method;           // ears-c1, ears-c2, ears-c3, farrington, noufaily, cusum, first
  std::string input;            // CSV file; "-" = stdin; empty: the series of a node's database
  std::string db;               // without input: the node's database (SQLite file or postgresql://)
  std::string kind;             // with db: only reports of this kind ("seizure" ...); empty: all
  StoreSeriesSelection select;  // with db: which series (app/detect_series.h)
  // With db: count the reports a country's organisations all see (distributed to everyone, and
  // that country's national ones), as live detection does for that country's signals; empty:
  // those distributed to everyone.
  std::string audience;
  std::string format = "csv";  // csv | json (JSON Lines)
  bool signals = false;        // one row per signal (alarms folded into episodes), not per step
  int max_gap = 1;             // with signals: quiet steps that do not end a signal
  // Named as R surveillance's control lists.
  // control$alpha: EARS and Farrington a one-sided level (empty: 0.001 for EARS, 0.05 for
  // Farrington); cusum the negative-binomial dispersion (empty: estimated on the baseline).
  std::optional<double> alpha;
  int baseline = 7;           // EARS control$baseline
  double min_sigma = 0;       // EARS control$minSigma (on load series: on the log10 scale)
  double load_floor = 0.001;  // load series: loads below it count as it (core/detect/loads.h)
  std::optional<int> b, w;    // Farrington control$b, control$w; empty: the preset's
  // Farrington's fitted models, kept between judgements of the same series (live detection);
  // null: none kept.
  detect::FarringtonMemo* farrington_memo = nullptr;
  std::optional<int> frequency;  // steps per year; empty: 52 (weeks, integers) or 365 (dates)
  // cusum, R's glrnb control list.
  double c_arl = 5;                // control$c.ARL
  std::optional<double> mu0;       // control$mu0, constant; empty: fitted on the baseline
  std::optional<double> theta;     // control$theta; empty: the GLR detector
  int M = -1;                      // control$M
  int S = 1;                       // control$mu0$S
  bool trend = false;              // control$mu0$trend
  std::optional<int> range_start;  // control$range[1], 1-based; empty: frequency + 1
  // scan, the space-time permutation scan (app/detect_scan.h); --alpha: the level of an alarm
  // (default 0.05).
  std::optional<int> max_window;  // steps in a cylinder; empty: 7 for days, else 4
  double max_share = 0.5;         // of all cases in a cylinder's base
  std::optional<double> max_radius_km;
  int replicates = 999;
  int stop_after = 0;  // sequential Monte Carlo: stop once this many replicates beat the cluster
  std::uint64_t seed = 1;
  bool retrospective = false;  // windows anywhere, not only those ending at the last step
  std::int64_t min_cases = 2;
  int max_clusters = 10;
  std::optional<int> study_steps;  // the last steps scanned; empty: all (input), 52 (db)
  std::string places;              // with db: place,lat,lon CSV; empty: the shipped centroids
  // combinations (app/detect_combinations.h); --alpha: the family-wise level (default 0.05).
  int window = 4;                 // the last steps judged
  std::int64_t min_together = 1;  // fewest samples holding a pair
  // precursors (app/detect_precursors.h); --window as for combinations.
  double max_z = 3.5;   // modified z-score beyond which a quantity is unusual
  int min_history = 5;  // earlier quantities needed to judge one
};

// The method names `--method` knows: the series detectors of the table, then `scan`.
std::vector<std::string> DetectMethodNames();

// One series judged by a method, as `sentinel detect` judges it, from step `first_step` on
// (methods that must run from the start judge earlier steps too; callers skip them). The live
// detector of `sentinel serve` calls it. InvalidArgument for an unknown or unavailable method,
// or bad parameters.
Result<std::vector<detect::Judgement>> JudgeSeries(std::string_view method,
                                                   const detect::CountSeries& series,
                                                   const DetectCommandOptions& options,
                                                   std::size_t first_step);

// A load series (CountSeriesFile::loads) judged as `sentinel detect --kind wastewater` judges it;
// InvalidArgument for a method that models counts. JudgesLoads: whether the method may.
Result<std::vector<detect::Judgement>> JudgeLoadSeries(std::string_view method,
                                                       const detect::CountSeries& series,
                                                       const DetectCommandOptions& options);
bool JudgesLoads(std::string_view method);

// A signal as `detect --signals --format json` writes it and the server stores it: detector,
// its effective parameters (named as R's control lists), first and last alarmed steps, alarms,
// latest and peak judgements, and what the detector saw (`data`: source, frequency, span; for
// `loads`, the measurements among the steps and their unit).
nlohmann::ordered_json SignalJson(std::string_view method, const DetectCommandOptions& options,
                                  const std::string& series_name, const detect::CountSeries& series,
                                  TimeKind time_kind, const detect::Signal& signal,
                                  const std::string& source, bool loads = false);

// A time as JSON writes it: a step index as a number, a date or ISO week as its text.
nlohmann::ordered_json TimeJson(TimeKind kind, std::int64_t time);

// The node of --db, opened to read (never created), and whom `detect` reads it as: the node
// administrator, seeing as the organisations of --audience's country see.
struct DetectNode {
  Node node;
  reports::Principal viewer;
};
Result<DetectNode> OpenDetectNode(const DetectCommandOptions& options, std::ostream& err);

// The text of --input ("-": stdin) and its name for messages; nothing with --db. InvalidArgument
// unless exactly one of --input and --db is given (`columns` names the CSV the method reads).
struct DetectInputText {
  std::string text, source;
};
Result<DetectInputText> ReadDetectInput(const DetectCommandOptions& options, std::istream& in,
                                        std::string_view columns);

// What a detector saw, as its JSON output records it: the input file, "stdin", or the database.
std::string DetectSourceName(const DetectCommandOptions& options);

// Methods that write whole results, not steps (scan, combinations, precursors): the format is
// csv or json, and --signals does not apply (`row` names what a row is).
Status CheckWholeOutputOptions(const DetectCommandOptions& options, std::string_view row);

// The last step a windowed detector judges: --to's ISO week with --db, else the latest item's
// time (0 without items).
template <typename Item>
Result<std::int64_t> WindowEnd(const DetectCommandOptions& options,
                               const std::vector<Item>& items) {
  if (!options.db.empty() && options.select.to) {
    auto day = reports::ParseDay(*options.select.to);
    if (!day.ok()) return Status::InvalidArgument("--to: " + day.status().message());
    return IsoWeekIndex(*day);
  }
  std::optional<std::int64_t> last;
  for (const Item& item : items) last = std::max(last.value_or(item.time), item.time);
  return last.value_or(0);
}

// The series `detect` reads: the --input CSV, or the weekly series of the --db node's reports.
Result<CountSeriesFile> ReadDetectSeries(const DetectCommandOptions& options, std::istream& in,
                                         std::ostream& err);

int RunDetect(const DetectCommandOptions& options, std::istream& in, std::ostream& out,
              std::ostream& err);

}  // namespace sentinel::app
