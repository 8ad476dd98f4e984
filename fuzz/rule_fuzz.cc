// Fuzzes the rule-file and vocabulary parsers and the rule compiler: arbitrary JSON (or not)
// must give a Status naming the field, never a crash; a rule that compiles is then evaluated on
// a few real structures, which must not crash either.
#include <cstddef>
#include <cstdint>
#include <string>

#include "adapters/kb_files/kb_files.h"
#include "core/chem/molecule.h"
#include "core/classify/rule.h"

namespace {

const sentinel::kb_files::Sources& Shipped() {
  static const auto* sources = [] {
    sentinel::chem::SilenceRdkitLogs();
    auto s = sentinel::kb_files::ReadDataDir(SENTINEL_DATA_DIR);
    if (!s.ok()) __builtin_trap();
    return new sentinel::kb_files::Sources(std::move(s).value());
  }();
  return *sources;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  (void)sentinel::kb_files::ParseVocabulary(text, "fuzz.substituents.json");
  auto rule = sentinel::kb_files::ParseRule(text, "fuzz.rule.json");
  if (!rule.ok()) return 0;
  auto set = sentinel::classify::RuleSet::Compile(Shipped().vocabulary, {*rule});
  if (!set.ok()) return 0;
  for (const char* smiles : {"CCC(=O)N(c1ccccc1)C1CCN(CCc2ccccc2)CC1", "CNC(C)C(=O)c1ccc(C)cc1",
                             "CCCCCn1cc(C(=O)c2cccc3ccccc23)c2ccccc21"}) {
    auto mol = sentinel::chem::ParseSmiles(smiles);
    if (!mol.ok()) __builtin_trap();
    (void)set->Evaluate(0, **mol, smiles, {});
  }
  return 0;
}
