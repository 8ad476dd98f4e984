// New combinations: things found together in one sample (a seizure's substances and its form, a
// toxicology case's substances) that were never found together before, or are found together
// in the recent steps more often than chance and their own past explain.
// docs/detect_combinations.md gives the formulas.
//
// Samples carry a time step and a set of items (substance names, and a form as "form:tablet", so
// that "a nitazene in tablets" is a pair like any other). The last `window` steps are judged
// against the steps before (the history). For each pair seen together in the window, with N
// samples, n_a and n_b holding each item and k holding both:
//   expected = n_a * n_b / N * max(1, lift),   lift = (k_h + 0.5) / (e_h + 0.5)
// where k_h is the history's count together and e_h its independence expectation; so a pair
// long found together (fentanyl with xylazine) is judged against its usual association, and a
// pair without history against independence. p = P(X >= k) for X ~ Poisson(expected). A pair is
// beyond expectation when p <= alpha / m, m the pairs seen together in the window (Bonferroni),
// and new when never together in the history. Either is an alarm. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/common/status.h"

namespace sentinel::detect {

struct Sample {
  std::int64_t time = 0;
  std::vector<std::string> items;  // duplicates count once
};

struct CombinationOptions {
  int window = 4;                 // steps judged, ending at `last`
  double alpha = 0.05;            // family-wise level over the pairs of the window
  std::int64_t min_together = 1;  // fewest samples holding both for a pair to be judged
};

struct Combination {
  std::string first, second;                                    // first < second
  std::int64_t together = 0;                                    // in the window
  std::int64_t first_count = 0, second_count = 0, samples = 0;  // in the window
  std::int64_t history_together = 0, history_samples = 0;
  double expected = 0;
  double p_value = 1;
  std::int64_t first_seen_together = 0;  // the earliest step with both, history included
  bool is_new = false;                   // never together in the history
  bool beyond_expectation = false;       // p <= alpha / pairs
  bool alarm = false;                    // new or beyond expectation
};

struct CombinationResult {
  std::int64_t window_first = 0, window_last = 0;
  std::int64_t samples = 0, history_samples = 0;
  std::size_t pairs = 0;  // pairs seen together in the window (the Bonferroni divisor)
  double threshold = 0;   // alpha / pairs
  std::vector<Combination> combinations;  // alarms first, then by p-value
};

// Judges the window ending at `last` (inclusive); samples after `last` are ignored.
// InvalidArgument for bad options.
Result<CombinationResult> JudgeCombinations(const std::vector<Sample>& samples, std::int64_t last,
                                            const CombinationOptions& options);

// P(X >= k) for X ~ Poisson(mean).
double PoissonUpperTail(std::int64_t k, double mean);

}  // namespace sentinel::detect
