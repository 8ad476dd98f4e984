#include "core/chem/molecule.h"

#include <gtest/gtest.h>

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
