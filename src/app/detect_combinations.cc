#include "app/detect_combinations.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <optional>
#include <ostream>

#include "app/csv.h"
#include "core/detect/combinations.h"

namespace sentinel::app {
namespace {

Result<SampleFile> ReadSamples(const DetectCommandOptions& options, std::istream& in,
                               std::ostream& err) {
  auto read = ReadDetectInput(options, in, "sample,time,substance");
  if (!read.ok()) return read.status();
  if (!options.db.empty()) {
    auto node = OpenDetectNode(options, err);
    if (!node.ok()) return node.status();
    return SamplesFromStore(*node->node.store, node->viewer, options);
  }
  return ParseSamplesCsv(read->text, read->source);
}

}  // namespace

nlohmann::ordered_json CombinationJson(const detect::Combination& c,
                                       const detect::CombinationResult& result,
                                       const detect::CombinationOptions& settings,
                                       TimeKind time_kind, const std::string& source) {
  nlohmann::ordered_json row;
  row["detector"] = kCombinationsMethod;
  row["first"] = c.first;
  row["second"] = c.second;
  row["together"] = c.together;
  row["first_count"] = c.first_count;
  row["second_count"] = c.second_count;
  row["samples"] = c.samples;
  row["expected"] = c.expected;
  row["p_value"] = c.p_value;
  row["threshold"] = result.threshold;
  row["history_together"] = c.history_together;
  row["first_together"] = TimeJson(time_kind, c.first_seen_together);
  row["new"] = c.is_new;
  row["beyond_expectation"] = c.beyond_expectation;
  row["alarm"] = c.alarm;
  row["parameters"] = {{"window", settings.window},
                       {"alpha", settings.alpha},
                       {"min_together", settings.min_together}};
  // What the detector saw: enough to run it again on the same data.
  row["data"] = {{"source", source},
                 {"window_first", TimeJson(time_kind, result.window_first)},
                 {"window_last", TimeJson(time_kind, result.window_last)},
                 {"samples", result.samples},
                 {"history_samples", result.history_samples},
                 {"pairs", result.pairs}};
  return row;
}

namespace {

void WriteCombinations(const DetectCommandOptions& options, TimeKind time_kind,
                       const detect::CombinationOptions& settings,
                       const detect::CombinationResult& result, std::ostream& out) {
  const std::string source = DetectSourceName(options);
  std::string buffer;
  if (options.format == "csv") {
    buffer =
        "first,second,together,first_count,second_count,samples,expected,p_value,"
        "history_together,first_together,new,beyond_expectation,alarm\n";
  }
  const auto flag = [](bool b) { return b ? "true" : "false"; };
  for (const detect::Combination& c : result.combinations) {
    if (options.format == "csv") {
      fmt::format_to(std::back_inserter(buffer), "{},{},{},{},{},{},{:.4f},{:.6g},{},{},{},{},{}\n",
                     CsvQuoted(c.first), CsvQuoted(c.second), c.together, c.first_count,
                     c.second_count, c.samples, c.expected, c.p_value, c.history_together,
                     FormatTime(time_kind, c.first_seen_together), flag(c.is_new),
                     flag(c.beyond_expectation), flag(c.alarm));
      continue;
    }
    const nlohmann::ordered_json row = CombinationJson(c, result, settings, time_kind, source);
    buffer += row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    buffer += '\n';
  }
  out << buffer;
}

}  // namespace

Result<SampleFile> SamplesFromStore(reports::Store& store, const reports::Principal& viewer,
                                    const DetectCommandOptions& options,
                                    std::map<std::string, std::string>* key_of) {
  reports::ReportQuery query;
  if (!options.kind.empty()) {
    query.kind = reports::ParseKind(options.kind);
    if (!query.kind) return Status::InvalidArgument("--kind: unknown kind '" + options.kind + "'");
  }
  query.to = options.select.to;
  query.place = options.select.place;
  query.substance = options.select.substance;
  query.substance_class = options.select.substance_class;
  SampleFile file;
  file.time_kind = TimeKind::kIsoWeek;
  SubstanceNames names(store, viewer);
  const Status read = ForEachStoredReport(
      store, viewer, query, "combinations: reports read", [&](reports::StoredReport& r) -> Status {
        auto day = reports::ParseDay(r.date);
        if (!day.ok()) return day.status();
        detect::Sample sample{IsoWeekIndex(*day), {}};
        for (const std::string& key : r.substance_keys) {
          sample.items.push_back(names.Of(key));
          if (key_of != nullptr) key_of->emplace(sample.items.back(), key);
        }
        const auto form = r.body.find("form");
        if (form != r.body.end() && form->is_string() && !form->get<std::string>().empty()) {
          sample.items.push_back("form:" + form->get<std::string>());
        }
        file.ids.push_back(r.id);
        file.samples.push_back(std::move(sample));
        return Status::Ok();
      });
  if (!read.ok()) return read;
  return file;
}

int RunCombinations(const DetectCommandOptions& options, std::istream& in, std::ostream& out,
                    std::ostream& err) {
  if (Status s = CheckWholeOutputOptions(options, "pair"); !s.ok()) {
    err << "sentinel detect: " << s.message() << "\n";
    return 2;
  }
  auto samples = ReadSamples(options, in, err);
  if (!samples.ok()) {
    err << "sentinel detect: " << samples.status().message() << "\n";
    return 2;
  }
  detect::CombinationOptions settings;
  settings.window = options.window;
  settings.alpha = options.alpha.value_or(0.05);
  settings.min_together = options.min_together;
  auto last = WindowEnd(options, samples->samples);
  if (!last.ok()) {
    err << "sentinel detect: " << last.status().message() << "\n";
    return 2;
  }
  auto result = detect::JudgeCombinations(samples->samples, *last, settings);
  if (!result.ok()) {
    err << "sentinel detect: " << result.status().message() << "\n";
    return 2;
  }
  WriteCombinations(options, samples->time_kind, settings, *result, out);
  out.flush();
  return out ? 0 : 1;
}

}  // namespace sentinel::app
