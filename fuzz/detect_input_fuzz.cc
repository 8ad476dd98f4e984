// Fuzzes the CSV input of `sentinel detect` (app/detect_input.h): any bytes give count series or
// an error naming the source and line, never an exception, a crash or an unbounded allocation.
// Accepted series keep the contract: strictly consecutive times, finite non-negative counts, as
// many counts as times, within the step limits; times print and parse back to themselves; and
// every EARS method judges them without error.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "app/detect_input.h"
#include "core/detect/ears.h"

namespace {

[[noreturn]] void Violation() { __builtin_trap(); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using sentinel::app::ParseCountSeriesCsv;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = ParseCountSeriesCsv(text, "fuzz.csv");
  if (!parsed.ok()) {
    if (parsed.status().message().rfind("fuzz.csv: ", 0) != 0) Violation();
    return 0;
  }
  for (const auto& named : parsed->series) {
    const auto& s = named.series;
    if (named.name.empty() || s.time.empty() || s.time.size() != s.observed.size()) Violation();
    if (s.time.size() > sentinel::app::kMaxSeriesSteps) Violation();
    for (std::size_t i = 0; i < s.time.size(); ++i) {
      if (i > 0 && s.time[i] != s.time[i - 1] + 1) Violation();
      if (!std::isfinite(s.observed[i]) || s.observed[i] < 0) Violation();
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
