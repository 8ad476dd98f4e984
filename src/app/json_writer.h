// A JSON text written straight into a string, without building a tree first.
//
// Contract. The text is byte for byte what nlohmann::json's dump(-1, ' ', false, replace) writes
// for the same value: the same escapes, non-ASCII UTF-8 as it is, invalid UTF-8 replaced by
// U+FFFD, numbers formatted alike. Classification writes one such line per structure, hundreds
// of thousands in a batch, where building and then dumping a tree cost twice as much. The
// caller nests Begin/End calls and puts a Key before each member of an object.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

#include "core/common/text.h"

namespace sentinel::app {

class JsonWriter {
 public:
  JsonWriter() = default;
  // Room for `capacity` bytes up front, when the caller knows about how long its text runs.
  explicit JsonWriter(std::size_t capacity) { out_.reserve(capacity); }

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }

  JsonWriter& Key(std::string_view key) {
    Separate();
    Quoted(key);
    out_ += ':';
    after_key_ = true;
    return *this;
  }
  JsonWriter& String(std::string_view value) {
    Separate();
    Quoted(value);
    return *this;
  }
  // A string, or null when `value` is empty.
  JsonWriter& StringOrNull(std::string_view value) {
    return value.empty() ? Null() : String(value);
  }
  JsonWriter& Null() {
    Separate();
    out_ += "null";
    return *this;
  }
  JsonWriter& Int(long long value) {
    Separate();
    out_ += std::to_string(value);
    return *this;
  }
  JsonWriter& Double(double value) {
    Separate();
    out_ += nlohmann::json(value).dump();
    return *this;
  }

  std::string Take() { return std::move(out_); }

 private:
  JsonWriter& Open(char bracket) {
    Separate();
    out_ += bracket;
    empty_.push_back(true);
    return *this;
  }
  JsonWriter& Close(char bracket) {
    out_ += bracket;
    empty_.pop_back();
    return *this;
  }
  // The comma before every element of a container but its first; none after a key.
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (empty_.empty()) return;
    if (!empty_.back()) out_ += ',';
    empty_.back() = false;
  }

  void Quoted(std::string_view s) {
    if (!IsValidUtf8(s)) {
      // Rare (an input line in another encoding): nlohmann's own replacement, exactly.
      out_ += nlohmann::json(std::string(s))
                  .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      return;
    }
    out_ += '"';
    // Runs of characters that need no escape are copied whole.
    std::size_t run = 0;
    for (std::size_t i = 0; i < s.size(); ++i) {
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out_.append(s.data() + run, i - run);
      run = i + 1;
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\b':
          out_ += "\\b";
          break;
        case '\f':
          out_ += "\\f";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default: {
          static constexpr char kHex[] = "0123456789abcdef";
          out_ += "\\u00";
          out_ += kHex[c >> 4];
          out_ += kHex[c & 15];
        }
      }
    }
    out_.append(s.data() + run, s.size() - run);
    out_ += '"';
  }

  std::string out_;
  std::vector<bool> empty_;  // per open container: nothing written in it yet
  bool after_key_ = false;
};

}  // namespace sentinel::app
