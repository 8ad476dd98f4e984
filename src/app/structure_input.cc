#include "app/structure_input.h"

#include <cstdio>
#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/csv.h"
#include "core/common/text.h"

namespace sentinel::app {

struct StructureSource {
  std::string name;  // for "where": the file name, or "stdin"
  std::string kind;  // "lines", "sdf" or "csv"; empty until stdin's first lines tell
  std::unique_ptr<std::ifstream> file;
  std::istream* in = nullptr;
  std::size_t line_no = 0;  // lines taken so far
  std::size_t records = 0;  // records made so far
  bool finished = false;
  std::deque<std::pair<std::string, bool>> ahead;  // lines read to tell the kind (text, too long)
  // CSV: the header's columns.
  bool header_read = false;
  int smiles_column = -1;
  int name_column = -1;
  // SDF: the record being gathered, from line `block_line`.
  std::string block;
  std::size_t block_line = 0;
  bool block_too_long = false;
};

namespace {

// One line without its end ("\n" or "\r\n"); at most kMaxRecordBytes of it kept, the rest
// skipped and `too_long` set. False at the end of the stream.
bool ReadRawLine(std::istream& in, std::string* line, bool* too_long) {
  line->clear();
  *too_long = false;
  std::streambuf* buffer = in.rdbuf();
  bool any = false;
  for (int c = buffer->sbumpc(); c != EOF; c = buffer->sbumpc()) {
    any = true;
    if (c == '\n') break;
    if (line->size() < kMaxRecordBytes) {
      line->push_back(static_cast<char>(c));
    } else {
      *too_long = true;
    }
  }
  if (!line->empty() && line->back() == '\r') line->pop_back();
  return any;
}

bool NextLine(StructureSource& s, std::string* line, bool* too_long) {
  if (!s.ahead.empty()) {
    *line = std::move(s.ahead.front().first);
    *too_long = s.ahead.front().second;
    s.ahead.pop_front();
  } else if (!ReadRawLine(*s.in, line, too_long)) {
    return false;
  }
  ++s.line_no;
  return true;
}

// Stdin: SDF when a line of its first megabyte holds "M  END", else lines.
void TellKind(StructureSource& s) {
  std::size_t bytes = 0;
  std::string line;
  bool too_long = false;
  s.kind = "lines";
  while (bytes < kMaxRecordBytes && ReadRawLine(*s.in, &line, &too_long)) {
    bytes += line.size() + 1;
    const bool molfile = line.find("M  END") != std::string::npos;
    s.ahead.emplace_back(std::move(line), too_long);
    if (molfile) {
      s.kind = "sdf";
      break;
    }
  }
}

std::string Shortened(const std::string& text) {
  return text.size() <= 80 ? text : text.substr(0, 80) + "...";
}

void ReadLines(StructureSource& s, std::size_t until, std::vector<StructureRecord>* out) {
  std::string line;
  bool too_long = false;
  while (out->size() < until) {
    if (!NextLine(s, &line, &too_long)) {
      s.finished = true;
      return;
    }
    std::string text = Trim(line);
    if (!too_long && (text.empty() || text[0] == '#')) continue;
    StructureRecord r;
    r.where = s.name + ":" + std::to_string(s.line_no);
    if (too_long) {
      r.input = Shortened(text);
      r.error = "line larger than the size limit";
    } else {
      r.input = text;
      r.text = std::move(text);
    }
    ++s.records;
    out->push_back(std::move(r));
  }
}

void ReadCsv(StructureSource& s, std::size_t until, std::vector<StructureRecord>* out) {
  std::string line;
  bool too_long = false;
  if (!s.header_read) {
    if (!NextLine(s, &line, &too_long)) {
      s.finished = true;
      return;
    }
    s.header_read = true;
    const auto header = CsvFields(line);
    for (std::size_t i = 0; i < header.size(); ++i) {
      const std::string h = AsciiLower(Trim(header[i]));
      if (h == "smiles") s.smiles_column = static_cast<int>(i);
      if ((h == "name" || h == "id") && s.name_column < 0) s.name_column = static_cast<int>(i);
    }
    if (s.smiles_column < 0) {
      StructureRecord r;
      r.where = s.name + ":1";
      r.input = s.name;
      r.error = "CSV header has no 'smiles' column";
      out->push_back(std::move(r));
      s.finished = true;
      return;
    }
  }
  const auto smiles = static_cast<std::size_t>(s.smiles_column);
  while (out->size() < until) {
    if (!NextLine(s, &line, &too_long)) {
      s.finished = true;
      return;
    }
    if (!too_long && Trim(line).empty()) continue;
    StructureRecord r;
    r.where = s.name + ":" + std::to_string(s.line_no);
    const auto f = too_long ? std::vector<std::string>{} : CsvFields(line);
    if (too_long) {
      r.input = Shortened(line);
      r.error = "row larger than the size limit";
    } else if (f.size() <= smiles) {
      r.input = line;
      r.error = "field smiles: missing (row has " + std::to_string(f.size()) + " fields)";
    } else {
      r.text = Trim(f[smiles]);
      const bool named = s.name_column >= 0 && f.size() > static_cast<std::size_t>(s.name_column) &&
                         !Trim(f[static_cast<std::size_t>(s.name_column)]).empty();
      r.input = named ? Trim(f[static_cast<std::size_t>(s.name_column)]) : r.text;
    }
    ++s.records;
    out->push_back(std::move(r));
  }
}

// The gathered SDF record, if it holds anything: its molfile (up to "M  END"), titled by its
// first line.
void FinishSdfRecord(StructureSource& s, std::vector<StructureRecord>* out) {
  if (s.block.find_first_not_of(" \t\r\n") != std::string::npos || s.block_too_long) {
    StructureRecord r;
    const std::size_t end = s.block.find("M  END");
    std::string mol = end == std::string::npos ? s.block : s.block.substr(0, end + 6);
    const std::size_t first = mol.find_first_not_of("\r\n");
    mol.erase(0, first == std::string::npos ? mol.size() : first);
    r.molfile = true;
    r.where = s.name + ":" + std::to_string(s.block_line);
    const std::string title = Trim(mol.substr(0, mol.find('\n')));
    ++s.records;
    r.input = title.empty() ? s.name + " record " + std::to_string(s.records) : title;
    if (s.block_too_long) {
      r.error = "record larger than the size limit";
    } else {
      r.text = std::move(mol);
    }
    out->push_back(std::move(r));
  }
  s.block.clear();
  s.block_too_long = false;
  s.block_line = 0;
}

void ReadSdf(StructureSource& s, std::size_t until, std::vector<StructureRecord>* out) {
  std::string line;
  bool too_long = false;
  while (out->size() < until) {
    const bool got = NextLine(s, &line, &too_long);
    if (!got || line.rfind("$$$$", 0) == 0) {
      FinishSdfRecord(s, out);
      if (!got) {
        s.finished = true;
        return;
      }
      continue;
    }
    if (s.block_line == 0) s.block_line = s.line_no;
    if (too_long || s.block.size() + line.size() + 1 > kMaxRecordBytes) {
      s.block_too_long = true;
    } else if (!s.block_too_long) {
      s.block += line;
      s.block += '\n';
    }
  }
}

void ReadFrom(StructureSource& s, std::size_t until, std::vector<StructureRecord>* out) {
  if (s.kind.empty()) TellKind(s);
  if (s.kind == "sdf") {
    ReadSdf(s, until, out);
  } else if (s.kind == "csv") {
    ReadCsv(s, until, out);
  } else {
    ReadLines(s, until, out);
  }
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && AsciiLower(s.substr(s.size() - suffix.size())) == suffix;
}

bool NamesFile(const std::string& arg) {
  std::error_code ec;
  return arg.size() < 4096 && std::filesystem::is_regular_file(arg, ec);
}

}  // namespace

StructureReader::StructureReader(std::vector<std::string> args, std::istream& stdin_stream)
    : args_(std::move(args)), stdin_(stdin_stream) {
  if (args_.empty()) args_.emplace_back("-");
}

StructureReader::~StructureReader() = default;

Status StructureReader::CheckFiles() const {
  for (const std::string& a : args_) {
    if (a != "-" && NamesFile(a) && !std::ifstream(a, std::ios::binary)) {
      return Status::IoError(a + ": cannot open");
    }
  }
  return Status::Ok();
}

bool StructureReader::done() const { return done_; }

Status StructureReader::Read(std::size_t max, std::vector<StructureRecord>* out) {
  const std::size_t until = out->size() + max;
  while (out->size() < until) {
    if (!source_) {
      if (next_arg_ == args_.size()) {
        done_ = true;
        return Status::Ok();
      }
      const std::string& a = args_[next_arg_++];
      if (a == "-") {
        source_ = std::make_unique<StructureSource>();
        source_->name = "stdin";
        source_->in = &stdin_;
      } else if (NamesFile(a)) {
        source_ = std::make_unique<StructureSource>();
        source_->name = a;
        source_->file = std::make_unique<std::ifstream>(a, std::ios::binary);
        if (!*source_->file) return Status::IoError(a + ": cannot open");
        source_->in = source_->file.get();
        source_->kind = EndsWith(a, ".sdf") || EndsWith(a, ".mol") ? "sdf"
                        : EndsWith(a, ".csv")                      ? "csv"
                                                                   : "lines";
      } else {
        StructureRecord r;
        r.where = "argument " + std::to_string(next_arg_);
        r.molfile = a.find("M  END") != std::string::npos;
        if (a.size() > kMaxRecordBytes) {
          r.input = Shortened(a);
          r.error = "argument larger than the size limit";
        } else {
          r.input = a;
          r.text = a;
        }
        out->push_back(std::move(r));
        continue;
      }
    }
    ReadFrom(*source_, until, out);
    if (source_->finished) source_.reset();
  }
  return Status::Ok();
}

std::vector<StructureRecord> ReadStructureText(const std::string& text, const std::string& name,
                                               const std::string& kind) {
  std::istringstream in(text);
  StructureSource s;
  s.name = name;
  s.kind = kind;
  s.in = &in;
  std::vector<StructureRecord> out;
  while (!s.finished) ReadFrom(s, out.size() + 4096, &out);
  return out;
}

}  // namespace sentinel::app
