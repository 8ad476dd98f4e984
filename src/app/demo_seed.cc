// Seeding `sentinel serve --demo`: the demo organisations, then the generated history
// (app/demo_history.h) submitted through the same intake and store as any report.
#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <ostream>

#include "app/demo_history.h"
#include "app/library_loader.h"
#include "app/node.h"
#include "app/progress.h"

namespace sentinel::app {

Result<DemoReference> LoadShippedDemoReference() {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(ResolveDataDir()) / "demo";
  auto places = ReadWholeFile((dir / "places.tsv").string());
  if (!places.ok()) return places.status();
  auto substances = ReadWholeFile((dir / "substances.tsv").string());
  if (!substances.ok()) return substances.status();
  return ParseDemoReference(*places, *substances);
}

Status SeedDemoHistory(Node& node, std::size_t approx_reports, std::ostream& err) {
  auto reference = LoadShippedDemoReference();
  if (!reference.ok()) return reference.status();
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  err << "sentinel: generating a demo history of about " << approx_reports << " reports\n";
  const DemoHistory history = GenerateDemoHistory(*reference, today, approx_reports, 20190101);

  const reports::Principal admin = reports::NodeAdministrator();
  std::map<std::string, reports::Principal> who;
  // The organisation the README's token belongs to: sees what a national observatory sees.
  if (Status s = node.store->PutOrganisation(
          admin, {"demo-observatory", "Demo national drug observatory", "US", {"demo-network"}});
      !s.ok()) {
    return s;
  }
  for (const auto& o : history.organisations) {
    if (Status s = node.store->PutOrganisation(admin, {o.id, o.name, o.country, o.trusted_groups});
        !s.ok()) {
      return s;
    }
    reports::Principal p;
    p.organisation = o.id;
    p.country = o.country;
    p.trusted_groups = o.trusted_groups;
    p.user = "demo";
    p.role = reports::Role::kReporter;
    who[o.id] = std::move(p);
  }
  Progress progress("demo reports", history.reports.size(), true);
  std::map<std::string, std::vector<reports::SubmitItem>> pending;
  std::size_t rejected = 0;
  auto flush = [&](const std::string& org) -> Status {
    auto& items = pending[org];
    if (items.empty()) return Status::Ok();
    std::vector<reports::SubmitOutcome> outcomes;
    Status s = node.store->Submit(who.at(org), items, &outcomes);
    progress.Advance(items.size());
    items.clear();
    return s;
  };
  for (const auto& r : history.reports) {
    reports::PreparedReport p = node.intake->Prepare(r.body, "");
    if (!p.item) {
      // The generator's own test keeps its bodies valid; say so loudly if one is not.
      if (++rejected <= 5) {
        err << "sentinel: demo report refused: " << p.errors.front().path << ": "
            << p.errors.front().message << "\n";
      }
      continue;
    }
    auto& items = pending[r.organisation_id];
    items.push_back(std::move(*p.item));
    if (items.size() >= 1000) {
      if (Status s = flush(r.organisation_id); !s.ok()) return s;
    }
  }
  for (auto& [org, items] : pending) {
    if (Status s = flush(org); !s.ok()) return s;
  }
  if (rejected > 0) {
    return Status::Corruption(fmt::format("{} generated demo reports were refused", rejected));
  }
  return Status::Ok();
}

}  // namespace sentinel::app
