#include "core/reports/personal_data.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <initializer_list>
#include <iterator>
#include <utility>
#include <vector>

#include "core/common/text.h"

namespace sentinel::reports {
namespace {

using std::size_t;
constexpr size_t kNone = std::string_view::npos;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsLetter(char c) { return IsUpper(c) || IsLower(c); }
char Lower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

// Bytes of multi-byte UTF-8 sequences count as word bytes: "№", "тел" and "é" belong to words.
bool IsWordByte(char c) {
  return IsDigit(c) || IsLetter(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}

// Characters that bind two codes into one ("LAB-2026-000123", "A12.345", "12/05", "+44").
bool IsJoiner(char c) { return c == '-' || c == '.' || c == '/' || c == '+'; }

// Whether a code starting at `i` stands on its own rather than continuing a longer one, so that
// "LAB-2026-000123" holds no number starting at "2026" and "[M+H]+245" none at "245".
bool StartsToken(std::string_view text, size_t i) {
  if (i == 0) return true;
  const char before = text[i - 1];
  if (IsWordByte(before) || before == '+') return false;
  if (IsJoiner(before)) return i < 2 || !IsWordByte(text[i - 2]);
  return true;
}

// Whether a code ending before `end` is complete: "123-45-6789-2" is not an SSN, while
// "123-45-6789." at the end of a sentence is.
bool EndsToken(std::string_view text, size_t end) {
  if (end >= text.size()) return true;
  const char after = text[end];
  if (IsWordByte(after)) return false;
  if (IsJoiner(after)) return end + 1 >= text.size() || !IsWordByte(text[end + 1]);
  return true;
}

// The value of exactly `count` digits at `pos`, or -1 (also for more than 9, which no
// pattern here needs and an int may not hold).
int DigitsAt(std::string_view text, size_t pos, size_t count) {
  if (count > 9 || pos + count > text.size()) return -1;
  int value = 0;
  for (size_t k = pos; k < pos + count; ++k) {
    if (!IsDigit(text[k])) return -1;
    value = value * 10 + (text[k] - '0');
  }
  return value;
}

size_t DigitRun(std::string_view text, size_t pos) {
  size_t end = pos;
  while (end < text.size() && IsDigit(text[end])) ++end;
  return end - pos;
}

int DaysInMonth(int year, int month) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[static_cast<size_t>(month - 1)];
}

// --- e-mail -------------------------------------------------------------------------------

bool IsLocalPartByte(char c) {
  return IsDigit(c) || IsLetter(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
bool IsDomainByte(char c) { return IsDigit(c) || IsLetter(c) || c == '-'; }

size_t FindEmail(std::string_view text) {
  for (size_t at = text.find('@'); at != kNone; at = text.find('@', at + 1)) {
    size_t start = at;
    while (start > 0 && IsLocalPartByte(text[start - 1])) --start;
    if (start == at) continue;
    // A domain has two or more labels and ends in an alphabetic top-level label, which keeps
    // "peak@70eV" and "SWGDRUG@v3.11" out.
    size_t pos = at + 1;
    int labels = 0;
    bool alphabetic_top_level = false;
    while (true) {
      size_t end = pos;
      while (end < text.size() && IsDomainByte(text[end])) ++end;
      if (end == pos) break;
      ++labels;
      alphabetic_top_level =
          end - pos >= 2 && std::all_of(text.begin() + pos, text.begin() + end, IsLetter);
      if (end + 1 < text.size() && text[end] == '.' && IsDomainByte(text[end + 1])) {
        pos = end + 1;
      } else {
        break;
      }
    }
    if (labels >= 2 && alphabetic_top_level) return start;
  }
  return kNone;
}

// --- national identification numbers ------------------------------------------------------

// ddd-dd-dddd with an area, group and serial the Social Security Administration issues; a CAS
// number (at most 7-2-1 digits) never has this shape.
size_t FindUsSocialSecurityNumber(std::string_view text) {
  for (size_t i = 0; i + 11 <= text.size(); ++i) {
    if (!IsDigit(text[i]) || !StartsToken(text, i)) continue;
    if (text[i + 3] != '-' || text[i + 6] != '-') continue;
    const int area = DigitsAt(text, i, 3), group = DigitsAt(text, i + 4, 2);
    const int serial = DigitsAt(text, i + 7, 4);
    if (area <= 0 || group <= 0 || serial <= 0) continue;
    if (area == 666 || area >= 900) continue;
    if (EndsToken(text, i + 11)) return i;
  }
  return kNone;
}

// Two prefix letters, six digits (spaced in pairs or not) and a suffix A-D, with the prefix
// rules HMRC allocates by: a batch number such as "DF123456A" or "GB123456B" is not one.
size_t FindUkNationalInsuranceNumber(std::string_view text) {
  constexpr std::string_view kNeverFirst = "DFIQUV", kNeverSecond = "DFIOQUV";
  constexpr std::string_view kUnallocated[] = {"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"};
  for (size_t i = 0; i + 9 <= text.size(); ++i) {
    if (!IsUpper(text[i]) || !IsUpper(text[i + 1]) || !StartsToken(text, i)) continue;
    const std::string_view prefix = text.substr(i, 2);
    if (kNeverFirst.find(prefix[0]) != kNone || kNeverSecond.find(prefix[1]) != kNone) continue;
    if (std::find(std::begin(kUnallocated), std::end(kUnallocated), prefix) !=
        std::end(kUnallocated)) {
      continue;
    }
    size_t pos = i + 2;
    bool digits_ok = true;
    for (int pair = 0; pair < 3 && digits_ok; ++pair) {
      if (pos < text.size() && text[pos] == ' ') ++pos;
      digits_ok = DigitsAt(text, pos, 2) >= 0;
      pos += 2;
    }
    if (!digits_ok) continue;
    if (pos < text.size() && text[pos] == ' ') ++pos;
    if (pos >= text.size() || text[pos] < 'A' || text[pos] > 'D') continue;
    if (EndsToken(text, pos + 1)) return i;
  }
  return kNone;
}

// 17 digits and a check character (ISO 7064 MOD 11-2, X for 10), with a birth date in digits
// 7-14. The checksum and the date make an 18-digit lab or batch number match only by chance.
size_t FindChineseResidentIdentityNumber(std::string_view text) {
  static constexpr std::array<int, 17> kWeights = {7, 9, 10, 5,  8, 4, 2, 1, 6,
                                                   3, 7, 9,  10, 5, 8, 4, 2};
  for (size_t i = 0; i + 18 <= text.size(); ++i) {
    if (!IsDigit(text[i]) || !StartsToken(text, i)) continue;
    const size_t digits = DigitRun(text, i);
    if (digits != 17 && digits != 18) continue;
    const char check = text[i + 17];
    if (!IsDigit(check) && check != 'X' && check != 'x') continue;
    if (text[i] == '0' || !EndsToken(text, i + 18)) continue;
    const int year = DigitsAt(text, i + 6, 4), month = DigitsAt(text, i + 10, 2);
    const int day = DigitsAt(text, i + 12, 2);
    if (year < 1900 || month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) {
      continue;
    }
    int sum = 0;
    for (size_t k = 0; k < 17; ++k) sum += (text[i + k] - '0') * kWeights[k];
    const int expected = (12 - sum % 11) % 11;
    const int given = IsDigit(check) ? check - '0' : 10;
    if (given == expected) return i;
  }
  return kNone;
}

// --- telephone numbers --------------------------------------------------------------------

// The digit groups of a number-like token: "+44 20 7946 0958", "(555) 123-4567".
struct DigitGroups {
  static constexpr size_t kMax = 8;
  bool plus = false;
  bool area_in_parentheses = false;
  size_t count = 0;
  std::array<size_t, kMax> length{};
  std::array<char, kMax> separator_before{};  // ' ', '-', '.', or ')' right after "(0)"
  std::array<size_t, kMax> end{};
  char first_digit = 0;
};

DigitGroups ReadDigitGroups(std::string_view text, size_t start) {
  DigitGroups g;
  size_t pos = start;
  if (text[pos] == '+') {
    g.plus = true;
    ++pos;
  }
  char separator = 0;
  while (g.count < DigitGroups::kMax && pos < text.size()) {
    const bool parenthesised = text[pos] == '(';
    const size_t digits_at = parenthesised ? pos + 1 : pos;
    const size_t length = digits_at < text.size() ? DigitRun(text, digits_at) : 0;
    size_t end = digits_at + length;
    if (length == 0 || (parenthesised && (end >= text.size() || text[end] != ')'))) break;
    if (parenthesised) {
      ++end;
      if (g.count == 0 || (g.count == 1 && g.plus)) g.area_in_parentheses = true;
    }
    if (g.count == 0) g.first_digit = text[digits_at];
    g.length[g.count] = length;
    g.separator_before[g.count] = separator;
    g.end[g.count] = end;
    ++g.count;
    pos = end;
    if (pos + 1 >= text.size()) break;
    const char next = text[pos], after = text[pos + 1];
    if ((next == ' ' || next == '-' || next == '.') && (IsDigit(after) || after == '(')) {
      separator = next;
      ++pos;
    } else if (parenthesised && IsDigit(next)) {
      separator = ')';
    } else {
      break;
    }
  }
  return g;
}

bool IsYear(size_t length, std::string_view text, size_t end) {
  if (length != 4) return false;
  const int value = DigitsAt(text, end - 4, 4);
  return value >= 1900 && value <= 2099;
}

// The word before `pos` (skipping "no.", "nr" and punctuation) names a telephone.
bool AfterTelephoneWord(std::string_view text, size_t pos) {
  static constexpr std::string_view kWords[] = {"tel",  "telephone", "phone", "mobile",
                                                "mob",  "cell",      "fax",   "whatsapp",
                                                "call", "sms",       "ph",    "contact"};
  for (int word_index = 0; word_index < 2; ++word_index) {
    size_t gap = 0;
    while (pos > 0 && gap < 6 && !IsLetter(text[pos - 1])) {
      --pos;
      ++gap;
    }
    size_t begin = pos;
    while (begin > 0 && pos - begin < 12 && IsLetter(text[begin - 1])) --begin;
    if (begin == pos || (begin > 0 && IsWordByte(text[begin - 1]))) return false;
    const std::string word = AsciiLower(text.substr(begin, pos - begin));
    if (std::find(std::begin(kWords), std::end(kWords), word) != std::end(kWords)) return true;
    if (word != "no" && word != "nr" && word != "number" && word != "num") return false;
    pos = begin;
  }
  return false;
}

bool LooksLikeTelephone(const DigitGroups& g, size_t groups, std::string_view text,
                        bool after_telephone_word) {
  size_t digits = 0, dots = 0, others = 0;
  for (size_t k = 0; k < groups; ++k) {
    digits += g.length[k];
    if (k == 0) continue;
    (g.separator_before[k] == '.' ? dots : others) += 1;
  }
  // "12.5", "0.5 0.25" and "1.234.567 g" are numbers; dotted telephones use dots throughout.
  if (dots > 0 && (others > 0 || dots < 2)) return false;
  if (g.plus) return digits >= 8 && digits <= 15;
  if (digits < 9 || digits > 15) return false;
  // A year joined by a hyphen is a date ("2026-03-14") or a case number ("2026-000123").
  for (size_t k = 0; k < groups; ++k) {
    const bool hyphen_before = k > 0 && g.separator_before[k] == '-';
    const bool hyphen_after = k + 1 < groups && g.separator_before[k + 1] == '-';
    if ((hyphen_before || hyphen_after) && IsYear(g.length[k], text, g.end[k])) return false;
  }
  // ddd-dd-dddd is the social security number's shape, which has its own scanner and rules.
  if (groups == 3 && g.length[0] == 3 && g.length[1] == 2 && g.length[2] == 4 &&
      g.separator_before[1] == '-' && g.separator_before[2] == '-') {
    return false;
  }
  if (after_telephone_word) return true;
  if (groups < 2) return false;
  if (g.area_in_parentheses) return true;
  // A trunk prefix: "020 7946 0958", "07700 900123", "01 23 45 67 89".
  if (g.first_digit == '0' && groups <= 5 && g.length[0] >= 2 && g.length[0] <= 5) {
    bool ok = true;
    for (size_t k = 1; k < groups; ++k) ok = ok && g.length[k] >= 2 && g.length[k] <= 8;
    if (ok) return true;
  }
  // North American: "555-123-4567", "1 800 555 0199".
  const auto lengths_are = [&](std::initializer_list<size_t> want) {
    return want.size() == groups && std::equal(want.begin(), want.end(), g.length.begin());
  };
  return lengths_are({3, 3, 4}) || (lengths_are({1, 3, 3, 4}) && g.first_digit == '1');
}

// A '+' starts a number whenever a digit follows and no word precedes it ("tel.+44" included);
// a digit or '(' only where a code may start.
bool CanStartTelephone(std::string_view text, size_t i) {
  if (text[i] == '+') {
    return i + 1 < text.size() && IsDigit(text[i + 1]) && (i == 0 || !IsWordByte(text[i - 1]));
  }
  return (IsDigit(text[i]) || text[i] == '(') && StartsToken(text, i);
}

size_t FindTelephoneNumber(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    if (!CanStartTelephone(text, i)) continue;
    const DigitGroups g = ReadDigitGroups(text, i);
    const bool after_word = AfterTelephoneWord(text, i);
    // The number may be followed by other figures ("020 7946 0958 12 tablets"): every prefix
    // ending at a space is a candidate, the whole token one ending at a token boundary.
    for (size_t groups = g.count; groups >= 1; --groups) {
      const bool boundary = groups == g.count ? EndsToken(text, g.end[groups - 1])
                                              : g.separator_before[groups] == ' ';
      if (boundary && LooksLikeTelephone(g, groups, text, after_word)) return i;
    }
  }
  return kNone;
}

// --- dates of birth -----------------------------------------------------------------------

int MonthNamed(std::string_view word) {
  static constexpr std::string_view kMonths[] = {"january",   "february", "march",    "april",
                                                 "may",       "june",     "july",     "august",
                                                 "september", "october",  "november", "december"};
  const std::string lower = AsciiLower(word);
  if (lower == "sept") return 9;
  for (size_t m = 0; m < std::size(kMonths); ++m) {
    if (lower == kMonths[m] || (lower.size() == 3 && kMonths[m].substr(0, 3) == lower)) {
      return static_cast<int>(m) + 1;
    }
  }
  return 0;
}

size_t LetterRun(std::string_view text, size_t pos) {
  size_t end = pos;
  while (end < text.size() && IsLetter(text[end])) ++end;
  return end - pos;
}

// After a day number: "st", "nd", "rd" or "th", then optionally " of".
size_t SkipOrdinal(std::string_view text, size_t pos) {
  const size_t letters = LetterRun(text, pos);
  if (letters == 2) {
    const std::string suffix = AsciiLower(text.substr(pos, 2));
    if (suffix == "st" || suffix == "nd" || suffix == "rd" || suffix == "th") pos += 2;
  }
  if (pos + 3 < text.size() && text[pos] == ' ' && AsciiLower(text.substr(pos + 1, 2)) == "of" &&
      text[pos + 3] == ' ') {
    pos += 3;
  }
  return pos;
}

// The end of a full date (day, month and year) starting at `pos`, or kNone: 1990-05-12,
// 12/05/1990, 5.12.90, 12 May 1990, 12th of May, 1990, May 12, 1990.
size_t DateEndingAt(std::string_view text, size_t pos) {
  const auto finish = [&](size_t end) { return EndsToken(text, end) ? end : kNone; };
  if (IsDigit(text[pos])) {
    const size_t a = DigitRun(text, pos);
    if (a > 4) return kNone;
    size_t p = pos + a;
    if (p < text.size() && (text[p] == '-' || text[p] == '/' || text[p] == '.')) {
      const char sep = text[p];
      const size_t b = DigitRun(text, p + 1);
      const size_t b_at = p + 1;
      p = b_at + b;
      if (b >= 1 && b <= 2 && p < text.size() && text[p] == sep) {
        const size_t c = DigitRun(text, p + 1);
        const size_t c_at = p + 1;
        const int first = DigitsAt(text, pos, a), second = DigitsAt(text, b_at, b);
        const int third = c >= 1 && c <= 4 ? DigitsAt(text, c_at, c) : -1;
        if (a == 4 && c >= 1 && c <= 2) {
          if (second >= 1 && second <= 12 && third >= 1 && third <= 31) return finish(c_at + c);
        } else if (a <= 2 && (c == 2 || c == 4)) {
          const bool day_month = first >= 1 && first <= 31 && second >= 1 && second <= 12;
          const bool month_day = first >= 1 && first <= 12 && second >= 1 && second <= 31;
          if (day_month || month_day) return finish(c_at + c);
        }
      }
      return kNone;
    }
    // "12 May 1990", "12th of May, 1990", "12-May-1990"
    if (a > 2 || DigitsAt(text, pos, a) < 1 || DigitsAt(text, pos, a) > 31) return kNone;
    p = SkipOrdinal(text, pos + a);
    if (p >= text.size() || (text[p] != ' ' && text[p] != '-')) return kNone;
    const size_t month_at = p + 1;
    const size_t letters = LetterRun(text, month_at);
    if (MonthNamed(text.substr(month_at, letters)) == 0) return kNone;
    p = month_at + letters;
    if (p < text.size() && (text[p] == '.' || text[p] == ',')) ++p;
    if (p >= text.size() || (text[p] != ' ' && text[p] != '-')) return kNone;
    ++p;
    return DigitRun(text, p) == 4 ? finish(p + 4) : kNone;
  }
  // "May 12, 1990", "Sept. 3rd 1990"
  const size_t letters = LetterRun(text, pos);
  if (MonthNamed(text.substr(pos, letters)) == 0) return kNone;
  size_t p = pos + letters;
  if (p < text.size() && text[p] == '.') ++p;
  if (p >= text.size() || text[p] != ' ') return kNone;
  ++p;
  const size_t day_digits = DigitRun(text, p);
  if (day_digits < 1 || day_digits > 2 || DigitsAt(text, p, day_digits) < 1 ||
      DigitsAt(text, p, day_digits) > 31) {
    return kNone;
  }
  p = SkipOrdinal(text, p + day_digits);
  if (p < text.size() && text[p] == ',') ++p;
  if (p >= text.size() || text[p] != ' ') return kNone;
  ++p;
  return DigitRun(text, p) == 4 ? finish(p + 4) : kNone;
}

bool DateStartsAt(std::string_view text, size_t pos) {
  if (pos >= text.size() || !(IsDigit(text[pos]) || IsLetter(text[pos]))) return false;
  return (pos == 0 || !IsWordByte(text[pos - 1])) && DateEndingAt(text, pos) != kNone;
}

// A word or phrase that announces a date of birth. "DOB" is also a drug
// (2,5-dimethoxy-4-bromoamphetamine), so the abbreviations count only when a date follows them
// directly ("DOB: 12/05/1990"), not when one is merely nearby ("DOB blotters seized 2026-03-14").
struct BirthWord {
  std::string_view phrase;  // lower case; a space also matches '-' and '_'
  size_t look_ahead;        // how far after the phrase the date may start
  size_t look_behind;       // how far before the phrase the date may start ("12/05/1990 (DOB)")
  bool date_directly_after;
};

constexpr BirthWord kBirthWords[] = {
    {"date of birth", 32, 24, false},
    {"birth date", 32, 24, false},
    {"birthdate", 32, 24, false},
    {"birthday", 32, 0, false},
    {"born", 32, 0, false},
    {"d.o.b", 0, 0, true},
    {"dob", 0, 0, true},
};

bool PhraseAt(std::string_view text, size_t pos, std::string_view phrase) {
  if (pos + phrase.size() > text.size()) return false;
  if (pos > 0 && IsWordByte(text[pos - 1])) return false;
  for (size_t k = 0; k < phrase.size(); ++k) {
    const char c = Lower(text[pos + k]);
    const bool match = phrase[k] == ' ' ? (c == ' ' || c == '-' || c == '_') : c == phrase[k];
    if (!match) return false;
  }
  const size_t end = pos + phrase.size();
  return end >= text.size() || !IsWordByte(text[end]);
}

size_t FindDateOfBirth(std::string_view text) {
  for (size_t i = 0; i < text.size(); ++i) {
    // Every phrase starts a word with 'b' or 'd': a cheap test that skips most positions.
    const char first = Lower(text[i]);
    if ((first != 'b' && first != 'd') || (i > 0 && IsWordByte(text[i - 1]))) continue;
    for (const BirthWord& word : kBirthWords) {
      if (!PhraseAt(text, i, word.phrase)) continue;
      const size_t end = i + word.phrase.size();
      if (word.date_directly_after) {
        size_t p = end;
        while (p < text.size() && p - end < 4 &&
               (text[p] == ' ' || text[p] == ':' || text[p] == '.' || text[p] == '-' ||
                text[p] == '=' || text[p] == '\t')) {
          ++p;
        }
        if (DateStartsAt(text, p)) return i;
        continue;
      }
      for (size_t p = i >= word.look_behind ? i - word.look_behind : 0; p < i; ++p) {
        if (DateStartsAt(text, p) && DateEndingAt(text, p) <= i) return p;
      }
      for (size_t p = end; p < text.size() && p - end < word.look_ahead; ++p) {
        if (DateStartsAt(text, p)) return i;
      }
    }
  }
  return kNone;
}

// --- field names --------------------------------------------------------------------------

// "dateOfBirth", "date_of_birth", "DATE-OF-BIRTH", "patientDOB", "address2" -> lower-case words.
std::vector<std::string> Words(std::string_view name) {
  std::vector<std::string> words;
  std::string word;
  const auto flush = [&] {
    if (!word.empty()) words.push_back(AsciiLower(word));
    word.clear();
  };
  for (size_t k = 0; k < name.size(); ++k) {
    const char c = name[k];
    if (!IsLetter(c) && !IsDigit(c)) {
      flush();
      continue;
    }
    if (!word.empty()) {
      const char previous = word.back();
      const bool lower_to_upper = IsLower(previous) && IsUpper(c);
      const bool acronym_end =
          IsUpper(previous) && IsUpper(c) && k + 1 < name.size() && IsLower(name[k + 1]);
      const bool letter_digit = IsDigit(previous) != IsDigit(c);
      if (lower_to_upper || acronym_end || letter_digit) flush();
    }
    word.push_back(c);
  }
  flush();
  return words;
}

}  // namespace

std::optional<std::string> FindPersonalData(std::string_view text) {
  // Ties go to the first in this list: "012-34-5678" is an SSN before it is a telephone.
  const std::array<std::pair<size_t, std::string_view>, 6> found = {{
      {FindEmail(text), "an e-mail address"},
      {FindUsSocialSecurityNumber(text), "a US social security number"},
      {FindUkNationalInsuranceNumber(text), "a UK National Insurance number"},
      {FindChineseResidentIdentityNumber(text), "a Chinese resident identity number"},
      {FindDateOfBirth(text), "a date of birth"},
      {FindTelephoneNumber(text), "a telephone number"},
  }};
  const auto* first = std::min_element(
      found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  if (first->first == kNone) return std::nullopt;
  return std::string(first->second);
}

bool IsPersonIdentifyingField(std::string_view field_name) {
  // Whole words that are identifiers on their own but too short to search for inside others.
  static constexpr std::string_view kShortWords[] = {"dob", "ssn", "mrn", "nino",    "zip",
                                                     "tel", "fax", "ip",  "initials"};
  // Searched for in the words run together, so "e_mail", "eMail" and "email" all match.
  static constexpr std::string_view kFragments[] = {
      "patient",        "firstname",       "lastname",     "surname",
      "fullname",       "givenname",       "familyname",   "forename",
      "middlename",     "maidenname",      "username",     "dateofbirth",
      "birthdate",      "birthday",        "birthplace",   "placeofbirth",
      "address",        "street",          "postcode",     "postalcode",
      "zipcode",        "email",           "phone",        "mobile",
      "contact",        "passport",        "nationalid",   "nationalidentity",
      "identitycard",   "identitynumber",  "idcard",       "nationalinsurance",
      "socialsecurity", "socialinsurance", "taxpayer",     "medicalrecord",
      "healthrecord",   "driverlicen",     "driverslicen", "drivinglicen",
      "licenceplate",   "licenseplate",    "numberplate",  "ipaddress"};
  // A name or identifier of someone: "victim_name", "suspectId", "customer_number".
  static constexpr std::string_view kPeople[] = {
      "victim", "decedent", "deceased",  "suspect", "offender",  "defendant", "arrestee",
      "person", "courier",  "consignee", "sender",  "recipient", "customer",  "buyer",
      "owner",  "user",     "driver",    "vendor",  "seller"};
  static constexpr std::string_view kNaming[] = {"name", "id", "number"};

  const std::vector<std::string> words = Words(field_name);
  std::string joined;
  for (const auto& w : words) joined += w;
  const auto has = [&](const auto& list, std::string_view w) {
    return std::find(std::begin(list), std::end(list), w) != std::end(list);
  };
  for (const auto& w : words) {
    if (has(kShortWords, w)) return true;
  }
  for (const std::string_view fragment : kFragments) {
    if (joined.find(fragment) != std::string::npos) return true;
  }
  const bool names_someone =
      std::any_of(words.begin(), words.end(), [&](const auto& w) { return has(kPeople, w); });
  const bool is_identifier =
      std::any_of(words.begin(), words.end(), [&](const auto& w) { return has(kNaming, w); });
  return names_someone && is_identifier;
}

}  // namespace sentinel::reports
