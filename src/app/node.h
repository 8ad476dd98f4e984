// A Sentinel node as the commands that touch reports see it: the store (SQLite file or
// PostgreSQL), the classifier and compound classes for substance resolution, the report intake
// with the node's pseudonym key, and — for the server — the spectral libraries.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "app/report_intake.h"
#include "app/substance_resolver.h"
#include "core/reports/store.h"
#include "core/spectra/library.h"

namespace sentinel::app {

struct NodeOptions {
  std::string db;               // a file path (SQLite) or postgresql://... (PostgreSQL)
  std::string data_dir;         // empty: the shipped data
  bool load_libraries = false;  // the spectral libraries, for identification over HTTP
  std::string key_file;         // empty: <db>.key beside a SQLite file; required with PostgreSQL
  bool store_only = false;      // only the store: administration needs neither rules nor key
  bool must_exist = false;      // a SQLite file is not created: readers of a node (detect)
};

struct Node {
  std::unique_ptr<reports::Store> store;
  std::shared_ptr<const classify::Classifier> classifier;
  std::unique_ptr<SubstanceResolver> resolver;
  std::unique_ptr<ReportIntake> intake;
  std::vector<std::unique_ptr<spectra::Library>> libraries;
};

Result<Node> OpenNode(const NodeOptions& options, std::ostream& err);

// The database as it may be shown: a PostgreSQL URL without its password.
std::string PrintableDb(const std::string& db);

}  // namespace sentinel::app
