// `sentinel serve`: the HTTP API over a node's store; `sentinel import`: bulk loading of CSV
// and JSON Lines through the same intake; `sentinel admin`: organisations and tokens from the
// command line (bootstrapping a node before any token exists).
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

namespace sentinel::app {

struct ServeOptions {
  std::string db;  // empty with --demo: sentinel-demo/sentinel.db
  std::string listen = "127.0.0.1:8080";
  bool demo = false;
  std::size_t demo_reports = 150'000;  // size of the generated history on first start
  std::string data_dir;
  std::string key_file;  // the node's pseudonym key; empty: <db>.key beside a SQLite file
  int threads = 32;
  // Live detection (app/live_detection.h): the detectors run on each accepted report's series;
  // {"none"} or empty: no live detection.
  std::vector<std::string> detect_methods = {"first",         "noufaily",        "precursors",
                                             "first-in-form", "new-combination", "scan",
                                             "combinations"};
  std::vector<std::string> load_methods = {"first", "ears-c1"};  // on wastewater loads
  std::string places;                    // the scan's gazetteer; empty: the shipped centroids
  int scan_every_seconds = 60;           // the least time between two scans of one substance
  int combinations_every_seconds = 600;  // the least time between two judgements of the pairs
  int max_gap = 1;
};

int RunServe(const ServeOptions& options, std::ostream& out, std::ostream& err);

struct ImportOptions {
  std::vector<std::string> files;  // .csv or .jsonl/.ndjson; "-" is stdin (JSON Lines)
  std::string db;
  std::string organisation;  // the source organisation of every row
  std::string data_dir;
  std::string key_file;  // as ServeOptions::key_file
  bool progress = true;
};

int RunImport(const ImportOptions& options, std::istream& in, std::ostream& out, std::ostream& err);

struct AdminOptions {
  std::string db;
  std::string action;  // organisation | token | revoke
  std::string id, name, country;
  std::vector<std::string> groups;
  std::string organisation, user, role;
  long long token_id = 0;
};

int RunAdmin(const AdminOptions& options, std::ostream& out, std::ostream& err);

}  // namespace sentinel::app
