#include "app/detect_series.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <map>
#include <string_view>
#include <utility>

namespace sentinel::app {
Result<CountSeriesFile> SeriesFromStore(reports::Store& store, const reports::Principal& viewer,
                                        const StoreSeriesSelection& selection) {
  reports::AggregateQuery query;
  query.period = reports::Period::kWeek;
  query.kind = selection.kind;
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
  // Series are named by the substance's recorded name where no other substance shares it,
  // else by its key: "Fentanyl@US" reads better than a SMILES, and stays unambiguous.
  std::map<std::string, std::string> label;  // key -> name
  std::map<std::string, int> uses;           // name -> substances bearing it
  for (const reports::AggregateRow& row : *rows) {
    if (label.count(row.substance_key)) continue;
    auto summary = store.Substance(viewer, row.substance_key);
    std::string name = summary.ok() && !summary->substance.name.empty() ? summary->substance.name
                                                                        : row.substance_key;
    ++uses[name];
    label[row.substance_key] = std::move(name);
  }
  for (auto& [key, name] : label) {
    if (uses[name] > 1) name = key;
  }
  std::map<std::string, std::map<std::int64_t, double>> named;
  for (auto& [series, weeks] : counts) {
    const auto at = series.rfind('@');
    named[label[series.substr(0, at)] + series.substr(at)] = std::move(weeks);
  }
  counts = std::move(named);

  CountSeriesFile file;
  file.time_kind = TimeKind::kIsoWeek;
  file.output_from = *output_from;
  if (counts.empty()) return file;
  if (*last_week) last = std::max(last, **last_week);
  if (static_cast<std::uint64_t>(last - first) >= kMaxSeriesSteps) {
    return Status::InvalidArgument("the stored reports span more weeks than a series may");
  }
  for (auto& [name, weeks] : counts) {
    NamedSeries s;
    s.name = name;
    s.series.frequency = 52;
    for (std::int64_t week = first; week <= last; ++week) {
      s.series.time.push_back(week);
      const auto found = weeks.find(week);
      s.series.observed.push_back(found == weeks.end() ? 0 : found->second);
    }
    file.series.push_back(std::move(s));
  }
  return file;
}

}  // namespace sentinel::app
