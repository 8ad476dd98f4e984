// Report intake: what the HTTP API and `sentinel import` share between a submitted JSON body
// and the store — validation (core/reports/report.h), the vendor-handle pseudonym (keyed
// BLAKE2b with the node's secret) and substance resolution. One path, so an imported row and
// a POSTed report are judged alike.
#pragma once

#include <array>
#include <string>
#include <vector>

#include "app/substance_resolver.h"
#include "core/reports/report.h"
#include "core/reports/store.h"

namespace sentinel::app {

class ReportIntake {
 public:
  static constexpr std::size_t kKeyBytes = 32;
  using Key = std::array<unsigned char, kKeyBytes>;

  ReportIntake(const SubstanceResolver* resolver, Key pseudonym_key);

  // The store item for `body`, or every problem with it (JSON path + message). `supersedes`
  // is the report id a correction replaces, else empty.
  using Prepared = reports::PreparedReport;
  Prepared Prepare(const nlohmann::json& body, const std::string& supersedes) const;

  std::string Pseudonym(std::string_view handle) const;

 private:
  const SubstanceResolver* resolver_;
  Key key_;
};

// The node's secret for pseudonyms, kept in a file beside the database (created with mode 0600
// on first use). Losing it breaks the link between old and new pseudonyms; it is never stored
// in the database, so a copy of the database alone cannot test guesses of handles.
Result<ReportIntake::Key> LoadOrCreateNodeKey(const std::string& path);

// API tokens: "snt_" + 43 base64url characters of randomness (256 bits). Stored only as their
// BLAKE2b-256 hash in hex: a fast hash suffices, tokens being random rather than passwords.
std::string NewApiToken();
std::string HashApiToken(std::string_view token);

}  // namespace sentinel::app
