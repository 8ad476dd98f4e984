#include "core/detect/first_detection.h"

#include <cmath>
#include <cstddef>

namespace sentinel::detect {

std::vector<Judgement> FirstDetection(const CountSeries& series) {
  std::vector<Judgement> out(series.observed.size());
  bool seen = false;
  for (std::size_t t = 0; t < series.observed.size(); ++t) {
    Judgement& j = out[t];
    j.time = t < series.time.size() ? series.time[t] : static_cast<std::int64_t>(t);
    j.observed = series.observed[t];
    if (seen || std::isnan(j.observed)) continue;  // NaN: a load series' unmeasured step
    j.expected = 0;
    j.upperbound = 0;
    j.alarm = j.observed > 0;
    seen = *j.alarm;
  }
  return out;
}

}  // namespace sentinel::detect
