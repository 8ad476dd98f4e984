// An acknowledged report is never lost: a real server takes 100,000 reports from several
// clients while it is killed with SIGKILL at random moments, round after round. Every report
// that got a 2xx answer must be stored exactly once, and the database must pass its integrity
// checks.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <sqlite3.h>

#include <pqxx/pqxx>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <thread>

#include "test/store/backends.h"
#include "test/store/postgres_cluster.h"
#include "test/support/server_process.h"

namespace sentinel {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

#if defined(SENTINEL_SANITIZED)
constexpr int kReports = 20'000;  // the sanitizer build is ~10x slower; same code paths
#else
constexpr int kReports = 100'000;
#endif
constexpr int kClients = 4;
constexpr int kBatch = 25;
constexpr int kKills = 4;

json Report(int n) {
  static const char* kSubstances[] = {"Fentanyl", "Xylazine", "Heroin", "Carfentanil",
                                      "Bromazolam"};
  return {{"kind", "seizure"},
          {"idempotency_key", "dur-" + std::to_string(n)},
          {"distribution", "national"},
          {"date", "2026-0" + std::to_string(1 + n % 9) + "-1" + std::to_string(n % 10)},
          {"place", {{"country", "US"}, {"subdivision", n % 2 ? "US-OH" : "US-WV"}}},
          {"substances", {{{"name", kSubstances[n % 5]}}}},
          {"form", "powder"}};
}

// How many times each acknowledged report is stored, by report number, read straight from the
// database rather than through the store under test.
std::map<int, int> StoredCopies(const std::string& backend, const std::string& db) {
  static constexpr const char* kCopies =
      "SELECT idempotency_key, COUNT(*) FROM reports WHERE organisation = 'lab' "
      "GROUP BY idempotency_key";
  std::map<int, int> copies;
  if (backend == "postgresql") {
    pqxx::connection c(db);
    pqxx::read_transaction tx(c);
    for (const auto& row : tx.exec(kCopies)) {
      copies[std::stoi(row[0].as<std::string>().substr(4))] = row[1].as<int>();
    }
    return copies;
  }
  sqlite3* handle = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(handle, kCopies, -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    const std::string key = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    copies[std::stoi(key.substr(4))] = sqlite3_column_int(stmt, 1);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  return copies;
}

class Durability : public ::testing::TestWithParam<std::string> {};

INSTANTIATE_TEST_SUITE_P(Backends, Durability, ::testing::ValuesIn(test::Backends()),
                         [](const auto& backend) { return backend.param; });

TEST_P(Durability, AcknowledgedReportsSurviveSigkill) {
  const fs::path dir =
      fs::temp_directory_path() / fmt::format("sentinel-durability-{}-{}", GetParam(), getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string db = (dir / "node.db").string();
  std::vector<std::string> serve_args = {"--db", db};
  if (GetParam() == "postgresql") {
    auto url = test::CreatePostgresTestDatabase("durability");
    if (!url.ok()) GTEST_SKIP() << url.status().ToString();
    db = *url;
    serve_args = {"--db", db, "--key-file", (dir / "node.key").string()};
  }
  test::SentinelOutput("admin organisation --db '" + db + "' --id lab --country US");
  const std::string token = test::SentinelOutput(
      "admin token --db '" + db + "' --organisation lab --user loader --role reporter");
  ASSERT_EQ(token.rfind("snt_", 0), 0u);

  std::mutex mu;
  std::set<int> acknowledged;
  std::set<int> pending;  // sent but not acknowledged: sent again after a restart
  std::atomic<int> next{0};
  std::atomic<int> port{0};
  std::atomic<bool> stop{false};
  auto client = [&] {
    std::vector<int> batch;
    while (!stop) {
      if (batch.empty()) {
        std::lock_guard lock(mu);
        while (!pending.empty() && batch.size() < kBatch) {
          batch.push_back(*pending.begin());
          pending.erase(pending.begin());
        }
      }
      while (batch.size() < kBatch) {
        const int n = next++;
        if (n >= kReports) break;
        batch.push_back(n);
      }
      if (batch.empty()) return;
      json body = {{"reports", json::array()}};
      for (int n : batch) body["reports"].push_back(Report(n));
      httplib::Client c("127.0.0.1", port.load());
      c.set_connection_timeout(2, 0);
      c.set_read_timeout(30, 0);
      auto res = c.Post("/api/v1/reports/batch", {{"Authorization", "Bearer " + token}},
                        body.dump(), "application/json");
      if (res && (res->status == 200 || res->status == 201)) {
        std::lock_guard lock(mu);
        acknowledged.insert(batch.begin(), batch.end());
        batch.clear();
      } else if (res && res->status != 503) {
        ADD_FAILURE() << "unexpected answer " << res->status << ": " << res->body;
        stop = true;
      } else {
        // The server is down: keep the batch for the next one.
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    }
  };

  std::mt19937 rng(20261122);
  std::uniform_int_distribution<int> kill_after_ms(1500, 6000);
  for (int round = 0; round <= kKills; ++round) {
    test::ServerProcess server;
    ASSERT_TRUE(server.Start(serve_args, (dir / "server.log").string())) << server.error();
    port = server.port();
    std::vector<std::thread> clients;
    for (int i = 0; i < kClients; ++i) clients.emplace_back(client);
    if (round < kKills) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms(rng)));
      server.Kill(SIGKILL);
      {
        std::lock_guard lock(mu);
        std::fprintf(stderr, "round %d: SIGKILL with %zu of %d reports acknowledged\n", round,
                     acknowledged.size(), kReports);
      }
      stop = true;
      for (auto& t : clients) t.join();
      stop = false;
      // Whatever a client held unacknowledged goes back to the pending set (its batch vector
      // died with the thread): every number below `next` not acknowledged is pending.
      std::lock_guard lock(mu);
      for (int n = 0; n < std::min(next.load(), kReports); ++n) {
        if (!acknowledged.count(n)) pending.insert(n);
      }
      next = std::min(next.load(), kReports);
    } else {
      for (auto& t : clients) t.join();
      server.Kill(SIGTERM);
    }
  }
  ASSERT_EQ(static_cast<int>(acknowledged.size()), kReports)
      << "the last round should have stored everything";

  // Exactly once, and intact.
  std::set<int> stored;
  int duplicates = 0;
  for (const auto& [n, copies] : StoredCopies(GetParam(), db)) {
    stored.insert(n);
    duplicates += copies != 1;
  }
  EXPECT_EQ(duplicates, 0);
  EXPECT_EQ(stored, acknowledged);
  auto store = test::OpenExisting(GetParam(), db);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Status integrity = (*store)->CheckIntegrity();
  EXPECT_TRUE(integrity.ok()) << integrity.ToString();
  store->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace sentinel
