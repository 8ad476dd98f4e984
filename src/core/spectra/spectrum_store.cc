#include "core/spectra/spectrum_store.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>

#include "core/common/little_endian.h"

namespace sentinel::spectra {
namespace {

using little_endian::GetArray;
using little_endian::GetScalar;
using little_endian::PutArray;
using little_endian::PutScalar;

constexpr char kMagic[8] = {'S', 'N', 'T', 'L', 'S', 'P', 'S', '1'};

bool ValidPeak(const NominalPeak& p) {
  return p.mz >= 1 && p.mz <= kMaxNominalMz && std::isfinite(p.intensity) && p.intensity > 0;
}

// True when the peaks can be stored as given: the common case of a ToNominal result.
bool Canonical(std::span<const NominalPeak> peaks) {
  for (std::size_t i = 0; i < peaks.size(); ++i) {
    if (!ValidPeak(peaks[i])) return false;
    if (i > 0 && peaks[i - 1].mz >= peaks[i].mz) return false;
  }
  return true;
}

}  // namespace

std::uint32_t SpectrumStore::Add(std::span<const NominalPeak> peaks) {
  assert(size() < std::numeric_limits<std::uint32_t>::max());
  const auto id = static_cast<std::uint32_t>(size());
  if (offsets_.empty()) offsets_.push_back(0);  // moved from, then reused
  if (Canonical(peaks)) {
    for (const NominalPeak& p : peaks) {
      mz_.push_back(p.mz);
      intensity_.push_back(p.intensity);
    }
  } else {
    std::vector<NominalPeak> sorted;
    sorted.reserve(peaks.size());
    for (const NominalPeak& p : peaks) {
      if (ValidPeak(p)) sorted.push_back(p);
    }
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const NominalPeak& a, const NominalPeak& b) { return a.mz < b.mz; });
    for (std::size_t i = 0; i < sorted.size();) {
      double sum = 0;
      std::size_t j = i;
      for (; j < sorted.size() && sorted[j].mz == sorted[i].mz; ++j) sum += sorted[j].intensity;
      // A sum of finite floats can overflow float; clamp so the invariant holds.
      const auto value =
          static_cast<float>(std::min<double>(sum, std::numeric_limits<float>::max()));
      mz_.push_back(sorted[i].mz);
      intensity_.push_back(value);
      i = j;
    }
  }
  offsets_.push_back(mz_.size());
  return id;
}

void SpectrumStore::Reserve(std::size_t spectra, std::size_t peaks) {
  offsets_.reserve(spectra + 1);
  mz_.reserve(peaks);
  intensity_.reserve(peaks);
}

NominalSpectrum SpectrumStore::Get(std::uint32_t id) const {
  const auto m = mz(id);
  const auto in = intensity(id);
  NominalSpectrum out(m.size());
  for (std::size_t i = 0; i < m.size(); ++i) out[i] = {m[i], in[i]};
  return out;
}

std::size_t SpectrumStore::MemoryBytes() const {
  return sizeof(*this) + offsets_.size() * sizeof(std::uint64_t) +
         mz_.size() * sizeof(std::uint16_t) + intensity_.size() * sizeof(float);
}

void SpectrumStore::Serialize(std::string* out) const {
  out->reserve(out->size() + sizeof(kMagic) + 16 + size() * 4 + total_peaks() * 6);
  out->append(kMagic, sizeof(kMagic));
  PutScalar<std::uint64_t>(out, size());
  PutScalar<std::uint64_t>(out, total_peaks());
  for (std::size_t i = 0; i < size(); ++i) {
    PutScalar<std::uint32_t>(out, static_cast<std::uint32_t>(offsets_[i + 1] - offsets_[i]));
  }
  PutArray(out, mz_);
  PutArray(out, intensity_);
}

Result<SpectrumStore> SpectrumStore::Deserialize(std::string_view bytes) {
  constexpr std::size_t kHeader = sizeof(kMagic) + 16;
  if (bytes.size() < kHeader || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return Status::Corruption("spectrum store: missing or wrong header");
  }
  const std::uint64_t spectra = GetScalar<std::uint64_t>(bytes.data() + 8);
  const std::uint64_t peaks = GetScalar<std::uint64_t>(bytes.data() + 16);
  // Checked one at a time so no product can overflow: each count is bounded by the length.
  const std::uint64_t body = bytes.size() - kHeader;
  if (spectra > body / 4 || peaks > body / 6 ||
      spectra >= std::numeric_limits<std::uint32_t>::max() || spectra * 4 + peaks * 6 != body) {
    return Status::Corruption("spectrum store: sizes do not match the " +
                              std::to_string(bytes.size()) + " bytes given");
  }
  SpectrumStore store;
  store.offsets_.resize(spectra + 1);
  const char* p = bytes.data() + kHeader;
  std::uint64_t total = 0;
  for (std::uint64_t i = 0; i < spectra; ++i) {
    total += GetScalar<std::uint32_t>(p + i * 4);
    store.offsets_[i + 1] = total;
  }
  if (total != peaks) {
    return Status::Corruption("spectrum store: peak counts sum to " + std::to_string(total) +
                              ", header says " + std::to_string(peaks));
  }
  p += spectra * 4;
  GetArray(p, peaks, &store.mz_);
  GetArray(p + peaks * 2, peaks, &store.intensity_);
  for (std::uint64_t i = 0; i < spectra; ++i) {
    for (std::uint64_t j = store.offsets_[i]; j < store.offsets_[i + 1]; ++j) {
      const NominalPeak peak{store.mz_[j], store.intensity_[j]};
      if (!ValidPeak(peak) || (j > store.offsets_[i] && store.mz_[j - 1] >= peak.mz)) {
        return Status::Corruption("spectrum store: spectrum " + std::to_string(i) +
                                  " has an invalid or unsorted peak");
      }
    }
  }
  return store;
}

}  // namespace sentinel::spectra
