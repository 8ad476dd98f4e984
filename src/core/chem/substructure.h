// Substructure tests rooted at one atom.
//
// Contract. MatchesAt(pattern, mol, atom) is true exactly when RDKit's SubstructMatch(mol,
// pattern) (chirality ignored) has a match whose first pattern atom is `atom`; recursive SMARTS
// in the pattern's atom queries are themselves matched rooted at the atom they test. It costs a
// small search around `atom`, where SubstructMatch searches the whole molecule and, before it
// starts, every recursive SMARTS of the pattern over the whole molecule again. It never changes
// the pattern, so one pattern may serve several threads (RDKit's own matching records recursive
// SMARTS results in the pattern and takes a lock for it).
#pragma once

// RDConfig.h first: it says whether RDKit was built thread-safe, which changes the layout of
// its query classes (RecursiveStructureQuery holds a mutex then), and QueryOps.h does not
// include it.
#include <RDGeneral/RDConfig.h>

#include <GraphMol/QueryAtom.h>
#include <GraphMol/ROMol.h>

namespace sentinel::chem {

bool MatchesAt(const RDKit::ROMol& pattern, const RDKit::ROMol& mol, unsigned atom);

// Whether an atom query holds a recursive SMARTS ($(...)) anywhere; false for null.
bool HasRecursion(const RDKit::QueryAtom::QUERYATOM_QUERY* query);

}  // namespace sentinel::chem
