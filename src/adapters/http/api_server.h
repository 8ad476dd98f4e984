// The HTTP API (JSON under /api/v1), on cpp-httplib.
//
// Every endpoint but GET /health needs "Authorization: Bearer <token>"; the token's role
// decides what it may do (reader: read, classify, identify; reporter: + submit and correct;
// analyst: + the signals of live detection, GET /api/v1/signals; admin: + its
// organisation's tokens and audit log), and the store applies the distribution rule to every
// read. Organisations and their trusted groups are a trust decision of the node's operator:
// they are managed with `sentinel admin`, not over HTTP. Requests larger than 1 MiB get 413; bad
// JSON and invalid reports get 400 with the JSON path of every bad field; nothing of a refused
// request is stored.
//
// The server knows no chemistry: validation with substance resolution, classification,
// identification, depiction and token hashing reach it as callbacks from the app layer.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>

#include "core/common/status.h"
#include "core/reports/store.h"

namespace sentinel::http {

struct ApiCallbacks {
  std::function<reports::PreparedReport(const nlohmann::json& body, const std::string& supersedes)>
      prepare;
  std::function<std::string(std::string_view token)> hash_token;
  std::function<std::string()> new_token;
  // The classify output contract for one structure text (never fails: errors are in the JSON).
  std::function<nlohmann::json(const std::string& structure)> classify;
  // Identification of every spectrum in a text (MSP, JCAMP-DX, two-column), as an array.
  std::function<Result<nlohmann::json>(const std::string& spectra_text)> identify;
  // An SVG picture of a structure; empty when it cannot be drawn.
  std::function<std::string(const std::string& smiles)> depict;
  std::string openapi;  // the OpenAPI 3 document served at /api/v1/openapi.json
  // Told of every acknowledged submission (new reports only, not duplicates), before the answer
  // is sent; must not block. Live detection listens here. May be empty.
  std::function<void(const reports::Principal& who, const std::vector<reports::SubmitItem>& items)>
      acknowledged;
};

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;   // 0: any free port (see BoundPort)
  int threads = 32;  // handler threads; concurrent submitters share group commits
};

class ApiServer {
 public:
  ApiServer(reports::Store* store, ApiCallbacks callbacks, ServerOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  Status Bind();  // binds the socket; after it, BoundPort() is known
  int BoundPort() const;
  void Serve();  // blocks until Stop()
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sentinel::http
