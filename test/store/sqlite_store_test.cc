// SQLite-only behaviour of the report store: its migrations on an existing database, ids, and
// the summary kept in a file of its own.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "adapters/sqlite/sqlite_store.h"

namespace sentinel::reports {
namespace {

namespace fs = std::filesystem;

Principal Lab() {
  Principal p;
  p.organisation = "lab-us";
  p.country = "US";
  p.role = Role::kReporter;
  p.user = "tester";
  return p;
}

Principal Ed() {
  Principal p = Lab();
  p.organisation = "ed-us";
  return p;
}

SubmitItem Item(const std::string& key, const std::string& date, const std::string& smiles) {
  SubmitItem item;
  Report& r = item.report;
  r.kind = Kind::kSeizure;
  r.idempotency_key = key;
  r.distribution = Distribution::kEveryone;
  r.date = ParseDay(date).value();
  r.country = "US";
  r.subdivision = "US-OH";
  r.body = {{"idempotency_key", key}};
  ResolvedMention m;
  auto record = std::make_shared<SubstanceRecord>();
  record->key = smiles;
  record->name = smiles;
  record->smiles = smiles;
  m.substance = std::move(record);
  m.role = "main";
  m.resolved_by = "smiles";
  item.mentions.push_back(std::move(m));
  return item;
}

void Exec(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

// The summary is derived from the reports and recounted from them when it is missing: a
// database from before the summary had a file of its own (its counts under migration 1's key,
// no summary file) opens with counts that match its reports, and every viewer's aggregate
// stays the same.
TEST(SqliteMigrations, SummaryRebuiltFromTheReports) {
  const fs::path dir = fs::temp_directory_path() / ("sentinel-migrate-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "node.db").string();
  std::vector<AggregateRow> before;
  {
    auto store = sqlite::OpenSqliteStore(path);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->PutOrganisation(NodeAdministrator(), {"lab-us", "lab", "US", {}}).ok());
    std::vector<SubmitOutcome> out;
    ASSERT_TRUE((*store)
                    ->Submit(Lab(),
                             {Item("a", "2026-01-05", "CCO"), Item("b", "2026-01-07", "CCO"),
                              Item("c", "2026-02-11", "CCN")},
                             &out)
                    .ok());
    // A correction: the first report moves to another substance.
    SubmitItem fix = Item("a-fix", "2026-01-05", "CCN");
    fix.supersedes = out[0].id;
    ASSERT_TRUE((*store)->Submit(Lab(), {fix}, nullptr).ok());
    // Every distribution level, from a second organisation of the same country.
    ASSERT_TRUE((*store)->PutOrganisation(NodeAdministrator(), {"ed-us", "ed", "US", {}}).ok());
    int k = 0;
    for (Distribution d : {Distribution::kOrganisation, Distribution::kNational,
                           Distribution::kTrustedGroup, Distribution::kEveryone}) {
      SubmitItem item = Item("ed" + std::to_string(k++), "2026-01-06", "CCO");
      item.report.distribution = d;
      ASSERT_TRUE((*store)->Submit(Ed(), {item}, nullptr).ok());
    }
    for (const Principal& viewer : {Lab(), Ed()}) {
      auto rows = (*store)->Aggregate(viewer, {});
      ASSERT_TRUE(rows.ok());
      before.insert(before.end(), rows->begin(), rows->end());
    }
    ASSERT_EQ(before.size(), 6u);
    EXPECT_EQ(before[1].reports, 3);  // CCO in the week of 5 January, as the lab sees it
    EXPECT_EQ(before[4].reports, 5);  // and as ed-us sees it
  }
  // Back to migration 1's empty summary table in the reports database, as if counts had never
  // been kept (and without the later migrations' signals), and no summary file.
  Exec(path,
       "CREATE TABLE counts (period INTEGER NOT NULL, start_day INTEGER NOT "
       "NULL, substance INTEGER NOT NULL, country TEXT NOT NULL, subdivision TEXT NOT NULL, kind "
       "INTEGER NOT NULL, organisation TEXT NOT NULL, org_country TEXT NOT NULL, distribution "
       "INTEGER NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (period, start_day, substance, country, "
       "subdivision, kind, organisation, distribution)); DROP TABLE signals; DELETE FROM "
       "schema_migrations WHERE version >= 2;");
  for (const char* suffix : {".summary", ".summary-wal", ".summary-shm"}) {
    fs::remove(path + suffix);
  }
  auto store = sqlite::OpenSqliteStore(path);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_TRUE((*store)->CheckIntegrity().ok()) << (*store)->CheckIntegrity().ToString();
  std::vector<AggregateRow> after_rows;
  for (const Principal& viewer : {Lab(), Ed()}) {
    auto rows = (*store)->Aggregate(viewer, {});
    ASSERT_TRUE(rows.ok());
    after_rows.insert(after_rows.end(), rows->begin(), rows->end());
  }
  const auto* after = &after_rows;
  ASSERT_EQ(after->size(), before.size());
  for (std::size_t i = 0; i < before.size(); ++i) {
    EXPECT_EQ((*after)[i].period_start, before[i].period_start);
    EXPECT_EQ((*after)[i].substance_key, before[i].substance_key);
    EXPECT_EQ((*after)[i].reports, before[i].reports);
  }
  store->reset();
  fs::remove_all(dir);
}

// Report ids are random in their last 32 bits: a clash is rare, and a new report draws again
// instead of failing its batch.
TEST(SqliteReportIds, AClashDrawsAgain) {
  const fs::path dir = fs::temp_directory_path() / ("sentinel-ids-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  sqlite::SqliteOptions options;
  int drawn = 0;
  // The first two reports draw the same id; the second draws again and gets a fresh one.
  options.new_report_id = [&drawn] {
    return ++drawn <= 2 ? std::string("SAME") : "ID" + std::to_string(drawn);
  };
  auto store = sqlite::OpenSqliteStore((dir / "node.db").string(), options);
  ASSERT_TRUE(store.ok());
  ASSERT_TRUE((*store)->PutOrganisation(NodeAdministrator(), {"lab-us", "lab", "US", {}}).ok());
  std::vector<SubmitOutcome> out;
  ASSERT_TRUE((*store)->Submit(Lab(), {Item("a", "2026-01-05", "CCO")}, &out).ok());
  Status second = (*store)->Submit(Lab(), {Item("b", "2026-01-06", "CCO")}, &out);
  ASSERT_TRUE(second.ok()) << second.ToString();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].id, "ID3");
  EXPECT_EQ((*store)->CountReports(), 2);
  store->reset();
  fs::remove_all(dir);
}

// Two stores on one database, as two processes (a server and `sentinel import`) would have:
// each one's summary writer counts from the summary's recorded position under its write lock,
// so every report is counted once, whichever process counts it, and each store's aggregates
// include the other's reports once it has read them.
TEST(SqliteSummary, TwoStoresOnOneDatabaseCountEachReportOnce) {
  const fs::path dir = fs::temp_directory_path() / ("sentinel-two-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "node.db").string();
  auto first = sqlite::OpenSqliteStore(path);
  auto second = sqlite::OpenSqliteStore(path);
  ASSERT_TRUE(first.ok() && second.ok());
  ASSERT_TRUE((*first)->PutOrganisation(NodeAdministrator(), {"lab-us", "lab", "US", {}}).ok());
  constexpr int kPerStore = 300;
  std::vector<std::thread> writers;
  for (Store* store : {first->get(), second->get()}) {
    writers.emplace_back([store, tag = store == first->get() ? "a" : "b"] {
      for (int i = 0; i < kPerStore; i += 30) {
        std::vector<SubmitItem> batch;
        for (int k = i; k < i + 30; ++k) {
          batch.push_back(Item(fmt::format("{}{}", tag, k), "2026-01-05", "CCO"));
        }
        EXPECT_TRUE(store->Submit(Lab(), batch, nullptr).ok());
      }
    });
  }
  for (auto& t : writers) t.join();
  for (Store* store : {first->get(), second->get()}) {
    auto rows = store->Aggregate(Lab(), {});
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_EQ(rows->size(), 1u);
    EXPECT_EQ((*rows)[0].reports, 2 * kPerStore);
    EXPECT_TRUE(store->CheckIntegrity().ok()) << store->CheckIntegrity().ToString();
  }
  first->reset();
  second->reset();
  // And once both are closed, a fresh open agrees.
  auto again = sqlite::OpenSqliteStore(path);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->CheckIntegrity().ok()) << (*again)->CheckIntegrity().ToString();
  again->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sentinel::reports
