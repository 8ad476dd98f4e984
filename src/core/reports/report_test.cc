// The report contract (docs/reports.md): every body in test/cases/reports/valid is accepted,
// every case in test/cases/reports/invalid is refused with exactly its errors (see the README
// there), and no JSON at all makes the validator throw.
#include "core/reports/report.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace sentinel::reports {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using std::chrono::sys_days;

// Every case is judged on the same day, so "not in the future" does not drift with the clock.
const sys_days kToday{std::chrono::year{2026} / 6 / 30};

std::string FakePseudonym(std::string_view handle) { return "pseudonym-of:" + std::string(handle); }

Validation Validate(const json& body) { return ValidateReport(body, FakePseudonym, kToday); }

json ReadJson(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return json::parse(text.str());
}

std::vector<fs::path> CaseFiles(const std::string& folder) {
  std::vector<fs::path> files;
  for (const auto& e :
       fs::directory_iterator(fs::path(SENTINEL_TEST_CASES_DIR) / "reports" / folder)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string Listed(const std::vector<FieldError>& errors) {
  std::string out;
  for (const auto& e : errors) out += "\n  " + e.path + ": " + e.message;
  return out.empty() ? " (none)" : out;
}

json ValidBody(const std::string& name) {
  return ReadJson(fs::path(SENTINEL_TEST_CASES_DIR) / "reports" / "valid" / (name + ".json"));
}

TEST(ReportNames, RoundTrip) {
  for (const Kind kind : {Kind::kSeizure, Kind::kToxicology, Kind::kWastewater,
                          Kind::kPrecursorIncident, Kind::kOnlineListing}) {
    EXPECT_EQ(ParseKind(KindName(kind)), kind);
  }
  for (const Distribution d : {Distribution::kOrganisation, Distribution::kNational,
                               Distribution::kTrustedGroup, Distribution::kEveryone}) {
    EXPECT_EQ(ParseDistribution(DistributionName(d)), d);
  }
  EXPECT_EQ(KindName(Kind::kPrecursorIncident), "precursor_incident");
  EXPECT_EQ(DistributionName(Distribution::kTrustedGroup), "trusted_group");
  EXPECT_FALSE(ParseKind("Seizure"));
  EXPECT_FALSE(ParseKind(""));
  EXPECT_FALSE(ParseDistribution("public"));
}

TEST(ReportCases, EveryValidBodyIsAccepted) {
  const auto files = CaseFiles("valid");
  ASSERT_GE(files.size(), 10U);
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    const json body = ReadJson(path);
    const Validation v = Validate(body);
    ASSERT_TRUE(v.errors.empty()) << Listed(v.errors);
    ASSERT_TRUE(v.report.has_value());
    const Report& r = *v.report;
    EXPECT_EQ(KindName(r.kind), body["kind"].get<std::string>());
    EXPECT_EQ(DistributionName(r.distribution), body["distribution"].get<std::string>());
    EXPECT_EQ(r.idempotency_key, body["idempotency_key"].get<std::string>());
    EXPECT_EQ(r.country.size(), 2U);
    EXPECT_LE(r.date, kToday);
    EXPECT_FALSE(r.substances.empty());
    for (const auto& s : r.substances) {
      EXPECT_EQ(s.path.rfind("$.", 0), 0U) << s.path;
      EXPECT_FALSE(s.name.empty() && s.smiles.empty() && s.inchi.empty() && s.spectrum.empty());
      EXPECT_FALSE(s.role.empty());
    }
    EXPECT_FALSE(r.body.contains("vendor_handle"));
    if (body.contains("vendor_handle")) {
      EXPECT_EQ(r.body["vendor_pseudonym"],
                FakePseudonym(body["vendor_handle"].get<std::string>()));
      json without = r.body;
      without.erase("vendor_pseudonym");
      json expected = body;
      expected.erase("vendor_handle");
      EXPECT_EQ(without, expected);
    } else {
      EXPECT_EQ(r.body, body);
    }
  }
}

TEST(ReportCases, EveryInvalidBodyIsRefusedWithExactlyItsErrors) {
  const auto files = CaseFiles("invalid");
  ASSERT_GE(files.size(), 40U);
  for (const auto& path : files) {
    SCOPED_TRACE(path.filename().string());
    const json test_case = ReadJson(path);
    ASSERT_TRUE(test_case.contains("body") && test_case["errors"].is_array());
    const Validation v = Validate(test_case["body"]);
    EXPECT_FALSE(v.report.has_value());
    const json& expected = test_case["errors"];
    ASSERT_FALSE(expected.empty());
    ASSERT_EQ(v.errors.size(), expected.size()) << "got:" << Listed(v.errors);
    for (std::size_t i = 0; i < expected.size(); ++i) {
      EXPECT_EQ(v.errors[i].path, expected[i][0].get<std::string>()) << "got:" << Listed(v.errors);
      EXPECT_NE(v.errors[i].message.find(expected[i][1].get<std::string>()), std::string::npos)
          << v.errors[i].path << ": '" << v.errors[i].message << "' does not contain '"
          << expected[i][1].get<std::string>() << "'";
    }
  }
}

TEST(ValidateReport, FillsTheReportFromASeizure) {
  const Validation v = Validate(ValidBody("seizure_full"));
  ASSERT_TRUE(v.report) << Listed(v.errors);
  const Report& r = *v.report;
  EXPECT_EQ(r.kind, Kind::kSeizure);
  EXPECT_EQ(r.distribution, Distribution::kNational);
  EXPECT_EQ(r.date, sys_days{std::chrono::year{2026} / 3 / 14});
  EXPECT_EQ(r.country, "US");
  EXPECT_EQ(r.subdivision, "US-OH");
  EXPECT_DOUBLE_EQ(r.lat.value_or(0), 39.9612);
  EXPECT_DOUBLE_EQ(r.lon.value_or(0), -82.9988);
  EXPECT_EQ(r.form, "tablet");
  ASSERT_EQ(r.substances.size(), 4U);
  EXPECT_EQ(r.substances[0].path, "$.substances[0]");
  EXPECT_EQ(r.substances[0].name, "para-Fluorofentanyl");
  EXPECT_EQ(r.substances[0].role, "main");
  EXPECT_DOUBLE_EQ(r.substances[0].purity_percent.value_or(-1), 12.5);
  EXPECT_EQ(r.substances[1].role, "adulterant");
  EXPECT_FALSE(r.substances[1].smiles.empty());
  EXPECT_EQ(r.substances[2].role, "co_occurring");
  EXPECT_FALSE(r.substances[2].purity_percent);
  EXPECT_EQ(r.substances[3].spectrum, "SWGDRUG:Mannitol");
  EXPECT_EQ(r.substances[3].role, "diluent");

  const Validation minimal = Validate(ValidBody("seizure_minimal"));
  ASSERT_TRUE(minimal.report);
  EXPECT_EQ(minimal.report->substances[0].role, "main");  // the default
  EXPECT_TRUE(minimal.report->subdivision.empty());
  EXPECT_FALSE(minimal.report->lat || minimal.report->lon);
}

TEST(ValidateReport, FillsTheReportFromTheOtherKinds) {
  const Validation wastewater = Validate(ValidBody("wastewater_minimal"));
  ASSERT_TRUE(wastewater.report) << Listed(wastewater.errors);
  EXPECT_EQ(wastewater.report->date, sys_days{std::chrono::year{2026} / 3 / 9});  // period start
  ASSERT_EQ(wastewater.report->substances.size(), 1U);
  EXPECT_EQ(wastewater.report->substances[0].role, "analyte");
  EXPECT_EQ(wastewater.report->substances[0].path, "$.analyte");
  EXPECT_TRUE(wastewater.report->form.empty());

  const Validation by_route = Validate(ValidBody("precursor_incident_minimal"));
  ASSERT_TRUE(by_route.report) << Listed(by_route.errors);
  EXPECT_EQ(by_route.report->country, "MX");  // no place: the destination
  EXPECT_EQ(by_route.report->substances[0].role, "chemical");
  const Validation by_place = Validate(ValidBody("precursor_incident_full"));
  ASSERT_TRUE(by_place.report) << Listed(by_place.errors);
  EXPECT_EQ(by_place.report->country, "NL");  // where it was stopped
  EXPECT_EQ(by_place.report->subdivision, "NL-ZH");

  const Validation listing = Validate(ValidBody("online_listing_full"));
  ASSERT_TRUE(listing.report) << Listed(listing.errors);
  EXPECT_EQ(listing.report->substances[0].role, "offered");
  EXPECT_EQ(listing.report->body["vendor_pseudonym"], "pseudonym-of:@chem_king_uk");
  const std::string stored = listing.report->body.dump();
  EXPECT_EQ(stored.find("chem_king"), stored.rfind("chem_king"));  // only inside the pseudonym

  const Validation toxicology = Validate(ValidBody("toxicology_full"));
  ASSERT_TRUE(toxicology.report) << Listed(toxicology.errors);
  ASSERT_EQ(toxicology.report->substances.size(), 4U);
  EXPECT_EQ(toxicology.report->substances[3].role, "co_occurring");
}

TEST(ValidateReport, AVendorHandleNeedsAPseudonymiser) {
  const Validation v = ValidateReport(ValidBody("online_listing_full"), nullptr, kToday);
  EXPECT_FALSE(v.report);
  ASSERT_EQ(v.errors.size(), 1U);
  EXPECT_EQ(v.errors[0].path, "$.vendor_handle");
  EXPECT_TRUE(ValidateReport(ValidBody("online_listing_minimal"), nullptr, kToday).report);
}

TEST(ValidateReport, PersonalDataIsNeverEchoed) {
  json body = ValidBody("seizure_minimal");
  body["notes"] = "call +44 20 7946 0958 or write to jane.doe@example.org";
  body["source_reference"] = "SSN 123-45-6789";
  const Validation v = Validate(body);
  ASSERT_EQ(v.errors.size(), 2U) << Listed(v.errors);
  for (const auto& e : v.errors) {
    for (const char* datum : {"7946", "jane", "6789"}) {
      EXPECT_EQ(e.message.find(datum), std::string::npos) << e.message;
    }
  }
}

TEST(ValidateReport, AnOversizedBodyIsRefusedAtTheRoot) {
  json body = ValidBody("seizure_minimal");
  body["substances"] = json::array();
  for (int i = 0; i < 20; ++i) body["substances"].push_back({{"smiles", std::string(4000, 'C')}});
  ASSERT_GT(body.dump().size(), kMaxReportBytes);
  const Validation v = Validate(body);
  EXPECT_FALSE(v.report);
  ASSERT_EQ(v.errors.size(), 1U) << Listed(v.errors);
  EXPECT_EQ(v.errors[0].path, "$");
  EXPECT_NE(v.errors[0].message.find("larger than 65536 bytes"), std::string::npos);

  // Exactly at the limit is accepted: the limit is on body.dump(), as the store writes it.
  // 4,000 characters is the SMILES limit, so the filler is spread over several substances.
  json at_limit = ValidBody("seizure_minimal");
  // Text that dump() escapes, so that the validator's count of the escapes is checked too.
  at_limit["substances"].push_back({{"smiles", "q\"b\\n\nt\tc\x01\x1f/\x7f\u00e9\u4e2d"}});
  const std::size_t remaining = kMaxReportBytes - at_limit.dump().size();
  const std::size_t overhead = json({{"smiles", ""}}).dump().size() + 1;  // and a comma
  const std::size_t chunks = (remaining + overhead + 3999) / (overhead + 4000);
  std::size_t chars = remaining - chunks * overhead;
  for (std::size_t i = 0; i < chunks; ++i) {
    const std::size_t here = chars / (chunks - i);
    at_limit["substances"].push_back({{"smiles", std::string(here, 'C')}});
    chars -= here;
  }
  ASSERT_EQ(at_limit.dump().size(), kMaxReportBytes);
  EXPECT_TRUE(Validate(at_limit).report) << Listed(Validate(at_limit).errors);
  at_limit["substances"].back()["smiles"] =
      at_limit["substances"].back()["smiles"].get<std::string>() + "C";
  EXPECT_EQ(Validate(at_limit).errors.at(0).path, "$");
}

TEST(ValidateReport, DeepNestingIsRefusedWithoutRecursion) {
  constexpr int kDepth = 200000;
  const std::string nested = std::string(kDepth, '[') + std::string(kDepth, ']');
  const json root = json::parse(nested);
  const Validation at_root = Validate(root);
  ASSERT_EQ(at_root.errors.size(), 1U);
  EXPECT_EQ(at_root.errors[0].path, "$");

  const json body = json::parse(R"({"kind": "seizure", "notes": )" + nested + "}");
  const Validation in_field = Validate(body);
  EXPECT_FALSE(in_field.report);
  ASSERT_FALSE(in_field.errors.empty());
  EXPECT_EQ(in_field.errors[0].path, "$");  // the size
}

TEST(ValidateReport, ErrorsAreBounded) {
  json body = ValidBody("seizure_minimal");
  for (int i = 0; i < 1000; ++i) body["unknown_" + std::to_string(1000 + i)] = i;
  const Validation v = Validate(body);
  ASSERT_EQ(v.errors.size(), 257U);
  EXPECT_EQ(v.errors[0].path, "$.unknown_1000");
  EXPECT_EQ(v.errors.back().path, "$");
  EXPECT_NE(v.errors.back().message.find("more than 256 errors"), std::string::npos);
}

TEST(ValidateReport, ValuesNoParserProducesAreRefusedNotThrown) {
  json body = ValidBody("seizure_full");
  body["notes"] = std::string("bad \xff\xfe bytes");
  body["place"]["lat"] = std::nan("");
  body["place"]["lon"] = std::numeric_limits<double>::infinity();
  body["substances"][0]["purity_percent"] = -std::numeric_limits<double>::infinity();
  body[std::string("key \xc3")] = 1;
  body["method"] = json::binary({1, 2, 3});
  const Validation v = Validate(body);
  EXPECT_FALSE(v.report);
  std::vector<std::string> paths;
  for (const auto& e : v.errors) {
    paths.push_back(e.path);
    EXPECT_NO_THROW((void)json(e.path).dump()) << "path is not valid UTF-8";
    EXPECT_NO_THROW((void)json(e.message).dump()) << "message is not valid UTF-8";
  }
  const std::vector<std::string> expected = {
      "$[\"key \xef\xbf\xbd\"]",       "$.method", "$.notes", "$.place.lat", "$.place.lon",
      "$.substances[0].purity_percent"};
  EXPECT_EQ(paths, expected) << Listed(v.errors);
}

// Mutates valid bodies at random (deterministically) and checks the contract's invariants: no
// exception, a report exactly when there is no error, and errors that name a path.
TEST(ValidateReport, RandomlyMutatedBodiesNeverThrow) {
  std::vector<json> seeds;
  for (const auto& path : CaseFiles("valid")) seeds.push_back(ReadJson(path));
  ASSERT_FALSE(seeds.empty());
  std::mt19937_64 random(20260630);
  const auto pick = [&](std::size_t n) {
    return static_cast<std::size_t>(std::uniform_int_distribution<std::size_t>(0, n - 1)(random));
  };
  const std::vector<json> replacements = {
      nullptr,
      true,
      0,
      -1,
      1.7976931348623157e308,
      -1e-300,
      json(std::numeric_limits<std::int64_t>::min()),
      json(std::numeric_limits<std::uint64_t>::max()),
      std::nan(""),
      "",
      "x",
      std::string(5000, 'y'),
      "2026-02-30",
      "9999-12-31",
      "GB",
      "gb",
      "US-OH",
      "InChI=1S/",
      "SWGDRUG:",
      "DOB 12/05/1990",
      "+44 20 7946 0958",
      std::string("\xff\xc0\x80"),
      json::array(),
      json::array({1, "a", nullptr}),
      json::object(),
      json::object({{"name", "x"}}),
      json::binary({0, 1}),
      json::parse(std::string(3000, '[') + std::string(3000, ']')),
  };
  const std::vector<std::string> keys = {"kind",    "date",       "place",  "country", "lat",
                                         "name",    "smiles",     "period", "start",   "dob",
                                         "patient", "substances", "x",      "",        "role"};
  int accepted = 0;
  constexpr int kRounds = 6000;
  for (int round = 0; round < kRounds; ++round) {
    json body = seeds[pick(seeds.size())];
    const int mutations = 1 + static_cast<int>(pick(4));
    for (int m = 0; m < mutations; ++m) {
      // Choose a container inside the body: the root, or one reached by descending at random.
      json* target = &body;
      while (!target->empty() && (target->is_object() || target->is_array()) && pick(3) == 0) {
        auto it = target->begin();
        std::advance(it, static_cast<std::ptrdiff_t>(pick(target->size())));
        if (!it->is_object() && !it->is_array()) break;
        target = &*it;
      }
      const std::size_t action = pick(5);
      if (target->is_object() && !target->empty() && action <= 1) {
        auto it = target->begin();
        std::advance(it, static_cast<std::ptrdiff_t>(pick(target->size())));
        if (action == 0) {
          *it = replacements[pick(replacements.size())];
        } else {
          target->erase(it);
        }
      } else if (target->is_object() && action == 2) {
        (*target)[keys[pick(keys.size())]] = replacements[pick(replacements.size())];
      } else if (target->is_array() && !target->empty() && action <= 2) {
        (*target)[pick(target->size())] = replacements[pick(replacements.size())];
      } else if (target->is_array() && action == 3) {
        target->push_back(replacements[pick(replacements.size())]);
      } else if (action == 4 && pick(20) == 0) {
        body = replacements[pick(replacements.size())];
        break;
      }
    }
    Validation v;
    ASSERT_NO_THROW(v = Validate(body)) << "round " << round;
    ASSERT_EQ(v.report.has_value(), v.errors.empty()) << "round " << round;
    for (const auto& e : v.errors) {
      ASSERT_EQ(e.path.rfind('$', 0), 0U) << "round " << round;
      ASSERT_FALSE(e.message.empty()) << "round " << round;
    }
    if (v.report) {
      ++accepted;
      ASSERT_NO_THROW((void)v.report->body.dump()) << "round " << round;
    }
  }
  // Some mutations keep a body valid (an optional field removed); most do not.
  EXPECT_GT(accepted, 0);
  EXPECT_LT(accepted, kRounds);
}

}  // namespace
}  // namespace sentinel::reports
