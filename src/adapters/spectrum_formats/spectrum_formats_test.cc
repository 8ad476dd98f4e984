// Parser tests that do not fit the case-file runner: the whole SWGDRUG library, file reading,
// size bounds (inputs too big to keep as case files), the error cap and format detection.

#include "adapters/spectrum_formats/spectrum_formats.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "adapters/spectrum_formats/parse_util.h"

namespace sentinel::formats {
namespace {

namespace fs = std::filesystem;

const std::string kSwgdrug = std::string(SENTINEL_SHARED_DIR) + "/spectra/swgdrug-3.4.msp";

// A scratch directory removed at the end of each test.
class TempDir {
 public:
  TempDir() {
    path_ =
        fs::temp_directory_path() / ("sentinel_formats_test_" + std::to_string(::getpid()) + "_" +
                                     testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string Write(const std::string& name, const std::string& content) const {
    const fs::path p = path_ / name;
    std::ofstream(p, std::ios::binary) << content;
    return p.string();
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

const spectra::SpectrumRecord* FindByName(const ParseOutcome& outcome, const std::string& name) {
  for (const auto& s : outcome.spectra) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

TEST(SwgdrugLibrary, ParsesEveryRecordWithoutError) {
  const Result<ParseOutcome> parsed = ReadSpectrumFile(kSwgdrug);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_EQ(parsed->spectra.size(), 2988u);
  ASSERT_TRUE(parsed->errors.empty()) << parsed->errors.front().ToString();
  for (std::size_t i = 0; i < parsed->spectra.size(); ++i) {
    ASSERT_EQ(parsed->spectra[i].record, i + 1);
    ASSERT_EQ(parsed->spectra[i].source, kSwgdrug);
  }

  // The first record, field by field, against the file.
  const spectra::SpectrumRecord& first = parsed->spectra.front();
  EXPECT_EQ(first.name, "Epiandrosterone");
  EXPECT_EQ(first.line, 1u);
  EXPECT_EQ(first.synonyms, (std::vector<std::string>{
                                "Isoandrosterone", "3.beta.-hydroxy-5.alpha.-Androstan-17-one"}));
  EXPECT_EQ(first.inchikey, "");
  EXPECT_EQ(first.formula, "C19H30O2");
  EXPECT_EQ(first.molecular_weight, 290.0);
  EXPECT_EQ(first.exact_mass, 290.22458);
  EXPECT_EQ(first.cas, "481298");
  EXPECT_EQ(first.id, "314");
  EXPECT_EQ(first.comment, "DEA SWL");
  EXPECT_FALSE(first.retention_index.has_value());
  ASSERT_EQ(first.peaks.size(), 211u);
  EXPECT_EQ(first.peaks.front().mz, 40);
  EXPECT_EQ(first.peaks.front().intensity, 42);
  EXPECT_EQ(first.peaks[57].mz, 107);  // the base peak, 58th pair in the file
  EXPECT_EQ(first.peaks[57].intensity, 999);
  EXPECT_EQ(first.peaks.back().mz, 293);
  EXPECT_EQ(first.peaks.back().intensity, 3);

  // CASNO 0 and a real InChIKey.
  EXPECT_EQ(parsed->spectra[1].cas, "");
  EXPECT_EQ(parsed->spectra[1].inchikey, "IRRZIWHEPWPPJF-WAYWQWQTSA-N");

  const spectra::SpectrumRecord* fentanyl = FindByName(*parsed, "Fentanyl");
  ASSERT_NE(fentanyl, nullptr);
  EXPECT_EQ(fentanyl->record, 1915u);
  EXPECT_EQ(fentanyl->line, 68786u);
  EXPECT_EQ(fentanyl->synonyms.size(), 6u);
  EXPECT_EQ(fentanyl->inchikey, "PJMPHNIQZUBGLI-UHFFFAOYSA-N");
  EXPECT_EQ(fentanyl->formula, "C22H28N2O");
  EXPECT_EQ(fentanyl->exact_mass, 336.220163);
  EXPECT_EQ(fentanyl->comment, "DEA SWL / SWGDRUG Monograph available");
  ASSERT_EQ(fentanyl->peaks.size(), 115u);
  EXPECT_EQ(fentanyl->peaks.front().mz, 38);
  EXPECT_EQ(fentanyl->peaks.back().mz, 334);
  const auto base = std::max_element(
      fentanyl->peaks.begin(), fentanyl->peaks.end(),
      [](const spectra::Peak& a, const spectra::Peak& b) { return a.intensity < b.intensity; });
  EXPECT_EQ(base->mz, 245);

  // The one record without ExactMass keeps it unset rather than zero.
  const spectra::SpectrumRecord* bk2cb = FindByName(*parsed, "bk-2C-B");
  ASSERT_NE(bk2cb, nullptr);
  EXPECT_FALSE(bk2cb->exact_mass.has_value());
}

TEST(ReadSpectrumFile, MissingFileIsIoErrorNamingThePath) {
  const Result<ParseOutcome> r = ReadSpectrumFile("/nonexistent/dir/query.msp");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kIoError);
  EXPECT_NE(r.status().message().find("/nonexistent/dir/query.msp"), std::string::npos)
      << r.status().message();
}

TEST(ReadSpectrumFile, DirectoryIsIoError) {
  TempDir dir;
  const Result<ParseOutcome> r = ReadSpectrumFile(dir.path().string());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kIoError);
  EXPECT_NE(r.status().message().find("directory"), std::string::npos);
}

TEST(ReadSpectrumFile, RefusesFilesAboveTheSizeLimit) {
  TempDir dir;
  const std::string path = dir.Write("huge.msp", "");
  // A sparse file: the size check must refuse it before reading a byte.
  fs::resize_file(path, kMaxInputBytes + 1);
  const Result<ParseOutcome> r = ReadSpectrumFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("2 GiB"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find(path), std::string::npos);
}

TEST(ReadSpectrumFile, UsesThePathAsSourceAndDetectsByExtension) {
  TempDir dir;
  const std::string path = dir.Write("cocaine.csv", "mz,intensity\n82,999\n182,980\n");
  const Result<ParseOutcome> r = ReadSpectrumFile(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->spectra.size(), 1u);
  EXPECT_EQ(r->spectra[0].name, "cocaine");
  EXPECT_EQ(r->spectra[0].source, path);
}

TEST(ReadSpectrumFile, DashReadsStandardInput) {
  TempDir dir;
  const std::string path = dir.Write("piped", "Name: From a pipe\nNum Peaks: 1\n91 999\n");
  ASSERT_NE(std::freopen(path.c_str(), "rb", stdin), nullptr);
  const Result<ParseOutcome> r = ReadSpectrumFile("-");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->spectra.size(), 1u);
  EXPECT_EQ(r->spectra[0].name, "From a pipe");
  EXPECT_EQ(r->spectra[0].source, "<stdin>");
}

std::string MspRecord(const std::string& name, std::size_t peaks, bool with_count = true) {
  std::string out = "Name: " + name + "\n";
  if (with_count) out += "Num Peaks: " + std::to_string(peaks) + "\n";
  for (std::size_t i = 0; i < peaks; ++i) out += std::to_string(i + 1) + " 1\n";
  return out + "\n";
}

TEST(Bounds, PeakCountLimit) {
  ParseOutcome at_limit = ParseMsp(MspRecord("Big", kMaxPeaksPerRecord), "big.msp");
  ASSERT_EQ(at_limit.spectra.size(), 1u);
  EXPECT_EQ(at_limit.spectra[0].peaks.size(), kMaxPeaksPerRecord);

  // Without a Num Peaks line the bound must still hold.
  ParseOutcome too_many = ParseMsp(
      MspRecord("Over", kMaxPeaksPerRecord + 1, /*with_count=*/false) + MspRecord("After", 1),
      "big.msp");
  ASSERT_EQ(too_many.errors.size(), 1u);
  EXPECT_NE(too_many.errors[0].message.find("more than 100000 peaks"), std::string::npos);
  EXPECT_EQ(too_many.errors[0].name, "Over");
  ASSERT_EQ(too_many.spectra.size(), 1u);
  EXPECT_EQ(too_many.spectra[0].name, "After");

  std::string text;
  for (std::size_t i = 0; i <= kMaxPeaksPerRecord; ++i) text += std::to_string(i + 1) + " 1\n";
  ParseOutcome peak_text = ParsePeakText(text, "big.txt");
  EXPECT_TRUE(peak_text.spectra.empty());
  ASSERT_EQ(peak_text.errors.size(), 1u);
  EXPECT_EQ(peak_text.errors[0].line, kMaxPeaksPerRecord + 1);
}

TEST(Bounds, NameLength) {
  const std::string longest(kMaxNameChars, 'x');
  EXPECT_EQ(ParseMsp(MspRecord(longest, 1), "n.msp").spectra.size(), 1u);
  // Counted in characters, not bytes: 1,000 Greek letters are 2,000 bytes and still fit.
  std::string greek;
  for (std::size_t i = 0; i < kMaxNameChars; ++i) greek += "\xCE\xB1";
  EXPECT_EQ(ParseMsp(MspRecord(greek, 1), "n.msp").spectra.size(), 1u);

  const ParseOutcome too_long =
      ParseMsp(MspRecord(longest + "x", 1) + MspRecord("Next", 1), "n.msp");
  ASSERT_EQ(too_long.errors.size(), 1u);
  EXPECT_EQ(too_long.errors[0].record, 1u);
  ASSERT_EQ(too_long.spectra.size(), 1u);
  EXPECT_EQ(too_long.spectra[0].name, "Next");

  const ParseOutcome jcamp =
      ParseJcamp("##TITLE=" + longest + "x\n##PEAK TABLE=(XY..XY)\n1,1\n##END=\n", "n.jdx");
  EXPECT_TRUE(jcamp.spectra.empty());
  EXPECT_EQ(jcamp.errors.size(), 1u);
}

TEST(Bounds, LineLength) {
  const std::string long_line = "Comment: " + std::string(kMaxLineBytes, 'c') + "\n";
  const std::string text =
      "Name: Long\n" + long_line + "Num Peaks: 1\n1 1\n\n" + MspRecord("Next", 1);
  const ParseOutcome outcome = ParseMsp(text, "l.msp");
  ASSERT_EQ(outcome.errors.size(), 1u);
  EXPECT_EQ(outcome.errors[0].line, 2u);
  EXPECT_NE(outcome.errors[0].message.find("longer than"), std::string::npos);
  ASSERT_EQ(outcome.spectra.size(), 1u);
  EXPECT_EQ(outcome.spectra[0].name, "Next");

  const ParseOutcome jcamp = ParseJcamp(
      "##TITLE=A\n##PEAK TABLE=(XY..XY)\n" + std::string(kMaxLineBytes + 1, '1') + "\n##END=\n",
      "l.jdx");
  EXPECT_TRUE(jcamp.spectra.empty());
  ASSERT_EQ(jcamp.errors.size(), 1u);
  EXPECT_EQ(jcamp.errors[0].line, 3u);
}

TEST(ErrorCap, ManyBadRecordsAreCountedNotListed) {
  std::string text;
  for (int i = 0; i < 1500; ++i) text += "Name: Bad\nNum Peaks: 1\n1 x\n\n";
  text += MspRecord("Good", 1);
  const ParseOutcome outcome = ParseMsp(text, "many.msp");
  ASSERT_EQ(outcome.errors.size(), kMaxErrors + 1);
  EXPECT_EQ(outcome.errors.back().message, "500 further errors not shown");
  EXPECT_EQ(outcome.errors[kMaxErrors - 1].record, kMaxErrors);
  ASSERT_EQ(outcome.spectra.size(), 1u);
  EXPECT_EQ(outcome.spectra[0].record, 1501u);
}

TEST(ParseErrorText, LeavesOutWhatIsUnknown) {
  EXPECT_EQ((ParseError{"query.msp", 3, 12, "Fentanyl", "peak line '45 x': bad"}).ToString(),
            "query.msp:12: record 3 (Fentanyl): peak line '45 x': bad");
  EXPECT_EQ((ParseError{"q.msp", 3, 12, "", "m"}).ToString(), "q.msp:12: record 3: m");
  EXPECT_EQ((ParseError{"q.msp", 0, 0, "", "input is empty"}).ToString(), "q.msp: input is empty");
  EXPECT_EQ((ParseError{"q.msp", 2, 0, "X", "m"}).ToString(), "q.msp: record 2 (X): m");
}

TEST(DetectFormat, ByExtensionThenContent) {
  EXPECT_EQ(DetectFormat("a.msp", ""), SpectrumFormat::kMsp);
  EXPECT_EQ(DetectFormat("dir.v2/A.MSP", "##TITLE=x"), SpectrumFormat::kMsp);
  EXPECT_EQ(DetectFormat("a.jdx", ""), SpectrumFormat::kJcamp);
  EXPECT_EQ(DetectFormat("a.dx", ""), SpectrumFormat::kJcamp);
  EXPECT_EQ(DetectFormat("a.JCAMP", ""), SpectrumFormat::kJcamp);
  EXPECT_EQ(DetectFormat("a.csv", "Name: x"), SpectrumFormat::kPeakText);
  EXPECT_EQ(DetectFormat("a.tsv", ""), SpectrumFormat::kPeakText);
  EXPECT_EQ(DetectFormat("a.txt", "Name: X\n"), SpectrumFormat::kMsp);
  EXPECT_EQ(DetectFormat("a.txt", "\n\n##TITLE=X\n"), SpectrumFormat::kJcamp);
  EXPECT_EQ(DetectFormat("a.txt", "words\nmore words\n"), SpectrumFormat::kPeakText);
  EXPECT_EQ(DetectFormat("<stdin>", "\xEF\xBB\xBFNAME: X\n"), SpectrumFormat::kMsp);
  EXPECT_EQ(DetectFormat("<stdin>", "# c\nmz intensity\n41 1\n"), SpectrumFormat::kPeakText);
  EXPECT_EQ(DetectFormat("<stdin>", "41\t1\n"), SpectrumFormat::kPeakText);
  EXPECT_EQ(DetectFormat("dir.msp/file", "words\n"), std::nullopt);
  EXPECT_EQ(DetectFormat("<stdin>", "Title: X\nName: Y\n"), std::nullopt);
  EXPECT_EQ(DetectFormat("<stdin>", ""), std::nullopt);
}

TEST(LineReader, AcceptsEveryLineEnding) {
  internal::LineReader reader(
      "\xEF\xBB\xBF"
      "a\r\nb\rc\n\nd");
  std::vector<std::string> lines;
  std::string_view line;
  while (reader.Next(&line)) lines.emplace_back(line);
  EXPECT_EQ(lines, (std::vector<std::string>{"a", "b", "c", "", "d"}));
  EXPECT_EQ(reader.line_number(), 5u);
}

TEST(CleanText, AlwaysYieldsValidUtf8WithoutControls) {
  EXPECT_EQ(internal::CleanText("  plain  "), "plain");
  EXPECT_EQ(internal::CleanText("caf\xE9"), "caf\xC3\xA9");    // Latin-1 e-acute
  EXPECT_EQ(internal::CleanText("x\x85y"), "x\xEF\xBF\xBDy");  // undefined in Latin-1
  EXPECT_EQ(internal::CleanText("\xED\xA0\x80"), "\xC3\xAD\xC2\xA0\xEF\xBF\xBD");  // surrogate
  EXPECT_EQ(internal::CleanText("a\xC2\x85"
                                "b\tc\x1B"),
            "a b c");                                                      // C1, tab, escape
  EXPECT_EQ(internal::CleanText("\xF0\x9F\x92\x8A"), "\xF0\x9F\x92\x8A");  // kept as is
}

TEST(ParseNumber, AcceptsDecimalFormsOnly) {
  double v = 0;
  EXPECT_EQ(internal::ParseNumber("123", &v), internal::NumberStatus::kOk);
  EXPECT_EQ(v, 123);
  EXPECT_EQ(internal::ParseNumber("+1.5e2", &v), internal::NumberStatus::kOk);
  EXPECT_EQ(v, 150);
  EXPECT_EQ(internal::ParseNumber("-0.25", &v), internal::NumberStatus::kOk);
  EXPECT_EQ(v, -0.25);
  EXPECT_EQ(internal::ParseNumber("9999999999999999999", &v), internal::NumberStatus::kOk);
  EXPECT_EQ(v, 1e19);
  EXPECT_EQ(internal::ParseNumber("0x10", &v), internal::NumberStatus::kNotNumber);
  EXPECT_EQ(internal::ParseNumber("1,5", &v), internal::NumberStatus::kNotNumber);
  EXPECT_EQ(internal::ParseNumber("+", &v), internal::NumberStatus::kNotNumber);
  EXPECT_EQ(internal::ParseNumber("++1", &v), internal::NumberStatus::kNotNumber);
  EXPECT_EQ(internal::ParseNumber("", &v), internal::NumberStatus::kNotNumber);
  EXPECT_EQ(internal::ParseNumber("NaN", &v), internal::NumberStatus::kNotFinite);
  EXPECT_EQ(internal::ParseNumber("-infinity", &v), internal::NumberStatus::kNotFinite);
  EXPECT_EQ(internal::ParseNumber("1e400", &v), internal::NumberStatus::kOutOfRange);
}

}  // namespace
}  // namespace sentinel::formats
