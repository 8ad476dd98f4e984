#include "adapters/sqlite/sqlite_store.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sodium.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <set>
#include <span>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "adapters/sqlite/schema.h"
#include "core/common/text.h"

namespace sentinel::sqlite {
namespace {

using reports::AggregateQuery;
using reports::AggregateRow;
using reports::AuditEntry;
using reports::Principal;
using reports::ReportPage;
using reports::ReportQuery;
using reports::StoredReport;
using reports::SubmitItem;
using reports::SubmitOutcome;
using reports::SubstanceRecord;
using reports::SubstanceSummary;

std::string NowUtc() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
  return fmt::format("{}.{:03d}Z", text, ms.count());
}

// A prepared statement, reset when it goes out of scope so it can be reused.
class Statement {
 public:
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  Statement& Bind(int i, std::int64_t v) {
    sqlite3_bind_int64(stmt_, i, v);
    return *this;
  }
  Statement& Bind(int i, int v) { return Bind(i, static_cast<std::int64_t>(v)); }
  Statement& Bind(int i, double v) {
    sqlite3_bind_double(stmt_, i, v);
    return *this;
  }
  Statement& Bind(int i, const std::string& v) {
    sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int i, const char* v) { return Bind(i, std::string(v)); }
  Statement& Bind(int i, std::string_view v) { return Bind(i, std::string(v)); }
  Statement& Bind(int i, std::optional<double> v) {
    if (v) return Bind(i, *v);
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  Statement& BindNull(int i) {
    sqlite3_bind_null(stmt_, i);
    return *this;
  }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step() { return sqlite3_step(stmt_); }
  void Reset() { sqlite3_reset(stmt_); }
  std::int64_t Int(int col) { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  // Valid until the next Step or Reset.
  std::string_view View(int col) {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string_view(reinterpret_cast<const char*>(p),
                                static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string_view();
  }
  std::string Text(int col) {
    const auto* p = sqlite3_column_text(stmt_, col);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }

 private:
  sqlite3_stmt* stmt_;
};

// Process-wide settings, made before SQLite's first use. Memory statistics take one global
// mutex around every allocation: the report writer, the summary writer and the readers, each
// on a connection of its own, would otherwise queue for it (measured: a tenth of the writer's
// time in futex waits during a bulk import). Sentinel never reads those statistics.
void ConfigureSqliteOnce() {
  static std::once_flag once;
  std::call_once(once, [] { (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

// One connection with its cache of prepared statements.
class Connection {
 public:
  ~Connection() {
    for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
    if (db_) sqlite3_close_v2(db_);
  }
  // `synchronous`: FULL, NORMAL or OFF (SQLite's PRAGMA synchronous).
  static Result<std::unique_ptr<Connection>> Open(const std::string& path, bool read_only,
                                                  std::string_view synchronous) {
    ConfigureSqliteOnce();
    auto c = std::make_unique<Connection>();
    const int flags =
        (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
        SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &c->db_, flags, nullptr) != SQLITE_OK) {
      return Status::IoError(fmt::format("cannot open database {}: {}", path,
                                         c->db_ ? sqlite3_errmsg(c->db_) : "out of memory"));
    }
    sqlite3_busy_timeout(c->db_, 10000);
    if (!read_only) {
      if (Status s = c->Exec("PRAGMA journal_mode=WAL"); !s.ok()) return s;
    }
    if (Status s = c->Exec(fmt::format("PRAGMA synchronous={}", synchronous)); !s.ok()) return s;
    // A page cache that holds the hot index pages of a large node, and checkpoints of ~64 MiB
    // of WAL rather than the default 4 MiB: each checkpoint rewrites and syncs database pages,
    // and at the default size a bulk import spends most of its time there.
    for (const char* pragma : {"PRAGMA foreign_keys=ON", "PRAGMA cache_size=-131072",
                               "PRAGMA temp_store=MEMORY", "PRAGMA mmap_size=1073741824"}) {
      if (Status s = c->Exec(pragma); !s.ok()) return s;
    }
    if (!read_only) {
      if (Status s = c->Exec("PRAGMA wal_autocheckpoint=16384"); !s.ok()) return s;
    }
    return c;
  }
  Status Exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) != SQLITE_OK) {
      std::string message = error ? error : sqlite3_errmsg(db_);
      sqlite3_free(error);
      return Status::IoError(fmt::format("SQLite: {} (in: {})", message, sql.substr(0, 80)));
    }
    return Status::Ok();
  }
  Statement Prepare(const std::string& sql) {
    auto it = cache_.find(sql);
    if (it == cache_.end()) {
      sqlite3_stmt* stmt = nullptr;
      if (sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()),
                             SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
        // Statements are Sentinel's own text: a failure here is a programming error.
        throw std::runtime_error(fmt::format("SQLite prepare: {}: {}", sqlite3_errmsg(db_), sql));
      }
      it = cache_.emplace(sql, stmt).first;
    }
    return Statement(it->second);
  }
  Status Error(std::string_view what) const {
    return Status::IoError(fmt::format("SQLite {}: {}", what, sqlite3_errmsg(db_)));
  }
  sqlite3* db() const { return db_; }

 private:
  sqlite3* db_ = nullptr;
  std::unordered_map<std::string, sqlite3_stmt*> cache_;
};

// Time-ordered ids (reports::FormatReportId says why), random bits from libsodium.
std::string NewReportId() {
  const auto ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  return reports::FormatReportId(ms, randombytes_random());
}

Status Migrate(Connection& c, std::span<const std::string_view> migrations) {
  if (Status s = c.Exec("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
                        "KEY, applied_at TEXT NOT NULL)");
      !s.ok()) {
    return s;
  }
  std::int64_t applied = 0;
  {
    auto stmt = c.Prepare("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
    if (stmt.Step() != SQLITE_ROW) return c.Error("schema version");
    applied = stmt.Int(0);
  }
  const auto known = static_cast<std::int64_t>(migrations.size());
  if (applied > known) {
    return Status::FailedPrecondition(fmt::format(
        "database schema version {} is newer than this Sentinel knows ({})", applied, known));
  }
  for (std::int64_t v = applied + 1; v <= known; ++v) {
    if (Status s = c.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
    Status s = c.Exec(std::string(migrations[static_cast<std::size_t>(v - 1)]));
    if (s.ok()) {
      s = c.Exec(fmt::format("INSERT INTO schema_migrations(version, applied_at) VALUES({}, '{}')",
                             v, NowUtc()));
    }
    if (!s.ok()) {
      (void)c.Exec("ROLLBACK");
      return Status::FailedPrecondition(fmt::format("migration {} failed: {}", v, s.message()));
    }
    if (Status commit = c.Exec("COMMIT"); !commit.ok()) return commit;
  }
  return Status::Ok();
}

// Live detection counts occurrences: wastewater measurements are loads
// (reports::DetectionCountRow).
constexpr int kWastewaterKind = static_cast<int>(reports::Kind::kWastewater);

// The key of the `counts` summary: who may see a row first (reports::SummaryAudienceOf), then
// what it counts. Migration 4 spells the distribution levels as numbers.
constexpr const char* kCountsKey =
    "period, distribution, org_country, organisation, start_day, substance, country, "
    "subdivision, kind";
// The day number that starts a report's summary period (0: the ISO week's Monday, day 0 having
// been a Thursday; 1: the month's first day), from `reports r`.
constexpr const char* PeriodStartOf(int period) {
  return period == 0 ? "r.day - (((r.day + 3) % 7 + 7) % 7)" : "r.month_day";
}
static_assert(static_cast<int>(reports::Distribution::kOrganisation) == 0 &&
              static_cast<int>(reports::Distribution::kNational) == 1 &&
              static_cast<int>(reports::Distribution::kTrustedGroup) == 2 &&
              static_cast<int>(reports::Distribution::kEveryone) == 3);

// The columns ReadReport reads, in its order, from `reports r`.
constexpr std::string_view kSelectReport =
    "SELECT r.seq, r.id, r.version, r.organisation, r.received_at, r.kind, r.distribution, "
    "r.date, r.country, r.subdivision, r.body, "
    "NOT EXISTS (SELECT 1 FROM supersessions s WHERE s.old_seq = r.seq) FROM reports r ";

using reports::DayNumber;

// The SQL condition that applies the distribution rule (reports::Visible) to a row with
// columns organisation, org_country and distribution, for `viewer`. Trusted-group peers are
// listed explicitly: they are few.
struct VisibilityClause {
  std::string sql;
  std::vector<std::string> params;
};

}  // namespace

class SqliteStore final : public reports::Store {
 public:
  SqliteStore(std::string path, SqliteOptions options)
      : path_(std::move(path)), options_(std::move(options)) {}
  ~SqliteStore() override {
    {
      std::lock_guard lock(queue_mu_);
      stopping_ = true;
    }
    queue_cv_.notify_all();
    if (writer_thread_.joinable()) writer_thread_.join();
    // The summary catches up with the last reports before the store closes, so that the next
    // open need not.
    {
      std::lock_guard lock(summary_mu_);
      summary_stopping_ = true;
      summary_wanted_ = true;
    }
    summary_cv_.notify_all();
    if (summary_thread_.joinable()) summary_thread_.join();
  }

  Status Start() {
    auto w = Connection::Open(path_, false, options_.synchronous_full ? "FULL" : "OFF");
    if (!w.ok()) return w.status();
    writer_ = std::move(w).value();
    if (Status s = Migrate(*writer_, kMigrations); !s.ok()) return s;
    // Derived data: after a power loss the summary may lose its last transactions, and its
    // position with them, and counts those reports again.
    auto summary =
        Connection::Open(summary_path_, false, options_.synchronous_full ? "NORMAL" : "OFF");
    if (!summary.ok()) return summary.status();
    summary_writer_ = std::move(summary).value();
    if (Status s = Migrate(*summary_writer_, kSummaryMigrations); !s.ok()) return s;
    auto source = Connection::Open(path_, true, "OFF");
    if (!source.ok()) return source.status();
    summary_source_ = std::move(source).value();
    writer_thread_ = std::thread([this] { WriterLoop(); });
    summary_wanted_ = true;  // whatever reports the summary has not counted yet
    summary_thread_ = std::thread([this] { SummaryLoop(); });
    return Status::Ok();
  }

  Status Submit(const Principal& who, const std::vector<SubmitItem>& items,
                std::vector<SubmitOutcome>* outcomes) override {
    if (who.role < reports::Role::kReporter) {
      return Status::PermissionDenied("submitting reports needs the reporter role");
    }
    std::vector<SubmitOutcome> ignored;
    std::vector<SubmitOutcome>* out = outcomes ? outcomes : &ignored;
    // Serialised here, on the caller's thread, so that the one writer thread only writes.
    std::vector<std::string> bodies;
    bodies.reserve(items.size());
    for (const SubmitItem& item : items) bodies.push_back(item.report.body.dump());
    return Write([&](Connection& c) { return SubmitLocked(c, who, items, bodies, out); });
  }

  Result<ReportPage> Query(const Principal& viewer, const ReportQuery& q) override {
    for (const auto& day : {q.from, q.to}) {
      if (day && !reports::ParseDay(*day).ok()) return reports::ParseDay(*day).status();
    }
    auto reader = Reader();
    if (!reader.ok()) return reader.status();
    Connection& c = *reader->connection;
    const VisibilityClause vis = Visibility(c, viewer, "r");
    std::string sql = std::string(kSelectReport) + "WHERE " + vis.sql;
    std::vector<std::string> params = vis.params;
    std::vector<std::int64_t> ints;
    if (q.kind) sql += fmt::format(" AND r.kind = {}", static_cast<int>(*q.kind));
    if (q.from) {
      sql += " AND r.date >= ?";
      params.push_back(*q.from);
    }
    if (q.to) {
      sql += " AND r.date <= ?";
      params.push_back(*q.to);
    }
    if (q.place) {
      sql += q.place->size() == 2 ? " AND r.country = ?" : " AND r.subdivision = ?";
      params.push_back(*q.place);
    }
    if (q.substance) {
      sql +=
          " AND r.seq IN (SELECT rs.seq FROM report_substances rs JOIN substances s ON s.id = "
          "rs.substance WHERE s.key = ?)";
      params.push_back(*q.substance);
    }
    if (q.substance_class) {
      sql +=
          " AND r.seq IN (SELECT rs.seq FROM report_substances rs JOIN substance_classes sc ON "
          "sc.substance = rs.substance WHERE sc.class = ?)";
      params.push_back(*q.substance_class);
    }
    if (q.also_substance) {
      sql +=
          " AND r.seq IN (SELECT rs.seq FROM report_substances rs JOIN substances s ON s.id = "
          "rs.substance WHERE s.key = ?)";
      params.push_back(*q.also_substance);
    }
    if (q.form) {
      sql += fmt::format(" AND r.kind = {} AND json_extract(r.body, '$.form') = ?",
                         static_cast<int>(reports::Kind::kSeizure));
      params.push_back(*q.form);
    }
    if (!q.all_versions) {
      sql += " AND NOT EXISTS (SELECT 1 FROM supersessions s WHERE s.old_seq = r.seq)";
    }
    if (q.before_sequence) sql += fmt::format(" AND r.seq < {}", *q.before_sequence);
    const std::size_t limit = std::clamp<std::size_t>(q.limit, 1, 1000);
    sql += fmt::format(" ORDER BY r.seq DESC LIMIT {}", limit + 1);
    auto stmt = c.Prepare(sql);
    for (std::size_t i = 0; i < params.size(); ++i) stmt.Bind(static_cast<int>(i + 1), params[i]);
    ReportPage page;
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      if (page.reports.size() == limit) {
        page.next_before_sequence = page.reports.back().sequence;
        break;
      }
      page.reports.push_back(ReadReport(stmt));
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return c.Error("query");
    for (auto& r : page.reports) {
      if (Status s = LoadSubstanceKeys(c, &r); !s.ok()) return s;
    }
    return page;
  }

  Result<StoredReport> Get(const Principal& viewer, const std::string& id, int version) override {
    auto reader = Reader();
    if (!reader.ok()) return reader.status();
    Connection& c = *reader->connection;
    const VisibilityClause vis = Visibility(c, viewer, "r");
    std::string sql = std::string(kSelectReport) + "WHERE r.id = ? AND " + vis.sql +
                      (version > 0 ? " AND r.version = ?" : "") +
                      " ORDER BY r.version DESC LIMIT 1";
    auto stmt = c.Prepare(sql);
    int i = 1;
    stmt.Bind(i++, id);
    for (const auto& p : vis.params) stmt.Bind(i++, p);
    if (version > 0) stmt.Bind(i++, version);
    if (stmt.Step() != SQLITE_ROW) {
      return Status::NotFound(fmt::format("report {}{} not found", id,
                                          version > 0 ? fmt::format(" version {}", version) : ""));
    }
    StoredReport r = ReadReport(stmt);
    if (Status s = LoadSubstanceKeys(c, &r); !s.ok()) return s;
    return r;
  }

  Result<std::vector<AggregateRow>> Aggregate(const Principal& viewer,
                                              const AggregateQuery& q) override {
    auto reader = SummaryReader();
    if (!reader.ok()) return reader.status();
    Connection& c = *reader->connection;
    const char* place = q.by_subdivision ? "subdivision" : "country";
    // The filters every range below shares.
    std::string filter;
    std::vector<std::string> filter_params;
    if (q.kind) filter += fmt::format(" AND k.kind = {}", static_cast<int>(*q.kind));
    if (q.except_kind) filter += fmt::format(" AND k.kind != {}", static_cast<int>(*q.except_kind));
    if (q.from) {
      auto d = reports::ParseDay(*q.from);
      if (!d.ok()) return d.status();
      filter +=
          fmt::format(" AND k.start_day >= {}", DayNumber(reports::PeriodStart(q.period, *d)));
    }
    if (q.to) {
      auto d = reports::ParseDay(*q.to);
      if (!d.ok()) return d.status();
      filter += fmt::format(" AND k.start_day <= {}", DayNumber(*d));
    }
    if (q.place) {
      filter += q.place->size() == 2 ? " AND k.country = ?" : " AND k.subdivision = ?";
      filter_params.push_back(*q.place);
    }
    if (q.substance) {
      filter += " AND k.substance = (SELECT id FROM substances WHERE key = ?)";
      filter_params.push_back(*q.substance);
    }
    if (q.substance_class) {
      filter += " AND k.substance IN (SELECT substance FROM substance_classes WHERE class = ?)";
      filter_params.push_back(*q.substance_class);
    }
    // What the viewer may see, as disjoint ranges of the summary's key (kCountsKey): rows for
    // everyone; national rows of its country; its own other rows; its trusted peers' rows.
    // Each range is grouped on its own, in key order for the largest (no sort), and the few
    // cells that several ranges share are merged here.
    const int period = q.period == reports::Period::kWeek ? 0 : 1;
    reports::AggregateCells cells;
    const auto read = [&](const std::string& sql, const std::vector<std::string>& bound) {
      auto stmt = c.Prepare(sql);
      int i = 1;
      for (const auto& p : bound) stmt.Bind(i++, p);
      for (const auto& p : filter_params) stmt.Bind(i++, p);
      int rc;
      while ((rc = stmt.Step()) == SQLITE_ROW) {
        cells.Add(stmt.Int(0), stmt.Int(1), stmt.View(2), stmt.Int(3));
      }
      return rc == SQLITE_DONE ? Status::Ok() : c.Error("aggregate");
    };
    const auto range = [&](const std::string& where, const std::vector<std::string>& bound) {
      return read(fmt::format("SELECT k.start_day, k.substance, k.{0}, SUM(k.n) FROM counts k "
                              "WHERE k.period = {1} AND {2}{3} GROUP BY k.start_day, "
                              "k.substance, k.{0}",
                              place, period, where, filter),
                  bound);
    };
    const auto level = [](reports::Distribution d) { return static_cast<int>(d); };
    using reports::Distribution;
    std::set<std::string> trusted = PeersOf(c, viewer.organisation);
    trusted.insert(viewer.organisation);
    Status st = range(fmt::format("k.distribution = {} AND k.org_country = '' AND "
                                  "k.organisation = ''",
                                  level(Distribution::kEveryone)),
                      {});
    if (st.ok()) {
      st = range(
          fmt::format("k.distribution = {} AND k.org_country = ?", level(Distribution::kNational)),
          {viewer.country});
    }
    if (st.ok()) {
      st = range(fmt::format("k.distribution = {} AND k.org_country = '' AND k.organisation = ?",
                             level(Distribution::kOrganisation)),
                 {viewer.organisation});
    }
    if (st.ok() && FiledNationallyElsewhere(c, viewer)) {
      // Its own national reports filed while it was in another country, which the summary
      // holds among that country's: counted from the reports, shaped as summary rows.
      st = read(
          fmt::format("SELECT k.start_day, k.substance, k.{0}, COUNT(*) FROM (SELECT DISTINCT {1} "
                      "AS start_day, rs.substance, r.country, r.subdivision, r.kind, r.seq FROM "
                      "reports r JOIN report_substances rs ON rs.seq = r.seq WHERE r.organisation "
                      "= ? AND r.distribution = {2} AND r.org_country != ? AND NOT EXISTS (SELECT "
                      "1 FROM supersessions x WHERE x.old_seq = r.seq)) k WHERE 1{3} GROUP BY "
                      "k.start_day, k.substance, k.{0}",
                      place, PeriodStartOf(period), level(Distribution::kNational), filter),
          {viewer.organisation, viewer.country});
    }
    for (auto it = trusted.begin(); st.ok() && it != trusted.end(); ++it) {
      st = range(fmt::format("k.distribution = {} AND k.org_country = '' AND k.organisation = ?",
                             level(Distribution::kTrustedGroup)),
                 {*it});
    }
    if (!st.ok()) return st;
    // The keys of the substances present.
    const std::vector<std::int64_t> ids = cells.SubstanceIds();
    std::unordered_map<std::int64_t, std::string> key_of;
    for (std::size_t begin = 0; begin < ids.size(); begin += kKeysPerStatement) {
      const std::size_t end = std::min(ids.size(), begin + kKeysPerStatement);
      auto stmt = c.Prepare(fmt::format("SELECT id, key FROM substances WHERE id IN ({})",
                                        Placeholders(end - begin)));
      for (std::size_t i = begin; i < end; ++i) stmt.Bind(static_cast<int>(i - begin + 1), ids[i]);
      int rc;
      while ((rc = stmt.Step()) == SQLITE_ROW) key_of[stmt.Int(0)] = stmt.Text(1);
      if (rc != SQLITE_DONE) return c.Error("aggregate substances");
    }
    return cells.Merge(key_of);
  }

  Result<SubstanceSummary> Substance(const Principal& viewer, const std::string& key) override {
    auto reader = Reader();
    if (!reader.ok()) return reader.status();
    Connection& c = *reader->connection;
    auto stmt = c.Prepare(
        "SELECT id, key, name, smiles, inchikey, in_kb, classification FROM substances "
        "WHERE key = ?1 OR lower(name) = lower(?1) ORDER BY key = ?1 DESC, id LIMIT 1");
    // An exact key wins over a name match, then the oldest substance: the same answer each
    // time when a name is shared.
    stmt.Bind(1, key);
    if (stmt.Step() != SQLITE_ROW) return Status::NotFound("substance " + key + " not recorded");
    const std::int64_t id = stmt.Int(0);
    SubstanceSummary summary;
    summary.substance = ReadSubstance(stmt, 1);
    if (Status s = LoadClasses(c, id, &summary.substance); !s.ok()) return s;
    if (Status s = Summarise(c, viewer, id, &summary); !s.ok()) return s;
    // A new substance known only from reports the viewer may not see stays hidden with them.
    if (!summary.substance.in_knowledge_base && summary.reports == 0) {
      return Status::NotFound("substance " + key + " not recorded");
    }
    return summary;
  }

  Result<std::vector<SubstanceSummary>> Substances(const Principal& viewer,
                                                   std::size_t limit) override {
    auto reader = Reader();
    if (!reader.ok()) return reader.status();
    Connection& c = *reader->connection;
    auto stmt = c.Prepare(
        "SELECT id, key, name, smiles, inchikey, in_kb, classification FROM substances "
        "ORDER BY id LIMIT ?");
    stmt.Bind(1, static_cast<std::int64_t>(std::clamp<std::size_t>(limit, 1, 10000)));
    std::vector<std::pair<std::int64_t, SubstanceSummary>> found;
    while (stmt.Step() == SQLITE_ROW) {
      SubstanceSummary s;
      s.substance = ReadSubstance(stmt, 1);
      found.emplace_back(stmt.Int(0), std::move(s));
    }
    std::vector<SubstanceSummary> out;
    for (auto& [id, s] : found) {
      if (Status st = LoadClasses(c, id, &s.substance); !st.ok()) return st;
      if (Status st = Summarise(c, viewer, id, &s); !st.ok()) return st;
      if (s.reports > 0) out.push_back(std::move(s));
    }
    return out;
  }

  Status PutOrganisation(const Principal& who, const reports::Organisation& o) override {
    if (who.role < reports::Role::kAdmin) {
      return Status::PermissionDenied("managing organisations needs the admin role");
    }
    Status st = Write([&](Connection& c) -> Status {
      auto ins = c.Prepare(
          "INSERT INTO organisations(id, name, country, created_at) VALUES(?,?,?,?) "
          "ON CONFLICT(id) DO UPDATE SET name = excluded.name, country = excluded.country");
      ins.Bind(1, o.id).Bind(2, o.name).Bind(3, o.country).Bind(4, NowUtc());
      if (ins.Step() != SQLITE_DONE) return c.Error("organisation");
      auto del = c.Prepare("DELETE FROM organisation_groups WHERE organisation = ?");
      del.Bind(1, o.id);
      if (del.Step() != SQLITE_DONE) return c.Error("organisation groups");
      for (const auto& g : o.trusted_groups) {
        auto add =
            c.Prepare("INSERT OR IGNORE INTO organisation_groups(organisation, grp) VALUES(?,?)");
        add.Bind(1, o.id).Bind(2, g);
        if (add.Step() != SQLITE_DONE) return c.Error("organisation group");
      }
      return AuditLocked(
          c, who, "organisation.put", o.id,
          fmt::format("country={} groups={}", o.country, fmt::join(o.trusted_groups, ",")));
    });
    if (st.ok()) {
      std::lock_guard lock(peers_mu_);
      peers_.clear();  // memberships changed: recompute on demand
    }
    return st;
  }

  Result<reports::Organisation> GetOrganisation(const std::string& id) override {
    auto reader = Reader();
    if (!reader.ok()) return reader.status();
    Connection& c = *reader->connection;
    auto stmt = c.Prepare("SELECT id, name, country FROM organisations WHERE id = ?");
    stmt.Bind(1, id);
    if (stmt.Step() != SQLITE_ROW) return Status::NotFound("organisation " + id + " not found");
    reports::Organisation o{stmt.Text(0), stmt.Text(1), stmt.Text(2), {}};
    auto groups = c.Prepare("SELECT grp FROM organisation_groups WHERE organisation = ?");
    groups.Bind(1, id);
    while (groups.Step() == SQLITE_ROW) o.trusted_groups.push_back(groups.Text(0));
    return o;
  }

  Result<std::int64_t> CreateToken(const Principal& who, const std::string& token_hash,
                                   const reports::TokenRecord& token) override {
    if (who.role < reports::Role::kAdmin) {
      return Status::PermissionDenied("creating tokens needs the admin role");
    }
    if (!who.organisation.empty() && who.organisation != token.organisation) {
      return Status::PermissionDenied("an organisation's admin creates tokens for it only");
    }
    std::int64_t id = 0;
    Status st = Write([&](Connection& c) -> Status {
      auto ins = c.Prepare(
          "INSERT INTO tokens(hash, organisation, user, role, created_at) VALUES(?,?,?,?,?)");
      ins.Bind(1, token_hash)
          .Bind(2, token.organisation)
          .Bind(3, token.user)
          .Bind(4, static_cast<int>(token.role))
          .Bind(5, NowUtc());
      if (ins.Step() != SQLITE_DONE) return c.Error("token");
      id = sqlite3_last_insert_rowid(c.db());
      return AuditLocked(c, who, "token.create", std::to_string(id),
                         fmt::format("organisation={} user={} role={}", token.organisation,
                                     token.user, reports::RoleName(token.role)));
    });
    if (!st.ok()) return st;
    return id;
  }

  Status RevokeToken(const Principal& who, std::int64_t token_id) override {
    if (who.role < reports::Role::kAdmin) {
      return Status::PermissionDenied("revoking tokens needs the admin role");
    }
    return Write([&](Connection& c) -> Status {
      auto upd = c.Prepare(
          "INSERT INTO token_revocations(token, revoked_at) SELECT id, ? FROM tokens WHERE id = ? "
          "AND (? = '' OR organisation = ?) ON CONFLICT(token) DO NOTHING");
      upd.Bind(1, NowUtc()).Bind(2, token_id).Bind(3, who.organisation).Bind(4, who.organisation);
      if (upd.Step() != SQLITE_DONE) return c.Error("revoke");
      if (sqlite3_changes(c.db()) == 0) {
        auto revoked = c.Prepare(
            "SELECT 1 FROM token_revocations v JOIN tokens t ON t.id = v.token WHERE v.token = ? "
            "AND (? = '' OR t.organisation = ?)");
        revoked.Bind(1, token_id).Bind(2, who.organisation).Bind(3, who.organisation);
        if (revoked.Step() == SQLITE_ROW) {
          return Status::Conflict(fmt::format("token {} is already revoked", token_id));
        }
        return Status::NotFound(fmt::format("token {} not found", token_id));
      }
      return AuditLocked(c, who, "token.revoke", std::to_string(token_id), "");
    });
  }

  Result<Principal> Authenticate(const std::string& token_hash) override {
    auto reader = Reader();
    if (!reader.ok()) return reader.status();
    Connection& c = *reader->connection;
    auto stmt = c.Prepare(
        "SELECT t.id, t.organisation, t.user, t.role, o.country FROM tokens t JOIN organisations "
        "o ON o.id = t.organisation WHERE t.hash = ? AND NOT EXISTS (SELECT 1 FROM "
        "token_revocations v WHERE v.token = t.id)");
    stmt.Bind(1, token_hash);
    if (stmt.Step() != SQLITE_ROW) return Status::Unauthenticated("unknown or revoked token");
    Principal p;
    p.token_id = stmt.Int(0);
    p.organisation = stmt.Text(1);
    p.user = stmt.Text(2);
    p.role = static_cast<reports::Role>(stmt.Int(3));
    p.country = stmt.Text(4);
    auto groups = c.Prepare("SELECT grp FROM organisation_groups WHERE organisation = ?");
    groups.Bind(1, p.organisation);
    while (groups.Step() == SQLITE_ROW) p.trusted_groups.push_back(groups.Text(0));
    return p;
  }

  Result<std::vector<AuditEntry>> Audit(const Principal& who, std::int64_t after,
                                        std::size_t limit) override {
    if (who.role < reports::Role::kAdmin) {
      return Status::PermissionDenied("reading the audit log needs the admin role");
    }
    auto reader = Reader();
    if (!reader.ok()) return reader.status();
    Connection& c = *reader->connection;
    auto stmt = c.Prepare(
        "SELECT seq, at, organisation, user, token, action, target, detail FROM audit WHERE seq > "
        "? AND (? = '' OR organisation = ?) ORDER BY seq LIMIT ?");
    stmt.Bind(1, after)
        .Bind(2, who.organisation)
        .Bind(3, who.organisation)
        .Bind(4, static_cast<std::int64_t>(std::clamp<std::size_t>(limit, 1, 10000)));
    std::vector<AuditEntry> out;
    while (stmt.Step() == SQLITE_ROW) {
      out.push_back({stmt.Int(0), stmt.Text(1), stmt.Text(2), stmt.Text(3), stmt.Int(4),
                     stmt.Text(5), stmt.Text(6), stmt.Text(7)});
    }
    return out;
  }

  Status CheckIntegrity() override {
    auto reader = SummaryReader();
    if (!reader.ok()) return reader.status();
    Connection& c = *reader->connection;
    {
      auto stmt = c.Prepare("PRAGMA integrity_check");
      if (stmt.Step() != SQLITE_ROW) return c.Error("integrity_check");
      const std::string verdict = stmt.Text(0);
      if (verdict != "ok") return Status::Corruption("SQLite integrity_check: " + verdict);
    }
    // The weekly summary must count exactly the latest versions' distinct substances.
    auto stmt = c.Prepare(
        "SELECT (SELECT COALESCE(SUM(n), 0) FROM counts WHERE period = 0), (SELECT COUNT(*) FROM "
        "(SELECT DISTINCT rs.seq, rs.substance FROM report_substances rs WHERE NOT EXISTS "
        "(SELECT 1 FROM supersessions s WHERE s.old_seq = rs.seq)))");
    if (stmt.Step() != SQLITE_ROW) return c.Error("summary check");
    if (stmt.Int(0) != stmt.Int(1)) {
      return Status::Corruption(
          fmt::format("weekly summary counts {} substance mentions, the reports hold {}",
                      stmt.Int(0), stmt.Int(1)));
    }
    return Status::Ok();
  }

  std::int64_t CountReports() override {
    auto reader = Reader();
    if (!reader.ok()) return -1;
    auto stmt = reader->connection->Prepare("SELECT COUNT(*) FROM reports");
    return stmt.Step() == SQLITE_ROW ? stmt.Int(0) : -1;
  }

  Result<reports::DetectionCounts> DetectionCountsOf(const std::vector<std::string>& keys,
                                                     std::int64_t from_week_start,
                                                     reports::Counted counted) override {
    // Occurrences are every kind but wastewater; measurements only wastewater.
    const char* const kind_is = counted == reports::Counted::kOccurrences ? "!=" : "=";
    auto reader = SummaryReader();
    if (!reader.ok()) return reader.status();
    Connection& c = *reader->connection;
    reports::DetectionCounts out;
    if (Status s = ReadFirstWeek(c, kind_is, &out); !s.ok()) return s;
    for (std::size_t begin = 0; begin < keys.size(); begin += kKeysPerStatement) {
      const std::size_t end = std::min(keys.size(), begin + kKeysPerStatement);
      // Substances first (CROSS JOIN keeps the order): with the weeks bound by a parameter the
      // planner would walk every count from `from_week_start` on, 70 ms for a new substance.
      auto stmt = c.Prepare(fmt::format(
          "SELECT s.key, k.start_day, k.country, k.subdivision, k.org_country, k.distribution, "
          "k.n FROM substances s CROSS JOIN counts k ON k.substance = s.id AND k.period = 0 WHERE "
          "s.key IN ({}) AND k.distribution IN ({}, {}) AND k.kind {} {} AND k.start_day >= ? "
          "AND k.n != 0",
          Placeholders(end - begin), static_cast<int>(reports::Distribution::kNational),
          static_cast<int>(reports::Distribution::kEveryone), kind_is, kWastewaterKind));
      for (std::size_t i = begin; i < end; ++i) stmt.Bind(static_cast<int>(i - begin + 1), keys[i]);
      stmt.Bind(static_cast<int>(end - begin + 1), from_week_start);
      if (Status st = ReadCountRows(c, stmt, "detection counts", &out); !st.ok()) return st;
    }
    return out;
  }

  Result<reports::DetectionCounts> ClassCountsOf(const std::vector<std::string>& classes,
                                                 std::int64_t from_week_start) override {
    auto reader = SummaryReader();
    if (!reader.ok()) return reader.status();
    Connection& c = *reader->connection;
    reports::DetectionCounts out;
    if (Status s = ReadFirstWeek(c, "!=", &out); !s.ok()) return s;
    // A live round reads its last weeks: from the reports of those days (the date index), a few
    // hundred. A refresh reads a class's whole history: from its substances' reports instead,
    // since walking every report of the node by date would take ten times longer.
    const bool recent =
        from_week_start >=
        DayNumber(std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now())) -
            kRecentClassDays;
    const std::string from_date = reports::FormatDay(std::chrono::sys_days{
        std::chrono::days{std::clamp<std::int64_t>(from_week_start, kEarliestDay, kLatestDay)}});
    for (std::size_t begin = 0; begin < classes.size(); begin += kKeysPerStatement) {
      const std::size_t end = std::min(classes.size(), begin + kKeysPerStatement);
      // (The week's Monday: day 0, 1970-01-01, was a Thursday.)
      auto stmt = c.Prepare(fmt::format(
          "SELECT sc.class, r.day - ((r.day + 3) % 7 + 7) % 7 AS week, r.country, r.subdivision, "
          "r.org_country, r.distribution, COUNT(DISTINCT r.seq) FROM {} WHERE sc.class IN ({}) "
          "AND r.distribution IN ({}, {}) AND r.kind != {} AND r.date >= ? AND NOT EXISTS "
          "(SELECT 1 FROM supersessions x WHERE x.old_seq = r.seq) GROUP BY sc.class, week, "
          "r.country, r.subdivision, r.org_country, r.distribution",
          recent ? "reports r CROSS JOIN report_substances rs ON rs.seq = r.seq CROSS JOIN "
                   "substance_classes sc ON sc.substance = rs.substance"
                 : "substance_classes sc JOIN report_substances rs ON rs.substance = "
                   "sc.substance JOIN reports r ON r.seq = rs.seq",
          Placeholders(end - begin), static_cast<int>(reports::Distribution::kNational),
          static_cast<int>(reports::Distribution::kEveryone), kWastewaterKind));
      for (std::size_t i = begin; i < end; ++i) {
        stmt.Bind(static_cast<int>(i - begin + 1), classes[i]);
      }
      stmt.Bind(static_cast<int>(end - begin + 1), from_date);
      if (Status st = ReadCountRows(c, stmt, "class counts", &out); !st.ok()) return st;
    }
    return out;
  }

  Result<std::vector<reports::FirstInFormRow>> FirstSeizuresInForm(
      const std::vector<std::string>& keys) override {
    return EarliestRows<reports::FirstInFormRow>(
        keys, "first seizures in form", [](const std::string& placeholders) {
          return fmt::format(
              "SELECT s.key, json_extract(r.body, '$.form') AS form, r.country, r.org_country, "
              "r.distribution, MIN(r.day) FROM substances s JOIN report_substances rs ON "
              "rs.substance = s.id JOIN reports r ON r.seq = rs.seq WHERE s.key IN ({}) AND "
              "r.kind = {} AND r.distribution IN ({}, {}) AND form IS NOT NULL AND NOT EXISTS "
              "(SELECT 1 FROM supersessions x WHERE x.old_seq = r.seq) GROUP BY s.key, form, "
              "r.country, r.org_country, r.distribution",
              placeholders, static_cast<int>(reports::Kind::kSeizure),
              static_cast<int>(reports::Distribution::kNational),
              static_cast<int>(reports::Distribution::kEveryone));
        });
  }

  Result<std::vector<reports::FirstTogetherRow>> FirstReportsTogether(
      const std::vector<std::string>& keys) override {
    return EarliestRows<reports::FirstTogetherRow>(
        keys, "first reports together", [](const std::string& placeholders) {
          return fmt::format(
              "SELECT s.key, p.key, r.country, r.org_country, r.distribution, MIN(r.day) FROM "
              "substances s JOIN report_substances rs ON rs.substance = s.id JOIN "
              "report_substances ps ON ps.seq = rs.seq AND ps.substance != rs.substance JOIN "
              "substances p ON p.id = ps.substance JOIN reports r ON r.seq = rs.seq WHERE s.key "
              "IN ({}) AND r.distribution IN ({}, {}) AND NOT EXISTS (SELECT 1 FROM "
              "supersessions x WHERE x.old_seq = r.seq) GROUP BY s.key, p.key, r.country, "
              "r.org_country, r.distribution",
              placeholders, static_cast<int>(reports::Distribution::kNational),
              static_cast<int>(reports::Distribution::kEveryone));
        });
  }

  // The rows (key, form or partner, country, org_country, distribution, first day) that `sql`
  // (given the keys' placeholders) selects, for the keys a statement at a time.
  template <typename Row>
  Result<std::vector<Row>> EarliestRows(
      const std::vector<std::string>& keys, std::string_view what,
      const std::function<std::string(const std::string& placeholders)>& sql) {
    auto reader = Reader();
    if (!reader.ok()) return reader.status();
    Connection& c = *reader->connection;
    std::vector<Row> out;
    for (std::size_t begin = 0; begin < keys.size(); begin += kKeysPerStatement) {
      const std::size_t end = std::min(keys.size(), begin + kKeysPerStatement);
      auto stmt = c.Prepare(sql(Placeholders(end - begin)));
      for (std::size_t i = begin; i < end; ++i) stmt.Bind(static_cast<int>(i - begin + 1), keys[i]);
      int rc;
      while ((rc = stmt.Step()) == SQLITE_ROW) {
        out.push_back({stmt.Text(0), stmt.Text(1), stmt.Text(2), stmt.Text(3),
                       static_cast<reports::Distribution>(stmt.Int(4)), stmt.Int(5)});
      }
      if (rc != SQLITE_DONE) return c.Error(what);
    }
    return out;
  }

  Status PutSignals(const std::vector<reports::SignalRecord>& signals) override {
    return Write([&](Connection& c) -> Status {
      const std::string now = NowUtc();
      for (const reports::SignalRecord& r : signals) {
        auto stmt = c.Prepare(
            "INSERT INTO signals(audience, detector, substance_key, place, first_week, "
            "last_week, changed, raised_at, updated_at, body) VALUES(?,?,?,?,?,?,(SELECT "
            "COALESCE(MAX(changed), 0) + 1 FROM signals),?,?,?) ON CONFLICT(audience, detector, "
            "substance_key, place, first_week) DO UPDATE SET last_week = excluded.last_week, "
            "changed = excluded.changed, updated_at = excluded.updated_at, body = excluded.body");
        stmt.Bind(1, r.audience)
            .Bind(2, r.detector)
            .Bind(3, r.substance_key)
            .Bind(4, r.place)
            .Bind(5, r.first_week)
            .Bind(6, r.last_week)
            .Bind(7, now)
            .Bind(8, now)
            .Bind(9, r.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        if (stmt.Step() != SQLITE_DONE) return c.Error("signal");
      }
      return Status::Ok();
    });
  }

  Result<std::vector<reports::SignalRecord>> RecentSignals(
      const std::vector<std::string>& keys, const std::string& since_week,
      const std::vector<std::string>& detectors) override {
    auto reader = Reader();
    if (!reader.ok()) return reader.status();
    Connection& c = *reader->connection;
    std::vector<reports::SignalRecord> out;
    for (std::size_t begin = 0; begin < keys.size(); begin += kKeysPerStatement) {
      const std::size_t end = std::min(keys.size(), begin + kKeysPerStatement);
      auto stmt =
          c.Prepare(fmt::format("{} WHERE substance_key IN ({}) AND last_week >= ?{}",
                                kSignalColumns, Placeholders(end - begin),
                                detectors.empty() ? ""
                                                  : fmt::format(" AND detector IN ({})",
                                                                Placeholders(detectors.size()))));
      int at = 1;
      for (std::size_t i = begin; i < end; ++i) stmt.Bind(at++, keys[i]);
      stmt.Bind(at++, since_week);
      for (const std::string& detector : detectors) stmt.Bind(at++, detector);
      int rc;
      while ((rc = stmt.Step()) == SQLITE_ROW) out.push_back(ReadSignal(stmt));
      if (rc != SQLITE_DONE) return c.Error("signals");
    }
    return out;
  }

  Result<std::vector<reports::SignalRecord>> Signals(const Principal& viewer,
                                                     const reports::SignalQuery& q) override {
    auto reader = Reader();
    if (!reader.ok()) return reader.status();
    Connection& c = *reader->connection;
    std::string sql = std::string(kSignalColumns) + " WHERE audience = ?";
    std::vector<std::string> params = {viewer.country};
    const auto filter = [&](const char* column, const std::optional<std::string>& value) {
      if (!value) return;
      sql += fmt::format(" AND {} = ?", column);
      params.push_back(*value);
    };
    filter("detector", q.detector);
    filter("substance_key", q.substance);
    filter("place", q.place);
    if (q.after_sequence) {
      sql += fmt::format(" AND changed > {} ORDER BY changed", *q.after_sequence);
    } else {
      sql += " ORDER BY changed DESC";
    }
    sql += fmt::format(" LIMIT {}", q.limit);
    auto stmt = c.Prepare(sql);
    for (std::size_t i = 0; i < params.size(); ++i) stmt.Bind(static_cast<int>(i + 1), params[i]);
    std::vector<reports::SignalRecord> out;
    if (viewer.country.empty()) return out;  // no audience: see reports::SignalVisible
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) out.push_back(ReadSignal(stmt));
    if (rc != SQLITE_DONE) return c.Error("signals");
    return out;
  }

  Result<std::vector<std::string>> OrganisationCountries() override {
    auto reader = Reader();
    if (!reader.ok()) return reader.status();
    Connection& c = *reader->connection;
    auto stmt = c.Prepare("SELECT DISTINCT country FROM organisations ORDER BY 1");
    std::vector<std::string> out;
    while (stmt.Step() == SQLITE_ROW) out.push_back(stmt.Text(0));
    return out;
  }

 private:
  std::string NextReportId() const {
    return options_.new_report_id ? options_.new_report_id() : NewReportId();
  }

  // --- writing: one writer thread, group commit -------------------------------------------
  struct Job {
    std::function<Status(Connection&)> work;
    std::promise<Status> done;
  };

  Status Write(std::function<Status(Connection&)> work) {
    Job job{std::move(work), {}};
    auto future = job.done.get_future();
    {
      std::lock_guard lock(queue_mu_);
      if (stopping_) return Status::FailedPrecondition("store is closing");
      queue_.push_back(&job);
    }
    queue_cv_.notify_one();
    return future.get();
  }

  void WriterLoop() {
    while (true) {
      std::vector<Job*> jobs;
      {
        std::unique_lock lock(queue_mu_);
        queue_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        jobs.assign(queue_.begin(), queue_.end());
        queue_.clear();
      }
      std::vector<Status> results(jobs.size());
      Status begin = writer_->Exec("BEGIN IMMEDIATE");
      if (!begin.ok()) {
        for (Job* j : jobs) j->done.set_value(begin);
        continue;
      }
      for (std::size_t i = 0; i < jobs.size(); ++i) {
        (void)writer_->Exec("SAVEPOINT job");
        try {
          results[i] = jobs[i]->work(*writer_);
        } catch (const std::exception& e) {
          results[i] = Status::IoError(std::string("write failed: ") + e.what());
        }
        if (results[i].ok()) {
          (void)writer_->Exec("RELEASE job");
          transaction_ids_.merge(job_ids_);
        } else {
          (void)writer_->Exec("ROLLBACK TO job");
          (void)writer_->Exec("RELEASE job");
        }
        job_ids_.clear();
      }
      Status commit = writer_->Exec("COMMIT");
      if (commit.ok()) {
        committed_ids_.merge(transaction_ids_);
        WantSummary();
      } else {
        (void)writer_->Exec("ROLLBACK");
      }
      transaction_ids_.clear();
      for (std::size_t i = 0; i < jobs.size(); ++i) {
        jobs[i]->done.set_value(commit.ok() ? results[i] : commit);
      }
    }
  }

  // --- the summary: a second writer, on a file of its own ------------------------------
  // The summary (`counts`, `organisation_countries`) is derived from the reports and kept in
  // a second database by a second thread, so that its rows, several random B-tree writes per
  // report, are written on another core while the report writer goes on. It counts reports in
  // sequence order and records, in the same transaction, the last sequence counted
  // (summary_state): a crash between a report's commit and its summary's loses nothing, as
  // the next round (at the latest, at the next open) counts from that position. Readers of the
  // summary first wait until it has counted every report committed when they asked
  // (SyncSummary), so a report is in the aggregates as soon as its Submit returns. Several
  // processes may share the files: rounds take the summary's write lock and read its position
  // inside it, so no report is counted twice.

  // One row of the `counts` summary, in kCountsKey's order.
  using CountKey = std::tuple<int, int, std::string, std::string, std::int64_t, std::int64_t,
                              std::string, std::string, int>;

  void WantSummary() {
    {
      std::lock_guard lock(summary_mu_);
      summary_wanted_ = true;
    }
    summary_cv_.notify_all();
  }

  void SummaryLoop() {
    while (true) {
      {
        std::unique_lock lock(summary_mu_);
        summary_cv_.wait(lock, [&] { return summary_wanted_; });
        summary_wanted_ = false;
        ++summary_rounds_started_;
      }
      Status round = CatchUpSummary();
      bool stop = false;
      {
        std::lock_guard lock(summary_mu_);
        ++summary_rounds_done_;
        summary_error_ = round;
        stop = summary_stopping_ && !summary_wanted_;
      }
      summary_cv_.notify_all();
      if (stop) return;
    }
  }

  // Counts every report committed and not yet counted, in transactions of at most
  // kSummaryChunk reports, until the summary's position reaches the last report.
  Status CatchUpSummary() {
    constexpr std::int64_t kSummaryChunk = 20'000;
    Connection& to = *summary_writer_;
    while (true) {
      std::int64_t last = 0;
      {
        auto stmt = summary_source_->Prepare("SELECT COALESCE(MAX(seq), 0) FROM reports");
        if (stmt.Step() != SQLITE_ROW) return summary_source_->Error("summary: last report");
        last = stmt.Int(0);
      }
      if (Status s = to.Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
      std::int64_t position = 0;
      {
        auto stmt = to.Prepare("SELECT seq FROM summary_state WHERE id = 1");
        if (stmt.Step() != SQLITE_ROW) {
          (void)to.Exec("ROLLBACK");
          return to.Error("summary position");
        }
        position = stmt.Int(0);
      }
      const std::int64_t upto = std::min(last, position + kSummaryChunk);
      Status s = upto > position ? SummariseRange(position, upto) : Status::Ok();
      if (s.ok() && upto > position) {
        auto stmt = to.Prepare("UPDATE summary_state SET seq = ? WHERE id = 1");
        stmt.Bind(1, upto);
        if (stmt.Step() != SQLITE_DONE) s = to.Error("summary position");
      }
      if (s.ok()) s = to.Exec("COMMIT");
      if (!s.ok()) {
        (void)to.Exec("ROLLBACK");
        return s;
      }
      {
        std::lock_guard lock(summary_mu_);
        summarised_ = std::max(summarised_, upto);
      }
      summary_cv_.notify_all();
      if (upto >= last) return Status::Ok();
    }
  }

  // Adds the reports with sequence in (after, upto] to the summary, and takes out the versions
  // they supersede: each once per distinct substance, under the key that says who may see it
  // (kCountsKey). Rows are written in key order, each distinct one once.
  Status SummariseRange(std::int64_t after, std::int64_t upto) {
    Connection& from = *summary_source_;
    std::map<CountKey, std::int64_t> deltas;
    std::set<std::pair<std::string, std::string>> national_filers;
    // A report counts once per substance, however often it mentions it. Rows come in
    // sequence order, a report's links together: a report's substances so far are enough.
    std::int64_t seq = -1;
    std::vector<std::int64_t> counted;
    const auto count = [&](Statement& stmt, std::int64_t delta) {
      int rc;
      while ((rc = stmt.Step()) == SQLITE_ROW) {
        if (stmt.Int(9) != seq) {
          seq = stmt.Int(9);
          counted.clear();
        }
        if (std::find(counted.begin(), counted.end(), stmt.Int(5)) != counted.end()) continue;
        counted.push_back(stmt.Int(5));
        const auto distribution = static_cast<reports::Distribution>(stmt.Int(0));
        const reports::SummaryAudience audience =
            reports::SummaryAudienceOf(distribution, stmt.Text(2), stmt.Text(1));
        if (distribution == reports::Distribution::kNational && delta > 0) {
          national_filers.emplace(stmt.Text(2), stmt.Text(1));
        }
        const std::chrono::sys_days day{std::chrono::days{stmt.Int(3)}};
        const std::int64_t starts[2] = {
            DayNumber(reports::PeriodStart(reports::Period::kWeek, day)), stmt.Int(4)};
        for (int period = 0; period < 2; ++period) {
          deltas[CountKey{period, static_cast<int>(distribution), audience.org_country,
                          audience.organisation, starts[period], stmt.Int(5), stmt.Text(6),
                          stmt.Text(7), static_cast<int>(stmt.Int(8))}] += delta;
        }
      }
      return rc == SQLITE_DONE ? Status::Ok() : from.Error("summary: reports");
    };
    constexpr const char* kCounted =
        "SELECT r.distribution, r.org_country, r.organisation, r.day, r.month_day, "
        "rs.substance, r.country, r.subdivision, r.kind, r.seq FROM reports r JOIN "
        "report_substances rs ON rs.seq = r.seq ";
    {
      auto added =
          from.Prepare(std::string(kCounted) + "WHERE r.seq > ? AND r.seq <= ? ORDER BY r.seq");
      added.Bind(1, after).Bind(2, upto);
      if (Status s = count(added, 1); !s.ok()) return s;
    }
    {
      seq = -1;
      auto superseded = from.Prepare(std::string(kCounted) +
                                     "WHERE r.seq IN (SELECT old_seq FROM supersessions WHERE "
                                     "new_seq > ? AND new_seq <= ?) ORDER BY r.seq");
      superseded.Bind(1, after).Bind(2, upto);
      if (Status s = count(superseded, -1); !s.ok()) return s;
    }
    Connection& to = *summary_writer_;
    static const std::string kUpsert = fmt::format(
        "INSERT INTO counts({0}, n) VALUES(?,?,?,?,?,?,?,?,?,?) ON CONFLICT({0}) DO UPDATE "
        "SET n = n + excluded.n",
        kCountsKey);
    for (const auto& [key, n] : deltas) {
      if (n == 0) continue;
      auto stmt = to.Prepare(kUpsert);
      const auto& [period, distribution, org_country, organisation, start, substance, country,
                   subdivision, kind] = key;
      stmt.Bind(1, period)
          .Bind(2, distribution)
          .Bind(3, org_country)
          .Bind(4, organisation)
          .Bind(5, start)
          .Bind(6, substance)
          .Bind(7, country)
          .Bind(8, subdivision)
          .Bind(9, kind)
          .Bind(10, n);
      if (stmt.Step() != SQLITE_DONE) return to.Error("counts");
    }
    for (const auto& [organisation, org_country] : national_filers) {
      auto known = to.Prepare(
          "INSERT OR IGNORE INTO organisation_countries(organisation, org_country) VALUES(?,?)");
      known.Bind(1, organisation).Bind(2, org_country);
      if (known.Step() != SQLITE_DONE) return to.Error("organisation countries");
    }
    return Status::Ok();
  }

  // Waits until the summary has counted every report committed so far (as `c` sees them).
  Status SyncSummary(Connection& c) {
    std::int64_t last = 0;
    {
      auto stmt = c.Prepare("SELECT COALESCE(MAX(seq), 0) FROM reports");
      if (stmt.Step() != SQLITE_ROW) return c.Error("last report");
      last = stmt.Int(0);
    }
    std::unique_lock lock(summary_mu_);
    if (summarised_ >= last) return Status::Ok();
    // A round that starts after this request reads the last report afresh: wait for it, or for
    // the summary to get there sooner.
    const std::uint64_t wanted_round = summary_rounds_started_ + 1;
    summary_wanted_ = true;
    summary_cv_.notify_all();
    summary_cv_.wait(lock,
                     [&] { return summarised_ >= last || summary_rounds_done_ >= wanted_round; });
    if (summarised_ >= last) return Status::Ok();
    return summary_error_.ok() ? Status::IoError("the summary did not reach the last report")
                               : summary_error_;
  }

  Status AuditLocked(Connection& c, const Principal& who, std::string_view action,
                     const std::string& target, const std::string& detail) {
    return AuditLocked(c, who, NowUtc(), action, target, detail);
  }
  Status AuditLocked(Connection& c, const Principal& who, const std::string& at,
                     std::string_view action, const std::string& target,
                     const std::string& detail) {
    auto stmt = c.Prepare(
        "INSERT INTO audit(at, organisation, user, token, action, target, detail) "
        "VALUES(?,?,?,?,?,?,?)");
    stmt.Bind(1, at)
        .Bind(2, who.organisation)
        .Bind(3, who.user)
        .Bind(4, who.token_id)
        .Bind(5, action)
        .Bind(6, target)
        .Bind(7, detail);
    return stmt.Step() == SQLITE_DONE ? Status::Ok() : c.Error("audit");
  }

  // Substance ids by key. Reports name the same few hundred substances again and again, so
  // ids are cached — but only once durable: ids made by the current job or transaction are
  // kept apart and dropped if it rolls back (writer thread only).
  Result<std::int64_t> SubstanceIdLocked(Connection& c, const SubstanceRecord& s) {
    for (const auto* ids : {&job_ids_, &transaction_ids_, &committed_ids_}) {
      if (auto it = ids->find(s.key); it != ids->end()) return it->second;
    }
    {
      auto find = c.Prepare("SELECT id FROM substances WHERE key = ?");
      find.Bind(1, s.key);
      if (find.Step() == SQLITE_ROW) {
        committed_ids_.emplace(s.key, find.Int(0));
        return find.Int(0);
      }
    }
    auto ins = c.Prepare(
        "INSERT INTO substances(key, name, smiles, inchikey, in_kb, classification, "
        "first_recorded) VALUES(?,?,?,?,?,?,?)");
    ins.Bind(1, s.key)
        .Bind(2, s.name)
        .Bind(3, s.smiles)
        .Bind(4, s.inchikey)
        .Bind(5, s.in_knowledge_base ? 1 : 0)
        .Bind(6, s.classification.is_null() ? std::string() : s.classification.dump())
        .Bind(7, NowUtc());
    if (ins.Step() != SQLITE_DONE) return c.Error("substance");
    const std::int64_t id = sqlite3_last_insert_rowid(c.db());
    for (const auto& cls : s.classes) {
      auto add = c.Prepare("INSERT OR IGNORE INTO substance_classes(substance, class) VALUES(?,?)");
      add.Bind(1, id).Bind(2, cls);
      if (add.Step() != SQLITE_DONE) return c.Error("substance class");
    }
    job_ids_.emplace(s.key, id);
    return id;
  }

  // A replay of a report already stored under its idempotency key: its outcome, or Conflict
  // when the key was used for something else; nullopt when the key is new.
  static Result<std::optional<SubmitOutcome>> ReplayLocked(Connection& c, const Principal& who,
                                                           const SubmitItem& item,
                                                           const std::string& body) {
    auto dup = c.Prepare(
        "SELECT id, version, body FROM reports WHERE organisation = ? AND idempotency_key = ?");
    dup.Bind(1, who.organisation).Bind(2, item.report.idempotency_key);
    if (dup.Step() != SQLITE_ROW) return std::optional<SubmitOutcome>();
    // A replay is the same report under the same key; anything else reusing the key is a
    // client error that must not pass silently.
    const bool same_target = item.supersedes.empty() || dup.Text(0) == item.supersedes;
    if (!same_target || dup.Text(2) != body) {
      return Status::Conflict(
          fmt::format("idempotency key '{}' was already used for a different report ({})",
                      item.report.idempotency_key, dup.Text(0)));
    }
    return std::optional<SubmitOutcome>(
        SubmitOutcome{dup.Text(0), static_cast<int>(dup.Int(1)), true});
  }

  Status SubmitLocked(Connection& c, const Principal& who, const std::vector<SubmitItem>& items,
                      const std::vector<std::string>& bodies,
                      std::vector<SubmitOutcome>* outcomes) {
    outcomes->clear();
    const std::string received_at = NowUtc();
    for (std::size_t i = 0; i < items.size(); ++i) {
      const SubmitItem& item = items[i];
      const reports::Report& r = item.report;
      std::string id = NextReportId();
      int version = 1;
      std::int64_t superseded_seq = 0;
      if (!item.supersedes.empty()) {
        // A correction's replay must be recognised before its target, which it superseded,
        // reads as gone.
        auto replay = ReplayLocked(c, who, item, bodies[i]);
        if (!replay.ok()) return replay.status();
        if (*replay) {
          outcomes->push_back(std::move(**replay));
          continue;
        }
        auto prev = c.Prepare(
            "SELECT r.seq, r.version, r.kind, r.organisation FROM reports r WHERE r.id = ? AND "
            "NOT EXISTS (SELECT 1 FROM supersessions s WHERE s.old_seq = r.seq)");
        prev.Bind(1, item.supersedes);
        // Another organisation's report reads as absent: a correction attempt must not tell
        // whether a report the caller may not see exists.
        if (prev.Step() != SQLITE_ROW || prev.Text(3) != who.organisation) {
          return Status::NotFound("report " + item.supersedes +
                                  " is not among your organisation's reports");
        }
        if (prev.Int(2) != static_cast<int>(r.kind)) {
          return Status::InvalidArgument(
              fmt::format("a correction keeps the report's kind ({})",
                          reports::KindName(static_cast<reports::Kind>(prev.Int(2)))));
        }
        superseded_seq = prev.Int(0);
        version = static_cast<int>(prev.Int(1)) + 1;
        id = item.supersedes;
      }
      const std::chrono::year_month_day ymd{r.date};
      const auto month_start =
          std::chrono::sys_days{ymd.year() / ymd.month() / std::chrono::day{1}};
      // A new key is the common case: the insert itself finds a replay, which then stores
      // nothing, rather than a lookup before every insert.
      auto ins = c.Prepare(
          "INSERT INTO reports(id, version, organisation, org_country, idempotency_key, kind, "
          "distribution, date, day, month_day, country, subdivision, lat, lon, body, "
          "received_at) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) "
          "ON CONFLICT(organisation, idempotency_key) DO NOTHING");
      ins.Bind(1, id)
          .Bind(2, version)
          .Bind(3, who.organisation)
          .Bind(4, who.country)
          .Bind(5, r.idempotency_key)
          .Bind(6, static_cast<int>(r.kind))
          .Bind(7, static_cast<int>(r.distribution))
          .Bind(8, reports::FormatDay(r.date))
          .Bind(9, DayNumber(r.date))
          .Bind(10, DayNumber(month_start))
          .Bind(11, r.country)
          .Bind(12, r.subdivision)
          .Bind(13, r.lat)
          .Bind(14, r.lon)
          .Bind(15, bodies[i])
          .Bind(16, received_at);
      // Two ids drawn in one millisecond share 48 bits; the other 32 are random, so a clash is
      // rare but possible: a new report draws again rather than failing its batch.
      int rc = ins.Step();
      for (int attempt = 0; rc == SQLITE_CONSTRAINT && version == 1 && attempt < 3; ++attempt) {
        ins.Reset();
        id = NextReportId();
        ins.Bind(1, id);
        rc = ins.Step();
      }
      if (rc != SQLITE_DONE) return c.Error("report");
      if (sqlite3_changes(c.db()) == 0) {
        auto replay = ReplayLocked(c, who, item, bodies[i]);
        if (!replay.ok()) return replay.status();
        if (!*replay) return Status::IoError("SQLite report: an idempotency key vanished");
        outcomes->push_back(std::move(**replay));
        continue;
      }
      const std::int64_t seq = sqlite3_last_insert_rowid(c.db());
      for (std::size_t k = 0; k < item.mentions.size(); ++k) {
        const auto& m = item.mentions[k];
        auto sid = SubstanceIdLocked(c, *m.substance);
        if (!sid.ok()) return sid.status();
        auto link = c.Prepare(
            "INSERT INTO report_substances(seq, ordinal, substance, role, purity, resolved_by) "
            "VALUES(?,?,?,?,?,?)");
        link.Bind(1, seq)
            .Bind(2, static_cast<std::int64_t>(k))
            .Bind(3, *sid)
            .Bind(4, m.role)
            .Bind(5, m.purity_percent)
            .Bind(6, m.resolved_by);
        if (link.Step() != SQLITE_DONE) return c.Error("report substance");
      }
      if (superseded_seq) {
        auto sup = c.Prepare("INSERT INTO supersessions(old_seq, new_seq) VALUES(?,?)");
        sup.Bind(1, superseded_seq).Bind(2, seq);
        if (sup.Step() != SQLITE_DONE) return c.Error("supersession");
      }
      if (Status s =
              AuditLocked(c, who, received_at, version > 1 ? "report.correct" : "report.submit", id,
                          fmt::format("version={} kind={}", version, reports::KindName(r.kind)));
          !s.ok()) {
        return s;
      }
      outcomes->push_back({id, version, false});
    }
    return Status::Ok();
  }

  // --- reading ----------------------------------------------------------------------------
  struct Lease {
    SqliteStore* store;
    std::unique_ptr<Connection> connection;
    Lease(SqliteStore* owner, std::unique_ptr<Connection> c)
        : store(owner), connection(std::move(c)) {}
    Lease(Lease&&) noexcept = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (connection) {
        std::lock_guard lock(store->pool_mu_);
        store->pool_.push_back(std::move(connection));
      }
    }
  };

  Result<Lease> Reader() {
    std::unique_ptr<Connection> pooled;
    {
      std::lock_guard lock(pool_mu_);
      if (!pool_.empty()) {
        pooled = std::move(pool_.back());
        pool_.pop_back();
      }
    }
    if (pooled) return Lease{this, std::move(pooled)};
    // Out of descriptors or memory: the caller answers with the error, the server goes on.
    auto c = Connection::Open(path_, true, "OFF");
    if (!c.ok()) return c.status();
    // The summary's tables read as the reports database's own (no other has their names).
    {
      auto attach = (*c)->Prepare("ATTACH DATABASE ? AS summary");
      attach.Bind(1, summary_path_);
      if (attach.Step() != SQLITE_DONE) return (*c)->Error("attaching the summary");
    }
    for (const char* pragma :
         {"PRAGMA summary.cache_size=-131072", "PRAGMA summary.mmap_size=1073741824"}) {
      if (Status s = (*c)->Exec(pragma); !s.ok()) return s;
    }
    return Lease{this, std::move(c).value()};
  }

  // A reader for the summary, once it has counted every report committed so far.
  Result<Lease> SummaryReader() {
    auto reader = Reader();
    if (!reader.ok()) return reader;
    if (Status s = SyncSummary(*reader->connection); !s.ok()) return s;
    return reader;
  }

  // The organisations sharing a trusted group with `organisation` (cached until the next
  // change of any organisation).
  std::set<std::string> PeersOf(Connection& c, const std::string& organisation) {
    {
      std::lock_guard lock(peers_mu_);
      if (auto it = peers_.find(organisation); it != peers_.end()) return it->second;
    }
    auto stmt = c.Prepare(
        "SELECT DISTINCT b.organisation FROM organisation_groups a JOIN organisation_groups b ON "
        "a.grp = b.grp WHERE a.organisation = ?");
    stmt.Bind(1, organisation);
    std::set<std::string> peers;
    while (stmt.Step() == SQLITE_ROW) peers.insert(stmt.Text(0));
    std::lock_guard lock(peers_mu_);
    peers_[organisation] = peers;
    return peers;
  }

  // Whether the viewer's organisation has filed national reports from a country other than
  // its present one.
  static bool FiledNationallyElsewhere(Connection& c, const Principal& viewer) {
    auto stmt = c.Prepare(
        "SELECT 1 FROM organisation_countries WHERE organisation = ? AND org_country != ? LIMIT "
        "1");
    stmt.Bind(1, viewer.organisation).Bind(2, viewer.country);
    return stmt.Step() == SQLITE_ROW;
  }

  VisibilityClause Visibility(Connection& c, const Principal& viewer, const std::string& t) {
    VisibilityClause v;
    const std::set<std::string> peers = PeersOf(c, viewer.organisation);
    v.sql = fmt::format(
        "({0}.organisation = ? OR {0}.distribution = {1} OR ({0}.distribution = "
        "{2} AND {0}.org_country = ?)",
        t, static_cast<int>(reports::Distribution::kEveryone),
        static_cast<int>(reports::Distribution::kNational));
    v.params = {viewer.organisation, viewer.country};
    if (!peers.empty()) {
      v.sql += fmt::format(" OR ({}.distribution = {} AND {}.organisation IN (", t,
                           static_cast<int>(reports::Distribution::kTrustedGroup), t);
      bool first = true;
      for (const auto& p : peers) {
        v.sql += first ? "?" : ",?";
        first = false;
        v.params.push_back(p);
      }
      v.sql += "))";
    }
    v.sql += ")";
    return v;
  }

  // Keys bound per statement, well under SQLite's limit on parameters.
  // The node's earliest week of reports of the kind `kind_is` ("!=" or "=") wastewater.
  static Status ReadFirstWeek(Connection& c, const char* kind_is, reports::DetectionCounts* out) {
    auto first =
        c.Prepare(fmt::format("SELECT MIN(start_day) FROM counts WHERE period = 0 AND kind {} {}",
                              kind_is, kWastewaterKind));
    if (first.Step() != SQLITE_ROW) return c.Error("detection counts");
    if (!first.IsNull(0)) out->first_week_start = first.Int(0);
    return Status::Ok();
  }

  // Appends the rows (key or class, week, country, subdivision, org_country, distribution, n)
  // that `stmt` selects.
  static Status ReadCountRows(Connection& c, Statement& stmt, std::string_view what,
                              reports::DetectionCounts* out) {
    int rc;
    while ((rc = stmt.Step()) == SQLITE_ROW) {
      out->rows.push_back({stmt.Text(0), stmt.Int(1), stmt.Text(2), stmt.Text(3), stmt.Text(4),
                           static_cast<reports::Distribution>(stmt.Int(5)), stmt.Int(6)});
    }
    return rc == SQLITE_DONE ? Status::Ok() : c.Error(what);
  }

  static constexpr std::size_t kKeysPerStatement = 500;
  static constexpr std::int64_t kRecentClassDays = 182;
  // Day numbers of 0001-01-01 and 9999-12-31, the dates a report may carry.
  static constexpr std::int64_t kEarliestDay = -719162, kLatestDay = 2932896;

  static std::string Placeholders(std::size_t n) {
    std::string out;
    for (std::size_t i = 0; i < n; ++i) out += i == 0 ? "?" : ",?";
    return out;
  }

  static constexpr std::string_view kSignalColumns =
      "SELECT audience, detector, substance_key, place, first_week, last_week, changed, "
      "raised_at, updated_at, body FROM signals";

  static reports::SignalRecord ReadSignal(Statement& s) {
    reports::SignalRecord r;
    r.audience = s.Text(0);
    r.detector = s.Text(1);
    r.substance_key = s.Text(2);
    r.place = s.Text(3);
    r.first_week = s.Text(4);
    r.last_week = s.Text(5);
    r.sequence = s.Int(6);
    r.raised_at = s.Text(7);
    r.updated_at = s.Text(8);
    r.body = nlohmann::json::parse(s.Text(9), nullptr, false);
    return r;
  }

  static StoredReport ReadReport(Statement& s) {
    StoredReport r;
    r.sequence = s.Int(0);
    r.id = s.Text(1);
    r.version = static_cast<int>(s.Int(2));
    r.organisation = s.Text(3);
    r.received_at = s.Text(4);
    r.kind = static_cast<reports::Kind>(s.Int(5));
    r.distribution = static_cast<reports::Distribution>(s.Int(6));
    r.date = s.Text(7);
    r.country = s.Text(8);
    r.subdivision = s.Text(9);
    r.body = nlohmann::json::parse(s.Text(10), nullptr, false);
    r.latest = s.Int(11) != 0;
    return r;
  }

  static Status LoadSubstanceKeys(Connection& c, StoredReport* r) {
    auto stmt = c.Prepare(
        "SELECT s.key FROM report_substances rs JOIN substances s ON s.id = rs.substance WHERE "
        "rs.seq = ? ORDER BY rs.ordinal");
    stmt.Bind(1, r->sequence);
    while (stmt.Step() == SQLITE_ROW) r->substance_keys.push_back(stmt.Text(0));
    return Status::Ok();
  }

  static SubstanceRecord ReadSubstance(Statement& s, int first) {
    SubstanceRecord r;
    r.key = s.Text(first);
    r.name = s.Text(first + 1);
    r.smiles = s.Text(first + 2);
    r.inchikey = s.Text(first + 3);
    r.in_knowledge_base = s.Int(first + 4) != 0;
    const std::string cls = s.Text(first + 5);
    r.classification = cls.empty() ? nlohmann::json() : nlohmann::json::parse(cls, nullptr, false);
    return r;
  }

  static Status LoadClasses(Connection& c, std::int64_t id, SubstanceRecord* s) {
    auto stmt = c.Prepare("SELECT class FROM substance_classes WHERE substance = ? ORDER BY class");
    stmt.Bind(1, id);
    while (stmt.Step() == SQLITE_ROW) s->classes.push_back(stmt.Text(0));
    return Status::Ok();
  }

  Status Summarise(Connection& c, const Principal& viewer, std::int64_t id, SubstanceSummary* out) {
    const VisibilityClause vis = Visibility(c, viewer, "r");
    auto stmt = c.Prepare(
        "SELECT COUNT(DISTINCT r.seq), MIN(r.date), MAX(r.date) FROM reports r JOIN "
        "report_substances rs ON rs.seq = r.seq WHERE rs.substance = ? AND NOT EXISTS (SELECT 1 "
        "FROM supersessions s WHERE s.old_seq = r.seq) AND " +
        vis.sql);
    int i = 1;
    stmt.Bind(i++, id);
    for (const auto& p : vis.params) stmt.Bind(i++, p);
    if (stmt.Step() != SQLITE_ROW) return c.Error("substance summary");
    out->reports = stmt.Int(0);
    out->first_reported = stmt.Text(1);
    out->latest_reported = stmt.Text(2);
    return Status::Ok();
  }

  std::string path_;
  std::string summary_path_ = path_ + ".summary";
  SqliteOptions options_;
  std::unique_ptr<Connection> writer_;
  std::unique_ptr<Connection> summary_writer_, summary_source_;  // summary thread only
  std::thread summary_thread_;
  std::mutex summary_mu_;
  std::condition_variable summary_cv_;
  bool summary_wanted_ = false, summary_stopping_ = false;
  std::uint64_t summary_rounds_started_ = 0, summary_rounds_done_ = 0;
  std::int64_t summarised_ = 0;  // the summary's position, as far as this process knows
  Status summary_error_;
  std::thread writer_thread_;
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Job*> queue_;
  bool stopping_ = false;
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Connection>> pool_;
  std::unordered_map<std::string, std::int64_t> committed_ids_, transaction_ids_, job_ids_;
  std::mutex peers_mu_;
  std::map<std::string, std::set<std::string>> peers_;
};

Result<std::unique_ptr<reports::Store>> OpenSqliteStore(const std::string& path,
                                                        const SqliteOptions& options) {
  if (sodium_init() < 0) return Status::FailedPrecondition("libsodium failed to initialise");
  auto store = std::make_unique<SqliteStore>(path, options);
  if (Status s = store->Start(); !s.ok()) return s;
  return std::unique_ptr<reports::Store>(std::move(store));
}

}  // namespace sentinel::sqlite
