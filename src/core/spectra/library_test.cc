#include "core/spectra/library.h"

#include <gtest/gtest.h>

namespace sentinel::spectra {
namespace {

TEST(NominalMassOfFormula, ReadsDrugFormulas) {
  EXPECT_EQ(NominalMassOfFormula("C22H28N2O"), 336);    // fentanyl
  EXPECT_EQ(NominalMassOfFormula("C22H23D5N2O"), 341);  // fentanyl-d5
  EXPECT_EQ(NominalMassOfFormula("C13H17NO3"), 235);    // methylone
  EXPECT_EQ(NominalMassOfFormula("C21H29FN2O3"), 376);  // 5F-MDMB-PICA
  EXPECT_EQ(NominalMassOfFormula("C16H13ClN2O"), 284);  // diazepam
  EXPECT_EQ(NominalMassOfFormula("C11H16BrNO2"), 273);  // 2C-B
  EXPECT_EQ(NominalMassOfFormula("C18H22INO3"), 427);   // 25I-NBOMe
  EXPECT_EQ(NominalMassOfFormula("CH4"), 16);
}

TEST(NominalMassOfFormula, RejectsWhatItCannotRead) {
  EXPECT_EQ(NominalMassOfFormula(""), std::nullopt);
  EXPECT_EQ(NominalMassOfFormula("c22h28"), std::nullopt);
  EXPECT_EQ(NominalMassOfFormula("C22Xx3"), std::nullopt);
  EXPECT_EQ(NominalMassOfFormula("(CH3)2"), std::nullopt);
  EXPECT_EQ(NominalMassOfFormula("C999999999"), std::nullopt);
}

SpectrumRecord Record(std::string name, std::string inchikey, std::vector<Peak> peaks) {
  SpectrumRecord r;
  r.name = std::move(name);
  r.inchikey = std::move(inchikey);
  r.formula = "C10H15N";
  r.peaks = std::move(peaks);
  return r;
}

TEST(Library, BuildKeepsOrderSkipsEmptyAndKeysCompounds) {
  std::vector<SpectrumRecord> records;
  records.push_back(
      Record("Methamphetamine", "MYWUZJCMWCOHBA-VIFPVBQESA-N", {{58, 999}, {91, 80}}));
  records.push_back(Record("no peaks", "", {}));
  records.push_back(Record("Methamphetamine (other lab)", "MYWUZJCMWCOHBA-VIFPVBQESA-N",
                           {{58, 999}, {91, 90}, {134, 5}}));
  records.push_back(Record("Unkeyed Thing", "", {{41, 10}}));
  records[3].formula = "";
  records[3].molecular_weight = 123.0;
  auto lib = Library::Build("test", std::move(records), nullptr);
  ASSERT_EQ(lib->size(), 3u);
  EXPECT_EQ(lib->label(), "test");
  EXPECT_EQ(lib->entry(0).compound_key, lib->entry(1).compound_key);
  EXPECT_EQ(lib->entry(2).compound_key, "unkeyed thing");
  EXPECT_EQ(lib->entry(0).nominal_mass, 149);  // from the formula
  EXPECT_EQ(lib->entry(2).nominal_mass, 123);  // from MW:
  EXPECT_EQ(lib->store().Get(1).size(), 3u);
  EXPECT_EQ(lib->fragments().TopK(lib->store().Get(0), 1).front().id, 0u);
}

}  // namespace
}  // namespace sentinel::spectra

namespace sentinel::spectra {
namespace {

TEST(LaboratoryOf, FirstNameInTheComment) {
  EXPECT_EQ(LaboratoryOf("DEA SWL / SWGDRUG Monograph available", "lib"), "dea swl");
  EXPECT_EQ(LaboratoryOf("Provided by www.caymanchem.com/app/template/Product", "lib"), "cayman");
  EXPECT_EQ(LaboratoryOf("DEA North Central Lab (PKP) / Sigma-Aldrich", "lib"),
            "dea north central lab");
  EXPECT_EQ(LaboratoryOf("ENFSI; confirmed by NMR", "lib"), "enfsi");
  EXPECT_EQ(LaboratoryOf("  AAFS  ", "lib"), "aafs");
  // No name: the library's own laboratory.
  EXPECT_EQ(LaboratoryOf("", "in-house"), "in-house");
  EXPECT_EQ(LaboratoryOf(" / note only", "in-house"), "in-house");
}

}  // namespace
}  // namespace sentinel::spectra
