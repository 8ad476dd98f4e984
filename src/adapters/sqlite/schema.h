// The SQLite schema as numbered migrations. A database records the migrations applied to it
// (schema_migrations) and Sentinel applies the missing ones, in order, each in its own
// transaction, when it opens the database. Never edit a released migration: add one.
//
// Reports, their substance links, supersessions, token revocations and the audit log are
// append-only: triggers refuse UPDATE and DELETE. The weekly and monthly summary that makes
// aggregates fast (`counts`) is derived data in a second file (kSummaryMigrations).
#pragma once

#include <string_view>

namespace sentinel::sqlite {

inline constexpr std::string_view kMigrations[] = {
    // 1: reports, substances, access control, audit, summary counts.
    R"sql(
CREATE TABLE organisations (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  country TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE organisation_groups (
  organisation TEXT NOT NULL REFERENCES organisations(id),
  grp TEXT NOT NULL,
  PRIMARY KEY (organisation, grp)
);
CREATE TABLE tokens (
  id INTEGER PRIMARY KEY,
  hash TEXT NOT NULL UNIQUE,
  organisation TEXT NOT NULL REFERENCES organisations(id),
  user TEXT NOT NULL,
  role INTEGER NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE token_revocations (
  token INTEGER PRIMARY KEY REFERENCES tokens(id),
  revoked_at TEXT NOT NULL
);
CREATE TABLE substances (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL UNIQUE,
  name TEXT NOT NULL,
  smiles TEXT NOT NULL,
  inchikey TEXT NOT NULL,
  in_kb INTEGER NOT NULL,
  classification TEXT NOT NULL,
  first_recorded TEXT NOT NULL
);
CREATE INDEX substances_name ON substances(lower(name));
CREATE TABLE substance_classes (
  substance INTEGER NOT NULL REFERENCES substances(id),
  class TEXT NOT NULL,
  PRIMARY KEY (substance, class)
);
CREATE INDEX substance_classes_class ON substance_classes(class);
CREATE TABLE reports (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  version INTEGER NOT NULL,
  organisation TEXT NOT NULL,
  org_country TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  kind INTEGER NOT NULL,
  distribution INTEGER NOT NULL,
  date TEXT NOT NULL,
  day INTEGER NOT NULL,
  month_day INTEGER NOT NULL,
  country TEXT NOT NULL,
  subdivision TEXT NOT NULL,
  lat REAL,
  lon REAL,
  body TEXT NOT NULL,
  received_at TEXT NOT NULL,
  UNIQUE (organisation, idempotency_key),
  UNIQUE (id, version)
);
CREATE INDEX reports_date ON reports(date);
CREATE INDEX reports_country ON reports(country, date);
CREATE INDEX reports_subdivision ON reports(subdivision, date);
CREATE TABLE report_substances (
  seq INTEGER NOT NULL REFERENCES reports(seq),
  ordinal INTEGER NOT NULL,
  substance INTEGER NOT NULL REFERENCES substances(id),
  role TEXT NOT NULL,
  purity REAL,
  resolved_by TEXT NOT NULL,
  PRIMARY KEY (seq, ordinal)
);
CREATE INDEX report_substances_substance ON report_substances(substance, seq);
CREATE TABLE supersessions (
  old_seq INTEGER PRIMARY KEY REFERENCES reports(seq),
  new_seq INTEGER NOT NULL UNIQUE REFERENCES reports(seq)
);
CREATE TABLE counts (
  period INTEGER NOT NULL,
  start_day INTEGER NOT NULL,
  substance INTEGER NOT NULL,
  country TEXT NOT NULL,
  subdivision TEXT NOT NULL,
  kind INTEGER NOT NULL,
  organisation TEXT NOT NULL,
  org_country TEXT NOT NULL,
  distribution INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (period, start_day, substance, country, subdivision, kind, organisation,
               distribution)
);
CREATE TABLE audit (
  seq INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  organisation TEXT NOT NULL,
  user TEXT NOT NULL,
  token INTEGER NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE TRIGGER reports_no_update BEFORE UPDATE ON reports
  BEGIN SELECT RAISE(ABORT, 'reports are append-only'); END;
CREATE TRIGGER reports_no_delete BEFORE DELETE ON reports
  BEGIN SELECT RAISE(ABORT, 'reports are append-only'); END;
CREATE TRIGGER report_substances_no_update BEFORE UPDATE ON report_substances
  BEGIN SELECT RAISE(ABORT, 'reports are append-only'); END;
CREATE TRIGGER report_substances_no_delete BEFORE DELETE ON report_substances
  BEGIN SELECT RAISE(ABORT, 'reports are append-only'); END;
CREATE TRIGGER supersessions_no_update BEFORE UPDATE ON supersessions
  BEGIN SELECT RAISE(ABORT, 'supersessions are append-only'); END;
CREATE TRIGGER supersessions_no_delete BEFORE DELETE ON supersessions
  BEGIN SELECT RAISE(ABORT, 'supersessions are append-only'); END;
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
  BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER token_revocations_no_delete BEFORE DELETE ON token_revocations
  BEGIN SELECT RAISE(ABORT, 'revocations are permanent'); END;
)sql",
    // 2: the summary's key holds org_country. Rows of one organisation filed before and after
    // it changed country must not merge, or national visibility would follow the older
    // country. Rebuilt from the reports, which merged rows can no longer be split into.
    R"sql(
CREATE TABLE counts_by_org_country (
  period INTEGER NOT NULL,
  start_day INTEGER NOT NULL,
  substance INTEGER NOT NULL,
  country TEXT NOT NULL,
  subdivision TEXT NOT NULL,
  kind INTEGER NOT NULL,
  organisation TEXT NOT NULL,
  org_country TEXT NOT NULL,
  distribution INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (period, start_day, substance, country, subdivision, kind, organisation,
               org_country, distribution)
);
INSERT INTO counts_by_org_country
SELECT period, start_day, substance, country, subdivision, kind, organisation, org_country,
       distribution, COUNT(*)
FROM (SELECT DISTINCT p.period,
             CASE p.period WHEN 0 THEN r.day - (((r.day + 3) % 7 + 7) % 7) ELSE r.month_day END
               AS start_day,
             rs.substance, r.country, r.subdivision, r.kind, r.organisation, r.org_country,
             r.distribution, r.seq
      FROM reports r JOIN report_substances rs ON rs.seq = r.seq
      CROSS JOIN (SELECT 0 AS period UNION ALL SELECT 1) p
      WHERE NOT EXISTS (SELECT 1 FROM supersessions s WHERE s.old_seq = r.seq))
GROUP BY period, start_day, substance, country, subdivision, kind, organisation, org_country,
         distribution;
DROP TABLE counts;
ALTER TABLE counts_by_org_country RENAME TO counts;
)sql",
    // 3: signals of live detection (derived data: a continuing episode updates its row), and
    // the summary by substance, which live detection reads one substance at a time.
    R"sql(
-- Covering: live detection reads a substance's counts from the index alone.
CREATE INDEX counts_substance ON counts(substance, period, distribution, start_day, country,
                                        org_country, n);
CREATE TABLE signals (
  audience TEXT NOT NULL,
  detector TEXT NOT NULL,
  substance_key TEXT NOT NULL,
  place TEXT NOT NULL,
  first_week TEXT NOT NULL,
  last_week TEXT NOT NULL,
  changed INTEGER NOT NULL UNIQUE,
  raised_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  body TEXT NOT NULL,
  PRIMARY KEY (audience, detector, substance_key, place, first_week)
);
CREATE INDEX signals_audience ON signals(audience, changed);
CREATE INDEX signals_substance ON signals(substance_key, last_week);
)sql",
    // 4: the summary keyed by who may see a row first, and only by what decides it: rows
    // distributed to everyone keep neither organisation nor its country (everyone sees them),
    // national rows only the organisation's country, trusted-group and organisation-only rows
    // only the organisation. Organisations reporting the same week, substance and place to
    // everyone, or nationally from one country, then share one row, and an aggregate reads each
    // kind of visibility as one contiguous range of the table, already in its order.
    // `organisation_countries` lists the countries each organisation has filed national
    // reports under: the rare organisation that moved sees its own national reports from
    // before the move, which the summary no longer tells apart, counted from the reports.
    R"sql(
CREATE TABLE counts_by_visibility (
  period INTEGER NOT NULL,
  distribution INTEGER NOT NULL,
  org_country TEXT NOT NULL,
  organisation TEXT NOT NULL,
  start_day INTEGER NOT NULL,
  substance INTEGER NOT NULL,
  country TEXT NOT NULL,
  subdivision TEXT NOT NULL,
  kind INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (period, distribution, org_country, organisation, start_day, substance, country,
               subdivision, kind)
) WITHOUT ROWID;
INSERT INTO counts_by_visibility
SELECT period, distribution,
       CASE distribution WHEN 1 THEN org_country ELSE '' END,
       CASE WHEN distribution IN (1, 3) THEN '' ELSE organisation END,
       start_day, substance, country, subdivision, kind, SUM(n)
FROM counts
GROUP BY 1, 2, 3, 4, start_day, substance, country, subdivision, kind;
DROP TABLE counts;
ALTER TABLE counts_by_visibility RENAME TO counts;
CREATE INDEX counts_substance ON counts(substance, period, distribution, start_day, country,
                                        org_country, n);
CREATE TABLE organisation_countries (
  organisation TEXT NOT NULL,
  org_country TEXT NOT NULL,
  PRIMARY KEY (organisation, org_country)
) WITHOUT ROWID;
INSERT INTO organisation_countries
SELECT DISTINCT organisation, org_country FROM reports WHERE distribution = 1;
)sql",
    // 5: the summary moves to a database file of its own (kSummaryMigrations), which a second
    // writer keeps, so that a report's transaction no longer waits for its summary rows.
    // Both tables are derived from the reports: the new file is filled from them.
    R"sql(
DROP TABLE counts;
DROP TABLE organisation_countries;
)sql",
};

// The summary database beside the reports database (SqliteStore says how it is kept). Derived
// data only: every row can be recomputed from the reports, and `summary_state.seq` says up to
// which report (by sequence) it has been.
inline constexpr std::string_view kSummaryMigrations[] = {
    // 1: the weekly and monthly counts keyed by who may see them (main migration 4 says why),
    // the countries organisations filed national reports from, and the summary's position.
    // Live detection reads weekly counts of national and everyone-level reports by substance:
    // its index holds only those, a small part of all the rows the writer keeps.
    R"sql(
CREATE TABLE summary_state (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  seq INTEGER NOT NULL
);
INSERT INTO summary_state(id, seq) VALUES(1, 0);
CREATE TABLE counts (
  period INTEGER NOT NULL,
  distribution INTEGER NOT NULL,
  org_country TEXT NOT NULL,
  organisation TEXT NOT NULL,
  start_day INTEGER NOT NULL,
  substance INTEGER NOT NULL,
  country TEXT NOT NULL,
  subdivision TEXT NOT NULL,
  kind INTEGER NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (period, distribution, org_country, organisation, start_day, substance, country,
               subdivision, kind)
) WITHOUT ROWID;
CREATE INDEX counts_detection ON counts(substance, distribution, start_day, country, org_country,
                                        n) WHERE period = 0 AND distribution IN (1, 3);
CREATE TABLE organisation_countries (
  organisation TEXT NOT NULL,
  org_country TEXT NOT NULL,
  PRIMARY KEY (organisation, org_country)
) WITHOUT ROWID;
)sql",
};

}  // namespace sentinel::sqlite
