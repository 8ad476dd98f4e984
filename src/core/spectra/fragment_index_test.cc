#include "core/spectra/fragment_index.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/spectra/scores.h"
#include "core/spectra/spectrum.h"
#include "core/spectra/spectrum_store.h"
#include "test/support/swgdrug.h"

namespace sentinel::spectra {
namespace {

std::vector<NominalSpectrum> ReadSwgdrug() {
  std::vector<NominalSpectrum> out;
  for (const SpectrumRecord& r : sentinel::testing::SwgdrugRecords())
    out.push_back(ToNominal(r.peaks));
  if (out.size() < 1000) {  // every test here needs the library; fail loudly, not by indexing
    std::fprintf(stderr, "cannot read the SWGDRUG library\n");
    std::abort();
  }
  return out;
}

const std::vector<NominalSpectrum>& Swgdrug() {
  static const auto* spectra = new std::vector<NominalSpectrum>(ReadSwgdrug());
  return *spectra;
}

struct SwgdrugIndex {
  SpectrumStore store;
  FragmentIndex index = FragmentIndex::Build(store);
};

const SwgdrugIndex& SwgdrugLibrary() {
  static const SwgdrugIndex* lib = [] {
    auto* l = new SwgdrugIndex;
    for (const auto& s : Swgdrug()) l->store.Add(s);
    l->index = FragmentIndex::Build(l->store);
    return l;
  }();
  return *lib;
}

// A replicate measurement: log-normal intensity noise, small peaks lost, a few noise peaks.
NominalSpectrum Perturb(const NominalSpectrum& s, std::mt19937_64& rng) {
  std::normal_distribution<double> noise(0.0, 0.15);
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<Peak> peaks;
  for (const NominalPeak& p : s) {
    if (p.intensity < 20 && unit(rng) < 0.3) continue;
    peaks.push_back({static_cast<double>(p.mz), p.intensity * std::exp(noise(rng))});
  }
  for (int i = 0; i < 3; ++i)
    peaks.push_back({std::floor(40 + unit(rng) * 300), 1 + unit(rng) * 9});
  return ToNominal(peaks);
}

NominalSpectrum RandomSpectrum(std::mt19937_64& rng, int max_peaks, int max_mz) {
  std::uniform_int_distribution<int> count(1, max_peaks);
  std::uniform_int_distribution<int> mz(1, max_mz);
  std::uniform_int_distribution<int> intensity(1, 999);  // integers make exact ties likely
  std::vector<Peak> peaks;
  for (int i = count(rng); i > 0; --i) {
    peaks.push_back({static_cast<double>(mz(rng)), static_cast<double>(intensity(rng))});
  }
  return ToNominal(peaks);
}

// Same ids, same order, bit-identical scores.
void ExpectSame(const std::vector<ScoredCandidate>& got, const std::vector<ScoredCandidate>& want,
                const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].id, want[i].id) << what << " rank " << i;
    ASSERT_EQ(got[i].cosine, want[i].cosine) << what << " rank " << i;
  }
}

// TopK through the index alone and through the automatic path, both against the scan.
void ExpectExact(const FragmentIndex& index, const NominalSpectrum& query, std::size_t k,
                 const std::string& what) {
  const auto want = index.TopKExhaustive(query, k);
  TopKStats stats;
  ExpectSame(index.TopK(query, k, &stats, SearchPath::kIndexOnly), want, what + " (index)");
  EXPECT_EQ(stats.bound_violations, 0u) << what;
  EXPECT_FALSE(stats.fell_back_to_scan) << what;
  ExpectSame(index.TopK(query, k), want, what + " (auto)");
}

void ExpectSortedAndPositive(const std::vector<ScoredCandidate>& r) {
  for (std::size_t i = 0; i < r.size(); ++i) {
    EXPECT_GT(r[i].cosine, 0.0f);
    EXPECT_LE(r[i].cosine, 1.0f);
    if (i > 0) {
      EXPECT_TRUE(r[i - 1].cosine > r[i].cosine ||
                  (r[i - 1].cosine == r[i].cosine && r[i - 1].id < r[i].id));
    }
  }
}

TEST(FragmentIndexTest, HandComputedScoresAndOrder) {
  SpectrumStore store;
  store.Add(NominalSpectrum{{50, 999}, {100, 999}});  // 0: cos = sqrt(50 / 150)
  store.Add(NominalSpectrum{{50, 999}});              // 1: identical to the query
  store.Add(NominalSpectrum{{77, 999}});              // 2: shares nothing
  store.Add(NominalSpectrum{{50, 999}});              // 3: tie with 1, larger id
  const FragmentIndex index = FragmentIndex::Build(store);
  const NominalSpectrum query{{50, 500}};
  const auto top = index.TopK(query, 10);
  ASSERT_EQ(top.size(), 3u);  // spectrum 2 has cosine 0 and is not reported
  EXPECT_EQ(top[0].id, 1u);
  EXPECT_EQ(top[1].id, 3u);
  EXPECT_EQ(top[2].id, 0u);
  EXPECT_FLOAT_EQ(top[0].cosine, 1.0f);
  EXPECT_EQ(top[0].cosine, top[1].cosine);
  EXPECT_NEAR(top[2].cosine, std::sqrt(50.0 / 150.0), 1e-6);
  ExpectSame(index.TopK(query, 2), {top[0], top[1]}, "k=2");
  ExpectSame(index.TopK(query, 1), {top[0]}, "k=1");
}

TEST(FragmentIndexTest, DegenerateQueriesAndK) {
  const auto& lib = SwgdrugLibrary();
  const NominalSpectrum& some = Swgdrug()[17];
  for (SearchPath path : {SearchPath::kAuto, SearchPath::kIndexOnly}) {
    EXPECT_TRUE(lib.index.TopK({}, 10, nullptr, path).empty());
    EXPECT_TRUE(lib.index.TopK(some, 0, nullptr, path).empty());
    const NominalSpectrum unusable{{0, 5}, {60, -1}, {61, std::nanf("")}};
    EXPECT_TRUE(lib.index.TopK(unusable, 10, nullptr, path).empty());
    // An m/z no library spectrum has.
    EXPECT_TRUE(lib.index.TopK(NominalSpectrum{{1999, 999}}, 10, nullptr, path).empty());
  }
  EXPECT_TRUE(lib.index.TopKExhaustive({}, 10).empty());
  EXPECT_TRUE(lib.index.TopKExhaustive(some, 0).empty());

  // One peak: every spectrum holding that m/z scores its unit weight there.
  for (int m : {15, 43, 58, 91, 105, 231, 303}) {
    const auto mz = static_cast<std::uint16_t>(m);
    const NominalSpectrum single{{mz, 999}};
    for (std::size_t k : {1, 10, 100, 100000}) {
      ExpectExact(lib.index, single, k, "single m/z " + std::to_string(mz));
      ExpectSortedAndPositive(lib.index.TopK(single, k));
    }
  }
  // Invalid peaks are ignored the same way by both paths; repeated m/z are summed.
  NominalSpectrum messy = some;
  messy.push_back({0, 50});
  messy.push_back({some[0].mz, 10});
  std::reverse(messy.begin(), messy.end());
  ExpectExact(lib.index, messy, 50, "messy query");
}

TEST(FragmentIndexTest, EverySwgdrugSpectrumAsQueryMatchesExhaustive) {
  const auto& lib = SwgdrugLibrary();
  ASSERT_EQ(lib.store.size(), 2988u);
  // The slowest test, so on both cores (running TopK concurrently as a bonus). One scan per
  // query serves both k: the top 10 of the scan's top 100 is its top 10.
  std::vector<std::string> failures[2];
  std::size_t verified[2] = {0, 0}, violations[2] = {0, 0}, queries[2] = {0, 0};
  std::vector<std::thread> threads;
  threads.reserve(2);
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (std::uint32_t id = static_cast<std::uint32_t>(t); id < lib.store.size(); id += 2) {
        const NominalSpectrum query = lib.store.Get(id);
        const auto want = lib.index.TopKExhaustive(query, 100);
        const std::vector<ScoredCandidate> want10(want.begin(), want.begin() + 10);
        TopKStats stats;
        const auto got = lib.index.TopK(query, 10, &stats, SearchPath::kIndexOnly);
        if (got != want10) failures[t].push_back("k=10 query " + std::to_string(id));
        if (got.empty() || got[0].cosine < 0.99999f) {  // itself, or an identical spectrum
          failures[t].push_back("top of query " + std::to_string(id));
        }
        verified[t] += stats.candidates_verified;
        violations[t] += stats.bound_violations;
        ++queries[t];
        if (id % 16 < 2) {
          if (lib.index.TopK(query, 100, &stats, SearchPath::kIndexOnly) != want) {
            failures[t].push_back("k=100 query " + std::to_string(id));
          }
          violations[t] += stats.bound_violations;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const auto& f : failures) {
    EXPECT_TRUE(f.empty()) << f.size() << " failures, first: " << f.front();
  }
  EXPECT_EQ(violations[0] + violations[1], 0u);
  // The index must prune: at k = 10, under a tenth of the library scored on average.
  EXPECT_LT(verified[0] + verified[1], (queries[0] + queries[1]) * lib.store.size() / 10);
}

TEST(FragmentIndexTest, PerturbedSwgdrugQueriesMatchExhaustiveForAllK) {
  const auto& lib = SwgdrugLibrary();
  std::mt19937_64 rng(7);
  std::size_t verified = 0, queries = 0;
  for (std::uint32_t id = 0; id < lib.store.size(); id += 37) {
    const NominalSpectrum query = Perturb(lib.store.Get(id), rng);
    for (std::size_t k : {std::size_t{1}, std::size_t{10}, std::size_t{100}, std::size_t{5000}}) {
      ExpectExact(lib.index, query, k, "query " + std::to_string(id) + " k " + std::to_string(k));
      if (k == 5000) ExpectSortedAndPositive(lib.index.TopK(query, k));
    }
    TopKStats stats;
    lib.index.TopK(query, 10, &stats, SearchPath::kIndexOnly);
    verified += stats.candidates_verified;
    ++queries;
  }
  // With k = 10 the pruning is strong: on average under a tenth of the library scored.
  EXPECT_LT(verified, queries * lib.store.size() / 10);
}

TEST(FragmentIndexTest, AutoPathScansOnlyWhenKIsALargePartOfTheLibrary) {
  const auto& lib = SwgdrugLibrary();
  const NominalSpectrum& query = Swgdrug()[1234];
  TopKStats stats;
  lib.index.TopK(query, 1, &stats);
  EXPECT_FALSE(stats.fell_back_to_scan);
  EXPECT_LT(stats.candidates_verified, 50u);
  lib.index.TopK(query, 1000, &stats);
  EXPECT_TRUE(stats.fell_back_to_scan);
  EXPECT_EQ(stats.candidates_verified, lib.store.size());
}

TEST(FragmentIndexTest, RandomLibrariesWithTiesMatchExhaustive) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 6; ++round) {
    // Few m/z and integer intensities give many exact ties; duplicates give more.
    const int max_mz = round % 2 == 0 ? 30 : 400;
    SpectrumStore store;
    std::vector<NominalSpectrum> kept;
    for (int i = 0; i < 1500; ++i) {
      if (!kept.empty() && rng() % 5 == 0) {
        store.Add(kept[rng() % kept.size()]);
      } else {
        kept.push_back(RandomSpectrum(rng, 1 + round * 10, max_mz));
        store.Add(kept.back());
      }
    }
    const FragmentIndex index = FragmentIndex::Build(store);
    for (int q = 0; q < 40; ++q) {
      const NominalSpectrum query =
          q % 2 == 0 ? kept[rng() % kept.size()] : RandomSpectrum(rng, 1 + round * 10, max_mz);
      for (std::size_t k : {std::size_t{1}, std::size_t{7}, std::size_t{100}, std::size_t{2000}}) {
        ExpectExact(index, query, k,
                    "round " + std::to_string(round) + " query " + std::to_string(q));
      }
    }
  }
}

TEST(FragmentIndexTest, NearTiesAtTheCutOffMatchExhaustive) {
  // Many copies of one spectrum differing in the last bits of one intensity: scores differ by
  // ~1e-7, exactly where a careless bound or a rounding slip would show.
  const NominalSpectrum& base = Swgdrug()[100];
  SpectrumStore store;
  std::mt19937_64 rng(3);
  for (int i = 0; i < 400; ++i) {
    NominalSpectrum s = base;
    const std::size_t at = rng() % s.size();
    s[at].intensity = std::nextafter(s[at].intensity, 1e6f);
    if (i % 3 == 0) s[rng() % s.size()].intensity *= 1.0f + 1e-6f * static_cast<float>(i);
    store.Add(s);
  }
  for (const auto& s : Swgdrug()) store.Add(s);
  const FragmentIndex index = FragmentIndex::Build(store);
  for (std::size_t k : {1, 10, 100, 399, 400, 401, 500}) {
    ExpectExact(index, base, k, "k " + std::to_string(k));
  }
}

TEST(FragmentIndexTest, ExactScoreEqualsWeightedCosine) {
  const auto& lib = SwgdrugLibrary();
  std::mt19937_64 rng(11);
  for (std::uint32_t id = 0; id < lib.store.size(); id += 97) {
    const NominalSpectrum query = Perturb(lib.store.Get(id), rng);
    for (const ScoredCandidate& c : lib.index.TopKExhaustive(query, 20)) {
      EXPECT_NEAR(c.cosine, WeightedCosine(query, lib.store.Get(c.id)), 1e-6);
    }
  }
}

TEST(FragmentIndexTest, SerializeRoundTripsAndBuildIsDeterministic) {
  const auto& lib = SwgdrugLibrary();
  std::string bytes;
  lib.index.Serialize(&bytes);
  std::string two_threads;
  FragmentIndex::Build(lib.store, 2).Serialize(&two_threads);
  EXPECT_EQ(bytes, two_threads);

  auto back = FragmentIndex::Deserialize(bytes, lib.store);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->MemoryBytes(), lib.index.MemoryBytes());
  std::string again;
  back->Serialize(&again);
  EXPECT_EQ(again, bytes);
  std::mt19937_64 rng(5);
  for (std::uint32_t id = 0; id < lib.store.size(); id += 101) {
    const NominalSpectrum query = Perturb(lib.store.Get(id), rng);
    ExpectSame(back->TopK(query, 20, nullptr, SearchPath::kIndexOnly),
               lib.index.TopK(query, 20, nullptr, SearchPath::kIndexOnly), "after round trip");
  }
  // Memory: ~6 bytes per posting, far under the 2 KiB per spectrum budget with the store.
  const double per_spectrum =
      static_cast<double>(lib.index.MemoryBytes() + lib.store.MemoryBytes()) /
      static_cast<double>(lib.store.size());
  EXPECT_LT(per_spectrum, 2048.0);
}

class SmallIndex : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 12; ++i) store_.Add(Swgdrug()[static_cast<std::size_t>(i) * 7]);
    FragmentIndex::Build(store_).Serialize(&bytes_);
  }
  void ExpectCorrupt(const std::string& bytes, const std::string& what) const {
    auto r = FragmentIndex::Deserialize(bytes, store_);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << what;
  }
  // Offsets in the encoding (see fragment_index.h).
  static constexpr std::size_t kLengths = 28;
  std::size_t IdsAt() const { return kLengths + std::size_t{kMaxNominalMz + 1} * 8; }
  std::size_t WeightsAt() const { return IdsAt() + store_.total_peaks() * 4; }

  SpectrumStore store_;
  std::string bytes_;
};

TEST_F(SmallIndex, DeserializeRejectsEveryTruncation) {
  ASSERT_TRUE(FragmentIndex::Deserialize(bytes_, store_).ok());
  for (std::size_t len = 0; len < bytes_.size(); ++len) {
    ExpectCorrupt(bytes_.substr(0, len), "truncated to " + std::to_string(len));
  }
  ExpectCorrupt(bytes_ + '\0', "trailing byte");
}

TEST_F(SmallIndex, DeserializeRejectsCorruptFields) {
  const auto mutated = [&](auto mutate) {
    std::string bad = bytes_;
    mutate(bad);
    return bad;
  };
  ExpectCorrupt(mutated([](std::string& s) { s[3] = 'x'; }), "magic");
  ExpectCorrupt(mutated([](std::string& s) { s[8] ^= 1; }), "spectrum count");
  ExpectCorrupt(mutated([](std::string& s) { s[16] ^= 1; }), "posting count");
  ExpectCorrupt(mutated([](std::string& s) { s[15] = '\x7f'; }), "huge spectrum count");
  ExpectCorrupt(mutated([](std::string& s) { s[24] ^= 1; }), "max m/z");
  // Move one posting from one list to the next: the total still adds up.
  const std::size_t list = kLengths + std::size_t{91} * 8;
  ASSERT_GT(static_cast<unsigned char>(bytes_[list]), 0);
  ExpectCorrupt(mutated([&](std::string& s) {
                  --s[list];
                  ++s[list + 8];
                }),
                "list lengths");
  ExpectCorrupt(mutated([&](std::string& s) { s[list + 7] = '\x7f'; }), "huge list length");
  ExpectCorrupt(mutated([&](std::string& s) { s[IdsAt() + 3] = '\x01'; }), "id out of range");
  ExpectCorrupt(mutated([&](std::string& s) {
                  s[WeightsAt()] = 0;
                  s[WeightsAt() + 1] = 0;
                }),
                "zero weight");
  // Changes that keep every structural rule: only the fingerprint against the store sees them.
  std::string bumped = bytes_;
  bool found = false;
  std::size_t end = 0;
  for (std::size_t m = 0; m <= kMaxNominalMz && !found; ++m) {
    const auto length = static_cast<unsigned char>(bytes_[kLengths + m * 8]);  // all < 256 here
    end += length;
    if (length == 0) continue;
    // Lowering the last posting of a list by one keeps the list in order.
    auto* w = reinterpret_cast<unsigned char*>(bumped.data() + WeightsAt() + (end - 1) * 2);
    if (w[0] > 1) {
      --w[0];
      found = true;
    }
  }
  ASSERT_TRUE(found);
  ASSERT_TRUE(FragmentIndex::Deserialize(bytes_, store_).ok());
  ExpectCorrupt(bumped, "one weight lowered");
  std::string swapped = bytes_;
  std::swap(swapped[IdsAt()], swapped[IdsAt() + 4 * (store_.total_peaks() - 1)]);
  ASSERT_NE(swapped, bytes_);
  ExpectCorrupt(swapped, "ids exchanged between lists");
  // An index over a different store of the same shape.
  SpectrumStore other;
  for (std::uint32_t id = 0; id < store_.size(); ++id) {
    NominalSpectrum s = store_.Get(id);
    if (id == 4) s[0].intensity *= 3;
    other.Add(s);
  }
  auto r = FragmentIndex::Deserialize(bytes_, other);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
}

TEST(FragmentIndexTest, ConcurrentQueriesAgree) {
  const auto& lib = SwgdrugLibrary();
  std::mt19937_64 rng(9);
  std::vector<NominalSpectrum> queries;
  std::vector<std::vector<ScoredCandidate>> want;
  for (std::uint32_t id = 0; id < lib.store.size(); id += 53) {
    queries.push_back(Perturb(lib.store.Get(id), rng));
    want.push_back(lib.index.TopKExhaustive(queries.back(), 25));
  }
  std::vector<int> mismatches(2, 0);
  std::vector<std::thread> threads;
  threads.reserve(2);
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 3; ++rep) {
        for (std::size_t i = 0; i < queries.size(); ++i) {
          if (lib.index.TopK(queries[i], 25, nullptr, SearchPath::kIndexOnly) != want[i]) {
            ++mismatches[t];
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(mismatches[0] + mismatches[1], 0);
}

}  // namespace
}  // namespace sentinel::spectra
