#include "app/detect_series.h"

#include "app/progress.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <set>
#include <string_view>
#include <utility>
#include <vector>

namespace sentinel::app {
namespace {

// Each substance key's label: its recorded name where no other substance shares it, else its
// key ("Fentanyl@US" reads better than a SMILES, and stays unambiguous).
template <typename Rows>
std::map<std::string, std::string> SubstanceLabels(reports::Store& store,
                                                   const reports::Principal& viewer,
                                                   const Rows& keys) {
  std::map<std::string, std::string> label;  // key -> name
  std::map<std::string, int> uses;           // name -> substances bearing it
  for (const std::string& key : keys) {
    if (label.count(key)) continue;
    auto summary = store.Substance(viewer, key);
    std::string name =
        summary.ok() && !summary->substance.name.empty() ? summary->substance.name : key;
    ++uses[name];
    label[key] = std::move(name);
  }
  for (auto& [key, name] : label) {
    if (uses[name] > 1) name = key;
  }
  return label;
}

std::map<std::string, std::string> SubstanceLabels(reports::Store& store,
                                                   const reports::Principal& viewer,
                                                   const std::vector<reports::AggregateRow>& rows) {
  std::vector<std::string> keys;
  keys.reserve(rows.size());
  for (const reports::AggregateRow& row : rows) keys.push_back(row.substance_key);
  return SubstanceLabels(store, viewer, keys);
}

// Series over the same steps, first .. last (or the step of --to when later), `gap` where
// nothing was reported: zero for counts, NaN (not measured) for loads.
Result<CountSeriesFile> FilledSeries(
    const std::map<std::string, std::map<std::int64_t, double>>& counts, TimeKind kind,
    std::int64_t first, std::int64_t last, std::optional<std::int64_t> output_from,
    std::optional<std::int64_t> last_step, bool loads = false) {
  const double gap = loads ? std::numeric_limits<double>::quiet_NaN() : 0.0;
  CountSeriesFile file;
  file.time_kind = kind;
  file.output_from = output_from;
  file.loads = loads;
  if (counts.empty()) return file;
  if (last_step) last = std::max(last, *last_step);
  if (static_cast<std::uint64_t>(last - first) >= kMaxSeriesSteps) {
    return Status::InvalidArgument("the stored reports span more steps than a series may");
  }
  for (auto& [name, steps] : counts) {
    NamedSeries s;
    s.name = name;
    s.series.frequency = kind == TimeKind::kDate ? 365 : 52;
    for (std::int64_t step = first; step <= last; ++step) {
      s.series.time.push_back(step);
      const auto found = steps.find(step);
      s.series.observed.push_back(found == steps.end() ? gap : found->second);
    }
    file.series.push_back(std::move(s));
  }
  return file;
}

// The reports a selection counts, up to --to: the whole history before --from included.
reports::ReportQuery ReportsSelected(const StoreSeriesSelection& selection) {
  reports::ReportQuery query;
  query.kind = selection.kind;
  query.to = selection.to;
  query.place = selection.place;
  query.substance = selection.substance;
  query.substance_class = selection.substance_class;
  return query;
}

// The wastewater loads of the selection: one series per analyte and site,
// "<analyte>@<country>/<site>", each step the mean of the loads measured in it (per day of the
// sampling period's start with `daily`), NaN where the site measured nothing.
Result<CountSeriesFile> LoadSeriesFromReports(reports::Store& store,
                                              const reports::Principal& viewer,
                                              const StoreSeriesSelection& selection,
                                              std::optional<std::int64_t> output_from,
                                              std::optional<std::int64_t> last_step) {
  if (selection.by_form || selection.by_class) {
    return Status::InvalidArgument(
        "--kind wastewater gives one load series per analyte and site: wastewater has no form, "
        "and the loads of a class's analytes do not add up (no --by-form or --by-class)");
  }
  const reports::ReportQuery query = ReportsSelected(selection);  // kind: wastewater
  struct Measured {
    double sum = 0;
    int n = 0;
  };
  // (analyte key, country/site) -> step -> loads
  std::map<std::pair<std::string, std::string>, std::map<std::int64_t, Measured>> measured;
  std::int64_t first = std::numeric_limits<std::int64_t>::max();
  std::int64_t last = std::numeric_limits<std::int64_t>::min();
  std::vector<std::string> keys;
  const Status read = ForEachStoredReport(store, viewer, query, "", [&](reports::StoredReport& r) {
    const auto site = r.body.find("site");
    const auto load = r.body.find("load_mg_per_1000_per_day");
    if (r.substance_keys.empty() || site == r.body.end() || !site->is_string() ||
        load == r.body.end() || !load->is_number()) {
      return Status::Corruption(
          fmt::format("stored wastewater report {} lacks its analyte, site or load", r.id));
    }
    auto day = reports::ParseDay(r.date);
    if (!day.ok()) return day.status();
    const std::int64_t step = selection.daily ? reports::DayNumber(*day) : IsoWeekIndex(*day);
    first = std::min(first, step);
    last = std::max(last, step);
    Measured& m = measured[{r.substance_keys.front(),
                            fmt::format("{}/{}", r.country, site->get<std::string>())}][step];
    m.sum += load->get<double>();
    ++m.n;
    keys.push_back(r.substance_keys.front());
    return Status::Ok();
  });
  if (!read.ok()) return read;
  const std::map<std::string, std::string> label = SubstanceLabels(store, viewer, keys);
  std::map<std::string, std::map<std::int64_t, double>> loads;
  for (const auto& [series, steps] : measured) {
    auto& named = loads[fmt::format("{}@{}", label.at(series.first), series.second)];
    for (const auto& [step, m] : steps) named[step] = m.sum / m.n;
  }
  return FilledSeries(loads, selection.daily ? TimeKind::kDate : TimeKind::kIsoWeek, first, last,
                      output_from, last_step, /*loads=*/true);
}

// The series of the selection counted report by report (daily, by form, by class).
Result<CountSeriesFile> SeriesFromReports(reports::Store& store, const reports::Principal& viewer,
                                          const StoreSeriesSelection& selection) {
  const auto step_of = [&](std::chrono::sys_days day) -> std::int64_t {
    return selection.daily ? reports::DayNumber(day) : IsoWeekIndex(day);
  };
  const auto step_of_flag =
      [&](std::string_view flag,
          const std::optional<std::string>& day) -> Result<std::optional<std::int64_t>> {
    if (!day) return std::optional<std::int64_t>();
    auto parsed = reports::ParseDay(*day);
    if (!parsed.ok())
      return Status::InvalidArgument(fmt::format("{}: {}", flag, parsed.status().message()));
    return std::optional<std::int64_t>(step_of(*parsed));
  };
  auto output_from = step_of_flag("--from", selection.from);
  if (!output_from.ok()) return output_from.status();
  auto last_step = step_of_flag("--to", selection.to);
  if (!last_step.ok()) return last_step.status();
  if (selection.kind == reports::Kind::kWastewater) {
    return LoadSeriesFromReports(store, viewer, selection, *output_from, *last_step);
  }

  const reports::ReportQuery query = ReportsSelected(selection);
  std::vector<reports::StoredReport> reports_read;
  std::vector<std::string> keys;
  const Status read = ForEachStoredReport(store, viewer, query, "", [&](reports::StoredReport& r) {
    if (r.kind == reports::Kind::kWastewater) return Status::Ok();  // loads, not occurrences
    keys.insert(keys.end(), r.substance_keys.begin(), r.substance_keys.end());
    reports_read.push_back(std::move(r));
    return Status::Ok();
  });
  if (!read.ok()) return read;
  const std::map<std::string, std::string> label = SubstanceLabels(store, viewer, keys);
  std::map<std::string, std::vector<std::string>> classes;  // key -> its classes
  if (selection.by_class) {
    for (const auto& [key, name] : label) {
      auto summary = store.Substance(viewer, key);
      if (summary.ok()) classes[key] = summary->substance.classes;
    }
  }

  std::map<std::string, std::map<std::int64_t, double>> counts;
  std::int64_t first = std::numeric_limits<std::int64_t>::max();
  std::int64_t last = std::numeric_limits<std::int64_t>::min();
  for (const reports::StoredReport& r : reports_read) {
    auto day = reports::ParseDay(r.date);
    if (!day.ok()) return day.status();
    const std::int64_t step = step_of(*day);
    first = std::min(first, step);
    last = std::max(last, step);
    std::set<std::string> groups;  // a report counts once in each
    for (const std::string& key : r.substance_keys) {
      if (!selection.by_class) {
        groups.insert(label.at(key));
        continue;
      }
      const auto found = classes.find(key);
      if (found != classes.end()) groups.insert(found->second.begin(), found->second.end());
    }
    std::string form;
    if (selection.by_form) {
      const auto f = r.body.find("form");
      if (f != r.body.end() && f->is_string()) form = "/" + f->get<std::string>();
    }
    const std::string& place = selection.by_subdivision ? r.subdivision : r.country;
    for (const std::string& group : groups) {
      const std::string series = group + form;
      counts[fmt::format("{}@*", series)][step] += 1;
      // Reports without a subdivision count in the total only.
      if (!place.empty()) counts[fmt::format("{}@{}", series, place)][step] += 1;
    }
  }
  return FilledSeries(counts, selection.daily ? TimeKind::kDate : TimeKind::kIsoWeek, first, last,
                      *output_from, *last_step);
}

}  // namespace

Status ForEachStoredReport(reports::Store& store, const reports::Principal& viewer,
                           reports::ReportQuery query, std::string_view progress,
                           const std::function<Status(reports::StoredReport&)>& visit) {
  query.limit = 1000;
  Progress counts(std::string(progress), 0, !progress.empty());
  while (true) {
    auto page = store.Query(viewer, query);
    if (!page.ok()) return page.status();
    for (reports::StoredReport& r : page->reports) {
      if (Status s = visit(r); !s.ok()) return s;
    }
    counts.Advance(page->reports.size());
    if (!page->next_before_sequence) return Status::Ok();
    query.before_sequence = page->next_before_sequence;
  }
}

const std::string& SubstanceNames::Of(const std::string& key) {
  const auto found = names_.find(key);
  if (found != names_.end()) return found->second;
  auto summary = store_.Substance(viewer_, key);
  return names_[key] =
             summary.ok() && !summary->substance.name.empty() ? summary->substance.name : key;
}

Result<CountSeriesFile> SeriesFromStore(reports::Store& store, const reports::Principal& viewer,
                                        const StoreSeriesSelection& selection) {
  reports::AggregateQuery query;
  query.period = reports::Period::kWeek;
  query.kind = selection.kind;
  // Counts are of occurrences; wastewater measurements are loads (--kind wastewater).
  if (!selection.kind) query.except_kind = reports::Kind::kWastewater;
  query.place = selection.place;
  query.by_subdivision = selection.by_subdivision;
  query.substance = selection.substance;
  query.substance_class = selection.substance_class;
  query.to = selection.to;
  // The ISO week of a --from or --to day.
  const auto week_of =
      [](std::string_view flag,
         const std::optional<std::string>& day) -> Result<std::optional<std::int64_t>> {
    if (!day) return std::optional<std::int64_t>();
    auto parsed = reports::ParseDay(*day);
    if (!parsed.ok())
      return Status::InvalidArgument(fmt::format("{}: {}", flag, parsed.status().message()));
    return std::optional<std::int64_t>(
        IsoWeekIndex(reports::PeriodStart(reports::Period::kWeek, *parsed)));
  };
  auto output_from = week_of("--from", selection.from);
  if (!output_from.ok()) return output_from.status();
  auto last_week = week_of("--to", selection.to);
  if (!last_week.ok()) return last_week.status();
  if (selection.daily || selection.by_form || selection.by_class ||
      selection.kind == reports::Kind::kWastewater) {
    return SeriesFromReports(store, viewer, selection);
  }
  auto rows = store.Aggregate(viewer, query);
  if (!rows.ok()) return rows.status();

  // (series name) -> week -> reports; the place "*" sums a substance over every place.
  std::map<std::string, std::map<std::int64_t, double>> counts;
  std::int64_t first = std::numeric_limits<std::int64_t>::max();
  std::int64_t last = std::numeric_limits<std::int64_t>::min();
  for (const reports::AggregateRow& row : *rows) {
    auto day = reports::ParseDay(row.period_start);
    if (!day.ok()) return day.status();
    const std::int64_t week = IsoWeekIndex(*day);
    first = std::min(first, week);
    last = std::max(last, week);
    const auto n = static_cast<double>(row.reports);
    counts[row.substance_key + "@*"][week] += n;
    // Reports without a subdivision count in the substance's total only.
    if (!row.place.empty()) counts[row.substance_key + "@" + row.place][week] += n;
  }
  const std::map<std::string, std::string> label = SubstanceLabels(store, viewer, *rows);
  std::map<std::string, std::map<std::int64_t, double>> named;
  for (auto& [series, weeks] : counts) {
    const auto at = series.rfind('@');
    named[label.at(series.substr(0, at)) + series.substr(at)] = std::move(weeks);
  }
  counts = std::move(named);

  return FilledSeries(counts, TimeKind::kIsoWeek, first, last, *output_from, *last_week);
}

}  // namespace sentinel::app
