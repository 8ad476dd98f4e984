#include "app/live_detection.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <ostream>
#include <tuple>

#include "app/detect_command.h"
#include "app/detect_input.h"
#include "core/detect/signal.h"

namespace sentinel::app {
namespace {

namespace chr = std::chrono;

// Methods whose judgement of a step needs only the steps before it, so that a series can be
// judged from its touched week on. CUSUM carries its chart from the start of its range.
constexpr std::string_view kLiveMethods[] = {"first",   "ears-c1",    "ears-c2",
                                             "ears-c3", "farrington", "noufaily"};

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

// What one audience sees of one substance.
struct SeriesView {
  std::map<std::string, std::int64_t> places;  // touched place -> earliest touched week
  std::map<std::string, std::map<std::int64_t, double>> weeks;   // place -> week -> reports
  std::int64_t last = std::numeric_limits<std::int64_t>::min();  // the series' last week
};

// The latest-starting recent signal of each series, by (substance, audience, detector, place).
using OpenSignals = std::map<std::tuple<std::string, std::string, std::string, std::string>,
                             const reports::SignalRecord*>;

// One substance's touched series, judged with every method and folded into their open signals;
// the signals that changed are appended to *changed.
Status JudgeSubstance(const LiveDetectionOptions& options, const std::string& key,
                      const std::string& name, std::int64_t first,
                      const std::map<std::string, SeriesView>& views, const OpenSignals& open,
                      std::vector<reports::SignalRecord>* changed) {
  DetectCommandOptions detect_options;
  detect_options.max_gap = options.max_gap;
  for (const auto& [audience, view] : views) {
    if (view.last < first) continue;  // nothing this audience may see
    if (static_cast<std::uint64_t>(view.last - first) >= kMaxSeriesSteps) {
      return Status::InvalidArgument("the stored reports span more weeks than a series may");
    }
    for (const auto& [place, touched_week] : view.places) {
      detect::CountSeries series;
      series.frequency = 52;
      const auto found_place = view.weeks.find(place);
      for (std::int64_t week = first; week <= view.last; ++week) {
        series.time.push_back(week);
        double n = 0;
        if (found_place != view.weeks.end()) {
          const auto found = found_place->second.find(week);
          if (found != found_place->second.end()) n = found->second;
        }
        series.observed.push_back(n);
      }
      const std::string series_name = name + "@" + place;
      for (const std::string& method : options.methods) {
        std::optional<detect::Signal> continued;
        if (const auto it = open.find({key, audience, method, place}); it != open.end()) {
          continued = SignalFromRecord(*it->second);
        }
        if (continued && continued->last_time < view.last - options.max_lookback_weeks) {
          continued.reset();
        }
        std::int64_t from = std::clamp(touched_week, first, view.last);
        if (continued) from = std::clamp(std::min(from, continued->last_time), first, view.last);
        auto judged =
            JudgeSeries(method, series, detect_options, static_cast<std::size_t>(from - first));
        if (!judged.ok()) return judged.status();
        detect::SignalFolder folder(options.max_gap, continued);
        for (const detect::Judgement& j : *judged) {
          if (j.time >= from) folder.Add(j);
        }
        for (const detect::Signal& signal : folder.Changed()) {
          reports::SignalRecord record;
          record.audience = audience;
          record.detector = method;
          record.substance_key = key;
          record.place = place;
          record.first_week = MondayOf(signal.first_time);
          record.last_week = MondayOf(signal.last_time);
          nlohmann::ordered_json body = SignalJson(method, detect_options, series_name, series,
                                                   TimeKind::kIsoWeek, signal, "node");
          body["substance"] = {{"key", key}, {"name", name}};
          body["place"] = place;
          body["data"]["audience"] = audience;
          record.body = nlohmann::json::parse(body.dump());
          changed->push_back(std::move(record));
        }
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateLiveMethods(const std::vector<std::string>& methods) {
  for (const std::string& method : methods) {
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
    : store_(store), options_(std::move(options)), log_(log), worker_([this] { Loop(); }) {}

LiveDetector::~LiveDetector() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  worker_.join();
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
    for (const reports::ResolvedMention& mention : item.mentions) {
      if (!mention.substance) continue;
      Touched& touched = pending_[mention.substance->key];
      touched.name =
          mention.substance->name.empty() ? mention.substance->key : mention.substance->name;
      for (const std::string& place : {item.report.country, std::string("*")}) {
        auto [it, inserted] = touched.series.try_emplace({audience, place}, week);
        if (!inserted) it->second = std::min(it->second, week);
      }
    }
  }
  ++noted_;
  cv_.notify_all();
}

void LiveDetector::Flush() {
  std::unique_lock lock(mu_);
  const std::uint64_t target = noted_;
  cv_.wait(lock, [&] { return done_ >= target || stopping_; });
}

std::uint64_t LiveDetector::rounds() const {
  std::lock_guard lock(mu_);
  return rounds_;
}

void LiveDetector::Loop() {
  while (true) {
    std::map<std::string, Touched> round;
    std::uint64_t noted = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || done_ < noted_; });
      if (stopping_ && pending_.empty()) return;
      round.swap(pending_);
      noted = noted_;
    }
    RunRound(std::move(round));
    {
      std::lock_guard lock(mu_);
      done_ = noted;
      ++rounds_;
    }
    cv_.notify_all();
  }
}

void LiveDetector::RunRound(std::map<std::string, Touched> round) {
  if (round.empty()) return;
  auto audiences = store_.OrganisationCountries();
  if (!audiences.ok()) {
    log_ << "sentinel serve: live detection: " << audiences.status().message() << "\n";
    return;
  }
  // What a round costs is mostly round trips to the store: substances are read and their
  // signals written a slice at a time.
  std::vector<std::string> keys;
  for (const auto& entry : round) keys.push_back(entry.first);
  for (std::size_t begin = 0; begin < keys.size(); begin += kSubstancesPerRead) {
    const std::vector<std::string> slice(
        keys.begin() + static_cast<std::ptrdiff_t>(begin),
        keys.begin() +
            static_cast<std::ptrdiff_t>(std::min(keys.size(), begin + kSubstancesPerRead)));
    if (Status s = JudgeSlice(slice, round, *audiences); !s.ok()) {
      log_ << fmt::format("sentinel serve: live detection of {} substances: {}\n", slice.size(),
                          s.message());
    }
  }
  log_.flush();
}

Status LiveDetector::JudgeSlice(const std::vector<std::string>& keys,
                                const std::map<std::string, Touched>& round,
                                const std::vector<std::string>& audiences) {
  auto counts = store_.DetectionCountsOf(keys);
  if (!counts.ok()) return counts.status();
  if (!counts->first_week_start) return Status::Ok();
  const std::int64_t first = WeekOfDayNumber(*counts->first_week_start);
  std::map<std::string, std::vector<const reports::DetectionCountRow*>> rows;
  for (const reports::DetectionCountRow& row : counts->rows)
    rows[row.substance_key].push_back(&row);

  std::map<std::string, std::map<std::string, SeriesView>> views;  // key -> audience -> view
  std::int64_t since = std::numeric_limits<std::int64_t>::max();
  for (const std::string& key : keys) {
    auto& substance_views = views[key];
    for (const auto& [series, week] : round.at(key).series) {
      const auto& [audience, place] = series;
      const auto note = [&](const std::string& a) {
        auto [it, inserted] = substance_views[a].places.try_emplace(place, week);
        if (!inserted) it->second = std::min(it->second, week);
      };
      if (audience.empty()) {
        for (const std::string& a : audiences) note(a);
      } else {
        note(audience);
      }
    }
    for (auto& [audience, view] : substance_views) {
      for (const reports::DetectionCountRow* row : rows[key]) {
        if (!reports::SignalAudienceSees(audience, *row)) continue;
        const std::int64_t week = WeekOfDayNumber(row->week_start);
        view.last = std::max(view.last, week);
        const auto n = static_cast<double>(row->reports);
        view.weeks["*"][week] += n;
        if (view.places.count(row->country)) view.weeks[row->country][week] += n;
      }
      if (view.last >= first) since = std::min(since, view.last - options_.max_lookback_weeks);
    }
  }
  if (since == std::numeric_limits<std::int64_t>::max()) return Status::Ok();

  // The latest-starting recent signal of each series: the one to continue.
  auto recent = store_.RecentSignals(keys, MondayOf(since));
  if (!recent.ok()) return recent.status();
  OpenSignals open;
  for (const reports::SignalRecord& r : *recent) {
    auto& slot = open[{r.substance_key, r.audience, r.detector, r.place}];
    if (slot == nullptr || slot->first_week < r.first_week) slot = &r;
  }

  std::vector<reports::SignalRecord> changed;
  for (const auto& [key, substance_views] : views) {
    if (Status s = JudgeSubstance(options_, key, round.at(key).name, first, substance_views, open,
                                  &changed);
        !s.ok()) {
      log_ << fmt::format("sentinel serve: live detection of {}: {}\n", key, s.message());
    }
  }
  if (changed.empty()) return Status::Ok();
  return store_.PutSignals(changed);
}

}  // namespace sentinel::app
