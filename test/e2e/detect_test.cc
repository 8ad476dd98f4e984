// End to end: `sentinel detect` runs EARS over a CSV of several series, as CSV and JSON Lines,
// and refuses bad input with the file, line and column and exit status 2.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
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

TEST_F(DetectCommand, UnavailableAndUnknownMethods) {
  const fs::path input = Write("counts.csv", kCounts);
  const CommandResult scan =
      Sentinel(fmt::format("detect --method scan --input '{}'", input.string()));
  EXPECT_EQ(scan.code, 2);
  EXPECT_NE(scan.err.find("'scan' is not yet available"), std::string::npos) << scan.err;
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
}  // namespace
}  // namespace sentinel
