// Fuzzes report validation (docs/reports.md): any bytes, parsed as JSON or not, must give a
// report or a list of errors, never an exception or a crash. An accepted report must keep the
// contract's promises: no vendor handle stored, a body that serialises within the size limit,
// and substances that each carry a reference. The personal-data scanner and the field-name check
// also see the raw bytes.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/reports/personal_data.h"
#include "core/reports/report.h"

namespace {

std::string Pseudonym(std::string_view handle) { return "p" + std::to_string(handle.size()); }

[[noreturn]] void Violation() { __builtin_trap(); }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)sentinel::reports::FindPersonalData(text);
  (void)sentinel::reports::IsPersonIdentifyingField(text);

  const auto body = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return 0;
  const std::chrono::sys_days today{std::chrono::year{2026} / 6 / 30};
  const auto result = sentinel::reports::ValidateReport(body, Pseudonym, today);
  if (result.report.has_value() == !result.errors.empty()) Violation();
  for (const auto& error : result.errors) {
    if (error.path.empty() || error.path[0] != '$' || error.message.empty()) Violation();
    // Paths and messages go into JSON answers, so they must serialise with the strict handler.
    (void)nlohmann::json(error.path).dump();
    (void)nlohmann::json(error.message).dump();
  }
  if (const auto& report = result.report) {
    if (report->body.contains("vendor_handle")) Violation();
    if (report->body.dump().size() > sentinel::reports::kMaxReportBytes) Violation();
    if (report->date > today || report->country.size() != 2) Violation();
    for (const auto& s : report->substances) {
      if (s.name.empty() && s.smiles.empty() && s.inchi.empty() && s.spectrum.empty()) Violation();
    }
  }
  return 0;
}
