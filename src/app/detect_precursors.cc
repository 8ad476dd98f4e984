#include "app/detect_precursors.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>
#include <iterator>
#include <optional>
#include <ostream>

#include "app/csv.h"
#include "core/detect/precursor_anomalies.h"

namespace sentinel::app {
namespace {

void WriteShipments(const DetectCommandOptions& options, const ShipmentFile& file,
                    const detect::PrecursorOptions& settings, std::int64_t last,
                    const std::vector<detect::ShipmentJudgement>& judged, std::ostream& out) {
  const std::string source = DetectSourceName(options);
  std::string buffer;
  if (options.format == "csv") {
    buffer =
        "shipment,time,chemical,quantity,unit,origin,transit,destination,history,usual_quantity,"
        "quantity_z,reasons,alarm\n";
  }
  const auto optional = [](const std::optional<double>& v) {
    return v ? fmt::format("{:.6g}", *v) : std::string();
  };
  for (const detect::ShipmentJudgement& j : judged) {
    const detect::Shipment& s = file.shipments[j.shipment];
    const std::string transit = fmt::format("{}", fmt::join(s.transit, ";"));
    if (options.format == "csv") {
      fmt::format_to(std::back_inserter(buffer), "{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                     CsvQuoted(s.id), FormatTime(file.time_kind, s.time), CsvQuoted(s.chemical),
                     file.quantities[j.shipment], file.units[j.shipment], s.origin, transit,
                     s.destination, j.history, optional(j.usual_quantity), optional(j.quantity_z),
                     fmt::join(j.reasons, ";"), j.alarm ? "true" : "false");
      continue;
    }
    nlohmann::ordered_json row;
    row["detector"] = kPrecursorsMethod;
    row.update(ShipmentJson(file, j));
    row["parameters"] = {{"window", settings.window},
                         {"max_z", settings.max_z},
                         {"min_history", settings.min_history}};
    row["data"] = {{"source", source},
                   {"window_first", TimeJson(file.time_kind, last - settings.window + 1)},
                   {"window_last", TimeJson(file.time_kind, last)},
                   {"shipments", file.shipments.size()}};
    buffer += row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    buffer += '\n';
  }
  out << buffer;
}

}  // namespace

nlohmann::ordered_json ShipmentJson(const ShipmentFile& file,
                                    const detect::ShipmentJudgement& judged) {
  const detect::ShipmentJudgement& j = judged;
  const detect::Shipment& s = file.shipments[j.shipment];
  nlohmann::ordered_json row;
  row["shipment"] = s.id;
  row["time"] = TimeJson(file.time_kind, s.time);
  row["chemical"] = s.chemical;
  row["quantity"] = {{"value", file.quantities[j.shipment]}, {"unit", file.units[j.shipment]}};
  row["route"] = {{"origin", s.origin}, {"transit", s.transit}, {"destination", s.destination}};
  row["history"] = j.history;
  // The usual quantity is in the detector's units: kg, litres or units.
  row["usual_quantity"] = j.usual_quantity ? nlohmann::ordered_json(*j.usual_quantity) : nullptr;
  row["quantity_z"] =
      j.quantity_z && std::isfinite(*j.quantity_z)
          ? nlohmann::ordered_json(*j.quantity_z)
          : (j.quantity_z ? nlohmann::ordered_json(*j.quantity_z > 0 ? "inf" : "-inf")
                          : nlohmann::ordered_json(nullptr));
  row["new_transit"] = j.new_transit;
  row["reasons"] = j.reasons;
  row["alarm"] = j.alarm;
  return row;
}

detect::PrecursorOptions PrecursorSettings(const DetectCommandOptions& options) {
  detect::PrecursorOptions settings;
  settings.window = options.window;
  settings.max_z = options.max_z;
  settings.min_history = options.min_history;
  return settings;
}

Result<ShipmentFile> ShipmentsFromStore(reports::Store& store, const reports::Principal& viewer,
                                        const DetectCommandOptions& options,
                                        std::string_view progress) {
  reports::ReportQuery query;
  query.kind = reports::Kind::kPrecursorIncident;
  query.to = options.select.to;
  query.place = options.select.place;
  query.substance = options.select.substance;
  ShipmentFile file;
  file.time_kind = TimeKind::kIsoWeek;
  SubstanceNames names(store, viewer);
  const Status read =
      ForEachStoredReport(store, viewer, query, progress, [&](reports::StoredReport& r) -> Status {
        auto day = reports::ParseDay(r.date);
        if (!day.ok()) return day.status();
        const nlohmann::json& body = r.body;
        const auto& quantity = body.at("quantity");
        const auto& route = body.at("route");
        const double value = quantity.at("value").get<double>();
        const std::string unit = quantity.at("unit").get<std::string>();
        const auto normalised = NormaliseQuantity(value, unit);
        if (!normalised || r.substance_keys.empty()) {
          return Status::Corruption(
              fmt::format("report {}: a precursor incident without a chemical "
                          "or with a quantity in '{}'",
                          r.id, unit));
        }
        detect::Shipment s;
        s.id = r.id;
        s.time = IsoWeekIndex(*day);
        s.chemical = names.Of(r.substance_keys.front());
        s.quantity = normalised->first;
        s.dimension = normalised->second;
        s.origin = route.at("origin").get<std::string>();
        s.destination = route.at("destination").get<std::string>();
        if (route.contains("transit")) {
          s.transit = route.at("transit").get<std::vector<std::string>>();
        }
        file.shipments.push_back(std::move(s));
        file.quantities.push_back(value);
        file.units.push_back(unit);
        return Status::Ok();
      });
  if (!read.ok()) return read;
  return file;
}

int RunPrecursors(const DetectCommandOptions& options, std::istream& in, std::ostream& out,
                  std::ostream& err) {
  if (Status s = CheckWholeOutputOptions(options, "shipment"); !s.ok()) {
    err << "sentinel detect: " << s.message() << "\n";
    return 2;
  }
  auto file = [&]() -> Result<ShipmentFile> {
    auto text =
        ReadDetectInput(options, in, "shipment,time,chemical,quantity,unit,origin,destination");
    if (!text.ok()) return text.status();
    if (!options.db.empty()) {
      auto node = OpenDetectNode(options, err);
      if (!node.ok()) return node.status();
      return ShipmentsFromStore(*node->node.store, node->viewer, options);
    }
    return ParseShipmentsCsv(text->text, text->source);
  }();
  if (!file.ok()) {
    err << "sentinel detect: " << file.status().message() << "\n";
    return 2;
  }
  auto last = WindowEnd(options, file->shipments);
  if (!last.ok()) {
    err << "sentinel detect: " << last.status().message() << "\n";
    return 2;
  }
  const detect::PrecursorOptions settings = PrecursorSettings(options);
  auto judged = detect::JudgePrecursorShipments(file->shipments, *last, settings);
  if (!judged.ok()) {
    err << "sentinel detect: " << judged.status().message() << "\n";
    return 2;
  }
  WriteShipments(options, *file, settings, *last, *judged, out);
  out.flush();
  return out ? 0 : 1;
}

}  // namespace sentinel::app
