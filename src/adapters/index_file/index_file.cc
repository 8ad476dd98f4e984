#include "adapters/index_file/index_file.h"

#include <xxhash.h>

#include <unistd.h>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

namespace sentinel::index_file {
namespace {

constexpr char kMagic[8] = {'S', 'N', 'T', 'L', 'I', 'D', 'X', '1'};
constexpr std::size_t kHeaderSize = 8 + 4 + 4 + 8 + 8;
// Far above any real library; guards allocations driven by a corrupt count.
constexpr std::uint64_t kMaxCount = 100'000'000;
// The fewest bytes one encoded record can take (all strings empty). A count is only believed if
// the bytes left could hold that many records, so a corrupt count cannot drive an allocation
// larger than the file itself.
constexpr std::size_t kMinSourceBytes = 4 + 8 + 8;
constexpr std::size_t kMinEntryBytes = 4 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 4 + 1 + 4;

class Writer {
 public:
  explicit Writer(std::string* out) : out_(out) {}
  template <typename T>
  void Put(T v) {
    char buf[sizeof(T)];
    std::memcpy(buf, &v, sizeof(T));
    out_->append(buf, sizeof(T));
  }
  void PutString(std::string_view s) {
    Put<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
    out_->append(s);
  }
  void PutBlob(std::string_view s) {
    Put<std::uint64_t>(s.size());
    out_->append(s);
  }

 private:
  std::string* out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  bool Get(T* v) {
    if (in_.size() - pos_ < sizeof(T)) return false;
    std::memcpy(v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return true;
  }
  bool GetString(std::string* s) {
    std::uint32_t n = 0;
    if (!Get(&n) || in_.size() - pos_ < n) return false;
    s->assign(in_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool GetBlob(std::string_view* s) {
    std::uint64_t n = 0;
    if (!Get(&n) || in_.size() - pos_ < n) return false;
    *s = in_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool AtEnd() const { return pos_ == in_.size(); }
  std::size_t remaining() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
};

void PutEntry(Writer& w, const spectra::LibraryEntry& e) {
  w.PutString(e.name);
  w.Put<std::uint32_t>(static_cast<std::uint32_t>(e.synonyms.size()));
  for (const auto& s : e.synonyms) w.PutString(s);
  w.PutString(e.inchikey);
  w.PutString(e.formula);
  w.Put<std::int32_t>(e.nominal_mass.value_or(-1));
  w.PutString(e.cas);
  w.PutString(e.id);
  w.PutString(e.comment);
  w.PutString(e.compound_class);
  w.Put<std::uint8_t>(e.isotope_labelled ? 1 : 0);
  w.PutString(e.compound_key);
}

bool GetEntry(Reader& r, spectra::LibraryEntry* e) {
  std::uint32_t synonyms = 0;
  if (!r.GetString(&e->name) || !r.Get(&synonyms) || synonyms > r.remaining() / 4) return false;
  e->synonyms.resize(0);
  for (std::uint32_t i = 0; i < synonyms; ++i) {
    std::string s;
    if (!r.GetString(&s)) return false;
    e->synonyms.push_back(std::move(s));
  }
  std::int32_t mass = -1;
  std::uint8_t labelled = 0;
  if (!r.GetString(&e->inchikey) || !r.GetString(&e->formula) || !r.Get(&mass) ||
      !r.GetString(&e->cas) || !r.GetString(&e->id) || !r.GetString(&e->comment) ||
      !r.GetString(&e->compound_class) || !r.Get(&labelled) || !r.GetString(&e->compound_key)) {
    return false;
  }
  if (mass >= 0) e->nominal_mass = mass;
  e->isotope_labelled = labelled != 0;
  return true;
}

}  // namespace

Result<SourceFingerprint> FingerprintFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": cannot open: " + std::strerror(errno));
  XXH64_state_t* state = XXH64_createState();
  XXH64_reset(state, 0);
  std::vector<char> buf(1 << 20);
  std::uint64_t size = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    XXH64_update(state, buf.data(), got);
    size += got;
  }
  const bool failed = in.bad();
  SourceFingerprint fp{path, size, XXH64_digest(state)};
  XXH64_freeState(state);
  if (failed) return Status::IoError(path + ": read failed");
  return fp;
}

std::string EncodeIndex(const spectra::Library& library,
                        const std::vector<SourceFingerprint>& sources) {
  std::string payload;
  Writer w(&payload);
  w.PutString(library.label());
  w.Put<std::uint32_t>(static_cast<std::uint32_t>(sources.size()));
  for (const auto& s : sources) {
    w.PutString(s.path);
    w.Put(s.size);
    w.Put(s.hash);
  }
  w.Put<std::uint64_t>(library.size());
  for (const auto& e : library.entries()) PutEntry(w, e);
  std::string part;
  library.store().Serialize(&part);
  w.PutBlob(part);
  part.clear();
  library.fragments().Serialize(&part);
  w.PutBlob(part);

  std::string out;
  out.reserve(kHeaderSize + payload.size());
  out.append(kMagic, sizeof(kMagic));
  Writer h(&out);
  h.Put<std::uint32_t>(kFormatVersion);
  h.Put<std::uint32_t>(0);
  h.Put<std::uint64_t>(payload.size());
  h.Put<std::uint64_t>(XXH64(payload.data(), payload.size(), 0));
  out += payload;
  return out;
}

Result<DecodedIndex> DecodeIndex(std::string_view bytes, std::string_view name) {
  const std::string where(name);
  if (bytes.size() < kHeaderSize || std::memcmp(bytes.data(), kMagic, sizeof(kMagic)) != 0) {
    return Status::Corruption(where + ": not a Sentinel library index (bad magic)");
  }
  Reader header(bytes.substr(sizeof(kMagic), kHeaderSize - sizeof(kMagic)));
  std::uint32_t version = 0, reserved = 0;
  std::uint64_t payload_size = 0, checksum = 0;
  header.Get(&version);
  header.Get(&reserved);
  header.Get(&payload_size);
  header.Get(&checksum);
  if (version != kFormatVersion) {
    return Status::FailedPrecondition(where + ": index format version " + std::to_string(version) +
                                      ", this build reads " + std::to_string(kFormatVersion) +
                                      "; rebuild it with `sentinel library build`");
  }
  const std::string_view payload = bytes.substr(kHeaderSize);
  if (payload.size() != payload_size) {
    return Status::Corruption(where + ": index is truncated or has trailing bytes (payload " +
                              std::to_string(payload.size()) + " bytes, header says " +
                              std::to_string(payload_size) + ")");
  }
  if (XXH64(payload.data(), payload.size(), 0) != checksum) {
    return Status::Corruption(where + ": index checksum mismatch (file altered or damaged)");
  }
  Reader r(payload);
  std::string label;
  std::uint32_t source_count = 0;
  if (!r.GetString(&label) || !r.Get(&source_count) || source_count > kMaxCount ||
      source_count > r.remaining() / kMinSourceBytes) {
    return Status::Corruption(where + ": bad index header fields");
  }
  DecodedIndex out;
  for (std::uint32_t i = 0; i < source_count; ++i) {
    SourceFingerprint s;
    if (!r.GetString(&s.path) || !r.Get(&s.size) || !r.Get(&s.hash)) {
      return Status::Corruption(where + ": bad source fingerprint " + std::to_string(i + 1));
    }
    out.sources.push_back(std::move(s));
  }
  std::uint64_t entry_count = 0;
  if (!r.Get(&entry_count) || entry_count > kMaxCount ||
      entry_count > r.remaining() / kMinEntryBytes) {
    return Status::Corruption(where + ": bad entry count");
  }
  std::vector<spectra::LibraryEntry> entries(entry_count);
  for (std::uint64_t i = 0; i < entry_count; ++i) {
    if (!GetEntry(r, &entries[i])) {
      return Status::Corruption(where + ": entry " + std::to_string(i + 1) + " is damaged");
    }
  }
  std::string_view store_bytes, index_bytes;
  if (!r.GetBlob(&store_bytes) || !r.GetBlob(&index_bytes) || !r.AtEnd()) {
    return Status::Corruption(where + ": spectrum or fragment sections damaged");
  }
  auto store = spectra::SpectrumStore::Deserialize(store_bytes);
  if (!store.ok()) return Status::Corruption(where + ": " + store.status().message());
  if (store->size() != entry_count) {
    return Status::Corruption(where + ": " + std::to_string(store->size()) + " spectra for " +
                              std::to_string(entry_count) + " entries");
  }
  auto store_ptr = std::make_unique<spectra::SpectrumStore>(std::move(store).value());
  auto index = spectra::FragmentIndex::Deserialize(index_bytes, *store_ptr);
  if (!index.ok()) return Status::Corruption(where + ": " + index.status().message());
  auto index_ptr = std::make_unique<spectra::FragmentIndex>(std::move(index).value());
  out.library = spectra::Library::Assemble(std::move(label), std::move(entries),
                                           std::move(store_ptr), std::move(index_ptr));
  return out;
}

Status WriteIndexFile(const std::string& path, const spectra::Library& library,
                      const std::vector<SourceFingerprint>& sources) {
  const std::string bytes = EncodeIndex(library, sources);
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Status::IoError(tmp + ": cannot create: " + std::strerror(errno));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return Status::IoError(tmp + ": write failed");
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::remove(tmp.c_str());
    return Status::IoError(path + ": cannot move index into place: " + ec.message());
  }
  return Status::Ok();
}

Result<DecodedIndex> ReadIndexFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": cannot open: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status::IoError(path + ": read failed");
  const std::string bytes = std::move(ss).str();
  return DecodeIndex(bytes, path);
}

}  // namespace sentinel::index_file
