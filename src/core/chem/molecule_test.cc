#include "core/chem/molecule.h"

#include <GraphMol/MolOps.h>
#include <GraphMol/SmilesParse/SmilesParse.h>
#include <gtest/gtest.h>

#include "core/chem/depict.h"
#include "core/chem/fingerprint.h"
#include "core/chem/inchi.h"

namespace sentinel::chem {
namespace {

std::unique_ptr<RDKit::RWMol> Mol(const std::string& smiles) {
  auto m = ParseSmiles(smiles);
  EXPECT_TRUE(m.ok()) << smiles << ": " << m.status().ToString();
  return std::move(m).value();
}

TEST(Molecule, BadSmilesIsAnErrorNotACrash) {
  // CC(c1#C)CccC1 passes RDKit's own check but ends with a five-bonded carbon (found by fuzzing).
  for (const char* bad :
       {"", "C1CC", "c1cccc1", "C(C)(C)(C)(C)C", "[Xx]", "CC)", "CC(c1#C)CccC1"}) {
    auto m = ParseSmiles(bad);
    EXPECT_FALSE(m.ok()) << bad;
  }
}

// ParseSmiles skips the parser's stereo perception and the conjugation and hybridisation
// steps of sanitisation. What everything downstream reads must come out as RDKit's own parser
// gives it.
const char* const kVaried[] = {
    "CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1",                // fentanyl
    "CCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21",               // JWH-018
    "CCN(CC)CCn1c(Cc2ccc(OCC)cc2)nc2cc([N+](=O)[O-])ccc21",  // etonitazene: nitro
    "C#CCN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21",                // alkyne
    "N#Cc1ccccc1-c1cc(-c2ccccn2)cn(-c2ccccc2)c1=O",          // nitrile, pyridone
    "[H]N(C)C(C)Cc1ccc2c(c1)OCO2",                           // explicit hydrogen
    "Cc1nnc2n1-c1ccc(Cl)cc1C(c1ccccc1)=NC2",                 // triazolobenzodiazepine
    "CN[C@@H](C)Cc1ccccc1",                                  // stereo: the parser's own path
    "C[n+]1ccccc1.[Cl-]",
    "O=C1CCCN1Cc1cc[nH]c1",
};

TEST(Molecule, ParsedAsRdkitsParserWouldForEverythingDownstream) {
  for (const char* smiles : kVaried) {
    auto ours = Mol(smiles);
    std::unique_ptr<RDKit::RWMol> theirs(RDKit::SmilesToMol(smiles));
    ASSERT_TRUE(theirs) << smiles;
    EXPECT_EQ(CanonicalSmiles(*ours), CanonicalSmiles(*theirs)) << smiles;
    ASSERT_EQ(ours->getNumAtoms(), theirs->getNumAtoms()) << smiles;
    for (unsigned i = 0; i < ours->getNumAtoms(); ++i) {
      const RDKit::Atom* a = ours->getAtomWithIdx(i);
      const RDKit::Atom* b = theirs->getAtomWithIdx(i);
      EXPECT_EQ(a->getIsAromatic(), b->getIsAromatic()) << smiles << " atom " << i;
      EXPECT_EQ(a->getTotalNumHs(), b->getTotalNumHs()) << smiles << " atom " << i;
      EXPECT_EQ(ours->getRingInfo()->numAtomRings(i), theirs->getRingInfo()->numAtomRings(i))
          << smiles << " atom " << i;
    }
    const Fingerprint x = MorganFingerprint(*ours), y = MorganFingerprint(*theirs);
    EXPECT_EQ(x.words, y.words) << smiles;
    // Depiction perceives what sanitisation left out. (Not compared with the parser's
    // molecule: its stereo perception leaves CIP ranks that turn the layout.)
    RDKit::RWMol complete(*ours);
    RDKit::MolOps::sanitizeMol(complete);
    EXPECT_EQ(DrawSvg(*ours, {0, 1}), DrawSvg(complete, {0, 1})) << smiles;
  }
}

TEST(Molecule, SaltStrippedAndChargesNeutralisedWithSteps) {
  // Fentanyl citrate and a protonated fentanyl hydrochloride give fentanyl's parent.
  const std::string fentanyl = CanonicalSmiles(*Mol("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"));
  auto citrate =
      Standardise(Mol("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1.OC(=O)CC(O)(C(=O)O)CC(=O)O"));
  ASSERT_TRUE(citrate.ok());
  EXPECT_EQ(citrate->smiles, fentanyl);
  ASSERT_EQ(citrate->steps.size(), 1U);
  EXPECT_EQ(citrate->steps[0],
            "kept the parent of 2 fragments (removed O=C(O)CC(O)(CC(=O)O)C(=O)O)");
  auto hcl = Standardise(Mol("CCC(=O)N(c1ccccc1)C1CC[NH+](CCc2ccccc2)CC1.[Cl-]"));
  ASSERT_TRUE(hcl.ok());
  EXPECT_EQ(hcl->smiles, fentanyl);
  EXPECT_EQ(hcl->steps.size(), 2U);
}

TEST(Molecule, AlreadyParentTakesTheFastPath) {
  auto m = Mol("CN[C@@H](C)Cc1ccccc1");
  EXPECT_FALSE(NeedsStandardising(*m));
  auto s = Standardise(std::move(m));
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->steps.empty());
  EXPECT_EQ(s->smiles, "CN[C@@H](C)Cc1ccccc1");
}

TEST(Molecule, IsotopeLabelsRemoved) {
  auto s = Standardise(Mol("[2H]C([2H])([2H])N[C@@H](C)Cc1ccccc1"));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->smiles, "CN[C@@H](C)Cc1ccccc1");
}

TEST(Molecule, FormulaAndMass) {
  auto m = Mol("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1");
  EXPECT_EQ(HillFormula(*m), "C22H28N2O");
  EXPECT_NEAR(MonoisotopicMass(*m), 336.2202, 1e-3);
}

TEST(Inchi, KnownStandardKeys) {
  // Keys as published (PubChem / SWGDRUG).
  struct Case {
    const char* smiles;
    const char* key;
  } cases[] = {
      {"CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", "PJMPHNIQZUBGLI-UHFFFAOYSA-N"},  // fentanyl
      {"C[C@H](N)C(=O)O", "QNAYBMKLOCPYGJ-REOHCLBHSA-N"},                         // L-alanine
      {"C[C@@H](N)C(=O)O", "QNAYBMKLOCPYGJ-UWTATZPHSA-N"},                        // D-alanine
      {"CN[C@@H](C)Cc1ccccc1", "MYWUZJCMWCOHBA-VIFPVBQESA-N"},  // (S)-methamphetamine
      {"C/C=C/C", "IAQRGUVFOMOMEM-ONEGZZNKSA-N"},               // (E)-but-2-ene
      {"C/C=C\\C", "IAQRGUVFOMOMEM-ARJAWSKDSA-N"},              // (Z)-but-2-ene
  };
  for (const auto& c : cases) {
    auto key = StdInchiKey(*Mol(c.smiles));
    ASSERT_TRUE(key.ok()) << c.smiles << key.status().ToString();
    EXPECT_EQ(*key, c.key) << c.smiles;
  }
}

TEST(Inchi, RoundTripThroughInchiKeepsStructureAndStereo) {
  for (const char* smiles :
       {"CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", "CN[C@@H](C)Cc1ccccc1", "CN[C@H](C)Cc1ccccc1",
        "C/C=C/C(=O)O", "C/C=C\\C(=O)O", "O=C(c1ccccc1)C(C)NC", "c1ccc2[nH]ccc2c1"}) {
    auto m = Mol(smiles);
    auto inchi = StdInchi(*m);
    ASSERT_TRUE(inchi.ok()) << smiles;
    auto back = MolFromInchi(*inchi);
    ASSERT_TRUE(back.ok()) << smiles << " " << *inchi << " " << back.status().ToString();
    EXPECT_EQ(CanonicalSmiles(**back), CanonicalSmiles(*m)) << *inchi;
  }
  EXPECT_FALSE(MolFromInchi("InChI=1S/garbage").ok());
  EXPECT_FALSE(MolFromInchi("not an inchi").ok());
}

// The InChI library crashes on this one (found by fuzzing); parsed in a child process, it is
// an error for the caller, and the caller goes on parsing.
TEST(Inchi, InputThatCrashesTheLibraryIsAnError) {
  auto crashed = MolFromInchi("InChI=1S/C3H7NO2/c16/h2H,4H2,1H3,(H,5,*)/t2-/5,*)/t2-/H2,11");
  ASSERT_FALSE(crashed.ok());
  EXPECT_EQ(crashed.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(crashed.status().message().find("InChI"), std::string::npos);
  auto after = MolFromInchi("InChI=1S/C2H6O/c1-2-3/h3H,2H2,1H3");
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(CanonicalSmiles(**after), "CCO");
}

TEST(Fingerprint, TanimotoIdentityAndOrdering) {
  auto fentanyl = MorganFingerprint(*Mol("CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"));
  auto acetyl = MorganFingerprint(*Mol("CC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1"));
  auto caffeine = MorganFingerprint(*Mol("Cn1cnc2c1c(=O)n(C)c(=O)n2C"));
  EXPECT_DOUBLE_EQ(Tanimoto(fentanyl, fentanyl), 1.0);
  EXPECT_GT(Tanimoto(fentanyl, acetyl), 0.6);
  EXPECT_LT(Tanimoto(fentanyl, caffeine), 0.2);
  EXPECT_GT(fentanyl.count, 20U);
}

}  // namespace
}  // namespace sentinel::chem
