#include "app/serve_command.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <charconv>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include "adapters/http/api_server.h"
#include "app/classify_command.h"
#include "app/csv.h"
#include "app/detect_scan.h"
#include "app/identify_command.h"
#include "app/library_loader.h"
#include "app/live_detection.h"
#include "app/node.h"
#include "app/progress.h"
#include "core/chem/depict.h"
#include "core/chem/molecule.h"
#include "core/classify/resolve.h"
#include "core/common/text.h"

namespace sentinel::app {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Rows per Submit. A transaction's commit writes every page its rows dirtied, and rows of
// one file land all over the indexes: larger batches share those pages (measured on 100,000
// rows: 1,000 → 43,000 rows/s, 5,000 → 55,000; no gain beyond). Memory stays a few MB.
constexpr std::size_t kImportBatch = 5000;

Result<std::pair<std::string, int>> ParseListen(const std::string& listen) {
  const auto colon = listen.rfind(':');
  int port = -1;
  if (colon != std::string::npos) {
    const char* begin = listen.data() + colon + 1;
    const char* end = listen.data() + listen.size();
    auto [p, ec] = std::from_chars(begin, end, port);
    if (ec != std::errc() || p != end) port = -1;
  }
  if (colon == std::string::npos || colon == 0 || port < 0 || port > 65535) {
    return Status::InvalidArgument("--listen must be HOST:PORT, e.g. 127.0.0.1:8080, not '" +
                                   listen + "'");
  }
  return std::make_pair(listen.substr(0, colon), port);
}

http::ApiCallbacks Callbacks(const Node& node, std::string openapi) {
  http::ApiCallbacks cb;
  const ReportIntake* intake = node.intake.get();
  cb.prepare = [intake](const json& body, const std::string& supersedes) {
    return intake->Prepare(body, supersedes);
  };
  cb.hash_token = [](std::string_view t) { return HashApiToken(t); };
  cb.new_token = [] { return NewApiToken(); };
  const classify::Classifier* classifier = node.classifier.get();
  cb.classify = [classifier](const std::string& text) {
    auto structure = classify::ResolveStructure(text, text.find("M  END") != std::string::npos,
                                                classifier->kb());
    classify::Classification result;
    if (structure.ok()) result = classifier->Classify(*structure->mol, structure->smiles, {});
    return json::parse(ClassificationJson(text, structure, structure.ok() ? &result : nullptr));
  };
  std::vector<const spectra::Library*> libraries;
  for (const auto& lib : node.libraries) libraries.push_back(lib.get());
  cb.identify = [libraries](const std::string& text) {
    return IdentifySpectraText(libraries, text);
  };
  cb.depict = [](const std::string& smiles) -> std::string {
    auto mol = chem::ParseSmiles(smiles);
    if (!mol.ok()) return {};
    return chem::DrawSvg(**mol, {});
  };
  cb.openapi = std::move(openapi);
  return cb;
}

// A token for the demo organisation, created afresh at each start (only hashes are kept).
Result<std::string> DemoToken(Node& node) {
  const std::string token = NewApiToken();
  auto id = node.store->CreateToken(reports::NodeAdministrator(), HashApiToken(token),
                                    {0, "demo-observatory", "demo", reports::Role::kAdmin});
  if (!id.ok()) return id.status();
  return token;
}

}  // namespace

// Seeds an empty demo database (demo_seed.cc): organisations, then a generated history through
// the same intake as any report.
Status SeedDemoHistory(Node& node, std::size_t approx_reports, std::ostream& err);

int RunServe(const ServeOptions& options, std::ostream& out, std::ostream& err) {
  auto listen = ParseListen(options.listen);
  if (!listen.ok()) {
    err << "sentinel serve: " << listen.status().message() << "\n";
    return 2;
  }
  NodeOptions node_options;
  node_options.db = options.db.empty() && options.demo ? "sentinel-demo/sentinel.db" : options.db;
  node_options.data_dir = options.data_dir;
  node_options.key_file = options.key_file;
  node_options.load_libraries = true;
  if (node_options.db.empty()) {
    err << "sentinel serve: --db PATH (or --demo) is required\n";
    return 2;
  }
  LiveDetectionOptions live_options;
  live_options.methods = options.detect_methods;
  live_options.max_gap = options.max_gap;
  live_options.load_methods = options.load_methods;
  live_options.places = options.places;
  live_options.scan_every = std::chrono::seconds(options.scan_every_seconds);
  live_options.combinations_every = std::chrono::seconds(options.combinations_every_seconds);
  if (live_options.methods == std::vector<std::string>{"none"}) live_options.methods.clear();
  if (live_options.load_methods == std::vector<std::string>{"none"}) {
    live_options.load_methods.clear();
  }
  if (Status s = ValidateLiveMethods(live_options.methods); !s.ok()) {
    err << "sentinel serve: --detect: " << s.message() << "\n";
    return 2;
  }
  if (Status s = ValidateLiveMethods(live_options.load_methods, /*loads=*/true); !s.ok()) {
    err << "sentinel serve: --detect-loads: " << s.message() << "\n";
    return 2;
  }
  if (std::find(live_options.methods.begin(), live_options.methods.end(), "scan") !=
      live_options.methods.end()) {
    // A gazetteer that cannot be read stops the server before it answers, not a scan later.
    if (auto places = LoadGazetteer(live_options.places); !places.ok()) {
      err << "sentinel serve: " << places.status().message() << "\n";
      return 2;
    }
  }
  auto node = OpenNode(node_options, err);
  if (!node.ok()) {
    err << "sentinel serve: " << node.status().message() << "\n";
    return 2;
  }
  std::string token;
  if (options.demo) {
    if (node->store->CountReports() == 0) {
      if (Status s = SeedDemoHistory(*node, options.demo_reports, err); !s.ok()) {
        err << "sentinel serve: demo: " << s.message() << "\n";
        return 2;
      }
    }
    auto t = DemoToken(*node);
    if (!t.ok()) {
      err << "sentinel serve: demo token: " << t.status().message() << "\n";
      return 2;
    }
    token = *t;
  }
  const std::string data_dir = options.data_dir.empty() ? ResolveDataDir() : options.data_dir;
  auto openapi = ReadWholeFile((fs::path(data_dir) / "api" / "openapi.json").string());
  if (!openapi.ok()) {
    err << "sentinel serve: " << openapi.status().message() << "\n";
    return 2;
  }
  http::ServerOptions server_options;
  server_options.host = listen->first;
  server_options.port = listen->second;
  server_options.threads = options.threads;
  http::ApiCallbacks callbacks = Callbacks(*node, *openapi);
  // Declared before the server, so that it outlives every handler that notes reports to it.
  std::optional<LiveDetector> live;
  if (!live_options.methods.empty() || !live_options.load_methods.empty()) {
    live.emplace(*node->store, live_options, err);
    callbacks.acknowledged = [&live](const reports::Principal& who,
                                     const std::vector<reports::SubmitItem>& items) {
      live->Reported(who, items);
    };
  }
  http::ApiServer server(node->store.get(), std::move(callbacks), server_options);
  if (Status s = server.Bind(); !s.ok()) {
    err << "sentinel serve: " << s.message() << "\n";
    return 2;
  }
  // Signals are taken by one thread that stops the server; the others never see them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::thread stopper([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    server.Stop();
  });
  const std::string url = fmt::format("http://{}:{}", listen->first, server.BoundPort());
  out << "sentinel: serving " << PrintableDb(node_options.db) << " at " << url << "/api/v1\n";
  if (!token.empty()) {
    out << "sentinel: demo token (admin of demo-observatory): " << token << "\n"
        << "  try: curl -H 'Authorization: Bearer " << token << "' '" << url
        << "/api/v1/aggregates?period=month&substance=Xylazine&place=US'\n";
  }
  out.flush();
  server.Serve();
  kill(getpid(), SIGTERM);  // wakes the signal thread if the server stopped on its own
  stopper.join();
  return 0;
}

namespace {

// Paths whose CSV cells are numbers; every other cell is text. Empty cells are absent fields.
bool NumericPath(std::string_view path) {
  for (std::string_view suffix :
       {"lat", "lon", "value", "purity_percent", "load_mg_per_1000_per_day", "amount"}) {
    if (path == suffix ||
        (path.size() > suffix.size() && path.substr(path.size() - suffix.size()) == suffix &&
         path[path.size() - suffix.size() - 1] == '.')) {
      return true;
    }
  }
  return false;
}

// "substances[1].name" → JSON pointer "/substances/1/name".
json::json_pointer PointerOf(const std::string& path) {
  std::string pointer;
  for (char c : path) {
    if (c == '.' || c == '[') {
      pointer += '/';
    } else if (c != ']') {
      pointer += c;
    }
  }
  return json::json_pointer("/" + pointer);
}

struct ImportCounts {
  std::size_t stored = 0, duplicates = 0, rejected = 0;
};

// Validates and resolves rows on the calling thread while a second thread stores the previous
// batch: the store's writer and the intake then run side by side instead of taking turns.
class Importer {
 public:
  Importer(Node& node, reports::Principal who, std::ostream& err)
      : node_(node), who_(std::move(who)), err_(err), submitter_([this] { SubmitLoop(); }) {}
  ~Importer() {
    Flush();
    {
      std::lock_guard lock(mu_);
      closing_ = true;
    }
    cv_.notify_all();
    submitter_.join();
  }
  Importer(const Importer&) = delete;
  Importer& operator=(const Importer&) = delete;

  void Add(const json& body, const std::string& where) {
    if (body.is_discarded()) {
      Reject(where, "$", "not valid JSON");
      return;
    }
    reports::PreparedReport p = node_.intake->Prepare(body, "");
    if (!p.errors.empty()) {
      for (const auto& e : p.errors) Reject(where, e.path, e.message, false);
      std::lock_guard lock(mu_);
      ++counts_.rejected;
      return;
    }
    pending_.items.push_back(std::move(*p.item));
    pending_.where.push_back(where);
    if (pending_.items.size() >= kImportBatch) HandOver();
  }

  // Returns once every row added so far is stored or rejected.
  void Flush() {
    HandOver();
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return queue_.empty() && !busy_; });
  }

  void Reject(const std::string& where, const std::string& path, const std::string& message,
              bool count = true) {
    std::lock_guard lock(mu_);
    err_ << where << ": " << path << ": " << message << "\n";
    if (count) ++counts_.rejected;
  }
  ImportCounts counts() {
    std::lock_guard lock(mu_);
    return counts_;
  }

 private:
  struct Batch {
    std::vector<reports::SubmitItem> items;
    std::vector<std::string> where;
  };

  void HandOver() {
    if (pending_.items.empty()) return;
    std::unique_lock lock(mu_);
    // One batch stored while the next is prepared, and no more: memory stays bounded.
    cv_.wait(lock, [&] { return queue_.empty(); });
    queue_.push_back(std::move(pending_));
    pending_ = {};
    cv_.notify_all();
  }

  void SubmitLoop() {
    std::unique_lock lock(mu_);
    while (true) {
      cv_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;
      Batch batch = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
      cv_.notify_all();
      lock.unlock();
      StoreBatch(batch);
      lock.lock();
      busy_ = false;
      cv_.notify_all();
    }
  }

  void StoreBatch(const Batch& batch) {
    std::vector<reports::SubmitOutcome> outcomes;
    if (Status s = node_.store->Submit(who_, batch.items, &outcomes); s.ok()) {
      Count(outcomes);
      return;
    }
    StoreHalves(batch, 0, batch.items.size());
  }

  // One bad item fails its whole batch (nothing of it is stored): the batch is stored again in
  // halves, and each half that fails in halves again, down to the bad item, which is named.
  // One bad row among thousands costs a few dozen transactions, not one per row.
  void StoreHalves(const Batch& batch, std::size_t begin, std::size_t end) {
    const std::size_t middle = begin + (end - begin) / 2;
    for (const auto& [from, to] : {std::pair{begin, middle}, std::pair{middle, end}}) {
      if (from == to) continue;
      const std::vector<reports::SubmitItem> items(
          batch.items.begin() + static_cast<std::ptrdiff_t>(from),
          batch.items.begin() + static_cast<std::ptrdiff_t>(to));
      std::vector<reports::SubmitOutcome> outcomes;
      if (Status s = node_.store->Submit(who_, items, &outcomes); s.ok()) {
        Count(outcomes);
      } else if (to - from == 1) {
        Reject(batch.where[from], "$", s.message());
      } else {
        StoreHalves(batch, from, to);
      }
    }
  }

  void Count(const std::vector<reports::SubmitOutcome>& outcomes) {
    std::lock_guard lock(mu_);
    for (const auto& o : outcomes) (o.duplicate ? counts_.duplicates : counts_.stored) += 1;
  }

  Node& node_;
  reports::Principal who_;
  std::ostream& err_;
  Batch pending_;  // calling thread only
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Batch> queue_;
  bool busy_ = false, closing_ = false;
  ImportCounts counts_;
  std::thread submitter_;  // last: started once everything it uses exists
};

void ImportStream(std::istream& in, const std::string& name, bool csv, Importer& importer,
                  Progress* progress) {
  std::string line;
  std::size_t line_no = 0;
  std::vector<std::string> header;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (progress) progress->Advance();
    const std::string where = fmt::format("{}:{}", name, line_no);
    if (Trim(line).empty()) continue;
    if (line.size() > reports::kMaxReportBytes) {
      importer.Reject(where, "$",
                      fmt::format("line longer than {} bytes", reports::kMaxReportBytes));
      continue;
    }
    if (!csv) {
      importer.Add(json::parse(line, nullptr, false), where);
      continue;
    }
    if (header.empty()) {
      header = CsvFields(line);
      for (auto& h : header) h = Trim(h);
      continue;
    }
    const auto cells = CsvFields(line);
    if (cells.size() != header.size()) {
      importer.Reject(where, "$",
                      fmt::format("{} cells, the header has {}", cells.size(), header.size()));
      continue;
    }
    json body = json::object();
    bool ok = true;
    for (std::size_t i = 0; i < cells.size() && ok; ++i) {
      const std::string cell = Trim(cells[i]);
      if (cell.empty()) continue;
      json value = cell;
      if (NumericPath(header[i])) {
        double number = 0;
        auto [p, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), number);
        if (ec != std::errc() || p != cell.data() + cell.size()) {
          importer.Reject(where, "$." + header[i], "'" + cell + "' is not a number");
          ok = false;
          break;
        }
        value = number;
      }
      try {
        body[PointerOf(header[i])] = std::move(value);
      } catch (const json::exception&) {
        importer.Reject(where, "$", "column '" + header[i] + "' is not a field path");
        ok = false;
      }
    }
    if (ok) importer.Add(body, where);
  }
}

}  // namespace

int RunImport(const ImportOptions& options, std::istream& in, std::ostream& out,
              std::ostream& err) {
  NodeOptions node_options;
  node_options.db = options.db;
  node_options.data_dir = options.data_dir;
  node_options.key_file = options.key_file;
  auto node = OpenNode(node_options, err);
  if (!node.ok()) {
    err << "sentinel import: " << node.status().message() << "\n";
    return 2;
  }
  auto org = node->store->GetOrganisation(options.organisation);
  if (!org.ok()) {
    err << "sentinel import: " << org.status().message()
        << " (create it with: sentinel admin organisation)\n";
    return 2;
  }
  reports::Principal who;
  who.organisation = org->id;
  who.country = org->country;
  who.trusted_groups = org->trusted_groups;
  who.user = "import";
  who.role = reports::Role::kReporter;
  Importer importer(*node, who, err);
  for (const std::string& file : options.files) {
    const bool csv = file.size() > 4 && file.substr(file.size() - 4) == ".csv";
    Progress progress("import " + file, 0, options.progress);
    if (file == "-") {
      ImportStream(in, "stdin", false, importer, &progress);
      continue;
    }
    std::ifstream f(file, std::ios::binary);
    if (!f) {
      err << "sentinel import: cannot read " << file << "\n";
      return 2;
    }
    ImportStream(f, file, csv, importer, &progress);
  }
  importer.Flush();
  const ImportCounts c = importer.counts();
  out << fmt::format("imported {} reports ({} already stored, {} rejected)\n", c.stored,
                     c.duplicates, c.rejected);
  return c.rejected == 0 ? 0 : 1;
}

int RunAdmin(const AdminOptions& options, std::ostream& out, std::ostream& err) {
  NodeOptions node_options;
  node_options.db = options.db;
  node_options.store_only = true;
  auto node = OpenNode(node_options, err);
  if (!node.ok()) {
    err << "sentinel admin: " << node.status().message() << "\n";
    return 2;
  }
  const reports::Principal admin = reports::NodeAdministrator();
  if (options.action == "organisation") {
    if (options.id.empty() || options.country.size() != 2) {
      err << "sentinel admin organisation: --id and a two-letter --country are required\n";
      return 2;
    }
    Status s = node->store->PutOrganisation(
        admin, {options.id, options.name.empty() ? options.id : options.name, options.country,
                options.groups});
    if (!s.ok()) {
      err << "sentinel admin: " << s.message() << "\n";
      return 2;
    }
    out << "organisation " << options.id << " saved\n";
    return 0;
  }
  if (options.action == "token") {
    auto role = reports::ParseRole(options.role);
    if (!role || options.user.empty() || options.organisation.empty()) {
      err << "sentinel admin token: --organisation, --user and --role "
             "reader|reporter|analyst|admin are required\n";
      return 2;
    }
    if (!node->store->GetOrganisation(options.organisation).ok()) {
      err << "sentinel admin token: organisation " << options.organisation << " not found\n";
      return 2;
    }
    const std::string token = NewApiToken();
    auto id = node->store->CreateToken(admin, HashApiToken(token),
                                       {0, options.organisation, options.user, *role});
    if (!id.ok()) {
      err << "sentinel admin: " << id.status().message() << "\n";
      return 2;
    }
    out << token << "\n";
    err << "token " << *id << " for " << options.user << " (" << options.role << ") of "
        << options.organisation << "; shown once, only its hash is kept\n";
    return 0;
  }
  if (options.action == "revoke") {
    if (Status s = node->store->RevokeToken(admin, options.token_id); !s.ok()) {
      err << "sentinel admin: " << s.message() << "\n";
      return 2;
    }
    out << "token " << options.token_id << " revoked\n";
    return 0;
  }
  err << "sentinel admin: unknown action " << options.action << "\n";
  return 2;
}

}  // namespace sentinel::app
