// SpectrumStore: a flat, append-then-freeze container of nominal spectra.
//
// A library of a million spectra held as a million std::vector objects costs a heap block
// per spectrum and scatters every scan across memory. The store keeps all peaks in three
// flat arrays instead (struct of arrays): per-spectrum offsets, m/z as uint16 and intensity
// as float, i.e. 6 bytes per peak plus 8 per spectrum. Spectrum ids are dense,
// 0..size()-1, in insertion order.
//
// Invariants (established by Add, checked by Deserialize): within each spectrum the m/z
// values are strictly ascending and in [1, kMaxNominalMz], and every intensity is finite
// and > 0. A NominalSpectrum from ToNominal already satisfies them, and is stored bit for bit.
//
// Thread-safety: const methods may run concurrently with each other. Add and Reserve must
// not run concurrently with anything. Indexes built over a store (FragmentIndex) keep a
// pointer to it: the store must neither change nor move while such an index exists.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/status.h"
#include "core/spectra/spectrum.h"

namespace sentinel::spectra {

class SpectrumStore {
 public:
  SpectrumStore() = default;
  SpectrumStore(SpectrumStore&&) = default;
  SpectrumStore& operator=(SpectrumStore&&) = default;
  SpectrumStore(const SpectrumStore&) = delete;
  SpectrumStore& operator=(const SpectrumStore&) = delete;

  // Appends one spectrum and returns its id. Always appends exactly one spectrum, so ids stay
  // aligned with the caller's own records: peaks with m/z outside [1, kMaxNominalMz] or an
  // intensity that is not finite and > 0 are dropped, the rest are sorted by m/z and the
  // intensities of a repeated m/z summed. Intensities are not rescaled. An empty spectrum is
  // allowed (it never matches anything).
  // REQUIRES: size() < 2^32 - 1.
  std::uint32_t Add(std::span<const NominalPeak> peaks);

  // Capacity hint for bulk loading; changes nothing observable.
  void Reserve(std::size_t spectra, std::size_t peaks);

  // (A moved-from store has no offsets at all and reads as empty.)
  std::size_t size() const { return offsets_.empty() ? 0 : offsets_.size() - 1; }
  bool empty() const { return size() == 0; }
  std::size_t total_peaks() const { return mz_.size(); }

  // Accessors. REQUIRES: id < size().
  std::size_t peak_count(std::uint32_t id) const {
    assert(id < size());
    return static_cast<std::size_t>(offsets_[id + 1] - offsets_[id]);
  }
  std::span<const std::uint16_t> mz(std::uint32_t id) const {
    return {mz_.data() + offsets_[id], peak_count(id)};
  }
  std::span<const float> intensity(std::uint32_t id) const {
    return {intensity_.data() + offsets_[id], peak_count(id)};
  }
  NominalSpectrum Get(std::uint32_t id) const;

  // Performance hint before reading spectrum `id` at random: `peaks` false starts fetching where
  // its peaks are; true (issued a while later) starts fetching the peaks. No observable effect.
  // REQUIRES: id < size().
  void Prefetch(std::uint32_t id, bool peaks) const {
    if (!peaks) {
      __builtin_prefetch(&offsets_[id]);
    } else {
      __builtin_prefetch(mz_.data() + offsets_[id]);
      __builtin_prefetch(intensity_.data() + offsets_[id]);
    }
  }

  // Bytes held by the arrays (their sizes, not capacities, plus the object itself).
  std::size_t MemoryBytes() const;

  // Appends a self-delimiting little-endian encoding to *out:
  //   "SNTLSPS1" | u64 spectra | u64 peaks | u32 peak count per spectrum |
  //   u16 m/z per peak | f32 intensity per peak (IEEE-754 bits).
  void Serialize(std::string* out) const;

  // Parses exactly the bytes Serialize wrote. Any inconsistency (wrong magic, sizes that do
  // not add up, trailing bytes, a peak breaking the invariants) returns Corruption; bad bytes
  // never crash and never allocate more than the input's size justifies.
  static Result<SpectrumStore> Deserialize(std::string_view bytes);

 private:
  std::vector<std::uint64_t> offsets_ = {0};  // size() + 1 entries; front() == 0
  std::vector<std::uint16_t> mz_;
  std::vector<float> intensity_;
};

}  // namespace sentinel::spectra
