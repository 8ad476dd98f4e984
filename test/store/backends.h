// The store backends the contract tests run against, each opened fresh per test.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/reports/store.h"

namespace sentinel::test {

std::vector<std::string> Backends();  // "sqlite", and "postgresql"
Result<std::unique_ptr<reports::Store>> OpenBackend(const std::string& backend,
                                                    const std::string& test_name);
// A store on a database that already exists: a SQLite file or a PostgreSQL URL.
Result<std::unique_ptr<reports::Store>> OpenExisting(const std::string& backend,
                                                     const std::string& db);

}  // namespace sentinel::test
