// `sentinel detect --method precursors`: precursor shipments unusual for their chemical's history
// (core/detect/precursor_anomalies.h; docs/detect_precursors.md is the contract).
//
// With --input, shipments come from a CSV (app/detect_input.h, ParseShipmentsCsv); with --db,
// every precursor_incident report the node may count is one (the latest version; the chemical by
// its recorded name, the quantity and route as reported), dated by its ISO week. The window is the
// last --window steps up to --to, or up to the latest shipment. One row per shipment in the
// window, in input order (newest report first with --db), as CSV or JSON Lines. Exit 0 on
// success, 2 on a usage or input error, before anything is written.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string_view>

#include "app/detect_command.h"
#include "app/detect_input.h"
#include "core/common/status.h"
#include "core/detect/precursor_anomalies.h"
#include "core/reports/store.h"

namespace sentinel::app {

inline constexpr std::string_view kPrecursorsMethod = "precursors";

// `progress` labels counts on stderr; empty: none (the server's live detection).
Result<ShipmentFile> ShipmentsFromStore(reports::Store& store, const reports::Principal& viewer,
                                        const DetectCommandOptions& options,
                                        std::string_view progress = "precursors: reports read");

// The settings of --window, --max-z and --min-history.
detect::PrecursorOptions PrecursorSettings(const DetectCommandOptions& options);

// A judged shipment as `detect --method precursors --format json` writes it, and as a live
// precursor signal lists it: shipment, time, chemical, quantity, route, history, usual
// quantity, z, new transit countries, reasons and alarm.
nlohmann::ordered_json ShipmentJson(const ShipmentFile& file,
                                    const detect::ShipmentJudgement& judged);

int RunPrecursors(const DetectCommandOptions& options, std::istream& in, std::ostream& out,
                  std::ostream& err);

}  // namespace sentinel::app
