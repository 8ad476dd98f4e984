// End to end: `sentinel detect --db` builds the weekly series of a node's stored reports (one
// per substance and place, and per substance over all places) and runs a detector on them: first
// detections of a substance in a country, anywhere, and in a subdivision; `--from` trims the
// output, not the history; a missing database is an error, not a new empty one. Both backends.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "test/store/backends.h"
#include "test/store/postgres_cluster.h"
#include "test/support/server_process.h"

namespace sentinel {
namespace {

namespace fs = std::filesystem;

class DetectStore : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("sentinel-detect-store-{}-{}", GetParam(), getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    db_ = (dir_ / "node.db").string();
    std::string key;
    if (GetParam() == "postgresql") {
      auto url = test::CreatePostgresTestDatabase("detect_store_e2e");
      if (!url.ok()) GTEST_SKIP() << url.status().ToString();
      db_ = *url;
      key = fmt::format(" --key-file '{}'", (dir_ / "node.key").string());
    }
    ASSERT_EQ(Sentinel(fmt::format("admin organisation --db '{}' --id lab --country US", db_)).code,
              0);
    // Mondays 2026-01-05 .. 2026-01-26 are ISO weeks 2 .. 5. Fentanyl in Ohio from week 2 and
    // in Canada from week 4; xylazine first in week 5; heroin only in week 2 (before --from);
    // carfentanil in week 5, national (seen only as the US audience).
    const fs::path csv = dir_ / "history.csv";
    std::ofstream(csv) << "kind,idempotency_key,distribution,date,place.country,"
                          "place.subdivision,substances[0].name,substances[1].name,form\n"
                          "seizure,a1,everyone,2026-01-05,US,US-OH,Fentanyl,Heroin,powder\n"
                          "seizure,a2,everyone,2026-01-13,US,US-OH,Fentanyl,,powder\n"
                          "seizure,a3,everyone,2026-01-20,US,US-OH,Fentanyl,,powder\n"
                          "seizure,a4,everyone,2026-01-21,CA,,Fentanyl,,powder\n"
                          "seizure,a5,everyone,2026-01-27,US,US-WV,Fentanyl,Xylazine,powder\n"
                          "seizure,a6,national,2026-01-27,US,US-OH,Carfentanil,,powder\n";
    const CommandResult imported = Sentinel(fmt::format(
        "import --db '{}'{} --organisation lab --no-progress '{}'", db_, key, csv.string()));
    ASSERT_EQ(imported.code, 0) << imported.err;
  }
  void TearDown() override { fs::remove_all(dir_); }

  using CommandResult = test::CommandResult;
  CommandResult Sentinel(const std::string& args) { return test::SentinelCommand(args, dir_); }

  // series -> the weeks at which it alarms; and every series' first output week.
  struct Alarms {
    std::map<std::string, std::set<std::string>> weeks;
    std::map<std::string, std::string> first_week;
  };
  Alarms FirstDetections(const std::string& extra) {
    const CommandResult r =
        Sentinel(fmt::format("detect --db '{}' --method first --format json{}", db_, extra));
    EXPECT_EQ(r.code, 0) << r.err;
    Alarms alarms;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      const auto row = nlohmann::json::parse(line);
      const std::string series = row["series"];
      alarms.first_week.emplace(series, row["time"]);
      alarms.weeks[series];
      if (row["alarm"] == true) alarms.weeks[series].insert(row["time"].get<std::string>());
    }
    return alarms;
  }

  fs::path dir_;
  std::string db_;
};

INSTANTIATE_TEST_SUITE_P(Backends, DetectStore, ::testing::ValuesIn(test::Backends()),
                         [](const auto& backend) { return backend.param; });

TEST_P(DetectStore, FirstDetectionsPerCountryAndAnywhere) {
  const Alarms a = FirstDetections("");
  using Weeks = std::set<std::string>;
  EXPECT_EQ(a.weeks.at("Fentanyl@US"), Weeks{"2026-W02"});
  EXPECT_EQ(a.weeks.at("Fentanyl@CA"), Weeks{"2026-W04"});
  EXPECT_EQ(a.weeks.at("Fentanyl@*"), Weeks{"2026-W02"});
  EXPECT_EQ(a.weeks.at("Xylazine@US"), Weeks{"2026-W05"});
  EXPECT_EQ(a.weeks.at("Xylazine@*"), Weeks{"2026-W05"});
  EXPECT_EQ(a.weeks.at("Heroin@US"), Weeks{"2026-W02"});
  EXPECT_EQ(a.weeks.size(), 7U);  // fentanyl US, CA, *; xylazine US, *; heroin US, *
  for (const auto& [series, week] : a.first_week) EXPECT_EQ(week, "2026-W02") << series;
}

TEST_P(DetectStore, AudienceAddsThatCountrysNationalReports) {
  const Alarms us = FirstDetections(" --audience US");
  EXPECT_EQ(us.weeks.at("Carfentanil@US"), std::set<std::string>{"2026-W05"});
  EXPECT_EQ(us.weeks.size(), 9U);  // the 7 of everyone's reports, and carfentanil US, *
  EXPECT_EQ(FirstDetections(" --audience CA").weeks.size(), 7U);
  EXPECT_NE(Sentinel(fmt::format("detect --db '{}' --method first --audience usa", db_)).code, 0);
}

TEST_P(DetectStore, SubdivisionsAndPlaceFilter) {
  const Alarms a = FirstDetections(" --by-subdivision");
  using Weeks = std::set<std::string>;
  EXPECT_EQ(a.weeks.at("Fentanyl@US-OH"), Weeks{"2026-W02"});
  EXPECT_EQ(a.weeks.at("Fentanyl@US-WV"), Weeks{"2026-W05"});
  EXPECT_EQ(a.weeks.count("Fentanyl@CA"), 0U);  // no subdivision: counted in the total only
  EXPECT_EQ(a.weeks.at("Fentanyl@*"), Weeks{"2026-W02"});
  const Alarms ca = FirstDetections(" --place CA");
  EXPECT_EQ(ca.weeks.at("Fentanyl@CA"), Weeks{"2026-W04"});
  EXPECT_EQ(ca.weeks.count("Fentanyl@US"), 0U);
}

// Counted report by report: daily steps, seizure forms, substance classes.
TEST_P(DetectStore, DailyByFormAndByClassSeries) {
  using Weeks = std::set<std::string>;
  const Alarms daily = FirstDetections(" --daily");
  EXPECT_EQ(daily.weeks.at("Fentanyl@US"), Weeks{"2026-01-05"});
  EXPECT_EQ(daily.weeks.at("Fentanyl@CA"), Weeks{"2026-01-21"});
  EXPECT_EQ(daily.weeks.at("Xylazine@*"), Weeks{"2026-01-27"});
  EXPECT_EQ(daily.first_week.at("Fentanyl@US"), "2026-01-05");

  const Alarms forms = FirstDetections(" --by-form");
  EXPECT_EQ(forms.weeks.at("Fentanyl/powder@US"), Weeks{"2026-W02"});
  EXPECT_EQ(forms.weeks.at("Xylazine/powder@*"), Weeks{"2026-W05"});
  EXPECT_EQ(forms.weeks.count("Fentanyl@US"), 0U);

  const Alarms classes = FirstDetections(" --by-class");
  EXPECT_EQ(classes.weeks.at("fentanyl-related@US"), Weeks{"2026-W02"});
  EXPECT_EQ(classes.weeks.at("fentanyl-related@CA"), Weeks{"2026-W04"});
  EXPECT_EQ(classes.weeks.count("Fentanyl@US"), 0U);

  // Every seizure here is powder, so the per-form series, counted report by report, are the
  // summary's series under another name.
  const CommandResult summary = Sentinel(fmt::format("detect --db '{}' --method ears-c1", db_));
  const CommandResult by_report =
      Sentinel(fmt::format("detect --db '{}' --method ears-c1 --by-form", db_));
  ASSERT_EQ(summary.code, 0) << summary.err;
  ASSERT_EQ(by_report.code, 0) << by_report.err;
  std::string renamed = by_report.out;
  for (std::size_t at; (at = renamed.find("/powder@")) != std::string::npos;) {
    renamed.erase(at, std::string("/powder").size());
  }
  EXPECT_EQ(renamed, summary.out);
}

TEST_P(DetectStore, FromTrimsTheOutputButNotTheHistory) {
  const Alarms a = FirstDetections(" --from 2026-01-21");
  // Heroin was first seen in week 2: from week 4 on there is nothing first about it.
  EXPECT_TRUE(a.weeks.at("Heroin@US").empty());
  EXPECT_EQ(a.weeks.at("Fentanyl@CA"), std::set<std::string>{"2026-W04"});
  for (const auto& [series, week] : a.first_week) EXPECT_EQ(week, "2026-W04") << series;
}

TEST_P(DetectStore, TemporalMethodsRunOnStoredSeries) {
  const CommandResult r =
      Sentinel(fmt::format("detect --db '{}' --method ears-c1 --substance-name-free", db_));
  EXPECT_EQ(r.code, 2);  // unknown flag: a usage error
  const CommandResult ears = Sentinel(fmt::format("detect --db '{}' --method ears-c1", db_));
  ASSERT_EQ(ears.code, 0) << ears.err;
  EXPECT_EQ(ears.out.rfind("series,time,observed,expected,upperbound,alarm\n", 0), 0U);
  EXPECT_NE(ears.out.find("Fentanyl@US,2026-W05,1,"), std::string::npos) << ears.out;
}

// Fentanyl: Ohio in weeks 2-4, West Virginia in week 5 (and Canada, which names no subdivision).
// With single cases allowed, the only cylinder with more than expected is West Virginia in week
// 5: 1 case where 1 * 1 / 4 were expected (Ohio alone holds more than half the cases).
TEST_P(DetectStore, ScanPlacesSubdivisionsAndNamesWhatItLeavesOut) {
  const fs::path places = dir_ / "places.csv";
  std::ofstream(places) << "place,lat,lon\nUS-OH,40.4,-82.8\nUS-WV,38.6,-80.6\n";
  const CommandResult r = Sentinel(
      fmt::format("detect --db '{}' --method scan --min-cases 1 --replicates 99 --format json "
                  "--places '{}'",
                  db_, places.string()));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("1 substance report(s) name no subdivision"), std::string::npos) << r.err;
  std::istringstream lines(r.out);
  std::vector<nlohmann::json> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 1U) << r.out;  // xylazine and heroin: one case each, no circle
  EXPECT_EQ(rows[0]["analysis"], "Fentanyl");
  EXPECT_EQ(rows[0]["locations"], nlohmann::json::array({"US-WV"}));
  EXPECT_EQ(rows[0]["start"], "2026-W05");
  EXPECT_EQ(rows[0]["end"], "2026-W05");
  EXPECT_EQ(rows[0]["observed"], 1);
  EXPECT_DOUBLE_EQ(rows[0]["expected"].get<double>(), 0.25);
  EXPECT_EQ(rows[0]["data"]["cases"], 4);
  EXPECT_EQ(rows[0]["parameters"]["min_cases"], 1);

  // The shipped centroids place both states too; a place missing from a gazetteer is named.
  const CommandResult shipped =
      Sentinel(fmt::format("detect --db '{}' --method scan --min-cases 1 --replicates 0", db_));
  ASSERT_EQ(shipped.code, 0) << shipped.err;
  EXPECT_NE(shipped.out.find("Fentanyl,1,2026-W05,2026-W05,1,0.2500,"), std::string::npos)
      << shipped.out;
  std::ofstream(places) << "place,lat,lon\nUS-OH,40.4,-82.8\n";
  const CommandResult partial = Sentinel(fmt::format(
      "detect --db '{}' --method scan --replicates 0 --places '{}'", db_, places.string()));
  ASSERT_EQ(partial.code, 0) << partial.err;
  EXPECT_NE(partial.err.find("left out: US-WV (2)"), std::string::npos) << partial.err;

  std::ofstream(places) << "place,lat,lon\nUS-OH,140,-82.8\n";
  const CommandResult bad =
      Sentinel(fmt::format("detect --db '{}' --method scan --places '{}'", db_, places.string()));
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("line 2, column lat"), std::string::npos) << bad.err;
  EXPECT_EQ(bad.out, "");
}

// Week 5 against weeks 2-4: xylazine arrives with fentanyl, in powder as fentanyl always was; the
// US audience also sees the national carfentanil powder.
TEST_P(DetectStore, CombinationsOfTheLastWeekAgainstTheWeeksBefore) {
  const auto pairs = [&](const std::string& extra) {
    const CommandResult r = Sentinel(fmt::format(
        "detect --db '{}' --method combinations --window 1 --format json{}", db_, extra));
    EXPECT_EQ(r.code, 0) << r.err;
    std::map<std::string, nlohmann::json> by_pair;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      auto row = nlohmann::json::parse(line);
      by_pair[row["first"].get<std::string>() + "+" + row["second"].get<std::string>()] = row;
    }
    return by_pair;
  };
  auto everyone = pairs("");
  ASSERT_EQ(everyone.size(), 3U);
  EXPECT_EQ(everyone.at("Fentanyl+Xylazine")["new"], true);
  EXPECT_EQ(everyone.at("Fentanyl+Xylazine")["first_together"], "2026-W05");
  EXPECT_EQ(everyone.at("Xylazine+form:powder")["alarm"], true);
  EXPECT_EQ(everyone.at("Fentanyl+form:powder")["new"], false);
  EXPECT_EQ(everyone.at("Fentanyl+form:powder")["history_together"], 4);
  EXPECT_EQ(everyone.at("Fentanyl+form:powder")["data"]["history_samples"], 4);
  EXPECT_EQ(everyone.at("Fentanyl+form:powder")["alarm"], false);
  auto us = pairs(" --audience US");
  EXPECT_EQ(us.size(), 4U);
  EXPECT_EQ(us.at("Carfentanil+form:powder")["new"], true);
}

// Precursor incidents from the node's reports: five shipments of ANPP to Mexico, then one of
// 900 kg to Guatemala by way of the Netherlands.
TEST_P(DetectStore, PrecursorIncidentsFromTheNodesReports) {
  const fs::path jsonl = dir_ / "precursors.jsonl";
  const char* const kMondays[] = {"2026-01-05", "2026-01-12", "2026-01-19",
                                  "2026-01-26", "2026-02-02", "2026-02-09"};
  {
    std::ofstream out(jsonl);
    for (int i = 0; i < 6; ++i) {
      const bool odd = i == 5;
      out << nlohmann::json{{"kind", "precursor_incident"},
                            {"idempotency_key", fmt::format("p{}", i)},
                            {"distribution", "everyone"},
                            {"date", kMondays[i]},
                            {"chemical", {{"name", "ANPP"}}},
                            {"quantity", {{"value", odd ? 900 : 20 + i}, {"unit", "kg"}}},
                            {"route",
                             {{"origin", "CN"},
                              {"transit",
                               odd ? nlohmann::json::array({"NL"}) : nlohmann::json::array()},
                              {"destination", odd ? "GT" : "MX"}}},
                            {"status", "seized"}}
                 .dump()
          << "\n";
    }
  }
  std::string key;
  if (GetParam() == "postgresql")
    key = fmt::format(" --key-file '{}'", (dir_ / "node.key").string());
  const CommandResult imported = Sentinel(fmt::format(
      "import --db '{}'{} --organisation lab --no-progress '{}'", db_, key, jsonl.string()));
  ASSERT_EQ(imported.code, 0) << imported.err;
  const CommandResult r = Sentinel(fmt::format(
      "detect --db '{}' --method precursors --window 1 --min-history 3 --format json", db_));
  ASSERT_EQ(r.code, 0) << r.err;
  std::istringstream lines(r.out);
  std::vector<nlohmann::json> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(nlohmann::json::parse(line));
  ASSERT_EQ(rows.size(), 1U) << r.out;
  EXPECT_EQ(rows[0]["time"], "2026-W07");
  EXPECT_EQ(rows[0]["chemical"], "ANPP");
  EXPECT_EQ(rows[0]["history"], 5);
  EXPECT_EQ(rows[0]["reasons"], nlohmann::json::array({"new_destination", "new_route",
                                                       "new_transit", "unusual_quantity"}));
  EXPECT_EQ(rows[0]["quantity"]["value"], 900.0);
}

// Wastewater reports give load series, one per analyte and site, judged as measurements: the
// mean load of a week (two samples in week 3), unmeasured weeks skipped, EARS on log10 loads.
TEST_P(DetectStore, WastewaterLoadsAreContinuousSeriesPerSite) {
  const fs::path jsonl = dir_ / "wastewater.jsonl";
  {
    // Mondays of ISO weeks 2026-W02 .. W09; the site skipped W07; W09 is three times the rest.
    const char* const kMondays[] = {"2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26",
                                    "2026-02-02", "2026-02-16", "2026-02-23"};
    const double kLoads[] = {200, 210, 190, 205, 195, 200, 600};
    std::ofstream out(jsonl);
    const auto write = [&](const std::string& key, const std::string& start, double load) {
      out << nlohmann::json{{"kind", "wastewater"},
                            {"idempotency_key", key},
                            {"distribution", "everyone"},
                            {"place", {{"country", "BE"}, {"subdivision", "BE-VAN"}}},
                            {"site", "ANTWERP-ZUID"},
                            {"period", {{"start", start}, {"end", start}}},
                            {"analyte", {{"name", "Benzoylecgonine"}}},
                            {"load_mg_per_1000_per_day", load}}
                 .dump()
          << "\n";
    };
    for (int i = 0; i < 7; ++i) write(fmt::format("w{}", i), kMondays[i], kLoads[i]);
    write("w-extra", "2026-01-21", 230);  // a second sample in W04: the week's mean is 210
  }
  std::string key;
  if (GetParam() == "postgresql")
    key = fmt::format(" --key-file '{}'", (dir_ / "node.key").string());
  const CommandResult imported = Sentinel(fmt::format(
      "import --db '{}'{} --organisation lab --no-progress '{}'", db_, key, jsonl.string()));
  ASSERT_EQ(imported.code, 0) << imported.err;

  const CommandResult r = Sentinel(fmt::format(
      "detect --db '{}' --kind wastewater --method ears-c1 --baseline 4 --format json", db_));
  ASSERT_EQ(r.code, 0) << r.err;
  std::map<std::string, nlohmann::json> by_week;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    const auto row = nlohmann::json::parse(line);
    EXPECT_EQ(row["series"], "Benzoylecgonine@BE/ANTWERP-ZUID") << line;
    by_week[row["time"].get<std::string>()] = row;
  }
  // Seven measured weeks; the unmeasured W07 gives no row.
  ASSERT_EQ(by_week.size(), 7U) << r.out;
  EXPECT_FALSE(by_week.count("2026-W07"));
  EXPECT_DOUBLE_EQ(by_week["2026-W04"]["observed"].get<double>(), 210);
  // W06 is judged on W02..W05 (200, 210, 210, 205).
  EXPECT_NEAR(by_week["2026-W06"]["expected"].get<double>(),
              std::pow(200.0 * 210 * 210 * 205, 0.25), 1e-6);
  EXPECT_EQ(by_week["2026-W06"]["alarm"], false);
  EXPECT_EQ(by_week["2026-W09"]["alarm"], true);  // 600, against W04, W05, W06 and W08

  const CommandResult counts =
      Sentinel(fmt::format("detect --db '{}' --kind wastewater --method farrington", db_));
  EXPECT_EQ(counts.code, 2);
  EXPECT_NE(counts.err.find("models counts"), std::string::npos) << counts.err;
  const CommandResult by_form =
      Sentinel(fmt::format("detect --db '{}' --kind wastewater --method first --by-form", db_));
  EXPECT_EQ(by_form.code, 2);
  EXPECT_NE(by_form.err.find("no form"), std::string::npos) << by_form.err;
}

TEST_P(DetectStore, MissingDatabaseOrNoSourceIsAnError) {
  const CommandResult missing =
      Sentinel(fmt::format("detect --db '{}' --method first", (dir_ / "typo.db").string()));
  EXPECT_EQ(missing.code, 2);
  EXPECT_NE(missing.err.find("no database at"), std::string::npos) << missing.err;
  EXPECT_FALSE(fs::exists(dir_ / "typo.db"));
  const CommandResult neither = Sentinel("detect --method first");
  EXPECT_EQ(neither.code, 2);
  EXPECT_NE(neither.err.find("--input FILE"), std::string::npos) << neither.err;
  const CommandResult bad_kind =
      Sentinel(fmt::format("detect --db '{}' --method first --kind parcel", db_));
  EXPECT_EQ(bad_kind.code, 2);
  EXPECT_NE(bad_kind.err.find("--kind"), std::string::npos) << bad_kind.err;
}

}  // namespace
}  // namespace sentinel
