#include "core/chem/inchi.h"

#include <GraphMol/MolOps.h>
#include <GraphMol/PeriodicTable.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <inchi_api.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <exception>
#include <mutex>
#include <optional>
#include <vector>

#include "core/chem/molecule.h"

#if defined(__SANITIZE_ADDRESS__)
#define SENTINEL_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SENTINEL_ADDRESS_SANITIZER 1
#endif
#endif
#ifdef SENTINEL_ADDRESS_SANITIZER
#include <sanitizer/common_interface_defs.h>
#endif

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

// What GetStructFromINCHI answered, copied out of the library's buffers.
struct ParsedInchi {
  int rc = 0;
  std::string message;
  std::vector<inchi_Atom> atoms;
  std::vector<inchi_Stereo0D> stereo;
};

// The wire format between the parsing child and its parent: rc, then the message, the atoms
// and the stereo elements, each as a 32-bit count followed by the raw bytes.
void Append(std::string* out, const void* data, std::size_t bytes) {
  out->append(static_cast<const char*>(data), bytes);
}

void AppendBlock(std::string* out, const void* data, std::int32_t count, std::size_t each) {
  Append(out, &count, sizeof count);
  if (count > 0) Append(out, data, static_cast<std::size_t>(count) * each);
}

bool TakeBlock(std::string_view* in, std::string* bytes, std::size_t each) {
  std::int32_t count = 0;
  if (in->size() < sizeof count) return false;
  std::memcpy(&count, in->data(), sizeof count);
  in->remove_prefix(sizeof count);
  if (count < 0 || static_cast<std::size_t>(count) > in->size() / std::max<std::size_t>(each, 1)) {
    return false;
  }
  const std::size_t size = static_cast<std::size_t>(count) * each;
  bytes->assign(in->data(), size);
  in->remove_prefix(size);
  return true;
}

template <typename T>
bool TakeArray(std::string_view* in, std::vector<T>* out) {
  std::string bytes;
  if (!TakeBlock(in, &bytes, sizeof(T))) return false;
  out->resize(bytes.size() / sizeof(T));
  if (!bytes.empty()) std::memcpy(out->data(), bytes.data(), bytes.size());
  return true;
}

bool SendAll(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Reads exactly `size` bytes; with a deadline (parent side) waits at most until then.
bool ReceiveAll(int fd, char* data, std::size_t size,
                std::optional<std::chrono::steady_clock::time_point> deadline) {
  while (size > 0) {
    if (deadline) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          *deadline - std::chrono::steady_clock::now());
      pollfd p{fd, POLLIN, 0};
      const int ready = poll(&p, 1, static_cast<int>(std::max<std::int64_t>(left.count(), 0)));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return false;
    }
    const ssize_t n = recv(fd, data, size, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  return true;
}

// Messages both ways are a 32-bit length and that many bytes.
bool SendMessage(int fd, const std::string& body) {
  const auto size = static_cast<std::uint32_t>(body.size());
  return SendAll(fd, reinterpret_cast<const char*>(&size), sizeof size) &&
         SendAll(fd, body.data(), body.size());
}

bool ReceiveMessage(int fd, std::string* body, std::size_t limit,
                    std::optional<std::chrono::steady_clock::time_point> deadline) {
  std::uint32_t size = 0;
  if (!ReceiveAll(fd, reinterpret_cast<char*>(&size), sizeof size, deadline)) return false;
  if (size > limit) return false;
  body->resize(size);
  return ReceiveAll(fd, body->data(), size, deadline);
}

// The worker process: answers parse requests until its parent closes the socket.
[[noreturn]] void ServeParses(int fd) {
  // Die quietly on a fault: no sanitizer or fuzzer report from here, the parent reports.
  for (const int sig : {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT}) std::signal(sig, SIG_DFL);
  // Under AddressSanitizer the library's faults are also caught without a signal (its memcpy
  // calls are checked): the report goes to stderr, which this process does not need, and no
  // death callback runs (a fuzzer's would file the parent's input as a crash).
  if (const int null = open("/dev/null", O_WRONLY); null >= 0) {
    dup2(null, STDERR_FILENO);
    close(null);
  }
#ifdef SENTINEL_ADDRESS_SANITIZER
  __sanitizer_set_death_callback(nullptr);
#endif
  std::string text;
  while (ReceiveMessage(fd, &text, kMaxStructureTextBytes, std::nullopt)) {
    char options[] = "";
    inchi_InputINCHI in{};
    in.szInChI = text.data();
    in.szOptions = options;
    inchi_OutputStruct out{};
    const std::int32_t rc = GetStructFromINCHI(&in, &out);
    std::string wire;
    Append(&wire, &rc, sizeof rc);
    const std::string message = out.szMessage ? out.szMessage : "";
    AppendBlock(&wire, message.data(), static_cast<std::int32_t>(message.size()), 1);
    AppendBlock(&wire, out.atom, out.atom ? out.num_atoms : 0, sizeof(inchi_Atom));
    AppendBlock(&wire, out.stereo0D, out.stereo0D ? out.num_stereo0D : 0, sizeof(inchi_Stereo0D));
    FreeStructFromINCHI(&out);
    if (!SendMessage(fd, wire)) break;
  }
  _exit(0);  // no atexit handlers and no leak check: this copy of the process is discarded
}

// The InChI library of Debian 12 (1.03) crashes on some malformed InChI strings (fuzzing found
// a SEGV inside GetStructFromINCHI) and leaks on some of its error paths. InChI strings are
// therefore parsed in a worker process, forked on first use, that only calls the library; a
// crash costs that worker (the next parse forks another), not the node. A request is a
// round trip over a socket, tens of microseconds; a fork per parse cost milliseconds, and
// made every page the parent then wrote a copy-on-write fault.
class InchiParser {
 public:
  static InchiParser& Shared() {
    // Never destroyed: no exit-time destructor can race a parse on another thread.
    static InchiParser* parser = new InchiParser();
    return *parser;
  }

  Result<ParsedInchi> Parse(std::string_view inchi) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (pid_ < 0) {
      if (Status started = Start(); !started.ok()) return started;
    }
    std::string wire;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    if (!SendMessage(fd_, std::string(inchi)) ||
        !ReceiveMessage(fd_, &wire, std::size_t{64} << 20, deadline)) {
      return Failed();
    }
    ParsedInchi parsed;
    std::string_view in(wire);
    if (in.size() < sizeof parsed.rc) return Failed();
    std::memcpy(&parsed.rc, in.data(), sizeof parsed.rc);
    in.remove_prefix(sizeof parsed.rc);
    if (!TakeBlock(&in, &parsed.message, 1) || !TakeArray(&in, &parsed.atoms) ||
        !TakeArray(&in, &parsed.stereo)) {
      return Failed();
    }
    return parsed;
  }

 private:
  Status Start() {
    int fds[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) {
      return Status::IoError(std::string("socketpair: ") + std::strerror(errno));
    }
    const pid_t pid = fork();
    if (pid < 0) {
      close(fds[0]);
      close(fds[1]);
      return Status::IoError(std::string("fork: ") + std::strerror(errno));
    }
    if (pid == 0) {
      // Keep only the socket: the worker must not hold the node's database, listening socket
      // or log open after the node itself has gone.
      const int fd = fds[1] == 3 ? 3 : dup2(fds[1], 3);
      if (fd != 3) _exit(2);
      close_range(4, ~0U, 0);
      ServeParses(3);
    }
    close(fds[1]);
    pid_ = pid;
    fd_ = fds[0];
    return Status::Ok();
  }

  // The worker died, hung or answered nonsense: end it, and say why.
  Status Failed() {
    close(fd_);
    kill(pid_, SIGKILL);  // a no-op if it is already dead; ends it if it hangs
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    fd_ = -1;
    if (WIFSIGNALED(status) && WTERMSIG(status) != SIGKILL) {
      return Status::InvalidArgument(fmt::format(
          "InChI not understood: the InChI library failed on it (signal {})", WTERMSIG(status)));
    }
    return Status::InvalidArgument(
        "InChI not understood: the InChI library did not answer within 10 s");
  }

  // The worker ends by itself when its socket closes at the node's exit.
  std::mutex mutex_;
  pid_t pid_ = -1;
  int fd_ = -1;
};

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
  auto parsed = InchiParser::Shared().Parse(inchi);
  if (!parsed.ok()) return parsed.status();
  const std::vector<inchi_Atom>& atoms = parsed->atoms;
  const std::vector<inchi_Stereo0D>& stereo = parsed->stereo;
  std::unique_ptr<RDKit::RWMol> mol;
  std::string failure;
  // X-A=B-Y with X,Y the reference neighbours; applied once hydrogens are gone (see below).
  struct DoubleBondParity {
    int x, a, b, y;
    bool trans;
  };
  std::vector<DoubleBondParity> double_bonds;
  const int out_atoms = static_cast<int>(atoms.size());
  if ((parsed->rc != inchi_Ret_OKAY && parsed->rc != inchi_Ret_WARNING) || out_atoms <= 0) {
    failure = parsed->message.empty() ? "InChI not understood" : parsed->message;
  } else {
    mol = std::make_unique<RDKit::RWMol>();
    for (const inchi_Atom& a : atoms) {
      // The child copied the library's structs byte for byte; the name may lack its terminator.
      const std::string element(a.elname, strnlen(a.elname, ATOM_EL_LEN));
      auto* atom = new RDKit::Atom(element);
      atom->setFormalCharge(a.charge);
      atom->setNoImplicit(true);
      atom->setNumExplicitHs(a.num_iso_H[0] + a.num_iso_H[1] + a.num_iso_H[2] + a.num_iso_H[3]);
      if (a.isotopic_mass > 0) {
        // The library reports isotopes as ISOTOPIC_SHIFT_FLAG + (mass - average mass).
        const int shift = a.isotopic_mass - ISOTOPIC_SHIFT_FLAG;
        const double average = RDKit::PeriodicTable::getTable()->getAtomicWeight(element);
        atom->setIsotope(static_cast<unsigned>(std::lround(average) + shift));
      }
      if (a.radical == INCHI_RADICAL_DOUBLET) atom->setNumRadicalElectrons(1);
      mol->addAtom(atom, /*updateLabel=*/false, /*takeOwnership=*/true);
    }
    for (int i = 0; i < out_atoms; ++i) {
      const inchi_Atom& a = atoms[static_cast<std::size_t>(i)];
      for (int j = 0; j < std::min<int>(a.num_bonds, MAXVAL); ++j) {
        const int other = a.neighbor[j];
        if (other <= i || other >= out_atoms) continue;
        RDKit::Bond::BondType type = RDKit::Bond::SINGLE;
        if (a.bond_type[j] == INCHI_BOND_TYPE_DOUBLE) type = RDKit::Bond::DOUBLE;
        if (a.bond_type[j] == INCHI_BOND_TYPE_TRIPLE) type = RDKit::Bond::TRIPLE;
        mol->addBond(static_cast<unsigned>(i), static_cast<unsigned>(other), type);
      }
    }
    for (const inchi_Stereo0D& s : stereo) {
      const int parity = s.parity & 7;
      if (parity != INCHI_PARITY_EVEN && parity != INCHI_PARITY_ODD) continue;
      if (s.type == INCHI_StereoType_Tetrahedral && s.central_atom >= 0 &&
          s.central_atom < out_atoms) {
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
