#include "app/json_writer.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace sentinel::app {
namespace {

std::string Nlohmann(const nlohmann::ordered_json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// Every byte below 0x80, characters of two to four bytes, and broken UTF-8 (truncated,
// overlong, surrogates, beyond U+10FFFF, stray continuation bytes) are written as nlohmann
// writes them.
TEST(JsonWriter, StringsAsNlohmannWritesThem) {
  std::vector<std::string> strings = {"",
                                      "plain",
                                      "quote \" and backslash \\",
                                      "tab\tnew\nline",
                                      "fentanyl → thiophene",
                                      "《精神药品品种目录》",
                                      "😀 emoji",
                                      "\x7f del"};
  for (int c = 0; c < 0x80; ++c) {
    const std::string one(1, static_cast<char>(c));
    strings.push_back(one + "x");
    strings.push_back("ab" + one + one + "cd" + one);  // escapes inside, doubled, and last
  }
  for (const char* broken : {"\xc3", "a\xc3(", "\xe2\x82", "\xc0\xaf", "\xed\xa0\x80",
                             "\xf4\x90\x80\x80", "\x80 stray", "ok \xff\xfe end", "\xf0\x9f\x98"}) {
    strings.emplace_back(broken);
  }
  for (const auto& s : strings) {
    JsonWriter w;
    w.String(s);
    EXPECT_EQ(w.Take(), Nlohmann(nlohmann::ordered_json(s))) << "for bytes of: " << s;
  }
}

TEST(JsonWriter, NestedValuesAsNlohmannWritesThem) {
  nlohmann::ordered_json expected;
  expected["a"] = "x";
  expected["n"] = nullptr;
  expected["list"] = {1, 2, 3};
  expected["empty"] = nlohmann::ordered_json::array();
  expected["obj"] = nlohmann::ordered_json::object();
  expected["objs"] = {{{"part", "A"}, {"change", "c"}}, {{"part", "B"}, {"change", "d"}}};
  expected["similarity"] = 0.813;
  expected["one"] = 1.0;
  JsonWriter w;
  w.BeginObject().Key("a").String("x").Key("n").Null();
  w.Key("list").BeginArray().Int(1).Int(2).Int(3).EndArray();
  w.Key("empty").BeginArray().EndArray().Key("obj").BeginObject().EndObject();
  w.Key("objs").BeginArray();
  w.BeginObject().Key("part").String("A").Key("change").String("c").EndObject();
  w.BeginObject().Key("part").String("B").Key("change").String("d").EndObject();
  w.EndArray();
  w.Key("similarity").Double(0.813).Key("one").Double(1.0).EndObject();
  EXPECT_EQ(w.Take(), Nlohmann(expected));
}

}  // namespace
}  // namespace sentinel::app
