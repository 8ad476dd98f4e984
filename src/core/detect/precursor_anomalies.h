// Precursor anomalies: shipments of a chemical whose destination, route, transit or quantity is
// unusual for that chemical's history. docs/detect_precursors.md gives the rules.
//
// Each shipment in the window (the last `window` steps) is judged against every shipment of the
// same chemical at earlier steps (shipments of one step do not judge each other):
//   first_of_chemical  no earlier shipment of the chemical at all;
//   new_destination    the chemical never went to this destination before;
//   new_route          never from this origin to this destination;
//   new_transit        through a country it never passed through before;
//   unusual_quantity   |z| > max_z, z the modified z-score (Iglewicz and Hoaglin 1993) of the
//                      quantity's log10 among the chemical's earlier quantities of the same
//                      dimension (mass, volume or units), once there are at least `min_history`:
//                      z = 0.6745 (x - median) / MAD, or (x - median) / (1.2533 * mean absolute
//                      deviation) when the MAD is 0.
// Any reason is an alarm. Pure; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/common/status.h"

namespace sentinel::detect {

enum class QuantityDimension { kMass, kVolume, kUnits };

struct Shipment {
  std::string id;
  std::int64_t time = 0;
  std::string chemical;
  double quantity = 0;  // > 0, in kg, litres or units (see dimension)
  QuantityDimension dimension = QuantityDimension::kMass;
  std::string origin, destination;  // ISO 3166-1 alpha-2
  std::vector<std::string> transit;
};

struct PrecursorOptions {
  int window = 4;       // steps judged, ending at `last`
  double max_z = 3.5;   // Iglewicz and Hoaglin's recommended cut-off
  int min_history = 5;  // earlier quantities needed before a quantity is judged
};

struct ShipmentJudgement {
  std::size_t shipment = 0;  // index into the input
  bool first_of_chemical = false, new_destination = false, new_route = false;
  std::vector<std::string> new_transit;  // the countries never passed through before
  std::optional<double> quantity_z;      // empty: too little history
  std::optional<double> usual_quantity;  // the history's median, same dimension
  std::size_t history = 0;               // earlier shipments of the chemical
  bool unusual_quantity = false;
  bool alarm = false;
  std::vector<std::string> reasons;  // the codes above that apply, in that order
};

// Judges the shipments at steps in [last - window + 1, last], in input order; shipments after
// `last` are ignored. InvalidArgument for bad options or a shipment with a quantity <= 0.
Result<std::vector<ShipmentJudgement>> JudgePrecursorShipments(
    const std::vector<Shipment>& shipments, std::int64_t last, const PrecursorOptions& options);

// The modified z-score of `x` among `values` (not empty), as above; may be infinite when every
// value is the same and x differs.
double ModifiedZScore(double x, std::vector<double> values);

}  // namespace sentinel::detect
