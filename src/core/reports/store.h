// The report store: the one interface every backend (SQLite, PostgreSQL) implements.
//
// Contract.
// - Durable acknowledgement: when Submit returns OK, every item is on stable storage and
//   survives a crash of the process (and, with the backends' default settings, of the machine).
// - All or nothing: a Submit stores every item or none.
// - Idempotent: an item whose (organisation, idempotency key) is already stored is not stored
//   again; its outcome names the stored report and says `duplicate`.
// - Append-only: nothing is updated in place or deleted. A correction is a new version of a
//   report that supersedes the previous one; both stay readable.
// - Visibility: every read takes the viewer and returns only what the reports' distribution
//   levels allow it (see Visible below); the store applies the rule, callers cannot forget it.
// - Audit: every write appends to the audit log, in the same transaction as the write.
// Implementations are safe to call from many threads at once.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/common/status.h"
#include "core/reports/report.h"

namespace sentinel::reports {

enum class Role { kReader, kReporter, kAnalyst, kAdmin };  // each includes the ones before
std::string_view RoleName(Role role);
std::optional<Role> ParseRole(std::string_view name);

struct Organisation {
  std::string id;  // short slug, e.g. "demo-forensics-us"
  std::string name;
  std::string country;  // ISO 3166-1 alpha-2
  std::vector<std::string> trusted_groups;
};

// Who is asking: resolved from an API token.
struct Principal {
  std::string organisation;
  std::string country;
  std::vector<std::string> trusted_groups;
  std::string user;
  Role role = Role::kReader;
  std::int64_t token_id = 0;
};

// The distribution rule. A report is visible to its own organisation; `national` adds the
// organisations of the same country as the source; `trusted_group` adds those sharing a trusted
// group with the source; `everyone` adds all.
bool Visible(Distribution distribution, const std::string& source_organisation,
             const std::string& source_country, const std::vector<std::string>& source_groups,
             const Principal& viewer);

// (The structs holding nlohmann::json have implicit noexcept destructors that clang-tidy cannot
// prove non-throwing through json's; they do not throw.)

// A substance as the store knows it. `key` identifies it: the standardised canonical SMILES
// when the structure is known, else "name:" + the lower-cased name.
struct SubstanceRecord {  // NOLINT(bugprone-exception-escape): see above
  std::string key;
  std::string name;
  std::string smiles;  // empty when only a name is known
  std::string inchikey;
  bool in_knowledge_base = false;
  std::vector<std::string> classes;  // e.g. "fentanyl-related", "synthetic cannabinoid"
  nlohmann::json classification;     // the classify contract's JSON, or null
};

// A substance mention after resolution. The record is shared: thousands of reports name the
// same substance, and its classification is kilobytes.
struct ResolvedMention {
  std::shared_ptr<const SubstanceRecord> substance;
  std::string role;
  std::optional<double> purity_percent;
  std::string resolved_by;  // "name", "SMILES", "InChI", "spectrum"
};

struct SubmitItem {
  Report report;
  std::vector<ResolvedMention> mentions;  // one per report.substances, same order
  std::string supersedes;                 // report id this corrects, or empty
};

// A submitted body after validation and substance resolution: the item to store, or every
// problem found (JSON path + message).
struct PreparedReport {
  std::optional<SubmitItem> item;
  std::vector<FieldError> errors;
};

struct SubmitOutcome {
  std::string id;
  int version = 1;
  bool duplicate = false;
};

struct StoredReport {  // NOLINT(bugprone-exception-escape): see above
  std::string id;
  int version = 1;
  bool latest = true;
  std::int64_t sequence = 0;  // store-wide arrival order
  std::string organisation;
  std::string received_at;  // ISO 8601 UTC
  Kind kind = Kind::kSeizure;
  Distribution distribution = Distribution::kOrganisation;
  std::string date;  // YYYY-MM-DD
  std::string country, subdivision;
  std::vector<std::string> substance_keys;
  nlohmann::json body;
};

struct ReportQuery {
  std::optional<Kind> kind;
  std::optional<std::string> from, to;   // inclusive YYYY-MM-DD
  std::optional<std::string> place;      // "US" (all its subdivisions) or "US-OH"
  std::optional<std::string> substance;  // substance key
  std::optional<std::string> substance_class;
  std::optional<std::string> form;            // seizures in this form ("tablet")
  std::optional<std::string> also_substance;  // reports naming this substance too (a key)
  bool all_versions = false;
  std::optional<std::int64_t> before_sequence;  // cursor: reports older than this
  std::size_t limit = 100;
};

struct ReportPage {
  std::vector<StoredReport> reports;                 // newest first
  std::optional<std::int64_t> next_before_sequence;  // set when more may follow
};

enum class Period { kWeek, kMonth };

// The Monday of the ISO week, or the first of the month, holding `day`.
std::chrono::sys_days PeriodStart(Period period, std::chrono::sys_days day);
std::string FormatDay(std::chrono::sys_days day);               // YYYY-MM-DD
Result<std::chrono::sys_days> ParseDay(std::string_view text);  // YYYY-MM-DD, a real day
// Days since 1970-01-01: how both stores keep dates for arithmetic (week and month starts).
inline std::int64_t DayNumber(std::chrono::sys_days day) { return day.time_since_epoch().count(); }

// A report id: "r" and 16 Crockford base32 digits of 80 bits, the creation time in
// milliseconds in the high 48 and `random` in the low 32. Ids sort by creation time, so a
// store's id index grows at its end instead of on random pages (a bulk import would otherwise
// dirty a page of that index per report). The stores supply the clock and the randomness.
std::string FormatReportId(std::uint64_t unix_ms, std::uint32_t random);

struct AggregateQuery {
  Period period = Period::kWeek;
  std::optional<Kind> kind;
  std::optional<Kind> except_kind;  // every kind but this one
  std::optional<std::string> from, to;
  std::optional<std::string> place;  // restrict to a country or subdivision
  bool by_subdivision = false;       // group by subdivision instead of country
  std::optional<std::string> substance;
  std::optional<std::string> substance_class;
};

struct AggregateRow {
  std::string period_start;  // Monday of the ISO week, or the first of the month
  std::string substance_key;
  std::string place;
  std::int64_t reports = 0;
};

// Who may see a summary row, as both stores key the summary: only what decides it is kept.
// National rows keep the organisation's country, trusted-group and organisation-only rows the
// organisation, and the rest "" (rows for everyone hold neither), so that rows of many
// organisations fold into one and each level a viewer may see is one range of the key.
struct SummaryAudience {
  std::string org_country;
  std::string organisation;
};
SummaryAudience SummaryAudienceOf(Distribution distribution, const std::string& organisation,
                                  const std::string& org_country);

// The summary counts a backend reads for one aggregate, one visibility range at a time, and
// their merge into the aggregate. Each cell is a period's first day (DayNumber), a substance
// by its store id, a place and a count (negative for versions taken out by a correction). A
// large node's viewer reads about a million cells: they are kept compact (places interned,
// no string per cell) and merged by sorting small integers.
class AggregateCells {
 public:
  void Reserve(std::size_t cells) { cells_.reserve(cells_.size() + cells); }
  void Add(std::int64_t start_day, std::int64_t substance, std::string_view place, std::int64_t n);
  // Adds every cell of `other` (read on another connection, say).
  void Absorb(const AggregateCells& other);
  std::size_t size() const { return cells_.size(); }

  // The substance ids among the cells, each once, in ascending order.
  std::vector<std::int64_t> SubstanceIds() const;

  // The aggregate: cells of one period, substance and place summed (several ranges may hold
  // the same cell), cells that sum to zero or less dropped (every version of their reports
  // superseded), ordered by period, substance key and place. `key_of` names every substance
  // id among the cells.
  std::vector<AggregateRow> Merge(
      const std::unordered_map<std::int64_t, std::string>& key_of) const;

 private:
  struct Cell {
    std::int32_t start_day;
    std::int32_t place;  // index into places_
    std::int64_t substance;
    std::int64_t n;
  };
  struct PlaceHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::vector<Cell> cells_;
  std::vector<std::string> places_;
  std::unordered_map<std::string, std::int32_t, PlaceHash, std::equal_to<>> place_ids_;
  std::unordered_set<std::int64_t> substances_;
  std::int64_t last_substance_ = -1;
};

struct SubstanceSummary {  // NOLINT(bugprone-exception-escape): see above
  SubstanceRecord substance;
  std::int64_t reports = 0;                     // visible to the viewer
  std::string first_reported, latest_reported;  // dates, empty when none visible
};

struct AuditEntry {
  std::int64_t sequence = 0;
  std::string at;  // ISO 8601 UTC
  std::string organisation, user;
  std::int64_t token_id = 0;
  std::string action;  // "report.submit", "token.create" ...
  std::string target;
  std::string detail;
};

struct TokenRecord {
  std::int64_t id = 0;
  std::string organisation, user;
  Role role = Role::kReader;
};

// Live detection reads the weekly summary of some substances on the node's behalf, split by
// who may see each count: only counts shared beyond their organisation (national, everyone)
// are returned, since signals are shown to whole countries (see SignalAudienceSees). Rows are
// summary rows, not grouped: several may share a week, country, org_country and distribution,
// and the reader adds them up. Occurrences are every kind but wastewater: a measurement is a
// load, read from the reports themselves (a site sampling weekly is no weekly occurrence); the
// measurements' own counts tell live detection which audiences see which of a site's loads.
enum class Counted { kOccurrences, kMeasurements };

struct DetectionCountRow {
  std::string substance_key;
  std::int64_t week_start = 0;  // DayNumber of the ISO week's Monday
  std::string country;          // where it was reported
  std::string subdivision;      // ISO 3166-2, or empty
  // The source organisation's country for national rows; may be empty for rows distributed
  // to everyone, whose audience it does not decide.
  std::string org_country;
  Distribution distribution = Distribution::kEveryone;
  std::int64_t reports = 0;
};

// The earliest seizure of a substance in each form, as live detection judges a first in a
// form: per form, place, source organisation's country and distribution (national, everyone),
// over the latest versions of the reports.
struct FirstInFormRow {
  std::string substance_key;
  std::string form;
  std::string country;      // where it was seized
  std::string org_country;  // the source organisation's country
  Distribution distribution = Distribution::kEveryone;
  std::int64_t first_day = 0;  // DayNumber of the earliest such seizure
};

// The earliest report naming two substances together, as live detection judges a new
// combination: per pair (each substance with each other one), place, source organisation's
// country and distribution (national, everyone), over the latest versions.
struct FirstTogetherRow {
  std::string substance_key, partner_key;
  std::string country, org_country;
  Distribution distribution = Distribution::kEveryone;
  std::int64_t first_day = 0;  // DayNumber of the earliest such report
};

struct DetectionCounts {
  std::optional<std::int64_t> first_week_start;  // the node's earliest report week, any substance
  std::vector<DetectionCountRow> rows;
};

// Which signals a viewer sees. A signal is computed for an audience, the organisations of one
// country, from the reports every one of them may see: those distributed to everyone and the
// national ones of that country's organisations. Reports kept to their organisation or a
// trusted group never feed a signal, since a signal's counts would show them to others.
bool SignalAudienceSees(const std::string& audience, const DetectionCountRow& row);
bool SignalVisible(const std::string& audience, const Principal& viewer);

// A signal as stored: keyed by (audience, detector, substance, place, first week); a continuing
// episode updates its row. `body` is the signal as the API shows it.
struct SignalRecord {    // NOLINT(bugprone-exception-escape): see above
  std::string audience;  // ISO 3166-1 alpha-2
  std::string detector;
  std::string substance_key;  // or, of a class's series, ClassSignalKey(the class)
  // A country, a subdivision, "*" for everywhere, or a wastewater site ("<country>/<site>").
  std::string place;
  std::string first_week;  // Monday, YYYY-MM-DD
  std::string last_week;
  std::int64_t sequence = 0;          // store-wide order of the latest change; set by the store
  std::string raised_at, updated_at;  // ISO 8601 UTC; set by the store
  nlohmann::json body;
};

// A substance class's series is signalled as a substance's is, under this key: "class:" and
// the class id (no substance key, a canonical SMILES or "name:...", starts so).
std::string ClassSignalKey(std::string_view class_id);
std::optional<std::string_view> ClassOfSignalKey(std::string_view key);  // the class, if one

struct SignalQuery {
  std::optional<std::string> detector;
  std::optional<std::string> substance;  // substance key, or ClassSignalKey(class)
  std::optional<std::string> place;
  std::optional<std::int64_t> after_sequence;  // only signals changed after this
  std::size_t limit = 100;
};

class Store {
 public:
  virtual ~Store() = default;

  virtual Status Submit(const Principal& who, const std::vector<SubmitItem>& items,
                        std::vector<SubmitOutcome>* outcomes) = 0;
  virtual Result<ReportPage> Query(const Principal& viewer, const ReportQuery& query) = 0;
  // One report (latest version when version is 0); NotFound when absent or not visible.
  virtual Result<StoredReport> Get(const Principal& viewer, const std::string& id, int version) = 0;
  virtual Result<std::vector<AggregateRow>> Aggregate(const Principal& viewer,
                                                      const AggregateQuery& query) = 0;
  virtual Result<SubstanceSummary> Substance(const Principal& viewer, const std::string& key) = 0;
  virtual Result<std::vector<SubstanceSummary>> Substances(const Principal& viewer,
                                                           std::size_t limit) = 0;

  // Signals (live detection). DetectionCountsOf reads the counts of several substances (by
  // key) in one go, of the weeks starting on or after `from_week_start` (a DayNumber). PutSignals
  // inserts or updates by key, all or nothing, and is the node's own write (no principal).
  // RecentSignals gives, whoever may see them, the signals of the substances whose last week is on
  // or after `since_week` (YYYY-MM-DD), of the `detectors` named (empty: of every detector).
  // Signals returns the viewer's, most recently changed first.
  virtual Result<DetectionCounts> DetectionCountsOf(const std::vector<std::string>& keys,
                                                    std::int64_t from_week_start,
                                                    Counted counted) = 0;
  // ClassCountsOf reads the same of substance classes (by id, as SubstanceRecord::classes):
  // occurrences only, each report counted once in each class any of its substances belongs to
  // (not the sum of the class's substances' counts: a sample of two fentanyls is one fentanyl
  // occurrence), over the latest versions; a row's substance_key is its class.
  virtual Result<DetectionCounts> ClassCountsOf(const std::vector<std::string>& classes,
                                                std::int64_t from_week_start) = 0;
  // FirstSeizuresInForm reads, for several substances at once, their earliest seizures by form
  // (FirstInFormRow), from the reports themselves.
  virtual Result<std::vector<FirstInFormRow>> FirstSeizuresInForm(
      const std::vector<std::string>& keys) = 0;
  // FirstReportsTogether, the earliest reports naming each of them with each other substance
  // (FirstTogetherRow, both orders).
  virtual Result<std::vector<FirstTogetherRow>> FirstReportsTogether(
      const std::vector<std::string>& keys) = 0;
  virtual Status PutSignals(const std::vector<SignalRecord>& signals) = 0;
  virtual Result<std::vector<SignalRecord>> RecentSignals(
      const std::vector<std::string>& keys, const std::string& since_week,
      const std::vector<std::string>& detectors) = 0;
  virtual Result<std::vector<SignalRecord>> Signals(const Principal& viewer,
                                                    const SignalQuery& query) = 0;
  // The countries of the node's organisations: the audiences signals are computed for.
  virtual Result<std::vector<std::string>> OrganisationCountries() = 0;

  // Access control. Tokens are stored only as their hash.
  virtual Status PutOrganisation(const Principal& who, const Organisation& organisation) = 0;
  virtual Result<Organisation> GetOrganisation(const std::string& id) = 0;
  virtual Result<std::int64_t> CreateToken(const Principal& who, const std::string& token_hash,
                                           const TokenRecord& token) = 0;
  virtual Status RevokeToken(const Principal& who, std::int64_t token_id) = 0;
  // Unauthenticated when no live token has this hash.
  virtual Result<Principal> Authenticate(const std::string& token_hash) = 0;
  virtual Result<std::vector<AuditEntry>> Audit(const Principal& who, std::int64_t after,
                                                std::size_t limit) = 0;

  // The backend's own consistency check (SQLite: PRAGMA integrity_check) plus Sentinel's:
  // the summary counts agree with the reports.
  virtual Status CheckIntegrity() = 0;
  virtual std::int64_t CountReports() = 0;  // every version, ignoring visibility
};

// The principal of the node itself, for bootstrapping (first organisation, first admin token)
// from the command line.
Principal NodeAdministrator();

}  // namespace sentinel::reports
