// The demo history behind `sentinel serve --demo`: years of invented, non-personal reports from
// invented organisations, shaped so that a newcomer sees a live system and the detectors have
// something real-looking to find (docs/demo.md lists the patterns).
//
// The reference facts (places, substances and their eras) come from data/demo/*.tsv as text;
// parsing and generating read no files, so the generator is a pure function of its arguments:
// the same reference, day, size and seed always give the same history.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/status.h"

namespace sentinel::app {

// One row of data/demo/places.tsv: a subdivision, or the rest of a country when `subdivision`
// is empty.
struct DemoPlace {
  std::string country;      // ISO 3166-1 alpha-2
  std::string subdivision;  // ISO 3166-2, or empty
  std::string name;
  double lat = 0, lon = 0;  // approximate centroid
  double population = 0;    // millions
  std::string region;       // region group, e.g. "north_america"
  double coverage = 0;      // 0-1: share of the country's reporting the demo simulates
};

struct DemoWeightedKey {
  std::string key;
  double weight = 0;
};

// From `first_month` on, the substance is present where `where` (subdivision, country, region
// group or "*") is the most specific entry matching a place.
struct DemoPresence {
  std::string where;
  int first_month = 0;  // year * 12 + month - 1
  double weight = 0;
};

enum class DemoTrend { kSteady, kRising, kDeclining, kOutbreak };

// One row of data/demo/substances.tsv (the file's header explains every column).
struct DemoSubstance {
  std::string name;
  std::string substance_class;     // fentanyl, nitazene, ..., precursor
  std::vector<std::string> kinds;  // report kinds the row feeds
  std::vector<DemoPresence> presence;
  DemoTrend trend = DemoTrend::kSteady;
  double trend_months = 0;  // ramp, half-life or plateau, by trend
  std::vector<DemoWeightedKey> forms;
  std::string with;           // the substance it only appears together with, or empty
  std::string spread_origin;  // subdivision the arrival spreads from, or empty
  double spread_km_per_month = 0;
  std::vector<DemoWeightedKey> origins;          // precursor origin countries
  std::vector<DemoWeightedKey> wastewater_load;  // where -> mg per 1000 people per day
  double summer_peak = 0;
  double precursor_quantity = 0;
  std::string precursor_unit;
  std::string smiles;  // set only for substances the knowledge base does not know
};

struct DemoReference {
  std::vector<DemoPlace> places;
  std::vector<DemoSubstance> substances;
};

// Parses the two tables; an error names the file, line and column at fault.
Result<DemoReference> ParseDemoReference(std::string_view places_tsv,
                                         std::string_view substances_tsv);

// The shipped tables, data/demo/places.tsv and substances.tsv, parsed (defined in demo_seed.cc,
// which reads files; the parser above does not).
Result<DemoReference> LoadShippedDemoReference();

struct DemoOrganisation {
  std::string id;
  std::string name;
  std::string country;
  std::vector<std::string> trusted_groups;
  std::string role_hint;  // forensic_lab, emergency_department, medical_examiner,
                          // wastewater_programme, customs, online_monitoring
};

struct DemoReport {
  std::string organisation_id;
  nlohmann::json body;  // a report body per docs/reports.md
};

struct DemoHistory {
  std::vector<DemoOrganisation> organisations;
  std::vector<DemoReport> reports;  // in date order (a wastewater report's date: period start)
};

// Reports from 2019-01-01 to `today`, about `approx_reports` of them (within 10%; none when
// today is before 2019). Deterministic for a given reference, today, size and seed.
DemoHistory GenerateDemoHistory(const DemoReference& reference, std::chrono::sys_days today,
                                std::size_t approx_reports, std::uint64_t seed);

}  // namespace sentinel::app
