#include "app/node.h"

#include <filesystem>
#include <fstream>
#include <ostream>
#include <sstream>

#include "adapters/postgres/pg_store.h"
#include "adapters/sqlite/sqlite_store.h"
#include "app/classify_command.h"
#include "app/library_loader.h"

namespace sentinel::app {
namespace {

bool IsPostgresUrl(const std::string& db) {
  return db.rfind("postgresql://", 0) == 0 || db.rfind("postgres://", 0) == 0;
}

}  // namespace

std::string PrintableDb(const std::string& db) {
  if (!IsPostgresUrl(db)) return db;
  // postgresql://user:secret@host/db: the password must not reach logs or terminals.
  const auto scheme_end = db.find("://") + 3;
  const auto at = db.find('@', scheme_end);
  const auto colon = db.find(':', scheme_end);
  if (at == std::string::npos || colon == std::string::npos || colon > at) return db;
  return db.substr(0, colon + 1) + "***" + db.substr(at);
}

Result<Node> OpenNode(const NodeOptions& options, std::ostream& err) {
  Node node;
  if (options.db.empty()) return Status::InvalidArgument("--db is required");
  const std::string data_dir = options.data_dir.empty() ? ResolveDataDir() : options.data_dir;
  std::string key_file = options.key_file;
  if (IsPostgresUrl(options.db)) {
    // Nodes sharing a database must pseudonymise vendor handles alike, so they share one key,
    // which cannot sit beside a database that is not a file.
    if (key_file.empty() && !options.store_only) {
      return Status::InvalidArgument(
          "a PostgreSQL database needs the node key file named explicitly (--key-file)");
    }
    auto store = postgres::OpenPostgresStore(options.db);
    if (!store.ok()) return store.status();
    node.store = std::move(store).value();
  } else {
    if (options.must_exist && !std::filesystem::exists(options.db)) {
      return Status::NotFound("no database at " + options.db);
    }
    const auto parent = std::filesystem::path(options.db).parent_path();
    if (!parent.empty()) {
      std::error_code ec;
      std::filesystem::create_directories(parent, ec);
      if (ec) return Status::IoError("cannot create " + parent.string() + ": " + ec.message());
    }
    auto store = sqlite::OpenSqliteStore(options.db);
    if (!store.ok()) return store.status();
    node.store = std::move(store).value();
    if (key_file.empty()) key_file = options.db + ".key";
  }
  if (options.store_only) return node;
  auto classifier = LoadClassifier(data_dir);
  if (!classifier.ok()) return classifier.status();
  node.classifier = std::move(classifier).value();
  std::optional<spectra::CompoundClasses> classes;
  if (auto text = ReadWholeFile(ClassRulesPath(data_dir)); text.ok()) {
    auto parsed = spectra::CompoundClasses::Parse(*text, ClassRulesPath(data_dir));
    if (!parsed.ok()) return parsed.status();
    classes = std::move(parsed).value();
  }
  node.resolver = std::make_unique<SubstanceResolver>(node.classifier, std::move(classes));
  auto key = LoadOrCreateNodeKey(key_file);
  if (!key.ok()) return key.status();
  node.intake = std::make_unique<ReportIntake>(node.resolver.get(), *key);
  if (options.load_libraries) {
    LibraryLoadOptions load;
    load.data_dir = data_dir;
    load.cache_dir = ResolveCacheDir();
    load.note = [&err](const std::string& m) { err << "sentinel: " << m << "\n"; };
    auto lib = LoadLibrary("default", load);
    if (!lib.ok()) return lib.status();
    node.libraries.push_back(std::move(lib).value());
  }
  return node;
}

}  // namespace sentinel::app
