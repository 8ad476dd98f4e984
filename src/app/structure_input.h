// Reading structures to classify: command-line arguments, files (.smi, .sdf/.mol, .csv with a
// smiles column) and stdin, into records that keep where each came from.
//
// Records are read a chunk at a time, so a batch of any length is classified in bounded
// memory. A line or record longer than kMaxRecordBytes is not kept whole: it becomes a record
// with an error, and reading goes on after it.
#pragma once

#include <cstddef>
#include <istream>
#include <memory>
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

// Bound on one record's text (a line, a molfile, an argument).
inline constexpr std::size_t kMaxRecordBytes = 1 << 20;

struct StructureSource;  // one file or stream being read (structure_input.cc)

// An argument that names an existing file is read as a file; "-" is stdin; anything else is
// one structure. Files: .sdf/.mol (molfile records ending at "$$$$" lines), .csv (a 'smiles'
// column, optional 'name' or 'id'), anything else line by line ("STRUCTURE"; '#' comments).
// Stdin is read as SDF when a line of its first megabyte holds "M  END", else line by line.
class StructureReader {
 public:
  StructureReader(std::vector<std::string> args, std::istream& stdin_stream);
  ~StructureReader();
  StructureReader(const StructureReader&) = delete;
  StructureReader& operator=(const StructureReader&) = delete;

  // Whether every argument that names a file can be opened; checked before anything is read,
  // so an unreadable file stops the run before any output.
  Status CheckFiles() const;
  // Appends up to `max` (> 0) records to `out`, in input order.
  Status Read(std::size_t max, std::vector<StructureRecord>* out);
  // True once every argument has been read to its end.
  bool done() const;

 private:
  std::vector<std::string> args_;
  std::istream& stdin_;
  std::size_t next_arg_ = 0;
  std::unique_ptr<StructureSource> source_;  // the file or stream being read, if any
  bool done_ = false;
};

// Every record of `text` read as `kind` ("lines", "sdf" or "csv"); `name` says where.
std::vector<StructureRecord> ReadStructureText(const std::string& text, const std::string& name,
                                               const std::string& kind);

}  // namespace sentinel::app
