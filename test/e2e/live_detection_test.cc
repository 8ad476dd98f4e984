// End to end: live detection in a real `sentinel serve` on loopback. Reports posted over HTTP
// become signals at /api/v1/signals, deduplicated, scoped to the audiences that may see their
// reports, within a second of acknowledgement (p99 under load); on both backends.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "test/store/backends.h"
#include "test/store/postgres_cluster.h"
#include "test/support/server_process.h"

namespace sentinel {
namespace {

namespace chr = std::chrono;
namespace fs = std::filesystem;
using nlohmann::json;

std::string Day(chr::sys_days day) {
  const chr::year_month_day d{day};
  return fmt::format("{:04}-{:02}-{:02}", static_cast<int>(d.year()),
                     static_cast<unsigned>(d.month()), static_cast<unsigned>(d.day()));
}

chr::sys_days Today() { return chr::floor<chr::days>(chr::system_clock::now()); }

json Seizure(const std::string& key, const std::string& substance, const std::string& date,
             const std::string& distribution, const std::string& country = "US") {
  return {{"kind", "seizure"},
          {"idempotency_key", key},
          {"distribution", distribution},
          {"date", date},
          {"place", {{"country", country}}},
          {"substances", {{{"name", substance}}}},
          {"form", "powder"}};
}

// The name of a signal's substance, or its class.
std::string NameOf(const json& signal) {
  return signal.contains("substance") ? signal["substance"]["name"].get<std::string>()
                                      : signal["class"].get<std::string>();
}

class LiveDetection : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("sentinel-live-{}-{}-{}", GetParam(), ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::vector<std::string> args;
    if (GetParam() == "postgresql") {
      auto url = test::CreatePostgresTestDatabase("live_e2e");
      if (!url.ok()) GTEST_SKIP() << url.status().ToString();
      db_ = *url;
      key_ = fmt::format(" --key-file '{}'", (dir_ / "node.key").string());
      args = {"--db", db_, "--key-file", (dir_ / "node.key").string()};
    } else {
      db_ = (dir_ / "node.db").string();
      args = {"--db", db_};
    }
    const std::string db = fmt::format(" --db '{}'", db_);
    int code = 0;
    for (const char* org : {"--id lab-us --country US", "--id obs-us --country US",
                            "--id obs-gb --country GB", "--id lab-gb --country GB"}) {
      test::SentinelOutput("admin organisation" + db + " " + org, &code);
      ASSERT_EQ(code, 0) << org;
    }
    reporter_ = test::SentinelOutput("admin token" + db +
                                     " --organisation lab-us --user bench --role reporter");
    reporter_gb_ = test::SentinelOutput("admin token" + db +
                                        " --organisation lab-gb --user bench --role reporter");
    analyst_us_ = test::SentinelOutput("admin token" + db +
                                       " --organisation obs-us --user ew --role analyst");
    analyst_gb_ = test::SentinelOutput("admin token" + db +
                                       " --organisation obs-gb --user ew --role analyst");
    reader_us_ = test::SentinelOutput("admin token" + db +
                                      " --organisation obs-us --user clinic --role reader");
    ASSERT_EQ(analyst_gb_.rfind("snt_", 0), 0u) << analyst_gb_;
    if (history_weeks_ > 0) ImportHistory();
    args_ = args;
    server_ = std::make_unique<test::ServerProcess>();
    ASSERT_TRUE(server_->Start(args_, (dir_ / "server.log").string())) << server_->error();
  }

  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  // A quiet weekly history of Fentanyl in the US (2 or 3 reports a week), ending two weeks
  // before this one, through `sentinel import` before the server starts.
  void ImportHistory() {
    const fs::path csv = dir_ / "history.csv";
    std::ofstream out(csv);
    out << "kind,idempotency_key,distribution,date,place.country,substances[0].name,form\n";
    const chr::sys_days monday = Today() - chr::days{(chr::weekday(Today()).iso_encoding() - 1)};
    for (int w = history_weeks_ + 1; w >= 2; --w) {
      const int n = 2 + (w % 2);
      for (int i = 0; i < n; ++i) {
        out << fmt::format("seizure,h{}-{},everyone,{},US,Fentanyl,powder\n", w, i,
                           Day(monday - chr::days{7 * w} + chr::days{i}));
      }
    }
    out.close();
    int code = 0;
    test::SentinelOutput(fmt::format("import --db '{}'{} --organisation lab-us --no-progress '{}'",
                                     db_, key_, csv.string()),
                         &code);
    ASSERT_EQ(code, 0);
  }

  // Imports `file` as lab-us's reports, then restarts the server with `extra` arguments.
  void ImportThenRestart(const fs::path& file, const std::vector<std::string>& extra) {
    int code = 0;
    test::SentinelOutput(fmt::format("import --db '{}'{} --organisation lab-us --no-progress '{}'",
                                     db_, key_, file.string()),
                         &code);
    ASSERT_EQ(code, 0);
    server_.reset();
    std::vector<std::string> args = args_;
    args.insert(args.end(), extra.begin(), extra.end());
    server_ = std::make_unique<test::ServerProcess>();
    ASSERT_TRUE(server_->Start(args, (dir_ / "server2.log").string())) << server_->error();
  }

  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(60, 0);
    return c;
  }
  static httplib::Headers Auth(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }
  json Post(const json& body, const std::string& token, int expect = 201) {
    auto res = Client().Post("/api/v1/reports", Auth(token), body.dump(), "application/json");
    EXPECT_TRUE(res);
    if (!res) return {};
    EXPECT_EQ(res->status, expect) << res->body;
    return json::parse(res->body, nullptr, false);
  }
  json Signals(const std::string& token, const std::string& query = "", int expect = 200) {
    auto res = Client().Get("/api/v1/signals" + query, Auth(token));
    EXPECT_TRUE(res);
    if (!res) return {};
    EXPECT_EQ(res->status, expect) << res->body;
    return json::parse(res->body, nullptr, false);
  }
  // The signals of `series` by `detector`, polled until one has at least `alarms` alarms and
  // its latest step counts at least `observed` (or 10 s pass).
  json WaitFor(const std::string& token, const std::string& detector, const std::string& series,
               int alarms, double observed) {
    const auto deadline = chr::steady_clock::now() + chr::seconds(10);
    json found = json::array();
    while (chr::steady_clock::now() < deadline) {
      found = json::array();
      bool ready = false;
      const json page = Signals(token, "?detector=" + detector + "&limit=1000");
      for (const json& s : page["signals"]) {
        if (s["series"] != series) continue;
        found.push_back(s);
        ready |= s["alarms"].get<int>() >= alarms && s["latest"]["observed"] >= observed;
      }
      if (ready) return found;
      std::this_thread::sleep_for(chr::milliseconds(20));
    }
    ADD_FAILURE() << "no " << detector << " signal on " << series << " with " << alarms
                  << " alarms and latest count " << observed << " within 10 s";
    return found;
  }

  std::string ReadLog() const {
    std::ifstream in(dir_ / "server.log");
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

  int history_weeks_ = 0;
  fs::path dir_;
  std::string db_, key_;
  std::vector<std::string> args_;
  std::string reporter_, reporter_gb_, analyst_us_, analyst_gb_, reader_us_;
  std::unique_ptr<test::ServerProcess> server_;
};

INSTANTIATE_TEST_SUITE_P(Backends, LiveDetection, ::testing::ValuesIn(test::Backends()),
                         [](const auto& backend) { return backend.param; });

TEST_P(LiveDetection, FirstDetectionsAreScopedDeduplicatedAndForAnalysts) {
  const std::string today = Day(Today());
  Post(Seizure("x1", "Xylazine", today, "national"), reporter_);
  json us = WaitFor(analyst_us_, "first", "Xylazine@US", 1, 1);
  ASSERT_EQ(us.size(), 1u) << us.dump();
  const json s = us[0];  // a copy: us is reassigned below
  EXPECT_EQ(s["audience"], "US");
  EXPECT_EQ(s["place"], "US");
  EXPECT_EQ(s["substance"]["name"], "Xylazine");
  EXPECT_EQ(s["first"], s["last"]);
  EXPECT_EQ(s["latest"]["expected"], 0);
  EXPECT_EQ(s["data"]["source"], "node");
  EXPECT_TRUE(s["parameters"].is_object());
  WaitFor(analyst_us_, "first", "Xylazine@*", 1, 1);
  // A national report feeds its own country's signals only.
  const json gb = Signals(analyst_gb_);
  for (const json& g : gb["signals"]) {
    EXPECT_NE(NameOf(g), "Xylazine") << g.dump();
  }
  // Signals are for analysts.
  Signals(reader_us_, "", 403);

  // Another report the same week updates the same signal instead of raising a new one.
  Post(Seizure("x2", "Xylazine", today, "national"), reporter_);
  us = WaitFor(analyst_us_, "first", "Xylazine@US", 1, 2);
  ASSERT_EQ(us.size(), 1u) << us.dump();
  EXPECT_EQ(us[0]["alarms"], 1);
  EXPECT_EQ(us[0]["latest"]["observed"], 2);
  EXPECT_GT(us[0]["sequence"].get<std::int64_t>(), s["sequence"].get<std::int64_t>());

  // A report kept to its organisation never feeds a signal; one shared with everyone feeds
  // every country's. Rounds run in order, so once the later report's signal is there the
  // earlier one has been judged.
  Post(Seizure("b1", "Bromazolam", today, "organisation"), reporter_);
  Post(Seizure("c1", "Carfentanil", today, "everyone", "GB"), reporter_gb_);
  WaitFor(analyst_us_, "first", "Carfentanil@GB", 1, 1);
  WaitFor(analyst_gb_, "first", "Carfentanil@GB", 1, 1);
  const json all_us = Signals(analyst_us_, "?limit=1000");
  for (const json& u : all_us["signals"]) {
    EXPECT_NE(NameOf(u), "Bromazolam") << u.dump();
  }
  // Filters and paging forward.
  json after = Signals(analyst_us_,
                       fmt::format("?after={}&place=GB", us[0]["sequence"].get<std::int64_t>()));
  EXPECT_FALSE(after["signals"].empty());
  for (const json& a : after["signals"]) {
    EXPECT_TRUE(NameOf(a) == "Carfentanil" || NameOf(a) == "fentanyl-related") << a.dump();
  }
  Signals(analyst_us_, "?place=usa", 400);
  Signals(analyst_us_, "?limit=0", 400);
  const json filtered = Signals(analyst_us_, "?substance=Carfentanil&place=GB&detector=first");
  ASSERT_EQ(filtered["signals"].size(), 1u) << filtered.dump();
  EXPECT_EQ(filtered["signals"][0]["detector"], "first");
  // Its first seizure, a powder, is also the first in that form there.
  const json form = Signals(analyst_us_, "?substance=Carfentanil&place=GB&detector=first-in-form");
  ASSERT_EQ(form["signals"].size(), 1u) << form.dump();
  EXPECT_EQ(form["signals"][0]["forms"], json::array({"powder"}));
}

// A report's substances are also judged in its subdivision, and each of their classes as a
// series of its own, in which a report counts once however many of the class's substances it
// names.
TEST_P(LiveDetection, ClassesAndSubdivisionsAreSeriesOfTheirOwn) {
  const std::string today = Day(Today());
  json first = Seizure("f1", "Fentanyl", today, "national");
  first["place"]["subdivision"] = "US-OH";
  Post(first, reporter_);
  const json in_ohio = WaitFor(analyst_us_, "first", "Fentanyl@US-OH", 1, 1);
  ASSERT_EQ(in_ohio.size(), 1u) << in_ohio.dump();
  EXPECT_EQ(in_ohio[0]["place"], "US-OH");
  const json cls = WaitFor(analyst_us_, "first", "fentanyl-related@US-OH", 1, 1);
  ASSERT_EQ(cls.size(), 1u) << cls.dump();
  EXPECT_EQ(cls[0]["class"], "fentanyl-related");
  EXPECT_FALSE(cls[0].contains("substance")) << cls[0].dump();
  WaitFor(analyst_us_, "first", "fentanyl-related@US", 1, 1);
  WaitFor(analyst_us_, "first", "fentanyl-related@*", 1, 1);

  // Two of the class's substances in one sample: one more report of the class, not two.
  json both = Seizure("f2", "Fentanyl", today, "national");
  both["place"]["subdivision"] = "US-OH";
  both["substances"].push_back({{"name", "Acetylfentanyl"}});
  Post(both, reporter_);
  WaitFor(analyst_us_, "first", "Acetylfentanyl@US-OH", 1, 1);
  const json updated = WaitFor(analyst_us_, "first", "fentanyl-related@US-OH", 1, 2);
  ASSERT_EQ(updated.size(), 1u) << updated.dump();
  EXPECT_EQ(updated[0]["latest"]["observed"], 2) << updated[0].dump();

  // The class filter; a national report's class is its country's only.
  const json by_class = Signals(analyst_us_, "?class=fentanyl-related&detector=first&limit=1000");
  std::set<std::string> places;
  for (const json& s : by_class["signals"]) {
    EXPECT_EQ(s["class"], "fentanyl-related") << s.dump();
    places.insert(s["place"].get<std::string>());
  }
  EXPECT_EQ(places, (std::set<std::string>{"*", "US", "US-OH"}));
  EXPECT_TRUE(Signals(analyst_gb_, "?class=fentanyl-related")["signals"].empty());
  Signals(analyst_us_, "?class=fentanyl-related&substance=Fentanyl", 400);
}

json Shipment(const std::string& key, const std::string& date, double kg,
              const std::string& destination, const std::vector<std::string>& transit = {}) {
  return {{"kind", "precursor_incident"},
          {"idempotency_key", key},
          {"distribution", "everyone"},
          {"date", date},
          {"chemical", {{"name", "ANPP"}}},
          {"quantity", {{"value", kg}, {"unit", "kg"}}},
          {"route", {{"origin", "CN"}, {"transit", transit}, {"destination", destination}}},
          {"status", "seized"}};
}

// A precursor incident is judged against the chemical's history as it arrives: a shipment to a
// new destination, through a new country, of a quantity far from the usual, becomes a signal
// naming the week's unusual shipments and why; a second one that week updates the signal.
TEST_P(LiveDetection, UnusualPrecursorShipmentsBecomeSignals) {
  const chr::sys_days monday = Today() - chr::days{(chr::weekday(Today()).iso_encoding() - 1)};
  for (int w = 6; w >= 1; --w) {
    Post(Shipment(fmt::format("p{}", w), Day(monday - chr::days{7 * w}), 20 + w, "MX"), reporter_);
  }
  Post(Shipment("usual", Day(monday), 22, "MX"), reporter_);  // nothing unusual
  Post(Shipment("odd", Day(monday), 900, "GT", {"NL"}), reporter_);
  const auto deadline = chr::steady_clock::now() + chr::seconds(10);
  json found;
  while (chr::steady_clock::now() < deadline) {
    const json page = Signals(analyst_us_, "?detector=precursors&place=GT");
    if (!page["signals"].empty()) {
      found = page["signals"];
      break;
    }
    std::this_thread::sleep_for(chr::milliseconds(20));
  }
  ASSERT_EQ(found.size(), 1u) << found.dump();
  const json& signal = found[0];
  EXPECT_EQ(signal["series"], "ANPP@GT");
  EXPECT_EQ(signal["alarms"], 1);
  ASSERT_EQ(signal["shipments"].size(), 1u);
  EXPECT_EQ(signal["shipments"][0]["reasons"],
            json::array({"new_destination", "new_route", "new_transit", "unusual_quantity"}));
  EXPECT_EQ(signal["shipments"][0]["history"], 6);
  EXPECT_EQ(signal["audience"], "US");
  // To Mexico only the very first shipment was unusual (the first of its chemical); this
  // week's usual one raised nothing.
  const json mexico = Signals(analyst_us_, "?detector=precursors&place=MX")["signals"];
  ASSERT_EQ(mexico.size(), 1u) << mexico.dump();
  EXPECT_EQ(mexico[0]["shipments"][0]["reasons"], json::array({"first_of_chemical"}));
  EXPECT_NE(mexico[0]["first"], signal["first"]);

  // A second unusual shipment to Guatemala the same week: the same signal, two shipments.
  Post(Shipment("odd2", Day(Today()), 1.5, "GT"), reporter_);
  json updated;
  const auto later = chr::steady_clock::now() + chr::seconds(10);
  while (chr::steady_clock::now() < later) {
    updated = Signals(analyst_us_, "?detector=precursors&place=GT")["signals"];
    if (updated.size() == 1 && updated[0]["alarms"] == 2) break;
    std::this_thread::sleep_for(chr::milliseconds(20));
  }
  ASSERT_EQ(updated.size(), 1u) << updated.dump();
  EXPECT_EQ(updated[0]["alarms"], 2);
  EXPECT_EQ(updated[0]["first"], signal["first"]);
  EXPECT_GT(updated[0]["sequence"], signal["sequence"]);
  // Every audience sees it: the shipments were distributed to everyone.
  EXPECT_EQ(Signals(analyst_gb_, "?detector=precursors&place=GT")["signals"].size(), 1u);
}

json InForm(const std::string& key, const std::string& substance, const std::string& date,
            const std::string& form, const std::string& distribution = "everyone") {
  json report = Seizure(key, substance, date, distribution);
  report["form"] = form;
  return report;
}

// A seizure of a substance in a form never seen for it before is a first-in-form signal, in its
// country and everywhere; a new substance first seen in two forms in one week is one signal
// naming both; a known form raises nothing.
TEST_P(LiveDetection, FirstSeenInAFormIsASignal) {
  const chr::sys_days monday = Today() - chr::days{(chr::weekday(Today()).iso_encoding() - 1)};
  const std::string earlier = Day(monday - chr::days{14});
  Post(InForm("f1", "Fentanyl", earlier, "powder"), reporter_);
  Post(InForm("f2", "Fentanyl", Day(monday), "powder"), reporter_);   // known form
  Post(InForm("f3", "Fentanyl", Day(monday), "tablet"), reporter_);   // new form
  Post(InForm("f4", "Fentanyl", Day(Today()), "tablet"), reporter_);  // the same week again
  Post(InForm("n1", "Protonitazene", Day(monday), "tablet"), reporter_);
  Post(InForm("n2", "Protonitazene", Day(Today()), "liquid"), reporter_);

  std::map<std::string, json> by_series;
  const auto deadline = chr::steady_clock::now() + chr::seconds(10);
  while (chr::steady_clock::now() < deadline) {
    by_series.clear();
    const json page = Signals(analyst_us_, "?detector=first-in-form&limit=1000");
    for (const json& s : page["signals"]) {
      by_series[s["series"].get<std::string>() + " " + s["first"].get<std::string>()] = s;
    }
    if (by_series.size() == 6 && by_series.rbegin()->second["forms"].size() == 2) break;
    std::this_thread::sleep_for(chr::milliseconds(20));
  }
  std::vector<std::string> names;
  for (const auto& [name, signal] : by_series) names.push_back(name.substr(0, name.find(' ')));
  // Fentanyl: powder in the first week, tablet this week; Protonitazene: both forms at once.
  EXPECT_EQ(names, (std::vector<std::string>{"Fentanyl/powder@*", "Fentanyl/powder@US",
                                             "Fentanyl/tablet@*", "Fentanyl/tablet@US",
                                             "Protonitazene/liquid+tablet@*",
                                             "Protonitazene/liquid+tablet@US"}))
      << json(by_series).dump() << ReadLog();
  for (const auto& [name, signal] : by_series) {
    EXPECT_EQ(signal["alarms"], 1) << name;
    EXPECT_EQ(signal["audience"], "US") << name;
    if (name.starts_with("Fentanyl/tablet")) {
      EXPECT_EQ(signal["forms"], json::array({"tablet"}));
      EXPECT_NE(signal["first"], by_series.begin()->second["first"]);
    }
  }
  // GB sees the same (every report was for everyone).
  EXPECT_EQ(Signals(analyst_gb_, "?detector=first-in-form&limit=1000")["signals"].size(), 6u);
}

json Mixture(const std::string& key, const std::vector<std::string>& substances,
             const std::string& date) {
  json report = Seizure(key, substances.front(), date, "everyone");
  report["substances"] = json::array();
  for (const std::string& name : substances) report["substances"].push_back({{"name", name}});
  return report;
}

// Two known substances reported together for the first time are a new combination, for each of
// them, in the country and everywhere; the same pair again is not; a pair with a substance never
// seen before is not a combination of known ones (its first detection says so).
TEST_P(LiveDetection, KnownSubstancesFirstTogetherAreANewCombination) {
  const chr::sys_days monday = Today() - chr::days{(chr::weekday(Today()).iso_encoding() - 1)};
  const std::string earlier = Day(monday - chr::days{14});
  Post(Mixture("m1", {"Fentanyl"}, earlier), reporter_);
  Post(Mixture("m2", {"Xylazine"}, earlier), reporter_);
  Post(Mixture("m3", {"Fentanyl", "Heroin"}, earlier), reporter_);  // Heroin: new then
  Post(Mixture("m4", {"Fentanyl", "Xylazine"}, Day(monday)), reporter_);
  Post(Mixture("m5", {"Fentanyl", "Xylazine"}, Day(Today())), reporter_);
  Post(Mixture("m6", {"Fentanyl", "Heroin"}, Day(Today())), reporter_);  // together before

  std::set<std::string> series;
  const auto deadline = chr::steady_clock::now() + chr::seconds(10);
  while (chr::steady_clock::now() < deadline) {
    series.clear();
    const json page = Signals(analyst_us_, "?detector=new-combination&limit=1000");
    for (const json& s : page["signals"]) {
      series.insert(s["series"].get<std::string>() + " " + s["first"].get<std::string>());
      EXPECT_EQ(s["first"], s["last"]);
    }
    if (series.size() >= 4) break;
    std::this_thread::sleep_for(chr::milliseconds(20));
  }
  // Give a wrong extra signal time to appear.
  std::this_thread::sleep_for(chr::milliseconds(200));
  series.clear();
  const json page = Signals(analyst_us_, "?detector=new-combination&limit=1000");
  for (const json& s : page["signals"]) series.insert(s["series"].get<std::string>());
  EXPECT_EQ(series, (std::set<std::string>{"Fentanyl+Xylazine@*", "Fentanyl+Xylazine@US",
                                           "Xylazine+Fentanyl@*", "Xylazine+Fentanyl@US"}))
      << page.dump() << ReadLog();
  const json fentanyl =
      Signals(analyst_us_, "?detector=new-combination&substance=Fentanyl&place=US");
  ASSERT_EQ(fentanyl["signals"].size(), 1u) << fentanyl.dump();
  EXPECT_EQ(fentanyl["signals"][0]["partners"], json::array({"Xylazine"}));
}

json Measurement(const std::string& key, const std::string& monday, double load) {
  return {{"kind", "wastewater"},
          {"idempotency_key", key},
          {"distribution", "everyone"},
          {"place", {{"country", "BE"}, {"subdivision", "BE-VAN"}}},
          {"site", "ANTWERP-ZUID"},
          {"period", {{"start", monday}, {"end", monday}}},
          {"analyte", {{"name", "Benzoylecgonine"}}},
          {"load_mg_per_1000_per_day", load}};
}

// A wastewater measurement is judged as a load of its site, as `detect --kind wastewater` judges
// it, and counts in no count series: weekly sampling is no weekly occurrence.
TEST_P(LiveDetection, WastewaterLoadsAreJudgedLiveAsLoadsOfTheirSite) {
  const chr::sys_days monday = Today() - chr::days{(chr::weekday(Today()).iso_encoding() - 1)};
  constexpr int kWeeks = 30;
  for (int w = kWeeks; w >= 1; --w) {
    Post(Measurement(fmt::format("m{}", w), Day(monday - chr::days{7 * w}),
                     200 + 10 * ((w * 7) % 5 - 2)),
         reporter_);
  }
  const json found = WaitFor(analyst_gb_, "first", "Benzoylecgonine@BE/ANTWERP-ZUID", 1, 0);
  ASSERT_EQ(found.size(), 1u) << found.dump();
  EXPECT_EQ(found[0]["first"], found[0]["last"]);
  EXPECT_EQ(found[0]["place"], "BE/ANTWERP-ZUID");
  EXPECT_EQ(found[0]["data"]["unit"], "mg/1000 people/day");
  // Three times the usual load this week.
  Post(Measurement("m0", Day(monday), 600), reporter_);
  const json high = WaitFor(analyst_us_, "ears-c1", "Benzoylecgonine@BE/ANTWERP-ZUID", 1, 600);
  ASSERT_EQ(high.size(), 1u) << high.dump();
  const json& signal = high[0];
  EXPECT_EQ(signal["parameters"]["baseline"], 28);
  EXPECT_EQ(signal["parameters"]["minSigma"], 0.05);
  EXPECT_EQ(signal["parameters"]["scale"], "log10");
  EXPECT_EQ(signal["data"]["measurements"], kWeeks + 1);
  // The batch command, with the same parameters, bounds the week alike.
  const std::string batch = test::SentinelOutput(fmt::format(
      "detect --db '{}' --kind wastewater --method ears-c1 --baseline 28 --min-sigma 0.05 "
      "--format json",
      db_));
  std::istringstream lines(batch);
  bool compared = false;
  for (std::string line; std::getline(lines, line);) {
    const json row = json::parse(line);
    if (row["time"] != signal["latest"]["time"]) continue;
    EXPECT_EQ(row["series"], "Benzoylecgonine@BE/ANTWERP-ZUID");
    EXPECT_NEAR(row["upperbound"].get<double>(), signal["latest"]["upperbound"].get<double>(),
                1e-9);
    EXPECT_EQ(row["alarm"], true);
    compared = true;
  }
  EXPECT_TRUE(compared) << batch;
  // A site is a place the signals can be asked for.
  const json at_site = Signals(analyst_us_, "?detector=ears-c1&place=BE/ANTWERP-ZUID");
  ASSERT_EQ(at_site["signals"].size(), 1u) << at_site.dump();
  // The same episode (a later round may have updated it, and with it its sequence).
  for (const char* field : {"detector", "substance", "place", "first"}) {
    EXPECT_EQ(at_site["signals"][0][field], signal[field]) << field;
  }
  Signals(analyst_us_, "?place=BE/", 400);
  // No count series: neither a first detection nor an aberration of Benzoylecgonine's reports.
  for (const char* detector : {"first", "noufaily"}) {
    const json counts = Signals(analyst_us_, fmt::format("?detector={}&limit=1000", detector));
    for (const json& c : counts["signals"]) {
      EXPECT_NE(c["place"], "BE") << c.dump();
      EXPECT_NE(c["place"], "*") << c.dump();
    }
  }
}

// The prospective space-time scan runs on the server's own reports: a burst of reports in one
// state against a spread-out history is a cluster, stored as a signal equal to what `detect
// --method scan` finds on the same data; more reports in the cluster that week update it.
TEST_P(LiveDetection, ASpaceTimeClusterIsASignalUpdatedWhileItLasts) {
  // Twenty weeks of two reports a week, rotating among eight states.
  const chr::sys_days monday = Today() - chr::days{(chr::weekday(Today()).iso_encoding() - 1)};
  const char* const kStates[] = {"US-CA", "US-TX", "US-FL", "US-NY",
                                 "US-OH", "US-WA", "US-GA", "US-IL"};
  const fs::path csv = dir_ / "history.csv";
  {
    std::ofstream out(csv);
    out << "kind,idempotency_key,distribution,date,place.country,place.subdivision,"
           "substances[0].name,form\n";
    for (int w = 20; w >= 1; --w) {
      for (int i = 0; i < 2; ++i) {
        out << fmt::format("seizure,s{}-{},everyone,{},US,{},Isotonitazene,powder\n", w, i,
                           Day(monday - chr::days{7 * w}), kStates[(w * 2 + i) % 8]);
      }
    }
  }
  // Scans as often as reports come, for the test.
  ASSERT_NO_FATAL_FAILURE(ImportThenRestart(csv, {"--scan-every", "0"}));

  const auto burst = [&](const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) {
      json report =
          Seizure(fmt::format("{}{}", prefix, i), "Isotonitazene", Day(monday), "everyone");
      report["place"]["subdivision"] = "US-OH";
      Post(report, reporter_);
    }
  };
  burst("b", 10);
  const auto wait = [&](std::int64_t observed) {
    const auto deadline = chr::steady_clock::now() + chr::seconds(20);
    while (chr::steady_clock::now() < deadline) {
      const json page = Signals(analyst_gb_, "?detector=scan&limit=1000");
      for (const json& s : page["signals"]) {
        if (s["cluster"]["observed"].get<std::int64_t>() >= observed) return page["signals"];
      }
      std::this_thread::sleep_for(chr::milliseconds(50));
    }
    ADD_FAILURE() << "no scan signal with " << observed << " cases in 20 s";
    return json::array();
  };
  json signals = wait(10);
  ASSERT_EQ(signals.size(), 1u) << signals.dump();
  json signal = signals[0];
  EXPECT_EQ(signal["series"], "Isotonitazene@US-OH");
  EXPECT_EQ(signal["place"], "US-OH");
  EXPECT_EQ(signal["cluster"]["locations"][0], "US-OH");
  EXPECT_LE(signal["cluster"]["p_value"].get<double>(), 0.01);
  EXPECT_EQ(signal["parameters"]["alpha"], 0.01);
  EXPECT_EQ(signal["parameters"]["stop_after"], 11);  // the alarms of all 999 replicates

  const json at_centre = Signals(analyst_gb_, "?detector=scan&place=US-OH");
  ASSERT_EQ(at_centre["signals"].size(), 1u) << at_centre.dump();
  // The batch scan of the same data, up to today, finds the same cluster.
  const std::string key = signal["substance"]["key"].get<std::string>();
  const std::string batch = test::SentinelOutput(fmt::format(
      "detect --db '{}' --method scan --substance '{}' --to {} --alpha 0.01 --stop-after 11 "
      "--format json",
      db_, key, Day(Today())));
  const json first_cluster = json::parse(batch.substr(0, batch.find('\n')));
  for (const char* field : {"start", "end", "observed", "locations", "p_value", "alarm"}) {
    EXPECT_EQ(first_cluster[field], signal["cluster"][field]) << field;
  }
  EXPECT_EQ(first_cluster["parameters"], signal["parameters"]);
  EXPECT_EQ(first_cluster["data"]["replicates_run"], 999);
  EXPECT_NEAR(first_cluster["llr"].get<double>(), signal["cluster"]["llr"].get<double>(), 1e-9);

  // More cases there this week: the same signal, updated.
  burst("c", 4);
  signals = wait(14);
  ASSERT_EQ(signals.size(), 1u) << signals.dump();
  EXPECT_EQ(signals[0]["first"], signal["first"]);
  EXPECT_EQ(signals[0]["alarms"], 1);
  EXPECT_GT(signals[0]["sequence"].get<std::int64_t>(), signal["sequence"].get<std::int64_t>());
}

// Pairs found together more often than their counts and history explain are judged live as
// `detect --method combinations` judges them, and stored as signals.
TEST_P(LiveDetection, APairBeyondExpectationIsASignal) {
  // Twelve quiet weeks: fentanyl and xylazine apart, together once every third week, cocaine.
  const chr::sys_days monday = Today() - chr::days{(chr::weekday(Today()).iso_encoding() - 1)};
  const fs::path jsonl = dir_ / "history.jsonl";
  {
    std::ofstream out(jsonl);
    int n = 0;
    const auto write = [&](chr::sys_days day, std::vector<std::string> names) {
      json substances = json::array();
      for (const std::string& name : names) substances.push_back({{"name", name}});
      out << json{{"kind", "seizure"},
                  {"idempotency_key", fmt::format("h{}", n++)},
                  {"distribution", "everyone"},
                  {"date", Day(day)},
                  {"place", {{"country", "US"}}},
                  {"substances", substances},
                  {"form", "powder"}}
                 .dump()
          << "\n";
    };
    for (int w = 12; w >= 1; --w) {
      const chr::sys_days day = monday - chr::days{7 * w};
      for (int i = 0; i < 4; ++i) write(day, {"Fentanyl"});
      for (int i = 0; i < 4; ++i) write(day, {"Xylazine"});
      for (int i = 0; i < 20; ++i) write(day, {"Cocaine"});
      if (w % 3 == 0) write(day, {"Fentanyl", "Xylazine"});
    }
  }
  ASSERT_NO_FATAL_FAILURE(ImportThenRestart(jsonl, {"--combinations-every", "0"}));

  // This week they come together sixteen times.
  for (int i = 0; i < 16; ++i) {
    json report = Seizure(fmt::format("t{}", i), "Fentanyl", Day(monday), "everyone");
    report["substances"].push_back({{"name", "Xylazine"}});
    Post(report, reporter_);
  }
  json signal;
  const auto deadline = chr::steady_clock::now() + chr::seconds(30);
  while (chr::steady_clock::now() < deadline) {
    const json page = Signals(analyst_us_, "?detector=combinations&limit=1000");
    for (const json& s : page["signals"]) {
      if (s["pair"]["together"].get<int>() >= 17) signal = s;
    }
    if (!signal.is_null()) break;
    std::this_thread::sleep_for(chr::milliseconds(50));
  }
  ASSERT_FALSE(signal.is_null()) << "no combinations signal within 30 s";
  EXPECT_EQ(signal["series"], "Fentanyl+Xylazine@*");
  EXPECT_EQ(signal["pair"]["beyond_expectation"], true);
  EXPECT_EQ(signal["pair"]["new"], false);
  EXPECT_LE(signal["pair"]["p_value"].get<double>(), signal["pair"]["threshold"].get<double>());

  // The batch command, on the same reports up to today, judges the pair alike.
  const std::string batch = test::SentinelOutput(
      fmt::format("detect --db '{}' --method combinations --audience US --to {} --format json", db_,
                  Day(Today())));
  std::istringstream lines(batch);
  bool compared = false;
  for (std::string line; std::getline(lines, line);) {
    const json row = json::parse(line);
    if (row["first"] != "Fentanyl" || row["second"] != "Xylazine") continue;
    for (const char* field : {"together", "first_count", "second_count", "samples",
                              "history_together", "beyond_expectation"}) {
      EXPECT_EQ(row[field], signal["pair"][field]) << field;
    }
    EXPECT_NEAR(row["p_value"].get<double>(), signal["pair"]["p_value"].get<double>(), 1e-12);
    compared = true;
  }
  EXPECT_TRUE(compared) << batch;
}

// What may not run live is refused before the server answers, naming the flag and the method.
TEST_P(LiveDetection, RefusesDetectorsThatCannotRunLive) {
  server_.reset();  // the fixture's server holds the port; these never start one
  const struct {
    std::string flags, names;
  } kCases[] = {{"--detect cusum", "--detect: method 'cusum'"},
                {"--detect-loads noufaily", "--detect-loads: method 'noufaily'"},
                {"--places '/no/such/places.csv'", "--places: cannot read"}};
  for (const auto& c : kCases) {
    std::string args;
    for (const std::string& a : args_) args += " '" + a + "'";
    const test::CommandResult r =
        test::SentinelCommand(fmt::format("serve{} --listen 127.0.0.1:0 {}", args, c.flags), dir_);
    EXPECT_EQ(r.code, 2) << c.flags << ": " << r.err;
    EXPECT_NE(r.err.find(c.names), std::string::npos) << c.flags << ": " << r.err;
  }
}

class LiveOutbreak : public LiveDetection {
 protected:
  void SetUp() override {
    history_weeks_ = 330;  // Noufaily: 5 years back, plus the 26 weeks it leaves out
    LiveDetection::SetUp();
  }
};

INSTANTIATE_TEST_SUITE_P(Backends, LiveOutbreak, ::testing::ValuesIn(test::Backends()),
                         [](const auto& backend) { return backend.param; });

TEST_P(LiveOutbreak, NoufailyAlarmsOnARiseAndAContinuingOutbreakIsOneSignal) {
  const chr::sys_days monday = Today() - chr::days{(chr::weekday(Today()).iso_encoding() - 1)};
  // Last week: 12 reports against a history of 2 or 3 a week.
  for (int i = 0; i < 12; ++i) {
    Post(Seizure(fmt::format("o1-{}", i), "Fentanyl", Day(monday - chr::days{7 - i % 5}),
                 "everyone"),
         reporter_);
  }
  json first = WaitFor(analyst_us_, "noufaily", "Fentanyl@US", 1, 12);
  ASSERT_EQ(first.size(), 1u) << first.dump();
  EXPECT_GT(first[0]["latest"]["observed"], first[0]["latest"]["upperbound"]);
  EXPECT_EQ(first[0]["parameters"]["noPeriods"], 10);
  EXPECT_EQ(first[0]["parameters"]["thresholdMethod"], "nbPlugin");
  // This week it goes on: the same signal, two alarms, the same first week.
  for (int i = 0; i < 12; ++i) {
    Post(Seizure(fmt::format("o2-{}", i), "Fentanyl", Day(Today()), "everyone"), reporter_);
  }
  json both = WaitFor(analyst_us_, "noufaily", "Fentanyl@US", 2, 12);
  ASSERT_EQ(both.size(), 1u) << both.dump();
  EXPECT_EQ(both[0]["first"], first[0]["first"]);
  EXPECT_EQ(both[0]["alarms"], 2);
  EXPECT_NE(both[0]["last"], first[0]["last"]);
  // The whole history was judged quiet before: no signal of the quiet weeks.
  EXPECT_EQ(WaitFor(analyst_gb_, "noufaily", "Fentanyl@*", 2, 12).size(), 1u);
}

// Latency through the real server under load: several clients post reports of substances the
// node has never seen, each a first detection; a poller watches /api/v1/signals. From each
// report's acknowledgement to its signal's appearance, p99 must stay under one second.
TEST_P(LiveDetection, SignalsAppearWithinOneSecondOfAcknowledgementUnderLoad) {
  constexpr int kClients = 4, kPerClient = 60;
  const std::string today = Day(Today());
  std::mutex mu;
  std::map<std::string, chr::steady_clock::time_point> acked, seen;
  std::atomic<bool> posting{true};
  chr::steady_clock::time_point deadline{};  // written before posting turns false
  std::thread poller([&] {
    httplib::Client c("127.0.0.1", server_->port());
    std::int64_t after = 0;
    while (true) {
      const bool last_pass = !posting.load();
      auto res =
          c.Get(fmt::format("/api/v1/signals?detector=first&place=US&limit=1000&after={}", after),
                Auth(analyst_us_));
      const auto now = chr::steady_clock::now();
      if (res && res->status == 200) {
        const json page = json::parse(res->body);
        after = page["next_after"].get<std::int64_t>();
        std::lock_guard lock(mu);
        for (const json& s : page["signals"]) {
          seen.try_emplace(NameOf(s), now);
        }
      }
      {
        std::lock_guard lock(mu);
        if (last_pass && seen.size() >= acked.size()) break;
      }
      if (last_pass && chr::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(chr::milliseconds(5));
    }
  });
  std::vector<std::thread> clients;
  for (int t = 0; t < kClients; ++t) {
    clients.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", server_->port());
      for (int i = 0; i < kPerClient; ++i) {
        const std::string name = fmt::format("Novel-{}-{}", t, i);
        auto res = c.Post("/api/v1/reports", Auth(reporter_),
                          Seizure(name, name, today, "everyone").dump(), "application/json");
        const auto now = chr::steady_clock::now();
        ASSERT_TRUE(res && res->status == 201) << (res ? res->body : "no answer");
        std::lock_guard lock(mu);
        acked[name] = now;
      }
    });
  }
  for (auto& c : clients) c.join();
  deadline = chr::steady_clock::now() + chr::seconds(10);
  posting = false;
  poller.join();

  std::vector<double> latency_ms;
  for (const auto& [name, at] : acked) {
    const auto found = seen.find(name);
    ASSERT_NE(found, seen.end()) << name << " raised no signal within 10 s";
    latency_ms.push_back(
        chr::duration<double, std::milli>(std::max(found->second, at) - at).count());
  }
  std::sort(latency_ms.begin(), latency_ms.end());
  const auto pct = [&](double q) {
    return latency_ms[std::min(
        latency_ms.size() - 1,
        static_cast<std::size_t>(q * static_cast<double>(latency_ms.size())))];
  };
  std::printf(
      "live detection, %d reports from %d clients: latency p50 %.0f ms, p99 %.0f ms, "
      "max %.0f ms\n",
      kClients * kPerClient, kClients, pct(0.5), pct(0.99), latency_ms.back());
  EXPECT_LT(pct(0.99), 1000.0);
}

}  // namespace
}  // namespace sentinel
