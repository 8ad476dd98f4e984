// Invariants every parser outcome must satisfy, checked by the fuzz targets.
//
// The checks restate the contract of adapters/spectrum_formats/spectrum_formats.h from the
// outside, with their own UTF-8 validator, so a bug in the parsers' shared helpers cannot hide
// itself. A violation prints what broke and aborts, which libFuzzer reports as a crash and
// saves as a reproducer. Not thread-safe concerns: each call only reads its argument.
#pragma once

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "adapters/spectrum_formats/spectrum_formats.h"

namespace sentinel::fuzz {

[[noreturn]] inline void Violation(const char* what, std::string_view detail) {
  std::fprintf(stderr, "invariant violated: %s [%.*s]\n", what, static_cast<int>(detail.size()),
               detail.data());
  std::abort();
}

inline void Require(bool ok, const char* what, std::string_view detail = {}) {
  if (!ok) Violation(what, detail);
}

// Strict UTF-8 (RFC 3629) with no C0/C1 controls or DEL; counts code points into *count.
inline bool CleanUtf8(std::string_view s, std::size_t* count) {
  *count = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    const unsigned c = static_cast<unsigned char>(s[i]);
    unsigned cp = 0;
    std::size_t len = 0;
    if (c < 0x80) {
      cp = c;
      len = 1;
    } else if ((c & 0xE0) == 0xC0) {
      cp = c & 0x1F;
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      cp = c & 0x0F;
      len = 3;
    } else if ((c & 0xF8) == 0xF0) {
      cp = c & 0x07;
      len = 4;
    } else {
      return false;
    }
    if (i + len > s.size()) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const unsigned cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    const unsigned min_for_len[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_for_len[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return false;
    i += len;
    ++*count;
  }
  return true;
}

inline void CheckText(std::string_view s, const char* what) {
  std::size_t count = 0;
  Require(CleanUtf8(s, &count), what, s);
}

inline void CheckOutcome(const formats::ParseOutcome& outcome, std::string_view source) {
  Require(!(outcome.spectra.empty() && outcome.errors.empty()), "silently empty outcome");
  Require(outcome.errors.size() <= formats::kMaxErrors + 1, "error cap exceeded");
  for (const auto& s : outcome.spectra) {
    std::size_t name_chars = 0;
    Require(CleanUtf8(s.name, &name_chars), "name is not clean UTF-8", s.name);
    Require(name_chars >= 1 && name_chars <= formats::kMaxNameChars, "name length", s.name);
    Require(s.name.front() != ' ' && s.name.back() != ' ', "name not trimmed", s.name);
    for (const auto& synonym : s.synonyms) CheckText(synonym, "synonym is not clean UTF-8");
    CheckText(s.inchikey, "inchikey is not clean UTF-8");
    CheckText(s.formula, "formula is not clean UTF-8");
    CheckText(s.cas, "cas is not clean UTF-8");
    CheckText(s.id, "id is not clean UTF-8");
    CheckText(s.comment, "comment is not clean UTF-8");
    for (const auto* v : {&s.molecular_weight, &s.exact_mass, &s.retention_index}) {
      Require(!v->has_value() || (std::isfinite(**v) && **v >= 0), "bad metadata number");
    }
    Require(!s.peaks.empty() && s.peaks.size() <= formats::kMaxPeaksPerRecord, "peak count",
            s.name);
    for (const auto& p : s.peaks) {
      Require(std::isfinite(p.mz) && p.mz > 0, "m/z not finite and positive", s.name);
      Require(std::isfinite(p.intensity) && p.intensity >= 0, "intensity not finite, >= 0", s.name);
    }
    Require(s.source == source, "spectrum source");
    Require(s.record >= 1 && s.line >= 1, "spectrum position");
  }
  for (const auto& e : outcome.errors) {
    Require(e.source == source, "error source");
    Require(!e.message.empty(), "empty error message");
    CheckText(e.name, "error name is not clean UTF-8");
    // Messages quote input only through the cleaning helpers, so they are clean too.
    CheckText(e.message, "error message is not clean UTF-8");
    Require(!e.ToString().empty(), "empty ToString");
  }
}

}  // namespace sentinel::fuzz
