// Rendering identification results: the JSON Lines contract other tools build on, and the
// human-readable table. Both are pure functions of a result.
//
// JSON contract (one object per query per line; keep stable):
//   {"query": {"name", "index", "source", "mass", "mass_estimated"},
//    "verdict": "identified" | "analogue" | "unknown",
//    "hits": [{"rank", "name", "inchikey", "library", "id", "match_factor",
//              "reverse_match_factor", "entropy_similarity", "class", "spectra"}],
//    "analogues": [{"name", "inchikey", "library", "id", "mass_difference",
//                   "hybrid_match_factor", "class"}],
//    "class": <shared chemical class or null>}
#pragma once

#include <cstddef>
#include <string>

#include <nlohmann/json.hpp>

#include "core/spectra/identify.h"
#include "core/spectra/spectrum.h"

namespace sentinel::app {

struct QueryInfo {
  std::string name;
  std::string source;
  std::size_t index = 0;  // 0-based position among the run's queries
};

nlohmann::json IdentificationToJson(const QueryInfo& query, const spectra::Identification& result);

std::string IdentificationToTable(const QueryInfo& query, const spectra::Identification& result);

}  // namespace sentinel::app
