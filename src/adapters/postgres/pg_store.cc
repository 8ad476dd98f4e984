#include "adapters/postgres/pg_store.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sodium.h>

#include <pqxx/pqxx>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <future>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "adapters/postgres/schema.h"

namespace sentinel::postgres {
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

// Reads see one snapshot across their statements and never take write locks.
using ReadTransaction = pqxx::transaction<pqxx::repeatable_read, pqxx::read_only>;

// The advisory lock every write takes just before appending to the audit log, held until it
// commits. Audit sequence numbers then follow commit order, so a reader polling the log with
// Audit(after = last seen) cannot skip an entry whose transaction committed late. The lock
// covers only the tail of each write (the audit insert and the commit).
constexpr std::int64_t kAuditLockKey = 0x73656e7461756474;  // "sentaudt"

// The namespace (first key) of the advisory locks on idempotency keys; see SubmitOnce.
constexpr std::int32_t kIdempotencyLockSpace = 0x73656e74;  // "sent"

// The second key of the advisory lock on one organisation's idempotency key: a hash that every
// node computes alike. Two keys sharing a hash only make their submitters take turns.
std::int32_t IdempotencyLockId(const std::string& organisation, const std::string& key) {
  std::string text = organisation;
  text += '\0';
  text += key;
  unsigned char hash[crypto_generichash_BYTES_MIN];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(text.data()),
                     text.size(), nullptr, 0);
  std::uint32_t id = 0;
  std::memcpy(&id, hash, sizeof id);
  return static_cast<std::int32_t>(id);
}

constexpr int kWeekPeriod = 0, kMonthPeriod = 1;  // counts.period, as in SQLite

// Timestamps read back in SQLite's text form: ISO 8601, UTC, milliseconds.
constexpr const char* kIsoUtc = R"('YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')";

// Time-ordered ids (reports::FormatReportId says why), random bits from libsodium.
std::string NewReportId() {
  const auto ms =
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  return reports::FormatReportId(ms, randombytes_random());
}

using reports::DayNumber;

std::chrono::sys_days FromDayNumber(std::int64_t day) {
  return std::chrono::sys_days{std::chrono::days{day}};
}

int AsInt(reports::Distribution d) { return static_cast<int>(d); }
int AsInt(reports::Kind k) { return static_cast<int>(k); }
// Migration 3 spells the distribution levels as numbers.
static_assert(static_cast<int>(reports::Distribution::kNational) == 1 &&
              static_cast<int>(reports::Distribution::kEveryone) == 3);

// libpq's messages end in newlines and continue with DETAIL lines; a Status holds one line.
std::string FirstLine(const char* message) {
  std::string text = message;
  text = text.substr(0, text.find('\n'));
  if (text.rfind("ERROR:", 0) == 0) {
    const auto start = text.find_first_not_of(' ', 6);
    text = start == std::string::npos ? std::string() : text.substr(start);
  }
  return text;
}

std::string Text(const pqxx::field& f) {
  return f.is_null() ? std::string() : std::string(f.c_str(), f.size());
}

// Valid while the result holding `f` lives.
std::string_view View(const pqxx::field& f) {
  return f.is_null() ? std::string_view() : std::string_view(f.c_str(), f.size());
}

// An integer column (NULL reads as 0), parsed without pqxx's general conversion: an
// aggregate reads a million of them.
std::int64_t Int(const pqxx::field& f) {
  std::int64_t v = 0;
  const std::string_view text = View(f);
  std::from_chars(text.data(), text.data() + text.size(), v);
  return v;
}

std::vector<std::string> JsonStrings(const pqxx::field& f) {
  std::vector<std::string> out;
  if (f.is_null()) return out;
  for (const auto& v : nlohmann::json::parse(f.c_str())) out.push_back(v.get<std::string>());
  return out;
}

// A nullable number as a statement parameter: libpqxx sends a null `const char*` as NULL.
class NullableNumber {
 public:
  explicit NullableNumber(std::optional<double> value)
      : text_(value ? fmt::format("{}", *value) : std::string()), null_(!value) {}
  const char* param() const { return null_ ? nullptr : text_.c_str(); }

 private:
  std::string text_;
  bool null_;
};

// Positional parameters for statements whose shape follows the request: each value becomes
// the next $n, and the SQL text holds only the placeholder.
class Params {
 public:
  std::string Text(std::string value) {
    values_.push_back(std::move(value));
    return "$" + std::to_string(values_.size());
  }
  std::string Int(std::int64_t value) { return Text(std::to_string(value)); }
  const std::vector<std::string>& values() const { return values_; }

 private:
  std::vector<std::string> values_;
};

pqxx::result ExecParams(pqxx::transaction_base& tx, const std::string& sql, const Params& params) {
  return tx.exec_params(sql, pqxx::prepare::make_dynamic_params(params.values()));
}

// The SQL condition that applies the distribution rule (reports::Visible) to a row of `table`
// with columns organisation, org_country and distribution, for `viewer`. Trusted-group peers
// are read in the same statement, so a group change made through another node counts at once.
std::string Visibility(const Principal& viewer, std::string_view table, Params& params) {
  const std::string organisation = params.Text(viewer.organisation);
  const std::string everyone = params.Int(AsInt(reports::Distribution::kEveryone));
  const std::string national = params.Int(AsInt(reports::Distribution::kNational));
  const std::string country = params.Text(viewer.country);
  const std::string trusted = params.Int(AsInt(reports::Distribution::kTrustedGroup));
  return fmt::format(
      "({0}.organisation = {1} OR {0}.distribution = {2} OR ({0}.distribution = {3} AND "
      "{0}.org_country = {4}) OR ({0}.distribution = {5} AND {0}.organisation IN (SELECT "
      "peer.organisation FROM organisation_groups own JOIN organisation_groups peer ON peer.grp = "
      "own.grp WHERE own.organisation = {1})))",
      table, organisation, everyone, national, country, trusted);
}

const std::string& SignalColumns() {
  static const std::string columns = fmt::format(
      "SELECT audience, detector, substance_key, place, first_week, last_week, changed, "
      "to_char(raised_at AT TIME ZONE 'UTC', {0}), to_char(updated_at AT TIME ZONE 'UTC', {0}), "
      "body::text FROM signals",
      kIsoUtc);
  return columns;
}

reports::SignalRecord ReadSignal(const pqxx::row& row) {
  reports::SignalRecord r;
  r.audience = Text(row[0]);
  r.detector = Text(row[1]);
  r.substance_key = Text(row[2]);
  r.place = Text(row[3]);
  r.first_week = Text(row[4]);
  r.last_week = Text(row[5]);
  r.sequence = row[6].as<std::int64_t>();
  r.raised_at = Text(row[7]);
  r.updated_at = Text(row[8]);
  r.body = nlohmann::json::parse(Text(row[9]), nullptr, false);
  return r;
}

// The columns ReadReport expects, for a report aliased r.
const std::string& ReportColumns() {
  static const std::string columns = fmt::format(
      "r.seq, r.id, r.version, r.organisation, to_char(r.received_at AT TIME ZONE 'UTC', {}), "
      "r.kind, r.distribution, to_char(r.date, 'YYYY-MM-DD'), r.country, r.subdivision, r.body, "
      "NOT EXISTS (SELECT 1 FROM supersessions s WHERE s.old_seq = r.seq), "
      "(SELECT json_agg(s.key ORDER BY rs.ordinal) FROM report_substances rs JOIN substances s ON "
      "s.id = rs.substance WHERE rs.seq = r.seq)",
      kIsoUtc);
  return columns;
}

StoredReport ReadReport(const pqxx::row& row) {
  StoredReport r;
  r.sequence = row[0].as<std::int64_t>();
  r.id = Text(row[1]);
  r.version = row[2].as<int>();
  r.organisation = Text(row[3]);
  r.received_at = Text(row[4]);
  r.kind = static_cast<reports::Kind>(row[5].as<int>());
  r.distribution = static_cast<reports::Distribution>(row[6].as<int>());
  r.date = Text(row[7]);
  r.country = Text(row[8]);
  r.subdivision = Text(row[9]);
  r.body = nlohmann::json::parse(Text(row[10]), nullptr, false);
  r.latest = row[11].as<bool>();
  r.substance_keys = JsonStrings(row[12]);
  return r;
}

// The columns ReadSubstance expects, for a substance aliased s.
constexpr const char* kSubstanceColumns =
    "s.key, s.name, s.smiles, s.inchikey, s.in_kb, s.classification, (SELECT json_agg(c.class "
    "ORDER BY c.class) FROM substance_classes c WHERE c.substance = s.id)";

SubstanceRecord ReadSubstance(const pqxx::row& row, pqxx::row::size_type first) {
  SubstanceRecord s;
  s.key = Text(row[first]);
  s.name = Text(row[first + 1]);
  s.smiles = Text(row[first + 2]);
  s.inchikey = Text(row[first + 3]);
  s.in_knowledge_base = row[first + 4].as<bool>();
  const std::string classification = Text(row[first + 5]);
  s.classification = classification.empty() ? nlohmann::json()
                                            : nlohmann::json::parse(classification, nullptr, false);
  s.classes = JsonStrings(row[first + 6]);
  return s;
}

// How many latest versions visible to the viewer name substance s (aliased s), and their date
// range: the three summary columns, as a lateral subquery aliased v.
std::string SummaryLateral(const Principal& viewer, Params& params) {
  return "LATERAL (SELECT COUNT(DISTINCT r.seq) AS n, to_char(MIN(r.date), 'YYYY-MM-DD') AS "
         "first, to_char(MAX(r.date), 'YYYY-MM-DD') AS latest FROM reports r JOIN "
         "report_substances rs ON rs.seq = r.seq WHERE rs.substance = s.id AND NOT EXISTS (SELECT "
         "1 FROM supersessions x WHERE x.old_seq = r.seq) AND " +
         Visibility(viewer, "r", params) + ") v";
}

// One row of the summary table that a stored report adds to (or, superseded, removes from),
// keyed as migration 3 keys it: who may see it first, and only what decides that (AddCounts).
// Members in the table's key order, so a transaction updates its rows in key order and two
// submitters never wait on each other's rows crosswise.
struct CountKey {
  int period = 0;
  int distribution = 0;
  std::string org_country, organisation;
  std::int64_t start_day = 0;
  std::int64_t substance = 0;
  std::string country, subdivision;
  int kind = 0;
  bool operator<(const CountKey& o) const {
    return std::tie(period, distribution, org_country, organisation, start_day, substance, country,
                    subdivision, kind) < std::tie(o.period, o.distribution, o.org_country,
                                                  o.organisation, o.start_day, o.substance,
                                                  o.country, o.subdivision, o.kind);
  }
};

// What the summary needs of one stored report.
struct CountedReport {
  std::int64_t day = 0;
  std::int64_t month_day = 0;
  std::string country, subdivision;
  int kind = 0;
  std::string organisation, org_country;
  int distribution = 0;
};

void AddCounts(const CountedReport& r, const std::set<std::int64_t>& substances, int delta,
               std::map<CountKey, std::int64_t>* deltas) {
  // Week starts exactly as SQLite computes them (day - ((day + 3) % 7 + 7) % 7): the Monday.
  const std::int64_t week_start =
      DayNumber(reports::PeriodStart(reports::Period::kWeek, FromDayNumber(r.day)));
  for (const std::int64_t substance : substances) {
    for (const auto& [period, start] :
         {std::pair{kWeekPeriod, week_start}, std::pair{kMonthPeriod, r.month_day}}) {
      auto audience = reports::SummaryAudienceOf(static_cast<reports::Distribution>(r.distribution),
                                                 r.organisation, r.org_country);
      (*deltas)[CountKey{period, r.distribution, std::move(audience.org_country),
                         std::move(audience.organisation), start, substance, r.country,
                         r.subdivision, r.kind}] += delta;
    }
  }
}

struct PendingAudit {
  std::string action, target, detail;
};

// Statements of the write path, prepared once per connection.
struct PreparedStatement {
  const char* name;
  const char* sql;
};
constexpr PreparedStatement kPrepared[] = {
    {"find_duplicate",
     "SELECT id, version, body FROM reports WHERE organisation = $1 AND idempotency_key = $2"},
    {"find_latest",
     "SELECT r.seq, r.version, r.kind, r.organisation, r.org_country, r.day, r.month_day, "
     "r.country, r.subdivision, r.distribution FROM reports r WHERE r.id = $1 AND NOT EXISTS "
     "(SELECT 1 FROM supersessions s WHERE s.old_seq = r.seq)"},
    {"insert_report",
     "INSERT INTO reports(id, version, organisation, org_country, idempotency_key, kind, "
     "distribution, date, day, month_day, country, subdivision, lat, lon, body) "
     "VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15) ON CONFLICT (organisation, "
     "idempotency_key) DO NOTHING RETURNING seq"},
    {"find_substance", "SELECT id FROM substances WHERE key = $1"},
    {"insert_substance",
     "INSERT INTO substances(key, name, smiles, inchikey, in_kb, classification) "
     "VALUES($1,$2,$3,$4,$5,$6) ON CONFLICT (key) DO NOTHING RETURNING id"},
    {"insert_substance_class",
     "INSERT INTO substance_classes(substance, class) VALUES($1,$2) ON CONFLICT DO NOTHING"},
    {"link_substances",
     "INSERT INTO report_substances(seq, ordinal, substance, role, purity, resolved_by) SELECT "
     "$1, x.ordinal, x.substance, x.role, x.purity, x.resolved_by FROM json_to_recordset($2) AS "
     "x(ordinal integer, substance bigint, role text, purity double precision, resolved_by text)"},
    {"report_substances", "SELECT DISTINCT substance FROM report_substances WHERE seq = $1"},
    {"supersede", "INSERT INTO supersessions(old_seq, new_seq) VALUES($1,$2)"},
    // Rows are inserted in the order given, which is key order (see SubmitOnce).
    {"add_counts",
     "INSERT INTO counts(period, distribution, org_country, organisation, start_day, substance, "
     "country, subdivision, kind, n) SELECT * FROM json_to_recordset($1) AS x(period smallint, "
     "distribution smallint, org_country text, organisation text, start_day integer, substance "
     "bigint, country text, subdivision text, kind smallint, n bigint) ON CONFLICT (period, "
     "distribution, org_country, organisation, start_day, substance, country, subdivision, kind) "
     "DO UPDATE SET n = counts.n + excluded.n"},
    {"note_org_country",
     "INSERT INTO organisation_countries(organisation, org_country) VALUES($1,$2) ON CONFLICT DO "
     "NOTHING"},
    {"lock_keys", "SELECT pg_advisory_xact_lock($1::integer, k) FROM unnest($2::integer[]) AS k"},
    {"audit_lock", "SELECT pg_advisory_xact_lock($1)"},
    {"append_audit",
     "INSERT INTO audit(organisation, user_name, token, action, target, detail) SELECT $1, $2, "
     "$3, x.action, x.target, x.detail FROM json_to_recordset($4) AS x(action text, target text, "
     "detail text)"},
};

// Connections, opened when a caller needs one and none is idle, kept for reuse, at most
// `limit` at once.
class ConnectionPool {
 public:
  ConnectionPool(std::string url, std::size_t limit)
      : url_(std::move(url)), limit_(std::max<std::size_t>(limit, 1)) {}

  // Exclusive use of one connection; back to the pool when destroyed unless discarded.
  class Lease {
   public:
    Lease(ConnectionPool* pool, std::unique_ptr<pqxx::connection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(Lease&& other) noexcept
        : pool_(std::exchange(other.pool_, nullptr)), connection_(std::move(other.connection_)) {}
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() {
      if (pool_) pool_->Release(std::move(connection_));
    }
    pqxx::connection& connection() { return *connection_; }
    // For a connection whose state is unknown (lost, or dropped in the middle of a commit).
    void Discard() { connection_.reset(); }

   private:
    ConnectionPool* pool_;
    std::unique_ptr<pqxx::connection> connection_;
  };

  Result<Lease> Acquire() { return Take(true); }

  // A connection only if one is idle or may be opened now, without waiting for one; otherwise
  // an error, which a caller that can do without takes as "no".
  Result<Lease> TryAcquire() { return Take(false); }

 private:
  Result<Lease> Take(bool wait) {
    {
      std::unique_lock lock(mu_);
      const auto ready = [&] { return !idle_.empty() || open_ < limit_; };
      if (wait) {
        available_.wait(lock, ready);
      } else if (!ready()) {
        return Status::FailedPrecondition("every PostgreSQL connection is in use");
      }
      if (!idle_.empty()) {
        auto connection = std::move(idle_.back());
        idle_.pop_back();
        return Lease(this, std::move(connection));
      }
      ++open_;  // reserve the slot, then connect without holding the lock
    }
    auto connection = Connect();
    if (!connection.ok()) {
      Release(nullptr);
      return connection.status();
    }
    return Lease(this, std::move(connection).value());
  }

  Result<std::unique_ptr<pqxx::connection>> Connect() {
    try {
      auto connection = std::make_unique<pqxx::connection>(url_);
      // The contract acknowledges a Submit only once it is on stable storage: whatever the
      // server's or the role's default, Sentinel's sessions wait for the WAL flush.
      connection->set_variable("synchronous_commit", "on");
      connection->set_variable("application_name", "sentinel");
      for (const auto& statement : kPrepared) connection->prepare(statement.name, statement.sql);
      return connection;
    } catch (const std::exception& e) {
      return Status::IoError("cannot connect to PostgreSQL: " + FirstLine(e.what()));
    }
  }

  void Release(std::unique_ptr<pqxx::connection> connection) {
    {
      std::lock_guard lock(mu_);
      if (connection && connection->is_open()) {
        idle_.push_back(std::move(connection));
      } else {
        --open_;
      }
    }
    available_.notify_one();
  }

  const std::string url_;
  const std::size_t limit_;
  std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::size_t open_ = 0;  // idle plus leased plus being opened
};

// Which failures a fresh attempt of the whole transaction may cure.
enum class Retry {
  kTransient,  // lost connection (before commit), deadlock, serialisation failure
  // ... and a unique violation: a concurrent correction of the same report stored the next
  // version first (or two reports of one millisecond drew the same 32 random id bits); the
  // next attempt corrects that version (or draws a new id). A concurrent Submit of the same
  // idempotency key needs no retry: the insert stands back (ON CONFLICT DO NOTHING) and the stored
  // report is read.
  kTransientOrUniqueViolation,
};

Status Migrate(pqxx::connection& c) {
  const auto known = static_cast<std::int64_t>(std::size(kMigrations));
  // One transaction per migration, each under the lock: a node that waited finds the work done
  // by the one that held it.
  while (true) {
    pqxx::work tx(c);
    tx.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLockKey);
    // Created only when absent, so that a role without CREATE rights can open a database that
    // is up to date.
    if (tx.exec("SELECT to_regclass('schema_migrations')")[0][0].is_null()) {
      tx.exec(
          "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ "
          "NOT NULL DEFAULT now())");
    }
    const auto applied =
        tx.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0].as<std::int64_t>();
    if (applied > known) {
      return Status::FailedPrecondition(fmt::format(
          "database schema version {} is newer than this Sentinel knows ({})", applied, known));
    }
    if (applied == known) {
      tx.commit();
      return Status::Ok();
    }
    const std::int64_t next = applied + 1;
    try {
      tx.exec(std::string(kMigrations[next - 1]));
      tx.exec_params("INSERT INTO schema_migrations(version) VALUES($1)", next);
      tx.commit();
    } catch (const pqxx::sql_error& e) {
      return Status::FailedPrecondition(
          fmt::format("migration {} failed: {}", next, FirstLine(e.what())));
    }
  }
}

}  // namespace

class PostgresStore final : public reports::Store {
 public:
  PostgresStore(std::string url, const PostgresOptions& options)
      : pool_(std::move(url), options.max_connections) {}

  Status Start() {
    return Run("migration", Retry::kTransient, [](pqxx::connection& c) { return Migrate(c); });
  }

  Status Submit(const Principal& who, const std::vector<SubmitItem>& items,
                std::vector<SubmitOutcome>* outcomes) override {
    if (who.role < reports::Role::kReporter) {
      return Status::PermissionDenied("submitting reports needs the reporter role");
    }
    std::vector<SubmitOutcome> ignored;
    std::vector<SubmitOutcome>* out = outcomes ? outcomes : &ignored;
    return Run("submit", Retry::kTransientOrUniqueViolation,
               [&](pqxx::connection& c) { return SubmitOnce(c, who, items, out); });
  }

  Result<ReportPage> Query(const Principal& viewer, const ReportQuery& q) override {
    for (const auto& day : {q.from, q.to}) {
      if (day && !reports::ParseDay(*day).ok()) return reports::ParseDay(*day).status();
    }
    ReportPage page;
    const std::size_t limit = std::clamp<std::size_t>(q.limit, 1, 1000);
    Status st = Run("query", Retry::kTransient, [&](pqxx::connection& c) -> Status {
      page = {};
      Params params;
      std::string sql =
          "SELECT " + ReportColumns() + " FROM reports r WHERE " + Visibility(viewer, "r", params);
      if (q.kind) sql += " AND r.kind = " + params.Int(static_cast<int>(*q.kind));
      if (q.from) sql += " AND r.date >= " + params.Text(*q.from) + "::date";
      if (q.to) sql += " AND r.date <= " + params.Text(*q.to) + "::date";
      if (q.place) {
        sql += (q.place->size() == 2 ? " AND r.country = " : " AND r.subdivision = ") +
               params.Text(*q.place);
      }
      if (q.substance) {
        sql +=
            " AND r.seq IN (SELECT rs.seq FROM report_substances rs JOIN substances s ON s.id = "
            "rs.substance WHERE s.key = " +
            params.Text(*q.substance) + ")";
      }
      if (q.substance_class) {
        sql +=
            " AND r.seq IN (SELECT rs.seq FROM report_substances rs JOIN substance_classes sc ON "
            "sc.substance = rs.substance WHERE sc.class = " +
            params.Text(*q.substance_class) + ")";
      }
      if (q.also_substance) {
        sql +=
            " AND r.seq IN (SELECT rs.seq FROM report_substances rs JOIN substances s ON s.id = "
            "rs.substance WHERE s.key = " +
            params.Text(*q.also_substance) + ")";
      }
      if (q.form) {
        sql += " AND r.kind = " + params.Int(static_cast<int>(reports::Kind::kSeizure)) +
               " AND (r.body::jsonb ->> 'form') = " + params.Text(*q.form);
      }
      if (!q.all_versions) {
        sql += " AND NOT EXISTS (SELECT 1 FROM supersessions s WHERE s.old_seq = r.seq)";
      }
      if (q.before_sequence) sql += " AND r.seq < " + params.Int(*q.before_sequence);
      sql += " ORDER BY r.seq DESC LIMIT " + params.Int(static_cast<std::int64_t>(limit + 1));
      ReadTransaction tx(c);
      for (const auto& row : ExecParams(tx, sql, params)) {
        if (page.reports.size() == limit) {
          page.next_before_sequence = page.reports.back().sequence;
          break;
        }
        page.reports.push_back(ReadReport(row));
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return page;
  }

  Result<StoredReport> Get(const Principal& viewer, const std::string& id, int version) override {
    std::optional<StoredReport> found;
    Status st = Run("get", Retry::kTransient, [&](pqxx::connection& c) -> Status {
      Params params;
      std::string sql = "SELECT " + ReportColumns() +
                        " FROM reports r WHERE r.id = " + params.Text(id) + " AND " +
                        Visibility(viewer, "r", params);
      if (version > 0) sql += " AND r.version = " + params.Int(version);
      sql += " ORDER BY r.version DESC LIMIT 1";
      ReadTransaction tx(c);
      const pqxx::result rows = ExecParams(tx, sql, params);
      found.reset();
      if (!rows.empty()) found = ReadReport(rows[0]);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    if (!found) {
      return Status::NotFound(fmt::format("report {}{} not found", id,
                                          version > 0 ? fmt::format(" version {}", version) : ""));
    }
    return std::move(*found);
  }

  Result<std::vector<AggregateRow>> Aggregate(const Principal& viewer,
                                              const AggregateQuery& q) override {
    std::optional<std::int64_t> from_start, to_day;
    if (q.from) {
      auto d = reports::ParseDay(*q.from);
      if (!d.ok()) return d.status();
      from_start = DayNumber(reports::PeriodStart(q.period, *d));
    }
    if (q.to) {
      auto d = reports::ParseDay(*q.to);
      if (!d.ok()) return d.status();
      to_day = DayNumber(*d);
    }
    std::vector<AggregateRow> rows;
    Status st = Run("aggregate", Retry::kTransient, [&](pqxx::connection& c) -> Status {
      rows.clear();
      const char* place = q.by_subdivision ? "subdivision" : "country";
      // The filters every range below shares.
      const auto filter = [&](Params& params) {
        std::string sql;
        if (q.kind) sql += " AND k.kind = " + params.Int(static_cast<int>(*q.kind));
        if (q.except_kind) sql += " AND k.kind != " + params.Int(static_cast<int>(*q.except_kind));
        if (from_start) sql += " AND k.start_day >= " + params.Int(*from_start);
        if (to_day) sql += " AND k.start_day <= " + params.Int(*to_day);
        if (q.place) {
          sql += (q.place->size() == 2 ? " AND k.country = " : " AND k.subdivision = ") +
                 params.Text(*q.place);
        }
        if (q.substance) {
          sql += " AND k.substance = (SELECT id FROM substances WHERE key = " +
                 params.Text(*q.substance) + ")";
        }
        if (q.substance_class) {
          sql += " AND k.substance IN (SELECT substance FROM substance_classes WHERE class = " +
                 params.Text(*q.substance_class) + ")";
        }
        return sql;
      };
      // What the viewer may see, as disjoint ranges of the summary's key (CountKey): rows for
      // everyone; national rows of its country; its own other rows (national ones filed while
      // it was in another country too); its trusted peers' rows. Each range is grouped on its
      // own, in key order for the largest (no sort, no hash table over the whole summary),
      // and the few cells that several ranges share are merged here.
      const int period = q.period == reports::Period::kWeek ? kWeekPeriod : kMonthPeriod;
      const auto level = [](reports::Distribution d) { return AsInt(d); };
      using reports::Distribution;
      std::vector<std::pair<std::string, Params>> ranges;
      // A statement: `head` (rows of `counts k`, or shaped like them, up to their WHERE), the
      // shared filters, grouped by period, substance and place; `close` ends what `head` opened.
      const auto add = [&](Params params, const std::string& head, std::string_view close = "") {
        std::string sql = head + filter(params) +
                          fmt::format(" GROUP BY k.start_day, k.substance, k.{}{}", place, close);
        ranges.emplace_back(std::move(sql), std::move(params));
      };
      const auto range = [&](const std::function<std::string(Params&)>& where) {
        Params params;
        const std::string head = fmt::format(
            "SELECT k.start_day, k.substance, k.{0}, SUM(k.n) FROM counts k WHERE k.period = {1} "
            "AND {2}",
            place, period, where(params));
        add(std::move(params), head);
      };
      {
        // Itself and each trusted peer: one range of the key each. First, as it may be the
        // largest: two connections share the ranges best when the largest go first.
        Params params;
        const std::string organisation = params.Text(viewer.organisation);
        const std::string head = fmt::format(
            "SELECT g.start_day, g.substance, g.place, g.n FROM (SELECT {0}::text AS "
            "organisation UNION SELECT peer.organisation FROM organisation_groups own JOIN "
            "organisation_groups peer ON peer.grp = own.grp WHERE own.organisation = {0}) o "
            "CROSS JOIN LATERAL (SELECT k.start_day, k.substance, k.{1} AS place, SUM(k.n) AS n "
            "FROM counts k WHERE k.period = {2} AND k.distribution = {3} AND k.org_country = '' "
            "AND k.organisation = o.organisation",
            organisation, place, period, level(Distribution::kTrustedGroup));
        add(std::move(params), head, ") g");
      }
      ReadTransaction tx(c);
      // Everyone's rows, the largest range for most viewers, in two halves of their periods,
      // so that two connections can share them (below).
      std::string everyone =
          fmt::format("k.distribution = {} AND k.org_country = '' AND k.organisation = ''",
                      level(Distribution::kEveryone));
      std::optional<std::int64_t> middle;
      {
        const pqxx::row bounds = tx.exec1(fmt::format(
            "SELECT min(k.start_day), max(k.start_day) FROM counts k WHERE k.period = {} AND {}",
            period, everyone));
        if (!bounds[0].is_null()) {
          const std::int64_t first = std::max(
              Int(bounds[0]), from_start.value_or(std::numeric_limits<std::int64_t>::min()));
          const std::int64_t last =
              std::min(Int(bounds[1]), to_day.value_or(std::numeric_limits<std::int64_t>::max()));
          if (first < last) middle = first + (last - first + 1) / 2;
        }
      }
      if (middle) {
        range(
            [&](Params& params) { return everyone + " AND k.start_day < " + params.Int(*middle); });
        range([&](Params& params) {
          return everyone + " AND k.start_day >= " + params.Int(*middle);
        });
      } else {
        range([&](Params&) { return everyone; });
      }
      range([&](Params& params) {
        return fmt::format("k.distribution = {} AND k.org_country = {}",
                           level(Distribution::kNational), params.Text(viewer.country));
      });
      range([&](Params& params) {
        return fmt::format("k.distribution = {} AND k.org_country = '' AND k.organisation = {}",
                           level(Distribution::kOrganisation), params.Text(viewer.organisation));
      });
      {
        // Its own national reports filed while it was in another country, which the summary
        // holds among that country's: counted from the reports, shaped as summary rows, for
        // the rare organisation that moved (the EXISTS is evaluated once).
        Params params;
        const std::string organisation = params.Text(viewer.organisation);
        const std::string country = params.Text(viewer.country);
        const std::string head = fmt::format(
            "SELECT k.start_day, k.substance, k.{0}, COUNT(*) FROM "
            "(SELECT DISTINCT CASE {1} WHEN 0 THEN r.day - ((r.day + 3) % 7 + 7) % 7 "
            "ELSE r.month_day END AS start_day, rs.substance, r.country, r.subdivision, "
            "r.kind, r.seq FROM reports r JOIN report_substances rs ON rs.seq = r.seq "
            "WHERE r.organisation = {2} AND r.distribution = {3} AND r.org_country != "
            "{4} AND NOT EXISTS (SELECT 1 FROM supersessions x WHERE x.old_seq = r.seq) "
            "AND EXISTS (SELECT 1 FROM organisation_countries o WHERE o.organisation = "
            "{2} AND o.org_country != {4})) k WHERE true",
            place, period, organisation, level(Distribution::kNational), country);
        add(std::move(params), head);
      }
      const auto read = [&](ReadTransaction& t, std::size_t i, reports::AggregateCells* into) {
        const pqxx::result result = ExecParams(t, ranges[i].first, ranges[i].second);
        into->Reserve(result.size());
        for (const auto& row : result) {
          into->Add(Int(row[0]), Int(row[1]), View(row[2]), Int(row[3]));
        }
      };
      // The ranges are read by this connection and, when one is free at once, by a second in
      // this transaction's snapshot, each taking the next range when done with one: the
      // server groups two ranges at a time, on two cores. Without a free connection, all on
      // this one.
      std::atomic<std::size_t> next{0};
      const auto take = [&](ReadTransaction& t, reports::AggregateCells* into) {
        for (std::size_t i = next++; i < ranges.size(); i = next++) read(t, i, into);
      };
      reports::AggregateCells cells;
      // Declared in this order so that the helper has finished (the future's destructor waits
      // for it) before its connection goes back to the pool, also when this thread throws.
      reports::AggregateCells helped;
      auto second = pool_.TryAcquire();
      std::future<void> helper;
      if (second.ok()) {
        std::string snapshot = Text(tx.exec("SELECT pg_export_snapshot()")[0][0]);
        helper = std::async(std::launch::async, [&, snapshot = std::move(snapshot)] {
          try {
            ReadTransaction other(second->connection());
            other.exec("SET TRANSACTION SNAPSHOT " + other.quote(snapshot));
            take(other, &helped);
          } catch (const pqxx::broken_connection&) {
            second->Discard();
            throw;
          }
        });
      }
      take(tx, &cells);
      if (helper.valid()) {
        helper.get();
        cells.Absorb(helped);
      }
      std::unordered_map<std::int64_t, std::string> key_of;
      if (const auto ids = cells.SubstanceIds(); !ids.empty()) {
        for (const auto& row : tx.exec(fmt::format(
                 "SELECT id, key FROM substances WHERE id IN ({})", fmt::join(ids, ",")))) {
          key_of[row[0].as<std::int64_t>()] = Text(row[1]);
        }
      }
      rows = cells.Merge(key_of);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return rows;
  }

  Result<SubstanceSummary> Substance(const Principal& viewer, const std::string& key) override {
    std::optional<SubstanceSummary> found;
    Status st = Run("substance", Retry::kTransient, [&](pqxx::connection& c) -> Status {
      found.reset();
      Params params;
      const std::string key_param = params.Text(key);
      // An exact key wins over a name match, then the oldest substance: the same answer each
      // time when a name is shared.
      const std::string sql = fmt::format(
          "SELECT {0}, v.n, v.first, v.latest FROM substances s, {1} WHERE s.key = {2} OR "
          "lower(s.name) = lower({2}) ORDER BY s.key = {2} DESC, s.id LIMIT 1",
          kSubstanceColumns, SummaryLateral(viewer, params), key_param);
      ReadTransaction tx(c);
      const pqxx::result rows = ExecParams(tx, sql, params);
      if (!rows.empty()) found = ReadSummary(rows[0]);
      return Status::Ok();
    });
    if (!st.ok()) return st;
    // A new substance known only from reports the viewer may not see stays hidden with them.
    if (!found || (!found->substance.in_knowledge_base && found->reports == 0)) {
      return Status::NotFound("substance " + key + " not recorded");
    }
    return std::move(*found);
  }

  Result<std::vector<SubstanceSummary>> Substances(const Principal& viewer,
                                                   std::size_t limit) override {
    std::vector<SubstanceSummary> out;
    Status st = Run("substances", Retry::kTransient, [&](pqxx::connection& c) -> Status {
      out.clear();
      Params params;
      // As in SQLite: the first `limit` substances recorded, of which those the viewer has
      // visible reports of.
      const std::string limit_param =
          params.Int(static_cast<std::int64_t>(std::clamp<std::size_t>(limit, 1, 10000)));
      const std::string sql = fmt::format(
          "SELECT {0}, v.n, v.first, v.latest FROM (SELECT * FROM substances ORDER BY id LIMIT "
          "{1}) s, {2} WHERE v.n > 0 ORDER BY s.id",
          kSubstanceColumns, limit_param, SummaryLateral(viewer, params));
      ReadTransaction tx(c);
      for (const auto& row : ExecParams(tx, sql, params)) out.push_back(ReadSummary(row));
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

  Status PutOrganisation(const Principal& who, const reports::Organisation& o) override {
    if (who.role < reports::Role::kAdmin) {
      return Status::PermissionDenied("managing organisations needs the admin role");
    }
    return Run("organisation", Retry::kTransient, [&](pqxx::connection& c) -> Status {
      pqxx::work tx(c);
      tx.exec_params(
          "INSERT INTO organisations(id, name, country) VALUES($1,$2,$3) ON CONFLICT (id) DO "
          "UPDATE SET name = excluded.name, country = excluded.country",
          o.id, o.name, o.country);
      tx.exec_params("DELETE FROM organisation_groups WHERE organisation = $1", o.id);
      for (const auto& group : o.trusted_groups) {
        tx.exec_params(
            "INSERT INTO organisation_groups(organisation, grp) VALUES($1,$2) ON CONFLICT DO "
            "NOTHING",
            o.id, group);
      }
      AppendAudit(
          tx, who,
          {{"organisation.put", o.id,
            fmt::format("country={} groups={}", o.country, fmt::join(o.trusted_groups, ","))}});
      tx.commit();
      return Status::Ok();
    });
  }

  Result<reports::Organisation> GetOrganisation(const std::string& id) override {
    std::optional<reports::Organisation> found;
    Status st = Run("organisation", Retry::kTransient, [&](pqxx::connection& c) -> Status {
      ReadTransaction tx(c);
      const pqxx::result rows = tx.exec_params(
          "SELECT o.id, o.name, o.country, (SELECT json_agg(g.grp ORDER BY g.grp) FROM "
          "organisation_groups g WHERE g.organisation = o.id) FROM organisations o WHERE o.id = $1",
          id);
      found.reset();
      if (!rows.empty()) {
        found = reports::Organisation{Text(rows[0][0]), Text(rows[0][1]), Text(rows[0][2]),
                                      JsonStrings(rows[0][3])};
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    if (!found) return Status::NotFound("organisation " + id + " not found");
    return std::move(*found);
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
    Status st = Run("token", Retry::kTransient, [&](pqxx::connection& c) -> Status {
      pqxx::work tx(c);
      id = tx.exec_params1(
                 "INSERT INTO tokens(hash, organisation, user_name, role) VALUES($1,$2,$3,$4) "
                 "RETURNING id",
                 token_hash, token.organisation, token.user, static_cast<int>(token.role))[0]
               .as<std::int64_t>();
      AppendAudit(tx, who,
                  {{"token.create", std::to_string(id),
                    fmt::format("organisation={} user={} role={}", token.organisation, token.user,
                                reports::RoleName(token.role))}});
      tx.commit();
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return id;
  }

  Status RevokeToken(const Principal& who, std::int64_t token_id) override {
    if (who.role < reports::Role::kAdmin) {
      return Status::PermissionDenied("revoking tokens needs the admin role");
    }
    return Run("revoke", Retry::kTransient, [&](pqxx::connection& c) -> Status {
      pqxx::work tx(c);
      const pqxx::result revoked = tx.exec_params(
          "INSERT INTO token_revocations(token) SELECT id FROM tokens WHERE id = $1 AND "
          "($2::text = '' OR organisation = $2) ON CONFLICT (token) DO NOTHING RETURNING token",
          token_id, who.organisation);
      if (revoked.empty()) {
        const pqxx::result existing = tx.exec_params(
            "SELECT 1 FROM tokens WHERE id = $1 AND ($2::text = '' OR organisation = $2)", token_id,
            who.organisation);
        if (existing.empty()) return Status::NotFound(fmt::format("token {} not found", token_id));
        return Status::Conflict(fmt::format("token {} is already revoked", token_id));
      }
      AppendAudit(tx, who, {{"token.revoke", std::to_string(token_id), ""}});
      tx.commit();
      return Status::Ok();
    });
  }

  Result<Principal> Authenticate(const std::string& token_hash) override {
    std::optional<Principal> found;
    Status st = Run("authenticate", Retry::kTransient, [&](pqxx::connection& c) -> Status {
      ReadTransaction tx(c);
      const pqxx::result rows = tx.exec_params(
          "SELECT t.id, t.organisation, t.user_name, t.role, o.country, (SELECT json_agg(g.grp "
          "ORDER BY g.grp) FROM organisation_groups g WHERE g.organisation = t.organisation) FROM "
          "tokens t JOIN organisations o ON o.id = t.organisation WHERE t.hash = $1 AND NOT "
          "EXISTS (SELECT 1 FROM token_revocations v WHERE v.token = t.id)",
          token_hash);
      found.reset();
      if (!rows.empty()) {
        Principal p;
        p.token_id = rows[0][0].as<std::int64_t>();
        p.organisation = Text(rows[0][1]);
        p.user = Text(rows[0][2]);
        p.role = static_cast<reports::Role>(rows[0][3].as<int>());
        p.country = Text(rows[0][4]);
        p.trusted_groups = JsonStrings(rows[0][5]);
        found = std::move(p);
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    if (!found) return Status::Unauthenticated("unknown or revoked token");
    return std::move(*found);
  }

  Result<reports::DetectionCounts> DetectionCountsOf(const std::vector<std::string>& keys,
                                                     std::int64_t from_week_start,
                                                     reports::Counted counted) override {
    // Occurrences are every kind but wastewater; measurements only wastewater.
    const char* const kind_is = counted == reports::Counted::kOccurrences ? "!=" : "=";
    return CountRows("detection counts", kind_is, keys,
                     [&](const std::string& list, Params& params) {
                       return fmt::format(
                           "SELECT s.key, k.start_day, k.country, k.subdivision, k.org_country, "
                           "k.distribution, k.n FROM substances s JOIN counts k ON k.substance = "
                           "s.id AND k.period = {} WHERE s.key IN ({}) AND k.distribution IN "
                           "({}, {}) AND k.kind {} {} AND k.start_day >= {}::bigint AND k.n != 0",
                           kWeekPeriod, list, AsInt(reports::Distribution::kNational),
                           AsInt(reports::Distribution::kEveryone), kind_is,
                           AsInt(reports::Kind::kWastewater), params.Int(from_week_start));
                     });
  }

  Result<reports::DetectionCounts> ClassCountsOf(const std::vector<std::string>& classes,
                                                 std::int64_t from_week_start) override {
    // (The week's Monday: day 0, 1970-01-01, was a Thursday.)
    return CountRows("class counts", "!=", classes, [&](const std::string& list, Params& params) {
      return fmt::format(
          "SELECT sc.class, r.day - ((r.day + 3) % 7 + 7) % 7 AS week, r.country, r.subdivision, "
          "r.org_country, r.distribution, COUNT(DISTINCT r.seq) FROM substance_classes sc JOIN "
          "report_substances rs ON rs.substance = sc.substance JOIN reports r ON r.seq = rs.seq "
          "WHERE sc.class IN ({}) AND r.distribution IN ({}, {}) AND r.kind != {} AND r.day >= "
          "{}::bigint AND NOT EXISTS (SELECT 1 FROM supersessions x WHERE x.old_seq = r.seq) "
          "GROUP BY sc.class, week, r.country, r.subdivision, r.org_country, r.distribution",
          list, AsInt(reports::Distribution::kNational), AsInt(reports::Distribution::kEveryone),
          AsInt(reports::Kind::kWastewater), params.Int(from_week_start));
    });
  }

  // The node's first week of reports of the kind `kind_is` ("!=" or "=") wastewater, and the
  // count rows (key or class, week, country, subdivision, org_country, distribution, n) that
  // `sql` selects, given the parameter list of `values`.
  Result<reports::DetectionCounts> CountRows(
      std::string_view what, const char* kind_is, const std::vector<std::string>& values,
      const std::function<std::string(const std::string& list, Params& params)>& sql) {
    reports::DetectionCounts out;
    Status st = Run(what, Retry::kTransient, [&](pqxx::connection& c) -> Status {
      out = {};
      ReadTransaction tx(c);
      out.first_week_start = FirstWeek(tx, kind_is);
      if (values.empty()) return Status::Ok();
      Params params;
      std::string list;
      for (const std::string& v : values) list += (list.empty() ? "" : ",") + params.Text(v);
      const std::string text = sql(list, params);
      for (const auto& row : ExecParams(tx, text, params)) {
        out.rows.push_back({Text(row[0]), row[1].as<std::int64_t>(), Text(row[2]), Text(row[3]),
                            Text(row[4]), static_cast<reports::Distribution>(row[5].as<int>()),
                            row[6].as<std::int64_t>()});
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

  // The node's earliest week of reports of the kind `kind_is` ("!=" or "=") wastewater.
  static std::optional<std::int64_t> FirstWeek(ReadTransaction& tx, const char* kind_is) {
    const pqxx::row first =
        tx.exec1(fmt::format("SELECT MIN(start_day) FROM counts WHERE period = {} AND kind {} {}",
                             kWeekPeriod, kind_is, AsInt(reports::Kind::kWastewater)));
    if (first[0].is_null()) return std::nullopt;
    return first[0].as<std::int64_t>();
  }

  Result<std::vector<reports::FirstInFormRow>> FirstSeizuresInForm(
      const std::vector<std::string>& keys) override {
    return EarliestRows<reports::FirstInFormRow>(
        keys, "first seizures in form", [](const std::string& list) {
          return fmt::format(
              "SELECT s.key, f.form, r.country, r.org_country, r.distribution, MIN(r.day) FROM "
              "substances s JOIN report_substances rs ON rs.substance = s.id JOIN reports r ON "
              "r.seq = rs.seq CROSS JOIN LATERAL (SELECT r.body::jsonb ->> 'form' AS form) f "
              "WHERE s.key IN ({}) AND r.kind = {} AND r.distribution IN ({}, {}) AND f.form IS "
              "NOT NULL AND NOT EXISTS (SELECT 1 FROM supersessions x WHERE x.old_seq = r.seq) "
              "GROUP BY s.key, f.form, r.country, r.org_country, r.distribution",
              list, static_cast<int>(reports::Kind::kSeizure),
              AsInt(reports::Distribution::kNational), AsInt(reports::Distribution::kEveryone));
        });
  }

  Result<std::vector<reports::FirstTogetherRow>> FirstReportsTogether(
      const std::vector<std::string>& keys) override {
    return EarliestRows<reports::FirstTogetherRow>(
        keys, "first reports together", [](const std::string& list) {
          return fmt::format(
              "SELECT s.key, p.key, r.country, r.org_country, r.distribution, MIN(r.day) FROM "
              "substances s JOIN report_substances rs ON rs.substance = s.id JOIN "
              "report_substances ps ON ps.seq = rs.seq AND ps.substance != rs.substance JOIN "
              "substances p ON p.id = ps.substance JOIN reports r ON r.seq = rs.seq WHERE s.key "
              "IN ({}) AND r.distribution IN ({}, {}) AND NOT EXISTS (SELECT 1 FROM "
              "supersessions x WHERE x.old_seq = r.seq) GROUP BY s.key, p.key, r.country, "
              "r.org_country, r.distribution",
              list, AsInt(reports::Distribution::kNational),
              AsInt(reports::Distribution::kEveryone));
        });
  }

  // The rows (key, form or partner, country, org_country, distribution, first day) that `sql`
  // (given the keys' parameter list) selects.
  template <typename Row>
  Result<std::vector<Row>> EarliestRows(
      const std::vector<std::string>& keys, std::string_view what,
      const std::function<std::string(const std::string& list)>& sql) {
    std::vector<Row> out;
    Status st = Run(what, Retry::kTransient, [&](pqxx::connection& c) -> Status {
      out = {};
      if (keys.empty()) return Status::Ok();
      ReadTransaction tx(c);
      Params params;
      std::string list;
      for (const std::string& key : keys) list += (list.empty() ? "" : ",") + params.Text(key);
      for (const auto& row : ExecParams(tx, sql(list), params)) {
        out.push_back({Text(row[0]), Text(row[1]), Text(row[2]), Text(row[3]),
                       static_cast<reports::Distribution>(row[4].as<int>()),
                       row[5].as<std::int64_t>()});
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

  Status PutSignals(const std::vector<reports::SignalRecord>& signals) override {
    return Run("signals", Retry::kTransient, [&](pqxx::connection& c) -> Status {
      pqxx::work tx(c);
      for (const reports::SignalRecord& r : signals) {
        tx.exec_params(
            "INSERT INTO signals(audience, detector, substance_key, place, first_week, last_week, "
            "changed, body) VALUES($1,$2,$3,$4,$5,$6,nextval('signal_changes'),$7::jsonb) ON "
            "CONFLICT (audience, detector, substance_key, place, first_week) DO UPDATE SET "
            "last_week = excluded.last_week, changed = excluded.changed, updated_at = now(), "
            "body = excluded.body",
            r.audience, r.detector, r.substance_key, r.place, r.first_week, r.last_week,
            r.body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      }
      tx.commit();
      return Status::Ok();
    });
  }

  Result<std::vector<reports::SignalRecord>> RecentSignals(
      const std::vector<std::string>& keys, const std::string& since_week,
      const std::vector<std::string>& detectors) override {
    std::vector<reports::SignalRecord> out;
    if (keys.empty()) return out;
    Status st = Run("signals", Retry::kTransient, [&](pqxx::connection& c) -> Status {
      out.clear();
      Params params;
      std::string list;
      for (const std::string& key : keys) list += (list.empty() ? "" : ",") + params.Text(key);
      std::string sql = SignalColumns() + " WHERE substance_key IN (" + list +
                        ") AND last_week >= " + params.Text(since_week);
      if (!detectors.empty()) {
        std::string named;
        for (const std::string& d : detectors) named += (named.empty() ? "" : ",") + params.Text(d);
        sql += " AND detector IN (" + named + ")";
      }
      ReadTransaction tx(c);
      for (const auto& row : ExecParams(tx, sql, params)) out.push_back(ReadSignal(row));
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

  Result<std::vector<reports::SignalRecord>> Signals(const Principal& viewer,
                                                     const reports::SignalQuery& q) override {
    std::vector<reports::SignalRecord> out;
    if (viewer.country.empty()) return out;  // no audience: see reports::SignalVisible
    Status st = Run("signals", Retry::kTransient, [&](pqxx::connection& c) -> Status {
      out.clear();
      Params params;
      std::string sql = SignalColumns() + " WHERE audience = " + params.Text(viewer.country);
      if (q.detector) sql += " AND detector = " + params.Text(*q.detector);
      if (q.substance) sql += " AND substance_key = " + params.Text(*q.substance);
      if (q.place) sql += " AND place = " + params.Text(*q.place);
      if (q.after_sequence) {
        sql += " AND changed > " + params.Int(*q.after_sequence) + " ORDER BY changed";
      } else {
        sql += " ORDER BY changed DESC";
      }
      sql += " LIMIT " + params.Int(static_cast<std::int64_t>(q.limit));
      ReadTransaction tx(c);
      for (const auto& row : ExecParams(tx, sql, params)) out.push_back(ReadSignal(row));
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

  Result<std::vector<std::string>> OrganisationCountries() override {
    std::vector<std::string> out;
    Status st = Run("organisations", Retry::kTransient, [&](pqxx::connection& c) -> Status {
      out.clear();
      ReadTransaction tx(c);
      for (const auto& row : tx.exec("SELECT DISTINCT country FROM organisations ORDER BY 1")) {
        out.push_back(Text(row[0]));
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

  Result<std::vector<AuditEntry>> Audit(const Principal& who, std::int64_t after,
                                        std::size_t limit) override {
    if (who.role < reports::Role::kAdmin) {
      return Status::PermissionDenied("reading the audit log needs the admin role");
    }
    std::vector<AuditEntry> out;
    Status st = Run("audit", Retry::kTransient, [&](pqxx::connection& c) -> Status {
      out.clear();
      Params params;
      std::string sql = fmt::format(
          "SELECT seq, to_char(at AT TIME ZONE 'UTC', {}), organisation, user_name, token, "
          "action, target, detail FROM audit WHERE seq > {}",
          kIsoUtc, params.Int(after));
      // The node's administrator (no organisation) reads everyone's entries.
      if (!who.organisation.empty()) sql += " AND organisation = " + params.Text(who.organisation);
      sql += " ORDER BY seq LIMIT " +
             params.Int(static_cast<std::int64_t>(std::clamp<std::size_t>(limit, 1, 10000)));
      ReadTransaction tx(c);
      for (const auto& row : ExecParams(tx, sql, params)) {
        out.push_back({row[0].as<std::int64_t>(), Text(row[1]), Text(row[2]), Text(row[3]),
                       row[4].as<std::int64_t>(), Text(row[5]), Text(row[6]), Text(row[7])});
      }
      return Status::Ok();
    });
    if (!st.ok()) return st;
    return out;
  }

  Status CheckIntegrity() override {
    return Run("integrity check", Retry::kTransient, [&](pqxx::connection& c) -> Status {
      // One snapshot for every check, so concurrent writes cannot look like a mismatch.
      ReadTransaction tx(c);
      const auto known = static_cast<std::int64_t>(std::size(kMigrations));
      const auto version = tx.exec("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0][0]
                               .as<std::int64_t>();
      if (version != known) {
        return Status::Corruption(
            fmt::format("schema version {}, this Sentinel expects {}", version, known));
      }
      // Append-only holds only while its triggers exist and fire.
      std::set<std::string> enabled;
      for (const auto& row :
           tx.exec("SELECT t.tgname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE "
                   "c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal AND "
                   "t.tgenabled IN ('O', 'A')")) {
        enabled.insert(Text(row[0]));
      }
      for (const std::string_view trigger : kAppendOnlyTriggers) {
        if (!enabled.contains(std::string(trigger))) {
          return Status::Corruption(
              fmt::format("append-only trigger {} is missing or disabled", trigger));
        }
      }
      // PostgreSQL's own structural check, where the administrator installed amcheck: every
      // B-tree index of Sentinel's tables is well-formed and indexes every row.
      // Skipped where it is absent or this role may not run it.
      const pqxx::result amcheck = tx.exec(
          "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
          "JOIN pg_proc p ON p.pronamespace = e.extnamespace AND p.proname = 'bt_index_check' "
          "AND p.pronargs = 2 WHERE e.extname = 'amcheck' AND has_function_privilege(p.oid, "
          "'EXECUTE')");
      if (!amcheck.empty()) {
        try {
          pqxx::subtransaction check(tx, "amcheck");
          check.exec("SELECT " + check.quote_name(Text(amcheck[0][0])) +
                     ".bt_index_check(i.indexrelid, true) FROM pg_index i JOIN pg_class c ON "
                     "c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam WHERE a.amname = "
                     "'btree' AND c.relnamespace = current_schema()::regnamespace");
          check.commit();
        } catch (const pqxx::sql_error& e) {
          const std::string& state = e.sqlstate();
          if (state == "XX001" || state == "XX002") {
            return Status::Corruption("PostgreSQL amcheck: " + FirstLine(e.what()));
          }
          throw;
        }
      }
      // The summary must count exactly the latest versions' distinct substances, per period.
      const pqxx::row sums = tx.exec_params1(
          "SELECT (SELECT COALESCE(SUM(n), 0) FROM counts WHERE period = $1), (SELECT "
          "COALESCE(SUM(n), 0) FROM counts WHERE period = $2), (SELECT COUNT(*) FROM counts "
          "WHERE n < 0), (SELECT COUNT(*) FROM (SELECT DISTINCT rs.seq, rs.substance FROM "
          "report_substances rs WHERE NOT EXISTS (SELECT 1 FROM supersessions s WHERE s.old_seq "
          "= rs.seq)) m)",
          kWeekPeriod, kMonthPeriod);
      const auto weekly = sums[0].as<std::int64_t>(), monthly = sums[1].as<std::int64_t>();
      const auto negative = sums[2].as<std::int64_t>(), mentions = sums[3].as<std::int64_t>();
      if (weekly != mentions) {
        return Status::Corruption(fmt::format(
            "weekly summary counts {} substance mentions, the reports hold {}", weekly, mentions));
      }
      if (monthly != mentions) {
        return Status::Corruption(
            fmt::format("monthly summary counts {} substance mentions, the reports hold {}",
                        monthly, mentions));
      }
      if (negative > 0) {
        return Status::Corruption(fmt::format("{} summary rows count below zero", negative));
      }
      return Status::Ok();
    });
  }

  std::int64_t CountReports() override {
    std::int64_t n = -1;
    Status st = Run("count", Retry::kTransient, [&](pqxx::connection& c) -> Status {
      ReadTransaction tx(c);
      n = tx.exec("SELECT COUNT(*) FROM reports")[0][0].as<std::int64_t>();
      return Status::Ok();
    });
    return st.ok() ? n : -1;
  }

 private:
  // Runs `attempt` on a pooled connection. `attempt` opens, and commits, its own transaction
  // and must start from scratch each time: a failure that a new try may cure (see Retry) runs
  // it again, up to a few times.
  Status Run(std::string_view what, Retry retry,
             const std::function<Status(pqxx::connection&)>& attempt) {
    constexpr int kAttempts = 6;
    for (int n = 1;; ++n) {
      auto lease = pool_.Acquire();
      if (!lease.ok()) return lease.status();
      std::string failure;
      try {
        return attempt(lease->connection());
      } catch (const pqxx::in_doubt_error& e) {
        // The connection dropped during COMMIT: the transaction may or may not have committed.
        lease->Discard();
        return Status::IoError(fmt::format(
            "PostgreSQL {}: the connection was lost while committing, so whether it committed is "
            "unknown (a Submit may be repeated with the same idempotency keys): {}",
            what, FirstLine(e.what())));
      } catch (const pqxx::statement_completion_unknown& e) {
        lease->Discard();
        return Status::IoError(
            fmt::format("PostgreSQL {}: outcome unknown: {}", what, FirstLine(e.what())));
      } catch (const pqxx::broken_connection& e) {
        lease->Discard();
        failure = FirstLine(e.what());
      } catch (const pqxx::serialization_failure& e) {
        failure = FirstLine(e.what());
      } catch (const pqxx::deadlock_detected& e) {
        failure = FirstLine(e.what());
      } catch (const pqxx::unique_violation& e) {
        if (retry != Retry::kTransientOrUniqueViolation) {
          return Status::IoError(fmt::format("PostgreSQL {}: {}", what, FirstLine(e.what())));
        }
        failure = FirstLine(e.what());
      } catch (const std::exception& e) {
        return Status::IoError(fmt::format("PostgreSQL {}: {}", what, FirstLine(e.what())));
      }
      if (n == kAttempts) {
        return Status::IoError(
            fmt::format("PostgreSQL {}: gave up after {} attempts: {}", what, n, failure));
      }
      // Brief, growing pauses so that contenders that collided do not collide again in step.
      std::this_thread::sleep_for(std::chrono::milliseconds(n * n));
    }
  }

  static SubstanceSummary ReadSummary(const pqxx::row& row) {
    SubstanceSummary summary;
    summary.substance = ReadSubstance(row, 0);
    summary.reports = row[7].as<std::int64_t>();
    summary.first_reported = Text(row[8]);
    summary.latest_reported = Text(row[9]);
    return summary;
  }

  // The id of the substance with record.key, recorded now (with its classes) when new. A
  // concurrent transaction recording the same key makes this one wait for it and then use its
  // row.
  static std::int64_t SubstanceId(pqxx::work& tx, const SubstanceRecord& record) {
    if (const auto found = tx.exec_prepared("find_substance", record.key); !found.empty()) {
      return found[0][0].as<std::int64_t>();
    }
    const pqxx::result inserted = tx.exec_prepared(
        "insert_substance", record.key, record.name, record.smiles, record.inchikey,
        record.in_knowledge_base,
        record.classification.is_null() ? std::string() : record.classification.dump());
    if (inserted.empty()) {
      return tx.exec_prepared1("find_substance", record.key)[0].as<std::int64_t>();
    }
    const auto id = inserted[0][0].as<std::int64_t>();
    for (const auto& cls : record.classes) tx.exec_prepared("insert_substance_class", id, cls);
    return id;
  }

  static void AppendAudit(pqxx::work& tx, const Principal& who,
                          const std::vector<PendingAudit>& entries) {
    if (entries.empty()) return;
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& e : entries) {
      rows.push_back({{"action", e.action}, {"target", e.target}, {"detail", e.detail}});
    }
    tx.exec_prepared("audit_lock", kAuditLockKey);
    tx.exec_prepared("append_audit", who.organisation, who.user, who.token_id, rows.dump());
  }

  // The id of a substance: from this transaction's or the committed cache, else from the
  // database (recording it, in order of first mention as SQLite does: substance lists follow
  // that order). Reports name the same few hundred substances again and again.
  std::int64_t SubstanceIdCached(pqxx::work& tx, const SubstanceRecord& record,
                                 std::map<std::string, std::int64_t>* transaction_ids) {
    if (auto it = transaction_ids->find(record.key); it != transaction_ids->end()) {
      return it->second;
    }
    {
      std::lock_guard lock(substance_ids_mu_);
      if (auto it = committed_substance_ids_.find(record.key);
          it != committed_substance_ids_.end()) {
        return it->second;
      }
    }
    const std::int64_t id = SubstanceId(tx, record);
    transaction_ids->emplace(record.key, id);
    return id;
  }

  Status SubmitOnce(pqxx::connection& c, const Principal& who, const std::vector<SubmitItem>& items,
                    std::vector<SubmitOutcome>* outcomes) {
    outcomes->clear();
    pqxx::work tx(c);
    // Each idempotency key of the batch is locked first, in one order for every transaction:
    // batches that share keys then take turns instead of each inserting some of the keys and
    // waiting, deadlocked, for the other's. A turn ends at commit, after which the key reads
    // as stored.
    std::set<std::int32_t> key_locks;
    for (const SubmitItem& item : items) {
      key_locks.insert(IdempotencyLockId(who.organisation, item.report.idempotency_key));
    }
    if (!key_locks.empty()) {
      tx.exec_prepared("lock_keys", kIdempotencyLockSpace,
                       fmt::format("{{{}}}", fmt::join(key_locks, ",")));
    }
    std::map<std::string, std::int64_t> substance_ids;  // by key, for this batch
    std::map<CountKey, std::int64_t> count_deltas;
    std::vector<PendingAudit> audit;
    bool files_nationally = false;  // one organisation and country per Submit: noted once
    for (const SubmitItem& item : items) {
      const reports::Report& r = item.report;
      const std::string body = r.body.dump();
      // The outcome when the key is stored already: a replay is the same report under the
      // same key; anything else reusing the key is a client error that must not pass silently.
      const auto replay = [&](const pqxx::row& stored) -> Status {
        const std::string stored_id = Text(stored[0]);
        const bool same_target = item.supersedes.empty() || stored_id == item.supersedes;
        if (!same_target || Text(stored[2]) != body) {
          return Status::Conflict(
              fmt::format("idempotency key '{}' was already used for a different report ({})",
                          r.idempotency_key, stored_id));
        }
        outcomes->push_back({stored_id, stored[1].as<int>(), true});
        return Status::Ok();
      };
      // A replayed correction is recognised before its target is looked up: once stored, the
      // target is no longer the latest version. Other items learn it from the insert below.
      if (!item.supersedes.empty()) {
        if (const auto dup =
                tx.exec_prepared("find_duplicate", who.organisation, r.idempotency_key);
            !dup.empty()) {
          if (Status s = replay(dup[0]); !s.ok()) return s;
          continue;
        }
      }
      std::string id = NewReportId();
      int version = 1;
      std::optional<std::int64_t> superseded_seq;
      CountedReport superseded;
      if (!item.supersedes.empty()) {
        const pqxx::result prev = tx.exec_prepared("find_latest", item.supersedes);
        // Another organisation's report reads as absent: a correction attempt must not tell
        // whether a report the caller may not see exists.
        if (prev.empty() || Text(prev[0][3]) != who.organisation) {
          return Status::NotFound("report " + item.supersedes +
                                  " is not among your organisation's reports");
        }
        const pqxx::row p = prev[0];
        if (p[2].as<int>() != static_cast<int>(r.kind)) {
          return Status::InvalidArgument(
              fmt::format("a correction keeps the report's kind ({})",
                          reports::KindName(static_cast<reports::Kind>(p[2].as<int>()))));
        }
        superseded_seq = p[0].as<std::int64_t>();
        version = p[1].as<int>() + 1;
        id = item.supersedes;
        superseded = {p[5].as<std::int64_t>(),
                      p[6].as<std::int64_t>(),
                      Text(p[7]),
                      Text(p[8]),
                      p[2].as<int>(),
                      Text(p[3]),
                      Text(p[4]),
                      p[9].as<int>()};
      }
      const CountedReport stored{DayNumber(r.date),
                                 DayNumber(reports::PeriodStart(reports::Period::kMonth, r.date)),
                                 r.country,
                                 r.subdivision,
                                 static_cast<int>(r.kind),
                                 who.organisation,
                                 who.country,
                                 static_cast<int>(r.distribution)};
      files_nationally |= r.distribution == reports::Distribution::kNational;
      const NullableNumber lat(r.lat), lon(r.lon);
      const pqxx::result inserted = tx.exec_prepared(
          "insert_report", id, version, who.organisation, who.country, r.idempotency_key,
          stored.kind, stored.distribution, reports::FormatDay(r.date), stored.day,
          stored.month_day, r.country, r.subdivision, lat.param(), lon.param(), body);
      if (inserted.empty()) {
        // Stored already: by an earlier Submit, an earlier item of this one, or a concurrent
        // Submit that did not take the key's lock (a node of an older version), whose commit the
        // insert waited for. Either way the stored report is visible to a new statement.
        if (Status s =
                replay(tx.exec_prepared1("find_duplicate", who.organisation, r.idempotency_key));
            !s.ok()) {
          return s;
        }
        continue;
      }
      const auto seq = inserted[0][0].as<std::int64_t>();
      std::set<std::int64_t> named;
      nlohmann::json links = nlohmann::json::array();
      for (std::size_t k = 0; k < item.mentions.size(); ++k) {
        const auto& m = item.mentions[k];
        const std::int64_t substance = SubstanceIdCached(tx, *m.substance, &substance_ids);
        named.insert(substance);
        links.push_back({{"ordinal", k},
                         {"substance", substance},
                         {"role", m.role},
                         {"purity", m.purity_percent ? nlohmann::json(*m.purity_percent)
                                                     : nlohmann::json(nullptr)},
                         {"resolved_by", m.resolved_by}});
      }
      if (!links.empty()) tx.exec_prepared("link_substances", seq, links.dump());
      if (superseded_seq) {
        tx.exec_prepared("supersede", *superseded_seq, seq);
        std::set<std::int64_t> previously_named;
        for (const auto& row : tx.exec_prepared("report_substances", *superseded_seq)) {
          previously_named.insert(row[0].as<std::int64_t>());
        }
        AddCounts(superseded, previously_named, -1, &count_deltas);
      }
      AddCounts(stored, named, +1, &count_deltas);
      audit.push_back({version > 1 ? "report.correct" : "report.submit", id,
                       fmt::format("version={} kind={}", version, reports::KindName(r.kind))});
      outcomes->push_back({id, version, false});
    }
    // The summary rows last, in key order: they are the rows concurrent submitters share, so
    // they are locked for as short a time as possible and never crosswise.
    nlohmann::json counts = nlohmann::json::array();
    for (const auto& [key, delta] : count_deltas) {
      if (delta == 0) continue;
      counts.push_back({{"period", key.period},
                        {"distribution", key.distribution},
                        {"org_country", key.org_country},
                        {"organisation", key.organisation},
                        {"start_day", key.start_day},
                        {"substance", key.substance},
                        {"country", key.country},
                        {"subdivision", key.subdivision},
                        {"kind", key.kind},
                        {"n", delta}});
    }
    if (files_nationally) tx.exec_prepared("note_org_country", who.organisation, who.country);
    if (!counts.empty()) tx.exec_prepared("add_counts", counts.dump());
    AppendAudit(tx, who, audit);
    tx.commit();
    // Only now are the ids durable, and so safe to share: a rolled-back transaction's ids may
    // name nothing. A committed substance is never removed (its reports reference it, and
    // reports are append-only), so a cached id stays valid for every node.
    std::lock_guard lock(substance_ids_mu_);
    committed_substance_ids_.insert(substance_ids.begin(), substance_ids.end());
    return Status::Ok();
  }

  ConnectionPool pool_;
  std::mutex substance_ids_mu_;
  std::unordered_map<std::string, std::int64_t> committed_substance_ids_;
};

Result<std::unique_ptr<reports::Store>> OpenPostgresStore(const std::string& url,
                                                          const PostgresOptions& options) {
  if (sodium_init() < 0) return Status::FailedPrecondition("libsodium failed to initialise");
  auto store = std::make_unique<PostgresStore>(url, options);
  if (Status s = store->Start(); !s.ok()) return s;
  return std::unique_ptr<reports::Store>(std::move(store));
}

}  // namespace sentinel::postgres
