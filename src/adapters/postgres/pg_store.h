// The report store on PostgreSQL 15, for nodes that outgrow one SQLite file or run as several
// processes over one database.
//
// Each call runs on a connection of a small pool (created on demand, one per concurrent caller,
// up to a limit) as one transaction: a Submit commits all its items or none, and returns only
// after the commit is durable (synchronous_commit is forced on for Sentinel's sessions).
// Concurrency is the database's: of two submitters of one idempotency key, on one node or
// two, the UNIQUE(organisation, idempotency_key) constraint makes the second wait for the first
// and then answer with the first's report (duplicate, or Conflict for a different body). A
// transaction that loses a race between two corrections of one report, or a deadlock, is
// retried from the start. The schema is brought up to date on open (schema.h), safely when
// several nodes start at once.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include "core/common/status.h"
#include "core/reports/store.h"

namespace sentinel::postgres {

struct PostgresOptions {
  // Connections open at most at once; callers beyond wait for one to come free. PostgreSQL's
  // default max_connections is 100, shared by every node on the database.
  std::size_t max_connections = 16;
};

// Connects to `url` (a libpq connection string or postgresql:// URI) and brings the schema up
// to date. Fails when the database cannot be reached or holds a newer schema than this build's.
Result<std::unique_ptr<reports::Store>> OpenPostgresStore(const std::string& url,
                                                          const PostgresOptions& options = {});

}  // namespace sentinel::postgres
