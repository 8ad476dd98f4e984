// The throwaway PostgreSQL 15 cluster of a test process (see backends.cc), for tests that need
// more than a store: raw SQL, or two stores on one database.
#pragma once

#include <string>

#include "core/common/status.h"

namespace sentinel::test {

// A fresh, empty database named after `test_name` on this process's cluster (started on first
// use, stopped at exit), as a connection URI. NotFound when the PostgreSQL binaries are absent.
Result<std::string> CreatePostgresTestDatabase(const std::string& test_name);

}  // namespace sentinel::test
