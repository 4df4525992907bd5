// Path-aware access to parsed JSON: every error names the JSON path and the problem, e.g.
// "$.model.merges[3]: expected a string or an array of two strings".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "mlhub/core.h"

namespace mlhub::tok {

using Json = nlohmann::json;

// A view of one JSON value plus its path from the document root. Does not own the value.
// Accessors throw mlhub::Error(kInvalidArgument) with the path on a missing key or wrong type.
class JsonRef {
 public:
  JsonRef(const Json& value, std::string path) : j_(&value), path_(std::move(path)) {}

  const Json& raw() const { return *j_; }
  const std::string& path() const { return path_; }

  bool is_null() const { return j_->is_null(); }
  bool is_object() const { return j_->is_object(); }
  bool is_array() const { return j_->is_array(); }
  bool is_string() const { return j_->is_string(); }
  bool is_bool() const { return j_->is_boolean(); }
  bool is_number() const { return j_->is_number(); }

  // True when this is an object holding `key` with a non-null value.
  bool has(std::string_view key) const;
  // The member `key`; error if this is not an object or the key is missing.
  JsonRef at(std::string_view key) const;
  // The member `key`, or nullopt when missing or null.
  std::optional<JsonRef> get(std::string_view key) const;
  // Element i of an array; error if not an array or out of range.
  JsonRef at(size_t i) const;
  // Number of elements of an array or members of an object; error otherwise.
  size_t size() const;

  std::string str() const;
  std::string_view str_view() const;
  bool boolean() const;
  int64_t integer() const;
  uint32_t u32() const;  // a non-negative integer that fits in 32 bits
  double number() const;

  // Shorthands for optional members with defaults (missing or null -> default).
  std::string str_or(std::string_view key, std::string_view def) const;
  bool bool_or(std::string_view key, bool def) const;
  uint32_t u32_or(std::string_view key, uint32_t def) const;
  std::optional<std::string> opt_str(std::string_view key) const;
  std::optional<uint32_t> opt_u32(std::string_view key) const;

  // The "type" discriminator of a component object (error when missing / not a string).
  std::string type() const { return at("type").str(); }

  // Throws Error(kInvalidArgument, "<path>: <message>").
  [[noreturn]] void fail(std::string_view message) const;

  // Path of a child, e.g. child_path("vocab") == "$.model.vocab".
  std::string child_path(std::string_view key) const;
  std::string child_path(size_t index) const;

 private:
  const Json* j_;
  std::string path_;
};

// A short description of a JSON value's type for error messages ("an array", "null", ...).
std::string_view json_type_name(const Json& j);

}  // namespace mlhub::tok
