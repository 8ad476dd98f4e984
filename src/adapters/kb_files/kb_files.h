// Reading the knowledge base and class rules from their plain-text files.
//
//   data/kb/lists/*.tsv        one list per file: '# key: value' header lines (jurisdiction,
//                              instrument, source, licence), then a TAB-separated table with
//                              the columns of kListColumns
//   data/kb/exceptions.tsv     stereoisomers expressly excepted from isomer clauses
//   data/rules/substituents.json   the substituent vocabulary
//   data/rules/*.rule.json     one class rule per file (JSON; // comments allowed)
//
// Errors name the file, line (or JSON path) and field. Sizes are bounded: a file larger than
// kMaxFileBytes is refused.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/classify/knowledge_base.h"
#include "core/classify/rule.h"
#include "core/common/status.h"

namespace sentinel::kb_files {

inline constexpr std::size_t kMaxFileBytes = 16 << 20;
inline constexpr const char* kListColumns[] = {"name",     "synonyms",  "cas",      "smiles",
                                               "formula",  "mono_mass", "schedule", "status",
                                               "in_force", "citation"};

Result<std::vector<classify::ListRow>> ParseList(std::string_view text, const std::string& name);
Result<std::vector<classify::IsomerException>> ParseExceptions(std::string_view text,
                                                               const std::string& name);
Result<std::vector<classify::SubstituentTypeSpec>> ParseVocabulary(std::string_view text,
                                                                   const std::string& name);
Result<classify::RuleSpec> ParseRule(std::string_view text, const std::string& name);

// Everything under a data directory: <dir>/kb/lists/*.tsv, <dir>/kb/exceptions.tsv,
// <dir>/rules/substituents.json and <dir>/rules/*.rule.json, in file-name order.
struct Sources {
  std::vector<classify::ListRow> rows;
  std::vector<classify::IsomerException> exceptions;
  std::vector<classify::SubstituentTypeSpec> vocabulary;
  std::vector<classify::RuleSpec> rules;
  std::vector<std::string> files;
};
Result<Sources> ReadDataDir(const std::string& dir);

}  // namespace sentinel::kb_files
