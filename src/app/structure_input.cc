#include "app/structure_input.h"

#include "app/csv.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/common/text.h"

namespace sentinel::app {
namespace {

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out = Split(text, '\n');
  if (!out.empty() && out.back().empty()) out.pop_back();  // the final newline ends a line
  for (auto& line : out) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
  }
  return out;
}

std::vector<StructureRecord> ReadSdf(const std::string& text, const std::string& name) {
  std::vector<StructureRecord> out;
  std::size_t start = 0;
  int line_no = 1;
  while (start < text.size() && out.size() < kMaxRecords) {
    std::size_t end = text.find("$$$$", start);
    const std::size_t stop = end == std::string::npos ? text.size() : end;
    std::string block = text.substr(start, stop - start);
    if (block.find_first_not_of(" \t\r\n") != std::string::npos) {
      StructureRecord r;
      const std::size_t mend = block.find("M  END");
      std::string mol = mend == std::string::npos ? block : block.substr(0, mend + 6);
      while (!mol.empty() && (mol.front() == '\n' || mol.front() == '\r')) mol.erase(0, 1);
      r.text = mol;
      r.molfile = true;
      r.where = name + ":" + std::to_string(line_no);
      const std::string title = Trim(mol.substr(0, mol.find('\n')));
      r.input = title.empty() ? name + " record " + std::to_string(out.size() + 1) : title;
      if (r.text.size() > kMaxRecordBytes) r.error = "record larger than the size limit";
      out.push_back(std::move(r));
    }
    for (std::size_t i = start; i < std::min(text.size(), stop + 4); ++i) {
      if (text[i] == '\n') ++line_no;
    }
    if (end == std::string::npos) break;
    start = end + 4;
  }
  return out;
}

std::vector<StructureRecord> ReadCsv(const std::string& text, const std::string& name) {
  std::vector<StructureRecord> out;
  const auto lines = Lines(text);
  if (lines.empty()) return out;
  const auto header = CsvFields(lines[0]);
  int smiles_col = -1, name_col = -1;
  for (std::size_t i = 0; i < header.size(); ++i) {
    const std::string h = AsciiLower(Trim(header[i]));
    if (h == "smiles") smiles_col = static_cast<int>(i);
    if ((h == "name" || h == "id") && name_col < 0) name_col = static_cast<int>(i);
  }
  if (smiles_col < 0) {
    StructureRecord r;
    r.where = name + ":1";
    r.input = name;
    r.error = "CSV header has no 'smiles' column";
    out.push_back(std::move(r));
    return out;
  }
  for (std::size_t n = 1; n < lines.size() && out.size() < kMaxRecords; ++n) {
    if (Trim(lines[n]).empty()) continue;
    const auto f = CsvFields(lines[n]);
    StructureRecord r;
    r.where = name + ":" + std::to_string(n + 1);
    if (static_cast<int>(f.size()) <= smiles_col) {
      r.input = lines[n];
      r.error = "field smiles: missing (row has " + std::to_string(f.size()) + " fields)";
    } else {
      r.text = Trim(f[static_cast<std::size_t>(smiles_col)]);
      r.input = name_col >= 0 && static_cast<int>(f.size()) > name_col &&
                        !Trim(f[static_cast<std::size_t>(name_col)]).empty()
                    ? Trim(f[static_cast<std::size_t>(name_col)])
                    : r.text;
    }
    out.push_back(std::move(r));
  }
  return out;
}

std::vector<StructureRecord> ReadLines(const std::string& text, const std::string& name) {
  std::vector<StructureRecord> out;
  const auto lines = Lines(text);
  for (std::size_t n = 0; n < lines.size() && out.size() < kMaxRecords; ++n) {
    const std::string line = Trim(lines[n]);
    if (line.empty() || line[0] == '#') continue;
    StructureRecord r;
    r.where = name + ":" + std::to_string(n + 1);
    r.input = line;
    r.text = line;
    if (line.size() > kMaxRecordBytes) r.error = "line larger than the size limit";
    out.push_back(std::move(r));
  }
  return out;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && AsciiLower(s.substr(s.size() - suffix.size())) == suffix;
}

}  // namespace

std::vector<StructureRecord> ReadStructureText(const std::string& text, const std::string& name,
                                               const std::string& kind) {
  if (kind == "sdf") return ReadSdf(text, name);
  if (kind == "csv") return ReadCsv(text, name);
  return ReadLines(text, name);
}

Result<std::vector<StructureRecord>> ReadStructureArguments(const std::vector<std::string>& args,
                                                            std::istream& stdin_stream) {
  std::vector<StructureRecord> out;
  auto read_stream = [&](std::istream& in, const std::string& name, const std::string& kind) {
    std::ostringstream ss;
    ss << in.rdbuf();
    const std::string text = ss.str();
    std::string k = kind;
    if (k.empty()) {
      k = (text.find("M  END") != std::string::npos) ? "sdf" : "lines";
    }
    auto records = ReadStructureText(text, name, k);
    out.insert(out.end(), std::make_move_iterator(records.begin()),
               std::make_move_iterator(records.end()));
  };
  if (args.empty()) {
    read_stream(stdin_stream, "stdin", "");
    return out;
  }
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-") {
      read_stream(stdin_stream, "stdin", "");
      continue;
    }
    std::error_code ec;
    if (a.size() < 4096 && std::filesystem::is_regular_file(a, ec)) {
      std::ifstream in(a, std::ios::binary);
      if (!in) return Status::IoError(a + ": cannot open");
      const std::string kind = EndsWith(a, ".sdf") || EndsWith(a, ".mol") ? "sdf"
                               : EndsWith(a, ".csv")                      ? "csv"
                                                                          : "lines";
      read_stream(in, a, kind);
      continue;
    }
    StructureRecord r;
    r.input = a;
    r.text = a;
    r.molfile = a.find("M  END") != std::string::npos;
    r.where = "argument " + std::to_string(i + 1);
    if (a.size() > kMaxRecordBytes) r.error = "argument larger than the size limit";
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace sentinel::app
