// Live detection in `sentinel serve`: every acknowledged report re-runs the detectors on the
// series it changed, and what they find is stored as signals (Store::PutSignals), visible at
// /api/v1/signals, within a second of the acknowledgement.
//
// Reported() is called after a Submit is acknowledged. It only notes, per substance and per
// class of a substance (kept as a substance is, under reports::ClassSignalKey), which audiences
// (reports::SignalAudienceSees: the organisations of one country), which places (the report's
// country, its subdivision, "*") and from which ISO week the reports touched, and returns. One
// worker thread takes everything noted so far (a round): it reads the touched substances'
// weekly counts in one query (Store::DetectionCountsOf) and the touched classes' in another
// (Store::ClassCountsOf: a report counts once in a class however many of its substances it
// names), both kept between rounds, so that afterwards only the touched weeks are read again,
// and the whole every kRefresh; and the signals still alive near the touched weeks (kept
// likewise, and updated with what the worker writes).
// Then, per substance and on every core: it builds, for each touched audience, the weekly series
// of each touched place from the counts that audience may see,
// zero-filled from the node's first report week to the substance's last (audiences seeing the
// same series share it); judges it with each configured method (Farrington's fits of steps
// whose reference weeks did not change reused, detect::FarringtonMemo) from the touched week, or
// from the series' open signal's latest alarm when that is earlier, to the series' end; and folds
// the alarms into that open signal (detect::SignalFolder), so that a continuing episode updates its
// signal. The round's changed signals are stored in one write. Reports arriving meanwhile are
// taken by the next round, so under load rounds grow instead of queueing.
//
// Precursor incidents: each touched (chemical, audience, week) is judged as `sentinel detect
// --method precursors --window 1 --to <week>` judges it over the shipments that audience may
// see (the chemical's history read from the store, detect::JudgePrecursorShipments); the week's
// unusual shipments become one signal per destination country, "<chemical>@<destination>",
// listing them with their reasons, and a later incident of that week rewrites it.
//
// First in a form, and new combinations: a seizure touches (substance, form), and a report
// naming several substances touches each with each other, in its country and everywhere. The
// worker reads, for the touched substances, their earliest seizure in each form and earliest
// report with each other substance, by place, distribution and source organisation's country
// (Store::FirstSeizuresInForm, FirstReportsTogether; kept for kRefresh), so that it knows, for
// every audience at once, whether it may see one before the touched week. One never seen before
// is a signal of detector "first-in-form" or "new-combination" (only between substances both
// seen there before: a pair with a new substance is its first detection), one per substance,
// place and week, listing the forms or partners first seen then (a second one that week is
// added to it). Judged weeks are remembered, so a week is judged once.
//
// Loads and scans take longer than the counts (loads read the measurements themselves; a scan
// runs replicates), so each has its own worker thread and the counts' signals never wait on
// them; the scan's runs at a lower priority (nice +10), taking the cores the requests leave.
//
// Wastewater loads: a measurement touches its analyte at its site ("<country>/<site>") and is
// counted in no count series (a site sampling weekly is no weekly occurrence). The loads worker
// reads the analyte's measurements in that country as each audience sees them (audiences whose
// organisations measured nothing there nationally share one read), builds the load series of
// `sentinel detect --db --kind wastewater`, judges each touched site with each `load_methods`
// method (core/detect/loads.h) and folds the alarms into the site's open signal, as above.
//
// Space-time clusters ("scan"): a report naming a subdivision touches its substance's scan. The
// scan worker takes the touched substances, reads their weekly counts by subdivision
// (Store::DetectionCountsOf), and per audience scans the last 52 weeks up to the current one
// prospectively, as `sentinel detect --db --method scan --to <today>` does (audiences seeing the
// same counts share one scan; replicates stop early once no cluster can be an alarm). Each
// cluster with p <= scan_alpha is a signal, "<substance>@<centre>"; a cluster in a later scan
// that shares a location with a signal alive within max_gap weeks continues that signal. A
// substance is scanned at most once every scan_every: the scan's p-value is that of one look,
// and a look per report would only multiply chance clusters (docs/detect_scan.md).
//
// Pairs beyond expectation ("combinations"): a report holding two items or more (substances, a
// seizure's form) marks its audiences; the scan worker, at most once every combinations_every,
// reads each marked audience's reports as samples and judges the last four weeks as `sentinel
// detect --db --method combinations --to <today>` does; each pair beyond expectation is a
// signal (pairs never together before are new-combination's), continued while it lasts.
//
// Signals are derived data: a late report that changes a past week's count does not retract a
// signal already raised, and reports stored while no server ran (sentinel import) or by another
// node are judged when a later report touches the same substance (or by `sentinel detect --db`).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "core/common/status.h"
#include "core/detect/farrington.h"
#include "core/detect/signal.h"
#include "core/reports/store.h"

namespace sentinel::app {

// Where something (a substance, a substance in a form) was first reported: the earliest day
// (DayNumber; a week's Monday for weekly counts) by place ("*" or a country) among reports
// distributed to everyone, and among national ones by (place, the organisations' country).
struct FirstWeeks {
  std::map<std::string, std::int64_t> everyone;
  std::map<std::pair<std::string, std::string>, std::int64_t> national;
};
void AddFirst(FirstWeeks& first, const std::string& country, const std::string& org_country,
              reports::Distribution distribution, std::int64_t day);

struct LiveDetectionOptions {
  // Methods of `sentinel detect` run on every touched series, with their default parameters.
  // Those that judge a step from its history alone: first, ears-c1..c3, farrington, noufaily.
  // And, below: `precursors`, which judges the week of every precursor incident against the
  // chemical's history; `first-in-form`, a seizure's substance in a form never seen for it; and
  // `new-combination`, two known substances never before reported together.
  // `scan`: the prospective space-time permutation scan of the substances whose reports name a
  // subdivision.
  // `combinations`: pairs found together more often than expected (`detect --method
  // combinations`), judged at most once every combinations_every.
  std::vector<std::string> methods = {"first",           "noufaily", "precursors",  "first-in-form",
                                      "new-combination", "scan",     "combinations"};
  // Methods run on wastewater load series (first, ears-c1..c3), with the parameters below. A
  // 28-measurement baseline and a 12% floor on the spread alarm on 0.15% of the demo node's
  // site-weeks (docs/detect.md, "Wastewater loads"); EARS' 7 on 1.8%.
  std::vector<std::string> load_methods = {"first", "ears-c1"};
  int load_baseline = 28;
  double load_min_sigma = 0.05;  // log10
  // The scan: the level of a cluster worth a signal (p <= 0.01 is a recurrence interval of two
  // years of weekly looks), the least time between two scans of one substance, and where the
  // places are (place,lat,lon CSV; empty: the shipped centroids).
  double scan_alpha = 0.01;
  std::chrono::milliseconds scan_every{60'000};
  std::string places;
  // Combinations beyond expectation read every report an audience may see: a pass every ten
  // minutes at most, on the scan worker.
  std::chrono::milliseconds combinations_every{600'000};
  // As `detect --signals --max-gap`. A stored signal whose latest alarm lies more than max_gap
  // weeks before the touched week is over (the weeks between were judged quiet when they were
  // touched), so only signals alive since then are read back.
  int max_gap = 1;
};

// Which methods may run live: InvalidArgument naming the first that may not (`loads`: on load
// series).
Status ValidateLiveMethods(const std::vector<std::string>& methods, bool loads = false);

class LiveDetector {
 public:
  // `store` outlives the detector. Failures of a round are written to `log` and the round's
  // work is dropped (the next report of the substance judges it again).
  LiveDetector(reports::Store& store, LiveDetectionOptions options, std::ostream& log);
  ~LiveDetector();  // finishes the round under way, then stops
  LiveDetector(const LiveDetector&) = delete;
  LiveDetector& operator=(const LiveDetector&) = delete;

  // Acknowledged reports of `who`; never blocks on the store.
  void Reported(const reports::Principal& who, const std::vector<reports::SubmitItem>& items);

  // Waits until every report noted before the call has been judged and its signals stored
  // (scans included).
  void Flush();

  std::uint64_t rounds() const;

 private:
  // One substance's touched series: (audience, place) -> earliest touched week. The audience
  // "" stands for every audience (a report distributed to everyone).
  struct Touched {
    std::string name;     // the substance's recorded name, for series names
    bool reread = false;  // a correction: its counts are read again whole
    std::map<std::pair<std::string, std::string>, std::int64_t> series;
  };

  // A chemical's touched precursor weeks: audience ("" every one) -> weeks.
  struct TouchedShipments {
    std::map<std::string, std::set<std::int64_t>> weeks;
  };
  // What a substance was touched with: (attribute, audience "" or a country, place) -> the
  // earliest week. An attribute is a form ("form:tablet") or another substance of the same
  // report ("with:<key>").
  struct TouchedWith {
    std::string name;
    std::map<std::string, std::string> partner_names;  // key -> name
    std::map<std::tuple<std::string, std::string, std::string>, std::int64_t> weeks;
  };
  // An analyte's touched wastewater sites: (audience "" or a country, "<country>/<site>") ->
  // the earliest touched week.
  struct TouchedSites {
    std::map<std::pair<std::string, std::string>, std::int64_t> weeks;
  };
  struct Round {
    std::map<std::string, Touched> series;              // substance key -> ...
    std::map<std::string, TouchedShipments> shipments;  // chemical key -> ...
    std::map<std::string, TouchedWith> first_with;      // substance key -> ...
    bool empty() const { return series.empty() && shipments.empty() && first_with.empty(); }
  };

  void Loop();
  void RunRound(const Round& round);
  void Log(const std::string& message);  // one line, "sentinel serve: " first; any thread
  // Judges the round's substances with their forms and partners, and stores the signals of
  // those first seen.
  Status JudgeFirstWith(const std::map<std::string, TouchedWith>& touched_with,
                        const std::vector<std::string>& audiences);
  // Reads into first_cache_ the earliest seizures by form and reports with each other
  // substance (Store::FirstSeizuresInForm, FirstReportsTogether) of the touched substances not
  // cached, or cached longer than kRefresh ago.
  Status ReadFirsts(const std::map<std::string, TouchedWith>& touched_with);
  // Judges the touched wastewater sites and stores the signals that changed (loads worker).
  Status JudgeSites(const std::map<std::string, TouchedSites>& sites,
                    const std::vector<std::string>& audiences);
  // The loads worker judges the wastewater sites touched since its last pass; the scan worker
  // scans the substances touched since its last (each at most once every scan_every). Both
  // store the signals that changed.
  void LoadsLoop();
  void ScanLoop();
  Status ScanSubstances(const std::map<std::string, std::string>& substances);
  // Judges the pairs of each audience's last four weeks (`detect --method combinations`) and
  // stores those beyond expectation (scan worker).
  Status JudgeCombinationsOf(const std::set<std::string>& audiences);
  // Judges the round's precursor weeks and stores the signals of their unusual shipments.
  Status JudgeShipments(const std::map<std::string, TouchedShipments>& shipments,
                        const std::vector<std::string>& audiences);
  // Reads the counts and recent signals of a slice of the round's substances at once, judges
  // them and stores the signals that changed.
  Status JudgeSlice(const std::vector<std::string>& keys,
                    const std::map<std::string, Touched>& round,
                    const std::vector<std::string>& audiences);

  // Reads the slice's counts into cache_: whole for substances not cached, corrected or cached
  // longer than kRefresh ago (reports stored by other nodes on one database, or imported, reach
  // signals within that), else only the weeks from the earliest touched one.
  Status ReadCounts(const std::vector<std::string>& keys,
                    const std::map<std::string, Touched>& round);

  static constexpr std::size_t kSubstancesPerRead = 500;
  static constexpr std::chrono::seconds kRefresh{30};
  static constexpr std::size_t kMaxCachedSubstances = 20'000;
  static constexpr std::size_t kMaxFirstsKnown = 500'000;

  // The weekly counts each substance was last read with (worker thread only).
  struct CachedCounts {
    std::vector<reports::DetectionCountRow> rows;
    std::chrono::steady_clock::time_point read_at;
  };
  std::map<std::string, CachedCounts> cache_;
  // Each substance's earliest reports by attribute ("form:tablet", "with:<key>"), as last read
  // (worker thread only).
  struct CachedFirsts {
    std::map<std::string, FirstWeeks> with;
    std::chrono::steady_clock::time_point read_at;
  };
  std::map<std::string, CachedFirsts> first_cache_;

 public:
  // The latest-starting signal of each series, (substance or class, audience, detector, place),
  // as a judgement continues it: its first week and the signal (none if unreadable).
  struct OpenSignal {
    std::string first_week;
    std::optional<detect::Signal> signal;
  };
  using OpenSignals =
      std::map<std::tuple<std::string, std::string, std::string, std::string>, OpenSignal>;

 private:
  // The open signals of the substances judged lately (worker thread only): read from the store
  // (Store::RecentSignals) for a substance not read, read longer than kRefresh ago or from a
  // later week than a round needs, and kept up to date with what the worker writes, since
  // reading them back each round (with their bodies) cost more than judging.
  OpenSignals open_;
  // Farrington's fits of the steps judged lately: a series judged again when a report arrives
  // only refits the steps whose reference weeks changed.
  detect::FarringtonMemo farrington_memo_;
  std::map<std::string, std::pair<std::chrono::steady_clock::time_point, std::int64_t>>
      open_read_;  // key -> when read, from which week
  Status ReadOpenSignals(const std::vector<std::string>& keys, std::int64_t since);
  void ForgetOpenSignals(const std::vector<std::string>& keys);
  std::optional<std::int64_t> first_week_start_;

  reports::Store& store_;
  LiveDetectionOptions options_;
  std::ostream& log_;
  std::mutex log_mu_;
  std::optional<std::map<std::string, std::pair<double, double>, std::less<>>>
      gazetteer_;  // the scan's places (scan worker only)
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Round pending_;
  bool judge_shipments_ = false;  // "precursors" is configured
  bool judge_forms_ = false;      // "first-in-form" is configured
  bool judge_pairs_ = false;      // "new-combination" is configured
  // (substance, attribute, audience "" or a country, place) -> the earliest week known to hold
  // it, or judged (worker thread only); a week at or after it is not a first.
  std::map<std::tuple<std::string, std::string, std::string, std::string>, std::int64_t>
      first_seen_;
  std::uint64_t noted_ = 0, done_ = 0;  // Reported calls noted / judged
  std::uint64_t rounds_ = 0;
  bool stopping_ = false;
  // The loads and scan workers' queues (under mu_): wastewater sites (analyte key -> ...), and
  // substances to scan (key -> name); how far each worker has come; when each substance was
  // last scanned (scan worker only).
  bool scan_ = false;  // "scan" is configured
  std::map<std::string, TouchedSites> sites_pending_;
  std::map<std::string, std::string> scan_pending_;
  bool combinations_ = false;                   // "combinations" is configured
  std::set<std::string> combinations_pending_;  // audiences ("" every one)
  std::optional<std::chrono::steady_clock::time_point> combinations_at_;  // scan worker only
  std::uint64_t loads_noted_ = 0, loads_done_ = 0, scan_noted_ = 0, scan_done_ = 0;
  std::map<std::string, std::chrono::steady_clock::time_point> scanned_at_;
  static constexpr int kScanNice = 10;
  std::thread worker_;
  std::thread loads_worker_;
  std::thread scan_worker_;
};

}  // namespace sentinel::app
