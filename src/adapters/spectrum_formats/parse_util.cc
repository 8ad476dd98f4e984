#include "adapters/spectrum_formats/parse_util.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <system_error>
#include <utility>

#include "core/common/text.h"

namespace sentinel::formats {

std::string ParseError::ToString() const {
  std::string out = source;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (record > 0) {
    out += "record " + std::to_string(record);
    if (!name.empty()) out += " (" + name + ")";
    out += ": ";
  }
  out += message;
  return out;
}

namespace internal {

namespace {

constexpr std::string_view kBom = "\xEF\xBB\xBF";
constexpr std::size_t kExcerptBytes = 60;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

bool IsContinuation(unsigned char c) { return (c & 0xC0) == 0x80; }

// REQUIRES: cp < 0x10000 (callers append Latin-1 characters and U+FFFD only).
void AppendCodePoint(std::uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

LineReader::LineReader(std::string_view text) : text_(StripBom(text)) {}

bool LineReader::Next(std::string_view* line) {
  if (pos_ >= text_.size()) return false;
  std::size_t end = pos_;
  // A hand loop, because find_first_of("\r\n") costs a nested search per byte and this is
  // the hottest loop when a whole library is read.
  while (end < text_.size() && text_[end] != '\n' && text_[end] != '\r') ++end;
  *line = text_.substr(pos_, end - pos_);
  if (end < text_.size()) {
    if (text_[end] == '\r' && end + 1 < text_.size() && text_[end + 1] == '\n') ++end;
    ++end;
  }
  pos_ = end;
  ++line_number_;
  return true;
}

std::string_view StripBom(std::string_view text) {
  if (text.substr(0, kBom.size()) == kBom) text.remove_prefix(kBom.size());
  return text;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

bool IsBlank(std::string_view s) { return Trim(s).empty(); }

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ToLowerAscii(a[i]) != ToLowerAscii(b[i])) return false;
  }
  return true;
}

std::string NormalizeLabel(std::string_view label) {
  std::string out;
  out.reserve(label.size());
  for (char c : label) {
    if (c == ' ' || c == '_' || c == '-' || c == '/' || c == '\t') continue;
    out.push_back(ToLowerAscii(c));
  }
  return out;
}

std::string CleanText(std::string_view raw) {
  raw = Trim(raw);
  std::string out;
  out.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size();) {
    const auto b = static_cast<unsigned char>(raw[i]);
    if (b < 0x20 || b == 0x7F) {
      out.push_back(' ');
      ++i;
      continue;
    }
    if (b < 0x80) {
      out.push_back(static_cast<char>(b));
      ++i;
      continue;
    }
    const std::size_t len = Utf8SequenceLength(raw, i);
    if (len == 0) {
      AppendCodePoint(b >= 0xA0 ? b : 0xFFFD, &out);
      ++i;
    } else if (len == 2 && b == 0xC2 && static_cast<unsigned char>(raw[i + 1]) < 0xA0) {
      out.push_back(' ');  // C1 control character, U+0080..U+009F
      i += len;
    } else {
      out.append(raw.substr(i, len));
      i += len;
    }
  }
  // Control characters turned into spaces may now sit at either end.
  const std::string_view trimmed = Trim(out);
  if (trimmed.size() != out.size()) return std::string(trimmed);
  return out;
}

std::size_t CountCodePoints(std::string_view utf8) {
  std::size_t n = 0;
  for (char c : utf8) {
    if (!IsContinuation(static_cast<unsigned char>(c))) ++n;
  }
  return n;
}

std::string Excerpt(std::string_view raw) {
  raw = Trim(raw);
  if (raw.size() <= kExcerptBytes) return CleanText(raw);
  std::size_t cut = kExcerptBytes;
  // Cut on a character boundary so the quotation does not end in a broken character.
  for (int back = 0; back < 3 && cut > 0 && IsContinuation(static_cast<unsigned char>(raw[cut]));
       ++back) {
    --cut;
  }
  return CleanText(raw.substr(0, cut)) + "...";
}

NumberStatus ParseNumber(std::string_view token, double* value) {
  if (token.size() > 1 && token.front() == '+' && token[1] != '-' && token[1] != '+') {
    token.remove_prefix(1);
  }
  if (token.empty()) return NumberStatus::kNotNumber;
  // Library peaks are almost all small integers; reading those by hand skips the general
  // from_chars path, the largest cost of a whole-library parse. Up to 15 digits a double holds
  // the value exactly, so both paths agree.
  if (token.size() <= 15) {
    std::uint64_t n = 0;
    bool all_digits = true;
    for (char c : token) {
      if (!IsDigit(c)) {
        all_digits = false;
        break;
      }
      n = n * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (all_digits) {
      *value = static_cast<double>(n);
      return NumberStatus::kOk;
    }
  }
  const char* first = token.data();
  const char* last = token.data() + token.size();
  double v = 0;
  const auto [ptr, ec] = std::from_chars(first, last, v);
  if (ptr != last) return NumberStatus::kNotNumber;
  if (ec == std::errc::result_out_of_range) return NumberStatus::kOutOfRange;
  if (ec != std::errc()) return NumberStatus::kNotNumber;
  if (!std::isfinite(v)) return NumberStatus::kNotFinite;
  *value = v;
  return NumberStatus::kOk;
}

bool ParseCount(std::string_view token, std::size_t max, std::size_t* value) {
  if (token.empty() || !IsDigit(token.front())) return false;
  std::size_t v = 0;
  const auto [ptr, ec] = std::from_chars(token.data(), token.data() + token.size(), v);
  if (ec != std::errc() || ptr != token.data() + token.size() || v > max) return false;
  *value = v;
  return true;
}

std::string DescribeNumberProblem(NumberStatus status, std::string_view token) {
  const std::string quoted = "'" + Excerpt(token) + "'";
  switch (status) {
    case NumberStatus::kOk:
      break;
    case NumberStatus::kNotNumber:
      return quoted + " is not a number";
    case NumberStatus::kNotFinite:
      return quoted + " is not a finite number";
    case NumberStatus::kOutOfRange:
      return quoted + " is out of range";
  }
  return quoted + " is fine";
}

std::string CheckPeak(const spectra::Peak& peak) {
  if (!std::isfinite(peak.mz) || !std::isfinite(peak.intensity)) {
    return "peak is not finite";
  }
  if (peak.mz <= 0) return "m/z is not positive";
  if (peak.intensity < 0) return "intensity is negative";
  return {};
}

std::string ParsePeakLine(std::string_view line, const PeakLineSyntax& syntax,
                          std::vector<spectra::Peak>* peaks) {
  std::size_t pos = 0;
  bool have_mz = false;       // an m/z waits for its intensity
  bool may_annotate = false;  // just read an intensity, a quoted note may follow
  spectra::Peak peak;
  std::string_view mz_token;
  while (true) {
    while (pos < line.size() && syntax.separators.Contains(line[pos])) ++pos;
    if (pos >= line.size()) break;
    if (line[pos] == '"') {
      if (!syntax.quoted_annotations || !may_annotate) {
        return "unexpected quoted text";
      }
      const std::size_t close = line.find('"', pos + 1);
      if (close == std::string_view::npos) return "unterminated quoted annotation";
      pos = close + 1;
      may_annotate = false;
      continue;
    }
    const std::size_t start = pos;
    while (pos < line.size() && !syntax.separators.Contains(line[pos]) && line[pos] != '"') {
      ++pos;
    }
    const std::string_view token = line.substr(start, pos - start);
    double v = 0;
    const NumberStatus status = ParseNumber(token, &v);
    if (status != NumberStatus::kOk) {
      return (have_mz ? "intensity " : "m/z ") + DescribeNumberProblem(status, token);
    }
    if (!have_mz) {
      if (v <= 0) return "m/z '" + Excerpt(token) + "' is not positive";
      peak.mz = v;
      mz_token = token;
      have_mz = true;
      may_annotate = false;
    } else {
      if (v < 0) return "intensity '" + Excerpt(token) + "' is negative";
      peak.intensity = v;
      if (peaks->size() >= kMaxPeaksPerRecord) {
        return "more than " + std::to_string(kMaxPeaksPerRecord) + " peaks";
      }
      peaks->push_back(peak);
      have_mz = false;
      may_annotate = true;
    }
  }
  if (have_mz) return "m/z '" + Excerpt(mz_token) + "' has no intensity";
  return {};
}

void OutcomeBuilder::AddSpectrum(spectra::SpectrumRecord spectrum) {
  outcome_.spectra.push_back(std::move(spectrum));
}

void OutcomeBuilder::AddError(std::size_t record, std::size_t line, std::string_view name,
                              std::string message) {
  if (outcome_.errors.size() >= kMaxErrors) {
    ++suppressed_errors_;
    return;
  }
  outcome_.errors.push_back(
      ParseError{source_, record, line, std::string(name), std::move(message)});
}

ParseOutcome OutcomeBuilder::Finish() && {
  if (suppressed_errors_ > 0) {
    outcome_.errors.push_back(ParseError{
        source_, 0, 0, {}, std::to_string(suppressed_errors_) + " further errors not shown"});
  }
  if (outcome_.spectra.empty() && outcome_.errors.empty()) {
    outcome_.errors.push_back(ParseError{
        source_, 0, 0, {}, input_blank_ ? "input is empty" : "no spectrum found in input"});
  }
  return std::move(outcome_);
}

std::string ParseMetadataNumber(std::string_view value, std::string_view label,
                                std::optional<double>* field) {
  double v = 0;
  const NumberStatus status = ParseNumber(value, &v);
  if (status != NumberStatus::kOk) {
    return std::string(label) + " " + DescribeNumberProblem(status, value);
  }
  if (v < 0) return std::string(label) + " '" + Excerpt(value) + "' is negative";
  *field = v;
  return "";
}

}  // namespace internal
}  // namespace sentinel::formats
