// Small text helpers shared across Sentinel.
#pragma once

#include <string>
#include <string_view>

namespace sentinel {

// ASCII case folding: names and InChIKeys compare case-insensitively; other bytes unchanged.
inline std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace sentinel
