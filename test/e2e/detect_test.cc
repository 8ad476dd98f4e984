// End to end: `sentinel detect` runs EARS over a CSV of several series, as CSV and JSON Lines,
// and refuses bad input with the file, line and column and exit status 2.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include <vector>
#include "test/support/server_process.h"

namespace sentinel {
namespace {

namespace fs = std::filesystem;

using test::CommandResult;

class DetectCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("sentinel-detect-{}", getpid());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

  CommandResult Sentinel(const std::string& args) { return test::SentinelCommand(args, dir_); }

  fs::path dir_;
};

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Two weekly series: "flat" with an outbreak in its last week, "quiet" with a gap (weeks 5 and
// 6 absent: zero counts) and nothing unusual.
const char* const kCounts =
    "series,time,count\n"
    "flat,2024-W01,3\nflat,2024-W02,4\nflat,2024-W03,3\nflat,2024-W04,5\nflat,2024-W05,4\n"
    "flat,2024-W06,3\nflat,2024-W07,4\nflat,2024-W08,4\nflat,2024-W09,40\n"
    "quiet,2024-W01,1\nquiet,2024-W02,0\nquiet,2024-W03,2\nquiet,2024-W04,1\n"
    "quiet,2024-W07,1\nquiet,2024-W08,1\nquiet,2024-W09,1\n";

TEST_F(DetectCommand, EarsC1OverTwoSeriesAsCsvAndJsonLines) {
  const fs::path input = Write("counts.csv", kCounts);
  const CommandResult csv =
      Sentinel(fmt::format("detect --method ears-c1 --input '{}'", input.string()));
  ASSERT_EQ(csv.code, 0) << csv.err;
  const auto lines = Lines(csv.out);
  ASSERT_EQ(lines.size(), 1U + 9U + 9U) << csv.out;
  EXPECT_EQ(lines[0], "series,time,observed,expected,upperbound,alarm");
  EXPECT_EQ(lines[1], "flat,2024-W01,3,,,");  // no baseline yet: no judgement
  EXPECT_EQ(lines[7], "flat,2024-W07,4,,,");
  // Week 8 is judged on weeks 1-7 (mean 26/7); week 9's 40 is an outbreak.
  EXPECT_TRUE(lines[8].starts_with(fmt::format("flat,2024-W08,4,{},", 26.0 / 7))) << lines[8];
  EXPECT_TRUE(lines[8].ends_with(",false")) << lines[8];
  EXPECT_TRUE(lines[9].starts_with("flat,2024-W09,40,")) << lines[9];
  EXPECT_TRUE(lines[9].ends_with(",true")) << lines[9];
  EXPECT_EQ(lines[14], "quiet,2024-W05,0,,,");  // filled gap
  EXPECT_TRUE(lines[18].starts_with("quiet,2024-W09,1,")) << lines[18];
  EXPECT_TRUE(lines[18].ends_with(",false")) << lines[18];

  const CommandResult json = Sentinel(
      fmt::format("detect --method ears-c1 --input '{}' --format json --alpha 0.01 --baseline 7",
                  input.string()));
  ASSERT_EQ(json.code, 0) << json.err;
  const auto rows = Lines(json.out);
  ASSERT_EQ(rows.size(), 18U);
  const auto first = nlohmann::json::parse(rows[0]);
  EXPECT_EQ(first["series"], "flat");
  EXPECT_EQ(first["time"], "2024-W01");
  EXPECT_TRUE(first["upperbound"].is_null());
  EXPECT_TRUE(first["alarm"].is_null());
  const auto outbreak = nlohmann::json::parse(rows[8]);
  EXPECT_EQ(outbreak["observed"], 40);
  EXPECT_EQ(outbreak["alarm"], true);
  EXPECT_LT(outbreak["upperbound"].get<double>(), 40);
}

TEST_F(DetectCommand, StdinAndC3) {
  const CommandResult r =
      Sentinel(fmt::format("detect -m ears-c3 -i - < '{}'", Write("counts.csv", kCounts).string()));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(Lines(r.out).size(), 19U);
}

TEST_F(DetectCommand, BadRowNamesFileLineAndColumn) {
  const fs::path input = Write("bad.csv", "series,time,count\nA,1,2\nA,2,two\n");
  const CommandResult r =
      Sentinel(fmt::format("detect --method ears-c1 --input '{}'", input.string()));
  EXPECT_EQ(r.code, 2);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find(fmt::format("{}: line 3, column 3 (count)", input.string())),
            std::string::npos)
      << r.err;
}

// Farrington over 399 weeks of steady counts with an outbreak in the last: too little history
// to judge the first 5 years' worth of steps (b=5 by default), an alarm at the end; with
// --b 9 nothing can be judged at all.
TEST_F(DetectCommand, FarringtonAndNoufailyWithOverrides) {
  std::string csv = "series,time,count\n";
  for (int t = 1; t <= 399; ++t) {
    csv += fmt::format("steady,{},{}\n", t, t == 399 ? 25 : 3 + (t * 7) % 3);
  }
  const fs::path input = Write("long.csv", csv);
  for (const char* method : {"farrington", "noufaily"}) {
    const CommandResult r =
        Sentinel(fmt::format("detect --method {} --input '{}'", method, input.string()));
    ASSERT_EQ(r.code, 0) << r.err;
    const auto lines = Lines(r.out);
    ASSERT_EQ(lines.size(), 400u) << method;
    EXPECT_EQ(lines[1], "steady,1,4,,,") << method;
    EXPECT_EQ(lines.back().substr(0, 13), "steady,399,25") << method;
    EXPECT_EQ(lines.back().substr(lines.back().size() - 5), ",true") << method << lines.back();
  }
  const CommandResult too_far =
      Sentinel(fmt::format("detect --method farrington --b 9 --input '{}'", input.string()));
  ASSERT_EQ(too_far.code, 0) << too_far.err;
  EXPECT_EQ(Lines(too_far.out).back(), "steady,399,25,,,");
}

// The negative-binomial CUSUM over two years of seasonal counts whose level triples in the last
// ten weeks: the first year is the baseline (no judgement), the GLR alarms soon after the change
// and the known-shift chart with R's parameter names too; a given mu0 needs a given alpha.
TEST_F(DetectCommand, CusumGlrAndKnownShift) {
  std::string csv = "series,time,count\n";
  for (int t = 1; t <= 104; ++t) {
    const double season = 6 * (1 + 0.5 * std::sin(2 * M_PI * t / 52.0)) + (t * 7) % 5 - 2;
    csv += fmt::format("seasonal,{},{}\n", t, std::lround(season) * (t > 94 ? 3 : 1));
  }
  const fs::path input = Write("seasonal.csv", csv);
  const CommandResult glr =
      Sentinel(fmt::format("detect --method cusum --input '{}'", input.string()));
  ASSERT_EQ(glr.code, 0) << glr.err;
  const auto lines = Lines(glr.out);
  ASSERT_EQ(lines.size(), 105U);
  EXPECT_EQ(lines[52].substr(lines[52].size() - 3), ",,,") << lines[52];  // baseline
  EXPECT_TRUE(lines[53].ends_with(",false")) << lines[53];                // judged from 53
  int first_alarm = 0;
  for (int t = 1; t <= 104 && first_alarm == 0; ++t) {
    if (lines[t].ends_with(",true")) first_alarm = t;
  }
  EXPECT_GE(first_alarm, 95);
  EXPECT_LE(first_alarm, 98);

  const CommandResult lr = Sentinel(fmt::format(
      "detect --method cusum --theta 0.7 --alpha 0.2 --c-arl 3 --range-start 60 --format json "
      "--input '{}'",
      input.string()));
  ASSERT_EQ(lr.code, 0) << lr.err;
  const auto rows = Lines(lr.out);
  ASSERT_EQ(rows.size(), 104U);
  EXPECT_TRUE(nlohmann::json::parse(rows[58])["alarm"].is_null());
  EXPECT_EQ(nlohmann::json::parse(rows[59])["alarm"], false);
  EXPECT_EQ(nlohmann::json::parse(rows.back())["alarm"], true);

  const CommandResult no_alpha =
      Sentinel(fmt::format("detect --method cusum --mu0 4 --input '{}'", input.string()));
  EXPECT_EQ(no_alpha.code, 2);
  EXPECT_NE(no_alpha.err.find("alpha"), std::string::npos) << no_alpha.err;
  const CommandResult fraction =
      Sentinel(fmt::format("detect --method cusum --mu0 4 --alpha 0.1 --input '{}'",
                           Write("fraction.csv", "series,time,count\nA,1,2\nA,2,2.5\n").string()));
  EXPECT_EQ(fraction.code, 2);
  EXPECT_NE(fraction.err.find("integer"), std::string::npos) << fraction.err;
}

TEST_F(DetectCommand, UnknownMethodsAndBadParameters) {
  const fs::path input = Write("counts.csv", kCounts);
  const CommandResult unknown =
      Sentinel(fmt::format("detect --method ears-c4 --input '{}'", input.string()));
  EXPECT_EQ(unknown.code, 2);
  EXPECT_NE(unknown.err.find("unknown method 'ears-c4'"), std::string::npos) << unknown.err;
  const CommandResult missing = Sentinel("detect --method ears-c1 --input /nonexistent.csv");
  EXPECT_EQ(missing.code, 2);
  const CommandResult alpha =
      Sentinel(fmt::format("detect --method ears-c1 --input '{}' --alpha 0", input.string()));
  EXPECT_EQ(alpha.code, 2);
  EXPECT_NE(alpha.err.find("alpha"), std::string::npos) << alpha.err;
}

// Alarms in weeks 8 and 10 with a quiet week between: one signal when a quiet week may bridge
// it (the default), two when not; the signal carries the detector's parameters and the data it
// saw.
TEST_F(DetectCommand, SignalsFoldAlarmsIntoEpisodes) {
  const fs::path input = Write("episode.csv",
                               "series,time,count\n"
                               "s,2024-W01,3\ns,2024-W02,3\ns,2024-W03,3\ns,2024-W04,3\n"
                               "s,2024-W05,3\ns,2024-W06,3\ns,2024-W07,3\ns,2024-W08,10\n"
                               "s,2024-W09,3\ns,2024-W10,30\n");
  const CommandResult json = Sentinel(fmt::format(
      "detect -m ears-c1 -i '{}' --min-sigma 1 --signals --format json", input.string()));
  ASSERT_EQ(json.code, 0) << json.err;
  const auto lines = Lines(json.out);
  ASSERT_EQ(lines.size(), 1U) << json.out;
  const auto signal = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(signal["series"], "s");
  EXPECT_EQ(signal["detector"], "ears-c1");
  EXPECT_EQ(signal["first"], "2024-W08");
  EXPECT_EQ(signal["last"], "2024-W10");
  EXPECT_EQ(signal["alarms"], 2);
  EXPECT_EQ(signal["latest"]["observed"], 30.0);
  EXPECT_EQ(signal["peak"]["time"], "2024-W10");
  EXPECT_EQ(signal["parameters"]["minSigma"], 1.0);
  EXPECT_EQ(signal["parameters"]["baseline"], 7);
  EXPECT_EQ(signal["parameters"]["alpha"], 0.001);
  EXPECT_EQ(signal["data"]["source"], input.string());
  EXPECT_EQ(signal["data"]["from"], "2024-W01");
  EXPECT_EQ(signal["data"]["counts"], 10);

  const CommandResult split = Sentinel(
      fmt::format("detect -m ears-c1 -i '{}' --min-sigma 1 --signals --max-gap 0", input.string()));
  ASSERT_EQ(split.code, 0) << split.err;
  const auto rows = Lines(split.out);
  ASSERT_EQ(rows.size(), 3U) << split.out;
  EXPECT_EQ(rows[0],
            "series,detector,first,last,alarms,observed,expected,upperbound,peak_time,"
            "peak_observed,peak_upperbound");
  EXPECT_EQ(rows[1].rfind("s,ears-c1,2024-W08,2024-W08,1,10,3,", 0), 0U) << rows[1];
  EXPECT_EQ(rows[2].rfind("s,ears-c1,2024-W10,2024-W10,1,30,4,", 0), 0U) << rows[2];

  const CommandResult farrington = Sentinel(
      fmt::format("detect -m noufaily -i '{}' --signals --format json --b 3", input.string()));
  ASSERT_EQ(farrington.code, 0) << farrington.err;
  EXPECT_EQ(farrington.out, "");  // ten weeks are no history for Farrington: no signal
}
// A 5 x 5 grid of places about 45 km apart, 20 weeks of steady reports (a fixed pseudo-random
// pattern of 0-3 a week), and an outbreak in the last two weeks at two neighbouring places.
std::string GridCounts() {
  std::string csv = "series,time,count,lat,lon\n";
  std::uint32_t state = 12345;
  for (int row = 0; row < 5; ++row) {
    for (int col = 0; col < 5; ++col) {
      for (int week = 1; week <= 20; ++week) {
        state = state * 1664525U + 1013904223U;
        int count = static_cast<int>((state >> 24U) % 4U);
        if (row == 1 && (col == 1 || col == 2) && week >= 19) count += 8;
        csv += fmt::format("P{}{},2024-W{:02},{},{},{}\n", row, col, week, count, 50 + 0.4 * row,
                           4 + 0.6 * col);
      }
    }
  }
  return csv;
}

TEST_F(DetectCommand, ScanFindsTheOutbreakStillAliveAsCsvAndJson) {
  const fs::path input = Write("grid.csv", GridCounts());
  const CommandResult csv =
      Sentinel(fmt::format("detect --method scan --input '{}'", input.string()));
  ASSERT_EQ(csv.code, 0) << csv.err;
  const auto rows = Lines(csv.out);
  ASSERT_GE(rows.size(), 2U) << csv.out;
  EXPECT_EQ(rows[0],
            "analysis,cluster,start,end,observed,expected,ratio,llr,p_value,recurrence_interval,"
            "alarm,centre,radius_km,locations");
  EXPECT_EQ(rows[1].rfind("*,1,2024-W19,2024-W20,", 0), 0U) << rows[1];
  EXPECT_NE(rows[1].find(",0.001,1000,true,"), std::string::npos) << rows[1];
  for (std::size_t i = 2; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].find(",true,"), std::string::npos) << rows[i];  // nothing else alarms
  }

  const CommandResult json = Sentinel(fmt::format(
      "detect --method scan --input '{}' --format json --replicates 199 --seed 5 --max-clusters 1",
      input.string()));
  ASSERT_EQ(json.code, 0) << json.err;
  const auto lines = Lines(json.out);
  ASSERT_EQ(lines.size(), 1U) << json.out;
  const auto top = nlohmann::json::parse(lines[0]);
  EXPECT_EQ(top["detector"], "scan");
  // The outbreak's two places, and at most the one the circle around P12 takes with P11 (P13
  // lies as far from P12 as P11 does).
  std::vector<std::string> places = top["locations"];
  EXPECT_EQ(std::count(places.begin(), places.end(), "P11"), 1) << top.dump();
  EXPECT_EQ(std::count(places.begin(), places.end(), "P12"), 1) << top.dump();
  EXPECT_LE(places.size(), 3U);
  EXPECT_EQ(top["p_value"], 0.005);  // no replicate of 199 comes near: 1 / 200
  EXPECT_EQ(top["recurrence_interval"]["steps"], 200.0);
  EXPECT_NEAR(top["recurrence_interval"]["years"].get<double>(), 200.0 / 52, 1e-9);
  EXPECT_EQ(top["parameters"]["replicates"], 199);
  EXPECT_EQ(top["parameters"]["seed"], 5);
  EXPECT_EQ(top["parameters"]["max_window"], 4);
  EXPECT_EQ(top["data"]["locations"], 25);
  EXPECT_EQ(top["data"]["first"], "2024-W01");
  EXPECT_EQ(top["data"]["last"], "2024-W20");
  EXPECT_GT(top["observed"].get<double>(), 2 * top["expected"].get<double>());

  // Looking back over the whole period finds the same outbreak; it no longer recurs.
  const CommandResult retro = Sentinel(fmt::format(
      "detect --method scan --input '{}' --retrospective --max-window 6 --replicates 99",
      input.string()));
  ASSERT_EQ(retro.code, 0) << retro.err;
  EXPECT_NE(Lines(retro.out).at(1).find(",0.01,,true,"), std::string::npos) << retro.out;
}

TEST_F(DetectCommand, ScanRefusesUnplacedSeriesAndFractionsByName) {
  const CommandResult unplaced =
      Sentinel(fmt::format("detect --method scan --input '{}'", Write("c.csv", kCounts).string()));
  EXPECT_EQ(unplaced.code, 2);
  EXPECT_NE(unplaced.err.find("series 'flat' has no lat and lon"), std::string::npos)
      << unplaced.err;
  const CommandResult bad_lat = Sentinel(fmt::format(
      "detect --method scan --input '{}'",
      Write("lat.csv", "series,time,count,lat,lon\nA,1,2,51.5,0.1\nA,2,2,151.5,0.1\n").string()));
  EXPECT_EQ(bad_lat.code, 2);
  EXPECT_NE(bad_lat.err.find("line 3, column 4 (lat): '151.5' is not a latitude"),
            std::string::npos)
      << bad_lat.err;
  const CommandResult moved = Sentinel(fmt::format(
      "detect --method scan --input '{}'",
      Write("moved.csv", "series,time,count,lat,lon\nA,1,2,51.5,0.1\nA,2,2,52,0.1\n").string()));
  EXPECT_EQ(moved.code, 2);
  EXPECT_NE(moved.err.find("series 'A' was placed at 51.5, 0.1"), std::string::npos) << moved.err;
  const CommandResult half = Sentinel(fmt::format(
      "detect --method scan --input '{}'",
      Write("half.csv", "series,time,count,lat,lon\nA,1,2.5,51.5,0.1\nB,1,2,52,0.1\n").string()));
  EXPECT_EQ(half.code, 2);
  EXPECT_NE(half.err.find("series 'A', time 1: 2.5 is not a whole number"), std::string::npos)
      << half.err;
  EXPECT_EQ(half.out, "");
  const CommandResult one_of_two =
      Sentinel(fmt::format("detect --method scan --input '{}'",
                           Write("lat-only.csv", "series,time,count,lat\n").string()));
  EXPECT_EQ(one_of_two.code, 2);
  EXPECT_NE(one_of_two.err.find("lat and lon without the other"), std::string::npos)
      << one_of_two.err;
  const fs::path grid = Write("grid.csv", GridCounts());
  const CommandResult signals =
      Sentinel(fmt::format("detect --method scan --input '{}' --signals", grid.string()));
  EXPECT_EQ(signals.code, 2);
  EXPECT_NE(signals.err.find("--signals does not apply"), std::string::npos) << signals.err;
  const CommandResult share =
      Sentinel(fmt::format("detect --method scan --input '{}' --max-share 0", grid.string()));
  EXPECT_EQ(share.code, 2);
  EXPECT_NE(share.err.find("max share"), std::string::npos) << share.err;
}

// Weeks 1-9: fentanyl powder, often with heroin. Week 10: xylazine with fentanyl in three
// samples, and a nitazene in a tablet.
TEST_F(DetectCommand, CombinationsNameNewPairsAndFormsAsCsvAndJson) {
  std::string csv = "sample,time,substance,form\n";
  for (int i = 0; i < 30; ++i) {
    csv += fmt::format("h{},2024-W{:02},fentanyl,powder\n", i, 1 + i % 9);
    if (i % 2 == 0) csv += fmt::format("h{},2024-W{:02},heroin,powder\n", i, 1 + i % 9);
  }
  for (int i = 0; i < 3; ++i) {
    csv += fmt::format("x{},2024-W10,fentanyl,powder\nx{},2024-W10,xylazine,\n", i, i);
  }
  csv += "n1,2024-W10,protonitazene,tablet\nn2,2024-W10,heroin,powder\n";
  const fs::path input = Write("samples.csv", csv);
  const CommandResult r =
      Sentinel(fmt::format("detect --method combinations --input '{}'", input.string()));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = Lines(r.out);
  ASSERT_GE(rows.size(), 4U) << r.out;
  EXPECT_EQ(rows[0],
            "first,second,together,first_count,second_count,samples,expected,p_value,"
            "history_together,first_together,new,beyond_expectation,alarm");
  // Three pairs alarm, all new: xylazine with fentanyl and with powder, the nitazene in tablets.
  std::vector<std::string> alarms;
  for (std::size_t i = 1; i < rows.size(); ++i) {
    if (rows[i].size() > 5 && rows[i].substr(rows[i].size() - 5) == ",true") {
      alarms.push_back(rows[i].substr(0, rows[i].find(',', rows[i].find(',') + 1)));
      EXPECT_NE(rows[i].find(",2024-W10,true,"), std::string::npos) << rows[i];
    }
  }
  std::sort(alarms.begin(), alarms.end());
  EXPECT_EQ(alarms, (std::vector<std::string>{"fentanyl,xylazine", "form:powder,xylazine",
                                              "form:tablet,protonitazene"}))
      << r.out;
  // Weeks 7-10 hold 14 samples, 12 of them fentanyl powder, as all 21 before them were.
  EXPECT_NE(r.out.find("fentanyl,form:powder,12,12,13,14,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(",21,2024-W01,false,false,false\n"), std::string::npos) << r.out;

  const CommandResult json = Sentinel(
      fmt::format("detect --method combinations --input '{}' --format json --window 2 --alpha 0.01",
                  input.string()));
  ASSERT_EQ(json.code, 0) << json.err;
  const auto top = nlohmann::json::parse(Lines(json.out).at(0));
  EXPECT_EQ(top["detector"], "combinations");
  EXPECT_EQ(top["alarm"], true);
  EXPECT_EQ(top["parameters"]["window"], 2);
  EXPECT_EQ(top["parameters"]["alpha"], 0.01);
  EXPECT_EQ(top["data"]["window_first"], "2024-W09");
  EXPECT_EQ(top["data"]["window_last"], "2024-W10");
  EXPECT_EQ(top["data"]["samples"], 8);  // three in week 9, five in week 10
  EXPECT_EQ(top["data"]["history_samples"], 27);
}

TEST_F(DetectCommand, CombinationsRefuseBadSamplesByLineAndColumn) {
  const CommandResult moved = Sentinel(fmt::format(
      "detect --method combinations --input '{}'",
      Write("moved.csv", "sample,time,substance\ns1,2024-W01,a\ns1,2024-W02,b\n").string()));
  EXPECT_EQ(moved.code, 2);
  EXPECT_NE(moved.err.find("line 3, column 2: (time) sample 's1' was at 2024-W01"),
            std::string::npos)
      << moved.err;
  const CommandResult form = Sentinel(fmt::format(
      "detect --method combinations --input '{}'",
      Write("form.csv", "sample,time,substance,form\ns1,1,a,powder\ns1,1,b,tablet\n").string()));
  EXPECT_EQ(form.code, 2);
  EXPECT_NE(form.err.find("(form) sample 's1' was powder"), std::string::npos) << form.err;
  const CommandResult header = Sentinel(fmt::format(
      "detect --method combinations --input '{}'", Write("h.csv", "series,time,count\n").string()));
  EXPECT_EQ(header.code, 2);
  EXPECT_NE(header.err.find("sample, time and substance"), std::string::npos) << header.err;
  const CommandResult empty =
      Sentinel(fmt::format("detect --method combinations --input '{}'",
                           Write("e.csv", "sample,time,substance\ns1,1,\n").string()));
  EXPECT_EQ(empty.code, 2);
  EXPECT_NE(empty.err.find("line 2, column 3: (substance) empty"), std::string::npos) << empty.err;
  EXPECT_EQ(empty.out, "");
}

// Eight weeks of ANPP from China to Mexico through the US, 18-25 kg; then week 9.
TEST_F(DetectCommand, PrecursorsNameWhatIsUnusualForTheChemical) {
  std::string csv = "shipment,time,chemical,quantity,unit,origin,transit,destination\n";
  for (int week = 1; week <= 8; ++week) {
    csv += fmt::format("h{},2024-W{:02},ANPP,{},kg,CN,US,MX\n", week, week, 17 + week);
  }
  csv +=
      "usual,2024-W09,ANPP,21000,g,CN,US,MX\n"
      "large,2024-W09,ANPP,1.5,t,CN,US,MX\n";
  const CommandResult bad_unit = Sentinel(
      fmt::format("detect --method precursors --input '{}'", Write("unit.csv", csv).string()));
  EXPECT_EQ(bad_unit.code, 2);
  EXPECT_NE(bad_unit.err.find("line 11, column 5 (unit): 't' is not mg, g, kg, ml, l or units"),
            std::string::npos)
      << bad_unit.err;

  csv.replace(csv.find("1.5,t"), 5, "1500,kg");
  csv +=
      "routed,2024-W09,ANPP,20,kg,CN,NL;US,MX\n"
      "elsewhere,2024-W09,ANPP,20,kg,IN,,GT\n"
      "first,2024-W09,NPP,5,kg,CN,,MX\n";
  const fs::path input = Write("shipments.csv", csv);
  const CommandResult r =
      Sentinel(fmt::format("detect --method precursors --input '{}' --window 1", input.string()));
  ASSERT_EQ(r.code, 0) << r.err;
  const auto rows = Lines(r.out);
  ASSERT_EQ(rows.size(), 6U) << r.out;
  EXPECT_EQ(rows[0],
            "shipment,time,chemical,quantity,unit,origin,transit,destination,history,"
            "usual_quantity,quantity_z,reasons,alarm");
  EXPECT_EQ(rows[1].rfind("usual,2024-W09,ANPP,21000,g,CN,US,MX,8,21.4", 0), 0U) << rows[1];
  EXPECT_EQ(rows[1].substr(rows[1].size() - 7), ",,false") << rows[1];
  EXPECT_NE(rows[2].find(",unusual_quantity,true"), std::string::npos) << rows[2];
  EXPECT_NE(rows[3].find(",CN,NL;US,MX,8,"), std::string::npos) << rows[3];
  EXPECT_NE(rows[3].find(",new_transit,true"), std::string::npos) << rows[3];
  EXPECT_NE(rows[4].find(",new_destination;new_route,true"), std::string::npos) << rows[4];
  EXPECT_NE(rows[5].find("first,2024-W09,NPP,5,kg,CN,,MX,0,,,first_of_chemical,true"),
            std::string::npos)
      << rows[5];

  const CommandResult json = Sentinel(
      fmt::format("detect --method precursors --input '{}' --window 1 --format json --max-z 100",
                  input.string()));
  ASSERT_EQ(json.code, 0) << json.err;
  const auto large = nlohmann::json::parse(Lines(json.out).at(1));
  EXPECT_EQ(large["shipment"], "large");
  EXPECT_EQ(large["alarm"], false);  // z is about 30: below 100
  EXPECT_GT(large["quantity_z"].get<double>(), 20);
  EXPECT_EQ(large["parameters"]["max_z"], 100.0);
  EXPECT_EQ(large["route"]["transit"], nlohmann::json::array({"US"}));
  EXPECT_EQ(large["data"]["window_first"], "2024-W09");
  const auto routed = nlohmann::json::parse(Lines(json.out).at(2));
  EXPECT_EQ(routed["new_transit"], nlohmann::json::array({"NL"}));
}

// Loads, not counts: a `load` column makes the series continuous. Weeks without a row were not
// measured (no output row, no zero in the baseline); EARS runs on log10 loads; count models
// refuse them.
TEST_F(DetectCommand, LoadSeriesAreJudgedOnTheLogScaleOverMeasuredWeeks) {
  const fs::path input =
      Write("loads.csv",
            "series,time,load\n"
            "meth@AU/S1,2024-W01,200\nmeth@AU/S1,2024-W02,220\nmeth@AU/S1,2024-W04,180\n"
            "meth@AU/S1,2024-W05,210\nmeth@AU/S1,2024-W08,190\nmeth@AU/S1,2024-W09,205\n"
            "meth@AU/S1,2024-W10,215\nmeth@AU/S1,2024-W11,900\n"
            "nitazene@AU/S1,2024-W01,0\nnitazene@AU/S1,2024-W05,0\nnitazene@AU/S1,2024-W09,0.08\n");
  const CommandResult csv =
      Sentinel(fmt::format("detect --method ears-c1 --baseline 5 --input '{}'", input.string()));
  ASSERT_EQ(csv.code, 0) << csv.err;
  const auto lines = Lines(csv.out);
  ASSERT_EQ(lines.size(), 1U + 8U + 3U) << csv.out;  // measured weeks only
  EXPECT_EQ(lines[3], "meth@AU/S1,2024-W04,180,,,");
  // Week 9 is judged on the five measurements before it (weeks 1, 2, 4, 5, 8): geometric mean.
  const double expected = std::pow(200.0 * 220 * 180 * 210 * 190, 1.0 / 5);
  ASSERT_TRUE(lines[6].starts_with("meth@AU/S1,2024-W09,205,")) << lines[6];
  EXPECT_NEAR(std::stod(lines[6].substr(std::string("meth@AU/S1,2024-W09,205,").size())), expected,
              1e-9 * expected);
  EXPECT_TRUE(lines[6].ends_with(",false")) << lines[6];
  EXPECT_TRUE(lines[8].starts_with("meth@AU/S1,2024-W11,900,")) << lines[8];
  EXPECT_TRUE(lines[8].ends_with(",true")) << lines[8];

  const CommandResult first =
      Sentinel(fmt::format("detect --method first --input '{}' --format json", input.string()));
  ASSERT_EQ(first.code, 0) << first.err;
  std::vector<std::string> first_found;
  for (const std::string& line : Lines(first.out)) {
    const auto row = nlohmann::json::parse(line);
    if (row["alarm"] == true)
      first_found.push_back(
          fmt::format("{} {}", row["series"].get<std::string>(), row["time"].get<std::string>()));
  }
  EXPECT_EQ(first_found,
            (std::vector<std::string>{"meth@AU/S1 2024-W01", "nitazene@AU/S1 2024-W09"}));

  const CommandResult signals = Sentinel(fmt::format(
      "detect --method ears-c2 --baseline 3 --signals --format json --input '{}'", input.string()));
  ASSERT_EQ(signals.code, 0) << signals.err;
  const auto signal_lines = Lines(signals.out);
  ASSERT_FALSE(signal_lines.empty()) << signals.out;
  const auto signal = nlohmann::json::parse(signal_lines.back());
  EXPECT_EQ(signal["series"], "meth@AU/S1");
  EXPECT_EQ(signal["last"], "2024-W11");
  EXPECT_EQ(signal["parameters"]["scale"], "log10");
  EXPECT_EQ(signal["parameters"]["loadFloor"], 0.001);
  EXPECT_EQ(signal["data"]["measurements"], 8);
  EXPECT_EQ(signal["data"]["unit"], "mg/1000 people/day");

  const CommandResult refused =
      Sentinel(fmt::format("detect --method noufaily --input '{}'", input.string()));
  EXPECT_EQ(refused.code, 2);
  EXPECT_NE(refused.err.find("noufaily models counts"), std::string::npos) << refused.err;
  EXPECT_TRUE(refused.out.empty());

  const fs::path bad = Write("bad_loads.csv", "series,time,load\ns,1,12\ns,2,-3\n");
  const CommandResult negative =
      Sentinel(fmt::format("detect -m ears-c1 --input '{}'", bad.string()));
  EXPECT_EQ(negative.code, 2);
  EXPECT_NE(negative.err.find("line 3, column 3 (load): '-3' is not a load"), std::string::npos)
      << negative.err;
}

}  // namespace
}  // namespace sentinel
