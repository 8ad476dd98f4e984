#include "core/spectra/scores.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

namespace sentinel::spectra {
namespace {

// Hand-computed values are given to 7+ significant figures; 1e-9 relative is far below any
// mistake worth catching and far above double rounding.
constexpr double kTol = 1e-9;

NominalSpectrum Spec(std::initializer_list<std::pair<int, double>> peaks) {
  NominalSpectrum s;
  for (const auto& [mz, intensity] : peaks) {
    s.push_back({static_cast<std::uint16_t>(mz), static_cast<float>(intensity)});
  }
  return s;
}

NominalSpectrum Scaled(const NominalSpectrum& s, float factor) {
  NominalSpectrum out = s;
  for (NominalPeak& p : out) p.intensity *= factor;
  return out;
}

// ---------------------------------------------------------------------------------------------
// Slow reference implementations, written straight from the formulas in docs/scores.md over an
// explicit union of m/z, to check the fast code on random spectra. Deliberately share nothing
// with it.

struct Pair {
  int mz = 0;
  double u = 0;  // query / spectrum A intensity, 0 when absent
  double l = 0;  // library / spectrum B intensity, 0 when absent
};

std::map<int, Pair> Union(const NominalSpectrum& u, const NominalSpectrum& l) {
  std::map<int, Pair> out;
  for (const NominalPeak& p : u) out[p.mz].u = p.intensity;
  for (const NominalPeak& p : l) out[p.mz].l = p.intensity;
  for (auto& [mz, p] : out) p.mz = mz;
  return out;
}

double RefWeight(int mz, double intensity, double a, double b) {
  return intensity > 0 ? std::pow(mz, a) * std::pow(intensity, b) : 0.0;
}

double RefCosine(const NominalSpectrum& u, const NominalSpectrum& l, double a = 0.5,
                 double b = 0.5) {
  double uu = 0, ll = 0, ul = 0;
  for (const auto& [mz, p] : Union(u, l)) {
    const double wu = RefWeight(mz, p.u, a, b), wl = RefWeight(mz, p.l, a, b);
    uu += wu * wu;
    ll += wl * wl;
    ul += wu * wl;
  }
  return uu > 0 && ll > 0 ? ul / std::sqrt(uu * ll) : 0.0;
}

// Stein & Scott's composite with F_R over the N_LU - 1 adjacent pairs (0 when there is no pair)
// and each pair's ratios taken on the weights w = m^a I^b rather than the raw intensities. The
// ratios are formed from RefWeight itself, not as t^b, so that the m/z factors are seen to cancel.
double RefComposite(const NominalSpectrum& u, const NominalSpectrum& l, double a = 0.5,
                    double b = 0.5) {
  const double f_d = std::pow(RefCosine(u, l, a, b), 2);
  std::vector<Pair> common;
  for (const auto& [mz, p] : Union(u, l)) {
    if (p.u > 0 && p.l > 0) common.push_back(p);
  }
  if (common.empty()) return 0;
  const auto w_u = [&](std::size_t i) { return RefWeight(common[i].mz, common[i].u, a, b); };
  const auto w_l = [&](std::size_t i) { return RefWeight(common[i].mz, common[i].l, a, b); };
  double sum = 0;
  for (std::size_t i = 1; i < common.size(); ++i) {
    double term = (w_l(i) / w_l(i - 1)) * (w_u(i - 1) / w_u(i));
    if (term > 1) term = 1 / term;  // n = -1
    sum += term;
  }
  const double n_lu = static_cast<double>(common.size());
  const double n_u = static_cast<double>(u.size());
  const double f_r = common.size() >= 2 ? sum / (n_lu - 1) : 0.0;
  return 999 * (n_u * f_d + n_lu * f_r) / (n_u + n_lu);
}

double RefReverse(const NominalSpectrum& u, const NominalSpectrum& l, double a = 0.5,
                  double b = 0.5) {
  NominalSpectrum kept;
  for (const NominalPeak& p : u) {
    if (std::any_of(l.begin(), l.end(), [&](const NominalPeak& q) { return q.mz == p.mz; })) {
      kept.push_back(p);
    }
  }
  return RefComposite(kept, l, a, b);
}

double RefEntropy(const std::vector<double>& p) {
  double s = 0;
  for (double x : p) {
    if (x > 0) s -= x * std::log(x);
  }
  return s;
}

std::vector<double> RefNormalise(std::vector<double> v) {
  double total = 0;
  for (double x : v) total += x;
  for (double& x : v) x /= total;
  return v;
}

// Li et al.'s weighting, on a dense vector (zeros are absent peaks and stay zero).
std::vector<double> RefWeighted(std::vector<double> v) {
  v = RefNormalise(v);
  const double s = RefEntropy(v);
  if (s < 3) {
    for (double& x : v) x = std::pow(x, 0.25 + 0.25 * s);
    v = RefNormalise(v);
  }
  return v;
}

double RefEntropySimilarity(const NominalSpectrum& a, const NominalSpectrum& b) {
  if (a.empty() || b.empty()) return 0;
  std::vector<double> va, vb;
  for (const auto& [mz, p] : Union(a, b)) {
    va.push_back(p.u);
    vb.push_back(p.l);
  }
  va = RefWeighted(va);
  vb = RefWeighted(vb);
  std::vector<double> ab(va.size());
  for (std::size_t i = 0; i < ab.size(); ++i) ab[i] = (va[i] + vb[i]) / 2;
  return 1 - (2 * RefEntropy(ab) - RefEntropy(va) - RefEntropy(vb)) / std::log(4.0);
}

// A random valid nominal spectrum: sorted unique m/z in [lo, hi], intensities in (0, 999].
NominalSpectrum RandomSpectrum(std::mt19937& rng, int lo, int hi, double density) {
  std::uniform_real_distribution<double> unit(0, 1);
  NominalSpectrum s;
  for (int mz = lo; mz <= hi; ++mz) {
    if (unit(rng) < density) {
      // Squared to mimic EI spectra: many small peaks, few large ones.
      const double u = unit(rng);
      s.push_back({static_cast<std::uint16_t>(mz), static_cast<float>(1 + 998 * u * u)});
    }
  }
  if (s.empty()) s.push_back({static_cast<std::uint16_t>(lo), 999});
  return s;
}

// ---------------------------------------------------------------------------------------------
// PeakWeight

TEST(PeakWeightTest, DefaultIsSquareRootOfMzTimesIntensity) {
  EXPECT_DOUBLE_EQ(PeakWeight(10, 40), 20.0);  // sqrt(10 * 40) = sqrt(400)
  EXPECT_DOUBLE_EQ(PeakWeight(20, 5), 10.0);   // sqrt(100)
  EXPECT_DOUBLE_EQ(PeakWeight(1, 999), std::sqrt(999.0));
}

TEST(PeakWeightTest, OtherExponents) {
  EXPECT_DOUBLE_EQ(PeakWeight(10, 40, {0, 1}), 40.0);
  EXPECT_DOUBLE_EQ(PeakWeight(10, 40, {1, 1}), 400.0);
  EXPECT_DOUBLE_EQ(PeakWeight(10, 40, {2, 0.5}), 100 * std::sqrt(40.0));
  // Stein & Scott's optimum m^3 I^0.6 goes through std::pow: 1000 * 40^0.6.
  EXPECT_NEAR(PeakWeight(10, 40, {3, 0.6}), 1000 * std::pow(40.0, 0.6), 1e-9);
}

// ---------------------------------------------------------------------------------------------
// WeightedCosine

// A = {10:40, 20:5}  -> weights sqrt(10*40) = 20, sqrt(20*5) = 10
// B = {10:10, 20:20} -> weights sqrt(100) = 10,   sqrt(400) = 20
// cos = (20*10 + 10*20) / (sqrt(20^2 + 10^2) * sqrt(10^2 + 20^2)) = 400 / 500 = 0.8
const NominalSpectrum kA = Spec({{10, 40}, {20, 5}});
const NominalSpectrum kB = Spec({{10, 10}, {20, 20}});

TEST(WeightedCosineTest, HandComputed) {
  EXPECT_NEAR(WeightedCosine(kA, kB), 0.8, kTol);
  // A peak at 40:10 only in B (weight sqrt(400) = 20) enlarges B's norm only:
  // 400 / (sqrt(500) * sqrt(500 + 400)) = 400 / sqrt(450000) = 0.596284794
  EXPECT_NEAR(WeightedCosine(kA, Spec({{10, 10}, {20, 20}, {40, 10}})), 400 / std::sqrt(450000.0),
              kTol);
  EXPECT_NEAR(WeightedCosine(kA, Spec({{10, 10}, {20, 20}, {40, 10}})), 0.596284794, 1e-9);
}

TEST(WeightedCosineTest, HandComputedUnweighted) {
  // Exponents (0, 1): plain intensities. (40*10 + 5*20) / (sqrt(1625) * sqrt(500))
  //   = 500 / sqrt(812500) = 0.554700196
  EXPECT_NEAR(WeightedCosine(kA, kB, {0, 1}), 0.554700196, 1e-9);
}

TEST(WeightedCosineTest, IdenticalDisjointEmpty) {
  EXPECT_NEAR(WeightedCosine(kA, kA), 1.0, kTol);
  EXPECT_EQ(WeightedCosine(kA, Spec({{11, 40}, {21, 5}})), 0.0);
  EXPECT_EQ(WeightedCosine(kA, {}), 0.0);
  EXPECT_EQ(WeightedCosine({}, kA), 0.0);
  EXPECT_EQ(WeightedCosine({}, {}), 0.0);
}

TEST(WeightedCosineTest, OnePeakEach) {
  EXPECT_NEAR(WeightedCosine(Spec({{50, 999}}), Spec({{50, 3}})), 1.0, kTol);
  EXPECT_EQ(WeightedCosine(Spec({{50, 999}}), Spec({{51, 999}})), 0.0);
}

TEST(WeightedCosineTest, SymmetricAndScaleInvariant) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 50; ++trial) {
    const NominalSpectrum a = RandomSpectrum(rng, 30, 300, 0.4);
    const NominalSpectrum b = RandomSpectrum(rng, 30, 300, 0.4);
    EXPECT_NEAR(WeightedCosine(a, b), WeightedCosine(b, a), 1e-12);
    EXPECT_NEAR(WeightedCosine(a, b), WeightedCosine(Scaled(a, 0.37f), Scaled(b, 2.5f)), 1e-7);
    EXPECT_NEAR(WeightedCosine(a, b), RefCosine(a, b), 1e-9);
    EXPECT_NEAR(WeightedCosine(a, b, {3, 0.6}), RefCosine(a, b, 3, 0.6), 1e-9);
    EXPECT_NEAR(WeightedCosine(a, b, {1, 0.53}), RefCosine(a, b, 1, 0.53), 1e-9);
  }
}

TEST(WeightedCosineTest, AgreesWithPeakWeight) {
  // The fragment index builds its cosine from PeakWeight; both must mean the same number.
  std::mt19937 rng(11);
  const NominalSpectrum a = RandomSpectrum(rng, 30, 200, 0.5);
  const NominalSpectrum b = RandomSpectrum(rng, 30, 200, 0.5);
  double ab = 0, aa = 0, bb = 0;
  for (const NominalPeak& p : a) aa += std::pow(PeakWeight(p.mz, p.intensity), 2);
  for (const NominalPeak& p : b) bb += std::pow(PeakWeight(p.mz, p.intensity), 2);
  for (const NominalPeak& p : a) {
    for (const NominalPeak& q : b) {
      if (p.mz == q.mz) ab += PeakWeight(p.mz, p.intensity) * PeakWeight(q.mz, q.intensity);
    }
  }
  EXPECT_NEAR(WeightedCosine(a, b), ab / std::sqrt(aa * bb), 1e-12);
}

// ---------------------------------------------------------------------------------------------
// IdentityMatchFactor (query first, library second)

TEST(IdentityMatchFactorTest, HandComputed) {
  // Query U = A, library L = B.
  // F_D = cos^2 = 0.8^2 = 0.64.
  // Common peaks in m/z order: 10 (I_L 10, I_U 40), 20 (I_L 20, I_U 5). One adjacent pair,
  // on the weights w = sqrt(m I) (the m/z factors cancel, leaving sqrt of the intensity ratios):
  //   (w_L,2 / w_L,1) * (w_U,1 / w_U,2) = (20/10) * (20/10) = 4 = sqrt((20/10) * (40/5)) > 1,
  //   so n = -1: 1/4 = 0.25. (Raw intensities would give 1/16.)
  // F_R = 0.25 / (N_LU - 1) = 0.25 / 1 = 0.25.
  // N_U = 2, N_LU = 2: (2 * 0.64 + 2 * 0.25) / 4 = 1.78 / 4 = 0.445; * 999 = 444.555.
  EXPECT_NEAR(IdentityMatchFactor(kA, kB), 444.555, kTol);
  // The ratio term is symmetric, but N_U is not: with U = B the same numbers come out because
  // both spectra have 2 peaks.
  EXPECT_NEAR(IdentityMatchFactor(kB, kA), 444.555, kTol);
}

TEST(IdentityMatchFactorTest, HandComputedUnweighted) {
  // Exponents (0, 1): w = I, so the ratio terms are raw intensity ratios.
  // F_D = 0.554700196^2 = 500^2 / 812500 = 4/13 (see WeightedCosineTest.HandComputedUnweighted).
  // One pair, L going 10 -> 20 and U 40 -> 5: (20/10) * (40/5) = 16 -> 1/16; F_R = 0.0625.
  // (2 * 4/13 + 2 * 1/16) / 4 = (8/13 + 1/8) / 4 = (77/104) / 4 = 77/416; * 999 = 184.9110577.
  EXPECT_NEAR(IdentityMatchFactor(kA, kB, {0, 1}), 999.0 * 77 / 416, kTol);
  EXPECT_NEAR(IdentityMatchFactor(kA, kB, {0, 1}), 184.9110577, 1e-6);
  // Exponents (1, 2): the m/z factor still cancels in the ratio, the term becomes (1/16)^2.
  // Weights U = (10 * 1600, 20 * 25) = (16000, 500), L = (10 * 100, 20 * 400) = (1000, 8000).
  // cross = 16000000 + 4000000 = 2e7; |U|^2 = 2.5625e8, |L|^2 = 6.5e7;
  // F_D = 4e14 / (2.5625e8 * 6.5e7) = 4e14 / 1.665625e16 = 0.0240150094 (= 64/2665).
  // F_R = 1/256 = 0.00390625. (2 * 64/2665 + 2 / 256) / 4 = (64/2665 + 1/256) / 2
  //   = 0.0139606297; * 999 = 13.9466691.
  EXPECT_NEAR(IdentityMatchFactor(kA, kB, {1, 2}), 999.0 * (64.0 / 2665 + 1.0 / 256) / 2, kTol);
  EXPECT_NEAR(IdentityMatchFactor(kA, kB, {1, 2}), 13.9466691, 1e-6);
}

TEST(IdentityMatchFactorTest, ThreeCommonPeaksAverageTwoPairs) {
  // U = {10:40, 20:5, 30:20}, L = {10:10, 20:20, 30:20}.
  // Weights U = (sqrt 400, sqrt 100, sqrt 600) = (20, 10, sqrt 600),
  //         L = (sqrt 100, sqrt 400, sqrt 600) = (10, 20, sqrt 600).
  // cross = 200 + 200 + 600 = 1000; |U|^2 = |L|^2 = 400 + 100 + 600 = 1100;
  // F_D = 1000^2 / 1100^2 = 100/121 = 0.8264462810.
  // Pair 10 -> 20: (20/10) * (20/10) = 4 -> 1/4.
  // Pair 20 -> 30: (sqrt 600 / 20) * (10 / sqrt 600) = 1/2 (raw: (20/20) * (5/20) = 1/4).
  // F_R = (1/4 + 1/2) / (N_LU - 1) = 0.75 / 2 = 0.375. (The paper's / N_LU would give 0.25.)
  // N_U = N_LU = 3: (3 * 100/121 + 3 * 0.375) / 6 = (100/121 + 3/8) / 2 = 1163/1936
  //   = 0.6007231405; * 999 = 600.1224174.
  const NominalSpectrum u = Spec({{10, 40}, {20, 5}, {30, 20}});
  const NominalSpectrum l = Spec({{10, 10}, {20, 20}, {30, 20}});
  EXPECT_NEAR(IdentityMatchFactor(u, l), 999.0 * 1163 / 1936, kTol);
  EXPECT_NEAR(IdentityMatchFactor(u, l), 600.1224174, 1e-6);
}

TEST(IdentityMatchFactorTest, ExtraQueryPeakLowersScore) {
  // U = A + {30:30} (weight sqrt(900) = 30), L = B.
  // F_D = 400^2 / ((400 + 100 + 900) * 500) = 160000 / 700000 = 8/35.
  // F_R unchanged = 0.25 (m/z 30 is not common). N_U = 3, N_LU = 2:
  // (3 * 8/35 + 2 * 0.25) / 5 = (24/35 + 1/2) / 5 = 83/350 = 0.2371428571; * 999 = 236.9057143.
  const NominalSpectrum u = Spec({{10, 40}, {20, 5}, {30, 30}});
  EXPECT_NEAR(IdentityMatchFactor(u, kB), 999.0 * 83 / 350, kTol);
  EXPECT_NEAR(IdentityMatchFactor(u, kB), 236.9057143, 1e-6);
  EXPECT_LT(IdentityMatchFactor(u, kB), IdentityMatchFactor(kA, kB));
}

TEST(IdentityMatchFactorTest, IdenticalSpectra) {
  // F_D = 1 and every ratio term = 1, so F_R = (N - 1) / (N - 1) = 1 and the composite is 999
  // for any N >= 2, as NIST MS Search shows a self-match.
  EXPECT_NEAR(IdentityMatchFactor(kA, kA), 999, kTol);
  EXPECT_NEAR(IdentityMatchFactor(kA, kA, {3, 0.6}), 999, kTol);
  // N = 1: F_R has no pair and is 0: 999 * (1 * 1 + 1 * 0) / 2 = 499.5.
  EXPECT_NEAR(IdentityMatchFactor(Spec({{77, 999}}), Spec({{77, 999}})), 499.5, kTol);
  // A realistic 130-peak spectrum against itself and against a rescaled copy of itself.
  std::mt19937 rng(3);
  NominalSpectrum big;
  while (big.size() != 130) big = RandomSpectrum(rng, 30, 400, 0.35);
  EXPECT_NEAR(IdentityMatchFactor(big, big), 999, kTol);
  EXPECT_NEAR(IdentityMatchFactor(big, Scaled(big, 0.37f)), 999, 1e-4);
  EXPECT_NEAR(ReverseMatchFactor(big, big), 999, kTol);
}

TEST(IdentityMatchFactorTest, OneCommonPeak) {
  // U = A = {10:40, 20:5} (weights 20, 10), L = {20:20, 30:30} (weights 20, 30).
  // Only m/z 20 is common: cross = 10 * 20 = 200; F_D = 200^2 / (500 * 1300) = 4/65.
  // N_LU = 1: no adjacent pair, F_R = 0. N_U = 2: (2 * 4/65 + 0) / 3 = 8/195; * 999 = 40.98462.
  const NominalSpectrum l = Spec({{20, 20}, {30, 30}});
  EXPECT_NEAR(IdentityMatchFactor(kA, l), 999.0 * 8 / 195, kTol);
  EXPECT_NEAR(IdentityMatchFactor(kA, l), 40.98462, 1e-5);
}

TEST(IdentityMatchFactorTest, DisjointAndEmpty) {
  EXPECT_EQ(IdentityMatchFactor(kA, Spec({{11, 40}, {21, 5}})), 0.0);
  EXPECT_EQ(IdentityMatchFactor(kA, {}), 0.0);
  EXPECT_EQ(IdentityMatchFactor({}, kA), 0.0);
  EXPECT_EQ(IdentityMatchFactor({}, {}), 0.0);
}

TEST(IdentityMatchFactorTest, RatioTermIsOrientationFree) {
  // Query ratios 2:1 vs library 1:2 and the reverse deviation both give term 1/2.
  // U = {10:2, 20:1}, L = {10:1, 20:2}. Weights: U (sqrt 20, sqrt 20), L (sqrt 10, sqrt 40).
  // Ratio term on weights: (sqrt 40 / sqrt 10) * (sqrt 20 / sqrt 20) = 2 -> 1/2
  //   (= sqrt of the raw (2/1) * (2/1) = 4 -> 1/4). F_R = 0.5 / 1 = 0.5.
  // cross = sqrt(200) + sqrt(800) = 30 sqrt(2); F_D = 1800 / (40 * 50) = 0.9.
  // Composite (2 * 0.9 + 2 * 0.5) / 4 = 2.8 / 4 = 0.7; * 999 = 699.3.
  EXPECT_NEAR(IdentityMatchFactor(Spec({{10, 2}, {20, 1}}), Spec({{10, 1}, {20, 2}})), 699.3, kTol);
  // U = {10:1, 20:2}, L = {10:2, 20:1}: (1/sqrt 2) * (1/sqrt 2) = 1/2 directly; the same 699.3.
  EXPECT_NEAR(IdentityMatchFactor(Spec({{10, 1}, {20, 2}}), Spec({{10, 2}, {20, 1}})), 699.3, kTol);
}

TEST(IdentityMatchFactorTest, MatchesReferenceOnRandomSpectra) {
  std::mt19937 rng(42);
  for (int trial = 0; trial < 200; ++trial) {
    const NominalSpectrum u = RandomSpectrum(rng, 30, 250, trial % 2 ? 0.5 : 0.05);
    const NominalSpectrum l = RandomSpectrum(rng, 30, 250, trial % 3 ? 0.5 : 0.05);
    ASSERT_NEAR(IdentityMatchFactor(u, l), RefComposite(u, l), 1e-7) << "trial " << trial;
    ASSERT_NEAR(IdentityMatchFactor(u, l, {3, 0.6}), RefComposite(u, l, 3, 0.6), 1e-7);
    ASSERT_NEAR(IdentityMatchFactor(u, l, {0, 1}), RefComposite(u, l, 0, 1), 1e-7);
    ASSERT_NEAR(IdentityMatchFactor(u, l), IdentityMatchFactor(Scaled(u, 0.1f), Scaled(l, 7)),
                1e-4);
    const double mf = IdentityMatchFactor(u, l);
    ASSERT_GE(mf, 0);
    ASSERT_LE(mf, 999);
  }
}

TEST(IdentityMatchFactorTest, OutOfContractInputIsStillAnswered) {
  // A library m/z above kMaxNominalMz cannot use the fast m/z index and takes the sorted-merge
  // path; it must give the reference's numbers all the same.
  std::mt19937 rng(17);
  for (int trial = 0; trial < 50; ++trial) {
    const NominalSpectrum u = RandomSpectrum(rng, 1900, 2100, 0.4);
    const NominalSpectrum l = RandomSpectrum(rng, 1900, 2100, 0.4);
    ASSERT_GT(l.back().mz, kMaxNominalMz);
    ASSERT_NEAR(IdentityMatchFactor(u, l), RefComposite(u, l), 1e-7) << "trial " << trial;
    ASSERT_NEAR(WeightedCosine(u, l), RefCosine(u, l), 1e-9);
    ASSERT_NEAR(ReverseMatchFactor(u, l), RefReverse(u, l), 1e-7);
    ASSERT_NEAR(EntropySimilarity(u, l), RefEntropySimilarity(u, l), 1e-9);
  }
}

// ---------------------------------------------------------------------------------------------
// ReverseMatchFactor

TEST(ReverseMatchFactorTest, IgnoresQueryPeaksAbsentFromLibrary) {
  // U = A + {30:30}: m/z 30 is not in L = B, so the reverse score is the forward score of A
  // against B, 444.555 (hand-computed above), while the forward score drops to 236.91.
  const NominalSpectrum u = Spec({{10, 40}, {20, 5}, {30, 30}});
  EXPECT_NEAR(ReverseMatchFactor(u, kB), 444.555, kTol);
  EXPECT_NEAR(ReverseMatchFactor(kA, kB), 444.555, kTol);
  EXPECT_LT(IdentityMatchFactor(u, kB), ReverseMatchFactor(u, kB));
}

TEST(ReverseMatchFactorTest, LibraryPeaksMissingFromQueryStillCount) {
  // U = A, L = {20:20, 30:30}: the query keeps only m/z 20 (weight 10); L keeps both.
  // F_D = 200^2 / (100 * 1300) = 4/13; N_U = N_LU = 1, F_R = 0: (4/13) / 2 = 2/13;
  // * 999 = 153.6923.
  const NominalSpectrum l = Spec({{20, 20}, {30, 30}});
  EXPECT_NEAR(ReverseMatchFactor(kA, l), 999.0 * 2 / 13, kTol);
  EXPECT_NEAR(ReverseMatchFactor(kA, l), 153.6923, 1e-4);
}

TEST(ReverseMatchFactorTest, ThreeCommonPeaksPlusImpurity) {
  // The three-common-peak case of IdentityMatchFactorTest plus a query-only peak at m/z 40:
  // the reverse score drops it and reproduces 999 * 1163/1936 = 600.1224174.
  const NominalSpectrum u = Spec({{10, 40}, {20, 5}, {30, 20}, {40, 999}});
  const NominalSpectrum l = Spec({{10, 10}, {20, 20}, {30, 20}});
  EXPECT_NEAR(ReverseMatchFactor(u, l), 999.0 * 1163 / 1936, kTol);
}

TEST(ReverseMatchFactorTest, IdenticalDisjointEmpty) {
  // F_D = 1, F_R = 1/1: 999 (was 999 * 3/4 under the paper's 1/N_LU).
  EXPECT_NEAR(ReverseMatchFactor(kA, kA), 999, kTol);
  EXPECT_EQ(ReverseMatchFactor(kA, Spec({{11, 40}, {21, 5}})), 0.0);
  EXPECT_EQ(ReverseMatchFactor(kA, {}), 0.0);
  EXPECT_EQ(ReverseMatchFactor({}, kA), 0.0);
}

TEST(ReverseMatchFactorTest, MatchesReferenceAndIsInvariantToImpurities) {
  std::mt19937 rng(5);
  std::uniform_real_distribution<double> unit(0, 1);
  for (int trial = 0; trial < 100; ++trial) {
    const NominalSpectrum l = RandomSpectrum(rng, 40, 300, 0.3);
    NominalSpectrum u = RandomSpectrum(rng, 40, 300, 0.3);
    ASSERT_NEAR(ReverseMatchFactor(u, l), RefReverse(u, l), 1e-7) << "trial " << trial;
    ASSERT_NEAR(ReverseMatchFactor(u, l, {3, 0.6}), RefReverse(u, l, 3, 0.6), 1e-7);
    // Add impurity peaks at m/z the library lacks: the reverse score must not move.
    NominalSpectrum dirty = u;
    for (int mz = 40; mz <= 300; ++mz) {
      const bool in_l = std::any_of(l.begin(), l.end(), [&](auto& p) { return p.mz == mz; });
      const bool in_u = std::any_of(u.begin(), u.end(), [&](auto& p) { return p.mz == mz; });
      if (!in_l && !in_u && unit(rng) < 0.2) {
        dirty.push_back({static_cast<std::uint16_t>(mz), static_cast<float>(1 + 900 * unit(rng))});
      }
    }
    std::sort(dirty.begin(), dirty.end(), [](auto& x, auto& y) { return x.mz < y.mz; });
    ASSERT_NEAR(ReverseMatchFactor(dirty, l), ReverseMatchFactor(u, l), 1e-9);
  }
}

// ---------------------------------------------------------------------------------------------
// EntropySimilarity

TEST(EntropySimilarityTest, HandComputedUniform) {
  // A = {10:1, 20:1}, B = {20:1, 30:1}: each normalises to (0.5, 0.5); S = ln 2 < 3, so each is
  // weighted by I^(0.25 + 0.25 ln 2), which leaves a uniform spectrum uniform.
  // Only m/z 20 is shared (x = y = 0.5):
  //   [(x + y) ln(x + y) - x ln x - y ln y] / ln 4 = [0 - ln 0.5] / ln 4 = ln 2 / ln 4 = 0.5.
  EXPECT_NEAR(EntropySimilarity(Spec({{10, 1}, {20, 1}}), Spec({{20, 1}, {30, 1}})), 0.5, kTol);
}

TEST(EntropySimilarityTest, HandComputedWeighted) {
  // A = {10:3, 20:1}: p = (0.75, 0.25), S_A = -(0.75 ln 0.75 + 0.25 ln 0.25) = 0.5623351.
  //   w = 0.25 + 0.25 * 0.5623351 = 0.3905838; 0.75^w = 0.8937141, 0.25^w = 0.5818801;
  //   renormalised A' = (0.6056588, 0.3943412), S_A' = 0.6706504.
  // B = {10:1, 20:1}: uniform, B' = (0.5, 0.5), S_B' = ln 2 = 0.6931472.
  // AB = (A' + B') / 2 = (0.5528294, 0.4471706), S_AB = 0.6875549.
  // 1 - (2 * 0.6875549 - 0.6706504 - 0.6931472) / ln 4 = 1 - 0.0113122 / 1.3862944 = 0.9918400.
  EXPECT_NEAR(EntropySimilarity(Spec({{10, 3}, {20, 1}}), Spec({{10, 1}, {20, 1}})), 0.9918400,
              1e-7);
}

TEST(EntropySimilarityTest, HandComputedUnweightedRegime) {
  // A: 25 equal peaks at m/z 101..125, S = ln 25 = 3.219 >= 3, so no weighting: 1/25 each.
  // B: 20 equal peaks at m/z 101..120, S = ln 20 = 2.996 < 3: weighted, but uniform stays 1/20.
  // Each of the 20 shared peaks: (0.09) ln 0.09 - 0.04 ln 0.04 - 0.05 ln 0.05 = 0.0618265;
  // 20 * 0.0618265 / ln 4 = 0.8919685.
  NominalSpectrum a, b;
  for (int mz = 101; mz <= 125; ++mz) a.push_back({static_cast<std::uint16_t>(mz), 500});
  for (int mz = 101; mz <= 120; ++mz) b.push_back({static_cast<std::uint16_t>(mz), 999});
  EXPECT_NEAR(EntropySimilarity(a, b), 0.8919685, 1e-7);
}

TEST(EntropySimilarityTest, IdenticalDisjointEmptyOnePeak) {
  EXPECT_NEAR(EntropySimilarity(kA, kA), 1.0, kTol);
  EXPECT_NEAR(EntropySimilarity(kA, Scaled(kA, 3)), 1.0, kTol);
  EXPECT_EQ(EntropySimilarity(kA, Spec({{11, 40}, {21, 5}})), 0.0);
  EXPECT_EQ(EntropySimilarity(kA, {}), 0.0);
  EXPECT_EQ(EntropySimilarity({}, kA), 0.0);
  EXPECT_EQ(EntropySimilarity({}, {}), 0.0);
  // One peak each at the same m/z: S = 0, w = 0.25, both become (1): similarity 1.
  EXPECT_NEAR(EntropySimilarity(Spec({{91, 999}}), Spec({{91, 5}})), 1.0, kTol);
}

TEST(EntropySimilarityTest, LargeSpectraMatchReference) {
  // Over 512 peaks the per-peak scratch space moves from the stack to the heap.
  std::mt19937 rng(23);
  const NominalSpectrum a = RandomSpectrum(rng, 30, 1500, 0.5);
  const NominalSpectrum b = RandomSpectrum(rng, 30, 1500, 0.5);
  ASSERT_GT(a.size(), 512u);
  EXPECT_NEAR(EntropySimilarity(a, b), RefEntropySimilarity(a, b), 1e-9);
  EXPECT_NEAR(EntropySimilarity(a, kA), RefEntropySimilarity(a, kA), 1e-9);
}

TEST(EntropySimilarityTest, MatchesReferenceSymmetricScaleInvariant) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 200; ++trial) {
    // Densities from sparse (low entropy, weighted) to dense (entropy >= 3, unweighted).
    const double density = 0.02 + 0.5 * (trial % 10) / 10.0;
    const NominalSpectrum a = RandomSpectrum(rng, 30, 300, density);
    const NominalSpectrum b = RandomSpectrum(rng, 30, 300, density);
    const double s = EntropySimilarity(a, b);
    ASSERT_NEAR(s, RefEntropySimilarity(a, b), 1e-9) << "trial " << trial;
    ASSERT_NEAR(s, EntropySimilarity(b, a), 1e-12);
    ASSERT_NEAR(s, EntropySimilarity(Scaled(a, 0.01f), Scaled(b, 4)), 1e-6);
    ASSERT_GE(s, 0);
    ASSERT_LE(s, 1);
  }
}

// ---------------------------------------------------------------------------------------------
// Real spectra, copied from SWGDRUG 3.4 (swgdrug-3.4.msp; public domain, NIST/DEA). Two
// laboratories' spectra of ethylone (3,4-methylenedioxy-N-ethylcathinone) must match each other
// well; cathine, a different compound, must not.

// ID 3917, "Ethylone", QHFSS Lab, 57 peaks.
const NominalSpectrum kEthyloneQhfss = Spec({
    {40, 1},   {41, 6},  {42, 97}, {43, 8},   {44, 163}, {45, 4},   {50, 4},  {51, 6},  {52, 1},
    {53, 8},   {54, 2},  {55, 4},  {56, 18},  {57, 2},   {61, 3},   {62, 19}, {63, 53}, {64, 8},
    {65, 61},  {66, 4},  {68, 2},  {70, 116}, {72, 999}, {73, 46},  {74, 5},  {75, 2},  {76, 1},
    {77, 4},   {78, 1},  {79, 2},  {89, 2},   {90, 1},   {91, 29},  {92, 5},  {93, 2},  {103, 1},
    {118, 1},  {119, 8}, {120, 5}, {121, 53}, {122, 7},  {135, 11}, {136, 1}, {146, 2}, {147, 2},
    {149, 78}, {150, 8}, {151, 1}, {162, 1},  {176, 4},  {177, 3},  {178, 6}, {190, 3}, {206, 1},
    {219, 9},  {220, 2}, {221, 1},
});

// ID 5104, "3,4-Methylenedioxyethylcathinone", DEA North Central Lab, 51 peaks.
const NominalSpectrum kEthyloneDea = Spec({
    {40, 1},  {41, 5},   {42, 35}, {43, 8},   {44, 231}, {45, 6},   {50, 4},  {51, 7},  {52, 1},
    {53, 8},  {54, 2},   {55, 5},  {56, 25},  {57, 3},   {61, 3},   {62, 16}, {63, 49}, {64, 7},
    {65, 59}, {66, 4},   {68, 1},  {70, 16},  {72, 999}, {73, 50},  {74, 4},  {75, 1},  {76, 1},
    {77, 3},  {78, 1},   {79, 2},  {89, 2},   {90, 1},   {91, 26},  {92, 4},  {93, 2},  {103, 1},
    {118, 1}, {119, 7},  {120, 5}, {121, 48}, {122, 7},  {135, 10}, {136, 1}, {146, 1}, {147, 2},
    {148, 2}, {149, 60}, {150, 6}, {176, 2},  {177, 2},  {178, 4},
});

// ID 3906, "Cathine" (d-norpseudoephedrine), DEA SWL, 48 peaks.
const NominalSpectrum kCathine = Spec({
    {40, 3},   {41, 5},   {42, 28}, {43, 13},  {44, 999}, {45, 29},  {50, 15}, {51, 41},
    {52, 12},  {53, 8},   {54, 1},  {55, 2},   {56, 2},   {57, 2},   {59, 2},  {62, 3},
    {63, 9},   {64, 2},   {65, 6},  {66, 1},   {73, 1},   {74, 5},   {75, 3},  {76, 3},
    {77, 103}, {78, 24},  {79, 60}, {80, 4},   {89, 7},   {90, 3},   {91, 13}, {92, 1},
    {102, 1},  {103, 2},  {104, 1}, {105, 24}, {106, 6},  {107, 17}, {108, 2}, {115, 4},
    {116, 1},  {117, 10}, {118, 9}, {119, 2},  {130, 1},  {132, 3},  {133, 2}, {134, 1},
});

TEST(RealSpectraTest, SameCompoundFromTwoLabsMatches) {
  const double forward = IdentityMatchFactor(kEthyloneQhfss, kEthyloneDea);
  const double reverse = ReverseMatchFactor(kEthyloneQhfss, kEthyloneDea);
  // NIST's "excellent" band (> 900), as NIST MS Search rates two laboratories' spectra of one
  // compound. The reference implementation gives 911.2 forward and 921.8 reverse; under the
  // paper's 1/N_LU and raw-intensity ratios the forward score was 863.
  EXPECT_GT(forward, 900);
  EXPECT_GT(reverse, 900);
  EXPECT_NEAR(forward, 911.2, 0.5);
  EXPECT_NEAR(reverse, 921.8, 0.5);
  EXPECT_LT(forward, 999);      // two laboratories never agree perfectly
  EXPECT_GE(reverse, forward);  // the QHFSS spectrum has peaks the DEA one lacks
  EXPECT_GT(IdentityMatchFactor(kEthyloneDea, kEthyloneQhfss), 900);
  EXPECT_GT(WeightedCosine(kEthyloneQhfss, kEthyloneDea), 0.9);
  EXPECT_GT(EntropySimilarity(kEthyloneQhfss, kEthyloneDea), 0.8);
  EXPECT_NEAR(forward, RefComposite(kEthyloneQhfss, kEthyloneDea), 1e-7);
  EXPECT_NEAR(reverse, RefReverse(kEthyloneQhfss, kEthyloneDea), 1e-7);
  // Each laboratory's spectrum against itself: 999, as NIST shows a self-match.
  EXPECT_NEAR(IdentityMatchFactor(kEthyloneQhfss, kEthyloneQhfss), 999, kTol);
  EXPECT_NEAR(ReverseMatchFactor(kEthyloneDea, kEthyloneDea), 999, kTol);
}

TEST(RealSpectraTest, DifferentCompoundScoresLow) {
  EXPECT_LT(IdentityMatchFactor(kEthyloneQhfss, kCathine), 600);
  EXPECT_LT(IdentityMatchFactor(kCathine, kEthyloneDea), 600);
  EXPECT_LT(ReverseMatchFactor(kEthyloneQhfss, kCathine), 600);
  EXPECT_LT(WeightedCosine(kEthyloneQhfss, kCathine), 0.6);
  EXPECT_LT(EntropySimilarity(kEthyloneQhfss, kCathine), 0.6);
  // And the right answer outranks the wrong one by every score.
  EXPECT_GT(IdentityMatchFactor(kEthyloneQhfss, kEthyloneDea),
            IdentityMatchFactor(kEthyloneQhfss, kCathine) + 300);
}

}  // namespace
}  // namespace sentinel::spectra
