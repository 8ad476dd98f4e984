#include "core/spectra/compound_class.h"

#include <algorithm>
#include <map>
#include <utility>

#include <fmt/format.h>

namespace sentinel::spectra {
namespace {

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsAsciiAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = AsciiLower(c);
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

// Lower-cases a pattern outside escapes ("\\D" keeps its meaning, "A-Z" becomes "a-z").
std::string FoldCase(std::string_view pattern) {
  std::string out(pattern);
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == '\\') {
      ++i;
    } else {
      out[i] = AsciiLower(out[i]);
    }
  }
  return out;
}

// Index just past the group or character class that starts at `i` (p[i] is '(' or '['), or
// p.size() when it is unterminated (std::regex then rejects the pattern).
std::size_t SkipBracketed(std::string_view p, std::size_t i) {
  if (p[i] == '[') {
    std::size_t j = i + 1;
    if (j < p.size() && p[j] == '^') ++j;
    if (j < p.size() && p[j] == ']') ++j;  // a leading ']' is a member, not the end
    for (; j < p.size(); ++j) {
      if (p[j] == '\\') {
        ++j;
      } else if (p[j] == ']') {
        return j + 1;
      }
    }
    return p.size();
  }
  int depth = 0;
  for (std::size_t j = i; j < p.size(); ++j) {
    if (p[j] == '\\') {
      ++j;
    } else if (p[j] == '[') {
      j = SkipBracketed(p, j) - 1;
    } else if (p[j] == '(') {
      ++depth;
    } else if (p[j] == ')') {
      if (--depth == 0) return j + 1;
    }
  }
  return p.size();
}

// The top-level alternatives of a pattern: "a|(b|c)|d" -> "a", "(b|c)", "d".
std::vector<std::string_view> SplitAlternatives(std::string_view p) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (std::size_t i = 0; i < p.size();) {
    if (p[i] == '\\') {
      i += 2;
    } else if (p[i] == '(' || p[i] == '[') {
      i = SkipBracketed(p, i);
    } else if (p[i] == '|') {
      out.push_back(p.substr(start, i - start));
      start = ++i;
    } else {
      ++i;
    }
  }
  out.push_back(p.substr(start));
  return out;
}

// Literals of which every match of a pattern contains at least one, lower-cased; empty when
// no such set is known. A run of plain characters gives a set of one; a group that must occur
// gives the union of the sets of its alternatives, so "^(safrole|piperonal)$" is prefiltered
// by {"safrole", "piperonal"}. Conservative: classes, wildcards, anchors and escapes such as
// \d end a run, and an atom or group that may be absent contributes nothing.
using LiteralSet = std::vector<std::string>;

std::size_t ShortestLength(const LiteralSet& set) {
  std::size_t n = set.empty() ? 0 : set.front().size();
  for (const std::string& s : set) n = std::min(n, s.size());
  return n;
}

// Prefers sets whose every member is long (fewer false candidates), then smaller sets.
bool BetterSet(const LiteralSet& a, const LiteralSet& b) {
  const std::size_t la = ShortestLength(a);
  const std::size_t lb = ShortestLength(b);
  if (la != lb) return la > lb;
  return !a.empty() && (b.empty() || a.size() < b.size());
}

LiteralSet RequiredLiterals(std::string_view p, int depth = 0);

LiteralSet GroupLiterals(std::string_view inner, int depth) {
  LiteralSet all;
  for (const std::string_view alternative : SplitAlternatives(inner)) {
    LiteralSet set = RequiredLiterals(alternative, depth + 1);
    if (ShortestLength(set) < 2) return {};
    all.insert(all.end(), set.begin(), set.end());
  }
  return all;
}

LiteralSet RequiredLiterals(std::string_view p, int depth) {
  LiteralSet best;
  std::string run;
  const auto consider = [&](LiteralSet set) {
    if (BetterSet(set, best)) best = std::move(set);
  };
  const auto flush = [&] {
    if (!run.empty()) consider({run});
    run.clear();
  };
  const auto optional_follows = [&](std::size_t i) {
    return i < p.size() &&
           (p[i] == '?' || p[i] == '*' || (p[i] == '{' && i + 1 < p.size() && p[i + 1] == '0'));
  };
  std::size_t i = 0;
  while (i < p.size()) {
    char atom = 0;
    const char c = p[i];
    if (c == '\\') {
      if (i + 1 >= p.size() || IsAsciiAlnum(p[i + 1])) {  // \d \w \b ... are not literals
        flush();
        i += 2;
        continue;
      }
      atom = p[i + 1];
      i += 2;
    } else if (c == '(') {
      flush();
      const std::size_t end = SkipBracketed(p, i);
      if (!optional_follows(end) && depth < 8 && end <= p.size() && end >= i + 2) {
        std::string_view inner = p.substr(i + 1, end - i - 2);
        const bool lookaround = inner.size() >= 2 && inner[0] == '?' && inner[1] != ':';
        if (inner.size() >= 2 && inner[0] == '?' && inner[1] == ':') inner.remove_prefix(2);
        if (!lookaround) consider(GroupLiterals(inner, depth));
      }
      i = end;
      continue;
    } else if (c == '[') {
      flush();
      i = SkipBracketed(p, i);
      continue;
    } else if (c == '{') {
      flush();
      while (i < p.size() && p[i] != '}') ++i;
      ++i;
      continue;
    } else if (c == '.' || c == '^' || c == '$' || c == '?' || c == '*' || c == '+' || c == '|' ||
               c == ')') {
      flush();
      ++i;
      continue;
    } else {
      atom = c;
      ++i;
    }
    if (optional_follows(i)) {
      flush();  // the atom may be absent
    } else if (i < p.size() && (p[i] == '+' || p[i] == '{')) {
      run += AsciiLower(atom);  // present, but what follows may repeat it
      flush();
    } else {
      run += AsciiLower(atom);
    }
  }
  flush();
  return best;
}

// Bucket key of a literal or text position: the first two bytes for two-byte literals, a hash
// of the first three otherwise (buckets of three-byte keys are far smaller than of two).
std::size_t BucketKey(char a, char b) {
  return (static_cast<std::size_t>(static_cast<unsigned char>(a)) << 8) |
         static_cast<unsigned char>(b);
}
std::size_t BucketKey(char a, char b, char c) {
  const std::size_t h = BucketKey(a, b) * 131 + static_cast<unsigned char>(c);
  return 65536 + (h * 2654435761u >> 7) % 65536;
}
constexpr std::size_t kBuckets = std::size_t{2} * 65536;

}  // namespace

Result<CompoundClasses> CompoundClasses::Parse(std::string_view tsv_text, std::string_view source) {
  CompoundClasses out;
  std::map<std::string, std::size_t, std::less<>> class_index;
  std::map<std::string, std::size_t, std::less<>> literal_index;
  std::map<std::string, std::size_t, std::less<>> first_exclude_line;

  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos <= tsv_text.size()) {
    const std::size_t eol = std::min(tsv_text.find('\n', pos), tsv_text.size());
    const std::string_view line = Trim(tsv_text.substr(pos, eol - pos));
    pos = eol + 1;
    ++line_no;
    if (line.empty() || line.front() == '#') continue;

    std::vector<std::string_view> fields;
    for (std::size_t start = 0;;) {
      const std::size_t tab = line.find('\t', start);
      fields.push_back(line.substr(start, tab == std::string_view::npos ? tab : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    const auto error = [&](std::string_view what) {
      return Status::InvalidArgument(fmt::format("{}:{}: {}", source, line_no, what));
    };
    if (fields.size() < 3 || fields.size() > 4) {
      return error(
          fmt::format("expected 3 or 4 tab-separated fields (class, action, pattern"
                      "[, note]), found {}",
                      fields.size()));
    }
    const std::string_view class_name = Trim(fields[0]);
    const std::string_view action = Trim(fields[1]);
    const std::string_view pattern = fields[2];
    if (class_name.empty()) return error("empty class name");
    if (action != "match" && action != "exclude") {
      return error(fmt::format("action must be \"match\" or \"exclude\", not \"{}\"", action));
    }
    if (pattern.empty()) return error("empty pattern");

    auto [it, inserted] = class_index.try_emplace(std::string(class_name), out.classes_.size());
    if (inserted) out.classes_.push_back(Class{std::string(class_name), 0, 0});
    Class& cls = out.classes_[it->second];
    if (action == "exclude") first_exclude_line.try_emplace(std::string(class_name), line_no);

    for (const std::string_view alternative : SplitAlternatives(pattern)) {
      if (alternative.empty()) {
        return error(
            "pattern has an empty alternative (\"||\" or a leading or trailing \"|\"), which "
            "matches every name");
      }
      Branch branch;
      branch.anchored = alternative.front() == '^';
      branch.cls = static_cast<std::uint32_t>(it->second);
      branch.exclude = action == "exclude";
      try {
        // Texts are lower-cased before matching, so a case-folded pattern matches them like
        // the pattern with icase would, without std::regex folding every character it reads.
        branch.re = std::regex(FoldCase(alternative), std::regex::ECMAScript | std::regex::nosubs);
      } catch (const std::regex_error& e) {
        return error(fmt::format("bad regular expression \"{}\": {}", alternative, e.what()));
      }
      const LiteralSet literals = RequiredLiterals(alternative);
      const auto id = static_cast<std::uint32_t>(out.branches_.size());
      if (ShortestLength(literals) < 2) {  // too short to prefilter
        out.unfiltered_branches_.push_back(id);
      } else {
        for (const std::string& literal : literals) {
          auto [lit, new_literal] = literal_index.try_emplace(literal, out.literals_.size());
          if (new_literal) {
            out.literals_.push_back(literal);
            out.literal_branches_.emplace_back();
          }
          out.literal_branches_[lit->second].push_back(id);
        }
      }
      out.branches_.push_back(std::move(branch));
      ++(action == "match" ? cls.match_branches : cls.exclude_branches);
    }
    ++out.rule_count_;
  }
  if (out.rule_count_ == 0) {
    return Status::InvalidArgument(fmt::format("{}: no rules", source));
  }
  for (const Class& cls : out.classes_) {
    if (cls.match_branches == 0) {
      return Status::InvalidArgument(
          fmt::format("{}:{}: class \"{}\" has exclude rules but no match rule", source,
                      first_exclude_line.at(cls.name), cls.name));
    }
  }

  // Bucket the literals by their first bytes (a counting sort).
  const auto key_of = [](const std::string& lit) {
    return lit.size() == 2 ? BucketKey(lit[0], lit[1]) : BucketKey(lit[0], lit[1], lit[2]);
  };
  out.bucket_start_.assign(kBuckets + 1, 0);
  for (const std::string& lit : out.literals_) ++out.bucket_start_[key_of(lit) + 1];
  for (std::size_t b = 1; b < out.bucket_start_.size(); ++b) {
    out.bucket_start_[b] += out.bucket_start_[b - 1];
  }
  out.bucket_items_.resize(out.literals_.size());
  std::vector<std::uint32_t> fill(out.bucket_start_.begin(), out.bucket_start_.end() - 1);
  for (std::size_t l = 0; l < out.literals_.size(); ++l) {
    out.bucket_items_[fill[key_of(out.literals_[l])]++] = static_cast<std::uint32_t>(l);
  }
  return out;
}

void CompoundClasses::FindCandidates(std::string_view lower,
                                     std::vector<std::uint32_t>& ids) const {
  ids.assign(unfiltered_branches_.begin(), unfiltered_branches_.end());
  const auto check_bucket = [&](std::size_t i, std::size_t key) {
    for (std::uint32_t k = bucket_start_[key]; k < bucket_start_[key + 1]; ++k) {
      const std::string& lit = literals_[bucket_items_[k]];
      if (lit.size() <= lower.size() - i &&
          std::char_traits<char>::compare(lower.data() + i, lit.data(), lit.size()) == 0) {
        const auto& branches = literal_branches_[bucket_items_[k]];
        ids.insert(ids.end(), branches.begin(), branches.end());
      }
    }
  };
  for (std::size_t i = 0; i + 1 < lower.size(); ++i) {
    check_bucket(i, BucketKey(lower[i], lower[i + 1]));
    if (i + 2 < lower.size()) check_bucket(i, BucketKey(lower[i], lower[i + 1], lower[i + 2]));
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
}

std::optional<std::string> CompoundClasses::Classify(std::string_view name,
                                                     std::span<const std::string> synonyms) const {
  std::vector<std::string> texts;
  texts.reserve(synonyms.size() + 1);
  texts.push_back(Lower(name));
  for (const std::string& s : synonyms) texts.push_back(Lower(s));

  // The branches worth trying, per text, ordered by class priority.
  struct Candidate {
    std::uint32_t cls;
    std::uint32_t text;
    bool exclude;
    std::uint32_t branch;
    // clang-tidy 14 misreads the defaulted comparison as a literal 0 used as a pointer.
    // NOLINTNEXTLINE(modernize-use-nullptr)
    auto operator<=>(const Candidate&) const = default;
  };
  std::vector<Candidate> candidates;
  std::vector<std::uint32_t> ids;
  for (std::size_t t = 0; t < texts.size(); ++t) {
    FindCandidates(texts[t], ids);
    for (const std::uint32_t id : ids) {
      candidates.push_back(
          {branches_[id].cls, static_cast<std::uint32_t>(t), branches_[id].exclude, id});
    }
  }
  std::sort(candidates.begin(), candidates.end());

  const auto matches = [&](const Candidate& c) {
    const Branch& b = branches_[c.branch];
    // A branch anchored at the start cannot match elsewhere; saying so spares std::regex a
    // scan of every position of long systematic names.
    return std::regex_search(
        texts[c.text], b.re,
        b.anchored ? std::regex_constants::match_continuous : std::regex_constants::match_default);
  };
  // Candidates of one (class, text) pair: match branches first, then exclude branches.
  for (std::size_t i = 0; i < candidates.size();) {
    std::size_t end = i;
    while (end < candidates.size() && candidates[end].cls == candidates[i].cls &&
           candidates[end].text == candidates[i].text) {
      ++end;
    }
    bool matched = false;
    std::size_t k = i;
    for (; k < end && !candidates[k].exclude; ++k) {
      if (!matched && matches(candidates[k])) matched = true;
    }
    if (matched && std::none_of(candidates.begin() + static_cast<std::ptrdiff_t>(k),
                                candidates.begin() + static_cast<std::ptrdiff_t>(end), matches)) {
      return classes_[candidates[i].cls].name;
    }
    i = end;
  }
  return std::nullopt;
}

std::vector<std::string> CompoundClasses::ClassNames() const {
  std::vector<std::string> names;
  names.reserve(classes_.size());
  for (const Class& cls : classes_) names.push_back(cls.name);
  return names;
}

namespace {

// Deuterium as an element symbol of the formula ("C22H23D5N2O"), or an isotope given in
// brackets ("C5[13C]H...").
bool FormulaIsLabelled(std::string_view formula) {
  for (std::size_t i = 0; i < formula.size(); ++i) {
    if (formula[i] == '[' && i + 1 < formula.size() && IsAsciiDigit(formula[i + 1])) return true;
    if (formula[i] == 'D' &&
        (i + 1 == formula.size() || !(formula[i + 1] >= 'a' && formula[i + 1] <= 'z'))) {
      return true;
    }
  }
  return false;
}

// "-d5", "-D11", "-13C6", "-15N2" ending a word; "13C6-" starting one; "[13C" / "(13C".
bool NameIsLabelled(std::string_view text) {
  const std::string s = Lower(text);
  const auto word_ends_at = [&](std::size_t j) { return j >= s.size() || !IsAsciiAlnum(s[j]); };
  const auto heavy_isotope_at = [&](std::size_t j) {
    return s.compare(j, 3, "13c") == 0 || s.compare(j, 3, "15n") == 0 ||
           s.compare(j, 3, "18o") == 0;
  };
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool after_word = i > 0 && (IsAsciiAlnum(s[i - 1]) || s[i - 1] == ')');
    if (s[i] == '-' && after_word && i + 2 < s.size() && s[i + 1] == 'd' &&
        IsAsciiDigit(s[i + 2])) {
      std::size_t j = i + 2;
      while (j < s.size() && IsAsciiDigit(s[j])) ++j;
      if (word_ends_at(j)) return true;
    }
    if (s[i] == '-' && after_word && heavy_isotope_at(i + 1)) {
      std::size_t j = i + 4;
      while (j < s.size() && IsAsciiDigit(s[j])) ++j;
      if (word_ends_at(j)) return true;
    }
    const bool word_start = i == 0 || s[i - 1] == ' ' || s[i - 1] == '(' || s[i - 1] == '[';
    if (word_start && heavy_isotope_at(i)) {
      std::size_t j = i + 3;
      while (j < s.size() && IsAsciiDigit(s[j])) ++j;
      if (j < s.size() && (s[j] == '-' || s[j] == ']' || s[j] == ')')) return true;
    }
  }
  return false;
}

}  // namespace

bool IsIsotopeLabelled(const SpectrumRecord& r) {
  if (FormulaIsLabelled(r.formula)) return true;
  if (NameIsLabelled(r.name)) return true;
  return std::any_of(r.synonyms.begin(), r.synonyms.end(),
                     [](const std::string& s) { return NameIsLabelled(s); });
}

}  // namespace sentinel::spectra
