// Fuzzes the CSV input of `sentinel detect` (app/detect_input.h): any bytes give count series or
// an error naming the source and line, never an exception, a crash or an unbounded allocation.
// Accepted series keep the contract: strictly consecutive times, finite non-negative counts, as
// many counts as times, within the step limits; times print and parse back to themselves; and
// every EARS method judges them without error; a file of loads (a `load` column) judges its
// measured steps only, on the log scale (core/detect/loads.h). Series placed by lat/lon are on the
// globe, and a small file whose every series is placed scans (core/detect/scan.h) into clusters
// that keep their contract. The same bytes read as a gazetteer (app/detect_scan.h) give places on
// the globe or an error naming the source; read as samples (`detect --method combinations`), they
// give samples whose pairs are judged with p-values in [0, 1] and counts that add up; read as
// shipments (`detect --method precursors`), positive quantities judged with reasons that agree
// with their flags.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/detect_input.h"
#include "app/detect_scan.h"
#include "core/detect/combinations.h"
#include "core/detect/ears.h"
#include "core/detect/loads.h"
#include "core/detect/scan.h"

namespace {

[[noreturn]] void Violation() { __builtin_trap(); }

// A file small enough to scan in a moment, every series placed: clusters have more cases than
// expected, valid p-values, and share no location.
void ScanSmallFile(const sentinel::app::CountSeriesFile& file) {
  std::vector<const sentinel::app::NamedSeries*> series;
  std::vector<std::pair<double, double>> points;
  for (const auto& s : file.series) {
    if (!s.lat || s.series.time.size() > 64) return;
    series.push_back(&s);
    points.emplace_back(*s.lat, *s.lon);
  }
  if (series.empty() || series.size() > 32) return;
  const auto data =
      sentinel::app::ScanDataFromSeries(series, points, file.time_kind, std::optional<int>(64));
  if (!data.ok()) return;  // fractions of cases
  std::int64_t cases = 0;
  for (const auto& row : data->cases) {
    for (std::int64_t c : row) cases += c;
  }
  if (cases > 5000) return;
  sentinel::detect::ScanOptions options;
  options.replicates = 9;
  const auto result = sentinel::detect::SpaceTimePermutationScan(*data, options);
  if (!result.ok()) return;
  std::vector<char> taken(data->locations.size(), 0);
  for (const auto& c : result->clusters) {
    if (c.locations.empty() || !(static_cast<double>(c.observed) > c.expected) || !(c.llr > 0))
      Violation();
    if (!c.p_value || !(*c.p_value > 0 && *c.p_value <= 1)) Violation();
    if (c.first_step > c.last_step || c.last_step + 1 != data->time.size()) Violation();
    for (std::size_t z : c.locations) {
      if (z >= taken.size() || taken[z] != 0) Violation();
      taken[z] = 1;
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using sentinel::app::ParseCountSeriesCsv;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto gazetteer = sentinel::app::ParseGazetteerCsv(text, "places.csv");
  if (!gazetteer.ok()) {
    if (gazetteer.status().message().rfind("places.csv: ", 0) != 0) Violation();
  } else {
    for (const auto& [place, point] : *gazetteer) {
      if (place.empty() || !(std::fabs(point.first) <= 90) || !(std::fabs(point.second) <= 180)) {
        Violation();
      }
    }
  }
  const auto samples = sentinel::app::ParseSamplesCsv(text, "samples.csv");
  if (!samples.ok()) {
    if (samples.status().message().rfind("samples.csv: ", 0) != 0) Violation();
  } else {
    if (samples->ids.size() != samples->samples.size()) Violation();
    std::int64_t last = 0;
    for (const auto& sample : samples->samples) {
      if (sample.items.empty() || sample.items.size() > sentinel::app::kMaxSampleItems + 1) {
        Violation();
      }
      last = std::max(last, sample.time);
    }
    const auto judged = sentinel::detect::JudgeCombinations(samples->samples, last, {});
    if (!judged.ok()) Violation();
    for (const auto& c : judged->combinations) {
      if (!(c.p_value >= 0 && c.p_value <= 1) || c.together < 1 || c.first >= c.second ||
          c.together > std::min(c.first_count, c.second_count) || c.samples != judged->samples ||
          c.alarm != (c.is_new || c.beyond_expectation)) {
        Violation();
      }
    }
  }
  const auto shipments = sentinel::app::ParseShipmentsCsv(text, "shipments.csv");
  if (!shipments.ok()) {
    if (shipments.status().message().rfind("shipments.csv: ", 0) != 0) Violation();
  } else {
    std::int64_t last = 0;
    for (const auto& s : shipments->shipments) {
      if (!(s.quantity > 0) || s.origin.size() != 2 || s.destination.size() != 2) Violation();
      last = std::max(last, s.time);
    }
    const auto judged = sentinel::detect::JudgePrecursorShipments(shipments->shipments, last, {});
    if (!judged.ok()) Violation();
    for (const auto& j : *judged) {
      if (j.alarm != !j.reasons.empty() || (j.first_of_chemical && j.history != 0) ||
          (j.quantity_z.has_value() != j.usual_quantity.has_value())) {
        Violation();
      }
    }
  }
  const auto parsed = ParseCountSeriesCsv(text, "fuzz.csv");
  if (!parsed.ok()) {
    if (parsed.status().message().rfind("fuzz.csv: ", 0) != 0) Violation();
    return 0;
  }
  if (!parsed->loads) ScanSmallFile(*parsed);  // loads are refused by the scan
  for (const auto& named : parsed->series) {
    if (named.lat.has_value() != named.lon.has_value()) Violation();
    if (named.lat && (!(std::fabs(*named.lat) <= 90) || !(std::fabs(*named.lon) <= 180))) {
      Violation();
    }
    const auto& s = named.series;
    if (named.name.empty() || s.time.empty() || s.time.size() != s.observed.size()) Violation();
    if (s.time.size() > sentinel::app::kMaxSeriesSteps) Violation();
    for (std::size_t i = 0; i < s.time.size(); ++i) {
      if (i > 0 && s.time[i] != s.time[i - 1] + 1) Violation();
      // A load series' unmeasured steps are NaN; every row given is a finite value >= 0.
      if (parsed->loads && std::isnan(s.observed[i])) continue;
      if (!std::isfinite(s.observed[i]) || s.observed[i] < 0) Violation();
    }
    if (parsed->loads) {
      // The first and last steps are rows, hence measured; loads judge without error, only
      // measured steps, and a bound is a load at or above the floor.
      if (std::isnan(s.observed.front()) || std::isnan(s.observed.back())) Violation();
      for (auto method : {sentinel::detect::EarsMethod::kC1, sentinel::detect::EarsMethod::kC3}) {
        const auto judged = sentinel::detect::JudgeLoads(s, {.ears = {.method = method}});
        if (!judged.ok() || judged->size() != s.time.size()) Violation();
        for (std::size_t i = 0; i < judged->size(); ++i) {
          const auto& j = (*judged)[i];
          if (std::isnan(s.observed[i]) && (j.upperbound || j.alarm)) Violation();
          if (j.alarm.has_value() != j.upperbound.has_value()) Violation();
          if (j.upperbound && !(*j.upperbound >= 0.001 * (1 - 1e-9))) Violation();
        }
      }
      continue;
    }
    // A time printed as the output writes it must read back as the same step.
    const std::string line = "series,time,count\nx," +
                             sentinel::app::FormatTime(parsed->time_kind, s.time.front()) + ",1\n";
    const auto again = ParseCountSeriesCsv(line, "again");
    if (!again.ok() || again->series[0].series.time.front() != s.time.front()) Violation();
    for (auto method : {sentinel::detect::EarsMethod::kC1, sentinel::detect::EarsMethod::kC2,
                        sentinel::detect::EarsMethod::kC3}) {
      const auto judged = sentinel::detect::Ears(s, {.method = method});
      if (!judged.ok() || judged->size() != s.time.size()) Violation();
      for (const auto& j : *judged) {
        if (j.alarm.has_value() != j.upperbound.has_value()) Violation();
      }
    }
  }
  return 0;
}
