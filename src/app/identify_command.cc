#include "app/identify_command.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "adapters/index_file/index_file.h"
#include "adapters/spectrum_formats/spectrum_formats.h"
#include "app/identify_output.h"
#include "app/library_loader.h"
#include "app/progress.h"
#include "core/common/text.h"

namespace sentinel::app {
namespace {

struct PendingQuery {
  QueryInfo info;
  spectra::Query query;
};

LibraryLoadOptions MakeLoadOptions(std::ostream& err) {
  LibraryLoadOptions o;
  o.data_dir = ResolveDataDir();
  o.cache_dir = ResolveCacheDir();
  o.note = [&err](const std::string& message) { err << "sentinel: " << message << "\n"; };
  return o;
}

// Compound keys of the entries whose name, synonym or InChIKey is `name`.
std::vector<std::string> CompoundKeysNamed(const spectra::Library& lib, const std::string& name) {
  const std::string wanted = AsciiLower(name);
  std::vector<std::string> keys;
  for (const spectra::LibraryEntry& e : lib.entries()) {
    bool match = AsciiLower(e.name) == wanted || AsciiLower(e.inchikey) == wanted;
    for (const std::string& s : e.synonyms) match = match || AsciiLower(s) == wanted;
    if (match) keys.push_back(e.compound_key);
  }
  return keys;
}

// The query of one parsed record, or nullopt (with the reason) when it has no usable peak.
std::optional<PendingQuery> MakeQuery(const spectra::SpectrumRecord& record,
                                      const std::string& source, std::size_t index,
                                      std::optional<int> mass, std::string* skipped) {
  PendingQuery q;
  q.info.name = record.name.empty() ? fmt::format("query {}", index + 1) : record.name;
  q.info.source = source;
  q.info.index = index;
  q.query.spectrum = spectra::ToNominal(record.peaks);
  if (record.molecular_weight && *record.molecular_weight > 0 &&
      *record.molecular_weight <= spectra::kMaxNominalMz) {
    q.query.nominal_mass = static_cast<int>(std::lround(*record.molecular_weight));
  }
  if (!q.query.nominal_mass) q.query.nominal_mass = mass;
  if (q.query.spectrum.empty()) {
    *skipped = fmt::format("{}: record {} ({}): no peak with positive intensity", source,
                           record.record, q.info.name);
    return std::nullopt;
  }
  return q;
}

unsigned WorkerCount(unsigned requested, std::size_t jobs) {
  unsigned n = requested != 0 ? requested : std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(std::min<std::size_t>(n, std::max<std::size_t>(jobs, 1)));
}

}  // namespace

int RunIdentify(const IdentifyCommandOptions& options, std::ostream& out, std::ostream& err) {
  if (options.format != "table" && options.format != "json") {
    err << "sentinel identify: --format must be table or json, not '" << options.format << "'\n";
    return 2;
  }
  int exit_code = 0;
  std::vector<PendingQuery> queries;
  const std::vector<std::string> inputs =
      options.inputs.empty() ? std::vector<std::string>{"-"} : options.inputs;
  for (const std::string& input : inputs) {
    auto parsed = formats::ReadSpectrumFile(input);
    if (!parsed.ok()) {
      err << "sentinel identify: " << parsed.status().message() << "\n";
      return 2;
    }
    for (const auto& error : parsed->errors) {
      err << "sentinel identify: skipped " << error.ToString() << "\n";
      exit_code = 1;
    }
    for (auto& record : parsed->spectra) {
      std::string skipped;
      auto q =
          MakeQuery(record, input == "-" ? "stdin" : input, queries.size(), options.mass, &skipped);
      if (!q) {
        err << "sentinel identify: skipped " << skipped << "\n";
        exit_code = 1;
        continue;
      }
      queries.push_back(std::move(*q));
    }
  }

  if (queries.empty()) {
    err << "sentinel identify: no spectrum to identify in the input\n";
    return exit_code != 0 ? exit_code : 2;
  }
  const LibraryLoadOptions load = MakeLoadOptions(err);
  std::vector<std::unique_ptr<spectra::Library>> owned;
  const std::vector<std::string> specs =
      options.libraries.empty() ? std::vector<std::string>{"default"} : options.libraries;
  for (const std::string& spec : specs) {
    auto lib = LoadLibrary(spec, load);
    if (!lib.ok()) {
      err << "sentinel identify: library " << spec << ": " << lib.status().message() << "\n";
      return 2;
    }
    owned.push_back(std::move(lib).value());
  }
  std::vector<const spectra::Library*> libraries;
  libraries.reserve(owned.size());
  for (const auto& lib : owned) libraries.push_back(lib.get());
  spectra::IdentifyOptions search = options.search;
  for (const std::string& name : options.excluded) {
    const std::size_t before = search.excluded_compounds.size();
    for (const spectra::Library* lib : libraries) {
      for (const std::string& key : CompoundKeysNamed(*lib, name)) {
        search.excluded_compounds.insert(key);
      }
    }
    if (search.excluded_compounds.size() == before) {
      err << "sentinel identify: --exclude '" << name << "' names no library compound\n";
      return 2;
    }
  }

  // Workers take queries in order; the writer emits results in input order as soon as the
  // next one is ready, so output streams during long batches.
  std::vector<std::optional<spectra::Identification>> results(queries.size());
  std::mutex mu;
  std::condition_variable ready;
  std::atomic<std::size_t> next{0};
  Progress progress("identify", queries.size(), options.progress && queries.size() > 1);
  auto work = [&] {
    for (std::size_t i = next++; i < queries.size(); i = next++) {
      spectra::Identification r = spectra::Identify(libraries, queries[i].query, search);
      {
        std::lock_guard<std::mutex> lock(mu);
        results[i] = std::move(r);
      }
      ready.notify_one();
      progress.Advance();
    }
  };
  std::vector<std::thread> workers;
  const unsigned n = WorkerCount(options.threads, queries.size());
  for (unsigned t = 0; t < n; ++t) workers.emplace_back(work);
  for (std::size_t i = 0; i < queries.size(); ++i) {
    spectra::Identification r;
    {
      std::unique_lock<std::mutex> lock(mu);
      ready.wait(lock, [&] { return results[i].has_value(); });
      r = std::move(*results[i]);
      results[i].reset();
    }
    if (options.format == "json") {
      out << IdentificationToJson(queries[i].info, r).dump() << "\n";
    } else {
      out << IdentificationToTable(queries[i].info, r) << "\n";
    }
  }
  for (auto& w : workers) w.join();
  out.flush();
  return exit_code;
}

Result<nlohmann::json> IdentifySpectraText(const std::vector<const spectra::Library*>& libraries,
                                           std::string_view text) {
  const auto format = formats::DetectFormat("request", text);
  if (!format) {
    return Status::InvalidArgument(
        "the spectrum text is neither MSP, JCAMP-DX nor m/z-intensity pairs");
  }
  formats::ParseOutcome parsed =
      *format == formats::SpectrumFormat::kMsp     ? formats::ParseMsp(text, "request")
      : *format == formats::SpectrumFormat::kJcamp ? formats::ParseJcamp(text, "request")
                                                   : formats::ParsePeakText(text, "request");
  if (!parsed.errors.empty()) return Status::InvalidArgument(parsed.errors.front().ToString());
  if (parsed.spectra.size() > 100) {
    return Status::InvalidArgument(
        fmt::format("{} spectra in one request; at most 100", parsed.spectra.size()));
  }
  nlohmann::json out = nlohmann::json::array();
  for (std::size_t i = 0; i < parsed.spectra.size(); ++i) {
    std::string skipped;
    auto q = MakeQuery(parsed.spectra[i], "request", i, std::nullopt, &skipped);
    if (!q) return Status::InvalidArgument(skipped);
    out.push_back(IdentificationToJson(q->info, spectra::Identify(libraries, q->query, {})));
  }
  if (out.empty()) return Status::InvalidArgument("no spectrum in the request");
  return out;
}

int RunLibraryBuild(const LibraryBuildOptions& options, std::ostream& out, std::ostream& err) {
  LibraryLoadOptions load = MakeLoadOptions(err);
  const std::vector<std::string> sources =
      options.sources.empty() ? std::vector<std::string>{"default"} : options.sources;
  if (!options.output.empty() && sources.size() > 1) {
    err << "sentinel library build: -o names one index; give one source per build\n";
    return 2;
  }
  for (const std::string& spec : sources) {
    const std::string source = spec == "default" ? DefaultLibraryPath(load.data_dir) : spec;
    const auto start = std::chrono::steady_clock::now();
    std::vector<index_file::SourceFingerprint> fps;
    auto lib = BuildLibraryFromSource(source, load, &fps);
    if (!lib.ok()) {
      err << "sentinel library build: " << lib.status().message() << "\n";
      return 2;
    }
    std::string target = options.output;
    if (target.empty()) {
      const auto cached = CachedIndexPath(source, load);
      if (!cached) {
        err << "sentinel library build: no cache directory (set SENTINEL_CACHE_DIR or HOME); "
               "name the index with -o\n";
        return 2;
      }
      std::error_code ec;
      std::filesystem::create_directories(*load.cache_dir, ec);
      target = *cached;
    }
    if (Status s = index_file::WriteIndexFile(target, **lib, fps); !s.ok()) {
      err << "sentinel library build: " << s.message() << "\n";
      return 2;
    }
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    out << fmt::format("{}: {} spectra from {} in {:.0f} ms\n", target, (*lib)->size(), source, ms);
  }
  return 0;
}

int RunLibraryInfo(const std::string& path, std::ostream& out, std::ostream& err) {
  const auto start = std::chrono::steady_clock::now();
  auto decoded = index_file::ReadIndexFile(path);
  if (!decoded.ok()) {
    err << "sentinel library info: " << decoded.status().message() << "\n";
    return 2;
  }
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  const spectra::Library& lib = *decoded->library;
  std::size_t labelled = 0, classified = 0;
  for (const auto& e : lib.entries()) {
    labelled += e.isotope_labelled ? 1 : 0;
    classified += e.compound_class.empty() ? 0 : 1;
  }
  out << fmt::format("index:     {}\nlibrary:   {}\nformat:    {}\nspectra:   {}\n", path,
                     lib.label(), index_file::kFormatVersion, lib.size());
  out << fmt::format("labelled:  {} isotope-labelled standards\nclassed:   {}\n", labelled,
                     classified);
  out << fmt::format(
      "memory:    {} bytes/spectrum (store + fragment index)\nloaded in: {:.1f} ms\n",
      lib.size() ? (lib.store().MemoryBytes() + lib.fragments().MemoryBytes()) / lib.size() : 0,
      ms);
  for (const auto& s : decoded->sources) {
    out << fmt::format("source:    {} ({} bytes, xxh64 {:016x})\n", s.path, s.size, s.hash);
  }
  return 0;
}

}  // namespace sentinel::app
