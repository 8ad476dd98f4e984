#include "core/chem/substructure.h"

#include <GraphMol/SmilesParse/SmilesParse.h>
#include <GraphMol/Substruct/SubstructMatch.h>
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

namespace sentinel::chem {
namespace {

// The atoms at which RDKit's own whole-molecule search finds a match of `pattern` starting.
std::set<unsigned> RdkitRoots(const RDKit::ROMol& pattern, const RDKit::ROMol& mol) {
  std::vector<RDKit::MatchVectType> matches;
  RDKit::SubstructMatch(mol, pattern, matches, /*uniquify=*/false, /*recursionPossible=*/true,
                        /*useChirality=*/false, /*useQueryQueryMatches=*/false,
                        /*maxMatches=*/100000);
  std::set<unsigned> roots;
  for (const auto& m : matches) roots.insert(static_cast<unsigned>(m[0].second));
  return roots;
}

// Every pattern at every atom of every molecule gives RDKit's answer: one atom, chains, rings
// and ring closures, bond queries, recursive SMARTS (negated, in ORs and ANDs, nested, in
// pieces) and patterns in pieces.
TEST(MatchesAt, AgreesWithRdkitsWholeMoleculeSearch) {
  const std::vector<std::string> patterns = {
      "[CX4]",
      "[#6;!a]",
      "[OX2H1]",
      "[F,Cl,Br,I]",
      "c1ccccc1",
      "[CH2X4]-c1ccccc1",
      "[CX2]#[NX1]",
      "[$([CX4]),$([OX2]-[CX4])]",
      "[NX3;!$(N-[#6]=[O,S,N]);!$(N-[S,P]=O);!$(N-a);!$(N~[#7,#8])]",
      "[$([NX3](=O)=O),$([NX3+](=O)[O-])]",
      "[CX4,$([CX3]=O),OX2,OX1]",
      "[$([CX3](=O)[OX2][#6]),$([OX2][CX3]=O),$([CX4])]",
      "[$([CX3](=[OX1])[#6]),$([CX3H1]=[OX1])]",
      "[R;$(*1~[!#6]~*~*~*~1),$(*1~*~[!#6]~*~*~1)]",
      "[!$(*@*@[!#6]);R]",
      "[$([#6]-[$([OX2]C)])]",
      "[#6]@[#6]@[#7]",
      "[c;R1]1[c;R1][c;R1][c;R1][c;R1][c;R1]1",
      "*~*~*",
      "[#7]-[#6](=O)",
      "[$(C.O)]",
      "C.O",
      "[!$([CX4])&!$(c)]"};
  const std::vector<std::string> molecules = {
      "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",
      "CCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21",
      "COC(=O)C1C(OC(=O)c2ccccc2)CC2CCC1N2C",
      "CC(NC)C(=O)c1ccc2OCOc2c1",
      "O=[N+]([O-])c1ccc(cc1)C#N",
      "OC(=O)CC(O)(C(=O)O)CC(=O)O",
      "CCN(CC)CCn1c(Cc2ccc(OCC)cc2)nc2cc([N+](=O)[O-])ccc21",
      "C1CC2CCC1C2",
      "c1ccsc1CCN1CCC(CC1)N(C(=O)CC)c1ccccc1",
      "NC(=O)C[S+]([O-])C(c1ccccc1)c1ccccc1"};
  int checked = 0;
  for (const auto& m : molecules) {
    std::unique_ptr<RDKit::ROMol> mol(RDKit::SmilesToMol(m));
    ASSERT_TRUE(mol) << m;
    for (const auto& p : patterns) {
      std::unique_ptr<RDKit::ROMol> pattern(RDKit::SmartsToMol(p));
      ASSERT_TRUE(pattern) << p;
      const std::set<unsigned> expected = RdkitRoots(*pattern, *mol);
      for (unsigned a = 0; a < mol->getNumAtoms(); ++a) {
        EXPECT_EQ(MatchesAt(*pattern, *mol, a), expected.count(a) > 0)
            << "pattern " << p << " in " << m << " at atom " << a;
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 4000);
}

}  // namespace
}  // namespace sentinel::chem
