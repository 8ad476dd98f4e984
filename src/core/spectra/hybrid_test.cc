#include "core/spectra/hybrid.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/common/text.h"
#include "core/spectra/compound_class.h"
#include "core/spectra/molecular_ion.h"
#include "test/support/spectra.h"
#include "test/support/swgdrug.h"

namespace sentinel::spectra {
namespace {

using sentinel::testing::Spectrum;

double W2(int mz, double intensity) { return mz * intensity; }  // squared peak weight

TEST(HybridMatchFactorTest, UnshiftedIsTheWeightedSquaredCosine) {
  const NominalSpectrum a = Spectrum({{50, 999}, {80, 400}, {120, 100}});
  const NominalSpectrum b = Spectrum({{50, 500}, {80, 999}, {100, 50}});
  EXPECT_NEAR(HybridMatchFactor(a, 150, a, 150), 999.0, 1e-9);
  const double dot = std::sqrt(W2(50, 999) * W2(50, 500)) + std::sqrt(W2(80, 400) * W2(80, 999));
  const double na = W2(50, 999) + W2(80, 400) + W2(120, 100);
  const double nb = W2(50, 500) + W2(80, 999) + W2(100, 50);
  EXPECT_NEAR(HybridMatchFactor(a, 150, b, 150), 999.0 * dot * dot / (na * nb), 1e-9);
  EXPECT_EQ(HybridMatchFactor({}, 150, b, 150), 0.0);
  EXPECT_EQ(HybridMatchFactor(a, 150, {}, 150), 0.0);
  EXPECT_EQ(HybridMatchFactor(Spectrum({{40, 9}}), 150, Spectrum({{41, 9}}), 150), 0.0);
}

TEST(HybridMatchFactorTest, FragmentsAndNeutralLossesBothCount) {
  // Library: fragment 50 without the modification, fragment 80 with it (M = 100).
  // Query, 14 Da heavier: 50 unchanged, 80 moved to 94 (same neutral loss of 20).
  const NominalSpectrum library = Spectrum({{50, 999}, {80, 500}});
  const NominalSpectrum query = Spectrum({{50, 999}, {94, 500}});
  const double dot = W2(50, 999) + std::sqrt(W2(94, 500) * W2(80, 500));
  const double nq = W2(50, 999) + W2(94, 500);
  const double nl = W2(50, 999) + W2(80, 500);
  EXPECT_NEAR(HybridMatchFactor(query, 114, library, 100), 999.0 * dot * dot / (nq * nl), 1e-9);
  // Told the wrong masses, only the direct match counts.
  const double direct = W2(50, 999);
  EXPECT_NEAR(HybridMatchFactor(query, 113, library, 100), 999.0 * direct * direct / (nq * nl),
              1e-9);
  // Symmetric in the two spectra.
  EXPECT_NEAR(HybridMatchFactor(library, 100, query, 114),
              HybridMatchFactor(query, 114, library, 100), 1e-9);
}

TEST(HybridMatchFactorTest, EachQueryPeakIsUsedOnce) {
  // Query peak 64 could pair with library 64 (direct) or library 50 (shift 14), not both:
  // the direct pair has the larger product and wins.
  const NominalSpectrum library = Spectrum({{50, 999}, {64, 999}});
  const NominalSpectrum query = Spectrum({{64, 999}});
  const double expected = 999.0 * W2(64, 999) / (W2(50, 999) + W2(64, 999));
  EXPECT_NEAR(HybridMatchFactor(query, 114, library, 100), expected, 1e-9);
}

TEST(HybridMatchFactorTest, PairingMaximisesTheDotProductAlongAChain) {
  // d = 10. Library 20 may pair with query 20 or 30; library 10 with query 10 or 20. Taking the
  // largest single product first (library 20 - query 20) would leave library 10 and query 30
  // unmatched; pairing both shifted (10-20, 20-30) gives more and is chosen.
  const NominalSpectrum library = Spectrum({{10, 800}, {20, 999}});
  const NominalSpectrum query = Spectrum({{20, 999}, {30, 900}});
  const double greedy = std::sqrt(W2(20, 999) * W2(20, 999));
  const double best = std::sqrt(W2(10, 800) * W2(20, 999)) + std::sqrt(W2(20, 999) * W2(30, 900));
  ASSERT_GT(best, greedy);
  const double nq = W2(20, 999) + W2(30, 900);
  const double nl = W2(10, 800) + W2(20, 999);
  EXPECT_NEAR(HybridMatchFactor(query, 110, library, 100), 999.0 * best * best / (nq * nl), 1e-9);
  // The same with a negative shift (query lighter) mirrors it.
  EXPECT_NEAR(HybridMatchFactor(library, 100, query, 110), 999.0 * best * best / (nq * nl), 1e-9);
}

TEST(HybridMatchFactorTest, ShiftLargerThanTheSpectraIsHarmless) {
  const NominalSpectrum a = Spectrum({{50, 999}, {60, 100}});
  EXPECT_NEAR(HybridMatchFactor(a, 5000, a, 100), 999.0, 1e-9);   // only direct pairs possible
  EXPECT_NEAR(HybridMatchFactor(a, -5000, a, 100), 999.0, 1e-9);  // nonsense masses, no crash
}

TEST(NeutralLossSpectrumTest, LossesBelowTheMolecularMass) {
  const NominalSpectrum s = Spectrum({{50, 999}, {100, 500}, {150, 100}, {160, 7}});
  // 150 (the molecular ion) and 160 (above it) give no loss; 100 -> loss 50, 50 -> loss 100.
  EXPECT_EQ(NeutralLossSpectrum(s, 150), Spectrum({{50, 500}, {100, 999}}));
  // Rescaled so the largest loss peak is 999.
  EXPECT_EQ(NeutralLossSpectrum(Spectrum({{10, 500}, {40, 100}, {45, 999}}), 45),
            Spectrum({{5, 199.8f}, {35, 999}}));
  EXPECT_TRUE(NeutralLossSpectrum(s, 50).empty());
  EXPECT_TRUE(NeutralLossSpectrum(s, 0).empty());
  EXPECT_TRUE(NeutralLossSpectrum({}, 100).empty());
}

// ---------------------------------------------------------------------------------------------
// Held-out analogue search on SWGDRUG 3.4.

struct Entry {
  std::string name;
  std::string key;  // one compound: full InChIKey, else the case-folded name
  std::string cls;  // empty when unclassified
  int mass = 0;
  bool labelled = false;
  NominalSpectrum spectrum;
};

const std::vector<Entry>& Swgdrug() {
  static const std::vector<Entry>* entries = [] {
    const std::string rules = std::string(SENTINEL_DATA_DIR) + "/spectra/compound_classes.tsv";
    auto classes = CompoundClasses::Parse(sentinel::testing::ReadTextFile(rules), rules);
    EXPECT_TRUE(classes.ok()) << classes.status().ToString();
    auto* out = new std::vector<Entry>();
    for (const SpectrumRecord& r : sentinel::testing::SwgdrugRecords()) {
      Entry e;
      e.name = r.name;
      e.key = r.inchikey.empty() ? AsciiLower(r.name) : r.inchikey;
      if (classes.ok()) e.cls = classes->Classify(r.name, r.synonyms).value_or("");
      e.mass = static_cast<int>(std::lround(r.molecular_weight.value_or(0)));
      e.labelled = IsIsotopeLabelled(r);
      e.spectrum = ToNominal(r.peaks);
      out->push_back(std::move(e));
    }
    return out;
  }();
  return *entries;
}

// The identity-style baseline: weighted squared cosine at equal m/z, 0..999.
double PlainCosine(const NominalSpectrum& a, const NominalSpectrum& b) {
  double dot = 0;
  double na = 0;
  double nb = 0;
  std::size_t j = 0;
  for (const NominalPeak& p : a) {
    na += W2(p.mz, p.intensity);
    while (j < b.size() && b[j].mz < p.mz) ++j;
    if (j < b.size() && b[j].mz == p.mz)
      dot += std::sqrt(W2(p.mz, p.intensity) * W2(b[j].mz, b[j].intensity));
  }
  for (const NominalPeak& p : b) nb += W2(p.mz, p.intensity);
  return na > 0 && nb > 0 ? 999.0 * dot * dot / (na * nb) : 0.0;
}

struct Neighbour {
  const Entry* entry;
  double score;
  int shift;  // query mass - library mass
};

// The nearest library compounds to `query` (one per compound, best first), the compound
// `held_out` and labelled standards removed. With query_mass set, the hybrid score over every
// entry with |shift| <= 200; without, the plain cosine.
std::vector<Neighbour> Nearest(const Entry& query, std::optional<int> query_mass,
                               const std::string& held_out, std::size_t k) {
  std::map<std::string, Neighbour> best;
  for (const Entry& e : Swgdrug()) {
    if (e.key == held_out || e.labelled || e.spectrum.empty()) continue;
    Neighbour n{&e, 0, 0};
    if (query_mass) {
      if (e.mass <= 0 || std::abs(*query_mass - e.mass) > 200) continue;
      n.shift = *query_mass - e.mass;
      n.score = HybridMatchFactor(query.spectrum, *query_mass, e.spectrum, e.mass);
    } else {
      n.score = PlainCosine(query.spectrum, e.spectrum);
    }
    auto [it, inserted] = best.try_emplace(e.key, n);
    if (!inserted && n.score > it->second.score) it->second = n;
  }
  std::vector<Neighbour> out;
  for (const auto& [key, n] : best) out.push_back(n);
  std::sort(out.begin(), out.end(), [](const Neighbour& a, const Neighbour& b) {
    return a.score != b.score ? a.score > b.score : a.entry->name < b.entry->name;
  });
  if (out.size() > k) out.resize(k);
  return out;
}

const Entry& ByName(const std::string& name) {
  for (const Entry& e : Swgdrug()) {
    if (e.name == name) return e;
  }
  ADD_FAILURE() << "no SWGDRUG entry named " << name;
  return Swgdrug().front();
}

void Print(const Entry& q, const std::vector<Neighbour>& ns) {
  std::printf("query %s (M %d, %s):\n", q.name.c_str(), q.mass, q.cls.c_str());
  for (const Neighbour& n : ns) {
    std::printf("  %6.1f  d=%+4d  %-50s %s\n", n.score, n.shift, n.entry->name.c_str(),
                n.entry->cls.c_str());
  }
}

bool Contains(const std::vector<Neighbour>& ns, const std::string& name, int shift) {
  return std::any_of(ns.begin(), ns.end(),
                     [&](const Neighbour& n) { return n.entry->name == name && n.shift == shift; });
}

int SameClass(const std::vector<Neighbour>& ns, const std::string& cls) {
  return static_cast<int>(
      std::count_if(ns.begin(), ns.end(), [&](const Neighbour& n) { return n.entry->cls == cls; }));
}

TEST(HybridAnalogueSearchTest, ButyrylFentanylFindsFentanylFourteenDaLighter) {
  const Entry& q = ByName("Butyryl fentanyl");
  const std::vector<Neighbour> ns = Nearest(q, q.mass, q.key, 10);
  Print(q, ns);
  const std::optional<int> estimate = EstimateNominalMass(q.spectrum);
  ASSERT_TRUE(estimate.has_value());
  const std::vector<Neighbour> with_estimate = Nearest(q, *estimate, q.key, 10);
  std::printf("with the estimated mass %d:\n", *estimate);
  Print(q, with_estimate);
  EXPECT_TRUE(Contains(ns, "Fentanyl", 14));
  EXPECT_EQ(SameClass(std::vector<Neighbour>(ns.begin(), ns.begin() + 5), "fentanyl-related"), 5);
}

TEST(HybridAnalogueSearchTest, NEthylpentyloneFindsPentylone) {
  const Entry& q = ByName("N-Ethylpentylone");
  const std::vector<Neighbour> ns = Nearest(q, q.mass, q.key, 10);
  Print(q, ns);
  EXPECT_TRUE(Contains(ns, "Pentylone", 14));
  EXPECT_GE(SameClass(std::vector<Neighbour>(ns.begin(), ns.begin() + 5), "synthetic cathinone"),
            4);
}

TEST(HybridAnalogueSearchTest, FluoroAdbFindsItsCannabinoidRelatives) {
  const Entry& q = ByName("5-Fluoro-ADB");
  const std::vector<Neighbour> ns = Nearest(q, q.mass, q.key, 10);
  Print(q, ns);
  EXPECT_EQ(SameClass(std::vector<Neighbour>(ns.begin(), ns.begin() + 5), "synthetic cannabinoid"),
            5);
}

// ~50 held-out compounds from the drug families, every spectrum of each removed in turn: how
// often do the top-5 hybrid neighbours share its class, against the plain cosine.
TEST(HybridAnalogueSearchTest, ClassOfHeldOutCompounds) {
  const std::vector<std::string> families = {
      "fentanyl-related", "synthetic cathinone",           "synthetic cannabinoid",
      "amphetamine-type", "phenethylamine (2C/NBOMe/DOx)", "tryptamine",
      "benzodiazepine",   "opioid (non-fentanyl)",         "arylcyclohexylamine"};
  const std::vector<std::string> named = {"Butyryl fentanyl", "N-Ethylpentylone", "5-Fluoro-ADB",
                                          "Acetyl fentanyl",  "Mephedrone",       "25I-NBOMe"};
  // The first spectrum of each compound, not a derivative or a labelled standard.
  std::map<std::string, std::vector<const Entry*>> by_family;
  std::set<std::string> seen;
  for (const Entry& e : Swgdrug()) {
    const std::string name = AsciiLower(e.name);
    const bool derivative =
        name.find("deriv") != std::string::npos || name.find("tms") != std::string::npos ||
        name.find("hfb") != std::string::npos || name.find("metabolite") != std::string::npos;
    if (e.labelled || derivative || e.mass <= 0 || !seen.insert(e.key).second) continue;
    by_family[e.cls].push_back(&e);
  }
  std::vector<const Entry*> queries;
  for (const std::string& n : named) queries.push_back(&ByName(n));
  for (const std::string& f : families) {
    const std::vector<const Entry*>& members = by_family[f];
    const std::size_t step = std::max<std::size_t>(1, members.size() / 5);
    for (std::size_t i = step / 2, taken = 0; i < members.size() && taken < 5; i += step, ++taken) {
      if (std::find(queries.begin(), queries.end(), members[i]) == queries.end()) {
        queries.push_back(members[i]);
      }
    }
  }

  struct Tally {
    int top1 = 0;
    int majority = 0;  // >= 3 of the top 5
    int all5 = 0;
  };
  Tally hybrid_true;
  Tally hybrid_estimated;
  Tally cosine;
  const auto add = [](Tally& t, const std::vector<Neighbour>& ns, const std::string& cls) {
    if (ns.empty()) return;
    const int same = SameClass(ns, cls);
    t.top1 += ns.front().entry->cls == cls ? 1 : 0;
    t.majority += same >= 3 ? 1 : 0;
    t.all5 += same == 5 ? 1 : 0;
  };
  for (const Entry* q : queries) {
    add(hybrid_true, Nearest(*q, q->mass, q->key, 5), q->cls);
    add(hybrid_estimated, Nearest(*q, EstimateNominalMass(q->spectrum), q->key, 5), q->cls);
    add(cosine, Nearest(*q, std::nullopt, q->key, 5), q->cls);
  }
  const int n = static_cast<int>(queries.size());
  std::printf(
      "held-out compounds: %d; class shared by the top-5 neighbours "
      "(top-1 / >=3 of 5 / all 5):\n",
      n);
  const auto row = [&](const char* what, const Tally& t) {
    std::printf("  %-32s %2d / %2d / %2d\n", what, t.top1, t.majority, t.all5);
  };
  row("hybrid, true molecular mass", hybrid_true);
  row("hybrid, estimated mass", hybrid_estimated);
  row("plain weighted cosine", cosine);
  // Measured when written (docs/analogues.md): of 51 queries, hybrid with the true mass 49 / 47
  // / 43, with the estimated mass 47 / 44 / 36, plain cosine 44 / 35 / 20.
  EXPECT_GE(n, 45);
  EXPECT_GE(hybrid_true.majority, n * 85 / 100);
  EXPECT_GE(hybrid_estimated.majority, n * 78 / 100);
  EXPECT_GT(hybrid_true.majority, cosine.majority);
  EXPECT_GT(hybrid_true.all5, cosine.all5);
}

}  // namespace
}  // namespace sentinel::spectra
