// NIST MSP reader. See spectrum_formats.h for the contract.
//
// The file is read line by line with one record in progress. A record ends at a blank line,
// at the end of the text, or at a "Name:" line once the record already has a name or peaks
// (producers that forget the blank line). A line whose first character can start a number,
// or any line without a colon after "Num Peaks:", is a peak line; any other line must be
// "Field: value". After a record's first problem the rest of it is skipped, so one mistake
// yields one error.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "adapters/spectrum_formats/parse_util.h"
#include "adapters/spectrum_formats/spectrum_formats.h"

namespace sentinel::formats {

namespace {

using internal::CleanText;
using internal::Excerpt;

struct MspRecord {
  spectra::SpectrumRecord spectrum;
  bool failed = false;
  bool id_from_id_field = false;  // ID: wins over DB# whatever their order
  std::optional<std::size_t> declared_peaks;
  std::size_t declared_line = 0;
};

bool StartsNumber(char c) { return internal::IsDigit(c) || c == '.' || c == '+' || c == '-'; }

class MspParser {
 public:
  MspParser(std::string_view text, std::string_view source) : text_(text), out_(source, text) {}

  ParseOutcome Run() && {
    internal::LineReader reader(text_);
    std::string_view line;
    while (reader.Next(&line)) HandleLine(line, reader.line_number());
    EndRecord();
    return std::move(out_).Finish();
  }

 private:
  void HandleLine(std::string_view raw, std::size_t line_no) {
    if (raw.size() > kMaxLineBytes) {
      if (!current_) StartRecord(line_no);
      Fail(line_no, "line longer than " + std::to_string(kMaxLineBytes) + " bytes");
      return;
    }
    const std::string_view line = internal::Trim(raw);
    if (line.empty()) {
      EndRecord();
      return;
    }
    const std::size_t colon = line.find(':');
    // After "Num Peaks:" a line without a colon is a peak line even if it does not start like
    // a number, so "inf 10" is reported as a bad peak rather than as a strange field.
    const bool in_peak_list =
        current_ && current_->declared_peaks.has_value() && colon == std::string_view::npos;
    if (StartsNumber(line.front()) || in_peak_list) {
      if (!current_) StartRecord(line_no);
      if (current_->failed) return;
      const std::string problem =
          internal::ParsePeakLine(line, internal::kMspPeakSyntax, &current_->spectrum.peaks);
      if (!problem.empty()) Fail(line_no, "peak line '" + Excerpt(line) + "': " + problem);
      return;
    }
    if (colon == std::string_view::npos) {
      if (!current_) StartRecord(line_no);
      Fail(line_no, "line '" + Excerpt(line) + "' is neither 'Field: value' nor peaks");
      return;
    }
    const std::string key = internal::NormalizeLabel(line.substr(0, colon));
    const std::string_view value = internal::Trim(line.substr(colon + 1));
    if (key == "name" && current_ &&
        (!current_->spectrum.name.empty() || !current_->spectrum.peaks.empty() ||
         current_->declared_peaks.has_value())) {
      EndRecord();
    }
    if (!current_) StartRecord(line_no);
    if (current_->failed) return;
    HandleField(key, value, line, line_no);
  }

  void HandleField(const std::string& key, std::string_view value, std::string_view line,
                   std::size_t line_no) {
    spectra::SpectrumRecord& s = current_->spectrum;
    if (key == "name") {
      std::string name = CleanText(value);
      if (name.empty()) return Fail(line_no, "empty Name:");
      if (internal::CountCodePoints(name) > kMaxNameChars) {
        return Fail(line_no, "name longer than " + std::to_string(kMaxNameChars) + " characters");
      }
      s.name = std::move(name);
    } else if (key == "synon" || key == "synonym") {
      if (std::string synonym = CleanText(value); !synonym.empty()) {
        s.synonyms.push_back(std::move(synonym));
      }
    } else if (key == "inchikey") {
      s.inchikey = value == "0" ? std::string() : CleanText(value);
    } else if (key == "formula") {
      s.formula = CleanText(value);
    } else if (key == "mw") {
      ReadMetadataNumber(value, "MW", line_no, &s.molecular_weight);
    } else if (key == "exactmass") {
      ReadMetadataNumber(value, "ExactMass", line_no, &s.exact_mass);
    } else if (key == "ri" || key == "retentionindex") {
      ReadMetadataNumber(value, "retention index", line_no, &s.retention_index);
    } else if (key == "casno" || key == "cas#" || key == "cas") {
      // NIST exports write "CAS#: 50-36-2; NIST#: 12345" on one line.
      const std::string_view cas = internal::Trim(value.substr(0, value.find(';')));
      s.cas = cas == "0" ? std::string() : CleanText(cas);
    } else if (key == "id") {
      s.id = CleanText(value);
      current_->id_from_id_field = true;
    } else if (key == "db#") {
      if (!current_->id_from_id_field) s.id = CleanText(value);
    } else if (key == "comment" || key == "comments") {
      if (std::string comment = CleanText(value); !comment.empty()) {
        if (!s.comment.empty()) s.comment += "; ";
        s.comment += comment;
      }
    } else if (key == "numpeaks") {
      if (current_->declared_peaks) return Fail(line_no, "second Num Peaks: in one record");
      std::size_t n = 0;
      if (!internal::ParseCount(value, kMaxPeaksPerRecord, &n)) {
        return Fail(line_no, "'" + Excerpt(line) + "': expected a peak count from 0 to " +
                                 std::to_string(kMaxPeaksPerRecord));
      }
      current_->declared_peaks = n;
      current_->declared_line = line_no;
      // Bounded by kMaxPeaksPerRecord above; a record that does not fill it fails and frees
      // it, and a second count is refused, so no kept record holds unused capacity.
      s.peaks.reserve(n);
    }
    // Other fields (Ion_mode, Precursor_type, Spectrum_type, ...) carry nothing Sentinel
    // uses for EI identification.
  }

  void ReadMetadataNumber(std::string_view value, std::string_view label, std::size_t line_no,
                          std::optional<double>* field) {
    const std::string problem = internal::ParseMetadataNumber(value, label, field);
    if (!problem.empty()) Fail(line_no, problem);
  }

  void StartRecord(std::size_t line_no) {
    current_.emplace();
    current_->spectrum.record = ++record_count_;
    current_->spectrum.line = line_no;
  }

  void Fail(std::size_t line_no, std::string message) {
    if (current_->failed) return;
    current_->failed = true;
    out_.AddError(current_->spectrum.record, line_no, current_->spectrum.name, std::move(message));
    // The peaks of a rejected record are never used; free them now rather than at its end.
    current_->spectrum.peaks = {};
  }

  void EndRecord() {
    if (!current_) return;
    MspRecord record = std::move(*current_);
    current_.reset();
    if (record.failed) return;
    spectra::SpectrumRecord& s = record.spectrum;
    if (s.name.empty()) {
      out_.AddError(s.record, s.line, {}, "record has no Name:");
    } else if (s.peaks.empty()) {
      out_.AddError(s.record, record.declared_peaks ? record.declared_line : s.line, s.name,
                    "record has no peaks");
    } else if (record.declared_peaks && *record.declared_peaks != s.peaks.size()) {
      out_.AddError(s.record, record.declared_line, s.name,
                    "Num Peaks is " + std::to_string(*record.declared_peaks) + " but " +
                        std::to_string(s.peaks.size()) + " peaks follow");
    } else {
      s.source = out_.source();
      out_.AddSpectrum(std::move(s));
    }
  }

  std::string_view text_;
  internal::OutcomeBuilder out_;
  std::optional<MspRecord> current_;
  std::size_t record_count_ = 0;
};

}  // namespace

ParseOutcome ParseMsp(std::string_view text, std::string_view source) {
  return MspParser(text, source).Run();
}

}  // namespace sentinel::formats
