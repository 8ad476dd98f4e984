// The knowledge base: controlled substances with their names, structures and controls.
//
// Contract. Built from list rows (one per substance per list, as read from data/kb/lists/*.tsv
// by the kb_files adapter). Rows whose standardised structures are identical merge into one
// Substance carrying every control. Lookups: by name, synonym or CAS (case-insensitive); by
// structure, exactly (stereo included) or as a stereoisomer of an entry (same skeleton). A
// built KnowledgeBase is immutable and safe to share between threads.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/chem/fingerprint.h"
#include "core/common/status.h"

namespace RDKit {
class ROMol;
}

namespace sentinel::classify {

using Date = std::chrono::year_month_day;
Result<Date> ParseDate(std::string_view text);  // YYYY-MM-DD
std::string FormatDate(const Date& date);

enum class ControlStatus { kControlled, kPrecursor };
std::string_view ToString(ControlStatus status);

struct Control {
  std::string jurisdiction;  // "UN", "US", "CN", "GB"
  std::string instrument;
  std::string schedule;
  ControlStatus status = ControlStatus::kControlled;
  Date in_force{};
  std::string citation;
  std::string listed_name;  // the name the list gives
  std::string list;         // the list's short title ("UN Single Convention 1961")

  bool InForceOn(const Date& date) const { return in_force <= date; }
};

struct ListRow {
  std::string where;  // "file:line", for errors
  std::string name;
  std::vector<std::string> synonyms;
  std::string cas;
  std::string smiles;
  std::string formula;
  double mono_mass = 0;
  Control control;
};

struct Substance {
  std::string name;
  std::vector<std::string> synonyms;
  std::string cas;
  std::string smiles;    // standardised, canonical, isomeric
  std::string skeleton;  // the same without stereo
  std::string formula;
  double mono_mass = 0;
  std::vector<Control> controls;
  std::shared_ptr<const RDKit::ROMol> mol;
  chem::Fingerprint fingerprint;
  std::vector<std::string> rows;  // where it came from ("file:line")
};

// A stereoisomer an instrument expressly leaves out of its isomer clause (dextromethorphan is
// not controlled by the 1961 Convention although levomethorphan is).
struct IsomerException {
  std::string jurisdiction;
  std::string name;
  std::string smiles;  // exact, with stereo
  std::string citation;
};

class KnowledgeBase {
 public:
  // Fails on the first row whose SMILES does not parse, naming the row.
  static Result<KnowledgeBase> Build(const std::vector<ListRow>& rows,
                                     const std::vector<IsomerException>& exceptions);

  const std::vector<Substance>& substances() const { return substances_; }
  const Substance* FindByName(std::string_view name_or_cas) const;
  const Substance* FindExact(const std::string& smiles) const;
  // Entries with the same skeleton but other stereo (the query's stereoisomers).
  std::vector<const Substance*> FindStereoisomers(const std::string& skeleton,
                                                  const std::string& smiles) const;
  const IsomerException* FindException(std::string_view jurisdiction,
                                       const std::string& smiles) const;

  struct Neighbour {
    const Substance* substance;
    double similarity;
  };
  // The k most similar substances with Tanimoto >= threshold, best first.
  std::vector<Neighbour> Similar(const chem::Fingerprint& fp, double threshold,
                                 std::size_t k) const;

 private:
  std::vector<Substance> substances_;
  std::unordered_map<std::string, std::size_t> by_name_;
  std::unordered_map<std::string, std::size_t> by_smiles_;
  std::unordered_multimap<std::string, std::size_t> by_skeleton_;
  std::vector<IsomerException> exceptions_;
};

}  // namespace sentinel::classify
