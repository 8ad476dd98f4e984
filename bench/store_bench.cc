// Report storage throughput, against the obvious baselines measured in the same run.
//
// Reports: the demo history generator's realistic bodies (every kind, 27 countries), run once
// through the intake (validation, pseudonyms, substance resolution) on all cores.
// 1. Bulk import into SQLite (WAL, synchronous=FULL): Sentinel's Submit of 1,000-report
//    batches, against one report per transaction (what a naive loader does).
// 2. Weekly aggregate by substance × country over every report: Sentinel's summary table,
//    against GROUP BY over the reports themselves.
// --reports=N sets the history size; --scale=K stores K such histories (the demo generator with
// K seeds, one in memory at a time) before the aggregate, to reach millions of reports.
// BENCH_KEEP=1 keeps the databases; --existing=DIR then times the aggregate alone on DIR/bulk.db
// (--existing=URI on a PostgreSQL database that pg_store_bench.sh kept).
// --postgres=URI_PREFIX runs the same on PostgreSQL: the databases URI_PREFIX + "naive" and
// + "bulk" must exist and be empty
// (bench/pg_store_bench.sh starts a throwaway cluster and makes them).
#include <sqlite3.h>

#include <pqxx/pqxx>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <thread>

#include "adapters/postgres/pg_store.h"
#include "adapters/sqlite/sqlite_store.h"
#include "app/demo_history.h"
#include "app/library_loader.h"
#include "app/node.h"

namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::size_t Arg(int argc, char** argv, const char* name, std::size_t fallback) {
  const std::size_t n = std::strlen(name);
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], name, n)) return std::strtoull(argv[i] + n, nullptr, 10);
  }
  return fallback;
}

// The same weekly aggregate as Store::Aggregate for an organisation that sees only
// `everyone`-level reports (distribution 3), computed from the reports themselves.
constexpr const char* kRawAggregate =
    "SELECT r.day - (((r.day + 3) % 7 + 7) % 7) AS week, rs.substance, r.country, "
    "COUNT(DISTINCT r.seq) FROM reports r JOIN report_substances rs ON rs.seq = r.seq WHERE "
    "r.distribution = 3 AND NOT EXISTS (SELECT 1 FROM supersessions s WHERE s.old_seq = r.seq) "
    "GROUP BY week, "
    "rs.substance, r.country";

double RawAggregateSeconds(const std::string& db_or_uri, bool postgres, std::int64_t* rows) {
  *rows = 0;
  if (postgres) {
    pqxx::connection c(db_or_uri);
    pqxx::read_transaction tx(c);
    const auto t0 = Clock::now();
    *rows = static_cast<std::int64_t>(tx.exec(kRawAggregate).size());
    return Seconds(Clock::now() - t0);
  }
  sqlite3* db = nullptr;
  sqlite3_open_v2(db_or_uri.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  const char* sql = kRawAggregate;
  sqlite3_stmt* stmt = nullptr;
  const auto t0 = Clock::now();
  sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) ++*rows;
  const double s = Seconds(Clock::now() - t0);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return s;
}

// The weekly summary rows an aggregate reads (of every distribution).
std::int64_t WeeklySummaryRows(const std::string& db_or_uri, bool postgres) {
  constexpr const char* kSql = "SELECT COUNT(*) FROM counts WHERE period = 0";
  if (postgres) {
    pqxx::connection c(db_or_uri);
    pqxx::read_transaction tx(c);
    return tx.exec1(kSql)[0].as<std::int64_t>();
  }
  sqlite3* db = nullptr;  // the summary's own file beside the database
  sqlite3_open_v2((db_or_uri + ".summary").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, kSql, -1, &stmt, nullptr);
  const std::int64_t n = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

}  // namespace

// --existing=DIR: only the weekly aggregate, over the SQLite database DIR/bulk.db that an
// earlier run kept (BENCH_KEEP), or over the PostgreSQL database that --existing=URI names,
// three times, for a foreign organisation or the one that --viewer=ORGANISATION:COUNTRY names.
int AggregateExisting(const std::string& dir_or_uri, const std::string& who) {
  using namespace sentinel;
  auto store = dir_or_uri.starts_with("postgresql://")
                   ? postgres::OpenPostgresStore(dir_or_uri)
                   : sqlite::OpenSqliteStore(dir_or_uri + "/bulk.db");
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 2;
  }
  reports::Principal viewer;
  viewer.organisation = "bench-viewer";
  viewer.country = "ZZ";
  if (const auto colon = who.find(':'); colon != std::string::npos) {
    viewer.organisation = who.substr(0, colon);
    viewer.country = who.substr(colon + 1);
  }
  for (int run = 0; run < 3; ++run) {
    const auto t0 = Clock::now();
    auto rows = (*store)->Aggregate(viewer, reports::AggregateQuery{});
    std::printf("  weekly aggregate, summary table: %.3f s (%zu rows)\n",
                Seconds(Clock::now() - t0), rows.ok() ? rows->size() : 0);
  }
  return 0;
}

int main(int argc, char** argv) {
  using namespace sentinel;
  namespace fs = std::filesystem;
  const std::size_t n_reports = Arg(argc, argv, "--reports=", 200'000);
  const std::size_t scale = Arg(argc, argv, "--scale=", 1);
  const std::size_t naive_n = Arg(argc, argv, "--naive=", 3'000);
  std::string postgres;  // URI prefix; empty: SQLite
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--postgres=", 11)) postgres = argv[i] + 11;
  }
  const char* backend = postgres.empty() ? "SQLite" : "PostgreSQL";
  std::string viewer;
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--viewer=", 9)) viewer = argv[i] + 9;
  }
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--existing=", 11)) return AggregateExisting(argv[i] + 11, viewer);
  }
  const fs::path dir =
      fs::temp_directory_path() / ("sentinel-store-bench-" + std::to_string(::getpid()));
  fs::create_directories(dir);

  app::NodeOptions options;
  options.db = (dir / "intake.db").string();
  auto node = app::OpenNode(options, std::cerr);
  if (!node.ok()) {
    std::fprintf(stderr, "%s\n", node.status().ToString().c_str());
    return 2;
  }
  const fs::path data = app::ResolveDataDir();
  auto reference =
      app::ParseDemoReference(*app::ReadWholeFile((data / "demo/places.tsv").string()),
                              *app::ReadWholeFile((data / "demo/substances.tsv").string()));
  if (!reference.ok()) return 2;
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const app::DemoHistory history = app::GenerateDemoHistory(*reference, today, n_reports, 7);

  // Intake on all cores.
  std::vector<reports::SubmitItem> items;
  std::vector<const app::DemoOrganisation*> owner;
  std::map<std::string, const app::DemoOrganisation*> by_id;
  for (const auto& o : history.organisations) by_id[o.id] = &o;
  const auto intake = [&](const app::DemoHistory& from) {
    items.assign(from.reports.size(), {});
    owner.assign(from.reports.size(), nullptr);
    std::atomic<std::size_t> next{0}, refused{0};
    const auto i0 = Clock::now();
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < std::max(1u, std::thread::hardware_concurrency()); ++t) {
      pool.emplace_back([&] {
        for (std::size_t i = next++; i < items.size(); i = next++) {
          auto p = node->intake->Prepare(from.reports[i].body, "");
          if (!p.item) {
            ++refused;
            continue;
          }
          items[i] = std::move(*p.item);
          owner[i] = by_id.at(from.reports[i].organisation_id);
        }
      });
    }
    for (auto& t : pool) t.join();
    const double seconds = Seconds(Clock::now() - i0);
    std::fprintf(stderr, "intake: %zu reports in %.1f s (%zu refused)\n", items.size(), seconds,
                 refused.load());
    return seconds;
  };
  const double intake_s = intake(history);
  const std::size_t intake_n = items.size();
  auto t0 = Clock::now();

  auto principal = [](const app::DemoOrganisation& o) {
    reports::Principal p;
    p.organisation = o.id;
    p.country = o.country;
    p.trusted_groups = o.trusted_groups;
    p.role = reports::Role::kReporter;
    p.user = "bench";
    return p;
  };
  // The database a phase writes: a file in `dir`, or the PostgreSQL database of that name.
  auto where = [&](const std::string& name) {
    return postgres.empty() ? (dir / (name + ".db")).string() : postgres + name;
  };
  auto open = [&](const std::string& name) {
    Result<std::unique_ptr<reports::Store>> store = Status::NotFound("");
    if (postgres.empty()) {
      sqlite::SqliteOptions so;
      so.synchronous_full = std::getenv("BENCH_NOSYNC") == nullptr;
      store = sqlite::OpenSqliteStore(where(name), so);
    } else {
      store = postgres::OpenPostgresStore(where(name));
    }
    if (!store.ok()) {
      std::fprintf(stderr, "%s: %s\n", name.c_str(), store.status().ToString().c_str());
      std::exit(2);
    }
    for (const auto& o : history.organisations) {
      (void)(*store)->PutOrganisation(reports::NodeAdministrator(),
                                      {o.id, o.name, o.country, o.trusted_groups});
    }
    return std::move(store).value();
  };

  // Baseline: one report per transaction.
  auto naive = open("naive");
  const std::size_t n_naive = std::min(naive_n, items.size());
  t0 = Clock::now();
  for (std::size_t i = 0; i < n_naive; ++i) {
    std::vector<reports::SubmitOutcome> out;
    if (!owner[i]) continue;
    (void)naive->Submit(principal(*owner[i]), {items[i]}, &out);
  }
  const double naive_rate = static_cast<double>(n_naive) / Seconds(Clock::now() - t0);

  // Sentinel: batches of up to 1,000 per organisation, in history order, handed to
  // `kSubmitters` concurrent submitters (as `sentinel import` and the server's clients do), so
  // the store's group commit shares each transaction and its fsync among them; `scale` copies.
  constexpr unsigned kSubmitters = 4;
  auto store = open("bulk");
  std::atomic<std::size_t> stored{0};
  double bulk_s = 0, summarised_s = 0;
  for (std::size_t copy = 0; copy < scale; ++copy) {
    // Each further copy is a history of its own (another seed: other dates, places and
    // substances), so that the summary grows as a larger node's would; generated and taken in
    // one copy at a time, so that memory stays that of one.
    if (copy > 0) intake(app::GenerateDemoHistory(*reference, today, n_reports, 7 + copy));
    std::vector<std::pair<const app::DemoOrganisation*, std::vector<reports::SubmitItem>>> batches;
    std::map<const app::DemoOrganisation*, std::vector<reports::SubmitItem>> pending;
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (!owner[i]) continue;
      reports::SubmitItem item = items[i];
      if (copy > 0) item.report.idempotency_key += "-copy" + std::to_string(copy);
      auto& batch = pending[owner[i]];
      batch.push_back(std::move(item));
      if (batch.size() >= 1000) {
        batches.emplace_back(owner[i], std::move(batch));
        batch.clear();
      }
    }
    for (auto& [o, batch] : pending) {
      if (!batch.empty()) batches.emplace_back(o, std::move(batch));
    }
    // Timed from here: the batches above are the clients' own work, not the store's.
    const auto c0 = Clock::now();
    std::atomic<std::size_t> next_batch{0};
    std::vector<std::thread> submitters;
    for (unsigned t = 0; t < kSubmitters; ++t) {
      submitters.emplace_back([&] {
        for (std::size_t b = next_batch++; b < batches.size(); b = next_batch++) {
          std::vector<reports::SubmitOutcome> out;
          if (Status s = store->Submit(principal(*batches[b].first), batches[b].second, &out);
              !s.ok()) {
            std::fprintf(stderr, "%s\n", s.ToString().c_str());
            std::abort();
          }
          stored += batches[b].second.size();
        }
      });
    }
    for (auto& t : submitters) t.join();
    bulk_s += Seconds(Clock::now() - c0);
    // Until the summary has counted them too (on SQLite a second writer keeps it, and an
    // aggregate waits for it): an aggregate that matches nothing, for its wait alone.
    reports::AggregateQuery nothing;
    nothing.substance = "no such substance";
    (void)store->Aggregate(principal(*batches.front().first), nothing);
    summarised_s += Seconds(Clock::now() - c0);
    if (scale > 1) std::fprintf(stderr, "  stored %zu\n", stored.load());
  }
  const double bulk_rate = static_cast<double>(stored.load()) / bulk_s;
  const double summarised_rate = static_cast<double>(stored.load()) / summarised_s;

  // Aggregates over everything stored.
  reports::Principal everyone;  // sees `everyone`-level reports, as any foreign organisation
  everyone.organisation = "bench-viewer";
  everyone.country = "ZZ";
  reports::AggregateQuery weekly;
  t0 = Clock::now();
  auto rows = store->Aggregate(everyone, weekly);
  double agg_s = Seconds(Clock::now() - t0);
  if (!postgres.empty()) {
    // Autovacuum soon marks a loaded table's pages all-visible, which index-only scans need;
    // the figure reported is the aggregate after that, as a node serves it.
    std::printf("  weekly aggregate straight after the load, before vacuum: %.3f s\n", agg_s);
    {
      pqxx::connection c(where("bulk"));
      pqxx::nontransaction tx(c);
      tx.exec("VACUUM (ANALYZE) counts");
    }
    t0 = Clock::now();
    rows = store->Aggregate(everyone, weekly);
    agg_s = Seconds(Clock::now() - t0);
  }
  std::int64_t raw_rows = 0;
  const double raw_s = RawAggregateSeconds(where("bulk"), !postgres.empty(), &raw_rows);

  std::printf("store benchmark: %zu reports (%zu kinds of body from the demo generator)\n",
              stored.load(), history.reports.size());
  std::printf("  intake (validate, pseudonymise, resolve), all cores: %9.0f reports/s\n",
              static_cast<double>(intake_n) / intake_s);
  std::printf("  %s bulk import, batches of 1,000: %9.0f reports/s\n", backend, bulk_rate);
  std::printf("  %s bulk import, until in the summary: %9.0f reports/s\n", backend,
              summarised_rate);
  std::printf("  %s one report per transaction  : %9.0f reports/s\n", backend, naive_rate);
  std::printf("  ratio bulk / one-per-transaction: %.1fx\n", bulk_rate / naive_rate);
  std::printf(
      "  weekly aggregate, summary table: %.3f s (%zu rows, visible to a foreign org; %lld weekly "
      "summary rows)\n",
      agg_s, rows.ok() ? rows->size() : 0,
      static_cast<long long>(WeeklySummaryRows(where("bulk"), !postgres.empty())));
  std::printf("  weekly aggregate, GROUP BY over reports: %.3f s (%lld rows)\n", raw_s,
              static_cast<long long>(raw_rows));
  std::printf("  ratio: %.1fx\n", raw_s / agg_s);
  store.reset();
  naive.reset();
  // BENCH_KEEP leaves the databases for a closer look at a large history (18 minutes to load
  // ten million reports).
  if (std::getenv("BENCH_KEEP") != nullptr) {
    std::fprintf(stderr, "databases kept in %s\n", dir.c_str());
  } else {
    fs::remove_all(dir);
  }
  return 0;
}
