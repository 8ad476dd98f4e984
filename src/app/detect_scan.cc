#include "app/detect_scan.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <ostream>

#include "app/csv.h"
#include "app/demo_history.h"
#include "app/library_loader.h"
#include "app/node.h"
#include "app/progress.h"
#include "core/common/text.h"

namespace sentinel::app {
namespace {

// The shipped centroids: data/demo/places.tsv, a place being its subdivision or, for the rest of
// a country, the country.
Result<Gazetteer> ShippedGazetteer() {
  auto reference = LoadShippedDemoReference();
  if (!reference.ok()) return reference.status();
  Gazetteer gazetteer;
  for (const DemoPlace& p : reference->places) {
    gazetteer[p.subdivision.empty() ? p.country : p.subdivision] = {p.lat, p.lon};
  }
  return gazetteer;
}

nlohmann::ordered_json ParametersJson(const detect::ScanOptions& s) {
  nlohmann::ordered_json p;
  p["max_window"] = s.max_window;
  p["max_share"] = s.max_share;
  p["max_radius_km"] = s.max_radius_km ? nlohmann::ordered_json(*s.max_radius_km) : nullptr;
  p["replicates"] = s.replicates;
  p["stop_after"] = s.stop_after;
  p["seed"] = s.seed;
  p["prospective"] = s.prospective;
  p["min_cases"] = s.min_cases;
  p["alpha"] = s.alpha;
  return p;
}

// One scan to run: a name ("*" for a file, the substance for a node) and its data.
struct Analysis {
  std::string name;
  detect::ScanData data;
};

struct Scanned {
  const Analysis* analysis;
  detect::ScanResult result;
};

Result<std::vector<Analysis>> AnalysesOfFile(const CountSeriesFile& file,
                                             const DetectCommandOptions& options) {
  std::vector<const NamedSeries*> series;
  std::vector<std::pair<double, double>> points;
  for (const NamedSeries& s : file.series) {
    if (!s.lat) {
      return Status::InvalidArgument(fmt::format(
          "series '{}' has no lat and lon: the scan needs every location placed (columns lat,lon)",
          s.name));
    }
    series.push_back(&s);
    points.emplace_back(*s.lat, *s.lon);
  }
  auto data = ScanDataFromSeries(series, points, file.time_kind, options.study_steps);
  if (!data.ok()) return data.status();
  std::vector<Analysis> analyses;
  analyses.push_back({"*", std::move(data).value()});
  return analyses;
}

// Series "<substance>@<place>" grouped by substance; "@*" totals are not locations.
Result<std::vector<Analysis>> AnalysesOfNode(const CountSeriesFile& file,
                                             const DetectCommandOptions& options,
                                             std::ostream& err) {
  auto loaded = LoadGazetteer(options.places);
  if (!loaded.ok()) return loaded.status();
  const Gazetteer& gazetteer = *loaded;
  std::map<std::string, std::vector<const NamedSeries*>> by_substance;
  std::map<std::string, double> unplaced;  // place -> cases left out
  // Reports naming no subdivision count in the substance's total ("@*") only: their cases are
  // the totals less the placed and unplaced places'.
  double unlocated = 0;
  for (const NamedSeries& s : file.series) {
    const auto at = s.name.rfind('@');
    const std::string place = s.name.substr(at + 1);
    double cases = 0;
    for (double c : s.series.observed) cases += c;
    if (place == "*") {
      unlocated += cases;
      continue;
    }
    unlocated -= cases;
    if (!gazetteer.count(place)) {
      unplaced[place] += cases;
      continue;
    }
    by_substance[s.name.substr(0, at)].push_back(&s);
  }
  if (!unplaced.empty()) {
    std::vector<std::string> named;
    named.reserve(unplaced.size());
    for (const auto& [place, cases] : unplaced)
      named.push_back(fmt::format("{} ({})", place, cases));
    err << fmt::format(
        "sentinel detect: scan: {} place(s) have no coordinates in {} and are left out: {}\n",
        unplaced.size(), options.places.empty() ? "the shipped centroids" : options.places,
        fmt::join(named, ", "));
  }
  if (unlocated > 0) {
    err << fmt::format(
        "sentinel detect: scan: {} substance report(s) name no subdivision and are left out\n",
        unlocated);
  }
  std::vector<Analysis> analyses;
  for (const auto& [substance, series] : by_substance) {
    std::vector<std::pair<double, double>> points;
    std::vector<std::string> places;
    points.reserve(series.size());
    places.reserve(series.size());
    for (const NamedSeries* s : series) {
      places.push_back(s->name.substr(s->name.rfind('@') + 1));
      points.push_back(gazetteer.find(places.back())->second);
    }
    auto data =
        ScanDataFromSeries(series, points, file.time_kind, options.study_steps.value_or(52));
    if (!data.ok()) return data.status();
    if (data->locations.empty()) continue;  // no steps at all
    // Within one substance's scan a location is its place.
    for (std::size_t i = 0; i < places.size(); ++i) data->locations[i].name = places[i];
    analyses.push_back({substance, std::move(data).value()});
  }
  return analyses;
}

void WriteClusters(const DetectCommandOptions& options, TimeKind time_kind, int frequency,
                   const detect::ScanOptions& scan, const std::vector<Scanned>& scanned,
                   std::ostream& out) {
  const std::string source = DetectSourceName(options);
  std::string buffer;
  if (options.format == "csv") {
    buffer =
        "analysis,cluster,start,end,observed,expected,ratio,llr,p_value,recurrence_interval,alarm,"
        "centre,radius_km,locations\n";
  }
  const auto optional = [](const std::optional<double>& v) {
    return v ? fmt::format("{:.6g}", *v) : std::string();
  };
  for (const Scanned& s : scanned) {
    const detect::ScanData& data = s.analysis->data;
    for (std::size_t i = 0; i < s.result.clusters.size(); ++i) {
      const detect::ScanCluster& c = s.result.clusters[i];
      std::vector<std::string> names;
      names.reserve(c.locations.size());
      for (std::size_t z : c.locations) names.push_back(data.locations[z].name);
      const std::string start = FormatTime(time_kind, data.time[c.first_step]);
      const std::string end = FormatTime(time_kind, data.time[c.last_step]);
      const double ratio = static_cast<double>(c.observed) / c.expected;
      if (options.format == "csv") {
        fmt::format_to(std::back_inserter(buffer),
                       "{},{},{},{},{},{:.4f},{:.4f},{:.4f},{},{},{},{},{:.1f},{}\n",
                       CsvQuoted(s.analysis->name), i + 1, start, end, c.observed, c.expected,
                       ratio, c.llr, optional(c.p_value), optional(c.recurrence_steps),
                       c.p_value ? (c.alarm ? "true" : "false") : "",
                       CsvQuoted(data.locations[c.centre].name), c.radius_km,
                       CsvQuoted(fmt::format("{}", fmt::join(names, ";"))));
        continue;
      }
      nlohmann::ordered_json row = {
          {"analysis", s.analysis->name}, {"detector", kScanMethod}, {"cluster", i + 1}};
      row.update(ClusterJson(data, c, time_kind, frequency, scan, source));
      row["data"]["cases"] = s.result.cases;
      row["data"]["replicates_run"] = s.result.replicates_run;
      buffer += row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      buffer += '\n';
    }
  }
  out << buffer;
}

}  // namespace

detect::ScanOptions ScanOptionsOf(const DetectCommandOptions& o, int frequency) {
  detect::ScanOptions s;
  s.max_window = o.max_window.value_or(frequency == 365 ? 7 : 4);
  s.max_share = o.max_share;
  s.max_radius_km = o.max_radius_km;
  s.replicates = o.replicates;
  s.stop_after = o.stop_after;
  s.seed = o.seed;
  s.prospective = !o.retrospective;
  s.min_cases = o.min_cases;
  s.alpha = o.alpha.value_or(0.05);
  s.max_clusters = o.max_clusters;
  return s;
}

Result<Gazetteer> LoadGazetteer(const std::string& places) {
  if (places.empty()) return ShippedGazetteer();
  auto text = ReadWholeFile(places);
  if (!text.ok()) return Status::InvalidArgument("--places: cannot read " + places);
  return ParseGazetteerCsv(*text, places);
}

nlohmann::ordered_json ClusterJson(const detect::ScanData& data, const detect::ScanCluster& c,
                                   TimeKind time_kind, int frequency,
                                   const detect::ScanOptions& scan, const std::string& source) {
  std::vector<std::string> names;
  names.reserve(c.locations.size());
  for (std::size_t z : c.locations) names.push_back(data.locations[z].name);
  nlohmann::ordered_json row;
  row["start"] = TimeJson(time_kind, data.time[c.first_step]);
  row["end"] = TimeJson(time_kind, data.time[c.last_step]);
  row["observed"] = c.observed;
  row["expected"] = c.expected;
  row["ratio"] = static_cast<double>(c.observed) / c.expected;
  row["llr"] = c.llr;
  row["p_value"] = c.p_value ? nlohmann::ordered_json(*c.p_value) : nullptr;
  if (c.recurrence_steps) {
    row["recurrence_interval"] = {{"steps", *c.recurrence_steps},
                                  {"years", *c.recurrence_steps / frequency}};
  } else {
    row["recurrence_interval"] = nullptr;
  }
  row["alarm"] = c.p_value ? nlohmann::ordered_json(c.alarm) : nullptr;
  const detect::ScanLocation& centre = data.locations[c.centre];
  row["centre"] = {{"name", centre.name}, {"lat", centre.lat}, {"lon", centre.lon}};
  row["radius_km"] = c.radius_km;
  row["locations"] = names;
  row["parameters"] = ParametersJson(scan);
  // What the scan saw: enough to run it again on the same data.
  row["data"] = {{"source", source},
                 {"frequency", frequency},
                 {"first", TimeJson(time_kind, data.time.front())},
                 {"last", TimeJson(time_kind, data.time.back())},
                 {"locations", data.locations.size()}};
  return row;
}

Result<Gazetteer> ParseGazetteerCsv(std::string_view text, std::string_view source) {
  Gazetteer gazetteer;
  std::optional<std::size_t> col_place, col_lat, col_lon;
  std::size_t columns = 0;
  const Status read = ForEachCsvLine(
      text, true, [&](std::size_t line, const std::vector<std::string>& cells) -> Status {
        if (columns == 0) {
          for (std::size_t i = 0; i < cells.size(); ++i) {
            if (cells[i] == "place") col_place = i;
            if (cells[i] == "lat") col_lat = i;
            if (cells[i] == "lon") col_lon = i;
          }
          if (!col_place || !col_lat || !col_lon) {
            return Status::InvalidArgument(fmt::format(
                "{}: line {}: the header must name the columns place, lat and lon", source, line));
          }
          columns = cells.size();
          return Status::Ok();
        }
        const auto error = [&](std::string_view column, const std::string& what) {
          return Status::InvalidArgument(
              fmt::format("{}: line {}, column {}: {}", source, line, column, what));
        };
        if (cells.size() != columns) {
          return Status::InvalidArgument(
              fmt::format("{}: line {}: {} columns where the header has {}", source, line,
                          cells.size(), columns));
        }
        const std::string& place = cells[*col_place];
        if (place.empty()) return error("place", "empty");
        const auto lat = ParseFiniteNumber(cells[*col_lat]);
        const auto lon = ParseFiniteNumber(cells[*col_lon]);
        if (!lat || *lat < -90 || *lat > 90) {
          return error("lat", "'" + cells[*col_lat] + "' is not a latitude");
        }
        if (!lon || *lon < -180 || *lon > 180) {
          return error("lon", "'" + cells[*col_lon] + "' is not a longitude");
        }
        if (!gazetteer.emplace(place, std::make_pair(*lat, *lon)).second) {
          return error("place", "'" + place + "' listed twice");
        }
        return Status::Ok();
      });
  if (!read.ok()) return read;
  if (columns == 0)
    return Status::InvalidArgument(fmt::format("{}: no header and no places", source));
  return gazetteer;
}

Result<detect::ScanData> ScanDataFromSeries(const std::vector<const NamedSeries*>& series,
                                            const std::vector<std::pair<double, double>>& points,
                                            TimeKind time_kind, std::optional<int> study_steps) {
  if (study_steps && *study_steps < 1) {
    return Status::InvalidArgument("--study-steps must be at least 1");
  }
  detect::ScanData data;
  std::int64_t first = std::numeric_limits<std::int64_t>::max();
  std::int64_t last = std::numeric_limits<std::int64_t>::min();
  for (const NamedSeries* s : series) {
    if (s->series.time.empty()) continue;
    first = std::min(first, s->series.time.front());
    last = std::max(last, s->series.time.back());
  }
  if (first > last) return data;
  // Steps far apart in a file of many locations would need more cells than memory holds.
  const std::uint64_t span = static_cast<std::uint64_t>(last) - static_cast<std::uint64_t>(first);
  if (study_steps && span >= static_cast<std::uint64_t>(*study_steps))
    first = last - *study_steps + 1;
  const auto steps = static_cast<std::size_t>(last - first + 1);
  if (steps > kMaxScanCells / std::max<std::size_t>(1, series.size())) {
    return Status::InvalidArgument(
        fmt::format("{} locations over {} steps is more than the {} location-steps a scan may hold "
                    "(--study-steps "
                    "shortens it)",
                    series.size(), steps, kMaxScanCells));
  }
  for (std::int64_t t = first; t <= last; ++t) data.time.push_back(t);
  for (std::size_t i = 0; i < series.size(); ++i) {
    const NamedSeries& s = *series[i];
    data.locations.push_back({s.name, points[i].first, points[i].second});
    std::vector<std::int64_t> row(steps, 0);
    for (std::size_t k = 0; k < s.series.time.size(); ++k) {
      const std::int64_t t = s.series.time[k];
      if (t < first) continue;
      const double count = s.series.observed[k];
      if (count != std::floor(count) || count > static_cast<double>(detect::kMaxScanCases)) {
        return Status::InvalidArgument(fmt::format(
            "series '{}', time {}: {} is not a whole number of cases (the scan shuffles cases)",
            s.name, FormatTime(time_kind, t), count));
      }
      row[static_cast<std::size_t>(t - first)] = static_cast<std::int64_t>(count);
    }
    data.cases.push_back(std::move(row));
  }
  return data;
}

int RunScan(const DetectCommandOptions& options, std::istream& in, std::ostream& out,
            std::ostream& err) {
  if (Status s = CheckWholeOutputOptions(options, "cluster"); !s.ok()) {
    err << "sentinel detect: " << s.message() << "\n";
    return 2;
  }
  DetectCommandOptions read = options;
  read.select.by_subdivision = true;
  auto parsed = ReadDetectSeries(read, in, err);
  if (!parsed.ok()) {
    err << "sentinel detect: " << parsed.status().message() << "\n";
    return 2;
  }
  if (parsed->loads) {
    err << "sentinel detect: the space-time scan counts cases, and these series are loads "
           "(measurements; judge them with ears-c1, ears-c2, ears-c3 or first)\n";
    return 2;
  }
  const int frequency = options.frequency.value_or(parsed->time_kind == TimeKind::kDate ? 365 : 52);
  const detect::ScanOptions scan = ScanOptionsOf(options, frequency);
  auto analyses =
      options.db.empty() ? AnalysesOfFile(*parsed, options) : AnalysesOfNode(*parsed, options, err);
  if (!analyses.ok()) {
    err << "sentinel detect: " << analyses.status().message() << "\n";
    return 2;
  }
  // Scan everything before writing anything: an error must not leave half an output.
  std::vector<Scanned> scanned;
  Progress progress("scan replicates", analyses->size() * static_cast<std::size_t>(scan.replicates),
                    true);
  for (const Analysis& analysis : *analyses) {
    int reported = 0;
    auto result = detect::SpaceTimePermutationScan(analysis.data, scan, [&](int done, int) {
      progress.Advance(static_cast<std::size_t>(done - reported));
      reported = done;
    });
    if (!result.ok()) {
      err << "sentinel detect: " << (analysis.name == "*" ? "" : analysis.name + ": ")
          << result.status().message() << "\n";
      return 2;
    }
    scanned.push_back({&analysis, std::move(result).value()});
  }
  WriteClusters(options, parsed->time_kind, frequency, scan, scanned, out);
  out.flush();
  return out ? 0 : 1;
}

}  // namespace sentinel::app
