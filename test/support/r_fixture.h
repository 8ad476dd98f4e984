// R reference results as scripts/r/farrington_fixtures.R and cusum_fixtures.R write them: a
// "# " line of key=value parameters, a header line, then one row per step: series, time,
// observed and R's result columns, kept as R wrote them ("" where R says nothing). Rows whose
// cell count differs from the header's are skipped.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "core/detect/detection.h"

namespace sentinel::test {

struct RFixture {
  std::string name;
  std::map<std::string, std::string> params;
  detect::CountSeries series;
  std::map<std::string, std::vector<std::string>> results;  // by column name
};

inline std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, ',')) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

inline RFixture ReadRFixture(const std::filesystem::path& path) {
  RFixture f;
  f.name = path.filename().string();
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  std::stringstream head(line.substr(2));
  std::string word;
  while (head >> word) {
    const auto eq = word.find('=');
    if (eq != std::string::npos) f.params[word.substr(0, eq)] = word.substr(eq + 1);
  }
  std::getline(in, line);
  const std::vector<std::string> columns = SplitCsvLine(line);
  while (std::getline(in, line)) {
    const auto cells = SplitCsvLine(line);
    if (cells.size() != columns.size() || cells.size() < 3) continue;
    f.series.time.push_back(std::stoll(cells[1]));
    f.series.observed.push_back(std::stod(cells[2]));
    for (std::size_t c = 3; c < cells.size(); ++c) f.results[columns[c]].push_back(cells[c]);
  }
  f.series.frequency = std::stoi(f.params.at("freq"));
  return f;
}

}  // namespace sentinel::test
