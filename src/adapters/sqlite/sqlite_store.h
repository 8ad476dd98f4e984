// The embedded default store: one SQLite database file in WAL mode.
//
// Writes go through one writer thread that commits whatever has queued up since its last
// commit as one transaction (group commit): each Submit waits until the transaction holding
// it is durable (synchronous=FULL), so many concurrent submitters share one fsync. Each
// Submit is its own savepoint inside that transaction, so one bad batch does not fail its
// neighbours. Reads use a pool of read-only connections and never block on the writer (WAL).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/common/status.h"
#include "core/reports/store.h"

namespace sentinel::sqlite {

struct SqliteOptions {
  bool synchronous_full = true;  // off only for throwaway databases (tests of other things)
  // Where new report ids come from; empty: time-ordered random ids. Tests set it to force
  // clashes.
  std::function<std::string()> new_report_id;
};

// Opens (creating if needed) the database at `path` and brings its schema up to date.
Result<std::unique_ptr<reports::Store>> OpenSqliteStore(const std::string& path,
                                                        const SqliteOptions& options = {});

}  // namespace sentinel::sqlite
