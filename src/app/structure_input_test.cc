#include "app/structure_input.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace sentinel::app {
namespace {

std::vector<StructureRecord> ReadAll(StructureReader& reader, std::size_t chunk) {
  std::vector<StructureRecord> all;
  while (!reader.done()) {
    const std::size_t before = all.size();
    EXPECT_TRUE(reader.Read(chunk, &all).ok());
    EXPECT_LE(all.size() - before, chunk);
  }
  return all;
}

TEST(StructureInput, LinesSkipCommentsAndBlanksAndSayWhere) {
  const auto r =
      ReadStructureText("# header\r\nCCO\r\n\n  c1ccccc1  \nfentanyl", "in.smi", "lines");
  ASSERT_EQ(r.size(), 3U);
  EXPECT_EQ(r[0].text, "CCO");
  EXPECT_EQ(r[0].where, "in.smi:2");
  EXPECT_EQ(r[1].text, "c1ccccc1");
  EXPECT_EQ(r[1].where, "in.smi:4");
  EXPECT_EQ(r[2].input, "fentanyl");  // no final newline
  EXPECT_EQ(r[2].where, "in.smi:5");
}

TEST(StructureInput, CsvNamesRowsAndReportsMissingFields) {
  const auto r = ReadStructureText("id,SMILES\ns1,CCO\n\ns2\n,CCN\n", "in.csv", "csv");
  ASSERT_EQ(r.size(), 3U);
  EXPECT_EQ(r[0].input, "s1");
  EXPECT_EQ(r[0].text, "CCO");
  EXPECT_EQ(r[0].where, "in.csv:2");
  EXPECT_NE(r[1].error.find("field smiles: missing"), std::string::npos);
  EXPECT_EQ(r[1].where, "in.csv:4");
  EXPECT_EQ(r[2].input, "CCN");  // no name: the SMILES itself
  const auto none = ReadStructureText("name,formula\nx,C2H6O\n", "in.csv", "csv");
  ASSERT_EQ(none.size(), 1U);
  EXPECT_EQ(none[0].error, "CSV header has no 'smiles' column");
}

TEST(StructureInput, SdfRecordsEndAtDollarsAndKeepTheirTitles) {
  const std::string mol =
      "ethanol\n     RDKit          2D\n\n  3  2  0  0  0  0  0  0  0  0999 V2000\n"
      "    0.0000    0.0000    0.0000 C   0  0\n    1.2990    0.7500    0.0000 C   0  0\n"
      "    2.5981   -0.0000    0.0000 O   0  0\n  1  2  1  0\n  2  3  1  0\nM  END\n";
  const auto r = ReadStructureText(mol + "> <ID>\nx\n\n$$$$\n" + mol + "$$$$\n\n", "in.sdf", "sdf");
  ASSERT_EQ(r.size(), 2U);
  EXPECT_TRUE(r[0].molfile);
  EXPECT_EQ(r[0].input, "ethanol");
  EXPECT_EQ(r[0].where, "in.sdf:1");
  EXPECT_EQ(r[0].text, mol.substr(0, mol.size() - 1));  // up to "M  END"; data items dropped
  EXPECT_EQ(r[1].where, "in.sdf:15");
  EXPECT_EQ(r[1].text, r[0].text);
}

TEST(StructureInput, OverlongLineIsAnErrorAndReadingGoesOn) {
  const std::string text = "CCO\n" + std::string(kMaxRecordBytes + 10, 'C') + "\nCCN\n";
  const auto r = ReadStructureText(text, "in.smi", "lines");
  ASSERT_EQ(r.size(), 3U);
  EXPECT_EQ(r[1].error, "line larger than the size limit");
  EXPECT_TRUE(r[1].text.empty());
  EXPECT_LT(r[1].input.size(), 100U);
  EXPECT_EQ(r[2].text, "CCN");
  EXPECT_EQ(r[2].where, "in.smi:3");
}

// Chunks of any size give the records of reading everything at once, in argument order.
TEST(StructureInput, ChunkedReadingOverArgumentsFilesAndStdin) {
  const auto dir = std::filesystem::temp_directory_path() / "sentinel_structure_input_test";
  std::filesystem::create_directories(dir);
  const std::string file = (dir / "in.smi").string();
  std::ofstream(file) << "C1\nC2\n# note\nC3\nC4\nC5\n";
  for (std::size_t chunk : {1, 2, 3, 100}) {
    std::istringstream stdin_text("N1\nN2\n");
    StructureReader reader({"CCO", file, "-", "CCC"}, stdin_text);
    ASSERT_TRUE(reader.CheckFiles().ok());
    const auto all = ReadAll(reader, chunk);
    std::vector<std::string> texts;
    for (const auto& r : all) texts.push_back(r.text);
    EXPECT_EQ(texts,
              (std::vector<std::string>{"CCO", "C1", "C2", "C3", "C4", "C5", "N1", "N2", "CCC"}))
        << "chunk " << chunk;
    EXPECT_EQ(all[0].where, "argument 1");
    EXPECT_EQ(all[3].where, file + ":4");
    EXPECT_EQ(all[7].where, "stdin:2");
    EXPECT_EQ(all[8].where, "argument 4");
  }
  std::filesystem::remove_all(dir);
}

std::vector<StructureRecord> FromStdin(const std::string& text) {
  std::istringstream in(text);
  StructureReader reader({}, in);
  return ReadAll(reader, 10);
}

TEST(StructureInput, StdinIsReadAsSdfWhenItHoldsAMolfile) {
  const auto sdf = FromStdin("title\n\n\n  0  0  0  0  0  0  0  0  0  0999 V2000\nM  END\n$$$$\n");
  ASSERT_EQ(sdf.size(), 1U);
  EXPECT_TRUE(sdf[0].molfile);
  EXPECT_EQ(sdf[0].input, "title");
  EXPECT_EQ(sdf[0].where, "stdin:1");
  const auto lines = FromStdin("CCO\n");
  ASSERT_EQ(lines.size(), 1U);
  EXPECT_FALSE(lines[0].molfile);
  EXPECT_EQ(lines[0].where, "stdin:1");
}

}  // namespace
}  // namespace sentinel::app
