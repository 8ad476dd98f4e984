#include "app/live_detection.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <iterator>
#include <limits>
#include <ostream>
#include <set>
#include <tuple>

#include "app/detect_combinations.h"
#include "app/detect_command.h"
#include "app/detect_input.h"
#include "app/detect_precursors.h"
#include "app/detect_scan.h"
#include "app/detect_series.h"
#include "core/common/parallel.h"
#include "core/detect/signal.h"

namespace sentinel::app {
namespace {

namespace chr = std::chrono;

// Methods whose judgement of a step needs only the steps before it, so that a series can be
// judged from its touched week on. CUSUM carries its chart from the start of its range.
// The detectors of a substance first seen in a form, and of two known substances first seen in
// one report, and how TouchedWith names the two: "form:tablet", "with:<key>".
constexpr std::string_view kFirstInForm = "first-in-form";
constexpr std::string_view kNewCombination = "new-combination";
constexpr std::string_view kFormPrefix = "form:";
constexpr std::string_view kPartnerPrefix = "with:";

constexpr std::string_view kLiveMethods[] = {
    "first",      "ears-c1",       "ears-c2",         "ears-c3", "farrington",  "noufaily",
    "precursors", "first-in-form", "new-combination", "scan",    "combinations"};

// Methods that judge no series of counts.
bool JudgesSeries(std::string_view method) {
  return method != kPrecursorsMethod && method != kFirstInForm && method != kNewCombination &&
         method != kScanMethod && method != kCombinationsMethod;
}

bool Configured(const std::vector<std::string>& methods, std::string_view method) {
  return std::find(methods.begin(), methods.end(), method) != methods.end();
}

std::int64_t WeekOfDayNumber(std::int64_t day) {
  return IsoWeekIndex(chr::sys_days{chr::days{day}});
}

std::string MondayOf(std::int64_t week) { return reports::FormatDay(IsoWeekMonday(week)); }

std::optional<double> OptionalNumber(const nlohmann::json& j) {
  if (!j.is_number()) return std::nullopt;
  return j.get<double>();
}

std::optional<detect::Judgement> StepFromJson(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("time") || !j["time"].is_string()) return std::nullopt;
  const auto time = ParseTime(TimeKind::kIsoWeek, j["time"].get<std::string>());
  if (!time || !j.contains("observed") || !j["observed"].is_number()) return std::nullopt;
  detect::Judgement step;
  step.time = *time;
  step.observed = j["observed"].get<double>();
  step.expected = OptionalNumber(j.value("expected", nlohmann::json()));
  step.upperbound = OptionalNumber(j.value("upperbound", nlohmann::json()));
  step.alarm = true;  // stored steps are alarmed ones
  return step;
}

// A stored signal back as the folder continues it; empty when its body is not one Sentinel
// wrote (then the series starts a new signal rather than guess).
std::optional<detect::Signal> SignalFromRecord(const reports::SignalRecord& record) {
  const auto first = reports::ParseDay(record.first_week);
  const auto last = reports::ParseDay(record.last_week);
  if (!first.ok() || !last.ok() || !record.body.is_object()) return std::nullopt;
  const auto alarms = record.body.find("alarms");
  const auto latest = StepFromJson(record.body.value("latest", nlohmann::json()));
  const auto peak = StepFromJson(record.body.value("peak", nlohmann::json()));
  if (alarms == record.body.end() || !alarms->is_number_integer() || !latest || !peak) {
    return std::nullopt;
  }
  detect::Signal signal;
  signal.first_time = IsoWeekIndex(*first);
  signal.last_time = IsoWeekIndex(*last);
  signal.alarms = alarms->get<int>();
  signal.latest = *latest;
  signal.peak = *peak;
  return signal;
}

// The signal of one week's judgement (no episode to fold: first in a form, new combination,
// precursor anomalies): its record, and in `body` the fields every signal has beside the
// detector's own (series, parameters, alarms, data).
reports::SignalRecord WeekSignal(const std::string& audience, std::string_view detector,
                                 const std::string& key, const std::string& name,
                                 const std::string& place, std::int64_t week,
                                 nlohmann::ordered_json body) {
  body["detector"] = detector;
  body["first"] = FormatTime(TimeKind::kIsoWeek, week);
  body["last"] = body["first"];
  body["substance"] = {{"key", key}, {"name", name}};
  body["place"] = place;
  reports::SignalRecord record;
  record.audience = audience;
  record.detector = detector;
  record.substance_key = key;
  record.place = place;
  record.first_week = MondayOf(week);
  record.last_week = record.first_week;
  record.body = nlohmann::json(body);
  return record;
}

// One substance's weekly counts as the audiences see them (reports::SignalAudienceSees): what
// everyone may see, and per country what its organisations' national reports add; dense, from
// the node's first week, for the touched places and everywhere ("*").
struct SubstanceCounts {
  std::int64_t first = 0;                               // the week of element 0
  std::map<std::string, std::vector<double>> everyone;  // place -> counts
  std::int64_t everyone_last = std::numeric_limits<std::int64_t>::min();
  std::map<std::string, std::map<std::string, std::vector<double>>> national;  // country -> ...
  std::map<std::string, std::int64_t> national_last;

  // The last week the audience sees a count in, anywhere.
  std::int64_t LastSeenBy(const std::string& audience) const {
    const auto found = national_last.find(audience);
    return found == national_last.end() ? everyone_last : std::max(everyone_last, found->second);
  }
};

// Touched series: audience -> place -> earliest touched week.
using TouchedSeries = std::map<std::string, std::map<std::string, std::int64_t>>;

SubstanceCounts CountsFor(const std::vector<const reports::DetectionCountRow*>& rows,
                          std::int64_t first, const TouchedSeries& touched) {
  SubstanceCounts counts;
  counts.first = first;
  std::int64_t last = first;
  for (const reports::DetectionCountRow* row : rows) {
    last = std::max(last, WeekOfDayNumber(row->week_start));
  }
  const auto size = static_cast<std::size_t>(last - first + 1);
  std::set<std::string, std::less<>> places = {"*"};
  for (const auto& [audience, touched_places] : touched) {
    for (const auto& entry : touched_places) places.insert(entry.first);
  }
  // A row counts everywhere, in its country and in its subdivision (when it names one).
  const auto add = [&](std::map<std::string, std::vector<double>>& by_place,
                       const reports::DetectionCountRow& row, std::size_t at) {
    for (const std::string_view place : {std::string_view("*"), std::string_view(row.country),
                                         std::string_view(row.subdivision)}) {
      if (place.empty() || !places.count(place)) continue;
      std::vector<double>& series = by_place[std::string(place)];
      if (series.empty()) series.assign(size, 0);
      series[at] += static_cast<double>(row.reports);
    }
  };
  for (const reports::DetectionCountRow* row : rows) {
    const std::int64_t week = WeekOfDayNumber(row->week_start);
    if (week < first) continue;
    const auto at = static_cast<std::size_t>(week - first);
    if (row->distribution == reports::Distribution::kEveryone) {
      add(counts.everyone, *row, at);
      counts.everyone_last = std::max(counts.everyone_last, week);
    } else if (touched.count(row->org_country) &&
               reports::SignalAudienceSees(row->org_country, *row)) {
      add(counts.national[row->org_country], *row, at);
      auto [it, inserted] = counts.national_last.try_emplace(row->org_country, week);
      if (!inserted) it->second = std::max(it->second, week);
    }
  }
  return counts;
}

using OpenSignals = LiveDetector::OpenSignals;

// `r`, judged in its last week, continues the stored signal `stored` (a scan's cluster, a pair
// beyond expectation): it keeps its key's first week and its first week in the body, and counts
// one more week of alarms when its last week is later. Equal to what is stored, it is marked
// unchanged (its detector cleared): judged again on the same reports, nothing is news.
void ContinueSignal(const reports::SignalRecord& stored, reports::SignalRecord& r) {
  const int alarms = stored.body.is_object() ? std::max(1, stored.body.value("alarms", 1)) : 1;
  r.body["alarms"] = r.last_week > stored.last_week ? alarms + 1 : alarms;
  if (stored.body.is_object()) r.body["first"] = stored.body.value("first", r.body["first"]);
  r.first_week = stored.first_week;
  r.last_week = std::max(r.last_week, stored.last_week);
  if (r.last_week == stored.last_week && r.body == stored.body) r.detector.clear();
}

// Stores the signals not marked unchanged.
Status PutChanged(reports::Store& store, std::vector<reports::SignalRecord> signals) {
  std::erase_if(signals, [](const reports::SignalRecord& r) { return r.detector.empty(); });
  if (signals.empty()) return Status::Ok();
  return store.PutSignals(signals);
}

// The node reading as the organisations of `audience` (a country; "" none) all read: what
// everyone may see and that country's national reports (reports::SignalAudienceSees).
reports::Principal AudienceViewer(const std::string& audience) {
  reports::Principal viewer = reports::NodeAdministrator();
  viewer.country = audience;
  return viewer;
}

// Keeps `r` as its series' open signal when it starts no earlier than the one kept: the
// latest-starting of a series' signals is the one a judgement continues.
void AddOpen(OpenSignals& open, const reports::SignalRecord& r) {
  auto [it, inserted] = open.try_emplace({r.substance_key, r.audience, r.detector, r.place});
  if (!inserted && r.first_week < it->second.first_week) return;
  it->second = {r.first_week, SignalFromRecord(r)};
}

OpenSignals OpenSignalsOf(const std::vector<reports::SignalRecord>& recent) {
  OpenSignals open;
  for (const reports::SignalRecord& r : recent) AddOpen(open, r);
  return open;
}

// An audience judged on a series, from the week it touched.
struct Member {
  std::string audience;
  std::int64_t touched_week;
};

// Where a member's judgement starts: the open signal it continues (one alive within max_gap
// weeks of the touched week), and the step from which to fold, both in [first, last].
struct Continuation {
  std::optional<detect::Signal> signal;
  std::int64_t from = 0;
};

std::vector<Continuation> ContinuationsOf(const OpenSignals& open, const std::string& key,
                                          const std::string& method, const std::string& place,
                                          const std::vector<Member>& members, int max_gap,
                                          std::int64_t first, std::int64_t last) {
  std::vector<Continuation> out(members.size());
  for (std::size_t m = 0; m < members.size(); ++m) {
    Continuation& c = out[m];
    if (const auto it = open.find({key, members[m].audience, method, place}); it != open.end()) {
      c.signal = it->second.signal;
    }
    if (c.signal && c.signal->last_time < members[m].touched_week - max_gap - 1) c.signal.reset();
    c.from = std::clamp(members[m].touched_week, first, last);
    if (c.signal) c.from = std::clamp(std::min(c.from, c.signal->last_time), first, last);
  }
  return out;
}

// Folds a series' judgements into each member's continued signal and appends the records of
// the signals that changed; `body_of` makes a signal's body, once for the members whose folds
// end in equal signals.
void FoldAlarms(const std::string& method, const std::string& key, const std::string& place,
                const std::vector<Member>& members, const std::vector<Continuation>& continued,
                const std::vector<detect::Judgement>& judged, int max_gap,
                const std::function<nlohmann::json(const detect::Signal&)>& body_of,
                std::vector<reports::SignalRecord>* changed) {
  std::map<std::tuple<std::int64_t, std::int64_t, int, std::int64_t, double, std::int64_t, double,
                      double>,
           nlohmann::json>
      bodies;
  for (std::size_t m = 0; m < members.size(); ++m) {
    detect::SignalFolder folder(max_gap, continued[m].signal);
    for (const detect::Judgement& j : judged) {
      if (j.time >= continued[m].from) folder.Add(j);
    }
    for (const detect::Signal& signal : folder.Changed()) {
      auto [body, first_of_its_kind] =
          bodies.try_emplace({signal.first_time, signal.last_time, signal.alarms,
                              signal.latest.time, signal.latest.observed, signal.peak.time,
                              signal.peak.observed, signal.peak.upperbound.value_or(0)});
      if (first_of_its_kind) body->second = body_of(signal);
      reports::SignalRecord record;
      record.audience = members[m].audience;
      record.detector = method;
      record.substance_key = key;
      record.place = place;
      record.first_week = MondayOf(signal.first_time);
      record.last_week = MondayOf(signal.last_time);
      record.body = body->second;
      changed->push_back(std::move(record));
    }
  }
}

// One substance's touched series, judged with every method and folded into their open signals;
// the signals that changed are appended to *changed. Audiences that see the same series (no
// national reports of their own there, the same last week) share one judgement.
Status JudgeSubstance(const LiveDetectionOptions& options, const std::string& key,
                      const std::string& name, const SubstanceCounts& counts,
                      const TouchedSeries& touched, const OpenSignals& open,
                      detect::FarringtonMemo* memo, std::vector<reports::SignalRecord>* changed) {
  // (place, audience whose national reports it adds or "", last week) -> its audiences
  std::map<std::tuple<std::string, std::string, std::int64_t>, std::vector<Member>> groups;
  for (const auto& [audience, places] : touched) {
    const std::int64_t last = counts.LastSeenBy(audience);
    if (last < counts.first) continue;  // nothing this audience may see
    const auto national = counts.national.find(audience);
    for (const auto& [place, week] : places) {
      const bool own = national != counts.national.end() && national->second.count(place);
      groups[{place, own ? audience : std::string(), last}].push_back({audience, week});
    }
  }

  DetectCommandOptions detect_options;
  detect_options.max_gap = options.max_gap;
  detect_options.farrington_memo = memo;
  for (const auto& [group, members] : groups) {
    const auto& [place, own, last] = group;
    if (static_cast<std::uint64_t>(last - counts.first) >= kMaxSeriesSteps) {
      return Status::InvalidArgument("the stored reports span more weeks than a series may");
    }
    detect::CountSeries series;
    series.frequency = 52;
    const auto steps = static_cast<std::size_t>(last - counts.first + 1);
    series.observed.assign(steps, 0);
    // (clang 14 lets no lambda capture a structured binding, hence the copy.)
    const std::string& series_place = place;
    const auto add = [&series, &series_place,
                      steps](const std::map<std::string, std::vector<double>>& by_place) {
      const auto found = by_place.find(series_place);
      if (found == by_place.end()) return;
      for (std::size_t i = 0; i < steps; ++i) series.observed[i] += found->second[i];
    };
    add(counts.everyone);
    if (!own.empty()) add(counts.national.at(own));
    for (std::size_t i = 0; i < steps; ++i) {
      series.time.push_back(counts.first + static_cast<std::int64_t>(i));
    }
    const std::string series_name = fmt::format("{}@{}", name, place);

    for (const std::string& method : options.methods) {
      if (!JudgesSeries(method)) continue;
      // Each audience continues its own open signal from its own first step; the series is
      // judged once, from the earliest of them.
      const std::vector<Continuation> continued =
          ContinuationsOf(open, key, method, place, members, options.max_gap, counts.first, last);
      std::int64_t earliest = last;
      for (const Continuation& c : continued) earliest = std::min(earliest, c.from);
      auto judged = JudgeSeries(method, series, detect_options,
                                static_cast<std::size_t>(earliest - counts.first));
      if (!judged.ok()) return judged.status();
      FoldAlarms(
          method, key, place, members, continued, *judged, options.max_gap,
          [&](const detect::Signal& signal) {
            nlohmann::ordered_json made = SignalJson(method, detect_options, series_name, series,
                                                     TimeKind::kIsoWeek, signal, "node");
            if (reports::ClassOfSignalKey(key)) {
              made["class"] = name;
            } else {
              made["substance"] = {{"key", key}, {"name", name}};
            }
            made["place"] = series_place;
            return nlohmann::json(made);
          },
          changed);
    }
  }
  return Status::Ok();
}

// Where a substance was first reported, from its weekly counts: the Monday (day number) of
// the earliest week by place ("*" or a country) among reports distributed to everyone, and
// among national ones by the reporting organisations' country.
}  // namespace

void AddFirst(FirstWeeks& first, const std::string& country, const std::string& org_country,
              reports::Distribution distribution, std::int64_t day) {
  const auto earliest = [day](auto& map, const auto& key) {
    auto [it, inserted] = map.try_emplace(key, day);
    if (!inserted) it->second = std::min(it->second, day);
  };
  for (const std::string& place : {country, std::string("*")}) {
    if (distribution == reports::Distribution::kEveryone) {
      earliest(first.everyone, place);
    } else if (distribution == reports::Distribution::kNational) {
      earliest(first.national, std::make_pair(place, org_country));
    }
  }
}

namespace {

FirstWeeks FirstWeeksOf(const std::vector<reports::DetectionCountRow>& rows) {
  FirstWeeks first;
  for (const reports::DetectionCountRow& row : rows) {
    AddFirst(first, row.country, row.org_country, row.distribution, row.week_start);
  }
  return first;
}

}  // namespace

Status ValidateLiveMethods(const std::vector<std::string>& methods, bool loads) {
  for (const std::string& method : methods) {
    if (loads) {
      if (!JudgesLoads(method)) {
        return Status::InvalidArgument(fmt::format(
            "method '{}' cannot judge wastewater loads (these can: first, ears-c1, ears-c2, "
            "ears-c3)",
            method));
      }
      continue;
    }
    if (std::find(std::begin(kLiveMethods), std::end(kLiveMethods), method) ==
        std::end(kLiveMethods)) {
      return Status::InvalidArgument(
          fmt::format("method '{}' cannot run live (these can: {})", method,
                      fmt::join(std::begin(kLiveMethods), std::end(kLiveMethods), ", ")));
    }
  }
  return Status::Ok();
}

LiveDetector::LiveDetector(reports::Store& store, LiveDetectionOptions options, std::ostream& log)
    : store_(store),
      options_(std::move(options)),
      log_(log),
      judge_shipments_(Configured(options_.methods, kPrecursorsMethod)),
      judge_forms_(Configured(options_.methods, kFirstInForm)),
      judge_pairs_(Configured(options_.methods, kNewCombination)),
      scan_(Configured(options_.methods, kScanMethod)),
      combinations_(Configured(options_.methods, kCombinationsMethod)),
      worker_([this] { Loop(); }) {
  if (!options_.load_methods.empty()) loads_worker_ = std::thread([this] { LoadsLoop(); });
  if (scan_ || combinations_) scan_worker_ = std::thread([this] { ScanLoop(); });
}

LiveDetector::~LiveDetector() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
  if (loads_worker_.joinable()) loads_worker_.join();
  if (scan_worker_.joinable()) scan_worker_.join();
}

void LiveDetector::Reported(const reports::Principal& who,
                            const std::vector<reports::SubmitItem>& items) {
  std::lock_guard lock(mu_);
  for (const reports::SubmitItem& item : items) {
    std::string audience;  // "": every audience
    switch (item.report.distribution) {
      case reports::Distribution::kEveryone:
        break;
      case reports::Distribution::kNational:
        audience = who.country;
        break;
      default:
        continue;  // never feeds a signal: see reports::SignalAudienceSees
    }
    const std::int64_t week = IsoWeekIndex(item.report.date);
    if (item.report.kind == reports::Kind::kWastewater) {
      // A load, judged as one: it counts in no count series.
      const auto site = item.report.body.find("site");
      if (!options_.load_methods.empty() && !item.mentions.empty() &&
          item.mentions.front().substance && site != item.report.body.end() && site->is_string()) {
        ++loads_noted_;
        auto [it, inserted] =
            sites_pending_[item.mentions.front().substance->key].weeks.try_emplace(
                {audience, fmt::format("{}/{}", item.report.country, site->get<std::string>())},
                week);
        if (!inserted) it->second = std::min(it->second, week);
      }
      continue;
    }
    // A sample of two items or more (substances, a seizure's form) may hold a pair.
    if (combinations_ && item.mentions.size() + (item.report.form.empty() ? 0 : 1) >= 2) {
      combinations_pending_.insert(audience);
      ++scan_noted_;
    }
    if (scan_ && !item.report.subdivision.empty()) {
      for (const reports::ResolvedMention& mention : item.mentions) {
        if (!mention.substance) continue;
        scan_pending_[mention.substance->key] =
            mention.substance->name.empty() ? mention.substance->key : mention.substance->name;
        ++scan_noted_;
      }
    }
    if (judge_shipments_ && item.report.kind == reports::Kind::kPrecursorIncident &&
        !item.mentions.empty() && item.mentions.front().substance) {
      pending_.shipments[item.mentions.front().substance->key].weeks[audience].insert(week);
    }
    // Each substance's series, and each of its classes', in the report's country, its
    // subdivision and everywhere.
    std::vector<std::string> places = {item.report.country, "*"};
    if (!item.report.subdivision.empty()) places.push_back(item.report.subdivision);
    const auto touch = [&](const std::string& key, const std::string& name) -> Touched& {
      Touched& touched = pending_.series[key];
      touched.reread = touched.reread || !item.supersedes.empty();
      touched.name = name;
      for (const std::string& place : places) {
        auto [it, inserted] = touched.series.try_emplace({audience, place}, week);
        if (!inserted) it->second = std::min(it->second, week);
      }
      return touched;
    };
    for (const reports::ResolvedMention& mention : item.mentions) {
      if (!mention.substance) continue;
      for (const std::string& cls : mention.substance->classes) {
        touch(reports::ClassSignalKey(cls), cls);
      }
    }
    for (const reports::ResolvedMention& mention : item.mentions) {
      if (!mention.substance) continue;
      const Touched& touched =
          touch(mention.substance->key,
                mention.substance->name.empty() ? mention.substance->key : mention.substance->name);
      if (judge_forms_ || judge_pairs_) {
        TouchedWith& with = pending_.first_with[mention.substance->key];
        with.name = touched.name;
        std::vector<std::string> attributes;
        if (judge_forms_ && !item.report.form.empty()) {
          attributes.push_back(fmt::format("{}{}", kFormPrefix, item.report.form));
        }
        for (const reports::ResolvedMention& other : item.mentions) {
          if (!judge_pairs_) break;
          if (!other.substance || other.substance->key == mention.substance->key) continue;
          attributes.push_back(fmt::format("{}{}", kPartnerPrefix, other.substance->key));
          with.partner_names[other.substance->key] =
              other.substance->name.empty() ? other.substance->key : other.substance->name;
        }
        for (const std::string& attribute : attributes) {
          for (const std::string& place : {item.report.country, std::string("*")}) {
            auto [it, inserted] = with.weeks.try_emplace({attribute, audience, place}, week);
            if (!inserted) it->second = std::min(it->second, week);
          }
        }
      }
    }
  }
  ++noted_;
  cv_.notify_all();
}

void LiveDetector::Flush() {
  std::unique_lock lock(mu_);
  const std::uint64_t target = noted_, loads_target = loads_noted_, scan_target = scan_noted_;
  cv_.wait(lock, [&] {
    return (done_ >= target && loads_done_ >= loads_target && scan_done_ >= scan_target) ||
           stopping_;
  });
}

std::uint64_t LiveDetector::rounds() const {
  std::lock_guard lock(mu_);
  return rounds_;
}

void LiveDetector::Loop() {
  while (true) {
    Round round;
    std::uint64_t noted = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || done_ < noted_; });
      if (stopping_ && pending_.empty()) return;
      std::swap(round, pending_);
      noted = noted_;
    }
    RunRound(round);
    {
      std::lock_guard lock(mu_);
      done_ = noted;
      ++rounds_;
    }
    cv_.notify_all();
  }
}

void LiveDetector::RunRound(const Round& whole) {
  if (whole.empty()) return;
  const std::map<std::string, Touched>& round = whole.series;
  auto audiences = store_.OrganisationCountries();
  if (!audiences.ok()) {
    Log(fmt::format("live detection: {}", audiences.status().message()));
    return;
  }
  if (Status s = JudgeShipments(whole.shipments, *audiences); !s.ok()) {
    Log(fmt::format("live detection of precursor incidents: {}", s.message()));
  }
  // What a round costs is mostly round trips to the store: substances are read and their
  // signals written a slice at a time.
  std::vector<std::string> keys;
  keys.reserve(round.size());
  for (const auto& entry : round) keys.push_back(entry.first);
  for (std::size_t begin = 0; begin < keys.size(); begin += kSubstancesPerRead) {
    const std::vector<std::string> slice(
        keys.begin() + static_cast<std::ptrdiff_t>(begin),
        keys.begin() +
            static_cast<std::ptrdiff_t>(std::min(keys.size(), begin + kSubstancesPerRead)));
    if (Status s = JudgeSlice(slice, round, *audiences); !s.ok()) {
      Log(fmt::format("live detection of {} substances: {}", slice.size(), s.message()));
    }
  }
  // After the slices, whose counts tell which substances are new altogether.
  if (Status s = JudgeFirstWith(whole.first_with, *audiences); !s.ok()) {
    first_seen_.clear();  // what a failed round learnt is not trusted
    Log(fmt::format("live detection of first forms and combinations: {}", s.message()));
  }
}

Status LiveDetector::ReadFirsts(const std::map<std::string, TouchedWith>& touched_with) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::string> keys;
  for (const auto& entry : touched_with) {
    const auto cached = first_cache_.find(entry.first);
    if (cached == first_cache_.end() || now - cached->second.read_at > kRefresh) {
      keys.push_back(entry.first);
    }
  }
  if (keys.empty()) return Status::Ok();
  auto in_form = store_.FirstSeizuresInForm(keys);
  if (!in_form.ok()) return in_form.status();
  auto together = store_.FirstReportsTogether(keys);
  if (!together.ok()) return together.status();
  if (first_cache_.size() + keys.size() > kMaxCachedSubstances) first_cache_.clear();
  for (const std::string& key : keys) first_cache_[key] = {{}, now};
  for (const reports::FirstInFormRow& row : *in_form) {
    AddFirst(first_cache_[row.substance_key].with[fmt::format("{}{}", kFormPrefix, row.form)],
             row.country, row.org_country, row.distribution, row.first_day);
  }
  for (const reports::FirstTogetherRow& row : *together) {
    AddFirst(
        first_cache_[row.substance_key].with[fmt::format("{}{}", kPartnerPrefix, row.partner_key)],
        row.country, row.org_country, row.distribution, row.first_day);
  }
  return Status::Ok();
}

Status LiveDetector::JudgeFirstWith(const std::map<std::string, TouchedWith>& touched_with,
                                    const std::vector<std::string>& audiences) {
  // (substance, audience, place, week, detector) -> the forms or partners first seen then
  using Series = std::tuple<std::string, std::string, std::string, std::int64_t, std::string_view>;
  std::map<Series, std::set<std::string>> firsts;
  // What the cached weekly counts say of a substance (empty: not cached): whether `who` ("":
  // what everyone may see) sees a report of it at `place` before `week`, and whether its
  // organisations' national reports hold one there (what they see beyond everyone's).
  std::map<std::string, std::optional<FirstWeeks>> first_weeks;
  const auto first_weeks_of = [&](const std::string& key) -> const std::optional<FirstWeeks>& {
    auto [it, inserted] = first_weeks.try_emplace(key);
    if (inserted) {
      const auto cached = cache_.find(key);
      if (cached != cache_.end()) it->second = FirstWeeksOf(cached->second.rows);
    }
    return it->second;
  };
  const auto before = [](const auto& map, const auto& key, std::int64_t week) {
    const auto found = map.find(key);
    return found != map.end() && found->second < reports::DayNumber(IsoWeekMonday(week));
  };
  const auto seen_before = [&](const std::string& key, const std::string& who,
                               const std::string& place, std::int64_t week) -> std::optional<bool> {
    const auto& first = first_weeks_of(key);
    if (!first) return std::nullopt;
    return before(first->everyone, place, week) ||
           (!who.empty() && before(first->national, std::make_pair(place, who), week));
  };
  if (Status s = ReadFirsts(touched_with); !s.ok()) return s;
  // (clang 14 lets no lambda capture a structured binding, hence the named references.)
  for (const auto& touched_entry : touched_with) {
    const std::string& key = touched_entry.first;
    const TouchedWith& touched = touched_entry.second;
    for (const auto& touched_week : touched.weeks) {
      const std::string& attribute = std::get<0>(touched_week.first);
      const std::string& audience = std::get<1>(touched_week.first);
      const std::string& place = std::get<2>(touched_week.first);
      const std::int64_t week = touched_week.second;
      const bool form = attribute.starts_with(kFormPrefix);
      const std::string partner = form ? "" : attribute.substr(kPartnerPrefix.size());
      const std::string_view detector = form ? kFirstInForm : kNewCombination;
      const std::string shown =
          form ? attribute.substr(kFormPrefix.size()) : touched.partner_names.at(partner);
      // Settled when a week before this one is known to hold the pair for the audience, or for
      // everyone (what everyone may see, every audience sees); or when this week was already
      // judged.
      const auto known = [&](const std::string& who) {
        const auto found = first_seen_.find({key, attribute, who, place});
        return found != first_seen_.end() && found->second <= week;
      };
      const auto learn = [&](const std::string& who, std::int64_t seen) {
        auto [it, inserted] = first_seen_.try_emplace({key, attribute, who, place}, seen);
        if (!inserted) it->second = std::min(it->second, seen);
      };
      const auto judge = [&](const std::string& who, bool first) {
        if (first) firsts[{key, who, place, week, detector}].insert(shown);
        learn(who, week);
      };
      if (known("")) continue;
      // A pair with a substance new here is no new combination of known ones (its first
      // detection says it all); a substance new here is new in every form.
      const auto new_substance = [&](const std::string& who) {
        return !form && (seen_before(key, who, place, week) == false ||
                         seen_before(partner, who, place, week) == false);
      };
      const auto& cached = first_cache_[key].with;
      const auto found = cached.find(attribute);
      const FirstWeeks none;
      const FirstWeeks& first = found == cached.end() ? none : found->second;
      const auto everyone = first.everyone.find(place);
      if (everyone != first.everyone.end() && before(first.everyone, place, week)) {
        learn("", WeekOfDayNumber(everyone->second));
        continue;
      }
      const auto judge_audience = [&](const std::string& a) {
        if (known(a)) return;
        const auto national = first.national.find({place, a});
        if (national != first.national.end() && before(first.national, national->first, week)) {
          learn(a, WeekOfDayNumber(national->second));
        } else {
          judge(a, !new_substance(a));
        }
      };
      if (!audience.empty()) {
        judge_audience(audience);
        continue;
      }
      for (const std::string& a : audiences) judge_audience(a);
      learn("", week);
    }
  }
  if (first_seen_.size() > kMaxFirstsKnown) first_seen_.clear();  // asked again when touched
  if (firsts.empty()) return Status::Ok();

  // What is first seen in one week of one series makes one signal: add to what is stored.
  std::vector<std::string> keys;
  std::int64_t since = std::numeric_limits<std::int64_t>::max();
  for (const auto& [series, these] : firsts) {
    keys.push_back(std::get<0>(series));
    since = std::min(since, std::get<3>(series));
  }
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  auto stored = store_.RecentSignals(keys, MondayOf(since),
                                     {std::string(kFirstInForm), std::string(kNewCombination)});
  if (!stored.ok()) return stored.status();
  std::map<std::tuple<std::string_view, std::string_view, std::string_view, std::string_view,
                      std::string_view>,
           const reports::SignalRecord*>
      stored_by_series;  // (detector, substance, audience, place, first week)
  for (const reports::SignalRecord& r : *stored) {
    if (r.detector == kFirstInForm || r.detector == kNewCombination) {
      stored_by_series[{r.detector, r.substance_key, r.audience, r.place, r.first_week}] = &r;
    }
  }
  std::vector<reports::SignalRecord> changed;
  for (auto& [series, these] : firsts) {
    const auto& [key, audience, place, week, detector] = series;
    const bool form = detector == kFirstInForm;
    const char* const field = form ? "forms" : "partners";
    const std::string monday = MondayOf(week);
    if (const auto found = stored_by_series.find({detector, key, audience, place, monday});
        found != stored_by_series.end()) {
      const nlohmann::json& body = found->second->body;
      const auto known_values = body.find(field);
      if (known_values != body.end() && known_values->is_array()) {
        for (const nlohmann::json& v : *known_values) {
          if (v.is_string()) these.insert(v.get<std::string>());
        }
      }
    }
    const std::string& name = touched_with.at(key).name;
    nlohmann::ordered_json body;
    body["series"] = fmt::format("{}{}{}@{}", name, form ? "/" : "+", fmt::join(these, "+"), place);
    body["parameters"] = nlohmann::ordered_json::object();
    body["alarms"] = 1;
    body[field] = these;
    body["data"] = {{"source", "node"}};
    changed.push_back(WeekSignal(audience, detector, key, name, place, week, std::move(body)));
  }
  return store_.PutSignals(changed);
}

Status LiveDetector::JudgeShipments(const std::map<std::string, TouchedShipments>& shipments,
                                    const std::vector<std::string>& audiences) {
  DetectCommandOptions options;
  options.window = 1;
  const detect::PrecursorOptions settings = PrecursorSettings(options);
  std::vector<reports::SignalRecord> changed;
  for (const auto& [key, touched] : shipments) {
    // audience -> weeks, "" expanded to every audience.
    std::map<std::string, std::set<std::int64_t>> weeks;
    for (const auto& [audience, these] : touched.weeks) {
      for (const std::string& a :
           audience.empty() ? audiences : std::vector<std::string>{audience}) {
        weeks[a].insert(these.begin(), these.end());
      }
    }
    // Each audience's incidents are read and judged: precursor incidents are few, and a
    // national one changes what its country's audience sees.
    for (const auto& [audience, these] : weeks) {
      options.select.substance = key;
      auto file = ShipmentsFromStore(store_, AudienceViewer(audience), options, "");
      if (!file.ok()) return file.status();
      const ShipmentFile& shipments_seen = *file;
      for (const std::int64_t week : these) {
        auto judged = detect::JudgePrecursorShipments(shipments_seen.shipments, week, settings);
        if (!judged.ok()) return judged.status();
        std::map<std::string, std::vector<const detect::ShipmentJudgement*>> unusual;
        for (const detect::ShipmentJudgement& j : *judged) {
          if (j.alarm) unusual[shipments_seen.shipments[j.shipment].destination].push_back(&j);
        }
        for (const auto& [destination, alarmed] : unusual) {
          const std::string& chemical =
              shipments_seen.shipments[alarmed.front()->shipment].chemical;
          nlohmann::ordered_json body;
          body["series"] = fmt::format("{}@{}", chemical, destination);
          body["parameters"] = {{"window", settings.window},
                                {"max_z", settings.max_z},
                                {"min_history", settings.min_history}};
          body["alarms"] = alarmed.size();
          body["shipments"] = nlohmann::ordered_json::array();
          for (const detect::ShipmentJudgement* j : alarmed) {
            body["shipments"].push_back(ShipmentJson(shipments_seen, *j));
          }
          body["data"] = {{"source", "node"}, {"shipments", shipments_seen.shipments.size()}};
          changed.push_back(WeekSignal(audience, kPrecursorsMethod, key, chemical, destination,
                                       week, std::move(body)));
        }
      }
    }
  }
  if (changed.empty()) return Status::Ok();
  return store_.PutSignals(changed);
}

Status LiveDetector::ReadCounts(const std::vector<std::string>& keys,
                                const std::map<std::string, Touched>& round) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::string> whole, recent;
  std::int64_t from = std::numeric_limits<std::int64_t>::max();
  for (const std::string& key : keys) {
    const Touched& touched = round.at(key);
    const auto cached = cache_.find(key);
    if (cached == cache_.end() || touched.reread || now - cached->second.read_at > kRefresh) {
      whole.push_back(key);
      continue;
    }
    recent.push_back(key);
    for (const auto& entry : touched.series) {
      from = std::min(from, reports::DayNumber(IsoWeekMonday(entry.second)));
    }
  }
  if (cache_.size() + whole.size() > kMaxCachedSubstances) cache_.clear();
  // Substances' counts and classes' (Store::ClassCountsOf) of the weeks from `since`, keyed as
  // the round's keys are.
  const auto read_counts = [this](const std::vector<std::string>& keys_read,
                                  std::int64_t since) -> Result<reports::DetectionCounts> {
    std::vector<std::string> substances, classes;
    for (const std::string& key : keys_read) {
      if (const auto cls = reports::ClassOfSignalKey(key)) {
        classes.emplace_back(*cls);
      } else {
        substances.push_back(key);
      }
    }
    auto read = store_.DetectionCountsOf(substances, since, reports::Counted::kOccurrences);
    if (!read.ok() || classes.empty()) return read;
    auto of_classes = store_.ClassCountsOf(classes, since);
    if (!of_classes.ok()) return of_classes.status();
    for (reports::DetectionCountRow& row : of_classes->rows) {
      row.substance_key = reports::ClassSignalKey(row.substance_key);
      read->rows.push_back(std::move(row));
    }
    return read;
  };
  if (!whole.empty()) {
    auto read = read_counts(whole, std::numeric_limits<std::int64_t>::min());
    if (!read.ok()) return read.status();
    first_week_start_ = read->first_week_start;
    for (const std::string& key : whole) cache_[key] = {{}, now};
    for (reports::DetectionCountRow& row : read->rows) {
      cache_[row.substance_key].rows.push_back(std::move(row));
    }
  }
  if (!recent.empty()) {
    auto read = read_counts(recent, from);
    if (!read.ok()) return read.status();
    first_week_start_ = read->first_week_start;
    for (const std::string& key : recent) {
      auto& rows = cache_[key].rows;
      rows.erase(std::remove_if(rows.begin(), rows.end(),
                                [from](const reports::DetectionCountRow& row) {
                                  return row.week_start >= from;
                                }),
                 rows.end());
    }
    for (reports::DetectionCountRow& row : read->rows) {
      cache_[row.substance_key].rows.push_back(std::move(row));
    }
  }
  return Status::Ok();
}

Status LiveDetector::JudgeSlice(const std::vector<std::string>& keys,
                                const std::map<std::string, Touched>& round,
                                const std::vector<std::string>& audiences) {
  if (Status s = ReadCounts(keys, round); !s.ok()) {
    cache_.clear();  // a half-applied refresh must not be trusted
    return s;
  }
  if (!first_week_start_) return Status::Ok();
  const std::int64_t first = WeekOfDayNumber(*first_week_start_);

  std::map<std::string, TouchedSeries> touched;  // key -> audience -> place -> week
  std::map<std::string, SubstanceCounts> counts;
  std::int64_t since = std::numeric_limits<std::int64_t>::max();
  for (const std::string& key : keys) {
    TouchedSeries& series = touched[key];
    for (const auto& [audience_place, touched_week] : round.at(key).series) {
      std::vector<std::string> these;  // "" stands for every audience
      if (audience_place.first.empty()) {
        these = audiences;
      } else {
        these = {audience_place.first};
      }
      for (const std::string& a : these) {
        auto [it, inserted] = series[a].try_emplace(audience_place.second, touched_week);
        if (!inserted) it->second = std::min(it->second, touched_week);
      }
    }
    std::vector<const reports::DetectionCountRow*> rows;
    for (const reports::DetectionCountRow& row : cache_[key].rows) rows.push_back(&row);
    counts[key] = CountsFor(rows, first, series);
    for (const auto& [audience, places] : series) {
      for (const auto& entry : places) {
        since = std::min(since, entry.second - options_.max_gap - 1);
      }
    }
  }
  if (since == std::numeric_limits<std::int64_t>::max()) return Status::Ok();

  // The latest-starting signal of each series alive near its touched weeks: the one to continue.
  if (Status s = ReadOpenSignals(keys, since); !s.ok()) return s;

  // Substances are judged on every core (the detectors are pure); the signals are gathered in
  // the order of the keys, so a round's write does not depend on the number of threads.
  std::vector<std::vector<reports::SignalRecord>> per_key(keys.size());
  std::vector<Status> failures(keys.size());
  ParallelFor(keys.size(), [&](std::size_t i) {
    const std::string& key = keys[i];
    failures[i] = JudgeSubstance(options_, key, round.at(key).name, counts.at(key), touched.at(key),
                                 open_, &farrington_memo_, &per_key[i]);
  });
  std::vector<reports::SignalRecord> changed;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!failures[i].ok()) {
      Log(fmt::format("live detection of {}: {}", keys[i], failures[i].message()));
    }
    std::move(per_key[i].begin(), per_key[i].end(), std::back_inserter(changed));
  }
  if (changed.empty()) return Status::Ok();
  if (Status s = store_.PutSignals(changed); !s.ok()) {
    ForgetOpenSignals(keys);  // what was written is not known
    return s;
  }
  for (const reports::SignalRecord& r : changed) AddOpen(open_, r);
  return Status::Ok();
}

Status LiveDetector::ReadOpenSignals(const std::vector<std::string>& keys, std::int64_t since) {
  const auto now = std::chrono::steady_clock::now();
  std::vector<std::string> stale;
  for (const std::string& key : keys) {
    const auto read = open_read_.find(key);
    if (read == open_read_.end() || now - read->second.first > kRefresh ||
        since < read->second.second) {
      stale.push_back(key);
    }
  }
  if (stale.empty()) return Status::Ok();
  if (open_read_.size() + stale.size() > kMaxCachedSubstances) {
    open_.clear();
    open_read_.clear();
  }
  ForgetOpenSignals(stale);
  std::vector<std::string> detectors;  // those the worker folds into open signals
  for (const std::string& method : options_.methods) {
    if (JudgesSeries(method)) detectors.push_back(method);
  }
  auto recent = store_.RecentSignals(stale, MondayOf(since), detectors);
  if (!recent.ok()) return recent.status();
  for (const reports::SignalRecord& r : *recent) AddOpen(open_, r);
  for (const std::string& key : stale) open_read_[key] = {now, since};
  return Status::Ok();
}

void LiveDetector::ForgetOpenSignals(const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    open_read_.erase(key);
    open_.erase(open_.lower_bound({key, "", "", ""}), open_.lower_bound({key + '\0', "", "", ""}));
  }
}

void LiveDetector::Log(const std::string& message) {
  std::lock_guard lock(log_mu_);
  log_ << "sentinel serve: " << message << "\n";
  log_.flush();
}

Status LiveDetector::JudgeSites(const std::map<std::string, TouchedSites>& sites,
                                const std::vector<std::string>& audiences) {
  if (sites.empty()) return Status::Ok();
  DetectCommandOptions detect_options;
  detect_options.max_gap = options_.max_gap;
  detect_options.baseline = options_.load_baseline;
  detect_options.min_sigma = options_.load_min_sigma;
  std::vector<std::string> keys;
  std::int64_t since = std::numeric_limits<std::int64_t>::max();
  for (const auto& [key, touched] : sites) {
    keys.push_back(key);
    for (const auto& entry : touched.weeks) {
      since = std::min(since, entry.second - options_.max_gap - 1);
    }
  }
  auto recent = store_.RecentSignals(keys, MondayOf(since), options_.load_methods);
  if (!recent.ok()) return recent.status();
  const OpenSignals open = OpenSignalsOf(*recent);
  // (analyte, country) -> the audiences whose organisations measured it there nationally
  auto measured = store_.DetectionCountsOf(keys, std::numeric_limits<std::int64_t>::min(),
                                           reports::Counted::kMeasurements);
  if (!measured.ok()) return measured.status();
  std::map<std::pair<std::string, std::string>, std::set<std::string>> national;
  for (const reports::DetectionCountRow& row : measured->rows) {
    if (row.distribution == reports::Distribution::kNational) {
      national[{row.substance_key, row.country}].insert(row.org_country);
    }
  }

  std::vector<reports::SignalRecord> changed;
  for (const auto& [key, touched] : sites) {
    // country -> site ("<country>/<site>") -> audience -> the earliest touched week
    std::map<std::string, std::map<std::string, std::map<std::string, std::int64_t>>> by_country;
    for (const auto& [audience_site, week] : touched.weeks) {
      const std::string& site = audience_site.second;
      for (const std::string& a : audience_site.first.empty()
                                      ? audiences
                                      : std::vector<std::string>{audience_site.first}) {
        auto [it, inserted] = by_country[site.substr(0, site.find('/'))][site].try_emplace(a, week);
        if (!inserted) it->second = std::min(it->second, week);
      }
    }
    for (const auto& [country, by_site] : by_country) {
      StoreSeriesSelection selection;
      selection.kind = reports::Kind::kWastewater;
      selection.substance = key;
      selection.place = country;
      // An audience sees everyone's measurements and its organisations' national ones; one
      // whose organisations measured nothing nationally there sees what everyone sees, and
      // shares their read ("").
      const std::set<std::string>& own = national[{key, country}];
      // reader ("" everyone) -> site -> its members
      std::map<std::string, std::map<std::string, std::vector<Member>>> readers;
      for (const auto& [site, by_audience] : by_site) {
        for (const auto& [audience, week] : by_audience) {
          readers[own.count(audience) ? audience : ""][site].push_back({audience, week});
        }
      }
      for (const auto& [reader, members_by_site] : readers) {
        auto file = SeriesFromStore(store_, AudienceViewer(reader), selection);
        if (!file.ok()) return file.status();
        for (const NamedSeries& named : file->series) {
          const std::string site = named.name.substr(named.name.rfind('@') + 1);
          const auto members = members_by_site.find(site);
          if (members == members_by_site.end() || named.series.time.empty()) continue;
          for (const std::string& method : options_.load_methods) {
            auto judged = JudgeLoadSeries(method, named.series, detect_options);
            if (!judged.ok()) return judged.status();
            const std::vector<Continuation> continued =
                ContinuationsOf(open, key, method, site, members->second, options_.max_gap,
                                named.series.time.front(), named.series.time.back());
            // (clang 14 lets no lambda capture a structured binding, hence the copy.)
            const std::string& analyte = key;
            FoldAlarms(
                method, key, site, members->second, continued, *judged, options_.max_gap,
                [&](const detect::Signal& signal) {
                  nlohmann::ordered_json made =
                      SignalJson(method, detect_options, named.name, named.series,
                                 TimeKind::kIsoWeek, signal, "node", /*loads=*/true);
                  made["substance"] = {{"key", analyte},
                                       {"name", named.name.substr(0, named.name.rfind('@'))}};
                  made["place"] = site;
                  return nlohmann::json(made);
                },
                &changed);
          }
        }
      }
    }
  }
  if (changed.empty()) return Status::Ok();
  return store_.PutSignals(changed);
}

void LiveDetector::LoadsLoop() {
  while (true) {
    std::map<std::string, TouchedSites> sites;
    std::uint64_t noted = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || loads_done_ < loads_noted_; });
      if (stopping_) return;  // signals are derived: a later measurement judges again
      std::swap(sites, sites_pending_);
      noted = loads_noted_;
    }
    auto audiences = store_.OrganisationCountries();
    Status judged = audiences.ok() ? JudgeSites(sites, *audiences) : audiences.status();
    if (!judged.ok()) Log(fmt::format("live detection of wastewater loads: {}", judged.message()));
    {
      std::lock_guard lock(mu_);
      loads_done_ = noted;
    }
    cv_.notify_all();
  }
}

void LiveDetector::ScanLoop() {
  // Scans yield the cores to the requests and to the other workers (the threads a scan starts
  // inherit this one's priority).
  if (::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kScanNice) != 0) {
    Log("live detection: the scan worker keeps the normal priority");
  }
  while (true) {
    std::map<std::string, std::string> due;  // key -> name
    std::set<std::string> audiences;         // whose combinations to judge now
    std::uint64_t noted = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || scan_done_ < scan_noted_; });
      if (stopping_) return;  // signals are derived: a later report scans again
      const auto now = chr::steady_clock::now();
      auto wake = chr::steady_clock::time_point::max();
      if (!combinations_pending_.empty()) {
        if (!combinations_at_ || now - *combinations_at_ >= options_.combinations_every) {
          std::swap(audiences, combinations_pending_);
        } else {
          wake = std::min(wake, *combinations_at_ + options_.combinations_every);
        }
      }
      for (auto it = scan_pending_.begin(); it != scan_pending_.end();) {
        const auto at = scanned_at_.find(it->first);
        if (at == scanned_at_.end() || now - at->second >= options_.scan_every) {
          due.insert(*it);
          it = scan_pending_.erase(it);
        } else {
          wake = std::min(wake, at->second + options_.scan_every);
          ++it;
        }
      }
      const bool waiting = !scan_pending_.empty() || !combinations_pending_.empty();
      if (due.empty() && audiences.empty() && !waiting) {  // nothing left to wait for
        scan_done_ = scan_noted_;
        cv_.notify_all();
        continue;
      }
      if (due.empty() && audiences.empty()) {
        const std::uint64_t before = scan_noted_;
        cv_.wait_until(lock, wake, [&] { return stopping_ || scan_noted_ != before; });
        continue;
      }
      noted = waiting ? scan_done_ : scan_noted_;
    }
    if (!audiences.empty()) {
      combinations_at_ = chr::steady_clock::now();
      if (Status s = JudgeCombinationsOf(audiences); !s.ok()) {
        Log(fmt::format("live detection of combinations: {}", s.message()));
      }
    }
    if (Status s = due.empty() ? Status::Ok() : ScanSubstances(due); !s.ok()) {
      Log(fmt::format("live space-time scan of {} substances: {}", due.size(), s.message()));
    }
    const auto now = chr::steady_clock::now();
    if (scanned_at_.size() + due.size() > kMaxCachedSubstances) {
      std::erase_if(scanned_at_,
                    [&](const auto& entry) { return now - entry.second >= options_.scan_every; });
    }
    for (const auto& entry : due) scanned_at_[entry.first] = now;
    {
      std::lock_guard lock(mu_);
      scan_done_ = std::max(scan_done_, noted);
    }
    cv_.notify_all();
  }
}

Status LiveDetector::ScanSubstances(const std::map<std::string, std::string>& substances) {
  if (!gazetteer_) {
    auto loaded = LoadGazetteer(options_.places);
    if (!loaded.ok()) return loaded.status();
    gazetteer_ = std::move(loaded).value();
  }
  auto audiences = store_.OrganisationCountries();
  if (!audiences.ok()) return audiences.status();
  std::vector<std::string> keys;
  keys.reserve(substances.size());
  for (const auto& entry : substances) keys.push_back(entry.first);
  auto counts = store_.DetectionCountsOf(keys, std::numeric_limits<std::int64_t>::min(),
                                         reports::Counted::kOccurrences);
  if (!counts.ok()) return counts.status();
  if (!counts->first_week_start) return Status::Ok();

  // The study period: the 52 weeks up to the current one (or the latest reported, if later), as
  // `detect --db --method scan --to <today>` reads it.
  std::int64_t last = IsoWeekIndex(chr::floor<chr::days>(chr::system_clock::now()));
  std::map<std::string, std::vector<const reports::DetectionCountRow*>> rows_of;
  for (const reports::DetectionCountRow& row : counts->rows) {
    last = std::max(last, WeekOfDayNumber(row.week_start));
    if (!row.subdivision.empty()) rows_of[row.substance_key].push_back(&row);
  }
  constexpr int kStudyWeeks = 52;
  const std::int64_t first =
      std::max(WeekOfDayNumber(*counts->first_week_start), last - kStudyWeeks + 1);
  DetectCommandOptions detect_options;
  detect_options.alpha = options_.scan_alpha;
  // Replicates stop once so many reach the most likely cluster that its p-value exceeds
  // scan_alpha (Besag and Clifford): the same alarms as all 999, and a substance without a
  // cluster costs a few dozen replicates.
  detect_options.stop_after =
      static_cast<int>(std::floor(options_.scan_alpha * (detect_options.replicates + 1))) + 1;
  const detect::ScanOptions scan = ScanOptionsOf(detect_options, 52);

  std::vector<reports::SignalRecord> found;  // one per alarmed cluster, not yet continued
  for (const auto& [key, name] : substances) {
    // Each audience's counts by subdivision over the study period; audiences that see the same
    // counts share one scan. Every subdivision the substance was ever reported in is a location
    // (as in the batch scan), placed by the gazetteer.
    using Counts = std::map<std::string, std::vector<double>>;  // subdivision -> weeks
    std::map<Counts, std::vector<std::string>> by_counts;
    const auto& rows = rows_of[key];
    for (const std::string& audience : *audiences) {
      Counts seen;
      for (const reports::DetectionCountRow* row : rows) {
        if (!gazetteer_->count(row->subdivision) || !reports::SignalAudienceSees(audience, *row)) {
          continue;
        }
        std::vector<double>& weeks = seen[row->subdivision];
        if (weeks.empty()) weeks.assign(static_cast<std::size_t>(last - first + 1), 0);
        const std::int64_t week = WeekOfDayNumber(row->week_start);
        if (week >= first && week <= last) {
          weeks[static_cast<std::size_t>(week - first)] += static_cast<double>(row->reports);
        }
      }
      by_counts[std::move(seen)].push_back(audience);
    }
    for (const auto& [seen, members] : by_counts) {
      if (seen.empty()) continue;  // none of its places could be placed
      std::vector<NamedSeries> series;
      std::vector<std::pair<double, double>> points;
      for (const auto& [subdivision, weeks] : seen) {
        NamedSeries s;
        s.name = subdivision;
        s.series.observed = weeks;
        for (std::int64_t w = first; w <= last; ++w) s.series.time.push_back(w);
        series.push_back(std::move(s));
        points.push_back(gazetteer_->at(subdivision));
      }
      std::vector<const NamedSeries*> pointers;
      pointers.reserve(series.size());
      for (const NamedSeries& s : series) pointers.push_back(&s);
      auto data = ScanDataFromSeries(pointers, points, TimeKind::kIsoWeek, kStudyWeeks);
      if (!data.ok()) return data.status();
      if (data->locations.empty()) continue;
      for (std::size_t i = 0; i < series.size(); ++i) data->locations[i].name = series[i].name;
      auto result = detect::SpaceTimePermutationScan(*data, scan);
      if (!result.ok()) return result.status();
      for (const detect::ScanCluster& c : result->clusters) {
        if (!c.alarm) continue;
        nlohmann::ordered_json cluster =
            ClusterJson(*data, c, TimeKind::kIsoWeek, 52, scan, "node");
        cluster["data"]["cases"] = result->cases;
        cluster["data"]["replicates_run"] = result->replicates_run;
        for (const std::string& audience : members) {
          reports::SignalRecord r;
          r.audience = audience;
          r.detector = kScanMethod;
          r.substance_key = key;
          r.place = data->locations[c.centre].name;
          r.first_week = MondayOf(data->time[c.first_step]);
          r.last_week = MondayOf(data->time[c.last_step]);
          nlohmann::ordered_json body;
          body["series"] = fmt::format("{}@{}", name, r.place);
          body["detector"] = kScanMethod;
          body["substance"] = {{"key", key}, {"name", name}};
          body["place"] = r.place;
          body["first"] = cluster["start"];
          body["last"] = cluster["end"];
          body["alarms"] = 1;  // weeks in which the cluster alarmed
          body["cluster"] = cluster;
          body["parameters"] = cluster["parameters"];
          body["data"] = cluster["data"];
          r.body = nlohmann::json(body);
          found.push_back(std::move(r));
        }
      }
    }
  }
  if (found.empty()) return Status::Ok();

  // A cluster sharing a location with a signal of the same substance and audience, alive within
  // max_gap weeks of the cluster's start, continues that signal (keeps its key, first week and
  // place); else it is a new signal.
  std::string since = found.front().first_week;
  for (const reports::SignalRecord& r : found) since = std::min(since, r.first_week);
  auto since_day = reports::ParseDay(since);
  if (!since_day.ok()) return since_day.status();
  auto stored = store_.RecentSignals(
      keys, MondayOf(IsoWeekIndex(*since_day) - options_.max_gap - 1), {std::string(kScanMethod)});
  if (!stored.ok()) return stored.status();
  std::set<const reports::SignalRecord*> continued;
  const auto locations_of = [](const nlohmann::json& body) {
    std::set<std::string> out;
    const auto cluster = body.find("cluster");
    if (cluster == body.end() || !cluster->is_object()) return out;
    const auto locations = cluster->find("locations");
    if (locations == cluster->end() || !locations->is_array()) return out;
    for (const nlohmann::json& l : *locations) {
      if (l.is_string()) out.insert(l.get<std::string>());
    }
    return out;
  };
  for (reports::SignalRecord& r : found) {
    const std::set<std::string> here = locations_of(r.body);
    auto start = reports::ParseDay(r.first_week);
    if (!start.ok()) return start.status();
    const std::string alive_since = MondayOf(IsoWeekIndex(*start) - options_.max_gap - 1);
    for (const reports::SignalRecord& s : *stored) {
      if (s.detector != kScanMethod || s.substance_key != r.substance_key ||
          s.audience != r.audience || s.last_week < alive_since || continued.count(&s)) {
        continue;
      }
      const std::set<std::string> there = locations_of(s.body);
      if (std::none_of(here.begin(), here.end(),
                       [&](const std::string& l) { return there.count(l) > 0; })) {
        continue;
      }
      continued.insert(&s);
      r.body["series"] =
          fmt::format("{}@{}", r.body["substance"]["name"].get<std::string>(), s.place);
      r.body["place"] = s.place;
      r.place = s.place;
      ContinueSignal(s, r);
      break;
    }
  }
  return PutChanged(store_, std::move(found));
}

Status LiveDetector::JudgeCombinationsOf(const std::set<std::string>& touched) {
  std::set<std::string> audiences;
  if (touched.count("")) {
    auto all = store_.OrganisationCountries();
    if (!all.ok()) return all.status();
    audiences.insert(all->begin(), all->end());
  }
  for (const std::string& a : touched) {
    if (!a.empty()) audiences.insert(a);
  }
  // The window ends with the current week, as `detect --db --method combinations --to <today>`.
  const chr::sys_days today = chr::floor<chr::days>(chr::system_clock::now());
  DetectCommandOptions options;
  options.select.to = reports::FormatDay(today);
  detect::CombinationOptions settings;
  settings.window = options.window;
  settings.alpha = options.alpha.value_or(0.05);
  settings.min_together = options.min_together;
  const std::int64_t last = IsoWeekIndex(today);

  std::vector<reports::SignalRecord> found;
  std::vector<std::string> keys;
  for (const std::string& audience : audiences) {
    std::map<std::string, std::string> key_of;
    auto samples = SamplesFromStore(store_, AudienceViewer(audience), options, &key_of);
    if (!samples.ok()) return samples.status();
    auto result = detect::JudgeCombinations(samples->samples, last, settings);
    if (!result.ok()) return result.status();
    for (const detect::Combination& c : result->combinations) {
      // A pair never together before is `new-combination`'s (or `first-in-form`'s) to tell.
      if (!c.beyond_expectation) continue;
      const auto key = key_of.find(c.first.starts_with(kFormPrefix) ? c.second : c.first);
      if (key == key_of.end()) continue;
      reports::SignalRecord r;
      r.audience = audience;
      r.detector = kCombinationsMethod;
      r.substance_key = key->second;
      r.place = "*";
      r.first_week = MondayOf(result->window_last);
      r.last_week = r.first_week;
      nlohmann::ordered_json body;
      body["series"] = fmt::format("{}+{}@*", c.first, c.second);
      body["detector"] = kCombinationsMethod;
      body["substance"] = {{"key", key->second}, {"name", key->first}};
      body["place"] = "*";
      body["first"] = FormatTime(TimeKind::kIsoWeek, result->window_last);
      body["last"] = body["first"];
      body["alarms"] = 1;  // weeks in which the pair was beyond expectation
      const nlohmann::ordered_json pair =
          CombinationJson(c, *result, settings, TimeKind::kIsoWeek, "node");
      body["pair"] = pair;
      body["parameters"] = pair["parameters"];
      body["data"] = pair["data"];
      r.body = nlohmann::json(body);
      keys.push_back(r.substance_key);
      found.push_back(std::move(r));
    }
  }
  if (found.empty()) return Status::Ok();

  // A pair beyond expectation in a week within max_gap of its signal's last continues it.
  auto stored = store_.RecentSignals(keys, MondayOf(last - options_.max_gap - 1),
                                     {std::string(kCombinationsMethod)});
  if (!stored.ok()) return stored.status();
  const auto pair_of = [](const nlohmann::json& body) {
    const auto pair = body.find("pair");
    if (pair == body.end() || !pair->is_object()) return std::string();
    return fmt::format("{}+{}", pair->value("first", ""), pair->value("second", ""));
  };
  for (reports::SignalRecord& r : found) {
    for (const reports::SignalRecord& s : *stored) {
      if (s.detector != kCombinationsMethod || s.audience != r.audience ||
          s.substance_key != r.substance_key || pair_of(s.body) != pair_of(r.body)) {
        continue;
      }
      ContinueSignal(s, r);
      break;
    }
  }
  return PutChanged(store_, std::move(found));
}

}  // namespace sentinel::app
