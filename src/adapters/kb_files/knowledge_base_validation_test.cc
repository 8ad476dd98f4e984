// Validates every knowledge-base entry (data/kb/lists/*.tsv): its SMILES parses; the formula and
// monoisotopic mass written in the row agree with the structure; and where SWGDRUG holds the same
// compound by name, the InChIKeys agree. The formula and mass columns are written from the
// literature, independently of the SMILES, so a wrong structure shows here.
#include <GraphMol/PeriodicTable.h>
#include <GraphMol/ROMol.h>
#include <gtest/gtest.h>

#include <cctype>
#include <fstream>
#include <map>
#include <regex>

#include "adapters/kb_files/kb_files.h"
#include "core/chem/inchi.h"
#include "core/chem/molecule.h"
#include "core/common/text.h"
#include "test/support/swgdrug.h"

namespace sentinel::kb_files {
namespace {

double MassOfFormula(const std::string& formula) {
  static const std::regex element(R"(([A-Z][a-z]?)(\d*))");
  const RDKit::PeriodicTable* table = RDKit::PeriodicTable::getTable();
  double mass = 0;
  std::string rest = formula;
  // Charges written as a trailing + or - (quaternary cations) carry no mass of their own here.
  while (!rest.empty() && (rest.back() == '+' || rest.back() == '-')) rest.pop_back();
  for (auto it = std::sregex_iterator(rest.begin(), rest.end(), element);
       it != std::sregex_iterator(); ++it) {
    const std::string symbol = (*it)[1];
    const int count = (*it)[2].length() ? std::stoi((*it)[2]) : 1;
    const int z = table->getAtomicNumber(symbol);
    mass += table->getMostCommonIsotopeMass(z) * count;
  }
  return mass;
}

std::string NormaliseName(std::string name) {
  name = AsciiLower(name);
  static const std::regex salt(
      R"(\s+(hcl|hydrochloride|hbr|hydrobromide|citrate|oxalate|fumarate|sulfate|tartrate|maleate|phosphate|base)$)");
  return std::regex_replace(name, salt, "");
}

const std::map<std::string, std::string>& SwgdrugKeysByName() {
  static const auto* keys = [] {
    auto* out = new std::map<std::string, std::string>();
    for (const auto& r : testing::SwgdrugRecords()) {
      if (r.inchikey.size() == 27) out->emplace(NormaliseName(r.name), r.inchikey);
    }
    return out;
  }();
  return *keys;
}

// Documented SWGDRUG errata: name -> the (wrong) key SWGDRUG gives.
std::map<std::string, std::string> SwgdrugErrata() {
  std::map<std::string, std::string> out;
  std::ifstream in(std::string(SENTINEL_TEST_CASES_DIR) + "/kb/swgdrug_disagreements.tsv");
  std::string line;
  bool header = true;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (header) {
      header = false;
      continue;
    }
    const auto tab = line.find('\t');
    const auto tab2 = line.find('\t', tab + 1);
    out[NormaliseName(line.substr(0, tab))] = line.substr(tab + 1, tab2 - tab - 1);
  }
  return out;
}

TEST(KnowledgeBase, EveryEntryIsConsistentAndAgreesWithSwgdrug) {
  const auto errata = SwgdrugErrata();
  ASSERT_FALSE(errata.empty());
  chem::SilenceRdkitLogs();
  auto sources = ReadDataDir(SENTINEL_DATA_DIR);
  ASSERT_TRUE(sources.ok()) << sources.status().ToString();
  ASSERT_GT(sources->rows.size(), 500U);
  int compared = 0, skeleton_only = 0;
  for (const auto& row : sources->rows) {
    const std::string who = row.where + " " + row.name;
    auto mol = chem::ParseSmiles(row.smiles);
    ASSERT_TRUE(mol.ok()) << who << ": " << mol.status().message();
    EXPECT_EQ(chem::HillFormula(**mol), row.formula) << who;
    EXPECT_NEAR(MassOfFormula(row.formula), row.mono_mass, 1e-3) << who << " " << row.formula;
    EXPECT_NEAR(chem::MonoisotopicMass(**mol), row.mono_mass, 2e-3) << who;
    // SWGDRUG by name or synonym; the entry's InChIKey must agree. SWGDRUG often records a
    // compound without stereo where the list names one stereoisomer (or the reverse), so the
    // skeleton block must agree always and the full key whenever both carry the same stereo.
    std::vector<std::string> names = {row.name};
    names.insert(names.end(), row.synonyms.begin(), row.synonyms.end());
    for (const auto& n : names) {
      auto it = SwgdrugKeysByName().find(NormaliseName(n));
      if (it == SwgdrugKeysByName().end()) continue;
      auto key = chem::StdInchiKey(**mol);
      ASSERT_TRUE(key.ok()) << who;
      if (auto e = errata.find(it->first); e != errata.end()) {
        EXPECT_EQ(it->second, e->second) << "erratum for " << it->first << " is stale";
        EXPECT_NE(key->substr(0, 14), it->second.substr(0, 14)) << "erratum no longer needed";
        break;
      }
      ++compared;
      EXPECT_EQ(key->substr(0, 14), it->second.substr(0, 14))
          << who << " vs SWGDRUG '" << it->first << "' (" << row.smiles << ")";
      const bool row_has_stereo = key->substr(15, 10) != "UHFFFAOYSA";
      const bool swg_has_stereo = it->second.substr(15, 10) != "UHFFFAOYSA";
      if (row_has_stereo && swg_has_stereo) {
        EXPECT_EQ(*key, it->second) << who << " vs SWGDRUG '" << it->first << "'";
      } else if (row_has_stereo != swg_has_stereo) {
        ++skeleton_only;
      }
      break;
    }
  }
  std::cout << "[ knowledge base ] " << sources->rows.size() << " rows; " << compared
            << " compared with SWGDRUG InChIKeys (" << skeleton_only
            << " on the skeleton only: one side without stereo)\n";
  EXPECT_GT(compared, 200);
}

}  // namespace
}  // namespace sentinel::kb_files
