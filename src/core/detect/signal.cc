#include "core/detect/signal.h"

namespace sentinel::detect {
namespace {

double Excess(const Judgement& j) { return j.observed - j.upperbound.value_or(0); }

}  // namespace

std::vector<Signal> FoldAlarms(const std::vector<Judgement>& judged, int max_gap) {
  std::vector<Signal> signals;
  int quiet = 0;  // judged steps without alarm since the open signal's latest alarm
  bool open = false;
  for (const Judgement& j : judged) {
    if (!j.alarm.has_value()) continue;
    if (!*j.alarm) {
      if (open && ++quiet > max_gap) open = false;
      continue;
    }
    if (!open) {
      Signal s;
      s.first_time = j.time;
      s.peak = j;
      signals.push_back(s);
      open = true;
    }
    Signal& s = signals.back();
    s.last_time = j.time;
    ++s.alarms;
    s.latest = j;
    if (Excess(j) > Excess(s.peak)) s.peak = j;
    quiet = 0;
  }
  return signals;
}

}  // namespace sentinel::detect
