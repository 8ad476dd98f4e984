// The PostgreSQL schema as numbered migrations, the counterpart of adapters/sqlite/schema.h.
// A database records the migrations applied to it (schema_migrations); each node applies the
// missing ones, in order, each in its own transaction under a transaction-level advisory lock,
// so nodes that start at the same time neither race nor apply a migration twice. Never edit a
// released migration: add one.
//
// Reports, their substance links, supersessions, token revocations and the audit log are
// append-only: triggers refuse UPDATE, DELETE and TRUNCATE. `counts` is the weekly and monthly
// summary (derived, maintained in the same transaction as each report) that makes aggregates
// fast.
//
// Keys, places and classes are COLLATE "C": ordering and lower() then behave byte-wise as in
// SQLite, whatever locale the cluster was created with, so both backends sort alike.
#pragma once

#include <cstdint>
#include <string_view>

namespace sentinel::postgres {

// The key of the advisory lock that serialises migrations ("sentinel" in ASCII).
inline constexpr std::int64_t kMigrationLockKey = 0x73656e74696e656c;

inline constexpr std::string_view kMigrations[] = {
    // 1: reports, substances, access control, audit, summary counts.
    R"sql(
CREATE TABLE organisations (
  id TEXT COLLATE "C" PRIMARY KEY,
  name TEXT NOT NULL,
  country TEXT COLLATE "C" NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE organisation_groups (
  organisation TEXT COLLATE "C" NOT NULL REFERENCES organisations(id),
  grp TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (organisation, grp)
);
CREATE INDEX organisation_groups_grp ON organisation_groups(grp);
CREATE TABLE tokens (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  organisation TEXT COLLATE "C" NOT NULL REFERENCES organisations(id),
  user_name TEXT NOT NULL,
  role SMALLINT NOT NULL,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE token_revocations (
  token BIGINT PRIMARY KEY REFERENCES tokens(id),
  revoked_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE TABLE substances (
  id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  key TEXT COLLATE "C" NOT NULL UNIQUE,
  name TEXT COLLATE "C" NOT NULL,
  smiles TEXT NOT NULL,
  inchikey TEXT NOT NULL,
  in_kb BOOLEAN NOT NULL,
  classification TEXT NOT NULL,
  first_recorded TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX substances_name ON substances(lower(name));
CREATE TABLE substance_classes (
  substance BIGINT NOT NULL REFERENCES substances(id),
  class TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (substance, class)
);
CREATE INDEX substance_classes_class ON substance_classes(class);
CREATE TABLE reports (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id TEXT COLLATE "C" NOT NULL,
  version INTEGER NOT NULL,
  organisation TEXT COLLATE "C" NOT NULL,
  org_country TEXT COLLATE "C" NOT NULL,
  idempotency_key TEXT NOT NULL,
  kind SMALLINT NOT NULL,
  distribution SMALLINT NOT NULL,
  date DATE NOT NULL,
  day INTEGER NOT NULL,        -- days since 1970-01-01, as in SQLite
  month_day INTEGER NOT NULL,  -- day number of the first of date's month
  country TEXT COLLATE "C" NOT NULL,
  subdivision TEXT COLLATE "C" NOT NULL,
  lat DOUBLE PRECISION,
  lon DOUBLE PRECISION,
  body TEXT NOT NULL,  -- the JSON text exactly as SQLite keeps it: replays compare it byte-wise
  received_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  -- Two submitters of one key cannot both insert: the second waits for the first and fails.
  UNIQUE (organisation, idempotency_key),
  UNIQUE (id, version)
);
CREATE INDEX reports_date ON reports(date);
CREATE INDEX reports_country ON reports(country, date);
CREATE INDEX reports_subdivision ON reports(subdivision, date);
CREATE TABLE report_substances (
  seq BIGINT NOT NULL REFERENCES reports(seq),
  ordinal INTEGER NOT NULL,
  substance BIGINT NOT NULL REFERENCES substances(id),
  role TEXT NOT NULL,
  purity DOUBLE PRECISION,
  resolved_by TEXT NOT NULL,
  PRIMARY KEY (seq, ordinal)
);
CREATE INDEX report_substances_substance ON report_substances(substance, seq);
CREATE TABLE supersessions (
  old_seq BIGINT PRIMARY KEY REFERENCES reports(seq),
  new_seq BIGINT NOT NULL UNIQUE REFERENCES reports(seq)
);
-- The key holds org_country: rows of one organisation filed before and after it changed
-- country must not merge, or national visibility would follow the older country.
CREATE TABLE counts (
  period SMALLINT NOT NULL,  -- 0 week (start: the Monday), 1 month (start: the first)
  start_day INTEGER NOT NULL,
  substance BIGINT NOT NULL REFERENCES substances(id),
  country TEXT COLLATE "C" NOT NULL,
  subdivision TEXT COLLATE "C" NOT NULL,
  kind SMALLINT NOT NULL,
  organisation TEXT COLLATE "C" NOT NULL,
  org_country TEXT COLLATE "C" NOT NULL,
  distribution SMALLINT NOT NULL,
  n BIGINT NOT NULL,
  PRIMARY KEY (period, start_day, substance, country, subdivision, kind, organisation,
               org_country, distribution)
);
-- Aggregates for one substance (the common question) without scanning every period.
CREATE INDEX counts_substance ON counts(period, substance, start_day);
CREATE TABLE audit (
  seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- The time of the insert, not of the transaction's start: entries are appended in commit
  -- order (see pg_store.cc), and their times then run in the same order.
  at TIMESTAMPTZ NOT NULL DEFAULT clock_timestamp(),
  organisation TEXT COLLATE "C" NOT NULL,
  user_name TEXT NOT NULL,
  token BIGINT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_organisation ON audit(organisation, seq);

CREATE FUNCTION sentinel_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER reports_append_only BEFORE UPDATE OR DELETE ON reports
  FOR EACH ROW EXECUTE FUNCTION sentinel_refuse_change('reports are append-only');
CREATE TRIGGER reports_no_truncate BEFORE TRUNCATE ON reports
  FOR EACH STATEMENT EXECUTE FUNCTION sentinel_refuse_change('reports are append-only');
CREATE TRIGGER report_substances_append_only BEFORE UPDATE OR DELETE ON report_substances
  FOR EACH ROW EXECUTE FUNCTION sentinel_refuse_change('reports are append-only');
CREATE TRIGGER report_substances_no_truncate BEFORE TRUNCATE ON report_substances
  FOR EACH STATEMENT EXECUTE FUNCTION sentinel_refuse_change('reports are append-only');
CREATE TRIGGER supersessions_append_only BEFORE UPDATE OR DELETE ON supersessions
  FOR EACH ROW EXECUTE FUNCTION sentinel_refuse_change('supersessions are append-only');
CREATE TRIGGER supersessions_no_truncate BEFORE TRUNCATE ON supersessions
  FOR EACH STATEMENT EXECUTE FUNCTION sentinel_refuse_change('supersessions are append-only');
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit
  FOR EACH ROW EXECUTE FUNCTION sentinel_refuse_change('the audit log is append-only');
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit
  FOR EACH STATEMENT EXECUTE FUNCTION sentinel_refuse_change('the audit log is append-only');
CREATE TRIGGER token_revocations_permanent BEFORE UPDATE OR DELETE ON token_revocations
  FOR EACH ROW EXECUTE FUNCTION sentinel_refuse_change('revocations are permanent');
CREATE TRIGGER token_revocations_no_truncate BEFORE TRUNCATE ON token_revocations
  FOR EACH STATEMENT EXECUTE FUNCTION sentinel_refuse_change('revocations are permanent');
)sql",
    // 2: signals of live detection (derived data: a continuing episode updates its row).
    R"sql(
CREATE SEQUENCE signal_changes;
CREATE TABLE signals (
  audience TEXT COLLATE "C" NOT NULL,
  detector TEXT COLLATE "C" NOT NULL,
  substance_key TEXT COLLATE "C" NOT NULL,
  place TEXT COLLATE "C" NOT NULL,
  first_week TEXT COLLATE "C" NOT NULL,
  last_week TEXT COLLATE "C" NOT NULL,
  changed BIGINT NOT NULL UNIQUE,
  raised_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  body JSONB NOT NULL,
  PRIMARY KEY (audience, detector, substance_key, place, first_week)
);
CREATE INDEX signals_audience ON signals(audience, changed);
CREATE INDEX signals_substance ON signals(substance_key, last_week);
-- Covering: live detection reads a substance's counts from the index alone.
CREATE INDEX counts_detection ON counts(period, substance, distribution)
  INCLUDE (start_day, country, org_country, n);
)sql",
    // 3: the summary keyed by who may see a row first, and only by what decides it: rows
    // distributed to everyone (3) keep neither organisation nor its country, national rows (1)
    // only the organisation's country, trusted-group and organisation-only rows only the
    // organisation. Organisations reporting the same week, substance and place to everyone, or
    // nationally from one country, then share one row, and an aggregate reads each kind of
    // visibility as one range of the key. `organisation_countries` lists the countries each
    // organisation has filed national reports under: the rare organisation that moved sees its
    // own national reports from before the move, which the summary no longer tells apart,
    // counted from the reports.
    R"sql(
CREATE TABLE counts_by_visibility (
  period SMALLINT NOT NULL,
  distribution SMALLINT NOT NULL,
  org_country TEXT COLLATE "C" NOT NULL,
  organisation TEXT COLLATE "C" NOT NULL,
  start_day INTEGER NOT NULL,
  substance BIGINT NOT NULL REFERENCES substances(id),
  country TEXT COLLATE "C" NOT NULL,
  subdivision TEXT COLLATE "C" NOT NULL,
  kind SMALLINT NOT NULL,
  n BIGINT NOT NULL,
  CONSTRAINT counts_key PRIMARY KEY (period, distribution, org_country, organisation, start_day,
                                     substance, country, subdivision, kind)
);
INSERT INTO counts_by_visibility
SELECT period, distribution,
       CASE distribution WHEN 1 THEN org_country ELSE '' END,
       CASE WHEN distribution IN (1, 3) THEN '' ELSE organisation END,
       start_day, substance, country, subdivision, kind, SUM(n)
FROM counts
GROUP BY 1, 2, 3, 4, start_day, substance, country, subdivision, kind;
DROP TABLE counts;
ALTER TABLE counts_by_visibility RENAME TO counts;
CREATE INDEX counts_substance ON counts(period, substance, start_day);
CREATE INDEX counts_detection ON counts(period, substance, distribution)
  INCLUDE (start_day, country, org_country, n);
CREATE TABLE organisation_countries (
  organisation TEXT COLLATE "C" NOT NULL,
  org_country TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY (organisation, org_country)
);
INSERT INTO organisation_countries
SELECT DISTINCT organisation, org_country FROM reports WHERE distribution = 1;
)sql",
    // 4: the summary's key carries the count, so that an aggregate reads each visibility range
    // from the index alone, in key order (an index-only scan feeding a streaming group), not
    // from the table. Updating a count already rewrites index entries: counts_detection
    // includes it.
    R"sql(
ALTER TABLE counts DROP CONSTRAINT counts_key;
ALTER TABLE counts ADD CONSTRAINT counts_key PRIMARY KEY (period, distribution, org_country,
  organisation, start_day, substance, country, subdivision, kind) INCLUDE (n);
)sql",
};

// The triggers above, which CheckIntegrity requires present and enabled: ALTER TABLE ...
// DISABLE TRIGGER would otherwise switch append-only off without a trace in the data.
inline constexpr std::string_view kAppendOnlyTriggers[] = {
    "reports_append_only",
    "reports_no_truncate",
    "report_substances_append_only",
    "report_substances_no_truncate",
    "supersessions_append_only",
    "supersessions_no_truncate",
    "audit_append_only",
    "audit_no_truncate",
    "token_revocations_permanent",
    "token_revocations_no_truncate",
};

}  // namespace sentinel::postgres
