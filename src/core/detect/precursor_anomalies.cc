#include "core/detect/precursor_anomalies.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <utility>

namespace sentinel::detect {
namespace {

double Median(std::vector<double>& v) {
  const std::size_t n = v.size();
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n / 2), v.end());
  const double upper = v[n / 2];
  if (n % 2 == 1) return upper;
  return (upper + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n / 2))) / 2;
}

// What the judged steps know of one chemical: everything shipped at earlier steps.
struct History {
  std::size_t shipments = 0;
  std::set<std::string> destinations, transits;
  std::set<std::pair<std::string, std::string>> routes;
  std::map<QuantityDimension, std::vector<double>> log_quantities;
};

void Learn(History& h, const Shipment& s) {
  h.shipments += 1;
  h.destinations.insert(s.destination);
  h.routes.emplace(s.origin, s.destination);
  h.transits.insert(s.transit.begin(), s.transit.end());
  h.log_quantities[s.dimension].push_back(std::log10(s.quantity));
}

}  // namespace

double ModifiedZScore(double x, std::vector<double> values) {
  std::vector<double> scratch = values;
  const double median = Median(scratch);
  for (double& v : values) v = std::fabs(v - median);
  std::vector<double> deviations = values;
  const double mad = Median(deviations);
  if (mad > 0) return 0.6745 * (x - median) / mad;
  const double mean_ad =
      std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  if (mean_ad > 0) return (x - median) / (1.253314 * mean_ad);
  if (x == median) return 0;
  return x > median ? std::numeric_limits<double>::infinity()
                    : -std::numeric_limits<double>::infinity();
}

Result<std::vector<ShipmentJudgement>> JudgePrecursorShipments(
    const std::vector<Shipment>& shipments, std::int64_t last, const PrecursorOptions& options) {
  if (options.window < 1) return Status::InvalidArgument("precursors: window must be >= 1 step");
  if (!(options.max_z > 0)) return Status::InvalidArgument("precursors: max z must be > 0");
  if (options.min_history < 1)
    return Status::InvalidArgument("precursors: min history must be >= 1");
  for (const Shipment& s : shipments) {
    if (!(s.quantity > 0) || !std::isfinite(s.quantity)) {
      return Status::InvalidArgument(
          fmt::format("precursors: shipment '{}': quantity {} is not above 0", s.id, s.quantity));
    }
  }
  const std::int64_t first = last - options.window + 1;
  // Shipments by step, so that a step's shipments are judged before any of them is learnt.
  std::vector<std::size_t> order(shipments.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return shipments[a].time < shipments[b].time;
  });
  std::map<std::string, History, std::less<>> histories;
  std::vector<ShipmentJudgement> judged;
  for (std::size_t i = 0; i < order.size();) {
    const std::int64_t step = shipments[order[i]].time;
    if (step > last) break;
    std::size_t end = i;
    while (end < order.size() && shipments[order[end]].time == step) ++end;
    if (step >= first) {
      for (std::size_t k = i; k < end; ++k) {
        const Shipment& s = shipments[order[k]];
        const History& h = histories[s.chemical];
        ShipmentJudgement j;
        j.shipment = order[k];
        j.history = h.shipments;
        j.first_of_chemical = h.shipments == 0;
        if (!j.first_of_chemical) {
          j.new_destination = !h.destinations.count(s.destination);
          j.new_route = !h.routes.count({s.origin, s.destination});
          for (const std::string& country : s.transit) {
            if (!h.transits.count(country) && std::find(j.new_transit.begin(), j.new_transit.end(),
                                                        country) == j.new_transit.end()) {
              j.new_transit.push_back(country);
            }
          }
        }
        const auto quantities = h.log_quantities.find(s.dimension);
        if (quantities != h.log_quantities.end() &&
            quantities->second.size() >= static_cast<std::size_t>(options.min_history)) {
          j.quantity_z = ModifiedZScore(std::log10(s.quantity), quantities->second);
          std::vector<double> scratch = quantities->second;
          j.usual_quantity = std::pow(10.0, Median(scratch));
          j.unusual_quantity = std::fabs(*j.quantity_z) > options.max_z;
        }
        if (j.first_of_chemical) j.reasons.emplace_back("first_of_chemical");
        if (j.new_destination) j.reasons.emplace_back("new_destination");
        if (j.new_route) j.reasons.emplace_back("new_route");
        if (!j.new_transit.empty()) j.reasons.emplace_back("new_transit");
        if (j.unusual_quantity) j.reasons.emplace_back("unusual_quantity");
        j.alarm = !j.reasons.empty();
        judged.push_back(std::move(j));
      }
    }
    for (std::size_t k = i; k < end; ++k)
      Learn(histories[shipments[order[k]].chemical], shipments[order[k]]);
    i = end;
  }
  std::sort(judged.begin(), judged.end(),
            [](const ShipmentJudgement& a, const ShipmentJudgement& b) {
              return a.shipment < b.shipment;
            });
  return judged;
}

}  // namespace sentinel::detect
