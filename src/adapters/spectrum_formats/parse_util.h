// Pieces shared by the spectrum parsers; internal to src/adapters/spectrum_formats.
//
// All functions are pure and thread-compatible: each object is used by one parse at a time.
// Nothing here throws on bad input; problems come back as values for the caller to report.
#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "adapters/spectrum_formats/spectrum_formats.h"
#include "core/spectra/spectrum.h"

namespace sentinel::formats::internal {

// Walks the lines of a text, accepting LF, CRLF and lone CR endings, after skipping a UTF-8
// byte-order mark. The views returned point into the text given to the constructor.
class LineReader {
 public:
  explicit LineReader(std::string_view text);

  // Stores the next line without its terminator; false once the text is used up.
  bool Next(std::string_view* line);
  // 1-based number of the line last returned by Next().
  std::size_t line_number() const { return line_number_; }

 private:
  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t line_number_ = 0;
};

std::string_view StripBom(std::string_view text);
std::string_view Trim(std::string_view s);
bool IsBlank(std::string_view s);
bool IsDigit(char c);
char ToLowerAscii(char c);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// Lower-cases a field label and drops ' ', '_', '-' and '/', so that "Num Peaks",
// "NUM_PEAKS" and "numpeaks" (MSP) or "CAS REGISTRY NO" and "CAS-REGISTRY_NO" (JCAMP-DX,
// whose standard says labels compare this way) meet.
std::string NormalizeLabel(std::string_view label);

// Makes a text field safe to store and print: trims it, decodes bytes that are not UTF-8 as
// Latin-1 (0x80-0x9F, which Latin-1 leaves undefined, become U+FFFD) and replaces control
// characters with spaces. The result is valid UTF-8.
std::string CleanText(std::string_view raw);

// Number of Unicode code points in valid UTF-8.
std::size_t CountCodePoints(std::string_view utf8);

// A short, printable quotation of untrusted text for error messages.
std::string Excerpt(std::string_view raw);

enum class NumberStatus { kOk, kNotNumber, kNotFinite, kOutOfRange };

// Parses a whole token as a decimal floating-point number ("12", "-0.5", "+1e3"); anything
// left over makes it kNotNumber. NaN and infinities are kNotFinite, values a double cannot
// hold (1e400) kOutOfRange.
NumberStatus ParseNumber(std::string_view token, double* value);

// Parses a whole token as a non-negative integer no larger than `max`.
bool ParseCount(std::string_view token, std::size_t max, std::size_t* value);

// Message fragment for a failed ParseNumber: "'x' is not a number" and so on.
std::string DescribeNumberProblem(NumberStatus status, std::string_view token);

// Reads a non-negative metadata number (MW, exact mass, RI) into *field. Returns the problem
// with `label` prefixed, or an empty string on success (then *field is set).
std::string ParseMetadataNumber(std::string_view value, std::string_view label,
                                std::optional<double>* field);

// A set of bytes with constant-time lookup; the peak scanner tests every byte of a library
// against one, where a memchr per byte measurably slowed whole-library reads.
class CharSet {
 public:
  constexpr explicit CharSet(std::string_view chars) {
    for (char c : chars) bits_[static_cast<unsigned char>(c)] = true;
  }
  constexpr bool Contains(char c) const { return bits_[static_cast<unsigned char>(c)]; }

 private:
  std::array<bool, 256> bits_{};
};

struct PeakLineSyntax {
  CharSet separators;       // bytes that divide numbers
  bool quoted_annotations;  // a "..." may follow an intensity and is skipped
};

// "(41 100) (43 999)" is how AMDIS writes pairs; the parentheses only separate.
inline constexpr PeakLineSyntax kMspPeakSyntax{CharSet(" \t;,:()"), true};
inline constexpr PeakLineSyntax kJcampPeakSyntax{CharSet(" \t;,"), false};

// Appends the m/z-intensity pairs held by one line to *peaks, checking every value (finite,
// m/z > 0, intensity >= 0) and that *peaks never exceeds kMaxPeaksPerRecord. Returns an
// empty string on success, else what is wrong (the caller adds where).
std::string ParsePeakLine(std::string_view line, const PeakLineSyntax& syntax,
                          std::vector<spectra::Peak>* peaks);

// Checks one peak; empty when fine, else the problem.
std::string CheckPeak(const spectra::Peak& peak);

// Collects a parse's results while enforcing the error cap and the "never silently empty"
// rule of spectrum_formats.h.
class OutcomeBuilder {
 public:
  // `text` is the whole input, consulted only to word the "nothing found" error.
  OutcomeBuilder(std::string_view source, std::string_view text)
      : source_(source), input_blank_(IsBlank(StripBom(text))) {}

  const std::string& source() const { return source_; }
  void AddSpectrum(spectra::SpectrumRecord spectrum);
  void AddError(std::size_t record, std::size_t line, std::string_view name, std::string message);
  ParseOutcome Finish() &&;

 private:
  std::string source_;
  ParseOutcome outcome_;
  bool input_blank_;
  std::size_t suppressed_errors_ = 0;
};

}  // namespace sentinel::formats::internal
