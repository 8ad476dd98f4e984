#include "core/chem/inchi.h"

#include <GraphMol/MolOps.h>
#include <GraphMol/PeriodicTable.h>
#include <inchi_api.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <mutex>
#include <vector>

#include "core/chem/molecule.h"

namespace sentinel::chem {
namespace {

std::mutex& InchiMutex() {
  static std::mutex m;
  return m;
}

// Index of `who` among the neighbours of `atom` in RDKit's bond order, which is the order its
// chiral tag refers to.
std::vector<int> NeighboursInBondOrder(const RDKit::ROMol& mol, const RDKit::Atom* atom) {
  std::vector<int> out;
  for (const RDKit::Bond* bond : mol.atomBonds(atom)) {
    out.push_back(static_cast<int>(bond->getOtherAtomIdx(atom->getIdx())));
  }
  return out;
}

void AddTetrahedral(const RDKit::ROMol& mol, const RDKit::Atom* atom,
                    std::vector<inchi_Stereo0D>* stereo) {
  const auto tag = atom->getChiralTag();
  if (tag != RDKit::Atom::CHI_TETRAHEDRAL_CW && tag != RDKit::Atom::CHI_TETRAHEDRAL_CCW) return;
  std::vector<int> nbrs = NeighboursInBondOrder(mol, atom);
  const int centre = static_cast<int>(atom->getIdx());
  // With an implicit hydrogen InChI stands the centre itself in for it, looking from the centre
  // out; RDKit's tag reads as if looking from the hydrogen in, the opposite sense.
  const bool implicit_h = nbrs.size() == 3;
  if (implicit_h) nbrs.insert(nbrs.begin(), centre);
  if (nbrs.size() != 4) return;
  inchi_Stereo0D s{};
  for (int i = 0; i < 4; ++i) s.neighbor[i] = static_cast<AT_NUM>(nbrs[i]);
  s.central_atom = static_cast<AT_NUM>(centre);
  s.type = INCHI_StereoType_Tetrahedral;
  // RDKit CW: looking from neighbour 0, the others run clockwise; InChI calls that 'even'.
  s.parity =
      (tag == RDKit::Atom::CHI_TETRAHEDRAL_CW) != implicit_h ? INCHI_PARITY_EVEN : INCHI_PARITY_ODD;
  stereo->push_back(s);
}

void AddDoubleBond(const RDKit::Bond* bond, std::vector<inchi_Stereo0D>* stereo) {
  const auto st = bond->getStereo();
  const auto& ends = bond->getStereoAtoms();
  if (ends.size() != 2) return;
  bool trans;
  if (st == RDKit::Bond::STEREOE || st == RDKit::Bond::STEREOTRANS) {
    trans = true;
  } else if (st == RDKit::Bond::STEREOZ || st == RDKit::Bond::STEREOCIS) {
    trans = false;
  } else {
    return;
  }
  inchi_Stereo0D s{};
  s.neighbor[0] = static_cast<AT_NUM>(ends[0]);
  s.neighbor[1] = static_cast<AT_NUM>(bond->getBeginAtomIdx());
  s.neighbor[2] = static_cast<AT_NUM>(bond->getEndAtomIdx());
  s.neighbor[3] = static_cast<AT_NUM>(ends[1]);
  s.central_atom = NO_ATOM;
  s.type = INCHI_StereoType_DoubleBond;
  s.parity = trans ? INCHI_PARITY_EVEN : INCHI_PARITY_ODD;
  stereo->push_back(s);
}

}  // namespace

Result<std::string> StdInchi(const RDKit::ROMol& input) {
  if (input.getNumAtoms() >= 1024) return Status::InvalidArgument("too many atoms for InChI");
  RDKit::RWMol mol(input);
  try {
    RDKit::MolOps::Kekulize(mol, /*markAtomsBonds=*/true);
    RDKit::MolOps::assignStereochemistry(mol, /*cleanIt=*/true, /*force=*/true);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("cannot kekulise for InChI: ") + e.what());
  }
  const unsigned n = mol.getNumAtoms();
  std::vector<inchi_Atom> atoms(n);
  std::vector<inchi_Stereo0D> stereo;
  for (const RDKit::Atom* atom : mol.atoms()) {
    inchi_Atom& a = atoms[atom->getIdx()];
    std::memset(&a, 0, sizeof(a));
    const std::string symbol = atom->getSymbol();
    std::strncpy(a.elname, symbol.c_str(), ATOM_EL_LEN - 1);
    a.num_iso_H[0] = static_cast<S_CHAR>(atom->getTotalNumHs());
    a.charge = static_cast<S_CHAR>(atom->getFormalCharge());
    a.radical = static_cast<S_CHAR>(atom->getNumRadicalElectrons() == 1 ? INCHI_RADICAL_DOUBLET
                                                                        : INCHI_RADICAL_NONE);
    if (atom->getIsotope() != 0) a.isotopic_mass = static_cast<AT_NUM>(atom->getIsotope());
    AddTetrahedral(mol, atom, &stereo);
  }
  for (const RDKit::Bond* bond : mol.bonds()) {
    // Each bond once, listed on its higher-numbered atom (the API accepts either end).
    const unsigned from = std::max(bond->getBeginAtomIdx(), bond->getEndAtomIdx());
    const unsigned to = std::min(bond->getBeginAtomIdx(), bond->getEndAtomIdx());
    inchi_Atom& a = atoms[from];
    if (a.num_bonds >= MAXVAL) return Status::InvalidArgument("atom valence too high for InChI");
    S_CHAR type;
    switch (bond->getBondType()) {
      case RDKit::Bond::SINGLE:
        type = INCHI_BOND_TYPE_SINGLE;
        break;
      case RDKit::Bond::DOUBLE:
        type = INCHI_BOND_TYPE_DOUBLE;
        break;
      case RDKit::Bond::TRIPLE:
        type = INCHI_BOND_TYPE_TRIPLE;
        break;
      default:
        return Status::InvalidArgument("bond type InChI cannot take");
    }
    a.neighbor[a.num_bonds] = static_cast<AT_NUM>(to);
    a.bond_type[a.num_bonds] = type;
    ++a.num_bonds;
    if (bond->getBondType() == RDKit::Bond::DOUBLE) AddDoubleBond(bond, &stereo);
  }
  inchi_Input in{};
  in.atom = atoms.data();
  in.num_atoms = static_cast<AT_NUM>(n);
  in.stereo0D = stereo.empty() ? nullptr : stereo.data();
  in.num_stereo0D = static_cast<AT_NUM>(stereo.size());
  char options[] = "";
  in.szOptions = options;
  inchi_Output out{};
  std::lock_guard<std::mutex> lock(InchiMutex());
  const int rc = GetStdINCHI(&in, &out);
  std::string result = out.szInChI ? out.szInChI : "";
  std::string message = out.szMessage ? out.szMessage : "";
  FreeStdINCHI(&out);
  if ((rc != inchi_Ret_OKAY && rc != inchi_Ret_WARNING) || result.empty()) {
    return Status::InvalidArgument("InChI generation failed: " + message);
  }
  return result;
}

Result<std::string> InchiKeyOfInchi(std::string_view inchi) {
  const std::string text(inchi);
  char key[32] = {0};
  std::lock_guard<std::mutex> lock(InchiMutex());
  if (GetStdINCHIKeyFromStdINCHI(text.c_str(), key) != INCHIKEY_OK) {
    return Status::InvalidArgument("cannot compute an InChIKey from '" + text + "'");
  }
  return std::string(key);
}

Result<std::string> StdInchiKey(const RDKit::ROMol& mol) {
  auto inchi = StdInchi(mol);
  if (!inchi.ok()) return inchi.status();
  return InchiKeyOfInchi(*inchi);
}

Result<std::unique_ptr<RDKit::RWMol>> MolFromInchi(std::string_view inchi) {
  if (inchi.size() > kMaxStructureTextBytes) {
    return Status::InvalidArgument("InChI longer than the size limit");
  }
  if (inchi.substr(0, 6) != "InChI=") return Status::InvalidArgument("not an InChI string");
  std::string text(inchi);
  char options[] = "";
  inchi_InputINCHI in{};
  in.szInChI = text.data();
  in.szOptions = options;
  inchi_OutputStruct out{};
  std::unique_ptr<RDKit::RWMol> mol;
  std::string failure;
  // X-A=B-Y with X,Y the reference neighbours; applied once hydrogens are gone (see below).
  struct DoubleBondParity {
    int x, a, b, y;
    bool trans;
  };
  std::vector<DoubleBondParity> double_bonds;
  int out_atoms = 0;
  {
    std::lock_guard<std::mutex> lock(InchiMutex());
    const int rc = GetStructFromINCHI(&in, &out);
    if ((rc != inchi_Ret_OKAY && rc != inchi_Ret_WARNING) || out.num_atoms <= 0) {
      failure = out.szMessage ? out.szMessage : "InChI not understood";
    } else {
      out_atoms = out.num_atoms;
      mol = std::make_unique<RDKit::RWMol>();
      for (int i = 0; i < out.num_atoms; ++i) {
        const inchi_Atom& a = out.atom[i];
        auto* atom = new RDKit::Atom(std::string(a.elname));
        atom->setFormalCharge(a.charge);
        atom->setNoImplicit(true);
        atom->setNumExplicitHs(a.num_iso_H[0] + a.num_iso_H[1] + a.num_iso_H[2] + a.num_iso_H[3]);
        if (a.isotopic_mass > 0) {
          // The library reports isotopes as ISOTOPIC_SHIFT_FLAG + (mass - average mass).
          const int shift = a.isotopic_mass - ISOTOPIC_SHIFT_FLAG;
          const double average = RDKit::PeriodicTable::getTable()->getAtomicWeight(a.elname);
          atom->setIsotope(static_cast<unsigned>(std::lround(average) + shift));
        }
        if (a.radical == INCHI_RADICAL_DOUBLET) atom->setNumRadicalElectrons(1);
        mol->addAtom(atom, /*updateLabel=*/false, /*takeOwnership=*/true);
      }
      for (int i = 0; i < out.num_atoms; ++i) {
        const inchi_Atom& a = out.atom[i];
        for (int j = 0; j < a.num_bonds; ++j) {
          const int other = a.neighbor[j];
          if (other <= i || other >= out.num_atoms) continue;
          RDKit::Bond::BondType type = RDKit::Bond::SINGLE;
          if (a.bond_type[j] == INCHI_BOND_TYPE_DOUBLE) type = RDKit::Bond::DOUBLE;
          if (a.bond_type[j] == INCHI_BOND_TYPE_TRIPLE) type = RDKit::Bond::TRIPLE;
          mol->addBond(static_cast<unsigned>(i), static_cast<unsigned>(other), type);
        }
      }
      for (int k = 0; k < out.num_stereo0D; ++k) {
        const inchi_Stereo0D& s = out.stereo0D[k];
        const int parity = s.parity & 7;
        if (parity != INCHI_PARITY_EVEN && parity != INCHI_PARITY_ODD) continue;
        if (s.type == INCHI_StereoType_Tetrahedral && s.central_atom >= 0 &&
            s.central_atom < out.num_atoms) {
          // Permutation parity between the InChI neighbour order (centre standing in for an
          // implicit H, first) and RDKit's bond order decides CW vs CCW.
          RDKit::Atom* centre = mol->getAtomWithIdx(static_cast<unsigned>(s.central_atom));
          std::vector<int> rd;
          for (const RDKit::Bond* b : mol->atomBonds(centre)) {
            rd.push_back(static_cast<int>(b->getOtherAtomIdx(centre->getIdx())));
          }
          const bool implicit_h = rd.size() == 3;  // see AddTetrahedral for the flip
          if (implicit_h) rd.insert(rd.begin(), s.central_atom);
          std::vector<int> ic(s.neighbor, s.neighbor + 4);
          if (rd.size() != 4) continue;
          int swaps = 0;
          for (int p = 0; p < 4; ++p) {
            auto it = std::find(rd.begin() + p, rd.end(), ic[p]);
            if (it == rd.end()) {
              swaps = -1;
              break;
            }
            if (it != rd.begin() + p) {
              std::iter_swap(it, rd.begin() + p);
              ++swaps;
            }
          }
          if (swaps < 0) continue;
          const bool even = ((parity == INCHI_PARITY_EVEN) != (swaps % 2 == 1)) != implicit_h;
          centre->setChiralTag(even ? RDKit::Atom::CHI_TETRAHEDRAL_CW
                                    : RDKit::Atom::CHI_TETRAHEDRAL_CCW);
        } else if (s.type == INCHI_StereoType_DoubleBond) {
          double_bonds.push_back({s.neighbor[0], s.neighbor[1], s.neighbor[2], s.neighbor[3],
                                  parity == INCHI_PARITY_EVEN});
        }
      }
    }
    FreeStructFromINCHI(&out);
  }
  if (!mol) return Status::InvalidArgument("InChI not understood: " + failure);
  try {
    RDKit::MolOps::sanitizeMol(*mol);
    // InChI returns stereo hydrogens as atoms. Remove them, then state each double bond's
    // geometry against heavy reference neighbours (a hydrogen reference flips cis/trans).
    for (const RDKit::Atom* atom : mol->atoms()) atom->setProp<int>("inchi_idx", atom->getIdx());
    RDKit::MolOps::removeHs(*mol);
    std::vector<int> now(out_atoms, -1);
    for (const RDKit::Atom* atom : mol->atoms()) {
      now[static_cast<std::size_t>(atom->getProp<int>("inchi_idx"))] =
          static_cast<int>(atom->getIdx());
    }
    for (auto db : double_bonds) {
      if (db.a >= out_atoms || db.b >= out_atoms || db.x >= out_atoms || db.y >= out_atoms ||
          db.a < 0 || db.b < 0 || db.x < 0 || db.y < 0 || now[db.a] < 0 || now[db.b] < 0) {
        continue;
      }
      RDKit::Bond* bond = mol->getBondBetweenAtoms(now[db.a], now[db.b]);
      if (!bond || bond->getBondType() != RDKit::Bond::DOUBLE) continue;
      // Replace a removed reference with the other heavy neighbour of that end.
      auto heavy_ref = [&](int ref, int end, int other_end) {
        if (now[ref] >= 0) return now[ref];
        for (const RDKit::Atom* n : mol->atomNeighbors(mol->getAtomWithIdx(now[end]))) {
          if (static_cast<int>(n->getIdx()) != now[other_end]) {
            db.trans = !db.trans;
            return static_cast<int>(n->getIdx());
          }
        }
        return -1;
      };
      const int x = heavy_ref(db.x, db.a, db.b);
      const int y = heavy_ref(db.y, db.b, db.a);
      if (x < 0 || y < 0) continue;
      const bool a_is_begin = bond->getBeginAtomIdx() == static_cast<unsigned>(now[db.a]);
      bond->setStereoAtoms(a_is_begin ? x : y, a_is_begin ? y : x);
      bond->setStereo(db.trans ? RDKit::Bond::STEREOTRANS : RDKit::Bond::STEREOCIS);
    }
    // Not cleanIt: that would drop the geometry just set, which has no bond directions yet.
    RDKit::MolOps::assignStereochemistry(*mol, /*cleanIt=*/false, /*force=*/true);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("InChI gives an invalid structure: ") + e.what());
  }
  return mol;
}

}  // namespace sentinel::chem
