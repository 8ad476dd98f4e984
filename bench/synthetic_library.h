// Synthetic spectral libraries for benchmarks: N spectra made by perturbing real SWGDRUG
// spectra the way replicate GC-MS measurements of one compound differ.
//
// Contract: header-only; deterministic — spectrum i depends only on (seed, i, its base
// spectrum, the model), never on thread count or call order (results match across machines
// up to the last bit of libm's exp/log/cos). Functions are thread-safe and, apart from
// AppendSyntheticLibrary writing to its store, pure.
//
// Perturbation model (PerturbationModel; defaults below, each a judgement from EI practice):
//  - Intensity: multiplicative log-normal noise, sigma 0.10 (about 10%) at the base peak
//    rising to 0.20 for the smallest peaks: small peaks carry fewer ions, so relatively more
//    counting noise.
//  - Lost peaks: peaks under 1% of the base vanish with probability up to 50% (likelier the
//    smaller), as thresholds and signal-to-noise differ between instruments.
//  - Leakage: peaks under 5% of the base move to m/z +-1 with probability 5%, as mass
//    calibration drift and mass-defect rounding do to minor fragments.
//  - Noise: 0-4 peaks at random m/z between 35 and the spectrum's last m/z + 5, 0.1-0.8% of
//    the base, like background ions that survive background subtraction.
//  - Column bleed: with probability 30%, polysiloxane ions 207 (0.2-1.5%) and 281
//    (0.1-0.8%), the usual high-temperature bleed of a 5%-phenyl column.
// Then the base peak is rescaled to 999 (as ToNominal does).
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <numbers>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/spectra/spectrum.h"
#include "core/spectra/spectrum_store.h"

namespace sentinel::bench {

struct PerturbationModel {
  double sigma_base = 0.10;       // log-normal sd at the base peak
  double sigma_small = 0.20;      // ... at the smallest peaks
  double drop_below = 10;         // intensity (base 999) under which peaks may be lost
  double drop_probability = 0.5;  // at intensity -> 0, falling linearly to 0 at drop_below
  double leak_below = 50;
  double leak_probability = 0.05;
  int max_noise_peaks = 4;
  double noise_max = 8;  // intensity, base 999
  double bleed_probability = 0.3;
};

// splitmix64: small, fast, and fully specified, unlike std::normal_distribution whose output
// differs between standard libraries.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t Next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double Normal() {                                                           // Box-Muller
    const double u1 = 1.0 - Uniform();
    const double u2 = Uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  std::uint64_t state_;
};

inline std::uint64_t StreamSeed(std::uint64_t seed, std::uint64_t index) {
  return Rng(seed * 0x9e3779b97f4a7c15ULL ^ (index + 0x632be59bd9b4e019ULL)).Next();
}

inline spectra::NominalSpectrum Perturb(const spectra::NominalSpectrum& s, std::uint64_t seed,
                                        const PerturbationModel& m = {}) {
  Rng rng(seed);
  std::vector<spectra::NominalPeak> peaks;
  peaks.reserve(s.size() + m.max_noise_peaks + 2);
  double top = 0;
  for (const auto& p : s) top = std::max<double>(top, p.intensity);
  if (top <= 0) return {};
  int last_mz = 0;
  for (const auto& p : s) {
    const double rel = p.intensity / top * 999.0;  // model thresholds assume base 999
    last_mz = std::max<int>(last_mz, p.mz);
    if (rel < m.drop_below && rng.Uniform() < m.drop_probability * (1.0 - rel / m.drop_below)) {
      continue;
    }
    const double sigma =
        m.sigma_base + (m.sigma_small - m.sigma_base) * (1.0 - std::sqrt(rel / 999.0));
    const double value = rel * std::exp(sigma * rng.Normal());
    int mz = p.mz;
    if (rel < m.leak_below && rng.Uniform() < m.leak_probability) {
      mz += rng.Uniform() < 0.5 ? -1 : 1;
      mz = std::clamp(mz, 1, spectra::kMaxNominalMz);
    }
    peaks.push_back({static_cast<std::uint16_t>(mz), static_cast<float>(value)});
  }
  const auto noise =
      static_cast<int>(rng.Next() % static_cast<std::uint64_t>(m.max_noise_peaks + 1));
  const int hi = std::max(last_mz + 5, 40);
  for (int i = 0; i < noise; ++i) {
    const int mz = 35 + static_cast<int>(rng.Uniform() * (hi - 35 + 1));
    peaks.push_back({static_cast<std::uint16_t>(std::min(mz, spectra::kMaxNominalMz)),
                     static_cast<float>(1 + rng.Uniform() * (m.noise_max - 1))});
  }
  if (rng.Uniform() < m.bleed_probability) {
    peaks.push_back({207, static_cast<float>(2 + rng.Uniform() * 13)});
    peaks.push_back({281, static_cast<float>(1 + rng.Uniform() * 7)});
  }
  std::sort(peaks.begin(), peaks.end(), [](const auto& a, const auto& b) { return a.mz < b.mz; });
  spectra::NominalSpectrum out;
  out.reserve(peaks.size());
  for (const auto& p : peaks) {
    if (!out.empty() && out.back().mz == p.mz) {
      out.back().intensity += p.intensity;
    } else {
      out.push_back(p);
    }
  }
  float base = 0;
  for (const auto& p : out) base = std::max(base, p.intensity);
  for (auto& p : out) p.intensity = p.intensity / base * 999.0f;
  return out;
}

// Reads the peaks of every record of a simple MSP file (as SWGDRUG's: "Num Peaks:" then
// "mz intensity" pairs separated by ';' or line breaks) and bins them with ToNominal.
// Names and metadata are not needed here. Returns an empty vector if the file cannot be read.
inline std::vector<spectra::NominalSpectrum> ReadMspSpectra(const std::string& path) {
  std::ifstream in(path);
  std::vector<spectra::NominalSpectrum> out;
  std::vector<spectra::Peak> peaks;
  bool in_peaks = false;
  const auto flush = [&] {
    if (in_peaks) {
      auto nominal = spectra::ToNominal(peaks);
      if (!nominal.empty()) out.push_back(std::move(nominal));
    }
    peaks.clear();
    in_peaks = false;
  };
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.rfind("Name:", 0) == 0) {
      flush();
    } else if (line.rfind("Num Peaks:", 0) == 0 || line.rfind("Num peaks:", 0) == 0) {
      in_peaks = true;
    } else if (in_peaks) {
      std::replace(line.begin(), line.end(), ';', ' ');
      std::istringstream pairs(line);
      spectra::Peak p;
      while (pairs >> p.mz >> p.intensity) peaks.push_back(p);
    }
  }
  flush();
  return out;
}

// Appends n synthetic spectra to *store: spectrum i perturbs bases[i % bases.size()] with
// seed StreamSeed(seed, i). Generation runs on `threads` threads in blocks; the store is
// filled in id order, so the result does not depend on `threads`.
// REQUIRES: !bases.empty().
inline void AppendSyntheticLibrary(const std::vector<spectra::NominalSpectrum>& bases,
                                   std::size_t n, std::uint64_t seed, unsigned threads,
                                   spectra::SpectrumStore* store,
                                   const PerturbationModel& model = {}) {
  constexpr std::size_t kBlock = 1 << 15;
  threads = std::max(1u, threads);
  std::vector<spectra::NominalSpectrum> block(kBlock);
  for (std::size_t start = 0; start < n; start += kBlock) {
    const std::size_t count = std::min(kBlock, n - start);
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; ++t) {
      pool.emplace_back([&, t] {
        for (std::size_t j = t; j < count; j += threads) {
          const std::size_t i = start + j;
          block[j] = Perturb(bases[i % bases.size()], StreamSeed(seed, i), model);
        }
      });
    }
    for (auto& th : pool) th.join();
    for (std::size_t j = 0; j < count; ++j) store->Add(block[j]);
  }
}

}  // namespace sentinel::bench
