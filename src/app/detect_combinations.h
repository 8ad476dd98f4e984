// `sentinel detect --method combinations`: new combinations (core/detect/combinations.h;
// docs/detect_combinations.md is the contract).
//
// With --input, samples come from a CSV (app/detect_input.h, ParseSamplesCsv); with --db, every
// report the node may count is a sample (the latest version of each; the substances it names by
// their recorded names, and a seizure's form), dated by its ISO week, filtered by --kind, --place,
// --substance, --class and --to as for the other methods. The window is the last --window steps
// up to --to, or up to the latest sample. One row per pair seen together in the window, alarms
// first, as CSV or JSON Lines. Exit 0 on success, 2 on a usage or input error, before anything is
// written.
#pragma once

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <map>
#include <string>
#include <string_view>

#include "app/detect_command.h"
#include "app/detect_input.h"
#include "core/common/status.h"
#include "core/detect/combinations.h"
#include "core/reports/store.h"

namespace sentinel::app {

inline constexpr std::string_view kCombinationsMethod = "combinations";

// The samples of a node's reports, as `detect --db --method combinations` reads them; with
// `key_of`, each substance item's key too (item -> key).
Result<SampleFile> SamplesFromStore(reports::Store& store, const reports::Principal& viewer,
                                    const DetectCommandOptions& options,
                                    std::map<std::string, std::string>* key_of = nullptr);

// A pair as `detect --method combinations --format json` writes it, and as live detection stores
// it in a signal.
nlohmann::ordered_json CombinationJson(const detect::Combination& c,
                                       const detect::CombinationResult& result,
                                       const detect::CombinationOptions& settings,
                                       TimeKind time_kind, const std::string& source);

int RunCombinations(const DetectCommandOptions& options, std::istream& in, std::ostream& out,
                    std::ostream& err);

}  // namespace sentinel::app
