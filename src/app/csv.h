// CSV as Sentinel reads it: one record per line, comma-separated, fields optionally in double
// quotes with "" for a quote inside (RFC 4180 without line breaks inside fields).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/status.h"
#include "core/common/text.h"

namespace sentinel::app {

inline std::vector<std::string> CsvFields(std::string_view line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
}

// Calls `row(line_number, cells)` for every line of `text` that is not blank (nor, with
// `comments`, starting with '#'), its cells trimmed; stops at the first error `row` returns and
// returns it.
template <typename Row>
Status ForEachCsvLine(std::string_view text, bool comments, const Row& row) {
  std::size_t line_number = 0;
  for (std::size_t pos = 0; pos < text.size();) {
    auto eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (comments && line[0] == '#') continue;
    std::vector<std::string> cells = CsvFields(line);
    for (auto& cell : cells) cell = Trim(cell);
    if (Status s = row(line_number, cells); !s.ok()) return s;
  }
  return Status::Ok();
}

// A field as CSV writes it: quoted when it holds a comma, quote or line break.
inline std::string CsvQuoted(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace sentinel::app
