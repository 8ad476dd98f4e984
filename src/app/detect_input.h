// The input of `sentinel detect`: count series as CSV (docs/detect.md is the contract).
//
// A header names the columns `series`, `time` and `count` (any order; other columns are
// ignored, except `lat` and `lon`, which place a series on the globe for the space-time scan:
// given on any of its rows, and the same on all that give them), then one row per series and
// time step. Time is, for the whole file, either an
// integer step index, an ISO date (YYYY-MM-DD, daily steps) or an ISO week (YYYY-Www, weekly
// steps). A series' rows come in strictly increasing time (series may interleave); a step
// between two rows with no row of its own is a zero count, since no report means none seen.
// Counts are finite and not negative. A header naming `load` in place of `count` makes the file
// one of continuous measurements (wastewater loads): steps without a row are then missing, not
// zero. ParseCountSeriesCsv never throws: bad input gives an
// InvalidArgument naming the source, line and column.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/common/status.h"
#include "core/detect/combinations.h"
#include "core/detect/detection.h"
#include "core/detect/precursor_anomalies.h"

namespace sentinel::app {

enum class TimeKind { kIndex, kDate, kIsoWeek };

struct NamedSeries {
  std::string name;
  detect::CountSeries series;      // time: the index; days since 1970-01-01; or weeks (see below)
  std::optional<double> lat, lon;  // WGS 84 degrees, when the input places the series
};

struct CountSeriesFile {
  TimeKind time_kind = TimeKind::kIndex;
  // Loads, not counts (core/detect/loads.h): a header naming `load` instead of `count`, or a
  // node's wastewater reports. A step between two rows is then not measured (NaN), not zero.
  bool loads = false;
  std::vector<NamedSeries> series;  // in order of first appearance
  // Steps before this time are history: detectors see them, the output starts here.
  std::optional<std::int64_t> output_from;
};

// Limits that keep a typo in a time from exhausting memory: no series may span more steps than
// kMaxSeriesSteps (about 2,700 years of days), and no file may need more than kMaxFilledSteps
// zero counts to fill its gaps.
inline constexpr std::uint64_t kMaxSeriesSteps = 1'000'000;
inline constexpr std::uint64_t kMaxFilledSteps = 10'000'000;

// `source` names the input in error messages ("counts.csv", "stdin").
Result<CountSeriesFile> ParseCountSeriesCsv(std::string_view text, std::string_view source);

// The input of `detect --method combinations`: one row per substance found in a sample, the
// header naming `sample`, `time` and `substance` (any order; `form` optional; other columns
// ignored). Times as above. A sample's rows share its time, and its form where they give one.
// Items are the substances, and "form:<form>" for a sample with a form.
struct SampleFile {
  TimeKind time_kind = TimeKind::kIndex;
  std::vector<std::string> ids;         // sample ids, in order of first appearance
  std::vector<detect::Sample> samples;  // the same order
};
inline constexpr std::size_t kMaxSampleItems = 1000;  // per sample
Result<SampleFile> ParseSamplesCsv(std::string_view text, std::string_view source);

// The input of `detect --method precursors`: one row per shipment, the header naming
// `shipment`, `time`, `chemical`, `quantity`, `unit`, `origin` and `destination`, and optionally
// `transit` (countries separated by ';'); any order, other columns ignored. Units as reports give
// them: mg, g, kg (a mass, kept in kg), ml, l (a volume, in litres), units. Countries are ISO
// 3166-1 alpha-2. Shipment ids are unique.
struct ShipmentFile {
  TimeKind time_kind = TimeKind::kIndex;
  std::vector<detect::Shipment> shipments;
  std::vector<double> quantities;  // as given, with
  std::vector<std::string> units;  // their units, for the output
};
Result<ShipmentFile> ParseShipmentsCsv(std::string_view text, std::string_view source);
// A quantity in a report's unit as the detector compares it; empty for an unknown unit.
std::optional<std::pair<double, detect::QuantityDimension>> NormaliseQuantity(
    double value, std::string_view unit);

// A time of the given kind as written in the input ("12", "2024-03-01", "2024-W09"). ISO weeks
// count from the week of Monday 1969-12-29 (week 0), so consecutive weeks differ by 1 across
// years with 52 and 53 weeks alike.
std::string FormatTime(TimeKind kind, std::int64_t time);
// The inverse of FormatTime; empty when `text` is not a time of that kind.
std::optional<std::int64_t> ParseTime(TimeKind kind, std::string_view text);

// The ISO week index (as above) of the week holding `day`, and the Monday of a week index.
std::int64_t IsoWeekIndex(std::chrono::sys_days day);
std::chrono::sys_days IsoWeekMonday(std::int64_t week);

}  // namespace sentinel::app
