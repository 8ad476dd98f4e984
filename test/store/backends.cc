#include "test/store/backends.h"

#include <filesystem>

#include "adapters/sqlite/sqlite_store.h"

namespace sentinel::test {

std::vector<std::string> Backends() { return {"sqlite"}; }

Result<std::unique_ptr<reports::Store>> OpenBackend(const std::string& backend,
                                                    const std::string& test_name) {
  if (backend == "sqlite") {
    const auto dir = std::filesystem::temp_directory_path() / "sentinel-store-tests";
    std::filesystem::create_directories(dir);
    std::string file = test_name;
    for (char& c : file) {
      if (c == '/') c = '_';
    }
    const auto path = dir / (file + ".db");
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::filesystem::remove(path.string() + suffix);
    }
    return sqlite::OpenSqliteStore(path.string());
  }
  return Status::NotFound("no backend " + backend);
}

}  // namespace sentinel::test
