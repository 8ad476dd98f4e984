// Classification throughput, end to end: structure text in, the JSON line of the output
// contract out, against the obvious baseline measured in the same run.
//
// Structures: realistic analogues enumerated from the knowledge base's own substances — each
// parent, its aromatic positional variants (F, Cl, Br, CH3, OCH3 on each aromatic CH), and salt
// and protonated forms (hydrochloride, fumarate, oxalate, [NH+] with chloride) — shuffled, at
// least --count (default 100,000) distinct ones (disubstituted variants fill up the count).
// --save=FILE writes each input and its JSON line (tab-separated), to compare two builds.
//
// Sentinel: ResolveStructure (standardise only what needs it) + Classifier::Classify (all
// jurisdictions, every class rule behind its screen) + ClassificationJson, on --threads threads.
// Baseline ("naive loop"): the same on one thread, but every structure through RDKit's full
// MolStandardize pipeline (cleanup, fragment parent, uncharge) and every rule evaluated by plain
// substructure search with no screen. Both produce the same findings; the run checks that on
// the baseline's sample and fails if any differs.
#include <GraphMol/MolStandardize/MolStandardize.h>
#include <GraphMol/RWMol.h>
#include <GraphMol/SmilesParse/SmilesParse.h>
#include <GraphMol/SmilesParse/SmilesWrite.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "app/classify_command.h"
#include "core/chem/molecule.h"

namespace sentinel::bench {
namespace {

using Clock = std::chrono::steady_clock;
double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::vector<std::string> Enumerate(const classify::KnowledgeBase& kb, std::size_t count) {
  std::set<std::string> seen;
  std::vector<std::string> out;
  auto add = [&](std::string s) {
    if (seen.insert(s).second) out.push_back(std::move(s));
  };
  const char* substituents[] = {"F", "Cl", "Br", "C", "OC"};
  const char* salts[] = {".Cl", ".OC(=O)/C=C/C(=O)O", ".OC(=O)C(=O)O"};
  for (const auto& s : kb.substances()) {
    if (s.mol->getNumHeavyAtoms() < 8) continue;
    add(s.smiles);
    for (const char* salt : salts) add(s.smiles + salt);
    // A protonated basic amine with its chloride.
    RDKit::RWMol perceived(*s.mol);
    // Parsing leaves both out (chem/molecule.h); hybridisation reads conjugation.
    RDKit::MolOps::setConjugation(perceived);
    RDKit::MolOps::setHybridization(perceived);
    for (const RDKit::Atom* a : perceived.atoms()) {
      // A basic amine: sp3 nitrogen (amide and aniline nitrogens are conjugated, sp2).
      if (a->getAtomicNum() == 7 && a->getHybridization() == RDKit::Atom::SP3 &&
          a->getTotalNumHs() + a->getDegree() == 3 && a->getFormalCharge() == 0) {
        RDKit::RWMol m(*s.mol);
        RDKit::Atom* n = m.getAtomWithIdx(a->getIdx());
        n->setFormalCharge(1);
        n->setNumExplicitHs(a->getTotalNumHs() + 1);
        n->setNoImplicit(true);
        try {
          RDKit::MolOps::sanitizeMol(m);
          add(RDKit::MolToSmiles(m) + ".[Cl-]");
        } catch (...) {
        }
        break;
      }
    }
    for (const RDKit::Atom* a : s.mol->atoms()) {
      if (!a->getIsAromatic() || a->getAtomicNum() != 6 || a->getTotalNumHs() == 0) continue;
      for (const char* sub : substituents) {
        std::unique_ptr<RDKit::RWMol> frag(RDKit::SmilesToMol(sub));
        RDKit::RWMol m(*s.mol);
        const unsigned first = m.getNumAtoms();
        m.insertMol(*frag);
        m.addBond(a->getIdx(), first, RDKit::Bond::SINGLE);
        try {
          RDKit::MolOps::sanitizeMol(m);
          std::string smi = RDKit::MolToSmiles(m);
          add(smi);
          if (out.size() % 7 == 0) add(smi + salts[out.size() % 3]);
        } catch (...) {
        }
      }
    }
  }
  // Disubstituted variants until there are enough distinct structures.
  const std::size_t singles = out.size();
  for (std::size_t i = 0; i < singles && out.size() < count; ++i) {
    std::unique_ptr<RDKit::RWMol> base(RDKit::SmilesToMol(out[i]));
    if (!base || base->getNumHeavyAtoms() > 60) continue;
    std::vector<unsigned> sites;
    for (const RDKit::Atom* a : base->atoms()) {
      if (a->getIsAromatic() && a->getAtomicNum() == 6 && a->getTotalNumHs() > 0) {
        sites.push_back(a->getIdx());
      }
    }
    for (unsigned site : sites) {
      for (const char* sub : {"F", "C", "OC"}) {
        std::unique_ptr<RDKit::RWMol> frag(RDKit::SmilesToMol(sub));
        RDKit::RWMol m(*base);
        const unsigned first = m.getNumAtoms();
        m.insertMol(*frag);
        m.addBond(site, first, RDKit::Bond::SINGLE);
        try {
          RDKit::MolOps::sanitizeMol(m);
          add(RDKit::MolToSmiles(m));
        } catch (...) {
        }
      }
    }
  }
  std::mt19937 rng(20261122);
  std::shuffle(out.begin(), out.end(), rng);
  if (out.size() > count) out.resize(count);
  return out;
}

std::string Sentinel(const classify::Classifier& c, const std::string& text,
                     const classify::ClassifyOptions& options) {
  auto structure = classify::ResolveStructure(text, false, c.kb());
  classify::Classification result;
  if (structure.ok()) result = c.Classify(*structure->mol, structure->smiles, options);
  return app::ClassificationJson(text, structure, &result);
}

// The naive loop: full standardisation of every structure, then every rule by plain matching.
std::string Naive(const classify::Classifier& c, const std::string& text,
                  const classify::ClassifyOptions& options) {
  std::unique_ptr<RDKit::RWMol> mol(RDKit::SmilesToMol(text));
  Result<classify::ResolvedStructure> structure = Status::InvalidArgument("unparsable");
  classify::Classification result;
  if (mol) {
    std::unique_ptr<RDKit::RWMol> parent(RDKit::MolStandardize::chargeParent(*mol));
    for (RDKit::Atom* a : parent->atoms()) a->setIsotope(0);
    RDKit::MolOps::removeHs(*parent);
    classify::ResolvedStructure r;
    r.smiles = chem::CanonicalSmiles(*parent);
    r.mol = std::shared_ptr<const RDKit::ROMol>(std::move(parent));
    r.read_as = "SMILES";
    structure = std::move(r);
    classify::ClassifyOptions naive = options;
    naive.screen_rules = false;
    result = c.Classify(*structure->mol, structure->smiles, naive);
  }
  return app::ClassificationJson(text, structure, &result);
}

// The findings only (status/basis/rule per jurisdiction), to compare the two paths.
std::string Findings(const std::string& json) {
  std::string out;
  for (const char* key : {"\"status\":\"", "\"basis\":", "\"rule\":"}) {
    for (std::size_t p = json.find(key); p != std::string::npos; p = json.find(key, p + 1)) {
      out += json.substr(p, json.find(',', p) - p) + ";";
    }
  }
  return out;
}

}  // namespace
}  // namespace sentinel::bench

int main(int argc, char** argv) {
  using namespace sentinel;
  std::size_t count = 100'000, naive_count = 3'000;
  unsigned threads = 2;
  const char* save_to = nullptr;  // every input and its JSON line, to compare two builds
  for (int i = 1; i < argc; ++i) {
    if (!std::strncmp(argv[i], "--save=", 7)) save_to = argv[i] + 7;
    if (!std::strncmp(argv[i], "--count=", 8)) count = std::strtoul(argv[i] + 8, nullptr, 10);
    if (!std::strncmp(argv[i], "--naive=", 8)) naive_count = std::strtoul(argv[i] + 8, nullptr, 10);
    if (!std::strncmp(argv[i], "--threads=", 10))
      threads = static_cast<unsigned>(std::atoi(argv[i] + 10));
  }
  auto loaded = app::LoadClassifier(SENTINEL_DATA_DIR);
  if (!loaded.ok()) {
    std::fprintf(stderr, "%s\n", loaded.status().ToString().c_str());
    return 2;
  }
  const classify::Classifier& c = **loaded;
  auto t0 = bench::Clock::now();
  const auto inputs = bench::Enumerate(c.kb(), count);
  std::fprintf(stderr,
               "enumerated %zu distinct structures from %zu knowledge-base substances in %.1f s\n",
               inputs.size(), c.kb().substances().size(), bench::Seconds(bench::Clock::now() - t0));
  if (inputs.size() < count) {
    std::fprintf(stderr, "only %zu distinct structures could be enumerated (wanted %zu)\n",
                 inputs.size(), count);
    return 2;
  }
  classify::ClassifyOptions options;
  options.as_of = classify::ParseDate("2026-01-01").value();

  // Sentinel, all threads.
  std::vector<std::string> out(inputs.size());
  std::atomic<std::size_t> next{0}, done{0};
  auto work = [&] {
    for (std::size_t i = next++; i < inputs.size(); i = next++) {
      out[i] = bench::Sentinel(c, inputs[i], options);
      if (++done % 20000 == 0) std::fprintf(stderr, "  %zu / %zu\n", done.load(), inputs.size());
    }
  };
  t0 = bench::Clock::now();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();
  const double fast_s = bench::Seconds(bench::Clock::now() - t0);
  if (save_to) {
    std::FILE* f = std::fopen(save_to, "w");
    if (!f) {
      std::fprintf(stderr, "cannot write %s\n", save_to);
      return 2;
    }
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      std::fprintf(f, "%s\t%s\n", inputs[i].c_str(), out[i].c_str());
    }
    std::fclose(f);
  }
  std::size_t controlled = 0, errors = 0;
  for (const auto& o : out) {
    controlled += o.find("\"status\":\"controlled\"") != std::string::npos;
    errors += o.find("\"error\":null") == std::string::npos;
  }

  // Sentinel on one thread, and the naive loop, on the same sample.
  const std::size_t n = std::min(naive_count, inputs.size());
  t0 = bench::Clock::now();
  for (std::size_t i = 0; i < n; ++i) (void)bench::Sentinel(c, inputs[i], options);
  const double one_s = bench::Seconds(bench::Clock::now() - t0);
  std::size_t mismatches = 0;
  t0 = bench::Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    const std::string naive = bench::Naive(c, inputs[i], options);
    if (bench::Findings(naive) != bench::Findings(out[i])) {
      if (++mismatches <= 5) {
        std::fprintf(stderr, "MISMATCH %s\n  sentinel %s\n  naive    %s\n", inputs[i].c_str(),
                     out[i].c_str(), naive.c_str());
      }
    }
  }
  const double naive_s = bench::Seconds(bench::Clock::now() - t0);

  // What RDKit alone costs on the same sample: parse with sanitisation, then canonical SMILES
  // (the output contract's "smiles"). No classifier can run faster than this.
  t0 = bench::Clock::now();
  for (std::size_t i = 0; i < n; ++i) {
    std::unique_ptr<RDKit::RWMol> mol(RDKit::SmilesToMol(inputs[i]));
    if (mol) (void)RDKit::MolToSmiles(*mol);
  }
  const double floor_s = bench::Seconds(bench::Clock::now() - t0);

  // Where one thread's time goes, phase by phase, on the same sample.
  double parse_us = 0, standardise_us = 0, classify_us = 0, json_us = 0;
  for (std::size_t i = 0; i < n; ++i) {
    auto a = bench::Clock::now();
    auto parsed = chem::ParseSmiles(inputs[i]);
    auto b = bench::Clock::now();
    if (!parsed.ok()) continue;
    auto standard = chem::Standardise(std::move(parsed).value());
    auto c2 = bench::Clock::now();
    if (!standard.ok()) continue;
    classify::Classification result = c.Classify(*standard->mol, standard->smiles, options);
    auto d = bench::Clock::now();
    classify::ResolvedStructure r;
    r.smiles = standard->smiles;
    r.mol = std::shared_ptr<const RDKit::ROMol>(std::move(standard->mol));
    (void)app::ClassificationJson(inputs[i], Result<classify::ResolvedStructure>(std::move(r)),
                                  &result);
    auto e = bench::Clock::now();
    parse_us += bench::Seconds(b - a) * 1e6;
    standardise_us += bench::Seconds(c2 - b) * 1e6;
    classify_us += bench::Seconds(d - c2) * 1e6;
    json_us += bench::Seconds(e - d) * 1e6;
  }
  const double fast_rate = static_cast<double>(inputs.size()) / fast_s;
  const double one_rate = static_cast<double>(n) / one_s;
  const double naive_rate = static_cast<double>(n) / naive_s;
  std::printf("classify benchmark: %zu structures (%zu controlled somewhere, %zu errors)\n",
              inputs.size(), controlled, errors);
  std::printf("  sentinel, %u threads : %9.0f structures/s (%.1f s)\n", threads, fast_rate, fast_s);
  std::printf("  sentinel, 1 thread   : %9.0f structures/s (%zu structures)\n", one_rate, n);
  std::printf("  naive loop, 1 thread : %9.0f structures/s (%zu structures)\n", naive_rate, n);
  std::printf("  RDKit parse + canonical SMILES alone, 1 thread: %9.0f structures/s\n",
              static_cast<double>(n) / floor_s);
  std::printf("  ratio sentinel(%u threads) / naive: %.1fx; per thread: %.1fx\n", threads,
              fast_rate / naive_rate, one_rate / naive_rate);
  const double per = static_cast<double>(n);
  std::printf(
      "  one thread, per structure: parse %.0f us, standardise %.0f us, classify %.0f us, "
      "JSON %.0f us\n",
      parse_us / per, standardise_us / per, classify_us / per, json_us / per);
  std::printf("  findings identical to the naive loop on %zu of %zu structures\n", n - mismatches,
              n);
  return mismatches == 0 ? 0 : 1;
}
