// Signals: the alarms of one series folded into episodes, so that a continuing outbreak is one
// signal that grows, not a new alarm every week.
//
// Alarmed steps no more than `max_gap` unalarmed steps apart belong to the same signal (0: only
// consecutive alarms; 1: one quiet week inside an outbreak does not split it). A signal keeps
// where it started and where it was last seen, how many steps alarmed, and the judgement of its
// latest alarmed step (observed, expected, upper bound) and of its peak (the largest excess of
// the count over its bound). Steps the detector could not judge neither extend nor split a
// signal.
//
// Live detection folds as judgements arrive: a SignalFolder continues a signal stored earlier
// (the series' latest) with the steps judged since. A step before that signal's latest alarm is
// history already folded and is skipped; the step of its latest alarm, judged again on a larger
// count, refreshes its latest (and peak) without counting twice. FoldAlarms is a folder fed a
// whole series. Pure; a folder is used by one thread at a time.
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

class SignalFolder {
 public:
  // `open`: the series' latest stored signal, if any; it stays open while no more than
  // `max_gap` judged steps after its latest alarm have passed quietly.
  explicit SignalFolder(int max_gap, std::optional<Signal> open = std::nullopt);

  void Add(const Judgement& judged);  // steps in time order

  // The signals this folder made or changed, in time order. When the open signal given was
  // continued or refreshed it comes first, with its first_time unchanged.
  std::vector<Signal> Changed() const;

 private:
  int max_gap_;
  std::vector<Signal> signals_;  // the given open signal first, when there was one
  bool given_ = false;           // signals_.front() is the open signal given
  bool given_changed_ = false;
  bool open_ = false;  // signals_.back() still takes alarms
  int quiet_ = 0;      // judged steps without alarm since signals_.back()'s latest alarm
};

std::vector<Signal> FoldAlarms(const std::vector<Judgement>& judged, int max_gap);

}  // namespace sentinel::detect
