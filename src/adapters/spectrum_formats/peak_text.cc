// Two-column peak text reader (whitespace, CSV, TSV). See spectrum_formats.h for the contract.
//
// Runs of separators count as one, so "91, 999" and "91\t\t999" read the same; this costs
// nothing because empty columns have no meaning here. Only the first non-comment line may be
// a header, and only when its first column is not a number: "91 x" is a bad peak, not a
// header.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/spectrum_formats/parse_util.h"
#include "adapters/spectrum_formats/spectrum_formats.h"

namespace sentinel::formats {

namespace {

using internal::Excerpt;
using internal::NumberStatus;

constexpr internal::CharSet kSeparators(" \t,;");

// Splits into at most max_columns + 1 columns, enough to tell "too many" without storing a
// whole 1 MiB line of them. Surrounding double quotes (as spreadsheets write) are removed.
std::vector<std::string_view> SplitColumns(std::string_view line, std::size_t max_columns) {
  std::vector<std::string_view> columns;
  std::size_t pos = 0;
  while (columns.size() <= max_columns) {
    while (pos < line.size() && kSeparators.Contains(line[pos])) ++pos;
    if (pos >= line.size()) break;
    const std::size_t start = pos;
    while (pos < line.size() && !kSeparators.Contains(line[pos])) ++pos;
    std::string_view column = line.substr(start, pos - start);
    if (column.size() >= 2 && column.front() == '"' && column.back() == '"') {
      column = column.substr(1, column.size() - 2);
    }
    columns.push_back(column);
  }
  return columns;
}

std::string StemOf(std::string_view source) {
  const std::size_t slash = source.find_last_of("/\\");
  if (slash != std::string_view::npos) source.remove_prefix(slash + 1);
  const std::size_t dot = source.rfind('.');
  if (dot != std::string_view::npos && dot > 0) source = source.substr(0, dot);
  std::string stem = internal::CleanText(source);
  return stem.empty() ? std::string("unnamed") : stem;
}

}  // namespace

ParseOutcome ParsePeakText(std::string_view text, std::string_view source) {
  internal::OutcomeBuilder out(source, text);
  spectra::SpectrumRecord s;
  s.record = 1;
  s.line = 1;  // the spectrum is the whole file
  s.source = std::string(source);
  std::string name;
  bool seen_data_line = false;  // a header may only come first
  std::size_t error_line = 0;
  std::string error;

  internal::LineReader reader(text);
  std::string_view raw;
  while (error.empty() && reader.Next(&raw)) {
    const std::size_t line_no = reader.line_number();
    if (raw.size() > kMaxLineBytes) {
      error_line = line_no;
      error = "line longer than " + std::to_string(kMaxLineBytes) + " bytes";
      break;
    }
    const std::string_view line = internal::Trim(raw);
    if (line.empty()) continue;
    if (line.front() == '#') {
      const std::string_view comment = internal::Trim(line.substr(1));
      const std::size_t colon = comment.find(':');
      if (colon != std::string_view::npos &&
          internal::EqualsIgnoreCase(internal::Trim(comment.substr(0, colon)), "name")) {
        name = internal::CleanText(comment.substr(colon + 1));
        if (internal::CountCodePoints(name) > kMaxNameChars) {
          error_line = line_no;
          error = "name longer than " + std::to_string(kMaxNameChars) + " characters";
          name.clear();
        }
      }
      continue;
    }
    const std::vector<std::string_view> columns = SplitColumns(line, 2);
    if (columns.empty()) continue;  // a row of bare separators, as spreadsheets export
    double mz = 0;
    const NumberStatus mz_status = internal::ParseNumber(columns.front(), &mz);
    if (!seen_data_line && s.peaks.empty() && mz_status != NumberStatus::kOk) {
      seen_data_line = true;  // header such as "m/z,intensity"
      continue;
    }
    seen_data_line = true;
    error_line = line_no;
    const std::string where = "line '" + Excerpt(line) + "': ";
    if (columns.size() != 2) {
      error = where + "expected 2 columns (m/z, intensity), found " +
              (columns.size() > 2 ? std::string("more than 2") : std::to_string(columns.size()));
      break;
    }
    if (mz_status != NumberStatus::kOk) {
      error = where + "m/z " + internal::DescribeNumberProblem(mz_status, columns[0]);
      break;
    }
    double intensity = 0;
    const NumberStatus status = internal::ParseNumber(columns[1], &intensity);
    if (status != NumberStatus::kOk) {
      error = where + "intensity " + internal::DescribeNumberProblem(status, columns[1]);
      break;
    }
    const spectra::Peak peak{mz, intensity};
    if (std::string problem = internal::CheckPeak(peak); !problem.empty()) {
      error = where + problem;
      break;
    }
    if (s.peaks.size() >= kMaxPeaksPerRecord) {
      error = "more than " + std::to_string(kMaxPeaksPerRecord) + " peaks";
      break;
    }
    s.peaks.push_back(peak);
  }

  s.name = name.empty() ? StemOf(source) : std::move(name);
  if (!error.empty()) {
    out.AddError(1, error_line, s.name, std::move(error));
  } else if (s.peaks.empty()) {
    // A blank input is worded by Finish().
    if (!internal::IsBlank(internal::StripBom(text))) out.AddError(1, 0, s.name, "no peaks");
  } else {
    out.AddSpectrum(std::move(s));
  }
  return std::move(out).Finish();
}

}  // namespace sentinel::formats
