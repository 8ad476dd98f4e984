#include "core/detect/loads.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstddef>

namespace sentinel::detect {

Status ValidateLoadOptions(const LoadOptions& options) {
  if (Status s = ValidateEarsOptions(options.ears); !s.ok()) return s;
  if (!(options.load_floor > 0) || !std::isfinite(options.load_floor)) {
    return Status::InvalidArgument(
        fmt::format("load floor must be a positive load (got {})", options.load_floor));
  }
  return Status::Ok();
}

Result<std::vector<Judgement>> JudgeLoads(const CountSeries& loads, const LoadOptions& options) {
  if (Status s = ValidateLoadOptions(options); !s.ok()) return s;
  if (loads.time.size() != loads.observed.size()) {
    return Status::InvalidArgument(
        fmt::format("series has {} times but {} loads", loads.time.size(), loads.observed.size()));
  }
  // The measured steps, in order, on the log scale.
  CountSeries measured;
  measured.frequency = loads.frequency;
  std::vector<std::size_t> step_of;  // measured index -> step of `loads`
  for (std::size_t t = 0; t < loads.observed.size(); ++t) {
    const double x = loads.observed[t];
    if (std::isnan(x)) continue;
    if (!std::isfinite(x) || x < 0) {
      return Status::InvalidArgument(fmt::format(
          "load {} at time {} is not a load (a finite number, 0 or more)", x, loads.time[t]));
    }
    measured.time.push_back(loads.time[t]);
    // Measured from the floor, so that no value is negative: C3 floors its bound at 0, which
    // is then the floor itself, the least load there is.
    measured.observed.push_back(std::log10(std::max(x, options.load_floor) / options.load_floor));
    step_of.push_back(t);
  }
  auto judged = Ears(measured, options.ears);
  if (!judged.ok()) return judged.status();

  std::vector<Judgement> out(loads.observed.size());
  for (std::size_t t = 0; t < out.size(); ++t) {
    out[t].time = loads.time[t];
    out[t].observed = loads.observed[t];
  }
  const auto load = [&](double above_floor) {
    return options.load_floor * std::pow(10.0, above_floor);
  };
  for (std::size_t i = 0; i < step_of.size(); ++i) {
    const Judgement& on_logs = (*judged)[i];
    Judgement& j = out[step_of[i]];
    if (on_logs.expected) j.expected = load(*on_logs.expected);
    if (on_logs.upperbound) j.upperbound = load(*on_logs.upperbound);
    j.alarm = on_logs.alarm;
  }
  return out;
}

}  // namespace sentinel::detect
