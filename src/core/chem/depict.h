// Structure pictures: an SVG of a molecule with chosen atoms (and the bonds between them)
// highlighted, through RDKit's MolDraw2D with 2D coordinates computed by its depictor.
#pragma once

#include <GraphMol/ROMol.h>

#include <string>
#include <vector>

namespace sentinel::chem {

std::string DrawSvg(const RDKit::ROMol& mol, const std::vector<int>& highlight, int width = 450,
                    int height = 350, const std::string& legend = "");

}  // namespace sentinel::chem
