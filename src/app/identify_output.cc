#include "app/identify_output.h"

#include <cmath>

#include <fmt/format.h>

namespace sentinel::app {
namespace {

using nlohmann::json;

json NullIfEmpty(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

// Scores are reported as NIST reports them: match factors as integers, similarities to
// three decimals; more digits would suggest a precision the spectra do not have.
double Round3(double v) { return std::round(v * 1000.0) / 1000.0; }

std::string Truncated(const std::string& s, std::size_t width) {
  if (s.size() <= width) return s;
  return s.substr(0, width - 3) + "...";
}

}  // namespace

json IdentificationToJson(const QueryInfo& query, const spectra::Identification& result) {
  json q = {{"name", query.name}, {"index", query.index}, {"source", query.source}};
  q["mass"] = result.query_mass ? json(*result.query_mass) : json(nullptr);
  q["mass_estimated"] = result.query_mass_estimated;
  json hits = json::array();
  for (std::size_t i = 0; i < result.hits.size(); ++i) {
    const spectra::Hit& h = result.hits[i];
    const spectra::LibraryEntry& e = h.library->entry(h.entry);
    hits.push_back({{"rank", i + 1},
                    {"name", e.name},
                    {"inchikey", NullIfEmpty(e.inchikey)},
                    {"library", h.library->label()},
                    {"id", e.id},
                    {"match_factor", std::lround(h.match_factor)},
                    {"reverse_match_factor", std::lround(h.reverse_match_factor)},
                    {"entropy_similarity", Round3(h.entropy_similarity)},
                    {"adjusted_score", std::lround(h.adjusted_score)},
                    {"laboratory", e.laboratory},
                    {"class", NullIfEmpty(e.compound_class)},
                    {"spectra", h.spectra_of_compound}});
  }
  json analogues = json::array();
  for (const spectra::AnalogueHit& a : result.analogues) {
    const spectra::LibraryEntry& e = a.library->entry(a.entry);
    analogues.push_back({{"name", e.name},
                         {"inchikey", NullIfEmpty(e.inchikey)},
                         {"library", a.library->label()},
                         {"id", e.id},
                         {"mass_difference", a.mass_difference},
                         {"hybrid_match_factor", std::lround(a.hybrid_match_factor)},
                         {"class", NullIfEmpty(e.compound_class)}});
  }
  return {{"query", q},
          {"verdict", spectra::VerdictName(result.verdict)},
          {"hits", hits},
          {"analogues", analogues},
          {"class", result.compound_class ? json(*result.compound_class) : json(nullptr)}};
}

std::string IdentificationToTable(const QueryInfo& query, const spectra::Identification& result) {
  std::string out;
  std::string verdict(spectra::VerdictName(result.verdict));
  for (char& c : verdict) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  out += fmt::format("Query {}: {}  [{}]\n", query.index + 1, query.name, query.source);
  out += fmt::format("  Verdict: {}", verdict);
  if (result.compound_class) out += fmt::format("  ({})", *result.compound_class);
  out += "\n";
  if (result.hits.empty()) {
    out += "  No library spectrum shares a peak with the query.\n";
  } else {
    out += fmt::format("  {:>4}  {:>4}  {:>4}  {:>7}  {:<44} {:<14} {}\n", "rank", "MF", "RMF",
                       "entropy", "name", "library", "id");
    for (std::size_t i = 0; i < result.hits.size(); ++i) {
      const spectra::Hit& h = result.hits[i];
      const spectra::LibraryEntry& e = h.library->entry(h.entry);
      out += fmt::format("  {:>4}  {:>4}  {:>4}  {:>7.3f}  {:<44} {:<14} {}\n", i + 1,
                         std::lround(h.match_factor), std::lround(h.reverse_match_factor),
                         h.entropy_similarity, Truncated(e.name, 44),
                         Truncated(h.library->label(), 14), e.id);
    }
    bool reordered = false;
    for (std::size_t i = 1; i < result.hits.size(); ++i) {
      reordered |= result.hits[i].rank_score > result.hits[i - 1].rank_score;
    }
    if (reordered) {
      out +=
          "  Near-equal hits are ordered with each laboratory's effect taken out: two spectra\n"
          "  from one laboratory compare better than spectra from two (docs/identification.md).\n";
    }
  }
  if (result.verdict != spectra::Verdict::kIdentified) {
    if (!result.query_mass) {
      out += "  Analogue search skipped: no molecular mass given or estimable.\n";
    } else {
      out += fmt::format("  Nearest library compounds (hybrid search, query mass {}{}):\n",
                         *result.query_mass, result.query_mass_estimated ? ", estimated" : "");
      out += fmt::format("  {:>6}  {:>6}  {:<44} {}\n", "dmass", "hybrid", "name", "class");
      for (const spectra::AnalogueHit& a : result.analogues) {
        const spectra::LibraryEntry& e = a.library->entry(a.entry);
        out += fmt::format("  {:>+6}  {:>6}  {:<44} {}\n", a.mass_difference,
                           std::lround(a.hybrid_match_factor), Truncated(e.name, 44),
                           e.compound_class.empty() ? "-" : e.compound_class);
      }
    }
  }
  return out;
}

}  // namespace sentinel::app
