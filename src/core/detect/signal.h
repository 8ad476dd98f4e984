// Signals: the alarms of one series folded into episodes, so that a continuing outbreak is one
// signal that grows, not a new alarm every week.
//
// Alarmed steps no more than `max_gap` unalarmed steps apart belong to the same signal (0: only
// consecutive alarms; 1: one quiet week inside an outbreak does not split it). A signal keeps
// where it started and where it was last seen, how many steps alarmed, and the judgement of its
// latest alarmed step (observed, expected, upper bound) and of its peak (the largest excess of
// the count over its bound). Steps the detector could not judge neither extend nor split a
// signal. Pure function; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "core/detect/detection.h"

namespace sentinel::detect {

struct Signal {
  std::int64_t first_time = 0;  // time label of the first alarmed step
  std::int64_t last_time = 0;   // and of the latest
  int alarms = 0;               // alarmed steps in between, both ends included
  Judgement latest;             // the judgement at last_time
  Judgement peak;               // the alarmed step whose count most exceeds its bound
};

std::vector<Signal> FoldAlarms(const std::vector<Judgement>& judged, int max_gap);

}  // namespace sentinel::detect
