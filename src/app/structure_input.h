// Reading structures to classify: command-line arguments, files (.smi, .sdf/.mol, .csv with a
// smiles column) and stdin, into records that keep where each came from.
#pragma once

#include <istream>
#include <string>
#include <vector>

#include "core/common/status.h"

namespace sentinel::app {

struct StructureRecord {
  std::string input;  // what the user gave (a SMILES, name, CAS, InChI, or a record label)
  std::string text;   // the structure text to parse (same as input unless a file gave a label)
  bool molfile = false;
  std::string where;  // "file:line" or "argument 2", for errors
  std::string error;  // set when the record itself could not be read
};

// Bounds: one record's text and the number of records read from one source.
inline constexpr std::size_t kMaxRecordBytes = 1 << 20;
inline constexpr std::size_t kMaxRecords = 10'000'000;

// An argument that names an existing file is read as a file; "-" is stdin; anything else is
// one structure. Files: .sdf/.mol (molfile records), .csv (a 'smiles' column, optional 'name'
// or 'id'), anything else line by line ("STRUCTURE [label]"; '#' comments).
Result<std::vector<StructureRecord>> ReadStructureArguments(const std::vector<std::string>& args,
                                                            std::istream& stdin_stream);
std::vector<StructureRecord> ReadStructureText(const std::string& text, const std::string& name,
                                               const std::string& kind);

}  // namespace sentinel::app
