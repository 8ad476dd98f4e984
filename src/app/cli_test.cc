// End-to-end tests of the `sentinel` binary: real processes, real files, the JSON contract.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

namespace {
namespace fs = std::filesystem;
using nlohmann::json;

struct ProcessResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("sentinel-cli-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  ProcessResult Sentinel(const std::string& args, const std::string& stdin_path = "/dev/null") {
    const fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    const std::string cmd = "SENTINEL_CACHE_DIR='" + (dir_ / "cache").string() + "' '" +
                            SENTINEL_BINARY + "' " + args + " >'" + out.string() + "' 2>'" +
                            err.string() + "' <'" + stdin_path + "'";
    const int status = std::system(cmd.c_str());
    ProcessResult r;
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = ReadFile(out);
    r.err = ReadFile(err);
    return r;
  }

  static std::vector<json> JsonLines(const std::string& text) {
    std::vector<json> out;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) out.push_back(json::parse(line));
    return out;
  }

  // The record of SWGDRUG whose Name: line is `name`, as MSP text.
  static std::string SwgdrugRecord(const std::string& name) {
    std::string lib = ReadFile(fs::path(SENTINEL_DATA_DIR) / "spectra" / "swgdrug-3.4.msp");
    std::erase(lib, '\r');  // the shipped file mixes CRLF and LF line ends
    const std::size_t start = lib.find("Name: " + name + "\n");
    EXPECT_NE(start, std::string::npos) << name;
    std::size_t end = lib.find("\n\n", start);
    if (end == std::string::npos) end = lib.size();
    return lib.substr(start, end - start) + "\n";
  }

  fs::path dir_;
};

void ExpectContract(const json& j) {
  ASSERT_TRUE(j.contains("query"));
  EXPECT_TRUE(j["query"]["name"].is_string());
  EXPECT_TRUE(j["query"]["index"].is_number_integer());
  ASSERT_TRUE(j["verdict"].is_string());
  const std::string v = j["verdict"];
  EXPECT_TRUE(v == "identified" || v == "analogue" || v == "unknown") << v;
  ASSERT_TRUE(j["hits"].is_array());
  int rank = 1;
  for (const json& h : j["hits"]) {
    EXPECT_EQ(h["rank"], rank++);
    EXPECT_TRUE(h["name"].is_string());
    EXPECT_TRUE(h["inchikey"].is_string() || h["inchikey"].is_null());
    EXPECT_TRUE(h["library"].is_string());
    EXPECT_TRUE(h["id"].is_string());
    EXPECT_GE(h["match_factor"].get<int>(), 0);
    EXPECT_LE(h["match_factor"].get<int>(), 999);
    EXPECT_GE(h["reverse_match_factor"].get<int>(), 0);
    EXPECT_LE(h["reverse_match_factor"].get<int>(), 999);
    EXPECT_GE(h["entropy_similarity"].get<double>(), 0.0);
    EXPECT_LE(h["entropy_similarity"].get<double>(), 1.0);
  }
  ASSERT_TRUE(j["analogues"].is_array());
  for (const json& a : j["analogues"]) {
    EXPECT_TRUE(a["name"].is_string());
    EXPECT_TRUE(a["inchikey"].is_string() || a["inchikey"].is_null());
    EXPECT_TRUE(a["mass_difference"].is_number_integer());
    EXPECT_TRUE(a["hybrid_match_factor"].is_number());
  }
  EXPECT_TRUE(j["class"].is_string() || j["class"].is_null());
}

TEST_F(CliTest, IdentifiesMspQueriesAndMeetsJsonContract) {
  WriteFile(dir_ / "q.msp", SwgdrugRecord("N-Ethylpentylone") + "\n" + SwgdrugRecord("Eutylone"));
  const ProcessResult r =
      Sentinel("identify --format json --top 3 '" + (dir_ / "q.msp").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  for (const json& j : lines) ExpectContract(j);
  EXPECT_EQ(lines[0]["query"]["index"], 0);
  EXPECT_EQ(lines[1]["query"]["index"], 1);
  EXPECT_EQ(lines[0]["verdict"], "identified");
  EXPECT_EQ(lines[0]["hits"][0]["name"], "N-Ethylpentylone");
  EXPECT_EQ(lines[0]["hits"][0]["match_factor"], 999);
  EXPECT_EQ(lines[0]["hits"][0]["library"], "swgdrug-3.4");
  EXPECT_LE(lines[0]["hits"].size(), 3u);
  EXPECT_EQ(lines[0]["class"], "synthetic cathinone");
  EXPECT_EQ(lines[1]["hits"][0]["name"], "Eutylone");
}

TEST_F(CliTest, ReadsJcampAndPlainText) {
  WriteFile(dir_ / "q.jdx",
            "##TITLE=unknown powder\n##JCAMP-DX=5.01\n##DATA TYPE=MASS SPECTRUM\n"
            "##NPOINTS=5\n##PEAK TABLE=(XY..XY)\n58,999 44,120 91,80 42,60 119,30\n##END=\n");
  WriteFile(dir_ / "q.txt", "# name: tablet 7\nm/z,intensity\n58,999\n44,120\n91,80\n42,60\n");
  const ProcessResult r = Sentinel("identify --format json '" + (dir_ / "q.jdx").string() + "' '" +
                                   (dir_ / "q.txt").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 2u);
  for (const json& j : lines) ExpectContract(j);
  EXPECT_EQ(lines[0]["query"]["name"], "unknown powder");
  EXPECT_EQ(lines[1]["query"]["name"], "tablet 7");
  EXPECT_FALSE(lines[0]["hits"].empty());
}

TEST_F(CliTest, BadRecordIsReportedAndOthersStillRun) {
  WriteFile(dir_ / "q.msp", SwgdrugRecord("Eutylone") +
                                "\nName: broken\nNum Peaks: 2\n41 100\n43 abc\n\n" +
                                SwgdrugRecord("N-Ethylpentylone"));
  const ProcessResult r = Sentinel("identify --format json '" + (dir_ / "q.msp").string() + "'");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(JsonLines(r.out).size(), 2u);
  EXPECT_NE(r.err.find("record 2"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("broken"), std::string::npos) << r.err;
}

TEST_F(CliTest, UnreadableInputExitsNonZero) {
  const ProcessResult r = Sentinel("identify '" + (dir_ / "missing.msp").string() + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("missing.msp"), std::string::npos) << r.err;
}

TEST_F(CliTest, HeldOutAnalogueGetsNeighboursAndClass) {
  // Carfentanil searched as if no library held it: lofentanil, its methyl ester homologue
  // 14 Da heavier, is the nearest compound.
  WriteFile(dir_ / "q.msp", SwgdrugRecord("Carfentanil"));
  const ProcessResult r =
      Sentinel("identify --format json --exclude Carfentanil '" + (dir_ / "q.msp").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  ExpectContract(lines[0]);
  for (const json& h : lines[0]["hits"]) EXPECT_NE(h["name"], "Carfentanil");
  EXPECT_EQ(lines[0]["verdict"], "analogue");
  ASSERT_FALSE(lines[0]["analogues"].empty());
  EXPECT_EQ(lines[0]["analogues"][0]["name"], "Lofentanil");
  EXPECT_EQ(lines[0]["analogues"][0]["mass_difference"], -14);
  EXPECT_EQ(lines[0]["class"], "fentanyl-related") << lines[0].dump(1);
}

TEST_F(CliTest, GivenMassDrivesTheAnalogueSearch) {
  // A JCAMP-DX spectrum without ##MW: the mass comes from --mass, not from the estimate.
  std::string record = SwgdrugRecord("Carfentanil");
  std::string jdx =
      "##TITLE=tablet\n##JCAMP-DX=5.01\n##DATA TYPE=MASS SPECTRUM\n##PEAK TABLE=(XY..XY)\n";
  std::istringstream in(record.substr(record.find("Num Peaks:")));
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    for (char& c : line) c = c == ';' ? '\n' : c;
    jdx += line + "\n";
  }
  jdx += "##END=\n";
  WriteFile(dir_ / "q.jdx", jdx);
  const ProcessResult r = Sentinel("identify --format json --exclude Carfentanil --mass 394 '" +
                                   (dir_ / "q.jdx").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["query"]["mass"], 394);
  EXPECT_EQ(lines[0]["query"]["mass_estimated"], false);
  ASSERT_FALSE(lines[0]["analogues"].empty());
  EXPECT_EQ(lines[0]["analogues"][0]["name"], "Lofentanil");
}

TEST_F(CliTest, LibraryIndexBuildLoadStaleAndCorrupt) {
  WriteFile(dir_ / "lib.msp", SwgdrugRecord("Eutylone") + "\n" + SwgdrugRecord("N-Ethylpentylone"));
  const std::string index = (dir_ / "lib.sidx").string();
  ProcessResult r =
      Sentinel("library build -o '" + index + "' '" + (dir_ / "lib.msp").string() + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("2 spectra"), std::string::npos) << r.out;

  WriteFile(dir_ / "q.msp", SwgdrugRecord("Eutylone"));
  const std::string query = "'" + (dir_ / "q.msp").string() + "'";
  r = Sentinel("identify --format json --library '" + index + "' " + query);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(JsonLines(r.out)[0]["hits"][0]["library"], "lib");

  // Source changed after the build: detected and rebuilt, with a note.
  WriteFile(dir_ / "lib.msp", SwgdrugRecord("Eutylone"));
  r = Sentinel("identify --format json --library '" + index + "' " + query);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("stale"), std::string::npos) << r.err;
  r = Sentinel("library info '" + index + "'");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("spectra:   1"), std::string::npos) << r.out;

  // One flipped byte in the middle: rejected with a clear message, no crash.
  std::string bytes = ReadFile(index);
  bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x5a);
  WriteFile(index, bytes);
  r = Sentinel("identify --library '" + index + "' " + query);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("checksum"), std::string::npos) << r.err;
  // Truncated.
  WriteFile(index, bytes.substr(0, bytes.size() / 3));
  r = Sentinel("library info '" + index + "'");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
}

TEST_F(CliTest, DefaultLibraryIsCachedAndReused) {
  WriteFile(dir_ / "q.msp", SwgdrugRecord("Eutylone"));
  const std::string query = "'" + (dir_ / "q.msp").string() + "'";
  ProcessResult r = Sentinel("identify --library default " + query);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ASSERT_TRUE(fs::exists(dir_ / "cache"));
  std::size_t cached = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "cache"))
    cached += e.path().extension() == ".sidx";
  EXPECT_EQ(cached, 1u);
  // A damaged cache is rebuilt, not trusted and not fatal.
  for (const auto& e : fs::directory_iterator(dir_ / "cache")) WriteFile(e.path(), "garbage");
  r = Sentinel("identify " + query);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("rebuilding"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("Eutylone"), std::string::npos);
}

// ---- sentinel classify ----

TEST_F(CliTest, ClassifyMeetsJsonContractAndReportsBadRecords) {
  const auto r = Sentinel(
      "classify -f json fentanyl 'CC(C)C(=O)N(c1ccccc1)C1CCN(CCc2cccs2)CC1' 'C1CC(' "
      "'CCC(=O)N(c1ccccc1)C1(c2ccccc2)CCN(CCc2ccccc2)CC1'");
  EXPECT_EQ(r.exit_code, 1) << r.err;  // one record had an error; the others still ran
  const auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 4U) << r.out;
  for (const auto& j : lines) {
    for (const char* key : {"input", "smiles", "name", "jurisdictions", "analogue_of", "error"}) {
      EXPECT_TRUE(j.contains(key)) << key << " missing in " << j.dump();
    }
  }
  const json& fentanyl = lines[0];
  EXPECT_EQ(fentanyl["name"], "Fentanyl");
  EXPECT_TRUE(fentanyl["error"].is_null());
  for (const char* jur : {"UN", "US", "CN", "GB"}) {
    const json& f = fentanyl["jurisdictions"][jur];
    for (const char* key : {"status", "schedule", "basis", "rule", "explanation"}) {
      EXPECT_TRUE(f.contains(key)) << jur << " " << key;
    }
    EXPECT_EQ(f["status"], "controlled") << jur;
    EXPECT_EQ(f["basis"], "listed") << jur;
  }
  EXPECT_EQ(fentanyl["jurisdictions"]["US"]["schedule"], "II");
  const json& analogue = lines[1]["jurisdictions"]["US"];
  EXPECT_EQ(analogue["status"], "controlled");
  EXPECT_EQ(analogue["basis"], "class");
  EXPECT_EQ(analogue["rule"], "US-FRS");
  ASSERT_TRUE(analogue.contains("modifications"));
  EXPECT_GE(analogue["modifications"].size(), 2U);  // A (thienyl) and E (isobutyryl)
  EXPECT_FALSE(analogue["matched_atoms"].empty());
  EXPECT_EQ(analogue["interpretation"]["acyl"], "carboxylic");
  EXPECT_TRUE(lines[2]["smiles"].is_null());
  EXPECT_NE(lines[2]["error"].get<std::string>().find("argument 3"), std::string::npos);
  // Controlled nowhere (4-phenyl is no listed modification anywhere): a warning, with the
  // nearest controlled substances, and no legal finding.
  const json& uncontrolled = lines[3];
  for (const auto& [jur, f] : uncontrolled["jurisdictions"].items()) {
    EXPECT_EQ(f["status"], "not_controlled") << jur;
  }
  ASSERT_FALSE(uncontrolled["analogue_of"].empty());
  EXPECT_GT(uncontrolled["analogue_of"][0]["similarity"].get<double>(), 0.45);
}

TEST_F(CliTest, ClassifyReadsFilesAndStdinAndFiltersJurisdictions) {
  WriteFile(dir_ / "in.smi", "# a comment\nCCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1\ncarfentanil\n");
  WriteFile(dir_ / "in.csv", "id,smiles\nsample-1,\"CNC(C)C(=O)c1ccc(C)cc1\"\nsample-2,\n");
  WriteFile(dir_ / "in.sdf",
            "ethanol\n     RDKit          2D\n\n  3  2  0  0  0  0  0  0  0  0999 V2000\n"
            "    0.0000    0.0000    0.0000 C   0  0\n    1.2990    0.7500    0.0000 C   0  0\n"
            "    2.5981   -0.0000    0.0000 O   0  0\n  1  2  1  0\n  2  3  1  0\nM  END\n$$$$\n");
  WriteFile(dir_ / "stdin.txt", "InChI=1S/C3H7NO2/c1-2(4)3(5)6/h2H,4H2,1H3,(H,5,6)/t2-/m0/s1\n");
  const auto r = Sentinel("classify -f json -J US -J GB " + (dir_ / "in.smi").string() + " " +
                              (dir_ / "in.csv").string() + " " + (dir_ / "in.sdf").string() + " -",
                          (dir_ / "stdin.txt").string());
  EXPECT_EQ(r.exit_code, 1) << r.err;  // sample-2 has no SMILES
  const auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 6U) << r.out;
  for (const auto& j : lines) {
    if (!j["error"].is_null()) continue;
    EXPECT_EQ(j["jurisdictions"].size(), 2U);
    EXPECT_TRUE(j["jurisdictions"].contains("US"));
    EXPECT_TRUE(j["jurisdictions"].contains("GB"));
  }
  EXPECT_EQ(lines[1]["name"], "Carfentanil");
  EXPECT_EQ(lines[2]["input"], "sample-1");  // mephedrone, by its row label
  EXPECT_EQ(lines[2]["jurisdictions"]["GB"]["status"], "controlled");
  EXPECT_NE(lines[3]["error"].get<std::string>().find("in.csv:3"), std::string::npos);
  EXPECT_EQ(lines[4]["smiles"], "CCO");
  EXPECT_EQ(lines[4]["read_as"], "molfile");
  EXPECT_EQ(lines[5]["smiles"], "C[C@H](N)C(=O)O");  // L-alanine from its InChI, stereo kept
  EXPECT_EQ(lines[5]["read_as"], "InChI");
}

// Output streams in batches while workers run ahead: it must still come in input order, one
// line per record, errors in their places.
TEST_F(CliTest, ClassifyLongBatchKeepsInputOrder) {
  const char* kinds[] = {"CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", "C1CC(", "CCO", "carfentanil",
                         "CNC(C)C(=O)c1ccc(C)cc1.Cl"};
  std::string text;
  std::vector<std::string> inputs;
  for (int i = 0; i < 700; ++i) {
    // Distinct records: a chain of i carbons on the ethanol makes each line its own.
    std::string input = kinds[i % 5];
    if (input == "CCO") input = std::string(static_cast<std::size_t>(i % 40 + 1), 'C') + "O";
    inputs.push_back(input);
    text += input + "\n";
  }
  WriteFile(dir_ / "long.smi", text);
  const auto r =
      Sentinel("classify -f json -J US --no-progress -j 3 " + (dir_ / "long.smi").string());
  EXPECT_EQ(r.exit_code, 1);  // the unclosed rings
  const auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), inputs.size());
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    EXPECT_EQ(lines[i]["input"], inputs[i]) << "line " << i;
    EXPECT_EQ(lines[i]["error"].is_null(), inputs[i] != "C1CC(") << "line " << i;
  }
}

TEST_F(CliTest, ClassifyAsOfDateOptionsAndDrawing) {
  const std::string analogue = "'CC(=O)N(c1ccccc1)C1CCN(CCc2ccc(F)cc2)CC1'";
  auto before = JsonLines(Sentinel("classify -f json -J US --as-of 2018-01-01 " + analogue).out);
  auto after = JsonLines(Sentinel("classify -f json -J US --as-of 2018-03-01 " + analogue).out);
  ASSERT_EQ(before.size(), 1U);
  ASSERT_EQ(after.size(), 1U);
  EXPECT_EQ(before[0]["jurisdictions"]["US"]["status"], "not_controlled");
  EXPECT_EQ(after[0]["jurisdictions"]["US"]["status"], "controlled");

  const std::string carbamoyl = "'CN(C)C(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1'";
  auto narrow = JsonLines(Sentinel("classify -f json -J US " + carbamoyl).out);
  auto broad = JsonLines(Sentinel("classify -f json -J US -O acyl=oxoacid " + carbamoyl).out);
  EXPECT_EQ(narrow[0]["jurisdictions"]["US"]["status"], "not_controlled");
  EXPECT_EQ(broad[0]["jurisdictions"]["US"]["status"], "controlled");
  EXPECT_EQ(broad[0]["jurisdictions"]["US"]["interpretation"]["acyl"], "oxoacid");

  const auto drawn = Sentinel("classify -J US --svg " + (dir_ / "s.svg").string() + " " + analogue);
  EXPECT_EQ(drawn.exit_code, 0) << drawn.err;
  const std::string svg = ReadFile(dir_ / "s.svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("<path"), std::string::npos);
  EXPECT_NE(drawn.out.find("US: controlled"), std::string::npos) << drawn.out;

  EXPECT_EQ(Sentinel("classify -O acyl=nonsense fentanyl").exit_code, 2);
  EXPECT_EQ(Sentinel("classify -O nosuchoption=x fentanyl").exit_code, 2);
  EXPECT_EQ(Sentinel("classify --as-of 2019-02-30 fentanyl").exit_code, 2);
  EXPECT_EQ(Sentinel("classify -J XX fentanyl").exit_code, 2);
  const auto bad_data = Sentinel("classify --data " + (dir_ / "nowhere").string() + " fentanyl");
  EXPECT_EQ(bad_data.exit_code, 2);
  EXPECT_NE(bad_data.err.find("knowledge base"), std::string::npos);
}

}  // namespace
