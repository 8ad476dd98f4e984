// Format detection, dispatch and file reading. See spectrum_formats.h for the contract.

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "adapters/spectrum_formats/parse_util.h"
#include "adapters/spectrum_formats/spectrum_formats.h"

namespace sentinel::formats {

namespace {

using internal::LineReader;
using internal::Trim;

// Detection looks only at the start of a text: the first meaningful line decides.
constexpr std::size_t kDetectLines = 100;

std::string LowerExtension(std::string_view name) {
  const std::size_t slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos) return {};
  std::string ext;
  for (char c : name.substr(dot + 1)) ext.push_back(internal::ToLowerAscii(c));
  return ext;
}

// Fields that open or fill an MSP record; a first line "Key: value" with one of these keys
// marks MSP. Keys are in NormalizeLabel form.
bool IsMspKey(std::string_view key) {
  static constexpr std::string_view kKeys[] = {
      "name",        "synon",         "inchikey", "formula",     "mw",
      "exactmass",   "casno",         "cas#",     "id",          "db#",
      "comment",     "comments",      "numpeaks", "ri",          "retentionindex",
      "precursormz", "precursortype", "ionmode",  "spectrumtype"};
  for (std::string_view k : kKeys) {
    if (k == key) return true;
  }
  return false;
}

// True if the line holds exactly two numbers, as a peak-text data line does.
bool IsNumberPair(std::string_view line) {
  std::vector<spectra::Peak> peaks;
  return internal::ParsePeakLine(line, internal::kJcampPeakSyntax, &peaks).empty() &&
         peaks.size() == 1;
}

std::optional<SpectrumFormat> DetectByContent(std::string_view text) {
  LineReader reader(text);
  std::string_view raw;
  bool header_seen = false;
  while (reader.Next(&raw) && reader.line_number() <= kDetectLines) {
    const std::string_view line = Trim(raw.substr(0, 4096));
    if (line.empty()) continue;
    if (line.substr(0, 2) == "##") return SpectrumFormat::kJcamp;
    if (line.front() == '#') continue;  // peak-text comment
    if (IsNumberPair(line)) return SpectrumFormat::kPeakText;
    if (header_seen) return std::nullopt;
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos &&
        IsMspKey(internal::NormalizeLabel(line.substr(0, colon)))) {
      return SpectrumFormat::kMsp;
    }
    // Perhaps a peak-text header; the next line has to be a number pair then.
    header_seen = true;
  }
  return std::nullopt;
}

std::string ErrnoText(int err) { return std::generic_category().message(err); }

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Reads all of `file` straight into the returned string, failing once it passes
// kMaxInputBytes (pipes and growing files have no size to check up front). A size hint one
// byte above the real size lets a regular file arrive in one read.
Result<std::string> ReadAll(std::FILE* file, const std::string& shown, std::uintmax_t size_hint) {
  constexpr std::size_t kLimit = static_cast<std::size_t>(kMaxInputBytes);
  std::string data;
  std::size_t filled = 0;
  std::size_t next_size = static_cast<std::size_t>(std::min<std::uintmax_t>(size_hint, kLimit)) + 1;
  while (true) {
    if (filled == data.size()) {
      if (filled > kLimit) {
        return Status::InvalidArgument(shown + ": input larger than 2 GiB; Sentinel reads at " +
                                       "most " + std::to_string(kMaxInputBytes) + " bytes");
      }
      data.resize(std::min(std::max(next_size, std::size_t{1} << 16), kLimit + 1));
      next_size = data.size() * 2;
    }
    const std::size_t n = std::fread(data.data() + filled, 1, data.size() - filled, file);
    filled += n;
    if (n == 0) break;
  }
  if (std::ferror(file)) {
    return Status::IoError("cannot read '" + shown + "': " + ErrnoText(errno));
  }
  data.resize(filled);
  return data;
}

}  // namespace

std::optional<SpectrumFormat> DetectFormat(std::string_view source_name, std::string_view text) {
  const std::string ext = LowerExtension(source_name);
  if (ext == "msp") return SpectrumFormat::kMsp;
  if (ext == "jdx" || ext == "dx" || ext == "jcamp") return SpectrumFormat::kJcamp;
  if (ext == "csv" || ext == "tsv") return SpectrumFormat::kPeakText;
  if (std::optional<SpectrumFormat> by_content = DetectByContent(text)) return by_content;
  if (ext == "txt") return SpectrumFormat::kPeakText;
  return std::nullopt;
}

ParseOutcome ParseSpectra(std::string_view text, std::string_view source) {
  const std::optional<SpectrumFormat> format = DetectFormat(source, text);
  if (!format) {
    ParseOutcome outcome;
    outcome.errors.push_back(ParseError{
        std::string(source),
        0,
        0,
        {},
        internal::IsBlank(internal::StripBom(text))
            ? std::string("input is empty")
            : std::string("cannot tell the format: expected MSP ('Name: ...'), JCAMP-DX "
                          "('##TITLE=...') or two-column peak text; name the file .msp, .jdx "
                          "or .txt to choose")});
    return outcome;
  }
  switch (*format) {
    case SpectrumFormat::kMsp:
      return ParseMsp(text, source);
    case SpectrumFormat::kJcamp:
      return ParseJcamp(text, source);
    case SpectrumFormat::kPeakText:
      return ParsePeakText(text, source);
  }
  return {};
}

Result<ParseOutcome> ReadSpectrumFile(const std::string& path) {
  if (path == "-") {
    const std::string shown = "<stdin>";
    Result<std::string> data = ReadAll(stdin, shown, 0);
    if (!data.ok()) return data.status();
    return ParseSpectra(*data, shown);
  }
  std::error_code ec;
  std::uintmax_t size = 0;
  const std::filesystem::file_status status = std::filesystem::status(path, ec);
  if (ec) return Status::IoError("cannot read '" + path + "': " + ec.message());
  if (std::filesystem::is_directory(status)) {
    return Status::IoError("cannot read '" + path + "': it is a directory");
  }
  if (std::filesystem::is_regular_file(status)) {
    size = std::filesystem::file_size(path, ec);
    if (ec) size = 0;
    if (size > kMaxInputBytes) {
      return Status::InvalidArgument("'" + path + "' is " + std::to_string(size) +
                                     " bytes; Sentinel reads spectrum files of at most 2 GiB (" +
                                     std::to_string(kMaxInputBytes) + " bytes)");
    }
  }
  errno = 0;
  const std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  if (!file) return Status::IoError("cannot open '" + path + "': " + ErrnoText(errno));
  Result<std::string> data = ReadAll(file.get(), path, size);
  if (!data.ok()) return data.status();
  return ParseSpectra(*data, path);
}

}  // namespace sentinel::formats
