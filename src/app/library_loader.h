// Finding, building and caching reference libraries for `sentinel identify` and
// `sentinel library`.
//
// A library is named by a spectrum file (MSP, JCAMP-DX, text), by a compiled index (.sidx),
// or by the word "default" (the shipped SWGDRUG library). Building from source parses the
// file, assigns compound classes and builds the indexes; the result is cached as an index
// keyed by the source path and reused while the source and class rules are unchanged. A
// stale or damaged cache is rebuilt with a note; a damaged index named explicitly is an error.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "adapters/index_file/index_file.h"
#include "core/common/status.h"
#include "core/spectra/library.h"

namespace sentinel::app {

struct LibraryLoadOptions {
  std::string data_dir;                  // shipped data (libraries, class rules)
  std::optional<std::string> cache_dir;  // where compiled indexes are cached; none = no cache
  std::function<void(const std::string&)> note;  // warnings and progress for stderr
};

// The data directory: $SENTINEL_DATA_DIR, else data/ beside the executable's parent,
// else the source tree's data/ compiled in.
std::string ResolveDataDir();
// $SENTINEL_CACHE_DIR, else $XDG_CACHE_HOME/sentinel, else $HOME/.cache/sentinel.
std::optional<std::string> ResolveCacheDir();

// The whole of a (small) file.
Result<std::string> ReadWholeFile(const std::string& path);

std::string DefaultLibraryPath(const std::string& data_dir);
std::string ClassRulesPath(const std::string& data_dir);

// Where the cached index of a source file lives; nullopt when there is no cache directory.
std::optional<std::string> CachedIndexPath(const std::string& source,
                                           const LibraryLoadOptions& options);

// Parses `source` (a spectrum file) and builds a library from it. Parse errors of single
// records are passed to options.note and skipped; an unreadable file or one with no usable
// spectrum is an error.
Result<std::unique_ptr<spectra::Library>> BuildLibraryFromSource(
    const std::string& source, const LibraryLoadOptions& options,
    std::vector<index_file::SourceFingerprint>* fingerprints);

// Loads what `spec` names, using or refreshing the cache as described above.
Result<std::unique_ptr<spectra::Library>> LoadLibrary(const std::string& spec,
                                                      const LibraryLoadOptions& options);

}  // namespace sentinel::app
