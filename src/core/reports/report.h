// Reports: the non-personal observations Sentinel records (docs/reports.md is the contract).
//
// ValidateReport turns a submitted JSON body into a Report or into the list of everything
// wrong with it, each error naming the JSON path of the field. It never throws on any input.
// A valid body is closed (no unknown fields), carries no person-identifying field and no
// personal data in its free text, and is within every size limit; the vendor handle of an
// online listing is replaced by its keyed pseudonym before the body is kept.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sentinel::reports {

enum class Kind { kSeizure, kToxicology, kWastewater, kPrecursorIncident, kOnlineListing };
enum class Distribution { kOrganisation, kNational, kTrustedGroup, kEveryone };

std::string_view KindName(Kind kind);  // "seizure", "precursor_incident" ...
std::optional<Kind> ParseKind(std::string_view name);
std::string_view DistributionName(Distribution d);  // "organisation", "trusted_group" ...
std::optional<Distribution> ParseDistribution(std::string_view name);

// Limits a body must keep (also enforced on the HTTP request as a whole).
inline constexpr std::size_t kMaxReportBytes = 64 * std::size_t{1024};
inline constexpr std::size_t kMaxRequestBytes = 1024 * std::size_t{1024};
inline constexpr std::size_t kMaxBatchReports = 1000;

// One substance named in a report, as submitted (resolution happens later, outside the core
// validator). At least one of name/smiles/inchi/spectrum is non-empty.
struct SubstanceMention {
  std::string path;  // JSON path of the reference, e.g. "$.substances[1]"
  std::string name, smiles, inchi, spectrum;
  std::string role;  // main, adulterant, diluent, co_occurring; analyte, chemical, offered
  std::optional<double> purity_percent;
};

struct Report {
  Kind kind = Kind::kSeizure;
  std::string idempotency_key;
  Distribution distribution = Distribution::kOrganisation;
  std::chrono::sys_days date{};  // the event; a wastewater period's start
  std::string country;           // ISO 3166-1 alpha-2
  std::string subdivision;       // ISO 3166-2, or empty
  std::optional<double> lat, lon;
  std::vector<SubstanceMention> substances;
  std::string form;     // seizure form; empty for other kinds
  nlohmann::json body;  // the validated body (vendor_handle replaced by vendor_pseudonym)
};

struct FieldError {
  std::string path;  // "$.place.subdivision"
  std::string message;
};

struct Validation {
  std::optional<Report> report;    // set exactly when errors is empty
  std::vector<FieldError> errors;  // in document order
};

// `pseudonymise` maps a vendor handle to its keyed hash (the node's secret key); `today`
// bounds dates (no future events).
Validation ValidateReport(const nlohmann::json& body,
                          const std::function<std::string(std::string_view)>& pseudonymise,
                          std::chrono::sys_days today);

}  // namespace sentinel::reports
