#include "app/demo_history.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <numbers>
#include <optional>
#include <set>
#include <utility>

#include "core/common/text.h"

// The patterns baked into the demo (docs/demo.md is the reader's version):
//
//  - Fentanyl high and steady in North America; heroin declining there, with fentanyl found in
//    a falling share of heroin samples.
//  - Xylazine only ever together with fentanyl, arriving state by state: it spreads outwards
//    from Pennsylvania at about 100 km a month from January 2020 (substances.tsv `spread`).
//  - Medetomidine (not in the knowledge base: sent with its SMILES) with fentanyl in US
//    seizures and cases from 2024, strongest in Pennsylvania.
//  - Carfentanil fading after 2019, then a resurgence from 2024.
//  - Nitazenes in GB and IE from 2023 only, often in imitation oxycodone tablets, herbal
//    material and heroin; newer nitazenes replace older ones.
//  - Bromazolam rising from 2021; synthetic cannabinoids in Europe (MDMB-4en-PINACA's outbreak,
//    ADB-BUTINACA after it), cathinone replacement (3-MMC -> 3-CMC, eutylone -> dipentylone).
//  - Wastewater: about 20 sites, weekly loads of methamphetamine, cocaine and MDMA with local
//    summer peaks (MDMA strongest), a slow drift per site and the step changes of kSteps.
//  - Precursor incidents from CN and IN towards MX, US, CA, NL and BE, with occasional unusually
//    large consignments and the four of kLargeShipments.
//  - Online listings by a few hundred fictional vendor handles on five fictional platforms; a
//    vendor keeps its handle across platforms and is active for a limited time.
//  - Overdose clusters (kClusters): a few weeks of excess toxicology cases in one subdivision.
//
// Nothing here is about a person: organisations and vendors are invented, toxicology cases carry
// only an age band and sex, and notes are fixed phrases about samples and shipments.

namespace sentinel::app {
namespace {

using nlohmann::json;
using std::chrono::sys_days;

// --- calendar ---------------------------------------------------------------------------------

constexpr int kFirstYear = 2019;
constexpr int kFirstMonth = kFirstYear * 12;  // January 2019, as year * 12 + month - 1

sys_days Day(int year, unsigned month, unsigned day) {
  return sys_days{std::chrono::year{year} / std::chrono::month{month} / std::chrono::day{day}};
}
sys_days FirstDayOfMonth(int month_index) {
  return Day(month_index / 12, static_cast<unsigned>(month_index % 12 + 1), 1);
}
sys_days LastDayOfMonth(int month_index) {
  return sys_days{std::chrono::year{month_index / 12} /
                  std::chrono::month{static_cast<unsigned>(month_index % 12 + 1)} /
                  std::chrono::last};
}
int MonthOf(sys_days day) {
  const std::chrono::year_month_day ymd{day};
  return static_cast<int>(ymd.year()) * 12 + static_cast<int>(static_cast<unsigned>(ymd.month())) -
         1;
}
int DayNumber(sys_days day) { return static_cast<int>(day.time_since_epoch().count()); }
sys_days FromDayNumber(int n) { return sys_days{std::chrono::days{n}}; }

void AppendDigits(std::string& out, int value, int width) {
  std::string digits = std::to_string(value);
  if (static_cast<int>(digits.size()) < width) {
    out.append(static_cast<std::size_t>(width) - digits.size(), '0');
  }
  out += digits;
}

std::string IsoDate(sys_days day) {
  const std::chrono::year_month_day ymd{day};
  std::string out;
  out.reserve(10);
  AppendDigits(out, static_cast<int>(ymd.year()), 4);
  out += '-';
  AppendDigits(out, static_cast<int>(static_cast<unsigned>(ymd.month())), 2);
  out += '-';
  AppendDigits(out, static_cast<int>(static_cast<unsigned>(ymd.day())), 2);
  return out;
}

// "2023-08-07" as a day, for the hand-written scenario tables below.
sys_days ParseDay(std::string_view text) {
  int year = 0, month = 0, day = 0;
  std::from_chars(text.data(), text.data() + 4, year);
  std::from_chars(text.data() + 5, text.data() + 7, month);
  std::from_chars(text.data() + 8, text.data() + 10, day);
  return Day(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
}

// --- parsing the reference tables -------------------------------------------------------------

constexpr std::array<std::string_view, 5> kKinds = {"seizure", "toxicology", "wastewater",
                                                    "precursor_incident", "online_listing"};
enum KindIndex { kSeizure, kToxicology, kWastewater, kPrecursor, kOnline };

constexpr std::array<std::string_view, 12> kClasses = {
    "fentanyl",    "nitazene",     "opioid",       "stimulant", "cathinone",  "benzodiazepine",
    "cannabinoid", "dissociative", "hallucinogen", "sedative",  "adulterant", "precursor"};
constexpr std::array<std::string_view, 8> kForms = {"powder",  "tablet", "capsule", "liquid",
                                                    "blotter", "herbal", "paper",   "other"};
constexpr std::array<std::string_view, 6> kUnits = {"mg", "g", "kg", "ml", "l", "units"};

template <std::size_t N>
bool IsOneOf(const std::array<std::string_view, N>& list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

struct TsvRow {
  int line = 0;
  std::vector<std::string> cells;
};

// Comment (#) and blank lines are skipped; the first other line must be `header`. Missing
// trailing cells are empty, so an editor that trims trailing tabs does no harm.
Result<std::vector<TsvRow>> ReadTsv(std::string_view text, std::string_view file,
                                    const std::vector<std::string_view>& header) {
  std::vector<TsvRow> rows;
  bool seen_header = false;
  int line_number = 0;
  for (const std::string& raw : Split(text, '\n')) {
    ++line_number;
    std::string line = raw;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (Trim(line).empty() || line[0] == '#') continue;
    std::vector<std::string> cells = Split(line, '\t');
    for (std::string& cell : cells) cell = Trim(cell);
    const std::string where = std::string(file) + " line " + std::to_string(line_number);
    if (!seen_header) {
      if (cells.size() != header.size() ||
          !std::equal(header.begin(), header.end(), cells.begin())) {
        std::string expected;
        for (std::string_view h : header) {
          expected += (expected.empty() ? "" : " ") + std::string(h);
        }
        return Status::InvalidArgument(
            fmt::format("{}: the header must be the columns: {}", where, expected));
      }
      seen_header = true;
      continue;
    }
    if (cells.size() > header.size()) {
      return Status::InvalidArgument(where + ": " + std::to_string(cells.size()) +
                                     " columns, the header has " + std::to_string(header.size()));
    }
    cells.resize(header.size());
    rows.push_back({line_number, std::move(cells)});
  }
  if (!seen_header) return Status::InvalidArgument(std::string(file) + ": no header line");
  return rows;
}

// "2023-01" as year * 12 + month - 1.
std::optional<int> ParseMonth(std::string_view text) {
  if (text.size() != 7 || text[4] != '-') return std::nullopt;
  int year = 0, month = 0;
  if (std::from_chars(text.data(), text.data() + 4, year).ec != std::errc() ||
      std::from_chars(text.data() + 5, text.data() + 7, month).ec != std::errc() || year < 1900 ||
      month < 1 || month > 12) {
    return std::nullopt;
  }
  return year * 12 + month - 1;
}

bool IsCountryCode(std::string_view s) {
  return s.size() == 2 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
}

// Reports the first problem of a row as "<file> line N, column C: ...".
class RowErrors {
 public:
  RowErrors(std::string_view file, int line)
      : prefix_(std::string(file) + " line " + std::to_string(line)) {}
  Status At(std::string_view column, const std::string& message) const {
    return Status::InvalidArgument(prefix_ + ", column " + std::string(column) + ": " + message);
  }

 private:
  std::string prefix_;
};

Result<std::vector<DemoPlace>> ParsePlaces(std::string_view text) {
  static const std::vector<std::string_view> kHeader = {
      "country", "subdivision", "name", "lat", "lon", "population", "region", "coverage"};
  auto rows = ReadTsv(text, "places.tsv", kHeader);
  if (!rows.ok()) return rows.status();
  std::vector<DemoPlace> places;
  std::set<std::pair<std::string, std::string>> seen;
  for (const TsvRow& row : *rows) {
    const RowErrors err("places.tsv", row.line);
    DemoPlace place;
    place.country = row.cells[0];
    place.subdivision = row.cells[1];
    place.name = row.cells[2];
    place.region = row.cells[6];
    if (!IsCountryCode(place.country)) return err.At("country", "not an ISO 3166-1 alpha-2 code");
    if (!place.subdivision.empty() &&
        (place.subdivision.size() < 4 || place.subdivision.size() > 6 ||
         place.subdivision.compare(0, 3, place.country + "-") != 0)) {
      return err.At("subdivision", "not an ISO 3166-2 code of " + place.country);
    }
    if (place.name.empty()) return err.At("name", "empty");
    const auto lat = ParseFiniteNumber(row.cells[3]), lon = ParseFiniteNumber(row.cells[4]);
    if (!lat || *lat < -90 || *lat > 90) return err.At("lat", "not a latitude");
    if (!lon || *lon < -180 || *lon > 180) return err.At("lon", "not a longitude");
    const auto population = ParseFiniteNumber(row.cells[5]);
    if (!population || *population <= 0) return err.At("population", "not a positive number");
    const auto coverage = ParseFiniteNumber(row.cells[7]);
    if (!coverage || *coverage <= 0 || *coverage > 1) return err.At("coverage", "not in (0, 1]");
    if (place.region.empty() || place.region == "*") return err.At("region", "empty");
    if (!seen.insert({place.country, place.subdivision}).second) {
      return err.At("subdivision", "listed twice");
    }
    place.lat = *lat;
    place.lon = *lon;
    place.population = *population;
    place.coverage = *coverage;
    places.push_back(std::move(place));
  }
  if (places.empty()) return Status::InvalidArgument("places.tsv: no places");
  return places;
}

// "a:1.5,b:2" as keys and weights.
std::optional<std::vector<DemoWeightedKey>> ParseWeightedKeys(std::string_view text) {
  std::vector<DemoWeightedKey> out;
  if (text.empty()) return out;
  for (const std::string& item : Split(text, ',')) {
    const std::size_t colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0) return std::nullopt;
    const auto weight = ParseFiniteNumber(Trim(std::string_view(item).substr(colon + 1)));
    if (!weight || *weight < 0) return std::nullopt;
    out.push_back({Trim(std::string_view(item).substr(0, colon)), *weight});
  }
  return out;
}

Result<std::vector<DemoSubstance>> ParseSubstances(std::string_view text,
                                                   const std::vector<DemoPlace>& places) {
  static const std::vector<std::string_view> kHeader = {
      "name",  "class",  "kinds",   "presence",        "trend",       "forms",
      "with",  "spread", "origins", "wastewater_load", "summer_peak", "precursor_quantity",
      "smiles"};
  auto rows = ReadTsv(text, "substances.tsv", kHeader);
  if (!rows.ok()) return rows.status();

  std::set<std::string> known_wheres = {"*"};
  std::set<std::string> subdivisions;
  for (const DemoPlace& p : places) {
    known_wheres.insert(p.country);
    known_wheres.insert(p.region);
    if (!p.subdivision.empty()) {
      known_wheres.insert(p.subdivision);
      subdivisions.insert(p.subdivision);
    }
  }

  std::vector<DemoSubstance> substances;
  for (const TsvRow& row : *rows) {
    const RowErrors err("substances.tsv", row.line);
    const auto& c = row.cells;
    DemoSubstance s;
    s.name = c[0];
    if (s.name.empty()) return err.At("name", "empty");
    s.substance_class = c[1];
    if (!IsOneOf(kClasses, s.substance_class)) return err.At("class", "unknown class " + c[1]);
    for (const std::string& kind : Split(c[2], ',')) {
      if (!IsOneOf(kKinds, Trim(kind))) return err.At("kinds", "unknown kind '" + kind + "'");
      s.kinds.push_back(Trim(kind));
    }
    auto has_kind = [&](std::string_view kind) {
      return std::find(s.kinds.begin(), s.kinds.end(), kind) != s.kinds.end();
    };

    for (const std::string& item : Split(c[3], ',')) {
      const std::vector<std::string> parts = Split(Trim(item), ':');
      if (parts.size() != 3) {
        return err.At("presence", "'" + item + "' is not where:YYYY-MM:weight");
      }
      const auto month = ParseMonth(parts[1]);
      const auto weight = ParseFiniteNumber(parts[2]);
      if (!known_wheres.count(parts[0])) {
        return err.At("presence",
                      "'" + parts[0] + "' is no place, country or region of places.tsv");
      }
      if (!month) return err.At("presence", "'" + parts[1] + "' is not YYYY-MM");
      if (!weight || *weight < 0) return err.At("presence", "'" + parts[2] + "' is not a weight");
      s.presence.push_back({parts[0], *month, *weight});
    }

    const std::vector<std::string> trend = Split(c[4], ':');
    static const std::map<std::string, std::pair<DemoTrend, double>, std::less<>> kTrends = {
        {"steady", {DemoTrend::kSteady, 0}},
        {"rising", {DemoTrend::kRising, 24}},
        {"declining", {DemoTrend::kDeclining, 24}},
        {"outbreak", {DemoTrend::kOutbreak, 6}}};
    const auto known_trend = kTrends.find(trend[0]);
    if (known_trend == kTrends.end() || trend.size() > 2) {
      return err.At("trend", "'" + c[4] + "' is not steady, rising, declining or outbreak");
    }
    s.trend = known_trend->second.first;
    s.trend_months = known_trend->second.second;
    if (trend.size() == 2) {
      const auto months = ParseFiniteNumber(trend[1]);
      if (!months || *months <= 0) return err.At("trend", "'" + trend[1] + "' is not a duration");
      s.trend_months = *months;
    }

    const auto forms = ParseWeightedKeys(c[5]);
    if (!forms) return err.At("forms", "not form:weight,...");
    for (const DemoWeightedKey& f : *forms) {
      if (!IsOneOf(kForms, f.key)) return err.At("forms", "unknown form '" + f.key + "'");
    }
    s.forms = *forms;
    s.with = c[6];
    if (!c[7].empty()) {
      const std::vector<std::string> spread = Split(c[7], ':');
      const auto speed = spread.size() == 2 ? ParseFiniteNumber(spread[1]) : std::nullopt;
      if (!speed || *speed <= 0 || !subdivisions.count(spread[0])) {
        return err.At("spread", "not SUBDIVISION:km-per-month with a subdivision of places.tsv");
      }
      s.spread_origin = spread[0];
      s.spread_km_per_month = *speed;
    }
    const auto origins = ParseWeightedKeys(c[8]);
    if (!origins) return err.At("origins", "not country:weight,...");
    for (const DemoWeightedKey& o : *origins) {
      if (!IsCountryCode(o.key)) return err.At("origins", "'" + o.key + "' is not a country code");
    }
    s.origins = *origins;
    const auto loads = ParseWeightedKeys(c[9]);
    if (!loads) return err.At("wastewater_load", "not where:load,...");
    for (const DemoWeightedKey& l : *loads) {
      if (!known_wheres.count(l.key)) {
        return err.At("wastewater_load", "unknown place '" + l.key + "'");
      }
    }
    s.wastewater_load = *loads;
    if (!c[10].empty()) {
      const auto peak = ParseFiniteNumber(c[10]);
      if (!peak || *peak < 0 || *peak >= 1) return err.At("summer_peak", "not in [0, 1)");
      s.summer_peak = *peak;
    }
    if (!c[11].empty()) {
      const std::vector<std::string> q = Split(c[11], ':');
      const auto value = q.size() == 2 ? ParseFiniteNumber(q[0]) : std::nullopt;
      if (!value || *value <= 0 || !IsOneOf(kUnits, q[1])) {
        return err.At("precursor_quantity", "not value:unit with a unit of docs/reports.md");
      }
      s.precursor_quantity = *value;
      s.precursor_unit = q[1];
    }
    s.smiles = c[12];

    if (s.kinds.empty()) return err.At("kinds", "empty");
    if (s.presence.empty()) return err.At("presence", "empty");
    if (has_kind("seizure") && s.with.empty() && s.forms.empty()) {
      return err.At("forms", "a seizure row needs its forms");
    }
    if (has_kind("precursor_incident") && (s.origins.empty() || s.precursor_quantity <= 0)) {
      return err.At("origins", "a precursor row needs origins and precursor_quantity");
    }
    if (has_kind("wastewater") && s.wastewater_load.empty()) {
      return err.At("wastewater_load", "a wastewater row needs its loads");
    }
    if (!s.with.empty() && s.with == s.name) {
      return err.At("with", "a substance cannot accompany itself");
    }
    substances.push_back(std::move(s));
  }
  for (const DemoSubstance& s : substances) {
    if (s.with.empty()) continue;
    const bool found = std::any_of(substances.begin(), substances.end(),
                                   [&](const DemoSubstance& t) { return t.name == s.with; });
    if (!found) {
      return Status::InvalidArgument("substances.tsv: " + s.name + " is 'with' " + s.with +
                                     ", which has no row");
    }
  }
  return substances;
}

// --- randomness -------------------------------------------------------------------------------

// Our own generator and distributions: the standard library's distributions differ between
// implementations, and the demo must be the same everywhere for a seed.
std::uint64_t SplitMix(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& word : state_) word = SplitMix(seed);
  }
  std::uint64_t Next() {  // xoshiro256**
    const std::uint64_t result = Rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = Rotl(state_[3], 45);
    return result;
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  bool Chance(double p) { return Uniform() < p; }
  std::size_t Below(std::size_t n) {  // [0, n); rounding must not reach n
    return std::min(n - 1, static_cast<std::size_t>(Uniform() * static_cast<double>(n)));
  }
  double Normal() {
    const double u = 1.0 - Uniform();  // (0, 1]
    return std::sqrt(-2.0 * std::log(u)) * std::cos(2.0 * std::numbers::pi * Uniform());
  }
  double LogNormal(double median, double sigma) { return median * std::exp(sigma * Normal()); }
  template <typename T>
  const T& Pick(const std::vector<std::pair<T, double>>& weighted) {
    double total = 0;
    for (const auto& [value, weight] : weighted) total += weight;
    double u = Uniform() * total;
    for (const auto& [value, weight] : weighted) {
      if (u < weight) return value;
      u -= weight;
    }
    return weighted.back().first;
  }

 private:
  static std::uint64_t Rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> state_{};
};

double Round(double value, int decimals) {
  const double scale = std::pow(10.0, decimals);
  return std::round(value * scale) / scale;
}

// --- the scenario -----------------------------------------------------------------------------

struct ScenarioSite {
  std::string_view subdivision, code, since;
};
// In the order they are kept when the report budget cannot hold every series.
constexpr ScenarioSite kSites[] = {
    {"BE-VLG", "BE-VLG-01", "2019-01-01"}, {"NL-NH", "NL-NH-01", "2019-01-01"},
    {"GB-ENG", "GB-ENG-01", "2019-01-01"}, {"US-AZ", "US-AZ-01", "2019-01-01"},
    {"AU-SA", "AU-SA-01", "2019-01-01"},   {"NZ-AUK", "NZ-AUK-01", "2019-01-01"},
    {"DE-SN", "DE-SN-01", "2019-01-01"},   {"ES-CT", "ES-CT-01", "2019-01-01"},
    {"CA-BC", "CA-BC-01", "2019-01-01"},   {"IE-L", "IE-L-01", "2021-01-04"},
    {"EE-37", "EE-37-01", "2019-01-01"},   {"AU-NSW", "AU-NSW-01", "2019-01-01"},
    {"BE-BRU", "BE-BRU-01", "2019-01-01"}, {"NL-ZH", "NL-ZH-01", "2019-01-01"},
    {"DE-BE", "DE-BE-01", "2019-01-01"},   {"FR-IDF", "FR-IDF-01", "2019-01-01"},
    {"GB-SCT", "GB-SCT-01", "2019-01-01"}, {"US-WA", "US-WA-01", "2020-01-06"},
    {"GB-ENG", "GB-ENG-02", "2020-06-01"}, {"LT-VL", "LT-VL-01", "2021-06-07"},
};

struct ScenarioStep {
  std::string_view site, analyte, from;
  double factor;
};
constexpr ScenarioStep kSteps[] = {
    {"NZ-AUK-01", "Metamfetamine", "2022-09-05", 1.8},
    {"BE-VLG-01", "Cocaine", "2023-03-06", 1.4},
    {"AU-SA-01", "Metamfetamine", "2021-02-01", 0.6},
};

struct ScenarioCluster {
  std::string_view subdivision, start;
  int days;
  std::array<std::string_view, 3> substances;  // the first is the main one
  double fatal_share;
};
constexpr ScenarioCluster kClusters[] = {
    {"CA-BC", "2022-03-14", 21, {"Fentanyl", "Bromazolam", ""}, 0.25},
    {"GB-SCT", "2023-08-07", 21, {"Metonitazene", "Etizolam", ""}, 0.3},
    {"IE-L", "2023-11-20", 16, {"Protonitazene", "Heroin", ""}, 0.2},
    {"US-OH", "2024-06-10", 18, {"Carfentanil", "Fentanyl", ""}, 0.35},
    {"AU-VIC", "2024-07-01", 14, {"Protonitazene", "", ""}, 0.3},
    {"US-PA", "2024-09-02", 16, {"Fentanyl", "Medetomidine", "Xylazine"}, 0.15},
};

struct ScenarioShipment {
  std::string_view date, chemical;
  double quantity;
  std::string_view unit, origin, transit, destination, stopped_in, status;
};
constexpr ScenarioShipment kLargeShipments[] = {
    {"2021-11-08", "1-Phenyl-2-propanone", 12000, "l", "IN", "", "MX", "MX-COL", "seized"},
    {"2023-04-17", "1-boc-4-AP", 1500, "kg", "CN", "", "MX", "MX-MIC", "seized"},
    {"2024-02-12", "3,4-MDP-2-P methyl glycidate", 18000, "kg", "CN", "BE", "NL", "BE-VLG",
     "stopped"},
    {"2024-10-07", "4-Piperidone", 800, "kg", "CN", "", "CA", "CA-BC", "seized"},
};

// Countries whose online monitoring units report listings (others' listings go to the unit of
// the same region, else the first).
constexpr std::string_view kOnlineMonitors[] = {"US", "GB", "NL", "DE", "AU", "CA", "FR"};
constexpr std::string_view kPlatforms[] = {"darknet market Alpha", "darknet market Bravo",
                                           "darknet market Charlie", "clearweb shop",
                                           "messenger channel"};

// Where consignments typically pass on their way to a destination.
const std::map<std::string, std::vector<std::string>, std::less<>>& TransitCountries() {
  static const std::map<std::string, std::vector<std::string>, std::less<>> kTransit = {
      {"MX", {"US", "PA", "CO"}}, {"US", {"MX", "CA"}}, {"CA", {"US"}},       {"NL", {"BE", "DE"}},
      {"BE", {"NL", "DE"}},       {"DE", {"NL", "BE"}}, {"CO", {"PA", "EC"}}, {"BR", {"PY"}},
      {"AU", {"SG", "MY"}},       {"NZ", {"AU", "SG"}}, {"ZA", {"MZ"}}};
  return kTransit;
}

std::string_view Currency(std::string_view country) {
  static constexpr std::string_view kEuro[] = {"NL", "BE", "DE", "EE", "LV", "LT", "FR",
                                               "ES", "IE", "AT", "FI", "PT", "IT"};
  if (std::find(std::begin(kEuro), std::end(kEuro), country) != std::end(kEuro)) return "EUR";
  if (country == "GB") return "GBP";
  if (country == "CA") return "CAD";
  if (country == "AU") return "AUD";
  return "USD";
}

double UsdRate(std::string_view currency) {
  if (currency == "EUR") return 0.92;
  if (currency == "GBP") return 0.79;
  if (currency == "CAD") return 1.35;
  if (currency == "AUD") return 1.5;
  return 1.0;
}

// Typical street or online price in US dollars per gram (or per tablet, capsule, blotter).
double UsdPerUnit(std::string_view substance_class, bool counted) {
  struct Price {
    std::string_view substance_class;
    double per_gram, per_unit;
  };
  static constexpr Price kPrices[] = {
      {"fentanyl", 45, 8},    {"nitazene", 70, 10},      {"opioid", 60, 6},
      {"stimulant", 55, 8},   {"cathinone", 15, 5},      {"benzodiazepine", 60, 1.5},
      {"cannabinoid", 10, 4}, {"dissociative", 25, 8},   {"hallucinogen", 25, 10},
      {"sedative", 0.2, 1},   {"adulterant", 0.05, 0.1}, {"precursor", 0.5, 1}};
  for (const Price& p : kPrices) {
    if (p.substance_class == substance_class) return counted ? p.per_unit : p.per_gram;
  }
  return counted ? 5 : 20;
}

// --- the generator ----------------------------------------------------------------------------

struct Presence {
  double weight = 0;
  double arrival = 0;  // month index, fractional when the arrival spreads
};

struct Organisations {
  std::vector<DemoOrganisation> list;
  std::vector<std::size_t> lab, emergency;  // by place
  std::map<std::string, std::size_t, std::less<>> examiner, customs, wastewater, online;
};

struct Vendor {
  std::string handle;
  std::string country;
  std::size_t platform = 0, second_platform = 0;
  bool two_platforms = false;
  std::set<std::string, std::less<>> classes;
  int first_month = 0, last_month = 0;
  double activity = 1;
};

struct Pending {
  int day = 0;
  std::uint32_t sequence = 0;
  std::size_t organisation = 0;
  json body;
};

struct Cell {
  int month;
  std::size_t place, row;
};

struct Mention {
  std::size_t row;
  std::string_view role;  // empty: main
};

double DistanceKm(const DemoPlace& a, const DemoPlace& b) {
  constexpr double kRadiusKm = 6371.0;
  const double to_rad = std::numbers::pi / 180.0;
  const double dlat = (b.lat - a.lat) * to_rad, dlon = (b.lon - a.lon) * to_rad;
  const double h =
      std::sin(dlat / 2) * std::sin(dlat / 2) +
      std::cos(a.lat * to_rad) * std::cos(b.lat * to_rad) * std::sin(dlon / 2) * std::sin(dlon / 2);
  return 2 * kRadiusKm * std::asin(std::min(1.0, std::sqrt(h)));
}

// Strength 0..1 of a pattern `months` after it arrived.
double Shape(DemoTrend trend, double param, double months) {
  if (months < 0) return 0;
  switch (trend) {
    case DemoTrend::kSteady:
      return 1;
    case DemoTrend::kRising:
      return std::min(1.0, 0.1 + 0.9 * months / param);
    case DemoTrend::kDeclining:
      return std::max(0.05, std::pow(0.5, months / param));
    case DemoTrend::kOutbreak:
      if (months < 3) return (months + 1) / 4;
      if (months < 3 + param) return 1;
      return std::max(0.05, std::pow(0.5, (months - 3 - param) / 6));
  }
  return 0;
}

// Local summer peaks in July in the north and January in the south.
double Season(double amplitude, double lat, double day_of_year) {
  if (amplitude == 0) return 1;
  const double peak = lat >= 0 ? 196 : 15;
  return 1 + amplitude * std::cos(2 * std::numbers::pi * (day_of_year - peak) / 365.25);
}

double DayOfYear(sys_days day) {
  const std::chrono::year_month_day ymd{day};
  return static_cast<double>((day - sys_days{ymd.year() / 1 / 1}).count());
}

class Generator {
 public:
  Generator(const DemoReference& reference, sys_days today, std::size_t approx, std::uint64_t seed)
      : ref_(reference), today_(today), approx_(approx), seed_(seed) {}

  DemoHistory Run();

 private:
  Rng Stream(std::uint64_t id) const { return Rng(seed_ ^ (0xD1B54A32D192ED03ull * (id + 1))); }

  void IndexReference();
  void BuildOrganisations();
  std::size_t AddOrganisation(std::string id, std::string name, const std::string& country,
                              const std::string& region, std::string role);
  void ResolvePresence();
  Presence Resolve(const DemoSubstance& s, const DemoPlace& place) const;
  double Activity(std::size_t row, std::size_t place, int month) const;
  double PlaceWeight(int kind, std::size_t place) const;
  double Volume(int kind, int month) const;

  std::vector<Cell> SampleCells(int kind, std::size_t count, Rng& rng) const;
  int RandomDayIn(int month, Rng& rng) const;
  std::string Distribution(int kind, Rng& rng) const;
  json PlaceJson(std::size_t place, double jitter_degrees, Rng& rng) const;
  json SubstanceJson(std::size_t row) const;
  void AddCompanions(std::vector<Mention>& mentions, int kind, std::size_t place, int month,
                     Rng& rng) const;
  std::optional<std::size_t> PickCoOccurring(const std::vector<Mention>& mentions,
                                             std::size_t place, int month, Rng& rng) const;
  void Add(int day, std::size_t organisation, json body);

  void GenerateSeizures(std::size_t count);
  void GenerateToxicology(std::size_t count);
  json ToxicologyBody(std::vector<Mention> mentions, std::size_t place, int month, bool fatal,
                      bool in_cluster, Rng& rng, std::size_t& organisation) const;
  void GenerateClusters(std::size_t per_cluster);
  std::size_t ClusterCases(std::size_t per_cluster) const;
  void GenerateWastewater(std::size_t budget);
  void GeneratePrecursors(std::size_t count);
  void GenerateLargeShipments();
  void BuildVendors(std::size_t listings);
  void GenerateListings(std::size_t count);

  std::optional<std::size_t> RowByName(std::string_view name) const;
  std::optional<std::size_t> PlaceBySubdivision(std::string_view subdivision) const;
  std::size_t RandomPlaceIn(std::string_view country, Rng& rng) const;
  bool HasKind(std::size_t row, int kind) const { return (row_kinds_[row] >> kind) & 1u; }

  const DemoReference& ref_;
  sys_days today_;
  std::size_t approx_;
  std::uint64_t seed_;
  int first_month_ = kFirstMonth, last_month_ = kFirstMonth;
  std::vector<int> days_in_month_;  // available days, by month - first_month_

  std::vector<unsigned> row_kinds_;
  std::vector<std::size_t> name_id_;                  // rows of one substance share an id
  std::vector<std::vector<std::size_t>> companions_;  // by name id: rows only seen with it
  std::vector<std::vector<std::pair<std::string, double>>> forms_;  // by row
  // Reused between reports: a fresh vector per report costs more than the report itself.
  mutable std::vector<std::pair<std::size_t, double>> scratch_;
  std::map<std::string, std::vector<std::size_t>, std::less<>> places_of_country_;
  std::map<std::string, double, std::less<>> country_population_;
  std::vector<Presence> presence_;  // row * places + place
  Organisations orgs_;
  std::vector<Vendor> vendors_;
  std::map<std::string, std::vector<std::size_t>, std::less<>> vendors_of_country_;

  std::vector<Pending> pending_;
};

void Generator::IndexReference() {
  for (std::size_t p = 0; p < ref_.places.size(); ++p) {
    places_of_country_[ref_.places[p].country].push_back(p);
    country_population_[ref_.places[p].country] += ref_.places[p].population;
  }
  std::map<std::string, std::size_t, std::less<>> ids;
  for (const DemoSubstance& s : ref_.substances) ids.emplace(s.name, ids.size());
  companions_.resize(ids.size());
  for (std::size_t r = 0; r < ref_.substances.size(); ++r) {
    const DemoSubstance& s = ref_.substances[r];
    unsigned mask = 0;
    for (const std::string& kind : s.kinds) {
      mask |= 1u << (std::find(kKinds.begin(), kKinds.end(), kind) - kKinds.begin());
    }
    row_kinds_.push_back(mask);
    name_id_.push_back(ids[s.name]);
    if (!s.with.empty()) companions_[ids[s.with]].push_back(r);
    forms_.emplace_back();
    for (const DemoWeightedKey& f : s.forms) forms_.back().push_back({f.key, f.weight});
    if (forms_.back().empty()) forms_.back().push_back({"powder", 1});
  }
}

std::size_t Generator::AddOrganisation(std::string id, std::string name, const std::string& country,
                                       const std::string& region, std::string role) {
  // Trusted groups as real networks form them: by region, and by trade across regions.
  std::vector<std::string> groups;
  if (region == "europe" || region == "uk_ireland") groups.emplace_back("european-early-warning");
  if (region == "uk_ireland") groups.emplace_back("uk-ireland-drug-alerts");
  if (region == "north_america") groups.emplace_back("north-american-opioid-network");
  if (region == "oceania") groups.emplace_back("oceania-early-warning");
  if (region == "latin_america") groups.emplace_back("latin-american-drug-observatories");
  if (region == "asia" || region == "africa") groups.emplace_back("global-smart-partners");
  if (role == "customs") groups.emplace_back("precursor-taskforce");
  if (role == "wastewater_programme") groups.emplace_back("wastewater-network");
  if (role == "online_monitoring") groups.emplace_back("online-markets-network");
  if (role == "emergency_department" || role == "medical_examiner") {
    groups.emplace_back("clinical-toxicology-network");
  }
  orgs_.list.push_back(
      {std::move(id), std::move(name), country, std::move(groups), std::move(role)});
  return orgs_.list.size() - 1;
}

void Generator::BuildOrganisations() {
  std::set<std::string> countries_with_sites;
  for (const ScenarioSite& site : kSites) {
    if (auto p = PlaceBySubdivision(site.subdivision)) {
      countries_with_sites.insert(ref_.places[*p].country);
    }
  }
  std::set<std::string> done;
  for (std::size_t p = 0; p < ref_.places.size(); ++p) {
    const DemoPlace& place = ref_.places[p];
    const std::string id =
        AsciiLower(place.subdivision.empty() ? place.country : place.subdivision);
    orgs_.lab.push_back(AddOrganisation(id + "-lab",
                                        "Forensic drug laboratory, " + place.name + " (demo)",
                                        place.country, place.region, "forensic_lab"));
    orgs_.emergency.push_back(AddOrganisation(
        id + "-ed", "Emergency department toxicology network, " + place.name + " (demo)",
        place.country, place.region, "emergency_department"));
    if (!done.insert(place.country).second) continue;
    const std::string cc = AsciiLower(place.country);
    orgs_.examiner[place.country] = AddOrganisation(
        cc + "-coroners", "Medical examiners and coroners, " + place.country + " (demo)",
        place.country, place.region, "medical_examiner");
    orgs_.customs[place.country] =
        AddOrganisation(cc + "-customs", "Customs laboratory, " + place.country + " (demo)",
                        place.country, place.region, "customs");
    if (countries_with_sites.count(place.country)) {
      orgs_.wastewater[place.country] = AddOrganisation(
          cc + "-wastewater", "Wastewater monitoring programme, " + place.country + " (demo)",
          place.country, place.region, "wastewater_programme");
    }
    if (std::find(std::begin(kOnlineMonitors), std::end(kOnlineMonitors), place.country) !=
        std::end(kOnlineMonitors)) {
      orgs_.online[place.country] = AddOrganisation(
          cc + "-online", "Online market monitoring unit, " + place.country + " (demo)",
          place.country, place.region, "online_monitoring");
    }
  }
}

Presence Generator::Resolve(const DemoSubstance& s, const DemoPlace& place) const {
  const DemoPresence* best = nullptr;
  int best_rank = -1;
  for (const DemoPresence& p : s.presence) {
    int rank = -1;
    if (!place.subdivision.empty() && p.where == place.subdivision) {
      rank = 3;
    } else if (p.where == place.country) {
      rank = 2;
    } else if (p.where == place.region) {
      rank = 1;
    } else if (p.where == "*") {
      rank = 0;
    }
    if (rank > best_rank) {
      best_rank = rank;
      best = &p;
    }
  }
  if (!best) return {};
  return {best->weight, static_cast<double>(best->first_month)};
}

void Generator::ResolvePresence() {
  const std::size_t n_places = ref_.places.size();
  presence_.assign(ref_.substances.size() * n_places, {});
  for (std::size_t r = 0; r < ref_.substances.size(); ++r) {
    const DemoSubstance& s = ref_.substances[r];
    std::optional<std::size_t> origin;
    if (!s.spread_origin.empty()) origin = PlaceBySubdivision(s.spread_origin);
    for (std::size_t p = 0; p < n_places; ++p) {
      Presence presence = Resolve(s, ref_.places[p]);
      if (origin && presence.weight > 0) {
        const Presence at_origin = Resolve(s, ref_.places[*origin]);
        const double travel =
            DistanceKm(ref_.places[*origin], ref_.places[p]) / s.spread_km_per_month;
        presence.arrival = std::max(presence.arrival, at_origin.arrival + travel);
      }
      presence_[r * n_places + p] = presence;
    }
  }
}

double Generator::Activity(std::size_t row, std::size_t place, int month) const {
  const Presence& p = presence_[row * ref_.places.size() + place];
  if (p.weight <= 0) return 0;
  const DemoSubstance& s = ref_.substances[row];
  return p.weight * Shape(s.trend, s.trend_months, month - p.arrival);
}

double Generator::PlaceWeight(int kind, std::size_t place) const {
  const DemoPlace& p = ref_.places[place];
  // A precursor row's weights are the destination countries' shares. Elsewhere a country weighs
  // by its population, damped so that small countries still show up on the map, and shares
  // that among its places by population.
  const double country_population = country_population_.find(p.country)->second;
  const double share = p.population / country_population;
  if (kind == kPrecursor) return share;
  return std::pow(country_population * p.coverage, 0.65) * share;
}

double Generator::Volume(int kind, int month) const {
  // Networks grow (more members each year); the 2020 lockdowns cut seizures and moved trade
  // online for a while.
  double volume = 1 + 0.05 * (month - kFirstMonth) / 12.0;
  const bool lockdown = month >= kFirstMonth + 15 && month <= kFirstMonth + 17;  // Apr-Jun 2020
  const bool online_boom = month >= kFirstMonth + 15 && month <= kFirstMonth + 23;
  if (kind == kSeizure && lockdown) volume *= 0.7;
  if (kind == kOnline && online_boom) volume *= 1.25;
  return volume;
}

std::vector<Cell> Generator::SampleCells(int kind, std::size_t count, Rng& rng) const {
  // Every (month, place, row) with a non-zero chance, and the running total of those chances:
  // one binary search per report.
  struct Pair {
    std::size_t row, place;
    double weight;  // presence weight x place weight
    double arrival;
    double lat;
  };
  std::vector<Pair> pairs;
  for (std::size_t r = 0; r < ref_.substances.size(); ++r) {
    const DemoSubstance& s = ref_.substances[r];
    if (!HasKind(r, kind)) continue;
    if ((kind == kSeizure || kind == kToxicology) && !s.with.empty()) continue;
    double first_seen = s.presence.front().first_month;
    for (const DemoPresence& e : s.presence) {
      first_seen = std::min<double>(first_seen, e.first_month);
    }
    for (std::size_t p = 0; p < ref_.places.size(); ++p) {
      Presence presence = presence_[r * ref_.places.size() + p];
      if (kind == kOnline && s.substance_class == "precursor") {
        // Precursors are offered where they are made, not where they are wanted.
        presence = {};
        for (const DemoWeightedKey& origin : s.origins) {
          if (origin.key == ref_.places[p].country) presence = {0.15 * origin.weight, first_seen};
        }
      }
      if (presence.weight <= 0) continue;
      pairs.push_back(
          {r, p, presence.weight * PlaceWeight(kind, p), presence.arrival, ref_.places[p].lat});
    }
  }
  std::vector<double> cumulative;
  cumulative.reserve(pairs.size() * days_in_month_.size());
  double total = 0;
  for (int m = first_month_; m <= last_month_; ++m) {
    const double month_weight = Volume(kind, m) * days_in_month_[m - first_month_] / 30.44;
    const double mid_month_day = DayOfYear(FirstDayOfMonth(m)) + 15;
    for (const Pair& pair : pairs) {
      const DemoSubstance& s = ref_.substances[pair.row];
      total += month_weight * pair.weight * Shape(s.trend, s.trend_months, m - pair.arrival) *
               Season(s.summer_peak, pair.lat, mid_month_day);
      cumulative.push_back(total);
    }
  }
  std::vector<Cell> cells;
  if (total <= 0 || pairs.empty()) return cells;
  cells.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    const double u = rng.Uniform() * total;
    auto index = static_cast<std::size_t>(
        std::upper_bound(cumulative.begin(), cumulative.end(), u) - cumulative.begin());
    index = std::min(index, cumulative.size() - 1);
    const Pair& pair = pairs[index % pairs.size()];
    cells.push_back({first_month_ + static_cast<int>(index / pairs.size()), pair.place, pair.row});
  }
  return cells;
}

int Generator::RandomDayIn(int month, Rng& rng) const {
  const int first = DayNumber(std::max(FirstDayOfMonth(month), Day(kFirstYear, 1, 1)));
  const int last = DayNumber(std::min(LastDayOfMonth(month), today_));
  return first + static_cast<int>(rng.Below(static_cast<std::size_t>(last) -
                                            static_cast<std::size_t>(first) + 1));
}

std::string Generator::Distribution(int kind, Rng& rng) const {
  using Weighted = std::vector<std::pair<std::string, double>>;
  static const Weighted kForSeizures = {
      {"everyone", 0.4}, {"national", 0.45}, {"trusted_group", 0.1}, {"organisation", 0.05}};
  static const Weighted kForCases = {
      {"national", 0.6}, {"everyone", 0.25}, {"trusted_group", 0.1}, {"organisation", 0.05}};
  static const Weighted kForWastewater = {
      {"everyone", 0.6}, {"national", 0.3}, {"trusted_group", 0.1}};
  static const Weighted kForPrecursors = {
      {"trusted_group", 0.45}, {"national", 0.25}, {"everyone", 0.2}, {"organisation", 0.1}};
  static const Weighted kForListings = {
      {"everyone", 0.5}, {"national", 0.3}, {"trusted_group", 0.15}, {"organisation", 0.05}};
  switch (kind) {
    case kSeizure:
      return rng.Pick(kForSeizures);
    case kToxicology:
      return rng.Pick(kForCases);
    case kWastewater:
      return rng.Pick(kForWastewater);
    case kPrecursor:
      return rng.Pick(kForPrecursors);
    default:
      return rng.Pick(kForListings);
  }
}

json Generator::PlaceJson(std::size_t place, double jitter_degrees, Rng& rng) const {
  const DemoPlace& p = ref_.places[place];
  json out = json::object();
  out["country"] = p.country;
  if (!p.subdivision.empty()) out["subdivision"] = p.subdivision;
  if (jitter_degrees >= 0) {
    const double lat = p.lat + (rng.Uniform() * 2 - 1) * jitter_degrees;
    const double lon = p.lon + (rng.Uniform() * 2 - 1) * jitter_degrees;
    out["lat"] = Round(std::clamp(lat, -89.9, 89.9), 3);
    out["lon"] = Round(std::clamp(lon, -179.9, 179.9), 3);
  }
  return out;
}

json Generator::SubstanceJson(std::size_t row) const {
  const DemoSubstance& s = ref_.substances[row];
  json out = json::object();
  out["name"] = s.name;
  if (!s.smiles.empty()) out["smiles"] = s.smiles;
  return out;
}

void Generator::AddCompanions(std::vector<Mention>& mentions, int kind, std::size_t place,
                              int month, Rng& rng) const {
  constexpr std::size_t kMaxSubstances = 20;
  for (std::size_t i = 0; i < mentions.size(); ++i) {
    for (const std::size_t companion : companions_[name_id_[mentions[i].row]]) {
      if (!HasKind(companion, kind) || mentions.size() >= kMaxSubstances) continue;
      const bool present = std::any_of(mentions.begin(), mentions.end(), [&](const Mention& m) {
        return name_id_[m.row] == name_id_[companion];
      });
      if (present) continue;
      if (rng.Chance(std::min(0.95, Activity(companion, place, month)))) {
        const bool adulterant = kind == kSeizure;
        mentions.push_back({companion, adulterant ? "adulterant" : "co_occurring"});
      }
    }
  }
}

std::optional<std::size_t> Generator::PickCoOccurring(const std::vector<Mention>& mentions,
                                                      std::size_t place, int month,
                                                      Rng& rng) const {
  scratch_.clear();
  for (std::size_t r = 0; r < ref_.substances.size(); ++r) {
    if (!HasKind(r, kToxicology) || !ref_.substances[r].with.empty()) continue;
    const bool present = std::any_of(mentions.begin(), mentions.end(), [&](const Mention& m) {
      return name_id_[m.row] == name_id_[r];
    });
    if (present) continue;
    const double activity = Activity(r, place, month);
    if (activity > 0) scratch_.emplace_back(r, activity);
  }
  if (scratch_.empty()) return std::nullopt;
  return rng.Pick(scratch_);
}

void Generator::Add(int day, std::size_t organisation, json body) {
  pending_.push_back(
      {day, static_cast<std::uint32_t>(pending_.size()), organisation, std::move(body)});
}

// A row of that name, preferring one that is not only a companion.
std::optional<std::size_t> Generator::RowByName(std::string_view name) const {
  std::optional<std::size_t> found;
  for (std::size_t r = 0; r < ref_.substances.size(); ++r) {
    if (ref_.substances[r].name != name) continue;
    if (ref_.substances[r].with.empty()) return r;
    if (!found) found = r;
  }
  return found;
}

std::optional<std::size_t> Generator::PlaceBySubdivision(std::string_view subdivision) const {
  for (std::size_t p = 0; p < ref_.places.size(); ++p) {
    if (ref_.places[p].subdivision == subdivision) return p;
  }
  return std::nullopt;
}

std::size_t Generator::RandomPlaceIn(std::string_view country, Rng& rng) const {
  const std::vector<std::size_t>& places = places_of_country_.find(country)->second;
  std::vector<std::pair<std::size_t, double>> weighted;
  weighted.reserve(places.size());
  for (const std::size_t p : places) weighted.emplace_back(p, ref_.places[p].population);
  return rng.Pick(weighted);
}

// --- seizures ---------------------------------------------------------------------------------

struct Note {
  std::string_view substance_class, form, text;
};
constexpr Note kSeizureNotes[] = {
    {"fentanyl", "tablet", "Blue tablets imprinted M 30, imitating oxycodone"},
    {"fentanyl", "powder", "Powder sold as heroin"},
    {"nitazene", "tablet", "Tablets imitating oxycodone 80 mg; no oxycodone detected"},
    {"nitazene", "herbal", "Herbal material sold as cannabis"},
    {"nitazene", "powder", "Powder sold as heroin"},
    {"benzodiazepine", "tablet", "Tablets imitating diazepam 10 mg"},
    {"cannabinoid", "paper", "Impregnated paper sheets"},
    {"cannabinoid", "liquid", "Vape cartridge sold as THC"},
    {"cannabinoid", "herbal", "Herbal smoking mixture in a branded sachet"},
    {"stimulant", "tablet", "Tablets with a logo imprint"},
    {"cathinone", "capsule", "Capsules sold as MDMA"},
    {"cannabinoid", "paper", "Found in a prison mail search"},
    {"", "", "Submitted through a drug checking service"},
};

double PurityPercent(std::string_view substance_class, Rng& rng) {
  struct Purity {
    std::string_view substance_class;
    double mean, sd;
  };
  static constexpr Purity kPurities[] = {
      {"fentanyl", 12, 8},     {"nitazene", 8, 6},       {"opioid", 35, 15},
      {"stimulant", 65, 20},   {"cathinone", 70, 20},    {"benzodiazepine", 40, 25},
      {"cannabinoid", 60, 25}, {"dissociative", 75, 15}, {"hallucinogen", 50, 25},
      {"sedative", 30, 20},    {"adulterant", 20, 10},   {"precursor", 90, 8}};
  double mean = 50, sd = 20;
  for (const Purity& p : kPurities) {
    if (p.substance_class == substance_class) {
      mean = p.mean;
      sd = p.sd;
    }
  }
  return Round(std::clamp(mean + sd * rng.Normal(), 0.5, 99.5), 1);
}

// Bodies are built member by member: brace initialisation makes a two-element array for every
// member first, which doubled the allocations of the hottest loops.
json Quantity(double value, std::string_view unit) {
  json out = json::object();
  out["value"] = value;
  out["unit"] = unit;
  return out;
}

json Route(std::string_view origin, std::string_view transit, std::string_view destination) {
  json out = json::object();
  out["origin"] = origin;
  if (!transit.empty()) out["transit"] = json::array({transit});
  out["destination"] = destination;
  return out;
}

json SeizureQuantity(std::string_view form, std::string_view substance_class, Rng& rng) {
  if (form == "tablet" || form == "capsule" || form == "blotter" || form == "paper") {
    const double median = form == "tablet" ? 20 : form == "paper" ? 4 : 10;
    return Quantity(std::max(1.0, std::round(rng.LogNormal(median, 1.5))), "units");
  }
  if (form == "liquid") return Quantity(Round(rng.LogNormal(10, 1.2), 1) + 0.1, "ml");
  double median = 5;
  if (form == "herbal") median = 8;
  if (form == "other") median = 2;
  if (form == "powder") {
    if (substance_class == "fentanyl") median = 3;
    if (substance_class == "nitazene" || substance_class == "hallucinogen") median = 1;
    if (substance_class == "opioid") median = 10;
    if (substance_class == "stimulant") median = 15;
  }
  const double grams = rng.LogNormal(median, 1.6);
  if (grams >= 1000) return Quantity(Round(grams / 1000, 1), "kg");
  if (grams < 0.1) return Quantity(std::max(1.0, std::round(grams * 1000)), "mg");
  return Quantity(Round(grams, grams < 10 ? 2 : 1), "g");
}

void Generator::GenerateSeizures(std::size_t count) {
  Rng rng = Stream(kSeizure);
  using Weighted = std::vector<std::pair<std::string, double>>;
  static const Weighted kPowderMethods = {{"GC-MS", 0.5},        {"FTIR", 0.15},
                                          {"GC-MS, FTIR", 0.15}, {"LC-MS/MS", 0.1},
                                          {"LC-QTOF-MS", 0.05},  {"Raman", 0.05}};
  static const Weighted kTabletMethods = {{"GC-MS", 0.5},
                                          {"GC-MS, FTIR", 0.2},
                                          {"LC-MS/MS", 0.15},
                                          {"UHPLC-DAD", 0.1},
                                          {"Raman", 0.05}};
  for (const Cell& cell : SampleCells(kSeizure, count, rng)) {
    const DemoSubstance& s = ref_.substances[cell.row];
    const std::string& form = rng.Pick(forms_[cell.row]);

    std::vector<Mention> mentions = {{cell.row, ""}};
    AddCompanions(mentions, kSeizure, cell.place, cell.month, rng);
    json substances = json::array();
    for (const Mention& m : mentions) {
      json substance = SubstanceJson(m.row);
      if (!m.role.empty()) substance["role"] = m.role;
      if (m.role.empty() && (form == "powder" || form == "other") && rng.Chance(0.6)) {
        substance["purity_percent"] = PurityPercent(s.substance_class, rng);
      }
      substances.push_back(std::move(substance));
    }
    const int day = RandomDayIn(cell.month, rng);
    json body = json::object();
    body["kind"] = "seizure";
    body["distribution"] = Distribution(kSeizure, rng);
    body["date"] = IsoDate(FromDayNumber(day));
    body["place"] = PlaceJson(cell.place, 0.25, rng);
    body["substances"] = std::move(substances);
    body["form"] = form;
    if (rng.Chance(0.85)) body["quantity"] = SeizureQuantity(form, s.substance_class, rng);
    if (rng.Chance(0.8)) {
      const bool counted = form == "tablet" || form == "capsule";
      body["method"] = rng.Pick(counted ? kTabletMethods : kPowderMethods);
    }
    if (rng.Chance(0.3)) {
      std::string reference = "FS-";
      AppendDigits(reference, MonthOf(FromDayNumber(day)) / 12 % 100, 2);
      reference += '-';
      AppendDigits(reference, static_cast<int>(rng.Below(100000)), 5);
      body["source_reference"] = reference;
    }
    if (rng.Chance(0.03)) {
      std::vector<std::string_view> notes;
      for (const Note& n : kSeizureNotes) {
        if ((n.substance_class == s.substance_class && n.form == form) ||
            n.substance_class.empty()) {
          notes.push_back(n.text);
        }
      }
      body["notes"] = std::string(notes[rng.Below(notes.size())]);
    }
    Add(day, orgs_.lab[cell.place], std::move(body));
  }
}

// --- toxicology -------------------------------------------------------------------------------

json Generator::ToxicologyBody(std::vector<Mention> mentions, std::size_t place, int month,
                               bool fatal, bool in_cluster, Rng& rng,
                               std::size_t& organisation) const {
  using Weighted = std::vector<std::pair<std::string, double>>;
  static const Weighted kAgeBands = {{"0-14", 0.005}, {"15-24", 0.14}, {"25-34", 0.3},
                                     {"35-44", 0.27}, {"45-54", 0.16}, {"55-64", 0.09},
                                     {"65+", 0.035}};
  static const Weighted kSexes = {{"male", 0.7}, {"female", 0.28}, {"unknown", 0.02}};
  static const Weighted kLivingSettings = {{"emergency_department", 0.6},
                                           {"hospital", 0.15},
                                           {"ambulance", 0.1},
                                           {"poison_centre", 0.1},
                                           {"other", 0.05}};
  const std::string& country = ref_.places[place].country;

  const double extra = rng.Uniform();
  const int extras = extra < 0.5 ? 0 : extra < 0.85 ? 1 : 2;
  for (int i = 0; i < extras; ++i) {
    if (auto row = PickCoOccurring(mentions, place, month, rng)) {
      mentions.push_back({*row, "co_occurring"});
    }
  }
  AddCompanions(mentions, kToxicology, place, month, rng);
  json substances = json::array();
  for (const Mention& m : mentions) {
    json substance = SubstanceJson(m.row);
    if (!m.role.empty()) substance["role"] = m.role;
    substances.push_back(std::move(substance));
  }

  std::string setting;
  if (fatal && rng.Chance(0.8)) {
    organisation = orgs_.examiner.find(country)->second;
    setting = "medical_examiner";
  } else {
    organisation = orgs_.emergency[place];
    setting = fatal ? std::string("hospital") : rng.Pick(kLivingSettings);
  }
  // Cases are placed at the subdivision's centroid only: a case's own location is personal.
  json body = json::object();
  body["kind"] = "toxicology";
  body["distribution"] = Distribution(kToxicology, rng);
  body["place"] = PlaceJson(place, 0, rng);
  body["substances"] = std::move(substances);
  body["outcome"] = fatal ? "fatal" : "non_fatal";
  body["setting"] = std::move(setting);
  if (rng.Chance(0.92)) body["age_band"] = rng.Pick(kAgeBands);
  if (rng.Chance(0.95)) body["sex"] = rng.Pick(kSexes);
  if (in_cluster && rng.Chance(0.1)) {
    body["notes"] = "One of several similar presentations in the area within days";
  } else if (!in_cluster && rng.Chance(0.005)) {
    const bool opioid = std::any_of(mentions.begin(), mentions.end(), [&](const Mention& m) {
      const std::string& c = ref_.substances[m.row].substance_class;
      return c == "fentanyl" || c == "nitazene" || c == "opioid";
    });
    if (fatal) {
      body["notes"] = "Drug paraphernalia found at the scene";
    } else {
      body["notes"] = opioid ? "Reduced consciousness, responded to naloxone"
                             : "Agitation and tachycardia on arrival";
    }
  }
  return body;
}

void Generator::GenerateToxicology(std::size_t count) {
  Rng rng = Stream(kToxicology);
  for (const Cell& cell : SampleCells(kToxicology, count, rng)) {
    const std::string& substance_class = ref_.substances[cell.row].substance_class;
    const bool opioid = substance_class == "fentanyl" || substance_class == "nitazene" ||
                        substance_class == "opioid";
    const bool fatal = rng.Chance(opioid ? 0.35 : 0.12);
    std::size_t organisation = 0;
    json body =
        ToxicologyBody({{cell.row, ""}}, cell.place, cell.month, fatal, false, rng, organisation);
    const int day = RandomDayIn(cell.month, rng);
    body["date"] = IsoDate(FromDayNumber(day));
    Add(day, organisation, std::move(body));
  }
}

std::size_t Generator::ClusterCases(std::size_t per_cluster) const {
  std::size_t total = 0;
  for (const ScenarioCluster& cluster : kClusters) {
    const int start = DayNumber(ParseDay(cluster.start));
    const int end = std::min(start + cluster.days - 1, DayNumber(today_));
    if (end < start || !PlaceBySubdivision(cluster.subdivision)) continue;
    total += per_cluster * static_cast<std::size_t>(end - start + 1) /
             static_cast<std::size_t>(cluster.days);
  }
  return total;
}

void Generator::GenerateClusters(std::size_t per_cluster) {
  Rng rng = Stream(100);
  for (const ScenarioCluster& cluster : kClusters) {
    const auto place = PlaceBySubdivision(cluster.subdivision);
    const int start = DayNumber(ParseDay(cluster.start));
    const int end = std::min(start + cluster.days - 1, DayNumber(today_));
    if (!place || end < start) continue;
    std::vector<Mention> mentions;
    for (const std::string_view name : cluster.substances) {
      if (name.empty()) continue;
      if (auto row = RowByName(name)) {
        mentions.push_back({*row, mentions.empty() ? "" : "co_occurring"});
      }
    }
    if (mentions.empty()) continue;
    const std::size_t cases = per_cluster * static_cast<std::size_t>(end - start + 1) /
                              static_cast<std::size_t>(cluster.days);
    for (std::size_t i = 0; i < cases; ++i) {
      // Cases bunch in the middle of the episode.
      const double position = (rng.Uniform() + rng.Uniform()) / 2;
      const int day = start + static_cast<int>(position * (end - start + 1));
      std::size_t organisation = 0;
      json body = ToxicologyBody(mentions, *place, MonthOf(FromDayNumber(day)),
                                 rng.Chance(cluster.fatal_share), true, rng, organisation);
      body["date"] = IsoDate(FromDayNumber(day));
      Add(day, organisation, std::move(body));
    }
  }
}

// --- wastewater -------------------------------------------------------------------------------

void Generator::GenerateWastewater(std::size_t budget) {
  Rng rng = Stream(kWastewater);
  struct Series {
    std::size_t site, place, row;
    double load;
  };
  std::vector<Series> series;
  std::vector<int> site_start;  // first Monday of each site's series
  const int first_monday = DayNumber(Day(kFirstYear, 1, 7));
  for (std::size_t i = 0; i < std::size(kSites); ++i) {
    const int since = DayNumber(ParseDay(kSites[i].since));
    site_start.push_back(first_monday +
                         ((std::max(since, first_monday) - first_monday + 6) / 7) * 7);
    const auto place = PlaceBySubdivision(kSites[i].subdivision);
    if (!place) continue;
    for (std::size_t r = 0; r < ref_.substances.size(); ++r) {
      if (!HasKind(r, kWastewater)) continue;
      const DemoSubstance& s = ref_.substances[r];
      DemoSubstance as_presence;  // the load table read with the presence rules
      for (const DemoWeightedKey& l : s.wastewater_load) {
        as_presence.presence.push_back({l.key, 0, l.weight});
      }
      const double load = Resolve(as_presence, ref_.places[*place]).weight;
      if (load > 0) series.push_back({i, *place, r, load});
    }
  }
  // Every series whole when the budget allows. Otherwise as many sites (in kSites' order) as
  // can keep about three years of weekly history, all cut to the same latest weeks.
  const int last_start = DayNumber(today_) - 6;
  if (series.empty() || last_start < first_monday) return;
  const int last_monday = first_monday + (last_start - first_monday) / 7 * 7;
  std::size_t full = 0;
  for (const Series& s : series) {
    const int start = site_start[s.site];
    if (start <= last_monday) full += static_cast<std::size_t>((last_monday - start) / 7 + 1);
  }
  int from = first_monday;
  if (full > budget) {
    std::vector<std::size_t> site_ends;  // one past each site's last series
    for (std::size_t i = 0; i < series.size(); ++i) {
      if (i + 1 == series.size() || series[i + 1].site != series[i].site) {
        site_ends.push_back(i + 1);
      }
    }
    constexpr std::size_t kWeeksWanted = 156;
    const std::size_t per_site = series.size() / site_ends.size();
    const std::size_t sites =
        std::clamp<std::size_t>(budget / (per_site * kWeeksWanted), 1, site_ends.size());
    series.resize(site_ends[sites - 1]);
    const std::size_t weeks = budget / series.size();
    if (weeks == 0) return;
    from = std::max(first_monday, last_monday - static_cast<int>(weeks - 1) * 7);
  }

  for (const Series& s : series) {
    const DemoSubstance& analyte = ref_.substances[s.row];
    const DemoPlace& place = ref_.places[s.place];
    const std::string_view site_code = kSites[s.site].code;
    const double drift = -0.06 + 0.14 * rng.Uniform();  // per year
    const std::size_t organisation = orgs_.wastewater.find(place.country)->second;
    // A site stays where it is: its own stream places it near the centroid, the same each week.
    Rng site_rng = Stream(1000 + s.site);
    const json site_place = PlaceJson(s.place, 0.3, site_rng);
    for (int day = std::max(from, site_start[s.site]); day <= last_start; day += 7) {
      if (rng.Chance(0.03)) continue;  // a missed sample
      const sys_days start = FromDayNumber(day);
      const int month = MonthOf(start);
      double level = s.load * std::pow(1 + drift, (day - first_monday) / 365.25) *
                     Season(analyte.summer_peak, place.lat, DayOfYear(start) + 3) *
                     rng.LogNormal(1, 0.12);
      const Presence& presence = presence_[s.row * ref_.places.size() + s.place];
      if (presence.weight > 0) {
        level *= Shape(analyte.trend, analyte.trend_months, month - presence.arrival);
      }
      for (const ScenarioStep& step : kSteps) {
        if (step.site == site_code && step.analyte == analyte.name &&
            day >= DayNumber(ParseDay(step.from))) {
          level *= step.factor;
        }
      }
      json period = json::object();
      period["start"] = IsoDate(start);
      period["end"] = IsoDate(FromDayNumber(day + 6));
      json body = json::object();
      body["kind"] = "wastewater";
      body["distribution"] = Distribution(kWastewater, rng);
      body["place"] = site_place;
      body["site"] = site_code;
      body["period"] = std::move(period);
      body["analyte"] = SubstanceJson(s.row);
      body["load_mg_per_1000_per_day"] = Round(level, 1);
      Add(day, organisation, std::move(body));
    }
  }
}

// --- precursors -------------------------------------------------------------------------------

void Generator::GeneratePrecursors(std::size_t count) {
  Rng rng = Stream(kPrecursor);
  using Weighted = std::vector<std::pair<std::string, double>>;
  static const Weighted kNotes = {{"Declared as a different chemical on the shipping documents", 1},
                                  {"Consignment declared as a food additive", 1},
                                  {"Pre-export notification answered with an objection", 1}};
  for (const Cell& cell : SampleCells(kPrecursor, count, rng)) {
    const DemoSubstance& s = ref_.substances[cell.row];
    const std::string& destination = ref_.places[cell.place].country;
    std::vector<std::pair<std::string, double>> origins;
    for (const DemoWeightedKey& o : s.origins) {
      if (o.key != destination) origins.emplace_back(o.key, o.weight);
    }
    if (origins.empty()) continue;
    const std::string origin = rng.Pick(origins);
    std::string transit;
    const auto transits = TransitCountries().find(destination);
    if (transits != TransitCountries().end() && rng.Chance(0.25)) {
      transit = transits->second[rng.Below(transits->second.size())];
    }
    // Who stops it: mostly the destination's customs, sometimes a transit country's, and now
    // and then the exporting country before it leaves.
    std::string reporter = destination;
    const double who = rng.Uniform();
    if (who < 0.2 && !transit.empty() && orgs_.customs.count(transit)) {
      reporter = transit;
    } else if (who > 0.88 && orgs_.customs.count(origin)) {
      reporter = origin;
    }

    double quantity = rng.LogNormal(s.precursor_quantity, 0.9);
    if (rng.Chance(0.015)) quantity *= 25 + 95 * rng.Uniform();  // the odd huge consignment
    quantity = quantity >= 100 ? std::round(quantity) : Round(quantity, 1);

    std::string status;
    if (reporter == origin) {
      status = rng.Chance(0.7) ? "suspicious" : "stopped";
    } else {
      const double u = rng.Uniform();
      status = u < 0.55 ? "seized" : u < 0.8 ? "stopped" : "suspicious";
    }
    const int day = RandomDayIn(cell.month, rng);
    json body = json::object();
    body["kind"] = "precursor_incident";
    body["distribution"] = Distribution(kPrecursor, rng);
    body["date"] = IsoDate(FromDayNumber(day));
    body["chemical"] = SubstanceJson(cell.row);
    body["quantity"] = Quantity(std::max(quantity, 0.1), s.precursor_unit);
    body["route"] = Route(origin, transit, destination);
    body["status"] = status;
    if (reporter != destination || rng.Chance(0.85)) {
      const std::size_t port = reporter == destination ? cell.place : RandomPlaceIn(reporter, rng);
      body["place"] = PlaceJson(port, 0.1, rng);
    }
    if (rng.Chance(0.1)) body["notes"] = rng.Pick(kNotes);
    Add(day, orgs_.customs.find(reporter)->second, std::move(body));
  }
}

void Generator::GenerateLargeShipments() {
  Rng rng = Stream(101);
  for (const ScenarioShipment& shipment : kLargeShipments) {
    const sys_days day = ParseDay(shipment.date);
    const auto row = RowByName(shipment.chemical);
    const auto place = PlaceBySubdivision(shipment.stopped_in);
    if (day > today_ || !row || !place) continue;
    const std::string& reporter = ref_.places[*place].country;
    json body = json::object();
    body["kind"] = "precursor_incident";
    body["distribution"] = "trusted_group";
    body["date"] = IsoDate(day);
    body["place"] = PlaceJson(*place, 0.1, rng);
    body["chemical"] = SubstanceJson(*row);
    body["quantity"] = Quantity(shipment.quantity, shipment.unit);
    body["route"] = Route(shipment.origin, shipment.transit, shipment.destination);
    body["status"] = shipment.status;
    body["notes"] = "Declared as a different chemical on the shipping documents";
    Add(DayNumber(day), orgs_.customs.find(reporter)->second, std::move(body));
  }
}

// --- online listings --------------------------------------------------------------------------

void Generator::BuildVendors(std::size_t listings) {
  Rng rng = Stream(102);
  // Vendors per country follow the countries' share of listings.
  std::map<std::string, double, std::less<>> share;
  double total = 0;
  for (std::size_t p = 0; p < ref_.places.size(); ++p) {
    const double w = PlaceWeight(kOnline, p);
    share[ref_.places[p].country] += w;
    total += w;
  }
  const std::size_t wanted = std::clamp<std::size_t>(listings / 40, 40, 320);
  static const std::vector<std::pair<std::string, double>> kClassWeights = {
      {"stimulant", 3},     {"fentanyl", 1.5},  {"opioid", 1.5},     {"benzodiazepine", 2},
      {"cannabinoid", 1.5}, {"cathinone", 1.5}, {"dissociative", 1}, {"hallucinogen", 0.8},
      {"nitazene", 1},      {"sedative", 0.5},  {"precursor", 0.6}};
  static const std::vector<std::pair<std::size_t, double>> kPlatformWeights = {
      {0, 0.35}, {1, 0.25}, {2, 0.15}, {3, 0.15}, {4, 0.10}};
  std::set<std::string> handles;
  for (const auto& [country, weight] : share) {
    const auto count = std::max<std::size_t>(
        2, static_cast<std::size_t>(std::lround(static_cast<double>(wanted) * weight / total)));
    for (std::size_t i = 0; i < count; ++i) {
      Vendor v;
      do {
        static constexpr char kHex[] = "0123456789abcdef";
        v.handle = "vendor_";
        for (int k = 0; k < 4; ++k) v.handle += kHex[rng.Below(16)];
      } while (!handles.insert(v.handle).second);
      v.country = country;
      v.platform = rng.Pick(kPlatformWeights);
      v.second_platform = rng.Pick(kPlatformWeights);
      v.two_platforms = v.second_platform != v.platform && rng.Chance(0.2);
      const int classes = 1 + static_cast<int>(rng.Below(3));
      for (int k = 0; k < classes; ++k) v.classes.insert(rng.Pick(kClassWeights));
      const int span = last_month_ - first_month_ + 1;
      v.first_month =
          first_month_ - 12 + static_cast<int>(rng.Below(static_cast<std::size_t>(span) + 12));
      v.last_month = v.first_month + 3 + static_cast<int>(rng.LogNormal(18, 0.7));
      v.activity = 1 / std::pow(1 - rng.Uniform(), 0.7) - 0.5;
      vendors_of_country_[country].push_back(vendors_.size());
      vendors_.push_back(std::move(v));
    }
  }
}

void Generator::GenerateListings(std::size_t count) {
  BuildVendors(count);
  Rng rng = Stream(kOnline);
  for (const Cell& cell : SampleCells(kOnline, count, rng)) {
    const DemoSubstance& s = ref_.substances[cell.row];
    const std::string& country = ref_.places[cell.place].country;
    const std::vector<std::size_t>& candidates = vendors_of_country_.find(country)->second;
    // Active vendors of the country, those selling this class of drug far ahead of the rest.
    scratch_.clear();
    for (const std::size_t v : candidates) {
      const Vendor& vendor = vendors_[v];
      if (cell.month < vendor.first_month || cell.month > vendor.last_month) continue;
      scratch_.emplace_back(v,
                            vendor.activity * (vendor.classes.count(s.substance_class) ? 20 : 1));
    }
    if (scratch_.empty()) {
      for (const std::size_t v : candidates) scratch_.emplace_back(v, vendors_[v].activity);
    }
    const Vendor& vendor = vendors_[rng.Pick(scratch_)];
    const std::size_t platform =
        vendor.two_platforms && rng.Chance(0.3) ? vendor.second_platform : vendor.platform;

    const std::string& form = rng.Pick(forms_[cell.row]);
    double amount = 0;
    std::string unit;
    if (s.substance_class == "precursor") {
      static const std::vector<std::pair<double, double>> kKilograms = {
          {1, 0.3}, {5, 0.25}, {10, 0.2}, {25, 0.15}, {100, 0.1}};
      amount = rng.Pick(kKilograms);
      unit = "kg";
    } else if (form == "tablet" || form == "capsule" || form == "blotter" || form == "paper") {
      static const std::vector<std::pair<double, double>> kCounts = {
          {10, 0.3}, {20, 0.2}, {50, 0.2}, {100, 0.2}, {500, 0.1}};
      amount = rng.Pick(kCounts);
      unit = "units";
    } else if (form == "liquid") {
      static const std::vector<std::pair<double, double>> kMillilitres = {
          {1, 0.4}, {10, 0.4}, {30, 0.2}};
      amount = rng.Pick(kMillilitres);
      unit = "ml";
    } else {
      static const std::vector<std::pair<double, double>> kGrams = {
          {1, 0.25}, {2, 0.15}, {5, 0.2}, {10, 0.15}, {25, 0.1}, {50, 0.08}, {100, 0.07}};
      amount = rng.Pick(kGrams);
      unit = "g";
    }
    const bool counted = unit == "units";
    const double grams_or_units = unit == "kg" ? amount * 1000 : amount;
    const std::string_view currency = Currency(vendor.country);
    const double price = UsdPerUnit(s.substance_class, counted) * std::pow(grams_or_units, 0.85) *
                         rng.LogNormal(1, 0.3) * UsdRate(currency);

    const int day = RandomDayIn(cell.month, rng);
    json place = json::object();
    place["country"] = country;
    json body = json::object();
    body["kind"] = "online_listing";
    body["distribution"] = Distribution(kOnline, rng);
    body["date"] = IsoDate(FromDayNumber(day));
    body["place"] = std::move(place);
    body["platform"] = kPlatforms[platform];
    body["substance"] = SubstanceJson(cell.row);
    body["vendor_handle"] = vendor.handle;
    if (rng.Chance(0.9)) body["quantity"] = Quantity(amount, unit);
    if (rng.Chance(0.85)) {
      json offered = json::object();
      offered["amount"] = Round(price, price >= 100 ? 0 : 2);
      offered["currency"] = currency;
      body["price"] = std::move(offered);
    }
    // The monitoring unit of the vendor's country, else one of its region, else the first.
    auto monitor = orgs_.online.find(country);
    if (monitor == orgs_.online.end()) {
      for (auto it = orgs_.online.begin(); it != orgs_.online.end(); ++it) {
        const std::size_t home = places_of_country_.find(it->first)->second.front();
        if (ref_.places[home].region == ref_.places[cell.place].region) {
          monitor = it;
          break;
        }
      }
    }
    if (monitor == orgs_.online.end()) monitor = orgs_.online.begin();
    if (monitor == orgs_.online.end()) continue;
    Add(day, monitor->second, std::move(body));
  }
}

// --- the whole history ------------------------------------------------------------------------

DemoHistory Generator::Run() {
  IndexReference();
  BuildOrganisations();
  ResolvePresence();

  DemoHistory history;
  if (today_ >= Day(kFirstYear, 1, 1) && approx_ > 0) {
    last_month_ = MonthOf(today_);
    for (int m = first_month_; m <= last_month_; ++m) {
      days_in_month_.push_back(DayNumber(std::min(LastDayOfMonth(m), today_)) -
                               DayNumber(FirstDayOfMonth(m)) + 1);
    }
    // Shares of the history by kind: the wastewater series first (an eighth at most), the
    // scenario's clusters and shipments, then the sampled kinds.
    const std::size_t before = pending_.size();
    GenerateWastewater(approx_ * 12 / 100);
    const std::size_t wastewater = pending_.size() - before;
    const std::size_t per_cluster =
        approx_ >= 1000 ? std::clamp<std::size_t>(approx_ / 4000, 6, 60) : 0;
    const std::size_t clustered = ClusterCases(per_cluster);
    const std::size_t fixed =
        wastewater + clustered + (approx_ >= 1000 ? std::size(kLargeShipments) : 0);
    const std::size_t rest = approx_ > fixed ? approx_ - fixed : 0;
    const std::size_t seizures = rest * 46 / 100, cases = rest * 30 / 100,
                      listings = rest * 20 / 100;
    GenerateSeizures(seizures);
    GenerateToxicology(cases);
    if (per_cluster > 0) GenerateClusters(per_cluster);
    GenerateListings(listings);
    GeneratePrecursors(rest - seizures - cases - listings);
    if (approx_ >= 1000) GenerateLargeShipments();
  }

  std::sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
    return a.day != b.day ? a.day < b.day : a.sequence < b.sequence;
  });
  std::vector<std::size_t> issued(orgs_.list.size(), 0);
  history.reports.reserve(pending_.size());
  for (Pending& p : pending_) {
    const DemoOrganisation& org = orgs_.list[p.organisation];
    p.body["idempotency_key"] = "demo-" + org.id + "-" + std::to_string(++issued[p.organisation]);
    history.reports.push_back({org.id, std::move(p.body)});
  }
  history.organisations = std::move(orgs_.list);
  return history;
}

}  // namespace

Result<DemoReference> ParseDemoReference(std::string_view places_tsv,
                                         std::string_view substances_tsv) {
  auto places = ParsePlaces(places_tsv);
  if (!places.ok()) return places.status();
  auto substances = ParseSubstances(substances_tsv, *places);
  if (!substances.ok()) return substances.status();
  return DemoReference{std::move(*places), std::move(*substances)};
}

DemoHistory GenerateDemoHistory(const DemoReference& reference, std::chrono::sys_days today,
                                std::size_t approx_reports, std::uint64_t seed) {
  return Generator(reference, today, approx_reports, seed).Run();
}

}  // namespace sentinel::app
