#include "adapters/kb_files/kb_files.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/common/text.h"

namespace sentinel::kb_files {
namespace {

using nlohmann::json;

// Lines with their numbers, '#' comments and blank lines set aside; header "# key: value"
// lines collected.
struct Table {
  std::map<std::string, std::string> header;
  std::vector<std::pair<int, std::string>> lines;
};

Result<Table> ReadTable(std::string_view text, const std::string& name) {
  if (text.size() > kMaxFileBytes) {
    return Status::InvalidArgument(name + ": larger than " + std::to_string(kMaxFileBytes) +
                                   " bytes");
  }
  Table t;
  int number = 0;
  for (const std::string& raw : Split(text, '\n')) {
    ++number;
    std::string line = raw;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    if (line[0] == '#') {
      const std::size_t colon = line.find(':');
      if (colon != std::string::npos) {
        std::string key = Trim(std::string_view(line).substr(1, colon - 1));
        if (!key.empty() && key.find(' ') == std::string::npos) {
          t.header.emplace(key, Trim(std::string_view(line).substr(colon + 1)));
        }
      }
      continue;
    }
    t.lines.emplace_back(number, std::move(line));
  }
  return t;
}

Status RowError(const std::string& where, const std::string& record, const std::string& field,
                const std::string& what) {
  return Status::InvalidArgument(where + ": " + (record.empty() ? "" : record + ": ") + "field " +
                                 field + ": " + what);
}

}  // namespace

Result<std::vector<classify::ListRow>> ParseList(std::string_view text, const std::string& name) {
  auto table = ReadTable(text, name);
  if (!table.ok()) return table.status();
  for (const char* key : {"jurisdiction", "instrument"}) {
    if (!table->header.count(key)) {
      return Status::InvalidArgument(name + ": header line '# " + std::string(key) +
                                     ": ...' is missing");
    }
  }
  const std::string jurisdiction = table->header["jurisdiction"];
  const std::string instrument = table->header["instrument"];
  if (table->lines.empty()) return Status::InvalidArgument(name + ": no column line");
  const auto columns = Split(table->lines[0].second, '\t');
  const std::size_t n = std::size(kListColumns);
  if (columns.size() != n || !std::equal(columns.begin(), columns.end(), kListColumns)) {
    return Status::InvalidArgument(name + ":" + std::to_string(table->lines[0].first) +
                                   ": the column line must be the ten columns name ... citation");
  }
  std::vector<classify::ListRow> rows;
  for (std::size_t i = 1; i < table->lines.size(); ++i) {
    const auto& [number, line] = table->lines[i];
    const std::string where = name + ":" + std::to_string(number);
    const auto cells = Split(line, '\t');
    if (cells.size() != n) {
      return Status::InvalidArgument(where + ": " + std::to_string(cells.size()) +
                                     " cells, the table has " + std::to_string(n) + " columns");
    }
    classify::ListRow row;
    row.where = where;
    row.name = Trim(cells[0]);
    if (row.name.empty()) return RowError(where, "", "name", "empty");
    for (const auto& s : Split(cells[1], '|')) {
      if (!Trim(s).empty()) row.synonyms.push_back(Trim(s));
    }
    row.cas = Trim(cells[2]);
    row.smiles = Trim(cells[3]);
    if (row.smiles.empty()) return RowError(where, row.name, "smiles", "empty");
    row.formula = Trim(cells[4]);
    const std::string mass = Trim(cells[5]);
    auto [ptr, ec] = std::from_chars(mass.data(), mass.data() + mass.size(), row.mono_mass);
    if (ec != std::errc() || ptr != mass.data() + mass.size() || row.mono_mass <= 0) {
      return RowError(where, row.name, "mono_mass", "'" + mass + "' is not a positive number");
    }
    row.control.jurisdiction = jurisdiction;
    row.control.instrument = instrument;
    row.control.schedule = Trim(cells[6]);
    if (row.control.schedule.empty()) return RowError(where, row.name, "schedule", "empty");
    const std::string status = Trim(cells[7]);
    if (status == "controlled") {
      row.control.status = classify::ControlStatus::kControlled;
    } else if (status == "precursor") {
      row.control.status = classify::ControlStatus::kPrecursor;
    } else {
      return RowError(where, row.name, "status", "'" + status + "' is not controlled or precursor");
    }
    auto date = classify::ParseDate(Trim(cells[8]));
    if (!date.ok()) return RowError(where, row.name, "in_force", date.status().message());
    row.control.in_force = *date;
    row.control.citation = Trim(cells[9]);
    row.control.list = table->header.count("short") ? table->header["short"]
                                                    : name.substr(name.find_last_of('/') + 1);
    rows.push_back(std::move(row));
  }
  return rows;
}

Result<std::vector<classify::IsomerException>> ParseExceptions(std::string_view text,
                                                               const std::string& name) {
  auto table = ReadTable(text, name);
  if (!table.ok()) return table.status();
  std::vector<classify::IsomerException> out;
  if (table->lines.empty()) return out;
  const auto columns = Split(table->lines[0].second, '\t');
  if (columns != std::vector<std::string>{"jurisdiction", "name", "smiles", "citation"}) {
    return Status::InvalidArgument(name +
                                   ": the column line must be jurisdiction, name, smiles, "
                                   "citation");
  }
  for (std::size_t i = 1; i < table->lines.size(); ++i) {
    const auto& [number, line] = table->lines[i];
    const auto cells = Split(line, '\t');
    const std::string where = name + ":" + std::to_string(number);
    if (cells.size() != 4) return Status::InvalidArgument(where + ": want 4 cells");
    out.push_back({Trim(cells[0]), Trim(cells[1]), Trim(cells[2]), Trim(cells[3])});
    if (out.back().smiles.empty()) return RowError(where, out.back().name, "smiles", "empty");
  }
  return out;
}

namespace {

Result<json> ParseJson(std::string_view text, const std::string& name) {
  if (text.size() > kMaxFileBytes) {
    return Status::InvalidArgument(name + ": larger than " + std::to_string(kMaxFileBytes) +
                                   " bytes");
  }
  try {
    return json::parse(text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::exception& e) {
    return Status::InvalidArgument(name + ": not valid JSON: " + e.what());
  }
}

// Typed field access that names the JSON path on error.
class Fields {
 public:
  Fields(const json& j, std::string path) : j_(j), path_(std::move(path)) {}
  Status Object() const {
    return j_.is_object() ? Status::Ok() : Status::InvalidArgument(path_ + ": must be an object");
  }
  Status String(const char* key, std::string* out, bool required = false) const {
    auto it = j_.find(key);
    if (it == j_.end()) {
      return required ? Status::InvalidArgument(path_ + "." + key + ": missing") : Status::Ok();
    }
    if (!it->is_string()) return Status::InvalidArgument(path_ + "." + key + ": must be a string");
    *out = it->get<std::string>();
    return Status::Ok();
  }
  Status Int(const char* key, int* out) const {
    auto it = j_.find(key);
    if (it == j_.end()) return Status::Ok();
    if (!it->is_number_integer()) {
      return Status::InvalidArgument(path_ + "." + key + ": must be an integer");
    }
    const auto v = it->get<long long>();
    if (v < -1000000 || v > 1000000) {
      return Status::InvalidArgument(path_ + "." + key + ": out of range");
    }
    *out = static_cast<int>(v);
    return Status::Ok();
  }
  Status Bool(const char* key, bool* out) const {
    auto it = j_.find(key);
    if (it == j_.end()) return Status::Ok();
    if (!it->is_boolean())
      return Status::InvalidArgument(path_ + "." + key + ": must be true/false");
    *out = it->get<bool>();
    return Status::Ok();
  }
  Status Strings(const char* key, std::vector<std::string>* out) const {
    auto it = j_.find(key);
    if (it == j_.end()) return Status::Ok();
    if (!it->is_array()) return Status::InvalidArgument(path_ + "." + key + ": must be an array");
    for (std::size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_string()) {
        return Status::InvalidArgument(path_ + "." + key + "[" + std::to_string(i) +
                                       "]: must be a string");
      }
      out->push_back((*it)[i].get<std::string>());
    }
    return Status::Ok();
  }
  Status Ints(const char* key, std::vector<int>* out) const {
    auto it = j_.find(key);
    if (it == j_.end()) return Status::Ok();
    if (!it->is_array()) return Status::InvalidArgument(path_ + "." + key + ": must be an array");
    for (std::size_t i = 0; i < it->size(); ++i) {
      if (!(*it)[i].is_number_integer() || (*it)[i].get<long long>() <= 0 ||
          (*it)[i].get<long long>() > 1000) {
        return Status::InvalidArgument(path_ + "." + key + "[" + std::to_string(i) +
                                       "]: must be an atom map number 1..1000");
      }
      out->push_back(static_cast<int>((*it)[i].get<long long>()));
    }
    return Status::Ok();
  }
  // Rejects keys the format does not know, so a misspelt field is an error, not ignored.
  Status Only(std::initializer_list<const char*> keys) const {
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (std::none_of(keys.begin(), keys.end(), [&](const char* k) { return it.key() == k; })) {
        return Status::InvalidArgument(path_ + "." + it.key() + ": unknown field");
      }
    }
    return Status::Ok();
  }

 private:
  const json& j_;
  std::string path_;
};

#define SENTINEL_TRY(expr)          \
  do {                              \
    ::sentinel::Status _s = (expr); \
    if (!_s.ok()) return _s;        \
  } while (0)

}  // namespace

Result<std::vector<classify::SubstituentTypeSpec>> ParseVocabulary(std::string_view text,
                                                                   const std::string& name) {
  auto doc = ParseJson(text, name);
  if (!doc.ok()) return doc.status();
  if (!doc->is_object() || !doc->contains("types") || !(*doc)["types"].is_array()) {
    return Status::InvalidArgument(name + ": want an object with a \"types\" array");
  }
  std::vector<classify::SubstituentTypeSpec> out;
  const json& types = (*doc)["types"];
  for (std::size_t i = 0; i < types.size(); ++i) {
    Fields f(types[i], name + ": types[" + std::to_string(i) + "]");
    classify::SubstituentTypeSpec t;
    SENTINEL_TRY(f.Object());
    SENTINEL_TRY(f.Only({"name", "description", "attach", "atoms", "require", "rings", "min_atoms",
                         "max_atoms", "attachments"}));
    SENTINEL_TRY(f.String("name", &t.name, true));
    SENTINEL_TRY(f.String("description", &t.description));
    SENTINEL_TRY(f.String("attach", &t.attach));
    SENTINEL_TRY(f.String("atoms", &t.atoms));
    SENTINEL_TRY(f.String("require", &t.require));
    SENTINEL_TRY(f.String("rings", &t.rings));
    SENTINEL_TRY(f.Int("min_atoms", &t.min_atoms));
    SENTINEL_TRY(f.Int("max_atoms", &t.max_atoms));
    SENTINEL_TRY(f.Int("attachments", &t.attachments));
    out.push_back(std::move(t));
  }
  return out;
}

Result<classify::RuleSpec> ParseRule(std::string_view text, const std::string& name) {
  auto doc = ParseJson(text, name);
  if (!doc.ok()) return doc.status();
  classify::RuleSpec r;
  r.where = name;
  Fields f(*doc, name);
  SENTINEL_TRY(f.Object());
  SENTINEL_TRY(
      f.Only({"id", "jurisdiction", "title", "instrument", "schedule", "status", "in_force",
              "repealed", "citation", "reference", "requires_modification", "only_if_not_listed",
              "skeletons", "parts", "exclusions", "options", "legal_text", "notes"}));
  for (auto [key, out] : {std::pair{"id", &r.id}, std::pair{"jurisdiction", &r.jurisdiction},
                          std::pair{"title", &r.title}, std::pair{"instrument", &r.instrument},
                          std::pair{"schedule", &r.schedule}, std::pair{"in_force", &r.in_force}}) {
    SENTINEL_TRY(f.String(key, out, true));
  }
  SENTINEL_TRY(f.String("status", &r.status));
  SENTINEL_TRY(f.String("repealed", &r.repealed));
  SENTINEL_TRY(f.String("citation", &r.citation));
  SENTINEL_TRY(f.Bool("requires_modification", &r.requires_modification));
  SENTINEL_TRY(f.Bool("only_if_not_listed", &r.only_if_not_listed));
  SENTINEL_TRY(f.Strings("skeletons", &r.skeletons));
  if (doc->contains("reference")) {
    Fields ref((*doc)["reference"], name + ".reference");
    SENTINEL_TRY(ref.Object());
    SENTINEL_TRY(ref.Only({"name", "smiles"}));
    SENTINEL_TRY(ref.String("name", &r.reference_name, true));
    SENTINEL_TRY(ref.String("smiles", &r.reference_smiles, true));
  }
  if (doc->contains("parts")) {
    const json& parts = (*doc)["parts"];
    if (!parts.is_array()) return Status::InvalidArgument(name + ".parts: must be an array");
    for (std::size_t i = 0; i < parts.size(); ++i) {
      Fields p(parts[i], name + ".parts[" + std::to_string(i) + "]");
      classify::PartSpec part;
      SENTINEL_TRY(p.Object());
      SENTINEL_TRY(p.Only({"label", "description", "kind", "maps", "reference", "monocycle",
                           "aromatic", "allowed_rings", "hetero_replacement", "allowed",
                           "substituents", "further_substituents"}));
      SENTINEL_TRY(p.String("label", &part.label, true));
      SENTINEL_TRY(p.String("description", &part.description));
      SENTINEL_TRY(p.String("kind", &part.kind, true));
      SENTINEL_TRY(p.Ints("maps", &part.maps));
      SENTINEL_TRY(p.String("reference", &part.reference));
      SENTINEL_TRY(p.Bool("monocycle", &part.monocycle));
      SENTINEL_TRY(p.Bool("hetero_replacement", &part.hetero_replacement));
      SENTINEL_TRY(p.String("aromatic", &part.aromatic));
      SENTINEL_TRY(p.Strings("allowed_rings", &part.allowed_rings));
      SENTINEL_TRY(p.Strings("allowed", &part.allowed));
      SENTINEL_TRY(p.Strings("substituents", &part.substituents));
      SENTINEL_TRY(p.Strings("further_substituents", &part.further_substituents));
      r.parts.push_back(std::move(part));
    }
  }
  if (doc->contains("exclusions")) {
    const json& ex = (*doc)["exclusions"];
    if (!ex.is_array()) return Status::InvalidArgument(name + ".exclusions: must be an array");
    for (std::size_t i = 0; i < ex.size(); ++i) {
      Fields e(ex[i], name + ".exclusions[" + std::to_string(i) + "]");
      classify::ExclusionSpec x;
      SENTINEL_TRY(e.Object());
      SENTINEL_TRY(e.Only({"name", "smiles"}));
      SENTINEL_TRY(e.String("name", &x.name, true));
      SENTINEL_TRY(e.String("smiles", &x.smiles, true));
      r.exclusions.push_back(std::move(x));
    }
  }
  if (doc->contains("options")) {
    const json& opts = (*doc)["options"];
    if (!opts.is_array()) return Status::InvalidArgument(name + ".options: must be an array");
    for (std::size_t i = 0; i < opts.size(); ++i) {
      const std::string path = name + ".options[" + std::to_string(i) + "]";
      Fields o(opts[i], path);
      classify::OptionSpec option;
      SENTINEL_TRY(o.Object());
      SENTINEL_TRY(o.Only({"name", "question", "default", "values"}));
      SENTINEL_TRY(o.String("name", &option.name, true));
      SENTINEL_TRY(o.String("question", &option.question, true));
      SENTINEL_TRY(o.String("default", &option.default_value, true));
      const json& values = opts[i].value("values", json::object());
      if (!values.is_object() || values.empty()) {
        return Status::InvalidArgument(path + ".values: must be a non-empty object");
      }
      for (auto it = values.begin(); it != values.end(); ++it) {
        Fields v(it.value(), path + ".values." + it.key());
        SENTINEL_TRY(v.Object());
        SENTINEL_TRY(v.Only({"meaning", "types"}));
        std::string meaning;
        SENTINEL_TRY(v.String("meaning", &meaning, true));
        option.meanings[it.key()] = meaning;
        std::vector<std::string> types;
        SENTINEL_TRY(v.Strings("types", &types));
        option.types[it.key()] = std::move(types);
      }
      r.options.push_back(std::move(option));
    }
  }
  return r;
}

namespace {

Result<std::string> ReadFile(const std::filesystem::path& path) {
  std::error_code ec;
  const auto size = std::filesystem::file_size(path, ec);
  if (ec) return Status::IoError(path.string() + ": " + ec.message());
  if (size > kMaxFileBytes) {
    return Status::InvalidArgument(path.string() + ": larger than " +
                                   std::to_string(kMaxFileBytes) + " bytes");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IoError(path.string() + ": cannot open");
  std::ostringstream ss;
  ss << in.rdbuf();
  return std::move(ss).str();
}

std::vector<std::filesystem::path> Files(const std::filesystem::path& dir,
                                         std::string_view suffix) {
  std::vector<std::filesystem::path> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string n = e.path().filename().string();
    if (e.is_regular_file() && n.size() > suffix.size() &&
        n.compare(n.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(e.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Result<Sources> ReadDataDir(const std::string& dir) {
  Sources s;
  const std::filesystem::path root(dir);
  const auto lists = Files(root / "kb" / "lists", ".tsv");
  if (lists.empty()) {
    return Status::NotFound(dir + "/kb/lists: no knowledge-base lists (*.tsv)");
  }
  for (const auto& path : lists) {
    auto text = ReadFile(path);
    if (!text.ok()) return text.status();
    auto rows = ParseList(*text, "kb/lists/" + path.filename().string());
    if (!rows.ok()) return rows.status();
    s.rows.insert(s.rows.end(), rows->begin(), rows->end());
    s.files.push_back(path.string());
  }
  if (std::filesystem::exists(root / "kb" / "exceptions.tsv")) {
    auto text = ReadFile(root / "kb" / "exceptions.tsv");
    if (!text.ok()) return text.status();
    auto ex = ParseExceptions(*text, "kb/exceptions.tsv");
    if (!ex.ok()) return ex.status();
    s.exceptions = std::move(ex).value();
    s.files.push_back((root / "kb" / "exceptions.tsv").string());
  }
  // The shared vocabulary, then any topic vocabularies (rules/<topic>.substituents.json).
  std::vector<std::filesystem::path> vocab_files = {root / "rules" / "substituents.json"};
  for (const auto& path : Files(root / "rules", ".substituents.json")) vocab_files.push_back(path);
  for (const auto& path : vocab_files) {
    auto vocab_text = ReadFile(path);
    if (!vocab_text.ok()) return vocab_text.status();
    auto vocab = ParseVocabulary(*vocab_text, "rules/" + path.filename().string());
    if (!vocab.ok()) return vocab.status();
    s.vocabulary.insert(s.vocabulary.end(), vocab->begin(), vocab->end());
    s.files.push_back(path.string());
  }
  for (const auto& path : Files(root / "rules", ".rule.json")) {
    auto text = ReadFile(path);
    if (!text.ok()) return text.status();
    auto rule = ParseRule(*text, "rules/" + path.filename().string());
    if (!rule.ok()) return rule.status();
    s.rules.push_back(std::move(rule).value());
    s.files.push_back(path.string());
  }
  return s;
}

}  // namespace sentinel::kb_files
