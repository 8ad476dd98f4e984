#include "core/reports/report.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <iterator>
#include <span>
#include <utility>

#include "core/reports/personal_data.h"

namespace sentinel::reports {
namespace {

using nlohmann::json;
using std::size_t;

constexpr std::string_view kKindNames[] = {"seizure", "toxicology", "wastewater",
                                           "precursor_incident", "online_listing"};
constexpr std::string_view kDistributionNames[] = {"organisation", "national", "trusted_group",
                                                   "everyone"};

// A body with thousands of mistakes gets an answer of bounded size: enough to fix a real
// submission, not an amplifier for a hostile one.
constexpr size_t kMaxErrors = 256;

constexpr std::string_view kForms[] = {"powder",  "tablet", "capsule", "liquid",
                                       "blotter", "herbal", "paper",   "other"};
constexpr std::string_view kUnits[] = {"mg", "g", "kg", "ml", "l", "units"};
constexpr std::string_view kRoles[] = {"main", "adulterant", "diluent", "co_occurring"};
constexpr std::string_view kOutcomes[] = {"fatal", "non_fatal"};
constexpr std::string_view kSettings[] = {"emergency_department", "hospital",  "medical_examiner",
                                          "poison_centre",        "ambulance", "other"};
constexpr std::string_view kAgeBands[] = {"0-14",  "15-24", "25-34", "35-44",
                                          "45-54", "55-64", "65+"};
constexpr std::string_view kSexes[] = {"female", "male", "unknown"};
constexpr std::string_view kStatuses[] = {"suspicious", "stopped", "seized"};

// ISO 3166-1 alpha-2, the 249 officially assigned codes, sorted.
constexpr std::string_view kCountries[] = {
    "AD", "AE", "AF", "AG", "AI", "AL", "AM", "AO", "AQ", "AR", "AS", "AT", "AU", "AW", "AX", "AZ",
    "BA", "BB", "BD", "BE", "BF", "BG", "BH", "BI", "BJ", "BL", "BM", "BN", "BO", "BQ", "BR", "BS",
    "BT", "BV", "BW", "BY", "BZ", "CA", "CC", "CD", "CF", "CG", "CH", "CI", "CK", "CL", "CM", "CN",
    "CO", "CR", "CU", "CV", "CW", "CX", "CY", "CZ", "DE", "DJ", "DK", "DM", "DO", "DZ", "EC", "EE",
    "EG", "EH", "ER", "ES", "ET", "FI", "FJ", "FK", "FM", "FO", "FR", "GA", "GB", "GD", "GE", "GF",
    "GG", "GH", "GI", "GL", "GM", "GN", "GP", "GQ", "GR", "GS", "GT", "GU", "GW", "GY", "HK", "HM",
    "HN", "HR", "HT", "HU", "ID", "IE", "IL", "IM", "IN", "IO", "IQ", "IR", "IS", "IT", "JE", "JM",
    "JO", "JP", "KE", "KG", "KH", "KI", "KM", "KN", "KP", "KR", "KW", "KY", "KZ", "LA", "LB", "LC",
    "LI", "LK", "LR", "LS", "LT", "LU", "LV", "LY", "MA", "MC", "MD", "ME", "MF", "MG", "MH", "MK",
    "ML", "MM", "MN", "MO", "MP", "MQ", "MR", "MS", "MT", "MU", "MV", "MW", "MX", "MY", "MZ", "NA",
    "NC", "NE", "NF", "NG", "NI", "NL", "NO", "NP", "NR", "NU", "NZ", "OM", "PA", "PE", "PF", "PG",
    "PH", "PK", "PL", "PM", "PN", "PR", "PS", "PT", "PW", "PY", "QA", "RE", "RO", "RS", "RU", "RW",
    "SA", "SB", "SC", "SD", "SE", "SG", "SH", "SI", "SJ", "SK", "SL", "SM", "SN", "SO", "SR", "SS",
    "ST", "SV", "SX", "SY", "SZ", "TC", "TD", "TF", "TG", "TH", "TJ", "TK", "TL", "TM", "TN", "TO",
    "TR", "TT", "TV", "TW", "TZ", "UA", "UG", "UM", "US", "UY", "UZ", "VA", "VC", "VE", "VG", "VI",
    "VN", "VU", "WF", "WS", "YE", "YT", "ZA", "ZM", "ZW"};
static_assert(std::size(kCountries) == 249);

// The fields of each object of the schema.
constexpr std::string_view kEnvelopeFields[] = {
    "kind", "idempotency_key", "distribution", "date", "place", "notes", "source_reference"};
constexpr std::string_view kSeizureFields[] = {"substances", "form", "quantity", "method"};
constexpr std::string_view kToxicologyFields[] = {"substances", "outcome", "setting", "age_band",
                                                  "sex"};
constexpr std::string_view kWastewaterFields[] = {"site", "period", "analyte",
                                                  "load_mg_per_1000_per_day"};
constexpr std::string_view kPrecursorFields[] = {"chemical", "quantity", "route", "status"};
constexpr std::string_view kListingFields[] = {"platform", "substance", "price", "quantity",
                                               "vendor_handle"};
constexpr std::string_view kPlaceFields[] = {"country", "subdivision", "lat", "lon"};
constexpr std::string_view kQuantityFields[] = {"value", "unit"};
constexpr std::string_view kPriceFields[] = {"amount", "currency"};
constexpr std::string_view kPeriodFields[] = {"start", "end"};
constexpr std::string_view kRouteFields[] = {"origin", "transit", "destination"};
constexpr std::string_view kSubstanceFields[] = {"name", "smiles", "inchi", "spectrum"};
constexpr std::string_view kSeizureSubstanceFields[] = {"name",     "smiles", "inchi",
                                                        "spectrum", "role",   "purity_percent"};
constexpr std::string_view kToxicologySubstanceFields[] = {"name", "smiles", "inchi", "spectrum",
                                                           "role"};

std::span<const std::string_view> KindFields(Kind kind) {
  switch (kind) {
    case Kind::kSeizure:
      return kSeizureFields;
    case Kind::kToxicology:
      return kToxicologyFields;
    case Kind::kWastewater:
      return kWastewaterFields;
    case Kind::kPrecursorIncident:
      return kPrecursorFields;
    case Kind::kOnlineListing:
      return kListingFields;
  }
  return {};
}

bool Contains(std::span<const std::string_view> list, std::string_view value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

// "a seizure report", "an online_listing report"
std::string ReportOfKind(Kind kind) {
  const std::string_view name = KindName(kind);
  const bool vowel =
      !name.empty() && std::string_view("aeiou").find(name[0]) != std::string_view::npos;
  return (vowel ? "an " : "a ") + std::string(name) + " report";
}

std::string Joined(std::span<const std::string_view> list) {
  std::string out;
  for (const std::string_view item : list) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

// --- paths --------------------------------------------------------------------------------

// JSON text for any string, never throwing: invalid UTF-8 becomes U+FFFD.
std::string Quoted(std::string_view s) {
  return json(std::string(s)).dump(-1, ' ', false, json::error_handler_t::replace);
}

bool IsIdentifier(std::string_view key) {
  if (key.empty() || (key[0] >= '0' && key[0] <= '9')) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// A JSON path ("$.substances[1].smiles"), kept as steps so errors can be put in document order.
class Path {
 public:
  Path Key(std::string_view key) const {
    Path child = *this;
    child.steps_.push_back({std::string(key), 0, false});
    return child;
  }
  Path Index(size_t index) const {
    Path child = *this;
    child.steps_.push_back({"", index, true});
    return child;
  }
  std::string ToString() const {
    std::string out = "$";
    for (const Step& step : steps_) {
      if (step.is_index) {
        out += "[" + std::to_string(step.index) + "]";
      } else if (IsIdentifier(step.key)) {
        out += "." + step.key;
      } else {
        out += "[" + Quoted(step.key) + "]";
      }
    }
    return out;
  }
  // Document order: a parent before its children, object members in the order nlohmann::json
  // iterates them (by key), array elements by index. A missing field sorts where it would be.
  bool operator<(const Path& other) const {
    return std::lexicographical_compare(steps_.begin(), steps_.end(), other.steps_.begin(),
                                        other.steps_.end(), [](const Step& a, const Step& b) {
                                          if (a.is_index != b.is_index) return a.is_index;
                                          return a.is_index ? a.index < b.index : a.key < b.key;
                                        });
  }

 private:
  struct Step {
    std::string key;
    size_t index;
    bool is_index;
  };
  std::vector<Step> steps_;
};

// A field name for a message: printable, and short even when the submitted key is not.
std::string ShownKey(std::string_view key) {
  constexpr size_t kMaxShown = 64;
  std::string quoted = Quoted(key.substr(0, kMaxShown));
  quoted = quoted.substr(1, quoted.size() - 2);
  return "'" + quoted + (key.size() > kMaxShown ? "...'" : "'");
}

std::string TypeName(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float:
      return "a number";
    case json::value_t::string:
      return "a string";
    case json::value_t::array:
      return "an array";
    case json::value_t::object:
      return "an object";
    default:
      return "a value that is not JSON";
  }
}

// Code points in valid UTF-8, or nullopt.
std::optional<size_t> Utf8Length(std::string_view s) {
  size_t count = 0;
  for (size_t i = 0; i < s.size(); ++count) {
    const auto lead = static_cast<unsigned char>(s[i]);
    size_t length = 0;
    unsigned code_point = 0;
    if (lead < 0x80) {
      length = 1;
      code_point = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2;
      code_point = lead & 0x1Fu;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3;
      code_point = lead & 0x0Fu;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4;
      code_point = lead & 0x07u;
    } else {
      return std::nullopt;
    }
    if (i + length > s.size()) return std::nullopt;
    for (size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(s[i + k]);
      if ((next & 0xC0) != 0x80) return std::nullopt;
      code_point = (code_point << 6) | (next & 0x3Fu);
    }
    constexpr unsigned kSmallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kSmallest[length] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return std::nullopt;
    }
    i += length;
  }
  return count;
}

// The length of a string as dump() writes it: quoted, with '"', '\\' and control characters
// escaped. (Exact for valid UTF-8; dump() would refuse anything else.)
size_t DumpedStringSize(std::string_view s) {
  size_t size = 2;
  for (const char c : s) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t') {
      size += 2;
    } else if (byte < 0x20) {
      size += 6;  // \u00XX
    } else {
      size += 1;
    }
  }
  return size;
}

// Whether body.dump() would be longer than `limit`, computed without recursion (a hostile body
// may nest deeper than the stack allows) and without throwing on invalid UTF-8.
bool SerialisedLongerThan(const json& body, size_t limit) {
  std::vector<const json*> pending = {&body};
  size_t size = 0;
  while (!pending.empty() && size <= limit) {
    const json& value = *pending.back();
    pending.pop_back();
    if (value.is_object() || value.is_array()) {
      size += 2 + (value.empty() ? 0 : value.size() - 1);  // brackets and commas
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (value.is_object()) size += DumpedStringSize(it.key()) + 1;  // "key":
        pending.push_back(&*it);
      }
    } else if (value.is_string()) {
      size += DumpedStringSize(value.get_ref<const std::string&>());
    } else {
      size += value.dump(-1, ' ', false, json::error_handler_t::replace).size();
    }
  }
  return size > limit;
}

// The day a "YYYY-MM-DD" text names; nullopt when it is not so shaped, a day that is not ok()
// when the shape is right but the calendar has no such day ("2026-02-30").
std::optional<std::chrono::year_month_day> ParseIsoDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  int digits[8] = {};
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i == 4 || i == 7) continue;
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
    digits[n++] = s[i] - '0';
  }
  const int year = digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3];
  const auto month = static_cast<unsigned>(digits[4] * 10 + digits[5]);
  const auto day = static_cast<unsigned>(digits[6] * 10 + digits[7]);
  return std::chrono::year_month_day{std::chrono::year{year}, std::chrono::month{month},
                                     std::chrono::day{day}};
}

std::string ShownNumber(double number) {
  char text[32];
  std::snprintf(text, sizeof(text), "%g", number);
  return text;
}

// --- the validator ------------------------------------------------------------------------

enum class Need { kRequired, kOptional };
enum class JsonType { kString, kNumber, kArray, kObject };

struct TextRule {
  size_t max_chars;
  bool scan_for_personal_data = false;
};

struct NumberRange {
  double min;
  bool min_exclusive;
  std::optional<double> max;
};

struct Place {
  std::string country, subdivision;
  std::optional<double> lat, lon;
};

struct Period {
  std::chrono::sys_days start, end;
};

struct Route {
  std::string destination;
};

// Where a field is at home, for a clearer refusal than "unknown" when it is sent elsewhere.
struct Misplaced {
  std::string_view key;
  std::string why;
};

class Validator {
 public:
  Validator(const std::function<std::string(std::string_view)>& pseudonymise,
            std::chrono::sys_days today)
      : pseudonymise_(pseudonymise), today_(today) {}

  void Fail(const Path& path, std::string message) {
    errors_.push_back({path, std::move(message)});
  }
  bool failed() const { return !errors_.empty(); }

  std::vector<FieldError> TakeErrors() {
    std::stable_sort(errors_.begin(), errors_.end(),
                     [](const Pending& a, const Pending& b) { return a.path < b.path; });
    std::vector<FieldError> out;
    for (const Pending& e : errors_) {
      if (out.size() == kMaxErrors) {
        out.push_back(
            {"$", "more than " + std::to_string(kMaxErrors) + " errors; the rest are not listed"});
        break;
      }
      out.push_back({e.path.ToString(), e.message});
    }
    errors_.clear();
    return out;
  }

  const std::function<std::string(std::string_view)>& pseudonymise() const { return pseudonymise_; }

  // Every member of `object` must be one of `allowed`: the schema is closed at every level.
  void CheckFields(const json& object, const Path& path, std::span<const std::string_view> allowed,
                   std::string_view where, const std::vector<Misplaced>& misplaced = {}) {
    for (auto it = object.begin(); it != object.end(); ++it) {
      const std::string& key = it.key();
      if (Contains(allowed, key)) continue;
      const auto known = std::find_if(misplaced.begin(), misplaced.end(),
                                      [&](const Misplaced& m) { return m.key == key; });
      if (known != misplaced.end()) {
        Fail(path.Key(key), "field " + ShownKey(key) + " " + known->why);
      } else if (IsPersonIdentifyingField(key)) {
        Fail(path.Key(key), "person-identifying field " + ShownKey(key) +
                                " is not accepted: Sentinel keeps no personal data");
      } else {
        Fail(path.Key(key), "unknown field " + ShownKey(key) + " in " + std::string(where) +
                                " (the schema is closed)");
      }
    }
  }

  // The member `key` of `object`, or nullptr; a missing required member is an error.
  const json* Member(const json& object, const Path& path, std::string_view key, Need need) {
    const auto it = object.find(std::string(key));
    if (it != object.end()) return &*it;
    if (need == Need::kRequired) Fail(path.Key(key), "is required");
    return nullptr;
  }

  bool ExpectType(const json& value, const Path& path, JsonType type) {
    switch (type) {
      case JsonType::kString:
        if (value.is_string()) return true;
        Fail(path, "must be a string, not " + TypeName(value));
        return false;
      case JsonType::kNumber:
        if (value.is_number()) return true;
        Fail(path, "must be a number, not " + TypeName(value));
        return false;
      case JsonType::kArray:
        if (value.is_array()) return true;
        Fail(path, "must be an array, not " + TypeName(value));
        return false;
      case JsonType::kObject:
        if (value.is_object()) return true;
        Fail(path, "must be an object, not " + TypeName(value));
        return false;
    }
    return false;
  }

  std::optional<std::string> Text(const json& value, const Path& path, TextRule rule) {
    if (!ExpectType(value, path, JsonType::kString)) return std::nullopt;
    const auto& text = value.get_ref<const std::string&>();
    const std::optional<size_t> length = Utf8Length(text);
    if (!length) {
      Fail(path, "is not valid UTF-8");
      return std::nullopt;
    }
    if (*length == 0) {
      Fail(path, "must not be empty (leave the field out instead)");
      return std::nullopt;
    }
    if (*length > rule.max_chars) {
      Fail(path, "is longer than " + std::to_string(rule.max_chars) + " characters");
      return std::nullopt;
    }
    if (rule.scan_for_personal_data) {
      if (const auto found = FindPersonalData(text)) {
        Fail(path, "holds personal data (" + *found + "): Sentinel keeps no personal data");
        return std::nullopt;
      }
    }
    return text;
  }

  std::optional<std::string> OneOf(const json& value, const Path& path,
                                   std::span<const std::string_view> allowed) {
    if (!ExpectType(value, path, JsonType::kString)) return std::nullopt;
    const auto& text = value.get_ref<const std::string&>();
    if (!Contains(allowed, text)) {
      Fail(path, "must be one of: " + Joined(allowed));
      return std::nullopt;
    }
    return text;
  }

  std::optional<double> Number(const json& value, const Path& path, NumberRange range) {
    if (!ExpectType(value, path, JsonType::kNumber)) return std::nullopt;
    const auto number = value.get<double>();
    if (!std::isfinite(number)) {
      Fail(path, "must be a finite number");
    } else if (range.max && (number < range.min || number > *range.max)) {
      Fail(path, "must be between " + ShownNumber(range.min) + " and " + ShownNumber(*range.max));
    } else if (range.min_exclusive && number <= range.min) {
      Fail(path, "must be greater than " + ShownNumber(range.min));
    } else if (number < range.min) {
      Fail(path, "must be at least " + ShownNumber(range.min));
    } else {
      return number;
    }
    return std::nullopt;
  }

  std::optional<std::chrono::sys_days> Date(const json& value, const Path& path) {
    if (!ExpectType(value, path, JsonType::kString)) return std::nullopt;
    const auto date = ParseIsoDate(value.get_ref<const std::string&>());
    static constexpr std::chrono::sys_days kEarliest{std::chrono::year{1900} / 1 / 1};
    if (!date) {
      Fail(path, "must be a date YYYY-MM-DD");
    } else if (!date->ok()) {
      Fail(path, "is not a calendar day");
    } else if (std::chrono::sys_days{*date} < kEarliest) {
      Fail(path, "is before 1900");
    } else if (std::chrono::sys_days{*date} > today_) {
      Fail(path, "is in the future");
    } else {
      return std::chrono::sys_days{*date};
    }
    return std::nullopt;
  }

  std::optional<std::string> Country(const json& value, const Path& path) {
    if (!ExpectType(value, path, JsonType::kString)) return std::nullopt;
    const auto& code = value.get_ref<const std::string&>();
    const bool shaped = code.size() == 2 && std::all_of(code.begin(), code.end(), [](char c) {
                          return c >= 'A' && c <= 'Z';
                        });
    if (!shaped) {
      Fail(path, "must be an ISO 3166-1 alpha-2 country code (two capital letters, e.g. GB)");
      return std::nullopt;
    }
    if (!std::binary_search(std::begin(kCountries), std::end(kCountries), code)) {
      // "UK" is the one reserved code people reach for daily.
      const std::string hint = code == "UK" ? " (the United Kingdom is GB)" : "";
      Fail(path, "'" + code + "' is not an ISO 3166-1 alpha-2 country code" + hint);
      return std::nullopt;
    }
    return code;
  }

 private:
  struct Pending {
    Path path;
    std::string message;
  };
  const std::function<std::string(std::string_view)>& pseudonymise_;
  std::chrono::sys_days today_;
  std::vector<Pending> errors_;
};

// The members of one object of the schema, read through the validator.
class ObjectReader {
 public:
  ObjectReader(Validator& v, const json& object, Path path)
      : v_(v), object_(object), path_(std::move(path)) {}

  const Path& path() const { return path_; }
  Path PathOf(std::string_view key) const { return path_.Key(key); }
  bool Has(std::string_view key) const { return object_.contains(std::string(key)); }
  const json* Member(std::string_view key, Need need) {
    return v_.Member(object_, path_, key, need);
  }

  std::optional<std::string> Text(std::string_view key, Need need, TextRule rule) {
    const json* value = Member(key, need);
    return value ? v_.Text(*value, PathOf(key), rule) : std::nullopt;
  }
  std::optional<std::string> OneOf(std::string_view key, Need need,
                                   std::span<const std::string_view> allowed) {
    const json* value = Member(key, need);
    return value ? v_.OneOf(*value, PathOf(key), allowed) : std::nullopt;
  }
  std::optional<double> Number(std::string_view key, Need need, NumberRange range) {
    const json* value = Member(key, need);
    return value ? v_.Number(*value, PathOf(key), range) : std::nullopt;
  }
  std::optional<std::chrono::sys_days> Date(std::string_view key, Need need) {
    const json* value = Member(key, need);
    return value ? v_.Date(*value, PathOf(key)) : std::nullopt;
  }
  std::optional<std::string> Country(std::string_view key, Need need) {
    const json* value = Member(key, need);
    return value ? v_.Country(*value, PathOf(key)) : std::nullopt;
  }

 private:
  Validator& v_;
  const json& object_;
  Path path_;
};

// The object at `value`, its members checked against `fields`; nullopt when it is not one.
std::optional<ObjectReader> OpenObject(Validator& v, const json& value, const Path& path,
                                       std::span<const std::string_view> fields,
                                       std::string_view where,
                                       const std::vector<Misplaced>& misplaced = {}) {
  if (!v.ExpectType(value, path, JsonType::kObject)) return std::nullopt;
  v.CheckFields(value, path, fields, where, misplaced);
  return ObjectReader(v, value, path);
}

// --- the parts of a report ----------------------------------------------------------------

std::optional<Place> ReadPlace(Validator& v, const json& value, const Path& path) {
  auto r = OpenObject(v, value, path, kPlaceFields, "place");
  if (!r) return std::nullopt;
  Place place;
  bool ok = true;
  const auto country = r->Country("country", Need::kRequired);
  ok = ok && country;
  if (country) place.country = *country;
  if (const json* subdivision = r->Member("subdivision", Need::kOptional)) {
    const Path at = r->PathOf("subdivision");
    if (v.ExpectType(*subdivision, at, JsonType::kString)) {
      const auto& code = subdivision->get_ref<const std::string&>();
      const auto upper = [](char c) { return c >= 'A' && c <= 'Z'; };
      const auto upper_or_digit = [&](char c) { return upper(c) || (c >= '0' && c <= '9'); };
      const bool shaped = code.size() >= 4 && code.size() <= 6 && upper(code[0]) &&
                          upper(code[1]) && code[2] == '-' &&
                          std::all_of(code.begin() + 3, code.end(), upper_or_digit);
      if (!shaped) {
        v.Fail(at, "must be an ISO 3166-2 code such as US-OH or GB-ENG");
        ok = false;
      } else if (country && code.compare(0, 2, *country) != 0) {
        v.Fail(at, "'" + code + "' is not a subdivision of the country '" + *country + "'");
        ok = false;
      } else {
        place.subdivision = code;
      }
    } else {
      ok = false;
    }
  }
  place.lat = r->Number("lat", Need::kOptional, {-90, false, 90});
  place.lon = r->Number("lon", Need::kOptional, {-180, false, 180});
  if (r->Has("lat") != r->Has("lon")) {
    const std::string_view missing = r->Has("lat") ? "lon" : "lat";
    const std::string_view given = r->Has("lat") ? "lat" : "lon";
    v.Fail(r->PathOf(missing),
           "is required when " + std::string(given) + " is given (both or neither)");
  }
  if (r->Has("lat") && !place.lat) ok = false;
  if (r->Has("lon") && !place.lon) ok = false;
  return ok ? std::optional<Place>(place) : std::nullopt;
}

enum class SubstanceUse { kSeizure, kToxicology, kSingle };

std::optional<SubstanceMention> ReadSubstance(Validator& v, const json& value, const Path& path,
                                              SubstanceUse use, std::string_view single_role) {
  std::vector<Misplaced> misplaced;
  if (use == SubstanceUse::kToxicology) {
    misplaced.push_back({"purity_percent", "is for the substances of seizure reports only"});
  } else if (use == SubstanceUse::kSingle) {
    for (const std::string_view key : {"purity_percent", "role"}) {
      misplaced.push_back({key, "is for the substances of seizure and toxicology reports only"});
    }
  }
  std::span<const std::string_view> fields = kSubstanceFields;
  if (use == SubstanceUse::kSeizure) fields = kSeizureSubstanceFields;
  if (use == SubstanceUse::kToxicology) fields = kToxicologySubstanceFields;
  auto r = OpenObject(v, value, path, fields, "a substance reference", misplaced);
  if (!r) return std::nullopt;
  SubstanceMention mention;
  mention.path = path.ToString();
  const auto name = r->Text("name", Need::kOptional, {200});
  const auto smiles = r->Text("smiles", Need::kOptional, {4000});
  auto inchi = r->Text("inchi", Need::kOptional, {kMaxReportBytes});
  if (inchi && inchi->rfind("InChI=1S/", 0) != 0) {
    v.Fail(r->PathOf("inchi"), "must be a standard InChI (starting InChI=1S/)");
    inchi.reset();
  }
  auto spectrum = r->Text("spectrum", Need::kOptional, {kMaxReportBytes});
  if (spectrum) {
    const size_t colon = spectrum->find(':');
    const bool library_ok =
        colon != std::string::npos && colon > 0 &&
        std::all_of(spectrum->begin(), spectrum->begin() + static_cast<std::ptrdiff_t>(colon),
                    [](char c) {
                      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                             (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
                    });
    if (!library_ok || colon + 1 >= spectrum->size()) {
      v.Fail(r->PathOf("spectrum"), "must be LIBRARY:ENTRY, e.g. SWGDRUG:Fentanyl");
      spectrum.reset();
    }
  }
  if (!r->Has("name") && !r->Has("smiles") && !r->Has("inchi") && !r->Has("spectrum")) {
    v.Fail(path, "needs at least one of name, smiles, inchi, spectrum");
  }
  mention.name = name.value_or("");
  mention.smiles = smiles.value_or("");
  mention.inchi = inchi.value_or("");
  mention.spectrum = spectrum.value_or("");
  if (use == SubstanceUse::kSingle) {
    mention.role = single_role;
  } else {
    mention.role = r->OneOf("role", Need::kOptional, kRoles).value_or("main");
    if (use == SubstanceUse::kSeizure) {
      mention.purity_percent = r->Number("purity_percent", Need::kOptional, {0, false, 100});
    }
  }
  return mention;
}

std::vector<SubstanceMention> ReadSubstanceList(Validator& v, ObjectReader& report,
                                                SubstanceUse use) {
  constexpr size_t kMaxSubstances = 20;
  std::vector<SubstanceMention> out;
  const json* list = report.Member("substances", Need::kRequired);
  const Path path = report.PathOf("substances");
  if (!list || !v.ExpectType(*list, path, JsonType::kArray)) return out;
  if (list->empty() || list->size() > kMaxSubstances) {
    v.Fail(path, "must list 1 to " + std::to_string(kMaxSubstances) + " substances");
  }
  for (size_t i = 0; i < list->size(); ++i) {
    if (auto mention = ReadSubstance(v, (*list)[i], path.Index(i), use, "")) {
      out.push_back(std::move(*mention));
    }
  }
  return out;
}

std::optional<SubstanceMention> ReadSingleSubstance(Validator& v, ObjectReader& report,
                                                    std::string_view key, std::string_view role) {
  const json* value = report.Member(key, Need::kRequired);
  if (!value) return std::nullopt;
  return ReadSubstance(v, *value, report.PathOf(key), SubstanceUse::kSingle, role);
}

void ReadQuantity(Validator& v, ObjectReader& report, Need need) {
  const json* value = report.Member("quantity", need);
  if (!value) return;
  auto r = OpenObject(v, *value, report.PathOf("quantity"), kQuantityFields, "quantity");
  if (!r) return;
  r->Number("value", Need::kRequired, {0, true, std::nullopt});
  r->OneOf("unit", Need::kRequired, kUnits);
}

std::optional<Period> ReadPeriod(Validator& v, ObjectReader& report) {
  const json* value = report.Member("period", Need::kRequired);
  if (!value) return std::nullopt;
  auto r = OpenObject(v, *value, report.PathOf("period"), kPeriodFields, "period");
  if (!r) return std::nullopt;
  const auto start = r->Date("start", Need::kRequired);
  const auto end = r->Date("end", Need::kRequired);
  if (!start || !end) return std::nullopt;
  constexpr int kMaxDays = 31;
  if (*end < *start) {
    v.Fail(r->PathOf("end"), "is before the period's start");
    return std::nullopt;
  }
  if ((*end - *start).count() + 1 > kMaxDays) {
    v.Fail(r->PathOf("end"), "makes the period longer than " + std::to_string(kMaxDays) +
                                 " days (start and end included)");
    return std::nullopt;
  }
  return Period{*start, *end};
}

std::optional<Route> ReadRoute(Validator& v, ObjectReader& report) {
  const json* value = report.Member("route", Need::kRequired);
  if (!value) return std::nullopt;
  auto r = OpenObject(v, *value, report.PathOf("route"), kRouteFields, "route");
  if (!r) return std::nullopt;
  r->Country("origin", Need::kRequired);
  if (const json* transit = r->Member("transit", Need::kOptional)) {
    constexpr size_t kMaxTransit = 10;
    const Path path = r->PathOf("transit");
    if (v.ExpectType(*transit, path, JsonType::kArray)) {
      if (transit->size() > kMaxTransit) {
        v.Fail(path, "must list at most " + std::to_string(kMaxTransit) + " countries");
      }
      for (size_t i = 0; i < transit->size(); ++i) v.Country((*transit)[i], path.Index(i));
    }
  }
  const auto destination = r->Country("destination", Need::kRequired);
  if (!destination) return std::nullopt;
  return Route{*destination};
}

void ReadPrice(Validator& v, ObjectReader& report) {
  const json* value = report.Member("price", Need::kOptional);
  if (!value) return;
  auto r = OpenObject(v, *value, report.PathOf("price"), kPriceFields, "price");
  if (!r) return;
  r->Number("amount", Need::kRequired, {0, false, std::nullopt});
  // ISO 4217 by shape: the list changes every year or two (HRK, SLL, ZWL withdrawn lately) and
  // a listing seen years ago keeps the currency it was priced in.
  if (const json* currency = r->Member("currency", Need::kRequired)) {
    const Path at = r->PathOf("currency");
    if (v.ExpectType(*currency, at, JsonType::kString)) {
      const auto& code = currency->get_ref<const std::string&>();
      const bool shaped = code.size() == 3 && std::all_of(code.begin(), code.end(), [](char c) {
                            return c >= 'A' && c <= 'Z';
                          });
      if (!shaped)
        v.Fail(at, "must be an ISO 4217 currency code (three capital letters, e.g. EUR)");
    }
  }
}

}  // namespace

std::string_view KindName(Kind kind) {
  const auto index = static_cast<size_t>(kind);
  return index < std::size(kKindNames) ? kKindNames[index] : "";
}

std::optional<Kind> ParseKind(std::string_view name) {
  for (size_t i = 0; i < std::size(kKindNames); ++i) {
    if (kKindNames[i] == name) return static_cast<Kind>(i);
  }
  return std::nullopt;
}

std::string_view DistributionName(Distribution d) {
  const auto index = static_cast<size_t>(d);
  return index < std::size(kDistributionNames) ? kDistributionNames[index] : "";
}

std::optional<Distribution> ParseDistribution(std::string_view name) {
  for (size_t i = 0; i < std::size(kDistributionNames); ++i) {
    if (kDistributionNames[i] == name) return static_cast<Distribution>(i);
  }
  return std::nullopt;
}

Validation ValidateReport(const nlohmann::json& body,
                          const std::function<std::string(std::string_view)>& pseudonymise,
                          std::chrono::sys_days today) {
  Validator v(pseudonymise, today);
  Validation result;
  const Path root;
  if (!body.is_object()) {
    v.Fail(root, "a report must be a JSON object, not " + TypeName(body));
    result.errors = v.TakeErrors();
    return result;
  }
  if (SerialisedLongerThan(body, kMaxReportBytes)) {
    v.Fail(root, "the report is larger than " + std::to_string(kMaxReportBytes) + " bytes");
  }

  ObjectReader r(v, body, root);
  Report report;
  const auto kind_name = r.OneOf("kind", Need::kRequired, kKindNames);
  // Without a known kind the envelope is still checked, but nothing that depends on the kind.
  const bool kind_known = kind_name.has_value();
  if (kind_known) report.kind = ParseKind(*kind_name).value_or(Kind::kSeizure);
  const Kind kind = report.kind;

  // The closed schema at the top: the envelope and the kind's own fields. When the kind is
  // unknown, a field of any kind is left alone (it cannot be judged), the rest is refused.
  std::vector<std::string_view> fields(std::begin(kEnvelopeFields), std::end(kEnvelopeFields));
  std::vector<Misplaced> misplaced;
  for (size_t k = 0; k < std::size(kKindNames); ++k) {
    const auto other = static_cast<Kind>(k);
    for (const std::string_view field : KindFields(other)) {
      if (!kind_known || other == kind) {
        fields.push_back(field);
      } else if (!Contains(KindFields(kind), field)) {
        misplaced.push_back({field, "is not part of " + ReportOfKind(kind)});
      }
    }
  }
  if (kind_known && kind == Kind::kOnlineListing) {
    misplaced.push_back({"vendor_pseudonym", "is computed by Sentinel from vendor_handle"});
  }
  const std::string where = kind_known ? ReportOfKind(kind) : "a report";
  v.CheckFields(body, root, fields, where, misplaced);

  if (const auto key = r.Text("idempotency_key", Need::kRequired, {128})) {
    const bool allowed = std::all_of(key->begin(), key->end(), [](char c) {
      return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '_' || c == ':' || c == '-';
    });
    if (allowed) {
      report.idempotency_key = *key;
    } else {
      v.Fail(r.PathOf("idempotency_key"), "may hold only A-Z a-z 0-9 . _ : -");
    }
  }
  if (const auto distribution = r.OneOf("distribution", Need::kRequired, kDistributionNames)) {
    report.distribution = *ParseDistribution(*distribution);
  }
  const Need date_need =
      kind_known && kind != Kind::kWastewater ? Need::kRequired : Need::kOptional;
  const auto date = r.Date("date", date_need);
  if (date) report.date = *date;
  const Need place_need =
      kind_known && kind != Kind::kPrecursorIncident ? Need::kRequired : Need::kOptional;
  std::optional<Place> place;
  if (const json* value = r.Member("place", place_need)) {
    place = ReadPlace(v, *value, r.PathOf("place"));
  }
  if (place) {
    report.country = place->country;
    report.subdivision = place->subdivision;
    report.lat = place->lat;
    report.lon = place->lon;
  }
  r.Text("notes", Need::kOptional, {2000, true});
  r.Text("source_reference", Need::kOptional, {64, true});

  std::optional<std::string> vendor_handle;
  if (kind_known) {
    switch (kind) {
      case Kind::kSeizure:
        report.substances = ReadSubstanceList(v, r, SubstanceUse::kSeizure);
        report.form = r.OneOf("form", Need::kRequired, kForms).value_or("");
        ReadQuantity(v, r, Need::kOptional);
        r.Text("method", Need::kOptional, {40, true});
        break;
      case Kind::kToxicology:
        report.substances = ReadSubstanceList(v, r, SubstanceUse::kToxicology);
        r.OneOf("outcome", Need::kRequired, kOutcomes);
        r.OneOf("setting", Need::kRequired, kSettings);
        r.OneOf("age_band", Need::kOptional, kAgeBands);
        r.OneOf("sex", Need::kOptional, kSexes);
        break;
      case Kind::kWastewater: {
        r.Text("site", Need::kRequired, {64, true});
        const auto period = ReadPeriod(v, r);
        if (auto analyte = ReadSingleSubstance(v, r, "analyte", "analyte")) {
          report.substances.push_back(std::move(*analyte));
        }
        r.Number("load_mg_per_1000_per_day", Need::kRequired, {0, false, std::nullopt});
        if (period) {
          if (date && *date != period->start) {
            v.Fail(r.PathOf("date"),
                   "must equal period.start: a wastewater report's date is its period's start");
          }
          report.date = period->start;
        }
        break;
      }
      case Kind::kPrecursorIncident: {
        if (auto chemical = ReadSingleSubstance(v, r, "chemical", "chemical")) {
          report.substances.push_back(std::move(*chemical));
        }
        ReadQuantity(v, r, Need::kRequired);
        const auto route = ReadRoute(v, r);
        r.OneOf("status", Need::kRequired, kStatuses);
        if (!r.Has("place") && route) report.country = route->destination;
        break;
      }
      case Kind::kOnlineListing:
        r.Text("platform", Need::kRequired, {100, true});
        if (auto offered = ReadSingleSubstance(v, r, "substance", "offered")) {
          report.substances.push_back(std::move(*offered));
        }
        ReadPrice(v, r);
        ReadQuantity(v, r, Need::kOptional);
        // A handle is a pseudonym already and is never stored, so it is not scanned.
        vendor_handle = r.Text("vendor_handle", Need::kOptional, {200});
        if (vendor_handle && !v.pseudonymise()) {
          v.Fail(r.PathOf("vendor_handle"), "cannot be pseudonymised: no key is configured");
        }
        break;
    }
  }

  if (!v.failed()) {
    report.body = body;
    if (vendor_handle) {
      report.body.erase("vendor_handle");
      report.body["vendor_pseudonym"] = v.pseudonymise()(*vendor_handle);
    }
    result.report = std::move(report);
  }
  result.errors = v.TakeErrors();
  return result;
}

}  // namespace sentinel::reports
