// The compiled library index: a versioned, checksummed binary file holding one Library
// (entries, nominal spectra, fragment index) and the fingerprints of the source files it was
// built from, so a stale index (source changed, or built by another format version) is
// recognised and rebuilt instead of silently used.
//
// Layout (little-endian): "SNTLIDX1" | u32 format version | u32 reserved | u64 payload size |
// u64 XXH64 of the payload | payload. The payload is label, source fingerprints, entries,
// serialized SpectrumStore, serialized FragmentIndex. Readers verify size and checksum before
// trusting a byte; a truncated or altered file is reported as Corruption, never crashes.
// Writes go to a temporary file renamed into place, so a reader never sees half an index.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/status.h"
#include "core/spectra/library.h"

namespace sentinel::index_file {

inline constexpr std::uint32_t kFormatVersion = 1;

struct SourceFingerprint {
  std::string path;
  std::uint64_t size = 0;
  std::uint64_t hash = 0;  // XXH64 of the content
  friend bool operator==(const SourceFingerprint&, const SourceFingerprint&) = default;
};

Result<SourceFingerprint> FingerprintFile(const std::string& path);

// Serializes to bytes / parses bytes; the file functions wrap these.
std::string EncodeIndex(const spectra::Library& library,
                        const std::vector<SourceFingerprint>& sources);
struct DecodedIndex {
  std::unique_ptr<spectra::Library> library;
  std::vector<SourceFingerprint> sources;
};
// `name` is used in error messages. A format-version mismatch is FailedPrecondition;
// anything else wrong is Corruption.
Result<DecodedIndex> DecodeIndex(std::string_view bytes, std::string_view name);

Status WriteIndexFile(const std::string& path, const spectra::Library& library,
                      const std::vector<SourceFingerprint>& sources);
Result<DecodedIndex> ReadIndexFile(const std::string& path);

}  // namespace sentinel::index_file
