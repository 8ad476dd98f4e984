#include "core/spectra/compound_class.h"
#include "test/support/swgdrug.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace sentinel::spectra {
namespace {

const CompoundClasses& ShippedClasses() {
  static const CompoundClasses* classes = [] {
    const std::string path = std::string(SENTINEL_DATA_DIR) + "/spectra/compound_classes.tsv";
    auto parsed = CompoundClasses::Parse(sentinel::testing::ReadTextFile(path), path);
    EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
    return new CompoundClasses(std::move(parsed).value());
  }();
  return *classes;
}

std::optional<std::string> ClassOf(std::string_view name) {
  return ShippedClasses().Classify(name, {});
}

TEST(CompoundClassesTest, FirstMatchWinsAndExcludesArePerText) {
  const std::string table =
      "# comment\n"
      "\n"
      "precursor\tmatch\tnorfentanyl\n"
      "precursor\texclude\t^N-benzyl\ta phenethyl replacement\n"
      "fentanyl\tmatch\tfentan(yl|il)\n"
      "fentanyl\tmatch\t^carfentanil$|sufentanil\n";
  auto classes = CompoundClasses::Parse(table, "t.tsv");
  ASSERT_TRUE(classes.ok()) << classes.status().ToString();
  EXPECT_EQ(classes->rule_count(), 4u);
  EXPECT_EQ(classes->ClassNames(), (std::vector<std::string>{"precursor", "fentanyl"}));

  EXPECT_EQ(classes->Classify("Norfentanyl", {}), "precursor");
  EXPECT_EQ(classes->Classify("ACETYL FENTANYL", {}), "fentanyl");  // case-insensitive
  // Excluded from "precursor" by its own name, so it falls through to the next class.
  EXPECT_EQ(classes->Classify("N-benzyl Furanyl norfentanyl", {}), "fentanyl");
  EXPECT_EQ(classes->Classify("Cocaine", {}), std::nullopt);
  // A synonym can carry the class; anchors apply per text.
  const std::vector<std::string> synonyms = {"Carfentanil"};
  EXPECT_EQ(classes->Classify("R-33799", synonyms), "fentanyl");
  EXPECT_EQ(classes->Classify("Xcarfentanil", {}), "fentanyl");
}

TEST(CompoundClassesTest, AlternativesAreMatchedLikeTheWholePattern) {
  // Literals inside groups, optional atoms and escapes must not make the prefilter skip a
  // branch that the regex would match.
  auto classes = CompoundClasses::Parse(
      "a\tmatch\t^(d-|l-)?(pseudo)?ephedrine|x\\.y|colou?r|ab+c|\\bpv-?(8|9)\\b|[0-9]{2,}zz\n",
      "t.tsv");
  ASSERT_TRUE(classes.ok()) << classes.status().ToString();
  for (const char* yes : {"ephedrine", "L-Pseudoephedrine", "x.y", "color", "colour", "abbbc",
                          "alpha-PV8", "PV9 analog", "12zz"}) {
    EXPECT_EQ(classes->Classify(yes, {}), "a") << yes;
  }
  for (const char* no : {"Methylephedrine x", "xzy", "colouur", "ac", "PV88", "1zz"}) {
    EXPECT_EQ(classes->Classify(no, {}), std::nullopt) << no;
  }
}

TEST(CompoundClassesTest, ParseErrorsNameTheLine) {
  const auto error_of = [](const std::string& table) {
    auto r = CompoundClasses::Parse(table, "rules.tsv");
    return r.ok() ? std::string("ok") : r.status().message();
  };
  EXPECT_NE(error_of("a\tmatch\tx\n# c\nb\tmatch\n").find("rules.tsv:3:"), std::string::npos);
  EXPECT_NE(error_of("a\tmatch\tx\na\tinclude\ty\n").find("rules.tsv:2: action"),
            std::string::npos);
  EXPECT_NE(error_of("a\tmatch\t(unclosed\n").find("rules.tsv:1: bad regular expression"),
            std::string::npos);
  EXPECT_NE(error_of("a\tmatch\tx||y\n").find("empty alternative"), std::string::npos);
  EXPECT_NE(error_of("a\tmatch\tx\nb\texclude\ty\n").find("rules.tsv:2: class \"b\""),
            std::string::npos);
  EXPECT_NE(error_of("\tmatch\tx\n").find("empty class name"), std::string::npos);
  EXPECT_NE(error_of("a\tmatch\tx\tnote\textra\n").find("found 5"), std::string::npos);
  EXPECT_NE(error_of("# only comments\n").find("no rules"), std::string::npos);
}

TEST(CompoundClassesTest, ShippedTableSpotChecks) {
  const std::map<std::string, std::string> expected = {
      {"Carfentanil", "fentanyl-related"},
      {"Acetyl fentanyl", "fentanyl-related"},
      {"Fentanyl-d5", "fentanyl-related"},
      {"N-methyl Norfentanyl", "fentanyl-related"},
      {"Norfentanyl", "precursor/intermediate"},
      {"4-Anilino-N-phenethylpiperidine", "precursor/intermediate"},
      {"Despropionyl para-Fluorofentanyl", "precursor/intermediate"},
      {"Phenyl-2-propanone", "precursor/intermediate"},
      {"Pseudoephedrine", "precursor/intermediate"},
      {".alpha.-PVP", "synthetic cathinone"},
      {"Mephedrone", "synthetic cathinone"},
      {"N-Ethylpentylone", "synthetic cathinone"},
      {"JWH-018", "synthetic cannabinoid"},
      {"5-Fluoro-MDMB-PICA", "synthetic cannabinoid"},
      {"AB-CHMINACA", "synthetic cannabinoid"},
      {"delta-9-Tetrahydrocannabinol", "phytocannabinoid"},
      {"25I-NBOMe", "phenethylamine (2C/NBOMe/DOx)"},
      {"2C-B", "phenethylamine (2C/NBOMe/DOx)"},
      {"DOB", "phenethylamine (2C/NBOMe/DOx)"},
      {"3,4-Methylenedioxymethamphetamine", "amphetamine-type"},
      {"Methamphetamine", "amphetamine-type"},
      {"d-Amphetamine", "amphetamine-type"},
      {"5-APB", "amphetamine-type"},
      {"Dimethyltryptamine", "tryptamine"},
      {"Psilocin", "tryptamine"},
      {"Alprazolam", "benzodiazepine"},
      {"Etizolam", "benzodiazepine"},
      {"Heroin", "opioid (non-fentanyl)"},
      {"U-47700", "opioid (non-fentanyl)"},
      {"Isotonitazene", "nitazene"},
      {"Ketamine", "arylcyclohexylamine"},
      {"Phencyclidine", "arylcyclohexylamine"},
      {"1-Benzylpiperazine", "piperazine"},
      {"Cocaine", "cocaine/tropane"},
      {"Phenobarbital", "barbiturate"},
      {"Testosterone Cypionate", "anabolic steroid"},
      {"LSD", "lysergamide"},
      {"Caffeine", "cutting agent/adulterant"},
      {"Levamisole", "cutting agent/adulterant"},
      {"Methaqualone", "sedative-hypnotic (other)"},
      {"Methylphenidate", "phenidate/pipradrol stimulant"},
  };
  for (const auto& [name, cls] : expected) EXPECT_EQ(ClassOf(name), cls) << name;
  for (const char* none : {"Sildenafil", "Melatonin", "Vanillin", "Nicotine"}) {
    EXPECT_EQ(ClassOf(none), std::nullopt) << none;
  }
}

// Counts per class on SWGDRUG 3.4 as measured when the table was written (docs/analogues.md),
// with room for small edits; the README of the shared data gives the rough sizes of the big
// families. A rule that starts matching everything, or nothing, fails here.
TEST(CompoundClassesTest, ShippedTableCoversSwgdrugFamilies) {
  const std::vector<SpectrumRecord> records = sentinel::testing::SwgdrugRecords();
  ASSERT_EQ(records.size(), 2988u);
  const std::clock_t start = std::clock();  // CPU time: wall time varies with machine load
  const std::string path = std::string(SENTINEL_DATA_DIR) + "/spectra/compound_classes.tsv";
  auto classes = CompoundClasses::Parse(sentinel::testing::ReadTextFile(path), path);
  ASSERT_TRUE(classes.ok()) << classes.status().ToString();
  std::map<std::string, int> counts;
  int unclassified = 0;
  for (const SpectrumRecord& r : records) {
    if (auto cls = classes->Classify(r.name, r.synonyms)) {
      ++counts[*cls];
    } else {
      ++unclassified;
    }
  }
  const double ms = 1000.0 * static_cast<double>(std::clock() - start) / CLOCKS_PER_SEC;
  std::printf("compound classes: parse + classify %zu entries in %.1f ms CPU; unclassified %d\n",
              records.size(), ms, unclassified);
  for (const auto& [cls, n] : counts) std::printf("  %5d  %s\n", n, cls.c_str());

  const std::map<std::string, std::pair<int, int>> bands = {
      {"synthetic cannabinoid", {420, 560}},
      {"synthetic cathinone", {200, 260}},
      {"fentanyl-related", {150, 190}},
      {"phenethylamine (2C/NBOMe/DOx)", {150, 200}},
      {"amphetamine-type", {230, 300}},
      {"benzodiazepine", {70, 95}},
      {"tryptamine", {50, 75}},
      {"precursor/intermediate", {190, 260}},
      {"opioid (non-fentanyl)", {100, 140}},
      {"anabolic steroid", {85, 115}},
      {"cocaine/tropane", {28, 40}},
      {"arylcyclohexylamine", {25, 40}},
      {"barbiturate", {25, 40}},
      {"piperazine", {35, 55}},
  };
  for (const auto& [cls, band] : bands) {
    EXPECT_GE(counts[cls], band.first) << cls;
    EXPECT_LE(counts[cls], band.second) << cls;
  }
  EXPECT_EQ(counts["nitazene"], 0);  // none in SWGDRUG 3.4
  EXPECT_LE(unclassified, 700);
  // Loading must stay cheap: the budget is 50 ms in an optimised build; the bound here leaves
  // room for sanitizer and debug builds.
  EXPECT_LT(ms, 500.0);
}

TEST(IsIsotopeLabelledTest, SpotChecks) {
  const auto labelled = [](std::string name, std::string formula,
                           std::vector<std::string> synonyms = {}) {
    SpectrumRecord r;
    r.name = std::move(name);
    r.formula = std::move(formula);
    r.synonyms = std::move(synonyms);
    return IsIsotopeLabelled(r);
  };
  EXPECT_TRUE(labelled("Fentanyl-d5", "C22H23D5N2O"));
  EXPECT_TRUE(labelled("Fentanyl-d5", ""));  // formula unknown: the name suffices
  EXPECT_TRUE(labelled("Some standard", "C22H23D5N2O"));
  EXPECT_TRUE(labelled("Amphetamine-D5 (ring) (Not certified by NIST)", ""));
  EXPECT_TRUE(labelled("MT-45-d11", ""));
  EXPECT_TRUE(labelled("Phenobarbital-d5 (ethyl-d5)", ""));
  EXPECT_TRUE(labelled("Cocaine-13C6", ""));
  EXPECT_TRUE(labelled("13C6-Cocaine", ""));
  EXPECT_TRUE(labelled("x", "", {"N-phenyl-d5-N-[1-(2-phenylethyl)-4-piperidinyl]propanamide"}));
  EXPECT_FALSE(labelled("Fentanyl", "C22H28N2O"));
  EXPECT_FALSE(labelled("Dimethyltryptamine", "C12H16N2"));
  EXPECT_FALSE(labelled("d-Amphetamine", "C9H13N"));
  EXPECT_FALSE(labelled("2C-D", "C11H17NO2"));
  EXPECT_FALSE(labelled("S-desoxy-D2PM", "C17H19N"));
  EXPECT_FALSE(labelled("Dysprosium thing", "Dy2O3"));
  EXPECT_FALSE(labelled("Cadmium", "CdS"));
}

TEST(IsIsotopeLabelledTest, SwgdrugStandards) {
  int count = 0;
  for (const SpectrumRecord& r : sentinel::testing::SwgdrugRecords())
    count += IsIsotopeLabelled(r) ? 1 : 0;
  std::printf("isotope-labelled entries in SWGDRUG 3.4: %d\n", count);
  EXPECT_EQ(count, 117);  // every entry with D in its formula, and no other
}

}  // namespace
}  // namespace sentinel::spectra
