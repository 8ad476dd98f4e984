// Fuzzes structure input end to end: the record readers (.smi lines, SDF, CSV), then text read
// as SMILES, InChI, molfile, CAS or name, standardised and classified in every jurisdiction. Any
// input must give a result or a Status, never a crash; a resolved structure must have a canonical
// SMILES that parses again.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "app/classify_command.h"
#include "app/structure_input.h"
#include "core/chem/molecule.h"
#include "core/classify/resolve.h"

namespace {

const sentinel::classify::Classifier& Shared() {
  static const auto loaded = sentinel::app::LoadClassifier(SENTINEL_DATA_DIR);
  if (!loaded.ok()) __builtin_trap();
  return **loaded;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size > 4096) return 0;  // structures are bounded well above this by the parsers themselves
  const auto& classifier = Shared();
  const std::string text(reinterpret_cast<const char*>(data), size);
  for (const char* kind : {"lines", "sdf", "csv"}) {
    for (const auto& record : sentinel::app::ReadStructureText(text, "fuzz", kind)) {
      if (record.where.empty()) __builtin_trap();  // every record says where it came from
    }
  }
  {
    // Stdin: its kind told from its first lines, read in small chunks.
    std::istringstream in(text);
    sentinel::app::StructureReader reader({}, in);
    std::vector<sentinel::app::StructureRecord> records;
    while (!reader.done()) {
      const std::size_t before = records.size();
      if (!reader.Read(3, &records).ok() || records.size() - before > 3) __builtin_trap();
    }
    for (const auto& record : records) {
      if (record.where.empty()) __builtin_trap();
    }
  }
  for (bool molfile : {false, true}) {
    auto r = sentinel::classify::ResolveStructure(text, molfile, classifier.kb());
    if (!r.ok()) continue;
    if (!sentinel::chem::ParseSmiles(r->smiles).ok()) __builtin_trap();
    sentinel::classify::ClassifyOptions options;
    auto result = classifier.Classify(*r->mol, r->smiles, options);
    (void)sentinel::app::ClassificationJson(text, r, &result);
  }
  return 0;
}
