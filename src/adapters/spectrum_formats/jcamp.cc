// JCAMP-DX mass-spectrum reader. See spectrum_formats.h for the contract.
//
// A block runs from ##TITLE= to ##END=. Blocks nest only inside a link block (one that
// declared ##BLOCKS=); a ##TITLE= inside any other block means that block lost its ##END=,
// which is reported before the new block starts. A labelled data record (LDR) runs until the
// next "##" line, so ##NAMES= and the data tables continue over the lines that follow.
// ##XFACTOR=/##YFACTOR= scale the table whichever order they come in, as the standard says.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "adapters/spectrum_formats/parse_util.h"
#include "adapters/spectrum_formats/spectrum_formats.h"

namespace sentinel::formats {

namespace {

using internal::CleanText;
using internal::Excerpt;
using internal::NumberStatus;

// Link blocks hold data blocks; nothing real nests deeper, and a bound keeps hostile input
// from building a deep stack.
constexpr std::size_t kMaxBlockDepth = 4;

enum class Ldr { kNone, kNames, kTable, kOther };

struct Block {
  spectra::SpectrumRecord spectrum;
  bool failed = false;
  bool is_link = false;
  bool has_table = false;
  bool empty_title = false;
  std::optional<std::size_t> npoints;
  std::size_t npoints_line = 0;
  std::size_t table_line = 0;
  double xfactor = 1;
  double yfactor = 1;
};

class JcampParser {
 public:
  JcampParser(std::string_view text, std::string_view source) : text_(text), out_(source, text) {}

  ParseOutcome Run() && {
    internal::LineReader reader(text_);
    std::string_view line;
    while (reader.Next(&line)) HandleLine(line, reader.line_number());
    while (!stack_.empty()) {
      Fail(stack_.back().spectrum.line, "block not closed by ##END= (is the file truncated?)");
      stack_.pop_back();
    }
    return std::move(out_).Finish();
  }

 private:
  void HandleLine(std::string_view raw, std::size_t line_no) {
    if (raw.size() > kMaxLineBytes) {
      const std::string message = "line longer than " + std::to_string(kMaxLineBytes) + " bytes";
      if (stack_.empty()) {
        out_.AddError(0, line_no, {}, message);
      } else {
        Fail(line_no, message);
      }
      return;
    }
    // "$$" starts a comment anywhere on a line.
    if (const std::size_t comment = raw.find("$$"); comment != std::string_view::npos) {
      raw = raw.substr(0, comment);
    }
    const std::string_view line = internal::Trim(raw);
    if (line.size() >= 2 && line[0] == '#' && line[1] == '#') {
      const std::size_t eq = line.find('=');
      const std::string label =
          internal::NormalizeLabel(line.substr(2, eq == std::string_view::npos ? eq : eq - 2));
      const std::string_view value =
          eq == std::string_view::npos ? std::string_view() : internal::Trim(line.substr(eq + 1));
      HandleLabel(label, value, line_no);
      return;
    }
    if (stack_.empty() || stack_.back().failed || line.empty()) return;
    Block& b = stack_.back();
    if (ldr_ == Ldr::kNames) {
      if (std::string synonym = CleanText(line); !synonym.empty()) {
        b.spectrum.synonyms.push_back(std::move(synonym));
      }
    } else if (ldr_ == Ldr::kTable) {
      ReadTableLine(line, line_no);
    }
  }

  void HandleLabel(const std::string& label, std::string_view value, std::size_t line_no) {
    ldr_ = Ldr::kOther;
    if (label == "title") return OpenBlock(value, line_no);
    if (stack_.empty()) return;  // LDRs outside any block have nothing to describe
    if (label == "end") return CloseBlock(line_no);
    Block& b = stack_.back();
    if (b.failed) return;
    spectra::SpectrumRecord& s = b.spectrum;
    if (label == "datatype") {
      const std::string type = internal::NormalizeLabel(value);
      if (type.rfind("mass", 0) != 0 && type != "link") {
        Fail(line_no, "DATA TYPE '" + Excerpt(value) + "' is not a mass spectrum");
      }
    } else if (label == "blocks") {
      b.is_link = true;
    } else if (label == "molform") {
      // The standard writes formulas spaced out ("C 17 H 21 N O 4"); drop the spaces.
      std::string formula;
      for (char c : value) {
        if (c != ' ' && c != '\t') formula.push_back(c);
      }
      s.formula = CleanText(formula);
    } else if (label == "mw") {
      ReadMetadataNumber(value, "MW", line_no, &s.molecular_weight);
    } else if (label == "casregistryno") {
      s.cas = value == "0" ? std::string() : CleanText(value);
    } else if (label == "names") {
      ldr_ = Ldr::kNames;
      if (std::string synonym = CleanText(value); !synonym.empty()) {
        s.synonyms.push_back(std::move(synonym));
      }
    } else if (label == "npoints") {
      std::size_t n = 0;
      if (!internal::ParseCount(value, kMaxPeaksPerRecord, &n)) {
        return Fail(line_no, "NPOINTS '" + Excerpt(value) + "': expected a count from 0 to " +
                                 std::to_string(kMaxPeaksPerRecord));
      }
      b.npoints = n;
      b.npoints_line = line_no;
    } else if (label == "xfactor" || label == "yfactor") {
      double factor = 0;
      const NumberStatus status = internal::ParseNumber(value, &factor);
      if (status != NumberStatus::kOk || factor <= 0) {
        return Fail(line_no, (label == "xfactor" ? "XFACTOR '" : "YFACTOR '") + Excerpt(value) +
                                 "' is not a positive number");
      }
      (label == "xfactor" ? b.xfactor : b.yfactor) = factor;
    } else if (label == "peaktable" || label == "xydata") {
      OpenTable(value, line_no);
    }
  }

  void OpenBlock(std::string_view title, std::size_t line_no) {
    if (!stack_.empty() && !stack_.back().is_link) {
      Fail(line_no, "block not closed by ##END= before the next ##TITLE=");
      stack_.pop_back();
    }
    if (stack_.size() >= kMaxBlockDepth) {
      // Reported against the enclosing block, which is abandoned with its children.
      Fail(line_no, "blocks nested deeper than " + std::to_string(kMaxBlockDepth));
      return;
    }
    Block& b = stack_.emplace_back();
    b.spectrum.record = ++block_count_;
    b.spectrum.line = line_no;
    std::string name = CleanText(title);
    if (name.empty()) {
      b.empty_title = true;
    } else if (internal::CountCodePoints(name) > kMaxNameChars) {
      Fail(line_no, "title longer than " + std::to_string(kMaxNameChars) + " characters");
    } else {
      b.spectrum.name = std::move(name);
    }
  }

  void OpenTable(std::string_view value, std::size_t line_no) {
    Block& b = stack_.back();
    if (b.has_table) return Fail(line_no, "second data table in one block");
    const std::size_t close = value.find(')');
    const std::string_view form = value.substr(0, close == std::string_view::npos ? 0 : close + 1);
    if (internal::NormalizeLabel(form) != "(xy..xy)") {
      return Fail(line_no,
                  "table form '" + Excerpt(value) + "' is not supported; expected (XY..XY)");
    }
    b.has_table = true;
    b.table_line = line_no;
    ldr_ = Ldr::kTable;
    if (const std::string_view rest = internal::Trim(value.substr(close + 1)); !rest.empty()) {
      ReadTableLine(rest, line_no);
    }
  }

  void ReadTableLine(std::string_view line, std::size_t line_no) {
    const std::string problem =
        internal::ParsePeakLine(line, internal::kJcampPeakSyntax, &stack_.back().spectrum.peaks);
    if (!problem.empty()) Fail(line_no, "peak table line '" + Excerpt(line) + "': " + problem);
  }

  void ReadMetadataNumber(std::string_view value, std::string_view label, std::size_t line_no,
                          std::optional<double>* field) {
    const std::string problem = internal::ParseMetadataNumber(value, label, field);
    if (!problem.empty()) Fail(line_no, problem);
  }

  void CloseBlock(std::size_t line_no) {
    Block b = std::move(stack_.back());
    stack_.pop_back();
    if (b.failed) return;
    spectra::SpectrumRecord& s = b.spectrum;
    if (!b.has_table) {
      if (!b.is_link) {
        out_.AddError(s.record, line_no, s.name, "block has no ##PEAK TABLE= or ##XYDATA=");
      }
      return;
    }
    if (b.empty_title) {
      return out_.AddError(s.record, s.line, {}, "empty ##TITLE=");
    }
    if (s.peaks.empty()) {
      return out_.AddError(s.record, b.table_line, s.name, "data table has no peaks");
    }
    if (b.npoints && *b.npoints != s.peaks.size()) {
      return out_.AddError(s.record, b.npoints_line, s.name,
                           "NPOINTS is " + std::to_string(*b.npoints) + " but the table has " +
                               std::to_string(s.peaks.size()) + " peaks");
    }
    if (b.xfactor != 1 || b.yfactor != 1) {
      for (spectra::Peak& p : s.peaks) {
        p.mz *= b.xfactor;
        p.intensity *= b.yfactor;
        // Scaling can overflow, or underflow an m/z to zero.
        if (std::string problem = internal::CheckPeak(p); !problem.empty()) {
          return out_.AddError(s.record, b.table_line, s.name,
                               "after XFACTOR/YFACTOR scaling, " + problem);
        }
      }
    }
    s.source = out_.source();
    out_.AddSpectrum(std::move(s));
  }

  // Reports the first problem of the innermost open block and skips the rest of it.
  void Fail(std::size_t line_no, std::string message) {
    Block& b = stack_.back();
    if (b.failed) return;
    b.failed = true;
    out_.AddError(b.spectrum.record, line_no, b.spectrum.name, std::move(message));
    b.spectrum.peaks = {};
  }

  std::string_view text_;
  internal::OutcomeBuilder out_;
  std::vector<Block> stack_;
  std::size_t block_count_ = 0;
  Ldr ldr_ = Ldr::kNone;
};

}  // namespace

ParseOutcome ParseJcamp(std::string_view text, std::string_view source) {
  return JcampParser(text, source).Run();
}

}  // namespace sentinel::formats
