// What the PostgreSQL store promises beyond the shared contract (store_contract_test.cc):
// several nodes on one database, schema migration when they start together, append-only
// enforced by the database itself, and summaries identical to SQLite's.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <pqxx/pqxx>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include <unistd.h>

#include "adapters/postgres/pg_store.h"
#include "adapters/postgres/schema.h"
#include "adapters/sqlite/sqlite_store.h"
#include "core/reports/store.h"
#include "test/store/postgres_cluster.h"
#include "test/store/report_fixtures.h"

namespace sentinel::reports {
namespace {

const char* kFentanyl = "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1";
const char* kXylazine = "Cc1cccc(C)c1NC1=NCCCS1";

using test_fixtures::Mention;
using test_fixtures::Seizure;

// A SQLite database's files, removed when this goes out of scope (and when it is made, in case
// an earlier run left them).
struct SqliteFiles {
  explicit SqliteFiles(std::filesystem::path database) : path(std::move(database)) { Remove(); }
  SqliteFiles(const SqliteFiles&) = delete;
  SqliteFiles& operator=(const SqliteFiles&) = delete;
  ~SqliteFiles() { Remove(); }
  void Remove() const {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path.string() + suffix);
    }
  }
  std::filesystem::path path;
};

Principal Who(std::string organisation, std::string country, Role role) {
  Principal p;
  p.organisation = std::move(organisation);
  p.country = std::move(country);
  p.role = role;
  p.user = "tester";
  return p;
}

Status AddOrganisations(Store& store) {
  const Principal admin = NodeAdministrator();
  for (const Organisation& o : {Organisation{"lab-us", "US lab", "US", {"north-america"}},
                                Organisation{"ed-us", "US ED", "US", {}},
                                Organisation{"lab-ca", "CA lab", "CA", {"north-america"}}}) {
    if (Status s = store.PutOrganisation(admin, o); !s.ok()) return s;
  }
  return Status::Ok();
}

class PostgresStore : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    auto url = test::CreatePostgresTestDatabase(std::string("pg_") + info->name());
    if (!url.ok()) GTEST_SKIP() << url.status().ToString();
    url_ = *url;
  }

  std::unique_ptr<Store> Open() {
    auto store = postgres::OpenPostgresStore(url_);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    return store.ok() ? std::move(store).value() : nullptr;
  }

  std::string url_;
  const Principal lab_us_ = Who("lab-us", "US", Role::kReporter);
  const Principal ed_us_ = Who("ed-us", "US", Role::kReader);
};

// Two nodes on one database, many threads each, all submitting the same keys: every key is
// stored once, and every submitter is told the one stored report's id.
TEST_F(PostgresStore, TwoNodesRacingOnTheSameKeysStoreEachOnce) {
  auto first = Open();
  auto second = Open();
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(AddOrganisations(*first).ok());
  constexpr int kKeys = 60, kThreadsPerNode = 4;
  std::mutex mu;
  std::map<std::string, std::set<std::string>> ids_by_key;
  std::map<std::string, int> stored_by_key;  // outcomes that were not duplicates
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 2 * kThreadsPerNode; ++t) {
    Store* store = (t % 2 == 0 ? first : second).get();
    threads.emplace_back([&, store, t] {
      for (int i = 0; i < kKeys; ++i) {
        // Half the threads go through the keys backwards, so races happen throughout.
        const int k = t % 4 < 2 ? i : kKeys - 1 - i;
        const std::string key = fmt::format("race-{}", k);
        std::vector<SubmitOutcome> out;
        const SubmitItem item{Seizure(key, "2026-03-02", "US", "US-OH", Distribution::kEveryone),
                              {Mention("Fentanyl", kFentanyl), Mention("Xylazine", kXylazine)},
                              ""};
        const Status s = store->Submit(lab_us_, {item}, &out);
        std::lock_guard lock(mu);
        if (!s.ok() || out.size() != 1) {
          ++failures;
          ADD_FAILURE() << s.ToString();
          continue;
        }
        ids_by_key[key].insert(out[0].id);
        if (!out[0].duplicate) ++stored_by_key[key];
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(first->CountReports(), kKeys);
  ASSERT_EQ(ids_by_key.size(), static_cast<std::size_t>(kKeys));
  for (const auto& [key, ids] : ids_by_key) {
    EXPECT_EQ(ids.size(), 1u) << key;
    EXPECT_EQ(stored_by_key[key], 1) << key;
  }
  EXPECT_EQ(second->Substance(ed_us_, kXylazine)->reports, kKeys);
  EXPECT_TRUE(first->CheckIntegrity().ok());
}

// Batches overlapping in opposite orders: all-or-nothing holds, nothing is stored twice.
TEST_F(PostgresStore, OverlappingBatchesFromTwoNodes) {
  auto first = Open();
  auto second = Open();
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(AddOrganisations(*first).ok());
  constexpr int kBatches = 20, kBatchSize = 5;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    Store* store = (t % 2 == 0 ? first : second).get();
    threads.emplace_back([&, store, t] {
      for (int b = 0; b < kBatches; ++b) {
        std::vector<SubmitItem> batch;
        for (int i = 0; i < kBatchSize; ++i) {
          const int k = t < 2 ? i : kBatchSize - 1 - i;
          batch.push_back(
              {Seizure(fmt::format("batch-{}-{}", b, k), "2026-02-1" + std::to_string(k), "US", "",
                       Distribution::kNational),
               {Mention("Fentanyl", kFentanyl)},
               ""});
        }
        std::vector<SubmitOutcome> out;
        if (const Status s = store->Submit(lab_us_, batch, &out); !s.ok()) {
          ++failures;
          ADD_FAILURE() << s.ToString();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(first->CountReports(), kBatches * kBatchSize);
  EXPECT_TRUE(second->CheckIntegrity().ok());
}

// Two nodes correct the same report at once: neither correction is lost; the later one
// supersedes the earlier, and the summary counts the report once.
TEST_F(PostgresStore, ConcurrentCorrectionsFormOneChain) {
  auto first = Open();
  auto second = Open();
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(AddOrganisations(*first).ok());
  std::vector<SubmitOutcome> out;
  ASSERT_TRUE(first
                  ->Submit(lab_us_,
                           {{Seizure("v1", "2026-02-10", "US", "US-OH", Distribution::kEveryone),
                             {Mention("Fentanyl", kFentanyl)},
                             ""}},
                           &out)
                  .ok());
  const std::string id = out[0].id;
  std::vector<int> versions(2);
  std::vector<std::thread> threads;
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      Store* store = (t == 0 ? first : second).get();
      std::vector<SubmitOutcome> mine;
      const Status s = store->Submit(
          lab_us_,
          {{Seizure(fmt::format("fix-{}", t), "2026-02-10", "US", "US-OH", Distribution::kEveryone),
            {Mention("Fentanyl", kFentanyl)},
            id}},
          &mine);
      EXPECT_TRUE(s.ok()) << s.ToString();
      if (s.ok()) versions[t] = mine[0].version;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(std::set<int>(versions.begin(), versions.end()), (std::set<int>{2, 3}));
  auto latest = first->Get(ed_us_, id, 0);
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ(latest->version, 3);
  ReportQuery q;
  q.all_versions = true;
  EXPECT_EQ(first->Query(ed_us_, q)->reports.size(), 3u);
  AggregateQuery a;
  auto rows = second->Aggregate(ed_us_, a);
  ASSERT_TRUE(rows.ok());
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].reports, 1);
  EXPECT_TRUE(first->CheckIntegrity().ok());
}

TEST_F(PostgresStore, NodesStartingTogetherMigrateOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      auto store = postgres::OpenPostgresStore(url_);
      EXPECT_TRUE(store.ok()) << store.status().ToString();
      if (store.ok()) ++opened;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(opened.load(), 4);
  pqxx::connection c(url_);
  pqxx::read_transaction tx(c);
  EXPECT_EQ(tx.exec("SELECT COUNT(*) FROM schema_migrations")[0][0].as<std::size_t>(),
            std::size(postgres::kMigrations));
}

// Migration 3 re-keys the summary by visibility: a database whose counts were kept under
// migration 1's key (one row per organisation and distribution) gives every viewer the same
// aggregates afterwards.
TEST_F(PostgresStore, RekeyingTheSummaryKeepsEveryViewersAggregates) {
  const Principal lab_ca = Who("lab-ca", "CA", Role::kReporter);
  const std::vector<Principal> viewers = {lab_us_, ed_us_, lab_ca,
                                          Who("lab-gb", "GB", Role::kReader)};
  std::vector<std::vector<AggregateRow>> before;
  {
    auto store = Open();
    ASSERT_TRUE(store);
    ASSERT_TRUE(AddOrganisations(*store).ok());
    int k = 0;
    for (const Principal& who : {lab_us_, Who("ed-us", "US", Role::kReporter), lab_ca}) {
      for (Distribution d : {Distribution::kOrganisation, Distribution::kNational,
                             Distribution::kTrustedGroup, Distribution::kEveryone}) {
        SubmitItem item;
        item.report = Seizure(fmt::format("k{}", k++), "2026-01-06", "US", "US-OH", d);
        item.mentions = {Mention("Fentanyl", kFentanyl)};
        const Status stored = store->Submit(who, {item}, nullptr);
        ASSERT_TRUE(stored.ok()) << stored.ToString();
      }
    }
    for (const Principal& viewer : viewers) {
      auto rows = store->Aggregate(viewer, {});
      ASSERT_TRUE(rows.ok());
      before.push_back(*rows);
    }
  }
  {
    // Migration 1's table, filled as it kept it, and the version set back to 2.
    pqxx::connection c(url_);
    pqxx::work tx(c);
    tx.exec(
        "DROP TABLE counts; DROP TABLE organisation_countries; CREATE TABLE counts (period "
        "SMALLINT NOT NULL, start_day INTEGER NOT NULL, substance BIGINT NOT NULL, country TEXT "
        "COLLATE \"C\" NOT NULL, subdivision TEXT COLLATE \"C\" NOT NULL, kind SMALLINT NOT "
        "NULL, organisation TEXT COLLATE \"C\" NOT NULL, org_country TEXT COLLATE \"C\" NOT NULL, "
        "distribution SMALLINT NOT NULL, n BIGINT NOT NULL, PRIMARY KEY (period, start_day, "
        "substance, country, subdivision, kind, organisation, org_country, distribution)); "
        "INSERT INTO counts SELECT p.period, CASE p.period WHEN 0 THEN r.day - ((r.day + 3) % 7 "
        "+ 7) % 7 ELSE r.month_day END, rs.substance, r.country, r.subdivision, r.kind, "
        "r.organisation, r.org_country, r.distribution, COUNT(DISTINCT r.seq) FROM reports r "
        "JOIN report_substances rs ON rs.seq = r.seq CROSS JOIN (VALUES (0), (1)) p(period) "
        "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9; DELETE FROM schema_migrations WHERE version >= 3;");
    tx.commit();
  }
  auto store = Open();
  ASSERT_TRUE(store);
  EXPECT_TRUE(store->CheckIntegrity().ok()) << store->CheckIntegrity().ToString();
  for (std::size_t v = 0; v < viewers.size(); ++v) {
    auto rows = store->Aggregate(viewers[v], {});
    ASSERT_TRUE(rows.ok());
    ASSERT_EQ(rows->size(), before[v].size()) << viewers[v].organisation;
    for (std::size_t i = 0; i < rows->size(); ++i) {
      EXPECT_EQ((*rows)[i].reports, before[v][i].reports) << viewers[v].organisation;
    }
  }
  // lab-us sees its 4, ed-us's national and everyone, lab-ca's trusted and everyone.
  ASSERT_EQ(before[0].size(), 1u);
  EXPECT_EQ(before[0][0].reports, 8);
  EXPECT_EQ(before[3][0].reports, 3);  // lab-gb: the three for everyone
}

TEST_F(PostgresStore, RefusesANewerSchema) {
  ASSERT_TRUE(Open());
  {
    pqxx::connection c(url_);
    pqxx::work tx(c);
    tx.exec_params("INSERT INTO schema_migrations(version) VALUES($1)",
                   std::size(postgres::kMigrations) + 1);
    tx.commit();
  }
  auto store = postgres::OpenPostgresStore(url_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(store.status().message().find("newer than this Sentinel knows"), std::string::npos);
}

// Append-only is the database's rule, not only the store's habit: changing or removing
// history by hand fails, and switching a trigger off makes the integrity check fail.
TEST_F(PostgresStore, DatabaseRefusesToRewriteHistory) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(AddOrganisations(*store).ok());
  std::vector<SubmitOutcome> out;
  ASSERT_TRUE(store
                  ->Submit(lab_us_,
                           {{Seizure("h1", "2026-02-10", "US", "US-OH", Distribution::kEveryone),
                             {Mention("Fentanyl", kFentanyl)},
                             ""}},
                           &out)
                  .ok());
  const std::string fix_id = out[0].id;
  ASSERT_TRUE(store
                  ->Submit(lab_us_,
                           {{Seizure("h2", "2026-02-11", "US", "US-OH", Distribution::kEveryone),
                             {Mention("Fentanyl", kFentanyl)},
                             fix_id}},
                           &out)
                  .ok());
  auto token = store->CreateToken(NodeAdministrator(), "hash", {0, "lab-us", "u", Role::kReader});
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(store->RevokeToken(NodeAdministrator(), *token).ok());

  pqxx::connection c(url_);
  const auto refused = [&](const std::string& sql) -> std::string {
    try {
      pqxx::work tx(c);
      tx.exec(sql);
      tx.commit();
    } catch (const pqxx::sql_error& e) {
      return e.what();
    }
    return "(accepted)";
  };
  EXPECT_NE(refused("UPDATE reports SET country = 'GB'").find("reports are append-only"),
            std::string::npos);
  EXPECT_NE(refused("DELETE FROM reports").find("reports are append-only"), std::string::npos);
  EXPECT_NE(refused("TRUNCATE report_substances CASCADE").find("reports are append-only"),
            std::string::npos);
  EXPECT_NE(refused("DELETE FROM supersessions").find("supersessions are append-only"),
            std::string::npos);
  EXPECT_NE(refused("UPDATE audit SET detail = ''").find("the audit log is append-only"),
            std::string::npos);
  EXPECT_NE(refused("DELETE FROM token_revocations").find("revocations are permanent"),
            std::string::npos);
  EXPECT_EQ(store->CountReports(), 2);

  // With amcheck installed the integrity check also verifies every index.
  {
    pqxx::work tx(c);
    tx.exec("CREATE EXTENSION amcheck");
    tx.commit();
  }
  EXPECT_TRUE(store->CheckIntegrity().ok()) << store->CheckIntegrity().ToString();
  {
    pqxx::work tx(c);
    tx.exec("ALTER TABLE audit DISABLE TRIGGER audit_append_only");
    tx.commit();
  }
  const Status check = store->CheckIntegrity();
  EXPECT_EQ(check.code(), Status::Code::kCorruption);
  EXPECT_NE(check.message().find("audit_append_only"), std::string::npos) << check.ToString();
}

// A node can run as a role that owns nothing: it reads and appends, but cannot switch the
// append-only triggers off (only the tables' owner can), so history is safe from the node too.
TEST_F(PostgresStore, RunsAsARoleThatOwnsNothing) {
  ASSERT_TRUE(Open());  // migrated by the owner
  {
    pqxx::connection c(url_);
    pqxx::work tx(c);
    if (tx.exec("SELECT 1 FROM pg_roles WHERE rolname = 'sentinel_node'").empty()) {
      tx.exec("CREATE ROLE sentinel_node LOGIN");
    }
    tx.exec("GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO sentinel_node");
    // Upserts of organisations and of the summary, and the replacement of a group list.
    tx.exec("GRANT UPDATE ON organisations, counts TO sentinel_node");
    tx.exec("GRANT DELETE ON organisation_groups TO sentinel_node");
    tx.commit();
  }
  const std::string node_url =
      std::string(url_).replace(url_.find("postgres@"), 9, "sentinel_node@");
  auto opened = postgres::OpenPostgresStore(node_url);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  auto store = std::move(opened).value();
  ASSERT_TRUE(AddOrganisations(*store).ok());
  std::vector<SubmitOutcome> out;
  ASSERT_TRUE(store
                  ->Submit(lab_us_,
                           {{Seizure("n1", "2026-02-10", "US", "US-OH", Distribution::kEveryone),
                             {Mention("Fentanyl", kFentanyl)},
                             ""}},
                           &out)
                  .ok());
  auto token = store->CreateToken(NodeAdministrator(), "hash", {0, "lab-us", "u", Role::kReader});
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_TRUE(store->RevokeToken(NodeAdministrator(), *token).ok());
  EXPECT_TRUE(store->CheckIntegrity().ok()) << store->CheckIntegrity().ToString();

  pqxx::connection node(node_url);
  pqxx::work tx(node);
  EXPECT_THROW(tx.exec("ALTER TABLE reports DISABLE TRIGGER reports_append_only"), pqxx::sql_error);
}

TEST(PostgresStoreOpen, UnreachableServerIsAnIoError) {
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  auto store = postgres::OpenPostgresStore("postgresql://sentinel@127.0.0.1:1/none");
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kIoError);
  EXPECT_NE(store.status().message().find("cannot connect to PostgreSQL"), std::string::npos);
}

// The same reports give the same answers on both backends: weeks start on the same Monday
// (before 1970, across years and leap days too), months on the same first, places and
// substances sort alike.
TEST_F(PostgresStore, SameAnswersAsSqlite) {
  auto pg = Open();
  ASSERT_TRUE(pg);
  const auto sqlite_path =
      std::filesystem::temp_directory_path() / fmt::format("sentinel-pg-vs-sqlite-{}.db", getpid());
  // Declared before the store, so the files go after it has closed them, however the test ends.
  const SqliteFiles sqlite_files{sqlite_path};
  sqlite::SqliteOptions lite_options;
  lite_options.synchronous_full = false;
  auto lite_result = sqlite::OpenSqliteStore(sqlite_path.string(), lite_options);
  ASSERT_TRUE(lite_result.ok()) << lite_result.status().ToString();
  auto lite = std::move(lite_result).value();
  ASSERT_TRUE(AddOrganisations(*pg).ok());
  ASSERT_TRUE(AddOrganisations(*lite).ok());

  const std::vector<std::string> dates = {
      "1969-12-28", "1969-12-29", "1969-12-31", "1970-01-01", "1970-01-04", "1970-01-05",
      "1999-12-31", "2000-01-01", "2000-02-29", "2000-03-01", "2020-12-31", "2021-01-03",
      "2021-01-04", "2024-02-29", "2025-12-29", "2026-01-01", "2026-03-01", "2026-03-02"};
  const std::vector<std::pair<std::string, std::string>> places = {
      {"US", "US-OH"}, {"US", "US-WV"}, {"US", ""}, {"CA", "CA-ON"}};
  const std::vector<ResolvedMention> mentions = {
      Mention("Fentanyl", kFentanyl, {"fentanyl-related"}),
      Mention("Xylazine", kXylazine, {"alpha-2 agonist"}), Mention("Bromazolam", ""),
      Mention("bromazolam", "")};
  std::map<std::string, std::pair<std::string, std::string>> ids;  // key -> (pg id, sqlite id)
  int n = 0;
  for (const auto& date : dates) {
    for (std::size_t p = 0; p < places.size(); ++p) {
      const std::string key = fmt::format("s{}", n);
      const auto distribution = static_cast<Distribution>(n % 4);
      const Principal& who =
          places[p].first == "CA" ? Who("lab-ca", "CA", Role::kReporter) : lab_us_;
      std::vector<ResolvedMention> named = {mentions[static_cast<std::size_t>(n) % 4]};
      if (n % 3 == 0) named.push_back(mentions[(static_cast<std::size_t>(n) + 1) % 4]);
      const SubmitItem item{Seizure(key, date, places[p].first, places[p].second, distribution),
                            named, ""};
      std::vector<SubmitOutcome> a, b;
      ASSERT_TRUE(pg->Submit(who, {item}, &a).ok());
      ASSERT_TRUE(lite->Submit(who, {item}, &b).ok());
      ids[key] = {a[0].id, b[0].id};
      ++n;
    }
  }
  // Corrections move reports between weeks, places and substances.
  for (int i = 0; i < n; i += 7) {
    const std::string key = fmt::format("s{}", i);
    const Principal& who = places[static_cast<std::size_t>(i) % places.size()].first == "CA"
                               ? Who("lab-ca", "CA", Role::kReporter)
                               : lab_us_;
    SubmitItem fix{Seizure(key + "-fix", dates[static_cast<std::size_t>(i) % dates.size()], "US",
                           "US-WV", Distribution::kEveryone),
                   {mentions[2]},
                   ids[key].first};
    std::vector<SubmitOutcome> out;
    const Status on_pg = pg->Submit(who, {fix}, &out);
    ASSERT_TRUE(on_pg.ok()) << on_pg.ToString();
    fix.supersedes = ids[key].second;
    const Status on_sqlite = lite->Submit(who, {fix}, &out);
    ASSERT_TRUE(on_sqlite.ok()) << on_sqlite.ToString();
  }

  const Principal ca_reader = Who("lab-ca", "CA", Role::kReader);
  const auto aggregate_text = [&](Store& store, const Principal& viewer, AggregateQuery q) {
    std::string text;
    auto rows = store.Aggregate(viewer, q);
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    if (!rows.ok()) return text;
    for (const auto& r : *rows) {
      text += fmt::format("{} {} {} {}\n", r.period_start, r.substance_key, r.place, r.reports);
    }
    return text;
  };
  // A node with one connection reads every range of an aggregate on it; with more, it reads
  // one range on a second connection in the same snapshot. Both must agree with SQLite.
  postgres::PostgresOptions one_connection;
  one_connection.max_connections = 1;
  auto pg_one = postgres::OpenPostgresStore(url_, one_connection);
  ASSERT_TRUE(pg_one.ok()) << pg_one.status().ToString();
  for (const Principal& viewer : {lab_us_, ed_us_, ca_reader}) {
    for (const Period period : {Period::kWeek, Period::kMonth}) {
      for (const bool by_subdivision : {false, true}) {
        AggregateQuery q;
        q.period = period;
        q.by_subdivision = by_subdivision;
        const std::string expected = aggregate_text(*lite, viewer, q);
        EXPECT_FALSE(expected.empty());
        EXPECT_EQ(aggregate_text(*pg, viewer, q), expected);
        EXPECT_EQ(aggregate_text(**pg_one, viewer, q), expected);
        q.from = "1970-01-01";
        q.to = "2021-01-03";
        q.substance_class = "fentanyl-related";
        EXPECT_EQ(aggregate_text(*pg, viewer, q), aggregate_text(*lite, viewer, q));
        EXPECT_EQ(aggregate_text(**pg_one, viewer, q), aggregate_text(*lite, viewer, q));
      }
    }
    // Reports, newest first, with their versions and substances; ids differ by backend.
    const auto query_text = [&](Store& store, const ReportQuery& q, bool pg_ids) {
      std::map<std::string, std::string> id_to_key;
      for (const auto& [key, both] : ids) id_to_key[pg_ids ? both.first : both.second] = key;
      std::string text;
      auto page = store.Query(viewer, q);
      EXPECT_TRUE(page.ok());
      if (!page.ok()) return text;
      for (const auto& r : page->reports) {
        text += fmt::format("{} v{} {} {} {} {} {} [{}]\n", id_to_key[r.id], r.version, r.latest,
                            r.date, r.country, r.subdivision, r.organisation,
                            fmt::join(r.substance_keys, ","));
      }
      return text;
    };
    ReportQuery q;
    q.limit = 1000;
    q.all_versions = true;
    EXPECT_EQ(query_text(*pg, q, true), query_text(*lite, q, false));
    q.all_versions = false;
    q.from = "1969-12-29";
    q.to = "2000-02-29";
    q.place = "US";
    EXPECT_EQ(query_text(*pg, q, true), query_text(*lite, q, false));

    const auto substances_text = [&](Store& store) {
      std::string text;
      auto list = store.Substances(viewer, 100);
      EXPECT_TRUE(list.ok());
      if (!list.ok()) return text;
      for (const auto& s : *list) {
        text += fmt::format("{} {} [{}] {} {} {}\n", s.substance.key, s.substance.name,
                            fmt::join(s.substance.classes, ","), s.reports, s.first_reported,
                            s.latest_reported);
      }
      return text;
    };
    EXPECT_EQ(substances_text(*pg), substances_text(*lite));
    for (const char* key : {kFentanyl, "name:Bromazolam", "FENTANYL", "nothing"}) {
      auto a = pg->Substance(viewer, key);
      auto b = lite->Substance(viewer, key);
      ASSERT_EQ(a.ok(), b.ok()) << key;
      if (a.ok()) {
        EXPECT_EQ(a->substance.key, b->substance.key);
        EXPECT_EQ(a->reports, b->reports);
        EXPECT_EQ(a->first_reported, b->first_reported);
        EXPECT_EQ(a->latest_reported, b->latest_reported);
      }
    }
  }
  EXPECT_TRUE(pg->CheckIntegrity().ok());
  EXPECT_TRUE(lite->CheckIntegrity().ok());
}

}  // namespace
}  // namespace sentinel::reports
