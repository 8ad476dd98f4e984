// End to end: a real `sentinel serve` on loopback, driven over HTTP.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "test/store/backends.h"
#include "test/store/postgres_cluster.h"
#include "test/support/server_process.h"

namespace sentinel {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

using test::SentinelOutput;

json Seizure(const std::string& key, json substances, const std::string& date = "2026-03-02",
             json place = {{"country", "US"}, {"subdivision", "US-OH"}}) {
  return {{"kind", "seizure"}, {"idempotency_key", key}, {"distribution", "everyone"},
          {"date", date},      {"place", place},         {"substances", substances},
          {"form", "powder"}};
}

// One node per backend, started on first use and kept for every test of that backend.
struct Deployment {
  fs::path dir;
  std::string db, reporter, reader, admin;
  std::unique_ptr<test::ServerProcess> server;
  std::string skip_reason;  // set when the backend is not available here
};

std::unique_ptr<Deployment> Deploy(const std::string& backend) {
  auto d = std::make_unique<Deployment>();
  d->dir =
      fs::temp_directory_path() / fmt::format("sentinel-serve-test-{}-{}", backend, ::getpid());
  fs::remove_all(d->dir);
  fs::create_directories(d->dir);
  std::vector<std::string> args;
  if (backend == "postgresql") {
    auto url = test::CreatePostgresTestDatabase("serve_e2e");
    if (!url.ok()) {
      d->skip_reason = url.status().ToString();
      return d;
    }
    d->db = *url;
    // A database that is not a file has no place for the key beside it.
    args = {"--db", d->db, "--key-file", (d->dir / "node.key").string()};
  } else {
    d->db = (d->dir / "node.db").string();
    args = {"--db", d->db};
  }
  const std::string db = fmt::format(" --db '{}'", d->db);
  int code = 0;
  SentinelOutput("admin organisation" + db + " --id lab-oh --country US --group midwest", &code);
  EXPECT_EQ(code, 0);
  SentinelOutput("admin organisation" + db + " --id ed-gb --country GB", &code);
  EXPECT_EQ(code, 0);
  d->reporter =
      SentinelOutput("admin token" + db + " --organisation lab-oh --user bench-1 --role reporter");
  d->reader =
      SentinelOutput("admin token" + db + " --organisation ed-gb --user triage --role reader");
  d->admin = SentinelOutput("admin token" + db + " --organisation lab-oh --user lead --role admin");
  EXPECT_EQ(d->reporter.rfind("snt_", 0), 0u) << d->reporter;
  d->server = std::make_unique<test::ServerProcess>();
  EXPECT_TRUE(d->server->Start(args, (d->dir / "server.log").string())) << d->server->error();
  return d;
}

class ServeTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    auto& d = deployments_[GetParam()];
    if (!d) d = Deploy(GetParam());
    if (!d->skip_reason.empty()) GTEST_SKIP() << d->skip_reason;
    ASSERT_TRUE(d->server && d->server->port() > 0) << "the server did not start";
    server_ = d->server.get();
    reporter_ = d->reporter;
    reader_ = d->reader;
    admin_ = d->admin;
  }
  static void TearDownTestSuite() {
    for (auto& [backend, d] : deployments_) {
      d->server.reset();
      fs::remove_all(d->dir);
    }
    deployments_.clear();
  }

  httplib::Client Client() const {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(60, 0);
    return c;
  }
  static httplib::Headers Auth(const std::string& token) {
    return {{"Authorization", "Bearer " + token}};
  }
  json Post(const std::string& path, const json& body, const std::string& token, int expect) {
    auto res = Client().Post(path, Auth(token), body.dump(), "application/json");
    EXPECT_TRUE(res) << path;
    if (!res) return {};
    EXPECT_EQ(res->status, expect) << path << " " << res->body;
    return json::parse(res->body, nullptr, false);
  }
  json Get(const std::string& path, const std::string& token, int expect = 200) {
    auto res = Client().Get(path, Auth(token));
    EXPECT_TRUE(res) << path;
    if (!res) return {};
    EXPECT_EQ(res->status, expect) << path << " " << res->body;
    return json::parse(res->body, nullptr, false);
  }
  std::size_t VisibleReports(const std::string& token) {
    return Get("/api/v1/reports?limit=1000", token)["reports"].size();
  }

  static inline std::map<std::string, std::unique_ptr<Deployment>> deployments_;
  std::string reporter_, reader_, admin_;
  test::ServerProcess* server_ = nullptr;
};

INSTANTIATE_TEST_SUITE_P(Backends, ServeTest, ::testing::ValuesIn(test::Backends()),
                         [](const auto& backend) { return backend.param; });

TEST_P(ServeTest, HealthIsOpenEverythingElseNeedsAToken) {
  auto res = Client().Get("/health");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  for (const char* path : {"/api/v1/reports", "/api/v1/aggregates", "/api/v1/substances",
                           "/api/v1/openapi.json", "/api/v1/audit"}) {
    auto r = Client().Get(path);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 401) << path;
    EXPECT_EQ(Get(path, "snt_not-a-real-token", 401)["error"]["code"], "unauthenticated");
  }
  auto post = Client().Post("/api/v1/reports", "{}", "application/json");
  EXPECT_EQ(post->status, 401);
}

TEST_P(ServeTest, SubmitReadBackAndReplayIdempotently) {
  const json body = Seizure("e2e-1", {{{"name", "Fentanyl"}, {"purity_percent", 12.5}},
                                      {{"name", "Xylazine"}, {"role", "adulterant"}}});
  json first = Post("/api/v1/reports", body, reporter_, 201);
  ASSERT_TRUE(first.contains("id")) << first;
  EXPECT_EQ(first["duplicate"], false);
  json again = Post("/api/v1/reports", body, reporter_, 200);
  EXPECT_EQ(again["id"], first["id"]);
  EXPECT_EQ(again["duplicate"], true);
  json got = Get("/api/v1/reports/" + first["id"].get<std::string>(), reader_);
  EXPECT_EQ(got["organisation"], "lab-oh");
  EXPECT_EQ(got["subdivision"], "US-OH");
  EXPECT_EQ(got["report"]["substances"][0]["name"], "Fentanyl");
  // Fentanyl resolves to the knowledge base's entry, with its structure and classification.
  json fentanyl = Get("/api/v1/substances/Fentanyl", reader_);
  EXPECT_EQ(fentanyl["in_knowledge_base"], true);
  EXPECT_EQ(fentanyl["classification"]["jurisdictions"]["US"]["status"], "controlled");
  EXPECT_NE(fentanyl["structure_svg"].get<std::string>().find("<svg"), std::string::npos);
  auto svg = Client().Get("/api/v1/substances/Fentanyl/structure.svg", Auth(reader_));
  EXPECT_EQ(svg->status, 200);
  EXPECT_EQ(svg->get_header_value("Content-Type"), "image/svg+xml");
}

TEST_P(ServeTest, NewStructureIsRecordedAsANewSubstance) {
  // 2-fluoro-valerylfentanyl: in no list, inside the US class definition.
  const std::string smiles = "CCCCC(=O)N(c1ccccc1F)C1CCN(CCc2ccccc2)CC1";
  Post("/api/v1/reports", Seizure("e2e-new", {{{"smiles", smiles}, {"name", "unknown powder A"}}}),
       reporter_, 201);
  json list = Get("/api/v1/reports?substance=unknown%20powder%20A", reader_);
  ASSERT_EQ(list["reports"].size(), 1u) << list;
  const std::string key = list["reports"][0]["substances"][0];
  json s = Get("/api/v1/substances/" + httplib::detail::encode_query_param(key), reader_);
  EXPECT_EQ(s["in_knowledge_base"], false);
  EXPECT_EQ(s["classification"]["jurisdictions"]["US"]["basis"], "class");
  EXPECT_EQ(s["reports"], 1);
}

TEST_P(ServeTest, BadInputIsRefusedWithPathsAndNothingIsStored) {
  const std::size_t before = VisibleReports(admin_);
  json bad = Seizure("e2e-bad", {{{"name", "Fentanyl"}}});
  bad["colour"] = "blue";
  bad["date"] = "2026-13-40";
  json r = Post("/api/v1/reports", bad, reporter_, 400);
  std::set<std::string> paths;
  for (const auto& f : r["error"]["fields"]) paths.insert(f["path"]);
  EXPECT_TRUE(paths.count("$.colour")) << r;
  EXPECT_TRUE(paths.count("$.date")) << r;
  json personal = Seizure("e2e-pii", {{{"name", "Fentanyl"}}});
  personal["patient_name"] = "John Smith";
  r = Post("/api/v1/reports", personal, reporter_, 400);
  EXPECT_NE(r.dump().find("person"), std::string::npos) << r;
  json phone = Seizure("e2e-phone", {{{"name", "Fentanyl"}}});
  phone["notes"] = "call the owner on +44 20 7946 0958";
  Post("/api/v1/reports", phone, reporter_, 400);
  auto not_json = Client().Post("/api/v1/reports", Auth(reporter_), "{nope", "application/json");
  EXPECT_EQ(not_json->status, 400);
  // A batch with one bad report stores none of them.
  json batch = {{"reports", {Seizure("e2e-b1", {{{"name", "Heroin"}}}), bad}}};
  r = Post("/api/v1/reports/batch", batch, reporter_, 400);
  EXPECT_EQ(r["error"]["fields"][0]["path"].get<std::string>().rfind("$.reports[1]", 0), 0u) << r;
  // Too large.
  std::string huge(2 * 1024 * 1024, ' ');
  auto big = Client().Post("/api/v1/reports", Auth(reporter_), huge, "application/json");
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(VisibleReports(admin_), before);
  // Query parameters are checked too.
  EXPECT_EQ(Get("/api/v1/reports?kind=rumour", reader_, 400)["error"]["fields"][0]["path"],
            "query.kind");
  Get("/api/v1/reports?from=yesterday", reader_, 400);
  Get("/api/v1/reports?bogus=1", reader_, 400);
}

TEST_P(ServeTest, RolesAndDistribution) {
  Post("/api/v1/reports", Seizure("e2e-role", {{{"name", "Heroin"}}}), reader_, 403);
  json own = Seizure("e2e-private", {{{"name", "Carfentanil"}}});
  own["distribution"] = "organisation";
  json stored = Post("/api/v1/reports", own, reporter_, 201);
  Get("/api/v1/reports/" + stored["id"].get<std::string>(), reader_, 404);
  Get("/api/v1/reports/" + stored["id"].get<std::string>(), admin_, 200);
  Get("/api/v1/audit", reporter_, 403);
  json audit = Get("/api/v1/audit", admin_);
  bool found = false;
  for (const auto& e : audit["entries"]) found |= e["target"] == stored["id"];
  EXPECT_TRUE(found) << "every write is audited";
}

TEST_P(ServeTest, QueriesAggregatesAndCorrections) {
  json batch = {
      {"reports",
       {Seizure("e2e-q1", {{{"name", "Bromazolam"}}}, "2026-01-05",
                {{"country", "US"}, {"subdivision", "US-WV"}}),
        Seizure("e2e-q2", {{{"name", "Bromazolam"}}}, "2026-01-07",
                {{"country", "US"}, {"subdivision", "US-OH"}}),
        Seizure("e2e-q3", {{{"name", "Bromazolam"}}}, "2026-01-14", {{"country", "US"}})}}};
  json out = Post("/api/v1/reports/batch", batch, reporter_, 201);
  ASSERT_EQ(out["results"].size(), 3u);
  json by_country = Get("/api/v1/reports?substance=Bromazolam&place=US", reader_);
  EXPECT_EQ(by_country["reports"].size(), 3u);  // before the tablet below
  json wv = Get("/api/v1/reports?substance=Bromazolam&place=US-WV", reader_);
  EXPECT_EQ(wv["reports"].size(), 1u);
  // By form, and with a second substance.
  json tablet = Seizure("e2e-q4", {{{"name", "Bromazolam"}}, {{"name", "Xylazine"}}}, "2026-01-15",
                        {{"country", "US"}});
  tablet["form"] = "tablet";
  Post("/api/v1/reports", tablet, reporter_, 201);
  json tablets = Get("/api/v1/reports?substance=Bromazolam&form=tablet", reader_);
  ASSERT_EQ(tablets["reports"].size(), 1u) << tablets;
  EXPECT_EQ(tablets["reports"][0]["report"]["form"], "tablet");
  EXPECT_EQ(Get("/api/v1/reports?substance=Bromazolam&with=Xylazine", reader_)["reports"].size(),
            1u);
  EXPECT_EQ(Get("/api/v1/reports?substance=Bromazolam&form=powder", reader_)["reports"].size(), 3u);
  json weekly = Get("/api/v1/aggregates?substance=Bromazolam&period=week", reader_);
  ASSERT_EQ(weekly["rows"].size(), 2u) << weekly;
  EXPECT_EQ(weekly["rows"][0]["period_start"], "2026-01-05");
  EXPECT_EQ(weekly["rows"][0]["reports"], 2);
  json monthly =
      Get("/api/v1/aggregates?substance=Bromazolam&period=month&by=subdivision", reader_);
  EXPECT_EQ(monthly["rows"].size(), 3u);
  // A correction: version 2 replaces version 1 in queries and counts; both stay readable.
  const std::string id = out["results"][0]["id"];
  json fixed = Seizure("e2e-q1-fix", {{{"name", "Etizolam"}}}, "2026-01-05",
                       {{"country", "US"}, {"subdivision", "US-WV"}});
  json v2 = Post("/api/v1/reports/" + id + "/versions", fixed, reporter_, 201);
  EXPECT_EQ(v2["version"], 2);
  EXPECT_EQ(Get("/api/v1/reports?substance=Bromazolam&place=US", reader_)["reports"].size(), 3u);
  EXPECT_EQ(Get("/api/v1/reports/" + id + "?version=1", reader_)["latest"], false);
  EXPECT_EQ(Get("/api/v1/reports/" + id, reader_)["version"], 2);
  // Paging with a cursor returns every report once.
  std::set<std::string> seen;
  std::string cursor;
  for (int i = 0; i < 100; ++i) {
    json page =
        Get("/api/v1/reports?limit=2" + (cursor.empty() ? "" : "&cursor=" + cursor), admin_);
    for (const auto& r : page["reports"]) EXPECT_TRUE(seen.insert(r["id"]).second);
    if (page["next_cursor"].is_null()) break;
    cursor = page["next_cursor"];
  }
  EXPECT_EQ(seen.size(), VisibleReports(admin_));
}

TEST_P(ServeTest, ClassifyIdentifyAndOpenApiOverHttp) {
  json c = Post("/api/v1/classify", {{"structure", "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"}},
                reader_, 200);
  EXPECT_EQ(c["name"], "Fentanyl");
  json many =
      Post("/api/v1/classify", {{"structures", {"Heroin", "not a molecule"}}}, reader_, 200);
  ASSERT_EQ(many["results"].size(), 2u);
  EXPECT_TRUE(many["results"][1]["error"].is_string());
  Post("/api/v1/classify", {{"smiles", "C"}}, reader_, 400);
  // A spectrum as two-column text: cocaine's main EI peaks.
  auto res =
      Client().Post("/api/v1/identify", Auth(reader_),
                    "82 100\n182 70\n83 35\n105 30\n77 28\n303 25\n94 22\n96 15\n", "text/plain");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  json id = json::parse(res->body);
  ASSERT_EQ(id["results"].size(), 1u);
  EXPECT_FALSE(id["results"][0]["hits"].empty());
  json api = Get("/api/v1/openapi.json", reader_);
  EXPECT_EQ(api["openapi"].get<std::string>().rfind("3.", 0), 0u);
}

}  // namespace
}  // namespace sentinel
