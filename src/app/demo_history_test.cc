// The demo history: parsing the shipped tables, the generator's contract (size, order, keys,
// determinism, speed), the patterns docs/demo.md promises, and every body against the report
// validator.
#include "app/demo_history.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/common/text.h"
#include "core/reports/report.h"

namespace sentinel::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::sys_days;

constexpr auto kToday = sys_days{std::chrono::year{2025} / 9 / 30};
constexpr std::size_t kLargeSize = 200000;
constexpr std::uint64_t kSeed = 42;

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

const DemoReference& Reference() {
  static const DemoReference reference = [] {
    const fs::path dir = fs::path(SENTINEL_DATA_DIR) / "demo";
    auto parsed =
        ParseDemoReference(ReadText(dir / "places.tsv"), ReadText(dir / "substances.tsv"));
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    return parsed.ok() ? std::move(parsed).value() : DemoReference{};
  }();
  return reference;
}

const DemoHistory& Large() {
  static const DemoHistory history = GenerateDemoHistory(Reference(), kToday, kLargeSize, kSeed);
  return history;
}

// A report's date: its own, or its period's start (wastewater).
std::string DateOf(const json& body) {
  return body.contains("date") ? body["date"].get<std::string>()
                               : body["period"]["start"].get<std::string>();
}

std::string CountryOf(const json& body) {
  return body.contains("place") ? body["place"]["country"].get<std::string>()
                                : body["route"]["destination"].get<std::string>();
}

std::string SubdivisionOf(const json& body) {
  return body.contains("place") ? body["place"].value("subdivision", "") : "";
}

// Names of every substance a report mentions.
std::vector<std::string> NamesIn(const json& body) {
  std::vector<std::string> names;
  if (body.contains("substances")) {
    for (const json& s : body["substances"]) names.push_back(s.value("name", ""));
  }
  for (const char* key : {"analyte", "chemical", "substance"}) {
    if (body.contains(key)) names.push_back(body[key].value("name", ""));
  }
  return names;
}

bool Mentions(const json& body, std::string_view name) {
  const auto names = NamesIn(body);
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::set<std::string> NamesOfClass(std::string_view substance_class) {
  std::set<std::string> names;
  for (const DemoSubstance& s : Reference().substances) {
    if (s.substance_class == substance_class) names.insert(s.name);
  }
  return names;
}

// --- the reference tables ---------------------------------------------------------------------

TEST(DemoReferenceTest, ShippedTablesParse) {
  const DemoReference& reference = Reference();
  EXPECT_GE(reference.places.size(), 150u);
  EXPECT_GE(reference.substances.size(), 60u);
  std::set<std::string> countries;
  for (const DemoPlace& p : reference.places) countries.insert(p.country);
  for (const char* required : {"US", "CA", "MX", "CO", "GB", "IE", "NL", "BE", "DE", "EE",
                               "LV", "LT", "FR", "ES", "AU", "NZ", "CN", "IN", "ZA", "BR"}) {
    EXPECT_TRUE(countries.count(required)) << required;
  }
}

TEST(DemoReferenceTest, ErrorsNameTheLineAndColumn) {
  const std::string places =
      "country\tsubdivision\tname\tlat\tlon\tpopulation\tregion\tcoverage\n"
      "GB\tGB-ENG\tEngland\t52.4\t-1.5\t56.5\tuk_ireland\t1\n";
  const std::string header =
      "name\tclass\tkinds\tpresence\ttrend\tforms\twith\tspread\torigins\twastewater_load\t"
      "summer_peak\tprecursor_quantity\tsmiles\n";
  EXPECT_TRUE(ParseDemoReference(places, header + "Heroin\topioid\tseizure\tGB:2019-01:1\tsteady\t"
                                                  "powder:1\n")
                  .ok());

  auto unknown_place = ParseDemoReference(places, header +
                                                      "# comment\nHeroin\topioid\tseizure\t"
                                                      "FR:2019-01:1\tsteady\tpowder:1\n");
  ASSERT_FALSE(unknown_place.ok());
  EXPECT_NE(unknown_place.status().message().find("line 3, column presence"), std::string::npos)
      << unknown_place.status().message();

  auto unknown_kind = ParseDemoReference(
      places, header + "Heroin\topioid\tsighting\tGB:2019-01:1\tsteady\tpowder:1\n");
  ASSERT_FALSE(unknown_kind.ok());
  EXPECT_NE(unknown_kind.status().message().find("column kinds"), std::string::npos);

  auto missing_companion = ParseDemoReference(
      places, header + "Xylazine\tsedative\tseizure\tGB:2019-01:1\tsteady\t\tFentanyl\n");
  ASSERT_FALSE(missing_companion.ok());
  EXPECT_NE(missing_companion.status().message().find("Fentanyl"), std::string::npos);

  auto bad_subdivision = ParseDemoReference(
      "country\tsubdivision\tname\tlat\tlon\tpopulation\tregion\tcoverage\n"
      "GB\tIE-L\tLeinster\t53\t-7\t2.9\tuk_ireland\t1\n",
      header);
  ASSERT_FALSE(bad_subdivision.ok());
  EXPECT_NE(bad_subdivision.status().message().find("places.tsv line 2, column subdivision"),
            std::string::npos);

  EXPECT_FALSE(ParseDemoReference("country\tname\n", header).ok());
}

// The knowledge base gives a name to the first row (files in name order) that claims it, so a
// name is only safe when that row is the substance meant (a generic name listed as a synonym
// of one stereoisomer would resolve to that isomer).
TEST(DemoReferenceTest, NamesAreTheKnowledgeBasesOwnOrNew) {
  std::vector<fs::path> lists;
  for (const auto& entry : fs::directory_iterator(fs::path(SENTINEL_DATA_DIR) / "kb" / "lists")) {
    if (entry.path().extension() == ".tsv") lists.push_back(entry.path());
  }
  std::sort(lists.begin(), lists.end());
  ASSERT_FALSE(lists.empty());
  std::map<std::string, std::string> first_claim;  // lower-case name -> the row's own name
  for (const fs::path& list : lists) {
    bool header = true;
    for (const std::string& line : Split(ReadText(list), '\n')) {
      if (line.empty() || line[0] == '#') continue;
      if (header) {
        header = false;
        continue;
      }
      const std::vector<std::string> cells = Split(line, '\t');
      std::vector<std::string> names = {Trim(cells[0])};
      if (cells.size() > 1) {
        for (const std::string& synonym : Split(cells[1], '|')) names.push_back(Trim(synonym));
      }
      for (const std::string& n : names) {
        if (!n.empty()) first_claim.emplace(AsciiLower(n), Trim(cells[0]));
      }
    }
  }
  for (const DemoSubstance& s : Reference().substances) {
    const auto claim = first_claim.find(AsciiLower(s.name));
    if (s.smiles.empty()) {
      ASSERT_NE(claim, first_claim.end()) << s.name << " is unknown: give its SMILES";
      EXPECT_EQ(AsciiLower(claim->second), AsciiLower(s.name))
          << s.name << " resolves to " << claim->second;
    } else {
      EXPECT_EQ(claim, first_claim.end()) << s.name << " is known: drop its SMILES";
    }
  }
}

// --- the generator's contract -----------------------------------------------------------------

TEST(DemoHistoryTest, DeterministicForASeed) {
  const DemoHistory a = GenerateDemoHistory(Reference(), kToday, 20000, 7);
  const DemoHistory b = GenerateDemoHistory(Reference(), kToday, 20000, 7);
  const DemoHistory c = GenerateDemoHistory(Reference(), kToday, 20000, 8);
  ASSERT_EQ(a.reports.size(), b.reports.size());
  ASSERT_EQ(a.organisations.size(), b.organisations.size());
  for (std::size_t i = 0; i < a.organisations.size(); ++i) {
    EXPECT_EQ(a.organisations[i].id, b.organisations[i].id);
  }
  for (std::size_t i = 0; i < a.reports.size(); ++i) {
    ASSERT_EQ(a.reports[i].organisation_id, b.reports[i].organisation_id) << i;
    ASSERT_EQ(a.reports[i].body, b.reports[i].body) << i;
  }
  bool differs = a.reports.size() != c.reports.size();
  for (std::size_t i = 0; !differs && i < a.reports.size(); ++i) {
    differs = a.reports[i].body != c.reports[i].body;
  }
  EXPECT_TRUE(differs) << "another seed gave the same history";
}

TEST(DemoHistoryTest, SizeWithinTenPercentOfTheTarget) {
  for (const std::size_t target : {std::size_t{1000}, std::size_t{5000}, std::size_t{20000}}) {
    const auto n =
        static_cast<double>(GenerateDemoHistory(Reference(), kToday, target, 1).reports.size());
    EXPECT_NEAR(n, static_cast<double>(target), 0.1 * static_cast<double>(target)) << target;
  }
  EXPECT_NEAR(static_cast<double>(Large().reports.size()), kLargeSize, 0.1 * kLargeSize);
}

TEST(DemoHistoryTest, DatesInOrderFrom2019ToToday) {
  std::string previous = "2019-01-01";
  const std::string today = "2025-09-30";
  for (const DemoReport& r : Large().reports) {
    const std::string date = DateOf(r.body);
    ASSERT_LE(previous, date);
    ASSERT_LE(date, today);
    if (r.body.contains("period")) {
      ASSERT_LE(r.body["period"]["end"].get<std::string>(), today);
    }
    previous = date;
  }
  EXPECT_GE(previous, "2025-09-20") << "the history should reach today";
}

TEST(DemoHistoryTest, NoReportsBefore2019AndShortHistoriesEndToday) {
  const DemoHistory none =
      GenerateDemoHistory(Reference(), sys_days{std::chrono::year{2018} / 12 / 31}, 5000, 1);
  EXPECT_TRUE(none.reports.empty());
  EXPECT_FALSE(none.organisations.empty());

  const DemoHistory early =
      GenerateDemoHistory(Reference(), sys_days{std::chrono::year{2021} / 3 / 15}, 5000, 1);
  EXPECT_NEAR(static_cast<double>(early.reports.size()), 5000, 500);
  for (const DemoReport& r : early.reports) {
    ASSERT_LE(DateOf(r.body), "2021-03-15");
    if (r.body.contains("period")) {
      ASSERT_LE(r.body["period"]["end"].get<std::string>(), "2021-03-15");
    }
  }
}

TEST(DemoHistoryTest, EveryKindManyCountriesMixedDistribution) {
  std::map<std::string, std::size_t> kinds, distributions;
  std::set<std::string> countries;
  for (const DemoReport& r : Large().reports) {
    ++kinds[r.body["kind"].get<std::string>()];
    ++distributions[r.body["distribution"].get<std::string>()];
    countries.insert(CountryOf(r.body));
  }
  for (const char* kind :
       {"seizure", "toxicology", "wastewater", "precursor_incident", "online_listing"}) {
    EXPECT_GT(kinds[kind], 1000u) << kind;
  }
  EXPECT_GE(countries.size(), 15u);
  for (const char* d : {"organisation", "national", "trusted_group", "everyone"}) {
    EXPECT_GT(distributions[d], 0u) << d;
  }
  EXPECT_GT(distributions["national"] + distributions["everyone"], Large().reports.size() * 7 / 10);
}

TEST(DemoHistoryTest, KeysUniqueWithinEachKnownOrganisation) {
  std::map<std::string, const DemoOrganisation*> organisations;
  for (const DemoOrganisation& o : Large().organisations) {
    EXPECT_TRUE(organisations.emplace(o.id, &o).second) << "duplicate organisation " << o.id;
    EXPECT_FALSE(o.trusted_groups.empty()) << o.id;
    EXPECT_FALSE(o.role_hint.empty()) << o.id;
  }
  std::set<std::pair<std::string, std::string>> keys;
  for (const DemoReport& r : Large().reports) {
    ASSERT_TRUE(organisations.count(r.organisation_id)) << r.organisation_id;
    const std::string key = r.body["idempotency_key"].get<std::string>();
    ASSERT_LE(key.size(), 128u);
    ASSERT_TRUE(std::all_of(key.begin(), key.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == ':' ||
             c == '-';
    })) << key;
    ASSERT_TRUE(keys.insert({r.organisation_id, key}).second) << key;
  }
}

TEST(DemoHistoryTest, ToxicologyCarriesOnlyAgeBandAndSexOfThePerson) {
  const std::set<std::string> allowed = {"kind",    "idempotency_key", "distribution", "date",
                                         "place",   "notes",           "substances",   "outcome",
                                         "setting", "age_band",        "sex"};
  for (const DemoReport& r : Large().reports) {
    if (r.body["kind"] != "toxicology") continue;
    for (auto it = r.body.begin(); it != r.body.end(); ++it) {
      ASSERT_TRUE(allowed.count(it.key())) << it.key();
    }
  }
}

// Processor time rather than wall time, so that a busy build machine does not fail the test.
TEST(DemoHistoryTest, TwoHundredThousandReportsInUnderTwoSeconds) {
  const std::clock_t start = std::clock();
  const DemoHistory history = GenerateDemoHistory(Reference(), kToday, kLargeSize, 99);
  const double seconds = static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
  RecordProperty("seconds", std::to_string(seconds));
  EXPECT_FALSE(history.reports.empty());
#if defined(NDEBUG) && !defined(SENTINEL_SANITIZED)
  EXPECT_LT(seconds, 2.0);
#endif
}

// Every body passes the validator that guards the real submission paths.
TEST(DemoHistoryTest, EveryBodyIsAValidReport) {
  const auto pseudonymise = [](std::string_view handle) { return "p:" + std::string(handle); };
  std::size_t failures = 0;
  for (const DemoReport& r : Large().reports) {
    const reports::Validation v = reports::ValidateReport(r.body, pseudonymise, kToday);
    if (v.errors.empty()) continue;
    if (++failures <= 5) {
      ADD_FAILURE() << r.body.dump() << "\n  " << v.errors[0].path << ": " << v.errors[0].message;
    }
  }
  EXPECT_EQ(failures, 0u);
}

// --- the patterns docs/demo.md promises -------------------------------------------------------

TEST(DemoHistoryTest, NoNitazeneInBritainOrIrelandBefore2023) {
  const std::set<std::string> nitazenes = NamesOfClass("nitazene");
  std::size_t after = 0;
  for (const DemoReport& r : Large().reports) {
    const std::string country = CountryOf(r.body);
    if (country != "GB" && country != "IE") continue;
    for (const std::string& name : NamesIn(r.body)) {
      if (!nitazenes.count(name)) continue;
      ASSERT_GE(DateOf(r.body), "2023-01-01") << r.body.dump();
      ++after;
    }
  }
  EXPECT_GT(after, 500u);
}

TEST(DemoHistoryTest, XylazineComesWithFentanylAndSpreadsFromPennsylvania) {
  std::map<std::string, std::string> first_seen;  // subdivision -> date
  for (const DemoReport& r : Large().reports) {
    const std::string kind = r.body["kind"];
    if ((kind != "seizure" && kind != "toxicology") || !Mentions(r.body, "Xylazine")) continue;
    ASSERT_TRUE(Mentions(r.body, "Fentanyl")) << r.body.dump();
    ASSERT_TRUE(CountryOf(r.body) == "US" || CountryOf(r.body) == "CA") << r.body.dump();
    ASSERT_GE(DateOf(r.body), "2020-01-01");
    first_seen.emplace(SubdivisionOf(r.body), DateOf(r.body));
  }
  ASSERT_TRUE(first_seen.count("US-PA"));
  ASSERT_TRUE(first_seen.count("US-CA"));
  EXPECT_LT(first_seen["US-PA"], "2020-07-01");
  EXPECT_GT(first_seen["US-CA"], "2022-06-01") << "xylazine reached California too early";
  EXPECT_GT(first_seen.size(), 40u) << "xylazine should reach most states";
}

TEST(DemoHistoryTest, MedetomidineFrom2024InUsWithFentanylAsANewSubstance) {
  std::size_t seen = 0;
  for (const DemoReport& r : Large().reports) {
    if (!r.body.contains("substances")) continue;
    for (const json& s : r.body["substances"]) {
      if (s.value("name", "") != "Medetomidine") continue;
      ++seen;
      EXPECT_FALSE(s.value("smiles", "").empty());
      ASSERT_GE(DateOf(r.body), "2024-01-01");
      ASSERT_EQ(CountryOf(r.body), "US");
      ASSERT_TRUE(Mentions(r.body, "Fentanyl"));
    }
  }
  EXPECT_GT(seen, 50u);
}

TEST(DemoHistoryTest, CarfentanilReturnsIn2024) {
  std::size_t quiet = 0, resurgence = 0;  // 2022-2023 (24 months); Oct 2024 - Sep 2025 (12)
  for (const DemoReport& r : Large().reports) {
    if (!Mentions(r.body, "Carfentanil")) continue;
    const std::string date = DateOf(r.body);
    if (date >= "2022-01-01" && date < "2024-01-01") ++quiet;
    if (date >= "2024-10-01") ++resurgence;
  }
  EXPECT_GT(static_cast<double>(resurgence) / 12, 3.0 * static_cast<double>(quiet) / 24)
      << quiet << " in 2022-23, " << resurgence << " in the last year";
}

TEST(DemoHistoryTest, BromazolamRisesFrom2021) {
  std::map<std::string, std::size_t> by_year;
  for (const DemoReport& r : Large().reports) {
    if (Mentions(r.body, "Bromazolam")) ++by_year[DateOf(r.body).substr(0, 4)];
  }
  EXPECT_EQ(by_year["2019"] + by_year["2020"], 0u);
  EXPECT_GT(by_year["2023"], 2 * by_year["2021"]);
}

TEST(DemoHistoryTest, SyntheticCannabinoidsMostlyInEurope) {
  const std::set<std::string> cannabinoids = NamesOfClass("cannabinoid");
  const std::set<std::string> europe = {"GB", "IE", "NL", "BE", "DE", "EE", "LV", "LT", "FR",
                                        "ES", "PL", "CZ", "AT", "SE", "FI", "PT", "IT"};
  std::size_t in_europe = 0, elsewhere = 0;
  for (const DemoReport& r : Large().reports) {
    if (r.body["kind"] != "seizure") continue;
    if (!cannabinoids.count(NamesIn(r.body).front())) continue;
    (europe.count(CountryOf(r.body)) ? in_europe : elsewhere)++;
  }
  EXPECT_GT(in_europe, 2 * elsewhere);
}

TEST(DemoHistoryTest, WastewaterWeeklySeriesWithSummerPeaksAndSteps) {
  std::map<std::string, std::set<std::string>> analytes_by_site;
  std::map<std::string, std::vector<std::pair<std::string, double>>> series;  // site|analyte
  for (const DemoReport& r : Large().reports) {
    if (r.body["kind"] != "wastewater") continue;
    const std::string site = r.body["site"], analyte = r.body["analyte"]["name"];
    analytes_by_site[site].insert(analyte);
    const std::string start = r.body["period"]["start"], end = r.body["period"]["end"];
    const auto days = (sys_days{std::chrono::year{std::stoi(end.substr(0, 4))} /
                                std::stoi(end.substr(5, 2)) / std::stoi(end.substr(8, 2))} -
                       sys_days{std::chrono::year{std::stoi(start.substr(0, 4))} /
                                std::stoi(start.substr(5, 2)) / std::stoi(start.substr(8, 2))})
                          .count();
    ASSERT_EQ(days, 6);
    series[site + "|" + analyte].push_back(
        {start, r.body["load_mg_per_1000_per_day"].get<double>()});
  }
  EXPECT_GE(analytes_by_site.size(), 18u);
  for (const auto& [site, analytes] : analytes_by_site) {
    EXPECT_EQ(analytes, (std::set<std::string>{"Cocaine", "MDMA", "Metamfetamine"})) << site;
  }
  auto mean = [&](const std::string& key, auto keep) {
    double sum = 0;
    std::size_t n = 0;
    for (const auto& [start, load] : series[key]) {
      if (keep(start)) {
        sum += load;
        ++n;
      }
    }
    return n ? sum / static_cast<double>(n) : 0.0;
  };
  const double july =
      mean("NL-NH-01|MDMA", [](const std::string& d) { return d.substr(5, 2) == "07"; });
  const double january =
      mean("NL-NH-01|MDMA", [](const std::string& d) { return d.substr(5, 2) == "01"; });
  EXPECT_GT(july, 1.3 * january);
  const double southern_january =
      mean("AU-NSW-01|MDMA", [](const std::string& d) { return d.substr(5, 2) == "01"; });
  const double southern_july =
      mean("AU-NSW-01|MDMA", [](const std::string& d) { return d.substr(5, 2) == "07"; });
  EXPECT_GT(southern_january, 1.3 * southern_july);
  auto window = [](std::string from, std::string to) {
    return [=](const std::string& d) { return d >= from && d < to; };
  };
  EXPECT_GT(mean("NZ-AUK-01|Metamfetamine", window("2022-10-01", "2023-10-01")),
            1.4 * mean("NZ-AUK-01|Metamfetamine", window("2021-08-01", "2022-08-01")));
}

// A small history keeps fewer sites, each with about three years up to today.
TEST(DemoHistoryTest, SmallHistoriesKeepRecentWastewaterAtSeveralSites) {
  const DemoHistory small = GenerateDemoHistory(Reference(), kToday, 20000, 3);
  std::map<std::string, std::string> first_week;
  std::string last_end;
  for (const DemoReport& r : small.reports) {
    if (r.body["kind"] != "wastewater") continue;
    first_week.emplace(r.body["site"].get<std::string>(), DateOf(r.body));
    last_end = std::max(last_end, r.body["period"]["end"].get<std::string>());
  }
  EXPECT_GE(first_week.size(), 4u);
  EXPECT_LT(first_week.size(), 20u);
  EXPECT_GE(last_end, "2025-09-24");
  for (const auto& [site, first] : first_week) EXPECT_LT(first, "2022-12-01") << site;
}

TEST(DemoHistoryTest, PrecursorsFromChinaAndIndiaSometimesHuge) {
  std::map<std::string, std::vector<double>> quantities;
  std::set<std::string> destinations;
  for (const DemoReport& r : Large().reports) {
    if (r.body["kind"] != "precursor_incident") continue;
    const std::string origin = r.body["route"]["origin"];
    ASSERT_TRUE(origin == "CN" || origin == "IN") << r.body.dump();
    destinations.insert(r.body["route"]["destination"].get<std::string>());
    quantities[r.body["chemical"]["name"]].push_back(r.body["quantity"]["value"].get<double>());
  }
  for (const char* d : {"MX", "US", "CA", "NL"}) EXPECT_TRUE(destinations.count(d)) << d;
  std::size_t huge = 0;
  for (auto& [chemical, values] : quantities) {
    std::sort(values.begin(), values.end());
    const double median = values[values.size() / 2];
    huge += static_cast<std::size_t>(
        std::count_if(values.begin(), values.end(), [&](double v) { return v > 20 * median; }));
  }
  EXPECT_GE(huge, 10u);
}

TEST(DemoHistoryTest, OnlineListingsByAFewHundredFictionalVendors) {
  std::map<std::string, std::set<std::string>> platforms_of;
  for (const DemoReport& r : Large().reports) {
    if (r.body["kind"] != "online_listing") continue;
    const std::string handle = r.body["vendor_handle"];
    ASSERT_EQ(handle.size(), 11u);
    ASSERT_EQ(handle.substr(0, 7), "vendor_");
    ASSERT_TRUE(std::all_of(handle.begin() + 7, handle.end(), [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    })) << handle;
    platforms_of[handle].insert(r.body["platform"].get<std::string>());
  }
  EXPECT_GE(platforms_of.size(), 150u);
  EXPECT_LE(platforms_of.size(), 500u);
  std::set<std::string> platforms;
  std::size_t on_two = 0;
  for (const auto& [handle, on] : platforms_of) {
    platforms.insert(on.begin(), on.end());
    on_two += on.size() > 1;
  }
  EXPECT_GE(platforms.size(), 4u);
  EXPECT_GT(on_two, 10u);
}

// Each cluster's weeks hold several times the subdivision's usual toxicology cases.
TEST(DemoHistoryTest, OverdoseClustersStandOut) {
  struct Cluster {
    std::string subdivision, from, to, year_before;  // the episode [from, to); a baseline year
    double days;
  };
  const Cluster clusters[] = {{"GB-SCT", "2023-08-07", "2023-08-28", "2022-08-07", 21},
                              {"IE-L", "2023-11-20", "2023-12-06", "2022-11-20", 16},
                              {"US-OH", "2024-06-10", "2024-06-28", "2023-06-10", 18},
                              {"US-PA", "2024-09-02", "2024-09-18", "2023-09-02", 16}};
  for (const Cluster& c : clusters) {
    std::size_t in_episode = 0, in_year = 0;
    for (const DemoReport& r : Large().reports) {
      if (r.body["kind"] != "toxicology" || SubdivisionOf(r.body) != c.subdivision) continue;
      const std::string date = DateOf(r.body);
      if (date >= c.from && date < c.to) ++in_episode;
      if (date >= c.year_before && date < c.from) ++in_year;
    }
    const double usual = static_cast<double>(in_year) / 365 * c.days;
    EXPECT_GT(static_cast<double>(in_episode), 3 * usual + 10)
        << c.subdivision << ": " << in_episode << " cases against " << usual << " usually";
  }
}

}  // namespace
}  // namespace sentinel::app
