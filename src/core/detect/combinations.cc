#include "core/detect/combinations.h"

#include <boost/math/special_functions/gamma.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>
#include <utility>

namespace sentinel::detect {
namespace {

struct PairCounts {
  std::int64_t window = 0, history = 0;
  std::int64_t first_time = 0;
  bool seen = false;
};

}  // namespace

double PoissonUpperTail(std::int64_t k, double mean) {
  if (k <= 0) return 1;
  if (mean <= 0) return 0;
  // P(X >= k) is the regularised lower incomplete gamma function P(k, mean).
  return boost::math::gamma_p(static_cast<double>(k), mean);
}

Result<CombinationResult> JudgeCombinations(const std::vector<Sample>& samples, std::int64_t last,
                                            const CombinationOptions& options) {
  if (options.window < 1) return Status::InvalidArgument("combinations: window must be >= 1 step");
  if (!(options.alpha > 0 && options.alpha < 1)) {
    return Status::InvalidArgument("combinations: alpha must be in (0, 1)");
  }
  if (options.min_together < 1) {
    return Status::InvalidArgument("combinations: min together must be >= 1");
  }
  CombinationResult result;
  result.window_last = last;
  result.window_first = last - options.window + 1;

  // Items as numbers, so a pair is one 64-bit key.
  std::map<std::string, std::uint32_t, std::less<>> ids;
  std::vector<const std::string*> names;
  std::vector<std::int64_t> window_count, history_count;
  std::unordered_map<std::uint64_t, PairCounts> pairs;
  std::vector<std::uint32_t> items;
  for (const Sample& sample : samples) {
    if (sample.time > last) continue;
    const bool in_window = sample.time >= result.window_first;
    (in_window ? result.samples : result.history_samples) += 1;
    items.clear();
    for (const std::string& item : sample.items) {
      auto [it, inserted] = ids.try_emplace(item, static_cast<std::uint32_t>(names.size()));
      if (inserted) {
        names.push_back(&it->first);
        window_count.push_back(0);
        history_count.push_back(0);
      }
      items.push_back(it->second);
    }
    std::sort(items.begin(), items.end());
    items.erase(std::unique(items.begin(), items.end()), items.end());
    for (std::size_t i = 0; i < items.size(); ++i) {
      (in_window ? window_count : history_count)[items[i]] += 1;
      for (std::size_t j = i + 1; j < items.size(); ++j) {
        PairCounts& p = pairs[(std::uint64_t{items[i]} << 32U) | items[j]];
        (in_window ? p.window : p.history) += 1;
        if (!p.seen || sample.time < p.first_time) p.first_time = sample.time;
        p.seen = true;
      }
    }
  }

  std::vector<std::pair<std::uint64_t, const PairCounts*>> judged;
  for (const auto& [key, counts] : pairs) {
    if (counts.window >= options.min_together) judged.emplace_back(key, &counts);
  }
  result.pairs = judged.size();
  result.threshold =
      judged.empty() ? options.alpha : options.alpha / static_cast<double>(judged.size());
  const auto n = static_cast<double>(result.samples);
  const auto n_h = static_cast<double>(result.history_samples);
  for (const auto& [key, counts] : judged) {
    const auto a = static_cast<std::uint32_t>(key >> 32U);
    const auto b = static_cast<std::uint32_t>(key & 0xffffffffU);
    Combination c;
    c.first = *names[a];
    c.second = *names[b];
    if (c.second < c.first) std::swap(c.first, c.second);
    const bool swapped = c.first != *names[a];
    c.together = counts->window;
    c.first_count = window_count[swapped ? b : a];
    c.second_count = window_count[swapped ? a : b];
    c.samples = result.samples;
    c.history_together = counts->history;
    c.history_samples = result.history_samples;
    const double independent =
        static_cast<double>(window_count[a]) * static_cast<double>(window_count[b]) / n;
    double lift = 1;
    if (result.history_samples > 0) {
      const double history_independent =
          static_cast<double>(history_count[a]) * static_cast<double>(history_count[b]) / n_h;
      lift = (static_cast<double>(counts->history) + 0.5) / (history_independent + 0.5);
    }
    c.expected = independent * std::max(1.0, lift);
    c.p_value = PoissonUpperTail(c.together, c.expected);
    c.first_seen_together = counts->first_time;
    c.is_new = counts->history == 0;
    c.beyond_expectation = c.p_value <= result.threshold;
    c.alarm = c.is_new || c.beyond_expectation;
    result.combinations.push_back(std::move(c));
  }
  std::sort(result.combinations.begin(), result.combinations.end(),
            [](const Combination& x, const Combination& y) {
              if (x.alarm != y.alarm) return x.alarm;
              if (x.p_value != y.p_value) return x.p_value < y.p_value;
              return std::tie(x.first, x.second) < std::tie(y.first, y.second);
            });
  return result;
}

}  // namespace sentinel::detect
