#include "adapters/http/api_server.h"

#include <fmt/format.h>
#include <httplib.h>

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>

#include "core/common/text.h"

namespace sentinel::http {
namespace {

using nlohmann::json;
using reports::Principal;
using reports::Role;

constexpr const char* kJson = "application/json";

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), kJson);
}

void Error(httplib::Response& res, int status, std::string_view code, const std::string& message,
           json fields = json()) {
  json e = {{"code", code}, {"message", message}};
  if (!fields.is_null()) e["fields"] = std::move(fields);
  Reply(res, status, {{"error", std::move(e)}});
}

int HttpStatus(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk:
      return 200;
    case Status::Code::kInvalidArgument:
      return 400;
    case Status::Code::kUnauthenticated:
      return 401;
    case Status::Code::kPermissionDenied:
      return 403;
    case Status::Code::kNotFound:
      return 404;
    case Status::Code::kConflict:
      return 409;
    case Status::Code::kFailedPrecondition:
      return 503;
    case Status::Code::kCorruption:
    case Status::Code::kIoError:
      return 500;
  }
  return 500;
}

void StatusError(httplib::Response& res, const Status& s) {
  const int code = HttpStatus(s);
  if (code >= 500) {
    // The details are for the operator's log, not for the client.
    std::fprintf(stderr, "sentinel serve: %s\n", s.ToString().c_str());
    Error(res, code, code == 503 ? "unavailable" : "internal",
          code == 503 ? "the node is not ready; try again" : "internal error; see the node's log");
    return;
  }
  static_assert(static_cast<int>(Status::Code::kConflict) == 8, "kNames follows Status::Code");
  static constexpr std::string_view kNames[] = {
      "ok",       "invalid_argument",    "not_found",       "corruption",
      "io_error", "failed_precondition", "unauthenticated", "permission_denied",
      "conflict"};
  Error(res, code, kNames[static_cast<std::size_t>(s.code())], s.message());
}

json FieldErrors(const std::vector<reports::FieldError>& errors) {
  json out = json::array();
  for (const auto& e : errors) out.push_back({{"path", e.path}, {"message", e.message}});
  return out;
}

json ReportJson(const reports::StoredReport& r) {
  return {{"id", r.id},
          {"version", r.version},
          {"latest", r.latest},
          {"organisation", r.organisation},
          {"received_at", r.received_at},
          {"kind", reports::KindName(r.kind)},
          {"distribution", reports::DistributionName(r.distribution)},
          {"date", r.date},
          {"country", r.country},
          {"subdivision", r.subdivision.empty() ? json() : json(r.subdivision)},
          {"substances", r.substance_keys},
          {"report", r.body}};
}

json SubstanceJson(const reports::SubstanceSummary& s) {
  return {{"key", s.substance.key},
          {"name", s.substance.name},
          {"smiles", s.substance.smiles.empty() ? json() : json(s.substance.smiles)},
          {"inchikey", s.substance.inchikey.empty() ? json() : json(s.substance.inchikey)},
          {"in_knowledge_base", s.substance.in_knowledge_base},
          {"classes", s.substance.classes},
          {"reports", s.reports},
          {"first_reported", s.first_reported.empty() ? json() : json(s.first_reported)},
          {"latest_reported", s.latest_reported.empty() ? json() : json(s.latest_reported)}};
}

// Query parameters are validated like bodies: an unknown or malformed one is a 400 naming it.
class Params {
 public:
  Params(const httplib::Request& req, std::initializer_list<std::string_view> known) : req_(req) {
    for (const auto& [name, value] : req.params) {
      if (std::find(known.begin(), known.end(), name) == known.end()) {
        errors_.push_back({"query." + name, "unknown parameter"});
      }
    }
  }
  std::optional<std::string> Text(const std::string& name) const {
    if (!req_.has_param(name)) return std::nullopt;
    return req_.get_param_value(name);
  }
  std::optional<std::string> Date(const std::string& name) {
    auto v = Text(name);
    if (v && !reports::ParseDay(*v).ok()) {
      errors_.push_back({"query." + name, "'" + *v + "' is not a date YYYY-MM-DD"});
      return std::nullopt;
    }
    return v;
  }
  std::optional<std::int64_t> Int(const std::string& name, std::int64_t lo, std::int64_t hi) {
    auto v = Text(name);
    if (!v) return std::nullopt;
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || p != v->data() + v->size() || n < lo || n > hi) {
      errors_.push_back(
          {"query." + name, fmt::format("'{}' is not an integer in [{}, {}]", *v, lo, hi)});
      return std::nullopt;
    }
    return n;
  }
  std::optional<reports::Kind> Kind() {
    auto v = Text("kind");
    if (!v) return std::nullopt;
    auto k = reports::ParseKind(*v);
    if (!k) errors_.push_back({"query.kind", "unknown report kind '" + *v + "'"});
    return k;
  }
  static bool Upper(char c) { return c >= 'A' && c <= 'Z'; }
  static bool CountryShaped(std::string_view v) {
    return v.size() == 2 && Upper(v[0]) && Upper(v[1]);
  }

  // An ISO 3166-1 (country) or 3166-2 (subdivision) code.
  static bool PlaceShaped(std::string_view v) {
    auto upper_or_digit = [](char c) { return Upper(c) || (c >= '0' && c <= '9'); };
    const bool subdivision = v.size() >= 4 && v.size() <= 6 && v[2] == '-' &&
                             CountryShaped(v.substr(0, 2)) &&
                             std::all_of(v.begin() + 3, v.end(), upper_or_digit);
    return CountryShaped(v) || subdivision;
  }

  std::optional<std::string> Place() {
    auto v = Text("place");
    if (!v) return std::nullopt;
    if (!PlaceShaped(*v)) {
      errors_.push_back({"query.place", "'" + *v + "' is not an ISO 3166-1 or 3166-2 code"});
    }
    return v;
  }
  bool Bool(const std::string& name) {
    auto v = Text(name);
    if (!v) return false;
    if (*v == "true") return true;
    if (*v != "false") errors_.push_back({"query." + name, "must be true or false"});
    return false;
  }
  void Fail(std::string field, std::string message) {
    errors_.push_back({std::move(field), std::move(message)});
  }
  // Answers 400 and returns true when any parameter was bad.
  bool Refused(httplib::Response& res) const {
    if (errors_.empty()) return false;
    Error(res, 400, "invalid_query", "invalid query parameters", FieldErrors(errors_));
    return true;
  }

 private:
  const httplib::Request& req_;
  std::vector<reports::FieldError> errors_;
};

std::optional<json> ParseBody(const httplib::Request& req, httplib::Response& res) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    Error(res, 400, "invalid_json", "the request body is not valid JSON");
    return std::nullopt;
  }
  return body;
}

}  // namespace

struct ApiServer::Impl {
  reports::Store* store;
  ApiCallbacks cb;
  ServerOptions options;
  httplib::Server server;
  int port = 0;

  // The caller, or nullopt after answering 401/403.
  std::optional<Principal> Authorise(const httplib::Request& req, httplib::Response& res,
                                     Role needed) {
    const std::string header = req.get_header_value("Authorization");
    constexpr std::string_view kBearer = "bearer ";  // the scheme name is case-insensitive
    if (header.size() <= kBearer.size() ||
        AsciiLower(std::string_view(header).substr(0, kBearer.size())) != kBearer) {
      res.set_header("WWW-Authenticate", "Bearer");
      Error(res, 401, "unauthenticated", "an API token is needed: Authorization: Bearer <token>");
      return std::nullopt;
    }
    auto who = store->Authenticate(cb.hash_token(std::string_view(header).substr(kBearer.size())));
    if (!who.ok()) {
      res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      Error(res, 401, "unauthenticated", who.status().message());
      return std::nullopt;
    }
    if (who->role < needed) {
      Error(res, 403, "permission_denied",
            fmt::format("this needs the {} role; the token has {}", reports::RoleName(needed),
                        reports::RoleName(who->role)));
      return std::nullopt;
    }
    return std::move(who).value();
  }

  void Submit(const Principal& who, const std::vector<json>& bodies, const std::string& supersedes,
              bool batch, httplib::Response& res) {
    std::vector<reports::SubmitItem> items;
    json rejected = json::array();
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      reports::PreparedReport p = cb.prepare(bodies[i], supersedes);
      if (!p.errors.empty()) {
        if (batch) {
          for (auto& e : p.errors) e.path = fmt::format("$.reports[{}]{}", i, e.path.substr(1));
        }
        rejected.push_back({{"index", i}, {"fields", FieldErrors(p.errors)}});
        continue;
      }
      items.push_back(std::move(*p.item));
    }
    if (!rejected.empty()) {
      json fields = json::array();
      for (const auto& r : rejected) {
        for (json f : r["fields"]) {
          if (batch) f["index"] = r["index"];
          fields.push_back(std::move(f));
        }
      }
      Error(res, 400, "invalid_report",
            batch ? fmt::format("{} of {} reports are invalid; none was stored", rejected.size(),
                                bodies.size())
                  : "the report is invalid; it was not stored",
            std::move(fields));
      return;
    }
    std::vector<reports::SubmitOutcome> outcomes;
    if (Status s = store->Submit(who, items, &outcomes); !s.ok()) {
      StatusError(res, s);
      return;
    }
    if (cb.acknowledged) {
      std::vector<reports::SubmitItem> stored;
      for (std::size_t i = 0; i < items.size() && i < outcomes.size(); ++i) {
        if (!outcomes[i].duplicate) stored.push_back(std::move(items[i]));
      }
      if (!stored.empty()) cb.acknowledged(who, stored);
    }
    json results = json::array();
    bool any_new = false;
    for (const auto& o : outcomes) {
      any_new |= !o.duplicate;
      results.push_back({{"id", o.id}, {"version", o.version}, {"duplicate", o.duplicate}});
    }
    if (batch) {
      Reply(res, any_new ? 201 : 200, {{"results", results}});
    } else {
      Reply(res, any_new ? 201 : 200, results[0]);
    }
  }

  void Routes() {
    server.Get("/health", [](const httplib::Request&, httplib::Response& res) {
      Reply(res, 200, {{"status", "ok"}});
    });

    server.Get("/api/v1/openapi.json", [this](const httplib::Request& req, httplib::Response& res) {
      if (!Authorise(req, res, Role::kReader)) return;
      res.set_content(cb.openapi, kJson);
    });

    server.Post("/api/v1/reports", [this](const httplib::Request& req, httplib::Response& res) {
      auto who = Authorise(req, res, Role::kReporter);
      if (!who) return;
      auto body = ParseBody(req, res);
      if (!body) return;
      Submit(*who, {std::move(*body)}, "", false, res);
    });

    server.Post("/api/v1/reports/batch", [this](const httplib::Request& req,
                                                httplib::Response& res) {
      auto who = Authorise(req, res, Role::kReporter);
      if (!who) return;
      auto body = ParseBody(req, res);
      if (!body) return;
      std::vector<reports::FieldError> shape;
      if (!body->is_object()) {
        shape.push_back({"$", "a batch is an object {\"reports\": [ ... ]}"});
      } else {
        if (!body->contains("reports") || !(*body)["reports"].is_array()) {
          shape.push_back({"$.reports", "required array of reports"});
        }
        for (const auto& [k, v] : body->items()) {
          if (k != "reports") shape.push_back({"$." + k, "unknown field"});
        }
      }
      if (!shape.empty()) {
        Error(res, 400, "invalid_batch", "a batch is {\"reports\": [ ... ]}", FieldErrors(shape));
        return;
      }
      const json& list = (*body)["reports"];
      if (list.empty() || list.size() > reports::kMaxBatchReports) {
        Error(res, 400, "invalid_batch",
              fmt::format("a batch holds 1 to {} reports, not {}", reports::kMaxBatchReports,
                          list.size()));
        return;
      }
      Submit(*who, std::vector<json>(list.begin(), list.end()), "", true, res);
    });

    server.Post(R"(/api/v1/reports/([A-Za-z0-9]{1,40})/versions)",
                [this](const httplib::Request& req, httplib::Response& res) {
                  auto who = Authorise(req, res, Role::kReporter);
                  if (!who) return;
                  auto body = ParseBody(req, res);
                  if (!body) return;
                  Submit(*who, {std::move(*body)}, req.matches[1].str(), false, res);
                });

    server.Get("/api/v1/reports", [this](const httplib::Request& req, httplib::Response& res) {
      auto who = Authorise(req, res, Role::kReader);
      if (!who) return;
      Params p(req, {"kind", "from", "to", "place", "substance", "class", "form", "with",
                     "all_versions", "limit", "cursor"});
      reports::ReportQuery q;
      q.kind = p.Kind();
      q.from = p.Date("from");
      q.to = p.Date("to");
      q.place = p.Place();
      q.substance = p.Text("substance");
      q.substance_class = p.Text("class");
      q.form = p.Text("form");
      q.also_substance = p.Text("with");
      q.all_versions = p.Bool("all_versions");
      q.limit = static_cast<std::size_t>(p.Int("limit", 1, 1000).value_or(100));
      q.before_sequence = p.Int("cursor", 1, std::numeric_limits<std::int64_t>::max());
      if (p.Refused(res)) return;
      if (q.substance) q.substance = ResolveSubstanceKey(*who, *q.substance);
      if (q.also_substance) q.also_substance = ResolveSubstanceKey(*who, *q.also_substance);
      auto page = store->Query(*who, q);
      if (!page.ok()) return StatusError(res, page.status());
      json list = json::array();
      for (const auto& r : page->reports) list.push_back(ReportJson(r));
      Reply(res, 200,
            {{"reports", list},
             {"next_cursor", page->next_before_sequence
                                 ? json(std::to_string(*page->next_before_sequence))
                                 : json()}});
    });

    server.Get(R"(/api/v1/reports/([A-Za-z0-9]{1,40}))", [this](const httplib::Request& req,
                                                                httplib::Response& res) {
      auto who = Authorise(req, res, Role::kReader);
      if (!who) return;
      Params p(req, {"version"});
      const auto version = p.Int("version", 1, 1'000'000);
      if (p.Refused(res)) return;
      auto r = store->Get(*who, req.matches[1].str(), static_cast<int>(version.value_or(0)));
      if (!r.ok()) return StatusError(res, r.status());
      Reply(res, 200, ReportJson(*r));
    });

    server.Get("/api/v1/aggregates", [this](const httplib::Request& req, httplib::Response& res) {
      auto who = Authorise(req, res, Role::kReader);
      if (!who) return;
      Params p(req, {"period", "by", "kind", "from", "to", "place", "substance", "class"});
      reports::AggregateQuery q;
      const std::string period = p.Text("period").value_or("week");
      if (period != "week" && period != "month") p.Fail("query.period", "must be week or month");
      q.period = period == "month" ? reports::Period::kMonth : reports::Period::kWeek;
      const std::string by = p.Text("by").value_or("country");
      if (by != "country" && by != "subdivision") {
        p.Fail("query.by", "must be country or subdivision");
      }
      q.by_subdivision = by == "subdivision";
      q.kind = p.Kind();
      q.from = p.Date("from");
      q.to = p.Date("to");
      q.place = p.Place();
      q.substance = p.Text("substance");
      q.substance_class = p.Text("class");
      if (p.Refused(res)) return;
      if (q.substance) q.substance = ResolveSubstanceKey(*who, *q.substance);
      auto rows = store->Aggregate(*who, q);
      if (!rows.ok()) return StatusError(res, rows.status());
      json list = json::array();
      for (const auto& r : *rows) {
        list.push_back({{"period_start", r.period_start},
                        {"substance", r.substance_key},
                        {"place", r.place},
                        {"reports", r.reports}});
      }
      Reply(res, 200, {{"period", period}, {"by", by}, {"rows", list}});
    });

    // Signals of live detection for the caller's country (reports::SignalVisible), most
    // recently changed first; with `after`, those changed after that sequence, oldest first,
    // so a poller pages forward with next_after.
    server.Get("/api/v1/signals", [this](const httplib::Request& req, httplib::Response& res) {
      auto who = Authorise(req, res, Role::kAnalyst);
      if (!who) return;
      Params p(req, {"detector", "substance", "class", "place", "after", "limit"});
      reports::SignalQuery q;
      q.detector = p.Text("detector");
      q.substance = p.Text("substance");
      const std::optional<std::string> substance_class = p.Text("class");
      if (q.substance && substance_class) {
        p.Fail("query.class", "give a substance or a class, not both");
      }
      q.place = p.Text("place");
      // A signal's place: a country or subdivision, "*" (everywhere), or a wastewater site
      // ("BE/ANTWERP-ZUID": the site codes are each programme's own).
      constexpr std::size_t kMaxSite = 64;  // as a wastewater report's site is bounded
      const auto site_shaped = [](std::string_view v) {
        return v.size() > 3 && v.size() <= 3 + kMaxSite && v[2] == '/' &&
               Params::CountryShaped(v.substr(0, 2)) &&
               std::none_of(v.begin() + 3, v.end(),
                            [](char c) { return static_cast<unsigned char>(c) < 0x20; });
      };
      if (q.place && *q.place != "*" && !Params::PlaceShaped(*q.place) && !site_shaped(*q.place)) {
        p.Fail("query.place",
               "must be a country or subdivision (ISO 3166-1 or 3166-2), * (everywhere), or a "
               "wastewater site (<country>/<site>)");
      }
      q.after_sequence = p.Int("after", 0, std::numeric_limits<std::int64_t>::max());
      q.limit = static_cast<std::size_t>(p.Int("limit", 1, 1000).value_or(100));
      if (p.Refused(res)) return;
      if (q.substance) q.substance = ResolveSubstanceKey(*who, *q.substance);
      if (substance_class) q.substance = reports::ClassSignalKey(*substance_class);
      auto signals = store->Signals(*who, q);
      if (!signals.ok()) return StatusError(res, signals.status());
      json list = json::array();
      std::int64_t next_after = q.after_sequence.value_or(0);
      for (const auto& s : *signals) {
        json j = s.body.is_object() ? s.body : json::object();
        j["sequence"] = s.sequence;
        j["audience"] = s.audience;
        j["raised_at"] = s.raised_at;
        j["updated_at"] = s.updated_at;
        list.push_back(std::move(j));
        next_after = std::max(next_after, s.sequence);
      }
      Reply(res, 200, {{"signals", list}, {"next_after", next_after}});
    });

    server.Get("/api/v1/substances", [this](const httplib::Request& req, httplib::Response& res) {
      auto who = Authorise(req, res, Role::kReader);
      if (!who) return;
      Params p(req, {"limit"});
      const auto limit = p.Int("limit", 1, 10000).value_or(1000);
      if (p.Refused(res)) return;
      auto list = store->Substances(*who, static_cast<std::size_t>(limit));
      if (!list.ok()) return StatusError(res, list.status());
      json out = json::array();
      for (const auto& s : *list) out.push_back(SubstanceJson(s));
      Reply(res, 200, {{"substances", out}});
    });

    // A substance by key (URL-encoded SMILES, "name:..."), name or synonym.
    server.Get(R"(/api/v1/substances/(.+?)(/structure\.svg)?)", [this](const httplib::Request& req,
                                                                       httplib::Response& res) {
      auto who = Authorise(req, res, Role::kReader);
      if (!who) return;
      const std::string key = ResolveSubstanceKey(*who, req.matches[1].str());
      auto s = store->Substance(*who, key);
      if (!s.ok()) return StatusError(res, s.status());
      const std::string svg = s->substance.smiles.empty() ? "" : cb.depict(s->substance.smiles);
      if (req.matches[2].matched) {
        if (svg.empty()) {
          return Error(res, 404, "not_found", "no structure is known for " + key);
        }
        res.set_content(svg, "image/svg+xml");
        return;
      }
      json out = SubstanceJson(*s);
      out["classification"] = s->substance.classification;
      out["structure_svg"] = svg.empty() ? json() : json(svg);
      Reply(res, 200, out);
    });

    server.Post("/api/v1/classify", [this](const httplib::Request& req, httplib::Response& res) {
      if (!Authorise(req, res, Role::kReader)) return;
      auto body = ParseBody(req, res);
      if (!body) return;
      std::vector<std::string> structures;
      const bool one = body->is_object() && body->contains("structure") &&
                       (*body)["structure"].is_string() && body->size() == 1;
      bool many = body->is_object() && body->contains("structures") &&
                  (*body)["structures"].is_array() && body->size() == 1 &&
                  !(*body)["structures"].empty() && (*body)["structures"].size() <= 1000;
      if (many) {
        for (const auto& s : (*body)["structures"]) {
          if (!s.is_string()) many = false;
        }
      }
      if (!one && !many) {
        return Error(res, 400, "invalid_request",
                     "expected {\"structure\": \"...\"} or {\"structures\": [1 to 1000 strings]}");
      }
      if (one) return Reply(res, 200, cb.classify((*body)["structure"].get<std::string>()));
      json out = json::array();
      for (const auto& s : (*body)["structures"]) out.push_back(cb.classify(s.get<std::string>()));
      Reply(res, 200, {{"results", out}});
    });

    server.Post("/api/v1/identify", [this](const httplib::Request& req, httplib::Response& res) {
      if (!Authorise(req, res, Role::kReader)) return;
      if (req.body.empty()) {
        return Error(res, 400, "invalid_request",
                     "send the spectrum file's text as the body (MSP, JCAMP-DX or m/z-intensity "
                     "pairs)");
      }
      auto result = cb.identify(req.body);
      if (!result.ok()) return StatusError(res, result.status());
      Reply(res, 200, {{"results", *result}});
    });

    // Administration.
    server.Post("/api/v1/tokens", [this](const httplib::Request& req, httplib::Response& res) {
      auto who = Authorise(req, res, Role::kAdmin);
      if (!who) return;
      auto body = ParseBody(req, res);
      if (!body) return;
      std::optional<Role> role;
      bool closed = body->is_object();
      if (closed) {
        for (const auto& [k, v] : body->items()) closed &= k == "user" || k == "role";
      }
      if (closed && body->contains("role") && (*body)["role"].is_string()) {
        role = reports::ParseRole((*body)["role"].get<std::string>());
      }
      const bool user_ok = body->is_object() && body->contains("user") &&
                           (*body)["user"].is_string() &&
                           !(*body)["user"].get<std::string>().empty() &&
                           (*body)["user"].get<std::string>().size() <= 64;
      if (!closed || !role || !user_ok) {
        return Error(res, 400, "invalid_token_request",
                     "expected {\"user\": \"<1-64 chars>\", \"role\": "
                     "\"reader|reporter|analyst|admin\"}");
      }
      const std::string token = cb.new_token();
      auto id =
          store->CreateToken(*who, cb.hash_token(token),
                             {0, who->organisation, (*body)["user"].get<std::string>(), *role});
      if (!id.ok()) return StatusError(res, id.status());
      Reply(res, 201,
            {{"id", *id}, {"token", token}, {"note", "shown once: Sentinel keeps only its hash"}});
    });

    server.Delete(R"(/api/v1/tokens/(\d{1,18}))", [this](const httplib::Request& req,
                                                         httplib::Response& res) {
      auto who = Authorise(req, res, Role::kAdmin);
      if (!who) return;
      if (Status s = store->RevokeToken(*who, std::stoll(req.matches[1].str())); !s.ok()) {
        return StatusError(res, s);
      }
      res.status = 204;
    });

    server.Get("/api/v1/audit", [this](const httplib::Request& req, httplib::Response& res) {
      auto who = Authorise(req, res, Role::kAdmin);
      if (!who) return;
      Params p(req, {"after", "limit"});
      const auto after = p.Int("after", 0, std::numeric_limits<std::int64_t>::max()).value_or(0);
      const auto limit = p.Int("limit", 1, 10000).value_or(1000);
      if (p.Refused(res)) return;
      auto entries = store->Audit(*who, after, static_cast<std::size_t>(limit));
      if (!entries.ok()) return StatusError(res, entries.status());
      json out = json::array();
      for (const auto& e : *entries) {
        out.push_back({{"sequence", e.sequence},
                       {"at", e.at},
                       {"organisation", e.organisation},
                       {"user", e.user},
                       {"token", e.token_id},
                       {"action", e.action},
                       {"target", e.target},
                       {"detail", e.detail}});
      }
      Reply(res, 200, {{"entries", out}});
    });

    server.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (res.status == 413) {
        return Error(
            res, 413, "too_large",
            fmt::format("request bodies are limited to {} bytes", reports::kMaxRequestBytes));
      }
      if (res.status == 404 && res.body.empty()) {
        return Error(res, 404, "not_found", "no such endpoint: " + req.method + " " + req.path);
      }
    });
    server.set_exception_handler(
        [](const httplib::Request& req, httplib::Response& res, const std::exception_ptr& ep) {
          std::string what = "internal error";
          try {
            if (ep) std::rethrow_exception(ep);
          } catch (const std::exception& e) {
            what = e.what();
          } catch (...) {
          }
          std::fprintf(stderr, "sentinel serve: %s %s: %s\n", req.method.c_str(), req.path.c_str(),
                       what.c_str());
          Error(res, 500, "internal", "internal error; see the node's log");
        });
  }

  // A substance named by a name or synonym resolves to its key; keys pass through.
  std::string ResolveSubstanceKey(const Principal& who, const std::string& text) {
    auto s = store->Substance(who, text);
    return s.ok() ? s->substance.key : text;
  }
};

ApiServer::ApiServer(reports::Store* store, ApiCallbacks callbacks, ServerOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->store = store;
  impl_->cb = std::move(callbacks);
  impl_->options = std::move(options);
  const int threads = std::max(1, impl_->options.threads);
  impl_->server.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<std::size_t>(threads));
  };
  impl_->server.set_payload_max_length(reports::kMaxRequestBytes);
  impl_->server.set_read_timeout(10, 0);
  impl_->server.set_write_timeout(10, 0);
  impl_->server.set_keep_alive_max_count(10000);
  impl_->server.set_tcp_nodelay(true);  // small JSON answers must not wait for delayed ACKs
  impl_->Routes();
}

ApiServer::~ApiServer() { Stop(); }

Status ApiServer::Bind() {
  const auto& o = impl_->options;
  if (o.port == 0) {
    impl_->port = impl_->server.bind_to_any_port(o.host);
    if (impl_->port < 0) return Status::IoError("cannot bind to " + o.host);
  } else {
    if (!impl_->server.bind_to_port(o.host, o.port)) {
      return Status::IoError(fmt::format("cannot listen on {}:{} (in use?)", o.host, o.port));
    }
    impl_->port = o.port;
  }
  return Status::Ok();
}

int ApiServer::BoundPort() const { return impl_->port; }

void ApiServer::Serve() { impl_->server.listen_after_bind(); }

void ApiServer::Stop() {
  if (impl_->server.is_running()) impl_->server.stop();
}

}  // namespace sentinel::http
