// Helpers shared by the models_*_test.cc files: build a model from a JSON literal or from the
// "model" of a real tokenizer.json, and print tokens in the compact form the expected values
// use: "id:value(start,end)" separated by spaces (offsets are bytes into the piece).
#pragma once

#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "tokenizers/components.h"

namespace mlhub::tok::testing {

inline std::unique_ptr<Model> model_from_string(std::string_view json) {
  Json j = Json::parse(json);
  return model_from_json(JsonRef(j, "$.model"));
}

// The error message of loading `json`, or "" when it loads.
inline std::string load_error(std::string_view json) {
  try {
    model_from_string(json);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// Success when loading `json` fails with a message containing `needle` (e.g. a JSON path).
inline ::testing::AssertionResult load_error_mentions(std::string_view json,
                                                      std::string_view needle) {
  const std::string e = load_error(json);
  if (!e.empty() && e.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "load error \"" << e << "\" does not mention \"" << needle
                                       << "\"";
}

inline std::string format_tokens(const std::vector<Token>& tokens) {
  std::string out;
  for (const Token& t : tokens) {
    if (!out.empty()) out += ' ';
    out += std::to_string(t.id) + ":" + t.value + "(" + std::to_string(t.offsets.first) + "," +
           std::to_string(t.offsets.second) + ")";
  }
  return out;
}

// Tokenizes and formats, or returns "ERROR" when the model throws.
inline std::string run(const Model& m, std::string_view piece) {
  try {
    return format_tokens(m.tokenize(piece));
  } catch (const Error&) {
    return "ERROR";
  }
}

// The parsed tokenizer.json of fixture `name` (e.g. "gpt2"), cached across tests.
inline const Json& fixture_json(const std::string& name) {
  static std::map<std::string, Json> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  std::ifstream f(std::string(MLHUB_SHARED_DIR) + "/data/tokenizers/" + name + "/tokenizer.json");
  std::stringstream ss;
  ss << f.rdbuf();
  return cache.emplace(name, Json::parse(ss.str())).first->second;
}

// The model of fixture `name`, cached across tests.
inline const Model& fixture_model(const std::string& name) {
  static std::map<std::string, std::unique_ptr<Model>> cache;
  auto it = cache.find(name);
  if (it != cache.end()) return *it->second;
  auto m = model_from_json(JsonRef(fixture_json(name).at("model"), "$.model"));
  return *cache.emplace(name, std::move(m)).first->second;
}

struct Case {
  std::string_view piece;
  std::string_view expected;
};

inline void expect_cases(const Model& m, const std::vector<Case>& cases) {
  for (const Case& c : cases) EXPECT_EQ(run(m, c.piece), c.expected) << "piece: " << c.piece;
}

}  // namespace mlhub::tok::testing
