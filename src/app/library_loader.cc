#include "app/library_loader.h"

#include <xxhash.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "adapters/spectrum_formats/spectrum_formats.h"
#include "core/spectra/compound_class.h"

#ifndef SENTINEL_DATA_DIR
#define SENTINEL_DATA_DIR "data"
#endif

namespace sentinel::app {
namespace fs = std::filesystem;

namespace {

void Note(const LibraryLoadOptions& options, const std::string& message) {
  if (options.note) options.note(message);
}

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string CachePathFor(const std::string& cache_dir, const std::string& source) {
  std::error_code ec;
  const std::string absolute = fs::weakly_canonical(source, ec).string();
  const std::string key = ec ? source : absolute;
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx",
                static_cast<unsigned long long>(XXH64(key.data(), key.size(), 0)));
  return (fs::path(cache_dir) / (fs::path(source).stem().string() + "-" + hex + ".sidx")).string();
}

// True when every recorded source still has the recorded size and content.
bool SourcesUnchanged(const std::vector<index_file::SourceFingerprint>& sources) {
  for (const auto& recorded : sources) {
    auto now = index_file::FingerprintFile(recorded.path);
    if (!now.ok() || !(*now == recorded)) return false;
  }
  return true;
}

}  // namespace

std::string ResolveDataDir() {
  if (const char* env = std::getenv("SENTINEL_DATA_DIR"); env != nullptr && *env != '\0') {
    return env;
  }
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    for (const fs::path& candidate : {exe.parent_path().parent_path() / "data",
                                      exe.parent_path().parent_path() / "share/sentinel/data"}) {
      if (fs::exists(candidate / "spectra", ec)) return candidate.string();
    }
  }
  return SENTINEL_DATA_DIR;
}

std::optional<std::string> ResolveCacheDir() {
  if (const char* env = std::getenv("SENTINEL_CACHE_DIR"); env != nullptr && *env != '\0') {
    return std::string(env);
  }
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0') {
    return (fs::path(xdg) / "sentinel").string();
  }
  if (const char* home = std::getenv("HOME"); home != nullptr && *home != '\0') {
    return (fs::path(home) / ".cache" / "sentinel").string();
  }
  return std::nullopt;
}

std::optional<std::string> CachedIndexPath(const std::string& source,
                                           const LibraryLoadOptions& options) {
  if (!options.cache_dir) return std::nullopt;
  return CachePathFor(*options.cache_dir, source);
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

std::string DefaultLibraryPath(const std::string& data_dir) {
  return (fs::path(data_dir) / "spectra" / "swgdrug-3.4.msp").string();
}

std::string ClassRulesPath(const std::string& data_dir) {
  return (fs::path(data_dir) / "spectra" / "compound_classes.tsv").string();
}

Result<std::unique_ptr<spectra::Library>> BuildLibraryFromSource(
    const std::string& source, const LibraryLoadOptions& options,
    std::vector<index_file::SourceFingerprint>* fingerprints) {
  auto parsed = formats::ReadSpectrumFile(source);
  if (!parsed.ok()) return parsed.status();
  for (const auto& error : parsed->errors) Note(options, "skipped: " + error.ToString());
  if (parsed->spectra.empty()) {
    return Status::InvalidArgument(source + ": no usable spectrum in library file");
  }
  const std::string rules_path = ClassRulesPath(options.data_dir);
  std::optional<spectra::CompoundClasses> classes;
  if (auto rules_text = ReadWholeFile(rules_path); rules_text.ok()) {
    auto rules = spectra::CompoundClasses::Parse(*rules_text, rules_path);
    if (!rules.ok()) return rules.status();
    classes = std::move(rules).value();
  } else {
    Note(options, rules_path + ": class rules not found; hits will carry no class");
  }
  fingerprints->clear();
  auto source_fp = index_file::FingerprintFile(source);
  if (!source_fp.ok()) return source_fp.status();
  fingerprints->push_back(*source_fp);
  if (classes) {
    if (auto rules_fp = index_file::FingerprintFile(rules_path); rules_fp.ok()) {
      fingerprints->push_back(*rules_fp);
    }
  }
  return spectra::Library::Build(fs::path(source).stem().string(), std::move(parsed->spectra),
                                 classes ? &*classes : nullptr);
}

Result<std::unique_ptr<spectra::Library>> LoadLibrary(const std::string& spec,
                                                      const LibraryLoadOptions& options) {
  const std::string source = spec == "default" ? DefaultLibraryPath(options.data_dir) : spec;

  if (EndsWith(source, ".sidx")) {
    auto decoded = index_file::ReadIndexFile(source);
    if (!decoded.ok()) return decoded.status();
    if (SourcesUnchanged(decoded->sources)) return std::move(decoded->library);
    // The index names its sources; rebuild from them when they are still readable.
    if (decoded->sources.empty() || !fs::exists(decoded->sources.front().path)) {
      Note(options, source + ": sources changed or missing; using the index as built");
      return std::move(decoded->library);
    }
    const std::string origin = decoded->sources.front().path;
    Note(options, source + ": stale (" + origin + " or class rules changed); rebuilding");
    std::vector<index_file::SourceFingerprint> fps;
    auto rebuilt = BuildLibraryFromSource(origin, options, &fps);
    if (!rebuilt.ok()) return rebuilt.status();
    if (Status s = index_file::WriteIndexFile(source, **rebuilt, fps); !s.ok()) {
      Note(options, "could not rewrite index: " + s.ToString());
    }
    return rebuilt;
  }

  const std::optional<std::string> cache_path = CachedIndexPath(source, options);
  if (cache_path && fs::exists(*cache_path)) {
    auto decoded = index_file::ReadIndexFile(*cache_path);
    if (decoded.ok() && SourcesUnchanged(decoded->sources) && !decoded->sources.empty() &&
        decoded->sources.front().path == source) {
      return std::move(decoded->library);
    }
    Note(options, decoded.ok() ? *cache_path + ": cached index is stale; rebuilding"
                               : decoded.status().message() + "; rebuilding");
  }
  std::vector<index_file::SourceFingerprint> fps;
  auto built = BuildLibraryFromSource(source, options, &fps);
  if (!built.ok()) return built.status();
  if (cache_path) {
    std::error_code ec;
    fs::create_directories(*options.cache_dir, ec);
    if (Status s = index_file::WriteIndexFile(*cache_path, **built, fps); !s.ok()) {
      Note(options, "could not cache index: " + s.ToString());
    }
  }
  return built;
}

}  // namespace sentinel::app
