// The OpenAPI document the server serves at /api/v1/openapi.json (data/api/openapi.json) is
// kept honest: it is OpenAPI 3.0, it documents exactly the routes api_server.cc registers, every
// $ref in it resolves inside it, and every report example in components.examples is a body the
// report validator accepts.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/reports/report.h"

namespace sentinel::http {
namespace {

using nlohmann::json;
using Operation = std::pair<std::string, std::string>;  // method (lower case), path

// Every route of ApiServer::Impl::Routes (api_server.cc), in OpenAPI path syntax. A route added
// there is added here and documented in data/api/openapi.json.
const std::set<Operation> kRoutes = {
    {"get", "/health"},
    {"get", "/api/v1/openapi.json"},
    {"post", "/api/v1/reports"},
    {"post", "/api/v1/reports/batch"},
    {"post", "/api/v1/reports/{id}/versions"},
    {"get", "/api/v1/reports"},
    {"get", "/api/v1/reports/{id}"},
    {"get", "/api/v1/aggregates"},
    {"get", "/api/v1/signals"},
    {"get", "/api/v1/substances"},
    {"get", "/api/v1/substances/{key}"},
    {"get", "/api/v1/substances/{key}/structure.svg"},
    {"post", "/api/v1/classify"},
    {"post", "/api/v1/identify"},
    {"post", "/api/v1/tokens"},
    {"delete", "/api/v1/tokens/{id}"},
    {"get", "/api/v1/audit"},
};

const json& Document() {
  static const json doc = [] {
    std::ifstream in(std::string(SENTINEL_DATA_DIR) + "/api/openapi.json", std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  }();
  return doc;
}

bool IsMethod(std::string_view key) {
  for (std::string_view m : {"get", "put", "post", "delete", "options", "head", "patch", "trace"}) {
    if (key == m) return true;
  }
  return false;
}

// Every "$ref" string in `value`, with the JSON pointer of the object holding it.
void CollectRefs(const json& value, const std::string& where,
                 std::vector<std::pair<std::string, std::string>>* out) {
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (it.key() == "$ref" && it->is_string()) {
        out->emplace_back(where, it->get<std::string>());
      } else {
        CollectRefs(*it, where + "/" + it.key(), out);
      }
    }
  } else if (value.is_array()) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      CollectRefs(value[i], where + "/" + std::to_string(i), out);
    }
  }
}

TEST(OpenApiTest, IsOpenApi3) {
  const json& doc = Document();
  ASSERT_FALSE(doc.is_discarded()) << "data/api/openapi.json is not valid JSON";
  ASSERT_TRUE(doc.is_object());
  ASSERT_TRUE(doc.contains("openapi") && doc["openapi"].is_string());
  EXPECT_EQ(doc["openapi"].get<std::string>().rfind("3.0", 0), 0u) << doc["openapi"];
  EXPECT_TRUE(doc.contains("info"));
  ASSERT_TRUE(doc.contains("paths") && doc["paths"].is_object());
}

TEST(OpenApiTest, DocumentsExactlyTheServersRoutes) {
  const json& doc = Document();
  ASSERT_FALSE(doc.is_discarded());
  std::set<Operation> documented;
  for (const auto& [path, item] : doc.at("paths").items()) {
    for (const auto& [key, operation] : item.items()) {
      if (IsMethod(key)) documented.insert({key, path});
    }
  }
  for (const auto& [method, path] : kRoutes) {
    EXPECT_TRUE(documented.count({method, path})) << "undocumented: " << method << " " << path;
  }
  for (const auto& [method, path] : documented) {
    EXPECT_TRUE(kRoutes.count({method, path}))
        << "documented but not served by api_server.cc: " << method << " " << path;
  }
}

TEST(OpenApiTest, HealthIsOpenAndEverythingElseNeedsTheBearerToken) {
  const json& doc = Document();
  ASSERT_FALSE(doc.is_discarded());
  ASSERT_TRUE(doc.contains("security") && doc["security"].is_array());
  ASSERT_FALSE(doc["security"].empty());
  EXPECT_TRUE(doc["security"][0].contains("bearerAuth"));
  const json& scheme = doc.at("components").at("securitySchemes").at("bearerAuth");
  EXPECT_EQ(scheme.value("type", ""), "http");
  EXPECT_EQ(scheme.value("scheme", ""), "bearer");
  EXPECT_EQ(doc.at("paths").at("/health").at("get").value("security", json()), json::array());
  for (const auto& [path, item] : doc.at("paths").items()) {
    if (path == "/health") continue;
    for (const auto& [key, operation] : item.items()) {
      if (IsMethod(key)) {
        EXPECT_FALSE(operation.contains("security")) << key << " " << path << " overrides security";
        EXPECT_TRUE(operation.at("responses").contains("401")) << key << " " << path;
      }
    }
  }
}

TEST(OpenApiTest, EveryRefResolvesInsideTheDocument) {
  const json& doc = Document();
  ASSERT_FALSE(doc.is_discarded());
  std::vector<std::pair<std::string, std::string>> refs;
  CollectRefs(doc, "", &refs);
  EXPECT_FALSE(refs.empty());
  for (const auto& [where, ref] : refs) {
    if (ref.rfind("#/", 0) != 0) {
      ADD_FAILURE() << where << ": $ref " << ref << " does not point inside the document";
      continue;
    }
    bool resolves = false;
    try {
      resolves = doc.contains(json::json_pointer(ref.substr(1)));
    } catch (const json::exception& e) {
      ADD_FAILURE() << where << ": $ref " << ref << ": " << e.what();
      continue;
    }
    EXPECT_TRUE(resolves) << where << ": $ref " << ref << " does not resolve";
  }
}

TEST(OpenApiTest, ReportIsOneOfTheKindsWithADiscriminator) {
  const json& doc = Document();
  ASSERT_FALSE(doc.is_discarded());
  const json& report = doc.at("components").at("schemas").at("Report");
  ASSERT_TRUE(report.contains("oneOf"));
  EXPECT_EQ(report.at("discriminator").value("propertyName", ""), "kind");
  const json& mapping = report.at("discriminator").at("mapping");
  for (const char* kind :
       {"seizure", "toxicology", "wastewater", "precursor_incident", "online_listing"}) {
    ASSERT_TRUE(mapping.contains(kind)) << kind;
    const std::string ref = mapping.at(kind).get<std::string>();
    ASSERT_TRUE(doc.contains(json::json_pointer(ref.substr(1)))) << ref;
    const json& schema = doc.at(json::json_pointer(ref.substr(1)));
    EXPECT_EQ(schema.value("additionalProperties", true), false) << kind;
    EXPECT_EQ(schema.at("properties").at("kind").at("enum"), json::array({kind})) << kind;
    bool in_one_of = false;
    for (const json& alternative : report.at("oneOf")) {
      in_one_of |= alternative.value("$ref", "") == ref;
    }
    EXPECT_TRUE(in_one_of) << kind;
  }
}

TEST(OpenApiTest, EveryReportExampleIsAcceptedByTheValidator) {
  const json& doc = Document();
  ASSERT_FALSE(doc.is_discarded());
  ASSERT_TRUE(doc.at("components").contains("examples"));
  const auto pseudonymise = [](std::string_view) { return std::string("v_x"); };
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  std::set<std::string> kinds;
  for (const auto& [name, example] : doc.at("components").at("examples").items()) {
    ASSERT_TRUE(example.contains("value")) << name;
    const json& body = example.at("value");
    const reports::Validation v = reports::ValidateReport(body, pseudonymise, today);
    for (const auto& e : v.errors) ADD_FAILURE() << name << ": " << e.path << " " << e.message;
    EXPECT_TRUE(v.report.has_value()) << name;
    if (body.is_object() && body.contains("kind") && body.at("kind").is_string()) {
      kinds.insert(body.at("kind").get<std::string>());
    }
  }
  for (const char* kind :
       {"seizure", "toxicology", "wastewater", "precursor_incident", "online_listing"}) {
    EXPECT_TRUE(kinds.count(kind)) << "no example of a " << kind << " report";
  }
}

}  // namespace
}  // namespace sentinel::http
