#include "adapters/index_file/index_file.h"

#include <gtest/gtest.h>

#include <xxhash.h>

#include <cstring>
#include <random>

namespace sentinel::index_file {
namespace {

std::unique_ptr<spectra::Library> SmallLibrary() {
  std::vector<spectra::SpectrumRecord> records;
  std::mt19937 rng(7);
  for (int i = 0; i < 40; ++i) {
    spectra::SpectrumRecord r;
    r.name = "compound " + std::to_string(i);
    r.synonyms = {"syn " + std::to_string(i)};
    r.inchikey = i % 3 == 0 ? "" : "KEY" + std::to_string(i);
    r.formula = "C10H15N";
    r.id = std::to_string(1000 + i);
    r.comment = "test";
    for (int p = 0; p < 30; ++p) {
      r.peaks.push_back(
          {static_cast<double>(30 + rng() % 300), static_cast<double>(1 + rng() % 999)});
    }
    records.push_back(std::move(r));
  }
  return spectra::Library::Build("small", std::move(records), nullptr);
}

TEST(IndexFile, RoundTripPreservesEverything) {
  auto lib = SmallLibrary();
  const std::vector<SourceFingerprint> sources = {{"a.msp", 123, 0xabcdef}};
  const std::string bytes = EncodeIndex(*lib, sources);
  auto decoded = DecodeIndex(bytes, "mem");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->sources, sources);
  const spectra::Library& back = *decoded->library;
  ASSERT_EQ(back.size(), lib->size());
  EXPECT_EQ(back.label(), "small");
  for (std::uint32_t i = 0; i < lib->size(); ++i) {
    EXPECT_EQ(back.entry(i).name, lib->entry(i).name);
    EXPECT_EQ(back.entry(i).synonyms, lib->entry(i).synonyms);
    EXPECT_EQ(back.entry(i).inchikey, lib->entry(i).inchikey);
    EXPECT_EQ(back.entry(i).nominal_mass, lib->entry(i).nominal_mass);
    EXPECT_EQ(back.entry(i).compound_key, lib->entry(i).compound_key);
    EXPECT_EQ(back.store().Get(i), lib->store().Get(i));
    const auto a = back.fragments().TopK(lib->store().Get(i), 5);
    const auto b = lib->fragments().TopK(lib->store().Get(i), 5);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t k = 0; k < a.size(); ++k) EXPECT_EQ(a[k].id, b[k].id);
  }
  // Re-encoding the decoded library gives the same bytes: nothing was lost or reordered.
  EXPECT_EQ(EncodeIndex(back, sources), bytes);
}

TEST(IndexFile, EveryTruncationIsCorruptionNotACrash) {
  auto lib = SmallLibrary();
  const std::string bytes = EncodeIndex(*lib, {});
  for (std::size_t len = 0; len < bytes.size();
       len += std::max<std::size_t>(1, bytes.size() / 97)) {
    auto decoded = DecodeIndex(std::string_view(bytes).substr(0, len), "cut");
    ASSERT_FALSE(decoded.ok()) << len;
    EXPECT_EQ(decoded.status().code(), Status::Code::kCorruption) << len;
  }
}

TEST(IndexFile, FlippedBytesAreDetected) {
  auto lib = SmallLibrary();
  const std::string bytes = EncodeIndex(*lib, {});
  for (std::size_t pos = 40; pos < bytes.size(); pos += 131) {
    std::string damaged = bytes;
    damaged[pos] = static_cast<char>(damaged[pos] ^ 0x01);
    auto decoded = DecodeIndex(damaged, "flip");
    ASSERT_FALSE(decoded.ok()) << pos;
    EXPECT_NE(decoded.status().message().find("checksum"), std::string::npos);
  }
}

TEST(IndexFile, OtherFormatVersionIsStaleNotCorrupt) {
  auto lib = SmallLibrary();
  std::string bytes = EncodeIndex(*lib, {});
  const std::uint32_t other = kFormatVersion + 1;
  std::memcpy(bytes.data() + 8, &other, sizeof(other));
  auto decoded = DecodeIndex(bytes, "old");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(decoded.status().message().find("sentinel library build"), std::string::npos);
}

// Re-seals a hand-altered payload so the decoder gets past the checksum to the field checks.
std::string Reseal(std::string bytes) {
  constexpr std::size_t kHeader = 32;
  const std::uint64_t payload = bytes.size() - kHeader;
  const std::uint64_t sum = XXH64(bytes.data() + kHeader, payload, 0);
  std::memcpy(bytes.data() + 16, &payload, sizeof(payload));
  std::memcpy(bytes.data() + 24, &sum, sizeof(sum));
  return bytes;
}

TEST(IndexFile, CorruptCountsCannotDriveHugeAllocations) {
  // A sealed index whose entry count claims 99 million entries: the decoder must refuse it
  // from the bytes left, not try to allocate 99 million entries (the fuzzer's out-of-memory).
  auto lib = SmallLibrary();
  const std::string bytes = EncodeIndex(*lib, {});
  const std::size_t label_end = 32 + 4 + lib->label().size();
  const std::size_t count_at = label_end + 4;  // after the source count (0 sources)
  std::uint64_t count = 0;
  std::memcpy(&count, bytes.data() + count_at, sizeof(count));
  ASSERT_EQ(count, lib->size());
  std::string altered = bytes;
  const std::uint64_t huge = 99'000'000;
  std::memcpy(altered.data() + count_at, &huge, sizeof(huge));
  auto decoded = DecodeIndex(Reseal(altered), "huge");
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("bad entry count"), std::string::npos);

  std::uint32_t sources = 0;
  std::memcpy(&sources, bytes.data() + label_end, sizeof(sources));
  ASSERT_EQ(sources, 0U);
  altered = bytes;
  const std::uint32_t many = 50'000'000;
  std::memcpy(altered.data() + label_end, &many, sizeof(many));
  decoded = DecodeIndex(Reseal(altered), "many");
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("bad index header"), std::string::npos);
}

TEST(IndexFile, NotAnIndexAtAll) {
  auto decoded = DecodeIndex("Name: fentanyl\nNum Peaks: 0\n", "x.msp");
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.status().message().find("not a Sentinel library index"), std::string::npos);
}

}  // namespace
}  // namespace sentinel::index_file
