// `sentinel detect --method scan`: space-time clusters by the space-time permutation scan
// (core/detect/scan.h; docs/detect_scan.md is the contract).
//
// With --input, every series of the CSV is a location, placed by its `lat` and `lon` columns,
// and the file is one scan. With --db, each substance is scanned over the subdivisions its
// reports name, placed by a gazetteer (`--places FILE`, CSV place,lat,lon; by default the
// approximate centroids shipped in data/demo/places.tsv); places it cannot place are left out and
// named on stderr. The study period is the last `--study-steps` steps (default: the whole file,
// or 52 weeks of a node's reports). One row per cluster, most likely first, as CSV or JSON Lines.
// Exit 0 on success, 2 on a usage or input error, before anything is written.
#pragma once

#include <nlohmann/json.hpp>

#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/detect_command.h"
#include "app/detect_input.h"
#include "core/common/status.h"
#include "core/detect/scan.h"

namespace sentinel::app {

inline constexpr std::string_view kScanMethod = "scan";

// At most this many location-steps in one scan (a typo in a time must not exhaust memory).
inline constexpr std::uint64_t kMaxScanCells = 20'000'000;

// Place codes (ISO 3166-1 or 3166-2) and their coordinates.
using Gazetteer = std::map<std::string, std::pair<double, double>, std::less<>>;

// A CSV with the columns place, lat and lon (other columns ignored); `source` names it in errors.
Result<Gazetteer> ParseGazetteerCsv(std::string_view text, std::string_view source);

// The gazetteer of `--places` (place,lat,lon CSV), or the shipped centroids when empty.
Result<Gazetteer> LoadGazetteer(const std::string& places);

// The scan's options from detect's flags (`frequency`: steps per year).
detect::ScanOptions ScanOptionsOf(const DetectCommandOptions& options, int frequency);

// A cluster as `detect --method scan --format json` writes it, from its start to what the scan
// saw (`data`), and as live detection stores it in a signal.
nlohmann::ordered_json ClusterJson(const detect::ScanData& data, const detect::ScanCluster& cluster,
                                   TimeKind time_kind, int frequency,
                                   const detect::ScanOptions& scan, const std::string& source);

// One location per series (`names[i]` at `points[i]`) over the steps from the latest back
// `study_steps` (all when empty). Counts must be whole numbers: the scan shuffles cases.
Result<detect::ScanData> ScanDataFromSeries(const std::vector<const NamedSeries*>& series,
                                            const std::vector<std::pair<double, double>>& points,
                                            TimeKind time_kind, std::optional<int> study_steps);

int RunScan(const DetectCommandOptions& options, std::istream& in, std::ostream& out,
            std::ostream& err);

}  // namespace sentinel::app
