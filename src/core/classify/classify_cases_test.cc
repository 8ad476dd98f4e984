// Runs every case table in test/cases/classify/*.tsv against the shipped knowledge base and
// rules (see test/cases/classify/README.md for the columns).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "app/classify_command.h"
#include "core/classify/resolve.h"

namespace sentinel::classify {
namespace {

namespace fs = std::filesystem;

const Classifier& Shared() {
  static const auto loaded = app::LoadClassifier(SENTINEL_DATA_DIR);
  if (!loaded.ok()) {
    ADD_FAILURE() << loaded.status().ToString();
    std::abort();
  }
  return **loaded;
}

std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream ss(line);
  std::string cell;
  while (std::getline(ss, cell, '\t')) out.push_back(cell);
  return out;
}

TEST(ClassifyCases, EveryTableRowHolds) {
  const Classifier& classifier = Shared();
  int cases = 0;
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(SENTINEL_TEST_CASES_DIR) / "classify")) {
    if (e.path().extension() == ".tsv") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty());
  for (const auto& path : files) {
    std::ifstream in(path);
    std::string line;
    int number = 0;
    bool header = true;
    while (std::getline(in, line)) {
      ++number;
      if (line.empty() || line[0] == '#') continue;
      if (header) {
        header = false;
        continue;
      }
      const std::string where = path.filename().string() + ":" + std::to_string(number);
      const auto c = Cells(line);
      ASSERT_EQ(c.size(), 8U) << where << ": want 8 cells";
      ClassifyOptions options;
      options.jurisdictions = {c[1]};
      if (c[5] != "-") {
        std::stringstream ss(c[5]);
        std::string kv;
        while (std::getline(ss, kv, ',')) {
          const auto eq = kv.find('=');
          ASSERT_NE(eq, std::string::npos) << where;
          options.interpretation[kv.substr(0, eq)] = kv.substr(eq + 1);
        }
        ASSERT_TRUE(classifier.rules().CheckOptions(options.interpretation).ok()) << where;
      }
      if (c[6] != "-") {
        auto date = ParseDate(c[6]);
        ASSERT_TRUE(date.ok()) << where;
        options.as_of = *date;
      }
      auto structure = ResolveStructure(c[0], false, classifier.kb());
      ASSERT_TRUE(structure.ok()) << where << ": " << structure.status().ToString();
      const Classification result =
          classifier.Classify(*structure->mol, structure->smiles, options);
      ASSERT_EQ(result.jurisdictions.count(c[1]), 1U) << where;
      const Finding& f = result.jurisdictions.at(c[1]);
      std::string context = where + " (" + c[7] + "): " + f.explanation;
      for (const auto& n : f.notes) context += " | note: " + n;
      EXPECT_EQ(f.status, c[2]) << context;
      if (c[3] != "-") {
        EXPECT_EQ(f.basis, c[3]) << context;
      }
      if (c[4] != "-") {
        EXPECT_EQ(f.rule, c[4]) << context;
      }
      ++cases;
    }
  }
  RecordProperty("cases", cases);
  std::cout << "[ classify cases ] " << cases << " rows in " << files.size() << " tables\n";
}

}  // namespace
}  // namespace sentinel::classify
