#include "core/spectra/identify.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

namespace sentinel::spectra {
namespace {

SpectrumRecord Record(std::string name, std::string inchikey, int mw, std::vector<Peak> peaks) {
  SpectrumRecord r;
  r.name = std::move(name);
  r.inchikey = std::move(inchikey);
  r.molecular_weight = mw;
  r.peaks = std::move(peaks);
  return r;
}

// Three compounds with distinct skeletons; "B-d5" is a labelled standard of B.
std::unique_ptr<Library> SmallLibrary() {
  std::vector<SpectrumRecord> r;
  r.push_back(Record("Alpha", "AAAAAAAAAAAAAA-UHFFFAOYSA-N", 200,
                     {{43, 300}, {58, 999}, {91, 400}, {119, 150}, {200, 40}}));
  r.push_back(Record("Beta", "BBBBBBBBBBBBBB-UHFFFAOYSA-N", 250,
                     {{77, 500}, {105, 999}, {150, 300}, {222, 100}, {250, 60}}));
  r.push_back(Record("Beta-d5", "BBBBBBBBBBBBBB-XXXXXXXXSA-N", 255,
                     {{82, 500}, {110, 999}, {150, 300}, {227, 100}, {255, 60}}));
  r.back().formula = "C14H9D5O2";
  r.push_back(Record("Gamma", "CCCCCCCCCCCCCC-UHFFFAOYSA-N", 300,
                     {{44, 999}, {72, 200}, {180, 300}, {300, 20}}));
  return Library::Build("test", std::move(r), nullptr);
}

Identification IdentifyIn(const Library& lib, const Query& q, const IdentifyOptions& o = {}) {
  const Library* libs[] = {&lib};
  return Identify(libs, q, o);
}

TEST(Identify, ExactSpectrumIsIdentifiedWithFullScores) {
  auto lib = SmallLibrary();
  Query q{lib->store().Get(0), 200};
  const Identification r = IdentifyIn(*lib, q);
  EXPECT_EQ(r.verdict, Verdict::kIdentified);
  ASSERT_FALSE(r.hits.empty());
  EXPECT_EQ(lib->entry(r.hits[0].entry).name, "Alpha");
  EXPECT_DOUBLE_EQ(r.hits[0].match_factor, 999.0);
  EXPECT_NEAR(r.hits[0].entropy_similarity, 1.0, 1e-9);
  EXPECT_TRUE(r.analogues.empty());  // the analogue search runs only when not identified
}

// Two positional isomers, X and Y, measured by laboratories A and B. Laboratory A's instrument
// gives the low masses more and the high masses less; the query is X measured A's way, and
// the library holds A's spectrum of Y and B's of both. A's Y matches the query better than
// B's X (the instrument outweighs the isomer), but on B's instrument X beats Y, and A's effect
// is visible through Y, which both laboratories measured.
SpectrumRecord Measured(std::string name, std::string inchikey, std::string laboratory,
                        std::vector<Peak> peaks) {
  SpectrumRecord r = Record(std::move(name), std::move(inchikey), 176, std::move(peaks));
  r.comment = std::move(laboratory) + " / reference standard";
  return r;
}

std::vector<Peak> IsomerX() { return {{58, 999}, {91, 400}, {105, 300}, {134, 120}, {176, 80}}; }
std::vector<Peak> IsomerY() { return {{58, 999}, {91, 400}, {105, 120}, {134, 300}, {176, 80}}; }
std::vector<Peak> AsLaboratoryA(std::vector<Peak> peaks) {
  for (Peak& p : peaks) p.intensity *= p.mz < 100 ? 1.0 : 0.35;
  peaks.push_back({43, 600});
  peaks.push_back({65, 250});
  std::sort(peaks.begin(), peaks.end(), [](const Peak& a, const Peak& b) { return a.mz < b.mz; });
  return peaks;
}

TEST(Identify, NearEqualHitsOrderedWithLaboratoryEffectsTakenOut) {
  std::vector<SpectrumRecord> r;
  r.push_back(
      Measured("Y (lab A)", "YYYYYYYYYYYYYY-UHFFFAOYSA-N", "Lab A", AsLaboratoryA(IsomerY())));
  r.push_back(Measured("X (lab B)", "XXXXXXXXXXXXXX-UHFFFAOYSA-N", "Lab B", IsomerX()));
  r.push_back(Measured("Y (lab B)", "YYYYYYYYYYYYYY-UHFFFAOYSA-N", "Lab B", IsomerY()));
  auto lib = Library::Build("test", std::move(r), nullptr);
  EXPECT_EQ(lib->entry(0).laboratory, "lab a");
  Query q;
  for (const Peak& p : AsLaboratoryA(IsomerX())) {
    q.spectrum.push_back({static_cast<std::uint16_t>(p.mz), static_cast<float>(p.intensity)});
  }
  IdentifyOptions alone;
  alone.laboratory_window = 0;
  const Identification plain = IdentifyIn(*lib, q, alone);
  ASSERT_EQ(plain.hits.size(), 2U);
  EXPECT_EQ(lib->entry(plain.hits[0].entry).name, "Y (lab A)") << plain.hits[0].match_factor;
  const Identification adjusted = IdentifyIn(*lib, q);
  ASSERT_EQ(adjusted.hits.size(), 2U);
  EXPECT_EQ(lib->entry(adjusted.hits[0].entry).name, "X (lab B)")
      << adjusted.hits[0].adjusted_score << " " << adjusted.hits[1].adjusted_score;
  EXPECT_GT(adjusted.hits[0].adjusted_score, adjusted.hits[1].adjusted_score);
  // The scores themselves are unchanged, and a hit that needed the adjustment to lead has no
  // margin over the other skeleton: not "identified".
  EXPECT_LT(adjusted.hits[0].match_factor, adjusted.hits[1].match_factor);
  EXPECT_LT(adjusted.margin, 0.0);
  EXPECT_NE(adjusted.verdict, Verdict::kIdentified);
}

TEST(Identify, LabelledStandardsStayOutUnlessAsked) {
  auto lib = SmallLibrary();
  Query q{lib->store().Get(2), 255};  // the d5 standard's own spectrum
  for (const Hit& h : IdentifyIn(*lib, q).hits) EXPECT_NE(lib->entry(h.entry).name, "Beta-d5");
  IdentifyOptions with;
  with.include_labelled = true;
  const Identification r = IdentifyIn(*lib, q, with);
  ASSERT_FALSE(r.hits.empty());
  EXPECT_EQ(lib->entry(r.hits[0].entry).name, "Beta-d5");
}

TEST(Identify, IsomerTieIsNotAnIdentification) {
  // Two skeletons with one spectrum: EI cannot tell them apart, so the margin refuses.
  std::vector<SpectrumRecord> r;
  const std::vector<Peak> peaks = {{58, 999}, {91, 300}, {134, 80}, {149, 10}};
  r.push_back(Record("ortho-Thing", "OOOOOOOOOOOOOO-UHFFFAOYSA-N", 149, peaks));
  r.push_back(Record("para-Thing", "PPPPPPPPPPPPPP-UHFFFAOYSA-N", 149, peaks));
  auto lib = Library::Build("isomers", std::move(r), nullptr);
  const Identification id = IdentifyIn(*lib, Query{ToNominal(peaks), 149});
  EXPECT_NEAR(id.margin, 0.0, 1e-9);
  EXPECT_NE(id.verdict, Verdict::kIdentified);
  IdentifyOptions no_margin;
  no_margin.identified_margin = 0;
  EXPECT_EQ(IdentifyIn(*lib, Query{ToNominal(peaks), 149}, no_margin).verdict,
            Verdict::kIdentified);
}

TEST(Identify, UnrelatedSpectrumIsUnknown) {
  auto lib = SmallLibrary();
  Query q{ToNominal(std::vector<Peak>{{31, 999}, {61, 500}, {333, 100}, {401, 50}}), 401};
  const Identification r = IdentifyIn(*lib, q);
  EXPECT_EQ(r.verdict, Verdict::kUnknown);
  EXPECT_FALSE(r.compound_class.has_value());
}

TEST(Identify, ExcludedCompoundIsSearchedAsNewAndThresholdsApply) {
  auto lib = SmallLibrary();
  Query q{lib->store().Get(0), 200};
  IdentifyOptions o;
  o.excluded_compounds.insert(lib->entry(0).compound_key);
  const Identification r = IdentifyIn(*lib, q, o);
  for (const Hit& h : r.hits) EXPECT_NE(lib->entry(h.entry).name, "Alpha");
  EXPECT_NE(r.verdict, Verdict::kIdentified);
  IdentifyOptions strict;
  strict.identified_threshold = 999.5;  // above any score: never identified
  EXPECT_NE(IdentifyIn(*lib, q, strict).verdict, Verdict::kIdentified);
}

TEST(Identify, EmptyQueryGivesNoHits) {
  auto lib = SmallLibrary();
  const Identification r = IdentifyIn(*lib, Query{});
  EXPECT_EQ(r.verdict, Verdict::kUnknown);
  EXPECT_TRUE(r.hits.empty());
}

}  // namespace
}  // namespace sentinel::spectra
