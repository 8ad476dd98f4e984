#include "core/detect/signal.h"

namespace sentinel::detect {
namespace {

double Excess(const Judgement& j) { return j.observed - j.upperbound.value_or(0); }

}  // namespace

SignalFolder::SignalFolder(int max_gap, std::optional<Signal> open) : max_gap_(max_gap) {
  if (open) {
    signals_.push_back(*open);
    given_ = open_ = true;
  }
}

void SignalFolder::Add(const Judgement& j) {
  if (!j.alarm.has_value()) return;
  if (given_ && signals_.size() == 1) {
    Signal& s = signals_.front();
    if (j.time < s.last_time) return;
    if (j.time == s.last_time) {
      if (*j.alarm) {
        s.latest = j;
        if (Excess(j) > Excess(s.peak)) s.peak = j;
        given_changed_ = true;
      }
      return;
    }
  }
  if (!*j.alarm) {
    if (open_ && ++quiet_ > max_gap_) open_ = false;
    return;
  }
  if (!open_) {
    Signal s;
    s.first_time = j.time;
    s.peak = j;
    signals_.push_back(s);
    open_ = true;
  } else if (given_ && signals_.size() == 1) {
    given_changed_ = true;
  }
  Signal& s = signals_.back();
  s.last_time = j.time;
  ++s.alarms;
  s.latest = j;
  if (Excess(j) > Excess(s.peak)) s.peak = j;
  quiet_ = 0;
}

std::vector<Signal> SignalFolder::Changed() const {
  auto begin = signals_.begin();
  if (given_ && !given_changed_) ++begin;
  return {begin, signals_.end()};
}

std::vector<Signal> FoldAlarms(const std::vector<Judgement>& judged, int max_gap) {
  SignalFolder folder(max_gap);
  for (const Judgement& j : judged) folder.Add(j);
  return folder.Changed();
}

}  // namespace sentinel::detect
