// First detection: the first time a series has any count at all. Run on the series of one
// substance in one place, it answers "first reported here"; on the substance's series over all
// places, "first reported anywhere"; on a class's series, "first of its class".
//
// Every step up to and including the first non-zero count is judged: expected 0 (nothing has
// been seen), upper bound 0 (any count is beyond it), alarm when the count is above zero. After
// that the question is answered for good: later steps carry no expected value or bound and no
// alarm. In a load series (core/detect/loads.h) a NaN step was not measured and is not judged:
// the first measured load above 0 is the first detection. Pure function; thread-safe.
#pragma once

#include <vector>

#include "core/detect/detection.h"

namespace sentinel::detect {

std::vector<Judgement> FirstDetection(const CountSeries& series);

}  // namespace sentinel::detect
