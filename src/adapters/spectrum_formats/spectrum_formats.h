// Readers for the mass-spectrum files a user hands to Sentinel: NIST MSP, JCAMP-DX and
// two-column peak text (whitespace, CSV, TSV).
//
// Contract:
// - Every Parse* function is a pure function of its arguments: no I/O, no global state, safe
//   to call from many threads at once. The returned outcome owns all its data; nothing refers
//   back into `text`.
// - Input is untrusted. Malformed input never crashes, throws or stops the parse: each bad
//   record becomes one ParseError naming source, record, line and (when known) the record's
//   name, and parsing resumes with the next record. Good records are returned whatever their
//   neighbours look like.
// - Every returned spectrum has a non-empty name, between 1 and kMaxPeaksPerRecord peaks, all
//   m/z finite and > 0, all intensities finite and >= 0. Peaks keep file order. Text fields
//   are valid UTF-8 without control characters (bytes that are not UTF-8 are read as
//   Latin-1, which is what old library exports use).
// - An input that yields neither a spectrum nor an error (empty file, only blank lines)
//   yields one error, so callers never see silent emptiness.
// - Only the first problem of a record is reported; after kMaxErrors errors, one final error
//   counts the rest, so a garbage file cannot flood memory with messages.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/status.h"
#include "core/spectra/spectrum.h"

namespace sentinel::formats {

// Bounds that keep hostile input from exhausting memory; far above any real EI spectrum.
inline constexpr std::size_t kMaxPeaksPerRecord = 100'000;
inline constexpr std::size_t kMaxNameChars = 1'000;  // Unicode code points
inline constexpr std::size_t kMaxLineBytes = 1 << 20;
inline constexpr std::size_t kMaxErrors = 1'000;
inline constexpr std::uint64_t kMaxInputBytes = std::uint64_t{2} << 30;  // 2 GiB

struct ParseError {
  std::string source;      // as passed to the parser
  std::size_t record = 0;  // 1-based record (MSP) or block (JCAMP); 0 = the input as a whole
  std::size_t line = 0;    // 1-based line of the problem; 0 = no particular line
  std::string name;        // the record's name when known, else empty
  std::string message;     // what is wrong, quoting the offending text (shortened)

  // "query.msp:12: record 3 (Fentanyl): peak line '45 x': intensity is not a number";
  // parts that are unknown (line 0, record 0, empty name) are left out.
  std::string ToString() const;
};

struct ParseOutcome {
  std::vector<spectra::SpectrumRecord> spectra;
  std::vector<ParseError> errors;
};

// NIST MSP: records of "Key: value" fields then peaks, separated by blank lines (or by the
// next "Name:" line). Peaks as "mz intensity" pairs, one per line or ';'-separated groups
// wrapped over lines, optionally followed by a quoted annotation. Record n is the n-th record
// in the file, bad ones included.
ParseOutcome ParseMsp(std::string_view text, std::string_view source);

// JCAMP-DX mass spectra (##DATA TYPE=MASS SPECTRUM) with ##PEAK TABLE= or ##XYDATA= in
// (XY..XY) form; link files (##BLOCKS=) yield one spectrum per data block. Record n is the
// block opened by the n-th ##TITLE= in the file (link blocks count too).
ParseOutcome ParseJcamp(std::string_view text, std::string_view source);

// One spectrum of "mz intensity" lines (separated by whitespace, ',', ';' or tab), with an
// optional header line and '#' comments; "# name: X" names it, else the stem of `source`
// does. Any bad line rejects the spectrum (record 1).
ParseOutcome ParsePeakText(std::string_view text, std::string_view source);

enum class SpectrumFormat { kMsp, kJcamp, kPeakText };

// Decides by the extension of `source_name` (.msp; .jdx .dx .jcamp; .csv .tsv, any case) and
// otherwise by content. ".txt" is checked by content first, because MSP exports are often
// saved as .txt, and falls back to peak text. nullopt when the content matches no format.
std::optional<SpectrumFormat> DetectFormat(std::string_view source_name, std::string_view text);

// DetectFormat then the matching parser; an undetectable input gives one error.
ParseOutcome ParseSpectra(std::string_view text, std::string_view source);

// Reads `path` ("-" = standard input, reported as "<stdin>") and parses it with
// ParseSpectra, using `path` as the source name. Fails with IoError naming the path when it
// cannot be read, and with InvalidArgument when it holds more than kMaxInputBytes. Parse
// problems are not failures: they are in the outcome's errors.
Result<ParseOutcome> ReadSpectrumFile(const std::string& path);

}  // namespace sentinel::formats
