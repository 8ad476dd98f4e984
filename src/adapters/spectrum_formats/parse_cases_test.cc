// Data-driven parser tests: every file under test/cases/parse/<format>/ is an input, parsed
// with ParseSpectra under its own file name, and its dump must equal <case>.expected.
//
// Dump format (one line each, spectra first, then errors, both in input order):
//   spectrum <record> line <line>: name=<...> | synonyms=<a>; <b> | inchikey=... | formula=...
//       | mw=... | exact_mass=... | cas=... | id=... | comment=... | ri=...
//       | peaks=<n>: <mz> <int>, ... (all when at most 8, else the first 6, "...", the last)
//   error: <ParseError::ToString()>
// Empty fields are left out. Lines of the .expected file starting with '#' describe the case
// and are not compared. Run with SENTINEL_UPDATE_CASES=1 to rewrite the .expected files from
// the current output (keeping their '#' lines); review the diff before trusting it.

#include <gtest/gtest.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "adapters/spectrum_formats/spectrum_formats.h"

namespace sentinel::formats {
namespace {

namespace fs = std::filesystem;

const fs::path& CasesRoot() {
  static const fs::path root = fs::path(SENTINEL_TEST_CASES_DIR) / "parse";
  return root;
}

std::vector<std::string> ListCases() {
  std::vector<std::string> cases;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(CasesRoot(), ec), end; !ec && it != end;
       it.increment(ec)) {
    if (!it->is_regular_file()) continue;
    const fs::path& p = it->path();
    if (p.extension() == ".expected" || p.filename().string().front() == '.') continue;
    cases.push_back(fs::relative(p, CasesRoot()).generic_string());
  }
  std::sort(cases.begin(), cases.end());
  return cases;
}

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

std::string Num(double v) {
  char buf[64];
  const auto result = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, result.ptr);
}

std::string Peak(const spectra::Peak& p) { return Num(p.mz) + " " + Num(p.intensity); }

std::string DumpSpectrum(const spectra::SpectrumRecord& s) {
  std::string out = "spectrum " + std::to_string(s.record) + " line " + std::to_string(s.line) +
                    ": name=" + s.name;
  auto text = [&out](const char* label, const std::string& value) {
    if (!value.empty()) out += std::string(" | ") + label + "=" + value;
  };
  auto number = [&out](const char* label, const std::optional<double>& value) {
    if (value) out += std::string(" | ") + label + "=" + Num(*value);
  };
  std::string synonyms;
  for (const std::string& synonym : s.synonyms) {
    if (!synonyms.empty()) synonyms += "; ";
    synonyms += synonym;
  }
  text("synonyms", synonyms);
  text("inchikey", s.inchikey);
  text("formula", s.formula);
  number("mw", s.molecular_weight);
  number("exact_mass", s.exact_mass);
  text("cas", s.cas);
  text("id", s.id);
  text("comment", s.comment);
  number("ri", s.retention_index);
  out += " | peaks=" + std::to_string(s.peaks.size()) + ":";
  const std::size_t n = s.peaks.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (n > 8 && i == 6) {
      out += " ...,";
      i = n - 1;
    }
    out += " " + Peak(s.peaks[i]) + (i + 1 < n ? "," : "");
  }
  return out;
}

std::vector<std::string> Dump(const ParseOutcome& outcome) {
  std::vector<std::string> lines;
  for (const auto& s : outcome.spectra) lines.push_back(DumpSpectrum(s));
  for (const auto& e : outcome.errors) lines.push_back("error: " + e.ToString());
  return lines;
}

struct ExpectedFile {
  std::vector<std::string> comments;  // kept when the file is rewritten
  std::vector<std::string> lines;
};

std::optional<ExpectedFile> ReadExpected(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  ExpectedFile expected;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    (line.front() == '#' ? expected.comments : expected.lines).push_back(line);
  }
  return expected;
}

std::string Join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line + "\n";
  return out;
}

class ParseCaseTest : public testing::TestWithParam<std::string> {};

TEST_P(ParseCaseTest, MatchesExpected) {
  const fs::path input = CasesRoot() / GetParam();
  fs::path expected_path = input;
  expected_path.replace_extension(".expected");
  const std::string source = input.filename().string();

  const std::string text = ReadBytes(input);
  const ParseOutcome outcome = ParseSpectra(text, source);
  const std::vector<std::string> actual = Dump(outcome);

  // Invariants every outcome must keep, whatever the case says.
  for (const auto& s : outcome.spectra) {
    EXPECT_EQ(s.source, source);
    EXPECT_FALSE(s.name.empty());
    EXPECT_FALSE(s.peaks.empty());
  }
  for (const auto& e : outcome.errors) EXPECT_EQ(e.source, source);
  EXPECT_FALSE(outcome.spectra.empty() && outcome.errors.empty());

  // Parsing must not depend on how the caller reads the file.
  const Result<ParseOutcome> via_file = ReadSpectrumFile(input.string());
  ASSERT_TRUE(via_file.ok()) << via_file.status().ToString();
  EXPECT_EQ(via_file->spectra.size(), outcome.spectra.size());
  EXPECT_EQ(via_file->errors.size(), outcome.errors.size());

  std::optional<ExpectedFile> expected = ReadExpected(expected_path);
  const char* update = std::getenv("SENTINEL_UPDATE_CASES");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream out(expected_path, std::ios::binary | std::ios::trunc);
    out << Join(expected ? expected->comments : std::vector<std::string>{}) << Join(actual);
    return;
  }
  ASSERT_TRUE(expected.has_value())
      << "missing " << expected_path << " (run with SENTINEL_UPDATE_CASES=1 to create it)";
  EXPECT_FALSE(expected->comments.empty())
      << expected_path << " should say in a '#' line what the case is about";
  EXPECT_EQ(Join(actual), Join(expected->lines)) << "case " << GetParam();
}

std::string CaseTestName(const testing::TestParamInfo<std::string>& info) {
  std::string name;
  for (char c : info.param) {
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    name.push_back(alnum ? c : '_');
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(Cases, ParseCaseTest, testing::ValuesIn(ListCases()), CaseTestName);

TEST(ParseCases, EveryFormatHasCases) {
  const std::vector<std::string> cases = ListCases();
  for (const char* folder : {"msp/", "jcamp/", "text/", "detect/"}) {
    const auto n = std::count_if(cases.begin(), cases.end(), [folder](const std::string& c) {
      return c.rfind(folder, 0) == 0;
    });
    EXPECT_GE(n, 3) << "too few cases under test/cases/parse/" << folder;
  }
}

TEST(ParseCases, NoExpectedFileWithoutInput) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(CasesRoot(), ec), end; !ec && it != end;
       it.increment(ec)) {
    if (it->path().extension() != ".expected") continue;
    bool has_input = false;
    for (const auto& sibling : fs::directory_iterator(it->path().parent_path())) {
      has_input |=
          sibling.path().stem() == it->path().stem() && sibling.path().extension() != ".expected";
    }
    EXPECT_TRUE(has_input) << it->path() << " has no input file beside it";
  }
}

}  // namespace
}  // namespace sentinel::formats
