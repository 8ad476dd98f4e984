// `sentinel identify` and `sentinel library`: the command-line adapters around the
// identification core. They read inputs, load libraries, run the batch on all cores and write
// results to the given streams.
//
// Exit codes: 0 every query was processed; 1 some input records were malformed and skipped
// (the rest were processed); 2 an input or library could not be read at all, or bad usage.
#pragma once

#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/spectra/identify.h"

namespace sentinel::app {

struct IdentifyCommandOptions {
  std::vector<std::string> inputs;     // spectrum files; "-" is standard input
  std::vector<std::string> libraries;  // empty: the shipped default
  std::string format = "table";        // table | json
  // Compounds (name, synonym or InChIKey, case-insensitive) searched as if no library held them.
  std::vector<std::string> excluded;
  // Nominal molecular mass for queries whose input gives none (known from CI or LC-HRMS);
  // otherwise it is estimated from the spectrum for the analogue search.
  std::optional<int> mass;
  spectra::IdentifyOptions search;
  unsigned threads = 0;  // 0: all cores
  bool progress = true;
};

int RunIdentify(const IdentifyCommandOptions& options, std::ostream& out, std::ostream& err);

// Identification of every spectrum in a text (format detected), as the JSON contract's
// objects in an array; for the HTTP API. At most 100 spectra; a malformed record is an error.
Result<nlohmann::json> IdentifySpectraText(const std::vector<const spectra::Library*>& libraries,
                                           std::string_view text);

struct LibraryBuildOptions {
  std::vector<std::string> sources;  // empty: the shipped default
  std::string output;                // index path; empty: next to nothing, i.e. the cache
};

int RunLibraryBuild(const LibraryBuildOptions& options, std::ostream& out, std::ostream& err);
int RunLibraryInfo(const std::string& path, std::ostream& out, std::ostream& err);

}  // namespace sentinel::app
