#include "core/spectra/spectrum_store.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace sentinel::spectra {
namespace {

SpectrumStore ThreeSpectra() {
  SpectrumStore store;
  store.Add(NominalSpectrum{{41, 120.5f}, {58, 999}, {91, 3.25f}});
  store.Add(NominalSpectrum{});
  store.Add(NominalSpectrum{{2000, 999}});
  return store;
}

TEST(SpectrumStoreTest, AddAssignsDenseIdsAndGetReturnsPeaksBitForBit) {
  SpectrumStore store;
  const NominalSpectrum a{{41, 120.5f}, {58, 999}, {91, 3.25f}};
  const NominalSpectrum b{{44, 999}};
  EXPECT_EQ(store.Add(a), 0u);
  EXPECT_EQ(store.Add(NominalSpectrum{}), 1u);
  EXPECT_EQ(store.Add(b), 2u);
  ASSERT_EQ(store.size(), 3u);
  EXPECT_EQ(store.total_peaks(), 4u);
  EXPECT_EQ(store.Get(0), a);
  EXPECT_TRUE(store.Get(1).empty());
  EXPECT_EQ(store.Get(2), b);
  EXPECT_EQ(store.peak_count(0), 3u);
  ASSERT_EQ(store.mz(0).size(), 3u);
  EXPECT_EQ(store.mz(0)[1], 58);
  EXPECT_EQ(store.intensity(0)[2], 3.25f);
}

TEST(SpectrumStoreTest, AddCanonicalisesInsteadOfRejecting) {
  SpectrumStore store;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const NominalSpectrum messy{{91, 10}, {41, 5}, {91, 2.5f}, {0, 50},   {2001, 7},
                              {60, -1}, {61, 0}, {62, nan},  {63, inf}, {40, 999}};
  EXPECT_EQ(store.Add(messy), 0u);
  const NominalSpectrum want{{40, 999}, {41, 5}, {91, 12.5f}};
  EXPECT_EQ(store.Get(0), want);
  // Nothing usable still yields a (empty) spectrum, so ids stay aligned with the caller's.
  EXPECT_EQ(store.Add(NominalSpectrum{{0, 1}}), 1u);
  EXPECT_EQ(store.peak_count(1), 0u);
}

TEST(SpectrumStoreTest, MovedFromStoreIsEmptyAndReusable) {
  SpectrumStore a = ThreeSpectra();
  SpectrumStore b = std::move(a);
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): the state is specified
  EXPECT_EQ(a.Add(NominalSpectrum{{50, 999}}), 0u);
  EXPECT_EQ(a.Get(0), (NominalSpectrum{{50, 999}}));
}

TEST(SpectrumStoreTest, MemoryIsSixBytesPerPeakPlusOffsets) {
  SpectrumStore store;
  NominalSpectrum s;
  for (std::uint16_t mz = 1; mz <= 100; ++mz) s.push_back({mz, 1.0f * mz});
  for (int i = 0; i < 10; ++i) store.Add(s);
  const std::size_t arrays = 1000 * 6 + 11 * 8;
  EXPECT_GE(store.MemoryBytes(), arrays);
  EXPECT_LE(store.MemoryBytes(), arrays + 256);
}

TEST(SpectrumStoreTest, SerializeRoundTrips) {
  const SpectrumStore store = ThreeSpectra();
  std::string bytes = "prefix";  // Serialize appends
  store.Serialize(&bytes);
  ASSERT_EQ(bytes.substr(0, 6), "prefix");
  auto back = SpectrumStore::Deserialize(std::string_view(bytes).substr(6));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ASSERT_EQ(back->size(), store.size());
  for (std::uint32_t id = 0; id < store.size(); ++id) EXPECT_EQ(back->Get(id), store.Get(id));
  std::string again;
  back->Serialize(&again);
  EXPECT_EQ(again, bytes.substr(6));

  auto empty = SpectrumStore::Deserialize([] {
    std::string s;
    SpectrumStore().Serialize(&s);
    return s;
  }());
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->size(), 0u);
}

TEST(SpectrumStoreTest, DeserializeRejectsEveryTruncationAndTrailingBytes) {
  std::string bytes;
  ThreeSpectra().Serialize(&bytes);
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    auto r = SpectrumStore::Deserialize(std::string_view(bytes).substr(0, len));
    ASSERT_FALSE(r.ok()) << "length " << len;
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  }
  auto r = SpectrumStore::Deserialize(bytes + "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
}

TEST(SpectrumStoreTest, DeserializeRejectsCorruptFields) {
  std::string good;
  ThreeSpectra().Serialize(&good);
  // Layout: magic 8 | spectra u64 @8 | peaks u64 @16 | counts u32 @24 (3 of them) |
  // m/z u16 @36 (4 of them) | intensities f32 @44.
  const auto expect_corrupt = [&](const std::string& what, auto mutate) {
    std::string bad = good;
    mutate(&bad);
    auto r = SpectrumStore::Deserialize(bad);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption) << what;
  };
  expect_corrupt("magic", [](std::string* s) { (*s)[0] = 'X'; });
  expect_corrupt("huge spectrum count", [](std::string* s) { (*s)[15] = '\x7f'; });
  expect_corrupt("huge peak count", [](std::string* s) { (*s)[23] = '\x7f'; });
  expect_corrupt("counts disagree", [](std::string* s) { (*s)[28] = 1; });
  expect_corrupt("count overflow", [](std::string* s) { std::memset(s->data() + 24, 0xff, 4); });
  expect_corrupt("m/z zero", [](std::string* s) {
    (*s)[36] = 0;
    (*s)[37] = 0;
  });
  expect_corrupt("m/z too high", [](std::string* s) { (*s)[43] = '\x7f'; });
  expect_corrupt("unsorted", [](std::string* s) { std::swap((*s)[36], (*s)[38]); });
  expect_corrupt("negative intensity", [](std::string* s) { (*s)[47] = '\xc2'; });
  expect_corrupt("NaN intensity", [](std::string* s) {
    (*s)[46] = '\xc0';
    (*s)[47] = '\x7f';
  });
}

}  // namespace
}  // namespace sentinel::spectra
