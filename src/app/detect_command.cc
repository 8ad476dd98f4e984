#include "app/detect_command.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "app/csv.h"
#include "app/detect_combinations.h"
#include "app/detect_input.h"
#include "app/detect_precursors.h"
#include "app/detect_scan.h"
#include "app/node.h"
#include "core/common/parallel.h"
#include "core/detect/cusum.h"
#include "core/detect/ears.h"
#include "core/detect/farrington.h"
#include "core/detect/first_detection.h"
#include "core/detect/loads.h"
#include "core/detect/signal.h"

namespace sentinel::app {
namespace {

// Judges a series from a step on (or from its start, where the method must run from there).
using Detector = std::function<Result<std::vector<detect::Judgement>>(
    const detect::CountSeries&, const DetectCommandOptions&, std::size_t first_step)>;

// The parameters a method runs with, defaults filled in, named as R's control lists: what a
// signal records so that an analyst can run the same detector again.
using Parameters = std::function<nlohmann::ordered_json(const DetectCommandOptions&)>;

struct Method {
  std::string_view name;
  Detector run;
  Parameters parameters;
  // On load series (CountSeriesFile::loads); empty where the method models counts.
  Detector run_on_loads = nullptr;
  Parameters parameters_on_loads = nullptr;
};

nlohmann::ordered_json EarsParameters(const DetectCommandOptions& o) {
  return {{"alpha", o.alpha.value_or(0.001)}, {"baseline", o.baseline}, {"minSigma", o.min_sigma}};
}

Parameters FarringtonParameters(detect::FarringtonOptions (*preset)()) {
  return [preset](const DetectCommandOptions& o) {
    detect::FarringtonOptions f = preset();
    static constexpr const char* kThreshold[] = {"delta", "nbPlugin", "muan"};
    static constexpr const char* kPower[] = {"none", "1/2", "2/3"};
    return nlohmann::ordered_json{
        {"b", o.b.value_or(f.b)},
        {"w", o.w.value_or(f.w)},
        {"alpha", o.alpha.value_or(f.alpha)},
        {"noPeriods", f.noPeriods},
        {"weightsThreshold", f.weightsThreshold},
        {"pastWeeksNotIncluded", f.pastWeeksNotIncluded.value_or(o.w.value_or(f.w))},
        {"pThresholdTrend", f.pThresholdTrend},
        {"thresholdMethod", kThreshold[static_cast<int>(f.thresholdMethod)]},
        {"powertrans", kPower[static_cast<int>(f.powertrans)]},
        {"limit54", {f.limit54.cases, f.limit54.weeks}}};
  };
}

nlohmann::ordered_json CusumParameters(const DetectCommandOptions& o) {
  const auto optional = [](const std::optional<double>& v) {
    return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
  };
  return {{"c.ARL", o.c_arl},
          {"mu0", optional(o.mu0)},
          {"alpha", optional(o.alpha)},
          {"theta", optional(o.theta)},
          {"M", o.M},
          {"S", o.S},
          {"trend", o.trend},
          {"range_start", o.range_start ? nlohmann::ordered_json(*o.range_start)
                                        : nlohmann::ordered_json("frequency + 1")}};
}

nlohmann::ordered_json EarsOnLoadsParameters(const DetectCommandOptions& o) {
  nlohmann::ordered_json p = EarsParameters(o);
  p["scale"] = "log10";  // minSigma is on it
  p["loadFloor"] = o.load_floor;
  return p;
}

Detector EarsOnLoadsDetector(detect::EarsMethod method) {
  return [method](const detect::CountSeries& series, const DetectCommandOptions& o, std::size_t) {
    return detect::JudgeLoads(series, {.ears = {.method = method,
                                                .baseline = o.baseline,
                                                .min_sigma = o.min_sigma,
                                                .alpha = o.alpha.value_or(0.001)},
                                       .load_floor = o.load_floor});
  };
}

Detector EarsDetector(detect::EarsMethod method) {
  return [method](const detect::CountSeries& series, const DetectCommandOptions& o, std::size_t) {
    return detect::Ears(series, {.method = method,
                                 .baseline = o.baseline,
                                 .min_sigma = o.min_sigma,
                                 .alpha = o.alpha.value_or(0.001)});
  };
}

// `preset` gives the published settings; --b, --w and --alpha override them.
Detector FarringtonDetector(detect::FarringtonOptions (*preset)()) {
  return [preset](const detect::CountSeries& series, const DetectCommandOptions& o,
                  std::size_t first_step) -> Result<std::vector<detect::Judgement>> {
    detect::FarringtonOptions options = preset();
    if (o.b) options.b = *o.b;
    if (o.w) options.w = *o.w;
    if (o.alpha) options.alpha = *o.alpha;
    if (options.b < 1 || options.w < 0) {
      return Status::InvalidArgument("Farrington needs --b >= 1 and --w >= 0");
    }
    if (!(options.alpha > 0 && options.alpha < 1)) {
      return Status::InvalidArgument("Farrington needs 0 < --alpha < 1");
    }
    // Steps R cannot judge (too little history) come out empty, one row per step as always.
    std::vector<detect::Judgement> out =
        detect::Farrington(series, std::min(first_step, series.observed.size()),
                           series.observed.size(), options, o.farrington_memo);
    return out;
  };
}

// A series too short for the baseline, or whose baseline the model cannot be fitted to, is
// not judged (one empty row per step, as other methods do before their first judgeable step);
// bad parameters and counts that are not integers stop the command.
Result<std::vector<detect::Judgement>> CusumDetector(const detect::CountSeries& series,
                                                     const DetectCommandOptions& o, std::size_t) {
  detect::CusumOptions options;
  options.c_ARL = o.c_arl;
  options.mu0 = o.mu0;
  options.alpha = o.alpha;
  options.theta = o.theta;
  options.M = o.M;
  options.S = o.S;
  options.trend = o.trend;
  if (Status s = detect::ValidateCusumOptions(options); !s.ok()) return s;
  const int range_start = o.range_start.value_or(series.frequency + 1);
  if (range_start < 1) return Status::InvalidArgument("cusum needs --range-start >= 1");
  for (const double count : series.observed) {
    if (count != std::floor(count)) {
      return Status::InvalidArgument(fmt::format(
          "cusum needs integer counts (R's glrnb reads them as integers), not {}", count));
    }
  }
  auto result = detect::Cusum(series, static_cast<std::size_t>(range_start - 1), options);
  if (result.ok()) return std::move(result->judgements);
  std::vector<detect::Judgement> unjudged(series.observed.size());
  for (std::size_t t = 0; t < unjudged.size(); ++t) {
    unjudged[t].time = series.time[t];
    unjudged[t].observed = series.observed[t];
  }
  return unjudged;
}

// Unmeasured steps of a load series are NaN, which FirstDetection leaves unjudged.
Result<std::vector<detect::Judgement>> FirstDetector(const detect::CountSeries& series,
                                                     const DetectCommandOptions&, std::size_t) {
  return detect::FirstDetection(series);
}

nlohmann::ordered_json NoParameters(const DetectCommandOptions&) {
  return nlohmann::ordered_json::object();
}

const std::vector<Method>& Methods() {
  static const std::vector<Method> methods = {
      {"ears-c1", EarsDetector(detect::EarsMethod::kC1), &EarsParameters,
       EarsOnLoadsDetector(detect::EarsMethod::kC1), &EarsOnLoadsParameters},
      {"ears-c2", EarsDetector(detect::EarsMethod::kC2), &EarsParameters,
       EarsOnLoadsDetector(detect::EarsMethod::kC2), &EarsOnLoadsParameters},
      {"ears-c3", EarsDetector(detect::EarsMethod::kC3), &EarsParameters,
       EarsOnLoadsDetector(detect::EarsMethod::kC3), &EarsOnLoadsParameters},
      {"farrington", FarringtonDetector(&detect::FarringtonOriginal),
       FarringtonParameters(&detect::FarringtonOriginal)},
      {"noufaily", FarringtonDetector(&detect::Noufaily), FarringtonParameters(&detect::Noufaily)},
      {"cusum", &CusumDetector, &CusumParameters},
      {"first", &FirstDetector, &NoParameters, &FirstDetector, &NoParameters},
  };
  return methods;
}

std::string Number(const std::optional<double>& v) { return v ? fmt::format("{}", *v) : ""; }

nlohmann::ordered_json JsonNumber(const std::optional<double>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
}

}  // namespace

Result<DetectNode> OpenDetectNode(const DetectCommandOptions& options, std::ostream& err) {
  NodeOptions node_options;
  node_options.db = options.db;
  node_options.store_only = true;
  node_options.must_exist = true;
  auto node = OpenNode(node_options, err);
  if (!node.ok()) return node.status();
  DetectNode opened{std::move(node).value(), reports::NodeAdministrator()};
  opened.viewer.country = options.audience;  // the node itself belongs to no organisation
  return opened;
}

Result<DetectInputText> ReadDetectInput(const DetectCommandOptions& options, std::istream& in,
                                        std::string_view columns) {
  if (options.input.empty() == options.db.empty()) {
    return Status::InvalidArgument(fmt::format(
        "give either --input FILE (CSV {}) or --db DATABASE (a node's reports)", columns));
  }
  DetectInputText read;
  if (!options.db.empty()) return read;
  read.source = options.input;
  if (options.input == "-") {
    read.source = "stdin";
    read.text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  } else {
    std::ifstream file(options.input, std::ios::binary);
    if (!file) return Status::InvalidArgument("cannot read " + options.input);
    read.text.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
  }
  return read;
}

std::string DetectSourceName(const DetectCommandOptions& options) {
  if (!options.db.empty()) return PrintableDb(options.db);
  return options.input == "-" ? "stdin" : options.input;
}

Status CheckWholeOutputOptions(const DetectCommandOptions& options, std::string_view row) {
  if (options.format != "csv" && options.format != "json") {
    return Status::InvalidArgument(
        fmt::format("unknown format '{}' (csv or json)", options.format));
  }
  if (options.signals) {
    return Status::InvalidArgument(fmt::format(
        "--signals does not apply to {}, which writes one row per {}", options.method, row));
  }
  return Status::Ok();
}

Result<CountSeriesFile> ReadDetectSeries(const DetectCommandOptions& options, std::istream& in,
                                         std::ostream& err) {
  auto read = ReadDetectInput(options, in, "series,time,count");
  if (!read.ok()) return read.status();
  if (!options.db.empty()) {
    StoreSeriesSelection select = options.select;
    if (!options.kind.empty()) {
      select.kind = reports::ParseKind(options.kind);
      if (!select.kind)
        return Status::InvalidArgument("--kind: unknown kind '" + options.kind + "'");
    }
    auto node = OpenDetectNode(options, err);
    if (!node.ok()) return node.status();
    return SeriesFromStore(*node->node.store, node->viewer, select);
  }
  return ParseCountSeriesCsv(read->text, read->source);
}

namespace {

// Every series judged, on every core: series are independent and detectors pure. The first
// failure in series order is the answer, as a single thread would have given it.
Result<std::vector<std::vector<detect::Judgement>>> JudgeAll(
    const Detector& run, const DetectCommandOptions& options,
    const std::vector<NamedSeries>& series) {
  std::vector<std::vector<detect::Judgement>> judged(series.size());
  std::vector<Status> failures(series.size());
  ParallelFor(series.size(), [&](std::size_t i) {
    auto j = run(series[i].series, options, 0);
    if (j.ok()) {
      judged[i] = std::move(j).value();
    } else {
      failures[i] = j.status();
    }
  });
  for (const Status& failure : failures) {
    if (!failure.ok()) return failure;
  }
  return judged;
}

// One row per series and step.
void WriteSteps(const DetectCommandOptions& options, const CountSeriesFile& parsed,
                const std::vector<std::vector<detect::Judgement>>& judged, std::ostream& out) {
  std::string buffer;
  if (options.format == "csv") buffer = "series,time,observed,expected,upperbound,alarm\n";
  for (std::size_t i = 0; i < judged.size(); ++i) {
    const std::string& name = parsed.series[i].name;
    const std::string name_field = CsvQuoted(name);
    for (const detect::Judgement& j : judged[i]) {
      if (parsed.output_from && j.time < *parsed.output_from) continue;
      if (std::isnan(j.observed)) continue;  // a load series' unmeasured step
      const std::string time = FormatTime(parsed.time_kind, j.time);
      if (options.format == "csv") {
        fmt::format_to(std::back_inserter(buffer), "{},{},{},{},{},{}\n", name_field,
                       CsvQuoted(time), j.observed, Number(j.expected), Number(j.upperbound),
                       j.alarm ? (*j.alarm ? "true" : "false") : "");
      } else {
        nlohmann::ordered_json row;
        row["series"] = name;
        if (parsed.time_kind == TimeKind::kIndex) {
          row["time"] = j.time;
        } else {
          row["time"] = time;
        }
        row["observed"] = j.observed;
        row["expected"] = JsonNumber(j.expected);
        row["upperbound"] = JsonNumber(j.upperbound);
        row["alarm"] = j.alarm ? nlohmann::ordered_json(*j.alarm) : nlohmann::ordered_json(nullptr);
        buffer += row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        buffer += '\n';
      }
      if (buffer.size() > (1U << 16)) {
        out << buffer;
        buffer.clear();
      }
    }
  }
  out << buffer;
}

nlohmann::ordered_json StepJson(TimeKind kind, const detect::Judgement& j) {
  return {{"time", TimeJson(kind, j.time)},
          {"observed", j.observed},
          {"expected", JsonNumber(j.expected)},
          {"upperbound", JsonNumber(j.upperbound)}};
}

const Method* FindMethod(std::string_view name) {
  for (const Method& m : Methods()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

// One row per signal: a series' alarms folded into episodes (core/detect/signal.h). A signal
// still alarming at or after --from is written, whenever it began.
void WriteSignals(const Method& method, const DetectCommandOptions& options,
                  const CountSeriesFile& parsed,
                  const std::vector<std::vector<detect::Judgement>>& judged, std::ostream& out) {
  const std::string source = DetectSourceName(options);
  std::string buffer;
  if (options.format == "csv") {
    buffer =
        "series,detector,first,last,alarms,observed,expected,upperbound,peak_time,"
        "peak_observed,peak_upperbound\n";
  }
  for (std::size_t i = 0; i < judged.size(); ++i) {
    const NamedSeries& series = parsed.series[i];
    for (const detect::Signal& signal : detect::FoldAlarms(judged[i], options.max_gap)) {
      if (parsed.output_from && signal.last_time < *parsed.output_from) continue;
      const auto time = [&](std::int64_t t) { return FormatTime(parsed.time_kind, t); };
      if (options.format == "csv") {
        fmt::format_to(std::back_inserter(buffer), "{},{},{},{},{},{},{},{},{},{},{}\n",
                       CsvQuoted(series.name), method.name, CsvQuoted(time(signal.first_time)),
                       CsvQuoted(time(signal.last_time)), signal.alarms, signal.latest.observed,
                       Number(signal.latest.expected), Number(signal.latest.upperbound),
                       CsvQuoted(time(signal.peak.time)), signal.peak.observed,
                       Number(signal.peak.upperbound));
        continue;
      }
      const nlohmann::ordered_json row =
          SignalJson(method.name, options, series.name, series.series, parsed.time_kind, signal,
                     source, parsed.loads);
      buffer += row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      buffer += '\n';
    }
  }
  out << buffer;
}

}  // namespace

nlohmann::ordered_json TimeJson(TimeKind kind, std::int64_t time) {
  if (kind == TimeKind::kIndex) return time;
  return FormatTime(kind, time);
}

Result<std::vector<detect::Judgement>> JudgeSeries(std::string_view method,
                                                   const detect::CountSeries& series,
                                                   const DetectCommandOptions& options,
                                                   std::size_t first_step) {
  const Method* m = FindMethod(method);
  if (m == nullptr) {
    return Status::InvalidArgument(fmt::format("no detection method '{}'", method));
  }
  return m->run(series, options, first_step);
}

Result<std::vector<detect::Judgement>> JudgeLoadSeries(std::string_view method,
                                                       const detect::CountSeries& series,
                                                       const DetectCommandOptions& options) {
  const Method* m = FindMethod(method);
  if (m == nullptr || !m->run_on_loads) {
    return Status::InvalidArgument(fmt::format("no detection method '{}' for loads", method));
  }
  return m->run_on_loads(series, options, 0);
}

bool JudgesLoads(std::string_view method) {
  const Method* m = FindMethod(method);
  return m != nullptr && m->run_on_loads;
}

nlohmann::ordered_json SignalJson(std::string_view method, const DetectCommandOptions& options,
                                  const std::string& series_name, const detect::CountSeries& series,
                                  TimeKind time_kind, const detect::Signal& signal,
                                  const std::string& source, bool loads) {
  const Method* m = FindMethod(method);
  const Parameters* parameters = m == nullptr ? nullptr
                                 : loads      ? &m->parameters_on_loads
                                              : &m->parameters;
  nlohmann::ordered_json row;
  row["series"] = series_name;
  row["detector"] = method;
  row["parameters"] = parameters != nullptr && *parameters ? (*parameters)(options)
                                                           : nlohmann::ordered_json::object();
  row["first"] = TimeJson(time_kind, signal.first_time);
  row["last"] = TimeJson(time_kind, signal.last_time);
  row["alarms"] = signal.alarms;
  row["latest"] = StepJson(time_kind, signal.latest);
  row["peak"] = StepJson(time_kind, signal.peak);
  // What the detector saw: enough to run it again on the same data.
  row["data"] = {{"source", source},
                 {"frequency", series.frequency},
                 {"from", TimeJson(time_kind, series.time.front())},
                 {"to", TimeJson(time_kind, series.time.back())},
                 {"counts", series.observed.size()}};
  if (loads) {
    // A load series' steps are not all measurements: say how many were.
    row["data"]["measurements"] = std::count_if(series.observed.begin(), series.observed.end(),
                                                [](double x) { return !std::isnan(x); });
    row["data"]["unit"] = "mg/1000 people/day";
  }
  return row;
}

std::vector<std::string> DetectMethodNames() {
  std::vector<std::string> names;
  for (const Method& m : Methods()) names.emplace_back(m.name);
  names.emplace_back(kScanMethod);
  names.emplace_back(kCombinationsMethod);
  names.emplace_back(kPrecursorsMethod);
  return names;
}

int RunDetect(const DetectCommandOptions& options, std::istream& in, std::ostream& out,
              std::ostream& err) {
  if (options.method == kScanMethod) return RunScan(options, in, out, err);
  if (options.method == kCombinationsMethod) return RunCombinations(options, in, out, err);
  if (options.method == kPrecursorsMethod) return RunPrecursors(options, in, out, err);
  const Method* method = FindMethod(options.method);
  if (method == nullptr) {
    err << fmt::format("sentinel detect: unknown method '{}' (known: {})\n", options.method,
                       fmt::join(DetectMethodNames(), ", "));
    return 2;
  }
  if (options.format != "csv" && options.format != "json") {
    err << fmt::format("sentinel detect: unknown format '{}' (csv or json)\n", options.format);
    return 2;
  }

  auto parsed = ReadDetectSeries(options, in, err);
  if (!parsed.ok()) {
    err << "sentinel detect: " << parsed.status().message() << "\n";
    return 2;
  }

  // Judge everything before writing anything: a parameter error must not leave half an output.
  for (NamedSeries& s : parsed->series) {
    if (options.frequency) s.series.frequency = *options.frequency;
  }
  if (parsed->loads && !method->run_on_loads) {
    err << fmt::format(
        "sentinel detect: {} models counts, and these series are loads (measurements, not "
        "counts; use ears-c1, ears-c2, ears-c3 or first)\n",
        options.method);
    return 2;
  }
  auto judged =
      JudgeAll(parsed->loads ? method->run_on_loads : method->run, options, parsed->series);
  if (!judged.ok()) {
    err << "sentinel detect: " << judged.status().message() << "\n";
    return 2;
  }

  if (options.signals) {
    WriteSignals(*method, options, *parsed, *judged, out);
  } else {
    WriteSteps(options, *parsed, *judged, out);
  }
  out.flush();
  return out ? 0 : 1;
}

}  // namespace sentinel::app
