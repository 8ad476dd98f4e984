#include "app/report_intake.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace sentinel::app {
namespace {

std::string Hex(const unsigned char* data, std::size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data, n);
  out.pop_back();
  return out;
}

}  // namespace

ReportIntake::ReportIntake(const SubstanceResolver* resolver, Key pseudonym_key)
    : resolver_(resolver), key_(pseudonym_key) {}

std::string ReportIntake::Pseudonym(std::string_view handle) const {
  unsigned char hash[16];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(handle.data()),
                     handle.size(), key_.data(), key_.size());
  return "v_" + Hex(hash, sizeof hash);
}

ReportIntake::Prepared ReportIntake::Prepare(const nlohmann::json& body,
                                             const std::string& supersedes) const {
  Prepared out;
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  reports::Validation v = reports::ValidateReport(
      body, [this](std::string_view handle) { return Pseudonym(handle); }, today);
  if (!v.errors.empty()) {
    out.errors = std::move(v.errors);
    return out;
  }
  reports::SubmitItem item;
  item.supersedes = supersedes;
  for (const auto& mention : v.report->substances) {
    auto resolved = resolver_->Resolve(mention);
    if (!resolved.ok()) {
      out.errors.push_back({mention.path, resolved.status().message()});
      continue;
    }
    item.mentions.push_back(std::move(resolved).value());
  }
  if (!out.errors.empty()) return out;
  item.report = std::move(*v.report);
  out.item = std::move(item);
  return out;
}

Result<ReportIntake::Key> LoadOrCreateNodeKey(const std::string& path) {
  if (sodium_init() < 0) return Status::FailedPrecondition("libsodium failed to initialise");
  ReportIntake::Key key{};
  std::ifstream in(path, std::ios::binary);
  if (in) {
    in.read(reinterpret_cast<char*>(key.data()), static_cast<std::streamsize>(key.size()));
    if (in.gcount() != static_cast<std::streamsize>(key.size())) {
      return Status::Corruption(path + ": node key file is not " + std::to_string(key.size()) +
                                " bytes");
    }
    return key;
  }
  randombytes_buf(key.data(), key.size());
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
  if (fd < 0) return Status::IoError("cannot create node key file " + path);
  const bool written =
      ::write(fd, key.data(), key.size()) == static_cast<ssize_t>(key.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!written) return Status::IoError("cannot write node key file " + path);
  return key;
}

std::string NewApiToken() {
  if (sodium_init() < 0) return {};
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  std::string text(
      sodium_base64_ENCODED_LEN(sizeof bytes, sodium_base64_VARIANT_URLSAFE_NO_PADDING), '\0');
  sodium_bin2base64(text.data(), text.size(), bytes, sizeof bytes,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  text.resize(std::strlen(text.c_str()));
  return "snt_" + text;
}

std::string HashApiToken(std::string_view token) {
  unsigned char hash[crypto_generichash_BYTES];
  crypto_generichash(hash, sizeof hash, reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return Hex(hash, sizeof hash);
}

}  // namespace sentinel::app
