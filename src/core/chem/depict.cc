#include "core/chem/depict.h"

#include <GraphMol/Depictor/RDDepictor.h>
#include <GraphMol/MolDraw2D/MolDraw2DSVG.h>
#include <GraphMol/MolDraw2D/MolDraw2DUtils.h>
#include <GraphMol/MolOps.h>
#include <GraphMol/RWMol.h>

#include <set>

namespace sentinel::chem {

std::string DrawSvg(const RDKit::ROMol& input, const std::vector<int>& highlight, int width,
                    int height, const std::string& legend) {
  RDKit::RWMol mol(input);
  // Parsing leaves both out (chem/molecule.h); layout reads hybridisation (linear sp atoms).
  RDKit::MolOps::setConjugation(mol);
  RDKit::MolOps::setHybridization(mol);
  RDDepict::compute2DCoords(mol);
  std::vector<int> bonds;
  const std::set<int> atoms(highlight.begin(), highlight.end());
  for (const RDKit::Bond* b : mol.bonds()) {
    if (atoms.count(static_cast<int>(b->getBeginAtomIdx())) &&
        atoms.count(static_cast<int>(b->getEndAtomIdx()))) {
      bonds.push_back(static_cast<int>(b->getIdx()));
    }
  }
  RDKit::MolDraw2DSVG drawer(width, height);
  RDKit::MolDraw2DUtils::prepareAndDrawMolecule(drawer, mol, legend, &highlight, &bonds);
  drawer.finishDrawing();
  return drawer.getDrawingText();
}

}  // namespace sentinel::chem
